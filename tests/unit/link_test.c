/* The front end's FastCGI (fcgi/record.c, fcgi/link.c): the record codec byte by byte, and a
 * connection driven through an in-memory peer that hands its bytes over in pieces of every
 * size, as a web server's writes may arrive: what is read in how many reads, what is written
 * in how many writes, and every rule of link.h (keep-conn, one request at a time, management
 * records, abort, limits, bodies streamed). */
#include <stdlib.h>
#include <string.h>

#include "t.h"
#include "../../fcgi/adapter.h"
#include "../../fcgi/link.h"
#include "gateway.h"

/* ---- the peer: a web server's bytes in, the application's out ------------------------ */

struct peer {
	uint8_t in[300000];
	size_t len, off;
	size_t piece;         /* bytes per read at most (0: all that is left) */
	uint8_t out[300000];
	size_t out_len;
	int reads, writes;
	int fail_writes;
};

static ssize_t peer_read(void *ctx, void *p, size_t n)
{
	struct peer *w = ctx;
	size_t k = w->len - w->off;

	if (k > n)
		k = n;
	if (w->piece && k > w->piece)
		k = w->piece;
	memcpy(p, w->in + w->off, k);
	w->off += k;
	w->reads++;
	return (ssize_t)k;
}

static ssize_t peer_writev(void *ctx, const struct iovec *iov, int n)
{
	struct peer *w = ctx;
	size_t total = 0;

	w->writes++;
	if (w->fail_writes)
		return -1;
	for (int i = 0; i < n; i++) {
		if (w->out_len + iov[i].iov_len > sizeof(w->out))
			return -1;
		memcpy(w->out + w->out_len, iov[i].iov_base, iov[i].iov_len);
		w->out_len += iov[i].iov_len;
		total += iov[i].iov_len;
	}
	return (ssize_t)total;
}

static void peer_link(struct peer *w, struct link *l)
{
	const struct link_io io = { peer_read, peer_writev, w };

	link_init_io(l, &io, 256);
}

static void put_record(struct peer *w, uint8_t type, uint16_t id, const void *content, size_t len, uint8_t pad)
{
	record_header_write(w->in + w->len, type, id, (uint16_t)len, pad);
	w->len += RECORD_HEADER;
	if (len)
		memcpy(w->in + w->len, content, len);
	w->len += len;
	memset(w->in + w->len, 0xee, pad);
	w->len += pad;
}

static void put_begin(struct peer *w, uint16_t id, unsigned role, unsigned flags)
{
	uint8_t b[8] = { (uint8_t)(role >> 8), (uint8_t)role, (uint8_t)flags };

	put_record(w, RECORD_BEGIN_REQUEST, id, b, sizeof(b), 0);
}

/* The parameters of a status poll as nginx.conf passes them. */
static size_t status_params(uint8_t *out, size_t cap)
{
	static const char *const kv[][2] = {
		{ "REQUEST_METHOD", "GET" }, { "SCRIPT_NAME", "/v1/submissions/status/driver-1" },
		{ "REQUEST_URI", "/v1/submissions/status/driver-1" }, { "QUERY_STRING", "" },
		{ "CONTENT_TYPE", "" }, { "CONTENT_LENGTH", "" }, { "SERVER_PROTOCOL", "HTTP/1.1" },
		{ "GATEWAY_INTERFACE", "CGI/1.1" }, { "REMOTE_ADDR", "127.0.0.1" }, { "REMOTE_USER", "alice" },
		{ "HTTP_HOST", "gw.example" }, { "HTTP_USER_AGENT", "curl/8" }, { "HTTP_ACCEPT", "*/*" },
	};
	size_t len = 0;

	for (size_t i = 0; i < sizeof(kv) / sizeof(kv[0]); i++)
		record_pair_write(out, cap, &len, kv[i][0], strlen(kv[i][0]), kv[i][1], strlen(kv[i][1]));
	return len;
}

/* A whole request: BEGIN, the parameters in one record, their end, body records (each
 * body_piece bytes at most), the empty STDIN. */
static void put_request(struct peer *w, uint16_t id, int keep, const char *body, size_t body_piece)
{
	uint8_t params[4096];
	size_t n = status_params(params, sizeof(params));

	put_begin(w, id, RECORD_RESPONDER, keep ? RECORD_KEEP_CONN : 0);
	put_record(w, RECORD_PARAMS, id, params, n, (uint8_t)((8 - n % 8) % 8));
	put_record(w, RECORD_PARAMS, id, NULL, 0, 0);
	for (size_t off = 0, len = body ? strlen(body) : 0; off < len; off += body_piece)
		put_record(w, RECORD_STDIN, id, body + off, len - off < body_piece ? len - off : body_piece, 3);
	put_record(w, RECORD_STDIN, id, NULL, 0, 0);
}

struct seen {
	struct adapter_params p;
	int count;
	char names[64][32];
};

static void see(void *ctx, const struct record_pair *pair)
{
	struct seen *s = ctx;

	if (s->count < 64) {
		size_t n = pair->name_len < 31 ? pair->name_len : 31;

		memcpy(s->names[s->count], pair->name, n);
		s->names[s->count][n] = '\0';
	}
	s->count++;
	adapter_param(&s->p, (const char *)pair->name, pair->name_len, (const char *)pair->value);
}

/* The records the application wrote, in order: type, id, content. */
struct out_record {
	uint8_t type;
	uint16_t id;
	const uint8_t *content;
	size_t len;
};

static int parse_out(const struct peer *w, struct out_record *r, int max)
{
	size_t off = 0;
	int n = 0;

	while (off < w->out_len && n < max) {
		struct record_header h;

		if (record_header_read(w->out + off, w->out_len - off, &h) != RECORD_HEADER
		    || w->out_len - off < RECORD_HEADER + (size_t)h.length + h.padding)
			return -1;
		r[n++] = (struct out_record){ h.type, h.id, w->out + off + RECORD_HEADER, h.length };
		off += RECORD_HEADER + (size_t)h.length + h.padding;
	}
	return n;
}

/* ---- the codec ------------------------------------------------------------------------ */

static void test_header(void)
{
	uint8_t b[RECORD_HEADER];
	struct record_header h;

	record_header_write(b, RECORD_STDOUT, 0x1234, 0xfedc, 7);
	CHECK(memcmp(b, "\x01\x06\x12\x34\xfe\xdc\x07\x00", 8) == 0, "header bytes");
	CHECK(record_header_read(b, 8, &h) == RECORD_HEADER && h.type == RECORD_STDOUT && h.id == 0x1234
	      && h.length == 0xfedc && h.padding == 7, "header read back");
	for (size_t n = 0; n < 8; n++)
		CHECK(record_header_read(b, n, &h) == RECORD_NEED_MORE, "%zu bytes: need more", n);
	b[0] = 2;
	CHECK(record_header_read(b, 8, &h) == RECORD_INVALID, "version 2");
	b[0] = 0;
	CHECK(record_header_read(b, 8, &h) == RECORD_INVALID, "version 0");
}

static void test_fixed_records(void)
{
	uint8_t end[RECORD_END_SIZE], unknown[RECORD_UNKNOWN_SIZE];
	unsigned role, flags;

	record_end_write(end, 1, 0x01020304, RECORD_CANT_MPX_CONN);
	CHECK(memcmp(end, "\x01\x03\x00\x01\x00\x08\x00\x00\x01\x02\x03\x04\x01\x00\x00\x00", 16) == 0,
	      "FCGI_END_REQUEST bytes");
	record_unknown_write(unknown, 42);
	CHECK(memcmp(unknown, "\x01\x0b\x00\x00\x00\x08\x00\x00\x2a\x00\x00\x00\x00\x00\x00\x00", 16) == 0,
	      "FCGI_UNKNOWN_TYPE bytes");
	CHECK(record_begin_read((const uint8_t *)"\x00\x01\x01\x00\x00\x00\x00\x00", 8, &role, &flags) == 0
	      && role == RECORD_RESPONDER && flags == RECORD_KEEP_CONN, "FCGI_BEGIN_REQUEST body");
	CHECK(record_begin_read((const uint8_t *)"\x00\x01\x01", 3, &role, &flags) == RECORD_INVALID,
	      "a short FCGI_BEGIN_REQUEST body");
}

static void test_pairs(void)
{
	static uint8_t buf[200000], big[140];
	char value[70000];
	struct record_pair p;
	size_t len = 0, off = 0, n;

	memset(value, 'v', sizeof(value));
	memset(big, 'N', sizeof(big));
	CHECK(record_pair_write(buf, sizeof(buf), &len, "A", 1, "b", 1) == 0 && len == 4
	      && memcmp(buf, "\x01\x01" "Ab", 4) == 0, "1-byte lengths");
	CHECK(record_pair_write(buf, sizeof(buf), &len, big, sizeof(big), value, sizeof(value)) == 0
	      && len == 4 + 8 + sizeof(big) + sizeof(value)
	      && memcmp(buf + 4, "\x80\x00\x00\x8c\x80\x01\x11\x70", 8) == 0, "4-byte lengths (140, 70000)");
	CHECK(record_pair_write(buf, sizeof(buf), &len, "", 0, "", 0) == 0, "an empty pair");
	n = len;
	CHECK(record_pair_read(buf, n, &off, &p) == 1 && p.name_len == 1 && p.value_len == 1 && p.name[0] == 'A'
	      && p.value[0] == 'b' && off == 4, "read back 1");
	CHECK(record_pair_read(buf, n, &off, &p) == 1 && p.name_len == sizeof(big) && p.value_len == sizeof(value)
	      && memcmp(p.value, value, sizeof(value)) == 0, "read back 2");
	CHECK(record_pair_read(buf, n, &off, &p) == 1 && p.name_len == 0 && p.value_len == 0, "read back 3");
	CHECK(record_pair_read(buf, n, &off, &p) == 0 && off == n, "then the end");
	/* every cut inside a pair is invalid, never an over-read */
	for (size_t cut = 1; cut < 4 + 8 + sizeof(big); cut++) {
		size_t at = cut < 4 ? 0 : 4;
		uint8_t *copy = malloc(cut);

		memcpy(copy, buf, cut);
		CHECK(record_pair_read(copy, cut, &at, &p) == (cut == 4 ? 0 : RECORD_INVALID), "cut at %zu", cut);
		free(copy);
	}
	/* a length that claims more than there is */
	off = 0;
	CHECK(record_pair_read((const uint8_t *)"\xff\xff\xff\xff\x01" "ab", 7, &off, &p) == RECORD_INVALID && off == 0,
	      "a name of 2^31-1 bytes");
	/* a pair that does not fit is not written */
	len = 0;
	CHECK(record_pair_write(buf, 3, &len, "A", 1, "b", 1) == RECORD_INVALID && len == 0, "no room");
	CHECK(record_pair_write(buf, sizeof(buf), &len, "A", 1, "b", (size_t)1 << 31) == RECORD_INVALID,
	      "a length of 2^31");
}

static void test_params_each(void)
{
	uint8_t buf[512];
	size_t len = 0;
	struct seen s = { 0 };

	record_pair_write(buf, sizeof(buf), &len, "REQUEST_METHOD", 14, "POST", 4);
	record_pair_write(buf, sizeof(buf), &len, "EMPTY", 5, "", 0);
	record_pair_write(buf, sizeof(buf), &len, "REMOTE_USER", 11, "alice", 5);
	record_pair_write(buf, sizeof(buf), &len, "REMOTE_USER", 11, "mallory", 7);   /* the first wins */
	buf[len] = 'X';   /* the byte the last value's NUL goes to */
	CHECK(record_params_each(buf, len, see, &s) == 0 && s.count == 4, "4 pairs (%d)", s.count);
	CHECK_STR(s.p.v[0], "POST");
	CHECK(buf[len] == 0, "the last value terminated past the pairs");
	CHECK_STR(s.names[1], "EMPTY");
	CHECK_STR(s.names[2], "REMOTE_USER");
	{
		struct adapted a;

		adapted_init(&a, 1024);
		CHECK(adapt_params(&a, &s.p, NULL, NULL) == 0, "adapt");
		CHECK_STR(a.rq.method, "POST");
		CHECK_STR(a.rq.remote_user, "alice");
		adapted_release(&a);
	}
	/* a truncated last pair: invalid */
	memset(&s, 0, sizeof(s));
	CHECK(record_params_each(buf, len - 1, see, &s) == RECORD_INVALID, "truncated");
}

/* ---- a connection ----------------------------------------------------------------------- */

static const char answer[] = "Status: 200 OK\r\nContent-Type: application/json\r\n\r\n{}";

/* A status poll on a kept connection, its bytes in pieces of `piece`: one request, its
 * parameters, one write of STDOUT + empty STDOUT + END_REQUEST; then nothing more. */
static void test_one_request(size_t piece)
{
	static struct peer w;
	struct link l;
	struct seen s = { 0 };
	struct out_record r[8];
	int rc;

	memset(&w, 0, sizeof(w));
	w.piece = piece;
	put_request(&w, 1, 1, NULL, 0);
	peer_link(&w, &l);
	CHECK(link_next(&l, 1) == LINK_REQUEST, "piece %zu: a request", piece);
	if (piece == 0)
		CHECK(w.reads == 1, "one read (%d)", w.reads);
	CHECK(link_params(&l, see, &s) == 0 && s.count == 13, "piece %zu: 13 parameters (%d)", piece, s.count);
	{
		struct adapted a;

		adapted_init(&a, 1024);
		CHECK(adapt_params(&a, &s.p, link_read_body, &l) == 0, "adapt");
		CHECK_STR(a.rq.method, "GET");
		CHECK_STR(a.rq.path, "/v1/submissions/status/driver-1");
		CHECK_STR(a.rq.remote_user, "alice");
		CHECK_STR(a.rq.remote_addr, "127.0.0.1");
		CHECK_STR(a.rq.protocol, "HTTP/1.1");
		CHECK_STR(a.rq.host, "gw.example");
		CHECK(a.rq.query == NULL && a.rq.body_len == 0 && a.rq.body_declared == 0, "no query, no body");
		adapted_release(&a);
	}
	CHECK(link_read_body(&l, (char[16]){ 0 }, 16) == 0, "piece %zu: an empty body", piece);
	CHECK(link_end(&l, answer, sizeof(answer) - 1) == 0, "kept");
	CHECK(w.writes == 1, "piece %zu: one write (%d)", piece, w.writes);
	CHECK(parse_out(&w, r, 8) == 3 && r[0].type == RECORD_STDOUT && r[0].len == sizeof(answer) - 1
	      && memcmp(r[0].content, answer, r[0].len) == 0 && r[1].type == RECORD_STDOUT && r[1].len == 0
	      && r[2].type == RECORD_END_REQUEST && r[2].len == 8 && r[2].id == 1
	      && memcmp(r[2].content, "\0\0\0\0\0\0\0\0", 8) == 0, "piece %zu: the answer's records", piece);
	if (piece == 0)
		CHECK(link_next(&l, 0) == LINK_IDLE, "then idle, without a read");
	while ((rc = link_next(&l, 1)) == LINK_IDLE)
		;
	CHECK(rc == LINK_CLOSED && w.off == w.len && parse_out(&w, r, 8) == 3,
	      "piece %zu: the web server closes; nothing more was said", piece);
	link_release(&l);
}

/* Two requests back to back in one read (and a stale body record between them). */
static void test_two_requests(void)
{
	static struct peer w;
	struct link l;
	struct seen s = { 0 };

	memset(&w, 0, sizeof(w));
	put_request(&w, 1, 1, NULL, 0);
	put_record(&w, RECORD_STDIN, 1, "late", 4, 4);   /* the last request's, already over */
	put_request(&w, 2, 1, NULL, 0);
	peer_link(&w, &l);
	CHECK(link_next(&l, 1) == LINK_REQUEST && l.id == 1, "first");
	CHECK(link_end(&l, "a", 1) == 0 && link_pending(&l), "the second is already in");
	CHECK(link_next(&l, 0) == LINK_REQUEST && l.id == 2 && w.reads == 1, "second, without a read");
	CHECK(link_params(&l, see, &s) == 0 && s.count == 13, "its parameters");
	CHECK(link_end(&l, "b", 1) == 0, "kept");
	CHECK(link_next(&l, 0) == LINK_IDLE, "idle");
	link_release(&l);
}

/* The parameters in three records, a pair cut across each boundary, padding between. */
static void test_params_split(void)
{
	static struct peer w;
	uint8_t params[4096];
	size_t n = status_params(params, sizeof(params));
	struct link l;
	struct seen s = { 0 };
	struct adapted a;

	memset(&w, 0, sizeof(w));
	put_begin(&w, 7, RECORD_RESPONDER, RECORD_KEEP_CONN);
	put_record(&w, RECORD_PARAMS, 7, params, 5, 3);
	put_record(&w, RECORD_GET_VALUES, 0, "\x0e\x00" "FCGI_MAX_CONNS", 16, 0);   /* in between */
	put_record(&w, RECORD_PARAMS, 7, params + 5, 100, 0);
	put_record(&w, RECORD_PARAMS, 7, params + 105, n - 105, 255);
	put_record(&w, RECORD_PARAMS, 7, NULL, 0, 5);
	put_record(&w, RECORD_STDIN, 7, NULL, 0, 0);
	for (size_t piece = 0; piece < 40; piece += piece < 10 ? 1 : 7) {
		memset(&s, 0, sizeof(s));
		w.off = 0;
		w.out_len = 0;
		w.piece = piece;
		peer_link(&w, &l);
		CHECK(link_next(&l, 1) == LINK_REQUEST && link_params(&l, see, &s) == 0 && s.count == 13,
		      "piece %zu: 13 parameters (%d)", piece, s.count);
		adapted_init(&a, 1024);
		CHECK(adapt_params(&a, &s.p, link_read_body, &l) == 0, "adapt");
		CHECK_STR(a.rq.path, "/v1/submissions/status/driver-1");
		CHECK_STR(a.rq.host, "gw.example");
		CHECK_STR(a.rq.remote_user, "alice");
		adapted_release(&a);
		CHECK(link_end(&l, "x", 1) == 0, "kept");
		CHECK(w.out_len > 30 && memcmp(w.out, "\x01\x0a\x00\x00\x00\x13\x00\x00\x0e\x03" "FCGI_MAX_CONNS256", 27) == 0,
		      "piece %zu: FCGI_GET_VALUES answered first", piece);
		link_release(&l);
	}
}

/* A body in records of every size, read in pieces of every size, from the buffer and
 * straight into the caller's memory. */
static void test_body(void)
{
	static struct peer w;
	static char body[100000], got[100000];
	const size_t records[] = { 1, 7, 4096, 65535 };
	const size_t reads[] = { 1, 100, 5000, sizeof(got) };

	for (size_t i = 0; i < sizeof(body); i++)
		body[i] = (char)('a' + i % 26);
	body[sizeof(body) - 1] = '\0';
	for (size_t r = 0; r < 4; r++)
		for (size_t k = 0; k < 4; k++) {
			struct link l;
			size_t len = r < 2 ? 3000 : sizeof(body) - 1, total = 0;
			ssize_t n;
			char save = body[len];

			memset(&w, 0, sizeof(w));
			body[len] = '\0';
			put_request(&w, 3, 0, body, records[r]);
			body[len] = save;
			w.piece = k == 0 ? 3 : 0;
			peer_link(&w, &l);
			CHECK(link_next(&l, 1) == LINK_REQUEST, "request");
			while ((n = link_read_body(&l, got + total, reads[k] < len + 10 - total ? reads[k] : len + 10 - total)) > 0)
				total += (size_t)n;
			CHECK(n == 0 && total == len && memcmp(got, body, len) == 0, "records of %zu, reads of %zu: %zu of %zu",
			      records[r], reads[k], total, len);
			CHECK(link_end(&l, "ok", 2) == LINK_CLOSED, "not kept: closed");
			CHECK(link_drained(&l), "all read: nothing to linger for");
			link_release(&l);
		}
}

/* An answer too big for one record, and one in pieces (link_write), then the end. */
static void test_big_answer(void)
{
	static struct peer w;
	static char big[200000];
	struct out_record r[16];
	struct link l;
	size_t total = 0;
	int n;

	memset(big, 'z', sizeof(big));
	memset(&w, 0, sizeof(w));
	put_request(&w, 1, 1, NULL, 0);
	peer_link(&w, &l);
	CHECK(link_next(&l, 1) == LINK_REQUEST, "request");
	CHECK(link_write(&l, "head", 4) == 0 && link_write(&l, big, sizeof(big)) == 0 && link_end(&l, NULL, 0) == 0,
	      "written");
	n = parse_out(&w, r, 16);
	CHECK(n == 1 + 4 + 2, "records: %d", n);
	for (int i = 0; i < n - 2; i++)
		total += r[i].len;
	CHECK(total == 4 + sizeof(big) && r[n - 2].type == RECORD_STDOUT && r[n - 2].len == 0
	      && r[n - 1].type == RECORD_END_REQUEST, "the bytes, then the end");
	link_release(&l);
}

static void test_management(void)
{
	static struct peer w;
	uint8_t ask[256];
	size_t len = 0;
	struct out_record r[8];
	struct link l;
	struct seen s = { 0 };

	memset(&w, 0, sizeof(w));
	record_pair_write(ask, sizeof(ask), &len, "FCGI_MPXS_CONNS", 15, "", 0);
	record_pair_write(ask, sizeof(ask), &len, "FCGI_MAX_REQS", 13, "", 0);
	record_pair_write(ask, sizeof(ask), &len, "FCGI_SOMETHING", 14, "", 0);
	record_pair_write(ask, sizeof(ask), &len, "FCGI_MAX_REQS", 13, "", 0);   /* once only */
	put_record(&w, RECORD_GET_VALUES, 0, ask, len, 0);
	put_record(&w, 20, 0, "abc", 3, 5);              /* a management type nobody knows */
	put_record(&w, RECORD_STDIN, 0, NULL, 0, 0);     /* an application type as id 0 */
	put_record(&w, RECORD_DATA, 9, "data", 4, 0);    /* a record of no request: skipped */
	peer_link(&w, &l);
	CHECK(link_next(&l, 1) == LINK_IDLE, "no request: idle");
	CHECK(parse_out(&w, r, 8) == 3, "three answers");
	CHECK(r[0].type == RECORD_GET_VALUES_RESULT && r[0].id == 0 && r[0].len == 2 + 15 + 1 + 2 + 13 + 3
	      && memcmp(r[0].content, "\x0f\x01" "FCGI_MPXS_CONNS0" "\x0d\x03" "FCGI_MAX_REQS256", r[0].len) == 0,
	      "FCGI_GET_VALUES_RESULT");
	CHECK(r[1].type == RECORD_UNKNOWN_TYPE && r[1].content[0] == 20, "FCGI_UNKNOWN_TYPE 20");
	CHECK(r[2].type == RECORD_UNKNOWN_TYPE && r[2].content[0] == RECORD_STDIN, "FCGI_UNKNOWN_TYPE 5");
	link_release(&l);

	/* one request at a time; an unknown role */
	memset(&w, 0, sizeof(w));
	put_begin(&w, 1, RECORD_RESPONDER, RECORD_KEEP_CONN);
	put_begin(&w, 2, RECORD_RESPONDER, RECORD_KEEP_CONN);   /* multiplexed: refused */
	len = status_params(ask, sizeof(ask));
	put_record(&w, RECORD_PARAMS, 1, NULL, 0, 0);
	put_record(&w, RECORD_STDIN, 1, NULL, 0, 0);
	put_begin(&w, 3, 2 /* FCGI_AUTHORIZER */, RECORD_KEEP_CONN);
	peer_link(&w, &l);
	CHECK(link_next(&l, 1) == LINK_REQUEST && l.id == 1, "request 1");
	CHECK(link_params(&l, see, &s) == 0 && s.count == 0, "no parameters");
	CHECK(link_end(&l, NULL, 0) == 0, "answered");
	CHECK(link_next(&l, 0) == LINK_IDLE, "idle");
	CHECK(parse_out(&w, r, 8) == 4, "records");
	CHECK(r[0].type == RECORD_END_REQUEST && r[0].id == 2 && r[0].content[4] == RECORD_CANT_MPX_CONN,
	      "FCGI_CANT_MPX_CONN for id 2");
	CHECK(r[1].type == RECORD_STDOUT && r[2].type == RECORD_END_REQUEST && r[2].id == 1, "request 1 answered");
	CHECK(r[3].type == RECORD_END_REQUEST && r[3].id == 3 && r[3].content[4] == RECORD_UNKNOWN_ROLE,
	      "FCGI_UNKNOWN_ROLE for id 3");
	link_release(&l);
}

static void test_abort(void)
{
	static struct peer w;
	struct out_record r[8];
	struct link l;
	char got[64];

	/* during the parameters: FCGI_END_REQUEST at once; not kept: closed */
	memset(&w, 0, sizeof(w));
	put_begin(&w, 4, RECORD_RESPONDER, 0);
	put_record(&w, RECORD_PARAMS, 4, "\x01\x01" "ab", 4, 0);
	put_record(&w, RECORD_ABORT_REQUEST, 4, NULL, 0, 0);
	peer_link(&w, &l);
	CHECK(link_next(&l, 1) == LINK_CLOSED, "aborted, not kept: closed");
	CHECK(parse_out(&w, r, 8) == 1 && r[0].type == RECORD_END_REQUEST && r[0].id == 4, "FCGI_END_REQUEST");
	link_release(&l);

	/* during the body: the read fails; the answer is FCGI_END_REQUEST alone */
	memset(&w, 0, sizeof(w));
	put_begin(&w, 5, RECORD_RESPONDER, RECORD_KEEP_CONN);
	put_record(&w, RECORD_PARAMS, 5, NULL, 0, 0);
	put_record(&w, RECORD_STDIN, 5, "0123456789", 10, 0);
	put_record(&w, RECORD_ABORT_REQUEST, 5, NULL, 0, 0);
	put_request(&w, 6, 1, NULL, 0);
	peer_link(&w, &l);
	CHECK(link_next(&l, 1) == LINK_REQUEST, "request");
	CHECK(link_read_body(&l, got, sizeof(got)) == 10, "the body's first record");
	CHECK(link_read_body(&l, got, sizeof(got)) < 0, "then the abort");
	CHECK(link_write(&l, "ignored", 7) == 0 && link_end(&l, "ignored", 7) == 0, "answered (kept)");
	CHECK(parse_out(&w, r, 8) == 1 && r[0].type == RECORD_END_REQUEST && r[0].id == 5, "only FCGI_END_REQUEST");
	CHECK(link_next(&l, 0) == LINK_REQUEST && l.id == 6, "the next request on the same connection");
	link_release(&l);
}

static void test_limits(void)
{
	static struct peer w;
	static uint8_t params[LINK_PARAMS_MAX];
	struct link l;
	struct seen s = { 0 };
	size_t len = 0;
	char value[30000];

	CHECK(LINK_PARAMS_MAX == gateway_params_limit, "the front end's limit is core's (%d, %zu)", LINK_PARAMS_MAX,
	      gateway_params_limit);
	memset(value, 'h', sizeof(value));
	/* 60 000 bytes in two records: taken */
	memset(&w, 0, sizeof(w));
	put_begin(&w, 1, RECORD_RESPONDER, RECORD_KEEP_CONN);
	record_pair_write(params, sizeof(params), &len, "HTTP_A", 6, value, sizeof(value));
	record_pair_write(params, sizeof(params), &len, "HTTP_B", 6, value, sizeof(value) - 100);
	put_record(&w, RECORD_PARAMS, 1, params, 40000, 0);
	put_record(&w, RECORD_PARAMS, 1, params + 40000, len - 40000, 0);
	put_record(&w, RECORD_PARAMS, 1, NULL, 0, 0);
	put_record(&w, RECORD_STDIN, 1, NULL, 0, 0);
	/* then one past the limit: skipped, said, and the connection still serves */
	put_begin(&w, 2, RECORD_RESPONDER, RECORD_KEEP_CONN);
	put_record(&w, RECORD_PARAMS, 2, params, 40000, 0);
	put_record(&w, RECORD_PARAMS, 2, params, 40000, 0);
	put_record(&w, RECORD_PARAMS, 2, NULL, 0, 0);
	put_record(&w, RECORD_STDIN, 2, NULL, 0, 0);
	put_request(&w, 3, 1, NULL, 0);
	w.piece = 1000;
	peer_link(&w, &l);
	CHECK(link_next(&l, 1) == LINK_REQUEST && !link_params_too_large(&l) && link_params(&l, see, &s) == 0
	      && s.count == 2 && strlen(s.names[1]) == 6, "60 000 bytes of parameters");
	CHECK(link_end(&l, NULL, 0) == 0, "kept");
	CHECK(link_next(&l, 1) == LINK_REQUEST && link_params_too_large(&l), "80 000: too large");
	CHECK(link_end(&l, "431", 3) == 0, "kept");
	CHECK(link_next(&l, 1) == LINK_REQUEST && l.id == 3 && !link_params_too_large(&l), "the next one");
	CHECK(l.cap <= LINK_BUF_MAX, "the buffer within its limit (%zu)", l.cap);
	link_release(&l);
}

static void test_broken(void)
{
	static struct peer w;
	struct link l;
	uint8_t params[4096];
	size_t n = status_params(params, sizeof(params));

	/* a version 2 record */
	memset(&w, 0, sizeof(w));
	put_request(&w, 1, 1, NULL, 0);
	w.in[0] = 2;
	peer_link(&w, &l);
	CHECK(link_next(&l, 1) == LINK_CLOSED && w.out_len == 0, "version 2: closed, nothing said");
	link_release(&l);
	/* the connection closed within a request, at every byte */
	memset(&w, 0, sizeof(w));
	put_request(&w, 1, 1, "body", 2);
	for (size_t cut = 1; cut < w.len; cut++) {
		size_t full = w.len;
		char got[16];
		int rc;

		w.len = cut;
		w.off = 0;
		w.out_len = 0;
		peer_link(&w, &l);
		rc = link_next(&l, 1);
		if (rc == LINK_REQUEST) {
			ssize_t k;

			while ((k = link_read_body(&l, got, sizeof(got))) > 0)
				;
			CHECK(k < 0, "cut at %zu: the body fails", cut);
		} else {
			CHECK(rc == LINK_CLOSED, "cut at %zu: closed", cut);
		}
		link_release(&l);
		w.len = full;
	}
	/* body before the parameters end; parameters after */
	memset(&w, 0, sizeof(w));
	put_begin(&w, 1, RECORD_RESPONDER, RECORD_KEEP_CONN);
	put_record(&w, RECORD_STDIN, 1, "x", 1, 0);
	peer_link(&w, &l);
	CHECK(link_next(&l, 1) == LINK_CLOSED, "a body before the parameters' end");
	link_release(&l);
	/* an invalid pair in the parameters: said by link_params */
	memset(&w, 0, sizeof(w));
	put_begin(&w, 1, RECORD_RESPONDER, RECORD_KEEP_CONN);
	put_record(&w, RECORD_PARAMS, 1, params, n - 1, 0);
	put_record(&w, RECORD_PARAMS, 1, NULL, 0, 0);
	peer_link(&w, &l);
	{
		struct seen s = { 0 };

		CHECK(link_next(&l, 1) == LINK_REQUEST && link_params(&l, see, &s) == RECORD_INVALID, "invalid pairs");
	}
	link_release(&l);
	/* the web server gone: the answer fails, the connection closes */
	memset(&w, 0, sizeof(w));
	put_request(&w, 1, 1, NULL, 0);
	w.fail_writes = 1;
	peer_link(&w, &l);
	CHECK(link_next(&l, 1) == LINK_REQUEST && link_end(&l, "x", 1) == LINK_CLOSED, "a write that fails");
	link_release(&l);
}

/* A connection the web server does not keep, whose body was not read: lingered on. */
static void test_drained(void)
{
	static struct peer w;
	struct link l;

	memset(&w, 0, sizeof(w));
	put_request(&w, 1, 0, "a body the answer does not need", 8);
	w.len -= 8;   /* the empty STDIN still on its way */
	peer_link(&w, &l);
	CHECK(link_next(&l, 1) == LINK_REQUEST, "request");
	CHECK(link_end(&l, "x", 1) == LINK_CLOSED && !link_drained(&l), "closed, not drained");
	link_release(&l);
	memset(&w, 0, sizeof(w));
	put_request(&w, 1, 0, NULL, 0);
	peer_link(&w, &l);
	CHECK(link_next(&l, 1) == LINK_REQUEST, "request");
	CHECK(link_end(&l, "x", 1) == LINK_CLOSED && link_drained(&l), "a GET: drained (its empty body was read with it)");
	link_release(&l);
}

int main(void)
{
	test_header();
	test_fixed_records();
	test_pairs();
	test_params_each();
	for (size_t piece = 0; piece < 300; piece += piece < 20 ? 1 : 37)
		test_one_request(piece);
	test_two_requests();
	test_params_split();
	test_body();
	test_big_answer();
	test_management();
	test_abort();
	test_limits();
	test_broken();
	test_drained();
	return t_done("link_test");
}
