/* Bounds-checked reading of wire bytes with a sticky error.
 *
 * Every read past the end sets r->err = ERR_TRUNCATED and returns zeros / NULL from then
 * on, so a run of reads can be checked once at the end.  Integers are big-endian and are
 * assembled byte by byte (never by casting wire memory). */
#ifndef SG_READER_H
#define SG_READER_H

#include <stddef.h>
#include <stdint.h>

struct reader {
	const uint8_t *p;
	size_t len;
	size_t pos;
	int err;
};

void reader_init(struct reader *r, const void *p, size_t len);
size_t reader_left(const struct reader *r);
uint8_t reader_u8(struct reader *r);
uint16_t reader_be16(struct reader *r);
uint32_t reader_be32(struct reader *r);
uint64_t reader_be64(struct reader *r);
/* Returns a pointer to n bytes inside the input and advances, or NULL. */
const uint8_t *reader_bytes(struct reader *r, size_t n);
/* Reads the next byte without consuming it; -1 at the end (not an error). */
int reader_peek(const struct reader *r);

#endif
