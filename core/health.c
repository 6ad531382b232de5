#include "health.h"

#include <stdio.h>
#include <string.h>

#include "metrics.h"
#include "servlet.h"

int health_path(const char *path)
{
	return strcmp(path, "/healthz") == 0 || strcmp(path, "/readyz") == 0 || strcmp(path, "/metrics") == 0;
}

static void readyz(struct gateway *g, struct response *rs)
{
	char master[1200], store[700] = "no state store configured", door[800] = "closed", url[600];
	struct sg_err e = { 0 };
	int master_status = servlet_master_ready(g, master, sizeof(master));
	int store_ok = !g->store || store_ping(g->store, &e) == 0;
	int door_open = master_status == 0 && gateway_open_door(g, url, sizeof(url));
	int ready = master_status == 0 && store_ok && !door_open;

	if (g->store)
		snprintf(store, sizeof(store), "%s", store_ok ? "answers" : e.msg);
	if (door_open)
		snprintf(door, sizeof(door), "OPEN: Spark's own REST server answers without authentication at %s "
			 "(set spark.master.rest.enabled=false on the master)", url);
	metrics_set_master_up(g->metrics, master_status == 0);
	{
		const struct rest_field f[] = {
			{ "action", RF_STRING, "ReadyzResponse", 0, NULL },
			{ "master", RF_STRING, master, 0, NULL },
			{ "masterRestDoor", RF_STRING, door, 0, NULL },
			{ "message", RF_STRING, ready ? "sparkgate is ready" : "sparkgate is not ready", 0, NULL },
			{ "serverSparkVersion", RF_STRING, cluster_version(&g->cluster), 0, NULL },
			{ "store", RF_STRING, store, 0, NULL },
			{ "success", RF_BOOL, NULL, ready, NULL },
		};

		servlet_answer(g, rs, f, sizeof(f) / sizeof(f[0]));
	}
	if (rs->status == 200 && !ready)
		rs->status = 503;
}

void health_handle(struct gateway *g, const struct request *rq, struct response *rs)
{
	if (strcmp(rq->method, "GET") != 0 && strcmp(rq->method, "HEAD") != 0) {
		servlet_error(g, rs, 405, "Use GET.");
		rs->allow = "GET, HEAD";
	} else if (strcmp(rq->path, "/healthz") == 0) {
		const struct rest_field f[] = {
			{ "action", RF_STRING, "HealthzResponse", 0, NULL },
			{ "message", RF_STRING, "sparkgate answers", 0, NULL },
			{ "success", RF_BOOL, NULL, 1, NULL },
		};

		servlet_answer(g, rs, f, sizeof(f) / sizeof(f[0]));
	} else if (strcmp(rq->path, "/readyz") == 0) {
		readyz(g, rs);
	} else {
		metrics_answer(g, rs);
	}
}
