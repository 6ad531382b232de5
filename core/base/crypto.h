/* The little cryptography sparkgate needs (HMAC-SHA256 for bearer tokens and upload names,
 * SHA-256 of uploads, random keys), from libcrypto loaded on first use, not linked: mapped
 * into every process it is a third of sparkgate's resident memory, and most requests never
 * need it. */
#ifndef SG_CRYPTO_H
#define SG_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#define CRYPTO_SHA256_LEN 32

/* The library's name, for messages. */
extern const char CRYPTO_LIBRARY[];
/* 0 when libcrypto is (or can now be) loaded, else -1. */
int crypto_available(void);

/* 0, or -1 when libcrypto cannot be loaded. */
int crypto_hmac_sha256(const uint8_t *key, size_t keylen, const void *data, size_t len,
		       uint8_t out[CRYPTO_SHA256_LEN]);
/* Equal in time independent of where they differ: 1 equal, 0 not. */
int crypto_equal(const void *a, const void *b, size_t n);

/* SHA-256 over bytes that come in pieces (an upload as it streams to disk). */
struct sha256 {
	void *ctx;    /* libcrypto's EVP_MD_CTX */
};
int sha256_begin(struct sha256 *h);
int sha256_add(struct sha256 *h, const void *p, size_t n);
/* Writes the digest and frees the context (also when it fails). */
int sha256_end(struct sha256 *h, uint8_t out[CRYPTO_SHA256_LEN]);
void sha256_abandon(struct sha256 *h);

/* n bytes from the kernel's random source: 0, or -1. */
int crypto_random(void *p, size_t n);

/* Lower-case hexadecimal of n bytes into out (2n + 1 bytes). */
void crypto_hex(const uint8_t *p, size_t n, char *out);

#endif
