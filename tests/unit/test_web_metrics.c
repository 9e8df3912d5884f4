/* test_web_metrics.c - unit tests for src/web/metrics.c: the Prometheus
 * text drudge web serves at /metrics, from stats and workers JSON.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "metrics.h"

static const char stats_json[] =
    "[{\"class\":\"ImageJob\",\"queued\":3,\"running\":1,\"delayed\":2,\"failed\":4,"
    "\"paused\":{\"reason\":\"breaker\",\"ttl_ms\":5000},\"workers\":2,\"processed\":100,"
    "\"failed_total\":7,\"retried\":3,\"run_ms\":5500},"
    "{\"class\":\"NoopJob\",\"queued\":0,\"running\":0,\"delayed\":0,\"failed\":0,"
    "\"paused\":null,\"workers\":0,\"processed\":0,\"failed_total\":0,\"retried\":0,\"run_ms\":0}]";

/* duration_buckets as drudge_stats_get() reports them: per bound, not
 * cumulative; the last (le_ms null) is le_inf */
static const long long bounds_ms[] = {5,    10,   25,   50,    100,   250,   500,
                                      1000, 2500, 5000, 10000, 30000, 60000, 300000};
#define NBUCKETS (sizeof bounds_ms / sizeof bounds_ms[0] + 1)
static const long long image_jobs[NBUCKETS] = {60, 20, 10, 5, 5, 4, 2, 1, 0, 0, 0, 0, 1, 0, 2};

static void set_buckets(json_t *row, const long long *jobs)
{
    json_t *buckets = json_array();
    for (size_t b = 0; b < NBUCKETS; b++)
        json_array_append_new(buckets,
                              json_pack("{s:o, s:I}", "le_ms",
                                        b + 1 < NBUCKETS ? json_integer(bounds_ms[b]) : json_null(),
                                        "jobs", (json_int_t)(jobs ? jobs[b] : 0)));
    json_object_set_new(row, "duration_buckets", buckets);
}

static const char workers_json[] =
    "[{\"id\":\"web1:10:ab\",\"class\":\"ImageJob\",\"host\":\"web1\",\"rss_kb\":2048,"
    "\"dead\":false,\"heartbeat_age_ms\":1500},"
    "{\"id\":\"web1:11:cd\",\"class\":\"ImageJob\",\"host\":\"web1\",\"rss_kb\":4096,"
    "\"dead\":true,\"heartbeat_age_ms\":90000}]";

static char *render(void)
{
    json_t *stats = json_loads(stats_json, 0, NULL), *workers = json_loads(workers_json, 0, NULL);
    assert_non_null(stats);
    assert_non_null(workers);
    set_buckets(json_array_get(stats, 0), image_jobs);
    set_buckets(json_array_get(stats, 1), NULL);
    strbuf b;
    strbuf_init(&b, 0);
    assert_int_equal(web_metrics_format(&b, stats, workers), 0);
    json_decref(stats);
    json_decref(workers);
    return strbuf_detach(&b, NULL);
}

static void has_line(const char *text, const char *line)
{
    char want[512];
    snprintf(want, sizeof want, "\n%s\n", line);
    if (strstr(text, want) == NULL)
        fail_msg("missing line: %s", line);
}

static void test_class_gauges_and_counters(void **state)
{
    (void)state;
    char *t = render();
    has_line(t, "# TYPE drudge_queue_jobs gauge");
    has_line(t, "drudge_queue_jobs{class=\"ImageJob\"} 3");
    has_line(t, "drudge_queue_jobs{class=\"NoopJob\"} 0");
    has_line(t, "drudge_running_jobs{class=\"ImageJob\"} 1");
    has_line(t, "drudge_delayed_jobs{class=\"ImageJob\"} 2");
    has_line(t, "drudge_failed_list_jobs{class=\"ImageJob\"} 4");
    has_line(t, "drudge_class_paused{class=\"ImageJob\"} 1");
    has_line(t, "drudge_class_paused{class=\"NoopJob\"} 0");
    has_line(t, "# TYPE drudge_jobs_processed_total counter");
    has_line(t, "drudge_jobs_processed_total{class=\"ImageJob\"} 100");
    has_line(t, "drudge_jobs_failed_total{class=\"ImageJob\"} 7");
    has_line(t, "drudge_jobs_retried_total{class=\"ImageJob\"} 3");
    free(t);
}

static void test_duration_histogram_is_cumulative_and_consistent(void **state)
{
    (void)state;
    char *t = render();
    has_line(t, "# TYPE drudge_job_duration_seconds histogram");
    /* the stored buckets summed from the bottom: 60, +20, +10, ... */
    has_line(t, "drudge_job_duration_seconds_bucket{class=\"ImageJob\",le=\"0.005\"} 60");
    has_line(t, "drudge_job_duration_seconds_bucket{class=\"ImageJob\",le=\"0.01\"} 80");
    has_line(t, "drudge_job_duration_seconds_bucket{class=\"ImageJob\",le=\"0.025\"} 90");
    has_line(t, "drudge_job_duration_seconds_bucket{class=\"ImageJob\",le=\"0.05\"} 95");
    has_line(t, "drudge_job_duration_seconds_bucket{class=\"ImageJob\",le=\"0.1\"} 100");
    has_line(t, "drudge_job_duration_seconds_bucket{class=\"ImageJob\",le=\"0.25\"} 104");
    has_line(t, "drudge_job_duration_seconds_bucket{class=\"ImageJob\",le=\"0.5\"} 106");
    has_line(t, "drudge_job_duration_seconds_bucket{class=\"ImageJob\",le=\"1\"} 107");
    has_line(t, "drudge_job_duration_seconds_bucket{class=\"ImageJob\",le=\"2.5\"} 107");
    has_line(t, "drudge_job_duration_seconds_bucket{class=\"ImageJob\",le=\"30\"} 107");
    has_line(t, "drudge_job_duration_seconds_bucket{class=\"ImageJob\",le=\"60\"} 108");
    has_line(t, "drudge_job_duration_seconds_bucket{class=\"ImageJob\",le=\"300\"} 108");
    /* 100 done + 7 failed + 3 retried attempts, two of them over 5 min */
    has_line(t, "drudge_job_duration_seconds_bucket{class=\"ImageJob\",le=\"+Inf\"} 110");
    has_line(t, "drudge_job_duration_seconds_sum{class=\"ImageJob\"} 5.500");
    has_line(t, "drudge_job_duration_seconds_count{class=\"ImageJob\"} 110");
    has_line(t, "drudge_job_duration_seconds_bucket{class=\"NoopJob\",le=\"0.005\"} 0");
    has_line(t, "drudge_job_duration_seconds_bucket{class=\"NoopJob\",le=\"+Inf\"} 0");
    has_line(t, "drudge_job_duration_seconds_count{class=\"NoopJob\"} 0");
    /* every class: 14 bounds and +Inf, in order, never going down */
    for (const char *cls = "ImageJob";; cls = "NoopJob") {
        char prefix[128];
        snprintf(prefix, sizeof prefix,
                 "\ndrudge_job_duration_seconds_bucket{class=\"%s\",le=", cls);
        int n = 0;
        long long last = -1;
        for (const char *p = strstr(t, prefix); p; p = strstr(p + 1, prefix)) {
            const char *value = strchr(p + 1, ' ');
            assert_non_null(value);
            long long v = strtoll(value + 1, NULL, 10);
            assert_true(v >= last);
            last = v;
            n++;
        }
        assert_int_equal(n, 15);
        if (strcmp(cls, "NoopJob") == 0)
            break;
    }
    free(t);
}

static void test_bounds_are_exact_decimal_seconds(void **state)
{
    (void)state;
    static const struct {
        long long ms;
        const char *want;
    } cases[] = {{5, "0.005"},    {10, "0.01"}, {25, "0.025"},        {100, "0.1"},
                 {250, "0.25"},   {1000, "1"},  {2500, "2.5"},        {30000, "30"},
                 {300000, "300"}, {0, "0"},     {1234567, "1234.567"}};
    char out[32];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_int_equal(web_metrics_le(cases[i].ms, out, sizeof out), 0);
        assert_string_equal(out, cases[i].want);
    }
    assert_int_equal(web_metrics_le(-1, out, sizeof out), -1);
    assert_int_equal(web_metrics_le(300000, out, 4), -1); /* "300.000" does not fit */
}

static void test_a_row_without_buckets_has_only_inf(void **state)
{
    (void)state;
    json_t *stats = json_loads("[{\"class\":\"OldJob\",\"processed\":3,\"run_ms\":30}]", 0, NULL);
    json_t *none = json_array();
    strbuf b;
    strbuf_init(&b, 0);
    assert_int_equal(web_metrics_format(&b, stats, none), 0);
    assert_non_null(
        strstr(b.data, "\ndrudge_job_duration_seconds_bucket{class=\"OldJob\",le=\"+Inf\"} 0\n"));
    assert_non_null(strstr(b.data, "\ndrudge_job_duration_seconds_sum{class=\"OldJob\"} 0.030\n"));
    assert_null(strstr(b.data, "le=\"0.005\""));
    strbuf_release(&b);
    json_decref(stats);
    json_decref(none);
}

static void test_workers_live_dead_and_rss(void **state)
{
    (void)state;
    char *t = render();
    has_line(t, "drudge_workers{state=\"live\"} 1");
    has_line(t, "drudge_workers{state=\"dead\"} 1");
    has_line(
        t,
        "drudge_worker_rss_bytes{worker=\"web1:10:ab\",class=\"ImageJob\",host=\"web1\"} 2097152");
    assert_null(strstr(t, "worker=\"web1:11:cd\",class")); /* no RSS for a dead one */
    has_line(t, "drudge_worker_heartbeat_age_seconds{worker=\"web1:11:cd\"} 90.000");
    free(t);
}

static void test_every_family_has_help_and_type_once(void **state)
{
    (void)state;
    char *t = render();
    for (const char *p = strstr(t, "# TYPE "); p; p = strstr(p + 1, "# TYPE ")) {
        char name[128], help[160];
        assert_int_equal(sscanf(p, "# TYPE %127s", name), 1);
        snprintf(help, sizeof help, "# HELP %s ", name);
        assert_non_null(strstr(t, help));
        char type_line[160];
        snprintf(type_line, sizeof type_line, "# TYPE %s ", name);
        assert_ptr_equal(strstr(t, type_line), p);
    }
    assert_int_equal(t[strlen(t) - 1], '\n');
    free(t);
}

static void test_label_values_are_escaped(void **state)
{
    (void)state;
    strbuf b;
    strbuf_init(&b, 0);
    assert_int_equal(web_metrics_label(&b, "a\"b\\c\nd"), 0);
    assert_string_equal(b.data, "a\\\"b\\\\c\\nd");
    strbuf_release(&b);
}

static void test_empty_inputs_give_headers_only(void **state)
{
    (void)state;
    json_t *none = json_array();
    strbuf b;
    strbuf_init(&b, 0);
    assert_int_equal(web_metrics_format(&b, none, none), 0);
    assert_non_null(strstr(b.data, "drudge_workers{state=\"live\"} 0\n"));
    assert_null(strstr(b.data, "class=\""));
    strbuf_release(&b);
    json_decref(none);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_class_gauges_and_counters),
        cmocka_unit_test(test_duration_histogram_is_cumulative_and_consistent),
        cmocka_unit_test(test_bounds_are_exact_decimal_seconds),
        cmocka_unit_test(test_a_row_without_buckets_has_only_inf),
        cmocka_unit_test(test_workers_live_dead_and_rss),
        cmocka_unit_test(test_every_family_has_help_and_type_once),
        cmocka_unit_test(test_label_values_are_escaped),
        cmocka_unit_test(test_empty_inputs_give_headers_only),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
