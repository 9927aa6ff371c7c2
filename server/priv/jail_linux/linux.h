/* linux.h — the Linux backend's own state (struct priv_ctx's impl) and what its files
 * share. */
#ifndef JAILD_LINUX_H
#define JAILD_LINUX_H

#include "../ctx.h"
#include "cgroup.h"

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

#endif
