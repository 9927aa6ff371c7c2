/* restore.h — the auto-restore schedule: every running jail with a `restore` setting
 * is warned `warn` ahead and restored from its snapshot every `every`. The next time is
 * in the store (it survives a restart); a jail that stops leaves the schedule and
 * rejoins it, a full period ahead, when it starts again. */
#ifndef JAILD_RESTORE_H
#define JAILD_RESTORE_H

void restore_start_scheduler(void);

#endif
