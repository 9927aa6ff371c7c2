/* dispatch.h — the helper's permission table and the dispatcher that enforces it. */
#ifndef JAILD_PRIV_DISPATCH_H
#define JAILD_PRIV_DISPATCH_H

#include <sys/types.h>

#include "backend.h"
#include "ctx.h"

/* The backend and context every request runs against (main.c sets them up). */
void dispatch_init(const struct backend_ops *b, struct priv_ctx *c);
/* One frame that passed the codec's shape checks, with its descriptors (closed by the
 * caller afterwards); the reply goes to sock, now or from a worker. */
void dispatch(int sock, const void *frame, const int *fds, int nfds);
/* Forks a spare worker when there is none: called by the loop when no request's
 * descriptors are open. */
void dispatch_refill(int sock);
/* A child is gone (status as from waitpid): a worker that died without answering is
 * answered for here, so jaild never waits on a request nobody will answer. */
void dispatch_child_gone(int sock, pid_t pid, int status);

#endif
