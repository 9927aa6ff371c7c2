/* api.c — the routes of shared/API.md that this version serves. */
#include "api.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "events.h"
#include "host.h"
#include "jails.h"
#include "priv_client.h"
#include "utf8.h"

bool is_admin(const struct request *rq)
{
	return strcmp(rq->who.role, "admin") == 0;
}

int visible_jail(struct request *rq, struct response *rs, const char *name, struct jail_row *row, struct reply *live)
{
	struct err e;
	if (!valid_name(name)) {
		resp_errorf(rs, ERR_INVALID, "name", "jail name must be 1 to 63 lowercase letters, digits and dashes, starting with a letter or digit");
		return -1;
	}
	if (jail_refresh(name, row, live, &e) < 0) {
		resp_error(rs, &e);
		return -1;
	}
	if (!is_admin(rq) && row->tenant_id != rq->who.tenant_id) {
		jail_row_clear(row);
		resp_errorf(rs, ERR_NOT_FOUND, NULL, "no jail named %s", name);
		return -1;
	}
	return 0;
}

static void send_jail(struct response *rs, int status, const struct jail_row *row, const struct reply *live)
{
	resp_json(rs, status, jail_to_json(row, live));
	snprintf(rs->etag, sizeof rs->etag, "\"%lld\"", (long long)row->version);
}

static void h_health(struct request *rq, struct response *rs)
{
	(void)rq;
	resp_json(rs, 200, json_pack("{ssssss}", "status", "ok", "version", JAILD_VERSION, "backend", "linux"));
	if (!priv_available())
		json_object_set_new(rs->body, "helper", json_string("unavailable"));
}

/* GET /api/session: who the caller is (the web console asks after a reload). */
static void h_session(struct request *rq, struct response *rs)
{
	resp_json(rs, 200, json_pack("{sssssssssb}", "kind", rq->who.id ? "token" : "session", "name", rq->who.name, "tenant",
				      rq->who.tenant, "role", rq->who.role, "admin", is_admin(rq)));
}

static void h_host(struct request *rq, struct response *rs)
{
	(void)rq;
	struct err e;
	json_t *j = host_info(&e);
	if (!j)
		resp_error(rs, &e);
	else
		resp_json(rs, 200, j);
}

struct list_ctx {
	char *buf;
	size_t len, cap;
	int n;
	bool failed;
	char last[NAME_SIZE];
};

static void add_row(const struct jail_row *row, void *arg)
{
	struct list_ctx *l = arg;
	char *sep = l->n++ ? "," : "";
	size_t before = l->len;
	struct reply live;
	bool have = jail_usage(row, &live);
	if (jail_append_text(row, have ? &live : NULL, &l->buf, &l->len, &l->cap) < 0) {
		l->failed = true;
		return;
	}
	if (*sep) {
		/* put the separator in front of what was just appended */
		memmove(l->buf + before + 1, l->buf + before, l->len - before + 1);
		l->buf[before] = ',';
		l->len++;
	}
	snprintf(l->last, sizeof l->last, "%s", row->name);
}

static void h_jails_list(struct request *rq, struct response *rs)
{
	struct jail_filter f = { .after = req_query(rq, "after"), .limit = req_limit(rq, rs), .spec_as_text = true };
	const char *state = req_query(rq, "state"), *tenant = req_query(rq, "tenant");
	struct err e;
	if (f.limit < 0)
		return;
	if (f.after && *f.after && !valid_name(f.after))
		return resp_errorf(rs, ERR_INVALID, "after", "after must be a cursor from a previous page's \"next\"");
	if (state) {
		static const char *const states[] = { "stopped", "starting", "running", "stopping", "error" };
		bool ok = false;
		for (size_t i = 0; i < 5; i++)
			ok |= strcmp(state, states[i]) == 0;
		if (!ok)
			return resp_errorf(rs, ERR_INVALID, "state", "state must be one of stopped, starting, running, stopping, error");
		f.state = state;
	}
	if (!is_admin(rq)) {
		f.tenant_id = rq->who.tenant_id;
	} else if (tenant) {
		if (!valid_name(tenant))
			return resp_errorf(rs, ERR_INVALID, "tenant", "tenant must be a tenant name");
		if (store_tenant_lookup(J.st, tenant, &f.tenant_id, &e) < 0) {
			resp_json(rs, 200, json_pack("{s[]sn}", "items", "next"));
			return;
		}
	}
	/* a long listing is written as text: the stored specs are already JSON */
	struct list_ctx l = { .buf = NULL };
	int n = store_jail_list(J.st, &f, add_row, &l, &e);
	if (n < 0 || l.failed) {
		free(l.buf);
		return n < 0 ? resp_error(rs, &e) : resp_errorf(rs, ERR_INTERNAL, NULL, "a stored jail spec is damaged");
	}
	json_t *next = n == f.limit ? json_string(l.last) : json_null();
	char *next_text = json_dumps(next, JSON_ENCODE_ANY);
	json_decref(next);
	size_t size = l.len + strlen(next_text) + 32;
	rs->text = malloc(size);
	snprintf(rs->text, size, "{\"items\":[%s],\"next\":%s}", l.buf ? l.buf : "", next_text);
	free(next_text);
	free(l.buf);
}

static void h_jails_create(struct request *rq, struct response *rs)
{
	struct err e = { 0 };
	json_t *body = req_json(rq, &e);
	if (!body)
		return resp_error(rs, &e);
	const char *start = req_query(rq, "start");
	struct jail_row row = { 0 };
	int rc = jail_create(&rq->who, body, start && strcmp(start, "1") == 0, &row, &e);
	json_decref(body);
	if (rc < 0 && !row.spec)
		return resp_error(rs, &e);
	/* created; if it did not start, the jail says so (state "error", and why) */
	struct reply live = { 0 };
	send_jail(rs, 201, &row, &live);
	snprintf(rs->location, sizeof rs->location, "/api/jails/%s", row.name);
	jail_row_clear(&row);
}

void h_jail_get(struct request *rq, struct response *rs)
{
	struct jail_row row = { 0 };
	struct reply live;
	if (visible_jail(rq, rs, rq->params[0], &row, &live) < 0)
		return;
	send_jail(rs, 200, &row, &live);
	jail_row_clear(&row);
}

/* If-Match: "N" (or *). Returns the version to require, -1 for any, or -2 after a 412. */
static int64_t if_match(struct request *rq, struct response *rs, const struct jail_row *row)
{
	if (!rq->if_match || strcmp(rq->if_match, "*") == 0)
		return -1;
	char want[40];
	snprintf(want, sizeof want, "\"%lld\"", (long long)row->version);
	if (strcmp(rq->if_match, want) != 0) {
		resp_errorf(rs, ERR_PRECONDITION, NULL, "the jail changed (ETag is now %s); fetch it again", want);
		return -2;
	}
	return row->version;
}

/* The path's jail, visible to the caller; with_if_match also checks If-Match and
 * gives the version to require (-1: any). Returns -1 once a response is filled. */
static int target_jail(struct request *rq, struct response *rs, bool with_if_match, int64_t *version)
{
	struct jail_row row = { 0 };
	struct reply live;
	if (visible_jail(rq, rs, rq->params[0], &row, &live) < 0)
		return -1;
	int64_t v = with_if_match ? if_match(rq, rs, &row) : -1;
	jail_row_clear(&row);
	if (version)
		*version = v;
	return v == -2 ? -1 : 0;
}

static void h_jail_patch(struct request *rq, struct response *rs)
{
	struct err e = { 0 };
	int64_t version;
	if (target_jail(rq, rs, true, &version) < 0)
		return;
	json_t *body = req_json(rq, &e);
	if (!body)
		return resp_error(rs, &e);
	int rc = jail_patch(rq->params[0], version, body, &e);
	json_decref(body);
	if (rc < 0)
		return resp_error(rs, &e);
	h_jail_get(rq, rs);
}

static void h_jail_delete(struct request *rq, struct response *rs)
{
	struct err e;
	if (target_jail(rq, rs, true, NULL) < 0)
		return;
	if (jail_destroy(rq->params[0], &e) < 0)
		return resp_error(rs, &e);
	rs->status = 204;
	rs->text = strdup("");
}

static void lifecycle(struct request *rq, struct response *rs, int (*op)(const char *, struct err *), int (*op2)(const char *, struct err *))
{
	struct err e;
	if (target_jail(rq, rs, false, NULL) < 0)
		return;
	if (op(rq->params[0], &e) < 0 && !(op2 && e.code == ERR_WRONG_STATE))
		return resp_error(rs, &e);
	if (op2 && op2(rq->params[0], &e) < 0)
		return resp_error(rs, &e);
	h_jail_get(rq, rs);
}

static void h_jail_start(struct request *rq, struct response *rs)
{
	lifecycle(rq, rs, jail_start, NULL);
}

static void h_jail_stop(struct request *rq, struct response *rs)
{
	lifecycle(rq, rs, jail_stop, NULL);
}

static void h_jail_restart(struct request *rq, struct response *rs)
{
	/* a stopped jail is simply started */
	lifecycle(rq, rs, jail_stop, jail_start);
}

/* JSON strings must be UTF-8; a command's output need not be. */
static json_t *utf8_string(const char *s, size_t n)
{
	json_t *j = json_stringn(s, n);
	if (j)
		return j;
	char *out = malloc(n * 3 + 1);
	size_t o = 0;
	for (size_t i = 0; i < n;) {
		unsigned char c = (unsigned char)s[i];
		size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
		json_t *probe = len && i + len <= n ? json_stringn(s + i, len) : NULL;
		if (probe && c != 0) {
			memcpy(out + o, s + i, len);
			o += len;
			i += len;
			json_decref(probe);
		} else {
			if (probe)
				json_decref(probe);
			memcpy(out + o, "\xef\xbf\xbd", 3); /* U+FFFD */
			o += 3;
			i++;
		}
	}
	j = json_stringn(out, o);
	free(out);
	return j;
}

/* ---- exec, streamed: POST .../exec?stream=1 answers application/x-ndjson, one line
 * per chunk as the command writes it ({"stream":"stdout","data":"..."}), then
 * {"exit_code":N,"timed_out":false} or {"error":{...}}. The command runs on a thread
 * of its own that writes the lines into a pipe; the response reads the pipe. ---- */

struct exec_job {
	char name[NAME_SIZE];
	json_t *body;
	int wfd;                 /* lines go here; closed at the end */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int state;               /* 0 setting up, 1 running, 2 refused (e holds why) */
	struct err e;
	struct utf8_carry carry[2];
};

static void job_write(struct exec_job *j, json_t *line)
{
	char *text = json_dumps(line, JSON_COMPACT);
	json_decref(line);
	if (!text)
		return;
	size_t n = strlen(text);
	text[n++] = '\n';
	/* a blocking write: a slow reader slows the command (its pipe fills), as a
	 * terminal would; a gone reader makes this fail (EPIPE), and output is dropped */
	for (size_t off = 0; off < n;) {
		ssize_t w = write(j->wfd, text + off, n - off);
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	free(text);
}

static void job_output(void *arg, int fd, const char *buf, size_t n)
{
	struct exec_job *j = arg;
	char *text = malloc(3 * (n + 4));
	if (!text)
		return;
	size_t len = utf8_clean(&j->carry[fd - 1], buf, n, false, text);
	if (len)
		job_write(j, json_pack("{s:s, s:s%}", "stream", fd == 1 ? "stdout" : "stderr", "data", text, len));
	free(text);
}

static void job_set(struct exec_job *j, int state)
{
	pthread_mutex_lock(&j->mu);
	j->state = state;
	pthread_cond_signal(&j->cv);
	pthread_mutex_unlock(&j->mu);
}

static void job_started(void *arg)
{
	job_set(arg, 1);
}

static void job_free(struct exec_job *j)
{
	json_decref(j->body);
	pthread_mutex_destroy(&j->mu);
	pthread_cond_destroy(&j->cv);
	free(j);
}

static void *job_thread(void *arg)
{
	struct exec_job *j = arg;
	struct exec_stream stream = { .started = job_started, .output = job_output, .arg = j };
	struct exec_result r;
	struct err e = { 0 };
	int rc = jail_exec(j->name, j->body, &r, &stream, &e);
	free(r.out);
	free(r.err);
	pthread_mutex_lock(&j->mu);
	bool running = j->state == 1;
	pthread_mutex_unlock(&j->mu);
	if (!running) { /* refused before it ran: the handler answers, and joins us */
		j->e = e;
		job_set(j, 2);
		return NULL;
	}
	char tail[8];
	for (int k = 0; k < 2; k++) { /* a character cut off at the very end */
		size_t n = utf8_clean(&j->carry[k], "", 0, true, tail);
		if (n)
			job_write(j, json_pack("{s:s, s:s%}", "stream", k == 0 ? "stdout" : "stderr", "data", tail, n));
	}
	if (rc == 0)
		job_write(j, json_pack("{sisb}", "exit_code", r.exit_code, "timed_out", r.timed_out));
	else
		job_write(j, json_pack("{s{sssss*}}", "error", "code", err_code_name(e.code), "message", e.msg, "field",
				       e.field[0] ? e.field : NULL));
	close(j->wfd);
	job_free(j);
	return NULL;
}

static void exec_streamed(struct request *rq, struct response *rs, json_t *body)
{
	struct exec_job *j = calloc(1, sizeof *j);
	int p[2];
	if (!j || pipe2(p, O_CLOEXEC) < 0) {
		free(j), json_decref(body);
		return resp_errorf(rs, ERR_INTERNAL, NULL, "cannot start the command's stream (out of memory or descriptors)");
	}
	snprintf(j->name, sizeof j->name, "%.63s", rq->params[0]);
	j->body = body;
	j->wfd = p[1];
	pthread_mutex_init(&j->mu, NULL);
	pthread_cond_init(&j->cv, NULL);
	pthread_t t;
	if (pthread_create(&t, NULL, job_thread, j) != 0) {
		close(p[0]), close(p[1]), job_free(j);
		return resp_errorf(rs, ERR_INTERNAL, NULL, "cannot start the command's thread");
	}
	pthread_mutex_lock(&j->mu);
	while (j->state == 0)
		pthread_cond_wait(&j->cv, &j->mu);
	int state = j->state;
	pthread_mutex_unlock(&j->mu);
	if (state == 2) {
		pthread_join(t, NULL);
		resp_error(rs, &j->e);
		close(p[0]), close(p[1]), job_free(j);
		return;
	}
	pthread_detach(t);
	resp_fd(rs, 200, p[0], "application/x-ndjson");
}

static void h_jail_exec(struct request *rq, struct response *rs)
{
	struct err e = { 0 };
	if (target_jail(rq, rs, false, NULL) < 0)
		return;
	json_t *body = req_json(rq, &e);
	if (!body)
		return resp_error(rs, &e);
	const char *stream = req_query(rq, "stream");
	if (stream && strcmp(stream, "1") != 0 && strcmp(stream, "0") != 0) {
		json_decref(body);
		return resp_errorf(rs, ERR_INVALID, "stream", "stream must be 1 (output as it comes, one JSON line per chunk) or 0");
	}
	if (stream && strcmp(stream, "1") == 0)
		return exec_streamed(rq, rs, body);
	struct exec_result r;
	int rc = jail_exec(rq->params[0], body, &r, NULL, &e);
	json_decref(body);
	if (rc == 0)
		resp_json(rs, 200, json_pack("{sisososbsbsb}", "exit_code", r.exit_code, "stdout", utf8_string(r.out, r.out_len),
					      "stderr", utf8_string(r.err, r.err_len), "timed_out", r.timed_out,
					      "stdout_truncated", r.out_truncated, "stderr_truncated", r.err_truncated));
	else
		resp_error(rs, &e);
	free(r.out);
	free(r.err);
}

static void add_audit(const struct audit_row *a, void *arg)
{
	json_t *items = arg;
	json_array_append_new(items, json_pack("{sIsssssosssosssssiss}", "id", (json_int_t)a->id, "at", a->at, "request_id",
					       a->request_id, "token_id", a->token_id ? json_integer(a->token_id) : json_null(),
					       "actor", a->actor, "tenant", a->tenant[0] ? json_string(a->tenant) : json_null(),
					       "action", a->action, "target", a->target, "status", a->status, "source", a->source));
	if (a->link[0])
		json_object_set_new(json_array_get(items, json_array_size(items) - 1), "recording", json_string(a->link));
}

/* GET /api/audit: newest first. Admins see all (?tenant= narrows), tenants their own. */
static void h_audit(struct request *rq, struct response *rs)
{
	struct audit_filter f = { .limit = req_limit(rq, rs), .action = req_query(rq, "action"), .target = req_query(rq, "target") };
	const char *after = req_query(rq, "after"), *status = req_query(rq, "status"), *tenant = req_query(rq, "tenant");
	struct err e;
	if (f.limit < 0)
		return;
	char *end;
	if (after && ((f.before = strtoll(after, &end, 10)) <= 0 || *end))
		return resp_errorf(rs, ERR_INVALID, "after", "after must be a cursor from a previous page's \"next\"");
	if (status && ((f.status = (int)strtol(status, &end, 10)) < 100 || f.status > 599 || *end))
		return resp_errorf(rs, ERR_INVALID, "status", "status must be an HTTP status code");
	if (!is_admin(rq)) {
		f.tenant_id = rq->who.tenant_id;
	} else if (tenant) {
		if (!valid_name(tenant))
			return resp_errorf(rs, ERR_INVALID, "tenant", "tenant must be a tenant name");
		if (store_tenant_lookup(J.st, tenant, &f.tenant_id, &e) < 0)
			return resp_json(rs, 200, json_pack("{s[]sn}", "items", "next"));
	}
	json_t *items = json_array();
	int n = store_audit_list(J.st, &f, add_audit, items, &e);
	if (n < 0) {
		json_decref(items);
		return resp_error(rs, &e);
	}
	json_t *next = json_null();
	if (n == f.limit && n > 0) {
		char cur[32];
		snprintf(cur, sizeof cur, "%lld", (long long)json_integer_value(json_object_get(json_array_get(items, (size_t)n - 1), "id")));
		next = json_string(cur);
	}
	resp_json(rs, 200, json_pack("{soso}", "items", items, "next", next));
}

const struct route api_routes[] = {
	{ .method = "GET", .pattern = "/api/audit", .fn = h_audit },
	{ .method = "GET", .pattern = "/api/events", .fn = h_events },
	{ .method = "POST", .pattern = "/api/login", .fn = h_login, .public_ = true },
	{ .method = "POST", .pattern = "/api/logout", .fn = h_logout },
	{ .method = "GET", .pattern = "/api/tenants/*/users", .fn = h_users_list },
	{ .method = "POST", .pattern = "/api/tenants/*/users", .fn = h_users_create },
	{ .method = "DELETE", .pattern = "/api/tenants/*/users/*", .fn = h_user_delete },
	{ .method = "GET", .pattern = "/api/health", .fn = h_health, .public_ = true },
	{ .method = "GET", .pattern = "/api/session", .fn = h_session },
	{ .method = "GET", .pattern = "/api/host", .fn = h_host },
	{ .method = "GET", .pattern = "/api/jails", .fn = h_jails_list },
	{ .method = "POST", .pattern = "/api/jails", .fn = h_jails_create },
	{ .method = "GET", .pattern = "/api/jails/*", .fn = h_jail_get },
	{ .method = "GET", .pattern = "/api/jails/*/console", .fn = h_console },
	{ .method = "GET", .pattern = "/api/consoles", .fn = h_consoles_list },
	{ .method = "GET", .pattern = "/api/consoles/*", .fn = h_console_get },
	{ .method = "DELETE", .pattern = "/api/consoles/*", .fn = h_console_delete },
	{ .method = "GET", .pattern = "/api/consoles/*/recording", .fn = h_console_recording },
	{ .method = "PATCH", .pattern = "/api/jails/*", .fn = h_jail_patch },
	{ .method = "DELETE", .pattern = "/api/jails/*", .fn = h_jail_delete },
	{ .method = "POST", .pattern = "/api/jails/*/start", .fn = h_jail_start },
	{ .method = "POST", .pattern = "/api/jails/*/stop", .fn = h_jail_stop },
	{ .method = "POST", .pattern = "/api/jails/*/restart", .fn = h_jail_restart },
	{ .method = "POST", .pattern = "/api/jails/*/exec", .fn = h_jail_exec },
	{ .method = "GET", .pattern = "/api/jails/*/snapshots", .fn = h_snapshots_list },
	{ .method = "POST", .pattern = "/api/jails/*/snapshots", .fn = h_snapshots_create },
	{ .method = "POST", .pattern = "/api/jails/*/snapshots/*/restore", .fn = h_snapshot_restore },
	{ .method = "DELETE", .pattern = "/api/jails/*/snapshots/*", .fn = h_snapshot_delete },
	{ .method = "POST", .pattern = "/api/jails/*/restore", .fn = h_jail_auto_restore },
	{ .method = "GET", .pattern = "/api/jails/*/export", .fn = h_jail_export },
	{ .method = "POST", .pattern = "/api/jails/import", .fn = h_jail_import, .upload = true },
	{ .method = "GET", .pattern = "/api/templates", .fn = h_templates_list },
	{ .method = "POST", .pattern = "/api/templates", .fn = h_templates_create, .upload = true },
	{ .method = "DELETE", .pattern = "/api/templates/*", .fn = h_template_delete },
	{ .method = "GET", .pattern = "/api/tenants", .fn = h_tenants_list },
	{ .method = "POST", .pattern = "/api/tenants", .fn = h_tenants_create },
	{ .method = "GET", .pattern = "/api/tenants/*", .fn = h_tenant_get },
	{ .method = "PATCH", .pattern = "/api/tenants/*", .fn = h_tenant_patch },
	{ .method = "DELETE", .pattern = "/api/tenants/*", .fn = h_tenant_delete },
	{ .method = "GET", .pattern = "/api/tenants/*/tokens", .fn = h_tokens_list },
	{ .method = "POST", .pattern = "/api/tenants/*/tokens", .fn = h_tokens_create },
	{ .method = "DELETE", .pattern = "/api/tenants/*/tokens/*", .fn = h_token_delete },
	{ 0 },
};
