/* runtime.h - state shared by the worker runtime's modules: worker.c (the
 * job loop, signals, isolation) and housekeep.c (the supervisor thread:
 * heartbeats, deadlines, delayed-job promotion, dead-worker recovery, cron).
 * Not part of the public API. */
#ifndef DRUDGE_RUNTIME_H
#define DRUDGE_RUNTIME_H

#include "internal.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>

typedef struct drudge_worker {
    const drudge_config *cfg;
    const drudge_worker_def *def;
    drudge_class_config cls;
    drudge_keys keys;
    char id[200];
    char processing_key[DRUDGE_KEY_MAX + 200];
    char host[128];
    int64_t started_at_ms;
    int64_t started_mono;

    drudge_conn conn;             /* the job loop's connection */
    double avg_run_us;            /* moving average of handler time, for prefetch */

    /* Supervisor thread (housekeep.c) with its own connection. */
    pthread_t supervisor;
    int supervisor_started;
    struct drudge_schedule *schedule;   /* supervisor thread only */
    drudge_conn hk_conn;
    int wake_pipe[2];             /* signal handler -> supervisor */
    int main_pipe[2];             /* signal handler -> job loop (fork mode) */

    /* Shared between the threads, under mu. */
    pthread_mutex_t mu;
    char cur_id[DRUDGE_ID_MAX + 1];   /* "" when idle */
    const char *cur_payload;          /* borrowed from the job loop while cur_id is set */
    size_t cur_payload_len;
    char cur_status_key[DRUDGE_KEY_MAX + DRUDGE_ID_MAX];
    int64_t cur_started_mono;
    int64_t cur_deadline_mono;
    int64_t cur_last_mark_mono;       /* 0: not marked running yet */
    int cur_attempt;                  /* known once marked */
    int64_t last_end_mono;            /* when the last job ended */
    long jobs_done;
    atomic_int cur_cancel;            /* cancel requested for the current job */
    atomic_int supervisor_dozing;     /* asleep for long: wake it when a job starts */
    atomic_int exiting;               /* job loop finished; supervisor ends */
    atomic_int recycle;               /* set by the supervisor (RSS) */
    volatile int give_up;             /* drain deadline passed: stop reconnecting */
    atomic_long rss_kb;
} drudge_worker;

/* Stop requests from signals (worker.c). */
extern volatile sig_atomic_t drudge__stop_signals;   /* count of stop signals */
extern volatile sig_atomic_t drudge__sigint_count;
extern atomic_llong drudge__stop_at_mono;             /* 0 = not stopping */
/* 1 once a running job must go: drain_timeout after the first stop signal,
 * or a second SIGINT. */
int drudge__drain_over(const drudge_worker *w, int64_t now_mono);

/* schedule.c: cron entries from the config */
typedef struct drudge_schedule drudge_schedule;
drudge_schedule *drudge__schedule_new(const drudge_config *cfg);
void drudge__schedule_free(drudge_schedule *s);
/* Fire what is due; returns ms until the next entry is due, -1 if none. */
int64_t drudge__schedule_tick(drudge_worker *w, drudge_schedule *s);

/* housekeep.c */
int drudge__supervisor_start(drudge_worker *w);
void drudge__supervisor_stop(drudge_worker *w);
/* Give every job in this worker's processing list back to the head of its
 * queue (uncharged if it was running), on connection c. -1 on error. */
int drudge__requeue_all(drudge_worker *w, drudge_conn *c);
/* One heartbeat / housekeeping pass (also used at start-up). */
void drudge__housekeep_tick(drudge_worker *w, int heartbeat_due);
/* Remove this worker from drudge:workers (clean exit). */
void drudge__unregister(drudge_worker *w, drudge_conn *c);

#endif
