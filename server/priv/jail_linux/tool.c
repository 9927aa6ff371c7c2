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

int tool_run(char *const argv[], int in_fd, struct err *e)
{
	pid_t pid = fork();
	if (pid < 0)
		return err_errno(e, "fork");
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);
		if (null < 0 || dup2(in_fd >= 0 ? in_fd : null, STDIN_FILENO) < 0 || dup2(null, STDOUT_FILENO) < 0 ||
		    dup2(null, STDERR_FILENO) < 0)
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

int tool_run_text(char *const argv[], const char *input, char *errout, size_t errsize, struct err *e)
{
	return tool_run_io(argv, input, NULL, 0, errout, errsize, e);
}

int tool_run_io(char *const argv[], const char *input, char *out_buf, size_t out_size, char *errout, size_t errsize, struct err *e)
{
	/* memfds rather than pipes: the input may be larger than a pipe holds, and no
	 * second process or thread is needed to feed it */
	int in = memfd_create("tool-in", MFD_CLOEXEC), out = memfd_create("tool-err", MFD_CLOEXEC),
	    std = out_size ? memfd_create("tool-out", MFD_CLOEXEC) : -1;
	int rc = -1;
	size_t len = strlen(input);
	if (in < 0 || out < 0 || write(in, input, len) != (ssize_t)len || lseek(in, 0, SEEK_SET) < 0) {
		err_errno(e, "preparing input for %s", argv[0]);
		goto done;
	}
	pid_t pid = fork();
	if (pid < 0) {
		err_errno(e, "fork");
		goto done;
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);
		if (null < 0 || dup2(in, STDIN_FILENO) < 0 || dup2(std >= 0 ? std : null, STDOUT_FILENO) < 0 || dup2(out, STDERR_FILENO) < 0)
			_exit(126);
		syscall(SYS_close_range, 3, ~0U, 0);
		char *const envp[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C", NULL };
		execve(argv[0], argv, envp);
		_exit(127);
	}
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR) {
			err_errno(e, "waiting for %s", argv[0]);
			goto done;
		}
	rc = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	if (errsize) {
		ssize_t n = pread(out, errout, errsize - 1, 0);
		errout[n > 0 ? n : 0] = '\0';
		/* a message on one line */
		for (char *p = errout; *p; p++)
			if (*p == '\n' || *p == '\t')
				*p = ' ';
	}
	if (out_size) {
		ssize_t n = std >= 0 ? pread(std, out_buf, out_size - 1, 0) : -1;
		out_buf[n > 0 ? n : 0] = '\0';
	}
done:
	if (std >= 0)
		close(std);
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	return rc;
}
