/* lane.h — where a request that may block is handled: a pool of worker threads that
 * grows with the requests in flight and shrinks when they are idle, so that
 * libmicrohttpd's few event threads never wait on a helper call, a command or the
 * store. Internal to http/. */
#ifndef JAILD_HTTP_LANE_H
#define JAILD_HTTP_LANE_H

struct lane_job {
	void (*fn)(struct lane_job *job);
	struct lane_job *next;
};

/* Runs job->fn(job) on a worker, now or as soon as one is free; -1 if no worker could
 * be started at all (the caller answers 503). */
int lane_submit(struct lane_job *job);
/* Jobs queued or running. */
int lane_busy(void);

#endif
