/* jail.c — the Linux backend: jails from namespaces, an overlay or copied root,
 * cgroups and a veth pair.
 *
 * Who owns what. The jail's mount, pid, ipc and cgroup namespaces are made by host
 * root, so they belong to the host's user namespace: jail root has no capability over
 * them and can never mount, unmount or change IPC limits. Its uts and net namespaces
 * are made together with its user namespace, so jail root can be given sethostname
 * (allow.set_hostname) and raw sockets (allow.raw_sockets) by keeping the capability,
 * and loses them by dropping it. Jail uid 0 is host uid base (slot_uid): never root. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <linux/mount.h>
#include <linux/sched.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "../backend.h"
#include "linux.h"
#include "caps.h"
#include "disk.h"
#include "tarball.h"
#include "firewall.h"
#include "fsutil.h"
#include "checks.h"
#include "lock.h"
#include "log.h"
#include "netlink.h"
#include "rootfs.h"
#include "runrec.h"
#include "seccomp.h"
#include "template.h"

static const uint8_t gw4[4] = { 169, 254, 0, 1 };
static const uint8_t gw6[16] = { 0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };

static const char *const jail_env[] = {
	"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
	"HOME=/root",
	"USER=root",
	"LOGNAME=root",
	"SHELL=/bin/sh",
	"container=jaild",
	NULL,
};

static void host_ifname(const struct priv_ctx *c, uint32_t slot, char buf[IFNAMSIZ])
{
	snprintf(buf, IFNAMSIZ, JAIL_IF_PREFIX "%.4s-%u", c->tag, slot);
}

static int open_jail_dir(struct priv_ctx *c, const char *name, struct err *e)
{
	int fd = openat(c->jails_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? err_set(e, ERR_NOT_FOUND, "jail %s has no files on this host", name)
				       : err_errno(e, "opening jail %s", name);
	return fd;
}

/* The private layer is owned by the jail's root: that owner is what ties a jail's
 * files to its uid range, so a slot that does not match it is refused. */
static int slot_owns_files(struct priv_ctx *c, int jail_fd, uint32_t slot, bool *thin, struct err *e)
{
	struct stat st;
	if (fstatat(jail_fd, "upper", &st, AT_SYMLINK_NOFOLLOW) == 0)
		*thin = true;
	else if (fstatat(jail_fd, "root", &st, AT_SYMLINK_NOFOLLOW) == 0)
		*thin = false;
	else
		return err_set(e, ERR_NOT_FOUND, "jail has neither upper/ nor root/ in its directory");
	if (!S_ISDIR(st.st_mode) || st.st_uid != slot_uid(c, slot))
		return err_field(e, ERR_INVALID, "slot", "slot %u does not own this jail's files", slot);
	return 0;
}

static int check_mounts(struct priv_ctx *c, const struct jail_spec *s, int *fds, struct err *e)
{
	for (uint32_t i = 0; i < s->nmounts; i++)
		fds[i] = -1;
	for (uint32_t i = 0; i < s->nmounts; i++) {
		char f[32];
		snprintf(f, sizeof f, "mounts[%u].source", i);
		if ((fds[i] = open_allowed(c, s->mounts[i].source, O_PATH, f, e)) < 0)
			return -1;
		/* nosuid binds the jail's side only: a setuid file jail root writes into a
		 * writable source would run on the host, as the jail root's uid, for any
		 * host user who can reach it. Writable sources need a nosuid host mount. */
		struct statfs sf;
		if (!s->mounts[i].readonly && !c->allow_setuid_mounts) {
			snprintf(f, sizeof f, "mounts[%u].readonly", i);
			if (fstatfs(fds[i], &sf) < 0)
				return err_errno(e, "statfs %s", s->mounts[i].source);
			if (!(sf.f_flags & ST_NOSUID))
				return err_field(e, ERR_INVALID, f,
						 "%s is on a host filesystem mounted without nosuid: a setuid file written there from the "
						 "jail would run on the host; mount it read-only, remount the host side nosuid, or set "
						 "allow-mount-setuid = yes",
						 s->mounts[i].source);
		}
	}
	return 0;
}

int open_allowed(struct priv_ctx *c, const char *src, int flags, const char *field, struct err *e)
{
	if (!mount_source_allowed(c, src)) /* checked before, and again at the open */
		return err_field(e, ERR_INVALID, field, "%s is not under a host path the admin allows (allow-mount)", src);
	/* no symlink anywhere in the path: the literal, clean path is what was checked */
	int fd = open_no_symlinks(src, flags);
	if (fd < 0)
		return errno == ELOOP ? err_field(e, ERR_INVALID, field, "%s contains a symlink; name the real path", src)
				      : err_field(e, ERR_INVALID, field, "%s cannot be opened: %s", src, strerror(errno));
	return fd;
}

/* A user namespace mapping jail uids 0..65535 to base..base+65535, for idmapping the
 * template. A short-lived child holds it while we open it. */
static int idmap_userns(uid_t base, struct err *e)
{
	int sync[2];
	if (pipe2(sync, O_CLOEXEC) < 0)
		return err_errno(e, "pipe");
	pid_t pid = fork();
	if (pid < 0)
		return err_errno(e, "fork");
	if (pid == 0) {
		priv_close_inherited();
		char b = 0;
		if (unshare(CLONE_NEWUSER) == 0)
			b = 1;
		if (write(sync[1], &b, 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	close(sync[1]);
	char b = 0, path[64], map[64];
	int fd = -1;
	if (read(sync[0], &b, 1) == 1 && b == 1) {
		int len = snprintf(map, sizeof map, "0 %u %u\n", base, UID_RANGE);
		const char *files[] = { "uid_map", "gid_map" };
		int ok = 1;
		for (int i = 0; i < 2 && ok; i++) {
			snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, files[i]);
			int m = open(path, O_WRONLY | O_CLOEXEC);
			ok = m >= 0 && write(m, map, (size_t)len) == len;
			if (m >= 0)
				close(m);
		}
		snprintf(path, sizeof path, "/proc/%d/ns/user", (int)pid);
		if (ok)
			fd = open(path, O_RDONLY | O_CLOEXEC);
	}
	if (fd < 0)
		err_errno(e, "making the idmap user namespace");
	close(sync[0]);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return fd;
}

static int write_map(pid_t pid, const char *file, uid_t base, struct err *e)
{
	char path[64], map[64];
	snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, file);
	int len = snprintf(map, sizeof map, "0 %u %u\n", base, UID_RANGE);
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, map, (size_t)len) != len) {
		err_errno(e, "writing %s", path);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

static int write_str_file(const char *path, const char *v)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = write(fd, v, strlen(v));
	close(fd);
	return n == (ssize_t)strlen(v) ? 0 : -1;
}

/* ---- the jail's first process ---- */

/* Messages on the start socket: child -> parent 'M' (root built), 'U' (user namespace
 * made), 'E'+text (failed); parent -> child 'G' (maps and network ready). Success is
 * the socket closing at execve (it is close-on-exec). */
static void child_fail(int sock, struct err *e)
{
	char buf[1 + sizeof e->msg];
	buf[0] = 'E';
	size_t n = strlen(e->msg);
	memcpy(buf + 1, e->msg, n);
	ssize_t w = write(sock, buf, n + 1);
	(void)w;
	_exit(1);
}

static int set_ipc_off(void)
{
	/* no SysV IPC objects can be made in the jail's IPC namespace, and only host root
	 * (who owns that namespace) could raise these again */
	if (write_str_file("/proc/sys/kernel/shmmni", "0") || write_str_file("/proc/sys/kernel/msgmni", "0") ||
	    write_str_file("/proc/sys/kernel/sem", "0 0 0 0"))
		return -1;
	return 0;
}

static int jail_net_inside(const struct jail_spec *s, struct err *e)
{
	int nl = nl_open(e);
	if (nl < 0)
		return -1;
	int r = nl_link_up(nl, (int)if_nametoindex("lo"), e);
	if (r == 0 && (s->nip4 || s->nip6)) {
		int eth = (int)if_nametoindex("eth0");
		if (eth == 0)
			r = err_set(e, ERR_INTERNAL, "the jail's eth0 is missing");
		for (int i = 0; r == 0 && i < s->nip4; i++)
			r = nl_addr_add(nl, eth, AF_INET, &s->ip4[i], 32, e);
		for (int i = 0; r == 0 && i < s->nip6; i++)
			r = nl_addr_add(nl, eth, AF_INET6, s->ip6[i], 128, e);
		if (r == 0)
			r = nl_link_up(nl, eth, e);
		if (r == 0 && s->nip4) {
			r = nl_route_add(nl, AF_INET, gw4, 32, NULL, eth, e);
			if (r == 0)
				r = nl_route_add(nl, AF_INET, NULL, 0, gw4, eth, e);
		}
		if (r == 0 && s->nip6)
			r = nl_route_add(nl, AF_INET6, NULL, 0, gw6, eth, e);
	}
	close(nl);
	return r;
}

static void close_from_3(int keep)
{
	/* everything the helper had open goes before the jail's code runs */
	if (keep > 3)
		syscall(SYS_close_range, 3, keep - 1, 0);
	syscall(SYS_close_range, keep + 1, ~0U, 0);
}

/* Runs as PID 1 of the new pid namespace, host root, in the new mount namespace,
 * moved into the jail's cgroup by the parent before 'G'. */
static void jail_init(int sock, const struct rootfs_plan *plan, const struct jail_spec *s)
{
	struct err e = { 0 };
	char go;
	prctl(PR_SET_DUMPABLE, 0);
	setsid(); /* PID 1 leads its own session, with no controlling terminal */
	if (!(s->allow & ALLOW_SYSVIPC) && set_ipc_off() < 0) {
		err_errno(&e, "turning SysV IPC off in the jail");
		child_fail(sock, &e);
	}
	if (s->limits.openfiles > 0) {
		struct rlimit rl = { (rlim_t)s->limits.openfiles, (rlim_t)s->limits.openfiles };
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0) {
			err_errno(&e, "setting openfiles to %lld", (long long)s->limits.openfiles);
			child_fail(sock, &e);
		}
	}
	if (rootfs_enter(plan, &e))
		child_fail(sock, &e);
	if (unshare(CLONE_NEWUSER | CLONE_NEWUTS | CLONE_NEWNET) < 0) {
		err_errno(&e, "making the jail's user namespace");
		child_fail(sock, &e);
	}
	if (write(sock, "U", 1) != 1 || read(sock, &go, 1) != 1 || go != 'G')
		_exit(1);
	/* now in the jail's cgroup: that is the root of what it sees of cgroups */
	if (unshare(CLONE_NEWCGROUP) < 0) {
		err_errno(&e, "making the jail's cgroup namespace");
		child_fail(sock, &e);
	}
	if (setgroups(0, NULL) < 0 || setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0) {
		err_errno(&e, "becoming the jail's root");
		child_fail(sock, &e);
	}
	if (jail_net_inside(s, &e))
		child_fail(sock, &e);
	if (sethostname(s->hostname, strlen(s->hostname)) < 0) {
		err_errno(&e, "setting the hostname");
		child_fail(sock, &e);
	}
	/* the filter goes on while PID 1 still has every capability in the jail's user
	 * namespace (so no no_new_privs is needed: setuid programs inside keep working) */
	if (seccomp_jail(s->allow, &e) || caps_restrict(caps_for_jail(s->allow), &e))
		child_fail(sock, &e);
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0) {
		err_errno(&e, "opening the jail's /dev/null");
		child_fail(sock, &e);
	}
	close_from_3(sock);
	char *argv[ARGV_MAX + 1];
	argv_unpack(&s->command, argv);
	execve(argv[0], argv, (char **)jail_env);
	err_errno(&e, "running %s in the jail", argv[0]);
	child_fail(sock, &e);
}

static int host_net(struct priv_ctx *c, const struct jail_spec *s, uint32_t slot, pid_t pid1, struct err *e)
{
	if (s->nip4 == 0 && s->nip6 == 0)
		return 0; /* an internal jail: loopback only */
	char ifn[IFNAMSIZ], path[128];
	host_ifname(c, slot, ifn);
	int nl = nl_open(e);
	if (nl < 0)
		return -1;
	nl_link_del(nl, ifn, NULL); /* a leftover of a crashed start */
	int r = nl_veth_create(nl, ifn, "eth0", pid1, e);
	int idx = r == 0 ? (int)if_nametoindex(ifn) : 0;
	if (r == 0 && idx == 0)
		r = err_errno(e, "finding %s", ifn);
	if (r == 0) {
		/* strict reverse-path filtering: the jail cannot send from an address it was not given */
		snprintf(path, sizeof path, "/proc/sys/net/ipv4/conf/%s/rp_filter", ifn);
		write_str_file(path, "1");
		snprintf(path, sizeof path, "/proc/sys/net/ipv6/conf/%s/accept_ra", ifn);
		write_str_file(path, "0");
		r = nl_addr_add(nl, idx, AF_INET, gw4, 32, e);
	}
	if (r == 0 && s->nip6)
		r = nl_addr_add(nl, idx, AF_INET6, gw6, 64, e);
	if (r == 0)
		r = nl_link_up(nl, idx, e);
	for (int i = 0; r == 0 && i < s->nip4; i++)
		r = nl_route_add(nl, AF_INET, &s->ip4[i], 32, NULL, idx, e);
	for (int i = 0; r == 0 && i < s->nip6; i++)
		r = nl_route_add(nl, AF_INET6, s->ip6[i], 128, NULL, idx, e);
	if (r)
		nl_link_del(nl, ifn, NULL);
	close(nl);
	return r;
}

static void cleanup_runtime(struct priv_ctx *c, const char *name, uint32_t slot, bool have_slot)
{
	struct err e = { 0 };
	if (have_slot) {
		char ifn[IFNAMSIZ];
		host_ifname(c, slot, ifn);
		int nl = nl_open(&e);
		if (nl >= 0) {
			nl_link_del(nl, ifn, NULL);
			close(nl);
		}
	}
	if (CG(c)->ops->destroy(CG(c), name, &e))
		log_warn("jail %s: %s", name, e.msg);
	runrec_remove(c->jails_fd, name);
}

static int wait_pidfd(int pidfd, int ms)
{
	struct pollfd p = { .fd = pidfd, .events = POLLIN };
	int r;
	do
		r = poll(&p, 1, ms);
	while (r < 0 && errno == EINTR);
	return r; /* 1: exited, 0: timed out */
}

/* fork(), or with a cgroup descriptor clone3(CLONE_INTO_CGROUP): the child starts in
 * that group, with no migration (and none of its cost) afterwards. */
static pid_t fork_into_cgroup(int cg_fd)
{
	if (cg_fd < 0)
		return fork();
	struct clone_args args = { .flags = CLONE_INTO_CGROUP, .exit_signal = SIGCHLD, .cgroup = (uint64_t)cg_fd };
	return (pid_t)syscall(SYS_clone3, &args, sizeof args);
}

static int linux_start(struct priv_ctx *c, const struct req_spec *r, struct reply *out, struct err *e)
{
	const struct jail_spec *s = &r->spec;
	struct runrec rec;
	struct rootfs_plan plan = { .root_tree = -1, .spec = s };
	int jail_fd = -1, files_fd = -1, template_fd = -1, userns_fd = -1, cg_fd = -1, src_fds[MOUNTS_MAX];
	int sock[2] = { -1, -1 };
	int rc = -1;
	for (int i = 0; i < MOUNTS_MAX; i++)
		plan.mount_trees[i] = src_fds[i] = -1;
	if (runrec_alive(c->jails_fd, s->name, &rec))
		return err_set(e, ERR_WRONG_STATE, "jail %s is already running (pid %d)", s->name, (int)rec.pid);
	if ((jail_fd = open_jail_dir(c, s->name, e)) < 0)
		return -1;
	/* a disk of its own (limits.disk) is mounted first, and grown if the spec grew */
	if ((disk_size(jail_fd) && s->limits.disk > 0 && disk_grow(jail_fd, s->limits.disk, false, e)) ||
	    (files_fd = disk_files(jail_fd, e)) < 0)
		goto out;
	plan.disk = disk_size(jail_fd) > 0;
	if (slot_owns_files(c, files_fd, r->slot, &plan.thin, e) || check_mounts(c, s, src_fds, e))
		goto out;
	plan.base = slot_uid(c, r->slot);
	plan.pty_max = c->pty_max;
	struct stat jst;
	if (fstat(jail_fd, &jst) < 0) {
		err_errno(e, "stat jail %s", s->name);
		goto out;
	}
	plan.jail_dev = jst.st_dev;
	plan.jail_ino = jst.st_ino;
	snprintf(plan.jail_path, sizeof plan.jail_path, "%s/jails/%s", c->data_dir, s->name);
	if (plan.thin) {
		template_fd = openat(c->templates_fd, s->tmpl, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (template_fd < 0) {
			err_field(e, ERR_INVALID, "template", "template %s does not exist on this host", s->tmpl);
			goto out;
		}
		if ((userns_fd = idmap_userns(plan.base, e)) < 0 ||
		    (plan.root_tree = rootfs_clone_tree(template_fd, MOUNT_ATTR_IDMAP | MOUNT_ATTR_RDONLY | MOUNT_ATTR_NODEV, userns_fd, "the template", e)) < 0)
			goto out;
	} else {
		int root = openat(files_fd, "root", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		plan.root_tree = root < 0 ? err_errno(e, "opening the jail's root") : rootfs_clone_tree(root, MOUNT_ATTR_NODEV, -1, "the jail's root", e);
		if (root >= 0)
			close(root);
		if (plan.root_tree < 0)
			goto out;
	}
	for (uint32_t i = 0; i < s->nmounts; i++) {
		struct stat mst;
		uint64_t attrs = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | (s->mounts[i].readonly ? MOUNT_ATTR_RDONLY : 0);
		if (fstat(src_fds[i], &mst) < 0 || (plan.mount_trees[i] = rootfs_clone_tree(src_fds[i], attrs, -1, s->mounts[i].source, e)) < 0) {
			if (!e->msg[0])
				err_errno(e, "mount source %s", s->mounts[i].source);
			goto out;
		}
		plan.mount_is_dir[i] = S_ISDIR(mst.st_mode);
	}
	cleanup_runtime(c, s->name, r->slot, true); /* whatever a crashed start left */
	if (CG(c)->ops->create(CG(c), s->name, e) || CG(c)->ops->set_limits(CG(c), s->name, &s->limits, e))
		goto out;
	if (CG(c)->ops->open_dir && (cg_fd = CG(c)->ops->open_dir(CG(c), s->name, e)) < 0)
		goto out;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sock) < 0) {
		err_errno(e, "socketpair");
		goto out;
	}
	pid_t c1 = fork();
	if (c1 < 0) {
		err_errno(e, "fork");
		goto out;
	}
	if (c1 == 0) {
		/* first child: makes the host-owned namespaces, forks PID 1 and leaves, so the
		 * jail is nobody's child but the subreaper's */
		struct err ce = { 0 };
		priv_close_inherited();
		close(sock[0]);
		setsid();
		if (unshare(CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC) < 0) {
			err_errno(&ce, "making the jail's namespaces");
			child_fail(sock[1], &ce);
		}
		pid_t init = fork_into_cgroup(cg_fd);
		if (init < 0) {
			err_errno(&ce, "fork");
			child_fail(sock[1], &ce);
		}
		if (init == 0)
			jail_init(sock[1], &plan, s);
		int32_t p = init;
		_exit(write(sock[1], &p, sizeof p) == sizeof p ? 0 : 1);
	}
	close(sock[1]);
	sock[1] = -1;
	waitpid(c1, NULL, 0);

	char buf[1 + sizeof e->msg];
	int32_t pid1 = 0;
	ssize_t n = read(sock[0], buf, sizeof buf);
	if (n == sizeof pid1)
		memcpy(&pid1, buf, sizeof pid1);
	else {
		if (n > 1 && buf[0] == 'E')
			err_set(e, ERR_INTERNAL, "starting jail %s: %.*s", s->name, (int)(n - 1), buf + 1);
		else
			err_set(e, ERR_INTERNAL, "starting jail %s: its first process died", s->name);
		goto fail;
	}
	/* v1: into the jail's cgroup while PID 1 builds its root: the first migration
	 * after a quiet spell waits out an RCU grace period (~10 ms), which is thus spent
	 * in parallel; PID 1 runs nothing of the jail's before 'G'. v2: born there. */
	if (cg_fd < 0 && CG(c)->ops->attach(CG(c), s->name, pid1, e))
		goto kill;
	n = read(sock[0], buf, sizeof buf);
	if (n != 1 || buf[0] != 'U') {
		if (n > 1 && buf[0] == 'E')
			err_set(e, ERR_INTERNAL, "starting jail %s: %.*s", s->name, (int)(n - 1), buf + 1);
		else
			err_set(e, ERR_INTERNAL, "starting jail %s: its first process died while building its root", s->name);
		goto kill;
	}
	if (write_map(pid1, "uid_map", plan.base, e) || write_map(pid1, "gid_map", plan.base, e) ||
	    host_net(c, s, r->slot, pid1, e))
		goto kill;
	/* the start time is read before the jail runs its command and before 'G', so
	 * nothing but the jail's PID 1 can be recorded */
	rec = (struct runrec){ .pid = pid1, .starttime = proc_starttime(pid1), .slot = r->slot, .allow = s->allow };
	if (write(sock[0], "G", 1) != 1) {
		err_errno(e, "releasing jail %s", s->name);
		goto kill;
	}
	n = read(sock[0], buf, sizeof buf);
	if (n != 0) {
		if (n > 1 && buf[0] == 'E')
			err_set(e, ERR_INVALID, "starting jail %s: %.*s", s->name, (int)(n - 1), buf + 1);
		else
			err_set(e, ERR_INTERNAL, "starting jail %s failed", s->name);
		goto kill;
	}
	if (rec.starttime == 0 || runrec_write(c->jails_fd, s->name, &rec) < 0) {
		err_errno(e, "recording jail %s (it exited at once?)", s->name);
		goto kill;
	}
	out->pid = pid1;
	out->running = 1;
	rc = 0;
	goto out;
kill:
	kill(pid1, SIGKILL);
fail:
	/* wait for the jail's processes to be gone before removing its cgroup */
	for (int i = 0; i < 200; i++) {
		pid_t pids[4];
		if (CG(c)->ops->procs(CG(c), s->name, pids, 4) <= 0)
			break;
		struct timespec ts = { 0, 10 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	cleanup_runtime(c, s->name, r->slot, true);
out:
	for (uint32_t i = 0; i < MOUNTS_MAX; i++) {
		if (src_fds[i] >= 0)
			close(src_fds[i]);
		if (plan.mount_trees[i] >= 0)
			close(plan.mount_trees[i]);
	}
	if (plan.root_tree >= 0)
		close(plan.root_tree);
	if (jail_fd >= 0)
		close(jail_fd);
	if (files_fd >= 0)
		close(files_fd);
	if (template_fd >= 0)
		close(template_fd);
	if (userns_fd >= 0)
		close(userns_fd);
	if (cg_fd >= 0)
		close(cg_fd);
	if (sock[0] >= 0)
		close(sock[0]);
	return rc;
}

/* ---- joining a running jail (exec, stop_command, console) ---- */

static const char *const ns_order[] = { "mnt", "pid", "ipc", "cgroup", "user", "uts", "net" };
#define NNS (sizeof ns_order / sizeof *ns_order)

/* What runs once inside: exec's argv on three passed descriptors, or (pty >= 0) a
 * console: jail root's login shell on a new terminal whose master goes up pty. */
struct jail_entry {
	const struct argv_buf *argv;
	const int *stdio;
	int pty;
	unsigned short rows, cols;
	uint8_t allow; /* the jail's ALLOW_* bits, for its seccomp filter */
};

/* The login shell /etc/passwd names for root, if it is an absolute path that exists;
 * /bin/sh otherwise. Runs inside the jail, as jail root: the file is the jail's own. */
static void root_shell(char *buf, size_t size)
{
	snprintf(buf, size, "/bin/sh");
	FILE *f = fopen("/etc/passwd", "re");
	char line[512];
	while (f && fgets(line, sizeof line, f)) {
		if (strncmp(line, "root:", 5) != 0)
			continue;
		char *sh = strrchr(line, ':');
		sh[strcspn(sh, "\r\n")] = '\0';
		if (sh[1] == '/' && strlen(sh + 1) < size && access(sh + 1, X_OK) == 0)
			snprintf(buf, size, "%s", sh + 1);
		break;
	}
	if (f)
		fclose(f);
}

/* In the jail, as jail root: a terminal from the jail's devpts, this process its
 * session leader with the slave as controlling terminal and stdio; the master goes up
 * the socket, then exec. TIOCGPTPEER opens the slave without a path lookup. */
static int console_setup(const struct jail_entry *en)
{
	int m = open("/dev/pts/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	int unlock = 0;
	if (m < 0 || ioctl(m, TIOCSPTLCK, &unlock) < 0 || setsid() < 0)
		return -1;
	int sl = ioctl(m, TIOCGPTPEER, O_RDWR | O_NOCTTY);
	struct winsize ws = { .ws_row = en->rows, .ws_col = en->cols };
	if (sl < 0 || ioctl(sl, TIOCSCTTY, 0) < 0 || ioctl(m, TIOCSWINSZ, &ws) < 0)
		return -1;
	if (dup2(sl, 0) < 0 || dup2(sl, 1) < 0 || dup2(sl, 2) < 0 || fd_pass(en->pty, m) < 0)
		return -1;
	close(m);
	return 0;
}

static const char *const console_env[] = {
	"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
	"HOME=/root",
	"USER=root",
	"LOGNAME=root",
	"TERM=xterm-256color",
	"container=jaild",
	NULL, /* SHELL= */
	NULL,
};

static void exec_inside(const struct jail_entry *en)
{
	if (en->pty < 0) {
		char *argv[ARGV_MAX + 1];
		argv_unpack(en->argv, argv);
		execve(argv[0], argv, (char **)jail_env);
		return;
	}
	char shell[256], arg0[258], envsh[270];
	const char *env[sizeof console_env / sizeof *console_env];
	memcpy(env, console_env, sizeof env);
	root_shell(shell, sizeof shell);
	snprintf(arg0, sizeof arg0, "-%s", strrchr(shell, '/') + 1); /* a login shell */
	snprintf(envsh, sizeof envsh, "SHELL=%s", shell);
	env[sizeof console_env / sizeof *console_env - 2] = envsh;
	char *argv[] = { arg0, NULL };
	execve(shell, argv, (char **)env);
}

/* Runs en in the running jail of pid1. exec: waits up to timeout seconds and sets
 * *status to the exit code (128+signal when killed, 124 on timeout). console: returns
 * once the shell has started; the shell is then a child of the jail's PID 1. */
static int run_in_jail(struct priv_ctx *c, const char *name, pid_t pid1, unsigned long long start, const struct jail_entry *en,
		       unsigned timeout, int *status, bool *timed_out, struct err *e)
{
	int nsfd[NNS];
	char path[64];
	uint64_t capbnd;
	struct rlimit nofile;
	int rc = -1;
	for (size_t i = 0; i < NNS; i++)
		nsfd[i] = -1;
	for (size_t i = 0; i < NNS; i++) {
		snprintf(path, sizeof path, "/proc/%d/ns/%s", (int)pid1, ns_order[i]);
		if ((nsfd[i] = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
			err_errno(e, "opening %s", path);
			goto out;
		}
	}
	if (caps_bounding_of(pid1, &capbnd, e) || prlimit(pid1, RLIMIT_NOFILE, NULL, &nofile) < 0)
		goto out;
	/* the namespaces we opened are the jail's only if its PID 1 is still the same process */
	if (proc_starttime(pid1) != start) {
		err_set(e, ERR_WRONG_STATE, "jail %s stopped", name);
		goto out;
	}
	pid_t x = fork();
	if (x < 0) {
		err_errno(e, "fork");
		goto out;
	}
	if (x == 0) {
		struct err ce = { 0 };
		priv_close_inherited();
		prctl(PR_SET_DUMPABLE, 0); /* no ptrace or /proc/PID access from the jail */
		if (CG(c)->ops->attach(CG(c), name, 0, &ce))
			_exit(126);
		/* host-owned namespaces first, while we are host root; then the jail's user
		 * namespace, which gives us power over its uts and net namespaces only */
		for (size_t i = 0; i < NNS; i++)
			if (setns(nsfd[i], 0) < 0)
				_exit(126);
		pid_t y = fork(); /* into the pid namespace */
		if (y < 0)
			_exit(126);
		if (y == 0) {
			/* a session of its own, without a controlling terminal: /dev/tty opens
			 * nothing, so no TIOCSTI into any terminal outside the jail (a console's
			 * shell makes its own session on the jail's terminal) */
			if ((en->pty < 0 && setsid() < 0) || setgroups(0, NULL) < 0 || setresgid(0, 0, 0) < 0 ||
			    setresuid(0, 0, 0) < 0)
				_exit(126);
			/* exec's command dies with us; a console's shell outlives us (the jail's
			 * PID 1 adopts it) and ends when its terminal is hung up */
			if (en->pty < 0)
				prctl(PR_SET_PDEATHSIG, SIGKILL);
			if (seccomp_jail(en->allow, &ce) || caps_restrict(capbnd, &ce) || setrlimit(RLIMIT_NOFILE, &nofile) < 0)
				_exit(126);
			if (en->pty >= 0 ? console_setup(en) < 0
					 : dup2(en->stdio[0], 0) < 0 || dup2(en->stdio[1], 1) < 0 || dup2(en->stdio[2], 2) < 0)
				_exit(126);
			syscall(SYS_close_range, 3, ~0U, 0);
			if (chdir("/root") < 0 && chdir("/") < 0)
				_exit(126);
			exec_inside(en);
			_exit(127);
		}
		if (en->pty >= 0)
			_exit(0);
		int st;
		while (waitpid(y, &st, 0) < 0)
			if (errno != EINTR)
				_exit(126);
		_exit(WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
	}
	int pfd = (int)syscall(SYS_pidfd_open, x, 0);
	int w = pfd >= 0 ? wait_pidfd(pfd, timeout ? (int)timeout * 1000 : -1) : 1;
	*timed_out = w == 0;
	if (w == 0)
		kill(x, SIGKILL); /* its child dies with it (PDEATHSIG) */
	if (pfd >= 0)
		close(pfd);
	int st;
	while (waitpid(x, &st, 0) < 0 && errno == EINTR)
		;
	*status = *timed_out ? 124 : WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	rc = 0;
out:
	for (size_t i = 0; i < NNS; i++)
		if (nsfd[i] >= 0)
			close(nsfd[i]);
	return rc;
}

static int linux_exec(struct priv_ctx *c, const struct req_exec *r, const int fds[3], struct reply *out, struct err *e)
{
	struct runrec rec;
	if (!runrec_alive(c->jails_fd, r->name, &rec))
		return err_set(e, ERR_WRONG_STATE, "jail %s is not running; start it first", r->name);
	bool timed_out = false;
	int status = 0;
	struct jail_entry en = { .argv = &r->argv, .stdio = fds, .pty = -1, .allow = rec.allow };
	if (run_in_jail(c, r->name, rec.pid, rec.starttime, &en, r->timeout, &status, &timed_out, e))
		return -1;
	out->exit_code = status;
	out->timed_out = timed_out;
	return 0;
}

/* The master arrives from code of ours that runs in the jail until its exec; it is
 * still checked to be a terminal master before it goes to jaild. */
static int linux_console(struct priv_ctx *c, const struct req_console *r, struct reply *out, int *master, struct err *e)
{
	struct runrec rec;
	if (!runrec_alive(c->jails_fd, r->name, &rec))
		return err_set(e, ERR_WRONG_STATE, "jail %s is not running; start it first", r->name);
	int sp[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
		return err_errno(e, "socketpair");
	struct jail_entry en = { .pty = sp[1], .rows = r->rows, .cols = r->cols, .allow = rec.allow };
	bool timed_out = false;
	int status = 0, rc = run_in_jail(c, r->name, rec.pid, rec.starttime, &en, 10, &status, &timed_out, e);
	close(sp[1]);
	if (rc == 0) {
		struct pollfd pf = { .fd = sp[0], .events = POLLIN };
		int m = poll(&pf, 1, 5000) == 1 ? fd_take(sp[0]) : -1;
		struct stat st;
		int ptn;
		if (m >= 0 && (fstat(m, &st) < 0 || !S_ISCHR(st.st_mode) || ioctl(m, TIOCGPTN, &ptn) < 0)) {
			close(m);
			m = -1;
		}
		if (m < 0)
			rc = err_set(e, ERR_INTERNAL, "the shell in jail %s could not open a terminal (status %d)", r->name, status);
		*master = m;
		out->pid = rec.pid;
	}
	close(sp[0]);
	return rc;
}

/* ---- stop ---- */

/* Whether pid (pinned by a pidfd the caller holds, so it cannot be reused meanwhile)
 * is in the jail's cgroup: its /proc/PID/cgroup names .../PARENT/NAME. */
static bool in_jail_cgroup(const struct priv_ctx *c, const char *name, pid_t pid)
{
	char path[64], line[512], want[NAME_SIZE + 40];
	snprintf(path, sizeof path, "/proc/%d/cgroup", (int)pid);
	int n = snprintf(want, sizeof want, "/%s/%s", CG(c)->parent, name);
	FILE *f = fopen(path, "re");
	bool found = false;
	while (f && !found && fgets(line, sizeof line, f)) {
		size_t len = strcspn(line, "\n");
		found = len >= (size_t)n && strncmp(line + len - (size_t)n, want, (size_t)n) == 0;
	}
	if (f)
		fclose(f);
	return found;
}

/* Signals every process in the jail's cgroup. A pid read from cgroup.procs may belong
 * to somebody else by the time it is signalled (the jail's process exited and the pid
 * was reused): each is pinned with a pidfd and checked to be in the jail's cgroup
 * before the signal goes through that pidfd. */
static void signal_all(struct priv_ctx *c, const char *name, int sig)
{
	pid_t pids[4096];
	long n = CG(c)->ops->procs(CG(c), name, pids, 4096);
	for (long i = 0; i < n; i++) {
		int pfd = (int)syscall(SYS_pidfd_open, pids[i], 0);
		if (pfd < 0)
			continue;
		if (in_jail_cgroup(c, name, pids[i]))
			syscall(SYS_pidfd_send_signal, pfd, sig, NULL, 0);
		close(pfd);
	}
}

static int linux_stop(struct priv_ctx *c, const struct req_stop *r, struct err *e)
{
	struct runrec rec = { 0 };
	if (!runrec_alive(c->jails_fd, r->name, &rec)) {
		/* already down: still take away anything it left */
		cleanup_runtime(c, r->name, rec.slot, rec.slot < c->max_slots && rec.pid > 0);
		return 0;
	}
	int pfd = (int)syscall(SYS_pidfd_open, rec.pid, 0);
	if (pfd < 0)
		return err_errno(e, "pidfd_open of jail %s", r->name);
	if (proc_starttime(rec.pid) != rec.starttime) {
		close(pfd);
		cleanup_runtime(c, r->name, rec.slot, true);
		return 0;
	}
	if (r->stop_command.argc > 0) {
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);
		int fds[3] = { null, null, null };
		int status;
		bool to;
		struct err ignored = { 0 };
		struct jail_entry en = { .argv = &r->stop_command, .stdio = fds, .pty = -1, .allow = rec.allow };
		if (null >= 0) {
			if (run_in_jail(c, r->name, rec.pid, rec.starttime, &en, r->timeout ? r->timeout : 1,
					&status, &to, &ignored))
				log_warn("jail %s: stop_command: %s", r->name, ignored.msg);
			close(null);
		}
	}
	signal_all(c, r->name, SIGTERM);
	if (wait_pidfd(pfd, (int)r->timeout * 1000) == 0) {
		log_info("jail %s: still running %us after SIGTERM; sending SIGKILL", r->name, r->timeout);
		/* SIGKILL to a pid namespace's init ends every process in it */
		syscall(SYS_pidfd_send_signal, pfd, SIGKILL, NULL, 0);
		wait_pidfd(pfd, 10000);
	}
	close(pfd);
	for (int i = 0; i < 500; i++) {
		pid_t pids[4];
		if (CG(c)->ops->procs(CG(c), r->name, pids, 4) <= 0)
			break;
		/* whatever is left: the cgroup's own kill on v2 (every process, atomically),
		 * pinned and checked signals on v1 */
		if (i == 100 && CG(c)->ops->kill(CG(c), r->name) < 0)
			signal_all(c, r->name, SIGKILL);
		struct timespec ts = { 0, 10 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	cleanup_runtime(c, r->name, rec.slot, true);
	return 0;
}

/* ---- files ---- */

static bool slot_in_use(struct priv_ctx *c, uid_t uid)
{
	int fd = dup(c->jails_fd);
	if (fd < 0)
		return true;
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return true;
	}
	rewinddir(d); /* the dup shares its offset with the original */
	bool used = false;
	struct dirent *de;
	char p[300];
	while (!used && (de = readdir(d))) {
		if (!valid_name(de->d_name))
			continue;
		struct stat st;
		snprintf(p, sizeof p, "%s/upper", de->d_name);
		if (fstatat(c->jails_fd, p, &st, AT_SYMLINK_NOFOLLOW) == 0 && st.st_uid == uid)
			used = true;
		snprintf(p, sizeof p, "%s/root", de->d_name);
		if (fstatat(c->jails_fd, p, &st, AT_SYMLINK_NOFOLLOW) == 0 && st.st_uid == uid)
			used = true;
		snprintf(p, sizeof p, "%s/disk.img", de->d_name); /* its files are on a disk of their own */
		if (fstatat(c->jails_fd, p, &st, AT_SYMLINK_NOFOLLOW) == 0 && st.st_uid == uid)
			used = true;
	}
	closedir(d);
	return used;
}

static int linux_create(struct priv_ctx *c, const struct req_spec *r, struct err *e)
{
	const struct jail_spec *s = &r->spec;
	uid_t base = slot_uid(c, r->slot);
	int tfd = openat(c->templates_fd, s->tmpl, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (tfd < 0)
		return err_field(e, ERR_INVALID, "template", "template %s does not exist on this host", s->tmpl);
	if (slot_in_use(c, base)) {
		close(tfd);
		return err_field(e, ERR_CONFLICT, "slot", "slot %u already owns another jail's files", r->slot);
	}
	if (mkdirat(c->jails_fd, s->name, 0700) < 0) {
		close(tfd);
		return errno == EEXIST ? err_field(e, ERR_CONFLICT, "name", "files of a jail named %s already exist on this host", s->name)
				       : err_errno(e, "creating jail %s", s->name);
	}
	int jd = openat(c->jails_fd, s->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC), files = -1;
	int rc = jd < 0 ? err_errno(e, "opening jail %s", s->name) : 0;
	if (rc == 0 && (mkdirat(jd, "mnt", 0700) < 0 || mkdirat(jd, "lower", 0700) < 0))
		rc = err_errno(e, "creating jail %s", s->name);
	/* limits.disk: the jail's own files go on a disk of that size */
	if (rc == 0 && s->limits.disk > 0)
		rc = disk_create(jd, s->limits.disk, base, e);
	if (rc == 0 && (files = disk_files(jd, e)) < 0)
		rc = -1;
	if (rc == 0 && s->type == JAIL_THIN) {
		if (mkdirat(files, "work", 0700) < 0 || mkdirat(files, "upper", 0755) < 0 ||
		    fchownat(files, "upper", base, base, AT_SYMLINK_NOFOLLOW) < 0)
			rc = err_errno(e, "creating jail %s", s->name);
	} else if (rc == 0) {
		/* thick: its own copy, owned by its own uid range */
		int root = -1;
		if (mkdirat(files, "root", 0700) < 0 || (root = openat(files, "root", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
			rc = err_errno(e, "creating jail %s", s->name);
		else
			rc = copy_tree_shift(tfd, root, base, NULL, e);
		if (root >= 0)
			close(root);
	}
	if (files >= 0)
		close(files);
	if (rc && jd >= 0)
		disk_unmount(jd);
	if (jd >= 0)
		close(jd);
	close(tfd);
	if (rc) {
		struct err ignored;
		rm_tree(c->jails_fd, s->name, &ignored);
	}
	return rc;
}

/* ---- snapshots: FILES/snapshots/SNAP/LAYER, LAYER being the jail's own files
 * ("upper", a thin jail's private layer; "root", a thick jail's whole tree), FILES where
 * those live: the jail's directory, or its disk (limits.disk), where the disk's size
 * bounds the snapshots too. Copies keep holes. ---- */

/* jd: the jail's directory (snapshots live there); files: where its own files are
 * (jd itself, or its disk when it has limits.disk). */
static int open_layer(struct priv_ctx *c, const char *name, int *jd, int *files, const char **layer, struct err *e)
{
	if ((*jd = open_jail_dir(c, name, e)) < 0)
		return -1;
	if ((*files = disk_files(*jd, e)) < 0) {
		close(*jd);
		return -1;
	}
	struct stat st;
	*layer = fstatat(*files, "upper", &st, AT_SYMLINK_NOFOLLOW) == 0 ? "upper" : "root";
	return 0;
}

static int open_dir_at(int at, const char *name)
{
	return openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

/* File work for a running jail (snapshots, exports) runs in the jail's own cgroup: its
 * CPU, memory and processes count against the jail's limits and its low weight, not
 * against the helper every tenant shares. This worker exits after the one operation. */
static void work_in_jail_cgroup(struct priv_ctx *c, const char *name)
{
	struct runrec rec;
	struct err ignored;
	if (runrec_alive(c->jails_fd, name, &rec))
		CG(c)->ops->attach(CG(c), name, 0, &ignored);
}

static int linux_snap_create(struct priv_ctx *c, const struct req_snap *r, struct reply *out, struct err *e)
{
	int jd, files;
	const char *layer;
	if (open_layer(c, r->name, &jd, &files, &layer, e))
		return -1;
	work_in_jail_cgroup(c, r->name);
	int rc = -1, snaps = -1, dir = -1, src = -1, dst = -1;
	if (mkdirat(files, "snapshots", 0700) < 0 && errno != EEXIST) {
		err_errno(e, "creating the snapshots of %s", r->name);
		goto out;
	}
	if ((snaps = open_dir_at(files, "snapshots")) < 0) {
		err_errno(e, "opening the snapshots of %s", r->name);
		goto out;
	}
	if (mkdirat(snaps, r->snap, 0700) < 0) {
		if (errno == EEXIST)
			err_field(e, ERR_CONFLICT, "name", "jail %s already has a snapshot named %s", r->name, r->snap);
		else
			err_errno(e, "creating snapshot %s", r->snap);
		goto out;
	}
	if ((dir = open_dir_at(snaps, r->snap)) < 0 || mkdirat(dir, layer, 0700) < 0 || (dst = open_dir_at(dir, layer)) < 0 ||
	    (src = open_dir_at(files, layer)) < 0) {
		err_errno(e, "preparing snapshot %s", r->snap);
	} else {
		rc = copy_tree_shift(src, dst, 0, &out->bytes, e);
	}
	if (rc < 0 && dir >= 0) {
		struct err ignored;
		rm_tree(snaps, r->snap, &ignored);
	}
out:
	for (int *f = (int[]){ jd, files, snaps, dir, src, dst }, i = 0; i < 6; i++)
		if (f[i] >= 0)
			close(f[i]);
	return rc;
}

/* The snapshot is copied next to the jail's files, then swapped in by rename: a failure
 * part-way leaves the jail as it was. */
static int linux_snap_restore(struct priv_ctx *c, const struct req_snap *r, struct err *e)
{
	int jd, files;
	const char *layer;
	struct runrec rec;
	if (runrec_alive(c->jails_fd, r->name, &rec))
		return err_set(e, ERR_WRONG_STATE, "jail %s is running; stop it before restoring a snapshot", r->name);
	if (open_layer(c, r->name, &jd, &files, &layer, e))
		return -1;
	char from[NAME_SIZE + 32];
	snprintf(from, sizeof from, "snapshots/%s/%s", r->snap, layer);
	int src = openat(files, from, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC), dst = -1, rc = -1;
	struct err ignored;
	if (src < 0) {
		err_set(e, ERR_NOT_FOUND, "jail %s has no snapshot named %s", r->name, r->snap);
		goto out;
	}
	rm_tree(files, "restore.new", &ignored);
	rm_tree(files, "restore.old", &ignored);
	if (mkdirat(files, "restore.new", 0700) < 0 || (dst = open_dir_at(files, "restore.new")) < 0) {
		err_errno(e, "preparing the restore of %s", r->name);
		goto out;
	}
	if (copy_tree_shift(src, dst, 0, NULL, e) < 0) {
		rm_tree(files, "restore.new", &ignored);
		goto out;
	}
	if (renameat(files, layer, files, "restore.old") < 0 || renameat(files, "restore.new", files, layer) < 0) {
		err_errno(e, "swapping in the snapshot of %s", r->name);
		renameat(files, "restore.old", files, layer);
		goto out;
	}
	rm_tree(files, "restore.old", &ignored);
	/* overlayfs wants its work directory empty of another upper's leftovers */
	if (strcmp(layer, "upper") == 0 && (rm_tree(files, "work", e) < 0 || mkdirat(files, "work", 0700) < 0)) {
		err_errno(e, "resetting the work directory of %s", r->name);
		goto out;
	}
	rc = 0;
out:
	if (src >= 0)
		close(src);
	if (dst >= 0)
		close(dst);
	close(files);
	close(jd);
	return rc;
}

static int linux_snap_delete(struct priv_ctx *c, const struct req_snap *r, struct err *e)
{
	int jd, files;
	const char *layer;
	if (open_layer(c, r->name, &jd, &files, &layer, e))
		return -1;
	int snaps = open_dir_at(files, "snapshots"), rc;
	struct stat st;
	if (snaps < 0 || fstatat(snaps, r->snap, &st, AT_SYMLINK_NOFOLLOW) < 0)
		rc = err_set(e, ERR_NOT_FOUND, "jail %s has no snapshot named %s", r->name, r->snap);
	else
		rc = rm_tree(snaps, r->snap, e);
	if (snaps >= 0)
		close(snaps);
	close(files);
	close(jd);
	return rc;
}

/* ---- export and import: jail.json and files/ (the private layer of a thin jail, the
 * whole tree of a thick one) with owners as the jail sees them ---- */

static int linux_export(struct priv_ctx *c, const struct req_export *r, int fd, struct err *e)
{
	int jd, files;
	const char *layer;
	if (open_layer(c, r->name, &jd, &files, &layer, e))
		return -1;
	work_in_jail_cgroup(c, r->name);
	int src = open_dir_at(files, layer), rc;
	struct stat st;
	if (src < 0 || fstat(src, &st) < 0)
		rc = err_errno(e, "opening the files of %s", r->name);
	else /* the layer's owner is the jail's root: its uid range's base */
		rc = tar_pack(src, fd, st.st_uid, "files/", "jail.json", r->spec, e);
	if (src >= 0)
		close(src);
	close(files);
	close(jd);
	return rc;
}

static int linux_import(struct priv_ctx *c, const struct req_import *r, int fd, struct err *e)
{
	uid_t base = slot_uid(c, r->slot);
	if (slot_in_use(c, base))
		return err_field(e, ERR_CONFLICT, "slot", "slot %u already owns another jail's files", r->slot);
	if (mkdirat(c->jails_fd, r->name, 0700) < 0)
		return errno == EEXIST ? err_field(e, ERR_CONFLICT, "name", "files of a jail named %s already exist on this host", r->name)
				       : err_errno(e, "creating jail %s", r->name);
	int jd = open_dir_at(c->jails_fd, r->name), files = -1, dst = -1;
	const char *layer = r->thin ? "upper" : "root";
	int rc = jd < 0 || mkdirat(jd, "mnt", 0700) < 0 || mkdirat(jd, "lower", 0700) < 0 ? err_errno(e, "creating jail %s", r->name) : 0;
	if (rc == 0 && r->disk > 0)
		rc = disk_create(jd, r->disk, base, e);
	if (rc == 0 && (files = disk_files(jd, e)) < 0)
		rc = -1;
	if (rc == 0 && ((r->thin && mkdirat(files, "work", 0700) < 0) || mkdirat(files, layer, 0755) < 0 ||
			(dst = open_dir_at(files, layer)) < 0 || fchown(dst, base, base) < 0))
		rc = err_errno(e, "creating jail %s", r->name);
	if (rc == 0) {
		struct tar_in in = { .prefix = "files/", .shift = base, .whiteouts = r->thin != 0, .may_be_empty = true };
		rc = tar_unpack(fd, dst, &in, e);
	}
	for (int *f = (int[]){ dst, files }, i = 0; i < 2; i++)
		if (f[i] >= 0)
			close(f[i]);
	if (rc < 0) {
		struct err ignored;
		if (jd >= 0)
			disk_unmount(jd);
		rm_tree(c->jails_fd, r->name, &ignored);
	}
	if (jd >= 0)
		close(jd);
	return rc;
}

static int linux_destroy(struct priv_ctx *c, const char *name, struct err *e)
{
	struct runrec rec = { 0 };
	if (runrec_alive(c->jails_fd, name, &rec))
		return err_set(e, ERR_WRONG_STATE, "jail %s is running; stop it before destroying it", name);
	if (rec.pid > 0)
		cleanup_runtime(c, name, rec.slot, rec.slot < c->max_slots);
	else
		cleanup_runtime(c, name, 0, false);
	int jd = openat(c->jails_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (jd >= 0) {
		disk_unmount(jd);
		close(jd);
	}
	if (rm_tree(c->jails_fd, name, e))
		return -1;
	char p[NAME_SIZE + 8];
	snprintf(p, sizeof p, "%s.lock", name);
	unlinkat(c->jails_fd, p, 0);
	return 0;
}

static int linux_status(struct priv_ctx *c, const char *name, struct reply *out, struct err *e)
{
	struct runrec rec;
	(void)e;
	if (!runrec_alive(c->jails_fd, name, &rec)) {
		out->running = 0;
		return 0;
	}
	struct jail_usage u;
	struct err ignored;
	out->running = 1;
	out->pid = rec.pid;
	if (CG(c)->ops->usage(CG(c), name, &u, &ignored) == 0) {
		out->memory = u.memory;
		out->procs = u.procs;
		out->cpu_ns = u.cpu_ns;
	}
	return 0;
}

static int linux_set_limits(struct priv_ctx *c, const struct req_limits *r, struct err *e)
{
	struct runrec rec;
	if (r->limits.disk > 0) { /* grown now, running or not */
		int jd = open_jail_dir(c, r->name, e);
		int rc = jd < 0 ? -1 : disk_grow(jd, r->limits.disk, runrec_alive(c->jails_fd, r->name, &rec), e);
		if (jd >= 0)
			close(jd);
		if (rc < 0)
			return -1;
	}
	if (!runrec_alive(c->jails_fd, r->name, &rec))
		return 0; /* applied at the next start */
	if (r->limits.openfiles > 0) {
		struct rlimit rl = { (rlim_t)r->limits.openfiles, (rlim_t)r->limits.openfiles };
		if (prlimit(rec.pid, RLIMIT_NOFILE, &rl, NULL) < 0)
			return err_errno(e, "setting openfiles of jail %s", r->name);
	}
	return CG(c)->ops->set_limits(CG(c), r->name, &r->limits, e);
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(a, b);
}

static int linux_list(struct priv_ctx *c, const char *after, struct list_reply *out, struct err *e)
{
	int fd = dup(c->jails_fd);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	if (!d) {
		if (fd >= 0)
			close(fd);
		return err_errno(e, "listing jails");
	}
	rewinddir(d); /* the dup shares its offset with the original */
	/* keep the LIST_PAGE smallest names after `after`; one more tells "more" */
	static char names[LIST_PAGE + 1][NAME_SIZE];
	size_t n = 0;
	struct dirent *de;
	struct runrec rec;
	while ((de = readdir(d))) {
		if (!valid_name(de->d_name) || strcmp(de->d_name, after) <= 0)
			continue;
		if (!runrec_alive(c->jails_fd, de->d_name, &rec))
			continue;
		if (n == LIST_PAGE + 1) {
			qsort(names, n, NAME_SIZE, cmp_names);
			if (strcmp(de->d_name, names[LIST_PAGE]) >= 0)
				continue;
			n--;
		}
		snprintf(names[n++], NAME_SIZE, "%.63s", de->d_name);
	}
	closedir(d);
	qsort(names, n, NAME_SIZE, cmp_names);
	out->more = n > LIST_PAGE;
	out->count = (uint32_t)(n > LIST_PAGE ? LIST_PAGE : n);
	memcpy(out->names, names, out->count * NAME_SIZE);
	return 0;
}

/* Cgroups and host interfaces that no running jail owns are what crashes leave. */
static int linux_sweep(struct priv_ctx *c, struct err *e)
{
	char dir[512];
	/* the slots of running jails, one bit each: every slot the uid range has */
	uint8_t *live = calloc(c->max_slots / 8 + 1, 1);
	int removed = 0;
	struct runrec rec;
	int fd = live ? dup(c->jails_fd) : -1;
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	if (!d) {
		if (fd >= 0)
			close(fd);
		free(live);
		return err_errno(e, "listing jails");
	}
	rewinddir(d); /* the dup shares its offset with the original */
	struct dirent *de;
	while ((de = readdir(d)))
		if (valid_name(de->d_name) && runrec_alive(c->jails_fd, de->d_name, &rec) && rec.slot < c->max_slots)
			live[rec.slot / 8] |= (uint8_t)(1u << (rec.slot % 8));
	closedir(d);
	CG(c)->ops->parent_dir(CG(c), dir, sizeof dir);
	d = opendir(dir);
	while (d && (de = readdir(d))) {
		if (!valid_name(de->d_name) || runrec_alive(c->jails_fd, de->d_name, &rec))
			continue;
		pid_t pids[1];
		if (CG(c)->ops->procs(CG(c), de->d_name, pids, 1) > 0)
			continue; /* not ours to judge: processes still in it */
		struct err ig;
		if (CG(c)->ops->destroy(CG(c), de->d_name, &ig) == 0) {
			log_info("sweep: removed the cgroup of stopped jail %s", de->d_name);
			removed++;
		}
	}
	if (d)
		closedir(d);
	struct if_nameindex *ifs = if_nameindex();
	int nl = nl_open(e);
	for (struct if_nameindex *i = ifs; ifs && nl >= 0 && i->if_index; i++) {
		unsigned slot;
		char tag[8], tail;
		if (sscanf(i->if_name, JAIL_IF_PREFIX "%4[0-9a-f]-%u%c", tag, &slot, &tail) != 2 || strcmp(tag, c->tag) != 0)
			continue; /* not one of this instance's */
		bool used = slot >= c->max_slots || (live[slot / 8] & (1u << (slot % 8)));
		if (!used && nl_link_del(nl, i->if_name, NULL) == 0) {
			log_info("sweep: removed interface %s of a stopped jail", i->if_name);
			removed++;
		}
	}
	if (nl >= 0)
		close(nl);
	if (ifs)
		if_freenameindex(ifs);
	free(live);
	(void)removed;
	return 0;
}

/* Whether this kernel takes the highest gid a jail's devpts would be given (older
 * kernels parse gid= as a signed int): tried once at start in a throwaway mount
 * namespace, so a range the kernel refuses is said plainly, not as a failed start. */
static int check_uid_range(struct priv_ctx *c, struct err *e)
{
	uint32_t top = slot_uid(c, c->max_slots - 1) + 5;
	pid_t pid = fork();
	if (pid < 0)
		return err_errno(e, "fork");
	if (pid == 0) {
		char opts[96];
		priv_close_inherited();
		snprintf(opts, sizeof opts, "newinstance,ptmxmode=0666,mode=0620,gid=%u", top);
		if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
			_exit(2);
		_exit(mount("devpts", c->data_dir, "devpts", MS_NOSUID | MS_NOEXEC, opts) < 0 ? (errno == EINVAL ? 1 : 2) : 0);
	}
	int st;
	if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st))
		return err_set(e, ERR_INTERNAL, "probing the uid range: the probe died");
	if (WEXITSTATUS(st) == 1)
		return err_set(e, ERR_INVALID,
			       "uid-base %u: this kernel refuses gid %u for a jail's devpts (its limit is lower than 2^31); "
			       "choose a lower uid-base",
			       c->uid_base, top);
	if (WEXITSTATUS(st) != 0)
		return err_set(e, ERR_INTERNAL, "probing the uid range: cannot mount devpts in a new mount namespace");
	return 0;
}

static int linux_init(struct priv_ctx *c, struct err *e)
{
	static struct linux_impl impl;
	c->impl = &impl;
	if (check_uid_range(c, e))
		return -1;
	char self[512] = "";
	snprintf(CG(c)->parent, sizeof CG(c)->parent, "jaild-%s", c->tag);
	FILE *f = fopen("/proc/self/cgroup", "re");
	while (f && fgets(self, sizeof self, f) && strncmp(self, "0::", 3) != 0)
		self[0] = '\0';
	if (f)
		fclose(f);
	/* systemd's own test for "booted with systemd" */
	bool systemd = access("/run/systemd/system", F_OK) == 0;
	if (cgroup_detect("/sys/fs/cgroup", self, c->cgroup_parent, systemd, CG(c), e) || CG(c)->ops->setup(CG(c), e))
		return -1;
	if (c->favordynmods) {
		char where[300];
		snprintf(where, sizeof where, "%s/cgroup-favordynmods", c->data_dir);
		if (cgroup_favor_dynmods(CG(c), where, e))
			return -1;
		log_info("cgroup favordynmods on: task migrations no longer wait for an RCU grace period");
	}
	if (firewall_setup(e))
		return -1;
	log_info("linux backend: cgroup %s under /%s%s%s, interfaces " JAIL_IF_PREFIX "%s-SLOT, firewall table inet jaild loaded",
		 CG(c)->ops->name, CG(c)->base, CG(c)->base[0] ? "/" : "", CG(c)->parent, c->tag);
	return 0;
}

/* jaild closed the connection: nothing of ours is left behind when no jail runs. */
static void linux_fini(struct priv_ctx *c)
{
	if (c->impl && CG(c)->ops)
		CG(c)->ops->teardown(CG(c));
}

const struct backend_ops linux_backend = {
	.name = "linux",
	.init = linux_init,
	.template_minimal = template_minimal,
	.create = linux_create,
	.start = linux_start,
	.stop = linux_stop,
	.exec = linux_exec,
	.console = linux_console,
	.snap_create = linux_snap_create,
	.snap_restore = linux_snap_restore,
	.snap_delete = linux_snap_delete,
	.export_tar = linux_export,
	.import_tar = linux_import,
	.template_tar = template_from_tar,
	.template_dir = template_from_dir,
	.template_delete = template_delete,
	.destroy = linux_destroy,
	.status = linux_status,
	.set_limits = linux_set_limits,
	.list = linux_list,
	.sweep = linux_sweep,
	.fini = linux_fini,
};
