/* console.h — jailctl's interactive console (client/console.c). */
#ifndef JAILCTL_CONSOLE_H
#define JAILCTL_CONSOLE_H

#include "api.h"

/* Attaches this terminal to a new console session on jail name, or to session. */
int console_run(const struct settings *s, const char *name, const char *session);

#endif
