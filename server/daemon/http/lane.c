/* lane.c — the worker pool of lane.h. A worker is started when a job finds none idle
 * (up to LANE_MAX; past that jobs wait their turn), and one idle for LANE_IDLE seconds
 * ends, down to LANE_KEEP. Handlers that wait long (a command's exec, a snapshot) each
 * hold one worker, as they held one connection thread before; short ones reuse the
 * same few. */
#include "http/lane.h"

#include <pthread.h>
#include <stdbool.h>
#include <time.h>

#include "log.h"
#include "thread.h"

#define LANE_MAX 1024 /* the HTTP server's connection limit: one request in flight each */
#define LANE_KEEP 4
#define LANE_IDLE 30

static struct {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct lane_job *head, **tail;
	int queued, idle, threads, running;
} L = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, NULL, &L.head, 0, 0, 0, 0 };

static void *worker(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&L.mu);
	for (;;) {
		while (!L.head) {
			struct timespec until;
			clock_gettime(CLOCK_REALTIME, &until);
			until.tv_sec += LANE_IDLE;
			L.idle++;
			int rc = pthread_cond_timedwait(&L.cv, &L.mu, &until);
			L.idle--;
			if (rc != 0 && !L.head && L.threads > LANE_KEEP) {
				L.threads--;
				pthread_mutex_unlock(&L.mu);
				return NULL;
			}
		}
		struct lane_job *j = L.head;
		L.head = j->next;
		if (!L.head)
			L.tail = &L.head;
		L.queued--;
		L.running++;
		pthread_mutex_unlock(&L.mu);
		j->fn(j);
		pthread_mutex_lock(&L.mu);
		L.running--;
	}
}

int lane_submit(struct lane_job *job)
{
	job->next = NULL;
	pthread_mutex_lock(&L.mu);
	*L.tail = job;
	L.tail = &job->next;
	L.queued++;
	bool spawn = L.queued > L.idle && L.threads < LANE_MAX;
	if (spawn)
		L.threads++;
	pthread_cond_signal(&L.cv);
	pthread_mutex_unlock(&L.mu);
	if (!spawn)
		return 0;
	if (thread_detached(worker, NULL) == 0)
		return 0;
	pthread_mutex_lock(&L.mu);
	L.threads--;
	int threads = L.threads;
	bool none = threads == 0;
	if (none) { /* nobody will ever take it: take it back */
		for (struct lane_job **p = &L.head; *p; p = &(*p)->next)
			if (*p == job) {
				*p = job->next;
				if (L.tail == &job->next)
					L.tail = p;
				L.queued--;
				break;
			}
	}
	pthread_mutex_unlock(&L.mu);
	log_warn("http: cannot start a worker thread (%d running); the request waits for one", threads);
	return none ? -1 : 0;
}

int lane_busy(void)
{
	pthread_mutex_lock(&L.mu);
	int n = L.queued + L.running;
	pthread_mutex_unlock(&L.mu);
	return n;
}
