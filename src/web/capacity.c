/* capacity.c - workers per memory, jobs per month (see capacity.h). */
#include "capacity.h"

#include <math.h>
#include <string.h>

#define MONTH_S ((double)WEB_MONTH_DAYS * 86400.0)

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

/* Live workers of class `cls`, and the sum of their RSS in bytes. Workers
 * that have not reported RSS yet are not counted in the mean. */
static void live_workers(const json_t *workers, const char *cls, long long *n, long long *measured,
                         double *rss_sum)
{
    size_t i;
    const json_t *w;
    *n = *measured = 0;
    *rss_sum = 0;
    json_array_foreach(workers, i, w)
    {
        if (json_is_true(json_object_get(w, "dead")) || strcmp(str_field(w, "class"), cls) != 0)
            continue;
        (*n)++;
        long long kb = int_field(w, "rss_kb");
        if (kb > 0) {
            (*measured)++;
            *rss_sum += (double)kb * 1024.0;
        }
    }
}

static json_t *number_or_null(double v, int known)
{
    return known && isfinite(v) ? json_real(v) : json_null();
}

json_t *web_capacity_compute(const json_t *stats, const json_t *workers, uint64_t memory_bytes)
{
    json_t *classes = json_array();
    double mix_rss = 0, mix_jobs_ps = 0;
    long long mix_workers = 0;
    size_t i;
    const json_t *row;
    if (classes == NULL)
        return NULL;
    json_array_foreach(stats, i, row)
    {
        const char *cls = str_field(row, "class");
        long long n, measured;
        double rss_sum;
        live_workers(workers, cls, &n, &measured, &rss_sum);
        long long attempts = int_field(row, "processed") + int_field(row, "failed_total") +
                             int_field(row, "retried");
        long long run_ms = int_field(row, "run_ms");
        int have_rss = measured > 0, have_ms = attempts > 0;
        double rss = have_rss ? rss_sum / (double)measured : 0;
        /* a job under a millisecond still costs the round trip: count 0.1 ms */
        double job_ms = have_ms ? (double)run_ms / (double)attempts : 0;
        if (have_ms && job_ms < 0.1)
            job_ms = 0.1;
        double fit = have_rss ? floor((double)memory_bytes / rss) : 0;
        double per_s = have_rss && have_ms ? fit * 1000.0 / job_ms : 0;
        json_t *c = json_pack(
            "{s:s, s:I, s:o, s:o, s:o, s:o, s:o}", "class", cls, "workers", (json_int_t)n,
            "rss_bytes", number_or_null(rss, have_rss), "job_ms", number_or_null(job_ms, have_ms),
            "fit", have_rss ? json_integer((json_int_t)fit) : json_null(), "jobs_per_second",
            number_or_null(per_s, have_rss && have_ms), "jobs_per_month",
            number_or_null(floor(per_s * MONTH_S), have_rss && have_ms));
        if (c == NULL || json_array_append_new(classes, c) < 0) {
            json_decref(classes);
            return NULL;
        }
        mix_workers += n;
        if (have_rss)
            mix_rss += rss * (double)n;
        if (have_ms)
            mix_jobs_ps += (double)n * 1000.0 / job_ms;
    }
    double scale = mix_rss > 0 ? (double)memory_bytes / mix_rss : 0;
    json_t *mix = json_pack(
        "{s:I, s:f, s:f, s:o, s:o, s:o}", "workers", (json_int_t)mix_workers, "rss_bytes", mix_rss,
        "jobs_per_month", floor(mix_jobs_ps * MONTH_S), "scale", number_or_null(scale, scale > 0),
        "fit",
        scale > 0 ? json_integer((json_int_t)floor((double)mix_workers * scale)) : json_null(),
        "fit_jobs_per_month", number_or_null(floor(mix_jobs_ps * scale * MONTH_S), scale > 0));
    if (mix == NULL) {
        json_decref(classes);
        return NULL;
    }
    return json_pack("{s:I, s:i, s:o, s:o}", "memory_bytes", (json_int_t)memory_bytes, "month_days",
                     WEB_MONTH_DAYS, "classes", classes, "mix", mix);
}
