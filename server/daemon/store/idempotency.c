/* idempotency.c — Idempotency-Key: a POST's answer kept for a day, replayed to a retry. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/db.h"

static int idem_begin_tx(struct db *d, int64_t token_id, const char *key, const uint8_t hash[32], struct idem_row *found,
			 struct err *e)
{
	char now[32], day_ago[32];
	store_now(now);
	store_time_ago(day_ago, 86400);
	/* a day's keys are kept; older ones are forgotten as they are met */
	if (sq_exec(d, "DELETE FROM idempotency WHERE created_at < ?", PARAMS(P_TEXT(day_ago)), "forgetting old Idempotency-Keys", e) < 0)
		return -1;
	struct idem_row f;
	memset(&f, 0, sizeof f);
	const char *response = NULL;
	struct sq q;
	int r = sq_start(&q, d,
			 "SELECT request_hash, status, response, COALESCE(location, ''), COALESCE(etag, '') FROM idempotency "
			 "WHERE token_id = ? AND key = ?",
			 PARAMS(P_INT(token_id), P_TEXT(key)),
			 COLS(C_BLOB(f.request_hash), C_INT(&f.status), C_TEXT_REF(&response), C_TEXT(f.location), C_TEXT(f.etag)),
			 "reading Idempotency-Key", e);
	if (r == 0 && (r = sq_next(&q, e)) == 1)
		f.response = response ? strdup(response) : NULL;
	sq_end(&q);
	if (r == 1) {
		*found = f;
		return err_set(e, ERR_CONFLICT, "Idempotency-Key already used");
	}
	if (r < 0)
		return -1;
	return sq_exec(d, "INSERT INTO idempotency(token_id, key, request_hash, status, created_at) VALUES (?, ?, ?, 0, ?)",
		       PARAMS(P_INT(token_id), P_TEXT(key), P_BLOB(hash, 32), P_TEXT(now)), "reserving Idempotency-Key", e) < 0
		       ? -1
		       : 0;
}

int store_idem_begin(struct store *s, int64_t token_id, const char *key, const uint8_t hash[32], struct idem_row *found,
		     struct err *e)
{
	struct db d;
	return db_get_tx(s, &d, e) < 0 ? -1 : db_end_tx(&d, idem_begin_tx(&d, token_id, key, hash, found, e), e);
}

int store_idem_finish(struct store *s, int64_t token_id, const char *key, int status, const char *response,
		      const char *location, const char *etag, struct err *e)
{
	return store_exec(s,
			  "UPDATE idempotency SET status = ?, response = ?, location = NULLIF(?, ''), etag = NULLIF(?, '') "
			  "WHERE token_id = ? AND key = ?",
			  PARAMS(P_INT(status), P_TEXT(response), P_TEXT(location), P_TEXT(etag), P_INT(token_id), P_TEXT(key)),
			  "saving the answer for Idempotency-Key", e) < 0 ? -1 : 0;
}

void store_idem_abort(struct store *s, int64_t token_id, const char *key)
{
	struct err e;
	store_exec(s, "DELETE FROM idempotency WHERE token_id = ? AND key = ?", PARAMS(P_INT(token_id), P_TEXT(key)),
		   "forgetting an Idempotency-Key", &e);
}
