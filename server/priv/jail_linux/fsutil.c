#include "fsutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/fs.h>
#include <linux/openat2.h>
#include <sys/ioctl.h>

int open_beneath(int dirfd, const char *path, int flags, mode_t mode)
{
	struct open_how how = {
		.flags = (uint64_t)(flags | O_CLOEXEC),
		.mode = (flags & O_CREAT) ? mode : 0,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof how);
}

int open_no_symlinks(const char *path, int flags)
{
	struct open_how how = {
		.flags = (uint64_t)(flags | O_CLOEXEC),
		.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	return (int)syscall(SYS_openat2, AT_FDCWD, path, &how, sizeof how);
}

const char *fd_path(int fd, char buf[32])
{
	snprintf(buf, 32, "/proc/self/fd/%d", fd);
	return buf;
}

/* Why: ext4 puts a new inode in its parent directory's block group and, without a
 * journal, skips every inode of that group freed in the last minutes, one buffer
 * lookup each. With every jail under one directory, each jail made and destroyed
 * lengthened the next one's search: 100 starts in a row after 200 create/destroy
 * cycles ran at 82/s, and at 151-160/s with the jails spread. */
bool spread_subdirs(int dir)
{
	int flags = 0;
	if (ioctl(dir, FS_IOC_GETFLAGS, &flags) < 0)
		return false;
	if (flags & FS_TOPDIR_FL)
		return true;
	flags |= FS_TOPDIR_FL;
	return ioctl(dir, FS_IOC_SETFLAGS, &flags) == 0;
}

/* One pass over dir: unlinks what is not a directory and removes empty directories;
 * *sub gets a non-empty subdirectory to descend into (or -1 when there is none). */

static int rm_pass(int dir, dev_t dev, int *sub, struct err *e)
{
	*sub = -1;
	DIR *d = dir_stream(dir);
	if (!d)
		return err_errno(e, "opendir");
	struct dirent *de;
	int r = 0;
	while (r == 0 && *sub < 0 && (de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		struct stat st;
		if (fstatat(dir, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno != ENOENT)
				r = err_errno(e, "stat %s", de->d_name);
			continue;
		}
		if (!S_ISDIR(st.st_mode)) {
			if (unlinkat(dir, de->d_name, 0) < 0 && errno != ENOENT)
				r = err_errno(e, "unlink %s", de->d_name);
			continue;
		}
		if (st.st_dev != dev) {
			r = err_set(e, ERR_INTERNAL, "refusing to remove %s: another filesystem is mounted there", de->d_name);
			continue;
		}
		if (unlinkat(dir, de->d_name, AT_REMOVEDIR) == 0 || errno == ENOENT)
			continue;
		if (errno != ENOTEMPTY && errno != EEXIST) {
			r = err_errno(e, "rmdir %s", de->d_name);
			continue;
		}
		*sub = openat(dir, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (*sub < 0)
			r = err_errno(e, "open %s", de->d_name);
	}
	closedir(d);
	return r;
}

int rm_tree(int dirfd, const char *name, struct err *e)
{
	struct stat top;
	if (fstatat(dirfd, name, &top, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : err_errno(e, "stat %s", name);
	if (!S_ISDIR(top.st_mode))
		return unlinkat(dirfd, name, 0) < 0 && errno != ENOENT ? err_errno(e, "unlink %s", name) : 0;
	int cur = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (cur < 0)
		return err_errno(e, "open %s", name);
	/* Down into the first non-empty subdirectory, up by ".." once a directory is
	 * empty (the parent's next pass removes it): one descriptor, no recursion, any
	 * depth. The tree is the helper's own (a stopped jail's files, a snapshot), so
	 * ".." stays inside it; the top's identity is checked on the way back. */
	long depth = 0;
	int r = 0;
	for (;;) {
		int sub;
		if ((r = rm_pass(cur, top.st_dev, &sub, e)) != 0)
			break;
		if (sub >= 0) {
			close(cur);
			cur = sub;
			depth++;
			continue;
		}
		if (depth == 0)
			break;
		int up = openat(cur, "..", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		close(cur);
		cur = up;
		depth--;
		if (cur < 0) {
			r = err_errno(e, "going back up while removing %s", name);
			break;
		}
	}
	struct stat now;
	if (r == 0 && (fstat(cur, &now) < 0 || now.st_ino != top.st_ino || now.st_dev != top.st_dev))
		r = err_set(e, ERR_INTERNAL, "the tree under %s moved while it was being removed", name);
	if (cur >= 0)
		close(cur);
	if (r == 0 && unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		r = err_errno(e, "rmdir %s", name);
	return r;
}

/* ---- copy with an owner shift ---- */

struct inode_seen {
	dev_t dev;
	ino_t ino;
	char *path; /* relative to the destination root */
};

struct copy_ctx {
	struct walk_path path;
	int dst_root;
	uid_t shift;
	int64_t bytes;  /* disk space of what was made */
	struct inode_seen *seen;
	size_t nseen, capseen;
	struct err *e;
};

static int remember(struct copy_ctx *c, const struct stat *st, const char *rel)
{
	if (c->nseen == c->capseen) {
		size_t cap = c->capseen ? c->capseen * 2 : 64;
		struct inode_seen *n = realloc(c->seen, cap * sizeof *n);
		if (!n)
			return err_set(c->e, ERR_INTERNAL, "out of memory copying template");
		c->seen = n;
		c->capseen = cap;
	}
	char *p = strdup(rel);
	if (!p)
		return err_set(c->e, ERR_INTERNAL, "out of memory copying template");
	c->seen[c->nseen++] = (struct inode_seen){ st->st_dev, st->st_ino, p };
	return 0;
}

static const char *seen_before(struct copy_ctx *c, const struct stat *st)
{
	for (size_t i = 0; i < c->nseen; i++)
		if (c->seen[i].dev == st->st_dev && c->seen[i].ino == st->st_ino)
			return c->seen[i].path;
	return NULL;
}

/* Copies [off, end) of in to the same place in out. */
static int copy_range(int in, int out, off_t off, off_t end, struct err *e)
{
	while (off < end) {
		loff_t a = off, b = off;
		ssize_t n = copy_file_range(in, &a, out, &b, (size_t)(end - off < (1 << 30) ? end - off : (1 << 30)), 0);
		if (n > 0) {
			off += n;
			continue;
		}
		if (n == 0)
			return 0; /* the file shrank meanwhile */
		if (errno != EXDEV && errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP)
			return err_errno(e, "copying file data");
		/* across filesystems on older kernels: plain reads and writes */
		char buf[65536];
		ssize_t r = pread(in, buf, (size_t)(end - off < (off_t)sizeof buf ? end - off : (off_t)sizeof buf), off);
		if (r < 0)
			return err_errno(e, "reading file data");
		if (r == 0)
			return 0;
		if (pwrite(out, buf, (size_t)r, off) != r)
			return err_errno(e, "writing file data");
		off += r;
	}
	return 0;
}

/* The file's data, holes kept holes: a sparse 2 GiB file in a jail must not become
 * 2 GiB of real disk in a snapshot (SEEK_DATA/SEEK_HOLE; the whole file where the
 * filesystem cannot tell). */
static int copy_file_data(int in, int out, struct err *e)
{
	struct stat st;
	if (fstat(in, &st) < 0)
		return err_errno(e, "stat");
	off_t pos = 0;
	while (pos < st.st_size) {
		off_t data = lseek(in, pos, SEEK_DATA);
		if (data < 0) {
			if (errno == ENXIO)
				break; /* a hole to the end */
			return copy_range(in, out, pos, st.st_size, e);
		}
		off_t hole = lseek(in, data, SEEK_HOLE);
		if (hole < 0)
			hole = st.st_size;
		if (copy_range(in, out, data, hole, e))
			return -1;
		pos = hole;
	}
	if (ftruncate(out, st.st_size) < 0)
		return err_errno(e, "sizing the copy");
	return 0;
}

static int copy_dir(struct copy_ctx *c, int src, int dst, const char *rel, int depth);

/* The extended attributes overlayfs keeps in its private layer (opaque directories,
 * redirects) and user ones. security.* (file capabilities, labels) are not copied: a
 * copy must never carry more privilege than a file the jail could make itself. */
bool xattr_copyable(const char *name)
{
	return strncmp(name, "trusted.overlay.", 16) == 0 || strncmp(name, "user.", 5) == 0;
}

static int copy_xattrs(int in, int out, const char *rel, struct err *e)
{
	char names[8192], value[65536];
	ssize_t n = flistxattr(in, names, sizeof names);
	if (n < 0)
		return errno == ENOTSUP ? 0 : err_errno(e, "listing attributes of %s", rel);
	for (char *k = names; k < names + n; k += strlen(k) + 1) {
		if (!xattr_copyable(k))
			continue;
		ssize_t v = fgetxattr(in, k, value, sizeof value);
		if (v < 0 || fsetxattr(out, k, value, (size_t)v, 0) < 0)
			return err_errno(e, "copying attribute %s of %s", k, rel);
	}
	return 0;
}

static void count(struct copy_ctx *c, int fd)
{
	struct stat st;
	if (fstat(fd, &st) == 0)
		c->bytes += (int64_t)st.st_blocks * 512;
}

/* Apart from copy_one, so that its 4 KiB buffer is not in every level's frame. */
static __attribute__((noinline)) int copy_symlink(struct copy_ctx *c, int src, int dst, const char *name, const char *rel,
						  uid_t uid, gid_t gid)
{
	char target[4096];
	ssize_t n = readlinkat(src, name, target, sizeof target - 1);
	if (n < 0)
		return err_errno(c->e, "readlink %s", rel);
	target[n] = '\0';
	if (symlinkat(target, dst, name) < 0 || fchownat(dst, name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
		return err_errno(c->e, "symlink %s", rel);
	return 0;
}

/* A copied file or directory takes the source's owner (shifted), mode, extended
 * attributes and times; chown comes before chmod, which clears setuid bits it puts back. */
static int copy_finish(struct copy_ctx *c, int from, int to, const char *rel, const struct stat *st, uid_t uid, gid_t gid)
{
	if (fchown(to, uid, gid) < 0 || fchmod(to, st->st_mode & 07777) < 0)
		return err_errno(c->e, "chown %s", rel);
	if (copy_xattrs(from, to, rel, c->e))
		return -1;
	count(c, to);
	struct timespec ts[2] = { st->st_atim, st->st_mtim };
	futimens(to, ts);
	return 0;
}

static int copy_one(struct copy_ctx *c, int src, int dst, const char *name, const char *rel, int depth)
{
	struct stat st;
	if (fstatat(src, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return err_errno(c->e, "stat %s", rel);
	uid_t uid = st.st_uid + c->shift;
	gid_t gid = st.st_gid + c->shift;
	if (!S_ISDIR(st.st_mode) && st.st_nlink > 1) {
		const char *first = seen_before(c, &st);
		if (first) {
			if (linkat(c->dst_root, first, dst, name, 0) < 0)
				return err_errno(c->e, "hard link %s", rel);
			return 0;
		}
		if (remember(c, &st, rel))
			return -1;
	}
	if (S_ISDIR(st.st_mode)) {
		if (mkdirat(dst, name, 0700) < 0)
			return err_errno(c->e, "mkdir %s", rel);
		int s = openat(src, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		int d = openat(dst, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		int r = (s < 0 || d < 0) ? err_errno(c->e, "open %s", rel) : copy_dir(c, s, d, rel, depth + 1);
		if (r == 0)
			r = copy_finish(c, s, d, rel, &st, uid, gid);
		if (s >= 0)
			close(s);
		if (d >= 0)
			close(d);
		return r;
	}
	if (S_ISREG(st.st_mode)) {
		int in = openat(src, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (in < 0)
			return err_errno(c->e, "open %s", rel);
		int out = openat(dst, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (out < 0) {
			close(in);
			return err_errno(c->e, "create %s", rel);
		}
		int r = copy_file_data(in, out, c->e);
		if (r == 0)
			r = copy_finish(c, in, out, rel, &st, uid, gid);
		close(in);
		close(out);
		return r;
	}
	if (S_ISLNK(st.st_mode))
		return copy_symlink(c, src, dst, name, rel, uid, gid);
	/* fifos, sockets, and of devices only overlay whiteouts (0/0): a real device node
	 * in a template or a jail's files would be a door to the host's hardware */
	if ((S_ISCHR(st.st_mode) && st.st_rdev != 0) || S_ISBLK(st.st_mode))
		return err_set(c->e, ERR_INVALID, "%s is a device node; device nodes are not copied into jails", rel);
	if (mknodat(dst, name, st.st_mode, st.st_rdev) < 0 || fchownat(dst, name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0 ||
	    fchmodat(dst, name, st.st_mode & 07777, 0) < 0)
		return err_errno(c->e, "mknod %s", rel);
	return 0;
}

/* A walk holds about three descriptors a level: room for WALK_DEPTH_MAX levels. Only
 * ever called in a worker that exits after its one operation. */
void walk_fd_room(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 4 * WALK_DEPTH_MAX) {
		rl.rlim_cur = rl.rlim_max < 4 * WALK_DEPTH_MAX ? rl.rlim_max : 4 * WALK_DEPTH_MAX;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

int walk_dir(int dir, struct walk_path *p, int depth, walk_fn fn, void *arg, struct err *e)
{
	if (depth >= WALK_DEPTH_MAX) {
		size_t n = strlen(p->buf);
		return err_set(e, ERR_INVALID,
			       "the files hold a tree more than %d directories deep (at ...%s); snapshots, exports and copies stop "
			       "there: flatten it first",
			       WALK_DEPTH_MAX, p->buf + (n > 48 ? n - 48 : 0));
	}
	DIR *d = dir_stream(dir);
	if (!d)
		return err_errno(e, "opendir %s", p->buf);
	struct dirent *de;
	int r = 0;
	size_t len = p->len;
	while (r == 0 && (de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		int n = snprintf(p->buf + len, sizeof p->buf - len, "%s%s", len ? "/" : "", de->d_name);
		if (n < 0 || (size_t)n >= sizeof p->buf - len) {
			p->buf[len] = '\0';
			r = err_set(e, ERR_INVALID, "a path under %s is longer than 4096 bytes", p->buf);
			break;
		}
		p->len = len + (size_t)n;
		r = fn(arg, dir, de->d_name, p->buf, depth);
		p->len = len;
		p->buf[len] = '\0';
	}
	closedir(d);
	return r;
}

struct copy_step {
	struct copy_ctx *c;
	int dst;
};

static int copy_step(void *arg, int dir, const char *name, const char *rel, int depth)
{
	struct copy_step *s = arg;
	return copy_one(s->c, dir, s->dst, name, rel, depth);
}

static int copy_dir(struct copy_ctx *c, int src, int dst, const char *rel, int depth)
{
	struct copy_step s = { c, dst };
	(void)rel; /* the walk keeps the path in c->path */
	return walk_dir(src, &c->path, depth, copy_step, &s, c->e);
}

/* Whether dir's tree is at most WALK_DEPTH_MAX - depth directories deep: its
 * directories read (their types from the listing), nothing else opened or made. No
 * DIR stream (32 KiB of heap each, a level each): a listing of 2 KiB on the stack a
 * level, WALK_DEPTH_MAX levels at most. */
static int depth_fits(int dir, int depth, struct err *e)
{
	if (depth >= WALK_DEPTH_MAX)
		return err_set(e, ERR_INVALID,
			       "the files hold a tree more than %d directories deep; snapshots, exports and copies stop there: "
			       "flatten it first",
			       WALK_DEPTH_MAX);
	_Alignas(8) char buf[2048];
	long n;
	while ((n = syscall(SYS_getdents64, dir, buf, sizeof buf)) > 0) {
		for (long off = 0; off < n;) {
			const struct dirent64 *de = (const struct dirent64 *)(buf + off);
			off += de->d_reclen;
			if ((de->d_type != DT_DIR && de->d_type != DT_UNKNOWN) || strcmp(de->d_name, ".") == 0 ||
			    strcmp(de->d_name, "..") == 0)
				continue;
			int sub = openat(dir, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub < 0)
				continue; /* not a directory after all, or gone */
			int r = depth_fits(sub, depth + 1, e);
			close(sub);
			if (r)
				return r;
		}
	}
	return n < 0 ? err_errno(e, "reading a directory of the tree") : 0;
}

/* Why first: a tree deeper than a copy may go was found only at WALK_DEPTH_MAX, after
 * as many directories had been made, and then removed again: a jail root asking for
 * snapshots of such a tree in a loop had the helper make and free hundreds of inodes a
 * second, which ext4 without a journal makes ever slower to find room for, in the
 * kernel where nothing else on that CPU runs meanwhile. Reading the directories is
 * cheap; a tree that passes may still change under the copy, whose own check stands. */
static int tree_fits(int src, struct err *e)
{
	int fd = openat(src, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC); /* its own offset: src is read again */
	if (fd < 0)
		return err_errno(e, "reading the tree");
	int r = depth_fits(fd, 0, e);
	close(fd);
	return r;
}

int copy_tree_shift(int src, int dst, uid_t shift, int64_t *bytes, struct err *e)
{
	struct copy_ctx c = { .dst_root = dst, .shift = shift, .e = e }; /* c.path: one buffer for the walk */
	walk_fd_room();
	if (tree_fits(src, e))
		return -1;
	struct stat st;
	int r = fstat(src, &st) < 0 ? err_errno(e, "stat template") : copy_dir(&c, src, dst, "", 0);
	if (r == 0 && (fchown(dst, st.st_uid + shift, st.st_gid + shift) < 0 || fchmod(dst, st.st_mode & 07777) < 0))
		r = err_errno(e, "chown copy root");
	if (r == 0)
		r = copy_xattrs(src, dst, "/", e);
	if (bytes)
		*bytes = c.bytes;
	for (size_t i = 0; i < c.nseen; i++)
		free(c.seen[i].path);
	free(c.seen);
	return r;
}

static int ensure_in(int rootfd, const char *path, uid_t owner, bool file, struct err *e)
{
	char buf[4096];
	if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
		return err_set(e, ERR_INVALID, "path too long: %s", path);
	int cur = dup(rootfd);
	if (cur < 0)
		return err_errno(e, "dup");
	char *save = NULL;
	char *comp = strtok_r(buf, "/", &save);
	while (comp) {
		char *next = strtok_r(NULL, "/", &save);
		bool last = next == NULL;
		int fd = openat(cur, comp, O_PATH | O_NOFOLLOW | O_CLOEXEC | (last && file ? 0 : O_DIRECTORY));
		if (fd < 0 && errno == ENOENT) {
			int r = (last && file) ? mknodat(cur, comp, S_IFREG | 0600, 0) : mkdirat(cur, comp, 0755);
			if (r < 0 && errno != EEXIST) {
				err_errno(e, "creating %s in the jail", path);
				close(cur);
				return -1;
			}
			if (fchownat(cur, comp, owner, owner, AT_SYMLINK_NOFOLLOW) < 0) {
				err_errno(e, "chown %s", path);
				close(cur);
				return -1;
			}
			fd = openat(cur, comp, O_PATH | O_NOFOLLOW | O_CLOEXEC | (last && file ? 0 : O_DIRECTORY));
		}
		if (fd < 0) {
			int saved = errno;
			close(cur);
			if (saved == ELOOP || saved == ENOTDIR)
				return err_set(e, ERR_INVALID, "%s in the jail is a symlink or not a directory; refusing to mount over it", path);
			errno = saved;
			return err_errno(e, "opening %s in the jail", path);
		}
		if (last && file) {
			struct stat st;
			if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
				close(fd);
				close(cur);
				return err_set(e, ERR_INVALID, "%s in the jail is not a regular file", path);
			}
		}
		close(cur);
		cur = fd;
		comp = next;
	}
	return cur;
}

int ensure_dir_in(int rootfd, const char *path, uid_t owner, struct err *e)
{
	return ensure_in(rootfd, path, owner, false, e);
}

int ensure_file_in(int rootfd, const char *path, uid_t owner, struct err *e)
{
	return ensure_in(rootfd, path, owner, true, e);
}
