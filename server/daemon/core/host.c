#include "core/host.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include "core/jails.h"
#include "core/priv_client.h"
#include "log.h"

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

json_t *host_info(struct err *e)
{
	struct sysinfo si;
	int64_t njails = 0, used = 0;
	if (sysinfo(&si) < 0)
		return err_errno(e, "sysinfo"), NULL;
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
	return json_pack("{sss{sisIsI}s{s{sssIsIsI}s{ss}}so}", "backend", backend,
			 "capacity", "cpus", get_nprocs(), "memory", (json_int_t)si.totalram * si.mem_unit, "jails", (json_int_t)njails,
			 "pool", "ip4", "cidr", cidr4, "size", (json_int_t)size4, "used", (json_int_t)used, "free", (json_int_t)(size4 - used),
			 "ip6", "cidr", cidr6, "warnings", warnings);
}
