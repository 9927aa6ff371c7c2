/* net.c — a jail's network on FreeBSD: its addresses as aliases on a host interface
 * (the uplink when its pool is routed, else lo0, whose traffic pf translates), and its
 * packet rules as one pf anchor, jaild/KNAME, replaced whole and atomically by
 * `pfctl -a jaild/KNAME -f -` and flushed at stop. pf.conf must call the anchors once,
 * with a nat-anchor, an rdr-anchor and an anchor line for "jaild/" and a star (the
 * lines are in docs/backend-freebsd.md).
 * Jails of one tenant reach each other, others not: the root ruleset's tables
 * jaild_TAG (every running jail's addresses) and jaild_TAG_tN (tenant N's). Bandwidth
 * is a pair of dummynet pipes per jail (dnctl), which pf 14 feeds with dnpipe. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "../runrec.h"
#include "freebsd.h"
#include "log.h"
#include "textbuf.h"

#define PFCTL "/sbin/pfctl"
#define DNCTL "/sbin/dnctl"
/* dummynet pipes: 2 per slot from here (in, out) */
#define PIPE_BASE 20000u

int fb_net_init(struct priv_ctx *c, struct err *e)
{
	struct fb_impl *f = FB(c);
	const char *up = c->net.uplink;
	snprintf(f->alias4_if, sizeof f->alias4_if, "%s", up[0] && c->net.routed4 ? up : "lo0");
	snprintf(f->alias6_if, sizeof f->alias6_if, "%s", up[0] && c->net.routed6 ? up : "lo0");
	char rules[8192] = "", nat[8192] = "";
	struct err ignored;
	char *show_rules[] = { PFCTL, "-s", "rules", NULL }, *show_nat[] = { PFCTL, "-s", "nat", NULL };
	f->pf_anchors = fb_sys->tool(show_rules, -1, NULL, -1, rules, sizeof rules, &ignored) == 0 &&
			fb_sys->tool(show_nat, -1, NULL, -1, nat, sizeof nat, &ignored) == 0 &&
			strstr(rules, "anchor \"jaild/*\"") && strstr(nat, "nat-anchor \"jaild/*\"") &&
			strstr(nat, "rdr-anchor \"jaild/*\"");
	if (!f->pf_anchors)
		snprintf(c->net_note, sizeof c->net_note,
			 "pf does not call jaild's anchors, so jails' ports, firewall rules, NAT and tenant isolation cannot work: "
			 "add nat-anchor \"jaild/*\", rdr-anchor \"jaild/*\" and anchor \"jaild/*\" to /etc/pf.conf and run "
			 "service pf reload");
	(void)e;
	return 0;
}

int fb_alias(struct priv_ctx *c, bool add, int family, const void *addr, struct err *e)
{
	struct fb_impl *f = FB(c);
	int rc;
	char text[INET6_ADDRSTRLEN];
	inet_ntop(family == FB_AF_INET ? AF_INET : AF_INET6, addr, text, sizeof text);
	if (family == FB_AF_INET && add) {
		/* a /32 alias, as the handbook's `ifconfig IF alias A/32` */
		struct fb_ifaliasreq q = { .ifra_vhid = 0 };
		snprintf(q.ifra_name, sizeof q.ifra_name, "%s", f->alias4_if);
		struct fb_sockaddr_in *a = (struct fb_sockaddr_in *)&q.ifra_addr, *m = (struct fb_sockaddr_in *)&q.ifra_mask;
		a->sin_len = m->sin_len = sizeof *a;
		a->sin_family = m->sin_family = FB_AF_INET;
		memcpy(&a->sin_addr, addr, 4);
		m->sin_addr = 0xffffffffu;
		rc = fb_sys->if_ioctl(FB_AF_INET, FB_SIOCAIFADDR, &q);
	} else if (family == FB_AF_INET) {
		struct fb_ifreq q = { .ifr_name = "" };
		snprintf(q.ifr_name, sizeof q.ifr_name, "%s", f->alias4_if);
		struct fb_sockaddr_in *a = (struct fb_sockaddr_in *)&q.ifr_ifru.ifru_addr;
		a->sin_len = sizeof *a;
		a->sin_family = FB_AF_INET;
		memcpy(&a->sin_addr, addr, 4);
		rc = fb_sys->if_ioctl(FB_AF_INET, FB_SIOCDIFADDR, &q);
	} else if (add) {
		/* a /128 without duplicate address detection (the address is ours to give),
		 * never expiring */
		struct fb_in6_aliasreq q = { .ifra_flags = FB_IN6_IFF_NODAD };
		snprintf(q.ifra_name, sizeof q.ifra_name, "%s", f->alias6_if);
		q.ifra_addr.sin6_len = q.ifra_prefixmask.sin6_len = sizeof q.ifra_addr;
		q.ifra_addr.sin6_family = q.ifra_prefixmask.sin6_family = FB_AF_INET6;
		memcpy(q.ifra_addr.sin6_addr, addr, 16);
		memset(q.ifra_prefixmask.sin6_addr, 0xff, 16);
		q.ifra_lifetime.ia6t_vltime = q.ifra_lifetime.ia6t_pltime = FB_ND6_INFINITE_LIFETIME;
		rc = fb_sys->if_ioctl(FB_AF_INET6, FB_SIOCAIFADDR_IN6, &q);
	} else {
		struct fb_in6_ifreq q = { .ifr_name = "" };
		snprintf(q.ifr_name, sizeof q.ifr_name, "%s", f->alias6_if);
		q.ifr_ifru.ifru_addr.sin6_len = sizeof q.ifr_ifru.ifru_addr;
		q.ifr_ifru.ifru_addr.sin6_family = FB_AF_INET6;
		memcpy(q.ifr_ifru.ifru_addr.sin6_addr, addr, 16);
		rc = fb_sys->if_ioctl(FB_AF_INET6, FB_SIOCDIFADDR_IN6, &q);
	}
	if (rc < 0)
		return err_errno(e, "%s address %s %s %s", add ? "adding" : "removing", text, add ? "to" : "from",
				 family == FB_AF_INET ? f->alias4_if : f->alias6_if);
	return 0;
}

static void put_addrs(struct textbuf *b, const struct netrec *r, int fam)
{
	char a[INET6_ADDRSTRLEN];
	int n = fam == 4 ? r->nip4 : r->nip6;
	tb_printf(b, n > 1 ? "{ " : "");
	for (int i = 0; i < n; i++) {
		inet_ntop(fam == 4 ? AF_INET : AF_INET6, fam == 4 ? (const void *)&r->ip4[i] : r->ip6[i], a, sizeof a);
		tb_printf(b, "%s%s", i ? ", " : "", a);
	}
	tb_printf(b, n > 1 ? " }" : "");
}

static void put_rule(struct textbuf *b, const struct netrec *r, int fam, const struct net_rule *q, bool egress)
{
	char addr[INET6_ADDRSTRLEN] = "any";
	if (q->family && q->family != fam)
		return;
	if (q->family) {
		inet_ntop(fam == 4 ? AF_INET : AF_INET6, q->addr, addr, sizeof addr);
		snprintf(addr + strlen(addr), sizeof addr - strlen(addr), "/%u", q->prefix);
	}
	tb_printf(b, "%s %s quick inet%s", q->allow ? "pass" : "block", egress ? "out" : "in", fam == 6 ? "6" : "");
	if (q->proto == NET_TCP || q->proto == NET_UDP)
		tb_printf(b, " proto %s", q->proto == NET_TCP ? "tcp" : "udp");
	else if (q->proto == NET_ICMP)
		tb_printf(b, " proto %s", fam == 4 ? "icmp" : "icmp6");
	else if (q->nports)
		tb_printf(b, " proto { tcp, udp }");
	tb_printf(b, " from ");
	if (egress)
		put_addrs(b, r, fam);
	else
		tb_printf(b, "%s", addr);
	tb_printf(b, " to ");
	if (egress)
		tb_printf(b, "%s", addr);
	else
		put_addrs(b, r, fam);
	for (unsigned i = 0; i < q->nports; i++) {
		if (q->ports[i][0] == q->ports[i][1])
			tb_printf(b, "%s%u", i ? ", " : " port { ", q->ports[i][0]);
		else
			tb_printf(b, "%s%u:%u", i ? ", " : " port { ", q->ports[i][0], q->ports[i][1]);
	}
	tb_printf(b, "%s%s\n", q->nports ? " }" : "", q->allow ? " keep state" : "");
}

void fb_pf_rules(const struct priv_ctx *c, const struct netrec *r, struct textbuf *b)
{
	const char *up = c->net.uplink;
	const struct jail_net *n = &r->net;
	for (int fam = 4; fam <= 6; fam += 2) {
		int count = fam == 4 ? r->nip4 : r->nip6;
		bool nat = fam == 4 ? !c->net.routed4 : !c->net.routed6;
		if (!count || !up[0])
			continue;
		/* translation: its traffic leaves as the uplink's, forwards come in */
		if (nat) {
			tb_printf(b, "nat on %s inet%s from ", up, fam == 6 ? "6" : "");
			put_addrs(b, r, fam);
			tb_printf(b, " to any -> (%s)\n", up);
		}
		char first[INET6_ADDRSTRLEN];
		inet_ntop(fam == 4 ? AF_INET : AF_INET6, fam == 4 ? (const void *)&r->ip4[0] : r->ip6[0], first, sizeof first);
		for (uint32_t i = 0; i < n->nports; i++)
			tb_printf(b, "rdr on %s inet%s proto %s from any to (%s) port %u -> %s port %u\n", up, fam == 6 ? "6" : "",
				  n->ports[i].proto == NET_TCP ? "tcp" : "udp", up, n->ports[i].host_port, first, n->ports[i].port);
	}
	for (int fam = 4; fam <= 6; fam += 2) {
		int count = fam == 4 ? r->nip4 : r->nip6;
		if (!count)
			continue;
		const char *inet = fam == 6 ? "inet6" : "inet";
		/* match rules first: they do not end the evaluation, and the pipe sticks to
		 * whatever a quick rule after them decides */
		if (n->bandwidth) {
			unsigned pin = PIPE_BASE + 2 * r->slot, pout = pin + 1;
			tb_printf(b, "match in %s from any to ", inet);
			put_addrs(b, r, fam);
			tb_printf(b, " dnpipe %u\nmatch out %s from ", pin, inet);
			put_addrs(b, r, fam);
			tb_printf(b, " to any dnpipe %u\n", pout);
		}
		/* its loopback is its own address: always its own */
		tb_printf(b, "pass quick on lo0 %s from ", inet);
		put_addrs(b, r, fam);
		tb_printf(b, " to ");
		put_addrs(b, r, fam);
		tb_printf(b, "\n");
		/* another jail on this host reaches it over lo0: its tenant's only */
		if (n->tenant) {
			tb_printf(b, "pass in quick on lo0 %s from <jaild_%s_t%u> to ", inet, c->tag, n->tenant);
			put_addrs(b, r, fam);
			tb_printf(b, " keep state\npass out quick on lo0 %s from ", inet);
			put_addrs(b, r, fam);
			tb_printf(b, " to <jaild_%s_t%u> keep state\n", c->tag, n->tenant);
		}
		tb_printf(b, "block in quick on lo0 %s from <jaild_%s> to ", inet, c->tag);
		put_addrs(b, r, fam);
		tb_printf(b, "\n");
		for (uint32_t i = 0; i < n->negress; i++)
			put_rule(b, r, fam, &n->egress[i], true);
		if (c->net.egress_deny) {
			tb_printf(b, "block out quick %s from ", inet);
			put_addrs(b, r, fam);
			tb_printf(b, " to any\n");
		}
		for (uint32_t i = 0; i < n->ningress; i++)
			put_rule(b, r, fam, &n->ingress[i], false);
	}
}

static int table(struct priv_ctx *c, const struct netrec *r, bool add, uint32_t tenant, struct err *e)
{
	char name[48], addrs[IP4_MAX + IP6_MAX][INET6_ADDRSTRLEN];
	char *argv[8 + IP4_MAX + IP6_MAX] = { PFCTL, "-q", "-t", name, "-T", add ? "add" : "delete" };
	int n = 6;
	if (tenant)
		snprintf(name, sizeof name, "jaild_%s_t%u", c->tag, tenant);
	else
		snprintf(name, sizeof name, "jaild_%s", c->tag);
	for (int i = 0; i < r->nip4; i++)
		argv[n++] = (char *)inet_ntop(AF_INET, &r->ip4[i], addrs[i], INET6_ADDRSTRLEN);
	for (int i = 0; i < r->nip6; i++)
		argv[n++] = (char *)inet_ntop(AF_INET6, r->ip6[i], addrs[r->nip4 + i], INET6_ADDRSTRLEN);
	argv[n] = NULL;
	return n == 6 ? 0 : fb_tool(argv, e);
}

static int load_anchor(struct priv_ctx *c, const char *name, const struct netrec *r, struct err *e)
{
	char kname[96], anchor[112];
	fb_kname(c, name, kname);
	snprintf(anchor, sizeof anchor, "jaild/%s", kname);
	struct textbuf b = { 0 };
	fb_pf_rules(c, r, &b);
	if (b.failed) {
		free(b.s);
		return err_set(e, ERR_INTERNAL, "out of memory writing the pf rules of jail %s", name);
	}
	if (b.len && !FB(c)->pf_anchors) {
		free(b.s);
		return err_set(e, ERR_INTERNAL, "jail %s needs packet rules, but %s", name, c->net_note);
	}
	int rc = 0;
	if (r->net.bandwidth) {
		char bw[32], pipe[2][12];
		snprintf(bw, sizeof bw, "%llubit/s", (unsigned long long)r->net.bandwidth);
		for (int i = 0; rc == 0 && i < 2; i++) {
			snprintf(pipe[i], sizeof pipe[i], "%u", PIPE_BASE + 2 * r->slot + (unsigned)i);
			char *argv[] = { DNCTL, "pipe", pipe[i], "config", "bw", bw, NULL };
			rc = fb_tool(argv, e);
		}
	}
	char *argv[] = { PFCTL, "-q", "-a", anchor, "-f", "-", NULL };
	if (rc == 0 && fb_sys->tool(argv, -1, b.s ? b.s : "", -1, NULL, 0, e) < 0)
		rc = -1;
	free(b.s);
	return rc;
}

int fb_net_apply(struct priv_ctx *c, const char *name, struct err *e)
{
	struct netrec r;
	if (!netrec_read(c->jails_fd, name, &r))
		return err_set(e, ERR_INTERNAL, "jail %s has no network record", name);
	if (!FB(c)->pf_anchors && !c->net.uplink[0] && r.net.nports == 0 && r.net.negress == 0 && r.net.ningress == 0 &&
	    !r.net.bandwidth && !c->net.egress_deny)
		return 0; /* host-only, no rules: nothing for pf to do */
	if (load_anchor(c, name, &r, e) || table(c, &r, true, 0, e) || (r.net.tenant && table(c, &r, true, r.net.tenant, e)))
		return -1;
	return 0;
}

void fb_net_clear(struct priv_ctx *c, const char *name)
{
	struct netrec r;
	char kname[96], anchor[112];
	struct err ignored;
	if (!netrec_read(c->jails_fd, name, &r) || !FB(c)->pf_anchors)
		return;
	fb_kname(c, name, kname);
	snprintf(anchor, sizeof anchor, "jaild/%s", kname);
	char *flush[] = { PFCTL, "-q", "-a", anchor, "-F", "all", NULL };
	fb_tool(flush, &ignored);
	table(c, &r, false, 0, &ignored);
	if (r.net.tenant)
		table(c, &r, false, r.net.tenant, &ignored);
	if (r.net.bandwidth)
		for (unsigned i = 0; i < 2; i++) {
			char pipe[12];
			snprintf(pipe, sizeof pipe, "%u", PIPE_BASE + 2 * r.slot + i);
			char *argv[] = { DNCTL, "pipe", "delete", pipe, NULL };
			fb_tool(argv, &ignored);
		}
}

/* Forwards, rules and bandwidth of a running jail, changed in place: the anchor is
 * replaced whole, so there is no moment with half of the old and half of the new. */
int fb_net_set(struct priv_ctx *c, const struct req_net *r, struct err *e)
{
	struct runrec rec;
	struct netrec old, now;
	struct err ignored;
	if (fb_running(c, r->name, &rec, &ignored) < 0 || !netrec_read(c->jails_fd, r->name, &old))
		return 0; /* a stopped jail gets them at its next start */
	now = old;
	now.net = r->net;
	if (netrec_write(c->jails_fd, r->name, &now) < 0)
		return err_errno(e, "recording the network of jail %s", r->name);
	if (load_anchor(c, r->name, &now, e)) {
		netrec_write(c->jails_fd, r->name, &old);
		return -1;
	}
	if (old.net.tenant != now.net.tenant) {
		if (old.net.tenant)
			table(c, &old, false, old.net.tenant, &ignored);
		if (now.net.tenant && table(c, &now, true, now.net.tenant, e))
			return -1;
	}
	if (old.net.bandwidth && !now.net.bandwidth)
		for (unsigned i = 0; i < 2; i++) {
			char pipe[12];
			snprintf(pipe, sizeof pipe, "%u", PIPE_BASE + 2 * now.slot + i);
			char *argv[] = { DNCTL, "pipe", "delete", pipe, NULL };
			fb_tool(argv, &ignored);
		}
	return 0;
}
