/* db.c — the connection pool, migrations, and the statement engine of db.h, on
 * whichever engine the store was opened with (engine.h). */
#include "store/engine.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

void store_now(char buf[32])
{
	store_time_ago(buf, 0);
}

void store_time_ago(char buf[32], int64_t seconds)
{
	time_t t = time(NULL) - (time_t)seconds;
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

const char *dialect(const struct store *s, const char *sqlite, const char *postgresql)
{
	return s->eng == &engine_postgresql ? postgresql : sqlite;
}

int db_error(struct db *d, struct err *e, const char *what)
{
	return d->s->eng->error(d, e, what);
}

int db_lock(struct db *d, enum db_lock what, int64_t tenant_id, struct err *e)
{
	return d->s->eng->lock(d, what, tenant_id, e);
}

void sq_put_int(const struct sq_col *c, int64_t v)
{
	if (c->n == 8) {
		memcpy(c->p, &v, 8);
	} else if (c->n == 4) {
		int32_t w = (int32_t)v;
		memcpy(c->p, &w, 4);
	} else {
		*(int8_t *)c->p = (int8_t)v;
	}
}

void *stmt_find(struct stmt_cache *c, const char *sql)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->items[i].sql == sql)
			return c->items[i].st;
	return NULL;
}

int stmt_keep(struct stmt_cache *c, const char *sql, void *st, struct err *e)
{
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 64;
		struct cached *items = realloc(c->items, cap * sizeof *items);
		if (!items)
			return err_set(e, ERR_INTERNAL, "out of memory");
		c->items = items;
		c->cap = cap;
	}
	c->items[c->n++] = (struct cached){ sql, st };
	return 0;
}

/* The numbered migrations not yet applied, each in a transaction of its own, under the
 * engine's schema lock. */
static int migrate(struct store *s, struct err *e)
{
	const struct db_engine *eng = s->eng;
	struct db d = { s, s->conns[0], 0 };
	if (eng->lock_schema(&d, true, e) < 0)
		return -1;
	int rc = eng->script(&d, "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)", e);
	for (const struct migration *m = eng->migrations; rc == 0 && m->sql; m++) {
		int done = sq_one(&d, "SELECT 1 FROM schema_migrations WHERE version = ?", PARAMS(P_INT(m->version)), NO_COLS,
				  "reading the schema version", e);
		if (done < 0) {
			rc = -1;
			break;
		}
		if (done == 1)
			continue;
		char now[32];
		store_now(now);
		if (eng->script(&d, eng->begin, e) < 0) {
			rc = -1;
			break;
		}
		if (eng->script(&d, m->sql, e) < 0 ||
		    sq_exec(&d, "INSERT INTO schema_migrations VALUES (?, ?, ?)", PARAMS(P_INT(m->version), P_TEXT(m->name), P_TEXT(now)),
			    "recording the migration", e) < 0) {
			eng->script(&d, "ROLLBACK", NULL);
			rc = err_set(e, ERR_INTERNAL, "migration %s failed: %s", m->name, e->msg);
			break;
		}
		if ((rc = eng->script(&d, "COMMIT", e)) == 0)
			log_info("applied schema migration %s", m->name);
	}
	struct err ignored;
	eng->lock_schema(&d, false, &ignored);
	return rc;
}

/* A file of its own, removed at close: SQLite as jaild runs it (WAL, busy waits), which
 * a shared-cache in-memory database is not (its table locks fail at once). */
struct store *store_open_temporary(const struct pool4 *p4, const struct pool6 *p6, struct err *e)
{
	char path[] = "/tmp/jaild-store-XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0) {
		err_set(e, ERR_INTERNAL, "making a temporary store in /tmp: %s", strerror(errno));
		return NULL;
	}
	close(fd);
	struct store *s = store_open(path, p4, p6, e);
	if (s)
		s->temporary = true;
	else
		unlink(path);
	return s;
}

bool store_is_url(const char *where)
{
	return strncmp(where, "postgresql://", 13) == 0 || strncmp(where, "postgres://", 11) == 0;
}

void store_set_max_slots(struct store *s, uint32_t n)
{
	s->max_slots = n;
}

struct store *store_open(const char *where, const struct pool4 *p4, const struct pool6 *p6, struct err *e)
{
	struct store *s = calloc(1, sizeof *s);
	if (!s) {
		err_set(e, ERR_INTERNAL, "out of memory");
		return NULL;
	}
	s->eng = store_is_url(where) ? &engine_postgresql : &engine_sqlite;
	s->shared = s->eng == &engine_postgresql;
	if (strlen(where) >= sizeof s->path) {
		free(s);
		err_set(e, ERR_INVALID, "the store's file or URI is longer than %zu bytes", sizeof s->path - 1);
		return NULL;
	} else {
		snprintf(s->path, sizeof s->path, "%s", where);
	}
	s->p4 = *p4;
	s->p6 = *p6;
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	pthread_mutex_init(&s->token_mu, NULL);
	s->token_gen = 1;
	atomic_init(&s->generation, 1);
	atomic_init(&s->checkpointing, 0);
	s->conns[0] = s->eng->connect(s, e);
	if (!s->conns[0] || migrate(s, e)) {
		store_close(s);
		return NULL;
	}
	s->nconns = 1;
	return s;
}

int store_events_watch(struct store *s, void (*changed)(int64_t id))
{
	if (!s->eng->watch_events)
		return -1;
	s->eng->watch_events(s, changed);
	return 0;
}

uint64_t store_generation(struct store *s)
{
	return s->shared ? 0 : atomic_load(&s->generation);
}

const char *store_engine(const struct store *s)
{
	return s->eng->name;
}

void store_close(struct store *s)
{
	if (!s)
		return;
	while (atomic_load(&s->checkpointing))
		usleep(1000);
	for (int i = 0; i < POOL_SIZE; i++) {
		if (s->conns[i])
			s->eng->disconnect(s->conns[i], &s->stmts[i]);
		free(s->stmts[i].items);
	}
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->token_mu);
	if (s->temporary)
		for (const char *const *suffix = (const char *const[]){ "", "-wal", "-shm", NULL }; *suffix; suffix++) {
			char path[sizeof s->path + 8];
			snprintf(path, sizeof path, "%s%s", s->path, *suffix);
			unlink(path);
		}
	free(s);
}

void store_set_addr4_filter(struct store *s, bool (*taken)(uint32_t addr))
{
	s->addr4_taken = taken;
}

static int lend(struct store *s, struct db *d, int i, struct err *e)
{
	d->slot = i;
	d->conn = s->conns[i];
	if (s->eng->check(d, e) == 0) {
		d->conn = s->conns[i];
		return 0;
	}
	db_put(d);
	return -1;
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
				return lend(s, d, i, e);
			}
		if (s->nconns < POOL_SIZE) {
			int i = s->nconns++;
			s->busy[i] = true;
			pthread_mutex_unlock(&s->mu);
			s->conns[i] = s->eng->connect(s, e);
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
	return d->s->eng->script(d, d->s->eng->begin, e);
}

int db_commit(struct db *d, struct err *e)
{
	return d->s->eng->script(d, "COMMIT", e);
}

void db_rollback(struct db *d)
{
	d->s->eng->script(d, "ROLLBACK", NULL);
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

int sq_start(struct sq *q, struct db *d, const char *sql, const struct sq_param *p, const struct sq_col *cols, const char *what,
	     struct err *e)
{
	*q = (struct sq){ .d = d, .cols = cols, .what = what };
	if (d->s->eng->start(q, sql, p, e) == 0)
		return 0;
	sq_end(q);
	return -1;
}

int sq_next(struct sq *q, struct err *e)
{
	return q->d->s->eng->next(q, e);
}

void sq_end(struct sq *q)
{
	q->d->s->eng->end(q);
	q->st = q->res = NULL;
}

int64_t sq_exec(struct db *d, const char *sql, const struct sq_param *p, const char *what, struct err *e)
{
	struct sq q;
	const struct sq_col *none = NO_COLS; /* lives as long as q (not only the if's) */
	if (sq_start(&q, d, sql, p, none, what, e) < 0)
		return -1;
	int r = sq_next(&q, e);
	int64_t n = r < 0 ? -1 : d->s->eng->changes(&q);
	sq_end(&q);
	return n;
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
