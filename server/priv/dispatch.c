/* dispatch.c — the permission table: for each request type, how its meaning is
 * checked (checks.c), which jail it names, whether the jail's lock is taken, where it
 * runs, and why it is safe to serve. The dispatcher enforces the flags, so no op can
 * forget one: a frame of a type not in the table ends the helper; a name that is not
 * a jail name, or a request that fails its check, gets an error reply and reaches no
 * backend. Like OpenSSH's mon_dispatch table and vmd's priv.c. */
#include "dispatch.h"

#include <stddef.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "checks.h"
#include "lock.h"
#include "os.h"
#include "log.h"
#include "proto.h"

static const struct backend_ops *B;
static struct priv_ctx *ctx;

/* ---- the ops: each only calls its backend; everything it may assume is in its row ---- */

/* A worker's descriptor to pass with its reply (CONSOLE's terminal master). Each
 * worker is its own process, so one variable serves. */
static int reply_fd = -1;

/* OP(name, call): the op's body is one backend call on the request (req), its passed
 * descriptors (fds) and the reply (out); what it leaves unused is unused. */
#define OP(name, call)                                                                     \
	static int name(const void *req, const int *fds, struct reply *out, struct err *e) \
	{                                                                                  \
		(void)req, (void)fds, (void)out;                                           \
		return call;                                                               \
	}

OP(op_template, B->template_minimal(ctx, e))
OP(op_create, B->create(ctx, req, e))
OP(op_start, B->start(ctx, req, out, e))
OP(op_stop, B->stop(ctx, req, e))

/* One round trip for jaild's create?start=1: a fork and a frame each way saved. The
 * files stay when the start fails (as after CREATE then a failed START): created says
 * so, and jaild keeps the jail in "error" with the reason. */
static int op_create_start(const void *req, const int *fds, struct reply *out, struct err *e)
{
	(void)fds;
	if (B->create(ctx, req, e))
		return -1;
	out->created = 1;
	return B->start(ctx, req, out, e);
}
OP(op_exec, B->exec(ctx, req, fds, out, e))
OP(op_console, B->console(ctx, req, out, &reply_fd, e))
OP(op_snap_create, B->snap_create(ctx, req, out, e))
OP(op_snap_restore, B->snap_restore(ctx, req, e))
OP(op_snap_delete, B->snap_delete(ctx, req, e))
OP(op_template_tar, B->template_tar(ctx, ((const struct req_template *)req)->name, ((const struct req_template *)req)->replace, fds[0], out, e))
OP(op_template_dir, B->template_dir(ctx, ((const struct req_template *)req)->name, ((const struct req_template *)req)->replace,
				    ((const struct req_template *)req)->source, e))
OP(op_template_delete, B->template_delete(ctx, ((const struct req_template *)req)->name, e))
OP(op_export, B->export_tar(ctx, req, fds[0], e))
OP(op_import, B->import_tar(ctx, req, fds[0], e))
OP(op_destroy, B->destroy(ctx, ((const struct req_name *)req)->name, e))
OP(op_status, B->status(ctx, ((const struct req_name *)req)->name, out, e))
OP(op_limits, B->set_limits(ctx, req, e))
OP(op_net_set, B->net_set(ctx, req, e))
OP(op_log_open, B->log_open(ctx, ((const struct req_name *)req)->name, &reply_fd, e))
OP(op_sweep, B->sweep(ctx, e))

static int op_hello(const void *req, const int *fds, struct reply *out, struct err *e)
{
	(void)req, (void)fds, (void)e;
	snprintf(out->backend, sizeof out->backend, "%s", B->name);
	snprintf(out->uplink, sizeof out->uplink, "%s", ctx->net.uplink);
	snprintf(out->msg, sizeof out->msg, "%s", ctx->net_note); /* HELLO: a warning about the network, or "" */
	return 0;
}

/* ---- the table ---- */

enum {
	OP_INLINE = 1,     /* quick and touches no jail's state: runs in the helper's loop */
	OP_LOCKS_JAIL = 2, /* the jail's lock is held while it runs (lock.h) */
	OP_LONG = 4,       /* may run for hours (a command): counts against the exec caps */
	OP_BULK = 8,       /* copies or removes a file tree: its worker runs at background priority
			    * (os_background), so one tenant's snapshots do not slow others' calls */
};
#define NO_JAIL ((size_t)-1)
#define JAIL_AT(type, field) offsetof(type, field)

static const struct op {
	int (*check)(struct priv_ctx *c, const void *req, struct err *e); /* NULL: the name is all */
	int (*run)(const void *req, const int *fds, struct reply *out, struct err *e);
	size_t jail_at; /* where the request names its jail, or NO_JAIL */
	unsigned flags;
	const char *why_safe;
} ops[MSG_TYPE_MAX] = {
	[MSG_HELLO] = { NULL, op_hello, NO_JAIL, OP_INLINE, "names the backend; reads nothing" },
	[MSG_TEMPLATE_MINIMAL] = { NULL, op_template, NO_JAIL, 0, "copies the configured busybox into a fixed template name" },
	[MSG_CREATE] = { check_create, op_create, JAIL_AT(struct req_spec, spec.name), OP_LOCKS_JAIL,
			 "a checked spec; files owned by the jail's own uid slot, which must own no other jail's" },
	[MSG_START] = { check_start, op_start, JAIL_AT(struct req_spec, spec.name), OP_LOCKS_JAIL,
			"addresses from the host's pools, mounts from allowed paths without symlinks, the slot must own the files; "
			"forwards as for NET_SET" },
	[MSG_CREATE_START] = { check_create, op_create_start, JAIL_AT(struct req_spec, spec.name), OP_LOCKS_JAIL,
			       "CREATE's check covers START's (check_create runs check_start); then the two ops in order, "
			       "under one hold of the jail's lock" },
	[MSG_STOP] = { check_stop, op_stop, JAIL_AT(struct req_stop, name), OP_LOCKS_JAIL,
		       "signals only the jail's own cgroup, pinned by a pidfd" },
	[MSG_EXEC] = { check_exec, op_exec, JAIL_AT(struct req_exec, name), OP_LONG,
		       "enters a running jail's namespaces as its root, in a session of its own; no lock, so stop can end it" },
	[MSG_CONSOLE] = { check_console, op_console, JAIL_AT(struct req_console, name), 0,
			  "a terminal from the jail's own devpts; jaild gets only the master side; the command (if any) runs "
			  "as a jail exec does" },
	[MSG_STATUS] = { NULL, op_status, JAIL_AT(struct req_name, name), OP_INLINE, "reads the jail's run record and cgroup" },
	[MSG_SET_LIMITS] = { check_limits, op_limits, JAIL_AT(struct req_limits, name), OP_LOCKS_JAIL,
			     "bounded limits on the jail's own cgroup and disk" },
	[MSG_NET_SET] = { check_net, op_net_set, JAIL_AT(struct req_net, name), OP_LOCKS_JAIL,
			  "rules that only narrow the jail's own traffic; forwards to its own address, never a port another jail "
			  "holds or the host itself serves" },
	[MSG_DESTROY] = { NULL, op_destroy, JAIL_AT(struct req_name, name), OP_LOCKS_JAIL | OP_BULK,
			  "removes only DIR/jails/NAME, without following its symlinks" },
	[MSG_SNAP_CREATE] = { check_snap, op_snap_create, JAIL_AT(struct req_snap, name), OP_LOCKS_JAIL | OP_BULK,
			      "copies the jail's own files inside its own directory, owners unchanged" },
	[MSG_SNAP_RESTORE] = { check_snap, op_snap_restore, JAIL_AT(struct req_snap, name), OP_LOCKS_JAIL | OP_BULK,
			       "the same copy back, into a stopped jail" },
	[MSG_SNAP_DELETE] = { check_snap, op_snap_delete, JAIL_AT(struct req_snap, name), OP_LOCKS_JAIL | OP_BULK,
			      "removes one named snapshot of the jail" },
	[MSG_EXPORT] = { NULL, op_export, JAIL_AT(struct req_export, name), OP_LOCKS_JAIL | OP_BULK,
			 "the jail's own files, owners shifted down to the jail's view: nothing of the host" },
	[MSG_IMPORT] = { check_import, op_import, JAIL_AT(struct req_import, name), OP_LOCKS_JAIL | OP_BULK,
			 "hostile tar unpacked by a chrooted child, owners bounded to the slot's ids, no devices" },
	[MSG_TEMPLATE_TAR] = { check_template, op_template_tar, NO_JAIL, OP_BULK,
			       "hostile tar unpacked by a chrooted child, owners bounded to the ids a jail maps, no devices" },
	[MSG_TEMPLATE_DIR] = { check_template_dir, op_template_dir, NO_JAIL, OP_BULK,
			       "copied only from under the allow-mount paths, without symlinks" },
	[MSG_TEMPLATE_DELETE] = { check_template, op_template_delete, NO_JAIL, OP_BULK,
				  "jaild knows no jail uses it; running thin jails keep the version they started with" },
	[MSG_SWEEP] = { NULL, op_sweep, NO_JAIL, 0, "removes what stopped jails of this instance left behind" },
	[MSG_LOG_OPEN] = { NULL, op_log_open, JAIL_AT(struct req_name, name), 0,
			   "a read-only descriptor of the jail's own log, which lies outside its root" },
	/* MSG_LIST is answered with its own frame type (dispatch) */
};

/* ---- workers ---- */

#define MAX_WORKERS 64
/* Commands (OP_LONG) may run for an hour each: they get at most MAX_EXEC_WORKERS of
 * the workers, so that stops, snapshots and consoles always find one, and one jail at
 * most MAX_EXEC_PER_JAIL of those, whatever jaild sends. */
#define MAX_EXEC_WORKERS 48
#define MAX_EXEC_PER_JAIL 16

static struct worker {
	pid_t pid;
	uint32_t id, type;
	char jail[NAME_SIZE]; /* an OP_LONG worker's jail, "" for other work */
} workers[MAX_WORKERS];
static int nworkers;
/* the spare worker (dispatch_refill), and one that was retired before it had work */
static pid_t spare_pid, spare_retired;
static int spare_sock = -1;

void dispatch_init(const struct backend_ops *b, struct priv_ctx *c)
{
	B = b;
	ctx = c;
}

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

/* Whether one more long op on jail may start (else e says why). */
static bool long_room(const char *jail, struct err *e)
{
	int all = 0, mine = 0;
	for (int i = 0; i < MAX_WORKERS; i++)
		if (workers[i].pid && (ops[workers[i].type].flags & OP_LONG)) {
			all++;
			mine += strcmp(workers[i].jail, jail) == 0;
		}
	if (mine >= MAX_EXEC_PER_JAIL)
		return err_set(e, ERR_BUSY, "jail %s already runs %d commands; wait for one to finish", jail, mine), false;
	if (all >= MAX_EXEC_WORKERS)
		return err_set(e, ERR_BUSY, "the helper runs %d commands; retry shortly", all), false;
	return true;
}

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

void dispatch_child_gone(int sock, pid_t pid, int status)
{
	if (pid == spare_pid || pid == spare_retired) {
		/* a spare that ended before it had work (killed, or retired): the next
		 * request forks its own worker, and the loop forks a new spare */
		if (pid == spare_pid) {
			close(spare_sock);
			spare_sock = -1;
			spare_pid = 0;
		} else {
			spare_retired = 0;
		}
		return;
	}
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
	/* other children are jails' processes that came to us as their subreaper: a jail's
	 * first process among them is the backend's to record */
	if (B->reaped)
		B->reaped(ctx, pid, status);
}

static void answer_list(int sock, const struct req_list *r)
{
	struct err e = { 0 };
	struct list_reply lr;
	memset(&lr, 0, sizeof lr);
	lr.h = (struct msg_hdr){ .magic = PROTO_MAGIC, .type = MSG_LIST_REPLY, .id = r->h.id };
	if (B->list(ctx, r->after, &lr, &e) < 0)
		log_error("list: %s", e.msg);
	if (proto_send(sock, &lr, sizeof lr, NULL, 0, &e) < 0)
		log_error("%s", e.msg);
}

/* Runs op in this process (a worker, or the loop for OP_INLINE), its jail locked if
 * its row says so; the lock goes before the answer. */
static int run_op(const struct op *op, const char *jail, const void *frame, const int *fds, struct reply *out, struct err *e)
{
	if ((op->flags & OP_LOCKS_JAIL) && jail_lock(ctx, jail, e) < 0)
		return -1;
	int rc = op->run(frame, fds, out, e);
	jail_unlock();
	return rc;
}

/* ---- running a request in a worker ---- */

/* A worker's start: the loop's SIGCHLD and SIGTERM handling is not the worker's (it
 * waits for its own children, and a SIGTERM ends it). */
static void worker_setup(void)
{
	signal(SIGCHLD, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	sigset_t all;
	sigfillset(&all);
	sigprocmask(SIG_UNBLOCK, &all, NULL);
}

/* Runs the request its row says may run, answers it and ends the worker. */
static _Noreturn void worker_run(int sock, const struct op *op, const void *frame, const int *fds)
{
	const struct msg_hdr *h = frame;
	const char *jail = op->jail_at == NO_JAIL ? "" : (const char *)frame + op->jail_at;
	struct reply out;
	struct err e = { 0 };
	memset(&out, 0, sizeof out);
	if (op->flags & OP_BULK)
		os_background();
	int rc = run_op(op, jail, frame, fds, &out, &e);
	if (rc < 0)
		log_warn("%s failed: %s", msg_type_name(h->type), e.msg);
	send_reply(sock, h->id, rc, &out, &e);
	_exit(0);
}

/* A spare worker: forked before its request, so that the fork (copying the helper's
 * page tables) and the worker's first touches of its memory happen while the helper
 * is idle, not while jaild waits. One at a time, forked when no request's descriptors
 * are open (dispatch_refill), so that it holds none of them. It takes the next request
 * over a socket pair of its own, runs it and ends, as every worker does. */
static _Noreturn void spare_wait(int sock, int from)
{
	static _Alignas(8) char frame[PROTO_MAX_FRAME];
	int fds[PROTO_MAX_FDS], nfds;
	struct err e = { 0 };
	/* the frame is one the loop already checked, sent by the loop: proto_recv checks
	 * its shape once more all the same */
	long n = proto_recv(from, frame, fds, &nfds, &e);
	if (n <= 0)
		_exit(0); /* the helper is ending, or handed this request to a new worker */
	close(from);
	const struct msg_hdr *h = (const struct msg_hdr *)frame;
	worker_run(sock, &ops[h->type], frame, fds);
}

void dispatch_refill(int sock)
{
	if (spare_pid || !B)
		return;
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return; /* requests fork their worker as they come */
	pid_t pid = fork();
	if (pid == 0) {
		close(sv[0]);
		worker_setup();
		spare_wait(sock, sv[1]);
	}
	close(sv[1]);
	if (pid < 0) {
		close(sv[0]);
		return;
	}
	spare_pid = pid;
	spare_sock = sv[0];
}

/* Hands the request to the spare: its pid, or 0 when there is none (or it is gone). */
static pid_t spare_take(const void *frame, const int *fds, int nfds)
{
	if (!spare_pid)
		return 0;
	const struct msg_hdr *h = frame;
	struct err e = { 0 };
	pid_t pid = spare_pid;
	int rc = proto_send(spare_sock, frame, proto_frame_size(h->type), fds, nfds, &e);
	close(spare_sock);
	spare_sock = -1;
	spare_pid = 0;
	if (rc < 0) {
		spare_retired = pid; /* it reads the end of its socket and exits */
		return 0;
	}
	return pid;
}

void dispatch(int sock, const void *frame, const int *fds, int nfds)
{
	const struct msg_hdr *h = frame;
	struct err e = { 0 };
	if (h->type == MSG_LIST)
		return answer_list(sock, frame);
	if (h->type >= MSG_TYPE_MAX || !ops[h->type].run) {
		/* a reply type sent to us, or a type with no row: not a request we serve */
		log_error("refusing %s: not a request", msg_type_name(h->type));
		exit(2);
	}
	const struct op *op = &ops[h->type];
	struct reply out;
	memset(&out, 0, sizeof out);
	const char *jail = op->jail_at == NO_JAIL ? "" : (const char *)frame + op->jail_at;
	if ((op->jail_at != NO_JAIL && check_jail_name(jail, &e)) || (op->check && op->check(ctx, frame, &e)))
		return send_reply(sock, h->id, -1, &out, &e);
	if (op->flags & OP_INLINE)
		return send_reply(sock, h->id, run_op(op, jail, frame, fds, &out, &e), &out, &e);
	if (nworkers >= MAX_WORKERS) {
		err_set(&e, ERR_BUSY, "the helper is running %d operations; retry shortly", nworkers);
		return send_reply(sock, h->id, -1, &out, &e);
	}
	if ((op->flags & OP_LONG) && !long_room(jail, &e))
		return send_reply(sock, h->id, -1, &out, &e);
	pid_t pid = spare_take(frame, fds, nfds);
	if (!pid && (pid = fork()) < 0) {
		err_errno(&e, "fork");
		return send_reply(sock, h->id, -1, &out, &e);
	}
	if (pid == 0) {
		worker_setup();
		worker_run(sock, op, frame, fds);
	}
	worker_add(pid, h->id, h->type, (op->flags & OP_LONG) ? jail : "");
}
