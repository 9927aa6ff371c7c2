/* start.c — a jail's files made (create), and a jail brought up (start): its root
 * assembled under mnt/, its addresses aliased, the jail made with jail_set(2), its
 * limits as rctl rules, its pf anchor loaded, its command run in it. A step that fails
 * undoes every step before it (fb_teardown), so a failed start leaves nothing. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../runrec.h"
#include "freebsd.h"
#include "log.h"
#include "validate.h"

int fb_dir_beneath(int rootfd, const char *rel, struct err *e)
{
	char buf[JPATH_SIZE];
	snprintf(buf, sizeof buf, "%s", rel);
	int dir = dup(rootfd);
	if (dir < 0)
		return err_errno(e, "dup");
	for (char *save = NULL, *part = strtok_r(buf, "/", &save); part; part = strtok_r(NULL, "/", &save)) {
		if (strcmp(part, ".") == 0 || strcmp(part, "..") == 0) {
			close(dir);
			return err_set(e, ERR_INVALID, "mount target %s has a . or .. component", rel);
		}
		if (mkdirat(dir, part, 0755) < 0 && errno != EEXIST) {
			close(dir);
			return err_errno(e, "making mount target %s", rel);
		}
		/* O_NOFOLLOW: a symlink the jail left here would point the mount at the host */
		int next = openat(dir, part, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		close(dir);
		if (next < 0)
			return errno == ELOOP || errno == ENOTDIR
				       ? err_set(e, ERR_INVALID, "mount target %s is not a directory in the jail (a symlink or a file)", rel)
				       : err_errno(e, "opening mount target %s", rel);
		dir = next;
	}
	close(dir);
	return 0;
}

int fb_create(struct priv_ctx *c, const struct req_spec *r, struct err *e)
{
	const struct jail_spec *s = &r->spec;
	struct stat st;
	if (fstatat(c->templates_fd, s->tmpl, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
		return err_field(e, ERR_INVALID, "template", "template %s does not exist on this host", s->tmpl);
	if (mkdirat(c->jails_fd, s->name, 0700) < 0)
		return errno == EEXIST ? err_field(e, ERR_CONFLICT, "name", "files of a jail named %s already exist on this host", s->name)
				       : err_errno(e, "creating jail %s", s->name);
	/* the store first: a ZFS dataset mounts over the jail's directory */
	char rel[128];
	snprintf(rel, sizeof rel, "%s/mnt", s->name);
	int rc = FB(c)->store->make(c, s->name, s->type == JAIL_THIN, s->tmpl, s->limits.disk, e);
	if (rc == 0 && mkdirat(c->jails_fd, rel, 0755) < 0)
		rc = err_errno(e, "creating jail %s", s->name);
	if (rc) {
		struct err ignored;
		fb_destroy(c, s->name, &ignored);
	}
	return rc;
}

/* The mount record: each mount point on a line, in the order made. */
static int mounts_add(int jd, const char *path, struct err *e)
{
	int fd = openat(jd, FB_MOUNTS_REC, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return err_errno(e, "recording mount %s", path);
	size_t n = strlen(path);
	int rc = write(fd, path, n) == (ssize_t)n && write(fd, "\n", 1) == 1 ? 0 : err_errno(e, "recording mount %s", path);
	close(fd);
	return rc;
}

/* nmount(2), recorded first: a mount the record does not name would outlive a crash */
static int do_mount(int jd, const char *fstype, const char *from_opt, const char *from, const char *at, uint64_t flags,
		    const char *extra_name, const char *extra_value, struct err *e)
{
	if (mounts_add(jd, at, e))
		return -1;
	struct fb_param p[4] = {
		{ "fstype", fstype }, { "fspath", at }, { from_opt, from }, { extra_name, extra_value },
	};
	return fb_sys->nmount(p, extra_name ? 4 : 3, flags, e);
}

/* The jail's root under mnt/: thin, the template read-only with its own layer over it
 * (unionfs); thick, its own copy. Then devfs (ruleset 4) and the spec's mounts. */
static int assemble_root(struct priv_ctx *c, int jd, const struct jail_spec *s, struct err *e)
{
	char mnt[512], tmpl[512];
	struct fb_where w;
	if (fb_jail_path(c, s->name, "mnt", mnt, sizeof mnt, e) || fb_where(c, s->name, &w, e))
		return -1;
	const char *layer = w.layer_abs;
	snprintf(tmpl, sizeof tmpl, "%s/templates/%s", c->data_dir, s->tmpl);
	if (s->type == JAIL_THIN) {
		if (do_mount(jd, "nullfs", "target", tmpl, mnt, FB_MNT_RDONLY, NULL, NULL, e) ||
		    do_mount(jd, "unionfs", "from", layer, mnt, 0, NULL, NULL, e))
			return -1;
	} else if (do_mount(jd, "nullfs", "target", layer, mnt, 0, NULL, NULL, e)) {
		return -1;
	}
	int root = openat(jd, "mnt", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (root < 0)
		return err_errno(e, "opening the root of jail %s", s->name);
	char at[768];
	int rc = fb_dir_beneath(root, "dev", e);
	snprintf(at, sizeof at, "%s/dev", mnt);
	if (rc == 0)
		rc = do_mount(jd, "devfs", "from", "devfs", at, FB_MNT_NOEXEC | FB_MNT_NOSUID, "ruleset", FB_DEVFS_RULESET, e);
	for (uint32_t i = 0; rc == 0 && i < s->nmounts; i++) {
		const struct jail_mount *m = &s->mounts[i];
		rc = fb_dir_beneath(root, m->target, e);
		snprintf(at, sizeof at, "%s%s", mnt, m->target);
		if (rc == 0)
			rc = do_mount(jd, "nullfs", "target", m->source, at, FB_MNT_NOSUID | (m->readonly ? FB_MNT_RDONLY : 0), NULL,
				      NULL, e);
	}
	close(root);
	return rc;
}

/* jail_set(2)'s parameters, as jail(8) names them, in a fixed order */
#define PARAMS_MAX 24
struct params {
	struct fb_param p[PARAMS_MAX];
	unsigned n;
	char ip4[IP4_MAX * 16], ip6[IP6_MAX * 40];
};

static void param(struct params *ps, const char *name, const char *value)
{
	if (ps->n < PARAMS_MAX)
		ps->p[ps->n++] = (struct fb_param){ name, value };
}

static void jail_params(const struct jail_spec *s, const char *kname, const char *path, struct params *ps)
{
	param(ps, "name", kname);
	param(ps, "path", path);
	param(ps, "host.hostname", s->hostname);
	param(ps, "persist", NULL);
	for (int i = 0; i < s->nip4; i++) {
		char a[INET_ADDRSTRLEN];
		inet_ntop(AF_INET, &s->ip4[i], a, sizeof a);
		snprintf(ps->ip4 + strlen(ps->ip4), sizeof ps->ip4 - strlen(ps->ip4), "%s%s", i ? "," : "", a);
	}
	for (int i = 0; i < s->nip6; i++) {
		char a[INET6_ADDRSTRLEN];
		inet_ntop(AF_INET6, s->ip6[i], a, sizeof a);
		snprintf(ps->ip6 + strlen(ps->ip6), sizeof ps->ip6 - strlen(ps->ip6), "%s%s", i ? "," : "", a);
	}
	/* no address of a family: the jail gets none of it (not the host's) */
	if (s->nip4)
		param(ps, "ip4.addr", ps->ip4);
	else
		param(ps, "ip4", "disable");
	if (s->nip6)
		param(ps, "ip6.addr", ps->ip6);
	else
		param(ps, "ip6", "disable");
	param(ps, "securelevel", "2");
	param(ps, "enforce_statfs", "2");
	param(ps, "devfs_ruleset", FB_DEVFS_RULESET);
	param(ps, "children.max", s->allow & ALLOW_NESTING ? "16" : "0");
	param(ps, "allow.set_hostname", s->allow & ALLOW_SET_HOSTNAME ? "true" : "false");
	param(ps, "allow.raw_sockets", s->allow & ALLOW_RAW_SOCKETS ? "true" : "false");
	param(ps, "allow.chflags", "false");
	param(ps, "allow.mount", "false");
	const char *ipc = s->allow & ALLOW_SYSVIPC ? "new" : "disable";
	param(ps, "sysvmsg", ipc);
	param(ps, "sysvsem", ipc);
	param(ps, "sysvshm", ipc);
}

static int bring_up(struct priv_ctx *c, const struct req_spec *r, int jd, struct runrec *rec, struct err *e)
{
	const struct jail_spec *s = &r->spec;
	char kname[96], mnt[512];
	fb_kname(c, s->name, kname);
	if (assemble_root(c, jd, s, e) || fb_jail_path(c, s->name, "mnt", mnt, sizeof mnt, e))
		return -1;
	/* the network record first: teardown removes the aliases it names */
	struct netrec nr = { .magic = NETREC_MAGIC, .slot = r->slot, .nip4 = s->nip4, .nip6 = s->nip6, .net = s->net };
	memcpy(nr.ip4, s->ip4, sizeof nr.ip4);
	memcpy(nr.ip6, s->ip6, sizeof nr.ip6);
	if (netrec_write(c->jails_fd, s->name, &nr) < 0)
		return err_errno(e, "recording the network of jail %s", s->name);
	for (int i = 0; i < s->nip4; i++)
		if (fb_alias(c, true, FB_AF_INET, &s->ip4[i], e))
			return -1;
	for (int i = 0; i < s->nip6; i++)
		if (fb_alias(c, true, FB_AF_INET6, s->ip6[i], e))
			return -1;
	struct params ps = { .n = 0 };
	jail_params(s, kname, mnt, &ps);
	int jid = fb_sys->jail_set(ps.p, ps.n, FB_JAIL_CREATE, e);
	if (jid < 0)
		return -1;
	if (fb_limits_apply(c, kname, &s->limits, false, e) || fb_net_apply(c, s->name, e))
		return -1;
	/* its first process: argv on the jail's log, in the jail */
	int log = openat(jd, FB_JAIL_LOG, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (log < 0)
		return err_errno(e, "opening the log of jail %s", s->name);
	char *argv[ARGV_MAX + 1];
	argv_unpack(&s->command, argv);
	int fds[3] = { -1, log, log };
	pid_t pid = fb_sys->jail_spawn(jid, argv, fds, e);
	close(log);
	if (pid < 0)
		return -1;
	*rec = (struct runrec){ .pid = pid, .starttime = fb_sys->proc_start(pid), .slot = r->slot, .allow = s->allow };
	if (runrec_write(c->jails_fd, s->name, rec) < 0)
		return err_errno(e, "recording jail %s", s->name);
	return 0;
}

int fb_start(struct priv_ctx *c, const struct req_spec *r, struct reply *out, struct err *e)
{
	const struct jail_spec *s = &r->spec;
	struct runrec rec;
	char kname[96];
	fb_kname(c, s->name, kname);
	if (fb_sys->jail_getid(kname) >= 0)
		return err_set(e, ERR_WRONG_STATE, "jail %s is already running", s->name);
	int jd = fb_open_jail_dir(c, s->name, e);
	if (jd < 0)
		return -1;
	/* whatever a crash left (mounts, aliases, rules) goes first */
	if (faccessat(jd, FB_MOUNTS_REC, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
		fb_teardown(c, s->name);
	int rc = bring_up(c, r, jd, &rec, e);
	close(jd);
	if (rc) {
		fb_teardown(c, s->name);
		return -1;
	}
	out->pid = rec.pid;
	log_info("jail %s started as %s, first process %d", s->name, kname, (int)rec.pid);
	return 0;
}
