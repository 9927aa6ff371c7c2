/* events.c — GET /api/events: the lifecycle events as a server-sent-events stream. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/api.h"
#include "core/events.h"

/* ---- one SSE stream ---- */

struct stream {
	int64_t tenant_id; /* 0: an admin, every event */
	int64_t last;      /* the last id sent */
	char *buf;         /* what is ready to go out */
	size_t len, off, cap;
	int wake;          /* events_subscribe's descriptor */
	time_t sent_at;    /* when it last sent anything */
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

/* libmicrohttpd pulls the stream through this: what is stored after the last event
 * sent; with nothing new, the stream parks on its wake-up descriptor, and after 10 s
 * of quiet it sends a comment (a keepalive that also finds a client that left). */
static ssize_t stream_read(void *cls, uint64_t pos, char *out, size_t max, struct http_wait *w)
{
	struct stream *s = cls;
	(void)pos;
	if (s->off == s->len) {
		s->len = s->off = 0;
		events_drain(s->wake); /* before the look: a later event wakes it again */
		struct err e;
		if (store_event_list(J.st, s->tenant_id, s->last, 100, add_event, s, &e) < 0)
			return HTTP_STREAM_ERROR;
		time_t now = time(NULL);
		if (s->len == 0 && now - s->sent_at < 10) {
			w->fd = s->wake;
			w->ms = (int)(10 - (now - s->sent_at)) * 1000;
			return HTTP_STREAM_WAIT;
		}
		if (s->len == 0)
			put(s, ": keepalive\n\n");
		s->sent_at = now;
	}
	size_t n = s->len - s->off < max ? s->len - s->off : max;
	memcpy(out, s->buf + s->off, n);
	s->off += n;
	return (ssize_t)n;
}

static void stream_free(void *cls)
{
	struct stream *s = cls;
	events_unsubscribe(s->wake);
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
	s->wake = events_subscribe();
	if (s->wake < 0) {
		free(s);
		return resp_errorf(rs, ERR_INTERNAL, NULL, "cannot watch for events (out of descriptors?)");
	}
	s->sent_at = time(NULL);
	s->tenant_id = strcmp(rq->who.role, "admin") == 0 ? 0 : rq->who.tenant_id;
	s->last = after;
	put(s, "retry: 2000\n\n");
	rs->status = 200;
	rs->content_type = "text/event-stream";
	rs->stream = stream_read;
	rs->stream_free = stream_free;
	rs->stream_cls = s;
}
