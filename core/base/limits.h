/* Every maximum on bytes sparkgate reads or writes, stated once (like curl's DYN_* limits);
 * the ones that must fit inside another are derived from it, so a request can never be
 * larger than the frame that carries it and a failure is reported on the right side:
 * too much from the client is 413, too much from the master is 502.
 *
 *   HTTP body  <=  LIMIT_BODY_MAX  (--max-body, default LIMIT_BODY_DEFAULT)
 *   request stream  <=  LIMIT_REQUEST_STREAM  =  frame - RPC header - envelope
 *   frame either way  <=  LIMIT_FRAME
 *   parsed reply tree  <=  LIMIT_REPLY_ARENA  (a few times the frame: nodes are bigger
 *                                             than the bytes they came from)
 *   JSON answer  <=  LIMIT_RESPONSE_BODY; the answer with headers <= LIMIT_RESPONSE */
#ifndef SG_LIMITS_H
#define SG_LIMITS_H

/* One transport frame from or to the master.  Replies to submit/kill/status are a few KiB;
 * MasterStateResponse of a busy master is the largest thing the protocol carries. */
#define LIMIT_FRAME (16u << 20)

/* i64 frame length + u8 type + i64 request id + i32 body length */
#define LIMIT_RPC_HEADER 21u
/* RequestMessage envelope: 2 flags, host (<= 255), port, endpoint name (<= 64), lengths */
#define LIMIT_ENDPOINT_NAME 64u
#define LIMIT_ENVELOPE (2u + 2u + 255u + 4u + 2u + LIMIT_ENDPOINT_NAME)
/* The Java serialization stream of one request: what is left of a frame. */
#define LIMIT_REQUEST_STREAM (LIMIT_FRAME - LIMIT_RPC_HEADER - LIMIT_ENVELOPE)

/* Memory the Java serialization reader may build its tree in for one reply. */
#define LIMIT_REPLY_ARENA (2u * LIMIT_FRAME)
/* A Throwable formatted as text (message and stack trace) for an answer. */
#define LIMIT_THROWABLE_TEXT (1u << 20)

/* HTTP request bodies: a create is a few KiB.  No body larger than the stream it turns
 * into can be sent, so --max-body is capped there. */
#define LIMIT_BODY_DEFAULT (1u << 20)
#define LIMIT_BODY_MAX LIMIT_REQUEST_STREAM
/* FastCGI parameters sparkgate keeps (method, path, user, headers), all together. */
#define LIMIT_PARAMS (64u << 10)

/* JSON answers (a listing of 100 drivers is ~50 KiB; a status message carries a stack
 * trace of at most LIMIT_THROWABLE_TEXT). */
#define LIMIT_RESPONSE_BODY (4u << 20)
/* The master's web UI JSON (every worker, app and driver it retains: 200 completed apps and
 * drivers by default) */
#define LIMIT_MASTER_UI (8u << 20)
#define LIMIT_MASTER_UI_PAGE (1u << 20)    /* one HTML page of the master's web UI (an application's) */
#define LIMIT_MASTER_UI_DRIVERS 20000u
#define LIMIT_RESPONSE (LIMIT_RESPONSE_BODY + (64u << 10))

/* Uploads kept in a shared (PostgreSQL) store: one row per piece of this many bytes, each
 * written as the body is read and read back as it is served; no more is held at once. */
#define LIMIT_FILE_CHUNK (1u << 20)
/* A streamed answer (a stored upload) goes to the front end in pieces of at most this. */
#define LIMIT_STREAM_PIECE (64u << 10)

#endif
