/* exec_gate.h — who may run commands in jails, and when. A command (exec) may hold a
 * helper worker for an hour; without a gate one tenant's long commands took every
 * worker and every other tenant waited. Each tenant may have at most per_tenant
 * commands running or waiting; all tenants together at most EXEC_GATE_MAX, below the
 * helper's own cap, so stops, snapshots and consoles always find a worker. Past that,
 * callers wait their turn (first come, first served) for up to EXEC_GATE_WAIT seconds. */
#ifndef JAILD_EXEC_GATE_H
#define JAILD_EXEC_GATE_H

#include <stdint.h>

#include "err.h"

#define EXEC_GATE_MAX 40
#define EXEC_GATE_WAIT 10

/* Once, before any request is served (the wait uses the monotonic clock). */
void exec_gate_init(int per_tenant);
/* 0: the caller may run one command, and must call exec_gate_leave after it. */
int exec_gate_enter(int64_t tenant, struct err *e);
void exec_gate_leave(int64_t tenant);

#endif
