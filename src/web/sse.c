/* sse.c - GET /api/jobs/<Class>/<id>/events: the job's status as
 * Server-Sent Events, from its status channel (drudge_watch_*), ending when
 * the job ends.
 *
 * Each change is one "status" event carrying the whole status hash as
 * JSON; an unchanged hash is not sent twice. When the job is done, failed
 * or cancelled an "end" event follows and the stream closes (so a client
 * does not reconnect for nothing). The stream subscribes first and then
 * reads the hash, as drudge_watch_new() asks. Messages that were already
 * on their way when a hash was read are older than it and are dropped;
 * any update lost that way, or while the subscription was down, is caught
 * by re-reading the hash every few seconds, so events never go backwards
 * and the end is seen at worst one re-read late. Comments (": keepalive")
 * keep an idle stream inside the server's connection timeout and reveal a
 * client that has gone. */
#include "web_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define WAIT_MS 500          /* longest block: shutdown is noticed this fast */
#define REREAD_MS 3000       /* re-read the hash this often while subscribed */
#define REREAD_LOST_MS 1000  /* ... and while the subscription is lost */
#define DRAIN_MS 5           /* messages in flight when a hash was read */
#define EVENT_MAX (2u << 20) /* a status hash is small; this is a safety cap */

typedef struct sse_stream {
    web_server *srv;
    char class_name[DRUDGE_CLASS_MAX + 1];
    char id[DRUDGE_ID_MAX + 1];
    drudge_watch *watch; /* NULL once the subscription is lost */
    strbuf out;         /* bytes not yet handed to MHD */
    size_t sent;         /* of out */
    char *last;          /* the last status sent, as compact sorted JSON */
    int ended;           /* the end event is queued */
    int64_t last_write_ms, last_read_ms;
} sse_stream;

static int is_final(const char *state)
{
    return state && (strcmp(state, "done") == 0 || strcmp(state, "failed") == 0 ||
                     strcmp(state, "cancelled") == 0);
}

/* Queue a status event for st (borrowed) unless it repeats the last one. */
static void emit(sse_stream *s, const json_t *st)
{
    char *text = json_dumps(st, JSON_COMPACT | JSON_SORT_KEYS);
    if (text == NULL)
        return;
    if (s->last && strcmp(s->last, text) == 0) {
        free(text);
        return;
    }
    web_sse_event(&s->out, "status", text);
    free(s->last);
    s->last = text;
    if (is_final(json_string_value(json_object_get(st, "state")))) {
        web_sse_event(&s->out, "end", text);
        s->ended = 1;
    }
}

static void emit_gone(sse_stream *s)
{
    web_sse_event(&s->out, "end", "{\"state\":\"gone\"}");
    s->ended = 1;
}

/* Drop the messages already delivered: they predate the hash just read. */
static void drain(sse_stream *s)
{
    json_t *st;
    int got;
    while (s->watch && (got = drudge_watch_wait(s->watch, DRAIN_MS, &st)) != 0) {
        if (got < 0) {
            drudge_watch_free(s->watch);
            s->watch = NULL;
            break;
        }
        json_decref(st);
    }
}

/* Read the hash through a pooled client and emit it. -1 on a Redis error
 * (try again later); 0 otherwise (also when the job is gone). */
static int reread(sse_stream *s)
{
    char err[DRUDGE_ERRSTR_MAX];
    drudge_client *c = web_client_take(s->srv, err, sizeof err);
    if (c == NULL)
        return -1;
    json_t *st = drudge_status_get(c, s->class_name, s->id);
    int unknown = st == NULL && drudge_client_errstr(c)[0] == '\0';
    web_client_give(s->srv, c);
    s->last_read_ms = web_mono_ms();
    if (st == NULL) {
        if (unknown)
            emit_gone(s);
        return unknown ? 0 : -1;
    }
    drain(s);
    emit(s, st);
    json_decref(st);
    return 0;
}

/* Block until there is something to send (or the stream ends). */
static void produce(sse_stream *s)
{
    while (s->out.len == s->sent && !s->ended && !atomic_load(&s->srv->stopping)) {
        int64_t now = web_mono_ms();
        if (now - s->last_write_ms >= s->srv->sse_keepalive_ms) {
            strbuf_adds(&s->out, ": keepalive\n\n");
            break;
        }
        if (s->watch) {
            json_t *st = NULL;
            int got = drudge_watch_wait(s->watch, WAIT_MS, &st);
            if (got == 1) {
                emit(s, st);
                json_decref(st);
                continue;
            }
            if (got < 0) {
                drudge_log(DRUDGE_LOG_WARN, "sse_watch_lost", "class=%s id=%s error=%s",
                           s->class_name, s->id, drudge_watch_errstr(s->watch));
                drudge_watch_free(s->watch);
                s->watch = NULL;
            }
        } else {
            struct timespec ts = {0, WAIT_MS * 1000000L};
            nanosleep(&ts, NULL);
        }
        if (web_mono_ms() - s->last_read_ms >= (s->watch ? REREAD_MS : REREAD_LOST_MS))
            reread(s);
    }
}

static ssize_t sse_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    sse_stream *s = cls;
    if (s->out.len == s->sent) {
        strbuf_reset(&s->out);
        s->sent = 0;
        produce(s);
    }
    if (s->out.failed)
        return MHD_CONTENT_READER_END_WITH_ERROR;
    size_t left = s->out.len - s->sent;
    if (left == 0) /* ended, or the server is stopping */
        return MHD_CONTENT_READER_END_OF_STREAM;
    size_t n = left < max ? left : max;
    memcpy(buf, s->out.data + s->sent, n);
    s->sent += n;
    s->last_write_ms = web_mono_ms();
    return (ssize_t)n;
}

static void sse_free(void *cls)
{
    sse_stream *s = cls;
    drudge_watch_free(s->watch);
    strbuf_release(&s->out);
    free(s->last);
    free(s);
}

int web_api_job_events(web_request *req)
{
    const char *cls = web_match_param(&req->match, "class"),
               *id = web_match_param(&req->match, "id");
    char err[DRUDGE_ERRSTR_MAX];
    sse_stream *s = calloc(1, sizeof *s);
    if (s == NULL)
        return -1;
    s->srv = req->srv;
    snprintf(s->class_name, sizeof s->class_name, "%s", cls);
    snprintf(s->id, sizeof s->id, "%s", id);
    strbuf_init(&s->out, EVENT_MAX);
    drudge_client *c = web_client_take(req->srv, err, sizeof err);
    if (c == NULL) {
        sse_free(s);
        return web_reply_error(req, 503, "%s", err);
    }
    /* subscribe first, then read: a change in between is not missed */
    s->watch = drudge_watch_new(c, cls, id);
    json_t *st = drudge_status_get(c, cls, id);
    int rc;
    if (st == NULL) {
        const char *why = drudge_client_errstr(c);
        rc = *why ? web_reply_error(req, 503, "%s", why)
                  : web_reply_error(req, 404, "unknown job \"%s\" in %s", id, cls);
        web_client_give(req->srv, c);
        sse_free(s);
        return rc;
    }
    web_client_give(req->srv, c);
    s->last_read_ms = s->last_write_ms = web_mono_ms();
    strbuf_adds(&s->out, "retry: 2000\n\n");
    drain(s);
    emit(s, st);
    json_decref(st);
    struct MHD_Response *resp =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024, sse_read, s, sse_free);
    if (resp == NULL) {
        sse_free(s);
        return -1;
    }
    MHD_add_response_header(resp, "Content-Type", "text/event-stream; charset=utf-8");
    MHD_add_response_header(resp, "X-Accel-Buffering", "no");
    return web_reply_response(req, 200, resp);
}
