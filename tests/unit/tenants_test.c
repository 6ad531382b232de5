/* The owner store's claim/finish cycle (idempotency keys: done, in flight, stale, unknown,
 * refused) on a real SQLite file, two handles on it as two processes would have, and the
 * policy file's groups, admins and refusals of what it does not understand. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../core/policy.h"
#include "../../core/store.h"
#include "t.h"

static void test_store(void)
{
	char path[] = "/tmp/sparkgate-store-test-XXXXXX";
	int fd = mkstemp(path);
	struct sg_err e = { 0 };
	struct store *a, *b;
	enum claim_result r;
	int64_t row, row2;
	char id[128], owner[64];
	struct store_entry list[4];
	size_t n;

	close(fd);
	a = store_open(path, &e);
	b = store_open(path, &e);   /* a second process */
	CHECK(a && b, "open: %s", e.msg);
	if (!a || !b)
		return;

	/* a key claimed by a, in flight: b's retry must not start a second driver */
	CHECK(store_claim(a, "alice", "k1", 1000, 5000, &r, &row, id, sizeof(id), &e) == 0 && r == CLAIM_NEW, "claim");
	CHECK(store_claim(b, "alice", "k1", 2000, 5000, &r, &row2, id, sizeof(id), &e) == 0 && r == CLAIM_IN_FLIGHT,
	      "in flight: %d", r);
	/* the same key is another user's own */
	CHECK(store_claim(b, "bob", "k1", 2000, 5000, &r, &row2, id, sizeof(id), &e) == 0 && r == CLAIM_NEW, "bob");
	CHECK(store_finish(a, row, "driver-1", 0, "app", "Main", &e) == 0, "finish: %s", e.msg);
	CHECK(store_claim(b, "alice", "k1", 3000, 5000, &r, &row2, id, sizeof(id), &e) == 0 && r == CLAIM_DONE, "done");
	CHECK_STR(id, "driver-1");

	/* refused by the master: forgotten, the key can be used again */
	CHECK(store_claim(a, "alice", "k2", 1000, 5000, &r, &row, id, sizeof(id), &e) == 0 && r == CLAIM_NEW, "k2");
	CHECK(store_finish(a, row, NULL, 0, NULL, NULL, &e) == 0, "forget");
	CHECK(store_claim(a, "alice", "k2", 1000, 5000, &r, &row, id, sizeof(id), &e) == 0 && r == CLAIM_NEW, "k2 again");
	/* unknown outcome: never new again */
	CHECK(store_finish(a, row, NULL, 1, "app", "Main", &e) == 0, "unknown");
	CHECK(store_claim(b, "alice", "k2", 9000, 5000, &r, &row2, id, sizeof(id), &e) == 0 && r == CLAIM_UNKNOWN, "k2 unknown");
	/* a claim whose process died: stale after stale_ms, then unknown, not new */
	CHECK(store_claim(a, "alice", "k3", 1000, 5000, &r, &row, id, sizeof(id), &e) == 0 && r == CLAIM_NEW, "k3");
	CHECK(store_claim(b, "alice", "k3", 7000, 5000, &r, &row2, id, sizeof(id), &e) == 0 && r == CLAIM_UNKNOWN, "stale");
	/* without a key every create is new */
	CHECK(store_claim(a, "carol", NULL, 1000, 5000, &r, &row, id, sizeof(id), &e) == 0 && r == CLAIM_NEW, "no key");
	CHECK(store_finish(a, row, "driver-2", 0, "app2", "Main2", &e) == 0, "finish 2");
	CHECK(store_claim(a, "carol", NULL, 1000, 5000, &r, &row, id, sizeof(id), &e) == 0 && r == CLAIM_NEW, "no key 2");

	CHECK(store_owner(b, "driver-1", owner, sizeof(owner), &e) == 0, "owner");
	CHECK_STR(owner, "alice");
	CHECK(store_owner(b, "driver-x", owner, sizeof(owner), &e) == 1, "unknown id");
	CHECK(store_list(b, "alice", 4, list, &n, &e) == 0 && n == 1, "alice's list: %zu", n);
	CHECK(store_list(b, NULL, 4, list, &n, &e) == 0 && n == 2, "everyone's list: %zu", n);
	CHECK_STR(list[0].owner, "carol");   /* newest first (same time: later row first) */
	store_close(a);
	store_close(b);
	unlink(path);
	for (const char *suffix = "-wal"; suffix; suffix = strcmp(suffix, "-wal") == 0 ? "-shm" : NULL) {
		char side[64];

		snprintf(side, sizeof(side), "%s%s", path, suffix);
		unlink(side);
	}
}

static void test_policy(void)
{
	static const char text[] = "# comment\n\ngroup ops = carol  # trailing comment\n"
				   "group analysts = alice bob\ngroup ops = dave\nadmins ops\n";
	struct policy p;
	struct sg_err e = { 0 };
	const char *bad[] = { "groop ops = a\n", "group ops a\n", "admins\n", "admins a b\n", "group = a\n" };

	policy_init(&p);
	CHECK(policy_parse(&p, text, sizeof(text) - 1, &e) == 0, "%s", e.msg);
	CHECK(policy_is_admin(&p, "carol") && policy_is_admin(&p, "dave"), "admins");
	CHECK(!policy_is_admin(&p, "alice") && !policy_is_admin(&p, NULL), "not admins");
	CHECK(policy_in_group(&p, "bob", "analysts") && !policy_in_group(&p, "bob", "ops"), "groups");
	policy_release(&p);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		policy_init(&p);
		CHECK(policy_parse(&p, bad[i], strlen(bad[i]), &e) != 0 && strstr(e.msg, "line 1"), "accepted: %s", bad[i]);
		policy_release(&p);
	}
	policy_init(&p);
	CHECK(!policy_is_admin(&p, "carol"), "no policy: no admins");
	policy_release(&p);
}

int main(void)
{
	test_store();
	test_policy();
	return t_done("tenants_test");
}
