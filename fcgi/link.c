/* One FastCGI connection from a web server (see link.h). */
#include "link.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A body record's content at least this large is read straight into the caller's memory
 * once the buffer is empty; a smaller one is read with what follows it. */
enum { LINK_DIRECT = 4096 };

static ssize_t fd_read(void *ctx, void *p, size_t n)
{
	ssize_t r;

	do
		r = read(*(int *)ctx, p, n);
	while (r < 0 && errno == EINTR);   /* SIGTERM: the request in flight is finished */
	return r;
}

static ssize_t fd_writev(void *ctx, const struct iovec *iov, int n)
{
	ssize_t w;

	do
		w = writev(*(int *)ctx, iov, n);
	while (w < 0 && errno == EINTR);
	return w;
}

void link_init_io(struct link *l, const struct link_io *io, unsigned max_conns)
{
	memset(l, 0, sizeof(*l));
	l->io = *io;
	l->fd = -1;
	l->max_conns = max_conns;
}

void link_init(struct link *l, int fd, unsigned max_conns)
{
	const struct link_io io = { fd_read, fd_writev, NULL };

	link_init_io(l, &io, max_conns);
	link_reset(l, fd);
}

void link_reset(struct link *l, int fd)
{
	uint8_t *in = l->in;
	size_t cap = l->cap;

	if (cap > LINK_BUF_INITIAL) {   /* a buffer grown by one connection is not kept for the next */
		free(in);
		in = NULL;
		cap = 0;
	}
	memset((uint8_t *)l + offsetof(struct link, in), 0, sizeof(*l) - offsetof(struct link, in));
	l->in = in;
	l->cap = cap;
	l->fd = fd;
	if (l->io.read == fd_read)
		l->io.ctx = &l->fd;
}

void link_release(struct link *l)
{
	free(l->in);
	l->in = NULL;
	l->cap = 0;
}

static int broken(struct link *l)
{
	l->broken = 1;
	return LINK_CLOSED;
}

/* All of iov (short writes continue where they stopped): 0, or -1. */
static int write_all(struct link *l, struct iovec *iov, int n)
{
	while (n > 0) {
		ssize_t w = l->io.writev(l->io.ctx, iov, n);
		size_t k;

		if (w <= 0)
			return broken(l);
		for (k = (size_t)w; n > 0 && k >= iov->iov_len; iov++, n--)
			k -= iov->iov_len;
		if (n > 0) {
			iov->iov_base = (uint8_t *)iov->iov_base + k;
			iov->iov_len -= k;
		}
	}
	return 0;
}

static int send_bytes(struct link *l, const void *p, size_t n)
{
	struct iovec iov = { (void *)p, n };

	return write_all(l, &iov, 1);
}

/* Where bytes not yet taken may be moved down to: past the parameters while a request
 * holds them. */
static size_t base(const struct link *l)
{
	return l->state == LINK_S_IDLE ? 0 : l->pend + 1;
}

/* The bytes not yet taken moved to the front (a request's parameters too, while they are
 * only gathered: no pointer into them exists yet). */
static void compact(struct link *l)
{
	size_t to;

	if (l->state == LINK_S_PARAMS && l->pstart > 0) {
		memmove(l->in, l->in + l->pstart, l->pend - l->pstart);
		l->pend -= l->pstart;
		l->pstart = 0;
	}
	to = base(l);
	if (l->start > to) {
		memmove(l->in + to, l->in + l->start, l->end - l->start);
		l->end -= l->start - to;
		l->start = to;
	}
}

/* One read into the buffer (grown when full): the count, 0 at the end, <0 on an error. */
static ssize_t fill(struct link *l)
{
	ssize_t n;

	compact(l);
	if (l->end == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : LINK_BUF_INITIAL;
		uint8_t *in;

		if (cap > LINK_BUF_MAX)
			cap = LINK_BUF_MAX;
		if (cap == l->cap || !(in = realloc(l->in, cap)))
			return broken(l);   /* (cannot happen within the limits: a record fits beside the parameters) */
		l->in = in;
		l->cap = cap;
	}
	n = l->io.read(l->io.ctx, l->in + l->end, l->cap - l->end);
	if (n <= 0) {
		broken(l);
		return n < 0 ? -1 : 0;
	}
	l->end += (size_t)n;
	return n;
}

/* A record that is not read: its header taken, the rest dropped as it comes. */
static int skip_record(struct link *l, const struct record_header *h)
{
	l->start += RECORD_HEADER;
	l->skip = (size_t)h->length + h->padding;
	return 1;
}

/* FCGI_GET_VALUES: the values asked for that this application knows, each once (take_record's
 * answer). */
static int get_values(struct link *l, const uint8_t *p, size_t n)
{
	static const char *const names[] = { "FCGI_MAX_CONNS", "FCGI_MAX_REQS", "FCGI_MPXS_CONNS" };
	uint8_t out[RECORD_HEADER + 128];
	size_t len = RECORD_HEADER, off = 0;
	unsigned answered = 0;
	struct record_pair pair;

	while (record_pair_read(p, n, &off, &pair) == 1)
		for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
			char value[16];
			size_t vlen = 0;
			unsigned v = i == 2 ? 0 : l->max_conns;

			if (pair.name_len != strlen(names[i]) || memcmp(pair.name, names[i], pair.name_len) != 0
			    || (answered & 1u << i))
				continue;
			answered |= 1u << i;
			do
				value[vlen++] = (char)('0' + v % 10);
			while ((v /= 10) != 0 && vlen < sizeof(value));
			for (size_t a = 0, b = vlen - 1; a < b; a++, b--) {
				char c = value[a];

				value[a] = value[b];
				value[b] = c;
			}
			if (record_pair_write(out, sizeof(out), &len, names[i], pair.name_len, value, vlen))
				return broken(l);   /* (cannot happen: three short pairs fit) */
		}
	record_header_write(out, RECORD_GET_VALUES_RESULT, 0, (uint16_t)(len - RECORD_HEADER), 0);
	return send_bytes(l, out, len) ? LINK_CLOSED : 1;
}

/* The request is over (answered, aborted): what is left of its body is skipped. */
static void request_done(struct link *l)
{
	l->skip += l->body_left + (l->body_left ? l->body_pad : 0);
	l->body_left = 0;
	l->last_id = l->id;
	l->last_ended = l->body_ended;
	l->state = LINK_S_IDLE;
}

/* One record from the buffer: 1 when something was taken, 0 when more bytes are needed,
 * LINK_CLOSED when the connection must close. */
static int take_record(struct link *l)
{
	size_t avail = l->end - l->start, whole;
	const uint8_t *p = l->in ? l->in + l->start : NULL;   /* (nothing read yet: no buffer) */
	struct record_header h;
	int active;

	if (l->skip) {
		size_t k = avail < l->skip ? avail : l->skip;

		l->start += k;
		l->skip -= k;
		return k > 0;
	}
	if (l->body_left)
		return 0;   /* body bytes are link_read_body's */
	switch (record_header_read(p, avail, &h)) {
	case RECORD_NEED_MORE:
		return 0;
	case RECORD_INVALID:
		return broken(l);
	}
	whole = RECORD_HEADER + (size_t)h.length + h.padding;
	active = l->state != LINK_S_IDLE && h.id == l->id;
	if (h.id != 0 && h.type == RECORD_STDIN) {
		if (active && l->state == LINK_S_BODY && !l->body_ended) {
			l->start += RECORD_HEADER;
			l->body_left = h.length;
			l->body_pad = h.padding;
			if (h.length == 0) {
				l->body_ended = 1;
				l->skip = h.padding;
			}
			return 1;
		}
		if (active)
			return broken(l);   /* a body before the parameters' end, or after its own */
		if (l->state == LINK_S_IDLE && h.id == l->last_id && h.length == 0)
			l->last_ended = 1;   /* the end of the body of the request answered last */
		return skip_record(l, &h);
	}
	if (h.id != 0 && h.type == RECORD_PARAMS) {
		if (!active)
			return skip_record(l, &h);
		if (l->state != LINK_S_PARAMS)
			return broken(l);
		if (h.length == 0) {   /* the parameters are all in */
			l->start += RECORD_HEADER;
			l->skip = h.padding;
			l->state = LINK_S_READY;
			return 1;
		}
		if (l->too_large || (size_t)h.length > LINK_PARAMS_MAX - (l->pend - l->pstart)) {
			l->too_large = 1;
			return skip_record(l, &h);
		}
		if (avail < whole)
			return 0;
		if (l->pend == l->pstart) {   /* the first (most often the only) one stays where it is */
			l->pstart = l->start + RECORD_HEADER;
			l->pend = l->pstart + h.length;
		} else {
			memmove(l->in + l->pend, p + RECORD_HEADER, h.length);
			l->pend += h.length;
		}
		l->start += whole;
		return 1;
	}
	if (h.id != 0 && h.type != RECORD_BEGIN_REQUEST && h.type != RECORD_ABORT_REQUEST)
		return skip_record(l, &h);   /* FCGI_DATA, or what a web server never sends */
	/* the records read whole: FCGI_BEGIN_REQUEST, FCGI_ABORT_REQUEST, management records */
	if (avail < whole)
		return 0;
	l->start += whole;
	if (h.id == 0) {
		uint8_t out[RECORD_UNKNOWN_SIZE];

		if (h.type == RECORD_GET_VALUES)
			return get_values(l, p + RECORD_HEADER, h.length);
		record_unknown_write(out, h.type);
		return send_bytes(l, out, sizeof(out)) ? LINK_CLOSED : 1;
	}
	if (h.type == RECORD_BEGIN_REQUEST) {
		uint8_t out[RECORD_END_SIZE];
		unsigned role, flags;

		if (record_begin_read(p + RECORD_HEADER, h.length, &role, &flags))
			return broken(l);
		if (active)
			return broken(l);   /* the active request begun again */
		if (l->state != LINK_S_IDLE) {   /* one request at a time */
			record_end_write(out, h.id, 0, RECORD_CANT_MPX_CONN);
			return send_bytes(l, out, sizeof(out)) ? LINK_CLOSED : 1;
		}
		if (role != RECORD_RESPONDER) {
			record_end_write(out, h.id, 0, RECORD_UNKNOWN_ROLE);
			if (send_bytes(l, out, sizeof(out)))
				return LINK_CLOSED;
			return flags & RECORD_KEEP_CONN ? 1 : LINK_CLOSED;
		}
		l->state = LINK_S_PARAMS;
		l->id = h.id;
		l->keep = (flags & RECORD_KEEP_CONN) != 0;
		l->too_large = l->body_ended = l->aborted = 0;
		l->pstart = l->pend = l->start;
		return 1;
	}
	/* FCGI_ABORT_REQUEST */
	if (!active)
		return 1;   /* a request already answered */
	if (l->state == LINK_S_BODY) {   /* the handler's next body read fails; link_end answers */
		l->aborted = 1;
		return 1;
	}
	{
		uint8_t out[RECORD_END_SIZE];

		record_end_write(out, l->id, 0, RECORD_REQUEST_COMPLETE);
		request_done(l);
		if (send_bytes(l, out, sizeof(out)))
			return LINK_CLOSED;
		return l->keep ? 1 : broken(l);
	}
}

int link_next(struct link *l, int may_read)
{
	for (;;) {
		int rc = l->broken ? LINK_CLOSED : take_record(l);

		if (rc < 0)
			return LINK_CLOSED;
		if (l->state == LINK_S_READY) {
			l->state = LINK_S_BODY;
			return LINK_REQUEST;
		}
		if (rc > 0)
			continue;
		if (l->state == LINK_S_IDLE && l->start == l->end && !may_read)
			return LINK_IDLE;
		may_read = 0;
		if (fill(l) <= 0)
			return LINK_CLOSED;
	}
}

int link_params(struct link *l, void (*each)(void *ctx, const struct record_pair *pair), void *ctx)
{
	if (l->state != LINK_S_BODY || l->too_large)
		return 0;
	return record_params_each(l->in + l->pstart, l->pend - l->pstart, each, ctx) < 0 ? RECORD_INVALID : 0;
}

int link_params_too_large(const struct link *l)
{
	return l->too_large;
}

ssize_t link_read_body(void *ctx, void *p, size_t n)
{
	struct link *l = ctx;

	if (l->state != LINK_S_BODY)
		return -1;
	for (;;) {
		ssize_t k;
		int rc;

		if (l->broken || l->aborted)
			return -1;
		if (l->body_left) {
			size_t want = n < l->body_left ? n : l->body_left;

			if (want == 0)
				return 0;
			if (l->start < l->end) {
				k = (ssize_t)(want < l->end - l->start ? want : l->end - l->start);
				memcpy(p, l->in + l->start, (size_t)k);
				l->start += (size_t)k;
			} else if (want >= LINK_DIRECT) {
				if ((k = l->io.read(l->io.ctx, p, want)) <= 0)
					return broken(l);
			} else {
				if (fill(l) <= 0)
					return -1;
				continue;
			}
			l->body_left -= (size_t)k;
			if (!l->body_left)
				l->skip = l->body_pad;
			return k;
		}
		if (l->body_ended)
			return 0;
		if ((rc = take_record(l)) < 0)
			return -1;
		if (rc == 0 && fill(l) <= 0)
			return -1;
	}
}

/* The answer's STDOUT records, in batches of writev, the end records in the last. */
static int send_stdout(struct link *l, const uint8_t *p, size_t n, int end)
{
	enum { BATCH = 16 };
	uint8_t heads[BATCH][RECORD_HEADER], tail[RECORD_HEADER + RECORD_END_SIZE];
	struct iovec iov[2 * BATCH + 1];

	if (l->broken)
		return -1;
	for (;;) {
		int k = 0, records = 0;

		for (; n > 0 && records < BATCH; records++) {
			size_t len = n < RECORD_CONTENT_MAX ? n : RECORD_CONTENT_MAX;

			record_header_write(heads[records], RECORD_STDOUT, l->id, (uint16_t)len, 0);
			iov[k++] = (struct iovec){ heads[records], RECORD_HEADER };
			iov[k++] = (struct iovec){ (void *)p, len };
			p += len;
			n -= len;
		}
		if (n == 0 && end) {
			record_header_write(tail, RECORD_STDOUT, l->id, 0, 0);
			record_end_write(tail + RECORD_HEADER, l->id, 0, RECORD_REQUEST_COMPLETE);
			iov[k++] = (struct iovec){ tail, sizeof(tail) };
		}
		if (k > 0 && write_all(l, iov, k))
			return -1;
		if (n == 0)
			return 0;
	}
}

int link_write(struct link *l, const void *p, size_t n)
{
	if (l->state != LINK_S_BODY)
		return -1;
	return l->aborted ? 0 : send_stdout(l, p, n, 0);
}

int link_end(struct link *l, const void *p, size_t n)
{
	int rc;

	if (l->state != LINK_S_BODY)
		return LINK_CLOSED;
	if (l->aborted) {
		uint8_t out[RECORD_END_SIZE];

		record_end_write(out, l->id, 0, RECORD_REQUEST_COMPLETE);
		rc = send_bytes(l, out, sizeof(out));
	} else {
		rc = send_stdout(l, p, n, 1);
	}
	request_done(l);
	return rc || l->broken || !l->keep ? LINK_CLOSED : 0;
}

int link_drained(struct link *l)
{
	while (!l->broken && l->state == LINK_S_IDLE && take_record(l) > 0)
		;
	return !l->broken && l->state == LINK_S_IDLE && l->last_ended && l->start == l->end && l->skip == 0;
}

int link_pending(const struct link *l)
{
	return l->start < l->end;
}
