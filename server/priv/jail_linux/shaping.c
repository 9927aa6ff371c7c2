#include "shaping.h"
#include "tool.h"

#include <stdbool.h>
#include <stdio.h>

static int tc(const char *tc_path, char *const *args, bool must, struct err *e)
{
	char *argv[24];
	int n = 0;
	argv[n++] = (char *)tc_path;
	for (; args[n - 1] && n < 23; n++)
		argv[n] = args[n - 1];
	argv[n] = NULL;
	char msg[300];
	int st = tool_run_text(argv, "", msg, sizeof msg, e);
	if (st < 0)
		return -1;
	if (st != 0 && must)
		return err_set(e, ERR_INTERNAL, "tc %s %s on %s failed (exit %d): %s", args[0], args[1], args[3], st, msg);
	return 0;
}

int shaping_set(const char *ifname, uint64_t bits, uint64_t had, struct err *e)
{
	char buf[64];
	const char *tcp = tool_find("tc", buf);
	if (!tcp)
		return bits || had ? err_set(e, ERR_INTERNAL, "tc(8) not found: install the iproute2 package for limits.bandwidth") : 0;
	char *ifn = (char *)ifname;
	if (bits == 0) {
		if (!had)
			return 0;
		char *root[] = { "qdisc", "del", "dev", ifn, "root", NULL };
		tc(tcp, root, false, e);
		return 0;
	}
	char rate[32], burst[32];
	snprintf(rate, sizeof rate, "%llubit", (unsigned long long)bits);
	/* 20 ms of traffic, at least 32 KiB: enough for TCP to keep its pace */
	uint64_t b = bits / 8 / 50;
	snprintf(burst, sizeof burst, "%llu", (unsigned long long)(b < 32768 ? 32768 : b));
	char *tbf[] = { "qdisc", "replace", "dev", ifn, "root", "tbf", "rate", rate, "burst", burst, "latency", "50ms", NULL };
	return tc(tcp, tbf, true, e);
}
