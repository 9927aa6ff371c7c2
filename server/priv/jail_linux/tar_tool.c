/* tar_tool.c — the helper's side of tarball.h: each archive is read or written by
 * jaild-tar (tar_main.c), a program of its own, run for it. libarchive and what it
 * brings (compressors, libxml2, ICU, libstdc++: fourteen libraries) are then never
 * mapped in the privileged helper. That is less code in the process that holds root
 * and every jail, and a cheaper fork: each worker, each jail's first process and
 * each exec'd command was a copy of those mappings (A/B, 80 cycles: exec 4.32 ->
 * 3.69 ms, create+start 6.83 -> 6.58 ms, stop and destroy 0.2 ms less each). */
#include "tarball.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/close_range.h>
#include <unistd.h>

#include "log.h"
#include "progpath.h"

static int tool_fd = -1; /* jaild-tar, opened once: what is run is what was checked */
static char tool_path[4096];
static char tool_problem[sizeof ((struct err *)0)->msg] = "the helper has not looked for jaild-tar";

static int find_tool(struct err *e)
{
	prog_path("jaild-tar", tool_path, sizeof tool_path);
	int fd = open(tool_path, O_PATH | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) {
		if (fd >= 0)
			close(fd);
		return err_errno(e, "finding %s (archives need it: reinstall jaild)", tool_path);
	}
	/* it runs as root: only root may have written it */
	if (!S_ISREG(st.st_mode) || st.st_uid != 0 || (st.st_mode & 022)) {
		close(fd);
		return err_set(e, ERR_INTERNAL, "%s is not run: it must be a regular file owned by root and writable only by root",
			       tool_path);
	}
	tool_fd = fd;
	return 0;
}

int tar_tool_init(struct err *e)
{
	int rc = find_tool(e);
	snprintf(tool_problem, sizeof tool_problem, "%s", rc ? e->msg : "");
	return rc;
}

/* Runs jaild-tar with argv: stdin in_fd, stdout out_fd (-1: /dev/null), fd 3 the tree,
 * fd 4 its answer ("CODE SKIPPED MESSAGE"), fd 5 extra_fd (or nothing). */
static int run_tool(char *const argv[], int in_fd, int out_fd, int dir_fd, int extra_fd, unsigned *skipped, struct err *e)
{
	if (tool_fd < 0)
		return err_set(e, ERR_INTERNAL, "archives cannot be read or written: %s", tool_problem);
	int ans[2];
	if (pipe2(ans, O_CLOEXEC) < 0)
		return err_errno(e, "pipe");
	pid_t pid = fork();
	if (pid < 0) {
		close(ans[0]), close(ans[1]);
		return err_errno(e, "fork");
	}
	if (pid == 0) {
		/* each descriptor first above the slots, then into its slot: none overwrites
		 * another still to be moved */
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);
		int want[6] = { in_fd >= 0 ? in_fd : null, out_fd >= 0 ? out_fd : null, 2, dir_fd, ans[1], extra_fd }, high[6];
		for (int i = 0; i < 6; i++)
			high[i] = want[i] < 0 ? -1 : fcntl(want[i], F_DUPFD_CLOEXEC, 10);
		for (int i = 0; i < 6; i++)
			if (high[i] >= 0 && dup2(high[i], i) < 0)
				_exit(127);
		/* everything else goes at the exec (closed now, the tool's own descriptor
		 * would go before it is run) */
		syscall(SYS_close_range, 6, ~0U, CLOSE_RANGE_CLOEXEC);
		prctl(PR_SET_PDEATHSIG, SIGKILL); /* it dies with the worker it works for */
		char *const env[] = { NULL };
		syscall(SYS_execveat, tool_fd, "", argv, env, AT_EMPTY_PATH);
		_exit(127);
	}
	close(ans[1]);
	char line[700];
	size_t got = 0;
	ssize_t n;
	while (got < sizeof line - 1 && ((n = read(ans[0], line + got, sizeof line - 1 - got)) > 0 || (n < 0 && errno == EINTR)))
		got += n > 0 ? (size_t)n : 0;
	line[got] = '\0';
	close(ans[0]);
	int st = 0;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	int code, off = 0;
	unsigned sk = 0;
	if (sscanf(line, "%d %u %n", &code, &sk, &off) != 2 || off == 0) {
		if (WIFSIGNALED(st))
			return err_set(e, ERR_INTERNAL, "jaild-tar was killed by signal %d before it finished", WTERMSIG(st));
		return err_set(e, ERR_INTERNAL, "jaild-tar ended (status %d) without an answer", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	}
	if (skipped)
		*skipped = sk;
	if (code != ERR_OK)
		return err_set(e, (enum err_code)code, "%s", line + off);
	return 0;
}

int tar_unpack(int fd, int dirfd, const struct tar_in *in, struct err *e)
{
	char shift[16], flags[8];
	snprintf(shift, sizeof shift, "%u", (unsigned)in->shift);
	snprintf(flags, sizeof flags, "-%s%s%s", in->whiteouts ? "w" : "", in->may_be_empty ? "e" : "", in->skipped_devices ? "d" : "");
	char *const argv[] = { "jaild-tar", "unpack", shift, flags, (char *)(in->prefix ? in->prefix : "-"), NULL };
	return run_tool(argv, fd, -1, dirfd, -1, in->skipped_devices, e);
}

int tar_pack(int dirfd, int fd, uid_t shift, const char *prefix, const char *extra_name, const char *extra, struct err *e)
{
	char sh[16];
	snprintf(sh, sizeof sh, "%u", (unsigned)shift);
	int text = -1;
	if (extra_name) {
		size_t len = strlen(extra);
		text = memfd_create("extra", MFD_CLOEXEC);
		if (text < 0 || write(text, extra, len) != (ssize_t)len || lseek(text, 0, SEEK_SET) < 0) {
			if (text >= 0)
				close(text);
			return err_errno(e, "passing %s to jaild-tar", extra_name);
		}
	}
	char *const argv[] = { "jaild-tar", "pack", sh, (char *)prefix, (char *)extra_name, NULL };
	int rc = run_tool(argv, -1, fd, dirfd, text, NULL, e);
	if (text >= 0)
		close(text);
	return rc;
}
