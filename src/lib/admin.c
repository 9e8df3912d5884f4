/* admin.c - what operators look at and do: the numbers per class, the
 * workers, the failed list (look, retry, delete), pause / resume, cancel,
 * the cron schedule, and following one job's status as it changes.
 * The CLI and the web dashboard both call these; results are jansson values
 * so that `--json` or an HTTP response is one dump away.
 *
 * Lua has no SHA-256, so a job id is never computed in a script: the C side
 * reads the stored payloads, derives their ids (exactly as the worker does)
 * and hands the exact bytes it found to a script (failed_retry,
 * failed_delete, cancel), which changes them only if they are still there.
 * Key names come from keys.c; pushing and reading one status from queue.c.
 *
 * The counters the workers keep (ack_fetch.lua) are read here too: the
 * running totals and job-duration buckets in <Class>:stats (drudge_stats_get)
 * and the per-minute hashes <Class>:minute:<m> (drudge_class_minutes).
 */
#include "internal.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>

#define SCAN_CHUNK 1000 /* elements per LRANGE / ZRANGE while scanning */
#define PIPE_CHUNK 500  /* commands in flight per pipelined batch */
#define CANCEL_TRIES 3  /* a job may move between our read and the script */
#define MATCH_MAX 16    /* distinct payloads with one id we act on at once */
#define STATUS_KEY_MAX (DRUDGE_KEY_MAX + DRUDGE_ID_MAX)
#define WORKER_KEY_MAX (DRUDGE_KEY_MAX + 200)
#define MINUTE_KEY_MAX (DRUDGE_KEY_MAX + 24)
#define MINUTE_MS 60000
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* The counters of <Class>:stats and of each <Class>:minute:<m> hash, in
 * the order they are read and reported. */
static const char *const counter_fields[] = {"processed", "failed", "retried", "run_ms"};
#define NCOUNTERS COUNT(counter_fields)
/* ... and their names in a stats row ("failed" there is the failed list). */
static const char *const counter_names[NCOUNTERS] = {"processed", "failed_total", "retried",
                                                     "run_ms"};

/* Upper bounds (ms) of the job-duration buckets, <Class>:stats le_<ms>,
 * as ack_fetch.lua counts them: a run of r ms is counted in the first
 * bucket with r <= bound, or in le_inf. */
static const long duration_bounds_ms[] = {5,    10,   25,   50,    100,   250,   500,
                                          1000, 2500, 5000, 10000, 30000, 60000, 300000};
#define NBOUNDS COUNT(duration_bounds_ms)
#define NBUCKETS (NBOUNDS + 1) /* and le_inf */
#define BUCKET_FIELD_MAX 16

/* ---- small helpers: errors, replies, JSON ---- */

__attribute__((format(printf, 2, 3))) static void set_err(drudge_client *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->errstr, sizeof c->errstr, fmt, ap);
    va_end(ap);
}

/* A reply that is NULL (I/O error) or a Redis error: message on c, 1. */
static int reply_failed(drudge_client *c, const redisReply *r)
{
    if (r == NULL) {
        set_err(c, "%s", c->conn.errstr);
        return 1;
    }
    if (r->type == REDIS_REPLY_ERROR) {
        set_err(c, "redis: %s", r->str);
        return 1;
    }
    return 0;
}

static long long reply_integer(const redisReply *r)
{
    long long v = 0;
    if (r == NULL)
        return 0;
    if (r->type == REDIS_REPLY_INTEGER)
        return r->integer;
    if (r->type == REDIS_REPLY_STRING) {
        char *end;
        errno = 0;
        v = strtoll(r->str, &end, 10);
        if (errno != 0 || end == r->str || *end != '\0')
            v = 0;
    }
    return v;
}

static int reply_is_string(const redisReply *r)
{
    return r != NULL && (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS);
}

/* A JSON string of bytes that may not be UTF-8 (error texts, payloads):
 * the bytes when they are valid, else a copy with non-ASCII bytes as '?'. */
static json_t *json_text(const char *s, size_t len)
{
    json_t *v = json_stringn(s, len);
    if (v != NULL)
        return v;
    char *copy = malloc(len + 1);
    if (copy == NULL)
        return NULL;
    for (size_t i = 0; i < len; i++)
        copy[i] = (unsigned char)s[i] < 0x80 ? s[i] : '?';
    v = json_stringn(copy, len);
    free(copy);
    return v;
}

/* Keys of a class, with the checks every entry point makes. */
static int class_keys(drudge_client *c, const char *class_name, drudge_keys *k)
{
    if (!drudge_class_valid(class_name)) {
        set_err(c, "invalid class name \"%.64s\": use 1-%d characters of [A-Za-z0-9_.:-]",
                class_name ? class_name : "", DRUDGE_CLASS_MAX);
        return -1;
    }
    if (drudge__keys_init(k, c->cfg->namespace_, class_name) < 0) {
        set_err(c, "key name too long for class \"%.64s\"", class_name);
        return -1;
    }
    return 0;
}

static int check_id(drudge_client *c, const char *id)
{
    if (drudge_id_valid(id))
        return 0;
    set_err(c, "invalid job id \"%.64s\": use 1-%d characters of [A-Za-z0-9_.:-]", id ? id : "",
            DRUDGE_ID_MAX);
    return -1;
}


/* ---- pipelining: append commands, then read all replies at once ---- */

static int append_cmd(drudge_client *c, int argc, const char **argv, const size_t *lens)
{
    if (c->conn.ctx == NULL || redisAppendCommandArgv(c->conn.ctx, argc, argv, lens) != REDIS_OK) {
        set_err(c, "%s", c->conn.ctx ? c->conn.ctx->errstr : "not connected to redis");
        drudge__conn_drop(&c->conn);
        return -1;
    }
    return 0;
}

static void free_replies(redisReply **replies, size_t n)
{
    if (replies == NULL)
        return;
    for (size_t i = 0; i < n; i++)
        if (replies[i])
            freeReplyObject(replies[i]);
    free(replies);
}

/* Read n pending replies. NULL on an I/O error (the connection is dropped,
 * so no reply is left unread) or when any reply is a Redis error. */
static redisReply **read_replies(drudge_client *c, size_t n)
{
    redisReply **replies = calloc(n ? n : 1, sizeof *replies);
    if (replies == NULL) {
        set_err(c, "out of memory");
        drudge__conn_drop(&c->conn);
        return NULL;
    }
    int bad = 0;
    for (size_t i = 0; i < n; i++) {
        replies[i] = drudge__conn_read(&c->conn);
        if (replies[i] == NULL) {
            set_err(c, "%s", c->conn.errstr);
            free_replies(replies, n);
            return NULL;
        }
        if (!bad && replies[i]->type == REDIS_REPLY_ERROR) {
            set_err(c, "redis: %s", replies[i]->str);
            bad = 1;
        }
    }
    if (bad) {
        free_replies(replies, n);
        return NULL;
    }
    return replies;
}

static redisReply *command(drudge_client *c, int argc, const char **argv, const size_t *lens)
{
    redisReply *r = drudge__conn_cmd(&c->conn, argc, argv, lens);
    if (reply_failed(c, r)) {
        if (r)
            freeReplyObject(r);
        return NULL;
    }
    return r;
}

/* The Redis server's clock (unix ms): heartbeats are scored with it, so a
 * worker's age is measured against it, not against this machine's clock. */
static int64_t server_now_ms(drudge_client *c)
{
    const char *argv[1] = {"TIME"};
    redisReply *r = command(c, 1, argv, NULL);
    if (r == NULL)
        return -1;
    int64_t now = drudge__now_ms();
    if (r->type == REDIS_REPLY_ARRAY && r->elements == 2)
        now = (int64_t)reply_integer(r->element[0]) * 1000 + reply_integer(r->element[1]) / 1000;
    freeReplyObject(r);
    return now;
}

/* ---- workers ---- */

typedef struct worker_row {
    char *id;
    int64_t heartbeat_at;
} worker_row;

/* drudge:workers as rows; *n receives the count. NULL with n 0 is an empty
 * set when errstr is "" and an error otherwise. */
static worker_row *read_workers(drudge_client *c, size_t *n)
{
    char key[DRUDGE_KEY_MAX];
    *n = 0;
    if (drudge__key_workers(c->cfg->namespace_, key, sizeof key) < 0) {
        set_err(c, "key name too long");
        return NULL;
    }
    const char *argv[5] = {"ZRANGE", key, "0", "-1", "WITHSCORES"};
    redisReply *r = command(c, 5, argv, NULL);
    if (r == NULL)
        return NULL;
    worker_row *rows = NULL;
    size_t count = r->type == REDIS_REPLY_ARRAY ? r->elements / 2 : 0;
    if (count > 0 && (rows = calloc(count, sizeof *rows)) == NULL) {
        set_err(c, "out of memory");
        count = 0;
    }
    for (size_t i = 0; i < count; i++) {
        rows[i].id = strndup(r->element[2 * i]->str, r->element[2 * i]->len);
        char *end;
        rows[i].heartbeat_at = (int64_t)strtod(r->element[2 * i + 1]->str, &end);
        if (rows[i].id == NULL) {
            for (size_t j = 0; j <= i; j++)
                free(rows[j].id);
            free(rows);
            set_err(c, "out of memory");
            rows = NULL;
            count = 0;
            break;
        }
    }
    freeReplyObject(r);
    *n = count;
    return rows;
}

static void free_workers(worker_row *rows, size_t n)
{
    for (size_t i = 0; rows && i < n; i++)
        free(rows[i].id);
    free(rows);
}

/* Worker hash fields that are numbers; the rest stay strings. */
static const char *const worker_number_fields[] = {
    "pid",    "started_at",   "job_started_at", "jobs_done",
    "rss_kb", "heartbeat_at", "max_attempts",   "status_ttl",
};

static int is_number_field(const char *name)
{
    for (size_t i = 0; i < sizeof worker_number_fields / sizeof worker_number_fields[0]; i++)
        if (strcmp(name, worker_number_fields[i]) == 0)
            return 1;
    return 0;
}

json_t *drudge_workers_list(drudge_client *c)
{
    c->errstr[0] = '\0';
    if (drudge__client_ready(c) < 0)
        return NULL;
    int64_t now = server_now_ms(c);
    if (now < 0)
        return NULL;
    size_t n;
    worker_row *rows = read_workers(c, &n);
    if (rows == NULL && c->errstr[0])
        return NULL;
    json_t *out = json_array();
    redisReply **replies = NULL;
    int64_t dead_ms = (int64_t)(c->cfg->dead_after * 1000);
    for (size_t start = 0; start < n && out; start += PIPE_CHUNK) {
        size_t end = start + PIPE_CHUNK < n ? start + PIPE_CHUNK : n;
        for (size_t i = start; i < end; i++) {
            char key[WORKER_KEY_MAX];
            if (drudge__key_worker(c->cfg->namespace_, rows[i].id, key, sizeof key) < 0)
                key[0] = '\0';
            const char *argv[2] = {"HGETALL", key};
            if (append_cmd(c, 2, argv, NULL) < 0)
                goto fail;
        }
        if ((replies = read_replies(c, end - start)) == NULL)
            goto fail;
        for (size_t i = start; i < end; i++) {
            const redisReply *h = replies[i - start];
            json_t *w = json_object();
            if (w == NULL)
                goto fail;
            int64_t age = now - rows[i].heartbeat_at;
            json_object_set_new(w, "id", json_text(rows[i].id, strlen(rows[i].id)));
            for (size_t f = 0; h->type == REDIS_REPLY_ARRAY && f + 1 < h->elements; f += 2) {
                const redisReply *name = h->element[f], *value = h->element[f + 1];
                json_t *v = is_number_field(name->str) ? json_integer(reply_integer(value))
                                                       : json_text(value->str, value->len);
                json_object_set_new(w, name->str, v);
            }
            json_object_set_new(w, "heartbeat_at", json_integer(rows[i].heartbeat_at));
            json_object_set_new(w, "heartbeat_age_ms", json_integer(age));
            json_object_set_new(w, "dead", json_boolean(age > dead_ms));
            json_array_append_new(out, w);
        }
        free_replies(replies, end - start);
        replies = NULL;
    }
    free_workers(rows, n);
    return out;
fail:
    free_workers(rows, n);
    json_decref(out);
    return NULL;
}

/* ---- stats ---- */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Known classes: the classes set and the config's classes, sorted, no
 * repeats. Returns a NULL-terminated array of owned strings, or NULL. */
static char **known_classes(drudge_client *c, size_t *n)
{
    char key[DRUDGE_KEY_MAX];
    *n = 0;
    if (drudge__key_classes(c->cfg->namespace_, key, sizeof key) < 0) {
        set_err(c, "key name too long");
        return NULL;
    }
    const char *argv[2] = {"SMEMBERS", key};
    redisReply *r = command(c, 2, argv, NULL);
    if (r == NULL)
        return NULL;
    size_t from_redis = r->type == REDIS_REPLY_ARRAY ? r->elements : 0;
    size_t cap = from_redis + c->cfg->nclasses;
    char **names = calloc(cap + 1, sizeof *names);
    size_t count = 0;
    int oom = names == NULL;
    for (size_t i = 0; !oom && i < from_redis; i++)
        if (drudge_class_valid(r->element[i]->str) &&
            (names[count++] = strdup(r->element[i]->str)) == NULL)
            oom = 1;
    for (size_t i = 0; !oom && i < c->cfg->nclasses; i++)
        if ((names[count++] = strdup(c->cfg->classes[i].name)) == NULL)
            oom = 1;
    freeReplyObject(r);
    if (oom) {
        for (size_t i = 0; names && i < count; i++)
            free(names[i]);
        free(names);
        set_err(c, "out of memory");
        return NULL;
    }
    qsort(names, count, sizeof *names, cmp_str);
    size_t kept = 0;
    for (size_t i = 0; i < count; i++) {
        if (kept > 0 && strcmp(names[kept - 1], names[i]) == 0)
            free(names[i]);
        else
            names[kept++] = names[i];
    }
    names[kept] = NULL;
    *n = kept;
    return names;
}

static void free_names(char **names)
{
    for (size_t i = 0; names && names[i]; i++)
        free(names[i]);
    free(names);
}

/* The commands for one class's numbers, in this order. */
enum { S_QUEUED, S_DELAYED, S_FAILED, S_PAUSED, S_PAUSED_TTL, S_COUNTERS, S_COUNT };

/* The stats hash fields read per class: the counters, then le_<ms> of
 * each bucket and le_inf. */
static void bucket_field(size_t b, char out[BUCKET_FIELD_MAX])
{
    if (b < NBOUNDS)
        snprintf(out, BUCKET_FIELD_MAX, "le_%ld", duration_bounds_ms[b]);
    else
        snprintf(out, BUCKET_FIELD_MAX, "le_inf");
}

static int append_class_stats(drudge_client *c, const drudge_keys *k)
{
    const char *cmds[S_COUNTERS][2] = {
        [S_QUEUED] = {"LLEN", k->queue},      [S_DELAYED] = {"ZCARD", k->delayed},
        [S_FAILED] = {"LLEN", k->failed},     [S_PAUSED] = {"GET", k->paused},
        [S_PAUSED_TTL] = {"PTTL", k->paused},
    };
    for (int i = 0; i < S_COUNTERS; i++)
        if (append_cmd(c, 2, cmds[i], NULL) < 0)
            return -1;
    char buckets[NBUCKETS][BUCKET_FIELD_MAX];
    const char *argv[2 + NCOUNTERS + NBUCKETS] = {"HMGET", k->stats};
    for (size_t f = 0; f < NCOUNTERS; f++)
        argv[2 + f] = counter_fields[f];
    for (size_t b = 0; b < NBUCKETS; b++) {
        bucket_field(b, buckets[b]);
        argv[2 + NCOUNTERS + b] = buckets[b];
    }
    return append_cmd(c, (int)COUNT(argv), argv, NULL);
}

/* [{"le_ms": 5, "jobs": n}, ..., {"le_ms": null, "jobs": n}] from the
 * bucket replies (non-cumulative, as stored). */
static json_t *duration_buckets(const redisReply *h)
{
    json_t *out = json_array();
    for (size_t b = 0; out && b < NBUCKETS; b++) {
        size_t at = NCOUNTERS + b;
        long long jobs =
            h->type == REDIS_REPLY_ARRAY && at < h->elements ? reply_integer(h->element[at]) : 0;
        json_t *le = b < NBOUNDS ? json_integer(duration_bounds_ms[b]) : json_null();
        if (json_array_append_new(
                out, json_pack("{s:o, s:I}", "le_ms", le, "jobs", (json_int_t)jobs)) < 0) {
            json_decref(out);
            out = NULL;
        }
    }
    return out;
}

/* 1 if worker i is alive and serves class_name. */
static int worker_serves(const worker_row *w, redisReply *const *wclass, size_t i,
                         const char *class_name, int64_t now, int64_t dead_ms)
{
    return now - w[i].heartbeat_at <= dead_ms && reply_is_string(wclass[i]) &&
           strcmp(wclass[i]->str, class_name) == 0;
}

static json_t *class_stats_row(const char *class_name, redisReply *const *s, long long running,
                               long long live)
{
    json_t *paused = json_null();
    if (reply_is_string(s[S_PAUSED]))
        paused = json_pack("{s:o, s:I}", "reason", json_text(s[S_PAUSED]->str, s[S_PAUSED]->len),
                           "ttl_ms", (json_int_t)reply_integer(s[S_PAUSED_TTL]));
    json_t *row = json_pack("{s:s, s:I, s:I, s:I, s:I, s:o, s:I}", "class", class_name, "queued",
                            (json_int_t)reply_integer(s[S_QUEUED]), "running", (json_int_t)running,
                            "delayed", (json_int_t)reply_integer(s[S_DELAYED]), "failed",
                            (json_int_t)reply_integer(s[S_FAILED]), "paused", paused, "workers",
                            (json_int_t)live);
    const redisReply *h = s[S_COUNTERS];
    for (size_t f = 0; row && f < NCOUNTERS; f++) {
        long long v =
            h->type == REDIS_REPLY_ARRAY && f < h->elements ? reply_integer(h->element[f]) : 0;
        if (json_object_set_new(row, counter_names[f], json_integer(v)) < 0)
            goto oom;
    }
    if (row && json_object_set_new(row, "duration_buckets", duration_buckets(h)) < 0)
        goto oom;
    return row;
oom:
    json_decref(row);
    return NULL;
}

json_t *drudge_stats_get(drudge_client *c)
{
    c->errstr[0] = '\0';
    if (drudge__client_ready(c) < 0)
        return NULL;
    int64_t now = server_now_ms(c);
    if (now < 0)
        return NULL;
    size_t nclasses = 0, nworkers = 0, nreplies = 0;
    char **classes = known_classes(c, &nclasses);
    if (classes == NULL)
        return NULL;
    worker_row *workers = read_workers(c, &nworkers);
    json_t *out = NULL;
    redisReply **wclass = NULL, **replies = NULL;
    size_t *nlive = calloc(nclasses + 1, sizeof *nlive);
    int64_t dead_ms = (int64_t)(c->cfg->dead_after * 1000);
    if (nlive == NULL) {
        set_err(c, "out of memory");
        goto out;
    }
    if (workers == NULL && c->errstr[0])
        goto out;

    /* Which class each worker serves (its hash's `class`). */
    for (size_t i = 0; i < nworkers; i++) {
        char key[WORKER_KEY_MAX];
        if (drudge__key_worker(c->cfg->namespace_, workers[i].id, key, sizeof key) < 0)
            key[0] = '\0';
        const char *argv[3] = {"HGET", key, "class"};
        if (append_cmd(c, 3, argv, NULL) < 0)
            goto out;
    }
    if (nworkers > 0 && (wclass = read_replies(c, nworkers)) == NULL)
        goto out;

    /* Per class: the fixed commands, then LLEN of each live worker's
     * processing list of that class (jobs running right now). */
    for (size_t ci = 0; ci < nclasses; ci++) {
        drudge_keys k;
        if (drudge__keys_init(&k, c->cfg->namespace_, classes[ci]) < 0) {
            set_err(c, "key name too long for class \"%.64s\"", classes[ci]);
            drudge__conn_drop(&c->conn); /* replies are pending: start afresh */
            goto out;
        }
        if (append_class_stats(c, &k) < 0)
            goto out;
        nreplies += S_COUNT;
        for (size_t i = 0; i < nworkers; i++) {
            char pkey[WORKER_KEY_MAX + DRUDGE_KEY_MAX];
            if (!worker_serves(workers, wclass, i, classes[ci], now, dead_ms) ||
                drudge__key_processing(&k, workers[i].id, pkey, sizeof pkey) < 0)
                continue;
            const char *argv[2] = {"LLEN", pkey};
            if (append_cmd(c, 2, argv, NULL) < 0)
                goto out;
            nlive[ci]++;
            nreplies++;
        }
    }
    if (nreplies > 0 && (replies = read_replies(c, nreplies)) == NULL)
        goto out;

    out = json_array();
    for (size_t ci = 0, at = 0; out && ci < nclasses; ci++) {
        redisReply *const *s = replies + at;
        long long running = 0;
        for (size_t i = 0; i < nlive[ci]; i++)
            running += reply_integer(replies[at + S_COUNT + i]);
        at += S_COUNT + nlive[ci];
        json_t *row = class_stats_row(classes[ci], s, running, (long long)nlive[ci]);
        if (row == NULL || json_array_append_new(out, row) < 0) {
            json_decref(out);
            out = NULL;
            set_err(c, "out of memory");
        }
    }
out:
    free(nlive);
    free_replies(replies, nreplies);
    free_replies(wclass, nworkers);
    free_workers(workers, nworkers);
    free_names(classes);
    return out;
}

/* ---- per-minute counters ---- */

json_t *drudge_class_minutes(drudge_client *c, const char *class_name, int minutes)
{
    c->errstr[0] = '\0';
    drudge_keys k;
    if (class_keys(c, class_name, &k) < 0)
        return NULL;
    if (minutes < 1 || minutes > DRUDGE_MINUTES_MAX) {
        set_err(c, "minutes must be from 1 to %d", DRUDGE_MINUTES_MAX);
        return NULL;
    }
    if (drudge__client_ready(c) < 0)
        return NULL;
    /* the workers name a minute by the Redis server's clock: so do we */
    int64_t now = server_now_ms(c);
    if (now < 0)
        return NULL;
    long long last = (long long)(now / MINUTE_MS), first = last - minutes + 1;
    for (int i = 0; i < minutes; i++) {
        char key[MINUTE_KEY_MAX];
        int len = snprintf(key, sizeof key, "%s%lld", k.minute_prefix, first + i);
        if (len < 0 || (size_t)len >= sizeof key) {
            set_err(c, "key name too long for class \"%.64s\"", class_name);
            drudge__conn_drop(&c->conn); /* replies are pending: start afresh */
            return NULL;
        }
        const char *argv[2 + NCOUNTERS] = {"HMGET", key};
        for (size_t f = 0; f < NCOUNTERS; f++)
            argv[2 + f] = counter_fields[f];
        if (append_cmd(c, (int)COUNT(argv), argv, NULL) < 0)
            return NULL;
    }
    redisReply **replies = read_replies(c, (size_t)minutes);
    if (replies == NULL)
        return NULL;
    json_t *rows = json_array();
    for (int i = 0; rows && i < minutes; i++) {
        const redisReply *h = replies[i];
        json_t *row = json_pack("{s:I}", "minute", (json_int_t)(first + i));
        for (size_t f = 0; row && f < NCOUNTERS; f++) {
            long long v =
                h->type == REDIS_REPLY_ARRAY && f < h->elements ? reply_integer(h->element[f]) : 0;
            if (json_object_set_new(row, counter_fields[f], json_integer(v)) < 0) {
                json_decref(row);
                row = NULL;
            }
        }
        if (json_array_append_new(rows, row) < 0) {
            json_decref(rows);
            rows = NULL;
        }
    }
    free_replies(replies, (size_t)minutes);
    json_t *out = rows ? json_pack("{s:s, s:I, s:I, s:o}", "class", class_name, "now",
                                   (json_int_t)now, "minute", (json_int_t)last, "minutes", rows)
                       : NULL;
    if (out == NULL)
        set_err(c, "out of memory");
    return out;
}

/* ---- listing the jobs of the failed list and of the delayed set ---- */

/* A field of a job's status hash shown in a list: text or a number. */
typedef struct status_field {
    const char *name;
    int is_number;
} status_field;

static const status_field failed_fields[] = {
    {"error", 0},
    {"attempts", 1},
    {"finished_at", 1},
};
static const status_field delayed_fields[] = {
    {"state", 0},
    {"attempts", 1},
    {"error", 0},
};

/* One page of a list (LRANGE) or sorted set (ZRANGE ... WITHSCORES, by
 * score), and its length, in one round trip. *total and *page (NULL when
 * limit is 0) are the replies, for the caller to free. 0 or -1. */
static int read_page(drudge_client *c, const char *key, int is_zset, long offset, long limit,
                     redisReply **total, redisReply **page)
{
    *total = *page = NULL;
    char from[24], to[24];
    snprintf(from, sizeof from, "%ld", offset);
    snprintf(to, sizeof to, "%ld", offset + limit - 1);
    const char *count[2] = {is_zset ? "ZCARD" : "LLEN", key};
    const char *range[5] = {is_zset ? "ZRANGE" : "LRANGE", key, from, to, "WITHSCORES"};
    if (append_cmd(c, 2, count, NULL) < 0 ||
        (limit > 0 && append_cmd(c, is_zset ? 5 : 4, range, NULL) < 0))
        return -1;
    size_t n = limit > 0 ? 2 : 1;
    redisReply **replies = read_replies(c, n);
    if (replies == NULL)
        return -1;
    *total = replies[0];
    *page = n > 1 ? replies[1] : NULL;
    free(replies);
    return 0;
}

/* Rows for the payloads page->element[0], [stride], [2 * stride], ...:
 * {"id" (derived as a worker derives it), the status fields (null where
 * the hash or field is missing), "payload" (the raw text)}, the statuses
 * read in one round trip. The array, or NULL with errstr. */
static json_t *job_rows(drudge_client *c, const drudge_keys *k, const redisReply *page,
                        size_t stride, const status_field *fields, size_t nfields)
{
    size_t n = page && page->type == REDIS_REPLY_ARRAY ? page->elements / stride : 0;
    char(*ids)[DRUDGE_ID_MAX + 1] = n ? calloc(n, sizeof *ids) : NULL;
    const char **argv = calloc(2 + nfields, sizeof *argv);
    redisReply **replies = NULL;
    json_t *rows = NULL;
    if ((n > 0 && ids == NULL) || argv == NULL) {
        set_err(c, "out of memory");
        goto out;
    }
    argv[0] = "HMGET";
    for (size_t f = 0; f < nfields; f++)
        argv[2 + f] = fields[f].name;
    for (size_t i = 0; i < n; i++) {
        const redisReply *e = page->element[i * stride];
        char skey[STATUS_KEY_MAX];
        drudge__payload_id(e->str, e->len, c->cfg->max_payload_bytes, ids[i]);
        if (drudge__key_status(k, ids[i], skey, sizeof skey) < 0)
            skey[0] = '\0';
        argv[1] = skey;
        if (append_cmd(c, (int)(2 + nfields), argv, NULL) < 0)
            goto out;
    }
    if (n > 0 && (replies = read_replies(c, n)) == NULL)
        goto out;
    if ((rows = json_array()) == NULL)
        goto oom;
    for (size_t i = 0; i < n; i++) {
        const redisReply *h = replies[i], *payload = page->element[i * stride];
        json_t *job = json_pack("{s:s}", "id", ids[i]);
        for (size_t f = 0; job && f < nfields; f++) {
            const redisReply *v =
                h->type == REDIS_REPLY_ARRAY && f < h->elements ? h->element[f] : NULL;
            json_t *value = !reply_is_string(v)   ? json_null()
                            : fields[f].is_number ? json_integer(reply_integer(v))
                                                  : json_text(v->str, v->len);
            if (json_object_set_new(job, fields[f].name, value) < 0)
                goto oom_job;
        }
        if (job && json_object_set_new(job, "payload", json_text(payload->str, payload->len)) < 0)
            goto oom_job;
        if (json_array_append_new(rows, job) < 0)
            goto oom;
        continue;
    oom_job:
        json_decref(job);
        goto oom;
    }
    goto out;
oom:
    json_decref(rows);
    rows = NULL;
    set_err(c, "out of memory");
out:
    free_replies(replies, n);
    free(argv);
    free(ids);
    return rows;
}

static int check_page(drudge_client *c, long offset, long limit)
{
    if (offset < 0 || limit < 0 || offset > LONG_MAX - limit) {
        set_err(c, "offset and limit must be from 0 to %ld", LONG_MAX / 2);
        return -1;
    }
    return 0;
}

/* {"class", "total", "offset", "jobs": rows} (rows stolen), or NULL. */
static json_t *page_object(drudge_client *c, const char *class_name, const redisReply *total,
                           long offset, json_t *rows)
{
    json_t *out =
        json_pack("{s:s, s:I, s:I, s:o}", "class", class_name, "total",
                  (json_int_t)reply_integer(total), "offset", (json_int_t)offset, "jobs", rows);
    if (out == NULL)
        set_err(c, "out of memory");
    return out;
}

json_t *drudge_failed_list(drudge_client *c, const char *class_name, long offset, long limit)
{
    c->errstr[0] = '\0';
    drudge_keys k;
    redisReply *total, *page;
    if (class_keys(c, class_name, &k) < 0 || check_page(c, offset, limit) < 0 ||
        drudge__client_ready(c) < 0 || read_page(c, k.failed, 0, offset, limit, &total, &page) < 0)
        return NULL;
    json_t *out = NULL, *rows = job_rows(c, &k, page, 1, failed_fields, COUNT(failed_fields));
    if (rows != NULL)
        out = page_object(c, class_name, total, offset, rows);
    freeReplyObject(total);
    if (page)
        freeReplyObject(page);
    return out;
}

json_t *drudge_delayed_list(drudge_client *c, const char *class_name, long offset, long limit)
{
    c->errstr[0] = '\0';
    drudge_keys k;
    redisReply *total, *page;
    if (class_keys(c, class_name, &k) < 0 || check_page(c, offset, limit) < 0 ||
        drudge__client_ready(c) < 0 || read_page(c, k.delayed, 1, offset, limit, &total, &page) < 0)
        return NULL;
    /* members and scores alternate (WITHSCORES) */
    json_t *out = NULL, *rows = job_rows(c, &k, page, 2, delayed_fields, COUNT(delayed_fields));
    size_t i;
    json_t *job;
    json_array_foreach(rows, i, job)
    {
        const redisReply *score = page->element[2 * i + 1];
        double due = reply_is_string(score) ? strtod(score->str, NULL) : 0;
        /* scores are whole ms; a fraction (a hand-made ZADD) is rounded */
        json_int_t due_ms = (json_int_t)(due >= 0 ? due + 0.5 : due - 0.5);
        if (json_object_set_new(job, "due_at", json_integer(due_ms)) < 0) {
            json_decref(rows);
            rows = NULL;
            set_err(c, "out of memory");
            break;
        }
    }
    if (rows != NULL)
        out = page_object(c, class_name, total, offset, rows);
    freeReplyObject(total);
    if (page)
        freeReplyObject(page);
    return out;
}

typedef enum { FAILED_RETRY, FAILED_DELETE } failed_action;

/* Send the script for one failed payload (pipelined). */
static int append_failed_action(drudge_client *c, const drudge_keys *k, failed_action act,
                                const char *payload, size_t len)
{
    char id[DRUDGE_ID_MAX + 1], skey[STATUS_KEY_MAX];
    drudge__payload_id(payload, len, c->cfg->max_payload_bytes, id);
    if (drudge__key_status(k, id, skey, sizeof skey) < 0) {
        set_err(c, "key name too long");
        return -1;
    }
    if (act == FAILED_RETRY) {
        const char *argv[4] = {k->failed, k->queue, skey, payload};
        size_t lens[4] = {strlen(argv[0]), strlen(argv[1]), strlen(argv[2]), len};
        if (drudge__conn_append_eval(&c->conn, &drudge__script_failed_retry, 3, 4, argv, lens) == 0)
            return 0;
    } else {
        const char *argv[3] = {k->failed, skey, payload};
        size_t lens[3] = {strlen(argv[0]), strlen(argv[1]), len};
        if (drudge__conn_append_eval(&c->conn, &drudge__script_failed_delete, 2, 3, argv, lens) ==
            0)
            return 0;
    }
    set_err(c, "%s", c->conn.errstr);
    return -1;
}

/* Retry or delete the failed jobs with `id` (NULL: all of them), oldest
 * first. The list is read from the tail in chunks: new failures arrive at
 * the head and do not shift negative indices, and what this walk removes
 * only brings the rest closer. `skipped` counts the elements at the tail
 * left in place; the walk ends after as many elements as the list held at
 * the start, so failures arriving meanwhile are not chased. */
static long failed_apply(drudge_client *c, const char *class_name, const char *id,
                         failed_action act)
{
    c->errstr[0] = '\0';
    drudge_keys k;
    if (class_keys(c, class_name, &k) < 0 || (id != NULL && check_id(c, id) < 0))
        return -1;
    if (drudge__client_ready(c) < 0)
        return -1;
    const char *largv[2] = {"LLEN", k.failed};
    redisReply *r = command(c, 2, largv, NULL);
    if (r == NULL)
        return -1;
    long long total = reply_integer(r);
    freeReplyObject(r);
    long long visited = 0, skipped = 0;
    long removed = 0;
    while (visited < total) {
        char from[24], to[24];
        long long want = total - visited < SCAN_CHUNK ? total - visited : SCAN_CHUNK;
        snprintf(from, sizeof from, "%lld", -(skipped + want));
        snprintf(to, sizeof to, "%lld", -(skipped + 1));
        const char *argv[4] = {"LRANGE", k.failed, from, to};
        redisReply *chunk = command(c, 4, argv, NULL);
        if (chunk == NULL)
            return -1;
        size_t n = chunk->type == REDIS_REPLY_ARRAY ? chunk->elements : 0;
        if (n == 0) {
            freeReplyObject(chunk);
            break;
        }
        size_t sent = 0;
        int rc = 0;
        for (size_t i = n; i-- > 0 && rc == 0;) {
            const redisReply *e = chunk->element[i];
            visited++;
            if (id != NULL) {
                char eid[DRUDGE_ID_MAX + 1];
                drudge__payload_id(e->str, e->len, c->cfg->max_payload_bytes, eid);
                if (strcmp(eid, id) != 0) {
                    skipped++;
                    continue;
                }
            }
            rc = append_failed_action(c, &k, act, e->str, e->len);
            sent += rc == 0;
        }
        freeReplyObject(chunk);
        redisReply **replies = sent ? read_replies(c, sent) : NULL;
        if (rc < 0 || (sent > 0 && replies == NULL)) {
            free_replies(replies, sent);
            return -1;
        }
        for (size_t i = 0; i < sent; i++) {
            const redisReply *q = replies[i];
            if ((q->type == REDIS_REPLY_STRING && q->len > 0) ||
                (q->type == REDIS_REPLY_INTEGER && q->integer == 1))
                removed++;
        }
        free_replies(replies, sent);
    }
    return removed;
}

long drudge_failed_retry(drudge_client *c, const char *class_name, const char *id)
{
    return failed_apply(c, class_name, id, FAILED_RETRY);
}

long drudge_failed_delete(drudge_client *c, const char *class_name, const char *id)
{
    return failed_apply(c, class_name, id, FAILED_DELETE);
}

/* ---- pause / resume ---- */

int drudge_class_pause(drudge_client *c, const char *class_name, const char *reason, int64_t ttl_ms)
{
    c->errstr[0] = '\0';
    drudge_keys k;
    char classes_key[DRUDGE_KEY_MAX], px[24];
    if (class_keys(c, class_name, &k) < 0)
        return -1;
    if (ttl_ms < 0) {
        set_err(c, "pause duration must not be negative");
        return -1;
    }
    if (drudge__key_classes(c->cfg->namespace_, classes_key, sizeof classes_key) < 0) {
        set_err(c, "key name too long");
        return -1;
    }
    if (drudge__client_ready(c) < 0)
        return -1;
    snprintf(px, sizeof px, "%lld", (long long)ttl_ms);
    const char *set[5] = {"SET", k.paused, reason && *reason ? reason : "paused", "PX", px};
    const char *add[3] = {"SADD", classes_key, class_name};
    /* known to `stats` from now on, even before its first job */
    if (append_cmd(c, ttl_ms > 0 ? 5 : 3, set, NULL) < 0 || append_cmd(c, 3, add, NULL) < 0)
        return -1;
    redisReply **replies = read_replies(c, 2);
    if (replies == NULL)
        return -1;
    free_replies(replies, 2);
    return 0;
}

int drudge_class_resume(drudge_client *c, const char *class_name)
{
    c->errstr[0] = '\0';
    drudge_keys k;
    if (class_keys(c, class_name, &k) < 0 || drudge__client_ready(c) < 0)
        return -1;
    /* the breaker's cool-down goes too: a resumed class starts afresh */
    const char *argv[3] = {"DEL", k.paused, k.breaker};
    redisReply *r = command(c, 3, argv, NULL);
    if (r == NULL)
        return -1;
    freeReplyObject(r);
    return 0;
}

/* ---- cancel ---- */

/* Payloads with one id found while looking for a job, and the list each
 * was found in (for a job held in a worker's processing list). */
typedef struct matches {
    char *payload[MATCH_MAX];
    size_t len[MATCH_MAX];
    char *where[MATCH_MAX];
    size_t n;
} matches;

static void matches_release(matches *m)
{
    for (size_t i = 0; i < m->n; i++) {
        free(m->payload[i]);
        free(m->where[i]);
    }
    m->n = 0;
}

/* Add the elements of reply r whose id is `id` (and not already there). */
static int add_matches(drudge_client *c, const redisReply *r, const char *id, const char *where,
                       matches *m)
{
    for (size_t i = 0; r->type == REDIS_REPLY_ARRAY && i < r->elements && m->n < MATCH_MAX; i++) {
        const redisReply *e = r->element[i];
        char eid[DRUDGE_ID_MAX + 1];
        drudge__payload_id(e->str, e->len, c->cfg->max_payload_bytes, eid);
        if (strcmp(eid, id) != 0)
            continue;
        int seen = 0;
        for (size_t j = 0; j < m->n && !seen; j++)
            seen = m->len[j] == e->len && memcmp(m->payload[j], e->str, e->len) == 0;
        if (seen)
            continue;
        m->payload[m->n] = malloc(e->len + 1);
        m->where[m->n] = strdup(where);
        if (m->payload[m->n] == NULL || m->where[m->n] == NULL) {
            free(m->payload[m->n]);
            free(m->where[m->n]);
            set_err(c, "out of memory");
            return -1;
        }
        memcpy(m->payload[m->n], e->str, e->len);
        m->payload[m->n][e->len] = '\0';
        m->len[m->n++] = e->len;
    }
    return 0;
}

/* Find the payloads with `id` in `key` (a list, or a sorted set when
 * is_zset). 0, or -1 with errstr. */
static int find_waiting(drudge_client *c, const char *key, int is_zset, const char *id, matches *m)
{
    for (long long start = 0;; start += SCAN_CHUNK) {
        char from[24], to[24];
        snprintf(from, sizeof from, "%lld", start);
        snprintf(to, sizeof to, "%lld", start + SCAN_CHUNK - 1);
        const char *argv[4] = {is_zset ? "ZRANGE" : "LRANGE", key, from, to};
        redisReply *r = command(c, 4, argv, NULL);
        if (r == NULL)
            return -1;
        size_t n = r->type == REDIS_REPLY_ARRAY ? r->elements : 0;
        int rc = add_matches(c, r, id, key, m);
        freeReplyObject(r);
        if (rc < 0 || n < SCAN_CHUNK || m->n >= MATCH_MAX)
            return rc;
    }
}

/* Find the payloads with `id` in the processing lists of the registered
 * workers: fetched (or prefetched) but not marked running yet, or held by
 * a dead worker until housekeeping gives it back. 0, or -1. */
static int find_held(drudge_client *c, const drudge_keys *k, const char *id, matches *m)
{
    size_t n;
    worker_row *workers = read_workers(c, &n);
    if (workers == NULL && c->errstr[0])
        return -1;
    char(*pkeys)[WORKER_KEY_MAX + DRUDGE_KEY_MAX] = n ? calloc(n, sizeof *pkeys) : NULL;
    int rc = -1;
    redisReply **replies = NULL;
    if (n > 0 && pkeys == NULL) {
        set_err(c, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        if (drudge__key_processing(k, workers[i].id, pkeys[i], sizeof pkeys[i]) < 0)
            pkeys[i][0] = '\0';
        const char *argv[4] = {"LRANGE", pkeys[i], "0", "-1"};
        if (append_cmd(c, 4, argv, NULL) < 0)
            goto out;
    }
    if (n > 0 && (replies = read_replies(c, n)) == NULL)
        goto out;
    rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = add_matches(c, replies[i], id, pkeys[i], m);
out:
    free_replies(replies, n);
    free(pkeys);
    free_workers(workers, n);
    return rc;
}

/* Run the cancel script in `mode` on the payload found in list_key;
 * copies its reply word ("" when the job moved on) into out. 0 or -1. */
static int run_cancel(drudge_client *c, const drudge_keys *k, const char *list_key,
                      const char *skey, const char *mode, const char *payload, size_t len,
                      const char *ttl, char *out, size_t cap)
{
    const char *argv[6] = {list_key, k->delayed, skey, mode, payload ? payload : "", ttl};
    size_t lens[6];
    for (int i = 0; i < 6; i++)
        lens[i] = (i == 4 && payload) ? len : strlen(argv[i]);
    redisReply *r = drudge__conn_eval(&c->conn, &drudge__script_cancel, 3, 6, argv, lens);
    if (reply_failed(c, r)) {
        if (r)
            freeReplyObject(r);
        return -1;
    }
    snprintf(out, cap, "%s", reply_is_string(r) ? r->str : "");
    freeReplyObject(r);
    return 0;
}

/* Run the script on every match; returns the first result among `want`
 * found ("cancelled" / "requested"), 0 for none, or -1. */
static int cancel_matches(drudge_client *c, const drudge_keys *k, const char *skey,
                          const char *mode, const char *ttl, matches *m, const char *want)
{
    int hit = 0;
    for (size_t i = 0; i < m->n; i++) {
        char word[32];
        /* a waiting job is removed from both queue and delayed set */
        const char *list_key = strcmp(mode, "held") == 0 ? m->where[i] : k->queue;
        if (run_cancel(c, k, list_key, skey, mode, m->payload[i], m->len[i], ttl, word,
                       sizeof word) < 0)
            return -1;
        hit |= strcmp(word, want) == 0;
    }
    return hit;
}

static int state_is(const char *state, const char *name)
{
    return state != NULL && strcmp(state, name) == 0;
}

/* One look at the job: a DRUDGE_CANCEL_* result, -2 when it moved on
 * while we looked (look again), or -1 on error. */
static int cancel_once(drudge_client *c, const drudge_keys *k, const char *skey, const char *id,
                       const char *ttl, char *state, size_t state_cap)
{
    const char *argv[3] = {"HGET", skey, "state"};
    redisReply *r = command(c, 3, argv, NULL);
    if (r == NULL)
        return -1;
    int known = reply_is_string(r);
    snprintf(state, state_cap, "%s", known ? r->str : "");
    freeReplyObject(r);
    if (state_is(state, "done") || state_is(state, "failed") || state_is(state, "cancelled"))
        return DRUDGE_CANCEL_FINISHED;
    if (state_is(state, "running")) {
        char word[32];
        if (run_cancel(c, k, k->queue, skey, "running", NULL, 0, ttl, word, sizeof word) < 0)
            return -1;
        return strcmp(word, "requested") == 0 ? DRUDGE_CANCEL_REQUESTED : -2;
    }
    /* queued, retrying, or no status at all (a producer that only
     * RPUSHes): where it waits, else in a worker's hands */
    matches m = {.n = 0};
    int rc = -1, hit;
    if (find_waiting(c, k->queue, 0, id, &m) < 0 || find_waiting(c, k->delayed, 1, id, &m) < 0)
        goto out;
    if (m.n > 0) {
        hit = cancel_matches(c, k, skey, "waiting", ttl, &m, "cancelled");
        rc = hit < 0 ? -1 : hit ? DRUDGE_CANCEL_DONE : -2;
        goto out;
    }
    if (find_held(c, k, id, &m) < 0)
        goto out;
    if (m.n > 0) {
        hit = cancel_matches(c, k, skey, "held", ttl, &m, "requested");
        rc = hit < 0 ? -1 : hit ? DRUDGE_CANCEL_REQUESTED : -2;
        goto out;
    }
    rc = known ? -2 : DRUDGE_CANCEL_UNKNOWN;
out:
    matches_release(&m);
    return rc;
}

int drudge_job_cancel(drudge_client *c, const char *class_name, const char *id)
{
    c->errstr[0] = '\0';
    drudge_keys k;
    char skey[STATUS_KEY_MAX], ttl[24], state[32] = "";
    if (class_keys(c, class_name, &k) < 0 || check_id(c, id) < 0)
        return -1;
    if (drudge__key_status(&k, id, skey, sizeof skey) < 0) {
        set_err(c, "key name too long");
        return -1;
    }
    drudge_class_config cc;
    drudge_config_class(c->cfg, class_name, NULL, &cc);
    snprintf(ttl, sizeof ttl, "%ld", cc.status_ttl);
    if (drudge__client_ready(c) < 0)
        return -1;
    for (int attempt = 0; attempt < CANCEL_TRIES; attempt++) {
        int rc = cancel_once(c, &k, skey, id, ttl, state, sizeof state);
        if (rc != -2)
            return rc;
    }
    set_err(c, "job \"%s\" is %s but was found neither waiting nor held by a worker; try again", id,
            state[0] ? state : "unknown");
    return -1;
}

/* ---- cron ---- */

json_t *drudge_cron_list(drudge_client *c)
{
    c->errstr[0] = '\0';
    size_t n = c->cfg->nschedule;
    redisReply **replies = NULL;
    if (n > 0) {
        if (drudge__client_ready(c) < 0)
            return NULL;
        for (size_t i = 0; i < n; i++) {
            char key[DRUDGE_KEY_MAX];
            if (drudge__key_cron(c->cfg->namespace_, c->cfg->schedule[i].name, key, sizeof key) < 0)
                key[0] = '\0';
            const char *argv[3] = {"HGET", key, "last_fire"};
            if (append_cmd(c, 3, argv, NULL) < 0)
                return NULL;
        }
        if ((replies = read_replies(c, n)) == NULL)
            return NULL;
    }
    json_t *out = json_array();
    int64_t now_s = drudge__now_ms() / 1000;
    for (size_t i = 0; out && i < n; i++) {
        const drudge_schedule_entry *e = &c->cfg->schedule[i];
        const char *tz = e->timezone ? e->timezone : "UTC";
        json_t *payload = json_loads(e->payload ? e->payload : "{}", 0, NULL);
        json_t *row = json_pack("{s:s, s:s, s:s, s:s, s:o, s:b}", "name", e->name, "cron", e->cron,
                                "class", e->class_name, "timezone", tz, "payload",
                                payload ? payload : json_object(), "catch_up", e->catch_up);
        if (row == NULL)
            break;
        json_object_set_new(row, "last_fire",
                            reply_is_string(replies[i]) ? json_integer(reply_integer(replies[i]))
                                                        : json_null());
        drudge_cron expr;
        char why[DRUDGE_ERRSTR_MAX];
        int64_t next = -1;
        if (drudge__cron_parse(e->cron, &expr, why, sizeof why) < 0) {
            json_object_set_new(row, "error", json_string(why));
        } else if ((next = drudge__cron_next(&expr, now_s, tz)) < 0) {
            json_object_set_new(
                row, "error", json_string("no fire time within 5 years, or an unknown time zone"));
        }
        json_object_set_new(row, "next_fire", next >= 0 ? json_integer(next) : json_null());
        json_array_append_new(out, row);
    }
    free_replies(replies, n);
    if (out == NULL || json_array_size(out) != n) {
        json_decref(out);
        set_err(c, "out of memory");
        return NULL;
    }
    return out;
}

/* ---- watching a job's status ---- */

struct drudge_watch {
    drudge_conn conn; /* subscribed: carries nothing else */
    char errstr[DRUDGE_ERRSTR_MAX];
};

drudge_watch *drudge_watch_new(drudge_client *c, const char *class_name, const char *id)
{
    c->errstr[0] = '\0';
    drudge_keys k;
    char channel[STATUS_KEY_MAX];
    if (class_keys(c, class_name, &k) < 0 || check_id(c, id) < 0)
        return NULL;
    if (drudge__key_status(&k, id, channel, sizeof channel) < 0) {
        set_err(c, "key name too long");
        return NULL;
    }
    drudge_watch *w = calloc(1, sizeof *w);
    if (w == NULL) {
        set_err(c, "out of memory");
        return NULL;
    }
    if (drudge__conn_init(&w->conn, c->cfg) < 0 || drudge__conn_connect(&w->conn) < 0) {
        set_err(c, "%s", w->conn.errstr);
        drudge_watch_free(w);
        return NULL;
    }
    /* the status channel is named like the status key (push.lua publishes) */
    const char *argv[2] = {"SUBSCRIBE", channel};
    redisReply *r = drudge__conn_cmd(&w->conn, 2, argv, NULL);
    if (r == NULL || r->type != REDIS_REPLY_ARRAY) {
        set_err(c, "redis SUBSCRIBE: %s",
                r == NULL                      ? w->conn.errstr
                : r->type == REDIS_REPLY_ERROR ? r->str
                                               : "unexpected reply");
        if (r)
            freeReplyObject(r);
        drudge_watch_free(w);
        return NULL;
    }
    freeReplyObject(r);
    return w;
}

void drudge_watch_free(drudge_watch *w)
{
    if (w == NULL)
        return;
    drudge__conn_release(&w->conn);
    free(w);
}

const char *drudge_watch_errstr(const drudge_watch *w)
{
    return w->errstr;
}

int drudge_watch_fd(const drudge_watch *w)
{
    return w->conn.ctx ? w->conn.ctx->fd : -1;
}

/* A published message as a status object, or NULL if it is not one. */
static json_t *message_status(const redisReply *r)
{
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 3 || !reply_is_string(r->element[0]) ||
        strcmp(r->element[0]->str, "message") != 0 || !reply_is_string(r->element[2]))
        return NULL;
    json_t *obj = json_loadb(r->element[2]->str, r->element[2]->len, 0, NULL);
    if (obj != NULL && !json_is_object(obj)) {
        json_decref(obj);
        obj = NULL;
    }
    return obj;
}

int drudge_watch_wait(drudge_watch *w, int timeout_ms, json_t **status_out)
{
    *status_out = NULL;
    w->errstr[0] = '\0';
    redisContext *ctx = w->conn.ctx;
    if (ctx == NULL) {
        snprintf(w->errstr, sizeof w->errstr, "not connected to redis");
        return -1;
    }
    /* The socket is read only when poll() says so: a read timeout would
     * leave hiredis's context unusable, and most waits end in one. */
    int64_t deadline = drudge__mono_ms() + (timeout_ms > 0 ? timeout_ms : 0);
    for (;;) {
        void *reply = NULL;
        if (redisReaderGetReply(ctx->reader, &reply) != REDIS_OK) {
            snprintf(w->errstr, sizeof w->errstr, "redis protocol error: %s", ctx->reader->errstr);
            drudge__conn_drop(&w->conn);
            return -1;
        }
        if (reply != NULL) {
            json_t *status = message_status(reply);
            freeReplyObject(reply);
            if (status != NULL) {
                *status_out = status;
                return 1;
            }
            continue;
        }
        int64_t left = deadline - drudge__mono_ms();
        if (left <= 0)
            return 0;
        struct pollfd p = {.fd = ctx->fd, .events = POLLIN};
        int pr = poll(&p, 1, (int)left);
        if (pr == 0 || (pr < 0 && errno == EINTR))
            return 0;
        if (pr < 0 || redisBufferRead(ctx) != REDIS_OK) {
            snprintf(w->errstr, sizeof w->errstr, "redis: %s",
                     pr < 0           ? strerror(errno)
                     : ctx->errstr[0] ? ctx->errstr
                                      : "connection lost");
            drudge__conn_drop(&w->conn);
            return -1;
        }
    }
}
