#include "core/events.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/jails.h"
#include "log.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int64_t latest;   /* the newest event id */
static int64_t keep = 86400;

static void changed(int64_t id)
{
	if (id == 0)
		id = store_event_latest(J.st);
	pthread_mutex_lock(&mu);
	if (id > latest)
		latest = id;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
}

static void *watch(void *arg)
{
	(void)arg;
	store_events_watch(J.st, changed);
	return NULL;
}

void events_init(int64_t keep_seconds)
{
	keep = keep_seconds;
	latest = store_event_latest(J.st);
	/* other hosts' events wake this host's streams as this host's do */
	pthread_t th;
	if (strcmp(store_engine(J.st), "sqlite") != 0 && pthread_create(&th, NULL, watch, NULL) == 0)
		pthread_detach(th);
}

void events_emit(int64_t tenant_id, const char *type, const char *target, json_t *data)
{
	char *text = json_dumps(data, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(data);
	int64_t id = text ? store_event_add(J.st, tenant_id, type, target, text, keep) : 0;
	free(text);
	if (id == 0)
		return;
	pthread_mutex_lock(&mu);
	if (id > latest)
		latest = id;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
}

void events_wait(int64_t after, int seconds)
{
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += seconds;
	pthread_mutex_lock(&mu);
	while (latest <= after && pthread_cond_timedwait(&cv, &mu, &until) == 0)
		;
	pthread_mutex_unlock(&mu);
}
