/* hosts.c — /api/hosts: the hosts that share the store (admins): whether each answers,
 * what it has and what is committed on it, its pools; PATCH drains one. */
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "core/cluster.h"
#include "json_spec.h"
#include "validate.h"

static json_t *host_json(const struct host_row *h)
{
	const char *state = !cluster_online(h) ? "offline" : h->draining ? "draining" : "online";
	return json_pack("{sssssssbsIs{sIsI}s{sIsIsI}s{ssss}sI}", "name", h->name, "state", state, "advertise", h->advertise, "draining",
			 h->draining, "silent_seconds", (json_int_t)h->silent_for, "capacity", "cpus", (json_int_t)h->cpus, "memory",
			 (json_int_t)h->memory, "committed", "jails", (json_int_t)h->jails, "memory", (json_int_t)h->committed_memory, "ip4",
			 (json_int_t)h->ip4_used, "pools", "ip4", h->pool4, "ip6", h->pool6, "uid_base", (json_int_t)h->uid_base);
}

static void add_host(const struct host_row *h, void *arg)
{
	json_array_append_new(arg, host_json(h));
}

void h_hosts_list(struct request *rq, struct response *rs)
{
	(void)rq;
	struct err e;
	json_t *items = json_array();
	if (store_host_list(J.st, add_host, items, &e) < 0) {
		json_decref(items);
		return resp_error(rs, &e);
	}
	resp_json(rs, 200, json_pack("{sosn}", "items", items, "next"));
}

static int host_named(struct request *rq, struct response *rs, struct host_row *h)
{
	struct err e;
	if (!valid_hostname(rq->params[0]) || store_host_get(J.st, rq->params[0], h, &e) < 0) {
		resp_errorf(rs, ERR_NOT_FOUND, NULL, "no host named %s", rq->params[0]);
		return -1;
	}
	return 0;
}

void h_host_get(struct request *rq, struct response *rs)
{
	struct host_row h;
	if (host_named(rq, rs, &h) == 0)
		resp_json(rs, 200, host_json(&h));
}

void h_host_patch(struct request *rq, struct response *rs)
{
	struct err e = { 0 };
	struct host_row h;
	if (host_named(rq, rs, &h) < 0)
		return;
	json_t *body = req_json(rq, &e);
	if (!body)
		return resp_error(rs, &e);
	bool draining = h.draining;
	const struct jfield spec[] = {
		JF_BOOL("draining", true, NULL, &draining, false),
		JF_END,
	};
	int rc = json_parse_fields(body, spec, "", NULL, &e);
	json_decref(body);
	if (rc < 0 || store_host_set_draining(J.st, h.name, draining, &e) < 0 || store_host_get(J.st, h.name, &h, &e) < 0)
		return resp_error(rs, &e);
	resp_json(rs, 200, host_json(&h));
}
