/* operations.c — /api/operations: long work (a template built from a distribution's
 * archive) as it runs and after. Tenants see their own; cancel is DELETE. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "core/operations.h"

json_t *operation_json(const struct operation_row *o)
{
	json_t *result = o->result[0] ? json_loads(o->result, 0, NULL) : NULL;
	json_t *error = o->error[0] ? json_loads(o->error, 0, NULL) : NULL;
	return json_pack("{sssssssssss{sIss}sososs}", "id", o->id, "kind", o->kind, "target", o->target, "tenant", o->tenant,
			 "state", o->state, "progress", "percent", (json_int_t)o->percent, "message", o->message, "result",
			 result ? result : json_null(), "error", error ? error : json_null(), "created_at", o->created_at,
			 "updated_at", o->updated_at);
}

static void add_operation(const struct operation_row *o, void *arg)
{
	json_array_append_new(arg, operation_json(o));
}

void h_operations_list(struct request *rq, struct response *rs)
{
	struct err e;
	int lim = req_limit(rq, rs);
	if (lim < 0)
		return;
	json_t *items = json_array();
	if (store_operation_list(J.st, is_admin(rq) ? 0 : rq->who.tenant_id, lim, add_operation, items, &e) < 0) {
		json_decref(items);
		return resp_error(rs, &e);
	}
	resp_json(rs, 200, json_pack("{sosn}", "items", items, "next"));
}

/* The path's operation, if the caller may see it (else 404, as for anything of
 * another tenant's). */
static int visible_operation(struct request *rq, struct response *rs, struct operation_row *o)
{
	struct err e;
	const char *id = rq->params[0];
	size_t n = strlen(id);
	bool hex = n == 32;
	for (size_t i = 0; hex && i < n; i++)
		hex = isxdigit((unsigned char)id[i]) && !isupper((unsigned char)id[i]);
	if (!hex || store_operation_get(J.st, id, o, &e) < 0 || (!is_admin(rq) && o->tenant_id != rq->who.tenant_id)) {
		resp_errorf(rs, ERR_NOT_FOUND, NULL, "no operation %s", hex ? id : "with that id");
		return -1;
	}
	return 0;
}

void h_operation_get(struct request *rq, struct response *rs)
{
	struct operation_row o;
	if (visible_operation(rq, rs, &o) == 0)
		resp_json(rs, 200, operation_json(&o));
}

/* DELETE: cancel a running operation; it answers as it now stands (state "running"
 * until the work has stopped and cleaned up, then "cancelled"). */
void h_operation_cancel(struct request *rq, struct response *rs)
{
	struct operation_row o;
	struct err e;
	if (visible_operation(rq, rs, &o) < 0)
		return;
	if (strcmp(o.state, "running") != 0)
		return resp_errorf(rs, ERR_WRONG_STATE, NULL, "operation %s has ended (%s); only a running operation can be cancelled",
				   o.id, o.state);
	if (op_cancel(o.id, &e) < 0)
		return resp_error(rs, &e);
	if (store_operation_get(J.st, o.id, &o, &e) < 0)
		return resp_error(rs, &e);
	resp_json(rs, 202, operation_json(&o));
}
