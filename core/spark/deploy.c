#include "spark/deploy.h"

#include <stdlib.h>
#include <string.h>

#include "wire/javaser.h"

/* Every class descriptor comes from the build's generated table (versions.h).  Which Scala
 * collection classes stand for a Seq or a Map depends on the Scala binary:
 *   2.12: List -> List$SerializationProxy (elements, ListSerializeEnd$), Nil shared;
 *         Map  -> HashMap$SerializationProxy (size, k, v, ...).
 *   2.13: List -> DefaultSerializationProxy(ToFactory(List$), -1, elements, SerializeEnd$),
 *         Nil -> DefaultSerializationProxy(.., 0), shared;
 *         Map  -> DefaultSerializationProxy(MapFactory.ToFactory(HashMap$), size, Tuple2...);
 *         Scala objects (List$, SerializeEnd$, Spark 4's case-object messages) are written as
 *         ModuleSerializationProxy(classOf[X$]), once per stream, then back-referenced.
 * (scala/scala: collection/generic/DefaultSerializationProxy.scala, runtime/
 * ModuleSerializationProxy.java; 2.12: immutable/List.scala, immutable/HashMap.scala.) */

/* Identity keys for the objects the JVM writes once and back-references afterwards. */
static const char key_nil, key_list_end, key_list_module, key_hashmap_module, key_serialize_end;

static const struct jclass *cls(const struct spark_build *b, enum spark_class c)
{
	return &b->cls[c];
}

static void write_str(struct jwriter *w, const char *s)
{
	if (s)
		jwriter_string(w, s, strlen(s));
	else
		jwriter_null(w);
}

static void write_i32_block(struct jwriter *w, int32_t v)
{
	uint32_t u = (uint32_t)v;
	uint8_t n[4] = { (uint8_t)(u >> 24), (uint8_t)(u >> 16), (uint8_t)(u >> 8), (uint8_t)u };

	jwriter_block(w, n, 4);   /* out.writeInt(v) inside writeObject */
}

/* A Scala 2.13 object, through its writeReplace: ModuleSerializationProxy(classOf[X$]). */
static void write_module_213(struct jwriter *w, const struct spark_build *b, enum spark_class module,
			     const void *key)
{
	if (key && jwriter_shared(w, key))
		return;
	uint32_t h = jwriter_object(w, cls(b, CLS_MODULE_PROXY));
	if (key)
		jwriter_remember(w, key, h);
	jwriter_class(w, cls(b, module));
}

/* Starts a Seq of len elements; returns 1 when it was a back-reference (nothing to add). */
static int seq_begin(struct jwriter *w, const struct spark_build *b, size_t len)
{
	uint32_t h;

	if (len == 0 && jwriter_shared(w, &key_nil))
		return 1;
	if (spark_build_is_scala212(b)) {
		h = jwriter_object(w, cls(b, CLS_LIST_PROXY_212));
	} else {
		h = jwriter_object(w, cls(b, CLS_DEFAULT_PROXY));
		jwriter_object(w, cls(b, CLS_ITERABLE_TO_FACTORY));
		write_module_213(w, b, CLS_LIST_MODULE, &key_list_module);
		write_i32_block(w, len ? -1 : 0);   /* List.knownSize: unknown unless empty */
	}
	if (len == 0)
		jwriter_remember(w, &key_nil, h);
	return 0;
}

static void seq_end(struct jwriter *w, const struct spark_build *b, size_t len)
{
	if (spark_build_is_scala212(b)) {
		if (!jwriter_shared(w, &key_list_end))
			jwriter_remember(w, &key_list_end, jwriter_object(w, cls(b, CLS_LIST_END_212)));
	} else if (len) {
		write_module_213(w, b, CLS_SERIALIZE_END, &key_serialize_end);
	}
	jwriter_end_block(w);
}

static void write_strlist(struct jwriter *w, const struct spark_build *b, const struct strlist *l)
{
	if (seq_begin(w, b, l->len))
		return;
	for (size_t i = 0; i < l->len; i++)
		write_str(w, l->items[i]);
	seq_end(w, b, l->len);
}

static void write_strmap(struct jwriter *w, const struct spark_build *b, const struct strmap *m)
{
	int scala212 = spark_build_is_scala212(b);

	if (scala212) {
		jwriter_object(w, cls(b, CLS_HASHMAP_PROXY_212));
	} else {
		jwriter_object(w, cls(b, CLS_DEFAULT_PROXY));
		jwriter_object(w, cls(b, CLS_MAP_TO_FACTORY));
		write_module_213(w, b, CLS_HASHMAP_MODULE, &key_hashmap_module);
	}
	write_i32_block(w, (int32_t)m->len);
	for (size_t i = 0; i < m->len; i++) {
		if (!scala212)
			jwriter_object(w, cls(b, CLS_TUPLE2));
		write_str(w, m->keys[i]);
		write_str(w, m->values[i]);
	}
	jwriter_end_block(w);
}

/* The classes a build's messages need; an incomplete table row is a build error. */
static int build_usable(const struct spark_build *b)
{
	static const enum spark_class common[] = {
		CLS_REQUEST_SUBMIT_DRIVER, CLS_DRIVER_DESCRIPTION, CLS_COMMAND, CLS_RESOURCE_REQUIREMENT,
		CLS_REQUEST_KILL_DRIVER, CLS_REQUEST_DRIVER_STATUS,
	};
	static const enum spark_class scala212[] = { CLS_LIST_PROXY_212, CLS_LIST_END_212, CLS_HASHMAP_PROXY_212 };
	static const enum spark_class scala213[] = {
		CLS_DEFAULT_PROXY, CLS_ITERABLE_TO_FACTORY, CLS_MAP_TO_FACTORY, CLS_MODULE_PROXY,
		CLS_LIST_MODULE, CLS_HASHMAP_MODULE, CLS_SERIALIZE_END, CLS_TUPLE2,
	};
	int is212 = spark_build_is_scala212(b);
	const enum spark_class *scala = is212 ? scala212 : scala213;
	size_t nscala = is212 ? sizeof(scala212) / sizeof(scala212[0]) : sizeof(scala213) / sizeof(scala213[0]);

	for (size_t i = 0; i < sizeof(common) / sizeof(common[0]); i++)
		if (!spark_build_has(b, common[i]))
			return 0;
	for (size_t i = 0; i < nscala; i++)
		if (!spark_build_has(b, scala[i]))
			return 0;
	return 1;
}

static int finish(struct jwriter *w)
{
	return w->err;
}

int deploy_write_submit(struct buf *out, const struct spark_build *b, const struct driver_desc *d)
{
	struct jwriter w;

	if (!build_usable(b))
		return ERR_UNSUPPORTED;
	jwriter_init(&w, out);
	jwriter_header(&w);
	jwriter_object(&w, cls(b, CLS_REQUEST_SUBMIT_DRIVER));
	jwriter_object(&w, cls(b, CLS_DRIVER_DESCRIPTION));
	jwriter_i32(&w, d->cores);
	jwriter_i32(&w, d->mem_mb);
	jwriter_bool(&w, d->supervise);
	jwriter_object(&w, cls(b, CLS_COMMAND));
	write_strlist(&w, b, &d->arguments);
	write_strlist(&w, b, &d->class_path);
	write_strmap(&w, b, &d->environment);
	write_strlist(&w, b, &d->java_opts);
	write_strlist(&w, b, &d->library_path);
	write_str(&w, d->main_class);
	write_str(&w, d->jar_url);
	if (!seq_begin(&w, b, d->nresources)) {
		for (size_t i = 0; i < d->nresources; i++) {
			jwriter_object(&w, cls(b, CLS_RESOURCE_REQUIREMENT));
			jwriter_i32(&w, d->resources[i].amount);
			jwriter_i32(&w, d->resources[i].num_parts);
			write_str(&w, d->resources[i].name);
		}
		seq_end(&w, b, d->nresources);
	}
	return finish(&w);
}

static int write_driver_id_message(struct buf *out, const struct spark_build *b, enum spark_class c,
				   const char *driver_id)
{
	struct jwriter w;

	if (!build_usable(b))
		return ERR_UNSUPPORTED;
	jwriter_init(&w, out);
	jwriter_header(&w);
	jwriter_object(&w, cls(b, c));
	write_str(&w, driver_id);
	return finish(&w);
}

int deploy_write_kill(struct buf *out, const struct spark_build *b, const char *driver_id)
{
	return write_driver_id_message(out, b, CLS_REQUEST_KILL_DRIVER, driver_id);
}

int deploy_write_status(struct buf *out, const struct spark_build *b, const char *driver_id)
{
	return write_driver_id_message(out, b, CLS_REQUEST_DRIVER_STATUS, driver_id);
}

int deploy_write_object_message(struct buf *out, const struct spark_build *b, enum spark_class c)
{
	struct jwriter w;

	if (!build_usable(b) || !spark_build_has(b, c) || spark_build_is_scala212(b))
		return ERR_UNSUPPORTED;
	jwriter_init(&w, out);
	jwriter_header(&w);
	write_module_213(&w, b, c, NULL);
	return finish(&w);
}

int deploy_write_master_state(struct buf *out, const struct spark_build *b)
{
	struct jwriter w;

	if (!build_usable(b) || !spark_build_has(b, CLS_REQUEST_MASTER_STATE))
		return ERR_UNSUPPORTED;
	jwriter_init(&w, out);
	jwriter_header(&w);
	if (spark_build_is_scala212(b))   /* the module itself: no fields, readResolve */
		jwriter_object(&w, cls(b, CLS_REQUEST_MASTER_STATE));
	else
		write_module_213(&w, b, CLS_REQUEST_MASTER_STATE, NULL);
	return finish(&w);
}

int deploy_write_probe(struct buf *out, const struct spark_build *b)
{
	struct jwriter w;
	int32_t n = 0;

	if (!build_usable(b) || !spark_build_has(b, CLS_OBJECT_ARRAY))
		return ERR_UNSUPPORTED;
	for (int c = 0; c < SPARK_NCLASSES; c++)
		n += c != CLS_OBJECT_ARRAY && spark_build_has(b, (enum spark_class)c);
	jwriter_init(&w, out);
	jwriter_header(&w);
	jwriter_array(&w, cls(b, CLS_OBJECT_ARRAY), n);
	for (int c = 0; c < SPARK_NCLASSES; c++)
		if (c != CLS_OBJECT_ARRAY && spark_build_has(b, (enum spark_class)c))
			jwriter_class(&w, cls(b, (enum spark_class)c));
	return finish(&w);
}

/* ---- replies ---------------------------------------------------------------------------- */

const char *driver_state_name(int state)
{
	static const char *const names[DRIVER_NSTATES] = {
		"SUBMITTED", "RUNNING", "FINISHED", "RELAUNCHING", "UNKNOWN", "KILLED", "FAILED", "ERROR"
	};

	return state >= 0 && state < DRIVER_NSTATES ? names[state] : NULL;
}

/* *dst = a copy of s (NULL stays NULL); the first failure is kept in *rc. */
static void dup_into(char **dst, const char *s, int *rc)
{
	*dst = s && !*rc ? strdup(s) : NULL;
	if (s && !*dst && !*rc)
		*rc = ERR_NOMEM;
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
		rc = rc ? rc : buf_printf(out, "%s/", loader);
		prefix = 1;
	}
	if (module && *module) {
		rc = rc ? rc : buf_addstr(out, module);
		if (!(bits & 2) && mver && *mver)
			rc = rc ? rc : buf_printf(out, "@%s", mver);
		rc = rc ? rc : buf_addc(out, '/');
		prefix = 1;
	}
	(void)prefix;
	rc = rc ? rc : buf_printf(out, "%s.%s(", cls ? cls : "null", method ? method : "null");
	if (ln == -2)
		rc = rc ? rc : buf_addstr(out, "Native Method)");
	else if (file && ln >= 0)
		rc = rc ? rc : buf_printf(out, "%s:%lld)", file, (long long)ln);
	else if (file)
		rc = rc ? rc : buf_printf(out, "%s)", file);
	else
		rc = rc ? rc : buf_addstr(out, "Unknown Source)");
	return rc;
}

/* Whether the object's class is cls or extends it. */
static int extends_class(const struct jvalue *v, const char *cls)
{
	if (!v || v->kind != JV_OBJECT)
		return 0;
	for (size_t k = 0; k < v->u.obj.ncd; k++)
		if (strcmp(v->u.obj.cd[k].desc->name, cls) == 0)
			return 1;
	return 0;
}

/* ": " + Throwable.getMessage() as the JDK computes it, nothing when it is null.  Most
 * exceptions return detailMessage; some build the message from fields of their own:
 * java.nio.file.FileSystemException and its subclasses (NoSuchFileException, ...: file,
 * " -> " other, ": " reason) and java.io.InvalidClassException (classname "; " message). */
static int throwable_message(const struct jvalue *t, struct buf *out)
{
	const char *detail = jvalue_str(jvalue_field_obj(t, "detailMessage"));

	if (extends_class(t, "java.nio.file.FileSystemException")) {
		const char *file = jvalue_str(jvalue_field_obj(t, "file"));
		const char *other = jvalue_str(jvalue_field_obj(t, "other"));
		int rc;

		if (!file && !other)
			return detail ? buf_printf(out, ": %s", detail) : 0;
		rc = buf_printf(out, ": %s", file ? file : "");
		if (!rc && other)
			rc = buf_printf(out, " -> %s", other);
		if (!rc && detail)
			rc = buf_printf(out, ": %s", detail);
		return rc;
	}
	if (extends_class(t, "java.io.InvalidClassException")) {
		const char *cls = jvalue_str(jvalue_field_obj(t, "classname"));

		if (cls)
			return buf_printf(out, ": %s; %s", cls, detail ? detail : "null");
	}
	return detail ? buf_printf(out, ": %s", detail) : 0;
}

/* Spark's RestServlet.formatException: s"$e\n" + frames.map("\t" + _).mkString("\n").
 * t NULL is a Throwable nobody described.  0 with the text in *text, or ERR_NOMEM /
 * ERR_TOO_LARGE (longer than LIMIT_THROWABLE_TEXT). */
static int format_throwable(const struct jvalue *t, char **text)
{
	struct buf out = BUF_INIT(LIMIT_THROWABLE_TEXT);
	const struct jvalue *frames = jvalue_field_obj(t, "stackTrace");
	int rc = buf_addstr(&out, jvalue_class_name(t) ? jvalue_class_name(t) : "java.lang.Throwable");

	rc = rc ? rc : throwable_message(t, &out);
	rc = rc ? rc : buf_addc(&out, '\n');
	if (frames && frames->kind == JV_ARRAY) {
		for (size_t i = 0; i < frames->u.arr.len && !rc; i++) {
			if (i)
				rc = buf_addc(&out, '\n');
			rc = rc ? rc : buf_addc(&out, '\t');
			rc = rc ? rc : format_frame(&out, frames->u.arr.items[i].obj);
		}
	}
	*text = rc ? NULL : buf_detach(&out, NULL);
	if (!rc && !*text)
		rc = ERR_NOMEM;
	buf_release(&out);
	return rc;
}

void deploy_reply_release(struct deploy_reply *r)
{
	for (size_t i = 0; i < r->nmarks; i++) {
		free(r->marks[i].driver_id);
		free(r->marks[i].token);
	}
	free(r->marks);
	free(r->driver_id);
	free(r->message);
	free(r->worker_id);
	free(r->worker_host_port);
	free(r->exception);
	memset(r, 0, sizeof(*r));
}

const char *deploy_reply_find_token(const struct deploy_reply *r, const char *token)
{
	for (size_t i = 0; r->kind == REPLY_MASTER_STATE && i < r->nmarks; i++)
		if (strcmp(r->marks[i].token, token) == 0)
			return r->marks[i].driver_id;
	return NULL;
}

/* The last token option among the strings of a Seq (javaOpts): whatever collection class
 * holds them (2.12's List$SerializationProxy, 2.13's DefaultSerializationProxy, an array),
 * its elements are strings in its annotations or items, in order.  Bounded by depth. */
static const char *last_token(const struct jvalue *v, int depth)
{
	const char *found = NULL, *t;

	if (!v || depth > 4)
		return NULL;
	if (v->kind == JV_STRING)
		return strncmp(v->u.str.s, DEPLOY_TOKEN_OPTION, sizeof(DEPLOY_TOKEN_OPTION) - 1) == 0
			? v->u.str.s + sizeof(DEPLOY_TOKEN_OPTION) - 1 : NULL;
	if (v->kind == JV_ARRAY) {
		for (size_t i = 0; i < v->u.arr.len; i++)
			if ((t = last_token(v->u.arr.items[i].obj, depth + 1)) != NULL)
				found = t;
	} else if (v->kind == JV_OBJECT) {
		for (size_t k = 0; k < v->u.obj.ncd; k++)
			for (size_t i = 0; i < v->u.obj.cd[k].nannot; i++)
				if ((t = last_token(v->u.obj.cd[k].annot[i], depth + 1)) != NULL)
					found = t;
	}
	return found;
}

/* MasterStateResponse (DeployMessages.scala): status (RecoveryState, a Scala Enumeration:
 * STANDBY, ALIVE, RECOVERING, COMPLETING_RECOVERY), activeDrivers and completedDrivers
 * (DriverInfo: id, desc: DriverDescription, not transient in any supported minor).  The
 * drivers whose desc.command.javaOpts carry a token are kept as marks. */
static int read_master_state(const struct jvalue *v, struct deploy_reply *r, struct sg_err *e)
{
	static const char *const arrays[] = { "activeDrivers", "completedDrivers" };
	const struct jslot *status = jvalue_field(jvalue_field_obj(v, "status"), "i");
	size_t max = 0;
	int rc = 0;

	r->kind = REPLY_MASTER_STATE;
	r->success = status && status->i == 1;   /* ALIVE */
	for (size_t a = 0; a < 2; a++) {
		const struct jvalue *arr = jvalue_field_obj(v, arrays[a]);

		if (!arr || arr->kind != JV_ARRAY)
			return sg_err_set(e, ERR_PROTOCOL, 0, "MasterStateResponse without %s", arrays[a]);
		max += arr->u.arr.len;
	}
	if (max && !(r->marks = calloc(max, sizeof(*r->marks))))
		return sg_err_set(e, ERR_NOMEM, 0, "out of memory");
	for (size_t a = 0; a < 2 && !rc; a++) {
		const struct jvalue *arr = jvalue_field_obj(v, arrays[a]);

		for (size_t i = 0; i < arr->u.arr.len && !rc; i++) {
			const struct jvalue *d = arr->u.arr.items[i].obj;
			const char *id = jvalue_str(jvalue_field_obj(d, "id"));
			const struct jvalue *cmd = jvalue_field_obj(jvalue_field_obj(d, "desc"), "command");
			const char *token = last_token(jvalue_field_obj(cmd, "javaOpts"), 0);

			if (!id || !token)
				continue;
			dup_into(&r->marks[r->nmarks].driver_id, id, &rc);
			dup_into(&r->marks[r->nmarks].token, token, &rc);
			r->nmarks++;
		}
	}
	return rc ? sg_err_set(e, rc, 0, "out of memory") : 0;
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
		dup_into(&r->driver_id, option_str(jvalue_field_obj(v, "driverId")), &rc);
		dup_into(&r->message, jvalue_str(jvalue_field_obj(v, "message")), &rc);
	} else if (strcmp(cls, "org.apache.spark.deploy.DeployMessages$KillDriverResponse") == 0) {
		const struct jslot *ok = jvalue_field(v, "success");

		r->kind = REPLY_KILL;
		r->success = ok && ok->i;
		dup_into(&r->driver_id, jvalue_str(jvalue_field_obj(v, "driverId")), &rc);
		dup_into(&r->message, jvalue_str(jvalue_field_obj(v, "message")), &rc);
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
		dup_into(&r->worker_id, option_str(jvalue_field_obj(v, "workerId")), &rc);
		dup_into(&r->worker_host_port, option_str(jvalue_field_obj(v, "workerHostPort")), &rc);
		if (!rc && ex)
			rc = format_throwable(ex, &r->exception);
	} else if (strcmp(cls, "org.apache.spark.deploy.DeployMessages$KillAllDriversResponse") == 0) {
		const struct jslot *ok = jvalue_field(v, "success");

		r->kind = REPLY_KILL_ALL;
		r->success = ok && ok->i;
		dup_into(&r->message, jvalue_str(jvalue_field_obj(v, "message")), &rc);
	} else if (strcmp(cls, "org.apache.spark.deploy.DeployMessages$MasterStateResponse") == 0) {
		rc = read_master_state(v, r, e);
	} else if (strcmp(cls, "java.lang.Boolean") == 0) {
		const struct jslot *b = jvalue_field(v, "value");

		r->kind = REPLY_BOOLEAN;
		r->success = b && b->i;
	} else if (strcmp(cls, "org.apache.spark.rpc.netty.RpcFailure") == 0) {
		const struct jvalue *ex = jvalue_field_obj(v, "e");

		r->kind = REPLY_FAILURE;
		rc = format_throwable(ex, &r->exception);
	} else {
		rc = sg_err_set(e, ERR_PROTOCOL, 0, "unexpected reply of class %s", cls);
	}
	if (rc && e && !e->code)
		sg_err_set(e, rc, 0, "reading the master's reply: %s", sg_err_name(rc));
out:
	jstream_release(&s);
	if (rc)
		deploy_reply_release(r);
	return rc;
}
