#include "cgroup.h"
#include <linux/sched.h>
#include <signal.h>
#include <stdint.h>
#include <sys/syscall.h>

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

int cg_write_file(const char *path, const char *val, struct err *e)
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

int cg_read_ll(const char *path, long long *out)
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

int cg_mkdir_ok(const char *path, struct err *e)
{
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		return err_errno(e, "creating cgroup %s", path);
	return 0;
}

int cg_rmdir_ok(const char *path, struct err *e)
{
	if (rmdir(path) < 0 && errno != ENOENT)
		return err_errno(e, "removing cgroup %s", path);
	return 0;
}

long cg_read_procs(const char *path, pid_t *out, size_t max)
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

pid_t fork_into(int cg_fd)
{
	if (cg_fd < 0)
		return fork();
	struct clone_args args = { .flags = CLONE_INTO_CGROUP, .exit_signal = SIGCHLD, .cgroup = (uint64_t)cg_fd };
	return (pid_t)syscall(SYS_clone3, &args, sizeof args);
}
