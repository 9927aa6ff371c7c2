#include "core/reconcile.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/jails.h"
#include "log.h"
#include "core/priv_client.h"

static pthread_mutex_t reconcile_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t first_done_cv = PTHREAD_COND_INITIALIZER;
static int booted, first_done;

struct names {
	char (*v)[NAME_SIZE];
	size_t n, cap;
};

static void add_name(const struct jail_row *row, void *arg)
{
	struct names *l = arg;
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 64;
		l->v = realloc(l->v, l->cap * NAME_SIZE);
	}
	snprintf(l->v[l->n++], NAME_SIZE, "%s", row->name);
}

static void all_names(struct names *l, bool boot_order)
{
	/* this host's: the others' jails are theirs to reconcile */
	struct jail_filter f = { .after = "", .limit = 0, .by_boot_order = boot_order, .host_id = store_host_id(J.st) };
	struct err e;
	if (store_jail_list(J.st, &f, add_name, l, &e) < 0)
		log_error("reconcile: %s", e.msg);
}

static bool known(const struct names *l, const char *name)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i], name) == 0)
			return true;
	return false;
}

static void adopt_or_mark(const char *name)
{
	struct err e;
	struct reply live;
	struct req_name req = { .h = priv_hdr(MSG_STATUS) };
	struct jail_row row = { 0 };
	snprintf(req.name, sizeof req.name, "%s", name);
	if (!jail_busy_acquire(name))
		return;
	if (store_jail_get(J.st, name, &row, &e) == 0 && priv_call(&req, NULL, 0, &live, &e) == 0) {
		bool db_running = strcmp(row.state, "stopped") != 0 && strcmp(row.state, "error") != 0;
		if (live.running && (strcmp(row.state, "running") != 0 || row.pid != live.pid)) {
			log_info("reconcile: jail %s is running (pid %lld): adopted", name, (long long)live.pid);
			store_jail_set_state(J.st, name, "running", live.pid, NULL, false, &e);
		} else if (!live.running && db_running) {
			log_info("reconcile: jail %s was %s but is not running: marked stopped", name, row.state);
			store_jail_set_state(J.st, name, "stopped", 0, NULL, false, &e);
		}
	}
	jail_row_clear(&row);
	jail_busy_release(name);
}

void reconcile_on_connect(void)
{
	struct err e = { 0 };
	struct reply out;
	pthread_mutex_lock(&reconcile_mu);
	struct req_empty t = { .h = priv_hdr(MSG_TEMPLATE_MINIMAL) };
	if (priv_call(&t, NULL, 0, &out, &e) == 0)
		store_template_add(J.st, "minimal", "busybox (made on first start)", &e);
	else
		log_error("the minimal template could not be made: %s", e.msg);

	struct names db = { 0 };
	all_names(&db, false);
	for (size_t i = 0; i < db.n; i++)
		adopt_or_mark(db.v[i]);

	/* running jails with no record: nobody can manage them, so they are stopped */
	char after[NAME_SIZE] = "";
	for (;;) {
		static struct list_reply lr;
		if (priv_call_list(after, &lr, &e) < 0)
			break;
		for (uint32_t i = 0; i < lr.count; i++) {
			if (known(&db, lr.names[i]))
				continue;
			log_warn("reconcile: jail %s runs but has no record; stopping it (its files stay)", lr.names[i]);
			struct req_stop req = { .h = priv_hdr(MSG_STOP), .timeout = 10 };
			snprintf(req.name, sizeof req.name, "%s", lr.names[i]);
			if (priv_call(&req, NULL, 0, &out, &e) < 0)
				log_error("reconcile: stopping %s: %s", lr.names[i], e.msg);
		}
		if (!lr.more || lr.count == 0)
			break;
		snprintf(after, sizeof after, "%s", lr.names[lr.count - 1]);
	}
	struct req_empty sw = { .h = priv_hdr(MSG_SWEEP) };
	if (priv_call(&sw, NULL, 0, &out, &e) < 0)
		log_error("reconcile: sweep: %s", e.msg);
	free(db.v);

	if (!booted) {
		booted = 1;
		struct names boot = { 0 };
		all_names(&boot, true);
		for (size_t i = 0; i < boot.n; i++) {
			struct jail_row row = { 0 };
			if (store_jail_get(J.st, boot.v[i], &row, &e) == 0 && strcmp(row.state, "running") != 0) {
				log_info("boot: starting jail %s", boot.v[i]);
				if (jail_start(boot.v[i], &e) < 0)
					log_error("boot: jail %s: %s", boot.v[i], e.msg);
			}
			jail_row_clear(&row);
		}
		free(boot.v);
	}
	log_info("reconcile: done");
	first_done = 1;
	pthread_cond_broadcast(&first_done_cv);
	pthread_mutex_unlock(&reconcile_mu);
}

static pthread_mutex_t poke_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t poke_cv = PTHREAD_COND_INITIALIZER;
static bool poked;

void reconcile_poke(void)
{
	pthread_mutex_lock(&poke_mu);
	poked = true;
	pthread_cond_signal(&poke_cv);
	pthread_mutex_unlock(&poke_mu);
}

/* Every 3 s, or at once when a read saw a jail whose first process is gone: the
 * store's running jails are checked against what runs. */
static void *monitor(void *arg)
{
	(void)arg;
	for (;;) {
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += 3;
		pthread_mutex_lock(&poke_mu);
		while (!poked && pthread_cond_timedwait(&poke_cv, &poke_mu, &until) == 0)
			;
		poked = false;
		pthread_mutex_unlock(&poke_mu);
		if (!priv_available())
			continue;
		struct names l = { 0 };
		struct jail_filter f = { .state = "running", .after = "", .limit = 0, .host_id = store_host_id(J.st) };
		struct err e;
		store_jail_list(J.st, &f, add_name, &l, &e);
		for (size_t i = 0; i < l.n; i++)
			jail_note_exit(l.v[i]);
		free(l.v);
	}
	return NULL;
}

bool reconcile_wait_first(int timeout_s)
{
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += timeout_s;
	pthread_mutex_lock(&reconcile_mu);
	while (!first_done && pthread_cond_timedwait(&first_done_cv, &reconcile_mu, &until) == 0)
		;
	bool done = first_done;
	pthread_mutex_unlock(&reconcile_mu);
	return done;
}

void reconcile_start_monitor(void)
{
	pthread_t t;
	if (pthread_create(&t, NULL, monitor, NULL) == 0)
		pthread_detach(t);
}
