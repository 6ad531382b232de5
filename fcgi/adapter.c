#include "adapter.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../core/err.h"
#include "../core/limits.h"

void adapted_init(struct adapted *a, size_t max_body)
{
	memset(&a->rq, 0, sizeof(a->rq));
	buf_init(&a->strings, LIMIT_PARAMS);
	buf_init(&a->body, max_body);
}

void adapted_release(struct adapted *a)
{
	buf_release(&a->strings);
	buf_release(&a->body);
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9') return c - '0';
	if (c >= 'a' && c <= 'f') return c - 'a' + 10;
	if (c >= 'A' && c <= 'F') return c - 'A' + 10;
	return -1;
}

int adapter_decode_path(struct buf *out, const char *src)
{
	int rc = 0;

	for (const char *p = src; *p && *p != '?' && *p != '#' && !rc; p++) {
		int hi, lo;

		if (*p == '%' && (hi = hexval(p[1])) >= 0 && (lo = hexval(p[2])) >= 0) {
			uint8_t c = (uint8_t)(hi * 16 + lo);

			rc = buf_addc(out, c ? c : '?');   /* never let %00 cut the path short */
			p += 2;
		} else {
			rc = buf_addc(out, (uint8_t)*p);
		}
	}
	return rc;
}

/* Offsets into a->strings; pointers are taken once all strings are in (it may move). */
static int keep(struct buf *b, const char *s, size_t *at)
{
	*at = b->len;
	return buf_add(b, s ? s : "", s ? strlen(s) + 1 : 1);
}

/* The string kept at offset at, or NULL when it is empty (parameter absent). */
static const char *optional(const struct buf *b, size_t at)
{
	return b->data[at] ? (const char *)b->data + at : NULL;
}

int adapt_request(struct adapted *a, param_fn param, read_fn readbody, void *ctx)
{
	struct request *rq = &a->rq;
	const char *method = param(ctx, "REQUEST_METHOD"), *script = param(ctx, "SCRIPT_NAME");
	const char *info = param(ctx, "PATH_INFO"), *uri = param(ctx, "REQUEST_URI");
	const char *len_s = param(ctx, "CONTENT_LENGTH");
	size_t o_method, o_path, o_proto, o_user, o_addr, o_key, o_origin, o_host, o_by, o_site, o_auth, declared = 0;
	int rc;

	buf_reset(&a->strings);
	buf_reset(&a->body);
	memset(rq, 0, sizeof(*rq));
	rc = keep(&a->strings, method ? method : "GET", &o_method);
	o_path = a->strings.len;
	/* The full path, however the server mounted us: SCRIPT_NAME + PATH_INFO are already
	 * decoded; REQUEST_URI is the fallback. */
	if ((script && *script) || (info && *info)) {
		rc = rc ? rc : buf_addstr(&a->strings, script ? script : "");
		rc = rc ? rc : buf_addstr(&a->strings, info ? info : "");
	} else if (uri) {
		rc = rc ? rc : adapter_decode_path(&a->strings, uri);
	}
	rc = rc ? rc : buf_addc(&a->strings, '\0');
	rc = rc ? rc : keep(&a->strings, param(ctx, "SERVER_PROTOCOL"), &o_proto);
	rc = rc ? rc : keep(&a->strings, param(ctx, "REMOTE_USER"), &o_user);
	rc = rc ? rc : keep(&a->strings, param(ctx, "REMOTE_ADDR"), &o_addr);
	rc = rc ? rc : keep(&a->strings, param(ctx, "HTTP_IDEMPOTENCY_KEY"), &o_key);
	rc = rc ? rc : keep(&a->strings, param(ctx, "HTTP_ORIGIN"), &o_origin);
	rc = rc ? rc : keep(&a->strings, param(ctx, "HTTP_HOST"), &o_host);
	rc = rc ? rc : keep(&a->strings, param(ctx, "HTTP_X_REQUESTED_BY"), &o_by);
	rc = rc ? rc : keep(&a->strings, param(ctx, "HTTP_SEC_FETCH_SITE"), &o_site);
	rc = rc ? rc : keep(&a->strings, param(ctx, "HTTP_AUTHORIZATION"), &o_auth);
	if (rc)
		return rc;
	rq->method = (const char *)a->strings.data + o_method;
	rq->path = (const char *)a->strings.data + o_path;
	rq->protocol = (const char *)a->strings.data + o_proto;
	rq->remote_user = optional(&a->strings, o_user);
	rq->remote_addr = (const char *)a->strings.data + o_addr;
	rq->idempotency_key = optional(&a->strings, o_key);
	rq->origin = optional(&a->strings, o_origin);
	rq->host = optional(&a->strings, o_host);
	rq->requested_by = optional(&a->strings, o_by);
	rq->fetch_site = optional(&a->strings, o_site);
	rq->authorization = optional(&a->strings, o_auth);

	if (len_s && *len_s) {
		char *end;
		unsigned long long v;

		errno = 0;
		v = strtoull(len_s, &end, 10);
		if (errno || *end || len_s[0] == '-')
			v = ~0ULL;
		declared = v > SIZE_MAX ? SIZE_MAX : (size_t)v;
	}
	rq->body_declared = declared;
	if (declared > a->body.max) {
		rq->body_too_large = 1;
	} else if (declared) {
		while (a->body.len < declared) {
			size_t room;
			uint8_t *p = buf_spare(&a->body, declared - a->body.len, &room, &rc);
			ssize_t n;

			if (!p)
				return rc;
			n = readbody(ctx, p, declared - a->body.len);
			if (n <= 0)
				break;   /* a short body is what the client sent; parse what came */
			buf_commit(&a->body, (size_t)n);
		}
	}
	rq->body = a->body.data ? (const char *)a->body.data : "";
	rq->body_len = a->body.len;
	return 0;
}
