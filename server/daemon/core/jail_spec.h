/* jail_spec.h — a jail's spec as users write it (JSON, jail.conf names) and as the
 * helper receives it (struct jail_spec). The canonical JSON has every field, with
 * defaults filled in; it is what the store keeps. */
#ifndef JAILD_JAIL_SPEC_H
#define JAILD_JAIL_SPEC_H

#include <jansson.h>
#include <stdbool.h>

#include "err.h"
#include "spec.h"
#include "store/store.h"

struct host_rules {
	struct pool4 pool4;
	struct pool6 pool6;
	char allow_mounts[16][256];
	int nallow_mounts;
	/* what a jail gets for a limit its spec leaves out (-1: none): no jail runs
	 * without a pids and a memory limit unless the admin says so */
	struct jail_limits defaults;
};

/* Checks a create body and returns its canonical form (new reference) or NULL. */
json_t *jail_spec_from_request(json_t *body, const struct host_rules *h, struct err *e);
/* RFC 7396: target with patch merged in (a new reference): objects merge key by key,
 * null removes a key, anything else replaces. */
json_t *json_merge_patch(json_t *target, json_t *patch);
/* Applies a PATCH body (a merge patch) to a canonical spec; returns the new canonical spec or NULL.
 * *needs_stop is set when a changed field only applies to a stopped jail (addresses). */
json_t *jail_spec_patch(json_t *canon, json_t *patch, const struct host_rules *h, bool *addresses_changed, struct err *e);
/* The fixed-size form for the helper. */
int jail_spec_to_wire(json_t *canon, const char *name, const struct host_rules *h, struct jail_spec *out, struct err *e);
/* A stored jail's spec, parsed (a new reference; an empty object if it is damaged). */
json_t *jail_spec_of(const struct jail_row *row);
/* What the store writes for canon (a canonical spec): its addresses, limits, boot
 * order, and a render that puts the allocated addresses into canon (borrowed: it must
 * outlive the store call) and returns its text. */
void jail_write_of(json_t *canon, struct jail_write *w);
/* The limits a jail runs with: its spec's, and the host's defaults for those it leaves out. */
void jail_limits_of(json_t *canon, const struct host_rules *h, struct jail_limits *out);

#endif
