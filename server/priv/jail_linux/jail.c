/* jail.c — the Linux backend: jails from namespaces, an overlay or copied root,
 * cgroups and a veth pair.
 *
 * Who owns what. The jail's mount, pid, ipc and cgroup namespaces are made by host
 * root, so they belong to the host's user namespace: jail root has no capability over
 * them and can never mount, unmount or change IPC limits. Its uts and net namespaces
 * are made together with its user namespace, so jail root can be given sethostname
 * (allow.set_hostname) and raw sockets (allow.raw_sockets) by keeping the capability,
 * and loses them by dropping it. Jail uid 0 is host uid base (slot_uid): never root. */
/* jail.c holds the ops table, start-up, status, limits and the list; the phases
 * are in start.c, enter.c, stop.c, files.c and sweep.c. */
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
#include "netlink.h"
#include "shaping.h"
#include "uplink.h"
#include "fsutil.h"
#include "slots.h"
#include "checks.h"
#include "lock.h"
#include "log.h"
#include "netlink.h"
#include "rootfs.h"
#include "../runrec.h"
#include "seccomp.h"
#include "template.h"

/* The jail's log, by its directory: files_fd beside the jail's files, or -1. */
static int log_dir(struct priv_ctx *c, const char *name, struct err *e)
{
	int jd = open_jail_dir(c, name, e);
	if (jd < 0)
		return -1;
	int files = disk_files(jd, e);
	close(jd);
	return files;
}

/* A log past JAIL_LOG_KEEP bytes on disk gives back its oldest part: a hole punched
 * over it (the writer appends on; readers skip holes). Bounded by what the jail writes
 * between two checks (every few seconds), and by its disk when it has one. */
static void log_trim(struct priv_ctx *c, const char *name)
{
	struct err ignored;
	int files = log_dir(c, name, &ignored);
	if (files < 0)
		return;
	int fd = openat(files, JAIL_LOG, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	if (fd >= 0 && fstat(fd, &st) == 0 && (off_t)st.st_blocks * 512 > JAIL_LOG_KEEP && st.st_size > JAIL_LOG_KEEP / 2) {
		off_t upto = (st.st_size - JAIL_LOG_KEEP / 2) & ~(off_t)4095;
		if (upto > 0 && fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, upto) < 0)
			log_warn("jail %s: trimming its log: %s", name, strerror(errno));
	}
	if (fd >= 0)
		close(fd);
	close(files);
}

static int linux_log_open(struct priv_ctx *c, const char *name, int *out, struct err *e)
{
	int files = log_dir(c, name, e);
	if (files < 0)
		return -1;
	int rc = runrec_log_open(files, JAIL_LOG, name, out, e);
	close(files);
	return rc;
}

static int linux_status(struct priv_ctx *c, const char *name, struct reply *out, struct err *e)
{
	struct runrec rec;
	(void)e;
	if (!runrec_alive(c->jails_fd, name, &rec)) {
		runrec_exit_reply(c->jails_fd, name, out);
		return 0;
	}
	struct jail_usage u;
	struct err ignored;
	log_trim(c, name);
	out->running = 1;
	out->pid = rec.pid;
	if (CG(c)->ops->usage(CG(c), name, &u, &ignored) == 0) {
		out->memory = u.memory;
		out->procs = u.procs;
		out->cpu_ns = u.cpu_ns;
	}
	/* the host end of the veth: what it sends the jail receives */
	char ifn[IFNAMSIZ];
	host_ifname(c, rec.slot, ifn);
	int nl = nl_open(&ignored);
	if (nl >= 0) {
		nl_link_bytes(nl, ifn, &out->net_tx, &out->net_rx);
		close(nl);
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

static bool linux_alive(void *arg, const char *name)
{
	struct runrec rec;
	return runrec_alive(((struct priv_ctx *)arg)->jails_fd, name, &rec);
}

static int linux_list(struct priv_ctx *c, const char *after, struct list_reply *out, struct err *e)
{
	return runrec_list(c->jails_fd, after, linux_alive, c, out) < 0 ? err_errno(e, "listing jails") : 0;
}

/* Cgroups and host interfaces that no running jail owns are what crashes leave. */
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
	if (uplink_setup(c, e) || nf_setup(c, e))
		return -1;
	/* each jail's and template's tree is unrelated to the others: let the filesystem
	 * place them apart (not every filesystem can; nothing depends on it) */
	bool spread = spread_subdirs(c->jails_fd);
	spread_subdirs(c->templates_fd);
	if (slots_init(c, e))
		return -1;
	caps_init();
	struct err te = { 0 };
	if (tar_tool_init(&te))
		log_error("%s", te.msg);
	if (c->net.uplink[0])
		nf_foreign_drops(c);
	log_info("linux backend: cgroup %s under /%s%s%s, interfaces " JAIL_IF_PREFIX "%s-SLOT, packet rules in table inet jaild_%s, "
		 "uplink %s (IPv4 %s, IPv6 %s)%s",
		 CG(c)->ops->name, CG(c)->base, CG(c)->base[0] ? "/" : "", CG(c)->parent, c->tag, c->tag,
		 c->net.uplink[0] ? c->net.uplink : "none", c->net.routed4 ? "routed" : "nat", c->net.routed6 ? "routed" : "nat", spread ? ", jails' directories spread over the filesystem" : "");
	return 0;
}

/* A jail's first process ended: how goes beside its run record. */
static void linux_reaped(struct priv_ctx *c, pid_t pid, int status)
{
	runrec_reaped(c->jails_fd, pid, status);
}

static bool any_running(struct priv_ctx *c)
{
	DIR *d = dir_stream(c->jails_fd);
	struct dirent *de;
	struct runrec rec;
	bool any = false;
	while (d && !any && (de = readdir(d)))
		any = valid_name(de->d_name) && runrec_alive(c->jails_fd, de->d_name, &rec);
	if (d)
		closedir(d);
	return any;
}

/* jaild closed the connection: nothing of ours is left behind when no jail runs. */
static void linux_fini(struct priv_ctx *c)
{
	if (c->impl && CG(c)->ops)
		CG(c)->ops->teardown(CG(c));
	if (c->impl && !any_running(c)) {
		nf_teardown(c);
		uplink_restore(c);
	}
}

/* Forwards, firewall rules and bandwidth of a running jail, changed in place; a
 * stopped jail gets them at its next start. */
static int linux_net_set(struct priv_ctx *c, const struct req_net *r, struct err *e)
{
	struct runrec rec;
	struct netrec old, now;
	if (!runrec_alive(c->jails_fd, r->name, &rec))
		return 0;
	if (!netrec_read(c->jails_fd, r->name, &old) || old.slot != rec.slot) {
		if (r->net.nports || r->net.negress || r->net.ningress || r->net.bandwidth)
			return err_set(e, ERR_WRONG_STATE, "jail %s runs without a network (no ip4 or ip6): give it an address and restart it", r->name);
		return 0;
	}
	now = old;
	now.net = r->net;
	char ifn[IFNAMSIZ];
	host_ifname(c, rec.slot, ifn);
	if (nf_jail_apply(c, r->name, &old, &now, e))
		return -1;
	return shaping_set(ifn, now.net.bandwidth, old.net.bandwidth, e);
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
	.log_open = linux_log_open,
	.set_limits = linux_set_limits,
	.net_set = linux_net_set,
	.list = linux_list,
	.sweep = linux_sweep,
	.fini = linux_fini,
	.reaped = linux_reaped,
};
