/* A Spark master for unit tests: a thread on 127.0.0.1 that answers every RpcRequest
 * frame with the bytes a callback picks (golden replies recorded from real Spark, read
 * with blob_read), and counts what it was asked.  Test code: it allocates nothing while
 * serving, so allocation-failure tests can run beside it. */
#ifndef SG_TEST_FAKEMASTER_H
#define SG_TEST_FAKEMASTER_H

#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "wire/frame.h"

struct blob {
	char name[300];
	uint8_t *p;
	size_t len;
};

/* Reads a whole file into b with alloc (malloc, or a test's unwrapped allocator). */
static inline int blob_read(const char *path, struct blob *b, void *(*alloc)(size_t))
{
	FILE *f = fopen(path, "rb");
	long n;

	snprintf(b->name, sizeof(b->name), "%s", path);
	if (!f)
		return -1;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	b->p = alloc((size_t)n + 1);
	b->len = b->p ? fread(b->p, 1, (size_t)n, f) : 0;
	if (b->p)
		b->p[b->len] = 0;
	fclose(f);
	return b->p ? 0 : -1;
}

/* The reply for one request body (RequestMessage envelope + Java stream). */
typedef const struct blob *(*fake_reply_fn)(const uint8_t *body, size_t len, void *arg);

struct fake_master {
	int ls;
	pthread_t thread;
	char url[64];
	fake_reply_fn reply;
	void *arg;
	atomic_int asks;
};

static void *fake_master_serve(void *arg)
{
	struct fake_master *m = arg;
	static uint8_t in[1 << 20];
	int fd;

	while ((fd = accept(m->ls, NULL, NULL)) >= 0) {
		size_t len = 0;
		ssize_t n;

		while ((n = read(fd, in + len, sizeof(in) - len)) > 0) {
			struct frame f;
			ssize_t used;

			len += (size_t)n;
			while ((used = frame_parse(in, len, sizeof(in), &f, NULL)) > 0) {
				const struct blob *r = m->reply(f.body, f.body_len, m->arg);
				uint8_t hdr[21];
				uint64_t frame_len = 21 + r->len;

				atomic_fetch_add(&m->asks, 1);
				for (int k = 0; k < 8; k++) {
					hdr[k] = (uint8_t)(frame_len >> (56 - 8 * k));
					hdr[9 + k] = (uint8_t)(f.request_id >> (56 - 8 * k));
				}
				hdr[8] = FRAME_RPC_RESPONSE;
				for (int k = 0; k < 4; k++)
					hdr[17 + k] = (uint8_t)(r->len >> (24 - 8 * k));
				struct iovec iov[2] = { { hdr, 21 }, { r->p, r->len } };

				/* one write: a second small one would wait for the client's delayed ACK */
				if (writev(fd, iov, 2) != (ssize_t)(21 + r->len))
					break;
				memmove(in, in + used, len - (size_t)used);
				len -= (size_t)used;
			}
		}
		close(fd);
	}
	return NULL;
}

static inline int fake_master_start(struct fake_master *m, fake_reply_fn reply, void *arg)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sa);

	memset(m, 0, sizeof(*m));
	m->reply = reply;
	m->arg = arg;
	m->ls = socket(AF_INET, SOCK_STREAM, 0);
	if (m->ls < 0 || bind(m->ls, (struct sockaddr *)&sa, sizeof(sa)) || listen(m->ls, 8)
	    || getsockname(m->ls, (struct sockaddr *)&sa, &sl))
		return -1;
	snprintf(m->url, sizeof(m->url), "spark://127.0.0.1:%d", ntohs(sa.sin_port));
	return pthread_create(&m->thread, NULL, fake_master_serve, m);
}

static inline void fake_master_stop(struct fake_master *m)
{
	shutdown(m->ls, SHUT_RDWR);
	close(m->ls);
	pthread_join(m->thread, NULL);
}

#endif
