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
	const char *origin; /* what the store says it came from ("debian:bookworm"); NULL: upload or dir */
};

/* Publishes the template; *skipped: device nodes under /dev the tarball carried and
 * that were left out (a jail's /dev is jaild's own). out: the template as stored. */
int template_publish(const struct template_source *src, unsigned *skipped, struct template_row *out, struct err *e);
/* A template built from a distribution's archive, as an operation (operations.h):
 * mmdebstrap in its unshare mode, run by jaild's own unprivileged user (the archive's
 * maintainer scripts run as that user's subordinate uids, in namespaces of their own),
 * its tarball then published as an upload is (the helper unpacks it, checked). */
struct template_build {
	const char *name;
	const char *distro;  /* debian, ubuntu */
	const char *release; /* bookworm, noble, ... */
	const char *const *packages;
	int npackages;
	bool replace;
};
/* Checks the request and starts the build; id names the operation. */
int template_build_start(const struct template_build *b, int64_t tenant_id, char id[33], struct err *e);
/* The archives builds come from (the debian-mirror and ubuntu-mirror settings). A
 * build works in /var/tmp/jaild-build-ID, removed when it ends. */
void template_build_config(const char *debian_mirror, const char *ubuntu_mirror, const char *data_dir);

/* Deletes a template no jail uses. */
int template_remove(const char *name, struct err *e);

/* A jail's export as a tar stream written to fd (closed when done), on a thread of
 * its own: spec is the jail's canonical spec text, written beside its files. */
int jail_export_start(const char *name, const char *spec, int fd, struct err *e);

#endif
