/* Long runs of legal-but-pointless input, megabytes of it, fed to every reader of outside
 * bytes.  This binary is built at -O0 (Makefile: bounds_O0_test), where no tail call becomes
 * a jump and every frame is large: a reader bounded only because the optimiser removed its
 * recursion crashes here.  Each input must end in a clean answer or a clean error. */
#include <stdlib.h>
#include <string.h>

#include "spark/deploy.h"
#include "wire/frame.h"
#include "wire/javaser.h"
#include "spark/rest.h"
#include "spark/submit.h"
#include "bytes.h"
#include "spark/javalang.h"
#include "t.h"

#define MIB (1u << 20)

static void header(struct bytes *b)
{
	b->len = 0;
	put_u16(b, JSER_MAGIC);
	put_u16(b, JSER_VERSION);
}

/* java.lang.Boolean TRUE as ObjectOutputStream writes it: the reply to readyz. */
static void put_boolean(struct bytes *b)
{
	put_u8(b, TC_OBJECT);
	put_u8(b, TC_CLASSDESC);
	put_utf(b, "java.lang.Boolean");
	put_u32(b, 0xCD207280);
	put_u32(b, 0xD59CFAEE);
	put_u8(b, SC_SERIALIZABLE);
	put_u16(b, 1);
	put_u8(b, 'Z');
	put_utf(b, "value");
	put_u8(b, TC_ENDBLOCKDATA);
	put_u8(b, TC_NULL);
	put_u8(b, 1);
}

/* An object of class name with one Object field "o" and a writeObject annotation. */
static void put_holder_desc(struct bytes *b, const char *name)
{
	put_u8(b, TC_CLASSDESC);
	put_utf(b, name);
	put_u32(b, 0);
	put_u32(b, 1);
	put_u8(b, SC_SERIALIZABLE | SC_WRITE_METHOD);
	put_u16(b, 1);
	put_u8(b, 'L');
	put_utf(b, "o");
	put_u8(b, TC_STRING);
	put_utf(b, "Ljava/lang/Object;");
	put_u8(b, TC_ENDBLOCKDATA);
	put_u8(b, TC_NULL);
}

static int parse(const struct bytes *b, struct jstream *s, struct sg_err *e)
{
	sg_err_clear(e);
	return jstream_parse(s, b->p, b->len, e);
}

/* Millions of TC_RESET: legal between top-level objects (ObjectInputStream loops over
 * them), so the reply after them is read; inside an object they are an error. */
static void test_resets(void)
{
	struct bytes b = { 0 };
	struct jstream s;
	struct sg_err e;
	struct deploy_reply r;

	header(&b);
	put_run(&b, TC_RESET, 4 * MIB);
	put_boolean(&b);
	CHECK(parse(&b, &s, &e) == 0 && s.ncontents == 1, "4 Mi resets, then a Boolean: %s", e.msg);
	jstream_release(&s);
	CHECK(deploy_read_reply(b.p, b.len, &r, &e) == 0 && r.kind == REPLY_BOOLEAN && r.success,
	      "the reply after the resets: %s", e.msg);
	deploy_reply_release(&r);

	/* 15 MiB of resets and nothing else: the stream ends without an object */
	header(&b);
	put_run(&b, TC_RESET, 15 * MIB);
	CHECK(parse(&b, &s, &e) == ERR_TRUNCATED, "only resets: %d %s", e.code, e.msg);

	/* resets where an object's field value belongs */
	header(&b);
	put_u8(&b, TC_OBJECT);
	put_holder_desc(&b, "H");
	put_run(&b, TC_RESET, 2 * MIB);
	put_u8(&b, TC_NULL);
	put_u8(&b, TC_ENDBLOCKDATA);
	CHECK(parse(&b, &s, &e) == ERR_PROTOCOL && strstr(e.msg, "reset"), "reset in a field: %d %s", e.code, e.msg);

	/* ... and inside an object's annotation */
	header(&b);
	put_u8(&b, TC_OBJECT);
	put_holder_desc(&b, "H");
	put_u8(&b, TC_NULL);
	put_run(&b, TC_RESET, 2 * MIB);
	put_u8(&b, TC_ENDBLOCKDATA);
	CHECK(parse(&b, &s, &e) == ERR_PROTOCOL, "reset in an annotation: %d %s", e.code, e.msg);
	free(b.p);
}

/* Other runs: each element is legal, their number is what is hostile. */
static void test_long_runs(void)
{
	struct bytes b = { 0 };
	struct jstream s;
	struct sg_err e;
	int rc;

	/* 15 Mi top-level nulls: one content each, more tree than the arena allows */
	header(&b);
	put_run(&b, TC_NULL, 15 * MIB);
	rc = parse(&b, &s, &e);
	CHECK(rc == ERR_TOO_LARGE, "15 Mi nulls: %d %s", rc, e.msg);

	/* 3 Mi references to one string */
	header(&b);
	put_u8(&b, TC_STRING);
	put_utf(&b, "x");
	for (size_t i = 0; i < 3 * MIB; i++) {
		put_u8(&b, TC_REFERENCE);
		put_u32(&b, JSER_BASE_HANDLE);
	}
	rc = parse(&b, &s, &e);
	CHECK(rc == 0 || rc == ERR_TOO_LARGE, "3 Mi references: %d %s", rc, e.msg);
	if (rc == 0)
		jstream_release(&s);

	/* 4 Mi empty block-data records in one annotation */
	header(&b);
	put_u8(&b, TC_OBJECT);
	put_holder_desc(&b, "H");
	put_u8(&b, TC_NULL);
	for (size_t i = 0; i < 4 * MIB; i++) {
		put_u8(&b, TC_BLOCKDATA);
		put_u8(&b, 0);
	}
	put_u8(&b, TC_ENDBLOCKDATA);
	rc = parse(&b, &s, &e);
	CHECK(rc == 0 || rc == ERR_TOO_LARGE, "4 Mi empty blocks: %d %s", rc, e.msg);
	if (rc == 0)
		jstream_release(&s);

	/* 1 Mi nested objects (each one's field holds the next): the depth limit stops it */
	header(&b);
	put_u8(&b, TC_OBJECT);
	put_holder_desc(&b, "H");
	for (size_t i = 0; i < MIB; i++) {
		put_u8(&b, TC_OBJECT);
		put_u8(&b, TC_REFERENCE);
		put_u32(&b, JSER_BASE_HANDLE);   /* H's descriptor: the first handle */
	}
	rc = parse(&b, &s, &e);
	CHECK(rc == ERR_TOO_LARGE && strstr(e.msg, "deep"), "1 Mi nested objects: %d %s", rc, e.msg);

	/* 1 Mi nested one-element Object[] arrays */
	header(&b);
	put_u8(&b, TC_ARRAY);
	put_u8(&b, TC_CLASSDESC);
	put_utf(&b, "[Ljava.lang.Object;");
	put_u32(&b, 0x90CE589F);
	put_u32(&b, 0x1073296C);
	put_u8(&b, SC_SERIALIZABLE);
	put_u16(&b, 0);
	put_u8(&b, TC_ENDBLOCKDATA);
	put_u8(&b, TC_NULL);
	put_u32(&b, 1);
	for (size_t i = 0; i < MIB; i++) {
		put_u8(&b, TC_ARRAY);
		put_u8(&b, TC_REFERENCE);
		put_u32(&b, JSER_BASE_HANDLE);
		put_u32(&b, 1);
	}
	rc = parse(&b, &s, &e);
	CHECK(rc == ERR_TOO_LARGE && strstr(e.msg, "deep"), "1 Mi nested arrays: %d %s", rc, e.msg);

	/* a superclass chain of 1 Mi descriptors */
	header(&b);
	put_u8(&b, TC_OBJECT);
	for (size_t i = 0; i < MIB; i++) {
		put_u8(&b, TC_CLASSDESC);
		put_utf(&b, "C");
		put_u32(&b, 0);
		put_u32(&b, (uint32_t)i);
		put_u8(&b, SC_SERIALIZABLE);
		put_u16(&b, 0);
		put_u8(&b, TC_ENDBLOCKDATA);
	}
	rc = parse(&b, &s, &e);
	CHECK(rc == ERR_TOO_LARGE && strstr(e.msg, "deep"), "1 Mi superclasses: %d %s", rc, e.msg);
	free(b.p);
}

/* A 15 MiB frame of one reply: within LIMIT_FRAME, parsed whole. */
static void test_big_frame(void)
{
	struct bytes b = { 0 };
	struct buf f = BUF_INIT(LIMIT_FRAME);
	struct frame fr;
	struct sg_err e = { 0 };
	ssize_t used;

	header(&b);
	put_run(&b, TC_RESET, 15 * MIB);
	put_boolean(&b);
	CHECK(frame_write_rpc_request(&f, 7, b.p, b.len) == 0, "frame of %zu bytes", b.len);
	used = frame_parse(f.data, f.len, LIMIT_FRAME, &fr, &e);
	CHECK(used == (ssize_t)f.len && fr.body_len == b.len, "parsed %zd of %zu: %s", used, f.len, e.msg);
	buf_release(&f);
	free(b.p);
}

/* JSON: a megabyte of '[' (the depth pre-check answers before jansson recurses), and the
 * command-line splitter over a megabyte of quotes. */
/* The rules of a minor whose Jackson has no nesting limit (3.3, 3.4): sparkgate's own holds. */
static const struct rest_rules no_jackson_limit = { 1, 0, 1 };

static void test_json_and_words(void)
{
	size_t n = 4 * MIB;
	char *body = malloc(n + 1);
	struct create_request cr;
	struct rest_error err;
	struct strlist words;

	memset(body, '[', n);
	body[n] = '\0';
	create_request_init(&cr);
	rest_error_init(&err);
	CHECK(rest_parse_create(body, n, &no_jackson_limit, &cr, &err) != 0 && err.status == 400, "4 MiB of [: %d %s", err.status,
	      buf_str(&err.message));
	create_request_release(&cr);
	rest_error_release(&err);

	memset(body, '"', n);
	strlist_init(&words);
	CHECK(java_split_command(body, &words) == 0, "4 MiB of quotes");
	strlist_release(&words);
	for (size_t i = 0; i < n; i += 2)
		body[i] = ' ';
	strlist_init(&words);
	CHECK(java_split_command(body, &words) == 0 && words.len > 0, "2 Mi short words: %zu", words.len);
	strlist_release(&words);
	free(body);
}

int main(void)
{
	test_resets();
	test_long_runs();
	test_big_frame();
	test_json_and_words();
#ifdef __OPTIMIZE__
	return t_done("bounds");
#else
	return t_done("bounds (-O0)");
#endif
}
