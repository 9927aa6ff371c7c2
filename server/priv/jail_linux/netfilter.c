/* netfilter.c — the jails' nftables table (netfilter.h).
 *
 * Forward path, for a packet a jail sends (iif jdTAG-*): its out chain checks the
 * source is its own, lets replies through, drops link-local, loopback and multicast
 * destinations, sends traffic for another jail on to that jail's in chain only when it
 * came through a published port or the jail is of the same tenant, lets nothing leave
 * but by the uplink, then applies the jail's egress rules and egress-default. A packet
 * for a jail (oif jdTAG-*) passes its in chain: only from the uplink or jails, in nat
 * pools only through a forward, then its ingress rules. The input hook drops whatever
 * a jail sends to the host itself but replies, neighbour discovery and DNS to a
 * resolver on the host. */
#include "netfilter.h"
#include "linux.h"
#include "textbuf.h"
#include "uplink.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>
#include <nftables/libnftables.h>

#include "listeners.h"
#include "log.h"
#include "validate.h"

struct names {
	char table[32];  /* jaild_TAG */
	char ifs[16];    /* jdTAG-* */
};

static void names_of(const struct priv_ctx *c, struct names *n)
{
	snprintf(n->table, sizeof n->table, "jaild_%s", c->tag);
	snprintf(n->ifs, sizeof n->ifs, JAIL_IF_PREFIX "%.4s-*", c->tag);
}

static const char *proto_name(uint8_t p)
{
	return p == NET_TCP ? "tcp" : "udp";
}

static void put_dns_set(struct textbuf *b, const struct priv_ctx *c, int family)
{
	int n = 0;
	tb_printf(b, "  set dns%d { type ipv%d_addr;", family == AF_INET ? 4 : 6, family == AF_INET ? 4 : 6);
	for (int i = 0; i < c->net.ndns; i++) {
		unsigned char a[16];
		if (inet_pton(family, c->net.dns[i], a) == 1)
			tb_printf(b, "%s%s", n++ ? ", " : " elements = { ", c->net.dns[i]);
	}
	tb_printf(b, "%s }\n", n ? " }" : "");
}

static void put_base(struct textbuf *b, const struct priv_ctx *c, const struct names *n, bool guard4, bool guard6)
{
	const char *up = c->net.uplink;
	char pool4[64], pool6[64], net[INET6_ADDRSTRLEN];
	struct in_addr a4 = { htonl(c->pool4.net) };
	inet_ntop(AF_INET, &a4, net, sizeof net);
	snprintf(pool4, sizeof pool4, "%s/%u", net, c->pool4.prefix);
	inet_ntop(AF_INET6, c->pool6.net, net, sizeof net);
	snprintf(pool6, sizeof pool6, "%s/%u", net, c->pool6.prefix);
	/* the first two lines make the delete succeed on a host that never had the table */
	tb_printf(b, "table inet %s\ndelete table inet %s\ntable inet %s {\n", n->table, n->table, n->table);
	tb_printf(b, "  map out { type ifname : verdict; }\n  map in { type ifname : verdict; }\n"
		     "  map fwd4 { type inet_proto . inet_service : ipv4_addr . inet_service; }\n"
		     "  map fwd6 { type inet_proto . inet_service : ipv6_addr . inet_service; }\n");
	put_dns_set(b, c, AF_INET);
	put_dns_set(b, c, AF_INET6);
	tb_printf(b,
		  "  chain input {\n    type filter hook input priority filter; policy accept;\n"
		  "    iifname \"%1$s\" ct state established,related accept\n"
		  "    iifname \"%1$s\" icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert, nd-router-solicit } accept\n"
		  "    iifname \"%1$s\" ip daddr @dns4 meta l4proto { tcp, udp } th dport 53 accept\n"
		  "    iifname \"%1$s\" ip6 daddr @dns6 meta l4proto { tcp, udp } th dport 53 accept\n"
		  "    iifname \"%1$s\" counter drop\n  }\n",
		  n->ifs);
	tb_printf(b,
		  "  chain forward {\n    type filter hook forward priority filter; policy accept;\n"
		  "    iifname \"%1$s\" jump from_jail\n    oifname \"%1$s\" jump to_jail\n",
		  n->ifs);
	/* forwarding jaild turned on serves jails only (any jaild's on this host: "jd*"):
	 * the host routes nothing else */
	if (guard4 && up[0])
		tb_printf(b, "    meta nfproto ipv4 iifname \"%s\" oifname != \"" JAIL_IF_PREFIX "*\" drop\n", up);
	if (guard6)
		tb_printf(b, "    meta nfproto ipv6 iifname != \"" JAIL_IF_PREFIX "*\" oifname != \"" JAIL_IF_PREFIX "*\" drop\n");
	tb_printf(b, "  }\n  chain from_jail {\n    iifname vmap @out\n    drop\n  }\n"
		     "  chain to_jail {\n    ct state established,related accept\n    oifname vmap @in\n    drop\n  }\n");
	/* forwards: to any address of the host's, from outside, from jails, and from the
	 * host itself (not on loopback: a host service there keeps its port) */
	tb_printf(b,
		  "  chain prerouting {\n    type nat hook prerouting priority dstnat; policy accept;\n"
		  "    meta nfproto ipv4 fib daddr type local dnat ip to meta l4proto . th dport map @fwd4\n"
		  "    meta nfproto ipv6 fib daddr type local dnat ip6 to meta l4proto . th dport map @fwd6\n  }\n"
		  "  chain output {\n    type nat hook output priority -100; policy accept;\n"
		  "    meta nfproto ipv4 ip daddr != 127.0.0.0/8 fib daddr type local dnat ip to meta l4proto . th dport map @fwd4\n"
		  "    meta nfproto ipv6 ip6 daddr != ::1 fib daddr type local dnat ip6 to meta l4proto . th dport map @fwd6\n  }\n"
		  "  chain postrouting {\n    type nat hook postrouting priority srcnat; policy accept;\n");
	if (up[0] && !c->net.routed4)
		tb_printf(b, "    oifname \"%s\" ip saddr %s masquerade\n", up, pool4);
	if (up[0] && !c->net.routed6)
		tb_printf(b, "    oifname \"%s\" ip6 saddr %s masquerade\n", up, pool6);
	/* a jail reaching a forward back to a jail (itself, even) must see the answer come
	 * from where it sent to: the host answers for it */
	tb_printf(b, "    iifname \"%1$s\" oifname \"%1$s\" ct status dnat masquerade\n  }\n}\n", n->ifs);
}

static void put_rule(struct textbuf *b, const struct names *n, const char *chain, const struct net_rule *r, bool egress)
{
	char addr[INET6_ADDRSTRLEN];
	tb_printf(b, "add rule inet %s %s", n->table, chain);
	if (r->family == 4 || r->family == 6) {
		inet_ntop(r->family == 4 ? AF_INET : AF_INET6, r->addr, addr, sizeof addr);
		tb_printf(b, " %s %s %s/%u", r->family == 4 ? "ip" : "ip6", egress ? "daddr" : "saddr", addr, r->prefix);
	}
	if (r->proto == NET_TCP || r->proto == NET_UDP)
		tb_printf(b, " meta l4proto %s", proto_name(r->proto));
	else if (r->proto == NET_ICMP)
		tb_printf(b, " meta l4proto { icmp, ipv6-icmp }");
	else if (r->nports)
		tb_printf(b, " meta l4proto { tcp, udp }");
	for (unsigned i = 0; i < r->nports; i++) {
		if (r->ports[i][0] == r->ports[i][1])
			tb_printf(b, "%s%u", i ? ", " : " th dport { ", r->ports[i][0]);
		else
			tb_printf(b, "%s%u-%u", i ? ", " : " th dport { ", r->ports[i][0], r->ports[i][1]);
	}
	tb_printf(b, "%s %s\n", r->nports ? " }" : "", r->allow ? "accept" : "drop");
}

static void put_forwards(struct textbuf *b, const struct names *n, const struct netrec *r, bool add)
{
	char a[INET6_ADDRSTRLEN];
	for (int fam = 4; fam <= 6; fam += 2) {
		if (r->net.nports == 0 || (fam == 4 ? r->nip4 : r->nip6) == 0)
			continue;
		if (fam == 4)
			inet_ntop(AF_INET, &r->ip4[0], a, sizeof a);
		else
			inet_ntop(AF_INET6, r->ip6[0], a, sizeof a);
		tb_printf(b, "%s element inet %s fwd%d {", add ? "add" : "delete", n->table, fam);
		for (uint32_t i = 0; i < r->net.nports; i++) {
			const struct jail_port *p = &r->net.ports[i];
			if (add)
				tb_printf(b, "%s %s . %u : %s . %u", i ? "," : "", proto_name(p->proto), p->host_port, a, p->port);
			else
				tb_printf(b, "%s %s . %u", i ? "," : "", proto_name(p->proto), p->host_port);
		}
		tb_printf(b, " }\n");
	}
}

static void put_jail(struct textbuf *b, const struct priv_ctx *c, const struct names *n, const struct netrec *r)
{
	char ifn[IFNAMSIZ], a[INET6_ADDRSTRLEN], out[24], in[24];
	const char *up = c->net.uplink, *T = n->table;
	host_ifname(c, r->slot, ifn);
	snprintf(out, sizeof out, "j%u_out", r->slot);
	snprintf(in, sizeof in, "j%u_in", r->slot);
	if (r->net.tenant)
		tb_printf(b, "add set inet %s t%u { type ifname; }\n", T, r->net.tenant);

	tb_printf(b, "add chain inet %1$s %2$s\nflush chain inet %1$s %2$s\n", T, out);
	/* limits.bandwidth out of the jail: a policer on all it sends through the host,
	 * with 50 ms of burst so TCP finds its pace (into the jail: shaping.c) */
	if (r->net.bandwidth) {
		unsigned long long bytes = r->net.bandwidth / 8, burst = bytes / 20 < 16384 ? 16384 : bytes / 20;
		tb_printf(b, "add rule inet %s %s limit rate over %llu bytes/second burst %llu bytes drop\n", T, out, bytes, burst);
	}
	/* its own addresses only (and link-local for neighbour discovery) */
	if (r->nip4 == 0)
		tb_printf(b, "add rule inet %s %s meta nfproto ipv4 drop\n", T, out);
	else {
		tb_printf(b, "add rule inet %s %s meta nfproto ipv4 ip saddr != { ", T, out);
		for (int i = 0; i < r->nip4; i++) {
			inet_ntop(AF_INET, &r->ip4[i], a, sizeof a);
			tb_printf(b, "%s%s", i ? ", " : "", a);
		}
		tb_printf(b, " } drop\n");
	}
	tb_printf(b, "add rule inet %s %s meta nfproto ipv6 ip6 saddr != { fe80::/10", T, out);
	for (int i = 0; i < r->nip6; i++) {
		inet_ntop(AF_INET6, r->ip6[i], a, sizeof a);
		tb_printf(b, ", %s", a);
	}
	tb_printf(b, " } drop\n");
	tb_printf(b,
		  "add rule inet %1$s %2$s ct state established,related accept\n"
		  "add rule inet %1$s %2$s ip daddr { 0.0.0.0/8, 127.0.0.0/8, 169.254.0.0/16, 224.0.0.0/3 } drop\n"
		  "add rule inet %1$s %2$s ip6 daddr { ::/127, ::ffff:0:0/96, fe80::/10, ff00::/8 } drop\n"
		  "add rule inet %1$s %2$s oifname \"%3$s\" ct status dnat jump to_jail\n",
		  T, out, n->ifs);
	if (r->net.tenant)
		tb_printf(b, "add rule inet %s %s oifname @t%u jump to_jail\n", T, out, r->net.tenant);
	if (up[0])
		tb_printf(b, "add rule inet %s %s oifname != \"%s\" drop\n", T, out, up);
	else
		tb_printf(b, "add rule inet %s %s drop\n", T, out);
	tb_printf(b,
		  "add rule inet %1$s %2$s ip daddr @dns4 meta l4proto { tcp, udp } th dport 53 accept\n"
		  "add rule inet %1$s %2$s ip6 daddr @dns6 meta l4proto { tcp, udp } th dport 53 accept\n",
		  T, out);
	for (uint32_t i = 0; i < r->net.negress; i++)
		put_rule(b, n, out, &r->net.egress[i], true);
	tb_printf(b, "add rule inet %s %s %s\n", T, out, c->net.egress_deny ? "drop" : "accept");

	tb_printf(b, "add chain inet %1$s %2$s\nflush chain inet %1$s %2$s\n", T, in);
	if (up[0])
		tb_printf(b, "add rule inet %s %s iifname != \"%s\" iifname != \"%s\" drop\n", T, in, n->ifs, up);
	else
		tb_printf(b, "add rule inet %s %s iifname != \"%s\" drop\n", T, in, n->ifs);
	if (!c->net.routed4)
		tb_printf(b, "add rule inet %s %s meta nfproto ipv4 iifname != \"%s\" ct status & dnat == 0 drop\n", T, in, n->ifs);
	if (!c->net.routed6)
		tb_printf(b, "add rule inet %s %s meta nfproto ipv6 iifname != \"%s\" ct status & dnat == 0 drop\n", T, in, n->ifs);
	for (uint32_t i = 0; i < r->net.ningress; i++)
		put_rule(b, n, in, &r->net.ingress[i], false);
	tb_printf(b, "add rule inet %s %s accept\n", T, in);

	tb_printf(b, "add element inet %1$s out { \"%2$s\" : jump %3$s }\nadd element inet %1$s in { \"%2$s\" : jump %4$s }\n", T,
		  ifn, out, in);
	if (r->net.tenant)
		tb_printf(b, "add element inet %s t%u { \"%s\" }\n", T, r->net.tenant, ifn);
	put_forwards(b, n, r, true);
}

static void put_jail_removal(struct textbuf *b, const struct priv_ctx *c, const struct names *n, const struct netrec *r)
{
	char ifn[IFNAMSIZ];
	host_ifname(c, r->slot, ifn);
	tb_printf(b, "delete element inet %1$s out { \"%2$s\" }\ndelete element inet %1$s in { \"%2$s\" }\n", n->table, ifn);
	if (r->net.tenant)
		tb_printf(b, "delete element inet %s t%u { \"%s\" }\n", n->table, r->net.tenant, ifn);
	put_forwards(b, n, r, false);
	tb_printf(b,
		  "flush chain inet %1$s j%2$u_out\ndelete chain inet %1$s j%2$u_out\n"
		  "flush chain inet %1$s j%2$u_in\ndelete chain inet %1$s j%2$u_in\n",
		  n->table, r->slot);
}

/* Runs nft commands with nft(8)'s own library, in this process: one netlink
 * transaction, as `nft -f -` makes, without an exec per change (a start and a stop
 * each paid ~3 ms for it). out (may be NULL) gets what a list command prints. The
 * context is made per call: a worker is a forked process, and a netlink socket shared
 * with the helper or another worker would mix their messages. */
static int nft_run(const char *text, bool quiet, char *out, size_t outsize, struct err *e)
{
	struct nft_ctx *ctx = nft_ctx_new(NFT_CTX_DEFAULT);
	if (!ctx)
		return err_set(e, ERR_INTERNAL, "nftables: cannot make a context (out of memory?)");
	if (nft_ctx_buffer_error(ctx) < 0 || nft_ctx_buffer_output(ctx) < 0) {
		nft_ctx_free(ctx);
		return err_set(e, ERR_INTERNAL, "nftables: cannot buffer its messages (out of memory?)");
	}
	int rc = nft_run_cmd_from_buffer(ctx, text);
	if (out && outsize)
		snprintf(out, outsize, "%s", nft_ctx_get_output_buffer(ctx) ?: "");
	if (rc != 0) {
		char msg[400];
		snprintf(msg, sizeof msg, "%s", nft_ctx_get_error_buffer(ctx) ?: "");
		for (char *p = msg; *p; p++)
			if (*p == '\n')
				*p = ' ';
		if (!quiet)
			log_warn("nftables refused a change: %s", msg);
		err_set(e, ERR_INTERNAL, "nftables could not change the jails' packet rules: %s", msg);
	}
	nft_ctx_free(ctx);
	return rc != 0 ? -1 : 0;
}

static int nft_text(const char *text, bool quiet, struct err *e)
{
	return nft_run(text, quiet, NULL, 0, e);
}

/* All changes to the table and the netrecs go one at a time: a change is checked
 * against the others (host ports) before it is made. */
static int nf_lock(struct priv_ctx *c)
{
	int fd = openat(c->jails_fd, ".net.lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd >= 0)
		while (flock(fd, LOCK_EX) < 0 && errno == EINTR)
			;
	return fd;
}

static void nf_unlock(int fd)
{
	if (fd >= 0)
		close(fd);
}

/* Calls fn for the netrec of every jail that has one (every running jail). */
static void each_netrec(struct priv_ctx *c, void (*fn)(const char *name, const struct netrec *r, void *arg), void *arg)
{
	int fd = dup(c->jails_fd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return;
	}
	rewinddir(d);
	struct dirent *de;
	struct netrec r;
	while ((de = readdir(d)))
		if (valid_name(de->d_name) && netrec_read(c->jails_fd, de->d_name, &r))
			fn(de->d_name, &r, arg);
	closedir(d);
}

struct rebuild {
	struct textbuf *b;
	struct priv_ctx *c;
	const struct names *n;
};

static void put_running(const char *name, const struct netrec *r, void *arg)
{
	struct rebuild *rb = arg;
	struct runrec rec;
	if (runrec_alive(rb->c->jails_fd, name, &rec) && rec.slot == r->slot)
		put_jail(rb->b, rb->c, rb->n, r);
}

static int rebuild(struct priv_ctx *c, struct err *e)
{
	struct names n;
	struct textbuf b = { 0 };
	bool g4, g6;
	names_of(c, &n);
	uplink_guards(c, &g4, &g6);
	put_base(&b, c, &n, g4, g6);
	struct rebuild rb = { &b, c, &n };
	each_netrec(c, put_running, &rb);
	int rc = b.failed ? err_set(e, ERR_INTERNAL, "building the jails' packet rules: out of memory") : nft_text(b.s, false, e);
	free(b.s);
	return rc;
}

int nf_setup(struct priv_ctx *c, struct err *e)
{
	int lk = nf_lock(c);
	int rc = rebuild(c, e);
	nf_unlock(lk);
	return rc;
}

/* ---- host ports ---- */

struct port_owner {
	const char *self;
	const struct jail_port *p;
	char owner[NAME_SIZE];
};

static void find_owner(const char *name, const struct netrec *r, void *arg)
{
	struct port_owner *po = arg;
	if (strcmp(name, po->self) == 0 || po->owner[0])
		return;
	for (uint32_t i = 0; i < r->net.nports; i++)
		if (r->net.ports[i].proto == po->p->proto && r->net.ports[i].host_port == po->p->host_port)
			snprintf(po->owner, sizeof po->owner, "%s", name);
}

static bool had_port(const struct netrec *old, const struct jail_port *p)
{
	for (uint32_t i = 0; old && i < old->net.nports; i++)
		if (old->net.ports[i].proto == p->proto && old->net.ports[i].host_port == p->host_port)
			return true;
	return false;
}

static int check_ports(struct priv_ctx *c, const char *name, const struct netrec *old, const struct netrec *now, struct err *e)
{
	for (uint32_t i = 0; i < now->net.nports; i++) {
		const struct jail_port *p = &now->net.ports[i];
		char f[32];
		snprintf(f, sizeof f, "ports[%u].host_port", i);
		struct port_owner po = { .self = name, .p = p };
		each_netrec(c, find_owner, &po);
		if (po.owner[0])
			return err_field(e, ERR_CONFLICT, f, "host port %s/%u is forwarded to jail %s", proto_name(p->proto), p->host_port,
					 po.owner);
		/* a port already forwarded is ours, whatever listens */
		if (!had_port(old, p) && host_serves_port(p->proto == NET_TCP, p->host_port))
			return err_field(e, ERR_CONFLICT, f,
					 "the host itself serves %s port %u; a forward would take it from the host's service; choose "
					 "another host_port",
					 proto_name(p->proto), p->host_port);
	}
	return 0;
}

int nf_jail_apply(struct priv_ctx *c, const char *name, const struct netrec *old, const struct netrec *now, struct err *e)
{
	struct names n;
	struct textbuf b = { 0 };
	names_of(c, &n);
	int lk = nf_lock(c);
	int rc = check_ports(c, name, old, now, e);
	if (rc == 0) {
		if (old)
			put_jail_removal(&b, c, &n, old);
		put_jail(&b, c, &n, now);
		rc = b.failed ? err_set(e, ERR_INTERNAL, "building jail %s's packet rules: out of memory", name) : 0;
	}
	if (rc == 0 && netrec_write(c->jails_fd, name, now) < 0)
		rc = err_errno(e, "recording jail %s's network", name);
	if (rc == 0 && nft_text(b.s, true, e) < 0) {
		/* the table is not what the records say (a crash between the two, a hand
		 * edit): rebuild it from them, this jail's new record included */
		log_warn("jail %s: %s; rebuilding the table", name, e->msg);
		*e = (struct err){ 0 };
		rc = rebuild(c, e);
	}
	if (rc < 0 && old)
		netrec_write(c->jails_fd, name, old);
	else if (rc < 0)
		netrec_remove(c->jails_fd, name);
	nf_unlock(lk);
	free(b.s);
	return rc;
}

struct tenant_left {
	uint32_t tenant;
	bool found;
};

static void tenant_still_has(const char *name, const struct netrec *r, void *arg)
{
	struct tenant_left *t = arg;
	(void)name;
	t->found |= r->net.tenant == t->tenant;
}

void nf_jail_remove(struct priv_ctx *c, const char *name, const struct netrec *r)
{
	struct names n;
	struct textbuf b = { 0 };
	struct err e = { 0 };
	names_of(c, &n);
	int lk = nf_lock(c);
	netrec_remove(c->jails_fd, name);
	put_jail_removal(&b, c, &n, r);
	/* the tenant's set goes with its last jail, in the same transaction, after the
	 * chains that used it (one transaction: each costs the kernel a grace period) */
	struct tenant_left tl = { r->net.tenant, false };
	if (r->net.tenant)
		each_netrec(c, tenant_still_has, &tl);
	if (r->net.tenant && !tl.found)
		tb_printf(&b, "delete set inet %s t%u\n", n.table, r->net.tenant);
	if (b.failed || nft_text(b.s, true, &e) < 0) {
		e = (struct err){ 0 };
		if (rebuild(c, &e) < 0)
			log_warn("jail %s: removing its packet rules: %s", name, e.msg);
	}
	nf_unlock(lk);
	free(b.s);
}

void nf_foreign_drops(struct priv_ctx *c)
{
	/* another table whose forward chain drops by default (Docker's "ip filter FORWARD
	 * policy drop", a hand-made firewall) drops jails' traffic whatever ours accepts */
	static char out[65536];
	char table[128] = "", mine[32];
	struct err e = { 0 };
	if (nft_run("list chains", true, out, sizeof out, &e) != 0)
		return;
	snprintf(mine, sizeof mine, "jaild_%s", c->tag);
	for (char *save = NULL, *line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char fam[16], name[100];
		if (sscanf(line, " table %15s %99s {", fam, name) == 2)
			snprintf(table, sizeof table, "%s %s", fam, name);
		else if (strstr(line, "hook forward") && strstr(line, "policy drop") && !strstr(table, mine)) {
			snprintf(c->net_note, sizeof c->net_note,
				 "nftables table %.120s drops forwarded traffic by default (Docker does this): jails reach the world only "
				 "once it accepts traffic from and to " JAIL_IF_PREFIX "%.8s-* interfaces", table, c->tag);
			log_warn("%s", c->net_note);
			return;
		}
	}
}

void nf_teardown(struct priv_ctx *c)
{
	struct names n;
	struct err e = { 0 };
	char del[96];
	names_of(c, &n);
	snprintf(del, sizeof del, "table inet %1$s\ndelete table inet %1$s\n", n.table);
	int lk = nf_lock(c);
	nft_text(del, true, &e);
	nf_unlock(lk);
}
