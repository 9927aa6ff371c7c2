#include "signals.h"

#include <signal.h>
#include <stddef.h>
#include <string.h>

static const struct {
	const char *name;
	int sig;
} table[] = {
	{ "HUP", SIGHUP },   { "INT", SIGINT },   { "QUIT", SIGQUIT },   { "ILL", SIGILL },     { "TRAP", SIGTRAP },
	{ "ABRT", SIGABRT }, { "BUS", SIGBUS },   { "FPE", SIGFPE },     { "KILL", SIGKILL },   { "USR1", SIGUSR1 },
	{ "SEGV", SIGSEGV }, { "USR2", SIGUSR2 }, { "PIPE", SIGPIPE },   { "ALRM", SIGALRM },   { "TERM", SIGTERM },
	{ "CHLD", SIGCHLD }, { "CONT", SIGCONT }, { "STOP", SIGSTOP },   { "TSTP", SIGTSTP },   { "TTIN", SIGTTIN },
	{ "TTOU", SIGTTOU }, { "URG", SIGURG },   { "XCPU", SIGXCPU },   { "XFSZ", SIGXFSZ },   { "VTALRM", SIGVTALRM },
	{ "PROF", SIGPROF }, { "WINCH", SIGWINCH }, { "IO", SIGIO },     { "SYS", SIGSYS },
};

const char *sig_name(int sig)
{
	for (size_t i = 0; i < sizeof table / sizeof *table; i++)
		if (table[i].sig == sig)
			return table[i].name;
	return NULL;
}

int sig_number(const char *name)
{
	if (name && strncmp(name, "SIG", 3) == 0)
		name += 3;
	for (size_t i = 0; name && i < sizeof table / sizeof *table; i++)
		if (strcmp(name, table[i].name) == 0)
			return table[i].sig;
	return 0;
}
