/* utf8.h — terminal output made into text JSON can carry. A terminal stream is bytes:
 * a read can end inside a character, and programs print invalid sequences. */
#ifndef JAILD_UTF8_H
#define JAILD_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* The incomplete sequence held back from one call for the next. */
struct utf8_carry {
	unsigned char b[4];
	size_t n;
};

/* Writes the valid UTF-8 of carry + in[0..n) to out, each invalid byte as U+FFFD. A
 * sequence cut off at the end waits in carry unless final. out must hold 3 * (n + 4)
 * bytes; returns the bytes written (out is not NUL-terminated). */
size_t utf8_clean(struct utf8_carry *carry, const void *in, size_t n, bool final, char *out);

#endif
