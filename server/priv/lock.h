/* lock.h — one lock per jail name, taken by the dispatcher for every op whose table
 * row says LOCKS_JAIL: two such requests on one jail never run at once in the helper,
 * whatever jaild sends. A worker holds at most one lock, and lets it go before it
 * answers (the next request on the jail may arrive the moment jaild reads the reply). */
#ifndef JAILD_PRIV_LOCK_H
#define JAILD_PRIV_LOCK_H

#include <stdbool.h>

#include "ctx.h"
#include "err.h"

/* Descriptors a child forked to become a jail process must close at once: the jail
 * lock (a jail's processes never hold it) and the helper's socket to jaild. */
extern int priv_lock_fd, priv_sock_fd;
void priv_close_inherited(void);

/* ERR_BUSY when another worker holds the jail; 0 holding nothing when there is no
 * such jail (a create calls it again once it made the directory). */
int jail_lock(struct priv_ctx *c, const char *name, struct err *e);
/* Whether some worker holds jail name's lock now (an op on it is under way). */
bool jail_lock_held(struct priv_ctx *c, const char *name);
/* The lock goes. */
void jail_unlock(void);

#endif
