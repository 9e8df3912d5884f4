/* cli.h - what the files of the drudge CLI share: the shape of the command
 * table (main.c), the run context, and the helpers every command uses for
 * messages, arguments, the Redis connection and output (util.c).
 * The CLI talks to Redis only through the public libdrudge API. */
#ifndef DRUDGE_CLI_H
#define DRUDGE_CLI_H

#include "drudge.h"

#include <getopt.h>
#include <stdint.h>
#include <stdio.h>

/* Exit statuses: the same for every command. */
enum {
    CLI_OK = 0,
    CLI_FAILURE = 1,     /* runtime failure: Redis down, bad payload, job failed */
    CLI_USAGE = 2,       /* misuse, or a bad config file */
    CLI_DUPLICATE = 3,   /* push --unique: a live copy exists */
    CLI_UNKNOWN_JOB = 4, /* no such job */
};

typedef struct cli cli;

typedef struct cli_command {
    const char *name;
    int (*run)(cli *app, int argc, char **argv); /* argv[0] is the name */
    const char *summary;                         /* one line, for the command list */
    const char *usage;                           /* what follows the name */
    const char *details;                         /* options and notes for --help, or NULL */
    const struct cli_command *subs;              /* a group: its commands, NULL-name ended */
} cli_command;

struct cli {
    const char *config_path; /* --config, or NULL ($DRUDGE_CONFIG / defaults) */
    const char *redis_url;   /* --redis, or NULL */
    const cli_command *cmd;  /* the command running */
    char cmd_name[64];       /* "drudge failed retry", for messages */
    drudge_config *cfg;      /* after cli_connect() */
    drudge_client *client;   /* after cli_connect() */
};

/* ---- commands (push.c, status.c, inspect.c, manage.c) ---- */
int cli_cmd_push(cli *app, int argc, char **argv);
int cli_cmd_status(cli *app, int argc, char **argv);
int cli_cmd_stats(cli *app, int argc, char **argv);
int cli_cmd_workers(cli *app, int argc, char **argv);
int cli_cmd_cron_list(cli *app, int argc, char **argv);
int cli_cmd_failed_list(cli *app, int argc, char **argv);
int cli_cmd_failed_retry(cli *app, int argc, char **argv);
int cli_cmd_failed_delete(cli *app, int argc, char **argv);
int cli_cmd_pause(cli *app, int argc, char **argv);
int cli_cmd_resume(cli *app, int argc, char **argv);
int cli_cmd_cancel(cli *app, int argc, char **argv);

/* ---- messages (util.c) ---- */
/* "drudge push: <message> (try drudge push --help)" on stderr; returns CLI_USAGE. */
int cli_usage(cli *app, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "drudge push: <message>" on stderr; returns CLI_FAILURE. */
int cli_fail(cli *app, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Same voice, any exit status. */
int cli_error(cli *app, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Print the --help text of the running command on stdout; returns CLI_OK. */
int cli_help(cli *app);
void cli_print_help(const cli_command *cmd, const char *full_name, FILE *f);

/* ---- arguments (util.c) ---- */
/* getopt_long over argv (option letters may follow the operands). Returns
 * the option, -1 at the end, or '?' after printing why the option is wrong.
 * Every command's option table ends with {"help", no_argument, NULL, 'h'}. */
int cli_getopt(cli *app, int argc, char **argv, const char *shortopts,
               const struct option *longopts);
/* Check the operands left after the options: between min and max of them,
 * named `names` in messages ("CLASS", "ID"). CLI_OK or CLI_USAGE. */
int cli_operands(cli *app, int argc, char **argv, int min, int max, const char *const *names);
int cli_check_class(cli *app, const char *name); /* CLI_OK or CLI_USAGE */
int cli_check_id(cli *app, const char *id);      /* CLI_OK or CLI_USAGE */
/* Whole-string numbers in [min, max], else CLI_USAGE naming `what`. */
int cli_parse_long(cli *app, const char *what, const char *s, long min, long max, long *out);
int cli_parse_double(cli *app, const char *what, const char *s, double min, double max,
                     double *out);

/* ---- Redis (util.c) ---- */
/* Load the config, apply --redis, connect. CLI_OK, CLI_USAGE (config) or
 * CLI_FAILURE (Redis), after printing why. */
int cli_connect(cli *app);

/* ---- output (util.c) ---- */
/* The value as indented JSON and a newline on stdout; CLI_OK or CLI_FAILURE. */
int cli_print_json(cli *app, const json_t *v, size_t flags);
/* "2024-05-01 12:00:00" in local time, from unix ms. */
void cli_format_time(int64_t ms, char *buf, size_t cap);
/* "3 s", "4 min 5 s", "2 h 3 min", "3 d 4 h" for a span in ms. */
void cli_format_span(int64_t ms, char *buf, size_t cap);
/* "12:00:00 (5 s ago)" style: the time and how far from now. */
void cli_format_when(int64_t ms, int64_t now_ms, char *buf, size_t cap);
int64_t cli_now_ms(void);
/* A JSON value as text for a table cell (integers and strings). */
const char *cli_json_str(const json_t *obj, const char *key, char *buf, size_t cap);
long long cli_json_int(const json_t *obj, const char *key);

/* A plain text table: columns sized to their widest cell. */
#define CLI_TABLE_COLS_MAX 16
typedef struct cli_table {
    size_t ncols;
    const char *const *head;
    const char *align; /* one letter per column: 'l' or 'r' */
    char **cells;      /* rows * ncols, owned */
    size_t nrows, cap;
} cli_table;

void cli_table_init(cli_table *t, size_t ncols, const char *const *head, const char *align);
/* Copy one row of ncols cells. 0 or -1 (out of memory). */
int cli_table_add(cli_table *t, const char *const *cells);
void cli_table_print(const cli_table *t, FILE *f);
void cli_table_release(cli_table *t);

#endif
