/* reconcile.h — making the store agree with what really runs: at start and each time
 * a (new) helper connects. Live jails are adopted, dead ones marked stopped, running
 * jails the store does not know are stopped, and leftovers are swept. Then, once,
 * boot jails are started in priority order. A monitor notices jails whose first
 * process exits on its own. */
#ifndef JAILD_RECONCILE_H
#define JAILD_RECONCILE_H

#include <stdbool.h>

void reconcile_on_connect(void);
void reconcile_start_monitor(void);
/* Wakes the monitor now (a read saw a jail that stopped on its own). */
void reconcile_poke(void);
/* Waits until the first reconcile (template made, jails adopted, boot jails started)
 * is done, at most timeout_s seconds; true when it is. */
bool reconcile_wait_first(int timeout_s);

#endif
