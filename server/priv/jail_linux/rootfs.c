#include "rootfs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/mount.h>

#include "fsutil.h"

/* What devfs ruleset 4 gives a FreeBSD jail: these nodes and a private devpts. Each is
 * a bind of the host's node onto an empty file in the jail's own small /dev tmpfs. */
static const char *const dev_nodes[] = { "null", "zero", "full", "random", "urandom", "tty" };

static const struct {
	const char *path;
	const char *target;
} dev_links[] = {
	{ "ptmx", "pts/ptmx" },
	{ "fd", "/proc/self/fd" },
	{ "stdin", "/proc/self/fd/0" },
	{ "stdout", "/proc/self/fd/1" },
	{ "stderr", "/proc/self/fd/2" },
};

/* /proc entries that tell about or act on the whole host: hidden behind /dev/null or
 * an empty directory, or made read-only (as crun and Docker do). */
static const char *const proc_masked_files[] = { "kcore", "keys", "latency_stats", "timer_list", "sched_debug", "sysrq-trigger" };
static const char *const proc_masked_dirs[] = { "acpi", "scsi" };
static const char *const proc_readonly[] = { "sys", "bus", "fs", "irq" };

/* Sets attrs on a cloned tree and makes it private. A clone of a shared mount (systemd
 * makes / shared) joins its peer group: whatever is later mounted on it in the jail
 * would propagate back to the host, and pivot_root refuses a shared root. */
static int private_attrs(int tree, uint64_t attrs, int userns_fd, bool recursive, const char *what, struct err *e)
{
	struct mount_attr a = { .attr_set = attrs, .propagation = MS_PRIVATE,
				.userns_fd = (uint64_t)(userns_fd >= 0 ? userns_fd : 0) };
	if (mount_setattr(tree, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), &a, sizeof a) < 0)
		return err_errno(e, "setting attributes of %s", what);
	return 0;
}

/* Clone the mount at (dirfd, path), set attrs, and attach it at (tdir, tpath). */
static int bind_clone(int dirfd, const char *path, int tdir, const char *tpath, uint64_t attrs, int userns_fd,
		      bool recursive, const char *what, struct err *e)
{
	unsigned flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (recursive ? AT_RECURSIVE : 0) | (*path ? 0 : AT_EMPTY_PATH);
	int t = open_tree(dirfd, path, flags);
	if (t < 0)
		return err_errno(e, "cloning mount for %s", what);
	if (private_attrs(t, attrs, userns_fd, recursive, what, e)) {
		close(t);
		return -1;
	}
	int r = move_mount(t, "", tdir, tpath, MOVE_MOUNT_F_EMPTY_PATH | (*tpath ? 0 : MOVE_MOUNT_T_EMPTY_PATH));
	if (r < 0)
		err_errno(e, "attaching %s", what);
	close(t);
	return r;
}

int rootfs_clone_tree(int fd, uint64_t attrs, int userns_fd, const char *what, struct err *e)
{
	int t = open_tree(fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | AT_RECURSIVE);
	if (t < 0)
		return err_errno(e, "cloning %s", what);
	if (private_attrs(t, attrs, userns_fd, true, what, e)) {
		close(t);
		return -1;
	}
	return t;
}

static int attach(int tree, int dirfd, const char *path, const char *what, struct err *e)
{
	if (move_mount(tree, "", dirfd, path, MOVE_MOUNT_F_EMPTY_PATH | (*path ? 0 : MOVE_MOUNT_T_EMPTY_PATH)) < 0)
		return err_errno(e, "attaching %s", what);
	return 0;
}

static int mount_root(const struct rootfs_plan *p, int jail_fd, struct err *e)
{
	char opts[512], fdb[32];
	if (!p->thin) /* thick: the jail's own copy, bound onto mnt so that it is a mount point */
		return attach(p->root_tree, jail_fd, "mnt", "the jail's root", e);
	/* thin: the shared template, idmapped so that its root-owned files belong to this
	 * jail's root, read-only under an overlay whose upper layer is the jail's own. The
	 * overlay goes on top of the template at mnt: its lowerdir is what mnt shows at the
	 * moment of the mount (a directory just for the template would be one more inode
	 * made and freed with each jail) */
	if (attach(p->root_tree, jail_fd, "mnt", "the template", e))
		return -1;
	const char *jd = fd_path(jail_fd, fdb);
	const char *on = p->disk ? "/disk" : "";
	snprintf(opts, sizeof opts, "lowerdir=%s/mnt,upperdir=%s%s/upper,workdir=%s%s/work", jd, jd, on, jd, on);
	char mnt[64];
	snprintf(mnt, sizeof mnt, "%s/mnt", jd);
	/* nodev: a device node in the template or the jail's layer opens nothing (the jail
	 * gets its devices from its own /dev) */
	if (mount("overlay", mnt, "overlay", MS_NODEV, opts) < 0)
		return err_errno(e, "mounting the overlay root (%s)", opts);
	return 0;
}

/* The /proc files lxcfs answers for the reader's cgroup: a jail's free(1), top(1) and
 * uptime see its own limits and life, not the host's. */
static const char *const lxcfs_files[] = { "meminfo", "cpuinfo", "stat", "uptime", "loadavg", "swaps", "diskstats" };

static int mount_lxcfs(int proc, const char *lxcfs, struct err *e)
{
	char path[300];
	for (size_t i = 0; i < sizeof lxcfs_files / sizeof *lxcfs_files; i++) {
		snprintf(path, sizeof path, "%s/proc/%s", lxcfs, lxcfs_files[i]);
		int src = open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (src < 0)
			continue; /* not in this lxcfs */
		int r = bind_clone(src, "", proc, lxcfs_files[i], MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC,
				   -1, false, path, e);
		close(src);
		if (r < 0)
			return -1;
	}
	return 0;
}

/* No SysV IPC objects can be made in the jail's IPC namespace, and only host root (who
 * owns that namespace) could raise these again. Written through the jail's own /proc,
 * just mounted: under the host's, every name in /proc/sys/kernel is one of as many
 * entries as there are IPC namespaces (each has its own set), and each lookup went
 * through them all, a start the slower for every jail running. */
static int set_ipc_off(int proc, struct err *e)
{
	static const char *const off[][2] = { { "sys/kernel/shmmni", "0" }, { "sys/kernel/msgmni", "0" }, { "sys/kernel/sem", "0 0 0 0" } };
	for (size_t i = 0; i < sizeof off / sizeof *off; i++) {
		int fd = openat(proc, off[i][0], O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
		size_t len = strlen(off[i][1]);
		ssize_t n = fd < 0 ? -1 : write(fd, off[i][1], len);
		if (fd >= 0)
			close(fd);
		if (n != (ssize_t)len)
			return err_errno(e, "turning SysV IPC off in the jail (%s)", off[i][0]);
	}
	return 0;
}

static int mount_proc(int rootfd, uid_t base, const char *lxcfs, bool ipc_off, struct err *e)
{
	char fdb[32];
	int d = ensure_dir_in(rootfd, "proc", base, e);
	if (d < 0)
		return -1;
	int r = mount("proc", fd_path(d, fdb), "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
	close(d);
	if (r < 0)
		return err_errno(e, "mounting /proc");
	int proc = openat(rootfd, "proc", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (proc < 0)
		return err_errno(e, "opening the jail's /proc");
	if (ipc_off && set_ipc_off(proc, e)) {
		close(proc);
		return -1;
	}
	int null = open("/dev/null", O_PATH | O_CLOEXEC);
	for (size_t i = 0; r == 0 && i < sizeof proc_masked_files / sizeof *proc_masked_files; i++) {
		if (faccessat(proc, proc_masked_files[i], F_OK, AT_SYMLINK_NOFOLLOW) < 0)
			continue; /* not in this kernel */
		r = bind_clone(null, "", proc, proc_masked_files[i], 0, -1, false, proc_masked_files[i], e);
	}
	for (size_t i = 0; r == 0 && i < sizeof proc_masked_dirs / sizeof *proc_masked_dirs; i++) {
		int sub = openat(proc, proc_masked_dirs[i], O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sub < 0)
			continue;
		if (mount("tmpfs", fd_path(sub, fdb), "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=0") < 0)
			r = err_errno(e, "masking /proc/%s", proc_masked_dirs[i]);
		close(sub);
	}
	for (size_t i = 0; r == 0 && i < sizeof proc_readonly / sizeof *proc_readonly; i++) {
		if (faccessat(proc, proc_readonly[i], F_OK, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		r = bind_clone(proc, proc_readonly[i], proc, proc_readonly[i],
			       MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC, -1, true,
			       proc_readonly[i], e);
	}
	if (r == 0 && lxcfs)
		r = mount_lxcfs(proc, lxcfs, e);
	if (null >= 0)
		close(null);
	close(proc);
	return r;
}

static int mount_dev(int rootfd, uid_t base, uint32_t pty_max, struct err *e)
{
	char fdb[32], opts[128];
	int d = ensure_dir_in(rootfd, "dev", base, e);
	if (d < 0)
		return -1;
	snprintf(opts, sizeof opts, "mode=755,size=64k,nr_inodes=64,uid=%u,gid=%u", base, base);
	int r = mount("tmpfs", fd_path(d, fdb), "tmpfs", MS_NOSUID | MS_NOEXEC, opts);
	close(d);
	if (r < 0)
		return err_errno(e, "mounting the jail's /dev");
	int dev = openat(rootfd, "dev", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dev < 0)
		return err_errno(e, "opening the jail's /dev");
	for (size_t i = 0; r == 0 && i < sizeof dev_nodes / sizeof *dev_nodes; i++) {
		char host[64];
		snprintf(host, sizeof host, "/dev/%s", dev_nodes[i]);
		int src = open(host, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		int dst = src < 0 ? -1 : ensure_file_in(dev, dev_nodes[i], base, e);
		if (src < 0)
			r = err_errno(e, "opening host %s", host);
		else if (dst < 0)
			r = -1;
		else
			r = bind_clone(src, "", dst, "", MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC, -1, false, host, e);
		if (src >= 0)
			close(src);
		if (dst >= 0)
			close(dst);
	}
	if (r == 0) {
		/* a devpts of its own: the jail sees its own terminals and nobody else's */
		int pts = ensure_dir_in(dev, "pts", base, e);
		/* max=: every devpts instance draws on the host's one pty.max; a jail gets its
		 * share and no more */
		snprintf(opts, sizeof opts, "newinstance,ptmxmode=0666,mode=0620,gid=%u,max=%u", base + 5, pty_max);
		if (pts < 0)
			r = -1;
		else if (mount("devpts", fd_path(pts, fdb), "devpts", MS_NOSUID | MS_NOEXEC, opts) < 0)
			r = err_errno(e, "mounting the jail's devpts");
		if (pts >= 0)
			close(pts);
	}
	if (r == 0) {
		int shm = ensure_dir_in(dev, "shm", base, e);
		snprintf(opts, sizeof opts, "mode=1777,size=64m,uid=%u,gid=%u", base, base);
		if (shm < 0)
			r = -1;
		else if (mount("tmpfs", fd_path(shm, fdb), "tmpfs", MS_NOSUID | MS_NODEV, opts) < 0)
			r = err_errno(e, "mounting /dev/shm");
		if (shm >= 0)
			close(shm);
	}
	for (size_t i = 0; r == 0 && i < sizeof dev_links / sizeof *dev_links; i++)
		if (symlinkat(dev_links[i].target, dev, dev_links[i].path) < 0 ||
		    fchownat(dev, dev_links[i].path, base, base, AT_SYMLINK_NOFOLLOW) < 0)
			r = err_errno(e, "creating /dev/%s", dev_links[i].path);
	/* no new nodes, files or links in /dev from inside the jail */
	if (r == 0) {
		struct mount_attr a = { .attr_set = MOUNT_ATTR_RDONLY };
		if (mount_setattr(dev, "", AT_EMPTY_PATH, &a, sizeof a) < 0)
			r = err_errno(e, "making /dev read-only");
	}
	close(dev);
	return r;
}

static int mount_binds(const struct rootfs_plan *p, int rootfd, struct err *e)
{
	for (uint32_t i = 0; i < p->spec->nmounts; i++) {
		const struct jail_mount *m = &p->spec->mounts[i];
		int dst = p->mount_is_dir[i] ? ensure_dir_in(rootfd, m->target + 1, p->base, e)
					     : ensure_file_in(rootfd, m->target + 1, p->base, e);
		if (dst < 0)
			return -1;
		int r = attach(p->mount_trees[i], dst, "", m->source, e);
		close(dst);
		if (r)
			return -1;
	}
	return 0;
}

int rootfs_enter(const struct rootfs_plan *p, struct err *e)
{
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return err_errno(e, "making the jail's mounts private");
	struct stat st;
	int jail_fd = open(p->jail_path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (jail_fd < 0 || fstat(jail_fd, &st) < 0 || st.st_dev != p->jail_dev || st.st_ino != p->jail_ino) {
		if (jail_fd >= 0)
			close(jail_fd);
		return err_set(e, ERR_INTERNAL, "%s is not the jail directory the helper checked", p->jail_path);
	}
	int rootfd = -1;
	if (mount_root(p, jail_fd, e) == 0)
		rootfd = openat(jail_fd, "mnt", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	close(jail_fd);
	if (rootfd < 0)
		return e->msg[0] ? -1 : err_errno(e, "opening the jail's root");
	int r = mount_proc(rootfd, p->base, p->lxcfs, !(p->spec->allow & ALLOW_SYSVIPC), e);
	if (r == 0)
		r = mount_dev(rootfd, p->base, p->pty_max, e);
	if (r == 0)
		r = mount_binds(p, rootfd, e);
	/* pivot_root(".", "."), then detach the old root stacked beneath: the host's
	 * filesystem is gone from this namespace, not merely hidden by a chroot */
	if (r == 0 && fchdir(rootfd) < 0)
		r = err_errno(e, "entering the jail's root");
	if (r == 0 && syscall(SYS_pivot_root, ".", ".") < 0)
		r = err_errno(e, "pivot_root");
	if (r == 0 && umount2(".", MNT_DETACH) < 0)
		r = err_errno(e, "detaching the host's root");
	if (r == 0 && chdir("/") < 0)
		r = err_errno(e, "chdir /");
	close(rootfd);
	return r;
}
