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

/* Spark's RPC encryption (network/crypto/AuthEngine, Ctr/GcmTransportCipher).  Each
 * returns 0, or -1 when libcrypto cannot be loaded or the operation fails (a GCM tag that
 * does not verify, a low-order X25519 key). */
#define CRYPTO_X25519_LEN 32
#define CRYPTO_GCM_IV_LEN 12
#define CRYPTO_GCM_TAG_LEN 16
#define CRYPTO_CTR_IV_LEN 16

/* The public key of a 32-byte private key (clamped as RFC 7748 says). */
int crypto_x25519_public(const uint8_t priv[CRYPTO_X25519_LEN], uint8_t pub[CRYPTO_X25519_LEN]);
int crypto_x25519(const uint8_t priv[CRYPTO_X25519_LEN], const uint8_t peer[CRYPTO_X25519_LEN],
		  uint8_t shared[CRYPTO_X25519_LEN]);
/* HKDF-SHA256 (RFC 5869): out_len bytes, at most 8160. */
int crypto_hkdf_sha256(const uint8_t *ikm, size_t ikm_len, const uint8_t *salt, size_t salt_len,
		       const uint8_t *info, size_t info_len, uint8_t *out, size_t out_len);
/* AES-GCM (key of 16 or 32 bytes, 12-byte IV) over len bytes into out (len bytes); encrypt
 * writes tag, decrypt checks it. */
int crypto_aes_gcm(int encrypt, const uint8_t *key, size_t keylen, const uint8_t iv[CRYPTO_GCM_IV_LEN],
		   const uint8_t *aad, size_t aad_len, const uint8_t *in, size_t len, uint8_t *out,
		   uint8_t tag[CRYPTO_GCM_TAG_LEN]);
/* AES-CTR as one continuous stream (a 128-bit big-endian counter from iv): the same call
 * encrypts and decrypts. */
struct crypto_ctr {
	void *ctx;    /* libcrypto's EVP_CIPHER_CTX */
};
int crypto_ctr_init(struct crypto_ctr *s, const uint8_t *key, size_t keylen, const uint8_t iv[CRYPTO_CTR_IV_LEN]);
int crypto_ctr_apply(struct crypto_ctr *s, const uint8_t *in, uint8_t *out, size_t len);
void crypto_ctr_release(struct crypto_ctr *s);

/* Lower-case hexadecimal of n bytes into out (2n + 1 bytes). */
void crypto_hex(const uint8_t *p, size_t n, char *out);

#endif
