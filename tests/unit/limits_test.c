/* Every documented limit on outside bytes, hit just past its value (README "Limits"):
 * the Java serialization reader's nesting depth, handle count, fields per class and array
 * length; frames from the master; JSON nesting depth and entries per create field.  Each
 * must fail cleanly with an error, and the same input just under the limit must pass. */
#include <stdlib.h>
#include <string.h>

#include "wire/frame.h"
#include "wire/javaser.h"
#include "spark/rest.h"
#include "spark/versions.h"
#include "bytes.h"
#include "t.h"


/* A class descriptor for name with nfields int fields (f0, f1, ...), no superclass. */
static void put_desc(struct bytes *b, const char *name, unsigned nfields)
{
	char field[16];

	put_u8(b, 0x72);                 /* TC_CLASSDESC */
	put_utf(b, name);
	put_u32(b, 0);
	put_u32(b, 1);                   /* serialVersionUID 1 */
	put_u8(b, 0x02);                 /* SC_SERIALIZABLE */
	put_u16(b, nfields);
	for (unsigned i = 0; i < nfields; i++) {
		put_u8(b, 'I');
		snprintf(field, sizeof(field), "f%u", i);
		put_utf(b, field);
	}
	put_u8(b, 0x78);                 /* TC_ENDBLOCKDATA */
	put_u8(b, 0x70);                 /* no superclass */
}

static int parse(const struct bytes *b, struct sg_err *e)
{
	struct jstream s;
	int rc = jstream_parse(&s, b->p, b->len, e);

	if (rc == 0)
		jstream_release(&s);
	return rc;
}

static void start(struct bytes *b)
{
	b->len = 0;
	put_u16(b, 0xACED);
	put_u16(b, 5);
}

/* Object[] inside Object[] ... n deep. */
static int nested_arrays(unsigned n, struct sg_err *e)
{
	struct bytes b = { 0 };
	int rc;

	start(&b);
	put_u8(&b, 0x75);                /* TC_ARRAY */
	put_desc(&b, "[Ljava.lang.Object;", 0);
	put_u32(&b, 1);
	for (unsigned i = 1; i < n; i++) {
		put_u8(&b, 0x75);
		put_u8(&b, 0x71);        /* TC_REFERENCE to the descriptor */
		put_u32(&b, 0x7E0000);
		put_u32(&b, 1);
	}
	put_u8(&b, 0x70);                /* innermost element: null */
	rc = parse(&b, e);
	free(b.p);
	return rc;
}

/* A String[] of n strings: n + 2 handles. */
static int many_handles(unsigned n, struct sg_err *e)
{
	struct bytes b = { 0 };
	int rc;

	start(&b);
	put_u8(&b, 0x75);
	put_desc(&b, "[Ljava.lang.String;", 0);
	put_u32(&b, n);
	for (unsigned i = 0; i < n; i++) {
		put_u8(&b, 0x74);        /* TC_STRING */
		put_utf(&b, "s");
	}
	rc = parse(&b, e);
	free(b.p);
	return rc;
}

static int object_with_fields(unsigned n, struct sg_err *e)
{
	struct bytes b = { 0 };
	int rc;

	start(&b);
	put_u8(&b, 0x73);                /* TC_OBJECT */
	put_desc(&b, "X", n);
	for (unsigned i = 0; i < n; i++)
		put_u32(&b, i);
	rc = parse(&b, e);
	free(b.p);
	return rc;
}

/* An int[] that declares length n and holds n ints. */
static int int_array(uint32_t n, struct sg_err *e)
{
	struct bytes b = { 0 };
	int rc;

	start(&b);
	put_u8(&b, 0x75);
	put_desc(&b, "[I", 0);
	put_u32(&b, n);
	for (uint32_t i = 0; i < n; i++)
		put_u32(&b, i);
	rc = parse(&b, e);
	free(b.p);
	return rc;
}

static void test_java_serialization_limits(void)
{
	struct sg_err e = { 0 };

	CHECK(nested_arrays(JREAD_MAX_DEPTH - 2, &e) == 0, "depth under the limit: %s", e.msg);
	CHECK(nested_arrays(JREAD_MAX_DEPTH + 2, &e) < 0, "depth over the limit accepted");
	CHECK(many_handles(JREAD_MAX_HANDLES - 10, &e) == 0, "handles under the limit: %s", e.msg);
	CHECK(many_handles(JREAD_MAX_HANDLES + 10, &e) < 0, "handles over the limit accepted");
	CHECK(object_with_fields(JREAD_MAX_FIELDS, &e) == 0, "fields at the limit: %s", e.msg);
	CHECK(object_with_fields(JREAD_MAX_FIELDS + 1, &e) < 0, "fields over the limit accepted");
	CHECK(int_array(1000, &e) == 0, "int[1000]: %s", e.msg);
	CHECK(int_array(JREAD_MAX_ARRAY + 1, &e) < 0, "array over the limit accepted");
}

static void test_frame_limit(void)
{
	uint8_t head[21] = { 0 };
	struct frame f;
	struct sg_err e = { 0 };
	uint64_t n = LIMIT_FRAME + 1;

	for (int i = 0; i < 8; i++)
		head[i] = (uint8_t)(n >> (56 - 8 * i));
	head[8] = FRAME_RPC_RESPONSE;
	CHECK(frame_parse(head, sizeof(head), LIMIT_FRAME, &f, &e) < 0, "frame over the limit accepted");
	n = LIMIT_FRAME;
	for (int i = 0; i < 8; i++)
		head[i] = (uint8_t)(n >> (56 - 8 * i));
	CHECK(frame_parse(head, sizeof(head), LIMIT_FRAME, &f, &e) == 0, "frame at the limit: needs more input");
}

static int create_for(const char *release, const char *json, size_t len, struct rest_error *err)
{
	struct create_request cr;
	int rc;

	create_request_init(&cr);
	rest_error_release(err);
	rest_error_init(err);
	rc = rest_parse_create(json, len, &spark_build_find(release)->rest, &cr, err);
	create_request_release(&cr);
	return rc;
}

static int create_with(const char *json, size_t len, struct rest_error *err)
{
	return create_for("3.5.9", json, len, err);
}

/* A create nested depth deep in an unknown field. */
static size_t nested_create(char *json, int depth)
{
	size_t n = (size_t)sprintf(json, "{\"action\":\"CreateSubmissionRequest\",\"x\":");

	memset(json + n, '[', (size_t)depth - 1);
	n += (size_t)depth - 1;
	memset(json + n, ']', (size_t)depth - 1);
	n += (size_t)depth - 1;
	json[n++] = '}';
	return n;
}

/* Spark 3.3 and 3.4 (Jackson 2.13, 2.14) have no nesting limit: 1001 is read like Spark
 * reads it; sparkgate's own limit (jansson's is fixed) is a 400 of its own. */
static void test_json_depth_without_jackson_limit(void)
{
	struct rest_error err;
	char *json = malloc(1 << 20);
	size_t n;

	rest_error_init(&err);
	for (size_t i = 0; i < 2; i++) {
		const char *release = i ? "3.4.4" : "3.3.4";

		CHECK(spark_build_find(release)->rest.max_depth == 0, "%s has a nesting limit", release);
		n = nested_create(json, REST_MAX_DEPTH + 1);
		create_for(release, json, n, &err);
		CHECK(strstr(buf_str(&err.message), "Validation of message CreateSubmissionRequest failed"),
		      "%s depth 1001: %s", release, buf_str(&err.message));
		n = nested_create(json, REST_OWN_MAX_DEPTH);
		create_for(release, json, n, &err);
		CHECK(strstr(buf_str(&err.message), "nests deeper") == NULL, "%s depth %d refused", release,
		      REST_OWN_MAX_DEPTH);
		n = nested_create(json, REST_OWN_MAX_DEPTH + 1);
		create_for(release, json, n, &err);
		CHECK(err.status == 400 && strstr(buf_str(&err.message), "nests deeper than sparkgate's limit of 2000"),
		      "%s depth %d: %d %s", release, REST_OWN_MAX_DEPTH + 1, err.status, buf_str(&err.message));
	}
	rest_error_release(&err);
	free(json);
}

static void test_json_limits(void)
{
	struct rest_error err;
	char *json = malloc(1 << 20);
	size_t n;

	rest_error_init(&err);
	/* nesting: Spark's Jackson allows 1000 */
	for (int depth = REST_MAX_DEPTH; depth <= REST_MAX_DEPTH + 1; depth++) {
		n = nested_create(json, depth);
		create_with(json, n, &err);
		if (depth == REST_MAX_DEPTH)
			CHECK(strstr(buf_str(&err.message), "nesting depth") == NULL, "depth %d refused", depth);
		else
			CHECK(err.status == 400 && strstr(buf_str(&err.message), "StreamConstraintsException: Document "
							  "nesting depth (1001) exceeds the maximum allowed (1000"),
			      "depth %d: %d %s", depth, err.status, buf_str(&err.message));
	}
	/* brackets inside strings are not nesting */
	n = (size_t)sprintf(json, "{\"action\":\"CreateSubmissionRequest\",\"x\":\"");
	memset(json + n, '[', 5000);
	n += 5000;
	n += (size_t)sprintf(json + n, "\\\"\"}");
	create_with(json, n, &err);
	CHECK(strstr(buf_str(&err.message), "nesting depth") == NULL, "brackets in a string counted");
	/* entries per field */
	for (int count = REST_MAX_ITEMS; count <= REST_MAX_ITEMS + 1; count++) {
		n = (size_t)sprintf(json, "{\"action\":\"CreateSubmissionRequest\",\"appArgs\":[");
		for (int i = 0; i < count; i++)
			n += (size_t)sprintf(json + n, "%s\"a\"", i ? "," : "");
		n += (size_t)sprintf(json + n, "]}");
		create_with(json, n, &err);
		if (count == REST_MAX_ITEMS)
			CHECK(err.status != 413, "%d appArgs refused", count);
		else
			CHECK(err.status == 413 && strstr(buf_str(&err.message), "appArgs has more than 10000"),
			      "%d appArgs: %d %s", count, err.status, buf_str(&err.message));
	}
	rest_error_release(&err);
	free(json);
}

int main(void)
{
	test_java_serialization_limits();
	test_frame_limit();
	test_json_limits();
	test_json_depth_without_jackson_limit();
	return t_done("limits_test");
}
