/* usage.c — usage history (store.h): buckets added to with each sample, read back for
 * graphs and bills, pruned by age. */
#include <stdio.h>
#include <string.h>

#include "store/db.h"

static int add_one(struct db *d, int64_t tenant_id, const char *jail, int64_t res, int64_t t, const struct usage_add *u,
		   struct err *e)
{
	return sq_exec(d,
		       "INSERT INTO usage(tenant_id, jail, res, t, seconds, cpu_us, mem_byte_s, mem_limit_byte_s, disk_limit_byte_s, "
		       "net_rx, net_tx) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) "
		       "ON CONFLICT(tenant_id, jail, res, t) DO UPDATE SET seconds = usage.seconds + ?5, cpu_us = usage.cpu_us + ?6, "
		       "mem_byte_s = usage.mem_byte_s + ?7, mem_limit_byte_s = usage.mem_limit_byte_s + ?8, "
		       "disk_limit_byte_s = usage.disk_limit_byte_s + ?9, net_rx = usage.net_rx + ?10, net_tx = usage.net_tx + ?11",
		       PARAMS(P_INT(tenant_id), P_TEXT(jail), P_INT(res), P_INT(t), P_INT(u->seconds), P_INT(u->cpu_us),
			      P_INT(u->mem_byte_s), P_INT(u->mem_limit_byte_s), P_INT(u->disk_limit_byte_s), P_INT(u->net_rx),
			      P_INT(u->net_tx)),
		       "recording usage", e) < 0
		       ? -1
		       : 0;
}

static int usage_add_tx(struct db *d, int64_t tenant_id, const char *jail, int64_t at, const int64_t *res, int n,
			const struct usage_add *u, struct err *e)
{
	for (int i = 0; i < n; i++)
		if (res[i] > 0 && add_one(d, tenant_id, jail, res[i], at - at % res[i], u, e) < 0)
			return -1;
	return 0;
}

int store_usage_add(struct store *s, int64_t tenant_id, const char *jail, int64_t at, const int64_t *res, int n,
		    const struct usage_add *u, struct err *e)
{
	struct db d;
	return db_get_tx(s, &d, e) < 0 ? -1 : db_end_tx(&d, usage_add_tx(&d, tenant_id, jail, at, res, n, u, e), e);
}

EACH_OF(usage_row)

int store_usage_list(struct store *s, int64_t tenant_id, const char *jail, int64_t res, int64_t from, int64_t to,
		     void (*fn)(const struct usage_row *, void *), void *arg, struct err *e)
{
	struct each_usage_row c = { .fn = fn, .arg = arg };
	struct usage_add *u = &c.row.u;
	return store_each(s,
			  "SELECT jail, t, seconds, cpu_us, mem_byte_s, mem_limit_byte_s, disk_limit_byte_s, net_rx, net_tx FROM usage "
			  "WHERE tenant_id = ?1 AND (?2 IS NULL OR jail = ?2) AND res = ?3 AND t >= ?4 AND t < ?5 ORDER BY t, jail",
			  PARAMS(P_INT(tenant_id), P_TEXT(jail), P_INT(res), P_INT(from), P_INT(to)),
			  COLS(C_TEXT(c.row.jail), C_INT(&c.row.t), C_INT(&u->seconds), C_INT(&u->cpu_us), C_INT(&u->mem_byte_s),
			       C_INT(&u->mem_limit_byte_s), C_INT(&u->disk_limit_byte_s), C_INT(&u->net_rx), C_INT(&u->net_tx)),
			  each_usage_row_out, &c, "reading usage", e) < 0
		       ? -1
		       : 0;
}

int store_usage_prune(struct store *s, int64_t res, int64_t before, struct err *e)
{
	return store_exec(s, "DELETE FROM usage WHERE res = ? AND t < ?", PARAMS(P_INT(res), P_INT(before)), "pruning usage", e) < 0
		       ? -1
		       : 0;
}
