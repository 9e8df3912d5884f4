/* drudge.h - the one public header of libdrudge.
 *
 * libdrudge is the only code that talks to Redis: configuration, connection,
 * key names, job ids, push, reliable fetch, ack / retry / fail, status,
 * housekeeping and the worker runtime every drudge worker binary runs.
 * The wire protocol it implements is described in docs/protocol.md.
 *
 * Conventions: functions return 0 on success and -1 on error, leaving the
 * detail on the handle (drudge_client_errstr()); functions returning pointers
 * return NULL on error. `_new` allocates, `_free` frees and accepts NULL.
 * Strings passed in are borrowed for the duration of the call only, unless a
 * comment says otherwise. The library never prints (except through the
 * logging functions) and never exits.
 */
#ifndef DRUDGE_H
#define DRUDGE_H

#include <stddef.h>
#include <stdint.h>
#include <stdarg.h>
#include <jansson.h>

#ifdef __cplusplus
extern "C" {
#endif

#define DRUDGE_VERSION "0.1.0"

#define DRUDGE_ID_MAX 128           /* longest job id (payload "id") */
#define DRUDGE_CLASS_MAX 128        /* longest class name */
#define DRUDGE_ERRSTR_MAX 512

/* ------------------------------------------------------------------------
 * Configuration (src/lib/config.c). One YAML file; every key optional.
 * ---------------------------------------------------------------------- */

typedef enum {
    DRUDGE_ISOLATION_INPROCESS = 0,
    DRUDGE_ISOLATION_FORK = 1,
} drudge_isolation;

/* Per-class settings. Unset fields take the worker's built-in defaults:
 * the config loader marks what the file set in `set_mask`. */
typedef struct drudge_class_config {
    char *name;              /* class name, e.g. "ImageJob" (owned) */
    int max_attempts;        /* >= 1 */
    double backoff_base;     /* seconds, > 0 */
    double backoff_cap;      /* seconds, >= backoff_base */
    double timeout;          /* seconds per attempt, > 0 */
    drudge_isolation isolation;
    double rate;             /* jobs per second shared by all workers; 0 = unlimited */
    long status_ttl;         /* seconds a finished status hash is kept */
    long failed_max;         /* cap of <Class>:failed */
    unsigned set_mask;       /* DRUDGE_CLASS_SET_* bits for keys the file gave */
} drudge_class_config;

enum {
    DRUDGE_CLASS_SET_MAX_ATTEMPTS = 1u << 0,
    DRUDGE_CLASS_SET_BACKOFF = 1u << 1,
    DRUDGE_CLASS_SET_TIMEOUT = 1u << 2,
    DRUDGE_CLASS_SET_ISOLATION = 1u << 3,
    DRUDGE_CLASS_SET_RATE = 1u << 4,
    DRUDGE_CLASS_SET_STATUS_TTL = 1u << 5,
    DRUDGE_CLASS_SET_FAILED_MAX = 1u << 6,
};

typedef struct drudge_schedule_entry {
    char *name;       /* unique entry name (owned) */
    char *cron;       /* 5-field cron expression (owned) */
    char *class_name; /* class to push to (owned) */
    char *payload;    /* compact JSON object text (owned) */
    char *timezone;   /* "UTC" or an IANA name (owned) */
    int catch_up;     /* fire once after downtime (default 1) */
} drudge_schedule_entry;

typedef struct drudge_config {
    char *path; /* file the config came from, or NULL (owned) */

    /* redis: */
    char *redis_url;          /* default redis://127.0.0.1:6379/0 */
    char *redis_user;         /* $DRUDGE_REDIS_USER, over the URL's (NULL: none) */
    char *redis_password;     /* $DRUDGE_REDIS_PASSWORD, over the URL's; the
                                 variable is removed from the environment once read */
    double connect_timeout;   /* seconds, default 2 */
    double command_timeout;   /* seconds, default 5 (blocking pops add theirs) */
    char *namespace_;         /* key prefix without the ':'; "" = none */

    /* worker: */
    double heartbeat;         /* seconds, default 5 */
    double dead_after;        /* seconds, default 30 */
    double drain_timeout;     /* seconds, default 25 */
    long max_jobs;            /* 0 = no limit */
    double max_runtime;       /* seconds, 0 = no limit */
    long max_rss_mb;          /* 0 = no limit */
    size_t max_payload_bytes; /* default 1 MiB */
    long prefetch;            /* most jobs taken at once while jobs are short (1-32, default 32) */
    double progress_interval; /* seconds between progress writes, default 0.25 */
    char *log_level;          /* debug | info | warn | error */

    /* classes: (defaults applied by drudge_config_class()) */
    drudge_class_config *classes;
    size_t nclasses;

    /* schedule: */
    drudge_schedule_entry *schedule;
    size_t nschedule;

    /* image: (drudge-image; holds no secrets by design) */
    char *image_input_dir;    /* job inputs are relative to it (default var/uploads) */
    char *image_output_dir;   /* job outputs are relative to it (default var/out) */
    char **image_allowed_formats; /* input formats, by magic bytes */
    size_t image_nallowed_formats;
    char *image_temp_dir;     /* per-job ImageMagick temp dirs go under it; "" = $TMPDIR or /tmp */
    char *image_font;         /* TrueType font of text_gif */
    long image_threads;       /* ImageMagick threads per worker process (default 1) */
    char **image_forbidden_env; /* refuse to start if an environment name matches one */
    size_t image_nforbidden_env;
    long image_limit_width;   /* pixels */
    long image_limit_height;  /* pixels */
    long image_limit_area;    /* pixels (width x height) */
    long image_limit_memory;  /* MiB of pixel cache in memory */
    long image_limit_map;     /* MiB of pixel cache in anonymous maps */
    long image_limit_disk;    /* MiB of pixel cache on disk (and largest file written) */
    long image_limit_input;   /* MiB: largest input file read */
    double image_limit_time;  /* seconds of work per job */
    long image_limit_list_length; /* frames of an animation */

    /* email: (drudge-email; the password only from $DRUDGE_SMTP_PASSWORD) */
    char *email_smtp_url;         /* smtp://host[:port] or smtps://host[:port], no credentials */
    char *email_from;             /* default From: "Name <addr>" or addr */
    char *email_attachments_dir;  /* attachment paths are relative to it */
    char **email_allowed_from;    /* patterns (fnmatch) a job's own "from" must match */
    size_t email_nallowed_from;
    char *email_starttls;         /* required | optional | never (smtp:// only) */
    char *email_user;             /* SMTP AUTH user; "" = no authentication */
    long email_max_recipients;    /* to + cc + bcc of one job (default 100) */
    size_t email_max_attachment_bytes; /* one attachment file (default 10 MiB) */
    size_t email_max_message_bytes;    /* bodies + attachments, before encoding (default 25 MiB) */
    double email_connect_timeout; /* seconds to connect (and TLS), default 10 */
    double email_timeout;         /* seconds for one whole send, default 60 */

    /* pdf: */
    char *pdf_chromium;           /* browser binary, or "auto" (the default) */
    char *pdf_output_dir;         /* outputs are relative to this */
    char *pdf_input_dir;          /* images jobs read from here */
    char **pdf_allowed_hosts;     /* hosts pages may load from; empty = any */
    size_t pdf_nallowed_hosts;
    int pdf_allow_private_networks; /* loopback / private / link-local (default 0) */
    long pdf_browser_max_jobs;    /* restart the browser after this many jobs; 0 = never */
    double pdf_timeout;           /* seconds per job unless the job says timeout_s */
    double pdf_navigation_timeout; /* seconds until the page's response starts */
    int pdf_no_sandbox;           /* --no-sandbox even when not root */
    size_t pdf_max_output_bytes;  /* largest PDF written */

    /* http: (drudge-http) */
    double http_host_rate;    /* requests per second per destination host; 0 = unlimited */
    char *http_hosts;         /* JSON object text: host (lowercase) -> requests per second,
                               * overriding host_rate (default "{}") */
    int http_allow_private_networks; /* 1: loopback, private, link-local... may be called */
    size_t http_max_response_bytes;  /* body bytes read and kept per request (default 64 KiB) */
    int http_max_redirects;   /* redirects followed, each re-checked (default 5) */
    double http_timeout;      /* seconds for a whole call, redirects included (default 30) */
    char *http_credentials;   /* JSON object text: name -> {"type": "bearer", "token_env": VAR}
                               * or {"type": "basic", "user": u, "password_env": VAR};
                               * secrets only from the environment (default "{}") */

    /* web: (drudge web; --token-file and --require-token-for-reads override) */
    char *web_listen;         /* default 127.0.0.1:8080 */
    char *web_token_file;     /* first line = the bearer token; "" = none (default) */
    int web_require_token_for_reads; /* the API, /metrics and outputs need the token too */
} drudge_config;

/* Load `path` (NULL: $DRUDGE_CONFIG, else built-in defaults only) and apply
 * environment overrides (DRUDGE_REDIS_URL). On error returns NULL and writes a
 * message naming file, line and key into err (errcap bytes).
 * Free the result with drudge_config_free(). */
drudge_config *drudge_config_load(const char *path, char *err, size_t errcap);
/* Same, from YAML text in memory; `name` is used in messages. */
drudge_config *drudge_config_load_string(const char *yaml, const char *name,
                                         char *err, size_t errcap);
void drudge_config_free(drudge_config *cfg);
/* Settings of `class_name` with defaults filled in, for a worker whose own
 * defaults are `worker_defaults` (NULL = library defaults). Writes into out;
 * out->name is borrowed from class_name. */
void drudge_config_class(const drudge_config *cfg, const char *class_name,
                         const drudge_class_config *worker_defaults,
                         drudge_class_config *out);
/* Library defaults for a class (max_attempts 5, backoff 2..300 s, ...). */
void drudge_class_defaults(drudge_class_config *out);
/* Replace a string field with a copy of value; 0 or -1 on allocation failure. */
int drudge_config_set_string(char **field, const char *value);

/* ------------------------------------------------------------------------
 * Redis URLs (src/lib/url.c). Pure parsing, no I/O.
 * ---------------------------------------------------------------------- */

typedef struct drudge_redis_url {
    int is_unix;          /* 1: unix socket at `path` */
    char host[256];
    int port;
    char path[108];
    int db;
    char user[128];       /* "" = none */
    char password[256];   /* "" = none */
} drudge_redis_url;

/* Parse redis://[[user]:password@]host[:port][/db] or unix:///path[?db=N].
 * Returns 0, or -1 with a reason in err. */
int drudge_redis_url_parse(const char *url, drudge_redis_url *out, char *err,
                           size_t errcap);

/* ------------------------------------------------------------------------
 * Job ids and payload checks (src/lib/job.c). Pure.
 * ---------------------------------------------------------------------- */

/* 1 if `id` is a valid explicit id (1-128 chars of [A-Za-z0-9_.:-]). */
int drudge_id_valid(const char *id);
/* 1 if `name` is a valid class name (1-128 chars of [A-Za-z0-9_.:-]). */
int drudge_class_valid(const char *name);
/* Derive the id of a payload: its top-level string "id" if present (must be
 * valid), else the lowercase hex SHA-256 of the bytes. `parsed` may be NULL
 * (then the payload is parsed). Returns 0, or -1 with a reason in err. */
int drudge_job_id(const char *payload, size_t len, const json_t *parsed,
                  char out[DRUDGE_ID_MAX + 1], char *err, size_t errcap);
/* Parse and check a payload: a JSON object, at most max_bytes, valid UTF-8,
 * nesting at most 64 deep. Returns the object (caller json_decref()s) or
 * NULL with a reason in err. */
json_t *drudge_payload_parse(const char *payload, size_t len, size_t max_bytes,
                             char *err, size_t errcap);

/* ------------------------------------------------------------------------
 * Logging (src/lib/log.c): logfmt lines to stderr.
 * ---------------------------------------------------------------------- */

typedef enum {
    DRUDGE_LOG_DEBUG = 0,
    DRUDGE_LOG_INFO,
    DRUDGE_LOG_WARN,
    DRUDGE_LOG_ERROR,
} drudge_log_level;

void drudge_log_set_level(drudge_log_level lvl);
int drudge_log_level_parse(const char *name, drudge_log_level *out);
/* Log `event` with extra fields from fmt: "class=%s id=%s ms=%ld". %s values
 * are quoted when they need it; supported: %s %d %ld %lld %u %lu %zu %f %.Nf. */
void drudge_log(drudge_log_level lvl, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ------------------------------------------------------------------------
 * Client: push, status and admin (src/lib/client.c, queue.c, status.c,
 * admin.c). A client owns one Redis connection and is not thread-safe.
 * ---------------------------------------------------------------------- */

typedef struct drudge_client drudge_client;

/* Borrowed cfg must outlive the client. Connects at once; on failure returns
 * NULL and writes the reason into err. */
drudge_client *drudge_client_new(const drudge_config *cfg, char *err, size_t errcap);
void drudge_client_free(drudge_client *c);
/* Last error text on this client (borrowed, valid until the next call). */
const char *drudge_client_errstr(const drudge_client *c);

typedef struct drudge_push_opts {
    int64_t delay_ms;   /* > 0: due now + delay_ms */
    int64_t at_ms;      /* > 0: due at this unix time (ms); wins over delay */
    int unique;         /* refuse a second copy while one is live */
} drudge_push_opts;

enum { DRUDGE_PUSHED = 0, DRUDGE_DUPLICATE = 1 };

/* Push one job: validates the payload, writes status `queued` and the list
 * element in one round trip. Writes the id into id_out. Returns DRUDGE_PUSHED,
 * DRUDGE_DUPLICATE (unique and already live; id_out is the live job's id) or -1. */
int drudge_push(drudge_client *c, const char *class_name, const char *payload,
                size_t len, const drudge_push_opts *opts, char id_out[DRUDGE_ID_MAX + 1]);
/* Push n jobs pipelined. ids_out (n entries) receives each id. Returns the
 * number pushed: n, or fewer after a Redis failure midway (the first ones,
 * in order, are in the queue for sure; the error says why the rest are
 * not, and after a lost connection how many after them may be in too), or
 * -1 when none was confirmed: a bad payload stops before anything is sent
 * (the error names it, "job N: ..."). */
long drudge_push_many(drudge_client *c, const char *class_name, const char *const *payloads,
                      const size_t *lens, size_t n, char (*ids_out)[DRUDGE_ID_MAX + 1]);

/* The status hash of a job as a JSON object of strings (caller decrefs), or
 * NULL: then drudge_client_errstr() is "" if the job is unknown. */
json_t *drudge_status_get(drudge_client *c, const char *class_name, const char *id);

/* ------------------------------------------------------------------------
 * Admin (src/lib/admin.c): what the CLI and the dashboard show and do.
 * Functions returning json_t * return a new reference (the caller
 * json_decref()s it), or NULL with the reason in drudge_client_errstr().
 * Times are unix ms unless a name says seconds.
 * ---------------------------------------------------------------------- */

/* One object per known class (the drudge:classes set and the config's
 * classes), sorted by name: {"class", "queued", "running" (held by live
 * workers), "delayed", "failed" (length of the failed list), "paused": null
 * or {"reason", "ttl_ms" (-1: until resumed)}, "workers" (live ones),
 * "processed", "failed_total", "retried", "run_ms" (the class's counters),
 * "duration_buckets": [{"le_ms": 5, "jobs"}, {"le_ms": 10, ...}, ...,
 * {"le_ms": null, "jobs"}] (attempts whose handler ran at most le_ms and
 * more than the bucket before: not cumulative; null = longer than the last
 * bound; the <Class>:stats le_<ms> fields)}. */
json_t *drudge_stats_get(drudge_client *c);

#define DRUDGE_MINUTES_MAX 1440 /* the workers keep <Class>:minute:<m> 24 h */

/* The per-minute counters of a class (<Class>:minute:<m>, written by the
 * workers with each ack batch and kept 24 h) for the last `minutes` minutes
 * (1 to DRUDGE_MINUTES_MAX), the current one included, by the Redis server's
 * clock: {"class", "now" (ms), "minute" (the current unix minute = now /
 * 60000), "minutes": [{"minute", "processed", "failed", "retried", "run_ms"}]}
 * oldest first, the current (unfinished) minute last; a minute without a
 * hash has zeros. One pipelined round trip (and TIME). */
json_t *drudge_class_minutes(drudge_client *c, const char *class_name, int minutes);

/* The registered workers, in heartbeat order: {"id", "heartbeat_at",
 * "heartbeat_age_ms", "dead" (no heartbeat for dead_after), and the fields
 * of the worker's hash: "host", "pid", "class", "program", "isolation",
 * "started_at", "job" (current job id or ""), "jobs_done", "rss_kb", ...}. */
json_t *drudge_workers_list(drudge_client *c);

/* Failed jobs of a class, newest first, from `offset`, at most `limit`:
 * {"class", "total", "offset", "jobs": [{"id", "error", "attempts",
 * "finished_at", "payload" (the raw JSON text)}]}; fields whose status hash
 * expired are null. */
json_t *drudge_failed_list(drudge_client *c, const char *class_name, long offset, long limit);

/* Delayed jobs of a class (<Class>:delayed: delayed pushes, retries waiting
 * for their backoff), soonest due first, from `offset`, at most `limit`:
 * {"class", "total", "offset", "jobs": [{"id", "state", "attempts", "error",
 * "payload" (the raw JSON text), "due_at" (the score: when it is moved to
 * the queue)}]}; status fields are null where the job has no status hash
 * (a hand-made ZADD) or no such field. */
json_t *drudge_delayed_list(drudge_client *c, const char *class_name, long offset, long limit);

/* Put failed jobs back at the tail of the queue, oldest first, each in one
 * atomic step (status queued, attempts 0, error and finished_at cleared):
 * the job with `id`, or every one when id is NULL. A job pushed again since
 * it failed and live now only leaves the failed list (no second copy).
 * Returns how many left the failed list (0: none had that id), or -1. */
long drudge_failed_retry(drudge_client *c, const char *class_name, const char *id);
/* Drop failed jobs and their status hashes: `id`, or all when id is NULL.
 * Returns how many were removed, or -1. */
long drudge_failed_delete(drudge_client *c, const char *class_name, const char *id);

/* Pause a class: no worker takes a job of it until resumed or, when
 * ttl_ms > 0, until the pause expires. reason NULL or "" = "paused".
 * 0 or -1. */
int drudge_class_pause(drudge_client *c, const char *class_name, const char *reason,
                       int64_t ttl_ms);
/* End a pause and reset the circuit breaker's cool-down. 0 or -1. */
int drudge_class_resume(drudge_client *c, const char *class_name);

enum {
    DRUDGE_CANCEL_DONE = 0,      /* was queued or delayed: removed, status cancelled */
    DRUDGE_CANCEL_REQUESTED = 1, /* in a worker's hands: flagged (status `cancel`) */
    DRUDGE_CANCEL_FINISHED = 2,  /* already done, failed or cancelled: nothing to do */
    DRUDGE_CANCEL_UNKNOWN = 3,   /* no status hash and not waiting anywhere */
};
/* Cancel a job that has not finished: a waiting one (queue or delayed set)
 * is removed and its status set cancelled; one a worker holds is flagged,
 * and unless its handler finishes it done the outcome becomes cancelled.
 * Returns a DRUDGE_CANCEL_* value, or -1 (also when the job kept moving
 * between queue and worker while it was looked for). */
int drudge_job_cancel(drudge_client *c, const char *class_name, const char *id);

/* The config's schedule entries: [{"name", "cron", "class", "timezone",
 * "payload" (object), "catch_up", "last_fire" (unix seconds or null),
 * "next_fire" (unix seconds or null), "error" (only when the expression or
 * zone is bad)}]. Connects only if there are entries. */
json_t *drudge_cron_list(drudge_client *c);

/* Following one job's status as it changes: a second connection subscribed
 * to the job's status channel (workers publish every change there). */
typedef struct drudge_watch drudge_watch;

/* Subscribe; c's config is borrowed and must outlive the watch. Returns
 * NULL with the reason in drudge_client_errstr(c). Free with
 * drudge_watch_free(). Read the status once after this (drudge_status_get)
 * so that a change just before the subscription is not missed. */
drudge_watch *drudge_watch_new(drudge_client *c, const char *class_name, const char *id);
/* Wait up to timeout_ms for the next published change. Returns 1 with the
 * status object in *status_out (caller decrefs), 0 when nothing came (then
 * poll with drudge_status_get), -1 on a lost connection (see
 * drudge_watch_errstr(); make a new watch). */
int drudge_watch_wait(drudge_watch *w, int timeout_ms, json_t **status_out);
/* The socket to poll() for readability in an event loop; -1 if closed. */
int drudge_watch_fd(const drudge_watch *w);
/* Last error text (borrowed, valid until the next call). */
const char *drudge_watch_errstr(const drudge_watch *w);
void drudge_watch_free(drudge_watch *w);

/* ------------------------------------------------------------------------
 * Worker runtime (src/lib/worker.c).
 * ---------------------------------------------------------------------- */

typedef enum {
    DRUDGE_DONE = 0,       /* finished; optional result JSON */
    DRUDGE_RETRY,          /* transient error: back off and try again */
    DRUDGE_FAIL,           /* permanent: straight to the failed list */
    DRUDGE_UNAVAILABLE,    /* the service behind the job is down: circuit breaker */
} drudge_outcome;

const char *drudge_outcome_name(drudge_outcome o);

typedef struct drudge_job {
    const char *id;
    const char *class_name;
    const char *payload;    /* raw bytes as the producer wrote them */
    size_t payload_len;
    const json_t *json;     /* the parsed payload object (borrowed) */
} drudge_job;

/* Handed to a handler for the duration of one job. */
typedef struct drudge_ctx drudge_ctx;

/* Report progress (0-100, -1 = unchanged) and a short message (may be NULL).
 * Throttled by the runtime; cheap to call often. */
void drudge_ctx_progress(drudge_ctx *ctx, int percent, const char *message);
/* 1 once the handler should stop this job now: it was cancelled (`drudge
 * cancel`), its time limit passed, or the worker's drain is over (drain_timeout
 * after a stop signal, or a second SIGINT) - the runtime then gives the job
 * back whatever the handler returns. A first stop signal alone is not a
 * cancel: the job in hand gets drain_timeout to finish. */
int drudge_ctx_cancelled(drudge_ctx *ctx);
/* Which attempt this is (1 on the first try). */
int drudge_ctx_attempt(drudge_ctx *ctx);
/* Deadline of this attempt (unix ms). */
int64_t drudge_ctx_deadline_ms(const drudge_ctx *ctx);
/* Set the result JSON (copied; must be valid JSON text). */
void drudge_ctx_set_result(drudge_ctx *ctx, const char *json);
/* Set the error text (one line; copied). Returns `o` so handlers can write
 * `return drudge_ctx_error(ctx, DRUDGE_FAIL, "bad op '%s'", name);`. */
drudge_outcome drudge_ctx_error(drudge_ctx *ctx, drudge_outcome o, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* For DRUDGE_RETRY: retry after this many ms instead of the backoff (an
 * HTTP Retry-After). For DRUDGE_UNAVAILABLE: the service is down for this job
 * only (say one API host): the job is deferred by this many ms, its attempt
 * not spent, and the class is NOT paused. */
void drudge_ctx_retry_after(drudge_ctx *ctx, int64_t ms);

/* Shared limits keyed by a name of the handler's choosing (e.g. an API
 * host), stored under <Class>:rate:<name> and <Class>:breaker:<name>, shared
 * by every worker of the class on every machine. `name` must be 1-128
 * characters of [A-Za-z0-9_.:-]. */

/* (In fork isolation the job's child is given no Redis credentials, so
 * these calls only work there against a Redis without a password: use them
 * from in-process handlers, as drudge-http does.) */

/* Take a token from a rate limit of `per_second` on `name`. Returns 0 when
 * taken, else the ms until a token is due (nothing taken: wait and call
 * again, or defer the job), or -1 on a Redis error (the limit is then not
 * enforced for this call). */
int64_t drudge_ctx_rate_take(drudge_ctx *ctx, const char *name, double per_second);
/* ms left while the breaker `name` is open (0: closed, go ahead). */
int64_t drudge_ctx_breaker_check(drudge_ctx *ctx, const char *name);
/* The service `name` failed: open its breaker for a cool-down of 5 s that
 * doubles up to 5 min while failures continue. Returns the cool-down in ms. */
int64_t drudge_ctx_breaker_trip(drudge_ctx *ctx, const char *name, const char *error);
/* The service `name` worked: close its breaker. */
void drudge_ctx_breaker_reset(drudge_ctx *ctx, const char *name);

typedef drudge_outcome (*drudge_handler_fn)(drudge_ctx *ctx, const drudge_job *job,
                                            void *userdata);

/* A worker program's definition. Before drudge 1.0 this struct may gain
 * fields (at the end): rebuild a worker against the drudge.h of the
 * libdrudge it runs with. Unset fields must be zero (use an initialiser). */
typedef struct drudge_worker_def {
    const char *program;           /* "drudge-noop", for --help and logs */
    const char *default_class;     /* "NoopJob" */
    drudge_class_config defaults;  /* the worker's own class defaults */
    drudge_handler_fn handler;
    void *userdata;
    /* Optional: called once after config load, before the loop; non-zero
     * aborts start-up: return 2 for a configuration error (exit code 2),
     * anything else for another failure (exit code 1). */
    int (*init)(const drudge_config *cfg, void *userdata);
    /* Optional: called in the child before each job in fork isolation
     * (drop privileges, sandbox). Non-zero fails the attempt. */
    int (*child_init)(const drudge_config *cfg, void *userdata);
    void (*fini)(void *userdata);
    /* Optional: extra text for --version. */
    void (*version)(void *userdata);
    /* Optional: called while the queue is empty, before each blocking wait
     * for a job (about twice a second while idle), in the process that
     * fetches. For getting ready for the next job (a warm connection, a
     * browser page); a job that arrives meanwhile waits for it, so keep it
     * bounded. */
    void (*idle)(void *userdata);
} drudge_worker_def;

/* 1 once this worker process was told to stop (SIGTERM, SIGINT, ...): the
 * job in hand may finish, nothing new should start. For hooks such as
 * `idle` that wait on something of their own. */
int drudge_worker_stopping(void);

/* Parse the standard worker flags (--config, --redis, --class, --isolation,
 * --log-level, --help, --version), load the config and run. Returns the
 * process exit code: 0 clean stop, 1 failure, 2 usage or config error. */
int drudge_worker_main(int argc, char **argv, const drudge_worker_def *def);

/* Run the worker loop for one class until told to stop or recycled. */
int drudge_worker_run(const drudge_config *cfg, const char *class_name,
                      const drudge_worker_def *def);

#ifdef __cplusplus
}
#endif
#endif
