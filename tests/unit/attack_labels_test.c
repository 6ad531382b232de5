/* PoC (attack review): refusals the metrics and the audit log mislabel.  Each CHECK states
 * what the README promises; a FAIL is a mislabel that is still there.
 *
 *  1. A status, kill or logs request for an id NOBODY owns (a typo, a driver made outside
 *     sparkgate, a guessed id) is counted as sparkgate_refusals_total{rule="other_users"}
 *     and audited "refused: another user's driver": tenant_may_touch() answers 0 both for
 *     "someone else's" and for "no row" (store_owner() == 1), and servlet_may_touch()
 *     (core/servlets/route.c) calls reply_hide() for either.  The user's answer must stay the
 *     same (it is: the unknown-id answer); only the count and the audit line are wrong.  An
 *     operator watching other_users for users probing each other's drivers sees every typo.
 *  2. Livy: DELETE /batches/ID/state and DELETE /batches (no id) are answered 405 and never
 *     reach the master, yet audit_record() logs them as action "kill" (action_of():
 *     ROUTE_BATCHES + DELETE, whatever the path).
 *  3. Livy: a proxyUser naming another user is refused as REFUSAL_POLICY (livy.c
 *     create_batch), so impersonation attempts are counted as rule="policy". */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gateway_internal.h"
#include "t.h"

static const char policy[] = "allow app hdfs://nn/apps/ M\nallow property spark.app.name\n";

static char audit_text[65536];

static const char *read_audit(const char *path)
{
	int fd = open(path, O_RDONLY);
	ssize_t n = fd >= 0 ? read(fd, audit_text, sizeof(audit_text) - 1) : -1;

	audit_text[n > 0 ? n : 0] = '\0';
	if (fd >= 0)
		close(fd);
	return audit_text;
}

int main(void)
{
	struct gateway g;
	struct response rs;
	struct sg_err e = { 0 };
	char key[64], audit_path[128];
	const struct store_claim mine = { .token = "t", .holder = "h 1 1", .created_ms = 1, .lease_ms = 60001 };
	struct store_claim c;
	static const char livy_proxy[] = "{\"file\":\"hdfs://nn/apps/a.jar\",\"className\":\"M\",\"proxyUser\":\"alice\"}";

	memset(&g, 0, sizeof(g));
	CHECK(cluster_init(&g.spark.cluster, "spark://127.0.0.1:1", "4.0.5", &e) == 0, "%s", e.msg);
	g.spark.cluster.master.timeout_ms = 500;
	g.spark.cluster.master.connect_timeout_ms = 500;
	strcpy(g.spark.master_url, "spark://127.0.0.1:1");
	g.servlets.max_body = 1 << 20;
	policy_init(&g.tenant.policy);
	CHECK(policy_parse(&g.tenant.policy, policy, sizeof(policy) - 1, &e) == 0, "%s", e.msg);
	CHECK((g.tenant.store = store_open(":memory:", &e)) != NULL, "%s", e.msg);
	g.tenant.csrf = CSRF_ORIGIN;
	snprintf(g.tenant.master_ui, sizeof(g.tenant.master_ui), "off");
	snprintf(key, sizeof(key), "attack-labels-%ld", (long)getpid());
	CHECK((g.servlets.metrics = metrics_open(key, &e)) != NULL, "%s", e.msg);
	snprintf(audit_path, sizeof(audit_path), "/tmp/attack-labels-%ld.audit", (long)getpid());
	unlink(audit_path);
	audit_init(&g.audit);
	CHECK(audit_open(&g.audit, audit_path, &e) == 0, "%s", e.msg);
	/* alice owns driver ...-0002 (batch 1) */
	CHECK(store_claim(g.tenant.store, "alice", NULL, &mine, 1, 512, &c, &e) == 0
	      && store_finish(g.tenant.store, c.row, "driver-20000101000000-0002", 0, "a", "M", &e) == 0, "%s", e.msg);
	response_init(&rs);

	/* 1. an id nobody has, asked by bob: the unknown-id answer (right), counted as another user's (wrong) */
	{
		const struct request rq = { .method = "GET", .path = "/v1/submissions/status/driver-20991231000000-9999",
					    .remote_user = "bob" };

		response_reset(&rs);
		gateway_handle(&g, &rq, &rs);
		printf("status of an id nobody owns: HTTP %d, refusal=%s, hidden=%d\n", rs.status,
		       rs.refusal == REFUSAL_NONE ? "none" : refusal_name(rs.refusal), rs.hidden);
		CHECK(rs.refusal != REFUSAL_OTHER_USERS, "an id nobody owns is counted as another user's driver");
	}
	{
		const struct request rq = { .method = "POST", .path = "/v1/submissions/kill/driver-20991231000000-9999",
					    .remote_user = "bob" };

		response_reset(&rs);
		gateway_handle(&g, &rq, &rs);
		CHECK(rs.refusal != REFUSAL_OTHER_USERS, "a kill of an id nobody owns is audited as another user's");
	}
	/* 2. Livy: a 405 audited as a kill */
	{
		const struct request rq = { .method = "DELETE", .path = "/batches/1/state", .remote_user = "alice" };

		response_reset(&rs);
		gateway_handle(&g, &rq, &rs);
		printf("DELETE /batches/1/state: HTTP %d\n", rs.status);
		CHECK(rs.status == 405, "DELETE /batches/1/state: %d", rs.status);
	}
	{
		const struct request rq = { .method = "DELETE", .path = "/batches", .remote_user = "alice" };

		response_reset(&rs);
		gateway_handle(&g, &rq, &rs);
		CHECK(rs.status == 405, "DELETE /batches: %d", rs.status);
	}
	/* 3. Livy: impersonation counted as a policy refusal */
	{
		const struct request rq = { .method = "POST", .path = "/batches", .remote_user = "bob",
					    .body = livy_proxy, .body_len = sizeof(livy_proxy) - 1 };

		response_reset(&rs);
		gateway_handle(&g, &rq, &rs);
		printf("Livy proxyUser=alice by bob: HTTP %d, refusal=%s, rule=%s\n", rs.status, refusal_name(rs.refusal),
		       rs.rule);
		CHECK(rs.status == 403, "proxyUser: %d", rs.status);
		CHECK(rs.refusal != REFUSAL_POLICY, "an impersonation attempt is counted as rule=\"policy\"");
	}
	printf("--- audit log:\n%s", read_audit(audit_path));
	CHECK(!strstr(audit_text, "\"action\":\"kill\",\"submissionId\":null") && !strstr(audit_text, "\"status\":405"),
	      "405s of Livy audited as kills");
	{
		size_t n = 0;

		for (const char *p = audit_text; (p = strstr(p, "another user's driver")) != NULL; p++)
			n++;
		CHECK(n == 0, "%zu audit lines say \"refused: another user's driver\" for an id nobody owns", n);
	}

	response_release(&rs);
	audit_release(&g.audit);
	unlink(audit_path);
	metrics_close(g.servlets.metrics);
	metrics_remove(key);
	store_close(g.tenant.store);
	policy_release(&g.tenant.policy);
	cluster_release(&g.spark.cluster);
	return t_done("attack_labels_test");
}
