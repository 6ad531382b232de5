/* Spark's RPC encryption: AuthEngineSuite's fixed transcript (v1 and v2), then the golden
 * vectors of tests/golden/crypto/ (tools/cryptogolden: the real AuthEngine,
 * CtrTransportCipher and GcmTransportCipher of a Spark build): the same keys, the same
 * bytes on the wire, and the GCM envelope reader's bounds. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/crypto.h"
#include "wire/authengine.h"
#include "wire/rpccipher.h"
#include "t.h"

static size_t unhex(const char *h, uint8_t *out, size_t max)
{
	size_t n = strlen(h) / 2;

	if (n > max)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned v;

		sscanf(h + 2 * i, "%2x", &v);
		out[i] = (uint8_t)v;
	}
	return n;
}

static void message(uint8_t *m, size_t n, int seed)
{
	for (size_t i = 0; i < n; i++)
		m[i] = (uint8_t)(i * 7 + (size_t)seed);
}

/* AuthEngineSuite.testFixedChallengeResponse / ...UnsafeVersion */
static void fixed_transcript(void)
{
	static const char priv[] = "efe6b68b3fce92158e3637f6ef9d937e75558928dd4b401de04b43d300a73186";
	static const char challenge[] = "fb00000005617070496400000010890b6e960f48e998777267a7e4e623220000003c48ad7dc7ec9466da9"
					"3bda9f11488dc9404050e02c661d87d67c782444944c6e369b27e0a416c30845a2d9e64271511ca98b41d"
					"65f8c426e18ff380f6";
	static const char response[] = "fb00000005617070496400000010708451c9dd2792c97c1ca66e6df449ef0000003c64fe899ecdaf458d4"
				       "e25e9d5c5a380b8e6d1a184692fac065ed84f8592c18e9629f9c636809dca2ffc041f20346eb53db78738"
				       "08ecad08b46b5ee3ff";
	static const char *keys[] = { "31963f15a320d5c90333f7ecf5cf3a31c7eaf151de07fef8494663a9f47cfd31",
				      "2d6e7a9048c8265c33a8f3747bfcc84c" };
	uint8_t p[32], c[256], r[256];
	size_t cn = unhex(challenge, c, sizeof(c)), rn = unhex(response, r, sizeof(r));
	char hex[2 * AUTH_KEY_MAX + 1];

	unhex(priv, p, sizeof(p));
	for (int v = 1; v <= 2; v++) {
		struct authengine a;
		struct sg_err e = { 0 };

		authengine_init(&a, "secret", v);
		a.app_id = "appId";
		CHECK(authengine_adopt(&a, p, c, cn) == 0, "adopt");
		CHECK(authengine_derive(&a, r, rn, &e) == 0, "v%d: %s", v, e.msg);
		crypto_hex(a.key, a.key_len, hex);
		CHECK_STR(hex, keys[v - 1]);
		crypto_hex(a.input_iv, AUTH_IV_LEN, hex);
		CHECK_STR(hex, "fc6a5dc8b90a9dad8f54f08b51a59ed2");
		crypto_hex(a.output_iv, AUTH_IV_LEN, hex);
		CHECK_STR(hex, "a72709baf00785cad6329ce09f631f71");
		authengine_release(&a);
	}
	/* testMismatchedSecret, testCorruptResponseSalt/Ciphertext/AppId */
	for (int k = 0; k < 4; k++) {
		struct authengine a;
		struct sg_err e = { 0 };
		uint8_t bad[256];
		int rc;

		memcpy(bad, r, rn);
		if (k == 1)
			bad[1 + 4 + 5 + 4] ^= 1;     /* salt */
		if (k == 2)
			bad[rn - 1] ^= 1;            /* ciphertext */
		if (k == 3)
			bad[5] ^= 1;                 /* app id */
		authengine_init(&a, k == 0 ? "different_secret" : "secret", 2);
		a.app_id = "appId";
		authengine_adopt(&a, p, c, cn);
		rc = authengine_derive(&a, bad, rn, &e);
		/* a protocol error every time, never ERR_REMOTE: only the master's RpcFailure
		 * (a refusal) may lead to the SASL fallback */
		CHECK(rc == ERR_PROTOCOL && (k == 3 || strstr(e.msg, "does not decrypt")), "case %d: %d %s", k, rc,
		      e.msg);
		/* every truncated reply fails cleanly */
		for (size_t n = 0; k == 0 && n < rn; n++)
			CHECK(authengine_derive(&a, r, n, NULL) == ERR_PROTOCOL, "prefix %zu", n);
		authengine_release(&a);
	}
}

struct vec {
	char name[64];
	uint8_t *data;
	size_t len;
};

static struct vec vecs[64];
static size_t nvecs;

static const struct vec *find(const char *name)
{
	for (size_t i = 0; i < nvecs; i++)
		if (strcmp(vecs[i].name, name) == 0)
			return &vecs[i];
	fprintf(stderr, "missing vector %s\n", name);
	return NULL;
}

static void load(const char *path)
{
	FILE *f = fopen(path, "r");
	static char line[400000];

	nvecs = 0;
	while (f && fgets(line, sizeof(line), f) && nvecs < 64) {
		char *sp = strchr(line, ' ');
		struct vec *v = &vecs[nvecs];

		if (line[0] == '#' || !sp)
			continue;
		*sp = '\0';
		line[strcspn(sp + 1, "\n") + (size_t)(sp + 1 - line)] = '\0';
		snprintf(v->name, sizeof(v->name), "%.60s", line);
		v->len = strlen(sp + 1) / 2;
		v->data = malloc(v->len + 1);
		unhex(sp + 1, v->data, v->len);
		nvecs++;
	}
	if (f)
		fclose(f);
}

static void golden(const char *path)
{
	static const int gsizes[] = { 100, 70000, 32728 };

	load(path);
	CHECK(nvecs >= 26, "%s: %zu vectors", path, nvecs);
	for (int v = 1; v <= 2 && nvecs >= 26; v++) {
		char n[64];
		struct authengine a;
		struct rpc_cipher c;
		struct sg_err e = { 0 };
		const struct vec *priv, *ch, *re, *key, *in, *out;
		uint8_t *m = malloc(70000), *got = malloc(70000);

#define V(x) (snprintf(n, sizeof(n), "v%d.%s", v, x), find(n))
		priv = V("priv"), ch = V("challenge"), re = V("response"), key = V("key"), in = V("inputIv"),
		out = V("outputIv");
		if (!priv || !ch || !re || !key || !in || !out)
			return;
		authengine_init(&a, "sg-test-secret-\xc3\xa9-42", v);
		authengine_adopt(&a, priv->data, ch->data, ch->len);
		CHECK(authengine_derive(&a, re->data, re->len, &e) == 0, "%s v%d: %s", path, v, e.msg);
		CHECK(a.key_len == key->len && memcmp(a.key, key->data, key->len) == 0, "%s v%d key", path, v);
		CHECK(memcmp(a.input_iv, in->data, 16) == 0 && memcmp(a.output_iv, out->data, 16) == 0, "%s v%d ivs",
		      path, v);

		/* CTR: what the client sends is byte for byte what the JVM's client sent, and
		 * what the JVM's server sent decrypts, each a continuous stream */
		rpc_cipher_init(&c, 1u << 20);
		CHECK(rpc_cipher_start(&c, RPC_AES_CTR, &a, &e) == 0, "ctr start: %s", e.msg);
		for (int i = 0; i < 2; i++) {
			size_t len = i ? 70000 : 100, wlen = 0;
			const uint8_t *w = NULL;
			const struct vec *cv, *sv;

			snprintf(n, sizeof(n), "v%d.ctr.client.%d", v, i);
			cv = find(n);
			snprintf(n, sizeof(n), "v%d.ctr.server.%d", v, i);
			sv = find(n);
			message(m, len, 3 + i);
			CHECK(rpc_cipher_seal(&c, m, len, &w, &wlen, &e) == 0 && cv && wlen == cv->len
				      && memcmp(w, cv->data, wlen) == 0, "%s v%d ctr client %d", path, v, i);
			message(m, len, 5 + i);
			CHECK(sv && crypto_ctr_apply(&c.dec, sv->data, got, len) == 0 && memcmp(got, m, len) == 0,
			      "%s v%d ctr server %d", path, v, i);
		}
		rpc_cipher_release(&c);

		/* the transport's reader over a socket: the JVM's server messages arrive in
		 * pieces (CTR) and its envelopes back to back (GCM), plaintext comes out whole */
		for (int kind = RPC_AES_CTR; kind <= RPC_AES_GCM; kind++) {
			int sv[2];
			struct buf rx = BUF_INIT(1u << 20);
			size_t want = 0, sent = 0, total = 0;
			uint8_t *expect = malloc(1u << 18), *wirebytes = malloc(1u << 18);
			const char *names[2][3] = { { "ctr.server.0", "ctr.server.1", NULL },
						    { "gcm.100", "gcm.70000", "gcm.32728" } };
			static const int seeds[2][3] = { { 5, 6, 0 }, { 9, 10, 11 } };

			CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0, "socketpair");
			rpc_cipher_init(&c, 1u << 20);
			CHECK(rpc_cipher_start(&c, kind, &a, &e) == 0, "start %d", kind);
			for (int i = 0; i < 3 && names[kind - 1][i]; i++) {
				const struct vec *w;

				snprintf(n, sizeof(n), "v%d.%s", v, names[kind - 1][i]);
				if (!(w = find(n)))
					continue;
				memcpy(wirebytes + total, w->data, w->len);
				total += w->len;
				message(expect + want, kind == RPC_AES_CTR ? (i ? 70000 : 100) : (size_t)gsizes[i],
					seeds[kind - 1][i]);
				want += kind == RPC_AES_CTR ? (i ? 70000u : 100u) : (size_t)gsizes[i];
			}
			/* 1000 bytes at a time, reading whatever has come */
			while (sent < total || rx.len < want) {
				size_t room;
				int rc;
				uint8_t *r;
				ssize_t nr;

				if (sent < total) {
					size_t k = total - sent < 1000 ? total - sent : 1000;

					CHECK(write(sv[1], wirebytes + sent, k) == (ssize_t)k, "write");
					sent += k;
				}
				r = buf_spare(&rx, 1, &room, &rc);
				nr = rpc_cipher_recv(&c, sv[0], &rx, r, room > 65536 ? 65536 : room);
				if (nr < 0 && errno == EAGAIN && sent == total)
					break;
				CHECK(nr > 0 || errno == EAGAIN, "recv %zd errno %d (%s)", nr, errno, c.err.msg);
				if (nr <= 0 && errno != EAGAIN)
					break;
			}
			CHECK(rx.len == want && memcmp(rx.data, expect, want) == 0, "v%d kind %d: %zu of %zu bytes",
			      v, kind, rx.len, want);
			close(sv[0]);
			close(sv[1]);
			rpc_cipher_release(&c);
			buf_release(&rx);
			free(expect);
			free(wirebytes);
		}

		/* GCM: each envelope opens to its message, and sealed with the JVM's salt and
		 * nonce prefix gives the JVM's bytes; every prefix asks for more */
		for (int i = 0; i < 3; i++) {
			const struct vec *g;
			struct buf plain = BUF_INIT(1u << 20), sealed = BUF_INIT(1u << 20);
			size_t len = (size_t)gsizes[i];
			ssize_t used;

			snprintf(n, sizeof(n), "v%d.gcm.%d", v, gsizes[i]);
			if (!(g = find(n)))
				continue;
			message(m, len, 9 + i);
			used = gcm_envelope_open(a.key, a.key_len, g->data, g->len, 1u << 20, &plain, &e);
			CHECK(used == (ssize_t)g->len && plain.len == len && memcmp(plain.data, m, len) == 0,
			      "%s %s: open %zd (%s)", path, n, used, e.msg);
			CHECK(gcm_envelope_seal(a.key, a.key_len, g->data + 9, m, len, &sealed, &e) == 0
				      && sealed.len == g->len && memcmp(sealed.data, g->data, g->len) == 0,
			      "%s %s: seal (%zu bytes, want %zu)", path, n, sealed.len, g->len);
			for (size_t k = 0; i == 0 && k < g->len; k++) {
				buf_reset(&plain);
				CHECK(gcm_envelope_open(a.key, a.key_len, g->data, k, 1u << 20, &plain, NULL) == 0,
				      "prefix %zu", k);
			}
			/* any flipped byte fails (a wrong key, engine version or cipher reads as one) */
			for (size_t k = 0; i == 0 && k < g->len; k++) {
				uint8_t *bad = malloc(g->len);
				ssize_t r;

				memcpy(bad, g->data, g->len);
				bad[k] ^= 0x20;
				buf_reset(&plain);
				r = gcm_envelope_open(a.key, a.key_len, bad, g->len, 1u << 20, &plain, NULL);
				CHECK(r < 0 || (k < 8 && r == 0), "flip %zu: %zd", k, r);
				free(bad);
			}
			buf_release(&plain);
			buf_release(&sealed);
		}
		authengine_release(&a);
		free(m);
		free(got);
	}
	for (size_t i = 0; i < nvecs; i++)
		free(vecs[i].data);
}

/* The length prefix is judged before anything is kept. */
static void bounds(void)
{
	uint8_t key[16] = { 1 }, env[9] = { 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 24 };
	uint8_t small[9] = { 0, 0, 0, 0, 0, 0, 0, 20, 24 }, neg[8] = { 0x80, 0, 0, 0, 0, 0, 0, 0 };
	struct buf plain = BUF_INIT(1024);

	CHECK(gcm_envelope_open(key, 16, env, sizeof(env), 1024, &plain, NULL) == ERR_TOO_LARGE, "huge length");
	CHECK(gcm_envelope_open(key, 16, neg, sizeof(neg), 1024, &plain, NULL) == ERR_TOO_LARGE, "negative length");
	CHECK(gcm_envelope_open(key, 16, small, sizeof(small), 1024, &plain, NULL) == ERR_PROTOCOL, "no header room");
	small[7] = 200;
	small[8] = 23;
	CHECK(gcm_envelope_open(key, 16, small, sizeof(small), 1024, &plain, NULL) == ERR_PROTOCOL, "header byte");
	CHECK(plain.len == 0, "nothing kept");
	buf_release(&plain);
}

int main(void)
{
	DIR *d;
	struct dirent *de;
	int files = 0;

	if (crypto_available()) {
		printf("rpccrypto: %s not loadable\n", CRYPTO_LIBRARY);
		return t_done("rpccrypto");
	}
	fixed_transcript();
	bounds();
	d = opendir("tests/golden/crypto");
	while (d && (de = readdir(d))) {
		char path[512];

		if (!strstr(de->d_name, ".txt"))
			continue;
		snprintf(path, sizeof(path), "tests/golden/crypto/%s", de->d_name);
		golden(path);
		files++;
	}
	if (d)
		closedir(d);
	CHECK(files >= 2, "golden files: %d", files);
	return t_done("rpccrypto");
}
