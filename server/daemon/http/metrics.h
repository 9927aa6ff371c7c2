/* metrics.h — what the HTTP server counts for /metrics: requests by route template,
 * method and status, their latency, rate-limited requests and failed authentications. */
#ifndef JAILD_HTTP_METRICS_H
#define JAILD_HTTP_METRICS_H

#include "textbuf.h"

/* route: the matched pattern (like "/api/jails/{name}" in the table), or NULL for none. */
void http_metrics_observe(const char *route, const char *method, int status, double seconds);
void http_metrics_rate_limited(void);
void http_metrics_auth_failed(void);
/* The HTTP metrics in the Prometheus text format. */
void http_metrics_text(struct textbuf *b);

#endif
