#include "core/jails.h"
#include "core/cluster.h"
#include "listeners.h"
#include "signals.h"
#include "os/os.h"
#include "core/exec_gate.h"
#include "core/mount_owners.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/events.h"
#include "core/console.h"
#include "validate.h"
#include "log.h"
#include "core/priv_client.h"
#include "core/reconcile.h"
#include "proto.h"

struct jaild J;

/* ---- one operation per jail ---- */

#define BUSY_MAX 1024
static pthread_mutex_t busy_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t busy_cv = PTHREAD_COND_INITIALIZER;
static struct {
	char name[NAME_SIZE];
	bool housekeeping; /* the monitor's (recording an exit): short, so others wait for it */
} busy[BUSY_MAX];

/* Takes the jail's flag. A user's operation that finds the monitor's housekeeping on
 * the jail waits for it (a few seconds at most) rather than being told "busy" for work
 * it did not ask for; another user operation under way is a "busy" at once. */
static bool busy_take(const char *name, bool housekeeping)
{
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 5;
	pthread_mutex_lock(&busy_mu);
	for (;;) {
		int free_slot = -1, held = -1;
		for (int i = 0; i < BUSY_MAX && held < 0; i++) {
			if (busy[i].name[0] && strcmp(busy[i].name, name) == 0)
				held = i;
			else if (!busy[i].name[0] && free_slot < 0)
				free_slot = i;
		}
		if (held < 0 && free_slot >= 0) {
			snprintf(busy[free_slot].name, NAME_SIZE, "%s", name);
			busy[free_slot].housekeeping = housekeeping;
			pthread_mutex_unlock(&busy_mu);
			return true;
		}
		if (held < 0 || housekeeping || !busy[held].housekeeping || pthread_cond_timedwait(&busy_cv, &busy_mu, &until) != 0) {
			pthread_mutex_unlock(&busy_mu);
			return false;
		}
	}
}

bool jail_busy_acquire(const char *name)
{
	return busy_take(name, false);
}

void jail_busy_release(const char *name)
{
	pthread_mutex_lock(&busy_mu);
	for (int i = 0; i < BUSY_MAX; i++)
		if (busy[i].name[0] && strcmp(busy[i].name, name) == 0)
			busy[i].name[0] = '\0';
	pthread_cond_broadcast(&busy_cv);
	pthread_mutex_unlock(&busy_mu);
}

static int busy_err(const char *name, struct err *e)
{
	return err_set(e, ERR_BUSY, "another operation on jail %s is under way; retry when it is done", name);
}

/* ---- helper calls ---- */

/* A forward must not take a port from a service of the host's own (sshd, jaild):
 * refused before anything is stored (the helper refuses it again). A port the jail
 * already forwards stays its own. */
static int ports_check_host(json_t *spec, json_t *old, struct err *e)
{
	size_t i, k;
	json_t *p, *q;
	json_array_foreach(json_object_get(spec, "ports"), i, p) {
		const char *proto = json_string_value(json_object_get(p, "proto"));
		json_int_t port = json_integer_value(json_object_get(p, "host_port"));
		bool had = false;
		json_array_foreach(json_object_get(old, "ports"), k, q)
			had |= json_equal(json_object_get(q, "proto"), json_object_get(p, "proto")) &&
			       json_integer_value(json_object_get(q, "host_port")) == port;
		if (!had && host_serves_port(strcmp(proto, "tcp") == 0, (unsigned)port)) {
			char f[48];
			snprintf(f, sizeof f, "ports[%zu].host_port", i);
			return err_field(e, ERR_CONFLICT, f,
					 "the host itself serves %s port %d; a forward would take it from the host's service; choose "
					 "another host_port",
					 proto, (int)port);
		}
	}
	return 0;
}

/* Jails of one tenant reach each other on their addresses unless the tenant says not:
 * the helper is told the tenant's number, or 0 for "no one". */
static uint32_t net_tenant(const struct jail_row *row)
{
	struct tenant_row t;
	struct err ignored;
	if (store_tenant_get(J.st, row->tenant, &t, &ignored) < 0 || t.isolate_jails)
		return 0;
	return (uint32_t)row->tenant_id;
}

static int helper_spec_call(uint32_t type, const struct jail_row *row, struct reply *out, struct err *e)
{
	static __thread struct req_spec req; /* 17 KiB: not on a connection thread's stack */
	memset(&req, 0, sizeof req);
	req.h = priv_hdr(type);
	req.slot = row->slot;
	json_t *spec = jail_spec_of(row);
	int rc = jail_spec_to_wire(spec, row->name, &J.rules, &req.spec, e);
	json_decref(spec);
	req.spec.net.tenant = net_tenant(row);
	return rc ? -1 : priv_call(&req, NULL, 0, out, e);
}

/* A running jail's forwards, firewall and bandwidth, from its spec, changed in place. */
static int helper_net_set(const struct jail_row *row, json_t *spec, struct err *e)
{
	static __thread struct req_spec tmp;
	struct req_net req;
	struct reply out;
	if (jail_spec_to_wire(spec, row->name, &J.rules, &tmp.spec, e))
		return -1;
	memset(&req, 0, sizeof req);
	req.h = priv_hdr(MSG_NET_SET);
	snprintf(req.name, sizeof req.name, "%s", row->name);
	req.net = tmp.spec.net;
	req.net.tenant = net_tenant(row);
	return priv_call(&req, NULL, 0, &out, e);
}

static int helper_stop(const struct jail_row *row, struct err *e)
{
	struct req_stop req;
	struct reply out;
	console_end_jail(row->name, "the jail is stopping");
	memset(&req, 0, sizeof req);
	req.h = priv_hdr(MSG_STOP);
	snprintf(req.name, sizeof req.name, "%s", row->name);
	json_t *spec = jail_spec_of(row);
	req.timeout = (uint32_t)json_integer_value(json_object_get(spec, "stop_timeout"));
	struct jail_spec tmp;
	int rc = jail_spec_to_wire(spec, row->name, &J.rules, &tmp, e);
	json_decref(spec);
	if (rc)
		return -1;
	req.stop_command = tmp.stop_command;
	return priv_call(&req, NULL, 0, &out, e);
}

static int helper_name_call(uint32_t type, const char *name, struct reply *out, struct err *e)
{
	struct req_name req;
	memset(&req, 0, sizeof req);
	req.h = priv_hdr(type);
	snprintf(req.name, sizeof req.name, "%s", name);
	return priv_call(&req, NULL, 0, out, e);
}

/* ---- lifecycle (busy lock held by the caller) ---- */

/* What a start leaves in the store: running with its pid, or error with the reason. */
static int start_done(const struct jail_row *row, const struct reply *out, struct err *e)
{
	const char *name = row->name;
	int rc = store_jail_set_state(J.st, name, "running", out->pid, NULL, true, e);
	struct err ignored;
	store_set_restore_at(J.st, name, 0, 0, &ignored); /* auto-restore: a new period from now */
	log_info("jail %s started (pid %lld)", name, (long long)out->pid);
	events_emit(row->tenant_id, "jail.started", name, json_pack("{sssssI}", "name", name, "state", "running", "pid", (json_int_t)out->pid));
	return rc;
}

static void start_failed(const struct jail_row *row, const struct err *e)
{
	/* a jail that could not start is stopped, with the reason kept */
	const char *name = row->name;
	store_jail_set_state(J.st, name, e->code == ERR_UNAVAILABLE ? "stopped" : "error", 0, e->msg, false, NULL);
	events_emit(row->tenant_id, "jail.error", name, json_pack("{sssss}", "name", name, "state", "error", "error", e->msg));
}

static int do_start(const char *name, struct err *e)
{
	struct jail_row row = { 0 };
	struct reply out;
	if (store_jail_get(J.st, name, &row, e))
		return -1;
	int rc = -1;
	if (strcmp(row.state, "running") == 0) {
		err_set(e, ERR_WRONG_STATE, "jail %s is already running", name);
		goto out;
	}
	if (!priv_available()) {
		err_set(e, ERR_UNAVAILABLE, "%s", priv_unavailable_reason());
		goto out;
	}
	store_jail_set_state(J.st, name, "starting", 0, NULL, false, NULL);
	if (helper_spec_call(MSG_START, &row, &out, e))
		start_failed(&row, e);
	else
		rc = start_done(&row, &out, e);
out:
	jail_row_clear(&row);
	return rc;
}

static int do_stop(const char *name, struct err *e)
{
	struct jail_row row = { 0 };
	if (store_jail_get(J.st, name, &row, e))
		return -1;
	int rc = -1;
	store_jail_set_state(J.st, name, "stopping", -1, NULL, false, NULL);
	if (helper_stop(&row, e)) {
		store_jail_set_state(J.st, name, row.state, -1, NULL, false, NULL);
		goto out;
	}
	rc = store_jail_set_state(J.st, name, "stopped", 0, NULL, false, e);
	log_info("jail %s stopped", name);
	events_emit(row.tenant_id, "jail.stopped", name, json_pack("{ssss}", "name", name, "state", "stopped"));
out:
	jail_row_clear(&row);
	return rc;
}

/* ---- snapshots ---- */

static int helper_snap(uint32_t type, const char *name, const char *snap, struct reply *out, struct err *e)
{
	struct req_snap r;
	memset(&r, 0, sizeof r);
	r.h = priv_hdr(type);
	snprintf(r.name, sizeof r.name, "%s", name);
	snprintf(r.snap, sizeof r.snap, "%s", snap);
	return priv_call(&r, NULL, 0, out, e);
}

static int check_snap_name(const char *snap, struct err *e)
{
	return valid_name(snap) ? 0 : err_field(e, ERR_INVALID, "name", "snapshot name must be 1 to 63 lowercase letters, digits and dashes, starting with a letter or digit");
}

int jail_snapshot_create(const char *name, const char *snap, struct snapshot_row *out, struct err *e)
{
	if (check_snap_name(snap, e))
		return -1;
	if (!jail_busy_acquire(name))
		return busy_err(name, e);
	struct jail_row row = { 0 };
	struct reply rep;
	struct err ignored;
	int rc = store_jail_get(J.st, name, &row, e);
	if (rc == 0 && store_snapshot_get(J.st, name, snap, out, &ignored) == 0)
		rc = err_field(e, ERR_CONFLICT, "name", "jail %s already has a snapshot named %s", name, snap);
	if (rc == 0)
		rc = helper_snap(MSG_SNAP_CREATE, name, snap, &rep, e);
	if (rc == 0 && store_snapshot_add(J.st, name, snap, rep.bytes, e) < 0) {
		helper_snap(MSG_SNAP_DELETE, name, snap, &rep, &ignored); /* nothing on disk the store does not know */
		rc = -1;
	}
	if (rc == 0 && store_snapshot_get(J.st, name, snap, out, e) == 0) {
		log_info("jail %s: snapshot %s taken (%lld bytes)", name, snap, (long long)out->bytes);
		events_emit(row.tenant_id, "jail.snapshot", name, json_pack("{ssss}", "name", name, "snapshot", snap));
	}
	jail_row_clear(&row);
	jail_busy_release(name);
	return rc;
}

static int do_restore(const char *name, const char *snap, struct err *e)
{
	struct jail_row row = { 0 };
	struct snapshot_row p;
	if (store_jail_get(J.st, name, &row, e) || store_snapshot_get(J.st, name, snap, &p, e)) {
		jail_row_clear(&row);
		return -1;
	}
	bool was_running = strcmp(row.state, "running") == 0;
	struct reply rep;
	int rc = was_running ? do_stop(name, e) : 0;
	if (rc == 0)
		rc = helper_snap(MSG_SNAP_RESTORE, name, snap, &rep, e);
	if (rc == 0) {
		log_info("jail %s restored from snapshot %s", name, snap);
		events_emit(row.tenant_id, "jail.restored", name, json_pack("{ssss}", "name", name, "snapshot", snap));
	}
	/* started again even when the restore failed: the jail was running before */
	if (was_running) {
		struct err se;
		if (do_start(name, rc == 0 ? e : &se) < 0 && rc == 0)
			rc = -1;
	}
	jail_row_clear(&row);
	return rc;
}

/* A snapshot operation on the jail, its snapshot name checked, under its busy flag. */
static int snap_op(const char *name, const char *snap, int (*op)(const char *name, const char *snap, struct err *e), struct err *e)
{
	if (check_snap_name(snap, e))
		return -1;
	if (!jail_busy_acquire(name))
		return busy_err(name, e);
	int rc = op(name, snap, e);
	jail_busy_release(name);
	return rc;
}

int jail_snapshot_restore(const char *name, const char *snap, struct err *e)
{
	return snap_op(name, snap, do_restore, e);
}

static int do_snap_delete(const char *name, const char *snap, struct err *e)
{
	struct snapshot_row p;
	struct reply rep;
	struct err he;
	int rc = store_snapshot_get(J.st, name, snap, &p, e);
	/* gone from the disk already is fine: the store's record goes too */
	if (rc == 0 && helper_snap(MSG_SNAP_DELETE, name, snap, &rep, &he) < 0 && he.code != ERR_NOT_FOUND) {
		*e = he;
		rc = -1;
	}
	return rc == 0 ? store_snapshot_delete(J.st, name, snap, e) : rc;
}

int jail_snapshot_delete(const char *name, const char *snap, struct err *e)
{
	return snap_op(name, snap, do_snap_delete, e);
}

/* The warning, like wall(1): into every console session of the jail, and onto the
 * jail's other terminals by a shell inside (best effort: the jail may have no shell). */
void jail_restore_warn(const char *name, const char *message)
{
	char text[700], skip[512] = "";
	snprintf(text, sizeof text, "\r\n*** jaild: %s ***\r\n", message);
	console_broadcast(name, text, skip, sizeof skip);
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null < 0)
		return;
	struct req_exec r;
	memset(&r, 0, sizeof r);
	r.h = priv_hdr(MSG_EXEC);
	snprintf(r.name, sizeof r.name, "%s", name);
	r.timeout = 5;
	char line[600];
	snprintf(line, sizeof line, "*** jaild: %s ***", message);
	const char *argv[] = { "/bin/sh", "-c",
			       "for t in /dev/pts/[0-9]*; do case \" $2 \" in *\" ${t#/dev/pts/} \"*) continue;; esac; "
			       "printf '\\r\\n%s\\r\\n' \"$1\" > \"$t\" 2>/dev/null; done",
			       "wall", line, skip };
	struct err e;
	struct reply out;
	int fds[3] = { null, null, null };
	if (argv_pack(&r.argv, argv, 6, "command", &e) == 0)
		priv_call(&r, fds, 3, &out, &e);
	close(null);
}

int jail_auto_restore(const char *name, bool warn, const char *by, struct err *e)
{
	if (!jail_busy_acquire(name))
		return busy_err(name, e);
	struct jail_row row = { 0 };
	int rc = store_jail_get(J.st, name, &row, e);
	json_t *spec = rc == 0 ? jail_spec_of(&row) : NULL;
	json_t *restore = spec ? json_object_get(spec, "restore") : NULL;
	if (rc == 0 && !restore)
		rc = err_field(e, ERR_PRECONDITION, "restore", "jail %s has no restore setting; PATCH one in (every, snapshot) or restore a snapshot by name", name);
	if (rc == 0) {
		const char *snap = json_string_value(json_object_get(restore, "snapshot"));
		const char *msg = json_string_value(json_object_get(restore, "message"));
		char text[600];
		snprintf(text, sizeof text, "%s", msg ? msg : "this jail is being restored to a clean state now");
		if (warn && strcmp(row.state, "running") == 0)
			jail_restore_warn(name, text);
		rc = do_restore(name, snap, e);
		log_info("jail %s: auto-restore (%s) %s", name, by, rc == 0 ? "done" : e->msg);
	}
	json_decref(spec);
	jail_row_clear(&row);
	jail_busy_release(name);
	return rc;
}

int jail_start(const char *name, struct err *e)
{
	jail_note_exit(name); /* a jail whose first process just exited is stopped, not running */
	if (!jail_busy_acquire(name))
		return busy_err(name, e);
	int rc = do_start(name, e);
	jail_busy_release(name);
	return rc;
}

int jail_stop(const char *name, struct err *e)
{
	if (!jail_busy_acquire(name))
		return busy_err(name, e);
	struct jail_row row = { 0 };
	int rc = store_jail_get(J.st, name, &row, e);
	if (rc == 0 && strcmp(row.state, "stopped") == 0)
		rc = err_set(e, ERR_WRONG_STATE, "jail %s is not running", name);
	else if (rc == 0)
		rc = do_stop(name, e);
	jail_row_clear(&row);
	jail_busy_release(name);
	return rc;
}

/* The helper makes the files: from the template (CREATE), or from an export (IMPORT). */
static int helper_make(const struct jail_row *row, int import_fd, struct reply *out, struct err *e)
{
	if (import_fd < 0)
		return helper_spec_call(MSG_CREATE, row, out, e);
	struct req_import r;
	struct jail_limits l;
	memset(&r, 0, sizeof r);
	r.h = priv_hdr(MSG_IMPORT);
	snprintf(r.name, sizeof r.name, "%s", row->name);
	r.slot = row->slot;
	json_t *spec = jail_spec_of(row);
	r.thin = strcmp(json_string_value(json_object_get(spec, "type")) ?: "thin", "thin") == 0;
	jail_limits_of(spec, &J.rules, &l);
	json_decref(spec);
	r.disk = l.disk;
	if (lseek(import_fd, 0, SEEK_SET) < 0)
		return err_errno(e, "rewinding the archive");
	return priv_call(&r, &import_fd, 1, out, e);
}

int jail_create(const struct token_info *who, json_t *body, bool start, struct jail_row *row, struct err *e)
{
	return jail_create_from(who, body, start, -1, row, e);
}

/* The template's own defaults (a Debian template's init) for what the body leaves out;
 * copied into the spec, so a later version of the template changes no existing jail. */
static json_t *with_template_run(json_t *body)
{
	json_t *b = json_copy(body);
	const char *name = json_string_value(json_object_get(body, "template"));
	struct template_row t;
	struct err ignored;
	if (b && valid_name(name ? name : "minimal") && store_template_get(J.st, name ? name : "minimal", &t, &ignored) == 0) {
		const char *keys[] = { "command", "stop_command" }, *vals[] = { t.command, t.stop_command };
		for (int i = 0; i < 2; i++) {
			json_t *v = vals[i][0] && !json_object_get(b, keys[i]) ? json_loads(vals[i], 0, NULL) : NULL;
			if (json_is_array(v))
				json_object_set(b, keys[i], v);
			json_decref(v);
		}
	}
	return b;
}

int jail_create_from(const struct token_info *who, json_t *body, bool start, int import_fd, struct jail_row *row, struct err *e)
{
	json_t *full = with_template_run(body);
	json_t *spec = full ? jail_spec_from_request(full, &J.rules, e) : NULL;
	json_decref(full);
	if (!full)
		err_set(e, ERR_INTERNAL, "out of memory");
	if (!spec)
		return -1;
	const char *name = json_string_value(json_object_get(spec, "name"));
	const char *tmpl = json_string_value(json_object_get(spec, "template"));
	int64_t tenant_id = who->tenant_id;
	json_t *tenant = json_object_get(body, "tenant");
	int rc = -1;
	if (tenant) {
		if (strcmp(who->role, "admin") != 0) {
			err_field(e, ERR_INVALID, "tenant", "only admins choose a jail's tenant");
			goto out_spec;
		}
		if (store_tenant_lookup(J.st, json_string_value(tenant), &tenant_id, e)) {
			err_field(e, ERR_INVALID, "tenant", "there is no tenant named %s; create it with POST /api/tenants",
				  json_string_value(tenant));
			goto out_spec;
		}
	}
	if (!priv_available()) {
		err_set(e, ERR_UNAVAILABLE, "%s", priv_unavailable_reason());
		goto out_spec;
	}
	if (!store_template_exists(J.st, tmpl)) {
		err_field(e, ERR_INVALID, "template", "there is no template named %s on this host", tmpl);
		goto out_spec;
	}
	if (!store_template_allowed(J.st, tenant_id, tmpl)) {
		err_field(e, ERR_INVALID, "template", "this tenant may not use template %s (its templates are limited by the provider)", tmpl);
		goto out_spec;
	}
	if (mount_owners_check_jail(tenant_id, spec, e) || ports_check_host(spec, NULL, e))
		goto out_spec;
	if (!jail_busy_acquire(name)) {
		busy_err(name, e);
		goto out_spec;
	}
	struct jail_write w;
	jail_write_of(spec, &w);
	if (store_jail_insert(J.st, name, tenant_id, &w, row, e))
		goto out_busy;
	/* create?start=1: files and start in one helper call */
	bool both = start && import_fd < 0;
	struct reply out;
	memset(&out, 0, sizeof out);
	if (both)
		store_jail_set_state(J.st, name, "starting", 0, NULL, false, NULL);
	int made = both ? helper_spec_call(MSG_CREATE_START, row, &out, e) : helper_make(row, import_fd, &out, e);
	if (made && !(both && out.created)) {
		/* nothing half-made stays: the record goes with the failed files */
		struct err ignored;
		store_jail_delete(J.st, name, &ignored);
		jail_row_clear(row);
		goto out_busy;
	}
	log_info("jail %s %s (slot %u, tenant %s)", name, import_fd < 0 ? "created" : "imported", row->slot, row->tenant);
	events_emit(row->tenant_id, "jail.created", name, json_pack("{ssssss}", "name", name, "tenant", row->tenant, "state", "stopped"));
	rc = 0;
	if (both && made) {
		start_failed(row, e);
		rc = -1;
	} else if (both) {
		rc = start_done(row, &out, e);
	} else if (start && do_start(name, e) < 0) {
		rc = -1;
	}
	jail_row_clear(row);
	if (store_jail_get(J.st, name, row, rc ? NULL : e))
		rc = -1;
out_busy:
	jail_busy_release(name);
out_spec:
	json_decref(spec);
	return rc;
}

int jail_destroy(const char *name, struct err *e)
{
	if (!jail_busy_acquire(name))
		return busy_err(name, e);
	struct jail_row row = { 0 };
	struct reply out;
	int rc = store_jail_get(J.st, name, &row, e);
	if (rc == 0 && strcmp(row.state, "stopped") != 0 && strcmp(row.state, "error") != 0)
		rc = do_stop(name, e);
	else if (rc == 0 && !priv_available())
		rc = err_set(e, ERR_UNAVAILABLE, "%s", priv_unavailable_reason());
	if (rc == 0)
		rc = helper_name_call(MSG_DESTROY, name, &out, e);
	if (rc == 0)
		rc = store_jail_delete(J.st, name, e);
	if (rc == 0) {
		log_info("jail %s destroyed", name);
		events_emit(row.tenant_id, "jail.destroyed", name, json_pack("{ss}", "name", name));
	}
	jail_row_clear(&row);
	jail_busy_release(name);
	return rc;
}

int jail_patch(const char *name, int64_t version, json_t *patch, struct err *e)
{
	if (!jail_busy_acquire(name))
		return busy_err(name, e);
	struct jail_row row = { 0 };
	json_t *spec = NULL, *old = NULL;
	bool addr_changed = false;
	int rc = store_jail_get(J.st, name, &row, e);
	if (rc == 0 && version < 0)
		version = row.version;
	if (rc == 0 && !(spec = jail_spec_patch(old = jail_spec_of(&row), patch, &J.rules, &addr_changed, e)))
		rc = -1;
	if (rc == 0)
		rc = mount_owners_check_jail(row.tenant_id, spec, e) || ports_check_host(spec, old, e) ? -1 : 0;
	if (rc == 0 && addr_changed && strcmp(row.state, "stopped") != 0 && strcmp(row.state, "error") != 0)
		rc = err_field(e, ERR_WRONG_STATE, "ip4", "addresses can be changed only while the jail is stopped");
	struct jail_write w;
	if (rc == 0) {
		jail_write_of(spec, &w);
		rc = store_jail_update_spec(J.st, name, version, &w, e);
	}
	if (rc == 0 && strcmp(row.state, "running") == 0 &&
	    !json_equal(json_object_get(spec, "limits"), json_object_get(old, "limits"))) {
		/* limits apply live */
		struct req_limits req;
		struct reply out;
		memset(&req, 0, sizeof req);
		req.h = priv_hdr(MSG_SET_LIMITS);
		snprintf(req.name, sizeof req.name, "%s", name);
		jail_limits_of(spec, &J.rules, &req.limits);
		if (priv_call(&req, NULL, 0, &out, e)) {
			/* the spec is saved and applies at the next start; say what failed now,
			 * unless all that failed is growing a mounted disk on a host that cannot:
			 * that growth is simply deferred to the next start */
			if (e->code == ERR_WRONG_STATE && strcmp(e->field, "limits.disk") == 0)
				log_warn("jail %s: %s", name, e->msg);
			else
				rc = -1;
		}
	}
	json_t *bw = json_object_get(json_object_get(spec, "limits"), "bandwidth"),
	       *was_bw = json_object_get(json_object_get(old, "limits"), "bandwidth");
	if (rc == 0 && strcmp(row.state, "running") == 0 &&
	    (!json_equal(json_object_get(spec, "ports"), json_object_get(old, "ports")) ||
	     !json_equal(json_object_get(spec, "firewall"), json_object_get(old, "firewall")) || !bw != !was_bw ||
	     (bw && !json_equal(bw, was_bw))))
	{
		/* forwards, rules and bandwidth apply live; refused there (a port the host
		 * serves), the jail keeps its old spec */
		rc = helper_net_set(&row, spec, e);
		struct err ignored;
		if (rc < 0) {
			jail_write_of(old, &w);
			store_jail_update_spec(J.st, name, version + 1, &w, &ignored);
		}
	}
	json_decref(spec);
	json_decref(old);
	jail_row_clear(&row);
	jail_busy_release(name);
	return rc;
}

static void collect_name(const struct jail_row *row, void *arg)
{
	struct jail_names *l = arg;
	char (*nv)[NAME_SIZE] = realloc(l->v, (l->n + 1) * NAME_SIZE);
	if (!nv)
		return;
	l->v = nv;
	snprintf(l->v[l->n++], NAME_SIZE, "%s", row->name);
}

int jail_names(const struct jail_filter *f, struct jail_names *out, struct err *e)
{
	return store_jail_list(J.st, f, collect_name, out, e) < 0 ? -1 : 0;
}

int jail_net_refresh_tenant(int64_t tenant_id)
{
	struct jail_filter f = { .state = "running", .tenant_id = tenant_id, .after = "", .host_id = store_host_id(J.st) };
	struct jail_names l = { 0 };
	struct err e = { 0 };
	int failed = 0;
	jail_names(&f, &l, &e);
	for (size_t i = 0; i < l.n; i++) {
		struct jail_row row = { 0 };
		if (!jail_busy_acquire(l.v[i])) {
			/* whatever holds it restarts or stops it: the start applies the new setting */
			continue;
		}
		if (store_jail_get(J.st, l.v[i], &row, &e) == 0 && strcmp(row.state, "running") == 0) {
			json_t *spec = jail_spec_of(&row);
			if (helper_net_set(&row, spec, &e) < 0) {
				log_warn("jail %s: its tenant's network setting: %s", row.name, e.msg);
				failed++;
			}
			json_decref(spec);
		}
		jail_row_clear(&row);
		jail_busy_release(l.v[i]);
	}
	free(l.v);
	return failed ? -1 : 0;
}

/* ---- exec ---- */

#define OUT_CAP (1u << 20)

struct collector {
	int fd[2];
	char *buf[2];
	size_t len[2];
	bool trunc[2];
	const struct exec_stream *stream;
};

/* Reads both pipes until each hits EOF, or until wake_fd (when >= 0) becomes
 * readable, or for timeout_ms without input. Returns 1 when woken. */
static int collect(struct collector *c, int timeout_ms, int wake_fd)
{
	for (;;) {
		struct pollfd p[3];
		int n = 0;
		for (int i = 0; i < 2; i++)
			if (c->fd[i] >= 0)
				p[n++] = (struct pollfd){ .fd = c->fd[i], .events = POLLIN };
		int nwake = n;
		if (wake_fd >= 0)
			p[n++] = (struct pollfd){ .fd = wake_fd, .events = POLLIN };
		if (n == 0)
			return 0;
		int r = poll(p, (nfds_t)n, timeout_ms);
		if (r <= 0)
			return 0;
		if (wake_fd >= 0 && p[nwake].revents)
			return 1;
		for (int k = 0; k < nwake; k++) {
			if (!p[k].revents)
				continue;
			int i = p[k].fd == c->fd[0] ? 0 : 1;
			char tmp[65536];
			ssize_t got = read(c->fd[i], tmp, sizeof tmp);
			if (got <= 0) {
				close(c->fd[i]);
				c->fd[i] = -1;
				continue;
			}
			if (c->stream) {
				c->stream->output(c->stream->arg, i + 1, tmp, (size_t)got);
				continue;
			}
			size_t room = OUT_CAP - c->len[i];
			size_t take = (size_t)got < room ? (size_t)got : room;
			if (take < (size_t)got)
				c->trunc[i] = true;
			if (take) {
				memcpy(c->buf[i] + c->len[i], tmp, take);
				c->len[i] += take;
			}
		}
	}
}

struct exec_call {
	struct req_exec req;
	int fds[3];
	struct reply out;
	struct err e;
	int rc;
	int wake;    /* write end: closed when the call returns */
};

static void *exec_thread(void *arg)
{
	struct exec_call *x = arg;
	x->rc = priv_call(&x->req, x->fds, 3, &x->out, &x->e);
	close(x->wake);
	return NULL;
}

static int exec_run(struct exec_call *x, const struct exec_request *rq, struct exec_result *res, const struct exec_stream *stream,
		    struct err *e);

int jail_exec(const char *name, const struct exec_request *rq, struct exec_result *res, const struct exec_stream *stream,
	      struct err *e)
{
	memset(res, 0, sizeof *res);
	if (rq->timeout < 1 || rq->timeout > 3600)
		return err_field(e, ERR_INVALID, "timeout", "timeout must be between 1 and 3600 seconds");
	static __thread struct exec_call x;
	memset(&x, 0, sizeof x);
	x.req.h = priv_hdr(MSG_EXEC);
	snprintf(x.req.name, sizeof x.req.name, "%s", name);
	x.req.timeout = (uint32_t)rq->timeout;
	if (rq->argc > ARGV_MAX)
		return err_field(e, ERR_INVALID, "command", "command has more than %d arguments", ARGV_MAX);
	if (argv_pack(&x.req.argv, rq->argv, rq->argc, "command", e) || argv_check(&x.req.argv, ARGV_PATH_LOOKUP, "command", e))
		return -1;
	struct jail_row row = { 0 };
	if (store_jail_get(J.st, name, &row, e))
		return -1;
	bool running = strcmp(row.state, "running") == 0;
	int64_t tenant = row.tenant_id;
	jail_row_clear(&row);
	if (!running)
		return err_set(e, ERR_WRONG_STATE, "jail %s is not running; start it first", name);
	if (exec_gate_enter(tenant, e))
		return -1;
	int rc = exec_run(&x, rq, res, stream, e);
	exec_gate_leave(tenant);
	return rc;
}

/* The command of x, its stdin from the request, its output collected (or streamed). */
static int exec_run(struct exec_call *x, const struct exec_request *rq, struct exec_result *res, const struct exec_stream *stream,
		    struct err *e)
{
	const char *in = rq->stdin_data;
	size_t in_len = in ? rq->stdin_len : 0;
	int pin[2], pout[2], perr[2], wake[2];
	if (pipe2(pin, O_CLOEXEC) < 0)
		return err_errno(e, "pipe");
	if (pipe2(pout, O_CLOEXEC) < 0 || pipe2(perr, O_CLOEXEC) < 0 || pipe2(wake, O_CLOEXEC) < 0)
		return err_errno(e, "pipe");
	/* stdin goes in whole before the command starts: the pipe is made big enough */
	if (in_len) {
		os_pipe_hold(pin[1], in_len);
		fcntl(pin[1], F_SETFL, O_NONBLOCK);
		ssize_t w = write(pin[1], in, in_len);
		if (w != (ssize_t)in_len) {
			for (int k = 0; k < 2; k++)
				close(pin[k]), close(pout[k]), close(perr[k]), close(wake[k]);
			return err_field(e, ERR_INVALID, "stdin", "stdin is too large to pass to the command (at most 1 MiB)");
		}
	}
	close(pin[1]);
	x->fds[0] = pin[0];
	x->fds[1] = pout[1];
	x->fds[2] = perr[1];
	x->wake = wake[1];
	struct collector c = { .fd = { pout[0], perr[0] }, .stream = stream };
	c.buf[0] = malloc(OUT_CAP + 1);
	c.buf[1] = malloc(OUT_CAP + 1);
	pthread_t t;
	if (pthread_create(&t, NULL, exec_thread, x) != 0) {
		err_set(e, ERR_INTERNAL, "cannot start exec thread");
		return -1;
	}
	if (stream)
		stream->started(stream->arg);
	/* read output while the command runs (a full pipe would stall it), until the
	 * helper answers; then, with our copies of the write ends closed, what is still
	 * buffered, briefly (a background process in the jail may keep the pipe open) */
	collect(&c, -1, wake[0]);
	pthread_join(t, NULL);
	close(pin[0]);
	close(pout[1]);
	close(perr[1]);
	close(wake[0]);
	collect(&c, 200, -1);
	for (int k = 0; k < 2; k++)
		if (c.fd[k] >= 0)
			close(c.fd[k]);
	c.buf[0][c.len[0]] = '\0';
	c.buf[1][c.len[1]] = '\0';
	res->out = c.buf[0];
	res->err = c.buf[1];
	res->out_len = c.len[0];
	res->err_len = c.len[1];
	res->out_truncated = c.trunc[0];
	res->err_truncated = c.trunc[1];
	if (x->rc) {
		*e = x->e;
		return -1;
	}
	res->exit_code = x->out.exit_code;
	res->timed_out = x->out.timed_out;
	return 0;
}

/* ---- live state ----
 * A running jail's usage is asked of the helper at most once a second per jail: a
 * dashboard polling many jails costs the helper little, and "live" stays live. */

#define LIVE_CACHE 256
static pthread_mutex_t live_mu = PTHREAD_MUTEX_INITIALIZER;
static struct {
	char name[NAME_SIZE];
	int64_t version;   /* the row it was read for: a lifecycle change misses the cache */
	struct timespec at;
	uint64_t seq;      /* which sample (a rendering shows one: jail_view) */
	struct reply r;
} live_cache[LIVE_CACHE];
static uint64_t live_seq;

static bool live_fresh(unsigned i, const char *name, int64_t version)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return strcmp(live_cache[i].name, name) == 0 && live_cache[i].version == version &&
	       (now.tv_sec - live_cache[i].at.tv_sec) * 1000000000L + (now.tv_nsec - live_cache[i].at.tv_nsec) < 1000000000L;
}

static unsigned live_slot(const char *name)
{
	unsigned h = 5381;
	for (const char *p = name; *p; p++)
		h = h * 33 + (unsigned char)*p;
	return h % LIVE_CACHE;
}

static bool live_get(const char *name, int64_t version, struct reply *out)
{
	unsigned i = live_slot(name);
	pthread_mutex_lock(&live_mu);
	bool hit = live_fresh(i, name, version);
	if (hit)
		*out = live_cache[i].r;
	pthread_mutex_unlock(&live_mu);
	return hit;
}

static void live_put(const char *name, int64_t version, const struct reply *r)
{
	unsigned i = live_slot(name);
	pthread_mutex_lock(&live_mu);
	snprintf(live_cache[i].name, NAME_SIZE, "%s", name);
	live_cache[i].version = version;
	clock_gettime(CLOCK_MONOTONIC, &live_cache[i].at);
	live_cache[i].seq = ++live_seq;
	live_cache[i].r = *r;
	pthread_mutex_unlock(&live_mu);
}

bool jail_usage(const struct jail_row *row, struct reply *live)
{
	memset(live, 0, sizeof *live);
	/* another host's jail: its host knows (a listing asks it: api/jails.c) */
	if (strcmp(row->state, "running") != 0 || !priv_available() || (row->host_id && row->host_id != store_host_id(J.st)))
		return false;
	if (live_get(row->name, row->version, live))
		return true;
	struct err ie;
	if (helper_name_call(MSG_STATUS, row->name, live, &ie))
		return false;
	if (!live->running) {
		reconcile_poke(); /* stopped on its own: the monitor records it now */
		return false;
	}
	live_put(row->name, row->version, live);
	return true;
}

int jail_log_open(const char *name, int *fd, struct err *e)
{
	if (!priv_available())
		return err_set(e, ERR_UNAVAILABLE, "%s", priv_unavailable_reason());
	struct req_name req = { .h = priv_hdr(MSG_LOG_OPEN) };
	snprintf(req.name, sizeof req.name, "%s", name);
	return priv_call_fd(&req, fd, e);
}

bool jail_is_running(const char *name)
{
	struct jail_row row = { 0 };
	struct err e;
	bool running = store_jail_get(J.st, name, &row, &e) == 0 && (strcmp(row.state, "running") == 0 || strcmp(row.state, "starting") == 0);
	jail_row_clear(&row);
	return running;
}

int jail_row_get(const char *name, struct jail_row *row, struct err *e)
{
	return store_jail_get(J.st, name, row, e);
}

int jail_read(const char *name, struct jail_row *row, struct reply *live, struct err *e)
{
	memset(live, 0, sizeof *live);
	if (store_jail_get(J.st, name, row, e))
		return -1;
	/* another host's jail (its host is down: the request was not sent there): the
	 * store's word, which the API shows as unreachable */
	if (row->host_id && row->host_id != store_host_id(J.st))
		return 0;
	if (strcmp(row->state, "running") != 0 || !priv_available() || live_get(name, row->version, live))
		return 0;
	struct err ie;
	if (helper_name_call(MSG_STATUS, name, live, &ie))
		return 0; /* the stored state stands */
	if (live->running) {
		live_put(name, row->version, live);
		return 0;
	}
	/* its first process exited on its own: it is stopping (what it held is not yet
	 * given back); recording it and cleaning up is the monitor's, woken for it now */
	snprintf(row->state, sizeof row->state, "stopping");
	snprintf(row->error, sizeof row->error, "the jail's first process exited");
	row->pid = 0;
	reconcile_poke();
	return 0;
}

/* ---- the rendering of one jail (GET /api/jails/{name}) ----
 * Kept while the store is unchanged since it was read (store_generation) and, for a
 * running jail, while the live sample it shows is the current one: a GET answered
 * from it touches neither the store, the helper nor jansson. */

#define VIEW_CACHE 256
static pthread_mutex_t view_mu = PTHREAD_MUTEX_INITIALIZER;
static struct view {
	char name[NAME_SIZE];
	uint64_t gen;      /* the store's generation it was read at; 0: empty */
	uint64_t seq;      /* the live sample it shows; 0: none (not running) */
	int64_t tenant_id, version;
	char *text;
	size_t len;
} views[VIEW_CACHE];

/* The sample the live cache holds for the jail now, 0 if none or expired. */
static uint64_t live_seq_now(const char *name, int64_t version)
{
	unsigned i = live_slot(name);
	pthread_mutex_lock(&live_mu);
	uint64_t seq = live_fresh(i, name, version) ? live_cache[i].seq : 0;
	pthread_mutex_unlock(&live_mu);
	return seq;
}

bool jail_view_cached(const char *name, struct jail_view *out)
{
	uint64_t gen = store_generation(J.st);
	struct view *v = &views[live_slot(name) % VIEW_CACHE];
	pthread_mutex_lock(&view_mu);
	bool hit = gen && v->gen == gen && strcmp(v->name, name) == 0;
	struct view copy = *v;
	pthread_mutex_unlock(&view_mu);
	if (!hit || (copy.seq && live_seq_now(name, copy.version) != copy.seq))
		return false;
	/* the text is copied out under the lock again: another thread may replace it */
	pthread_mutex_lock(&view_mu);
	hit = v->gen == copy.gen && v->seq == copy.seq && strcmp(v->name, name) == 0 && (out->text = malloc(v->len + 1));
	if (hit) {
		memcpy(out->text, v->text, v->len + 1);
		out->len = v->len;
		out->tenant_id = v->tenant_id;
		out->version = v->version;
	}
	pthread_mutex_unlock(&view_mu);
	return hit;
}

static void view_put(const char *name, uint64_t gen, uint64_t seq, const struct jail_view *jv)
{
	char *text = malloc(jv->len + 1);
	if (!text)
		return;
	memcpy(text, jv->text, jv->len + 1);
	struct view *v = &views[live_slot(name) % VIEW_CACHE];
	pthread_mutex_lock(&view_mu);
	char *old = v->text;
	*v = (struct view){ .gen = gen, .seq = seq, .tenant_id = jv->tenant_id, .version = jv->version, .text = text, .len = jv->len };
	snprintf(v->name, sizeof v->name, "%s", name);
	pthread_mutex_unlock(&view_mu);
	free(old);
}

int jail_view(const char *name, struct jail_view *out, struct err *e)
{
	uint64_t gen = store_generation(J.st); /* before the read: a commit after it voids what is kept */
	struct jail_row row = { 0 };
	struct reply live;
	if (jail_read(name, &row, &live, e) < 0)
		return -1;
	json_t *j = jail_to_json(&row, &live);
	out->text = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	if (!out->text) {
		jail_row_clear(&row);
		return err_set(e, ERR_INTERNAL, "out of memory rendering jail %s", name);
	}
	out->len = strlen(out->text);
	out->tenant_id = row.tenant_id;
	out->version = row.version;
	/* what the store says, as it says it (jail_read may have seen the jail end) */
	bool running = strcmp(row.state, "running") == 0;
	uint64_t seq = running && live.running ? live_seq_now(name, row.version) : 0;
	if (running ? seq != 0 : strcmp(row.state, "stopping") != 0)
		view_put(name, gen, seq, out);
	jail_row_clear(&row);
	return 0;
}

/* What a jail's first process ending says, for its error and its events. */
static void exit_reason(int code, int sig, char *buf, size_t n)
{
	if (sig > 0)
		snprintf(buf, n, "its first process was killed by signal %s", sig_name(sig) ? sig_name(sig) : "?");
	else
		snprintf(buf, n, "its first process exited with code %d", code);
}

/* ---- the monitor's last look at each running jail, for /metrics ---- */

static pthread_mutex_t seen_mu = PTHREAD_MUTEX_INITIALIZER;
static struct seen {
	char name[NAME_SIZE];
	struct reply r;
	time_t at;
} *seen;
static size_t nseen, seen_cap;

static void seen_put(const char *name, const struct reply *r)
{
	pthread_mutex_lock(&seen_mu);
	size_t i = 0;
	while (i < nseen && strcmp(seen[i].name, name) != 0)
		i++;
	if (i == nseen) {
		if (nseen == seen_cap) {
			size_t cap = seen_cap ? seen_cap * 2 : 64;
			struct seen *n = realloc(seen, cap * sizeof *n);
			if (!n) {
				pthread_mutex_unlock(&seen_mu);
				return;
			}
			seen = n;
			seen_cap = cap;
		}
		snprintf(seen[nseen++].name, NAME_SIZE, "%s", name);
	}
	seen[i].r = *r;
	seen[i].at = time(NULL);
	pthread_mutex_unlock(&seen_mu);
}

int jail_usage_now(const char *name, struct reply *out)
{
	struct err ie;
	if (helper_name_call(MSG_STATUS, name, out, &ie) < 0)
		return -1;
	if (out->running)
		seen_put(name, out);
	return 0;
}

bool jail_usage_last(const char *name, struct reply *out)
{
	bool found = false;
	pthread_mutex_lock(&seen_mu);
	for (size_t i = 0; i < nseen && !found; i++)
		if (strcmp(seen[i].name, name) == 0 && time(NULL) - seen[i].at <= 30) {
			*out = seen[i].r;
			found = true;
		}
	pthread_mutex_unlock(&seen_mu);
	return found;
}

void jail_note_exit(const char *name)
{
	struct jail_row row = { 0 };
	struct reply live;
	struct err ie;
	if (store_jail_get(J.st, name, &row, &ie) < 0 || strcmp(row.state, "running") != 0 ||
	    helper_name_call(MSG_STATUS, name, &live, &ie) < 0 || (live.running && (seen_put(name, &live), true)) ||
	    !busy_take(name, true)) {
		jail_row_clear(&row);
		return;
	}
	/* under the busy flag: no lifecycle op races this, and the state is read again */
	struct jail_row again = { 0 };
	if (store_jail_get(J.st, name, &again, &ie) == 0 && strcmp(again.state, "running") == 0) {
		char why[128] = "its first process exited";
		if (live.exited)
			exit_reason(live.exit_code, live.exit_signal, why, sizeof why);
		log_info("jail %s: %s", name, why);
		console_end_jail(name, "the jail stopped");
		struct req_stop req;
		struct reply out;
		memset(&req, 0, sizeof req);
		req.h = priv_hdr(MSG_STOP);
		snprintf(req.name, sizeof req.name, "%s", name);
		priv_call(&req, NULL, 0, &out, &ie); /* takes away its cgroup and interface */
		if (live.exited) {
			/* it ended on its own: an error, with how (shown apart from a stopped jail) */
			store_jail_exited(J.st, name, live.exit_code, live.exit_signal, live.exited_at, why, &ie);
			json_t *ev = json_pack("{ssssss}", "name", name, "state", "error", "reason", why);
			json_object_set_new(ev, "exit", live.exit_signal > 0 ? json_pack("{ss}", "signal", sig_name(live.exit_signal) ?: "?")
									     : json_pack("{si}", "code", live.exit_code));
			events_emit(again.tenant_id, "jail.error", name, ev);
		} else {
			/* how it ended is not known (it ended while no helper watched) */
			store_jail_set_state(J.st, name, "stopped", 0, "the jail's first process exited", false, &ie);
			events_emit(again.tenant_id, "jail.stopped", name,
				    json_pack("{ssssss}", "name", name, "state", "stopped", "reason", "its first process exited"));
		}
	}
	jail_row_clear(&again);
	jail_row_clear(&row);
	jail_busy_release(name);
}

/* The fields a jail has beside its spec: state, identity, live usage. */
/* fresh: whether another host answers is read from the store now (one jail), not as
 * the last look at the hosts saw it (a listing) */
static void add_status_fields(json_t *j, const struct jail_row *row, const struct reply *live, bool fresh)
{
	json_object_set_new(j, "name", json_string(row->name));
	json_object_set_new(j, "tenant", json_string(row->tenant));
	json_object_set_new(j, "host", row->host[0] ? json_string(row->host) : json_null());
	if (!(fresh ? cluster_reachable_now(row->host_id) : cluster_reachable(row->host_id))) {
		/* its host has gone silent: the last state it wrote, and that it is unknown now */
		json_object_set_new(j, "state", json_string("unreachable"));
		json_object_set_new(j, "last_state", json_string(row->state));
	} else
		json_object_set_new(j, "state", json_string(row->state));
	bool running = strcmp(row->state, "running") == 0;
	json_object_set_new(j, "jid", running ? json_integer(row->slot + 1) : json_null());
	json_object_set_new(j, "pid", running && row->pid ? json_integer(row->pid) : json_null());
	json_object_set_new(j, "created_at", json_string(row->created_at));
	json_object_set_new(j, "started_at", row->started_at[0] ? json_string(row->started_at) : json_null());
	json_object_set_new(j, "error", row->error[0] ? json_string(row->error) : json_null());
	json_t *x = NULL;
	if (row->exited_at[0] && row->exit_signal > 0)
		x = json_pack("{ssss}", "signal", sig_name(row->exit_signal) ?: "?", "at", row->exited_at);
	else if (row->exited_at[0])
		x = json_pack("{siss}", "code", row->exit_code, "at", row->exited_at);
	json_object_set_new(j, "exit", x ? x : json_null());
	if (live && live->running)
		json_object_set_new(j, "usage", json_pack("{sIsIsfsIsI}", "memory", (json_int_t)live->memory, "procs",
							  (json_int_t)live->procs, "cpu_seconds", (double)live->cpu_ns / 1e9,
							  "net_rx_bytes", (json_int_t)live->net_rx, "net_tx_bytes", (json_int_t)live->net_tx));
	else
		json_object_set_new(j, "usage", json_null());
}

json_t *jail_to_json(const struct jail_row *row, const struct reply *live)
{
	json_t *j = jail_spec_of(row);
	add_status_fields(j, row, live, true);
	return j;
}

static int append(char **buf, size_t *len, size_t *cap, const char *s, size_t n)
{
	if (*len + n + 1 > *cap) {
		size_t c = *cap ? *cap : 4096;
		while (c < *len + n + 1)
			c *= 2;
		char *nb = realloc(*buf, c);
		if (!nb)
			return -1;
		*buf = nb;
		*cap = c;
	}
	memcpy(*buf + *len, s, n);
	*len += n;
	(*buf)[*len] = '\0';
	return 0;
}

int jail_append_text(const struct jail_row *row, const struct reply *live, char **buf, size_t *len, size_t *cap)
{
	/* the stored spec is a canonical object "{...}": splice the status fields in
	 * before its closing brace */
	const char *spec = row->spec;
	size_t n = strlen(spec);
	while (n > 0 && spec[n - 1] != '}')
		n--;
	if (n < 2)
		return -1;
	json_t *extra = json_object();
	add_status_fields(extra, row, live, false);
	json_object_del(extra, "name"); /* the spec has it: a key appears once */
	char *x = json_dumps(extra, JSON_COMPACT);
	json_decref(extra);
	if (!x)
		return -1;
	bool empty = n == 2;
	int rc = append(buf, len, cap, spec, n - 1) || (!empty && append(buf, len, cap, ",", 1)) ||
		 append(buf, len, cap, x + 1, strlen(x + 1));
	free(x);
	return rc ? -1 : 0;
}
