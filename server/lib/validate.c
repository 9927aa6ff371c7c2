#include "validate.h"

#include <arpa/inet.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool str_terminated(const char *field, size_t size)
{
	return memchr(field, '\0', size) != NULL;
}

bool valid_name(const char *s)
{
	size_t n = strlen(s);
	if (n < 1 || n > 63)
		return false;
	if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9')))
		return false;
	for (size_t i = 1; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
			return false;
	}
	return true;
}

bool valid_ifname(const char *s)
{
	size_t n = strlen(s);
	if (n < 1 || n > 15)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.'))
			return false;
	}
	return true;
}

bool valid_hostname(const char *s)
{
	size_t n = strlen(s), label = 0;
	if (n < 1 || n > 253)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == '.') {
			if (label == 0 || s[i - 1] == '-')
				return false;
			label = 0;
			continue;
		}
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
		if (!ok || (label == 0 && c == '-') || ++label > 63)
			return false;
	}
	return label > 0 && s[n - 1] != '-';
}

bool valid_abs_path(const char *s)
{
	size_t n = strlen(s);
	if (n < 1 || n >= JPATH_SIZE || s[0] != '/')
		return false;
	if (n == 1)
		return true;
	if (s[n - 1] == '/')
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x21 || c > 0x7e || c == ',' || c == ':' || c == '\\')
			return false;
	}
	/* every component non-empty and neither "." nor ".." */
	const char *p = s;
	while (*p) {
		p++; /* skip '/' */
		const char *end = strchr(p, '/');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if (len == 0 || (len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.'))
			return false;
		p += len;
	}
	return true;
}

bool path_beneath(const char *path, const char *base)
{
	size_t bn = strlen(base);
	if (strcmp(base, "/") == 0)
		return true;
	return strncmp(path, base, bn) == 0 && (path[bn] == '\0' || path[bn] == '/');
}

static int parse_prefix(const char *s, unsigned max, unsigned *out)
{
	char *end;
	if (!*s)
		return -1;
	unsigned long v = strtoul(s, &end, 10);
	if (*end || v > max)
		return -1;
	*out = (unsigned)v;
	return 0;
}

int pool4_parse(const char *cidr, struct pool4 *out, struct err *e)
{
	char buf[64];
	snprintf(buf, sizeof buf, "%s", cidr);
	char *slash = strchr(buf, '/');
	struct in_addr a;
	if (!slash || (*slash = '\0', inet_pton(AF_INET, buf, &a) != 1) ||
	    parse_prefix(slash + 1, 30, &out->prefix) || out->prefix < 8)
		return err_set(e, ERR_INVALID, "address pool '%s' is not an IPv4 CIDR like 10.77.0.0/16 (prefix 8 to 30)", cidr);
	uint32_t mask = out->prefix ? ~0u << (32 - out->prefix) : 0;
	out->net = ntohl(a.s_addr) & mask;
	return 0;
}

int pool6_parse(const char *cidr, struct pool6 *out, struct err *e)
{
	char buf[80];
	snprintf(buf, sizeof buf, "%s", cidr);
	char *slash = strchr(buf, '/');
	if (!slash || (*slash = '\0', inet_pton(AF_INET6, buf, out->net) != 1) ||
	    parse_prefix(slash + 1, 120, &out->prefix) || out->prefix < 16)
		return err_set(e, ERR_INVALID, "address pool '%s' is not an IPv6 CIDR like fd77::/64 (prefix 16 to 120)", cidr);
	for (unsigned bit = out->prefix; bit < 128; bit++)
		out->net[bit / 8] &= (uint8_t)~(0x80u >> (bit % 8));
	return 0;
}

bool pool4_contains(const struct pool4 *p, uint32_t a)
{
	uint32_t mask = ~0u << (32 - p->prefix);
	if ((a & mask) != p->net)
		return false;
	uint32_t host = a & ~mask;
	return host > 1 && host != ~mask; /* not network, not .1 (reserved), not broadcast */
}

bool pool6_contains(const struct pool6 *p, const uint8_t a[16])
{
	for (unsigned bit = 0; bit < p->prefix; bit++) {
		uint8_t m = (uint8_t)(0x80u >> (bit % 8));
		if ((a[bit / 8] & m) != (p->net[bit / 8] & m))
			return false;
	}
	/* not the subnet-router anycast address (host part zero) nor ::1 of the pool */
	int nonzero_low = 0;
	for (unsigned bit = p->prefix; bit < 128; bit++)
		if (a[bit / 8] & (0x80u >> (bit % 8)))
			nonzero_low++;
	return !(nonzero_low == 0 || (nonzero_low == 1 && (a[15] & 1)));
}

int argv_pack(struct argv_buf *out, const char *const *argv, size_t argc, const char *field, struct err *e)
{
	memset(out, 0, sizeof *out);
	if (argc > ARGV_MAX)
		return err_field(e, ERR_INVALID, field, "%s has %zu arguments; at most %d are allowed", field, argc, ARGV_MAX);
	size_t off = 0;
	for (size_t i = 0; i < argc; i++) {
		size_t n = strlen(argv[i]) + 1;
		if (off + n > ARGV_BYTES)
			return err_field(e, ERR_INVALID, field, "%s is longer than %d bytes in all; shorten it", field, ARGV_BYTES);
		memcpy(out->bytes + off, argv[i], n);
		off += n;
	}
	out->argc = (uint32_t)argc;
	out->len = (uint32_t)off;
	return argv_check(out, ARGV_MAY_BE_EMPTY | ARGV_PATH_LOOKUP, field, e);
}

int argv_check(const struct argv_buf *a, unsigned flags, const char *field, struct err *e)
{
	bool allow_empty = flags & ARGV_MAY_BE_EMPTY;
	if (a->len > ARGV_BYTES || a->argc > ARGV_MAX)
		return err_field(e, ERR_INVALID, field, "%s is too long", field);
	if (a->argc == 0) {
		if (!allow_empty || a->len != 0)
			return err_field(e, ERR_INVALID, field, "%s must name a program to run, like [\"/bin/sh\", \"/etc/rc\"]", field);
		return 0;
	}
	/* exactly argc NUL-terminated strings in len bytes, and nothing after them */
	uint32_t count = 0;
	for (uint32_t i = 0; i < a->len; i++)
		if (a->bytes[i] == '\0')
			count++;
	if (count != a->argc || a->len == 0 || a->bytes[a->len - 1] != '\0')
		return err_field(e, ERR_INVALID, field, "%s is not a well-formed argument list", field);
	for (uint32_t i = a->len; i < ARGV_BYTES; i++)
		if (a->bytes[i] != '\0')
			return err_field(e, ERR_INVALID, field, "%s has bytes past its end", field);
	if (a->bytes[0] == '/')
		return 0;
	if ((flags & ARGV_PATH_LOOKUP) && !strchr(a->bytes, '/'))
		return 0;
	if (flags & ARGV_PATH_LOOKUP)
		return err_field(e, ERR_INVALID, field, "%s[0] must be a program name (found in the jail's PATH) or an absolute path, like /bin/sh",
				 field);
	return err_field(e, ERR_INVALID, field, "%s[0] must be an absolute path inside the jail, like /bin/sh", field);
}

size_t argv_unpack(const struct argv_buf *a, char **out)
{
	size_t n = 0;
	uint32_t off = 0;
	while (n < a->argc && off < a->len) {
		out[n++] = (char *)a->bytes + off;
		off += (uint32_t)strlen(a->bytes + off) + 1;
	}
	out[n] = NULL;
	return n;
}

int limits_check(const struct jail_limits *l, struct err *e)
{
	if (l->maxproc != -1 && (l->maxproc < 1 || l->maxproc > 4194304))
		return err_field(e, ERR_INVALID, "limits.maxproc", "limits.maxproc must be between 1 and 4194304");
	if (l->memoryuse != -1 && (l->memoryuse < (4 << 20) || l->memoryuse > ((int64_t)1 << 50)))
		return err_field(e, ERR_INVALID, "limits.memoryuse", "limits.memoryuse must be at least 4M, like \"256M\"");
	if (l->pcpu != -1 && (l->pcpu < 1 || l->pcpu > 100 * 1024))
		return err_field(e, ERR_INVALID, "limits.pcpu", "limits.pcpu is a percentage of one CPU, from 1 up");
	if (l->openfiles != -1 && (l->openfiles < 16 || l->openfiles > 1048576))
		return err_field(e, ERR_INVALID, "limits.openfiles", "limits.openfiles must be between 16 and 1048576");
	/* a disk is a sparse file: 16 TiB is the largest file ext4 holds */
	if (l->disk != -1 && (l->disk < (16 << 20) || l->disk >= ((int64_t)16 << 40)))
		return err_field(e, ERR_INVALID, "limits.disk", "limits.disk must be from 16M to under 16T, like \"1G\"");
	return 0;
}

/* addr's bits past prefix are all zero */
static bool prefix_clean(const uint8_t *addr, unsigned bytes, unsigned prefix)
{
	for (unsigned bit = prefix; bit < bytes * 8; bit++)
		if (addr[bit / 8] & (0x80 >> (bit % 8)))
			return false;
	return true;
}

static int rule_check(const struct net_rule *r, const char *f, struct err *e)
{
	if (r->allow > 1)
		return err_field(e, ERR_INVALID, f, "%s.action must be \"allow\" or \"deny\"", f);
	if (r->proto != NET_ANY && r->proto != NET_ICMP && r->proto != NET_TCP && r->proto != NET_UDP)
		return err_field(e, ERR_INVALID, f, "%s.proto must be tcp, udp, icmp or any", f);
	if (r->family == 0 ? r->prefix != 0 : r->family == 4 ? r->prefix > 32 || !prefix_clean(r->addr, 4, r->prefix)
	    : r->family == 6 ? r->prefix > 128 || !prefix_clean(r->addr, 16, r->prefix) : true)
		return err_field(e, ERR_INVALID, f, "%s has an address that is not a network (CIDR) of IPv4 or IPv6", f);
	if (r->nports > RULE_PORTS_MAX || (r->nports && r->proto != NET_TCP && r->proto != NET_UDP && r->proto != NET_ANY))
		return err_field(e, ERR_INVALID, f, "%s.ports: at most %d ports or ranges, and only for tcp, udp or any", f, RULE_PORTS_MAX);
	for (unsigned i = 0; i < r->nports; i++)
		if (r->ports[i][0] == 0 || r->ports[i][0] > r->ports[i][1])
			return err_field(e, ERR_INVALID, f, "%s.ports[%u] must be a port from 1 to 65535, or a range \"LOW-HIGH\"", f, i);
	return 0;
}

int net_check(const struct jail_net *n, struct err *e)
{
	char f[32];
	if (n->nports > PORTS_MAX)
		return err_field(e, ERR_INVALID, "ports", "at most %d port forwards", PORTS_MAX);
	if (n->negress > RULES_MAX || n->ningress > RULES_MAX)
		return err_field(e, ERR_INVALID, "firewall", "at most %d firewall rules each way", RULES_MAX);
	if (n->bandwidth > BANDWIDTH_MAX)
		return err_field(e, ERR_INVALID, "limits.bandwidth", "limits.bandwidth is at most 100G (bits per second)");
	for (uint32_t i = 0; i < n->nports; i++) {
		const struct jail_port *p = &n->ports[i];
		snprintf(f, sizeof f, "ports[%u]", i);
		if ((p->proto != NET_TCP && p->proto != NET_UDP) || p->host_port == 0 || p->port == 0)
			return err_field(e, ERR_INVALID, f, "%s needs proto tcp or udp and ports from 1 to 65535", f);
		for (uint32_t k = 0; k < i; k++)
			if (n->ports[k].proto == p->proto && n->ports[k].host_port == p->host_port)
				return err_field(e, ERR_INVALID, f, "%s repeats host_port %u", f, p->host_port);
	}
	for (uint32_t i = 0; i < n->negress; i++) {
		snprintf(f, sizeof f, "firewall.egress[%u]", i);
		if (rule_check(&n->egress[i], f, e))
			return -1;
	}
	for (uint32_t i = 0; i < n->ningress; i++) {
		snprintf(f, sizeof f, "firewall.ingress[%u]", i);
		if (rule_check(&n->ingress[i], f, e))
			return -1;
	}
	return 0;
}

int spec_check(const struct jail_spec *s, struct err *e)
{
	if (!str_terminated(s->name, sizeof s->name) || !valid_name(s->name))
		return err_field(e, ERR_INVALID, "name", "name must be 1 to 63 lowercase letters, digits and dashes, starting with a letter or digit");
	if (!str_terminated(s->hostname, sizeof s->hostname) || !valid_hostname(s->hostname))
		return err_field(e, ERR_INVALID, "hostname", "hostname must be a valid DNS name (letters, digits, '-' and '.', at most 253 characters)");
	if (!str_terminated(s->tmpl, sizeof s->tmpl) || !valid_name(s->tmpl))
		return err_field(e, ERR_INVALID, "template", "template must be a template name");
	if (s->type != JAIL_THIN && s->type != JAIL_THICK)
		return err_field(e, ERR_INVALID, "type", "type must be \"thin\" or \"thick\"");
	if (s->allow & ~(ALLOW_SET_HOSTNAME | ALLOW_RAW_SOCKETS | ALLOW_SYSVIPC | ALLOW_CHFLAGS | ALLOW_NESTING))
		return err_field(e, ERR_INVALID, "allow", "unknown allow flag");
	if (s->nip4 > IP4_MAX)
		return err_field(e, ERR_INVALID, "ip4", "at most %d IPv4 addresses", IP4_MAX);
	if (s->nip6 > IP6_MAX)
		return err_field(e, ERR_INVALID, "ip6", "at most %d IPv6 addresses", IP6_MAX);
	if (s->stop_timeout > 3600)
		return err_field(e, ERR_INVALID, "stop_timeout", "stop_timeout must be between 0 and 3600 seconds");
	if (argv_check(&s->command, false, "command", e) || argv_check(&s->stop_command, true, "stop_command", e))
		return -1;
	if (s->nmounts > MOUNTS_MAX)
		return err_field(e, ERR_INVALID, "mounts", "at most %d mounts", MOUNTS_MAX);
	for (uint32_t i = 0; i < s->nmounts; i++) {
		const struct jail_mount *m = &s->mounts[i];
		char f[64];
		snprintf(f, sizeof f, "mounts[%u].source", i);
		if (!str_terminated(m->source, sizeof m->source) || !valid_abs_path(m->source) || strcmp(m->source, "/") == 0)
			return err_field(e, ERR_INVALID, f, "%s must be a clean absolute host path (no '..', '//', ',' or ':')", f);
		snprintf(f, sizeof f, "mounts[%u].target", i);
		if (!str_terminated(m->target, sizeof m->target) || !valid_abs_path(m->target) ||
		    strcmp(m->target, "/") == 0 || path_beneath(m->target, "/proc") || path_beneath(m->target, "/dev"))
			return err_field(e, ERR_INVALID, f, "%s must be a clean absolute path inside the jail, not /, /proc or /dev", f);
		if (m->readonly > 1)
			return err_field(e, ERR_INVALID, f, "readonly must be true or false");
	}
	if (s->net.nports && s->nip4 == 0 && s->nip6 == 0)
		return err_field(e, ERR_INVALID, "ports", "ports need an address to forward to: give the jail ip4 or ip6");
	return limits_check(&s->limits, e) || net_check(&s->net, e) ? -1 : 0;
}
