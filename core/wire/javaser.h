/* Java Object Serialization (protocol version 2, stream version 5): a writer that reproduces
 * what java.io.ObjectOutputStream emits for the objects sparkgate sends, and a bounded
 * generic reader for what the master sends back.
 *
 * Grammar: Java Object Serialization Specification, chapter 6; the details that matter for
 * Spark (handles, class-data order, Scala proxies) are in ../shared/spec/rpc-protocol.md §4.
 * Byte-for-byte agreement with the JVM is tested against tests/golden/ (tools/golden/). */
#ifndef SG_JAVASER_H
#define SG_JAVASER_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/limits.h"

#define JSER_MAGIC 0xACED
#define JSER_VERSION 5
#define JSER_BASE_HANDLE 0x7E0000u

enum {
	TC_NULL = 0x70, TC_REFERENCE = 0x71, TC_CLASSDESC = 0x72, TC_OBJECT = 0x73,
	TC_STRING = 0x74, TC_ARRAY = 0x75, TC_CLASS = 0x76, TC_BLOCKDATA = 0x77,
	TC_ENDBLOCKDATA = 0x78, TC_RESET = 0x79, TC_BLOCKDATALONG = 0x7A, TC_EXCEPTION = 0x7B,
	TC_LONGSTRING = 0x7C, TC_PROXYCLASSDESC = 0x7D, TC_ENUM = 0x7E,
};

enum {
	SC_WRITE_METHOD = 0x01, SC_SERIALIZABLE = 0x02, SC_EXTERNALIZABLE = 0x04,
	SC_BLOCK_DATA = 0x08, SC_ENUM = 0x10,
};

/* ---- writer ---------------------------------------------------------------------------- */

/* A field of a class descriptor.  code is a Java type code ('I', 'Z', 'L', '[', ...);
 * sig is the JVM signature for object fields ("Ljava/lang/String;") and NULL otherwise. */
struct jclass_field {
	char code;
	const char *name;
	const char *sig;
};

/* A class descriptor as the JVM writes it.  Fields must be in the JVM's order (primitives
 * first, each group sorted by name), which is also the order values are written in. */
struct jclass {
	const char *name;
	int64_t uid;
	uint8_t flags;
	uint16_t nfields;
	const struct jclass_field *fields;
	const struct jclass *super;
};

#define JWRITER_MEMO_MAX 64

/* Writes one serialization stream into out.  The writer keeps the JVM's handle numbering and
 * back-references what the JVM back-references: class descriptors, the interned field
 * signature strings, and objects the caller marks as shared (e.g. Scala singletons).  Value
 * strings are always written anew.  Errors are sticky in w->err. */
struct jwriter {
	struct buf *out;
	uint32_t next_handle;
	int err;
	size_t nmemo;
	struct {
		const void *key;      /* a jclass, a shared-object key, or NULL for a signature */
		const char *sig;
		uint32_t handle;
	} memo[JWRITER_MEMO_MAX];
};

void jwriter_init(struct jwriter *w, struct buf *out);
/* AC ED 00 05 */
void jwriter_header(struct jwriter *w);
/* TC_OBJECT + class descriptor; the object's handle is assigned.  The caller then writes the
 * class data: primitive values, object values, annotations (see jwriter_end_block). */
uint32_t jwriter_object(struct jwriter *w, const struct jclass *cls);
/* If the object identified by key was written before, writes TC_REFERENCE to it and returns
 * 1; otherwise returns 0 and the caller writes it and calls jwriter_remember(w, key, h). */
int jwriter_shared(struct jwriter *w, const void *key);
void jwriter_remember(struct jwriter *w, const void *key, uint32_t handle);
/* TC_CLASS + class descriptor (a java.lang.Class value). */
void jwriter_class(struct jwriter *w, const struct jclass *cls);
/* TC_ARRAY + class descriptor + length; the caller then writes len elements. */
void jwriter_array(struct jwriter *w, const struct jclass *cls, int32_t len);
/* A java.lang.String from UTF-8 text (converted to modified UTF-8). */
void jwriter_string(struct jwriter *w, const char *utf8, size_t len);
void jwriter_null(struct jwriter *w);
void jwriter_i32(struct jwriter *w, int32_t v);
void jwriter_bool(struct jwriter *w, int v);
/* Block data inside a writeObject annotation (what out.writeInt() produces there). */
void jwriter_block(struct jwriter *w, const void *p, size_t n);
/* TC_ENDBLOCKDATA: closes a class annotation or an object annotation. */
void jwriter_end_block(struct jwriter *w);

/* ---- reader ---------------------------------------------------------------------------- */

/* Limits applied to every stream read (the stream comes from the network). */
#define JREAD_MAX_DEPTH 48
#define JREAD_MAX_HANDLES 65536
#define JREAD_MAX_FIELDS 1024
#define JREAD_MAX_ARRAY 1000000

enum jvalue_kind { JV_NULL, JV_STRING, JV_OBJECT, JV_ARRAY, JV_CLASS, JV_ENUM, JV_DESC, JV_BLOCK };

struct jvalue;

struct jfield {
	char code;
	char *name;
	char *sig;
};

struct jdesc {
	char *name;
	int64_t uid;
	uint8_t flags;
	uint16_t nfields;
	struct jfield *fields;
	struct jdesc *super;
};

/* One field value: primitives in i (integers, chars, booleans) or d (float, double). */
struct jslot {
	int64_t i;
	double d;
	struct jvalue *obj;
};

/* The data one class in an object's hierarchy contributed. */
struct jclassdata {
	struct jdesc *desc;
	struct jslot *slots;      /* desc->nfields entries */
	struct jvalue **annot;    /* objects and blocks written by writeObject */
	size_t nannot;
};

struct jvalue {
	enum jvalue_kind kind;
	union {
		struct { char *s; size_t len; } str;      /* JV_STRING: UTF-8, NUL-terminated */
		struct {
			struct jdesc *desc;
			struct jclassdata *cd;            /* top-most serializable superclass first */
			size_t ncd;
		} obj;
		struct {
			struct jdesc *desc;
			struct jslot *items;
			size_t len;
		} arr;
		struct jdesc *cls;                        /* JV_CLASS, JV_DESC */
		struct { struct jdesc *desc; struct jvalue *name; } en;
		struct { const uint8_t *p; size_t len; } block;
	} u;
};

struct jarena;

/* A parsed stream: its arena owns every node. */
struct jstream {
	struct jarena *arena;
	struct jvalue **contents;
	size_t ncontents;
};

/* Parses a whole stream (magic, version, contents).  On error returns a negative code with
 * details in e (may be NULL); s is then empty and needs no release. */
int jstream_parse(struct jstream *s, const void *p, size_t len, struct sg_err *e);
void jstream_release(struct jstream *s);

/* Tree helpers; each tolerates NULL and the wrong kind (returns NULL / 0). */
const char *jvalue_class_name(const struct jvalue *v);
/* Finds a field by name in the object's class data, most-derived class first. */
const struct jslot *jvalue_field(const struct jvalue *v, const char *name);
const struct jvalue *jvalue_field_obj(const struct jvalue *v, const char *name);
const char *jvalue_str(const struct jvalue *v);
int jvalue_is(const struct jvalue *v, const char *class_name);

#endif
