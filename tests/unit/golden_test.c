/* The C codecs against vectors produced by the real Spark 3.5.9 classes
 * (tools/golden/GoldenGen.java): byte-exact writer output, reader over every reply,
 * every truncated prefix of a reply fails cleanly, and the JSON -> DriverDescription
 * translation agrees with Spark's own buildDriverDescription. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "spark/deploy.h"
#include "wire/frame.h"
#include "wire/javaser.h"
#include "spark/rest.h"
#include "spark/submit.h"
#include "t.h"

static const char *dir = "tests/golden/spark-3.5.9_2.12";
static const struct spark_build *build;   /* the build dir's vectors came from */

static int slurp(const char *path, struct buf *b)
{
	FILE *f = fopen(path, "rb");
	char tmp[4096];
	size_t n;

	buf_reset(b);
	if (!f)
		return -1;
	while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0)
		buf_add(b, tmp, n);
	fclose(f);
	return 0;
}

static char *unescape(const char *s)
{
	char *out = malloc(strlen(s) + 1), *o = out;

	for (; *s; s++) {
		if (*s == '\\' && s[1]) {
			s++;
			*o++ = *s == 'n' ? '\n' : *s == 't' ? '\t' : *s;
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
	return out;
}

/* Reads a dd-*.txt dump into d; returns 1 for an "error" dump (text in *error). */
static int read_dump(const char *text, struct driver_desc *d, char **error)
{
	char *copy = strdup(text), *save = NULL, *line;

	*error = NULL;
	for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *f[4] = { 0 };
		int n = 0;

		for (char *p = line; p && n < 4; n++) {
			f[n] = p;
			p = strchr(p, '\t');
			if (p)
				*p++ = '\0';
		}
		if (strcmp(f[0], "error") == 0) {
			*error = unescape(f[1]);
			break;
		}
		char *a = f[1] ? unescape(f[1]) : NULL, *b = f[2] ? unescape(f[2]) : NULL;

		if (strcmp(f[0], "jarUrl") == 0) d->jar_url = strdup(a);
		else if (strcmp(f[0], "mem") == 0) d->mem_mb = atoi(a);
		else if (strcmp(f[0], "cores") == 0) d->cores = atoi(a);
		else if (strcmp(f[0], "supervise") == 0) d->supervise = atoi(a);
		else if (strcmp(f[0], "mainClass") == 0) d->main_class = strdup(a);
		else if (strcmp(f[0], "arg") == 0) strlist_add(&d->arguments, a);
		else if (strcmp(f[0], "env") == 0) strmap_set(&d->environment, a, b);
		else if (strcmp(f[0], "cp") == 0) strlist_add(&d->class_path, a);
		else if (strcmp(f[0], "lib") == 0) strlist_add(&d->library_path, a);
		else if (strcmp(f[0], "javaOpt") == 0) strlist_add(&d->java_opts, a);
		else if (strcmp(f[0], "resource") == 0) driver_desc_add_resource(d, a, atoi(b), atoi(f[3]));
		free(a);
		free(b);
	}
	free(copy);
	return *error != NULL;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int same_list(const struct strlist *a, const struct strlist *b, size_t from, size_t to, int sorted)
{
	if (a->len != b->len)
		return 0;
	if (sorted) {
		qsort(a->items + from, to - from, sizeof(char *), cmp_str);
		qsort(b->items + from, to - from, sizeof(char *), cmp_str);
	}
	for (size_t i = from; i < to; i++)
		if (strcmp(a->items[i], b->items[i]) != 0)
			return 0;
	return 1;
}

static void test_case(const char *name)
{
	char path[512], *error = NULL;
	struct buf dump = BUF_INIT(1u << 20), want = BUF_INIT(1u << 20), got = BUF_INIT(1u << 20);
	struct buf json = BUF_INIT(1u << 20);
	struct driver_desc oracle, mine;
	struct create_request cr;
	struct rest_error err;
	int is_error;

	driver_desc_init(&oracle);
	driver_desc_init(&mine);
	create_request_init(&cr);
	rest_error_init(&err);
	snprintf(path, sizeof(path), "%s/dd-%s.txt", dir, name);
	CHECK(slurp(path, &dump) == 0, "read %s", path);
	is_error = read_dump(buf_str(&dump), &oracle, &error);

	if (!is_error) {
		/* Serialization: the oracle description, written by C, byte for byte. */
			snprintf(path, sizeof(path), "%s/msg-submit-%s.bin", dir, name);
			CHECK(slurp(path, &want) == 0, "read %s", path);
			CHECK(deploy_write_submit(&got, build, &oracle) == 0, "write %s", name);
			CHECK(got.len == want.len && memcmp(got.data, want.data, got.len) == 0,
			      "%s: %zu bytes written, golden has %zu", name, got.len, want.len);
	}

	/* Translation: our JSON -> DriverDescription must match Spark's. */
	snprintf(path, sizeof(path), "tests/golden/cases/%s.json", name);
	CHECK(slurp(path, &json) == 0, "read %s", path);
	int rc = rest_parse_create(buf_str(&json), json.len, &build->rest, &cr, &err);
	if (rc == 0) {
		/* sparkgate gives the driver its own master list; use what Spark computed. */
		const char *m = NULL;

		for (size_t i = 0; i < oracle.java_opts.len; i++)
			if (strncmp(oracle.java_opts.items[i], "-Dspark.master=", 15) == 0)
				m = oracle.java_opts.items[i] + 15;
		struct submit_config cfg = { m ? m : "spark://127.0.0.1:7077", build, NULL, NULL };
		rc = submit_build_driver(&cr, &cfg, &mine, &err);
	}
	if (is_error) {
		CHECK(rc != 0, "%s: Spark rejects (%s) but sparkgate accepted", name, error);
		CHECK(err.status == 400, "%s: status %d", name, err.status);
		/* Spark's outer exception text must appear in our message. */
		char *cut = strstr(error, "\tcause");
		if (cut)
			*cut = '\0';
		CHECK(strstr(buf_str(&err.message), error) != NULL, "%s: message '%s' lacks '%s'", name,
		      buf_str(&err.message), error);
	} else {
		CHECK(rc == 0, "%s: sparkgate rejected: %s", name, buf_str(&err.message));
		if (rc == 0) {
			size_t nmod = 0;

			while (build->java_module_options[nmod])
				nmod++;
			/* 3.3-3.5: sparkgate gives the module options where Spark's server does not;
			 * they come first, then exactly what Spark's server gives. */
			if (!build->rest_adds_module_options) {
				CHECK(mine.java_opts.len >= nmod, "%s: module options missing", name);
				for (size_t i = 0; i < nmod && i < mine.java_opts.len; i++) {
					CHECK_STR(mine.java_opts.items[i], build->java_module_options[i]);
					free(mine.java_opts.items[i]);
				}
				if (mine.java_opts.len >= nmod) {
					memmove(mine.java_opts.items, mine.java_opts.items + nmod,
						(mine.java_opts.len - nmod) * sizeof(char *));
					mine.java_opts.len -= nmod;
				}
				nmod = 0;
			}
			size_t nd = nmod + cr.spark_properties.len + (strmap_get(&cr.spark_properties, "spark.master") ? 0 : 1);

			CHECK_STR(mine.jar_url, oracle.jar_url);
			CHECK(mine.mem_mb == oracle.mem_mb && mine.cores == oracle.cores
			      && mine.supervise == oracle.supervise, "%s: mem/cores/supervise", name);
			CHECK_STR(mine.main_class, oracle.main_class);
			CHECK(same_list(&mine.arguments, &oracle.arguments, 0, oracle.arguments.len, 0), "%s: args", name);
			CHECK(same_list(&mine.class_path, &oracle.class_path, 0, oracle.class_path.len, 0), "%s: cp", name);
			CHECK(same_list(&mine.library_path, &oracle.library_path, 0, oracle.library_path.len, 0),
			      "%s: lib", name);
			/* The module options Spark's server gives first, in order; the -D options come from a hash
			 * map in Spark: compare as a set; the split default/extra options after
			 * them in order. */
			CHECK(mine.java_opts.len == oracle.java_opts.len && nd <= oracle.java_opts.len
			      && same_list(&mine.java_opts, &oracle.java_opts, 0, nmod, 0)
			      && same_list(&mine.java_opts, &oracle.java_opts, nmod, nd, 1)
			      && same_list(&mine.java_opts, &oracle.java_opts, nd, oracle.java_opts.len, 0),
			      "%s: javaOpts", name);
			CHECK(mine.environment.len == oracle.environment.len, "%s: env size", name);
			for (size_t i = 0; i < oracle.environment.len; i++) {
				const char *v = strmap_get(&mine.environment, oracle.environment.keys[i]);
				CHECK(v && strcmp(v, oracle.environment.values[i]) == 0, "%s: env %s", name,
				      oracle.environment.keys[i]);
			}
			CHECK(mine.nresources == oracle.nresources, "%s: resources", name);
		}
	}
	free(error);
	rest_error_release(&err);
	create_request_release(&cr);
	driver_desc_release(&oracle);
	driver_desc_release(&mine);
	buf_release(&dump);
	buf_release(&want);
	buf_release(&got);
	buf_release(&json);
}

static void test_messages(void)
{
	struct buf want = BUF_INIT(1u << 20), got = BUF_INIT(1u << 20), body = BUF_INIT(1u << 20);
	char path[512];

	snprintf(path, sizeof(path), "%s/msg-kill.bin", dir);
	slurp(path, &want);
	CHECK(deploy_write_kill(&got, build, "driver-20240101000000-0000") == 0, "kill");
	CHECK(got.len == want.len && memcmp(got.data, want.data, got.len) == 0, "kill bytes");

	buf_reset(&got);
	snprintf(path, sizeof(path), "%s/msg-status.bin", dir);
	slurp(path, &want);
	CHECK(deploy_write_status(&got, build, "driver-20240101000000-0000") == 0, "status");
	CHECK(got.len == want.len && memcmp(got.data, want.data, got.len) == 0, "status bytes");

	/* RequestMessage envelope + stream, then the whole RpcRequest frame. */
	buf_reset(&body);
	frame_write_envelope(&body, "127.0.0.1", 7077, "Master");
	deploy_write_kill(&body, build, "driver-20240101000000-0000");
	snprintf(path, sizeof(path), "%s/body-kill.bin", dir);
	slurp(path, &want);
	CHECK(body.len == want.len && memcmp(body.data, want.data, body.len) == 0, "kill envelope bytes");
	buf_reset(&got);
	frame_write_rpc_request(&got, 1234567890123ULL, body.data, body.len);
	snprintf(path, sizeof(path), "%s/frame-kill.bin", dir);
	slurp(path, &want);
	CHECK(got.len == want.len && memcmp(got.data, want.data, got.len) == 0, "kill frame bytes");
	{
		struct frame f;
		struct sg_err e = { 0 };

		CHECK(frame_parse(want.data, want.len, LIMIT_FRAME, &f, &e) == (ssize_t)want.len, "parse frame");
		CHECK(f.type == FRAME_RPC_REQUEST && f.request_id == 1234567890123ULL && f.body_len == body.len,
		      "frame fields");
		for (size_t n = 0; n < want.len; n++)
			CHECK(frame_parse(want.data, n, LIMIT_FRAME, &f, &e) == 0, "prefix %zu incomplete", n);
		CHECK(frame_parse(want.data, want.len, want.len - 1, &f, &e) == ERR_TOO_LARGE, "frame limit");
	}
	/* Spark 4's case-object messages. */
	static const struct { const char *file; enum spark_class c; } objects[] = {
		{ "killall", CLS_REQUEST_KILL_ALL_DRIVERS }, { "clear", CLS_REQUEST_CLEAR },
		{ "readyz", CLS_REQUEST_READYZ },
	};
	for (size_t i = 0; i < sizeof(objects) / sizeof(objects[0]); i++) {
		buf_reset(&got);
		snprintf(path, sizeof(path), "%s/msg-%s.bin", dir, objects[i].file);
		if (!spark_build_is_spark4(build)) {
			CHECK(access(path, F_OK) != 0, "%s exists for a Spark 3 build", path);
			CHECK(deploy_write_object_message(&got, build, objects[i].c) == ERR_UNSUPPORTED,
			      "%s refused for Spark 3", objects[i].file);
			continue;
		}
		CHECK(slurp(path, &want) == 0, "read %s", path);
		CHECK(deploy_write_object_message(&got, build, objects[i].c) == 0, "write %s", objects[i].file);
		CHECK(got.len == want.len && memcmp(got.data, want.data, got.len) == 0, "%s bytes", objects[i].file);
	}
	/* RequestMasterState (every build): how a create whose answer was lost is found. */
	buf_reset(&got);
	snprintf(path, sizeof(path), "%s/msg-masterstate.bin", dir);
	CHECK(slurp(path, &want) == 0, "read %s", path);
	CHECK(deploy_write_master_state(&got, build) == 0, "write masterstate");
	CHECK(got.len == want.len && memcmp(got.data, want.data, got.len) == 0, "masterstate bytes");
	buf_release(&want);
	buf_release(&got);
	buf_release(&body);
}

static void test_replies(void)
{
	static const struct { const char *file; int kind, success, state; const char *id, *msg, *worker; } cases[] = {
		{ "submit-ok", REPLY_SUBMIT, 1, -1, "driver-20240101000000-0000",
		  "Driver successfully submitted as driver-20240101000000-0000", NULL },
		{ "submit-standby", REPLY_SUBMIT, 0, -1, NULL,
		  "Current state is not alive: STANDBY. Can only accept driver submissions in ALIVE state.", NULL },
		{ "kill-ok", REPLY_KILL, 1, -1, "driver-20240101000000-0000",
		  "Kill request for driver-20240101000000-0000 submitted", NULL },
		{ "kill-unknown", REPLY_KILL, 0, -1, "driver-x", "Driver driver-x has already finished or does not exist", NULL },
		{ "status-notfound", REPLY_STATUS, 0, -1, NULL, NULL, NULL },
		{ "status-SUBMITTED", REPLY_STATUS, 1, DRIVER_SUBMITTED, NULL, NULL, NULL },
		{ "status-RUNNING", REPLY_STATUS, 1, DRIVER_RUNNING, NULL, NULL, "worker-20240101000000-127.0.0.1-40000" },
		{ "status-FINISHED", REPLY_STATUS, 1, DRIVER_FINISHED, NULL, NULL, "worker-20240101000000-127.0.0.1-40000" },
		{ "status-RELAUNCHING", REPLY_STATUS, 1, DRIVER_RELAUNCHING, NULL, NULL, "worker-20240101000000-127.0.0.1-40000" },
		{ "status-UNKNOWN", REPLY_STATUS, 1, DRIVER_UNKNOWN, NULL, NULL, "worker-20240101000000-127.0.0.1-40000" },
		{ "status-KILLED", REPLY_STATUS, 1, DRIVER_KILLED, NULL, NULL, "worker-20240101000000-127.0.0.1-40000" },
		{ "status-FAILED", REPLY_STATUS, 1, DRIVER_FAILED, NULL, NULL, "worker-20240101000000-127.0.0.1-40000" },
		{ "status-ERROR", REPLY_STATUS, 1, DRIVER_ERROR, NULL, NULL, "worker-20240101000000-127.0.0.1-40000" },
		{ "status-FAILED-exception", REPLY_STATUS, 1, DRIVER_FAILED, NULL, NULL, "worker-20240101000000-127.0.0.1-40000" },
		{ "status-standby", REPLY_STATUS, 0, -1, NULL, NULL, NULL },
		{ "rpcfailure", REPLY_FAILURE, 0, -1, NULL, NULL, NULL },
		{ "boolean-true", REPLY_BOOLEAN, 1, -1, NULL, NULL, NULL },
		{ "boolean-false", REPLY_BOOLEAN, 0, -1, NULL, NULL, NULL },
		{ "killall-ok", REPLY_KILL_ALL, 1, -1, NULL, "Kill request for all drivers submitted", NULL },
		{ "masterstate", REPLY_MASTER_STATE, 1, -1, NULL, NULL, NULL },
		{ "masterstate-standby", REPLY_MASTER_STATE, 0, -1, NULL, NULL, NULL },
	};
	struct buf b = BUF_INIT(1u << 20);

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char path[512];
		struct deploy_reply r;
		struct sg_err e = { 0 };

		snprintf(path, sizeof(path), "%s/reply-%s.bin", dir, cases[i].file);
		if (cases[i].kind == REPLY_KILL_ALL && !spark_build_is_spark4(build))
			continue;
		CHECK(slurp(path, &b) == 0, "read %s", path);
		int rc = deploy_read_reply(b.data, b.len, &r, &e);
		CHECK(rc == 0, "%s: %s", cases[i].file, e.msg);
		if (rc)
			continue;
		CHECK((int)r.kind == cases[i].kind && r.success == cases[i].success && r.state == cases[i].state,
		      "%s: kind %d success %d state %d", cases[i].file, r.kind, r.success, r.state);
		if (cases[i].id)
			CHECK_STR(r.driver_id, cases[i].id);
		if (cases[i].msg)
			CHECK_STR(r.message, cases[i].msg);
		if (cases[i].worker) {
			CHECK_STR(r.worker_id, cases[i].worker);
			CHECK_STR(r.worker_host_port, "127.0.0.1:40000");
		}
		if (strcmp(cases[i].file, "status-FAILED-exception") == 0)
			CHECK(r.exception && strncmp(r.exception, "java.lang.IllegalStateException: boom: driver exited\n\tGoldenGen.replies(GoldenGen.java:", 83) == 0,
			      "exception text: %s", r.exception ? r.exception : "(none)");
		if (strcmp(cases[i].file, "status-standby") == 0)
			CHECK(r.exception && strncmp(r.exception, "java.lang.Exception: Current state is not alive: STANDBY.", 57) == 0,
			      "standby exception: %s", r.exception ? r.exception : "(none)");
		if (strcmp(cases[i].file, "rpcfailure") == 0)
			CHECK(r.exception && strncmp(r.exception, "org.apache.spark.SparkException: Unsupported message", 52) == 0,
			      "rpcfailure: %s", r.exception ? r.exception : "(none)");
		if (strcmp(cases[i].file, "masterstate") == 0) {
			/* an active and a completed driver with tokens, one without */
			CHECK(r.nmarks == 2, "masterstate marks: %zu", r.nmarks);
			CHECK(deploy_reply_find_token(&r, "tok-active")
			      && strcmp(deploy_reply_find_token(&r, "tok-active"), "driver-20240101000000-0001") == 0, "active");
			CHECK(deploy_reply_find_token(&r, "tok-done")
			      && strcmp(deploy_reply_find_token(&r, "tok-done"), "driver-20240101000000-0000") == 0, "completed");
			CHECK(!deploy_reply_find_token(&r, "tok") && !deploy_reply_find_token(&r, ""), "no prefix match");
		}
		if (strcmp(cases[i].file, "masterstate-standby") == 0)
			CHECK(r.nmarks == 0, "standby: no drivers");
		deploy_reply_release(&r);
		/* Every proper prefix must fail cleanly (ASan/valgrind catch over-reads). */
		int all_fail = 1;
		for (size_t n = 0; n < b.len; n++) {
			uint8_t *copy = malloc(n ? n : 1);

			memcpy(copy, b.data, n);
			if (deploy_read_reply(copy, n, &r, NULL) == 0) {
				all_fail = 0;
				deploy_reply_release(&r);
			}
			free(copy);
		}
		CHECK(all_fail, "%s: a truncated reply parsed", cases[i].file);
	}
	buf_release(&b);
}

/* All vectors of one build's folder (tests/golden/spark-VERSION_SCALA). */
/* ERROR drivers whose exception builds its message from fields of its own (the JDK's
 * FileSystemException family, InvalidClassException): the first line must be the JVM's
 * own Throwable.toString(), which GoldenGen wrote beside each reply. */
static void test_computed_messages(void)
{
	for (int i = 0;; i++) {
		char path[512];
		struct buf b = BUF_INIT(1u << 20), want = BUF_INIT(1u << 16);
		struct deploy_reply r;
		struct sg_err e = { 0 };

		snprintf(path, sizeof(path), "%s/reply-status-ERROR-computed-%d.bin", dir, i);
		if (slurp(path, &b) != 0) {
			CHECK(i >= 6, "%s: only %d computed-message replies", dir, i);
			buf_release(&b);
			buf_release(&want);
			break;
		}
		snprintf(path, sizeof(path), "%s/reply-status-ERROR-computed-%d.txt", dir, i);
		CHECK(slurp(path, &want) == 0, "read %s", path);
		CHECK(deploy_read_reply(b.data, b.len, &r, &e) == 0 && r.state == DRIVER_ERROR && r.exception, "%s: %s",
		      path, e.msg);
		if (r.exception) {
			size_t n = strcspn(r.exception, "\n");

			CHECK(n == want.len && memcmp(r.exception, want.data, n) == 0, "got \"%.*s\", the JVM says \"%s\"",
			      (int)n, r.exception, buf_str(&want));
		}
		deploy_reply_release(&r);
		buf_release(&b);
		buf_release(&want);
	}
}

static void test_build(const char *build_dir)
{
	const char *base = strrchr(build_dir, '/');
	DIR *d;
	struct dirent *de;

	dir = build_dir;
	base = base ? base + 1 : dir;
	build = strncmp(base, "spark-", 6) == 0 ? spark_build_find(base + 6) : NULL;
	CHECK(build != NULL, "no build in the table for %s", dir);
	if (!build)
		return;
	printf("golden vectors of Spark %s (Scala %s)\n", build->spark_version, build->scala_version);
	d = opendir("tests/golden/cases");
	CHECK(d != NULL, "open cases");
	while (d && (de = readdir(d))) {
		size_t n = strlen(de->d_name);
		char name[256];

		if (n < 6 || strcmp(de->d_name + n - 5, ".json") != 0 || n - 5 >= sizeof(name))
			continue;
		memcpy(name, de->d_name, n - 5);
		name[n - 5] = '\0';
		test_case(name);
	}
	if (d)
		closedir(d);
	test_messages();
	test_replies();
	test_computed_messages();
}

/* Every build folder under tests/golden/, or the one given. */
int main(int argc, char **argv)
{
	if (argc > 1) {
		test_build(argv[1]);
		return t_done("golden");
	}
	DIR *d = opendir("tests/golden");
	struct dirent *de;
	static char paths[16][300];
	size_t n = 0;

	CHECK(d != NULL, "open tests/golden");
	while (d && (de = readdir(d)) && n < 16)
		if (strncmp(de->d_name, "spark-", 6) == 0)
			snprintf(paths[n++], sizeof(paths[0]), "tests/golden/%s", de->d_name);
	if (d)
		closedir(d);
	CHECK(n == spark_nbuilds, "%zu golden folders for %zu builds in the table", n, spark_nbuilds);
	for (size_t i = 0; i < n; i++)
		test_build(paths[i]);
	return t_done("golden");
}
