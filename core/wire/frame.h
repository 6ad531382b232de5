/* Spark network-common transport frames and the RpcEnv RequestMessage envelope.
 *
 * Frame (MessageEncoder.java / TransportFrameDecoder.java in common/network-common):
 *   i64 frameLength (counts itself) | u8 type | type header | body
 * RpcRequest/RpcResponse header: i64 requestId, i32 bodySize; RpcFailure: i64 requestId,
 * i32 length, UTF-8 text; OneWayMessage: i32 bodySize.
 * RequestMessage (rpc/netty/NettyRpcEnv.scala, RequestMessage.serialize): u8 sender present
 * [utf host, i32 port], u8 receiver present, utf host, i32 port, utf endpoint name, then a
 * Java serialization stream. */
#ifndef SG_FRAME_H
#define SG_FRAME_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/limits.h"

enum frame_type {
	FRAME_RPC_REQUEST = 3,
	FRAME_RPC_RESPONSE = 4,
	FRAME_RPC_FAILURE = 5,
	FRAME_ONE_WAY = 9,
};

#define FRAME_HEADER_LEN 9          /* frameLength + type */

struct frame {
	int type;
	uint64_t request_id;          /* RpcRequest / RpcResponse / RpcFailure */
	const uint8_t *body;          /* points into the parsed input */
	size_t body_len;
};

/* Appends an RpcRequest frame holding body. */
int frame_write_rpc_request(struct buf *out, uint64_t request_id, const void *body, size_t len);
/* The same built in place: begin appends the header (its offset in *at), the caller appends
 * the body, end fills in both lengths.  No copy of the body is made. */
int frame_begin_rpc_request(struct buf *out, uint64_t request_id, size_t *at);
int frame_end_rpc_request(struct buf *out, size_t at);

/* Parses one frame at the start of p.  Returns the number of bytes it spans (> 0), 0 when
 * more input is needed, or a negative error (a frame longer than max is ERR_TOO_LARGE).
 * Frames of other types are returned with only their type set, so callers can skip them. */
ssize_t frame_parse(const uint8_t *p, size_t len, size_t max, struct frame *f, struct sg_err *e);

/* Appends a RequestMessage envelope without sender (as Spark's client-mode RpcEnv sends it)
 * for the endpoint on host:port; the caller appends the message stream after it.  Host and
 * endpoint are ASCII of at most 255 and LIMIT_ENDPOINT_NAME bytes (ERR_INVALID,
 * ERR_TOO_LARGE), so the envelope fits in LIMIT_ENVELOPE. */
int frame_write_envelope(struct buf *out, const char *host, int port, const char *endpoint);

#endif
