/* command.c - the two CLI commands that live with the dashboard:
 * `drudge web` (options, the token, then server.c) and `drudge capacity`
 * (the talk's arithmetic from capacity.c, as a table).
 *
 * `drudge web` takes its settings from the config's web: section (listen,
 * token_file, require_token_for_reads); the command-line flags override
 * them, and the token comes from --token-file, else $DRUDGE_WEB_TOKEN,
 * else web.token_file, else a random one printed with the address. */
#include "web.h"

#include "capacity.h"
#include "web_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#define DEFAULT_TIMEOUT_S 30
#define DEFAULT_CONNECTIONS 1024
#define DEFAULT_PER_IP 256

/* ---- drudge web ---- */

/* The first line of path, trimmed, into out; `what` names where the path
 * came from in messages. CLI_OK or an exit status. */
static int read_token_file(cli *app, const char *what, const char *path, char *out, size_t cap)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return cli_error(app, CLI_USAGE, "cannot read %s \"%s\": %s", what, path, strerror(errno));
    char line[WEB_TOKEN_MAX + 4] = "";
    if (fgets(line, sizeof line, f) == NULL)
        line[0] = '\0';
    fclose(f);
    size_t len = strlen(line);
    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r' || line[len - 1] == ' ' ||
                       line[len - 1] == '\t'))
        line[--len] = '\0';
    if (!web_token_valid(line))
        return cli_error(app, CLI_USAGE,
                         "token in %s \"%s\" must be one line of %d to %d printable characters "
                         "without spaces",
                         what, path, WEB_TOKEN_MIN, WEB_TOKEN_MAX);
    snprintf(out, cap, "%s", line);
    return CLI_OK;
}

static int random_token(char *out, size_t cap)
{
    unsigned char raw[24];
    if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw || cap < 2 * sizeof raw + 1)
        return -1;
    for (size_t i = 0; i < sizeof raw; i++)
        snprintf(out + 2 * i, cap - 2 * i, "%02x", raw[i]);
    return 0;
}

/* The dashboard token into token (from the place web_token_source_pick()
 * names); *generated is 1 for a random one. CLI_OK or an exit status. */
static int pick_token(cli *app, const char *token_file, char *token, size_t cap, int *generated)
{
    const char *env = getenv("DRUDGE_WEB_TOKEN");
    *generated = 0;
    switch (web_token_source_pick(token_file, env, app->cfg->web_token_file)) {
    case WEB_TOKEN_FROM_FLAG: return read_token_file(app, "token file", token_file, token, cap);
    case WEB_TOKEN_FROM_CONFIG:
        return read_token_file(app, "web.token_file", app->cfg->web_token_file, token, cap);
    case WEB_TOKEN_FROM_ENV:
        if (!web_token_valid(env))
            return cli_usage(app, "DRUDGE_WEB_TOKEN must be %d to %d printable characters",
                             WEB_TOKEN_MIN, WEB_TOKEN_MAX);
        snprintf(token, cap, "%s", env);
        return CLI_OK;
    case WEB_TOKEN_RANDOM: break;
    }
    if (random_token(token, cap) < 0)
        return cli_fail(app, "cannot make a token: %s", strerror(errno));
    *generated = 1;
    return CLI_OK;
}

int cli_cmd_web(cli *app, int argc, char **argv)
{
    /* --require-token-for-reads takes an optional value (=false turns off
     * a web.require_token_for_reads: true of the config). */
    static const struct option longopts[] = {
        {"listen", required_argument, NULL, 'l'},
        {"token-file", required_argument, NULL, 't'},
        {"require-token-for-reads", optional_argument, NULL, 'R'},
        {"timeout", required_argument, NULL, 'T'},
        {"max-connections", required_argument, NULL, 'C'},
        {"max-per-ip", required_argument, NULL, 'P'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    const char *listen = NULL, *token_file = NULL;
    long timeout = DEFAULT_TIMEOUT_S, conns = DEFAULT_CONNECTIONS, per_ip = DEFAULT_PER_IP;
    int reads = -1, opt; /* -1: as the config says */
    while ((opt = cli_getopt(app, argc, argv, "l:t:h", longopts)) != -1) {
        switch (opt) {
        case 'l': listen = optarg; break;
        case 't': token_file = optarg; break;
        case 'R':
            if (optarg == NULL)
                reads = 1;
            else if (web_bool_parse(optarg, &reads) < 0)
                return cli_usage(app, "invalid --require-token-for-reads=%.20s: use true or false",
                                 optarg);
            break;
        case 'T':
            if (cli_parse_long(app, "--timeout", optarg, 2, 3600, &timeout) != CLI_OK)
                return CLI_USAGE;
            break;
        case 'C':
            if (cli_parse_long(app, "--max-connections", optarg, 1, 100000, &conns) != CLI_OK)
                return CLI_USAGE;
            break;
        case 'P':
            if (cli_parse_long(app, "--max-per-ip", optarg, 0, 100000, &per_ip) != CLI_OK)
                return CLI_USAGE;
            break;
        case 'h': return cli_help(app);
        default: return CLI_USAGE;
        }
    }
    static const char *const none[] = {""};
    if (cli_operands(app, argc, argv, 0, 0, none) != CLI_OK)
        return CLI_USAGE;
    int rc = cli_connect(app); /* loads the config: web.token_file and the rest */
    if (rc != CLI_OK)
        return rc;
    char token[WEB_TOKEN_MAX + 1];
    int generated;
    if ((rc = pick_token(app, token_file, token, sizeof token, &generated)) != CLI_OK)
        return rc;
    if (listen == NULL)
        listen = app->cfg->web_listen ? app->cfg->web_listen : "127.0.0.1:8080";
    web_options opts = {
        .listen = listen,
        .token = token,
        .require_token_for_reads = reads >= 0 ? reads : app->cfg->web_require_token_for_reads,
        .timeout_s = (unsigned)timeout,
        .connection_limit = (unsigned)conns,
        .per_ip_limit = (unsigned)per_ip,
    };
    if (generated)
        fprintf(stderr,
                "drudge web: open http://%s/#token=%s\n"
                "drudge web: (the token in the address lets that browser pause, retry and push; "
                "use --token-file or web.token_file to keep one)\n",
                listen, token);
    else
        fprintf(stderr, "drudge web: open http://%s/\n", listen);
    return web_server_run(app->cfg, &opts);
}

/* ---- drudge capacity ---- */

static void format_bytes(double bytes, char *buf, size_t cap)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    size_t u = 0;
    while (bytes >= 1024 && u + 1 < sizeof units / sizeof units[0]) {
        bytes /= 1024;
        u++;
    }
    snprintf(buf, cap, u == 0 ? "%.0f %s" : "%.1f %s", bytes, units[u]);
}

/* 1234567 -> "1,234,567" */
static void format_count(double v, char *buf, size_t cap)
{
    char digits[32];
    snprintf(digits, sizeof digits, "%.0f", v);
    size_t n = strlen(digits), o = 0;
    for (size_t i = 0; i < n && o + 2 < cap; i++) {
        if (i > 0 && (n - i) % 3 == 0)
            buf[o++] = ',';
        buf[o++] = digits[i];
    }
    buf[o] = '\0';
}

static const char *cell_number(const json_t *row, const char *key, const char *fmt, char *buf,
                               size_t cap)
{
    const json_t *v = json_object_get(row, key);
    if (!json_is_number(v))
        return "-";
    snprintf(buf, cap, fmt, json_number_value(v));
    return buf;
}

static void print_capacity(const json_t *cap)
{
    char mem[32];
    format_bytes((double)json_integer_value(json_object_get(cap, "memory_bytes")), mem, sizeof mem);
    printf("In %s, with every worker busy all the time (a month is %d days):\n\n", mem,
           WEB_MONTH_DAYS);
    static const char *const head[] = {"class", "workers", "RSS/worker", "mean job",
                                       "fit",   "jobs/s",  "jobs/month"};
    cli_table t;
    cli_table_init(&t, 7, head, "lrrrrrr");
    size_t i;
    const json_t *row;
    json_array_foreach(json_object_get(cap, "classes"), i, row)
    {
        char workers[24], rss[32], ms[32], fit[32], ps[32], month[48];
        snprintf(workers, sizeof workers, "%lld",
                 (long long)json_integer_value(json_object_get(row, "workers")));
        const json_t *r = json_object_get(row, "rss_bytes");
        if (json_is_number(r))
            format_bytes(json_number_value(r), rss, sizeof rss);
        else
            snprintf(rss, sizeof rss, "-");
        const json_t *m = json_object_get(row, "jobs_per_month");
        if (json_is_number(m))
            format_count(json_number_value(m), month, sizeof month);
        else
            snprintf(month, sizeof month, "-");
        const json_t *f = json_object_get(row, "fit");
        if (json_is_integer(f))
            snprintf(fit, sizeof fit, "%lld", (long long)json_integer_value(f));
        else
            snprintf(fit, sizeof fit, "-");
        const char *cells[7] = {json_string_value(json_object_get(row, "class")),
                                workers,
                                rss,
                                cell_number(row, "job_ms", "%.1f ms", ms, sizeof ms),
                                fit,
                                cell_number(row, "jobs_per_second", "%.1f", ps, sizeof ps),
                                month};
        cli_table_add(&t, cells);
    }
    cli_table_print(&t, stdout);
    cli_table_release(&t);
    const json_t *mix = json_object_get(cap, "mix");
    char rss[32], now[48], fit_month[48];
    format_bytes(json_number_value(json_object_get(mix, "rss_bytes")), rss, sizeof rss);
    format_count(json_number_value(json_object_get(mix, "jobs_per_month")), now, sizeof now);
    printf("\nfit: workers of that class alone that fit in %s (RSS measured on live workers);\n"
           "mean job: handler time per attempt (run_ms over done, retried and failed).\n",
           mem);
    if (json_is_integer(json_object_get(mix, "fit"))) {
        format_count(json_number_value(json_object_get(mix, "fit_jobs_per_month")), fit_month,
                     sizeof fit_month);
        printf("Now: %lld live workers in %s, up to %s jobs a month; the same mix grown to %s: "
               "%lld workers, %s jobs a month.\n",
               (long long)json_integer_value(json_object_get(mix, "workers")), rss, now, mem,
               (long long)json_integer_value(json_object_get(mix, "fit")), fit_month);
    } else {
        printf("No live worker has reported its memory yet: start workers to measure.\n");
    }
}

int cli_cmd_capacity(cli *app, int argc, char **argv)
{
    static const struct option longopts[] = {{"memory", required_argument, NULL, 'm'},
                                             {"json", no_argument, NULL, 'j'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    uint64_t memory = pages > 0 && page > 0 ? (uint64_t)pages * (uint64_t)page : 4ull << 30;
    int json = 0, opt;
    while ((opt = cli_getopt(app, argc, argv, "m:jh", longopts)) != -1) {
        switch (opt) {
        case 'm':
            if (web_size_parse(optarg, &memory) < 0)
                return cli_usage(app, "invalid --memory \"%.40s\": use a size like 512M or 4G",
                                 optarg);
            break;
        case 'j': json = 1; break;
        case 'h': return cli_help(app);
        default: return CLI_USAGE;
        }
    }
    static const char *const none[] = {""};
    if (cli_operands(app, argc, argv, 0, 0, none) != CLI_OK)
        return CLI_USAGE;
    int rc = cli_connect(app);
    if (rc != CLI_OK)
        return rc;
    json_t *stats = drudge_stats_get(app->client);
    json_t *workers = stats ? drudge_workers_list(app->client) : NULL;
    if (stats == NULL || workers == NULL) {
        json_decref(stats);
        return cli_fail(app, "%s", drudge_client_errstr(app->client));
    }
    json_t *cap = web_capacity_compute(stats, workers, memory);
    json_decref(stats);
    json_decref(workers);
    if (cap == NULL)
        return cli_fail(app, "out of memory");
    if (json)
        rc = cli_print_json(app, cap, JSON_INDENT(2));
    else
        print_capacity(cap);
    json_decref(cap);
    return rc;
}
