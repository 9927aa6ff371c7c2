/* priv_client.h — jaild's side of the helper socket: one request, one reply, many
 * threads at once. Replies are matched by id; when the helper dies every waiting
 * request fails with 503 and the next helper's socket arrives from the supervisor. */
#ifndef JAILD_PRIV_CLIENT_H
#define JAILD_PRIV_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"
#include "proto.h"

/* ctl: the supervisor's socket (-1 when jaild runs without root: no helper ever).
 * on_connect runs on its own thread each time a helper connects. */
int priv_client_start(int ctl, void (*on_connect)(void), struct err *e);
bool priv_available(void);
/* The backend the helper serves ("linux"), as the last helper to connect said; "unknown"
 * before any has. */
void priv_backend(char out[16]);
/* The interface the helper sends jails' traffic by, as it said (HELLO); "" for none;
 * note: what it found that would break the jails' network ("" for nothing). */
void priv_uplink(char out[16], char *note, size_t note_size);
/* What to tell a user while priv_available() is false. */
const char *priv_unavailable_reason(void);

/* Sends req (its type decides its size) and waits for the reply frame. A reply whose
 * code is an error becomes -1 with e filled. */
int priv_call(void *req, const int *fds, int nfds, struct reply *out, struct err *e);
/* CONSOLE: a login shell on a new terminal in the jail; *master is the terminal's
 * master side, ours to read, write, resize (TIOCSWINSZ) and signal (TIOCSIG). */
int priv_call_console(const char *name, unsigned rows, unsigned cols, const struct argv_buf *command, int *master, struct err *e);
int priv_call_list(const char *after, struct list_reply *out, struct err *e);
/* A request whose answer passes a descriptor (LOG_OPEN): *fd, ours to close. */
int priv_call_fd(void *req, int *fd, struct err *e);

/* Frame header for a request of the given type. */
struct msg_hdr priv_hdr(uint32_t type);

#endif
