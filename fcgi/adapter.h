/* CGI/FastCGI parameters -> struct request, struct response -> a CGI answer.  Knows nothing
 * of FastCGI's records: parameters come one by one (link.c decodes them) or as an
 * environment array ("NAME=value", NULL-terminated: CGI's environ), the body through a read
 * function, so the same code serves FastCGI, plain CGI and the fuzz target. */
#ifndef SG_ADAPTER_H
#define SG_ADAPTER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/http.h"

typedef body_read_fn read_fn;
/* Writes n bytes of an answer: 0, or <0 (the web server is gone). */
typedef int (*write_fn)(void *ctx, const void *p, size_t n);

/* Everything a request owns beside its parameters' values, which it points to (they live
 * in the FastCGI connection's buffer, or in the environment, until the answer is out): the
 * path when it has to be put together, the body. */
struct adapted {
	struct request rq;
	struct buf strings;   /* the path, when SCRIPT_NAME + PATH_INFO or REQUEST_URI decoded */
	struct buf body;
	struct buf piece;     /* a streamed answer's next piece */
};

/* The values of the parameters sparkgate reads (NULL: not sent), by adapter.c's index. */
enum { ADAPTER_NPARAMS = 17 };
struct adapter_params {
	const char *v[ADAPTER_NPARAMS];
};

void adapted_init(struct adapted *a, size_t max_body);
void adapted_release(struct adapted *a);
void adapter_params_clear(struct adapter_params *p);
/* Keeps value (NUL-terminated, not copied) if name[0..name_len) is a parameter sparkgate
 * reads and is not kept yet (the first of a repeated name wins). */
void adapter_param(struct adapter_params *p, const char *name, size_t name_len, const char *value);
/* Fills a->rq from p (a->rq points to p's values: they must outlive the answer) and reads
 * the body unless the gateway streams it.  0, or a negative error (out of memory). */
int adapt_params(struct adapted *a, const struct adapter_params *p, read_fn readbody, void *ctx);
/* The same from an environment array ("NAME=value", NULL-terminated: CGI's environ). */
int adapt_request(struct adapted *a, const char *const *env, read_fn readbody, void *ctx);

/* rs as a CGI answer into out: the Status line and headers for the web server, then the
 * body (none for HEAD).  0, or a negative error (out's limit). */
int adapter_format_response(const struct request *rq, const struct response *rs, struct buf *out);

/* A streamed answer's body (response.stream; nothing for HEAD or an answer in body), pulled
 * into a->piece (gateway_stream_piece bytes at most) and handed to put piece by piece: 0, or -1 when the stream failed or ended before
 * stream_len bytes, or put failed (*sent says how far it got: the answer is short, and the
 * connection must not be kept). */
int adapter_stream(struct adapted *a, const struct response *rs, write_fn put, void *ctx, uint64_t *sent);

/* Percent-decodes src into out (for REQUEST_URI); stops at '?'. */
int adapter_decode_path(struct buf *out, const char *src);

#endif
