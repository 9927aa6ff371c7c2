#include "firewall.h"

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

static const char *const nft_paths[] = { "/usr/sbin/nft", "/sbin/nft", "/usr/bin/nft" };

int firewall_setup(struct err *e)
{
	const char *nft = NULL;
	for (size_t i = 0; i < sizeof nft_paths / sizeof nft_paths[0]; i++)
		if (access(nft_paths[i], X_OK) == 0) {
			nft = nft_paths[i];
			break;
		}
	if (!nft)
		return err_set(e, ERR_INTERNAL, "nft(8) not found: install the nftables package; jails must not reach the host's services");
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return err_errno(e, "pipe");
	pid_t pid = fork();
	if (pid < 0)
		return err_errno(e, "fork");
	if (pid == 0) {
		dup2(p[0], STDIN_FILENO);
		int devnull = open("/dev/null", O_WRONLY);
		if (devnull >= 0)
			dup2(devnull, STDOUT_FILENO);
		char *const argv[] = { (char *)nft, "-f", "-", NULL };
		char *const envp[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL };
		execve(nft, argv, envp);
		_exit(127);
	}
	close(p[0]);
	ssize_t w = write(p[1], ruleset, sizeof ruleset - 1);
	close(p[1]);
	int st;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (w != (ssize_t)(sizeof ruleset - 1) || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return err_set(e, ERR_INTERNAL, "%s could not load the jaild firewall table (exit %d); is nf_tables available in this kernel?",
			       nft, WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	return 0;
}
