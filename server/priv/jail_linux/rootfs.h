/* rootfs.h — a jail's filesystem view, built in its private mount namespace (owned by
 * the host's user namespace, so jail root can never mount or unmount in it) and
 * entered with pivot_root. Nothing of it is visible on the host. */
#ifndef JAILD_ROOTFS_H
#define JAILD_ROOTFS_H

#include <stdbool.h>
#include <sys/types.h>

#include "err.h"
#include "spec.h"

/* Mounts can be cloned only from the cloner's own mount namespace, so the trees that
 * come from the host (template, thick root, bind sources) are cloned, detached, by
 * the caller before it unshares; the jail's namespace attaches them. */
struct rootfs_plan {
	char jail_path[256 + 8 + NAME_SIZE]; /* DIR/jails/NAME, reopened inside the new namespace */
	dev_t jail_dev;      /* ...and checked to be the directory the caller opened */
	ino_t jail_ino;
	int root_tree;       /* thin: the idmapped read-only template; thick: the jail's own root */
	bool thin;
	bool disk;           /* upper/ and work/ are on the jail's disk, mounted at disk/ */
	uid_t base;
	uint32_t pty_max;    /* the jail devpts' max= */
	const struct jail_spec *spec;
	int mount_trees[MOUNTS_MAX]; /* detached clones of spec->mounts[i].source, attributes set */
	bool mount_is_dir[MOUNTS_MAX];
	const char *lxcfs;   /* lxcfs's mount point: its /proc files go over the jail's (NULL: none) */
};

/* A detached clone of the tree at fd (recursive), with attrs set (userns_fd for
 * MOUNT_ATTR_IDMAP, else -1). Call in the source's mount namespace. */
int rootfs_clone_tree(int fd, uint64_t attrs, int userns_fd, const char *what, struct err *e);

/* Builds the root at DIR/jails/NAME/mnt and pivots into it. Call as PID 1 of the
 * jail's new pid namespace, in a new mount namespace, with host root privileges. */
int rootfs_enter(const struct rootfs_plan *p, struct err *e);

#endif
