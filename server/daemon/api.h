/* api.h — the route table jaild serves. */
#ifndef JAILD_API_H
#define JAILD_API_H

#include "http.h"

extern const struct route api_routes[];

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
