/* spark.authenticate: the SASL DIGEST-MD5 exchange Spark's RPC server accepts
 * (common/network-common/.../sasl/SparkSaslClient.java, SaslClientBootstrap.java), done with
 * Cyrus SASL (libsasl2).  Spark's client authenticates as user base64("sparkSaslUser") with
 * password base64(secret), realm "default", digest-uri "null/default", QOP "auth" (no
 * encryption layer).  Each token travels in an RpcRequest whose body is a SaslMessage:
 * u8 0xEA, i32 len + appId (UTF-8), i32 len + token (sasl/SaslMessage.java). */
#ifndef SG_SASL_H
#define SG_SASL_H

#include <stddef.h>

#include "base/buf.h"
#include "base/err.h"

#define SASL_APP_ID "sparkSaslUser"   /* SecurityManager.getSaslUser */
#define SASL_MESSAGE_TAG 0xEA

struct sasl_digest;

/* Starts a client exchange for secret (spark.authenticate.secret's value).  The first
 * token (empty for DIGEST-MD5) goes to *token; returns NULL with e set on failure. */
struct sasl_digest *sasl_digest_start(const char *secret, struct buf *token, struct sg_err *e);
/* Feeds the server's reply; the next token to send goes to *token.  Returns 1 when the
 * exchange is complete (nothing more to send), 0 to continue, negative on failure. */
int sasl_digest_step(struct sasl_digest *s, const void *in, size_t len, struct buf *token, struct sg_err *e);
void sasl_digest_free(struct sasl_digest *s);

/* The body of the RpcRequest carrying token. */
int sasl_message(struct buf *out, const void *token, size_t len);

#endif
