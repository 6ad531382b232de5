/* libFuzzer: bytes as a JKS trust store (base/tls.c's reader, as a --spark-conf
 * spark.ssl.rpc.trustStore is read), with and without a password.  Seeded with keytool's
 * store of tests/golden/tls. */
#include <stddef.h>
#include <stdint.h>

#include "base/tls.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[1u << 16];
	size_t len;

	tls_jks_certs(data, size, "trust-pw", out, sizeof(out), &len, NULL);
	tls_jks_certs(data, size, NULL, out, sizeof(out), &len, NULL);
	return 0;
}
