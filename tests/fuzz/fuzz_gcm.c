/* libFuzzer: bytes from an AES-GCM connection through the envelope reader, envelope after
 * envelope, as rpc_cipher_recv consumes them.  The key is the v2 session key of
 * tests/golden/crypto/spark-3.5.9.txt, so the seeds (its envelopes) decrypt and mutations
 * reach every check after the tag. */
#include <stddef.h>
#include <stdint.h>

#include "wire/rpccipher.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t key[16] = { 0x0b, 0x4d, 0xaf, 0xaa, 0x83, 0x5e, 0xb6, 0xac,
					 0x1d, 0x76, 0x9b, 0xea, 0x4e, 0x1e, 0x68, 0xb2 };
	struct buf plain = BUF_INIT(1u << 18);
	size_t off = 0;

	while (off < size) {
		ssize_t used = gcm_envelope_open(key, sizeof(key), data + off, size - off, 1u << 18, &plain, NULL);

		if (used <= 0)
			break;
		off += (size_t)used;
	}
	buf_release(&plain);
	return 0;
}
