/* Java and Spark parsing semantics that sparkgate reproduces exactly, in one leaf file
 * (no other core module below it): what Spark's server does to a create's strings. */
#ifndef SG_JAVALANG_H
#define SG_JAVALANG_H

#include <stdint.h>

#include "spark/driver.h"

/* Utils.memoryStringToMb (JavaUtils.byteStringAsBytes / 1 MiB): 0 or -1. */
int java_memory_mb(const char *s, int *mb);

/* Utils.splitCommandString: whitespace-separated words, '...' and "..." quoting,
 * backslash escapes inside double quotes.  0 or ERR_NOMEM / ERR_TOO_LARGE. */
int java_split_command(const char *s, struct strlist *out);

/* String.split(":") as Spark splits a class or library path. */
int java_split_path(const char *s, struct strlist *out);

/* A size as the JVM reads -Xmx/-Xms ("512m", "8g", "1073741824": k/m/g/t, no "b") in
 * MiB, rounded up; -1 if it is not one. */
long java_jvm_size_mb(const char *s);

/* java.lang.Integer.parseInt: 0 or -1. */
int java_parse_int(const char *s, int32_t *out);

#endif
