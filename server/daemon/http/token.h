/* token.h — the bootstrap admin token: made once, shown once, stored only hashed. */
#ifndef JAILD_TOKEN_H
#define JAILD_TOKEN_H

#include "err.h"
#include "store/store.h"

/* When no token exists: makes one for the default tenant with role admin, writes it
 * to DIR/admin.token (0600) and prints it. */
/* A new secret ("jd_" + 43 url-safe characters, 256 random bits) and its SHA-256. */
void token_make(char secret[64], uint8_t hash[32]);

int token_bootstrap(struct store *st, const char *data_dir, int64_t tenant_id, struct err *e);

#endif
