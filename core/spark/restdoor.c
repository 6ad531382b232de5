#include "spark/restdoor.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "spark/master.h"

static int wait_for(int fd, short events, int64_t deadline)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	int64_t left = deadline - master_now_ms();

	return left > 0 && poll(&pfd, 1, (int)left) == 1;
}

int restdoor_open(const char *host, int port, int timeout_ms)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res = NULL;
	int64_t deadline = master_now_ms() + timeout_ms;
	char service[16], reply[RESTDOOR_MAX_READ + 1], request[512];
	size_t got = 0;
	int fd = -1, open_door = 0, soerr = 0, n;
	socklen_t sl = sizeof(soerr);

	snprintf(service, sizeof(service), "%d", port);
	if (getaddrinfo(host, service, &hints, &res) != 0 || !res)
		return 0;
	fd = socket(res->ai_family, res->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, res->ai_protocol);
	if (fd < 0)
		goto out;
	if (connect(fd, res->ai_addr, res->ai_addrlen) != 0
	    && (errno != EINPROGRESS || !wait_for(fd, POLLOUT, deadline)
		|| getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0 || soerr != 0))
		goto out;
	n = snprintf(request, sizeof(request), "GET /v1/submissions/status/sparkgate-door-check HTTP/1.0\r\n"
		     "Host: %s:%d\r\n\r\n", host, port);
	if (n < 0 || (size_t)n >= sizeof(request) || send(fd, request, (size_t)n, MSG_NOSIGNAL) != n)
		goto out;
	while (got < RESTDOOR_MAX_READ && wait_for(fd, POLLIN, deadline)) {
		ssize_t r = recv(fd, reply + got, RESTDOOR_MAX_READ - got, 0);

		if (r <= 0)
			break;
		got += (size_t)r;
	}
	reply[got] = '\0';
	open_door = strstr(reply, "\"SubmissionStatusResponse\"") != NULL;
out:
	if (fd >= 0)
		close(fd);
	freeaddrinfo(res);
	return open_door;
}
