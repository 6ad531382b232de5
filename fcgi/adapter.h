/* CGI/FastCGI parameters -> struct request, struct response -> a CGI answer.  Knows nothing of libfcgi: parameters come as
 * an environment array ("NAME=value", NULL-terminated: FastCGI's envp, CGI's environ), the
 * body through a read function, so the same code serves FastCGI, plain CGI and the fuzz
 * target. */
#ifndef SG_ADAPTER_H
#define SG_ADAPTER_H

#include <stddef.h>
#include <sys/types.h>

#include "base/http.h"

typedef body_read_fn read_fn;

/* Everything a request owns: the parameters are copied here because FastCGI's die at
 * FCGX_Finish_r. */
struct adapted {
	struct request rq;
	struct buf strings;   /* method, path, protocol, user, addr, key, NUL-separated */
	struct buf body;
};

void adapted_init(struct adapted *a, size_t max_body);
void adapted_release(struct adapted *a);
/* Fills a->rq from env (read once; the first of a repeated name wins).  Returns 0, or a
 * negative error (body unreadable, out of memory). */
int adapt_request(struct adapted *a, const char *const *env, read_fn readbody, void *ctx);

/* rs as a CGI answer into out: the Status line and headers for the web server, then the
 * body (none for HEAD).  0, or a negative error (out's limit). */
int adapter_format_response(const struct request *rq, const struct response *rs, struct buf *out);

/* Percent-decodes src into out (for REQUEST_URI); stops at '?'. */
int adapter_decode_path(struct buf *out, const char *src);

#endif
