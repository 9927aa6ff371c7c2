#include "core/events.h"

#include <errno.h>
#include <stdbool.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/jails.h"
#include "log.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static int64_t keep = 86400;
/* the streams' eventfds, each told of every new event */
static int *subs;
static size_t nsubs, capsubs;

/* Every stream looks again (each reads the store from its own last id). */
static void announce(void)
{
	pthread_mutex_lock(&mu);
	uint64_t one = 1;
	for (size_t i = 0; i < nsubs; i++)
		if (write(subs[i], &one, sizeof one) < 0 && errno != EAGAIN)
			log_warn("events: waking a stream: %s", strerror(errno));
	pthread_mutex_unlock(&mu);
}

static void changed(int64_t id)
{
	(void)id; /* 0 after a reconnect: something may have been missed, so look too */
	announce();
}

int events_subscribe(void)
{
	int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (fd < 0)
		return -1;
	pthread_mutex_lock(&mu);
	bool room = nsubs < capsubs;
	if (!room) {
		size_t cap = capsubs ? capsubs * 2 : 16;
		int *grown = realloc(subs, cap * sizeof *subs);
		if (grown) {
			subs = grown;
			capsubs = cap;
			room = true;
		}
	}
	if (room)
		subs[nsubs++] = fd;
	pthread_mutex_unlock(&mu);
	if (!room) {
		close(fd);
		return -1;
	}
	return fd;
}

void events_unsubscribe(int fd)
{
	pthread_mutex_lock(&mu);
	for (size_t i = 0; i < nsubs; i++)
		if (subs[i] == fd) {
			subs[i] = subs[--nsubs];
			break;
		}
	pthread_mutex_unlock(&mu);
	close(fd);
}

void events_drain(int fd)
{
	uint64_t v;
	if (read(fd, &v, sizeof v) < 0 && errno != EAGAIN)
		log_warn("events: reading a stream's wake-up: %s", strerror(errno));
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
	if (id != 0)
		announce();
}
