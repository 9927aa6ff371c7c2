/* linux.h — the Linux backend's own state (struct priv_ctx's impl) and what its files
 * share. */
#ifndef JAILD_LINUX_H
#define JAILD_LINUX_H

#include "../ctx.h"
#include "cgroup.h"
#include "proto.h"

#include <net/if.h>
#include <stdbool.h>
#include <sys/types.h>

struct linux_impl {
	struct cgroup_mgr cg;
};

static inline struct cgroup_mgr *CG(const struct priv_ctx *c)
{
	return &((struct linux_impl *)c->impl)->cg;
}

/* A host path under one of the allowed (allow-mount) paths, opened without following
 * any symlink; field names it in errors. jail.c. */
int open_allowed(struct priv_ctx *c, const char *src, int flags, const char *field, struct err *e);

/* The jail's log, beside its files (disk_files): what its first process writes. */
#define JAIL_LOG "log"
/* Past this many bytes on disk, the oldest part of a log is given back (a hole). */
#define JAIL_LOG_KEEP ((off_t)4 << 20)

/* shared by the phases (start.c, enter.c, stop.c, files.c, sweep.c) */
extern const char *const jail_env[]; /* the environment of every jail process */
int wait_pidfd(int pidfd, int ms);   /* 1: exited, 0: timed out */
/* The host end of the jail's veth: JAIL_IF_PREFIX TAG-SLOT. */
void host_ifname(const struct priv_ctx *c, uint32_t slot, char buf[IFNAMSIZ]);
int open_jail_dir(struct priv_ctx *c, const char *name, struct err *e);
/* What a jail had while it ran: its veth, its cgroup, its run record. */
void cleanup_runtime(struct priv_ctx *c, const char *name, uint32_t slot, bool have_slot);
int slot_owns_files(struct priv_ctx *c, int jail_fd, uint32_t slot, bool *thin, struct err *e);

/* What runs once inside: exec's argv on three passed descriptors, or (pty >= 0) a
 * console: jail root's login shell on a new terminal whose master goes up pty. */
struct jail_entry {
	const struct argv_buf *argv;
	const int *stdio;
	int pty;
	unsigned short rows, cols;
	uint8_t allow; /* the jail's ALLOW_* bits, for its seccomp filter */
};
/* Runs en inside the running jail whose first process is pid1 (started at start, so a
 * reused pid is refused), for at most timeout seconds. enter.c. */
int run_in_jail(struct priv_ctx *c, const char *name, pid_t pid1, unsigned long long start, const struct jail_entry *en,
		unsigned timeout, int *status, bool *timed_out, struct err *e);

/* the ops (jail.c's table) */
int linux_create(struct priv_ctx *c, const struct req_spec *r, struct err *e);
int linux_start(struct priv_ctx *c, const struct req_spec *r, struct reply *out, struct err *e);
int linux_stop(struct priv_ctx *c, const struct req_stop *r, struct err *e);
int linux_exec(struct priv_ctx *c, const struct req_exec *r, const int fds[3], struct reply *out, struct err *e);
int linux_console(struct priv_ctx *c, const struct req_console *r, struct reply *out, int *master, struct err *e);
int linux_snap_create(struct priv_ctx *c, const struct req_snap *r, struct reply *out, struct err *e);
int linux_snap_restore(struct priv_ctx *c, const struct req_snap *r, struct err *e);
int linux_snap_delete(struct priv_ctx *c, const struct req_snap *r, struct err *e);
int linux_export(struct priv_ctx *c, const struct req_export *r, int fd, struct err *e);
int linux_import(struct priv_ctx *c, const struct req_import *r, int fd, struct err *e);
int linux_destroy(struct priv_ctx *c, const char *name, struct err *e);
int linux_sweep(struct priv_ctx *c, struct err *e);

#endif
