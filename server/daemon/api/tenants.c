/* tenants.c — tenants and their API tokens. Admins see and do everything; a
 * tenant's token sees only its own tenant and tokens (anything else is 404, so
 * nothing leaks existence) and may mint only tenant-role tokens. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "api/api.h"
#include "core/events.h"
#include "core/jails.h"
#include "core/mount_owners.h"
#include "json_spec.h"
#include "log.h"
#include "size.h"
#include "http/token.h"

/* The path's tenant if the caller may see it; else a 404 (or 422) is filled. */
int visible_tenant(struct request *rq, struct response *rs, struct tenant_row *t)
{
	struct err e;
	const char *name = rq->params[0];
	if (!valid_name(name)) {
		resp_errorf(rs, ERR_INVALID, "name", "tenant name must be 1 to 63 lowercase letters, digits and dashes, starting with a letter or digit");
		return -1;
	}
	if (!is_admin(rq) && strcmp(name, rq->who.tenant) != 0) {
		resp_errorf(rs, ERR_NOT_FOUND, NULL, "no tenant named %s", name);
		return -1;
	}
	if (store_tenant_get(J.st, name, t, &e) < 0) {
		resp_error(rs, &e);
		return -1;
	}
	return 0;
}

static json_t *quotas_json(const struct quotas *q, bool all)
{
	json_t *j = json_object();
	for (size_t i = 0; i < QUOTA_COUNT; i++) {
		int64_t v = *quota_field((struct quotas *)q, i);
		if (v < 0 && !all)
			continue;
		char buf[32];
		size_format(v, buf, sizeof buf);
		json_object_set_new(j, quota_keys[i], quota_is_size(i) && !all ? json_string(buf) : json_integer(v));
	}
	return j;
}

/* The path's tenant (visible to the caller) and the request's JSON body; NULL once a
 * response is filled. */
static json_t *tenant_and_body(struct request *rq, struct response *rs, struct tenant_row *t)
{
	struct err e = { 0 };
	if (visible_tenant(rq, rs, t) < 0)
		return NULL;
	json_t *body = req_json(rq, &e);
	if (!body)
		resp_error(rs, &e);
	return body;
}

static json_t *tenant_json(const struct tenant_row *t)
{
	json_t *tpl = t->templates[0] ? json_loads(t->templates, 0, NULL) : NULL;
	json_t *mnt = t->mounts[0] ? json_loads(t->mounts, 0, NULL) : NULL;
	return json_pack("{sssssIsososososb}", "name", t->name, "created_at", t->created_at, "jails", (json_int_t)t->jails, "quotas",
			 quotas_json(&t->quotas, false), "usage", quotas_json(&t->usage, true), "templates", tpl ? tpl : json_null(),
			 "mounts", mnt ? mnt : json_array(), "isolate_jails", t->isolate_jails);
}

/* {"jails": 10, "memoryuse": "4G", ...}; null removes a quota. Applied onto q. */
static int parse_quotas(json_t *v, struct quotas *q, struct err *e)
{
	if (!json_is_object(v))
		return err_field(e, ERR_INVALID, "quotas", "quotas must be an object like {\"jails\": 10, \"memoryuse\": \"4G\"}");
	const char *key;
	json_t *x;
	json_object_foreach(v, key, x) {
		char f[48];
		size_t i = 0;
		while (i < QUOTA_COUNT && strcmp(key, quota_keys[i]) != 0)
			i++;
		snprintf(f, sizeof f, "quotas.%s", key);
		if (i == QUOTA_COUNT)
			return err_field(e, ERR_INVALID, f, "unknown field '%s' (jails, memoryuse, maxproc, ip4, disk, ports)", f);
		int64_t n = -1;
		if (json_is_null(x))
			n = -1;
		else if (json_is_integer(x) && json_integer_value(x) >= 0)
			n = json_integer_value(x);
		else if (quota_is_size(i) && json_is_string(x) && size_parse(json_string_value(x), &n) == 0)
			;
		else
			return err_field(e, ERR_INVALID, f, "%s must be %s, or null to remove it", f,
					 quota_is_size(i) ? "a size like \"4G\"" : "a whole number, 0 or more");
		*quota_field(q, i) = n;
	}
	return 0;
}

static void add_tenant(const struct tenant_row *t, void *arg)
{
	json_array_append_new(arg, tenant_json(t));
}

void h_tenants_list(struct request *rq, struct response *rs)
{
	const char *after = req_query(rq, "after");
	int lim = req_limit(rq, rs);
	if (lim < 0)
		return;
	json_t *items = json_array();
	struct err e;
	int n = store_tenant_list(J.st, after, lim, add_tenant, items, &e);
	if (n < 0) {
		json_decref(items);
		return resp_error(rs, &e);
	}
	json_t *last = json_array_get(items, json_array_size(items) - 1);
	json_t *next = n == lim && last ? json_incref(json_object_get(last, "name")) : json_null();
	resp_json(rs, 200, json_pack("{soso}", "items", items, "next", next));
}

static int check_tenant_name(json_t *v, const char *f, void *ctx, struct err *e)
{
	(void)ctx;
	return valid_name(json_string_value(v)) ? 0 : err_field(e, ERR_INVALID, f, "%s must be 1 to 63 lowercase letters, digits and dashes, starting with a letter or digit", f);
}

/* A tenant's create or change body, bound: the quotas field applies onto change.quotas,
 * templates and mounts become the JSON text the store keeps. */
struct tenant_input {
	int64_t tenant_id; /* 0 for a new tenant: every owned mount path is another's */
	struct tenant_change change;
	char *templates, *mounts; /* malloc'd */
};

static int check_quotas_field(json_t *v, const char *f, void *ctx, struct err *e)
{
	struct tenant_input *in = ctx;
	(void)f;
	return parse_quotas(v, &in->change.quotas, e);
}

/* "templates": the names a tenant's jails may be made from (each must exist), or null
 * for every template. */
static int check_templates(json_t *v, const char *f, void *ctx, struct err *e)
{
	struct tenant_input *in = ctx;
	size_t i;
	json_t *x;
	json_array_foreach(v, i, x) {
		const char *n = json_string_value(x);
		if (!n || !valid_name(n) || !store_template_exists(J.st, n))
			return err_field(e, ERR_INVALID, f, "%s[%zu] must name a template on this host (GET /api/templates)", f, i);
	}
	in->change.set_templates = true;
	in->templates = json_is_array(v) ? json_dumps(v, JSON_COMPACT) : NULL;
	in->change.templates = in->templates;
	return 0;
}

/* "mounts": the host paths the tenant's jails may mount, each its own (null: none). */
static int check_mounts(json_t *v, const char *f, void *ctx, struct err *e)
{
	struct tenant_input *in = ctx;
	(void)f;
	if (json_is_array(v) && mount_owners_check_tenant(in->tenant_id, v, e))
		return -1;
	in->change.set_mounts = true;
	in->mounts = json_is_array(v) ? json_dumps(v, JSON_COMPACT) : NULL;
	in->change.mounts = in->mounts;
	return 0;
}

/* "isolate_jails": true keeps even the tenant's own jails from reaching each other. */
static int check_isolate(json_t *v, const char *f, void *ctx, struct err *e)
{
	(void)v, (void)f, (void)e;
	((struct tenant_input *)ctx)->change.set_isolate = true;
	return 0;
}

/* The body into in (create: with its name), checked whole before anything is stored. */
static int tenant_input_parse(json_t *body, bool create, const char **name, struct tenant_input *in, struct err *e)
{
	const struct jfield spec[] = {
		JF_STRING("name", true, check_tenant_name, name, NULL),
		JF_JSON("quotas", JT_OBJECT, false, check_quotas_field, NULL),
		JF_JSON("templates", JT_ARRAY_OR_NULL, false, check_templates, NULL),
		JF_JSON("mounts", JT_ARRAY_OR_NULL, false, check_mounts, NULL),
		JF_BOOL("isolate_jails", false, check_isolate, &in->change.isolate_jails, false),
		JF_END,
	};
	return json_parse_fields(body, create ? spec : spec + 1, "", in, e);
}

static void tenant_input_free(struct tenant_input *in)
{
	free(in->templates);
	free(in->mounts);
}

void h_tenants_create(struct request *rq, struct response *rs)
{
	struct err e = { 0 };
	json_t *body = req_json(rq, &e);
	if (!body)
		return resp_error(rs, &e);
	struct tenant_row t;
	const char *name = NULL;
	struct tenant_input in = { .change.quotas = QUOTAS_NONE };
	int rc = tenant_input_parse(body, true, &name, &in, &e) || store_tenant_create(J.st, name, &in.change, &t, &e);
	tenant_input_free(&in);
	json_decref(body);
	if (rc)
		return resp_error(rs, &e);
	log_info("tenant %s created", t.name);
	resp_json(rs, 201, tenant_json(&t));
	snprintf(rs->location, sizeof rs->location, "/api/tenants/%s", t.name);
}

void h_tenant_get(struct request *rq, struct response *rs)
{
	struct tenant_row t;
	if (visible_tenant(rq, rs, &t) == 0)
		resp_json(rs, 200, tenant_json(&t));
}

void h_tenant_patch(struct request *rq, struct response *rs)
{
	struct tenant_row t;
	struct err e = { 0 };
	json_t *body = tenant_and_body(rq, rs, &t);
	if (!body)
		return;
	struct tenant_input in = { .tenant_id = t.id, .change.quotas = t.quotas };
	int rc = tenant_input_parse(body, false, NULL, &in, &e) || store_tenant_change(J.st, t.id, &in.change, &e) ||
		 store_tenant_get(J.st, t.name, &t, &e);
	tenant_input_free(&in);
	json_decref(body);
	if (rc)
		return resp_error(rs, &e);
	if (in.change.set_isolate && jail_net_refresh_tenant(t.id) < 0)
		log_warn("tenant %s: some running jails keep their old network setting until they restart", t.name);
	log_info("tenant %s: changed", t.name);
	events_emit(t.id, "tenant.quotas", t.name, json_pack("{ssso}", "name", t.name, "quotas", quotas_json(&t.quotas, false)));
	resp_json(rs, 200, tenant_json(&t));
}

void h_tenant_delete(struct request *rq, struct response *rs)
{
	struct tenant_row t;
	struct err e;
	if (visible_tenant(rq, rs, &t) < 0)
		return;
	if (t.id == rq->who.tenant_id)
		return resp_errorf(rs, ERR_WRONG_STATE, NULL, "tenant %s owns the token of this request; delete it with another admin's token", t.name);
	const char *force = req_query(rq, "force");
	if (t.jails > 0 && force && strcmp(force, "1") == 0) {
		/* ?force=1: its jails go first, each as DELETE /api/jails/{name} would */
		struct jail_names l = { 0 };
		/* this host's; jails on other hosts keep the tenant (409) until deleted there */
		struct jail_filter f = { .after = "", .tenant_id = t.id, .host_id = store_host_id(J.st) };
		jail_names(&f, &l, &e);
		for (size_t i = 0; i < l.n; i++)
			if (jail_destroy(l.v[i], &e) < 0) {
				free(l.v);
				return resp_error(rs, &e);
			}
		free(l.v);
	}
	if (store_tenant_delete(J.st, t.id, &e) < 0)
		return resp_error(rs, &e);
	log_info("tenant %s deleted", t.name);
	rs->status = 204;
	rs->text = strdup("");
}

static json_t *token_json(const struct token_row *t, const char *tenant)
{
	return json_pack("{sIsssssssssoso}", "id", (json_int_t)t->id, "name", t->name, "role", t->role, "tenant", tenant,
			 "created_at", t->created_at, "expires_at", t->expires_at[0] ? json_string(t->expires_at) : json_null(),
			 "last_used_at", t->last_used_at[0] ? json_string(t->last_used_at) : json_null());
}

struct token_list {
	json_t *items;
	const char *tenant;
};

static void add_token(const struct token_row *t, void *arg)
{
	struct token_list *l = arg;
	json_array_append_new(l->items, token_json(t, l->tenant));
}

void h_tokens_list(struct request *rq, struct response *rs)
{
	struct tenant_row t;
	struct err e;
	if (visible_tenant(rq, rs, &t) < 0)
		return;
	struct token_list l = { .items = json_array(), .tenant = t.name };
	if (store_token_list(J.st, t.id, add_token, &l, &e) < 0) {
		json_decref(l.items);
		return resp_error(rs, &e);
	}
	resp_json(rs, 200, json_pack("{sosn}", "items", l.items, "next"));
}

static int check_token_name(json_t *v, const char *f, void *ctx, struct err *e)
{
	(void)ctx;
	const char *s = json_string_value(v);
	size_t n = strlen(s);
	bool ok = n >= 1 && n <= 63 && n == json_string_length(v);
	for (size_t i = 0; ok && i < n; i++)
		ok = s[i] >= 0x20 && s[i] < 0x7f;
	return ok ? 0 : err_field(e, ERR_INVALID, f, "%s must be 1 to 63 printable ASCII characters", f);
}

static int check_role(json_t *v, const char *f, void *ctx, struct err *e)
{
	(void)ctx;
	const char *s = json_string_value(v);
	return strcmp(s, "admin") == 0 || strcmp(s, "tenant") == 0 ? 0 : err_field(e, ERR_INVALID, f, "%s must be \"admin\" or \"tenant\"", f);
}

/* "2027-01-31T12:00:00Z", in the future. */
static int check_expiry(json_t *v, const char *f, void *ctx, struct err *e)
{
	(void)ctx;
	struct tm tm = { 0 };
	const char *s = json_string_value(v);
	const char *end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
	char now[32];
	store_now(now);
	if (!end || *end || strlen(s) != 20)
		return err_field(e, ERR_INVALID, f, "%s must be a UTC time like 2027-01-31T12:00:00Z", f);
	if (strcmp(s, now) <= 0)
		return err_field(e, ERR_INVALID, f, "%s is in the past", f);
	return 0;
}

void h_tokens_create(struct request *rq, struct response *rs)
{
	struct tenant_row t;
	struct err e = { 0 };
	json_t *body = tenant_and_body(rq, rs, &t);
	if (!body)
		return;
	const char *name, *role, *expires;
	const struct jfield spec[] = {
		JF_STRING("name", true, check_token_name, &name, NULL),
		JF_STRING("role", false, check_role, &role, "tenant"),
		JF_STRING("expires_at", false, check_expiry, &expires, ""),
		JF_END,
	};
	if (json_parse_fields(body, spec, "", NULL, &e)) {
		json_decref(body);
		return resp_error(rs, &e);
	}
	if (strcmp(role, "admin") == 0 && !is_admin(rq)) {
		json_decref(body);
		return resp_errorf(rs, ERR_FORBIDDEN, "role", "only admins create admin tokens");
	}
	struct token_row row = { 0 };
	snprintf(row.name, sizeof row.name, "%s", name);
	snprintf(row.role, sizeof row.role, "%s", role);
	snprintf(row.expires_at, sizeof row.expires_at, "%s", expires);
	json_decref(body);
	char secret[64];
	uint8_t hash[32];
	token_make(secret, hash);
	store_now(row.created_at);
	if (store_token_add_full(J.st, t.id, row.name, row.role, row.expires_at, hash, &row.id, &e) < 0)
		return resp_error(rs, &e);
	json_t *j = token_json(&row, t.name);
	/* the only time the secret is shown: only its hash is kept */
	json_object_set_new(j, "secret", json_string(secret));
	sodium_memzero(secret, sizeof secret);
	log_info("token %lld (%s, role %s) created for tenant %s", (long long)row.id, row.name, row.role, t.name);
	resp_json(rs, 201, j);
	snprintf(rs->location, sizeof rs->location, "/api/tenants/%s/tokens/%lld", t.name, (long long)row.id);
}

void h_token_delete(struct request *rq, struct response *rs)
{
	struct tenant_row t;
	struct err e;
	if (visible_tenant(rq, rs, &t) < 0)
		return;
	char *end;
	long long id = strtoll(rq->params[1], &end, 10);
	if (*end || id <= 0)
		return resp_errorf(rs, ERR_NOT_FOUND, NULL, "no token %s", rq->params[1]);
	if (store_token_delete(J.st, t.id, id, &e) < 0)
		return resp_error(rs, &e);
	log_info("token %lld of tenant %s revoked", id, t.name);
	rs->status = 204;
	rs->text = strdup("");
}

/* ---- users (browser login) ---- */

static void add_user(const char *name, const char *created_at, void *arg)
{
	json_array_append_new(arg, json_pack("{ssss}", "name", name, "created_at", created_at));
}

void h_users_list(struct request *rq, struct response *rs)
{
	struct tenant_row t;
	struct err e;
	if (visible_tenant(rq, rs, &t) < 0)
		return;
	json_t *items = json_array();
	if (store_user_list(J.st, t.id, add_user, items, &e) < 0) {
		json_decref(items);
		return resp_error(rs, &e);
	}
	resp_json(rs, 200, json_pack("{sosn}", "items", items, "next"));
}

static int check_password(json_t *v, const char *f, void *ctx, struct err *e)
{
	(void)ctx;
	size_t n = json_string_length(v);
	if (n < 10 || n > 1024 || strlen(json_string_value(v)) != n)
		return err_field(e, ERR_INVALID, f, "%s must be 10 to 1024 characters", f);
	return 0;
}

void h_users_create(struct request *rq, struct response *rs)
{
	struct tenant_row t;
	struct err e = { 0 };
	json_t *body = tenant_and_body(rq, rs, &t);
	if (!body)
		return;
	char hash[128];
	const char *name = NULL, *password;
	const struct jfield spec[] = {
		JF_STRING("name", true, check_tenant_name, &name, NULL),
		JF_STRING("password", true, check_password, &password, NULL),
		JF_END,
	};
	int rc = json_parse_fields(body, spec, "", NULL, &e);
	if (rc == 0 && login_hash_password(password, hash) < 0)
		rc = err_set(&e, ERR_INTERNAL, "hashing the password failed (out of memory?)");
	if (rc == 0)
		rc = store_user_add(J.st, t.id, name, hash, &e);
	json_t *out = rc == 0 ? json_pack("{ssss}", "name", name, "tenant", t.name) : NULL;
	json_decref(body);
	if (rc)
		return resp_error(rs, &e);
	resp_json(rs, 201, out);
}

void h_user_delete(struct request *rq, struct response *rs)
{
	struct tenant_row t;
	struct err e;
	if (visible_tenant(rq, rs, &t) < 0)
		return;
	if (store_user_delete(J.st, t.id, rq->params[1], &e) < 0)
		return resp_error(rs, &e);
	rs->status = 204;
	rs->text = strdup("");
}
