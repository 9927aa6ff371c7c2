/* templates.h — the userlands jails are made from: published by the helper (from an
 * uploaded tarball, or copied from an allowed host directory) and recorded in the store. */
#ifndef JAILD_TEMPLATES_H
#define JAILD_TEMPLATES_H

#include <stdbool.h>

#include "err.h"
#include "store/store.h"

struct template_source {
	const char *name;
	bool replace;   /* a new version of an existing template */
	int tar_fd;     /* the tarball (plain or compressed), or -1 for dir */
	const char *dir; /* a host directory under allow-mount */
	const char *sha256; /* of the tarball, kept with the template */
};

/* Publishes the template; *skipped: device nodes under /dev the tarball carried and
 * that were left out (a jail's /dev is jaild's own). out: the template as stored. */
int template_publish(const struct template_source *src, unsigned *skipped, struct template_row *out, struct err *e);
/* Deletes a template no jail uses. */
int template_remove(const char *name, struct err *e);

/* A jail's export as a tar stream written to fd (closed when done), on a thread of
 * its own: spec is the jail's canonical spec text, written beside its files. */
int jail_export_start(const char *name, const char *spec, int fd, struct err *e);

#endif
