/* cgroup.h — per-jail resource control, one interface over cgroup v1 and v2.
 * Like crun's cgroup manager ops: the jail code asks for "limits" and "usage" and
 * never needs to know which hierarchy the host mounts. */
#ifndef JAILD_CGROUP_H
#define JAILD_CGROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "err.h"
#include "spec.h"

struct jail_usage {
	long long memory;  /* bytes */
	long long procs;
	long long cpu_ns;
};

struct cgroup_mgr;

struct cgroup_ops {
	const char *name;
	/* make the "jaild" parent group (and on v2 enable controllers for it) */
	int (*setup)(const struct cgroup_mgr *m, struct err *e);
	int (*create)(const struct cgroup_mgr *m, const char *jail, struct err *e);
	int (*set_limits)(const struct cgroup_mgr *m, const char *jail, const struct jail_limits *l, struct err *e);
	/* v2: a descriptor of the jail's group for clone3's CLONE_INTO_CGROUP, so that
	 * PID 1 starts there and is never migrated; NULL on v1 (attach instead) */
	int (*open_dir)(const struct cgroup_mgr *m, const char *jail, struct err *e);
	/* move pid (0: the caller) into the jail's group in every controller */
	int (*attach)(const struct cgroup_mgr *m, const char *jail, pid_t pid, struct err *e);
	int (*usage)(const struct cgroup_mgr *m, const char *jail, struct jail_usage *u, struct err *e);
	/* pids in the jail's group; returns the count (at most max) or -1 */
	long (*procs)(const struct cgroup_mgr *m, const char *jail, pid_t *out, size_t max);
	/* remove the jail's (empty) group; absent is success */
	int (*destroy)(const struct cgroup_mgr *m, const char *jail, struct err *e);
	/* SIGKILL to every process in the jail's group at once (v2's cgroup.kill); -1
	 * where the kernel has no such file (v1, or v2 before 5.14) */
	int (*kill)(const struct cgroup_mgr *m, const char *jail);
	/* remove the parent group if no jail is left in it (the helper leaving) */
	void (*teardown)(const struct cgroup_mgr *m);
	/* the path of the directory that holds the jails' groups, for sweeping */
	void (*parent_dir)(const struct cgroup_mgr *m, char *buf, size_t n);
};

struct cgroup_mgr {
	const struct cgroup_ops *ops;
	char root[128];   /* normally /sys/fs/cgroup; a temporary tree in tests */
	/* v2: the subtree delegated to jaild, relative to root ("" for the root itself, on
	 * a host without a cgroup manager); its own processes move to base/daemon, jails
	 * live in base/parent. Under systemd: the unit's cgroup (Delegate=yes). */
	char base[192];
	char parent[32];  /* the group holding this jaild's jails: "jaild-TAG" */
};

/* v2: the leaf that jaild's own processes move to, so that the delegated group can
 * enable controllers for its children (no process may sit in an inner group). */
#define CGROUP_DAEMON_LEAF "daemon"

extern const struct cgroup_ops cgroup_v1_ops;
extern const struct cgroup_ops cgroup_v2_ops;

/* Asks the kernel to favour cgroup changes (task migration) over fork and exit: the
 * "favordynmods" mount option. v2: a remount of root; v1: a named, controller-less
 * hierarchy mounted with it at `where` (the switch is global). Idempotent. */
int cgroup_favor_dynmods(const struct cgroup_mgr *m, const char *where, struct err *e);

/* Picks v2 when root is a cgroup2 mount, v1 when it holds per-controller mounts.
 * Sets m->parent to "jaild" when empty. On v2, self_cgroup is this process's line of
 * /proc/self/cgroup ("0::/PATH"): PATH (less a trailing /daemon leaf) becomes m->base,
 * unless parent (the cgroup-parent setting, "/..." or "") names another group. A
 * systemd unit cannot be restarted while its own group has controllers enabled for
 * children, so the shipped units keep jails in a separate, never-restarted one.
 * Under systemd (systemd: true) a base that systemd did not delegate is refused, and
 * so is the root: jaild never takes cgroups from under systemd's feet. */
int cgroup_detect(const char *root, const char *self_cgroup, const char *parent, bool systemd, struct cgroup_mgr *m,
		  struct err *e);

/* The v2 base group from this process's /proc/self/cgroup line and the cgroup-parent
 * setting, as cgroup_detect picks it (the rules above). */
int cgroup_v2_base(const char *self_cgroup, const char *parent, bool systemd, char *base, size_t n, struct err *e);

/* Whether a v2 group was delegated by systemd: it marks those with the xattr
 * trusted.delegate=1 (user.delegate for unprivileged managers). */
bool cgroup_delegated(const char *path);

/* fork(), or with a cgroup descriptor (open_dir) clone3(CLONE_INTO_CGROUP): the child
 * starts in that group, never migrated. A migration write-locks the kernel's lock that
 * every fork on the host read-locks, and waits out an RCU grace period for it: under a
 * tenant's fork storm, another tenant's exec waited there. */
pid_t fork_into(int cg_fd);

#endif
