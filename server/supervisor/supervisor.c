#include "supervisor/supervisor.h"
#include "proto.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "progpath.h"
#include "os/os.h"

static volatile sig_atomic_t stop_requested;

static void on_term(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static int stdin_null(void)
{
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int r = dup2(fd, 0);
	close(fd);
	return r < 0 ? -1 : 0;
}

static pid_t spawn_helper(const struct config *cfg, int *server_end)
{
	int sp[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0) {
		log_error("socketpair: %s", strerror(errno));
		return -1;
	}
	char path[PATH_MAX];
	prog_path("jaild-priv", path, sizeof path); /* beside jaild in a build tree */
	pid_t pid = fork();
	if (pid < 0) {
		close(sp[0]);
		close(sp[1]);
		return -1;
	}
	if (pid == 0) {
		/* a session of its own: neither the helper nor any jail it starts has a
		 * controlling terminal (a jail's /dev/tty could reach the admin's, TIOCSTI) */
		setsid();
		if (dup2(sp[1], 3) < 0 || stdin_null() < 0)
			_exit(127);
		char *argv[80];
		int n = 0;
		argv[n++] = path;
		argv[n++] = "--data-dir";
		argv[n++] = (char *)cfg->data_dir;
		argv[n++] = "--uid-base";
		argv[n++] = (char *)cfg->uid_base;
		argv[n++] = "--pool4";
		argv[n++] = (char *)cfg->pool4;
		argv[n++] = "--pool6";
		argv[n++] = (char *)cfg->pool6;
		argv[n++] = "--busybox";
		argv[n++] = (char *)cfg->busybox;
		argv[n++] = "--uplink";
		argv[n++] = (char *)cfg->uplink;
		argv[n++] = "--pool4-mode";
		argv[n++] = (char *)cfg->pool4_mode;
		argv[n++] = "--pool6-mode";
		argv[n++] = (char *)cfg->pool6_mode;
		argv[n++] = "--egress-default";
		argv[n++] = (char *)cfg->egress_default;
		argv[n++] = "--dns";
		argv[n++] = (char *)cfg->dns;
		argv[n++] = "--lxcfs";
		argv[n++] = (char *)cfg->lxcfs;
		if (strcmp(cfg->favordynmods, "yes") == 0)
			argv[n++] = "--favordynmods";
		if (strcmp(cfg->allow_setuid_mounts, "yes") == 0)
			argv[n++] = "--allow-setuid-mounts";
		argv[n++] = "--pty-max";
		argv[n++] = (char *)cfg->pty_max;
		if (cfg->cgroup_parent[0]) {
			argv[n++] = "--cgroup-parent";
			argv[n++] = (char *)cfg->cgroup_parent;
		}
		for (int i = 0; i < cfg->nallow_mounts; i++) {
			argv[n++] = "--allow-mount";
			argv[n++] = (char *)cfg->allow_mounts[i];
		}
		argv[n] = NULL;
		char *envp[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL };
		execve(path, argv, envp);
		fprintf(stderr, "jaild: cannot run %s: %s\n", path, strerror(errno));
		_exit(127);
	}
	close(sp[1]);
	*server_end = sp[0];
	return pid;
}

void supervisor_detach_terminal(void)
{
	/* jaild started from an admin's shell (nohup ... &) must keep nothing of that
	 * terminal: no controlling terminal (TIOCNOTTY leaves it; setsid where we may),
	 * and no terminal on stdin */
	int tty = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (tty >= 0) {
		ioctl(tty, TIOCNOTTY);
		close(tty);
	}
	setsid();
	stdin_null();
}

/* Waits up to ms for pid; SIGKILL after that. */
static void reap(pid_t pid, int ms)
{
	for (int i = 0; i < ms / 10; i++) {
		if (waitpid(pid, NULL, WNOHANG) != 0)
			return;
		struct timespec ts = { 0, 10 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

/* lxcfs at its mount point, started if nothing serves there yet (a host with systemd
 * has Debian's lxcfs.service for it). It is the host's, not jaild's: it outlives jaild,
 * as jails' /proc files need it to. */
static void ensure_lxcfs(const char *dir)
{
	if (strcmp(dir, "none") == 0)
		return;
	/* an lxcfs that died (killed with the session that started it) leaves its mount,
	 * on which every access fails and over which nothing can mount */
	if (os_fuse_reclaim_dead(dir))
		log_warn("lxcfs at %s had died, leaving its mount; took the mount away to start it again", dir);
	if (os_is_fuse(dir))
		return;
	if (access("/usr/bin/lxcfs", X_OK) < 0) {
		log_warn("lxcfs is not installed: jails see the host's memory, CPUs and uptime in /proc (apt-get install lxcfs)");
		return;
	}
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return;
	pid_t pid = fork();
	if (pid == 0) {
		/* a daemon of its own: a new session, not our child */
		setsid();
		if (fork() != 0)
			_exit(0);
		int null = open("/dev/null", O_RDWR);
		if (null >= 0) {
			dup2(null, 0), dup2(null, 1), dup2(null, 2);
		}
		for (int fd = 3; fd < 1024; fd++)
			close(fd);
		/* lxcfs locks its pid file, /run/lxcfs.pid unless told: that one for the usual
		 * mount point (so this and Debian's unit never both run), one beside any other */
		char pidfile[PATH_MAX + 8];
		snprintf(pidfile, sizeof pidfile, "%s.pid", dir);
		char *argv[6] = { "/usr/bin/lxcfs", "--enable-cfs" };
		int n = 2;
		if (strcmp(dir, "/var/lib/lxcfs") != 0) {
			argv[n++] = "--pidfile";
			argv[n++] = pidfile;
		}
		argv[n++] = (char *)dir;
		argv[n] = NULL;
		char *const envp[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL };
		execve(argv[0], argv, envp);
		_exit(127);
	}
	if (pid > 0)
		waitpid(pid, NULL, 0);
	/* until it answers, jails start without it (their /proc is the host's) */
	for (int i = 0; i < 100; i++) {
		if (os_is_fuse(dir)) {
			log_info("started lxcfs at %s", dir);
			return;
		}
		struct timespec ts = { 0, 20 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	log_warn("lxcfs did not come up at %s: jails see the host's memory and CPUs in /proc", dir);
}

int supervisor_run(const struct config *cfg, pid_t server, int ctl)
{
	ensure_lxcfs(cfg->lxcfs);
	struct sigaction sa = { .sa_handler = on_term };
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	/* jails whose helper died come to us, and we reap them */
	os_subreaper();
	pid_t helper = -1;
	struct timespec last_spawn = { 0, 0 };
	int fast_deaths = 0, exit_code = -1;
	bool stopping = false;
	for (;;) {
		if (stop_requested && !stopping) {
			/* no helper is started from here on: the server goes, then we do */
			stopping = true;
			kill(server, SIGTERM);
		}
		if (helper < 0 && !stopping) {
			struct timespec now;
			clock_gettime(CLOCK_MONOTONIC, &now);
			/* a helper that keeps dying at once is not restarted in a tight loop */
			if (now.tv_sec - last_spawn.tv_sec < 5)
				fast_deaths++;
			else
				fast_deaths = 0;
			if (fast_deaths > 3)
				sleep(fast_deaths > 10 ? 10 : (unsigned)fast_deaths);
			clock_gettime(CLOCK_MONOTONIC, &last_spawn);
			int fd;
			helper = spawn_helper(cfg, &fd);
			if (helper > 0) {
				if (fd_pass(ctl, fd) < 0)
					log_error("handing the helper's socket to the server failed");
				close(fd);
				log_info("started jaild-priv (pid %d)", (int)helper);
			}
		}
		int st;
		pid_t w = waitpid(-1, &st, 0);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			sleep(1);
			continue;
		}
		if (w == server) {
			if (helper > 0) {
				kill(helper, SIGTERM);
				reap(helper, 5000); /* nothing of ours outlives the supervisor */
			}
			log_info("server exited; supervisor leaving (running jails keep running)");
			if (exit_code >= 0)
				return exit_code;
			return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
		}
		if (w == helper) {
			helper = -1;
			if (WIFEXITED(st) && WEXITSTATUS(st) == EXIT_HOST_UNFIT) {
				log_error("jaild cannot serve this host as configured (jaild-priv said why, above); stopping");
				exit_code = EXIT_HOST_UNFIT;
				stop_requested = 1;
			} else if (stopping)
				;
			else if (WIFSIGNALED(st))
				log_warn("jaild-priv (pid %d) was killed by signal %d; starting a new one", (int)w, WTERMSIG(st));
			else
				log_warn("jaild-priv (pid %d) exited with %d; starting a new one", (int)w, WEXITSTATUS(st));
		}
		/* anything else is an orphaned jail process we inherited: reaped above */
	}
}
