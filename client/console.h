/* console.h — jailctl's interactive console (client/console.c). */
#ifndef JAILCTL_CONSOLE_H
#define JAILCTL_CONSOLE_H

#include "api.h"

/* Attaches this terminal to a new console session on jail name, or to session;
 * command (a JSON array) runs that command on the terminal instead of a shell
 * (exec -t): the exit code is then the command's. */
int console_run(const struct settings *s, const char *name, const char *session, const char *command);

#endif
