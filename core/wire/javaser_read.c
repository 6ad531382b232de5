/* Generic, bounded Java serialization reader: see javaser.h.  Builds a tree of every
 * value in the stream in one arena; mirrors java.io.ObjectInputStream's handle numbering
 * (readOrdinaryObject, readNonProxyDesc, readString, readArray, readEnum). */
#include <stdlib.h>
#include <string.h>

#include "wire/javaser.h"
#include "wire/reader.h"

struct jarena {
	struct jarena_block *head;
	size_t used;
};

struct jarena_block {
	struct jarena_block *next;
	size_t len, cap;
	max_align_t data[];
};

/* n zeroed bytes, or NULL with *rc ERR_TOO_LARGE (past LIMIT_REPLY_ARENA) or ERR_NOMEM.
 * Counted in whole units, so a->used never passes the limit. */
static void *arena_alloc(struct jarena *a, size_t n, int *rc)
{
	struct jarena_block *b = a->head;
	size_t need = n / sizeof(max_align_t) + (n % sizeof(max_align_t) != 0);

	if (need > (LIMIT_REPLY_ARENA - a->used) / sizeof(max_align_t)) {
		*rc = ERR_TOO_LARGE;
		return NULL;
	}
	if (!b || b->cap - b->len < need) {
		size_t cap = need > 512 ? need : 512;

		b = malloc(sizeof(*b) + cap * sizeof(max_align_t));
		if (!b) {
			*rc = ERR_NOMEM;
			return NULL;
		}
		b->next = a->head;
		b->len = 0;
		b->cap = cap;
		a->head = b;
	}
	a->used += need * sizeof(max_align_t);
	void *p = &b->data[b->len];
	b->len += need;
	memset(p, 0, need * sizeof(max_align_t));
	return p;
}

static void arena_free(struct jarena *a)
{
	struct jarena_block *b = a ? a->head : NULL;

	while (b) {
		struct jarena_block *next = b->next;

		free(b);
		b = next;
	}
	free(a);
}

struct parser {
	struct reader r;
	struct jarena *arena;
	struct jvalue **handles;
	size_t nhandles, caphandles;
	struct sg_err *e;
	int err;
};

static int fail(struct parser *p, int code, const char *what)
{
	if (!p->err)
		p->err = code;
	sg_err_set(p->e, code, p->r.pos, "java serialization: %s at offset %zu", what, p->r.pos);
	return code;
}

static void *palloc(struct parser *p, size_t n)
{
	int rc = 0;
	void *v = arena_alloc(p->arena, n, &rc);

	if (!v)
		fail(p, rc, rc == ERR_NOMEM ? "out of memory" : "reply needs more memory than allowed");
	return v;
}

static struct jvalue *new_value(struct parser *p, enum jvalue_kind kind)
{
	struct jvalue *v = palloc(p, sizeof(*v));

	if (v)
		v->kind = kind;
	return v;
}

static int assign_handle(struct parser *p, struct jvalue *v)
{
	if (p->nhandles == p->caphandles) {
		size_t cap = p->caphandles ? p->caphandles * 2 : 64;
		struct jvalue **h;

		if (p->nhandles >= JREAD_MAX_HANDLES)
			return fail(p, ERR_TOO_LARGE, "too many handles");
		h = realloc(p->handles, cap * sizeof(*h));
		if (!h)
			return fail(p, ERR_NOMEM, "out of memory");
		p->handles = h;
		p->caphandles = cap;
	}
	p->handles[p->nhandles++] = v;
	return 0;
}

/* Modified UTF-8 (C0 80 for NUL, surrogates as 3-byte pairs) to UTF-8. */
static char *decode_mutf8(struct parser *p, const uint8_t *s, size_t n, size_t *outlen)
{
	char *out;
	size_t o = 0;

	if (n > (SIZE_MAX - 1) / 2)
		return fail(p, ERR_TOO_LARGE, "string too long"), NULL;
	out = palloc(p, n + 1);   /* never grows: every output sequence is <= its input */
	if (!out)
		return NULL;
	for (size_t i = 0; i < n;) {
		uint8_t c = s[i];

		if (c < 0x80) {
			out[o++] = (char)c;
			i++;
		} else if ((c & 0xE0) == 0xC0 && i + 1 < n && (s[i + 1] & 0xC0) == 0x80) {
			uint32_t cp = ((c & 0x1Fu) << 6) | (s[i + 1] & 0x3Fu);

			if (cp == 0) {
				out[o++] = '\0';
			} else {
				out[o++] = (char)c;
				out[o++] = (char)s[i + 1];
			}
			i += 2;
		} else if ((c & 0xF0) == 0xE0 && i + 2 < n && (s[i + 1] & 0xC0) == 0x80
			   && (s[i + 2] & 0xC0) == 0x80) {
			uint32_t cp = ((c & 0x0Fu) << 12) | ((s[i + 1] & 0x3Fu) << 6) | (s[i + 2] & 0x3Fu);

			if (cp >= 0xD800 && cp <= 0xDBFF && i + 5 < n && s[i + 3] == 0xED
			    && (s[i + 4] & 0xF0) == 0xB0 && (s[i + 5] & 0xC0) == 0x80) {
				uint32_t lo = ((s[i + 4] & 0x0Fu) << 6) | (s[i + 5] & 0x3Fu);
				uint32_t full = 0x10000 + ((cp - 0xD800) << 10) + (lo & 0x3FF);

				out[o++] = (char)(0xF0 | (full >> 18));
				out[o++] = (char)(0x80 | ((full >> 12) & 0x3F));
				out[o++] = (char)(0x80 | ((full >> 6) & 0x3F));
				out[o++] = (char)(0x80 | (full & 0x3F));
				i += 6;
			} else {
				memcpy(out + o, s + i, 3);
				o += 3;
				i += 3;
			}
		} else {
			return fail(p, ERR_INVALID, "malformed modified UTF-8"), NULL;
		}
	}
	out[o] = '\0';
	*outlen = o;
	return out;
}

static char *read_utf(struct parser *p)
{
	uint16_t n = reader_be16(&p->r);
	const uint8_t *s = reader_bytes(&p->r, n);
	size_t len;

	if (!s)
		return fail(p, ERR_TRUNCATED, "truncated name"), NULL;
	return decode_mutf8(p, s, n, &len);
}

static struct jvalue *read_value(struct parser *p, int depth);

static struct jvalue *read_string_body(struct parser *p, int longstr)
{
	uint64_t n = longstr ? reader_be64(&p->r) : reader_be16(&p->r);
	struct jvalue *v = new_value(p, JV_STRING);
	const uint8_t *s;

	if (!v || assign_handle(p, v))
		return NULL;
	if (p->r.err || n > reader_left(&p->r))
		return fail(p, ERR_TRUNCATED, "truncated string"), NULL;
	s = reader_bytes(&p->r, (size_t)n);
	v->u.str.s = decode_mutf8(p, s, (size_t)n, &v->u.str.len);
	return v->u.str.s ? v : NULL;
}

static struct jdesc *read_desc(struct parser *p, int depth);

/* classAnnotation / objectAnnotation: contents up to TC_ENDBLOCKDATA. */
static int read_annotation(struct parser *p, int depth, struct jvalue ***items, size_t *nitems)
{
	size_t cap = 0;

	*items = NULL;
	*nitems = 0;
	for (;;) {
		int tc = reader_peek(&p->r);
		struct jvalue *v;

		if (tc < 0)
			return fail(p, ERR_TRUNCATED, "unterminated annotation");
		if (tc == TC_ENDBLOCKDATA) {
			reader_u8(&p->r);
			return 0;
		}
		if (tc == TC_BLOCKDATA || tc == TC_BLOCKDATALONG) {
			size_t n;

			reader_u8(&p->r);
			n = tc == TC_BLOCKDATA ? reader_u8(&p->r) : reader_be32(&p->r);
			v = new_value(p, JV_BLOCK);
			if (!v)
				return p->err;
			v->u.block.p = reader_bytes(&p->r, n);
			v->u.block.len = n;
			if (!v->u.block.p)
				return fail(p, ERR_TRUNCATED, "truncated block data");
		} else {
			v = read_value(p, depth + 1);
			if (p->err)
				return p->err;
		}
		if (*nitems == cap) {
			size_t ncap = cap ? cap * 2 : 8;
			struct jvalue **n = palloc(p, ncap * sizeof(*n));

			if (!n)
				return p->err;
			if (cap)
				memcpy(n, *items, cap * sizeof(*n));
			*items = n;
			cap = ncap;
		}
		(*items)[(*nitems)++] = v;
	}
}

static struct jdesc *read_desc_body(struct parser *p, int depth)
{
	struct jdesc *d = palloc(p, sizeof(*d));
	struct jvalue *hv = new_value(p, JV_DESC);
	struct jvalue **annot;
	size_t nannot;

	if (!d || !hv)
		return NULL;
	hv->u.cls = d;
	d->name = read_utf(p);
	d->uid = (int64_t)reader_be64(&p->r);
	if (!d->name || assign_handle(p, hv))
		return NULL;
	d->flags = reader_u8(&p->r);
	d->nfields = reader_be16(&p->r);
	if (p->r.err)
		return fail(p, ERR_TRUNCATED, "truncated class descriptor"), NULL;
	if (d->nfields > JREAD_MAX_FIELDS)
		return fail(p, ERR_TOO_LARGE, "too many fields"), NULL;
	d->fields = d->nfields ? palloc(p, d->nfields * sizeof(*d->fields)) : NULL;
	if (d->nfields && !d->fields)
		return NULL;
	for (uint16_t i = 0; i < d->nfields; i++) {
		struct jfield *f = &d->fields[i];

		f->code = (char)reader_u8(&p->r);
		f->name = read_utf(p);
		if (!f->name)
			return NULL;
		if (f->code == 'L' || f->code == '[') {
			struct jvalue *sig = read_value(p, depth + 1);

			if (p->err)
				return NULL;
			if (!sig || sig->kind != JV_STRING)
				return fail(p, ERR_PROTOCOL, "field signature is not a string"), NULL;
			f->sig = sig->u.str.s;
		} else if (!strchr("BCDFIJSZ", f->code) || !f->code) {
			return fail(p, ERR_PROTOCOL, "unknown field type code"), NULL;
		}
	}
	if (read_annotation(p, depth, &annot, &nannot))
		return NULL;
	d->super = read_desc(p, depth + 1);
	return p->err ? NULL : d;
}

static struct jdesc *read_proxy_desc_body(struct parser *p, int depth)
{
	struct jdesc *d = palloc(p, sizeof(*d));
	struct jvalue *hv = new_value(p, JV_DESC);
	struct jvalue **annot;
	size_t nannot;
	uint32_t n;

	if (!d || !hv)
		return NULL;
	hv->u.cls = d;
	d->name = "<proxy>";
	d->flags = SC_SERIALIZABLE;
	if (assign_handle(p, hv))
		return NULL;
	n = reader_be32(&p->r);
	if (n > JREAD_MAX_FIELDS)
		return fail(p, ERR_TOO_LARGE, "too many proxy interfaces"), NULL;
	for (uint32_t i = 0; i < n; i++)
		if (!read_utf(p))
			return NULL;
	if (read_annotation(p, depth, &annot, &nannot))
		return NULL;
	d->super = read_desc(p, depth + 1);
	return p->err ? NULL : d;
}

/* classDesc := newClassDesc | TC_NULL | TC_REFERENCE to a class descriptor */
static struct jdesc *read_desc(struct parser *p, int depth)
{
	int tc = reader_u8(&p->r);

	if (p->r.err)
		return fail(p, ERR_TRUNCATED, "truncated class descriptor"), NULL;
	if (depth > JREAD_MAX_DEPTH)
		return fail(p, ERR_TOO_LARGE, "nesting too deep"), NULL;
	switch (tc) {
	case TC_NULL:
		return NULL;
	case TC_CLASSDESC:
		return read_desc_body(p, depth);
	case TC_PROXYCLASSDESC:
		return read_proxy_desc_body(p, depth);
	case TC_REFERENCE: {
		uint32_t h = reader_be32(&p->r) - JSER_BASE_HANDLE;

		if (p->r.err || h >= p->nhandles || p->handles[h]->kind != JV_DESC)
			return fail(p, ERR_PROTOCOL, "bad class descriptor reference"), NULL;
		return p->handles[h]->u.cls;
	}
	}
	return fail(p, ERR_PROTOCOL, "expected a class descriptor"), NULL;
}

static int read_prim(struct parser *p, char code, struct jslot *s)
{
	switch (code) {
	case 'B': s->i = (int8_t)reader_u8(&p->r); break;
	case 'Z': s->i = reader_u8(&p->r); break;
	case 'C': s->i = reader_be16(&p->r); break;
	case 'S': s->i = (int16_t)reader_be16(&p->r); break;
	case 'I': s->i = (int32_t)reader_be32(&p->r); break;
	case 'J': s->i = (int64_t)reader_be64(&p->r); break;
	case 'F': {
		uint32_t b = reader_be32(&p->r);
		float f;

		memcpy(&f, &b, sizeof(f));
		s->d = f;
		break;
	}
	case 'D': {
		uint64_t b = reader_be64(&p->r);

		memcpy(&s->d, &b, sizeof(s->d));
		break;
	}
	default:
		return fail(p, ERR_PROTOCOL, "bad primitive type");
	}
	return p->r.err ? fail(p, ERR_TRUNCATED, "truncated value") : 0;
}

static struct jvalue *read_object_body(struct parser *p, int depth)
{
	struct jvalue *v = new_value(p, JV_OBJECT);
	struct jdesc *chain[JREAD_MAX_DEPTH];
	size_t n = 0;

	if (!v)
		return NULL;
	v->u.obj.desc = read_desc(p, depth);
	if (p->err)
		return NULL;
	if (!v->u.obj.desc)
		return fail(p, ERR_PROTOCOL, "object without class"), NULL;
	if (assign_handle(p, v))
		return NULL;
	for (struct jdesc *d = v->u.obj.desc; d; d = d->super) {
		if (n == JREAD_MAX_DEPTH)
			return fail(p, ERR_TOO_LARGE, "class hierarchy too deep"), NULL;
		chain[n++] = d;
	}
	v->u.obj.cd = palloc(p, n * sizeof(*v->u.obj.cd));
	if (!v->u.obj.cd)
		return NULL;
	v->u.obj.ncd = n;
	for (size_t k = 0; k < n; k++) {
		struct jdesc *d = chain[n - 1 - k];     /* top-most superclass first */
		struct jclassdata *cd = &v->u.obj.cd[k];

		cd->desc = d;
		if (d->flags & SC_EXTERNALIZABLE) {
			if (!(d->flags & SC_BLOCK_DATA))
				return fail(p, ERR_UNSUPPORTED, "externalizable data without block mode"), NULL;
			if (read_annotation(p, depth, &cd->annot, &cd->nannot))
				return NULL;
			continue;
		}
		if (!(d->flags & SC_SERIALIZABLE))
			continue;
		cd->slots = d->nfields ? palloc(p, d->nfields * sizeof(*cd->slots)) : NULL;
		if (d->nfields && !cd->slots)
			return NULL;
		for (uint16_t i = 0; i < d->nfields; i++)
			if (d->fields[i].code != 'L' && d->fields[i].code != '['
			    && read_prim(p, d->fields[i].code, &cd->slots[i]))
				return NULL;
		for (uint16_t i = 0; i < d->nfields; i++) {
			if (d->fields[i].code == 'L' || d->fields[i].code == '[') {
				cd->slots[i].obj = read_value(p, depth + 1);
				if (p->err)
					return NULL;
			}
		}
		if ((d->flags & SC_WRITE_METHOD) && read_annotation(p, depth, &cd->annot, &cd->nannot))
			return NULL;
	}
	return v;
}

static struct jvalue *read_array_body(struct parser *p, int depth)
{
	struct jvalue *v = new_value(p, JV_ARRAY);
	uint32_t len;
	char code;

	if (!v)
		return NULL;
	v->u.arr.desc = read_desc(p, depth);
	if (p->err)
		return NULL;
	if (!v->u.arr.desc || v->u.arr.desc->name[0] != '[' || !v->u.arr.desc->name[1])
		return fail(p, ERR_PROTOCOL, "array without array class"), NULL;
	if (assign_handle(p, v))
		return NULL;
	len = reader_be32(&p->r);
	if (p->r.err)
		return fail(p, ERR_TRUNCATED, "truncated array"), NULL;
	if (len > JREAD_MAX_ARRAY || len > reader_left(&p->r))
		return fail(p, ERR_TOO_LARGE, "array too long"), NULL;
	code = v->u.arr.desc->name[1];
	v->u.arr.items = len ? palloc(p, len * sizeof(*v->u.arr.items)) : NULL;
	if (len && !v->u.arr.items)
		return NULL;
	v->u.arr.len = len;
	for (uint32_t i = 0; i < len; i++) {
		if (code == 'L' || code == '[') {
			v->u.arr.items[i].obj = read_value(p, depth + 1);
			if (p->err)
				return NULL;
		} else if (read_prim(p, code, &v->u.arr.items[i])) {
			return NULL;
		}
	}
	return v;
}

static struct jvalue *read_value(struct parser *p, int depth)
{
	int tc = reader_u8(&p->r);
	struct jvalue *v;

	/* ObjectInputStream.readObject0: resets are consumed in a loop, and only between
	 * top-level objects (handleReset: "unexpected reset; recursion depth"), so a run of
	 * them costs neither stack nor memory at any optimisation level. */
	while (tc == TC_RESET && !p->r.err) {
		if (depth > 0)
			return fail(p, ERR_PROTOCOL, "reset inside an object"), NULL;
		p->nhandles = 0;
		tc = reader_u8(&p->r);
	}
	if (p->r.err)
		return fail(p, ERR_TRUNCATED, "truncated stream"), NULL;
	if (depth > JREAD_MAX_DEPTH)
		return fail(p, ERR_TOO_LARGE, "nesting too deep"), NULL;
	switch (tc) {
	case TC_NULL:
		return NULL;
	case TC_REFERENCE: {
		uint32_t h = reader_be32(&p->r) - JSER_BASE_HANDLE;

		if (p->r.err || h >= p->nhandles)
			return fail(p, ERR_PROTOCOL, "bad reference"), NULL;
		return p->handles[h];
	}
	case TC_STRING:
	case TC_LONGSTRING:
		return read_string_body(p, tc == TC_LONGSTRING);
	case TC_OBJECT:
		return read_object_body(p, depth);
	case TC_ARRAY:
		return read_array_body(p, depth);
	case TC_CLASS:
		v = new_value(p, JV_CLASS);
		if (!v)
			return NULL;
		v->u.cls = read_desc(p, depth);
		if (p->err || assign_handle(p, v))
			return NULL;
		return v;
	case TC_ENUM:
		v = new_value(p, JV_ENUM);
		if (!v)
			return NULL;
		v->u.en.desc = read_desc(p, depth);
		if (p->err || assign_handle(p, v))
			return NULL;
		v->u.en.name = read_value(p, depth + 1);
		if (p->err)
			return NULL;
		if (!v->u.en.name || v->u.en.name->kind != JV_STRING)
			return fail(p, ERR_PROTOCOL, "enum constant name is not a string"), NULL;
		return v;
	case TC_CLASSDESC:
	case TC_PROXYCLASSDESC: {
		struct jdesc *d = tc == TC_CLASSDESC ? read_desc_body(p, depth) : read_proxy_desc_body(p, depth);

		if (p->err)
			return NULL;
		v = new_value(p, JV_DESC);
		if (v)
			v->u.cls = d;
		return v;
	}
	case TC_EXCEPTION:
		return fail(p, ERR_REMOTE, "writer aborted the stream with an exception"), NULL;
	}
	return fail(p, ERR_PROTOCOL, "unknown type code"), NULL;
}

int jstream_parse(struct jstream *s, const void *data, size_t len, struct sg_err *e)
{
	struct parser p = { .e = e };
	size_t cap = 0;

	memset(s, 0, sizeof(*s));
	reader_init(&p.r, data, len);
	p.arena = calloc(1, sizeof(*p.arena));
	if (!p.arena)
		return sg_err_set(e, ERR_NOMEM, 0, "out of memory");
	if (reader_be16(&p.r) != JSER_MAGIC || reader_be16(&p.r) != JSER_VERSION) {
		fail(&p, p.r.err ? ERR_TRUNCATED : ERR_PROTOCOL, "bad stream header");
		goto out;
	}
	while (!p.err && reader_left(&p.r) > 0) {
		struct jvalue *v = read_value(&p, 0);

		if (!p.err && p.r.err)
			fail(&p, ERR_TRUNCATED, "truncated stream");
		if (p.err)
			break;
		if (s->ncontents == cap) {
			size_t ncap = cap ? cap * 2 : 4;
			struct jvalue **n = palloc(&p, ncap * sizeof(*n));

			if (!n)
				break;
			if (cap)
				memcpy(n, s->contents, cap * sizeof(*n));
			s->contents = n;
			cap = ncap;
		}
		s->contents[s->ncontents++] = v;
	}
out:
	free(p.handles);
	if (p.err) {
		arena_free(p.arena);
		memset(s, 0, sizeof(*s));
		return p.err;
	}
	s->arena = p.arena;
	return 0;
}

void jstream_release(struct jstream *s)
{
	arena_free(s->arena);
	memset(s, 0, sizeof(*s));
}

const char *jvalue_class_name(const struct jvalue *v)
{
	if (!v)
		return NULL;
	switch (v->kind) {
	case JV_OBJECT: return v->u.obj.desc->name;
	case JV_ARRAY: return v->u.arr.desc->name;
	case JV_ENUM: return v->u.en.desc ? v->u.en.desc->name : NULL;
	case JV_STRING: return "java.lang.String";
	default: return NULL;
	}
}

int jvalue_is(const struct jvalue *v, const char *class_name)
{
	const char *n = jvalue_class_name(v);

	return n && strcmp(n, class_name) == 0;
}

const struct jslot *jvalue_field(const struct jvalue *v, const char *name)
{
	if (!v || v->kind != JV_OBJECT)
		return NULL;
	for (size_t k = v->u.obj.ncd; k-- > 0;) {
		const struct jclassdata *cd = &v->u.obj.cd[k];

		if (!cd->slots)
			continue;
		for (uint16_t i = 0; i < cd->desc->nfields; i++)
			if (strcmp(cd->desc->fields[i].name, name) == 0)
				return &cd->slots[i];
	}
	return NULL;
}

const struct jvalue *jvalue_field_obj(const struct jvalue *v, const char *name)
{
	const struct jslot *s = jvalue_field(v, name);

	return s ? s->obj : NULL;
}

const char *jvalue_str(const struct jvalue *v)
{
	return v && v->kind == JV_STRING ? v->u.str.s : NULL;
}
