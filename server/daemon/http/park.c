/* park.c — park.h: one thread watches every parked stream's descriptor (epoll or
 * kqueue, through os_poller) and deadline, and resumes its connection. */
#include "http/park.h"

#include <errno.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "thread.h"
#include "os/os.h"

struct parked {
	struct MHD_Connection *c;
	int fd;           /* watched (registered with the poller), or -1 */
	int64_t deadline; /* ms on the monotonic clock, or -1 */
	struct parked *prev, *next;
};

static struct {
	pthread_mutex_t mu;
	struct parked *head;
	int ep, wake;
	bool closed;
} P = { .mu = PTHREAD_MUTEX_INITIALIZER, .ep = -1, .wake = -1 };

static const char wake_mark; /* the poller's pointer for P.wake */

static int64_t now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Under P.mu: out of the list and the poller, and its connection back to the server. */
static void release(struct parked *p)
{
	if (p->prev)
		p->prev->next = p->next;
	else
		P.head = p->next;
	if (p->next)
		p->next->prev = p->prev;
	if (p->fd >= 0)
		os_poller_del(P.ep, p->fd);
	MHD_resume_connection(p->c);
	free(p);
}

static void *watch(void *arg)
{
	(void)arg;
	for (;;) {
		pthread_mutex_lock(&P.mu);
		int64_t now = now_ms(), next = -1;
		for (struct parked *p = P.head, *n; p; p = n) {
			n = p->next;
			if (p->deadline >= 0 && p->deadline <= now)
				release(p);
			else if (p->deadline >= 0 && (next < 0 || p->deadline < next))
				next = p->deadline;
		}
		pthread_mutex_unlock(&P.mu);
		struct os_event ev[64];
		int n = os_poller_wait(P.ep, ev, 64, next < 0 ? 10000 : (int)(next - now));
		pthread_mutex_lock(&P.mu);
		for (int i = 0; i < n; i++) {
			if (ev[i].ptr == &wake_mark) {
				uint64_t v;
				if (read(P.wake, &v, sizeof v) < 0 && errno != EAGAIN)
					log_warn("http: reading the park's wake-up: %s", strerror(errno));
				continue;
			}
			/* still parked? (a deadline in this same round may have taken it) */
			for (struct parked *p = P.head; p; p = p->next)
				if (p == ev[i].ptr) {
					release(p);
					break;
				}
		}
		pthread_mutex_unlock(&P.mu);
	}
	return NULL;
}

static void wake(void)
{
	uint64_t one = 1;
	if (write(P.wake, &one, sizeof one) < 0 && errno != EAGAIN)
		log_warn("http: waking the park: %s", strerror(errno));
}

int park_start(void)
{
	P.ep = os_poller();
	P.wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (P.ep < 0 || P.wake < 0 || os_poller_add(P.ep, P.wake, OS_IN, (void *)&wake_mark) < 0)
		return -1;
	return thread_detached(watch, NULL) == 0 ? 0 : -1;
}

int park(struct MHD_Connection *c, int fd, int ms)
{
	struct parked *p = malloc(sizeof *p);
	if (!p)
		return -1;
	*p = (struct parked){ .c = c, .fd = -1, .deadline = ms < 0 ? -1 : now_ms() + ms };
	pthread_mutex_lock(&P.mu);
	if (P.closed || (fd >= 0 && os_poller_add(P.ep, fd, OS_IN, p) < 0)) {
		pthread_mutex_unlock(&P.mu);
		free(p);
		return -1;
	}
	p->fd = fd;
	p->next = P.head;
	if (P.head)
		P.head->prev = p;
	P.head = p;
	pthread_mutex_unlock(&P.mu);
	if (ms >= 0)
		wake(); /* a nearer deadline than the one it sleeps to */
	return 0;
}

void park_stop(void)
{
	pthread_mutex_lock(&P.mu);
	P.closed = true;
	while (P.head)
		release(P.head);
	pthread_mutex_unlock(&P.mu);
}
