#include "adapter.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "gateway.h"

void adapted_init(struct adapted *a, size_t max_body)
{
	memset(&a->rq, 0, sizeof(a->rq));
	buf_init(&a->strings, gateway_params_limit);
	buf_init(&a->body, max_body);
	buf_init(&a->piece, gateway_stream_piece);
}

void adapted_release(struct adapted *a)
{
	buf_release(&a->strings);
	buf_release(&a->body);
	buf_release(&a->piece);
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

/* The parameters sparkgate reads, found in one pass over the environment (FastCGI's own
 * lookup walks every parameter for each name). */
enum param {
	P_METHOD, P_SCRIPT, P_INFO, P_URI, P_LENGTH, P_PROTOCOL, P_USER, P_ADDR, P_KEY, P_ORIGIN, P_HOST,
	P_REQUESTED_BY, P_FETCH_SITE, P_AUTHORIZATION, P_QUERY, P_RANGE, P_IF_RANGE, NPARAMS
};

static void find_params(const char *const *env, const char *v[NPARAMS])
{
	static const struct { const char *name; size_t len; } names[NPARAMS] = {
#define P(s) { s, sizeof(s) - 1 }
		P("REQUEST_METHOD"), P("SCRIPT_NAME"), P("PATH_INFO"), P("REQUEST_URI"), P("CONTENT_LENGTH"),
		P("SERVER_PROTOCOL"), P("REMOTE_USER"), P("REMOTE_ADDR"), P("HTTP_IDEMPOTENCY_KEY"), P("HTTP_ORIGIN"),
		P("HTTP_HOST"), P("HTTP_X_REQUESTED_BY"), P("HTTP_SEC_FETCH_SITE"), P("HTTP_AUTHORIZATION"),
		P("QUERY_STRING"), P("HTTP_RANGE"), P("HTTP_IF_RANGE"),
#undef P
	};

	for (int i = 0; i < NPARAMS; i++)
		v[i] = NULL;
	for (; env && *env; env++) {
		const char *eq = strchr(*env, '=');
		size_t n = eq ? (size_t)(eq - *env) : 0;

		for (int i = 0; eq && i < NPARAMS; i++)
			if (n == names[i].len && !v[i] && memcmp(*env, names[i].name, n) == 0) {
				v[i] = eq + 1;
				break;
			}
	}
}

int adapt_request(struct adapted *a, const char *const *env, read_fn readbody, void *ctx)
{
	struct request *rq = &a->rq;
	const char *v[NPARAMS];
	const char *method, *script, *info, *uri, *len_s;
	size_t o_method, o_path, o_proto, o_user, o_addr, o_key, o_origin, o_host, o_by, o_site, o_auth, o_query, o_range, o_if_range,
	       declared = 0;
	int rc;

	find_params(env, v);
	method = v[P_METHOD], script = v[P_SCRIPT], info = v[P_INFO], uri = v[P_URI], len_s = v[P_LENGTH];
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
	rc = rc ? rc : keep(&a->strings, v[P_PROTOCOL], &o_proto);
	rc = rc ? rc : keep(&a->strings, v[P_USER], &o_user);
	rc = rc ? rc : keep(&a->strings, v[P_ADDR], &o_addr);
	rc = rc ? rc : keep(&a->strings, v[P_KEY], &o_key);
	rc = rc ? rc : keep(&a->strings, v[P_ORIGIN], &o_origin);
	rc = rc ? rc : keep(&a->strings, v[P_HOST], &o_host);
	rc = rc ? rc : keep(&a->strings, v[P_REQUESTED_BY], &o_by);
	rc = rc ? rc : keep(&a->strings, v[P_FETCH_SITE], &o_site);
	rc = rc ? rc : keep(&a->strings, v[P_AUTHORIZATION], &o_auth);
	rc = rc ? rc : keep(&a->strings, v[P_QUERY], &o_query);
	rc = rc ? rc : keep(&a->strings, v[P_RANGE], &o_range);
	rc = rc ? rc : keep(&a->strings, v[P_IF_RANGE], &o_if_range);
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
	rq->query = optional(&a->strings, o_query);
	rq->range = optional(&a->strings, o_range);
	rq->if_range = optional(&a->strings, o_if_range);

	if (len_s && *len_s) {
		char *end;
		unsigned long long length;

		/* digits only, below 2^63: anything else (a sign, an overflow) is a body no limit
		 * admits, so no later signed comparison can see a negative size */
		errno = 0;
		length = strtoull(len_s, &end, 10);
		if (errno || *end || len_s[0] < '0' || len_s[0] > '9' || length > (unsigned long long)INT64_MAX)
			length = ~0ULL;
		declared = length > SIZE_MAX ? SIZE_MAX : (size_t)length;
	}
	rq->body_declared = declared;
	if (declared == SIZE_MAX) {
		rq->body_too_large = 1;   /* answered 413 before any route reads a byte */
	} else if (gateway_streams_body(rq->method, rq->path)) {
		rq->read_body = readbody;   /* core streams it to disk */
		rq->body_ctx = ctx;
	} else if (declared > a->body.max) {
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

/* A decimal number, without printf. */
static int add_decimal(struct buf *out, unsigned long long v)
{
	char d[24];
	size_t i = sizeof(d);

	do
		d[--i] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	return buf_add(out, d + i, sizeof(d) - i);
}

/* The head by appends, not printf: for a status answered from the cache, glibc's vsnprintf
 * here was a third of sparkgate's own instructions (the bytes are the same). */
int adapter_format_response(const struct request *rq, const struct response *rs, struct buf *out)
{
	/* a streamed answer (response.stream): its length here, its bytes by adapter_stream */
	unsigned long long length = rs->stream ? (unsigned long long)rs->stream_len : (unsigned long long)rs->body.len;
	int rc = buf_addstr(out, "Status: ");

	rc = rc ? rc : add_decimal(out, (unsigned long long)rs->status);
	rc = rc ? rc : buf_addc(out, ' ');
	rc = rc ? rc : buf_addstr(out, http_reason(rs->status));
	rc = rc ? rc : buf_addstr(out, "\r\nContent-Type: ");
	rc = rc ? rc : buf_addstr(out, rs->content_type ? rs->content_type : "application/json;charset=utf-8");
	rc = rc ? rc : buf_addstr(out, "\r\nContent-Length: ");
	rc = rc ? rc : add_decimal(out, length);
	rc = rc ? rc : buf_addstr(out, "\r\nCache-Control: no-store\r\n");
	if (!rc && rs->allow)
		rc = buf_printf(out, "Allow: %s\r\n", rs->allow);
	if (!rc && rs->header[0])
		rc = buf_printf(out, "%s\r\n", rs->header);
	rc = rc ? rc : buf_addstr(out, "\r\n");
	if (!rc && strcmp(rq->method, "HEAD") != 0 && !rs->stream)
		rc = buf_add(out, rs->body.data, rs->body.len);
	return rc;
}

int adapter_stream(struct adapted *a, const struct response *rs, write_fn put, void *ctx, uint64_t *sent)
{
	size_t room;
	uint8_t *piece;
	int rc = 0;

	*sent = 0;
	if (!rs->stream || strcmp(a->rq.method, "HEAD") == 0)
		return 0;
	buf_reset(&a->piece);
	if (!(piece = buf_spare(&a->piece, a->piece.max, &room, &rc)))
		return -1;
	while (*sent < rs->stream_len) {
		uint64_t left = rs->stream_len - *sent;
		ssize_t n = rs->stream(rs->stream_ctx, piece, left < room ? (size_t)left : room);

		if (n <= 0 || (uint64_t)n > left || put(ctx, piece, (size_t)n) != 0)
			return -1;
		*sent += (uint64_t)n;
	}
	return 0;
}
