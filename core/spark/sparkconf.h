/* --spark-conf FILE: the security settings of the cluster's own spark-defaults.conf, so
 * sparkgate is configured the way the masters are.  Read: spark.authenticate,
 * spark.authenticate.secret, spark.authenticate.secret.file, spark.network.crypto.enabled,
 * .authEngineVersion, .cipher, .saslFallback, spark.ssl.rpc.enabled and what a client of a
 * TLS master needs: spark.ssl.rpc.{trustStore, trustStorePassword, certChain, privateKey,
 * protocol, enabledAlgorithms}, each falling back to spark.ssl.* as SSLOptions.parse does
 * (the "spark.ssl.rpc" namespace with the "spark.ssl" options as its defaults).  The file is java.util.Properties text as Spark reads it
 * (Utils.getPropertiesFromFile): "key value", "key=value" or "key: value", '#'/'!'
 * comments; a line continued with '\' is refused rather than misread. */
#ifndef SG_SPARKCONF_H
#define SG_SPARKCONF_H

#include "base/err.h"
#include "spark/master.h"

#define SPARKCONF_MAX_FILE (1u << 20)
#define SPARKCONF_MAX_SECRET 4096
#define SPARKCONF_MAX_VALUE 2048

struct sparkconf {
	int authenticate;                       /* spark.authenticate */
	char secret[SPARKCONF_MAX_SECRET];      /* spark.authenticate.secret or its file's line; "" none */
	struct master_crypto crypto;            /* spark.network.crypto.* */
	int ssl_rpc;                            /* spark.ssl.rpc.enabled */
	/* spark.ssl.rpc.X, else spark.ssl.X: "" when neither is set */
	char trust_store[SPARKCONF_MAX_VALUE];
	char trust_store_password[SPARKCONF_MAX_VALUE];
	char cert_chain[SPARKCONF_MAX_VALUE];
	char private_key[SPARKCONF_MAX_VALUE];
	char protocol[SPARKCONF_MAX_VALUE];
	char enabled_algorithms[SPARKCONF_MAX_VALUE];
};

/* Parses path; every value it reads is checked (a boolean is true/false, the engine version
 * 1 or 2, the cipher AES/CTR/NoPadding or AES/GCM/NoPadding). */
int sparkconf_load(struct sparkconf *sc, const char *path, struct sg_err *e);
/* Wipes the secret and the trust store's password. */
void sparkconf_release(struct sparkconf *sc);

#endif
