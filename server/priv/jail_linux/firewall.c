#include "firewall.h"
#include "tool.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Replaced as a whole each time the helper starts (the first line makes the delete
 * succeed on a host that never had the table). Jails may answer the host (replies to
 * connections the host opened), do neighbour discovery, and nothing else towards the
 * host; traffic between jails is dropped. */
static const char ruleset[] =
	"table inet jaild\n"
	"delete table inet jaild\n"
	"table inet jaild {\n"
	"  chain input {\n"
	"    type filter hook input priority filter; policy accept;\n"
	"    iifname \"" JAIL_IF_PREFIX "*\" ct state established,related accept\n"
	"    iifname \"" JAIL_IF_PREFIX "*\" icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert, nd-router-solicit } accept\n"
	"    iifname \"" JAIL_IF_PREFIX "*\" counter drop\n"
	"  }\n"
	"  chain forward {\n"
	"    type filter hook forward priority filter; policy accept;\n"
	"    iifname \"" JAIL_IF_PREFIX "*\" oifname \"" JAIL_IF_PREFIX "*\" counter drop\n"
	"  }\n"
	"}\n";


int firewall_setup(struct err *e)
{
	char buf[64];
	const char *nft = tool_find("nft", buf);
	if (!nft)
		return err_set(e, ERR_INTERNAL, "nft(8) not found: install the nftables package; jails must not reach the host's services");
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return err_errno(e, "pipe");
	/* the ruleset fits the pipe's buffer, so it goes in before nft reads it */
	ssize_t w = write(p[1], ruleset, sizeof ruleset - 1);
	close(p[1]);
	char *const argv[] = { (char *)nft, "-f", "-", NULL };
	int st = w == (ssize_t)(sizeof ruleset - 1) ? tool_run(argv, p[0], e) : err_errno(e, "writing the ruleset");
	close(p[0]);
	if (st < 0)
		return -1;
	if (st != 0)
		return err_set(e, ERR_INTERNAL, "%s could not load the jaild firewall table (exit %d); is nf_tables available in this kernel?", nft, st);
	return 0;
}
