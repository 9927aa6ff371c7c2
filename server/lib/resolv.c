#include "resolv.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

static bool is_loopback(const char *text)
{
	struct in_addr a4;
	struct in6_addr a6;
	if (inet_pton(AF_INET, text, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	return inet_pton(AF_INET6, text, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
}

static bool is_address(const char *text)
{
	unsigned char buf[16];
	return inet_pton(AF_INET, text, buf) == 1 || inet_pton(AF_INET6, text, buf) == 1;
}

int resolvers_read(const char *path, char out[][RESOLVER_SIZE], int *loopback)
{
	FILE *f = fopen(path, "re");
	char line[512], addr[RESOLVER_SIZE + 1];
	int n = 0;
	*loopback = 0;
	while (f && fgets(line, sizeof line, f)) {
		/* "nameserver ADDR", where ADDR may carry a %zone, which a jail cannot use */
		if (sscanf(line, " nameserver %46s", addr) != 1 || !is_address(addr))
			continue;
		if (is_loopback(addr))
			(*loopback)++;
		else if (n < RESOLVERS_MAX && strlen(addr) < RESOLVER_SIZE)
			memcpy(out[n++], addr, strlen(addr) + 1);
	}
	if (f)
		fclose(f);
	return n;
}

int resolvers_pick(const char *setting, char out[][RESOLVER_SIZE], char *note, size_t note_size, struct err *e)
{
	note[0] = '\0';
	if (setting && setting[0]) {
		char copy[256], *save = NULL;
		int n = 0;
		snprintf(copy, sizeof copy, "%s", setting);
		for (char *t = strtok_r(copy, ", ", &save); t; t = strtok_r(NULL, ", ", &save)) {
			if (!is_address(t) || strlen(t) >= RESOLVER_SIZE)
				return err_field(e, ERR_INVALID, "dns", "dns: %s is not an IPv4 or IPv6 address", t);
			if (n == RESOLVERS_MAX)
				return err_field(e, ERR_INVALID, "dns", "dns holds at most %d resolvers (as resolv.conf does)", RESOLVERS_MAX);
			snprintf(out[n++], RESOLVER_SIZE, "%s", t);
		}
		if (n == 0)
			return err_field(e, ERR_INVALID, "dns", "dns must list at least one resolver address");
		return n;
	}
	int loop = 0, loop2 = 0;
	int n = resolvers_read("/etc/resolv.conf", out, &loop);
	if (n == 0 && loop) {
		n = resolvers_read("/run/systemd/resolve/resolv.conf", out, &loop2);
		snprintf(note, note_size,
			 n ? "the host's resolv.conf names only resolvers on its loopback, which jails cannot reach; jails use "
			     "systemd-resolved's upstream resolvers instead"
			   : "the host's resolv.conf names only resolvers on its loopback, which jails cannot reach; set dns to "
			     "resolvers jails can reach");
	} else if (n == 0)
		snprintf(note, note_size, "the host has no resolvers in /etc/resolv.conf; set dns, or jails resolve no names");
	return n;
}
