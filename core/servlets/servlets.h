/* The endpoints: Spark's RestSubmissionServer (create, kill, status and Spark 4's killall,
 * clear, readyz; the ErrorServlet for everything else) and sparkgate's own (listing, logs,
 * uploads, health, metrics), dispatched from one table (route.c) that runs every check in
 * one fixed order and sets the request's route once.  The servlets ask the tenant layer
 * for decisions and answer through the reply door (ops/reply.h). */
#ifndef SG_SERVLETS_H
#define SG_SERVLETS_H

#include <stddef.h>
#include <stdint.h>

#include "base/http.h"
#include "ops/ask.h"
#include "ops/metrics.h"
#include "servlets/files.h"
#include "tenant/tenant.h"

/* What the servlets are lent: the layers below, and what only endpoints need. */
struct servlets {
	struct spark_ctx *spark;            /* the master and the request's deadline */
	struct tenant *tenant;              /* identity, owners, policy, quotas, claims */
	struct metrics *metrics;            /* the host's counters (/metrics), or NULL */
	struct status_cache *readyz_cache;  /* /readyz's shared result, or NULL */
	struct files_conf files;            /* --files-dir: uploads (files.h) */
	size_t max_body;
	int allow_anonymous;                /* serve requests without REMOTE_USER (default: refuse) */
	const char *placeholder_names;      /* Spark 4 {{NAME}} values: see submit_config */
};

/* One request as the dispatcher hands it to a servlet. */
struct call {
	const struct request *rq;
	const char *user;          /* who asks ("-": anonymous, --anonymous allow) */
	int admin;                 /* a member of the policy's admin group */
	const char *info;          /* the path below the servlet's prefix, or NULL */
	const char *id;            /* the submission id, for servlets that take one */
};

/* One request, under the deadline the gateway set in sv->spark. */
void servlets_handle(struct servlets *sv, const struct request *rq, struct response *rs);

/* Servlet prefix mapping "/v1/submissions/NAME/ *" (sic): whether path is the prefix itself or
 * below it; *info gets the rest (NULL for an exact match). */
int servlet_path_match(const char *path, const char *prefix, const char **info);

/* With an owner store, only the owner and admins may see or kill driver c->id; anyone
 * else gets the answer an unknown id gets, so other users' ids are not confirmed to exist.
 * 1 yes; 0 no (the caller answers as for an unknown id; reply_hide done when it is another
 * user's, not for an id nobody owns); -1 answered (the store failed). */
int servlet_may_touch(struct servlets *sv, const struct call *c, struct response *rs);

/* StandaloneSubmitRequestServlet.handleSubmit with c->rq's body (a CreateSubmissionRequest),
 * answered into rs in Spark's shape; out says what became of it for a caller that answers
 * in another shape (Livy's batches). */
struct servlet_created {
	int accepted;              /* the master took it: id set */
	char id[128];
	int64_t row;               /* its row in the owner store (0: none) */
	char message[512];         /* the master's message */
};
void servlet_create(struct servlets *sv, const struct call *c, struct response *rs, struct servlet_created *out);
/* RequestKillDriver for id: 0 with the master's reply in a, or -1 answered into rs. */
int servlet_kill(struct servlets *sv, const char *id, struct cluster_answer *a, struct response *rs);

/* What a listing's query asks (GET /v1/submissions and Livy's GET /batches: from, size,
 * state, name, since); given 0: no parameter (the listing of old). */
#define LIST_SCAN_MAX 5000    /* the drivers a state filter looks through */
struct list_query {
	int given;
	size_t from, size;            /* size 100 unless given (1 to 1000) */
	int state;                    /* an index into the caller's states, or -1: any */
	char name[256];               /* the application name, or "": any */
	int64_t since_ms;             /* submitted at or after, or 0: any */
};
/* 0, or -1 with why (for a 400); states: the names state= may take. */
int list_parse_query(const char *query, const char *const *states, size_t nstates, struct list_query *q, char *why,
		     size_t why_size);

/* The endpoints beyond route.c (each file's header says what it serves). */
void list_handle(struct servlets *sv, const struct call *c, struct response *rs);
void logs_handle(struct servlets *sv, const struct call *c, struct response *rs);
void files_handle(struct servlets *sv, const struct call *c, struct response *rs);
void files_download(struct servlets *sv, const struct call *c, struct response *rs);
void health_handle(struct servlets *sv, const struct call *c, struct response *rs);
void livy_batches_handle(struct servlets *sv, const struct call *c, struct response *rs);
void livy_version_handle(struct servlets *sv, const struct call *c, struct response *rs);

#endif
