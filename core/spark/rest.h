/* Spark's REST submission messages (org.apache.spark.deploy.rest.SubmitRestProtocolMessage
 * and subclasses): parsing and validating a CreateSubmissionRequest the way Spark 3.5's
 * server does, and printing responses the way Jackson prints them there (alphabetical
 * keys, 2-space indent, " : ", arrays on one line, nulls omitted, no final newline). */
#ifndef SG_REST_H
#define SG_REST_H

#include <stddef.h>

#include "base/buf.h"
#include "spark/driver.h"

/* Limits on a request body (the web server already caps its size). */
#define REST_MAX_DEPTH 1000        /* nesting, as Jackson's StreamReadConstraints (2.15+) */
#define REST_OWN_MAX_DEPTH 2000    /* sparkgate's own, where Spark's Jackson has none (3.3, 3.4);
				      below jansson's fixed 2048 */
#define REST_MAX_ITEMS 10000       /* appArgs, sparkProperties, environmentVariables each */

/* How one Spark minor's server reads a create (struct spark_build carries them). */
struct rest_rules {
	int replaces_malformed;   /* a malformed UTF-8 byte becomes U+FFFD (4.3), else fails */
	int max_depth;            /* Jackson's nesting limit; 0: none */
	int requires_defaults;    /* appArgs, environmentVariables, spark.app.name required (3.x) */
};

struct create_request {
	char *app_resource;
	char *main_class;
	char *client_spark_version;
	int has_app_args, has_properties, has_environment;
	struct strlist app_args;
	struct strmap spark_properties;
	struct strmap environment;
	struct strlist unknown_fields;   /* top-level keys Spark would report back */
};

/* What went wrong with a request, as Spark reports it: an HTTP status and the message
 * of an ErrorResponse. */
struct rest_error {
	int status;
	struct buf message;
};

void rest_error_init(struct rest_error *e);
void rest_error_release(struct rest_error *e);
/* Sets the error (first one wins); returns -1 for `return rest_fail(...)`. */
int rest_fail(struct rest_error *e, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Adds to the message of the error already set; if memory runs out the status becomes 500. */
void rest_fail_append(struct rest_error *e, const void *p, size_t n);

void create_request_init(struct create_request *r);
void create_request_release(struct create_request *r);

/* Parses and validates a create body exactly in Spark's order (decoding, parseAction,
 * Jackson binding, validate()), as the server of a minor with these rules does.  On failure
 * returns -1 with status/message in err. */
int rest_parse_create(const char *body, size_t len, const struct rest_rules *rules,
		      struct create_request *r, struct rest_error *err);

/* ---- responses -------------------------------------------------------------------------- */

/* One response field; fields must be given in alphabetical order of name. */
struct rest_field {
	const char *name;
	enum { RF_STRING, RF_BOOL, RF_STRINGS, RF_RAW } type;
	const char *str;              /* RF_STRING; RF_RAW: JSON text as is; NULL omits the field */
	int boolean;                  /* RF_BOOL */
	const struct strlist *list;   /* RF_STRINGS; NULL omits the field */
};

int rest_print(struct buf *out, const struct rest_field *fields, size_t n);
/* The value of sparkProperties[key] in a create body if it is a string that fits in out
 * (copied there), else NULL; *too_long says a string was there but did not fit.  For
 * decisions made before the request is validated. */
const char *rest_peek_property(const char *body, size_t len, const char *key, char *out, size_t size,
			       int *too_long);
/* ErrorResponse {action, highestProtocolVersion?, message, serverSparkVersion}. */
int rest_print_error(struct buf *out, const char *message, const char *server_version, int version_mismatch);
/* Jackson's string escaping, with invalid UTF-8 replaced by U+FFFD. */
int rest_json_string(struct buf *out, const char *s, size_t len);

/* Appends text as it may stand in a log line or an audit record: valid UTF-8 as it is;
 * C0 control bytes, DEL, backslash and bytes that are not UTF-8 as \xNN; C1 controls (NEL
 * U+0085 among them) and U+2028/U+2029 as \uXXXX; so no line can be forged or lost, whatever
 * reads the log (a terminal, a JSON or Unicode-aware line splitter). */
int rest_escape_text(struct buf *out, const char *text, size_t len);

#endif
