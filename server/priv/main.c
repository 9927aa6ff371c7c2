/* jaild-priv — the privileged helper. Started by jaild's root supervisor, never by
 * hand, with the socket to jaild on descriptor 3 and its whole configuration on the
 * command line.
 *
 * Like vmd's priv.c and OpenSSH's monitor: a fixed vocabulary and a table saying, for
 * each message, how it is checked and how it runs. A frame of the wrong shape ends
 * the helper (jaild starts a new one); a request of the wrong meaning gets an error
 * reply. Everything jaild says is checked again here as if jaild were hostile. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backend.h"
#include "ctx.h"
#include "dispatch.h"
#include "lock.h"
#include "log.h"
#include "os.h"
#include "proto.h"
#include "resolv.h"
#include "validate.h"

static struct priv_ctx ctx;

/* SIGCHLD wakes the loop through a pipe (the self-pipe trick: portable, and poll
 * sees it). */
static int sigchld_pipe[2] = { -1, -1 };

/* SIGTERM (the supervisor stopping, or its death: PDEATHSIG) ends the helper as a
 * closed connection does: the backend's fini leaves nothing behind when no jail runs. */
static volatile sig_atomic_t term_asked;

static void on_term(int sig)
{
	(void)sig;
	int saved = errno;
	term_asked = 1;
	ssize_t n = write(sigchld_pipe[1], "t", 1);
	(void)n;
	errno = saved;
}

static void on_sigchld(int sig)
{
	(void)sig;
	int saved = errno;
	ssize_t n = write(sigchld_pipe[1], "c", 1);
	(void)n; /* a full pipe already says "children are gone" */
	errno = saved;
}

static int open_dir_owned_by_root(int at, const char *name, mode_t mode, struct err *e)
{
	if (mkdirat(at, name, mode) < 0 && errno != EEXIST)
		return err_errno(e, "creating %s/%s", ctx.data_dir, name);
	int fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0)
		return err_errno(e, "opening %s/%s (it must be a real directory, not a symlink)", ctx.data_dir, name);
	if (st.st_uid != 0 || (st.st_mode & 022)) {
		close(fd);
		return err_set(e, ERR_INTERNAL, "%s/%s must be owned by root and writable only by root", ctx.data_dir, name);
	}
	if (fchmod(fd, mode) < 0) {
		close(fd);
		return err_errno(e, "chmod %s/%s", ctx.data_dir, name);
	}
	return fd;
}

static void usage(void)
{
	fprintf(stderr, "jaild-priv is started by jaild, not by hand.\n");
	exit(64);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "data-dir", required_argument, NULL, 'd' }, { "uid-base", required_argument, NULL, 'u' },
		{ "pool4", required_argument, NULL, '4' },    { "pool6", required_argument, NULL, '6' },
		{ "allow-mount", required_argument, NULL, 'm' }, { "busybox", required_argument, NULL, 'b' },
		{ "favordynmods", no_argument, NULL, 'f' }, { "cgroup-parent", required_argument, NULL, 'g' },
		{ "pty-max", required_argument, NULL, 'p' }, { "allow-setuid-mounts", no_argument, NULL, 'S' },
		{ "backend", required_argument, NULL, 'B' },
		{ "uplink", required_argument, NULL, 'U' }, { "pool4-mode", required_argument, NULL, 'M' },
		{ "pool6-mode", required_argument, NULL, 'N' }, { "egress-default", required_argument, NULL, 'E' },
		{ "dns", required_argument, NULL, 'D' }, { "lxcfs", required_argument, NULL, 'L' },
		{ NULL, 0, NULL, 0 },
	};
	struct err e = { 0 };
	int c;
	log_init("jaild-priv");
	snprintf(ctx.busybox, sizeof ctx.busybox, "/bin/busybox");
	ctx.pty_max = 32;
	const char *p4 = "10.77.0.0/16", *p6 = "fd77::/64", *dns = "";
	snprintf(ctx.net.uplink, sizeof ctx.net.uplink, "auto");
	snprintf(ctx.lxcfs, sizeof ctx.lxcfs, "/var/lib/lxcfs");
	unsigned long long base = 1000000ULL;
	const struct backend_ops *B = backend_find(NULL);
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd': snprintf(ctx.data_dir, sizeof ctx.data_dir, "%s", optarg); break;
		case 'u': base = strtoull(optarg, NULL, 10); break;
		case '4': p4 = optarg; break;
		case '6': p6 = optarg; break;
		case 'b': snprintf(ctx.busybox, sizeof ctx.busybox, "%s", optarg); break;
		case 'f': ctx.favordynmods = 1; break;
		case 'S': ctx.allow_setuid_mounts = 1; break;
		case 'U':
			if (strlen(optarg) >= sizeof ctx.net.uplink || !valid_ifname(optarg)) {
				fprintf(stderr, "jaild-priv: bad --uplink %s\n", optarg);
				return 64;
			}
			snprintf(ctx.net.uplink, sizeof ctx.net.uplink, "%s", strcmp(optarg, "none") == 0 ? "" : optarg);
			break;
		case 'M':
		case 'N':
			if (strcmp(optarg, "nat") != 0 && strcmp(optarg, "routed") != 0) {
				fprintf(stderr, "jaild-priv: bad --pool%c-mode %s\n", c == 'M' ? '4' : '6', optarg);
				return 64;
			}
			*(c == 'M' ? &ctx.net.routed4 : &ctx.net.routed6) = strcmp(optarg, "routed") == 0;
			break;
		case 'E':
			if (strcmp(optarg, "allow") != 0 && strcmp(optarg, "deny") != 0) {
				fprintf(stderr, "jaild-priv: bad --egress-default %s\n", optarg);
				return 64;
			}
			ctx.net.egress_deny = strcmp(optarg, "deny") == 0;
			break;
		case 'D': dns = optarg; break;
		case 'L':
			if (strcmp(optarg, "none") != 0 && (!valid_abs_path(optarg) || strlen(optarg) >= sizeof ctx.lxcfs)) {
				fprintf(stderr, "jaild-priv: bad --lxcfs %s\n", optarg);
				return 64;
			}
			snprintf(ctx.lxcfs, sizeof ctx.lxcfs, "%s", strcmp(optarg, "none") == 0 ? "" : optarg);
			break;
		case 'B':
			if (!(B = backend_find(optarg))) {
				fprintf(stderr, "jaild-priv: this build has no backend %s\n", optarg);
				return 64;
			}
			break;
		case 'p':
			ctx.pty_max = (uint32_t)strtoul(optarg, NULL, 10);
			if (ctx.pty_max < 4 || ctx.pty_max > 4096) {
				fprintf(stderr, "jaild-priv: bad --pty-max %s\n", optarg);
				return 64;
			}
			break;
		case 'g':
			if (!valid_abs_path(optarg) || strlen(optarg) >= sizeof ctx.cgroup_parent) {
				fprintf(stderr, "jaild-priv: bad --cgroup-parent %s\n", optarg);
				return 64;
			}
			snprintf(ctx.cgroup_parent, sizeof ctx.cgroup_parent, "%s", optarg);
			break;
		case 'm':
			if (ctx.nallowed == ALLOWED_MOUNTS_MAX || !valid_abs_path(optarg) || strcmp(optarg, "/") == 0) {
				fprintf(stderr, "jaild-priv: bad --allow-mount %s\n", optarg);
				return 64;
			}
			snprintf(ctx.allowed_mounts[ctx.nallowed++], JPATH_SIZE, "%s", optarg);
			break;
		default: usage();
		}
	}
	if (!B) {
		log_error("this build has no jail backend for this system");
		return EXIT_HOST_UNFIT;
	}
	if (geteuid() != 0) {
		log_error("must run as root (it does the privileged half of jaild)");
		return 1;
	}
	struct stat sst;
	if (!ctx.data_dir[0] || fstat(3, &sst) < 0 || !S_ISSOCK(sst.st_mode))
		usage();
	if (base < 65536 || base > (unsigned long long)UID_TOP + 1 - UID_RANGE) {
		log_error("--uid-base %llu is out of range (65536 to %lld)", base, UID_TOP + 1 - UID_RANGE);
		return EXIT_HOST_UNFIT;
	}
	ctx.uid_base = (uint32_t)base;
	ctx.max_slots = (uint32_t)(((unsigned long long)UID_TOP + 1 - base) / UID_RANGE);
	if (pool4_parse(p4, &ctx.pool4, &e) || pool6_parse(p6, &ctx.pool6, &e)) {
		log_error("%s", e.msg);
		return 64;
	}
	char note[256];
	ctx.net.ndns = resolvers_pick(dns, ctx.net.dns, note, sizeof note, &e);
	if (ctx.net.ndns < 0) {
		log_error("%s", e.msg);
		return 64;
	}
	if (note[0])
		log_warn("%s", note);
	priv_sock_fd = 3;
	fcntl(3, F_SETFD, FD_CLOEXEC);
	/* orphaned jail inits come to us (then to the supervisor), and we reap them */
	os_become_reaper();
	os_die_with_parent(SIGTERM);
	char real[PATH_MAX];
	if (!realpath(ctx.data_dir, real))
		snprintf(real, sizeof real, "%s", ctx.data_dir);
	uint32_t h = 2166136261u; /* FNV-1a */
	for (const char *p = real; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	snprintf(ctx.tag, sizeof ctx.tag, "%04x", (h ^ (h >> 16)) & 0xffff);
	int data = open(ctx.data_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (data < 0) {
		log_error("opening data dir %s: %s", ctx.data_dir, strerror(errno));
		return 1;
	}
	if ((ctx.jails_fd = open_dir_owned_by_root(data, "jails", 0700, &e)) < 0 ||
	    (ctx.templates_fd = open_dir_owned_by_root(data, "templates", 0700, &e)) < 0) {
		log_error("%s", e.msg);
		return 1;
	}
	if (B->init(&ctx, &e) < 0) {
		/* a host this backend cannot serve: the supervisor stops jaild with this
		 * message rather than starting helpers that fail the same way */
		log_error("%s", e.msg);
		return EXIT_HOST_UNFIT;
	}
	close(data);

	dispatch_init(B, &ctx);
	struct sigaction sa = { .sa_handler = on_sigchld, .sa_flags = SA_RESTART | SA_NOCLDSTOP };
	sigemptyset(&sa.sa_mask);
	if (pipe(sigchld_pipe) < 0 || sigaction(SIGCHLD, &sa, NULL) < 0) {
		log_error("setting up SIGCHLD: %s", strerror(errno));
		return 1;
	}
	for (int i = 0; i < 2; i++) {
		fcntl(sigchld_pipe[i], F_SETFD, FD_CLOEXEC);
		fcntl(sigchld_pipe[i], F_SETFL, O_NONBLOCK);
	}
	struct sigaction ta = { .sa_handler = on_term };
	sigemptyset(&ta.sa_mask);
	sigaction(SIGTERM, &ta, NULL);
	static _Alignas(8) char frame[PROTO_MAX_FRAME];
	for (;;) {
		struct pollfd pf[2] = { { .fd = 3, .events = POLLIN }, { .fd = sigchld_pipe[0], .events = POLLIN } };
		/* the spare worker is forked when nothing waits: a request already there is
		 * served first (with a worker forked for it), not after a fork for the next */
		int ready = poll(pf, 2, 0);
		if (ready == 0) {
			dispatch_refill(3);
			ready = poll(pf, 2, -1);
		}
		if (ready < 0 && errno != EINTR)
			return 1;
		if (term_asked) {
			log_info("asked to stop; exiting");
			if (B->fini)
				B->fini(&ctx);
			return 0;
		}
		if (pf[1].revents & POLLIN) {
			char drain[64];
			while (read(sigchld_pipe[0], drain, sizeof drain) > 0)
				;
			pid_t w;
			int st;
			while ((w = waitpid(-1, &st, WNOHANG)) > 0)
				dispatch_child_gone(3, w, st);
		}
		if (!pf[0].revents)
			continue;
		int fds[PROTO_MAX_FDS], nfds;
		long n = proto_recv(3, frame, fds, &nfds, &e);
		if (n == 0) {
			log_info("jaild closed the connection; exiting");
			if (B->fini)
				B->fini(&ctx);
			return 0;
		}
		if (n < 0) {
			log_error("%s; exiting", e.msg);
			return 2;
		}
		dispatch(3, frame, fds, nfds);
		for (int i = 0; i < nfds; i++)
			close(fds[i]);
	}
}
