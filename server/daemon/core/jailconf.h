/* jailconf.h — jails as jail.conf(5) blocks, out and in, so that a jail(8), ezjail or
 * Bastille host can bring its definitions over and take them back.
 *
 * Out: the parameters jail(8) knows (host.hostname, ip4.addr, ip6.addr, exec.start,
 * exec.stop, stop.timeout, allow.*, mount) and what only jaild has (template, type,
 * limits, ports, firewall, boot) as $jaild_* variables, which jail(8) reads as
 * variables and otherwise leaves alone: the file stays valid for jail(8).
 *
 * In: global parameters, `*` and named blocks, `=` and `+=`, comma lists, quoted and
 * bare words, # // and block comments, $name and other variables. Parameters that
 * belong to the host's jail(8) set-up and that jaild does itself (path, interface,
 * mount.devfs, devfs_ruleset, exec.clean, persist, securelevel, enforce_statfs,
 * children.max, ...) are accepted and left out; anything else is an error naming its
 * line. */
#ifndef JAILD_JAILCONF_H
#define JAILD_JAILCONF_H

#include <jansson.h>

#include "err.h"

/* The jail's canonical spec as a jail.conf block (malloc'd text). */
char *jailconf_render(const char *name, json_t *spec);
/* The jails a jail.conf defines, as create bodies (a new array), or NULL with e set
 * (field "line N"). */
json_t *jailconf_parse(const char *text, size_t len, struct err *e);

#endif
