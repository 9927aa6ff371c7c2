/* console.c — `jailctl console NAME`: the jail's root shell in this terminal.
 *
 * libcurl makes the connection (TCP or TLS, with the usual CA handling) and then hands
 * it over raw (CURLOPT_CONNECT_ONLY); we send the WebSocket handshake ourselves and
 * wslay frames the bytes. The terminal is in raw mode while attached, so Ctrl-C, tab
 * and arrow keys go to the jail; SIGWINCH becomes a resize message; "~." at the start
 * of a line detaches (the session waits on the server for re-attach), "~~" sends "~". */
#include "console.h"

#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <openssl/rand.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>
#include <wslay/wslay.h>

#include "ws.h"

struct con {
	CURL *curl;
	char extra_buf[4096];
	struct ws_prefix extra; /* bytes read past the handshake's answer */
	char session[64];
	char exit_reason[160];
	bool exited, closed;
	int code; /* exec -t: the command's exit code, -1 until told */
	bool quiet; /* exec -t: no session banner */
};

static int winch_pipe[2] = { -1, -1 };
static struct termios saved;
static bool raw_mode;

static void on_winch(int sig)
{
	(void)sig;
	int saved_errno = errno;
	if (write(winch_pipe[1], "w", 1) < 0) {
		/* a resize already pending is enough */
	}
	errno = saved_errno;
}

static void restore_terminal(void)
{
	if (raw_mode) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
		raw_mode = false;
	}
}

static ssize_t c_recv(wslay_event_context_ptr ws, uint8_t *buf, size_t len, int flags, void *user)
{
	struct con *c = user;
	(void)flags;
	size_t taken = ws_prefix_take(&c->extra, buf, len);
	if (taken)
		return (ssize_t)taken;
	size_t got = 0;
	CURLcode rc = curl_easy_recv(c->curl, buf, len, &got);
	if (rc == CURLE_AGAIN) {
		wslay_event_set_error(ws, WSLAY_ERR_WOULDBLOCK);
		return -1;
	}
	if (rc != CURLE_OK || got == 0) {
		wslay_event_set_error(ws, WSLAY_ERR_CALLBACK_FAILURE);
		return -1;
	}
	return (ssize_t)got;
}

static ssize_t c_send(wslay_event_context_ptr ws, const uint8_t *data, size_t len, int flags, void *user)
{
	struct con *c = user;
	(void)flags;
	size_t sent = 0;
	CURLcode rc = curl_easy_send(c->curl, data, len, &sent);
	if (rc == CURLE_AGAIN) {
		wslay_event_set_error(ws, WSLAY_ERR_WOULDBLOCK);
		return -1;
	}
	if (rc != CURLE_OK) {
		wslay_event_set_error(ws, WSLAY_ERR_CALLBACK_FAILURE);
		return -1;
	}
	return (ssize_t)sent;
}

static int c_mask(wslay_event_context_ptr ws, uint8_t *buf, size_t len, void *user)
{
	(void)ws, (void)user;
	return RAND_bytes(buf, (int)len) == 1 ? 0 : -1;
}

static void write_all(int fd, const void *p, size_t n)
{
	const char *b = p;
	while (n) {
		ssize_t w = write(fd, b, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		b += w;
		n -= (size_t)w;
	}
}

static void c_msg(wslay_event_context_ptr ws, const struct wslay_event_on_msg_recv_arg *a, void *user)
{
	struct con *c = user;
	(void)ws;
	if (a->opcode == WSLAY_BINARY_FRAME) {
		write_all(STDOUT_FILENO, a->msg, a->msg_length);
		return;
	}
	if (a->opcode != WSLAY_TEXT_FRAME)
		return;
	json_t *j = json_loadb((const char *)a->msg, a->msg_length, 0, NULL);
	const char *type = json_string_value(json_object_get(j, "type"));
	const char *reason = json_string_value(json_object_get(j, "reason"));
	if (type && strcmp(type, "session") == 0) {
		snprintf(c->session, sizeof c->session, "%s", json_string_value(json_object_get(j, "id")) ?: "");
		if (isatty(STDIN_FILENO) && isatty(STDERR_FILENO) && !c->quiet)
			fprintf(stderr, "jailctl: console session %s (~. at the start of a line detaches)\r\n", c->session);
	} else if (type && (strcmp(type, "exit") == 0 || strcmp(type, "detached") == 0)) {
		c->exited = strcmp(type, "exit") == 0;
		if (json_is_integer(json_object_get(j, "code")))
			c->code = (int)json_integer_value(json_object_get(j, "code"));
		snprintf(c->exit_reason, sizeof c->exit_reason, "%s", reason ? reason : type);
	} else if (type && strcmp(type, "error") == 0) {
		restore_terminal();
		fprintf(stderr, "\r\njailctl: %s\r\n", json_string_value(json_object_get(j, "message")) ?: "error");
	}
	json_decref(j);
}

static void send_msg(wslay_event_context_ptr ws, uint8_t opcode, const void *data, size_t len)
{
	struct wslay_event_msg m = { .opcode = opcode, .msg = data, .msg_length = len };
	wslay_event_queue_msg(ws, &m);
}

static void send_size(wslay_event_context_ptr ws)
{
	struct winsize w;
	if (ioctl(STDIN_FILENO, TIOCGWINSZ, &w) < 0 || !w.ws_col || !w.ws_row)
		return;
	char msg[80];
	int n = snprintf(msg, sizeof msg, "{\"type\":\"resize\",\"cols\":%u,\"rows\":%u}", w.ws_col, w.ws_row);
	send_msg(ws, WSLAY_TEXT_FRAME, msg, (size_t)n);
}

/* Sends all of buf over the raw connection, waiting while the socket is full. */
static int send_raw(CURL *curl, curl_socket_t fd, const char *buf, size_t len)
{
	while (len) {
		size_t sent = 0;
		CURLcode rc = curl_easy_send(curl, buf, len, &sent);
		if (rc == CURLE_AGAIN) {
			struct pollfd p = { .fd = fd, .events = POLLOUT };
			poll(&p, 1, 10000);
			continue;
		}
		if (rc != CURLE_OK)
			return -1;
		buf += sent;
		len -= sent;
	}
	return 0;
}

/* The handshake's answer: status and headers, plus what came after them. Returns the
 * status, or -1; *body gets a refusal's JSON body. */
static int read_answer(struct con *c, curl_socket_t fd, const char *accept, json_t **body, char *err, size_t errlen)
{
	static char buf[65536];
	size_t len = 0;
	char *end = NULL;
	*body = NULL;
	while (len < sizeof buf - 1) {
		size_t got = 0;
		CURLcode rc = curl_easy_recv(c->curl, buf + len, sizeof buf - 1 - len, &got);
		if (rc == CURLE_AGAIN) {
			struct pollfd p = { .fd = fd, .events = POLLIN };
			if (poll(&p, 1, 30000) == 0) {
				snprintf(err, errlen, "jaild did not answer the console request in 30 s");
				return -1;
			}
			continue;
		}
		if (rc != CURLE_OK || got == 0)
			break;
		len += got;
		buf[len] = '\0';
		if (!end)
			end = strstr(buf, "\r\n\r\n");
		if (!end)
			continue;
		if (strncmp(buf, "HTTP/1.1 101", 12) == 0)
			break;
		/* a refusal: its JSON body follows, Content-Length long */
		const char *cl = strcasestr(buf, "\r\nContent-Length:");
		if ((size_t)(buf + len - (end + 4)) >= (cl ? strtoul(cl + 17, NULL, 10) : 0))
			break;
	}
	if (!end) {
		snprintf(err, errlen, "jaild closed the connection during the console handshake");
		return -1;
	}
	int status = 0;
	if (sscanf(buf, "HTTP/1.%*d %d", &status) != 1) {
		snprintf(err, errlen, "jaild's answer is not HTTP");
		return -1;
	}
	*end = '\0';
	if (status == 101) {
		const char *a = strcasestr(buf, "\r\nSec-WebSocket-Accept:");
		if (!a || strncmp(a + 23 + strspn(a + 23, " "), accept, WS_ACCEPT_SIZE - 1) != 0) {
			snprintf(err, errlen, "the server's WebSocket handshake is wrong (Sec-WebSocket-Accept)");
			return -1;
		}
		size_t rest = (size_t)(buf + len - (end + 4));
		if (rest > sizeof c->extra_buf)
			rest = sizeof c->extra_buf;
		memcpy(c->extra_buf, end + 4, rest);
		c->extra = (struct ws_prefix){ .data = c->extra_buf, .len = rest };
		return status;
	}
	*body = json_loads(end + 4, 0, NULL);
	return status;
}

static void make_raw(void)
{
	if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &saved) < 0)
		return;
	struct termios t = saved;
	cfmakeraw(&t);
	if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &t) == 0) {
		raw_mode = true;
		atexit(restore_terminal);
	}
}

int console_run(const struct settings *s, const char *name, const char *session, const char *command)
{
	char err[512] = "";
	struct con c = { .code = -1, .quiet = command != NULL };
	unsigned cols = 80, rows = 24;
	struct winsize w;
	if (isatty(STDIN_FILENO) && ioctl(STDIN_FILENO, TIOCGWINSZ, &w) == 0 && w.ws_col && w.ws_row)
		cols = w.ws_col, rows = w.ws_row;

	/* where to connect, and the request line's path (a URL with a path prefix keeps it) */
	CURLU *u = curl_url();
	char *host = NULL, *port = NULL, *prefix = NULL;
	if (!u || curl_url_set(u, CURLUPART_URL, s->url, 0) != CURLUE_OK || curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK || curl_url_get(u, CURLUPART_PATH, &prefix, 0) != CURLUE_OK) {
		fprintf(stderr, "jailctl: --url %s is not a URL\n", s->url);
		curl_url_cleanup(u);
		return EXIT_USAGE;
	}
	char path[1024];
	size_t pl = strlen(prefix);
	while (pl && prefix[pl - 1] == '/')
		prefix[--pl] = '\0';
	char *cmd = command ? curl_easy_escape(NULL, command, 0) : NULL;
	snprintf(path, sizeof path, "%s/api/jails/%s/console?cols=%u&rows=%u%s%s%s%s", prefix, name, cols, rows,
		 session ? "&session=" : "", session ? session : "", cmd ? "&command=" : "", cmd ? cmd : "");
	curl_free(cmd);

	c.curl = curl_easy_init();
	curl_easy_setopt(c.curl, CURLOPT_URL, s->url);
	curl_easy_setopt(c.curl, CURLOPT_CONNECT_ONLY, 1L);
	curl_easy_setopt(c.curl, CURLOPT_NOSIGNAL, 1L);
	CURLcode rc = curl_easy_perform(c.curl);
	curl_socket_t fd = CURL_SOCKET_BAD;
	if (rc != CURLE_OK || curl_easy_getinfo(c.curl, CURLINFO_ACTIVESOCKET, &fd) != CURLE_OK || fd == CURL_SOCKET_BAD) {
		fprintf(stderr, "jailctl: cannot reach jaild at %s: %s\n", s->url, curl_easy_strerror(rc));
		curl_free(host), curl_free(port), curl_free(prefix), curl_url_cleanup(u);
		curl_easy_cleanup(c.curl);
		return EXIT_SERVER;
	}
	char key[WS_KEY_SIZE], accept[WS_ACCEPT_SIZE];
	ws_new_key(key);
	ws_accept(key, accept);
	char req[2048];
	/* Host carries the port (inside brackets for IPv6) */
	char hosthdr[300];
	snprintf(hosthdr, sizeof hosthdr, strchr(host, ':') ? "[%s]:%s" : "%s:%s", host, port);
	int n = snprintf(req, sizeof req,
		     "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
		     "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\nAuthorization: Bearer %s\r\n"
		     "User-Agent: jailctl\r\n\r\n",
		     path, hosthdr, key, s->token);
	curl_free(host), curl_free(port), curl_free(prefix), curl_url_cleanup(u);
	json_t *body = NULL;
	int status = n > 0 && (size_t)n < sizeof req && send_raw(c.curl, fd, req, (size_t)n) == 0
			     ? read_answer(&c, fd, accept, &body, err, sizeof err)
			     : -1;
	if (status != 101) {
		int code;
		if (status < 0) {
			fprintf(stderr, "jailctl: %s\n", err[0] ? err : "the console connection failed");
			code = EXIT_SERVER;
		} else {
			code = api_fail(status, body, name);
		}
		json_decref(body);
		curl_easy_cleanup(c.curl);
		return code;
	}

	static const struct wslay_event_callbacks cb = { .recv_callback = c_recv, .send_callback = c_send,
							 .genmask_callback = c_mask, .on_msg_recv_callback = c_msg };
	wslay_event_context_ptr ws;
	if (wslay_event_context_client_init(&ws, &cb, &c) != 0) {
		curl_easy_cleanup(c.curl);
		return EXIT_FAIL;
	}
	if (pipe2(winch_pipe, O_CLOEXEC | O_NONBLOCK) == 0) {
		struct sigaction sa = { .sa_handler = on_winch, .sa_flags = SA_RESTART };
		sigaction(SIGWINCH, &sa, NULL);
	}
	make_raw();
	bool detach = false, at_line_start = true, tilde = false, stdin_open = true;
	/* escape sequences on input are the terminal's (its answer to the shell's cursor
	 * query, an arrow key): they leave "the start of a line" where it was */
	int esc = 0; /* 0: none, 1: after ESC, 2: in CSI (ESC [ ... final), 3: ESC O x */
	if (isatty(STDIN_FILENO)) {
		/* the shell learns this terminal's size at once; on a re-attach a size that
		 * changes and changes back makes a full-screen program draw its screen again */
		if (session) {
			struct winsize w0;
			if (ioctl(STDIN_FILENO, TIOCGWINSZ, &w0) == 0 && w0.ws_row > 1) {
				char msg[80];
				int m = snprintf(msg, sizeof msg, "{\"type\":\"resize\",\"cols\":%u,\"rows\":%u}", w0.ws_col,
						 w0.ws_row - 1u);
				send_msg(ws, WSLAY_TEXT_FRAME, msg, (size_t)m);
			}
		}
		send_size(ws);
	}
	if (c.extra.len)
		wslay_event_recv(ws);
	while (!detach && (wslay_event_want_read(ws) || wslay_event_want_write(ws))) {
		struct pollfd p[3] = {
			{ .fd = fd, .events = (short)(POLLIN | (wslay_event_want_write(ws) ? POLLOUT : 0)) },
			{ .fd = stdin_open ? STDIN_FILENO : -1, .events = POLLIN },
			{ .fd = winch_pipe[0], .events = POLLIN },
		};
		/* after input ended, ^D again each second: one may have landed where the
		 * shell was not reading a line (a terminal query at start-up, say) */
		int ready = poll(p, 3, stdin_open ? -1 : 1000);
		if (ready < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (ready == 0)
			send_msg(ws, WSLAY_BINARY_FRAME, "\x04", 1);
		if (p[2].revents) {
			char drain[16];
			while (read(winch_pipe[0], drain, sizeof drain) > 0)
				;
			send_size(ws);
		}
		if (p[1].revents) {
			char in[4096], outb[8192];
			ssize_t got = read(STDIN_FILENO, in, sizeof in);
			if (got <= 0) {
				/* input ended (a pipe): end the shell's input too, as a terminal would */
				stdin_open = false;
				send_msg(ws, WSLAY_BINARY_FRAME, "\x04", 1);
			}
			size_t o = 0;
			for (ssize_t i = 0; i < got && !detach; i++) {
				char ch = in[i];
				if (tilde) {
					tilde = false;
					if (ch == '.') {
						detach = true;
						break;
					}
					if (ch != '~')
						outb[o++] = '~';
				} else if (at_line_start && ch == '~' && esc == 0) {
					tilde = true;
					continue;
				}
				outb[o++] = ch;
				if (esc == 1)
					esc = ch == '[' ? 2 : ch == 'O' ? 3 : 0;
				else if (esc == 2)
					esc = ch >= 0x40 && ch <= 0x7e ? 0 : 2;
				else if (esc == 3)
					esc = 0;
				else if (ch == '\033')
					esc = 1;
				else
					at_line_start = ch == '\r' || ch == '\n';
			}
			if (o)
				send_msg(ws, WSLAY_BINARY_FRAME, outb, o);
		}
		if ((p[0].revents & (POLLIN | POLLHUP | POLLERR)) && wslay_event_recv(ws) != 0)
			break;
		if (wslay_event_want_write(ws) && wslay_event_send(ws) != 0)
			break;
	}
	restore_terminal();
	int code = EXIT_OK;
	if (detach) {
		fprintf(stderr, "\r\njailctl: detached; the session waits on the server: jailctl console %s --session %s\n", name, c.session);
		const char *bye = "detached";
		wslay_event_queue_close(ws, 1000, (const uint8_t *)bye, strlen(bye));
		wslay_event_send(ws);
	} else if (c.code >= 0) {
		code = c.code; /* exec -t: the command's own */
	} else if (c.exit_reason[0]) {
		fprintf(stderr, "\r\njailctl: console closed: %s\n", c.exit_reason);
		code = c.exited ? EXIT_OK : EXIT_FAIL;
	} else {
		fprintf(stderr, "\r\njailctl: the connection to jaild was lost; re-attach: jailctl console %s --session %s\n", name, c.session);
		code = EXIT_SERVER;
	}
	wslay_event_context_free(ws);
	curl_easy_cleanup(c.curl);
	return code;
}
