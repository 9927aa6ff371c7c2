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
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backend.h"
#include "ctx.h"
#include "log.h"
#include "proto.h"
#include "validate.h"

extern int priv_lock_fd, priv_sock_fd;
void jail_unlock(void); /* jail_linux/jail.c: the jail's lock goes (and its file, if the jail has none) */

#define MAX_WORKERS 64

static const struct backend_ops *B = &linux_backend;
static struct priv_ctx ctx;
static int nworkers;

/* The workers under way: a worker answers its request and exits 0; one that dies
 * before it answered (a crash, the OOM killer) is answered for here, so jaild never
 * waits on a request nobody will answer. */
static struct worker {
	pid_t pid;
	uint32_t id, type;
	char jail[NAME_SIZE]; /* exec's jail, "" for other work */
} workers[MAX_WORKERS];

/* Commands (exec) may run for an hour each: they get at most MAX_EXEC_WORKERS of the
 * workers, so that stops, snapshots and consoles always find one, and one jail at
 * most MAX_EXEC_PER_JAIL of those, whatever jaild sends. */
#define MAX_EXEC_WORKERS 48
#define MAX_EXEC_PER_JAIL 16

static void worker_add(pid_t pid, uint32_t id, uint32_t type, const char *jail)
{
	for (int i = 0; i < MAX_WORKERS; i++)
		if (workers[i].pid == 0) {
			workers[i] = (struct worker){ pid, id, type, "" };
			snprintf(workers[i].jail, sizeof workers[i].jail, "%s", jail);
			nworkers++;
			return;
		}
}

/* Whether one more exec on jail may start (else e says why). */
static bool exec_room(const char *jail, struct err *e)
{
	int all = 0, mine = 0;
	for (int i = 0; i < MAX_WORKERS; i++)
		if (workers[i].pid && workers[i].type == MSG_EXEC) {
			all++;
			mine += strcmp(workers[i].jail, jail) == 0;
		}
	if (mine >= MAX_EXEC_PER_JAIL)
		return err_set(e, ERR_BUSY, "jail %s already runs %d commands; wait for one to finish", jail, mine), false;
	if (all >= MAX_EXEC_WORKERS)
		return err_set(e, ERR_BUSY, "the helper runs %d commands; retry shortly", all), false;
	return true;
}

static void send_reply(int sock, uint32_t id, int rc, struct reply *out, const struct err *e);

/* A child is gone: if it was a worker that died without answering, answer for it.
 * Other children are jails' processes that came to us as their subreaper. */
static void worker_gone(int sock, pid_t pid, int status)
{
	for (int i = 0; i < MAX_WORKERS; i++) {
		if (workers[i].pid != pid)
			continue;
		struct worker w = workers[i];
		workers[i].pid = 0;
		nworkers--;
		if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
			return;
		struct err e = { 0 };
		struct reply out;
		memset(&out, 0, sizeof out);
		if (WIFSIGNALED(status))
			err_set(&e, ERR_INTERNAL, "the helper's %s worker was killed by signal %d before it finished; nothing more was done",
				msg_type_name(w.type), WTERMSIG(status));
		else
			err_set(&e, ERR_INTERNAL, "the helper's %s worker exited with %d before it finished", msg_type_name(w.type),
				WEXITSTATUS(status));
		log_error("%s", e.msg);
		send_reply(sock, w.id, -1, &out, &e);
		return;
	}
}
/* A worker's descriptor to pass with its reply (CONSOLE's terminal master). Each
 * worker is its own process, so one variable serves. */
static int reply_fd = -1;

static int check_spec(const struct req_spec *r, struct err *e)
{
	return spec_check(&r->spec, e);
}

static int check_name(const char *name, struct err *e)
{
	if (!valid_name(name))
		return err_field(e, ERR_INVALID, "name", "jail name must be 1 to 63 lowercase letters, digits and dashes, starting with a letter or digit");
	return 0;
}

/* ---- handlers: each gets a frame that passed the codec's shape checks ---- */

static int h_template(const void *req, const int *fds, struct reply *out, struct err *e)
{
	(void)req, (void)fds, (void)out;
	return B->template_minimal(&ctx, e);
}

static int h_create(const void *req, const int *fds, struct reply *out, struct err *e)
{
	(void)fds, (void)out;
	return check_spec(req, e) || B->create(&ctx, req, e) ? -1 : 0;
}

static int h_start(const void *req, const int *fds, struct reply *out, struct err *e)
{
	(void)fds;
	return check_spec(req, e) || B->start(&ctx, req, out, e) ? -1 : 0;
}

static int h_stop(const void *req, const int *fds, struct reply *out, struct err *e)
{
	const struct req_stop *r = req;
	(void)fds, (void)out;
	if (check_name(r->name, e))
		return -1;
	if (r->timeout > 3600)
		return err_field(e, ERR_INVALID, "stop_timeout", "stop_timeout must be at most 3600");
	return B->stop(&ctx, r, e);
}

static int h_exec(const void *req, const int *fds, struct reply *out, struct err *e)
{
	const struct req_exec *r = req;
	if (check_name(r->name, e))
		return -1;
	if (r->timeout > 86400)
		return err_field(e, ERR_INVALID, "timeout", "timeout must be at most 86400 seconds");
	return B->exec(&ctx, r, fds, out, e);
}

/* A login shell for jail root on a terminal from the jail's own devpts; jaild gets
 * only the master side, which can do no more than the shell's user could. */
static int h_console(const void *req, const int *fds, struct reply *out, struct err *e)
{
	const struct req_console *r = req;
	(void)fds;
	if (check_name(r->name, e))
		return -1;
	return B->console(&ctx, r, out, &reply_fd, e);
}

static int check_snap(const struct req_snap *r, struct err *e)
{
	if (check_name(r->name, e))
		return -1;
	if (!valid_name(r->snap))
		return err_field(e, ERR_INVALID, "name", "snapshot name must be 1 to 63 lowercase letters, digits and dashes, starting with a letter or digit");
	return 0;
}

/* Snapshots are copies inside the jail's own directory: names are checked, and the
 * copy keeps owners as they are (the jail's uid range), so it grants nothing. */
static int h_snap_create(const void *req, const int *fds, struct reply *out, struct err *e)
{
	(void)fds;
	return check_snap(req, e) || B->snap_create(&ctx, req, out, e) ? -1 : 0;
}

static int h_snap_restore(const void *req, const int *fds, struct reply *out, struct err *e)
{
	(void)fds, (void)out;
	return check_snap(req, e) || B->snap_restore(&ctx, req, e) ? -1 : 0;
}

static int h_snap_delete(const void *req, const int *fds, struct reply *out, struct err *e)
{
	(void)fds, (void)out;
	return check_snap(req, e) || B->snap_delete(&ctx, req, e) ? -1 : 0;
}

static int check_template_name(const char *name, struct err *e)
{
	return valid_name(name) ? 0 : err_field(e, ERR_INVALID, "name", "template name must be 1 to 63 lowercase letters, digits and dashes, starting with a letter or digit");
}

/* A tar stream is hostile input: unpacked by a chrooted child, owners bounded to the
 * ids a jail maps, no devices (tarball.c). */
static int h_template_tar(const void *req, const int *fds, struct reply *out, struct err *e)
{
	const struct req_template *r = req;
	(void)out;
	return check_template_name(r->name, e) || B->template_tar(&ctx, r->name, r->replace, fds[0], e) ? -1 : 0;
}

/* Only from under the allow-mount paths: jaild must not turn /etc into a template. */
static int h_template_dir(const void *req, const int *fds, struct reply *out, struct err *e)
{
	const struct req_template *r = req;
	(void)fds, (void)out;
	if (check_template_name(r->name, e))
		return -1;
	if (!valid_abs_path(r->source))
		return err_field(e, ERR_INVALID, "source", "source must be a clean absolute path");
	return B->template_dir(&ctx, r->name, r->replace, r->source, e);
}

static int h_template_delete(const void *req, const int *fds, struct reply *out, struct err *e)
{
	const struct req_template *r = req;
	(void)fds, (void)out;
	return check_template_name(r->name, e) || B->template_delete(&ctx, r->name, e) ? -1 : 0;
}

/* The jail's own files, owners shifted down to the jail's view: nothing of the host. */
static int h_export(const void *req, const int *fds, struct reply *out, struct err *e)
{
	const struct req_export *r = req;
	(void)out;
	return check_name(r->name, e) || B->export_tar(&ctx, r, fds[0], e) ? -1 : 0;
}

/* Like CREATE, with the files from an archive (unpacked as a template's are). */
static int h_import(const void *req, const int *fds, struct reply *out, struct err *e)
{
	const struct req_import *r = req;
	(void)out;
	return check_name(r->name, e) || B->import_tar(&ctx, r, fds[0], e) ? -1 : 0;
}

static int h_destroy(const void *req, const int *fds, struct reply *out, struct err *e)
{
	const struct req_name *r = req;
	(void)fds, (void)out;
	return check_name(r->name, e) || B->destroy(&ctx, r->name, e) ? -1 : 0;
}

static int h_status(const void *req, const int *fds, struct reply *out, struct err *e)
{
	const struct req_name *r = req;
	(void)fds;
	return check_name(r->name, e) || B->status(&ctx, r->name, out, e) ? -1 : 0;
}

static int h_limits(const void *req, const int *fds, struct reply *out, struct err *e)
{
	const struct req_limits *r = req;
	(void)fds, (void)out;
	return check_name(r->name, e) || limits_check(&r->limits, e) || B->set_limits(&ctx, r, e) ? -1 : 0;
}

static int h_sweep(const void *req, const int *fds, struct reply *out, struct err *e)
{
	(void)req, (void)fds, (void)out;
	return B->sweep(&ctx, e);
}

/* The permission table. `inline` ops are quick and touch no jail's state, so they run
 * in the helper's loop; the rest run in a forked worker each, so a slow start or exec
 * never holds up another request, and a crash in one takes down only that worker. */
static const struct {
	int (*handler)(const void *req, const int *fds, struct reply *out, struct err *e);
	int is_inline;
} ops[MSG_TYPE_MAX] = {
	[MSG_TEMPLATE_MINIMAL] = { h_template, 0 },
	[MSG_CREATE] = { h_create, 0 },
	[MSG_START] = { h_start, 0 },
	[MSG_STOP] = { h_stop, 0 },
	[MSG_EXEC] = { h_exec, 0 },
	[MSG_DESTROY] = { h_destroy, 0 },
	[MSG_STATUS] = { h_status, 1 },
	[MSG_SET_LIMITS] = { h_limits, 0 },
	[MSG_SWEEP] = { h_sweep, 0 },
	[MSG_CONSOLE] = { h_console, 0 },
	[MSG_SNAP_CREATE] = { h_snap_create, 0 },
	[MSG_SNAP_RESTORE] = { h_snap_restore, 0 },
	[MSG_SNAP_DELETE] = { h_snap_delete, 0 },
	[MSG_TEMPLATE_TAR] = { h_template_tar, 0 },
	[MSG_TEMPLATE_DIR] = { h_template_dir, 0 },
	[MSG_TEMPLATE_DELETE] = { h_template_delete, 0 },
	[MSG_EXPORT] = { h_export, 0 },
	[MSG_IMPORT] = { h_import, 0 },
	/* MSG_LIST is answered with its own frame type, below */
};

static void send_reply(int sock, uint32_t id, int rc, struct reply *out, const struct err *e)
{
	struct err se;
	bool pass = rc == 0 && reply_fd >= 0;
	out->h = (struct msg_hdr){ .magic = PROTO_MAGIC, .type = pass ? MSG_PTY_REPLY : MSG_REPLY, .id = id };
	if (rc < 0) {
		out->code = e->code ? (int32_t)e->code : ERR_INTERNAL;
		snprintf(out->field, sizeof out->field, "%s", e->field);
		snprintf(out->msg, sizeof out->msg, "%s", e->msg);
	}
	if (proto_send(sock, out, sizeof *out, pass ? &reply_fd : NULL, pass ? 1 : 0, &se) < 0)
		log_error("%s", se.msg);
}

static void handle(int sock, const void *frame, const int *fds, int nfds)
{
	const struct msg_hdr *h = frame;
	struct err e = { 0 };
	if (h->type == MSG_LIST) {
		const struct req_list *r = frame;
		struct list_reply lr;
		memset(&lr, 0, sizeof lr);
		lr.h = (struct msg_hdr){ .magic = PROTO_MAGIC, .type = MSG_LIST_REPLY, .id = h->id };
		if (B->list(&ctx, r->after, &lr, &e) < 0)
			log_error("list: %s", e.msg);
		if (proto_send(sock, &lr, sizeof lr, NULL, 0, &e) < 0)
			log_error("%s", e.msg);
		return;
	}
	if (h->type >= MSG_TYPE_MAX || !ops[h->type].handler) {
		/* a reply type sent to us, or a type with no handler: not a request we serve */
		log_error("refusing %s: not a request", msg_type_name(h->type));
		exit(2);
	}
	struct reply out;
	memset(&out, 0, sizeof out);
	if (ops[h->type].is_inline) {
		int rc = ops[h->type].handler(frame, fds, &out, &e);
		send_reply(sock, h->id, rc, &out, &e);
		return;
	}
	const char *jail = h->type == MSG_EXEC ? ((const struct req_exec *)frame)->name : "";
	if (nworkers >= MAX_WORKERS) {
		err_set(&e, ERR_BUSY, "the helper is running %d operations; retry shortly", nworkers);
		send_reply(sock, h->id, -1, &out, &e);
		return;
	}
	if (h->type == MSG_EXEC && !exec_room(jail, &e)) {
		send_reply(sock, h->id, -1, &out, &e);
		return;
	}
	pid_t pid = fork();
	if (pid < 0) {
		err_errno(&e, "fork");
		send_reply(sock, h->id, -1, &out, &e);
		return;
	}
	if (pid == 0) {
		/* the loop blocks SIGCHLD for its signalfd; jails must not inherit that */
		sigset_t all;
		sigfillset(&all);
		sigprocmask(SIG_UNBLOCK, &all, NULL);
		int rc = ops[h->type].handler(frame, fds, &out, &e);
		if (rc < 0)
			log_warn("%s failed: %s", msg_type_name(h->type), e.msg);
		/* the jail's lock goes before the answer: the next request on the jail may
		 * arrive the moment jaild reads it, before this process is gone */
		jail_unlock();
		send_reply(sock, h->id, rc, &out, &e);
		_exit(0);
	}
	worker_add(pid, h->id, h->type, jail);
	(void)nfds;
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
		{ NULL, 0, NULL, 0 },
	};
	struct err e = { 0 };
	int c;
	log_init("jaild-priv");
	snprintf(ctx.busybox, sizeof ctx.busybox, "/bin/busybox");
	ctx.pty_max = 32;
	const char *p4 = "10.77.0.0/16", *p6 = "fd77::/64";
	unsigned long long base = 1000000ULL;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd': snprintf(ctx.data_dir, sizeof ctx.data_dir, "%s", optarg); break;
		case 'u': base = strtoull(optarg, NULL, 10); break;
		case '4': p4 = optarg; break;
		case '6': p6 = optarg; break;
		case 'b': snprintf(ctx.busybox, sizeof ctx.busybox, "%s", optarg); break;
		case 'f': ctx.favordynmods = 1; break;
		case 'S': ctx.allow_setuid_mounts = 1; break;
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
	priv_sock_fd = 3;
	fcntl(3, F_SETFD, FD_CLOEXEC);
	/* orphaned jail inits come to us (then to the supervisor), and we reap them */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	prctl(PR_SET_PDEATHSIG, SIGTERM);
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

	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	int sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	static _Alignas(8) char frame[PROTO_MAX_FRAME];
	for (;;) {
		struct pollfd pf[2] = { { .fd = 3, .events = POLLIN }, { .fd = sfd, .events = POLLIN } };
		if (poll(pf, 2, -1) < 0 && errno != EINTR)
			return 1;
		if (pf[1].revents) {
			struct signalfd_siginfo si;
			while (read(sfd, &si, sizeof si) > 0)
				;
			pid_t w;
			int st;
			while ((w = waitpid(-1, &st, WNOHANG)) > 0)
				worker_gone(3, w, st);
		}
		if (!pf[0].revents)
			continue;
		int fds[PROTO_MAX_FDS], nfds;
		long n = proto_recv(3, frame, fds, &nfds, &e);
		if (n == 0) {
			log_info("jaild closed the connection; exiting");
			if (ctx.cg.ops)
				ctx.cg.ops->teardown(&ctx.cg); /* nothing of ours left when no jail runs */
			return 0;
		}
		if (n < 0) {
			log_error("%s; exiting", e.msg);
			return 2;
		}
		handle(3, frame, fds, nfds);
		for (int i = 0; i < nfds; i++)
			close(fds[i]);
	}
}
