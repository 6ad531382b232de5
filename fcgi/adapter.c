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

/* The parameters sparkgate reads. */
enum param {
	P_METHOD, P_SCRIPT, P_INFO, P_URI, P_LENGTH, P_PROTOCOL, P_USER, P_ADDR, P_KEY, P_ORIGIN, P_HOST,
	P_REQUESTED_BY, P_FETCH_SITE, P_AUTHORIZATION, P_QUERY, P_RANGE, P_IF_RANGE, NPARAMS
};

_Static_assert((int)NPARAMS == (int)ADAPTER_NPARAMS, "adapter.h's count of the parameters read");

/* Which of them name[0..n) is, or -1: by its length first (most parameters a web server
 * passes are headers sparkgate does not read, and are told apart in a compare or two). */
static int param_index(const char *name, size_t n)
{
#define IS(s, p) if (memcmp(name, s, sizeof(s) - 1) == 0) return p
	switch (n) {
	case 9: IS("PATH_INFO", P_INFO); IS("HTTP_HOST", P_HOST); break;
	case 10: IS("HTTP_RANGE", P_RANGE); break;
	case 11: IS("SCRIPT_NAME", P_SCRIPT); IS("REMOTE_ADDR", P_ADDR); IS("REMOTE_USER", P_USER);
		 IS("REQUEST_URI", P_URI); IS("HTTP_ORIGIN", P_ORIGIN); break;
	case 12: IS("QUERY_STRING", P_QUERY); break;
	case 13: IS("HTTP_IF_RANGE", P_IF_RANGE); break;
	case 14: IS("REQUEST_METHOD", P_METHOD); IS("CONTENT_LENGTH", P_LENGTH); break;
	case 15: IS("SERVER_PROTOCOL", P_PROTOCOL); break;
	case 18: IS("HTTP_AUTHORIZATION", P_AUTHORIZATION); break;
	case 19: IS("HTTP_X_REQUESTED_BY", P_REQUESTED_BY); IS("HTTP_SEC_FETCH_SITE", P_FETCH_SITE); break;
	case 20: IS("HTTP_IDEMPOTENCY_KEY", P_KEY); break;
	}
	return -1;
#undef IS
}

void adapter_params_clear(struct adapter_params *p)
{
	memset(p, 0, sizeof(*p));
}

void adapter_param(struct adapter_params *p, const char *name, size_t name_len, const char *value)
{
	int i = param_index(name, name_len);

	if (i >= 0 && !p->v[i])
		p->v[i] = value;
}

/* The CGI environment ("NAME=value"): what a FastCGI library would have made of the
 * parameters, and plain CGI's. */
static void env_params(const char *const *env, struct adapter_params *p)
{
	adapter_params_clear(p);
	for (; env && *env; env++) {
		const char *eq = strchr(*env, '=');

		if (eq)
			adapter_param(p, *env, (size_t)(eq - *env), eq + 1);
	}
}

int adapt_request(struct adapted *a, const char *const *env, read_fn readbody, void *ctx)
{
	struct adapter_params p;

	env_params(env, &p);
	return adapt_params(a, &p, readbody, ctx);
}

int adapt_params(struct adapted *a, const struct adapter_params *p, read_fn readbody, void *ctx)
{
	struct request *rq = &a->rq;
	const char *const *v = p->v;
	const char *script = v[P_SCRIPT], *info = v[P_INFO], *len_s = v[P_LENGTH];
	size_t declared = 0;
	int rc = 0;

	buf_reset(&a->strings);
	buf_reset(&a->body);
	memset(rq, 0, sizeof(*rq));
	rq->method = v[P_METHOD] ? v[P_METHOD] : "GET";
	/* The full path, however the server mounted us: SCRIPT_NAME + PATH_INFO are already
	 * decoded (one of them alone is the path as it is); REQUEST_URI is the fallback. */
	if ((script && *script) || (info && *info)) {
		if (!info || !*info) {
			rq->path = script;
		} else if (!script || !*script) {
			rq->path = info;
		} else {
			rc = buf_addstr(&a->strings, script);
			rc = rc ? rc : buf_addstr(&a->strings, info);
		}
	} else if (v[P_URI]) {
		rc = adapter_decode_path(&a->strings, v[P_URI]);
	}
	if (!rq->path) {
		rc = rc ? rc : buf_addc(&a->strings, '\0');
		if (rc)
			return rc;
		rq->path = (const char *)a->strings.data;
	}
	rq->protocol = v[P_PROTOCOL] ? v[P_PROTOCOL] : "";
	rq->remote_addr = v[P_ADDR] ? v[P_ADDR] : "";
	/* the optional ones: absent when empty */
#define OPTIONAL(i) (v[i] && *v[i] ? v[i] : NULL)
	rq->remote_user = OPTIONAL(P_USER);
	rq->idempotency_key = OPTIONAL(P_KEY);
	rq->origin = OPTIONAL(P_ORIGIN);
	rq->host = OPTIONAL(P_HOST);
	rq->requested_by = OPTIONAL(P_REQUESTED_BY);
	rq->fetch_site = OPTIONAL(P_FETCH_SITE);
	rq->authorization = OPTIONAL(P_AUTHORIZATION);
	rq->query = OPTIONAL(P_QUERY);
	rq->range = OPTIONAL(P_RANGE);
	rq->if_range = OPTIONAL(P_IF_RANGE);
#undef OPTIONAL

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
			uint8_t *to = buf_spare(&a->body, declared - a->body.len, &room, &rc);
			ssize_t n;

			if (!to)
				return rc;
			n = readbody(ctx, to, declared - a->body.len);
			if (n <= 0)
				break;   /* a short body is what the client sent; parse what came */
			buf_commit(&a->body, (size_t)n);
		}
	}
	rq->body = a->body.data ? (const char *)a->body.data : "";
	rq->body_len = a->body.len;
	return 0;
}

/* A decimal number into d (24 bytes), without printf: its length. */
static size_t decimal(char d[24], unsigned long long v)
{
	char t[24];
	size_t i = sizeof(t), n;

	do
		t[--i] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	n = sizeof(t) - i;
	memcpy(d, t + i, n);
	return n;
}

#define PUT(p, s, n) (memcpy((p), (s), (n)), (p) += (n))
#define PUT_LITERAL(p, s) PUT(p, s, sizeof(s) - 1)

/* The head by lengths and copies into room reserved once, not by printf (glibc's vsnprintf
 * here was a third of sparkgate's own instructions for a status answered from the cache)
 * nor by an append per piece (a third of what was left); the bytes are the same. */
int adapter_format_response(const struct request *rq, const struct response *rs, struct buf *out)
{
	static const char type_default[] = "application/json;charset=utf-8";
	/* a streamed answer (response.stream): its length here, its bytes by adapter_stream */
	unsigned long long length = rs->stream ? (unsigned long long)rs->stream_len : (unsigned long long)rs->body.len;
	const char *reason = http_reason(rs->status);
	const char *type = rs->content_type ? rs->content_type : type_default;
	size_t reason_len = strlen(reason), type_len = rs->content_type ? strlen(type) : sizeof(type_default) - 1;
	int more = rs->allow || rs->header[0], body = strcmp(rq->method, "HEAD") != 0 && !rs->stream;
	char status[24], len[24];
	size_t status_len = decimal(status, rs->status > 0 ? (unsigned long long)rs->status : 0);
	size_t len_len = decimal(len, length), room;
	size_t need = sizeof("Status: ") - 1 + status_len + 1 + reason_len + sizeof("\r\nContent-Type: ") - 1 + type_len
		      + sizeof("\r\nContent-Length: ") - 1 + len_len + sizeof("\r\nCache-Control: no-store\r\n") - 1
		      + (more ? 0 : 2 + (body ? rs->body.len : 0));
	int rc;
	uint8_t *p = buf_spare(out, need, &room, &rc), *start = p;

	if (!p)
		return rc;
	PUT_LITERAL(p, "Status: ");
	PUT(p, status, status_len);
	*p++ = ' ';
	PUT(p, reason, reason_len);
	PUT_LITERAL(p, "\r\nContent-Type: ");
	PUT(p, type, type_len);
	PUT_LITERAL(p, "\r\nContent-Length: ");
	PUT(p, len, len_len);
	PUT_LITERAL(p, "\r\nCache-Control: no-store\r\n");
	if (!more) {   /* most answers: the blank line and the body in the same room */
		PUT_LITERAL(p, "\r\n");
		if (body && rs->body.len)
			PUT(p, rs->body.data, rs->body.len);
		buf_commit(out, (size_t)(p - start));
		return 0;
	}
	buf_commit(out, (size_t)(p - start));
	rc = rs->allow ? buf_printf(out, "Allow: %s\r\n", rs->allow) : 0;
	if (!rc && rs->header[0])
		rc = buf_printf(out, "%s\r\n", rs->header);
	rc = rc ? rc : buf_addstr(out, "\r\n");
	if (!rc && body)
		rc = buf_add(out, rs->body.data, rs->body.len);
	return rc;
}

#undef PUT
#undef PUT_LITERAL

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
