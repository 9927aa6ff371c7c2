/* usage.h — usage history (issue 14): every interval each running jail's use since its
 * last sample (CPU time, memory and its limit, disk, network) is added into buckets of
 * the interval, 5 minutes and an hour, each kept as long as the settings say; read
 * back as series for graphs and as sums for bills. A jail seen for the first time, or
 * after more than three intervals unseen (jaild was down), starts from there: what was
 * not seen is a gap, never an invention. */
#ifndef JAILD_USAGE_H
#define JAILD_USAGE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "err.h"

struct usage_settings {
	int64_t interval;                 /* seconds between samples (usage-interval) */
	int64_t keep_raw, keep_5m, keep_1h; /* seconds each length of bucket is kept */
};

void usage_start(const struct usage_settings *s);

/* A series for graphs: points every step seconds from `from` to `to`, each with what
 * the jail used in it (or a gap). The bucket length read is the longest that divides
 * step and is still kept for `from`. */
json_t *usage_series(int64_t tenant_id, const char *jail, int64_t from, int64_t to, int64_t step, struct err *e);
/* A bill: per jail and in total, jail-hours, CPU seconds, memory GiB-hours (of use and
 * of the limit), disk GiB-hours, network bytes; and the same per step. */
json_t *usage_bill(int64_t tenant_id, int64_t from, int64_t to, int64_t step, struct err *e);
/* The bill as CSV (one row per step and jail, then totals per jail). */
char *usage_bill_csv(json_t *bill);

#endif
