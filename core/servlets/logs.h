/* GET /v1/submissions/logs/ID?stream=stdout|stderr&offset=N&length=M (beyond Spark): part
 * of a driver's stdout or stderr as text, read from the web UI of the worker that runs it
 * (its /log page; the worker's UI address comes from the master's web UI JSON).  Owner-
 * checked like status. */
#ifndef SG_LOGS_H
#define SG_LOGS_H

#include <stddef.h>

#include "ops/reply.h"
#include "spark/masterui.h"
#include "tenant/store.h"

struct servlets;

#define LOGS_DEFAULT_LENGTH (64u << 10)
#define LOGS_MAX_LENGTH (1u << 20)

/* The query's stream, offset (-1: the last length bytes, as Spark's log page) and length;
 * 0, or -1 with why (for a 400). */
int logs_parse_query(const char *query, int *stderr_stream, long long *offset, long long *length, char *why,
		     size_t why_size);

/* Part of driver d's stdout or stderr (offset -1: its last length bytes) from its worker's
 * web UI, whose address ui lists: 0 with the text at text->data + *body_at and Spark's
 * range (start, end, total), or -1 with the kind of problem and why. */
int logs_read(struct servlets *sv, const struct master_ui *ui, const struct master_ui_driver *d, int err_stream,
	      long long offset, long long length, struct buf *text, size_t *body_at, long long range[3],
	      enum problem *p, char *why, size_t why_size);

/* A driver's application, as Livy's appId and appInfo (sparkUiUrl, driverLogUrl) and the
 * listing's appId, sparkUiUrl, driverLogUrl give it; "" where not found. */
struct app_links {
	char app_id[128];
	char ui_url[300];
	char log_url[500];
};

/* The links of driver d (as ui, the master's web UI JSON, lists it) of store row x: the
 * driver's stderr page on its worker's web UI (from ui); the application's id and UI
 * address as x has them recorded, else, when scan is set, as the start of the driver's
 * stderr tells them (one read from its worker), then recorded in x's row once found. */
void app_links_get(struct servlets *sv, const struct master_ui *ui, const struct master_ui_driver *d,
		   const struct store_entry *x, int scan, struct app_links *l);

#endif
