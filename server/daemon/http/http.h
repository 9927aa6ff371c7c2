/* http.h — libmicrohttpd underneath, requests and responses as plain structs above.
 * A few event threads (epoll) read and answer every connection; a handler runs on a
 * worker of its own while its connection waits suspended (lane.h), so a slow privileged
 * operation holds only its own request; a route's fast handler may answer from memory
 * on the event thread instead. A stream with nothing to send parks its connection
 * (park.h) and holds no thread. */
#ifndef JAILD_HTTP_H
#define JAILD_HTTP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "err.h"
#include "store/store.h"

#define MAX_BODY (1u << 20)   /* 413 above this */
#define MAX_URI 2048          /* 414 above this */
#define SESSION_COOKIE "jaild_session"

struct request {
	const char *method;
	const char *path;       /* without the query string */
	const char *if_match;   /* header or NULL */
	const char *remote;     /* client address text */
	void *conn;             /* struct MHD_Connection */
	const char *body;
	size_t body_len;
	char params[2][128];    /* the '*' segments of the route, in order */
	struct token_info who;  /* who.id is 0 until the token is checked */
	char request_id[40];    /* also sent as X-Request-Id */
	const char *route;      /* the matched route's pattern, NULL if none */
	/* upload routes: the body, written to an unnamed file as it came (never whole in
	 * memory), with its size and SHA-256; upload_fd is -1 on other routes */
	int upload_fd;
	uint64_t upload_size;
	char upload_sha256[65];
	const char *content_type;
};

/* What a stream with nothing to send yet waits for: fd readable (-1: none), or ms
 * milliseconds (-1: no limit), whichever comes first. */
struct http_wait {
	int fd;
	int ms;
};

struct response {
	int status;
	json_t *body;           /* owned */
	char etag[40];
	char location[192];
	char allow[64];
	char *text;             /* owned; plain body instead of JSON */
	size_t text_len;        /* of text, when it may hold NUL (0: strlen) */
	bool static_file;       /* the web console: revalidated caching and its security headers */
	char request_id[40];
	bool replayed;          /* answered from an earlier request's Idempotency-Key */
	char retry_after[24];
	int hold_ms;            /* a 429: sent this long after it is decided (server.c) */
	char set_cookie[256];
	/* a stream instead of a body (server-sent events): pulled on the server's event
	 * thread until it ends, so it must not block; returns the bytes it put in buf,
	 * HTTP_STREAM_END when it is whole, HTTP_STREAM_ERROR to cut the response off, or
	 * HTTP_STREAM_WAIT with *w saying what to wait for before it is pulled again */
	ssize_t (*stream)(void *cls, uint64_t pos, char *buf, size_t max, struct http_wait *w);
	void (*stream_free)(void *cls);
	void *stream_cls;
	const char *content_type;
	/* a WebSocket upgrade (101) instead of a body: once the handshake is sent the
	 * socket goes to upgraded, which owns it and ends it with http_upgrade_close(urh) */
	void (*upgraded)(void *cls, int sock, const char *extra, size_t extra_len, void *urh);
	char upgrade_cls[64];
	char ws_accept[32];
	const char *ws_protocol;  /* the subprotocol chosen from the client's offer */
};

typedef void (*handler_fn)(struct request *rq, struct response *rs);

struct route {
	const char *method;
	const char *pattern;    /* '*' matches one path segment */
	handler_fn fn;
	bool public_;           /* no token needed */
	bool upload;            /* a body of any size, streamed to a file (rq->upload_fd) */
	/* admins only: a tenant gets 404 (the route does not exist for it), or 403 with
	 * this message where the tenant can see what the route changes (templates) */
	bool admin;
	const char *tenants_told;
	/* also open, without a token, to the addresses in http_limits.open_to (metrics-allow) */
	bool open_to_list;
	/* has the helper copy, pack or remove a file tree: a rate budget of its own, a
	 * twentieth of the token's, in bursts of half of it (server.c, BULK_SHARE) */
	bool bulk;
	/* an answer from memory, on the server's event thread, for a caller whose token
	 * is known without the store (nothing in it may block): true once rs holds it,
	 * false to have fn answer on a worker */
	bool (*fast)(struct request *rq, struct response *rs);
};

#define MAX_UPLOAD ((uint64_t)64 << 30)

/* Helpers for handlers. */
void resp_json(struct response *rs, int status, json_t *body);
void resp_error(struct response *rs, const struct err *e);
void resp_errorf(struct response *rs, enum err_code code, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* The body as a JSON value; 400 (malformed) or 413 filled into e. */
json_t *req_json(const struct request *rq, struct err *e);
/* A body read from fd (a file or a pipe) as it is sent; fd is closed after. */
void resp_fd(struct response *rs, int status, int fd, const char *content_type);
/* An upload route's body as JSON (when it is small and of type application/json). */
json_t *req_upload_json(const struct request *rq, struct err *e);
/* A query-string argument, or NULL. */
const char *req_query(const struct request *rq, const char *key);
/* How many query-string arguments the request has. */
int req_query_count(const struct request *rq);
/* The collection's ?limit= (1..1000, default 100); -1 with a 422 filled in rs. */
int req_limit(const struct request *rq, struct response *rs);

/* Writes the audit entry for rq (the server does so itself for every request but
 * GET and HEAD); link: a related resource, or NULL. */
void http_audit(struct store *st, const struct request *rq, int status, const char *link);
/* A request header, or NULL. */
const char *req_header(const struct request *rq, const char *name);
/* A cookie the request carries, or NULL. */
const char *req_cookie(const struct request *rq, const char *name);
#define HTTP_STREAM_WAIT ((ssize_t)0) /* nothing yet: see struct http_wait */
#define HTTP_STREAM_ERROR ((ssize_t)-2)
#define HTTP_STREAM_END ((ssize_t)-1) /* the stream is whole */

struct http_server;
/* What one client may take of the server. */
#define OPEN_TO_MAX 16
struct http_limits {
	int rate;            /* requests per second per token (burst twice that), 0 for none */
	unsigned per_source; /* open connections from one address */
	/* addresses (ADDR or ADDR/PREFIX, IPv4 or IPv6) that .open_to_list routes answer
	 * without a token */
	char open_to[OPEN_TO_MAX][64];
	int nopen_to;
	/* seconds after which a host that has not said it is alive is offline: requests
	 * for its jails that change something answer 503 at once */
	int host_timeout;
};
/* rq sent on to the API at base (another host's advertised URL, named host for the
 * messages) with the caller's credentials; rs becomes its answer, streamed as it comes,
 * or 503 when the host does not answer. */
void http_forward(struct request *rq, struct response *rs, const char *base, const char *host);
/* The same for a WebSocket upgrade (a console): the owner's handshake, then the
 * bytes relayed both ways until either side ends. */
void http_forward_upgrade(struct request *rq, struct response *rs, const char *base, const char *host);
/* GET paths[i] from each of n bases[i] at once, with the caller's credentials, for at
 * most ms: bodies[i] the answer (malloc'd), or NULL when it was not a whole 200 in time. */
void http_fetch_each(struct request *rq, const char *const *bases, const char *const *paths, int n, int ms, char **bodies);

/* Whether text is ADDR or ADDR/PREFIX (IPv4 or IPv6). */
bool http_cidr_valid(const char *text);
/* upload_dir: where upload bodies are written (unnamed files: nothing stays behind). */
struct http_server *http_start(const char *listen, const char *upload_dir, const struct route *routes, struct store *st,
			       const struct http_limits *lim, const char *tls_cert_pem, const char *tls_key_pem, struct err *e);
void http_stop(struct http_server *h);

/* Ends an upgraded connection (urh: as upgraded() got it). */
void http_upgrade_close(void *urh);

#endif
