/* supervisor.h — the root side of jaild: it keeps a privileged helper running and
 * hands each new helper's socket to the unprivileged server. It does nothing else,
 * and takes no requests from the server at all. */
#ifndef JAILD_SUPERVISOR_H
#define JAILD_SUPERVISOR_H

#include <sys/types.h>

#include "config.h"

/* Drops the controlling terminal and terminal stdin jaild was started with, before
 * anything else is forked. */
void supervisor_detach_terminal(void);

/* Runs until the server child exits; returns the exit status to use. */
int supervisor_run(const struct config *cfg, pid_t server, int ctl);

#endif
