/* GET /v1/submissions/logs/ID?stream=stdout|stderr&offset=N&length=M (beyond Spark): part
 * of a driver's stdout or stderr as text, read from the web UI of the worker that runs it
 * (its /log page; the worker's UI address comes from the master's web UI JSON).  Owner-
 * checked like status. */
#ifndef SG_LOGS_H
#define SG_LOGS_H

#include <stddef.h>

#define LOGS_DEFAULT_LENGTH (64u << 10)
#define LOGS_MAX_LENGTH (1u << 20)

/* The query's stream, offset (-1: the last length bytes, as Spark's log page) and length;
 * 0, or -1 with why (for a 400). */
int logs_parse_query(const char *query, int *stderr_stream, long long *offset, long long *length, char *why,
		     size_t why_size);

#endif
