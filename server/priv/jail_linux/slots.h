/* slots.h — which jail holds which uid slot: the index file DIR/jails/.slots. */
#ifndef JAILD_SLOTS_H
#define JAILD_SLOTS_H

#include <stdbool.h>
#include <stdint.h>

#include "ctx.h"
#include "err.h"

/* Opens the index (made if missing) and claims the slot of every jail whose files
 * have none yet: the data dir of a jaild without the index. At the backend's init. */
int slots_init(struct priv_ctx *c, struct err *e);
/* Claims slot for jail name, whose directory was just made: ERR_CONFLICT when another
 * jail's files are owned by the slot's uid. */
int slot_claim(struct priv_ctx *c, uint32_t slot, const char *name, struct err *e);
/* The slot jail name's files are owned by, for slot_release once they are gone. */
bool slot_of_files(struct priv_ctx *c, const char *name, uint32_t *slot);
/* Gives slot back, if name holds it. */
void slot_release(uint32_t slot, const char *name);

#endif
