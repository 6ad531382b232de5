#include "deploy.h"

#include <stdlib.h>
#include <string.h>

#include "javaser.h"

/* Fixed descriptors.  Scala library UIDs are explicit @SerialVersionUIDs in scala/scala
 * (they are also listed in each golden uids.tsv, and the golden tests would fail if one
 * were wrong); Spark's own are per build (versions.h). */
static const struct jclass list_proxy_212 = {
	"scala.collection.immutable.List$SerializationProxy", 1, SC_SERIALIZABLE | SC_WRITE_METHOD, 0, NULL, NULL
};
static const struct jclass list_end_212 = {
	"scala.collection.immutable.ListSerializeEnd$", -8476791151975527571LL, SC_SERIALIZABLE, 0, NULL, NULL
};
static const struct jclass hashmap_proxy_212 = {
	"scala.collection.immutable.HashMap$SerializationProxy", 2, SC_SERIALIZABLE | SC_WRITE_METHOD, 0, NULL, NULL
};

/* Identity keys for the objects the JVM writes once and back-references afterwards. */
static const char key_nil, key_list_end;

#define STR_SIG "Ljava/lang/String;"
#define SEQ_SIG_212 "Lscala/collection/Seq;"

static const struct jclass_field rsd_fields[] = {
	{ 'L', "driverDescription", "Lorg/apache/spark/deploy/DriverDescription;" },
};
static const struct jclass_field dd_fields[] = {
	{ 'I', "cores", NULL }, { 'I', "mem", NULL }, { 'Z', "supervise", NULL },
	{ 'L', "command", "Lorg/apache/spark/deploy/Command;" },
	{ 'L', "jarUrl", STR_SIG },
	{ 'L', "resourceReqs", SEQ_SIG_212 },
};
static const struct jclass_field cmd_fields[] = {
	{ 'L', "arguments", SEQ_SIG_212 }, { 'L', "classPathEntries", SEQ_SIG_212 },
	{ 'L', "environment", "Lscala/collection/Map;" }, { 'L', "javaOpts", SEQ_SIG_212 },
	{ 'L', "libraryPathEntries", SEQ_SIG_212 }, { 'L', "mainClass", STR_SIG },
};
static const struct jclass_field rr_fields[] = {
	{ 'I', "amount", NULL }, { 'I', "numParts", NULL }, { 'L', "resourceName", STR_SIG },
};
static const struct jclass_field driver_id_fields[] = {
	{ 'L', "driverId", STR_SIG },
};

static struct jclass spark_class(const struct spark_build *b, enum spark_class c)
{
	static const struct {
		const char *name;
		uint16_t nfields;
		const struct jclass_field *fields;
	} shape[SPARK_NCLASSES] = {
		[SPARK_CLS_REQUEST_SUBMIT_DRIVER] = { "org.apache.spark.deploy.DeployMessages$RequestSubmitDriver", 1, rsd_fields },
		[SPARK_CLS_DRIVER_DESCRIPTION] = { "org.apache.spark.deploy.DriverDescription", 6, dd_fields },
		[SPARK_CLS_COMMAND] = { "org.apache.spark.deploy.Command", 6, cmd_fields },
		[SPARK_CLS_RESOURCE_REQUIREMENT] = { "org.apache.spark.resource.ResourceRequirement", 3, rr_fields },
		[SPARK_CLS_REQUEST_KILL_DRIVER] = { "org.apache.spark.deploy.DeployMessages$RequestKillDriver", 1, driver_id_fields },
		[SPARK_CLS_REQUEST_DRIVER_STATUS] = { "org.apache.spark.deploy.DeployMessages$RequestDriverStatus", 1, driver_id_fields },
	};
	struct jclass k = { shape[c].name, b->uid[c], SC_SERIALIZABLE, shape[c].nfields, shape[c].fields, NULL };

	return k;
}

static void write_str(struct jwriter *w, const char *s)
{
	if (s)
		jwriter_string(w, s, strlen(s));
	else
		jwriter_null(w);
}

/* Scala 2.12 List: written through List$SerializationProxy (elements, then the
 * ListSerializeEnd$ marker).  Nil is a singleton, so the JVM writes its proxy once and
 * back-references it; the marker likewise. */
static void list_begin_212(struct jwriter *w, size_t len, int *done)
{
	*done = 0;
	if (len == 0 && jwriter_shared(w, &key_nil)) {
		*done = 1;
		return;
	}
	uint32_t h = jwriter_object(w, &list_proxy_212);
	if (len == 0)
		jwriter_remember(w, &key_nil, h);
}

static void list_end_212_write(struct jwriter *w)
{
	if (!jwriter_shared(w, &key_list_end))
		jwriter_remember(w, &key_list_end, jwriter_object(w, &list_end_212));
	jwriter_end_block(w);
}

static void write_strlist(struct jwriter *w, const struct strlist *l)
{
	int done;

	list_begin_212(w, l->len, &done);
	if (done)
		return;
	for (size_t i = 0; i < l->len; i++)
		write_str(w, l->items[i]);
	list_end_212_write(w);
}

static void write_strmap(struct jwriter *w, const struct strmap *m)
{
	uint8_t n[4] = { (uint8_t)(m->len >> 24), (uint8_t)(m->len >> 16), (uint8_t)(m->len >> 8), (uint8_t)m->len };

	jwriter_object(w, &hashmap_proxy_212);
	jwriter_block(w, n, 4);   /* out.writeInt(size) */
	for (size_t i = 0; i < m->len; i++) {
		write_str(w, m->keys[i]);
		write_str(w, m->values[i]);
	}
	jwriter_end_block(w);
}

static int finish(struct jwriter *w)
{
	return w->err;
}

int deploy_write_submit(struct buf *out, const struct spark_build *b, const struct driver_desc *d)
{
	struct jclass rsd = spark_class(b, SPARK_CLS_REQUEST_SUBMIT_DRIVER);
	struct jclass dd = spark_class(b, SPARK_CLS_DRIVER_DESCRIPTION);
	struct jclass cmd = spark_class(b, SPARK_CLS_COMMAND);
	struct jclass rr = spark_class(b, SPARK_CLS_RESOURCE_REQUIREMENT);
	struct jwriter w;
	int done;

	if (strcmp(b->scala_version, "2.12") != 0)
		return ERR_UNSUPPORTED;
	jwriter_init(&w, out);
	jwriter_header(&w);
	jwriter_object(&w, &rsd);
	jwriter_object(&w, &dd);
	jwriter_i32(&w, d->cores);
	jwriter_i32(&w, d->mem_mb);
	jwriter_bool(&w, d->supervise);
	jwriter_object(&w, &cmd);
	write_strlist(&w, &d->arguments);
	write_strlist(&w, &d->class_path);
	write_strmap(&w, &d->environment);
	write_strlist(&w, &d->java_opts);
	write_strlist(&w, &d->library_path);
	write_str(&w, d->main_class);
	write_str(&w, d->jar_url);
	list_begin_212(&w, d->nresources, &done);
	if (!done) {
		for (size_t i = 0; i < d->nresources; i++) {
			jwriter_object(&w, &rr);
			jwriter_i32(&w, d->resources[i].amount);
			jwriter_i32(&w, d->resources[i].num_parts);
			write_str(&w, d->resources[i].name);
		}
		list_end_212_write(&w);
	}
	return finish(&w);
}

static int write_driver_id_message(struct buf *out, const struct spark_build *b, enum spark_class c,
				   const char *driver_id)
{
	struct jclass k = spark_class(b, c);
	struct jwriter w;

	jwriter_init(&w, out);
	jwriter_header(&w);
	jwriter_object(&w, &k);
	write_str(&w, driver_id);
	return finish(&w);
}

int deploy_write_kill(struct buf *out, const struct spark_build *b, const char *driver_id)
{
	return write_driver_id_message(out, b, SPARK_CLS_REQUEST_KILL_DRIVER, driver_id);
}

int deploy_write_status(struct buf *out, const struct spark_build *b, const char *driver_id)
{
	return write_driver_id_message(out, b, SPARK_CLS_REQUEST_DRIVER_STATUS, driver_id);
}

/* ---- replies ---------------------------------------------------------------------------- */

const char *driver_state_name(int state)
{
	static const char *const names[DRIVER_NSTATES] = {
		"SUBMITTED", "RUNNING", "FINISHED", "RELAUNCHING", "UNKNOWN", "KILLED", "FAILED", "ERROR"
	};

	return state >= 0 && state < DRIVER_NSTATES ? names[state] : NULL;
}

static char *dup(const char *s)
{
	return s ? strdup(s) : NULL;
}

/* Some(x) -> x; None (scala.None$, or 2.13's ModuleSerializationProxy) -> NULL. */
static const struct jvalue *option_value(const struct jvalue *opt)
{
	return jvalue_is(opt, "scala.Some") ? jvalue_field_obj(opt, "value") : NULL;
}

static const char *option_str(const struct jvalue *opt)
{
	return jvalue_str(option_value(opt));
}

/* java.lang.StackTraceElement.toString() as of JDK 9+ (format bits: 1 = drop class loader
 * name, 2 = drop module version); JDK 8 streams simply lack the module fields. */
static int format_frame(struct buf *out, const struct jvalue *f)
{
	const struct jslot *fmt = jvalue_field(f, "format"), *line = jvalue_field(f, "lineNumber");
	const char *loader = jvalue_str(jvalue_field_obj(f, "classLoaderName"));
	const char *module = jvalue_str(jvalue_field_obj(f, "moduleName"));
	const char *mver = jvalue_str(jvalue_field_obj(f, "moduleVersion"));
	const char *cls = jvalue_str(jvalue_field_obj(f, "declaringClass"));
	const char *method = jvalue_str(jvalue_field_obj(f, "methodName"));
	const char *file = jvalue_str(jvalue_field_obj(f, "fileName"));
	int64_t bits = fmt ? fmt->i : 0, ln = line ? line->i : -1;
	int rc = 0, prefix = 0;

	if (!(bits & 1) && loader && *loader) {
		rc |= buf_printf(out, "%s/", loader);
		prefix = 1;
	}
	if (module && *module) {
		rc |= buf_addstr(out, module);
		if (!(bits & 2) && mver && *mver)
			rc |= buf_printf(out, "@%s", mver);
		rc |= buf_addc(out, '/');
		prefix = 1;
	}
	(void)prefix;
	rc |= buf_printf(out, "%s.%s(", cls ? cls : "null", method ? method : "null");
	if (ln == -2)
		rc |= buf_addstr(out, "Native Method)");
	else if (file && ln >= 0)
		rc |= buf_printf(out, "%s:%lld)", file, (long long)ln);
	else if (file)
		rc |= buf_printf(out, "%s)", file);
	else
		rc |= buf_addstr(out, "Unknown Source)");
	return rc;
}

/* Spark's RestServlet.formatException: s"$e\n" + frames.map("\t" + _).mkString("\n"). */
static char *format_throwable(const struct jvalue *t)
{
	struct buf out = BUF_INIT(1u << 20);
	const char *msg = jvalue_str(jvalue_field_obj(t, "detailMessage"));
	const struct jvalue *frames = jvalue_field_obj(t, "stackTrace");
	int rc = buf_addstr(&out, jvalue_class_name(t) ? jvalue_class_name(t) : "java.lang.Throwable");
	char *s;

	if (msg)
		rc |= buf_printf(&out, ": %s", msg);
	rc |= buf_addc(&out, '\n');
	if (frames && frames->kind == JV_ARRAY) {
		for (size_t i = 0; i < frames->u.arr.len; i++) {
			if (i)
				rc |= buf_addc(&out, '\n');
			rc |= buf_addc(&out, '\t');
			rc |= format_frame(&out, frames->u.arr.items[i].obj);
		}
	}
	if (rc) {
		buf_release(&out);
		return NULL;
	}
	s = (char *)out.data;
	return s ? s : strdup("");
}

void deploy_reply_release(struct deploy_reply *r)
{
	free(r->driver_id);
	free(r->message);
	free(r->worker_id);
	free(r->worker_host_port);
	free(r->exception);
	memset(r, 0, sizeof(*r));
}

int deploy_read_reply(const void *p, size_t len, struct deploy_reply *r, struct sg_err *e)
{
	struct jstream s;
	const struct jvalue *v;
	const char *cls;
	int rc = jstream_parse(&s, p, len, e);

	memset(r, 0, sizeof(*r));
	r->state = -1;
	if (rc)
		return rc;
	if (s.ncontents != 1 || !s.contents[0]) {
		rc = sg_err_set(e, ERR_PROTOCOL, 0, "reply holds %zu objects, expected one", s.ncontents);
		goto out;
	}
	v = s.contents[0];
	cls = jvalue_class_name(v);
	if (!cls)
		cls = "?";
	if (strcmp(cls, "org.apache.spark.deploy.DeployMessages$SubmitDriverResponse") == 0) {
		const struct jslot *ok = jvalue_field(v, "success");

		r->kind = REPLY_SUBMIT;
		r->success = ok && ok->i;
		r->driver_id = dup(option_str(jvalue_field_obj(v, "driverId")));
		r->message = dup(jvalue_str(jvalue_field_obj(v, "message")));
	} else if (strcmp(cls, "org.apache.spark.deploy.DeployMessages$KillDriverResponse") == 0) {
		const struct jslot *ok = jvalue_field(v, "success");

		r->kind = REPLY_KILL;
		r->success = ok && ok->i;
		r->driver_id = dup(jvalue_str(jvalue_field_obj(v, "driverId")));
		r->message = dup(jvalue_str(jvalue_field_obj(v, "message")));
	} else if (strcmp(cls, "org.apache.spark.deploy.DeployMessages$DriverStatusResponse") == 0) {
		const struct jslot *found = jvalue_field(v, "found");
		const struct jvalue *state = option_value(jvalue_field_obj(v, "state"));
		const struct jvalue *ex = option_value(jvalue_field_obj(v, "exception"));

		r->kind = REPLY_STATUS;
		r->success = found && found->i;
		if (state) {
			const struct jslot *i = jvalue_field(state, "i");

			if (!i || !driver_state_name((int)i->i)) {
				rc = sg_err_set(e, ERR_PROTOCOL, 0, "driver state is not a DriverState value");
				goto out;
			}
			r->state = (int)i->i;
		}
		r->worker_id = dup(option_str(jvalue_field_obj(v, "workerId")));
		r->worker_host_port = dup(option_str(jvalue_field_obj(v, "workerHostPort")));
		if (ex && !(r->exception = format_throwable(ex))) {
			rc = ERR_NOMEM;
			goto out;
		}
	} else if (strcmp(cls, "java.lang.Boolean") == 0) {
		const struct jslot *b = jvalue_field(v, "value");

		r->kind = REPLY_BOOLEAN;
		r->success = b && b->i;
	} else if (strcmp(cls, "org.apache.spark.rpc.netty.RpcFailure") == 0) {
		const struct jvalue *ex = jvalue_field_obj(v, "e");

		r->kind = REPLY_FAILURE;
		r->exception = ex ? format_throwable(ex) : strdup("java.lang.Throwable\n");
		if (!r->exception) {
			rc = ERR_NOMEM;
			goto out;
		}
	} else {
		rc = sg_err_set(e, ERR_PROTOCOL, 0, "unexpected reply of class %s", cls);
	}
out:
	jstream_release(&s);
	if (rc)
		deploy_reply_release(r);
	return rc;
}
