/* One FastCGI connection from a web server, spoken with record.c: requests in (their
 * parameters decoded where they were read, their body streamed from FCGI_STDIN records),
 * answers out (FCGI_STDOUT records, the empty one and FCGI_END_REQUEST in one writev).
 *
 * A connection's bytes are read into one buffer, as many as one read(2) gives (nginx sends
 * FCGI_BEGIN_REQUEST, the parameters, their end and an empty FCGI_STDIN in one write).  The
 * parameters' contents are gathered at the front of it (one FCGI_PARAMS record, what web
 * servers send, stays where it was read) and stay there until the answer is written: the
 * request's strings point into them.  A body is handed out as it comes, from the buffer or
 * read straight into the caller's memory, never held whole (an upload may be gigabytes).
 *
 * One request at a time (FCGI_MPXS_CONNS is 0): a FCGI_BEGIN_REQUEST for another id while
 * one is active is answered FCGI_CANT_MPX_CONN, a role other than FCGI_RESPONDER
 * FCGI_UNKNOWN_ROLE; FCGI_GET_VALUES is answered (FCGI_MAX_CONNS, FCGI_MAX_REQS,
 * FCGI_MPXS_CONNS), other management records FCGI_UNKNOWN_TYPE; FCGI_ABORT_REQUEST ends the
 * request (its body reads fail; its answer is FCGI_END_REQUEST alone); records of ids not
 * active (the rest of a body the answer did not need) are skipped as they arrive.  Limits:
 * the parameters together LINK_PARAMS_MAX bytes (past it the request is still read to its
 * end, and link_params_too_large says so: the caller answers 431); the buffer at most
 * LINK_BUF_MAX (a whole record beside the parameters).  Anything else (a version other than
 * 1, a record of the active id out of order, the connection closed within a request) ends
 * the connection. */
#ifndef SG_LINK_H
#define SG_LINK_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "record.h"

enum {
	LINK_PARAMS_MAX = 64 << 10,   /* a request's parameters together (= LIMIT_PARAMS, nginx's own buffer) */
	LINK_BUF_INITIAL = 8 << 10,
	LINK_BUF_MAX = LINK_PARAMS_MAX + 2 * RECORD_MAX,
};

/* How a link reads and writes: read(2) and writev(2) on its socket, or a test's memory.
 * Both retry EINTR themselves; read returns the count, 0 at the end, <0 on an error;
 * writev the count written (perhaps short), <0 on an error. */
struct link_io {
	ssize_t (*read)(void *ctx, void *p, size_t n);
	ssize_t (*writev)(void *ctx, const struct iovec *iov, int n);
	void *ctx;
};

enum link_state { LINK_S_IDLE, LINK_S_PARAMS, LINK_S_READY, LINK_S_BODY };

struct link {
	struct link_io io;
	int fd;                  /* the socket (link_init), or -1 */
	unsigned max_conns;      /* FCGI_MAX_CONNS and FCGI_MAX_REQS, for FCGI_GET_VALUES */
	uint8_t *in;             /* bytes read: [start, end) not yet taken; cap allocated */
	size_t cap, start, end;
	size_t pstart, pend;     /* the request's parameters, gathered; in[pend] is their last NUL */
	size_t skip;             /* bytes of a skipped record (or padding) still to come */
	size_t body_left;        /* of the current FCGI_STDIN record's content */
	uint8_t body_pad;        /* its padding */
	enum link_state state;
	uint16_t id;             /* the active request's */
	uint16_t last_id;        /* the request answered last */
	unsigned keep : 1;       /* FCGI_KEEP_CONN */
	unsigned too_large : 1;  /* the parameters passed LINK_PARAMS_MAX (skipped) */
	unsigned body_ended : 1; /* the empty FCGI_STDIN came */
	unsigned last_ended : 1; /* ... of the request answered last */
	unsigned aborted : 1;    /* FCGI_ABORT_REQUEST came */
	unsigned broken : 1;     /* a protocol or I/O error: the connection must close */
};

/* link_next's answers. */
enum { LINK_CLOSED = -1, LINK_IDLE = 0, LINK_REQUEST = 1 };

/* A link over socket fd (the buffer is allocated at the first read). */
void link_init(struct link *l, int fd, unsigned max_conns);
/* The same over io (tests, the fuzz target). */
void link_init_io(struct link *l, const struct link_io *io, unsigned max_conns);
/* The same slot for a new connection: the buffer is kept (unless it grew). */
void link_reset(struct link *l, int fd);
/* Frees the buffer (the socket is the caller's to close). */
void link_release(struct link *l);

/* Reads and answers records until a request's parameters are all in: LINK_REQUEST;
 * LINK_IDLE when no request has begun and nothing more is buffered (read at most once, and
 * only if may_read: called when poll(2) saw the socket readable); LINK_CLOSED when the web
 * server closed the connection or broke the protocol.  Blocks while a request (or a
 * record) is partly in. */
int link_next(struct link *l, int may_read);
/* The request's parameters, each handed to each with its value NUL-terminated in place
 * (valid until link_end): 0, or RECORD_INVALID (a pair runs past the parameters' end: the
 * connection must close). */
int link_params(struct link *l, void (*each)(void *ctx, const struct record_pair *pair), void *ctx);
/* The parameters passed LINK_PARAMS_MAX: none are kept. */
int link_params_too_large(const struct link *l);
/* The request's body (a body_read_fn: ctx is the link): up to n bytes, 0 at its end, <0 if
 * the connection failed or the request was aborted. */
ssize_t link_read_body(void *ctx, void *p, size_t n);
/* Answer bytes as FCGI_STDOUT records: 0, or <0 (the web server is gone). */
int link_write(struct link *l, const void *p, size_t n);
/* The answer's last bytes (n may be 0), the empty FCGI_STDOUT and FCGI_END_REQUEST, in one
 * writev (only FCGI_END_REQUEST after FCGI_ABORT_REQUEST).  0 when the connection is kept
 * for the next request, LINK_CLOSED when it must close (not FCGI_KEEP_CONN, or broken). */
int link_end(struct link *l, const void *p, size_t n);
/* Whether the bytes of a connection to close are all read (the request's body to its end),
 * so close(2) cannot send a reset that makes the web server lose the answer; what is
 * buffered is looked at, nothing is read. */
int link_drained(struct link *l);
/* Bytes read and not yet taken (a next request may already be in). */
int link_pending(const struct link *l);

#endif
