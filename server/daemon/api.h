/* api.h — the route table jaild serves. */
#ifndef JAILD_API_H
#define JAILD_API_H

#include "http.h"
#include "jails.h"

extern const struct route api_routes[];

/* api.c: shared by the handler files */
bool is_admin(const struct request *rq);
/* A jail the caller may see, or 404: another tenant's jail does not exist for it. */
int visible_jail(struct request *rq, struct response *rs, const char *name, struct jail_row *row, struct reply *live);

void h_jail_get(struct request *rq, struct response *rs);

/* api_snapshots.c */
void h_snapshots_list(struct request *rq, struct response *rs);
void h_snapshots_create(struct request *rq, struct response *rs);
void h_snapshot_restore(struct request *rq, struct response *rs);
void h_snapshot_delete(struct request *rq, struct response *rs);
void h_jail_auto_restore(struct request *rq, struct response *rs);

/* api_templates.c */
void h_templates_list(struct request *rq, struct response *rs);
void h_templates_create(struct request *rq, struct response *rs);
void h_template_delete(struct request *rq, struct response *rs);

/* api_archive.c */
void h_jail_export(struct request *rq, struct response *rs);
void h_jail_import(struct request *rq, struct response *rs);

/* api_console.c */
void h_console(struct request *rq, struct response *rs);
void h_consoles_list(struct request *rq, struct response *rs);
void h_console_get(struct request *rq, struct response *rs);
void h_console_delete(struct request *rq, struct response *rs);
void h_console_recording(struct request *rq, struct response *rs);

/* api_login.c */
int login_init(void);
int login_hash_password(const char *password, char out[128]);
void h_login(struct request *rq, struct response *rs);
void h_logout(struct request *rq, struct response *rs);
void h_users_list(struct request *rq, struct response *rs);
void h_users_create(struct request *rq, struct response *rs);
void h_user_delete(struct request *rq, struct response *rs);

/* api_tenants.c */
void h_tenants_list(struct request *rq, struct response *rs);
void h_tenants_create(struct request *rq, struct response *rs);
void h_tenant_get(struct request *rq, struct response *rs);
void h_tenant_delete(struct request *rq, struct response *rs);
void h_tenant_patch(struct request *rq, struct response *rs);
void h_tokens_list(struct request *rq, struct response *rs);
void h_tokens_create(struct request *rq, struct response *rs);
void h_token_delete(struct request *rq, struct response *rs);

#endif
