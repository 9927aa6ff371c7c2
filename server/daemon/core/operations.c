#include "core/operations.h"

#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "core/events.h"
#include "core/jails.h"
#include "log.h"
#include "thread.h"

struct operation {
	char id[33];
	char kind[32];
	char target[64];
	int64_t tenant_id;
	op_run_fn run;
	void *arg;
	void (*free_arg)(void *);
	bool cancel;
	pid_t child;
	int last_percent;
	struct operation *next;
};

/* The operations running in this process: cancel needs to find them. */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct operation *running;

int operations_init(struct err *e)
{
	return store_operation_orphans(J.st, e);
}

static json_t *event_data(const struct operation *op, const char *state)
{
	/* "operation", not "id": an event's own id is its place in the stream */
	return json_pack("{sssssssi}", "operation", op->id, "kind", op->kind, "state", state, "percent", op->last_percent);
}

void op_progress(struct operation *op, int percent, const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	struct err e;
	/* progress only goes forward */
	if (percent < op->last_percent)
		percent = op->last_percent;
	op->last_percent = percent > 99 ? 99 : percent;
	if (store_operation_progress(J.st, op->id, op->last_percent, msg, &e) < 0)
		log_warn("operation %s: %s", op->id, e.msg);
	json_t *d = event_data(op, "running");
	json_object_set_new(d, "message", json_string(msg));
	events_emit(op->tenant_id, "operation.progress", op->target, d);
}

const char *op_id(const struct operation *op)
{
	return op->id;
}

bool op_cancelled(struct operation *op)
{
	pthread_mutex_lock(&mu);
	bool c = op->cancel;
	pthread_mutex_unlock(&mu);
	return c;
}

void op_set_child(struct operation *op, pid_t pid)
{
	pthread_mutex_lock(&mu);
	op->child = pid;
	bool kill_now = op->cancel && pid != 0;
	pthread_mutex_unlock(&mu);
	if (kill_now)
		kill(pid, SIGTERM);
}

static void unlink_op(struct operation *op)
{
	pthread_mutex_lock(&mu);
	for (struct operation **p = &running; *p; p = &(*p)->next)
		if (*p == op) {
			*p = op->next;
			break;
		}
	pthread_mutex_unlock(&mu);
}

static void *op_thread(void *arg)
{
	struct operation *op = arg;
	struct err e = { 0 };
	json_t *result = op->run(op, op->arg, &e);
	bool cancelled = op_cancelled(op);
	struct err se;
	if (result && !cancelled) {
		char *text = json_dumps(result, JSON_COMPACT);
		store_operation_end(J.st, op->id, "done", text, NULL, &se);
		free(text);
		op->last_percent = 100;
		json_t *d = event_data(op, "done");
		json_object_set(d, "result", result);
		events_emit(op->tenant_id, "operation.done", op->target, d);
		log_info("operation %s (%s %s) done", op->id, op->kind, op->target);
	} else {
		if (cancelled)
			err_set(&e, ERR_WRONG_STATE, "cancelled");
		json_t *error = json_pack("{ssss}", "code", err_code_name(e.code), "message", e.msg);
		char *text = json_dumps(error, JSON_COMPACT);
		const char *state = cancelled ? "cancelled" : "failed";
		store_operation_end(J.st, op->id, state, NULL, text, &se);
		free(text);
		json_t *d = event_data(op, state);
		json_object_set_new(d, "error", error);
		events_emit(op->tenant_id, cancelled ? "operation.cancelled" : "operation.failed", op->target, d);
		log_info("operation %s (%s %s) %s: %s", op->id, op->kind, op->target, state, e.msg);
	}
	json_decref(result);
	unlink_op(op);
	if (op->free_arg)
		op->free_arg(op->arg);
	free(op);
	return NULL;
}

int op_start(const char *kind, const char *target, int64_t tenant_id, op_run_fn run, void *arg, void (*free_arg)(void *),
	     char id[33], struct err *e)
{
	struct operation *op = calloc(1, sizeof *op);
	if (!op) {
		if (free_arg)
			free_arg(arg);
		return err_set(e, ERR_INTERNAL, "out of memory");
	}
	unsigned char raw[16];
	randombytes_buf(raw, sizeof raw);
	sodium_bin2hex(op->id, sizeof op->id, raw, sizeof raw);
	snprintf(op->kind, sizeof op->kind, "%s", kind);
	snprintf(op->target, sizeof op->target, "%s", target);
	op->tenant_id = tenant_id;
	op->run = run;
	op->arg = arg;
	op->free_arg = free_arg;
	if (store_operation_add(J.st, op->id, kind, target, tenant_id, e) < 0) {
		if (free_arg)
			free_arg(arg);
		free(op);
		return -1;
	}
	pthread_mutex_lock(&mu);
	op->next = running;
	running = op;
	pthread_mutex_unlock(&mu);
	snprintf(id, 33, "%s", op->id);
	events_emit(tenant_id, "operation.created", target, event_data(op, "running"));
	if (thread_detached(op_thread, op) != 0) {
		struct err se;
		unlink_op(op);
		store_operation_end(J.st, op->id, "failed", NULL, "{\"code\":\"internal_error\",\"message\":\"no thread\"}", &se);
		if (free_arg)
			free_arg(arg);
		free(op);
		return err_set(e, ERR_INTERNAL, "starting the operation: out of threads");
	}
	return 0;
}

int op_cancel(const char *id, struct err *e)
{
	pid_t child = 0;
	bool found = false;
	pthread_mutex_lock(&mu);
	for (struct operation *op = running; op; op = op->next)
		if (strcmp(op->id, id) == 0) {
			op->cancel = true;
			child = op->child;
			found = true;
		}
	pthread_mutex_unlock(&mu);
	if (!found)
		return err_set(e, ERR_WRONG_STATE, "operation %s has ended; only a running operation can be cancelled", id);
	if (child != 0)
		kill(child, SIGTERM);
	return 0;
}

bool op_running(const char *kind, const char *target)
{
	bool found = false;
	pthread_mutex_lock(&mu);
	for (struct operation *op = running; op && !found; op = op->next)
		found = strcmp(op->kind, kind) == 0 && strcmp(op->target, target) == 0;
	pthread_mutex_unlock(&mu);
	return found;
}
