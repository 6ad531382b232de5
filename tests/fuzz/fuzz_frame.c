/* libFuzzer: bytes from the master's socket through the transport frame parser, frame
 * after frame, as master.c consumes them. */
#include <stddef.h>
#include <stdint.h>

#include "wire/frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t off = 0;

	while (off < size) {
		struct frame f;
		ssize_t used = frame_parse(data + off, size - off, 1u << 16, &f, NULL);

		if (used <= 0)
			break;
		off += (size_t)used;
	}
	return 0;
}
