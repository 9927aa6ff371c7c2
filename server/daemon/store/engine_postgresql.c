/* engine_postgresql.c — the store on PostgreSQL through libpq, for hosts that share one
 * database. Statements are prepared once per connection (named j0, j1, ... in the
 * order the connection first meets them), with their parameters typed from the
 * parameter spec, so nothing is inferred; rows come as text. Transactions run at read
 * committed: what must not interleave is serialized by db_lock (a tenant's row, then
 * advisory locks), always in one order. A connection that broke is made again the
 * next time the pool lends it. */
#include "store/engine.h"

#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <unistd.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

extern const struct migration schema_migrations_postgresql[];

/* advisory lock keys: fixed, and jaild's own ("jaild" in the high bytes) */
#define KEY_SCHEMA 0x6a61696c640001LL
#define KEY_ALLOCATION 0x6a61696c640002LL
#define KEY_EVENTS 0x6a61696c640003LL
#define KEY_HOSTS 0x6a6c6430 /* with the host name's hash: the two-key form's first */
#define MAX_PARAMS 32

/* libpq's messages end in a newline; ours do not */
static const char *one_line(const char *msg, char *buf, size_t size)
{
	snprintf(buf, size, "%s", msg && *msg ? msg : "no message");
	for (char *p = buf; *p; p++)
		if (*p == '\n' || *p == '\t')
			*p = *(p + 1) ? ' ' : '\0';
	return buf;
}

static int result_error(struct db *d, const PGresult *r, struct err *e, const char *what)
{
	char msg[300];
	one_line(r ? PQresultErrorMessage(r) : PQerrorMessage(d->conn), msg, sizeof msg);
	if (!e)
		return -1;
	if (PQstatus(d->conn) != CONNECTION_OK)
		return err_set(e, ERR_UNAVAILABLE, "%s: the connection to PostgreSQL was lost (%s); retry", what, msg);
	const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	if (state && (strcmp(state, "23505") == 0 || strcmp(state, "23P01") == 0)) /* unique, exclusion violation */
		return err_set(e, ERR_CONFLICT, "%s: already exists", what);
	if (state && (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0 || strcmp(state, "55P03") == 0))
		return err_set(e, ERR_BUSY, "%s: the database asked to retry (SQLSTATE %s); retry", what, state);
	return err_set(e, ERR_INTERNAL, "%s: %s", what, msg);
}

static int pg_error(struct db *d, struct err *e, const char *what)
{
	return result_error(d, NULL, e, what);
}

static void no_notices(void *arg, const char *message)
{
	(void)arg, (void)message; /* "already exists, skipping" and the like */
}

static void *pg_connect(struct store *s, struct err *e)
{
	PGconn *c = PQconnectdb(s->path);
	if (!c) {
		err_set(e, ERR_INTERNAL, "out of memory");
		return NULL;
	}
	if (PQstatus(c) != CONNECTION_OK) {
		char msg[300];
		/* the URI may carry a password: not repeated */
		err_set(e, ERR_UNAVAILABLE, "connecting to PostgreSQL: %s; check the store setting and that the server is up",
			one_line(PQerrorMessage(c), msg, sizeof msg));
		PQfinish(c);
		return NULL;
	}
	PQsetNoticeProcessor(c, no_notices, NULL);
	return c;
}

static void pg_disconnect(void *conn, struct stmt_cache *c)
{
	c->n = 0; /* the server's prepared statements end with the session */
	PQfinish(conn);
}

static int script_once(struct db *d, const char *sql, struct err *e)
{
	PGresult *r = PQexec(d->conn, sql);
	ExecStatusType st = PQresultStatus(r);
	int rc = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ? 0 : result_error(d, r, e, "database");
	PQclear(r);
	return rc;
}

/* as pg_start: a BEGIN on a connection the server dropped is begun on a new one */
static int pg_script(struct db *d, const char *sql, struct err *e)
{
	bool alone = PQtransactionStatus(d->conn) == PQTRANS_IDLE && d->conn != d->s->claim.conn;
	int rc = script_once(d, sql, e);
	if (rc == 0 || !alone || PQstatus(d->conn) == CONNECTION_OK)
		return rc;
	d->s->stmts[d->slot].n = 0;
	PQreset(d->conn);
	return PQstatus(d->conn) == CONNECTION_OK ? script_once(d, sql, e) : rc;
}

static int pg_check(struct db *d, struct err *e)
{
	PGconn *c = d->conn;
	if (PQstatus(c) != CONNECTION_OK) {
		d->s->stmts[d->slot].n = 0;
		PQreset(c);
		if (PQstatus(c) != CONNECTION_OK) {
			char msg[300];
			return err_set(e, ERR_UNAVAILABLE, "PostgreSQL is unreachable (%s); retry",
				       one_line(PQerrorMessage(c), msg, sizeof msg));
		}
	}
	/* a transaction left open by a request that failed half-way is not inherited */
	if (PQtransactionStatus(c) != PQTRANS_IDLE)
		pg_script(d, "ROLLBACK", NULL);
	return 0;
}

/* The statement with PostgreSQL's $N for SQLite's ?N and ? (a bare ? is one past the
 * largest number so far, as SQLite counts); quoted text is left alone. */
static char *dollar_params(const char *sql)
{
	size_t n = strlen(sql);
	char *out = malloc(n * 4 + 1), *o = out;
	if (!out)
		return NULL;
	long max = 0;
	bool quoted = false;
	for (const char *p = sql; *p; p++) {
		if (*p == '\'')
			quoted = !quoted;
		if (quoted || *p != '?') {
			*o++ = *p;
			continue;
		}
		long k = max + 1;
		if (isdigit((unsigned char)p[1])) {
			char *end;
			k = strtol(p + 1, &end, 10);
			p = end - 1;
		}
		if (k > max)
			max = k;
		o += sprintf(o, "$%ld", k);
	}
	*o = '\0';
	return out;
}

/* pg_type's OIDs of the parameter kinds */
static Oid param_type(enum sq_kind k)
{
	return k == SQ_TEXT ? 25 /* text */ : k == SQ_BLOB ? 17 /* bytea */ : 20 /* int8 */;
}

static int start_once(struct sq *q, const char *sql, const struct sq_param *p, struct err *e)
{
	struct db *d = q->d;
	struct stmt_cache *c = &d->s->stmts[d->slot];
	int np = 0;
	while (p[np].kind != SQ_END)
		if (++np > MAX_PARAMS)
			return err_set(e, ERR_INTERNAL, "%s: more than %d parameters", q->what, MAX_PARAMS);
	char name[32];
	uintptr_t h = (uintptr_t)stmt_find(c, sql);
	if (!h) {
		Oid types[MAX_PARAMS];
		for (int i = 0; i < np; i++)
			types[i] = param_type(p[i].kind);
		char *text = dollar_params(sql);
		if (!text)
			return err_set(e, ERR_INTERNAL, "%s: out of memory", q->what);
		snprintf(name, sizeof name, "j%zu", c->n);
		PGresult *r = PQprepare(d->conn, name, text, np, types);
		free(text);
		if (PQresultStatus(r) != PGRES_COMMAND_OK) {
			int rc = result_error(d, r, e, q->what);
			PQclear(r);
			return rc;
		}
		PQclear(r);
		h = c->n + 1;
		if (stmt_keep(c, sql, (void *)h, e) < 0)
			return -1;
	}
	snprintf(name, sizeof name, "j%zu", (size_t)(h - 1));
	const char *vals[MAX_PARAMS];
	int lens[MAX_PARAMS], fmts[MAX_PARAMS];
	char ints[MAX_PARAMS][24];
	for (int i = 0; i < np; i++) {
		lens[i] = fmts[i] = 0;
		switch (p[i].kind) {
		case SQ_TEXT: vals[i] = p[i].p; break;
		case SQ_INT:
		case SQ_INT_OR_NULL:
			snprintf(ints[i], sizeof ints[i], "%lld", (long long)p[i].i);
			vals[i] = p[i].kind == SQ_INT_OR_NULL && p[i].i < 0 ? NULL : ints[i];
			break;
		case SQ_BLOB:
			vals[i] = p[i].p;
			lens[i] = (int)p[i].n;
			fmts[i] = 1; /* binary */
			break;
		default: return err_set(e, ERR_INTERNAL, "%s: parameter %d has no type", q->what, i + 1);
		}
	}
	PGresult *r = PQexecPrepared(d->conn, name, np, vals, lens, fmts, 0);
	ExecStatusType st = PQresultStatus(r);
	if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
		int rc = result_error(d, r, e, q->what);
		PQclear(r);
		return rc;
	}
	q->res = r;
	q->row = 0;
	return 0;
}

/* A statement outside a transaction that finds its connection gone (the server
 * restarted while it sat in the pool) runs once more on a new one: nothing of it was
 * done. Inside a transaction the transaction is lost, and says so. */
static int pg_start(struct sq *q, const char *sql, const struct sq_param *p, struct err *e)
{
	struct db *d = q->d;
	/* (not the claim's: its lock went with the session, which the heartbeat sees) */
	bool alone = PQtransactionStatus(d->conn) == PQTRANS_IDLE && d->conn != d->s->claim.conn;
	int rc = start_once(q, sql, p, e);
	if (rc == 0 || !alone || PQstatus(d->conn) == CONNECTION_OK)
		return rc;
	d->s->stmts[d->slot].n = 0;
	PQreset(d->conn);
	return PQstatus(d->conn) == CONNECTION_OK ? start_once(q, sql, p, e) : rc;
}

static int64_t int_of(const char *v)
{
	/* booleans come as t and f */
	return *v == 't' ? 1 : *v == 'f' ? 0 : strtoll(v, NULL, 10);
}

static int hexval(int c)
{
	return isdigit(c) ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* bytea as text is \x and two hex digits a byte: exactly n bytes, else zeros */
static void bytes_of(const char *v, uint8_t *out, size_t n)
{
	memset(out, 0, n);
	if (strncmp(v, "\\x", 2) != 0 || strlen(v + 2) != 2 * n)
		return;
	for (size_t i = 0; i < n; i++) {
		int hi = hexval((unsigned char)v[2 + 2 * i]), lo = hexval((unsigned char)v[3 + 2 * i]);
		if (hi < 0 || lo < 0) {
			memset(out, 0, n);
			return;
		}
		out[i] = (uint8_t)(hi << 4 | lo);
	}
}

static void read_cols(const PGresult *r, int row, const struct sq_col *c)
{
	int nf = PQnfields(r);
	for (int i = 0; c->kind != SQ_END && i < nf; c++, i++) {
		bool null = PQgetisnull(r, row, i);
		const char *v = null ? "" : PQgetvalue(r, row, i);
		switch (c->kind) {
		case SQ_TEXT: snprintf(c->p, c->n, "%s", v); break;
		case SQ_TEXT_REF: *(const char **)c->p = null ? NULL : v; break;
		case SQ_INT: sq_put_int(c, null ? 0 : int_of(v)); break;
		case SQ_BOOL: *(bool *)c->p = !null && int_of(v) != 0; break;
		case SQ_BLOB: bytes_of(v, c->p, c->n); break;
		default: break;
		}
	}
}

static int pg_next(struct sq *q, struct err *e)
{
	(void)e;
	if (!q->res || q->row >= PQntuples(q->res))
		return 0;
	read_cols(q->res, q->row++, q->cols);
	return 1;
}

static void pg_end(struct sq *q)
{
	PQclear(q->res);
}

static int64_t pg_changes(struct sq *q)
{
	return q->res ? strtoll(PQcmdTuples(q->res), NULL, 10) : 0;
}

static int pg_lock(struct db *d, enum db_lock what, int64_t tenant_id, struct err *e)
{
	if (what == DB_LOCK_ALLOCATION &&
	    sq_one(d, "SELECT 1 FROM tenants WHERE id = ? FOR UPDATE", PARAMS(P_INT(tenant_id)), NO_COLS, "locking the tenant", e) < 0)
		return -1;
	int64_t key = what == DB_LOCK_EVENTS ? KEY_EVENTS : KEY_ALLOCATION;
	return sq_exec(d, "SELECT pg_advisory_xact_lock(?)", PARAMS(P_INT(key)), "taking a lock", e) < 0 ? -1 : 0;
}

static int pg_lock_schema(struct db *d, bool take, struct err *e)
{
	return sq_exec(d, take ? "SELECT pg_advisory_lock(?)" : "SELECT pg_advisory_unlock(?)", PARAMS(P_INT(KEY_SCHEMA)),
		       "holding the schema lock", e) < 0 ? -1 : 0;
}

static int pg_claim(struct db *d, const char *host, struct err *e)
{
	bool got = false;
	int r = sq_one(d, "SELECT pg_try_advisory_lock(CAST(? AS INTEGER), hashtext(?))", PARAMS(P_INT(KEY_HOSTS), P_TEXT(host)),
		       COLS(C_BOOL(&got)), "claiming this host", e);
	if (r < 0)
		return -1;
	return got ? 0
		   : err_set(e, ERR_CONFLICT,
			     "host %s is held by another jaild that is running on the same store; a host's name is its own: "
			     "give this one another (the host setting)",
			     host);
}

/* A connection of its own that LISTENs: events come as NOTIFY, sent in the
 * transaction that adds them, so delivered in commit order. */
static void pg_watch_events(struct store *s, void (*changed)(int64_t id))
{
	bool told = false;
	for (;;) {
		PGconn *c = PQconnectdb(s->path);
		PGresult *r = PQstatus(c) == CONNECTION_OK ? PQexec(c, "LISTEN jaild_events") : NULL;
		bool ok = r && PQresultStatus(r) == PGRES_COMMAND_OK;
		PQclear(r);
		if (ok) {
			if (told)
				log_info("listening for events again");
			told = false;
			changed(0); /* whatever came while nothing listened */
			while (PQstatus(c) == CONNECTION_OK) {
				struct pollfd p = { PQsocket(c), POLLIN, 0 };
				if (poll(&p, 1, 10000) < 0 && errno != EINTR)
					break;
				if (!PQconsumeInput(c))
					break;
				PGnotify *n;
				while ((n = PQnotifies(c))) {
					changed(strtoll(n->extra, NULL, 10));
					PQfreemem(n);
				}
			}
		}
		if (!told) {
			char msg[300];
			log_warn("not listening for other hosts' events: %s; trying again every second",
				 one_line(PQerrorMessage(c), msg, sizeof msg));
			told = true;
		}
		PQfinish(c);
		sleep(1);
	}
}

static bool pg_broken(struct db *d)
{
	return PQstatus(d->conn) != CONNECTION_OK;
}

const struct db_engine engine_postgresql = {
	.name = "postgresql",
	.migrations = schema_migrations_postgresql,
	.begin = "BEGIN",
	.connect = pg_connect,
	.disconnect = pg_disconnect,
	.check = pg_check,
	.script = pg_script,
	.start = pg_start,
	.next = pg_next,
	.end = pg_end,
	.changes = pg_changes,
	.error = pg_error,
	.lock = pg_lock,
	.lock_schema = pg_lock_schema,
	.claim = pg_claim,
	.broken = pg_broken,
	.watch_events = pg_watch_events,
};
