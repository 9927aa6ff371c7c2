/* fb_recorder.h — the FreeBSD backend's kernel (jail_freebsd/sys.h) as a recorder: each
 * call that asks the kernel or a tool to do something is written down as a line, with
 * every argument (jail parameters, nmount options, the fields of each ioctl's
 * structure, rctl rules, tool argv and input), the data dir shown as DIR. Queries
 * (jail_getid, proc_start) answer from the recorder's idea of what exists. One call
 * can be made to fail, to test how an op unwinds. */
#ifndef JAILD_FB_RECORDER_H
#define JAILD_FB_RECORDER_H

#include <stdbool.h>
#include <sys/types.h>

void rec_reset(const char *data_dir);
/* the n-th call (1-based) named call fails with errno err from now on */
void rec_fail(const char *call, int n, int err);
/* what the next tool call prints, and what wait_child says (status; -1: still running) */
void rec_tool_output(const char *text);
void rec_wait_status(int status);
/* what a tool whose argv, joined by spaces, starts with prefix prints (before the default) */
void rec_tool_answer(const char *prefix, const char *text);
/* ZFS: dataset is mounted at dir; zfs create, clone, snapshot and destroy (of a
 * snapshot) change the tree under dir as they would */
void rec_zfs_root(const char *dataset, const char *dir);
/* rctl_usage's answer; kern.racct.enable's value */
void rec_usage(const char *text);
void rec_racct(int value);
/* what was recorded since the last rec_reset or rec_take, taken */
char *rec_take(void);
/* a process of a jail ended (its first: the jail no longer runs, as after a crash) */
void rec_proc_died(pid_t pid);

#endif
