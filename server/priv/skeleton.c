/* skeleton.c — the minimal template's tree but its programs (skeleton.h). */
#include "skeleton.h"

#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

int skeleton_make(int root, struct err *e)
{
	for (size_t i = 0; i < sizeof dirs / sizeof *dirs; i++)
		if (mkdirat(root, dirs[i], 0755) < 0)
			return err_errno(e, "creating template directory %s", dirs[i]);
	if (fchmodat(root, "tmp", 01777, 0) < 0 || fchmodat(root, "var/tmp", 01777, 0) < 0 || fchmodat(root, "root", 0700, 0) < 0)
		return err_errno(e, "setting template modes");
	for (size_t i = 0; i < sizeof files / sizeof *files; i++)
		if (write_file_at(root, files[i].path, files[i].mode, files[i].text, e))
			return -1;
	return 0;
}
