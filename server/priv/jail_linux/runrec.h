/* runrec.h — the helper's record of a running jail: DIR/jails/NAME/run, holding the
 * host pid of the jail's PID 1, that process's start time (so a recycled pid is never
 * taken for the jail) and its slot. Outside the jail's root, so the jail cannot edit it.
 * It is all a restarted helper needs to find running jails again. */
#ifndef JAILD_RUNREC_H
#define JAILD_RUNREC_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct runrec {
	pid_t pid;
	unsigned long long starttime;
	uint32_t slot;
	uint8_t allow; /* the spec's ALLOW_* bits: what the seccomp filter of a command run
			* in the jail later (exec, console) lets through */
};

/* starttime of a live (non-zombie) process, or 0 when it is gone. */
unsigned long long proc_starttime(pid_t pid);
int runrec_write(int jails_fd, const char *name, const struct runrec *r);
/* The record as it is, alive or not. */
bool runrec_read(int jails_fd, const char *name, struct runrec *r);
/* true and *r filled when the jail's PID 1 is alive and is the recorded process. */
bool runrec_alive(int jails_fd, const char *name, struct runrec *r);
void runrec_remove(int jails_fd, const char *name);
/* How the jail's first process last ended (code, or sig when a signal ended it, and
 * when), kept beside the run record until the next end. */
int runrec_exit_write(int jails_fd, const char *name, int code, int sig, long long at);
bool runrec_exit_read(int jails_fd, const char *name, int *code, int *sig, long long *at);

#endif
