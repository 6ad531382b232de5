/* Java and Spark parsing semantics sparkgate must reproduce exactly (see javalang.h). */
#include "spark/javalang.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/limits.h"

int java_memory_mb(const char *s, int *mb)
{
	static const struct { const char *suffix; int shift; } units[] = {
		{ "b", 0 }, { "k", 10 }, { "kb", 10 }, { "m", 20 }, { "mb", 20 }, { "g", 30 },
		{ "gb", 30 }, { "t", 40 }, { "tb", 40 }, { "p", 50 }, { "pb", 50 },
	};
	const char *p = s, *end = s + strlen(s), *digits;
	char suffix[4];
	size_t n = 0;
	uint64_t v = 0;
	int shift = -1;

	/* String.trim() removes chars <= ' ' */
	while (p < end && (unsigned char)*p <= ' ')
		p++;
	while (end > p && (unsigned char)end[-1] <= ' ')
		end--;
	digits = p;
	while (p < end && *p >= '0' && *p <= '9') {
		if (v > (UINT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*p++ - '0');
	}
	if (p == digits || v > INT64_MAX)
		return -1;
	while (p < end && n < sizeof(suffix) - 1 && isalpha((unsigned char)*p))
		suffix[n++] = (char)tolower((unsigned char)*p++);
	suffix[n] = '\0';
	if (p != end)
		return -1;
	if (n == 0)
		shift = 0;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]) && n; i++)
		if (strcmp(suffix, units[i].suffix) == 0)
			shift = units[i].shift;
	if (shift < 0 || (shift && v > ((uint64_t)INT64_MAX >> shift)))
		return -1;
	v = (v << shift) >> 20;
	if (v > INT32_MAX)
		return -1;
	*mb = (int)v;
	return 0;
}

/* Character.isWhitespace for the ASCII range (the only whitespace Spark options use). */
static int java_space(unsigned char c)
{
	return c == ' ' || (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x1F);
}

int java_split_command(const char *s, struct strlist *out)
{
	struct buf word = BUF_INIT(LIMIT_REQUEST_STREAM);
	int in_word = 0, in_single = 0, in_double = 0, rc = 0;
	size_t len = strlen(s);

	for (size_t i = 0; i < len && !rc; i++) {
		char c = s[i];

		if (in_double) {
			if (c == '"')
				in_double = 0;
			else if (c == '\\') {
				if (i + 1 < len)
					rc = buf_addc(&word, (uint8_t)s[++i]);
			} else
				rc = buf_addc(&word, (uint8_t)c);
		} else if (in_single) {
			if (c == '\'')
				in_single = 0;
			else
				rc = buf_addc(&word, (uint8_t)c);
		} else if (c == '"') {
			in_word = in_double = 1;
		} else if (c == '\'') {
			in_word = in_single = 1;
		} else if (!java_space((unsigned char)c)) {
			rc = buf_addc(&word, (uint8_t)c);
			in_word = 1;
		} else if (in_word) {
			rc = strlist_addn(out, buf_str(&word), word.len);
			buf_reset(&word);
			in_word = 0;
		}
	}
	if (!rc && (in_word || in_double || in_single))
		rc = strlist_addn(out, buf_str(&word), word.len);
	buf_release(&word);
	return rc;
}

int java_split_path(const char *s, struct strlist *out)
{
	/* String.split(":") drops trailing empty strings, keeps inner ones. */
	const char *end = s + strlen(s);
	int rc = 0;

	while (end > s && end[-1] == ':')
		end--;
	if (end == s)
		return strlen(s) ? 0 : strlist_add(out, "");
	for (const char *p = s; p <= end && !rc;) {
		const char *c = memchr(p, ':', (size_t)(end - p));

		if (!c)
			c = end;
		rc = strlist_addn(out, p, (size_t)(c - p));
		p = c + 1;
	}
	return rc;
}

int java_parse_int(const char *s, int32_t *out)
{
	char *end;
	long v;

	if (!*s || isspace((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < INT32_MIN || v > INT32_MAX)
		return -1;
	*out = (int32_t)v;
	return 0;
}

long java_jvm_size_mb(const char *s)
{
	char *end;
	unsigned long long v;
	unsigned long long unit = 1;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	switch (*end) {
	case 'k': case 'K': unit = 1ULL << 10; end++; break;
	case 'm': case 'M': unit = 1ULL << 20; end++; break;
	case 'g': case 'G': unit = 1ULL << 30; end++; break;
	case 't': case 'T': unit = 1ULL << 40; end++; break;
	case '\0': break;
	default: return -1;
	}
	if (errno || *end || v > (1ULL << 50) / unit)
		return -1;
	return (long)((v * unit + (1u << 20) - 1) >> 20);
}
