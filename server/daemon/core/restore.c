#include "core/restore.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/events.h"
#include "core/jails.h"
#include "log.h"
#include "size.h"

#define TICK_MS 250
#define INFLIGHT_MAX 256

/* Jails whose restore is under way on a thread of its own: never two at once. */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static char inflight[INFLIGHT_MAX][64];

static bool claim(const char *name)
{
	int free_slot = -1;
	pthread_mutex_lock(&mu);
	for (int i = 0; i < INFLIGHT_MAX; i++) {
		if (strcmp(inflight[i], name) == 0) {
			pthread_mutex_unlock(&mu);
			return false;
		}
		if (!inflight[i][0] && free_slot < 0)
			free_slot = i;
	}
	if (free_slot >= 0)
		snprintf(inflight[free_slot], sizeof inflight[free_slot], "%s", name);
	pthread_mutex_unlock(&mu);
	return free_slot >= 0;
}

static void unclaim(const char *name)
{
	pthread_mutex_lock(&mu);
	for (int i = 0; i < INFLIGHT_MAX; i++)
		if (strcmp(inflight[i], name) == 0)
			inflight[i][0] = '\0';
	pthread_mutex_unlock(&mu);
}

struct job {
	char name[64];
	int64_t tenant_id;
	int64_t every;
};

static void *restore_thread(void *arg)
{
	struct job *j = arg;
	struct err e = { 0 };
	int rc = jail_auto_restore(j->name, false, "the schedule", &e);
	struct audit_row a = { .status = rc == 0 ? 200 : err_http_status(e.code), .tenant_id = j->tenant_id };
	store_now(a.at);
	snprintf(a.actor, sizeof a.actor, "jaild (restore.every)");
	snprintf(a.action, sizeof a.action, "RESTORE /api/jails/*/restore");
	snprintf(a.target, sizeof a.target, "/api/jails/%s/restore", j->name);
	struct err ae;
	if (store_audit_add(J.st, &a, &ae) < 0)
		log_error("audit: %s", ae.msg);
	if (rc < 0) {
		if (e.code == ERR_BUSY) { /* another operation on the jail: the next tick tries again */
			unclaim(j->name);
			free(j);
			return NULL;
		}
		/* not again before a whole period: a missing snapshot must not spin */
		log_warn("jail %s: scheduled restore failed: %s", j->name, e.msg);
		events_emit(j->tenant_id, "jail.restore_failed", j->name, json_pack("{ssss}", "name", j->name, "error", e.msg));
		store_set_restore_at(J.st, j->name, time(NULL) + j->every, 0, &ae);
	}
	unclaim(j->name);
	free(j);
	return NULL;
}

static void due(const struct restore_row *r, void *arg)
{
	int64_t now = *(int64_t *)arg, every, warn = 0;
	struct err e;
	if (duration_parse(r->every, &every) < 0 || (r->warn[0] && duration_parse(r->warn, &warn) < 0))
		return; /* the spec was checked when it was stored */
	if (r->at == 0) { /* newly running: the first period starts now */
		store_set_restore_at(J.st, r->name, now + every, warn ? now + every - warn : 0, &e);
		return;
	}
	if (r->warn_at && now >= r->warn_at && now < r->at) {
		jail_restore_warn(r->name, r->message[0] ? r->message : "this jail will be restored to a clean state shortly");
		store_set_restore_at(J.st, r->name, r->at, 0, &e);
	}
	if (now < r->at || !claim(r->name))
		return;
	struct job *j = malloc(sizeof *j);
	pthread_t t;
	if (!j) {
		unclaim(r->name);
		return;
	}
	snprintf(j->name, sizeof j->name, "%s", r->name);
	j->tenant_id = r->tenant_id;
	j->every = every;
	if (pthread_create(&t, NULL, restore_thread, j) != 0) {
		unclaim(r->name);
		free(j);
		return;
	}
	pthread_detach(t);
}

static void *scheduler(void *arg)
{
	(void)arg;
	for (;;) {
		int64_t now = time(NULL);
		struct err e;
		if (store_restore_list(J.st, due, &now, &e) < 0)
			log_error("auto-restore schedule: %s", e.msg);
		usleep(TICK_MS * 1000);
	}
	return NULL;
}

void restore_start_scheduler(void)
{
	pthread_t t;
	if (pthread_create(&t, NULL, scheduler, NULL) == 0)
		pthread_detach(t);
	else
		log_error("cannot start the auto-restore scheduler; restore.every will not run");
}
