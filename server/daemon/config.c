#include "config.h"
#include "http/http.h"

#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "resolv.h"
#include "size.h"
#include "store/store.h"
#include "validate.h"

void config_defaults(struct config *c)
{
	memset(c, 0, sizeof *c);
	snprintf(c->listen, sizeof c->listen, "127.0.0.1:8080");
	snprintf(c->data_dir, sizeof c->data_dir, "/var/lib/jaild");
	snprintf(c->store, sizeof c->store, "sqlite");
	if (gethostname(c->host, sizeof c->host) < 0 || !valid_hostname(c->host))
		snprintf(c->host, sizeof c->host, "localhost");
	snprintf(c->host_timeout, sizeof c->host_timeout, "10");
	snprintf(c->user, sizeof c->user, "jaild");
	snprintf(c->pool4, sizeof c->pool4, "10.77.0.0/16");
	snprintf(c->pool6, sizeof c->pool6, "fd77::/64");
	snprintf(c->uplink, sizeof c->uplink, "auto");
	snprintf(c->pool4_mode, sizeof c->pool4_mode, "nat");
	snprintf(c->pool6_mode, sizeof c->pool6_mode, "nat");
	snprintf(c->egress_default, sizeof c->egress_default, "allow");
	snprintf(c->uid_base, sizeof c->uid_base, "1000000");
	snprintf(c->lxcfs, sizeof c->lxcfs, "/var/lib/lxcfs");
	snprintf(c->usage_interval, sizeof c->usage_interval, "15");
	snprintf(c->usage_keep_raw, sizeof c->usage_keep_raw, "%d", 86400);
	snprintf(c->usage_keep_5m, sizeof c->usage_keep_5m, "%d", 31 * 86400);
	snprintf(c->usage_keep_1h, sizeof c->usage_keep_1h, "%d", 400 * 86400);
	snprintf(c->busybox, sizeof c->busybox, "/bin/busybox");
	snprintf(c->favordynmods, sizeof c->favordynmods, "no");
	snprintf(c->allow_setuid_mounts, sizeof c->allow_setuid_mounts, "no");
	snprintf(c->pty_max, sizeof c->pty_max, "32");
	snprintf(c->exec_per_tenant, sizeof c->exec_per_tenant, "8");
	snprintf(c->record_max, sizeof c->record_max, "100M");
	snprintf(c->record_total_max, sizeof c->record_total_max, "20G");
	snprintf(c->default_maxproc, sizeof c->default_maxproc, "1024");
	snprintf(c->default_memoryuse, sizeof c->default_memoryuse, "1G");
	snprintf(c->default_pcpu, sizeof c->default_pcpu, "auto");
	snprintf(c->conns_per_source, sizeof c->conns_per_source, "256");
	snprintf(c->rate_limit, sizeof c->rate_limit, "100");
	snprintf(c->events_keep, sizeof c->events_keep, "86400");
	snprintf(c->console_grace, sizeof c->console_grace, "300");
	snprintf(c->console_idle, sizeof c->console_idle, "3600");
	snprintf(c->console_max, sizeof c->console_max, "20");
	snprintf(c->recording_keep, sizeof c->recording_keep, "%d", 90 * 86400);
	snprintf(c->record_input, sizeof c->record_input, "no");
	snprintf(c->web_root, sizeof c->web_root, "%s", JAILD_WEBDIR);
}

#define SET(field)                                                                                       \
	do {                                                                                             \
		if (strlen(value) >= sizeof c->field)                                                    \
			return err_set(e, ERR_INVALID, "%s is too long", key);                           \
		snprintf(c->field, sizeof c->field, "%s", value);                                        \
		return 0;                                                                                \
	} while (0)

/* A whole decimal number from min to max. */
static bool in_range(const char *value, long long min, long long max)
{
	char *end;
	errno = 0;
	long long v = strtoll(value, &end, 10);
	return !errno && end != value && !*end && v >= min && v <= max;
}

int config_set(struct config *c, const char *key, const char *value, struct err *e)
{
	if (strcmp(key, "listen") == 0)
		SET(listen);
	if (strcmp(key, "data-dir") == 0)
		SET(data_dir);
	if (strcmp(key, "user") == 0)
		SET(user);
	if (strcmp(key, "host") == 0) {
		if (!valid_hostname(value) || strlen(value) >= sizeof c->host)
			return err_set(e, ERR_INVALID, "host must be this host's name: 1 to 63 letters, digits, '-' and '.'");
		SET(host);
	}
	if (strcmp(key, "advertise") == 0) {
		if ((strncmp(value, "http://", 7) != 0 && strncmp(value, "https://", 8) != 0) || strpbrk(value, " \t\"'?#") ||
		    value[strlen(value) - 1] == '/')
			return err_set(e, ERR_INVALID,
				       "advertise must be the URL the other hosts reach this API at, http://HOST:PORT or https://HOST:PORT "
				       "(no path, query or trailing slash)");
		SET(advertise);
	}
	if (strcmp(key, "store") == 0) {
		if (strcmp(value, "sqlite") != 0 && !store_is_url(value))
			return err_set(e, ERR_INVALID,
				       "store must be sqlite (the file jaild.db in the data directory) or a PostgreSQL URI "
				       "(postgresql://USER@HOST/DATABASE)");
		SET(store);
	}
	if (strcmp(key, "pool4") == 0) {
		struct pool4 p;
		if (pool4_parse(value, &p, e))
			return -1;
		SET(pool4);
	}
	if (strcmp(key, "pool6") == 0) {
		struct pool6 p;
		if (pool6_parse(value, &p, e))
			return -1;
		SET(pool6);
	}
	if (strcmp(key, "uplink") == 0) {
		if (!valid_ifname(value))
			return err_set(e, ERR_INVALID, "uplink must be an interface name (up to 15 letters, digits, '-', '_', '.'), auto or none");
		SET(uplink);
	}
	if (strcmp(key, "pool4-mode") == 0 || strcmp(key, "pool6-mode") == 0) {
		if (strcmp(value, "nat") != 0 && strcmp(value, "routed") != 0)
			return err_set(e, ERR_INVALID, "%s must be nat (private addresses behind the uplink's) or routed (addresses the "
				       "world reaches directly)", key);
		if (key[4] == '4')
			SET(pool4_mode);
		SET(pool6_mode);
	}
	if (strcmp(key, "egress-default") == 0) {
		if (strcmp(value, "allow") != 0 && strcmp(value, "deny") != 0)
			return err_set(e, ERR_INVALID, "egress-default must be allow or deny");
		SET(egress_default);
	}
	if (strcmp(key, "dns") == 0) {
		char out[RESOLVERS_MAX][RESOLVER_SIZE], note[256];
		if (value[0] && resolvers_pick(value, out, note, sizeof note, e) < 0)
			return -1;
		SET(dns);
	}
	if (strcmp(key, "lxcfs") == 0) {
		if (strcmp(value, "none") != 0 && (!valid_abs_path(value) || strcmp(value, "/") == 0))
			return err_set(e, ERR_INVALID, "lxcfs must be lxcfs's mount point (a clean absolute path) or none");
		SET(lxcfs);
	}
	if (strcmp(key, "debian-mirror") == 0 || strcmp(key, "ubuntu-mirror") == 0) {
		if ((strncmp(value, "http://", 7) != 0 && strncmp(value, "https://", 8) != 0 && strncmp(value, "file:///", 8) != 0) ||
		    strpbrk(value, " \t\"'"))
			return err_set(e, ERR_INVALID, "%s must be an archive URL (http://, https:// or file:///) without spaces or quotes", key);
		if (key[0] == 'd')
			SET(debian_mirror);
		SET(ubuntu_mirror);
	}
	if (strcmp(key, "uid-base") == 0) {
		/* every jail uid stays below 2^31: older kernels (Debian 12's 6.1) refuse
		 * larger ids in mount options (devpts gid=), and so do many tools */
		if (!in_range(value, 65536, UID_TOP + 1 - 65536))
			return err_set(e, ERR_INVALID,
				       "uid-base must be from 65536 to %lld: jails' uids (65536 each) must stay below 2^31, "
				       "which every kernel accepts",
				       UID_TOP + 1 - 65536);
		SET(uid_base);
	}
	if (strcmp(key, "busybox") == 0)
		SET(busybox);
	if (strcmp(key, "default-pcpu") == 0 && strcmp(value, "auto") == 0)
		SET(default_pcpu);
	if (strcmp(key, "recording-max") == 0 || strcmp(key, "recordings-max-total") == 0) {
		int64_t b;
		if (size_parse(value, &b) != 0 || b < 4096)
			return err_set(e, ERR_INVALID, "%s must be a size like \"100M\" or \"20G\" (at least 4K)", key);
		if (key[9] == 's')
			SET(record_total_max);
		SET(record_max);
	}
	if (strcmp(key, "default-memoryuse") == 0) {
		int64_t b;
		if (strcmp(value, "0") != 0 && size_parse(value, &b) != 0)
			return err_set(e, ERR_INVALID, "default-memoryuse must be a size like \"1G\", or 0 for no limit");
		SET(default_memoryuse);
	}
	if (strcmp(key, "cgroup-parent") == 0) {
		if (value[0] && (!valid_abs_path(value) || strcmp(value, "/") == 0))
			return err_set(e, ERR_INVALID,
				       "cgroup-parent must be a cgroup path such as /system.slice/jaild-jails.service (or empty)");
		SET(cgroup_parent);
	}
	if (strcmp(key, "web-root") == 0) {
		if (!valid_abs_path(value))
			return err_set(e, ERR_INVALID, "web-root must be a clean absolute path (the directory with index.html)");
		SET(web_root);
	}
	if (strcmp(key, "tls-cert") == 0)
		SET(tls_cert);
	if (strcmp(key, "tls-key") == 0)
		SET(tls_key);
	/* the numeric settings: one range each */
	static const struct {
		const char *key;
		size_t off;
		long long min, max;
		const char *what;
	} nums[] = {
		{ "rate-limit", offsetof(struct config, rate_limit), 0, 1000000,
		  "rate-limit must be requests per second per token, 0 to turn it off" },
		{ "events-keep", offsetof(struct config, events_keep), 60, 90LL * 86400,
		  "events-keep must be seconds, from 60 to 90 days" },
		{ "host-timeout", offsetof(struct config, host_timeout), 3, 3600,
		  "host-timeout must be the seconds of silence after which a host is offline, from 3 to 3600" },
		{ "console-grace", offsetof(struct config, console_grace), 0, 86400,
		  "console-grace must be seconds a dropped console waits for re-attach, from 0 to 86400" },
		{ "console-idle", offsetof(struct config, console_idle), 10, 7 * 86400,
		  "console-idle must be seconds, from 10 to 7 days" },
		{ "console-max-per-tenant", offsetof(struct config, console_max), 1, 10000,
		  "console-max-per-tenant must be a number of sessions from 1 to 10000" },
		{ "recording-keep", offsetof(struct config, recording_keep), 60, 3650LL * 86400,
		  "recording-keep must be seconds, from 60 to ten years" },
		{ "max-conns-per-source", offsetof(struct config, conns_per_source), 1, 1000,
		  "max-conns-per-source must be the open connections one address may hold, from 1 to 1000" },
		{ "default-maxproc", offsetof(struct config, default_maxproc), 0, 4194304,
		  "default-maxproc must be the processes a jail gets when its spec names none, 0 for no limit" },
		{ "exec-max-per-tenant", offsetof(struct config, exec_per_tenant), 1, 40,
		  "exec-max-per-tenant must be the commands one tenant may run at once, from 1 to 40" },
		{ "default-pcpu", offsetof(struct config, default_pcpu), 0, 100000,
		  "default-pcpu must be the percent of one CPU a jail gets when its spec names none, 0 for no limit, "
		  "or auto (every CPU of the host but one)" },
		{ "jail-pty-max", offsetof(struct config, pty_max), 4, 4096,
		  "jail-pty-max must be the terminals one jail may open, from 4 to 4096" },
		{ "usage-interval", offsetof(struct config, usage_interval), 1, 300,
		  "usage-interval must be the seconds between usage samples, from 1 to 300 (and divide 300)" },
		{ "usage-keep-raw", offsetof(struct config, usage_keep_raw), 3600, 366LL * 86400,
		  "usage-keep-raw must be seconds, from an hour to a year" },
		{ "usage-keep-5m", offsetof(struct config, usage_keep_5m), 86400, 3660LL * 86400,
		  "usage-keep-5m must be seconds, from a day to ten years" },
		{ "usage-keep-1h", offsetof(struct config, usage_keep_1h), 86400, 3660LL * 86400,
		  "usage-keep-1h must be seconds, from a day to ten years" },
	};
	for (size_t i = 0; i < sizeof nums / sizeof *nums; i++) {
		if (strcmp(key, nums[i].key) != 0)
			continue;
		if (!in_range(value, nums[i].min, nums[i].max))
			return err_set(e, ERR_INVALID, "%s", nums[i].what);
		snprintf((char *)c + nums[i].off, 16, "%s", value);
		return 0;
	}
	/* the yes/no settings */
	static const struct {
		const char *key;
		size_t off;
	} flags[] = {
		{ "cgroup-favordynmods", offsetof(struct config, favordynmods) },
		{ "allow-mount-setuid", offsetof(struct config, allow_setuid_mounts) },
		{ "console-record-input", offsetof(struct config, record_input) },
	};
	for (size_t i = 0; i < sizeof flags / sizeof *flags; i++) {
		if (strcmp(key, flags[i].key) != 0)
			continue;
		if (strcmp(value, "yes") != 0 && strcmp(value, "no") != 0)
			return err_set(e, ERR_INVALID, "%s must be yes or no", key);
		snprintf((char *)c + flags[i].off, 8, "%s", value);
		return 0;
	}
	if (strcmp(key, "allow-mount") == 0) {
		if (c->nallow_mounts == CFG_MOUNTS_MAX)
			return err_set(e, ERR_INVALID, "at most %d allow-mount paths", CFG_MOUNTS_MAX);
		if (!valid_abs_path(value) || strcmp(value, "/") == 0)
			return err_set(e, ERR_INVALID, "allow-mount %s must be a clean absolute path other than /", value);
		snprintf(c->allow_mounts[c->nallow_mounts++], sizeof c->allow_mounts[0], "%s", value);
		return 0;
	}
	if (strcmp(key, "metrics-allow") == 0) {
		if (c->nmetrics_allow == 16)
			return err_set(e, ERR_INVALID, "at most 16 metrics-allow addresses");
		if (!http_cidr_valid(value))
			return err_set(e, ERR_INVALID, "metrics-allow %s must be an address or ADDR/PREFIX, like 10.0.0.5 or 192.0.2.0/24", value);
		snprintf(c->metrics_allow[c->nmetrics_allow++], sizeof c->metrics_allow[0], "%s", value);
		return 0;
	}
	return err_set(e, ERR_INVALID, "unknown setting '%s' (see deploy/jaild.conf.example)", key);
}

static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	char *end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

int config_load(struct config *c, const char *path, struct err *e)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return err_errno(e, "opening config %s", path);
	char line[1024];
	int lineno = 0;
	while (fgets(line, sizeof line, f)) {
		lineno++;
		char *s = trim(line);
		if (*s == '\0' || *s == '#')
			continue;
		char *eq = strchr(s, '=');
		if (!eq) {
			fclose(f);
			return err_set(e, ERR_INVALID, "%s:%d: expected key = value", path, lineno);
		}
		*eq = '\0';
		struct err ie;
		if (config_set(c, trim(s), trim(eq + 1), &ie)) {
			fclose(f);
			return err_set(e, ERR_INVALID, "%s:%d: %s", path, lineno, ie.msg);
		}
	}
	fclose(f);
	return 0;
}
