/* server.c - `drudge web`'s HTTP server on libmicrohttpd.
 *
 * One thread per connection (MHD_USE_THREAD_PER_CONNECTION with poll()):
 * a Server-Sent-Events stream blocks in its own thread on the job's status
 * channel, and a slow client holds one thread, never the server. Limits
 * keep that bounded: total and per-address connection caps, an idle
 * timeout (a slowloris client that stops sending is dropped), a cap on
 * header memory, and a body limit per route checked against
 * Content-Length before anything is read and again while reading.
 *
 * Every request passes the same guards before its route function runs
 * (guard()): method, Host (a loopback listener answers only to loopback
 * names, against DNS rebinding), the route table, then for state-changing
 * routes a same-origin check and the bearer token (no cookies are ever
 * used, so a foreign page cannot borrow a session). Requests share a small
 * pool of Redis clients. The server keeps no data of its own: the
 * throughput plot comes from the per-minute counters the workers keep in
 * Redis (api.c, series.c), so it is whole the moment the server starts. */
#include "web_internal.h"

#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>

#define WEB_HEADER_MEMORY (64 * 1024) /* request line + headers per connection */
#define WEB_THREAD_STACK (1024 * 1024)

/* ---- time ---- */

int64_t web_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t web_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- the Redis client pool ---- */

drudge_client *web_client_take(web_server *srv, char *err, size_t errcap)
{
    pthread_mutex_lock(&srv->pool_lock);
    while (srv->nidle == 0 && srv->nclients >= WEB_POOL_MAX)
        pthread_cond_wait(&srv->pool_free, &srv->pool_lock);
    if (srv->nidle > 0) {
        drudge_client *c = srv->idle[--srv->nidle];
        pthread_mutex_unlock(&srv->pool_lock);
        return c;
    }
    srv->nclients++;
    pthread_mutex_unlock(&srv->pool_lock);
    drudge_client *c = drudge_client_new(srv->cfg, err, errcap);
    if (c == NULL) {
        pthread_mutex_lock(&srv->pool_lock);
        srv->nclients--;
        pthread_cond_signal(&srv->pool_free);
        pthread_mutex_unlock(&srv->pool_lock);
    }
    return c;
}

void web_client_give(web_server *srv, drudge_client *c)
{
    if (c == NULL)
        return;
    pthread_mutex_lock(&srv->pool_lock);
    srv->idle[srv->nidle++] = c;
    pthread_cond_signal(&srv->pool_free);
    pthread_mutex_unlock(&srv->pool_lock);
}

static void pool_release(web_server *srv)
{
    for (size_t i = 0; i < srv->nidle; i++)
        drudge_client_free(srv->idle[i]);
    srv->nidle = srv->nclients = 0;
}

/* ---- replies ---- */

static const char csp[] = "default-src 'none'; script-src 'self'; style-src 'self'; "
                          "img-src 'self' data:; connect-src 'self'; base-uri 'none'; "
                          "form-action 'self'; frame-ancestors 'none'";

int web_reply_response(web_request *req, unsigned status, struct MHD_Response *resp)
{
    if (resp == NULL)
        return -1;
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(resp, "X-Frame-Options", "DENY");
    MHD_add_response_header(resp, "Cross-Origin-Resource-Policy", "same-origin");
    MHD_add_response_header(resp, "Cross-Origin-Opener-Policy", "same-origin");
    if (MHD_get_response_header(resp, "Content-Security-Policy") == NULL)
        MHD_add_response_header(resp, "Content-Security-Policy", csp);
    if (MHD_get_response_header(resp, "Cache-Control") == NULL)
        MHD_add_response_header(resp, "Cache-Control", "no-store");
    enum MHD_Result rc = MHD_queue_response(req->conn, status, resp);
    MHD_destroy_response(resp);
    req->answered = 1;
    req->status = status;
    return rc == MHD_YES ? 0 : -1;
}

int web_reply(web_request *req, unsigned status, const char *type, const void *data, size_t len)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(len, (void *)data, MHD_RESPMEM_MUST_COPY);
    if (resp == NULL)
        return -1;
    MHD_add_response_header(resp, "Content-Type", type);
    return web_reply_response(req, status, resp);
}

int web_reply_json(web_request *req, unsigned status, json_t *v)
{
    char *text = v ? json_dumps(v, JSON_COMPACT) : NULL;
    json_decref(v);
    if (text == NULL)
        return web_reply(req, 500, "application/json", "{\"error\":\"out of memory\"}", 25);
    size_t len = strlen(text);
    struct MHD_Response *resp = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
    if (resp == NULL) {
        free(text);
        return -1;
    }
    MHD_add_response_header(resp, "Content-Type", "application/json");
    return web_reply_response(req, status, resp);
}

static int is_api(const web_request *req)
{
    if (req->match.route)
        return (req->match.route->flags & WEB_API) != 0;
    return strncmp(req->url, "/api/", 5) == 0 || strcmp(req->url, "/api") == 0;
}

static const char *status_text(unsigned status)
{
    switch (status) {
    case 400: return "Bad request";
    case 401: return "Token required";
    case 403: return "Forbidden";
    case 404: return "Not found";
    case 405: return "Method not allowed";
    case 413: return "Too large";
    case 415: return "Unsupported media type";
    case 421: return "Misdirected request";
    case 503: return "Redis unavailable";
    default: return status >= 500 ? "Server error" : "Error";
    }
}

int web_reply_error(web_request *req, unsigned status, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (status >= 500)
        drudge_log(DRUDGE_LOG_WARN, "http_error", "path=%s status=%u error=%s", req->url, status,
                   msg);
    if (is_api(req))
        return web_reply_json(req, status, json_pack("{s:s, s:i}", "error", msg, "status", status));
    strbuf page;
    strbuf_init(&page, 0);
    strbuf_addf(&page,
                 "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                 "<title>%u %s · drudge</title>"
                 "<link rel=\"stylesheet\" href=\"/static/style.css\"></head>\n"
                 "<body class=\"error-page\"><main><h1>%u %s</h1><p class=\"error-text\">",
                 status, status_text(status), status, status_text(status));
    web_html_escape(&page, msg);
    strbuf_adds(&page, "</p><p><a href=\"/\">Back to the overview</a></p></main></body></html>\n");
    int rc =
        page.failed ? -1 : web_reply(req, status, "text/html; charset=utf-8", page.data, page.len);
    strbuf_release(&page);
    return rc;
}

const char *web_query(web_request *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *web_header(web_request *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

/* ---- the guards every request passes ---- */

static size_t body_limit(const web_request *req)
{
    size_t limit = req->match.route->max_body;
    return limit == WEB_BODY_PAYLOAD ? req->srv->cfg->max_payload_bytes : limit;
}

/* Content types a browser may POST across origins without asking first:
 * refused on state-changing routes, so a form on another site cannot
 * even reach the token check with a "simple" request. */
static int simple_form_type(const char *type)
{
    static const char *const simple[] = {"application/x-www-form-urlencoded", "multipart/form-data",
                                         "text/plain"};
    if (type == NULL)
        return 0;
    for (size_t i = 0; i < sizeof simple / sizeof simple[0]; i++)
        if (strncasecmp(type, simple[i], strlen(simple[i])) == 0)
            return 1;
    return 0;
}

static int reply_unauthorized(web_request *req)
{
    struct MHD_Response *resp;
    const char *msg = "{\"error\":\"this needs the dashboard token: send Authorization: Bearer "
                      "<token>\",\"status\":401}";
    resp = MHD_create_response_from_buffer(strlen(msg), (void *)msg, MHD_RESPMEM_PERSISTENT);
    if (resp == NULL)
        return -1;
    MHD_add_response_header(resp, "Content-Type", "application/json");
    MHD_add_response_header(resp, "WWW-Authenticate", "Bearer realm=\"drudge\"");
    return web_reply_response(req, 401, resp);
}

/* Run on the first call for a request (headers read, body not yet).
 * Queues an error response when the request is refused. 0, or -1 when
 * even that failed. */
static int guard(web_request *req)
{
    web_server *srv = req->srv;
    if (strcmp(req->method_name, "GET") == 0 || strcmp(req->method_name, "HEAD") == 0) {
        req->method = WEB_GET;
        req->head = req->method_name[0] == 'H';
    } else if (strcmp(req->method_name, "POST") == 0) {
        req->method = WEB_POST;
    } else {
        return web_reply_error(req, 405, "method %.16s is not supported", req->method_name);
    }
    if (!web_host_header_ok(web_header(req, "Host"), srv->loopback_only))
        return web_reply_error(req, 421, "this server answers to loopback names only");
    switch (web_route_match(srv->routes, req->method, req->url, &req->match)) {
    case WEB_ROUTE_OK: break;
    case WEB_ROUTE_NOT_FOUND: return web_reply_error(req, 404, "no page at \"%.200s\"", req->url);
    case WEB_ROUTE_BAD_METHOD:
        return web_reply_error(req, 405, "use %s for \"%.200s\"",
                               req->match.allowed & WEB_POST ? "POST" : "GET", req->url);
    case WEB_ROUTE_BAD_PARAM: return web_reply_error(req, 400, "%s", req->match.error);
    }
    unsigned flags = req->match.route->flags;
    if (flags & WEB_MUTATES) {
        if (!web_origin_ok(web_header(req, "Origin"), web_header(req, "Host"),
                           web_header(req, "Sec-Fetch-Site")))
            return web_reply_error(req, 403, "cross-origin request refused");
        if (simple_form_type(web_header(req, "Content-Type")))
            return web_reply_error(req, 415, "send JSON (Content-Type: application/json)");
    }
    if (((flags & WEB_MUTATES) || ((flags & WEB_DATA) && srv->require_token_for_reads)) &&
        !web_bearer_ok(web_header(req, "Authorization"), srv->token))
        return reply_unauthorized(req);
    const char *length = web_header(req, "Content-Length");
    long declared;
    if (length != NULL &&
        (web_parse_long(length, 0, LONG_MAX, &declared) < 0 || (size_t)declared > body_limit(req)))
        return web_reply_error(req, 413, "request body larger than %zu bytes", body_limit(req));
    return 0;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    (void)version;
    web_request *req = *con_cls;
    if (req == NULL) {
        if ((req = calloc(1, sizeof *req)) == NULL)
            return MHD_NO;
        *con_cls = req;
        req->srv = cls;
        req->conn = conn;
        req->url = url;
        req->method_name = method;
        req->started_mono_ms = web_mono_ms();
        strbuf_init(&req->body, 0);
        return guard(req) == 0 ? MHD_YES : MHD_NO;
    }
    if (req->answered) { /* refused early: drop whatever body follows */
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (!req->body_too_large &&
            (req->body.len + n > body_limit(req) || strbuf_add(&req->body, upload_data, n) < 0)) {
            req->body_too_large = 1;
            strbuf_release(&req->body);
        }
        return MHD_YES;
    }
    int rc;
    if (req->body_too_large)
        rc = web_reply_error(req, 413, "request body larger than %zu bytes", body_limit(req));
    else if ((rc = req->match.route->handler(req)) < 0 && !req->answered)
        rc = web_reply_error(req, 500, "internal error");
    return rc == 0 ? MHD_YES : MHD_NO;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode why)
{
    (void)cls;
    (void)conn;
    web_request *req = *con_cls;
    if (req == NULL)
        return;
    drudge_log(DRUDGE_LOG_DEBUG, "http", "method=%s path=%s status=%u ms=%lld ended=%s",
               req->method_name, req->url, req->status,
               (long long)(web_mono_ms() - req->started_mono_ms),
               why == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "ok" : "early");
    strbuf_release(&req->body);
    free(req);
    *con_cls = NULL;
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t len = strlen(msg);
    while (len > 0 && (msg[len - 1] == '\n' || msg[len - 1] == ' '))
        msg[--len] = '\0';
    drudge_log(DRUDGE_LOG_DEBUG, "httpd", "msg=%s", msg);
}

/* ---- start and stop ---- */

/* Room for connections: each SSE stream holds its socket and a Redis one. */
static unsigned fit_connection_limit(unsigned wanted)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return wanted;
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
        getrlimit(RLIMIT_NOFILE, &rl);
    }
    rlim_t room =
        rl.rlim_cur > 64 + 2 * WEB_POOL_MAX ? (rl.rlim_cur - 64 - 2 * WEB_POOL_MAX) / 2 : 1;
    return room < wanted ? (unsigned)room : wanted;
}

static int resolve(const char *host, int port, struct sockaddr_storage *out, socklen_t *len,
                   char *err, size_t errcap)
{
    struct addrinfo hints, *res = NULL;
    char service[16];
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    snprintf(service, sizeof service, "%d", port);
    int rc = getaddrinfo(host, service, &hints, &res);
    if (rc != 0 || res == NULL) {
        snprintf(err, errcap, "cannot resolve \"%s\": %s", host, gai_strerror(rc));
        return -1;
    }
    memcpy(out, res->ai_addr, res->ai_addrlen);
    *len = res->ai_addrlen;
    freeaddrinfo(res);
    return 0;
}

int web_server_run(const drudge_config *cfg, const web_options *opts)
{
    char host[WEB_HOST_MAX], err[DRUDGE_ERRSTR_MAX];
    int port;
    if (web_listen_parse(opts->listen, host, sizeof host, &port, err, sizeof err) < 0) {
        fprintf(stderr, "drudge web: invalid listen address \"%s\": %s\n", opts->listen, err);
        return 2;
    }
    struct sockaddr_storage addr;
    socklen_t addrlen;
    if (resolve(host, port, &addr, &addrlen, err, sizeof err) < 0) {
        fprintf(stderr, "drudge web: %s\n", err);
        return 2;
    }
    web_server srv; /* every thread that sees it is joined before we return */
    memset(&srv, 0, sizeof srv);
    srv.cfg = cfg;
    snprintf(srv.token, sizeof srv.token, "%s", opts->token);
    srv.require_token_for_reads = opts->require_token_for_reads;
    srv.loopback_only = web_host_is_loopback(host);
    srv.routes = web_routes;
    srv.sse_keepalive_ms = (int)(opts->timeout_s * 1000 / 2);
    if (srv.sse_keepalive_ms > 10000)
        srv.sse_keepalive_ms = 10000;
    srv.started_ms = web_now_ms();
    pthread_mutex_init(&srv.pool_lock, NULL);
    pthread_cond_init(&srv.pool_free, NULL);

    /* Signals are taken by sigwait() below; every thread inherits the mask. */
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGHUP);
    sigaddset(&stop_signals, SIGQUIT);
    pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
    signal(SIGPIPE, SIG_IGN);

    unsigned limit = fit_connection_limit(opts->connection_limit);
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
                     MHD_USE_POLL | MHD_USE_ERROR_LOG;
    if (addr.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    srv.daemon = MHD_start_daemon(
        flags, (uint16_t)port, NULL, NULL, on_request, &srv, MHD_OPTION_SOCK_ADDR,
        (struct sockaddr *)&addr, MHD_OPTION_CONNECTION_LIMIT, limit,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, opts->per_ip_limit, MHD_OPTION_CONNECTION_TIMEOUT,
        opts->timeout_s, MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)WEB_HEADER_MEMORY,
        MHD_OPTION_THREAD_STACK_SIZE, (size_t)WEB_THREAD_STACK, MHD_OPTION_NOTIFY_COMPLETED,
        on_completed, &srv, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, &srv,
        MHD_OPTION_LISTENING_ADDRESS_REUSE, 1u, MHD_OPTION_END);
    int rc = 1;
    if (srv.daemon == NULL) {
        fprintf(stderr, "drudge web: cannot listen on %s: %s\n", opts->listen,
                errno ? strerror(errno) : "libmicrohttpd refused to start");
        goto out;
    }
    drudge_log(DRUDGE_LOG_INFO, "listening",
               "listen=%s connections=%u per_ip=%u timeout_s=%u reads_need_token=%d", opts->listen,
               limit, opts->per_ip_limit, opts->timeout_s, srv.require_token_for_reads);

    int sig = 0;
    while (sigwait(&stop_signals, &sig) != 0) {
    }
    drudge_log(DRUDGE_LOG_INFO, "stopping", "signal=%d", sig);
    rc = 0;
out:
    atomic_store(&srv.stopping, 1); /* SSE streams see it within WAIT_MS */
    if (srv.daemon)
        MHD_stop_daemon(srv.daemon); /* joins the connection threads */
    pool_release(&srv);
    pthread_mutex_destroy(&srv.pool_lock);
    pthread_cond_destroy(&srv.pool_free);
    return rc;
}
