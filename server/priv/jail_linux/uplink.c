#include "uplink.h"
#include "netlink.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "validate.h"

#define SAVED "net.saved"

static int read_small(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

static int write_small(const char *path, const char *value)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = write(fd, value, strlen(value));
	close(fd);
	return n == (ssize_t)strlen(value) ? 0 : -1;
}

/* The interface of the default route: IPv4's, else IPv6's. */
static void default_uplink(char out[IFNAME_SIZE])
{
	char line[512], ifn[IFNAME_SIZE + 1];
	_Static_assert(IFNAME_SIZE == 16, "the scanf widths below are IFNAME_SIZE");
	unsigned dst, mask;
	out[0] = '\0';
	FILE *f = fopen("/proc/net/route", "re");
	while (f && fgets(line, sizeof line, f))
		if (sscanf(line, "%16s %x %*x %*x %*d %*d %*d %x", ifn, &dst, &mask) == 3 && dst == 0 && mask == 0 && valid_ifname(ifn)) {
			memcpy(out, ifn, strlen(ifn) + 1); /* valid_ifname: at most 15 bytes */
			break;
		}
	if (f)
		fclose(f);
	if (out[0])
		return;
	char d[40];
	unsigned plen;
	f = fopen("/proc/net/ipv6_route", "re");
	while (f && fgets(line, sizeof line, f))
		if (sscanf(line, "%32s %x %*s %*x %*s %*x %*x %*x %*x %16s", d, &plen, ifn) == 3 && plen == 0 &&
		    strspn(d, "0") == 32 && strcmp(ifn, "lo") != 0 && valid_ifname(ifn)) {
			memcpy(out, ifn, strlen(ifn) + 1); /* valid_ifname: at most 15 bytes */
			break;
		}
	if (f)
		fclose(f);
}

static bool saved_has(int saved_fd, const char *path)
{
	char buf[4096];
	ssize_t n = pread(saved_fd, buf, sizeof buf - 1, 0);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n"))
		if (strncmp(line, path, strlen(path)) == 0 && line[strlen(path)] == ' ')
			return true;
	return false;
}

/* Sets a sysctl to want, recording its old value first the first time jaild changes
 * it (a restarted helper finds the host's value still on record). */
static int set_saved(int saved_fd, const char *path, const char *want, struct err *e)
{
	char cur[32];
	if (read_small(path, cur, sizeof cur) < 0)
		return err_errno(e, "reading %s", path);
	if (strcmp(cur, want) == 0)
		return 0;
	if (!saved_has(saved_fd, path)) {
		char line[160];
		int len = snprintf(line, sizeof line, "%s %s\n", path, cur);
		if (write(saved_fd, line, (size_t)len) != len || fsync(saved_fd) < 0)
			return err_errno(e, "recording %s before changing it", path);
	}
	if (write_small(path, want) < 0)
		return err_errno(e, "setting %s to %s", path, want);
	return 0;
}

static int open_saved(const struct priv_ctx *c, int flags)
{
	char path[300];
	snprintf(path, sizeof path, "%s/" SAVED, c->data_dir);
	return open(path, flags | O_NOFOLLOW | O_CLOEXEC, 0600);
}

int uplink_setup(struct priv_ctx *c, struct err *e)
{
	if (strcmp(c->net.uplink, "auto") == 0) {
		default_uplink(c->net.uplink);
		if (!c->net.uplink[0])
			log_warn("no default route: jails reach the host only; set uplink to the interface their traffic should use");
	}
	if (!c->net.uplink[0])
		return 0;
	if (if_nametoindex(c->net.uplink) == 0)
		log_warn("uplink %s does not exist (yet): jails reach the world once it does", c->net.uplink);
	int fd = open_saved(c, O_RDWR | O_CREAT | O_APPEND);
	if (fd < 0)
		return err_errno(e, "opening %s/" SAVED, c->data_dir);
	char p[128];
	int rc = 0;
	snprintf(p, sizeof p, "/proc/sys/net/ipv4/conf/%s/forwarding", c->net.uplink);
	if (if_nametoindex(c->net.uplink))
		rc = set_saved(fd, p, "1", e);
	/* IPv6 forwarding is one switch for the whole host (6.1 has no per-interface
	 * one); turning it on makes the kernel ignore router advertisements where
	 * accept_ra is 1, so the uplink keeps its own default route with 2 */
	snprintf(p, sizeof p, "/proc/sys/net/ipv6/conf/%s/accept_ra", c->net.uplink);
	char ra[8];
	if (rc == 0 && read_small(p, ra, sizeof ra) == 0 && strcmp(ra, "1") == 0)
		rc = set_saved(fd, p, "2", e);
	if (rc == 0 && access("/proc/sys/net/ipv6/conf/all/forwarding", F_OK) == 0)
		rc = set_saved(fd, "/proc/sys/net/ipv6/conf/all/forwarding", "1", e);
	snprintf(p, sizeof p, "/proc/sys/net/ipv6/conf/%s/proxy_ndp", c->net.uplink);
	if (rc == 0 && c->net.routed6 && if_nametoindex(c->net.uplink))
		rc = set_saved(fd, p, "1", e);
	close(fd);
	return rc;
}

void uplink_guards(const struct priv_ctx *c, bool *guard4, bool *guard6)
{
	char p[128];
	int fd = open_saved(c, O_RDONLY);
	snprintf(p, sizeof p, "/proc/sys/net/ipv4/conf/%s/forwarding", c->net.uplink);
	*guard4 = fd >= 0 && c->net.uplink[0] && saved_has(fd, p);
	*guard6 = fd >= 0 && saved_has(fd, "/proc/sys/net/ipv6/conf/all/forwarding");
	if (fd >= 0)
		close(fd);
}

void uplink_restore(struct priv_ctx *c)
{
	char buf[4096], path[300];
	int fd = open_saved(c, O_RDONLY);
	if (fd < 0)
		return;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	/* only /proc/sys/net paths, as set_saved wrote them */
	for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
		char *sp = strrchr(line, ' ');
		if (!sp || strncmp(line, "/proc/sys/net/", 14) != 0 || strstr(line, ".."))
			continue;
		*sp = '\0';
		if (write_small(line, sp + 1) < 0 && errno != ENOENT)
			log_warn("putting back %s: %s", line, strerror(errno));
	}
	snprintf(path, sizeof path, "%s/" SAVED, c->data_dir);
	unlink(path);
}

int uplink_proxies(struct priv_ctx *c, const struct netrec *r, bool add, struct err *e)
{
	if (!c->net.uplink[0] || (!c->net.routed4 && !c->net.routed6))
		return 0;
	int idx = (int)if_nametoindex(c->net.uplink);
	if (idx == 0)
		return add ? err_set(e, ERR_INTERNAL, "uplink %s does not exist; the jail's routed addresses cannot be answered for", c->net.uplink) : 0;
	int nl = nl_open(e);
	if (nl < 0)
		return -1;
	int rc = 0;
	for (int i = 0; c->net.routed4 && i < r->nip4 && (rc == 0 || !add); i++)
		rc |= nl_neigh_proxy(nl, idx, AF_INET, &r->ip4[i], add, e);
	for (int i = 0; c->net.routed6 && i < r->nip6 && (rc == 0 || !add); i++)
		rc |= nl_neigh_proxy(nl, idx, AF_INET6, r->ip6[i], add, e);
	close(nl);
	return rc ? -1 : 0;
}

void uplink_jail_if(const char *ifname)
{
	char path[128];
	/* strict reverse-path filtering: the jail cannot send from an address it was not given */
	snprintf(path, sizeof path, "/proc/sys/net/ipv4/conf/%s/rp_filter", ifname);
	write_small(path, "1");
	snprintf(path, sizeof path, "/proc/sys/net/ipv4/conf/%s/forwarding", ifname);
	write_small(path, "1");
	/* a jail's router advertisements configure nothing on the host */
	snprintf(path, sizeof path, "/proc/sys/net/ipv6/conf/%s/accept_ra", ifname);
	write_small(path, "0");
}
