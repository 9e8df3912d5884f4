/* util.c - the helpers every drudge CLI command uses: messages in one
 * voice, option and operand checks, loading the config and connecting, and
 * output (JSON, times, plain tables). */
#include "cli.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- messages ---- */

static void vmessage(cli *app, const char *fmt, va_list ap, int hint)
{
    fprintf(stderr, "%s: ", app->cmd_name);
    vfprintf(stderr, fmt, ap);
    if (hint)
        fprintf(stderr, " (try %s --help)", app->cmd_name);
    fputc('\n', stderr);
}

int cli_usage(cli *app, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vmessage(app, fmt, ap, 1);
    va_end(ap);
    return CLI_USAGE;
}

int cli_fail(cli *app, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vmessage(app, fmt, ap, 0);
    va_end(ap);
    return CLI_FAILURE;
}

int cli_error(cli *app, int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vmessage(app, fmt, ap, 0);
    va_end(ap);
    return status;
}

void cli_print_help(const cli_command *cmd, const char *full_name, FILE *f)
{
    fprintf(f, "usage: %s%s%s\n\n%s\n", full_name, cmd->usage[0] ? " " : "", cmd->usage,
            cmd->summary);
    if (cmd->subs) {
        fprintf(f, "\nCommands:\n");
        for (const cli_command *s = cmd->subs; s->name; s++)
            fprintf(f, "  %-8s %s\n", s->name, s->summary);
    }
    if (cmd->details)
        fprintf(f, "\n%s", cmd->details);
}

int cli_help(cli *app)
{
    cli_print_help(app->cmd, app->cmd_name, stdout);
    return CLI_OK;
}

/* ---- arguments ---- */

int cli_getopt(cli *app, int argc, char **argv, const char *shortopts,
               const struct option *longopts)
{
    char spec[64];
    /* a leading ':' makes getopt report a missing value apart from an
     * unknown option, and keeps it from printing on its own */
    if (shortopts[0] == '+')
        snprintf(spec, sizeof spec, "+:%s", shortopts + 1);
    else
        snprintf(spec, sizeof spec, ":%s", shortopts);
    opterr = 0;
    int c = getopt_long(argc, argv, spec, longopts, NULL);
    if (c == ':') {
        cli_usage(app, "option \"%s\" needs a value", argv[optind - 1]);
        return '?';
    }
    if (c == '?') {
        const char *bad = argv[optind - 1];
        if (optopt && strncmp(bad, "--", 2) != 0)
            cli_usage(app, "unknown option \"-%c\"", optopt);
        else
            cli_usage(app, "unknown option \"%s\"", bad);
        return '?';
    }
    return c;
}

int cli_operands(cli *app, int argc, char **argv, int min, int max, const char *const *names)
{
    int n = argc - optind;
    if (n < min)
        return cli_usage(app, "missing %s", names[n]);
    if (n > max)
        return cli_usage(app, "unexpected argument \"%s\"", argv[optind + max]);
    return CLI_OK;
}

int cli_check_class(cli *app, const char *name)
{
    if (drudge_class_valid(name))
        return CLI_OK;
    return cli_usage(app, "invalid class name \"%.64s\": use 1-%d characters of [A-Za-z0-9_.:-]",
                     name, DRUDGE_CLASS_MAX);
}

int cli_check_id(cli *app, const char *id)
{
    if (drudge_id_valid(id))
        return CLI_OK;
    return cli_usage(app, "invalid job id \"%.64s\": use 1-%d characters of [A-Za-z0-9_.:-]", id,
                     DRUDGE_ID_MAX);
}

int cli_parse_long(cli *app, const char *what, const char *s, long min, long max, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (*s == '\0' || errno != 0 || *end != '\0' || v < min || v > max)
        return cli_usage(app, "invalid %s \"%.40s\": use a whole number from %ld to %ld", what, s,
                         min, max);
    *out = v;
    return CLI_OK;
}

int cli_parse_double(cli *app, const char *what, const char *s, double min, double max, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (*s == '\0' || errno != 0 || *end != '\0' || !isfinite(v) || v < min || v > max)
        return cli_usage(app, "invalid %s \"%.40s\": use a number from %.15g to %.15g", what, s,
                         min, max);
    *out = v;
    return CLI_OK;
}

/* ---- Redis ---- */

int cli_connect(cli *app)
{
    char err[DRUDGE_ERRSTR_MAX];
    if (app->client)
        return CLI_OK;
    app->cfg = drudge_config_load(app->config_path, err, sizeof err);
    if (app->cfg == NULL)
        return cli_error(app, CLI_USAGE, "%s", err);
    if (app->redis_url && drudge_config_set_string(&app->cfg->redis_url, app->redis_url) < 0)
        return cli_fail(app, "out of memory");
    app->client = drudge_client_new(app->cfg, err, sizeof err);
    if (app->client == NULL)
        return cli_fail(app, "%s", err);
    return CLI_OK;
}

/* ---- output ---- */

int cli_print_json(cli *app, const json_t *v, size_t flags)
{
    if (json_dumpf(v, stdout, flags) < 0 || fputc('\n', stdout) == EOF)
        return cli_fail(app, "cannot write the output");
    return CLI_OK;
}

int64_t cli_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void cli_format_time(int64_t ms, char *buf, size_t cap)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    if (localtime_r(&t, &tm) == NULL || strftime(buf, cap, "%Y-%m-%d %H:%M:%S", &tm) == 0)
        snprintf(buf, cap, "%lld", (long long)ms);
}

void cli_format_span(int64_t ms, char *buf, size_t cap)
{
    static const struct {
        int64_t ms;
        const char *name;
    } units[] = {{86400000, "d"}, {3600000, "h"}, {60000, "min"}, {1000, "s"}};
    if (ms < 0)
        ms = -ms;
    if (ms < 1000) {
        snprintf(buf, cap, "%lld ms", (long long)ms);
        return;
    }
    if (ms < 10000) {
        snprintf(buf, cap, "%.1f s", (double)ms / 1000);
        return;
    }
    /* the two largest units that apply: "4 min 5 s", "3 d 4 h" */
    size_t n = sizeof units / sizeof units[0];
    for (size_t i = 0; i < n; i++) {
        if (ms < units[i].ms)
            continue;
        long long big = ms / units[i].ms;
        long long small = i + 1 < n ? (ms % units[i].ms) / units[i + 1].ms : 0;
        if (small > 0)
            snprintf(buf, cap, "%lld %s %lld %s", big, units[i].name, small, units[i + 1].name);
        else
            snprintf(buf, cap, "%lld %s", big, units[i].name);
        return;
    }
}

void cli_format_when(int64_t ms, int64_t now_ms, char *buf, size_t cap)
{
    char at[64], span[64];
    cli_format_time(ms, at, sizeof at);
    cli_format_span(now_ms - ms, span, sizeof span);
    snprintf(buf, cap, "%s (%s %s)", at, ms <= now_ms ? span : "in", ms <= now_ms ? "ago" : span);
}

const char *cli_json_str(const json_t *obj, const char *key, char *buf, size_t cap)
{
    const json_t *v = json_object_get(obj, key);
    if (json_is_string(v))
        return json_string_value(v);
    if (json_is_integer(v))
        snprintf(buf, cap, "%lld", (long long)json_integer_value(v));
    else
        snprintf(buf, cap, "%s", "");
    return buf;
}

long long cli_json_int(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);
    if (json_is_integer(v))
        return (long long)json_integer_value(v);
    if (json_is_string(v)) {
        char *end;
        errno = 0;
        long long n = strtoll(json_string_value(v), &end, 10);
        if (errno == 0 && *end == '\0')
            return n;
    }
    return 0;
}

/* ---- tables ---- */

void cli_table_init(cli_table *t, size_t ncols, const char *const *head, const char *align)
{
    memset(t, 0, sizeof *t);
    t->ncols = ncols < CLI_TABLE_COLS_MAX ? ncols : CLI_TABLE_COLS_MAX;
    t->head = head;
    t->align = align;
}

int cli_table_add(cli_table *t, const char *const *cells)
{
    if (t->nrows == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 16;
        char **grown = realloc(t->cells, cap * t->ncols * sizeof *grown);
        if (grown == NULL)
            return -1;
        t->cells = grown;
        t->cap = cap;
    }
    char **row = t->cells + t->nrows * t->ncols;
    for (size_t i = 0; i < t->ncols; i++) {
        row[i] = strdup(cells[i] ? cells[i] : "");
        if (row[i] == NULL) {
            while (i-- > 0)
                free(row[i]);
            return -1;
        }
    }
    t->nrows++;
    return 0;
}

static void print_row(const cli_table *t, const char *const *cells, const size_t *width, FILE *f)
{
    for (size_t i = 0; i < t->ncols; i++) {
        int last = i + 1 == t->ncols;
        int w = (int)width[i];
        if (t->align[i] == 'r')
            fprintf(f, "%*s", w, cells[i]);
        else if (last)
            fputs(cells[i], f); /* no trailing blanks */
        else
            fprintf(f, "%-*s", w, cells[i]);
        fputs(last ? "\n" : "  ", f);
    }
}

void cli_table_print(const cli_table *t, FILE *f)
{
    size_t width[CLI_TABLE_COLS_MAX] = {0};
    size_t ncols = t->ncols;
    for (size_t i = 0; i < ncols; i++)
        width[i] = strlen(t->head[i]);
    for (size_t r = 0; r < t->nrows; r++)
        for (size_t i = 0; i < ncols; i++) {
            size_t len = strlen(t->cells[r * t->ncols + i]);
            if (len > width[i])
                width[i] = len;
        }
    print_row(t, t->head, width, f);
    for (size_t r = 0; r < t->nrows; r++)
        print_row(t, (const char *const *)(t->cells + r * t->ncols), width, f);
}

void cli_table_release(cli_table *t)
{
    for (size_t i = 0; i < t->nrows * t->ncols; i++)
        free(t->cells[i]);
    free(t->cells);
    memset(t, 0, sizeof *t);
}
