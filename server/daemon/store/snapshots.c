/* snapshots.c — a jail's snapshots (their files are the helper's). */
#include <stdio.h>
#include <string.h>

#include "store/db.h"

int store_snapshot_add(struct store *s, const char *jail, const char *name, int64_t bytes, struct err *e)
{
	char now[32];
	store_now(now);
	int64_t n = store_exec(s, "INSERT INTO snapshots(jail_id, name, bytes, created_at) SELECT id, ?, ?, ? FROM jails WHERE name = ?",
			       PARAMS(P_TEXT(name), P_INT(bytes), P_TEXT(now), P_TEXT(jail)), "recording a snapshot", e);
	if (n < 0)
		return e->code == ERR_CONFLICT ? err_field(e, ERR_CONFLICT, "name", "jail %s already has a snapshot named %s", jail, name) : -1;
	return n == 0 ? err_set(e, ERR_NOT_FOUND, "no jail named %s", jail) : 0;
}

#define SNAPSHOT_COLS "SELECT p.name, p.bytes, p.created_at FROM snapshots p JOIN jails j ON j.id = p.jail_id WHERE j.name = ? "
#define SNAPSHOT_RESULT(p) COLS(C_TEXT((p)->name), C_INT(&(p)->bytes), C_TEXT((p)->created_at))

EACH_OF(snapshot_row)

int store_snapshot_list(struct store *s, const char *jail, void (*fn)(const struct snapshot_row *, void *), void *arg, struct err *e)
{
	struct each_snapshot_row c = { .fn = fn, .arg = arg };
	return store_each(s, SNAPSHOT_COLS "ORDER BY p.created_at, p.rowid", PARAMS(P_TEXT(jail)), SNAPSHOT_RESULT(&c.row),
			  each_snapshot_row_out, &c, "listing snapshots", e);
}

int store_snapshot_get(struct store *s, const char *jail, const char *name, struct snapshot_row *out, struct err *e)
{
	/* every field is a column: nothing to clear first (and name may be out->name) */
	int r = store_one(s, SNAPSHOT_COLS "AND p.name = ?", PARAMS(P_TEXT(jail), P_TEXT(name)), SNAPSHOT_RESULT(out), "reading a snapshot", e);
	return r == 1 ? 0 : r == 0 ? err_set(e, ERR_NOT_FOUND, "jail %s has no snapshot named %s", jail, name) : -1;
}

int store_snapshot_delete(struct store *s, const char *jail, const char *name, struct err *e)
{
	return store_exec(s, "DELETE FROM snapshots WHERE name = ? AND jail_id = (SELECT id FROM jails WHERE name = ?)",
			  PARAMS(P_TEXT(name), P_TEXT(jail)), "deleting a snapshot", e) < 0 ? -1 : 0;
}
