/* call.c - one drudge-http job, from payload to outcome.
 *
 * For each hop (the request, then every redirect it is told to follow):
 * the destination host's breaker is checked and a token taken from its rate
 * limit - both shared by every worker of the class through the runtime -
 * then the host is resolved and checked (resolve.c), and the request made
 * (session.c). A host that is down (no DNS answer, connection refused)
 * trips its breaker, and the job - like every other job for that host while
 * the breaker is open - is deferred by the cool-down without spending an
 * attempt: one dead API does not pause the class. A rate limit that asks
 * for more than a second's wait defers the job the same way rather than
 * holding the worker. What a status means is response.c's call. */
#include "http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RATE_SLEEP_MAX_MS 1000   /* a longer wait for a token defers the job */
#define RATE_SLEEP_TOTAL_MS 3000 /* nor does one job wait longer than this in all */
#define DEADLINE_MARGIN_MS 250   /* the job ends itself before the class timeout */
#define BREAKER_FALLBACK_MS 5000 /* when Redis could not say the cool-down */

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int64_t ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

static const char *env_lookup(const char *var)
{
    return getenv(var);
}

/* ---- the worker's state ---- */

static json_t *load_object(const char *text, const char *key, char *err, size_t errcap)
{
    json_error_t je;
    json_t *o = json_loads(text ? text : "{}", 0, &je);
    if (!json_is_object(o)) {
        snprintf(err, errcap, "%s: not a JSON object", key);
        json_decref(o);
        return NULL;
    }
    return o;
}

int http_worker_init(http_worker *w, const drudge_config *cfg, char *err, size_t errcap)
{
    memset(w, 0, sizeof *w);
    w->cfg = cfg;
    if ((w->host_rates = load_object(cfg->http_hosts, "http.hosts", err, errcap)) == NULL ||
        (w->credentials = load_object(cfg->http_credentials, "http.credentials", err, errcap)) ==
            NULL) {
        http_worker_release(w);
        return -1;
    }
    /* A credential whose variable is missing fails its jobs; say so now. */
    const char *name;
    json_t *cred;
    json_object_foreach(w->credentials, name, cred) {
        const char *var = json_string_value(json_object_get(cred, "token_env"));
        if (var == NULL)
            var = json_string_value(json_object_get(cred, "password_env"));
        if (var != NULL && (getenv(var) == NULL || *getenv(var) == '\0'))
            drudge_log(DRUDGE_LOG_WARN, "credential_unset", "credential=%s env=%s", name, var);
    }
    return 0;
}

void http_worker_release(http_worker *w)
{
    json_decref(w->host_rates);
    json_decref(w->credentials);
    http_session_free(w->session);
    memset(w, 0, sizeof *w);
}

/* Hosts this process saw in trouble: a success there closes the breaker
 * (a success elsewhere needs no Redis call). */
static void mark_troubled(http_worker *w, const char *name)
{
    for (size_t i = 0; i < w->ntroubled; i++)
        if (strcmp(w->troubled[i], name) == 0)
            return;
    size_t slot = w->ntroubled < HTTP_TROUBLED_MAX ? w->ntroubled++
                                                   : (size_t)(mono_ms() % HTTP_TROUBLED_MAX);
    snprintf(w->troubled[slot], sizeof w->troubled[slot], "%s", name);
}

static void mark_healthy(drudge_ctx *ctx, http_worker *w, const char *name)
{
    for (size_t i = 0; i < w->ntroubled; i++)
        if (strcmp(w->troubled[i], name) == 0) {
            drudge_ctx_breaker_reset(ctx, name);
            memmove(w->troubled[i], w->troubled[--w->ntroubled], sizeof w->troubled[i]);
            return;
        }
}

/* ---- one job ---- */

typedef struct call {
    drudge_ctx *ctx;
    http_worker *w;
    http_request req;
    char *auth_header;   /* "Authorization: ..." (a secret: wiped) */
    http_url url;        /* this hop's target */
    http_method method;  /* this hop's method */
    int send_body;
    int redirects;
    int64_t started;     /* mono ms */
    int64_t deadline;    /* mono ms */
    char limit_name[HTTP_HOST_NAME_MAX + 1];
    char err[HTTP_ERR_MAX];
    http_response resp;
} call;

static double host_rate(const http_worker *w, const char *host)
{
    const json_t *v = json_object_get(w->host_rates, host);
    return json_is_number(v) ? json_number_value(v) : w->cfg->http_host_rate;
}

/* The host is down for us: open its breaker and defer the job by the
 * cool-down (the attempt is not spent, the class not paused). */
static drudge_outcome host_down(call *c, const char *why)
{
    int64_t cool = drudge_ctx_breaker_trip(c->ctx, c->limit_name, why);
    if (cool <= 0)
        cool = BREAKER_FALLBACK_MS;
    mark_troubled(c->w, c->limit_name);
    drudge_ctx_retry_after(c->ctx, cool);
    return drudge_ctx_error(c->ctx, DRUDGE_UNAVAILABLE, "%s (host %s paused %lld ms)", why,
                            c->url.host, (long long)cool);
}

/* Breaker, then rate limit. 0: go ahead; 1: stop with *stop. */
static int politeness(call *c, drudge_outcome *stop)
{
    http_url_limit_name(&c->url, c->limit_name);
    int64_t open = drudge_ctx_breaker_check(c->ctx, c->limit_name);
    if (open > 0) {
        mark_troubled(c->w, c->limit_name);
        drudge_ctx_retry_after(c->ctx, open);
        *stop = drudge_ctx_error(c->ctx, DRUDGE_UNAVAILABLE,
                                 "host %s is down: its breaker is open for %lld ms more",
                                 c->url.host, (long long)open);
        return 1;
    }
    double rate = host_rate(c->w, c->url.host);
    int64_t slept = 0;
    for (;;) {
        int64_t wait = drudge_ctx_rate_take(c->ctx, c->limit_name, rate);
        if (wait <= 0) /* taken, or Redis could not say: go */
            return 0;
        if (wait > RATE_SLEEP_MAX_MS || slept + wait > RATE_SLEEP_TOTAL_MS ||
            mono_ms() + wait >= c->deadline) {
            drudge_ctx_retry_after(c->ctx, wait);
            *stop = drudge_ctx_error(c->ctx, DRUDGE_UNAVAILABLE,
                                     "rate limit for host %s (%g/s): next slot in %lld ms",
                                     c->url.host, rate, (long long)wait);
            return 1;
        }
        sleep_ms(wait);
        slept += wait;
    }
}

static int call_cancelled(void *ctx)
{
    return drudge_ctx_cancelled(ctx);
}

static drudge_outcome transport_outcome(call *c, http_transport t)
{
    switch (t) {
    case HTTP_T_HOST_DOWN: return host_down(c, c->err);
    case HTTP_T_TIMEOUT:
        return drudge_ctx_error(c->ctx, DRUDGE_RETRY, "timed out after %lld ms: %s",
                                (long long)(mono_ms() - c->started), c->err);
    case HTTP_T_FAIL:
    case HTTP_T_REFUSED: return drudge_ctx_error(c->ctx, DRUDGE_FAIL, "%s", c->err);
    case HTTP_T_STOPPED: /* cancelled (the runtime records that) or out of time */
        return drudge_ctx_error(c->ctx, DRUDGE_RETRY, "stopped after %lld ms: %s",
                                (long long)(mono_ms() - c->started), c->err);
    case HTTP_T_RETRY:
    case HTTP_T_OK: break;
    }
    return drudge_ctx_error(c->ctx, DRUDGE_RETRY, "%s", c->err);
}

/* The final response: done, retry (honouring Retry-After) or fail. */
static drudge_outcome status_outcome(call *c)
{
    http_verdict v = http_status_verdict(&c->req, c->resp.status);
    if (v.outcome == DRUDGE_DONE) {
        char *result = http_result_json(&c->req, &c->resp, &c->url, c->redirects,
                                        mono_ms() - c->started);
        if (result == NULL)
            return drudge_ctx_error(c->ctx, DRUDGE_RETRY, "out of memory building the result");
        drudge_ctx_set_result(c->ctx, result);
        free(result);
        return DRUDGE_DONE;
    }
    char msg[HTTP_ERR_MAX];
    http_status_error(msg, sizeof msg, c->method, &c->url, &c->resp);
    int64_t after = v.honour_retry_after ? http_retry_after_ms(c->resp.retry_after, time(NULL)) : -1;
    if (v.outcome == DRUDGE_RETRY && after >= 0) {
        drudge_ctx_retry_after(c->ctx, after > 0 ? after : 1);
        return drudge_ctx_error(c->ctx, DRUDGE_RETRY, "%s (retry after %lld ms)", msg,
                                (long long)after);
    }
    return drudge_ctx_error(c->ctx, v.outcome, "%s", msg);
}

/* Follow the Location of a redirect. 0: c->url is the next hop; 1: stop
 * with *stop. */
static int follow(call *c, drudge_outcome *stop)
{
    http_url next;
    char why[HTTP_ERR_MAX];
    int max = c->w->cfg->http_max_redirects;
    if (c->redirects >= max) {
        *stop = drudge_ctx_error(c->ctx, DRUDGE_FAIL, "more than %d redirects (the last from %s)",
                                 max, c->url.display);
        return 1;
    }
    if (http_url_parse(c->resp.location, &c->url, &next, why, sizeof why) < 0) {
        *stop = drudge_ctx_error(c->ctx, DRUDGE_FAIL, "redirect from %s refused: %s",
                                 c->url.display, why);
        return 1;
    }
    int drop_body;
    c->method = http_redirect_method(c->method, c->resp.status, &drop_body);
    if (drop_body)
        c->send_body = 0;
    http_url_release(&c->url);
    c->url = next;
    c->redirects++;
    return 0;
}

static drudge_outcome run(call *c)
{
    const drudge_config *cfg = c->w->cfg;
    char pin[HTTP_PIN_MAX];
    drudge_outcome stop;
    for (;;) {
        if (politeness(c, &stop))
            return stop;
        switch (http_resolve(&c->url, cfg->http_allow_private_networks, pin, sizeof pin, c->err,
                             sizeof c->err)) {
        case HTTP_RESOLVED: break;
        case HTTP_RESOLVE_FAILED: return host_down(c, c->err);
        case HTTP_RESOLVE_REFUSED:
            if (c->redirects > 0)
                return drudge_ctx_error(c->ctx, DRUDGE_FAIL, "redirect to %s refused: %s",
                                        c->url.display, c->err);
            return drudge_ctx_error(c->ctx, DRUDGE_FAIL, "%s", c->err);
        case HTTP_RESOLVE_ERROR: return drudge_ctx_error(c->ctx, DRUDGE_RETRY, "%s", c->err);
        }
        int64_t left = c->deadline - mono_ms();
        if (left <= 0)
            return drudge_ctx_error(c->ctx, DRUDGE_RETRY, "timed out after %lld ms before %s",
                                    (long long)(mono_ms() - c->started), c->url.display);
        /* credentials go to the job's own origin only, never where a
         * redirect points elsewhere */
        http_hop hop = {
            .method = c->method,
            .url = &c->url,
            .pin = pin,
            .req = &c->req,
            .send_body = c->send_body,
            .auth_header = http_url_same_origin(&c->url, &c->req.url) ? c->auth_header : NULL,
            .timeout_ms = left,
            .max_body = cfg->http_max_response_bytes,
            .allow_private = cfg->http_allow_private_networks,
            .stop = call_cancelled,
            .stop_arg = c->ctx,
        };
        http_transport t = http_session_perform(c->w->session, &hop, &c->resp, c->err,
                                                sizeof c->err);
        drudge_log(DRUDGE_LOG_DEBUG, "http_hop", "method=%s url=%s status=%d ms=%lld error=%s",
                   http_method_name(c->method), c->url.display, c->resp.status,
                   (long long)(mono_ms() - c->started), t == HTTP_T_OK ? "" : c->err);
        if (t != HTTP_T_OK)
            return transport_outcome(c, t);
        mark_healthy(c->ctx, c->w, c->limit_name);
        if (!(c->req.follow_redirects && http_status_is_redirect(c->resp.status) &&
              c->resp.location != NULL))
            return status_outcome(c);
        if (follow(c, &stop))
            return stop;
    }
}

drudge_outcome http_call(drudge_ctx *ctx, const drudge_job *job, http_worker *w)
{
    call c;
    drudge_outcome o;
    memset(&c, 0, sizeof c);
    c.ctx = ctx;
    c.w = w;
    c.started = mono_ms();
    http_response_init(&c.resp);

    if (http_request_parse(job->json, &c.req, c.err, sizeof c.err) < 0)
        return drudge_ctx_error(ctx, DRUDGE_FAIL, "%s", c.err);
    if (c.req.auth != NULL && http_auth_header(w->credentials, c.req.auth, env_lookup,
                                               &c.auth_header, c.err, sizeof c.err) < 0) {
        o = drudge_ctx_error(ctx, DRUDGE_FAIL, "%s", c.err);
        goto out;
    }
    if (w->session == NULL && (w->session = http_session_new()) == NULL) {
        o = drudge_ctx_error(ctx, DRUDGE_RETRY, "cannot start libcurl");
        goto out;
    }
    double limit_s = c.req.timeout_s > 0 ? c.req.timeout_s : w->cfg->http_timeout;
    c.deadline = c.started + (int64_t)(limit_s * 1000);
    int64_t class_left = drudge_ctx_deadline_ms(ctx) - wall_ms() - DEADLINE_MARGIN_MS;
    if (c.started + class_left < c.deadline)
        c.deadline = c.started + class_left;
    if (http_url_copy(&c.url, &c.req.url) < 0) {
        o = drudge_ctx_error(ctx, DRUDGE_RETRY, "out of memory");
        goto out;
    }
    c.method = c.req.method;
    c.send_body = 1;
    o = run(&c);
out:
    http_secret_free(c.auth_header);
    http_response_release(&c.resp);
    http_url_release(&c.url);
    http_request_release(&c.req);
    return o;
}
