/* browser.c - one headless Chromium per drudge-pdf process, kept across jobs.
 *
 * Starting Chromium costs about a second and ~100 MiB of page faults, so the
 * worker starts it once and gives each job a fresh incognito context
 * (render.c) instead. This file owns the process side: launch flags, a
 * private profile directory, restarts (after a crash, a timed-out job, or
 * pdf.browser_max_jobs jobs) and, above all, that no Chromium outlives the
 * worker, whatever way the worker ends.
 *
 * The process tree:  worker ─ reaper ─ chromium (own process group) ─ ...
 *
 * The reaper is a forked copy of the worker that does nothing but wait: for
 * the browser to exit, or for the "lifeline" pipe from the worker to reach
 * end-of-file - which happens when the worker closes it (stop, restart) and
 * when the worker dies in any way (exit, _exit at the drain deadline, a
 * crash, SIGKILL). Then it kills the browser's whole process group, reaps
 * every descendant (it is a child subreaper, so helpers that double-forked
 * out of the group, like crashpad, come back to it) and removes the profile
 * directory. Chromium gets its own process group so a ^C or a signal meant
 * for the worker's group does not kill a render the worker is draining, and
 * PR_SET_PDEATHSIG ties it to the reaper. The reaper runs only
 * async-signal-safe calls: it is a fork of a threaded process.
 *
 * Which browser: pdf.chromium, by default "auto" - Debian's headless shell
 * (package chromium-headless-shell) when it is installed, else its
 * chromium. The shell is Chromium's own build for driving pages without a
 * user interface: the same Blink, network stack and printing, but no
 * browser UI behind each window, so a job's new context and page cost it
 * half the CPU the full browser spends (bench/RESULTS.md).
 *
 * Chromium also gets its own minimal environment (no secrets of the worker's,
 * HOME and TMPDIR inside the profile) and --no-sandbox only when running as
 * root (Chromium refuses to start otherwise) or when pdf.no_sandbox says so.
 */
#include "pdf.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define START_TIMEOUT_MS 30000 /* a cold start on a busy box takes a few seconds */
#define STOP_WAIT_MS 10000     /* the reaper's kill, reap and rm -rf */
#define ARGS_MAX 48
#define ENVS_MAX 16

extern char **environ;

/* Flags for a headless server: no GPU, no background traffic of its own (it
 * would be refused by a closed network and is not ours to make), no
 * extensions or first-run UI, nothing throttled while a page renders
 * unseen. Site isolation is off: a job's frames share one renderer, which
 * saves a process per cross-site frame; each job is its own context anyway.
 * WebRTC may not send UDP outside a proxy (there is none), so a page cannot
 * reach private addresses that way. The omnibox popups are WebUI pages that
 * headless Chromium builds for every new window - that is, for every job's
 * context - and they cost more than rendering a small invoice. The headless
 * shell hints glyph outlines unless told not to, which moves text by
 * fractions of a point from where the full browser (and a desktop print)
 * puts it: no hinting, the same layout whichever browser renders. */
static const char *const base_flags[] = {
    "--headless",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-default-apps",
    "--disable-breakpad",
    "--disable-crash-reporter",
    "--disable-domain-reliability",
    "--disable-client-side-phishing-detection",
    "--disable-background-timer-throttling",
    "--disable-backgrounding-occluded-windows",
    "--disable-renderer-backgrounding",
    "--disable-site-isolation-trials",
    "--disable-features=Translate,MediaRouter,OptimizationHints,AutofillServerCommunication,"
    "CertificateTransparencyComponentUpdater,DialMediaRouteProvider,IsolateOrigins,"
    "site-per-process,InterestFeedContentSuggestions,WebUIOmniboxPopup,WebUIOmniboxAimPopup,"
    "OptimizationGuideModelDownloading,OptimizationHintsFetching",
    "--force-webrtc-ip-handling-policy=disable_non_proxied_udp",
    "--no-pings",
    "--mute-audio",
    "--hide-scrollbars",
    "--font-render-hinting=none",
    "--password-store=basic",
    "--remote-debugging-pipe",
};

static const char *const auto_browsers[] = {PDF_AUTO_SHELL, PDF_AUTO_CHROMIUM};

const char *pdf_browser_path(const char *configured)
{
    if (strcmp(configured, "auto") != 0)
        return configured;
    for (size_t i = 0; i < sizeof auto_browsers / sizeof auto_browsers[0]; i++)
        if (access(auto_browsers[i], X_OK) == 0)
            return auto_browsers[i];
    return NULL;
}

/* Everything the reaper and the browser need, prepared before fork(). */
typedef struct launch {
    char *argv[ARGS_MAX];
    char *envp[ENVS_MAX];
    char *rm_argv[5];
    char *empty_env[1];
    char children_path[64]; /* /proc/self/task/<pid>/children, filled in the reaper */
    const char *log;
    int to_chrome[2], from_chrome[2], lifeline[2], pid_pipe[2];
} launch;

/* ---- the reaper and the browser (after fork: async-signal-safe only) ---- */

static void put_uint(char *out, unsigned long v)
{
    char tmp[24];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v > 0);
    while (n > 0)
        *out++ = tmp[--n];
    *out = '\0';
}

static void reset_signals(int ignore_stops)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_DFL;
    for (int s = 1; s < NSIG; s++)
        if (s != SIGKILL && s != SIGSTOP)
            sigaction(s, &sa, NULL);
    if (ignore_stops) {
        sa.sa_handler = SIG_IGN;
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGHUP, &sa, NULL);
        sigaction(SIGQUIT, &sa, NULL);
        sigaction(SIGPIPE, &sa, NULL);
    }
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
}

static void exec_browser(launch *L)
{
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    reset_signals(0);
    int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
    int log = open(L->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    /* out of the way of 0-4 first, then into place (dup2 clears CLOEXEC) */
    int in = fcntl(L->to_chrome[0], F_DUPFD_CLOEXEC, 10);
    int out = fcntl(L->from_chrome[1], F_DUPFD_CLOEXEC, 10);
    int err = fcntl(log >= 0 ? log : devnull, F_DUPFD_CLOEXEC, 10);
    int nul = fcntl(devnull, F_DUPFD_CLOEXEC, 10);
    if (in < 0 || out < 0 || nul < 0 || dup2(nul, 0) < 0 || dup2(nul, 1) < 0 ||
        dup2(err >= 0 ? err : nul, 2) < 0 || dup2(in, 3) < 0 || dup2(out, 4) < 0)
        _exit(126);
    close_range(5, ~0U, 0);
    execve(L->argv[0], L->argv, L->envp);
    _exit(127);
}

/* SIGKILL every child the reaper has (orphans came to it as subreaper). */
static void kill_children(const launch *L)
{
    char buf[4096];
    int fd = open(L->children_path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    long pid = 0;
    for (ssize_t i = 0; i < n; i++) {
        if (buf[i] >= '0' && buf[i] <= '9') {
            pid = pid * 10 + (buf[i] - '0');
        } else {
            if (pid > 1)
                kill((pid_t)pid, SIGKILL);
            pid = 0;
        }
    }
    if (pid > 1)
        kill((pid_t)pid, SIGKILL);
}

static void run_reaper(launch *L)
{
    reset_signals(1);
    setpgid(0, 0);
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    memcpy(L->children_path, "/proc/self/task/", 16);
    put_uint(L->children_path + 16, (unsigned long)getpid());
    size_t len = strlen(L->children_path);
    memcpy(L->children_path + len, "/children", 10);
    close(L->lifeline[1]);
    close(L->to_chrome[1]);
    close(L->from_chrome[0]);
    close(L->pid_pipe[0]);

    pid_t chrome = fork();
    if (chrome == 0)
        exec_browser(L);
    ssize_t wn = write(L->pid_pipe[1], &chrome, sizeof chrome);
    (void)wn;
    close(L->pid_pipe[1]);
    close(L->to_chrome[0]);
    close(L->from_chrome[1]);
    int life = L->lifeline[0];
    /* nothing of the worker's (Redis sockets...) stays open here */
    if (life > 3)
        close_range(3, (unsigned)life - 1, 0);
    close_range((unsigned)life + 1, ~0U, 0);

    int life_gone = 0, status;
    while (chrome > 0) {
        struct pollfd p = {.fd = life, .events = POLLIN};
        if (poll(&p, 1, 250) > 0 && p.revents)
            life_gone = 1;
        if (life_gone || waitpid(chrome, &status, WNOHANG) == chrome)
            break;
    }
    if (chrome > 0)
        kill(-chrome, SIGKILL);
    for (int i = 0; i < 60; i++) { /* ~3 s */
        kill_children(L);
        while (waitpid(-1, &status, WNOHANG) > 0) {
        }
        if (waitpid(-1, &status, WNOHANG) < 0 && errno == ECHILD)
            break;
        poll(NULL, 0, 50);
    }
    pid_t rm = fork();
    if (rm == 0) {
        execve(L->rm_argv[0], L->rm_argv, L->empty_env);
        _exit(127);
    }
    if (rm > 0)
        while (waitpid(rm, &status, 0) < 0 && errno == EINTR) {
        }
    /* the worker may still read the log to say why the browser died */
    while (!life_gone) {
        struct pollfd p = {.fd = life, .events = POLLIN};
        if (poll(&p, 1, -1) > 0 && p.revents)
            life_gone = 1;
    }
    unlink(L->log);
    _exit(0);
}

/* ---- the worker's side ---- */

void pdf_browser_init(pdf_browser *b, const drudge_config *cfg)
{
    memset(b, 0, sizeof *b);
    b->cfg = cfg;
    b->reaper = b->chrome = -1;
    b->lifeline = -1;
    b->cdp.wfd = b->cdp.rfd = -1;
}

static void close_pair(int p[2])
{
    for (int i = 0; i < 2; i++)
        if (p[i] >= 0)
            close(p[i]);
    p[0] = p[1] = -1;
}

static void free_launch(launch *L)
{
    for (size_t i = 0; i < ARGS_MAX && L->argv[i]; i++)
        free(L->argv[i]);
    for (size_t i = 0; i < ENVS_MAX && L->envp[i]; i++)
        free(L->envp[i]);
    free(L->rm_argv[3]);
    close_pair(L->to_chrome);
    close_pair(L->from_chrome);
    close_pair(L->lifeline);
    close_pair(L->pid_pipe);
}

static int add(char **list, size_t max, size_t *n, const char *fmt, const char *a)
{
    char buf[1024];
    if (*n + 1 >= max || snprintf(buf, sizeof buf, fmt, a ? a : "") >= (int)sizeof buf ||
        (list[*n] = strdup(buf)) == NULL)
        return -1;
    (*n)++;
    return 0;
}

static int build_launch(pdf_browser *b, launch *L)
{
    size_t na = 0, ne = 0;
    int rc = add(L->argv, ARGS_MAX, &na, "%s", b->path);
    for (size_t i = 0; rc == 0 && i < sizeof base_flags / sizeof base_flags[0]; i++)
        rc = add(L->argv, ARGS_MAX, &na, "%s", base_flags[i]);
    if (rc == 0 && (geteuid() == 0 || b->cfg->pdf_no_sandbox))
        rc = add(L->argv, ARGS_MAX, &na, "%s", "--no-sandbox");
    if (rc == 0)
        rc = add(L->argv, ARGS_MAX, &na, "--user-data-dir=%s", b->dir);
    if (rc == 0)
        rc = add(L->argv, ARGS_MAX, &na, "%s", "about:blank");
    if (rc == 0)
        rc = add(L->envp, ENVS_MAX, &ne, "PATH=%s", "/usr/local/bin:/usr/bin:/bin");
    if (rc == 0)
        rc = add(L->envp, ENVS_MAX, &ne, "HOME=%s", b->dir);
    if (rc == 0)
        rc = add(L->envp, ENVS_MAX, &ne, "TMPDIR=%s", b->dir);
    if (rc == 0)
        rc = add(L->envp, ENVS_MAX, &ne, "XDG_CONFIG_HOME=%s", b->dir);
    if (rc == 0)
        rc = add(L->envp, ENVS_MAX, &ne, "XDG_CACHE_HOME=%s", b->dir);
    /* language and time zone shape what a page prints (dates, numbers) */
    static const char *const passed[] = {"LANG", "LC_ALL", "LANGUAGE", "TZ"};
    for (size_t i = 0; rc == 0 && i < sizeof passed / sizeof passed[0]; i++) {
        const char *v = getenv(passed[i]);
        char fmt[32];
        snprintf(fmt, sizeof fmt, "%s=%%s", passed[i]);
        if (v != NULL && strlen(v) < 256)
            rc = add(L->envp, ENVS_MAX, &ne, fmt, v);
    }
    L->rm_argv[0] = "/bin/rm";
    L->rm_argv[1] = "-rf";
    L->rm_argv[2] = "--";
    L->rm_argv[3] = strdup(b->dir);
    L->rm_argv[4] = NULL;
    L->empty_env[0] = NULL;
    L->log = b->log;
    if (rc < 0 || L->rm_argv[3] == NULL) {
        snprintf(b->errstr, sizeof b->errstr, "out of memory building chromium's command line");
        return -1;
    }
    if (pipe2(L->to_chrome, O_CLOEXEC) < 0 || pipe2(L->from_chrome, O_CLOEXEC) < 0 ||
        pipe2(L->lifeline, O_CLOEXEC) < 0 || pipe2(L->pid_pipe, O_CLOEXEC) < 0) {
        snprintf(b->errstr, sizeof b->errstr, "pipe: %s", strerror(errno));
        return -1;
    }
    return 0;
}

/* Between jobs nothing may load: a request paused now is refused. */
static void idle_event(void *ud, const char *method, const json_t *params, const char *session)
{
    pdf_browser *b = ud;
    if (strcmp(method, "Fetch.requestPaused") != 0)
        return;
    const char *id = json_string_value(json_object_get(params, "requestId"));
    if (id != NULL)
        pdf_cdp_send(&b->cdp, session, "Fetch.failRequest",
                     json_pack("{ss ss}", "requestId", id, "errorReason", "BlockedByClient"), NULL,
                     NULL, pdf_mono_ms() + 2000);
}

void pdf_browser_idle(pdf_browser *b)
{
    b->cdp.on_event = idle_event;
    b->cdp.event_ud = b;
    b->cdp.tick = NULL;
    b->cdp.tick_ud = NULL;
}

/* Read the browser's pid from the reaper (it writes it right after fork). */
static pid_t read_chrome_pid(int fd)
{
    pid_t pid = -1;
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (poll(&p, 1, 5000) > 0 && read(fd, &pid, sizeof pid) != (ssize_t)sizeof pid)
        pid = -1;
    return pid;
}

static int browser_setup(pdf_browser *b, int64_t deadline)
{
    json_t *r = pdf_cdp_call(&b->cdp, NULL, "Browser.getVersion", NULL, deadline);
    if (r == NULL)
        return -1;
    const char *product = json_string_value(json_object_get(r, "product"));
    snprintf(b->product, sizeof b->product, "%s", product ? product : "?");
    json_decref(r);
    /* One interception for the whole browser: every request of every page,
     * frame and worker pauses here, so render.c sees them all. Documents
     * also pause at the response, to read the status and set the CSP. */
    r = pdf_cdp_call(&b->cdp, NULL, "Fetch.enable",
                     json_pack("{s[{ss ss}{ss ss ss}]}", "patterns", "urlPattern", "*",
                               "requestStage", "Request", "urlPattern", "*", "resourceType",
                               "Document", "requestStage", "Response"),
                     deadline);
    if (r == NULL)
        return -1;
    json_decref(r);
    r = pdf_cdp_call(&b->cdp, NULL, "Browser.setDownloadBehavior",
                     json_pack("{ss}", "behavior", "deny"), deadline);
    if (r == NULL)
        return -1;
    json_decref(r);
    /* the start page's renderer would sit idle for the browser's lifetime */
    r = pdf_cdp_call(&b->cdp, NULL, "Target.getTargets", NULL, deadline);
    json_t *infos = json_object_get(r, "targetInfos"), *t;
    size_t i;
    json_array_foreach(infos, i, t)
    {
        const char *type = json_string_value(json_object_get(t, "type"));
        const char *id = json_string_value(json_object_get(t, "targetId"));
        if (type && id && strcmp(type, "page") == 0)
            pdf_cdp_send(&b->cdp, NULL, "Target.closeTarget", json_pack("{ss}", "targetId", id),
                         NULL, NULL, deadline);
    }
    json_decref(r);
    return 0;
}

/* A launch between jobs (the idle hook) ends early for a stop signal. */
static int stopping_tick(void *ud)
{
    (void)ud;
    return drudge_worker_stopping();
}

static int browser_start(pdf_browser *b, int64_t deadline)
{
    launch L;
    memset(&L, 0, sizeof L);
    L.to_chrome[0] = L.to_chrome[1] = L.from_chrome[0] = L.from_chrome[1] = -1;
    L.lifeline[0] = L.lifeline[1] = L.pid_pipe[0] = L.pid_pipe[1] = -1;
    int64_t t0 = pdf_mono_ms();
    const char *path = pdf_browser_path(b->cfg->pdf_chromium);
    if (path == NULL) {
        snprintf(b->errstr, sizeof b->errstr,
                 "no browser found for pdf.chromium \"auto\" (looked for " PDF_AUTO_BROWSERS
                 "): install chromium-headless-shell or chromium, or set pdf.chromium");
        return -1;
    }
    if (access(path, X_OK) < 0) {
        snprintf(b->errstr, sizeof b->errstr,
                 "chromium \"%s\" cannot be run: %s (install chromium or set pdf.chromium)", path,
                 strerror(errno));
        return -1;
    }
    b->path = path; /* the configuration's string or a literal: both outlive the browser */
    const char *tmp = getenv("TMPDIR");
    if (tmp == NULL || tmp[0] != '/' || strlen(tmp) > 180)
        tmp = "/tmp";
    snprintf(b->dir, sizeof b->dir, "%s/drudge-pdf-XXXXXX", tmp);
    if (mkdtemp(b->dir) == NULL) {
        snprintf(b->errstr, sizeof b->errstr, "cannot create a profile directory in %s: %s", tmp,
                 strerror(errno));
        b->dir[0] = '\0';
        return -1;
    }
    snprintf(b->log, sizeof b->log, "%s.log", b->dir);
    if (build_launch(b, &L) < 0)
        goto fail_early;
    pid_t reaper = fork();
    if (reaper < 0) {
        snprintf(b->errstr, sizeof b->errstr, "fork: %s", strerror(errno));
        goto fail_early;
    }
    if (reaper == 0)
        run_reaper(&L);
    b->reaper = reaper;
    b->owner = getpid();
    b->lifeline = L.lifeline[1];
    L.lifeline[1] = -1;
    pdf_cdp_init(&b->cdp, L.to_chrome[1], L.from_chrome[0]);
    L.to_chrome[1] = L.from_chrome[0] = -1;
    pdf_browser_idle(b);
    if (b->start_stops_on_signal)
        b->cdp.tick = stopping_tick;
    close(L.pid_pipe[1]);
    L.pid_pipe[1] = -1;
    b->chrome = read_chrome_pid(L.pid_pipe[0]);
    free_launch(&L);
    b->up = 1;
    b->jobs = 0;
    b->generation++;
    int64_t start_deadline = t0 + START_TIMEOUT_MS;
    if (browser_setup(b, start_deadline < deadline ? start_deadline : deadline) < 0) {
        char last[200];
        pdf_browser_last_log(b, last, sizeof last);
        snprintf(b->errstr, sizeof b->errstr, "chromium \"%s\" did not start: %s%s%s", b->path,
                 b->cdp.errstr, last[0] ? "; it said: " : "", last);
        pdf_browser_stop(b, "start_failed");
        return -1;
    }
    pdf_browser_idle(b); /* no tick of the launch's left behind */
    b->started_ms = pdf_mono_ms();
    drudge_log(DRUDGE_LOG_INFO, "browser_start", "pid=%d version=%s path=%s profile=%s ms=%lld",
               (int)b->chrome, b->product, b->path, b->dir, (long long)(b->started_ms - t0));
    return 0;
fail_early:
    free_launch(&L);
    rmdir(b->dir);
    b->dir[0] = '\0';
    return -1;
}

int pdf_browser_ready(pdf_browser *b, int64_t deadline_ms)
{
    if (b->up && b->owner != getpid()) {
        /* a forked child: the parent's browser is not ours to drive or to
         * kill (the parent keeps its lifeline); start one of our own */
        pdf_cdp_release(&b->cdp);
        close(b->lifeline);
        b->lifeline = -1;
        b->up = 0;
        b->reaper = b->chrome = -1;
    }
    /* a browser that died while the worker waited for a job shows as the
     * pipe's end-of-file: read what is there (replies for the page opened
     * ahead included) so the job starts on a live browser, not on a retry */
    if (b->up && b->cdp.wfd >= 0)
        pdf_cdp_pump(&b->cdp, 0);
    if (b->up && b->cdp.wfd < 0)
        pdf_browser_stop(b, "crashed");
    if (b->up && b->cfg->pdf_browser_max_jobs > 0 && b->jobs >= b->cfg->pdf_browser_max_jobs)
        pdf_browser_stop(b, "max_jobs");
    if (b->up)
        return 0;
    return browser_start(b, deadline_ms);
}

void pdf_browser_stop(pdf_browser *b, const char *why)
{
    if (b->reaper <= 0 && !b->up)
        return;
    if (b->up)
        drudge_log(DRUDGE_LOG_INFO, "browser_stop", "pid=%d reason=%s jobs=%ld", (int)b->chrome,
                   why, b->jobs);
    pdf_cdp_release(&b->cdp);
    if (b->lifeline >= 0)
        close(b->lifeline); /* the reaper kills the group now */
    b->lifeline = -1;
    b->up = 0;
    if (b->reaper > 0 && b->owner == getpid()) {
        int64_t until = pdf_mono_ms() + STOP_WAIT_MS;
        int status;
        pid_t got;
        while ((got = waitpid(b->reaper, &status, WNOHANG)) == 0 && pdf_mono_ms() < until)
            poll(NULL, 0, 5);
        if (got == 0) {
            drudge_log(DRUDGE_LOG_WARN, "browser_stop_slow", "reaper=%d action=kill",
                       (int)b->reaper);
            kill(b->reaper, SIGKILL);
            while (waitpid(b->reaper, &status, 0) < 0 && errno == EINTR) {
            }
        }
    }
    b->reaper = b->chrome = -1;
    b->dir[0] = '\0';
}

void pdf_browser_last_log(pdf_browser *b, char *out, size_t cap)
{
    char buf[8192];
    out[0] = '\0';
    int fd = b->log[0] ? open(b->log, O_RDONLY | O_CLOEXEC | O_NOFOLLOW) : -1;
    if (fd < 0)
        return;
    off_t size = lseek(fd, 0, SEEK_END);
    off_t from = size > (off_t)sizeof buf - 1 ? size - (off_t)sizeof buf + 1 : 0;
    ssize_t n = pread(fd, buf, sizeof buf - 1, from);
    close(fd);
    if (n <= 0)
        return;
    buf[n] = '\0';
    /* the last line that is not noise about D-Bus or fonts */
    char *end = buf + n;
    while (end > buf) {
        while (end > buf && (end[-1] == '\n' || end[-1] == '\r'))
            *--end = '\0';
        char *line = end;
        while (line > buf && line[-1] != '\n')
            line--;
        if (*line && strstr(line, "dbus") == NULL && strstr(line, "D-Bus") == NULL &&
            strstr(line, "Fontconfig") == NULL) {
            snprintf(out, cap, "%s", line);
            return;
        }
        end = line;
    }
}

int pdf_browser_version(const char *chromium, char *out, size_t cap)
{
    int p[2];
    out[0] = '\0';
    if (access(chromium, X_OK) < 0 || pipe2(p, O_CLOEXEC) < 0)
        return -1;
    pid_t pid = fork();
    if (pid == 0) {
        int nul = open("/dev/null", O_RDWR);
        dup2(p[1], 1);
        if (nul >= 0) {
            dup2(nul, 0);
            dup2(nul, 2);
        }
        char *argv[] = {(char *)chromium, "--version", NULL};
        char *envp[] = {"PATH=/usr/local/bin:/usr/bin:/bin", NULL};
        execve(chromium, argv, envp);
        _exit(127);
    }
    close(p[1]);
    size_t n = 0;
    int64_t until = pdf_mono_ms() + 10000;
    while (pid > 0 && n + 1 < cap && pdf_mono_ms() < until) {
        struct pollfd pf = {.fd = p[0], .events = POLLIN};
        if (poll(&pf, 1, 100) <= 0)
            continue;
        ssize_t got = read(p[0], out + n, cap - 1 - n);
        if (got <= 0)
            break;
        n += (size_t)got;
    }
    close(p[0]);
    out[n] = '\0';
    out[strcspn(out, "\n")] = '\0';
    if (pid > 0) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
    }
    return out[0] ? 0 : -1;
}
