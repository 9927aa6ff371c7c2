/* db.c — the connection pool, migrations, and the statement engine of db.h. */
#include "store/db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

struct migration {
	int version;
	const char *name;
	const char *sql;
};
extern const struct migration schema_migrations[];

void store_now(char buf[32])
{
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int conn_error(sqlite3 *db, struct err *e, const char *what)
{
	int code = sqlite3_extended_errcode(db);
	if (code == SQLITE_CONSTRAINT_UNIQUE || code == SQLITE_CONSTRAINT_PRIMARYKEY)
		return err_set(e, ERR_CONFLICT, "%s: already exists", what);
	if (code == SQLITE_BUSY)
		return err_set(e, ERR_BUSY, "%s: the database is busy; retry", what);
	return err_set(e, ERR_INTERNAL, "%s: %s", what, sqlite3_errmsg(db));
}

int db_error(struct db *d, struct err *e, const char *what)
{
	return conn_error(d->conn, e, what);
}

static int exec_sql(sqlite3 *db, const char *sql, struct err *e)
{
	char *msg = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		if (e)
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
		if (sqlite3_prepare_v2(db, "SELECT 1 FROM schema_migrations WHERE version = ?", -1, &st, NULL) != SQLITE_OK)
			return conn_error(db, e, "reading the schema version");
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

struct store *store_open_temporary(const struct pool4 *p4, const struct pool6 *p6, struct err *e)
{
	return store_open(":memory:", p4, p6, e);
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
		for (size_t k = 0; k < s->stmts[i].n; k++)
			sqlite3_finalize(s->stmts[i].items[k].st);
		free(s->stmts[i].items);
		if (s->conns[i])
			sqlite3_close(s->conns[i]);
	}
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->token_mu);
	free(s);
}

void store_set_addr4_filter(struct store *s, bool (*taken)(uint32_t addr))
{
	s->addr4_taken = taken;
}

int db_get(struct store *s, struct db *d, struct err *e)
{
	d->s = s;
	pthread_mutex_lock(&s->mu);
	for (;;) {
		for (int i = 0; i < s->nconns; i++)
			if (!s->busy[i]) {
				s->busy[i] = true;
				pthread_mutex_unlock(&s->mu);
				d->slot = i;
				d->conn = s->conns[i];
				return 0;
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
				return -1;
			}
			d->slot = i;
			d->conn = s->conns[i];
			return 0;
		}
		pthread_cond_wait(&s->cv, &s->mu);
	}
}

void db_put(struct db *d)
{
	struct store *s = d->s;
	pthread_mutex_lock(&s->mu);
	s->busy[d->slot] = false;
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
	d->conn = NULL;
}

int db_begin(struct db *d, struct err *e)
{
	return exec_sql(d->conn, "BEGIN IMMEDIATE", e);
}

int db_commit(struct db *d, struct err *e)
{
	return exec_sql(d->conn, "COMMIT", e);
}

void db_rollback(struct db *d)
{
	exec_sql(d->conn, "ROLLBACK", NULL);
}

int db_get_tx(struct store *s, struct db *d, struct err *e)
{
	if (db_get(s, d, e) < 0)
		return -1;
	if (db_begin(d, e) == 0)
		return 0;
	db_put(d);
	return -1;
}

int db_end_tx(struct db *d, int rc, struct err *e)
{
	if (rc == 0 && db_commit(d, e) < 0)
		rc = -1;
	if (rc != 0)
		db_rollback(d);
	db_put(d);
	return rc;
}

int64_t db_last_id(struct db *d)
{
	return sqlite3_last_insert_rowid(d->conn);
}

/* The connection's prepared statement for sql, prepared (and checked) the first time. */
static sqlite3_stmt *prepared(struct db *d, const char *sql, const char *what, struct err *e)
{
	struct stmt_cache *c = &d->s->stmts[d->slot];
	for (size_t i = 0; i < c->n; i++)
		if (c->items[i].sql == sql)
			return c->items[i].st;
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 64;
		struct cached *items = realloc(c->items, cap * sizeof *items);
		if (!items)
			return err_set(e, ERR_INTERNAL, "%s: out of memory", what), NULL;
		c->items = items;
		c->cap = cap;
	}
	sqlite3_stmt *st;
	if (sqlite3_prepare_v3(d->conn, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK)
		return err_set(e, ERR_INTERNAL, "%s: preparing the statement: %s", what, sqlite3_errmsg(d->conn)), NULL;
	c->items[c->n++] = (struct cached){ sql, st };
	return st;
}

static int bind(sqlite3_stmt *st, const struct sq_param *p)
{
	int rc = SQLITE_OK;
	for (int i = 1; rc == SQLITE_OK && p->kind != SQ_END; p++, i++) {
		switch (p->kind) {
		case SQ_TEXT:
			rc = p->p ? sqlite3_bind_text(st, i, p->p, -1, SQLITE_STATIC) : sqlite3_bind_null(st, i);
			break;
		case SQ_INT: rc = sqlite3_bind_int64(st, i, p->i); break;
		case SQ_INT_OR_NULL: rc = p->i < 0 ? sqlite3_bind_null(st, i) : sqlite3_bind_int64(st, i, p->i); break;
		case SQ_BLOB: rc = sqlite3_bind_blob(st, i, p->p, (int)p->n, SQLITE_STATIC); break;
		default: rc = SQLITE_MISUSE;
		}
	}
	return rc;
}

static void read_cols(sqlite3_stmt *st, const struct sq_col *c)
{
	for (int i = 0; c->kind != SQ_END; c++, i++) {
		switch (c->kind) {
		case SQ_TEXT: {
			const unsigned char *t = sqlite3_column_text(st, i);
			snprintf(c->p, c->n, "%s", t ? (const char *)t : "");
			break;
		}
		case SQ_TEXT_REF: *(const char **)c->p = (const char *)sqlite3_column_text(st, i); break;
		case SQ_INT: {
			int64_t v = sqlite3_column_int64(st, i);
			if (c->n == 8)
				memcpy(c->p, &v, 8);
			else if (c->n == 4) {
				int32_t w = (int32_t)v;
				memcpy(c->p, &w, 4);
			} else {
				*(int8_t *)c->p = (int8_t)v;
			}
			break;
		}
		case SQ_BOOL: *(bool *)c->p = sqlite3_column_int64(st, i) != 0; break;
		case SQ_BLOB:
			if ((size_t)sqlite3_column_bytes(st, i) == c->n)
				memcpy(c->p, sqlite3_column_blob(st, i), c->n);
			else
				memset(c->p, 0, c->n);
			break;
		default: break;
		}
	}
}

int sq_start(struct sq *q, struct db *d, const char *sql, const struct sq_param *p, const struct sq_col *cols, const char *what,
	     struct err *e)
{
	*q = (struct sq){ d, NULL, cols, what };
	if (!(q->st = prepared(d, sql, what, e)))
		return -1;
	if (bind(q->st, p) != SQLITE_OK) {
		int rc = db_error(d, e, what);
		sq_end(q);
		return rc;
	}
	return 0;
}

int sq_next(struct sq *q, struct err *e)
{
	int r = sqlite3_step(q->st);
	if (r == SQLITE_ROW) {
		read_cols(q->st, q->cols);
		return 1;
	}
	return r == SQLITE_DONE ? 0 : db_error(q->d, e, q->what);
}

void sq_end(struct sq *q)
{
	if (q->st) {
		sqlite3_reset(q->st);
		sqlite3_clear_bindings(q->st);
	}
	q->st = NULL;
}

int64_t sq_exec(struct db *d, const char *sql, const struct sq_param *p, const char *what, struct err *e)
{
	struct sq q;
	if (sq_start(&q, d, sql, p, NO_COLS, what, e) < 0)
		return -1;
	int r = sq_next(&q, e);
	sq_end(&q);
	return r < 0 ? -1 : sqlite3_changes(d->conn);
}

int sq_one(struct db *d, const char *sql, const struct sq_param *p, const struct sq_col *cols, const char *what, struct err *e)
{
	struct sq q;
	if (sq_start(&q, d, sql, p, cols, what, e) < 0)
		return -1;
	int r = sq_next(&q, e);
	sq_end(&q);
	return r;
}

int sq_each(struct db *d, const char *sql, const struct sq_param *p, const struct sq_col *cols, void (*each)(void *ctx), void *ctx,
	    const char *what, struct err *e)
{
	struct sq q;
	int n = 0, r = sq_start(&q, d, sql, p, cols, what, e);
	while (r == 0 && (r = sq_next(&q, e)) == 1) {
		each(ctx);
		n++;
		r = 0;
	}
	sq_end(&q);
	return r < 0 ? -1 : n;
}

int store_each(struct store *s, const char *sql, const struct sq_param *p, const struct sq_col *cols, void (*each)(void *ctx),
	       void *ctx, const char *what, struct err *e)
{
	struct db d;
	if (db_get(s, &d, e) < 0)
		return -1;
	int n = sq_each(&d, sql, p, cols, each, ctx, what, e);
	db_put(&d);
	return n;
}

int64_t store_exec(struct store *s, const char *sql, const struct sq_param *p, const char *what, struct err *e)
{
	struct db d;
	if (db_get(s, &d, e) < 0)
		return -1;
	int64_t n = sq_exec(&d, sql, p, what, e);
	db_put(&d);
	return n;
}

int store_one(struct store *s, const char *sql, const struct sq_param *p, const struct sq_col *cols, const char *what,
	      struct err *e)
{
	struct db d;
	if (db_get(s, &d, e) < 0)
		return -1;
	int r = sq_one(&d, sql, p, cols, what, e);
	db_put(&d);
	return r;
}

int store_schema_version(struct store *s)
{
	struct err e;
	int v = 0;
	return store_one(s, "SELECT MAX(version) FROM schema_migrations", NO_PARAMS, COLS(C_INT(&v)), "reading the schema version",
			 &e) == 1 ? v : 0;
}
