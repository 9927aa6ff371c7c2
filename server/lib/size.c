#include "size.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>

int size_parse(const char *s, int64_t *out)
{
	int64_t v = 0;
	const char *p = s;
	if (!isdigit((unsigned char)*p))
		return -1;
	for (; isdigit((unsigned char)*p); p++) {
		if (v > (INT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (*p - '0');
	}
	int shift = 0;
	switch (*p) {
	case '\0': break;
	case 'K': case 'k': shift = 10; p++; break;
	case 'M': case 'm': shift = 20; p++; break;
	case 'G': case 'g': shift = 30; p++; break;
	case 'T': case 't': shift = 40; p++; break;
	default: return -1;
	}
	if (*p != '\0')
		return -1;
	if (shift && v > (INT64_MAX >> shift))
		return -1;
	*out = v << shift;
	return 0;
}

int rate_parse(const char *s, int64_t *out)
{
	int64_t v = 0;
	const char *p = s;
	if (!isdigit((unsigned char)*p))
		return -1;
	for (; isdigit((unsigned char)*p); p++) {
		if (v > (INT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (*p - '0');
	}
	int64_t unit = 1;
	switch (*p) {
	case '\0': break;
	case 'K': case 'k': unit = 1000; p++; break;
	case 'M': case 'm': unit = 1000000; p++; break;
	case 'G': case 'g': unit = 1000000000; p++; break;
	default: return -1;
	}
	if (*p != '\0' || v > INT64_MAX / unit)
		return -1;
	*out = v * unit;
	return 0;
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
