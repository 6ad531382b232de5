/* The FastCGI floor for `make bench`: the smallest libfcgi application that answers every
 * request with a fixed JSON body the size of a status answer.  Whatever a web server +
 * libfcgi cost per request, sparkgate cannot go below this.  Like sparkgate (fcgi/main.c) it
 * polls its listening socket (fd 0, or --listen's) and every connection a web server keeps
 * open (FCGI_KEEP_CONN), so behind nginx or mod_proxy_fcgi a kept idle connection does not
 * hold up the others: the same connection handling, nothing else. */
#include <fcgiapp.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/select.h>
#include <unistd.h>

enum { CONN_MAX = 256 };

static const char body[] =
	"{\n  \"action\" : \"SubmissionStatusResponse\",\n  \"serverSparkVersion\" : \"3.5.9\",\n"
	"  \"submissionId\" : \"driver-20000101000000-0000\",\n  \"success\" : false\n}";
static char head[128];
static int head_len;
static FCGX_Request conns[CONN_MAX];
static unsigned long last[CONN_MAX], served;   /* when each connection last served */
static volatile sig_atomic_t stop;

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static void serve(FCGX_Request *req)
{
	char drain[4096];

	if (FCGX_Accept_r(req) < 0) {   /* the web server closed it */
		req->ipcFd = -1;
		return;
	}
	while (FCGX_GetStr(drain, sizeof(drain), req->in) > 0)   /* see fcgi/main.c: finish_kept() */
		;
	FCGX_PutStr(head, head_len, req->out);
	FCGX_PutStr(body, (int)sizeof(body) - 1, req->out);
	FCGX_Finish_r(req);
	last[req - conns] = ++served;
}

static void accept_one(int sock)
{
	int fd = accept4(sock, NULL, NULL, SOCK_CLOEXEC), i, k;

	if (fd < 0)
		return;
	if (fd >= FD_SETSIZE) {   /* libfcgi's close select()s on it */
		close(fd);
		return;
	}
	for (i = 0; i < CONN_MAX && conns[i].ipcFd >= 0; i++)
		;
	if (i == CONN_MAX) {   /* full: the connection idle longest goes, as in sparkgate */
		for (i = 0, k = 1; k < CONN_MAX; k++)
			if (last[k] < last[i])
				i = k;
		FCGX_Free(&conns[i], 1);
	}
	conns[i].ipcFd = fd;
	conns[i].keepConnection = 1;
	serve(&conns[i]);
}

int main(int argc, char **argv)
{
	struct pollfd pfd[CONN_MAX + 1];
	int slot[CONN_MAX + 1], sock = 0, i, n, k;

	/* (libfcgi's own FCGX_FPrintF knows no %zu) */
	head_len = snprintf(head, sizeof(head), "Status: 200 OK\r\nContent-Type: application/json;charset=utf-8\r\n"
			    "Content-Length: %zu\r\n\r\n", sizeof(body) - 1);
	struct sigaction sa = { .sa_handler = on_term };   /* no SA_RESTART: ppoll returns */
	sigset_t term, waiting;

	sigaction(SIGTERM, &sa, NULL);
	/* SIGTERM only while waiting, as sparkgate (fcgi/conns.c): not lost between the check
	 * and the wait (callgrind writes its counts when the process ends) */
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	sigprocmask(SIG_BLOCK, &term, &waiting);
	sigdelset(&waiting, SIGTERM);
	if (FCGX_Init() != 0)
		return 1;
	if (argc == 3 && (sock = FCGX_OpenSocket(argv[2], 128)) < 0)   /* --listen PATH */
		return 1;
	fcntl(sock, F_SETFL, fcntl(sock, F_GETFL) | O_NONBLOCK);
	for (i = 0; i < CONN_MAX; i++)
		FCGX_InitRequest(&conns[i], -1, 0);
	while (!stop) {
		pfd[0] = (struct pollfd){ .fd = sock, .events = POLLIN };
		for (n = 1, i = 0; i < CONN_MAX; i++)
			if (conns[i].ipcFd >= 0) {
				pfd[n] = (struct pollfd){ .fd = conns[i].ipcFd, .events = POLLIN };
				slot[n++] = i;
			}
		if (n == 1) {   /* nothing kept: the next connection may already wait */
			accept_one(sock);
			for (i = 0; i < CONN_MAX && conns[i].ipcFd < 0; i++)
				;
			if (i < CONN_MAX)
				continue;
		}
		if (ppoll(pfd, (nfds_t)n, NULL, &waiting) < 0)
			continue;   /* EINTR: SIGTERM ends the loop (callgrind then writes its counts) */
		for (k = 1; k < n; k++)
			if (pfd[k].revents)
				serve(&conns[slot[k]]);
		if (pfd[0].revents & POLLIN)
			accept_one(sock);
	}
	return 0;
}
