/* http.h - the parts of drudge-http and how they meet.
 *
 *   addr.c      which destination addresses are refused (pure)
 *   request.c   a job's JSON -> a checked request; credentials (pure)
 *   response.c  what a response means: outcome, Retry-After, redirects,
 *               the result JSON (pure)
 *   resolve.c   resolve a host once and check every address (getaddrinfo)
 *   session.c   the libcurl side: one easy handle per process, one hop
 *   call.c      one job: per-host breaker and rate limit, the redirect
 *               loop, the outcome (the only part that talks to the runtime)
 *   main.c      the worker definition
 *
 * Strings returned by the functions below are owned by the caller unless a
 * comment says borrowed; `_release` frees what a caller-owned struct holds.
 */
#ifndef DRUDGE_HTTP_H
#define DRUDGE_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>

#include <jansson.h>

#include "drudge.h"

#define HTTP_EXPECT_MAX 32       /* ranges in "expect" */
#define HTTP_HEADERS_MAX 64      /* request headers a job may set */
#define HTTP_KEEP_MAX 32         /* extra response headers a job may ask for */
#define HTTP_URL_MAX 8192
#define HTTP_HEADER_NAME_MAX 256
#define HTTP_HEADER_VALUE_MAX 8192
#define HTTP_HOST_NAME_MAX 128   /* longest rate / breaker name (drudge_id_valid) */
#define HTTP_PIN_MAX 512         /* a CURLOPT_RESOLVE entry */
#define HTTP_ERR_MAX 512
#define HTTP_RETRY_AFTER_MAX_MS (24LL * 3600 * 1000) /* a longer Retry-After is cut to this */

/* ------------------------------------------------------------------------
 * addr.c - the address policy. Pure.
 * ---------------------------------------------------------------------- */

/* Why an address may not be called unless http.allow_private_networks is
 * set ("loopback", "private", "link-local", ...), or NULL for a public one.
 * IPv4 addresses carried inside IPv6 (mapped, compatible, NAT64, 6to4,
 * Teredo) are judged by the IPv4 address. `bytes` is 4 (AF_INET) or 16
 * (AF_INET6) bytes in network order. The string is static. */
const char *http_addr_refusal(int family, const unsigned char *bytes);
/* The same for a socket address; an unknown family is refused ("not IP"). */
const char *http_sockaddr_refusal(const struct sockaddr *sa, socklen_t len);

/* ------------------------------------------------------------------------
 * request.c - a job's JSON -> a checked request. Pure.
 * ---------------------------------------------------------------------- */

typedef enum {
    HTTP_GET = 0,
    HTTP_POST,
    HTTP_PUT,
    HTTP_PATCH,
    HTTP_DELETE,
    HTTP_HEAD,
} http_method;

const char *http_method_name(http_method m);
/* 1 if a request with this method may carry a body. */
int http_method_has_body(http_method m);

/* A checked http(s) URL. */
typedef struct http_url {
    char *url;        /* normalized, as sent, without the fragment (owned) */
    char *host;       /* lowercase, IPv6 literals without brackets (owned) */
    int port;         /* explicit or the scheme's */
    int https;
    char *display;    /* scheme://host[:port]/path, no query: for messages (owned) */
} http_url;

/* Parse and check `text`: http or https only, an ASCII host (international
 * names as punycode), no user or password (secrets come from
 * http.credentials), at most HTTP_URL_MAX bytes. A relative `text` is
 * resolved against `base` (NULL: text must be absolute).
 * 0, or -1 with the reason in err. */
int http_url_parse(const char *text, const http_url *base, http_url *out, char *err,
                   size_t errcap);
void http_url_release(http_url *u);
/* A copy of src into dst; 0 or -1 (out of memory). */
int http_url_copy(http_url *dst, const http_url *src);
/* 1 if a and b share scheme, host and port (credentials may go to both). */
int http_url_same_origin(const http_url *a, const http_url *b);
/* The name the per-host rate limit and breaker are kept under: the host
 * when it is a valid drudge name, else "host-" and a hash of it. */
void http_url_limit_name(const http_url *u, char out[HTTP_HOST_NAME_MAX + 1]);

typedef struct http_range {
    int lo, hi; /* inclusive */
} http_range;

typedef struct http_request {
    http_method method;
    http_url url;
    char **headers;          /* "Name: value" lines as sent (owned) */
    size_t nheaders;
    int has_content_type;
    int has_user_agent;
    char *body;              /* NULL: no body (owned) */
    size_t body_len;
    int body_is_json;        /* a JSON value: sent as application/json */
    double timeout_s;        /* 0: http.timeout */
    http_range expect[HTTP_EXPECT_MAX];
    size_t nexpect;
    int save_response;       /* keep the body in the result (default 1) */
    int follow_redirects;    /* default 1 */
    char *auth;              /* name in http.credentials, or NULL (owned) */
    char *keep[HTTP_KEEP_MAX]; /* extra response headers to keep, lowercase (owned) */
    size_t nkeep;
} http_request;

/* Check job `job` (a JSON object) and fill out. 0, or -1 with the reason
 * in err (the job fails: bad input is permanent). */
int http_request_parse(const json_t *job, http_request *out, char *err, size_t errcap);
void http_request_release(http_request *r);
/* 1 if `status` is one the job expects. */
int http_request_expects(const http_request *r, int status);

/* Look the credential `name` up in http.credentials (the config's JSON
 * object) and build the Authorization header line from the secret that
 * `lookup` (getenv in production) returns for its environment variable.
 * 0 with *header_out set (caller frees, after wiping it with
 * http_secret_free()), or -1 with the reason in err - which never holds
 * the secret. */
int http_auth_header(const json_t *credentials, const char *name,
                     const char *(*lookup)(const char *var), char **header_out, char *err,
                     size_t errcap);
/* Wipe and free a string that held a secret; accepts NULL. */
void http_secret_free(char *s);
/* data as base64 (RFC 4648, padded); NULL when out of memory. */
char *http_base64(const unsigned char *data, size_t len);

/* ------------------------------------------------------------------------
 * response.c - what a response means. Pure.
 * ---------------------------------------------------------------------- */

typedef struct http_response {
    int status;              /* 0 until a status line came */
    json_t *headers;         /* kept headers: lowercase name -> value */
    char *location;          /* Location, or NULL (owned) */
    char *retry_after;       /* Retry-After, or NULL (owned) */
    char *body;              /* at most the limit; NUL-terminated (owned) */
    size_t body_len;
    size_t body_cap;
    int truncated;           /* the body went past the limit: reading stopped */
} http_response;

void http_response_init(http_response *r);
void http_response_release(http_response *r);
/* Forget what a previous (interim) response left: a new status line came. */
void http_response_clear(http_response *r);
/* 1 if the response header `name` (any case, len bytes) is kept in the
 * result: a fixed selection plus the job's "response_headers". */
int http_header_kept(const http_request *req, const char *name, size_t len);

/* Retry-After as ms from `now`: delta-seconds or an HTTP-date (IMF-fixdate,
 * RFC 850 or asctime). -1 if unparseable; 0 for a date in the past; at
 * most HTTP_RETRY_AFTER_MAX_MS. */
int64_t http_retry_after_ms(const char *value, time_t now);

/* What a final status means for the job. */
typedef struct http_verdict {
    drudge_outcome outcome;
    int honour_retry_after; /* 429, 503: the server says when */
} http_verdict;

http_verdict http_status_verdict(const http_request *req, int status);
/* 1 if `status` is a redirect drudge follows (301, 302, 303, 307, 308). */
int http_status_is_redirect(int status);
/* The method after a redirect: 303 turns anything but HEAD into GET, 301
 * and 302 turn POST into GET (what browsers and curl do); 307 and 308
 * keep it. *drop_body is set when the body is not sent again. */
http_method http_redirect_method(http_method m, int status, int *drop_body);

/* The job's result: {"status", "headers", "body" (or "body_base64" when it
 * is not UTF-8; absent when save_response is false), "truncated", "ms",
 * and "url" and "redirects" after redirects}. Returns JSON text or NULL. */
char *http_result_json(const http_request *req, const http_response *resp, const http_url *final,
                       int redirects, int64_t ms);
/* One line for errors: "HTTP 404 from GET https://host/path: <body start>". */
void http_status_error(char *out, size_t cap, http_method m, const http_url *u,
                       const http_response *resp);

/* ------------------------------------------------------------------------
 * resolve.c - resolve once, check every address.
 * ---------------------------------------------------------------------- */

typedef enum {
    HTTP_RESOLVED = 0,
    HTTP_RESOLVE_FAILED,  /* DNS said no (or could not answer): the host is down for us */
    HTTP_RESOLVE_REFUSED, /* an address the policy refuses */
    HTTP_RESOLVE_ERROR,   /* local trouble (memory, ...): retry */
} http_resolve_result;

/* Resolve u's host; unless allow_private, every address must pass
 * http_addr_refusal(). On success writes the CURLOPT_RESOLVE entry
 * ("+host:port:addr[,addr...]", or "" for an IP literal) into pin. */
http_resolve_result http_resolve(const http_url *u, int allow_private, char *pin, size_t pincap,
                                 char *err, size_t errcap);

/* ------------------------------------------------------------------------
 * session.c - libcurl: one easy handle kept for the process.
 * ---------------------------------------------------------------------- */

typedef struct http_session http_session;

/* NULL if libcurl cannot start. */
http_session *http_session_new(void);
void http_session_free(http_session *s);

typedef enum {
    HTTP_T_OK = 0,     /* a response (possibly truncated at the size limit) */
    HTTP_T_HOST_DOWN,  /* connection refused / unreachable: the host's breaker */
    HTTP_T_TIMEOUT,    /* retry with backoff */
    HTTP_T_RETRY,      /* reset, TLS hiccup, ...: retry with backoff */
    HTTP_T_FAIL,       /* permanent (certificate, ...) */
    HTTP_T_REFUSED,    /* the socket callback refused the address */
    HTTP_T_STOPPED,    /* hop->stop asked to end it (a cancel) */
} http_transport;

/* One hop: everything borrowed for the call. */
typedef struct http_hop {
    http_method method;
    const http_url *url;
    const char *pin;            /* CURLOPT_RESOLVE entry or "" */
    const http_request *req;    /* headers, body, kept headers */
    int send_body;
    const char *auth_header;    /* "Authorization: ..." or NULL */
    int64_t timeout_ms;
    size_t max_body;
    int allow_private;
    int (*stop)(void *arg);     /* polled during the transfer; 1 aborts it */
    void *stop_arg;
} http_hop;

/* Perform one hop without following redirects; the response goes into
 * resp (initialised by the caller). The reason of a failure is in err. */
http_transport http_session_perform(http_session *s, const http_hop *hop, http_response *resp,
                                    char *err, size_t errcap);

/* ------------------------------------------------------------------------
 * call.c - one job.
 * ---------------------------------------------------------------------- */

#define HTTP_TROUBLED_MAX 16

typedef struct http_worker {
    const drudge_config *cfg; /* borrowed for the process's life */
    json_t *host_rates;       /* http.hosts: host -> per second */
    json_t *credentials;      /* http.credentials */
    http_session *session;    /* made at the first job (libcurl costs memory) */
    /* limit names of hosts this process saw down: a success there closes
     * the host's breaker */
    char troubled[HTTP_TROUBLED_MAX][HTTP_HOST_NAME_MAX + 1];
    size_t ntroubled;
} http_worker;

int http_worker_init(http_worker *w, const drudge_config *cfg, char *err, size_t errcap);
void http_worker_release(http_worker *w);
drudge_outcome http_call(drudge_ctx *ctx, const drudge_job *job, http_worker *w);

#endif
