/* session.c - drudge-http's libcurl side. One easy handle is kept for the
 * life of the process, so connections (and TLS sessions) are reused from
 * one job to the next; curl_easy_reset() between hops clears options but
 * keeps the connection cache. A hop is one request without following
 * redirects (call.c follows them, re-checking each target). The pinned
 * addresses from resolve.c go in as CURLOPT_RESOLVE, and the socket
 * callback checks the address once more as the socket is opened - the last
 * word against DNS rebinding. Proxies from the environment are not used. */
#include "http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#define CONNECT_TIMEOUT_MAX_MS 10000L
#define KEPT_HEADERS_MAX 64
#define KEPT_VALUE_MAX 1024 /* bytes of one kept response header */

struct http_session {
    CURL *easy;
};

/* What the callbacks of one hop share. */
typedef struct transfer {
    const http_hop *hop;
    http_response *resp;
    int out_of_memory;
    char refused[HTTP_ERR_MAX]; /* set by the socket callback */
    int stopped;                /* hop->stop ended it */
} transfer;

http_session *http_session_new(void)
{
    http_session *s = calloc(1, sizeof *s);
    if (s == NULL)
        return NULL;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        free(s);
        return NULL;
    }
    if ((s->easy = curl_easy_init()) == NULL) {
        curl_global_cleanup();
        free(s);
        return NULL;
    }
    return s;
}

void http_session_free(http_session *s)
{
    if (s == NULL)
        return;
    curl_easy_cleanup(s->easy);
    curl_global_cleanup();
    free(s);
}

/* ---- callbacks ---- */

static size_t on_body(char *data, size_t size, size_t nmemb, void *userp)
{
    transfer *t = userp;
    http_response *r = t->resp;
    size_t n = size * nmemb, room = t->hop->max_body - r->body_len;
    size_t take = n < room ? n : room;
    if (r->body_len + take + 1 > r->body_cap) {
        size_t cap = r->body_cap ? r->body_cap : 4096;
        while (cap < r->body_len + take + 1)
            cap *= 2;
        if (cap > t->hop->max_body + 1)
            cap = t->hop->max_body + 1;
        char *grown = realloc(r->body, cap);
        if (grown == NULL) {
            t->out_of_memory = 1;
            return 0;
        }
        r->body = grown;
        r->body_cap = cap;
    }
    memcpy(r->body + r->body_len, data, take);
    r->body_len += take;
    r->body[r->body_len] = '\0';
    if (take < n) {
        r->truncated = 1; /* stop reading: the limit is also a guard */
        return 0;
    }
    return n;
}

static char *dup_n(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d != NULL) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

static void keep_header(transfer *t, const char *name, size_t nlen, const char *value,
                        size_t vlen)
{
    http_response *r = t->resp;
    char key[HTTP_HEADER_NAME_MAX + 1];
    if (nlen > HTTP_HEADER_NAME_MAX)
        return;
    for (size_t i = 0; i < nlen; i++)
        key[i] = (char)((name[i] >= 'A' && name[i] <= 'Z') ? name[i] + 32 : name[i]);
    key[nlen] = '\0';
    if (vlen > KEPT_VALUE_MAX)
        vlen = KEPT_VALUE_MAX;
    if (r->headers == NULL && (r->headers = json_object()) == NULL)
        return;
    const char *before = json_string_value(json_object_get(r->headers, key));
    json_t *v;
    if (before != NULL) { /* a repeated header: one value, comma-joined */
        size_t blen = strlen(before), cap = blen + 2 + vlen + 1;
        char *joined = malloc(cap);
        if (joined == NULL || blen + 2 + vlen > KEPT_VALUE_MAX) {
            free(joined);
            return;
        }
        snprintf(joined, cap, "%s, %.*s", before, (int)vlen, value);
        v = json_string(joined);
        free(joined);
    } else {
        if (json_object_size(r->headers) >= KEPT_HEADERS_MAX)
            return;
        v = json_stringn(value, vlen); /* NULL (skipped) when not UTF-8 */
    }
    if (v != NULL)
        json_object_set_new(r->headers, key, v);
}

static size_t on_header(char *line, size_t size, size_t nitems, void *userp)
{
    transfer *t = userp;
    http_response *r = t->resp;
    size_t n = size * nitems, len = n;
    while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == '\n'))
        len--;
    if (len >= 5 && strncmp(line, "HTTP/", 5) == 0) {
        http_response_clear(r); /* a new response: an interim one came before */
        const char *sp = memchr(line, ' ', len);
        if (sp != NULL && (size_t)(sp - line) + 4 <= len)
            r->status = (sp[1] - '0') * 100 + (sp[2] - '0') * 10 + (sp[3] - '0');
        return n;
    }
    const char *colon = memchr(line, ':', len);
    if (colon == NULL)
        return n;
    size_t nlen = (size_t)(colon - line);
    const char *value = colon + 1;
    size_t vlen = len - nlen - 1;
    while (vlen > 0 && (*value == ' ' || *value == '\t'))
        value++, vlen--;
    while (vlen > 0 && (value[vlen - 1] == ' ' || value[vlen - 1] == '\t'))
        vlen--;
    if (nlen == 8 && strncasecmp(line, "location", 8) == 0 && r->location == NULL)
        r->location = dup_n(value, vlen);
    if (nlen == 11 && strncasecmp(line, "retry-after", 11) == 0 && r->retry_after == NULL)
        r->retry_after = dup_n(value, vlen);
    if (http_header_kept(t->hop->req, line, nlen))
        keep_header(t, line, nlen, value, vlen);
    return n;
}

static curl_socket_t on_open_socket(void *userp, curlsocktype purpose, struct curl_sockaddr *a)
{
    transfer *t = userp;
    (void)purpose;
    if (!t->hop->allow_private) {
        const char *why = http_sockaddr_refusal(&a->addr, a->addrlen);
        if (why != NULL) {
            snprintf(t->refused, sizeof t->refused,
                     "connecting to %s refused: a %s address (http.allow_private_networks is off)",
                     t->hop->url->host, why);
            return CURL_SOCKET_BAD;
        }
    }
    return socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}

/* ---- one hop ---- */

/* libcurl errors that are not worth another attempt, or that mean the host
 * itself is not there; everything else is retried with backoff. */
static const struct {
    CURLcode code;
    http_transport transport;
} transport_rules[] = {
    {CURLE_COULDNT_RESOLVE_HOST, HTTP_T_HOST_DOWN},
    {CURLE_COULDNT_CONNECT, HTTP_T_HOST_DOWN}, /* refused, unreachable */
    {CURLE_OPERATION_TIMEDOUT, HTTP_T_TIMEOUT},
    {CURLE_PEER_FAILED_VERIFICATION, HTTP_T_FAIL},
    {CURLE_SSL_CERTPROBLEM, HTTP_T_FAIL},
    {CURLE_UNSUPPORTED_PROTOCOL, HTTP_T_FAIL},
    {CURLE_URL_MALFORMAT, HTTP_T_FAIL},
};

/* Request headers: the job's (without a Content-Type when no body is
 * sent), the credential's, and an empty Expect so a large body is not held
 * back a second waiting for "100 Continue". */
static struct curl_slist *header_list(const http_hop *hop, int *oom)
{
    struct curl_slist *list = NULL, *next;
    const http_request *req = hop->req;
    int sending = hop->send_body && req->body != NULL;
    *oom = 0;
    for (size_t i = 0; i < req->nheaders; i++) {
        if (!sending && strncasecmp(req->headers[i], "content-type", 12) == 0 &&
            (req->headers[i][12] == ':' || req->headers[i][12] == ';'))
            continue;
        if ((next = curl_slist_append(list, req->headers[i])) == NULL)
            goto oom;
        list = next;
    }
    if (!sending) { /* and not libcurl's form type either */
        if ((next = curl_slist_append(list, "Content-Type:")) == NULL)
            goto oom;
        list = next;
    }
    if (hop->auth_header != NULL) {
        if ((next = curl_slist_append(list, hop->auth_header)) == NULL)
            goto oom;
        list = next;
    }
    if ((next = curl_slist_append(list, "Expect:")) == NULL)
        goto oom;
    return next;
oom:
    *oom = 1;
    curl_slist_free_all(list);
    return NULL;
}

/* The method, and the body if there is one. POST, PUT and PATCH without a
 * body still say "Content-Length: 0" (servers may insist, 411); DELETE
 * without one sends none. */
static void set_method(CURL *c, const http_hop *hop)
{
    const http_request *req = hop->req;
    int with_body = hop->send_body && req->body != NULL;
    switch (hop->method) {
    case HTTP_GET: curl_easy_setopt(c, CURLOPT_HTTPGET, 1L); return;
    case HTTP_HEAD: curl_easy_setopt(c, CURLOPT_NOBODY, 1L); return;
    case HTTP_POST: curl_easy_setopt(c, CURLOPT_POST, 1L); break;
    default: curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, http_method_name(hop->method)); break;
    }
    if (with_body || hop->method != HTTP_DELETE) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
                         (curl_off_t)(with_body ? req->body_len : 0));
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, with_body ? req->body : "");
    }
}

/* libcurl's progress callback, several times a second while a transfer
 * runs (also while it waits): non-zero aborts it. */
static int on_progress(void *userp, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    (void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
    transfer *t = userp;
    if (t->hop->stop != NULL && t->hop->stop(t->hop->stop_arg)) {
        t->stopped = 1;
        return 1;
    }
    return 0;
}

http_transport http_session_perform(http_session *s, const http_hop *hop, http_response *resp,
                                    char *err, size_t errcap)
{
    CURL *c = s->easy;
    char curl_err[CURL_ERROR_SIZE] = "";
    transfer t = {.hop = hop, .resp = resp};
    struct curl_slist *pin = NULL, *headers = NULL;
    http_transport result;
    int oom;

    http_response_clear(resp);
    if ((headers = header_list(hop, &oom)) == NULL ||
        (hop->pin[0] != '\0' && (pin = curl_slist_append(NULL, hop->pin)) == NULL)) {
        snprintf(err, errcap, "out of memory");
        result = HTTP_T_RETRY;
        goto out;
    }
    long timeout = hop->timeout_ms > 0 ? (long)hop->timeout_ms : 1;
    curl_easy_reset(c);
    curl_easy_setopt(c, CURLOPT_URL, hop->url->url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_PROXY, "");
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
                     timeout < CONNECT_TIMEOUT_MAX_MS ? timeout : CONNECT_TIMEOUT_MAX_MS);
    if (pin != NULL)
        curl_easy_setopt(c, CURLOPT_RESOLVE, pin);
    curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, on_open_socket);
    curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, &t);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &t);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &t);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, curl_err);
    curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    if (!hop->req->has_user_agent)
        curl_easy_setopt(c, CURLOPT_USERAGENT, "drudge-http/" DRUDGE_VERSION);
    if (hop->stop != NULL) {
        curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
        curl_easy_setopt(c, CURLOPT_XFERINFODATA, &t);
        curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    }
    set_method(c, hop);

    CURLcode code = curl_easy_perform(c);
    if (t.refused[0] != '\0') {
        snprintf(err, errcap, "%s", t.refused);
        result = HTTP_T_REFUSED;
    } else if (t.stopped) {
        snprintf(err, errcap, "%s %s: stopped", http_method_name(hop->method), hop->url->display);
        result = HTTP_T_STOPPED;
    } else if (code == CURLE_OK || (code == CURLE_WRITE_ERROR && resp->truncated)) {
        long status = 0;
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        resp->status = (int)status;
        result = HTTP_T_OK;
    } else if (t.out_of_memory) {
        snprintf(err, errcap, "out of memory reading the response");
        result = HTTP_T_RETRY;
    } else {
        result = HTTP_T_RETRY;
        for (size_t i = 0; i < sizeof transport_rules / sizeof transport_rules[0]; i++)
            if (transport_rules[i].code == code)
                result = transport_rules[i].transport;
        snprintf(err, errcap, "%s %s: %s", http_method_name(hop->method), hop->url->display,
                 curl_err[0] ? curl_err : curl_easy_strerror(code));
    }
    /* the handle outlives this call: drop pointers into our stack */
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, NULL);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
    curl_easy_setopt(c, CURLOPT_RESOLVE, NULL);
out:
    curl_slist_free_all(headers);
    curl_slist_free_all(pin);
    return result;
}
