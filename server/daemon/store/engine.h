/* engine.h — what db.c asks of a database engine: one table of operations per engine
 * (engine_sqlite.c, engine_postgresql.c), as libvirt's drivers fill one interface. */
#ifndef JAILD_STORE_ENGINE_H
#define JAILD_STORE_ENGINE_H

#include "store/db.h"

struct migration {
	int version;
	const char *name;
	const char *sql;
};

struct db_engine {
	const char *name;
	/* the engine's words for the schema (schema/embed.py) */
	const struct migration *migrations;
	const char *begin;
	/* A new connection to s->path, or NULL and e. */
	void *(*connect)(struct store *s, struct err *e);
	/* The connection and the statements prepared on it. */
	void (*disconnect)(void *conn, struct stmt_cache *c);
	/* A pooled connection about to be lent: one that broke is made again (its
	 * prepared statements with it), or ERR_UNAVAILABLE. */
	int (*check)(struct db *d, struct err *e);
	/* Statements without parameters or rows (migrations, BEGIN, COMMIT). */
	int (*script)(struct db *d, const char *sql, struct err *e);
	/* sq_start, sq_next, sq_end of db.h; changes: rows the statement changed. */
	int (*start)(struct sq *q, const char *sql, const struct sq_param *p, struct err *e);
	int (*next)(struct sq *q, struct err *e);
	void (*end)(struct sq *q);
	int64_t (*changes)(struct sq *q);
	int (*error)(struct db *d, struct err *e, const char *what);
	int (*lock)(struct db *d, enum db_lock what, int64_t tenant_id, struct err *e);
	/* Held while migrations are applied, so hosts sharing the database upgrade one
	 * at a time. */
	int (*lock_schema)(struct db *d, bool take, struct err *e);
	/* This host's name, claimed for the life of d's session: ERR_CONFLICT when
	 * another session holds it. */
	int (*claim)(struct db *d, const char *host, struct err *e);
	/* Whether d's connection broke (the server restarted or went away). */
	bool (*broken)(struct db *d);
	/* Calls changed(id) for each event another host (or this one) adds, and
	 * changed(0) after (re)connecting; never returns. NULL: one process writes. */
	void (*watch_events)(struct store *s, void (*changed)(int64_t id));
};

extern const struct db_engine engine_sqlite, engine_postgresql;

/* An integer column into its C integer, of the size the column spec says (8, 4 or 1). */
void sq_put_int(const struct sq_col *c, int64_t v);

/* The statement cache of a connection: the engine's handle for sql, or NULL. */
void *stmt_find(struct stmt_cache *c, const char *sql);
int stmt_keep(struct stmt_cache *c, const char *sql, void *st, struct err *e);

#endif
