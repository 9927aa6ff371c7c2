/* tar_tree.c — jaild-tar's work (tar_main.c): trees in and out of tar streams with
 * libarchive. Linked into jaild-tar only, never into the helper (tar_tool.c). */
#include "tarball.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "fsutil.h"

#define IDS 65536

/* Keeps only the extended attributes a copy may carry (see copy_xattrs in fsutil.c). */
static void filter_xattrs(struct archive_entry *en)
{
	struct keep {
		char *name;
		void *value;
		size_t size;
	} keep[32];
	int n = 0;
	const char *name;
	const void *value;
	size_t size;
	archive_entry_xattr_reset(en);
	while (n < 32 && archive_entry_xattr_next(en, &name, &value, &size) == ARCHIVE_OK) {
		if (!xattr_copyable(name))
			continue;
		keep[n].name = strdup(name);
		keep[n].value = malloc(size ? size : 1);
		if (keep[n].value)
			memcpy(keep[n].value, value, size);
		keep[n++].size = size;
	}
	archive_entry_xattr_clear(en);
	for (int i = 0; i < n; i++) {
		if (keep[i].name && keep[i].value)
			archive_entry_xattr_add_entry(en, keep[i].name, keep[i].value, keep[i].size);
		free(keep[i].name);
		free(keep[i].value);
	}
}

/* One entry's checks; a message (for the caller) when it must be refused. */
static const char *refuse(struct archive_entry *en, const struct tar_in *in)
{
	mode_t type = archive_entry_filetype(en);
	if (archive_entry_uid(en) >= IDS || archive_entry_gid(en) >= IDS)
		return "owners must be ids 0 to 65535 (the ids a jail has)";
	if (type == AE_IFCHR && in->whiteouts && archive_entry_rdev(en) == 0)
		return NULL;
	if (type == AE_IFCHR || type == AE_IFBLK)
		return "device nodes are not allowed (a jail gets its /dev from jaild)";
	if (type == AE_IFSOCK)
		return "sockets are not allowed";
	return NULL;
}

/* The child: confined to the target by chroot, it unpacks and exits 0, or writes why
 * not to msg_fd and exits 1. */
static void unpack_child(int fd, int dirfd, const struct tar_in *in, int msg_fd)
{
	char msg[512] = "";
	if (fchdir(dirfd) < 0 || chroot(".") < 0 || chdir("/") < 0) {
		snprintf(msg, sizeof msg, "cannot confine the unpacking: %s", strerror(errno));
		goto fail;
	}
	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	struct archive *r = archive_read_new(), *w = archive_write_disk_new();
	archive_read_support_format_tar(r);
	archive_read_support_format_gnutar(r);
	archive_read_support_filter_gzip(r);
	archive_read_support_filter_xz(r);
	archive_read_support_filter_zstd(r);
	archive_read_support_filter_bzip2(r);
	archive_write_disk_set_options(w, ARCHIVE_EXTRACT_SECURE_SYMLINKS | ARCHIVE_EXTRACT_SECURE_NODOTDOT |
						  ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS | ARCHIVE_EXTRACT_OWNER |
						  ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_XATTR |
						  ARCHIVE_EXTRACT_UNLINK);
	if (archive_read_open_fd(r, fd, 65536) != ARCHIVE_OK) {
		snprintf(msg, sizeof msg, "not a tar archive: %s", archive_error_string(r));
		goto fail;
	}
	struct archive_entry *en;
	int rc, count = 0;
	unsigned skipped = 0;
	size_t plen = in->prefix ? strlen(in->prefix) : 0;
	while ((rc = archive_read_next_header(r, &en)) == ARCHIVE_OK) {
		const char *path = archive_entry_pathname(en);
		while (path && path[0] == '.' && path[1] == '/')
			path += 2;
		if (!path || (plen && strncmp(path, in->prefix, plen) != 0))
			continue; /* not ours (an export's jail.json) */
		char rel[4096];
		snprintf(rel, sizeof rel, "%s", path + plen);
		if (!rel[0] || strcmp(rel, ".") == 0 || strcmp(rel, "./") == 0)
			continue; /* the top directory: made by the helper */
		mode_t type = archive_entry_filetype(en);
		if ((type == AE_IFCHR || type == AE_IFBLK) && strncmp(rel, "dev/", 4) == 0 &&
		    !(in->whiteouts && archive_entry_rdev(en) == 0)) {
			skipped++;
			continue; /* the jail's /dev is made by jaild at start */
		}
		const char *why = refuse(en, in);
		if (why) {
			snprintf(msg, sizeof msg, "%s: %s", path, why);
			goto fail;
		}
		archive_entry_set_pathname(en, rel);
		const char *hl = archive_entry_hardlink(en);
		if (hl) {
			while (hl[0] == '.' && hl[1] == '/')
				hl += 2;
			if (plen && strncmp(hl, in->prefix, plen) != 0) {
				snprintf(msg, sizeof msg, "%s: a hard link out of the tree", path);
				goto fail;
			}
			char target[4096];
			snprintf(target, sizeof target, "%s", hl + plen);
			archive_entry_set_hardlink(en, target);
		}
		archive_entry_set_uid(en, archive_entry_uid(en) + in->shift);
		archive_entry_set_gid(en, archive_entry_gid(en) + in->shift);
		archive_entry_set_uname(en, NULL);
		archive_entry_set_gname(en, NULL);
		filter_xattrs(en);
		if (archive_write_header(w, en) != ARCHIVE_OK) {
			snprintf(msg, sizeof msg, "%s: %s", path, archive_error_string(w));
			goto fail;
		}
		const void *buf;
		size_t size;
		la_int64_t off;
		int dr;
		while ((dr = archive_read_data_block(r, &buf, &size, &off)) == ARCHIVE_OK)
			if (archive_write_data_block(w, buf, size, off) != ARCHIVE_OK) {
				snprintf(msg, sizeof msg, "%s: %s", path, archive_error_string(w));
				goto fail;
			}
		if (dr != ARCHIVE_EOF) {
			snprintf(msg, sizeof msg, "%s: %s", path, archive_error_string(r));
			goto fail;
		}
		if (archive_write_finish_entry(w) != ARCHIVE_OK) {
			snprintf(msg, sizeof msg, "%s: %s", path, archive_error_string(w));
			goto fail;
		}
		count++;
	}
	if (rc != ARCHIVE_EOF) {
		snprintf(msg, sizeof msg, "the archive is damaged: %s", archive_error_string(r));
		goto fail;
	}
	if (count == 0 && !in->may_be_empty) {
		snprintf(msg, sizeof msg, "the archive holds no files%s%s", plen ? " under " : "", plen ? in->prefix : "");
		goto fail;
	}
	archive_write_close(w); /* directory times and modes are set last */
	/* success says how many device nodes were left out: "skipped N" */
	snprintf(msg, sizeof msg, "skipped %u", skipped);
	if (write(msg_fd, msg, strlen(msg)) < 0)
		_exit(2);
	_exit(0);
fail:
	if (write(msg_fd, msg, strlen(msg)) < 0)
		_exit(2);
	_exit(1);
}

/* Directories libarchive made on its own (an archive that names a/b/c before a/)
 * belong to whoever unpacked: host root. In a jail's files nothing may: such an entry
 * becomes the jail root's, so that the jail can change what is its own. */
struct owner_fix {
	uid_t base;
	struct walk_path path;
};

static int owner_step(void *arg, int dir, const char *name, const char *rel, int depth)
{
	struct owner_fix *o = arg;
	struct stat st;
	if (fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return 0;
	if ((st.st_uid == 0 || st.st_gid == 0) &&
	    fchownat(dir, name, st.st_uid ? st.st_uid : o->base, st.st_gid ? st.st_gid : o->base, AT_SYMLINK_NOFOLLOW) < 0)
		return -1;
	if (!S_ISDIR(st.st_mode))
		return 0;
	int sub = openat(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (sub < 0)
		return 0;
	struct err e;
	int r = walk_dir(sub, &o->path, depth + 1, owner_step, o, &e);
	close(sub);
	(void)rel;
	return r;
}

int tar_tree_unpack(int fd, int dirfd, const struct tar_in *in, struct err *e)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return err_errno(e, "pipe");
	pid_t pid = fork();
	if (pid < 0) {
		close(p[0]), close(p[1]);
		return err_errno(e, "fork");
	}
	if (pid == 0) {
		close(p[0]);
		unpack_child(fd, dirfd, in, p[1]);
	}
	close(p[1]);
	char msg[512];
	ssize_t n = read(p[0], msg, sizeof msg - 1);
	close(p[0]);
	int st;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
		unsigned skipped = 0;
		msg[n > 0 ? n : 0] = '\0';
		if (in->skipped_devices && sscanf(msg, "skipped %u", &skipped) == 1)
			*in->skipped_devices = skipped;
		if (in->shift == 0)
			return 0;
		static struct owner_fix o; /* a worker does one import: its path buffer off the stack */
		memset(&o, 0, sizeof o);
		o.base = in->shift;
		walk_fd_room();
		if (walk_dir(dirfd, &o.path, 0, owner_step, &o, e) < 0)
			return e->msg[0] ? -1 : err_errno(e, "giving the jail's root what the archive left to host root");
		return 0;
	}
	msg[n > 0 ? n : 0] = '\0';
	return err_set(e, ERR_INVALID, "the archive was refused: %s", n > 0 ? msg : "unpacking failed");
}

/* ---- writing ---- */

struct packer {
	struct archive *a;
	struct archive_entry_linkresolver *links;
	uid_t shift;
	const char *prefix;
	struct err *e;
	struct walk_path path;  /* the walk's path, one buffer for all levels */
	char name[4200];        /* prefix + path, for the archive */
};

static int pack_entry(struct packer *p, int dir, const char *name, const char *rel, int depth);

static int pack_step(void *arg, int dir, const char *name, const char *rel, int depth)
{
	return pack_entry(arg, dir, name, rel, depth);
}

static int pack_dir(struct packer *p, int dir, const char *rel, int depth)
{
	(void)rel; /* the walk keeps the path in p->path */
	return walk_dir(dir, &p->path, depth, pack_step, p, p->e);
}

/* Apart from pack_entry, so that its 4 KiB buffer is not in every level's frame. */
static __attribute__((noinline)) int pack_symlink(struct packer *p, struct archive_entry *en, int dir, const char *name,
						  const char *rel)
{
	char target[4096];
	ssize_t n = readlinkat(dir, name, target, sizeof target - 1);
	if (n < 0)
		return err_errno(p->e, "readlink %s", rel);
	target[n] = '\0';
	archive_entry_copy_symlink(en, target);
	return 0;
}

static void add_xattrs(struct archive_entry *en, int fd)
{
	char names[8192], value[65536];
	ssize_t n = fd >= 0 ? flistxattr(fd, names, sizeof names) : -1;
	for (char *k = names; n > 0 && k < names + n; k += strlen(k) + 1) {
		if (!xattr_copyable(k))
			continue;
		ssize_t v = fgetxattr(fd, k, value, sizeof value);
		if (v >= 0)
			archive_entry_xattr_add_entry(en, k, value, (size_t)v);
	}
}

static int write_one(struct packer *p, struct archive_entry *en, int data_fd)
{
	if (archive_write_header(p->a, en) != ARCHIVE_OK)
		return err_set(p->e, ERR_INTERNAL, "writing %s: %s", archive_entry_pathname(en), archive_error_string(p->a));
	if (data_fd >= 0 && archive_entry_size(en) > 0) {
		char buf[65536];
		ssize_t n;
		while ((n = read(data_fd, buf, sizeof buf)) > 0)
			if (archive_write_data(p->a, buf, (size_t)n) < 0)
				return err_set(p->e, ERR_INTERNAL, "writing %s: %s", archive_entry_pathname(en), archive_error_string(p->a));
	}
	return 0;
}

static int pack_entry(struct packer *p, int dir, const char *name, const char *rel, int depth)
{
	struct stat st;
	if (fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return err_errno(p->e, "stat %s", rel);
	snprintf(p->name, sizeof p->name, "%s%s", p->prefix, rel);
	struct archive_entry *en = archive_entry_new(), *spare = NULL;
	archive_entry_copy_stat(en, &st);
	archive_entry_set_pathname(en, p->name);
	/* owners as the jail sees them: portable to a jail with another uid range */
	archive_entry_set_uid(en, st.st_uid >= p->shift && st.st_uid - p->shift < IDS ? st.st_uid - p->shift : 65534);
	archive_entry_set_gid(en, st.st_gid >= p->shift && st.st_gid - p->shift < IDS ? st.st_gid - p->shift : 65534);
	int fd = -1, r = 0;
	if (S_ISDIR(st.st_mode) || S_ISREG(st.st_mode))
		fd = openat(dir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | (S_ISDIR(st.st_mode) ? O_DIRECTORY : 0));
	if ((S_ISDIR(st.st_mode) || S_ISREG(st.st_mode)) && fd < 0) {
		archive_entry_free(en);
		return err_errno(p->e, "opening %s", rel);
	}
	if (S_ISLNK(st.st_mode) && pack_symlink(p, en, dir, name, rel) < 0) {
		archive_entry_free(en);
		return -1;
	}
	add_xattrs(en, fd);
	archive_entry_linkify(p->links, &en, &spare);
	if (en)
		r = write_one(p, en, archive_entry_hardlink(en) ? -1 : fd);
	if (r == 0 && S_ISDIR(st.st_mode))
		r = pack_dir(p, fd, rel, depth + 1);
	if (fd >= 0)
		close(fd);
	if (en)
		archive_entry_free(en);
	if (spare)
		archive_entry_free(spare);
	return r;
}

int tar_tree_pack(int dirfd, int fd, uid_t shift, const char *prefix, const char *extra_name, const char *extra, struct err *e)
{
	struct packer p = { .a = archive_write_new(), .links = archive_entry_linkresolver_new(), .shift = shift, .prefix = prefix, .e = e };
	archive_write_set_format_pax_restricted(p.a);
	archive_entry_linkresolver_set_strategy(p.links, ARCHIVE_FORMAT_TAR_PAX_RESTRICTED);
	int r = archive_write_open_fd(p.a, fd) == ARCHIVE_OK ? 0 : err_set(e, ERR_INTERNAL, "%s", archive_error_string(p.a));
	if (r == 0 && extra_name) {
		struct archive_entry *en = archive_entry_new();
		archive_entry_set_pathname(en, extra_name);
		archive_entry_set_filetype(en, AE_IFREG);
		archive_entry_set_perm(en, 0644);
		archive_entry_set_size(en, (la_int64_t)strlen(extra));
		archive_entry_set_mtime(en, time(NULL), 0);
		if (archive_write_header(p.a, en) != ARCHIVE_OK || archive_write_data(p.a, extra, strlen(extra)) < 0)
			r = err_set(e, ERR_INTERNAL, "writing %s: %s", extra_name, archive_error_string(p.a));
		archive_entry_free(en);
	}
	if (r == 0) {
		/* the top directory itself, then what is in it */
		struct stat st;
		struct archive_entry *en = archive_entry_new();
		if (fstat(dirfd, &st) == 0) {
			archive_entry_copy_stat(en, &st);
			archive_entry_set_pathname(en, prefix);
			archive_entry_set_uid(en, st.st_uid - shift < IDS ? st.st_uid - shift : 65534);
			archive_entry_set_gid(en, st.st_gid - shift < IDS ? st.st_gid - shift : 65534);
			add_xattrs(en, dirfd);
			r = write_one(&p, en, -1);
		}
		archive_entry_free(en);
	}
	walk_fd_room();
	if (r == 0)
		r = pack_dir(&p, dirfd, "", 0);
	struct archive_entry *en = NULL, *spare = NULL;
	archive_entry_linkify(p.links, &en, &spare); /* entries it held back: none for tar */
	if (archive_write_close(p.a) != ARCHIVE_OK && r == 0)
		r = err_set(e, ERR_INTERNAL, "finishing the archive: %s", archive_error_string(p.a));
	archive_write_free(p.a);
	archive_entry_linkresolver_free(p.links);
	return r;
}
