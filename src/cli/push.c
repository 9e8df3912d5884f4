/* push.c - `drudge push`: one job from the command line or stdin, or with
 * --lines one job per line of a file or stdin (a bulk import, pipelined
 * through drudge_push_many()).
 * The payload goes to drudge_push() byte for byte, except with --id, which
 * rewrites the object with its top-level "id" set (compact JSON, members in
 * their order). */
#include "cli.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DELAY_S 315360000.0 /* ten years */
#define MAX_UNIX_TIME 1e11

/* Read stdin whole, up to limit bytes (one more tells it is too long).
 * Trailing white space (the newline of `echo`) is dropped, so that
 * `echo '{...}' | drudge push C -` and `drudge push C '{...}'` push the
 * same bytes and so the same job. */
static char *read_stdin(cli *app, size_t limit, size_t *len_out)
{
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    while (buf != NULL) {
        if (len == cap) {
            if (cap > limit) {
                cli_fail(app, "payload on stdin is longer than the limit of %zu bytes", limit);
                free(buf);
                return NULL;
            }
            char *grown = realloc(buf, cap * 2);
            if (grown == NULL)
                break;
            buf = grown;
            cap *= 2;
        }
        size_t n = fread(buf + len, 1, cap - len, stdin);
        len += n;
        if (n == 0) {
            if (ferror(stdin)) {
                cli_fail(app, "cannot read the payload from stdin");
                free(buf);
                return NULL;
            }
            while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r' ||
                               buf[len - 1] == ' ' || buf[len - 1] == '\t'))
                len--;
            *len_out = len;
            return buf;
        }
    }
    free(buf);
    cli_fail(app, "out of memory");
    return NULL;
}

/* The payload with its top-level "id" set to id (malloc'd), or NULL after
 * printing why. */
static char *with_id(cli *app, const char *payload, size_t len, const char *id, size_t *len_out)
{
    char why[DRUDGE_ERRSTR_MAX];
    json_t *obj = drudge_payload_parse(payload, len, app->cfg->max_payload_bytes, why, sizeof why);
    if (obj == NULL) {
        cli_fail(app, "%s", why);
        return NULL;
    }
    char *text = NULL;
    if (json_object_set_new(obj, "id", json_string(id)) == 0)
        text = json_dumps(obj, JSON_COMPACT);
    json_decref(obj);
    if (text == NULL)
        cli_fail(app, "out of memory");
    else
        *len_out = strlen(text);
    return text;
}

/* --lines: every line of the input is one job (job N is line N; a CRLF
 * line end counts as LF; an empty line is a bad payload like any other).
 * All lines are validated before any is sent: a bad one pushes nothing. */
static int push_lines(cli *app, const char *class_name, const char *path)
{
    FILE *in = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (in == NULL)
        return cli_fail(app, "cannot open %s: %s", path, strerror(errno));
    char *text = NULL;
    size_t text_cap = 0, text_len = 0;
    int oom = 0;
    for (;;) {
        if (text_cap - text_len < 65536) {
            size_t cap = text_cap ? text_cap * 2 : 65536;
            char *grown = realloc(text, cap);
            if (grown == NULL) {
                oom = 1;
                break;
            }
            text = grown;
            text_cap = cap;
        }
        size_t n = fread(text + text_len, 1, text_cap - text_len, in);
        text_len += n;
        if (n == 0)
            break;
    }
    int read_failed = ferror(in);
    if (in != stdin)
        fclose(in);
    if (oom || read_failed) {
        free(text);
        if (oom)
            return cli_fail(app, "out of memory reading the jobs");
        return cli_fail(app, "cannot read %s", strcmp(path, "-") == 0 ? "stdin" : path);
    }
    /* split in place: the payloads point into text */
    size_t jobs = 0, cap = 0;
    const char **payloads = NULL;
    size_t *lens = NULL;
    int rc = CLI_OK;
    for (size_t at = 0; at < text_len;) {
        const char *line = text + at;
        const char *nl = memchr(line, '\n', text_len - at);
        size_t len = nl ? (size_t)(nl - line) : text_len - at;
        at += len + (nl != NULL);
        if (len > 0 && line[len - 1] == '\r')
            len--;
        if (jobs == cap) {
            cap = cap ? cap * 2 : 1024;
            const char **p = realloc(payloads, cap * sizeof *payloads);
            if (p)
                payloads = p;
            size_t *l = realloc(lens, cap * sizeof *lens);
            if (l)
                lens = l;
            if (p == NULL || l == NULL) {
                rc = cli_fail(app, "out of memory");
                goto out;
            }
        }
        payloads[jobs] = line;
        lens[jobs++] = len;
    }
    if (jobs == 0) {
        rc = cli_fail(app, "no jobs: %s is empty", strcmp(path, "-") == 0 ? "stdin" : path);
        goto out;
    }
    char(*ids)[DRUDGE_ID_MAX + 1] = malloc(jobs * sizeof *ids);
    if (ids == NULL) {
        rc = cli_fail(app, "out of memory");
        goto out;
    }
    long pushed = drudge_push_many(app->client, class_name, payloads, lens, jobs, ids);
    /* the ids of what was pushed, even when a failure stopped the rest */
    for (long i = 0; i < pushed; i++)
        printf("%s\n", ids[i]);
    if (pushed < 0 || (size_t)pushed != jobs)
        rc = cli_fail(app, "%s", drudge_client_errstr(app->client));
    free(ids);
out:
    free(payloads);
    free(lens);
    free(text);
    return rc;
}

int cli_cmd_push(cli *app, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"delay", required_argument, NULL, 'd'}, {"at", required_argument, NULL, 'a'},
        {"id", required_argument, NULL, 'i'},    {"unique", no_argument, NULL, 'u'},
        {"lines", no_argument, NULL, 'l'},       {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    static const char *const names[] = {"CLASS", "JSON (or - to read it from stdin)"};
    static const char *const lines_names[] = {"CLASS", "FILE"};
    drudge_push_opts opts = {0, 0, 0};
    const char *id = NULL;
    double seconds;
    int opt, have_delay = 0, have_at = 0, lines = 0;
    while ((opt = cli_getopt(app, argc, argv, "d:a:i:ulh", longopts)) != -1) {
        switch (opt) {
        case 'd':
            if (cli_parse_double(app, "--delay", optarg, 0, MAX_DELAY_S, &seconds) != CLI_OK)
                return CLI_USAGE;
            opts.delay_ms = (int64_t)llround(seconds * 1000);
            have_delay = 1;
            break;
        case 'a':
            if (cli_parse_double(app, "--at", optarg, 1, MAX_UNIX_TIME, &seconds) != CLI_OK)
                return CLI_USAGE;
            opts.at_ms = (int64_t)llround(seconds * 1000);
            have_at = 1;
            break;
        case 'i':
            if (cli_check_id(app, optarg) != CLI_OK)
                return CLI_USAGE;
            id = optarg;
            break;
        case 'u': opts.unique = 1; break;
        case 'l': lines = 1; break;
        case 'h': return cli_help(app);
        default: return CLI_USAGE;
        }
    }
    if (lines) {
        if (have_delay || have_at || id != NULL || opts.unique)
            return cli_usage(app, "--lines takes no --delay, --at, --id or --unique");
        if (cli_operands(app, argc, argv, 1, 2, lines_names) != CLI_OK ||
            cli_check_class(app, argv[optind]) != CLI_OK)
            return CLI_USAGE;
        int rc = cli_connect(app);
        if (rc != CLI_OK)
            return rc;
        return push_lines(app, argv[optind], optind + 1 < argc ? argv[optind + 1] : "-");
    }
    if (cli_operands(app, argc, argv, 2, 2, names) != CLI_OK)
        return CLI_USAGE;
    const char *class_name = argv[optind], *arg = argv[optind + 1];
    if (cli_check_class(app, class_name) != CLI_OK)
        return CLI_USAGE;
    if (have_delay && have_at)
        return cli_usage(app, "use --delay or --at, not both");
    int rc = cli_connect(app);
    if (rc != CLI_OK)
        return rc;

    char *owned = NULL, *rewritten = NULL;
    const char *payload = arg;
    size_t len = strlen(arg);
    if (strcmp(arg, "-") == 0) {
        if ((owned = read_stdin(app, app->cfg->max_payload_bytes, &len)) == NULL)
            return CLI_FAILURE;
        payload = owned;
    }
    if (id != NULL) {
        if ((rewritten = with_id(app, payload, len, id, &len)) == NULL) {
            free(owned);
            return CLI_FAILURE;
        }
        payload = rewritten;
    }
    char job_id[DRUDGE_ID_MAX + 1];
    int pushed = drudge_push(app->client, class_name, payload, len, &opts, job_id);
    if (pushed < 0) {
        rc = cli_fail(app, "%s", drudge_client_errstr(app->client));
    } else {
        printf("%s\n", job_id);
        if (pushed == DRUDGE_DUPLICATE)
            rc = cli_error(app, CLI_DUPLICATE,
                           "job \"%s\" is already queued or running in %s; not pushed again",
                           job_id, class_name);
    }
    free(rewritten);
    free(owned);
    return rc;
}
