/* runrec.h — the helper's record of a running jail: DIR/jails/NAME/run, holding the
 * host pid of the jail's PID 1, that process's start time (so a recycled pid is never
 * taken for the jail) and its slot. Outside the jail's root, so the jail cannot edit it.
 * It is all a restarted helper needs to find running jails again. The records are the
 * same on every kernel; what a process's start time is comes from os.h. */
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

/* One page of jail names after `after` (sorted, LIST_PAGE at most) whose jail alive()
 * says runs: LIST on any backend. -1 with errno when the directory cannot be read. */
struct list_reply;
int runrec_list(int jails_fd, const char *after, bool (*alive)(void *arg, const char *name), void *arg,
		struct list_reply *out);
/* A stream over a directory from its start (the descriptor stays the caller's). */
#include <dirent.h>
DIR *dir_stream(int dir);
/* STATUS of a jail that is not running: how its first process last ended, if known. */
struct reply;
void runrec_exit_reply(int jails_fd, const char *name, struct reply *out);
/* The jail's log (file log in dir) opened read-only into *out; 404 before any start. */
struct err;
int runrec_log_open(int dir, const char *log, const char *name, int *out, struct err *e);
/* A first process ended (pid, status as waitpid gave them): its jail's exit record. */
void runrec_reaped(int jails_fd, pid_t pid, int status);

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
