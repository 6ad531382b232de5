#include "spark/sparkconf.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void sparkconf_release(struct sparkconf *sc)
{
	explicit_bzero(sc->secret, sizeof(sc->secret));
	explicit_bzero(sc->trust_store_password, sizeof(sc->trust_store_password));
}

/* The TLS settings a client reads: SSLOptions.parse("spark.ssl.rpc", defaults = the
 * "spark.ssl" options).  Index 0 holds spark.ssl.rpc.X, 1 spark.ssl.X until the end. */
static const struct {
	const char *name;
	size_t field;
} ssl_keys[] = {
	{ "trustStore", offsetof(struct sparkconf, trust_store) },
	{ "trustStorePassword", offsetof(struct sparkconf, trust_store_password) },
	{ "certChain", offsetof(struct sparkconf, cert_chain) },
	{ "privateKey", offsetof(struct sparkconf, private_key) },
	{ "protocol", offsetof(struct sparkconf, protocol) },
	{ "enabledAlgorithms", offsetof(struct sparkconf, enabled_algorithms) },
};
#define SSL_KEYS (sizeof(ssl_keys) / sizeof(ssl_keys[0]))

struct ssl_fallback {
	char value[SSL_KEYS][SPARKCONF_MAX_VALUE];   /* spark.ssl.X */
};

/* 1 when k is spark.ssl.rpc.X or spark.ssl.X of a key above (stored), 0 when not, <0 error. */
static int ssl_setting(struct sparkconf *sc, struct ssl_fallback *fb, const char *k, const char *v,
		       const char *path, struct sg_err *e)
{
	int rpc = strncmp(k, "spark.ssl.rpc.", 14) == 0;
	const char *name = rpc ? k + 14 : strncmp(k, "spark.ssl.", 10) == 0 ? k + 10 : NULL;

	for (size_t i = 0; name && i < SSL_KEYS; i++) {
		char *to = rpc ? (char *)sc + ssl_keys[i].field : fb->value[i];

		if (strcmp(name, ssl_keys[i].name))
			continue;
		if (strlen(v) >= SPARKCONF_MAX_VALUE)
			return sg_err_set(e, ERR_TOO_LARGE, 0, "--spark-conf %s: %s is longer than %d bytes", path, k,
					  SPARKCONF_MAX_VALUE - 1);
		memcpy(to, v, strlen(v) + 1);
		return 1;
	}
	return 0;
}

static int boolean(const char *key, const char *v, int *out, const char *path, struct sg_err *e)
{
	if (strcasecmp(v, "true") == 0)
		*out = 1;
	else if (strcasecmp(v, "false") == 0)
		*out = 0;
	else
		return sg_err_set(e, ERR_INVALID, 0, "--spark-conf %s: %s must be true or false", path, key);
	return 0;
}

/* spark.authenticate.secret.file: the secret alone in a file (Spark reads it whole; one
 * trailing newline is dropped here, as --secret-file does). */
static int secret_file(struct sparkconf *sc, const char *file, const char *path, struct sg_err *e)
{
	FILE *f = fopen(file, "r");
	size_t n;
	int more;

	if (!f)
		return sg_err_set(e, ERR_IO, 0, "--spark-conf %s: cannot read spark.authenticate.secret.file %s: %s",
				  path, file, strerror(errno));
	n = fread(sc->secret, 1, sizeof(sc->secret) - 1, f);
	more = fgetc(f) != EOF;
	fclose(f);
	sc->secret[n] = '\0';
	if (n && sc->secret[n - 1] == '\n')
		sc->secret[--n] = '\0';
	if (more || !n || strlen(sc->secret) != n)
		return sg_err_set(e, ERR_INVALID, 0, "--spark-conf %s: spark.authenticate.secret.file %s must hold "
				  "one line of 1 to %d bytes", path, file, SPARKCONF_MAX_SECRET - 2);
	return 0;
}

static int setting(struct sparkconf *sc, struct ssl_fallback *fb, const char *k, const char *v, const char *path,
		   int *file_secret, struct sg_err *e)
{
	int rc = ssl_setting(sc, fb, k, v, path, e);

	if (rc)
		return rc < 0 ? rc : 0;
	if (strcmp(k, "spark.authenticate") == 0)
		return boolean(k, v, &sc->authenticate, path, e);
	if (strcmp(k, "spark.network.crypto.enabled") == 0)
		return boolean(k, v, &sc->crypto.enabled, path, e);
	if (strcmp(k, "spark.network.crypto.saslFallback") == 0)
		return boolean(k, v, &sc->crypto.sasl_fallback, path, e);
	if (strcmp(k, "spark.ssl.rpc.enabled") == 0)
		return boolean(k, v, &sc->ssl_rpc, path, e);
	if (strcmp(k, "spark.network.crypto.authEngineVersion") == 0) {
		if (strcmp(v, "1") && strcmp(v, "2"))
			return sg_err_set(e, ERR_INVALID, 0, "--spark-conf %s: %s must be 1 or 2", path, k);
		sc->crypto.version = v[0] - '0';
		return 0;
	}
	if (strcmp(k, "spark.network.crypto.cipher") == 0) {
		if (strcasecmp(v, "AES/CTR/NoPadding") == 0)
			sc->crypto.cipher = RPC_AES_CTR;
		else if (strcasecmp(v, "AES/GCM/NoPadding") == 0)
			sc->crypto.cipher = RPC_AES_GCM;
		else
			return sg_err_set(e, ERR_INVALID, 0, "--spark-conf %s: %s must be AES/CTR/NoPadding or "
					  "AES/GCM/NoPadding", path, k);
		return 0;
	}
	if (strcmp(k, "spark.authenticate.secret") == 0) {
		if (*file_secret)   /* SecurityManager: the secret itself wins over its file */
			*file_secret = 0;
		if (!*v || strlen(v) >= sizeof(sc->secret))
			return sg_err_set(e, ERR_INVALID, 0, "--spark-conf %s: %s must be 1 to %d bytes", path, k,
					  SPARKCONF_MAX_SECRET - 1);
		memcpy(sc->secret, v, strlen(v) + 1);
		return 0;
	}
	if (strcmp(k, "spark.authenticate.secret.file") == 0 && !sc->secret[0]) {
		*file_secret = 1;
		return secret_file(sc, v, path, e);
	}
	return 0;
}

int sparkconf_load(struct sparkconf *sc, const char *path, struct sg_err *e)
{
	FILE *f = fopen(path, "r");
	struct ssl_fallback *fb = NULL;
	char *text = NULL, *line, *next;
	size_t n;
	int rc = 0, file_secret = 0, lineno = 0;

	memset(sc, 0, sizeof(*sc));
	sc->crypto = (struct master_crypto){ .version = 1, .cipher = RPC_AES_CTR, .sasl_fallback = 1 };
	if (!f)
		return sg_err_set(e, ERR_IO, 0, "cannot read --spark-conf %s: %s", path, strerror(errno));
	if (!(text = malloc(SPARKCONF_MAX_FILE + 1)) || !(fb = calloc(1, sizeof(*fb)))) {
		free(text);
		fclose(f);
		return sg_err_set(e, ERR_NOMEM, 0, "out of memory");
	}
	n = fread(text, 1, SPARKCONF_MAX_FILE + 1, f);
	fclose(f);
	if (n > SPARKCONF_MAX_FILE || memchr(text, '\0', n)) {
		free(text);
		free(fb);
		return sg_err_set(e, ERR_TOO_LARGE, 0, "--spark-conf %s: not a text file of at most %u bytes", path,
				  SPARKCONF_MAX_FILE);
	}
	text[n] = '\0';
	for (line = text; line && !rc; line = next) {
		char *k, *v, *end;

		lineno++;
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		end = line + strlen(line);
		while (end > line && (end[-1] == '\r' || end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\f'))
			*--end = '\0';
		k = line + strspn(line, " \t\f");
		if (!*k || *k == '#' || *k == '!')
			continue;
		if (end > k && end[-1] == '\\') {
			rc = sg_err_set(e, ERR_UNSUPPORTED, 0, "--spark-conf %s:%d: a line continued with '\\' is not "
					"read by sparkgate; join it", path, lineno);
			break;
		}
		v = k + strcspn(k, " \t\f=:");
		if (*v) {
			*v++ = '\0';
			v += strspn(v, " \t\f");
			if (*v == '=' || *v == ':')
				v += 1 + strspn(v + 1, " \t\f");
		}
		if (strncmp(k, "spark.", 6) == 0 && strchr(v, '\\') && strstr(k, "secret")) {
			rc = sg_err_set(e, ERR_UNSUPPORTED, 0, "--spark-conf %s:%d: %s holds a '\\' escape, which sparkgate "
					"does not decode; put the secret in spark.authenticate.secret.file or --secret-file",
					path, lineno, k);
			break;
		}
		rc = setting(sc, fb, k, v, path, &file_secret, e);
	}
	for (size_t i = 0; i < SSL_KEYS; i++) {
		char *rpc = (char *)sc + ssl_keys[i].field;

		if (!rpc[0])
			memcpy(rpc, fb->value[i], strlen(fb->value[i]) + 1);
	}
	explicit_bzero(fb, sizeof(*fb));
	free(fb);
	explicit_bzero(text, n);
	free(text);
	return rc;
}
