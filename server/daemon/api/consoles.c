/* consoles.c — GET /api/jails/{name}/console (the WebSocket) and /api/consoles:
 * the sessions, their recordings, and ending one. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "api/api.h"
#include "validate.h"
#include "core/console.h"
#include "ws.h"

static const char *recording_url(const char *id, char buf[96])
{
	snprintf(buf, 96, "/api/consoles/%s/recording", id);
	return buf;
}

static bool header_has(const struct request *rq, const char *name, const char *token)
{
	const char *v = req_header(rq, name);
	size_t n = strlen(token);
	for (const char *p = v; p && *p; p++)
		if (strncasecmp(p, token, n) == 0 && (p == v || !isalnum((unsigned char)p[-1])) && !isalnum((unsigned char)p[n]))
			return true;
	return false;
}

/* A browser always sends Origin; a page from elsewhere must not drive a root shell
 * with the user's cookie. Clients that send no Origin (jailctl, scripts) carry a token. */
static bool same_origin(const struct request *rq)
{
	const char *origin = req_header(rq, "Origin"), *host = req_header(rq, "Host");
	if (!origin)
		return true;
	const char *p = strstr(origin, "://");
	return p && host && strcmp(p + 3, host) == 0;
}

static bool valid_id(const char *id)
{
	if (strlen(id) != CONSOLE_ID_SIZE - 1)
		return false;
	for (const char *p = id; *p; p++)
		if (!isxdigit((unsigned char)*p) || isupper((unsigned char)*p))
			return false;
	return true;
}

static int query_size(const struct request *rq, struct response *rs, const char *key, unsigned def, unsigned *out)
{
	const char *v = req_query(rq, key);
	*out = def;
	if (!v)
		return 0;
	char *end;
	long n = strtol(v, &end, 10);
	if (end == v || *end || n < 1 || n > 1000) {
		resp_errorf(rs, ERR_INVALID, key, "%s must be a whole number from 1 to 1000", key);
		return -1;
	}
	*out = (unsigned)n;
	return 0;
}

static void upgraded(void *cls, int sock, const char *extra, size_t extra_len, void *urh)
{
	console_attach(cls, sock, extra, extra_len, http_upgrade_close, urh);
}

static void actor_of(const struct request *rq, char *buf, size_t size)
{
	if (rq->who.id)
		snprintf(buf, size, "token:%lld %s", (long long)rq->who.id, rq->who.name);
	else
		snprintf(buf, size, "user:%.40s/%.40s", rq->who.tenant, rq->who.name);
}

/* ?command=["top","-d","1"] (a JSON array, URL-encoded): a command on the terminal
 * instead of a shell, as exec -t and docker exec -t run one. */
static int console_command(struct request *rq, struct response *rs, struct argv_buf *out, bool *given)
{
	const char *q = req_query(rq, "command");
	struct err e = { 0 };
	*given = q != NULL;
	if (!q)
		return 0;
	json_t *a = json_loads(q, JSON_REJECT_DUPLICATES, NULL);
	const char *argv[ARGV_MAX + 1];
	size_t i, n = json_array_size(a);
	json_t *v;
	int rc = json_is_array(a) && n > 0 && n <= ARGV_MAX ? 0 : -1;
	json_array_foreach(a, i, v) if (rc == 0 && !(argv[i] = json_string_value(v)))
		rc = -1;
	if (rc < 0)
		err_field(&e, ERR_INVALID, "command", "command must be a JSON array of strings, like [\"top\",\"-d\",\"1\"]");
	else if (argv_pack(out, argv, n, "command", &e) < 0 || argv_check(out, ARGV_PATH_LOOKUP, "command", &e) < 0)
		rc = -1;
	json_decref(a);
	if (rc < 0)
		resp_error(rs, &e);
	return rc;
}

void h_console(struct request *rq, struct response *rs)
{
	const char *name = rq->params[0], *session = req_query(rq, "session");
	const char *key = req_header(rq, "Sec-WebSocket-Key"), *version = req_header(rq, "Sec-WebSocket-Version");
	if (!header_has(rq, "Upgrade", "websocket") || !header_has(rq, "Connection", "upgrade") || !key)
		return resp_errorf(rs, ERR_MALFORMED, NULL,
				   "the console is a WebSocket: connect with a WebSocket client (Upgrade: websocket), e.g. jailctl console %s",
				   name);
	if (!version || strcmp(version, "13") != 0)
		return resp_errorf(rs, ERR_MALFORMED, "Sec-WebSocket-Version", "only WebSocket version 13 (RFC 6455) is spoken here");
	if (!ws_accept(key, rs->ws_accept))
		return resp_errorf(rs, ERR_MALFORMED, "Sec-WebSocket-Key", "Sec-WebSocket-Key must be the base64 of 16 random bytes");
	const char *protos = req_header(rq, "Sec-WebSocket-Protocol");
	if (protos && !header_has(rq, "Sec-WebSocket-Protocol", "jaild"))
		return resp_errorf(rs, ERR_MALFORMED, "Sec-WebSocket-Protocol", "the console speaks the subprotocol \"jaild\" only");
	if (protos)
		rs->ws_protocol = "jaild";
	if (!same_origin(rq))
		return resp_errorf(rs, ERR_FORBIDDEN, "Origin", "a console may only be opened from a page that jaild itself served");
	unsigned cols, rows;
	struct argv_buf command;
	bool has_command;
	if (query_size(rq, rs, "cols", 80, &cols) < 0 || query_size(rq, rs, "rows", 24, &rows) < 0 ||
	    console_command(rq, rs, &command, &has_command) < 0)
		return;
	struct jail_row row = { 0 };
	if (visible_jail(rq, rs, name, &row) < 0)
		return;
	char id[40], url[96];
	struct err e;
	if (session) {
		if (!valid_id(session) || !console_live(session, name)) {
			jail_row_clear(&row);
			return resp_errorf(rs, ERR_NOT_FOUND, "session",
					   "no live console session %.40s on jail %s (it ended or expired); open a new one without ?session",
					   session, name);
		}
		snprintf(id, sizeof id, "%s", session);
	} else {
		struct console_row c = { .tenant_id = row.tenant_id, .token_id = rq->who.id };
		actor_of(rq, c.actor, sizeof c.actor);
		snprintf(c.source, sizeof c.source, "%s", rq->remote ? rq->remote : "");
		if (console_open(name, cols, rows, has_command ? &command : NULL, &c, &e) < 0) {
			jail_row_clear(&row);
			return resp_error(rs, &e);
		}
		snprintf(id, sizeof id, "%s", c.id);
	}
	jail_row_clear(&row);
	/* reads are not audited, but a root shell is: one entry per attach, with the recording */
	http_audit(J.st, rq, 101, recording_url(id, url));
	rs->status = 101;
	rs->upgraded = upgraded;
	snprintf(rs->upgrade_cls, sizeof rs->upgrade_cls, "%s", id);
}

static json_t *console_json(const struct console_row *c)
{
	char url[96];
	return json_pack("{sssssssosssssisisssosososIsbso}", "id", c->id, "jail", c->jail, "tenant", c->tenant, "token_id",
			 c->token_id ? json_integer(c->token_id) : json_null(), "actor", c->actor, "source", c->source, "cols",
			 c->cols, "rows", c->rows, "started_at", c->started_at, "ended_at",
			 c->ended_at[0] ? json_string(c->ended_at) : json_null(), "end_reason",
			 c->end_reason[0] ? json_string(c->end_reason) : json_null(), "live",
			 json_boolean(!c->ended_at[0] && console_live(c->id, c->jail)), "bytes_out", (json_int_t)c->bytes_out,
			 "recording_kept", c->recording, "recording",
			 c->recording ? json_string(recording_url(c->id, url)) : json_null());
}

struct page {
	json_t *items;
	int64_t last;
};

static void add_console(const struct console_row *c, void *arg)
{
	struct page *p = arg;
	json_array_append_new(p->items, console_json(c));
	p->last = c->seq;
}

/* GET /api/consoles: newest first; admins see all, tenants their own jails'. */
void h_consoles_list(struct request *rq, struct response *rs)
{
	int limit = req_limit(rq, rs);
	const char *after = req_query(rq, "after"), *jail = req_query(rq, "jail");
	if (limit < 0)
		return;
	long long before = 0;
	char *end;
	if (after && ((before = strtoll(after, &end, 10)) <= 0 || *end))
		return resp_errorf(rs, ERR_INVALID, "after", "after must be a cursor from a previous page's \"next\"");
	if (jail && !valid_name(jail))
		return resp_errorf(rs, ERR_INVALID, "jail", "jail must be a jail name");
	struct page p = { .items = json_array() };
	struct err e;
	int n = store_console_list(J.st, is_admin(rq) ? 0 : rq->who.tenant_id, jail, before, limit, add_console, &p, &e);
	if (n < 0) {
		json_decref(p.items);
		return resp_error(rs, &e);
	}
	json_t *next = json_null();
	if (n == limit && n > 0) {
		char cur[32];
		snprintf(cur, sizeof cur, "%lld", (long long)p.last);
		next = json_string(cur);
	}
	resp_json(rs, 200, json_pack("{soso}", "items", p.items, "next", next));
}

/* The session, or 404 for an id that is malformed, unknown or another tenant's. */
static int visible_console(struct request *rq, struct response *rs, struct console_row *c)
{
	const char *id = rq->params[0];
	struct err e;
	if (!valid_id(id) || store_console_get(J.st, id, c, &e) < 0 || (!is_admin(rq) && c->tenant_id != rq->who.tenant_id)) {
		resp_errorf(rs, ERR_NOT_FOUND, NULL, "no console session %.40s", id);
		return -1;
	}
	return 0;
}

void h_console_get(struct request *rq, struct response *rs)
{
	struct console_row c;
	if (visible_console(rq, rs, &c) == 0)
		resp_json(rs, 200, console_json(&c));
}

/* DELETE /api/consoles/{id}: hang up a live session (its shell gets SIGHUP). */
void h_console_delete(struct request *rq, struct response *rs)
{
	struct console_row c;
	struct err e;
	char reason[128], actor[96];
	if (visible_console(rq, rs, &c) < 0)
		return;
	actor_of(rq, actor, sizeof actor);
	snprintf(reason, sizeof reason, "ended through the API by %s", actor);
	if (console_end(c.id, reason, &e) < 0)
		return resp_errorf(rs, ERR_WRONG_STATE, NULL, "console session %s has already ended (%s)", c.id,
				   c.end_reason[0] ? c.end_reason : "not live");
	rs->status = 204;
}

/* GET /api/consoles/{id}/recording: asciicast v2, for `asciinema play` or the web
 * console's player. A live session's recording is complete up to now. */
void h_console_recording(struct request *rq, struct response *rs)
{
	struct console_row c;
	struct err e;
	if (visible_console(rq, rs, &c) < 0)
		return;
	int fd = c.recording ? console_recording_open(c.id, &e) : -1;
	if (fd < 0)
		return resp_errorf(rs, ERR_NOT_FOUND, NULL, "the recording of console session %s was removed after recording-keep", c.id);
	resp_fd(rs, 200, fd, "application/x-asciicast");
}
