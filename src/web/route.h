/* route.h - the dashboard's routes are a const table (api.c, pages.c): a
 * row per route and a function each. This is the matcher: a pattern such
 * as "/api/jobs/{class}/{id}/events" against a request path, with each
 * {param} checked by its kind, so a handler only ever sees a valid class
 * name, job id or file name. Pure (tests/unit/test_web_route.c). */
#ifndef DRUDGE_WEB_ROUTE_H
#define DRUDGE_WEB_ROUTE_H

#include <stddef.h>

#include "http.h"

typedef struct web_request web_request;
/* A route's function: queues a response, returns 0, or -1 when it could
 * not (the server then answers 500). */
typedef int (*web_handler_fn)(web_request *req);

enum { WEB_GET = 1u << 0, WEB_POST = 1u << 1 };

/* Route flags: how the server guards the route before calling it. */
enum {
    WEB_MUTATES = 1u << 0, /* changes state: bearer token and same origin required */
    WEB_DATA = 1u << 1,    /* reads queue data: token required with --require-token-for-reads */
    WEB_API = 1u << 2,     /* answers JSON (errors too); otherwise HTML */
};

/* Parameters in a pattern:
 *   {class}  a class name (drudge_class_valid)
 *   {id}     a job id (drudge_id_valid)
 *   {file}   one file name segment: [A-Za-z0-9_.-], not starting with '.'
 *   {path*}  the rest of the path, a relative path (web_rel_path_valid);
 *            only last */
typedef struct web_route {
    unsigned methods; /* WEB_GET | WEB_POST; HEAD is served as GET */
    const char *pattern;
    web_handler_fn handler;
    unsigned flags;
    size_t max_body; /* request body limit in bytes (0: none accepted) */
} web_route;

#define WEB_PARAMS_MAX 3
#define WEB_ROUTE_ERR_MAX 200

typedef struct web_match {
    const web_route *route;                       /* the row, when OK */
    const char *name[WEB_PARAMS_MAX];             /* "class", "id", ... (borrowed from the table) */
    char value[WEB_PARAMS_MAX][WEB_PATH_MAX + 1]; /* the values */
    size_t nparams;
    unsigned allowed;              /* methods the path allows (BAD_METHOD) */
    char error[WEB_ROUTE_ERR_MAX]; /* why a parameter is bad (BAD_PARAM) */
} web_match;

typedef enum {
    WEB_ROUTE_OK = 0,
    WEB_ROUTE_NOT_FOUND,  /* 404 */
    WEB_ROUTE_BAD_METHOD, /* 405: the path exists for other methods */
    WEB_ROUTE_BAD_PARAM,  /* 400: the path has a route's shape, a parameter is invalid */
} web_route_result;

/* Match path (already percent-decoded, without the query) and method
 * (one WEB_* bit) against the table (ended by a row with a NULL pattern).
 * Fills m; on OK m->route is the row. */
web_route_result web_route_match(const web_route *table, unsigned method, const char *path,
                                 web_match *m);
/* The value of parameter `name`, or NULL (borrowed from m). */
const char *web_match_param(const web_match *m, const char *name);

#endif
