#include "wire/rpccipher.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "wire/authengine.h"
#include "wire/reader.h"

void rpc_cipher_init(struct rpc_cipher *c, size_t max_frame)
{
	memset(c, 0, sizeof(*c));
	buf_init(&c->raw, GCM_ENVELOPE_MAX(RPC_TLS_MAX(max_frame)));
	buf_init(&c->sealed, GCM_ENVELOPE_MAX(RPC_TLS_MAX(max_frame)));
	buf_init(&c->tls_out, RPC_TLS_MAX(max_frame));
	buf_init(&c->tls_in, RPC_TLS_MAX(max_frame));
}

void rpc_cipher_stop(struct rpc_cipher *c)
{
	crypto_ctr_release(&c->enc);
	crypto_ctr_release(&c->dec);
	explicit_bzero(c->key, sizeof(c->key));
	c->key_len = 0;
	c->kind = RPC_PLAIN;
	buf_reset(&c->raw);
	buf_reset(&c->sealed);
	buf_reset(&c->tls_out);
	buf_reset(&c->tls_in);
}

void rpc_cipher_close(struct rpc_cipher *c)
{
	rpc_cipher_stop(c);
	tls_conn_close(&c->tls);
}

ssize_t rpc_cipher_send(int fd, const void *p, size_t n)
{
	return send(fd, p, n, MSG_NOSIGNAL);
}

int rpc_cipher_buffered(const struct rpc_cipher *c)
{
	return tls_conn_pending(&c->tls) > 0;
}

void rpc_cipher_release(struct rpc_cipher *c)
{
	rpc_cipher_close(c);
	buf_release(&c->raw);
	buf_release(&c->sealed);
	buf_release(&c->tls_out);
	buf_release(&c->tls_in);
}

int rpc_cipher_start(struct rpc_cipher *c, int kind, const struct authengine *a, struct sg_err *e)
{
	rpc_cipher_stop(c);
	if (kind == RPC_AES_CTR) {
		/* CtrTransportCipher(key, inIv = client IV, outIv = server IV) on the client */
		if (crypto_ctr_init(&c->enc, a->key, a->key_len, a->output_iv)
		    || crypto_ctr_init(&c->dec, a->key, a->key_len, a->input_iv)) {
			rpc_cipher_stop(c);
			return sg_err_set(e, ERR_UNSUPPORTED, 0, "AES-CTR unavailable in %s", CRYPTO_LIBRARY);
		}
	} else if (kind == RPC_AES_GCM) {
		memcpy(c->key, a->key, a->key_len);
		c->key_len = a->key_len;
	} else {
		return sg_err_set(e, ERR_INVALID, 0, "unknown RPC cipher %d", kind);
	}
	c->kind = kind;
	return 0;
}

static void segment_nonce(uint8_t nonce[CRYPTO_GCM_IV_LEN], const uint8_t *prefix, uint32_t segment, int last)
{
	memcpy(nonce, prefix, GCM_NONCE_PREFIX);
	nonce[7] = (uint8_t)(segment >> 24);
	nonce[8] = (uint8_t)(segment >> 16);
	nonce[9] = (uint8_t)(segment >> 8);
	nonce[10] = (uint8_t)segment;
	nonce[11] = last ? 1 : 0;
}

/* AesGcmHkdfStreaming.deriveKeySpec: HKDF(key, salt, info = associated data = the length bytes). */
static int segment_key(const uint8_t *key, size_t key_len, const uint8_t *salt, const uint8_t length[8],
		       uint8_t *out)
{
	return crypto_hkdf_sha256(key, key_len, salt, key_len, length, 8, out, key_len);
}

/* GcmTransportCipher.GcmEncryptedMessage */
int gcm_envelope_seal(const uint8_t *key, size_t key_len, const uint8_t *header_random, const uint8_t *in,
		      size_t len, struct buf *out, struct sg_err *e)
{
	size_t header = 1 + key_len + GCM_NONCE_PREFIX, nseg = (len + GCM_PLAIN_SEGMENT - 1) / GCM_PLAIN_SEGMENT;
	uint8_t rnd[GCM_KEY_MAX + GCM_NONCE_PREFIX], skey[GCM_KEY_MAX], length[8], nonce[CRYPTO_GCM_IV_LEN];
	uint64_t count;
	size_t at;
	int rc;

	if (key_len != 16 && key_len != 32)
		return sg_err_set(e, ERR_INVALID, 0, "AES-GCM key of %zu bytes", key_len);
	if (header_random)
		memcpy(rnd, header_random, key_len + GCM_NONCE_PREFIX);
	else if (crypto_random(rnd, key_len + GCM_NONCE_PREFIX))
		return sg_err_set(e, ERR_IO, 0, "no random bytes from the kernel");
	/* the length of what is sent, as 3.5.9 and 4.x compute it (3.4.4 used Tink's
	 * expectedCiphertextSize, which differs just below a segment boundary; every receiver
	 * follows the length field) */
	count = 8 + header + len + nseg * CRYPTO_GCM_TAG_LEN;
	for (int i = 0; i < 8; i++)
		length[i] = (uint8_t)(count >> (56 - 8 * i));
	if (segment_key(key, key_len, rnd, length, skey))
		return sg_err_set(e, ERR_UNSUPPORTED, 0, "HKDF unavailable in %s", CRYPTO_LIBRARY);
	rc = buf_grow(out, (size_t)count);
	rc = rc ? rc : buf_add(out, length, 8);
	rc = rc ? rc : buf_addc(out, (uint8_t)header);
	rc = rc ? rc : buf_add(out, rnd, key_len + GCM_NONCE_PREFIX);
	for (size_t s = 0, done = 0; !rc && s < nseg; s++) {
		size_t n = len - done < GCM_PLAIN_SEGMENT ? len - done : GCM_PLAIN_SEGMENT;
		uint8_t *p;

		at = out->len;
		rc = buf_grow(out, n + CRYPTO_GCM_TAG_LEN);
		if (rc)
			break;
		p = out->data + at;
		segment_nonce(nonce, rnd + key_len, (uint32_t)s, s + 1 == nseg);
		if (crypto_aes_gcm(1, skey, key_len, nonce, NULL, 0, in + done, n, p, p + n)) {
			rc = ERR_UNSUPPORTED;
			break;
		}
		buf_commit(out, n + CRYPTO_GCM_TAG_LEN);
		done += n;
	}
	explicit_bzero(skey, sizeof(skey));
	return rc ? sg_err_set(e, rc, 0, "cannot seal an AES-GCM envelope: %s", sg_err_name(rc)) : 0;
}

/* GcmTransportCipher.DecryptionHandler, for one whole envelope. */
ssize_t gcm_envelope_open(const uint8_t *key, size_t key_len, const uint8_t *p, size_t n, size_t max_plain,
			  struct buf *plain, struct sg_err *e)
{
	size_t header = 1 + key_len + GCM_NONCE_PREFIX, done, seg;
	uint8_t skey[GCM_KEY_MAX], nonce[CRYPTO_GCM_IV_LEN];
	const uint8_t *salt, *prefix;
	uint64_t length;
	struct reader r;
	int rc = 0;

	if (key_len != 16 && key_len != 32)
		return sg_err_set(e, ERR_INVALID, 0, "AES-GCM key of %zu bytes", key_len);
	if (n < 8)
		return 0;
	reader_init(&r, p, n);
	length = reader_be64(&r);
	if (length > (uint64_t)GCM_ENVELOPE_MAX(max_plain))
		return sg_err_set(e, ERR_TOO_LARGE, 0, "AES-GCM envelope of %llu bytes", (unsigned long long)length);
	if (length < 8 + header)
		return sg_err_set(e, ERR_PROTOCOL, 0, "AES-GCM envelope of %llu bytes has no room for its header",
				  (unsigned long long)length);
	if (n > 8 && p[8] != header)   /* Tink's decrypter.init checks the header's first byte */
		return sg_err_set(e, ERR_PROTOCOL, 8, "AES-GCM header length %u, not %zu", p[8], header);
	if (n < length)
		return 0;
	reader_u8(&r);
	salt = reader_bytes(&r, key_len);
	prefix = reader_bytes(&r, GCM_NONCE_PREFIX);
	if (r.err || segment_key(key, key_len, salt, p, skey))
		return sg_err_set(e, ERR_UNSUPPORTED, 0, "HKDF unavailable in %s", CRYPTO_LIBRARY);
	done = 8 + header;
	for (seg = 0; done < length; seg++) {
		size_t left = (size_t)length - done, ct = left < GCM_SEGMENT ? left : GCM_SEGMENT;
		int last = ct == left;
		uint8_t *out, tag[CRYPTO_GCM_TAG_LEN];

		if (ct < CRYPTO_GCM_TAG_LEN) {
			rc = sg_err_set(e, ERR_PROTOCOL, done, "AES-GCM segment of %zu bytes", ct);
			break;
		}
		rc = buf_grow(plain, ct - CRYPTO_GCM_TAG_LEN);
		if (rc) {
			sg_err_set(e, rc, done, "AES-GCM envelope: %s", sg_err_name(rc));
			break;
		}
		out = plain->data + plain->len;
		memcpy(tag, p + done + ct - CRYPTO_GCM_TAG_LEN, sizeof(tag));
		segment_nonce(nonce, prefix, (uint32_t)seg, last);
		if (crypto_aes_gcm(0, skey, key_len, nonce, NULL, 0, p + done, ct - CRYPTO_GCM_TAG_LEN, out, tag)) {
			rc = sg_err_set(e, ERR_PROTOCOL, done, "AES-GCM segment %zu does not decrypt", seg);
			break;
		}
		buf_commit(plain, ct - CRYPTO_GCM_TAG_LEN);
		done += ct;
	}
	explicit_bzero(skey, sizeof(skey));
	return rc ? rc : (ssize_t)length;
}

/* The AES layer (or none): bytes as they go on the socket. */
static int aes_seal(struct rpc_cipher *c, const uint8_t *frame, size_t len, const uint8_t **out, size_t *out_len,
		    struct sg_err *e)
{
	int rc;

	buf_reset(&c->sealed);
	if (c->kind == RPC_PLAIN) {
		*out = frame;
		*out_len = len;
		return 0;
	}
	if (c->kind == RPC_AES_CTR) {
		rc = buf_grow(&c->sealed, len);
		if (rc)
			return sg_err_set(e, rc, 0, "cannot encrypt a frame: %s", sg_err_name(rc));
		if (crypto_ctr_apply(&c->enc, frame, c->sealed.data, len))
			return sg_err_set(e, ERR_UNSUPPORTED, 0, "AES-CTR failed");
		buf_commit(&c->sealed, len);
	} else {
		rc = gcm_envelope_seal(c->key, c->key_len, NULL, frame, len, &c->sealed, e);
		if (rc)
			return rc;
	}
	*out = c->sealed.data;
	*out_len = c->sealed.len;
	return 0;
}

/* TLS above AES (Spark 4.x adds its AES handlers first in the pipeline, before the
 * SslHandler): the frame through TLS, then TLS's records through the AES layer. */
int rpc_cipher_seal(struct rpc_cipher *c, const uint8_t *frame, size_t len, const uint8_t **out, size_t *out_len,
		    struct sg_err *e)
{
	int rc;

	if (!c->tls.ssl)
		return aes_seal(c, frame, len, out, out_len, e);
	buf_reset(&c->tls_out);
	if ((rc = tls_conn_encrypt(&c->tls, frame, len)) != 0 || (rc = tls_conn_output(&c->tls, &c->tls_out)) != 0)
		return sg_err_set(e, rc, 0, "cannot encrypt a frame with TLS: %s", sg_err_name(rc));
	return aes_seal(c, c->tls_out.data, c->tls_out.len, out, out_len, e);
}

/* Below TLS: the socket's bytes through the AES layer (or none) into in. */
static ssize_t aes_recv(struct rpc_cipher *c, int fd, struct buf *in, uint8_t *room, size_t nroom);

ssize_t rpc_cipher_recv(struct rpc_cipher *c, int fd, struct buf *in, uint8_t *room, size_t nroom)
{
	if (!c->tls.ssl)
		return aes_recv(c, fd, in, room, nroom);
	for (;;) {
		ssize_t n = tls_conn_read(&c->tls, room, nroom);
		uint8_t *r;
		size_t spare;
		int rc;

		if (n > 0) {
			buf_commit(in, (size_t)n);
			return n;
		}
		if (n == 0)
			return 0;
		if (errno != EAGAIN) {
			sg_err_set(&c->err, ERR_PROTOCOL, 0, "its TLS records do not open");
			errno = EBADMSG;
			return -1;
		}
		buf_reset(&c->tls_in);
		if (!(r = buf_spare(&c->tls_in, 65536, &spare, &rc))) {
			errno = ENOMEM;
			return -1;
		}
		n = aes_recv(c, fd, &c->tls_in, r, spare < 65536 ? spare : 65536);
		if (n <= 0)
			return n;
		if (tls_conn_feed(&c->tls, c->tls_in.data, c->tls_in.len)) {
			errno = ENOMEM;
			return -1;
		}
	}
}

static ssize_t aes_recv(struct rpc_cipher *c, int fd, struct buf *in, uint8_t *room, size_t nroom)
{
	ssize_t n;
	size_t before = in->len;

	if (c->kind != RPC_AES_GCM) {
		n = recv(fd, room, nroom, MSG_DONTWAIT);
		if (n > 0 && c->kind == RPC_AES_CTR && crypto_ctr_apply(&c->dec, room, room, (size_t)n)) {
			sg_err_set(&c->err, ERR_UNSUPPORTED, 0, "AES-CTR failed");
			errno = EBADMSG;
			return -1;
		}
		if (n > 0)
			buf_commit(in, (size_t)n);
		return n;
	}
	{
		size_t spare;
		int rc;
		size_t want = c->raw.max - c->raw.len < 65536 ? c->raw.max - c->raw.len : 65536;
		uint8_t *r = buf_spare(&c->raw, want ? want : 1, &spare, &rc);

		if (!r) {
			sg_err_set(&c->err, rc, 0, "AES-GCM envelope larger than the frame limit");
			errno = EBADMSG;
			return -1;
		}
		n = recv(fd, r, spare < 65536 ? spare : 65536, MSG_DONTWAIT);
		if (n <= 0)
			return n;
		buf_commit(&c->raw, (size_t)n);
	}
	for (;;) {
		ssize_t used = gcm_envelope_open(c->key, c->key_len, c->raw.data, c->raw.len, in->max - in->len, in,
						 &c->err);

		if (used < 0) {
			errno = EBADMSG;
			return -1;
		}
		if (used == 0)
			break;
		buf_consume(&c->raw, (size_t)used);
	}
	if (in->len == before) {
		errno = EAGAIN;
		return -1;
	}
	return (ssize_t)(in->len - before);
}
