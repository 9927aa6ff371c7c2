#include "template.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fsutil.h"
#include "log.h"

static const char *const dirs[] = { "bin", "sbin", "usr", "usr/bin", "usr/sbin", "etc", "root", "tmp", "var", "var/tmp",
				    "var/log", "home", "dev", "proc", "run", "mnt" };

static const struct {
	const char *path;
	mode_t mode;
	const char *text;
} files[] = {
	{ "etc/passwd", 0644, "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n" },
	{ "etc/group", 0644, "root:x:0:\ntty:x:5:\nnogroup:x:65534:\n" },
	{ "etc/hosts", 0644, "127.0.0.1\tlocalhost\n::1\tlocalhost\n" },
	{ "etc/profile", 0644, "export PS1='\\u@\\h:\\w\\$ '\n" },
	/* the default exec.start: stay up until told to stop, reaping orphans */
	{ "etc/rc", 0755,
	  "#!/bin/sh\n"
	  "# jaild minimal template: the jail's PID 1. Ends on SIGTERM (jail stop).\n"
	  "trap 'exit 0' TERM INT\n"
	  "while :; do sleep 3600 & wait $!; done\n" },
};

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

static int write_file_at(int dir, const char *path, mode_t mode, const char *text, struct err *e)
{
	int fd = openat(dir, path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0)
		return err_errno(e, "creating template file %s", path);
	size_t n = strlen(text);
	ssize_t w = write(fd, text, n);
	int r = (w == (ssize_t)n && fchmod(fd, mode) == 0) ? 0 : err_errno(e, "writing template file %s", path);
	close(fd);
	return r;
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
	for (size_t i = 0; rc == 0 && i < sizeof dirs / sizeof *dirs; i++)
		if (mkdirat(root, dirs[i], 0755) < 0)
			rc = err_errno(e, "creating template directory %s", dirs[i]);
	if (rc == 0 && (fchmodat(root, "tmp", 01777, 0) < 0 || fchmodat(root, "var/tmp", 01777, 0) < 0 ||
			fchmodat(root, "root", 0700, 0) < 0))
		rc = err_errno(e, "setting template modes");
	for (size_t i = 0; rc == 0 && i < sizeof files / sizeof *files; i++)
		rc = write_file_at(root, files[i].path, files[i].mode, files[i].text, e);
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
