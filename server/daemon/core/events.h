/* events.h — lifecycle events: stored with increasing ids (replayable for a window),
 * and announced to the SSE streams of GET /api/events as they happen. */
#ifndef JAILD_EVENTS_H
#define JAILD_EVENTS_H

#include <jansson.h>
#include <stdint.h>


void events_init(int64_t keep_seconds);
/* data: an object (stolen) with the event's details. */
void events_emit(int64_t tenant_id, const char *type, const char *target, json_t *data);
/* A descriptor (an eventfd) that becomes readable when an event is added, here or on
 * another host (an SSE stream parks on it); events_drain before looking again, so a
 * wake-up that comes after the look is kept; events_unsubscribe closes it. */
int events_subscribe(void);
void events_drain(int fd);
void events_unsubscribe(int fd);

#endif
