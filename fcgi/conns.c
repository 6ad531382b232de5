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
#include <sys/select.h>
#include <sys/socket.h>
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
 * another when it needs one). */
enum { CONN_MAX = 256 };

struct conns {
	FCGX_Request req[CONN_MAX];     /* ipcFd < 0: a free slot */
	unsigned long last[CONN_MAX];   /* when it last served (the idlest is the lowest) */
	unsigned long served;           /* requests served: the clock of last[] */
};

/* A free slot, or the idlest connection's, closed. */
static int conns_slot(struct conns *c)
{
	int i, idlest = 0;

	for (i = 0; i < CONN_MAX; i++) {
		if (c->req[i].ipcFd < 0)
			return i;
		if (c->last[i] < c->last[idlest])
			idlest = i;
	}
	FCGX_Free(&c->req[idlest], 1);
	return idlest;
}

/* The request's end: what is left of its stdin is read first (the empty FCGI_STDIN record
 * that ends it may still be on its way: mod_proxy_fcgi sends it apart).  libfcgi's finish
 * does not: left in a kept connection, it is what the next accept reads instead of a
 * FCGI_BEGIN_REQUEST, a protocol error that closes the connection (the web server, which
 * kept it, then answers 502) after waiting up to 2 s for the peer.  Then libfcgi closes the
 * connection unless the web server keeps it. */
static void finish_kept(FCGX_Request *req)
{
	char drain[4096];

	while (FCGX_GetStr(drain, sizeof(drain), req->in) > 0)
		;
	FCGX_Finish_r(req);
}

/* One request on connection i (known readable): 0, or -1 when the connection ended (the web
 * server closed it, or the request was unreadable: libfcgi closed it). */
static int serve_conn(struct conns *c, int i, const struct conn_handler *h)
{
	FCGX_Request *req = &c->req[i];

	/* the connection is open: libfcgi reads its next request (its listen_sock is -1, so a
	 * connection found closed is given up rather than replaced by a blocking accept) */
	if (FCGX_Accept_r(req) < 0) {
		req->ipcFd = -1;
		return -1;
	}
	h->serve(h->ctx, req);
	finish_kept(req);
	c->last[i] = ++c->served;
	if (h->after)
		h->after(h->ctx);
	return req->ipcFd < 0 ? -1 : 0;
}

/* A new connection from the listening socket (non-blocking: another process may have taken
 * it) into a slot: its index, or -1. */
static int accept_conn(const char *web_servers, struct conns *c, int sock)
{
	char peer[INET6_ADDRSTRLEN];
	int fd = accept4(sock, NULL, NULL, SOCK_CLOEXEC), i;

	if (fd < 0)
		return -1;
	if (fd >= FD_SETSIZE) {   /* libfcgi's close select()s on it */
		log_printf(LOG_LEVEL_ERROR, "refused a FastCGI connection: descriptor %d above FD_SETSIZE", fd);
		close(fd);
		return -1;
	}
	if (web_servers && !conns_peer_allowed(fd, web_servers, peer, sizeof(peer))) {
		log_printf(LOG_LEVEL_ERROR, "refused a FastCGI connection from %s (not in --web-servers)", peer);
		close(fd);
		return -1;
	}
	i = conns_slot(c);
	c->req[i].ipcFd = fd;
	c->req[i].keepConnection = 1;   /* until its first FCGI_BEGIN_REQUEST says otherwise */
	return i;
}

void conns_serve(int sock, const char *web_servers, volatile sig_atomic_t *stop, const struct conn_handler *h)
{
	static struct conns c;
	struct pollfd pfd[CONN_MAX + 1];
	int slot[CONN_MAX + 1], i, n, k;
	int flags = fcntl(sock, F_GETFL);

	/* several processes may share the socket: accept only what poll saw, never block on it */
	if (flags < 0 || fcntl(sock, F_SETFL, flags | O_NONBLOCK) < 0)
		log_printf(LOG_LEVEL_ERROR, "cannot make the listening socket non-blocking: %s", strerror(errno));
	for (i = 0; i < CONN_MAX; i++)
		FCGX_InitRequest(&c.req[i], -1, 0);
	while (!*stop) {
		/* most often (a web server that closes each connection) the next connection is
		 * already waiting: take it without a poll */
		for (n = 0, i = 0; i < CONN_MAX; i++)
			n += c.req[i].ipcFd >= 0;
		if (n == 0 && (i = accept_conn(web_servers, &c, sock)) >= 0) {
			serve_conn(&c, i, h);
			continue;
		}
		pfd[0] = (struct pollfd){ .fd = sock, .events = POLLIN };
		for (n = 1, i = 0; i < CONN_MAX; i++)
			if (c.req[i].ipcFd >= 0) {
				pfd[n] = (struct pollfd){ .fd = c.req[i].ipcFd, .events = POLLIN };
				slot[n++] = i;
			}
		if (poll(pfd, (nfds_t)n, -1) < 0) {
			if (errno == EINTR)
				continue;
			log_printf(LOG_LEVEL_ERROR, "poll: %s", strerror(errno));
			break;
		}
		for (k = 1; k < n && !*stop; k++)
			if (pfd[k].revents)
				serve_conn(&c, slot[k], h);
		if ((pfd[0].revents & POLLIN) && !*stop && (i = accept_conn(web_servers, &c, sock)) >= 0)
			serve_conn(&c, i, h);
	}
	for (i = 0; i < CONN_MAX; i++)
		if (c.req[i].ipcFd >= 0)
			FCGX_Free(&c.req[i], 1);
}

