#include "spark/masterui.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/buf.h"
#include "spark/deploy.h"
#include "spark/httpget.h"
#include "base/limits.h"

static int by_id(const void *a, const void *b)
{
	return strcmp(((const struct master_ui_driver *)a)->id, ((const struct master_ui_driver *)b)->id);
}

static const char *str(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

static int state_index(const char *name)
{
	for (int i = 0; name && i < DRIVER_NSTATES; i++)
		if (strcmp(driver_state_name(i), name) == 0)
			return i;
	return -1;
}

/* The worker's host:port by its id, from the "workers" array. */
static int worker_host_port(const json_t *workers, const char *id, char *out, size_t size)
{
	size_t i;
	const json_t *w;

	json_array_foreach(workers, i, w) {
		const char *wid = str(w, "id"), *host = str(w, "host");
		const json_t *port = json_object_get(w, "port");

		if (wid && host && json_is_integer(port) && strcmp(wid, id) == 0)
			return (size_t)snprintf(out, size, "%s:%lld", host, (long long)json_integer_value(port)) < size ? 0 : -1;
	}
	out[0] = '\0';
	return 0;
}

static int add_drivers(const json_t *root, const char *key, int active, struct master_ui *ui, struct sg_err *e)
{
	const json_t *list = json_object_get(root, key), *workers = json_object_get(root, "workers"), *d;
	size_t i;

	if (!json_is_array(list))
		return sg_err_set(e, ERR_PROTOCOL, 0, "the master's UI JSON has no %s", key);
	json_array_foreach(list, i, d) {
		struct master_ui_driver *x;
		const char *id = str(d, "id"), *state = str(d, "state"), *worker = str(d, "worker");

		if (!id || state_index(state) < 0)
			return sg_err_set(e, ERR_PROTOCOL, 0, "a driver of the master's UI JSON has no id or state");
		if (ui->n >= LIMIT_MASTER_UI_DRIVERS)
			return sg_err_set(e, ERR_TOO_LARGE, 0, "the master's UI JSON lists over %u drivers", LIMIT_MASTER_UI_DRIVERS);
		x = &ui->drivers[ui->n];
		memset(x, 0, sizeof(*x));
		if ((size_t)snprintf(x->id, sizeof(x->id), "%s", id) >= sizeof(x->id))
			continue;   /* not an id sparkgate hands out; nobody can ask for it */
		x->state = state_index(state);
		x->active = active;
		/* JsonProtocol writes "None" for a driver no worker holds */
		if (worker && strcmp(worker, "None") != 0
		    && ((size_t)snprintf(x->worker_id, sizeof(x->worker_id), "%s", worker) >= sizeof(x->worker_id)
			|| worker_host_port(workers, worker, x->worker_host_port, sizeof(x->worker_host_port))))
			return sg_err_set(e, ERR_PROTOCOL, 0, "a worker of the master's UI JSON has a name too long");
		ui->n++;
	}
	return 0;
}

static int add_workers(const json_t *workers, struct master_ui *ui, struct sg_err *e)
{
	size_t i, n = json_array_size(workers);
	const json_t *w;

	if (n > LIMIT_MASTER_UI_DRIVERS)
		return sg_err_set(e, ERR_TOO_LARGE, 0, "the master's UI JSON lists over %u workers", LIMIT_MASTER_UI_DRIVERS);
	if (n && !(ui->workers = calloc(n, sizeof(*ui->workers))))
		return sg_err_set(e, ERR_NOMEM, 0, "out of memory");
	json_array_foreach(workers, i, w) {
		const char *id = str(w, "id"), *web = str(w, "webuiaddress"), *host = str(w, "host");
		struct master_ui_worker *x = &ui->workers[ui->nworkers];

		if (!id || !web || !host || (size_t)snprintf(x->id, sizeof(x->id), "%s", id) >= sizeof(x->id)
		    || (size_t)snprintf(x->host, sizeof(x->host), "%s", host) >= sizeof(x->host)
		    || (size_t)snprintf(x->web_ui, sizeof(x->web_ui), "%s", web) >= sizeof(x->web_ui))
			continue;   /* a worker sparkgate cannot name or reach: no logs from it */
		ui->nworkers++;
	}
	return 0;
}

int master_ui_parse(const char *json, size_t len, const char *master_url, struct master_ui *ui, struct sg_err *e)
{
	json_error_t jerr;
	json_t *root;
	const char *url, *status;
	size_t total;
	int rc;

	memset(ui, 0, sizeof(*ui));
	/* jansson's own depth limit (2048) bounds the recursion; the JSON is the master's */
	root = json_loadb(json, len, 0, &jerr);
	if (!root)
		return sg_err_set(e, ERR_PROTOCOL, 0, "the master's UI answered no JSON: %s", jerr.text);
	url = str(root, "url");
	status = str(root, "status");
	if (!url || strcmp(url, master_url) != 0) {
		rc = sg_err_set(e, ERR_PROTOCOL, 0, "the UI is not that of master %s (it says %s)", master_url,
				url ? url : "no url");
		goto out;
	}
	if (!status || strcmp(status, "ALIVE") != 0) {
		rc = sg_err_set(e, ERR_REMOTE, 0, "master %s is %s, not the leader", master_url, status ? status : "?");
		goto out;
	}
	total = json_array_size(json_object_get(root, "activedrivers"))
		+ json_array_size(json_object_get(root, "completeddrivers"));
	if (total > LIMIT_MASTER_UI_DRIVERS) {
		rc = sg_err_set(e, ERR_TOO_LARGE, 0, "the master's UI JSON lists over %u drivers", LIMIT_MASTER_UI_DRIVERS);
		goto out;
	}
	if (total && !(ui->drivers = calloc(total, sizeof(*ui->drivers)))) {
		rc = sg_err_set(e, ERR_NOMEM, 0, "out of memory");
		goto out;
	}
	rc = add_drivers(root, "activedrivers", 1, ui, e);
	rc = rc ? rc : add_drivers(root, "completeddrivers", 0, ui, e);
	rc = rc ? rc : add_workers(json_object_get(root, "workers"), ui, e);
	if (!rc && ui->n)
		qsort(ui->drivers, ui->n, sizeof(*ui->drivers), by_id);
out:
	json_decref(root);
	if (rc)
		master_ui_release(ui);
	return rc;
}

int master_ui_read(const char *base_url, const char *master_url, int64_t deadline, struct master_ui *ui,
		   struct sg_err *e)
{
	struct buf body = BUF_INIT(LIMIT_MASTER_UI);
	char url[1100];
	long status = 0;
	size_t n = strlen(base_url);
	int rc;

	memset(ui, 0, sizeof(*ui));
	if ((size_t)snprintf(url, sizeof(url), "%.*s/json/", (int)(n && base_url[n - 1] == '/' ? n - 1 : n), base_url)
	    >= sizeof(url))
		return sg_err_set(e, ERR_INVALID, 0, "--master-ui URL too long");
	rc = http_get(url, deadline, &body, &status, e);
	if (!rc && status != 200)
		rc = sg_err_set(e, ERR_REMOTE, 0, "%s answered HTTP %ld", url, status);
	if (!rc)
		rc = master_ui_parse((const char *)body.data, body.len, master_url, ui, e);
	if (!rc)
		snprintf(ui->base, sizeof(ui->base), "%.*s", (int)(n && base_url[n - 1] == '/' ? n - 1 : n), base_url);
	buf_release(&body);
	return rc;
}

int master_ui_app_url(const struct master_ui *ui, const char *app_id, int64_t deadline, char *out, size_t size,
		      struct sg_err *e)
{
	static const char link[] = "\">Application Detail UI</a>";
	struct buf page = BUF_INIT(LIMIT_MASTER_UI_PAGE);
	char url[700], href[400];
	const char *end, *start;
	long status = 0;
	size_t o = 0;
	int rc;

	*out = '\0';
	/* app-yyyyMMddHHmmss-NNNN (Master.newApplicationId): nothing to escape */
	if (!ui->base[0] || !*app_id || strspn(app_id, "abcdefghijklmnopqrstuvwxyz0123456789-") != strlen(app_id)
	    || (size_t)snprintf(url, sizeof(url), "%s/app/?appId=%s", ui->base, app_id) >= sizeof(url))
		return 1;
	rc = http_get(url, deadline, &page, &status, e);
	if (!rc && status != 200)
		rc = 1;
	if (rc || !page.len || !(end = memmem(page.data, page.len, link, sizeof(link) - 1))) {
		buf_release(&page);
		return rc < 0 ? rc : 1;
	}
	for (start = end - 1; start > (const char *)page.data && end - start < (long)sizeof(href) && *start != '"'; start--)
		;
	/* href="URL" with the URL as Spark's XML literal escapes it (&amp; only, in practice) */
	if (start < (const char *)page.data + 5 || strncmp(start - 5, "href=", 5) != 0) {
		buf_release(&page);
		return 1;
	}
	for (const char *p = start + 1; p < end && o + 1 < sizeof(href); p++) {
		if (strncmp(p, "&amp;", 5) == 0)
			p += 4;
		href[o++] = *p;
	}
	href[o] = '\0';
	buf_release(&page);
	if (strspn(href, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789:/._%~?=&-") != o)
		return 1;
	if (href[0] == '/')   /* spark.ui.reverseProxy: the master's own proxy path */
		return (size_t)snprintf(out, size, "%s%s", ui->base, href) < size ? 0 : (*out = '\0', 1);
	if (strncmp(href, "http://", 7) && strncmp(href, "https://", 8))
		return 1;
	return (size_t)snprintf(out, size, "%s", href) < size ? 0 : (*out = '\0', 1);
}

const struct master_ui_driver *master_ui_find(const struct master_ui *ui, const char *id)
{
	struct master_ui_driver key;

	if (!ui->n || (size_t)snprintf(key.id, sizeof(key.id), "%s", id) >= sizeof(key.id))
		return NULL;
	return bsearch(&key, ui->drivers, ui->n, sizeof(*ui->drivers), by_id);
}


static const struct master_ui_worker *find_worker(const struct master_ui *ui, const char *worker_id)
{
	for (size_t i = 0; i < ui->nworkers; i++)
		if (strcmp(ui->workers[i].id, worker_id) == 0)
			return &ui->workers[i];
	return NULL;
}

int master_ui_worker_base(const struct master_ui *ui, const char *worker_id, char *out, size_t size, struct sg_err *e)
{
	const struct master_ui_worker *w = find_worker(ui, worker_id);
	const char *p, *host, *colon;
	size_t host_len, reg_len;
	unsigned long port = 0;
	int https;

	out[0] = '\0';
	if (!w)
		return 1;
	p = w->web_ui;
	https = strncmp(p, "https://", 8) == 0;
	if (!https && strncmp(p, "http://", 7) != 0)
		return sg_err_set(e, ERR_INVALID, 0, "its web UI address is not http(s)://HOST:PORT");
	host = p + (https ? 8 : 7);
	/* HOST:PORT and nothing else: a name or an address ([v6] in brackets), digits */
	if (!(colon = strrchr(host, ':')) || colon == host)
		return sg_err_set(e, ERR_INVALID, 0, "its web UI address has no port");
	host_len = (size_t)(colon - host);
	if (host[0] == '[' ? host[host_len - 1] != ']' || host_len < 3
				|| strspn(host + 1, "0123456789abcdefABCDEF:.") != host_len - 2
			   : strspn(host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") != host_len)
		return sg_err_set(e, ERR_INVALID, 0, "its web UI address is not http(s)://HOST:PORT");
	for (p = colon + 1; *p >= '0' && *p <= '9' && port <= 65535; p++)
		port = port * 10 + (unsigned long)(*p - '0');
	if (p == colon + 1 || *p || port < 1 || port > 65535)
		return sg_err_set(e, ERR_INVALID, 0, "its web UI address is not http(s)://HOST:PORT");
	/* the host it registered with, bracketed or not */
	reg_len = strlen(w->host);
	if (!((host_len == reg_len && strncasecmp(host, w->host, reg_len) == 0)
	      || (host[0] == '[' && host_len == reg_len + 2 && strncasecmp(host + 1, w->host, reg_len) == 0)))
		return sg_err_set(e, ERR_INVALID, 0, "its web UI address names another host than the worker's");
	if ((size_t)snprintf(out, size, "%s://%.*s:%lu", https ? "https" : "http", (int)host_len, host, port) >= size) {
		out[0] = '\0';
		return sg_err_set(e, ERR_INVALID, 0, "its web UI address is too long");
	}
	return 0;
}

void master_ui_release(struct master_ui *ui)
{
	free(ui->drivers);
	free(ui->workers);
	memset(ui, 0, sizeof(*ui));
}
