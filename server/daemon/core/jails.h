/* jails.h — the jail lifecycle: the store says what should be, the helper makes it
 * so. One operation per jail at a time (a second one answers 409 busy); the state
 * written to the store is never half-done. */
#ifndef JAILD_JAILS_H
#define JAILD_JAILS_H

#include <jansson.h>
#include <stdbool.h>

#include "err.h"
#include "core/jail_spec.h"
#include "proto.h"
#include "store/store.h"

/* The jails' network as configured (the helper applies it; GET /api/host shows it). */
struct net_settings {
	char pool4_mode[8], pool6_mode[8], egress_default[8];
	char dns[256]; /* the dns setting; "" for the host's resolvers */
};

struct jaild {
	struct store *st;
	struct host_rules rules;
	struct net_settings net;
	char lxcfs[256]; /* lxcfs's mount point, "none" */
	char data_dir[256];
	char listen[128];
	int64_t default_tenant;
	bool tls;
};
extern struct jaild J;

bool jail_busy_acquire(const char *name);
void jail_busy_release(const char *name);

/* Each takes the busy lock itself. row receives the jail afterwards. */
int jail_create(const struct token_info *who, json_t *body, bool start, struct jail_row *row, struct err *e);
/* The same with the files from an export's tar stream (import_fd) instead of the template. */
int jail_create_from(const struct token_info *who, json_t *body, bool start, int import_fd, struct jail_row *row, struct err *e);
int jail_start(const char *name, struct err *e);
int jail_stop(const char *name, struct err *e);
int jail_destroy(const char *name, struct err *e);
int jail_patch(const char *name, int64_t version, json_t *patch, struct err *e);
/* The names of the jails f selects (v malloc'd: free it). */
struct jail_names {
	char (*v)[NAME_SIZE];
	size_t n;
};
int jail_names(const struct jail_filter *f, struct jail_names *out, struct err *e);
/* A tenant's network setting changed: its running jails get it now. */
int jail_net_refresh_tenant(int64_t tenant_id);

/* Snapshots (each takes the busy lock). restore stops a running jail first and starts
 * it again after. */
int jail_snapshot_create(const char *name, const char *snap, struct snapshot_row *out, struct err *e);
int jail_snapshot_restore(const char *name, const char *snap, struct err *e);
int jail_snapshot_delete(const char *name, const char *snap, struct err *e);
/* Auto-restore: (warn: the restore message to the jail's terminals first,) then its
 * files back as restore.snapshot has them. by: who asked, for the log. */
int jail_auto_restore(const char *name, bool warn, const char *by, struct err *e);
/* The message, like wall(1), to every console session and terminal of the jail. */
void jail_restore_warn(const char *name, const char *message);

struct exec_result {
	int exit_code;
	bool timed_out;
	char *out, *err;    /* malloc'd, NUL-terminated; binary-safe lengths below */
	size_t out_len, err_len;
	bool out_truncated, err_truncated;
};
/* Streaming instead of collecting: started() once the command runs (an error before
 * that is jail_exec's answer; after it, the last word); output() with each chunk as it
 * comes (fd 1 or 2), nothing buffered, and res->out/err stay empty. */
struct exec_stream {
	void (*started)(void *arg);
	void (*output)(void *arg, int fd, const char *buf, size_t n);
	void *arg;
};
/* A command as the API layer parsed it: argv (argc strings), bytes for its stdin
 * (NULL: none), and the seconds it may run (1 to 3600). */
struct exec_request {
	const char *argv[ARGV_MAX + 1];
	size_t argc;
	const char *stdin_data;
	size_t stdin_len;
	int64_t timeout;
};
int jail_exec(const char *name, const struct exec_request *rq, struct exec_result *res, const struct exec_stream *stream,
	      struct err *e);

/* The jail's log (its first process's stdout and stderr), read-only: *fd, ours. */
int jail_log_open(const char *name, int *fd, struct err *e);
/* Whether the store has the jail running (or starting). */
bool jail_is_running(const char *name);
/* The jail's stored row (owner, spec, version, state), nothing asked of the helper:
 * what an action on the jail needs to know who may act on it. */
int jail_row_get(const char *name, struct jail_row *row, struct err *e);
/* The stored row and, for a running jail, how it really is (*live, from the helper;
 * shown as stopping if its first process exited, which the monitor then records). */
int jail_read(const char *name, struct jail_row *row, struct reply *live, struct err *e);
/* A running jail's usage as the monitor last saw it (every few seconds), without
 * asking the helper: for /metrics. */
/* The jail's usage as the helper tells it now (and remembered for jail_usage_last). */
int jail_usage_now(const char *name, struct reply *out);
bool jail_usage_last(const char *name, struct reply *out);
/* The monitor's: a jail the store has running whose first process is gone is recorded
 * stopped (its cgroup and interface go, an event says why). */
void jail_note_exit(const char *name);
json_t *jail_to_json(const struct jail_row *row, const struct reply *live);
/* A jail's JSON as GET /api/jails/{name} sends it (text: malloc'd, the caller's), with
 * the tenant it belongs to and its version (the ETag). */
struct jail_view {
	char *text;
	size_t len;
	int64_t tenant_id, version;
};
/* Read (as jail_read) and rendered; the rendering is kept for jail_view_cached. */
int jail_view(const char *name, struct jail_view *out, struct err *e);
/* The kept rendering, if nothing it shows has changed since: from memory only. */
bool jail_view_cached(const char *name, struct jail_view *out);
/* The same as JSON text appended to *buf (grown with realloc), from row->spec
 * without parsing it: for long listings. */
/* A running jail's live usage (cached for a second), without touching its state. */
bool jail_usage(const struct jail_row *row, struct reply *live);
/* Appends the jail's JSON (its stored spec text, status fields and live usage) to buf. */
int jail_append_text(const struct jail_row *row, const struct reply *live, char **buf, size_t *len, size_t *cap);

#endif
