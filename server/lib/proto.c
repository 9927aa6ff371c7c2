#include "proto.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "validate.h"

static const struct {
	const char *name;
	size_t size;
	int nfds;
} frames[MSG_TYPE_MAX] = {
	[MSG_TEMPLATE_MINIMAL] = { "template_minimal", sizeof(struct req_empty), 0 },
	[MSG_CREATE] = { "create", sizeof(struct req_spec), 0 },
	[MSG_START] = { "start", sizeof(struct req_spec), 0 },
	[MSG_STOP] = { "stop", sizeof(struct req_stop), 0 },
	[MSG_EXEC] = { "exec", sizeof(struct req_exec), 3 },
	[MSG_DESTROY] = { "destroy", sizeof(struct req_name), 0 },
	[MSG_STATUS] = { "status", sizeof(struct req_name), 0 },
	[MSG_SET_LIMITS] = { "set_limits", sizeof(struct req_limits), 0 },
	[MSG_LIST] = { "list", sizeof(struct req_list), 0 },
	[MSG_SWEEP] = { "sweep", sizeof(struct req_empty), 0 },
	[MSG_CONSOLE] = { "console", sizeof(struct req_console), 0 },
	[MSG_SNAP_CREATE] = { "snap_create", sizeof(struct req_snap), 0 },
	[MSG_SNAP_RESTORE] = { "snap_restore", sizeof(struct req_snap), 0 },
	[MSG_SNAP_DELETE] = { "snap_delete", sizeof(struct req_snap), 0 },
	[MSG_TEMPLATE_TAR] = { "template_tar", sizeof(struct req_template), 1 },
	[MSG_TEMPLATE_DIR] = { "template_dir", sizeof(struct req_template), 0 },
	[MSG_TEMPLATE_DELETE] = { "template_delete", sizeof(struct req_template), 0 },
	[MSG_EXPORT] = { "export", sizeof(struct req_export), 1 },
	[MSG_IMPORT] = { "import", sizeof(struct req_import), 1 },
	[MSG_HELLO] = { "hello", sizeof(struct req_empty), 0 },
	[MSG_LOG_OPEN] = { "log_open", sizeof(struct req_name), 0 },
	[MSG_NET_SET] = { "net_set", sizeof(struct req_net), 0 },
	[MSG_CREATE_START] = { "create_start", sizeof(struct req_spec), 0 },
	[MSG_REPLY] = { "reply", sizeof(struct reply), 0 },
	[MSG_LIST_REPLY] = { "list_reply", sizeof(struct list_reply), 0 },
	[MSG_PTY_REPLY] = { "pty_reply", sizeof(struct reply), 1 },
};

const char *msg_type_name(uint32_t type)
{
	return type > 0 && type < MSG_TYPE_MAX ? frames[type].name : "unknown";
}

size_t proto_frame_size(uint32_t type)
{
	return type > 0 && type < MSG_TYPE_MAX ? frames[type].size : 0;
}

int proto_frame_fds(uint32_t type)
{
	return type > 0 && type < MSG_TYPE_MAX ? frames[type].nfds : -1;
}

int proto_send_raw(int fd, const void *frame, size_t size, const int *fds, int nfds)
{
	if (nfds < 0 || nfds > PROTO_MAX_FDS) {
		errno = EINVAL;
		return -1;
	}
	struct iovec iov = { .iov_base = (void *)frame, .iov_len = size };
	union {
		char buf[CMSG_SPACE(sizeof(int) * PROTO_MAX_FDS)];
		struct cmsghdr align;
	} ctl;
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	if (nfds > 0) {
		memset(&ctl, 0, sizeof ctl);
		m.msg_control = ctl.buf;
		m.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
		struct cmsghdr *c = CMSG_FIRSTHDR(&m);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)nfds);
	}
	ssize_t n;
	do
		n = sendmsg(fd, &m, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n >= 0 && (size_t)n != size) {
		errno = EMSGSIZE;
		return -1;
	}
	return n < 0 ? -1 : 0;
}

int fd_pass(int sock, int fd)
{
	return proto_send_raw(sock, "F", 1, &fd, 1);
}

/* One recvmsg of at most size bytes and PROTO_MAX_FDS descriptors (close-on-exec).
 * *cut: the message or its descriptors did not all fit (those that did not are closed). */
static ssize_t recv_fds(int sock, void *buf, size_t size, int fds[PROTO_MAX_FDS], int *nfds, bool *cut)
{
	struct iovec iov = { .iov_base = buf, .iov_len = size };
	union {
		char buf[CMSG_SPACE(sizeof(int) * PROTO_MAX_FDS)];
		struct cmsghdr align;
	} ctl;
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf, .msg_controllen = sizeof ctl.buf };
	*nfds = 0;
	*cut = false;
	ssize_t n;
	do
		n = recvmsg(sock, &m, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -1;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < k; i++) {
			int f;
			memcpy(&f, CMSG_DATA(c) + i * sizeof(int), sizeof f);
			if (*nfds < PROTO_MAX_FDS)
				fds[(*nfds)++] = f;
			else {
				close(f);
				*cut = true;
			}
		}
	}
	if (m.msg_flags & (MSG_TRUNC | MSG_CTRUNC))
		*cut = true;
	return n;
}

ssize_t proto_recv_raw(int sock, void *buf, size_t size, int fds[PROTO_MAX_FDS], int *nfds)
{
	bool cut;
	ssize_t n = recv_fds(sock, buf, size, fds, nfds, &cut);
	if (n >= 0 && cut) {
		for (int i = 0; i < *nfds; i++)
			close(fds[i]);
		*nfds = 0;
		errno = EMSGSIZE;
		return -1;
	}
	return n;
}

static void close_fds(int *fds, int n)
{
	for (int i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

int fd_take(int sock)
{
	char byte;
	int fds[PROTO_MAX_FDS], n;
	bool cut;
	ssize_t got = recv_fds(sock, &byte, 1, fds, &n, &cut);
	if (got == 1 && n == 1 && !cut)
		return fds[0];
	close_fds(fds, n);
	return -1;
}

int proto_send(int fd, const void *frame, size_t size, const int *fds, int nfds, struct err *e)
{
	const struct msg_hdr *h = frame;
	if (size < sizeof *h || proto_frame_size(h->type) != size || proto_frame_fds(h->type) != nfds)
		return err_set(e, ERR_INTERNAL, "refusing to send a malformed %s frame", msg_type_name(h->type));
	if (proto_send_raw(fd, frame, size, fds, nfds) < 0)
		return err_errno(e, "sending %s frame", msg_type_name(h->type));
	return 0;
}

/* Every string in a frame must end inside its field: the receiver never reads past it. */
static int check_strings(const void *buf, uint32_t type, struct err *e)
{
	switch (type) {
	case MSG_CREATE:
	case MSG_START:
	case MSG_CREATE_START: {
		const struct jail_spec *sp = &((const struct req_spec *)buf)->spec;
		if (!str_terminated(sp->name, sizeof sp->name) || !str_terminated(sp->hostname, sizeof sp->hostname) ||
		    !str_terminated(sp->tmpl, sizeof sp->tmpl) || sp->nmounts > MOUNTS_MAX)
			break;
		for (uint32_t i = 0; i < sp->nmounts; i++)
			if (!str_terminated(sp->mounts[i].source, JPATH_SIZE) || !str_terminated(sp->mounts[i].target, JPATH_SIZE))
				goto bad;
		return argv_check(&sp->command, 0, "command", e) || argv_check(&sp->stop_command, ARGV_MAY_BE_EMPTY, "stop_command", e) ? -1 : 0;
	}
	case MSG_STOP: {
		const struct req_stop *r = buf;
		if (!str_terminated(r->name, sizeof r->name))
			break;
		return argv_check(&r->stop_command, ARGV_MAY_BE_EMPTY, "stop_command", e);
	}
	case MSG_EXEC: {
		const struct req_exec *r = buf;
		if (!str_terminated(r->name, sizeof r->name))
			break;
		return argv_check(&r->argv, ARGV_PATH_LOOKUP, "command", e);
	}
	case MSG_CONSOLE: {
		const struct req_console *r = buf;
		if (!str_terminated(r->name, sizeof r->name))
			break;
		if (r->rows == 0 || r->cols == 0 || r->rows > 1000 || r->cols > 1000)
			return err_set(e, ERR_INTERNAL, "console size %ux%u out of range", r->cols, r->rows);
		return 0;
	}
	case MSG_SNAP_CREATE:
	case MSG_SNAP_RESTORE:
	case MSG_SNAP_DELETE: {
		const struct req_snap *r = buf;
		if (!str_terminated(r->name, sizeof r->name) || !str_terminated(r->snap, sizeof r->snap))
			break;
		return 0;
	}
	case MSG_TEMPLATE_TAR:
	case MSG_TEMPLATE_DIR:
	case MSG_TEMPLATE_DELETE: {
		const struct req_template *r = buf;
		if (!str_terminated(r->name, sizeof r->name) || !str_terminated(r->source, sizeof r->source) || r->replace > 1)
			break;
		return 0;
	}
	case MSG_EXPORT: {
		const struct req_export *r = buf;
		if (!str_terminated(r->name, sizeof r->name) || !str_terminated(r->spec, sizeof r->spec))
			break;
		return 0;
	}
	case MSG_IMPORT: {
		const struct req_import *r = buf;
		if (!str_terminated(r->name, sizeof r->name) || r->thin > 1)
			break;
		return 0;
	}
	case MSG_DESTROY:
	case MSG_LOG_OPEN:
	case MSG_STATUS: {
		const struct req_name *r = buf;
		if (!str_terminated(r->name, sizeof r->name))
			break;
		return 0;
	}
	case MSG_SET_LIMITS: {
		const struct req_limits *r = buf;
		if (!str_terminated(r->name, sizeof r->name))
			break;
		return 0;
	}
	case MSG_NET_SET: {
		const struct req_net *r = buf;
		if (!str_terminated(r->name, sizeof r->name))
			break;
		return 0;
	}
	case MSG_LIST: {
		const struct req_list *r = buf;
		if (!str_terminated(r->after, sizeof r->after))
			break;
		return 0;
	}
	case MSG_REPLY:
	case MSG_PTY_REPLY: {
		const struct reply *r = buf;
		if (!str_terminated(r->field, sizeof r->field) || !str_terminated(r->msg, sizeof r->msg) ||
		    !str_terminated(r->backend, sizeof r->backend) || !str_terminated(r->uplink, sizeof r->uplink))
			break;
		return 0;
	}
	case MSG_LIST_REPLY: {
		const struct list_reply *r = buf;
		if (r->count > LIST_PAGE || r->more > 1)
			return err_set(e, ERR_INTERNAL, "list reply count out of range");
		for (uint32_t i = 0; i < r->count; i++)
			if (!str_terminated(r->names[i], NAME_SIZE))
				goto bad;
		return 0;
	}
	default:
		return 0;
	}
bad:
	return err_set(e, ERR_INTERNAL, "%s frame has an unterminated string", msg_type_name(type));
}

long proto_recv(int fd, void *buf, int *fds, int *nfds, struct err *e)
{
	int got[PROTO_MAX_FDS], ngot;
	bool cut;
	*nfds = 0;
	ssize_t n = recv_fds(fd, buf, PROTO_MAX_FRAME, got, &ngot, &cut);
	if (n < 0)
		return err_errno(e, "receiving frame");
	if (n == 0 && ngot == 0)
		return 0;
	const struct msg_hdr *h = buf;
	const char *why = NULL;
	if (cut)
		why = "truncated, or more descriptors than any frame has";
	else if ((size_t)n < sizeof *h)
		why = "shorter than a header";
	else if (h->magic != PROTO_MAGIC)
		why = "bad magic";
	else if (proto_frame_size(h->type) == 0)
		why = "unknown type";
	else if ((size_t)n != proto_frame_size(h->type))
		why = "wrong size for its type";
	else if (ngot != proto_frame_fds(h->type))
		why = "wrong number of descriptors";
	if (why) {
		close_fds(got, ngot);
		return err_set(e, ERR_INTERNAL, "bad frame (%zd bytes, type %u): %s", n,
			       (size_t)n >= sizeof *h ? h->type : 0, why);
	}
	if (check_strings(buf, h->type, e) < 0) {
		close_fds(got, ngot);
		return -1;
	}
	memcpy(fds, got, sizeof(int) * (size_t)ngot);
	*nfds = ngot;
	return (long)n;
}
