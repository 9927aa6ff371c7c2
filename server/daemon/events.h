/* events.h — lifecycle events: stored with increasing ids (replayable for a window),
 * and announced to the SSE streams of GET /api/events as they happen. */
#ifndef JAILD_EVENTS_H
#define JAILD_EVENTS_H

#include <jansson.h>
#include <stdint.h>

#include "http.h"

void events_init(int64_t keep_seconds);
/* data: an object (stolen) with the event's details. */
void events_emit(int64_t tenant_id, const char *type, const char *target, json_t *data);
/* GET /api/events[?since=ID] (or Last-Event-ID): a server-sent-events stream. */
void h_events(struct request *rq, struct response *rs);

#endif
