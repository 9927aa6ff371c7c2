/* metrics.c — GET /metrics: the Prometheus text format, for an admin token or the
 * addresses in metrics-allow. Cheap by design: it reads the store and what the monitor
 * last saw of each running jail (every few seconds), and asks the helper nothing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "core/console.h"
#include "core/jail_spec.h"
#include "core/jails.h"
#include "core/priv_client.h"
#include "http/metrics.h"
#include "textbuf.h"

struct jail_sample {
	char name[NAME_SIZE], tenant[64], state[16];
	struct jail_limits limits;
	bool seen;
	struct reply usage;
};

struct samples {
	struct jail_sample *v;
	size_t n, cap;
};

/* Room for one more element of size in *v (n used of *cap); false when out of memory. */
static bool room(void **v, size_t n, size_t *cap, size_t size)
{
	if (n < *cap)
		return true;
	size_t c = *cap ? *cap * 2 : 64;
	void *nv = realloc(*v, c * size);
	if (!nv)
		return false;
	*v = nv;
	*cap = c;
	return true;
}

static void add_jail(const struct jail_row *row, void *arg)
{
	struct samples *l = arg;
	if (!room((void **)&l->v, l->n, &l->cap, sizeof *l->v))
		return;
	struct jail_sample *s = &l->v[l->n++];
	memset(s, 0, sizeof *s);
	snprintf(s->name, sizeof s->name, "%s", row->name);
	snprintf(s->tenant, sizeof s->tenant, "%s", row->tenant);
	snprintf(s->state, sizeof s->state, "%s", row->state);
	json_t *spec = jail_spec_of(row);
	jail_limits_of(spec, &J.rules, &s->limits);
	json_decref(spec);
	s->seen = strcmp(row->state, "running") == 0 && jail_usage_last(row->name, &s->usage) && s->usage.running;
}

static void family(struct textbuf *b, const char *name, const char *type, const char *help)
{
	tb_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void jail_metrics(struct textbuf *b, const struct samples *l)
{
	static const char *const states[] = { "stopped", "starting", "running", "stopping", "error" };
	family(b, "jaild_jails", "gauge", "Jails on this host, by state.");
	for (size_t k = 0; k < 5; k++) {
		size_t n = 0;
		for (size_t i = 0; i < l->n; i++)
			n += strcmp(l->v[i].state, states[k]) == 0;
		tb_printf(b, "jaild_jails{state=\"%s\"} %zu\n", states[k], n);
	}
	family(b, "jaild_jail_up", "gauge", "1 while the jail runs.");
	for (size_t i = 0; i < l->n; i++)
		tb_printf(b, "jaild_jail_up{jail=\"%s\",tenant=\"%s\"} %d\n", l->v[i].name, l->v[i].tenant, strcmp(l->v[i].state, "running") == 0);
	struct {
		const char *name, *type, *help;
		int which;
	} live[] = {
		{ "jaild_jail_memory_bytes", "gauge", "Memory the jail uses.", 0 },
		{ "jaild_jail_processes", "gauge", "Processes in the jail.", 1 },
		{ "jaild_jail_cpu_seconds_total", "counter", "CPU time the jail has used since it started.", 2 },
		{ "jaild_jail_network_receive_bytes_total", "counter", "Bytes the jail received since it started.", 3 },
		{ "jaild_jail_network_transmit_bytes_total", "counter", "Bytes the jail sent since it started.", 4 },
	};
	for (size_t k = 0; k < sizeof live / sizeof *live; k++) {
		family(b, live[k].name, live[k].type, live[k].help);
		for (size_t i = 0; i < l->n; i++) {
			const struct jail_sample *s = &l->v[i];
			if (!s->seen)
				continue;
			if (live[k].which == 2)
				tb_printf(b, "%s{jail=\"%s\",tenant=\"%s\"} %.3f\n", live[k].name, s->name, s->tenant, (double)s->usage.cpu_ns / 1e9);
			else
			{
				const int64_t v[] = { s->usage.memory, s->usage.procs, 0, s->usage.net_rx, s->usage.net_tx };
				tb_printf(b, "%s{jail=\"%s\",tenant=\"%s\"} %lld\n", live[k].name, s->name, s->tenant, (long long)v[live[k].which]);
			}
		}
	}
	struct {
		const char *name, *help;
		size_t off;
	} limits[] = {
		{ "jaild_jail_memory_limit_bytes", "The jail's memory limit.", offsetof(struct jail_limits, memoryuse) },
		{ "jaild_jail_processes_limit", "The jail's process limit.", offsetof(struct jail_limits, maxproc) },
		{ "jaild_jail_disk_limit_bytes", "The jail's disk size.", offsetof(struct jail_limits, disk) },
		{ "jaild_jail_cpu_limit_ratio", "The jail's CPU limit, in CPUs.", offsetof(struct jail_limits, pcpu) },
	};
	for (size_t k = 0; k < sizeof limits / sizeof *limits; k++) {
		family(b, limits[k].name, "gauge", limits[k].help);
		for (size_t i = 0; i < l->n; i++) {
			int64_t v;
			memcpy(&v, (const char *)&l->v[i].limits + limits[k].off, sizeof v);
			if (v < 0)
				continue; /* no limit: no sample */
			if (limits[k].off == offsetof(struct jail_limits, pcpu))
				tb_printf(b, "%s{jail=\"%s\",tenant=\"%s\"} %.2f\n", limits[k].name, l->v[i].name, l->v[i].tenant, (double)v / 100);
			else
				tb_printf(b, "%s{jail=\"%s\",tenant=\"%s\"} %lld\n", limits[k].name, l->v[i].name, l->v[i].tenant, (long long)v);
		}
	}
}

struct tenants {
	struct tenant_row *v;
	size_t n, cap;
};

static void add_tenant(const struct tenant_row *t, void *arg)
{
	struct tenants *l = arg;
	if (room((void **)&l->v, l->n, &l->cap, sizeof *l->v))
		l->v[l->n++] = *t;
}

/* Quotas, and what the tenants' jails hold of them, by resource (a quota not set has
 * no sample). */
static void tenant_metrics(struct textbuf *b, const struct tenants *l)
{
	static const char *const names[QUOTA_COUNT] = { "jails", "memoryuse_bytes", "maxproc", "ip4", "disk_bytes", "ports" };
	for (int use = 0; use < 2; use++) {
		const char *fam = use ? "jaild_tenant_usage" : "jaild_tenant_quota";
		family(b, fam, "gauge", use ? "What a tenant's jails hold, by resource." : "A tenant's quota, by resource.");
		for (size_t i = 0; i < l->n; i++) {
			const struct quotas *q = use ? &l->v[i].usage : &l->v[i].quotas;
			for (size_t k = 0; k < QUOTA_COUNT; k++) {
				int64_t v = *quota_field((struct quotas *)q, k);
				if (v >= 0)
					tb_printf(b, "%s{tenant=\"%s\",resource=\"%s\"} %lld\n", fam, l->v[i].name, names[k], (long long)v);
			}
		}
	}
}

void h_metrics(struct request *rq, struct response *rs)
{
	(void)rq;
	struct err e;
	struct samples l = { 0 };
	struct jail_filter f = { .after = "", .host_id = store_host_id(J.st) }; /* a host's metrics are its own jails' */
	if (store_jail_list(J.st, &f, add_jail, &l, &e) < 0) {
		free(l.v);
		return resp_error(rs, &e);
	}
	struct textbuf b = { 0 };
	family(&b, "jaild_helper_up", "gauge", "1 while the privileged helper is connected.");
	tb_printf(&b, "jaild_helper_up %d\n", priv_available());
	family(&b, "jaild_console_sessions", "gauge", "Console sessions open (live, or waiting for a re-attach).");
	tb_printf(&b, "jaild_console_sessions %d\n", console_sessions_live());
	jail_metrics(&b, &l);
	free(l.v);
	struct tenants t = { 0 };
	if (store_tenant_list(J.st, "", 1000000, add_tenant, &t, &e) < 0) {
		free(b.s), free(t.v);
		return resp_error(rs, &e);
	}
	tenant_metrics(&b, &t);
	free(t.v);
	http_metrics_text(&b);
	if (b.failed) {
		free(b.s);
		return resp_errorf(rs, ERR_INTERNAL, NULL, "out of memory writing the metrics");
	}
	rs->status = 200;
	rs->content_type = "text/plain; version=0.0.4; charset=utf-8";
	rs->text = b.s ? b.s : strdup("");
	rs->text_len = b.len;
}
