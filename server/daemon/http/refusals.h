/* refusals.h — the audit log's entries for refused requests (401, 429), folded: a
 * client sending thousands of requests a second that are refused would otherwise have
 * the store write a row for each (the refusal itself is cheap; the row is not), and the
 * log grow without bound. Internal to http/. */
#ifndef JAILD_HTTP_REFUSALS_H
#define JAILD_HTTP_REFUSALS_H

#include <stdbool.h>

#include "store/store.h"

/* Whether a's refusal is folded into its window (nothing to write now). If not, a is
 * written by the caller: the first of a new window. The window before it, if it folded
 * any, is written here first, as its last refusal with repeats set. One window a second
 * per source, token, status and action. */
bool refusal_fold(struct store *st, const struct audit_row *a);
/* Writes every window that folded refusals and is over (all: every one, at shutdown). */
void refusals_flush(struct store *st, bool all);

#endif
