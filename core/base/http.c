/* The request and response types every layer shares (see http.h). */
#include "base/http.h"

#include "base/limits.h"

static const char *const route_names[ROUTE_COUNT] = {
	"create", "kill", "status", "list", "logs", "files", "killall", "clear", "spark_readyz", "healthz", "readyz",
	"metrics", "batches", "livy_version", "download", "other",
};

static const char *const refusal_names[REFUSAL_COUNT] = {
	"policy", "quota", "csrf", "admins_only", "no_user", "bad_token", "other_users", "hosts", "proxy_user",
};

const char *route_name(enum route r)
{
	return r >= 0 && r < ROUTE_COUNT ? route_names[r] : "other";
}

const char *refusal_name(enum refusal r)
{
	return r >= 0 && r < REFUSAL_COUNT ? refusal_names[r] : "none";
}

static void response_clear(struct response *rs)
{
	rs->status = 200;
	rs->route = ROUTE_OTHER;
	rs->refusal = REFUSAL_NONE;
	rs->allow = NULL;
	rs->cache = NULL;
	rs->content_type = NULL;
	rs->stream = NULL;
	rs->stream_ctx = NULL;
	rs->stream_len = 0;
	rs->header[0] = '\0';
	rs->master_asks = 0;
	rs->hidden = rs->livy = rs->replayed = rs->store_failed = rs->note_error = 0;
	rs->rule[0] = rs->submission_id[0] = rs->user[0] = rs->note[0] = '\0';
}

void response_init(struct response *rs)
{
	response_clear(rs);
	buf_init(&rs->body, LIMIT_RESPONSE_BODY);
}

void response_reset(struct response *rs)
{
	response_clear(rs);
	buf_reset(&rs->body);
}

void response_release(struct response *rs)
{
	buf_release(&rs->body);
}

const char *http_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 206: return "Partial Content";
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 411: return "Length Required";
	case 413: return "Payload Too Large";
	case 416: return "Range Not Satisfiable";
	case 431: return "Request Header Fields Too Large";
	case 468: return "Unknown Protocol Version";
	case 500: return "Internal Server Error";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	case 507: return "Insufficient Storage";
	}
	return "Unknown";
}
