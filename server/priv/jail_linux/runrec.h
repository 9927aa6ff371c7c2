/* runrec.h — the helper's record of a running jail: DIR/jails/NAME/run, holding the
 * host pid of the jail's PID 1, that process's start time (so a recycled pid is never
 * taken for the jail) and its slot. Outside the jail's root, so the jail cannot edit it.
 * It is all a restarted helper needs to find running jails again. */
#ifndef JAILD_RUNREC_H
#define JAILD_RUNREC_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "spec.h"

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

/* A running jail's network as its forwards and rules were last applied: its slot (its
 * interface), its addresses and its jail_net. DIR/jails/NAME/net, beside the run
 * record; a restarted helper rebuilds the packet rules of every running jail from
 * these, and a stop removes exactly what they say. */
struct netrec {
	uint32_t magic;
	uint32_t slot;
	uint8_t nip4, nip6;
	uint8_t pad[6];
	uint32_t ip4[IP4_MAX]; /* network byte order */
	uint8_t ip6[IP6_MAX][16];
	struct jail_net net;
};
#define NETREC_MAGIC 0x6a6e6574u /* "jnet" */
int netrec_write(int jails_fd, const char *name, const struct netrec *r);
bool netrec_read(int jails_fd, const char *name, struct netrec *r);
void netrec_remove(int jails_fd, const char *name);

#endif
