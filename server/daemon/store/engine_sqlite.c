/* engine_sqlite.c — the embedded default: one file, WAL, a connection per pooled slot,
 * BEGIN IMMEDIATE so that a writing transaction holds the database from its start. */
#include "store/engine.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "thread.h"

extern const struct migration schema_migrations_sqlite[];

static int conn_error(sqlite3 *db, struct err *e, const char *what)
{
	int code = sqlite3_extended_errcode(db);
	if (code == SQLITE_CONSTRAINT_UNIQUE || code == SQLITE_CONSTRAINT_PRIMARYKEY)
		return err_set(e, ERR_CONFLICT, "%s: already exists", what);
	if (code == SQLITE_BUSY)
		return err_set(e, ERR_BUSY, "%s: the database is busy; retry", what);
	return err_set(e, ERR_INTERNAL, "%s: %s", what, sqlite3_errmsg(db));
}

static int lite_error(struct db *d, struct err *e, const char *what)
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

static int lite_script(struct db *d, const char *sql, struct err *e)
{
	return exec_sql(d->conn, sql, e);
}

/* A checkpoint of the WAL, on a connection and a thread of its own. */
static void *checkpoint(void *arg)
{
	struct store *s = arg;
	sqlite3 *db;
	if (sqlite3_open_v2(s->path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) == SQLITE_OK) {
		sqlite3_busy_timeout(db, 5000);
		int rc = sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
		if (rc != SQLITE_OK && rc != SQLITE_BUSY)
			log_warn("store: checkpointing %s: %s", s->path, sqlite3_errmsg(db));
	}
	sqlite3_close(db);
	atomic_store(&s->checkpointing, 0);
	return NULL;
}

/* Whether the transaction this thread is committing changed a jail's row (the update
 * hook runs before the commit, the WAL hook after it, on the same thread). */
static _Thread_local bool jails_changed;

static void on_update(void *arg, int op, const char *dbname, const char *table, sqlite3_int64 rowid)
{
	(void)arg, (void)op, (void)dbname, (void)rowid;
	if (strcmp(table, "jails") == 0)
		jails_changed = true;
}

/* After each commit: the jails' generation moves on if a jail's row changed (after,
 * so that a rendering read before the commit is void), and a WAL grown past 1,000
 * pages is checkpointed by a thread of its own, not (as SQLite does by default) by
 * whichever request committed last. */
static int on_commit(void *arg, sqlite3 *db, const char *name, int pages)
{
	struct store *s = arg;
	if (jails_changed)
		atomic_fetch_add(&s->generation, 1);
	jails_changed = false;
	if (pages < 1000 || atomic_exchange(&s->checkpointing, 1))
		return SQLITE_OK;
	if (thread_detached(checkpoint, s) == 0)
		return SQLITE_OK;
	sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
	atomic_store(&s->checkpointing, 0);
	return SQLITE_OK;
}

static void *lite_connect(struct store *s, struct err *e)
{
	sqlite3 *db;
	if (sqlite3_open_v2(s->path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		err_set(e, ERR_INTERNAL, "opening database %s: %s", s->path, db ? sqlite3_errmsg(db) : "out of memory");
		sqlite3_close(db);
		return NULL;
	}
	sqlite3_busy_timeout(db, 5000);
	if (exec_sql(db, "PRAGMA foreign_keys=ON; PRAGMA synchronous=NORMAL;", e) ||
	    exec_sql(db, "PRAGMA journal_mode=WAL;", e)) {
		sqlite3_close(db);
		return NULL;
	}
	sqlite3_wal_hook(db, on_commit, s);
	sqlite3_update_hook(db, on_update, s);
	return db;
}

static void lite_disconnect(void *conn, struct stmt_cache *c)
{
	for (size_t k = 0; k < c->n; k++)
		sqlite3_finalize(c->items[k].st);
	c->n = 0;
	sqlite3_close(conn);
}

static int lite_check(struct db *d, struct err *e)
{
	(void)d, (void)e;
	return 0;
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
		case SQ_INT: sq_put_int(c, sqlite3_column_int64(st, i)); break;
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

static int lite_start(struct sq *q, const char *sql, const struct sq_param *p, struct err *e)
{
	struct db *d = q->d;
	struct stmt_cache *c = &d->s->stmts[d->slot];
	sqlite3_stmt *st = stmt_find(c, sql);
	if (!st) {
		if (sqlite3_prepare_v3(d->conn, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK)
			return err_set(e, ERR_INTERNAL, "%s: preparing the statement: %s", q->what, sqlite3_errmsg(d->conn));
		if (stmt_keep(c, sql, st, e) < 0) {
			sqlite3_finalize(st);
			return -1;
		}
	}
	q->st = st;
	return bind(st, p) == SQLITE_OK ? 0 : conn_error(d->conn, e, q->what);
}

static int lite_next(struct sq *q, struct err *e)
{
	int r = sqlite3_step(q->st);
	if (r == SQLITE_ROW) {
		read_cols(q->st, q->cols);
		return 1;
	}
	return r == SQLITE_DONE ? 0 : conn_error(q->d->conn, e, q->what);
}

static void lite_end(struct sq *q)
{
	if (q->st) {
		sqlite3_reset(q->st);
		sqlite3_clear_bindings(q->st);
	}
}

static int64_t lite_changes(struct sq *q)
{
	return sqlite3_changes(q->d->conn);
}

static int lite_lock(struct db *d, enum db_lock what, int64_t tenant_id, struct err *e)
{
	/* BEGIN IMMEDIATE took the database's one write lock */
	(void)d, (void)what, (void)tenant_id, (void)e;
	return 0;
}

static int lite_lock_schema(struct db *d, bool take, struct err *e)
{
	/* one process owns the file; each migration is its own IMMEDIATE transaction */
	(void)d, (void)take, (void)e;
	return 0;
}

static int lite_claim(struct db *d, const char *host, struct err *e)
{
	/* the store is one host's file: the data directory's lock already holds it */
	(void)d, (void)host, (void)e;
	return 0;
}

static bool lite_broken(struct db *d)
{
	(void)d;
	return false;
}

const struct db_engine engine_sqlite = {
	.name = "sqlite",
	.migrations = schema_migrations_sqlite,
	.begin = "BEGIN IMMEDIATE",
	.connect = lite_connect,
	.disconnect = lite_disconnect,
	.check = lite_check,
	.script = lite_script,
	.start = lite_start,
	.next = lite_next,
	.end = lite_end,
	.changes = lite_changes,
	.error = lite_error,
	.lock = lite_lock,
	.lock_schema = lite_lock_schema,
	.claim = lite_claim,
	.broken = lite_broken,
};
