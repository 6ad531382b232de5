/* Bearer tokens as Spark 4's REST token filter takes them (core/src/main/scala/org/apache/
 * spark/ui/JWSFilter.scala): "Authorization: Bearer <JWS>", a JWT signed with HS256 under
 * the key that spark.org.apache.spark.ui.JWSFilter.param.secretKey holds base64url-encoded.
 * sparkgate also needs to know who is asking, so the token's "sub" claim is the user;
 * "exp" and "nbf", when present, are enforced as jjwt does. */
#ifndef SG_JWS_H
#define SG_JWS_H

#include <stddef.h>
#include <stdint.h>

#define JWS_MAX_TOKEN 8192
#define JWS_MAX_KEY 512

/* Decodes the base64url secret (as in Spark's setting) into key; its length, or -1 when
 * it is not base64url or shorter than 256 bits (jjwt refuses those for HS256). */
int jws_decode_key(const char *secret, uint8_t *key, size_t size);

/* Verifies token; on success copies "sub" into subject and returns 0, else returns -1
 * with the reason in why. */
int jws_verify(const char *token, const uint8_t *key, size_t keylen, int64_t now_s, char *subject,
	       size_t subject_size, char *why, size_t why_size);

#endif
