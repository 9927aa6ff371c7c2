/* textbuf.h — a growing text buffer: answers written as text (/metrics), rulesets (the helper's nftables). */
#ifndef JAILD_TEXTBUF_H
#define JAILD_TEXTBUF_H

#include <stdbool.h>
#include <stddef.h>

struct textbuf {
	char *s;
	size_t len, cap;
	bool failed; /* out of memory: the text is cut short */
};

void tb_printf(struct textbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
