/* backend.h — the jail operations, one table per kernel. The Linux table builds jails
 * from namespaces and cgroups; a FreeBSD table (jail_setv, nmount, rctl) fills the same
 * slots (docs/backend-freebsd.md). Every op gets a request that the helper's dispatcher
 * has already checked for shape and meaning, and fills a reply or an error. */
#ifndef JAILD_BACKEND_H
#define JAILD_BACKEND_H

#include <stdbool.h>
#include <sys/types.h>

#include "ctx.h"
#include "err.h"
#include "proto.h"

struct backend_ops {
	const char *name;
	int (*init)(struct priv_ctx *c, struct err *e);
	int (*template_minimal)(struct priv_ctx *c, struct err *e);
	int (*create)(struct priv_ctx *c, const struct req_spec *r, struct err *e);
	int (*start)(struct priv_ctx *c, const struct req_spec *r, struct reply *out, struct err *e);
	int (*stop)(struct priv_ctx *c, const struct req_stop *r, struct err *e);
	int (*exec)(struct priv_ctx *c, const struct req_exec *r, const int fds[3], struct reply *out, struct err *e);
	/* a login shell on a new terminal in the running jail; *master: the terminal */
	int (*console)(struct priv_ctx *c, const struct req_console *r, struct reply *out, int *master, struct err *e);
	/* snapshots live with the jail's files; restore needs the jail stopped */
	int (*snap_create)(struct priv_ctx *c, const struct req_snap *r, struct reply *out, struct err *e);
	int (*snap_restore)(struct priv_ctx *c, const struct req_snap *r, struct err *e);
	int (*snap_delete)(struct priv_ctx *c, const struct req_snap *r, struct err *e);
	/* a jail as a tar stream and back (fd: the stream) */
	int (*export_tar)(struct priv_ctx *c, const struct req_export *r, int fd, struct err *e);
	int (*import_tar)(struct priv_ctx *c, const struct req_import *r, int fd, struct err *e);
	/* templates from outside; delete only when jaild knows no jail uses it */
	int (*template_tar)(struct priv_ctx *c, const char *name, bool replace, int fd, struct reply *out, struct err *e);
	int (*template_dir)(struct priv_ctx *c, const char *name, bool replace, const char *source, struct err *e);
	int (*template_delete)(struct priv_ctx *c, const char *name, struct err *e);
	int (*destroy)(struct priv_ctx *c, const char *name, struct err *e);
	int (*status)(struct priv_ctx *c, const char *name, struct reply *out, struct err *e);
	/* the jail's log (what its first process writes), opened read-only into *fd */
	int (*log_open)(struct priv_ctx *c, const char *name, int *fd, struct err *e);
	int (*set_limits)(struct priv_ctx *c, const struct req_limits *r, struct err *e);
	/* a running jail's forwards, firewall rules and bandwidth, changed in place */
	int (*net_set)(struct priv_ctx *c, const struct req_net *r, struct err *e);
	int (*list)(struct priv_ctx *c, const char *after, struct list_reply *out, struct err *e);
	int (*sweep)(struct priv_ctx *c, struct err *e);
	/* the helper is about to exit */
	void (*fini)(struct priv_ctx *c);
	/* a child that is no worker ended (a jail's first process, reparented to the
	 * helper): the backend records how, for STATUS */
	void (*reaped)(struct priv_ctx *c, pid_t pid, int status);
};

/* The backends this build has, by name (backends.c); NULL-terminated, the first is
 * the default. */
extern const struct backend_ops *const backends[];
const struct backend_ops *backend_find(const char *name);

#endif
