/* web_internal.h - what the files of `drudge web` share: the server (its
 * Redis client pool, its guards), one request, the helpers that answer it,
 * and the route functions named in routes.c.
 *
 * Files: server.c (libmicrohttpd set-up, guards, dispatch, replies, the
 * client pool), routes.c (the route table), api.c (JSON API),
 * sse.c (a job's status as Server-Sent Events), pages.c (the HTML shell,
 * embedded assets, finished outputs), demo.c (the demo's jobs and upload),
 * metrics.c / capacity.c / series.c / route.c / http.c / buf.c (pure),
 * command.c (`drudge web` and `drudge capacity`). */
#ifndef DRUDGE_WEB_INTERNAL_H
#define DRUDGE_WEB_INTERNAL_H

#include "drudge.h"

#include "strbuf.h"
#include "http.h"
#include "route.h"
#include "series.h"

#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#define WEB_POOL_MAX 8         /* Redis connections shared by requests */
#define WEB_API_BODY_MAX 65536 /* request bodies of the control routes */
#define WEB_UPLOAD_MAX (10u * 1024 * 1024)
#define WEB_DEMO_CLASS "ImageJob"
/* max_body of a route that takes a job payload: the config's
 * worker.max_payload_bytes */
#define WEB_BODY_PAYLOAD ((size_t)-1)

typedef struct web_options {
    const char *listen;          /* "127.0.0.1:8080" */
    const char *token;           /* bearer token for mutations (copied) */
    int require_token_for_reads; /* API reads and /metrics need the token too */
    unsigned timeout_s;          /* idle connection timeout */
    unsigned connection_limit;   /* open connections at most */
    unsigned per_ip_limit;       /* from one address at most */
} web_options;

typedef struct web_server {
    const drudge_config *cfg; /* borrowed */
    char token[WEB_TOKEN_MAX + 1];
    int require_token_for_reads;
    int loopback_only; /* listening on loopback: Host must say so */
    int sse_keepalive_ms;
    const web_route *routes;

    pthread_mutex_t pool_lock;
    pthread_cond_t pool_free;
    drudge_client *idle[WEB_POOL_MAX];
    size_t nidle, nclients;

    atomic_int stopping; /* set once at shutdown; SSE streams poll it */
    struct MHD_Daemon *daemon;
    int64_t started_ms;
} web_server;

struct web_request {
    web_server *srv;
    struct MHD_Connection *conn;
    const char *url; /* the decoded path (borrowed from MHD) */
    const char *method_name;
    unsigned method; /* WEB_GET or WEB_POST */
    int head;        /* a HEAD request, served as GET */
    web_match match;
    strbuf body;
    int body_too_large;
    int answered; /* a response was queued */
    unsigned status;
    int64_t started_mono_ms;
};

/* ---- server.c ---- */
extern const web_route web_routes[]; /* routes.c */

/* Run the server until SIGINT / SIGTERM. cfg is borrowed. Returns the
 * process exit status (0, 1 failure, 2 bad options), after printing why. */
int web_server_run(const drudge_config *cfg, const web_options *opts);

/* A Redis client from the pool (blocks while all are busy); NULL when
 * connecting failed (reason in err). Give it back with web_client_give(). */
drudge_client *web_client_take(web_server *srv, char *err, size_t errcap);
void web_client_give(web_server *srv, drudge_client *c);

int64_t web_now_ms(void);  /* unix ms */
int64_t web_mono_ms(void); /* monotonic ms */

/* Replies. Each queues the response and returns 0, or -1 when it could not. */
/* Bytes with a content type; copied. */
int web_reply(web_request *req, unsigned status, const char *type, const void *data, size_t len);
/* A JSON value (stolen; NULL is answered 500 "out of memory"). */
int web_reply_json(web_request *req, unsigned status, json_t *v);
/* An error: {"error": message} on API routes, an HTML page (escaped)
 * elsewhere. */
int web_reply_error(web_request *req, unsigned status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A ready response (consumed): adds the common headers and queues it. */
int web_reply_response(web_request *req, unsigned status, struct MHD_Response *resp);
/* A query argument, or NULL (borrowed for the request). */
const char *web_query(web_request *req, const char *name);
/* A request header, or NULL. */
const char *web_header(web_request *req, const char *name);

/* ---- route functions (api.c, sse.c, pages.c, demo.c) ---- */
int web_api_info(web_request *req);
int web_api_stats(web_request *req);
int web_api_workers(web_request *req);
int web_api_capacity(web_request *req);
int web_api_cron(web_request *req);
int web_api_minutes(web_request *req);
int web_api_failed_list(web_request *req);
int web_api_delayed_list(web_request *req);
int web_api_failed_retry(web_request *req);
int web_api_failed_retry_all(web_request *req);
int web_api_failed_delete(web_request *req);
int web_api_failed_delete_all(web_request *req);
int web_api_pause(web_request *req);
int web_api_resume(web_request *req);
int web_api_job_push(web_request *req);
int web_api_job_get(web_request *req);
int web_api_job_cancel(web_request *req);
int web_api_job_events(web_request *req); /* sse.c */
int web_metrics(web_request *req);
int web_page(web_request *req); /* pages.c */
int web_static(web_request *req);
int web_output(web_request *req);
int web_demo_text_gif(web_request *req); /* demo.c */
int web_demo_upload(web_request *req);

/* ---- assets (assets.c over the generated table) ---- */
typedef struct web_asset {
    const char *name;
    const unsigned char *data;
    size_t len;
} web_asset;
/* The embedded file `name` (web/<name>), or NULL. */
const web_asset *web_asset_find(const char *name);
/* Its ETag, quoted (a CRC of the content). */
const char *web_asset_etag(const web_asset *a);

#endif
