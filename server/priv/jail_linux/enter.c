/* enter.c — joining a running jail: exec, stop_command and console run as jail root
 * inside its namespaces, in a session of their own. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <linux/mount.h>
#include <linux/sched.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "../backend.h"
#include "linux.h"
#include "caps.h"
#include "disk.h"
#include "tarball.h"
#include "netfilter.h"
#include "fsutil.h"
#include "checks.h"
#include "lock.h"
#include "log.h"
#include "netlink.h"
#include "rootfs.h"
#include "../os.h"
#include "../runrec.h"
#include "seccomp.h"
#include "template.h"

/* ---- joining a running jail (exec, stop_command, console) ---- */

static const char *const ns_order[] = { "mnt", "pid", "ipc", "cgroup", "user", "uts", "net" };
#define NNS (sizeof ns_order / sizeof *ns_order)


/* The login shell /etc/passwd names for root, if it is an absolute path that exists;
 * /bin/sh otherwise. Runs inside the jail, as jail root: the file is the jail's own. */
static void root_shell(char *buf, size_t size)
{
	snprintf(buf, size, "/bin/sh");
	FILE *f = fopen("/etc/passwd", "re");
	char line[512];
	while (f && fgets(line, sizeof line, f)) {
		if (strncmp(line, "root:", 5) != 0)
			continue;
		char *sh = strrchr(line, ':');
		sh[strcspn(sh, "\r\n")] = '\0';
		if (sh[1] == '/' && strlen(sh + 1) < size && access(sh + 1, X_OK) == 0)
			snprintf(buf, size, "%s", sh + 1);
		break;
	}
	if (f)
		fclose(f);
}

/* In the jail, as jail root: a terminal from the jail's devpts, this process its
 * session leader with the slave as controlling terminal and stdio; the master goes up
 * the socket, then exec. TIOCGPTPEER opens the slave without a path lookup. */
static int console_setup(const struct jail_entry *en)
{
	int m = open("/dev/pts/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	int unlock = 0;
	if (m < 0 || ioctl(m, TIOCSPTLCK, &unlock) < 0 || setsid() < 0)
		return -1;
	int sl = ioctl(m, TIOCGPTPEER, O_RDWR | O_NOCTTY);
	struct winsize ws = { .ws_row = en->rows, .ws_col = en->cols };
	if (sl < 0 || ioctl(sl, TIOCSCTTY, 0) < 0 || ioctl(m, TIOCSWINSZ, &ws) < 0)
		return -1;
	if (dup2(sl, 0) < 0 || dup2(sl, 1) < 0 || dup2(sl, 2) < 0 || fd_pass(en->pty, m) < 0)
		return -1;
	close(m);
	return 0;
}

static const char *const console_env[] = {
	"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
	"HOME=/root",
	"USER=root",
	"LOGNAME=root",
	"TERM=xterm-256color",
	"container=jaild",
	NULL, /* SHELL= */
	NULL,
};

/* Says why a command could not run, on its stderr, and exits as a shell would: 127
 * when there is no such program, 126 when it cannot be run. */
static void exec_failed(const char *prog, int err)
{
	char msg[512];
	int n = snprintf(msg, sizeof msg, "jaild: %s: %s\n", prog, err == ENOENT ? "command not found" : strerror(err));
	ssize_t w = write(2, msg, n > 0 && (size_t)n < sizeof msg ? (size_t)n : sizeof msg - 1);
	(void)w;
	_exit(err == ENOENT ? 127 : 126);
}

/* argv[0] as it is when it names a path; a bare name is looked for in the jail's PATH
 * (jail_env), as jexec(8) and docker exec do. */
static void exec_command(char **argv, char *const *env)
{
	if (strchr(argv[0], '/')) {
		execve(argv[0], argv, env);
		exec_failed(argv[0], errno);
	}
	const char *path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	for (size_t i = 0; jail_env[i]; i++)
		if (strncmp(jail_env[i], "PATH=", 5) == 0)
			path = jail_env[i] + 5;
	int err = ENOENT;
	for (const char *p = path; *p;) {
		size_t n = strcspn(p, ":");
		char file[4096];
		if (n > 0 && snprintf(file, sizeof file, "%.*s/%s", (int)n, p, argv[0]) < (int)sizeof file) {
			execve(file, argv, env);
			if (errno != ENOENT && errno != ENOTDIR)
				err = errno; /* found, but not runnable: say that, unless a later one runs */
		}
		p += n + (p[n] == ':');
	}
	exec_failed(argv[0], err);
}

/* exec -t: the command on the terminal, in the foreground, and how it ended written to
 * the terminal after it (CONSOLE_EXIT_MARK), for jaild to pass on. This process stays
 * as the session's leader, in the jail, with the jail's root's powers and no more. */
static void exec_on_terminal(const struct jail_entry *en, char **env)
{
	char *argv[ARGV_MAX + 1];
	argv_unpack(en->argv, argv);
	/* both sides hand the terminal to the command's group, whichever runs first; a
	 * background group's tcsetpgrp would stop it with SIGTTOU, so that is ignored
	 * until the command's exec */
	signal(SIGTTOU, SIG_IGN);
	pid_t z = fork();
	if (z < 0)
		_exit(126);
	if (z == 0) {
		setpgid(0, 0);
		tcsetpgrp(0, getpid());
		signal(SIGTTOU, SIG_DFL);
		exec_command(argv, env);
	}
	setpgid(z, z);
	tcsetpgrp(0, z);
	int st = 0;
	while (waitpid(z, &st, 0) < 0 && errno == EINTR)
		;
	tcsetpgrp(0, getpgrp());
	char mark[64];
	int n = snprintf(mark, sizeof mark, CONSOLE_EXIT_MARK "%d\a", WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
	ssize_t w = write(1, mark, (size_t)n);
	(void)w;
	_exit(0);
}

static void exec_inside(const struct jail_entry *en)
{
	if (en->pty < 0) {
		char *argv[ARGV_MAX + 1];
		argv_unpack(en->argv, argv);
		exec_command(argv, (char *const *)jail_env);
		return;
	}
	char shell[256], arg0[258], envsh[270];
	const char *env[sizeof console_env / sizeof *console_env];
	memcpy(env, console_env, sizeof env);
	root_shell(shell, sizeof shell);
	snprintf(arg0, sizeof arg0, "-%s", strrchr(shell, '/') + 1); /* a login shell */
	snprintf(envsh, sizeof envsh, "SHELL=%s", shell);
	env[sizeof console_env / sizeof *console_env - 2] = envsh;
	if (en->argv && en->argv->argc > 0)
		exec_on_terminal(en, (char **)env);
	char *argv[] = { arg0, NULL };
	execve(shell, argv, (char **)env);
}

/* Runs en in the running jail of pid1. exec: waits up to timeout seconds and sets
 * *status to the exit code (128+signal when killed, 124 on timeout). console: returns
 * once the shell has started; the shell is then a child of the jail's PID 1. */
int run_in_jail(struct priv_ctx *c, const char *name, pid_t pid1, unsigned long long start, const struct jail_entry *en,
		       unsigned timeout, int *status, bool *timed_out, struct err *e)
{
	int nsfd[NNS];
	char path[64];
	uint64_t capbnd;
	struct rlimit nofile;
	int rc = -1;
	for (size_t i = 0; i < NNS; i++)
		nsfd[i] = -1;
	for (size_t i = 0; i < NNS; i++) {
		snprintf(path, sizeof path, "/proc/%d/ns/%s", (int)pid1, ns_order[i]);
		if ((nsfd[i] = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
			/* its PID 1 ended since the caller looked: a stopped jail, not a fault */
			if (os_proc_starttime(pid1) != start)
				err_set(e, ERR_WRONG_STATE, "jail %s stopped", name);
			else
				err_errno(e, "opening %s", path);
			goto out;
		}
	}
	if (caps_bounding_of(pid1, &capbnd, e) || prlimit(pid1, RLIMIT_NOFILE, NULL, &nofile) < 0)
		goto out;
	/* the CPUs its PID 1 runs on (start.c: as many as its pcpu allows) */
	cpu_set_t cpus;
	bool have_cpus = sched_getaffinity(pid1, sizeof cpus, &cpus) == 0;
	/* the namespaces we opened are the jail's only if its PID 1 is still the same process */
	if (os_proc_starttime(pid1) != start) {
		err_set(e, ERR_WRONG_STATE, "jail %s stopped", name);
		goto out;
	}
	/* v2: born in the jail's group; v1: moved there first thing */
	int cg_fd = CG(c)->ops->open_dir ? CG(c)->ops->open_dir(CG(c), name, e) : -1;
	if (CG(c)->ops->open_dir && cg_fd < 0)
		goto out;
	pid_t x = fork_into(cg_fd);
	if (cg_fd >= 0)
		close(cg_fd);
	if (x < 0) {
		err_errno(e, "fork");
		goto out;
	}
	if (x == 0) {
		struct err ce = { 0 };
		priv_close_inherited();
		prctl(PR_SET_DUMPABLE, 0); /* no ptrace or /proc/PID access from the jail */
		if (cg_fd < 0 && CG(c)->ops->attach(CG(c), name, 0, &ce))
			_exit(126);
		if (have_cpus)
			sched_setaffinity(0, sizeof cpus, &cpus);
		/* host-owned namespaces first, while we are host root; then the jail's user
		 * namespace, which gives us power over its uts and net namespaces only */
		for (size_t i = 0; i < NNS; i++)
			if (setns(nsfd[i], 0) < 0)
				_exit(126);
		/* into the pid namespace. An exec's process is vforked: it runs on our
		 * memory until its exec (we only wait for it), so no page tables are
		 * copied and no page faults on copy-on-write, the larger part of an
		 * exec's cost on a host where faults are dear; it can run no handler of
		 * ours on that memory, as every signal here has its default action
		 * (dispatch.c). A console's process forks: with a command it stays, as
		 * the session's leader, and we return at once. */
		pid_t y = en->pty < 0 ? vfork() : fork();
		if (y < 0)
			_exit(126);
		if (y == 0) {
			/* a session of its own, without a controlling terminal: /dev/tty opens
			 * nothing, so no TIOCSTI into any terminal outside the jail (a console's
			 * shell makes its own session on the jail's terminal) */
			if ((en->pty < 0 && setsid() < 0) || setgroups(0, NULL) < 0 || setresgid(0, 0, 0) < 0 ||
			    setresuid(0, 0, 0) < 0)
				_exit(126);
			/* exec's command dies with us; a console's shell outlives us (the jail's
			 * PID 1 adopts it) and ends when its terminal is hung up */
			if (en->pty < 0)
				prctl(PR_SET_PDEATHSIG, SIGKILL);
			if (seccomp_jail(en->allow, &ce) || caps_restrict(capbnd, &ce) || setrlimit(RLIMIT_NOFILE, &nofile) < 0)
				_exit(126);
			if (en->pty >= 0 ? console_setup(en) < 0
					 : dup2(en->stdio[0], 0) < 0 || dup2(en->stdio[1], 1) < 0 || dup2(en->stdio[2], 2) < 0)
				_exit(126);
			syscall(SYS_close_range, 3, ~0U, 0);
			if (chdir("/root") < 0 && chdir("/") < 0)
				_exit(126);
			exec_inside(en);
			_exit(127);
		}
		if (en->pty >= 0)
			_exit(0);
		int st;
		while (waitpid(y, &st, 0) < 0)
			if (errno != EINTR)
				_exit(126);
		_exit(WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
	}
	int pfd = (int)syscall(SYS_pidfd_open, x, 0);
	int w = pfd >= 0 ? wait_pidfd(pfd, timeout ? (int)timeout * 1000 : -1) : 1;
	*timed_out = w == 0;
	if (w == 0)
		kill(x, SIGKILL); /* its child dies with it (PDEATHSIG) */
	if (pfd >= 0)
		close(pfd);
	int st;
	while (waitpid(x, &st, 0) < 0 && errno == EINTR)
		;
	*status = *timed_out ? 124 : WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	rc = 0;
out:
	for (size_t i = 0; i < NNS; i++)
		if (nsfd[i] >= 0)
			close(nsfd[i]);
	return rc;
}

int linux_exec(struct priv_ctx *c, const struct req_exec *r, const int fds[3], struct reply *out, struct err *e)
{
	struct runrec rec;
	if (!runrec_alive(c->jails_fd, r->name, &rec))
		return err_set(e, ERR_WRONG_STATE, "jail %s is not running; start it first", r->name);
	bool timed_out = false;
	int status = 0;
	struct jail_entry en = { .argv = &r->argv, .stdio = fds, .pty = -1, .allow = rec.allow };
	if (run_in_jail(c, r->name, rec.pid, rec.starttime, &en, r->timeout, &status, &timed_out, e))
		return -1;
	out->exit_code = status;
	out->timed_out = timed_out;
	return 0;
}

/* The master arrives from code of ours that runs in the jail until its exec; it is
 * still checked to be a terminal master before it goes to jaild. */
int linux_console(struct priv_ctx *c, const struct req_console *r, struct reply *out, int *master, struct err *e)
{
	struct runrec rec;
	if (!runrec_alive(c->jails_fd, r->name, &rec))
		return err_set(e, ERR_WRONG_STATE, "jail %s is not running; start it first", r->name);
	int sp[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
		return err_errno(e, "socketpair");
	struct jail_entry en = { .pty = sp[1], .rows = r->rows, .cols = r->cols, .allow = rec.allow, .argv = &r->argv };
	bool timed_out = false;
	int status = 0, rc = run_in_jail(c, r->name, rec.pid, rec.starttime, &en, 10, &status, &timed_out, e);
	close(sp[1]);
	if (rc == 0) {
		struct pollfd pf = { .fd = sp[0], .events = POLLIN };
		int m = poll(&pf, 1, 5000) == 1 ? fd_take(sp[0]) : -1;
		struct stat st;
		int ptn;
		if (m >= 0 && (fstat(m, &st) < 0 || !S_ISCHR(st.st_mode) || ioctl(m, TIOCGPTN, &ptn) < 0)) {
			close(m);
			m = -1;
		}
		if (m < 0)
			rc = err_set(e, ERR_INTERNAL, "the shell in jail %s could not open a terminal (status %d)", r->name, status);
		*master = m;
		out->pid = rec.pid;
	}
	close(sp[0]);
	return rc;
}

