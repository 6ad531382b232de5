/* The master's own REST submission server, if it is listening: an unauthenticated door
 * beside sparkgate (CVE-2018-11770; Spark 4.1+ masters open it on 6066 by default). */
#ifndef SG_RESTDOOR_H
#define SG_RESTDOOR_H

/* Whether host:port answers a status request for a driver that does not exist as Spark's
 * REST server does (a SubmissionStatusResponse).  Nothing is submitted or changed there.
 * Bounded: timeout_ms in all, at most RESTDOOR_MAX_READ bytes read.  1 yes, 0 no. */
#define RESTDOOR_MAX_READ 4096
int restdoor_open(const char *host, int port, int timeout_ms);

#endif
