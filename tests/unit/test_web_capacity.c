/* test_web_capacity.c - unit tests for src/web/capacity.c: the talk's
 * arithmetic (workers per memory, jobs per month) from measured RSS and
 * mean job time.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "capacity.h"

static json_t *compute(const char *stats, const char *workers, uint64_t memory)
{
    json_t *s = json_loads(stats, 0, NULL), *w = json_loads(workers, 0, NULL);
    assert_non_null(s);
    assert_non_null(w);
    json_t *out = web_capacity_compute(s, w, memory);
    assert_non_null(out);
    json_decref(s);
    json_decref(w);
    return out;
}

static const json_t *row(const json_t *cap, size_t i)
{
    return json_array_get(json_object_get(cap, "classes"), i);
}

static double num(const json_t *obj, const char *key)
{
    return json_number_value(json_object_get(obj, key));
}

static void test_the_slide_arithmetic(void **state)
{
    (void)state;
    /* two live image workers of 30 MiB and 34 MiB (mean 32 MiB); 1000
     * attempts took 80 s (80 ms each). In 4 GiB: 128 workers, 1600 jobs/s,
     * 4,147,200,000 jobs in 30 days. */
    json_t *cap =
        compute("[{\"class\":\"ImageJob\",\"processed\":990,\"failed_total\":4,\"retried\":6,"
                "\"run_ms\":80000}]",
                "[{\"class\":\"ImageJob\",\"rss_kb\":30720,\"dead\":false},"
                "{\"class\":\"ImageJob\",\"rss_kb\":34816,\"dead\":false},"
                "{\"class\":\"ImageJob\",\"rss_kb\":999999,\"dead\":true}]",
                4ull << 30);
    const json_t *r = row(cap, 0);
    assert_int_equal(json_integer_value(json_object_get(r, "workers")), 2);
    assert_true(num(r, "rss_bytes") == 32.0 * 1024 * 1024);
    assert_true(num(r, "job_ms") == 80.0);
    assert_int_equal(json_integer_value(json_object_get(r, "fit")), 128);
    assert_true(num(r, "jobs_per_second") == 1600.0);
    assert_true(num(r, "jobs_per_month") == 4147200000.0);
    const json_t *mix = json_object_get(cap, "mix");
    assert_int_equal(json_integer_value(json_object_get(mix, "workers")), 2);
    assert_true(num(mix, "jobs_per_month") == 2 * 12.5 * 86400 * 30);
    assert_int_equal(json_integer_value(json_object_get(mix, "fit")), 128);
    assert_int_equal(json_integer_value(json_object_get(cap, "month_days")), 30);
    json_decref(cap);
}

static void test_unmeasured_numbers_are_null(void **state)
{
    (void)state;
    json_t *cap = compute("[{\"class\":\"A\",\"processed\":0,\"run_ms\":0},"
                          "{\"class\":\"B\",\"processed\":10,\"run_ms\":100}]",
                          "[{\"class\":\"A\",\"rss_kb\":1024,\"dead\":false},"
                          "{\"class\":\"B\",\"rss_kb\":0,\"dead\":false}]",
                          1ull << 30);
    const json_t *a = row(cap, 0), *b = row(cap, 1);
    assert_int_equal(json_integer_value(json_object_get(a, "fit")), 1024);
    assert_true(json_is_null(json_object_get(a, "job_ms")));
    assert_true(json_is_null(json_object_get(a, "jobs_per_month")));
    assert_int_equal(json_integer_value(json_object_get(b, "workers")), 1);
    assert_true(json_is_null(json_object_get(b, "rss_bytes"))); /* no RSS reported yet */
    assert_true(json_is_null(json_object_get(b, "fit")));
    assert_true(num(b, "job_ms") == 10.0);
    json_decref(cap);
}

static void test_sub_millisecond_jobs_count_a_tenth(void **state)
{
    (void)state;
    json_t *cap = compute("[{\"class\":\"N\",\"processed\":100000,\"run_ms\":3}]",
                          "[{\"class\":\"N\",\"rss_kb\":2048,\"dead\":false}]", 1ull << 30);
    assert_true(num(row(cap, 0), "job_ms") == 0.1);
    json_decref(cap);
}

static void test_no_workers_no_mix(void **state)
{
    (void)state;
    json_t *cap = compute("[]", "[]", 1ull << 30);
    assert_int_equal(json_array_size(json_object_get(cap, "classes")), 0);
    assert_true(json_is_null(json_object_get(json_object_get(cap, "mix"), "fit")));
    json_decref(cap);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_the_slide_arithmetic),
        cmocka_unit_test(test_unmeasured_numbers_are_null),
        cmocka_unit_test(test_sub_millisecond_jobs_count_a_tenth),
        cmocka_unit_test(test_no_workers_no_mix),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
