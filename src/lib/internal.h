/* internal.h - what the modules of libdrudge share and nobody else sees.
 *
 * Names here are drudge__noun_verb(). Each block says which .c owns it.
 */
#ifndef DRUDGE_INTERNAL_H
#define DRUDGE_INTERNAL_H

#include "drudge.h"

#include <hiredis/hiredis.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

/* ---- clock.c-like helpers (util.c) ---- */
int64_t drudge__now_ms(void);            /* wall clock, unix ms */
int64_t drudge__mono_ms(void);           /* monotonic ms */
/* Uniform random in [0, 1); seeded per process from the clock and pid. */
double drudge__random(void);
/* snprintf into a fixed buffer; -1 on truncation. */
int drudge__fmt(char *buf, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* strtol / strtod with full checks: whole string, range. 0 or -1. */
int drudge__parse_long(const char *s, long min, long max, long *out);
int drudge__parse_double(const char *s, double min, double max, double *out);
/* Current RSS of this process in kB (from /proc/self/statm), or -1. */
long drudge__rss_kb(void);

/* ---- sha256.c, job.c ---- */
void drudge__sha256(const void *data, size_t len, unsigned char out[32]);
/* The same with the CPU's SHA extensions (hw, when it has them) or the
 * portable code: for the tests, which check both. */
void drudge__sha256_with(const void *data, size_t len, unsigned char out[32], int hw);
int drudge__sha256_hw_available(void);
/* The id a worker uses for a fetched payload: its valid "id" if the payload
 * passes the checks, else the hash of the bytes (a failing job is known by
 * that). Every module that maps a payload to its status uses this. */
void drudge__payload_id(const char *payload, size_t len, size_t max_bytes,
                        char out[DRUDGE_ID_MAX + 1]);
/* The same, keeping the parse: returns the payload's object (the caller's to
 * json_decref) when it passes the checks, else NULL with the reason in why. */
json_t *drudge__payload_identify(const char *payload, size_t len, size_t max_bytes,
                                 char id[DRUDGE_ID_MAX + 1], char *why, size_t whycap);

/* ---- keys.c: every Redis key name is built here ---- */
#define DRUDGE_KEY_MAX 400

typedef struct drudge_keys {
    char queue[DRUDGE_KEY_MAX];
    char delayed[DRUDGE_KEY_MAX];
    char failed[DRUDGE_KEY_MAX];
    char paused[DRUDGE_KEY_MAX];
    char stats[DRUDGE_KEY_MAX];
    char status_prefix[DRUDGE_KEY_MAX];      /* "<ns:><Class>:status:" */
    char processing_prefix[DRUDGE_KEY_MAX];  /* "<ns:><Class>:processing:" */
    char breaker[DRUDGE_KEY_MAX];            /* "<ns:><Class>:breaker" cool-down state */
    char rate[DRUDGE_KEY_MAX];               /* "<ns:><Class>:rate" limiter state */
    char minute_prefix[DRUDGE_KEY_MAX];      /* "<ns:><Class>:minute:" + unix minute: counters */
} drudge_keys;

/* Build the per-class keys. -1 if a name does not fit. */
int drudge__keys_init(drudge_keys *k, const char *ns, const char *class_name);
int drudge__key_status(const drudge_keys *k, const char *id, char *out, size_t cap);
int drudge__key_processing(const drudge_keys *k, const char *worker_id, char *out, size_t cap);
/* Global keys. */
int drudge__key_workers(const char *ns, char *out, size_t cap);       /* drudge:workers */
int drudge__key_worker(const char *ns, const char *worker_id, char *out, size_t cap);
int drudge__key_classes(const char *ns, char *out, size_t cap);       /* drudge:classes (set) */
int drudge__key_lock(const char *ns, const char *what, char *out, size_t cap); /* drudge:lock:<what> */
int drudge__key_cron(const char *ns, const char *entry, char *out, size_t cap); /* drudge:cron:<name> */
int drudge__key_push(const char *ns, const char *token, char *out, size_t cap); /* drudge:push:<token> */

/* ---- conn.c: one Redis connection with timeouts and reconnection ---- */
typedef struct drudge_conn {
    redisContext *ctx;              /* NULL while disconnected */
    drudge_redis_url url;
    double connect_timeout;
    double command_timeout;
    char errstr[DRUDGE_ERRSTR_MAX];
    int reconnect_attempt;          /* consecutive failures, for backoff */
} drudge_conn;

/* Configure (does not connect). -1 with errstr on a bad URL. */
int drudge__conn_init(drudge_conn *c, const drudge_config *cfg);
void drudge__conn_release(drudge_conn *c);
/* Connect once (AUTH, SELECT). 0 or -1 with errstr. */
int drudge__conn_connect(drudge_conn *c);
/* Connect, retrying with capped exponential backoff and jitter, logging each
 * attempt, until connected or *stop becomes non-zero (then -1). */
int drudge__conn_connect_retry(drudge_conn *c, volatile int *stop);
/* Drop the connection (after an I/O error the context is unusable). */
void drudge__conn_drop(drudge_conn *c);
/* Run a command; returns the reply (caller freeReplyObject()s) or NULL with
 * errstr set. An I/O error drops the connection. A Redis error reply is
 * returned as a reply of type REDIS_REPLY_ERROR (and errstr is set too). */
redisReply *drudge__conn_cmd(drudge_conn *c, int argc, const char **argv, const size_t *lens);
/* Scripts: loaded once per connection; EVALSHA with NOSCRIPT fallback. */
typedef struct drudge_script {
    const char *name;
    const char *body;
    char sha[41];
} drudge_script;
redisReply *drudge__conn_eval(drudge_conn *c, drudge_script *s, int nkeys, int argc,
                              const char **argv, const size_t *lens);
/* Append EVALSHA without reading the reply (pipelining). 0 or -1. */
int drudge__conn_append_eval(drudge_conn *c, drudge_script *s, int nkeys, int argc,
                             const char **argv, const size_t *lens);
/* Read one pending reply. NULL on I/O error (connection dropped). */
redisReply *drudge__conn_read(drudge_conn *c);

/* ---- scripts.c: the Lua scripts, one per atomic operation ---- */
extern drudge_script drudge__script_push;
extern drudge_script drudge__script_push_many;
extern drudge_script drudge__script_start;
extern drudge_script drudge__script_ack_fetch;
extern drudge_script drudge__script_mark_running;
extern drudge_script drudge__script_promote;
extern drudge_script drudge__script_recover;
extern drudge_script drudge__script_requeue;
extern drudge_script drudge__script_heartbeat;
extern drudge_script drudge__script_cron_fire;
extern drudge_script drudge__script_limit;
extern drudge_script drudge__script_failed_retry;  /* admin.c */
extern drudge_script drudge__script_failed_delete; /* admin.c */
extern drudge_script drudge__script_cancel;        /* admin.c */
extern drudge_script *const drudge__scripts[];
extern const size_t drudge__nscripts;

/* ---- retry.c: backoff (pure) ---- */
/* Delay in ms before attempt `attempt`+1 after `attempt` failed (attempt >= 1):
 * full jitter over an exponential envelope, clamped to [base, cap].
 * `r` is a uniform random in [0,1). */
int64_t drudge__backoff_ms(double base_s, double cap_s, int attempt, double r);

/* ---- cron.c: 5-field cron expressions (pure) ---- */
typedef struct drudge_cron {
    uint64_t minutes;   /* bit m set: minute m (0-59) */
    uint32_t hours;     /* 0-23 */
    uint32_t mdays;     /* 1-31 */
    uint16_t months;    /* 1-12 */
    uint8_t wdays;      /* 0-6, Sunday = 0 (7 accepted as Sunday) */
    int mday_star;      /* day-of-month field was "*" */
    int wday_star;      /* day-of-week field was "*" */
} drudge_cron;

/* Parse "m h dom mon dow" (numbers, *, ranges a-b, steps "*" "/" n and a-b/n,
 * lists, month and weekday names jan..dec / sun..sat, and the macros
 * @yearly @annually @monthly @weekly @daily @midnight @hourly).
 * Returns 0, or -1 with a reason naming the field in err. */
int drudge__cron_parse(const char *expr, drudge_cron *out, char *err, size_t errcap);
/* 1 if the minute starting at unix time t (seconds, in the zone's local
 * broken-down time `tm`) matches. Standard rule: when both day fields are
 * restricted, a day matches if either matches. */
int drudge__cron_matches(const drudge_cron *c, const struct tm *tm);
/* Next matching minute strictly after `after` (unix seconds) in timezone tz
 * ("UTC" or an IANA name); -1 if none within 5 years or tz is unknown. */
int64_t drudge__cron_next(const drudge_cron *c, int64_t after, const char *tz);

/* ---- queue.c: push, fetch, ack ---- */

/* Reconnect if the connection dropped (one attempt). 0 or -1 with errstr. */
int drudge__client_ready(drudge_client *c);

struct drudge_client {
    const drudge_config *cfg;
    drudge_conn conn;
    char errstr[DRUDGE_ERRSTR_MAX];
    char registered_class[DRUDGE_CLASS_MAX + 1]; /* last class added to drudge:classes */
};

#endif
