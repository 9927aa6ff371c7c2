/* fsutil.h — file operations the helper does inside directories that a jail's root
 * controls. None of them follows a symlink: a jail root who plants one gets an error,
 * never a write outside its tree. */
#ifndef JAILD_FSUTIL_H
#define JAILD_FSUTIL_H

#include "../runrec.h" /* dir_stream */

#include <dirent.h>
#include <stdbool.h>
#include <sys/types.h>

#include "err.h"

/* openat2 with RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS. */
int open_beneath(int dirfd, const char *path, int flags, mode_t mode);

/* openat2 of an absolute path with RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS. */
int open_no_symlinks(const char *path, int flags);

/* Removes dirfd/name and everything below it, staying on its filesystem and never
 * following a link, at any depth (iteratively: one directory open at a time). Absent
 * is success. */
int rm_tree(int dirfd, const char *name, struct err *e);

/* How deep a copy or an archive of a jail's files goes: a jail root can make a tree of
 * any depth, and each level of a walk holds a few descriptors and a small frame; past
 * this the walk stops with a clear error, never with the stack. */

#define WALK_DEPTH_MAX 512

/* The path of the entry being walked, from the walk's top: one buffer for the whole
 * walk (not one per level). */
struct walk_path {
	char buf[4096];
	size_t len;
};

/* Calls fn for each entry of dir (not . or ..), with p->buf its path from the walk's
 * top; stops at the first non-zero return. depth: dir's depth below the top. */
/* Raises this process's descriptor limit to what a walk of WALK_DEPTH_MAX levels needs. */
void walk_fd_room(void);
typedef int (*walk_fn)(void *arg, int dir, const char *name, const char *rel, int depth);
int walk_dir(int dir, struct walk_path *p, int depth, walk_fn fn, void *arg, struct err *e);

/* The extended attributes a copy or an archive carries: the overlay's own (opaque
 * directories, redirects) and user ones. Never security.* (file capabilities). */
bool xattr_copyable(const char *name);

/* Copies the tree at src into the (new, empty) directory dst, adding `shift` to every
 * owner and group, keeping modes, symlinks, hard links, devices, fifos, times and the
 * overlay's own attributes. *bytes (if not NULL): the disk space the copy takes. */
int copy_tree_shift(int src, int dst, uid_t shift, int64_t *bytes, struct err *e);

/* Opens rootfd/path as an O_PATH directory, creating missing components (owned by
 * owner:owner) and refusing any component that is a symlink. */
int ensure_dir_in(int rootfd, const char *path, uid_t owner, struct err *e);
/* The same for a file to bind a device or file onto (created empty, mode 0600). */
int ensure_file_in(int rootfd, const char *path, uid_t owner, struct err *e);

/* Marks dir as the top of unrelated trees (ext2/3/4's FS_TOPDIR_FL, chattr +T), so that
 * its subdirectories are spread over the filesystem's block groups as /home's are. False
 * where the filesystem has no such flag. */
bool spread_subdirs(int dir);

/* "/proc/self/fd/N", for syscalls that take a path but must act on a pinned inode. */
const char *fd_path(int fd, char buf[32]);

#endif
