/* web.h — the web console's static files, served at / from the web root. Only names
 * in the root's top directory and a fixed table of vendored files (xterm.js) exist:
 * no path from a URL ever reaches the filesystem as typed. */
#ifndef JAILD_WEB_H
#define JAILD_WEB_H

#include <stdbool.h>

#include "http/http.h"

/* root: the directory with index.html (the source tree's web/ by default). */
/* root: a descriptor of the web console's directory, opened before jaild dropped
 * root (the clone may live where jaild's user cannot look, such as /root); -1: none. */
void web_init(int root);
/* Fills rs for GET path if it names a file of the console; false if not. */
bool web_serve(const struct request *rq, struct response *rs);

#endif
