/* events.c — lifecycle events, kept for a window so that streams can resume. */
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "store/db.h"

int64_t store_event_add(struct store *s, int64_t tenant_id, const char *type, const char *target, const char *data_json,
			int64_t keep_seconds)
{
	struct err e;
	struct db d;
	char now[32], oldest[32];
	store_now(now);
	store_time_ago(oldest, keep_seconds);
	int64_t id = 0;
	/* ids in the order they commit (DB_LOCK_EVENTS): a stream resuming after an id
	 * never misses one committed later with a smaller id */
	int rc = db_get_tx(s, &d, &e);
	if (rc == 0)
		rc = db_end_tx(&d,
			       db_lock(&d, DB_LOCK_EVENTS, 0, &e) ||
					       sq_exec(&d, "DELETE FROM events WHERE at < ?", PARAMS(P_TEXT(oldest)), "forgetting old events", &e) < 0 ||
					       sq_one(&d, "INSERT INTO events(at, tenant_id, type, target, data) VALUES (?, NULLIF(?, 0), ?, ?, ?) RETURNING id",
						      PARAMS(P_TEXT(now), P_INT(tenant_id), P_TEXT(type), P_TEXT(target), P_TEXT(data_json)),
						      COLS(C_INT(&id)), "recording an event", &e) != 1 ||
					       (s->shared && sq_exec(&d, "SELECT pg_notify('jaild_events', CAST(? AS TEXT))", PARAMS(P_INT(id)),
								     "telling the other hosts", &e) < 0)
				       ? -1
				       : 0,
			       &e);
	if (rc < 0) {
		log_error("event %s %s: %s", type, target, e.msg);
		return 0;
	}
	return id;
}

struct each_event {
	void (*fn)(const struct event_row *, void *);
	void *arg;
	struct event_row row;
	const char *data;
};

static void each_event_out(void *x)
{
	struct each_event *c = x;
	c->row.data = (char *)c->data;
	c->fn(&c->row, c->arg);
}

int store_event_list(struct store *s, int64_t tenant_id, int64_t after, int limit, void (*fn)(const struct event_row *, void *),
		     void *arg, struct err *e)
{
	struct each_event c = { .fn = fn, .arg = arg };
	struct event_row *ev = &c.row;
	return store_each(s, "SELECT id, at, type, target, data FROM events WHERE id > ?1 AND (?2 = 0 OR tenant_id = ?2) ORDER BY id LIMIT ?3",
			  PARAMS(P_INT(after), P_INT(tenant_id), P_INT(limit)),
			  COLS(C_INT(&ev->id), C_TEXT(ev->at), C_TEXT(ev->type), C_TEXT(ev->target), C_TEXT_REF(&c.data)), each_event_out, &c,
			  "reading events", e);
}

int64_t store_event_latest(struct store *s)
{
	struct err e;
	int64_t id = 0;
	return store_one(s, "SELECT COALESCE(MAX(id), 0) FROM events", NO_PARAMS, COLS(C_INT(&id)), "reading events", &e) == 1 ? id : 0;
}
