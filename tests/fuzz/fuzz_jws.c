/* libFuzzer: an Authorization header's bearer token (outside bytes) through the JWS
 * verifier: base64url, the JSON header and claims, the HS256 check. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "tenant/jws.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t key[32] = "sparkgate-fuzz-key-of-256-bits!";
	char token[JWS_MAX_TOKEN + 2], sub[64], why[200];

	if (size > JWS_MAX_TOKEN + 1)
		size = JWS_MAX_TOKEN + 1;
	memcpy(token, data, size);
	token[size] = '\0';
	jws_verify(token, key, sizeof(key), 1700000000, sub, sizeof(sub), why, sizeof(why));
	return 0;
}
