/* backends.c — the backends this build has. jaild-priv serves one, chosen by name
 * (--backend, the first by default), and tells jaild which (HELLO). */
#include <stddef.h>
#include <string.h>

#include "backend.h"

#ifdef __linux__
extern const struct backend_ops linux_backend;
#endif
#ifdef __FreeBSD__
extern const struct backend_ops freebsd_backend;
#endif

const struct backend_ops *const backends[] = {
#ifdef __linux__
	&linux_backend,
#endif
#ifdef __FreeBSD__
	&freebsd_backend,
#endif
	NULL,
};

const struct backend_ops *backend_find(const char *name)
{
	for (size_t i = 0; backends[i]; i++)
		if (!name || strcmp(backends[i]->name, name) == 0)
			return backends[i];
	return NULL;
}
