/* jail.c — the FreeBSD backend: jails from jail(2), nullfs/unionfs and devfs mounts,
 * interface aliases, rctl(8) rules and pf anchors (freebsd.h says what lives where).
 * This file holds the ops table, start-up, status, the list and the sweep; the phases
 * are in start.c, stop.c, enter.c, net.c, limits.c and files.c. Every kernel call goes
 * through sys.h, so the unit tests run these very files against a recorder. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../backend.h"
#include "../runrec.h"
#include "freebsd.h"
#include "log.h"
#include "validate.h"

void fb_kname(const struct priv_ctx *c, const char *name, char buf[96])
{
	snprintf(buf, 96, "jaild-%.4s-%.63s", c->tag, name);
}

int fb_open_jail_dir(struct priv_ctx *c, const char *name, struct err *e)
{
	int fd = openat(c->jails_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? err_set(e, ERR_NOT_FOUND, "jail %s has no files here; create it first", name)
				       : err_errno(e, "opening the files of jail %s", name);
	return fd;
}

int fb_jail_path(const struct priv_ctx *c, const char *name, const char *rel, char *buf, size_t size, struct err *e)
{
	int n = snprintf(buf, size, "%s/jails/%s%s%s", c->data_dir, name, rel[0] ? "/" : "", rel);
	if (n < 0 || (size_t)n >= size)
		return err_set(e, ERR_INVALID, "the path of %s in jail %s is too long", rel, name);
	return 0;
}

/* Running: the kernel has the jail and its first process is the recorded one. A jail
 * whose first process ended is not running (as on Linux): stop tears down the rest. */
static bool fb_alive(struct priv_ctx *c, const char *name, struct runrec *rec)
{
	char kname[96];
	fb_kname(c, name, kname);
	return runrec_read(c->jails_fd, name, rec) && fb_sys->jail_getid(kname) >= 0 &&
	       fb_sys->proc_start(rec->pid) == rec->starttime;
}

int fb_running(struct priv_ctx *c, const char *name, struct runrec *rec, struct err *e)
{
	char kname[96];
	fb_kname(c, name, kname);
	if (!fb_alive(c, name, rec))
		return err_set(e, ERR_WRONG_STATE, "jail %s is not running; start it first", name);
	return fb_sys->jail_getid(kname);
}

static int fb_init(struct priv_ctx *c, struct err *e)
{
	static struct fb_impl impl;
	c->impl = &impl;
	/* rctl(8) needs racct, which only the loader turns on */
	int racct = 0;
	if (fb_sys->sysctl_int("kern.racct.enable", &racct) < 0 || racct != 1)
		return err_set(e, ERR_INTERNAL,
			       "kern.racct.enable is not 1, so jails' limits (rctl) cannot work: add kern.racct.enable=1 to "
			       "/boot/loader.conf and reboot");
	if (fb_net_init(c, e))
		return -1;
	fb_store_init(c);
	log_info("freebsd backend: jails jaild-%s-NAME, files on %s%s%s, addresses on %s (IPv4) and %s (IPv6), pf anchors jaild/*%s",
		 c->tag, impl.store->name, impl.zfs[0] ? " " : "", impl.zfs, impl.alias4_if, impl.alias6_if,
		 impl.pf_anchors ? "" : " (not called from pf.conf)");
	return 0;
}

static int fb_status(struct priv_ctx *c, const char *name, struct reply *out, struct err *e)
{
	struct runrec rec;
	(void)e;
	if (!fb_alive(c, name, &rec)) {
		runrec_exit_reply(c->jails_fd, name, out);
		return 0;
	}
	out->running = 1;
	out->pid = rec.pid;
	/* racct: "cputime=S,...,memoryuse=B,...,maxproc=N,..." */
	char kname[96], filter[112], usage[1024];
	fb_kname(c, name, kname);
	snprintf(filter, sizeof filter, "jail:%s", kname);
	if (fb_sys->rctl_usage(filter, usage, sizeof usage) == 0) {
		for (char *save = NULL, *kv = strtok_r(usage, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
			char *eq = strchr(kv, '=');
			if (!eq)
				continue;
			*eq = '\0';
			long long v = strtoll(eq + 1, NULL, 10);
			if (strcmp(kv, "cputime") == 0)
				out->cpu_ns = v * 1000000000LL;
			else if (strcmp(kv, "memoryuse") == 0)
				out->memory = v;
			else if (strcmp(kv, "maxproc") == 0)
				out->procs = v;
		}
	}
	return 0;
}

static int fb_log_open(struct priv_ctx *c, const char *name, int *out, struct err *e)
{
	int jd = fb_open_jail_dir(c, name, e);
	if (jd < 0)
		return -1;
	int rc = runrec_log_open(jd, FB_JAIL_LOG, name, out, e);
	close(jd);
	return rc;
}

static bool fb_alive_cb(void *arg, const char *name)
{
	struct runrec rec;
	return fb_alive(arg, name, &rec);
}

static int fb_list(struct priv_ctx *c, const char *after, struct list_reply *out, struct err *e)
{
	return runrec_list(c->jails_fd, after, fb_alive_cb, c, out) < 0 ? err_errno(e, "listing jails") : 0;
}

/* What a crash leaves: jails whose first process ended, or whose helper died before
 * their stop, still hold their kernel jail, rules, aliases and mounts. */
static bool sweep_one(void *arg, const char *name)
{
	struct priv_ctx *c = arg;
	struct runrec rec;
	struct stat st;
	if (!fb_alive(c, name, &rec) && fstatat(c->jails_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode)) {
		char rel[96];
		snprintf(rel, sizeof rel, "%s/" FB_MOUNTS_REC, name);
		char kname[96];
		fb_kname(c, name, kname);
		if (faccessat(c->jails_fd, rel, F_OK, AT_SYMLINK_NOFOLLOW) == 0 || fb_sys->jail_getid(kname) >= 0)
			fb_teardown(c, name);
	}
	return false;
}

static int fb_sweep(struct priv_ctx *c, struct err *e)
{
	struct list_reply page;
	return runrec_list(c->jails_fd, "", sweep_one, c, &page) < 0 ? err_errno(e, "sweeping jails") : 0;
}

static void fb_reaped(struct priv_ctx *c, pid_t pid, int status)
{
	runrec_reaped(c->jails_fd, pid, status);
}

static void fb_fini(struct priv_ctx *c)
{
	(void)c; /* jails outlive the helper: a restarted one finds them by their records */
}

const struct backend_ops freebsd_backend = {
	.name = "freebsd",
	.init = fb_init,
	.template_minimal = fb_template_minimal,
	.create = fb_create,
	.start = fb_start,
	.stop = fb_stop,
	.exec = fb_exec,
	.console = fb_console,
	.snap_create = fb_snap_create,
	.snap_restore = fb_snap_restore,
	.snap_delete = fb_snap_delete,
	.export_tar = fb_export,
	.import_tar = fb_import,
	.template_tar = fb_template_tar,
	.template_dir = fb_template_dir,
	.template_delete = fb_template_delete,
	.destroy = fb_destroy,
	.status = fb_status,
	.log_open = fb_log_open,
	.set_limits = fb_set_limits,
	.net_set = fb_net_set,
	.list = fb_list,
	.sweep = fb_sweep,
	.fini = fb_fini,
	.reaped = fb_reaped,
};
