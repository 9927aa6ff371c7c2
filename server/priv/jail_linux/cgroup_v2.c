/* cgroup_v2.c — the cgroup manager on the unified (v2) hierarchy: one group per jail
 * under a delegated base, PID 1 cloned straight into it. */
#include "cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <linux/magic.h>

/* The period a jail's CPU limit is enforced over: short, so that a capped jail runs in
 * bursts of a few milliseconds and a neighbour never waits tens of them for a core
 * (bench/neighbours.py: memory hog exec p99 from 3.6x of quiet to 1.5-2.9x). */
#include "cgroup_impl.h"

/* The period a jail's CPU limit is enforced over: short, so that a capped jail runs in
 * bursts of a few milliseconds rather than a hundred, and a neighbour does not wait
 * that long for a core. */
#define CPU_PERIOD_US 10000
#define JAILS_CPU_WEIGHT "50"  /* v2: of 100 */

/* v1 keeps one hierarchy per controller; these are the ones a jail is placed in. */
/* ---- v2 ---- */

/* root/base/parent/jail/file, each part optional from the right */
static void v2_path(const struct cgroup_mgr *m, const char *jail, const char *file, char *buf, size_t n)
{
	snprintf(buf, n, "%s%s%s/%s%s%s%s%s", m->root, m->base[0] ? "/" : "", m->base, m->parent, jail ? "/" : "",
		 jail ? jail : "", file ? "/" : "", file ? file : "");
}

void v2_base_path(const struct cgroup_mgr *m, const char *file, char *buf, size_t n)
{
	snprintf(buf, n, "%s%s%s%s%s", m->root, m->base[0] ? "/" : "", m->base, file ? "/" : "", file ? file : "");
}

/* Every process in the delegated group goes to its daemon leaf: ours (supervisor,
 * server, helper) and nothing else, since the group is ours alone. A process forked
 * meanwhile shows up in the next read; a few rounds settle it. */
static int v2_move_to_leaf(const struct cgroup_mgr *m, struct err *e)
{
	char procs[512], leaf[512];
	v2_base_path(m, CGROUP_DAEMON_LEAF, leaf, sizeof leaf);
	if (cg_mkdir_ok(leaf, e))
		return -1;
	v2_base_path(m, "cgroup.procs", procs, sizeof procs);
	v2_base_path(m, CGROUP_DAEMON_LEAF "/cgroup.procs", leaf, sizeof leaf);
	for (int round = 0; round < 10; round++) {
		pid_t pids[64];
		long n = cg_read_procs(procs, pids, 64);
		if (n < 0)
			return err_errno(e, "reading %s", procs);
		if (n == 0)
			return 0;
		for (long i = 0; i < n; i++) {
			char v[32];
			snprintf(v, sizeof v, "%d", (int)pids[i]);
			struct err ignored;
			cg_write_file(leaf, v, &ignored); /* a process that exited meanwhile is fine */
		}
	}
	return err_set(e, ERR_INTERNAL, "processes keep appearing in %s; cannot move them to its %s leaf", procs,
		       CGROUP_DAEMON_LEAF);
}

static int v2_setup(const struct cgroup_mgr *m, struct err *e)
{
	char p[512];
	/* the root itself only where no manager owns it (m->base empty: cgroup_detect
	 * allows that only without systemd); else our own delegated group, whose
	 * processes first move to a leaf */
	if (m->base[0] && v2_move_to_leaf(m, e))
		return -1;
	v2_base_path(m, "cgroup.subtree_control", p, sizeof p);
	if (cg_write_file(p, "+pids +memory +cpu", e))
		return -1;
	v2_path(m, NULL, NULL, p, sizeof p);
	if (cg_mkdir_ok(p, e))
		return -1;
	v2_path(m, NULL, "cgroup.subtree_control", p, sizeof p);
	if (cg_write_file(p, "+pids +memory +cpu", e))
		return -1;
	/* the jails' group weighs half of its sibling (jaild's daemon leaf, or whatever
	 * shares the root): see v1_setup */
	struct err ignored;
	v2_path(m, NULL, "cpu.weight", p, sizeof p);
	cg_write_file(p, JAILS_CPU_WEIGHT, &ignored);
	return 0;
}

static int v2_create(const struct cgroup_mgr *m, const char *jail, struct err *e)
{
	char p[512];
	v2_path(m, jail, NULL, p, sizeof p);
	return cg_mkdir_ok(p, e);
}

static int v2_set_limits(const struct cgroup_mgr *m, const char *jail, const struct jail_limits *l, struct err *e)
{
	char p[512], v[64];
	v2_path(m, jail, "pids.max", p, sizeof p);
	snprintf(v, sizeof v, l->maxproc < 0 ? "max" : "%" PRId64, l->maxproc);
	if (cg_write_file(p, v, e))
		return -1;
	v2_path(m, jail, "memory.max", p, sizeof p);
	snprintf(v, sizeof v, l->memoryuse < 0 ? "max" : "%" PRId64, l->memoryuse);
	if (cg_write_file(p, v, e))
		return -1;
	v2_path(m, jail, "cpu.max", p, sizeof p);
	if (l->pcpu < 0)
		snprintf(v, sizeof v, "max %d", CPU_PERIOD_US);
	else
		snprintf(v, sizeof v, "%" PRId64 " %d", l->pcpu * CPU_PERIOD_US / 100, CPU_PERIOD_US);
	return cg_write_file(p, v, e);
}

static int v2_attach(const struct cgroup_mgr *m, const char *jail, pid_t pid, struct err *e)
{
	char p[512], v[32];
	snprintf(v, sizeof v, "%d", (int)pid);
	v2_path(m, jail, "cgroup.procs", p, sizeof p);
	return cg_write_file(p, v, e);
}

static int v2_open_dir(const struct cgroup_mgr *m, const char *jail, struct err *e)
{
	char p[512];
	v2_path(m, jail, NULL, p, sizeof p);
	int fd = open(p, O_PATH | O_DIRECTORY | O_CLOEXEC);
	return fd < 0 ? err_errno(e, "opening cgroup %s", p) : fd;
}

static int v2_usage(const struct cgroup_mgr *m, const char *jail, struct jail_usage *u, struct err *e)
{
	char p[512];
	memset(u, 0, sizeof *u);
	v2_path(m, jail, "memory.current", p, sizeof p);
	if (cg_read_ll(p, &u->memory))
		return err_errno(e, "reading %s", p);
	v2_path(m, jail, "pids.current", p, sizeof p);
	if (cg_read_ll(p, &u->procs))
		return err_errno(e, "reading %s", p);
	v2_path(m, jail, "cpu.stat", p, sizeof p);
	FILE *f = fopen(p, "re");
	if (!f)
		return err_errno(e, "reading %s", p);
	char key[64];
	long long val;
	while (fscanf(f, "%63s %lld", key, &val) == 2)
		if (strcmp(key, "usage_usec") == 0)
			u->cpu_ns = val * 1000;
	fclose(f);
	return 0;
}

static long v2_procs(const struct cgroup_mgr *m, const char *jail, pid_t *out, size_t max)
{
	char p[512];
	v2_path(m, jail, "cgroup.procs", p, sizeof p);
	return cg_read_procs(p, out, max);
}

static int v2_destroy(const struct cgroup_mgr *m, const char *jail, struct err *e)
{
	char p[512];
	v2_path(m, jail, NULL, p, sizeof p);
	return cg_rmdir_ok(p, e);
}

static int v2_kill(const struct cgroup_mgr *m, const char *jail)
{
	char p[512];
	struct err ignored;
	v2_path(m, jail, "cgroup.kill", p, sizeof p);
	return cg_write_file(p, "1", &ignored);
}

static void v2_teardown(const struct cgroup_mgr *m)
{
	char p[512];
	v2_path(m, NULL, NULL, p, sizeof p);
	rmdir(p); /* EBUSY while a jail runs: then it stays */
}

static void v2_parent_dir(const struct cgroup_mgr *m, char *buf, size_t n)
{
	v2_path(m, NULL, NULL, buf, n);
}

const struct cgroup_ops cgroup_v2_ops = {
	.name = "v2",
	.setup = v2_setup,
	.create = v2_create,
	.set_limits = v2_set_limits,
	.open_dir = v2_open_dir,
	.attach = v2_attach,
	.usage = v2_usage,
	.procs = v2_procs,
	.destroy = v2_destroy,
	.kill = v2_kill,
	.teardown = v2_teardown,
	.parent_dir = v2_parent_dir,
};

/* The cgroup2 mount's superblock options (nsdelegate, memory_recursiveprot, ...),
 * without rw/ro, from mountinfo: a remount must repeat them or it drops them. */
