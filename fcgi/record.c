/* FastCGI's records (see record.h). */
#include "record.h"

#include <string.h>

int record_header_read(const uint8_t *p, size_t n, struct record_header *h)
{
	if (n < RECORD_HEADER)
		return RECORD_NEED_MORE;
	if (p[0] != RECORD_VERSION)
		return RECORD_INVALID;
	h->type = p[1];
	h->id = (uint16_t)(p[2] << 8 | p[3]);
	h->length = (uint16_t)(p[4] << 8 | p[5]);
	h->padding = p[6];
	return RECORD_HEADER;
}

void record_header_write(uint8_t out[RECORD_HEADER], enum record_type type, uint16_t id, uint16_t length,
			 uint8_t padding)
{
	out[0] = RECORD_VERSION;
	out[1] = (uint8_t)type;
	out[2] = (uint8_t)(id >> 8);
	out[3] = (uint8_t)id;
	out[4] = (uint8_t)(length >> 8);
	out[5] = (uint8_t)length;
	out[6] = padding;
	out[7] = 0;
}

int record_begin_read(const uint8_t *p, size_t n, unsigned *role, unsigned *flags)
{
	if (n < 8)
		return RECORD_INVALID;
	*role = (unsigned)(p[0] << 8 | p[1]);
	*flags = p[2];
	return 0;
}

void record_end_write(uint8_t out[RECORD_END_SIZE], uint16_t id, uint32_t app_status, enum record_end status)
{
	record_header_write(out, RECORD_END_REQUEST, id, 8, 0);
	out[8] = (uint8_t)(app_status >> 24);
	out[9] = (uint8_t)(app_status >> 16);
	out[10] = (uint8_t)(app_status >> 8);
	out[11] = (uint8_t)app_status;
	out[12] = (uint8_t)status;
	memset(out + 13, 0, 3);
}

void record_unknown_write(uint8_t out[RECORD_UNKNOWN_SIZE], uint8_t type)
{
	record_header_write(out, RECORD_UNKNOWN_TYPE, 0, 8, 0);
	out[8] = type;
	memset(out + 9, 0, 7);
}

/* A pair's length at p[*off..n): 1 byte below 128, else 4 with the top bit set. */
static int length_read(const uint8_t *p, size_t n, size_t *off, size_t *len)
{
	if (*off >= n)
		return RECORD_INVALID;
	if (p[*off] < 0x80) {
		*len = p[(*off)++];
		return 0;
	}
	if (n - *off < 4)
		return RECORD_INVALID;
	*len = (size_t)(p[*off] & 0x7f) << 24 | (size_t)p[*off + 1] << 16 | (size_t)p[*off + 2] << 8 | p[*off + 3];
	*off += 4;
	return 0;
}

int record_pair_read(const uint8_t *p, size_t n, size_t *off, struct record_pair *pair)
{
	size_t at = *off, name_len, value_len;

	if (at == n)
		return 0;
	if (n - at >= 2 && p[at] < 0x80 && p[at + 1] < 0x80) {   /* most pairs: two short lengths */
		name_len = p[at];
		value_len = p[at + 1];
		at += 2;
	} else if (length_read(p, n, &at, &name_len) || length_read(p, n, &at, &value_len)) {
		return RECORD_INVALID;
	}
	/* each length is below 2^31, so their sum cannot wrap */
	if (name_len + value_len > n - at)
		return RECORD_INVALID;
	pair->name = p + at;
	pair->name_len = name_len;
	pair->value = p + at + name_len;
	pair->value_len = value_len;
	*off = at + name_len + value_len;
	return 1;
}

static int length_write(uint8_t *out, size_t cap, size_t *len, size_t v)
{
	if (v > RECORD_PAIR_NAME_MAX)
		return RECORD_INVALID;
	if (v < 0x80) {
		if (cap - *len < 1)
			return RECORD_INVALID;
		out[(*len)++] = (uint8_t)v;
		return 0;
	}
	if (cap - *len < 4)
		return RECORD_INVALID;
	out[*len] = (uint8_t)(v >> 24 | 0x80);
	out[*len + 1] = (uint8_t)(v >> 16);
	out[*len + 2] = (uint8_t)(v >> 8);
	out[*len + 3] = (uint8_t)v;
	*len += 4;
	return 0;
}

int record_pair_write(uint8_t *out, size_t cap, size_t *len, const void *name, size_t name_len, const void *value,
		      size_t value_len)
{
	size_t at = *len;

	if (at > cap || length_write(out, cap, &at, name_len) || length_write(out, cap, &at, value_len)
	    || name_len + value_len > cap - at)
		return RECORD_INVALID;
	if (name_len)
		memcpy(out + at, name, name_len);
	if (value_len)
		memcpy(out + at + name_len, value, value_len);
	*len = at + name_len + value_len;
	return 0;
}

int record_params_each(uint8_t *p, size_t n, void (*each)(void *ctx, const struct record_pair *pair), void *ctx)
{
	struct record_pair cur, next;
	size_t off = 0;
	int rc = record_pair_read(p, n, &off, &cur);

	while (rc == 1) {
		/* the next pair's lengths are read before its first byte becomes cur's NUL */
		rc = record_pair_read(p, n, &off, &next);
		if (rc < 0)
			return rc;
		p[(size_t)(cur.value - p) + cur.value_len] = 0;
		each(ctx, &cur);
		cur = next;
	}
	return rc;
}
