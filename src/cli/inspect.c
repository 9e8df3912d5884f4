/* inspect.c - the read-only views: `drudge stats`, `drudge workers` and
 * `drudge cron list`. Each gets a JSON value from libdrudge and prints it
 * as a table, or as it is with --json. */
#include "cli.h"

#include <string.h>

/* The only option these commands take, then connect. Returns 1 to go on,
 * or 0 when the command is over (help shown, misuse) with *rc its status. */
static int view_options(cli *app, int argc, char **argv, int *json, int *rc)
{
    static const struct option longopts[] = {
        {"json", no_argument, NULL, 'j'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    int opt;
    *json = 0;
    while ((opt = cli_getopt(app, argc, argv, "jh", longopts)) != -1) {
        if (opt == 'j') {
            *json = 1;
            continue;
        }
        *rc = opt == 'h' ? cli_help(app) : CLI_USAGE;
        return 0;
    }
    if ((*rc = cli_operands(app, argc, argv, 0, 0, NULL)) != CLI_OK ||
        (*rc = cli_connect(app)) != CLI_OK)
        return 0;
    return 1;
}

/* Run a view: options, connect, fetch, print. */
static int run_view(cli *app, int argc, char **argv, json_t *(*fetch)(drudge_client *),
                    int (*print)(cli *, const json_t *))
{
    int json, rc;
    if (!view_options(app, argc, argv, &json, &rc))
        return rc;
    json_t *v = fetch(app->client);
    if (v == NULL)
        return cli_fail(app, "%s", drudge_client_errstr(app->client));
    rc = json ? cli_print_json(app, v, JSON_INDENT(2)) : print(app, v);
    json_decref(v);
    return rc;
}

/* ---- stats ---- */

static void paused_cell(const json_t *paused, char *buf, size_t cap)
{
    if (!json_is_object(paused)) {
        snprintf(buf, cap, "-");
        return;
    }
    const char *reason = json_string_value(json_object_get(paused, "reason"));
    long long ttl = cli_json_int(paused, "ttl_ms");
    char left[64];
    if (ttl > 0) {
        cli_format_span(ttl, left, sizeof left);
        snprintf(buf, cap, "%s (%s left)", reason ? reason : "paused", left);
    } else {
        snprintf(buf, cap, "%s", reason ? reason : "paused");
    }
}

static int print_stats(cli *app, const json_t *classes)
{
    (void)app;
    static const char *const head[] = {"CLASS",   "QUEUED",    "RUNNING",      "DELAYED", "FAILED",
                                       "WORKERS", "PROCESSED", "FAILED_TOTAL", "PAUSED"};
    static const char *const keys[] = {"class",  "queued",  "running",   "delayed",
                                       "failed", "workers", "processed", "failed_total"};
    if (json_array_size(classes) == 0) {
        printf("no classes yet: none was pushed to, paused or configured\n");
        return CLI_OK;
    }
    cli_table t;
    cli_table_init(&t, 9, head, "lrrrrrrrl");
    size_t i;
    const json_t *row;
    json_array_foreach(classes, i, row)
    {
        char cells[9][256];
        const char *cell[9];
        for (size_t k = 0; k < 8; k++)
            cell[k] = cli_json_str(row, keys[k], cells[k], sizeof cells[k]);
        paused_cell(json_object_get(row, "paused"), cells[8], sizeof cells[8]);
        cell[8] = cells[8];
        if (cli_table_add(&t, cell) < 0) {
            cli_table_release(&t);
            return cli_fail(app, "out of memory");
        }
    }
    cli_table_print(&t, stdout);
    cli_table_release(&t);
    return CLI_OK;
}

int cli_cmd_stats(cli *app, int argc, char **argv)
{
    return run_view(app, argc, argv, drudge_stats_get, print_stats);
}

/* ---- workers ---- */

static int print_workers(cli *app, const json_t *workers)
{
    static const char *const head[] = {"ID",   "CLASS", "PROGRAM",   "PID",  "JOB",
                                       "JOBS", "RSS",   "HEARTBEAT", "STATE"};
    if (json_array_size(workers) == 0) {
        printf("no workers registered\n");
        return CLI_OK;
    }
    cli_table t;
    cli_table_init(&t, 9, head, "lllrlrrrl");
    size_t i;
    const json_t *w;
    json_array_foreach(workers, i, w)
    {
        char b[6][256], rss[32], beat[64];
        const char *job = cli_json_str(w, "job", b[4], sizeof b[4]);
        long long rss_kb = cli_json_int(w, "rss_kb");
        if (rss_kb > 0)
            snprintf(rss, sizeof rss, "%.1f MB", (double)rss_kb / 1024);
        else
            snprintf(rss, sizeof rss, "-");
        cli_format_span(cli_json_int(w, "heartbeat_age_ms"), beat, sizeof beat);
        size_t len = strlen(beat);
        snprintf(beat + len, sizeof beat - len, " ago");
        const char *cell[9] = {cli_json_str(w, "id", b[0], sizeof b[0]),
                               cli_json_str(w, "class", b[1], sizeof b[1]),
                               cli_json_str(w, "program", b[2], sizeof b[2]),
                               cli_json_str(w, "pid", b[3], sizeof b[3]),
                               *job ? job : "-",
                               cli_json_str(w, "jobs_done", b[5], sizeof b[5]),
                               rss,
                               beat,
                               json_is_true(json_object_get(w, "dead")) ? "dead" : "alive"};
        if (cli_table_add(&t, cell) < 0) {
            cli_table_release(&t);
            return cli_fail(app, "out of memory");
        }
    }
    cli_table_print(&t, stdout);
    cli_table_release(&t);
    return CLI_OK;
}

int cli_cmd_workers(cli *app, int argc, char **argv)
{
    return run_view(app, argc, argv, drudge_workers_list, print_workers);
}

/* ---- cron list ---- */

static void fire_cell(const json_t *v, const char *none, char *buf, size_t cap)
{
    if (json_is_integer(v))
        cli_format_time((int64_t)json_integer_value(v) * 1000, buf, cap);
    else
        snprintf(buf, cap, "%s", none);
}

static int print_cron(cli *app, const json_t *entries)
{
    static const char *const head[] = {"NAME", "CLASS", "CRON", "TIMEZONE", "LAST", "NEXT"};
    if (json_array_size(entries) == 0) {
        printf("no schedule entries in the config\n");
        return CLI_OK;
    }
    cli_table t;
    cli_table_init(&t, 6, head, "llllll");
    size_t i;
    const json_t *e;
    json_array_foreach(entries, i, e)
    {
        char b[4][256], last[64], next[300];
        fire_cell(json_object_get(e, "last_fire"), "never", last, sizeof last);
        const char *err = json_string_value(json_object_get(e, "error"));
        if (err)
            snprintf(next, sizeof next, "error: %s", err);
        else
            fire_cell(json_object_get(e, "next_fire"), "-", next, sizeof next);
        const char *cell[6] = {cli_json_str(e, "name", b[0], sizeof b[0]),
                               cli_json_str(e, "class", b[1], sizeof b[1]),
                               cli_json_str(e, "cron", b[2], sizeof b[2]),
                               cli_json_str(e, "timezone", b[3], sizeof b[3]),
                               last,
                               next};
        if (cli_table_add(&t, cell) < 0) {
            cli_table_release(&t);
            return cli_fail(app, "out of memory");
        }
    }
    cli_table_print(&t, stdout);
    cli_table_release(&t);
    return CLI_OK;
}

int cli_cmd_cron_list(cli *app, int argc, char **argv)
{
    return run_view(app, argc, argv, drudge_cron_list, print_cron);
}
