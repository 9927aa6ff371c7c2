/* files.c — a jail's files: create, snapshots, export, import and destroy. */
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

/* ---- files ---- */

int linux_create(struct priv_ctx *c, const struct req_spec *r, struct err *e)
{
	const struct jail_spec *s = &r->spec;
	uid_t base = slot_uid(c, r->slot);
	int tfd = openat(c->templates_fd, s->tmpl, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (tfd < 0)
		return err_field(e, ERR_INVALID, "template", "template %s does not exist on this host", s->tmpl);
	if (mkdirat(c->jails_fd, s->name, 0700) < 0) {
		close(tfd);
		return errno == EEXIST ? err_field(e, ERR_CONFLICT, "name", "files of a jail named %s already exist on this host", s->name)
				       : err_errno(e, "creating jail %s", s->name);
	}
	/* the new directory is this op's from now on; should another op have taken it
	 * first (a jaild that sends both at once), it is left to that one */
	bool locked = jail_lock(c, s->name, e) == 0;
	bool claimed = locked && slot_claim(c, r->slot, s->name, e) == 0;
	int jd = claimed ? openat(c->jails_fd, s->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) : -1, files = -1;
	int rc = !claimed ? -1 : jd < 0 ? err_errno(e, "opening jail %s", s->name) : 0;
	if (rc == 0 && mkdirat(jd, "mnt", 0700) < 0)
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
	if (rc && locked) {
		struct err ignored;
		if (rm_tree(c->jails_fd, s->name, &ignored) == 0 && claimed)
			slot_release(r->slot, s->name);
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

int linux_snap_create(struct priv_ctx *c, const struct req_snap *r, struct reply *out, struct err *e)
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
int linux_snap_restore(struct priv_ctx *c, const struct req_snap *r, struct err *e)
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

int linux_snap_delete(struct priv_ctx *c, const struct req_snap *r, struct err *e)
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

int linux_export(struct priv_ctx *c, const struct req_export *r, int fd, struct err *e)
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

int linux_import(struct priv_ctx *c, const struct req_import *r, int fd, struct err *e)
{
	uid_t base = slot_uid(c, r->slot);
	if (mkdirat(c->jails_fd, r->name, 0700) < 0)
		return errno == EEXIST ? err_field(e, ERR_CONFLICT, "name", "files of a jail named %s already exist on this host", r->name)
				       : err_errno(e, "creating jail %s", r->name);
	bool locked = jail_lock(c, r->name, e) == 0; /* as in linux_create */
	bool claimed = locked && slot_claim(c, r->slot, r->name, e) == 0;
	int jd = claimed ? open_dir_at(c->jails_fd, r->name) : -1, files = -1, dst = -1;
	const char *layer = r->thin ? "upper" : "root";
	int rc = !claimed ? -1
		 : jd < 0 || mkdirat(jd, "mnt", 0700) < 0 ? err_errno(e, "creating jail %s", r->name) : 0;
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
		if (locked && rm_tree(c->jails_fd, r->name, &ignored) == 0 && claimed)
			slot_release(r->slot, r->name);
	}
	if (jd >= 0)
		close(jd);
	return rc;
}

int linux_destroy(struct priv_ctx *c, const char *name, struct err *e)
{
	struct runrec rec = { 0 };
	if (runrec_alive(c->jails_fd, name, &rec))
		return err_set(e, ERR_WRONG_STATE, "jail %s is running; stop it before destroying it", name);
	if (rec.pid > 0)
		cleanup_runtime(c, name, rec.slot, rec.slot < c->max_slots);
	else
		cleanup_runtime(c, name, 0, false);
	int jd = openat(c->jails_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	uint32_t slot;
	bool slotted = slot_of_files(c, name, &slot);
	if (jd >= 0) {
		disk_unmount(jd);
		close(jd);
	}
	if (rm_tree(c->jails_fd, name, e))
		return -1;
	if (slotted) /* only once no file of the jail is left on the slot's uid */
		slot_release(slot, name);
	char p[NAME_SIZE + 8];
	snprintf(p, sizeof p, "%s.lock", name); /* an older jaild's lock file */
	unlinkat(c->jails_fd, p, 0);
	return 0;
}

