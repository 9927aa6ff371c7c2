/* freebsd.h — the FreeBSD backend's own state and what its phases share.
 *
 * A jail here is a FreeBSD jail(2) named jaild-TAG-NAME (TAG from the data dir, so two
 * jailds on one host never touch each other's), persistent while jaild says it runs.
 * Its files, under DIR/jails/NAME/:
 *   upper/  thin: its own writable layer, unionfs over a read-only nullfs of the template
 *   root/   thick: its own copy of the template
 *   mnt/    where its root is assembled at start (nullfs/unionfs, devfs, mounts)
 *   log     what its first process writes
 *   run, exit, net   the shared records (../runrec.h): first process, how it ended, network
 *   mounts  the mount points made at start, in order: stop and sweep undo exactly these
 *   disk.img, disk/   limits.disk: its own files on an md(4) disk (store_plain.c)
 * Jail root is uid 0 confined by the jail (securelevel 2, enforce_statfs 2, no
 * children, devfs ruleset 4, no chflags, no mounts); the host never runs anything of
 * the jail's but through jail_attach. */
#ifndef JAILD_FREEBSD_H
#define JAILD_FREEBSD_H

#include <stdbool.h>
#include <stdint.h>

#include "../ctx.h"
#include "compat.h"
#include "proto.h"
#include "sys.h"

/* the devfs ruleset jails' /dev gets: jail(8)'s devfsrules_jail (etc/defaults/devfs.rules) */
#define FB_DEVFS_RULESET "4"
#define FB_JAIL_LOG "log"
#define FB_MOUNTS_REC "mounts"
#define FB_MOUNTS_MAX (MOUNTS_MAX + 3)

struct fb_impl {
	/* where jails' addresses are aliased: the uplink when the pool is routed, else lo0 */
	char alias4_if[FB_IFNAMSIZ], alias6_if[FB_IFNAMSIZ];
	bool pf_anchors; /* pf.conf calls our anchors; without, ports and rules cannot work */
	const struct fb_store_ops *store;
	char zfs[256]; /* the dataset mounted at DIR/jails, when store is ZFS */
};

static inline struct fb_impl *FB(const struct priv_ctx *c)
{
	return (struct fb_impl *)c->impl;
}

/* jail.c */
void fb_kname(const struct priv_ctx *c, const char *name, char buf[96]);
int fb_open_jail_dir(struct priv_ctx *c, const char *name, struct err *e);
/* "DIR/jails/NAME/rel" into buf */
int fb_jail_path(const struct priv_ctx *c, const char *name, const char *rel, char *buf, size_t size, struct err *e);
/* the live jail's id and run record: -1 with ERR_WRONG_STATE when it is not running */
struct runrec;
int fb_running(struct priv_ctx *c, const char *name, struct runrec *rec, struct err *e);

/* start.c: a directory beneath root (dirfd), every component a real directory (made
 * when missing, root-owned 0755), never a symlink: where a mount may go */
int fb_dir_beneath(int rootfd, const char *rel, struct err *e);
int fb_create(struct priv_ctx *c, const struct req_spec *r, struct err *e);
int fb_start(struct priv_ctx *c, const struct req_spec *r, struct reply *out, struct err *e);

/* stop.c: what a jail had while it ran (jail, rules, aliases, mounts), undone in
 * reverse order; each step is tried whatever the one before did */
void fb_teardown(struct priv_ctx *c, const char *name);
int fb_stop(struct priv_ctx *c, const struct req_stop *r, struct err *e);

/* enter.c */
int fb_exec(struct priv_ctx *c, const struct req_exec *r, const int fds[3], struct reply *out, struct err *e);
int fb_console(struct priv_ctx *c, const struct req_console *r, struct reply *out, int *master, struct err *e);

/* net.c */
int fb_net_init(struct priv_ctx *c, struct err *e);
int fb_alias(struct priv_ctx *c, bool add, int family, const void *addr, struct err *e);
/* the pf rules of one jail's anchor (jaild/KNAME), from its network record */
struct netrec;
struct textbuf;
void fb_pf_rules(const struct priv_ctx *c, const struct netrec *r, struct textbuf *b);
int fb_net_apply(struct priv_ctx *c, const char *name, struct err *e);
void fb_net_clear(struct priv_ctx *c, const char *name);
int fb_net_set(struct priv_ctx *c, const struct req_net *r, struct err *e);

/* limits.c: rctl rules */
int fb_limits_apply(struct priv_ctx *c, const char *kname, const struct jail_limits *l, bool clear_unset, struct err *e);
int fb_set_limits(struct priv_ctx *c, const struct req_limits *r, struct err *e);

/* Where a jail's files are kept: plain directories (store_plain.c: copies, md(4)
 * disks) or ZFS datasets (store_zfs.c: clones, snapshots, quotas), chosen at init by
 * whether DIR/jails is a dataset's mount point. Every op takes the jail's name; the
 * jail's directory DIR/jails/NAME and its mnt/ exist already. */
struct fb_store_ops {
	const char *name;
	/* where its own files live, relative to DIR/jails ("NAME", or "NAME/disk") */
	int (*files)(struct priv_ctx *c, const char *name, char rel[96], struct err *e);
	/* its layer: upper/ (thin) or root/ (thick: the template's copy, or empty when
	 * tmpl is NULL, for an import); disk > 0: limits.disk */
	int (*make)(struct priv_ctx *c, const char *name, bool thin, const char *tmpl, int64_t disk, struct err *e);
	int (*grow)(struct priv_ctx *c, const char *name, int64_t bytes, struct err *e);
	int (*snap_create)(struct priv_ctx *c, const char *name, const char *snap, int64_t *bytes, struct err *e);
	/* the jail is stopped */
	int (*snap_restore)(struct priv_ctx *c, const char *name, const char *snap, struct err *e);
	int (*snap_delete)(struct priv_ctx *c, const char *name, const char *snap, struct err *e);
	/* before DIR/jails/NAME is removed: what holds its files let go of */
	void (*release)(struct priv_ctx *c, const char *name);
};
extern const struct fb_store_ops fb_store_plain, fb_store_zfs;
/* store_zfs.c: picks the store */
void fb_store_init(struct priv_ctx *c);

/* A jail's own files: FILES (under DIR/jails), its layer ("upper": thin, "root":
 * thick), and their paths. */
struct fb_where {
	char files[96];
	const char *layer;
	char layer_rel[128]; /* FILES/LAYER, under DIR/jails */
	char abs[512];       /* DIR/jails/FILES */
	char layer_abs[640]; /* DIR/jails/FILES/LAYER */
};
int fb_where(struct priv_ctx *c, const char *name, struct fb_where *w, struct err *e);
/* ERR_WRONG_STATE when the kernel has the jail */
int fb_stopped(struct priv_ctx *c, const char *name, struct err *e);
/* a tree removed, file flags cleared first, never crossing a mount */
int fb_remove_tree(const char *path, struct err *e);

/* files.c */
int fb_tool(char *const argv[], struct err *e);
int fb_template_minimal(struct priv_ctx *c, struct err *e);
int fb_template_tar(struct priv_ctx *c, const char *name, bool replace, int fd, struct reply *out, struct err *e);
int fb_template_dir(struct priv_ctx *c, const char *name, bool replace, const char *source, struct err *e);
int fb_template_delete(struct priv_ctx *c, const char *name, struct err *e);
int fb_destroy(struct priv_ctx *c, const char *name, struct err *e);
int fb_snap_create(struct priv_ctx *c, const struct req_snap *r, struct reply *out, struct err *e);
int fb_snap_restore(struct priv_ctx *c, const struct req_snap *r, struct err *e);
int fb_snap_delete(struct priv_ctx *c, const struct req_snap *r, struct err *e);
int fb_export(struct priv_ctx *c, const struct req_export *r, int fd, struct err *e);
int fb_import(struct priv_ctx *c, const struct req_import *r, int fd, struct err *e);

#endif
