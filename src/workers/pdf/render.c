/* render.c - one URL or HTML job: page in, PDF out, through the worker's
 * browser (browser.c) over DevTools (cdp.c).
 *
 * Per job: a fresh incognito browser context and a page in it; load the URL
 * (or serve the job's HTML from a made-up http://drudge.invalid/ address,
 * so both kinds load the same way); wait for the load event, network idle, a
 * selector or window.status; wait for web fonts; Page.printToPDF streamed
 * back in chunks; write the file atomically; dispose of the context.
 *
 * Every request the page makes pauses in the browser-wide Fetch
 * interception and is let through only if guard.c agrees; refused
 * sub-resources are listed in the result, a refused page fails the job for
 * good. Documents also pause at their response: the main one's HTTP status
 * decides between printing and failing, and each gets a
 * Content-Security-Policy that keeps WebSockets (which Fetch never sees) and
 * workers off. A job that runs past its time, and a crashed or wedged
 * browser, ends with the browser killed; the next job starts a new one.
 */
#include "pdf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define HTML_URL "http://drudge.invalid/"
#define PAGE_CSP "connect-src http: https: data: blob:; worker-src 'none'"
#define REFUSED_LISTED 50        /* refused requests named in the result */
#define DOC_BODY_MAX (32u << 20) /* a document we re-serve with the CSP */
#define IO_CHUNK (1 << 20)
#define CLOSE_MS 5000 /* disposing of a context */
#define LOADERS 8
#define MARGIN_MS 500 /* finish before the runtime's deadline */

enum { SEEN_DOM = 1, SEEN_LOAD = 2, SEEN_IDLE = 4 };

typedef struct body_wait body_wait;

typedef struct job_state {
    pdf_worker *w;
    drudge_ctx *ctx;
    const pdf_job_opts *o;
    pdf_cdp *cdp;
    char context[64], target[64], session[64];
    struct {
        char id[64];
        unsigned seen;
    } loaders[LOADERS];
    size_t nloaders;
    int crashed;
    int top_refused;
    int top_unresolved;
    char top_why[PDF_WHY_MAX];
    int http_status;
    json_t *refused;
    long refused_total;
    int html_served;
    char html_request[64];
    body_wait *bodies; /* Fetch.getResponseBody replies still to come */
    int64_t deadline;
    double timeout_s;
    int timed_out, stopped;
    /* for the debug log: start, page taken, navigate answered, load seen,
     * fonts ready, printToPDF answered, PDF read, file saved */
    int64_t t_start, t_open, t_nav, t_loaded, t_fonts, t_print, t_printed, t_read, t_saved;
} job_state;

struct body_wait {
    job_state *js;
    body_wait *next;
    char request[64];
    int status;
    json_t *headers;
};

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The cdp tick: the job's own deadline, and the runtime's cancel (a
 * `drudge cancel`, the class time limit, or the end of a drain: a first
 * stop signal alone lets the render finish). */
static int job_tick(void *ud)
{
    job_state *js = ud;
    if (pdf_mono_ms() >= js->deadline) {
        js->timed_out = 1;
        return 1;
    }
    if (drudge_ctx_cancelled(js->ctx)) {
        js->stopped = 1;
        return 1;
    }
    return 0;
}

static void send_quiet(job_state *js, const char *session, const char *method, json_t *params)
{
    pdf_cdp_send(js->cdp, session, method, params, NULL, NULL, pdf_mono_ms() + 2000);
}

static void note_refused(job_state *js, const char *url, const char *why)
{
    js->refused_total++;
    if (json_array_size(js->refused) >= REFUSED_LISTED)
        return;
    char shown[301];
    snprintf(shown, sizeof shown, "%s", url);
    json_array_append_new(js->refused, json_pack("{ss ss}", "url", shown, "reason", why));
    drudge_log(DRUDGE_LOG_INFO, "refused", "url=%s reason=%s", shown, why);
}

/* Response headers for a document we serve: the original ones, minus what
 * no longer describes the body, plus our CSP. New reference. */
static json_t *served_headers(const json_t *orig, const char *content_type)
{
    json_t *out = json_array();
    size_t i;
    const json_t *h;
    json_array_foreach(orig, i, h)
    {
        const char *name = json_string_value(json_object_get(h, "name"));
        if (name == NULL || strcasecmp(name, "content-length") == 0 ||
            strcasecmp(name, "content-encoding") == 0 || strcasecmp(name, "transfer-encoding") == 0)
            continue;
        json_array_append(out, (json_t *)h);
    }
    if (content_type != NULL)
        json_array_append_new(out,
                              json_pack("{ss ss}", "name", "Content-Type", "value", content_type));
    json_array_append_new(
        out, json_pack("{ss ss}", "name", "Content-Security-Policy", "value", PAGE_CSP));
    return out;
}

static void body_arrived(void *ud, const json_t *result, const char *error)
{
    body_wait *bw = ud, **pp;
    job_state *js = bw->js;
    for (pp = &js->bodies; *pp != NULL && *pp != bw; pp = &(*pp)->next) {
    }
    if (*pp == bw)
        *pp = bw->next;
    const char *body = json_string_value(json_object_get(result, "body"));
    size_t blen = json_string_length(json_object_get(result, "body"));
    char *b64 = NULL;
    if (error == NULL && body != NULL && blen <= DOC_BODY_MAX * 4 / 3 + 4) {
        if (json_is_true(json_object_get(result, "base64Encoded")))
            b64 = strdup(body);
        else
            b64 = pdf_b64_encode(body, blen);
    }
    if (b64 == NULL) {
        send_quiet(js, NULL, "Fetch.failRequest",
                   json_pack("{ss ss}", "requestId", bw->request, "errorReason", "Failed"));
    } else {
        send_quiet(js, NULL, "Fetch.fulfillRequest",
                   json_pack("{ss si so ss}", "requestId", bw->request, "responseCode", bw->status,
                             "responseHeaders", served_headers(bw->headers, NULL), "body", b64));
    }
    free(b64);
    json_decref(bw->headers);
    free(bw);
}

/* A document's response: note the main one's status, re-serve it with the
 * CSP (redirects go on: their target pauses as a new request). */
static void document_response(job_state *js, const json_t *p, const char *request,
                              const char *frame)
{
    int status = (int)json_integer_value(json_object_get(p, "responseStatusCode"));
    if (strcmp(request, js->html_request) == 0 || json_object_get(p, "responseErrorReason") ||
        (status >= 300 && status < 400) || status == 204) {
        send_quiet(js, NULL, "Fetch.continueRequest", json_pack("{ss}", "requestId", request));
        return;
    }
    if (frame != NULL && strcmp(frame, js->target) == 0)
        js->http_status = status;
    body_wait *bw = calloc(1, sizeof *bw);
    if (bw == NULL) {
        send_quiet(js, NULL, "Fetch.failRequest",
                   json_pack("{ss ss}", "requestId", request, "errorReason", "Failed"));
        return;
    }
    bw->js = js;
    snprintf(bw->request, sizeof bw->request, "%s", request);
    bw->status = status;
    bw->headers = json_incref(json_object_get(p, "responseHeaders"));
    if (pdf_cdp_send(js->cdp, NULL, "Fetch.getResponseBody",
                     json_pack("{ss}", "requestId", request), body_arrived, bw,
                     pdf_mono_ms() + 2000) < 0) {
        json_decref(bw->headers);
        free(bw);
        send_quiet(js, NULL, "Fetch.failRequest",
                   json_pack("{ss ss}", "requestId", request, "errorReason", "Failed"));
        return;
    }
    bw->next = js->bodies;
    js->bodies = bw;
}

static void request_paused(job_state *js, const json_t *p)
{
    const char *request = json_string_value(json_object_get(p, "requestId"));
    const char *url = json_string_value(json_object_get(json_object_get(p, "request"), "url"));
    const char *type = json_string_value(json_object_get(p, "resourceType"));
    const char *frame = json_string_value(json_object_get(p, "frameId"));
    if (request == NULL || url == NULL)
        return;
    int is_top = type && strcmp(type, "Document") == 0 && frame && strcmp(frame, js->target) == 0;
    if (json_object_get(p, "responseStatusCode") || json_object_get(p, "responseErrorReason")) {
        if (type && strcmp(type, "Document") == 0)
            document_response(js, p, request, frame);
        else
            send_quiet(js, NULL, "Fetch.continueRequest", json_pack("{ss}", "requestId", request));
        return;
    }
    if (js->o->source == PDF_SOURCE_HTML && is_top && !js->html_served &&
        strcmp(url, HTML_URL) == 0) {
        js->html_served = 1;
        snprintf(js->html_request, sizeof js->html_request, "%s", request);
        char *b64 = pdf_b64_encode(js->o->html, strlen(js->o->html));
        json_t *none = json_array();
        if (b64 != NULL)
            send_quiet(js, NULL, "Fetch.fulfillRequest",
                       json_pack("{ss si so ss}", "requestId", request, "responseCode", 200,
                                 "responseHeaders",
                                 served_headers(none, "text/html; charset=utf-8"), "body", b64));
        else
            send_quiet(js, NULL, "Fetch.failRequest",
                       json_pack("{ss ss}", "requestId", request, "errorReason", "Failed"));
        json_decref(none);
        free(b64);
        return;
    }
    char why[PDF_WHY_MAX];
    int verdict = pdf_guard_check(&js->w->guard, url, why, sizeof why);
    if (verdict == PDF_GUARD_OK) {
        send_quiet(js, NULL, "Fetch.continueRequest", json_pack("{ss}", "requestId", request));
        return;
    }
    send_quiet(js, NULL, "Fetch.failRequest",
               json_pack("{ss ss}", "requestId", request, "errorReason", "BlockedByClient"));
    if (is_top && !js->top_refused) {
        js->top_refused = 1;
        js->top_unresolved = verdict == PDF_GUARD_UNRESOLVED;
        snprintf(js->top_why, sizeof js->top_why, "%s", why);
    }
    note_refused(js, url, why);
}

static void job_event(void *ud, const char *method, const json_t *params, const char *session)
{
    job_state *js = ud;
    if (strcmp(method, "Fetch.requestPaused") == 0) {
        request_paused(js, params);
        return;
    }
    if (strcmp(method, "Target.detachedFromTarget") == 0) {
        const char *gone = json_string_value(json_object_get(params, "sessionId"));
        if (gone != NULL && strcmp(gone, js->session) == 0)
            js->crashed = 1;
        return;
    }
    if (session == NULL || strcmp(session, js->session) != 0)
        return;
    if (strcmp(method, "Page.lifecycleEvent") == 0) {
        const char *frame = json_string_value(json_object_get(params, "frameId"));
        const char *loader = json_string_value(json_object_get(params, "loaderId"));
        const char *name = json_string_value(json_object_get(params, "name"));
        if (!frame || !loader || !name || strcmp(frame, js->target) != 0)
            return;
        unsigned bit = strcmp(name, "DOMContentLoaded") == 0 ? SEEN_DOM
                       : strcmp(name, "load") == 0           ? SEEN_LOAD | SEEN_DOM
                       : strcmp(name, "networkIdle") == 0    ? SEEN_IDLE
                                                             : 0;
        size_t i = 0;
        while (i < js->nloaders && strcmp(js->loaders[i].id, loader) != 0)
            i++;
        if (i == js->nloaders) {
            if (js->nloaders == LOADERS)
                memmove(js->loaders, js->loaders + 1, sizeof js->loaders[0] * --js->nloaders);
            i = js->nloaders++;
            snprintf(js->loaders[i].id, sizeof js->loaders[i].id, "%s", loader);
            js->loaders[i].seen = 0;
        }
        js->loaders[i].seen |= bit;
    } else if (strcmp(method, "Inspector.targetCrashed") == 0) {
        js->crashed = 1;
    } else if (strcmp(method, "Page.javascriptDialogOpening") == 0) {
        /* an alert() would hold the page (and the job) forever */
        send_quiet(js, js->session, "Page.handleJavaScriptDialog", json_pack("{sb}", "accept", 1));
    }
}

/* What the page's latest document has reached: a page that navigates on
 * its own (a script, a refresh) is followed to where it lands. `loader` is
 * the navigation we started; until it shows up nothing counts. */
static unsigned loader_seen(const job_state *js, const char *loader)
{
    for (size_t i = 0; i < js->nloaders; i++)
        if (strcmp(js->loaders[i].id, loader) == 0)
            return js->loaders[js->nloaders - 1].seen;
    return 0;
}

/* Call on the job's page; NULL on failure (see js->cdp->status). */
static json_t *page_call(job_state *js, const char *method, json_t *params)
{
    return pdf_cdp_call(js->cdp, js->session, method, params, js->deadline);
}

static drudge_outcome browser_failure(job_state *js, const char *doing)
{
    pdf_cdp *c = js->cdp;
    if (js->timed_out || c->status == PDF_CDP_TIMEOUT)
        return drudge_ctx_error(js->ctx, DRUDGE_RETRY, "timed out after %g s %s", js->timeout_s,
                                doing);
    if (js->stopped)
        return drudge_ctx_error(js->ctx, DRUDGE_RETRY,
                                "stopped: the job was cancelled or ran out of time");
    if (js->crashed)
        return drudge_ctx_error(js->ctx, DRUDGE_RETRY, "the page crashed %s", doing);
    if (c->status == PDF_CDP_DEAD) {
        char last[200];
        pdf_browser_last_log(&js->w->browser, last, sizeof last);
        drudge_log(DRUDGE_LOG_WARN, "browser_died", "error=%s last_log=%s", c->errstr, last);
        return drudge_ctx_error(js->ctx, DRUDGE_RETRY, "the browser died %s: %s", doing, c->errstr);
    }
    return drudge_ctx_error(js->ctx, DRUDGE_RETRY, "browser error %s: %s", doing, c->errstr);
}

/* Opening a page is a chain of five commands, run from reply callbacks so
 * that the next job's page opens while this job prints (spare_open): a new
 * context needs a new window and a new renderer process, the slowest part
 * of a small job.
 * The page is as fresh when taken as when opened; nothing ran in it. */
static void page_fail(pdf_worker *w, const char *why)
{
    pdf_page *pg = &w->spare;
    snprintf(w->browser.errstr, sizeof w->browser.errstr, "cannot open a page: %s", why);
    if (pg->context[0])
        pdf_cdp_send(&w->browser.cdp, NULL, "Target.disposeBrowserContext",
                     json_pack("{ss}", "browserContextId", pg->context), NULL, NULL,
                     pdf_mono_ms() + 2000);
    pg->state = PDF_PAGE_FAILED;
}

static void page_step(void *ud, const json_t *result, const char *error)
{
    pdf_worker *w = ud;
    pdf_page *pg = &w->spare;
    pdf_cdp *c = &w->browser.cdp;
    int64_t deadline = pdf_mono_ms() + 5000;
    const char *id = NULL;
    int rc = 0;
    if (error != NULL) {
        page_fail(w, error);
        return;
    }
    if (pg->step + 1 < 6)
        pg->t_step[pg->step + 1] = pdf_mono_ms();
    switch (pg->step++) {
    case 0:
        if ((id = json_string_value(json_object_get(result, "browserContextId"))) == NULL)
            break;
        snprintf(pg->context, sizeof pg->context, "%s", id);
        rc = pdf_cdp_send(c, NULL, "Target.createTarget",
                          json_pack("{ss ss}", "url", "about:blank", "browserContextId", id),
                          page_step, w, deadline);
        break;
    case 1:
        if ((id = json_string_value(json_object_get(result, "targetId"))) == NULL)
            break;
        snprintf(pg->target, sizeof pg->target, "%s", id);
        rc = pdf_cdp_send(c, NULL, "Target.attachToTarget",
                          json_pack("{ss sb}", "targetId", id, "flatten", 1), page_step, w,
                          deadline);
        break;
    case 2:
        if ((id = json_string_value(json_object_get(result, "sessionId"))) == NULL)
            break;
        snprintf(pg->session, sizeof pg->session, "%s", id);
        rc = pdf_cdp_send(c, pg->session, "Page.enable", NULL, page_step, w, deadline);
        break;
    case 3:
        id = "";
        rc = pdf_cdp_send(c, pg->session, "Page.setLifecycleEventsEnabled",
                          json_pack("{sb}", "enabled", 1), page_step, w, deadline);
        break;
    default: pg->state = PDF_PAGE_READY; return;
    }
    if (id == NULL)
        page_fail(w, "unexpected reply from the browser");
    else if (rc < 0)
        page_fail(w, c->errstr);
}

static void page_open_start(pdf_worker *w)
{
    pdf_page *pg = &w->spare;
    memset(pg, 0, sizeof *pg);
    pg->generation = w->browser.generation;
    pg->state = PDF_PAGE_OPENING;
    pg->t_step[0] = pdf_mono_ms();
    if (pdf_cdp_send(&w->browser.cdp, NULL, "Target.createBrowserContext",
                     json_pack("{sb}", "disposeOnDetach", 1), page_step, w,
                     pdf_mono_ms() + 5000) < 0)
        page_fail(w, w->browser.cdp.errstr);
}

/* Wait for the page being opened; 0 when it is ready. */
static int page_wait(pdf_worker *w, int64_t deadline)
{
    while (w->spare.state == PDF_PAGE_OPENING)
        if (pdf_cdp_pump(&w->browser.cdp, deadline) < 0 || pdf_mono_ms() >= deadline)
            return -1;
    return w->spare.state == PDF_PAGE_READY ? 0 : -1;
}

/* Start opening the next job's page, unless one is open or opening, or
 * the browser will be replaced before the next job anyway.
 *
 * When: once this job's page has loaded. The chain's first two steps run
 * on the browser's UI thread (a new context; a new window for its page,
 * ~100 ms), as do the navigation and every paused request of this job, so
 * opening at the job's start delayed its navigation and load by about as
 * much. From the load on, the job is mostly the renderer's (fonts, print),
 * and the new renderer starts meanwhile and during the hand-over to the
 * next job: Page.enable is usually sent before this job ends, so the
 * process comes up even while the worker waits for Redis. */
static void spare_open(pdf_worker *w)
{
    pdf_browser *b = &w->browser;
    pdf_page *pg = &w->spare;
    if (!b->up || b->cdp.wfd < 0)
        return;
    if (b->cfg->pdf_browser_max_jobs > 0 && b->jobs >= b->cfg->pdf_browser_max_jobs)
        return;
    if (pg->generation == b->generation && pg->state != PDF_PAGE_NONE &&
        pg->state != PDF_PAGE_FAILED)
        return;
    page_open_start(w);
}

void pdf_render_prepare(pdf_worker *w)
{
    if (!w->browser.up)
        return;
    page_open_start(w);
    page_wait(w, pdf_mono_ms() + 30000);
}

/* Between jobs, while the queue is empty. The chain of commands that opens
 * the next job's page advances only while the pipe is read, and a browser
 * that died or reached pdf.browser_max_jobs is otherwise replaced when the
 * next job comes: do both now, so that the next job starts at once. A job
 * that arrives meanwhile waits at most a launch or ~2 s. */
void pdf_render_idle(pdf_worker *w)
{
    if (drudge_worker_stopping() || pdf_mono_ms() < w->idle_retry_at)
        return;
    /* a launch here gives up at a stop signal, so an idle worker still
     * stops at once */
    w->browser.start_stops_on_signal = 1;
    int rc = pdf_browser_ready(&w->browser, pdf_mono_ms() + 15000);
    w->browser.start_stops_on_signal = 0;
    if (rc < 0) {
        /* the next job says why; meanwhile do not relaunch twice a second */
        w->idle_retry_at = pdf_mono_ms() + 10000;
        return;
    }
    spare_open(w);
    /* in short steps: a stop signal ends an idle worker within a second */
    int64_t until = pdf_mono_ms() + 2000;
    while (w->spare.state == PDF_PAGE_OPENING && !drudge_worker_stopping() &&
           pdf_mono_ms() < until) {
        if (w->browser.cdp.wfd < 0) {
            /* the browser died under the page: the next call replaces it */
            page_fail(w, w->browser.cdp.errstr);
            break;
        }
        page_wait(w, pdf_mono_ms() + 100);
    }
}

/* The job's page: the one opened ahead, or a new one. */
static int take_page(job_state *js)
{
    pdf_worker *w = js->w;
    pdf_page *pg = &w->spare;
    pdf_browser *b = &w->browser;
    if (pg->generation != b->generation || pg->state == PDF_PAGE_FAILED)
        memset(pg, 0, sizeof *pg);
    if (pg->state == PDF_PAGE_NONE)
        page_open_start(w);
    int64_t t_wait = pdf_mono_ms();
    if (page_wait(w, js->deadline) < 0)
        return -1;
    drudge_log(
        DRUDGE_LOG_DEBUG, "page_open",
        "context_ms=%lld target_ms=%lld attach_ms=%lld enable_ms=%lld lifecycle_ms=%lld "
        "waited_ms=%lld",
        (long long)(pg->t_step[1] - pg->t_step[0]), (long long)(pg->t_step[2] - pg->t_step[1]),
        (long long)(pg->t_step[3] - pg->t_step[2]), (long long)(pg->t_step[4] - pg->t_step[3]),
        (long long)(pg->t_step[5] - pg->t_step[4]), (long long)(pdf_mono_ms() - t_wait));
    snprintf(js->context, sizeof js->context, "%s", pg->context);
    snprintf(js->target, sizeof js->target, "%s", pg->target);
    snprintf(js->session, sizeof js->session, "%s", pg->session);
    memset(pg, 0, sizeof *pg);
    if (js->o->media != NULL) {
        json_t *r =
            page_call(js, "Emulation.setEmulatedMedia", json_pack("{ss}", "media", js->o->media));
        if (r == NULL)
            return -1;
        json_decref(r);
    }
    return 0;
}

static void page_closed(void *ud, const json_t *result, const char *error)
{
    pdf_worker *w = ud;
    (void)result;
    drudge_log(DRUDGE_LOG_DEBUG, "context_closed", "ms=%lld",
               (long long)(pdf_mono_ms() - w->close_sent));
    if (error != NULL) {
        drudge_log(DRUDGE_LOG_WARN, "context_close_failed", "error=%s", error);
        w->close_failed = 1;
    }
}

/* Dispose of the job's context and its page, without waiting: a failure
 * shows at the next job, which then starts a new browser. */
static void close_page(job_state *js)
{
    if (js->context[0] == '\0' || js->cdp->wfd < 0)
        return;
    js->w->close_sent = pdf_mono_ms();
    if (pdf_cdp_send(js->cdp, NULL, "Target.disposeBrowserContext",
                     json_pack("{ss}", "browserContextId", js->context), page_closed, js->w,
                     pdf_mono_ms() + CLOSE_MS) < 0)
        js->w->close_failed = 1;
}

/* JavaScript that resolves once the wait condition holds: true, or a
 * string saying why it never will. Caller frees. */
static char *wait_script(const pdf_job_opts *o)
{
    json_t *value = json_string(o->wait_value);
    char *quoted = value ? json_dumps(value, JSON_ENCODE_ANY) : NULL;
    json_decref(value);
    if (quoted == NULL)
        return NULL;
    const char *fmt =
        o->wait == PDF_WAIT_SELECTOR
            ? "new Promise(function (done) { function poll() { try { "
              "if (document.querySelector(%s)) return done(true); } catch (e) { "
              "return done('bad selector: ' + e.message); } setTimeout(poll, 50); } poll(); })"
            : "new Promise(function (done) { function poll() { "
              "if (String(window.status) === %s) return done(true); setTimeout(poll, 50); } "
              "poll(); })";
    size_t n = strlen(fmt) + strlen(quoted) + 1;
    char *js = malloc(n);
    if (js != NULL)
        snprintf(js, n, fmt, quoted);
    free(quoted);
    return js;
}

/* Navigate and wait as the job asks. DRUDGE_DONE when the page is ready. */
static drudge_outcome load_page(job_state *js)
{
    const pdf_job_opts *o = js->o;
    const char *url = o->source == PDF_SOURCE_HTML ? HTML_URL : o->url;
    int64_t nav_deadline = pdf_mono_ms() + (int64_t)(js->w->cfg->pdf_navigation_timeout * 1000);
    if (nav_deadline > js->deadline)
        nav_deadline = js->deadline;
    json_t *r = pdf_cdp_call(js->cdp, js->session, "Page.navigate", json_pack("{ss}", "url", url),
                             nav_deadline);
    if (r == NULL) {
        if (js->cdp->status == PDF_CDP_TIMEOUT && !js->timed_out)
            return drudge_ctx_error(js->ctx, DRUDGE_RETRY,
                                    "navigation timed out after %g s loading %.200s",
                                    js->w->cfg->pdf_navigation_timeout, url);
        return browser_failure(js, "loading the page");
    }
    js->t_nav = pdf_mono_ms();
    const char *error = json_string_value(json_object_get(r, "errorText"));
    const char *loader_id = json_string_value(json_object_get(r, "loaderId"));
    char loader[64];
    snprintf(loader, sizeof loader, "%s", loader_id ? loader_id : "");
    int download = json_is_true(json_object_get(r, "isDownload"));
    char err[128];
    snprintf(err, sizeof err, "%s", error ? error : "");
    json_decref(r);
    if (js->top_refused)
        return drudge_ctx_error(js->ctx, js->top_unresolved ? DRUDGE_RETRY : DRUDGE_FAIL,
                                "refused %.200s: %s", url, js->top_why);
    if (download)
        return drudge_ctx_error(js->ctx, DRUDGE_FAIL, "%.200s is a download, not a page", url);
    if (err[0])
        return drudge_ctx_error(js->ctx, DRUDGE_RETRY, "cannot load %.200s: %s", url, err);
    if (js->http_status >= 400) {
        int transient = js->http_status >= 500 || js->http_status == 408 || js->http_status == 429;
        return drudge_ctx_error(js->ctx, transient ? DRUDGE_RETRY : DRUDGE_FAIL,
                                "%.200s answered HTTP %d", url, js->http_status);
    }
    drudge_ctx_progress(js->ctx, 30, "loading");

    unsigned want = o->wait == PDF_WAIT_NETWORKIDLE ? SEEN_IDLE
                    : o->wait == PDF_WAIT_LOAD      ? SEEN_LOAD
                                                    : SEEN_DOM;
    while ((loader_seen(js, loader) & want) != want && !js->crashed && !js->top_refused) {
        if (pdf_cdp_pump(js->cdp, js->deadline) < 0 || pdf_mono_ms() >= js->deadline) {
            js->timed_out = js->timed_out || pdf_mono_ms() >= js->deadline;
            return browser_failure(js, "waiting for the page to load");
        }
    }
    if (js->crashed)
        return browser_failure(js, "while loading");
    js->t_loaded = pdf_mono_ms();
    spare_open(js->w);
    if (o->wait == PDF_WAIT_SELECTOR || o->wait == PDF_WAIT_STATUS) {
        char *script = wait_script(o);
        if (script == NULL)
            return drudge_ctx_error(js->ctx, DRUDGE_RETRY, "out of memory");
        r = page_call(
            js, "Runtime.evaluate",
            json_pack("{ss sb sb}", "expression", script, "awaitPromise", 1, "returnByValue", 1));
        free(script);
        if (r == NULL)
            return browser_failure(js, o->wait == PDF_WAIT_SELECTOR ? "waiting for the selector"
                                                                    : "waiting for window.status");
        const json_t *value = json_object_get(json_object_get(r, "result"), "value");
        if (json_is_string(value)) {
            drudge_outcome out = drudge_ctx_error(js->ctx, DRUDGE_FAIL, "wait_for: %.200s",
                                                  json_string_value(value));
            json_decref(r);
            return out;
        }
        json_decref(r);
    }
    /* web fonts still loading would print in a fallback face */
    r = page_call(js, "Runtime.evaluate",
                  json_pack("{ss sb sb}", "expression",
                            "document.fonts ? document.fonts.ready.then(function () { return true; "
                            "}) : true",
                            "awaitPromise", 1, "returnByValue", 1));
    if (r == NULL)
        return browser_failure(js, "waiting for fonts");
    json_decref(r);
    js->t_fonts = pdf_mono_ms();
    return DRUDGE_DONE;
}

static json_t *print_params(const pdf_job_opts *o)
{
    /* no tagged (accessible) PDF: building one walks the page's
     * accessibility tree, work an invoice PDF has no use for */
    json_t *p = json_pack(
        "{sb sb sf sf sf sf sf sf sf sb ss sb}", "landscape", o->landscape, "printBackground",
        o->print_background, "scale", o->scale, "paperWidth", o->paper_w, "paperHeight", o->paper_h,
        "marginTop", o->margin_top, "marginBottom", o->margin_bottom, "marginLeft", o->margin_left,
        "marginRight", o->margin_right, "preferCSSPageSize", o->prefer_css_page_size,
        "transferMode", "ReturnAsStream", "generateTaggedPDF", 0);
    if (p == NULL)
        return NULL;
    if (o->page_ranges)
        json_object_set_new(p, "pageRanges", json_string(o->page_ranges));
    if (o->header_html || o->footer_html) {
        /* Chromium fills a missing template with the date, title and URL */
        json_object_set_new(p, "displayHeaderFooter", json_true());
        json_object_set_new(p, "headerTemplate",
                            json_string(o->header_html ? o->header_html : "<span></span>"));
        json_object_set_new(p, "footerTemplate",
                            json_string(o->footer_html ? o->footer_html : "<span></span>"));
    }
    return p;
}

/* Page.printToPDF, read back through IO.read into *pdf (caller frees). */
static drudge_outcome print_pdf(job_state *js, unsigned char **pdf, size_t *len)
{
    size_t cap = 0, max = js->w->cfg->pdf_max_output_bytes;
    unsigned char *buf = NULL;
    json_t *params = print_params(js->o);
    if (params == NULL)
        return drudge_ctx_error(js->ctx, DRUDGE_RETRY, "out of memory");
    drudge_ctx_progress(js->ctx, 60, "printing");
    js->t_print = pdf_mono_ms();
    json_t *r = page_call(js, "Page.printToPDF", params);
    if (r == NULL) {
        if (js->cdp->status == PDF_CDP_REMOTE)
            /* Chromium says why: "Page range exceeds page count", ... */
            return drudge_ctx_error(js->ctx, DRUDGE_FAIL, "%s", js->cdp->errstr);
        return browser_failure(js, "printing");
    }
    js->t_printed = pdf_mono_ms();
    const char *handle = json_string_value(json_object_get(r, "stream"));
    char stream[64];
    snprintf(stream, sizeof stream, "%s", handle ? handle : "");
    json_decref(r);
    drudge_ctx_progress(js->ctx, 80, "reading the PDF");
    *len = 0;
    for (;;) {
        r = page_call(js, "IO.read", json_pack("{ss si}", "handle", stream, "size", IO_CHUNK));
        if (r == NULL) {
            free(buf);
            return browser_failure(js, "reading the PDF");
        }
        const json_t *data = json_object_get(r, "data");
        size_t dlen = json_string_length(data);
        int eof = json_is_true(json_object_get(r, "eof"));
        int b64 = json_is_true(json_object_get(r, "base64Encoded"));
        size_t need = *len + (b64 ? dlen / 4 * 3 : dlen);
        if (need > max) {
            json_decref(r);
            free(buf);
            return drudge_ctx_error(js->ctx, DRUDGE_FAIL,
                                    "the PDF is larger than pdf.max_output_bytes (%zu)", max);
        }
        if (need > cap) {
            size_t ncap = cap ? cap : IO_CHUNK;
            while (ncap < need)
                ncap *= 2;
            unsigned char *grown = realloc(buf, ncap);
            if (grown == NULL) {
                json_decref(r);
                free(buf);
                return drudge_ctx_error(js->ctx, DRUDGE_RETRY, "out of memory");
            }
            buf = grown;
            cap = ncap;
        }
        if (b64) {
            long n = pdf_b64_decode(json_string_value(data), dlen, buf + *len, cap - *len);
            if (n < 0) {
                json_decref(r);
                free(buf);
                return drudge_ctx_error(js->ctx, DRUDGE_RETRY, "bad base64 from the browser");
            }
            *len += (size_t)n;
        } else {
            memcpy(buf + *len, json_string_value(data), dlen);
            *len += dlen;
        }
        json_decref(r);
        if (eof)
            break;
    }
    /* no need to wait: the stream goes with the context anyway */
    send_quiet(js, js->session, "IO.close", json_pack("{ss}", "handle", stream));
    *pdf = buf;
    return DRUDGE_DONE;
}

static drudge_outcome render_in_page(job_state *js)
{
    drudge_outcome out;
    unsigned char *pdf = NULL;
    size_t len = 0;
    if (take_page(js) < 0) {
        if (js->timed_out || js->stopped || js->cdp->status == PDF_CDP_DEAD)
            return browser_failure(js, "opening a page");
        return drudge_ctx_error(js->ctx, DRUDGE_RETRY, "%s", js->w->browser.errstr);
    }
    js->t_open = pdf_mono_ms();
    if ((out = load_page(js)) != DRUDGE_DONE)
        return out;
    if (js->top_refused) /* the page navigated itself somewhere refused */
        return drudge_ctx_error(js->ctx, DRUDGE_FAIL, "refused a navigation of the page: %s",
                                js->top_why);
    if ((out = print_pdf(js, &pdf, &len)) != DRUDGE_DONE)
        return out;
    int64_t t_read = pdf_mono_ms();
    long pages = pdf_count_pages(pdf, len);
    if (pages < 0) {
        free(pdf);
        return drudge_ctx_error(js->ctx, DRUDGE_RETRY,
                                "the browser returned something that is not a PDF");
    }
    drudge_ctx_progress(js->ctx, 90, "saving");
    char why[PDF_WHY_MAX];
    if (pdf_output_save(js->w->cfg->pdf_output_dir, js->o->output, pdf, len, why, sizeof why) < 0) {
        free(pdf);
        return drudge_ctx_error(js->ctx, DRUDGE_RETRY, "%s", why);
    }
    free(pdf);
    js->t_saved = pdf_mono_ms();
    js->t_read = t_read;
    json_t *result = json_pack("{ss sI sI}", "output", js->o->output, "pages", (json_int_t)pages,
                               "bytes", (json_int_t)len);
    if (result != NULL && js->refused_total > 0) {
        json_object_set(result, "refused", js->refused);
        if (js->refused_total > (long)json_array_size(js->refused))
            json_object_set_new(result, "refused_total", json_integer(js->refused_total));
    }
    char *text = result ? json_dumps(result, JSON_COMPACT) : NULL;
    json_decref(result);
    if (text == NULL)
        return drudge_ctx_error(js->ctx, DRUDGE_RETRY, "out of memory");
    drudge_ctx_set_result(js->ctx, text);
    free(text);
    return DRUDGE_DONE;
}

drudge_outcome pdf_render(pdf_worker *w, drudge_ctx *ctx, const pdf_job_opts *o)
{
    pdf_browser *b = &w->browser;
    char why[PDF_WHY_MAX];
    int64_t left = drudge_ctx_deadline_ms(ctx) - wall_ms() - MARGIN_MS;

    /* A URL the guard refuses never reaches the browser. */
    if (o->source == PDF_SOURCE_URL) {
        pdf_guard_reset(&w->guard);
        int verdict = pdf_guard_check(&w->guard, o->url, why, sizeof why);
        if (verdict != PDF_GUARD_OK)
            return drudge_ctx_error(ctx,
                                    verdict == PDF_GUARD_UNRESOLVED ? DRUDGE_RETRY : DRUDGE_FAIL,
                                    "refused %.200s: %s", o->url, why);
    }
    if (!b->up)
        drudge_ctx_progress(ctx, 5, "starting the browser");
    if (w->close_failed) {
        w->close_failed = 0;
        pdf_browser_stop(b, "context_close_failed");
    }
    if (pdf_browser_ready(b, pdf_mono_ms() + (left > 0 ? left : 0)) < 0)
        return drudge_ctx_error(ctx, DRUDGE_RETRY, "%s", b->errstr);

    job_state js;
    memset(&js, 0, sizeof js);
    js.w = w;
    js.ctx = ctx;
    js.o = o;
    js.cdp = &b->cdp;
    js.refused = json_array();
    js.timeout_s = o->timeout_s > 0 ? o->timeout_s : w->cfg->pdf_timeout;
    left = drudge_ctx_deadline_ms(ctx) - wall_ms() - MARGIN_MS;
    if (left < (int64_t)(js.timeout_s * 1000)) {
        js.timeout_s = left > 1000 ? (double)(left / 1000) : 1;
    }
    js.t_start = pdf_mono_ms();
    js.deadline = js.t_start + (int64_t)(js.timeout_s * 1000);
    pdf_guard_reset(&w->guard);
    b->jobs++;
    b->cdp.on_event = job_event;
    b->cdp.event_ud = &js;
    b->cdp.tick = job_tick;
    b->cdp.tick_ud = &js;
    drudge_ctx_progress(ctx, 10, "loading");

    drudge_outcome out = render_in_page(&js);

    /* replies still owed to this job are dropped with it */
    pdf_cdp_forget(&b->cdp, body_arrived);
    while (js.bodies != NULL) {
        body_wait *next = js.bodies->next;
        json_decref(js.bodies->headers);
        free(js.bodies);
        js.bodies = next;
    }
    int unhealthy =
        js.timed_out || js.stopped || b->cdp.wfd < 0 || b->cdp.status == PDF_CDP_TIMEOUT;
    if (!unhealthy)
        close_page(&js);
    pdf_browser_idle(b);
    if (!unhealthy)
        spare_open(w); /* a job that ended before its load */
    if (js.t_saved)
        drudge_log(DRUDGE_LOG_DEBUG, "render_steps",
                   "open_ms=%lld navigate_ms=%lld load_ms=%lld fonts_ms=%lld wait_ms=%lld "
                   "print_ms=%lld read_ms=%lld save_ms=%lld close_ms=%lld",
                   (long long)(js.t_open - js.t_start), (long long)(js.t_nav - js.t_open),
                   (long long)(js.t_loaded - js.t_nav), (long long)(js.t_fonts - js.t_loaded),
                   (long long)(js.t_print - js.t_fonts), (long long)(js.t_printed - js.t_print),
                   (long long)(js.t_read - js.t_printed), (long long)(js.t_saved - js.t_read),
                   (long long)(pdf_mono_ms() - js.t_saved));
    if (unhealthy)
        pdf_browser_stop(b, js.timed_out ? "timeout" : js.stopped ? "stopped" : "unhealthy");
    json_decref(js.refused);
    return out;
}
