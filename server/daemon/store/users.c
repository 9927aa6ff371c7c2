/* users.c — a tenant's users (web console logins) and their browser sessions. */
#include <stdio.h>
#include <string.h>

#include "store/db.h"

int store_user_add(struct store *s, int64_t tenant_id, const char *name, const char *pwhash, struct err *e)
{
	char now[32];
	store_now(now);
	if (store_exec(s, "INSERT INTO users(tenant_id, name, password, created_at) VALUES (?, ?, ?, ?)",
		       PARAMS(P_INT(tenant_id), P_TEXT(name), P_TEXT(pwhash), P_TEXT(now)), "adding user", e) >= 0)
		return 0;
	return e->code == ERR_CONFLICT ? err_field(e, ERR_CONFLICT, "name", "the tenant already has a user named %s", name) : -1;
}

int store_user_delete(struct store *s, int64_t tenant_id, const char *name, struct err *e)
{
	int64_t n = store_exec(s, "DELETE FROM users WHERE tenant_id = ? AND name = ?", PARAMS(P_INT(tenant_id), P_TEXT(name)),
			       "deleting user", e);
	return n < 0 ? -1 : n == 0 ? err_set(e, ERR_NOT_FOUND, "no user named %s", name) : 0;
}

int store_user_get(struct store *s, const char *tenant, const char *name, int64_t *user_id, char *pwhash, size_t n, struct err *e)
{
	int r = store_one(s, "SELECT u.id, u.password FROM users u JOIN tenants t ON t.id = u.tenant_id WHERE t.name = ? AND u.name = ?",
			  PARAMS(P_TEXT(tenant), P_TEXT(name)), COLS(C_INT(user_id), C_TEXTN(pwhash, n)), "reading user", e);
	return r == 1 ? 0 : r == 0 ? err_set(e, ERR_NOT_FOUND, "no such user") : -1;
}

struct each_user {
	void (*fn)(const char *name, const char *created_at, void *);
	void *arg;
	char name[64], created_at[32];
};

static void each_user_out(void *x)
{
	struct each_user *c = x;
	c->fn(c->name, c->created_at, c->arg);
}

int store_user_list(struct store *s, int64_t tenant_id, void (*fn)(const char *name, const char *created_at, void *), void *arg,
		    struct err *e)
{
	struct each_user c = { fn, arg, "", "" };
	return store_each(s, "SELECT name, created_at FROM users WHERE tenant_id = ? ORDER BY name", PARAMS(P_INT(tenant_id)),
			  COLS(C_TEXT(c.name), C_TEXT(c.created_at)), each_user_out, &c, "listing users", e);
}

int store_session_add(struct store *s, const uint8_t hash[32], int64_t user_id, const char *csrf, const char *expires_at,
		      struct err *e)
{
	struct db d;
	if (db_get(s, &d, e) < 0)
		return -1;
	char now[32];
	store_now(now);
	struct err ignored;
	sq_exec(&d, "DELETE FROM sessions WHERE expires_at < ?", PARAMS(P_TEXT(now)), "forgetting expired sessions", &ignored);
	int64_t n = sq_exec(&d, "INSERT INTO sessions(hash, user_id, csrf, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
			    PARAMS(P_BLOB(hash, 32), P_INT(user_id), P_TEXT(csrf), P_TEXT(now), P_TEXT(expires_at)), "starting a session", e);
	db_put(&d);
	return n < 0 ? -1 : 0;
}

int store_session_lookup(struct store *s, const uint8_t hash[32], struct token_info *who, struct err *e)
{
	char now[32];
	store_now(now);
	struct token_info w;
	memset(&w, 0, sizeof w);
	int r = store_one(s,
			  "SELECT u.id, u.name, t.id, t.name, x.csrf FROM sessions x JOIN users u ON u.id = x.user_id "
			  "JOIN tenants t ON t.id = u.tenant_id WHERE x.hash = ? AND x.expires_at > ?",
			  PARAMS(P_BLOB(hash, 32), P_TEXT(now)),
			  COLS(C_INT(&w.user_id), C_TEXT(w.name), C_INT(&w.tenant_id), C_TEXT(w.tenant), C_TEXT(w.csrf)),
			  "reading a session", e);
	if (r != 1)
		return r < 0 ? -1 : err_set(e, ERR_NOT_FOUND, "no such session");
	snprintf(w.role, sizeof w.role, "tenant");
	*who = w;
	return 0;
}

void store_session_delete(struct store *s, const uint8_t hash[32])
{
	struct err e;
	store_exec(s, "DELETE FROM sessions WHERE hash = ?", PARAMS(P_BLOB(hash, 32)), "ending a session", &e);
}
