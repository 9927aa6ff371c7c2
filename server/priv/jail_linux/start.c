/* start.c — the Linux backend's START: a jail's namespaces, root, cgroup and veth, and
 * its first process. */
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
#include "netfilter.h"
#include "shaping.h"
#include "uplink.h"
#include "fsutil.h"
#include "checks.h"
#include "lock.h"
#include "log.h"
#include "netlink.h"
#include "rootfs.h"
#include "../os.h"
#include "../runrec.h"
#include "seccomp.h"
#include "template.h"

static const uint8_t gw4[4] = { 169, 254, 0, 1 };
static const uint8_t gw6[16] = { 0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };

const char *const jail_env[] = {
	"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
	"HOME=/root",
	"USER=root",
	"LOGNAME=root",
	"SHELL=/bin/sh",
	"container=jaild",
	NULL,
};

void host_ifname(const struct priv_ctx *c, uint32_t slot, char buf[IFNAMSIZ])
{
	snprintf(buf, IFNAMSIZ, JAIL_IF_PREFIX "%.4s-%u", c->tag, slot);
}

int open_jail_dir(struct priv_ctx *c, const char *name, struct err *e)
{
	int fd = openat(c->jails_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? err_set(e, ERR_NOT_FOUND, "jail %s has no files on this host", name)
				       : err_errno(e, "opening jail %s", name);
	return fd;
}

/* The private layer is owned by the jail's root: that owner is what ties a jail's
 * files to its uid range, so a slot that does not match it is refused. */
int slot_owns_files(struct priv_ctx *c, int jail_fd, uint32_t slot, bool *thin, struct err *e)
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
/* The idmap user namespace's holder: it only waits to be killed. It shares the
 * worker's memory, on a stack of its own: nothing instrumented may run on it. */
__attribute__((no_sanitize_address)) static int hold_userns(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return 0;
}

/* A user namespace mapping 0.. to base.., for the idmapped template: a child is born
 * in it (clone with CLONE_VM, so nothing of the worker is copied) and waits while its
 * maps are written and the namespace is opened, then is killed. */
static int idmap_userns(uid_t base, struct err *e)
{
	static char stack[16384] __attribute__((aligned(16)));
	pid_t pid = clone(hold_userns, stack + sizeof stack, CLONE_NEWUSER | CLONE_VM | SIGCHLD, NULL);
	if (pid < 0)
		return err_errno(e, "making the idmap user namespace");
	char path[64], map[64];
	int fd = -1, len = snprintf(map, sizeof map, "0 %u %u\n", base, UID_RANGE), ok = 1;
	const char *files[] = { "uid_map", "gid_map" };
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
	if (fd < 0)
		err_errno(e, "making the idmap user namespace");
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return fd;
}

/* The jail's network and UTS namespaces, owned by its user namespace: made by a child
 * that joins that namespace and unshares them (clone with CLONE_VM, on a stack of its
 * own: nothing of the worker is copied), while PID 1 builds the jail's root on another
 * CPU. It reports on ready (0, or an errno) and waits to be killed. */
struct ns_maker {
	int userns, ready;
};

__attribute__((no_sanitize_address)) static int make_jail_ns(void *arg)
{
	const struct ns_maker *m = arg;
	/* raw calls: this child shares the worker's memory, errno included, and the
	 * worker reads nothing of it until "ready" says so */
	int err = 0;
	if (syscall(SYS_setns, m->userns, CLONE_NEWUSER) < 0 || syscall(SYS_unshare, CLONE_NEWNET | CLONE_NEWUTS) < 0)
		err = errno;
	syscall(SYS_write, m->ready, &err, sizeof err);
	for (;;)
		syscall(SYS_pause);
	return 0;
}

/* Starts the maker: *pid its pid (kill it once its namespaces are opened or used). */
static int jail_ns_begin(int userns_fd, pid_t *pid, int *ready, struct err *e)
{
	static char stack[16384] __attribute__((aligned(16)));
	static struct ns_maker m;
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return err_errno(e, "pipe");
	m = (struct ns_maker){ .userns = userns_fd, .ready = p[1] };
	*pid = clone(make_jail_ns, stack + sizeof stack, CLONE_VM | SIGCHLD, &m);
	if (*pid < 0) {
		close(p[0]), close(p[1]);
		return err_errno(e, "making the jail's network namespace");
	}
	close(p[1]);
	*ready = p[0];
	return 0;
}

/* Waits for the maker and opens its namespaces (fds[0] net, fds[1] uts). */
static int jail_ns_end(pid_t pid, int ready, int fds[2], struct err *e)
{
	int err = -1;
	ssize_t n = read(ready, &err, sizeof err);
	close(ready);
	fds[0] = fds[1] = -1;
	if (n != sizeof err || err != 0) {
		errno = n == sizeof err ? err : EIO;
		return err_errno(e, "making the jail's network namespace");
	}
	const char *kinds[] = { "net", "uts" };
	for (int i = 0; i < 2; i++) {
		char path[64];
		snprintf(path, sizeof path, "/proc/%d/ns/%s", (int)pid, kinds[i]);
		if ((fds[i] = open(path, O_RDONLY | O_CLOEXEC)) < 0)
			return err_errno(e, "opening the jail's %s namespace", kinds[i]);
	}
	return 0;
}

static void jail_ns_reap(pid_t *pid)
{
	if (*pid > 0) {
		kill(*pid, SIGKILL);
		waitpid(*pid, NULL, 0);
	}
	*pid = -1;
}

/* ---- the jail's first process ---- */

/* Messages on the start socket, each a packet of its own: worker -> PID 1 'G' with the
 * jail's user, network and UTS namespaces (its network ready, PID 1 in its cgroup);
 * PID 1 -> worker 'E'+text (failed). Success is the socket closing at execve (it is
 * close-on-exec). */
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

/* lxcfs answers at c->lxcfs (a FUSE mount, not the empty directory it leaves). */
static bool lxcfs_ready(const struct priv_ctx *c)
{
	struct statfs sf;
	char meminfo[300];
	snprintf(meminfo, sizeof meminfo, "%s/proc/meminfo", c->lxcfs);
	return c->lxcfs[0] && statfs(c->lxcfs, &sf) == 0 && sf.f_type == 0x65735546 /* FUSE_SUPER_MAGIC */ &&
	       access(meminfo, R_OK) == 0;
}

/* A jail limited to pcpu percent of one CPU runs on ceil(pcpu/100) CPUs, so nproc(1)
 * and what sizes itself by it (make -j, thread pools) see what it may use; the quota
 * is the limit, this is what it is told. Jails spread over the CPUs by slot. */
static void set_affinity(const struct jail_spec *s, uint32_t slot)
{
	cpu_set_t all, mine;
	if (s->limits.pcpu <= 0 || sched_getaffinity(0, sizeof all, &all) < 0)
		return;
	int have = CPU_COUNT(&all), want = (int)((s->limits.pcpu + 99) / 100);
	if (want >= have)
		return;
	int cpus[CPU_SETSIZE], n = 0;
	for (int i = 0; i < CPU_SETSIZE; i++)
		if (CPU_ISSET(i, &all))
			cpus[n++] = i;
	CPU_ZERO(&mine);
	for (int i = 0; i < want; i++)
		CPU_SET(cpus[(slot * (unsigned)want + (unsigned)i) % (unsigned)n], &mine);
	sched_setaffinity(0, sizeof mine, &mine);
}

/* The jail's /etc/resolv.conf, written as the jail's root (after the user namespace
 * is entered: whatever the jail made of its /etc, no write can reach the host), and
 * only where it is missing or is jaild's own: a customer's resolv.conf stays. */
static void write_resolv(const struct priv_ctx *c)
{
	static const char mark[] = "# written by jaild";
	if (c->net.ndns == 0)
		return;
	int fd = open("/etc/resolv.conf", O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0644);
	struct stat st;
	char head[sizeof mark];
	if (fd < 0)
		return;
	ssize_t n = pread(fd, head, sizeof mark - 1, 0);
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (n == 0 || (n == sizeof mark - 1 && memcmp(head, mark, n) == 0))) {
		char text[512];
		int len = snprintf(text, sizeof text, "%s from its dns setting; remove this line to keep a resolv.conf of your own\n", mark);
		for (int i = 0; i < c->net.ndns && len < (int)sizeof text; i++)
			len += snprintf(text + len, sizeof text - (size_t)len, "nameserver %s\n", c->net.dns[i]);
		if (len < (int)sizeof text && ftruncate(fd, 0) == 0 && pwrite(fd, text, (size_t)len, 0) != len)
			(void)0; /* a full or read-only root: the jail keeps what it has */
	}
	close(fd);
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
static void jail_init(const struct priv_ctx *c, int sock, const struct rootfs_plan *plan, const struct jail_spec *s, int log_fd)
{
	struct err e = { 0 };
	prctl(PR_SET_DUMPABLE, 0);
	setsid(); /* PID 1 leads its own session, with no controlling terminal */
	if (s->limits.openfiles > 0) {
		struct rlimit rl = { (rlim_t)s->limits.openfiles, (rlim_t)s->limits.openfiles };
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0) {
			err_errno(&e, "setting openfiles to %lld", (long long)s->limits.openfiles);
			child_fail(sock, &e);
		}
	}
	if (rootfs_enter(plan, &e))
		child_fail(sock, &e);
	set_affinity(s, (plan->base - c->uid_base) / UID_RANGE);
	/* the jail's namespaces, made by the worker meanwhile: its user namespace (whose
	 * maps are written), and the network and UTS namespaces that namespace owns */
	char go;
	int ns[PROTO_MAX_FDS], nns = 0;
	if (proto_recv_raw(sock, &go, 1, ns, &nns) != 1 || go != 'G' || nns != 3)
		_exit(1);
	if (setns(ns[0], CLONE_NEWUSER) < 0 || setns(ns[1], CLONE_NEWNET) < 0 || setns(ns[2], CLONE_NEWUTS) < 0) {
		err_errno(&e, "entering the jail's namespaces");
		child_fail(sock, &e);
	}
	for (int i = 0; i < nns; i++)
		close(ns[i]);
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
	if (s->nip4 || s->nip6)
		write_resolv(c);
	if (sethostname(s->hostname, strlen(s->hostname)) < 0) {
		err_errno(&e, "setting the hostname");
		child_fail(sock, &e);
	}
	/* the filter goes on while PID 1 still has every capability in the jail's user
	 * namespace (so no no_new_privs is needed: setuid programs inside keep working) */
	if (seccomp_jail(s->allow, &e) || caps_restrict(caps_for_jail(s->allow), &e))
		child_fail(sock, &e);
	/* stdin reads nothing; stdout and stderr go to the jail's log (jail_log_open) */
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null < 0 || dup2(null, 0) < 0 || dup2(log_fd >= 0 ? log_fd : null, 1) < 0 || dup2(log_fd >= 0 ? log_fd : null, 2) < 0) {
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

/* The jail's network as its rules see it. */
static void netrec_of(const struct jail_spec *s, uint32_t slot, struct netrec *r)
{
	memset(r, 0, sizeof *r);
	r->magic = NETREC_MAGIC;
	r->slot = slot;
	r->nip4 = s->nip4;
	r->nip6 = s->nip6;
	memcpy(r->ip4, s->ip4, sizeof r->ip4);
	memcpy(r->ip6, s->ip6, sizeof r->ip6);
	r->net = s->net;
}

static int host_net(struct priv_ctx *c, const struct jail_spec *s, uint32_t slot, pid_t pid1, struct err *e)
{
	if (s->nip4 == 0 && s->nip6 == 0)
		return 0; /* an internal jail: loopback only */
	char ifn[IFNAMSIZ];
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
		uplink_jail_if(ifn);
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
	/* its packet rules, forwards and bandwidth before its first process runs */
	struct netrec rec, stale;
	netrec_of(s, slot, &rec);
	if (r == 0)
		r = nf_jail_apply(c, s->name, netrec_read(c->jails_fd, s->name, &stale) ? &stale : NULL, &rec, e);
	if (r == 0)
		r = uplink_proxies(c, &rec, true, e);
	if (r == 0)
		r = shaping_set(ifn, s->net.bandwidth, 0, e);
	if (r)
		nl_link_del(nl, ifn, NULL);
	close(nl);
	return r;
}

void cleanup_runtime(struct priv_ctx *c, const char *name, uint32_t slot, bool have_slot)
{
	struct err e = { 0 };
	struct netrec net;
	if (netrec_read(c->jails_fd, name, &net)) {
		nf_jail_remove(c, name, &net);
		uplink_proxies(c, &net, false, &e);
	}
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

int wait_pidfd(int pidfd, int ms)
{
	struct pollfd p = { .fd = pidfd, .events = POLLIN };
	int r;
	do
		r = poll(&p, 1, ms);
	while (r < 0 && errno == EINTR);
	return r; /* 1: exited, 0: timed out */
}

/* The jail's PID 1, made by one clone: the first process of a new PID namespace, in
 * new mount and IPC namespaces, and (v2, cg_fd) born in the jail's cgroup. The worker
 * is single-threaded, so the raw call is as safe as fork(); when the worker exits, PID
 * 1 is the helper's (the subreaper's), like every jail's. */
static pid_t clone_jail_init(int cg_fd)
{
	struct clone_args args = { .flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | (cg_fd >= 0 ? CLONE_INTO_CGROUP : 0),
				   .exit_signal = SIGCHLD, .cgroup = cg_fd >= 0 ? (uint64_t)cg_fd : 0 };
	return (pid_t)syscall(SYS_clone3, &args, sizeof args);
}

int linux_start(struct priv_ctx *c, const struct req_spec *r, struct reply *out, struct err *e)
{
	const struct jail_spec *s = &r->spec;
	struct runrec rec;
	struct rootfs_plan plan = { .root_tree = -1, .spec = s };
	int jail_fd = -1, files_fd = -1, template_fd = -1, userns_fd = -1, cg_fd = -1, log_fd = -1, src_fds[MOUNTS_MAX];
	int sock[2] = { -1, -1 }, ready = -1;
	pid_t maker = -1;
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
	/* the log lies beside the jail's files (on its disk, when it has one), outside its
	 * root: the jail writes it through its stdout, and cannot reach it otherwise */
	log_fd = openat(files_fd, JAIL_LOG, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (slot_owns_files(c, files_fd, r->slot, &plan.thin, e) || check_mounts(c, s, src_fds, e))
		goto out;
	plan.base = slot_uid(c, r->slot);
	plan.pty_max = c->pty_max;
	plan.lxcfs = lxcfs_ready(c) ? c->lxcfs : NULL;
	struct stat jst;
	if (fstat(jail_fd, &jst) < 0) {
		err_errno(e, "stat jail %s", s->name);
		goto out;
	}
	plan.jail_dev = jst.st_dev;
	plan.jail_ino = jst.st_ino;
	snprintf(plan.jail_path, sizeof plan.jail_path, "%s/jails/%s", c->data_dir, s->name);
	/* the jail's user namespace, its maps written: the thin jail's template is
	 * idmapped through it, and PID 1 joins it */
	if ((userns_fd = idmap_userns(plan.base, e)) < 0)
		goto out;
	if (plan.thin) {
		template_fd = openat(c->templates_fd, s->tmpl, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (template_fd < 0) {
			err_field(e, ERR_INVALID, "template", "template %s does not exist on this host", s->tmpl);
			goto out;
		}
		if ((plan.root_tree = rootfs_clone_tree(template_fd, MOUNT_ATTR_IDMAP | MOUNT_ATTR_RDONLY | MOUNT_ATTR_NODEV, userns_fd, "the template", e)) < 0)
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
	/* the network namespace (the slow one to make) is made while PID 1 builds the
	 * jail's root: on two CPUs, in parallel */
	if (jail_ns_begin(userns_fd, &maker, &ready, e))
		goto out;
	pid_t pid1 = clone_jail_init(cg_fd);
	if (pid1 < 0) {
		err_errno(e, "making the jail's first process");
		goto out;
	}
	if (pid1 == 0) {
		priv_close_inherited();
		close(sock[0]);
		jail_init(c, sock[1], &plan, s, log_fd);
	}
	close(sock[1]);
	sock[1] = -1;
	/* v1: into the jail's cgroup while PID 1 builds its root: the first migration
	 * after a quiet spell waits out an RCU grace period (~10 ms), which is thus spent
	 * in parallel; PID 1 runs nothing of the jail's before 'G'. v2: born there. */
	if (cg_fd < 0 && CG(c)->ops->attach(CG(c), s->name, pid1, e))
		goto kill;
	/* its network: the veth's far end goes into the namespace the maker holds */
	int ns[3] = { userns_fd, -1, -1 };
	int made = jail_ns_end(maker, ready, ns + 1, e);
	ready = -1;
	if (made == 0 && host_net(c, s, r->slot, maker, e))
		made = -1;
	jail_ns_reap(&maker);
	/* the start time is read before the jail runs its command and before 'G', so
	 * nothing but the jail's PID 1 can be recorded */
	if (made == 0) {
		rec = (struct runrec){ .pid = pid1, .starttime = os_proc_starttime(pid1), .slot = r->slot, .allow = s->allow };
		if (proto_send_raw(sock[0], "G", 1, ns, 3) < 0)
			made = err_errno(e, "releasing jail %s", s->name);
	}
	for (int i = 1; i < 3; i++)
		if (ns[i] >= 0)
			close(ns[i]);
	char buf[1 + sizeof e->msg];
	ssize_t n;
	if (made) {
		/* PID 1 may have ended first, saying why (its root could not be built) */
		n = recv(sock[0], buf, sizeof buf, MSG_DONTWAIT);
		if (n > 1 && buf[0] == 'E')
			err_set(e, ERR_INTERNAL, "starting jail %s: %.*s", s->name, (int)(n - 1), buf + 1);
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
	waitpid(pid1, NULL, 0); /* the worker's child until the worker exits */
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
	if (log_fd >= 0)
		close(log_fd);
	if (template_fd >= 0)
		close(template_fd);
	if (userns_fd >= 0)
		close(userns_fd);
	if (cg_fd >= 0)
		close(cg_fd);
	if (sock[0] >= 0)
		close(sock[0]);
	if (ready >= 0)
		close(ready);
	jail_ns_reap(&maker);
	return rc;
}

