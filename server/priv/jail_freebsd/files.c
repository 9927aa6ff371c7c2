/* files.c — a jail's files and the templates on FreeBSD: copies with cp(1) (-R keeps
 * symlinks as symlinks, -p owners, modes and file flags), archives with the base
 * system's bsdtar (libarchive: without -P it refuses absolute names, ".." and writing
 * through a symlink), removal with chflags(1) then rm(1), both -x so that a mount left
 * under a jail is never crossed into. Jail root is uid 0 confined by the jail, so
 * files keep their owners as they are (no uid shift, unlike Linux).
 * A jail's own files are FILES/LAYER, FILES being DIR/jails/NAME or its disk (disk.c),
 * LAYER upper/ (thin) or root/ (thick); snapshots are FILES/snapshots/SNAP/LAYER, so a
 * jail's disk holds them and its limit counts them. */
#include <errno.h>
#include <fcntl.h>
#include <fts.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../runrec.h"
#include "../skeleton.h"
#include "freebsd.h"
#include "log.h"
#include "validate.h"

#define CP "/bin/cp"
#define RM "/bin/rm"
#define CHFLAGS "/bin/chflags"
#define TAR "/usr/bin/tar"
#define MINIMAL "minimal"

int fb_tool(char *const argv[], struct err *e)
{
	return fb_sys->tool(argv, -1, NULL, -1, NULL, 0, e);
}

/* A tree removed: immutable flags (base.txz has schg files) cleared first. */
int fb_remove_tree(const char *path, struct err *e)
{
	char *clear[] = { CHFLAGS, "-R", "-x", "0", (char *)path, NULL };
	char *rm[] = { RM, "-rfx", (char *)path, NULL };
	struct err ignored;
	fb_tool(clear, &ignored);
	return fb_tool(rm, e);
}

static void template_path(const struct priv_ctx *c, const char *name, char *buf, size_t size)
{
	snprintf(buf, size, "%s/templates/%s", c->data_dir, name);
}

/* ---- templates ---- */

/* /rescue's programs are one static binary that acts by the name it is called as: one
 * copy of it, and a symlink per name, give a jail a shell and the usual tools. */
static const char *const rescue_names[] = { "sh", "cat", "chmod", "cp", "date", "dd", "df", "echo", "ed", "expr",
					    "hostname", "kill", "ln", "ls", "mkdir", "mv", "ps", "pwd", "rm", "rmdir",
					    "sleep", "stty", "sync", "test", "[", "tar", "ping", "ifconfig" };

int fb_template_minimal(struct priv_ctx *c, struct err *e)
{
	struct stat st;
	if (fstatat(c->templates_fd, MINIMAL, &st, AT_SYMLINK_NOFOLLOW) == 0)
		return 0;
	const char *tmp = ".minimal.tmp";
	char tmp_path[512], prog[600];
	template_path(c, tmp, tmp_path, sizeof tmp_path);
	struct err ignored;
	fb_remove_tree(tmp_path, &ignored);
	int root = -1, rc = 0;
	if (mkdirat(c->templates_fd, tmp, 0755) < 0 ||
	    (root = openat(c->templates_fd, tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		rc = err_errno(e, "creating the minimal template");
	if (rc == 0)
		rc = skeleton_make(root, e);
	if (rc == 0 && mkdirat(root, "rescue", 0755) < 0)
		rc = err_errno(e, "creating rescue/ in the minimal template");
	snprintf(prog, sizeof prog, "%s/rescue/rescue", tmp_path);
	char *copy[] = { CP, "-p", "/rescue/sh", prog, NULL };
	if (rc == 0)
		rc = fb_tool(copy, e);
	for (size_t i = 0; rc == 0 && i < sizeof rescue_names / sizeof *rescue_names; i++) {
		char link[64];
		snprintf(link, sizeof link, "bin/%s", rescue_names[i]);
		if (symlinkat("/rescue/rescue", root, link) < 0)
			rc = err_errno(e, "linking %s in the minimal template", link);
	}
	if (root >= 0)
		close(root);
	if (rc == 0 && renameat(c->templates_fd, tmp, c->templates_fd, MINIMAL) < 0)
		rc = err_errno(e, "publishing the minimal template");
	if (rc)
		fb_remove_tree(tmp_path, &ignored);
	else
		log_info("made the minimal template from /rescue");
	return rc;
}

/* A template filled in TEMPLATES/.NAME.tmp by fill, then put in place: beside the old
 * one when replacing (running jails keep theirs until they stop), else new. */
static int publish(struct priv_ctx *c, const char *name, bool replace, int (*fill)(const char *dir, const void *arg, struct err *e),
		   const void *arg, struct err *e)
{
	struct stat st;
	bool exists = fstatat(c->templates_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
	if (exists && !replace)
		return err_field(e, ERR_CONFLICT, "name", "template %s already exists; replace it or pick another name", name);
	char tmp[NAME_SIZE + 8], old[NAME_SIZE + 8], tmp_path[512], old_path[512];
	snprintf(tmp, sizeof tmp, ".%s.tmp", name);
	snprintf(old, sizeof old, ".%s.old", name);
	template_path(c, tmp, tmp_path, sizeof tmp_path);
	template_path(c, old, old_path, sizeof old_path);
	struct err ignored;
	fb_remove_tree(tmp_path, &ignored);
	if (mkdirat(c->templates_fd, tmp, 0755) < 0)
		return err_errno(e, "creating template %s", name);
	int rc = fill(tmp_path, arg, e);
	if (rc == 0 && exists) {
		fb_remove_tree(old_path, &ignored);
		if (renameat(c->templates_fd, name, c->templates_fd, old) < 0)
			rc = err_errno(e, "moving the old template %s aside", name);
	}
	if (rc == 0 && renameat(c->templates_fd, tmp, c->templates_fd, name) < 0)
		rc = err_errno(e, "publishing template %s", name);
	if (rc)
		fb_remove_tree(tmp_path, &ignored);
	else if (exists)
		fb_remove_tree(old_path, &ignored);
	return rc;
}

struct tar_source {
	int fd;
};

static int fill_from_tar(const char *dir, const void *arg, struct err *e)
{
	const struct tar_source *t = arg;
	/* a template's /dev is the jail's devfs: device nodes in the archive are left out */
	char *argv[] = { TAR, "-xpf", "-", "--no-fflags", "--exclude", "dev/*", "--exclude", "./dev/*", "-C", (char *)dir, NULL };
	return fb_sys->tool(argv, t->fd, NULL, -1, NULL, 0, e);
}

int fb_template_tar(struct priv_ctx *c, const char *name, bool replace, int fd, struct reply *out, struct err *e)
{
	struct tar_source t = { fd };
	out->skipped = 0;
	return publish(c, name, replace, fill_from_tar, &t, e);
}

/* A host path with no symlink in it: an allowed path may not lead elsewhere. */
static int no_symlinks(const char *path, struct err *e)
{
	char buf[JPATH_SIZE];
	snprintf(buf, sizeof buf, "%s", path);
	int dir = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	for (char *save = NULL, *part = strtok_r(buf, "/", &save); dir >= 0 && part; part = strtok_r(NULL, "/", &save)) {
		int next = openat(dir, part, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		close(dir);
		dir = next;
	}
	if (dir < 0)
		return err_field(e, ERR_INVALID, "source", "%s is not a directory reached without symlinks", path);
	close(dir);
	return 0;
}

static int fill_from_dir(const char *dir, const void *arg, struct err *e)
{
	char from[JPATH_SIZE + 4];
	snprintf(from, sizeof from, "%s/", (const char *)arg);
	/* "SRC/" copies what is in SRC, not SRC itself */
	char *argv[] = { CP, "-Rp", from, (char *)dir, NULL };
	return fb_tool(argv, e);
}

int fb_template_dir(struct priv_ctx *c, const char *name, bool replace, const char *source, struct err *e)
{
	if (no_symlinks(source, e))
		return -1;
	return publish(c, name, replace, fill_from_dir, source, e);
}

int fb_template_delete(struct priv_ctx *c, const char *name, struct err *e)
{
	struct stat st;
	if (fstatat(c->templates_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return err_set(e, ERR_NOT_FOUND, "template %s does not exist on this host", name);
	char path[512];
	template_path(c, name, path, sizeof path);
	return fb_remove_tree(path, e);
}

/* ---- a jail's files ---- */

int fb_stopped(struct priv_ctx *c, const char *name, struct err *e)
{
	char kname[96];
	fb_kname(c, name, kname);
	if (fb_sys->jail_getid(kname) >= 0)
		return err_set(e, ERR_WRONG_STATE, "jail %s is running; stop it first", name);
	return 0;
}

int fb_destroy(struct priv_ctx *c, const char *name, struct err *e)
{
	if (fb_stopped(c, name, e))
		return -1;
	fb_teardown(c, name);
	FB(c)->store->release(c, name);
	char path[512];
	if (fb_jail_path(c, name, "", path, sizeof path, e))
		return -1;
	return fb_remove_tree(path, e);
}

int fb_where(struct priv_ctx *c, const char *name, struct fb_where *w, struct err *e)
{
	struct stat st;
	if (FB(c)->store->files(c, name, w->files, e))
		return -1;
	snprintf(w->layer_rel, sizeof w->layer_rel, "%s/upper", w->files);
	w->layer = fstatat(c->jails_fd, w->layer_rel, &st, AT_SYMLINK_NOFOLLOW) == 0 ? "upper" : "root";
	snprintf(w->layer_rel, sizeof w->layer_rel, "%s/%s", w->files, w->layer);
	snprintf(w->abs, sizeof w->abs, "%s/jails/%s", c->data_dir, w->files);
	snprintf(w->layer_abs, sizeof w->layer_abs, "%s/%s", w->abs, w->layer);
	return 0;
}

int fb_snap_create(struct priv_ctx *c, const struct req_snap *r, struct reply *out, struct err *e)
{
	return FB(c)->store->snap_create(c, r->name, r->snap, &out->bytes, e);
}

int fb_snap_restore(struct priv_ctx *c, const struct req_snap *r, struct err *e)
{
	return fb_stopped(c, r->name, e) ? -1 : FB(c)->store->snap_restore(c, r->name, r->snap, e);
}

int fb_snap_delete(struct priv_ctx *c, const struct req_snap *r, struct err *e)
{
	return FB(c)->store->snap_delete(c, r->name, r->snap, e);
}

/* The archive: jail.json (the spec jaild gave), then the jail's own files as files/. */
int fb_export(struct priv_ctx *c, const struct req_export *r, int fd, struct err *e)
{
	struct fb_where w;
	if (fb_where(c, r->name, &w, e))
		return -1;
	int jd = fb_open_jail_dir(c, r->name, e);
	if (jd < 0)
		return -1;
	int sf = openat(jd, "jail.json", O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	size_t n = strlen(r->spec);
	int rc = sf < 0 || write(sf, r->spec, n) != (ssize_t)n ? err_errno(e, "writing jail.json of jail %s", r->name) : 0;
	if (sf >= 0)
		close(sf);
	close(jd);
	char dir[512], subst[32];
	snprintf(subst, sizeof subst, ",^%s,files,", w.layer);
	if (rc == 0 && fb_jail_path(c, r->name, "", dir, sizeof dir, e))
		rc = -1;
	char *argv[] = { TAR, "-cf", "-", "-C", dir, "jail.json", "-C", w.abs, "-s", subst, (char *)w.layer, NULL };
	if (rc == 0)
		rc = fb_sys->tool(argv, -1, NULL, fd, NULL, 0, e);
	return rc;
}

int fb_import(struct priv_ctx *c, const struct req_import *r, int fd, struct err *e)
{
	if (mkdirat(c->jails_fd, r->name, 0700) < 0)
		return errno == EEXIST ? err_field(e, ERR_CONFLICT, "name", "files of a jail named %s already exist on this host", r->name)
				       : err_errno(e, "creating jail %s", r->name);
	char rel[160], dir[640];
	snprintf(rel, sizeof rel, "%s/mnt", r->name);
	struct fb_where w;
	int rc = FB(c)->store->make(c, r->name, r->thin, NULL, r->disk, e);
	if (rc == 0 && mkdirat(c->jails_fd, rel, 0755) < 0)
		rc = err_errno(e, "creating jail %s", r->name);
	if (rc == 0)
		rc = fb_where(c, r->name, &w, e);
	snprintf(dir, sizeof dir, "%s", rc == 0 ? w.layer_abs : "");
	/* only files/, renamed to the layer's top; no flags, no absolute or ".." names */
	char *argv[] = { TAR, "-xpf", "-", "--no-fflags", "--include", "files", "-s", ",^files/*,,", "-C", dir, NULL };
	if (rc == 0)
		rc = fb_sys->tool(argv, fd, NULL, -1, NULL, 0, e);
	if (rc) {
		struct err ignored;
		fb_destroy(c, r->name, &ignored);
	}
	return rc;
}
