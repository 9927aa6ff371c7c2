/* stop.c — a jail brought down: its stop_command, SIGTERM to everything in it, after
 * stop_timeout jail_remove(2) (which kills the rest), then what start made, undone in
 * reverse: rctl rules, pf anchor, aliases, mounts. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../runrec.h"
#include "freebsd.h"
#include "log.h"
#include "validate.h"

#define MOUNTS_REC_SIZE (FB_MOUNTS_MAX * 800)

void fb_teardown(struct priv_ctx *c, const char *name)
{
	char kname[96], filter[112];
	fb_kname(c, name, kname);
	int jid = fb_sys->jail_getid(kname);
	if (jid >= 0 && fb_sys->jail_remove(jid) < 0)
		log_warn("jail_remove of %s (jid %d): %s", kname, jid, strerror(errno));
	snprintf(filter, sizeof filter, "jail:%s", kname);
	fb_sys->rctl_remove(filter);
	fb_net_clear(c, name);
	struct netrec nr;
	if (netrec_read(c->jails_fd, name, &nr)) {
		struct err ignored;
		for (int i = nr.nip6 - 1; i >= 0; i--)
			fb_alias(c, false, FB_AF_INET6, nr.ip6[i], &ignored);
		for (int i = nr.nip4 - 1; i >= 0; i--)
			fb_alias(c, false, FB_AF_INET, &nr.ip4[i], &ignored);
		netrec_remove(c->jails_fd, name);
	}
	/* mounts, last made first; a busy one is forced (nothing of the jail is left) */
	char rel[96], buf[MOUNTS_REC_SIZE];
	snprintf(rel, sizeof rel, "%s/" FB_MOUNTS_REC, name);
	int fd = openat(c->jails_fd, rel, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	ssize_t n = fd < 0 ? 0 : read(fd, buf, sizeof buf - 1);
	if (fd >= 0)
		close(fd);
	buf[n > 0 ? n : 0] = '\0';
	bool all = true;
	for (char *end = buf + strlen(buf); end > buf;) {
		*end = '\0';
		char *line = end;
		while (line > buf && line[-1] != '\n')
			line--;
		end = line > buf ? line - 1 : buf;
		if (!line[0])
			continue;
		if (fb_sys->unmount(line, 0) < 0 && errno != EINVAL && errno != ENOENT &&
		    fb_sys->unmount(line, FB_MNT_FORCE) < 0 && errno != EINVAL && errno != ENOENT) {
			log_warn("unmounting %s: %s", line, strerror(errno));
			all = false;
		}
	}
	if (all)
		unlinkat(c->jails_fd, rel, 0);
	runrec_remove(c->jails_fd, name);
}

/* stop_command in the jail, for at most timeout seconds */
static void run_stop_command(int jid, const struct req_stop *r)
{
	if (r->stop_command.argc == 0)
		return;
	char *argv[ARGV_MAX + 1];
	argv_unpack(&r->stop_command, argv);
	int fds[3] = { -1, -1, -1 }, status;
	struct err e;
	pid_t pid = fb_sys->jail_spawn(jid, argv, fds, &e);
	if (pid < 0) {
		log_warn("stop command of jail %s: %s", r->name, e.msg);
		return;
	}
	if (fb_sys->wait_child(pid, (int)r->timeout * 1000, &status) == 0) {
		fb_sys->kill(-pid, SIGKILL);
		fb_sys->wait_child(pid, 1000, &status);
	}
}

int fb_stop(struct priv_ctx *c, const struct req_stop *r, struct err *e)
{
	struct runrec rec;
	char kname[96];
	fb_kname(c, r->name, kname);
	int jid = fb_sys->jail_getid(kname);
	bool had = runrec_read(c->jails_fd, r->name, &rec);
	if (jid < 0 && !had)
		return err_set(e, ERR_WRONG_STATE, "jail %s is not running", r->name);
	if (jid >= 0) {
		run_stop_command(jid, r);
		fb_sys->jail_kill_all(jid, SIGTERM);
		/* the first process's end is the jail's; the rest die with jail_remove */
		for (unsigned waited = 0; had && waited < r->timeout * 1000u; waited += 50) {
			if (fb_sys->proc_start(rec.pid) != rec.starttime)
				break;
			fb_sys->pause_ms(50);
		}
	}
	fb_teardown(c, r->name);
	log_info("jail %s stopped", r->name);
	return 0;
}
