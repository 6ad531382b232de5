/* sparkgate's command line: one table (options.c) drives getopt_long, --help and the filling
 * of the gateway's config; doc/sparkgate.8 and README.md describe the same options in prose
 * (tests/unit/options_test.c holds them against the table). */
#ifndef SG_OPTIONS_H
#define SG_OPTIONS_H

#include <stddef.h>
#include <stdio.h>

#include "gateway.h"
#include "log.h"

/* What the command line sets: the gateway's config and what the front end keeps. */
struct options {
	struct gateway_config gw;
	const char *listen;             /* --listen ADDR, or NULL: systemd's socket, stdin's, CGI */
	const char *web_servers;        /* --web-servers ADDR[,ADDR], or NULL */
	size_t backlog;                 /* --backlog */
	const char *secret_file, *jws_secret_file, *state_db_file;   /* read into gw at start */
	enum log_level log_level;
	const char *log_file;
};

enum opt_kind {
	OPT_TEXT,          /* the argument itself (const char *) */
	OPT_COUNT,         /* a decimal count within [min, max] (int or size_t) */
	OPT_BYTES,         /* bytes, or with k, m, g; "none": -1 (int64_t) */
	OPT_MS,            /* milliseconds, or with ms, s; at most an hour (int) */
	OPT_CHOICE,        /* one of choices' texts, stored as its value (int or an enum) */
	OPT_PLACEHOLDERS,  /* --env-placeholders: "none" NULL, "all" "*", else NAME,NAME... */
	OPT_HELP,          /* prints --help, exits 0 */
	OPT_VERSION,       /* prints the version, exits 0 */
};

struct opt_choice {
	const char *text;
	int value;
};

struct opt {
	const char *name;               /* the long name, without "--" */
	char short_name;                /* or 0 */
	const char *metavar;            /* in --help; NULL: takes no argument */
	enum opt_kind kind;
	size_t offset, size;            /* the member of struct options it sets */
	size_t min, max;                /* OPT_COUNT */
	const size_t *max_from;         /* OPT_COUNT: a bound the gateway names, instead of max */
	const struct opt_choice *choices;   /* OPT_CHOICE, ended by { NULL } */
	const char *help;               /* lines of --help; "{builds}" stands for the Spark builds */
};

/* The table, in --help's order, ended by an entry without name. */
extern const struct opt options_table[];

/* The defaults of every option. */
void options_init(struct options *o);
/* Parses argv into o (getopt_long: later wins).  0: go on; else the process is to exit with
 * *status (after --help or --version, 0; after a message on stderr and the usage, 2). */
int options_parse(struct options *o, int argc, char **argv, int *status);
/* --help. */
void options_usage(FILE *f);

/* A one-line secret file (--secret-file, --jws-secret-file) into out (one trailing newline
 * ignored): 0, or -1 after a message naming option on stderr. */
int options_read_secret(const char *path, const char *option, char *out, size_t size);
/* The gateway the options describe: checks what no single option can, reads the secret
 * files (zeroed again once the gateway has them).  0 with *g, or 2 (the exit status) after a
 * message on stderr. */
int options_start(struct options *o, struct gateway **g);

#endif
