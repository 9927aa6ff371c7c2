/* tenants.c — tenants, their quotas and usage, and their API tokens (with the token
 * cache that answers lookups from memory). */
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/db.h"

int store_tenant_lookup(struct store *s, const char *name, int64_t *id, struct err *e)
{
	int r = store_one(s, "SELECT id FROM tenants WHERE name = ?", PARAMS(P_TEXT(name)), COLS(C_INT(id)), "reading tenant", e);
	return r == 1 ? 0 : r == 0 ? err_set(e, ERR_NOT_FOUND, "no tenant named %s", name) : -1;
}

int store_tenant_ensure(struct store *s, const char *name, int64_t *id, struct err *e)
{
	char now[32];
	store_now(now);
	if (store_exec(s, "INSERT INTO tenants(name, created_at) VALUES (?, ?) ON CONFLICT(name) DO NOTHING",
		       PARAMS(P_TEXT(name), P_TEXT(now)), "creating tenant", e) < 0)
		return -1;
	return store_tenant_lookup(s, name, id, e);
}

/* ---- quotas, as the JSON text the tenants table keeps ---- */

const char *const quota_keys[QUOTA_COUNT] = { "jails", "memoryuse", "maxproc", "ip4", "disk", "ports" };

int64_t *quota_field(struct quotas *q, size_t i)
{
	int64_t *f[QUOTA_COUNT] = { &q->jails, &q->memoryuse, &q->maxproc, &q->ip4, &q->disk, &q->ports };
	return f[i];
}

bool quota_is_size(size_t i)
{
	return i == 1 || i == 4;
}

void quotas_from_text(const char *text, struct quotas *q)
{
	json_t *j = json_loads(text ? text : "{}", 0, NULL);
	for (size_t i = 0; i < QUOTA_COUNT; i++) {
		json_t *v = json_object_get(j, quota_keys[i]);
		*quota_field(q, i) = json_is_integer(v) ? json_integer_value(v) : -1;
	}
	json_decref(j);
}

char *quotas_to_text(const struct quotas *q)
{
	json_t *j = json_object();
	for (size_t i = 0; i < QUOTA_COUNT; i++) {
		int64_t v = *quota_field((struct quotas *)q, i);
		if (v >= 0)
			json_object_set_new(j, quota_keys[i], json_integer(v));
	}
	char *t = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(j);
	return t;
}

int tenant_usage(struct db *d, int64_t tenant_id, struct quotas *u, int64_t *unlimited_mem, int64_t *unlimited_proc,
		 int64_t *unlimited_disk, struct err *e)
{
	int64_t um, up, ud;
	int r = sq_one(d,
		       "SELECT COUNT(*), COALESCE(SUM(memoryuse), 0), COALESCE(SUM(maxproc), 0), COALESCE(SUM(CASE WHEN memoryuse IS NULL THEN 1 ELSE 0 END), 0), "
		       "COALESCE(SUM(CASE WHEN maxproc IS NULL THEN 1 ELSE 0 END), 0), (SELECT COUNT(*) FROM jail_ip4 a JOIN jails k ON k.id = a.jail_id "
		       "WHERE k.tenant_id = ?1), COALESCE(SUM(disk), 0), COALESCE(SUM(CASE WHEN disk IS NULL THEN 1 ELSE 0 END), 0), (SELECT COUNT(*) FROM "
		       "jail_ports p JOIN jails k ON k.id = p.jail_id WHERE k.tenant_id = ?1) FROM jails WHERE tenant_id = ?1",
		       PARAMS(P_INT(tenant_id)),
		       COLS(C_INT(&u->jails), C_INT(&u->memoryuse), C_INT(&u->maxproc), C_INT(&um), C_INT(&up), C_INT(&u->ip4),
			    C_INT(&u->disk), C_INT(&ud), C_INT(&u->ports)),
		       "reading tenant usage", e);
	if (r != 1)
		return r < 0 ? -1 : db_error(d, e, "reading tenant usage");
	if (unlimited_mem)
		*unlimited_mem = um;
	if (unlimited_proc)
		*unlimited_proc = up;
	if (unlimited_disk)
		*unlimited_disk = ud;
	return 0;
}

/* ---- tenants ---- */

#define TENANT_COLS "SELECT t.id, t.name, t.created_at, (SELECT COUNT(*) FROM jails j WHERE j.tenant_id = t.id), t.quotas, " \
		    "COALESCE(t.templates, ''), COALESCE(t.mounts, ''), t.isolate_jails FROM tenants t "

/* The columns of TENANT_COLS into t; quotas: the text, for quotas_from_text. */
#define TENANT_RESULT(t, quotas)                                                                                       \
	COLS(C_INT(&(t)->id), C_TEXT((t)->name), C_TEXT((t)->created_at), C_INT(&(t)->jails), C_TEXT_REF(&(quotas)), \
	     C_TEXT((t)->templates), C_TEXT((t)->mounts), C_BOOL(&(t)->isolate_jails))

int store_tenant_get(struct store *s, const char *name, struct tenant_row *out, struct err *e)
{
	struct db d;
	if (db_get(s, &d, e) < 0)
		return -1;
	char want[sizeof out->name]; /* name may be out->name */
	snprintf(want, sizeof want, "%s", name);
	memset(out, 0, sizeof *out);
	const char *quotas = NULL;
	struct sq q;
	int r = sq_start(&q, &d, TENANT_COLS "WHERE t.name = ?", PARAMS(P_TEXT(want)), TENANT_RESULT(out, quotas), "reading tenant", e);
	if (r == 0 && (r = sq_next(&q, e)) == 1)
		quotas_from_text(quotas, &out->quotas);
	sq_end(&q);
	int rc = r == 1 ? tenant_usage(&d, out->id, &out->usage, NULL, NULL, NULL, e)
		 : r == 0 ? err_set(e, ERR_NOT_FOUND, "no tenant named %s", want)
			  : -1;
	db_put(&d);
	return rc;
}

int store_tenant_create(struct store *s, const char *name, const struct tenant_change *c, struct tenant_row *out, struct err *e)
{
	char now[32];
	store_now(now);
	char *qt = quotas_to_text(&c->quotas);
	int64_t n = store_exec(s,
			       "INSERT INTO tenants(name, created_at, quotas, templates, mounts, isolate_jails) VALUES (?, ?, ?, "
			       "NULLIF(?, ''), NULLIF(NULLIF(?, ''), '[]'), ?)",
			       PARAMS(P_TEXT(name), P_TEXT(now), P_TEXT(qt), P_TEXT(c->set_templates && c->templates ? c->templates : ""),
				      P_TEXT(c->set_mounts && c->mounts ? c->mounts : ""), P_INT(c->set_isolate && c->isolate_jails)),
			       "creating tenant", e);
	free(qt);
	if (n < 0)
		return e->code == ERR_CONFLICT ? err_field(e, ERR_CONFLICT, "name", "a tenant named %s already exists", name) : -1;
	return store_tenant_get(s, name, out, e);
}

int store_tenant_change(struct store *s, int64_t id, const struct tenant_change *c, struct err *e)
{
	char *qt = quotas_to_text(&c->quotas);
	int64_t n = store_exec(s,
			       "UPDATE tenants SET quotas = ?1, templates = CASE WHEN ?2 <> 0 THEN NULLIF(?3, '') ELSE templates END, "
			       "mounts = CASE WHEN ?4 <> 0 THEN NULLIF(NULLIF(?5, ''), '[]') ELSE mounts END, "
			       "isolate_jails = CASE WHEN ?7 <> 0 THEN ?8 ELSE isolate_jails END WHERE id = ?6",
			       PARAMS(P_TEXT(qt), P_INT(c->set_templates), P_TEXT(c->templates ? c->templates : ""), P_INT(c->set_mounts),
				      P_TEXT(c->mounts ? c->mounts : ""), P_INT(id), P_INT(c->set_isolate), P_INT(c->isolate_jails)),
			       "changing tenant", e);
	free(qt);
	return n < 0 ? -1 : n == 0 ? err_set(e, ERR_NOT_FOUND, "no tenant %lld", (long long)id) : 0;
}

struct each_mounts {
	void (*fn)(int64_t id, const char *mounts, void *);
	void *arg;
	int64_t id;
	const char *mounts;
};

static void each_mounts_out(void *x)
{
	struct each_mounts *c = x;
	c->fn(c->id, c->mounts, c->arg);
}

int store_tenant_mounts_each(struct store *s, void (*fn)(int64_t id, const char *mounts, void *), void *arg, struct err *e)
{
	struct each_mounts c = { fn, arg, 0, NULL };
	return store_each(s, "SELECT id, mounts FROM tenants WHERE mounts IS NOT NULL", NO_PARAMS, COLS(C_INT(&c.id), C_TEXT_REF(&c.mounts)),
			  each_mounts_out, &c, "reading tenants' mount paths", e) < 0 ? -1 : 0;
}

bool store_template_allowed(struct store *s, int64_t tenant_id, const char *name)
{
	struct err e;
	bool ok = false;
	return store_one(s,
			 dialect(s, "SELECT templates IS NULL OR EXISTS (SELECT 1 FROM json_each(templates) WHERE value = ?2) FROM tenants WHERE id = ?1",
				 "SELECT templates IS NULL OR EXISTS (SELECT 1 FROM jsonb_array_elements_text(templates::jsonb) v WHERE v = ?2) "
				 "FROM tenants WHERE id = ?1"),
			 PARAMS(P_INT(tenant_id), P_TEXT(name)), COLS(C_BOOL(&ok)), "reading a tenant's templates", &e) == 1 &&
	       ok;
}

struct each_tenant {
	void (*fn)(const struct tenant_row *, void *);
	void *arg;
	struct db *d;
	struct tenant_row row;
	const char *quotas;
};

static void each_tenant_out(void *x)
{
	struct each_tenant *c = x;
	struct err ue;
	quotas_from_text(c->quotas, &c->row.quotas);
	if (tenant_usage(c->d, c->row.id, &c->row.usage, NULL, NULL, NULL, &ue))
		c->row.usage = (struct quotas)QUOTAS_NONE;
	c->fn(&c->row, c->arg);
}

int store_tenant_list(struct store *s, const char *after, int limit, void (*fn)(const struct tenant_row *, void *), void *arg,
		      struct err *e)
{
	struct db d;
	if (db_get(s, &d, e) < 0)
		return -1;
	struct each_tenant c = { .fn = fn, .arg = arg, .d = &d };
	int n = sq_each(&d, TENANT_COLS "WHERE t.name > ? ORDER BY t.name LIMIT ?", PARAMS(P_TEXT(after ? after : ""), P_INT(limit)),
			TENANT_RESULT(&c.row, c.quotas), each_tenant_out, &c, "listing tenants", e);
	db_put(&d);
	return n;
}

/* what the tenant has goes with it, in the same transaction: its users' browser
 * sessions, its users, its tokens, then the tenant */
static int tenant_delete_tx(struct db *d, int64_t id, struct err *e)
{
	int64_t n = -1;
	if (sq_one(d, "SELECT COUNT(*) FROM jails WHERE tenant_id = ?", PARAMS(P_INT(id)), COLS(C_INT(&n)), "deleting tenant", e) < 0)
		return -1;
	if (n != 0)
		return err_set(e, ERR_WRONG_STATE, "the tenant still owns %lld jails; destroy them, or delete with ?force=1", (long long)n);
	static const char *const steps[] = {
		"DELETE FROM sessions WHERE user_id IN (SELECT id FROM users WHERE tenant_id = ?)",
		"DELETE FROM users WHERE tenant_id = ?",
		"DELETE FROM tokens WHERE tenant_id = ?",
		"DELETE FROM tenants WHERE id = ?",
	};
	for (size_t i = 0; i < sizeof steps / sizeof *steps; i++)
		if (sq_exec(d, steps[i], PARAMS(P_INT(id)), "deleting tenant", e) < 0)
			return -1;
	return 0;
}

int store_tenant_delete(struct store *s, int64_t id, struct err *e)
{
	struct db d;
	int rc = db_get_tx(s, &d, e) < 0 ? -1 : db_end_tx(&d, tenant_delete_tx(&d, id, e), e);
	token_cache_void(s);
	return rc;
}

/* ---- tokens ---- */

void token_cache_void(struct store *s)
{
	pthread_mutex_lock(&s->token_mu);
	s->token_gen++;
	pthread_mutex_unlock(&s->token_mu);
}

int store_token_add(struct store *s, int64_t tenant_id, const char *name, const char *role, const uint8_t hash[32], struct err *e)
{
	int64_t id;
	return store_token_add_full(s, tenant_id, name, role, "", hash, &id, e);
}

int store_token_add_full(struct store *s, int64_t tenant_id, const char *name, const char *role, const char *expires_at,
			 const uint8_t hash[32], int64_t *id, struct err *e)
{
	struct db d;
	if (db_get(s, &d, e) < 0)
		return -1;
	char now[32];
	store_now(now);
	int n = sq_one(&d, "INSERT INTO tokens(tenant_id, name, role, hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?, NULLIF(?, '')) RETURNING id",
		       PARAMS(P_INT(tenant_id), P_TEXT(name), P_TEXT(role), P_BLOB(hash, 32), P_TEXT(now), P_TEXT(expires_at)),
		       COLS(C_INT(id)), "adding token", e);
	db_put(&d);
	token_cache_void(s);
	return n == 1 ? 0 : -1;
}

EACH_OF(token_row)

int store_token_list(struct store *s, int64_t tenant_id, void (*fn)(const struct token_row *, void *), void *arg, struct err *e)
{
	struct each_token_row c = { .fn = fn, .arg = arg };
	struct token_row *t = &c.row;
	return store_each(s,
			  "SELECT id, name, role, created_at, COALESCE(expires_at, ''), COALESCE(last_used_at, '') FROM tokens "
			  "WHERE tenant_id = ? ORDER BY id",
			  PARAMS(P_INT(tenant_id)),
			  COLS(C_INT(&t->id), C_TEXT(t->name), C_TEXT(t->role), C_TEXT(t->created_at), C_TEXT(t->expires_at),
			       C_TEXT(t->last_used_at)),
			  each_token_row_out, &c, "listing tokens", e);
}

int store_token_delete(struct store *s, int64_t tenant_id, int64_t token_id, struct err *e)
{
	int64_t n = store_exec(s, "DELETE FROM tokens WHERE id = ? AND tenant_id = ?", PARAMS(P_INT(token_id), P_INT(tenant_id)),
			       "revoking token", e);
	token_cache_void(s);
	return n < 0 ? -1 : n == 0 ? err_set(e, ERR_NOT_FOUND, "no token %lld", (long long)token_id) : 0;
}

/* tokens.last_used_at: written on a token's first use and then at most once a minute,
 * so a busy token costs no write per request. */
static void token_stamp(struct store *s, int64_t id, const char *now)
{
	struct err e;
	store_exec(s, "UPDATE tokens SET last_used_at = ? WHERE id = ?", PARAMS(P_TEXT(now), P_INT(id)), "stamping a token", &e);
}

int store_token_lookup(struct store *s, const uint8_t hash[32], struct token_info *out, struct err *e)
{
	char now[32];
	store_now(now);
	unsigned slot = hash[0] % (sizeof s->tokens / sizeof s->tokens[0]);
	pthread_mutex_lock(&s->token_mu);
	uint64_t gen = s->token_gen;
	bool same = s->tokens[slot].used && sodium_memcmp(s->tokens[slot].hash, hash, 32) == 0;
	/* a store other hosts share is asked every time: a token revoked on one host fails
	 * on every host at its next request; only the once-a-minute stamp is remembered */
	bool hit = !s->shared && same && s->tokens[slot].gen == gen &&
		   (!s->tokens[slot].expires_at[0] || strcmp(s->tokens[slot].expires_at, now) > 0);
	bool stamped_lately = same && time(NULL) - s->tokens[slot].last_written < 60;
	bool stamp = false;
	if (hit) {
		*out = s->tokens[slot].info;
		time_t t = time(NULL);
		if (t - s->tokens[slot].last_written >= 60) {
			s->tokens[slot].last_written = t;
			stamp = true;
		}
	}
	pthread_mutex_unlock(&s->token_mu);
	if (hit) {
		if (stamp)
			token_stamp(s, out->id, now);
		return 0;
	}

	char expires[32] = "";
	struct token_info t = *out;
	int r = store_one(s,
			  "SELECT t.id, t.tenant_id, n.name, t.role, COALESCE(t.expires_at, ''), t.name FROM tokens t "
			  "JOIN tenants n ON n.id = t.tenant_id WHERE t.hash = ? AND (t.expires_at IS NULL OR t.expires_at > ?)",
			  PARAMS(P_BLOB(hash, 32), P_TEXT(now)),
			  COLS(C_INT(&t.id), C_INT(&t.tenant_id), C_TEXT(t.tenant), C_TEXT(t.role), C_TEXT(expires), C_TEXT(t.name)),
			  "reading token", e);
	if (r != 1)
		return r < 0 ? -1 : err_set(e, ERR_NOT_FOUND, "no such token");
	*out = t;
	if (!stamped_lately)
		token_stamp(s, out->id, now);
	pthread_mutex_lock(&s->token_mu);
	if (s->token_gen == gen) { /* no token changed while we read */
		memcpy(s->tokens[slot].hash, hash, 32);
		s->tokens[slot].info = *out;
		snprintf(s->tokens[slot].expires_at, sizeof s->tokens[slot].expires_at, "%s", expires);
		s->tokens[slot].gen = gen;
		s->tokens[slot].used = true;
		if (!stamped_lately)
			s->tokens[slot].last_written = time(NULL);
	}
	pthread_mutex_unlock(&s->token_mu);
	return 0;
}

bool store_token_cached(struct store *s, const uint8_t hash[32], struct token_info *out)
{
	unsigned slot = hash[0] % (sizeof s->tokens / sizeof s->tokens[0]);
	pthread_mutex_lock(&s->token_mu);
	bool hit = !s->shared && s->tokens[slot].used && s->tokens[slot].gen == s->token_gen &&
		   sodium_memcmp(s->tokens[slot].hash, hash, 32) == 0 && time(NULL) - s->tokens[slot].last_written < 60;
	char expires[32];
	if (hit) {
		*out = s->tokens[slot].info;
		memcpy(expires, s->tokens[slot].expires_at, sizeof expires);
	}
	pthread_mutex_unlock(&s->token_mu);
	if (hit && expires[0]) {
		char now[32];
		store_now(now);
		hit = strcmp(expires, now) > 0;
	}
	return hit;
}

int store_token_count(struct store *s, int64_t *n, struct err *e)
{
	return store_one(s, "SELECT COUNT(*) FROM tokens", NO_PARAMS, COLS(C_INT(n)), "counting tokens", e) == 1 ? 0 : -1;
}
