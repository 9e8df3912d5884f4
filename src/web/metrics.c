/* metrics.c - Prometheus text for /metrics (see metrics.h).
 *
 * Per class: gauges for what waits and runs, counters the runtime keeps in
 * <Class>:stats, and a job-duration histogram. The workers count each
 * attempt's handler time in one bucket of <Class>:stats (le_<ms>: at most
 * that long and more than the bucket below, le_inf: longer), which
 * drudge_stats_get() reports as "duration_buckets"; Prometheus buckets are
 * cumulative, so they are summed here, and _count is the +Inf bucket. _sum
 * is the class's run_ms in seconds. */
#include "metrics.h"

#include <stdio.h>
#include <string.h>

typedef enum { KIND_GAUGE, KIND_COUNTER } metric_kind;

/* Per-class families read straight from a stats row. */
static const struct {
    const char *name;
    const char *help;
    metric_kind kind;
    const char *field;
} class_families[] = {
    {"drudge_queue_jobs", "Jobs waiting in the class's queue.", KIND_GAUGE, "queued"},
    {"drudge_running_jobs", "Jobs held by live workers of the class.", KIND_GAUGE, "running"},
    {"drudge_delayed_jobs", "Jobs due later (delayed pushes and retries).", KIND_GAUGE, "delayed"},
    {"drudge_failed_list_jobs", "Jobs in the class's failed list (dead letters).", KIND_GAUGE,
     "failed"},
    {"drudge_class_workers", "Live workers serving the class.", KIND_GAUGE, "workers"},
    {"drudge_jobs_processed_total", "Jobs done.", KIND_COUNTER, "processed"},
    {"drudge_jobs_failed_total", "Jobs that failed for good.", KIND_COUNTER, "failed_total"},
    {"drudge_jobs_retried_total", "Attempts that ended in a retry.", KIND_COUNTER, "retried"},
};

static long long int_field(const json_t *obj, const char *name)
{
    const json_t *v = json_object_get(obj, name);
    return json_is_integer(v) ? (long long)json_integer_value(v) : 0;
}

static const char *str_field(const json_t *obj, const char *name)
{
    const char *s = json_string_value(json_object_get(obj, name));
    return s ? s : "";
}

int web_metrics_label(strbuf *out, const char *value)
{
    const char *run = value;
    for (const char *p = value;; p++) {
        const char *esc = NULL;
        if (*p == '\\')
            esc = "\\\\";
        else if (*p == '"')
            esc = "\\\"";
        else if (*p == '\n')
            esc = "\\n";
        else if (*p == '\0')
            return strbuf_add(out, run, (size_t)(p - run));
        else
            continue;
        if (strbuf_add(out, run, (size_t)(p - run)) < 0 || strbuf_adds(out, esc) < 0)
            return -1;
        run = p + 1;
    }
}

static void header(strbuf *out, const char *name, const char *help, const char *type)
{
    strbuf_addf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* name{class="X"[,extra]} */
static void class_sample(strbuf *out, const char *name, const char *class_name, const char *extra)
{
    strbuf_addf(out, "%s{class=\"", name);
    web_metrics_label(out, class_name);
    strbuf_addf(out, "\"%s} ", extra ? extra : "");
}

int web_metrics_le(long long ms, char *out, size_t cap)
{
    if (ms < 0)
        return -1;
    int n = snprintf(out, cap, "%lld.%03lld", ms / 1000, ms % 1000);
    if (n < 0 || (size_t)n >= cap)
        return -1;
    while (out[n - 1] == '0') /* "0.500" -> "0.5", "2.000" -> "2." */
        out[--n] = '\0';
    if (out[n - 1] == '.')
        out[--n] = '\0';
    return 0;
}

/* One class's histogram from its non-cumulative buckets (borrowed array
 * of {"le_ms", "jobs"}, ascending, "le_ms" null for the last). */
static void format_histogram(strbuf *out, const char *cls, const json_t *buckets, long long run_ms)
{
    long long total = 0, last_ms = -1;
    size_t j;
    const json_t *b;
    json_array_foreach(buckets, j, b)
    {
        const json_t *le = json_object_get(b, "le_ms");
        long long jobs = int_field(b, "jobs");
        total += jobs > 0 ? jobs : 0;
        if (!json_is_integer(le))
            continue; /* le_inf: only in +Inf */
        long long ms = (long long)json_integer_value(le);
        char bound[32], extra[48];
        if (ms <= last_ms || web_metrics_le(ms, bound, sizeof bound) < 0)
            continue; /* not ascending: a malformed row, never from drudge */
        last_ms = ms;
        snprintf(extra, sizeof extra, ",le=\"%s\"", bound);
        class_sample(out, "drudge_job_duration_seconds_bucket", cls, extra);
        strbuf_addf(out, "%lld\n", total);
    }
    class_sample(out, "drudge_job_duration_seconds_bucket", cls, ",le=\"+Inf\"");
    strbuf_addf(out, "%lld\n", total);
    class_sample(out, "drudge_job_duration_seconds_sum", cls, NULL);
    strbuf_addf(out, "%.3f\n", (double)run_ms / 1000.0);
    class_sample(out, "drudge_job_duration_seconds_count", cls, NULL);
    strbuf_addf(out, "%lld\n", total);
}

static void format_classes(strbuf *out, const json_t *stats)
{
    size_t i;
    const json_t *row;
    for (size_t f = 0; f < sizeof class_families / sizeof class_families[0]; f++) {
        header(out, class_families[f].name, class_families[f].help,
               class_families[f].kind == KIND_GAUGE ? "gauge" : "counter");
        json_array_foreach(stats, i, row)
        {
            class_sample(out, class_families[f].name, str_field(row, "class"), NULL);
            strbuf_addf(out, "%lld\n", int_field(row, class_families[f].field));
        }
    }
    header(out, "drudge_class_paused", "1 while the class is paused (by hand or the breaker).",
           "gauge");
    json_array_foreach(stats, i, row)
    {
        class_sample(out, "drudge_class_paused", str_field(row, "class"), NULL);
        strbuf_addf(out, "%d\n", json_is_object(json_object_get(row, "paused")) ? 1 : 0);
    }
    header(out, "drudge_job_duration_seconds",
           "Handler time per attempt (done, retried, failed or cancelled).", "histogram");
    json_array_foreach(stats, i, row)
    {
        format_histogram(out, str_field(row, "class"), json_object_get(row, "duration_buckets"),
                         int_field(row, "run_ms"));
    }
}

static void format_workers(strbuf *out, const json_t *workers)
{
    size_t i;
    const json_t *w;
    long long live = 0, dead = 0;
    json_array_foreach(workers, i, w)
    {
        if (json_is_true(json_object_get(w, "dead")))
            dead++;
        else
            live++;
    }
    header(out, "drudge_workers", "Registered workers by state (dead: no heartbeat).", "gauge");
    strbuf_addf(out, "drudge_workers{state=\"live\"} %lld\n", live);
    strbuf_addf(out, "drudge_workers{state=\"dead\"} %lld\n", dead);
    header(out, "drudge_worker_rss_bytes", "Resident memory of a live worker process.", "gauge");
    json_array_foreach(workers, i, w)
    {
        if (json_is_true(json_object_get(w, "dead")))
            continue;
        strbuf_adds(out, "drudge_worker_rss_bytes{worker=\"");
        web_metrics_label(out, str_field(w, "id"));
        strbuf_adds(out, "\",class=\"");
        web_metrics_label(out, str_field(w, "class"));
        strbuf_adds(out, "\",host=\"");
        web_metrics_label(out, str_field(w, "host"));
        strbuf_addf(out, "\"} %lld\n", int_field(w, "rss_kb") * 1024);
    }
    header(out, "drudge_worker_heartbeat_age_seconds", "Time since a worker's last heartbeat.",
           "gauge");
    json_array_foreach(workers, i, w)
    {
        strbuf_adds(out, "drudge_worker_heartbeat_age_seconds{worker=\"");
        web_metrics_label(out, str_field(w, "id"));
        strbuf_addf(out, "\"} %.3f\n", (double)int_field(w, "heartbeat_age_ms") / 1000.0);
    }
}

int web_metrics_format(strbuf *out, const json_t *stats, const json_t *workers)
{
    format_classes(out, stats);
    format_workers(out, workers);
    return out->failed ? -1 : 0;
}
