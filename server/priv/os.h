/* os.h — the few calls of the helper's own process that differ by kernel, behind one
 * name each; a backend folder implements them (jail_linux/os.c: prctl; a FreeBSD one:
 * procctl(2)). */
#ifndef JAILD_PRIV_OS_H
#define JAILD_PRIV_OS_H

#include <sys/types.h>

/* Orphaned descendants (jails' first processes, once the worker that started them
 * exits) come to this process, which reaps them. */
int os_become_reaper(void);
/* This process gets sig when the process that started it (the supervisor) dies. */
int os_die_with_parent(int sig);
/* When a live (non-zombie) process started, in the kernel's own unit, or 0 when it is
 * gone: with the pid, it names one process for good (a pid is reused, this is not). */
unsigned long long os_proc_starttime(pid_t pid);
/* This process yields the CPU and the disk to everything else of the host's: bulk file
 * work. Linux: SCHED_IDLE (which still has a small share of a busy CPU) and the lowest
 * best-effort I/O priority; FreeBSD: nice 10 (its idle class gets no share at all
 * while anything else runs, and the work holds its jail's lock). */
void os_background(void);

#endif
