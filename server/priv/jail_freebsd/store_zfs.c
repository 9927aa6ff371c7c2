/* store_zfs.c — a jail's files as ZFS datasets (fb_store_ops), when DIR/jails is the
 * mount point of a dataset (JDS below; `zfs create -o mountpoint=DIR/jails POOL/...`):
 *   JDS/NAME               the jail's directory (records, mnt/, log); quota = limits.disk
 *   JDS/NAME/upper|root    its layer; snapshots are JDS/NAME/LAYER@SNAP
 *   JDS/.t-TMPL-INODE@jaild  a template's copy that thick jails are cloned from, one
 *                          per published version of the template (its directory's
 *                          inode), made on the first thick create; destroyed with the
 *                          last clone of a version that has since been replaced.
 * Restoring a snapshot is `zfs rollback`, which ZFS allows only to the newest one: an
 * older one is refused (409) while newer ones exist, as Incus does by default, rather
 * than deleting them behind the caller's back. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "freebsd.h"
#include "log.h"

#define ZFS "/sbin/zfs"

static int zfs_files(struct priv_ctx *c, const char *name, char rel[96], struct err *e)
{
	(void)c, (void)e;
	snprintf(rel, 96, "%s", name);
	return 0;
}

/* JDS/NAME[/LAYER][@SNAP] */
static void dataset(const struct priv_ctx *c, const char *name, const char *layer, const char *snap, char out[512])
{
	snprintf(out, 512, "%s/%s%s%s%s%s", FB(c)->zfs, name, layer ? "/" : "", layer ? layer : "", snap ? "@" : "", snap ? snap : "");
}

static int zfs_run(struct err *e, char *a0, char *a1, char *a2, char *a3, char *a4)
{
	char *argv[] = { ZFS, a0, a1, a2, a3, a4, NULL };
	return fb_tool(argv, e);
}

/* a number zfs get -Hp prints, or -1 */
static int64_t zfs_number(const char *prop, const char *ds, struct err *e)
{
	char out[64] = "";
	char *argv[] = { ZFS, "get", "-Hp", "-o", "value", (char *)prop, (char *)ds, NULL };
	if (fb_sys->tool(argv, -1, NULL, -1, out, sizeof out, e))
		return -1;
	char *end;
	long long v = strtoll(out, &end, 10);
	return end == out ? 0 : v; /* "none", "-": 0 */
}

/* The dataset thick jails of tmpl are cloned from: JDS/.t-TMPL-INODE@jaild. */
static int origin(struct priv_ctx *c, const char *tmpl, char snap[600], struct err *e)
{
	struct stat st;
	if (fstatat(c->templates_fd, tmpl, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return err_field(e, ERR_INVALID, "template", "template %s does not exist on this host", tmpl);
	char leaf[96], rel[160], ds[512], path[640], from[512];
	snprintf(leaf, sizeof leaf, ".t-%s-%llu", tmpl, (unsigned long long)st.st_ino);
	snprintf(ds, sizeof ds, "%s/%s", FB(c)->zfs, leaf);
	snprintf(snap, 600, "%s@jaild", ds);
	snprintf(rel, sizeof rel, "%s/.zfs/snapshot/jaild", leaf);
	if (fstatat(c->jails_fd, rel, &st, 0) == 0)
		return 0;
	struct err ignored;
	zfs_run(&ignored, "destroy", "-r", ds, NULL, NULL); /* a half-made one */
	snprintf(from, sizeof from, "%s/templates/%s/", c->data_dir, tmpl);
	snprintf(path, sizeof path, "%s/jails/%s", c->data_dir, leaf);
	char *copy[] = { "/bin/cp", "-Rp", from, path, NULL };
	if (zfs_run(e, "create", ds, NULL, NULL, NULL) || fb_tool(copy, e) || zfs_run(e, "snapshot", snap, NULL, NULL, NULL))
		return -1;
	log_info("template %s: a ZFS copy to clone thick jails from (%s)", tmpl, snap);
	return 0;
}

static int zfs_make(struct priv_ctx *c, const char *name, bool thin, const char *tmpl, int64_t disk, struct err *e)
{
	char ds[512], layer[512], quota[48], src[600];
	dataset(c, name, NULL, NULL, ds);
	dataset(c, name, thin ? "upper" : "root", NULL, layer);
	snprintf(quota, sizeof quota, "quota=%lld", (long long)disk);
	if (disk > 0 ? zfs_run(e, "create", "-o", quota, ds, NULL) : zfs_run(e, "create", ds, NULL, NULL, NULL))
		return -1;
	if (thin || !tmpl)
		return zfs_run(e, "create", layer, NULL, NULL, NULL);
	return origin(c, tmpl, src, e) || zfs_run(e, "clone", src, layer, NULL, NULL) ? -1 : 0;
}

static int zfs_grow(struct priv_ctx *c, const char *name, int64_t bytes, struct err *e)
{
	char ds[512], quota[48];
	dataset(c, name, NULL, NULL, ds);
	int64_t now = zfs_number("quota", ds, e);
	if (now < 0)
		return -1;
	if (now > 0 && bytes < now)
		return err_field(e, ERR_INVALID, "limits.disk", "limits.disk can grow, not shrink (now %lld bytes)", (long long)now);
	snprintf(quota, sizeof quota, "quota=%lld", (long long)bytes);
	return zfs_run(e, "set", quota, ds, NULL, NULL);
}

/* the snapshot's .zfs directory exists: the snapshot does */
static bool snap_exists(struct priv_ctx *c, const struct fb_where *w, const char *snap)
{
	char rel[256];
	struct stat st;
	snprintf(rel, sizeof rel, "%s/.zfs/snapshot/%s", w->layer_rel, snap);
	return fstatat(c->jails_fd, rel, &st, 0) == 0;
}

static int zfs_snap_create(struct priv_ctx *c, const char *name, const char *snap, int64_t *bytes, struct err *e)
{
	struct fb_where w;
	char ds[512];
	if (fb_where(c, name, &w, e))
		return -1;
	if (snap_exists(c, &w, snap))
		return err_field(e, ERR_CONFLICT, "name", "jail %s already has a snapshot %s", name, snap);
	dataset(c, name, w.layer, snap, ds);
	if (zfs_run(e, "snapshot", ds, NULL, NULL, NULL))
		return -1;
	struct err ignored;
	int64_t used = zfs_number("used", ds, &ignored);
	*bytes = used > 0 ? used : 0;
	return 0;
}

static int zfs_snap_restore(struct priv_ctx *c, const char *name, const char *snap, struct err *e)
{
	struct fb_where w;
	char layer[512], ds[512], out[8192] = "";
	if (fb_where(c, name, &w, e))
		return -1;
	if (!snap_exists(c, &w, snap))
		return err_set(e, ERR_NOT_FOUND, "jail %s has no snapshot %s", name, snap);
	dataset(c, name, w.layer, NULL, layer);
	dataset(c, name, w.layer, snap, ds);
	char *list[] = { ZFS, "list", "-H", "-t", "snapshot", "-o", "name", "-s", "createtxg", "-d", "1", layer, NULL };
	if (fb_sys->tool(list, -1, NULL, -1, out, sizeof out, e))
		return -1;
	/* the newest is the last line */
	size_t n = strlen(out);
	while (n && out[n - 1] == '\n')
		out[--n] = '\0';
	const char *last = strrchr(out, '\n');
	last = last ? last + 1 : out;
	if (strcmp(last, ds) != 0) {
		const char *after = strstr(out, ds);
		after = after ? after + strlen(ds) + 1 : "";
		char newer[512];
		snprintf(newer, sizeof newer, "%s", after);
		for (char *p = newer; *p; p++)
			if (*p == '\n')
				*p = ' ';
		return err_set(e, ERR_WRONG_STATE,
			       "on ZFS a jail goes back only to its newest snapshot, and %s has newer ones (%s); delete those first",
			       snap, newer);
	}
	return zfs_run(e, "rollback", ds, NULL, NULL, NULL);
}

static int zfs_snap_delete(struct priv_ctx *c, const char *name, const char *snap, struct err *e)
{
	struct fb_where w;
	char ds[512];
	if (fb_where(c, name, &w, e))
		return -1;
	if (!snap_exists(c, &w, snap))
		return err_set(e, ERR_NOT_FOUND, "jail %s has no snapshot %s", name, snap);
	dataset(c, name, w.layer, snap, ds);
	return zfs_run(e, "destroy", ds, NULL, NULL, NULL);
}

/* The jail's datasets go; a template copy it was cloned from goes with its last clone
 * once the template has been replaced (a current one stays for the next thick jail). */
static void zfs_release(struct priv_ctx *c, const char *name)
{
	char ds[512], root[512], from[512] = "";
	struct err ignored;
	dataset(c, name, NULL, NULL, ds);
	dataset(c, name, "root", NULL, root);
	char *get[] = { ZFS, "get", "-H", "-o", "value", "origin", root, NULL };
	if (fb_sys->tool(get, -1, NULL, -1, from, sizeof from, &ignored) == 0)
		from[strcspn(from, "@\n")] = '\0';
	else
		from[0] = '\0';
	if (zfs_run(&ignored, "destroy", "-r", ds, NULL, NULL))
		log_warn("destroying the datasets of jail %s: %s", name, ignored.msg);
	/* JDS/.t-TMPL-INODE: stale when templates/TMPL is no longer that inode */
	size_t jl = strlen(FB(c)->zfs);
	if (strncmp(from, FB(c)->zfs, jl) != 0 || strncmp(from + jl, "/.t-", 4) != 0)
		return;
	char tmpl[96];
	snprintf(tmpl, sizeof tmpl, "%s", from + jl + 4);
	char *dash = strrchr(tmpl, '-');
	if (!dash)
		return;
	*dash = '\0';
	struct stat st;
	if (fstatat(c->templates_fd, tmpl, &st, AT_SYMLINK_NOFOLLOW) == 0 && strtoull(dash + 1, NULL, 10) == (unsigned long long)st.st_ino)
		return;
	zfs_run(&ignored, "destroy", "-r", from, NULL, NULL); /* fails while other clones use it: fine */
}

const struct fb_store_ops fb_store_zfs = {
	.name = "zfs",
	.files = zfs_files,
	.make = zfs_make,
	.grow = zfs_grow,
	.snap_create = zfs_snap_create,
	.snap_restore = zfs_snap_restore,
	.snap_delete = zfs_snap_delete,
	.release = zfs_release,
};

/* ZFS when DIR/jails is the mount point of a dataset (zfs(8) says which), else plain. */
void fb_store_init(struct priv_ctx *c)
{
	struct fb_impl *f = FB(c);
	char path[300], out[1024] = "";
	struct err ignored;
	snprintf(path, sizeof path, "%s/jails", c->data_dir);
	char *argv[] = { ZFS, "list", "-H", "-o", "name,mountpoint", path, NULL };
	f->store = &fb_store_plain;
	f->zfs[0] = '\0';
	if (fb_sys->tool(argv, -1, NULL, -1, out, sizeof out, &ignored))
		return;
	char *tab = strchr(out, '\t');
	if (!tab)
		return;
	*tab = '\0';
	tab[1 + strcspn(tab + 1, "\n")] = '\0';
	if (strcmp(tab + 1, path) == 0 && strlen(out) < sizeof f->zfs) {
		snprintf(f->zfs, sizeof f->zfs, "%.255s", out);
		f->store = &fb_store_zfs;
	}
}
