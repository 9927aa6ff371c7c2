/* The store on ":memory:": migrations, allocation of slots and addresses in one
 * transaction, conflicts, versions (ETag), paging; snapshots, the restore schedule,
 * console sessions and their retention, template versions and tenants' templates. */
#include <string.h>

#include "check.h"
#include "core/jail_spec.h"
#include "store/store.h"

static json_t *spec(const char *name, const char *ip)
{
	return json_pack("{sss[s]s[]}", "name", name, "ip4", ip, "ip6");
}

static int count;
static char last[64];
static int expired;

static void on_expire(const char *id, void *arg)
{
	(void)arg;
	expired += strcmp(id, "c0ffee") == 0;
}

static void each_snapshot(const struct snapshot_row *p, void *arg)
{
	(void)arg;
	count++;
	snprintf(last, sizeof last, "%s", p->name);
}

static struct restore_row due;
static void each_restore(const struct restore_row *r, void *arg)
{
	(void)arg;
	due = *r;
}
static void each(const struct jail_row *r, void *arg)
{
	(void)arg;
	count++;
	snprintf(last, sizeof last, "%s", r->name);
}

int main(void)
{
	struct err e;
	struct pool4 p4;
	struct pool6 p6;
	pool4_parse("10.77.0.0/29", &p4, &e); /* .2 to .6 usable: five */
	pool6_parse("fd77::/64", &p6, &e);
	struct store *s = store_open(":memory:", &p4, &p6, &e);
	CHECK(s != NULL);
	if (!s)
		return check_done();
	CHECK(store_schema_version(s) >= 1);
	int64_t t1, t1again, t2;
	CHECK(store_tenant_ensure(s, "default", &t1, &e) == 0);
	CHECK(store_tenant_ensure(s, "default", &t1again, &e) == 0 && t1 == t1again);
	CHECK(store_tenant_ensure(s, "acme", &t2, &e) == 0 && t2 != t1);

	uint8_t h[32] = { 1, 2, 3 };
	struct token_info ti;
	CHECK(store_token_add(s, t1, "boot", "admin", h, &e) == 0);
	CHECK(store_token_lookup(s, h, &ti, &e) == 0 && strcmp(ti.role, "admin") == 0 && ti.tenant_id == t1);
	h[0] = 9;
	CHECK(store_token_lookup(s, h, &ti, &e) < 0 && e.code == ERR_NOT_FOUND);

	struct jail_row r = { 0 };
	json_t *a = spec("a", "auto");
	CHECK(store_jail_insert(s, "a", t1, a, &r, &e) == 0);
	CHECK(strcmp(json_string_value(json_array_get(json_object_get(r.spec, "ip4"), 0)), "10.77.0.2") == 0);
	CHECK(r.slot == 0 && strcmp(r.state, "stopped") == 0 && r.version == 1);
	jail_row_clear(&r);
	json_decref(a);

	/* an explicit address that is taken: conflict naming the field, nothing stored */
	json_t *b = spec("b", "10.77.0.2");
	CHECK(store_jail_insert(s, "b", t1, b, &r, &e) < 0 && e.code == ERR_CONFLICT && strcmp(e.field, "ip4[0]") == 0);
	CHECK(store_jail_get(s, "b", &r, &e) < 0 && e.code == ERR_NOT_FOUND);
	json_decref(b);
	/* the same name twice */
	json_t *a2 = spec("a", "auto");
	CHECK(store_jail_insert(s, "a", t1, a2, &r, &e) < 0 && e.code == ERR_CONFLICT && strcmp(e.field, "name") == 0);
	json_decref(a2);

	/* auto fills the lowest free addresses and slots, then the pool runs out */
	const char *names[] = { "c", "d", "f", "g" };
	for (int i = 0; i < 4; i++) {
		json_t *x = spec(names[i], "auto");
		CHECK(store_jail_insert(s, names[i], i % 2 ? t2 : t1, x, &r, &e) == 0);
		CHECK(r.slot == (uint32_t)(i + 1));
		jail_row_clear(&r);
		json_decref(x);
	}
	json_t *h6 = spec("h", "auto");
	CHECK(store_jail_insert(s, "h", t1, h6, &r, &e) < 0 && e.code == ERR_CONFLICT);
	json_decref(h6);

	/* deleting frees the slot and the address */
	CHECK(store_jail_delete(s, "c", &e) == 0);
	json_t *i1 = spec("i", "auto");
	CHECK(store_jail_insert(s, "i", t1, i1, &r, &e) == 0 && r.slot == 1);
	CHECK(strcmp(json_string_value(json_array_get(json_object_get(r.spec, "ip4"), 0)), "10.77.0.3") == 0);
	jail_row_clear(&r);
	json_decref(i1);

	/* versions: a stale one is refused, a fresh one bumps it */
	json_t *upd = spec("a", "10.77.0.2");
	CHECK(store_jail_update_spec(s, "a", 5, upd, &e) < 0 && e.code == ERR_PRECONDITION);
	CHECK(store_jail_update_spec(s, "a", 1, upd, &e) == 0);
	CHECK(store_jail_get(s, "a", &r, &e) == 0 && r.version == 2);
	jail_row_clear(&r);
	json_decref(upd);
	CHECK(store_jail_set_state(s, "a", "running", 42, NULL, true, &e) == 0);
	CHECK(store_jail_get(s, "a", &r, &e) == 0 && r.pid == 42 && strcmp(r.state, "running") == 0 && r.started_at[0]);
	jail_row_clear(&r);
	CHECK(store_jail_set_state(s, "nope", "running", 1, NULL, false, &e) < 0 && e.code == ERR_NOT_FOUND);

	/* paging and filters */
	struct jail_filter f = { .after = "", .limit = 2 };
	count = 0;
	CHECK(store_jail_list(s, &f, each, NULL, &e) == 2 && strcmp(last, "d") == 0);
	f.after = "d";
	count = 0;
	CHECK(store_jail_list(s, &f, each, NULL, &e) == 2 && strcmp(last, "g") == 0);
	f = (struct jail_filter){ .after = "", .tenant_id = t2 };
	CHECK(store_jail_list(s, &f, each, NULL, &e) == 2);
	f = (struct jail_filter){ .after = "", .state = "running" };
	CHECK(store_jail_list(s, &f, each, NULL, &e) == 1);

	/* snapshots: per jail, unique, gone with the jail */
	CHECK(store_snapshot_add(s, "a", "clean", 4096, &e) == 0);
	CHECK(store_snapshot_add(s, "a", "clean", 1, &e) < 0 && e.code == ERR_CONFLICT);
	CHECK(store_snapshot_add(s, "nope", "x", 1, &e) < 0 && e.code == ERR_NOT_FOUND);
	CHECK(store_snapshot_add(s, "a", "later", 8192, &e) == 0);
	count = 0;
	CHECK(store_snapshot_list(s, "a", each_snapshot, NULL, &e) == 2 && strcmp(last, "later") == 0);
	struct snapshot_row sp;
	CHECK(store_snapshot_get(s, "a", "clean", &sp, &e) == 0 && sp.bytes == 4096);
	CHECK(store_snapshot_get(s, "a", "gone", &sp, &e) < 0 && e.code == ERR_NOT_FOUND);
	CHECK(store_snapshot_delete(s, "a", "later", &e) == 0);
	count = 0;
	CHECK(store_snapshot_list(s, "a", each_snapshot, NULL, &e) == 1);

	/* the restore schedule: running jails with a restore setting, their times kept */
	json_t *rs = json_pack("{sss[]s[]s{ssss}}", "name", "a", "ip4", "ip6", "restore", "every", "1h", "snapshot", "clean");
	CHECK(store_jail_get(s, "a", &r, &e) == 0);
	int urc = rs ? store_jail_update_spec(s, "a", r.version, rs, &e) : -1;
	CHECK(urc == 0);
	jail_row_clear(&r);
	json_decref(rs);
	memset(&due, 0, sizeof due);
	CHECK(store_restore_list(s, each_restore, NULL, &e) == 1 && strcmp(due.name, "a") == 0 && due.at == 0 &&
	      strcmp(due.every, "1h") == 0);
	CHECK(store_set_restore_at(s, "a", 1000, 900, &e) == 0);
	CHECK(store_restore_list(s, each_restore, NULL, &e) == 1 && due.at == 1000 && due.warn_at == 900);

	/* console sessions: ended ones past the cutoff lose their recording, once */
	struct console_row c = { .tenant_id = t1, .cols = 80, .rows = 24 };
	snprintf(c.id, sizeof c.id, "c0ffee");
	snprintf(c.jail, sizeof c.jail, "a");
	snprintf(c.actor, sizeof c.actor, "token:1 test");
	snprintf(c.source, sizeof c.source, "127.0.0.1");
	store_now(c.started_at);
	CHECK(store_console_add(s, &c, &e) == 0);
	CHECK(store_console_expire(s, "9999-01-01T00:00:00Z", 1000, on_expire, NULL, &e) == 0 && expired == 0); /* live */
	CHECK(store_console_end(s, "c0ffee", "the shell exited", 123, &e) == 0);
	CHECK(store_console_expire(s, "2000-01-01T00:00:00Z", 1000, on_expire, NULL, &e) == 0 && expired == 0); /* too new */
	CHECK(store_console_expire(s, "9999-01-01T00:00:00Z", 1000, on_expire, NULL, &e) == 1 && expired == 1);
	CHECK(store_console_expire(s, "9999-01-01T00:00:00Z", 1000, on_expire, NULL, &e) == 0 && expired == 1);
	struct console_row got;
	CHECK(store_console_get(s, "c0ffee", &got, &e) == 0 && !got.recording && got.bytes_out == 123 &&
	      strcmp(got.end_reason, "the shell exited") == 0);

	/* templates: versions and who may use them */
	CHECK(store_template_put(s, "web", "upload", "ab", &e) == 0);
	CHECK(store_template_put(s, "web", "upload", "cd", &e) == 0);
	struct template_row tr;
	CHECK(store_template_get(s, "web", &tr, &e) == 0 && tr.version == 2 && strcmp(tr.sha256, "cd") == 0);
	CHECK(store_template_allowed(s, t2, "web"));
	CHECK(store_tenant_set_templates(s, t2, "[\"minimal\"]", &e) == 0);
	CHECK(!store_template_allowed(s, t2, "web") && store_template_allowed(s, t2, "minimal"));
	CHECK(store_tenant_set_templates(s, t2, NULL, &e) == 0 && store_template_allowed(s, t2, "web"));
	store_close(s);
	return check_done();
}
