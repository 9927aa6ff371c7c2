#include "os/os.h"
#include "http/http.h"

#include <netinet/in.h>
#include <arpa/inet.h>
#include <microhttpd.h>
#include <sodium.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "http/lane.h"
#include "http/refusals.h"
#include "http/metrics.h"
#include "http/park.h"
#include "http/web.h"
#include "validate.h"
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <openssl/evp.h>
#include <unistd.h>

/* One token bucket per token (a fixed table: a token that shares a slot with another
 * starts afresh, which only ever errs towards letting a request through). */
#define BUCKETS 1024
struct bucket {
	int64_t token_id;
	bool bulk;
	double tokens;
	struct timespec at;
};

struct http_server {
	struct MHD_Daemon *d;
	struct http_limits lim;
	char upload_dir[256];
	const struct route *routes;
	struct store *st;
	int rate;
	pthread_mutex_t bucket_mu;
	struct bucket buckets[BUCKETS];
	bool stopping; /* under handoff_mu: nothing more is handed to a worker */
};

/* A bulk route's budget: this share of the token's rate, in bursts of half the rate
 * (at 100 a second: 5 a second, bursts of 50, for a script's snapshot-and-restore runs).
 * Each such request has the helper copy, pack or remove a file tree (and read its
 * depth first), work a token could otherwise ask for as often as for a jail's state: a
 * tenant looping on snapshots of a tree too deep to take had the helper walk it 100
 * times a second, and its neighbours' calls waited on the CPUs that took. */
#define BULK_SHARE 20

/* The longest a 429 is held before it is sent (dispatch). */
#define HOLD_MAX_MS 1000

/* 0 when the token may go on; else the seconds until it may (and *ms, if asked, the
 * milliseconds). A token has a bucket for its requests and one for its bulk requests
 * (which also count as requests). */
static int rate_check(struct http_server *h, int64_t token_id, bool bulk, int *ms)
{
	double rate = bulk ? (double)h->rate / BULK_SHARE : (double)h->rate;
	if (h->rate <= 0)
		return 0;
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	pthread_mutex_lock(&h->bucket_mu);
	struct bucket *b = &h->buckets[((uint64_t)token_id * 2 + bulk) % BUCKETS];
	double burst = bulk ? h->rate / 2.0 : 2.0 * rate;
	if (b->token_id != token_id || b->bulk != bulk) {
		b->token_id = token_id;
		b->bulk = bulk;
		b->tokens = burst;
	} else {
		double dt = (double)(now.tv_sec - b->at.tv_sec) + (double)(now.tv_nsec - b->at.tv_nsec) / 1e9;
		b->tokens = b->tokens + dt * rate > burst ? burst : b->tokens + dt * rate;
	}
	b->at = now;
	int wait = 0;
	if (b->tokens >= 1.0)
		b->tokens -= 1.0;
	else
		wait = (int)((1.0 - b->tokens) / rate) + 1;
	if (ms)
		*ms = wait ? (int)((1.0 - b->tokens) / rate * 1000.0) + 1 : 0;
	pthread_mutex_unlock(&h->bucket_mu);
	return wait;
}

/* One request, from its first header to its answer. Once whole it is handled on a
 * worker (lane.h) while its connection is suspended, and answered on the server's
 * own thread when the worker resumes it. */
struct conn_state {
	char *body;
	size_t len;
	bool too_large;
	/* an upload route's body */
	int upload_fd;
	uint64_t upload_size;
	EVP_MD_CTX *sha;
	bool upload_refused;  /* not authenticated: the body is read and dropped */
	bool refused;         /* answered 413 or 414 before any handler */
	enum { REQ_READING, REQ_HANDLING, REQ_ANSWERED } phase;
	bool gone; /* the connection ended while a worker had the request: it frees cs */
	struct lane_job job;
	struct http_server *h;
	struct MHD_Connection *c;
	struct request rq;
	struct response rs;
	char remote[INET6_ADDRSTRLEN];
};

/* Who frees a request's state: the connection's end, or the worker handling it. */
static pthread_mutex_t handoff_mu = PTHREAD_MUTEX_INITIALIZER;

static void response_clear(struct response *rs);

static void conn_free(struct conn_state *cs)
{
	response_clear(&cs->rs);
	free(cs->body);
	if (cs->upload_fd >= 0)
		close(cs->upload_fd);
	if (cs->sha)
		EVP_MD_CTX_free(cs->sha);
	free(cs);
}

/* X-Request-Id: 12 bytes of ChaCha20 keyed by a random key of this run and a
 * counter, so ids are unique and say nothing of how many requests came before,
 * without a system call per request. */
static uint8_t rid_key[randombytes_SEEDBYTES];
static atomic_uint_fast64_t rid_next;

static void request_id(char out[40])
{
	uint64_t n = atomic_fetch_add(&rid_next, 1);
	uint8_t seed[randombytes_SEEDBYTES], b[12];
	memcpy(seed, rid_key, sizeof seed);
	for (int i = 0; i < 8; i++)
		seed[i] ^= (uint8_t)(n >> (8 * i));
	randombytes_buf_deterministic(b, sizeof b, seed);
	sodium_bin2hex(out, 40, b, sizeof b);
}

void resp_json(struct response *rs, int status, json_t *body)
{
	if (rs->body)
		json_decref(rs->body);
	rs->status = status;
	rs->body = body;
}

static json_t *envelope(const char *code, const char *msg, const char *field)
{
	json_t *err = json_pack("{ssss}", "code", code, "message", msg);
	if (field && *field)
		json_object_set_new(err, "field", json_string(field));
	return json_pack("{so}", "error", err);
}

void resp_error(struct response *rs, const struct err *e)
{
	resp_json(rs, err_http_status(e->code), envelope(err_code_name(e->code), e->msg, e->field));
}

void resp_errorf(struct response *rs, enum err_code code, const char *field, const char *fmt, ...)
{
	struct err e = { .code = code };
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e.msg, sizeof e.msg, fmt, ap);
	va_end(ap);
	snprintf(e.field, sizeof e.field, "%s", field ? field : "");
	resp_error(rs, &e);
}

json_t *req_json(const struct request *rq, struct err *e)
{
	json_error_t je;
	if (rq->body_len == 0) {
		err_set(e, ERR_MALFORMED, "the request needs a JSON body");
		return NULL;
	}
	json_t *v = json_loadb(rq->body, rq->body_len, JSON_REJECT_DUPLICATES, &je);
	if (!v)
		err_set(e, ERR_MALFORMED, "malformed JSON at line %d column %d: %s", je.line, je.column, je.text);
	return v;
}

const char *req_query(const struct request *rq, const char *key)
{
	return MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND, key);
}

int req_query_count(const struct request *rq)
{
	return MHD_get_connection_values(rq->conn, MHD_GET_ARGUMENT_KIND, NULL, NULL);
}

int req_limit(const struct request *rq, struct response *rs)
{
	const char *limit = req_query(rq, "limit");
	if (!limit)
		return 100;
	char *end;
	long v = strtol(limit, &end, 10);
	if (*end || end == limit || v < 1 || v > 1000) {
		resp_errorf(rs, ERR_INVALID, "limit", "limit must be between 1 and 1000");
		return -1;
	}
	return (int)v;
}

const char *req_header(const struct request *rq, const char *name)
{
	return MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, name);
}

const char *req_cookie(const struct request *rq, const char *name)
{
	return MHD_lookup_connection_value(rq->conn, MHD_COOKIE_KIND, name);
}

_Static_assert(HTTP_STREAM_ERROR == (ssize_t)MHD_CONTENT_READER_END_WITH_ERROR, "streams end with libmicrohttpd's error value");
_Static_assert(HTTP_STREAM_END == (ssize_t)MHD_CONTENT_READER_END_OF_STREAM, "streams end with libmicrohttpd's end value");

struct upgrade {
	void (*fn)(void *cls, int sock, const char *extra, size_t extra_len, void *urh);
	char cls[64];
};

static void on_upgrade(void *cls, struct MHD_Connection *c, void *con_cls, const char *extra_in, size_t extra_in_size,
		       MHD_socket sock, struct MHD_UpgradeResponseHandle *urh)
{
	struct upgrade *u = cls;
	(void)c, (void)con_cls;
	u->fn(u->cls, sock, extra_in, extra_in_size, urh);
	free(u);
}

static int send_upgrade(struct MHD_Connection *c, struct response *rs)
{
	struct upgrade *u = malloc(sizeof *u);
	if (!u)
		return MHD_NO;
	u->fn = rs->upgraded;
	memcpy(u->cls, rs->upgrade_cls, sizeof u->cls);
	struct MHD_Response *r = MHD_create_response_for_upgrade(on_upgrade, u);
	if (!r) {
		free(u);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Upgrade", "websocket");
	MHD_add_response_header(r, "Sec-WebSocket-Accept", rs->ws_accept);
	if (rs->ws_protocol)
		MHD_add_response_header(r, "Sec-WebSocket-Protocol", rs->ws_protocol);
	MHD_add_response_header(r, "X-Request-Id", rs->request_id);
	int ret = MHD_queue_response(c, MHD_HTTP_SWITCHING_PROTOCOLS, r);
	MHD_destroy_response(r);
	return ret;
}

/* A handler's stream, pulled by libmicrohttpd on its own thread: when the stream has
 * nothing yet, the connection is suspended and parked on what the stream waits for. */
struct pump {
	struct MHD_Connection *c;
	ssize_t (*read)(void *cls, uint64_t pos, char *buf, size_t max, struct http_wait *w);
	void (*free)(void *cls);
	void *cls;
};

static ssize_t pump_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct pump *p = cls;
	struct http_wait w = { -1, -1 };
	ssize_t n = p->read(p->cls, pos, buf, max, &w);
	if (n != HTTP_STREAM_WAIT)
		return n;
	/* libmicrohttpd's pattern for "no data yet": suspend, return 0, resume later */
	MHD_suspend_connection(p->c);
	if (park(p->c, w.fd, w.ms) < 0) {
		MHD_resume_connection(p->c);
		return HTTP_STREAM_ERROR; /* the server stops */
	}
	return 0;
}

static void pump_free(void *cls)
{
	struct pump *p = cls;
	if (p->free)
		p->free(p->cls);
	free(p);
}

/* A response that was never sent (the client left first): what it holds. */
static void response_clear(struct response *rs)
{
	if (rs->stream && rs->stream_free)
		rs->stream_free(rs->stream_cls);
	rs->stream = NULL;
	json_decref(rs->body);
	rs->body = NULL;
	free(rs->text);
	rs->text = NULL;
}

static int send_response(struct MHD_Connection *c, struct response *rs)
{
	struct MHD_Response *r;
	if (rs->upgraded)
		return send_upgrade(c, rs);
	if (rs->stream) {
		struct pump *p = malloc(sizeof *p);
		if (!p)
			return MHD_NO;
		*p = (struct pump){ c, rs->stream, rs->stream_free, rs->stream_cls };
		rs->stream = NULL;
		r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, pump_read, p, pump_free);
		if (!r) {
			pump_free(p);
			return MHD_NO;
		}
	} else {
		char *text = rs->text;
		size_t len = rs->text_len;
		rs->text = NULL;
		if (!text)
			text = rs->body ? json_dumps(rs->body, JSON_COMPACT) : strdup(rs->status == 204 ? "" : "{}");
		r = MHD_create_response_from_buffer(len ? len : strlen(text), text, MHD_RESPMEM_MUST_FREE);
	}
	MHD_add_response_header(r, "Content-Type", rs->content_type ? rs->content_type : "application/json");
	MHD_add_response_header(r, "Cache-Control", rs->static_file ? "no-cache" : "no-store");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	if (rs->static_file) {
		/* nothing from elsewhere: scripts and styles are ours (xterm.js sets inline
		 * styles on its elements), connections go only back to jaild */
		MHD_add_response_header(r, "Content-Security-Policy",
					"default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
					"font-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'");
		MHD_add_response_header(r, "X-Frame-Options", "DENY");
		MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
	}
	const struct {
		const char *name, *value;
	} optional[] = {
		{ "ETag", rs->etag },
		{ "Location", rs->location },
		{ "Allow", rs->allow },
		{ "X-Request-Id", rs->request_id },
		{ "Retry-After", rs->retry_after },
		{ "Set-Cookie", rs->set_cookie },
		{ "Idempotent-Replayed", rs->replayed ? "true" : "" },
		{ "WWW-Authenticate", rs->status == 401 ? "Bearer realm=\"jaild\"" : "" },
	};
	for (size_t i = 0; i < sizeof optional / sizeof *optional; i++)
		if (optional[i].value[0])
			MHD_add_response_header(r, optional[i].name, optional[i].value);
	int ret = MHD_queue_response(c, (unsigned)rs->status, r);
	MHD_destroy_response(r);
	if (rs->body)
		json_decref(rs->body);
	rs->body = NULL;
	return ret;
}

/* Matches path against pattern, capturing '*' segments. */
static bool match(const char *pattern, const char *path, char params[2][128])
{
	int np = 0;
	while (*pattern && *path) {
		if (*pattern == '*') {
			const char *end = strchr(path, '/');
			size_t n = end ? (size_t)(end - path) : strlen(path);
			if (n == 0 || n >= 128 || np == 2)
				return false;
			memcpy(params[np], path, n);
			params[np++][n] = '\0';
			path += n;
			pattern++;
			continue;
		}
		if (*pattern != *path)
			return false;
		pattern++;
		path++;
	}
	return *pattern == '\0' && *path == '\0';
}

/* Idle seconds before a connection is closed: short until it has authenticated (a
 * slow unauthenticated client holds nothing for long), longer after. */
#define UNAUTH_IDLE_SECONDS 30
#define AUTH_IDLE_SECONDS 300

/* The longer idle timeout, once a request on the connection has authenticated; set
 * on the server's thread (never on a worker, while the connection is suspended). */
static void authenticated(struct MHD_Connection *c, const struct request *rq)
{
	if (rq->who.id || rq->who.user_id || rq->who.role[0])
		MHD_set_connection_option(c, MHD_CONNECTION_OPTION_TIMEOUT, (unsigned)AUTH_IDLE_SECONDS);
}

/* A Bearer token, or a browser session's cookie. A cookie session must echo its CSRF
 * token in X-CSRF-Token on anything but GET: a page elsewhere can make the browser
 * send the cookie, but cannot read the token. */
static int authenticate(struct http_server *h, struct MHD_Connection *c, struct request *rq, struct response *rs)
{
	const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
	const char *cookie = MHD_lookup_connection_value(c, MHD_COOKIE_KIND, SESSION_COOKIE);
	struct err e;
	uint8_t hash[crypto_hash_sha256_BYTES];
	/* a browser's WebSocket cannot set Authorization: it offers the token as the
	 * subprotocol "jaild.bearer.TOKEN" beside "jaild" (the one the server picks) */
	char proto_token[200] = "";
	const char *protos = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Sec-WebSocket-Protocol");
	const char *pt = protos ? strstr(protos, "jaild.bearer.") : NULL;
	if (!auth && pt) {
		size_t n = strcspn(pt + 13, ", ");
		snprintf(proto_token, sizeof proto_token, "Bearer %.*s", (int)(n < 180 ? n : 180), pt + 13);
		auth = proto_token;
	}
	if (auth && strncmp(auth, "Bearer ", 7) == 0) {
		const char *secret = auth + 7;
		crypto_hash_sha256(hash, (const unsigned char *)secret, strlen(secret));
		if (store_token_lookup(h->st, hash, &rq->who, &e) == 0)
			return 0;
		if (e.code != ERR_NOT_FOUND) {
			resp_error(rs, &e);
			return -1;
		}
		resp_json(rs, 401, envelope("unauthorized", "the token is not valid (unknown, revoked or expired)", NULL));
		return -1;
	}
	if (cookie && *cookie) {
		crypto_hash_sha256(hash, (const unsigned char *)cookie, strlen(cookie));
		if (store_session_lookup(h->st, hash, &rq->who, &e) < 0) {
			resp_json(rs, 401, envelope("session_expired", "the session has ended; log in again", NULL));
			return -1;
		}
		if (strcmp(rq->method, "GET") != 0 && strcmp(rq->method, "HEAD") != 0) {
			const char *csrf = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-CSRF-Token");
			if (!csrf || strlen(csrf) != strlen(rq->who.csrf) || sodium_memcmp(csrf, rq->who.csrf, strlen(csrf)) != 0) {
				resp_errorf(rs, ERR_FORBIDDEN, "X-CSRF-Token", "a change from a browser session needs the session's CSRF token in X-CSRF-Token");
				return -1;
			}
		}
		return 0;
	}
	resp_json(rs, 401, envelope("unauthorized", "this route needs 'Authorization: Bearer TOKEN' (the admin token is in DATA_DIR/admin.token) or a login session", NULL));
	return -1;
}

/* ADDR or ADDR/PREFIX into family, bytes and prefix length. */
static bool cidr_parse(const char *text, int *family, unsigned char addr[16], int *prefix)
{
	char host[64];
	const char *slash = strchr(text, '/');
	size_t n = slash ? (size_t)(slash - text) : strlen(text);
	if (n == 0 || n >= sizeof host)
		return false;
	memcpy(host, text, n);
	host[n] = '\0';
	*family = strchr(host, ':') ? AF_INET6 : AF_INET;
	if (inet_pton(*family, host, addr) != 1)
		return false;
	int max = *family == AF_INET ? 32 : 128;
	*prefix = max;
	if (slash) {
		char *end;
		long p = strtol(slash + 1, &end, 10);
		if (*end || end == slash + 1 || p < 0 || p > max)
			return false;
		*prefix = (int)p;
	}
	return true;
}

bool http_cidr_valid(const char *text)
{
	int f, p;
	unsigned char a[16];
	return cidr_parse(text, &f, a, &p);
}

/* Whether the client's address is one .open_to_list routes answer without a token. */
static bool open_to(const struct http_server *h, const char *remote)
{
	int rf, f, p;
	unsigned char ra[16], a[16];
	if (!remote || !*remote || !cidr_parse(remote, &rf, ra, &p))
		return false;
	for (int i = 0; i < h->lim.nopen_to; i++) {
		if (!cidr_parse(h->lim.open_to[i], &f, a, &p) || f != rf)
			continue;
		int full = p / 8, rest = p % 8;
		if (memcmp(a, ra, (size_t)full) == 0 && (rest == 0 || ((a[full] ^ ra[full]) & (0xff << (8 - rest))) == 0))
			return true;
	}
	return false;
}

/* Every request that may change something is written to the audit log, whatever its
 * outcome (a refused token or a 404 included): who, what, when, from where, result. */
static void audit(struct http_server *h, const struct request *rq, int status)
{
	if (strcmp(rq->method, "GET") != 0 && strcmp(rq->method, "HEAD") != 0)
		http_audit(h->st, rq, status, NULL);
}

void http_audit(struct store *st, const struct request *rq, int status, const char *link)
{
	struct audit_row a = { .token_id = rq->who.id, .tenant_id = rq->who.tenant_id, .status = status };
	store_now(a.at);
	snprintf(a.request_id, sizeof a.request_id, "%s", rq->request_id);
	if (rq->who.id)
		snprintf(a.actor, sizeof a.actor, "token:%lld %s", (long long)rq->who.id, rq->who.name);
	else if (rq->who.user_id)
		snprintf(a.actor, sizeof a.actor, "user:%.40s/%.40s", rq->who.tenant, rq->who.name);
	else
		snprintf(a.actor, sizeof a.actor, "anonymous");
	snprintf(a.action, sizeof a.action, "%s %s", rq->method, rq->route ? rq->route : "?");
	snprintf(a.target, sizeof a.target, "%.255s", rq->path);
	snprintf(a.source, sizeof a.source, "%s", rq->remote ? rq->remote : "");
	snprintf(a.link, sizeof a.link, "%s", link ? link : "");
	/* a refusal (no token, or past its rate) may be folded into others like it; the
	 * windows that are over are written first (at most once a second) */
	refusals_flush(st, false);
	if ((status == 401 || status == 429) && refusal_fold(st, &a))
		return;
	struct err e;
	if (store_audit_add(st, &a, &e) < 0)
		log_error("audit: %s (request %s)", e.msg, rq->request_id);
}

static enum MHD_Result hash_arg(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	(void)kind;
	crypto_hash_sha256_update(cls, (const unsigned char *)key, strlen(key) + 1);
	if (value)
		crypto_hash_sha256_update(cls, (const unsigned char *)value, strlen(value) + 1);
	return MHD_YES;
}

/* Idempotency-Key on a POST: the first answer (unless a 5xx) is kept for a day and
 * replayed to a retry of the same request; the same key on another request is a 422,
 * and a retry while the first still runs a 409. */
static void idempotent(struct http_server *h, struct MHD_Connection *c, const struct route *r, const char *key,
		       struct request *rq, struct response *rs)
{
	size_t n = strlen(key);
	bool ok = n >= 1 && n <= 255;
	for (size_t i = 0; ok && i < n; i++)
		ok = key[i] > 0x20 && key[i] < 0x7f;
	if (!ok)
		return resp_errorf(rs, ERR_INVALID, "Idempotency-Key", "Idempotency-Key must be 1 to 255 printable ASCII characters");
	crypto_hash_sha256_state hs;
	uint8_t hash[32];
	crypto_hash_sha256_init(&hs);
	crypto_hash_sha256_update(&hs, (const unsigned char *)rq->method, strlen(rq->method) + 1);
	crypto_hash_sha256_update(&hs, (const unsigned char *)rq->path, strlen(rq->path) + 1);
	MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, hash_arg, &hs);
	crypto_hash_sha256_update(&hs, (const unsigned char *)(rq->body ? rq->body : ""), rq->body_len);
	crypto_hash_sha256_final(&hs, hash);
	struct idem_row found = { 0 };
	struct err e;
	if (store_idem_begin(h->st, rq->who.id, key, hash, &found, &e) < 0) {
		if (e.code != ERR_CONFLICT)
			resp_error(rs, &e);
		else if (sodium_memcmp(found.request_hash, hash, 32) != 0)
			resp_errorf(rs, ERR_INVALID, "Idempotency-Key", "this Idempotency-Key was used for a different request; use a new key");
		else if (found.status == 0)
			resp_errorf(rs, ERR_BUSY, NULL, "the first request with this Idempotency-Key is still running; retry shortly");
		else {
			rs->status = found.status;
			rs->text = found.response ? found.response : strdup("");
			found.response = NULL;
			snprintf(rs->location, sizeof rs->location, "%s", found.location);
			snprintf(rs->etag, sizeof rs->etag, "%s", found.etag);
			rs->replayed = true;
		}
		free(found.response);
		return;
	}
	r->fn(rq, rs);
	if (!rs->text) {
		rs->text = json_dumps(rs->body ? rs->body : json_object(), JSON_COMPACT);
		if (rs->body)
			json_decref(rs->body);
		rs->body = NULL;
	}
	if (rs->status >= 500 || store_idem_finish(h->st, rq->who.id, key, rs->status, rs->text, rs->location, rs->etag, &e) < 0)
		store_idem_abort(h->st, rq->who.id, key);
}

/* The route's access flags, in one place: false once rs holds the refusal. */
static bool route_allows(const struct route *r, const struct request *rq, struct response *rs)
{
	if (!r->admin || strcmp(rq->who.role, "admin") == 0)
		return true;
	if (r->tenants_told)
		resp_errorf(rs, ERR_FORBIDDEN, NULL, "%s", r->tenants_told);
	else
		resp_errorf(rs, ERR_NOT_FOUND, NULL, "no route %s %s", rq->method, rq->path);
	return false;
}

/* A request for a jail that lives on another host goes there (true: rs is answered).
 * The owner checks the caller again; this host only keeps a tenant from learning,
 * through the 503 of a host that is down, that another tenant's jail exists. */
static bool elsewhere(struct http_server *h, struct request *rq, struct response *rs)
{
	if (strncmp(rq->route, "/api/jails/*", 12) != 0 || !valid_name(rq->params[0]))
		return false;
	struct jail_row row = { 0 };
	struct err e;
	if (store_jail_get(h->st, rq->params[0], &row, &e) < 0 || row.host_id == 0 || row.host_id == store_host_id(h->st) ||
	    (strcmp(rq->who.role, "admin") != 0 && row.tenant_id != rq->who.tenant_id)) {
		jail_row_clear(&row);
		return false; /* this host answers: its own jail, or a 404 */
	}
	struct host_row host;
	int rc = store_host_get(h->st, row.host, &host, &e);
	jail_row_clear(&row);
	if (rc < 0) {
		resp_error(rs, &e);
		return true;
	}
	if (host.silent_for <= h->lim.host_timeout) {
		if (strcmp(rq->route, "/api/jails/*/console") == 0)
			http_forward_upgrade(rq, rs, host.advertise, host.name);
		else
			http_forward(rq, rs, host.advertise, host.name);
		return true;
	}
	/* its host is down: reads answer from the store (as unreachable), changes wait */
	if (strcmp(rq->method, "GET") == 0 && strcmp(rq->route, "/api/jails/*") == 0)
		return false;
	resp_errorf(rs, ERR_UNAVAILABLE, NULL,
		    "jail %s lives on host %s, which has not been heard from for %lld s; it is unreachable until that host is back",
		    rq->params[0], host.name, (long long)host.silent_for);
	snprintf(rs->retry_after, sizeof rs->retry_after, "%d", h->lim.host_timeout > 0 ? h->lim.host_timeout : 10);
	return true;
}

static void dispatch(struct http_server *h, struct MHD_Connection *c, struct request *rq, struct response *rs)
{
	char allow[64] = "";
	const struct route *found = NULL;
	for (const struct route *r = h->routes; r->method; r++) {
		char params[2][128];
		if (!match(r->pattern, rq->path, params))
			continue;
		if (strcmp(r->method, rq->method) == 0) {
			found = r;
			memcpy(rq->params, params, sizeof params);
			rq->route = r->pattern;
			break;
		}
		if (!strstr(allow, r->method)) {
			size_t n = strlen(allow);
			snprintf(allow + n, sizeof allow - n, "%s%s", n ? ", " : "", r->method);
		}
	}
	if (!found) {
		if (allow[0]) {
			snprintf(rs->allow, sizeof rs->allow, "%s", allow);
			resp_json(rs, 405, envelope("method_not_allowed", "this route does not take that method; see the Allow header", NULL));
		} else if (!web_serve(rq, rs)) {
			resp_errorf(rs, ERR_NOT_FOUND, NULL, "no route %s %s", rq->method, rq->path);
		}
		return;
	}
	if (found->open_to_list && open_to(h, rq->remote)) {
		snprintf(rq->who.role, sizeof rq->who.role, "admin"); /* a scraper the admin let in */
		snprintf(rq->who.name, sizeof rq->who.name, "metrics-allow");
		return found->fn(rq, rs);
	}
	if (!found->public_ && authenticate(h, c, rq, rs) < 0) {
		http_metrics_auth_failed();
		return;
	}
	if (!route_allows(found, rq, rs))
		return;
	int64_t bucket = rq->who.id ? rq->who.id : -rq->who.user_id;
	int ms = 0;
	int wait = found->public_ ? 0 : rate_check(h, bucket, false, &ms);
	int bulk_wait = found->bulk && !wait ? rate_check(h, bucket, true, &ms) : 0;
	/* the refusal is sent when the token's next request could be served (at most a
	 * second on): a client that loops on 429s, on one connection, asks no faster than
	 * its budget; answered at once, a tenant's loop kept a CPU of ours busy refusing
	 * it, 4,000 times a second, while its neighbours' calls waited */
	rs->hold_ms = ms < HOLD_MAX_MS ? ms : HOLD_MAX_MS;
	if (bulk_wait) {
		http_metrics_rate_limited();
		resp_errorf(rs, ERR_RATE, NULL, "too many snapshot, restore, export and import requests for this token (%g a second); retry in %d s",
			    (double)h->rate / BULK_SHARE, bulk_wait);
		snprintf(rs->retry_after, sizeof rs->retry_after, "%d", bulk_wait);
		return;
	}
	if (wait) {
		http_metrics_rate_limited();
		resp_errorf(rs, ERR_RATE, NULL, "too many requests for this token (%d a second); retry in %d s", h->rate, wait);
		snprintf(rs->retry_after, sizeof rs->retry_after, "%d", wait);
		return;
	}
	if (elsewhere(h, rq, rs))
		return;
	const char *key = strcmp(rq->method, "POST") == 0 ? MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Idempotency-Key") : NULL;
	if (key && rq->who.id)
		idempotent(h, c, found, key, rq, rs);
	else
		found->fn(rq, rs);
}

static const struct route *find_route(struct http_server *h, const char *method, const char *url)
{
	char params[2][128];
	const char *q = strchr(url, '?');
	char path[MAX_URI + 1];
	snprintf(path, sizeof path, "%.*s", q ? (int)(q - url) : (int)strlen(url), url);
	for (const struct route *r = h->routes; r->method; r++)
		if (strcmp(r->method, method) == 0 && match(r->pattern, path, params))
			return r;
	return NULL;
}

/* An upload's body goes to an unnamed file in the data dir, hashed as it comes. A
 * caller that is not authenticated has its body dropped (the answer is a 401). */
static void begin_upload(struct http_server *h, struct MHD_Connection *c, const struct route *r, struct conn_state *cs)
{
	if (!r->public_) {
		struct request rq = { .method = "POST", .path = "", .conn = c };
		struct response rs = { 0 };
		/* a caller the route refuses sends its body for nothing: it is dropped */
		if (authenticate(h, c, &rq, &rs) < 0 || !route_allows(r, &rq, &rs))
			cs->upload_refused = true;
		else
			authenticated(c, &rq);
		if (rs.body)
			json_decref(rs.body);
	}
	cs->upload_fd = os_anon_file(h->upload_dir);
	cs->sha = EVP_MD_CTX_new();
	if (cs->upload_fd < 0 || !cs->sha || EVP_DigestInit_ex(cs->sha, EVP_sha256(), NULL) != 1) {
		log_error("upload: cannot make a file in %s: %s", h->upload_dir, strerror(errno));
		cs->too_large = true;
	}
}

struct fd_stream {
	int fd;
	bool seekable;
};

static ssize_t fd_read(void *cls, uint64_t pos, char *buf, size_t max, struct http_wait *w)
{
	struct fd_stream *f = cls;
	ssize_t n;
	/* a pipe or socket with nothing yet: wait for it, off this thread */
	struct pollfd p = { .fd = f->fd, .events = POLLIN };
	if (!f->seekable && poll(&p, 1, 0) == 0) {
		w->fd = f->fd;
		return HTTP_STREAM_WAIT;
	}
	do
		n = f->seekable ? pread(f->fd, buf, max, (off_t)pos) : read(f->fd, buf, max);
	while (n < 0 && errno == EINTR);
	return n > 0 ? n : n == 0 ? (ssize_t)MHD_CONTENT_READER_END_OF_STREAM : (ssize_t)MHD_CONTENT_READER_END_WITH_ERROR;
}

static void fd_free(void *cls)
{
	struct fd_stream *f = cls;
	close(f->fd);
	free(f);
}

void resp_fd(struct response *rs, int status, int fd, const char *content_type)
{
	struct fd_stream *f = malloc(sizeof *f);
	if (!f) {
		close(fd);
		return resp_errorf(rs, ERR_INTERNAL, NULL, "out of memory");
	}
	f->fd = fd;
	f->seekable = lseek(fd, 0, SEEK_CUR) >= 0;
	rs->status = status;
	rs->stream = fd_read;
	rs->stream_free = fd_free;
	rs->stream_cls = f;
	rs->content_type = content_type;
}

json_t *req_upload_json(const struct request *rq, struct err *e)
{
	if (rq->upload_fd < 0 || rq->upload_size > MAX_BODY)
		return err_set(e, ERR_MALFORMED, "a JSON body must be at most 1 MiB"), NULL;
	char *text = malloc(rq->upload_size + 1);
	ssize_t n = text ? pread(rq->upload_fd, text, rq->upload_size, 0) : -1;
	json_t *j = NULL;
	if (n == (ssize_t)rq->upload_size) {
		text[n] = '\0';
		struct request copy = *rq;
		copy.body = text;
		copy.body_len = (size_t)n;
		j = req_json(&copy, e);
	} else {
		err_set(e, ERR_INTERNAL, "reading the request body back");
	}
	free(text);
	return j;
}

/* GET with If-None-Match naming the answer's own ETag: 304 and no body (a client that
 * polls a jail learns "nothing changed" for a few bytes). */
static void not_modified(struct MHD_Connection *c, const struct request *rq, struct response *rs)
{
	if (strcmp(rq->method, "GET") != 0 || rs->status != 200 || !rs->etag[0] || rs->stream || rs->static_file)
		return;
	const char *inm = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "If-None-Match");
	if (!inm || (strcmp(inm, rs->etag) != 0 && strcmp(inm, "*") != 0))
		return;
	rs->status = 304;
	json_decref(rs->body);
	rs->body = NULL;
	free(rs->text);
	rs->text = strdup("");
	rs->text_len = 0;
}

static void observe(const struct request *rq, const struct response *rs, const struct timespec *t0)
{
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	http_metrics_observe(rq->route, rq->method, rs->status ? rs->status : 200,
			     (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9);
}

/* A route's fast handler, for a Bearer token the store's memory knows: the answer
 * from memory, on this thread. Anything else (a session, a token not in memory, a
 * refusal, a rate limit, a miss) goes the usual way, on a worker. */
static bool answer_fast(struct http_server *h, struct MHD_Connection *c, struct request *rq, struct response *rs)
{
	const struct route *r = h->routes;
	for (; r->method; r++)
		if (r->fast && strcmp(r->method, rq->method) == 0 && match(r->pattern, rq->path, rq->params))
			break;
	const char *auth = r->method ? MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization") : NULL;
	if (!auth || strncmp(auth, "Bearer ", 7) != 0)
		return false;
	uint8_t hash[crypto_hash_sha256_BYTES];
	crypto_hash_sha256(hash, (const unsigned char *)auth + 7, strlen(auth + 7));
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rq->route = r->pattern;
	if (store_token_cached(h->st, hash, &rq->who) && (!r->admin || strcmp(rq->who.role, "admin") == 0) && r->fast(rq, rs)) {
		if (rate_check(h, rq->who.id, false, NULL) == 0) {
			observe(rq, rs, &t0);
			return true;
		}
		response_clear(rs); /* the worker answers 429 */
	}
	*rs = (struct response){ .status = 200 };
	memset(&rq->who, 0, sizeof rq->who);
	rq->route = NULL;
	return false;
}

/* Everything about the request that its handler reads, taken on the server's thread. */
static void request_prepare(struct conn_state *cs, struct MHD_Connection *c, const char *method, const char *url)
{
	struct request *rq = &cs->rq;
	*rq = (struct request){ .method = method, .path = url, .conn = c, .body = cs->body, .body_len = cs->len,
				.upload_fd = cs->upload_fd, .upload_size = cs->upload_size };
	cs->rs = (struct response){ .status = 200 };
	rq->content_type = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
	if (cs->sha) {
		unsigned char md[32];
		unsigned int mdlen = 0;
		EVP_DigestFinal_ex(cs->sha, md, &mdlen);
		sodium_bin2hex(rq->upload_sha256, sizeof rq->upload_sha256, md, 32);
		EVP_MD_CTX_free(cs->sha);
		cs->sha = NULL;
		lseek(cs->upload_fd, 0, SEEK_SET);
	}
	rq->if_match = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "If-Match");
	request_id(rq->request_id);
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci && ci->client_addr) {
		const struct sockaddr *sa = ci->client_addr;
		if (sa->sa_family == AF_INET)
			inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, cs->remote, sizeof cs->remote);
		else if (sa->sa_family == AF_INET6)
			inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, cs->remote, sizeof cs->remote);
	}
	rq->remote = cs->remote;
}

/* On a worker: the request's handler, which may block. */
static void handle(struct lane_job *job)
{
	struct conn_state *cs = (struct conn_state *)(void *)((char *)job - offsetof(struct conn_state, job));
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (!cs->refused) {
		dispatch(cs->h, cs->c, &cs->rq, &cs->rs);
		observe(&cs->rq, &cs->rs, &t0);
	}
	audit(cs->h, &cs->rq, cs->rs.status);
	pthread_mutex_lock(&handoff_mu);
	bool gone = cs->gone, resume = cs->phase == REQ_HANDLING;
	cs->phase = REQ_ANSWERED;
	/* a held 429 waits parked (no thread), and is sent when park resumes it */
	if (!gone && resume && !(cs->rs.status == 429 && cs->rs.hold_ms > 0 && park(cs->c, -1, cs->rs.hold_ms) == 0))
		MHD_resume_connection(cs->c);
	pthread_mutex_unlock(&handoff_mu);
	if (gone)
		conn_free(cs);
}

/* On the server's thread: the answer a worker (or the fast path) made. */
static enum MHD_Result answer(struct MHD_Connection *c, struct conn_state *cs)
{
	authenticated(c, &cs->rq);
	not_modified(c, &cs->rq, &cs->rs);
	snprintf(cs->rs.request_id, sizeof cs->rs.request_id, "%s", cs->rq.request_id);
	return send_response(c, &cs->rs) ? MHD_YES : MHD_NO;
}

/* A whole request: refused at once, answered from memory by its route's fast
 * handler, or handed to a worker while its connection is suspended. */
static enum MHD_Result handle_or_hand_over(struct http_server *h, struct MHD_Connection *c, struct conn_state *cs,
					   const char *method, const char *url)
{
	request_prepare(cs, c, method, url);
	/* refused unread; the worker writes the audit entry (a store write) */
	cs->refused = true;
	if (cs->too_large) {
		resp_json(&cs->rs, 413, envelope("body_too_large", cs->upload_fd >= 0 ? "the upload is larger than 64 GiB, or the server's disk is full"
											  : "the request body is larger than 1 MiB", NULL));
	} else if (strlen(url) > MAX_URI) {
		resp_json(&cs->rs, 414, envelope("uri_too_long", "the request URI is longer than 2048 bytes", NULL));
	} else {
		cs->refused = false;
	}
	if (cs->refused || !answer_fast(h, c, &cs->rq, &cs->rs)) {
		cs->h = h;
		cs->c = c;
		cs->job.fn = handle;
		pthread_mutex_lock(&handoff_mu);
		bool handed = !h->stopping;
		if (handed) {
			cs->phase = REQ_HANDLING;
			MHD_suspend_connection(c);
			if (lane_submit(&cs->job) < 0) {
				MHD_resume_connection(c);
				handed = false;
			}
		}
		pthread_mutex_unlock(&handoff_mu);
		if (handed)
			return MHD_YES;
		response_clear(&cs->rs);
		resp_errorf(&cs->rs, ERR_UNAVAILABLE, NULL, "the server is stopping, or cannot start a thread for this request; retry");
	}
	audit(h, &cs->rq, cs->rs.status);
	cs->phase = REQ_ANSWERED;
	return answer(c, cs);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
				  const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
	struct http_server *h = cls;
	(void)version;
	struct conn_state *cs = *con_cls;
	if (!cs) {
		cs = calloc(1, sizeof *cs);
		if (!cs)
			return MHD_NO;
		*con_cls = cs;
		cs->upload_fd = -1;
		const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
		const struct route *r = find_route(h, method, url);
		if (r && r->upload) {
			begin_upload(h, c, r, cs);
			if (cl && strtoull(cl, NULL, 10) > MAX_UPLOAD)
				cs->too_large = true;
		} else if (cl && strtoull(cl, NULL, 10) > MAX_BODY) {
			cs->too_large = true;
		}
		/* a body announced too large is answered 413 now, headers only, whether or
		 * not the client asked for 100-continue (the rest of it is never read) */
		if (!cs->too_large)
			return MHD_YES;
	}
	if (cs->phase == REQ_ANSWERED)
		return answer(c, cs);
	if (cs->phase == REQ_HANDLING)
		return MHD_YES; /* resumed early: the server stops */
	if (*upload_size && cs->upload_fd >= 0) {
		if (!cs->too_large && !cs->upload_refused) {
			for (size_t off = 0; off < *upload_size;) {
				ssize_t w = write(cs->upload_fd, upload + off, *upload_size - off);
				if (w <= 0) {
					cs->too_large = true; /* out of disk: answered 413 with the reason logged */
					log_error("upload: writing the body: %s", strerror(errno));
					break;
				}
				off += (size_t)w;
			}
			EVP_DigestUpdate(cs->sha, upload, *upload_size);
			cs->upload_size += *upload_size;
			if (cs->upload_size > MAX_UPLOAD)
				cs->too_large = true;
		}
		*upload_size = 0;
		return MHD_YES;
	}
	if (*upload_size) {
		if (!cs->too_large && cs->len + *upload_size <= MAX_BODY) {
			char *n = realloc(cs->body, cs->len + *upload_size + 1);
			if (!n)
				return MHD_NO;
			cs->body = n;
			memcpy(cs->body + cs->len, upload, *upload_size);
			cs->len += *upload_size;
			cs->body[cs->len] = '\0';
		} else {
			cs->too_large = true;
		}
		*upload_size = 0;
		return MHD_YES;
	}
	return handle_or_hand_over(h, c, cs, method, url);
}

static void on_done(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe)
{
	(void)cls, (void)c, (void)toe;
	struct conn_state *cs = *con_cls;
	*con_cls = NULL;
	if (!cs)
		return;
	pthread_mutex_lock(&handoff_mu);
	bool handling = cs->phase == REQ_HANDLING;
	cs->gone = handling; /* the worker frees it when its handler returns */
	pthread_mutex_unlock(&handoff_mu);
	if (!handling)
		conn_free(cs);
}

static int parse_listen(const char *listen, struct sockaddr_storage *ss, struct err *e)
{
	char host[128];
	const char *colon = strrchr(listen, ':');
	if (!colon)
		return err_set(e, ERR_INVALID, "--listen %s: expected ADDR:PORT", listen);
	char *end;
	unsigned long port = strtoul(colon + 1, &end, 10);
	if (*end || port == 0 || port > 65535)
		return err_set(e, ERR_INVALID, "--listen %s: bad port", listen);
	size_t n = (size_t)(colon - listen);
	if (n >= sizeof host)
		return err_set(e, ERR_INVALID, "--listen %s: address too long", listen);
	memcpy(host, listen, n);
	host[n] = '\0';
	memset(ss, 0, sizeof *ss);
	if (host[0] == '[' && n > 2 && host[n - 1] == ']') {
		host[n - 1] = '\0';
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		if (inet_pton(AF_INET6, host + 1, &s6->sin6_addr) == 1)
			return 0;
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		if (inet_pton(AF_INET, host, &s4->sin_addr) == 1)
			return 0;
	}
	return err_set(e, ERR_INVALID, "--listen %s: not an IPv4 address or [IPv6] address", listen);
}

struct http_server *http_start(const char *listen, const char *upload_dir, const struct route *routes, struct store *st,
			       const struct http_limits *lim, const char *tls_cert_pem, const char *tls_key_pem, struct err *e)
{
	struct sockaddr_storage ss;
	if (parse_listen(listen, &ss, e))
		return NULL;
	struct http_server *h = calloc(1, sizeof *h);
	h->routes = routes;
	snprintf(h->upload_dir, sizeof h->upload_dir, "%s", upload_dir);
	h->st = st;
	h->rate = lim->rate;
	h->lim = *lim;
	pthread_mutex_init(&h->bucket_mu, NULL);
	randombytes_buf(rid_key, sizeof rid_key);
	if (park_start() < 0) {
		free(h);
		err_set(e, ERR_INTERNAL, "cannot start the HTTP server's stream thread: %s", strerror(errno));
		return NULL;
	}
	/* a thread per CPU over epoll (poll or kqueue elsewhere: MHD_USE_AUTO), never
	 * select: descriptors past FD_SETSIZE are served like any other */
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG |
			 MHD_ALLOW_UPGRADE | (ss.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0) | (tls_cert_pem ? MHD_USE_TLS : 0);
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned threads = cpus < 2 ? 2 : cpus > 16 ? 16 : (unsigned)cpus;
	struct MHD_OptionItem tls[] = {
		{ tls_cert_pem ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, 0, (void *)tls_cert_pem },
		{ MHD_OPTION_HTTPS_MEM_KEY, 0, (void *)tls_key_pem },
		{ MHD_OPTION_END, 0, NULL },
	};
	h->d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, h,
				MHD_OPTION_ARRAY, tls,
				MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
				MHD_OPTION_NOTIFY_COMPLETED, on_done, h,
				/* a slow client (slowloris) holds at most per_source connections,
				 * and an idle one that has not authenticated goes after 30 s */
				MHD_OPTION_CONNECTION_LIMIT, (unsigned)1000,
				MHD_OPTION_PER_IP_CONNECTION_LIMIT, lim->per_source,
				MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)UNAUTH_IDLE_SECONDS,
				MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024),
				MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned)1,
				MHD_OPTION_THREAD_POOL_SIZE, threads,
				MHD_OPTION_END);
	if (!h->d) {
		free(h);
		err_set(e, ERR_INTERNAL, "cannot listen on %s (in use, or not an address of this host?)", listen);
		return NULL;
	}
	return h;
}

void http_stop(struct http_server *h)
{
	if (!h)
		return;
	/* no new connections; parked streams end; requests on workers get a few seconds.
	 * libmicrohttpd must not be stopped with a connection suspended, so one still
	 * handled after that is left to the process's exit. */
	MHD_socket ls = MHD_quiesce_daemon(h->d);
	pthread_mutex_lock(&handoff_mu);
	h->stopping = true;
	pthread_mutex_unlock(&handoff_mu);
	park_stop();
	for (int i = 0; i < 50 && lane_busy() > 0; i++)
		usleep(100 * 1000);
	if (lane_busy() > 0) {
		log_warn("http: %d requests still running at shutdown; not waiting for them", lane_busy());
		return;
	}
	MHD_stop_daemon(h->d);
	if (ls != MHD_INVALID_SOCKET)
		close(ls);
	refusals_flush(h->st, true);
	free(h);
}

void http_upgrade_close(void *urh)
{
	MHD_upgrade_action(urh, MHD_UPGRADE_ACTION_CLOSE);
}
