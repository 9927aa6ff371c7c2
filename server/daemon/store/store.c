#include "store/store.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "size.h"

struct migration {
	int version;
	const char *name;
	const char *sql;
};
extern const struct migration schema_migrations[];

#define POOL_SIZE 64
#define STMT_CACHE 32

struct store {
	char path[512];
	/* an address the host routes elsewhere (another jaild's jail) is not handed out */
	bool (*addr4_taken)(uint32_t addr);
	struct pool4 p4;
	struct pool6 p6;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	sqlite3 *conns[POOL_SIZE];
	/* prepared statements of constant SQL, per connection, found by the SQL's address */
	struct {
		const char *sql;
		sqlite3_stmt *st;
	} stmts[POOL_SIZE][STMT_CACHE];
	bool busy[POOL_SIZE];
	int nconns;
	bool memory;
	/* Token lookups, answered from memory: every token write goes through this store
	 * and bumps token_gen, which voids all entries, so a revoked token fails on the
	 * very next request; expiry is checked on each hit. */
	pthread_mutex_t token_mu;
	uint64_t token_gen;
	struct {
		uint8_t hash[32];
		struct token_info info;
		char expires_at[32]; /* "" for never */
		uint64_t gen;
		bool used;
		time_t last_written; /* last_used_at is written at most once a minute */
	} tokens[64];
};

void store_now(char buf[32])
{
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int db_err(sqlite3 *db, struct err *e, const char *what)
{
	int code = sqlite3_extended_errcode(db);
	if (code == SQLITE_CONSTRAINT_UNIQUE || code == SQLITE_CONSTRAINT_PRIMARYKEY)
		return err_set(e, ERR_CONFLICT, "%s: already exists", what);
	if (code == SQLITE_BUSY)
		return err_set(e, ERR_BUSY, "%s: the database is busy; retry", what);
	return err_set(e, ERR_INTERNAL, "%s: %s", what, sqlite3_errmsg(db));
}

static int exec_sql(sqlite3 *db, const char *sql, struct err *e)
{
	char *msg = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		err_set(e, ERR_INTERNAL, "database: %s", msg ? msg : "error");
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

static sqlite3 *open_conn(struct store *s, struct err *e)
{
	sqlite3 *db;
	if (sqlite3_open_v2(s->path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX | (s->memory ? SQLITE_OPEN_SHAREDCACHE | SQLITE_OPEN_URI : 0), NULL) != SQLITE_OK) {
		err_set(e, ERR_INTERNAL, "opening database %s: %s", s->path, db ? sqlite3_errmsg(db) : "out of memory");
		sqlite3_close(db);
		return NULL;
	}
	sqlite3_busy_timeout(db, 5000);
	if (exec_sql(db, "PRAGMA foreign_keys=ON; PRAGMA synchronous=NORMAL;", e) ||
	    (!s->memory && exec_sql(db, "PRAGMA journal_mode=WAL;", e))) {
		sqlite3_close(db);
		return NULL;
	}
	return db;
}

static int migrate(sqlite3 *db, struct err *e)
{
	if (exec_sql(db, "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)", e))
		return -1;
	for (const struct migration *m = schema_migrations; m->sql; m++) {
		sqlite3_stmt *st;
		sqlite3_prepare_v2(db, "SELECT 1 FROM schema_migrations WHERE version = ?", -1, &st, NULL);
		sqlite3_bind_int(st, 1, m->version);
		bool done = sqlite3_step(st) == SQLITE_ROW;
		sqlite3_finalize(st);
		if (done)
			continue;
		if (exec_sql(db, "BEGIN IMMEDIATE", e))
			return -1;
		char now[32], *ins;
		store_now(now);
		ins = sqlite3_mprintf("INSERT INTO schema_migrations VALUES (%d, %Q, %Q)", m->version, m->name, now);
		int r = exec_sql(db, m->sql, e) || exec_sql(db, ins, e);
		sqlite3_free(ins);
		if (r) {
			exec_sql(db, "ROLLBACK", NULL);
			return err_set(e, ERR_INTERNAL, "migration %s failed: %s", m->name, e->msg);
		}
		if (exec_sql(db, "COMMIT", e))
			return -1;
		log_info("applied schema migration %s", m->name);
	}
	return 0;
}

struct store *store_open(const char *path, const struct pool4 *p4, const struct pool6 *p6, struct err *e)
{
	struct store *s = calloc(1, sizeof *s);
	if (!s) {
		err_set(e, ERR_INTERNAL, "out of memory");
		return NULL;
	}
	s->memory = strcmp(path, ":memory:") == 0;
	if (s->memory) {
		/* one shared in-memory database for every pooled connection */
		static int counter;
		snprintf(s->path, sizeof s->path, "file:jaildmem%d_%p?mode=memory&cache=shared", ++counter, (void *)s);
	} else {
		snprintf(s->path, sizeof s->path, "%s", path);
	}
	s->p4 = *p4;
	s->p6 = *p6;
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	pthread_mutex_init(&s->token_mu, NULL);
	s->token_gen = 1;
	s->conns[0] = open_conn(s, e);
	if (!s->conns[0] || migrate(s->conns[0], e)) {
		store_close(s);
		return NULL;
	}
	s->nconns = 1;
	return s;
}

void store_close(struct store *s)
{
	if (!s)
		return;
	for (int i = 0; i < POOL_SIZE; i++) {
		for (int k = 0; k < STMT_CACHE; k++)
			if (s->stmts[i][k].st)
				sqlite3_finalize(s->stmts[i][k].st);
		if (s->conns[i])
			sqlite3_close(s->conns[i]);
	}
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->token_mu);
	free(s);
}

static sqlite3 *acquire(struct store *s, int *slot, struct err *e)
{
	pthread_mutex_lock(&s->mu);
	for (;;) {
		for (int i = 0; i < s->nconns; i++)
			if (!s->busy[i]) {
				s->busy[i] = true;
				*slot = i;
				pthread_mutex_unlock(&s->mu);
				return s->conns[i];
			}
		if (s->nconns < POOL_SIZE) {
			int i = s->nconns++;
			s->busy[i] = true;
			pthread_mutex_unlock(&s->mu);
			s->conns[i] = open_conn(s, e);
			if (!s->conns[i]) {
				pthread_mutex_lock(&s->mu);
				s->busy[i] = false;
				s->nconns--;
				pthread_mutex_unlock(&s->mu);
				return NULL;
			}
			*slot = i;
			return s->conns[i];
		}
		pthread_cond_wait(&s->cv, &s->mu);
	}
}

static void release(struct store *s, int slot)
{
	pthread_mutex_lock(&s->mu);
	s->busy[slot] = false;
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
}

/* A prepared statement for constant SQL (a string literal): kept per connection and
 * reset after use instead of being compiled on every request. */
static int prep(struct store *s, int slot, const char *sql, sqlite3_stmt **st)
{
	for (int i = 0; i < STMT_CACHE; i++) {
		if (s->stmts[slot][i].sql == sql) {
			*st = s->stmts[slot][i].st;
			return SQLITE_OK;
		}
		if (!s->stmts[slot][i].sql) {
			int rc = sqlite3_prepare_v3(s->conns[slot], sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL);
			if (rc == SQLITE_OK) {
				s->stmts[slot][i].sql = sql;
				s->stmts[slot][i].st = *st;
			}
			return rc;
		}
	}
	return sqlite3_prepare_v2(s->conns[slot], sql, -1, st, NULL);
}

static void done(struct store *s, int slot, sqlite3_stmt *st)
{
	for (int i = 0; i < STMT_CACHE && s->stmts[slot][i].sql; i++)
		if (s->stmts[slot][i].st == st) {
			sqlite3_reset(st);
			sqlite3_clear_bindings(st);
			return;
		}
	sqlite3_finalize(st);
}

#define PREP(sql, st) prep(s, db_slot, sql, st)
#define DONE(st) done(s, db_slot, st)

#define WITH_DB(s, db, e)                     \
	int db##_slot;                        \
	sqlite3 *db = acquire(s, &db##_slot, e); \
	if (!db)                              \
		return -1;

int store_schema_version(struct store *s)
{
	struct err e;
	WITH_DB(s, db, &e);
	sqlite3_stmt *st;
	int v = 0;
	if (PREP("SELECT MAX(version) FROM schema_migrations", &st) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW)
			v = sqlite3_column_int(st, 0);
		DONE(st);
	}
	release(s, db_slot);
	return v;
}

int store_tenant_lookup(struct store *s, const char *name, int64_t *id, struct err *e)
{
	WITH_DB(s, db, e);
	sqlite3_stmt *st;
	PREP("SELECT id FROM tenants WHERE name = ?", &st);
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st) == SQLITE_ROW ? 0 : err_set(e, ERR_NOT_FOUND, "no tenant named %s", name);
	if (rc == 0)
		*id = sqlite3_column_int64(st, 0);
	DONE(st);
	release(s, db_slot);
	return rc;
}

int store_tenant_ensure(struct store *s, const char *name, int64_t *id, struct err *e)
{
	WITH_DB(s, db, e);
	char now[32];
	store_now(now);
	sqlite3_stmt *st;
	int rc = -1;
	PREP("INSERT INTO tenants(name, created_at) VALUES (?, ?) ON CONFLICT(name) DO NOTHING", &st);
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, now, -1, SQLITE_STATIC);
	int r = sqlite3_step(st);
	DONE(st);
	if (r != SQLITE_DONE) {
		db_err(db, e, "creating tenant");
		goto out;
	}
	PREP("SELECT id FROM tenants WHERE name = ?", &st);
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		*id = sqlite3_column_int64(st, 0);
		rc = 0;
	} else {
		db_err(db, e, "reading tenant");
	}
	DONE(st);
out:
	release(s, db_slot);
	return rc;
}

static void token_cache_void(struct store *s);
static void col_text(sqlite3_stmt *st, int i, char *buf, size_t n);
static void quotas_from_text(const char *text, struct quotas *q);
static char *quotas_to_text(const struct quotas *q);
static int tenant_usage(struct store *s, int db_slot, int64_t tenant_id, struct quotas *u, int64_t *unlimited_mem,
			int64_t *unlimited_proc, int64_t *unlimited_disk, struct err *e);

int store_token_add(struct store *s, int64_t tenant_id, const char *name, const char *role, const uint8_t hash[32], struct err *e)
{
	int64_t id;
	return store_token_add_full(s, tenant_id, name, role, "", hash, &id, e);
}

int store_token_add_full(struct store *s, int64_t tenant_id, const char *name, const char *role, const char *expires_at,
			 const uint8_t hash[32], int64_t *id, struct err *e)
{
	WITH_DB(s, db, e);
	char now[32];
	store_now(now);
	sqlite3_stmt *st;
	PREP("INSERT INTO tokens(tenant_id, name, role, hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?, NULLIF(?, ''))", &st);
	sqlite3_bind_int64(st, 1, tenant_id);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, role, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 4, hash, 32, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, now, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, expires_at, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : db_err(db, e, "adding token");
	if (rc == 0)
		*id = sqlite3_last_insert_rowid(db);
	DONE(st);
	release(s, db_slot);
	token_cache_void(s);
	return rc;
}

int store_token_list(struct store *s, int64_t tenant_id, void (*fn)(const struct token_row *, void *), void *arg, struct err *e)
{
	WITH_DB(s, db, e);
	sqlite3_stmt *st;
	PREP("SELECT id, name, role, created_at, COALESCE(expires_at, ''), COALESCE(last_used_at, '') FROM tokens "
	     "WHERE tenant_id = ? ORDER BY id", &st);
	sqlite3_bind_int64(st, 1, tenant_id);
	int n = 0, r;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		struct token_row t = { .id = sqlite3_column_int64(st, 0) };
		col_text(st, 1, t.name, sizeof t.name);
		col_text(st, 2, t.role, sizeof t.role);
		col_text(st, 3, t.created_at, sizeof t.created_at);
		col_text(st, 4, t.expires_at, sizeof t.expires_at);
		col_text(st, 5, t.last_used_at, sizeof t.last_used_at);
		fn(&t, arg);
		n++;
	}
	if (r != SQLITE_DONE)
		n = db_err(db, e, "listing tokens");
	DONE(st);
	release(s, db_slot);
	return n;
}

int store_token_delete(struct store *s, int64_t tenant_id, int64_t token_id, struct err *e)
{
	WITH_DB(s, db, e);
	sqlite3_stmt *st;
	PREP("DELETE FROM tokens WHERE id = ? AND tenant_id = ?", &st);
	sqlite3_bind_int64(st, 1, token_id);
	sqlite3_bind_int64(st, 2, tenant_id);
	int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : db_err(db, e, "revoking token");
	if (rc == 0 && sqlite3_changes(db) == 0)
		rc = err_set(e, ERR_NOT_FOUND, "no token %lld", (long long)token_id);
	DONE(st);
	release(s, db_slot);
	token_cache_void(s);
	return rc;
}

static void read_tenant(sqlite3_stmt *st, struct tenant_row *t)
{
	memset(t, 0, sizeof *t);
	t->id = sqlite3_column_int64(st, 0);
	col_text(st, 1, t->name, sizeof t->name);
	col_text(st, 2, t->created_at, sizeof t->created_at);
	t->jails = sqlite3_column_int64(st, 3);
	quotas_from_text((const char *)sqlite3_column_text(st, 4), &t->quotas);
	col_text(st, 5, t->templates, sizeof t->templates);
	col_text(st, 6, t->mounts, sizeof t->mounts);
}

static int fill_usage(struct store *s, int db_slot, struct tenant_row *t, struct err *e)
{
	return tenant_usage(s, db_slot, t->id, &t->usage, NULL, NULL, NULL, e);
}

#define TENANT_COLS "SELECT t.id, t.name, t.created_at, (SELECT COUNT(*) FROM jails j WHERE j.tenant_id = t.id), t.quotas, " \
		    "COALESCE(t.templates, ''), COALESCE(t.mounts, '') FROM tenants t "

int store_tenant_get(struct store *s, const char *name, struct tenant_row *out, struct err *e)
{
	WITH_DB(s, db, e);
	sqlite3_stmt *st;
	PREP(TENANT_COLS "WHERE t.name = ?", &st);
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	int rc = 0;
	if (sqlite3_step(st) == SQLITE_ROW)
		read_tenant(st, out);
	else
		rc = err_set(e, ERR_NOT_FOUND, "no tenant named %s", name);
	DONE(st);
	if (rc == 0)
		rc = fill_usage(s, db_slot, out, e);
	release(s, db_slot);
	return rc;
}

int store_tenant_create(struct store *s, const char *name, const struct quotas *q, struct tenant_row *out, struct err *e)
{
	WITH_DB(s, db, e);
	char now[32];
	store_now(now);
	sqlite3_stmt *st;
	char *qt = quotas_to_text(q);
	PREP("INSERT INTO tenants(name, created_at, quotas) VALUES (?, ?, ?)", &st);
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, now, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, qt, -1, SQLITE_TRANSIENT);
	free(qt);
	int rc = 0;
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = sqlite3_extended_errcode(db) == SQLITE_CONSTRAINT_UNIQUE
			     ? err_field(e, ERR_CONFLICT, "name", "a tenant named %s already exists", name)
			     : db_err(db, e, "creating tenant");
	DONE(st);
	release(s, db_slot);
	return rc ? rc : store_tenant_get(s, name, out, e);
}

int store_tenant_set_quotas(struct store *s, int64_t id, const struct quotas *q, struct err *e)
{
	WITH_DB(s, db, e);
	sqlite3_stmt *st;
	char *qt = quotas_to_text(q);
	PREP("UPDATE tenants SET quotas = ? WHERE id = ?", &st);
	sqlite3_bind_text(st, 1, qt, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, id);
	free(qt);
	int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : db_err(db, e, "setting quotas");
	DONE(st);
	release(s, db_slot);
	return rc;
}

/* Sets one text column of a tenant (sql binds the text, then the id). */
static int tenant_set_text(struct store *s, const char *sql, int64_t id, const char *text, const char *what, struct err *e)
{
	WITH_DB(s, db, e);
	sqlite3_stmt *st;
	PREP(sql, &st);
	sqlite3_bind_text(st, 1, text ? text : "", -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, id);
	int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : db_err(db, e, what);
	DONE(st);
	release(s, db_slot);
	return rc;
}

int store_tenant_set_templates(struct store *s, int64_t id, const char *templates, struct err *e)
{
	static const char sql[] = "UPDATE tenants SET templates = NULLIF(?, '') WHERE id = ?";
	return tenant_set_text(s, sql, id, templates, "setting a tenant's templates", e);
}

int store_tenant_set_mounts(struct store *s, int64_t id, const char *mounts, struct err *e)
{
	static const char sql[] = "UPDATE tenants SET mounts = NULLIF(NULLIF(?, ''), '[]') WHERE id = ?";
	return tenant_set_text(s, sql, id, mounts, "setting a tenant's mount paths", e);
}

int store_tenant_mounts_each(struct store *s, void (*fn)(int64_t id, const char *mounts, void *), void *arg, struct err *e)
{
	WITH_DB(s, db, e);
	sqlite3_stmt *st;
	PREP("SELECT id, mounts FROM tenants WHERE mounts IS NOT NULL", &st);
	int r;
	while ((r = sqlite3_step(st)) == SQLITE_ROW)
		fn(sqlite3_column_int64(st, 0), (const char *)sqlite3_column_text(st, 1), arg);
	int rc = r == SQLITE_DONE ? 0 : db_err(db, e, "reading tenants' mount paths");
	DONE(st);
	release(s, db_slot);
	return rc;
}

bool store_template_allowed(struct store *s, int64_t tenant_id, const char *name)
{
	struct err e;
	WITH_DB(s, db, &e);
	sqlite3_stmt *st;
	PREP("SELECT templates IS NULL OR EXISTS (SELECT 1 FROM json_each(templates) WHERE value = ?2) FROM tenants WHERE id = ?1", &st);
	sqlite3_bind_int64(st, 1, tenant_id);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	bool ok = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0);
	DONE(st);
	release(s, db_slot);
	return ok;
}

int store_tenant_list(struct store *s, const char *after, int limit, void (*fn)(const struct tenant_row *, void *), void *arg,
		      struct err *e)
{
	WITH_DB(s, db, e);
	sqlite3_stmt *st;
	PREP(TENANT_COLS "WHERE t.name > ? ORDER BY t.name LIMIT ?", &st);
	sqlite3_bind_text(st, 1, after ? after : "", -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, limit);
	int n = 0, r;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		struct tenant_row t;
		read_tenant(st, &t);
		struct err ue;
		if (fill_usage(s, db_slot, &t, &ue))
			t.usage = (struct quotas){ -1, -1, -1, -1, -1 };
		fn(&t, arg);
		n++;
	}
	if (r != SQLITE_DONE)
		n = db_err(db, e, "listing tenants");
	DONE(st);
	release(s, db_slot);
	return n;
}

int store_tenant_delete(struct store *s, int64_t id, struct err *e)
{
	WITH_DB(s, db, e);
	int rc = -1;
	sqlite3_stmt *st;
	if (exec_sql(db, "BEGIN IMMEDIATE", e))
		goto out;
	PREP("SELECT COUNT(*) FROM jails WHERE tenant_id = ?", &st);
	sqlite3_bind_int64(st, 1, id);
	int64_t n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
	DONE(st);
	if (n != 0) {
		err_set(e, ERR_WRONG_STATE, "the tenant still owns %lld jails; destroy them, or delete with ?force=1", (long long)n);
		goto rollback;
	}
	/* what the tenant has goes with it, in the same transaction: its users' browser
	 * sessions, its users, its tokens, then the tenant */
	static const char *const steps[] = {
		"DELETE FROM sessions WHERE user_id IN (SELECT id FROM users WHERE tenant_id = ?)",
		"DELETE FROM users WHERE tenant_id = ?",
		"DELETE FROM tokens WHERE tenant_id = ?",
		"DELETE FROM tenants WHERE id = ?",
	};
	for (size_t i = 0; i < sizeof steps / sizeof *steps; i++) {
		PREP(steps[i], &st);
		sqlite3_bind_int64(st, 1, id);
		int r = sqlite3_step(st);
		DONE(st);
		if (r != SQLITE_DONE) {
			db_err(db, e, "deleting tenant");
			goto rollback;
		}
	}
	rc = exec_sql(db, "COMMIT", e);
	if (rc == 0)
		goto out;
rollback:
	exec_sql(db, "ROLLBACK", NULL);
out:
	release(s, db_slot);
	token_cache_void(s);
	return rc;
}

static void token_cache_void(struct store *s)
{
	pthread_mutex_lock(&s->token_mu);
	s->token_gen++;
	pthread_mutex_unlock(&s->token_mu);
}

/* tokens.last_used_at: written on a token's first use and then at most once a minute,
 * so a busy token costs no write per request. */
static void token_stamp(struct store *s, int64_t id, const char *now)
{
	struct err e;
	int db_slot;
	if (!acquire(s, &db_slot, &e))
		return;
	sqlite3_stmt *st;
	PREP("UPDATE tokens SET last_used_at = ? WHERE id = ?", &st);
	sqlite3_bind_text(st, 1, now, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, id);
	sqlite3_step(st);
	DONE(st);
	release(s, db_slot);
}

int store_token_lookup(struct store *s, const uint8_t hash[32], struct token_info *out, struct err *e)
{
	char now[32];
	store_now(now);
	unsigned slot = hash[0] % (sizeof s->tokens / sizeof s->tokens[0]);
	pthread_mutex_lock(&s->token_mu);
	uint64_t gen = s->token_gen;
	bool hit = s->tokens[slot].used && s->tokens[slot].gen == gen && sodium_memcmp(s->tokens[slot].hash, hash, 32) == 0 &&
		   (!s->tokens[slot].expires_at[0] || strcmp(s->tokens[slot].expires_at, now) > 0);
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

	WITH_DB(s, db, e);
	sqlite3_stmt *st;
	PREP("SELECT t.id, t.tenant_id, n.name, t.role, COALESCE(t.expires_at, ''), t.name FROM tokens t "
	     "JOIN tenants n ON n.id = t.tenant_id WHERE t.hash = ? AND (t.expires_at IS NULL OR t.expires_at > ?)", &st);
	sqlite3_bind_blob(st, 1, hash, 32, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, now, -1, SQLITE_STATIC);
	int rc;
	char expires[32] = "";
	if (sqlite3_step(st) == SQLITE_ROW) {
		out->id = sqlite3_column_int64(st, 0);
		out->tenant_id = sqlite3_column_int64(st, 1);
		snprintf(out->tenant, sizeof out->tenant, "%s", (const char *)sqlite3_column_text(st, 2));
		snprintf(out->role, sizeof out->role, "%s", (const char *)sqlite3_column_text(st, 3));
		snprintf(expires, sizeof expires, "%s", (const char *)sqlite3_column_text(st, 4));
		snprintf(out->name, sizeof out->name, "%s", (const char *)sqlite3_column_text(st, 5));
		rc = 0;
	} else {
		rc = err_set(e, ERR_NOT_FOUND, "no such token");
	}
	DONE(st);
	release(s, db_slot);
	if (rc == 0)
		token_stamp(s, out->id, now);
	if (rc == 0) {
		pthread_mutex_lock(&s->token_mu);
		if (s->token_gen == gen) { /* no token changed while we read */
			memcpy(s->tokens[slot].hash, hash, 32);
			s->tokens[slot].info = *out;
			snprintf(s->tokens[slot].expires_at, sizeof s->tokens[slot].expires_at, "%s", expires);
			s->tokens[slot].gen = gen;
			s->tokens[slot].used = true;
			s->tokens[slot].last_written = time(NULL);
		}
		pthread_mutex_unlock(&s->token_mu);
	}
	return rc;
}

static int count_query(struct store *s, const char *sql, int64_t *n, struct err *e)
{
	WITH_DB(s, db, e);
	sqlite3_stmt *st;
	int rc = -1;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW) {
			*n = sqlite3_column_int64(st, 0);
			rc = 0;
		}
		sqlite3_finalize(st);
	}
	if (rc)
		db_err(db, e, "counting");
	release(s, db_slot);
	return rc;
}

int store_token_count(struct store *s, int64_t *n, struct err *e)
{
	return count_query(s, "SELECT COUNT(*) FROM tokens", n, e);
}

int store_jail_count(struct store *s, int64_t *n, struct err *e)
{
	return count_query(s, "SELECT COUNT(*) FROM jails", n, e);
}

int store_ip4_used(struct store *s, int64_t *n, struct err *e)
{
	return count_query(s, "SELECT COUNT(*) FROM jail_ip4", n, e);
}

int store_template_add(struct store *s, const char *name, const char *source, struct err *e)
{
	WITH_DB(s, db, e);
	char now[32];
	store_now(now);
	sqlite3_stmt *st;
	PREP("INSERT INTO templates(name, source, created_at) VALUES (?, ?, ?) ON CONFLICT(name) DO NOTHING", &st);
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, source, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, now, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : db_err(db, e, "adding template");
	DONE(st);
	release(s, db_slot);
	return rc;
}

int store_template_put(struct store *s, const char *name, const char *source, const char *sha256, struct err *e)
{
	WITH_DB(s, db, e);
	char now[32];
	store_now(now);
	sqlite3_stmt *st;
	PREP("INSERT INTO templates(name, source, created_at, sha256, updated_at) VALUES (?1, ?2, ?3, NULLIF(?4, ''), ?3) "
	     "ON CONFLICT(name) DO UPDATE SET source = ?2, sha256 = NULLIF(?4, ''), updated_at = ?3, version = version + 1", &st);
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, source, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, now, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, sha256 ? sha256 : "", -1, SQLITE_STATIC);
	int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : db_err(db, e, "recording template");
	DONE(st);
	release(s, db_slot);
	return rc;
}

int store_template_list(struct store *s, void (*fn)(const struct template_row *, void *), void *arg, struct err *e)
{
	WITH_DB(s, db, e);
	sqlite3_stmt *st;
	PREP("SELECT t.name, t.source, COALESCE(t.sha256, ''), t.version, t.created_at, COALESCE(t.updated_at, t.created_at), "
	     "(SELECT COUNT(*) FROM jails j WHERE json_extract(j.spec, '$.template') = t.name) FROM templates t ORDER BY t.name", &st);
	int n = 0, r;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		struct template_row t = { .version = sqlite3_column_int64(st, 3), .jails = sqlite3_column_int64(st, 6) };
		col_text(st, 0, t.name, sizeof t.name);
		col_text(st, 1, t.source, sizeof t.source);
		col_text(st, 2, t.sha256, sizeof t.sha256);
		col_text(st, 4, t.created_at, sizeof t.created_at);
		col_text(st, 5, t.updated_at, sizeof t.updated_at);
		fn(&t, arg);
		n++;
	}
	if (r != SQLITE_DONE)
		n = db_err(db, e, "listing templates");
	DONE(st);
	release(s, db_slot);
	return n;
}

static void template_found(const struct template_row *t, void *arg)
{
	struct template_row *want = arg;
	if (strcmp(t->name, want->name) == 0)
		*want = *t;
}

int store_template_get(struct store *s, const char *name, struct template_row *out, struct err *e)
{
	memset(out, 0, sizeof *out);
	snprintf(out->name, sizeof out->name, "%s", name);
	if (store_template_list(s, template_found, out, e) < 0)
		return -1;
	return out->created_at[0] ? 0 : err_set(e, ERR_NOT_FOUND, "no template named %s", name);
}

int store_template_delete(struct store *s, const char *name, struct err *e)
{
	WITH_DB(s, db, e);
	sqlite3_stmt *st;
	PREP("DELETE FROM templates WHERE name = ?", &st);
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : db_err(db, e, "deleting template");
	DONE(st);
	release(s, db_slot);
	return rc;
}

bool store_template_exists(struct store *s, const char *name)
{
	struct err e;
	WITH_DB(s, db, &e);
	sqlite3_stmt *st;
	PREP("SELECT 1 FROM templates WHERE name = ?", &st);
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	bool found = sqlite3_step(st) == SQLITE_ROW;
	DONE(st);
	release(s, db_slot);
	return found;
}

/* ---- jails ---- */

#define JAIL_COLS \
	"SELECT j.id, j.name, j.tenant_id, t.name, j.slot, j.state, j.pid, j.error, j.version, j.boot, j.priority, " \
	"j.created_at, j.started_at, j.spec FROM jails j JOIN tenants t ON t.id = j.tenant_id "

static void col_text(sqlite3_stmt *st, int i, char *buf, size_t n)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	snprintf(buf, n, "%s", t ? (const char *)t : "");
}

static void read_row(sqlite3_stmt *st, struct jail_row *r, bool text)
{
	memset(r, 0, sizeof *r);
	r->id = sqlite3_column_int64(st, 0);
	col_text(st, 1, r->name, sizeof r->name);
	r->tenant_id = sqlite3_column_int64(st, 2);
	col_text(st, 3, r->tenant, sizeof r->tenant);
	r->slot = (uint32_t)sqlite3_column_int64(st, 4);
	col_text(st, 5, r->state, sizeof r->state);
	r->pid = sqlite3_column_type(st, 6) == SQLITE_NULL ? 0 : sqlite3_column_int64(st, 6);
	col_text(st, 7, r->error, sizeof r->error);
	r->version = sqlite3_column_int64(st, 8);
	r->boot = sqlite3_column_int(st, 9);
	r->priority = sqlite3_column_int(st, 10);
	col_text(st, 11, r->created_at, sizeof r->created_at);
	col_text(st, 12, r->started_at, sizeof r->started_at);
	const char *spec = (const char *)sqlite3_column_text(st, 13);
	if (text) {
		r->spec_text = spec ? spec : "{}";
		return;
	}
	r->spec = spec ? json_loads(spec, 0, NULL) : NULL;
	if (!r->spec)
		r->spec = json_object();
}

void jail_row_clear(struct jail_row *row)
{
	if (row->spec)
		json_decref(row->spec);
	row->spec = NULL;
}

static int fetch_jail(struct store *s, int db_slot, const char *name, struct jail_row *row, struct err *e)
{
	sqlite3 *db = s->conns[db_slot];
	sqlite3_stmt *st;
	if (PREP(JAIL_COLS "WHERE j.name = ?", &st) != SQLITE_OK)
		return db_err(db, e, "reading jail");
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	int rc;
	if (sqlite3_step(st) == SQLITE_ROW) {
		read_row(st, row, false);
		rc = 0;
	} else {
		rc = err_set(e, ERR_NOT_FOUND, "no jail named %s", name);
	}
	DONE(st);
	return rc;
}

int store_jail_get(struct store *s, const char *name, struct jail_row *row, struct err *e)
{
	WITH_DB(s, db, e);
	int rc = fetch_jail(s, db_slot, name, row, e);
	release(s, db_slot);
	return rc;
}

/* The lowest free slot, and the lowest free address of the pool. */
static int alloc_slot(struct store *s, int db_slot, uint32_t *slot, struct err *e)
{
	sqlite3 *db = s->conns[db_slot];
	sqlite3_stmt *st;
	PREP("SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM jails WHERE slot = 0) THEN 0 ELSE "
			   "(SELECT MIN(slot + 1) FROM jails WHERE slot + 1 NOT IN (SELECT slot FROM jails)) END", &st);
	int rc = sqlite3_step(st) == SQLITE_ROW ? 0 : db_err(db, e, "allocating a uid slot");
	if (rc == 0)
		*slot = (uint32_t)sqlite3_column_int64(st, 0);
	DONE(st);
	return rc;
}

static int alloc_ip4(struct store *s, int db_slot, const struct pool4 *p, uint32_t *out, struct err *e)
{
	uint32_t from = p->net + 2, last = p->net + (uint32_t)((1ull << (32 - p->prefix)) - 2);
	sqlite3_stmt *st;
	PREP("SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM jail_ip4 WHERE addr = ?1) THEN ?1 ELSE "
			   "(SELECT MIN(addr + 1) FROM jail_ip4 WHERE addr >= ?1 AND addr + 1 <= ?2 AND addr + 1 NOT IN (SELECT addr FROM jail_ip4)) END", &st);
	int rc = 1;
	/* the lowest free address from `from` on; one the host already routes is passed over */
	for (int tries = 0; rc == 1 && tries < 4096 && from <= last; tries++) {
		sqlite3_bind_int64(st, 1, from);
		sqlite3_bind_int64(st, 2, last);
		if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
			uint32_t a = (uint32_t)sqlite3_column_int64(st, 0);
			if (s->addr4_taken && s->addr4_taken(a))
				from = a + 1;
			else
				*out = a, rc = 0;
		} else {
			rc = -1;
		}
		sqlite3_reset(st);
	}
	if (rc != 0)
		err_field(e, ERR_CONFLICT, "ip4", "the IPv4 address pool is exhausted; free addresses or widen pool4");
	DONE(st);
	return rc ? -1 : 0;
}

void store_set_addr4_filter(struct store *s, bool (*taken)(uint32_t addr))
{
	s->addr4_taken = taken;
}

static int alloc_ip6(const struct pool6 *p, uint32_t slot, uint8_t out[16], struct err *e)
{
	/* the pool's address ::(slot + 2): unique per jail while its slot is */
	memcpy(out, p->net, 16);
	uint32_t v = slot + 2;
	for (int i = 15; i >= 12; i--, v >>= 8)
		out[i] |= (uint8_t)(v & 0xff);
	if (!pool6_contains(p, out))
		return err_field(e, ERR_CONFLICT, "ip6", "the IPv6 pool is too small for another jail");
	return 0;
}

static int insert_addresses(struct store *s, int db_slot, int64_t jail_id, uint32_t slot, json_t *spec, struct err *e)
{
	json_t *l4 = json_object_get(spec, "ip4"), *l6 = json_object_get(spec, "ip6");
	json_t *n4 = json_array(), *n6 = json_array();
	size_t i;
	json_t *v;
	int rc = 0;
	json_array_foreach(l4, i, v) {
		uint32_t a = 0;
		struct in_addr in;
		char buf[INET_ADDRSTRLEN], field[32];
		snprintf(field, sizeof field, "ip4[%zu]", i);
		if (strcmp(json_string_value(v), "auto") == 0) {
			if (alloc_ip4(s, db_slot, &s->p4, &a, e)) {
				rc = -1;
				break;
			}
		} else {
			inet_pton(AF_INET, json_string_value(v), &in);
			a = ntohl(in.s_addr);
		}
		sqlite3_stmt *st;
		PREP("INSERT INTO jail_ip4(addr, jail_id) VALUES (?, ?)", &st);
		sqlite3_bind_int64(st, 1, a);
		sqlite3_bind_int64(st, 2, jail_id);
		int r = sqlite3_step(st);
		DONE(st);
		in.s_addr = htonl(a);
		inet_ntop(AF_INET, &in, buf, sizeof buf);
		if (r != SQLITE_DONE) {
			rc = err_field(e, ERR_CONFLICT, field, "%s is already used by another jail", buf);
			break;
		}
		json_array_append_new(n4, json_string(buf));
	}
	json_array_foreach(l6, i, v) {
		if (rc)
			break;
		uint8_t a[16];
		char buf[INET6_ADDRSTRLEN], field[32];
		snprintf(field, sizeof field, "ip6[%zu]", i);
		if (strcmp(json_string_value(v), "auto") == 0) {
			if (alloc_ip6(&s->p6, slot, a, e)) {
				rc = -1;
				break;
			}
		} else {
			inet_pton(AF_INET6, json_string_value(v), a);
		}
		inet_ntop(AF_INET6, a, buf, sizeof buf);
		sqlite3_stmt *st;
		PREP("INSERT INTO jail_ip6(addr, jail_id) VALUES (?, ?)", &st);
		sqlite3_bind_text(st, 1, buf, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 2, jail_id);
		int r = sqlite3_step(st);
		DONE(st);
		if (r != SQLITE_DONE) {
			rc = err_field(e, ERR_CONFLICT, field, "%s is already used by another jail", buf);
			break;
		}
		json_array_append_new(n6, json_string(buf));
	}
	if (rc == 0) {
		json_object_set(spec, "ip4", n4);
		json_object_set(spec, "ip6", n6);
	}
	json_decref(n4);
	json_decref(n6);
	return rc;
}

/* A limit as a number column: integers as they are, sizes ("256M") in bytes, absent NULL. */
static int64_t limit_bytes(json_t *v)
{
	int64_t b = -1;
	if (json_is_integer(v))
		b = json_integer_value(v);
	else if (json_is_string(v) && size_parse(json_string_value(v), &b) < 0)
		b = -1;
	return b;
}

static void bind_limit(sqlite3_stmt *st, int i, json_t *v)
{
	int64_t b = limit_bytes(v);
	if (b < 0)
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_int64(st, i, b);
}

/* ---- quotas ---- */

static const char *const quota_keys[] = { "jails", "memoryuse", "maxproc", "ip4", "disk" };

static int64_t *quota_field(struct quotas *q, size_t i)
{
	int64_t *f[] = { &q->jails, &q->memoryuse, &q->maxproc, &q->ip4, &q->disk };
	return f[i];
}

static void quotas_from_text(const char *text, struct quotas *q)
{
	json_t *j = json_loads(text ? text : "{}", 0, NULL);
	for (size_t i = 0; i < 5; i++) {
		json_t *v = json_object_get(j, quota_keys[i]);
		*quota_field(q, i) = json_is_integer(v) ? json_integer_value(v) : -1;
	}
	json_decref(j);
}

static char *quotas_to_text(const struct quotas *q)
{
	json_t *j = json_object();
	for (size_t i = 0; i < 5; i++) {
		int64_t v = *quota_field((struct quotas *)q, i);
		if (v >= 0)
			json_object_set_new(j, quota_keys[i], json_integer(v));
	}
	char *t = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(j);
	return t;
}

static int tenant_usage(struct store *s, int db_slot, int64_t tenant_id, struct quotas *u, int64_t *unlimited_mem,
			int64_t *unlimited_proc, int64_t *unlimited_disk, struct err *e)
{
	sqlite3 *db = s->conns[db_slot];
	sqlite3_stmt *st;
	PREP("SELECT COUNT(*), COALESCE(SUM(memoryuse), 0), COALESCE(SUM(maxproc), 0), COALESCE(SUM(memoryuse IS NULL), 0), "
	     "COALESCE(SUM(maxproc IS NULL), 0), (SELECT COUNT(*) FROM jail_ip4 a JOIN jails k ON k.id = a.jail_id WHERE k.tenant_id = ?1), "
	     "COALESCE(SUM(disk), 0), COALESCE(SUM(disk IS NULL), 0) FROM jails WHERE tenant_id = ?1", &st);
	sqlite3_bind_int64(st, 1, tenant_id);
	int rc = sqlite3_step(st) == SQLITE_ROW ? 0 : db_err(db, e, "reading tenant usage");
	if (rc == 0) {
		*u = (struct quotas){ sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1), sqlite3_column_int64(st, 2),
				      sqlite3_column_int64(st, 5), sqlite3_column_int64(st, 6) };
		if (unlimited_mem)
			*unlimited_mem = sqlite3_column_int64(st, 3);
		if (unlimited_proc)
			*unlimited_proc = sqlite3_column_int64(st, 4);
		if (unlimited_disk)
			*unlimited_disk = sqlite3_column_int64(st, 7);
	}
	DONE(st);
	return rc;
}

/* Inside the allocating transaction, after the change: is the tenant within its quotas? */
/* A quota in bytes (memory, disk): every jail must name the limit, and their sum must
 * fit; the message says it in sizes people read. */
static int byte_quota(const char *tenant, const char *what, const char *field, const char *example, int64_t quota,
		      int64_t used, int64_t unlimited, struct err *e)
{
	char qa[32], ua[32];
	if (quota < 0)
		return 0;
	size_human(quota, qa, sizeof qa);
	if (unlimited)
		return err_field(e, ERR_QUOTA, field, "tenant %s has %s of %s in all: every jail needs %s (\"%s\", say)", tenant,
				 qa, what, field, example);
	if (used <= quota)
		return 0;
	size_human(used, ua, sizeof ua);
	return err_field(e, ERR_QUOTA, field,
			 "tenant %s may use %s of %s and its jails would have %s; lower %s, or ask your provider for a larger quota",
			 tenant, qa, what, ua, field);
}

static int check_quotas(struct store *s, int db_slot, int64_t tenant_id, struct err *e)
{
	sqlite3_stmt *st;
	char name[64] = "";
	struct quotas q, u;
	int64_t unlimited_mem = 0, unlimited_proc = 0, unlimited_disk = 0;
	PREP("SELECT name, quotas FROM tenants WHERE id = ?", &st);
	sqlite3_bind_int64(st, 1, tenant_id);
	if (sqlite3_step(st) != SQLITE_ROW) {
		DONE(st);
		return err_set(e, ERR_NOT_FOUND, "the jail's tenant no longer exists");
	}
	col_text(st, 0, name, sizeof name);
	quotas_from_text((const char *)sqlite3_column_text(st, 1), &q);
	DONE(st);
	if (tenant_usage(s, db_slot, tenant_id, &u, &unlimited_mem, &unlimited_proc, &unlimited_disk, e))
		return -1;
	/* quotas are the provider's: a tenant lowers its own use, or asks */
	if (q.jails >= 0 && u.jails > q.jails)
		return err_field(e, ERR_QUOTA, "quotas.jails",
				 "tenant %s may have %lld jails and has %lld; destroy one, or ask your provider for a larger quota", name,
				 (long long)q.jails, (long long)(u.jails - 1));
	if (q.ip4 >= 0 && u.ip4 > q.ip4)
		return err_field(e, ERR_QUOTA, "quotas.ip4",
				 "tenant %s may hold %lld IPv4 addresses and this would make %lld; free one, or ask your provider for a "
				 "larger quota",
				 name, (long long)q.ip4, (long long)u.ip4);
	if (byte_quota(name, "memory", "limits.memoryuse", "256M", q.memoryuse, u.memoryuse, unlimited_mem, e))
		return -1;
	if (q.maxproc >= 0 && unlimited_proc)
		return err_field(e, ERR_QUOTA, "limits.maxproc",
				 "tenant %s may run %lld processes in all: every jail needs limits.maxproc", name, (long long)q.maxproc);
	if (q.maxproc >= 0 && u.maxproc > q.maxproc)
		return err_field(e, ERR_QUOTA, "limits.maxproc",
				 "tenant %s may run %lld processes and its jails would allow %lld; lower limits.maxproc, or ask your "
				 "provider for a larger quota",
				 name, (long long)q.maxproc, (long long)u.maxproc);
	if (byte_quota(name, "disk", "limits.disk", "1G", q.disk, u.disk, unlimited_disk, e))
		return -1;
	return 0;
}

static int write_spec(struct store *s, int db_slot, int64_t id, json_t *spec, struct err *e)
{
	sqlite3 *db = s->conns[db_slot];
	char *text = json_dumps(spec, JSON_COMPACT | JSON_SORT_KEYS);
	sqlite3_stmt *st;
	PREP("UPDATE jails SET spec = ?, boot = ?, priority = ?, memoryuse = ?, maxproc = ?, disk = ? WHERE id = ?", &st);
	sqlite3_bind_text(st, 1, text, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 2, json_is_true(json_object_get(spec, "boot")));
	sqlite3_bind_int64(st, 3, json_integer_value(json_object_get(spec, "priority")));
	bind_limit(st, 4, json_object_get(json_object_get(spec, "limits"), "memoryuse"));
	bind_limit(st, 5, json_object_get(json_object_get(spec, "limits"), "maxproc"));
	bind_limit(st, 6, json_object_get(json_object_get(spec, "limits"), "disk"));
	sqlite3_bind_int64(st, 7, id);
	int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : db_err(db, e, "writing jail spec");
	DONE(st);
	free(text);
	return rc;
}

int store_jail_insert(struct store *s, const char *name, int64_t tenant_id, json_t *spec, struct jail_row *row, struct err *e)
{
	WITH_DB(s, db, e);
	int rc = -1;
	char now[32];
	store_now(now);
	if (exec_sql(db, "BEGIN IMMEDIATE", e))
		goto out;
	uint32_t slot = 0;
	if (alloc_slot(s, db_slot, &slot, e))
		goto rollback;
	sqlite3_stmt *st;
	PREP("INSERT INTO jails(name, tenant_id, slot, spec, state, created_at) VALUES (?, ?, ?, '{}', 'stopped', ?)", &st);
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, tenant_id);
	sqlite3_bind_int64(st, 3, slot);
	sqlite3_bind_text(st, 4, now, -1, SQLITE_STATIC);
	int r = sqlite3_step(st);
	DONE(st);
	if (r != SQLITE_DONE) {
		if (sqlite3_extended_errcode(db) == SQLITE_CONSTRAINT_UNIQUE)
			err_field(e, ERR_CONFLICT, "name", "a jail named %s already exists", name);
		else
			db_err(db, e, "creating jail");
		goto rollback;
	}
	int64_t id = sqlite3_last_insert_rowid(db);
	if (insert_addresses(s, db_slot, id, slot, spec, e) || write_spec(s, db_slot, id, spec, e) ||
	    check_quotas(s, db_slot, tenant_id, e))
		goto rollback;
	if (exec_sql(db, "COMMIT", e))
		goto rollback;
	rc = fetch_jail(s, db_slot, name, row, e);
	goto out;
rollback:
	exec_sql(db, "ROLLBACK", NULL);
out:
	release(s, db_slot);
	return rc;
}

int store_jail_update_spec(struct store *s, const char *name, int64_t version, json_t *spec, struct err *e)
{
	WITH_DB(s, db, e);
	int rc = -1;
	struct jail_row row = { 0 };
	if (exec_sql(db, "BEGIN IMMEDIATE", e))
		goto out;
	if (fetch_jail(s, db_slot, name, &row, e))
		goto rollback;
	if (row.version != version) {
		err_set(e, ERR_PRECONDITION, "jail %s changed since version %lld (now %lld); fetch it again", name,
			(long long)version, (long long)row.version);
		goto rollback;
	}
	char sql[128];
	snprintf(sql, sizeof sql, "DELETE FROM jail_ip4 WHERE jail_id = %lld; DELETE FROM jail_ip6 WHERE jail_id = %lld;",
		 (long long)row.id, (long long)row.id);
	if (exec_sql(db, sql, e) || insert_addresses(s, db_slot, row.id, row.slot, spec, e) || write_spec(s, db_slot, row.id, spec, e) ||
	    check_quotas(s, db_slot, row.tenant_id, e))
		goto rollback;
	snprintf(sql, sizeof sql, "UPDATE jails SET version = version + 1 WHERE id = %lld", (long long)row.id);
	if (exec_sql(db, sql, e) || exec_sql(db, "COMMIT", e))
		goto rollback;
	rc = 0;
	goto out;
rollback:
	exec_sql(db, "ROLLBACK", NULL);
out:
	jail_row_clear(&row);
	release(s, db_slot);
	return rc;
}

int store_jail_set_state(struct store *s, const char *name, const char *state, int64_t pid, const char *error, bool started, struct err *e)
{
	WITH_DB(s, db, e);
	char now[32];
	store_now(now);
	sqlite3_stmt *st;
	PREP("UPDATE jails SET state = ?1, pid = CASE WHEN ?2 < 0 THEN pid WHEN ?2 = 0 THEN NULL ELSE ?2 END, error = ?3, "
			   "started_at = CASE WHEN ?4 THEN ?5 ELSE started_at END, version = version + 1 WHERE name = ?6", &st);
	sqlite3_bind_text(st, 1, state, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, pid);
	if (error)
		sqlite3_bind_text(st, 3, error, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 3);
	sqlite3_bind_int(st, 4, started);
	sqlite3_bind_text(st, 5, now, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, name, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : db_err(db, e, "updating jail state");
	if (rc == 0 && sqlite3_changes(db) == 0)
		rc = err_set(e, ERR_NOT_FOUND, "no jail named %s", name);
	DONE(st);
	release(s, db_slot);
	return rc;
}

int store_jail_delete(struct store *s, const char *name, struct err *e)
{
	WITH_DB(s, db, e);
	sqlite3_stmt *st;
	PREP("DELETE FROM jails WHERE name = ?", &st);
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : db_err(db, e, "deleting jail");
	DONE(st);
	release(s, db_slot);
	return rc;
}

int store_jail_list(struct store *s, const struct jail_filter *f, void (*fn)(const struct jail_row *, void *), void *arg, struct err *e)
{
	WITH_DB(s, db, e);
	char sql[1024];
	snprintf(sql, sizeof sql,
		 "%sWHERE (?1 IS NULL OR j.state = ?1) AND (?2 = 0 OR j.tenant_id = ?2) AND j.name > ?3 %s ORDER BY %s LIMIT ?4",
		 JAIL_COLS, f->by_boot_order ? "AND j.boot = 1" : "", f->by_boot_order ? "j.priority, j.name" : "j.name");
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		db_err(db, e, "listing jails");
		release(s, db_slot);
		return -1;
	}
	if (f->state)
		sqlite3_bind_text(st, 1, f->state, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 1);
	sqlite3_bind_int64(st, 2, f->tenant_id);
	sqlite3_bind_text(st, 3, f->after ? f->after : "", -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 4, f->limit > 0 ? f->limit : -1);
	int n = 0, r;
	struct jail_row row;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		read_row(st, &row, f->spec_as_text);
		fn(&row, arg);
		jail_row_clear(&row);
		n++;
	}
	if (r != SQLITE_DONE)
		n = db_err(db, e, "listing jails");
	sqlite3_finalize(st);
	release(s, db_slot);
	return n;
}

/* ---- audit ---- */

int store_audit_add(struct store *s, const struct audit_row *a, struct err *e)
{
	WITH_DB(s, db, e);
	sqlite3_stmt *st;
	PREP("INSERT INTO audit(at, request_id, token_id, actor, tenant_id, action, target, status, source, link) "
	     "VALUES (?, ?, NULLIF(?, 0), ?, NULLIF(?, 0), ?, ?, ?, ?, NULLIF(?, ''))", &st);
	sqlite3_bind_text(st, 1, a->at, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, a->request_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, a->token_id);
	sqlite3_bind_text(st, 4, a->actor, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, a->tenant_id);
	sqlite3_bind_text(st, 6, a->action, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, a->target, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 8, a->status);
	sqlite3_bind_text(st, 9, a->source, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 10, a->link, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : db_err(db, e, "writing the audit log");
	DONE(st);
	release(s, db_slot);
	return rc;
}

int store_audit_list(struct store *s, const struct audit_filter *f, void (*fn)(const struct audit_row *, void *), void *arg,
		     struct err *e)
{
	WITH_DB(s, db, e);
	sqlite3_stmt *st;
	PREP("SELECT a.id, a.at, a.request_id, COALESCE(a.token_id, 0), a.actor, COALESCE(a.tenant_id, 0), COALESCE(t.name, ''), "
	     "a.action, a.target, a.status, a.source, COALESCE(a.link, '') FROM audit a LEFT JOIN tenants t ON t.id = a.tenant_id "
	     "WHERE (?1 = 0 OR a.tenant_id = ?1) AND (?2 = 0 OR a.id < ?2) AND (?3 IS NULL OR substr(a.action, 1, length(?3)) = ?3) "
	     "AND (?4 IS NULL OR a.target = ?4) AND (?5 = 0 OR a.status = ?5) ORDER BY a.id DESC LIMIT ?6", &st);
	sqlite3_bind_int64(st, 1, f->tenant_id);
	sqlite3_bind_int64(st, 2, f->before);
	if (f->action)
		sqlite3_bind_text(st, 3, f->action, -1, SQLITE_STATIC);
	if (f->target)
		sqlite3_bind_text(st, 4, f->target, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 5, f->status);
	sqlite3_bind_int(st, 6, f->limit);
	int n = 0, r;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		struct audit_row a = { .id = sqlite3_column_int64(st, 0) };
		col_text(st, 1, a.at, sizeof a.at);
		col_text(st, 2, a.request_id, sizeof a.request_id);
		a.token_id = sqlite3_column_int64(st, 3);
		col_text(st, 4, a.actor, sizeof a.actor);
		a.tenant_id = sqlite3_column_int64(st, 5);
		col_text(st, 6, a.tenant, sizeof a.tenant);
		col_text(st, 7, a.action, sizeof a.action);
		col_text(st, 8, a.target, sizeof a.target);
		a.status = sqlite3_column_int(st, 9);
		col_text(st, 10, a.source, sizeof a.source);
		col_text(st, 11, a.link, sizeof a.link);
		fn(&a, arg);
		n++;
	}
	if (r != SQLITE_DONE)
		n = db_err(db, e, "reading the audit log");
	DONE(st);
	release(s, db_slot);
	return n;
}

/* ---- snapshots ---- */

int store_snapshot_add(struct store *s, const char *jail, const char *name, int64_t bytes, struct err *e)
{
	WITH_DB(s, db, e);
	sqlite3_stmt *st;
	char now[32];
	store_now(now);
	PREP("INSERT INTO snapshots(jail_id, name, bytes, created_at) SELECT id, ?, ?, ? FROM jails WHERE name = ?", &st);
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, bytes);
	sqlite3_bind_text(st, 3, now, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, jail, -1, SQLITE_STATIC);
	int r = sqlite3_step(st), rc = 0;
	if (r == SQLITE_CONSTRAINT)
		rc = err_field(e, ERR_CONFLICT, "name", "jail %s already has a snapshot named %s", jail, name);
	else if (r != SQLITE_DONE)
		rc = db_err(db, e, "recording a snapshot");
	else if (sqlite3_changes(db) == 0)
		rc = err_set(e, ERR_NOT_FOUND, "no jail named %s", jail);
	DONE(st);
	release(s, db_slot);
	return rc;
}

int store_snapshot_list(struct store *s, const char *jail, void (*fn)(const struct snapshot_row *, void *), void *arg, struct err *e)
{
	WITH_DB(s, db, e);
	sqlite3_stmt *st;
	PREP("SELECT p.name, p.bytes, p.created_at FROM snapshots p JOIN jails j ON j.id = p.jail_id WHERE j.name = ? "
	     "ORDER BY p.created_at, p.rowid", &st);
	sqlite3_bind_text(st, 1, jail, -1, SQLITE_STATIC);
	int n = 0, r;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		struct snapshot_row p = { .bytes = sqlite3_column_int64(st, 1) };
		col_text(st, 0, p.name, sizeof p.name);
		col_text(st, 2, p.created_at, sizeof p.created_at);
		fn(&p, arg);
		n++;
	}
	if (r != SQLITE_DONE)
		n = db_err(db, e, "listing snapshots");
	DONE(st);
	release(s, db_slot);
	return n;
}

static void snapshot_found(const struct snapshot_row *p, void *arg)
{
	struct snapshot_row *want = arg;
	if (strcmp(p->name, want->name) == 0)
		*want = *p;
}

int store_snapshot_get(struct store *s, const char *jail, const char *name, struct snapshot_row *out, struct err *e)
{
	memset(out, 0, sizeof *out);
	snprintf(out->name, sizeof out->name, "%s", name);
	if (store_snapshot_list(s, jail, snapshot_found, out, e) < 0)
		return -1;
	if (!out->created_at[0])
		return err_set(e, ERR_NOT_FOUND, "jail %s has no snapshot named %s", jail, name);
	return 0;
}

int store_snapshot_delete(struct store *s, const char *jail, const char *name, struct err *e)
{
	WITH_DB(s, db, e);
	sqlite3_stmt *st;
	PREP("DELETE FROM snapshots WHERE name = ? AND jail_id = (SELECT id FROM jails WHERE name = ?)", &st);
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, jail, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : db_err(db, e, "deleting a snapshot");
	DONE(st);
	release(s, db_slot);
	return rc;
}

int store_restore_list(struct store *s, void (*fn)(const struct restore_row *, void *), void *arg, struct err *e)
{
	WITH_DB(s, db, e);
	sqlite3_stmt *st;
	PREP("SELECT name, tenant_id, COALESCE(restore_at, 0), COALESCE(restore_warn_at, 0), json_extract(spec, '$.restore.every'), "
	     "COALESCE(json_extract(spec, '$.restore.warn'), ''), COALESCE(json_extract(spec, '$.restore.message'), '') "
	     "FROM jails WHERE json_extract(spec, '$.restore') IS NOT NULL AND state = 'running'", &st);
	int n = 0, r;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		struct restore_row x = { .tenant_id = sqlite3_column_int64(st, 1), .at = sqlite3_column_int64(st, 2),
					 .warn_at = sqlite3_column_int64(st, 3) };
		col_text(st, 0, x.name, sizeof x.name);
		col_text(st, 4, x.every, sizeof x.every);
		col_text(st, 5, x.warn, sizeof x.warn);
		col_text(st, 6, x.message, sizeof x.message);
		fn(&x, arg);
		n++;
	}
	if (r != SQLITE_DONE)
		n = db_err(db, e, "listing auto-restoring jails");
	DONE(st);
	release(s, db_slot);
	return n;
}

int store_set_restore_at(struct store *s, const char *jail, int64_t at, int64_t warn_at, struct err *e)
{
	WITH_DB(s, db, e);
	sqlite3_stmt *st;
	PREP("UPDATE jails SET restore_at = NULLIF(?, 0), restore_warn_at = NULLIF(?, 0) WHERE name = ?", &st);
	sqlite3_bind_int64(st, 1, at);
	sqlite3_bind_int64(st, 2, warn_at);
	sqlite3_bind_text(st, 3, jail, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : db_err(db, e, "writing a restore time");
	DONE(st);
	release(s, db_slot);
	return rc;
}

/* ---- console sessions ---- */

int store_console_add(struct store *s, const struct console_row *c, struct err *e)
{
	WITH_DB(s, db, e);
	sqlite3_stmt *st;
	PREP("INSERT INTO consoles(id, jail, tenant_id, token_id, actor, source, cols, rows, started_at) "
	     "VALUES (?, ?, ?, NULLIF(?, 0), ?, ?, ?, ?, ?)", &st);
	sqlite3_bind_text(st, 1, c->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, c->jail, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, c->tenant_id);
	sqlite3_bind_int64(st, 4, c->token_id);
	sqlite3_bind_text(st, 5, c->actor, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, c->source, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 7, c->cols);
	sqlite3_bind_int(st, 8, c->rows);
	sqlite3_bind_text(st, 9, c->started_at, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : db_err(db, e, "recording a console session");
	DONE(st);
	release(s, db_slot);
	return rc;
}

int store_console_end(struct store *s, const char *id, const char *reason, int64_t bytes_out, struct err *e)
{
	WITH_DB(s, db, e);
	sqlite3_stmt *st;
	char now[32];
	store_now(now);
	PREP("UPDATE consoles SET ended_at = ?, end_reason = ?, bytes_out = ? WHERE id = ? AND ended_at IS NULL", &st);
	sqlite3_bind_text(st, 1, now, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, reason, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, bytes_out);
	sqlite3_bind_text(st, 4, id, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : db_err(db, e, "ending a console session");
	DONE(st);
	release(s, db_slot);
	return rc;
}

int store_console_end_stale(struct store *s, struct err *e)
{
	WITH_DB(s, db, e);
	sqlite3_stmt *st;
	char now[32];
	store_now(now);
	PREP("UPDATE consoles SET ended_at = ?, end_reason = 'jaild restarted' WHERE ended_at IS NULL", &st);
	sqlite3_bind_text(st, 1, now, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : db_err(db, e, "closing the last run's console sessions");
	DONE(st);
	release(s, db_slot);
	return rc;
}

#define CONSOLE_COLS "c.rowid, c.id, c.jail, c.tenant_id, COALESCE(t.name, ''), COALESCE(c.token_id, 0), c.actor, c.source, " \
		     "c.cols, c.rows, c.started_at, COALESCE(c.ended_at, ''), COALESCE(c.end_reason, ''), c.bytes_out, c.recording " \
		     "FROM consoles c LEFT JOIN tenants t ON t.id = c.tenant_id "

static void console_from_row(sqlite3_stmt *st, struct console_row *c)
{
	memset(c, 0, sizeof *c);
	c->seq = sqlite3_column_int64(st, 0);
	col_text(st, 1, c->id, sizeof c->id);
	col_text(st, 2, c->jail, sizeof c->jail);
	c->tenant_id = sqlite3_column_int64(st, 3);
	col_text(st, 4, c->tenant, sizeof c->tenant);
	c->token_id = sqlite3_column_int64(st, 5);
	col_text(st, 6, c->actor, sizeof c->actor);
	col_text(st, 7, c->source, sizeof c->source);
	c->cols = sqlite3_column_int(st, 8);
	c->rows = sqlite3_column_int(st, 9);
	col_text(st, 10, c->started_at, sizeof c->started_at);
	col_text(st, 11, c->ended_at, sizeof c->ended_at);
	col_text(st, 12, c->end_reason, sizeof c->end_reason);
	c->bytes_out = sqlite3_column_int64(st, 13);
	c->recording = sqlite3_column_int(st, 14) != 0;
}

int store_console_get(struct store *s, const char *id, struct console_row *c, struct err *e)
{
	WITH_DB(s, db, e);
	sqlite3_stmt *st;
	PREP("SELECT " CONSOLE_COLS "WHERE c.id = ?", &st);
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	int r = sqlite3_step(st), rc = 0;
	if (r == SQLITE_ROW)
		console_from_row(st, c);
	else
		rc = r == SQLITE_DONE ? err_set(e, ERR_NOT_FOUND, "no console session %s", id) : db_err(db, e, "reading a console session");
	DONE(st);
	release(s, db_slot);
	return rc;
}

int store_console_list(struct store *s, int64_t tenant_id, const char *jail, int64_t before, int limit,
		       void (*fn)(const struct console_row *, void *), void *arg, struct err *e)
{
	WITH_DB(s, db, e);
	sqlite3_stmt *st;
	PREP("SELECT " CONSOLE_COLS "WHERE (?1 = 0 OR c.tenant_id = ?1) AND (?2 IS NULL OR c.jail = ?2) "
	     "AND (?3 = 0 OR c.rowid < ?3) ORDER BY c.rowid DESC LIMIT ?4", &st);
	sqlite3_bind_int64(st, 1, tenant_id);
	if (jail)
		sqlite3_bind_text(st, 2, jail, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, before);
	sqlite3_bind_int(st, 4, limit);
	int n = 0, r;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		struct console_row c;
		console_from_row(st, &c);
		fn(&c, arg);
		n++;
	}
	if (r != SQLITE_DONE)
		n = db_err(db, e, "listing console sessions");
	DONE(st);
	release(s, db_slot);
	return n;
}

int store_console_expire(struct store *s, const char *cutoff, int max, void (*fn)(const char *id, void *), void *arg,
			 struct err *e)
{
	WITH_DB(s, db, e);
	sqlite3_stmt *st, *up;
	PREP("SELECT id FROM consoles WHERE recording = 1 AND ended_at IS NOT NULL AND ended_at < ? ORDER BY ended_at LIMIT ?", &st);
	PREP("UPDATE consoles SET recording = 0 WHERE id = ?", &up);
	sqlite3_bind_text(st, 1, cutoff, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, max);
	int n = 0, r;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		char id[40];
		col_text(st, 0, id, sizeof id);
		fn(id, arg);
		sqlite3_bind_text(up, 1, id, -1, SQLITE_TRANSIENT);
		sqlite3_step(up);
		sqlite3_reset(up);
		n++;
	}
	if (r != SQLITE_DONE)
		n = db_err(db, e, "expiring console recordings");
	DONE(up);
	DONE(st);
	release(s, db_slot);
	return n;
}

/* ---- idempotency ---- */

int store_idem_begin(struct store *s, int64_t token_id, const char *key, const uint8_t hash[32], struct idem_row *found,
		     struct err *e)
{
	WITH_DB(s, db, e);
	int rc = -1;
	char now[32];
	store_now(now);
	sqlite3_stmt *st;
	if (exec_sql(db, "BEGIN IMMEDIATE", e))
		goto out;
	/* a day's keys are kept; older ones are forgotten as they are met */
	PREP("DELETE FROM idempotency WHERE created_at < strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-1 day')", &st);
	sqlite3_step(st);
	DONE(st);
	PREP("SELECT request_hash, status, response, COALESCE(location, ''), COALESCE(etag, '') FROM idempotency "
	     "WHERE token_id = ? AND key = ?", &st);
	sqlite3_bind_int64(st, 1, token_id);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		memset(found, 0, sizeof *found);
		if (sqlite3_column_bytes(st, 0) == 32)
			memcpy(found->request_hash, sqlite3_column_blob(st, 0), 32);
		found->status = sqlite3_column_int(st, 1);
		const char *r = (const char *)sqlite3_column_text(st, 2);
		found->response = r ? strdup(r) : NULL;
		col_text(st, 3, found->location, sizeof found->location);
		col_text(st, 4, found->etag, sizeof found->etag);
		DONE(st);
		err_set(e, ERR_CONFLICT, "Idempotency-Key already used");
		goto rollback;
	}
	DONE(st);
	PREP("INSERT INTO idempotency(token_id, key, request_hash, status, created_at) VALUES (?, ?, ?, 0, ?)", &st);
	sqlite3_bind_int64(st, 1, token_id);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 3, hash, 32, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, now, -1, SQLITE_STATIC);
	int r = sqlite3_step(st);
	DONE(st);
	if (r != SQLITE_DONE) {
		db_err(db, e, "reserving Idempotency-Key");
		goto rollback;
	}
	rc = exec_sql(db, "COMMIT", e);
	if (rc == 0)
		goto out;
rollback:
	exec_sql(db, "ROLLBACK", NULL);
out:
	release(s, db_slot);
	return rc;
}

int store_idem_finish(struct store *s, int64_t token_id, const char *key, int status, const char *response,
		      const char *location, const char *etag, struct err *e)
{
	WITH_DB(s, db, e);
	sqlite3_stmt *st;
	PREP("UPDATE idempotency SET status = ?, response = ?, location = NULLIF(?, ''), etag = NULLIF(?, '') "
	     "WHERE token_id = ? AND key = ?", &st);
	sqlite3_bind_int(st, 1, status);
	sqlite3_bind_text(st, 2, response, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, location, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, etag, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, token_id);
	sqlite3_bind_text(st, 6, key, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : db_err(db, e, "saving the answer for Idempotency-Key");
	DONE(st);
	release(s, db_slot);
	return rc;
}

void store_idem_abort(struct store *s, int64_t token_id, const char *key)
{
	struct err e;
	int db_slot;
	if (!acquire(s, &db_slot, &e))
		return;
	sqlite3_stmt *st;
	PREP("DELETE FROM idempotency WHERE token_id = ? AND key = ?", &st);
	sqlite3_bind_int64(st, 1, token_id);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	sqlite3_step(st);
	DONE(st);
	release(s, db_slot);
}

/* ---- events ---- */

int64_t store_event_add(struct store *s, int64_t tenant_id, const char *type, const char *target, const char *data_json,
			int64_t keep_seconds)
{
	struct err e;
	int db_slot;
	sqlite3 *db = acquire(s, &db_slot, &e);
	if (!db) {
		log_error("event %s %s: %s", type, target, e.msg);
		return 0;
	}
	char now[32];
	store_now(now);
	sqlite3_stmt *st;
	PREP("DELETE FROM events WHERE at < strftime('%Y-%m-%dT%H:%M:%SZ', 'now', printf('-%d seconds', ?))", &st);
	sqlite3_bind_int64(st, 1, keep_seconds);
	sqlite3_step(st);
	DONE(st);
	PREP("INSERT INTO events(at, tenant_id, type, target, data) VALUES (?, NULLIF(?, 0), ?, ?, ?)", &st);
	sqlite3_bind_text(st, 1, now, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, tenant_id);
	sqlite3_bind_text(st, 3, type, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, target, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, data_json, -1, SQLITE_STATIC);
	int64_t id = 0;
	if (sqlite3_step(st) == SQLITE_DONE)
		id = sqlite3_last_insert_rowid(db);
	else
		log_error("event %s %s: %s", type, target, sqlite3_errmsg(db));
	DONE(st);
	release(s, db_slot);
	return id;
}

int store_event_list(struct store *s, int64_t tenant_id, int64_t after, int limit, void (*fn)(const struct event_row *, void *),
		     void *arg, struct err *e)
{
	WITH_DB(s, db, e);
	sqlite3_stmt *st;
	PREP("SELECT id, at, type, target, data FROM events WHERE id > ?1 AND (?2 = 0 OR tenant_id = ?2) ORDER BY id LIMIT ?3", &st);
	sqlite3_bind_int64(st, 1, after);
	sqlite3_bind_int64(st, 2, tenant_id);
	sqlite3_bind_int(st, 3, limit);
	int n = 0, r;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		struct event_row ev = { .id = sqlite3_column_int64(st, 0), .data = (char *)sqlite3_column_text(st, 4) };
		col_text(st, 1, ev.at, sizeof ev.at);
		col_text(st, 2, ev.type, sizeof ev.type);
		col_text(st, 3, ev.target, sizeof ev.target);
		fn(&ev, arg);
		n++;
	}
	if (r != SQLITE_DONE)
		n = db_err(db, e, "reading events");
	DONE(st);
	release(s, db_slot);
	return n;
}

int64_t store_event_latest(struct store *s)
{
	struct err e;
	int db_slot;
	sqlite3 *db = acquire(s, &db_slot, &e);
	if (!db)
		return 0;
	sqlite3_stmt *st;
	int64_t id = 0;
	PREP("SELECT COALESCE(MAX(id), 0) FROM events", &st);
	if (sqlite3_step(st) == SQLITE_ROW)
		id = sqlite3_column_int64(st, 0);
	DONE(st);
	release(s, db_slot);
	return id;
}

/* ---- users and sessions ---- */

int store_user_add(struct store *s, int64_t tenant_id, const char *name, const char *pwhash, struct err *e)
{
	WITH_DB(s, db, e);
	char now[32];
	store_now(now);
	sqlite3_stmt *st;
	PREP("INSERT INTO users(tenant_id, name, password, created_at) VALUES (?, ?, ?, ?)", &st);
	sqlite3_bind_int64(st, 1, tenant_id);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, pwhash, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, now, -1, SQLITE_STATIC);
	int rc = 0;
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = sqlite3_extended_errcode(db) == SQLITE_CONSTRAINT_UNIQUE
			     ? err_field(e, ERR_CONFLICT, "name", "the tenant already has a user named %s", name)
			     : db_err(db, e, "adding user");
	DONE(st);
	release(s, db_slot);
	return rc;
}

int store_user_delete(struct store *s, int64_t tenant_id, const char *name, struct err *e)
{
	WITH_DB(s, db, e);
	sqlite3_stmt *st;
	PREP("DELETE FROM users WHERE tenant_id = ? AND name = ?", &st);
	sqlite3_bind_int64(st, 1, tenant_id);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : db_err(db, e, "deleting user");
	if (rc == 0 && sqlite3_changes(db) == 0)
		rc = err_set(e, ERR_NOT_FOUND, "no user named %s", name);
	DONE(st);
	release(s, db_slot);
	return rc;
}

int store_user_get(struct store *s, const char *tenant, const char *name, int64_t *user_id, char *pwhash, size_t n, struct err *e)
{
	WITH_DB(s, db, e);
	sqlite3_stmt *st;
	PREP("SELECT u.id, u.password FROM users u JOIN tenants t ON t.id = u.tenant_id WHERE t.name = ? AND u.name = ?", &st);
	sqlite3_bind_text(st, 1, tenant, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	int rc = 0;
	if (sqlite3_step(st) == SQLITE_ROW) {
		*user_id = sqlite3_column_int64(st, 0);
		col_text(st, 1, pwhash, n);
	} else {
		rc = err_set(e, ERR_NOT_FOUND, "no such user");
	}
	DONE(st);
	release(s, db_slot);
	return rc;
}

int store_user_list(struct store *s, int64_t tenant_id, void (*fn)(const char *name, const char *created_at, void *), void *arg,
		    struct err *e)
{
	WITH_DB(s, db, e);
	sqlite3_stmt *st;
	PREP("SELECT name, created_at FROM users WHERE tenant_id = ? ORDER BY name", &st);
	sqlite3_bind_int64(st, 1, tenant_id);
	int n = 0, r;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		fn((const char *)sqlite3_column_text(st, 0), (const char *)sqlite3_column_text(st, 1), arg);
		n++;
	}
	if (r != SQLITE_DONE)
		n = db_err(db, e, "listing users");
	DONE(st);
	release(s, db_slot);
	return n;
}

int store_session_add(struct store *s, const uint8_t hash[32], int64_t user_id, const char *csrf, const char *expires_at,
		      struct err *e)
{
	WITH_DB(s, db, e);
	char now[32];
	store_now(now);
	sqlite3_stmt *st;
	PREP("DELETE FROM sessions WHERE expires_at < ?", &st);
	sqlite3_bind_text(st, 1, now, -1, SQLITE_STATIC);
	sqlite3_step(st);
	DONE(st);
	PREP("INSERT INTO sessions(hash, user_id, csrf, created_at, expires_at) VALUES (?, ?, ?, ?, ?)", &st);
	sqlite3_bind_blob(st, 1, hash, 32, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, user_id);
	sqlite3_bind_text(st, 3, csrf, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, now, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, expires_at, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : db_err(db, e, "starting a session");
	DONE(st);
	release(s, db_slot);
	return rc;
}

int store_session_lookup(struct store *s, const uint8_t hash[32], struct token_info *who, struct err *e)
{
	WITH_DB(s, db, e);
	char now[32];
	store_now(now);
	sqlite3_stmt *st;
	PREP("SELECT u.id, u.name, t.id, t.name, x.csrf FROM sessions x JOIN users u ON u.id = x.user_id "
	     "JOIN tenants t ON t.id = u.tenant_id WHERE x.hash = ? AND x.expires_at > ?", &st);
	sqlite3_bind_blob(st, 1, hash, 32, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, now, -1, SQLITE_STATIC);
	int rc = 0;
	if (sqlite3_step(st) == SQLITE_ROW) {
		memset(who, 0, sizeof *who);
		who->user_id = sqlite3_column_int64(st, 0);
		snprintf(who->name, sizeof who->name, "%s", (const char *)sqlite3_column_text(st, 1));
		who->tenant_id = sqlite3_column_int64(st, 2);
		snprintf(who->tenant, sizeof who->tenant, "%s", (const char *)sqlite3_column_text(st, 3));
		snprintf(who->csrf, sizeof who->csrf, "%s", (const char *)sqlite3_column_text(st, 4));
		snprintf(who->role, sizeof who->role, "tenant");
	} else {
		rc = err_set(e, ERR_NOT_FOUND, "no such session");
	}
	DONE(st);
	release(s, db_slot);
	return rc;
}

void store_session_delete(struct store *s, const uint8_t hash[32])
{
	struct err e;
	int db_slot;
	if (!acquire(s, &db_slot, &e))
		return;
	sqlite3_stmt *st;
	PREP("DELETE FROM sessions WHERE hash = ?", &st);
	sqlite3_bind_blob(st, 1, hash, 32, SQLITE_STATIC);
	sqlite3_step(st);
	DONE(st);
	release(s, db_slot);
}
