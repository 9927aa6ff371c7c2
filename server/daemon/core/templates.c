/* templates.c — templates.h: the helper's TEMPLATE_TAR, TEMPLATE_DIR, TEMPLATE_DELETE
 * and EXPORT, and the store's records of them. */
#include "core/templates.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/jails.h"
#include "core/priv_client.h"
#include "log.h"
#include "validate.h"

int template_publish(const struct template_source *src, unsigned *skipped, struct template_row *out, struct err *e)
{
	struct req_template r;
	struct reply rep;
	char source[300];
	memset(&r, 0, sizeof r);
	*skipped = 0;
	if (!valid_name(src->name))
		return err_field(e, ERR_INVALID, "name",
				 "template name must be 1 to 63 lowercase letters, digits and dashes, starting with a letter or digit");
	if (store_template_exists(J.st, src->name) && !src->replace)
		return err_field(e, ERR_CONFLICT, "name", "template %s exists; publish a new version with replace", src->name);
	r.h = priv_hdr(src->tar_fd >= 0 ? MSG_TEMPLATE_TAR : MSG_TEMPLATE_DIR);
	snprintf(r.name, sizeof r.name, "%.63s", src->name);
	r.replace = src->replace;
	if (src->tar_fd < 0) {
		snprintf(r.source, sizeof r.source, "%.255s", src->dir);
		snprintf(source, sizeof source, "dir:%s", r.source);
	} else {
		snprintf(source, sizeof source, "upload");
	}
	if (priv_call(&r, src->tar_fd >= 0 ? &src->tar_fd : NULL, src->tar_fd >= 0 ? 1 : 0, &rep, e) < 0 ||
	    store_template_put(J.st, r.name, source, src->sha256 ? src->sha256 : "", e) < 0)
		return -1;
	*skipped = rep.skipped > 0 ? (unsigned)rep.skipped : 0;
	return store_template_get(J.st, r.name, out, e);
}

int template_remove(const char *name, struct err *e)
{
	struct template_row t;
	if (!valid_name(name) || store_template_get(J.st, name, &t, e) < 0)
		return err_set(e, ERR_NOT_FOUND, "no template named %.63s", name);
	if (t.jails > 0)
		return err_set(e, ERR_CONFLICT, "template %s is used by %lld jails; destroy them first", name, (long long)t.jails);
	struct req_template r;
	struct reply out;
	memset(&r, 0, sizeof r);
	r.h = priv_hdr(MSG_TEMPLATE_DELETE);
	snprintf(r.name, sizeof r.name, "%.63s", name);
	if (priv_call(&r, NULL, 0, &out, e) < 0 && e->code != ERR_NOT_FOUND)
		return -1;
	return store_template_delete(J.st, name, e);
}

struct export_job {
	struct req_export req;
	int wfd;
};

/* The helper writes into the pipe until the archive is whole. */
static void *export_thread(void *arg)
{
	struct export_job *j = arg;
	struct reply out;
	struct err e;
	if (priv_call(&j->req, &j->wfd, 1, &out, &e) < 0)
		log_warn("export of %s: %s (the download was cut short)", j->req.name, e.msg);
	close(j->wfd);
	free(j);
	return NULL;
}

int jail_export_start(const char *name, const char *spec, int fd, struct err *e)
{
	struct export_job *j = calloc(1, sizeof *j);
	if (!j || strlen(spec) >= SPEC_TEXT_SIZE) {
		free(j);
		return err_set(e, ERR_INTERNAL, "cannot start the export (out of memory, or a spec too large to send)");
	}
	j->req.h = priv_hdr(MSG_EXPORT);
	snprintf(j->req.name, sizeof j->req.name, "%.63s", name);
	snprintf(j->req.spec, sizeof j->req.spec, "%s", spec);
	j->wfd = fd;
	pthread_t t;
	if (pthread_create(&t, NULL, export_thread, j) != 0) {
		free(j);
		return err_set(e, ERR_INTERNAL, "cannot start the export's thread");
	}
	pthread_detach(t);
	return 0;
}
