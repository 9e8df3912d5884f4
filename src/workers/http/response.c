/* response.c - what an HTTP response means for a drudge-http job: the
 * outcome of a status (status_rules), the delay a Retry-After asks for,
 * where a redirect goes and with which method, which response headers the
 * result keeps (kept_headers) and the result JSON itself. Pure: session.c
 * fills the response, call.c acts on what this file says. */
#include "http.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
#define SNIPPET_MAX 160 /* bytes of an error body quoted in the job's error */

void http_response_init(http_response *r)
{
    memset(r, 0, sizeof *r);
}

void http_response_clear(http_response *r)
{
    json_decref(r->headers);
    free(r->location);
    free(r->retry_after);
    r->headers = NULL;
    r->location = NULL;
    r->retry_after = NULL;
    r->status = 0;
    r->body_len = 0;
    r->truncated = 0;
    if (r->body != NULL)
        r->body[0] = '\0';
}

void http_response_release(http_response *r)
{
    http_response_clear(r);
    free(r->body);
    memset(r, 0, sizeof *r);
}

/* ---- kept headers ---- */

/* What a caller of an API usually wants back: content description, where
 * a thing went, caching validators, request ids and rate-limit state. A
 * name ending in '-' is a prefix. */
static const char *const kept_headers[] = {
    "content-type", "content-length", "content-encoding", "location",     "retry-after",
    "etag",         "last-modified",  "date",             "cache-control", "x-request-id",
    "request-id",   "x-correlation-id", "ratelimit-",     "x-ratelimit-",
};

static int name_is(const char *want, const char *name, size_t len)
{
    size_t wl = strlen(want);
    if (wl > 0 && want[wl - 1] == '-')
        return len > wl && strncasecmp(name, want, wl) == 0;
    return len == wl && strncasecmp(name, want, wl) == 0;
}

int http_header_kept(const http_request *req, const char *name, size_t len)
{
    for (size_t i = 0; i < COUNT(kept_headers); i++)
        if (name_is(kept_headers[i], name, len))
            return 1;
    for (size_t i = 0; req != NULL && i < req->nkeep; i++)
        if (name_is(req->keep[i], name, len))
            return 1;
    return 0;
}

/* ---- Retry-After ---- */

/* The three HTTP-date forms of RFC 9110 5.6.7, preferred one first. The
 * worker never calls setlocale(), so day and month names are English. */
static const char *const http_date_formats[] = {
    "%a, %d %b %Y %H:%M:%S GMT", /* IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT */
    "%A, %d-%b-%y %H:%M:%S GMT", /* RFC 850: Sunday, 06-Nov-94 08:49:37 GMT */
    "%a %b %e %H:%M:%S %Y",      /* asctime: Sun Nov  6 08:49:37 1994 */
};

int64_t http_retry_after_ms(const char *value, time_t now)
{
    if (value == NULL)
        return -1;
    while (*value == ' ' || *value == '\t')
        value++;
    size_t n = strlen(value);
    while (n > 0 && (value[n - 1] == ' ' || value[n - 1] == '\t'))
        n--;
    if (n == 0 || n > 64)
        return -1;
    char text[65];
    memcpy(text, value, n);
    text[n] = '\0';

    if (isdigit((unsigned char)text[0])) {
        int64_t seconds = 0;
        for (size_t i = 0; i < n; i++) {
            if (!isdigit((unsigned char)text[i]))
                return -1;
            if (seconds < HTTP_RETRY_AFTER_MAX_MS / 1000)
                seconds = seconds * 10 + (text[i] - '0');
        }
        int64_t ms = seconds * 1000;
        return ms > HTTP_RETRY_AFTER_MAX_MS ? HTTP_RETRY_AFTER_MAX_MS : ms;
    }
    for (size_t i = 0; i < COUNT(http_date_formats); i++) {
        struct tm tm;
        memset(&tm, 0, sizeof tm);
        const char *end = strptime(text, http_date_formats[i], &tm);
        if (end == NULL || *end != '\0')
            continue;
        time_t at = timegm(&tm);
        if (at == (time_t)-1)
            return -1;
        if (at <= now)
            return 0;
        int64_t ms = ((int64_t)at - (int64_t)now) * 1000;
        return ms > HTTP_RETRY_AFTER_MAX_MS ? HTTP_RETRY_AFTER_MAX_MS : ms;
    }
    return -1;
}

/* ---- outcomes ---- */

/* A status the job did not expect; first match wins. */
static const struct {
    int lo, hi;
    drudge_outcome outcome;
    int honour_retry_after;
} status_rules[] = {
    {429, 429, DRUDGE_RETRY, 1}, /* too many requests: the server says when */
    {503, 503, DRUDGE_RETRY, 1}, /* unavailable: likewise */
    {408, 408, DRUDGE_RETRY, 0}, /* request timeout */
    {425, 425, DRUDGE_RETRY, 0}, /* too early */
    {500, 599, DRUDGE_RETRY, 0}, /* the server's trouble: back off and try again */
    {100, 599, DRUDGE_FAIL, 0},  /* 4xx and the rest: the request is wrong */
};

http_verdict http_status_verdict(const http_request *req, int status)
{
    http_verdict v = {DRUDGE_FAIL, 0};
    if (http_request_expects(req, status)) {
        v.outcome = DRUDGE_DONE;
        return v;
    }
    for (size_t i = 0; i < COUNT(status_rules); i++)
        if (status >= status_rules[i].lo && status <= status_rules[i].hi) {
            v.outcome = status_rules[i].outcome;
            v.honour_retry_after = status_rules[i].honour_retry_after;
            break;
        }
    return v;
}

/* ---- redirects ---- */

static const struct {
    int status;
    int to_get;      /* which methods turn into GET: 0 none, 1 POST, 2 all but HEAD */
} redirect_rules[] = {
    {301, 1}, {302, 1}, {303, 2}, {307, 0}, {308, 0},
};

int http_status_is_redirect(int status)
{
    for (size_t i = 0; i < COUNT(redirect_rules); i++)
        if (redirect_rules[i].status == status)
            return 1;
    return 0;
}

http_method http_redirect_method(http_method m, int status, int *drop_body)
{
    *drop_body = 0;
    for (size_t i = 0; i < COUNT(redirect_rules); i++) {
        if (redirect_rules[i].status != status)
            continue;
        int to_get = redirect_rules[i].to_get;
        if ((to_get == 1 && m == HTTP_POST) || (to_get == 2 && m != HTTP_HEAD && m != HTTP_GET)) {
            *drop_body = 1;
            return HTTP_GET;
        }
    }
    return m;
}

/* ---- the result ---- */

/* Length of body[0..len) without a UTF-8 sequence the size limit cut. */
static size_t utf8_whole(const char *body, size_t len)
{
    size_t back = 0;
    while (back < 4 && back < len && ((unsigned char)body[len - 1 - back] & 0xC0) == 0x80)
        back++;
    if (back < len) {
        unsigned char lead = (unsigned char)body[len - 1 - back];
        size_t need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
        if (need > back + 1)
            return len - 1 - back;
    }
    return len;
}

char *http_result_json(const http_request *req, const http_response *resp, const http_url *final,
                       int redirects, int64_t ms)
{
    json_t *o = json_object();
    char *text = NULL;
    if (o == NULL)
        return NULL;
    json_object_set_new(o, "status", json_integer(resp->status));
    json_object_set_new(o, "headers", resp->headers ? json_incref(resp->headers) : json_object());
    if (req->save_response) {
        size_t len = resp->truncated ? utf8_whole(resp->body, resp->body_len) : resp->body_len;
        json_t *body = json_stringn(resp->body ? resp->body : "", len);
        if (body != NULL) {
            json_object_set_new(o, "body", body);
        } else { /* not UTF-8: binary bytes, kept whole */
            char *b64 = http_base64((const unsigned char *)resp->body, resp->body_len);
            if (b64 == NULL)
                goto out;
            json_object_set_new(o, "body_base64", json_string(b64));
            free(b64);
        }
    }
    json_object_set_new(o, "truncated", json_boolean(resp->truncated));
    json_object_set_new(o, "ms", json_integer(ms));
    if (redirects > 0) {
        json_object_set_new(o, "url", json_string(final->url));
        json_object_set_new(o, "redirects", json_integer(redirects));
    }
    text = json_dumps(o, JSON_COMPACT);
out:
    json_decref(o);
    return text;
}

void http_status_error(char *out, size_t cap, http_method m, const http_url *u,
                       const http_response *resp)
{
    char snippet[SNIPPET_MAX + 1];
    size_t n = 0;
    for (size_t i = 0; resp->body && i < resp->body_len && n < SNIPPET_MAX; i++) {
        unsigned char c = (unsigned char)resp->body[i];
        if (c >= 0x80) { /* the error is one plain line: no half characters */
            snippet[n++] = '?';
        } else if (c <= 0x20 || c == 0x7f) { /* whitespace runs become one space */
            if (n > 0 && snippet[n - 1] != ' ')
                snippet[n++] = ' ';
        } else {
            snippet[n++] = (char)c;
        }
    }
    while (n > 0 && snippet[n - 1] == ' ')
        n--;
    snippet[n] = '\0';
    if (n > 0)
        snprintf(out, cap, "HTTP %d from %s %s: %s", resp->status, http_method_name(m),
                 u->display, snippet);
    else
        snprintf(out, cap, "HTTP %d from %s %s", resp->status, http_method_name(m), u->display);
}
