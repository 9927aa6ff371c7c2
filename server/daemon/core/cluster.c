/* cluster.c — this host among the hosts that share the store. */
#include "core/cluster.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/jails.h"
#include "log.h"
#include "os/os.h"
#include "validate.h"

static char host[64];
static int timeout = 10;

const char *cluster_host(void)
{
	return host;
}

int cluster_timeout(void)
{
	return timeout;
}

bool cluster_online(const struct host_row *h)
{
	return h->silent_for <= timeout;
}

/* The hosts as the last beat saw them: whether each is online, for listings that show
 * another host's jail (a store read per row would be a query per jail). */
#define HOSTS_SEEN 256
static pthread_mutex_t seen_mu = PTHREAD_MUTEX_INITIALIZER;
static struct host_seen {
	int64_t id;
	bool online;
} seen[HOSTS_SEEN];
static size_t nseen;

static void note_host(const struct host_row *h, void *arg)
{
	size_t *n = arg;
	if (*n < HOSTS_SEEN)
		seen[(*n)++] = (struct host_seen){ h->id, cluster_online(h) };
}

static struct timespec seen_at;

static void look_at_hosts(void)
{
	struct err e;
	size_t n = 0;
	pthread_mutex_lock(&seen_mu);
	if (store_host_list(J.st, note_host, &n, &e) == 0)
		nseen = n;
	clock_gettime(CLOCK_MONOTONIC, &seen_at);
	pthread_mutex_unlock(&seen_mu);
}

bool cluster_reachable(int64_t host_id)
{
	if (host_id == 0 || host_id == store_host_id(J.st))
		return true;
	bool online = false;
	/* at most a quarter second old: what a listing shows agrees with GET /api/hosts */
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	pthread_mutex_lock(&seen_mu);
	bool stale = (now.tv_sec - seen_at.tv_sec) * 1000 + (now.tv_nsec - seen_at.tv_nsec) / 1000000 > 250;
	pthread_mutex_unlock(&seen_mu);
	if (stale)
		look_at_hosts();
	pthread_mutex_lock(&seen_mu);
	for (size_t i = 0; i < nseen; i++)
		if (seen[i].id == host_id)
			online = seen[i].online;
	pthread_mutex_unlock(&seen_mu);
	return online;
}

bool cluster_reachable_now(int64_t host_id)
{
	if (host_id == 0 || host_id == store_host_id(J.st))
		return true;
	look_at_hosts();
	return cluster_reachable(host_id);
}

static void *heartbeat(void *arg)
{
	(void)arg;
	/* three beats a timeout: one lost beat never makes a host offline */
	int every = timeout / 3 > 0 ? timeout / 3 : 1;
	bool failing = false;
	for (;;) {
		sleep((unsigned)every);
		struct err e;
		if (store_host_heartbeat(J.st, host, &e) < 0) {
			if (!failing)
				log_warn("host %s could not say it is alive: %s (trying again every %d s)", host, e.msg, every);
			failing = true;
		} else if (failing) {
			log_info("host %s is saying it is alive again", host);
			failing = false;
		}
		look_at_hosts();
	}
	return NULL;
}

int cluster_join(const struct cluster_settings *c, struct err *e)
{
	snprintf(host, sizeof host, "%s", c->host);
	timeout = c->timeout;
	struct host_claim claim = { c->host, c->advertise, c->pool4, c->pool6, c->uid_base, os_cpus(), os_memory_bytes() };
	if (store_host_claim(J.st, &claim, e) < 0)
		return -1;
	log_info("this is host %s (advertised at %s)", c->host, c->advertise);
	look_at_hosts();
	pthread_t th;
	if (pthread_create(&th, NULL, heartbeat, NULL) != 0)
		return err_set(e, ERR_INTERNAL, "could not start the heartbeat thread");
	pthread_detach(th);
	return 0;
}

struct placing {
	const char *want;
	int auto4;
	struct host_row best;
	bool found;
	char why[256];
};

static int64_t pool4_room(const struct host_row *h)
{
	struct pool4 p;
	struct err e;
	if (pool4_parse(h->pool4, &p, &e) < 0)
		return 0;
	return (int64_t)(1ull << (32 - p.prefix)) - 3 - h->ip4_used; /* network, gateway, broadcast */
}

static void consider(const struct host_row *h, void *arg)
{
	struct placing *p = arg;
	if (p->found || (p->want && strcmp(p->want, h->name) != 0))
		return;
	if (!cluster_online(h))
		snprintf(p->why, sizeof p->why, "host %s is offline (silent for %lld s)", h->name, (long long)h->silent_for);
	else if (h->draining)
		snprintf(p->why, sizeof p->why, "host %s is draining", h->name);
	else if (pool4_room(h) < p->auto4)
		snprintf(p->why, sizeof p->why, "host %s has no address left in its pool", h->name);
	else {
		p->best = *h;
		p->found = true;
	}
}

int cluster_place(const char *want, int auto4, struct host_row *out, struct err *e)
{
	struct placing p = { .want = want, .auto4 = auto4 };
	if (store_host_list(J.st, consider, &p, e) < 0)
		return -1;
	if (p.found) {
		*out = p.best;
		return 0;
	}
	if (want && !p.why[0])
		return err_field(e, ERR_INVALID, "host", "no host named %s", want);
	return err_set(e, ERR_UNAVAILABLE, "no host can take the jail now%s%s; retry, or undrain or add a host", p.why[0] ? ": " : "",
		       want ? p.why : "");
}

struct others {
	struct host_row *out;
	int n, max;
};

static void add_other(const struct host_row *h, void *arg)
{
	struct others *o = arg;
	if (o->n < o->max && h->id != store_host_id(J.st) && cluster_online(h))
		o->out[o->n++] = *h;
}

int cluster_others(struct host_row *out, int max)
{
	struct others o = { out, 0, max };
	struct err e;
	if (store_host_list(J.st, add_other, &o, &e) < 0)
		return 0;
	return o.n;
}
