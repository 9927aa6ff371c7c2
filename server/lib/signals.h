/* signals.h — signal names as kill(1) writes them (without SIG): glibc's sigabbrev_np
 * is glibc's alone, FreeBSD's sys_signame its own. */
#ifndef JAILD_SIGNALS_H
#define JAILD_SIGNALS_H

/* "KILL" for SIGKILL; NULL for a signal without a name here. */
const char *sig_name(int sig);
/* SIGKILL for "KILL" or "SIGKILL"; 0 for a name not here. */
int sig_number(const char *name);

#endif
