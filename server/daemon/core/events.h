/* events.h — lifecycle events: stored with increasing ids (replayable for a window),
 * and announced to the SSE streams of GET /api/events as they happen. */
#ifndef JAILD_EVENTS_H
#define JAILD_EVENTS_H

#include <jansson.h>
#include <stdint.h>


void events_init(int64_t keep_seconds);
/* data: an object (stolen) with the event's details. */
void events_emit(int64_t tenant_id, const char *type, const char *target, json_t *data);
/* Waits up to seconds for an event newer than after (GET /api/events' streams). */
void events_wait(int64_t after, int seconds);

#endif
