/* progpath.h — where jaild's own programs are. */
#ifndef JAILD_PROGPATH_H
#define JAILD_PROGPATH_H

#include <stddef.h>

/* prog (jaild-priv, jaild-tar) beside the running program, as in a build tree, or in
 * the libexec dir once installed. */
void prog_path(const char *prog, char *buf, size_t n);

#endif
