/* console.h — live root shells: each session is a terminal master from the helper,
 * at most one WebSocket attached to it, and a recording. A session outlives its
 * socket for the grace period, keeping the newest output, and is re-attached by id;
 * it ends when its shell exits, its jail stops, it is idle too long, or it is closed
 * through the API. One thread serves every session. */
#ifndef JAILD_CONSOLE_H
#define JAILD_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "store/store.h"

#define CONSOLE_ID_SIZE 33 /* 128 random bits in hex, NUL */

struct console_settings {
	int grace;           /* seconds a detached session waits */
	int idle;            /* seconds without a byte either way */
	int max_per_tenant;  /* live sessions on one tenant's jails */
	long long keep;      /* seconds recordings are kept after the session ends */
	bool record_input;
	long long record_max;       /* bytes one session's recording may take */
	long long record_total_max; /* bytes all recordings may take: past it the oldest ended ones go */
};

/* Makes DATA/recordings, closes what a previous run left open, starts the thread. */
int console_init(struct store *st, const char *data_dir, const struct console_settings *s, struct err *e);

/* A new session on a running jail: asks the helper for a shell, starts the recording,
 * and stores the session. row: who and where (id and started_at are filled in). */
/* command: NULL for the jail root's login shell, else a command run on the terminal
 * (exec -t): the socket gets {"type":"exit","code":N} when it ends. */
int console_open(const char *jail, unsigned cols, unsigned rows, const struct argv_buf *command, struct console_row *row,
		 struct err *e);

/* The socket of an upgraded connection, for session id: from here on it is ours.
 * extra: bytes the HTTP server read past the request; release(release_arg) ends the
 * connection (the HTTP layer's way), once. */
void console_attach(const char *id, int sock, const char *extra, size_t extra_len, void (*release)(void *), void *release_arg);

/* Is session id live on jail? */
bool console_live(const char *id, const char *jail);

/* Ends sessions: one by id (ERR_NOT_FOUND if not live), or all on a jail. */
int console_end(const char *id, const char *reason, struct err *e);
void console_end_jail(const char *jail, const char *reason);

/* A notice from jaild (not the shell) into every live session on jail, as output: seen
 * now or on re-attach, and recorded. skip gets the sessions' terminal numbers
 * ("0 3"), so a wall inside the jail can leave those out. */
void console_broadcast(const char *jail, const char *text, char *skip, size_t skip_size);

/* The recording of session id, open for reading; -1 and e if there is none. */
int console_recording_open(const char *id, struct err *e);

/* Console sessions open now (live or waiting for a re-attach). */
int console_sessions_live(void);

#endif
