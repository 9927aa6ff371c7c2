/* compat.h — the FreeBSD kernel constants and structures the backend passes to the
 * kernel, written out with FreeBSD 14 amd64's values and layouts.
 *
 * Why our own copies: the backend's code is compiled twice, for FreeBSD (where these
 * go to the kernel through sys_freebsd.c) and for Linux's unit tests (where a recorder
 * reads them back). The same code must build both ways, so it cannot include
 * <netinet6/in6_var.h>. compat_check.c, compiled only for FreeBSD (the freebsd suite),
 * proves every value, size and offset here equal to the real headers', so a copy
 * that drifts does not build. */
#ifndef JAILD_FB_COMPAT_H
#define JAILD_FB_COMPAT_H

#include <stdint.h>

#define FB_IFNAMSIZ 16

/* jail(2) flags (sys/jail.h) */
#define FB_JAIL_CREATE 0x01
#define FB_JAIL_UPDATE 0x02

/* nmount(2) and unmount(2) flags (sys/mount.h) */
#define FB_MNT_RDONLY 0x0000000000000001ULL
#define FB_MNT_NOEXEC 0x0000000000000004ULL
#define FB_MNT_NOSUID 0x0000000000000008ULL
#define FB_MNT_FORCE 0x0000000000080000ULL

/* address families (sys/socket.h) */
#define FB_AF_INET 2
#define FB_AF_INET6 28

/* FreeBSD's sockaddrs carry their length first */
struct fb_sockaddr {
	uint8_t sa_len;
	uint8_t sa_family;
	char sa_data[14];
};

struct fb_sockaddr_in {
	uint8_t sin_len;
	uint8_t sin_family;
	uint16_t sin_port;
	uint32_t sin_addr; /* network byte order */
	char sin_zero[8];
};

struct fb_sockaddr_in6 {
	uint8_t sin6_len;
	uint8_t sin6_family;
	uint16_t sin6_port;
	uint32_t sin6_flowinfo;
	uint8_t sin6_addr[16];
	uint32_t sin6_scope_id;
};

/* net/if.h: SIOCAIFADDR's argument; the sockaddrs hold fb_sockaddr_in */
struct fb_ifaliasreq {
	char ifra_name[FB_IFNAMSIZ];
	struct fb_sockaddr ifra_addr;
	struct fb_sockaddr ifra_broadaddr;
	struct fb_sockaddr ifra_mask;
	int ifra_vhid;
};

/* net/if.h: SIOCDIFADDR's argument (only the address member is used) */
struct fb_ifreq {
	char ifr_name[FB_IFNAMSIZ];
	union {
		struct fb_sockaddr ifru_addr;
		void *ifru_data;
		char ifru_pad[16];
	} ifr_ifru;
};

/* netinet6/in6_var.h */
struct fb_in6_addrlifetime {
	int64_t ia6t_expire; /* time_t */
	int64_t ia6t_preferred;
	uint32_t ia6t_vltime;
	uint32_t ia6t_pltime;
};

struct fb_in6_aliasreq {
	char ifra_name[FB_IFNAMSIZ];
	struct fb_sockaddr_in6 ifra_addr;
	struct fb_sockaddr_in6 ifra_dstaddr;
	struct fb_sockaddr_in6 ifra_prefixmask;
	int ifra_flags;
	struct fb_in6_addrlifetime ifra_lifetime;
	int ifra_vhid;
};

/* SIOCDIFADDR_IN6's argument: a name and a union whose largest member (the
 * interface's statistics) makes it 288 bytes; only the address is used */
struct fb_in6_ifreq {
	char ifr_name[FB_IFNAMSIZ];
	union {
		struct fb_sockaddr_in6 ifru_addr;
		uint64_t ifru_stat[34];
	} ifr_ifru;
};

#define FB_ND6_INFINITE_LIFETIME 0xffffffffu
#define FB_IN6_IFF_NODAD 0x20

/* sys/ioccom.h: _IOW(g, n, t) */
#define FB_IOC_IN 0x80000000ul
#define FB_IOW(g, n, size) (FB_IOC_IN | (((unsigned long)(size) & 0x1fff) << 16) | ((unsigned long)(g) << 8) | (n))
#define FB_SIOCDIFADDR FB_IOW('i', 25, sizeof(struct fb_ifreq))
#define FB_SIOCAIFADDR FB_IOW('i', 43, sizeof(struct fb_ifaliasreq))
#define FB_SIOCDIFADDR_IN6 FB_IOW('i', 25, sizeof(struct fb_in6_ifreq))
#define FB_SIOCAIFADDR_IN6 FB_IOW('i', 27, sizeof(struct fb_in6_aliasreq))

_Static_assert(sizeof(struct fb_ifaliasreq) == 68, "ifaliasreq is 68 bytes on FreeBSD amd64");
_Static_assert(sizeof(struct fb_ifreq) == 32, "ifreq is 32 bytes on FreeBSD amd64");
_Static_assert(sizeof(struct fb_in6_aliasreq) == 136, "in6_aliasreq is 136 bytes on FreeBSD amd64");
_Static_assert(sizeof(struct fb_in6_ifreq) == 288, "in6_ifreq is 288 bytes on FreeBSD amd64");

#endif
