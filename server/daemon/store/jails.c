/* jails.c — jails: their rows, and the one transaction that creates (or re-addresses)
 * a jail, allocating its uid slot and addresses and checking its tenant's quotas, so
 * that two creates can never be given the same ones nor both pass a quota. */
#include <arpa/inet.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "size.h"
#include "store/db.h"

#define JAIL_COLS \
	"SELECT j.id, j.name, j.tenant_id, t.name, j.slot, j.state, COALESCE(j.pid, 0), COALESCE(j.error, ''), j.version, j.boot, " \
	"j.priority, COALESCE(j.created_at, ''), COALESCE(j.started_at, ''), j.spec, COALESCE(j.exit_code, 0), "             \
	"COALESCE(j.exit_signal, 0), COALESCE(j.exited_at, ''), COALESCE(j.host_id, 0), COALESCE(h.name, '') "                \
	"FROM jails j JOIN tenants t ON t.id = j.tenant_id LEFT JOIN hosts h ON h.id = j.host_id "

#define JAIL_RESULT(r, spec)                                                                                                 \
	COLS(C_INT(&(r)->id), C_TEXT((r)->name), C_INT(&(r)->tenant_id), C_TEXT((r)->tenant), C_INT(&(r)->slot), C_TEXT((r)->state), \
	     C_INT(&(r)->pid), C_TEXT((r)->error), C_INT(&(r)->version), C_INT(&(r)->boot), C_INT(&(r)->priority),             \
	     C_TEXT((r)->created_at), C_TEXT((r)->started_at), C_TEXT_REF(&(spec)), C_INT(&(r)->exit_code),                  \
	     C_INT(&(r)->exit_signal), C_TEXT((r)->exited_at), C_INT(&(r)->host_id), C_TEXT((r)->host))

/* The spec column, owned by the row. */
static void row_spec(struct jail_row *r, const char *spec)
{
	r->spec = strdup(spec ? spec : "{}");
}

void jail_row_clear(struct jail_row *row)
{
	free(row->spec);
	row->spec = NULL;
}

static int fetch_jail(struct db *d, const char *name, struct jail_row *row, struct err *e)
{
	const char *spec = NULL;
	char want[sizeof row->name]; /* name may be row->name */
	snprintf(want, sizeof want, "%s", name);
	memset(row, 0, sizeof *row);
	struct sq q;
	int r = sq_start(&q, d, JAIL_COLS "WHERE j.name = ?", PARAMS(P_TEXT(want)), JAIL_RESULT(row, spec), "reading jail", e);
	if (r == 0 && (r = sq_next(&q, e)) == 1)
		row_spec(row, spec);
	sq_end(&q);
	return r == 1 ? 0 : r == 0 ? err_set(e, ERR_NOT_FOUND, "no jail named %s", want) : -1;
}

int store_jail_get(struct store *s, const char *name, struct jail_row *row, struct err *e)
{
	struct db d;
	if (db_get(s, &d, e) < 0)
		return -1;
	int rc = fetch_jail(&d, name, row, e);
	db_put(&d);
	return rc;
}

int store_jail_count(struct store *s, int64_t *n, struct err *e)
{
	return store_one(s, "SELECT COUNT(*) FROM jails WHERE COALESCE(host_id, 0) = ?", PARAMS(P_INT(s->host_id)), COLS(C_INT(n)),
			 "counting jails", e) == 1 ? 0 : -1;
}

int store_ip4_used(struct store *s, int64_t *n, struct err *e)
{
	return store_one(s, "SELECT COUNT(*) FROM jail_ip4 a JOIN jails j ON j.id = a.jail_id WHERE COALESCE(j.host_id, 0) = ?",
			 PARAMS(P_INT(s->host_id)), COLS(C_INT(n)), "counting addresses", e) == 1 ? 0 : -1;
}

/* ---- allocation, inside the creating transaction ---- */

/* The lowest free slot. */
/* The slot after the highest in use: one index step, however many jails there are.
 * Past the uid range's last slot (store_set_max_slots; unset: at once), the lowest
 * free one, a walk over the host's jails. A destroyed jail's uid range is thus not
 * handed out again while the range has room above. */
static int alloc_slot(struct db *d, uint32_t *slot, struct err *e)
{
	int64_t next = -1;
	int r = sq_one(d, "SELECT slot + 1 FROM jails WHERE COALESCE(host_id, 0) = ? ORDER BY slot DESC LIMIT 1",
		       PARAMS(P_INT(d->s->host_id)), COLS(C_INT(&next)), "allocating a uid slot", e);
	if (r < 0)
		return -1;
	next = r == 0 ? 0 : next;
	if (next < (int64_t)d->s->max_slots) {
		*slot = (uint32_t)next;
		return 0;
	}
	r = sq_one(d,
		   "SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM jails WHERE slot = 0 AND COALESCE(host_id, 0) = ?1) THEN 0 ELSE "
		   "(SELECT MIN(j.slot + 1) FROM jails j WHERE COALESCE(j.host_id, 0) = ?1 AND NOT EXISTS "
		   "(SELECT 1 FROM jails k WHERE k.slot = j.slot + 1 AND COALESCE(k.host_id, 0) = ?1)) END",
		   PARAMS(P_INT(d->s->host_id)), COLS(C_INT(slot)), "allocating a uid slot", e);
	return r == 1 ? 0 : r < 0 ? -1 : db_error(d, e, "allocating a uid slot");
}

/* The lowest free address of the pool; one the host already routes is passed over. */
static int alloc_ip4(struct db *d, uint32_t *out, struct err *e)
{
	const struct pool4 *p = &d->s->p4;
	uint32_t from = p->net + 2, last = p->net + (uint32_t)((1ull << (32 - p->prefix)) - 2);
	for (int tries = 0; tries < 4096 && from <= last; tries++) {
		int64_t a = -1;
		int r = sq_one(d,
			       "SELECT COALESCE(CASE WHEN NOT EXISTS (SELECT 1 FROM jail_ip4 WHERE addr = ?1) THEN ?1 ELSE "
			       "(SELECT MIN(addr + 1) FROM jail_ip4 WHERE addr >= ?1 AND addr + 1 <= ?2 AND addr + 1 NOT IN "
			       "(SELECT addr FROM jail_ip4)) END, -1)",
			       PARAMS(P_INT(from), P_INT(last)), COLS(C_INT(&a)), "allocating an address", e);
		if (r < 0)
			return -1;
		if (r == 0 || a < 0)
			break;
		if (d->s->addr4_taken && d->s->addr4_taken((uint32_t)a)) {
			from = (uint32_t)a + 1;
			continue;
		}
		*out = (uint32_t)a;
		return 0;
	}
	return err_field(e, ERR_CONFLICT, "ip4", "the IPv4 address pool is exhausted; free addresses or widen pool4");
}

static int alloc_ip6(const struct pool6 *p, uint32_t slot, uint8_t out[16], struct err *e)
{
	/* the pool's address ::(slot + 2): unique per jail while its slot is */
	memcpy(out, p->net, 16);
	uint32_t v = slot + 2;
	for (int i = 15; i >= 12; i--, v >>= 8)
		out[i] |= (uint8_t)(v & 0xff);
	if (!pool6_contains(p, out))
		return err_field(e, ERR_CONFLICT, "ip6", "the IPv6 pool is too small for another jail");
	return 0;
}

/* Records one address of the jail (text as the spec gives it back); a taken one is a
 * conflict on field. */
static int record_address(struct db *d, const char *sql, const struct sq_param *p, const char *text, const char *family, size_t i,
			  struct err *e)
{
	struct err ignored;
	if (sq_exec(d, sql, p, "recording an address", &ignored) < 0) {
		char field[32];
		snprintf(field, sizeof field, "%s[%zu]", family, i);
		return err_field(e, ERR_CONFLICT, field, "%s is already used by another jail", text);
	}
	return 0;
}

/* An address a jail asks for: "auto" (allocated into a), else the literal (af:
 * AF_INET or AF_INET6). */
static int wanted_address(const char *text, int af, void *a, const char *family, int i, struct err *e)
{
	if (inet_pton(af, text, a) == 1)
		return 0;
	return err_set(e, ERR_INVALID, "%s[%d] is neither \"auto\" nor an address", family, i);
}

/* Records the jail's addresses, "auto" ones allocated; addrs comes back as recorded. */
static int insert_addresses(struct db *d, int64_t jail_id, uint32_t slot, struct jail_addrs *addrs, struct err *e)
{
	for (int i = 0; i < addrs->n4; i++) {
		struct in_addr in;
		uint32_t a = 0;
		bool is_auto = strcmp(addrs->ip4[i], "auto") == 0;
		if (is_auto ? alloc_ip4(d, &a, e) : wanted_address(addrs->ip4[i], AF_INET, &in, "ip4", i, e))
			return -1;
		if (!is_auto)
			a = ntohl(in.s_addr);
		in.s_addr = htonl(a);
		inet_ntop(AF_INET, &in, addrs->ip4[i], sizeof addrs->ip4[i]);
		if (record_address(d, "INSERT INTO jail_ip4(addr, jail_id) VALUES (?, ?)", PARAMS(P_INT(a), P_INT(jail_id)), addrs->ip4[i],
				   "ip4", (size_t)i, e))
			return -1;
	}
	for (int i = 0; i < addrs->n6; i++) {
		uint8_t a[16];
		if (strcmp(addrs->ip6[i], "auto") == 0 ? alloc_ip6(&d->s->p6, slot, a, e) : wanted_address(addrs->ip6[i], AF_INET6, a, "ip6", i, e))
			return -1;
		inet_ntop(AF_INET6, a, addrs->ip6[i], sizeof addrs->ip6[i]);
		if (record_address(d, "INSERT INTO jail_ip6(addr, jail_id) VALUES (?, ?)", PARAMS(P_TEXT(addrs->ip6[i]), P_INT(jail_id)),
				   addrs->ip6[i], "ip6", (size_t)i, e))
			return -1;
	}
	return 0;
}

/* The jail's host ports (its forwards); one another jail holds is a conflict naming it. */
static int record_ports(struct db *d, int64_t jail_id, const struct jail_write *w, struct err *e)
{
	if (sq_exec(d, "DELETE FROM jail_ports WHERE jail_id = ?", PARAMS(P_INT(jail_id)), "recording forwards", e) < 0)
		return -1;
	/* looked for before the insert (which the allocation lock keeps from racing): a
	 * failed statement would end a PostgreSQL transaction */
	int64_t host = d->s->host_id;
	for (int i = 0; i < w->nports; i++) {
		char owner[64] = "", field[48];
		int r = sq_one(d,
			       "SELECT j.name FROM jail_ports p JOIN jails j ON j.id = p.jail_id WHERE p.proto = ? AND p.host_port = ? "
			       "AND COALESCE(p.host_id, 0) = ?",
			       PARAMS(P_TEXT(w->ports[i].proto), P_INT(w->ports[i].host_port), P_INT(host)), COLS(C_TEXT(owner)),
			       "finding a forward", e);
		if (r < 0)
			return -1;
		if (r == 0 && sq_exec(d, "INSERT INTO jail_ports(proto, host_port, jail_id, host_id) VALUES (?, ?, ?, NULLIF(?, 0))",
				      PARAMS(P_TEXT(w->ports[i].proto), P_INT(w->ports[i].host_port), P_INT(jail_id), P_INT(host)),
				      "recording a forward", e) >= 0)
			continue;
		if (r == 0 && e->code != ERR_CONFLICT)
			return -1;
		snprintf(field, sizeof field, "ports[%d].host_port", i);
		return err_field(e, ERR_CONFLICT, field, "host port %s/%d is already forwarded to jail %s; choose another host_port",
				 w->ports[i].proto, w->ports[i].host_port, owner[0] ? owner : "(another)");
	}
	return 0;
}

/* The row's columns and its spec's text, rendered now that the addresses are known. */
static int write_spec(struct db *d, int64_t id, struct jail_write *w, struct err *e)
{
	char *text = w->render(w->ctx, &w->addrs, e);
	if (!text)
		return -1;
	int64_t n = sq_exec(d, "UPDATE jails SET spec = ?, boot = ?, priority = ?, memoryuse = ?, maxproc = ?, disk = ? WHERE id = ?",
			    PARAMS(P_TEXT(text), P_INT(w->boot), P_INT(w->priority), P_INT_OR_NULL(w->memoryuse), P_INT_OR_NULL(w->maxproc),
				   P_INT_OR_NULL(w->disk), P_INT(id)),
			    "writing jail spec", e);
	free(text);
	return n < 0 ? -1 : 0;
}

/* ---- quotas, inside the allocating transaction, after the change ---- */

/* A quota in bytes (memory, disk): every jail must name the limit, and their sum must
 * fit; the message says it in sizes people read. */
static int byte_quota(const char *tenant, const char *what, const char *field, const char *example, int64_t quota,
		      int64_t used, int64_t unlimited, struct err *e)
{
	char qa[32], ua[32];
	if (quota < 0)
		return 0;
	size_human(quota, qa, sizeof qa);
	if (unlimited)
		return err_field(e, ERR_QUOTA, field, "tenant %s has %s of %s in all: every jail needs %s (\"%s\", say)", tenant,
				 qa, what, field, example);
	if (used <= quota)
		return 0;
	size_human(used, ua, sizeof ua);
	return err_field(e, ERR_QUOTA, field,
			 "tenant %s may use %s of %s and its jails would have %s; lower %s, or ask your provider for a larger quota",
			 tenant, qa, what, ua, field);
}

static int check_quotas(struct db *d, int64_t tenant_id, struct err *e)
{
	char name[64] = "";
	const char *quotas = NULL;
	struct quotas q, u;
	int64_t unlimited_mem = 0, unlimited_proc = 0, unlimited_disk = 0;
	struct sq sq;
	int r = sq_start(&sq, d, "SELECT name, quotas FROM tenants WHERE id = ?", PARAMS(P_INT(tenant_id)),
			 COLS(C_TEXT(name), C_TEXT_REF(&quotas)), "reading quotas", e);
	if (r == 0 && (r = sq_next(&sq, e)) == 1)
		quotas_from_text(quotas, &q);
	sq_end(&sq);
	if (r != 1)
		return r < 0 ? -1 : err_set(e, ERR_NOT_FOUND, "the jail's tenant no longer exists");
	/* a tenant without any quota (the provider's own, say) has nothing to sum: the sums
	 * walk all its jails */
	if (q.jails < 0 && q.ip4 < 0 && q.memoryuse < 0 && q.maxproc < 0 && q.disk < 0 && q.ports < 0)
		return 0;
	if (tenant_usage(d, tenant_id, &u, &unlimited_mem, &unlimited_proc, &unlimited_disk, e))
		return -1;
	/* quotas are the provider's: a tenant lowers its own use, or asks */
	if (q.jails >= 0 && u.jails > q.jails)
		return err_field(e, ERR_QUOTA, "quotas.jails",
				 "tenant %s may have %lld jails and has %lld; destroy one, or ask your provider for a larger quota", name,
				 (long long)q.jails, (long long)(u.jails - 1));
	if (q.ip4 >= 0 && u.ip4 > q.ip4)
		return err_field(e, ERR_QUOTA, "quotas.ip4",
				 "tenant %s may hold %lld IPv4 addresses and this would make %lld; free one, or ask your provider for a "
				 "larger quota",
				 name, (long long)q.ip4, (long long)u.ip4);
	if (byte_quota(name, "memory", "limits.memoryuse", "256M", q.memoryuse, u.memoryuse, unlimited_mem, e))
		return -1;
	if (q.maxproc >= 0 && unlimited_proc)
		return err_field(e, ERR_QUOTA, "limits.maxproc",
				 "tenant %s may run %lld processes in all: every jail needs limits.maxproc", name, (long long)q.maxproc);
	if (q.maxproc >= 0 && u.maxproc > q.maxproc)
		return err_field(e, ERR_QUOTA, "limits.maxproc",
				 "tenant %s may run %lld processes and its jails would allow %lld; lower limits.maxproc, or ask your "
				 "provider for a larger quota",
				 name, (long long)q.maxproc, (long long)u.maxproc);
	if (byte_quota(name, "disk", "limits.disk", "1G", q.disk, u.disk, unlimited_disk, e))
		return -1;
	if (q.ports >= 0 && u.ports > q.ports)
		return err_field(e, ERR_QUOTA, "ports",
				 "tenant %s may forward %lld host ports and this would make %lld; remove a forward, or ask your "
				 "provider for a larger quota",
				 name, (long long)q.ports, (long long)u.ports);
	return 0;
}

/* ---- changes ---- */

static int jail_insert_tx(struct db *d, const char *name, int64_t tenant_id, struct jail_write *w, struct err *e)
{
	char now[32];
	store_now(now);
	uint32_t slot = 0;
	int64_t id = 0;
	if (db_lock(d, DB_LOCK_ALLOCATION, tenant_id, e) || alloc_slot(d, &slot, e))
		return -1;
	if (sq_one(d,
		   "INSERT INTO jails(name, tenant_id, slot, spec, state, created_at, host_id) VALUES (?, ?, ?, '{}', 'stopped', ?, "
		   "NULLIF(?, 0)) RETURNING id",
		   PARAMS(P_TEXT(name), P_INT(tenant_id), P_INT(slot), P_TEXT(now), P_INT(d->s->host_id)), COLS(C_INT(&id)),
		   "creating jail", e) != 1)
		return e->code == ERR_CONFLICT ? err_field(e, ERR_CONFLICT, "name", "a jail named %s already exists", name) : -1;
	return insert_addresses(d, id, slot, &w->addrs, e) || record_ports(d, id, w, e) || write_spec(d, id, w, e) ||
			       check_quotas(d, tenant_id, e)
		       ? -1
		       : 0;
}

/* An allocating transaction the database gave up on (a deadlock or a serialization
 * failure, or SQLite busy past its wait: ERR_BUSY) is run again from the start, with
 * the addresses asked for as they were asked, up to three times. */
#define RETRY_BUSY(w, e, run)                                             \
	do {                                                              \
		struct jail_addrs asked = (w)->addrs;                     \
		for (int attempt = 0;; attempt++) {                       \
			if ((run) == 0 || (e)->code != ERR_BUSY || attempt == 2) \
				break;                                    \
			(w)->addrs = asked;                               \
		}                                                         \
	} while (0)

int store_jail_insert(struct store *s, const char *name, int64_t tenant_id, struct jail_write *w, struct jail_row *row, struct err *e)
{
	struct db d;
	int rc = -1;
	RETRY_BUSY(w, e, rc = db_get_tx(s, &d, e) < 0 ? -1 : db_end_tx(&d, jail_insert_tx(&d, name, tenant_id, w, e), e));
	return rc < 0 ? -1 : store_jail_get(s, name, row, e);
}

static int jail_update_tx(struct db *d, const char *name, int64_t version, struct jail_write *w, struct err *e)
{
	struct jail_row row = { 0 };
	int rc = fetch_jail(d, name, &row, e);
	/* its tenant's row, then the allocation (as creates take them); then the jail as
	 * it is now that nothing else may change it */
	if (rc == 0 && (db_lock(d, DB_LOCK_ALLOCATION, row.tenant_id, e) || (jail_row_clear(&row), fetch_jail(d, name, &row, e))))
		rc = -1;
	if (rc == 0 && row.version != version)
		rc = err_set(e, ERR_PRECONDITION, "jail %s changed since version %lld (now %lld); fetch it again", name, (long long)version,
			     (long long)row.version);
	if (rc == 0 &&
	    (sq_exec(d, "DELETE FROM jail_ip4 WHERE jail_id = ?", PARAMS(P_INT(row.id)), "re-addressing jail", e) < 0 ||
	     sq_exec(d, "DELETE FROM jail_ip6 WHERE jail_id = ?", PARAMS(P_INT(row.id)), "re-addressing jail", e) < 0 ||
	     insert_addresses(d, row.id, row.slot, &w->addrs, e) || record_ports(d, row.id, w, e) || write_spec(d, row.id, w, e) ||
	     check_quotas(d, row.tenant_id, e) ||
	     sq_exec(d, "UPDATE jails SET version = version + 1 WHERE id = ?", PARAMS(P_INT(row.id)), "updating jail", e) < 0))
		rc = -1;
	jail_row_clear(&row);
	return rc;
}

int store_jail_update_spec(struct store *s, const char *name, int64_t version, struct jail_write *w, struct err *e)
{
	struct db d;
	int rc = -1;
	RETRY_BUSY(w, e, rc = db_get_tx(s, &d, e) < 0 ? -1 : db_end_tx(&d, jail_update_tx(&d, name, version, w, e), e));
	return rc;
}

int store_jail_set_state(struct store *s, const char *name, const char *state, int64_t pid, const char *error, bool started, struct err *e)
{
	char now[32];
	store_now(now);
	int64_t n = store_exec(s,
			       "UPDATE jails SET state = ?1, pid = CASE WHEN ?2 < 0 THEN pid WHEN ?2 = 0 THEN NULL ELSE ?2 END, error = ?3, "
			       "started_at = CASE WHEN ?4 <> 0 THEN ?5 ELSE started_at END, version = version + 1 WHERE name = ?6",
			       PARAMS(P_TEXT(state), P_INT(pid), P_TEXT(error), P_INT(started), P_TEXT(now), P_TEXT(name)),
			       "updating jail state", e);
	return n < 0 ? -1 : n == 0 ? err_set(e, ERR_NOT_FOUND, "no jail named %s", name) : 0;
}

int store_jail_exited(struct store *s, const char *name, int code, int sig, int64_t at, const char *message, struct err *e)
{
	char when[32];
	time_t t = (time_t)at;
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
	int64_t n = store_exec(s,
			       "UPDATE jails SET state = 'error', pid = NULL, error = ?, exit_code = ?, exit_signal = NULLIF(?, 0), "
			       "exited_at = ?, version = version + 1 WHERE name = ? AND state = 'running'",
			       PARAMS(P_TEXT(message), P_INT(code), P_INT(sig), P_TEXT(when), P_TEXT(name)), "recording a jail's exit", e);
	return n < 0 ? -1 : n == 0 ? err_set(e, ERR_WRONG_STATE, "jail %s is not running", name) : 0;
}

int store_jail_delete(struct store *s, const char *name, struct err *e)
{
	return store_exec(s, "DELETE FROM jails WHERE name = ?", PARAMS(P_TEXT(name)), "deleting jail", e) < 0 ? -1 : 0;
}

struct each_jail {
	void (*fn)(const struct jail_row *, void *);
	void *arg;
	struct jail_row row;
	const char *spec;
};

/* The row's spec points into the statement's row: valid during the callback only. */
static void each_jail_out(void *x)
{
	struct each_jail *c = x;
	c->row.spec = (char *)(c->spec ? c->spec : "{}");
	c->fn(&c->row, c->arg);
	c->row.spec = NULL;
}

int store_jail_list(struct store *s, const struct jail_filter *f, void (*fn)(const struct jail_row *, void *), void *arg, struct err *e)
{
	static const char by_name[] = JAIL_COLS "WHERE (?1 IS NULL OR j.state = ?1) AND (?2 = 0 OR j.tenant_id = ?2) AND j.name > ?3 "
						"AND (?5 = 0 OR j.host_id = ?5) ORDER BY j.name LIMIT ?4";
	static const char by_boot[] = JAIL_COLS "WHERE (?1 IS NULL OR j.state = ?1) AND (?2 = 0 OR j.tenant_id = ?2) AND j.name > ?3 "
						"AND (?5 = 0 OR j.host_id = ?5) AND j.boot = 1 ORDER BY j.priority, j.name LIMIT ?4";
	struct each_jail c = { .fn = fn, .arg = arg };
	return store_each(s, f->by_boot_order ? by_boot : by_name,
			  PARAMS(P_TEXT(f->state), P_INT(f->tenant_id), P_TEXT(f->after ? f->after : ""), P_INT(f->limit > 0 ? f->limit : INT64_MAX),
				 P_INT(f->host_id)),
			  JAIL_RESULT(&c.row, c.spec), each_jail_out, &c, "listing jails", e);
}

/* ---- auto-restore ---- */

EACH_OF(restore_row)

int store_restore_list(struct store *s, void (*fn)(const struct restore_row *, void *), void *arg, struct err *e)
{
	struct each_restore_row c = { .fn = fn, .arg = arg };
	struct restore_row *x = &c.row;
	return store_each(s,
			  dialect(s,
				  "SELECT name, tenant_id, COALESCE(restore_at, 0), COALESCE(restore_warn_at, 0), "
				  "COALESCE(json_extract(spec, '$.restore.every'), ''), COALESCE(json_extract(spec, '$.restore.warn'), ''), "
				  "COALESCE(json_extract(spec, '$.restore.message'), '') "
				  "FROM jails WHERE json_extract(spec, '$.restore') IS NOT NULL AND state = 'running' AND COALESCE(host_id, 0) = ?",
				  "SELECT name, tenant_id, COALESCE(restore_at, 0), COALESCE(restore_warn_at, 0), "
				  "COALESCE(spec::jsonb #>> '{restore,every}', ''), COALESCE(spec::jsonb #>> '{restore,warn}', ''), "
				  "COALESCE(spec::jsonb #>> '{restore,message}', '') "
				  "FROM jails WHERE (spec::jsonb #>> '{restore}') IS NOT NULL AND state = 'running' AND COALESCE(host_id, 0) = ?"),
			  PARAMS(P_INT(s->host_id)),
			  COLS(C_TEXT(x->name), C_INT(&x->tenant_id), C_INT(&x->at), C_INT(&x->warn_at), C_TEXT(x->every), C_TEXT(x->warn),
			       C_TEXT(x->message)),
			  each_restore_row_out, &c, "listing auto-restoring jails", e);
}

int store_set_restore_at(struct store *s, const char *jail, int64_t at, int64_t warn_at, struct err *e)
{
	return store_exec(s, "UPDATE jails SET restore_at = NULLIF(?, 0), restore_warn_at = NULLIF(?, 0) WHERE name = ?",
			  PARAMS(P_INT(at), P_INT(warn_at), P_TEXT(jail)), "writing a restore time", e) < 0 ? -1 : 0;
}

struct each_port {
	void (*fn)(const char *, int, const char *, const char *, void *);
	void *arg;
	char proto[8], jail[64], state[16];
	int64_t port;
};

static void each_port_out(void *x)
{
	struct each_port *c = x;
	c->fn(c->proto, (int)c->port, c->jail, c->state, c->arg);
}

int store_ports_each(struct store *s, void (*fn)(const char *proto, int host_port, const char *jail, const char *state, void *arg),
		     void *arg, struct err *e)
{
	struct each_port c = { .fn = fn, .arg = arg };
	return store_each(s,
			  "SELECT p.proto, p.host_port, j.name, j.state FROM jail_ports p JOIN jails j ON j.id = p.jail_id "
			  "WHERE COALESCE(j.host_id, 0) = ? ORDER BY p.proto, p.host_port",
			  PARAMS(P_INT(s->host_id)), COLS(C_TEXT(c.proto), C_INT(&c.port), C_TEXT(c.jail), C_TEXT(c.state)), each_port_out, &c,
			  "listing forwards", e) < 0
		       ? -1
		       : 0;
}
