/* The command line: the option table (fcgi/options.c) against the values it accepts and
 * refuses, the defaults its --help names, and the prose that documents it: every option of
 * the table has an entry in doc/sparkgate.8's OPTIONS and in README.md's options list, and
 * neither names an option the table does not have. */
#include <fcntl.h>
#include <getopt.h>
#include <glob.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../fcgi/options.h"
#include "t.h"

static const struct opt *find(const char *name)
{
	for (const struct opt *d = options_table; d->name; d++)
		if (strcmp(d->name, name) == 0)
			return d;
	return NULL;
}

/* options_parse over "sparkgate" + args (NULL-ended); its messages go to /dev/null. */
static int parse(struct options *o, int *status, const char *const *args)
{
	char *argv[16];
	int argc = 0, rc, saved = dup(STDERR_FILENO), null = open("/dev/null", O_WRONLY);

	argv[argc++] = (char *)"sparkgate";
	for (; *args && argc < 15; args++)
		argv[argc++] = (char *)*args;
	argv[argc] = NULL;
	options_init(o);
	optind = 0;   /* getopt_long starts over */
	fflush(stderr);
	dup2(null, STDERR_FILENO);
	rc = options_parse(o, argc, argv, status);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	close(null);
	return rc;
}

static void test_table(void)
{
	int n = 0;

	for (const struct opt *d = options_table; d->name; d++, n++) {
		CHECK(d->help && *d->help && d->help[strlen(d->help) - 1] != '\n', "--%s: help text", d->name);
		int twice = 0;

		for (const struct opt *e = d + 1; e->name; e++)
			twice += strcmp(d->name, e->name) == 0 || (d->short_name && d->short_name == e->short_name);
		CHECK(!twice, "--%s (-%c) twice", d->name, d->short_name ? d->short_name : ' ');
		CHECK((d->kind == OPT_HELP || d->kind == OPT_VERSION) == !d->metavar, "--%s: metavar", d->name);
		CHECK(d->kind != OPT_CHOICE || d->choices, "--%s: choices", d->name);
	}
	CHECK(n >= 29, "%d options", n);
}

static void test_values(void)
{
	static const struct {
		const char *args[4];
		const char *member;    /* which member the check reads */
		long long want;        /* its value; for texts 1 = the argument itself, 0 = NULL */
	} good[] = {
		{ { "--timeout", "+5" }, "timeout", 5 },
		{ { "-t", "3600" }, "timeout", 3600 },
		{ { "--connect-timeout", "1" }, "connect", 1 },
		{ { "-b", "0" }, "max_body", 0 },
		{ { "--max-body", "16000000" }, "max_body", 16000000 },
		{ { "--backlog", "65535" }, "backlog", 65535 },
		{ { "--master-rest-port", "6067" }, "rest_port", 6067 },
		{ { "--status-max-age", "2s" }, "max_age", 2000 },
		{ { "--status-max-age", "750ms" }, "max_age", 750 },
		{ { "--status-max-age", "0" }, "max_age", 0 },
		{ { "--max-upload", "200k" }, "max_upload", 200 << 10 },
		{ { "--max-upload", "1g" }, "max_upload", 1ll << 30 },
		{ { "--files-quota", "none" }, "quota", -1 },
		{ { "--files-quota", "5" }, "quota", 5 },
		{ { "--csrf", "header" }, "csrf", CSRF_HEADER },
		{ { "--csrf", "off" }, "csrf", CSRF_OFF },
		{ { "--anonymous", "allow" }, "anonymous", 1 },
		{ { "--anonymous", "allow", "--anonymous", "refuse" }, "anonymous", 0 },   /* later wins */
		{ { "--log-level", "debug" }, "log_level", LOG_LEVEL_DEBUG },
		{ { "--log-level", "error" }, "log_level", LOG_LEVEL_ERROR },
		{ { "--env-placeholders", "all" }, "placeholders", '*' },
		{ { "--env-placeholders", "A,B" }, "placeholders", 'A' },
		{ { "--env-placeholders", "A", "--env-placeholders", "none" }, "placeholders", 0 },
		{ { "--listen", "127.0.0.1:9000" }, "listen", '1' },
		{ { "--state-db-file", "x" }, "state_db_file", 'x' },
	};
	static const char *const bad[][2] = {
		{ "--timeout", "0" }, { "--timeout", "3601" }, { "-t", "-1" }, { "--timeout", "x" },
		{ "--connect-timeout", "" }, { "--backlog", "65536" }, { "--master-rest-port", "0" },
		{ "--master-rest-port", "65536" }, { "--max-body", "99999999999" }, { "--status-max-age", "3601s" },
		{ "--status-max-age", "1m" }, { "--max-upload", "1t" }, { "--max-upload", "-1" },
		{ "--files-quota", "2mb" }, { "--csrf", "none" }, { "--anonymous", "yes" }, { "--log-level", "warn" },
		{ "--env-placeholders", "A{" }, { "--env-placeholders", "" }, { "--env-placeholders", "A B" },
		{ "--bogus", "x" }, { "-x", "x" },
	};
	struct options o;
	int status;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		const char *args[8] = { "--master", "spark://h:7077" };
		const char *m = good[i].member;
		long long got;

		for (int j = 0; j < 4 && good[i].args[j]; j++)
			args[2 + j] = good[i].args[j];
		CHECK(parse(&o, &status, args) == 0, "case %zu (%s %s) refused", i, good[i].args[0], good[i].args[1]);
		got = !strcmp(m, "timeout") ? o.gw.timeout_s : !strcmp(m, "connect") ? o.gw.connect_timeout_s
		    : !strcmp(m, "max_body") ? (long long)o.gw.max_body : !strcmp(m, "backlog") ? (long long)o.backlog
		    : !strcmp(m, "rest_port") ? o.gw.master_rest_port : !strcmp(m, "max_age") ? o.gw.status_max_age_ms
		    : !strcmp(m, "max_upload") ? o.gw.max_upload : !strcmp(m, "quota") ? o.gw.files_quota
		    : !strcmp(m, "csrf") ? (long long)o.gw.csrf : !strcmp(m, "anonymous") ? o.gw.allow_anonymous
		    : !strcmp(m, "log_level") ? (long long)o.log_level
		    : !strcmp(m, "placeholders") ? (o.gw.placeholder_names ? *o.gw.placeholder_names : 0)
		    : !strcmp(m, "listen") ? (o.listen ? *o.listen : 0)
		    : !strcmp(m, "state_db_file") ? (o.state_db_file ? *o.state_db_file : 0) : -99;
		CHECK(got == good[i].want, "case %zu (%s %s): %lld, want %lld", i, good[i].args[0], good[i].args[1],
		      got, good[i].want);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *args[] = { "--master", "spark://h:7077", bad[i][0], bad[i][1], NULL };

		status = -1;
		CHECK(parse(&o, &status, args) == 1 && status == 2, "%s '%s' accepted", bad[i][0], bad[i][1]);
	}
	{
		const char *none[] = { NULL }, *extra[] = { "--master", "spark://h:7077", "extra", NULL };
		const char *version[] = { "--timeout", "x", "--version", NULL };

		CHECK(parse(&o, &status, none) == 1 && status == 2, "no --master");
		CHECK(parse(&o, &status, extra) == 1 && status == 2, "an argument");
		CHECK(parse(&o, &status, version) == 1 && status == 2, "a bad value before --version");
	}
}

/* The defaults --help states are the ones options_init sets. */
static void test_defaults_in_help(void)
{
	struct options o;
	char text[64];

	options_init(&o);
	snprintf(text, sizeof(text), "(%d)", o.gw.timeout_s);
	CHECK(strstr(find("timeout")->help, text), "--timeout's help lacks %s", text);
	snprintf(text, sizeof(text), "(%d)", o.gw.connect_timeout_s);
	CHECK(strstr(find("connect-timeout")->help, text), "--connect-timeout's help lacks %s", text);
	snprintf(text, sizeof(text), "(%zu)", o.gw.max_body);
	CHECK(strstr(find("max-body")->help, text), "--max-body's help lacks %s", text);
	snprintf(text, sizeof(text), "(%zu)", o.backlog);
	CHECK(strstr(find("backlog")->help, text), "--backlog's help lacks %s", text);
	snprintf(text, sizeof(text), "default %d)", o.gw.status_max_age_ms);
	CHECK(strstr(find("status-max-age")->help, text) || o.gw.status_max_age_ms != 1000, "--status-max-age");
	snprintf(text, sizeof(text), "default %lldm)", (long long)o.gw.max_upload >> 20);
	CHECK(strstr(find("max-upload")->help, text), "--max-upload's help lacks %s", text);
	snprintf(text, sizeof(text), "default %lldg;", (long long)o.gw.files_quota >> 30);
	CHECK(strstr(find("files-quota")->help, text), "--files-quota's help lacks %s", text);
	CHECK(o.gw.csrf == CSRF_ORIGIN && strstr(find("csrf")->help, "origin (default)"), "--csrf");
	CHECK(!o.gw.allow_anonymous && strstr(find("anonymous")->help, "refuse (default)"), "--anonymous");
	CHECK(o.log_level == LOG_LEVEL_INFO && strstr(find("log-level")->help, "info (default)"), "--log-level");
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *s;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	s = malloc((size_t)n + 1);
	if (s && fread(s, 1, (size_t)n, f) != (size_t)n) {
		free(s);
		s = NULL;
	}
	if (s)
		s[n] = '\0';
	fclose(f);
	return s;
}

enum { MAXDOC = 64 };
struct named {
	char name[40];
	char short_name;
};

/* The option a "--name" at p names (p after the dashes), in out: its length or 0. */
static size_t option_name(const char *p, int troff, char *out, size_t size)
{
	size_t n = 0;

	while (n + 1 < size && ((*p >= 'a' && *p <= 'z') || (*p == '-' && p[1] != '-' && n)
				|| (troff && *p == '\\' && p[1] == '-' && n))) {
		if (*p == '\\')
			p++;
		out[n++] = *p++;
	}
	out[n] = '\0';
	while (n && out[n - 1] == '-')   /* a sentence's dash after a name */
		out[--n] = '\0';
	return n;
}

/* doc/sparkgate.8: the option each .TP of OPTIONS starts with, and its short name. */
static int man_options(const char *man, struct named *out)
{
	const char *p = strstr(man, "\n.SH OPTIONS\n"), *end;
	int n = 0;

	if (!p)
		return -1;
	end = strstr(p + 1, "\n.SH ");
	while ((p = strstr(p, "\n.TP\n")) && (!end || p < end) && n < MAXDOC) {
		const char *line = p + 5, *dash;
		size_t len = strcspn(line, "\n");

		p = line - 1;
		if (strncmp(line, ".B", 2) != 0 || !(dash = strstr(line, "\\-\\-")) || dash > line + len)
			continue;   /* not an option (an endpoint's entry) */
		memset(&out[n], 0, sizeof(out[n]));
		option_name(dash + 4, 1, out[n].name, sizeof(out[n].name));
		if (line[2] && strncmp(strchr(line, ' ') + 1, "\\-", 2) == 0 && strchr(line, ' ')[3] != '\\')
			out[n].short_name = strchr(line, ' ')[3];
		n++;
	}
	return n;
}

/* README.md (or a page of doc/ the options moved to): every "--name" of its "## Options"
 * section, up to the next "## ". */
static int readme_options(struct named *out, char *where, size_t size)
{
	static const char *const patterns[] = { "README.md", "doc/*.md" };
	int n = -1;

	for (size_t i = 0; i < 2 && n < 0; i++) {
		glob_t g;

		if (glob(patterns[i], 0, NULL, &g) != 0)
			continue;
		for (size_t j = 0; j < g.gl_pathc && n < 0; j++) {
			char *text = slurp(g.gl_pathv[j]), *p, *end;

			if (text && ((p = strstr(text, "\n## Options")) != NULL)) {
				snprintf(where, size, "%s", g.gl_pathv[j]);
				end = strstr(p + 1, "\n## ");
				n = 0;
				for (; (p = strstr(p, "--")) && (!end || p < end) && n < MAXDOC; p += 2) {
					if (p[2] == '-' || (p[-1] >= 'a' && p[-1] <= 'z'))
						continue;
					memset(&out[n], 0, sizeof(out[n]));
					if (option_name(p + 2, 0, out[n].name, sizeof(out[n].name)))
						n++;
				}
			}
			free(text);
		}
		globfree(&g);
	}
	return n;
}

static int named_has(const struct named *list, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (strcmp(list[i].name, name) == 0)
			return i + 1;
	return 0;
}

static void test_documents(void)
{
	struct named man[MAXDOC], readme[MAXDOC];
	char *text = slurp("doc/sparkgate.8"), where[256] = "";
	int nman = text ? man_options(text, man) : -1, nreadme = readme_options(readme, where, sizeof(where));

	free(text);
	CHECK(nman > 0, "doc/sparkgate.8: no OPTIONS entries (run from the repository's root)");
	CHECK(nreadme > 0, "no \"## Options\" section in README.md or doc/*.md");
	for (const struct opt *d = options_table; d->name; d++) {
		int i = nman > 0 ? named_has(man, nman, d->name) : 0;

		CHECK(i, "--%s has no entry in doc/sparkgate.8's OPTIONS", d->name);
		CHECK(!i || man[i - 1].short_name == d->short_name, "--%s: short name -%c in the man page, -%c in the table",
		      d->name, man[i - 1].short_name ? man[i - 1].short_name : ' ', d->short_name ? d->short_name : ' ');
		CHECK(nreadme > 0 && named_has(readme, nreadme, d->name), "--%s is missing from %s's options list",
		      d->name, where);
	}
	for (int i = 0; i < nman; i++)
		CHECK(find(man[i].name), "doc/sparkgate.8 documents --%s, which sparkgate does not have", man[i].name);
	for (int i = 0; i < nreadme; i++)
		CHECK(find(readme[i].name), "%s's options list names --%s, which sparkgate does not have", where,
		      readme[i].name);
}

int main(void)
{
	test_table();
	test_values();
	test_defaults_in_help();
	test_documents();
	return t_done("options_test");
}
