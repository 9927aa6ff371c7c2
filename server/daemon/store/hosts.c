/* hosts.c — the hosts sharing the store: each jaild claims its host's row (PostgreSQL:
 * an advisory lock its own session holds, so a second jaild cannot claim a host that
 * is held, and a host whose jaild died is free again), says it is alive, and reads the
 * others. Times are the database's clock: one clock for every host. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "store/engine.h"

/* the database's unix seconds, in each engine's words */
#define NOW_SQLITE "CAST(strftime('%s', 'now') AS INTEGER)"
#define NOW_PG "CAST(EXTRACT(EPOCH FROM now()) AS BIGINT)"

int store_host_claim(struct store *s, const struct host_claim *c, struct err *e)
{
	if (s->claim.conn) /* claimed already: a reconnect asks again */
		return s->eng->claim(&s->claim, c->name, e);
	if (db_get(s, &s->claim, e) < 0)
		return -1;
	/* a jaild restarted at once may find its own last session not yet gone (the
	 * server ends it when it sees the socket close): a few seconds' patience */
	int rc;
	for (int i = 0; (rc = s->eng->claim(&s->claim, c->name, e)) < 0 && e->code == ERR_CONFLICT && i < 50; i++) {
		struct timespec ts = { 0, 100 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	if (rc < 0) {
		db_put(&s->claim);
		return -1;
	}
	char now[32];
	store_now(now);
	int64_t id = 0;
	static const char upsert_sqlite[] =
		"INSERT INTO hosts(name, advertise, pool4, pool6, uid_base, cpus, memory, seen_at, created_at) "
		"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, " NOW_SQLITE ", ?8) ON CONFLICT(name) DO UPDATE SET advertise = ?2, pool4 = ?3, "
		"pool6 = ?4, uid_base = ?5, cpus = ?6, memory = ?7, seen_at = " NOW_SQLITE " RETURNING id";
	static const char upsert_pg[] =
		"INSERT INTO hosts(name, advertise, pool4, pool6, uid_base, cpus, memory, seen_at, created_at) "
		"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, " NOW_PG ", ?8) ON CONFLICT(name) DO UPDATE SET advertise = ?2, pool4 = ?3, "
		"pool6 = ?4, uid_base = ?5, cpus = ?6, memory = ?7, seen_at = " NOW_PG " RETURNING id";
	int r = sq_one(&s->claim, dialect(s, upsert_sqlite, upsert_pg),
		       PARAMS(P_TEXT(c->name), P_TEXT(c->advertise), P_TEXT(c->pool4), P_TEXT(c->pool6), P_INT(c->uid_base), P_INT(c->cpus),
			      P_INT(c->memory), P_TEXT(now)),
		       COLS(C_INT(&id)), "registering this host", e);
	if (r != 1) {
		if (e->code == ERR_CONFLICT)
			err_set(e, ERR_CONFLICT,
				"this host's pool4 %s or pool6 %s overlaps another host's in the shared store: give each host pools of "
				"its own",
				c->pool4, c->pool6);
		db_put(&s->claim);
		return -1;
	}
	s->host_id = id;
	/* what was made before there were hosts is this one's */
	if (sq_exec(&s->claim, "UPDATE jails SET host_id = ? WHERE host_id IS NULL", PARAMS(P_INT(id)), "adopting jails", e) < 0 ||
	    sq_exec(&s->claim, "UPDATE jail_ports SET host_id = ? WHERE host_id IS NULL", PARAMS(P_INT(id)), "adopting forwards", e) < 0 ||
	    sq_exec(&s->claim, "UPDATE consoles SET host_id = ? WHERE host_id IS NULL", PARAMS(P_INT(id)), "adopting console sessions", e) < 0)
		return -1;
	return 0;
}

int64_t store_host_id(const struct store *s)
{
	return s->host_id;
}

int store_host_heartbeat(struct store *s, const char *name, struct err *e)
{
	/* the claim's own connection: if it broke, the claim went with its session */
	bool broke = s->eng->broken(&s->claim);
	if (broke) {
		if (s->eng->check(&s->claim, e) < 0)
			return -1;
		if (s->eng->claim(&s->claim, name, e) < 0)
			return -1;
		log_info("reconnected to the store and claimed host %s again", name);
	}
	return sq_exec(&s->claim,
		       dialect(s, "UPDATE hosts SET seen_at = " NOW_SQLITE " WHERE id = ?", "UPDATE hosts SET seen_at = " NOW_PG " WHERE id = ?"),
		       PARAMS(P_INT(s->host_id)), "saying this host is alive", e) < 0
		       ? -1
		       : 0;
}

#define HOST_COLS_WITH(now)                                                                                            \
	"SELECT h.id, h.name, h.advertise, h.pool4, h.pool6, h.uid_base, h.cpus, h.memory, h.draining, " now " - h.seen_at, " \
	"(SELECT COUNT(*) FROM jails j WHERE j.host_id = h.id), "                                                          \
	"(SELECT COALESCE(SUM(j.memoryuse), 0) FROM jails j WHERE j.host_id = h.id), "                                     \
	"(SELECT COUNT(*) FROM jail_ip4 a JOIN jails j ON j.id = a.jail_id WHERE j.host_id = h.id) FROM hosts h "
#define HOST_RESULT(h)                                                                                                     \
	COLS(C_INT(&(h)->id), C_TEXT((h)->name), C_TEXT((h)->advertise), C_TEXT((h)->pool4), C_TEXT((h)->pool6),            \
	     C_INT(&(h)->uid_base), C_INT(&(h)->cpus), C_INT(&(h)->memory), C_BOOL(&(h)->draining), C_INT(&(h)->silent_for), \
	     C_INT(&(h)->jails), C_INT(&(h)->committed_memory), C_INT(&(h)->ip4_used))
#define HOST_QUERY(s, rest) dialect((s), HOST_COLS_WITH(NOW_SQLITE) rest, HOST_COLS_WITH(NOW_PG) rest)

EACH_OF(host_row)

int store_host_list(struct store *s, void (*fn)(const struct host_row *, void *), void *arg, struct err *e)
{
	struct each_host_row c = { .fn = fn, .arg = arg };
	/* least committed first: the order placement tries them in */
	return store_each(s, HOST_QUERY(s, "ORDER BY 11, 12, h.name"), NO_PARAMS, HOST_RESULT(&c.row), each_host_row_out, &c,
			  "listing hosts", e) < 0
		       ? -1
		       : 0;
}

int store_host_get(struct store *s, const char *name, struct host_row *out, struct err *e)
{
	char want[sizeof out->name]; /* name may be out->name */
	snprintf(want, sizeof want, "%s", name);
	memset(out, 0, sizeof *out);
	int r = store_one(s, HOST_QUERY(s, "WHERE h.name = ?"), PARAMS(P_TEXT(want)), HOST_RESULT(out), "reading a host", e);
	return r == 1 ? 0 : r == 0 ? err_set(e, ERR_NOT_FOUND, "no host named %s", want) : -1;
}

int store_host_set_draining(struct store *s, const char *name, bool draining, struct err *e)
{
	int64_t n = store_exec(s, "UPDATE hosts SET draining = ? WHERE name = ?", PARAMS(P_INT(draining), P_TEXT(name)),
			       "draining a host", e);
	return n < 0 ? -1 : n == 0 ? err_set(e, ERR_NOT_FOUND, "no host named %s", name) : 0;
}
