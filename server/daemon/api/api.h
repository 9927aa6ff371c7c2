/* api.h — the route table jaild serves. */
#ifndef JAILD_API_H
#define JAILD_API_H

#include "http/http.h"
#include "core/jails.h"

extern const struct route api_routes[];

/* router.c: shared by the handler files */
bool is_admin(const struct request *rq);
/* Whether name is a valid jail name; a 422 in rs if not. */
bool jail_name_ok(struct response *rs, const char *name);
/* A jail the caller may see, or 404: another tenant's jail does not exist for it. */
int visible_jail(struct request *rq, struct response *rs, const char *name, struct jail_row *row);

/* The path's jail, visible to the caller; with_if_match also checks If-Match and
 * gives the version to require (-1: any). Returns -1 once a response is filled. */
int target_jail(struct request *rq, struct response *rs, bool with_if_match, int64_t *version);

/* jails.c */
void h_jails_list(struct request *rq, struct response *rs);
void h_operations_list(struct request *rq, struct response *rs);
void h_jail_usage(struct request *rq, struct response *rs);
void h_tenant_usage(struct request *rq, struct response *rs);
/* The path's tenant (params[0]) if the caller may see it; else a 404 (or 422) is filled. */
int visible_tenant(struct request *rq, struct response *rs, struct tenant_row *t);
json_t *operation_json(const struct operation_row *o);
void h_operation_get(struct request *rq, struct response *rs);
void h_operation_cancel(struct request *rq, struct response *rs);
void h_jails_create(struct request *rq, struct response *rs);
void h_jail_get(struct request *rq, struct response *rs);
bool h_jail_get_cached(struct request *rq, struct response *rs);
void h_jail_patch(struct request *rq, struct response *rs);
void h_jail_delete(struct request *rq, struct response *rs);
void h_jail_start(struct request *rq, struct response *rs);
void h_jail_stop(struct request *rq, struct response *rs);
void h_jail_restart(struct request *rq, struct response *rs);

/* metrics.c */
void h_metrics(struct request *rq, struct response *rs);

/* jail_log.c */
void h_jail_log(struct request *rq, struct response *rs);

/* jail_exec.c */
void h_jail_exec(struct request *rq, struct response *rs);

/* host.c, audit.c */
void h_host(struct request *rq, struct response *rs);
void h_hosts_list(struct request *rq, struct response *rs);
void h_host_get(struct request *rq, struct response *rs);
void h_host_patch(struct request *rq, struct response *rs);
void h_audit(struct request *rq, struct response *rs);

/* events.c: GET /api/events[?since=ID] (or Last-Event-ID): a server-sent-events stream */
void h_events(struct request *rq, struct response *rs);

/* snapshots.c */
void h_snapshots_list(struct request *rq, struct response *rs);
void h_snapshots_create(struct request *rq, struct response *rs);
void h_snapshot_restore(struct request *rq, struct response *rs);
void h_snapshot_delete(struct request *rq, struct response *rs);
void h_jail_auto_restore(struct request *rq, struct response *rs);

/* templates.c */
void h_templates_list(struct request *rq, struct response *rs);
void h_templates_create(struct request *rq, struct response *rs);
void h_template_delete(struct request *rq, struct response *rs);

/* archives.c */
void h_jail_export(struct request *rq, struct response *rs);
void h_jail_import(struct request *rq, struct response *rs);

/* consoles.c */
void h_console(struct request *rq, struct response *rs);
void h_consoles_list(struct request *rq, struct response *rs);
void h_console_get(struct request *rq, struct response *rs);
void h_console_delete(struct request *rq, struct response *rs);
void h_console_recording(struct request *rq, struct response *rs);

/* login.c */
int login_init(void);
int login_hash_password(const char *password, char out[128]);
void h_login(struct request *rq, struct response *rs);
void h_logout(struct request *rq, struct response *rs);
void h_users_list(struct request *rq, struct response *rs);
void h_users_create(struct request *rq, struct response *rs);
void h_user_delete(struct request *rq, struct response *rs);

/* tenants.c */
void h_tenants_list(struct request *rq, struct response *rs);
void h_tenants_create(struct request *rq, struct response *rs);
void h_tenant_get(struct request *rq, struct response *rs);
void h_tenant_delete(struct request *rq, struct response *rs);
void h_tenant_patch(struct request *rq, struct response *rs);
void h_tokens_list(struct request *rq, struct response *rs);
void h_tokens_create(struct request *rq, struct response *rs);
void h_token_delete(struct request *rq, struct response *rs);

#endif
