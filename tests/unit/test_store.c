/* The store on a temporary database, one case per group of store functions, each on a fresh
 * store; on SQLite in memory, or on the PostgreSQL that JAILD_TEST_STORE names (its
 * schema emptied for each case: tests/pg/with-postgres.sh): migrations, tenants and quotas, tokens, users and sessions, jails (allocation
 * of slots and addresses in one transaction, conflicts, versions, state, paging),
 * snapshots, the restore schedule, console sessions, templates, the audit log, events
 * and Idempotency-Keys. */
#include <libpq-fe.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK_WHY e.msg
#include "check.h"
#include "store/store.h"

static struct store *s;
static struct err e;
static int64_t t1, t2;

/* A fresh store with tenants "default" (t1) and "acme" (t2), and pool4. */
static void fresh_with(const char *pool4)
{
	struct pool4 p4;
	struct pool6 p6;
	pool4_parse(pool4, &p4, &e);
	pool6_parse("fd77::/64", &p6, &e);
	if (s)
		store_close(s);
	const char *url = getenv("JAILD_TEST_STORE");
	if (url && *url) {
		PGconn *c = PQconnectdb(url);
		PGresult *r = PQexec(c, "DROP SCHEMA public CASCADE; CREATE SCHEMA public");
		if (PQresultStatus(r) != PGRES_COMMAND_OK) {
			fprintf(stderr, "emptying %s: %s", url, PQerrorMessage(c));
			exit(1);
		}
		PQclear(r);
		PQfinish(c);
	}
	s = url && *url ? store_open(url, &p4, &p6, &e) : store_open_temporary(&p4, &p6, &e);
	if (!s) {
		fprintf(stderr, "store_open: %s\n", e.msg);
		exit(1);
	}
	store_tenant_ensure(s, "default", &t1, &e);
	store_tenant_ensure(s, "acme", &t2, &e);
}

/* ... with a five-address pool */
static void fresh(void)
{
	fresh_with("10.77.0.0/29"); /* .2 to .6 usable: five */
}

/* The spec text the store keeps: here {"extra":..., "ip4":[...], "name":...}, made once
 * the addresses are allocated, as core's render makes the canonical one. */
static char *render(void *ctx, const struct jail_addrs *got, struct err *err)
{
	(void)err;
	char *text = malloc(512);
	int n = snprintf(text, 512, "{%s\"ip4\":[", (const char *)ctx);
	for (int i = 0; i < got->n4; i++)
		n += snprintf(text + n, 512 - (size_t)n, "%s\"%s\"", i ? "," : "", got->ip4[i]);
	snprintf(text + n, 512 - (size_t)n, "]}");
	return text;
}

/* A jail's write: one address (ip, or "auto"), no limits; extra: the spec's other members. */
static struct jail_write write_of(const char *ip, const char *extra)
{
	struct jail_write w = { .memoryuse = -1, .maxproc = -1, .disk = -1, .render = render, .ctx = (void *)extra };
	w.addrs.n4 = 1;
	snprintf(w.addrs.ip4[0], sizeof w.addrs.ip4[0], "%s", ip);
	return w;
}

static int insert(const char *name, int64_t tenant, const char *ip, struct jail_row *r)
{
	struct jail_write w = write_of(ip, "");
	return store_jail_insert(s, name, tenant, &w, r, &e);
}

/* Whether the stored spec's text names addr. */
static bool has_addr(const struct jail_row *r, const char *addr)
{
	char want[64];
	snprintf(want, sizeof want, "\"%s\"", addr);
	return r->spec && strstr(r->spec, want) != NULL;
}

static int count;
static char last[256];

static void migrations_apply_once(void)
{
	fresh();
	CHECK(store_schema_version(s) >= 1);
	int64_t again;
	CHECK(store_tenant_ensure(s, "default", &again, &e) == 0 && again == t1);
	CHECK(t2 != t1);
}

static void each_tenant(const struct tenant_row *t, void *arg)
{
	(void)arg;
	count++;
	snprintf(last, sizeof last, "%s", t->name);
}

static void tenants_quotas_and_delete(void)
{
	fresh();
	struct tenant_change c = { .quotas = { .jails = 1, .memoryuse = -1, .maxproc = -1, .ip4 = -1, .disk = -1 } };
	struct tenant_row t;
	CHECK(store_tenant_create(s, "beta", &c, &t, &e) == 0 && t.quotas.jails == 1 && t.quotas.memoryuse == -1 && t.usage.jails == 0);
	CHECK(store_tenant_create(s, "beta", &c, &t, &e) < 0 && e.code == ERR_CONFLICT && strcmp(e.field, "name") == 0);
	int64_t id;
	CHECK(store_tenant_lookup(s, "beta", &id, &e) == 0 && id == t.id);
	CHECK(store_tenant_lookup(s, "gone", &id, &e) < 0 && e.code == ERR_NOT_FOUND);
	struct jail_row r = { 0 };
	CHECK(insert("b1", id, "auto", &r) == 0);
	jail_row_clear(&r);
	CHECK(insert("b2", id, "auto", &r) < 0 && e.code == ERR_QUOTA && strcmp(e.field, "quotas.jails") == 0);
	CHECK(store_jail_get(s, "b2", &r, &e) < 0); /* the refused create left nothing */
	c.quotas.jails = 5;
	CHECK(store_tenant_change(s, id, &c, &e) == 0);
	CHECK(store_tenant_get(s, "beta", &t, &e) == 0 && t.quotas.jails == 5 && t.usage.jails == 1 && t.usage.ip4 == 1);
	/* a tenant that owns a jail stays; without, it goes with its tokens */
	CHECK(store_tenant_delete(s, id, &e) < 0 && e.code == ERR_WRONG_STATE);
	CHECK(store_jail_delete(s, "b1", &e) == 0);
	uint8_t h[32] = { 7 };
	CHECK(store_token_add(s, id, "ci", "tenant", h, &e) == 0);
	CHECK(store_tenant_delete(s, id, &e) == 0);
	struct token_info ti = { 0 };
	CHECK(store_token_lookup(s, h, &ti, &e) < 0 && e.code == ERR_NOT_FOUND);
	count = 0;
	CHECK(store_tenant_list(s, "", 10, each_tenant, NULL, &e) == 2 && strcmp(last, "default") == 0);
	count = 0;
	CHECK(store_tenant_list(s, "acme", 10, each_tenant, NULL, &e) == 1);
}

static void each_mounts(int64_t id, const char *mounts, void *arg)
{
	(void)arg;
	count += id == t2 && strcmp(mounts, "[\"/srv/acme\"]") == 0;
}

static void tenants_templates_and_mounts(void)
{
	fresh();
	struct tenant_change c = { .quotas = { -1, -1, -1, -1, -1 }, .set_templates = true, .templates = "[\"minimal\"]" };
	CHECK(store_template_allowed(s, t2, "web"));
	CHECK(store_tenant_change(s, t2, &c, &e) == 0);
	CHECK(!store_template_allowed(s, t2, "web") && store_template_allowed(s, t2, "minimal"));
	c = (struct tenant_change){ .quotas = { -1, -1, -1, -1, -1 }, .set_mounts = true, .mounts = "[\"/srv/acme\"]" };
	CHECK(store_tenant_change(s, t2, &c, &e) == 0 && !store_template_allowed(s, t2, "web")); /* templates untouched */
	count = 0;
	CHECK(store_tenant_mounts_each(s, each_mounts, NULL, &e) == 0 && count == 1);
	c = (struct tenant_change){ .quotas = { -1, -1, -1, -1, -1 }, .set_templates = true, .set_mounts = true, .mounts = "[]" };
	CHECK(store_tenant_change(s, t2, &c, &e) == 0 && store_template_allowed(s, t2, "web"));
	CHECK(store_tenant_change(s, 999, &c, &e) < 0 && e.code == ERR_NOT_FOUND);
	count = 0;
	CHECK(store_tenant_mounts_each(s, each_mounts, NULL, &e) == 0 && count == 0);
}

static void each_token(const struct token_row *t, void *arg)
{
	(void)arg;
	count++;
	snprintf(last, sizeof last, "%s", t->name);
}

static void tokens_lookup_list_revoke(void)
{
	fresh();
	uint8_t h[32] = { 1, 2, 3 };
	struct token_info ti = { 0 };
	CHECK(store_token_add(s, t1, "boot", "admin", h, &e) == 0);
	CHECK(store_token_lookup(s, h, &ti, &e) == 0 && strcmp(ti.role, "admin") == 0 && ti.tenant_id == t1 &&
	      strcmp(ti.name, "boot") == 0 && strcmp(ti.tenant, "default") == 0);
	CHECK(store_token_lookup(s, h, &ti, &e) == 0); /* from the cache */
	uint8_t other[32] = { 9 };
	CHECK(store_token_lookup(s, other, &ti, &e) < 0 && e.code == ERR_NOT_FOUND);
	int64_t id, n;
	CHECK(store_token_add_full(s, t2, "old", "tenant", "2000-01-01T00:00:00Z", other, &id, &e) == 0 && id > 0);
	CHECK(store_token_lookup(s, other, &ti, &e) < 0 && e.code == ERR_NOT_FOUND); /* expired */
	count = 0;
	CHECK(store_token_list(s, t2, each_token, NULL, &e) == 1 && strcmp(last, "old") == 0);
	CHECK(store_token_count(s, &n, &e) == 0 && n == 2);
	CHECK(store_token_delete(s, t1, id, &e) < 0 && e.code == ERR_NOT_FOUND); /* another tenant's */
	CHECK(store_token_delete(s, t2, id, &e) == 0);
	CHECK(store_token_lookup(s, h, &ti, &e) == 0);
	CHECK(store_token_delete(s, t1, ti.id, &e) == 0);
	CHECK(store_token_lookup(s, h, &ti, &e) < 0); /* revoked: the cache does not answer for it */
}

static void each_user(const char *name, const char *created_at, void *arg)
{
	(void)arg;
	count += created_at[0] != 0;
	snprintf(last, sizeof last, "%s", name);
}

static void users_and_sessions(void)
{
	fresh();
	CHECK(store_user_add(s, t2, "ann", "hash1", &e) == 0);
	CHECK(store_user_add(s, t2, "ann", "hash2", &e) < 0 && e.code == ERR_CONFLICT && strcmp(e.field, "name") == 0);
	int64_t uid = 0;
	char pw[64];
	CHECK(store_user_get(s, "acme", "ann", &uid, pw, sizeof pw, &e) == 0 && uid > 0 && strcmp(pw, "hash1") == 0);
	CHECK(store_user_get(s, "default", "ann", &uid, pw, sizeof pw, &e) < 0 && e.code == ERR_NOT_FOUND);
	count = 0;
	CHECK(store_user_list(s, t2, each_user, NULL, &e) == 1 && count == 1 && strcmp(last, "ann") == 0);
	uint8_t h[32] = { 5 };
	struct token_info who = { 0 };
	CHECK(store_session_add(s, h, uid, "csrf1", "9999-01-01T00:00:00Z", &e) == 0);
	CHECK(store_session_lookup(s, h, &who, &e) == 0 && who.user_id == uid && who.tenant_id == t2 && strcmp(who.csrf, "csrf1") == 0 &&
	      strcmp(who.role, "tenant") == 0 && strcmp(who.name, "ann") == 0);
	store_session_delete(s, h);
	CHECK(store_session_lookup(s, h, &who, &e) < 0 && e.code == ERR_NOT_FOUND);
	CHECK(store_user_delete(s, t2, "ann", &e) == 0);
	CHECK(store_user_delete(s, t2, "ann", &e) < 0 && e.code == ERR_NOT_FOUND);
}

static void jails_allocate_slots_and_addresses(void)
{
	fresh();
	struct jail_row r = { 0 };
	CHECK(insert("a", t1, "auto", &r) == 0);
	CHECK(has_addr(&r, "10.77.0.2"));
	CHECK(r.slot == 0 && strcmp(r.state, "stopped") == 0 && r.version == 1 && strcmp(r.tenant, "default") == 0);
	jail_row_clear(&r);
	/* an explicit address that is taken: conflict naming the field, nothing stored */
	CHECK(insert("b", t1, "10.77.0.2", &r) < 0 && e.code == ERR_CONFLICT && strcmp(e.field, "ip4[0]") == 0);
	CHECK(store_jail_get(s, "b", &r, &e) < 0 && e.code == ERR_NOT_FOUND);
	CHECK(insert("a", t1, "auto", &r) < 0 && e.code == ERR_CONFLICT && strcmp(e.field, "name") == 0);
	/* auto fills the lowest free addresses and slots, then the pool runs out */
	const char *names[] = { "c", "d", "f", "g" };
	for (int i = 0; i < 4; i++) {
		CHECK(insert(names[i], i % 2 ? t2 : t1, "auto", &r) == 0 && r.slot == (uint32_t)(i + 1));
		jail_row_clear(&r);
	}
	CHECK(insert("h", t1, "auto", &r) < 0 && e.code == ERR_CONFLICT && strcmp(e.field, "ip4") == 0);
	int64_t n;
	CHECK(store_jail_count(s, &n, &e) == 0 && n == 5);
	CHECK(store_ip4_used(s, &n, &e) == 0 && n == 5);
	/* deleting frees the slot and the address */
	CHECK(store_jail_delete(s, "c", &e) == 0);
	CHECK(insert("i", t1, "auto", &r) == 0 && r.slot == 1);
	CHECK(has_addr(&r, "10.77.0.3"));
	jail_row_clear(&r);
}

/* Creates racing from many threads (on PostgreSQL, each on a connection of its own, as
 * hosts sharing the database would): a quota of 10 gives exactly 10, and no slot or
 * address is given twice. */
#define RACERS 40
struct racer {
	pthread_t th;
	int i;
	int64_t tenant;
	int rc;
	enum err_code code;
	uint32_t slot;
	char ip[64];
};

static void *race_create(void *arg)
{
	struct racer *r = arg;
	char name[32];
	snprintf(name, sizeof name, "r%d", r->i);
	struct jail_write w = write_of("auto", "");
	struct jail_row row = { 0 };
	struct err err = { 0 };
	r->rc = store_jail_insert(s, name, r->tenant, &w, &row, &err);
	r->code = err.code;
	r->slot = row.slot;
	const char *ip = row.spec ? strstr(row.spec, "\"ip4\":[\"") : NULL;
	snprintf(r->ip, sizeof r->ip, "%s", ip ? ip + 8 : "");
	jail_row_clear(&row);
	return NULL;
}

static void jails_parallel_creates_keep_quota_and_allocation(void)
{
	fresh_with("10.77.0.0/24");
	struct tenant_change c = { .quotas = { .jails = 10, .memoryuse = -1, .maxproc = -1, .ip4 = -1, .disk = -1, .ports = -1 } };
	struct tenant_row t;
	CHECK(store_tenant_create(s, "racing", &c, &t, &e) == 0);
	struct racer r[RACERS];
	for (int i = 0; i < RACERS; i++) {
		/* three in four for the quota-bound tenant, the rest for one without */
		r[i] = (struct racer){ .i = i, .tenant = i % 4 ? t.id : t1 };
		CHECK(pthread_create(&r[i].th, NULL, race_create, &r[i]) == 0);
	}
	int made = 0, refused = 0, made_free = 0;
	for (int i = 0; i < RACERS; i++) {
		pthread_join(r[i].th, NULL);
		if (r[i].rc == 0 && r[i].tenant == t.id)
			made++;
		else if (r[i].rc == 0)
			made_free++;
		else if (r[i].code == ERR_QUOTA)
			refused++;
		else
			fprintf(stderr, "racer %d: error %d\n", i, (int)r[i].code);
	}
	CHECK(made == 10 && refused == RACERS * 3 / 4 - 10 && made_free == RACERS / 4);
	for (int i = 0; i < RACERS; i++)
		for (int k = i + 1; k < RACERS; k++)
			if (r[i].rc == 0 && r[k].rc == 0) {
				CHECK(r[i].slot != r[k].slot);
				CHECK(strcmp(r[i].ip, r[k].ip) != 0);
			}
	int64_t n;
	CHECK(store_jail_count(s, &n, &e) == 0 && n == 10 + RACERS / 4);
	CHECK(store_ip4_used(s, &n, &e) == 0 && n == 10 + RACERS / 4);
}

static struct host_row seen_host;
static void each_host(const struct host_row *h, void *arg)
{
	(void)arg;
	count++;
	if (strcmp(h->name, "b") == 0)
		seen_host = *h;
}

/* Hosts: a claim, what the list says, draining; on PostgreSQL, a second store as a
 * second host: the name another holds and overlapping pools refused, slots and host
 * ports per host, addresses from each host's own pool. */
static void hosts_claim_and_allocate_per_host(void)
{
	fresh();
	struct host_claim a = { "a", "http://a:8080", "10.77.0.0/29", "fd77::/64", 1000000, 4, 1 << 30 };
	CHECK(store_host_claim(s, &a, &e) == 0 && store_host_id(s) > 0);
	struct jail_row r = { 0 };
	CHECK(insert("on-a", t1, "auto", &r) == 0 && r.slot == 0 && strcmp(r.host, "a") == 0);
	jail_row_clear(&r);
	CHECK(store_host_heartbeat(s, "a", &e) == 0);
	struct host_row h;
	CHECK(store_host_get(s, "a", &h, &e) == 0 && h.jails == 1 && h.silent_for <= 1 && !h.draining && h.cpus == 4);
	CHECK(store_host_set_draining(s, "a", true, &e) == 0 && store_host_get(s, "a", &h, &e) == 0 && h.draining);
	CHECK(store_host_set_draining(s, "zz", true, &e) < 0 && e.code == ERR_NOT_FOUND);
	const char *url = getenv("JAILD_TEST_STORE");
	if (!url || !*url)
		return; /* one host per SQLite store: its data directory's lock is the claim */
	struct pool4 p4;
	struct pool6 p6;
	pool4_parse("10.78.0.0/29", &p4, &e);
	pool6_parse("fd78::/64", &p6, &e);
	struct store *b = store_open(url, &p4, &p6, &e);
	CHECK(b != NULL);
	if (!b)
		return;
	struct host_claim same = a;
	CHECK(store_host_claim(b, &same, &e) < 0 && e.code == ERR_CONFLICT && strstr(e.msg, "held by another jaild"));
	store_close(b);
	b = store_open(url, &p4, &p6, &e);
	struct host_claim overlapping = { "b", "http://b:8080", "10.77.0.0/24", "fd78::/64", 1000000, 2, 1 << 30 };
	CHECK(store_host_claim(b, &overlapping, &e) < 0 && e.code == ERR_CONFLICT && strstr(e.msg, "overlaps"));
	store_close(b);
	b = store_open(url, &p4, &p6, &e);
	struct host_claim bc = { "b", "http://b:8080", "10.78.0.0/29", "fd78::/64", 1000000, 2, 1 << 30 };
	CHECK(store_host_claim(b, &bc, &e) == 0 && store_host_id(b) != store_host_id(s));
	struct jail_write w = write_of("auto", "");
	w.nports = 1;
	snprintf(w.ports[0].proto, sizeof w.ports[0].proto, "tcp");
	w.ports[0].host_port = 8080;
	CHECK(store_jail_insert(b, "on-b", t1, &w, &r, &e) == 0 && r.slot == 0 && strcmp(r.host, "b") == 0 && has_addr(&r, "10.78.0.2"));
	jail_row_clear(&r);
	w = write_of("auto", "");
	w.nports = 1;
	snprintf(w.ports[0].proto, sizeof w.ports[0].proto, "tcp");
	w.ports[0].host_port = 8080;
	CHECK(store_jail_insert(s, "on-a2", t1, &w, &r, &e) == 0 && r.slot == 1); /* host a's own port 8080 */
	jail_row_clear(&r);
	w = write_of("auto", "");
	w.nports = 1;
	snprintf(w.ports[0].proto, sizeof w.ports[0].proto, "tcp");
	w.ports[0].host_port = 8080;
	CHECK(store_jail_insert(s, "on-a3", t1, &w, &r, &e) < 0 && e.code == ERR_CONFLICT && strstr(e.msg, "on-a2"));
	count = 0;
	CHECK(store_host_list(s, each_host, NULL, &e) == 0 && count == 2 && seen_host.jails == 1 && seen_host.ip4_used == 1);
	int64_t n;
	CHECK(store_jail_count(b, &n, &e) == 0 && n == 1);
	store_close(b);
}

static int64_t usage_cpu, usage_rows;
static void each_usage(const struct usage_row *r, void *arg)
{
	(void)arg;
	usage_rows++;
	usage_cpu += r->u.cpu_us;
}

/* Usage buckets: samples add into every length's bucket, a second sample into the same
 * ones; pruning goes by length and age. */
static void usage_buckets_add_up(void)
{
	fresh();
	const int64_t res[] = { 15, 300, 3600 };
	struct usage_add u = { .seconds = 15, .cpu_us = 1000, .mem_byte_s = 7 };
	CHECK(store_usage_add(s, t1, "a", 7200 + 20, res, 3, &u, &e) == 0);
	CHECK(store_usage_add(s, t1, "a", 7200 + 35, res, 3, &u, &e) == 0);
	usage_rows = usage_cpu = 0;
	CHECK(store_usage_list(s, t1, "a", 3600, 0, 100000, each_usage, NULL, &e) == 0 && usage_rows == 1 && usage_cpu == 2000);
	usage_rows = usage_cpu = 0;
	CHECK(store_usage_list(s, t1, NULL, 15, 0, 100000, each_usage, NULL, &e) == 0 && usage_rows == 2 && usage_cpu == 2000);
	CHECK(store_usage_prune(s, 15, 100000, &e) == 0);
	usage_rows = 0;
	CHECK(store_usage_list(s, t1, NULL, 15, 0, 100000, each_usage, NULL, &e) == 0 && usage_rows == 0);
	CHECK(store_usage_list(s, t1, NULL, 300, 0, 100000, each_usage, NULL, &e) == 0 && usage_rows == 1);
}

/* With the uid range's size known (as jaild tells it), a new jail takes the slot after
 * the highest: one index step however many jails there are, and a destroyed jail's
 * range is not handed out again while there is room above; past the last slot, the
 * lowest free one. */
static void jails_take_the_slot_after_the_highest(void)
{
	fresh();
	store_set_max_slots(s, 3);
	struct jail_row r = { 0 };
	struct jail_write w = write_of("", "");
	w.addrs.n4 = 0; /* no address: slots alone */
	const char *names[] = { "a", "b", "c" };
	for (int i = 0; i < 3; i++) {
		CHECK(store_jail_insert(s, names[i], t1, &w, &r, &e) == 0 && r.slot == (uint32_t)i);
		jail_row_clear(&r);
	}
	CHECK(store_jail_delete(s, "c", &e) == 0 && store_jail_delete(s, "a", &e) == 0);
	CHECK(store_jail_insert(s, "d", t1, &w, &r, &e) == 0 && r.slot == 2); /* after b, the highest */
	jail_row_clear(&r);
	CHECK(store_jail_insert(s, "e", t1, &w, &r, &e) == 0 && r.slot == 0); /* the range is used up: the lowest free */
	jail_row_clear(&r);
	store_set_max_slots(s, 0);
}

static void jails_versions_and_state(void)
{
	fresh();
	struct jail_row r = { 0 };
	CHECK(insert("a", t1, "auto", &r) == 0);
	jail_row_clear(&r);
	struct jail_write upd = write_of("10.77.0.3", "");
	CHECK(store_jail_update_spec(s, "a", 5, &upd, &e) < 0 && e.code == ERR_PRECONDITION);
	CHECK(store_jail_update_spec(s, "a", 1, &upd, &e) == 0);
	CHECK(store_jail_get(s, "a", &r, &e) == 0 && r.version == 2);
	CHECK(has_addr(&r, "10.77.0.3"));
	jail_row_clear(&r);
	CHECK(store_jail_set_state(s, "a", "running", 42, NULL, true, &e) == 0);
	CHECK(store_jail_get(s, "a", &r, &e) == 0 && r.pid == 42 && strcmp(r.state, "running") == 0 && r.started_at[0] && r.version == 3);
	jail_row_clear(&r);
	CHECK(store_jail_set_state(s, "a", "error", 0, "it died", false, &e) == 0);
	CHECK(store_jail_get(s, "a", &r, &e) == 0 && r.pid == 0 && strcmp(r.error, "it died") == 0);
	jail_row_clear(&r);
	CHECK(store_jail_set_state(s, "nope", "running", 1, NULL, false, &e) < 0 && e.code == ERR_NOT_FOUND);
}

/* A jail's kept rendering (core/jails.c) is valid while this number stands: it must
 * move on with every change to a jail's row, and only then (events, audit entries and
 * usage samples, written all the time, must not void every rendering). */
static void generation_moves_with_jail_rows_only(void)
{
	fresh();
	uint64_t g = store_generation(s);
	if (getenv("JAILD_TEST_STORE") && *getenv("JAILD_TEST_STORE")) {
		CHECK(g == 0); /* shared: nothing may be kept */
		return;
	}
	struct jail_row r = { 0 };
	CHECK(g != 0 && insert("a", t1, "auto", &r) == 0);
	jail_row_clear(&r);
	uint64_t created = store_generation(s);
	CHECK(created != g);
	CHECK(store_event_add(s, t1, "jail.started", "a", "{}", 3600) > 0);
	struct audit_row au = { .tenant_id = t1, .status = 200 };
	store_now(au.at);
	snprintf(au.action, sizeof au.action, "POST /api/jails");
	CHECK(store_audit_add(s, &au, &e) == 0);
	CHECK(store_generation(s) == created);
	CHECK(store_jail_set_state(s, "a", "running", 42, NULL, true, &e) == 0);
	uint64_t started = store_generation(s);
	CHECK(started != created);
	CHECK(store_jail_set_state(s, "nope", "running", 1, NULL, false, &e) < 0); /* changed nothing */
	CHECK(store_generation(s) == started);
	CHECK(store_jail_delete(s, "a", &e) == 0 && store_generation(s) != started);
}

static void each_jail(const struct jail_row *r, void *arg)
{
	(void)arg;
	count++;
	snprintf(last, sizeof last, "%s", r->name);
	if (!r->spec || strstr(r->spec, "\"ip4\"") == NULL)
		count += 1000; /* the text must be the stored spec */
}

static void jails_list_pages_and_filters(void)
{
	fresh();
	struct jail_row r = { 0 };
	const char *names[] = { "a", "c", "d", "f" };
	for (int i = 0; i < 4; i++) {
		CHECK(insert(names[i], i % 2 ? t2 : t1, "auto", &r) == 0);
		jail_row_clear(&r);
	}
	store_jail_set_state(s, "a", "running", 1, NULL, true, &e);
	struct jail_filter f = { .after = "", .limit = 2 };
	count = 0;
	CHECK(store_jail_list(s, &f, each_jail, NULL, &e) == 2 && strcmp(last, "c") == 0);
	f.after = "c";
	CHECK(store_jail_list(s, &f, each_jail, NULL, &e) == 2 && strcmp(last, "f") == 0);
	f = (struct jail_filter){ .after = "", .tenant_id = t2 };
	count = 0;
	CHECK(store_jail_list(s, &f, each_jail, NULL, &e) == 2 && count == 2);
	f = (struct jail_filter){ .after = "", .state = "running" };
	CHECK(store_jail_list(s, &f, each_jail, NULL, &e) == 1);
	f = (struct jail_filter){ .after = "", .by_boot_order = true };
	CHECK(store_jail_list(s, &f, each_jail, NULL, &e) == 0); /* none has boot set */
}

static void each_snapshot(const struct snapshot_row *p, void *arg)
{
	(void)arg;
	count++;
	snprintf(last, sizeof last, "%s", p->name);
}

static void snapshots_per_jail(void)
{
	fresh();
	struct jail_row r = { 0 };
	CHECK(insert("a", t1, "auto", &r) == 0);
	jail_row_clear(&r);
	CHECK(store_snapshot_add(s, "a", "clean", 4096, &e) == 0);
	CHECK(store_snapshot_add(s, "a", "clean", 1, &e) < 0 && e.code == ERR_CONFLICT && strcmp(e.field, "name") == 0);
	CHECK(store_snapshot_add(s, "nope", "x", 1, &e) < 0 && e.code == ERR_NOT_FOUND);
	CHECK(store_snapshot_add(s, "a", "later", 8192, &e) == 0);
	count = 0;
	CHECK(store_snapshot_list(s, "a", each_snapshot, NULL, &e) == 2 && strcmp(last, "later") == 0);
	struct snapshot_row sp;
	CHECK(store_snapshot_get(s, "a", "clean", &sp, &e) == 0 && sp.bytes == 4096 && sp.created_at[0]);
	CHECK(store_snapshot_get(s, "a", "gone", &sp, &e) < 0 && e.code == ERR_NOT_FOUND);
	CHECK(store_snapshot_delete(s, "a", "later", &e) == 0);
	CHECK(store_snapshot_list(s, "a", each_snapshot, NULL, &e) == 1);
	CHECK(store_jail_delete(s, "a", &e) == 0);
	CHECK(store_snapshot_list(s, "a", each_snapshot, NULL, &e) == 0);
}

static struct restore_row due;
static void each_restore(const struct restore_row *r, void *arg)
{
	(void)arg;
	due = *r;
}

static void restore_schedule(void)
{
	fresh();
	struct jail_row r = { 0 };
	CHECK(insert("a", t1, "auto", &r) == 0);
	jail_row_clear(&r);
	struct jail_write rs = write_of("auto", "\"restore\":{\"every\":\"1h\",\"snapshot\":\"clean\"},");
	CHECK(store_jail_update_spec(s, "a", 1, &rs, &e) == 0);
	memset(&due, 0, sizeof due);
	CHECK(store_restore_list(s, each_restore, NULL, &e) == 0); /* not running */
	store_jail_set_state(s, "a", "running", 1, NULL, true, &e);
	CHECK(store_restore_list(s, each_restore, NULL, &e) == 1 && strcmp(due.name, "a") == 0 && due.at == 0 &&
	      strcmp(due.every, "1h") == 0 && due.tenant_id == t1);
	CHECK(store_set_restore_at(s, "a", 1000, 900, &e) == 0);
	CHECK(store_restore_list(s, each_restore, NULL, &e) == 1 && due.at == 1000 && due.warn_at == 900);
}

static int expired;
static void on_expire(const char *id, void *arg)
{
	(void)arg;
	expired += strcmp(id, "c0ffee") == 0;
}

static void each_console(const struct console_row *c, void *arg)
{
	(void)arg;
	count++;
	snprintf(last, sizeof last, "%s", c->id);
}

static void console_sessions_and_retention(void)
{
	fresh();
	struct console_row c = { .tenant_id = t1, .cols = 80, .rows = 24 };
	snprintf(c.id, sizeof c.id, "c0ffee");
	snprintf(c.jail, sizeof c.jail, "a");
	snprintf(c.actor, sizeof c.actor, "token:1 test");
	snprintf(c.source, sizeof c.source, "127.0.0.1");
	store_now(c.started_at);
	expired = 0;
	CHECK(store_console_add(s, &c, &e) == 0);
	CHECK(store_console_expire(s, "9999-01-01T00:00:00Z", 1000, on_expire, NULL, &e) == 0 && expired == 0); /* live */
	CHECK(store_console_end(s, "c0ffee", "the shell exited", 123, &e) == 0);
	CHECK(store_console_expire(s, "2000-01-01T00:00:00Z", 1000, on_expire, NULL, &e) == 0 && expired == 0); /* too new */
	CHECK(store_console_expire(s, "9999-01-01T00:00:00Z", 1000, on_expire, NULL, &e) == 1 && expired == 1);
	CHECK(store_console_expire(s, "9999-01-01T00:00:00Z", 1000, on_expire, NULL, &e) == 0 && expired == 1);
	struct console_row got;
	CHECK(store_console_get(s, "c0ffee", &got, &e) == 0 && !got.recording && got.bytes_out == 123 && got.cols == 80 &&
	      strcmp(got.end_reason, "the shell exited") == 0 && strcmp(got.tenant, "default") == 0);
	CHECK(store_console_get(s, "nope", &got, &e) < 0 && e.code == ERR_NOT_FOUND);
	snprintf(c.id, sizeof c.id, "beef");
	CHECK(store_console_add(s, &c, &e) == 0);
	count = 0;
	CHECK(store_console_list(s, t1, NULL, 0, 10, each_console, NULL, &e) == 2 && strcmp(last, "c0ffee") == 0); /* newest first */
	CHECK(store_console_list(s, t2, NULL, 0, 10, each_console, NULL, &e) == 0);
	CHECK(store_console_list(s, 0, "a", 0, 1, each_console, NULL, &e) == 1);
	CHECK(store_console_end_stale(s, &e) == 0);
	CHECK(store_console_get(s, "beef", &got, &e) == 0 && strcmp(got.end_reason, "jaild restarted") == 0);
}

static void each_template(const struct template_row *t, void *arg)
{
	(void)arg;
	count++;
	snprintf(last, sizeof last, "%s", t->name);
}

static void templates_versions(void)
{
	fresh();
	CHECK(store_template_add(s, "minimal", "busybox", &e) == 0);
	CHECK(store_template_add(s, "minimal", "again", &e) == 0); /* already there: nothing changes */
	CHECK(store_template_put(s, "web", "upload", "ab", &e) == 0);
	CHECK(store_template_put(s, "web", "upload", "cd", &e) == 0);
	struct template_row tr;
	CHECK(store_template_get(s, "web", &tr, &e) == 0 && tr.version == 2 && strcmp(tr.sha256, "cd") == 0 && tr.jails == 0);
	CHECK(store_template_get(s, "minimal", &tr, &e) == 0 && strcmp(tr.source, "busybox") == 0 && tr.sha256[0] == 0);
	CHECK(store_template_exists(s, "web") && !store_template_exists(s, "nope"));
	count = 0;
	CHECK(store_template_list(s, each_template, NULL, &e) == 2 && strcmp(last, "web") == 0);
	CHECK(store_template_delete(s, "web", &e) == 0 && !store_template_exists(s, "web"));
	CHECK(store_template_get(s, "web", &tr, &e) < 0 && e.code == ERR_NOT_FOUND);
}

static void each_audit(const struct audit_row *a, void *arg)
{
	(void)arg;
	count++;
	snprintf(last, sizeof last, "%s", a->target);
}

static void audit_log_filters(void)
{
	fresh();
	struct audit_row a = { .tenant_id = t2, .status = 201 };
	store_now(a.at);
	snprintf(a.actor, sizeof a.actor, "token:2 ci");
	snprintf(a.action, sizeof a.action, "POST /api/jails");
	snprintf(a.target, sizeof a.target, "/api/jails");
	snprintf(a.source, sizeof a.source, "127.0.0.1");
	CHECK(store_audit_add(s, &a, &e) == 0);
	a.status = 204;
	a.tenant_id = 0;
	snprintf(a.action, sizeof a.action, "DELETE /api/jails/*");
	snprintf(a.target, sizeof a.target, "/api/jails/web1");
	CHECK(store_audit_add(s, &a, &e) == 0);
	struct audit_filter f = { .limit = 10 };
	count = 0;
	CHECK(store_audit_list(s, &f, each_audit, NULL, &e) == 2 && strcmp(last, "/api/jails") == 0); /* newest first */
	f.tenant_id = t2;
	CHECK(store_audit_list(s, &f, each_audit, NULL, &e) == 1);
	f = (struct audit_filter){ .limit = 10, .action = "DELETE" };
	CHECK(store_audit_list(s, &f, each_audit, NULL, &e) == 1 && strcmp(last, "/api/jails/web1") == 0);
	f = (struct audit_filter){ .limit = 10, .status = 201, .target = "/api/jails" };
	CHECK(store_audit_list(s, &f, each_audit, NULL, &e) == 1);
}

static void each_event(const struct event_row *ev, void *arg)
{
	(void)arg;
	count++;
	snprintf(last, sizeof last, "%s", ev->data);
}

static void events_in_order_per_tenant(void)
{
	fresh();
	CHECK(store_event_latest(s) == 0);
	int64_t a = store_event_add(s, t1, "jail.started", "web1", "{\"n\":1}", 3600);
	int64_t b = store_event_add(s, t2, "jail.stopped", "db1", "{\"n\":2}", 3600);
	CHECK(a > 0 && b > a && store_event_latest(s) == b);
	count = 0;
	CHECK(store_event_list(s, 0, 0, 10, each_event, NULL, &e) == 2 && strcmp(last, "{\"n\":2}") == 0);
	CHECK(store_event_list(s, t1, 0, 10, each_event, NULL, &e) == 1);
	CHECK(store_event_list(s, 0, a, 10, each_event, NULL, &e) == 1);
}

static void idempotency_keys(void)
{
	fresh();
	uint8_t h[32] = { 3 }, other[32] = { 4 };
	struct idem_row found = { 0 };
	CHECK(store_idem_begin(s, 1, "k1", h, &found, &e) == 0);
	CHECK(store_idem_begin(s, 1, "k1", other, &found, &e) < 0 && e.code == ERR_CONFLICT && found.status == 0 &&
	      memcmp(found.request_hash, h, 32) == 0);
	free(found.response);
	CHECK(store_idem_finish(s, 1, "k1", 201, "{\"ok\":true}", "/api/jails/x", "\"1\"", &e) == 0);
	memset(&found, 0, sizeof found);
	CHECK(store_idem_begin(s, 1, "k1", h, &found, &e) < 0 && found.status == 201 && found.response &&
	      strcmp(found.response, "{\"ok\":true}") == 0 && strcmp(found.location, "/api/jails/x") == 0);
	free(found.response);
	CHECK(store_idem_begin(s, 2, "k1", h, &found, &e) == 0); /* another token's key */
	store_idem_abort(s, 2, "k1");
	CHECK(store_idem_begin(s, 2, "k1", h, &found, &e) == 0); /* aborted: free again */
}

int main(void)
{
	printf("store engine: %s\n", getenv("JAILD_TEST_STORE") && *getenv("JAILD_TEST_STORE") ? "postgresql" : "sqlite");
	RUN(migrations_apply_once);
	RUN(tenants_quotas_and_delete);
	RUN(tenants_templates_and_mounts);
	RUN(tokens_lookup_list_revoke);
	RUN(users_and_sessions);
	RUN(jails_allocate_slots_and_addresses);
	RUN(jails_parallel_creates_keep_quota_and_allocation);
	RUN(hosts_claim_and_allocate_per_host);
	RUN(jails_take_the_slot_after_the_highest);
	RUN(jails_versions_and_state);
	RUN(generation_moves_with_jail_rows_only);
	RUN(jails_list_pages_and_filters);
	RUN(snapshots_per_jail);
	RUN(restore_schedule);
	RUN(console_sessions_and_retention);
	RUN(templates_versions);
	RUN(audit_log_filters);
	RUN(events_in_order_per_tenant);
	RUN(idempotency_keys);
	RUN(usage_buckets_add_up);
	store_close(s);
	return check_done();
}
