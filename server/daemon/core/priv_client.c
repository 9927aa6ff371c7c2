#include "core/priv_client.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

#define MAX_PENDING 1024

struct pending {
	uint32_t id;
	int done;       /* 1 replied, -1 connection lost */
	void *buf;
	size_t size;
	uint32_t type;  /* reply type expected (PTY_REPLY also takes an error's REPLY) */
	int fd;         /* PTY_REPLY's passed descriptor */
	pthread_cond_t cv; /* its own: a reply wakes only the thread waiting for it */
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static int sock = -1;
static int ctl_fd = -1;
static uint32_t next_id = 1;
static struct pending *pending[MAX_PENDING];
static void (*connect_cb)(void);

static bool greeted; /* the connected helper answered HELLO */

bool priv_available(void)
{
	pthread_mutex_lock(&mu);
	bool ok = sock >= 0 && greeted; /* calls work from the connection on; users wait for HELLO */
	pthread_mutex_unlock(&mu);
	return ok;
}

struct msg_hdr priv_hdr(uint32_t type)
{
	return (struct msg_hdr){ .magic = PROTO_MAGIC, .type = type };
}

static void fail_all_locked(void)
{
	for (int i = 0; i < MAX_PENDING; i++)
		if (pending[i] && !pending[i]->done) {
			pending[i]->done = -1;
			pthread_cond_signal(&pending[i]->cv);
		}
}

/* The backend the connected helper serves, as it said (HELLO); "" until one has. */
static char backend_name[16];
static char uplink_name[16];
static char net_note[512];

static void *connect_thread(void *arg)
{
	(void)arg;
	struct req_empty req = { .h = priv_hdr(MSG_HELLO) };
	struct reply out;
	struct err e = { 0 };
	if (priv_call(&req, NULL, 0, &out, &e) == 0) {
		pthread_mutex_lock(&mu);
		snprintf(backend_name, sizeof backend_name, "%s", out.backend);
		snprintf(uplink_name, sizeof uplink_name, "%s", out.uplink);
		snprintf(net_note, sizeof net_note, "%s", out.msg);
		pthread_mutex_unlock(&mu);
	} else {
		log_warn("asking the helper for its backend: %s", e.msg);
	}
	pthread_mutex_lock(&mu);
	greeted = true;
	pthread_mutex_unlock(&mu);
	if (connect_cb)
		connect_cb();
	return NULL;
}

void priv_backend(char out[16])
{
	pthread_mutex_lock(&mu);
	snprintf(out, 16, "%s", backend_name[0] ? backend_name : "unknown");
	pthread_mutex_unlock(&mu);
}

void priv_uplink(char out[16], char *note, size_t note_size)
{
	pthread_mutex_lock(&mu);
	snprintf(out, 16, "%s", uplink_name);
	snprintf(note, note_size, "%s", net_note);
	pthread_mutex_unlock(&mu);
}

static void *reader(void *arg)
{
	(void)arg;
	static _Alignas(8) char frame[PROTO_MAX_FRAME];
	for (;;) {
		int fd = fd_take(ctl_fd);
		if (fd < 0) {
			log_error("the supervisor went away; exiting");
			exit(1);
		}
		pthread_mutex_lock(&mu);
		sock = fd;
		pthread_mutex_unlock(&mu);
		log_info("privileged helper connected");
		pthread_t t;
		if (pthread_create(&t, NULL, connect_thread, NULL) == 0)
			pthread_detach(t);
		for (;;) {
			struct err e = { 0 };
			int fds[PROTO_MAX_FDS], nfds;
			long n = proto_recv(fd, frame, fds, &nfds, &e);
			if (n <= 0) {
				log_warn("privileged helper connection lost%s%s", n < 0 ? ": " : "", n < 0 ? e.msg : "");
				break;
			}
			const struct msg_hdr *h = (const struct msg_hdr *)frame;
			pthread_mutex_lock(&mu);
			struct pending *p = pending[h->id % MAX_PENDING];
			bool fits = p && (p->type == h->type || (p->type == MSG_PTY_REPLY && h->type == MSG_REPLY));
			if (fits && p->id == h->id && !p->done && p->size == (size_t)n) {
				memcpy(p->buf, frame, (size_t)n);
				if (nfds == 1)
					p->fd = fds[0], nfds = 0;
				p->done = 1;
				pthread_cond_signal(&p->cv);
			} else {
				log_error("unexpected %s frame id %u from the helper", msg_type_name(h->type), h->id);
			}
			pthread_mutex_unlock(&mu);
			for (int i = 0; i < nfds; i++)
				close(fds[i]);
		}
		pthread_mutex_lock(&mu);
		close(sock);
		sock = -1;
		greeted = false;
		fail_all_locked();
		pthread_mutex_unlock(&mu);
	}
	return NULL;
}

int priv_client_start(int ctl, void (*on_connect)(void), struct err *e)
{
	ctl_fd = ctl;
	connect_cb = on_connect;
	if (ctl < 0)
		return 0;
	pthread_t t;
	if (pthread_create(&t, NULL, reader, NULL) != 0)
		return err_set(e, ERR_INTERNAL, "cannot start the helper reader thread");
	pthread_detach(t);
	return 0;
}

const char *priv_unavailable_reason(void)
{
	return ctl_fd < 0 ? "jail operations need the privileged helper, and jaild was not started as root; start jaild as root"
			  : "the privileged helper is restarting; retry in a moment";
}

/* Seconds jaild waits for an answer: an exec's own timeout and a minute more; long
 * file work (templates, imports, snapshots of big trees) half an hour; a terminal half
 * a minute. Past it the caller gets an error and its jail is free again; a late answer
 * is dropped. */
static unsigned deadline_of(const void *req)
{
	const struct msg_hdr *h = req;
	switch (h->type) {
	case MSG_EXEC: {
		unsigned t = ((const struct req_exec *)req)->timeout;
		return (t ? t : 86400) + 60;
	}
	case MSG_CONSOLE:
	case MSG_LOG_OPEN:
	case MSG_STATUS:
	case MSG_LIST:
	case MSG_SET_LIMITS:
	case MSG_NET_SET:
		return 30;
	default:
		return 1800;
	}
}

static int call(void *req, const int *fds, int nfds, void *out, size_t out_size, uint32_t out_type, int *out_fd, struct err *e)
{
	struct msg_hdr *h = req;
	struct pending p = { .buf = out, .size = out_size, .type = out_type, .fd = -1 };
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&p.cv, &ca);
	pthread_condattr_destroy(&ca);
	unsigned limit = deadline_of(req);
	struct timespec until;
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += limit;
	pthread_mutex_lock(&mu);
	if (sock < 0) {
		pthread_mutex_unlock(&mu);
		pthread_cond_destroy(&p.cv);
		return err_set(e, ERR_UNAVAILABLE, "%s", priv_unavailable_reason());
	}
	/* find a free slot; ids are unique among pending requests */
	int tries = 0;
	do {
		p.id = next_id++;
		if (p.id == 0)
			p.id = next_id++;
	} while (pending[p.id % MAX_PENDING] && ++tries < MAX_PENDING);
	if (tries >= MAX_PENDING) {
		pthread_mutex_unlock(&mu);
		pthread_cond_destroy(&p.cv);
		return err_set(e, ERR_BUSY, "too many privileged operations under way; retry shortly");
	}
	h->id = p.id;
	pending[p.id % MAX_PENDING] = &p;
	/* send outside the lock (a full socket must not stop the reader delivering
	 * replies), on our own descriptor (the reader may close the shared one) */
	int s = dup(sock);
	pthread_mutex_unlock(&mu);
	int rc = s < 0 ? -1 : proto_send(s, req, proto_frame_size(h->type), fds, nfds, e);
	if (s >= 0)
		close(s);
	pthread_mutex_lock(&mu);
	bool late = false;
	if (rc == 0)
		while (!p.done && !late)
			late = pthread_cond_timedwait(&p.cv, &mu, &until) == ETIMEDOUT && !p.done;
	pending[p.id % MAX_PENDING] = NULL;
	pthread_mutex_unlock(&mu);
	pthread_cond_destroy(&p.cv);
	if (out_fd)
		*out_fd = p.fd;
	else if (p.fd >= 0)
		close(p.fd);
	if (rc < 0)
		return err_set(e, ERR_UNAVAILABLE, "%s", priv_unavailable_reason());
	if (late) {
		log_error("the helper did not answer %s (id %u) within %u s", msg_type_name(h->type), h->id, limit);
		return err_set(e, ERR_UNAVAILABLE, "the privileged helper did not answer within %u s; the operation may still be under way; retry later and check the jail's state",
			       limit);
	}
	if (p.done < 0)
		return err_set(e, ERR_UNAVAILABLE, "the privileged helper died during the operation; retry, and check the jail's state");
	return 0;
}

static int reply_status(const struct reply *out, struct err *e)
{
	if (out->code != ERR_OK) {
		e->code = (enum err_code)out->code;
		snprintf(e->field, sizeof e->field, "%s", out->field);
		snprintf(e->msg, sizeof e->msg, "%s", out->msg);
		return -1;
	}
	return 0;
}

int priv_call(void *req, const int *fds, int nfds, struct reply *out, struct err *e)
{
	return call(req, fds, nfds, out, sizeof *out, MSG_REPLY, NULL, e) || reply_status(out, e) ? -1 : 0;
}

int priv_call_fd(void *req, int *fd_out, struct err *e)
{
	struct reply out;
	int fd = -1;
	*fd_out = -1;
	if (call(req, NULL, 0, &out, sizeof out, MSG_PTY_REPLY, &fd, e) || reply_status(&out, e)) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (fd < 0)
		return err_set(e, ERR_INTERNAL, "the helper's %s answer came without its descriptor", msg_type_name(((struct msg_hdr *)req)->type));
	*fd_out = fd;
	return 0;
}

int priv_call_console(const char *name, unsigned rows, unsigned cols, const struct argv_buf *command, int *master, struct err *e)
{
	struct req_console r = { .h = priv_hdr(MSG_CONSOLE), .rows = (uint16_t)rows, .cols = (uint16_t)cols };
	snprintf(r.name, sizeof r.name, "%s", name);
	if (command)
		r.argv = *command;
	return priv_call_fd(&r, master, e);
}

int priv_call_list(const char *after, struct list_reply *out, struct err *e)
{
	struct req_list r = { .h = priv_hdr(MSG_LIST) };
	snprintf(r.after, sizeof r.after, "%s", after);
	return call(&r, NULL, 0, out, sizeof *out, MSG_LIST_REPLY, NULL, e);
}
