/* jails.c — /api/jails and /api/jails/{name}: list, create, read, change, delete,
 * start, stop, restart. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "core/jailconf.h"
#include "core/jails.h"
#include "core/cluster.h"

static void send_jail(struct response *rs, int status, const struct jail_row *row, const struct reply *live)
{
	resp_json(rs, status, jail_to_json(row, live));
	snprintf(rs->etag, sizeof rs->etag, "\"%lld\"", (long long)row->version);
}

struct list_ctx {
	char *buf;
	size_t len, cap;
	int n;
	bool failed;
	char last[NAME_SIZE];
	json_t *remote; /* name → usage, from the other hosts (NULL: one host) */
};

/* A jail of another host: its usage as its host gave it (this listing asked). */
static bool remote_usage(const struct list_ctx *l, const char *name, struct reply *live)
{
	json_t *u = l->remote ? json_object_get(l->remote, name) : NULL;
	if (!json_is_object(u))
		return false;
	memset(live, 0, sizeof *live);
	live->running = 1;
	live->memory = json_integer_value(json_object_get(u, "memory"));
	live->procs = json_integer_value(json_object_get(u, "procs"));
	live->cpu_ns = (int64_t)(json_number_value(json_object_get(u, "cpu_seconds")) * 1e9);
	live->net_rx = json_integer_value(json_object_get(u, "net_rx_bytes"));
	live->net_tx = json_integer_value(json_object_get(u, "net_tx_bytes"));
	return true;
}

/* The other online hosts' own jails of this page (the same filters, their host's),
 * asked at once with the caller's credentials: each one's usage by name. A host that
 * does not answer within a second leaves its jails' usage null. */
static json_t *ask_other_hosts(struct request *rq, const struct jail_filter *f, const char *tenant)
{
	struct host_row hosts[32];
	int n = cluster_others(hosts, 32);
	if (n == 0)
		return NULL;
	const char *bases[32], *paths[32];
	char *bodies[32], path[32][512];
	for (int i = 0; i < n; i++) {
		/* every value here was checked to be a name, a number or a state: nothing to escape */
		bases[i] = hosts[i].advertise;
		snprintf(path[i], sizeof path[i], "/api/jails?host=%s&limit=%d&after=%s%s%s%s%s", hosts[i].name, f->limit > 0 ? f->limit : 100,
			 f->after ? f->after : "", f->state ? "&state=" : "", f->state ? f->state : "", tenant ? "&tenant=" : "",
			 tenant ? tenant : "");
		paths[i] = path[i];
	}
	json_t *by_name = json_object();
	http_fetch_each(rq, bases, paths, n, 1000, bodies);
	for (int i = 0; i < n; i++) {
		json_t *page = bodies[i] ? json_loads(bodies[i], 0, NULL) : NULL;
		size_t k;
		json_t *item;
		json_array_foreach(json_object_get(page, "items"), k, item) {
			const char *name = json_string_value(json_object_get(item, "name"));
			json_t *u = json_object_get(item, "usage");
			if (name && json_is_object(u))
				json_object_set(by_name, name, u);
		}
		json_decref(page);
		free(bodies[i]);
	}
	return by_name;
}

static void add_row(const struct jail_row *row, void *arg)
{
	struct list_ctx *l = arg;
	char *sep = l->n++ ? "," : "";
	size_t before = l->len;
	struct reply live;
	bool have = jail_usage(row, &live) || remote_usage(l, row->name, &live);
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

void h_jails_list(struct request *rq, struct response *rs)
{
	struct jail_filter f = { .after = req_query(rq, "after"), .limit = req_limit(rq, rs) };
	const char *state = req_query(rq, "state"), *tenant = req_query(rq, "tenant"), *host = req_query(rq, "host");
	struct err e;
	if (f.limit < 0)
		return;
	if (host) {
		/* the jails of one host */
		struct host_row h;
		if (!valid_hostname(host) || strlen(host) >= sizeof h.name)
			return resp_errorf(rs, ERR_INVALID, "host", "host must be a host's name (GET /api/hosts)");
		if (store_host_get(J.st, host, &h, &e) < 0) {
			resp_json(rs, 200, json_pack("{s[]sn}", "items", "next"));
			return;
		}
		f.host_id = h.id;
	}
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
	if (f.host_id != store_host_id(J.st) && strcmp(store_engine(J.st), "sqlite") != 0)
		l.remote = ask_other_hosts(rq, &f, is_admin(rq) ? tenant : NULL);
	int n = store_jail_list(J.st, &f, add_row, &l, &e);
	json_decref(l.remote);
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

/* POST /api/jails?format=jail.conf: every jail a jail.conf defines, or none (a jail
 * that cannot be made takes the ones made before it away again). */
static void create_from_jailconf(struct request *rq, struct response *rs, bool start)
{
	struct err e = { 0 };
	json_t *bodies = jailconf_parse(rq->body ? rq->body : "", rq->body_len, &e);
	if (!bodies)
		return resp_error(rs, &e);
	json_t *made = json_array();
	size_t i;
	json_t *b;
	json_array_foreach(bodies, i, b) {
		struct jail_row row = { 0 };
		if (jail_create(&rq->who, b, start, &row, &e) < 0 && !row.spec) {
			char msg[sizeof e.msg + 80];
			snprintf(msg, sizeof msg, "jail %.63s: %s", json_string_value(json_object_get(b, "name")), e.msg);
			snprintf(e.msg, sizeof e.msg, "%.*s", (int)sizeof e.msg - 1, msg);
			size_t k;
			json_t *m;
			struct err ignored;
			json_array_foreach(made, k, m) jail_destroy(json_string_value(json_object_get(m, "name")), &ignored);
			json_decref(made);
			json_decref(bodies);
			return resp_error(rs, &e);
		}
		struct reply live = { 0 };
		json_array_append_new(made, jail_to_json(&row, &live));
		jail_row_clear(&row);
	}
	json_decref(bodies);
	resp_json(rs, 201, json_pack("{so}", "items", made));
}

/* Where the jail goes (true: rs is answered, by another host or with an error). Any
 * caller may name the host it talks to; only an admin names another. The body loses
 * "host": the spec's host is the one that creates it. */
static bool place(struct request *rq, struct response *rs, json_t *body)
{
	struct err e = { 0 };
	json_t *hv = json_object_get(body, "host");
	const char *want = json_string_value(hv);
	if (hv && (!want || !valid_hostname(want) || strlen(want) >= 64)) {
		resp_errorf(rs, ERR_INVALID, "host", "host must be the name of a host of the cluster (GET /api/hosts)");
		return true;
	}
	if (want && strcmp(want, cluster_host()) != 0 && !is_admin(rq)) {
		resp_errorf(rs, ERR_FORBIDDEN, "host", "only an admin chooses the host a jail goes on");
		return true;
	}
	/* the addresses it takes from a pool */
	int auto4 = 0;
	size_t i;
	json_t *a;
	json_array_foreach(json_object_get(body, "ip4"), i, a) auto4 += json_is_string(a) && strcmp(json_string_value(a), "auto") == 0;
	struct host_row h;
	if (cluster_place(want, auto4, &h, &e) < 0) {
		resp_error(rs, &e);
		return true;
	}
	if (strcmp(h.name, cluster_host()) == 0) {
		json_object_del(body, "host");
		return false;
	}
	json_object_set_new(body, "host", json_string(h.name));
	char *text = json_dumps(body, JSON_COMPACT);
	if (!text) {
		resp_errorf(rs, ERR_INTERNAL, NULL, "out of memory");
		return true;
	}
	const char *was = rq->body;
	size_t was_len = rq->body_len;
	rq->body = text;
	rq->body_len = strlen(text);
	http_forward(rq, rs, h.advertise, h.name);
	rq->body = was;
	rq->body_len = was_len;
	free(text);
	return true;
}

void h_jails_create(struct request *rq, struct response *rs)
{
	struct err e = { 0 };
	const char *format = req_query(rq, "format");
	if (format && strcmp(format, "jail.conf") == 0)
		return create_from_jailconf(rq, rs, req_query(rq, "start") && strcmp(req_query(rq, "start"), "1") == 0);
	if (format && strcmp(format, "json") != 0)
		return resp_errorf(rs, ERR_INVALID, "format", "format must be json or jail.conf");
	json_t *body = req_json(rq, &e);
	if (!body)
		return resp_error(rs, &e);
	if (place(rq, rs, body))
		return json_decref(body);
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

/* The caller's view of a rendering: 200 with it, or false (someone else's jail). */
static bool send_view(struct request *rq, struct response *rs, struct jail_view *v)
{
	if (!is_admin(rq) && v->tenant_id != rq->who.tenant_id) {
		free(v->text);
		return false;
	}
	rs->status = 200;
	rs->text = v->text;
	rs->text_len = v->len;
	snprintf(rs->etag, sizeof rs->etag, "\"%lld\"", (long long)v->version);
	return true;
}

/* GET /api/jails/{name}, the route's fast handler: the kept rendering, from memory. */
bool h_jail_get_cached(struct request *rq, struct response *rs)
{
	struct jail_view v;
	return req_query_count(rq) == 0 && jail_view_cached(rq->params[0], &v) && send_view(rq, rs, &v);
}

/* ?format=jail.conf: the spec as jail(8) would read it. */
static void send_jailconf(struct request *rq, struct response *rs)
{
	struct jail_row row = { 0 };
	if (visible_jail(rq, rs, rq->params[0], &row) < 0)
		return;
	json_t *spec = jail_spec_of(&row);
	rs->text = jailconf_render(row.name, spec);
	json_decref(spec);
	rs->status = rs->text ? 200 : 500;
	rs->content_type = "text/plain; charset=utf-8";
	if (!rs->text)
		resp_errorf(rs, ERR_INTERNAL, NULL, "out of memory");
	jail_row_clear(&row);
}

void h_jail_get(struct request *rq, struct response *rs)
{
	const char *format = req_query(rq, "format");
	if (format && strcmp(format, "jail.conf") != 0 && strcmp(format, "json") != 0)
		return resp_errorf(rs, ERR_INVALID, "format", "format must be json or jail.conf");
	if (format && strcmp(format, "jail.conf") == 0)
		return send_jailconf(rq, rs);
	struct jail_view v;
	struct err e;
	if (!jail_name_ok(rs, rq->params[0]))
		return;
	if (jail_view(rq->params[0], &v, &e) < 0)
		return resp_error(rs, &e);
	if (!send_view(rq, rs, &v))
		resp_errorf(rs, ERR_NOT_FOUND, NULL, "no jail named %s", rq->params[0]);
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
int target_jail(struct request *rq, struct response *rs, bool with_if_match, int64_t *version)
{
	struct jail_row row = { 0 };
	if (visible_jail(rq, rs, rq->params[0], &row) < 0)
		return -1;
	int64_t v = with_if_match ? if_match(rq, rs, &row) : -1;
	jail_row_clear(&row);
	if (version)
		*version = v;
	return v == -2 ? -1 : 0;
}

void h_jail_patch(struct request *rq, struct response *rs)
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

void h_jail_delete(struct request *rq, struct response *rs)
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

void h_jail_start(struct request *rq, struct response *rs)
{
	lifecycle(rq, rs, jail_start, NULL);
}

void h_jail_stop(struct request *rq, struct response *rs)
{
	lifecycle(rq, rs, jail_stop, NULL);
}

void h_jail_restart(struct request *rq, struct response *rs)
{
	/* a stopped jail is simply started */
	lifecycle(rq, rs, jail_stop, jail_start);
}

