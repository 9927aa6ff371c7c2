/* operations.h — long work that answers 202 at once and reports as it goes (API.md:
 * /api/operations): each runs on a thread of its own, writes its progress to the store
 * and as events (operation.progress, then operation.done, .failed or .cancelled), and
 * can be cancelled. An operation a previous run left running is failed at start. */
#ifndef JAILD_OPERATIONS_H
#define JAILD_OPERATIONS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "err.h"

struct operation;

/* What an operation does: returns its result (a new reference) or NULL with e set. It
 * calls op_progress as it goes and op_cancelled to see whether to stop. */
typedef json_t *(*op_run_fn)(struct operation *op, void *arg, struct err *e);

int operations_init(struct err *e);
/* Records the operation and starts it; id (33 bytes) names it. arg is the run's (it
 * frees it; free_arg is called either way). */
int op_start(const char *kind, const char *target, int64_t tenant_id, op_run_fn run, void *arg, void (*free_arg)(void *),
	     char id[33], struct err *e);
void op_progress(struct operation *op, int percent, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
bool op_cancelled(struct operation *op);
const char *op_id(const struct operation *op);
/* A process the operation waits on: cancelling signals it (SIGTERM; a negative pid is
 * a process group); 0 when none. */
void op_set_child(struct operation *op, pid_t pid);
/* Asks a running operation to stop: ERR_NOT_FOUND when no such operation runs here,
 * ERR_WRONG_STATE when it has already ended. */
int op_cancel(const char *id, struct err *e);
/* Running operations of a kind on a target (one build per template name at a time). */
bool op_running(const char *kind, const char *target);

#endif
