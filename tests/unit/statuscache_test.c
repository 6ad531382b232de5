/* The status cache across real processes (fork): hits within max-age, one ask for many
 * askers of a stale entry, waiters woken by the answer, a dead asker taken over, answers
 * too big for a slot, a table another could write refused. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ops/statuscache.h"
#include "spark/master.h"
#include "t.h"

static char key[64];
static const struct status_record rec = { 200, 1, 2, "worker-1", "127.0.0.1:1" };

static int64_t ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct status_cache *open_cache(int max_age)
{
	struct sg_err e = { 0 };
	struct status_cache *c = status_cache_open(key, max_age, &e);

	CHECK(c != NULL, "open: %s", e.msg);
	return c;
}

static void test_hit_expiry_forget(void)
{
	struct status_cache *c = open_cache(60);
	struct buf out = BUF_INIT(1 << 16);
	struct status_record st = { 0 };

	CHECK(status_cache_get(c, "driver-1", ms() + 1000, &st, &out) == STATUS_ASK, "first read asks");
	status_cache_put(c, "driver-1", &rec, "{\"x\" : 1}", 9);
	CHECK(status_cache_get(c, "driver-1", ms() + 1000, &st, &out) == STATUS_HIT && st.http_status == 200
	      && st.state == 2 && strcmp(st.worker_id, "worker-1") == 0
	      && out.len == 9 && memcmp(out.data, "{\"x\" : 1}", 9) == 0, "answered from the cache");
	usleep(90 * 1000);
	CHECK(status_cache_get(c, "driver-1", ms() + 1000, &st, &out) == STATUS_ASK, "older than max-age asks");
	status_cache_put(c, "driver-1", &rec, "{}", 2);
	status_cache_forget(c, "driver-1");
	CHECK(status_cache_get(c, "driver-1", ms() + 1000, &st, &out) == STATUS_ASK, "forgotten (kill, create) asks");
	status_cache_abandon(c, "driver-1");
	/* too big for a slot: asked without the cache, for max-age */
	CHECK(status_cache_get(c, "driver-big", ms() + 1000, &st, &out) == STATUS_ASK, "big: ask");
	{
		char *big = calloc(1, 4000);

		memset(big, 'x', 3999);
		status_cache_put(c, "driver-big", &rec, big, 3999);
		free(big);
	}
	CHECK(status_cache_get(c, "driver-big", ms() + 1000, &st, &out) == STATUS_BYPASS, "big: bypass");
	{
		char long_id[100];

		memset(long_id, 'd', sizeof(long_id) - 1);
		long_id[sizeof(long_id) - 1] = '\0';
		CHECK(status_cache_get(c, long_id, ms() + 1000, &st, &out) == STATUS_BYPASS, "an id too long: bypass");
	}
	buf_release(&out);
	status_cache_close(c);
}

/* Parent claims the ask; children asking meanwhile wait and get its answer: one ask. */
static void test_one_ask_for_many_processes(void)
{
	struct status_cache *c = open_cache(5000);
	struct buf out = BUF_INIT(1 << 16);
	struct status_cache_stats before, after;
	pid_t kids[4];
	struct status_record st = { 0 };
	int ok = 0;

	status_cache_stats(c, &before);
	CHECK(status_cache_get(c, "driver-2", ms() + 5000, &st, &out) == STATUS_ASK, "parent asks");
	for (int i = 0; i < 4; i++) {
		if ((kids[i] = fork()) == 0) {
			struct sg_err e = { 0 };
			struct status_cache *k = status_cache_open(key, 5000, &e);
			int64_t t0 = ms();
			enum status_lookup l = k ? status_cache_get(k, "driver-2", ms() + 5000, &st, &out) : STATUS_BYPASS;

			_exit(l == STATUS_HIT && st.http_status == 200 && out.len == 5 && memcmp(out.data, "done!", 5) == 0
			      && ms() - t0 >= 150 ? 0 : 1);
		}
	}
	usleep(300 * 1000);   /* the children are waiting by now */
	status_cache_put(c, "driver-2", &rec, "done!", 5);
	for (int i = 0; i < 4; i++) {
		int ws = 0;

		waitpid(kids[i], &ws, 0);
		ok += WIFEXITED(ws) && WEXITSTATUS(ws) == 0;
	}
	CHECK(ok == 4, "%d of 4 waiting processes got the one answer", ok);
	status_cache_stats(c, &after);
	CHECK(after.asks - before.asks == 1 && after.hits - before.hits == 4 && after.waits - before.waits == 4,
	      "asks %llu hits %llu waits %llu", (unsigned long long)(after.asks - before.asks),
	      (unsigned long long)(after.hits - before.hits), (unsigned long long)(after.waits - before.waits));
	buf_release(&out);
	status_cache_close(c);
}

/* A waiter whose asker gives up asks itself; one whose asker died does not wait for it. */
static void test_abandoned_and_dead_askers(void)
{
	struct status_cache *c = open_cache(5000);
	struct buf out = BUF_INIT(1 << 16);
	struct status_record st = { 0 };
	int ws = 0;
	pid_t kid;
	int64_t t0;

	CHECK(status_cache_get(c, "driver-3", ms() + 5000, &st, &out) == STATUS_ASK, "parent asks");
	if ((kid = fork()) == 0) {
		struct sg_err e = { 0 };
		struct status_cache *k = status_cache_open(key, 5000, &e);

		_exit(k && status_cache_get(k, "driver-3", ms() + 5000, &st, &out) == STATUS_ASK ? 0 : 1);
	}
	usleep(200 * 1000);
	status_cache_abandon(c, "driver-3");
	waitpid(kid, &ws, 0);
	CHECK(WIFEXITED(ws) && WEXITSTATUS(ws) == 0, "the waiter asks once the asker gave up");
	/* the child claimed driver-3 and exited without answering */
	t0 = ms();
	CHECK(status_cache_get(c, "driver-3", ms() + 3000, &st, &out) == STATUS_ASK, "a dead asker is taken over");
	CHECK(ms() - t0 < 100, "without waiting for its deadline (%lld ms)", (long long)(ms() - t0));
	status_cache_put(c, "driver-3", &rec, "{}", 2);
	/* a waiter's own deadline ends its wait */
	CHECK(status_cache_get(c, "driver-4", ms() + 5000, &st, &out) == STATUS_ASK, "parent asks driver-4");
	if ((kid = fork()) == 0) {
		struct sg_err e = { 0 };
		struct status_cache *k = status_cache_open(key, 5000, &e);
		int64_t start = ms();
		enum status_lookup l = k ? status_cache_get(k, "driver-4", ms() + 200, &st, &out) : STATUS_ASK;

		_exit(l == STATUS_BYPASS && ms() - start >= 190 && ms() - start < 1000 ? 0 : 1);
	}
	waitpid(kid, &ws, 0);
	CHECK(WIFEXITED(ws) && WEXITSTATUS(ws) == 0, "the waiter stops at its deadline");
	status_cache_abandon(c, "driver-4");
	buf_release(&out);
	status_cache_close(c);
}

static void test_table_others_could_write(void)
{
	char k2[80], name[96];
	struct sg_err e = { 0 };
	int fd;

	snprintf(k2, sizeof(k2), "%s-open", key);
	status_cache_name(k2, name, sizeof(name));
	fd = shm_open(name, O_RDWR | O_CREAT, 0600);
	CHECK(fd >= 0 && fchmod(fd, 0666) == 0, "made a world-writable table");
	CHECK(status_cache_open(k2, 1000, &e) == NULL && strstr(e.msg, "not this user's alone"), "%s", e.msg);
	if (fd >= 0)
		close(fd);
	shm_unlink(name);
}

/* Another local user takes the name first (a squat): refused, saying so and naming the
 * owner, never used; a symbolic link in its place is not followed.  (The squat needs a second
 * user: run as root, the test makes the object as nobody.) */
static void test_squatted_name(void)
{
	char k2[80], name[96], path[160], target[] = "/tmp/sg-shm-target-XXXXXX";
	struct sg_err e = { 0 };
	int fd;

	snprintf(k2, sizeof(k2), "%s-squat", key);
	status_cache_name(k2, name, sizeof(name));
	snprintf(path, sizeof(path), "/dev/shm%s", name);
	if (geteuid() == 0) {
		pid_t kid = fork();
		int ws;

		if (kid == 0) {
			int kfd;

			if (setgid(65534) || setuid(65534))
				_exit(2);
			kfd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600);   /* even mode 0600 */
			_exit(kfd >= 0 ? 0 : 1);
		}
		waitpid(kid, &ws, 0);
		CHECK(WIFEXITED(ws) && WEXITSTATUS(ws) == 0, "nobody could not make %s", name);
		sg_err_clear(&e);
		CHECK(status_cache_open(k2, 1000, &e) == NULL && strstr(e.msg, "another local user") != NULL
		      && strstr(e.msg, "65534") != NULL, "%s", e.msg);
		shm_unlink(name);
	}
	fd = mkstemp(target);
	CHECK(fd >= 0 && symlink(target, path) == 0, "symlink %s", path);
	sg_err_clear(&e);
	CHECK(status_cache_open(k2, 1000, &e) == NULL && e.msg[0], "followed a symbolic link: %s", e.msg);
	{
		struct stat st;

		CHECK(stat(target, &st) == 0 && st.st_size == 0, "the link's target was written");
	}
	if (fd >= 0)
		close(fd);
	unlink(path);
	unlink(target);
}

/* The table's key tells apart what a connection's answers depend on: another secret, plain
 * beside AES, another AES setting (and TLS: tls_ctx_id) never share a table; the same
 * configuration does (the host's processes); the secret itself is nowhere in the key. */
static void test_key_parts(void)
{
	static const char *secrets[] = { NULL, "secret-A", "secret-B", "secret-A", "secret-A" };
	char keys[5][600], names[5][96];
	struct sg_err e = { 0 };

	for (int i = 0; i < 5; i++) {
		struct master m;
		struct master_crypto aes = { .enabled = 1, .version = i == 4 ? 2 : 1, .cipher = RPC_AES_GCM };

		CHECK(master_init(&m, "spark://127.0.0.1:7077", &e) == 0, "%s", e.msg);
		master_set_secret(&m, secrets[i]);
		if (i >= 3)
			master_set_crypto(&m, &aes);
		CHECK(status_cache_key(&m, "4.0.5", keys[i], sizeof(keys[i])) == 0, "key %d", i);
		status_cache_name(keys[i], names[i], sizeof(names[i]));
		CHECK(!strstr(keys[i], "secret-"), "the secret in the key: %s", keys[i]);
		master_release(&m);
	}
	for (int i = 0; i < 5; i++)
		for (int j = i + 1; j < 5; j++)
			CHECK(strcmp(keys[i], keys[j]) && strcmp(names[i], names[j]), "configurations %d and %d share %s",
			      i, j, names[i]);
	{
		struct master m;
		char again[600];

		CHECK(master_init(&m, "spark://127.0.0.1:7077", &e) == 0, "%s", e.msg);
		master_set_secret(&m, "secret-A");
		CHECK(status_cache_key(&m, "4.0.5", again, sizeof(again)) == 0 && strcmp(again, keys[1]) == 0,
		      "the same configuration has another key: %s", again);
		CHECK(status_cache_key(&m, "4.0.5", again, 20) == ERR_TOO_LARGE, "a short buffer");
		master_release(&m);
	}
}

int main(void)
{
	char name[96];

	snprintf(key, sizeof(key), "statuscache_test-%d", (int)getpid());
	test_hit_expiry_forget();
	test_one_ask_for_many_processes();
	test_abandoned_and_dead_askers();
	test_table_others_could_write();
	test_squatted_name();
	test_key_parts();
	status_cache_name(key, name, sizeof(name));
	shm_unlink(name);
	return t_done("statuscache");
}
