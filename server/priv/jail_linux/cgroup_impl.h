/* cgroup_impl.h — what cgroup.c, cgroup_v1.c and cgroup_v2.c share. */
#ifndef JAILD_CGROUP_IMPL_H
#define JAILD_CGROUP_IMPL_H

#include <stddef.h>
#include <sys/types.h>

#include "cgroup.h"

int cg_write_file(const char *path, const char *val, struct err *e);
int cg_read_ll(const char *path, long long *out);
int cg_mkdir_ok(const char *path, struct err *e);
int cg_rmdir_ok(const char *path, struct err *e);
long cg_read_procs(const char *path, pid_t *out, size_t max);

/* v1: the controllers a jail gets a group in (cgroup_v1.c) */
extern const char *const v1_controllers[4];
#define NV1 4
/* v2: a file of the base group (cgroup_v2.c) */
void v2_base_path(const struct cgroup_mgr *m, const char *file, char *buf, size_t n);

#endif
