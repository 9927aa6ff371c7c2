/* validate.h — the rules for names, hostnames, paths, addresses, argv and limits.
 * jaild applies them to what users send; jaild-priv applies them again to what jaild
 * sends, as if jaild were compromised. One implementation serves both. */
#ifndef JAILD_VALIDATE_H
#define JAILD_VALIDATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "spec.h"

/* The highest host uid or gid a jail may be given: 2^31-1. Older kernels (Debian
 * 12's 6.1) refuse larger ids in mount options such as devpts' gid=, and so do many
 * tools; jaild's configuration and the helper both keep every jail below it. */
#define UID_TOP 2147483647LL
/* The host uids (and gids) each jail maps: its slot's range. */
#define UID_RANGE 65536u

/* An address pool: network and prefix length, in host byte order for v4. */
struct pool4 {
	uint32_t net;
	unsigned prefix;
};
struct pool6 {
	uint8_t net[16];
	unsigned prefix;
};

bool valid_name(const char *s);
bool valid_hostname(const char *s);
/* An interface name as the kernel takes it (1 to 15 bytes), in the characters that are
 * safe to quote in an nftables rule: letters, digits, '-', '_', '.'. */
bool valid_ifname(const char *s);
/* A clean absolute path: starts with '/', no "//", no "." or ".." components,
 * no trailing '/', printable ASCII without ',' ':' or '\\' (mount option safety). */
bool valid_abs_path(const char *s);
/* true when path is base or lies beneath it (both must be valid_abs_path). */
bool path_beneath(const char *path, const char *base);
/* true when the fixed-size field holds a NUL. */
bool str_terminated(const char *field, size_t size);

int pool4_parse(const char *cidr, struct pool4 *out, struct err *e);
int pool6_parse(const char *cidr, struct pool6 *out, struct err *e);
/* Usable: inside the pool, not its network or broadcast address, not the first host (.1). */
bool pool4_contains(const struct pool4 *p, uint32_t addr_host_order);
bool pool6_contains(const struct pool6 *p, const uint8_t addr[16]);

/* Pack argv; fails with a message naming `field` when too long or empty. */
int argv_pack(struct argv_buf *out, const char *const *argv, size_t argc, const char *field, struct err *e);
/* Check a packed argv: argc strings exactly filling len, each non-empty? (only argv[0]),
 * argv[0] absolute. An empty argv (argc 0) is allowed only when allow_empty. */
/* A well-formed argument list: argc strings in len bytes, nothing after them, and
 * argv[0] an absolute path, or (ARGV_PATH_LOOKUP) a bare program name the jail's PATH
 * finds, as jexec(8) and docker exec do; ARGV_MAY_BE_EMPTY: no program at all. */
enum { ARGV_MAY_BE_EMPTY = 1, ARGV_PATH_LOOKUP = 2 };
int argv_check(const struct argv_buf *a, unsigned flags, const char *field, struct err *e);
/* Split a packed argv into pointers (out must hold ARGV_MAX + 1). */
size_t argv_unpack(const struct argv_buf *a, char **out);

int limits_check(const struct jail_limits *l, struct err *e);

/* Forwards, firewall rules and bandwidth: counts, protocols, ports, networks. */
int net_check(const struct jail_net *n, struct err *e);

/* Everything about a spec that does not depend on the host's configuration. */
int spec_check(const struct jail_spec *s, struct err *e);

#endif
