/* snapshots.c — /api/jails/{name}/snapshots and /api/jails/{name}/restore. */
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "json_spec.h"

/* The jail must be the caller's (404 otherwise), as for every jail route. */
static int own_jail(struct request *rq, struct response *rs)
{
	struct jail_row row = { 0 };
	if (visible_jail(rq, rs, rq->params[0], &row) < 0)
		return -1;
	jail_row_clear(&row);
	return 0;
}

static json_t *snapshot_json(const struct snapshot_row *p)
{
	return json_pack("{sssIss}", "name", p->name, "size", (json_int_t)p->bytes, "created_at", p->created_at);
}

static void add_snapshot(const struct snapshot_row *p, void *arg)
{
	json_array_append_new(arg, snapshot_json(p));
}

void h_snapshots_list(struct request *rq, struct response *rs)
{
	struct err e;
	if (own_jail(rq, rs) < 0)
		return;
	json_t *items = json_array();
	if (store_snapshot_list(J.st, rq->params[0], add_snapshot, items, &e) < 0) {
		json_decref(items);
		return resp_error(rs, &e);
	}
	resp_json(rs, 200, json_pack("{sosn}", "items", items, "next"));
}

void h_snapshots_create(struct request *rq, struct response *rs)
{
	struct err e = { 0 };
	if (own_jail(rq, rs) < 0)
		return;
	json_t *body = req_json(rq, &e);
	if (!body)
		return resp_error(rs, &e);
	struct snapshot_row p;
	const char *name;
	const struct jfield spec[] = { JF_STRING("name", true, NULL, &name, NULL), JF_END };
	int rc = json_parse_fields(body, spec, "", NULL, &e);
	if (rc == 0)
		rc = jail_snapshot_create(rq->params[0], name, &p, &e);
	json_decref(body);
	if (rc < 0)
		return resp_error(rs, &e);
	snprintf(rs->location, sizeof rs->location, "/api/jails/%.63s/snapshots/%.63s", rq->params[0], p.name);
	resp_json(rs, 201, snapshot_json(&p));
}

void h_snapshot_restore(struct request *rq, struct response *rs)
{
	struct err e;
	if (own_jail(rq, rs) < 0)
		return;
	if (jail_snapshot_restore(rq->params[0], rq->params[1], &e) < 0)
		return resp_error(rs, &e);
	h_jail_get(rq, rs);
}

void h_snapshot_delete(struct request *rq, struct response *rs)
{
	struct err e;
	if (own_jail(rq, rs) < 0)
		return;
	if (jail_snapshot_delete(rq->params[0], rq->params[1], &e) < 0)
		return resp_error(rs, &e);
	rs->status = 204;
}

/* POST /api/jails/{name}/restore: what the schedule does, now: the warning, then the
 * restore.snapshot, and the jail running again if it was. */
void h_jail_auto_restore(struct request *rq, struct response *rs)
{
	struct err e;
	if (own_jail(rq, rs) < 0)
		return;
	if (jail_auto_restore(rq->params[0], true, "the API", &e) < 0)
		return resp_error(rs, &e);
	h_jail_get(rq, rs);
}
