/* db.h — inside the store: the connection pool, and statements run from a parameter
 * spec and a result spec (as GNU Taler's exchangedb binds them with
 * GNUNET_PQ_query_param_* and GNUNET_PQ_result_spec_*), so that a store function says
 * what goes in and what comes out, and nothing else. Every statement is prepared once
 * per connection (kept, keyed by its SQL's address: pass string literals or static
 * arrays) and every prepare is checked. Two engines run them (engine.h): SQLite, the
 * embedded default, and PostgreSQL, which a cluster shares. The SQL is one text for
 * both, with ?N parameters; where the two differ, dialect() picks. Only store/
 * includes this file. */
#ifndef JAILD_STORE_DB_H
#define JAILD_STORE_DB_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "err.h"
#include "store/store.h"

#define POOL_SIZE 64

struct stmt_cache {
	struct cached {
		const char *sql;
		void *st; /* the engine's handle */
	} *items;
	size_t n, cap;
};

struct db_engine;
struct store;

/* A pooled connection, held for one call or one transaction. */
struct db {
	struct store *s;
	void *conn;
	int slot;
};

struct store {
	const struct db_engine *eng;
	char path[1024]; /* SQLite's file, or PostgreSQL's connection URI */
	/* an address the host routes elsewhere (another jaild's jail) is not handed out */
	bool (*addr4_taken)(uint32_t addr);
	struct pool4 p4;
	struct pool6 p6;
	uint32_t max_slots; /* the uid range's slots on this host (store_set_max_slots) */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	void *conns[POOL_SIZE];
	struct stmt_cache stmts[POOL_SIZE];
	bool busy[POOL_SIZE];
	int nconns;
	bool temporary; /* a test's: its files go at close */
	bool shared;    /* other hosts write it too (PostgreSQL): nothing is cached */
	/* bumped after every commit that changed a jail's row (SQLite's hooks):
	 * store_generation */
	atomic_uint_fast64_t generation;
	atomic_int checkpointing; /* a checkpoint thread runs (engine_sqlite.c) */
	/* this host's row (hosts.c), and the connection that holds its claim for as long
	 * as this jaild runs */
	int64_t host_id;
	struct db claim;
	/* Token lookups, answered from memory: every token write goes through this store
	 * and bumps token_gen, which voids all entries, so a revoked token fails on the
	 * very next request; expiry is checked on each hit. tenants.c. */
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

int db_get(struct store *s, struct db *d, struct err *e);
void db_put(struct db *d);
/* SQLite: BEGIN IMMEDIATE, the write lock at once, so a transaction never fails half-way
 * on it. PostgreSQL: BEGIN, read committed; what must not interleave takes db_lock. */
int db_begin(struct db *d, struct err *e);
int db_commit(struct db *d, struct err *e);
void db_rollback(struct db *d);
/* A connection with its transaction begun; 0, or -1 with nothing held. */
int db_get_tx(struct store *s, struct db *d, struct err *e);
/* Ends the transaction db_get_tx began: commits when rc is 0 (a failed commit makes
 * it -1), else rolls back; the connection goes back. Returns rc. */
int db_end_tx(struct db *d, int rc, struct err *e);
/* e from the connection's last error: ERR_CONFLICT for a unique key, ERR_BUSY, or
 * ERR_INTERNAL with SQLite's message; what says what was being done. */
int db_error(struct db *d, struct err *e, const char *what);
/* What a transaction holds until it ends, so that concurrent ones (PostgreSQL's, from
 * many threads or hosts) cannot interleave: ALLOCATION is the tenant's row, then the
 * allocation of slots and addresses (always in that order: no deadlock); EVENTS makes
 * event ids commit in the order they are given. SQLite's BEGIN IMMEDIATE already
 * holds the whole database. */
enum db_lock { DB_LOCK_ALLOCATION, DB_LOCK_EVENTS };
int db_lock(struct db *d, enum db_lock what, int64_t tenant_id, struct err *e);
/* The statement as the store's engine words it: sqlite's or postgresql's text. */
const char *dialect(const struct store *s, const char *sqlite, const char *postgresql);
/* now - seconds, as store_now writes times */
void store_time_ago(char buf[32], int64_t seconds);

/* ---- parameters ---- */
enum sq_kind {
	SQ_END,
	SQ_TEXT,        /* const char *; NULL binds NULL */
	SQ_INT,         /* int64_t value */
	SQ_INT_OR_NULL, /* int64_t value; negative binds NULL (limits that are not set) */
	SQ_BLOB,        /* bytes and a length */
	SQ_BOOL,        /* results: a bool */
	SQ_TEXT_REF,    /* results: a const char * into the row, valid until the next step */
};
struct sq_param {
	enum sq_kind kind;
	const void *p;
	int64_t i;
	size_t n;
};
#define P_TEXT(s) { SQ_TEXT, (s), 0, 0 }
#define P_INT(v) { SQ_INT, NULL, (int64_t)(v), 0 }
#define P_INT_OR_NULL(v) { SQ_INT_OR_NULL, NULL, (int64_t)(v), 0 }
#define P_BLOB(b, len) { SQ_BLOB, (b), 0, (len) }
#define PARAMS(...) ((const struct sq_param[]){ __VA_ARGS__, { SQ_END, NULL, 0, 0 } })
#define NO_PARAMS ((const struct sq_param[]){ { SQ_END, NULL, 0, 0 } })

/* ---- results: one per column, in order ---- */
struct sq_col {
	enum sq_kind kind;
	void *p;
	size_t n; /* SQ_TEXT: the buffer's size; SQ_INT: the integer's size (1, 4 or 8) */
};
#define C_TEXT(buf) { SQ_TEXT, (buf), sizeof(buf) }
#define C_TEXTN(buf, size) { SQ_TEXT, (buf), (size) }
#define C_INT(ptr) { SQ_INT, (ptr), sizeof *(ptr) }
#define C_BOOL(ptr) { SQ_BOOL, (ptr), sizeof *(ptr) }
#define C_BLOB(buf) { SQ_BLOB, (buf), sizeof(buf) } /* exactly that many bytes, else zeros */
#define C_TEXT_REF(pptr) { SQ_TEXT_REF, (pptr), 0 }
#define COLS(...) ((const struct sq_col[]){ __VA_ARGS__, { SQ_END, NULL, 0 } })
#define NO_COLS ((const struct sq_col[]){ { SQ_END, NULL, 0 } })

/* A statement under way: sq_start binds, sq_next reads each row into the columns. */
struct sq {
	struct db *d;
	void *st;  /* SQLite's statement */
	void *res; /* PostgreSQL's result, and the next row of it */
	int row;
	const struct sq_col *cols;
	const char *what;
};
int sq_start(struct sq *q, struct db *d, const char *sql, const struct sq_param *p, const struct sq_col *cols, const char *what,
	     struct err *e);
/* 1: a row was read; 0: no more; -1: e says why. */
int sq_next(struct sq *q, struct err *e);
void sq_end(struct sq *q);

/* One statement that answers no rows: the rows it changed, or -1. */
int64_t sq_exec(struct db *d, const char *sql, const struct sq_param *p, const char *what, struct err *e);
/* The first row into cols: 1, or 0 when there is none, or -1. */
int sq_one(struct db *d, const char *sql, const struct sq_param *p, const struct sq_col *cols, const char *what, struct err *e);
/* The same on a connection of their own. */
int64_t store_exec(struct store *s, const char *sql, const struct sq_param *p, const char *what, struct err *e);
int store_one(struct store *s, const char *sql, const struct sq_param *p, const struct sq_col *cols, const char *what,
	      struct err *e);
/* Every row into cols, then each(ctx): the number of rows, or -1. */
int sq_each(struct db *d, const char *sql, const struct sq_param *p, const struct sq_col *cols, void (*each)(void *ctx), void *ctx,
	    const char *what, struct err *e);
int store_each(struct store *s, const char *sql, const struct sq_param *p, const struct sq_col *cols, void (*each)(void *ctx),
	       void *ctx, const char *what, struct err *e);
/* For a listing that hands each row to a typed callback fn(const struct T *, void *):
 * EACH_OF(T) defines struct each_T { fn, arg, row } and each_T_out for store_each. */
#define EACH_OF(T)                                                \
	struct each_##T {                                         \
		void (*fn)(const struct T *, void *);             \
		void *arg;                                        \
		struct T row;                                     \
	};                                                        \
	static void each_##T##_out(void *x)                       \
	{                                                         \
		struct each_##T *c = x;                           \
		c->fn(&c->row, c->arg);                           \
	}

/* ---- shared between the table files ---- */
void token_cache_void(struct store *s);
void quotas_from_text(const char *text, struct quotas *q);
char *quotas_to_text(const struct quotas *q);
/* The sums of a tenant's jails (jails, memory, processes, addresses, disk), and how
 * many of them name no memory, process or disk limit (each may be NULL). */
int tenant_usage(struct db *d, int64_t tenant_id, struct quotas *u, int64_t *unlimited_mem, int64_t *unlimited_proc,
		 int64_t *unlimited_disk, struct err *e);

#endif
