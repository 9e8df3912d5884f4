/* housekeep.c - the worker's supervisor thread and the housekeeping it does.
 *
 * Each worker process runs one small thread beside its job loop, with its
 * own Redis connection, so that a long handler never delays a heartbeat. It
 *  - writes the heartbeat (drudge:workers score, drudge:worker:<id> hash),
 *  - promotes due delayed jobs of its class (an atomic script, so any number
 *    of workers may do it at once), waking at the earliest due time,
 *  - recovers the processing lists of dead workers (heartbeat older than
 *    dead_after) while it holds a short Redis lock, so one worker does it,
 *  - enforces the drain deadline and the hard per-job timeout for in-process
 *    jobs (a forked job's parent enforces its own),
 *  - samples RSS for max_rss_mb recycling.
 * No extra daemon and no cron entry are needed.
 */
#include "runtime.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define PROMOTE_BATCH "1000"
#define TICK_MAX_MS 1000   /* due delayed jobs start within this */

/* Connected hk_conn or -1; one attempt per call (the thread tries again on
 * its next tick, logging only the first failure of a run). */
static int hk_ready(drudge_worker *w)
{
    static int warned;
    if (w->hk_conn.ctx)
        return 0;
    if (drudge__conn_connect(&w->hk_conn) < 0) {
        if (!warned)
            drudge_log(DRUDGE_LOG_WARN, "housekeeping_disconnected", "error=%s", w->hk_conn.errstr);
        warned = 1;
        return -1;
    }
    warned = 0;
    return 0;
}

static int64_t promote(drudge_worker *w)
{
    const char *argv[3] = {w->keys.delayed, w->keys.queue, PROMOTE_BATCH};
    redisReply *r = drudge__conn_eval(&w->hk_conn, &drudge__script_promote, 2, 3, argv, NULL);
    int64_t next_due = -1;
    if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 2) {
        if (r->element[0]->integer > 0)
            drudge_log(DRUDGE_LOG_DEBUG, "promoted", "class=%s jobs=%lld", w->cls.name,
                       r->element[0]->integer);
        next_due = r->element[1]->integer;
        if (r->element[0]->integer == 1000)
            next_due = 0; /* more are due: go again at once */
    }
    if (r)
        freeReplyObject(r);
    return next_due;
}

int drudge__requeue_all(drudge_worker *w, drudge_conn *c)
{
    const char *argv[4] = {"LRANGE", w->processing_key, "0", "-1"};
    redisReply *r = drudge__conn_cmd(c, 4, argv, NULL);
    if (r == NULL)
        return -1;
    int rc = 0;
    if (r->type == REDIS_REPLY_ARRAY) {
        /* from the tail, so the order at the head of the queue is kept */
        for (size_t i = r->elements; i-- > 0;) {
            redisReply *e = r->element[i];
            char id[DRUDGE_ID_MAX + 1], status_key[DRUDGE_KEY_MAX + DRUDGE_ID_MAX];
            drudge__payload_id(e->str, e->len, w->cfg->max_payload_bytes, id);
            drudge__key_status(&w->keys, id, status_key, sizeof status_key);
            char ttl[24];
            snprintf(ttl, sizeof ttl, "%ld", w->cls.status_ttl);
            const char *rargv[5] = {w->processing_key, w->keys.queue, status_key, e->str, ttl};
            size_t lens[5] = {strlen(rargv[0]), strlen(rargv[1]), strlen(rargv[2]), e->len,
                              strlen(ttl)};
            redisReply *q = drudge__conn_eval(c, &drudge__script_requeue, 3, 5, rargv, lens);
            if (q == NULL) {
                rc = -1;
                break;
            }
            if (q->type == REDIS_REPLY_INTEGER && q->integer >= 1)
                drudge_log(DRUDGE_LOG_INFO, q->integer == 2 ? "cancelled" : "requeued",
                           "class=%s id=%s", w->cls.name, id);
            freeReplyObject(q);
        }
    }
    freeReplyObject(r);
    return rc;
}

/* Settings of a class for recovering its jobs: the dead worker's own (it
 * wrote them into its hash) if still there, else config over defaults. */
static void recovery_settings(drudge_worker *w, const char *dead_id, const char *cls,
                              drudge_class_config *out)
{
    drudge_config_class(w->cfg, cls, strcmp(cls, w->cls.name) == 0 ? &w->cls : NULL, out);
    char key[DRUDGE_KEY_MAX + 200];
    if (drudge__key_worker(w->cfg->namespace_, dead_id, key, sizeof key) < 0)
        return;
    const char *argv[5] = {"HMGET", key, "class", "max_attempts", "status_ttl"};
    redisReply *r = drudge__conn_cmd(&w->hk_conn, 5, argv, NULL);
    if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 3 &&
        r->element[0]->type == REDIS_REPLY_STRING && strcmp(r->element[0]->str, cls) == 0) {
        long v;
        if (r->element[1]->type == REDIS_REPLY_STRING &&
            drudge__parse_long(r->element[1]->str, 1, 1000, &v) == 0)
            out->max_attempts = (int)v;
        if (r->element[2]->type == REDIS_REPLY_STRING &&
            drudge__parse_long(r->element[2]->str, 1, 31536000, &v) == 0)
            out->status_ttl = v;
    }
    if (r)
        freeReplyObject(r);
}

/* Give back every job a dead worker held, in every known class. */
static void recover_worker(drudge_worker *w, const char *dead_id)
{
    char classes_key[DRUDGE_KEY_MAX];
    drudge__key_classes(w->cfg->namespace_, classes_key, sizeof classes_key);
    const char *argv[2] = {"SMEMBERS", classes_key};
    redisReply *classes = drudge__conn_cmd(&w->hk_conn, 2, argv, NULL);
    if (classes == NULL || classes->type != REDIS_REPLY_ARRAY) {
        if (classes)
            freeReplyObject(classes);
        return;
    }
    int ok = 1;
    for (size_t ci = 0; ci < classes->elements && ok; ci++) {
        const char *cls = classes->element[ci]->str;
        drudge_keys k;
        char pkey[DRUDGE_KEY_MAX + 200];
        if (drudge__keys_init(&k, w->cfg->namespace_, cls) < 0 ||
            drudge__key_processing(&k, dead_id, pkey, sizeof pkey) < 0)
            continue;
        const char *largv[4] = {"LRANGE", pkey, "0", "-1"};
        redisReply *jobs = drudge__conn_cmd(&w->hk_conn, 4, largv, NULL);
        if (jobs == NULL) {
            ok = 0;
            break;
        }
        if (jobs->type == REDIS_REPLY_ARRAY && jobs->elements > 0) {
            drudge_class_config cc;
            recovery_settings(w, dead_id, cls, &cc);
            char max_attempts[16], ttl[24], failed_max[24];
            snprintf(max_attempts, sizeof max_attempts, "%d", cc.max_attempts);
            snprintf(ttl, sizeof ttl, "%ld", cc.status_ttl);
            snprintf(failed_max, sizeof failed_max, "%ld", cc.failed_max);
            for (size_t i = jobs->elements; i-- > 0;) {
                redisReply *e = jobs->element[i];
                const char *was_running = i == 0 ? "1" : "0"; /* the head is the one it ran */
                char id[DRUDGE_ID_MAX + 1], skey[DRUDGE_KEY_MAX + DRUDGE_ID_MAX];
                drudge__payload_id(e->str, e->len, w->cfg->max_payload_bytes, id);
                drudge__key_status(&k, id, skey, sizeof skey);
                const char *rargv[11] = {pkey, k.queue, skey, k.failed, k.stats, e->str,
                                         max_attempts, "worker died while running this job", ttl,
                                         failed_max, was_running};
                size_t lens[11];
                for (int j = 0; j < 11; j++)
                    lens[j] = j == 5 ? e->len : strlen(rargv[j]);
                redisReply *q = drudge__conn_eval(&w->hk_conn, &drudge__script_recover, 5, 11,
                                                  rargv, lens);
                if (q == NULL) {
                    ok = 0;
                    break;
                }
                if (q->type == REDIS_REPLY_STRING && q->len > 0)
                    drudge_log(q->str[0] == 'f' ? DRUDGE_LOG_ERROR : DRUDGE_LOG_WARN,
                               "recovered", "class=%s id=%s dead_worker=%s to=%s", cls, id,
                               dead_id, q->str);
                freeReplyObject(q);
            }
        }
        freeReplyObject(jobs);
    }
    freeReplyObject(classes);
    if (!ok)
        return;
    char workers_key[DRUDGE_KEY_MAX], worker_key[DRUDGE_KEY_MAX + 200];
    drudge__key_workers(w->cfg->namespace_, workers_key, sizeof workers_key);
    drudge__key_worker(w->cfg->namespace_, dead_id, worker_key, sizeof worker_key);
    const char *zargv[3] = {"ZREM", workers_key, dead_id};
    redisReply *r = drudge__conn_cmd(&w->hk_conn, 3, zargv, NULL);
    if (r)
        freeReplyObject(r);
    const char *dargv[2] = {"DEL", worker_key};
    r = drudge__conn_cmd(&w->hk_conn, 2, dargv, NULL);
    if (r)
        freeReplyObject(r);
}

/* Try the housekeeping lock; 1 if this worker holds it now. */
static int take_lock(drudge_worker *w)
{
    char key[DRUDGE_KEY_MAX];
    drudge__key_lock(w->cfg->namespace_, "housekeeping", key, sizeof key);
    char px[24];
    snprintf(px, sizeof px, "%lld", (long long)(w->cfg->heartbeat * 1000));
    const char *argv[6] = {"SET", key, w->id, "NX", "PX", px};
    redisReply *r = drudge__conn_cmd(&w->hk_conn, 6, argv, NULL);
    int held = r && r->type == REDIS_REPLY_STATUS;
    if (r)
        freeReplyObject(r);
    return held;
}

void drudge__housekeep_tick(drudge_worker *w, int heartbeat_due)
{
    if (hk_ready(w) < 0)
        return;
    if (!heartbeat_due)
        return;
    char workers_key[DRUDGE_KEY_MAX], worker_key[DRUDGE_KEY_MAX + 200];
    drudge__key_workers(w->cfg->namespace_, workers_key, sizeof workers_key);
    drudge__key_worker(w->cfg->namespace_, w->id, worker_key, sizeof worker_key);
    char ttl[24], dead_ms[24], pid[16], started[24], done[24], rss[24], job_started[24],
        max_attempts[16], status_ttl[24];
    long hash_ttl = (long)(w->cfg->dead_after * 2 + w->cfg->heartbeat * 2);
    snprintf(ttl, sizeof ttl, "%ld", hash_ttl < 10 ? 10 : hash_ttl);
    snprintf(dead_ms, sizeof dead_ms, "%lld", (long long)(w->cfg->dead_after * 1000));
    snprintf(pid, sizeof pid, "%d", (int)getpid());
    snprintf(started, sizeof started, "%lld", (long long)w->started_at_ms);
    long rss_kb = drudge__rss_kb();
    atomic_store(&w->rss_kb, rss_kb);
    snprintf(rss, sizeof rss, "%ld", rss_kb);
    snprintf(max_attempts, sizeof max_attempts, "%d", w->cls.max_attempts);
    snprintf(status_ttl, sizeof status_ttl, "%ld", w->cls.status_ttl);
    char cur[DRUDGE_ID_MAX + 1];
    pthread_mutex_lock(&w->mu);
    snprintf(cur, sizeof cur, "%s", w->cur_id);
    snprintf(done, sizeof done, "%ld", w->jobs_done);
    int64_t job_age = w->cur_id[0] ? drudge__mono_ms() - w->cur_started_mono : 0;
    pthread_mutex_unlock(&w->mu);
    snprintf(job_started, sizeof job_started, "%lld",
             cur[0] ? (long long)(drudge__now_ms() - job_age) : 0LL);
    char classes_key[DRUDGE_KEY_MAX];
    drudge__key_classes(w->cfg->namespace_, classes_key, sizeof classes_key);
    const char *argv[] = {workers_key, worker_key, classes_key, w->id, ttl, dead_ms, w->cls.name,
                          "host", w->host, "pid", pid, "class", w->cls.name,
                          "classes", w->cls.name, "program", w->def->program,
                          "isolation", w->cls.isolation == DRUDGE_ISOLATION_FORK ? "fork" : "inprocess",
                          "started_at", started, "job", cur, "job_started_at", job_started,
                          "jobs_done", done, "rss_kb", rss, "max_attempts", max_attempts,
                          "status_ttl", status_ttl};
    int argc = (int)(sizeof argv / sizeof argv[0]);
    redisReply *r = drudge__conn_eval(&w->hk_conn, &drudge__script_heartbeat, 3, argc, argv, NULL);
    if (r == NULL)
        return;
    if (r->type == REDIS_REPLY_ARRAY && r->elements > 0 && take_lock(w)) {
        for (size_t i = 0; i < r->elements; i++)
            if (strcmp(r->element[i]->str, w->id) != 0) {
                drudge_log(DRUDGE_LOG_WARN, "dead_worker", "worker=%s", r->element[i]->str);
                recover_worker(w, r->element[i]->str);
            }
    }
    freeReplyObject(r);
    if (w->cfg->max_rss_mb > 0 && rss_kb > w->cfg->max_rss_mb * 1024 && !atomic_load(&w->recycle)) {
        drudge_log(DRUDGE_LOG_INFO, "recycle", "class=%s reason=max_rss_mb rss_kb=%ld", w->cls.name,
                   rss_kb);
        atomic_store(&w->recycle, 1);
    }
}

void drudge__unregister(drudge_worker *w, drudge_conn *c)
{
    char workers_key[DRUDGE_KEY_MAX], worker_key[DRUDGE_KEY_MAX + 200];
    drudge__key_workers(w->cfg->namespace_, workers_key, sizeof workers_key);
    drudge__key_worker(w->cfg->namespace_, w->id, worker_key, sizeof worker_key);
    const char *zargv[3] = {"ZREM", workers_key, w->id};
    redisReply *r = drudge__conn_cmd(c, 3, zargv, NULL);
    if (r)
        freeReplyObject(r);
    const char *dargv[2] = {"DEL", worker_key};
    r = drudge__conn_cmd(c, 2, dargv, NULL);
    if (r)
        freeReplyObject(r);
}

/* In-process jobs cannot be interrupted safely from outside, so at the drain
 * deadline (or a second SIGINT) the job is given back on this thread's
 * connection and the process ends; a job far past its timeout ends the
 * process too and is recovered like a crash. */
static void enforce_deadlines(drudge_worker *w)
{
    if (drudge__drain_over(w, drudge__mono_ms()))
        w->give_up = 1; /* a job loop stuck reconnecting stops trying */
    if (w->cls.isolation == DRUDGE_ISOLATION_FORK)
        return;
    pthread_mutex_lock(&w->mu);
    int busy = w->cur_id[0] != '\0';
    int64_t deadline = w->cur_deadline_mono;
    char id[DRUDGE_ID_MAX + 1];
    snprintf(id, sizeof id, "%s", w->cur_id);
    pthread_mutex_unlock(&w->mu);
    if (!busy)
        return;
    int64_t now = drudge__mono_ms();
    if (drudge__drain_over(w, now)) {
        drudge_log(DRUDGE_LOG_WARN, "drain_deadline", "class=%s id=%s action=requeue",
                   w->cls.name, id);
        if (hk_ready(w) == 0)
            drudge__requeue_all(w, &w->hk_conn);
        drudge__unregister(w, &w->hk_conn);
        _exit(0);
    }
    int64_t margin = (int64_t)(w->cls.timeout * 100); /* 10% */
    if (margin < 5000)
        margin = 5000;
    if (now > deadline + margin) {
        drudge_log(DRUDGE_LOG_ERROR, "hard_timeout",
                   "class=%s id=%s timeout=%.0f action=exit note=\"job recovered by housekeeping\"",
                   w->cls.name, id, w->cls.timeout);
        _exit(1);
    }
}

#define MARK_AFTER_MS 50      /* an in-process job is shown running after this */
#define RECHECK_MS 1000       /* then its cancel flag is re-read this often */
#define BUSY_MS 1000          /* a worker that ran a job this recently is busy */

/* Mark the current in-process job running once it has run MARK_AFTER_MS,
 * and keep reading its cancel flag while it runs. Returns ms until this
 * needs doing again (-1: nothing running). */
static int64_t watch_running(drudge_worker *w)
{
    if (w->cls.isolation == DRUDGE_ISOLATION_FORK)
        return -1;
    int64_t now = drudge__mono_ms();
    pthread_mutex_lock(&w->mu);
    if (!w->cur_id[0]) {
        pthread_mutex_unlock(&w->mu);
        return -1;
    }
    int64_t age = now - w->cur_started_mono;
    int64_t due = w->cur_last_mark_mono ? w->cur_last_mark_mono + RECHECK_MS
                                        : w->cur_started_mono + MARK_AFTER_MS;
    if (now < due) {
        pthread_mutex_unlock(&w->mu);
        return due - now;
    }
    /* copy what the mark needs: the job loop may finish the job meanwhile */
    size_t len = w->cur_payload_len;
    char *payload = malloc(len + 1);
    char status_key[sizeof w->cur_status_key];
    if (payload)
        memcpy(payload, w->cur_payload, len);
    snprintf(status_key, sizeof status_key, "%s", w->cur_status_key);
    w->cur_last_mark_mono = now;
    pthread_mutex_unlock(&w->mu);
    if (payload == NULL || hk_ready(w) < 0) {
        free(payload);
        return RECHECK_MS;
    }
    char ran[24];
    snprintf(ran, sizeof ran, "%lld", (long long)age);
    const char *argv[7] = {w->processing_key, status_key, payload, w->id, ran, "", ""};
    size_t lens[7] = {strlen(argv[0]), strlen(argv[1]), len, strlen(w->id), strlen(ran), 0, 0};
    redisReply *r = drudge__conn_eval(&w->hk_conn, &drudge__script_mark_running, 2, 7, argv, lens);
    free(payload);
    if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 2) {
        pthread_mutex_lock(&w->mu);
        if (r->element[0]->integer > 0 && strcmp(w->cur_status_key, status_key) == 0)
            w->cur_attempt = (int)r->element[0]->integer;
        pthread_mutex_unlock(&w->mu);
        if (r->element[1]->integer)
            atomic_store(&w->cur_cancel, 1);
    }
    if (r)
        freeReplyObject(r);
    return RECHECK_MS;
}

static void *supervisor_main(void *arg)
{
    drudge_worker *w = arg;
    int64_t hb_ms = (int64_t)(w->cfg->heartbeat * 1000);
    int64_t next_hb = drudge__mono_ms() + hb_ms;
    int64_t next_promote = 0;
    while (!atomic_load(&w->exiting)) {
        int64_t now = drudge__mono_ms();
        if (now >= next_promote) {
            int64_t due = hk_ready(w) == 0 ? promote(w) : -1;
            int64_t wall = drudge__now_ms();
            int64_t wait = due < 0 ? TICK_MAX_MS : due - wall;
            if (wait > TICK_MAX_MS)
                wait = TICK_MAX_MS;
            if (wait < 0)
                wait = 0;
            next_promote = drudge__mono_ms() + wait;
        }
        if (now >= next_hb) {
            drudge__housekeep_tick(w, 1);
            next_hb = drudge__mono_ms() + hb_ms;
        }
        if (w->schedule && hk_ready(w) == 0) {
            int64_t cron_ms = drudge__schedule_tick(w, w->schedule);
            if (cron_ms >= 0 && drudge__mono_ms() + cron_ms < next_promote)
                next_promote = drudge__mono_ms() + cron_ms;
        }
        enforce_deadlines(w);
        /* Say we may doze before looking, so a job starting in between
         * wakes us (set_current() clears the flag and writes the pipe). */
        atomic_store(&w->supervisor_dozing, 1);
        int64_t watch = watch_running(w);
        now = drudge__mono_ms();
        int64_t wake = next_hb < next_promote ? next_hb : next_promote;
        int timeout = (int)(wake - now);
        if (timeout < 0)
            timeout = 0;
        if (watch < 0) {
            /* Between jobs of a busy worker, look again soon instead of
             * being woken for each of thousands of short jobs a second;
             * only a worker idle for a while dozes until woken. */
            pthread_mutex_lock(&w->mu);
            int64_t idle = w->last_end_mono ? now - w->last_end_mono : -1;
            pthread_mutex_unlock(&w->mu);
            if (idle >= 0 && idle < BUSY_MS)
                watch = MARK_AFTER_MS;
        }
        if (watch >= 0) {
            atomic_store(&w->supervisor_dozing, 0);
            if (watch < timeout)
                timeout = (int)watch;
        }
        if (drudge__stop_signals && timeout > 200)
            timeout = 200; /* draining: watch the deadline closely */
        struct pollfd p = {.fd = w->wake_pipe[0], .events = POLLIN};
        if (poll(&p, 1, timeout) > 0) {
            char buf[64];
            while (read(w->wake_pipe[0], buf, sizeof buf) > 0) {
            }
        }
        atomic_store(&w->supervisor_dozing, 0);
    }
    return NULL;
}

int drudge__supervisor_start(drudge_worker *w)
{
    if (w->cfg->nschedule > 0 && (w->schedule = drudge__schedule_new(w->cfg)) == NULL)
        return -1;
    sigset_t all, old;
    sigfillset(&all);
    /* signals go to the job loop's thread, never to this one */
    pthread_sigmask(SIG_BLOCK, &all, &old);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    int rc = pthread_create(&w->supervisor, &attr, supervisor_main, w);
    pthread_attr_destroy(&attr);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        errno = rc;
        return -1;
    }
    w->supervisor_started = 1;
    return 0;
}

void drudge__supervisor_stop(drudge_worker *w)
{
    atomic_store(&w->exiting, 1);
    ssize_t n = write(w->wake_pipe[1], "x", 1);
    (void)n;
    pthread_join(w->supervisor, NULL);
    w->supervisor_started = 0;
    drudge__schedule_free(w->schedule);
    w->schedule = NULL;
}
