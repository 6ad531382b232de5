/* The master's web UI JSON: a real 3.5.9 master's /json/ (tests/unit/master-ui.json, one
 * running, one waiting, one finished driver) read into every driver's state and worker, and
 * answers that are not the master sparkgate talks to, or not its leader, refused. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spark/deploy.h"
#include "spark/masterui.h"
#include "t.h"

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *p = malloc(1 << 20);

	*len = f && p ? fread(p, 1, (1 << 20) - 1, f) : 0;
	if (f)
		fclose(f);
	if (p)
		p[*len] = '\0';
	return p;
}

static char *replaced(const char *text, const char *from, const char *to)
{
	const char *at = strstr(text, from);
	char *out = malloc(strlen(text) + strlen(to) + 1);

	if (!at || !out)
		return out;
	sprintf(out, "%.*s%s%s", (int)(at - text), text, to, at + strlen(from));
	return out;
}

int main(void)
{
	static const char master[] = "spark://127.0.0.1:50315";
	size_t len;
	char *json = slurp("tests/unit/master-ui.json", &len), *other;
	struct master_ui ui;
	struct sg_err e = { 0 };
	const struct master_ui_driver *d;

	CHECK(len > 100, "sample read");
	memset(&e, 0, sizeof(e));
	CHECK(master_ui_parse(json, len, master, &ui, &e) == 0, "%s", e.msg);
	CHECK(ui.n == 3, "%zu drivers", ui.n);
	d = master_ui_find(&ui, "driver-20261201115013-0000");
	CHECK(d && d->active && d->state == DRIVER_RUNNING && strcmp(d->worker_id, "worker-20261201115012-127.0.0.1-37609") == 0
	      && strcmp(d->worker_host_port, "127.0.0.1:37609") == 0, "running driver");
	d = master_ui_find(&ui, "driver-20261201115013-0002");
	CHECK(d && d->active && d->state == DRIVER_SUBMITTED && !d->worker_id[0] && !d->worker_host_port[0],
	      "waiting driver: no worker (\"None\")");
	d = master_ui_find(&ui, "driver-20261201115013-0001");
	CHECK(d && !d->active && d->state == DRIVER_FINISHED, "finished driver");
	CHECK(master_ui_find(&ui, "driver-20261201115013-0009") == NULL, "unknown id");
	master_ui_release(&ui);

	/* A worker's web UI address is used only as http(s)://ITS-HOST:PORT, rebuilt from parts:
	 * whoever registers as a worker chooses what it advertises. */
	{
		static const char web[] = "\"webuiaddress\" : \"http://127.0.0.1:48095\"";
		static const struct { const char *advertised, *base; } cases[] = {
			{ "http://127.0.0.1:48095", "http://127.0.0.1:48095" },
			{ "https://127.0.0.1:8443", "https://127.0.0.1:8443" },
			{ "http://169.254.169.254:80", NULL },             /* another host */
			{ "http://localhost:48095", NULL },                /* a name for it is another host */
			{ "http://127.0.0.1:48095/latest/meta-data#", NULL },
			{ "http://127.0.0.1:48095#", NULL },
			{ "http://127.0.0.1:48095/", NULL },
			{ "http://127.0.0.1:48095?x=1", NULL },
			{ "http://user:pw@127.0.0.1:48095", NULL },
			{ "http://169.254.169.254@127.0.0.1:48095", NULL },
			{ "http://127.0.0.1:48095@169.254.169.254:80", NULL },
			{ "http://127.0.0.1", NULL },
			{ "http://127.0.0.1:", NULL },
			{ "http://127.0.0.1:0", NULL },
			{ "http://127.0.0.1:65536", NULL },
			{ "http://127.0.0.1:+80", NULL },
			{ "http://127.0.0.1:80 ", NULL },
			{ "ftp://127.0.0.1:21", NULL },
			{ "file:///etc/passwd", NULL },
			{ "gopher://127.0.0.1:70", NULL },
			{ "HTTP://127.0.0.1:80", NULL },
		};
		char base[300], advertised[200];

		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			snprintf(advertised, sizeof(advertised), "\"webuiaddress\" : \"%s\"", cases[i].advertised);
			other = replaced(json, web, advertised);
			memset(&e, 0, sizeof(e));
			CHECK(master_ui_parse(other, strlen(other), master, &ui, &e) == 0, "%s", e.msg);
			int rc = master_ui_worker_base(&ui, "worker-20261201115012-127.0.0.1-37609", base, sizeof(base), &e);

			if (cases[i].base)
				CHECK(rc == 0 && strcmp(base, cases[i].base) == 0, "%s: %d %s", cases[i].advertised, rc, base);
			else
				CHECK(rc == ERR_INVALID && !base[0] && !strstr(e.msg, cases[i].advertised + 7),
				      "%s refused: %d %s", cases[i].advertised, rc, e.msg);
			master_ui_release(&ui);
			free(other);
		}
		/* an IPv6 host, bracketed in the address; a worker not registered */
		other = replaced(json, "\"host\" : \"127.0.0.1\"", "\"host\" : \"::1\"");
		char *v6 = replaced(other, web, "\"webuiaddress\" : \"http://[::1]:48095\"");

		memset(&e, 0, sizeof(e));
		CHECK(master_ui_parse(v6, strlen(v6), master, &ui, &e) == 0, "%s", e.msg);
		CHECK(master_ui_worker_base(&ui, "worker-20261201115012-127.0.0.1-37609", base, sizeof(base), &e) == 0
		      && strcmp(base, "http://[::1]:48095") == 0, "IPv6: %s", base);
		CHECK(master_ui_worker_base(&ui, "worker-nobody", base, sizeof(base), &e) == 1, "unknown worker");
		master_ui_release(&ui);
		free(v6);
		free(other);
	}

	memset(&e, 0, sizeof(e));
	CHECK(master_ui_parse(json, len, "spark://127.0.0.1:7077", &ui, &e) == ERR_PROTOCOL
	      && strstr(e.msg, "not that of master spark://127.0.0.1:7077"), "another master's UI: %s", e.msg);
	other = replaced(json, "\"status\" : \"ALIVE\"", "\"status\" : \"STANDBY\"");
	memset(&e, 0, sizeof(e));
	CHECK(master_ui_parse(other, strlen(other), master, &ui, &e) == ERR_REMOTE && strstr(e.msg, "STANDBY"),
	      "a standby's UI: %s", e.msg);
	free(other);
	other = replaced(json, "\"completeddrivers\"", "\"completedDrivers\"");
	memset(&e, 0, sizeof(e));
	CHECK(master_ui_parse(other, strlen(other), master, &ui, &e) == ERR_PROTOCOL, "no completeddrivers: %s", e.msg);
	free(other);
	other = replaced(json, "\"state\" : \"RUNNING\"", "\"state\" : \"SPRINTING\"");
	memset(&e, 0, sizeof(e));
	CHECK(master_ui_parse(other, strlen(other), master, &ui, &e) == ERR_PROTOCOL, "unknown state: %s", e.msg);
	free(other);
	memset(&e, 0, sizeof(e));
	CHECK(master_ui_parse("<html>Spark Master</html>", 25, master, &ui, &e) == ERR_PROTOCOL, "HTML: %s", e.msg);
	memset(&e, 0, sizeof(e));
	CHECK(master_ui_parse(json, len / 2, master, &ui, &e) == ERR_PROTOCOL, "truncated: %s", e.msg);
	free(json);
	return t_done("masterui");
}
