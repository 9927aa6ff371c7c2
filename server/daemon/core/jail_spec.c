#include "core/jail_spec.h"

#include <arpa/inet.h>
#include <sys/socket.h>
#include <stdio.h>
#include <string.h>

#include "json_spec.h"
#include "size.h"
#include <stdlib.h>
#include "validate.h"


static int check_hostname(json_t *v, const char *f, void *ctx, struct err *e)
{
	(void)ctx;
	return valid_hostname(json_string_value(v)) ? 0
		: err_field(e, ERR_INVALID, f, "%s must be a valid DNS name (letters, digits, '-', '.'; at most 253 characters)", f);
}

static int check_name_value(json_t *v, const char *f, void *ctx, struct err *e)
{
	(void)ctx;
	return valid_name(json_string_value(v)) ? 0 : err_field(e, ERR_INVALID, f, "%s must be 1 to 63 lowercase letters, digits and dashes, starting with a letter or digit", f);
}

static int check_type(json_t *v, const char *f, void *ctx, struct err *e)
{
	(void)ctx;
	const char *s = json_string_value(v);
	return strcmp(s, "thin") == 0 || strcmp(s, "thick") == 0 ? 0 : err_field(e, ERR_INVALID, f, "%s must be \"thin\" or \"thick\"", f);
}

static int check_addr_list(json_t *v, const char *f, int family, const struct host_rules *rules, struct err *e)
{
	size_t i, n = json_array_size(v);
	json_t *a;
	char p[32];
	if (n > (family == AF_INET ? IP4_MAX : IP6_MAX))
		return err_field(e, ERR_INVALID, f, "%s holds at most %d addresses", f, family == AF_INET ? IP4_MAX : IP6_MAX);
	json_array_foreach(v, i, a) {
		snprintf(p, sizeof p, "%s[%zu]", f, i);
		if (!json_is_string(a))
			return err_field(e, ERR_INVALID, p, "%s must be an address string or \"auto\"", p);
		const char *s = json_string_value(a);
		if (strcmp(s, "auto") == 0) {
			if (n != 1)
				return err_field(e, ERR_INVALID, p, "\"auto\" must be alone in %s", f);
			continue;
		}
		uint8_t buf[16];
		if (inet_pton(family, s, buf) != 1)
			return err_field(e, ERR_INVALID, p, "%s is not an %s address", p, family == AF_INET ? "IPv4" : "IPv6");
		bool ok = family == AF_INET ? pool4_contains(&rules->pool4, ntohl(*(uint32_t *)(void *)buf))
					    : pool6_contains(&rules->pool6, buf);
		if (!ok)
			return err_field(e, ERR_INVALID, p, "%s (%s) is not a usable address of the host's pool; use \"auto\" or see GET /api/host", p, s);
		for (size_t k = 0; k < i; k++)
			if (strcmp(json_string_value(json_array_get(v, k)), s) == 0)
				return err_field(e, ERR_INVALID, p, "%s repeats %s", f, s);
	}
	return 0;
}

static int check_ip4(json_t *v, const char *f, void *ctx, struct err *e)
{
	return check_addr_list(v, f, AF_INET, ctx, e);
}

static int check_ip6(json_t *v, const char *f, void *ctx, struct err *e)
{
	return check_addr_list(v, f, AF_INET6, ctx, e);
}

static int check_argv(json_t *v, const char *f, bool allow_empty, struct err *e)
{
	const char *argv[ARGV_MAX + 1];
	size_t i, n = json_array_size(v);
	json_t *a;
	if (n > ARGV_MAX)
		return err_field(e, ERR_INVALID, f, "%s has more than %d arguments", f, ARGV_MAX);
	json_array_foreach(v, i, a) {
		if (!json_is_string(a) || strlen(json_string_value(a)) != json_string_length(a)) {
			char p[32];
			snprintf(p, sizeof p, "%s[%zu]", f, i);
			return err_field(e, ERR_INVALID, p, "%s must be a string without NUL bytes", p);
		}
		argv[i] = json_string_value(a);
	}
	struct argv_buf buf;
	if (argv_pack(&buf, argv, n, f, e))
		return -1;
	return argv_check(&buf, allow_empty ? ARGV_MAY_BE_EMPTY : 0, f, e);
}

static int check_command(json_t *v, const char *f, void *ctx, struct err *e)
{
	(void)ctx;
	return check_argv(v, f, false, e);
}

static int check_stop_command(json_t *v, const char *f, void *ctx, struct err *e)
{
	(void)ctx;
	return check_argv(v, f, true, e);
}

static int check_stop_timeout(json_t *v, const char *f, void *ctx, struct err *e)
{
	(void)ctx;
	json_int_t t = json_integer_value(v);
	return t >= 0 && t <= 3600 ? 0 : err_field(e, ERR_INVALID, f, "%s must be between 0 and 3600 seconds", f);
}

static int check_priority(json_t *v, const char *f, void *ctx, struct err *e)
{
	(void)ctx;
	json_int_t t = json_integer_value(v);
	return t >= -1000000 && t <= 1000000 ? 0 : err_field(e, ERR_INVALID, f, "%s must be between -1000000 and 1000000", f);
}

static int check_mount_source(json_t *v, const char *f, void *ctx, struct err *e)
{
	const struct host_rules *rules = ctx;
	const char *s = json_string_value(v);
	if (!valid_abs_path(s) || strcmp(s, "/") == 0)
		return err_field(e, ERR_INVALID, f, "%s must be a clean absolute host path (no '..', '//', ',' or ':')", f);
	for (int i = 0; i < rules->nallow_mounts; i++)
		if (path_beneath(s, rules->allow_mounts[i]))
			return 0;
	if (rules->nallow_mounts == 0)
		return err_field(e, ERR_INVALID, f, "%s: no host paths are allowed for mounts on this host; an admin sets allow-mount in jaild's config", f);
	return err_field(e, ERR_INVALID, f, "%s (%s) is not under a host path the admin allows for mounts", f, s);
}

static int check_mount_target(json_t *v, const char *f, void *ctx, struct err *e)
{
	(void)ctx;
	const char *s = json_string_value(v);
	if (!valid_abs_path(s) || strcmp(s, "/") == 0 || path_beneath(s, "/proc") || path_beneath(s, "/dev"))
		return err_field(e, ERR_INVALID, f, "%s must be a clean absolute path inside the jail, not /, /proc or /dev", f);
	return 0;
}

static const struct jfield mount_fields[] = {
	JF_JSON("source", JT_STRING, true, check_mount_source, NULL),
	JF_JSON("target", JT_STRING, true, check_mount_target, NULL),
	JF_JSON("readonly", JT_BOOL, false, NULL, NULL),
	JF_END,
};

static int check_mounts(json_t *v, const char *f, void *ctx, struct err *e)
{
	size_t i;
	json_t *m;
	char p[32];
	if (json_array_size(v) > MOUNTS_MAX)
		return err_field(e, ERR_INVALID, f, "%s holds at most %d mounts", f, MOUNTS_MAX);
	json_array_foreach(v, i, m) {
		snprintf(p, sizeof p, "%s[%zu]", f, i);
		if (json_parse_fields(m, mount_fields, p, ctx, e))
			return -1;
	}
	return 0;
}

static int64_t limit_value(json_t *limits, const char *k)
{
	json_t *v = json_object_get(limits, k);
	if (!v)
		return -1;
	if (json_is_integer(v))
		return json_integer_value(v);
	int64_t b;
	return size_parse(json_string_value(v), &b) == 0 ? b : -1;
}

static void limits_from_object(json_t *l, struct jail_limits *out)
{
	out->maxproc = limit_value(l, "maxproc");
	out->memoryuse = limit_value(l, "memoryuse");
	out->pcpu = limit_value(l, "pcpu");
	out->openfiles = limit_value(l, "openfiles");
	out->disk = limit_value(l, "disk");
}

static int check_size(json_t *v, const char *f, void *ctx, struct err *e)
{
	(void)ctx;
	int64_t b;
	if (json_is_integer(v))
		return json_integer_value(v) >= 0 ? 0 : err_field(e, ERR_INVALID, f, "%s must not be negative", f);
	return size_parse(json_string_value(v), &b) == 0 ? 0 : err_field(e, ERR_INVALID, f, "%s must be a size like \"256M\" or \"1G\"", f);
}

static int check_rate(json_t *v, const char *f, void *ctx, struct err *e);

static const struct jfield limit_fields[] = {
	JF_JSON("maxproc", JT_INT, false, NULL, NULL),
	JF_JSON("memoryuse", JT_STRING_OR_INT, false, check_size, NULL),
	JF_JSON("pcpu", JT_INT, false, NULL, NULL),
	JF_JSON("openfiles", JT_INT, false, NULL, NULL),
	JF_JSON("disk", JT_STRING_OR_INT, false, check_size, NULL),
	JF_JSON("bandwidth", JT_STRING_OR_INT, false, check_rate, NULL),
	JF_END,
};

static int check_limits(json_t *v, const char *f, void *ctx, struct err *e)
{
	if (json_parse_fields(v, limit_fields, f, ctx, e))
		return -1;
	struct jail_limits l;
	limits_from_object(v, &l);
	return limits_check(&l, e);
}

/* ---- network: ports, firewall, bandwidth ---- */

static int port_number(json_t *v, const char *f, uint16_t *out, struct err *e)
{
	json_int_t n = json_is_integer(v) ? json_integer_value(v) : 0;
	if (n < 1 || n > 65535)
		return err_field(e, ERR_INVALID, f, "%s must be a port from 1 to 65535", f);
	*out = (uint16_t)n;
	return 0;
}

static int proto_of(json_t *v, const char *f, bool any_ok, uint8_t *out, struct err *e)
{
	const char *s = v ? json_string_value(v) : (any_ok ? "any" : "tcp");
	static const struct {
		const char *name;
		uint8_t p;
	} names[] = { { "tcp", NET_TCP }, { "udp", NET_UDP }, { "icmp", NET_ICMP }, { "any", NET_ANY } };
	for (size_t i = 0; s && i < (any_ok ? 4u : 2u); i++)
		if (strcmp(s, names[i].name) == 0) {
			*out = names[i].p;
			return 0;
		}
	return err_field(e, ERR_INVALID, f, any_ok ? "%s must be tcp, udp, icmp or any" : "%s must be tcp or udp", f);
}

static const struct jfield port_fields[] = {
	JF_JSON("proto", JT_STRING, false, NULL, NULL),
	JF_JSON("host_port", JT_INT, true, NULL, NULL),
	JF_JSON("port", JT_INT, false, NULL, NULL),
	JF_END,
};

/* One forward: {"proto": "tcp", "host_port": 8080, "port": 80}; port defaults to host_port. */
static int port_parse(json_t *o, const char *f, struct jail_port *out, struct err *e)
{
	char sub[64];
	memset(out, 0, sizeof *out);
	if (json_parse_fields(o, port_fields, f, NULL, e))
		return -1;
	snprintf(sub, sizeof sub, "%s.proto", f);
	if (proto_of(json_object_get(o, "proto"), sub, false, &out->proto, e))
		return -1;
	snprintf(sub, sizeof sub, "%s.host_port", f);
	if (port_number(json_object_get(o, "host_port"), sub, &out->host_port, e))
		return -1;
	snprintf(sub, sizeof sub, "%s.port", f);
	json_t *p = json_object_get(o, "port");
	return p ? port_number(p, sub, &out->port, e) : (out->port = out->host_port, 0);
}

/* "10.0.0.0/8", "2001:db8::/32", or one address. */
static int cidr_parse(const char *s, const char *f, struct net_rule *r, struct err *e)
{
	char addr[64];
	const char *slash = strchr(s, '/');
	size_t len = slash ? (size_t)(slash - s) : strlen(s);
	if (len >= sizeof addr)
		return err_field(e, ERR_INVALID, f, "%s must be an address or a network like 192.0.2.0/24", f);
	memcpy(addr, s, len);
	addr[len] = '\0';
	int fam = strchr(addr, ':') ? AF_INET6 : AF_INET;
	unsigned max = fam == AF_INET ? 32 : 128;
	char *end = NULL;
	unsigned long prefix = slash ? strtoul(slash + 1, &end, 10) : max;
	if (inet_pton(fam, addr, r->addr) != 1 || (slash && (!slash[1] || *end || prefix > max)))
		return err_field(e, ERR_INVALID, f, "%s must be an address or a network like 192.0.2.0/24 or 2001:db8::/32", f);
	for (unsigned bit = (unsigned)prefix; bit < max; bit++)
		if (r->addr[bit / 8] & (0x80 >> (bit % 8)))
			return err_field(e, ERR_INVALID, f, "%s (%s) has bits set past its prefix; write the network, as in 10.0.0.0/8", f, s);
	r->family = fam == AF_INET ? 4 : 6;
	r->prefix = (uint8_t)prefix;
	return 0;
}

static const struct jfield egress_rule_fields[] = {
	JF_JSON("action", JT_STRING, true, NULL, NULL), JF_JSON("proto", JT_STRING, false, NULL, NULL),
	JF_JSON("to", JT_STRING, false, NULL, NULL),    JF_JSON("ports", JT_ARRAY, false, NULL, NULL),
	JF_END,
};
static const struct jfield ingress_rule_fields[] = {
	JF_JSON("action", JT_STRING, true, NULL, NULL), JF_JSON("proto", JT_STRING, false, NULL, NULL),
	JF_JSON("from", JT_STRING, false, NULL, NULL),  JF_JSON("ports", JT_ARRAY, false, NULL, NULL),
	JF_END,
};

/* A rule: {"action": "allow", "proto": "tcp", "to": CIDR, "ports": [80, "1000-2000"]}
 * ("from" for ingress). */
static int rule_parse(json_t *o, bool egress, const char *f, struct net_rule *r, struct err *e)
{
	char sub[64];
	memset(r, 0, sizeof *r);
	if (json_parse_fields(o, egress ? egress_rule_fields : ingress_rule_fields, f, NULL, e))
		return -1;
	const char *action = json_string_value(json_object_get(o, "action"));
	snprintf(sub, sizeof sub, "%s.action", f);
	if (strcmp(action, "allow") != 0 && strcmp(action, "deny") != 0)
		return err_field(e, ERR_INVALID, sub, "%s must be allow or deny", sub);
	r->allow = strcmp(action, "allow") == 0;
	snprintf(sub, sizeof sub, "%s.proto", f);
	if (proto_of(json_object_get(o, "proto"), sub, true, &r->proto, e))
		return -1;
	json_t *cidr = json_object_get(o, egress ? "to" : "from");
	snprintf(sub, sizeof sub, "%s.%s", f, egress ? "to" : "from");
	if (cidr && cidr_parse(json_string_value(cidr), sub, r, e))
		return -1;
	json_t *ports = json_object_get(o, "ports"), *p;
	size_t i;
	snprintf(sub, sizeof sub, "%s.ports", f);
	if (json_array_size(ports) > RULE_PORTS_MAX)
		return err_field(e, ERR_INVALID, sub, "%s holds at most %d ports or ranges", sub, RULE_PORTS_MAX);
	if (json_array_size(ports) && r->proto == NET_ICMP)
		return err_field(e, ERR_INVALID, sub, "%s: icmp has no ports", sub);
	json_array_foreach(ports, i, p) {
		snprintf(sub, sizeof sub, "%s.ports[%zu]", f, i);
		long lo = -1, hi = -1;
		char extra;
		if (json_is_integer(p))
			lo = hi = (long)json_integer_value(p);
		else if (!json_is_string(p) || sscanf(json_string_value(p), "%ld-%ld%c", &lo, &hi, &extra) != 2)
			lo = -1;
		if (lo < 1 || hi > 65535 || lo > hi)
			return err_field(e, ERR_INVALID, sub, "%s must be a port (80) or a range (\"1000-2000\") within 1-65535", sub);
		r->ports[i][0] = (uint16_t)lo;
		r->ports[i][1] = (uint16_t)hi;
		r->nports = (uint8_t)(i + 1);
	}
	return 0;
}

static int check_ports(json_t *v, const char *f, void *ctx, struct err *e)
{
	(void)ctx;
	struct jail_net n = { 0 };
	size_t i;
	json_t *o;
	char p[32];
	if (json_array_size(v) > PORTS_MAX)
		return err_field(e, ERR_INVALID, f, "%s holds at most %d forwards", f, PORTS_MAX);
	json_array_foreach(v, i, o) {
		snprintf(p, sizeof p, "%s[%zu]", f, i);
		if (port_parse(o, p, &n.ports[i], e))
			return -1;
		n.nports = (uint32_t)(i + 1);
	}
	return net_check(&n, e);
}

static int check_rules(json_t *v, const char *f, bool egress, struct err *e)
{
	size_t i;
	json_t *o;
	char p[48];
	struct net_rule r;
	if (json_array_size(v) > RULES_MAX)
		return err_field(e, ERR_INVALID, f, "%s holds at most %d rules", f, RULES_MAX);
	json_array_foreach(v, i, o) {
		snprintf(p, sizeof p, "%s[%zu]", f, i);
		if (rule_parse(o, egress, p, &r, e))
			return -1;
	}
	return 0;
}

static int check_egress(json_t *v, const char *f, void *ctx, struct err *e)
{
	(void)ctx;
	return check_rules(v, f, true, e);
}

static int check_ingress(json_t *v, const char *f, void *ctx, struct err *e)
{
	(void)ctx;
	return check_rules(v, f, false, e);
}

static const struct jfield firewall_fields[] = {
	JF_JSON("egress", JT_ARRAY, false, check_egress, NULL),
	JF_JSON("ingress", JT_ARRAY, false, check_ingress, NULL),
	JF_END,
};

static int check_firewall(json_t *v, const char *f, void *ctx, struct err *e)
{
	return json_parse_fields(v, firewall_fields, f, ctx, e);
}

static int check_rate(json_t *v, const char *f, void *ctx, struct err *e)
{
	(void)ctx;
	int64_t b = json_is_integer(v) ? json_integer_value(v) : -1;
	if (json_is_string(v) && rate_parse(json_string_value(v), &b) < 0)
		b = -1;
	if (b < 0 || (uint64_t)b > BANDWIDTH_MAX)
		return err_field(e, ERR_INVALID, f, "%s must be bits per second like \"10M\" or \"1G\" (at most 100G)", f);
	return 0;
}

/* The jail's network part of the wire spec, from a canonical spec (checked before). */
static int net_of(json_t *c, struct jail_net *n, struct err *e)
{
	size_t i;
	json_t *o;
	char p[48];
	memset(n, 0, sizeof *n);
	json_array_foreach(json_object_get(c, "ports"), i, o) {
		snprintf(p, sizeof p, "ports[%zu]", i);
		if (i >= PORTS_MAX || port_parse(o, p, &n->ports[i], e))
			return -1;
		n->nports = (uint32_t)(i + 1);
	}
	json_t *fw = json_object_get(c, "firewall");
	json_array_foreach(json_object_get(fw, "egress"), i, o) {
		snprintf(p, sizeof p, "firewall.egress[%zu]", i);
		if (i >= RULES_MAX || rule_parse(o, true, p, &n->egress[i], e))
			return -1;
		n->negress = (uint32_t)(i + 1);
	}
	json_array_foreach(json_object_get(fw, "ingress"), i, o) {
		snprintf(p, sizeof p, "firewall.ingress[%zu]", i);
		if (i >= RULES_MAX || rule_parse(o, false, p, &n->ingress[i], e))
			return -1;
		n->ningress = (uint32_t)(i + 1);
	}
	json_t *bw = json_object_get(json_object_get(c, "limits"), "bandwidth");
	int64_t b = 0;
	if (json_is_integer(bw))
		b = json_integer_value(bw);
	else if (json_is_string(bw))
		rate_parse(json_string_value(bw), &b);
	n->bandwidth = b > 0 ? (uint64_t)b : 0;
	return 0;
}

static int check_chflags(json_t *v, const char *f, void *ctx, struct err *e)
{
	(void)ctx;
	return json_is_true(v) ? err_field(e, ERR_UNSUPPORTED, f, "%s is not supported by the linux backend (immutable flags belong to the host)", f) : 0;
}

static const struct jfield allow_fields[] = {
	JF_JSON("set_hostname", JT_BOOL, false, NULL, NULL),
	JF_JSON("raw_sockets", JT_BOOL, false, NULL, NULL),
	JF_JSON("sysvipc", JT_BOOL, false, NULL, NULL),
	JF_JSON("chflags", JT_BOOL, false, check_chflags, NULL),
	JF_JSON("nesting", JT_BOOL, false, NULL, NULL),
	JF_END,
};

static int check_allow(json_t *v, const char *f, void *ctx, struct err *e)
{
	return json_parse_fields(v, allow_fields, f, ctx, e);
}

static int check_duration(json_t *v, const char *f, void *ctx, struct err *e)
{
	(void)ctx;
	int64_t s;
	if (duration_parse(json_string_value(v), &s) < 0 || s > 366 * 86400)
		return err_field(e, ERR_INVALID, f, "%s must be a duration like \"30s\", \"5m\", \"1h\" or \"1d\" (at most a year)", f);
	return 0;
}

static int check_message(json_t *v, const char *f, void *ctx, struct err *e)
{
	(void)ctx;
	const char *m = json_string_value(v);
	if (json_string_length(v) > 500)
		return err_field(e, ERR_INVALID, f, "%s is at most 500 bytes", f);
	for (size_t i = 0; i < json_string_length(v); i++)
		if ((unsigned char)m[i] < 0x20 && m[i] != '\n')
			return err_field(e, ERR_INVALID, f, "%s may hold newlines but no other control characters", f);
	return 0;
}

static const struct jfield restore_fields[] = {
	JF_JSON("every", JT_STRING, true, check_duration, NULL),
	JF_JSON("warn", JT_STRING, false, check_duration, NULL),
	JF_JSON("message", JT_STRING, false, check_message, NULL),
	JF_JSON("snapshot", JT_STRING, true, check_name_value, NULL),
	JF_END,
};

/* OpenRoot-style auto-restore: every `every`, `warn` ahead a message to the jail's
 * terminals, then its files back as snapshot `snapshot` has them. */
static int check_restore(json_t *v, const char *f, void *ctx, struct err *e)
{
	char sub[64];
	if (json_parse_fields(v, restore_fields, f, ctx, e))
		return -1;
	int64_t every, warn = 0;
	duration_parse(json_string_value(json_object_get(v, "every")), &every);
	if (json_object_get(v, "warn"))
		duration_parse(json_string_value(json_object_get(v, "warn")), &warn);
	snprintf(sub, sizeof sub, "%s.every", f);
	if (every < 2)
		return err_field(e, ERR_INVALID, sub, "%s must be at least 2s", sub);
	snprintf(sub, sizeof sub, "%s.warn", f);
	if (warn >= every)
		return err_field(e, ERR_INVALID, sub, "%s must be shorter than every", sub);
	return 0;
}

static int check_tenant(json_t *v, const char *f, void *ctx, struct err *e)
{
	return check_name_value(v, f, ctx, e);
}

/* Every field a user may send in a create; read-only fields are refused as unknown. */
static const struct jfield create_fields[] = {
	JF_JSON("name", JT_STRING, true, check_name_value, NULL),
	JF_JSON("tenant", JT_STRING, false, check_tenant, NULL),
	JF_JSON("hostname", JT_STRING, false, check_hostname, NULL),
	JF_JSON("template", JT_STRING, false, check_name_value, NULL),
	JF_JSON("type", JT_STRING, false, check_type, NULL),
	JF_JSON("ip4", JT_ARRAY, false, check_ip4, NULL),
	JF_JSON("ip6", JT_ARRAY, false, check_ip6, NULL),
	JF_JSON("command", JT_ARRAY, false, check_command, NULL),
	JF_JSON("stop_command", JT_ARRAY, false, check_stop_command, NULL),
	JF_JSON("stop_timeout", JT_INT, false, check_stop_timeout, NULL),
	JF_JSON("mounts", JT_ARRAY, false, check_mounts, NULL),
	JF_JSON("limits", JT_OBJECT, false, check_limits, NULL),
	JF_JSON("allow", JT_OBJECT, false, check_allow, NULL),
	JF_JSON("boot", JT_BOOL, false, NULL, NULL),
	JF_JSON("priority", JT_INT, false, check_priority, NULL),
	JF_JSON("restore", JT_OBJECT, false, check_restore, NULL),
	JF_JSON("ports", JT_ARRAY, false, check_ports, NULL),
	JF_JSON("firewall", JT_OBJECT, false, check_firewall, NULL),
	JF_END,
};

static void set_default(json_t *o, const char *k, json_t *v)
{
	if (!json_object_get(o, k))
		json_object_set_new(o, k, v);
	else
		json_decref(v);
}

/* Canonical: limits sizes as bytes-exact strings, allow with all four flags. */
static json_t *canonicalize(json_t *body)
{
	json_t *c = json_deep_copy(body);
	json_object_del(c, "tenant");
	set_default(c, "hostname", json_string(json_string_value(json_object_get(c, "name"))));
	set_default(c, "template", json_string("minimal"));
	set_default(c, "type", json_string("thin"));
	set_default(c, "ip4", json_array());
	set_default(c, "ip6", json_array());
	set_default(c, "command", json_pack("[ss]", "/bin/sh", "/etc/rc"));
	set_default(c, "stop_command", json_array());
	set_default(c, "stop_timeout", json_integer(10));
	set_default(c, "mounts", json_array());
	set_default(c, "limits", json_object());
	set_default(c, "allow", json_object());
	set_default(c, "boot", json_false());
	set_default(c, "priority", json_integer(0));
	set_default(c, "ports", json_array());
	set_default(c, "firewall", json_object());
	json_t *fw = json_object_get(c, "firewall");
	set_default(fw, "egress", json_array());
	set_default(fw, "ingress", json_array());
	size_t k;
	json_t *o;
	json_array_foreach(json_object_get(c, "ports"), k, o) {
		set_default(o, "proto", json_string("tcp"));
		set_default(o, "port", json_incref(json_object_get(o, "host_port")));
	}
	json_array_foreach(json_object_get(fw, "egress"), k, o)
		set_default(o, "proto", json_string("any"));
	json_array_foreach(json_object_get(fw, "ingress"), k, o)
		set_default(o, "proto", json_string("any"));
	json_t *allow = json_object_get(c, "allow");
	const char *flags[] = { "set_hostname", "raw_sockets", "sysvipc", "chflags", "nesting" };
	for (size_t i = 0; i < sizeof flags / sizeof *flags; i++)
		set_default(allow, flags[i], json_false());
	json_t *limits = json_object_get(c, "limits");
	json_t *mem = json_object_get(limits, "memoryuse");
	if (mem) {
		int64_t b = 0;
		char buf[32];
		if (json_is_integer(mem))
			b = json_integer_value(mem);
		else
			size_parse(json_string_value(mem), &b);
		size_format(b, buf, sizeof buf);
		json_object_set_new(limits, "memoryuse", json_string(buf));
	}
	size_t i;
	json_t *m;
	json_array_foreach(json_object_get(c, "mounts"), i, m)
		set_default(m, "readonly", json_true());
	return c;
}

json_t *jail_spec_from_request(json_t *body, const struct host_rules *h, struct err *e)
{
	if (json_parse_fields(body, create_fields, "", (void *)h, e))
		return NULL;
	if (json_array_size(json_object_get(body, "ports")) && !json_array_size(json_object_get(body, "ip4")) &&
	    !json_array_size(json_object_get(body, "ip6")))
		return err_field(e, ERR_INVALID, "ports", "ports need an address to forward to: give the jail ip4 (\"auto\", say)"), NULL;
	return canonicalize(body);
}

json_t *json_merge_patch(json_t *target, json_t *patch)
{
	if (!json_is_object(patch))
		return json_deep_copy(patch);
	json_t *res = json_is_object(target) ? json_deep_copy(target) : json_object();
	const char *k;
	json_t *v;
	json_object_foreach(patch, k, v) {
		if (json_is_null(v))
			json_object_del(res, k);
		else
			json_object_set_new(res, k, json_merge_patch(json_object_get(res, k), v));
	}
	return res;
}

json_t *jail_spec_patch(json_t *canon, json_t *patch, const struct host_rules *h, bool *addresses_changed, struct err *e)
{
	if (!json_is_object(patch))
		return err_set(e, ERR_INVALID, "the request body must be a JSON object"), NULL;
	static const char *const fixed[] = { "name", "tenant", "template", "type" };
	for (size_t i = 0; i < sizeof fixed / sizeof *fixed; i++) {
		json_t *v = json_object_get(patch, fixed[i]);
		if (v && !json_equal(v, json_object_get(canon, fixed[i])))
			return err_field(e, ERR_INVALID, fixed[i], "%s cannot be changed after creation; create a new jail", fixed[i]), NULL;
	}
	/* a merge patch: limits and allow merge key by key, null takes a setting back to
	 * its default (a limit: the host's default) */
	json_t *merged = json_merge_patch(canon, patch);
	json_t *res = jail_spec_from_request(merged, h, e);
	json_decref(merged);
	if (!res)
		return NULL;
	/* a jail's disk (limits.disk) is made at create and can only grow */
	struct jail_limits was, now;
	jail_limits_of(canon, h, &was);
	jail_limits_of(res, h, &now);
	const char *why = was.disk < 0 && now.disk >= 0   ? "limits.disk can only be given when the jail is created"
			  : was.disk >= 0 && now.disk < 0 ? "limits.disk cannot be removed from a jail that has a disk of its own"
			  : now.disk < was.disk          ? "limits.disk can only grow; shrinking could lose the jail's files"
							 : NULL;
	if (why) {
		json_decref(res);
		return err_field(e, ERR_INVALID, "limits.disk", "%s", why), NULL;
	}
	*addresses_changed = !json_equal(json_object_get(res, "ip4"), json_object_get(canon, "ip4")) ||
			     !json_equal(json_object_get(res, "ip6"), json_object_get(canon, "ip6"));
	return res;
}

void jail_limits_of(json_t *canon, const struct host_rules *h, struct jail_limits *out)
{
	limits_from_object(json_object_get(canon, "limits"), out);
	int64_t *v[] = { &out->maxproc, &out->memoryuse, &out->pcpu, &out->openfiles };
	const int64_t d[] = { h->defaults.maxproc, h->defaults.memoryuse, h->defaults.pcpu, h->defaults.openfiles };
	for (size_t i = 0; i < sizeof v / sizeof *v; i++)
		if (*v[i] < 0)
			*v[i] = d[i];
}

static int pack_argv(json_t *arr, struct argv_buf *out, const char *f, struct err *e)
{
	const char *argv[ARGV_MAX + 1];
	size_t i, n = json_array_size(arr);
	json_t *a;
	if (n > ARGV_MAX)
		return err_field(e, ERR_INVALID, f, "%s is too long", f);
	json_array_foreach(arr, i, a) argv[i] = json_string_value(a);
	return argv_pack(out, argv, n, f, e);
}

int jail_spec_to_wire(json_t *c, const char *name, const struct host_rules *h, struct jail_spec *out, struct err *e)
{
	memset(out, 0, sizeof *out);
	snprintf(out->name, sizeof out->name, "%s", name);
	snprintf(out->hostname, sizeof out->hostname, "%s", json_string_value(json_object_get(c, "hostname")));
	snprintf(out->tmpl, sizeof out->tmpl, "%s", json_string_value(json_object_get(c, "template")));
	out->type = strcmp(json_string_value(json_object_get(c, "type")), "thick") == 0 ? JAIL_THICK : JAIL_THIN;
	json_t *allow = json_object_get(c, "allow");
	out->allow = (uint8_t)((json_is_true(json_object_get(allow, "set_hostname")) ? ALLOW_SET_HOSTNAME : 0) |
			       (json_is_true(json_object_get(allow, "raw_sockets")) ? ALLOW_RAW_SOCKETS : 0) |
			       (json_is_true(json_object_get(allow, "sysvipc")) ? ALLOW_SYSVIPC : 0) |
			       (json_is_true(json_object_get(allow, "chflags")) ? ALLOW_CHFLAGS : 0) |
			       (json_is_true(json_object_get(allow, "nesting")) ? ALLOW_NESTING : 0));
	size_t i;
	json_t *v;
	json_array_foreach(json_object_get(c, "ip4"), i, v) {
		if (i >= IP4_MAX || inet_pton(AF_INET, json_string_value(v), &out->ip4[i]) != 1)
			return err_field(e, ERR_INVALID, "ip4", "ip4 holds an address that is not resolved");
		out->nip4 = (uint8_t)(i + 1);
	}
	json_array_foreach(json_object_get(c, "ip6"), i, v) {
		if (i >= IP6_MAX || inet_pton(AF_INET6, json_string_value(v), out->ip6[i]) != 1)
			return err_field(e, ERR_INVALID, "ip6", "ip6 holds an address that is not resolved");
		out->nip6 = (uint8_t)(i + 1);
	}
	out->stop_timeout = (uint32_t)json_integer_value(json_object_get(c, "stop_timeout"));
	if (pack_argv(json_object_get(c, "command"), &out->command, "command", e) ||
	    pack_argv(json_object_get(c, "stop_command"), &out->stop_command, "stop_command", e))
		return -1;
	json_array_foreach(json_object_get(c, "mounts"), i, v) {
		if (i >= MOUNTS_MAX)
			break;
		snprintf(out->mounts[i].source, JPATH_SIZE, "%s", json_string_value(json_object_get(v, "source")));
		snprintf(out->mounts[i].target, JPATH_SIZE, "%s", json_string_value(json_object_get(v, "target")));
		out->mounts[i].readonly = json_is_true(json_object_get(v, "readonly"));
		out->nmounts = (uint32_t)(i + 1);
	}
	jail_limits_of(c, h, &out->limits);
	if (net_of(c, &out->net, e))
		return -1;
	return spec_check(out, e);
}

json_t *jail_spec_of(const struct jail_row *row)
{
	json_t *j = row->spec ? json_loads(row->spec, 0, NULL) : NULL;
	return json_is_object(j) ? j : (json_decref(j), json_object());
}

/* A limit as the store sums it: integers as they are, sizes ("256M") in bytes, absent -1. */
static int64_t limit_bytes(json_t *v)
{
	int64_t b = -1;
	if (json_is_integer(v))
		b = json_integer_value(v);
	else if (json_is_string(v) && size_parse(json_string_value(v), &b) < 0)
		b = -1;
	return b;
}

static char *render_spec(void *ctx, const struct jail_addrs *got, struct err *e)
{
	json_t *canon = ctx, *n4 = json_array(), *n6 = json_array();
	for (int i = 0; i < got->n4; i++)
		json_array_append_new(n4, json_string(got->ip4[i]));
	for (int i = 0; i < got->n6; i++)
		json_array_append_new(n6, json_string(got->ip6[i]));
	json_object_set_new(canon, "ip4", n4);
	json_object_set_new(canon, "ip6", n6);
	char *text = json_dumps(canon, JSON_COMPACT | JSON_SORT_KEYS);
	if (!text)
		err_set(e, ERR_INTERNAL, "writing a jail's spec: out of memory");
	return text;
}

void jail_write_of(json_t *canon, struct jail_write *w)
{
	memset(w, 0, sizeof *w);
	size_t i;
	json_t *v;
	json_array_foreach(json_object_get(canon, "ip4"), i, v)
		if (w->addrs.n4 < IP4_MAX)
			snprintf(w->addrs.ip4[w->addrs.n4++], sizeof w->addrs.ip4[0], "%s", json_string_value(v));
	json_array_foreach(json_object_get(canon, "ip6"), i, v)
		if (w->addrs.n6 < IP6_MAX)
			snprintf(w->addrs.ip6[w->addrs.n6++], sizeof w->addrs.ip6[0], "%s", json_string_value(v));
	json_t *l = json_object_get(canon, "limits");
	w->boot = json_is_true(json_object_get(canon, "boot"));
	w->priority = (int)json_integer_value(json_object_get(canon, "priority"));
	w->memoryuse = limit_bytes(json_object_get(l, "memoryuse"));
	w->maxproc = limit_bytes(json_object_get(l, "maxproc"));
	w->disk = limit_bytes(json_object_get(l, "disk"));
	json_array_foreach(json_object_get(canon, "ports"), i, v)
		if (w->nports < PORTS_MAX) {
			snprintf(w->ports[w->nports].proto, sizeof w->ports[0].proto, "%s", json_string_value(json_object_get(v, "proto")));
			w->ports[w->nports++].host_port = (int)json_integer_value(json_object_get(v, "host_port"));
		}
	w->render = render_spec;
	w->ctx = canon;
}
