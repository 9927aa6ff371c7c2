#include "size.h"

#include <ctype.h>
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
