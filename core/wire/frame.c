#include "wire/frame.h"

#include <limits.h>
#include <string.h>

#include "wire/reader.h"

int frame_begin_rpc_request(struct buf *out, uint64_t request_id, size_t *at)
{
	int rc;

	*at = out->len;
	rc = buf_be64(out, 0);   /* lengths filled in by frame_end_rpc_request */
	rc = rc ? rc : buf_addc(out, FRAME_RPC_REQUEST);
	rc = rc ? rc : buf_be64(out, request_id);
	rc = rc ? rc : buf_be32(out, 0);
	return rc;
}

int frame_end_rpc_request(struct buf *out, size_t at)
{
	uint64_t frame_len = out->len - at;
	uint64_t body_len = frame_len - (FRAME_HEADER_LEN + 8 + 4);

	if (body_len > INT32_MAX)
		return ERR_TOO_LARGE;
	buf_put_be64(out, at, frame_len);
	buf_put_be32(out, at + FRAME_HEADER_LEN + 8, (uint32_t)body_len);
	return 0;
}

int frame_write_rpc_request(struct buf *out, uint64_t request_id, const void *body, size_t len)
{
	size_t at;
	int rc = buf_grow(out, FRAME_HEADER_LEN + 8 + 4 + len);

	rc = rc ? rc : frame_begin_rpc_request(out, request_id, &at);
	rc = rc ? rc : buf_add(out, body, len);
	return rc ? rc : frame_end_rpc_request(out, at);
}

ssize_t frame_parse(const uint8_t *p, size_t len, size_t max, struct frame *f, struct sg_err *e)
{
	struct reader r;
	uint64_t frame_len;

	memset(f, 0, sizeof(*f));
	if (len < 8)
		return 0;
	reader_init(&r, p, len);
	frame_len = reader_be64(&r);
	if (frame_len < FRAME_HEADER_LEN)
		return sg_err_set(e, ERR_PROTOCOL, 0, "frame length %llu is too small",
				  (unsigned long long)frame_len);
	if (frame_len > max || frame_len > SSIZE_MAX)
		return sg_err_set(e, ERR_TOO_LARGE, 0, "frame of %llu bytes exceeds the limit of %zu",
				  (unsigned long long)frame_len, max);
	if (len < frame_len)
		return 0;
	reader_init(&r, p + 8, (size_t)frame_len - 8);
	f->type = reader_u8(&r);
	switch (f->type) {
	case FRAME_RPC_REQUEST:
	case FRAME_RPC_RESPONSE:
	case FRAME_RPC_FAILURE: {
		uint32_t n;

		f->request_id = reader_be64(&r);
		n = reader_be32(&r);
		if (r.err || n != reader_left(&r))
			return sg_err_set(e, ERR_PROTOCOL, 0, "frame body length %u disagrees with frame length", n);
		f->body = reader_bytes(&r, n);
		f->body_len = n;
		break;
	}
	case FRAME_ONE_WAY: {
		uint32_t n = reader_be32(&r);

		if (r.err || n != reader_left(&r))
			return sg_err_set(e, ERR_PROTOCOL, 0, "frame body length %u disagrees with frame length", n);
		f->body = reader_bytes(&r, n);
		f->body_len = n;
		break;
	}
	default:
		break;
	}
	return (ssize_t)frame_len;
}

static int write_utf_ascii(struct buf *out, const char *s, size_t max)
{
	size_t n = strlen(s);
	int rc;

	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] >= 0x80 || s[i] == 0)
			return ERR_INVALID;   /* host and endpoint names are ASCII */
	if (n > max)
		return ERR_TOO_LARGE;
	rc = buf_be16(out, (uint16_t)n);
	return rc ? rc : buf_add(out, s, n);
}

int frame_write_envelope(struct buf *out, const char *host, int port, const char *endpoint)
{
	int rc = buf_addc(out, 0);   /* no sender address */

	rc = rc ? rc : buf_addc(out, 1);
	rc = rc ? rc : write_utf_ascii(out, host, 255);
	rc = rc ? rc : buf_be32(out, (uint32_t)port);
	rc = rc ? rc : write_utf_ascii(out, endpoint, LIMIT_ENDPOINT_NAME);
	return rc;
}
