/* checks.c — the meaning of every request (checks.h). */
#include "checks.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "proto.h"
#include "validate.h"

int check_jail_name(const char *name, struct err *e)
{
	if (!valid_name(name))
		return err_field(e, ERR_INVALID, "name",
				 "jail name must be 1 to 63 lowercase letters, digits and dashes, starting with a letter or digit");
	return 0;
}

bool mount_source_allowed(const struct priv_ctx *c, const char *path)
{
	for (int k = 0; k < c->nallowed; k++)
		if (path_beneath(path, c->allowed_mounts[k]))
			return true;
	return false;
}

/* The jail's uids: slot s owns uid_base + s*65536 ... +65535, all below 2^31. */
static int check_slot(const struct priv_ctx *c, uint32_t slot, struct err *e)
{
	if (slot >= c->max_slots)
		return err_field(e, ERR_INVALID, "slot", "slot %u is outside the uid range (max %u)", slot, c->max_slots);
	return 0;
}

static int check_addresses(const struct priv_ctx *c, const struct jail_spec *s, struct err *e)
{
	for (int i = 0; i < s->nip4; i++)
		if (!pool4_contains(&c->pool4, ntohl(s->ip4[i])))
			return err_field(e, ERR_INVALID, "ip4", "ip4[%d] is not a usable address of the host's pool", i);
	for (int i = 0; i < s->nip6; i++)
		if (!pool6_contains(&c->pool6, s->ip6[i]))
			return err_field(e, ERR_INVALID, "ip6", "ip6[%d] is not a usable address of the host's pool", i);
	return 0;
}

static int check_mount_sources(const struct priv_ctx *c, const struct jail_spec *s, struct err *e)
{
	for (uint32_t i = 0; i < s->nmounts; i++)
		if (!mount_source_allowed(c, s->mounts[i].source)) {
			char f[32];
			snprintf(f, sizeof f, "mounts[%u].source", i);
			return err_field(e, ERR_INVALID, f, "%s is not under a host path the admin allows (allow-mount)",
					 s->mounts[i].source);
		}
	return 0;
}

static int check_template_name(const char *name, struct err *e)
{
	return valid_name(name) ? 0
				: err_field(e, ERR_INVALID, "name",
					    "template name must be 1 to 63 lowercase letters, digits and dashes, starting with a letter or digit");
}

/* A spec as START runs it: its shape (spec_check), its uids, addresses and mounts. */
int check_start(struct priv_ctx *c, const void *req, struct err *e)
{
	const struct req_spec *r = req;
	return spec_check(&r->spec, e) || check_slot(c, r->slot, e) || check_addresses(c, &r->spec, e) ||
			       check_mount_sources(c, &r->spec, e)
		       ? -1
		       : 0;
}

/* CREATE also needs the template it copies or layers over. */
int check_create(struct priv_ctx *c, const void *req, struct err *e)
{
	const struct req_spec *r = req;
	if (check_start(c, req, e))
		return -1;
	struct stat st;
	if (fstatat(c->templates_fd, r->spec.tmpl, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
		return err_field(e, ERR_INVALID, "template", "template %s does not exist on this host", r->spec.tmpl);
	return 0;
}

static int at_most(uint32_t v, uint32_t max, const char *field, struct err *e)
{
	return v <= max ? 0 : err_field(e, ERR_INVALID, field, "%s must be at most %u seconds", field, max);
}

int check_stop(struct priv_ctx *c, const void *req, struct err *e)
{
	(void)c;
	return at_most(((const struct req_stop *)req)->timeout, 3600, "stop_timeout", e);
}

int check_exec(struct priv_ctx *c, const void *req, struct err *e)
{
	(void)c;
	return at_most(((const struct req_exec *)req)->timeout, 86400, "timeout", e);
}

int check_snap(struct priv_ctx *c, const void *req, struct err *e)
{
	const struct req_snap *r = req;
	(void)c;
	if (!valid_name(r->snap))
		return err_field(e, ERR_INVALID, "name",
				 "snapshot name must be 1 to 63 lowercase letters, digits and dashes, starting with a letter or digit");
	return 0;
}

int check_template(struct priv_ctx *c, const void *req, struct err *e)
{
	(void)c;
	return check_template_name(((const struct req_template *)req)->name, e);
}

/* Only from under the allow-mount paths: jaild must not turn /etc into a template. */
int check_template_dir(struct priv_ctx *c, const void *req, struct err *e)
{
	const struct req_template *r = req;
	if (check_template_name(r->name, e))
		return -1;
	if (!valid_abs_path(r->source))
		return err_field(e, ERR_INVALID, "source", "source must be a clean absolute path");
	if (!mount_source_allowed(c, r->source))
		return err_field(e, ERR_INVALID, "source", "%s is not under a host path the admin allows (allow-mount)", r->source);
	return 0;
}

int check_import(struct priv_ctx *c, const void *req, struct err *e)
{
	const struct req_import *r = req;
	struct jail_limits l = { .maxproc = -1, .memoryuse = -1, .pcpu = -1, .openfiles = -1, .disk = r->disk };
	return check_slot(c, r->slot, e) || limits_check(&l, e) ? -1 : 0;
}

int check_limits(struct priv_ctx *c, const void *req, struct err *e)
{
	const struct req_limits *r = req;
	(void)c;
	return limits_check(&r->limits, e);
}

int check_console(struct priv_ctx *c, const void *req, struct err *e)
{
	(void)c;
	const struct req_console *r = req;
	return argv_check(&r->argv, ARGV_MAY_BE_EMPTY | ARGV_PATH_LOOKUP, "command", e);
}

int check_net(struct priv_ctx *c, const void *req, struct err *e)
{
	(void)c;
	return net_check(&((const struct req_net *)req)->net, e);
}
