/* rootfs.h — a jail's filesystem view, built in its private mount namespace (owned by
 * the host's user namespace, so jail root can never mount or unmount in it) and
 * entered with pivot_root. Nothing of it is visible on the host. */
#ifndef JAILD_ROOTFS_H
#define JAILD_ROOTFS_H

#include <stdbool.h>
#include <sys/types.h>

#include "err.h"
#include "spec.h"

struct rootfs_plan {
	int jail_fd;         /* DIR/jails/NAME */
	int template_fd;     /* thin: DIR/templates/T */
	int idmap_userns_fd; /* thin: a user namespace mapping 0 -> base, for the idmapped template */
	bool thin;
	uid_t base;
	const struct jail_spec *spec;
	int mount_src_fds[MOUNTS_MAX]; /* O_PATH fds of spec->mounts[i].source, checked by the caller */
};

/* Builds the root at jail_fd/mnt and pivots into it. Call as PID 1 of the jail's new
 * pid namespace, in a new mount namespace, with host root privileges. */
int rootfs_enter(const struct rootfs_plan *p, struct err *e);

#endif
