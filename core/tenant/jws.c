#include "tenant/jws.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "base/crypto.h"

static int b64url_value(int c)
{
	if (c >= 'A' && c <= 'Z') return c - 'A';
	if (c >= 'a' && c <= 'z') return c - 'a' + 26;
	if (c >= '0' && c <= '9') return c - '0' + 52;
	if (c == '-' || c == '+') return 62;   /* base64url, and plain base64 as jjwt's decoder allows */
	if (c == '_' || c == '/') return 63;
	return -1;
}

/* base64url without padding (a trailing '=' is tolerated); the decoded length, or -1. */
static int b64url_decode(const char *s, size_t len, uint8_t *out, size_t size)
{
	uint32_t acc = 0;
	int bits = 0;
	size_t n = 0;

	while (len && s[len - 1] == '=')
		len--;
	for (size_t i = 0; i < len; i++) {
		int v = b64url_value((unsigned char)s[i]);

		if (v < 0)
			return -1;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (n >= size)
				return -1;
			out[n++] = (uint8_t)(acc >> bits);
		}
	}
	if (bits >= 6)   /* a single leftover character cannot be a byte */
		return -1;
	return (int)n;
}

int jws_decode_key(const char *secret, uint8_t *key, size_t size)
{
	int n = b64url_decode(secret, strlen(secret), key, size);

	return n >= 32 ? n : -1;
}

static json_t *decode_json(const char *s, size_t len)
{
	uint8_t buf[JWS_MAX_TOKEN];
	int n = b64url_decode(s, len, buf, sizeof(buf));

	return n < 0 ? NULL : json_loadb((const char *)buf, (size_t)n, 0, NULL);
}

int jws_verify(const char *token, const uint8_t *key, size_t keylen, int64_t now_s, char *subject,
	       size_t subject_size, char *why, size_t why_size)
{
	size_t len = strnlen(token, JWS_MAX_TOKEN + 1);
	const char *dot1 = memchr(token, '.', len), *dot2 = dot1 ? memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - token)) : NULL;
	uint8_t sig[64], mac[CRYPTO_SHA256_LEN];
	json_t *header = NULL, *claims = NULL;
	const json_t *v;
	int siglen, rc = -1;

	if (len > JWS_MAX_TOKEN || !dot1 || !dot2 || memchr(dot2 + 1, '.', len - (size_t)(dot2 + 1 - token))) {
		snprintf(why, why_size, "Malformed Authorization header.");
		return -1;
	}
	header = decode_json(token, (size_t)(dot1 - token));
	v = json_object_get(header, "alg");
	if (!json_is_string(v) || strcmp(json_string_value(v), "HS256") != 0) {
		snprintf(why, why_size, "JWT Validate Fail: only HS256 tokens are accepted");
		goto out;
	}
	siglen = b64url_decode(dot2 + 1, len - (size_t)(dot2 + 1 - token), sig, sizeof(sig));
	if (crypto_available()) {
		snprintf(why, why_size, "JWT Validate Fail: sparkgate cannot load %s to check the signature",
			 CRYPTO_LIBRARY);
		goto out;
	}
	if (crypto_hmac_sha256(key, keylen, token, (size_t)(dot2 - token), mac)
	    || siglen != (int)sizeof(mac) || !crypto_equal(sig, mac, sizeof(mac))) {
		snprintf(why, why_size, "JWT Validate Fail: bad signature");
		goto out;
	}
	claims = decode_json(dot1 + 1, (size_t)(dot2 - dot1 - 1));
	if (!json_is_object(claims)) {
		snprintf(why, why_size, "JWT Validate Fail: the claims are not a JSON object");
		goto out;
	}
	if ((v = json_object_get(claims, "exp")) && (!json_is_number(v) || now_s >= (int64_t)json_number_value(v))) {
		snprintf(why, why_size, "JWT Validate Fail: the token has expired");
		goto out;
	}
	if ((v = json_object_get(claims, "nbf")) && (!json_is_number(v) || now_s < (int64_t)json_number_value(v))) {
		snprintf(why, why_size, "JWT Validate Fail: the token is not valid yet");
		goto out;
	}
	v = json_object_get(claims, "sub");
	if (!json_is_string(v) || !json_string_length(v) || json_string_length(v) >= subject_size
	    || strlen(json_string_value(v)) != json_string_length(v)) {
		snprintf(why, why_size, "JWT Validate Fail: sparkgate needs the user as the token's \"sub\" claim");
		goto out;
	}
	memcpy(subject, json_string_value(v), json_string_length(v) + 1);
	rc = 0;
out:
	json_decref(header);
	json_decref(claims);
	return rc;
}
