/* router.c — the routes of shared/API.md that this version serves, and what the
 * handler files share. */
#include "api/api.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/events.h"
#include "core/host.h"
#include "core/jails.h"
#include "core/priv_client.h"
#include "utf8.h"

bool is_admin(const struct request *rq)
{
	return strcmp(rq->who.role, "admin") == 0;
}

bool jail_name_ok(struct response *rs, const char *name)
{
	if (!valid_name(name))
		resp_errorf(rs, ERR_INVALID, "name", "jail name must be 1 to 63 lowercase letters, digits and dashes, starting with a letter or digit");
	return valid_name(name);
}

int visible_jail(struct request *rq, struct response *rs, const char *name, struct jail_row *row)
{
	struct err e;
	if (!jail_name_ok(rs, name))
		return -1;
	if (jail_row_get(name, row, &e) < 0) {
		resp_error(rs, &e);
		return -1;
	}
	if (!is_admin(rq) && row->tenant_id != rq->who.tenant_id) {
		jail_row_clear(row);
		resp_errorf(rs, ERR_NOT_FOUND, NULL, "no jail named %s", name);
		return -1;
	}
	return 0;
}

static void h_health(struct request *rq, struct response *rs)
{
	(void)rq;
	char backend[16];
	priv_backend(backend);
	resp_json(rs, 200, json_pack("{ssssss}", "status", "ok", "version", JAILD_VERSION, "backend", backend));
	if (!priv_available())
		json_object_set_new(rs->body, "helper", json_string("unavailable"));
}

/* GET /api/session: who the caller is (the web console asks after a reload). */
static void h_session(struct request *rq, struct response *rs)
{
	resp_json(rs, 200, json_pack("{sssssssssb}", "kind", rq->who.id ? "token" : "session", "name", rq->who.name, "tenant",
				      rq->who.tenant, "role", rq->who.role, "admin", is_admin(rq)));
}

/* Access: every route but the public ones needs a token or a session; .admin routes
 * are refused to tenants by the HTTP layer, in one place (route_allows). Everything
 * else a tenant reaches is scoped to its own tenant by its handler. */
const struct route api_routes[] = {
	{ .method = "GET", .pattern = "/api/audit", .fn = h_audit },
	{ .method = "GET", .pattern = "/api/events", .fn = h_events },
	{ .method = "POST", .pattern = "/api/login", .fn = h_login, .public_ = true },
	{ .method = "POST", .pattern = "/api/logout", .fn = h_logout },
	{ .method = "GET", .pattern = "/api/tenants/*/users", .fn = h_users_list },
	{ .method = "POST", .pattern = "/api/tenants/*/users", .fn = h_users_create },
	{ .method = "DELETE", .pattern = "/api/tenants/*/users/*", .fn = h_user_delete },
	{ .method = "GET", .pattern = "/api/health", .fn = h_health, .public_ = true },
	{ .method = "GET", .pattern = "/metrics", .fn = h_metrics, .admin = true, .open_to_list = true },
	{ .method = "GET", .pattern = "/api/session", .fn = h_session },
	{ .method = "GET", .pattern = "/api/host", .fn = h_host },
	{ .method = "GET", .pattern = "/api/hosts", .fn = h_hosts_list, .admin = true },
	{ .method = "GET", .pattern = "/api/hosts/*", .fn = h_host_get, .admin = true },
	{ .method = "PATCH", .pattern = "/api/hosts/*", .fn = h_host_patch, .admin = true },
	{ .method = "GET", .pattern = "/api/jails", .fn = h_jails_list },
	{ .method = "POST", .pattern = "/api/jails", .fn = h_jails_create },
	{ .method = "GET", .pattern = "/api/jails/*", .fn = h_jail_get, .fast = h_jail_get_cached },
	{ .method = "GET", .pattern = "/api/jails/*/console", .fn = h_console },
	{ .method = "GET", .pattern = "/api/consoles", .fn = h_consoles_list },
	{ .method = "GET", .pattern = "/api/consoles/*", .fn = h_console_get },
	{ .method = "DELETE", .pattern = "/api/consoles/*", .fn = h_console_delete },
	{ .method = "GET", .pattern = "/api/consoles/*/recording", .fn = h_console_recording },
	{ .method = "PATCH", .pattern = "/api/jails/*", .fn = h_jail_patch },
	{ .method = "DELETE", .pattern = "/api/jails/*", .fn = h_jail_delete },
	{ .method = "POST", .pattern = "/api/jails/*/start", .fn = h_jail_start },
	{ .method = "POST", .pattern = "/api/jails/*/stop", .fn = h_jail_stop },
	{ .method = "POST", .pattern = "/api/jails/*/restart", .fn = h_jail_restart },
	{ .method = "POST", .pattern = "/api/jails/*/exec", .fn = h_jail_exec },
	{ .method = "GET", .pattern = "/api/jails/*/log", .fn = h_jail_log },
	{ .method = "GET", .pattern = "/api/jails/*/usage", .fn = h_jail_usage },
	{ .method = "GET", .pattern = "/api/tenants/*/usage", .fn = h_tenant_usage },
	{ .method = "GET", .pattern = "/api/jails/*/snapshots", .fn = h_snapshots_list },
	{ .method = "POST", .pattern = "/api/jails/*/snapshots", .fn = h_snapshots_create, .bulk = true },
	{ .method = "POST", .pattern = "/api/jails/*/snapshots/*/restore", .fn = h_snapshot_restore, .bulk = true },
	{ .method = "DELETE", .pattern = "/api/jails/*/snapshots/*", .fn = h_snapshot_delete, .bulk = true },
	{ .method = "POST", .pattern = "/api/jails/*/restore", .fn = h_jail_auto_restore, .bulk = true },
	{ .method = "GET", .pattern = "/api/jails/*/export", .fn = h_jail_export, .bulk = true },
	{ .method = "POST", .pattern = "/api/jails/import", .fn = h_jail_import, .upload = true, .bulk = true },
	{ .method = "GET", .pattern = "/api/templates", .fn = h_templates_list },
	{ .method = "POST", .pattern = "/api/templates", .fn = h_templates_create, .upload = true, .admin = true,
	  .tenants_told = "only admins publish templates" },
	{ .method = "GET", .pattern = "/api/operations", .fn = h_operations_list },
	{ .method = "GET", .pattern = "/api/operations/*", .fn = h_operation_get },
	{ .method = "DELETE", .pattern = "/api/operations/*", .fn = h_operation_cancel },
	{ .method = "DELETE", .pattern = "/api/templates/*", .fn = h_template_delete, .admin = true,
	  .tenants_told = "only admins delete templates" },
	{ .method = "GET", .pattern = "/api/tenants", .fn = h_tenants_list, .admin = true },
	{ .method = "POST", .pattern = "/api/tenants", .fn = h_tenants_create, .admin = true },
	{ .method = "GET", .pattern = "/api/tenants/*", .fn = h_tenant_get },
	{ .method = "PATCH", .pattern = "/api/tenants/*", .fn = h_tenant_patch, .admin = true },
	{ .method = "DELETE", .pattern = "/api/tenants/*", .fn = h_tenant_delete, .admin = true },
	{ .method = "GET", .pattern = "/api/tenants/*/tokens", .fn = h_tokens_list },
	{ .method = "POST", .pattern = "/api/tenants/*/tokens", .fn = h_tokens_create },
	{ .method = "DELETE", .pattern = "/api/tenants/*/tokens/*", .fn = h_token_delete },
	{ 0 },
};
