/* A growable byte buffer with a hard maximum.
 *
 * Invariants: data is NULL until the first append; otherwise data[len] == '\0' (one byte
 * beyond len is always allocated), so a buffer holding text can be used as a C string.
 * len never exceeds max; an append that would pass max fails with ERR_TOO_LARGE and leaves
 * the buffer unchanged. */
#ifndef SG_BUF_H
#define SG_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

struct buf {
	uint8_t *data;
	size_t len;
	size_t cap;
	size_t max;
};

#define BUF_INIT(maximum) { NULL, 0, 0, (maximum) }

void buf_init(struct buf *b, size_t max);
void buf_release(struct buf *b);
/* Empties the buffer but keeps its memory for reuse. */
void buf_reset(struct buf *b);
int buf_grow(struct buf *b, size_t extra);
int buf_add(struct buf *b, const void *p, size_t n);
int buf_addc(struct buf *b, uint8_t c);
int buf_addstr(struct buf *b, const char *s);
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int buf_vprintf(struct buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
int buf_be16(struct buf *b, uint16_t v);
int buf_be32(struct buf *b, uint32_t v);
int buf_be64(struct buf *b, uint64_t v);
/* Overwrites 4 or 8 bytes at an offset already written (for length fields filled in last). */
void buf_put_be32(struct buf *b, size_t at, uint32_t v);
void buf_put_be64(struct buf *b, size_t at, uint64_t v);
/* Text view: "" for an empty buffer. */
const char *buf_str(const struct buf *b);

/* Ownership moves by a verb, never by copying ->data out or swapping structs by hand. */
/* Hands the bytes (NUL-terminated; a fresh "" for an empty buffer, NULL if that cannot be
 * allocated) to the caller, who frees them; the buffer is left empty with its max. */
char *buf_detach(struct buf *b, size_t *len);
/* Drops the first n bytes (n <= len), keeping the rest and the memory. */
void buf_consume(struct buf *b, size_t n);
/* Room to write at least min bytes after len, for read(2)/recv(2): returns where, with the
 * room available (at least min) in *room, or NULL with the error in *rc.  buf_commit then
 * counts the n bytes written and restores the NUL. */
uint8_t *buf_spare(struct buf *b, size_t min, size_t *room, int *rc);
void buf_commit(struct buf *b, size_t n);

#endif
