/* usage.c — GET /api/jails/{name}/usage (a series, for graphs) and GET
 * /api/tenants/{name}/usage (a bill; CSV with Accept: text/csv). Tenants see their
 * own; from and to are unix seconds or UTC times (2026-11-30T00:00:00Z). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/api.h"
#include "core/usage.h"

/* A time parameter: unix seconds, or YYYY-MM-DDTHH:MM:SSZ. */
static int time_param(struct request *rq, struct response *rs, const char *key, int64_t dflt, int64_t *out)
{
	const char *v = req_query(rq, key);
	*out = dflt;
	if (!v)
		return 0;
	char *end;
	long long n = strtoll(v, &end, 10);
	if (end != v && !*end && n >= 0) {
		*out = n;
		return 0;
	}
	struct tm tm = { 0 };
	const char *rest = strptime(v, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (rest && !*rest) {
		*out = (int64_t)timegm(&tm);
		return 0;
	}
	resp_errorf(rs, ERR_INVALID, key, "%s must be unix seconds or a UTC time like 2026-11-30T00:00:00Z", key);
	return -1;
}

static int range(struct request *rq, struct response *rs, int64_t span, int64_t dstep, int64_t *from, int64_t *to, int64_t *step)
{
	int64_t now = time(NULL);
	if (time_param(rq, rs, "to", now, to) < 0 || time_param(rq, rs, "from", *to - span, from) < 0 ||
	    time_param(rq, rs, "step", dstep ? dstep : *to - *from, step) < 0)
		return -1;
	if (*step <= 0) {
		resp_errorf(rs, ERR_INVALID, "step", "step must be a number of seconds");
		return -1;
	}
	/* from on a boundary of the history's buckets (an hour, or the step when shorter) */
	int64_t align = *step < 3600 ? *step : 3600;
	*from -= *from % align;
	return 0;
}

void h_jail_usage(struct request *rq, struct response *rs)
{
	struct jail_row row = { 0 };
	struct err e = { 0 };
	if (visible_jail(rq, rs, rq->params[0], &row) < 0)
		return;
	int64_t from, to, step;
	/* by default the last hour, a point a minute */
	if (range(rq, rs, 3600, 60, &from, &to, &step) == 0) {
		json_t *j = usage_series(row.tenant_id, row.name, from, to, step, &e);
		if (j) {
			json_object_set_new(j, "jail", json_string(row.name));
			resp_json(rs, 200, j);
		} else
			resp_error(rs, &e);
	}
	jail_row_clear(&row);
}

static bool wants_csv(struct request *rq)
{
	const char *a = req_header(rq, "Accept");
	return a && strstr(a, "text/csv");
}

void h_tenant_usage(struct request *rq, struct response *rs)
{
	struct tenant_row t;
	struct err e = { 0 };
	if (visible_tenant(rq, rs, &t) < 0)
		return;
	int64_t from, to, step;
	/* by default the last 30 days, as one period */
	if (range(rq, rs, 30 * 86400, 0, &from, &to, &step) < 0)
		return;
	json_t *bill = usage_bill(t.id, from, to, step, &e);
	if (!bill)
		return resp_error(rs, &e);
	json_object_set_new(bill, "tenant", json_string(t.name));
	if (!wants_csv(rq))
		return resp_json(rs, 200, bill);
	char *csv = usage_bill_csv(bill);
	json_decref(bill);
	if (!csv)
		return resp_errorf(rs, ERR_INTERNAL, NULL, "out of memory");
	rs->status = 200;
	rs->content_type = "text/csv; charset=utf-8";
	rs->text = csv;
}
