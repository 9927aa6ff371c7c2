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
#define CPU_PERIOD_US 10000
#define JAILS_CPU_SHARES "256" /* v1: of 1024 for a task of jaild's */
#define JAILS_CPU_WEIGHT "50"  /* v2: of 100 */

/* v1 keeps one hierarchy per controller; these are the ones a jail is placed in. */
static const char *const v1_controllers[] = { "pids", "memory", "cpu", "cpuacct" };
#define NV1 (sizeof v1_controllers / sizeof v1_controllers[0])

static int write_file(const char *path, const char *val, struct err *e)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC | O_TRUNC);
	if (fd < 0)
		return err_errno(e, "opening %s", path);
	size_t n = strlen(val);
	ssize_t w = write(fd, val, n);
	int saved = errno;
	close(fd);
	if (w != (ssize_t)n) {
		errno = w < 0 ? saved : EIO;
		return err_errno(e, "writing '%s' to %s", val, path);
	}
	return 0;
}

static int read_ll(const char *path, long long *out)
{
	char buf[64];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	char *end;
	long long v = strtoll(buf, &end, 10);
	if (end == buf)
		return -1;
	*out = v;
	return 0;
}

static int mkdir_ok(const char *path, struct err *e)
{
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		return err_errno(e, "creating cgroup %s", path);
	return 0;
}

static int rmdir_ok(const char *path, struct err *e)
{
	if (rmdir(path) < 0 && errno != ENOENT)
		return err_errno(e, "removing cgroup %s", path);
	return 0;
}

static long read_procs(const char *path, pid_t *out, size_t max)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? 0 : -1;
	long n = 0;
	long v;
	while ((size_t)n < max && fscanf(f, "%ld", &v) == 1)
		out[n++] = (pid_t)v;
	fclose(f);
	return n;
}

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
		if (mkdir_ok(p, e))
			return -1;
	}
	/* all jails together weigh a quarter of one of jaild's own tasks when the CPU is
	 * contended: a tenant's busy jail cannot slow the API and the helper that every
	 * tenant needs (an idle host still gives the jails everything) */
	struct err ignored;
	v1_path(m, "cpu", NULL, "cpu.shares", p, sizeof p);
	write_file(p, JAILS_CPU_SHARES, &ignored);
	return 0;
}

static int v1_create(const struct cgroup_mgr *m, const char *jail, struct err *e)
{
	char p[512];
	for (size_t i = 0; i < NV1; i++) {
		v1_path(m, v1_controllers[i], jail, NULL, p, sizeof p);
		if (mkdir_ok(p, e))
			return -1;
	}
	return 0;
}

static int v1_set_limits(const struct cgroup_mgr *m, const char *jail, const struct jail_limits *l, struct err *e)
{
	char p[512], v[64];
	v1_path(m, "pids", jail, "pids.max", p, sizeof p);
	snprintf(v, sizeof v, l->maxproc < 0 ? "max" : "%" PRId64, l->maxproc);
	if (write_file(p, v, e))
		return -1;
	v1_path(m, "memory", jail, "memory.limit_in_bytes", p, sizeof p);
	snprintf(v, sizeof v, "%" PRId64, l->memoryuse < 0 ? (int64_t)-1 : l->memoryuse);
	if (write_file(p, v, e))
		return -1;
	v1_path(m, "cpu", jail, "cpu.cfs_period_us", p, sizeof p);
	snprintf(v, sizeof v, "%d", CPU_PERIOD_US);
	if (write_file(p, v, e))
		return -1;
	v1_path(m, "cpu", jail, "cpu.cfs_quota_us", p, sizeof p);
	snprintf(v, sizeof v, "%" PRId64, l->pcpu < 0 ? (int64_t)-1 : l->pcpu * CPU_PERIOD_US / 100);
	return write_file(p, v, e);
}

static int v1_attach(const struct cgroup_mgr *m, const char *jail, pid_t pid, struct err *e)
{
	char p[512], v[32];
	snprintf(v, sizeof v, "%d", (int)pid);
	for (size_t i = 0; i < NV1; i++) {
		v1_path(m, v1_controllers[i], jail, "cgroup.procs", p, sizeof p);
		if (write_file(p, v, e))
			return -1;
	}
	return 0;
}

static int v1_usage(const struct cgroup_mgr *m, const char *jail, struct jail_usage *u, struct err *e)
{
	char p[512];
	memset(u, 0, sizeof *u);
	v1_path(m, "memory", jail, "memory.usage_in_bytes", p, sizeof p);
	if (read_ll(p, &u->memory))
		return err_errno(e, "reading %s", p);
	v1_path(m, "pids", jail, "pids.current", p, sizeof p);
	if (read_ll(p, &u->procs))
		return err_errno(e, "reading %s", p);
	v1_path(m, "cpuacct", jail, "cpuacct.usage", p, sizeof p);
	if (read_ll(p, &u->cpu_ns))
		return err_errno(e, "reading %s", p);
	return 0;
}

static long v1_procs(const struct cgroup_mgr *m, const char *jail, pid_t *out, size_t max)
{
	char p[512];
	v1_path(m, "pids", jail, "cgroup.procs", p, sizeof p);
	return read_procs(p, out, max);
}

static int v1_destroy(const struct cgroup_mgr *m, const char *jail, struct err *e)
{
	char p[512];
	for (size_t i = 0; i < NV1; i++) {
		v1_path(m, v1_controllers[i], jail, NULL, p, sizeof p);
		if (rmdir_ok(p, e))
			return -1;
	}
	return 0;
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

/* ---- v2 ---- */

/* root/base/parent/jail/file, each part optional from the right */
static void v2_path(const struct cgroup_mgr *m, const char *jail, const char *file, char *buf, size_t n)
{
	snprintf(buf, n, "%s%s%s/%s%s%s%s%s", m->root, m->base[0] ? "/" : "", m->base, m->parent, jail ? "/" : "",
		 jail ? jail : "", file ? "/" : "", file ? file : "");
}

static void v2_base_path(const struct cgroup_mgr *m, const char *file, char *buf, size_t n)
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
	if (mkdir_ok(leaf, e))
		return -1;
	v2_base_path(m, "cgroup.procs", procs, sizeof procs);
	v2_base_path(m, CGROUP_DAEMON_LEAF "/cgroup.procs", leaf, sizeof leaf);
	for (int round = 0; round < 10; round++) {
		pid_t pids[64];
		long n = read_procs(procs, pids, 64);
		if (n < 0)
			return err_errno(e, "reading %s", procs);
		if (n == 0)
			return 0;
		for (long i = 0; i < n; i++) {
			char v[32];
			snprintf(v, sizeof v, "%d", (int)pids[i]);
			struct err ignored;
			write_file(leaf, v, &ignored); /* a process that exited meanwhile is fine */
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
	if (write_file(p, "+pids +memory +cpu", e))
		return -1;
	v2_path(m, NULL, NULL, p, sizeof p);
	if (mkdir_ok(p, e))
		return -1;
	v2_path(m, NULL, "cgroup.subtree_control", p, sizeof p);
	if (write_file(p, "+pids +memory +cpu", e))
		return -1;
	/* the jails' group weighs half of its sibling (jaild's daemon leaf, or whatever
	 * shares the root): see v1_setup */
	struct err ignored;
	v2_path(m, NULL, "cpu.weight", p, sizeof p);
	write_file(p, JAILS_CPU_WEIGHT, &ignored);
	return 0;
}

static int v2_create(const struct cgroup_mgr *m, const char *jail, struct err *e)
{
	char p[512];
	v2_path(m, jail, NULL, p, sizeof p);
	return mkdir_ok(p, e);
}

static int v2_set_limits(const struct cgroup_mgr *m, const char *jail, const struct jail_limits *l, struct err *e)
{
	char p[512], v[64];
	v2_path(m, jail, "pids.max", p, sizeof p);
	snprintf(v, sizeof v, l->maxproc < 0 ? "max" : "%" PRId64, l->maxproc);
	if (write_file(p, v, e))
		return -1;
	v2_path(m, jail, "memory.max", p, sizeof p);
	snprintf(v, sizeof v, l->memoryuse < 0 ? "max" : "%" PRId64, l->memoryuse);
	if (write_file(p, v, e))
		return -1;
	v2_path(m, jail, "cpu.max", p, sizeof p);
	if (l->pcpu < 0)
		snprintf(v, sizeof v, "max %d", CPU_PERIOD_US);
	else
		snprintf(v, sizeof v, "%" PRId64 " %d", l->pcpu * CPU_PERIOD_US / 100, CPU_PERIOD_US);
	return write_file(p, v, e);
}

static int v2_attach(const struct cgroup_mgr *m, const char *jail, pid_t pid, struct err *e)
{
	char p[512], v[32];
	snprintf(v, sizeof v, "%d", (int)pid);
	v2_path(m, jail, "cgroup.procs", p, sizeof p);
	return write_file(p, v, e);
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
	if (read_ll(p, &u->memory))
		return err_errno(e, "reading %s", p);
	v2_path(m, jail, "pids.current", p, sizeof p);
	if (read_ll(p, &u->procs))
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
	return read_procs(p, out, max);
}

static int v2_destroy(const struct cgroup_mgr *m, const char *jail, struct err *e)
{
	char p[512];
	v2_path(m, jail, NULL, p, sizeof p);
	return rmdir_ok(p, e);
}

static int v2_kill(const struct cgroup_mgr *m, const char *jail)
{
	char p[512];
	struct err ignored;
	v2_path(m, jail, "cgroup.kill", p, sizeof p);
	return write_file(p, "1", &ignored);
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
static int v2_super_options(const char *root, char *out, size_t n, struct err *e)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return err_errno(e, "reading /proc/self/mountinfo");
	char line[4096];
	int found = 0;
	while (!found && fgets(line, sizeof line, f)) {
		char *mp = NULL, *fstype = NULL, *super = NULL, *save = NULL;
		int field = 0;
		bool after_dash = false;
		int k = 0;
		for (char *t = strtok_r(line, " \n", &save); t; t = strtok_r(NULL, " \n", &save), field++) {
			if (field == 4)
				mp = t;
			if (after_dash && k == 0)
				fstype = t;
			if (after_dash && k == 2)
				super = t;
			if (after_dash)
				k++;
			if (strcmp(t, "-") == 0 && field >= 6)
				after_dash = true;
		}
		if (!mp || !fstype || !super || strcmp(mp, root) != 0 || strcmp(fstype, "cgroup2") != 0)
			continue;
		out[0] = '\0';
		char *s2 = NULL;
		for (char *o = strtok_r(super, ",", &s2); o; o = strtok_r(NULL, ",", &s2)) {
			if (strcmp(o, "rw") == 0 || strcmp(o, "ro") == 0 || strcmp(o, "favordynmods") == 0)
				continue;
			size_t len = strlen(out);
			snprintf(out + len, n - len, "%s%s", len ? "," : "", o);
		}
		found = 1;
	}
	fclose(f);
	if (!found)
		return err_set(e, ERR_INTERNAL, "%s is not a cgroup2 mount in /proc/self/mountinfo", root);
	return 0;
}

int cgroup_favor_dynmods(const struct cgroup_mgr *m, const char *where, struct err *e)
{
	if (m->ops == &cgroup_v2_ops) {
		/* a remount sets the superblock's options and the mount's flags to exactly
		 * what it is given: repeat both (systemd's nosuid,nodev,noexec and its
		 * nsdelegate,memory_recursiveprot), adding only favordynmods */
		char opts[512];
		struct statvfs sv;
		if (statvfs(m->root, &sv) < 0)
			return err_errno(e, "statvfs %s", m->root);
		if (v2_super_options(m->root, opts, sizeof opts - 16, e))
			return -1;
		size_t len = strlen(opts);
		snprintf(opts + len, sizeof opts - len, "%sfavordynmods", len ? "," : "");
		unsigned long flags = MS_REMOUNT | ((sv.f_flag & ST_NOSUID) ? MS_NOSUID : 0) |
				      ((sv.f_flag & ST_NODEV) ? MS_NODEV : 0) | ((sv.f_flag & ST_NOEXEC) ? MS_NOEXEC : 0) |
				      ((sv.f_flag & ST_RDONLY) ? MS_RDONLY : 0) | ((sv.f_flag & ST_NOATIME) ? MS_NOATIME : 0) |
				      ((sv.f_flag & ST_RELATIME) ? MS_RELATIME : 0);
		if (mount(NULL, m->root, NULL, flags, opts) < 0)
			return err_errno(e, "remounting %s with %s", m->root, opts);
		return 0;
	}
	struct statfs sf;
	if (statfs(where, &sf) == 0 && sf.f_type == CGROUP_SUPER_MAGIC)
		return 0; /* mounted by an earlier helper */
	if (mkdir(where, 0700) < 0 && errno != EEXIST)
		return err_errno(e, "creating %s", where);
	if (mount("jaild", where, "cgroup", MS_NOSUID | MS_NODEV | MS_NOEXEC, "none,name=jaild,favordynmods") < 0)
		return err_errno(e, "mounting a favordynmods cgroup hierarchy at %s", where);
	return 0;
}

bool cgroup_delegated(const char *path)
{
	char v[8];
	ssize_t n = getxattr(path, "trusted.delegate", v, sizeof v - 1);
	if (n <= 0)
		n = getxattr(path, "user.delegate", v, sizeof v - 1);
	if (n <= 0)
		return false;
	v[n] = '\0';
	return strcmp(v, "1") == 0;
}

int cgroup_v2_base(const char *self_cgroup, const char *parent, bool systemd, char *base, size_t n, struct err *e)
{
	const char *path = parent && parent[0] == '/' ? parent + 1 : NULL;
	if (!path && strncmp(self_cgroup, "0::/", 4) != 0)
		return err_set(e, ERR_INTERNAL, "cannot tell this process's cgroup from '%s'", self_cgroup);
	snprintf(base, n, "%s", path ? path : self_cgroup + 4);
	base[strcspn(base, "\n")] = '\0';
	size_t len = strlen(base), leaf = strlen("/" CGROUP_DAEMON_LEAF);
	if (!path && strcmp(base, CGROUP_DAEMON_LEAF) == 0)
		base[0] = '\0'; /* a helper started again, from the root's leaf */
	else if (!path && len > leaf && strcmp(base + len - leaf, "/" CGROUP_DAEMON_LEAF) == 0)
		base[len - leaf] = '\0';
	if (systemd && !base[0])
		return err_set(e, ERR_INTERNAL,
			       "jaild runs in the root cgroup of a systemd host: start it from its units (systemctl start jaild), "
			       "under systemd-run --scope -p Delegate=yes, or name a delegated group in cgroup-parent");
	return 0;
}

int cgroup_detect(const char *root, const char *self_cgroup, const char *parent, bool systemd, struct cgroup_mgr *m,
		  struct err *e)
{
	struct statfs sf;
	char p[512];
	snprintf(m->root, sizeof m->root, "%s", root);
	if (!m->parent[0])
		snprintf(m->parent, sizeof m->parent, "jaild");
	if (statfs(root, &sf) < 0)
		return err_errno(e, "cgroup root %s", root);
	if (sf.f_type == CGROUP2_SUPER_MAGIC) {
		m->ops = &cgroup_v2_ops;
		if (cgroup_v2_base(self_cgroup, parent, systemd, m->base, sizeof m->base, e))
			return -1;
		v2_base_path(m, NULL, p, sizeof p);
		if (systemd && !cgroup_delegated(p))
			return err_set(e, ERR_INTERNAL,
				       "systemd did not delegate the cgroup /%s to jaild: start jaild from its units (systemctl start "
				       "jaild; jaild-jails.service has Delegate=yes), under systemd-run --scope -p Delegate=yes, or name "
				       "a delegated group in cgroup-parent",
				       m->base);
		return 0;
	}
	for (size_t i = 0; i < NV1; i++) {
		struct statfs cf;
		snprintf(p, sizeof p, "%s/%s", root, v1_controllers[i]);
		if (statfs(p, &cf) < 0 || cf.f_type != CGROUP_SUPER_MAGIC)
			return err_set(e, ERR_INTERNAL,
				       "no cgroup v2 at %s and no v1 '%s' controller at %s: mount cgroups (v1 pids, memory, cpu, cpuacct, or v2)",
				       root, v1_controllers[i], p);
	}
	m->ops = &cgroup_v1_ops;
	return 0;
}
