/* The FastCGI connections of one process (see conns.h): where they come from (--listen,
 * systemd's socket, the web server's), who may connect, and the poll over the listening
 * socket and every kept connection. */
#include "conns.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

/* --listen HOST:PORT or :PORT (libfcgi's TCP form) rather than a unix socket path. */
int conns_tcp_address(const char *addr)
{
	return strchr(addr, ':') != NULL && addr[0] != '/' && addr[0] != '.';
}

int conns_loopback_address(const char *addr)
{
	return strncmp(addr, "127.", 4) == 0 || strncmp(addr, "localhost:", 10) == 0 || strncmp(addr, "[::1]:", 6) == 0;
}

/* Whether the peer of fd is one of the comma-separated numeric addresses in list (its
 * address text in peer, for the log). */
int conns_peer_allowed(int fd, const char *list, char *peer, size_t size)
{
	struct sockaddr_storage sa;
	socklen_t len = sizeof(sa);
	const char *p = list;

	snprintf(peer, size, "?");
	if (getpeername(fd, (struct sockaddr *)&sa, &len) != 0)
		return 0;
	if (sa.ss_family == AF_UNIX)
		return 1;
	if (getnameinfo((struct sockaddr *)&sa, len, peer, (socklen_t)size, NULL, 0, NI_NUMERICHOST) != 0)
		return 0;
	if (strncmp(peer, "::ffff:", 7) == 0)   /* an IPv4 peer on an IPv6 socket */
		memmove(peer, peer + 7, strlen(peer + 7) + 1);
	while (*p) {
		size_t n = strcspn(p, ",");

		if (n == strlen(peer) && strncmp(p, peer, n) == 0)
			return 1;
		p += n + (p[n] == ',');
	}
	return 0;
}

/* systemd socket activation (sd_listen_fds(3)): one listening socket as fd 3. */
int conns_systemd_socket(void)
{
	const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");

	if (!pid || !fds || strtol(pid, NULL, 10) != (long)getpid() || strtol(fds, NULL, 10) < 1)
		return -1;
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	return 3;
}

/* The FastCGI connections one process holds.  A web server may keep a connection for its
 * next request (FCGI_KEEP_CONN: nginx's fastcgi_keep_conn, Apache mod_proxy_fcgi's
 * enablereuse); while it sits idle in the web server's pool, a process that only waited on
 * it would leave every other connection in the listen queue.  So a process polls the
 * listening socket and every connection it holds, and serves whichever has a request: any
 * number of kept connections fits any number of processes.  Past CONN_MAX (more than Apache's
 * default MaxRequestWorkers, 150), the connection idle longest is closed (the web server opens
 * another when it needs one).
 *
 * A connection the web server does not keep is closed once its answer is out.  If the web
 * server may still be sending (a body the answer did not need), close(2) would answer those
 * bytes with a reset, which can make the web server drop the answer it has not read yet: such
 * a connection is shut for writing and read to its end first (at most LINGER_MS, as libfcgi's
 * close does), in the poll beside the others rather than waiting on it. */
enum { LINGER_MS = 2000 };

struct conn {
	struct link link;        /* link.fd < 0: a free slot */
	unsigned long last;      /* when it last served (the idlest is the lowest) */
	long long linger_until;  /* lingering (shut for writing, read to its end) until, or 0 */
	int at;                  /* its place in conns.open */
};

struct conns {
	struct conn c[CONN_MAX];
	int open[CONN_MAX];      /* the slots in use, in no order */
	int nopen;
	unsigned long served;    /* requests served: the clock of last */
};

static long long now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void conn_close(struct conns *c, int i)
{
	struct conn *cn = &c->c[i];

	close(cn->link.fd);
	link_reset(&cn->link, -1);
	cn->linger_until = 0;
	c->open[cn->at] = c->open[--c->nopen];
	c->c[c->open[cn->at]].at = cn->at;
}

/* A connection whose answer is out and which the web server does not keep: closed now if
 * everything the web server sent was read, else after lingering. */
static void conn_finish(struct conns *c, int i)
{
	struct conn *cn = &c->c[i];

	if (cn->link.broken || link_drained(&cn->link) || shutdown(cn->link.fd, SHUT_WR) != 0) {
		conn_close(c, i);
		return;
	}
	cn->linger_until = now_ms() + LINGER_MS;
}

/* A lingering connection's next bytes, dropped; closed at its end. */
static void conn_linger(struct conns *c, int i)
{
	char trash[4096];

	if (read(c->c[i].link.fd, trash, sizeof(trash)) <= 0)
		conn_close(c, i);
}

/* A free slot, or the idlest connection's, closed. */
static int conns_slot(struct conns *c)
{
	int i, idlest = -1;

	for (i = 0; i < CONN_MAX; i++) {
		if (c->c[i].link.fd < 0)
			return i;
		if (idlest < 0 || c->c[i].last < c->c[idlest].last)
			idlest = i;
	}
	conn_close(c, idlest);
	return idlest;
}

/* The requests on connection i (known readable, or just accepted): every one it has
 * (a web server may have sent the next while the last was answered), then back to the poll;
 * the connection closed when the web server ended it or does not keep it. */
static void serve_conn(struct conns *c, int i, volatile sig_atomic_t *stop, const struct conn_handler *h)
{
	struct conn *cn = &c->c[i];
	int may_read = 1;

	for (;;) {
		int rc = link_next(&cn->link, may_read);

		may_read = 0;
		if (rc == LINK_IDLE)
			return;
		if (rc == LINK_CLOSED) {
			conn_close(c, i);
			return;
		}
		rc = h->serve(h->ctx, &cn->link);
		cn->last = ++c->served;
		if (h->after)
			h->after(h->ctx);
		if (rc == LINK_CLOSED) {
			conn_finish(c, i);
			return;
		}
		if (*stop || !link_pending(&cn->link))
			return;
	}
}

/* A new connection from the listening socket (non-blocking: another process may have taken
 * it) into a slot: its index, or -1. */
static int accept_conn(const char *web_servers, struct conns *c, int sock)
{
	char peer[INET6_ADDRSTRLEN];
	int fd = accept4(sock, NULL, NULL, SOCK_CLOEXEC), i;

	if (fd < 0)
		return -1;
	if (web_servers && !conns_peer_allowed(fd, web_servers, peer, sizeof(peer))) {
		log_printf(LOG_LEVEL_ERROR, "refused a FastCGI connection from %s (not in --web-servers)", peer);
		close(fd);
		return -1;
	}
	i = conns_slot(c);
	link_reset(&c->c[i].link, fd);
	c->c[i].at = c->nopen;
	c->open[c->nopen++] = i;
	return i;
}

/* A SIGTERM or SIGINT blocked until the next ppoll. */
static int term_pending(void)
{
	sigset_t p;

	return sigpending(&p) == 0 && (sigismember(&p, SIGTERM) == 1 || sigismember(&p, SIGINT) == 1);
}

void conns_serve(int sock, const char *web_servers, volatile sig_atomic_t *stop, const struct conn_handler *h)
{
	static struct conns c;
	struct pollfd pfd[CONN_MAX + 1];
	int slot[CONN_MAX + 1], i, n, k;
	int flags = fcntl(sock, F_GETFL);
	sigset_t term, waiting;

	/* SIGTERM and SIGINT are let in only while the loop waits (ppoll): one that came between
	 * the check of *stop and the wait would otherwise be seen only at the next request, and
	 * the request in flight is always finished */
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	sigaddset(&term, SIGINT);
	sigprocmask(SIG_BLOCK, &term, &waiting);
	sigdelset(&waiting, SIGTERM);
	sigdelset(&waiting, SIGINT);

	/* several processes may share the socket: accept only what poll saw, never block on it */
	if (flags < 0 || fcntl(sock, F_SETFL, flags | O_NONBLOCK) < 0)
		log_printf(LOG_LEVEL_ERROR, "cannot make the listening socket non-blocking: %s", strerror(errno));
	for (i = 0; i < CONN_MAX; i++)
		link_init(&c.c[i].link, -1, CONN_MAX);
	while (!*stop) {
		long long wake = 0;
		struct timespec timeout;

		/* most often (a web server that closes each connection) the next connection is
		 * already waiting: take it without a poll (unless a SIGTERM waits to be let in, or
		 * a steady stream of connections would never let it) */
		if (c.nopen == 0 && !term_pending() && (i = accept_conn(web_servers, &c, sock)) >= 0) {
			serve_conn(&c, i, stop, h);
			continue;
		}
		pfd[0] = (struct pollfd){ .fd = sock, .events = POLLIN };
		for (n = 1, k = 0; k < c.nopen; k++) {
			struct conn *cn = &c.c[c.open[k]];

			if (cn->linger_until && (!wake || cn->linger_until < wake))
				wake = cn->linger_until;
			pfd[n] = (struct pollfd){ .fd = cn->link.fd, .events = POLLIN };
			slot[n++] = c.open[k];
		}
		if (wake) {
			long long left = wake - now_ms();

			timeout = (struct timespec){ left > 0 ? left / 1000 : 0, left > 0 ? left % 1000 * 1000000 : 0 };
		}
		if (ppoll(pfd, (nfds_t)n, wake ? &timeout : NULL, &waiting) < 0) {
			if (errno == EINTR)
				continue;
			log_printf(LOG_LEVEL_ERROR, "poll: %s", strerror(errno));
			break;
		}
		for (k = 1; k < n && !*stop; k++) {
			struct conn *cn = &c.c[slot[k]];

			if (cn->linger_until && (pfd[k].revents || cn->linger_until <= now_ms())) {
				if (pfd[k].revents)
					conn_linger(&c, slot[k]);
				if (cn->link.fd >= 0 && cn->linger_until && cn->linger_until <= now_ms())
					conn_close(&c, slot[k]);
			} else if (pfd[k].revents) {
				serve_conn(&c, slot[k], stop, h);
			}
		}
		if ((pfd[0].revents & POLLIN) && !*stop && (i = accept_conn(web_servers, &c, sock)) >= 0)
			serve_conn(&c, i, stop, h);
	}
	while (c.nopen > 0)
		conn_close(&c, c.open[0]);
	for (i = 0; i < CONN_MAX; i++)
		link_release(&c.c[i].link);
	sigprocmask(SIG_UNBLOCK, &term, NULL);
}
