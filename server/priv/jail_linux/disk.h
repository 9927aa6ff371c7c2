/* disk.h — limits.disk the way OpenRoot did it with mdconfig: the jail's writable files
 * live on a file-backed disk of that size (a sparse file, ext4, a loop mount at
 * jails/NAME/disk), so filling it gives ENOSPC in the jail and leaves the host's disk
 * alone. Without limits.disk the files sit in jails/NAME itself. */
#ifndef JAILD_DISK_H
#define JAILD_DISK_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "err.h"

/* Makes jails/NAME/disk.img of bytes (owned by base, so it names its slot), formats it
 * with its root directory owned by base, and mounts it. */
int disk_create(int jd, int64_t bytes, uid_t base, struct err *e);
/* The directory holding the jail's upper/ and work/ (thin) or root/ (thick): the
 * mounted disk (mounted now if need be, e.g. after a reboot) or jd itself. A new fd. */
int disk_files(int jd, struct err *e);
/* Grows the disk: offline (unmounted first) unless the jail is running, online then
 * (ERR_WRONG_STATE if the host refuses it). A smaller size is refused. */
int disk_grow(int jd, int64_t bytes, bool running, struct err *e);
/* The disk's size, or 0 when the jail has none. */
int64_t disk_size(int jd);
/* Unmounts the disk (the loop device goes with it) before the files are removed. */
void disk_unmount(int jd);

#endif
