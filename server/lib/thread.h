/* thread.h — a thread nobody joins. */
#ifndef JAILD_THREAD_H
#define JAILD_THREAD_H

/* Starts fn(arg) on a detached thread: 0, or the error number (arg is the caller's
 * again). */
int thread_detached(void *(*fn)(void *), void *arg);

#endif
