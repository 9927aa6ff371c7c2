#include "tool.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

const char *tool_find(const char *name, char buf[64])
{
	static const char *const dirs[] = { "/usr/sbin", "/sbin", "/usr/bin", "/bin" };
	for (size_t i = 0; i < sizeof dirs / sizeof *dirs; i++) {
		snprintf(buf, 64, "%s/%s", dirs[i], name);
		if (access(buf, X_OK) == 0)
			return buf;
	}
	return NULL;
}

/* argv[0] with stdin, stdout and stderr on the given descriptors (-1: /dev/null),
 * nothing else open, a fixed environment; its exit status, or -1 with e set. */
static int run(char *const argv[], int in, int out, int err_fd, struct err *e)
{
	pid_t pid = fork();
	if (pid < 0)
		return err_errno(e, "fork");
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);
		if (null < 0 || dup2(in >= 0 ? in : null, STDIN_FILENO) < 0 || dup2(out >= 0 ? out : null, STDOUT_FILENO) < 0 ||
		    dup2(err_fd >= 0 ? err_fd : null, STDERR_FILENO) < 0)
			_exit(126);
		syscall(SYS_close_range, 3, ~0U, 0);
		char *const envp[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C", NULL };
		execve(argv[0], argv, envp);
		_exit(127);
	}
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return err_errno(e, "waiting for %s", argv[0]);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int tool_run(char *const argv[], int in_fd, struct err *e)
{
	return run(argv, in_fd, -1, -1, e);
}

int tool_run_text(char *const argv[], const char *input, char *errout, size_t errsize, struct err *e)
{
	return tool_run_io(argv, input, NULL, 0, errout, errsize, e);
}

/* Up to size - 1 bytes of a memfd, NUL-terminated, newlines and tabs as spaces when
 * flatten (a message on one line). */
static void read_back(int fd, char *buf, size_t size, int flatten)
{
	ssize_t n = fd >= 0 ? pread(fd, buf, size - 1, 0) : -1;
	buf[n > 0 ? n : 0] = '\0';
	for (char *p = buf; flatten && *p; p++)
		if (*p == '\n' || *p == '\t')
			*p = ' ';
}

int tool_run_io(char *const argv[], const char *input, char *out_buf, size_t out_size, char *errout, size_t errsize, struct err *e)
{
	/* memfds rather than pipes: the input may be larger than a pipe holds, and no
	 * second process or thread is needed to feed it */
	int in = memfd_create("tool-in", MFD_CLOEXEC), err_fd = memfd_create("tool-err", MFD_CLOEXEC),
	    out = out_size ? memfd_create("tool-out", MFD_CLOEXEC) : -1;
	int rc = -1;
	size_t len = strlen(input);
	if (in < 0 || err_fd < 0 || (out_size && out < 0) || write(in, input, len) != (ssize_t)len || lseek(in, 0, SEEK_SET) < 0)
		err_errno(e, "preparing input for %s", argv[0]);
	else if ((rc = run(argv, in, out, err_fd, e)) >= 0) {
		if (errsize)
			read_back(err_fd, errout, errsize, 1);
		if (out_size)
			read_back(out, out_buf, out_size, 0);
	}
	for (int fd, i = 0; i < 3; i++)
		if ((fd = i == 0 ? in : i == 1 ? err_fd : out) >= 0)
			close(fd);
	return rc;
}
