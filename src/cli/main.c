/* main.c - the drudge command line: global options, the table of commands
 * and the dispatch into it. Adding a command is a row here and a function
 * in one of push.c, status.c, inspect.c (read-only views) or manage.c
 * (changes: failed jobs, pause, resume, cancel). */
#include "cli.h"
#include "../web/web.h"

#include <stdlib.h>
#include <string.h>

static int cmd_help(cli *app, int argc, char **argv);

#define EXIT_NOTE                                                                                  \
    "Exit status: 0 ok; 1 failure (Redis unreachable, invalid payload, the job failed);\n"         \
    "2 misuse or a bad config file; 3 push --unique found a live copy; 4 unknown job.\n"

static const cli_command failed_commands[] = {
    {"list", cli_cmd_failed_list, "List the failed jobs of a class, newest first.",
     "[--json] [--limit N] [--offset N] CLASS",
     "  --json        print the list as JSON\n"
     "  --limit N     show at most N jobs (default 20)\n"
     "  --offset N    skip the N newest first (default 0)\n",
     NULL},
    {"retry", cli_cmd_failed_retry,
     "Put failed jobs back on their queue (attempts start again at 0).", "CLASS ID|--all",
     "  --all         retry every failed job of CLASS, oldest first\n"
     "\n"
     "A job pushed again since it failed and still live only leaves the failed list.\n"
     "Exit status: 0 done, 4 no failed job ID in CLASS.\n",
     NULL},
    {"delete", cli_cmd_failed_delete, "Delete failed jobs and their status for good.",
     "CLASS ID|--all",
     "  --all         delete every failed job of CLASS\n"
     "\n"
     "Exit status: 0 done, 4 no failed job ID in CLASS.\n",
     NULL},
    {NULL, NULL, NULL, NULL, NULL, NULL},
};

static const cli_command cron_commands[] = {
    {"list", cli_cmd_cron_list, "List the config's schedule with last and next fire times.",
     "[--json]", "  --json        print the list as JSON\n", NULL},
    {NULL, NULL, NULL, NULL, NULL, NULL},
};

static const cli_command commands[] = {
    {"push", cli_cmd_push, "Push a job onto a class's queue and print its id.",
     "[--delay S] [--at UNIX_TIME] [--id ID] [--unique] CLASS JSON|-\n"
     "       drudge push --lines CLASS [FILE|-]",
     "  CLASS            the job class (the queue's name), e.g. ImageJob\n"
     "  JSON             the payload, a JSON object; \"-\" reads it from stdin\n"
     "  --delay S        run it S seconds from now (fractions allowed)\n"
     "  --at UNIX_TIME   run it at this time (unix seconds)\n"
     "  --id ID          set the payload's top-level \"id\" (the job id)\n"
     "  --unique         do not push if a job with the same id is queued or running\n"
     "  --lines          push every line of FILE (default stdin) as one job, pipelined,\n"
     "                   and print their ids in order; job N is line N. All lines are\n"
     "                   checked first: one bad line pushes nothing\n"
     "\n"
     "Without \"id\" in the payload the job id is the SHA-256 of the payload bytes.\n"
     "Trailing white space read from stdin is not part of the payload.\n"
     "Exit status: 0 pushed, 1 failure, 2 misuse, 3 --unique found a live copy (its id\n"
     "is printed).\n",
     NULL},
    {"status", cli_cmd_status, "Show a job's status; --watch follows it until it ends.",
     "[--json] [--watch] CLASS ID",
     "  --json     print the status hash as JSON (with --watch: one line per change)\n"
     "  --watch    follow the job until it ends: a progress bar on a terminal, else\n"
     "             one line per change\n"
     "\n"
     "Exit status: 0 the job is not failed or cancelled (with --watch: it is done),\n"
     "1 failed or cancelled, 4 unknown job.\n",
     NULL},
    {"stats", cli_cmd_stats, "Show queue lengths, workers and counters per class.", "[--json]",
     "  --json     print the numbers as JSON\n", NULL},
    {"workers", cli_cmd_workers, "List the registered workers and their heartbeats.", "[--json]",
     "  --json     print the list as JSON\n", NULL},
    {"failed", NULL, "Look at, retry or delete failed jobs.", "COMMAND ...", NULL, failed_commands},
    {"pause", cli_cmd_pause, "Pause a class: workers take none of its jobs until resumed.",
     "[--for SECONDS] [--reason TEXT] CLASS",
     "  --for SECONDS   resume on its own after this long\n"
     "  --reason TEXT   why (shown by stats; default \"paused\")\n"
     "\n"
     "Running jobs finish; queued and new jobs wait.\n",
     NULL},
    {"resume", cli_cmd_resume, "Resume a paused class (and reset its circuit breaker).", "CLASS",
     NULL, NULL},
    {"cancel", cli_cmd_cancel, "Cancel a job that has not finished.", "CLASS ID",
     "A queued or delayed job is removed at once; a running job is flagged and its\n"
     "worker records it as cancelled.\n"
     "Exit status: 0 cancelled (or requested), 1 already finished, 4 unknown job.\n",
     NULL},
    {"cron", NULL, "Look at the configured schedule.", "COMMAND ...", NULL, cron_commands},
    {"web", cli_cmd_web, "Serve the dashboard, the JSON + SSE status API and /metrics.",
     "[--listen HOST:PORT] [--token-file FILE] [--require-token-for-reads]",
     "  --listen HOST:PORT         where to listen (default: the config's web.listen,\n"
     "                             127.0.0.1:8080)\n"
     "  --token-file FILE          the bearer token that pausing, retrying, deleting and\n"
     "                             pushing need (one line, 16-256 characters); else\n"
     "                             $DRUDGE_WEB_TOKEN, else the config's web.token_file,\n"
     "                             else a random one, printed with the\n"
     "                             address to open\n"
     "  --require-token-for-reads[=BOOL]  the API, /metrics and outputs need the token\n"
     "                             too (default: the config's web.require_token_for_reads)\n"
     "  --timeout S                close a connection idle this long (default 30)\n"
     "  --max-connections N        open connections at most (default 1024)\n"
     "  --max-per-ip N             from one address at most (default 256; 0 = no limit)\n"
     "\n"
     "Runs until SIGINT or SIGTERM. Pages: / (overview), /workers, /classes/CLASS,\n"
     "/jobs/CLASS/ID, /demo; JSON under /api/, Prometheus text at /metrics.\n",
     NULL},
    {"capacity", cli_cmd_capacity, "How many workers fit in memory, and their jobs per month.",
     "[--memory SIZE] [--json]",
     "  --memory SIZE   the memory to fill, e.g. 4G or 512M (default: this machine's)\n"
     "  --json          print the numbers as JSON\n"
     "\n"
     "Uses the live workers' measured RSS and each class's mean job time.\n",
     NULL},
    {"help", cmd_help, "Show the help of a command.", "[COMMAND [SUBCOMMAND]]", NULL, NULL},
    {NULL, NULL, NULL, NULL, NULL, NULL},
};

static const cli_command *find_command(const cli_command *table, const char *name)
{
    for (const cli_command *c = table; c->name; c++)
        if (strcmp(c->name, name) == 0)
            return c;
    return NULL;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: drudge [--config FILE] [--redis URL] COMMAND [ARGS]\n"
               "\n"
               "Push jobs to drudge workers and look after the queues in Redis.\n"
               "\n"
               "Commands:\n");
    for (const cli_command *c = commands; c->name; c++) {
        if (c->subs == NULL) {
            fprintf(f, "  %-15s %s\n", c->name, c->summary);
            continue;
        }
        for (const cli_command *s = c->subs; s->name; s++) {
            char both[64];
            snprintf(both, sizeof both, "%s %s", c->name, s->name);
            fprintf(f, "  %-15s %s\n", both, s->summary);
        }
    }
    fprintf(f,
            "\n"
            "Options:\n"
            "  -c, --config FILE   YAML config (default $DRUDGE_CONFIG, else built-in defaults)\n"
            "  -r, --redis URL     redis://[user:pass@]host:port/db or unix:///path\n"
            "                      (overrides the config and $DRUDGE_REDIS_URL)\n"
            "  -h, --help          this text; \"drudge COMMAND --help\" for a command's\n"
            "  -V, --version       the version\n"
            "\n" EXIT_NOTE);
}

static void set_name(cli *app, const char *name)
{
    size_t len = strlen(app->cmd_name);
    snprintf(app->cmd_name + len, sizeof app->cmd_name - len, " %s", name);
}

/* Run `cmd` with argv[0] its name; a group picks its subcommand first. */
static int run_command(cli *app, const cli_command *cmd, int argc, char **argv)
{
    set_name(app, cmd->name);
    app->cmd = cmd;
    if (cmd->subs == NULL) {
        optind = 0; /* glibc: start a fresh scan over this argv */
        return cmd->run(app, argc, argv);
    }
    if (argc < 2)
        return cli_usage(app, "missing COMMAND");
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
        return cli_help(app);
    if (argv[1][0] == '-')
        return cli_usage(app, "unknown option \"%s\"", argv[1]);
    const cli_command *sub = find_command(cmd->subs, argv[1]);
    if (sub == NULL)
        return cli_usage(app, "unknown command \"%s\"", argv[1]);
    return run_command(app, sub, argc - 1, argv + 1);
}

/* drudge help [COMMAND [SUBCOMMAND]] */
static int cmd_help(cli *app, int argc, char **argv)
{
    static const struct option longopts[] = {{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    int opt;
    while ((opt = cli_getopt(app, argc, argv, "h", longopts)) != -1)
        if (opt != 'h')
            return CLI_USAGE;
    if (optind >= argc) {
        usage(stdout);
        return CLI_OK;
    }
    /* walk down the tables: "help failed retry" */
    const cli_command *table = commands;
    char name[64] = "drudge";
    for (int i = optind;; i++) {
        const cli_command *cmd = find_command(table, argv[i]);
        if (cmd == NULL)
            return cli_usage(app, "unknown command \"%s\"", argv[i]);
        size_t len = strlen(name);
        snprintf(name + len, sizeof name - len, " %s", cmd->name);
        if (i + 1 == argc) {
            cli_print_help(cmd, name, stdout);
            return CLI_OK;
        }
        if ((table = cmd->subs) == NULL)
            return cli_usage(app, "unexpected argument \"%s\"", argv[i + 1]);
    }
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {{"config", required_argument, NULL, 'c'},
                                             {"redis", required_argument, NULL, 'r'},
                                             {"help", no_argument, NULL, 'h'},
                                             {"version", no_argument, NULL, 'V'},
                                             {NULL, 0, NULL, 0}};
    cli app;
    memset(&app, 0, sizeof app);
    snprintf(app.cmd_name, sizeof app.cmd_name, "drudge");
    int opt;
    /* '+': stop at the command; its own options are its business */
    while ((opt = cli_getopt(&app, argc, argv, "+c:r:hV", longopts)) != -1) {
        switch (opt) {
        case 'c': app.config_path = optarg; break;
        case 'r': app.redis_url = optarg; break;
        case 'h': usage(stdout); return CLI_OK;
        case 'V': printf("drudge %s\n", DRUDGE_VERSION); return CLI_OK;
        default: return CLI_USAGE;
        }
    }
    if (optind >= argc)
        return cli_usage(&app, "missing COMMAND");
    if (app.redis_url) {
        drudge_redis_url url;
        char err[DRUDGE_ERRSTR_MAX];
        if (drudge_redis_url_parse(app.redis_url, &url, err, sizeof err) < 0)
            return cli_usage(&app, "invalid --redis \"%s\": %s", app.redis_url, err);
    }
    const cli_command *cmd = find_command(commands, argv[optind]);
    if (cmd == NULL)
        return cli_usage(&app, "unknown command \"%s\"", argv[optind]);
    int rc = run_command(&app, cmd, argc - optind, argv + optind);
    drudge_client_free(app.client);
    drudge_config_free(app.cfg);
    if (fflush(stdout) == EOF && rc == CLI_OK)
        rc = CLI_FAILURE;
    return rc;
}
