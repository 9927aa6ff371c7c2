/* events.c — GET /api/events: the lifecycle events as a server-sent-events stream. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "core/events.h"

/* ---- one SSE stream ---- */

struct stream {
	int64_t tenant_id; /* 0: an admin, every event */
	int64_t last;      /* the last id sent */
	char *buf;         /* what is ready to go out */
	size_t len, off, cap;
};

static void put(struct stream *s, const char *text)
{
	size_t n = strlen(text);
	if (s->len + n + 1 > s->cap) {
		size_t c = s->cap ? s->cap : 4096;
		while (c < s->len + n + 1)
			c *= 2;
		char *b = realloc(s->buf, c);
		if (!b)
			return;
		s->buf = b;
		s->cap = c;
	}
	memcpy(s->buf + s->len, text, n + 1);
	s->len += n;
}

static void add_event(const struct event_row *ev, void *arg)
{
	struct stream *s = arg;
	json_t *d = json_loads(ev->data, 0, NULL);
	if (!json_is_object(d)) {
		json_decref(d);
		d = json_object();
	}
	json_object_set_new(d, "id", json_integer(ev->id));
	json_object_set_new(d, "at", json_string(ev->at));
	json_object_set_new(d, "type", json_string(ev->type));
	json_object_set_new(d, "target", json_string(ev->target));
	char *text = json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(d);
	char head[128];
	snprintf(head, sizeof head, "id: %lld\nevent: %s\ndata: ", (long long)ev->id, ev->type);
	put(s, head);
	put(s, text ? text : "{}");
	put(s, "\n\n");
	free(text);
	s->last = ev->id;
}

/* libmicrohttpd pulls the stream through this, on the connection's own thread, so it
 * may wait here for the next event. A comment line every 10 s keeps proxies (and the
 * check for a gone client) busy. */
static ssize_t stream_read(void *cls, uint64_t pos, char *out, size_t max)
{
	struct stream *s = cls;
	(void)pos;
	for (int round = 0; s->off == s->len; round++) {
		s->len = s->off = 0;
		struct err e;
		if (store_event_list(J.st, s->tenant_id, s->last, 100, add_event, s, &e) < 0)
			return HTTP_STREAM_ERROR;
		if (s->len)
			break;
		if (round > 0) {
			put(s, ": keepalive\n\n");
			break;
		}
		events_wait(s->last, 10);
	}
	size_t n = s->len - s->off < max ? s->len - s->off : max;
	memcpy(out, s->buf + s->off, n);
	s->off += n;
	return (ssize_t)n;
}

static void stream_free(void *cls)
{
	struct stream *s = cls;
	free(s->buf);
	free(s);
}

void h_events(struct request *rq, struct response *rs)
{
	const char *since = req_query(rq, "since");
	const char *last = req_header(rq, "Last-Event-ID");
	const char *from = since ? since : last;
	/* no cursor: from now on; a cursor: everything after it that is still kept */
	long long after = store_event_latest(J.st);
	if (from) {
		char *end;
		after = strtoll(from, &end, 10);
		if (*end || end == from || after < 0)
			return resp_errorf(rs, ERR_INVALID, since ? "since" : "Last-Event-ID", "must be an event id");
	}
	struct stream *s = calloc(1, sizeof *s);
	if (!s)
		return resp_errorf(rs, ERR_INTERNAL, NULL, "out of memory");
	s->tenant_id = strcmp(rq->who.role, "admin") == 0 ? 0 : rq->who.tenant_id;
	s->last = after;
	put(s, "retry: 2000\n\n");
	rs->status = 200;
	rs->content_type = "text/event-stream";
	rs->stream = stream_read;
	rs->stream_free = stream_free;
	rs->stream_cls = s;
}
