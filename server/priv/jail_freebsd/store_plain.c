/* store_plain.c — a jail's files as plain directories (fb_store_ops, when DIR/jails is
 * not a ZFS dataset): its layer made empty (thin, import) or copied from the template
 * with cp -Rp (thick); snapshots as copies in FILES/snapshots/SNAP/LAYER, restored by
 * a copy swapped in by rename.
 *
 * limits.disk, as OpenRoot did it: the jail's own files live on a
 * file-backed md(4) disk of that size (a sparse DIR/jails/NAME/disk.img, `mdconfig -t
 * vnode`, newfs(8) UFS with soft updates, mounted nosuid at DIR/jails/NAME/disk), so
 * filling it gives ENOSPC in the jail and leaves the host's disk alone. The disk stays
 * mounted from create to destroy (mounted again on first use after a reboot); which md
 * unit it has is asked of the kernel each time. Without limits.disk the files sit in
 * DIR/jails/NAME itself. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fts.h>

#include "freebsd.h"
#include "log.h"

#define MDCONFIG "/sbin/mdconfig"
#define NEWFS "/sbin/newfs"
#define GROWFS "/sbin/growfs"

static int64_t img_size(struct priv_ctx *c, const char *name)
{
	char rel[96];
	struct stat st;
	snprintf(rel, sizeof rel, "%s/disk.img", name);
	return fstatat(c->jails_fd, rel, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) ? (int64_t)st.st_size : 0;
}

/* The md unit backed by the jail's image ("md3"), or "" when none is: asked of the
 * kernel (`mdconfig -l -f`), never remembered, so a unit renumbered by a reboot is
 * never taken for another jail's. */
static int unit_of(struct priv_ctx *c, const char *name, char unit[16], struct err *e)
{
	char img[512], out[256] = "";
	unit[0] = '\0';
	if (fb_jail_path(c, name, "disk.img", img, sizeof img, e))
		return -1;
	char *argv[] = { MDCONFIG, "-l", "-f", img, NULL };
	if (fb_sys->tool(argv, -1, NULL, -1, out, sizeof out, e))
		return -1;
	out[strcspn(out, " \t\n")] = '\0';
	if (out[0] && (strncmp(out, "md", 2) != 0 || !out[2] || strspn(out + 2, "0123456789") != strlen(out + 2)))
		return err_set(e, ERR_INTERNAL, "mdconfig -l -f %s said \"%s\", not an md unit", img, out);
	snprintf(unit, 16, "%.15s", out);
	return 0;
}

/* The image attached as a new md(4) unit. */
static int attach(struct priv_ctx *c, const char *name, char unit[16], struct err *e)
{
	char img[512], out[64] = "";
	if (fb_jail_path(c, name, "disk.img", img, sizeof img, e))
		return -1;
	char *argv[] = { MDCONFIG, "-a", "-t", "vnode", "-f", img, NULL };
	if (fb_sys->tool(argv, -1, NULL, -1, out, sizeof out, e))
		return -1;
	out[strcspn(out, " \t\n")] = '\0';
	if (strncmp(out, "md", 2) != 0 || !out[2] || strspn(out + 2, "0123456789") != strlen(out + 2))
		return err_set(e, ERR_INTERNAL, "mdconfig gave no md unit for the disk of jail %s (it said \"%s\")", name, out);
	snprintf(unit, 16, "%.15s", out);
	return 0;
}

/* UFS on the unit, mounted nosuid at disk/ */
static int mount_unit(struct priv_ctx *c, const char *name, const char *unit, struct err *e)
{
	char at[512], dev[32];
	if (fb_jail_path(c, name, "disk", at, sizeof at, e))
		return -1;
	snprintf(dev, sizeof dev, "/dev/%s", unit);
	struct fb_param p[] = { { "fstype", "ufs" }, { "fspath", at }, { "from", dev } };
	return fb_sys->nmount(p, 3, FB_MNT_NOSUID, e);
}

/* After a reboot the image is attached to no unit; after a crash it may still be. */
static int disk_mount(struct priv_ctx *c, const char *name, struct err *e)
{
	char unit[16];
	if (unit_of(c, name, unit, e) || (!unit[0] && attach(c, name, unit, e)))
		return -1;
	return mount_unit(c, name, unit, e);
}

static int plain_files(struct priv_ctx *c, const char *name, char rel[96], struct err *e)
{
	if (!img_size(c, name)) {
		snprintf(rel, 96, "%s", name);
		return 0;
	}
	char at[512];
	snprintf(rel, 96, "%s/disk", name);
	if (fb_jail_path(c, name, "disk", at, sizeof at, e))
		return -1;
	return fb_sys->is_mount_point(at) ? 0 : disk_mount(c, name, e);
}

static int disk_create(struct priv_ctx *c, const char *name, int64_t bytes, struct err *e)
{
	char rel[96], dev[32] = "", unit[16];
	snprintf(rel, sizeof rel, "%s/disk", name);
	if (mkdirat(c->jails_fd, rel, 0755) < 0)
		return err_errno(e, "creating the disk of jail %s", name);
	snprintf(rel, sizeof rel, "%s/disk.img", name);
	int fd = openat(c->jails_fd, rel, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 || ftruncate(fd, bytes) < 0) {
		if (fd >= 0)
			close(fd);
		return err_errno(e, "making the %lld-byte disk of jail %s", (long long)bytes, name);
	}
	close(fd);
	char *newfs[] = { NEWFS, "-U", dev, NULL };
	if (attach(c, name, unit, e))
		return -1;
	snprintf(dev, sizeof dev, "/dev/%s", unit);
	return fb_tool(newfs, e) || mount_unit(c, name, unit, e) ? -1 : 0;
}

static void plain_release(struct priv_ctx *c, const char *name)
{
	if (!img_size(c, name))
		return;
	char at[512], unit[16];
	struct err ignored;
	if (fb_jail_path(c, name, "disk", at, sizeof at, &ignored) == 0 && fb_sys->is_mount_point(at) &&
	    fb_sys->unmount(at, 0) < 0 && fb_sys->unmount(at, FB_MNT_FORCE) < 0)
		log_warn("unmounting the disk of jail %s: %s", name, strerror(errno));
	if (unit_of(c, name, unit, &ignored) == 0 && unit[0]) {
		char *detach[] = { MDCONFIG, "-d", "-u", unit, NULL };
		fb_tool(detach, &ignored);
	}
}

static int plain_grow(struct priv_ctx *c, const char *name, int64_t bytes, struct err *e)
{
	int64_t now = img_size(c, name);
	if (!now)
		return err_field(e, ERR_UNSUPPORTED, "limits.disk", "jail %s has no disk of its own; limits.disk is set when it is created", name);
	if (bytes < now)
		return err_field(e, ERR_INVALID, "limits.disk", "limits.disk can grow, not shrink (now %lld bytes)", (long long)now);
	if (bytes == now)
		return 0;
	char files[96], unit[16], size[32], dev[32], rel[96];
	if (plain_files(c, name, files, e) || unit_of(c, name, unit, e))
		return -1;
	if (!unit[0])
		return err_set(e, ERR_INTERNAL, "the disk of jail %s is mounted but attached to no md unit", name);
	snprintf(rel, sizeof rel, "%s/disk.img", name);
	int fd = openat(c->jails_fd, rel, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || ftruncate(fd, bytes) < 0) {
		if (fd >= 0)
			close(fd);
		return err_errno(e, "growing the disk image of jail %s", name);
	}
	close(fd);
	/* the md device, then UFS on it, which growfs(8) grows while mounted */
	snprintf(size, sizeof size, "%lldb", (long long)(bytes / 512));
	snprintf(dev, sizeof dev, "/dev/%s", unit);
	char *resize[] = { MDCONFIG, "-r", "-u", unit, "-s", size, NULL }, *grow[] = { GROWFS, "-y", dev, NULL };
	return fb_tool(resize, e) || fb_tool(grow, e) ? -1 : 0;
}

/* ---- snapshots: copies ---- */

static int64_t tree_bytes(const char *path)
{
	char *paths[] = { (char *)path, NULL };
	FTS *f = fts_open(paths, FTS_PHYSICAL | FTS_XDEV | FTS_NOCHDIR, NULL);
	int64_t bytes = 0;
	for (FTSENT *en; f && (en = fts_read(f));)
		if (en->fts_info != FTS_DP && en->fts_statp)
			bytes += (int64_t)en->fts_statp->st_blocks * 512;
	if (f)
		fts_close(f);
	return bytes;
}

/* FILES/snapshots/SNAP: its rel and abs paths */
static void snap_paths(struct priv_ctx *c, const struct fb_where *w, const char *snap, char rel[192], char abs[720])
{
	snprintf(rel, 192, "%s/snapshots/%s", w->files, snap);
	snprintf(abs, 720, "%s/jails/%s", c->data_dir, rel);
}

static int plain_snap_create(struct priv_ctx *c, const char *name, const char *snap, int64_t *bytes, struct err *e)
{
	struct fb_where w;
	char rel[192], dir[720], to[800];
	if (fb_where(c, name, &w, e))
		return -1;
	snprintf(rel, sizeof rel, "%s/snapshots", w.files);
	if (mkdirat(c->jails_fd, rel, 0700) < 0 && errno != EEXIST)
		return err_errno(e, "creating the snapshots of jail %s", name);
	snap_paths(c, &w, snap, rel, dir);
	if (mkdirat(c->jails_fd, rel, 0700) < 0)
		return errno == EEXIST ? err_field(e, ERR_CONFLICT, "name", "jail %s already has a snapshot %s", name, snap)
				       : err_errno(e, "creating snapshot %s of jail %s", snap, name);
	snprintf(to, sizeof to, "%s/%s", dir, w.layer);
	char *argv[] = { "/bin/cp", "-Rp", w.layer_abs, to, NULL };
	if (fb_tool(argv, e)) {
		struct err ignored;
		fb_remove_tree(dir, &ignored);
		return -1;
	}
	*bytes = tree_bytes(dir);
	return 0;
}

static int plain_snap_restore(struct priv_ctx *c, const char *name, const char *snap_name, struct err *e)
{
	struct fb_where w;
	if (fb_where(c, name, &w, e))
		return -1;
	char snap_rel[192], snap[720], from[800], aside[660], aside_rel[140];
	snap_paths(c, &w, snap_name, snap_rel, snap);
	struct stat st;
	if (fstatat(c->jails_fd, snap_rel, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return err_set(e, ERR_NOT_FOUND, "jail %s has no snapshot %s", name, snap);
	snprintf(from, sizeof from, "%s/%s", snap, w.layer);
	snprintf(aside, sizeof aside, "%s.old", w.layer_abs);
	snprintf(aside_rel, sizeof aside_rel, "%s.old", w.layer_rel);
	struct err ignored;
	fb_remove_tree(aside, &ignored);
	if (renameat(c->jails_fd, w.layer_rel, c->jails_fd, aside_rel) < 0)
		return err_errno(e, "moving the files of jail %s aside", name);
	char *argv[] = { "/bin/cp", "-Rp", from, w.layer_abs, NULL };
	if (fb_tool(argv, e)) {
		fb_remove_tree(w.layer_abs, &ignored);
		renameat(c->jails_fd, aside_rel, c->jails_fd, w.layer_rel);
		return -1;
	}
	fb_remove_tree(aside, &ignored);
	return 0;
}

static int plain_snap_delete(struct priv_ctx *c, const char *name, const char *snap, struct err *e)
{
	struct fb_where w;
	char rel[192], dir[720];
	struct stat st;
	if (fb_where(c, name, &w, e))
		return -1;
	snap_paths(c, &w, snap, rel, dir);
	if (fstatat(c->jails_fd, rel, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return err_set(e, ERR_NOT_FOUND, "jail %s has no snapshot %s", name, snap);
	return fb_remove_tree(dir, e);
}


/* The jail's layer: empty (thin, or an import to fill), or the template's copy. */
static int plain_make(struct priv_ctx *c, const char *name, bool thin, const char *tmpl, int64_t disk, struct err *e)
{
	char files[96], rel[128];
	if ((disk > 0 && disk_create(c, name, disk, e)) || plain_files(c, name, files, e))
		return -1;
	if (thin || !tmpl) {
		snprintf(rel, sizeof rel, "%s/%s", files, thin ? "upper" : "root");
		return mkdirat(c->jails_fd, rel, 0755) < 0 ? err_errno(e, "creating jail %s", name) : 0;
	}
	/* cp -R copies symlinks as symlinks, -p keeps owners, modes, times and file flags */
	char from[512], to[512];
	snprintf(from, sizeof from, "%s/templates/%s", c->data_dir, tmpl);
	snprintf(to, sizeof to, "%s/jails/%s/root", c->data_dir, files);
	char *argv[] = { "/bin/cp", "-Rp", from, to, NULL };
	return fb_tool(argv, e);
}

const struct fb_store_ops fb_store_plain = {
	.name = "directories",
	.files = plain_files,
	.make = plain_make,
	.grow = plain_grow,
	.snap_create = plain_snap_create,
	.snap_restore = plain_snap_restore,
	.snap_delete = plain_snap_delete,
	.release = plain_release,
};
