/* tool.h — running a host tool (nft, mkfs.ext4, resize2fs) from the helper: found in the
 * system directories only, a fixed environment, no descriptors but the three given. */
#ifndef JAILD_TOOL_H
#define JAILD_TOOL_H

#include <stddef.h>

#include "err.h"

/* The first of /usr/sbin, /sbin, /usr/bin, /bin holding an executable name; NULL if none. */
const char *tool_find(const char *name, char buf[64]);
/* Runs argv (argv[0] from tool_find) with stdin from in_fd (-1: /dev/null) and stdout and
 * stderr to /dev/null; waits. Returns its exit status, or -1 with e set. */
int tool_run(char *const argv[], int in_fd, struct err *e);

/* The same with input as its stdin and what it writes to stderr in errout (errsize
 * bytes at most, NUL-terminated). */
int tool_run_text(char *const argv[], const char *input, char *errout, size_t errsize, struct err *e);
/* The same, with its stdout in out_buf (out_size bytes at most, NUL-terminated). */
int tool_run_io(char *const argv[], const char *input, char *out_buf, size_t out_size, char *errout, size_t errsize, struct err *e);

#endif
