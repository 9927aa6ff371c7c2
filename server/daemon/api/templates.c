/* templates.c — /api/templates: the userlands jails are made from. Anyone may see
 * them; admins publish (a tar upload checked against its SHA-256, or a copy of an
 * allowed host directory) and delete (never one a jail uses). */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "json_spec.h"
#include "core/priv_client.h"

static json_t *template_json(const struct template_row *t)
{
	return json_pack("{sssssosIsssssI}", "name", t->name, "source", t->source, "sha256",
			 t->sha256[0] ? json_string(t->sha256) : json_null(), "version", (json_int_t)t->version, "created_at",
			 t->created_at, "updated_at", t->updated_at, "jails", (json_int_t)t->jails);
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

/* POST /api/templates?name=N&sha256=HEX[&replace=1] with a tar body (any compression),
 * or a JSON body {"name": N, "source": "/srv/templates/x", "replace": false}. */
void h_templates_create(struct request *rq, struct response *rs)
{
	struct err e = { 0 };
	/* ?name= names an upload; without it the body is JSON (a copy of a host directory) */
	bool json = !req_query(rq, "name");
	struct req_template r;
	memset(&r, 0, sizeof r);
	char sha[65] = "", source[300] = "upload";
	if (json) {
		json_t *body = req_upload_json(rq, &e);
		if (!body)
			return resp_error(rs, &e);
		const char *name, *dir;
		bool replace;
		const struct jfield spec[] = {
			JF_STRING("name", true, NULL, &name, NULL),
			JF_STRING("source", true, NULL, &dir, NULL),
			JF_BOOL("replace", false, NULL, &replace, false),
			JF_END,
		};
		if (json_parse_fields(body, spec, "", NULL, &e) < 0) {
			json_decref(body);
			return resp_error(rs, &e);
		}
		r.h = priv_hdr(MSG_TEMPLATE_DIR);
		snprintf(r.name, sizeof r.name, "%.63s", name);
		snprintf(r.source, sizeof r.source, "%.255s", dir);
		r.replace = replace;
		snprintf(source, sizeof source, "dir:%s", r.source);
		json_decref(body);
	} else {
		const char *name = req_query(rq, "name"), *want = req_query(rq, "sha256"), *replace = req_query(rq, "replace");
		if (!name)
			return resp_errorf(rs, ERR_INVALID, "name", "name the template: POST /api/templates?name=NAME&sha256=HEX with the tarball as the body");
		if (!is_sha256(want))
			return resp_errorf(rs, ERR_INVALID, "sha256", "sha256 must be the tarball's SHA-256 in lower-case hex (sha256sum prints it)");
		if (strcmp(want, rq->upload_sha256) != 0)
			return resp_errorf(rs, ERR_INVALID, "sha256", "the upload's SHA-256 is %s, not %s: it was damaged or is another file; nothing was kept",
					   rq->upload_sha256, want);
		if (rq->upload_size == 0)
			return resp_errorf(rs, ERR_INVALID, NULL, "the body is empty: send the template's tarball");
		r.h = priv_hdr(MSG_TEMPLATE_TAR);
		snprintf(r.name, sizeof r.name, "%.63s", name);
		r.replace = replace && strcmp(replace, "1") == 0;
		snprintf(sha, sizeof sha, "%s", want);
	}
	if (!valid_name(r.name))
		return resp_errorf(rs, ERR_INVALID, "name", "template name must be 1 to 63 lowercase letters, digits and dashes, starting with a letter or digit");
	bool existed = store_template_exists(J.st, r.name);
	if (existed && !r.replace)
		return resp_errorf(rs, ERR_CONFLICT, "name", "template %s exists; publish a new version with replace", r.name);
	struct reply out;
	if (priv_call(&r, json ? NULL : &rq->upload_fd, json ? 0 : 1, &out, &e) < 0 ||
	    store_template_put(J.st, r.name, source, sha, &e) < 0)
		return resp_error(rs, &e);
	struct template_row t;
	if (store_template_get(J.st, r.name, &t, &e) < 0)
		return resp_error(rs, &e);
	snprintf(rs->location, sizeof rs->location, "/api/templates/%s", t.name);
	resp_json(rs, existed ? 200 : 201, template_json(&t));
}

void h_template_delete(struct request *rq, struct response *rs)
{
	struct err e;
	struct template_row t;
	const char *name = rq->params[0];
	if (!valid_name(name) || store_template_get(J.st, name, &t, &e) < 0)
		return resp_errorf(rs, ERR_NOT_FOUND, NULL, "no template named %.63s", name);
	if (t.jails > 0)
		return resp_errorf(rs, ERR_CONFLICT, NULL, "template %s is used by %lld jails; destroy them first", name, (long long)t.jails);
	struct req_template r;
	struct reply out;
	memset(&r, 0, sizeof r);
	r.h = priv_hdr(MSG_TEMPLATE_DELETE);
	snprintf(r.name, sizeof r.name, "%.63s", name);
	if (priv_call(&r, NULL, 0, &out, &e) < 0 && e.code != ERR_NOT_FOUND)
		return resp_error(rs, &e);
	if (store_template_delete(J.st, name, &e) < 0)
		return resp_error(rs, &e);
	rs->status = 204;
}
