/* console.c — every console session on one thread (os.h's poller: epoll, kqueue).
 *
 * A session is small: a terminal master (nonblocking), a WebSocket (wslay over the
 * upgraded socket) or none, the keystrokes the terminal has not taken yet, and the
 * output kept while detached. A mutex guards the lists; HTTP threads take it only to
 * add a session or hand over a socket. Objects that leave are freed at the end of the
 * loop's turn, so an event already fetched never points at freed memory.
 *
 * jaild never signals the shell itself (it could not: the shell runs as jail root):
 * resize is TIOCSWINSZ and signals are TIOCSIG on the master, and closing the master
 * hangs the terminal up, which sends the shell SIGHUP. */
#include "core/console.h"
#include "os/os.h"
#include "signals.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <dirent.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <wslay/wslay.h>

#include "core/asciicast.h"
#include "log.h"
#include "core/priv_client.h"
#include "spec.h"
#include "ws.h"

/* What one console session reads of its terminal in a second, at most (512 KiB/s:
 * 7,000 lines of 76 columns). Each line a jail writes to its terminal wakes a kernel
 * worker (the pty's line discipline) that no cgroup limit holds; at 2 MiB/s a flood's
 * first part of each second kept both CPUs waking and doubled other tenants' exec p99
 * (bench/neighbours.py console-spew: 2.1-2.4x, now 1.0-1.3x). */
#define OUT_RATE (512u << 10)
#define OUT_CHUNK 16384
#define HELD_MAX (256 * 1024)     /* output kept for a detached session: the newest bytes */
#define QUEUE_MAX (1024 * 1024)   /* read no more output while the socket is this far behind */
#define IN_MAX (64 * 1024)        /* keystrokes waiting for the terminal */
#define MSG_MAX (64 * 1024)       /* largest WebSocket message we take */
#define CLOSING_MAX 5             /* seconds a closing socket gets to finish */
#define FIRST_ATTACH_MAX 30       /* seconds from the handshake to the socket's arrival */
#define SESSIONS_MAX 4096

enum kind { K_WAKE, K_MASTER, K_CONN };

struct session;

struct conn {
	enum kind kind; /* first: the poller's pointer may be either object */
	int sock;
	void (*release)(void *); /* ends the upgraded connection (the HTTP layer's) */
	void *release_arg;
	wslay_event_context_ptr ws;
	struct ws_prefix extra;  /* data malloc'd */
	struct session *s;    /* NULL once it is closing */
	time_t closing_since;
	/* the close frame waits until queued messages are out: wslay sends control frames
	 * first, and nothing after a close */
	bool close_pending;
	uint16_t close_code;
	char close_reason[124];
	bool dead;
	uint32_t events;
	struct conn *next;
};

struct session {
	enum kind kind;
	char id[CONSOLE_ID_SIZE];
	char jail[NAME_SIZE];
	int64_t tenant_id;
	int master;
	int pts;              /* the terminal's number in the jail's devpts */
	bool master_paused;   /* output waits until the socket catches up */
	bool rate_paused;     /* output waits for the next second (OUT_RATE) */
	size_t sec_bytes;     /* read from the terminal this second */
	uint32_t mevents;
	struct conn *conn;
	char *held;           /* ring of the newest output while detached */
	size_t held_start, held_len, dropped;
	char *in;
	size_t in_len;
	struct cast cast;
	int64_t bytes_out;
	time_t last_active, detached_at;
	bool attached_once;   /* before the first socket the wait is FIRST_ATTACH_MAX */
	bool command;         /* exec -t: a command, not a shell; its end is reported */
	int exit_code;        /* how the command ended (CONSOLE_EXIT_MARK), -1 until known */
	char carry[32];       /* the start of a mark cut by a read, held for the next one */
	size_t carry_len;
	bool dead;
	/* the terminal hung up before any socket came (a command that ends at once): why,
	 * told to the first socket after what the command wrote */
	const char *ended;
	struct session *next;
};

static struct {
	pthread_mutex_t mu;
	int ep, wake;
	int rec_dir;
	_Atomic uint64_t rec_total;   /* bytes in rec_dir, counted as written */
	struct cast_budget budget;
	struct store *st;
	struct console_settings set;
	struct session *sessions;
	struct conn *conns;
	int nsessions;
} H = { .mu = PTHREAD_MUTEX_INITIALIZER, .ep = -1, .wake = -1, .rec_dir = -1 };

static time_t now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec;
}

/* ---- the poller's interest ---- */

static void set_events(int fd, void *obj, uint32_t *cur, uint32_t want)
{
	if (*cur == want)
		return;
	os_poller_mod(H.ep, fd, want, obj);
	*cur = want;
}

static void master_update(struct session *s)
{
	if (s->dead || s->master < 0)
		return;
	uint32_t want = (s->master_paused || s->rate_paused ? 0 : OS_IN) | (s->in_len ? OS_OUT : 0);
	set_events(s->master, s, &s->mevents, want);
}

/* ---- WebSocket side ---- */

static ssize_t ws_recv(wslay_event_context_ptr ws, uint8_t *buf, size_t len, int flags, void *user)
{
	struct conn *c = user;
	(void)flags;
	size_t taken = ws_prefix_take(&c->extra, buf, len);
	if (taken)
		return (ssize_t)taken;
	ssize_t n;
	while ((n = recv(c->sock, buf, len, 0)) < 0 && errno == EINTR)
		;
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
		wslay_event_set_error(ws, WSLAY_ERR_WOULDBLOCK);
		return -1;
	}
	if (n <= 0) {
		wslay_event_set_error(ws, WSLAY_ERR_CALLBACK_FAILURE);
		return -1;
	}
	return n;
}

static ssize_t ws_send(wslay_event_context_ptr ws, const uint8_t *data, size_t len, int flags, void *user)
{
	struct conn *c = user;
	(void)flags;
	ssize_t n;
	while ((n = send(c->sock, data, len, MSG_NOSIGNAL)) < 0 && errno == EINTR)
		;
	if (n < 0) {
		wslay_event_set_error(ws, errno == EAGAIN || errno == EWOULDBLOCK ? WSLAY_ERR_WOULDBLOCK : WSLAY_ERR_CALLBACK_FAILURE);
		return -1;
	}
	return n;
}

static void queue(struct conn *c, uint8_t opcode, const void *data, size_t len)
{
	struct wslay_event_msg m = { .opcode = opcode, .msg = data, .msg_length = len };
	wslay_event_queue_msg(c->ws, &m);
}

static void queue_json(struct conn *c, json_t *j)
{
	char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
	if (text)
		queue(c, WSLAY_TEXT_FRAME, text, strlen(text));
	free(text);
	json_decref(j);
}

static void conn_error(struct conn *c, const char *msg)
{
	queue_json(c, json_pack("{ssss}", "type", "error", "message", msg));
}

/* The socket and its session part: the session waits for re-attach, reading its
 * terminal into the held ring (no longer paused for a slow socket). */
static void detach(struct conn *c)
{
	struct session *s = c->s;
	if (!s)
		return;
	c->s = NULL;
	s->conn = NULL;
	s->detached_at = now_s();
	if (s->master_paused) {
		s->master_paused = false;
		master_update(s);
	}
}

/* The socket goes; its session (if any) stays, detached. */
static void conn_close(struct conn *c, uint16_t code, const char *type, const char *reason)
{
	if (c->closing_since)
		return;
	if (type)
		queue_json(c, json_pack("{ssss}", "type", type, "reason", reason));
	c->close_pending = true;
	c->close_code = code;
	snprintf(c->close_reason, sizeof c->close_reason, "%.120s", reason);
	c->closing_since = now_s();
	detach(c);
}

static void conn_destroy(struct conn *c)
{
	if (c->dead)
		return;
	c->dead = true;
	detach(c);
	os_poller_del(H.ep, c->sock);
	c->release(c->release_arg);
	c->sock = -1;
}

static void conn_update(struct conn *c)
{
	if (c->dead)
		return;
	if (c->close_pending && wslay_event_get_queued_msg_count(c->ws) == 0) {
		c->close_pending = false;
		wslay_event_queue_close(c->ws, c->close_code, (const uint8_t *)c->close_reason, strlen(c->close_reason));
	}
	int r = wslay_event_want_read(c->ws), w = wslay_event_want_write(c->ws);
	if (!r && !w) {
		conn_destroy(c);
		return;
	}
	bool in_full = c->s && c->s->in_len >= IN_MAX;
	set_events(c->sock, c, &c->events, (r && !in_full ? OS_IN : 0) | (w ? OS_OUT : 0));
	if (c->s && c->s->master_paused && wslay_event_get_queued_msg_length(c->ws) < QUEUE_MAX / 2) {
		c->s->master_paused = false;
		master_update(c->s);
	}
}

/* ---- terminal side ---- */

static void master_write(struct session *s)
{
	while (s->in_len) {
		ssize_t n = write(s->master, s->in, s->in_len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			break; /* EAGAIN: OS_OUT brings us back; EIO: the read side ends the session */
		}
		memmove(s->in, s->in + n, s->in_len - (size_t)n);
		s->in_len -= (size_t)n;
	}
	master_update(s);
}

static void held_add(struct session *s, const char *buf, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s->held_len == HELD_MAX) {
			s->held_start = (s->held_start + 1) % HELD_MAX;
			s->held_len--;
			s->dropped++;
		}
		s->held[(s->held_start + s->held_len++) % HELD_MAX] = buf[i];
	}
}

static void session_end(struct session *s, const char *reason);
static void output(struct session *s, const char *buf, size_t n);

/* the signals a console may send its terminal's foreground */
static const int console_signals[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGKILL, SIGTSTP, SIGCONT, SIGUSR1, SIGUSR2, SIGWINCH };

/* A text frame: {"type":"resize","cols":C,"rows":R} or {"type":"signal","signal":"INT"}.
 * Anything else gets an error message back; the session goes on. */
static void control(struct conn *c, struct session *s, const uint8_t *msg, size_t len)
{
	json_error_t je;
	json_t *j = json_loadb((const char *)msg, len, 0, &je);
	const char *type = j ? json_string_value(json_object_get(j, "type")) : NULL;
	if (!type) {
		conn_error(c, "a text frame must be a JSON control message with a \"type\": resize or signal");
	} else if (strcmp(type, "resize") == 0) {
		json_t *jc = json_object_get(j, "cols"), *jr = json_object_get(j, "rows");
		json_int_t cols = json_integer_value(jc), rows = json_integer_value(jr);
		if (!json_is_integer(jc) || !json_is_integer(jr) || cols < 1 || cols > 1000 || rows < 1 || rows > 1000 ||
		    json_object_size(j) != 3) {
			conn_error(c, "resize needs exactly \"cols\" and \"rows\", whole numbers from 1 to 1000");
		} else {
			struct winsize ws = { .ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols };
			ioctl(s->master, TIOCSWINSZ, &ws); /* the kernel sends the foreground SIGWINCH */
			cast_resize(&s->cast, (unsigned)cols, (unsigned)rows);
		}
	} else if (strcmp(type, "signal") == 0) {
		int sig = sig_number(json_string_value(json_object_get(j, "signal"))), ok = 0;
		for (size_t i = 0; sig && i < sizeof console_signals / sizeof *console_signals; i++)
			ok |= console_signals[i] == sig;
		if (!ok)
			sig = 0;
		if (!sig || json_object_size(j) != 2)
			conn_error(c, "signal needs \"signal\": one of INT, TERM, HUP, QUIT, KILL, TSTP, CONT, USR1, USR2, WINCH");
		else if (ioctl(s->master, TIOCSIG, sig) < 0)
			conn_error(c, "the terminal has no foreground process to signal");
	} else {
		conn_error(c, "unknown control message type; expected resize or signal");
	}
	json_decref(j);
}

static void ws_on_msg(wslay_event_context_ptr ws, const struct wslay_event_on_msg_recv_arg *a, void *user)
{
	struct conn *c = user;
	struct session *s = c->s;
	(void)ws;
	if (!s || (a->opcode != WSLAY_BINARY_FRAME && a->opcode != WSLAY_TEXT_FRAME))
		return; /* close and ping are wslay's */
	s->last_active = now_s();
	if (a->opcode == WSLAY_TEXT_FRAME) {
		control(c, s, a->msg, a->msg_length);
		return;
	}
	if (a->msg_length == 0)
		return;
	size_t room = IN_MAX - s->in_len, n = a->msg_length < room ? a->msg_length : room;
	if (n < a->msg_length)
		conn_error(c, "typing faster than the terminal reads; some input was dropped");
	memcpy(s->in + s->in_len, a->msg, n);
	s->in_len += n;
	if (H.set.record_input)
		cast_data(&s->cast, 'i', a->msg, n);
	master_write(s);
}

/* Output of the terminal (or a notice of jaild's) to the socket, or held for later. */
static void output_raw(struct session *s, const char *buf, size_t n);

/* exec -t: the helper writes how the command ended to the terminal last; it goes to
 * the socket as a control message, never into the output or the recording. */
static void output(struct session *s, const char *buf, size_t n)
{
	static const char mark[] = CONSOLE_EXIT_MARK;
	const size_t mlen = sizeof mark - 1;
	if (!s->command)
		return output_raw(s, buf, n);
	char joined[OUT_CHUNK + sizeof s->carry];
	memcpy(joined, s->carry, s->carry_len);
	memcpy(joined + s->carry_len, buf, n);
	size_t len = s->carry_len + n;
	s->carry_len = 0;
	const char *m = memmem(joined, len, mark, mlen);
	size_t keep = 0;
	if (m) {
		const char *bel = memchr(m + mlen, '\a', (size_t)(joined + len - (m + mlen)));
		if (bel) {
			s->exit_code = atoi(m + mlen);
			output_raw(s, joined, (size_t)(m - joined));
			output_raw(s, bel + 1, (size_t)(joined + len - (bel + 1)));
			return;
		}
		/* the mark, its end still to come (it is short): held */
		keep = (size_t)(joined + len - m) <= sizeof s->carry ? (size_t)(joined + len - m) : 0;
	} else {
		/* a tail that could be the start of a mark: held */
		for (size_t k = len < mlen - 1 ? len : mlen - 1; k > 0 && !keep; k--)
			if (memcmp(joined + len - k, mark, k) == 0)
				keep = k;
	}
	output_raw(s, joined, len - keep);
	memcpy(s->carry, joined + len - keep, keep);
	s->carry_len = keep;
}

static void output_raw(struct session *s, const char *buf, size_t n)
{
	if (n == 0)
		return;
	s->bytes_out += (int64_t)n;
	s->last_active = now_s();
	cast_data(&s->cast, 'o', buf, n);
	if (s->conn) {
		queue(s->conn, WSLAY_BINARY_FRAME, buf, n);
		if (wslay_event_get_queued_msg_length(s->conn->ws) > QUEUE_MAX) {
			s->master_paused = true;
			master_update(s);
		}
		conn_update(s->conn);
	} else {
		held_add(s, buf, n);
	}
}

static void master_readable(struct session *s)
{
	char buf[OUT_CHUNK];
	ssize_t n = read(s->master, buf, sizeof buf);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) { /* EIO: every process holding the terminal is gone */
		if (!s->attached_once && !s->conn) {
			/* nobody has seen it yet: what it wrote and how it ended wait for the
			 * first socket (or FIRST_ATTACH_MAX) */
			output_raw(s, s->carry, s->carry_len);
			s->carry_len = 0;
			os_poller_del(H.ep, s->master);
			close(s->master);
			s->master = -1;
			s->ended = "the shell exited";
			return;
		}
		session_end(s, "the shell exited");
		return;
	}
	output(s, buf, (size_t)n);
	/* a terminal shows a person at most this much a second; past it the shell waits,
	 * as on a slow line, and one tenant's flood costs the others' consoles nothing */
	if ((s->sec_bytes += (size_t)n) >= OUT_RATE && !s->rate_paused) {
		s->rate_paused = true;
		master_update(s);
	}
}

static void conn_io(struct conn *c, uint32_t events)
{
	struct session *s = c->s;
	bool readable = (events & (OS_IN | OS_HUP | OS_ERR)) || c->extra.off < c->extra.len;
	if (readable && wslay_event_recv(c->ws) != 0) {
		conn_destroy(c); /* the peer went away or broke the protocol: detach */
		return;
	}
	if (s && c->s == s && wslay_event_get_close_received(c->ws) && !c->closing_since) {
		/* the client closed: the session waits for re-attach */
		c->closing_since = now_s();
		detach(c);
	}
	if ((events & OS_OUT) && wslay_event_want_write(c->ws) && wslay_event_send(c->ws) != 0) {
		conn_destroy(c);
		return;
	}
	conn_update(c);
}

/* ---- session life ---- */

static void session_free(struct session *s)
{
	free(s->held);
	free(s->in);
	free(s);
}

static void session_end(struct session *s, const char *reason)
{
	if (s->dead)
		return;
	s->dead = true;
	/* the last output first, so the socket and the recording see it */
	char buf[OUT_CHUNK];
	ssize_t n;
	while (s->master >= 0 && (n = read(s->master, buf, sizeof buf)) > 0)
		output(s, buf, (size_t)n);
	output_raw(s, s->carry, s->carry_len); /* a mark that never ended was output */
	s->carry_len = 0;
	if (s->master >= 0) {
		os_poller_del(H.ep, s->master);
		close(s->master); /* hangs up the terminal: the shell gets SIGHUP */
		s->master = -1;
	}
	cast_close(&s->cast);
	struct err e;
	if (store_console_end(H.st, s->id, reason, s->bytes_out, &e) < 0)
		log_error("console %s: %s", s->id, e.msg);
	log_info("console %s on jail %s ended: %s", s->id, s->jail, reason);
	if (s->conn) {
		struct conn *c = s->conn;
		if (s->command)
			queue_json(c, json_pack("{sssi}", "type", "exit", "code", s->exit_code));
		conn_close(c, 1000, "exit", reason);
		conn_update(c);
	}
	H.nsessions--;
}

static struct session *find(const char *id)
{
	for (struct session *s = H.sessions; s; s = s->next)
		if (!s->dead && strcmp(s->id, id) == 0)
			return s;
	return NULL;
}

/* Once a second: detached too long, idle too long, sockets slow to close, old recordings. */
static void tick(void)
{
	time_t t = now_s();
	for (struct session *s = H.sessions; s; s = s->next) {
		if (s->dead)
			continue;
		s->sec_bytes = 0;
		if (s->rate_paused) {
			s->rate_paused = false;
			master_update(s);
		}
		if (!s->conn && t - s->detached_at >= (s->attached_once ? H.set.grace : FIRST_ATTACH_MAX))
			session_end(s, s->ended ? s->ended : "detached for longer than the grace period");
		else if (t - s->last_active >= H.set.idle)
			session_end(s, "idle timeout");
	}
	for (struct conn *c = H.conns; c; c = c->next)
		if (!c->dead && c->closing_since && t - c->closing_since >= CLOSING_MAX)
			conn_destroy(c);
}

static void remove_recording(const char *id, void *arg)
{
	char name[CONSOLE_ID_SIZE + 8];
	struct stat st;
	(void)arg;
	snprintf(name, sizeof name, "%s.cast", id);
	if (fstatat(H.rec_dir, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
		H.rec_total -= (uint64_t)st.st_size < H.rec_total ? (uint64_t)st.st_size : H.rec_total;
	if (unlinkat(H.rec_dir, name, 0) < 0 && errno != ENOENT)
		log_warn("removing recording %s: %s", name, strerror(errno));
}

/* Past recordings-max-total, the oldest ended recordings go (as a rotated log's
 * oldest files do) until the total is back under nine tenths of it; live sessions keep
 * recording up to their own recording-max. */
static void total_sweep(void)
{
	if ((long long)H.rec_total <= H.set.record_total_max)
		return;
	struct err e;
	int removed = 0;
	while ((long long)H.rec_total > H.set.record_total_max / 10 * 9) {
		int n = store_console_expire(H.st, "9999", 1, remove_recording, NULL, &e);
		if (n <= 0)
			break;
		removed += n;
	}
	log_warn("console recordings passed recordings-max-total (%lld bytes): removed the %d oldest", H.set.record_total_max,
		 removed);
}

static void retention_sweep(void)
{
	time_t cut = time(NULL) - (time_t)H.set.keep;
	struct tm tm;
	char cutoff[32];
	gmtime_r(&cut, &tm);
	strftime(cutoff, sizeof cutoff, "%Y-%m-%dT%H:%M:%SZ", &tm);
	struct err e;
	int n = store_console_expire(H.st, cutoff, 1000, remove_recording, NULL, &e);
	if (n < 0)
		log_error("recording retention: %s", e.msg);
	else if (n > 0)
		log_info("removed %d console recordings older than %lld seconds", n, H.set.keep);
}

/* Frees what left during this turn. */
static void reap(void)
{
	for (struct session **p = &H.sessions; *p;) {
		struct session *s = *p;
		if (s->dead) {
			*p = s->next;
			session_free(s);
		} else
			p = &s->next;
	}
	for (struct conn **p = &H.conns; *p;) {
		struct conn *c = *p;
		if (c->dead) {
			*p = c->next;
			wslay_event_context_free(c->ws);
			free(c->extra.data);
			free(c);
		} else
			p = &c->next;
	}
}

static void *hub(void *arg)
{
	(void)arg;
	/* a terminal's output in bulk (cat of a big file, or a tenant's flood) yields the
	 * CPU to the API's threads; a keystroke's echo is a few bytes either way */
	os_thread_background();
	struct os_event evs[64];
	time_t last_tick = 0, last_sweep = 0;
	for (;;) {
		int n = os_poller_wait(H.ep, evs, 64, 1000);
		pthread_mutex_lock(&H.mu);
		for (int i = 0; i < n; i++) {
			enum kind *k = evs[i].ptr;
			if (*k == K_WAKE) {
				uint64_t v;
				if (read(H.wake, &v, sizeof v) < 0 && errno != EAGAIN)
					log_warn("console wake: %s", strerror(errno));
			} else if (*k == K_MASTER) {
				struct session *s = (struct session *)k;
				if (s->dead)
					continue;
				if (evs[i].events & OS_OUT)
					master_write(s);
				if (evs[i].events & (OS_IN | OS_HUP | OS_ERR))
					master_readable(s);
			} else {
				struct conn *c = (struct conn *)k;
				if (!c->dead)
					conn_io(c, evs[i].events);
			}
		}
		time_t t = now_s();
		if (t != last_tick) {
			last_tick = t;
			tick();
			total_sweep();
		}
		if (t - last_sweep >= 3600) {
			last_sweep = t;
			retention_sweep();
		}
		reap();
		pthread_mutex_unlock(&H.mu);
	}
	return NULL;
}

/* ---- the interface ---- */

/* What the recordings a previous run left take. */
static uint64_t dir_bytes(int dirfd)
{
	uint64_t sum = 0;
	int fd = dup(dirfd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;
	struct stat st;
	while (d && (de = readdir(d)))
		if (fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode))
			sum += (uint64_t)st.st_size;
	if (d)
		closedir(d);
	else if (fd >= 0)
		close(fd);
	return sum;
}

int console_init(struct store *st, const char *data_dir, const struct console_settings *set, struct err *e)
{
	H.st = st;
	H.set = *set;
	char path[512];
	snprintf(path, sizeof path, "%s/recordings", data_dir);
	if (mkdir(path, 0700) < 0 && errno != EEXIST)
		return err_errno(e, "creating %s", path);
	if ((H.rec_dir = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return err_errno(e, "opening %s (it must be a directory jaild's user owns)", path);
	H.rec_total = dir_bytes(H.rec_dir);
	H.budget = (struct cast_budget){ .max = (uint64_t)set->record_max, .total = &H.rec_total };
	if (store_console_end_stale(st, e) < 0)
		return -1;
	static enum kind wake_kind = K_WAKE;
	H.ep = os_poller();
	H.wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (H.ep < 0 || H.wake < 0 || os_poller_add(H.ep, H.wake, OS_IN, &wake_kind) < 0)
		return err_errno(e, "setting up the console thread");
	pthread_t t;
	if (pthread_create(&t, NULL, hub, NULL) != 0)
		return err_set(e, ERR_INTERNAL, "cannot start the console thread");
	pthread_detach(t);
	return 0;
}

static void wake(void)
{
	uint64_t one = 1;
	if (write(H.wake, &one, sizeof one) < 0 && errno != EAGAIN)
		log_warn("console wake: %s", strerror(errno));
}

static int tenant_sessions(int64_t tenant_id)
{
	int n = 0;
	for (struct session *s = H.sessions; s; s = s->next)
		n += !s->dead && s->tenant_id == tenant_id;
	return n;
}

static int check_room(int64_t tenant_id, struct err *e)
{
	if (H.nsessions >= SESSIONS_MAX)
		return err_set(e, ERR_BUSY, "the host has %d console sessions open; try again later", H.nsessions);
	int n = tenant_sessions(tenant_id);
	if (n >= H.set.max_per_tenant)
		return err_set(e, ERR_QUOTA,
			       "the tenant has %d console sessions open, its limit; exit a shell, end a session with "
			       "DELETE /api/consoles/ID, or wait for detached ones to expire",
			       n);
	return 0;
}

int console_open(const char *jail, unsigned cols, unsigned rows, const struct argv_buf *command, struct console_row *row,
		 struct err *e)
{
	pthread_mutex_lock(&H.mu);
	int rc = check_room(row->tenant_id, e);
	pthread_mutex_unlock(&H.mu);
	if (rc < 0)
		return -1;
	int master, tries = 0;
	/* a crowd opening consoles at once can find every helper worker taken: a moment
	 * later one is free (a console's worker lives only until the shell starts) */
	while ((rc = priv_call_console(jail, rows, cols, command, &master, e)) < 0 && e->code == ERR_BUSY && ++tries < 40)
		usleep(50 * 1000);
	if (rc < 0)
		return -1;
	struct session *s = calloc(1, sizeof *s);
	if (!s || !(s->held = malloc(HELD_MAX)) || !(s->in = malloc(IN_MAX))) {
		if (s)
			session_free(s);
		close(master);
		return err_set(e, ERR_INTERNAL, "out of memory");
	}
	unsigned char raw[16];
	randombytes_buf(raw, sizeof raw);
	sodium_bin2hex(s->id, sizeof s->id, raw, sizeof raw);
	snprintf(s->jail, sizeof s->jail, "%s", jail);
	s->kind = K_MASTER;
	s->tenant_id = row->tenant_id;
	s->command = command && command->argc > 0;
	s->exit_code = -1;
	s->master = master;
	if (ioctl(master, TIOCGPTN, &s->pts) < 0)
		s->pts = -1;
	s->last_active = s->detached_at = now_s();
	fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK);
	snprintf(row->id, sizeof row->id, "%s", s->id);
	snprintf(row->jail, sizeof row->jail, "%s", jail);
	row->cols = (int)cols;
	row->rows = (int)rows;
	store_now(row->started_at);
	char name[CONSOLE_ID_SIZE + 8], title[192];
	snprintf(name, sizeof name, "%s.cast", s->id);
	snprintf(title, sizeof title, "jail %s, %s", jail, row->actor);
	pthread_mutex_lock(&H.mu);
	if (check_room(row->tenant_id, e) < 0 || cast_open(&s->cast, H.rec_dir, name, cols, rows, title, &H.budget, e) < 0 ||
	    store_console_add(H.st, row, e) < 0) {
		pthread_mutex_unlock(&H.mu);
		cast_close(&s->cast);
		unlinkat(H.rec_dir, name, 0);
		close(master);
		session_free(s);
		return -1;
	}
	s->mevents = OS_IN;
	os_poller_add(H.ep, master, OS_IN, s);
	s->next = H.sessions;
	H.sessions = s;
	H.nsessions++;
	pthread_mutex_unlock(&H.mu);
	wake();
	log_info("console %s opened on jail %s by %s from %s", s->id, jail, row->actor, row->source);
	return 0;
}

void console_attach(const char *id, int sock, const char *extra, size_t extra_len, void (*release)(void *), void *release_arg)
{
	static const struct wslay_event_callbacks cb = { .recv_callback = ws_recv, .send_callback = ws_send, .on_msg_recv_callback = ws_on_msg };
	struct conn *c = calloc(1, sizeof *c);
	if (!c || (extra_len && !(c->extra.data = malloc(extra_len))) || wslay_event_context_server_init(&c->ws, &cb, c) != 0) {
		if (c)
			free(c->extra.data);
		free(c);
		release(release_arg);
		return;
	}
	c->kind = K_CONN;
	c->sock = sock;
	c->release = release;
	c->release_arg = release_arg;
	if (extra_len)
		memcpy(c->extra.data, extra, extra_len);
	c->extra.len = extra_len;
	wslay_event_config_set_max_recv_msg_length(c->ws, MSG_MAX);
	fcntl(sock, F_SETFL, fcntl(sock, F_GETFL) | O_NONBLOCK);
	/* a keystroke's echo is one small frame: Nagle would hold it for the peer's ACK
	 * (fails harmlessly on TLS, where the socket is MHD's socketpair) */
	int one = 1;
	setsockopt(sock, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	pthread_mutex_lock(&H.mu);
	c->next = H.conns;
	H.conns = c;
	c->events = OS_IN | OS_OUT;
	os_poller_add(H.ep, sock, c->events, c);
	struct session *s = find(id);
	if (!s) {
		conn_close(c, 1008, "exit", "the session ended before the socket attached");
	} else {
		if (s->conn) { /* a newer socket wins: a reloaded page takes over its session */
			struct conn *old = s->conn;
			conn_close(old, 4001, "detached", "the session was attached from another connection");
			conn_update(old);
		}
		s->conn = c;
		s->attached_once = true;
		c->s = s;
		s->last_active = now_s();
		char url[96];
		snprintf(url, sizeof url, "/api/consoles/%s/recording", s->id);
		queue_json(c, json_pack("{ssssssss}", "type", "session", "id", s->id, "jail", s->jail, "recording", url));
		if (s->dropped) {
			char note[96];
			int n = snprintf(note, sizeof note, "\r\n[jaild: %zu bytes of output were dropped while detached]\r\n", s->dropped);
			queue(c, WSLAY_BINARY_FRAME, note, (size_t)n);
			s->dropped = 0;
		}
		if (s->held_len) {
			char *flat = malloc(s->held_len);
			if (flat) {
				for (size_t i = 0; i < s->held_len; i++)
					flat[i] = s->held[(s->held_start + i) % HELD_MAX];
				queue(c, WSLAY_BINARY_FRAME, flat, s->held_len);
				free(flat);
			}
			s->held_start = s->held_len = 0;
		}
		if (s->ended) /* it ended before this socket came: now it has seen all */
			session_end(s, s->ended);
	}
	pthread_mutex_unlock(&H.mu);
	wake(); /* the hub's turn reads any extra bytes and sends what is queued */
}

bool console_live(const char *id, const char *jail)
{
	pthread_mutex_lock(&H.mu);
	struct session *s = find(id);
	bool ok = s && strcmp(s->jail, jail) == 0;
	pthread_mutex_unlock(&H.mu);
	return ok;
}

int console_end(const char *id, const char *reason, struct err *e)
{
	pthread_mutex_lock(&H.mu);
	struct session *s = find(id);
	if (s)
		session_end(s, reason);
	pthread_mutex_unlock(&H.mu);
	if (!s)
		return err_set(e, ERR_NOT_FOUND, "console session %s is not live", id);
	wake();
	return 0;
}

void console_end_jail(const char *jail, const char *reason)
{
	pthread_mutex_lock(&H.mu);
	for (struct session *s = H.sessions; s; s = s->next)
		if (!s->dead && strcmp(s->jail, jail) == 0)
			session_end(s, reason);
	pthread_mutex_unlock(&H.mu);
	wake();
}

void console_broadcast(const char *jail, const char *text, char *skip, size_t skip_size)
{
	size_t used = 0;
	skip[0] = '\0';
	pthread_mutex_lock(&H.mu);
	for (struct session *s = H.sessions; s; s = s->next) {
		if (s->dead || strcmp(s->jail, jail) != 0)
			continue;
		output(s, text, strlen(text));
		if (s->pts >= 0 && used + 12 < skip_size)
			used += (size_t)snprintf(skip + used, skip_size - used, "%s%d", used ? " " : "", s->pts);
	}
	pthread_mutex_unlock(&H.mu);
	wake();
}

int console_recording_open(const char *id, struct err *e)
{
	char name[CONSOLE_ID_SIZE + 8];
	snprintf(name, sizeof name, "%s.cast", id);
	int fd = openat(H.rec_dir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return err_set(e, ERR_NOT_FOUND, "the recording of console session %s is gone (past recording-keep)", id);
	return fd;
}

int console_sessions_live(void)
{
	pthread_mutex_lock(&H.mu);
	int n = H.nsessions;
	pthread_mutex_unlock(&H.mu);
	return n;
}
