#include "ws.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <string.h>

static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

bool ws_accept(const char *key, char out[WS_ACCEPT_SIZE])
{
	unsigned char raw[24];
	if (strlen(key) != WS_KEY_SIZE - 1 || EVP_DecodeBlock(raw, (const unsigned char *)key, WS_KEY_SIZE - 1) != 18 ||
	    key[22] != '=' || key[23] != '=')
		return false;
	unsigned char buf[WS_KEY_SIZE - 1 + sizeof guid], md[SHA_DIGEST_LENGTH];
	memcpy(buf, key, WS_KEY_SIZE - 1);
	memcpy(buf + WS_KEY_SIZE - 1, guid, sizeof guid - 1);
	SHA1(buf, WS_KEY_SIZE - 1 + sizeof guid - 1, md);
	EVP_EncodeBlock((unsigned char *)out, md, SHA_DIGEST_LENGTH);
	return true;
}

void ws_new_key(char out[WS_KEY_SIZE])
{
	unsigned char raw[16];
	if (RAND_bytes(raw, sizeof raw) != 1)
		memset(raw, 0x5a, sizeof raw); /* a key is a nonce for proxies, not a secret */
	EVP_EncodeBlock((unsigned char *)out, raw, sizeof raw);
}

size_t ws_prefix_take(struct ws_prefix *p, void *out, size_t max)
{
	size_t n = p->len - p->off < max ? p->len - p->off : max;
	if (n == 0)
		return 0; /* data may be NULL */
	memcpy(out, p->data + p->off, n);
	p->off += n;
	return n;
}
