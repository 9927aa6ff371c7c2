/* audit.c — GET /api/audit: who did what, newest first, in pages. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"

static void add_audit(const struct audit_row *a, void *arg)
{
	json_t *items = arg;
	json_array_append_new(items, json_pack("{sIsssssosssosssssiss}", "id", (json_int_t)a->id, "at", a->at, "request_id",
					       a->request_id, "token_id", a->token_id ? json_integer(a->token_id) : json_null(),
					       "actor", a->actor, "tenant", a->tenant[0] ? json_string(a->tenant) : json_null(),
					       "action", a->action, "target", a->target, "status", a->status, "source", a->source));
	json_t *item = json_array_get(items, json_array_size(items) - 1);
	if (a->link[0])
		json_object_set_new(item, "recording", json_string(a->link));
	if (a->repeats > 0) /* refusals folded into this one (http/refusals.c) */
		json_object_set_new(item, "repeats", json_integer(a->repeats));
}

/* GET /api/audit: newest first. Admins see all (?tenant= narrows), tenants their own. */
void h_audit(struct request *rq, struct response *rs)
{
	struct audit_filter f = { .limit = req_limit(rq, rs), .action = req_query(rq, "action"), .target = req_query(rq, "target") };
	const char *after = req_query(rq, "after"), *status = req_query(rq, "status"), *tenant = req_query(rq, "tenant");
	struct err e;
	if (f.limit < 0)
		return;
	char *end;
	if (after && ((f.before = strtoll(after, &end, 10)) <= 0 || *end))
		return resp_errorf(rs, ERR_INVALID, "after", "after must be a cursor from a previous page's \"next\"");
	if (status && ((f.status = (int)strtol(status, &end, 10)) < 100 || f.status > 599 || *end))
		return resp_errorf(rs, ERR_INVALID, "status", "status must be an HTTP status code");
	if (!is_admin(rq)) {
		f.tenant_id = rq->who.tenant_id;
	} else if (tenant) {
		if (!valid_name(tenant))
			return resp_errorf(rs, ERR_INVALID, "tenant", "tenant must be a tenant name");
		if (store_tenant_lookup(J.st, tenant, &f.tenant_id, &e) < 0)
			return resp_json(rs, 200, json_pack("{s[]sn}", "items", "next"));
	}
	json_t *items = json_array();
	int n = store_audit_list(J.st, &f, add_audit, items, &e);
	if (n < 0) {
		json_decref(items);
		return resp_error(rs, &e);
	}
	json_t *next = json_null();
	if (n == f.limit && n > 0) {
		char cur[32];
		snprintf(cur, sizeof cur, "%lld", (long long)json_integer_value(json_object_get(json_array_get(items, (size_t)n - 1), "id")));
		next = json_string(cur);
	}
	resp_json(rs, 200, json_pack("{soso}", "items", items, "next", next));
}

