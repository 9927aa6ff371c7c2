/* size.h — "256M" style sizes, as rctl(8) and jail.conf write them, and "5m" durations. */
#ifndef JAILD_SIZE_H
#define JAILD_SIZE_H

#include <stddef.h>
#include <stdint.h>

/* Parses digits with an optional K, M, G or T suffix (powers of 1024). Returns 0 or -1. */
int size_parse(const char *s, int64_t *out);
/* Rates as tc(8) and ifconfig write them: digits with an optional K, M or G suffix,
 * powers of 1000 (network speeds are decimal): "10M" is 10,000,000 bits per second. */
int rate_parse(const char *s, int64_t *out);
/* Formats the largest exact unit: 268435456 -> "256M". */
void size_format(int64_t v, char *buf, size_t n);
/* For people: 4294967296 -> "4 GiB", 1610612736 -> "1.5 GiB", 500 -> "500 bytes". */
void size_human(int64_t v, char *buf, size_t n);

/* Durations as people write them: digits with s, m, h or d ("90s", "5m", "1h"); bare
 * digits are seconds. Returns 0 or -1. */
int duration_parse(const char *s, int64_t *seconds);

#endif
