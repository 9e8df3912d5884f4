/* status.c - `drudge status`: one job's status hash, once or followed.
 * --watch subscribes to the job's status channel (drudge_watch_*) and
 * re-reads the hash when a second passes without news, so a missed message
 * or a producer that never publishes costs at most a second. On a terminal
 * it redraws one progress-bar line; otherwise it prints a line per change. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#define WATCH_POLL_MS 1000
#define BAR_WIDTH 30

typedef enum { FIELD_TEXT, FIELD_TIME, FIELD_PERCENT } field_kind;

/* How `drudge status` shows the fields it knows, in this order; any other
 * field follows as it is. */
static const struct {
    const char *field;
    const char *label;
    field_kind kind;
} status_fields[] = {
    {"state", "state", FIELD_TEXT},
    {"progress", "progress", FIELD_PERCENT},
    {"message", "message", FIELD_TEXT},
    {"attempts", "attempts", FIELD_TEXT},
    {"worker", "worker", FIELD_TEXT},
    {"queued_at", "queued", FIELD_TIME},
    {"due_at", "due", FIELD_TIME},
    {"started_at", "started", FIELD_TIME},
    {"finished_at", "finished", FIELD_TIME},
    {"next_retry_at", "next retry", FIELD_TIME},
    {"cancel", "cancel requested", FIELD_TEXT},
    {"error", "error", FIELD_TEXT},
    {"result", "result", FIELD_TEXT},
};
#define NSTATUS_FIELDS (sizeof status_fields / sizeof status_fields[0])

static const char *field(const json_t *st, const char *name)
{
    const char *v = json_string_value(json_object_get(st, name));
    return v ? v : "";
}

static int is_final(const char *state)
{
    return strcmp(state, "done") == 0 || strcmp(state, "failed") == 0 ||
           strcmp(state, "cancelled") == 0;
}

/* 1 for a job that failed or was cancelled, 0 otherwise. */
static int exit_for(const json_t *st)
{
    const char *state = field(st, "state");
    return strcmp(state, "failed") == 0 || strcmp(state, "cancelled") == 0 ? CLI_FAILURE : CLI_OK;
}

static int known_field(const char *name)
{
    for (size_t i = 0; i < NSTATUS_FIELDS; i++)
        if (strcmp(status_fields[i].field, name) == 0)
            return 1;
    return 0;
}

static void print_value(const char *label, field_kind kind, const char *value, int64_t now)
{
    char buf[128];
    long long ms;
    char *end;
    if (kind == FIELD_TIME && (ms = strtoll(value, &end, 10)) > 0 && *end == '\0') {
        cli_format_when(ms, now, buf, sizeof buf);
        value = buf;
    } else if (kind == FIELD_PERCENT) {
        snprintf(buf, sizeof buf, "%s%%", value);
        value = buf;
    }
    printf("%-17s %s\n", label, value);
}

static void print_human(const char *class_name, const char *id, const json_t *st)
{
    int64_t now = cli_now_ms();
    printf("%-17s %s\n%-17s %s\n", "class", class_name, "id", id);
    for (size_t i = 0; i < NSTATUS_FIELDS; i++) {
        const char *v = field(st, status_fields[i].field);
        if (*v)
            print_value(status_fields[i].label, status_fields[i].kind, v, now);
    }
    const char *name;
    const json_t *v;
    json_object_foreach((json_t *)st, name, v)
    {
        if (!known_field(name) && json_is_string(v))
            print_value(name, FIELD_TEXT, json_string_value(v), now);
    }
}

/* ---- --watch ---- */

/* logfmt value: quoted when it has a space, a quote or an '=' */
static void put_value(char *out, size_t cap, const char *key, const char *value)
{
    size_t len = strlen(out);
    int quote = *value == '\0' || strpbrk(value, " \"=\t") != NULL;
    if (!quote) {
        snprintf(out + len, cap - len, "%s%s=%s", len ? " " : "", key, value);
        return;
    }
    snprintf(out + len, cap - len, "%s%s=\"", len ? " " : "", key);
    for (const char *p = value; *p; p++) {
        len = strlen(out);
        if (len + 3 >= cap)
            break;
        if (*p == '"' || *p == '\\')
            out[len++] = '\\';
        out[len++] = *p;
        out[len] = '\0';
    }
    len = strlen(out);
    snprintf(out + len, cap - len, "\"");
}

/* One line for a non-terminal watcher: what changed is visible by diff. */
static void status_line(const json_t *st, char *out, size_t cap)
{
    const char *state = field(st, "state");
    out[0] = '\0';
    put_value(out, cap, "state", state);
    put_value(out, cap, "progress", *field(st, "progress") ? field(st, "progress") : "0");
    if (*field(st, "message"))
        put_value(out, cap, "message", field(st, "message"));
    put_value(out, cap, "attempts", *field(st, "attempts") ? field(st, "attempts") : "0");
    if (*field(st, "error") && (strcmp(state, "failed") == 0 || strcmp(state, "retrying") == 0 ||
                                strcmp(state, "queued") == 0))
        put_value(out, cap, "error", field(st, "error"));
    if (*field(st, "result") && strcmp(state, "done") == 0)
        put_value(out, cap, "result", field(st, "result"));
}

static int terminal_width(void)
{
    struct winsize ws;
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 20)
        return ws.ws_col;
    return 80;
}

/* Redraw the progress bar line: "[######----]  60%  running  step 6/10". */
static void draw_bar(const json_t *st)
{
    long pct = strtol(field(st, "progress"), NULL, 10);
    if (pct < 0)
        pct = 0;
    if (pct > 100)
        pct = 100;
    char bar[BAR_WIDTH + 1];
    int filled = (int)(pct * BAR_WIDTH / 100);
    for (int i = 0; i < BAR_WIDTH; i++)
        bar[i] = i < filled ? '#' : '-';
    bar[BAR_WIDTH] = '\0';
    char line[512];
    snprintf(line, sizeof line, "[%s] %3ld%%  %s  %s", bar, pct, field(st, "state"),
             field(st, "message"));
    int width = terminal_width() - 1;
    if ((int)strlen(line) > width)
        line[width] = '\0';
    printf("\r\033[K%s", line);
    fflush(stdout);
}

/* After the bar: what the job ended with. */
static void print_outcome(const json_t *st)
{
    const char *state = field(st, "state");
    printf("\n");
    if (strcmp(state, "done") == 0 && *field(st, "result"))
        printf("result: %s\n", field(st, "result"));
    else if (strcmp(state, "failed") == 0 && *field(st, "error"))
        printf("error: %s\n", field(st, "error"));
}

typedef enum { SHOW_BAR, SHOW_LINES, SHOW_JSON } watch_style;

/* Show st if it differs from what was shown last (last_out holds it). */
static void show(watch_style style, const json_t *st, char *last, size_t cap)
{
    char now[4096];
    if (style == SHOW_JSON) {
        char *text = json_dumps(st, JSON_COMPACT | JSON_SORT_KEYS);
        snprintf(now, sizeof now, "%s", text ? text : "{}");
        free(text);
    } else {
        status_line(st, now, sizeof now);
    }
    if (strcmp(now, last) == 0)
        return;
    snprintf(last, cap, "%s", now);
    if (style == SHOW_BAR)
        draw_bar(st);
    else {
        printf("%s\n", now);
        fflush(stdout);
    }
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static int watch(cli *app, const char *class_name, const char *id, int json)
{
    drudge_watch *w = drudge_watch_new(app->client, class_name, id);
    if (w == NULL)
        return cli_fail(app, "%s", drudge_client_errstr(app->client));
    watch_style style = json ? SHOW_JSON : isatty(STDOUT_FILENO) ? SHOW_BAR : SHOW_LINES;
    char last[4096] = "";
    json_t *st = drudge_status_get(app->client, class_name, id);
    int rc = CLI_OK;
    for (;;) {
        if (st == NULL) {
            const char *err = drudge_client_errstr(app->client);
            if (style == SHOW_BAR && last[0])
                printf("\n");
            rc = *err ? cli_fail(app, "%s", err)
                      : cli_error(app, CLI_UNKNOWN_JOB, "unknown job \"%s\" in %s", id, class_name);
            break;
        }
        show(style, st, last, sizeof last);
        if (is_final(field(st, "state"))) {
            if (style == SHOW_BAR)
                print_outcome(st);
            rc = strcmp(field(st, "state"), "done") == 0 ? CLI_OK : CLI_FAILURE;
            break;
        }
        json_t *next = NULL;
        int got = 0;
        if (w != NULL && (got = drudge_watch_wait(w, WATCH_POLL_MS, &next)) < 0) {
            /* subscription lost: keep going by polling the hash */
            drudge_watch_free(w);
            w = NULL;
        }
        if (w == NULL)
            sleep_ms(WATCH_POLL_MS);
        json_decref(st);
        st = got == 1 ? next : drudge_status_get(app->client, class_name, id);
    }
    json_decref(st);
    drudge_watch_free(w);
    return rc;
}

int cli_cmd_status(cli *app, int argc, char **argv)
{
    static const struct option longopts[] = {{"json", no_argument, NULL, 'j'},
                                             {"watch", no_argument, NULL, 'w'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    static const char *const names[] = {"CLASS", "ID"};
    int opt, json = 0, follow = 0;
    while ((opt = cli_getopt(app, argc, argv, "jwh", longopts)) != -1) {
        switch (opt) {
        case 'j': json = 1; break;
        case 'w': follow = 1; break;
        case 'h': return cli_help(app);
        default: return CLI_USAGE;
        }
    }
    if (cli_operands(app, argc, argv, 2, 2, names) != CLI_OK)
        return CLI_USAGE;
    const char *class_name = argv[optind], *id = argv[optind + 1];
    if (cli_check_class(app, class_name) != CLI_OK || cli_check_id(app, id) != CLI_OK)
        return CLI_USAGE;
    int rc = cli_connect(app);
    if (rc != CLI_OK)
        return rc;
    if (follow)
        return watch(app, class_name, id, json);
    json_t *st = drudge_status_get(app->client, class_name, id);
    if (st == NULL) {
        const char *err = drudge_client_errstr(app->client);
        if (*err)
            return cli_fail(app, "%s", err);
        return cli_error(app, CLI_UNKNOWN_JOB, "unknown job \"%s\" in %s", id, class_name);
    }
    if (json)
        rc = cli_print_json(app, st, JSON_INDENT(2) | JSON_SORT_KEYS);
    else
        print_human(class_name, id, st);
    if (rc == CLI_OK)
        rc = exit_for(st);
    json_decref(st);
    return rc;
}
