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
    web_buf b;
    web_buf_init(&b, 0);
    assert_int_equal(web_metrics_format(&b, stats, workers), 0);
    json_decref(stats);
    json_decref(workers);
    return web_buf_detach(&b, NULL);
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

static void test_duration_histogram_is_consistent(void **state)
{
    (void)state;
    char *t = render();
    has_line(t, "# TYPE drudge_job_duration_seconds histogram");
    /* 100 done + 7 failed + 3 retried attempts took 5.5 s in all */
    has_line(t, "drudge_job_duration_seconds_bucket{class=\"ImageJob\",le=\"+Inf\"} 110");
    has_line(t, "drudge_job_duration_seconds_sum{class=\"ImageJob\"} 5.500");
    has_line(t, "drudge_job_duration_seconds_count{class=\"ImageJob\"} 110");
    free(t);
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
    web_buf b;
    web_buf_init(&b, 0);
    assert_int_equal(web_metrics_label(&b, "a\"b\\c\nd"), 0);
    assert_string_equal(b.data, "a\\\"b\\\\c\\nd");
    web_buf_release(&b);
}

static void test_empty_inputs_give_headers_only(void **state)
{
    (void)state;
    json_t *none = json_array();
    web_buf b;
    web_buf_init(&b, 0);
    assert_int_equal(web_metrics_format(&b, none, none), 0);
    assert_non_null(strstr(b.data, "drudge_workers{state=\"live\"} 0\n"));
    assert_null(strstr(b.data, "class=\""));
    web_buf_release(&b);
    json_decref(none);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_class_gauges_and_counters),
        cmocka_unit_test(test_duration_histogram_is_consistent),
        cmocka_unit_test(test_workers_live_dead_and_rss),
        cmocka_unit_test(test_every_family_has_help_and_type_once),
        cmocka_unit_test(test_label_values_are_escaped),
        cmocka_unit_test(test_empty_inputs_give_headers_only),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
