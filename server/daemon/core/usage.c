#include "core/usage.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/jail_spec.h"
#include "core/jails.h"
#include "log.h"
#include "textbuf.h"

#define MAX_POINTS 10000

static struct usage_settings S = { 15, 86400, 30 * 86400, 365 * 86400 };

/* The bucket lengths, shortest first, and how long each is kept. */
static int64_t res_len(int i)
{
	return i == 0 ? S.interval : i == 1 ? 300 : 3600;
}

static int64_t res_keep(int i)
{
	return i == 0 ? S.keep_raw : i == 1 ? S.keep_5m : S.keep_1h;
}

/* ---- sampling ---- */

struct last {
	char name[64];
	int64_t t, cpu_ns, rx, tx;
	bool seen;
};
static struct last *lastv;
static size_t nlast;

struct running {
	char (*names)[64];
	int64_t *tenants;
	size_t n;
};

static void add_running(const struct jail_row *row, void *arg)
{
	struct running *r = arg;
	char (*nn)[64] = realloc(r->names, (r->n + 1) * sizeof *nn);
	int64_t *nt = nn ? realloc(r->tenants, (r->n + 1) * sizeof *nt) : NULL;
	if (nn)
		r->names = nn;
	if (!nt)
		return;
	r->tenants = nt;
	snprintf(r->names[r->n], sizeof r->names[0], "%s", row->name);
	r->tenants[r->n++] = row->tenant_id;
}

static struct last *last_of(const char *name)
{
	for (size_t i = 0; i < nlast; i++)
		if (strcmp(lastv[i].name, name) == 0)
			return &lastv[i];
	struct last *n = realloc(lastv, (nlast + 1) * sizeof *n);
	if (!n)
		return NULL;
	lastv = n;
	memset(&lastv[nlast], 0, sizeof *lastv);
	snprintf(lastv[nlast].name, sizeof lastv[0].name, "%s", name);
	return &lastv[nlast++];
}

/* A counter's growth since the last sample; a jail that restarted began again at 0. */
static int64_t grew(int64_t now, int64_t before)
{
	return now >= before ? now - before : now;
}

static void sample(const char *name, int64_t tenant_id, int64_t now)
{
	struct reply r;
	struct jail_row row = { 0 };
	struct err e;
	struct last *l = last_of(name);
	/* asked now, not the monitor's last answer (up to seconds old): each sample's share
	 * of the counters is then what the interval saw */
	if (!l || jail_usage_now(name, &r) < 0 || !r.running)
		return;
	l->seen = true;
	bool continues = l->t > 0 && now > l->t && now - l->t <= 3 * S.interval;
	int64_t dt = now - l->t, cpu = grew(r.cpu_ns, l->cpu_ns), rx = grew(r.net_rx, l->rx), tx = grew(r.net_tx, l->tx);
	*l = (struct last){ .t = now, .cpu_ns = r.cpu_ns, .rx = r.net_rx, .tx = r.net_tx, .seen = true };
	snprintf(l->name, sizeof l->name, "%s", name);
	if (!continues)
		return; /* a first sight, or after a gap: from here on */
	struct jail_limits lim = { -1, -1, -1, -1, -1 };
	if (store_jail_get(J.st, name, &row, &e) == 0) {
		json_t *spec = jail_spec_of(&row);
		jail_limits_of(spec, &J.rules, &lim);
		json_decref(spec);
	}
	jail_row_clear(&row);
	struct usage_add u = { .seconds = dt, .cpu_us = cpu / 1000, .mem_byte_s = r.memory * dt,
			       .mem_limit_byte_s = lim.memoryuse > 0 ? lim.memoryuse * dt : 0,
			       .disk_limit_byte_s = lim.disk > 0 ? lim.disk * dt : 0, .net_rx = rx, .net_tx = tx };
	const int64_t res[] = { res_len(0), res_len(1), res_len(2) };
	if (store_usage_add(J.st, tenant_id, name, now, res, 3, &u, &e) < 0)
		log_warn("usage of jail %s: %s", name, e.msg);
}

static void sample_all(void)
{
	struct running run = { 0 };
	struct jail_filter f = { .state = "running", .after = "", .host_id = store_host_id(J.st) };
	struct err e;
	int64_t now = time(NULL);
	if (store_jail_list(J.st, &f, add_running, &run, &e) < 0)
		log_warn("usage: %s", e.msg);
	for (size_t i = 0; i < nlast; i++)
		lastv[i].seen = false;
	for (size_t i = 0; i < run.n; i++)
		sample(run.names[i], run.tenants[i], now);
	/* jails no longer running are forgotten: their next start begins afresh */
	size_t k = 0;
	for (size_t i = 0; i < nlast; i++)
		if (lastv[i].seen)
			lastv[k++] = lastv[i];
	nlast = k;
	free(run.names);
	free(run.tenants);
}

static void *sampler(void *arg)
{
	(void)arg;
	time_t pruned = 0;
	for (;;) {
		/* on the interval's boundaries, so that samples fall into buckets evenly */
		int64_t now = time(NULL);
		sleep((unsigned)(S.interval - now % S.interval));
		sample_all();
		if (time(NULL) - pruned >= 3600) {
			struct err e;
			for (int i = 0; i < 3; i++)
				if (store_usage_prune(J.st, res_len(i), time(NULL) - res_keep(i), &e) < 0)
					log_warn("usage: %s", e.msg);
			pruned = time(NULL);
		}
	}
	return NULL;
}

void usage_start(const struct usage_settings *s)
{
	S = *s;
	pthread_t t;
	if (pthread_create(&t, NULL, sampler, NULL) == 0)
		pthread_detach(t);
}

/* ---- reading ---- */

/* The longest bucket that divides step (and from) and is still kept for from. */
static int pick_res(int64_t from, int64_t step, struct err *e)
{
	int64_t now = time(NULL);
	for (int i = 2; i >= 0; i--)
		if (step % res_len(i) == 0 && from % res_len(i) == 0 && from >= now - res_keep(i))
			return i;
	for (int i = 0; i < 3; i++)
		if (from >= now - res_keep(i))
			return err_field(e, ERR_INVALID, "step",
					 "step (and from) must be a multiple of %llds for that range (the finest history kept for it)",
					 (long long)res_len(i));
	return err_field(e, ERR_INVALID, "from", "no usage is kept from that far back (at most %lld days)",
			 (long long)(S.keep_1h / 86400));
}

static int check_range(int64_t from, int64_t to, int64_t step, struct err *e)
{
	if (from >= to)
		return err_field(e, ERR_INVALID, "from", "from must come before to");
	if (step <= 0 || (to - from) / step > MAX_POINTS)
		return err_field(e, ERR_INVALID, "step", "step must give at most %d points from from to to", MAX_POINTS);
	return 0;
}

struct sums {
	struct usage_add u;
};

static void add_to(struct usage_add *a, const struct usage_add *b)
{
	a->seconds += b->seconds, a->cpu_us += b->cpu_us, a->mem_byte_s += b->mem_byte_s;
	a->mem_limit_byte_s += b->mem_limit_byte_s, a->disk_limit_byte_s += b->disk_limit_byte_s;
	a->net_rx += b->net_rx, a->net_tx += b->net_tx;
}

struct series {
	int64_t from, step;
	size_t n;
	struct usage_add *pt;
};

static void add_point(const struct usage_row *r, void *arg)
{
	struct series *s = arg;
	size_t i = (size_t)((r->t - s->from) / s->step);
	if (i < s->n)
		add_to(&s->pt[i], &r->u);
}

json_t *usage_series(int64_t tenant_id, const char *jail, int64_t from, int64_t to, int64_t step, struct err *e)
{
	if (check_range(from, to, step, e) < 0)
		return NULL;
	int res = pick_res(from, step, e);
	if (res < 0)
		return NULL;
	struct series s = { from, step, (size_t)((to - from + step - 1) / step), NULL };
	if (!(s.pt = calloc(s.n, sizeof *s.pt)))
		return err_set(e, ERR_INTERNAL, "out of memory"), NULL;
	if (store_usage_list(J.st, tenant_id, jail, res_len(res), from, to, add_point, &s, e) < 0) {
		free(s.pt);
		return NULL;
	}
	json_t *points = json_array();
	for (size_t i = 0; i < s.n; i++) {
		const struct usage_add *u = &s.pt[i];
		json_int_t t = (json_int_t)(from + (int64_t)i * step);
		if (u->seconds == 0) {
			/* nothing seen: stopped, or jaild was not watching; never made up */
			json_array_append_new(points, json_pack("{sIsb}", "t", t, "gap", 1));
			continue;
		}
		json_array_append_new(
			points, json_pack("{sIsIsfsfsIsIsIsI}", "t", t, "seconds", (json_int_t)u->seconds, "cpu_seconds",
					  u->cpu_us / 1e6, "cpu_percent", u->cpu_us / 1e4 / (double)u->seconds, "memory_bytes",
					  (json_int_t)(u->mem_byte_s / u->seconds), "memory_limit_bytes",
					  (json_int_t)(u->mem_limit_byte_s / u->seconds), "net_rx_bytes", (json_int_t)u->net_rx,
					  "net_tx_bytes", (json_int_t)u->net_tx));
	}
	free(s.pt);
	return json_pack("{sIsIsIsIso}", "from", (json_int_t)from, "to", (json_int_t)to, "step", (json_int_t)step, "resolution",
			 (json_int_t)res_len(res), "points", points);
}

/* ---- bills ---- */

static json_t *bill_json(const struct usage_add *u)
{
	const double gib_h = 1073741824.0 * 3600.0;
	return json_pack("{sfsfsfsfsfsIsI}", "jail_hours", u->seconds / 3600.0, "cpu_seconds", u->cpu_us / 1e6,
			 "memory_gib_hours", u->mem_byte_s / gib_h, "memory_limit_gib_hours", u->mem_limit_byte_s / gib_h,
			 "disk_gib_hours", u->disk_limit_byte_s / gib_h, "net_rx_bytes", (json_int_t)u->net_rx, "net_tx_bytes",
			 (json_int_t)u->net_tx);
}

struct bill {
	int64_t from, step;
	size_t nsteps;
	char (*jails)[64];
	size_t njails;
	struct usage_add *per_jail;  /* [njails] */
	struct usage_add *per_step;  /* [nsteps * njails] */
	bool oom;
};

static size_t jail_index(struct bill *b, const char *jail)
{
	for (size_t i = 0; i < b->njails; i++)
		if (strcmp(b->jails[i], jail) == 0)
			return i;
	size_t n = b->njails + 1;
	char (*nj)[64] = realloc(b->jails, n * sizeof *nj);
	struct usage_add *pj = nj ? realloc(b->per_jail, n * sizeof *pj) : NULL;
	if (nj)
		b->jails = nj;
	if (pj)
		b->per_jail = pj;
	struct usage_add *ps = pj ? realloc(b->per_step, n * b->nsteps * sizeof *ps) : NULL;
	if (!ps) {
		b->oom = true;
		return (size_t)-1;
	}
	b->per_step = ps;
	/* per_step is [step][jail]: spread the old rows to the new width */
	for (size_t st = b->nsteps; st-- > 0;) {
		memmove(&ps[st * n], &ps[st * b->njails], b->njails * sizeof *ps);
		memset(&ps[st * n + b->njails], 0, sizeof *ps);
	}
	memset(&b->per_jail[b->njails], 0, sizeof *b->per_jail);
	snprintf(b->jails[b->njails], sizeof b->jails[0], "%s", jail);
	return b->njails++;
}

static void add_bill_row(const struct usage_row *r, void *arg)
{
	struct bill *b = arg;
	size_t j = jail_index(b, r->jail);
	if (j == (size_t)-1)
		return;
	add_to(&b->per_jail[j], &r->u);
	size_t st = (size_t)((r->t - b->from) / b->step);
	if (st < b->nsteps)
		add_to(&b->per_step[st * b->njails + j], &r->u);
}

json_t *usage_bill(int64_t tenant_id, int64_t from, int64_t to, int64_t step, struct err *e)
{
	if (check_range(from, to, step, e) < 0)
		return NULL;
	int res = pick_res(from, step, e);
	if (res < 0)
		return NULL;
	struct bill b = { .from = from, .step = step, .nsteps = (size_t)((to - from + step - 1) / step) };
	int rc = store_usage_list(J.st, tenant_id, NULL, res_len(res), from, to, add_bill_row, &b, e);
	if (rc == 0 && b.oom)
		rc = err_set(e, ERR_INTERNAL, "out of memory");
	json_t *out = NULL;
	if (rc == 0) {
		struct usage_add total = { 0 };
		json_t *jails = json_array(), *series = json_array();
		for (size_t j = 0; j < b.njails; j++) {
			json_t *x = bill_json(&b.per_jail[j]);
			json_object_set_new(x, "jail", json_string(b.jails[j]));
			json_array_append_new(jails, x);
			add_to(&total, &b.per_jail[j]);
		}
		for (size_t st = 0; st < b.nsteps; st++) {
			struct usage_add t = { 0 };
			json_t *per = json_object();
			for (size_t j = 0; j < b.njails; j++) {
				add_to(&t, &b.per_step[st * b.njails + j]);
				if (b.per_step[st * b.njails + j].seconds)
					json_object_set_new(per, b.jails[j], bill_json(&b.per_step[st * b.njails + j]));
			}
			json_t *x = bill_json(&t);
			json_object_set_new(x, "t", json_integer(from + (int64_t)st * step));
			json_object_set_new(x, "jails", per);
			json_array_append_new(series, x);
		}
		out = json_pack("{sIsIsIsIsososo}", "from", (json_int_t)from, "to", (json_int_t)to, "step", (json_int_t)step,
				"resolution", (json_int_t)res_len(res), "jails", jails, "total", bill_json(&total), "series", series);
	}
	free(b.jails);
	free(b.per_jail);
	free(b.per_step);
	return out;
}

static void csv_row(struct textbuf *tb, const char *when, const char *jail, json_t *x)
{
	tb_printf(tb, "%s,%s,%.6f,%.6f,%.6f,%.6f,%.6f,%lld,%lld\r\n", when, jail,
		  json_real_value(json_object_get(x, "jail_hours")), json_real_value(json_object_get(x, "cpu_seconds")),
		  json_real_value(json_object_get(x, "memory_gib_hours")), json_real_value(json_object_get(x, "memory_limit_gib_hours")),
		  json_real_value(json_object_get(x, "disk_gib_hours")), (long long)json_integer_value(json_object_get(x, "net_rx_bytes")),
		  (long long)json_integer_value(json_object_get(x, "net_tx_bytes")));
}

char *usage_bill_csv(json_t *bill)
{
	struct textbuf tb = { 0 };
	char when[32];
	tb_printf(&tb, "period_start,jail,jail_hours,cpu_seconds,memory_gib_hours,memory_limit_gib_hours,disk_gib_hours,"
		       "net_rx_bytes,net_tx_bytes\r\n");
	size_t i;
	json_t *st;
	json_array_foreach(json_object_get(bill, "series"), i, st) {
		time_t t = (time_t)json_integer_value(json_object_get(st, "t"));
		struct tm tm;
		gmtime_r(&t, &tm);
		strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
		const char *name;
		json_t *x;
		json_object_foreach(json_object_get(st, "jails"), name, x) csv_row(&tb, when, name, x);
	}
	if (tb.failed) {
		free(tb.s);
		return NULL;
	}
	return tb.s ? tb.s : strdup("");
}
