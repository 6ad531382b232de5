/* Building wire input by hand in tests: a growable byte string and big-endian writers.
 * (Test code: it may abort; core's own buffer is buf.h.) */
#ifndef SG_TEST_BYTES_H
#define SG_TEST_BYTES_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct bytes {
	uint8_t *p;
	size_t len, cap;
};

/* Room for n more bytes at b->p + b->len. */
static inline void bytes_room(struct bytes *b, size_t n)
{
	if (b->len + n > b->cap) {
		b->cap = (b->len + n) * 2;
		b->p = realloc(b->p, b->cap);
		if (!b->p)
			abort();
	}
}

static inline void put(struct bytes *b, const void *p, size_t n)
{
	bytes_room(b, n);
	if (n)
		memcpy(b->p + b->len, p, n);
	b->len += n;
}

/* n copies of one byte */
static inline void put_run(struct bytes *b, uint8_t byte, size_t n)
{
	bytes_room(b, n);
	memset(b->p + b->len, byte, n);
	b->len += n;
}

static inline void put_u8(struct bytes *b, unsigned v) { uint8_t c = (uint8_t)v; put(b, &c, 1); }
static inline void put_u16(struct bytes *b, unsigned v) { put_u8(b, v >> 8); put_u8(b, v & 0xFF); }
static inline void put_u32(struct bytes *b, uint32_t v) { put_u16(b, v >> 16); put_u16(b, v & 0xFFFF); }
static inline void put_utf(struct bytes *b, const char *s) { put_u16(b, (unsigned)strlen(s)); put(b, s, strlen(s)); }

#endif
