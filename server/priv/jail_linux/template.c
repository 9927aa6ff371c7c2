#include "template.h"
#include "../skeleton.h"
#include "tarball.h"

#include <elf.h>
#include <errno.h>
#include <time.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fsutil.h"
#include "log.h"

/* A dynamically linked busybox would fail inside the jail with a baffling ENOENT. */
static int is_static_elf(int fd)
{
	Elf64_Ehdr eh;
	if (pread(fd, &eh, sizeof eh, 0) != sizeof eh || memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 ||
	    eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_phentsize != sizeof(Elf64_Phdr))
		return 0;
	for (int i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;
		if (pread(fd, &ph, sizeof ph, (off_t)(eh.e_phoff + (uint64_t)i * sizeof ph)) != sizeof ph)
			return 0;
		if (ph.p_type == PT_INTERP)
			return 0;
	}
	return 1;
}

/* `busybox --list-full` names every applet with its path, like "usr/bin/wc". */
static int link_applets(const char *busybox, int root, struct err *e)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return err_errno(e, "pipe");
	pid_t pid = fork();
	if (pid < 0)
		return err_errno(e, "fork");
	if (pid == 0) {
		dup2(p[1], STDOUT_FILENO);
		char *const argv[] = { (char *)busybox, "--list-full", NULL };
		char *const envp[] = { NULL };
		execve(busybox, argv, envp);
		_exit(127);
	}
	close(p[1]);
	FILE *f = fdopen(p[0], "r");
	char line[256];
	int r = 0, count = 0;
	while (f && fgets(line, sizeof line, f)) {
		line[strcspn(line, "\n")] = '\0';
		char abs[300];
		snprintf(abs, sizeof abs, "/%s", line);
		if (!valid_abs_path(abs) || strcmp(line, "bin/busybox") == 0)
			continue;
		if (symlinkat("/bin/busybox", root, line) < 0 && errno != EEXIST) {
			r = err_errno(e, "linking applet %s", line);
			break;
		}
		count++;
	}
	if (f)
		fclose(f);
	int st;
	waitpid(pid, &st, 0);
	if (r == 0 && (!WIFEXITED(st) || WEXITSTATUS(st) != 0 || count == 0))
		r = err_set(e, ERR_INTERNAL, "%s --list-full failed; is it a full busybox?", busybox);
	return r;
}

int template_minimal(struct priv_ctx *c, struct err *e)
{
	struct stat st;
	if (fstatat(c->templates_fd, MINIMAL_TEMPLATE, &st, AT_SYMLINK_NOFOLLOW) == 0)
		return 0;
	int src = open(c->busybox, O_RDONLY | O_CLOEXEC);
	if (src < 0)
		return err_errno(e, "opening %s (install the busybox-static package or set busybox= in the config)", c->busybox);
	if (!is_static_elf(src)) {
		close(src);
		return err_set(e, ERR_INTERNAL, "%s is not a statically linked 64-bit busybox; install busybox-static", c->busybox);
	}
	const char *tmp = ".minimal.tmp";
	rm_tree(c->templates_fd, tmp, NULL);
	int rc = 0, root = -1;
	if (mkdirat(c->templates_fd, tmp, 0755) < 0 ||
	    (root = openat(c->templates_fd, tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		rc = err_errno(e, "creating the minimal template");
	if (rc == 0)
		rc = skeleton_make(root, e);
	if (rc == 0) {
		int dst = openat(root, "bin/busybox", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0755);
		char buf[65536];
		ssize_t n;
		if (dst < 0)
			rc = err_errno(e, "creating bin/busybox");
		while (rc == 0 && (n = read(src, buf, sizeof buf)) > 0) {
			if (write(dst, buf, (size_t)n) != n)
				rc = err_errno(e, "copying busybox");
		}
		if (dst >= 0 && fchmod(dst, 0755) < 0)
			rc = err_errno(e, "chmod bin/busybox");
		if (dst >= 0)
			close(dst);
	}
	if (rc == 0)
		rc = link_applets(c->busybox, root, e);
	if (root >= 0)
		close(root);
	close(src);
	if (rc == 0 && renameat(c->templates_fd, tmp, c->templates_fd, MINIMAL_TEMPLATE) < 0)
		rc = err_errno(e, "publishing the minimal template");
	if (rc)
		rm_tree(c->templates_fd, tmp, NULL);
	else
		log_info("made the minimal template from %s", c->busybox);
	return rc;
}

/* ---- templates from outside ---- */

typedef int (*fill_fn)(struct priv_ctx *c, int dirfd, const void *arg, struct err *e);

static int publish(struct priv_ctx *c, const char *name, bool replace, fill_fn fill, const void *arg, struct err *e)
{
	if (strcmp(name, MINIMAL_TEMPLATE) == 0)
		return err_field(e, ERR_INVALID, "name", "%s is jaild's own template; give yours another name", name);
	struct stat st;
	bool exists = fstatat(c->templates_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
	if (exists && !replace)
		return err_field(e, ERR_CONFLICT, "name", "template %s exists; publish a new version with replace", name);
	char tmp[NAME_SIZE + 32], old[NAME_SIZE + 48];
	snprintf(tmp, sizeof tmp, ".%s.new-%d", name, (int)getpid());
	if (mkdirat(c->templates_fd, tmp, 0755) < 0)
		return err_errno(e, "making template %s", name);
	int dir = openat(c->templates_fd, tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	int rc = dir < 0 ? err_errno(e, "opening template %s", name) : fill(c, dir, arg, e);
	if (dir >= 0)
		close(dir);
	snprintf(old, sizeof old, ".%s.old-%lld-%d", name, (long long)time(NULL), (int)getpid());
	if (rc == 0 && exists && renameat(c->templates_fd, name, c->templates_fd, old) < 0)
		rc = err_errno(e, "setting aside the old version of %s", name);
	if (rc == 0 && renameat(c->templates_fd, tmp, c->templates_fd, name) < 0) {
		rc = err_errno(e, "publishing template %s", name);
		if (exists)
			renameat(c->templates_fd, old, c->templates_fd, name);
	}
	if (rc < 0) {
		struct err ignored;
		rm_tree(c->templates_fd, tmp, &ignored);
	}
	return rc;
}

struct tar_source {
	int fd;
	unsigned skipped;
};

static int fill_tar(struct priv_ctx *c, int dirfd, const void *arg, struct err *e)
{
	struct tar_source *src = (struct tar_source *)arg;
	(void)c;
	/* a template's files are owned as the jail will see them, through the idmapped
	 * mount: ids 0 to 65535 */
	struct tar_in in = { .prefix = NULL, .shift = 0, .whiteouts = false, .skipped_devices = &src->skipped };
	return tar_unpack(src->fd, dirfd, &in, e);
}

int template_from_tar(struct priv_ctx *c, const char *name, bool replace, int fd, struct reply *out, struct err *e)
{
	struct tar_source src = { fd, 0 };
	int rc = publish(c, name, replace, fill_tar, &src, e);
	out->skipped = (int32_t)src.skipped;
	return rc;
}

static int fill_dir(struct priv_ctx *c, int dirfd, const void *arg, struct err *e)
{
	int src = open_allowed(c, arg, O_RDONLY | O_DIRECTORY, "source", e);
	if (src < 0)
		return -1;
	struct stat st;
	int rc = 0;
	/* its owners must be ids a jail maps */
	if (fstat(src, &st) < 0 || st.st_uid >= 65536)
		rc = err_field(e, ERR_INVALID, "source", "%s must be owned by an id below 65536 (usually root)", (const char *)arg);
	if (rc == 0)
		rc = copy_tree_shift(src, dirfd, 0, NULL, e);
	close(src);
	return rc;
}

int template_from_dir(struct priv_ctx *c, const char *name, bool replace, const char *source, struct err *e)
{
	return publish(c, name, replace, fill_dir, source, e);
}

int template_delete(struct priv_ctx *c, const char *name, struct err *e)
{
	if (strcmp(name, MINIMAL_TEMPLATE) == 0)
		return err_field(e, ERR_INVALID, "name", "%s is jaild's own template and cannot be deleted", name);
	struct stat st;
	if (fstatat(c->templates_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return err_set(e, ERR_NOT_FOUND, "no template %s on this host", name);
	if (rm_tree(c->templates_fd, name, e) < 0)
		return -1;
	/* and its earlier versions: jaild deletes a template only when no jail uses it */
	char prefix[NAME_SIZE + 8];
	snprintf(prefix, sizeof prefix, ".%s.old-", name);
	DIR *d = dir_stream(c->templates_fd);
	struct dirent *de;
	while (d && (de = readdir(d)))
		if (strncmp(de->d_name, prefix, strlen(prefix)) == 0)
			rm_tree(c->templates_fd, de->d_name, e);
	if (d)
		closedir(d);
	return 0;
}
