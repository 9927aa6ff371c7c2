/* metrics.c — metrics.h: a fixed table of series (route, method, status), each with a
 * latency histogram; one lock, held for a few additions. */
#include "http/metrics.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define SERIES_MAX 512
static const double buckets[] = { 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10 };
#define NBUCKETS (sizeof buckets / sizeof *buckets)

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct series {
	const char *route; /* a route table's pattern (static), or "none" */
	char method[8];
	int status;
	uint64_t count, le[NBUCKETS];
	double sum;
} series[SERIES_MAX];
static int nseries;
static uint64_t rate_limited, auth_failed, dropped;

void http_metrics_observe(const char *route, const char *method, int status, double seconds)
{
	if (!route)
		route = "none";
	pthread_mutex_lock(&mu);
	struct series *s = NULL;
	for (int i = 0; i < nseries && !s; i++)
		if (series[i].route == route && series[i].status == status && strcmp(series[i].method, method) == 0)
			s = &series[i];
	if (!s && nseries < SERIES_MAX) {
		s = &series[nseries++];
		s->route = route;
		s->status = status;
		strncpy(s->method, method, sizeof s->method - 1);
	}
	if (s) {
		s->count++;
		s->sum += seconds;
		for (size_t b = 0; b < NBUCKETS; b++)
			s->le[b] += seconds <= buckets[b];
	} else {
		dropped++;
	}
	pthread_mutex_unlock(&mu);
}

void http_metrics_rate_limited(void)
{
	pthread_mutex_lock(&mu);
	rate_limited++;
	pthread_mutex_unlock(&mu);
}

void http_metrics_auth_failed(void)
{
	pthread_mutex_lock(&mu);
	auth_failed++;
	pthread_mutex_unlock(&mu);
}

void http_metrics_text(struct textbuf *b)
{
	pthread_mutex_lock(&mu);
	tb_printf(b, "# HELP jaild_http_requests_total Requests answered, by route template, method and status code.\n"
		     "# TYPE jaild_http_requests_total counter\n");
	for (int i = 0; i < nseries; i++)
		tb_printf(b, "jaild_http_requests_total{route=\"%s\",method=\"%s\",code=\"%d\"} %llu\n", series[i].route,
			  series[i].method, series[i].status, (unsigned long long)series[i].count);
	tb_printf(b, "# HELP jaild_http_request_duration_seconds Time from a request's headers to its answer.\n"
		     "# TYPE jaild_http_request_duration_seconds histogram\n");
	for (int i = 0; i < nseries; i++) {
		const struct series *s = &series[i];
		char labels[256];
		snprintf(labels, sizeof labels, "route=\"%s\",method=\"%s\",code=\"%d\"", s->route, s->method, s->status);
		for (size_t k = 0; k < NBUCKETS; k++)
			tb_printf(b, "jaild_http_request_duration_seconds_bucket{%s,le=\"%g\"} %llu\n", labels, buckets[k],
				  (unsigned long long)s->le[k]);
		tb_printf(b, "jaild_http_request_duration_seconds_bucket{%s,le=\"+Inf\"} %llu\n", labels, (unsigned long long)s->count);
		tb_printf(b, "jaild_http_request_duration_seconds_sum{%s} %.6f\n", labels, s->sum);
		tb_printf(b, "jaild_http_request_duration_seconds_count{%s} %llu\n", labels, (unsigned long long)s->count);
	}
	tb_printf(b, "# HELP jaild_http_rate_limited_total Requests answered 429 for their token's rate.\n"
		     "# TYPE jaild_http_rate_limited_total counter\njaild_http_rate_limited_total %llu\n"
		     "# HELP jaild_http_auth_failures_total Requests with a token or session that is not valid.\n"
		     "# TYPE jaild_http_auth_failures_total counter\njaild_http_auth_failures_total %llu\n",
		  (unsigned long long)rate_limited, (unsigned long long)auth_failed);
	pthread_mutex_unlock(&mu);
}
