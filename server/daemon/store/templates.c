/* templates.c — the userlands jails are made from, with their versions. */
#include <stdio.h>
#include <string.h>

#include "store/db.h"

int store_template_add(struct store *s, const char *name, const char *source, struct err *e)
{
	char now[32];
	store_now(now);
	return store_exec(s, "INSERT INTO templates(name, source, created_at) VALUES (?, ?, ?) ON CONFLICT(name) DO NOTHING",
			  PARAMS(P_TEXT(name), P_TEXT(source), P_TEXT(now)), "adding template", e) < 0 ? -1 : 0;
}

int store_template_put(struct store *s, const char *name, const char *source, const char *sha256, struct err *e)
{
	char now[32];
	store_now(now);
	return store_exec(s,
			  "INSERT INTO templates(name, source, created_at, sha256, updated_at) VALUES (?1, ?2, ?3, NULLIF(?4, ''), ?3) "
			  "ON CONFLICT(name) DO UPDATE SET source = ?2, sha256 = NULLIF(?4, ''), updated_at = ?3, version = templates.version + 1",
			  PARAMS(P_TEXT(name), P_TEXT(source), P_TEXT(now), P_TEXT(sha256 ? sha256 : "")), "recording template", e) < 0
		       ? -1
		       : 0;
}

/* spec_template: a jail's spec's "template", as the engine reads JSON */
#define TEMPLATE_COLS_WITH(spec_template)                                                                                 \
	"SELECT t.name, t.source, COALESCE(t.sha256, ''), t.version, t.created_at, COALESCE(t.updated_at, t.created_at), " \
	"(SELECT COUNT(*) FROM jails j WHERE " spec_template " = t.name), COALESCE(t.command, ''), "                       \
	"COALESCE(t.stop_command, '') FROM templates t "
#define TEMPLATE_QUERY(s, rest)                                                                           \
	dialect((s), TEMPLATE_COLS_WITH("json_extract(j.spec, '$.template')") rest, \
		TEMPLATE_COLS_WITH("(j.spec::jsonb ->> 'template')") rest)
#define TEMPLATE_RESULT(t)                                                                                        \
	COLS(C_TEXT((t)->name), C_TEXT((t)->source), C_TEXT((t)->sha256), C_INT(&(t)->version), C_TEXT((t)->created_at), \
	     C_TEXT((t)->updated_at), C_INT(&(t)->jails), C_TEXT((t)->command), C_TEXT((t)->stop_command))

int store_template_set_run(struct store *s, const char *name, const char *command, const char *stop_command, struct err *e)
{
	return store_exec(s, "UPDATE templates SET command = ?, stop_command = ? WHERE name = ?",
			  PARAMS(P_TEXT(command), P_TEXT(stop_command), P_TEXT(name)), "recording how a template runs", e) < 0
		       ? -1
		       : 0;
}

EACH_OF(template_row)

int store_template_list(struct store *s, void (*fn)(const struct template_row *, void *), void *arg, struct err *e)
{
	struct each_template_row c = { .fn = fn, .arg = arg };
	return store_each(s, TEMPLATE_QUERY(s, "ORDER BY t.name"), NO_PARAMS, TEMPLATE_RESULT(&c.row), each_template_row_out, &c,
			  "listing templates", e);
}

int store_template_get(struct store *s, const char *name, struct template_row *out, struct err *e)
{
	/* every field is a column: nothing to clear first (and name may be out->name) */
	int r = store_one(s, TEMPLATE_QUERY(s, "WHERE t.name = ?"), PARAMS(P_TEXT(name)), TEMPLATE_RESULT(out), "reading template", e);
	return r == 1 ? 0 : r == 0 ? err_set(e, ERR_NOT_FOUND, "no template named %s", name) : -1;
}

int store_template_delete(struct store *s, const char *name, struct err *e)
{
	return store_exec(s, "DELETE FROM templates WHERE name = ?", PARAMS(P_TEXT(name)), "deleting template", e) < 0 ? -1 : 0;
}

bool store_template_exists(struct store *s, const char *name)
{
	struct err e;
	int one = 0;
	return store_one(s, "SELECT 1 FROM templates WHERE name = ?", PARAMS(P_TEXT(name)), COLS(C_INT(&one)), "reading template", &e) == 1;
}
