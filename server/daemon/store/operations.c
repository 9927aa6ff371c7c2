/* operations.c — long work as /api/operations shows it: one row per operation, its
 * progress written as it goes, its result or error when it ends. */
#include <stdio.h>
#include <string.h>

#include "store/db.h"

int store_operation_add(struct store *s, const char *id, const char *kind, const char *target, int64_t tenant_id, struct err *e)
{
	char now[32];
	store_now(now);
	return store_exec(s,
			  "INSERT INTO operations(id, kind, target, tenant_id, state, created_at, updated_at) "
			  "VALUES (?1, ?2, ?3, ?4, 'running', ?5, ?5)",
			  PARAMS(P_TEXT(id), P_TEXT(kind), P_TEXT(target), P_INT(tenant_id), P_TEXT(now)), "recording an operation", e) < 0
		       ? -1
		       : 0;
}

int store_operation_progress(struct store *s, const char *id, int percent, const char *message, struct err *e)
{
	char now[32];
	store_now(now);
	return store_exec(s, "UPDATE operations SET percent = ?, message = ?, updated_at = ? WHERE id = ? AND state = 'running'",
			  PARAMS(P_INT(percent), P_TEXT(message), P_TEXT(now), P_TEXT(id)), "recording progress", e) < 0
		       ? -1
		       : 0;
}

int store_operation_end(struct store *s, const char *id, const char *state, const char *result, const char *error, struct err *e)
{
	char now[32];
	store_now(now);
	return store_exec(s,
			  "UPDATE operations SET state = ?, result = ?, error = ?, percent = CASE WHEN ?1 = 'done' THEN 100 ELSE percent END, "
			  "updated_at = ? WHERE id = ? AND state = 'running'",
			  PARAMS(P_TEXT(state), P_TEXT(result), P_TEXT(error), P_TEXT(now), P_TEXT(id)), "ending an operation", e) < 0
		       ? -1
		       : 0;
}

#define OPERATION_COLS                                                                                                      \
	"SELECT o.id, o.kind, o.target, o.tenant_id, t.name, o.state, o.percent, o.message, COALESCE(o.result, ''), "       \
	"COALESCE(o.error, ''), o.created_at, o.updated_at FROM operations o JOIN tenants t ON t.id = o.tenant_id "
#define OPERATION_RESULT(o)                                                                                            \
	COLS(C_TEXT((o)->id), C_TEXT((o)->kind), C_TEXT((o)->target), C_INT(&(o)->tenant_id), C_TEXT((o)->tenant),        \
	     C_TEXT((o)->state), C_INT(&(o)->percent), C_TEXT((o)->message), C_TEXT((o)->result), C_TEXT((o)->error),        \
	     C_TEXT((o)->created_at), C_TEXT((o)->updated_at))

int store_operation_get(struct store *s, const char *id, struct operation_row *out, struct err *e)
{
	char want[sizeof out->id];
	snprintf(want, sizeof want, "%s", id);
	memset(out, 0, sizeof *out);
	int r = store_one(s, OPERATION_COLS "WHERE o.id = ?", PARAMS(P_TEXT(want)), OPERATION_RESULT(out), "reading an operation", e);
	return r == 1 ? 0 : r == 0 ? err_set(e, ERR_NOT_FOUND, "no operation %s", want) : -1;
}

EACH_OF(operation_row)

int store_operation_list(struct store *s, int64_t tenant_id, int limit, void (*fn)(const struct operation_row *, void *), void *arg,
			 struct err *e)
{
	struct each_operation_row c = { .fn = fn, .arg = arg };
	return store_each(s, OPERATION_COLS "WHERE ?1 = 0 OR o.tenant_id = ?1 ORDER BY o.created_at DESC, o.id LIMIT ?2",
			  PARAMS(P_INT(tenant_id), P_INT(limit)), OPERATION_RESULT(&c.row), each_operation_row_out, &c,
			  "listing operations", e);
}

int store_operation_orphans(struct store *s, struct err *e)
{
	char now[32];
	store_now(now);
	return store_exec(s,
			  "UPDATE operations SET state = 'failed', updated_at = ?, error = "
			  "'{\"code\":\"internal_error\",\"message\":\"jaild stopped while the operation ran; start it again\"}' "
			  "WHERE state = 'running'",
			  PARAMS(P_TEXT(now)), "ending orphaned operations", e) < 0
		       ? -1
		       : 0;
}
