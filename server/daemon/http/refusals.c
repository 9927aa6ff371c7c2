/* refusals.c — refusals.h: a table of windows, by source, token, status and action
 * (method and route). A window is the refusals of one key within a second of its first, which is written at once;
 * the rest are counted and written as one entry (the last of them, with "repeats": the
 * others) when the window is over: at the key's next refusal, when its slot is taken by
 * another key, or at the next flush (at most once a second, and at shutdown). */
#include "http/refusals.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "log.h"

#define WINDOWS 256

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct window {
	bool used;
	double start;            /* monotonic seconds */
	int64_t folded;          /* refusals counted since the first */
	struct audit_row last;   /* the latest of them */
} windows[WINDOWS];
static _Atomic int64_t last_flush;

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static bool same_key(const struct audit_row *x, const struct audit_row *y)
{
	return x->token_id == y->token_id && x->status == y->status && strcmp(x->source, y->source) == 0 &&
	       strcmp(x->action, y->action) == 0;
}

static unsigned slot_of(const struct audit_row *a)
{
	uint64_t h = 1469598103934665603ull ^ (uint64_t)a->token_id ^ ((uint64_t)a->status << 48);
	for (const char *p = a->source; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ull;
	for (const char *p = a->action; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ull;
	return (unsigned)(h % WINDOWS);
}

static void write_row(struct store *st, const struct audit_row *a)
{
	struct err e;
	if (store_audit_add(st, a, &e) < 0)
		log_error("audit: %s (request %s)", e.msg, a->request_id);
}

/* The window's entry, if it folded any, taken out of it (under mu). */
static bool take(struct window *w, struct audit_row *out)
{
	if (!w->used || w->folded == 0)
		return false;
	*out = w->last;
	out->repeats = w->folded - 1;
	w->folded = 0;
	return true;
}

bool refusal_fold(struct store *st, const struct audit_row *a)
{
	struct window *w = &windows[slot_of(a)];
	double now = now_s();
	struct audit_row over;
	pthread_mutex_lock(&mu);
	if (w->used && same_key(&w->last, a) && now - w->start < 1.0) {
		w->folded++;
		w->last = *a;
		pthread_mutex_unlock(&mu);
		return true;
	}
	bool write_over = take(w, &over);
	*w = (struct window){ .used = true, .start = now, .last = *a };
	pthread_mutex_unlock(&mu);
	if (write_over)
		write_row(st, &over);
	return false;
}

void refusals_flush(struct store *st, bool all)
{
	int64_t now = (int64_t)now_s();
	int64_t last = atomic_load(&last_flush);
	if (!all && (now <= last || !atomic_compare_exchange_strong(&last_flush, &last, now)))
		return;
	double t = now_s();
	for (unsigned i = 0; i < WINDOWS; i++) {
		struct audit_row over;
		pthread_mutex_lock(&mu);
		bool due = (all || t - windows[i].start >= 1.0) && take(&windows[i], &over);
		pthread_mutex_unlock(&mu);
		if (due)
			write_row(st, &over);
	}
}
