/* store.h — everything jaild keeps, in SQLite (WAL). Each change is one transaction;
 * allocation of a jail's uid slot and addresses happens in the transaction that
 * creates it, so two creates can never be given the same ones. */
#ifndef JAILD_STORE_H
#define JAILD_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"
#include "validate.h"

struct store;

struct jail_row {
	int64_t id;
	char name[64];
	int64_t tenant_id;
	char tenant[64];
	uint32_t slot;
	char state[16];
	int64_t pid;
	char error[512];
	int64_t version;
	int boot;
	int priority;
	char created_at[32];
	char started_at[32];
	char *spec; /* the canonical spec as JSON text; owned, freed by jail_row_clear */
	/* how its first process last ended on its own: exit_code, or exit_signal (> 0)
	 * when a signal ended it; exited_at "" when it has not */
	int exit_code, exit_signal;
	char exited_at[32];
	int64_t host_id; /* the host it lives on */
	char host[64];
};

struct token_info {
	int64_t id;        /* the token's id; 0 for a browser session */
	int64_t user_id;   /* a browser session's user; 0 for a token */
	char csrf[48];     /* a browser session's CSRF token */
	char name[64];
	int64_t tenant_id;
	char tenant[64];
	char role[16];
};

/* The store at where: a PostgreSQL connection URI (postgresql://...), else an SQLite
 * file, created if new; migrations applied. pools are the host's address pools. */
struct store *store_open(const char *where, const struct pool4 *p4, const struct pool6 *p6, struct err *e);
/* How many uid slots this host's range has: new jails take the slot after the highest
 * in use while it is below this, then the lowest free one (0, the default: always). */
void store_set_max_slots(struct store *s, uint32_t n);
/* Whether where names PostgreSQL (postgresql:// or postgres://). */
bool store_is_url(const char *where);
/* "sqlite" or "postgresql" */
const char *store_engine(const struct store *s);
/* A number that moves on whenever this process commits a change to any jail's row,
 * so a rendering of a jail cached with it is stale once it differs; 0 on a store
 * other hosts write too, where it proves nothing (nothing may be cached on 0). */
uint64_t store_generation(struct store *s);
/* A fresh store of its own that is gone when closed: for tests. */
struct store *store_open_temporary(const struct pool4 *p4, const struct pool6 *p6, struct err *e);
/* taken(addr) says an IPv4 address (host order) is in use outside this store (the host
 * routes it elsewhere): "auto" passes it over. */
void store_set_addr4_filter(struct store *s, bool (*taken)(uint32_t addr));
void store_close(struct store *s);

/* ---- the hosts sharing the store ---- */
struct host_claim {
	const char *name, *advertise, *pool4, *pool6;
	int64_t uid_base, cpus, memory;
};
/* Claims this host's row, for as long as this store stays open, and registers what
 * it offers: ERR_CONFLICT when another running jaild holds the name, or when its pools
 * overlap another host's. Jails from before there were hosts become this host's. */
int store_host_claim(struct store *s, const struct host_claim *c, struct err *e);
/* This host's id once claimed (0 before). */
int64_t store_host_id(const struct store *s);
/* "Alive now"; a claim lost with a broken connection is taken again. */
int store_host_heartbeat(struct store *s, const char *name, struct err *e);
struct host_row {
	int64_t id;
	char name[64];
	char advertise[256];
	char pool4[64], pool6[64];
	int64_t uid_base, cpus, memory;
	bool draining;
	int64_t silent_for; /* seconds since it last said it was alive */
	int64_t jails, committed_memory, ip4_used;
};
/* Least committed first. */
int store_host_list(struct store *s, void (*fn)(const struct host_row *, void *), void *arg, struct err *e);
int store_host_get(struct store *s, const char *name, struct host_row *out, struct err *e);
int store_host_set_draining(struct store *s, const char *name, bool draining, struct err *e);
int store_schema_version(struct store *s);

int store_tenant_lookup(struct store *s, const char *name, int64_t *id, struct err *e);
int store_tenant_ensure(struct store *s, const char *name, int64_t *id, struct err *e);
/* A tenant's quotas: -1 where none is set. Bytes for memoryuse and disk; ports:
 * port forwards. */
struct quotas {
	int64_t jails, memoryuse, maxproc, ip4, disk, ports;
};
#define QUOTA_COUNT 6
#define QUOTAS_NONE { -1, -1, -1, -1, -1, -1 }
/* The quotas by their names in the API (and the store's JSON), in struct order. */
extern const char *const quota_keys[QUOTA_COUNT];
int64_t *quota_field(struct quotas *q, size_t i);
bool quota_is_size(size_t i);

struct tenant_row {
	int64_t id;
	char name[64];
	char created_at[32];
	int64_t jails;
	struct quotas quotas;
	struct quotas usage;
	char templates[1024]; /* the templates it may use, a JSON array; "" for all */
	char mounts[2048];    /* host paths its jails may mount, a JSON array; "" for none */
	bool isolate_jails;   /* its jails do not reach each other either */
};
/* What a create or a change sets on a tenant, in one statement (so a request never
 * half-applies): the quotas; templates (a JSON array of names; NULL for all) when
 * set_templates; mounts (a JSON array of host paths; NULL for none) when set_mounts. */
struct tenant_change {
	struct quotas quotas;
	bool set_templates;
	const char *templates;
	bool set_mounts;
	const char *mounts;
	bool set_isolate;
	bool isolate_jails;
};
/* ERR_CONFLICT when the name is taken. */
int store_tenant_create(struct store *s, const char *name, const struct tenant_change *c, struct tenant_row *out, struct err *e);
/* Lowering a quota below current use is allowed (only new allocations are refused). */
int store_tenant_change(struct store *s, int64_t id, const struct tenant_change *c, struct err *e);
int store_tenant_get(struct store *s, const char *name, struct tenant_row *out, struct err *e);
bool store_template_allowed(struct store *s, int64_t tenant_id, const char *name);
/* Calls fn for every tenant that owns mount paths (its id and JSON array). */
int store_tenant_mounts_each(struct store *s, void (*fn)(int64_t id, const char *mounts, void *), void *arg, struct err *e);
int store_tenant_list(struct store *s, const char *after, int limit, void (*fn)(const struct tenant_row *, void *), void *arg,
		      struct err *e);
/* Removes the tenant and its tokens; ERR_WRONG_STATE while it owns jails. */
int store_tenant_delete(struct store *s, int64_t id, struct err *e);

struct token_row {
	int64_t id;
	char name[64];
	char role[16];
	char created_at[32];
	char expires_at[32];   /* "" for never */
	char last_used_at[32]; /* "" for never */
};
int store_token_add(struct store *s, int64_t tenant_id, const char *name, const char *role, const uint8_t hash[32], struct err *e);
/* The same, with an expiry ("" for never) and the new token's id. */
int store_token_add_full(struct store *s, int64_t tenant_id, const char *name, const char *role, const char *expires_at,
			 const uint8_t hash[32], int64_t *id, struct err *e);
int store_token_list(struct store *s, int64_t tenant_id, void (*fn)(const struct token_row *, void *), void *arg, struct err *e);
/* Revokes at once (every cached lookup is voided); ERR_NOT_FOUND unless the tenant owns it. */
int store_token_delete(struct store *s, int64_t tenant_id, int64_t token_id, struct err *e);
/* 0 found, -1 with ERR_NOT_FOUND when no live token has this hash. Answered from a
 * cache that every token write through this store voids. */
int store_token_lookup(struct store *s, const uint8_t hash[32], struct token_info *out, struct err *e);
/* The same from memory alone, never waiting on the database: false when the token
 * is not in the cache, or its once-a-minute use stamp is due (store_token_lookup
 * writes it), or the store is shared. */
bool store_token_cached(struct store *s, const uint8_t hash[32], struct token_info *out);
int store_token_count(struct store *s, int64_t *n, struct err *e);

int store_template_add(struct store *s, const char *name, const char *source, struct err *e);
bool store_template_exists(struct store *s, const char *name);
struct template_row {
	char name[64];
	char source[300];
	char sha256[65];     /* of the uploaded archive; "" otherwise */
	int64_t version;
	char created_at[32];
	char updated_at[32];
	int64_t jails;       /* jails made from it */
	char command[1024];      /* a jail's default first process, a JSON array; "" for jaild's default */
	char stop_command[1024]; /* its default stop_command, the same */
};
/* A new template, or (replace) a new version of one: version + 1. */
int store_template_put(struct store *s, const char *name, const char *source, const char *sha256, struct err *e);
int store_template_list(struct store *s, void (*fn)(const struct template_row *, void *), void *arg, struct err *e);
int store_template_get(struct store *s, const char *name, struct template_row *out, struct err *e);
int store_template_delete(struct store *s, const char *name, struct err *e);
/* What a template says about running it: JSON arrays, or NULL for jaild's defaults. */
int store_template_set_run(struct store *s, const char *name, const char *command, const char *stop_command, struct err *e);

/* Usage history: what one sample adds to a jail's buckets. */
struct usage_add {
	int64_t seconds, cpu_us, mem_byte_s, mem_limit_byte_s, disk_limit_byte_s, net_rx, net_tx;
};
/* Adds a sample taken at `at` into the jail's bucket of each length in res[] (n of them). */
int store_usage_add(struct store *s, int64_t tenant_id, const char *jail, int64_t at, const int64_t *res, int n,
		    const struct usage_add *u, struct err *e);
struct usage_row {
	char jail[64];
	int64_t t;
	struct usage_add u;
};
/* The buckets of length res from `from` (inclusive) to `to` (exclusive), of one jail
 * (jail non-NULL) or of all the tenant's, in time order. */
int store_usage_list(struct store *s, int64_t tenant_id, const char *jail, int64_t res, int64_t from, int64_t to,
		     void (*fn)(const struct usage_row *, void *), void *arg, struct err *e);
/* Removes buckets of length res that started before `before`. */
int store_usage_prune(struct store *s, int64_t res, int64_t before, struct err *e);

/* Long work (/api/operations). */
struct operation_row {
	char id[40];
	char kind[32];
	char target[64];
	int64_t tenant_id;
	char tenant[64];
	char state[16];     /* running, done, failed, cancelled */
	int64_t percent;
	char message[256];
	char result[4096];  /* JSON, or "" */
	char error[1024];   /* JSON {"code","message"}, or "" */
	char created_at[32];
	char updated_at[32];
};
int store_operation_add(struct store *s, const char *id, const char *kind, const char *target, int64_t tenant_id, struct err *e);
int store_operation_progress(struct store *s, const char *id, int percent, const char *message, struct err *e);
/* state: done (result: JSON), failed or cancelled (error: JSON). */
int store_operation_end(struct store *s, const char *id, const char *state, const char *result, const char *error, struct err *e);
int store_operation_get(struct store *s, const char *id, struct operation_row *out, struct err *e);
/* Newest first; tenant_id 0: all. */
int store_operation_list(struct store *s, int64_t tenant_id, int limit, void (*fn)(const struct operation_row *, void *), void *arg,
			 struct err *e);
/* Operations a previous run left "running": they failed when it ended. */
int store_operation_orphans(struct store *s, struct err *e);

/* A jail's addresses: in, as its spec asks ("auto" or an address); out, as allocated. */
struct jail_addrs {
	int n4, n6;
	char ip4[IP4_MAX][16];
	char ip6[IP6_MAX][46];
};
/* What a jail's row is written from: its addresses, the columns quotas sum (-1: no
 * limit), and its spec's text, made by render once the addresses are allocated (inside
 * the transaction; malloc'd, or NULL with e set). */
struct jail_write {
	struct jail_addrs addrs;
	int boot, priority;
	int64_t memoryuse, maxproc, disk;
	/* its port forwards' host ports: each belongs to one jail */
	int nports;
	struct {
		char proto[4]; /* "tcp", "udp" */
		int host_port;
	} ports[PORTS_MAX];
	char *(*render)(void *ctx, const struct jail_addrs *got, struct err *e);
	void *ctx;
};
/* Inserts a jail, its uid slot and "auto" addresses allocated from the pools; row is
 * filled with the stored jail. The tenant's quotas are checked in the same transaction
 * (ERR_QUOTA), so parallel creates can never pass them together. */
int store_jail_insert(struct store *s, const char *name, int64_t tenant_id, struct jail_write *w, struct jail_row *row, struct err *e);
int store_jail_get(struct store *s, const char *name, struct jail_row *row, struct err *e);
void jail_row_clear(struct jail_row *row);
/* Replaces the spec (addresses re-allocated) if version still matches; bumps version.
 * Quotas are checked in the same transaction. */
int store_jail_update_spec(struct store *s, const char *name, int64_t version, struct jail_write *w, struct err *e);
/* pid < 0 keeps the pid; error NULL clears it; started: set started_at to now. */
int store_jail_set_state(struct store *s, const char *name, const char *state, int64_t pid, const char *error, bool started, struct err *e);
int store_jail_delete(struct store *s, const char *name, struct err *e);
/* A running jail whose first process ended on its own: state "error" with message,
 * and how it ended (code, or sig > 0; at: unix time). */
int store_jail_exited(struct store *s, const char *name, int code, int sig, int64_t at, const char *message, struct err *e);

struct jail_filter {
	const char *state;   /* NULL: any */
	int64_t tenant_id;   /* 0: any */
	const char *after;   /* "" : from the start */
	int limit;
	bool by_boot_order;  /* boot jails only, in priority order */
	int64_t host_id;     /* 0: on any host */
};
/* Calls fn for each row (row is cleared after fn returns). Returns rows seen or -1. */
int store_jail_list(struct store *s, const struct jail_filter *f, void (*fn)(const struct jail_row *, void *), void *arg,
		    struct err *e);
/* The jails, and the addresses they hold, on this host. */
int store_jail_count(struct store *s, int64_t *n, struct err *e);
int store_ip4_used(struct store *s, int64_t *n, struct err *e);
/* Every port forward's host port and its jail (with the jail's state). */
int store_ports_each(struct store *s, void (*fn)(const char *proto, int host_port, const char *jail, const char *state, void *arg),
		     void *arg, struct err *e);

struct audit_row {
	int64_t id;
	char at[32];
	char request_id[40];
	int64_t token_id;   /* 0 when none */
	char actor[96];
	int64_t tenant_id;  /* 0 when none */
	char tenant[64];
	char action[96];
	char target[256];
	int status;
	char source[64];
	char link[128];     /* a related resource, e.g. a console's recording; "" if none */
	int64_t repeats;    /* refusals like it, before it in its second, folded into it (http/refusals.c) */
};
int store_audit_add(struct store *s, const struct audit_row *a, struct err *e);
struct audit_filter {
	int64_t tenant_id;   /* 0: all */
	int64_t before;      /* 0: from the newest; else ids below it */
	const char *action;  /* NULL: any; else a prefix, e.g. "POST /api/jails" */
	const char *target;  /* NULL: any; else exact path */
	int status;          /* 0: any */
	int limit;
};
/* Newest first. Returns rows seen or -1. */
int store_audit_list(struct store *s, const struct audit_filter *f, void (*fn)(const struct audit_row *, void *), void *arg,
		     struct err *e);

struct idem_row {
	uint8_t request_hash[32];
	int status;             /* 0: still running */
	char *response;         /* malloc'd */
	char location[192];
	char etag[40];
};
/* Reserves (token, key) for a new request: 0. When it exists (and is younger than a
 * day): ERR_CONFLICT with *found filled. Older entries are replaced. */
int store_idem_begin(struct store *s, int64_t token_id, const char *key, const uint8_t hash[32], struct idem_row *found,
		     struct err *e);
int store_idem_finish(struct store *s, int64_t token_id, const char *key, int status, const char *response,
		      const char *location, const char *etag, struct err *e);
void store_idem_abort(struct store *s, int64_t token_id, const char *key);

struct event_row {
	int64_t id;
	char at[32];
	char type[32];
	char target[128];
	char *data; /* JSON text, valid during the callback */
};
/* Appends an event and returns its id (0 on failure, logged). Events older than
 * keep_seconds are dropped as new ones come. */
int64_t store_event_add(struct store *s, int64_t tenant_id, const char *type, const char *target, const char *data_json,
			int64_t keep_seconds);
/* The newest event's id (0 when there is none). */
int64_t store_event_latest(struct store *s);
/* Calls changed(id) for every event added by any host sharing the store (and
 * changed(0) when some may have been missed); does not return. -1 at once when only
 * this process writes the store (SQLite). */
int store_events_watch(struct store *s, void (*changed)(int64_t id));
/* Events after `after`, oldest first; tenant_id 0: all. Returns rows or -1. */
int store_event_list(struct store *s, int64_t tenant_id, int64_t after, int limit, void (*fn)(const struct event_row *, void *),
		     void *arg, struct err *e);

/* Tenant users (browser login). ERR_CONFLICT when the name is taken in the tenant. */
int store_user_add(struct store *s, int64_t tenant_id, const char *name, const char *pwhash, struct err *e);
int store_user_delete(struct store *s, int64_t tenant_id, const char *name, struct err *e);
/* The stored argon2id hash and id of tenant/name; ERR_NOT_FOUND when none. */
int store_user_get(struct store *s, const char *tenant, const char *name, int64_t *user_id, char *pwhash, size_t n, struct err *e);
int store_user_list(struct store *s, int64_t tenant_id, void (*fn)(const char *name, const char *created_at, void *), void *arg,
		    struct err *e);
int store_session_add(struct store *s, const uint8_t hash[32], int64_t user_id, const char *csrf, const char *expires_at,
		      struct err *e);
/* A live session: who is filled as a tenant-role caller. ERR_NOT_FOUND when none. */
int store_session_lookup(struct store *s, const uint8_t hash[32], struct token_info *who, struct err *e);
void store_session_delete(struct store *s, const uint8_t hash[32]);

/* ---- snapshots ---- */
struct snapshot_row {
	char name[64];
	int64_t bytes;
	char created_at[32];
};
int store_snapshot_add(struct store *s, const char *jail, const char *name, int64_t bytes, struct err *e);
/* Oldest first; returns how many, or -1. */
int store_snapshot_list(struct store *s, const char *jail, void (*fn)(const struct snapshot_row *, void *), void *arg, struct err *e);
int store_snapshot_get(struct store *s, const char *jail, const char *name, struct snapshot_row *out, struct err *e);
int store_snapshot_delete(struct store *s, const char *jail, const char *name, struct err *e);
/* Running jails with a restore setting, and their schedule (unix seconds; 0: none). */
struct restore_row {
	char name[64];
	int64_t tenant_id;
	int64_t at, warn_at;
	char every[16], warn[16];
	char message[512];
};
int store_restore_list(struct store *s, void (*fn)(const struct restore_row *, void *), void *arg, struct err *e);
int store_set_restore_at(struct store *s, const char *jail, int64_t at, int64_t warn_at, struct err *e);

/* ---- console sessions ---- */
struct console_row {
	int64_t seq;        /* list cursor */
	char id[40];
	char jail[64];
	int64_t tenant_id;
	char tenant[64];
	int64_t token_id;
	char actor[96];
	char source[64];
	int cols, rows;
	char started_at[32];
	char ended_at[32];  /* "" while live */
	char end_reason[64];
	int64_t bytes_out;
	bool recording;     /* the file still exists */
};
int store_console_add(struct store *s, const struct console_row *c, struct err *e);
int store_console_end(struct store *s, const char *id, const char *reason, int64_t bytes_out, struct err *e);
/* Sessions a previous run left open (their terminals went with it): ended now. */
int store_console_end_stale(struct store *s, struct err *e);
int store_console_get(struct store *s, const char *id, struct console_row *c, struct err *e);
/* Newest first; tenant_id 0: all; jail NULL: any; before 0: from the newest, else seq below it. */
int store_console_list(struct store *s, int64_t tenant_id, const char *jail, int64_t before, int limit,
		       void (*fn)(const struct console_row *, void *), void *arg, struct err *e);
/* Ended sessions older than cutoff (store_now format) whose file remains: fn gets each
 * id (to remove the file), then they are marked as having none. */
int store_console_expire(struct store *s, const char *cutoff, int max, void (*fn)(const char *id, void *), void *arg,
			 struct err *e);

void store_now(char buf[32]);

#endif
