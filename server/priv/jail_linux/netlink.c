#include "netlink.h"

#include <errno.h>
#include <net/if.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/veth.h>
#include <linux/neighbour.h>

struct nlbuf {
	union {
		struct nlmsghdr h;
		char raw[1024];
	} u;
};

static struct rtattr *add_attr(struct nlmsghdr *h, unsigned short type, const void *data, size_t len)
{
	struct rtattr *a = (struct rtattr *)((char *)h + NLMSG_ALIGN(h->nlmsg_len));
	a->rta_type = type;
	a->rta_len = (unsigned short)RTA_LENGTH(len);
	if (len)
		memcpy(RTA_DATA(a), data, len);
	h->nlmsg_len = NLMSG_ALIGN(h->nlmsg_len) + RTA_ALIGN(a->rta_len);
	return a;
}

static void end_nest(struct nlmsghdr *h, struct rtattr *nest)
{
	nest->rta_len = (unsigned short)((char *)h + h->nlmsg_len - (char *)nest);
}

int nl_open(struct err *e)
{
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return err_errno(e, "opening rtnetlink socket");
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		err_errno(e, "binding rtnetlink socket");
		close(fd);
		return -1;
	}
	return fd;
}

/* Send one request and wait for its ACK; returns 0 or -errno. */
static int talk(int nl, struct nlmsghdr *h)
{
	static uint32_t seq;
	h->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
	h->nlmsg_seq = ++seq;
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	if (sendto(nl, h, h->nlmsg_len, 0, (struct sockaddr *)&sa, sizeof sa) < 0)
		return -errno;
	char buf[4096];
	for (;;) {
		ssize_t n = recv(nl, buf, sizeof buf, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (struct nlmsghdr *r = (struct nlmsghdr *)buf; NLMSG_OK(r, (unsigned)n); r = NLMSG_NEXT(r, n)) {
			if (r->nlmsg_seq != h->nlmsg_seq)
				continue;
			if (r->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *ne = NLMSG_DATA(r);
				return ne->error;
			}
		}
	}
}

static struct nlmsghdr *start(struct nlbuf *b, unsigned short type, unsigned short flags, size_t hdrlen)
{
	memset(b, 0, sizeof *b);
	b->u.h.nlmsg_len = (uint32_t)NLMSG_LENGTH(hdrlen);
	b->u.h.nlmsg_type = type;
	b->u.h.nlmsg_flags = flags;
	return &b->u.h;
}

int nl_veth_create(int nl, const char *host_if, const char *peer_if, pid_t peer_pid, struct err *e)
{
	struct nlbuf b;
	struct nlmsghdr *h = start(&b, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, sizeof(struct ifinfomsg));
	add_attr(h, IFLA_IFNAME, host_if, strlen(host_if) + 1);
	struct rtattr *linkinfo = add_attr(h, IFLA_LINKINFO, NULL, 0);
	add_attr(h, IFLA_INFO_KIND, "veth", 4);
	struct rtattr *data = add_attr(h, IFLA_INFO_DATA, NULL, 0);
	struct rtattr *peer = add_attr(h, VETH_INFO_PEER, NULL, 0);
	/* the peer's own ifinfomsg header, then its attributes */
	h->nlmsg_len += NLMSG_ALIGN(sizeof(struct ifinfomsg));
	add_attr(h, IFLA_IFNAME, peer_if, strlen(peer_if) + 1);
	uint32_t pid = (uint32_t)peer_pid;
	add_attr(h, IFLA_NET_NS_PID, &pid, sizeof pid);
	end_nest(h, peer);
	end_nest(h, data);
	end_nest(h, linkinfo);
	int r = talk(nl, h);
	if (r == -EEXIST)
		return err_set(e, ERR_CONFLICT, "network interface %s already exists: a stale interface of this jail; jaild sweeps it on start, or delete it with 'ip link del %s'", host_if, host_if);
	if (r < 0) {
		errno = -r;
		return err_errno(e, "creating veth pair %s", host_if);
	}
	return 0;
}

int nl_link_up(int nl, int ifindex, struct err *e)
{
	struct nlbuf b;
	struct nlmsghdr *h = start(&b, RTM_NEWLINK, 0, sizeof(struct ifinfomsg));
	struct ifinfomsg *ifi = NLMSG_DATA(h);
	ifi->ifi_index = ifindex;
	ifi->ifi_flags = IFF_UP;
	ifi->ifi_change = IFF_UP;
	int r = talk(nl, h);
	if (r < 0) {
		errno = -r;
		return err_errno(e, "bringing up interface %d", ifindex);
	}
	return 0;
}

int nl_link_del(int nl, const char *ifname, struct err *e)
{
	unsigned idx = if_nametoindex(ifname);
	if (idx == 0)
		return 0;
	struct nlbuf b;
	struct nlmsghdr *h = start(&b, RTM_DELLINK, 0, sizeof(struct ifinfomsg));
	struct ifinfomsg *ifi = NLMSG_DATA(h);
	ifi->ifi_index = (int)idx;
	int r = talk(nl, h);
	if (r < 0 && r != -ENODEV) {
		errno = -r;
		return err_errno(e, "deleting interface %s", ifname);
	}
	return 0;
}

int nl_addr_add(int nl, int ifindex, int family, const void *addr, int prefix, struct err *e)
{
	struct nlbuf b;
	struct nlmsghdr *h = start(&b, RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE, sizeof(struct ifaddrmsg));
	struct ifaddrmsg *ifa = NLMSG_DATA(h);
	size_t len = family == AF_INET ? 4 : 16;
	ifa->ifa_family = (unsigned char)family;
	ifa->ifa_prefixlen = (unsigned char)prefix;
	ifa->ifa_index = (unsigned)ifindex;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	if (family == AF_INET6) {
		ifa->ifa_flags = IFA_F_NODAD;
		if (((const uint8_t *)addr)[0] == 0xfe)
			ifa->ifa_scope = RT_SCOPE_LINK;
	}
	add_attr(h, IFA_LOCAL, addr, len);
	add_attr(h, IFA_ADDRESS, addr, len);
	int r = talk(nl, h);
	if (r < 0) {
		errno = -r;
		return err_errno(e, "adding address to interface %d", ifindex);
	}
	return 0;
}

int nl_route_add(int nl, int family, const void *dst, int prefix, const void *gw, int ifindex, struct err *e)
{
	struct nlbuf b;
	struct nlmsghdr *h = start(&b, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, sizeof(struct rtmsg));
	struct rtmsg *rt = NLMSG_DATA(h);
	size_t len = family == AF_INET ? 4 : 16;
	rt->rtm_family = (unsigned char)family;
	rt->rtm_dst_len = dst ? (unsigned char)prefix : 0;
	rt->rtm_table = RT_TABLE_MAIN;
	rt->rtm_protocol = RTPROT_STATIC;
	rt->rtm_scope = gw ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK;
	rt->rtm_type = RTN_UNICAST;
	if (dst)
		add_attr(h, RTA_DST, dst, len);
	if (gw)
		add_attr(h, RTA_GATEWAY, gw, len);
	uint32_t oif = (uint32_t)ifindex;
	add_attr(h, RTA_OIF, &oif, sizeof oif);
	int r = talk(nl, h);
	if (r == -EEXIST)
		return err_set(e, ERR_CONFLICT, "the address is already routed to another running jail or host interface; choose another address");
	if (r < 0) {
		errno = -r;
		return err_errno(e, "adding route on interface %d", ifindex);
	}
	return 0;
}

int nl_neigh_proxy(int nl, int ifindex, int family, const void *addr, bool add, struct err *e)
{
	struct nlbuf b;
	struct nlmsghdr *h = start(&b, add ? RTM_NEWNEIGH : RTM_DELNEIGH, add ? NLM_F_CREATE | NLM_F_REPLACE : 0, sizeof(struct ndmsg));
	struct ndmsg *nd = NLMSG_DATA(h);
	nd->ndm_family = (unsigned char)family;
	nd->ndm_ifindex = ifindex;
	nd->ndm_state = NUD_PERMANENT;
	nd->ndm_flags = NTF_PROXY;
	add_attr(h, NDA_DST, addr, family == AF_INET ? 4 : 16);
	int r = talk(nl, h);
	if (r < 0 && !(r == -ENOENT && !add)) {
		errno = -r;
		return err_errno(e, "%s a proxy %s entry on interface %d", add ? "adding" : "removing", family == AF_INET ? "ARP" : "NDP",
				 ifindex);
	}
	return 0;
}

int nl_link_bytes(int nl, const char *ifname, int64_t *rx, int64_t *tx)
{
	struct nlbuf b;
	struct nlmsghdr *h = start(&b, RTM_GETLINK, NLM_F_REQUEST, sizeof(struct ifinfomsg));
	add_attr(h, IFLA_IFNAME, ifname, strlen(ifname) + 1);
	static uint32_t seq = 1u << 30;
	h->nlmsg_seq = ++seq;
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	if (sendto(nl, h, h->nlmsg_len, 0, (struct sockaddr *)&sa, sizeof sa) < 0)
		return -1;
	static _Alignas(8) char buf[16384];
	for (;;) {
		ssize_t n = recv(nl, buf, sizeof buf, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		for (struct nlmsghdr *r = (struct nlmsghdr *)buf; NLMSG_OK(r, (unsigned)n); r = NLMSG_NEXT(r, n)) {
			if (r->nlmsg_seq != h->nlmsg_seq)
				continue;
			if (r->nlmsg_type == NLMSG_ERROR)
				return -1;
			if (r->nlmsg_type != RTM_NEWLINK)
				continue;
			int len = (int)IFLA_PAYLOAD(r);
			for (struct rtattr *a = IFLA_RTA(NLMSG_DATA(r)); RTA_OK(a, len); a = RTA_NEXT(a, len))
				if (a->rta_type == IFLA_STATS64 && RTA_PAYLOAD(a) >= sizeof(struct rtnl_link_stats64)) {
					struct rtnl_link_stats64 st;
					memcpy(&st, RTA_DATA(a), sizeof st);
					*rx = (int64_t)st.rx_bytes;
					*tx = (int64_t)st.tx_bytes;
					return 0;
				}
			return -1;
		}
	}
}
