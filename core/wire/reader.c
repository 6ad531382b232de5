#include "wire/reader.h"

#include "base/err.h"

void reader_init(struct reader *r, const void *p, size_t len)
{
	r->p = p;
	r->len = len;
	r->pos = 0;
	r->err = 0;
}

size_t reader_left(const struct reader *r)
{
	return r->err ? 0 : r->len - r->pos;
}

const uint8_t *reader_bytes(struct reader *r, size_t n)
{
	const uint8_t *p;

	if (r->err)
		return NULL;
	if (n > r->len - r->pos) {
		r->err = ERR_TRUNCATED;
		return NULL;
	}
	p = r->p + r->pos;
	r->pos += n;
	return p;
}

uint8_t reader_u8(struct reader *r)
{
	const uint8_t *p = reader_bytes(r, 1);

	return p ? p[0] : 0;
}

uint16_t reader_be16(struct reader *r)
{
	const uint8_t *p = reader_bytes(r, 2);

	return p ? (uint16_t)((p[0] << 8) | p[1]) : 0;
}

uint32_t reader_be32(struct reader *r)
{
	const uint8_t *p = reader_bytes(r, 4);

	return p ? ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3] : 0;
}

uint64_t reader_be64(struct reader *r)
{
	uint64_t hi = reader_be32(r);

	return (hi << 32) | reader_be32(r);
}

int reader_peek(const struct reader *r)
{
	if (r->err || r->pos >= r->len)
		return -1;
	return r->p[r->pos];
}
