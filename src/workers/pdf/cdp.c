/* cdp.c - the Chrome DevTools protocol over --remote-debugging-pipe.
 *
 * Chromium reads commands from its fd 3 and writes replies and events to its
 * fd 4, each message one JSON object followed by a NUL byte; no websocket,
 * no HTTP. A command carries an id (and a sessionId for a page we attached
 * to); its reply carries the same id; events carry a method. This file owns
 * the framing, the ids and the waiting: pdf_cdp_call() sends and then reads
 * until its reply comes, handing every event (and every reply somebody sent
 * with a callback) to the callbacks on the way, so the Fetch interception
 * in render.c keeps answering paused requests while a navigation waits.
 * Every wait has a deadline, and a tick callback can end it early (a
 * cancelled job). What the messages mean is render.c's and browser.c's.
 */
#include "pdf.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MSG_MAX (48u << 20) /* IO.read chunks are 1 MiB raw, ~1.4 MiB as base64 */
#define READ_CHUNK 65536
#define TICK_MS 100

int64_t pdf_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int fail(pdf_cdp *c, pdf_cdp_status st, const char *fmt, const char *arg)
{
    c->status = st;
    snprintf(c->errstr, sizeof c->errstr, fmt, arg ? arg : "");
    return -1;
}

void pdf_cdp_init(pdf_cdp *c, int wfd, int rfd)
{
    memset(c, 0, sizeof *c);
    c->wfd = wfd;
    c->rfd = rfd;
    c->next_id = 1;
    fcntl(wfd, F_SETFL, fcntl(wfd, F_GETFL) | O_NONBLOCK);
    fcntl(rfd, F_SETFL, fcntl(rfd, F_GETFL) | O_NONBLOCK);
}

void pdf_cdp_release(pdf_cdp *c)
{
    if (c->wfd >= 0)
        close(c->wfd);
    if (c->rfd >= 0)
        close(c->rfd);
    c->wfd = c->rfd = -1;
    free(c->rbuf);
    c->rbuf = NULL;
    c->rlen = c->rcap = 0;
    json_decref(c->wait_reply);
    c->wait_reply = NULL;
    c->npending = 0;
}

static int dead(const pdf_cdp *c)
{
    return c->wfd < 0 || c->rfd < 0;
}

/* Mark the pipe broken: nothing more can be trusted on it. */
static int broke(pdf_cdp *c, const char *fmt, const char *arg)
{
    fail(c, PDF_CDP_DEAD, fmt, arg);
    if (c->wfd >= 0)
        close(c->wfd);
    if (c->rfd >= 0)
        close(c->rfd);
    c->wfd = c->rfd = -1;
    return -1;
}

/* Write all of buf before the deadline; a partial message would corrupt the
 * stream, so running out of time breaks the pipe. */
static int write_all(pdf_cdp *c, const char *buf, size_t len, int64_t deadline)
{
    while (len > 0) {
        ssize_t n = write(c->wfd, buf, len);
        if (n > 0) {
            buf += n;
            len -= (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno != EAGAIN)
            return broke(c, "writing to the browser: %s", strerror(errno));
        int64_t left = deadline - pdf_mono_ms();
        if (left <= 0)
            return broke(c, "the browser stopped reading commands%s", NULL);
        struct pollfd p = {.fd = c->wfd, .events = POLLOUT};
        if (poll(&p, 1, left > TICK_MS ? TICK_MS : (int)left) < 0 && errno != EINTR)
            return broke(c, "poll: %s", strerror(errno));
        if (p.revents & (POLLERR | POLLHUP))
            return broke(c, "the browser closed its end of the pipe%s", NULL);
    }
    return 0;
}

/* Send one command; its id, or -1. */
static long send_msg(pdf_cdp *c, const char *session, const char *method, json_t *params,
                     int64_t deadline_ms)
{
    if (dead(c)) {
        json_decref(params);
        return fail(c, PDF_CDP_DEAD, "the browser is not running%s", NULL);
    }
    long id = c->next_id++;
    json_t *msg = json_pack("{sI ss so}", "id", (json_int_t)id, "method", method, "params",
                            params ? params : json_object());
    if (msg != NULL && session != NULL)
        json_object_set_new(msg, "sessionId", json_string(session));
    char *text = msg ? json_dumps(msg, JSON_COMPACT) : NULL;
    json_decref(msg);
    if (text == NULL)
        return fail(c, PDF_CDP_REMOTE, "out of memory%s", NULL);
    /* the NUL that ends the message is the string's own */
    int rc = write_all(c, text, strlen(text) + 1, deadline_ms);
    free(text);
    return rc < 0 ? -1 : id;
}

int pdf_cdp_send(pdf_cdp *c, const char *session, const char *method, json_t *params,
                 pdf_cdp_reply_fn fn, void *ud, int64_t deadline_ms)
{
    if (fn != NULL && c->npending == PDF_CDP_PENDING) {
        json_decref(params);
        return fail(c, PDF_CDP_REMOTE, "too many commands in flight%s", NULL);
    }
    long id = send_msg(c, session, method, params, deadline_ms);
    if (id < 0)
        return -1;
    if (fn != NULL) {
        c->pending[c->npending].id = id;
        c->pending[c->npending].fn = fn;
        c->pending[c->npending].ud = ud;
        c->npending++;
    }
    return 0;
}

void pdf_cdp_forget(pdf_cdp *c, pdf_cdp_reply_fn fn)
{
    for (size_t i = 0; i < c->npending;) {
        if (fn == NULL || c->pending[i].fn == fn)
            c->pending[i] = c->pending[--c->npending];
        else
            i++;
    }
}

/* One complete message: a reply (to the waiter or a callback) or an event. */
static void dispatch(pdf_cdp *c, const char *text, size_t len)
{
    json_error_t jerr;
    json_t *msg = json_loadb(text, len, 0, &jerr);
    if (msg == NULL || !json_is_object(msg)) {
        json_decref(msg);
        return; /* not ours to guess at; the waiter's deadline covers it */
    }
    json_t *id = json_object_get(msg, "id");
    if (json_is_integer(id)) {
        long v = (long)json_integer_value(id);
        if (v == c->wait_id && c->wait_reply == NULL) {
            c->wait_reply = msg;
            return;
        }
        for (size_t i = 0; i < c->npending; i++) {
            if (c->pending[i].id != v)
                continue;
            pdf_cdp_reply_fn fn = c->pending[i].fn;
            void *ud = c->pending[i].ud;
            c->pending[i] = c->pending[--c->npending];
            json_t *err = json_object_get(msg, "error");
            const char *etext = json_string_value(json_object_get(err, "message"));
            fn(ud, err ? NULL : json_object_get(msg, "result"),
               err ? (etext ? etext : "error") : NULL);
            break;
        }
        json_decref(msg); /* a reply nobody waits for any more (timed out) */
        return;
    }
    const char *method = json_string_value(json_object_get(msg, "method"));
    if (method != NULL && c->on_event != NULL)
        c->on_event(c->event_ud, method, json_object_get(msg, "params"),
                    json_string_value(json_object_get(msg, "sessionId")));
    json_decref(msg);
}

/* Read what is there and dispatch complete messages. 1 if any, 0 if none
 * (would block), -1 broken. */
static int read_some(pdf_cdp *c)
{
    int got = 0;
    for (;;) {
        if (c->rcap - c->rlen < READ_CHUNK) {
            size_t cap = c->rcap ? c->rcap * 2 : 2 * READ_CHUNK;
            char *grown = realloc(c->rbuf, cap);
            if (grown == NULL)
                return broke(c, "out of memory reading from the browser%s", NULL);
            c->rbuf = grown;
            c->rcap = cap;
        }
        ssize_t n = read(c->rfd, c->rbuf + c->rlen, c->rcap - c->rlen);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return got;
        if (n < 0)
            return broke(c, "reading from the browser: %s", strerror(errno));
        if (n == 0)
            return broke(c, "the browser closed the pipe (it exited or crashed)%s", NULL);
        size_t scan = c->rlen;
        c->rlen += (size_t)n;
        size_t start = 0;
        for (size_t i = scan; i < c->rlen; i++) {
            if (c->rbuf[i] != '\0')
                continue;
            dispatch(c, c->rbuf + start, i - start);
            got = 1;
            start = i + 1;
            if (dead(c))
                return -1;
        }
        if (start > 0) {
            memmove(c->rbuf, c->rbuf + start, c->rlen - start);
            c->rlen -= start;
        }
        if (c->rlen > MSG_MAX)
            return broke(c, "a message from the browser is larger than 48 MiB%s", NULL);
        /* a message at least as big as the buffer: keep reading */
    }
}

int pdf_cdp_pump(pdf_cdp *c, int64_t until_ms)
{
    for (;;) {
        if (dead(c))
            return fail(c, PDF_CDP_DEAD, "the browser is not running%s", NULL);
        int rc = read_some(c);
        if (rc < 0)
            return -1;
        if (c->tick != NULL && c->tick(c->tick_ud))
            return fail(c, PDF_CDP_ABORTED, "stopped%s", NULL);
        if (rc > 0)
            return 1;
        int64_t left = until_ms - pdf_mono_ms();
        if (left <= 0)
            return 0;
        struct pollfd p = {.fd = c->rfd, .events = POLLIN};
        if (poll(&p, 1, left > TICK_MS ? TICK_MS : (int)left) < 0 && errno != EINTR)
            return broke(c, "poll: %s", strerror(errno));
    }
}

json_t *pdf_cdp_call(pdf_cdp *c, const char *session, const char *method, json_t *params,
                     int64_t deadline_ms)
{
    json_decref(c->wait_reply);
    c->wait_reply = NULL;
    long id = send_msg(c, session, method, params, deadline_ms);
    if (id < 0)
        return NULL;
    c->wait_id = id;
    for (;;) {
        if (c->wait_reply != NULL)
            break;
        if (pdf_mono_ms() >= deadline_ms) {
            c->wait_id = 0;
            fail(c, PDF_CDP_TIMEOUT, "%s timed out", method);
            return NULL;
        }
        if (pdf_cdp_pump(c, deadline_ms) < 0) {
            c->wait_id = 0;
            return NULL;
        }
    }
    json_t *msg = c->wait_reply;
    c->wait_reply = NULL;
    c->wait_id = 0;
    json_t *err = json_object_get(msg, "error");
    if (err != NULL) {
        const char *text = json_string_value(json_object_get(err, "message"));
        c->status = PDF_CDP_REMOTE;
        snprintf(c->errstr, sizeof c->errstr, "%s: %s", method, text ? text : "error");
        json_decref(msg);
        return NULL;
    }
    json_t *result = json_incref(json_object_get(msg, "result"));
    json_decref(msg);
    if (result == NULL)
        result = json_object();
    c->status = PDF_CDP_OK;
    return result;
}
