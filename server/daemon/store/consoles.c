/* consoles.c — console sessions: who opened which terminal, when, and its recording. */
#include <stdio.h>
#include <string.h>

#include "store/db.h"

int store_console_add(struct store *s, const struct console_row *c, struct err *e)
{
	return store_exec(s,
			  "INSERT INTO consoles(id, jail, tenant_id, token_id, actor, source, cols, rows, started_at, host_id) "
			  "VALUES (?, ?, ?, NULLIF(?, 0), ?, ?, ?, ?, ?, NULLIF(?, 0))",
			  PARAMS(P_TEXT(c->id), P_TEXT(c->jail), P_INT(c->tenant_id), P_INT(c->token_id), P_TEXT(c->actor), P_TEXT(c->source),
				 P_INT(c->cols), P_INT(c->rows), P_TEXT(c->started_at), P_INT(s->host_id)),
			  "recording a console session", e) < 0 ? -1 : 0;
}

int store_console_end(struct store *s, const char *id, const char *reason, int64_t bytes_out, struct err *e)
{
	char now[32];
	store_now(now);
	return store_exec(s, "UPDATE consoles SET ended_at = ?, end_reason = ?, bytes_out = ? WHERE id = ? AND ended_at IS NULL",
			  PARAMS(P_TEXT(now), P_TEXT(reason), P_INT(bytes_out), P_TEXT(id)), "ending a console session", e) < 0 ? -1 : 0;
}

int store_console_end_stale(struct store *s, struct err *e)
{
	char now[32];
	store_now(now);
	/* this host's: the others' sessions live on */
	return store_exec(s, "UPDATE consoles SET ended_at = ?, end_reason = 'jaild restarted' WHERE ended_at IS NULL AND COALESCE(host_id, 0) = ?",
			  PARAMS(P_TEXT(now), P_INT(s->host_id)), "closing the last run's console sessions", e) < 0 ? -1 : 0;
}

#define CONSOLE_COLS                                                                                                             \
	"SELECT c.rowid, c.id, c.jail, c.tenant_id, COALESCE(t.name, ''), COALESCE(c.token_id, 0), c.actor, c.source, c.cols, c.rows, " \
	"c.started_at, COALESCE(c.ended_at, ''), COALESCE(c.end_reason, ''), c.bytes_out, c.recording "                              \
	"FROM consoles c LEFT JOIN tenants t ON t.id = c.tenant_id "
#define CONSOLE_RESULT(c)                                                                                                \
	COLS(C_INT(&(c)->seq), C_TEXT((c)->id), C_TEXT((c)->jail), C_INT(&(c)->tenant_id), C_TEXT((c)->tenant),            \
	     C_INT(&(c)->token_id), C_TEXT((c)->actor), C_TEXT((c)->source), C_INT(&(c)->cols), C_INT(&(c)->rows),             \
	     C_TEXT((c)->started_at), C_TEXT((c)->ended_at), C_TEXT((c)->end_reason), C_INT(&(c)->bytes_out), C_BOOL(&(c)->recording))

int store_console_get(struct store *s, const char *id, struct console_row *c, struct err *e)
{
	/* every field is a column: nothing to clear first (and id may be c->id) */
	int r = store_one(s, CONSOLE_COLS "WHERE c.id = ?", PARAMS(P_TEXT(id)), CONSOLE_RESULT(c), "reading a console session", e);
	return r == 1 ? 0 : r == 0 ? err_set(e, ERR_NOT_FOUND, "no console session %s", id) : -1;
}

EACH_OF(console_row)

int store_console_list(struct store *s, int64_t tenant_id, const char *jail, int64_t before, int limit,
		       void (*fn)(const struct console_row *, void *), void *arg, struct err *e)
{
	struct each_console_row c = { .fn = fn, .arg = arg };
	return store_each(s,
			  CONSOLE_COLS "WHERE (?1 = 0 OR c.tenant_id = ?1) AND (?2 IS NULL OR c.jail = ?2) "
				       "AND (?3 = 0 OR c.rowid < ?3) ORDER BY c.rowid DESC LIMIT ?4",
			  PARAMS(P_INT(tenant_id), P_TEXT(jail), P_INT(before), P_INT(limit)), CONSOLE_RESULT(&c.row), each_console_row_out, &c,
			  "listing console sessions", e);
}

struct expiry {
	void (*fn)(const char *id, void *);
	void *arg;
	struct db *d;
	char id[40];
};

static void expire_one(void *x)
{
	struct expiry *c = x;
	struct err ignored;
	c->fn(c->id, c->arg);
	sq_exec(c->d, "UPDATE consoles SET recording = 0 WHERE id = ?", PARAMS(P_TEXT(c->id)), "expiring a console recording", &ignored);
}

int store_console_expire(struct store *s, const char *cutoff, int max, void (*fn)(const char *id, void *), void *arg,
			 struct err *e)
{
	struct db d;
	if (db_get(s, &d, e) < 0)
		return -1;
	struct expiry c = { fn, arg, &d, "" };
	int n = sq_each(&d,
			"SELECT id FROM consoles WHERE recording = 1 AND ended_at IS NOT NULL AND ended_at < ? AND COALESCE(host_id, 0) = ? "
			"ORDER BY ended_at LIMIT ?",
			PARAMS(P_TEXT(cutoff), P_INT(s->host_id), P_INT(max)), COLS(C_TEXT(c.id)), expire_one, &c, "expiring console recordings", e);
	db_put(&d);
	return n;
}
