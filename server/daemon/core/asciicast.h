/* asciicast.h — console recordings in asciicast v2 (what `asciinema play` reads): a
 * JSON header line, then one JSON array per event: [seconds, "o"|"i"|"r", text]. */
#ifndef JAILD_ASCIICAST_H
#define JAILD_ASCIICAST_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "err.h"
#include "utf8.h"

/* What recordings may take of the disk: a session's recording stops (with a marker
 * saying so) at max bytes; total counts every recording's bytes, for the owner to
 * make room when it passes its own cap. */
struct cast_budget {
	uint64_t max;
	_Atomic uint64_t *total;
};

struct cast {
	FILE *f;
	struct timespec t0;
	struct utf8_carry out, in;
	uint64_t bytes;
	const struct cast_budget *budget;
	bool full;
};

/* Creates DIR/NAME (mode 0600, never over an existing file) and writes the header. */
int cast_open(struct cast *c, int dirfd, const char *name, unsigned cols, unsigned rows, const char *title,
	      const struct cast_budget *budget, struct err *e);
/* kind 'o': terminal output; 'i': keystrokes. Lines are flushed as they are written,
 * so a download of a live session has everything up to now. */
void cast_data(struct cast *c, char kind, const void *buf, size_t n);
void cast_resize(struct cast *c, unsigned cols, unsigned rows);
void cast_close(struct cast *c);

#endif
