/* The FastCGI connections of one process: the listening socket's origin and peers, and a
 * loop that serves every connection a web server keeps (FCGI_KEEP_CONN) beside new ones. */
#ifndef SG_FCGI_CONNS_H
#define SG_FCGI_CONNS_H

#include <signal.h>
#include <stddef.h>

#include "link.h"

/* Connections one process holds at most (FCGI_MAX_CONNS): past it, the one idle longest is
 * closed for a new one (see conns.c). */
enum { CONN_MAX = 256 };

/* What serving one request is: serve answers the request the link has read, ending it
 * with link_end (and returns what link_end returned: 0 to keep the connection,
 * LINK_CLOSED to close it); after, if set, runs once the answer is out. */
struct conn_handler {
	int (*serve)(void *ctx, struct link *l);
	void (*after)(void *ctx);
	void *ctx;
};

/* --listen HOST:PORT or :PORT (libfcgi's TCP form) rather than a unix socket path. */
int conns_tcp_address(const char *addr);
int conns_loopback_address(const char *addr);
/* Whether the peer of fd is one of the comma-separated numeric addresses in list (its
 * address text in peer, for the log); a unix socket's peer always is. */
int conns_peer_allowed(int fd, const char *list, char *peer, size_t size);
/* systemd socket activation (sd_listen_fds(3)): the one listening socket (fd 3), or -1. */
int conns_systemd_socket(void);
/* Serves the connections of listening socket sock (whose peers must be in web_servers, if
 * set) until *stop. */
void conns_serve(int sock, const char *web_servers, volatile sig_atomic_t *stop, const struct conn_handler *h);

#endif
