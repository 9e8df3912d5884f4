/* pdf.h - drudge-pdf's internal interfaces, one section per file.
 *
 * main.c registers the handler; render.c turns a URL or HTML into a PDF
 * through browser.c (one Chromium per worker process) and cdp.c (the DevTools
 * protocol over a pipe); guard.c decides which requests a page may make;
 * images.c builds a PDF from images with MagickWand. options.c, paths.c,
 * b64.c, pdfread.c and env.c are pure helpers with unit tests. Nothing here
 * includes MagickWand, so the unit tests link the pure files alone.
 */
#ifndef DRUDGE_PDF_H
#define DRUDGE_PDF_H

#include "drudge.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#define PDF_WHY_MAX 512 /* every `why` buffer below */

/* Monotonic clock in ms (cdp.c). */
int64_t pdf_mono_ms(void);

/* ------------------------------------------------------------------------
 * env.c - the worker holds no secrets.
 * ---------------------------------------------------------------------- */

/* 1 if envp has a variable whose name contains PASSWORD, SECRET, TOKEN or
 * KEY (any case); its name (never the value) goes into name_out. 0 if
 * there is none. */
int pdf_env_find_secret(char *const *envp, char *name_out, size_t cap);

/* ------------------------------------------------------------------------
 * guard.c - which URLs a page may load. Pure, except pdf_resolve_system().
 * ---------------------------------------------------------------------- */

typedef struct pdf_url {
    char scheme[16]; /* lowercase, without ':' */
    char host[256];  /* lowercase, IPv6 without brackets, no trailing dot; "" for data: */
    int port;        /* explicit port or the scheme's default; 0 for data: */
} pdf_url;

/* Split an absolute URL. 0, or -1 when it is not one we can check. */
int pdf_url_parse(const char *url, pdf_url *out);

/* 1 if the address is on the public internet; 0 for loopback, private,
 * link-local (169.254.169.254 included), CGNAT, multicast, documentation,
 * reserved and unspecified ranges, and IPv6 forms that embed such an IPv4
 * address (mapped, compatible, NAT64, 6to4). */
int pdf_addr_is_public(const struct sockaddr *sa);

/* 1 if host matches pattern: equal (case-insensitive), or "*.example.com"
 * matching any name below example.com (not example.com itself). */
int pdf_host_matches(const char *host, const char *pattern);

/* Resolve host into at most max addresses; the count, or -1 (reason in why). */
typedef int (*pdf_resolve_fn)(void *ud, const char *host, struct sockaddr_storage *out, int max,
                              char *why, size_t whycap);
/* getaddrinfo() (ud unused). */
int pdf_resolve_system(void *ud, const char *host, struct sockaddr_storage *out, int max, char *why,
                       size_t whycap);

#define PDF_GUARD_CACHE 64

typedef struct pdf_guard {
    char *const *allowed_hosts; /* borrowed; empty = any host */
    size_t nallowed_hosts;
    int allow_private;
    pdf_resolve_fn resolve;
    void *resolve_ud;
    /* verdicts per host for one job (a page asks for the same host often) */
    struct {
        char host[256];
        int verdict; /* PDF_GUARD_* */
        char why[160];
    } cache[PDF_GUARD_CACHE];
    size_t ncache;
} pdf_guard;

/* Policy from borrowed parts; resolve NULL = pdf_resolve_system. */
void pdf_guard_init(pdf_guard *g, char *const *allowed_hosts, size_t nallowed_hosts,
                    int allow_private, pdf_resolve_fn resolve, void *resolve_ud);
/* Forget cached verdicts (between jobs: DNS answers change). */
void pdf_guard_reset(pdf_guard *g);
enum { PDF_GUARD_OK = 0, PDF_GUARD_REFUSED = -1, PDF_GUARD_UNRESOLVED = -2 };
/* PDF_GUARD_OK if the page may load url. Allowed: data: URLs, and http(s)
 * URLs whose host is on the allow-list (when there is one) and, unless
 * allow_private, resolves to public addresses only. Otherwise the reason
 * goes into why and the result is PDF_GUARD_REFUSED, or
 * PDF_GUARD_UNRESOLVED when the name did not resolve (perhaps for now). */
int pdf_guard_check(pdf_guard *g, const char *url, char *why, size_t whycap);

/* ------------------------------------------------------------------------
 * options.c - a job's JSON into the settings a render or an image PDF uses.
 * ---------------------------------------------------------------------- */

typedef enum {
    PDF_WAIT_LOAD = 0,    /* the load event */
    PDF_WAIT_NETWORKIDLE, /* no requests for 500 ms after the load */
    PDF_WAIT_SELECTOR,    /* a CSS selector matches */
    PDF_WAIT_STATUS,      /* window.status equals a value ("ready") */
} pdf_wait;

typedef enum { PDF_SOURCE_URL = 0, PDF_SOURCE_HTML, PDF_SOURCE_IMAGES } pdf_source;

/* Strings and the images array are borrowed from the job's JSON. */
typedef struct pdf_job_opts {
    pdf_source source;
    const char *url;
    const char *html;
    const json_t *images; /* array of relative paths */
    const char *output;
    char paper[16];          /* name as given, or "custom" */
    double paper_w, paper_h; /* inches, portrait, before landscape */
    int landscape;
    double margin_top, margin_right, margin_bottom, margin_left; /* inches */
    int print_background;
    double scale;
    const char *page_ranges;
    const char *header_html, *footer_html;
    int prefer_css_page_size;
    const char *media; /* "print", "screen" or NULL */
    pdf_wait wait;
    const char *wait_value; /* selector, or the window.status value */
    double timeout_s;       /* 0: the configured default */
} pdf_job_opts;

#define PDF_IMAGES_MAX 500
#define PDF_TEMPLATE_MAX (64 * 1024)

/* Parse and check a job. 0, or -1 with a message naming the key in why. */
int pdf_job_parse(const json_t *job, pdf_job_opts *out, char *why, size_t whycap);
/* Page size in inches after landscape. */
void pdf_job_page_size(const pdf_job_opts *o, double *w, double *h);

/* ------------------------------------------------------------------------
 * paths.c - files only inside the configured directories.
 * ---------------------------------------------------------------------- */

/* A job's paths are checked with confine_path_check (src/common/confine.h)
 * when the job is parsed (options.c), with the length JSON gave them. */
/* Open dir/rel for reading: a regular file, no escape from dir (symlinks
 * included). Returns the fd or -1 with a reason. */
int pdf_input_open(const char *dir, const char *rel, char *why, size_t whycap);
/* Write data to dir/rel atomically (temp file in the same directory, then
 * rename), creating missing directories below dir. 0 or -1 with a reason. */
int pdf_output_save(const char *dir, const char *rel, const void *data, size_t len, char *why,
                    size_t whycap);

/* ------------------------------------------------------------------------
 * b64.c - base64 for DevTools (IO.read chunks, fulfilled responses).
 * ---------------------------------------------------------------------- */

/* NUL-terminated base64 of data (caller frees), or NULL when out of memory. */
char *pdf_b64_encode(const void *data, size_t len);
/* Decode in[0..len) into out (room for len / 4 * 3 bytes is enough).
 * Returns the byte count, or -1 on invalid input. */
long pdf_b64_decode(const char *in, size_t len, unsigned char *out, size_t cap);

/* ------------------------------------------------------------------------
 * pdfread.c - facts read back from a PDF we wrote.
 * ---------------------------------------------------------------------- */

/* Number of pages, or -1 if buf does not look like a PDF. */
long pdf_count_pages(const unsigned char *buf, size_t len);

/* ------------------------------------------------------------------------
 * cdp.c - the Chrome DevTools protocol over --remote-debugging-pipe:
 * NUL-terminated JSON messages, requests with ids, replies, events.
 * ---------------------------------------------------------------------- */

typedef enum {
    PDF_CDP_OK = 0,
    PDF_CDP_REMOTE,  /* the browser answered with an error */
    PDF_CDP_TIMEOUT, /* the deadline passed */
    PDF_CDP_ABORTED, /* the tick callback asked to stop */
    PDF_CDP_DEAD,    /* the pipe broke: the browser is gone */
} pdf_cdp_status;

/* An event: params and session (NULL for the browser's own) are borrowed
 * for the call. Handlers may send, but must not wait (pdf_cdp_call). */
typedef void (*pdf_cdp_event_fn)(void *ud, const char *method, const json_t *params,
                                 const char *session);
/* A reply to pdf_cdp_send(): result or error (the other is NULL). */
typedef void (*pdf_cdp_reply_fn)(void *ud, const json_t *result, const char *error);
/* Called at least every 100 ms while waiting; nonzero aborts the wait. */
typedef int (*pdf_cdp_tick_fn)(void *ud);

#define PDF_CDP_PENDING 64

typedef struct pdf_cdp {
    int wfd, rfd; /* owned */
    long next_id;
    char *rbuf;
    size_t rlen, rcap;
    struct {
        long id;
        pdf_cdp_reply_fn fn;
        void *ud;
    } pending[PDF_CDP_PENDING];
    size_t npending;
    long wait_id; /* the reply pdf_cdp_call() waits for */
    json_t *wait_reply;
    pdf_cdp_event_fn on_event;
    void *event_ud;
    pdf_cdp_tick_fn tick;
    void *tick_ud;
    pdf_cdp_status status; /* of the last call */
    char errstr[PDF_WHY_MAX];
} pdf_cdp;

/* Take the two pipe ends (made non-blocking). */
void pdf_cdp_init(pdf_cdp *c, int wfd, int rfd);
/* Close the pipe ends and drop pending callbacks. */
void pdf_cdp_release(pdf_cdp *c);
/* Send a command (params stolen, may be NULL; session NULL = the browser).
 * fn, if given, is called with the reply from a later wait. 0 or -1. */
int pdf_cdp_send(pdf_cdp *c, const char *session, const char *method, json_t *params,
                 pdf_cdp_reply_fn fn, void *ud, int64_t deadline_ms);
/* Send and wait for the reply, dispatching events meanwhile. Returns the
 * result object (caller decrefs) or NULL: see c->status and c->errstr. */
json_t *pdf_cdp_call(pdf_cdp *c, const char *session, const char *method, json_t *params,
                     int64_t deadline_ms);
/* Drop the callbacks fn (NULL: all) of replies still to come: their owner
 * is gone. */
void pdf_cdp_forget(pdf_cdp *c, pdf_cdp_reply_fn fn);
/* Wait until at least one message arrived (and dispatch everything that
 * did) or until `until`. 1 dispatched, 0 time up, -1 dead or aborted. */
int pdf_cdp_pump(pdf_cdp *c, int64_t until_ms);

/* ------------------------------------------------------------------------
 * browser.c - one headless Chromium per worker process.
 * ---------------------------------------------------------------------- */

typedef struct pdf_browser {
    const drudge_config *cfg; /* borrowed */
    pid_t owner;              /* the process that started it (fork isolation) */
    pid_t reaper;             /* watches the browser; kills its group when we go */
    pid_t chrome;             /* the browser process, leader of its own group */
    int lifeline;             /* closing it (or dying) makes the reaper kill the group */
    int up;
    pdf_cdp cdp;
    long jobs;                 /* jobs since the start */
    long generation;           /* starts so far: what was opened in an older one is gone */
    int start_stops_on_signal; /* a launch gives up when the worker is told to stop */
    int64_t started_ms;
    char dir[256]; /* private profile dir (removed by the reaper) */
    char log[280]; /* Chromium's stderr */
    char product[96];
    const char *path; /* the browser started (pdf.chromium, "auto" resolved) */
    char errstr[PDF_WHY_MAX];
} pdf_browser;

void pdf_browser_init(pdf_browser *b, const drudge_config *cfg);
/* A running browser for the next job: starts one when there is none, when
 * the last died, after pdf.browser_max_jobs jobs, or in a forked child.
 * 0 or -1 (reason in errstr). */
int pdf_browser_ready(pdf_browser *b, int64_t deadline_ms);
/* Between jobs: no callbacks of a job, every paused request refused. */
void pdf_browser_idle(pdf_browser *b);
/* Kill the browser's process group and wait for the reaper. */
void pdf_browser_stop(pdf_browser *b, const char *why);
/* Last meaningful line Chromium wrote to stderr, "" if none. */
void pdf_browser_last_log(pdf_browser *b, char *out, size_t cap);
/* The browser's version line (`chromium --version`), "" on failure. */
int pdf_browser_version(const char *chromium, char *out, size_t cap);
/* The browser pdf.chromium names: the path itself, or for "auto" the first
 * that can be run of Debian's headless shell (the binary: the
 * /usr/bin/chromium-headless-shell wrapper does not exec it) and its
 * chromium. NULL when none can. */
#define PDF_AUTO_SHELL "/usr/lib/chromium/chromium-headless-shell"
#define PDF_AUTO_CHROMIUM "/usr/bin/chromium"
#define PDF_AUTO_BROWSERS PDF_AUTO_SHELL ", " PDF_AUTO_CHROMIUM
const char *pdf_browser_path(const char *configured);

/* ------------------------------------------------------------------------
 * render.c / images.c - the two kinds of job.
 * ---------------------------------------------------------------------- */

/* A page in a fresh incognito context, attached, events on (render.c). */
typedef enum {
    PDF_PAGE_NONE = 0,
    PDF_PAGE_OPENING,
    PDF_PAGE_READY,
    PDF_PAGE_FAILED
} pdf_page_state;

typedef struct pdf_page {
    pdf_page_state state;
    int step;        /* of the opening chain */
    long generation; /* of the browser it lives in */
    char context[64], target[64], session[64];
    int64_t t_step[6]; /* when each step of the chain began, for the debug log */
} pdf_page;

typedef struct pdf_worker {
    const drudge_config *cfg; /* borrowed */
    pdf_browser browser;
    pdf_page spare;        /* the next job's page, opened while this job runs */
    int close_failed;      /* a context did not go away: restart the browser */
    int64_t close_sent;    /* when the last context's disposal was sent (debug log) */
    int64_t idle_retry_at; /* a browser that would not start: not before this again */
    pdf_guard guard;
    char magick_tmp[256]; /* ImageMagick's temp dir, emptied after each job */
    int magick_ready;
} pdf_worker;

drudge_outcome pdf_render(pdf_worker *w, drudge_ctx *ctx, const pdf_job_opts *o);
/* Open the first job's page ahead of time (after start-up). */
void pdf_render_prepare(pdf_worker *w);
/* While no job waits: replace a browser that died or is due, and finish
 * opening the next job's page (bounded to a few seconds). */
void pdf_render_idle(pdf_worker *w);

int pdf_images_init(pdf_worker *w, char *why, size_t whycap);
void pdf_images_fini(pdf_worker *w);
drudge_outcome pdf_images(pdf_worker *w, drudge_ctx *ctx, const pdf_job_opts *o);
/* Writable coders (for --version): "PDF" when the policy lets us write PDF. */
const char *pdf_images_version(void);

#endif
