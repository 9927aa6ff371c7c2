/* audit.c — who did what: one row per changing request (and per console session). */
#include <stdio.h>
#include <string.h>

#include "store/db.h"

int store_audit_add(struct store *s, const struct audit_row *a, struct err *e)
{
	return store_exec(s,
			  "INSERT INTO audit(at, request_id, token_id, actor, tenant_id, action, target, status, source, link, repeats) "
			  "VALUES (?, ?, NULLIF(?, 0), ?, NULLIF(?, 0), ?, ?, ?, ?, NULLIF(?, ''), ?)",
			  PARAMS(P_TEXT(a->at), P_TEXT(a->request_id), P_INT(a->token_id), P_TEXT(a->actor), P_INT(a->tenant_id),
				 P_TEXT(a->action), P_TEXT(a->target), P_INT(a->status), P_TEXT(a->source), P_TEXT(a->link), P_INT(a->repeats)),
			  "writing the audit log", e) < 0 ? -1 : 0;
}

EACH_OF(audit_row)

int store_audit_list(struct store *s, const struct audit_filter *f, void (*fn)(const struct audit_row *, void *), void *arg,
		     struct err *e)
{
	struct each_audit_row c = { .fn = fn, .arg = arg };
	struct audit_row *a = &c.row;
	return store_each(s,
			  "SELECT a.id, a.at, a.request_id, COALESCE(a.token_id, 0), a.actor, COALESCE(a.tenant_id, 0), COALESCE(t.name, ''), "
			  "a.action, a.target, a.status, a.source, COALESCE(a.link, ''), a.repeats FROM audit a LEFT JOIN tenants t ON t.id = a.tenant_id "
			  "WHERE (?1 = 0 OR a.tenant_id = ?1) AND (?2 = 0 OR a.id < ?2) AND (?3 IS NULL OR substr(a.action, 1, length(?3)) = ?3) "
			  "AND (?4 IS NULL OR a.target = ?4) AND (?5 = 0 OR a.status = ?5) ORDER BY a.id DESC LIMIT ?6",
			  PARAMS(P_INT(f->tenant_id), P_INT(f->before), P_TEXT(f->action), P_TEXT(f->target), P_INT(f->status), P_INT(f->limit)),
			  COLS(C_INT(&a->id), C_TEXT(a->at), C_TEXT(a->request_id), C_INT(&a->token_id), C_TEXT(a->actor), C_INT(&a->tenant_id),
			       C_TEXT(a->tenant), C_TEXT(a->action), C_TEXT(a->target), C_INT(&a->status), C_TEXT(a->source), C_TEXT(a->link), C_INT(&a->repeats)),
			  each_audit_row_out, &c, "reading the audit log", e);
}
