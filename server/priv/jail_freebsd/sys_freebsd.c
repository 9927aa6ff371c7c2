/* sys_freebsd.c — sys.h on FreeBSD: the real calls. Compiled only for FreeBSD (the
 * tests on Linux record instead). Children attach to a jail before they run anything
 * of its, as jexec(8) does; a failure before exec comes back through a close-on-exec
 * pipe, so the caller learns why instead of seeing status 127. */
#include <sys/param.h>
#include <sys/types.h>
#include <sys/ioctl.h>
#include <sys/jail.h>
#include <sys/mount.h>
#include <sys/rctl.h>
#include <sys/socket.h>
#include <sys/sysctl.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <jail.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "../os.h"
#include "proto.h"
#include "sys.h"

extern char **environ;

static char *const jail_env[] = { "PATH=/sbin:/bin:/usr/sbin:/usr/bin:/usr/local/sbin:/usr/local/bin", "HOME=/root",
				  "USER=root", "SHELL=/bin/sh", "TERM=xterm-256color", NULL };

static int sys_jail_set(const struct fb_param *p, unsigned n, int flags, struct err *e)
{
	struct jailparam jp[32];
	if (n > 32)
		return err_set(e, ERR_INTERNAL, "too many jail parameters");
	for (unsigned i = 0; i < n; i++)
		if (jailparam_init(&jp[i], p[i].name) < 0 || jailparam_import(&jp[i], p[i].value ? p[i].value : "true") < 0) {
			jailparam_free(jp, i + 1);
			return err_set(e, ERR_INTERNAL, "jail parameter %s: %s", p[i].name, jail_errmsg);
		}
	int jid = jailparam_set(jp, n, flags);
	jailparam_free(jp, n);
	if (jid < 0)
		return err_set(e, ERR_INTERNAL, "jail_set: %s", jail_errmsg);
	return jid;
}

static int sys_jail_getid(const char *name)
{
	return jail_getid(name);
}

static int sys_jail_remove(int jid)
{
	return jail_remove(jid);
}

static int sys_nmount(const struct fb_param *opts, unsigned n, uint64_t flags, struct err *e)
{
	struct iovec iov[2 * 8 + 2];
	char errmsg[256] = "";
	unsigned k = 0;
	for (unsigned i = 0; i < n && i < 8; i++) {
		iov[k++] = (struct iovec){ (void *)opts[i].name, strlen(opts[i].name) + 1 };
		iov[k++] = opts[i].value ? (struct iovec){ (void *)opts[i].value, strlen(opts[i].value) + 1 } : (struct iovec){ NULL, 0 };
	}
	iov[k++] = (struct iovec){ "errmsg", sizeof "errmsg" };
	iov[k++] = (struct iovec){ errmsg, sizeof errmsg };
	if (nmount(iov, k, (int)flags) < 0)
		return errmsg[0] ? err_set(e, ERR_INTERNAL, "mounting %s on %s: %s", opts[0].value, opts[1].value, errmsg)
				 : err_errno(e, "mounting %s on %s", opts[0].value, opts[1].value);
	return 0;
}

static int sys_unmount(const char *path, uint64_t flags)
{
	return unmount(path, (int)flags);
}

static bool sys_is_mount_point(const char *path)
{
	struct statfs sf;
	return statfs(path, &sf) == 0 && strcmp(sf.f_mntonname, path) == 0;
}

static int sys_if_ioctl(int family, unsigned long request, void *arg)
{
	int s = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -1;
	int rc = ioctl(s, request, arg);
	int saved = errno;
	close(s);
	errno = saved;
	return rc;
}

static int sys_rctl_add(const char *rule)
{
	return rctl_add_rule(rule, strlen(rule) + 1, NULL, 0);
}

static int sys_rctl_remove(const char *filter)
{
	return rctl_remove_rule(filter, strlen(filter) + 1, NULL, 0);
}

static int sys_rctl_usage(const char *filter, char *out, size_t size)
{
	return rctl_get_racct(filter, strlen(filter) + 1, out, size);
}

static int sys_sysctl_int(const char *name, int *value)
{
	size_t len = sizeof *value;
	return sysctlbyname(name, value, &len, NULL, 0);
}

/* In the child: every descriptor but 0-2 and the report pipe closed (the helper's
 * sockets must not reach a tool or a jail). */
static void close_all_but(int keep)
{
	if (keep > 3)
		close_range(3, (unsigned)keep - 1, 0);
	closefrom(keep + 1);
}

/* In the child: why it could not go on, then out. */
static void child_fail(int report)
{
	int err = errno;
	(void)!write(report, &err, sizeof err);
	_exit(127);
}

/* After fork: 0 when the child reached exec, else -1 with errno as the child had it. */
static int child_started(pid_t pid, int report)
{
	int err = 0, status;
	ssize_t n = read(report, &err, sizeof err);
	close(report);
	if (n == (ssize_t)sizeof err) {
		waitpid(pid, &status, 0);
		errno = err;
		return -1;
	}
	return 0;
}

static int sys_tool(char *const argv[], int in_fd, const char *input, int out_fd, char *out, size_t out_size, struct err *e)
{
	int in[2] = { -1, -1 }, o[2] = { -1, -1 }, er[2], rep[2];
	if ((input && pipe2(in, O_CLOEXEC) < 0) || (out_fd < 0 && pipe2(o, O_CLOEXEC) < 0) || pipe2(er, O_CLOEXEC) < 0 ||
	    pipe2(rep, O_CLOEXEC) < 0)
		return err_errno(e, "pipe for %s", argv[0]);
	pid_t pid = fork();
	if (pid < 0)
		return err_errno(e, "fork for %s", argv[0]);
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);
		int i0 = in_fd >= 0 ? in_fd : input ? in[0] : null, o1 = out_fd >= 0 ? out_fd : o[1];
		if (rep[1] < 3 || dup2(i0, 0) < 0 || dup2(o1, 1) < 0 || dup2(er[1], 2) < 0)
			child_fail(rep[1]);
		close_all_but(rep[1]);
		execve(argv[0], argv, jail_env);
		child_fail(rep[1]);
	}
	close(rep[1]);
	close(er[1]);
	if (in[0] >= 0)
		close(in[0]);
	if (o[1] >= 0)
		close(o[1]);
	if (child_started(pid, rep[0]) < 0)
		return err_errno(e, "running %s", argv[0]);
	char errout[512] = "";
	size_t olen = 0, elen = 0, ilen = input ? strlen(input) : 0, ioff = 0;
	/* a tool that exits before reading all its input must not take us with it */
	void (*was)(int) = signal(SIGPIPE, SIG_IGN);
	if (in[1] >= 0 && ilen == 0) {
		close(in[1]);
		in[1] = -1;
	}
	while (o[0] >= 0 || er[0] >= 0 || in[1] >= 0) {
		struct pollfd pf[3] = { { o[0], POLLIN, 0 }, { er[0], POLLIN, 0 }, { in[1], POLLOUT, 0 } };
		if (poll(pf, 3, -1) < 0 && errno != EINTR)
			break;
		if (pf[2].revents) {
			ssize_t w = write(in[1], input + ioff, ilen - ioff);
			if (w <= 0 || (ioff += (size_t)w) == ilen) {
				close(in[1]);
				in[1] = -1;
			}
		}
		for (int i = 0; i < 2; i++) {
			if (!pf[i].revents)
				continue;
			char scratch[4096], *buf = scratch;
			size_t room = sizeof scratch;
			if (i == 0 && out && olen + 1 < out_size) {
				buf = out + olen;
				room = out_size - olen - 1;
			} else if (i == 1 && elen + 1 < sizeof errout) {
				buf = errout + elen;
				room = sizeof errout - elen - 1;
			}
			ssize_t r = read(i == 0 ? o[0] : er[0], buf, room);
			if (r <= 0) {
				close(i == 0 ? o[0] : er[0]);
				(i == 0 ? o : er)[0] = -1;
			} else if (buf == out + olen) {
				olen += (size_t)r;
				out[olen] = '\0';
			} else if (buf == errout + elen) {
				elen += (size_t)r;
				errout[elen] = '\0';
			}
		}
	}
	signal(SIGPIPE, was);
	int status;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		errout[strcspn(errout, "\n")] = '\0';
		return err_set(e, ERR_INTERNAL, "%s failed (status %d): %s", argv[0], WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status),
			       errout[0] ? errout : "no message");
	}
	return 0;
}

static pid_t sys_jail_spawn(int jid, char *const argv[], const int fds[3], struct err *e)
{
	int rep[2];
	if (pipe2(rep, O_CLOEXEC) < 0)
		return err_errno(e, "pipe");
	pid_t pid = fork();
	if (pid < 0)
		return err_errno(e, "fork");
	if (pid == 0) {
		/* /dev/null of the host, opened before the jail's view replaces it */
		int null = open("/dev/null", O_RDWR);
		if (rep[1] < 3)
			child_fail(rep[1]);
		for (int i = 0; i < 3; i++)
			if (dup2(fds[i] >= 0 ? fds[i] : null, i) < 0)
				child_fail(rep[1]);
		close_all_but(rep[1]);
		if (jail_attach(jid) < 0 || setsid() < 0 || chdir("/") < 0)
			child_fail(rep[1]);
		environ = (char **)jail_env;
		/* not found in the jail: 127, as a shell says it */
		execvp(argv[0], argv);
		_exit(127);
	}
	close(rep[1]);
	if (child_started(pid, rep[0]) < 0)
		return err_errno(e, "entering jail %d", jid);
	return pid;
}

static pid_t sys_jail_console(int jid, char *const argv[], unsigned short rows, unsigned short cols, bool exit_mark, int *master,
			      struct err *e)
{
	int sp[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0)
		return err_errno(e, "socketpair");
	pid_t pid = fork();
	if (pid < 0)
		return err_errno(e, "fork");
	if (pid == 0) {
		close(sp[0]);
		/* the terminal is the jail's: made after jail_attach, its rctl counts it */
		if (jail_attach(jid) < 0 || chdir("/") < 0)
			_exit(126);
		int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
		if (m < 0 || grantpt(m) < 0 || unlockpt(m) < 0)
			_exit(125);
		struct winsize ws = { .ws_row = rows, .ws_col = cols };
		ioctl(m, TIOCSWINSZ, &ws);
		const char *slave = ptsname(m);
		if (!slave)
			_exit(125);
		pid_t sh = fork();
		if (sh == 0) {
			int s = open(slave, O_RDWR);
			if (s < 0 || setsid() < 0 || ioctl(s, TIOCSCTTY, 0) < 0 || dup2(s, 0) < 0 || dup2(s, 1) < 0 || dup2(s, 2) < 0)
				_exit(125);
			closefrom(3);
			environ = (char **)jail_env;
			static char *const login[] = { "/usr/bin/login", "-f", "root", NULL };
			execvp(argv ? argv[0] : login[0], argv ? argv : login);
			_exit(127);
		}
		int sent = sh > 0 ? fd_pass(sp[1], m) : -1;
		close(sp[1]);
		if (sent < 0)
			_exit(125);
		int st = 0;
		if (exit_mark) {
			while (waitpid(sh, &st, 0) < 0 && errno == EINTR)
				;
			char mark[64];
			int n = snprintf(mark, sizeof mark, CONSOLE_EXIT_MARK "%d\a", WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
			(void)!write(m, mark, (size_t)n);
		}
		_exit(0);
	}
	close(sp[1]);
	struct pollfd pf = { .fd = sp[0], .events = POLLIN };
	int m = poll(&pf, 1, 5000) == 1 ? fd_take(sp[0]) : -1;
	close(sp[0]);
	/* only a terminal master has a ptsname */
	if (m >= 0 && !ptsname(m)) {
		close(m);
		m = -1;
	}
	if (m < 0)
		return err_set(e, ERR_INTERNAL, "the terminal in jail %d could not be opened", jid);
	*master = m;
	return pid;
}

static int sys_wait_child(pid_t pid, int ms, int *status)
{
	for (int waited = 0;; waited += 10) {
		pid_t r = waitpid(pid, status, ms < 0 ? 0 : WNOHANG);
		if (r == pid)
			return 1;
		if (r < 0 && errno != EINTR)
			return -1;
		if (ms >= 0 && waited >= ms)
			return 0;
		if (r == 0)
			usleep(10000);
	}
}

static int sys_jail_kill_all(int jid, int sig)
{
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0)
		_exit(jail_attach(jid) < 0 || kill(-1, sig) < 0 ? 1 : 0);
	int st;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

static int sys_kill(pid_t pid, int sig)
{
	return kill(pid, sig);
}

static void sys_pause_ms(int ms)
{
	usleep((useconds_t)ms * 1000);
}

static const struct fb_sys real = {
	.jail_set = sys_jail_set,
	.jail_getid = sys_jail_getid,
	.jail_remove = sys_jail_remove,
	.nmount = sys_nmount,
	.unmount = sys_unmount,
	.is_mount_point = sys_is_mount_point,
	.if_ioctl = sys_if_ioctl,
	.rctl_add = sys_rctl_add,
	.rctl_remove = sys_rctl_remove,
	.rctl_usage = sys_rctl_usage,
	.sysctl_int = sys_sysctl_int,
	.tool = sys_tool,
	.jail_spawn = sys_jail_spawn,
	.jail_console = sys_jail_console,
	.wait_child = sys_wait_child,
	.jail_kill_all = sys_jail_kill_all,
	.kill = sys_kill,
	.proc_start = os_proc_starttime,
	.pause_ms = sys_pause_ms,
};

const struct fb_sys *fb_sys = &real;
