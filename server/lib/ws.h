/* ws.h — the one piece of the WebSocket opening handshake (RFC 6455 §4) both jaild and
 * jailctl need; framing itself is wslay's. */
#ifndef JAILD_WS_H
#define JAILD_WS_H

#include <stdbool.h>
#include <stddef.h>

#define WS_KEY_SIZE 25    /* base64 of 16 bytes, NUL */
#define WS_ACCEPT_SIZE 29 /* base64 of a SHA-1, NUL */

/* Sec-WebSocket-Accept for a Sec-WebSocket-Key; false if key is not base64 of 16 bytes. */
bool ws_accept(const char *key, char out[WS_ACCEPT_SIZE]);
/* A new random Sec-WebSocket-Key (a client's). */
void ws_new_key(char out[WS_KEY_SIZE]);

/* Bytes the HTTP side read past the handshake: wslay's recv callback takes these first. */
struct ws_prefix {
	char *data;
	size_t len, off;
};
/* Copies up to max of what remains into out; 0 once all is taken. */
size_t ws_prefix_take(struct ws_prefix *p, void *out, size_t max);

#endif
