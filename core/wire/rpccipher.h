/* The RPC transport below Spark's frames once an AuthEngine handshake is done
 * (network/crypto/CtrTransportCipher.java, GcmTransportCipher.java): nothing above it
 * changes, frames are sealed whole on the way out and come back as plaintext bytes.
 *
 * AES-CTR: one continuous stream per direction (commons-crypto's CryptoOutputStream), the
 *   client encrypting from the "outputIv" IV and decrypting from the "inputIv" IV.
 * AES-GCM: every message (one frame) is an envelope of Tink's AES-GCM-HKDF streaming AEAD
 *   (subtle/AesGcmHkdfStreaming, 32 KiB ciphertext segments, HKDF-SHA256):
 *     i64 length of the whole envelope (these 8 bytes included)
 *     header: u8 header length (1 + K + 7), salt (K = key length), nonce prefix (7)
 *     segments of at most 32768 bytes (32752 of plaintext + 16 of tag), the first one right
 *     after the header, each AES-GCM under HKDF(key, salt, info = the 8 length bytes, K)
 *     with nonce = prefix || be32(segment number) || (1 on the last segment, else 0).
 *   The length field is what follows it plus 8 (3.5.9 and 4.x; 3.4.4 wrote Tink's
 *   expectedCiphertextSize, which counts the header inside the first segment and so is
 *   wrong when the plaintext ends just below a segment boundary: receivers follow the field).
 *   3.4.4's receiver also drops every message after the first on a connection (SPARK-56227,
 *   fixed in the 3.5.9 and 4.x builds): the master client finds out and then asks once per
 *   AES-GCM connection (master.c).
 */
#ifndef SG_RPCCIPHER_H
#define SG_RPCCIPHER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/buf.h"
#include "base/crypto.h"
#include "base/err.h"
#include "base/tls.h"

struct authengine;

enum rpc_cipher_kind { RPC_PLAIN = 0, RPC_AES_CTR = 1, RPC_AES_GCM = 2 };

#define GCM_SEGMENT 32768                        /* GcmTransportCipher.CIPHERTEXT_BUFFER_SIZE */
#define GCM_PLAIN_SEGMENT (GCM_SEGMENT - CRYPTO_GCM_TAG_LEN)
#define GCM_NONCE_PREFIX 7
#define GCM_KEY_MAX 32
#define GCM_HEADER_MAX (1 + GCM_KEY_MAX + GCM_NONCE_PREFIX)
/* The largest envelope carrying max_plain bytes. */
#define GCM_ENVELOPE_MAX(max_plain) \
	(8 + GCM_HEADER_MAX + (max_plain) + ((max_plain) / GCM_PLAIN_SEGMENT + 2) * CRYPTO_GCM_TAG_LEN)

struct rpc_cipher {
	int kind;
	struct crypto_ctr enc, dec;     /* AES-CTR streams */
	uint8_t key[GCM_KEY_MAX];       /* AES-GCM session key */
	size_t key_len;
	struct buf raw;                 /* AES-GCM: received bytes of envelopes not yet complete */
	struct buf sealed;              /* the frame being sent, as it goes on the wire */
	struct sg_err err;              /* why the last rpc_cipher_recv failed with EBADMSG */
	/* spark.ssl.rpc.enabled: TLS (ssl NULL when off) between the frames and the AES layer */
	struct tls_conn tls;
	struct buf tls_out;             /* a frame as TLS records, before the AES layer */
	struct buf tls_in;              /* the AES layer's bytes for TLS */
};

/* The most a frame of max_frame bytes takes as TLS records (29 bytes a 16 KiB record at most,
 * and what a record may carry beside: alerts, key updates). */
#define RPC_TLS_MAX(max_frame) ((max_frame) + (max_frame) / 256 + 4096)

/* max_frame bounds a frame either way (LIMIT_FRAME). */
void rpc_cipher_init(struct rpc_cipher *c, size_t max_frame);
/* Turns on kind with the keys of a finished handshake. */
int rpc_cipher_start(struct rpc_cipher *c, int kind, const struct authengine *a, struct sg_err *e);
/* Back to plain; wipes the keys (TLS, below, stays). */
void rpc_cipher_stop(struct rpc_cipher *c);
/* A closed connection: the cipher stopped and TLS ended. */
void rpc_cipher_close(struct rpc_cipher *c);
void rpc_cipher_release(struct rpc_cipher *c);

/* One whole frame as it goes on the wire (through TLS when on, then the AES layer): *out is
 * frame itself when plain, else c->sealed or c->tls_out. */
int rpc_cipher_seal(struct rpc_cipher *c, const uint8_t *frame, size_t len, const uint8_t **out, size_t *out_len,
		    struct sg_err *e);
/* recv(2) for the frame reader: plaintext goes to in (room/nroom is in's spare room, used
 * as is when plain or CTR).  Returns bytes added to in, 0 on EOF, -1 with errno set: EAGAIN
 * also when only part of an envelope has come, EBADMSG when it does not open (c->err). */
ssize_t rpc_cipher_recv(struct rpc_cipher *c, int fd, struct buf *in, uint8_t *room, size_t nroom);

/* send(2) of bytes as rpc_cipher_seal made them: bytes written, or -1 with errno EAGAIN when
 * nothing can be written now. */
ssize_t rpc_cipher_send(int fd, const void *p, size_t n);
/* 1 when received bytes wait inside TLS (a poll on the socket does not see them). */
int rpc_cipher_buffered(const struct rpc_cipher *c);

/* The AES-GCM envelope, alone (fuzzed, and checked against the JVM's bytes).  seal: header
 * random bytes (salt then nonce prefix, key_len + 7) from the caller, or NULL for fresh
 * ones.  open: bytes consumed (one whole envelope, its plaintext appended to plain), 0 when
 * more bytes are needed, or a negative ERR_*; the length prefix is checked against
 * max_plain before anything is kept. */
int gcm_envelope_seal(const uint8_t *key, size_t key_len, const uint8_t *header_random, const uint8_t *in,
		      size_t len, struct buf *out, struct sg_err *e);
ssize_t gcm_envelope_open(const uint8_t *key, size_t key_len, const uint8_t *p, size_t n, size_t max_plain,
			  struct buf *plain, struct sg_err *e);

#endif
