/* Terminal bytes to JSON-safe text: split characters rejoin, invalid bytes become U+FFFD. */
#include <string.h>

#include "check.h"
#include "utf8.h"

static size_t clean(struct utf8_carry *c, const char *in, bool final, char *out)
{
	return utf8_clean(c, in, strlen(in), final, out);
}

int main(void)
{
	char out[128];
	struct utf8_carry c = { 0 };
	size_t n = clean(&c, "hello", false, out);
	CHECK(n == 5 && memcmp(out, "hello", 5) == 0);

	/* "é" (C3 A9) split across two reads */
	n = clean(&c, "a\xC3", false, out);
	CHECK(n == 1 && out[0] == 'a' && c.n == 1);
	n = clean(&c, "\xA9" "b", false, out);
	CHECK(n == 3 && memcmp(out, "\xC3\xA9" "b", 3) == 0 && c.n == 0);

	/* a 4-byte character one byte at a time */
	const char *emoji = "\xF0\x9F\x98\x80";
	size_t total = 0;
	for (int i = 0; i < 4; i++) {
		char one[2] = { emoji[i], 0 };
		total += clean(&c, one, false, out + total);
	}
	CHECK(total == 4 && memcmp(out, emoji, 4) == 0);

	/* invalid bytes, overlongs, surrogates */
	n = clean(&c, "\xFF" "x", false, out);
	CHECK(n == 4 && memcmp(out, "\xEF\xBF\xBD" "x", 4) == 0);
	n = clean(&c, "\xC0\xAF", false, out);
	CHECK(n == 6);
	n = clean(&c, "\xED\xA0\x80", false, out);
	CHECK(n == 9);

	/* a held-back start that the next read does not continue */
	n = clean(&c, "\xE2\x82", false, out);
	CHECK(n == 0 && c.n == 2);
	n = clean(&c, "z", false, out);
	CHECK(n == 7 && memcmp(out, "\xEF\xBF\xBD\xEF\xBF\xBD" "z", 7) == 0 && c.n == 0);

	/* at the end, an unfinished sequence is replaced, not kept */
	n = clean(&c, "\xE2\x82", true, out);
	CHECK(n == 6 && c.n == 0);
	return check_done();
}
