#include "core/host.h"

#include <arpa/inet.h>
#include <sys/socket.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#include "core/jails.h"
#include "core/priv_client.h"
#include "log.h"
#include "os/os.h"
#include "resolv.h"

bool host_routes_addr4(uint32_t addr)
{
	/* /proc/net/route: Iface Destination Gateway Flags RefCnt Use Metric Mask ...,
	 * addresses in hex as the kernel stores them (network order, printed as an int) */
	FILE *f = fopen("/proc/net/route", "re");
	char line[256], ifname[32];
	unsigned dst, gw, flags, mask;
	bool found = false;
	uint32_t want = htonl(addr);
	if (!f)
		return false;
	if (!fgets(line, sizeof line, f)) {
		fclose(f);
		return false;
	}
	while (!found && fgets(line, sizeof line, f))
		if (sscanf(line, "%31s %x %x %x %*d %*d %*d %x", ifname, &dst, &gw, &flags, &mask) == 5)
			found = mask == 0xffffffffu && dst == want;
	fclose(f);
	return found;
}

/* /proc/net/{tcp,tcp6,udp,udp6}: local address all zeros, and for TCP state 0A (LISTEN). */
json_t *host_wildcard_listeners(const char *procnet)
{
	static const struct {
		const char *file;
		const char *proto;
		int v6;
		int tcp;
	} files[] = { { "tcp", "tcp", 0, 1 }, { "tcp6", "tcp6", 1, 1 }, { "udp", "udp", 0, 0 }, { "udp6", "udp6", 1, 0 } };
	json_t *out = json_array();
	for (size_t i = 0; i < 4; i++) {
		char path[256], line[512];
		snprintf(path, sizeof path, "%s/%s", procnet, files[i].file);
		FILE *f = fopen(path, "re");
		if (!f)
			continue;
		if (!fgets(line, sizeof line, f)) { /* header */
			fclose(f);
			continue;
		}
		while (fgets(line, sizeof line, f)) {
			char local[64];
			unsigned port, state;
			if (sscanf(line, " %*d: %63[0-9A-Fa-f]:%x %*[0-9A-Fa-f]:%*x %x", local, &port, &state) != 3)
				continue;
			bool zero = strspn(local, "0") == strlen(local);
			if (!zero || (files[i].tcp && state != 0x0A) || (!files[i].tcp && port == 0))
				continue;
			char warn[256];
			snprintf(warn, sizeof warn, "%s port %u listens on every address (%s:%u); bind it to a specific address so it is never offered where jails live",
				 files[i].proto, port, files[i].v6 ? "[::]" : "0.0.0.0", port);
			json_array_append_new(out, json_pack("{sssiss}", "proto", files[i].proto, "port", port, "message", warn));
		}
		fclose(f);
	}
	return out;
}

static int read_int_file(const char *path)
{
	char buf[16] = "";
	FILE *f = fopen(path, "re");
	if (!f)
		return -1;
	bool ok = fgets(buf, sizeof buf, f) != NULL;
	fclose(f);
	return ok ? atoi(buf) : -1;
}

/* Whether an address of ours (family, bytes) is inside a pool. */
static bool in_pool(int family, const void *a)
{
	if (family == AF_INET) {
		uint32_t v = ntohl(((const struct in_addr *)a)->s_addr), mask = J.rules.pool4.prefix ? ~0u << (32 - J.rules.pool4.prefix) : 0;
		return (v & mask) == J.rules.pool4.net;
	}
	const uint8_t *b = a;
	for (unsigned bit = 0; bit < J.rules.pool6.prefix; bit++)
		if ((b[bit / 8] ^ J.rules.pool6.net[bit / 8]) & (0x80 >> (bit % 8)))
			return false;
	return true;
}

struct forwards {
	json_t *list, *warnings;
	json_t *listeners; /* the host's own listeners on every address */
};

static void add_forward(const char *proto, int port, const char *jail, const char *state, void *arg)
{
	struct forwards *f = arg;
	json_array_append_new(f->list, json_pack("{sssiss}", "proto", proto, "host_port", port, "jail", jail));
	size_t i;
	json_t *l;
	json_array_foreach(f->listeners, i, l)
		if (json_integer_value(json_object_get(l, "port")) == port &&
		    strncmp(json_string_value(json_object_get(l, "proto")), proto, 3) == 0 && strcmp(state, "running") == 0) {
			char w[256];
			snprintf(w, sizeof w, "%s port %d is forwarded to jail %s, and a host service listens on it too: the forward takes "
				 "its connections from outside", proto, port, jail);
			json_array_append_new(f->warnings, json_pack("{ss}", "message", w));
			break;
		}
}

/* The network part: uplink, modes, resolvers, forwards in use, and what would break them. */
static json_t *host_network(json_t *listeners)
{
	char uplink[16], w[300], note[256], p[128];
	char dns[RESOLVERS_MAX][RESOLVER_SIZE];
	struct err e = { 0 };
	json_t *warnings = json_array(), *resolvers = json_array();
	char helper_note[512];
	priv_uplink(uplink, helper_note, sizeof helper_note);
	if (helper_note[0])
		json_array_append_new(warnings, json_pack("{ss}", "message", helper_note));
	if (!uplink[0])
		json_array_append_new(warnings, json_pack("{ss}", "message",
							  "no uplink: jails reach the host only; set uplink to the interface of their traffic"));
	snprintf(p, sizeof p, "/proc/sys/net/ipv4/conf/%s/forwarding", uplink);
	if (uplink[0] && read_int_file(p) == 0) {
		snprintf(w, sizeof w, "IPv4 forwarding is off on %s (something turned it off after jaild): jails cannot reach the world", uplink);
		json_array_append_new(warnings, json_pack("{ss}", "message", w));
	}
	int n = resolvers_pick(J.net.dns, dns, note, sizeof note, &e);
	for (int i = 0; i < n; i++)
		json_array_append_new(resolvers, json_string(dns[i]));
	if (note[0])
		json_array_append_new(warnings, json_pack("{ss}", "message", note));
	/* a pool address configured on a host interface is the host's, not a jail's */
	struct ifaddrs *ifa = NULL, *i;
	if (getifaddrs(&ifa) == 0)
		for (i = ifa; i; i = i->ifa_next) {
			if (!i->ifa_addr || (i->ifa_addr->sa_family != AF_INET && i->ifa_addr->sa_family != AF_INET6) ||
			    strncmp(i->ifa_name, "jd", 2) == 0)
				continue;
			const void *a = i->ifa_addr->sa_family == AF_INET ? (const void *)&((struct sockaddr_in *)i->ifa_addr)->sin_addr
									 : (const void *)&((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr;
			if (!in_pool(i->ifa_addr->sa_family, a))
				continue;
			char text[INET6_ADDRSTRLEN];
			inet_ntop(i->ifa_addr->sa_family, a, text, sizeof text);
			snprintf(w, sizeof w, "%s on %s lies in the jails' pool%s: a jail given it would take the host's traffic; "
				 "narrow the pool or move the address", text, i->ifa_name, i->ifa_addr->sa_family == AF_INET ? "4" : "6");
			json_array_append_new(warnings, json_pack("{ss}", "message", w));
		}
	if (ifa)
		freeifaddrs(ifa);
	struct forwards f = { json_array(), warnings, listeners };
	store_ports_each(J.st, add_forward, &f, &e);
	return json_pack("{ss?sssssssososo}", "uplink", uplink[0] ? uplink : NULL, "pool4_mode", J.net.pool4_mode, "pool6_mode",
			 J.net.pool6_mode, "egress_default", J.net.egress_default, "dns", resolvers, "forwards", f.list, "warnings",
			 warnings);
}

json_t *host_info(struct err *e)
{

	int64_t njails = 0, used = 0;
	int64_t memory = os_memory_bytes();
	if (memory < 0)
		return err_errno(e, "reading the host's memory size"), NULL;
	if (store_jail_count(J.st, &njails, e) || store_ip4_used(J.st, &used, e))
		return NULL;
	char net[INET_ADDRSTRLEN], cidr4[64], net6[INET6_ADDRSTRLEN], cidr6[96], backend[16];
	priv_backend(backend);
	struct in_addr a = { htonl(J.rules.pool4.net) };
	inet_ntop(AF_INET, &a, net, sizeof net);
	snprintf(cidr4, sizeof cidr4, "%s/%u", net, J.rules.pool4.prefix);
	inet_ntop(AF_INET6, J.rules.pool6.net, net6, sizeof net6);
	snprintf(cidr6, sizeof cidr6, "%s/%u", net6, J.rules.pool6.prefix);
	int64_t size4 = (int64_t)(1ull << (32 - J.rules.pool4.prefix)) - 3; /* network, .1, broadcast */
	json_t *warnings = host_wildcard_listeners("/proc/net");
	if (strcmp(J.lxcfs, "none") == 0 || !os_is_fuse(J.lxcfs)) {
		char w[700];
		snprintf(w, sizeof w,
			 "lxcfs is not serving at %s: jails see the host's memory, CPUs and uptime in /proc (free, top, uptime); "
			 "install lxcfs (its unit starts it, or jaild does) or set lxcfs to its mount point",
			 strcmp(J.lxcfs, "none") == 0 ? "(lxcfs = none)" : J.lxcfs);
		json_array_append_new(warnings, json_pack("{ss}", "message", w));
	}
	json_t *network = host_network(warnings);
	return json_pack("{sss{sisIsI}s{s{sssIsIsI}s{ss}}soso}", "backend", backend,
			 "capacity", "cpus", os_cpus(), "memory", (json_int_t)memory, "jails", (json_int_t)njails,
			 "pool", "ip4", "cidr", cidr4, "size", (json_int_t)size4, "used", (json_int_t)used, "free", (json_int_t)(size4 - used),
			 "ip6", "cidr", cidr6, "warnings", warnings, "network", network);
}
