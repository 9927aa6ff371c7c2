#include "progpath.h"

#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <unistd.h>

void prog_path(const char *prog, char *buf, size_t n)
{
	char self[PATH_MAX];
	ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
	if (len > 0) {
		self[len] = '\0';
		snprintf(buf, n, "%s/%s", dirname(self), prog);
		if (access(buf, X_OK) == 0)
			return;
	}
	snprintf(buf, n, "%s/%s", JAILD_LIBEXECDIR, prog);
}
