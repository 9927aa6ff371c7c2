#include "core/exec_gate.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <time.h>

/* Waiters queue in arrival order; the one at the head goes when a place is free. */
struct waiter {
	struct waiter *next;
};

static struct {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int per_tenant, running;
	struct waiter *head, **tail;
	/* commands running or waiting, per tenant: at most EXEC_GATE_MAX tenants run at
	 * once, and a waiting tenant takes an entry too */
	struct {
		int64_t tenant;
		int n;
	} count[2 * EXEC_GATE_MAX + 64];
} G = { .mu = PTHREAD_MUTEX_INITIALIZER, .per_tenant = 8 };


void exec_gate_init(int per_tenant)
{
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&G.cv, &ca);
	pthread_condattr_destroy(&ca);
	G.per_tenant = per_tenant;
	G.tail = &G.head;
}

/* The tenant's counter; a free one if it has none (NULL if the table is full). */
static int *counter(int64_t tenant, bool make)
{
	int *free_one = NULL;
	for (size_t i = 0; i < sizeof G.count / sizeof *G.count; i++) {
		if (G.count[i].n > 0 && G.count[i].tenant == tenant)
			return &G.count[i].n;
		if (G.count[i].n == 0 && !free_one) {
			free_one = &G.count[i].n;
			if (make)
				G.count[i].tenant = tenant;
		}
	}
	return make ? free_one : NULL;
}

static void unlink_waiter(struct waiter *w)
{
	for (struct waiter **p = &G.head; *p; p = &(*p)->next)
		if (*p == w) {
			*p = w->next;
			if (G.tail == &w->next)
				G.tail = p;
			return;
		}
}

int exec_gate_enter(int64_t tenant, struct err *e)
{
	pthread_mutex_lock(&G.mu);
	int *n = counter(tenant, true);
	if (!n || *n >= G.per_tenant) {
		pthread_mutex_unlock(&G.mu);
		return err_set(e, ERR_BUSY,
			       "this tenant already runs %d commands in its jails (the most one tenant may); wait for one to finish",
			       G.per_tenant);
	}
	(*n)++;
	struct waiter w = { NULL };
	*G.tail = &w;
	G.tail = &w.next;
	struct timespec until;
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += EXEC_GATE_WAIT;
	int r = 0;
	while (!(G.head == &w && G.running < EXEC_GATE_MAX) && r != ETIMEDOUT)
		r = pthread_cond_timedwait(&G.cv, &G.mu, &until);
	unlink_waiter(&w);
	if (G.running < EXEC_GATE_MAX && r != ETIMEDOUT) {
		G.running++;
		pthread_cond_broadcast(&G.cv); /* the next in line may go too */
		pthread_mutex_unlock(&G.mu);
		return 0;
	}
	if ((n = counter(tenant, false)))
		(*n)--;
	pthread_cond_broadcast(&G.cv);
	pthread_mutex_unlock(&G.mu);
	return err_set(e, ERR_UNAVAILABLE, "every place for commands (%d) has been taken for %d s; retry shortly", EXEC_GATE_MAX,
		       EXEC_GATE_WAIT);
}

void exec_gate_leave(int64_t tenant)
{
	pthread_mutex_lock(&G.mu);
	int *n = counter(tenant, false);
	if (n)
		(*n)--;
	G.running--;
	pthread_cond_broadcast(&G.cv);
	pthread_mutex_unlock(&G.mu);
}
