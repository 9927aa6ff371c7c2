/* spec.h — a jail's spec in the fixed-size form that crosses the privilege boundary.
 * Fixed arrays, no pointers: the helper can check every byte of it. */
#ifndef JAILD_SPEC_H
#define JAILD_SPEC_H

#include <stdint.h>

#define NAME_SIZE 64          /* ^[a-z0-9][a-z0-9-]{0,62}$ plus NUL */
#define HOSTNAME_SIZE 254     /* RFC 1123: 253 plus NUL */
#define JPATH_SIZE 256        /* mount sources and targets */
#define ARGV_BYTES 4096       /* NUL-separated argv */
#define ARGV_MAX 64
#define IP4_MAX 8
#define IP6_MAX 8
#define MOUNTS_MAX 16
#define PORTS_MAX 32          /* port forwards per jail */
#define RULES_MAX 32          /* firewall rules per direction */
#define RULE_PORTS_MAX 8      /* port ranges per rule */
#define BANDWIDTH_MAX 100000000000ULL /* 100G bits per second */

enum jail_type { JAIL_THIN = 0, JAIL_THICK = 1 };

enum jail_allow {
	ALLOW_SET_HOSTNAME = 1 << 0,
	ALLOW_RAW_SOCKETS = 1 << 1,
	ALLOW_SYSVIPC = 1 << 2,
	ALLOW_CHFLAGS = 1 << 3,
	ALLOW_NESTING = 1 << 4, /* user namespaces inside the jail (containers in a jail) */
};

/* argv as argc strings, each NUL-terminated, packed into bytes[0..len). */
struct argv_buf {
	uint32_t argc;
	uint32_t len;
	char bytes[ARGV_BYTES];
};

/* -1 means "not set". memoryuse and disk are bytes, pcpu percent of one CPU. */
struct jail_limits {
	int64_t maxproc;
	int64_t memoryuse;
	int64_t pcpu;
	int64_t openfiles;
	int64_t disk;
};

struct jail_mount {
	char source[JPATH_SIZE];
	char target[JPATH_SIZE];
	uint8_t readonly;
	uint8_t pad[7];
};

/* IP protocol numbers as the wire carries them; NET_ICMP stands for ICMP or ICMPv6. */
enum net_proto { NET_ANY = 0, NET_ICMP = 1, NET_TCP = 6, NET_UDP = 17 };

/* A port forward: connections to the host's uplink address on host_port reach the
 * jail's port (its first address of each family). */
struct jail_port {
	uint8_t proto; /* NET_TCP or NET_UDP */
	uint8_t pad;
	uint16_t host_port;
	uint16_t port;
	uint16_t pad2;
};

/* One firewall rule: the first that matches decides. family 0 matches any address
 * (no to/from given); else addr/prefix in family 4 or 6. */
struct net_rule {
	uint8_t allow;   /* 1 allow, 0 deny */
	uint8_t proto;   /* enum net_proto */
	uint8_t family;  /* 0, 4 or 6 */
	uint8_t prefix;
	uint8_t addr[16];
	uint8_t nports;  /* ranges, tcp/udp only */
	uint8_t pad[3];
	uint16_t ports[RULE_PORTS_MAX][2];
};

/* What a jail's traffic may do, beyond its addresses: changed live (MSG_NET_SET). */
struct jail_net {
	uint32_t tenant;      /* jails with the same nonzero tenant reach each other */
	uint32_t nports;
	uint32_t negress;
	uint32_t ningress;
	uint64_t bandwidth;   /* bits per second, each direction; 0: unlimited */
	struct jail_port ports[PORTS_MAX];
	struct net_rule egress[RULES_MAX];
	struct net_rule ingress[RULES_MAX];
};

struct jail_spec {
	char name[NAME_SIZE];
	char hostname[HOSTNAME_SIZE];
	char tmpl[NAME_SIZE];
	uint8_t type;          /* enum jail_type */
	uint8_t allow;         /* enum jail_allow bits */
	uint8_t nip4;
	uint8_t nip6;
	uint32_t stop_timeout; /* seconds */
	uint32_t ip4[IP4_MAX]; /* network byte order */
	uint8_t ip6[IP6_MAX][16];
	struct argv_buf command;
	struct argv_buf stop_command;
	uint32_t nmounts;
	uint32_t pad;
	struct jail_mount mounts[MOUNTS_MAX];
	struct jail_limits limits;
	struct jail_net net;
};

#endif
