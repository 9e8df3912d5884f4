/* manage.c - the commands that change things: `drudge failed list | retry
 * | delete`, `drudge pause`, `drudge resume` and `drudge cancel`. Each
 * checks its arguments before it connects, so misuse never needs Redis. */
#include "cli.h"

#include <math.h>
#include <string.h>

#define FAILED_LIMIT_DEFAULT 20
#define FAILED_LIMIT_MAX 10000
#define PAYLOAD_SHOWN 200       /* bytes of a payload the human list shows */
#define PAUSE_MAX_S 315360000.0 /* ten years */
#define REASON_MAX 500

/* Options of a command whose only option is --help: 1 to go on, else 0
 * with *rc the exit status. */
static int help_only(cli *app, int argc, char **argv, int *rc)
{
    static const struct option longopts[] = {{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    int opt = cli_getopt(app, argc, argv, "h", longopts);
    if (opt == -1)
        return 1;
    *rc = opt == 'h' ? cli_help(app) : CLI_USAGE;
    return 0;
}

/* ---- failed list ---- */

static void print_failed(const json_t *list)
{
    int64_t now = cli_now_ms();
    long long total = cli_json_int(list, "total"), offset = cli_json_int(list, "offset");
    const json_t *jobs = json_object_get(list, "jobs");
    const char *class_name = json_string_value(json_object_get(list, "class"));
    size_t n = json_array_size(jobs);
    if (n == 0) {
        if (total == 0)
            printf("no failed jobs in %s\n", class_name);
        else
            printf("no failed jobs in %s from %lld on (%lld in all)\n", class_name, offset + 1,
                   total);
        return;
    }
    printf("%lld failed job%s in %s; newest first, %lld-%lld:\n", total, total == 1 ? "" : "s",
           class_name, offset + 1, offset + (long long)n);
    size_t i;
    const json_t *job;
    json_array_foreach(jobs, i, job)
    {
        char when[128] = "-", attempts[32], id[DRUDGE_ID_MAX + 1];
        long long finished = cli_json_int(job, "finished_at");
        if (finished > 0)
            cli_format_when(finished, now, when, sizeof when);
        const char *error = json_string_value(json_object_get(job, "error"));
        const char *payload = json_string_value(json_object_get(job, "payload"));
        size_t plen = payload ? strlen(payload) : 0;
        printf("\n%s\n", cli_json_str(job, "id", id, sizeof id));
        printf("  attempts: %s  failed: %s\n",
               json_is_null(json_object_get(job, "attempts"))
                   ? "-"
                   : cli_json_str(job, "attempts", attempts, sizeof attempts),
               when);
        printf("  error:    %s\n", error ? error : "-");
        if (plen > PAYLOAD_SHOWN)
            printf("  payload:  %.*s... (%zu bytes)\n", PAYLOAD_SHOWN, payload, plen);
        else
            printf("  payload:  %s\n", payload ? payload : "");
    }
}

int cli_cmd_failed_list(cli *app, int argc, char **argv)
{
    static const struct option longopts[] = {{"json", no_argument, NULL, 'j'},
                                             {"limit", required_argument, NULL, 'n'},
                                             {"offset", required_argument, NULL, 'o'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    static const char *const names[] = {"CLASS"};
    long limit = FAILED_LIMIT_DEFAULT, offset = 0;
    int opt, json = 0;
    while ((opt = cli_getopt(app, argc, argv, "jn:o:h", longopts)) != -1) {
        switch (opt) {
        case 'j': json = 1; break;
        case 'n':
            if (cli_parse_long(app, "--limit", optarg, 1, FAILED_LIMIT_MAX, &limit) != CLI_OK)
                return CLI_USAGE;
            break;
        case 'o':
            if (cli_parse_long(app, "--offset", optarg, 0, 1000000000L, &offset) != CLI_OK)
                return CLI_USAGE;
            break;
        case 'h': return cli_help(app);
        default: return CLI_USAGE;
        }
    }
    int rc;
    if ((rc = cli_operands(app, argc, argv, 1, 1, names)) != CLI_OK ||
        (rc = cli_check_class(app, argv[optind])) != CLI_OK || (rc = cli_connect(app)) != CLI_OK)
        return rc;
    json_t *list = drudge_failed_list(app->client, argv[optind], offset, limit);
    if (list == NULL)
        return cli_fail(app, "%s", drudge_client_errstr(app->client));
    if (json)
        rc = cli_print_json(app, list, JSON_INDENT(2));
    else
        print_failed(list);
    json_decref(list);
    return rc;
}

/* ---- failed retry / delete ---- */

typedef struct failed_verb {
    long (*apply)(drudge_client *, const char *, const char *);
    const char *done; /* "retried", "deleted" */
} failed_verb;

static int failed_change(cli *app, int argc, char **argv, const failed_verb *verb)
{
    static const struct option longopts[] = {
        {"all", no_argument, NULL, 'a'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    static const char *const names[] = {"CLASS", "ID or --all"};
    int opt, all = 0;
    while ((opt = cli_getopt(app, argc, argv, "ah", longopts)) != -1) {
        switch (opt) {
        case 'a': all = 1; break;
        case 'h': return cli_help(app);
        default: return CLI_USAGE;
        }
    }
    if (all && argc - optind == 2)
        return cli_usage(app, "give an ID or --all, not both");
    int rc = cli_operands(app, argc, argv, all ? 1 : 2, all ? 1 : 2, names);
    if (rc != CLI_OK)
        return rc;
    const char *class_name = argv[optind], *id = all ? NULL : argv[optind + 1];
    if ((rc = cli_check_class(app, class_name)) != CLI_OK ||
        (id && (rc = cli_check_id(app, id)) != CLI_OK) || (rc = cli_connect(app)) != CLI_OK)
        return rc;
    long n = verb->apply(app->client, class_name, id);
    if (n < 0)
        return cli_fail(app, "%s", drudge_client_errstr(app->client));
    if (id && n == 0)
        return cli_error(app, CLI_UNKNOWN_JOB, "no failed job \"%s\" in %s", id, class_name);
    if (id)
        printf("%s job %s\n", verb->done, id);
    else
        printf("%s %ld failed job%s of %s\n", verb->done, n, n == 1 ? "" : "s", class_name);
    return CLI_OK;
}

int cli_cmd_failed_retry(cli *app, int argc, char **argv)
{
    static const failed_verb retry = {drudge_failed_retry, "retried"};
    return failed_change(app, argc, argv, &retry);
}

int cli_cmd_failed_delete(cli *app, int argc, char **argv)
{
    static const failed_verb del = {drudge_failed_delete, "deleted"};
    return failed_change(app, argc, argv, &del);
}

/* ---- pause / resume ---- */

int cli_cmd_pause(cli *app, int argc, char **argv)
{
    static const struct option longopts[] = {{"for", required_argument, NULL, 'f'},
                                             {"reason", required_argument, NULL, 'r'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    static const char *const names[] = {"CLASS"};
    double seconds = 0;
    const char *reason = NULL;
    int opt;
    while ((opt = cli_getopt(app, argc, argv, "f:r:h", longopts)) != -1) {
        switch (opt) {
        case 'f':
            if (cli_parse_double(app, "--for", optarg, 0.001, PAUSE_MAX_S, &seconds) != CLI_OK)
                return CLI_USAGE;
            break;
        case 'r':
            if (*optarg == '\0' || strlen(optarg) > REASON_MAX || strpbrk(optarg, "\r\n"))
                return cli_usage(app, "invalid --reason: use one line of 1-%d characters",
                                 REASON_MAX);
            reason = optarg;
            break;
        case 'h': return cli_help(app);
        default: return CLI_USAGE;
        }
    }
    int rc;
    if ((rc = cli_operands(app, argc, argv, 1, 1, names)) != CLI_OK ||
        (rc = cli_check_class(app, argv[optind])) != CLI_OK || (rc = cli_connect(app)) != CLI_OK)
        return rc;
    const char *class_name = argv[optind];
    int64_t ttl_ms = (int64_t)ceil(seconds * 1000);
    if (drudge_class_pause(app->client, class_name, reason, ttl_ms) < 0)
        return cli_fail(app, "%s", drudge_client_errstr(app->client));
    if (ttl_ms > 0) {
        char span[64];
        cli_format_span(ttl_ms, span, sizeof span);
        printf("paused %s for %s\n", class_name, span);
    } else {
        printf("paused %s until resumed\n", class_name);
    }
    return CLI_OK;
}

int cli_cmd_resume(cli *app, int argc, char **argv)
{
    static const char *const names[] = {"CLASS"};
    int rc;
    if (!help_only(app, argc, argv, &rc))
        return rc;
    if ((rc = cli_operands(app, argc, argv, 1, 1, names)) != CLI_OK ||
        (rc = cli_check_class(app, argv[optind])) != CLI_OK || (rc = cli_connect(app)) != CLI_OK)
        return rc;
    if (drudge_class_resume(app->client, argv[optind]) < 0)
        return cli_fail(app, "%s", drudge_client_errstr(app->client));
    printf("resumed %s\n", argv[optind]);
    return CLI_OK;
}

/* ---- cancel ---- */

int cli_cmd_cancel(cli *app, int argc, char **argv)
{
    static const char *const names[] = {"CLASS", "ID"};
    int rc;
    if (!help_only(app, argc, argv, &rc))
        return rc;
    if ((rc = cli_operands(app, argc, argv, 2, 2, names)) != CLI_OK ||
        (rc = cli_check_class(app, argv[optind])) != CLI_OK ||
        (rc = cli_check_id(app, argv[optind + 1])) != CLI_OK || (rc = cli_connect(app)) != CLI_OK)
        return rc;
    const char *class_name = argv[optind], *id = argv[optind + 1];
    int result = drudge_job_cancel(app->client, class_name, id);
    if (result == DRUDGE_CANCEL_DONE) {
        printf("cancelled job %s\n", id);
        return CLI_OK;
    }
    if (result == DRUDGE_CANCEL_REQUESTED) {
        printf("asked the worker holding job %s to cancel it\n", id);
        return CLI_OK;
    }
    if (result == DRUDGE_CANCEL_UNKNOWN)
        return cli_error(app, CLI_UNKNOWN_JOB, "unknown job \"%s\" in %s", id, class_name);
    if (result == DRUDGE_CANCEL_FINISHED) {
        json_t *st = drudge_status_get(app->client, class_name, id);
        const char *state = json_string_value(json_object_get(st, "state"));
        rc = cli_fail(app, "job \"%s\" already ended (%s); nothing to cancel", id,
                      state ? state : "finished");
        json_decref(st);
        return rc;
    }
    return cli_fail(app, "%s", drudge_client_errstr(app->client));
}
