/* Every driver's state in one request: the master's web UI JSON (GET http://HOST:8080/json/,
 * Spark's JsonProtocol.writeMasterState).
 *
 * Over RPC there is no such request: RequestMasterState's MasterStateResponse carries the
 * drivers as DriverInfo, whose state, worker and exception are @transient (DriverInfo.scala),
 * so a remote reader gets ids only.  The UI JSON is made inside the master JVM and holds
 * each driver's state and worker id, and each worker's host and port.  It has no exception
 * texts, so answers that need one still come from a status ask. */
#ifndef SG_MASTERUI_H
#define SG_MASTERUI_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

struct master_ui_driver {
	char id[64];
	int state;                   /* DRIVER_STATE index */
	int active;                  /* in activedrivers (else completeddrivers) */
	char worker_id[96];          /* "" none */
	char worker_host_port[96];   /* "" none */
};

struct master_ui_worker {
	char id[96];
	char host[256];              /* the host it registered with ("host") */
	char web_ui[256];            /* its webuiaddress as it advertised it: checked before use */
};

struct master_ui {
	struct master_ui_driver *drivers;   /* sorted by id */
	size_t n;
	struct master_ui_worker *workers;
	size_t nworkers;
	char base[300];                     /* the web UI it was read from (master_ui_read), or "" */
};

/* Parses a /json/ answer; refuses one whose "url" is not spark://HOST:PORT of the master
 * sparkgate talks to, or whose "status" is not ALIVE (a standby lists nothing). */
int master_ui_parse(const char *json, size_t len, const char *master_url, struct master_ui *ui, struct sg_err *e);
/* GETs base_url + "/json/" and parses it (bounded by LIMIT_MASTER_UI and the deadline). */
int master_ui_read(const char *base_url, const char *master_url, int64_t deadline, struct master_ui *ui,
		   struct sg_err *e);
const struct master_ui_driver *master_ui_find(const struct master_ui *ui, const char *id);
/* The base URL to read a worker's web UI at, written from parts into out:
 * "http(s)://HOST:PORT".  A worker advertises its own webuiaddress (Worker.scala:
 * s"${webUi.scheme}$publicAddress:${webUi.boundPort}"), so whoever registers as a worker
 * chooses it: it is taken only when it is exactly http(s)://HOST:PORT (no path, query,
 * fragment or user) with HOST the host the worker registered with.  0, 1 (no such worker, or
 * one without a web UI address), or ERR_INVALID with why in e (which does not repeat the address). */
int master_ui_worker_base(const struct master_ui *ui, const char *worker_id, char *out, size_t size, struct sg_err *e);
/* The address application app_id's UI gave the master when it registered
 * (ApplicationDescription.appUiUrl), as the master's own page of the application links it
 * ("Application Detail UI", ApplicationPage.scala: shown while it runs), read from the web UI
 * ui was read from: 0 with "http(s)://..." in out (a reverse proxy's relative link made
 * absolute on that UI), 1 (no such link: the application ended, or the page is not one), or
 * a negative ERR_* with e. */
int master_ui_app_url(const struct master_ui *ui, const char *app_id, int64_t deadline, char *out, size_t size,
		      struct sg_err *e);
void master_ui_release(struct master_ui *ui);

#endif
