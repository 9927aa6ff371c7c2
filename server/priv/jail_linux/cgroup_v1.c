/* cgroup_v1.c — the cgroup manager on a v1 (or hybrid) hierarchy: a group per
 * controller (pids, memory, cpu, cpuacct) for each jail. */
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
#define JAILS_CPU_SHARES "256" /* v1: of 1024 for a task of jaild's */

/* v1 keeps one hierarchy per controller; these are the ones a jail is placed in. */
const char *const v1_controllers[] = { "pids", "memory", "cpu", "cpuacct" };

/* ---- v1 ---- */

static void v1_path(const struct cgroup_mgr *m, const char *ctl, const char *jail, const char *file, char *buf, size_t n)
{
	snprintf(buf, n, "%s/%s/%s%s%s%s%s", m->root, ctl, m->parent, jail ? "/" : "", jail ? jail : "",
		 file ? "/" : "", file ? file : "");
}

static int v1_setup(const struct cgroup_mgr *m, struct err *e)
{
	char p[512];
	for (size_t i = 0; i < NV1; i++) {
		v1_path(m, v1_controllers[i], NULL, NULL, p, sizeof p);
		if (cg_mkdir_ok(p, e))
			return -1;
	}
	/* all jails together weigh a quarter of one of jaild's own tasks when the CPU is
	 * contended: a tenant's busy jail cannot slow the API and the helper that every
	 * tenant needs (an idle host still gives the jails everything) */
	struct err ignored;
	v1_path(m, "cpu", NULL, "cpu.shares", p, sizeof p);
	cg_write_file(p, JAILS_CPU_SHARES, &ignored);
	return 0;
}

/* fn on the jail's group in every controller, stopping at the first failure. */
static int v1_each(const struct cgroup_mgr *m, const char *jail, int (*fn)(const char *path, struct err *e), struct err *e)
{
	char p[512];
	for (size_t i = 0; i < NV1; i++) {
		v1_path(m, v1_controllers[i], jail, NULL, p, sizeof p);
		if (fn(p, e))
			return -1;
	}
	return 0;
}

static int v1_create(const struct cgroup_mgr *m, const char *jail, struct err *e)
{
	return v1_each(m, jail, cg_mkdir_ok, e);
}

static int v1_set_limits(const struct cgroup_mgr *m, const char *jail, const struct jail_limits *l, struct err *e)
{
	char p[512], v[64];
	v1_path(m, "pids", jail, "pids.max", p, sizeof p);
	snprintf(v, sizeof v, l->maxproc < 0 ? "max" : "%" PRId64, l->maxproc);
	if (cg_write_file(p, v, e))
		return -1;
	v1_path(m, "memory", jail, "memory.limit_in_bytes", p, sizeof p);
	snprintf(v, sizeof v, "%" PRId64, l->memoryuse < 0 ? (int64_t)-1 : l->memoryuse);
	if (cg_write_file(p, v, e))
		return -1;
	v1_path(m, "cpu", jail, "cpu.cfs_period_us", p, sizeof p);
	snprintf(v, sizeof v, "%d", CPU_PERIOD_US);
	if (cg_write_file(p, v, e))
		return -1;
	v1_path(m, "cpu", jail, "cpu.cfs_quota_us", p, sizeof p);
	snprintf(v, sizeof v, "%" PRId64, l->pcpu < 0 ? (int64_t)-1 : l->pcpu * CPU_PERIOD_US / 100);
	return cg_write_file(p, v, e);
}

static int v1_attach(const struct cgroup_mgr *m, const char *jail, pid_t pid, struct err *e)
{
	char p[512], v[32];
	snprintf(v, sizeof v, "%d", (int)pid);
	for (size_t i = 0; i < NV1; i++) {
		v1_path(m, v1_controllers[i], jail, "cgroup.procs", p, sizeof p);
		if (cg_write_file(p, v, e))
			return -1;
	}
	return 0;
}

static int v1_usage(const struct cgroup_mgr *m, const char *jail, struct jail_usage *u, struct err *e)
{
	char p[512];
	memset(u, 0, sizeof *u);
	v1_path(m, "memory", jail, "memory.usage_in_bytes", p, sizeof p);
	if (cg_read_ll(p, &u->memory))
		return err_errno(e, "reading %s", p);
	v1_path(m, "pids", jail, "pids.current", p, sizeof p);
	if (cg_read_ll(p, &u->procs))
		return err_errno(e, "reading %s", p);
	v1_path(m, "cpuacct", jail, "cpuacct.usage", p, sizeof p);
	if (cg_read_ll(p, &u->cpu_ns))
		return err_errno(e, "reading %s", p);
	return 0;
}

static long v1_procs(const struct cgroup_mgr *m, const char *jail, pid_t *out, size_t max)
{
	char p[512];
	v1_path(m, "pids", jail, "cgroup.procs", p, sizeof p);
	return cg_read_procs(p, out, max);
}

static int v1_destroy(const struct cgroup_mgr *m, const char *jail, struct err *e)
{
	return v1_each(m, jail, cg_rmdir_ok, e);
}

static int v1_kill(const struct cgroup_mgr *m, const char *jail)
{
	(void)m, (void)jail;
	return -1;
}

static void v1_teardown(const struct cgroup_mgr *m)
{
	char p[512];
	for (size_t i = 0; i < NV1; i++) {
		v1_path(m, v1_controllers[i], NULL, NULL, p, sizeof p);
		rmdir(p); /* EBUSY while a jail runs: then it stays */
	}
}

static void v1_parent_dir(const struct cgroup_mgr *m, char *buf, size_t n)
{
	v1_path(m, "pids", NULL, NULL, buf, n);
}

const struct cgroup_ops cgroup_v1_ops = {
	.name = "v1",
	.setup = v1_setup,
	.create = v1_create,
	.set_limits = v1_set_limits,
	.attach = v1_attach,
	.usage = v1_usage,
	.procs = v1_procs,
	.destroy = v1_destroy,
	.kill = v1_kill,
	.teardown = v1_teardown,
	.parent_dir = v1_parent_dir,
};

