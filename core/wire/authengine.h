/* Spark's AuthEngine (common/network-common/.../network/crypto/AuthEngine.java, AuthMessage.java):
 * the handshake a client runs when spark.network.crypto.enabled=true, one RPC round trip.
 *
 *   client -> AuthMessage(appId, salt, AES-GCM(KEK, client X25519 public key, AAD))
 *   server -> AuthMessage(appId, salt', AES-GCM(KEK', server X25519 public key, AAD'))
 *
 * KEK = HKDF-SHA256(secret as UTF-8 bytes, salt, info = AAD, 16) where AAD = appId || salt ||
 * transcript (empty for the client's message, the client's encoded message for the
 * server's).  AesGcmJce's output is a 12-byte IV, the ciphertext, a 16-byte tag.  From the
 * X25519 shared secret and transcript = both encoded messages:
 *   session key  v1: the 32 raw bytes (AES-256);  v2: HKDF(shared, transcript, "derivedKey", 16)
 *   client IV    HKDF(shared, transcript, "inputIv", 16)   (the client's input stream)
 *   server IV    HKDF(shared, transcript, "outputIv", 16)  (the client's output stream)
 * (Spark's crypto/README.md names the IVs differently; the code above is what runs.)
 * An AuthMessage is u8 0xFB, i32 length + appId (UTF-8), i32 length + salt, i32 length +
 * ciphertext (protocol/Encoders). */
#ifndef SG_AUTHENGINE_H
#define SG_AUTHENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"

#define AUTH_MESSAGE_TAG 0xFB
#define AUTH_APP_ID "sparkSaslUser"    /* SecurityManager.getSaslUser, as for SASL */
#define AUTH_SALT_LEN 16               /* AES_GCM_KEY_SIZE_BYTES */
#define AUTH_KEY_MAX 32
#define AUTH_IV_LEN 16
#define AUTH_MESSAGE_MAX 512           /* a reply longer than this is not an AuthMessage */

struct authengine {
	const char *secret;            /* borrowed, NUL-terminated UTF-8 */
	const char *app_id;            /* AUTH_APP_ID (tests use Spark's own "appId") */
	int version;                   /* spark.network.crypto.authEngineVersion: 1 or 2 */
	uint8_t priv[32];              /* the client's ephemeral X25519 private key */
	struct buf challenge;          /* the client's encoded AuthMessage (the transcript) */
	/* after authengine_derive: */
	uint8_t key[AUTH_KEY_MAX];
	size_t key_len;                /* 32 (v1) or 16 (v2) */
	uint8_t input_iv[AUTH_IV_LEN]; /* decrypts what the server sends (HKDF "inputIv") */
	uint8_t output_iv[AUTH_IV_LEN];/* encrypts what the client sends (HKDF "outputIv") */
};

void authengine_init(struct authengine *a, const char *secret, int version);
/* Wipes the keys. */
void authengine_release(struct authengine *a);

/* AuthEngine.challenge: a fresh key pair and salt; the body of the RpcRequest to send is
 * appended to out (and kept as the transcript). */
int authengine_challenge(struct authengine *a, struct buf *out, struct sg_err *e);
/* AuthEngine.deriveSessionCipher: checks the server's reply (the RpcResponse body) and
 * derives the session key and IVs.  ERR_PROTOCOL when it is not an AuthMessage or does not
 * decrypt (another secret, or not the master: never a reason to fall back to SASL). */
int authengine_derive(struct authengine *a, const uint8_t *reply, size_t len, struct sg_err *e);

/* For tests: resumes a recorded exchange (the client's private key and its message) so
 * authengine_derive can be checked against Spark's fixed transcript. */
int authengine_adopt(struct authengine *a, const uint8_t priv[32], const uint8_t *challenge, size_t len);
/* For tests: an AuthMessage for app_id (nothing checked but the bound). */
int authengine_message(struct buf *out, const char *app_id, const uint8_t *salt, size_t salt_len,
		       const uint8_t *ct, size_t ct_len);

#endif
