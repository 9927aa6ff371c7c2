#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "validate.h"

void config_defaults(struct config *c)
{
	memset(c, 0, sizeof *c);
	snprintf(c->listen, sizeof c->listen, "127.0.0.1:8080");
	snprintf(c->data_dir, sizeof c->data_dir, "/var/lib/jaild");
	snprintf(c->user, sizeof c->user, "jaild");
	snprintf(c->pool4, sizeof c->pool4, "10.77.0.0/16");
	snprintf(c->pool6, sizeof c->pool6, "fd77::/64");
	snprintf(c->uid_base, sizeof c->uid_base, "2147483648");
	snprintf(c->busybox, sizeof c->busybox, "/bin/busybox");
	snprintf(c->favordynmods, sizeof c->favordynmods, "no");
	snprintf(c->rate_limit, sizeof c->rate_limit, "100");
	snprintf(c->events_keep, sizeof c->events_keep, "86400");
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
	if (strcmp(key, "uid-base") == 0) {
		if (!in_range(value, 65536, 4294967295LL - 65536 * 2))
			return err_set(e, ERR_INVALID, "uid-base must be a host uid from 65536 up, with room for jails' uid ranges above it");
		SET(uid_base);
	}
	if (strcmp(key, "busybox") == 0)
		SET(busybox);
	if (strcmp(key, "rate-limit") == 0) {
		if (!in_range(value, 0, 1000000))
			return err_set(e, ERR_INVALID, "rate-limit must be requests per second per token, 0 to turn it off");
		SET(rate_limit);
	}
	if (strcmp(key, "tls-cert") == 0)
		SET(tls_cert);
	if (strcmp(key, "tls-key") == 0)
		SET(tls_key);
	if (strcmp(key, "events-keep") == 0) {
		if (!in_range(value, 60, 90LL * 86400))
			return err_set(e, ERR_INVALID, "events-keep must be seconds, from 60 to 90 days");
		SET(events_keep);
	}
	if (strcmp(key, "cgroup-favordynmods") == 0) {
		if (strcmp(value, "yes") != 0 && strcmp(value, "no") != 0)
			return err_set(e, ERR_INVALID, "cgroup-favordynmods must be yes or no");
		SET(favordynmods);
	}
	if (strcmp(key, "allow-mount") == 0) {
		if (c->nallow_mounts == CFG_MOUNTS_MAX)
			return err_set(e, ERR_INVALID, "at most %d allow-mount paths", CFG_MOUNTS_MAX);
		if (!valid_abs_path(value) || strcmp(value, "/") == 0)
			return err_set(e, ERR_INVALID, "allow-mount %s must be a clean absolute path other than /", value);
		snprintf(c->allow_mounts[c->nallow_mounts++], sizeof c->allow_mounts[0], "%s", value);
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
