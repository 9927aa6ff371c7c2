/* forward.c — a request for a jail that lives on another host of the cluster, sent on
 * to that host's API with the caller's own credentials (the owner authenticates and
 * authorizes again: nothing here vouches for anyone), and answered with what it
 * answers, streamed as it comes: a command's output, a log that follows, an export.
 * libcurl runs in a thread of its own that writes the body into a pipe; the response
 * reads the pipe, so a slow client slows the owner, and a client that goes away ends
 * the forwarded request. */
#include "http/http.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <poll.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"

struct forward {
	CURL *curl;
	struct curl_slist *headers;
	char *url;
	int upload_fd;
	int pipe[2];
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool head_done, done, failed;
	long status;
	char error[CURL_ERROR_SIZE];
	char content_type[128], etag[40], location[192], retry_after[24], set_cookie[256];
};

/* the caller's headers that mean something to the owner; nothing else goes */
static const char *const passed[] = { "Authorization", "Cookie", "X-CSRF-Token", "Content-Type", "If-Match",
				      "If-None-Match", "Idempotency-Key", "Last-Event-ID", "Accept", NULL };

static void head_is_done(struct forward *f)
{
	pthread_mutex_lock(&f->mu);
	f->head_done = true;
	pthread_cond_broadcast(&f->cv);
	pthread_mutex_unlock(&f->mu);
}

static size_t on_header(char *buf, size_t size, size_t n, void *arg)
{
	struct forward *f = arg;
	size_t len = size * n;
	if (len <= 2 && (buf[0] == '\r' || buf[0] == '\n')) {
		long st = 0;
		curl_easy_getinfo(f->curl, CURLINFO_RESPONSE_CODE, &st);
		if (st >= 200) { /* not a 100 Continue's end */
			f->status = st;
			head_is_done(f);
		}
		return len;
	}
	static const struct {
		const char *name;
		size_t off, size;
	} kept[] = {
		{ "Content-Type", offsetof(struct forward, content_type), sizeof((struct forward *)0)->content_type },
		{ "ETag", offsetof(struct forward, etag), sizeof((struct forward *)0)->etag },
		{ "Location", offsetof(struct forward, location), sizeof((struct forward *)0)->location },
		{ "Retry-After", offsetof(struct forward, retry_after), sizeof((struct forward *)0)->retry_after },
		{ "Set-Cookie", offsetof(struct forward, set_cookie), sizeof((struct forward *)0)->set_cookie },
	};
	for (size_t i = 0; i < sizeof kept / sizeof *kept; i++) {
		size_t k = strlen(kept[i].name);
		if (len > k + 1 && strncasecmp(buf, kept[i].name, k) == 0 && buf[k] == ':') {
			const char *v = buf + k + 1;
			size_t vn = len - k - 1;
			while (vn && (*v == ' ' || *v == '\t'))
				v++, vn--;
			while (vn && (v[vn - 1] == '\r' || v[vn - 1] == '\n'))
				vn--;
			snprintf((char *)f + kept[i].off, kept[i].size, "%.*s", (int)vn, v);
		}
	}
	return len;
}

static size_t on_body(char *buf, size_t size, size_t n, void *arg)
{
	struct forward *f = arg;
	size_t len = size * n, off = 0;
	if (!f->head_done) {
		curl_easy_getinfo(f->curl, CURLINFO_RESPONSE_CODE, &f->status);
		head_is_done(f);
	}
	while (off < len) {
		ssize_t w = write(f->pipe[1], buf + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return 0; /* the client went away: the transfer ends */
		off += (size_t)w;
	}
	return len;
}

static size_t on_read(char *buf, size_t size, size_t n, void *arg)
{
	struct forward *f = arg;
	ssize_t r = read(f->upload_fd, buf, size * n);
	return r < 0 ? CURL_READFUNC_ABORT : (size_t)r;
}

static void *run(void *arg)
{
	struct forward *f = arg;
	CURLcode rc = curl_easy_perform(f->curl);
	pthread_mutex_lock(&f->mu);
	if (rc != CURLE_OK && !f->head_done) {
		f->failed = true;
		if (!f->error[0])
			snprintf(f->error, sizeof f->error, "%s", curl_easy_strerror(rc));
	}
	f->head_done = f->done = true;
	pthread_cond_broadcast(&f->cv);
	pthread_mutex_unlock(&f->mu);
	close(f->pipe[1]); /* the body is whole (or cut short) */
	f->pipe[1] = -1;
	return NULL;
}

static void forward_free(struct forward *f)
{
	if (f->pipe[0] >= 0)
		close(f->pipe[0]); /* a writer still at it gets EPIPE and stops */
	pthread_join(f->th, NULL);
	curl_easy_cleanup(f->curl);
	curl_slist_free_all(f->headers);
	free(f->url);
	pthread_mutex_destroy(&f->mu);
	pthread_cond_destroy(&f->cv);
	free(f);
}

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max, struct http_wait *w)
{
	(void)pos;
	struct forward *f = cls;
	struct pollfd p = { .fd = f->pipe[0], .events = POLLIN };
	if (poll(&p, 1, 0) == 0) {
		w->fd = f->pipe[0];
		return HTTP_STREAM_WAIT;
	}
	for (;;) {
		ssize_t r = read(f->pipe[0], buf, max);
		if (r > 0)
			return r;
		if (r < 0 && errno == EINTR)
			continue;
		return r == 0 ? HTTP_STREAM_END : HTTP_STREAM_ERROR;
	}
}

static void stream_free(void *cls)
{
	forward_free(cls);
}

struct query_buf {
	CURL *c;
	char *q;
	size_t n, cap;
};

static void add_query(struct query_buf *b, const char *key, const char *value)
{
	char *k = curl_easy_escape(b->c, key, 0), *v = value ? curl_easy_escape(b->c, value, 0) : NULL;
	size_t need = strlen(k) + (v ? strlen(v) + 1 : 0) + 2;
	if (k && b->n + need < b->cap)
		b->n += (size_t)snprintf(b->q + b->n, b->cap - b->n, "%s%s%s%s", b->n ? "&" : "?", k, v ? "=" : "", v ? v : "");
	curl_free(k);
	curl_free(v);
}

static enum MHD_Result each_arg(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	(void)kind;
	add_query(cls, key, value);
	return MHD_YES;
}

void http_forward(struct request *rq, struct response *rs, const char *base, const char *host)
{
	struct MHD_Connection *c = rq->conn;
	struct forward *f = calloc(1, sizeof *f);
	if (!f || !(f->curl = curl_easy_init())) {
		free(f);
		resp_errorf(rs, ERR_INTERNAL, NULL, "out of memory forwarding to host %s", host);
		return;
	}
	f->pipe[0] = f->pipe[1] = -1;
	f->upload_fd = rq->upload_fd;
	pthread_mutex_init(&f->mu, NULL);
	pthread_cond_init(&f->cv, NULL);
	struct query_buf query = { f->curl, malloc(4096), 0, 4096 };
	if (query.q) {
		query.q[0] = '\0';
		MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, each_arg, &query);
	}
	size_t n = strlen(base) + strlen(rq->path) + (query.q ? query.n : 0) + 1;
	f->url = malloc(n);
	if (f->url)
		snprintf(f->url, n, "%s%s%s", base, rq->path, query.q ? query.q : "");
	free(query.q);
	for (const char *const *h = passed; *h; h++) {
		const char *v = MHD_lookup_connection_value(c, MHD_HEADER_KIND, *h);
		if (v) {
			char line[4200];
			snprintf(line, sizeof line, "%s: %s", *h, v);
			f->headers = curl_slist_append(f->headers, line);
		}
	}
	char fwd[128];
	snprintf(fwd, sizeof fwd, "X-Forwarded-For: %s", rq->remote ? rq->remote : "");
	f->headers = curl_slist_append(f->headers, fwd);
	f->headers = curl_slist_append(f->headers, "Expect:"); /* no 100 Continue round trip */
	CURL *k = f->curl;
	curl_easy_setopt(k, CURLOPT_URL, f->url);
	curl_easy_setopt(k, CURLOPT_CUSTOMREQUEST, rq->method);
	curl_easy_setopt(k, CURLOPT_HTTPHEADER, f->headers);
	curl_easy_setopt(k, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(k, CURLOPT_HEADERDATA, f);
	curl_easy_setopt(k, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(k, CURLOPT_WRITEDATA, f);
	curl_easy_setopt(k, CURLOPT_ERRORBUFFER, f->error);
	curl_easy_setopt(k, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(k, CURLOPT_CONNECTTIMEOUT_MS, 2000L);
	curl_easy_setopt(k, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(k, CURLOPT_FOLLOWLOCATION, 0L);
	if (strcmp(rq->method, "HEAD") == 0)
		curl_easy_setopt(k, CURLOPT_NOBODY, 1L);
	if (rq->upload_fd >= 0) {
		lseek(rq->upload_fd, 0, SEEK_SET);
		curl_easy_setopt(k, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(k, CURLOPT_CUSTOMREQUEST, rq->method);
		curl_easy_setopt(k, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(k, CURLOPT_READDATA, f);
		curl_easy_setopt(k, CURLOPT_INFILESIZE_LARGE, (curl_off_t)rq->upload_size);
	} else if (rq->body_len || strcmp(rq->method, "POST") == 0 || strcmp(rq->method, "PUT") == 0 ||
		   strcmp(rq->method, "PATCH") == 0) {
		/* copied: the transfer may outlast the request's buffer */
		curl_easy_setopt(k, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)rq->body_len);
		curl_easy_setopt(k, CURLOPT_COPYPOSTFIELDS, rq->body ? rq->body : "");
	}
	if (!f->url || pipe2(f->pipe, O_CLOEXEC) < 0 || pthread_create(&f->th, NULL, run, f) != 0) {
		resp_errorf(rs, ERR_INTERNAL, NULL, "could not forward to host %s: %s", host, strerror(errno));
		if (f->pipe[0] >= 0)
			close(f->pipe[0]), close(f->pipe[1]);
		curl_easy_cleanup(f->curl);
		curl_slist_free_all(f->headers);
		free(f->url);
		free(f);
		return;
	}
	pthread_mutex_lock(&f->mu);
	while (!f->head_done)
		pthread_cond_wait(&f->cv, &f->mu);
	bool failed = f->failed;
	pthread_mutex_unlock(&f->mu);
	if (failed) {
		log_warn("forwarding %s %s to host %s (%s): %s", rq->method, rq->path, host, base, f->error);
		resp_errorf(rs, ERR_UNAVAILABLE, NULL, "jail's host %s did not answer (%s); retry", host, f->error);
		snprintf(rs->retry_after, sizeof rs->retry_after, "1");
		forward_free(f);
		return;
	}
	rs->status = (int)f->status;
	snprintf(rs->etag, sizeof rs->etag, "%s", f->etag);
	snprintf(rs->location, sizeof rs->location, "%s", f->location);
	snprintf(rs->retry_after, sizeof rs->retry_after, "%s", f->retry_after);
	snprintf(rs->set_cookie, sizeof rs->set_cookie, "%s", f->set_cookie);
	if (f->content_type[0])
		rs->content_type = f->content_type;
	rs->stream = stream_read;
	rs->stream_free = stream_free;
	rs->stream_cls = f;
}

/* ---- a console's WebSocket, relayed to the jail's host ----
 * The handshake is the owner's: the client's upgrade request goes there as it came
 * (its key, protocol, Origin and Host, its credentials), and the owner's 101, accept
 * key and protocol come back; then the bytes go both ways untouched (the frames are
 * the client's and the owner's: masking, pings and closes included). libcurl holds the
 * connection to the owner (CONNECT_ONLY), so an https advertise works too. */

struct relay {
	CURL *curl;
	curl_socket_t up;
	char pending[8192]; /* what the owner sent after its 101, for the client first */
	size_t npending;
	char accept[32], protocol[64]; /* accept: base64 of a SHA-1, 28 bytes */
};

static int up_send(struct relay *r, const char *buf, size_t n)
{
	while (n > 0) {
		size_t sent = 0;
		CURLcode rc = curl_easy_send(r->curl, buf, n, &sent);
		if (rc == CURLE_AGAIN) {
			struct pollfd p = { r->up, POLLOUT, 0 };
			if (poll(&p, 1, 10000) <= 0)
				return -1;
			continue;
		}
		if (rc != CURLE_OK)
			return -1;
		buf += sent, n -= sent;
	}
	return 0;
}

static int client_send(int sock, const char *buf, size_t n)
{
	while (n > 0) {
		ssize_t w = send(sock, buf, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
				struct pollfd p = { sock, POLLOUT, 0 };
				if (poll(&p, 1, 10000) > 0)
					continue;
			}
			return -1;
		}
		buf += w, n -= (size_t)w;
	}
	return 0;
}

struct relay_pipe {
	struct relay *r;
	int sock;
	void *urh;
};

static void *splice_run(void *arg)
{
	struct relay_pipe *s = arg;
	struct relay *r = s->r;
	char buf[16384];
	bool open = client_send(s->sock, r->pending, r->npending) == 0;
	while (open) {
		/* drain what libcurl already has (TLS records) before waiting */
		for (;;) {
			size_t got = 0;
			CURLcode rc = curl_easy_recv(r->curl, buf, sizeof buf, &got);
			if (rc == CURLE_AGAIN)
				break;
			if (rc != CURLE_OK || got == 0 || client_send(s->sock, buf, got) < 0) {
				open = false;
				break;
			}
		}
		if (!open)
			break;
		struct pollfd p[2] = { { s->sock, POLLIN, 0 }, { r->up, POLLIN, 0 } };
		if (poll(p, 2, -1) < 0 && errno != EINTR)
			break;
		if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			ssize_t n = recv(s->sock, buf, sizeof buf, 0);
			if (n < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			if (n <= 0 || up_send(r, buf, (size_t)n) < 0)
				break;
		}
	}
	http_upgrade_close(s->urh);
	curl_easy_cleanup(r->curl);
	free(r);
	free(s);
	return NULL;
}

static void relay_upgraded(void *cls, int sock, const char *extra, size_t extra_len, void *urh)
{
	struct relay *r;
	memcpy(&r, cls, sizeof r);
	struct relay_pipe *s = malloc(sizeof *s);
	pthread_t th;
	if (!s || (extra_len && up_send(r, extra, extra_len) < 0)) {
		free(s);
		goto fail;
	}
	*s = (struct relay_pipe){ r, sock, urh };
	if (pthread_create(&th, NULL, splice_run, s) == 0) {
		pthread_detach(th);
		return;
	}
	free(s);
fail:
	http_upgrade_close(urh);
	curl_easy_cleanup(r->curl);
	free(r);
}

/* the value of header name in the head (lines "Name: value\r\n"), or "" */
static void head_value(const char *head, const char *name, char *out, size_t size)
{
	out[0] = '\0';
	size_t k = strlen(name);
	for (const char *l = strstr(head, "\r\n"); l && l[2]; l = strstr(l + 2, "\r\n")) {
		const char *p = l + 2;
		if (strncasecmp(p, name, k) == 0 && p[k] == ':') {
			p += k + 1;
			while (*p == ' ' || *p == '\t')
				p++;
			const char *end = strstr(p, "\r\n");
			snprintf(out, size, "%.*s", end ? (int)(end - p) : (int)strlen(p), p);
			return;
		}
	}
}

void http_forward_upgrade(struct request *rq, struct response *rs, const char *base, const char *host)
{
	struct MHD_Connection *c = rq->conn;
	struct relay *r = calloc(1, sizeof *r);
	if (!r || !(r->curl = curl_easy_init())) {
		free(r);
		return resp_errorf(rs, ERR_INTERNAL, NULL, "out of memory relaying to host %s", host);
	}
	char err[CURL_ERROR_SIZE] = "";
	curl_easy_setopt(r->curl, CURLOPT_URL, base);
	curl_easy_setopt(r->curl, CURLOPT_CONNECT_ONLY, 1L);
	curl_easy_setopt(r->curl, CURLOPT_CONNECTTIMEOUT_MS, 2000L);
	curl_easy_setopt(r->curl, CURLOPT_ERRORBUFFER, err);
	curl_easy_setopt(r->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(r->curl, CURLOPT_PROTOCOLS_STR, "http,https");
	if (curl_easy_perform(r->curl) != CURLE_OK || curl_easy_getinfo(r->curl, CURLINFO_ACTIVESOCKET, &r->up) != CURLE_OK) {
		resp_errorf(rs, ERR_UNAVAILABLE, NULL, "jail's host %s did not answer (%s); retry", host, err[0] ? err : "no connection");
		snprintf(rs->retry_after, sizeof rs->retry_after, "1");
		curl_easy_cleanup(r->curl);
		free(r);
		return;
	}
	/* the client's upgrade request, as it came */
	struct query_buf query = { r->curl, malloc(4096), 0, 4096 };
	if (query.q) {
		query.q[0] = '\0';
		MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, each_arg, &query);
	}
	char *req = malloc(16384);
	size_t n = 0;
	if (req)
		n = (size_t)snprintf(req, 16384, "GET %s%s HTTP/1.1\r\n", rq->path, query.q ? query.q : "");
	free(query.q);
	static const char *const ws_headers[] = { "Host", "Upgrade", "Connection", "Sec-WebSocket-Key", "Sec-WebSocket-Version",
						  "Sec-WebSocket-Protocol", "Origin", "Authorization", "Cookie", NULL };
	for (const char *const *h = ws_headers; req && *h && n < 16000; h++) {
		const char *v = MHD_lookup_connection_value(c, MHD_HEADER_KIND, *h);
		if (v && strlen(v) < 8000 && n + strlen(*h) + strlen(v) + 8 < 16000)
			n += (size_t)snprintf(req + n, 16384 - n, "%s: %s\r\n", *h, v);
	}
	if (req)
		n += (size_t)snprintf(req + n, 16384 - n, "X-Forwarded-For: %s\r\n\r\n", rq->remote ? rq->remote : "");
	char head[8192];
	size_t have = 0;
	char *end = NULL;
	if (!req || up_send(r, req, n) < 0) {
		free(req);
		goto down;
	}
	free(req);
	/* the owner's answer: its head, and whatever came with it */
	while (!(end = have ? strstr(head, "\r\n\r\n") : NULL) && have < sizeof head - 1) {
		size_t got = 0;
		CURLcode rc = curl_easy_recv(r->curl, head + have, sizeof head - 1 - have, &got);
		if (rc == CURLE_AGAIN) {
			struct pollfd p = { r->up, POLLIN, 0 };
			if (poll(&p, 1, 10000) <= 0)
				goto down;
			continue;
		}
		if (rc != CURLE_OK || got == 0)
			goto down;
		have += got;
		head[have] = '\0';
	}
	if (!end)
		goto down;
	int status = atoi(head + 9);
	size_t head_len = (size_t)(end + 4 - head);
	if (status != 101) {
		/* the owner refused (404, 401, 409...): its answer, as it gave it */
		char type[128];
		head_value(head, "Content-Type", type, sizeof type);
		rs->status = status >= 200 && status < 600 ? status : 502;
		rs->text = strndup(head + head_len, have - head_len);
		rs->text_len = have - head_len;
		if (!strncmp(type, "application/json", 16))
			rs->content_type = NULL;
		curl_easy_cleanup(r->curl);
		free(r);
		return;
	}
	r->npending = have - head_len;
	memcpy(r->pending, head + head_len, r->npending);
	head_value(head, "Sec-WebSocket-Accept", r->accept, sizeof r->accept);
	head_value(head, "Sec-WebSocket-Protocol", r->protocol, sizeof r->protocol);
	rs->status = 101;
	snprintf(rs->ws_accept, sizeof rs->ws_accept, "%s", r->accept);
	rs->ws_protocol = r->protocol[0] ? r->protocol : NULL;
	rs->upgraded = relay_upgraded;
	memcpy(rs->upgrade_cls, &r, sizeof r);
	return;
down:
	resp_errorf(rs, ERR_UNAVAILABLE, NULL, "jail's host %s did not finish the console's handshake; retry", host);
	curl_easy_cleanup(r->curl);
	free(r);
}

/* ---- many hosts asked at once ---- */

struct fetched {
	char *buf;
	size_t len;
};

static size_t on_fetched(char *data, size_t size, size_t n, void *arg)
{
	struct fetched *f = arg;
	size_t len = size * n;
	if (f->len + len > (64u << 20)) /* a listing, not a download */
		return 0;
	char *b = realloc(f->buf, f->len + len + 1);
	if (!b)
		return 0;
	memcpy(b + f->len, data, len);
	f->buf = b;
	f->len += len;
	b[f->len] = '\0';
	return len;
}

void http_fetch_each(struct request *rq, const char *const *bases, const char *const *paths, int n, int ms, char **bodies)
{
	struct MHD_Connection *c = rq->conn;
	CURLM *m = curl_multi_init();
	CURL *easy[n > 0 ? n : 1];
	struct fetched got[n > 0 ? n : 1];
	struct curl_slist *headers = NULL;
	for (const char *const *h = passed; *h; h++) {
		const char *v = MHD_lookup_connection_value(c, MHD_HEADER_KIND, *h);
		if (v && strcmp(*h, "Content-Type") != 0) {
			char line[4200];
			snprintf(line, sizeof line, "%s: %s", *h, v);
			headers = curl_slist_append(headers, line);
		}
	}
	for (int i = 0; i < n; i++) {
		bodies[i] = NULL;
		got[i] = (struct fetched){ NULL, 0 };
		char url[1200];
		snprintf(url, sizeof url, "%s%s", bases[i], paths[i]);
		easy[i] = curl_easy_init();
		if (!easy[i] || !m)
			continue;
		curl_easy_setopt(easy[i], CURLOPT_URL, url);
		curl_easy_setopt(easy[i], CURLOPT_HTTPHEADER, headers);
		curl_easy_setopt(easy[i], CURLOPT_WRITEFUNCTION, on_fetched);
		curl_easy_setopt(easy[i], CURLOPT_WRITEDATA, &got[i]);
		curl_easy_setopt(easy[i], CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(easy[i], CURLOPT_TIMEOUT_MS, (long)ms);
		curl_easy_setopt(easy[i], CURLOPT_PROTOCOLS_STR, "http,https");
		curl_multi_add_handle(m, easy[i]);
	}
	int running = 1;
	while (m && running) {
		if (curl_multi_perform(m, &running) != CURLM_OK)
			break;
		if (running)
			curl_multi_poll(m, NULL, 0, 100, NULL);
	}
	/* whole answers only: a transfer cut by its deadline may have had its 200 */
	bool whole[n > 0 ? n : 1];
	memset(whole, 0, sizeof whole);
	CURLMsg *msg;
	int left;
	while (m && (msg = curl_multi_info_read(m, &left)))
		for (int i = 0; i < n; i++)
			if (msg->msg == CURLMSG_DONE && msg->easy_handle == easy[i])
				whole[i] = msg->data.result == CURLE_OK;
	for (int i = 0; i < n; i++) {
		long status = 0;
		if (easy[i]) {
			curl_easy_getinfo(easy[i], CURLINFO_RESPONSE_CODE, &status);
			if (m)
				curl_multi_remove_handle(m, easy[i]);
			curl_easy_cleanup(easy[i]);
		}
		if (status == 200 && whole[i])
			bodies[i] = got[i].buf;
		else
			free(got[i].buf);
	}
	curl_slist_free_all(headers);
	curl_multi_cleanup(m);
}
