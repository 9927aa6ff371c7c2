/* resolv.h — the resolvers a jail is given: the admin's dns setting, else the host's
 * own, read from resolv.conf(5) as the host's resolver library would. A resolver on
 * the host's loopback (systemd-resolved's 127.0.0.53, a local dnsmasq) is unreachable
 * from a jail's network namespace: systemd-resolved's upstream list is used instead,
 * as Docker does, and if nothing remains the note says so. Shared by jaild (GET
 * /api/host) and the helper (which writes the jail's /etc/resolv.conf). */
#ifndef JAILD_RESOLV_H
#define JAILD_RESOLV_H

#include <stddef.h>

#include "err.h"

#define RESOLVERS_MAX 3
#define RESOLVER_SIZE 46

/* setting: the dns setting ("" for the host's): addresses separated by commas or
 * spaces. Fills out (at most RESOLVERS_MAX) and returns how many, or -1 with e set
 * when the setting holds something that is not an address. note: "" or why the
 * host's list was changed or is empty. */
int resolvers_pick(const char *setting, char out[][RESOLVER_SIZE], char *note, size_t note_size, struct err *e);

/* The resolvers of one resolv.conf file (path), loopback ones left out (counted in
 * *loopback); for tests and for resolvers_pick. */
int resolvers_read(const char *path, char out[][RESOLVER_SIZE], int *loopback);

#endif
