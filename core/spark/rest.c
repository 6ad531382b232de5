#include "spark/rest.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "spark/javalang.h"

#define PKG "org.apache.spark.deploy.rest."
#define MISSING_FIELD PKG "SubmitRestMissingFieldException"
#define PROTOCOL_EXC PKG "SubmitRestProtocolException"

void rest_error_init(struct rest_error *e)
{
	e->status = 0;
	buf_init(&e->message, 1u << 20);
}

void rest_error_release(struct rest_error *e)
{
	buf_release(&e->message);
}

int rest_fail(struct rest_error *e, int status, const char *fmt, ...)
{
	va_list ap;
	char tmp[1024];

	if (e->status)
		return -1;
	e->status = status;
	va_start(ap, fmt);
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	buf_reset(&e->message);
	if (buf_addstr(&e->message, tmp))
		e->status = 500;   /* the message is lost: what is left to say is "out of memory" */
	return -1;
}

void rest_fail_append(struct rest_error *e, const void *p, size_t n)
{
	if (buf_add(&e->message, p, n))
		e->status = 500;
}

void create_request_init(struct create_request *r)
{
	memset(r, 0, sizeof(*r));
}

void create_request_release(struct create_request *r)
{
	free(r->app_resource);
	free(r->main_class);
	free(r->client_spark_version);
	strlist_release(&r->app_args);
	strmap_release(&r->spark_properties);
	strmap_release(&r->environment);
	strlist_release(&r->unknown_fields);
	create_request_init(r);
}

/* ---- parsing ------------------------------------------------------------------------------ */

/* "Malformed request: " + RestServlet.formatException(e) without JVM frames. */
static int malformed(struct rest_error *err, const char *exception, const char *msg)
{
	return rest_fail(err, 400, "Malformed request: %s: %s\n", exception, msg);
}

static int validation_failed(struct rest_error *err, const char *message_type)
{
	return rest_fail(err, 400, "Malformed request: " PROTOCOL_EXC ": Validation of message %s failed!\n",
			 message_type);
}

/* Jackson coerces scalars into String fields; objects and arrays are a type mismatch. */
static int scalar_text(const json_t *v, char *tmp, size_t n, const char **out)
{
	switch (json_typeof(v)) {
	case JSON_STRING:
		/* C strings end at NUL; refuse rather than truncate (sparkgate limit). */
		if (strlen(json_string_value(v)) != json_string_length(v))
			return -1;
		*out = json_string_value(v);
		return 0;
	case JSON_TRUE: *out = "true"; return 0;
	case JSON_FALSE: *out = "false"; return 0;
	case JSON_INTEGER: snprintf(tmp, n, "%" JSON_INTEGER_FORMAT, json_integer_value(v)); *out = tmp; return 0;
	case JSON_REAL: snprintf(tmp, n, "%.17g", json_real_value(v)); *out = tmp; return 0;
	case JSON_NULL: *out = NULL; return 0;
	default: return -1;
	}
}

static int mismatch(struct rest_error *err, const char *type, const char *field)
{
	char msg[300];

	snprintf(msg, sizeof(msg), "Cannot deserialize value of type `%s` for property \"%s\"", type, field);
	return malformed(err, "com.fasterxml.jackson.databind.exc.MismatchedInputException", msg);
}

static int bind_string(const json_t *v, const char *field, char **out, struct rest_error *err)
{
	char tmp[64];
	const char *s;

	if (scalar_text(v, tmp, sizeof(tmp), &s))
		return mismatch(err, "java.lang.String", field);
	free(*out);
	*out = s ? strdup(s) : NULL;
	return s && !*out ? rest_fail(err, 500, "out of memory") : 0;
}

static int bind_strings(const json_t *v, const char *field, struct strlist *out, int *has,
			struct rest_error *err)
{
	size_t i;
	json_t *item;

	strlist_release(out);
	*has = 0;
	if (json_is_null(v))
		return 0;
	if (!json_is_array(v))
		return mismatch(err, "[Ljava.lang.String;", field);
	if (json_array_size(v) > REST_MAX_ITEMS)
		return rest_fail(err, 413, "Malformed request: %s has more than %d entries (sparkgate limit)",
				 field, REST_MAX_ITEMS);
	json_array_foreach(v, i, item) {
		char tmp[64];
		const char *s;

		if (scalar_text(item, tmp, sizeof(tmp), &s))
			return mismatch(err, "java.lang.String", field);
		if (!s) /* Spark would carry a null into the driver's command and fail later */
			return malformed(err, "java.lang.NullPointerException", "null entry in appArgs");
		if (strlist_add(out, s))
			return rest_fail(err, 500, "out of memory");
	}
	*has = 1;
	return 0;
}

static int bind_map(const json_t *v, const char *field, struct strmap *out, int *has, struct rest_error *err)
{
	const char *key;
	json_t *val;

	strmap_release(out);
	*has = 0;
	if (json_is_null(v))
		return 0;
	if (!json_is_object(v))
		return mismatch(err, "scala.collection.immutable.Map", field);
	if (json_object_size(v) > REST_MAX_ITEMS)
		return rest_fail(err, 413, "Malformed request: %s has more than %d entries (sparkgate limit)",
				 field, REST_MAX_ITEMS);
	json_object_foreach((json_t *)v, key, val) {
		char tmp[64];
		const char *s;

		if (scalar_text(val, tmp, sizeof(tmp), &s))
			return mismatch(err, "java.lang.String", field);
		if (!s) { /* SparkConf.set: "null value for " + key */
			char msg[300];

			snprintf(msg, sizeof(msg), "null value for %s", key);
			return malformed(err, "java.lang.NullPointerException", msg);
		}
		if (strmap_set(out, key, s))
			return rest_fail(err, 500, "out of memory");
	}
	*has = 1;
	return 0;
}

/* Scala's StringOps.toBoolean. */
static int is_boolean(const char *s)
{
	return strcasecmp(s, "true") == 0 || strcasecmp(s, "false") == 0;
}

/* java.lang.Double.parseDouble: trims chars <= ' ', optional sign, NaN, Infinity,
 * decimal or hex floating literals with an optional f/F/d/D suffix. */
static int is_java_double(const char *s)
{
	const char *p = s, *end = s + strlen(s);
	int digits = 0;

	while (p < end && (unsigned char)*p <= ' ')
		p++;
	while (end > p && (unsigned char)end[-1] <= ' ')
		end--;
	if (p < end && (*p == '+' || *p == '-'))
		p++;
	if ((size_t)(end - p) == 3 && strncmp(p, "NaN", 3) == 0)
		return 1;
	if ((size_t)(end - p) == 8 && strncmp(p, "Infinity", 8) == 0)
		return 1;
	if (end > p && strchr("fFdD", end[-1]))
		end--;
	if (end - p > 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		int hex = 0;

		p += 2;
		while (p < end && strchr("0123456789abcdefABCDEF", *p)) p++, hex++;
		if (p < end && *p == '.')
			for (p++; p < end && strchr("0123456789abcdefABCDEF", *p); p++) hex++;
		if (!hex || p >= end || (*p != 'p' && *p != 'P'))
			return 0;
		p++;
		if (p < end && (*p == '+' || *p == '-'))
			p++;
		if (p >= end)
			return 0;
		while (p < end && *p >= '0' && *p <= '9') p++;
		return p == end;
	}
	while (p < end && *p >= '0' && *p <= '9') p++, digits++;
	if (p < end && *p == '.')
		for (p++; p < end && *p >= '0' && *p <= '9'; p++) digits++;
	if (!digits)
		return 0;
	if (p < end && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < end && (*p == '+' || *p == '-'))
			p++;
		if (p >= end || *p < '0' || *p > '9')
			return 0;
		while (p < end && *p >= '0' && *p <= '9') p++;
	}
	return p == end;
}

/* CreateSubmissionRequest.doValidate, read from the bytecode: Spark 3.x checks action,
 * clientSparkVersion, sparkProperties, appResource, appArgs, environmentVariables,
 * spark.app.name, then the typed properties; Spark 4 no longer requires appArgs,
 * environmentVariables and spark.app.name (buildDriverDescription defaults them). */
static int validate_create(struct create_request *r, const struct rest_rules *rules, struct rest_error *err)
{
	static const struct { const char *key; int kind; } typed[] = {
		{ "spark.driver.supervise", 'b' }, { "spark.driver.cores", 'n' },
		{ "spark.cores.max", 'n' }, { "spark.driver.memory", 'm' },
		{ "spark.executor.memory", 'm' },
	};

	if (!r->client_spark_version || !r->has_properties || !r->app_resource)
		return validation_failed(err, "CreateSubmissionRequest");
	if (rules->requires_defaults && (!r->has_app_args || !r->has_environment
			|| !strmap_get(&r->spark_properties, "spark.app.name")))
		return validation_failed(err, "CreateSubmissionRequest");
	for (size_t i = 0; i < sizeof(typed) / sizeof(typed[0]); i++) {
		const char *v = strmap_get(&r->spark_properties, typed[i].key);
		int mb, ok;

		if (!v)
			continue;
		ok = typed[i].kind == 'b' ? is_boolean(v) : typed[i].kind == 'n' ? is_java_double(v)
										: java_memory_mb(v, &mb) == 0;
		if (!ok)
			return validation_failed(err, "CreateSubmissionRequest");
	}
	return 0;
}

/* Jackson binds these; Spark reports every other top-level key in unknownFields. */
static const char *const create_fields[] = {
	"action", "appArgs", "appResource", "clientSparkVersion", "environmentVariables",
	"mainClass", "message", "sparkProperties",
};

/* Other message classes Spark's fromJson would bind (then validate, then reject as
 * "unexpected type"), with the fields their validate() requires. */
static const struct {
	const char *action;
	const char *required[3];
} other_messages[] = {
	{ "CreateSubmissionResponse", { "serverSparkVersion", "success" } },
	{ "KillSubmissionResponse", { "serverSparkVersion", "submissionId", "success" } },
	{ "SubmissionStatusResponse", { "serverSparkVersion", "submissionId", "success" } },
	{ "ErrorResponse", { "serverSparkVersion", "message" } },
};

static size_t utf8_seq(const unsigned char *s, size_t left);

/* Offset of the first byte that is not part of valid UTF-8, or len. */
static size_t first_malformed(const char *s, size_t len)
{
	size_t i = 0, n;

	while (i < len && (n = utf8_seq((const unsigned char *)s + i, len - i)))
		i += n;
	return i;
}

/* Spark 4's decoding of such a body: each malformed byte becomes U+FFFD. */
static int replace_malformed(const char *s, size_t len, struct buf *out)
{
	for (size_t i = 0, n; i < len; i += n) {
		n = utf8_seq((const unsigned char *)s + i, len - i);
		if (n ? buf_add(out, s + i, n) : (n = 1, buf_add(out, "\xEF\xBF\xBD", 3)))
			return -1;
	}
	return 0;
}

static int parse_create(const char *body, size_t len, const struct rest_rules *rules,
			struct create_request *r, struct rest_error *err);

/* The deepest nesting of arrays and objects in a JSON text, counted like a parser would
 * (brackets inside strings do not count); stops counting past limit. */
static size_t json_depth(const char *s, size_t len, size_t limit)
{
	size_t depth = 0, deepest = 0;
	int in_string = 0;

	for (size_t i = 0; i < len && deepest <= limit; i++) {
		char c = s[i];

		if (in_string) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_string = 0;
		} else if (c == '"') {
			in_string = 1;
		} else if (c == '[' || c == '{') {
			if (++depth > deepest)
				deepest = depth;
		} else if ((c == ']' || c == '}') && depth) {
			depth--;
		}
	}
	return deepest;
}

int rest_parse_create(const char *body, size_t len, const struct rest_rules *rules,
		      struct create_request *r, struct rest_error *err)
{
	struct buf decoded = BUF_INIT(3 * len + 1);
	int rc;

	/* SubmitRequestServlet.doPost decodes the body as UTF-8 before anything else: up to 4.2
	 * with scala.io.Source, which fails on a malformed byte (Java's decoder mostly reports
	 * it as length 1); 4.3's readRequestBody with new String(bytes, UTF_8), which replaces
	 * each with U+FFFD. */
	if (first_malformed(body, len) == len)
		return parse_create(body, len, rules, r, err);
	if (!rules->replaces_malformed)
		return malformed(err, "java.nio.charset.MalformedInputException", "Input length = 1");
	if (replace_malformed(body, len, &decoded))
		rc = rest_fail(err, 500, "out of memory");
	else
		rc = parse_create((const char *)decoded.data, decoded.len, rules, r, err);
	buf_release(&decoded);
	return rc;
}

/* jansson cannot always tell running out of memory from bad input (a string it fails to
 * copy is reported as a syntax error), so its allocations come through here, which notes a
 * failure during the parse in progress.  (One parse at a time: a process serves one request
 * at a time.) */
static int json_out_of_memory;

static void *json_malloc_noting(size_t n)
{
	void *p = malloc(n);

	if (!p)
		json_out_of_memory = 1;
	return p;
}

static int parse_create(const char *body, size_t len, const struct rest_rules *rules,
			struct create_request *r, struct rest_error *err)
{
	json_error_t jerr;
	json_t *root, *val, *action;
	const char *key;
	int rc = -1;
	size_t limit = rules->max_depth > 0 ? (size_t)rules->max_depth : REST_OWN_MAX_DEPTH;

	if (json_depth(body, len, limit) > limit) {
		char msg[200];

		if (rules->max_depth <= 0)   /* Spark's Jackson has no limit; jansson has one */
			return rest_fail(err, 400, "Malformed request: the JSON nests deeper than sparkgate's "
					 "limit of %d levels.", REST_OWN_MAX_DEPTH);
		snprintf(msg, sizeof(msg), "Document nesting depth (%zu) exceeds the maximum allowed (%zu, from "
			 "`StreamReadConstraints.getMaxNestingDepth()`)", limit + 1, limit);
		return malformed(err, "com.fasterxml.jackson.core.exc.StreamConstraintsException", msg);
	}
	/* Jackson (ObjectMapper.readValue) stops after the first value; what follows is ignored. */
	json_set_alloc_funcs(json_malloc_noting, free);
	json_out_of_memory = 0;
	root = json_loadb(body, len, JSON_DECODE_ANY | JSON_ALLOW_NUL | JSON_DISABLE_EOF_CHECK, &jerr);
	if (json_out_of_memory) {
		json_decref(root);
		return rest_fail(err, 500, "out of memory");
	}
	if (!root) {
		char msg[400];

		if (len == 0 || jerr.position == 0 || strstr(jerr.text, "end of file"))
			snprintf(msg, sizeof(msg), "No content to map due to end-of-input");
		else
			snprintf(msg, sizeof(msg), "%s at line %d, column %d", jerr.text, jerr.line, jerr.column);
		/* json4s (parseAction) rejects it before Jackson sees it. */
		return malformed(err, "com.fasterxml.jackson.core.JsonParseException", msg);
	}
	action = json_is_object(root) ? json_object_get(root, "action") : NULL;
	if (!json_is_string(action)) {
		rest_fail(err, 400, "Malformed request: " MISSING_FIELD ": Action field not found in JSON:\n");
		rest_fail_append(err, body, len);
		rest_fail_append(err, "\n", 1);
		goto out;
	}
	if (strcmp(json_string_value(action), "CreateSubmissionRequest") != 0) {
		const char *a = json_string_value(action);

		for (size_t i = 0; i < sizeof(other_messages) / sizeof(other_messages[0]); i++) {
			if (strcmp(a, other_messages[i].action) != 0)
				continue;
			for (size_t k = 0; k < 3 && other_messages[i].required[k]; k++) {
				json_t *f = json_object_get(root, other_messages[i].required[k]);

				if (!f || json_is_null(f)) {
					validation_failed(err, a);
					goto out;
				}
			}
			rest_fail(err, 400, "Received message of unexpected type %s.", a);
			goto out;
		}
		/* Spark: ClassNotFoundException escapes the servlet (HTTP 500, not JSON). */
		rest_fail(err, 400, "Malformed request: java.lang.ClassNotFoundException: " PKG "%s\n", a);
		goto out;
	}
	json_object_foreach(root, key, val) {
		int known = 0;

		for (size_t i = 0; i < sizeof(create_fields) / sizeof(create_fields[0]); i++)
			known |= strcmp(key, create_fields[i]) == 0;
		/* A known field sent as null disappears when Spark re-serializes the request,
		 * so Spark reports it as unknown too. */
		if ((!known || json_is_null(val)) && strlist_add(&r->unknown_fields, key)) {
			rest_fail(err, 500, "out of memory");
			goto out;
		}
		if (!known)
			continue;
		if ((strcmp(key, "appResource") == 0 && bind_string(val, key, &r->app_resource, err))
		    || (strcmp(key, "mainClass") == 0 && bind_string(val, key, &r->main_class, err))
		    || (strcmp(key, "clientSparkVersion") == 0 && bind_string(val, key, &r->client_spark_version, err))
		    || (strcmp(key, "appArgs") == 0 && bind_strings(val, key, &r->app_args, &r->has_app_args, err))
		    || (strcmp(key, "sparkProperties") == 0
			&& bind_map(val, key, &r->spark_properties, &r->has_properties, err))
		    || (strcmp(key, "environmentVariables") == 0
			&& bind_map(val, key, &r->environment, &r->has_environment, err)))
			goto out;
		if (strcmp(key, "message") == 0 && !json_is_null(val) && !json_is_string(val)
		    && (json_is_object(val) || json_is_array(val))) {
			mismatch(err, "java.lang.String", key);
			goto out;
		}
	}
	if (validate_create(r, rules, err))
		goto out;
	rc = 0;
out:
	json_decref(root);
	return rc;
}

/* ---- printing ----------------------------------------------------------------------------- */

/* Length of the valid UTF-8 sequence at s, or 0 if it is not one. */
static size_t utf8_seq(const unsigned char *s, size_t left)
{
	size_t n;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xE0) == 0xC0) { n = 2; cp = s[0] & 0x1Fu; }
	else if ((s[0] & 0xF0) == 0xE0) { n = 3; cp = s[0] & 0x0Fu; }
	else if ((s[0] & 0xF8) == 0xF0) { n = 4; cp = s[0] & 0x07u; }
	else return 0;
	if (n > left)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3Fu);
	}
	if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF))
	    || (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	return n;
}

int rest_json_string(struct buf *out, const char *s, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p = (const unsigned char *)s;
	int rc;

	if (!s)
		return 0;
	rc = buf_addc(out, '"');
	for (size_t i = 0; i < len && !rc;) {
		unsigned char c = p[i];
		size_t n;

		if (c == '"' || c == '\\') {
			char e[2] = { '\\', (char)c };

			rc = buf_add(out, e, 2);
			i++;
		} else if (c < 0x20) {
			const char *shorts = c == '\n' ? "\\n" : c == '\t' ? "\\t" : c == '\r' ? "\\r"
					   : c == '\b' ? "\\b" : c == '\f' ? "\\f" : NULL;
			char u[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };

			rc = shorts ? buf_addstr(out, shorts) : buf_add(out, u, 6);
			i++;
		} else if ((n = utf8_seq(p + i, len - i)) > 0) {
			rc = buf_add(out, p + i, n);
			i += n;
		} else {
			rc = buf_addstr(out, "\xEF\xBF\xBD");
			i++;
		}
	}
	return rc ? rc : buf_addc(out, '"');
}

int rest_print(struct buf *out, const struct rest_field *fields, size_t n)
{
	int rc = buf_addc(out, '{'), first = 1;

	for (size_t i = 0; i < n && !rc; i++) {
		const struct rest_field *f = &fields[i];

		if (((f->type == RF_STRING || f->type == RF_RAW) && !f->str) || (f->type == RF_STRINGS && !f->list))
			continue;
		rc = buf_addstr(out, first ? "\n  \"" : ",\n  \"");
		first = 0;
		rc = rc ? rc : buf_addstr(out, f->name);
		rc = rc ? rc : buf_addstr(out, "\" : ");
		if (rc)
			break;
		if (f->type == RF_STRING) {
			rc = rest_json_string(out, f->str, strlen(f->str));
		} else if (f->type == RF_RAW) {
			rc = buf_addstr(out, f->str);
		} else if (f->type == RF_BOOL) {
			rc = buf_addstr(out, f->boolean ? "true" : "false");
		} else {
			rc = buf_addstr(out, "[ ");
			for (size_t k = 0; k < f->list->len && !rc; k++) {
				rc = k ? buf_addstr(out, ", ") : 0;
				rc = rc ? rc : rest_json_string(out, f->list->items[k], strlen(f->list->items[k]));
			}
			rc = rc ? rc : buf_addstr(out, f->list->len ? " ]" : "]");
		}
	}
	return rc ? rc : buf_addstr(out, first ? " }" : "\n}");
}

const char *rest_peek_property(const char *body, size_t len, const char *key, char *out, size_t size,
			       int *too_long)
{
	json_t *root = json_loadb(body, len, JSON_DISABLE_EOF_CHECK, NULL);
	json_t *v = json_object_get(json_object_get(root, "sparkProperties"), key);
	const char *found = NULL;

	*too_long = json_is_string(v) && json_string_length(v) >= size;
	if (json_is_string(v) && !*too_long) {
		memcpy(out, json_string_value(v), json_string_length(v) + 1);
		found = out;
	}
	json_decref(root);
	return found;
}

int rest_print_error(struct buf *out, const char *message, const char *server_version, int version_mismatch)
{
	const struct rest_field f[] = {
		{ "action", RF_STRING, "ErrorResponse", 0, NULL },
		{ "highestProtocolVersion", RF_STRING, version_mismatch ? "v1" : NULL, 0, NULL },
		{ "message", RF_STRING, message, 0, NULL },
		{ "serverSparkVersion", RF_STRING, server_version, 0, NULL },
	};

	return rest_print(out, f, sizeof(f) / sizeof(f[0]));
}

/* The code point of a valid n-byte UTF-8 sequence at s that a reader may take as the end of
 * a line or a control (C1 controls U+0080..U+009F, NEL among them; U+2028, U+2029), else 0. */
static unsigned line_break(const unsigned char *s, size_t n)
{
	if (n == 2 && s[0] == 0xC2 && s[1] < 0xA0)
		return s[1];
	if (n == 3 && s[0] == 0xE2 && s[1] == 0x80 && (s[2] == 0xA8 || s[2] == 0xA9))
		return 0x2000u | (s[2] - 0x80u);
	return 0;
}

int rest_escape_text(struct buf *out, const char *text, size_t len)
{
	const unsigned char *s = (const unsigned char *)text;
	int rc = 0;

	for (size_t i = 0; i < len && !rc;) {
		size_t n = utf8_seq(s + i, len - i);

		if (n && line_break(s + i, n)) {
			rc = buf_printf(out, "\\u%04X", line_break(s + i, n));
			i += n;
		} else if (n && !(n == 1 && (s[i] < 0x20 || s[i] == 0x7F || s[i] == '\\'))) {
			rc = buf_add(out, s + i, n);
			i += n;
		} else {
			rc = buf_printf(out, "\\x%02X", s[i]);
			i++;
		}
	}
	return rc;
}
