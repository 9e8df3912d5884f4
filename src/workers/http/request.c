/* request.c - a drudge-http job's JSON turned into a checked request, and
 * credentials turned into an Authorization header. Every job key is a row
 * in job_keys; headers that a job may not set are rows in refused_headers.
 * URLs are parsed with libcurl's own URL parser (no I/O), so what is
 * checked here is exactly what libcurl will connect to. Pure. */
#include "http.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

/* ---- methods ---- */

static const struct {
    const char *name;
    int has_body;
} methods[] = {
    [HTTP_GET] = {"GET", 0},     [HTTP_POST] = {"POST", 1},     [HTTP_PUT] = {"PUT", 1},
    [HTTP_PATCH] = {"PATCH", 1}, [HTTP_DELETE] = {"DELETE", 1}, [HTTP_HEAD] = {"HEAD", 0},
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

const char *http_method_name(http_method m)
{
    return (unsigned)m < COUNT(methods) ? methods[m].name : "?";
}

int http_method_has_body(http_method m)
{
    return (unsigned)m < COUNT(methods) && methods[m].has_body;
}

/* ---- small helpers ---- */

static char *dup_n(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d != NULL) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

/* An RFC 9110 token: header names. */
static int is_token(const char *s, size_t n)
{
    static const char extra[] = "!#$%&'*+-.^_`|~";
    if (n == 0)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!isalnum(c) && (c == '\0' || strchr(extra, c) == NULL))
            return 0;
    }
    return 1;
}

/* Header values: no CR, LF, NUL or other control bytes but tab. */
static int value_ok(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return 0;
    }
    return 1;
}

/* ---- URLs ---- */

void http_url_release(http_url *u)
{
    if (u == NULL)
        return;
    free(u->url);
    free(u->host);
    free(u->display);
    memset(u, 0, sizeof *u);
}

int http_url_copy(http_url *dst, const http_url *src)
{
    memset(dst, 0, sizeof *dst);
    dst->port = src->port;
    dst->https = src->https;
    dst->url = strdup(src->url);
    dst->host = strdup(src->host);
    dst->display = strdup(src->display);
    if (dst->url == NULL || dst->host == NULL || dst->display == NULL) {
        http_url_release(dst);
        return -1;
    }
    return 0;
}

int http_url_same_origin(const http_url *a, const http_url *b)
{
    return a->https == b->https && a->port == b->port && strcmp(a->host, b->host) == 0;
}

void http_url_limit_name(const http_url *u, char out[HTTP_HOST_NAME_MAX + 1])
{
    if (drudge_id_valid(u->host)) {
        snprintf(out, HTTP_HOST_NAME_MAX + 1, "%s", u->host);
        return;
    }
    uint64_t h = 14695981039346656037ULL; /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)u->host; *p; p++)
        h = (h ^ *p) * 1099511628211ULL;
    snprintf(out, HTTP_HOST_NAME_MAX + 1, "host-%016llx", (unsigned long long)h);
}

/* Parts of a URL handle as a malloc'd string; NULL if absent. */
static char *url_part(CURLU *h, CURLUPart part, unsigned flags)
{
    char *v = NULL, *copy = NULL;
    if (curl_url_get(h, part, &v, flags) == CURLUE_OK && v != NULL)
        copy = strdup(v);
    curl_free(v);
    return copy;
}

int http_url_parse(const char *text, const http_url *base, http_url *out, char *err,
                   size_t errcap)
{
    CURLU *h = NULL;
    char *scheme = NULL, *host = NULL, *path = NULL, *user = NULL, *password = NULL;
    char *zone = NULL, *port = NULL;
    int rc = -1;
    size_t n = strlen(text);

    memset(out, 0, sizeof out[0]);
    if (n == 0 || n > HTTP_URL_MAX) {
        snprintf(err, errcap, "url must be 1 to %d bytes", HTTP_URL_MAX);
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)text[i] <= 0x20 || text[i] == 0x7f) {
            snprintf(err, errcap, "url must not contain spaces or control characters");
            return -1;
        }
    if ((h = curl_url()) == NULL) {
        snprintf(err, errcap, "out of memory");
        return -1;
    }
    CURLUcode uc = CURLUE_OK;
    if (base != NULL)
        uc = curl_url_set(h, CURLUPART_URL, base->url, 0);
    if (uc == CURLUE_OK)
        uc = curl_url_set(h, CURLUPART_URL, text, CURLU_NON_SUPPORT_SCHEME);
    if (uc != CURLUE_OK) {
        snprintf(err, errcap, "url is not a valid absolute http or https URL (%s)",
                 curl_url_strerror(uc));
        goto out;
    }
    scheme = url_part(h, CURLUPART_SCHEME, 0);
    if (scheme == NULL || (strcasecmp(scheme, "http") != 0 && strcasecmp(scheme, "https") != 0)) {
        snprintf(err, errcap, "url scheme must be http or https, got \"%.20s\"",
                 scheme ? scheme : "");
        goto out;
    }
    if ((user = url_part(h, CURLUPART_USER, 0)) != NULL ||
        (password = url_part(h, CURLUPART_PASSWORD, 0)) != NULL) {
        snprintf(err, errcap,
                 "url must not carry a user or password: name a credential with \"auth\"");
        goto out;
    }
    if ((zone = url_part(h, CURLUPART_ZONEID, 0)) != NULL) {
        snprintf(err, errcap, "url must not carry an IPv6 zone id");
        goto out;
    }
    curl_url_set(h, CURLUPART_FRAGMENT, NULL, 0); /* never sent */
    host = url_part(h, CURLUPART_HOST, 0);
    port = url_part(h, CURLUPART_PORT, CURLU_DEFAULT_PORT);
    path = url_part(h, CURLUPART_PATH, 0);
    out->url = url_part(h, CURLUPART_URL, 0);
    if (host == NULL || *host == '\0' || port == NULL || out->url == NULL) {
        snprintf(err, errcap, "url has no host");
        goto out;
    }
    /* libidn2 converts by the locale, and a worker runs in the C locale:
     * international names must come as punycode */
    for (const char *c = host; *c; c++)
        if ((unsigned char)*c >= 0x80) {
            snprintf(err, errcap, "url host must be ASCII: write an international name in "
                                  "punycode (xn--...)");
            goto out;
        }
    out->https = strcasecmp(scheme, "https") == 0;
    char *end;
    long p = strtol(port, &end, 10);
    if (*end != '\0' || p < 1 || p > 65535) {
        snprintf(err, errcap, "url port must be from 1 to 65535");
        goto out;
    }
    out->port = (int)p;
    /* IPv6 literals come bracketed; the resolver and the limits want them bare */
    size_t hl = strlen(host);
    if (host[0] == '[' && hl >= 2 && host[hl - 1] == ']')
        out->host = dup_n(host + 1, hl - 2);
    else
        out->host = strdup(host);
    if (out->host == NULL) {
        snprintf(err, errcap, "out of memory");
        goto out;
    }
    for (char *c = out->host; *c; c++)
        *c = (char)tolower((unsigned char)*c);
    int default_port = out->port == (out->https ? 443 : 80);
    size_t cap = strlen(host) + (path ? strlen(path) : 0) + 32;
    if ((out->display = malloc(cap)) == NULL) {
        snprintf(err, errcap, "out of memory");
        goto out;
    }
    if (default_port)
        snprintf(out->display, cap, "%s://%s%s", out->https ? "https" : "http", host,
                 path ? path : "/");
    else
        snprintf(out->display, cap, "%s://%s:%d%s", out->https ? "https" : "http", host,
                 out->port, path ? path : "/");
    rc = 0;
out:
    if (rc < 0)
        http_url_release(out);
    free(scheme);
    free(host);
    free(path);
    free(user);
    free(password);
    free(zone);
    free(port);
    curl_url_cleanup(h);
    return rc;
}

/* ---- job keys ---- */

typedef int (*key_parser)(const json_t *v, http_request *r, char *err, size_t errcap);

static int parse_ignored(const json_t *v, http_request *r, char *err, size_t errcap)
{
    (void)v, (void)r, (void)err, (void)errcap;
    return 0; /* "id" is the runtime's */
}

static int parse_method(const json_t *v, http_request *r, char *err, size_t errcap)
{
    if (json_is_string(v))
        for (size_t i = 0; i < COUNT(methods); i++)
            if (strcasecmp(json_string_value(v), methods[i].name) == 0) {
                r->method = (http_method)i;
                return 0;
            }
    snprintf(err, errcap, "method must be GET, POST, PUT, PATCH, DELETE or HEAD");
    return -1;
}

static int parse_url(const json_t *v, http_request *r, char *err, size_t errcap)
{
    char why[HTTP_ERR_MAX];
    if (!json_is_string(v)) {
        snprintf(err, errcap, "url must be a string");
        return -1;
    }
    if (http_url_parse(json_string_value(v), NULL, &r->url, why, sizeof why) < 0) {
        snprintf(err, errcap, "%s", why);
        return -1;
    }
    return 0;
}

/* Headers a job may not set, and why. */
static const struct {
    const char *name;
    const char *why;
} refused_headers[] = {
    {"host", "it comes from the url"},
    {"content-length", "it is computed from the body"},
    {"transfer-encoding", "the body is sent whole"},
    {"connection", "connections are managed by the worker"},
    {"keep-alive", "connections are managed by the worker"},
    {"upgrade", "protocol upgrades are not supported"},
    {"te", "connections are managed by the worker"},
    {"trailer", "the body is sent whole"},
    {"expect", "the body is sent at once"},
    {"authorization", "name a credential with \"auth\" instead"},
    {"proxy-authorization", "proxies are not used"},
    {"proxy-connection", "proxies are not used"},
};

static int add_header(http_request *r, const char *name, size_t nlen, const char *value,
                      size_t vlen)
{
    char **grown = realloc(r->headers, (r->nheaders + 1) * sizeof *grown);
    if (grown == NULL)
        return -1;
    r->headers = grown;
    /* "Name;" is how libcurl sends a header with an empty value */
    size_t cap = nlen + vlen + 3;
    char *line = malloc(cap);
    if (line == NULL)
        return -1;
    if (vlen == 0)
        snprintf(line, cap, "%.*s;", (int)nlen, name);
    else
        snprintf(line, cap, "%.*s: %.*s", (int)nlen, name, (int)vlen, value);
    r->headers[r->nheaders++] = line;
    return 0;
}

static int parse_headers(const json_t *v, http_request *r, char *err, size_t errcap)
{
    const char *name;
    const json_t *value;
    if (!json_is_object(v)) {
        snprintf(err, errcap, "headers must be an object of strings");
        return -1;
    }
    if (json_object_size(v) > HTTP_HEADERS_MAX) {
        snprintf(err, errcap, "headers: at most %d", HTTP_HEADERS_MAX);
        return -1;
    }
    json_object_foreach((json_t *)v, name, value) {
        size_t nlen = strlen(name);
        if (nlen > HTTP_HEADER_NAME_MAX || !is_token(name, nlen)) {
            snprintf(err, errcap, "headers: invalid header name \"%.40s\"", name);
            return -1;
        }
        for (size_t i = 0; i < COUNT(refused_headers); i++)
            if (strcasecmp(name, refused_headers[i].name) == 0) {
                snprintf(err, errcap, "headers: %s may not be set: %s", name,
                         refused_headers[i].why);
                return -1;
            }
        if (!json_is_string(value)) {
            snprintf(err, errcap, "headers: %s must be a string", name);
            return -1;
        }
        const char *text = json_string_value(value);
        size_t vlen = json_string_length(value);
        if (strlen(text) != vlen || !value_ok(text, vlen)) {
            snprintf(err, errcap, "headers: %s must not contain CR, LF or control characters",
                     name);
            return -1;
        }
        if (vlen > HTTP_HEADER_VALUE_MAX) {
            snprintf(err, errcap, "headers: %s is longer than %d bytes", name,
                     HTTP_HEADER_VALUE_MAX);
            return -1;
        }
        for (size_t i = 0; i < r->nheaders; i++)
            if (strncasecmp(r->headers[i], name, nlen) == 0 &&
                (r->headers[i][nlen] == ':' || r->headers[i][nlen] == ';')) {
                snprintf(err, errcap, "headers: %s is given twice", name);
                return -1;
            }
        if (strcasecmp(name, "content-type") == 0)
            r->has_content_type = 1;
        if (strcasecmp(name, "user-agent") == 0)
            r->has_user_agent = 1;
        if (add_header(r, name, nlen, text, vlen) < 0) {
            snprintf(err, errcap, "out of memory");
            return -1;
        }
    }
    return 0;
}

static int parse_body(const json_t *v, http_request *r, char *err, size_t errcap)
{
    if (json_is_null(v))
        return 0;
    if (json_is_string(v)) {
        r->body = dup_n(json_string_value(v), json_string_length(v));
        r->body_len = json_string_length(v);
    } else {
        r->body = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        r->body_len = r->body ? strlen(r->body) : 0;
        r->body_is_json = 1;
    }
    if (r->body == NULL) {
        snprintf(err, errcap, "out of memory");
        return -1;
    }
    return 0;
}

static int parse_timeout(const json_t *v, http_request *r, char *err, size_t errcap)
{
    if (!json_is_number(v) || !(json_number_value(v) > 0) || json_number_value(v) > 86400) {
        snprintf(err, errcap, "timeout_s must be a number of seconds above 0, at most 86400");
        return -1;
    }
    r->timeout_s = json_number_value(v);
    return 0;
}

static int status_code(const json_t *v, int *out)
{
    if (!json_is_integer(v) || json_integer_value(v) < 100 || json_integer_value(v) > 599)
        return -1;
    *out = (int)json_integer_value(v);
    return 0;
}

/* [lo, hi] of two status codes; 0 or -1. */
static int status_range(const json_t *v, http_range *out)
{
    if (!json_is_array(v) || json_array_size(v) != 2 ||
        status_code(json_array_get(v, 0), &out->lo) < 0 ||
        status_code(json_array_get(v, 1), &out->hi) < 0 || out->lo > out->hi)
        return -1;
    return 0;
}

/* 204 | [200, 299] | [200, 204, [300, 399]]: a list of exactly two
 * numbers is a range; otherwise each item is a code or a [lo, hi] range. */
static int parse_expect(const json_t *v, http_request *r, char *err, size_t errcap)
{
    int code;
    r->nexpect = 0;
    if (status_code(v, &code) == 0) {
        r->expect[r->nexpect++] = (http_range){code, code};
        return 0;
    }
    if (json_is_array(v) && json_array_size(v) == 2 && json_is_integer(json_array_get(v, 0))) {
        if (status_range(v, &r->expect[0]) == 0) {
            r->nexpect = 1;
            return 0;
        }
    } else if (json_is_array(v) && json_array_size(v) >= 1 &&
               json_array_size(v) <= HTTP_EXPECT_MAX) {
        size_t i;
        const json_t *item;
        json_array_foreach(v, i, item) {
            http_range *rg = &r->expect[r->nexpect];
            if (status_code(item, &code) == 0)
                *rg = (http_range){code, code};
            else if (status_range(item, rg) < 0)
                break;
            r->nexpect++;
        }
        if (r->nexpect == json_array_size(v))
            return 0;
    }
    snprintf(err, errcap,
             "expect must be a status code (100-599), a [low, high] range or a list of codes "
             "and ranges (at most %d)",
             HTTP_EXPECT_MAX);
    return -1;
}

static int parse_bool(const json_t *v, int *out, const char *key, char *err, size_t errcap)
{
    if (!json_is_boolean(v)) {
        snprintf(err, errcap, "%s must be true or false", key);
        return -1;
    }
    *out = json_is_true(v);
    return 0;
}

static int parse_save(const json_t *v, http_request *r, char *err, size_t errcap)
{
    return parse_bool(v, &r->save_response, "save_response", err, errcap);
}

static int parse_follow(const json_t *v, http_request *r, char *err, size_t errcap)
{
    return parse_bool(v, &r->follow_redirects, "follow_redirects", err, errcap);
}

static int parse_auth(const json_t *v, http_request *r, char *err, size_t errcap)
{
    if (!json_is_string(v) || !drudge_id_valid(json_string_value(v))) {
        snprintf(err, errcap,
                 "auth must be the name of a credential in http.credentials "
                 "(1-128 characters of [A-Za-z0-9_.:-])");
        return -1;
    }
    if ((r->auth = strdup(json_string_value(v))) == NULL) {
        snprintf(err, errcap, "out of memory");
        return -1;
    }
    return 0;
}

static int parse_keep(const json_t *v, http_request *r, char *err, size_t errcap)
{
    size_t i;
    const json_t *item;
    if (!json_is_array(v) || json_array_size(v) > HTTP_KEEP_MAX) {
        snprintf(err, errcap, "response_headers must be a list of at most %d header names",
                 HTTP_KEEP_MAX);
        return -1;
    }
    json_array_foreach(v, i, item) {
        const char *name = json_string_value(item);
        if (name == NULL || strlen(name) > HTTP_HEADER_NAME_MAX || !is_token(name, strlen(name))) {
            snprintf(err, errcap, "response_headers[%zu] must be a header name", i);
            return -1;
        }
        if ((r->keep[r->nkeep] = strdup(name)) == NULL) {
            snprintf(err, errcap, "out of memory");
            return -1;
        }
        for (char *c = r->keep[r->nkeep]; *c; c++)
            *c = (char)tolower((unsigned char)*c);
        r->nkeep++;
    }
    return 0;
}

static const struct {
    const char *key;
    key_parser parse;
} job_keys[] = {
    {"id", parse_ignored},
    {"method", parse_method},
    {"url", parse_url},
    {"headers", parse_headers},
    {"body", parse_body},
    {"timeout_s", parse_timeout},
    {"expect", parse_expect},
    {"save_response", parse_save},
    {"follow_redirects", parse_follow},
    {"auth", parse_auth},
    {"response_headers", parse_keep},
};

int http_request_parse(const json_t *job, http_request *out, char *err, size_t errcap)
{
    const char *key;
    const json_t *value;

    memset(out, 0, sizeof *out);
    out->method = HTTP_GET;
    out->expect[0] = (http_range){200, 299};
    out->nexpect = 1;
    out->save_response = 1;
    out->follow_redirects = 1;
    if (!json_is_object(job)) {
        snprintf(err, errcap, "the job must be a JSON object");
        return -1;
    }
    json_object_foreach((json_t *)job, key, value) {
        size_t i;
        for (i = 0; i < COUNT(job_keys); i++)
            if (strcmp(job_keys[i].key, key) == 0)
                break;
        if (i == COUNT(job_keys)) {
            snprintf(err, errcap,
                     "unknown key \"%.40s\" (known: method, url, headers, body, timeout_s, "
                     "expect, save_response, follow_redirects, auth, response_headers)",
                     key);
            goto fail;
        }
        if (job_keys[i].parse(value, out, err, errcap) < 0)
            goto fail;
    }
    if (out->url.url == NULL) {
        snprintf(err, errcap, "url is required");
        goto fail;
    }
    if (out->body != NULL && !http_method_has_body(out->method)) {
        snprintf(err, errcap, "a %s request has no body", http_method_name(out->method));
        goto fail;
    }
    if (out->body_is_json && !out->has_content_type) {
        static const char ct[] = "Content-Type", json[] = "application/json";
        if (add_header(out, ct, sizeof ct - 1, json, sizeof json - 1) < 0) {
            snprintf(err, errcap, "out of memory");
            goto fail;
        }
        out->has_content_type = 1;
    }
    return 0;
fail:
    http_request_release(out);
    return -1;
}

void http_request_release(http_request *r)
{
    if (r == NULL)
        return;
    http_url_release(&r->url);
    for (size_t i = 0; i < r->nheaders; i++)
        free(r->headers[i]);
    free(r->headers);
    free(r->body);
    free(r->auth);
    for (size_t i = 0; i < r->nkeep; i++)
        free(r->keep[i]);
    memset(r, 0, sizeof *r);
}

int http_request_expects(const http_request *r, int status)
{
    for (size_t i = 0; i < r->nexpect; i++)
        if (status >= r->expect[i].lo && status <= r->expect[i].hi)
            return 1;
    return 0;
}

/* ---- credentials ---- */

void http_secret_free(char *s)
{
    if (s == NULL)
        return;
    explicit_bzero(s, strlen(s));
    free(s);
}

char *http_base64(const unsigned char *data, size_t len)
{
    static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t olen = 4 * ((len + 2) / 3);
    char *out = malloc(olen + 1), *o = out;
    if (out == NULL)
        return NULL;
    for (size_t i = 0; i < len; i += 3) {
        unsigned v = (unsigned)data[i] << 16;
        if (i + 1 < len)
            v |= (unsigned)data[i + 1] << 8;
        if (i + 2 < len)
            v |= data[i + 2];
        *o++ = abc[(v >> 18) & 63];
        *o++ = abc[(v >> 12) & 63];
        *o++ = i + 1 < len ? abc[(v >> 6) & 63] : '=';
        *o++ = i + 2 < len ? abc[v & 63] : '=';
    }
    *o = '\0';
    return out;
}

/* The secret in environment variable `var`, checked for header safety. */
static const char *secret_from(const char *(*lookup)(const char *), const char *cred,
                               const char *var, char *err, size_t errcap)
{
    const char *secret = lookup(var);
    if (secret == NULL || *secret == '\0') {
        snprintf(err, errcap, "credential \"%s\": environment variable %s is not set", cred, var);
        return NULL;
    }
    if (!value_ok(secret, strlen(secret)) || strlen(secret) > HTTP_HEADER_VALUE_MAX) {
        snprintf(err, errcap,
                 "credential \"%s\": environment variable %s holds a line break or control "
                 "character",
                 cred, var);
        return NULL;
    }
    return secret;
}

static const char *cred_field(const json_t *cred, const char *key)
{
    return json_string_value(json_object_get(cred, key));
}

int http_auth_header(const json_t *credentials, const char *name,
                     const char *(*lookup)(const char *var), char **header_out, char *err,
                     size_t errcap)
{
    const json_t *cred = json_object_get(credentials, name);
    const char *type = cred_field(cred, "type");
    *header_out = NULL;
    if (cred == NULL || type == NULL) {
        snprintf(err, errcap, "unknown credential \"%s\": add it to http.credentials", name);
        return -1;
    }
    if (strcmp(type, "bearer") == 0) {
        const char *var = cred_field(cred, "token_env");
        if (var == NULL) {
            snprintf(err, errcap, "credential \"%s\": bearer needs token_env", name);
            return -1;
        }
        const char *token = secret_from(lookup, name, var, err, errcap);
        if (token == NULL)
            return -1;
        size_t cap = strlen(token) + 32;
        if ((*header_out = malloc(cap)) == NULL) {
            snprintf(err, errcap, "out of memory");
            return -1;
        }
        snprintf(*header_out, cap, "Authorization: Bearer %s", token);
        return 0;
    }
    if (strcmp(type, "basic") == 0) {
        const char *user = cred_field(cred, "user");
        const char *var = cred_field(cred, "password_env");
        if (user == NULL || var == NULL || strchr(user, ':') != NULL ||
            !value_ok(user, strlen(user))) {
            snprintf(err, errcap, "credential \"%s\": basic needs user (without ':') and password_env",
                     name);
            return -1;
        }
        const char *password = secret_from(lookup, name, var, err, errcap);
        if (password == NULL)
            return -1;
        size_t plen = strlen(user) + 1 + strlen(password);
        char *plain = malloc(plen + 1);
        if (plain == NULL) {
            snprintf(err, errcap, "out of memory");
            return -1;
        }
        snprintf(plain, plen + 1, "%s:%s", user, password);
        char *b64 = http_base64((const unsigned char *)plain, plen);
        http_secret_free(plain);
        if (b64 == NULL) {
            snprintf(err, errcap, "out of memory");
            return -1;
        }
        size_t cap = strlen(b64) + 32;
        if ((*header_out = malloc(cap)) != NULL)
            snprintf(*header_out, cap, "Authorization: Basic %s", b64);
        http_secret_free(b64);
        if (*header_out == NULL) {
            snprintf(err, errcap, "out of memory");
            return -1;
        }
        return 0;
    }
    snprintf(err, errcap, "credential \"%s\": type must be bearer or basic", name);
    return -1;
}
