/* tls.h — HTTPS for jaild: a self-signed certificate for first set-up (OpenSSL), and
 * loading a certificate and key for libmicrohttpd. */
#ifndef JAILD_TLS_H
#define JAILD_TLS_H

#include "err.h"

/* Writes DIR/jaild.crt and DIR/jaild.key (0600): an EC P-256 key and a certificate for
 * this host's name, localhost and 127.0.0.1, valid 825 days. Refuses to overwrite. */
int tls_gen_cert(const char *dir, struct err *e);
/* Reads a PEM file whole (the caller frees). */
char *tls_read_pem(const char *path, struct err *e);

#endif
