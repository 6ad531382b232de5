/* libFuzzer: a web server's bytes on one FastCGI connection (fcgi/link.c, fcgi/record.c) ->
 * requests, their parameters, struct request, their bodies; the answers' bytes are checked
 * to be whole records.  Input: one byte choosing how many bytes each read hands over (1 to
 * 256, or all), then the bytes the web server sends.  The bytes are copied to the end of a
 * buffer of their size, so an over-read runs off it (ASan). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../fcgi/adapter.h"
#include "../../fcgi/link.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct peer {
	const uint8_t *in;
	size_t len, off, piece;
	size_t written;
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
	return (ssize_t)k;
}

/* What the application writes is whole records, each of a known type. */
static ssize_t peer_writev(void *ctx, const struct iovec *iov, int n)
{
	struct peer *w = ctx;
	size_t total = 0;

	for (int i = 0; i < n; i++)
		total += iov[i].iov_len;
	if (n > 0 && iov[0].iov_len >= RECORD_HEADER) {
		struct record_header h;

		if (record_header_read(iov[0].iov_base, iov[0].iov_len, &h) != RECORD_HEADER || h.type < RECORD_END_REQUEST
		    || h.type > RECORD_UNKNOWN_TYPE)
			abort();
	}
	w->written += total;
	return (ssize_t)total;
}

static void collect(void *ctx, const struct record_pair *pair)
{
	adapter_param(ctx, (const char *)pair->name, pair->name_len, (const char *)pair->value);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct peer w = { 0 };
	const struct link_io io = { peer_read, peer_writev, &w };
	struct link l;
	struct adapted a;
	uint8_t *copy;
	int rounds = 0;

	if (size < 1)
		return 0;
	copy = malloc(size - 1 ? size - 1 : 1);
	memcpy(copy, data + 1, size - 1);
	w.in = copy;
	w.len = size - 1;
	w.piece = data[0];
	link_init_io(&l, &io, 256);
	adapted_init(&a, 1u << 16);
	while (rounds++ < 64) {
		struct adapter_params p;
		char rest[300];
		int rc = link_next(&l, 1);

		if (rc == LINK_CLOSED || (rc == LINK_IDLE && w.off == w.len))
			break;
		if (rc == LINK_IDLE)
			continue;
		adapter_params_clear(&p);
		if (!link_params_too_large(&l) && link_params(&l, collect, &p) == 0
		    && adapt_params(&a, &p, link_read_body, &l) == 0) {
			/* the strings are whole C strings */
			if (strlen(a.rq.method) + strlen(a.rq.path) + strlen(a.rq.remote_addr) > size + 16)
				abort();
			while (link_read_body(&l, rest, sizeof(rest)) > 0)   /* what the handler left */
				;
		}
		if (link_write(&l, "Status: 200 OK\r\n\r\n", 18) == 0 && link_end(&l, "{}", 2) != 0) {
			link_drained(&l);
			break;
		}
	}
	adapted_release(&a);
	link_release(&l);
	free(copy);
	return 0;
}
