/* templates.c — /api/templates: the userlands jails are made from. Anyone may see
 * them; admins publish (a tar upload checked against its SHA-256, or a copy of an
 * allowed host directory) and delete (never one a jail uses). */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "json_spec.h"
#include "core/templates.h"

static json_t *template_json(const struct template_row *t)
{
	json_t *cmd = t->command[0] ? json_loads(t->command, 0, NULL) : NULL, *stop = t->stop_command[0] ? json_loads(t->stop_command, 0, NULL) : NULL;
	return json_pack("{sssssosIsssssIsoso}", "name", t->name, "source", t->source, "sha256",
			 t->sha256[0] ? json_string(t->sha256) : json_null(), "version", (json_int_t)t->version, "created_at",
			 t->created_at, "updated_at", t->updated_at, "jails", (json_int_t)t->jails, "command",
			 cmd ? cmd : json_pack("[ss]", "/bin/sh", "/etc/rc"), "stop_command", stop ? stop : json_array());
}

struct listing {
	json_t *items;
	int64_t tenant_id; /* 0: all (admins); else only what that tenant may use */
};

static void add_template(const struct template_row *t, void *arg)
{
	struct listing *l = arg;
	if (l->tenant_id && !store_template_allowed(J.st, l->tenant_id, t->name))
		return;
	json_t *j = template_json(t);
	if (l->tenant_id) /* how many jails use it, across tenants, is the provider's business */
		json_object_del(j, "jails");
	json_array_append_new(l->items, j);
}

/* GET /api/templates: admins see all; a tenant, the templates it may use. */
void h_templates_list(struct request *rq, struct response *rs)
{
	struct err e;
	json_t *items = json_array();
	struct listing l = { items, is_admin(rq) ? 0 : rq->who.tenant_id };
	if (store_template_list(J.st, add_template, &l, &e) < 0) {
		json_decref(items);
		return resp_error(rs, &e);
	}
	resp_json(rs, 200, json_pack("{sosn}", "items", items, "next"));
}

static bool is_sha256(const char *s)
{
	if (!s || strlen(s) != 64)
		return false;
	for (; *s; s++)
		if (!isxdigit((unsigned char)*s) || isupper((unsigned char)*s))
			return false;
	return true;
}

static int check_packages(json_t *v, const char *f, void *ctx, struct err *e)
{
	size_t i;
	json_t *p;
	(void)ctx;
	json_array_foreach(v, i, p) if (!json_is_string(p))
		return err_field(e, ERR_INVALID, f, "%s[%zu] must be a package name", f, i);
	return 0;
}

/* {"name", "distro", "release", "packages", "replace"}: built as an operation, 202. */
static void template_build(struct request *rq, struct response *rs, json_t *body)
{
	struct err e = { 0 };
	const char *pkgs[65];
	json_t *packages = NULL;
	struct template_build b = { 0 };
	const struct jfield spec[] = {
		JF_STRING("name", true, NULL, &b.name, NULL),
		JF_STRING("distro", true, NULL, &b.distro, NULL),
		JF_STRING("release", true, NULL, &b.release, NULL),
		JF_JSON("packages", JT_ARRAY, false, check_packages, &packages),
		JF_BOOL("replace", false, NULL, &b.replace, false),
		JF_END,
	};
	char id[33];
	int rc = json_parse_fields(body, spec, "", NULL, &e);
	if (rc == 0 && json_array_size(packages) > 64)
		rc = err_field(&e, ERR_INVALID, "packages", "at most 64 packages");
	if (rc == 0) {
		size_t i;
		json_t *p;
		json_array_foreach(packages, i, p) pkgs[i] = json_string_value(p);
		b.packages = pkgs;
		b.npackages = (int)json_array_size(packages);
		rc = template_build_start(&b, rq->who.tenant_id, id, &e);
	}
	json_decref(body);
	if (rc < 0)
		return resp_error(rs, &e);
	struct operation_row o;
	if (store_operation_get(J.st, id, &o, &e) < 0)
		return resp_error(rs, &e);
	snprintf(rs->location, sizeof rs->location, "/api/operations/%s", id);
	resp_json(rs, 202, operation_json(&o));
}

/* POST /api/templates?name=N&sha256=HEX[&replace=1] with a tar body (any compression),
 * a JSON body {"name": N, "source": "/srv/templates/x", "replace": false}, or one that
 * builds it from a distribution's archive {"name", "distro", "release", "packages"}. */
void h_templates_create(struct request *rq, struct response *rs)
{
	struct err e = { 0 };
	/* ?name= names an upload; without it the body is JSON (a copy of a host directory) */
	bool json = !req_query(rq, "name");
	struct template_source src = { .tar_fd = -1 };
	json_t *body = NULL;
	if (json) {
		if (!(body = req_upload_json(rq, &e)))
			return resp_error(rs, &e);
		if (json_object_get(body, "distro"))
			return template_build(rq, rs, body);
		const struct jfield spec[] = {
			JF_STRING("name", true, NULL, &src.name, NULL),
			JF_STRING("source", true, NULL, &src.dir, NULL),
			JF_BOOL("replace", false, NULL, &src.replace, false),
			JF_END,
		};
		if (json_parse_fields(body, spec, "", NULL, &e) < 0) {
			json_decref(body);
			return resp_error(rs, &e);
		}
	} else {
		const char *want = req_query(rq, "sha256"), *replace = req_query(rq, "replace");
		if (!is_sha256(want))
			return resp_errorf(rs, ERR_INVALID, "sha256", "sha256 must be the tarball's SHA-256 in lower-case hex (sha256sum prints it)");
		if (strcmp(want, rq->upload_sha256) != 0)
			return resp_errorf(rs, ERR_INVALID, "sha256", "the upload's SHA-256 is %s, not %s: it was damaged or is another file; nothing was kept",
					   rq->upload_sha256, want);
		if (rq->upload_size == 0)
			return resp_errorf(rs, ERR_INVALID, NULL, "the body is empty: send the template's tarball");
		src = (struct template_source){ .name = req_query(rq, "name"), .replace = replace && strcmp(replace, "1") == 0,
						.tar_fd = rq->upload_fd, .sha256 = want };
	}
	bool existed = src.name && store_template_exists(J.st, src.name);
	unsigned skipped = 0;
	struct template_row t;
	int rc = template_publish(&src, &skipped, &t, &e);
	json_decref(body);
	if (rc < 0)
		return resp_error(rs, &e);
	snprintf(rs->location, sizeof rs->location, "/api/templates/%s", t.name);
	json_t *j = template_json(&t);
	if (skipped) {
		char note[160];
		snprintf(note, sizeof note, "%u device node%s under /dev left out: a jail's /dev is made by jaild", skipped, skipped == 1 ? "" : "s");
		json_object_set_new(j, "notes", json_pack("[s]", note));
	}
	resp_json(rs, existed ? 200 : 201, j);
}

void h_template_delete(struct request *rq, struct response *rs)
{
	struct err e;
	if (template_remove(rq->params[0], &e) < 0)
		return resp_error(rs, &e);
	rs->status = 204;
}
