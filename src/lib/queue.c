/* queue.c - the producer side: push one job or many, and read a status.
 * A push validates the payload (a JSON object within max_payload_bytes),
 * derives the id and runs the push script, which writes the status hash
 * `queued` and the list element together in one round trip. The consumer
 * side (fetch, ack) is the worker runtime's, in worker.c. */
#include "internal.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

drudge_client *drudge_client_new(const drudge_config *cfg, char *err, size_t errcap)
{
    drudge_client *c = calloc(1, sizeof *c);
    if (c == NULL) {
        snprintf(err, errcap, "out of memory");
        return NULL;
    }
    c->cfg = cfg;
    if (drudge__conn_init(&c->conn, cfg) < 0 || drudge__conn_connect(&c->conn) < 0) {
        snprintf(err, errcap, "%s", c->conn.errstr);
        drudge_client_free(c);
        return NULL;
    }
    return c;
}

void drudge_client_free(drudge_client *c)
{
    if (c == NULL)
        return;
    drudge__conn_release(&c->conn);
    free(c);
}

const char *drudge_client_errstr(const drudge_client *c) { return c->errstr; }

/* Make sure the connection is up; one reconnect attempt per call. */
int drudge__client_ready(drudge_client *c)
{
    if (c->conn.ctx)
        return 0;
    if (drudge__conn_connect(&c->conn) < 0) {
        snprintf(c->errstr, sizeof c->errstr, "%s", c->conn.errstr);
        return -1;
    }
    return 0;
}

typedef struct push_args {
    drudge_keys keys;
    char status_key[DRUDGE_KEY_MAX + DRUDGE_ID_MAX];
    char classes_key[DRUDGE_KEY_MAX];
    char due[32];
    char delay[32];
    const char *argv[9];
    size_t lens[9];
} push_args;

static int check_class(drudge_client *c, const char *class_name)
{
    if (drudge_class_valid(class_name))
        return 0;
    snprintf(c->errstr, sizeof c->errstr,
             "invalid class name \"%.*s\": use 1-%d characters of [A-Za-z0-9_.:-]", 64,
             class_name ? class_name : "", DRUDGE_CLASS_MAX);
    return -1;
}

/* Validate one payload and lay out the script arguments. */
static int prepare(drudge_client *c, const char *class_name, const char *payload, size_t len,
                   const drudge_push_opts *opts, push_args *a, char id_out[DRUDGE_ID_MAX + 1])
{
    char why[DRUDGE_ERRSTR_MAX];
    if (check_class(c, class_name) < 0)
        return -1;
    json_t *obj = drudge_payload_parse(payload, len, c->cfg->max_payload_bytes, why, sizeof why);
    if (obj == NULL) {
        snprintf(c->errstr, sizeof c->errstr, "%s", why);
        return -1;
    }
    int rc = drudge_job_id(payload, len, obj, id_out, why, sizeof why);
    json_decref(obj);
    if (rc < 0) {
        snprintf(c->errstr, sizeof c->errstr, "%s", why);
        return -1;
    }
    /* a delay is counted on the Redis server's clock, like every other time */
    int64_t due = opts && opts->at_ms > 0 ? opts->at_ms : 0;
    int64_t delay = opts && opts->at_ms <= 0 && opts->delay_ms > 0 ? opts->delay_ms : 0;
    if (drudge__keys_init(&a->keys, c->cfg->namespace_, class_name) < 0 ||
        drudge__key_status(&a->keys, id_out, a->status_key, sizeof a->status_key) < 0 ||
        drudge__key_classes(c->cfg->namespace_, a->classes_key, sizeof a->classes_key) < 0) {
        snprintf(c->errstr, sizeof c->errstr, "key name too long");
        return -1;
    }
    snprintf(a->due, sizeof a->due, "%lld", (long long)due);
    snprintf(a->delay, sizeof a->delay, "%lld", (long long)delay);
    /* the class set needs the name once per client and class, not per job */
    int known = strcmp(c->registered_class, class_name) == 0;
    const char *argv[9] = {a->keys.queue, a->status_key, a->keys.delayed, a->classes_key,
                           payload, a->due, (opts && opts->unique) ? "1" : "0",
                           known ? "" : class_name, a->delay};
    for (int i = 0; i < 9; i++) {
        a->argv[i] = argv[i];
        a->lens[i] = i == 4 ? len : strlen(argv[i]);
    }
    return 0;
}

static int push_reply(drudge_client *c, redisReply *r)
{
    if (r == NULL) {
        snprintf(c->errstr, sizeof c->errstr, "%s", c->conn.errstr);
        return -1;
    }
    int rc = -1;
    if (r->type == REDIS_REPLY_ERROR)
        snprintf(c->errstr, sizeof c->errstr, "redis: %s", r->str);
    else if (r->type == REDIS_REPLY_ARRAY && r->elements >= 1 &&
             r->element[0]->type == REDIS_REPLY_INTEGER)
        rc = r->element[0]->integer == 1 ? DRUDGE_DUPLICATE : DRUDGE_PUSHED;
    else
        snprintf(c->errstr, sizeof c->errstr, "unexpected reply to push");
    freeReplyObject(r);
    return rc;
}

int drudge_push(drudge_client *c, const char *class_name, const char *payload, size_t len,
                const drudge_push_opts *opts, char id_out[DRUDGE_ID_MAX + 1])
{
    push_args a;
    c->errstr[0] = '\0';
    if (prepare(c, class_name, payload, len, opts, &a, id_out) < 0 || drudge__client_ready(c) < 0)
        return -1;
    int rc = push_reply(c, drudge__conn_eval(&c->conn, &drudge__script_push, 4, 9, a.argv, a.lens));
    if (rc >= 0)
        snprintf(c->registered_class, sizeof c->registered_class, "%s", class_name);
    return rc;
}

#define PUSH_BATCH 500 /* jobs per push_many script call */
#define PUSH_WINDOW 3  /* script calls in flight before a reply is read */

/* The status key of each job: the class's prefix, then the id. */
typedef char status_key_buf[DRUDGE_KEY_MAX + DRUDGE_ID_MAX];

/* A failure after some calls were confirmed: those jobs (the first ones,
 * in order) are in the queue for sure, and that count is returned with
 * the error saying so; -1 when none was confirmed. `unknown` jobs were in
 * calls sent but never answered (the connection was lost): Redis may have
 * run them. */
static long partial_failure(drudge_client *c, long confirmed, size_t unknown)
{
    char why[DRUDGE_ERRSTR_MAX];
    snprintf(why, sizeof why, "%s", c->errstr);
    if (unknown > 0)
        snprintf(c->errstr, sizeof c->errstr,
                 "%ld jobs were pushed for sure, and the %zu after them may have been (the "
                 "connection was lost before Redis answered): %s",
                 confirmed > 0 ? confirmed : 0, unknown, why);
    else if (confirmed > 0)
        snprintf(c->errstr, sizeof c->errstr, "only the first %ld jobs were pushed: %s",
                 confirmed, why);
    return confirmed > 0 ? confirmed : -1;
}

long drudge_push_many(drudge_client *c, const char *class_name, const char *const *payloads,
                      const size_t *lens, size_t n, char (*ids_out)[DRUDGE_ID_MAX + 1])
{
    c->errstr[0] = '\0';
    long pushed = -1;
    drudge_keys keys;
    char classes_key[DRUDGE_KEY_MAX];
    if (check_class(c, class_name) < 0)
        return -1;
    if (drudge__keys_init(&keys, c->cfg->namespace_, class_name) < 0 ||
        drudge__key_classes(c->cfg->namespace_, classes_key, sizeof classes_key) < 0) {
        snprintf(c->errstr, sizeof c->errstr, "key name too long");
        return -1;
    }
    size_t prefix_len = strlen(keys.status_prefix);
    /* the calls of one bulk push run in order: each checks, by this key,
     * that the one before it completed (a unique name per bulk push) */
    char token[40], progress_key[DRUDGE_KEY_MAX], call_no[24], last_call[2];
    snprintf(token, sizeof token, "%lx.%lx.%llx", (unsigned long)getpid(),
             (unsigned long)drudge__now_ms(), (unsigned long long)(drudge__random() * 1e15));
    if (drudge__key_push(c->cfg->namespace_, token, progress_key, sizeof progress_key) < 0) {
        snprintf(c->errstr, sizeof c->errstr, "key name too long");
        return -1;
    }
    /* one call's status keys and arguments (hiredis copies them when the
     * call is appended, so the next call reuses them) */
    status_key_buf *status_keys = malloc(PUSH_BATCH * sizeof *status_keys);
    const char **argv = malloc((6 + 2 * PUSH_BATCH) * sizeof *argv);
    size_t *argl = malloc((6 + 2 * PUSH_BATCH) * sizeof *argl);
    if (status_keys == NULL || argv == NULL || argl == NULL) {
        snprintf(c->errstr, sizeof c->errstr, "out of memory");
        goto out;
    }
    /* Validate everything first: a bad payload stops the batch before any
     * of it is sent. */
    for (size_t i = 0; i < n; i++) {
        char why[DRUDGE_ERRSTR_MAX];
        json_t *obj = drudge_payload_parse(payloads[i], lens[i], c->cfg->max_payload_bytes, why,
                                           sizeof why);
        int rc = obj ? drudge_job_id(payloads[i], lens[i], obj, ids_out[i], why, sizeof why) : -1;
        json_decref(obj);
        if (rc < 0) {
            snprintf(c->errstr, sizeof c->errstr, "job %zu: %s", i + 1, why);
            goto out;
        }
    }
    if (n == 0) {
        pushed = 0;
        goto out;
    }
    if (drudge__client_ready(c) < 0)
        goto out;
    /* One script call per PUSH_BATCH jobs (status hashes and one RPUSH),
     * PUSH_WINDOW calls kept in flight so that Redis always has the next one
     * while the client reads a reply and lays out the call after. After a
     * failure nothing more is sent, and the replies in flight are read (the
     * calls behind a failed one refuse to run: see push_many.lua). */
    pushed = 0;
    size_t sent = 0, in_flight = 0, calls = 0, unknown = 0;
    int failed = 0;
    while ((!failed && sent < n) || in_flight > 0) {
        if (!failed && sent < n && in_flight < PUSH_WINDOW) {
            size_t end = sent + PUSH_BATCH < n ? sent + PUSH_BATCH : n;
            int argc = 0;
            snprintf(call_no, sizeof call_no, "%zu", calls++);
            argv[argc] = keys.queue;
            argl[argc++] = strlen(keys.queue);
            argv[argc] = classes_key;
            argl[argc++] = strlen(classes_key);
            argv[argc] = progress_key;
            argl[argc++] = strlen(progress_key);
            argv[argc] = class_name;
            argl[argc++] = strlen(class_name);
            argv[argc] = call_no;
            argl[argc++] = strlen(call_no);
            snprintf(last_call, sizeof last_call, "%d", end == n);
            argv[argc] = last_call;
            argl[argc++] = 1;
            for (size_t i = sent; i < end; i++) {
                char *key = status_keys[i - sent];
                size_t id_len = strlen(ids_out[i]);
                memcpy(key, keys.status_prefix, prefix_len);
                memcpy(key + prefix_len, ids_out[i], id_len + 1);
                argv[argc] = payloads[i];
                argl[argc++] = lens[i];
                argv[argc] = key;
                argl[argc++] = prefix_len + id_len;
            }
            if (drudge__conn_append_eval(&c->conn, &drudge__script_push_many, 3, argc, argv,
                                         argl) < 0) {
                /* the connection was dropped: the replies in flight with it */
                snprintf(c->errstr, sizeof c->errstr, "%s", c->conn.errstr);
                failed = 1;
                unknown = sent - (size_t)pushed;
                break;
            }
            in_flight++;
            sent = end;
            if (in_flight < PUSH_WINDOW && sent < n)
                continue;
        }
        /* hiredis writes what is appended when a reply is read */
        redisReply *r = drudge__conn_read(&c->conn);
        in_flight--;
        if (r != NULL && r->type == REDIS_REPLY_INTEGER) {
            pushed += (long)r->integer;
        } else if (!failed) {
            /* the first error is the one to tell; those after it are the
             * refusals of the calls behind it */
            snprintf(c->errstr, sizeof c->errstr, "%s",
                     r == NULL                        ? c->conn.errstr
                     : r->type == REDIS_REPLY_ERROR ? r->str
                                                      : "unexpected reply to push");
            failed = 1;
        }
        if (r)
            freeReplyObject(r);
        if (r == NULL) {
            /* the connection is gone, and the answers in flight with it:
             * this call and those after it were sent, maybe run */
            unknown = sent - (size_t)pushed;
            break;
        }
    }
    if (failed)
        pushed = partial_failure(c, pushed, unknown);
out:
    free(status_keys);
    free(argv);
    free(argl);
    return pushed;
}

/* A JSON string of the bytes; bytes that are not UTF-8 (an error text from a
 * bad payload, say) become '?' rather than losing the whole field. */
static json_t *utf8_string(const char *s, size_t len)
{
    json_t *v = json_stringn(s, len);
    if (v)
        return v;
    char *copy = malloc(len + 1);
    if (copy == NULL)
        return NULL;
    for (size_t i = 0; i < len; i++)
        copy[i] = (unsigned char)s[i] < 0x80 && s[i] != '\0' ? s[i] : '?';
    copy[len] = '\0';
    v = json_stringn(copy, len);
    free(copy);
    return v;
}

json_t *drudge_status_get(drudge_client *c, const char *class_name, const char *id)
{
    c->errstr[0] = '\0';
    drudge_keys keys;
    char key[DRUDGE_KEY_MAX + DRUDGE_ID_MAX];
    if (!drudge_class_valid(class_name) || !drudge_id_valid(id)) {
        snprintf(c->errstr, sizeof c->errstr, "invalid class name or job id");
        return NULL;
    }
    if (drudge__keys_init(&keys, c->cfg->namespace_, class_name) < 0 ||
        drudge__key_status(&keys, id, key, sizeof key) < 0) {
        snprintf(c->errstr, sizeof c->errstr, "key name too long");
        return NULL;
    }
    if (drudge__client_ready(c) < 0)
        return NULL;
    const char *argv[2] = {"HGETALL", key};
    redisReply *r = drudge__conn_cmd(&c->conn, 2, argv, NULL);
    if (r == NULL) {
        snprintf(c->errstr, sizeof c->errstr, "%s", c->conn.errstr);
        return NULL;
    }
    json_t *obj = NULL;
    if (r->type == REDIS_REPLY_ARRAY && r->elements > 0) {
        obj = json_object();
        for (size_t i = 0; i + 1 < r->elements; i += 2)
            json_object_set_new(obj, r->element[i]->str,
                                utf8_string(r->element[i + 1]->str, r->element[i + 1]->len));
    } else if (r->type == REDIS_REPLY_ERROR) {
        snprintf(c->errstr, sizeof c->errstr, "redis: %s", r->str);
    }
    freeReplyObject(r);
    return obj;
}
