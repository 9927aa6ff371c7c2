/* Validators and size parsing: the rules both sides of the boundary apply. */
#include <arpa/inet.h>
#include <string.h>

#include "check.h"
#include "size.h"
#include "validate.h"

static void names(void)
{
	CHECK(valid_name("web1"));
	CHECK(valid_name("0"));
	CHECK(valid_name("a-b-c"));
	char longest[64];
	memset(longest, 'a', 63);
	longest[63] = '\0';
	CHECK(valid_name(longest));
	longest[62] = '\0';
	CHECK(valid_name(longest));
	char toolong[65];
	memset(toolong, 'a', 64);
	toolong[64] = '\0';
	CHECK(!valid_name(toolong));
	CHECK(!valid_name(""));
	CHECK(!valid_name("-web"));
	CHECK(!valid_name("Web"));
	CHECK(!valid_name("web_1"));
	CHECK(!valid_name("../etc"));
	CHECK(!valid_name("a/b"));
	CHECK(!valid_name("a b"));
}

static void hostnames(void)
{
	CHECK(valid_hostname("web1"));
	CHECK(valid_hostname("www.example.com"));
	CHECK(valid_hostname("A-1.b"));
	CHECK(!valid_hostname(""));
	CHECK(!valid_hostname("-a"));
	CHECK(!valid_hostname("a-"));
	CHECK(!valid_hostname("a..b"));
	CHECK(!valid_hostname(".a"));
	CHECK(!valid_hostname("a_b"));
	CHECK(!valid_hostname("a b"));
	char label[70];
	memset(label, 'a', 64);
	label[64] = '\0';
	CHECK(!valid_hostname(label));
}

static void paths(void)
{
	CHECK(valid_abs_path("/srv/www"));
	CHECK(valid_abs_path("/"));
	CHECK(!valid_abs_path("srv"));
	CHECK(!valid_abs_path("/srv/"));
	CHECK(!valid_abs_path("/srv//www"));
	CHECK(!valid_abs_path("/srv/../etc"));
	CHECK(!valid_abs_path("/srv/./www"));
	CHECK(!valid_abs_path("/srv/a,b"));
	CHECK(!valid_abs_path("/srv/a:b"));
	CHECK(!valid_abs_path("/srv/a b"));
	CHECK(path_beneath("/srv/www", "/srv"));
	CHECK(path_beneath("/srv", "/srv"));
	CHECK(!path_beneath("/srvx", "/srv"));
	CHECK(!path_beneath("/etc", "/srv"));
}

static void pools(void)
{
	struct pool4 p;
	struct pool6 p6;
	struct err e;
	CHECK(pool4_parse("10.77.0.0/16", &p, &e) == 0);
	CHECK(p.net == 0x0a4d0000 && p.prefix == 16);
	CHECK(pool4_parse("10.77.1.5/16", &p, &e) == 0 && p.net == 0x0a4d0000);
	CHECK(pool4_parse("10.77.0.0", &p, &e) < 0);
	CHECK(pool4_parse("10.77.0.0/33", &p, &e) < 0);
	CHECK(pool4_parse("nonsense/8", &p, &e) < 0);
	pool4_parse("10.77.0.0/16", &p, &e);
	CHECK(pool4_contains(&p, 0x0a4d0002));
	CHECK(!pool4_contains(&p, 0x0a4d0000)); /* network */
	CHECK(!pool4_contains(&p, 0x0a4d0001)); /* reserved .1 */
	CHECK(!pool4_contains(&p, 0x0a4dffff)); /* broadcast */
	CHECK(!pool4_contains(&p, 0x0a4e0002)); /* outside */
	CHECK(pool6_parse("fd77::/64", &p6, &e) == 0);
	uint8_t a[16];
	inet_pton(AF_INET6, "fd77::2", a);
	CHECK(pool6_contains(&p6, a));
	inet_pton(AF_INET6, "fd77::", a);
	CHECK(!pool6_contains(&p6, a));
	inet_pton(AF_INET6, "fd78::2", a);
	CHECK(!pool6_contains(&p6, a));
}

static void argvs(void)
{
	struct argv_buf b;
	struct err e;
	const char *ok[] = { "/bin/sh", "-c", "echo hi" };
	CHECK(argv_pack(&b, ok, 3, "command", &e) == 0);
	CHECK(b.argc == 3 && argv_check(&b, 0, "command", &e) == 0);
	char *out[ARGV_MAX + 1];
	CHECK(argv_unpack(&b, out) == 3 && strcmp(out[2], "echo hi") == 0 && out[3] == NULL);
	/* a bare program name: for exec (the jail's PATH finds it), not for a jail's command */
	const char *bare[] = { "sh", "-c", "true" };
	CHECK(argv_pack(&b, bare, 3, "command", &e) == 0);
	CHECK(argv_check(&b, ARGV_PATH_LOOKUP, "command", &e) == 0);
	CHECK(argv_check(&b, 0, "command", &e) < 0 && strcmp(e.field, "command") == 0);
	const char *rel[] = { "bin/sh" };
	CHECK(argv_pack(&b, rel, 1, "command", &e) < 0 && strcmp(e.field, "command") == 0);
	CHECK(argv_pack(&b, NULL, 0, "stop_command", &e) == 0);
	CHECK(argv_check(&b, 0, "command", &e) < 0);
	CHECK(argv_check(&b, ARGV_MAY_BE_EMPTY, "stop_command", &e) == 0);
	/* a forged buffer: argc says 2, only one string */
	memset(&b, 0, sizeof b);
	strcpy(b.bytes, "/bin/sh");
	b.len = 8;
	b.argc = 2;
	CHECK(argv_check(&b, 0, "command", &e) < 0);
	/* bytes after len */
	b.argc = 1;
	b.bytes[100] = 'x';
	CHECK(argv_check(&b, 0, "command", &e) < 0);
	char big[5000];
	memset(big, 'a', sizeof big - 1);
	big[0] = '/';
	big[sizeof big - 1] = '\0';
	const char *huge[] = { big };
	CHECK(argv_pack(&b, huge, 1, "command", &e) < 0);
}

static void sizes(void)
{
	int64_t v;
	CHECK(duration_parse("90s", &v) == 0 && v == 90);
	CHECK(duration_parse("5m", &v) == 0 && v == 300);
	CHECK(duration_parse("1h", &v) == 0 && v == 3600);
	CHECK(duration_parse("2d", &v) == 0 && v == 172800);
	CHECK(duration_parse("45", &v) == 0 && v == 45);
	CHECK(duration_parse("", &v) < 0 && duration_parse("5x", &v) < 0 && duration_parse("m", &v) < 0);
	CHECK(duration_parse("-5s", &v) < 0 && duration_parse("5s ", &v) < 0 && duration_parse("99999999999999999999s", &v) < 0);
	CHECK(size_parse("256M", &v) == 0 && v == 256LL << 20);
	CHECK(size_parse("1G", &v) == 0 && v == 1LL << 30);
	CHECK(size_parse("4096", &v) == 0 && v == 4096);
	CHECK(size_parse("1k", &v) == 0 && v == 1024);
	CHECK(size_parse("", &v) < 0);
	CHECK(size_parse("M", &v) < 0);
	CHECK(size_parse("12X", &v) < 0);
	CHECK(size_parse("-1M", &v) < 0);
	CHECK(size_parse("99999999999999999999", &v) < 0);
	CHECK(size_parse("9999999999T", &v) < 0);
	CHECK(size_parse("2T", &v) == 0 && v == 2LL << 40);
	/* rates are decimal, as network speeds are */
	CHECK(rate_parse("10M", &v) == 0 && v == 10000000);
	CHECK(rate_parse("1G", &v) == 0 && v == 1000000000);
	CHECK(rate_parse("64k", &v) == 0 && v == 64000);
	CHECK(rate_parse("1T", &v) < 0 && rate_parse("fast", &v) < 0 && rate_parse("10Mbit", &v) < 0 && rate_parse("", &v) < 0);
	char buf[32];
	size_format(256LL << 20, buf, sizeof buf);
	CHECK(strcmp(buf, "256M") == 0);
	size_format(1000, buf, sizeof buf);
	CHECK(strcmp(buf, "1000") == 0);
}

static void limits(void)
{
	struct jail_limits l = { -1, -1, -1, -1, -1 };
	struct err e;
	CHECK(limits_check(&l, &e) == 0);
	l.maxproc = 0;
	CHECK(limits_check(&l, &e) < 0 && strcmp(e.field, "limits.maxproc") == 0);
	l.maxproc = 64;
	l.memoryuse = 1024;
	CHECK(limits_check(&l, &e) < 0 && strcmp(e.field, "limits.memoryuse") == 0);
	l.memoryuse = 64 << 20;
	l.openfiles = 5;
	CHECK(limits_check(&l, &e) < 0);
	l.openfiles = 1024;
	CHECK(limits_check(&l, &e) == 0);
}

/* What the helper takes of a jail's network from jaild: forwards, rules, bandwidth. */
static void networks(void)
{
	struct err e;
	struct jail_net n = { 0 };
	CHECK(net_check(&n, &e) == 0);
	n.nports = 2;
	n.ports[0] = (struct jail_port){ .proto = NET_TCP, .host_port = 8080, .port = 80 };
	n.ports[1] = (struct jail_port){ .proto = NET_UDP, .host_port = 8080, .port = 53 };
	CHECK(net_check(&n, &e) == 0);
	n.ports[1].proto = NET_TCP; /* the same host port twice */
	CHECK(net_check(&n, &e) < 0 && strcmp(e.field, "ports[1]") == 0);
	n.ports[1].proto = NET_ICMP;
	CHECK(net_check(&n, &e) < 0);
	n.ports[1] = (struct jail_port){ .proto = NET_TCP, .host_port = 0, .port = 80 };
	CHECK(net_check(&n, &e) < 0);
	n.nports = PORTS_MAX + 1;
	CHECK(net_check(&n, &e) < 0 && strcmp(e.field, "ports") == 0);
	n = (struct jail_net){ .negress = 1 };
	n.egress[0] = (struct net_rule){ .allow = 1, .proto = NET_TCP, .family = 4, .prefix = 8, .nports = 1, .ports = { { 80, 90 } } };
	inet_pton(AF_INET, "10.0.0.0", n.egress[0].addr);
	CHECK(net_check(&n, &e) == 0);
	inet_pton(AF_INET, "10.0.0.5", n.egress[0].addr); /* host bits past the prefix */
	CHECK(net_check(&n, &e) < 0 && strcmp(e.field, "firewall.egress[0]") == 0);
	inet_pton(AF_INET, "10.0.0.0", n.egress[0].addr);
	n.egress[0].ports[0][0] = 91; /* a range backwards */
	CHECK(net_check(&n, &e) < 0);
	n.egress[0].ports[0][0] = 80;
	n.egress[0].proto = NET_ICMP; /* icmp has no ports */
	CHECK(net_check(&n, &e) < 0);
	n.egress[0].proto = 47;
	n.egress[0].nports = 0;
	CHECK(net_check(&n, &e) < 0);
	n.egress[0].proto = NET_ANY;
	n.egress[0].family = 6;
	n.egress[0].prefix = 129;
	CHECK(net_check(&n, &e) < 0);
	n = (struct jail_net){ .bandwidth = BANDWIDTH_MAX + 1 };
	CHECK(net_check(&n, &e) < 0 && strcmp(e.field, "limits.bandwidth") == 0);
	CHECK(valid_ifname("eth0") && valid_ifname("enp3s0.100") && !valid_ifname("") && !valid_ifname("a\"b") &&
	      !valid_ifname("0123456789abcdef") && !valid_ifname("up0*"));
}

int main(void)
{
	names();
	hostnames();
	paths();
	pools();
	argvs();
	sizes();
	limits();
	networks();
	return check_done();
}
