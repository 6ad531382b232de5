/* Java serialization writer: see javaser.h.  Mirrors java.io.ObjectOutputStream
 * (writeOrdinaryObject, writeNonProxyDesc, writeString, writeTypeString). */
#include <string.h>

#include "wire/javaser.h"

void jwriter_init(struct jwriter *w, struct buf *out)
{
	w->out = out;
	w->next_handle = JSER_BASE_HANDLE;
	w->err = 0;
	w->nmemo = 0;
}

static void put(struct jwriter *w, const void *p, size_t n)
{
	if (!w->err)
		w->err = buf_add(w->out, p, n);
}

static void put_u8(struct jwriter *w, uint8_t v)
{
	put(w, &v, 1);
}

static void put_be16(struct jwriter *w, uint16_t v)
{
	if (!w->err)
		w->err = buf_be16(w->out, v);
}

static void put_be32(struct jwriter *w, uint32_t v)
{
	if (!w->err)
		w->err = buf_be32(w->out, v);
}

static void put_be64(struct jwriter *w, uint64_t v)
{
	if (!w->err)
		w->err = buf_be64(w->out, v);
}

static void memo_add(struct jwriter *w, const void *key, const char *sig, uint32_t handle)
{
	if (w->nmemo == JWRITER_MEMO_MAX) {
		/* Only costs a back-reference the JVM would have used: still a valid stream,
		 * but no longer byte-identical, so treat it as a programming limit. */
		w->err = ERR_TOO_LARGE;
		return;
	}
	w->memo[w->nmemo].key = key;
	w->memo[w->nmemo].sig = sig;
	w->memo[w->nmemo].handle = handle;
	w->nmemo++;
}

static int memo_find(const struct jwriter *w, const void *key, const char *sig, uint32_t *handle)
{
	for (size_t i = 0; i < w->nmemo; i++) {
		if (key ? w->memo[i].key == key
			: (!w->memo[i].key && strcmp(w->memo[i].sig, sig) == 0)) {
			*handle = w->memo[i].handle;
			return 1;
		}
	}
	return 0;
}

static void put_reference(struct jwriter *w, uint32_t handle)
{
	put_u8(w, TC_REFERENCE);
	put_be32(w, handle);
}

/* Length in modified UTF-8 of UTF-8 text, and the conversion itself: U+0000 becomes
 * C0 80 and supplementary characters become two 3-byte surrogates.  Bytes that are not
 * valid UTF-8 become U+FFFD (jansson only hands us valid UTF-8; this is belt and braces). */
static size_t mutf8_next(const uint8_t *s, size_t len, size_t *i, uint8_t out[6])
{
	uint8_t c = s[*i];
	uint32_t cp;
	size_t n;

	if (c == 0) {
		out[0] = 0xC0; out[1] = 0x80;
		(*i)++;
		return 2;
	}
	if (c < 0x80) {
		out[0] = c;
		(*i)++;
		return 1;
	}
	if ((c & 0xE0) == 0xC0) { n = 2; cp = c & 0x1Fu; }
	else if ((c & 0xF0) == 0xE0) { n = 3; cp = c & 0x0Fu; }
	else if ((c & 0xF8) == 0xF0) { n = 4; cp = c & 0x07u; }
	else goto bad;
	if (*i + n > len)
		goto bad;
	for (size_t k = 1; k < n; k++) {
		if ((s[*i + k] & 0xC0) != 0x80)
			goto bad;
		cp = (cp << 6) | (s[*i + k] & 0x3Fu);
	}
	if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF))
	    || (cp >= 0xD800 && cp <= 0xDFFF))
		goto bad;
	*i += n;
	if (n < 4) {
		memcpy(out, s + *i - n, n);
		return n;
	} else {
		uint32_t v = cp - 0x10000, hi = 0xD800 + (v >> 10), lo = 0xDC00 + (v & 0x3FF);
		out[0] = (uint8_t)(0xE0 | (hi >> 12)); out[1] = (uint8_t)(0x80 | ((hi >> 6) & 0x3F));
		out[2] = (uint8_t)(0x80 | (hi & 0x3F));
		out[3] = (uint8_t)(0xE0 | (lo >> 12)); out[4] = (uint8_t)(0x80 | ((lo >> 6) & 0x3F));
		out[5] = (uint8_t)(0x80 | (lo & 0x3F));
		return 6;
	}
bad:
	(*i)++;
	out[0] = 0xEF; out[1] = 0xBF; out[2] = 0xBD;
	return 3;
}

static size_t mutf8_len(const char *utf8, size_t len)
{
	uint8_t tmp[6];
	size_t n = 0;

	for (size_t i = 0; i < len;)
		n += mutf8_next((const uint8_t *)utf8, len, &i, tmp);
	return n;
}

static void put_mutf8(struct jwriter *w, const char *utf8, size_t len)
{
	uint8_t tmp[6];

	for (size_t i = 0; i < len;) {
		size_t n = mutf8_next((const uint8_t *)utf8, len, &i, tmp);
		put(w, tmp, n);
	}
}

/* writeUTF: u16 length + modified UTF-8 (class and field names; never over 64 KiB). */
static void put_utf(struct jwriter *w, const char *s)
{
	size_t len = strlen(s), n = mutf8_len(s, len);

	if (n > 0xFFFF) {
		w->err = ERR_TOO_LARGE;
		return;
	}
	put_be16(w, (uint16_t)n);
	put_mutf8(w, s, len);
}

void jwriter_header(struct jwriter *w)
{
	put_be16(w, JSER_MAGIC);
	put_be16(w, JSER_VERSION);
}

static void put_string(struct jwriter *w, const char *utf8, size_t len)
{
	size_t n = mutf8_len(utf8, len);

	w->next_handle++;
	if (n <= 0xFFFF) {
		put_u8(w, TC_STRING);
		put_be16(w, (uint16_t)n);
	} else {
		put_u8(w, TC_LONGSTRING);
		put_be64(w, n);
	}
	put_mutf8(w, utf8, len);
}

/* Field signatures are interned by the JVM, so repeats are back-references. */
static void put_type_string(struct jwriter *w, const char *sig)
{
	uint32_t h;

	if (memo_find(w, NULL, sig, &h)) {
		put_reference(w, h);
		return;
	}
	memo_add(w, NULL, sig, w->next_handle);
	put_string(w, sig, strlen(sig));
}

static void put_classdesc(struct jwriter *w, const struct jclass *cls)
{
	uint32_t h;

	if (!cls) {
		put_u8(w, TC_NULL);
		return;
	}
	if (memo_find(w, cls, NULL, &h)) {
		put_reference(w, h);
		return;
	}
	put_u8(w, TC_CLASSDESC);
	memo_add(w, cls, NULL, w->next_handle++);
	put_utf(w, cls->name);
	put_be64(w, (uint64_t)cls->uid);
	put_u8(w, cls->flags);
	put_be16(w, cls->nfields);
	for (uint16_t i = 0; i < cls->nfields; i++) {
		const struct jclass_field *f = &cls->fields[i];

		put_u8(w, (uint8_t)f->code);
		put_utf(w, f->name);
		if (f->code == 'L' || f->code == '[')
			put_type_string(w, f->sig);
	}
	put_u8(w, TC_ENDBLOCKDATA);   /* empty class annotation */
	put_classdesc(w, cls->super);
}

uint32_t jwriter_object(struct jwriter *w, const struct jclass *cls)
{
	put_u8(w, TC_OBJECT);
	put_classdesc(w, cls);
	return w->next_handle++;
}

int jwriter_shared(struct jwriter *w, const void *key)
{
	uint32_t h;

	if (!memo_find(w, key, NULL, &h))
		return 0;
	put_reference(w, h);
	return 1;
}

void jwriter_remember(struct jwriter *w, const void *key, uint32_t handle)
{
	memo_add(w, key, NULL, handle);
}

void jwriter_class(struct jwriter *w, const struct jclass *cls)
{
	put_u8(w, TC_CLASS);
	put_classdesc(w, cls);
	w->next_handle++;
}

void jwriter_array(struct jwriter *w, const struct jclass *cls, int32_t len)
{
	put_u8(w, TC_ARRAY);
	put_classdesc(w, cls);
	w->next_handle++;
	put_be32(w, (uint32_t)len);
}

void jwriter_string(struct jwriter *w, const char *utf8, size_t len)
{
	put_string(w, utf8, len);
}

void jwriter_null(struct jwriter *w)
{
	put_u8(w, TC_NULL);
}

void jwriter_i32(struct jwriter *w, int32_t v)
{
	put_be32(w, (uint32_t)v);
}

void jwriter_bool(struct jwriter *w, int v)
{
	put_u8(w, v ? 1 : 0);
}

void jwriter_block(struct jwriter *w, const void *p, size_t n)
{
	if (n <= 0xFF) {
		put_u8(w, TC_BLOCKDATA);
		put_u8(w, (uint8_t)n);
	} else {
		put_u8(w, TC_BLOCKDATALONG);
		put_be32(w, (uint32_t)n);
	}
	put(w, p, n);
}

void jwriter_end_block(struct jwriter *w)
{
	put_u8(w, TC_ENDBLOCKDATA);
}
