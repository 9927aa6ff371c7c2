#include "size.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Digits and at most one unit letter of units (K, M, G, T: each the next multiple by
 * base): 0, or -1 on anything else or an overflow. */
static int scaled_parse(const char *s, int64_t base, int64_t *out)
{
	static const char units[] = "KMGT";
	int64_t v = 0, mul = 1;
	const char *p = s;
	if (!isdigit((unsigned char)*p))
		return -1;
	for (; isdigit((unsigned char)*p); p++) {
		if (v > (INT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (*p - '0');
	}
	if (*p) {
		const char *u = strchr(units, toupper((unsigned char)*p));
		if (!u)
			return -1;
		for (const char *k = units; k <= u; k++)
			mul *= base;
		p++;
	}
	if (*p != '\0' || v > INT64_MAX / mul)
		return -1;
	*out = v * mul;
	return 0;
}

int size_parse(const char *s, int64_t *out)
{
	return scaled_parse(s, 1024, out);
}

int rate_parse(const char *s, int64_t *out)
{
	/* no T: 100G is the top of limits.bandwidth */
	return strpbrk(s, "Tt") ? -1 : scaled_parse(s, 1000, out);
}

void size_format(int64_t v, char *buf, size_t n)
{
	static const char units[] = "KMGT";
	int u = -1;
	while (u < 3 && v != 0 && v % 1024 == 0) {
		v /= 1024;
		u++;
	}
	if (u < 0)
		snprintf(buf, n, "%lld", (long long)v);
	else
		snprintf(buf, n, "%lld%c", (long long)v, units[u]);
}

int duration_parse(const char *s, int64_t *seconds)
{
	if (!s || *s < '0' || *s > '9')
		return -1;
	int64_t v = 0;
	for (; *s >= '0' && *s <= '9'; s++) {
		if (v > INT64_MAX / 10 - 10)
			return -1;
		v = v * 10 + (*s - '0');
	}
	int64_t unit = 1;
	switch (*s) {
	case '\0': break;
	case 's': unit = 1; s++; break;
	case 'm': unit = 60; s++; break;
	case 'h': unit = 3600; s++; break;
	case 'd': unit = 86400; s++; break;
	default: return -1;
	}
	if (*s || v > INT64_MAX / unit)
		return -1;
	*seconds = v * unit;
	return 0;
}

void size_human(int64_t v, char *buf, size_t n)
{
	static const char *const units[] = { "bytes", "KiB", "MiB", "GiB", "TiB", "PiB" };
	double x = (double)v;
	int u = 0;
	while (x >= 1024 && u < 5)
		x /= 1024, u++;
	if (u == 0)
		snprintf(buf, n, "%lld bytes", (long long)v);
	else if (x == (double)(int64_t)x)
		snprintf(buf, n, "%lld %s", (long long)x, units[u]);
	else
		snprintf(buf, n, "%.1f %s", x, units[u]);
}
