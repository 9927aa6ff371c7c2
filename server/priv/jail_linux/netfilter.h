/* netfilter.h — the packet rules of jails, in one nftables table per jaild instance
 * (inet jaild_TAG), shaped like pf anchors: a fixed base, and per running jail two
 * chains (what it sends, what reaches it), reached through verdict maps keyed by its
 * host-side interface, plus its port forwards as elements of a DNAT map. Starting,
 * changing and stopping a jail each is one atomic nft transaction that touches only
 * that jail's part; a jail interface the table does not know is dropped. */
#ifndef JAILD_NETFILTER_H
#define JAILD_NETFILTER_H

#include <stdbool.h>

#include "../ctx.h"
#include "err.h"
#include "runrec.h"

#define JAIL_IF_PREFIX "jd"

/* The base table with every running jail's part (from their netrecs): at the helper's
 * start, and whenever a jail's own transaction fails (the records are the truth). */
int nf_setup(struct priv_ctx *c, struct err *e);
/* Puts a jail's rules in place (old: what was applied before, or NULL), checking first
 * that no other running jail forwards one of its host ports and that the host itself
 * listens on none of them. Writes the jail's netrec. */
int nf_jail_apply(struct priv_ctx *c, const char *name, const struct netrec *old, const struct netrec *now, struct err *e);
/* Takes a stopped jail's rules out (r: its netrec) and removes the netrec. */
void nf_jail_remove(struct priv_ctx *c, const char *name, const struct netrec *r);
/* Notes in c->net_note another table that drops forwarded traffic by default. */
void nf_foreign_drops(struct priv_ctx *c);
/* Removes the whole table (no jail runs and the helper leaves). */
void nf_teardown(struct priv_ctx *c);

#endif
