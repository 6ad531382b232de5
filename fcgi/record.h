/* FastCGI's records, as the FastCGI 1.0 specification (Open Market, 1996) lays them out: the
 * 8-byte header, FCGI_BEGIN_REQUEST's and FCGI_END_REQUEST's bodies, FCGI_UNKNOWN_TYPE's, and
 * the name-value pairs of FCGI_PARAMS and FCGI_GET_VALUES (a length of 1 byte below 128,
 * else 4 bytes with the top bit set).  A codec only: no I/O, no allocation, every read
 * checked against the bytes given; bytes are read and written one by one (big-endian on the
 * wire), never by casting them to a struct.  link.c speaks the protocol with it. */
#ifndef SG_RECORD_H
#define SG_RECORD_H

#include <stddef.h>
#include <stdint.h>

enum record_type {
	RECORD_BEGIN_REQUEST = 1,
	RECORD_ABORT_REQUEST = 2,
	RECORD_END_REQUEST = 3,
	RECORD_PARAMS = 4,
	RECORD_STDIN = 5,
	RECORD_STDOUT = 6,
	RECORD_STDERR = 7,
	RECORD_DATA = 8,
	RECORD_GET_VALUES = 9,
	RECORD_GET_VALUES_RESULT = 10,
	RECORD_UNKNOWN_TYPE = 11,
};

enum {
	RECORD_VERSION = 1,
	RECORD_HEADER = 8,             /* version, type, id (2), content length (2), padding, reserved */
	RECORD_CONTENT_MAX = 65535,
	RECORD_MAX = RECORD_HEADER + RECORD_CONTENT_MAX + 255,   /* with the most padding */
	RECORD_END_SIZE = 16,          /* an FCGI_END_REQUEST record, header included */
	RECORD_UNKNOWN_SIZE = 16,      /* an FCGI_UNKNOWN_TYPE record */
	RECORD_RESPONDER = 1,          /* FCGI_BEGIN_REQUEST's role */
	RECORD_KEEP_CONN = 1,          /* FCGI_BEGIN_REQUEST's flag */
	RECORD_PAIR_NAME_MAX = 0x7fffffff,
};

/* FCGI_END_REQUEST's protocolStatus. */
enum record_end {
	RECORD_REQUEST_COMPLETE = 0,
	RECORD_CANT_MPX_CONN = 1,
	RECORD_OVERLOADED = 2,
	RECORD_UNKNOWN_ROLE = 3,
};

/* What a read returns beside a count: as picohttpparser, "not all there yet" apart from
 * "never valid". */
enum { RECORD_INVALID = -1, RECORD_NEED_MORE = -2 };

struct record_header {
	uint8_t type;
	uint16_t id;        /* 0: a management record */
	uint16_t length;    /* of the content */
	uint8_t padding;    /* bytes after the content */
};

/* The header at p[0..n): RECORD_HEADER, RECORD_NEED_MORE (fewer than 8 bytes) or
 * RECORD_INVALID (a version other than 1). */
int record_header_read(const uint8_t *p, size_t n, struct record_header *h);
void record_header_write(uint8_t out[RECORD_HEADER], enum record_type type, uint16_t id, uint16_t length,
			 uint8_t padding);
/* FCGI_BEGIN_REQUEST's body (8 bytes of content; more is allowed and ignored): 0, or
 * RECORD_INVALID if shorter. */
int record_begin_read(const uint8_t *p, size_t n, unsigned *role, unsigned *flags);
/* A whole FCGI_END_REQUEST record. */
void record_end_write(uint8_t out[RECORD_END_SIZE], uint16_t id, uint32_t app_status, enum record_end status);
/* A whole FCGI_UNKNOWN_TYPE record (the answer to a management record of type type). */
void record_unknown_write(uint8_t out[RECORD_UNKNOWN_SIZE], uint8_t type);

/* One name-value pair.  name and value point into the bytes read; neither is terminated
 * (but see record_params_each). */
struct record_pair {
	const uint8_t *name;
	size_t name_len;
	const uint8_t *value;
	size_t value_len;
};

/* The pair at p[*off..n): 1 with *pair filled and *off past it, 0 when *off == n, or
 * RECORD_INVALID (a length or the bytes it counts run past n; *off is left). */
int record_pair_read(const uint8_t *p, size_t n, size_t *off, struct record_pair *pair);
/* Appends a pair to out[*len..cap): 0 (*len past it), or RECORD_INVALID if it does not fit
 * or a length is 2^31 or more. */
int record_pair_write(uint8_t *out, size_t cap, size_t *len, const void *name, size_t name_len, const void *value,
		      size_t value_len);
/* Every pair of a whole FCGI_PARAMS stream p[0..n), in order, handed to each with its value
 * terminated in place: each value's NUL is written over the byte after it (the next pair's
 * first length byte, read before; for the last value p[n], which the caller must own).  So
 * the values stay valid C strings as long as p does, and nothing is copied.  0, or
 * RECORD_INVALID (a pair runs past n; the pairs before it may have been handed over). */
int record_params_each(uint8_t *p, size_t n, void (*each)(void *ctx, const struct record_pair *pair), void *ctx);

#endif
