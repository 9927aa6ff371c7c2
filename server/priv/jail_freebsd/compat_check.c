/* compat_check.c — compat.h against FreeBSD's own headers: every constant, size and
 * offset the backend hands the kernel. Compiled only for FreeBSD (deploy/freebsd-check.sh,
 * the freebsd suite); it has no code, and a mismatch fails the build. */
#include <sys/param.h>
#include <sys/types.h>
#include <sys/ioctl.h>
#include <sys/jail.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/sockio.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/in_var.h>
#include <netinet6/in6_var.h>
#include <netinet6/nd6.h>
#include <stddef.h>

#include "compat.h"

#define SAME(a, b) _Static_assert((a) == (b), #a " != " #b)
#define SAME_FIELD(fs, ff, s, f) \
	SAME(offsetof(struct fs, ff), offsetof(struct s, f)); \
	SAME(sizeof(((struct fs *)0)->ff), sizeof(((struct s *)0)->f))

SAME(FB_IFNAMSIZ, IFNAMSIZ);
SAME(FB_JAIL_CREATE, JAIL_CREATE);
SAME(FB_JAIL_UPDATE, JAIL_UPDATE);
SAME(FB_MNT_RDONLY, MNT_RDONLY);
SAME(FB_MNT_NOEXEC, MNT_NOEXEC);
SAME(FB_MNT_NOSUID, MNT_NOSUID);
SAME(FB_MNT_FORCE, MNT_FORCE);
SAME(FB_AF_INET, AF_INET);
SAME(FB_AF_INET6, AF_INET6);
SAME(FB_ND6_INFINITE_LIFETIME, ND6_INFINITE_LIFETIME);
SAME(FB_IN6_IFF_NODAD, IN6_IFF_NODAD);
SAME(FB_SIOCDIFADDR, SIOCDIFADDR);
SAME(FB_SIOCAIFADDR, SIOCAIFADDR);
SAME(FB_SIOCDIFADDR_IN6, SIOCDIFADDR_IN6);
SAME(FB_SIOCAIFADDR_IN6, SIOCAIFADDR_IN6);

SAME(sizeof(struct fb_sockaddr), sizeof(struct sockaddr));
SAME_FIELD(fb_sockaddr, sa_len, sockaddr, sa_len);
SAME_FIELD(fb_sockaddr, sa_family, sockaddr, sa_family);
SAME(sizeof(struct fb_sockaddr_in), sizeof(struct sockaddr_in));
SAME_FIELD(fb_sockaddr_in, sin_len, sockaddr_in, sin_len);
SAME_FIELD(fb_sockaddr_in, sin_family, sockaddr_in, sin_family);
SAME_FIELD(fb_sockaddr_in, sin_port, sockaddr_in, sin_port);
SAME_FIELD(fb_sockaddr_in, sin_addr, sockaddr_in, sin_addr);
SAME(sizeof(struct fb_sockaddr_in6), sizeof(struct sockaddr_in6));
SAME_FIELD(fb_sockaddr_in6, sin6_len, sockaddr_in6, sin6_len);
SAME_FIELD(fb_sockaddr_in6, sin6_family, sockaddr_in6, sin6_family);
SAME_FIELD(fb_sockaddr_in6, sin6_addr, sockaddr_in6, sin6_addr);
SAME_FIELD(fb_sockaddr_in6, sin6_scope_id, sockaddr_in6, sin6_scope_id);

SAME(sizeof(struct fb_ifaliasreq), sizeof(struct ifaliasreq));
SAME_FIELD(fb_ifaliasreq, ifra_name, ifaliasreq, ifra_name);
SAME_FIELD(fb_ifaliasreq, ifra_addr, ifaliasreq, ifra_addr);
SAME_FIELD(fb_ifaliasreq, ifra_broadaddr, ifaliasreq, ifra_broadaddr);
SAME_FIELD(fb_ifaliasreq, ifra_mask, ifaliasreq, ifra_mask);
SAME_FIELD(fb_ifaliasreq, ifra_vhid, ifaliasreq, ifra_vhid);
SAME(sizeof(struct fb_ifreq), sizeof(struct ifreq));
SAME_FIELD(fb_ifreq, ifr_name, ifreq, ifr_name);
SAME(offsetof(struct fb_ifreq, ifr_ifru.ifru_addr), offsetof(struct ifreq, ifr_addr));

SAME(sizeof(struct fb_in6_addrlifetime), sizeof(struct in6_addrlifetime));
SAME_FIELD(fb_in6_addrlifetime, ia6t_vltime, in6_addrlifetime, ia6t_vltime);
SAME_FIELD(fb_in6_addrlifetime, ia6t_pltime, in6_addrlifetime, ia6t_pltime);
SAME(sizeof(struct fb_in6_aliasreq), sizeof(struct in6_aliasreq));
SAME_FIELD(fb_in6_aliasreq, ifra_name, in6_aliasreq, ifra_name);
SAME_FIELD(fb_in6_aliasreq, ifra_addr, in6_aliasreq, ifra_addr);
SAME_FIELD(fb_in6_aliasreq, ifra_prefixmask, in6_aliasreq, ifra_prefixmask);
SAME_FIELD(fb_in6_aliasreq, ifra_flags, in6_aliasreq, ifra_flags);
SAME_FIELD(fb_in6_aliasreq, ifra_lifetime, in6_aliasreq, ifra_lifetime);
SAME_FIELD(fb_in6_aliasreq, ifra_vhid, in6_aliasreq, ifra_vhid);
SAME(sizeof(struct fb_in6_ifreq), sizeof(struct in6_ifreq));
SAME_FIELD(fb_in6_ifreq, ifr_name, in6_ifreq, ifr_name);
SAME(offsetof(struct fb_in6_ifreq, ifr_ifru.ifru_addr), offsetof(struct in6_ifreq, ifr_addr));
