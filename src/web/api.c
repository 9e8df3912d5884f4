/* api.c - the JSON API: numbers per class (with the last hour per minute,
 * from the workers' per-minute counters in Redis), a class's per-minute
 * counters, workers, capacity, the schedule, failed jobs (list, retry,
 * delete), delayed jobs, pause / resume, push, one job's status and cancel,
 * and /metrics. Each function borrows a Redis client from the pool for a
 * few libdrudge calls; the checks of class names and ids happened in the
 * route matcher, the token and origin checks in server.c. Errors are
 * {"error": "..."}. */
#include "web_internal.h"

#include "capacity.h"
#include "metrics.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PAGE_DEFAULT 50 /* failed and delayed jobs per page */
#define PAGE_MAX 500
#define OFFSET_MAX 100000000
#define REASON_MAX 200
#define MAX_DELAY_S 315360000.0 /* ten years, as `drudge push --delay` */

static int reply_redis_error(web_request *req, drudge_client *c)
{
    const char *err = drudge_client_errstr(c);
    return web_reply_error(req, 503, "%s", *err ? err : "redis error");
}

/* Take a client or answer 503. */
static drudge_client *take(web_request *req)
{
    char err[DRUDGE_ERRSTR_MAX];
    drudge_client *c = web_client_take(req->srv, err, sizeof err);
    if (c == NULL)
        web_reply_error(req, 503, "%s", err);
    return c;
}

static const char *param(web_request *req, const char *name)
{
    return web_match_param(&req->match, name);
}

/* The request body as a JSON object: *out NULL for an empty body. 0, or -1
 * after answering 400. */
static int body_object(web_request *req, json_t **out)
{
    *out = NULL;
    if (req->body.len == 0)
        return 0;
    json_error_t jerr;
    json_t *v = json_loadb(req->body.data, req->body.len, JSON_REJECT_DUPLICATES, &jerr);
    if (v == NULL || !json_is_object(v)) {
        json_decref(v);
        web_reply_error(req, 400, "the body must be a JSON object%s%s", v ? "" : ": ",
                        v ? "" : jerr.text);
        return -1;
    }
    *out = v;
    return 0;
}

/* Physical memory of this machine, the default of --memory. */
static uint64_t machine_memory(void)
{
    long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
    return pages > 0 && size > 0 ? (uint64_t)pages * (uint64_t)size : 4ull << 30;
}

/* ---- reading ---- */

int web_api_info(web_request *req)
{
    web_server *srv = req->srv;
    return web_reply_json(
        req, 200,
        json_pack("{s:s, s:b, s:s, s:i, s:I, s:s, s:I}", "version", DRUDGE_VERSION,
                  "require_token_for_reads", srv->require_token_for_reads, "demo_class",
                  WEB_DEMO_CLASS, "plot_minutes", WEB_PLOT_MINUTES, "now", (json_int_t)web_now_ms(),
                  "outputs", "/outputs/", "memory_bytes", (json_int_t)machine_memory()));
}

/* Add the last hour per minute (series.h) to each stats row, from the
 * workers' per-minute counters: one pipelined round trip per class. 0, or
 * -1 with the reason on c. */
static int add_series(drudge_client *c, json_t *stats)
{
    size_t i;
    json_t *row;
    json_array_foreach(stats, i, row)
    {
        const char *cls = json_string_value(json_object_get(row, "class"));
        json_t *minutes = drudge_class_minutes(c, cls, WEB_PLOT_MINUTES);
        if (minutes == NULL)
            return -1;
        json_t *series = web_series_json(minutes);
        json_decref(minutes);
        if (series == NULL || json_object_update(row, series) < 0) {
            json_decref(series);
            return -1;
        }
        json_decref(series);
    }
    return 0;
}

int web_api_stats(web_request *req)
{
    drudge_client *c = take(req);
    if (c == NULL)
        return 0;
    json_t *stats = drudge_stats_get(c), *workers = stats ? drudge_workers_list(c) : NULL;
    if (stats == NULL || workers == NULL || add_series(c, stats) < 0) {
        int rc = *drudge_client_errstr(c) ? reply_redis_error(req, c)
                                          : web_reply_error(req, 500, "out of memory");
        json_decref(stats);
        json_decref(workers);
        web_client_give(req->srv, c);
        return rc;
    }
    web_client_give(req->srv, c);
    size_t i;
    json_t *w;
    long long live = 0, dead = 0;
    json_array_foreach(workers, i, w)
    {
        if (json_is_true(json_object_get(w, "dead")))
            dead++;
        else
            live++;
    }
    json_decref(workers);
    return web_reply_json(req, 200,
                          json_pack("{s:I, s:o, s:{s:I, s:I}, s:i}", "now",
                                    (json_int_t)web_now_ms(), "classes", stats, "workers", "live",
                                    (json_int_t)live, "dead", (json_int_t)dead, "plot_minutes",
                                    WEB_PLOT_MINUTES));
}

/* GET /api/classes/<C>/minutes[?minutes=N]: drudge_class_minutes() as is
 * (default the last hour, at most the 24 h the workers keep). */
int web_api_minutes(web_request *req)
{
    long minutes = WEB_PLOT_MINUTES;
    const char *arg = web_query(req, "minutes");
    if (arg && web_parse_long(arg, 1, DRUDGE_MINUTES_MAX, &minutes) < 0)
        return web_reply_error(req, 400, "invalid minutes \"%.20s\": use 1 to %d", arg,
                               DRUDGE_MINUTES_MAX);
    drudge_client *c = take(req);
    if (c == NULL)
        return 0;
    json_t *v = drudge_class_minutes(c, param(req, "class"), (int)minutes);
    int rc = v ? web_reply_json(req, 200, v) : reply_redis_error(req, c);
    web_client_give(req->srv, c);
    return rc;
}

int web_api_workers(web_request *req)
{
    drudge_client *c = take(req);
    if (c == NULL)
        return 0;
    json_t *workers = drudge_workers_list(c);
    int rc = workers ? web_reply_json(req, 200,
                                      json_pack("{s:I, s:o}", "now", (json_int_t)web_now_ms(),
                                                "workers", workers))
                     : reply_redis_error(req, c);
    web_client_give(req->srv, c);
    return rc;
}

int web_api_capacity(web_request *req)
{
    uint64_t memory = machine_memory();
    const char *arg = web_query(req, "memory");
    if (arg != NULL && web_size_parse(arg, &memory) < 0)
        return web_reply_error(req, 400, "invalid memory \"%.40s\": use a size like 512M or 4G",
                               arg);
    drudge_client *c = take(req);
    if (c == NULL)
        return 0;
    json_t *stats = drudge_stats_get(c), *workers = stats ? drudge_workers_list(c) : NULL;
    int rc;
    if (stats == NULL || workers == NULL)
        rc = reply_redis_error(req, c);
    else
        rc = web_reply_json(req, 200, web_capacity_compute(stats, workers, memory));
    web_client_give(req->srv, c);
    json_decref(stats);
    json_decref(workers);
    return rc;
}

int web_api_cron(web_request *req)
{
    drudge_client *c = take(req);
    if (c == NULL)
        return 0;
    json_t *list = drudge_cron_list(c);
    int rc = list ? web_reply_json(req, 200, json_pack("{s:o}", "schedule", list))
                  : reply_redis_error(req, c);
    web_client_give(req->srv, c);
    return rc;
}

typedef json_t *(*page_fn)(drudge_client *c, const char *class_name, long offset, long limit);

/* ?offset=N&limit=N of a job list, then the list as JSON. */
static int job_page(web_request *req, page_fn fn)
{
    long offset = 0, limit = PAGE_DEFAULT;
    const char *arg;
    if ((arg = web_query(req, "offset")) && web_parse_long(arg, 0, OFFSET_MAX, &offset) < 0)
        return web_reply_error(req, 400, "invalid offset \"%.20s\": use 0 to %d", arg, OFFSET_MAX);
    if ((arg = web_query(req, "limit")) && web_parse_long(arg, 0, PAGE_MAX, &limit) < 0)
        return web_reply_error(req, 400, "invalid limit \"%.20s\": use 0 to %d", arg, PAGE_MAX);
    drudge_client *c = take(req);
    if (c == NULL)
        return 0;
    json_t *list = fn(c, param(req, "class"), offset, limit);
    int rc = list ? web_reply_json(req, 200, list) : reply_redis_error(req, c);
    web_client_give(req->srv, c);
    return rc;
}

int web_api_failed_list(web_request *req)
{
    return job_page(req, drudge_failed_list);
}

int web_api_delayed_list(web_request *req)
{
    return job_page(req, drudge_delayed_list);
}

int web_api_job_get(web_request *req)
{
    const char *cls = param(req, "class"), *id = param(req, "id");
    drudge_client *c = take(req);
    if (c == NULL)
        return 0;
    json_t *st = drudge_status_get(c, cls, id);
    int rc;
    if (st != NULL)
        rc = web_reply_json(req, 200, st);
    else if (*drudge_client_errstr(c))
        rc = reply_redis_error(req, c);
    else
        rc = web_reply_error(req, 404, "unknown job \"%s\" in %s", id, cls);
    web_client_give(req->srv, c);
    return rc;
}

int web_metrics(web_request *req)
{
    drudge_client *c = take(req);
    if (c == NULL)
        return 0;
    json_t *stats = drudge_stats_get(c), *workers = stats ? drudge_workers_list(c) : NULL;
    int rc;
    if (stats == NULL || workers == NULL) {
        rc = reply_redis_error(req, c);
    } else {
        strbuf text;
        strbuf_init(&text, 0);
        if (web_metrics_format(&text, stats, workers) == 0)
            rc = web_reply(req, 200, WEB_METRICS_CONTENT_TYPE, text.data, text.len);
        else
            rc = web_reply_error(req, 500, "out of memory");
        strbuf_release(&text);
    }
    web_client_give(req->srv, c);
    json_decref(stats);
    json_decref(workers);
    return rc;
}

/* ---- changing ---- */

typedef long (*failed_fn)(drudge_client *c, const char *class_name, const char *id);

/* Retry or delete one failed job (id) or all of them (id NULL). */
static int failed_action(web_request *req, failed_fn fn, const char *what, const char *id)
{
    const char *cls = param(req, "class");
    drudge_client *c = take(req);
    if (c == NULL)
        return 0;
    long n = fn(c, cls, id);
    int rc;
    if (n < 0)
        rc = reply_redis_error(req, c);
    else if (n == 0 && id != NULL)
        rc = web_reply_error(req, 404, "no failed job \"%s\" in %s", id, cls);
    else
        rc = web_reply_json(req, 200, json_pack("{s:s, s:I}", "class", cls, what, (json_int_t)n));
    web_client_give(req->srv, c);
    return rc;
}

int web_api_failed_retry(web_request *req)
{
    return failed_action(req, drudge_failed_retry, "retried", param(req, "id"));
}

int web_api_failed_retry_all(web_request *req)
{
    return failed_action(req, drudge_failed_retry, "retried", NULL);
}

int web_api_failed_delete(web_request *req)
{
    return failed_action(req, drudge_failed_delete, "deleted", param(req, "id"));
}

int web_api_failed_delete_all(web_request *req)
{
    return failed_action(req, drudge_failed_delete, "deleted", NULL);
}

/* Body (optional): {"reason": "...", "seconds": N} */
int web_api_pause(web_request *req)
{
    json_t *body;
    if (body_object(req, &body) < 0)
        return 0;
    const json_t *reason = json_object_get(body, "reason"),
                 *seconds = json_object_get(body, "seconds");
    const char *cls = param(req, "class");
    drudge_client *c = NULL;
    int rc = 0;
    if (reason && (!json_is_string(reason) || json_string_length(reason) > REASON_MAX)) {
        rc = web_reply_error(req, 400, "reason must be a string of at most %d bytes", REASON_MAX);
        goto out;
    }
    double s = seconds ? json_number_value(seconds) : 0;
    if (seconds && (!json_is_number(seconds) || !isfinite(s) || s < 0 || s > MAX_DELAY_S)) {
        rc = web_reply_error(req, 400, "seconds must be a number from 0 to %.0f", MAX_DELAY_S);
        goto out;
    }
    if ((c = take(req)) == NULL)
        goto out;
    if (drudge_class_pause(c, cls, reason ? json_string_value(reason) : NULL,
                           (int64_t)llround(s * 1000)) < 0)
        rc = reply_redis_error(req, c);
    else
        rc = web_reply_json(req, 200, json_pack("{s:s, s:b}", "class", cls, "paused", 1));
    web_client_give(req->srv, c);
out:
    json_decref(body);
    return rc;
}

int web_api_resume(web_request *req)
{
    const char *cls = param(req, "class");
    drudge_client *c = take(req);
    if (c == NULL)
        return 0;
    int rc = drudge_class_resume(c, cls) < 0
                 ? reply_redis_error(req, c)
                 : web_reply_json(req, 200, json_pack("{s:s, s:b}", "class", cls, "paused", 0));
    web_client_give(req->srv, c);
    return rc;
}

/* POST /api/jobs/<Class>[?delay=S][&unique=1], the body is the payload,
 * pushed byte for byte as `drudge push` does. */
int web_api_job_push(web_request *req)
{
    const char *cls = param(req, "class"), *arg;
    drudge_push_opts opts = {0, 0, 0};
    if ((arg = web_query(req, "delay")) != NULL) {
        char *end;
        double s = strtod(arg, &end);
        if (*arg == '\0' || *end != '\0' || !isfinite(s) || s < 0 || s > MAX_DELAY_S)
            return web_reply_error(req, 400, "invalid delay \"%.20s\": use seconds from 0 to %.0f",
                                   arg, MAX_DELAY_S);
        opts.delay_ms = (int64_t)llround(s * 1000);
    }
    if ((arg = web_query(req, "unique")) != NULL)
        opts.unique = strcmp(arg, "0") != 0 && strcmp(arg, "false") != 0;
    if (req->body.len == 0)
        return web_reply_error(req, 400, "missing payload: send the job's JSON object as the body");
    char why[DRUDGE_ERRSTR_MAX];
    json_t *parsed = drudge_payload_parse(req->body.data, req->body.len,
                                          req->srv->cfg->max_payload_bytes, why, sizeof why);
    if (parsed == NULL)
        return web_reply_error(req, 400, "%s", why);
    char id[DRUDGE_ID_MAX + 1];
    int bad_id = drudge_job_id(req->body.data, req->body.len, parsed, id, why, sizeof why) < 0;
    json_decref(parsed);
    if (bad_id)
        return web_reply_error(req, 400, "%s", why);
    drudge_client *c = take(req);
    if (c == NULL)
        return 0;
    int pushed = drudge_push(c, cls, req->body.data, req->body.len, &opts, id);
    int rc;
    if (pushed < 0)
        rc = reply_redis_error(req, c);
    else if (pushed == DRUDGE_DUPLICATE)
        rc =
            web_reply_json(req, 409,
                           json_pack("{s:s, s:s, s:b, s:s}", "class", cls, "id", id, "duplicate", 1,
                                     "error", "a job with this id is already queued or running"));
    else
        rc = web_reply_json(req, 201,
                            json_pack("{s:s, s:s, s:b}", "class", cls, "id", id, "duplicate", 0));
    web_client_give(req->srv, c);
    return rc;
}

int web_api_job_cancel(web_request *req)
{
    const char *cls = param(req, "class"), *id = param(req, "id");
    drudge_client *c = take(req);
    if (c == NULL)
        return 0;
    int r = drudge_job_cancel(c, cls, id), rc;
    switch (r) {
    case DRUDGE_CANCEL_DONE:
        rc = web_reply_json(req, 200, json_pack("{s:s}", "result", "cancelled"));
        break;
    case DRUDGE_CANCEL_REQUESTED:
        rc = web_reply_json(req, 202, json_pack("{s:s}", "result", "requested"));
        break;
    case DRUDGE_CANCEL_FINISHED:
        rc = web_reply_error(req, 409, "job \"%s\" has already finished", id);
        break;
    case DRUDGE_CANCEL_UNKNOWN:
        rc = web_reply_error(req, 404, "unknown job \"%s\" in %s", id, cls);
        break;
    default: rc = reply_redis_error(req, c); break;
    }
    web_client_give(req->srv, c);
    return rc;
}
