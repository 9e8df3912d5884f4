/* worker.c - the worker runtime: the loop every drudge worker binary runs.
 *
 * The life of a job, as this loop sees it:
 *
 *   A producer RPUSHes the payload onto <Class>. A worker takes it with one
 *   atomic move into its own list <Class>:processing:<worker-id> - either
 *   inside the ack_fetch script that also recorded the previous job's
 *   outcome, or, when the queue was empty, with a blocking BLMOVE. From then
 *   on the job is in Redis and in no one's memory only: if the worker dies,
 *   housekeeping (housekeep.c) finds its heartbeat stale and puts the job
 *   back. The worker marks the job running (the start script counts the
 *   attempt), runs the handler - in this process, or in a forked child when
 *   the class's isolation is `fork` - and then records the outcome with the
 *   same ack_fetch call that takes the next job: done (status done, result,
 *   counters), retry (to <Class>:delayed at now + backoff, or failed when
 *   attempts are used up), fail (to <Class>:failed) or unavailable (back to
 *   the head, attempt not spent, class paused by the circuit breaker).
 *   Only after that is the job removed from the processing list.
 *
 * So a busy worker makes one round trip per batch: ack_fetch records the
 * outcomes of the jobs it ran and moves the next ones into its processing
 * list. While jobs are short (under ~2 ms on average) it takes up to
 * `worker.prefetch` jobs at once, holding at most ~2 ms of work, so other
 * workers are not starved; slow jobs are taken one at a time. Every ack is
 * guarded by LREM on the processing list, so an ack resent after a lost
 * connection cannot count twice.
 *
 * A job is marked `running` (and its attempt counted) when it reports
 * progress, asks for its attempt number, runs longer than 50 ms (the
 * supervisor thread marks it), or at once in fork isolation; a job that is
 * over before any of that goes from queued to done in one write, its
 * attempt counted by the ack. Housekeeping counts the attempt of a job a
 * dead worker was running if nothing had counted it, so a poison pill still
 * ends in the failed list.
 *
 * Signals (SIGTERM, SIGINT, SIGQUIT, SIGHUP) stop the taking of jobs; the
 * current job finishes within drain_timeout, else it is stopped and given
 * back to the head of its queue (the supervisor thread enforces that for
 * in-process jobs, this loop for forked ones). A second SIGINT does that at
 * once. Recycling (max_jobs, max_runtime, max_rss_mb) ends the loop after
 * the current job. Exit code 0 in all these cases.
 */
#include "runtime.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

volatile sig_atomic_t drudge__stop_signals;
volatile sig_atomic_t drudge__sigint_count;
atomic_llong drudge__stop_at_mono;
static int signal_fds[2] = {-1, -1}; /* write ends: supervisor, job loop */

#define FETCH_BLOCK_S "0.5"     /* idle workers notice a stop within this */
#define ERROR_MAX 1000          /* error text kept in the status hash */
#define RECYCLE_MIN_UPTIME_MS 3000

static const char *const outcome_names[] = {"done", "retry", "fail", "unavailable"};

const char *drudge_outcome_name(drudge_outcome o)
{
    return (unsigned)o < sizeof outcome_names / sizeof outcome_names[0] ? outcome_names[o] : "?";
}

/* ---- the context a handler sees ---- */

struct drudge_ctx {
    drudge_worker *w;
    const char *payload;
    size_t payload_len;
    const char *status_key;
    int64_t started_mono;
    int in_child;               /* fork isolation: report through report_fd */
    int report_fd;
    int attempt;                /* known once marked */
    int64_t deadline_ms;        /* unix ms */
    int64_t deadline_mono;
    int64_t last_progress_mono;
    int pending;                /* mark replies not yet read */
    int cancelled;
    char *result;
    char error[ERROR_MAX + 1];
    int64_t retry_after_ms;
};

/* Read the replies of marks sent without waiting. */
static void read_pending(drudge_ctx *ctx)
{
    while (ctx->pending > 0) {
        ctx->pending--;
        redisReply *r = drudge__conn_read(&ctx->w->conn);
        if (r == NULL) {
            ctx->pending = 0;
            return;
        }
        if (r->type == REDIS_REPLY_ARRAY && r->elements == 2) {
            if (r->element[0]->integer > 0)
                ctx->attempt = (int)r->element[0]->integer;
            if (r->element[1]->integer)
                ctx->cancelled = 1;
        }
        freeReplyObject(r);
    }
}

/* Mark the job running (counting its attempt) with optional progress and
 * message; sent without waiting for the reply unless `wait`. */
static void send_mark(drudge_ctx *ctx, const char *pct, const char *msg, int wait)
{
    drudge_worker *w = ctx->w;
    char ran[24];
    snprintf(ran, sizeof ran, "%lld", (long long)(drudge__mono_ms() - ctx->started_mono));
    const char *argv[7] = {w->processing_key, ctx->status_key, ctx->payload, w->id, ran, pct, msg};
    size_t lens[7] = {strlen(argv[0]), strlen(argv[1]), ctx->payload_len, strlen(w->id),
                      strlen(ran), strlen(pct), strlen(msg)};
    if (drudge__conn_append_eval(&w->conn, &drudge__script_mark_running, 2, 7, argv, lens) < 0)
        return;
    ctx->pending++;
    int done = 0;
    while (!done && w->conn.ctx)
        if (redisBufferWrite(w->conn.ctx, &done) != REDIS_OK)
            drudge__conn_drop(&w->conn);
    if (wait)
        read_pending(ctx);
}

int drudge_ctx_attempt(drudge_ctx *ctx)
{
    if (!ctx->in_child && ctx->attempt <= 0) {
        pthread_mutex_lock(&ctx->w->mu);
        ctx->attempt = ctx->w->cur_attempt;
        pthread_mutex_unlock(&ctx->w->mu);
        if (ctx->attempt <= 0)
            send_mark(ctx, "", "", 1);
    }
    return ctx->attempt > 0 ? ctx->attempt : 1;
}

int64_t drudge_ctx_deadline_ms(const drudge_ctx *ctx) { return ctx->deadline_ms; }

int drudge_worker_stopping(void) { return drudge__stop_signals > 0; }

int drudge__drain_over(const drudge_worker *w, int64_t now_mono)
{
    long long stop_at = atomic_load(&drudge__stop_at_mono);
    return drudge__sigint_count >= 2 ||
           (stop_at && now_mono >= stop_at + (int64_t)(w->cfg->drain_timeout * 1000));
}

int drudge_ctx_cancelled(drudge_ctx *ctx)
{
    int64_t now = drudge__mono_ms();
    if (now > ctx->deadline_mono)
        return 1;
    /* a drain lets the job finish until its deadline (or a second SIGINT) */
    if (drudge__drain_over(ctx->w, now))
        return 1;
    if (!ctx->in_child && atomic_load(&ctx->w->cur_cancel))
        ctx->cancelled = 1;
    return ctx->cancelled;
}

void drudge_ctx_set_result(drudge_ctx *ctx, const char *json)
{
    free(ctx->result);
    ctx->result = json ? strdup(json) : NULL;
}

drudge_outcome drudge_ctx_error(drudge_ctx *ctx, drudge_outcome o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ctx->error, sizeof ctx->error, fmt, ap);
    va_end(ap);
    for (char *p = ctx->error; *p; p++) /* one line */
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    return o;
}

void drudge_ctx_retry_after(drudge_ctx *ctx, int64_t ms) { ctx->retry_after_ms = ms; }

/* ---- named limits (limit.lua) ---- */

/* The connection a handler's limit calls use: the job loop's in-process; in
 * a forked child (which must not touch the parent's sockets) its own. */
static drudge_conn *limit_conn(drudge_ctx *ctx)
{
    static drudge_conn child_conn;
    static int child_ready;
    if (!ctx->in_child) {
        read_pending(ctx);
        return ctx->w->conn.ctx ? &ctx->w->conn : NULL;
    }
    if (!child_ready) {
        if (drudge__conn_init(&child_conn, ctx->w->cfg) < 0)
            return NULL;
        child_ready = 1;
    }
    if (child_conn.ctx == NULL && drudge__conn_connect(&child_conn) < 0)
        return NULL;
    return &child_conn;
}

static int64_t limit_call(drudge_ctx *ctx, const char *kind, const char *name, const char *op,
                          const char *arg)
{
    char key[DRUDGE_KEY_MAX + DRUDGE_ID_MAX + 16];
    if (!drudge_id_valid(name) ||
        drudge__fmt(key, sizeof key, "%s:%s", kind[0] == 'r' ? ctx->w->keys.rate
                                                               : ctx->w->keys.breaker, name) < 0)
        return -1;
    drudge_conn *c = limit_conn(ctx);
    if (c == NULL)
        return -1;
    const char *argv[5] = {key, op, arg, "5000", "300000"};
    redisReply *r = drudge__conn_eval(c, &drudge__script_limit, 1, 5, argv, NULL);
    int64_t v = -1;
    if (r && r->type == REDIS_REPLY_INTEGER)
        v = r->integer;
    if (r)
        freeReplyObject(r);
    return v;
}

int64_t drudge_ctx_rate_take(drudge_ctx *ctx, const char *name, double per_second)
{
    if (!(per_second > 0))
        return 0;
    char rate[32];
    snprintf(rate, sizeof rate, "%.6f", per_second);
    return limit_call(ctx, "rate", name, "rate", rate);
}

int64_t drudge_ctx_breaker_check(drudge_ctx *ctx, const char *name)
{
    int64_t v = limit_call(ctx, "breaker", name, "check", "");
    return v < 0 ? 0 : v;
}

int64_t drudge_ctx_breaker_trip(drudge_ctx *ctx, const char *name, const char *error)
{
    return limit_call(ctx, "breaker", name, "trip", error ? error : "");
}

void drudge_ctx_breaker_reset(drudge_ctx *ctx, const char *name)
{
    limit_call(ctx, "breaker", name, "reset", "");
}

/* Fork isolation: the child reports to the parent through a pipe, in frames
 * of one type byte, a 4-byte length and the bytes. */
enum { MSG_PROGRESS = 'P', MSG_RESULT = 'R', MSG_ERROR = 'E', MSG_OUTCOME = 'O' };

static int write_frame(int fd, char type, const char *data, uint32_t len)
{
    char hdr[5];
    hdr[0] = type;
    memcpy(hdr + 1, &len, 4);
    if (write(fd, hdr, 5) != 5)
        return -1;
    size_t off = 0;
    while (off < len) {
        ssize_t n = write(fd, data + off, len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        off += (size_t)n;
    }
    return 0;
}

void drudge_ctx_progress(drudge_ctx *ctx, int percent, const char *message)
{
    int64_t now = drudge__mono_ms();
    double interval_ms = ctx->w->cfg->progress_interval * 1000;
    if (ctx->last_progress_mono && now - ctx->last_progress_mono < (int64_t)interval_ms &&
        percent < 100)
        return;
    ctx->last_progress_mono = now;
    char pct[16] = "";
    if (percent >= 0)
        snprintf(pct, sizeof pct, "%d", percent > 100 ? 100 : percent);
    char msg[256] = "";
    if (message) {
        snprintf(msg, sizeof msg, "%s", message);
        for (char *p = msg; *p; p++)
            if (*p == '\n' || *p == '\r' || *p == '\t')
                *p = ' ';
    }
    if (ctx->in_child) {
        char frame[300];
        int n = snprintf(frame, sizeof frame, "%s\t%s", pct, msg);
        if (n > 0)
            write_frame(ctx->report_fd, MSG_PROGRESS, frame,
                        (uint32_t)((size_t)n < sizeof frame ? (size_t)n : sizeof frame - 1));
        return;
    }
    send_mark(ctx, pct, msg, 0);
}

/* ---- signals ---- */

static void on_stop_signal(int signo)
{
    int saved = errno;
    if (drudge__stop_signals == 0) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        atomic_store(&drudge__stop_at_mono, (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
    }
    drudge__stop_signals++;
    if (signo == SIGINT)
        drudge__sigint_count++;
    for (int i = 0; i < 2; i++)
        if (signal_fds[i] >= 0) {
            ssize_t n = write(signal_fds[i], "s", 1);
            (void)n;
        }
    errno = saved;
}

static int install_signals(drudge_worker *w)
{
    if (pipe2(w->wake_pipe, O_CLOEXEC | O_NONBLOCK) < 0 ||
        pipe2(w->main_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
        return -1;
    signal_fds[0] = w->wake_pipe[1];
    signal_fds[1] = w->main_pipe[1];
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; /* no SA_RESTART: a blocking wait returns at once */
    int sigs[] = {SIGTERM, SIGINT, SIGQUIT, SIGHUP};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        sigaction(sigs[i], &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    return 0;
}

static void drain_fd(int fd)
{
    char buf[64];
    while (read(fd, buf, sizeof buf) > 0) {
    }
}

/* Sleep up to ms, returning early on a stop signal. */
static void nap(drudge_worker *w, int64_t ms)
{
    if (ms <= 0 || drudge__stop_signals)
        return;
    struct pollfd p = {.fd = w->main_pipe[0], .events = POLLIN};
    poll(&p, 1, (int)(ms > 60000 ? 60000 : ms));
    drain_fd(w->main_pipe[0]);
}

/* ---- jobs held by the loop ---- */

#define PREFETCH_MAX 32

typedef struct job_slot {
    char *payload;
    size_t len;
    char id[DRUDGE_ID_MAX + 1];
    char status_key[DRUDGE_KEY_MAX + DRUDGE_ID_MAX]; /* "" until identified */
    json_t *obj;                /* the parsed payload, NULL if it is bad */
    char *why;                  /* why it is bad; owned */
    int finished;               /* the outcome below is ready to ack */
    const char *outcome;        /* ack_fetch outcome word */
    char *text;                 /* result (done) or error; owned */
    char run_ms[24];
    char delay_ms[24];
    int marked_attempt;         /* > 0: marked running when fetched */
} job_slot;

/* The jobs fetched by one ack_fetch call, run in order. */
typedef struct batch {
    job_slot slot[PREFETCH_MAX];
    int n;                      /* slots in use */
    int next;                   /* next slot to run */
} batch;

static void slot_clear(job_slot *s)
{
    free(s->payload);
    free(s->text);
    free(s->why);
    json_decref(s->obj);
    memset(s, 0, sizeof *s);
}

static void batch_clear(batch *b)
{
    for (int i = 0; i < b->n; i++)
        slot_clear(&b->slot[i]);
    b->n = b->next = 0;
}

static int slot_take(job_slot *s, const char *bytes, size_t len)
{
    s->payload = malloc(len + 1);
    if (s->payload == NULL)
        return -1;
    memcpy(s->payload, bytes, len);
    s->payload[len] = '\0';
    s->len = len;
    return 0;
}

/* The id and status key of a fetched job, parsing it once: the parse is
 * kept for run_job. A payload whose id is unusable is known by the hash of
 * its bytes (and will fail with a clear error). */
static void slot_identify(drudge_worker *w, job_slot *s)
{
    if (s->status_key[0])
        return;
    char why[DRUDGE_ERRSTR_MAX] = "";
    s->obj = drudge__payload_identify(s->payload, s->len, w->cfg->max_payload_bytes, s->id, why,
                                      sizeof why);
    if (s->obj == NULL)
        s->why = strdup(why[0] ? why : "invalid payload");
    drudge__key_status(&w->keys, s->id, s->status_key, sizeof s->status_key);
}

static void set_current(drudge_worker *w, const job_slot *s, int64_t deadline_mono, int attempt)
{
    pthread_mutex_lock(&w->mu);
    if (s) {
        snprintf(w->cur_id, sizeof w->cur_id, "%s", s->id);
        snprintf(w->cur_status_key, sizeof w->cur_status_key, "%s", s->status_key);
        w->cur_payload = s->payload;
        w->cur_payload_len = s->len;
        w->cur_started_mono = drudge__mono_ms();
        w->cur_last_mark_mono = attempt > 0 ? w->cur_started_mono : 0;
        w->cur_attempt = attempt;
        atomic_store(&w->cur_cancel, 0);
    } else {
        w->cur_id[0] = '\0';
        w->cur_payload = NULL;
        w->cur_started_mono = 0;
        w->last_end_mono = drudge__mono_ms();
        w->jobs_done++;
    }
    w->cur_deadline_mono = deadline_mono;
    pthread_mutex_unlock(&w->mu);
    /* a dozing supervisor must start watching this job */
    if (s && atomic_exchange(&w->supervisor_dozing, 0)) {
        ssize_t n = write(w->wake_pipe[1], "j", 1);
        (void)n;
    }
}

/* Run the handler in a forked child; fill ctx->error / result and return the
 * outcome. The parent watches the job's deadline and the drain deadline. */
static drudge_outcome run_forked(drudge_worker *w, drudge_ctx *ctx, const drudge_job *job,
                                 int *requeue)
{
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) < 0)
        return drudge_ctx_error(ctx, DRUDGE_RETRY, "pipe: %s", strerror(errno));
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return drudge_ctx_error(ctx, DRUDGE_RETRY, "fork: %s", strerror(errno));
    }
    if (pid == 0) {
        /* child: own process group (so a timeout kills helpers it spawned
         * too), dies with the parent, never touches the parent's sockets */
        setpgid(0, 0);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        signal(SIGTERM, SIG_DFL);
        signal(SIGINT, SIG_IGN); /* the parent decides; ^C hits the group */
        signal(SIGQUIT, SIG_DFL);
        signal(SIGHUP, SIG_DFL);
        signal(SIGPIPE, SIG_DFL);
        close(fds[0]);
        if (w->conn.ctx)
            close(w->conn.ctx->fd);
        if (w->hk_conn.ctx)
            close(w->hk_conn.ctx->fd);
        /* the job's child holds no secret: forget the Redis credentials */
        memset(w->conn.url.password, 0, sizeof w->conn.url.password);
        memset(w->hk_conn.url.password, 0, sizeof w->hk_conn.url.password);
        if (w->cfg->redis_password)
            memset(w->cfg->redis_password, 0, strlen(w->cfg->redis_password));
        ctx->in_child = 1;
        ctx->report_fd = fds[1];
        drudge_outcome o;
        if (w->def->child_init && w->def->child_init(w->cfg, w->def->userdata) != 0)
            o = drudge_ctx_error(ctx, DRUDGE_FAIL, "%s",
                                 ctx->error[0] ? ctx->error : "sandbox set-up failed");
        else
            o = w->def->handler(ctx, job, w->def->userdata);
        char ra[32];
        int n = snprintf(ra, sizeof ra, "%c%lld", (char)('0' + (int)o),
                         (long long)ctx->retry_after_ms);
        if (ctx->result)
            write_frame(fds[1], MSG_RESULT, ctx->result, (uint32_t)strlen(ctx->result));
        if (ctx->error[0])
            write_frame(fds[1], MSG_ERROR, ctx->error, (uint32_t)strlen(ctx->error));
        write_frame(fds[1], MSG_OUTCOME, ra, (uint32_t)n);
        _exit(0);
    }
    close(fds[1]);
    setpgid(pid, pid); /* also from here, so the group exists before we kill it */

    int have_outcome = 0, killed_for = 0; /* 1 timeout, 2 drain */
    drudge_outcome o = DRUDGE_RETRY;
    char hdr[5];
    size_t hlen = 0;
    char *body = NULL;
    uint32_t blen = 0, bgot = 0;
    for (;;) {
        int64_t now = drudge__mono_ms();
        int64_t deadline = ctx->deadline_mono;
        long long stop_at = atomic_load(&drudge__stop_at_mono);
        int64_t drain_deadline = stop_at ? stop_at + (int64_t)(w->cfg->drain_timeout * 1000) : 0;
        if (drudge__sigint_count >= 2)
            drain_deadline = now;
        if (drain_deadline && drain_deadline < deadline)
            deadline = drain_deadline;
        if (!killed_for && now >= deadline) {
            killed_for = (drain_deadline && now >= drain_deadline) ? 2 : 1;
            kill(-pid, SIGKILL);
        }
        struct pollfd p[2] = {{.fd = fds[0], .events = POLLIN},
                              {.fd = w->main_pipe[0], .events = POLLIN}};
        int64_t wait = killed_for ? 1000 : deadline - now;
        int pr = poll(p, 2, (int)(wait > 1000 ? 1000 : wait < 0 ? 0 : wait));
        if (pr < 0 && errno != EINTR)
            break;
        if (p[1].revents)
            drain_fd(w->main_pipe[0]);
        if (!(p[0].revents & (POLLIN | POLLHUP)))
            continue;
        char buf[4096];
        ssize_t n = read(fds[0], buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break; /* EOF: the child exited or died */
        for (ssize_t i = 0; i < n;) {
            if (hlen < 5) {
                hdr[hlen++] = buf[i++];
                if (hlen < 5)
                    continue;
                memcpy(&blen, hdr + 1, 4);
                if (blen > 16u << 20 || (body = malloc(blen + 1)) == NULL)
                    goto protocol_error;
                bgot = 0;
            }
            size_t take = (size_t)(n - i) < blen - bgot ? (size_t)(n - i) : blen - bgot;
            memcpy(body + bgot, buf + i, take);
            bgot += (uint32_t)take;
            i += (ssize_t)take;
            if (bgot < blen)
                continue;
            body[blen] = '\0';
            if (hdr[0] == MSG_PROGRESS) {
                char *tab = strchr(body, '\t');
                if (tab) {
                    *tab = '\0';
                    send_mark(ctx, body, tab + 1, 0);
                }
            } else if (hdr[0] == MSG_RESULT) {
                free(ctx->result);
                ctx->result = body;
                body = NULL;
            } else if (hdr[0] == MSG_ERROR) {
                snprintf(ctx->error, sizeof ctx->error, "%s", body);
            } else if (hdr[0] == MSG_OUTCOME && blen >= 1 && body[0] >= '0' && body[0] <= '3') {
                o = (drudge_outcome)(body[0] - '0');
                ctx->retry_after_ms = blen > 1 ? strtoll(body + 1, NULL, 10) : 0;
                have_outcome = 1;
            }
            free(body);
            body = NULL;
            hlen = 0;
        }
    }
    goto reap;
protocol_error:
    kill(-pid, SIGKILL);
reap:
    free(body);
    close(fds[0]);
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    kill(-pid, SIGKILL); /* anything the handler left behind in its group */
    if (killed_for == 2) {
        *requeue = 1;
        return drudge_ctx_error(ctx, DRUDGE_RETRY, "stopped at the drain deadline");
    }
    if (killed_for == 1)
        return drudge_ctx_error(ctx, DRUDGE_RETRY, "timed out after %.0f s", w->cls.timeout);
    if (WIFSIGNALED(st)) {
        const char *name = sigabbrev_np(WTERMSIG(st));
        return drudge_ctx_error(ctx, DRUDGE_RETRY, "worker child killed by SIG%s",
                                name ? name : "?");
    }
    if (!have_outcome || (WIFEXITED(st) && WEXITSTATUS(st) != 0))
        return drudge_ctx_error(ctx, DRUDGE_RETRY,
                                "worker child exited with status %d without a result",
                                WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    return o;
}

/* Run one fetched job and leave its outcome in the slot. `attempt` > 0 when
 * the job was already marked running (fork isolation, blocking pop). */
static void run_job(drudge_worker *w, job_slot *s, int attempt)
{
    slot_identify(w, s);
    json_t *obj = s->obj; /* the handler's for the run; freed with the slot */
    drudge_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.w = w;
    ctx.payload = s->payload;
    ctx.payload_len = s->len;
    ctx.status_key = s->status_key;
    ctx.attempt = attempt;
    ctx.started_mono = drudge__mono_ms();
    ctx.deadline_mono = ctx.started_mono + (int64_t)(w->cls.timeout * 1000);
    ctx.deadline_ms = drudge__now_ms() + (int64_t)(w->cls.timeout * 1000);
    set_current(w, s, ctx.deadline_mono, attempt);

    drudge_outcome o;
    int requeue = 0;
    if (obj == NULL) {
        o = drudge_ctx_error(&ctx, DRUDGE_FAIL, "%s", s->why ? s->why : "out of memory");
    } else {
        drudge_job job = {s->id, w->cls.name, s->payload, s->len, obj};
        if (w->cls.isolation == DRUDGE_ISOLATION_FORK) {
            o = run_forked(w, &ctx, &job, &requeue);
        } else {
            o = w->def->handler(&ctx, &job, w->def->userdata);
            /* stopped by the end of the drain: back to the head of the
             * queue, uncharged, whatever the handler made of being stopped
             * (unless it finished; a job a user asked to cancel ends
             * cancelled instead - the ack script decides that) */
            if (o != DRUDGE_DONE && drudge__drain_over(w, drudge__mono_ms()))
                requeue = 1;
        }
    }
    int64_t run_ms = drudge__mono_ms() - ctx.started_mono;
    read_pending(&ctx);

    snprintf(s->run_ms, sizeof s->run_ms, "%lld", (long long)run_ms);
    snprintf(s->delay_ms, sizeof s->delay_ms, "0");
    s->finished = 1;
    if (requeue) {
        s->outcome = "requeue";
    } else if (o == DRUDGE_DONE) {
        s->outcome = "done";
        s->text = ctx.result;
        ctx.result = NULL;
    } else {
        if ((unsigned)o > DRUDGE_UNAVAILABLE)
            o = DRUDGE_FAIL;
        s->outcome = o == DRUDGE_RETRY ? "retry" : o == DRUDGE_FAIL ? "fail" : "unavailable";
        if (o == DRUDGE_UNAVAILABLE && ctx.retry_after_ms > 0) {
            /* unavailable for this job only (a per-host breaker): defer it */
            s->outcome = "defer";
            snprintf(s->delay_ms, sizeof s->delay_ms, "%lld", (long long)ctx.retry_after_ms);
        }
        if (!ctx.error[0])
            snprintf(ctx.error, sizeof ctx.error, "handler returned %s", drudge_outcome_name(o));
        s->text = strdup(ctx.error);
        if (o == DRUDGE_RETRY) {
            int64_t delay = ctx.retry_after_ms;
            if (delay <= 0) {
                /* which attempt this was decides the backoff: ask (and mark)
                 * if nothing told us yet - retries are the rare path */
                int a = ctx.in_child ? attempt : drudge_ctx_attempt(&ctx);
                delay = drudge__backoff_ms(w->cls.backoff_base, w->cls.backoff_cap, a > 0 ? a : 1,
                                           drudge__random());
            }
            snprintf(s->delay_ms, sizeof s->delay_ms, "%lld", (long long)delay);
        }
    }
    free(ctx.result);
    set_current(w, NULL, 0, 0);
    /* a short job's running time feeds the prefetch size */
    w->avg_run_us = w->avg_run_us * 0.9 + (double)run_ms * 1000.0 * 0.1;
}

/* Why the loop should stop taking jobs, or NULL. */
static const char *stop_reason(drudge_worker *w)
{
    if (drudge__stop_signals)
        return "signal";
    if (w->cfg->max_jobs > 0 && w->jobs_done >= w->cfg->max_jobs)
        return "max_jobs";
    if (w->cfg->max_runtime > 0 &&
        drudge__mono_ms() - w->started_mono >= (int64_t)(w->cfg->max_runtime * 1000))
        return "max_runtime";
    if (atomic_load(&w->recycle))
        return "max_rss_mb";
    return NULL;
}

/* How many jobs to take at once. Prefetching only pays, and is only fair to
 * other workers, while jobs are short: hold at most ~2 ms of work. */
static int prefetch_count(drudge_worker *w)
{
    if (w->cls.isolation == DRUDGE_ISOLATION_FORK || w->cfg->prefetch <= 1)
        return 1;
    long k = w->avg_run_us < 1 ? PREFETCH_MAX : (long)(2000.0 / w->avg_run_us);
    if (k > w->cfg->prefetch)
        k = w->cfg->prefetch;
    if (k > PREFETCH_MAX)
        k = PREFETCH_MAX;
    if (w->cfg->max_jobs > 0 && k > w->cfg->max_jobs - w->jobs_done)
        k = w->cfg->max_jobs - w->jobs_done;
    return k < 1 ? 1 : (int)k;
}

typedef struct fetch_result {
    enum { F_NONE, F_JOBS, F_EMPTY, F_PAUSED, F_WAIT } kind;
    int64_t ms;
} fetch_result;

static int to_head(const job_slot *s)
{
    return strcmp(s->outcome, "requeue") == 0 || strcmp(s->outcome, "unavailable") == 0;
}

#define ACK_FIXED_KEYS 8
#define ACK_FIXED_ARGS 10
#define ACK_ARGS_PER_JOB 6

/* Ack every finished job in the batch and take up to `want` new ones (0:
 * ack only). Returns 0, -1 on a lost connection, -2 on a script error. */
static int ack_fetch(drudge_worker *w, batch *b, int want, fetch_result *fr)
{
    char want_s[16], max_attempts[16], ttl[24], failed_max[24], rate[32], probe[24], nacks[16];
    int n = 0;
    for (int i = 0; i < b->n; i++)
        n += b->slot[i].finished;
    snprintf(want_s, sizeof want_s, "%d", want);
    snprintf(max_attempts, sizeof max_attempts, "%d", w->cls.max_attempts);
    snprintf(ttl, sizeof ttl, "%ld", w->cls.status_ttl);
    snprintf(failed_max, sizeof failed_max, "%ld", w->cls.failed_max);
    snprintf(rate, sizeof rate, "%.6f", w->cls.rate);
    snprintf(probe, sizeof probe, "%lld", (long long)(w->cls.timeout * 1000) + 5000);
    snprintf(nacks, sizeof nacks, "%d", n);
    const char *argv[ACK_FIXED_KEYS + ACK_FIXED_ARGS + ACK_ARGS_PER_JOB * PREFETCH_MAX] = {
        w->keys.queue, w->processing_key, w->keys.stats, w->keys.delayed, w->keys.failed,
        w->keys.paused, w->keys.rate, w->keys.breaker,
        want_s, w->id, max_attempts, ttl, failed_max, rate, "5000", "300000", probe, nacks};
    size_t lens[sizeof argv / sizeof argv[0]];
    int argc = ACK_FIXED_KEYS + ACK_FIXED_ARGS;
    for (int i = 0; i < argc; i++)
        lens[i] = strlen(argv[i]);
    /* Acks in fetch order, except that jobs going back to the head of the
     * queue (requeue, unavailable) come last and in reverse, so the head
     * ends up in the order they were fetched. */
    int order[PREFETCH_MAX] = {0}, norder = 0;
    for (int i = 0; i < b->n; i++)
        if (b->slot[i].finished && !to_head(&b->slot[i]))
            order[norder++] = i;
    for (int i = b->n; i-- > 0;)
        if (b->slot[i].finished && to_head(&b->slot[i]))
            order[norder++] = i;
    int acked[PREFETCH_MAX];
    int nacked = 0;
    for (int oi = 0; oi < norder; oi++) {
        int i = order[oi];
        job_slot *s = &b->slot[i];
        acked[nacked++] = i;
        const char *v[ACK_ARGS_PER_JOB] = {s->payload, s->status_key, s->outcome,
                                           s->text ? s->text : "", s->run_ms, s->delay_ms};
        for (int j = 0; j < ACK_ARGS_PER_JOB; j++) {
            argv[argc] = v[j];
            lens[argc++] = j == 0 ? s->len : strlen(v[j]);
        }
    }
    redisReply *r = drudge__conn_eval(&w->conn, &drudge__script_ack_fetch, ACK_FIXED_KEYS, argc,
                                      argv, lens);
    if (r == NULL)
        return -1;
    if (r->type != REDIS_REPLY_ARRAY || r->elements < 4 ||
        r->element[0]->type != REDIS_REPLY_ARRAY || (int)r->element[0]->elements != nacked) {
        drudge_log(DRUDGE_LOG_ERROR, "redis_error", "class=%s error=%s", w->cls.name,
                   r->type == REDIS_REPLY_ERROR ? r->str : "unexpected ack_fetch reply");
        freeReplyObject(r);
        return -2;
    }
    for (int k = 0; k < nacked; k++) {
        job_slot *s = &b->slot[acked[k]];
        const char *state = r->element[0]->element[k]->str;
        if (strcmp(state, "done") == 0)
            drudge_log(DRUDGE_LOG_INFO, "done", "class=%s id=%s ms=%s", w->cls.name, s->id,
                       s->run_ms);
        else if (strcmp(state, "gone") == 0)
            drudge_log(DRUDGE_LOG_DEBUG, "ack_repeat", "class=%s id=%s", w->cls.name, s->id);
        else if (strcmp(s->outcome, "requeue") == 0)
            drudge_log(DRUDGE_LOG_INFO, "requeued", "class=%s id=%s", w->cls.name, s->id);
        else
            drudge_log(DRUDGE_LOG_WARN, state, "class=%s id=%s ms=%s outcome=%s error=%s",
                       w->cls.name, s->id, s->run_ms, s->outcome, s->text ? s->text : "");
    }
    if (r->element[3]->type == REDIS_REPLY_INTEGER && r->element[3]->integer > 0)
        drudge_log(DRUDGE_LOG_WARN, "failed_trimmed", "class=%s trimmed=%lld failed_max=%ld",
                   w->cls.name, r->element[3]->integer, w->cls.failed_max);
    /* acked jobs leave the batch; unfinished ones (none, in practice) stay */
    batch kept;
    kept.n = kept.next = 0;
    for (int i = 0; i < b->n; i++) {
        if (b->slot[i].finished)
            slot_clear(&b->slot[i]);
        else
            kept.slot[kept.n++] = b->slot[i];
    }
    for (int i = 0; i < kept.n; i++)
        b->slot[i] = kept.slot[i];
    b->n = kept.n;
    b->next = 0;

    fr->kind = F_NONE;
    const char *what = r->element[1]->str;
    if (strcmp(what, "jobs") == 0 && r->element[2]->type == REDIS_REPLY_ARRAY) {
        for (size_t i = 0; i < r->element[2]->elements && b->n < PREFETCH_MAX; i++) {
            redisReply *e = r->element[2]->element[i];
            if (slot_take(&b->slot[b->n], e->str, e->len) == 0)
                b->n++;
        }
        fr->kind = F_JOBS;
    } else if (strcmp(what, "empty") == 0) {
        fr->kind = F_EMPTY;
    } else if (strcmp(what, "paused") == 0) {
        fr->kind = F_PAUSED;
        fr->ms = r->element[2]->integer;
    } else if (strcmp(what, "wait") == 0) {
        fr->kind = F_WAIT;
        fr->ms = r->element[2]->integer;
    }
    freeReplyObject(r);
    return 0;
}

/* Queue empty: block for a job. Returns 1 with the job in slot 0 and
 * *attempt set (> 0 if it was marked running), 0 on nothing, -1 on a lost
 * connection. */
static int block_fetch(drudge_worker *w, batch *b, int *attempt, fetch_result *fr)
{
    const char *argv[6] = {"BLMOVE", w->keys.queue, w->processing_key, "LEFT", "RIGHT",
                           FETCH_BLOCK_S};
    redisReply *r = drudge__conn_cmd(&w->conn, 6, argv, NULL);
    if (r == NULL)
        return -1;
    if (r->type != REDIS_REPLY_STRING) {
        if (r->type == REDIS_REPLY_ERROR) {
            drudge_log(DRUDGE_LOG_ERROR, "redis_error", "class=%s error=%s", w->cls.name, r->str);
            nap(w, 1000);
        }
        freeReplyObject(r);
        return 0;
    }
    job_slot *s = &b->slot[0];
    int took = slot_take(s, r->str, r->len);
    freeReplyObject(r);
    if (took < 0)
        return -1;
    b->n = 1;
    b->next = 0;

    /* BLMOVE skipped the pause and rate checks that ack_fetch makes
     * atomically: the start script makes them now and gives the job back
     * if it may not run yet. */
    slot_identify(w, s);
    char rate[32];
    snprintf(rate, sizeof rate, "%.6f", w->cls.rate);
    const char *mark = w->cls.isolation == DRUDGE_ISOLATION_FORK ? "1" : "0";
    const char *sargv[9] = {s->status_key, w->keys.queue, w->processing_key, w->keys.paused,
                            w->keys.rate, w->id, s->payload, rate, mark};
    size_t lens[9];
    for (int i = 0; i < 9; i++)
        lens[i] = i == 6 ? s->len : strlen(sargv[i]);
    r = drudge__conn_eval(&w->conn, &drudge__script_start, 5, 9, sargv, lens);
    if (r == NULL)
        return -1;
    int rc = 0;
    if (r->type == REDIS_REPLY_INTEGER) {
        *attempt = mark[0] == '1' ? (int)r->integer : 0;
        rc = 1;
    } else {
        if (r->type == REDIS_REPLY_ARRAY && r->elements == 2) {
            fr->kind = r->element[0]->integer == -1 ? F_PAUSED : F_WAIT;
            fr->ms = r->element[1]->integer;
        } else {
            drudge_log(DRUDGE_LOG_ERROR, "redis_error", "class=%s error=%s", w->cls.name,
                       r->type == REDIS_REPLY_ERROR ? r->str : "unexpected start reply");
            fr->kind = F_PAUSED;
            fr->ms = 1000;
        }
        batch_clear(b);
    }
    freeReplyObject(r);
    return rc;
}

/* Mark a fork-isolated job running before the child starts, so a decoder
 * that kills the machine's patience still counts its attempt. */
static int mark_sync(drudge_worker *w, job_slot *s)
{
    drudge_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.w = w;
    ctx.payload = s->payload;
    ctx.payload_len = s->len;
    ctx.status_key = s->status_key;
    ctx.started_mono = drudge__mono_ms();
    send_mark(&ctx, "", "", 1);
    return ctx.attempt;
}

/* After a lost connection: reconnect, resend the acks (idempotent: each is
 * guarded by its job still being in the processing list), and give back
 * anything else in the processing list, since the reply that would have
 * told us about it was lost. */
static int recover_connection(drudge_worker *w, batch *b)
{
    /* keep trying until the drain deadline, after a stop signal; what we
     * hold is then recovered by housekeeping like a dead worker's */
    if (drudge__conn_connect_retry(&w->conn, &w->give_up) < 0)
        return -1;
    fetch_result fr;
    for (int i = 0; i < b->n; i++)
        if (!b->slot[i].finished)
            slot_clear(&b->slot[i]); /* unrun: given back below */
    if (ack_fetch(w, b, 0, &fr) == -1)
        return -1;
    batch_clear(b);
    return drudge__requeue_all(w, &w->conn);
}

static void sleep_for(drudge_worker *w, const fetch_result *fr)
{
    int64_t ms = fr->ms;
    if (fr->kind == F_PAUSED && (ms < 0 || ms > 1000))
        ms = 1000; /* notice a resume within a second */
    nap(w, ms < 1 ? 1 : ms);
}

/* A stop arrived with jobs fetched but not started: they go back to the
 * head of the queue with the acks. */
static void give_back_unrun(drudge_worker *w, batch *b)
{
    for (int i = b->next; i < b->n; i++) {
        job_slot *s = &b->slot[i];
        if (s->finished)
            continue;
        slot_identify(w, s);
        s->finished = 1;
        s->outcome = "requeue";
        snprintf(s->run_ms, sizeof s->run_ms, "0");
        snprintf(s->delay_ms, sizeof s->delay_ms, "0");
    }
    b->next = b->n;
}

static void loop(drudge_worker *w, const char **why)
{
    batch *b = calloc(1, sizeof *b);
    if (b == NULL)
        return;
    fetch_result fr = {F_NONE, 0};
    for (;;) {
        *why = stop_reason(w);
        if (*why == NULL && b->next < b->n) {
            job_slot *s = &b->slot[b->next++];
            int attempt = 0;
            slot_identify(w, s);
            if (w->cls.isolation == DRUDGE_ISOLATION_FORK)
                attempt = s->marked_attempt ? s->marked_attempt : mark_sync(w, s);
            else
                attempt = s->marked_attempt;
            run_job(w, s, attempt);
            /* the service is down: the jobs fetched with this one would
             * only meet it too - give them back with the ack */
            if (strcmp(s->outcome, "unavailable") == 0 || strcmp(s->outcome, "requeue") == 0)
                give_back_unrun(w, b);
            continue;
        }
        if (*why)
            give_back_unrun(w, b);
        int has_acks = b->n > 0;
        if (*why && !has_acks)
            break;
        if (has_acks || fr.kind != F_EMPTY) {
            int a = ack_fetch(w, b, *why ? 0 : prefetch_count(w), &fr);
            if (a == -2) {
                /* Redis refused the script (ACL, OOM, a bug): the jobs stay
                 * in the processing list; try again after a pause */
                nap(w, 1000);
                fr.kind = F_NONE;
                if (drudge__stop_signals)
                    break; /* housekeeping recovers what we hold */
                continue;
            }
            if (a < 0) {
                if (recover_connection(w, b) < 0)
                    break;
                fr.kind = F_NONE;
                continue;
            }
            if (*why)
                break;
        } else {
            int attempt = 0;
            fr.kind = F_NONE;
            if (w->def->idle != NULL) {
                w->def->idle(w->def->userdata);
                if (stop_reason(w) != NULL)
                    continue;
            }
            int got = block_fetch(w, b, &attempt, &fr);
            if (got < 0) {
                batch_clear(b);
                if (recover_connection(w, b) < 0)
                    break;
                continue;
            }
            if (got == 1) {
                b->slot[0].marked_attempt = attempt;
                fr.kind = F_NONE;
            } else if (fr.kind == F_NONE) {
                fr.kind = F_EMPTY; /* keep blocking */
            }
        }
        if (fr.kind == F_PAUSED || fr.kind == F_WAIT) {
            sleep_for(w, &fr);
            fr.kind = F_NONE;
        }
    }
    batch_clear(b);
    free(b);
}

/* A Redis that may evict keys under memory pressure can drop queued jobs
 * and statuses without a trace: say so loudly at start-up. */
static void warn_if_evicting(drudge_worker *w)
{
    const char *argv[2] = {"INFO", "memory"};
    redisReply *r = drudge__conn_cmd(&w->conn, 2, argv, NULL);
    if (r && r->type == REDIS_REPLY_STRING) {
        const char *p = strstr(r->str, "maxmemory_policy:");
        if (p) {
            p += strlen("maxmemory_policy:");
            size_t n = strcspn(p, "\r\n");
            char policy[64];
            snprintf(policy, sizeof policy, "%.*s", (int)(n < 63 ? n : 63), p);
            if (strcmp(policy, "noeviction") != 0)
                drudge_log(DRUDGE_LOG_WARN, "redis_may_evict", "policy=%s advice=%s", policy,
                           "set maxmemory-policy noeviction: an evicted queue or status is a "
                           "lost job");
        }
    }
    if (r)
        freeReplyObject(r);
}

int drudge_worker_run(const drudge_config *cfg, const char *class_name, const drudge_worker_def *def)
{
    drudge_worker *w = calloc(1, sizeof *w);
    if (w == NULL)
        return 1;
    int rc = 1;
    w->cfg = cfg;
    w->def = def;
    pthread_mutex_init(&w->mu, NULL);
    w->wake_pipe[0] = w->wake_pipe[1] = w->main_pipe[0] = w->main_pipe[1] = -1;
    drudge_config_class(cfg, class_name, &def->defaults, &w->cls);
    if (drudge__keys_init(&w->keys, cfg->namespace_, class_name) < 0) {
        drudge_log(DRUDGE_LOG_ERROR, "start_failed", "class=%s error=%s", class_name,
                   "class name too long");
        goto out;
    }
    gethostname(w->host, sizeof w->host - 1);
    w->started_at_ms = drudge__now_ms();
    w->started_mono = drudge__mono_ms();
    snprintf(w->id, sizeof w->id, "%s:%d:%04x", w->host, (int)getpid(),
             (unsigned)(drudge__random() * 65536));
    drudge__key_processing(&w->keys, w->id, w->processing_key, sizeof w->processing_key);
    if (drudge__conn_init(&w->conn, cfg) < 0 || drudge__conn_init(&w->hk_conn, cfg) < 0) {
        drudge_log(DRUDGE_LOG_ERROR, "start_failed", "error=%s", w->conn.errstr);
        goto out;
    }
    if (install_signals(w) < 0) {
        drudge_log(DRUDGE_LOG_ERROR, "start_failed", "error=%s", strerror(errno));
        goto out;
    }
    if (drudge__conn_connect_retry(&w->conn, &drudge__stop_signals) < 0) {
        rc = 0; /* told to stop before Redis came up */
        goto out;
    }
    drudge_log(DRUDGE_LOG_INFO, "worker_start",
               "class=%s worker=%s isolation=%s timeout=%.0f max_attempts=%d program=%s",
               w->cls.name, w->id, w->cls.isolation == DRUDGE_ISOLATION_FORK ? "fork" : "inprocess",
               w->cls.timeout, w->cls.max_attempts, def->program);
    warn_if_evicting(w);
    drudge__housekeep_tick(w, 1);
    if (drudge__supervisor_start(w) < 0) {
        drudge_log(DRUDGE_LOG_ERROR, "start_failed", "error=\"supervisor thread: %s\"",
                   strerror(errno));
        goto out;
    }
    const char *why = NULL;
    loop(w, &why);
    if (w->conn.ctx)
        drudge__requeue_all(w, &w->conn);
    /* A recycled worker exits no sooner than RECYCLE_MIN_UPTIME_MS after it
     * started: supervisord (startsecs) takes a quicker exit for a failed
     * start and would give up on the program. */
    if (why && strcmp(why, "signal") != 0) {
        int64_t up = drudge__mono_ms() - w->started_mono;
        if (up < RECYCLE_MIN_UPTIME_MS)
            nap(w, RECYCLE_MIN_UPTIME_MS - up);
    }
    drudge_log(DRUDGE_LOG_INFO, "worker_stop", "class=%s worker=%s reason=%s jobs=%ld",
               w->cls.name, w->id, why ? why : "error", w->jobs_done);
    rc = 0;
out:
    if (w->supervisor_started) {
        drudge__supervisor_stop(w);
        if (w->conn.ctx)
            drudge__unregister(w, &w->conn);
    }
    drudge__conn_release(&w->conn);
    drudge__conn_release(&w->hk_conn);
    signal_fds[0] = signal_fds[1] = -1;
    for (int i = 0; i < 2; i++) {
        if (w->wake_pipe[i] >= 0)
            close(w->wake_pipe[i]);
        if (w->main_pipe[i] >= 0)
            close(w->main_pipe[i]);
    }
    pthread_mutex_destroy(&w->mu);
    free(w);
    return rc;
}

/* ---- the standard command line of every worker binary ---- */

static void usage(const drudge_worker_def *def, FILE *f)
{
    fprintf(f,
            "usage: %s [options]\n"
            "\n"
            "Takes %s jobs (or --class) from Redis and runs them; see drudge(1).\n"
            "\n"
            "  -c, --config FILE      YAML config (default $DRUDGE_CONFIG, else built-in defaults)\n"
            "  -r, --redis URL        redis://[user:pass@]host:port/db or unix:///path (overrides config)\n"
            "  -C, --class NAME       job class to serve (default %s)\n"
            "  -i, --isolation MODE   inprocess or fork (overrides config)\n"
            "  -l, --log-level LEVEL  debug, info, warn or error\n"
            "  -h, --help             this text\n"
            "  -V, --version          version\n",
            def->program, def->default_class, def->default_class);
}

int drudge_worker_main(int argc, char **argv, const drudge_worker_def *def)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},  {"redis", required_argument, NULL, 'r'},
        {"class", required_argument, NULL, 'C'},   {"isolation", required_argument, NULL, 'i'},
        {"log-level", required_argument, NULL, 'l'}, {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},       {NULL, 0, NULL, 0}};
    const char *config_path = NULL, *redis_url = NULL, *class_name = def->default_class,
               *isolation = NULL, *log_level = NULL;
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "c:r:C:i:l:hV", opts, NULL)) != -1) {
        switch (c) {
        case 'c': config_path = optarg; break;
        case 'r': redis_url = optarg; break;
        case 'C': class_name = optarg; break;
        case 'i': isolation = optarg; break;
        case 'l': log_level = optarg; break;
        case 'h': usage(def, stdout); return 0;
        case 'V':
            printf("%s %s\n", def->program, DRUDGE_VERSION);
            if (def->version)
                def->version(def->userdata);
            return 0;
        default:
            fprintf(stderr, "%s: unknown or incomplete option \"%s\" (try --help)\n", def->program,
                    argv[optind - 1]);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "%s: unexpected argument \"%s\" (try --help)\n", def->program, argv[optind]);
        return 2;
    }
    if (!drudge_class_valid(class_name)) {
        fprintf(stderr, "%s: invalid class name \"%s\": use 1-%d characters of [A-Za-z0-9_.:-]\n",
                def->program, class_name, DRUDGE_CLASS_MAX);
        return 2;
    }
    char err[DRUDGE_ERRSTR_MAX];
    drudge_config *cfg = drudge_config_load(config_path, err, sizeof err);
    if (cfg == NULL) {
        fprintf(stderr, "%s: %s\n", def->program, err);
        return 2;
    }
    int rc = 2;
    drudge_redis_url u;
    if (redis_url && (drudge_redis_url_parse(redis_url, &u, err, sizeof err) < 0 ||
                      drudge_config_set_string(&cfg->redis_url, redis_url) < 0)) {
        fprintf(stderr, "%s: --redis: %s\n", def->program, err);
        goto out;
    }
    drudge_log_level lvl;
    const char *lvl_name = log_level ? log_level : cfg->log_level;
    if (lvl_name && drudge_log_level_parse(lvl_name, &lvl) < 0) {
        fprintf(stderr, "%s: invalid log level \"%s\": use debug, info, warn or error\n",
                def->program, lvl_name);
        goto out;
    }
    if (lvl_name)
        drudge_log_set_level(lvl);
    drudge_worker_def d = *def;
    if (isolation) {
        if (strcmp(isolation, "fork") == 0)
            d.defaults.isolation = DRUDGE_ISOLATION_FORK;
        else if (strcmp(isolation, "inprocess") == 0)
            d.defaults.isolation = DRUDGE_ISOLATION_INPROCESS;
        else {
            fprintf(stderr, "%s: invalid isolation \"%s\": use inprocess or fork\n", def->program,
                    isolation);
            goto out;
        }
        /* the flag wins over the config file */
        for (size_t i = 0; i < cfg->nclasses; i++)
            if (strcmp(cfg->classes[i].name, class_name) == 0)
                cfg->classes[i].set_mask &= ~(unsigned)DRUDGE_CLASS_SET_ISOLATION;
    }
    if (d.init) {
        int irc = d.init(cfg, d.userdata);
        if (irc != 0) {
            rc = irc == 2 ? 2 : 1; /* 2: the worker found a config error */
            goto out;
        }
    }
    rc = drudge_worker_run(cfg, class_name, &d);
    if (d.fini)
        d.fini(d.userdata);
out:
    drudge_config_free(cfg);
    return rc;
}
