#include "utf8.h"

#include <string.h>

/* Length of the valid sequence at p (1..4), 0 if invalid, -1 if p[0..avail) is a
 * valid start that needs more bytes. Overlongs, surrogates and > U+10FFFF are invalid. */
static int seq_len(const unsigned char *p, size_t avail)
{
	unsigned c = p[0];
	int len;
	unsigned lo = 0x80, hi = 0xBF; /* the range of the second byte */
	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		len = 2;
	else if (c >= 0xE0 && c <= 0xEF) {
		len = 3;
		if (c == 0xE0)
			lo = 0xA0;
		else if (c == 0xED)
			hi = 0x9F;
	} else if (c >= 0xF0 && c <= 0xF4) {
		len = 4;
		if (c == 0xF0)
			lo = 0x90;
		else if (c == 0xF4)
			hi = 0x8F;
	} else
		return 0;
	for (int i = 1; i < len; i++) {
		if ((size_t)i >= avail)
			return -1;
		unsigned b = p[i];
		if (i == 1 ? b < lo || b > hi : b < 0x80 || b > 0xBF)
			return 0;
	}
	return len;
}

static const char replacement[] = "\xEF\xBF\xBD";

static size_t clean_span(const unsigned char *p, size_t n, struct utf8_carry *carry, bool final, char *out)
{
	size_t o = 0, i = 0;
	while (i < n) {
		int l = seq_len(p + i, n - i);
		if (l < 0 && !final) {
			memcpy(carry->b, p + i, n - i);
			carry->n = n - i;
			return o;
		}
		if (l <= 0) {
			memcpy(out + o, replacement, 3);
			o += 3;
			i++;
			continue;
		}
		memcpy(out + o, p + i, (size_t)l);
		o += (size_t)l;
		i += (size_t)l;
	}
	return o;
}

size_t utf8_clean(struct utf8_carry *carry, const void *in, size_t n, bool final, char *out)
{
	const unsigned char *p = in;
	size_t o = 0;
	if (carry->n) {
		/* finish the held-back sequence with the first bytes of in */
		unsigned char joined[8];
		size_t take = n < 4 ? n : 4, have = carry->n;
		memcpy(joined, carry->b, have);
		memcpy(joined + have, p, take);
		carry->n = 0;
		int l = seq_len(joined, have + take);
		if (l < 0 && !final) {
			memcpy(carry->b, joined, have + take);
			carry->n = have + take;
			return 0;
		}
		if (l > 0) {
			memcpy(out, joined, (size_t)l);
			o = (size_t)l;
			p += (size_t)l - have;
			n -= (size_t)l - have;
		} else {
			/* the held bytes were a dead end: one replacement for the first of them,
			 * and the rest go round again */
			memcpy(out, replacement, 3);
			o = 3;
			struct utf8_carry rest = { .n = have - 1 };
			memcpy(rest.b, carry->b + 1, have - 1);
			if (rest.n) {
				*carry = rest;
				return o + utf8_clean(carry, p, n, final, out + o);
			}
		}
	}
	return o + clean_span(p, n, carry, final, out + o);
}
