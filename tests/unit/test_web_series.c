/* test_web_series.c - unit tests for src/web/series.c: per-minute deltas
 * and rates from sampled counters, gaps, counter resets and the ring.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "series.h"

#define MIN 60000
#define T0 1700000000000LL

static void test_unknown_class_and_no_samples(void **state)
{
    (void)state;
    web_series s;
    web_series_init(&s, 5000, 3600000);
    long long p[3], f[3];
    web_series_minutes(&s, "Nope", T0, 3, p, f);
    for (int i = 0; i < 3; i++)
        assert_true(p[i] == -1 && f[i] == -1);
    double pp, fp;
    assert_int_equal(web_series_rate(&s, "Nope", &pp, &fp), -1);
    assert_int_equal(web_series_add(&s, "A", T0, 10, 1), 0);
    assert_int_equal(web_series_rate(&s, "A", &pp, &fp), -1); /* one sample is no rate */
    web_series_release(&s);
}

static void test_per_minute_deltas(void **state)
{
    (void)state;
    web_series s;
    web_series_init(&s, 10000, 3600000);
    /* every 10 s for 3 minutes: 6 done and 1 failed per 10 s in the
     * first two minutes, nothing in the third */
    long long done = 1000, failed = 50;
    for (int i = 0; i <= 18; i++) {
        assert_int_equal(web_series_add(&s, "A", T0 + (int64_t)i * 10000, done, failed), 0);
        if (i < 12) {
            done += 6;
            failed += 1;
        }
    }
    long long p[4], f[4];
    web_series_minutes(&s, "A", T0 + 3 * MIN, 4, p, f);
    assert_true(p[0] == -1 && f[0] == -1); /* before the first sample */
    assert_true(p[1] == 36 && f[1] == 6);
    assert_true(p[2] == 36 && f[2] == 6);
    assert_true(p[3] == 0 && f[3] == 0);
    double pp, fp;
    assert_int_equal(web_series_rate(&s, "A", &pp, &fp), 0);
    assert_true(pp == 0.0 && fp == 0.0); /* the last minute was idle */
    web_series_release(&s);
}

static void test_rate_scales_a_short_window(void **state)
{
    (void)state;
    web_series s;
    web_series_init(&s, 5000, 3600000);
    web_series_add(&s, "A", T0, 0, 0);
    web_series_add(&s, "A", T0 + 15000, 30, 3);
    double pp, fp;
    assert_int_equal(web_series_rate(&s, "A", &pp, &fp), 0);
    assert_true(pp > 119.99 && pp < 120.01); /* 30 in 15 s = 120 a minute */
    assert_true(fp > 11.99 && fp < 12.01);
    web_series_release(&s);
}

static void test_a_counter_reset_counts_from_zero(void **state)
{
    (void)state;
    web_series s;
    web_series_init(&s, 30000, 3600000);
    web_series_add(&s, "A", T0, 500, 5);
    web_series_add(&s, "A", T0 + 30000, 520, 5);
    web_series_add(&s, "A", T0 + 60000, 7, 0); /* stats hash deleted, 7 since */
    long long p[1], f[1];
    web_series_minutes(&s, "A", T0 + 60000, 1, p, f);
    assert_true(p[0] == 7 && f[0] == 0);
    web_series_release(&s);
}

static void test_ring_keeps_only_the_window(void **state)
{
    (void)state;
    web_series s;
    web_series_init(&s, 1000, 10000); /* 12 slots */
    for (int i = 0; i < 100; i++)
        web_series_add(&s, "A", T0 + (int64_t)i * 1000, i, 0);
    assert_int_equal(s.classes[0].count, s.slots);
    long long p[1], f[1];
    /* the minute ending at the last sample starts before the oldest kept
     * sample (88): counted from that one */
    web_series_minutes(&s, "A", T0 + 99000, 1, p, f);
    assert_true(p[0] == 11);
    web_series_minutes(&s, "A", T0 + 99000 + 50000, 1, p, f);
    assert_true(p[0] == 10);
    double pp, fp;
    assert_int_equal(web_series_rate(&s, "A", &pp, &fp), 0);
    assert_true(pp > 59.9 && pp < 60.1); /* one a second */
    web_series_release(&s);
}

static void test_classes_are_kept_apart(void **state)
{
    (void)state;
    web_series s;
    web_series_init(&s, 1000, 60000);
    web_series_add(&s, "A", T0, 0, 0);
    web_series_add(&s, "B", T0, 0, 0);
    web_series_add(&s, "A", T0 + 60000, 10, 0);
    web_series_add(&s, "B", T0 + 60000, 0, 4);
    long long p[1], f[1];
    web_series_minutes(&s, "A", T0 + 60000, 1, p, f);
    assert_true(p[0] == 10 && f[0] == 0);
    web_series_minutes(&s, "B", T0 + 60000, 1, p, f);
    assert_true(p[0] == 0 && f[0] == 4);
    char name[DRUDGE_CLASS_MAX + 2];
    memset(name, 'x', sizeof name - 1);
    name[sizeof name - 1] = '\0';
    assert_int_equal(web_series_add(&s, name, T0, 0, 0), -1);
    web_series_release(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unknown_class_and_no_samples),
        cmocka_unit_test(test_per_minute_deltas),
        cmocka_unit_test(test_rate_scales_a_short_window),
        cmocka_unit_test(test_a_counter_reset_counts_from_zero),
        cmocka_unit_test(test_ring_keeps_only_the_window),
        cmocka_unit_test(test_classes_are_kept_apart),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
