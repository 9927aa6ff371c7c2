/* firewall.h — the host-side packet rules that keep jails off the host's own services
 * and away from each other. One nftables table, "inet jaild", keyed on the jd* prefix
 * of jails' host-side interfaces, so starting a jail changes no rule. */
#ifndef JAILD_FIREWALL_H
#define JAILD_FIREWALL_H

#include "err.h"

#define JAIL_IF_PREFIX "jd"

int firewall_setup(struct err *e);

#endif
