/* test_web_series.c - unit tests for src/web/series.c: the overview's plot
 * points and per-minute rates from what drudge_class_minutes() returns
 * (the workers' per-minute counters in Redis).
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

#define M0 28333333LL /* a unix minute */

/* A drudge_class_minutes() reply: n minutes ending at minute `last`, `into`
 * ms into it; counts[i] = {processed, failed, retried} of minute i (oldest
 * first), NULL rows left out as a missing hash would be (zeros). */
static json_t *minutes_reply(long long last, long long into, size_t n, const long long (*counts)[3])
{
    json_t *rows = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *row = json_pack("{s:I, s:I, s:I, s:I, s:I}", "minute",
                                (json_int_t)(last - (long long)n + 1 + (long long)i), "processed",
                                (json_int_t)counts[i][0], "failed", (json_int_t)counts[i][1],
                                "retried", (json_int_t)counts[i][2], "run_ms", (json_int_t)0);
        assert_non_null(row);
        json_array_append_new(rows, row);
    }
    json_t *v = json_pack("{s:s, s:I, s:I, s:o}", "class", "A", "now",
                          (json_int_t)(last * WEB_MINUTE_MS + into), "minute", (json_int_t)last,
                          "minutes", rows);
    assert_non_null(v);
    return v;
}

static long long point(const json_t *series, const char *field, size_t i)
{
    const json_t *v = json_array_get(json_object_get(json_object_get(series, "series"), field), i);
    assert_true(json_is_integer(v));
    return (long long)json_integer_value(v);
}

static double rate(const json_t *series, const char *field)
{
    const json_t *v = json_object_get(json_object_get(series, "per_minute"), field);
    assert_true(json_is_real(v));
    return json_real_value(v);
}

static void test_rate_slides_from_the_previous_minute_to_this_one(void **state)
{
    (void)state;
    /* at the start of a minute the last 60 s are the previous minute */
    assert_true(web_series_rate(60, 0, 0) == 60.0);
    /* half way: half of the previous minute plus all of this one so far */
    assert_true(web_series_rate(60, 10, 30000) == 40.0);
    /* at its end: this minute alone */
    assert_true(web_series_rate(60, 25, 60000) == 25.0);
    /* a clock a little off either way is clamped */
    assert_true(web_series_rate(60, 5, -1000) == 65.0);
    assert_true(web_series_rate(60, 5, 61000) == 5.0);
    assert_true(web_series_rate(0, 0, 12345) == 0.0);
}

static void test_points_follow_the_minutes_oldest_first(void **state)
{
    (void)state;
    long long counts[WEB_PLOT_MINUTES][3];
    memset(counts, 0, sizeof counts);
    counts[0][0] = 7;    /* an hour ago */
    counts[30][0] = 100; /* half an hour ago */
    counts[30][1] = 3;
    counts[58][0] = 40; /* the previous minute */
    counts[58][2] = 2;
    counts[59][0] = 12; /* this minute so far */
    counts[59][1] = 1;
    json_t *m = minutes_reply(M0, 15000, WEB_PLOT_MINUTES, (const long long(*)[3])counts);
    json_t *s = web_series_json(m);
    assert_non_null(s);
    const json_t *series = json_object_get(s, "series");
    assert_int_equal(json_integer_value(json_object_get(series, "start_minute")),
                     M0 - WEB_PLOT_MINUTES + 1);
    for (size_t f = 0; web_series_fields[f]; f++)
        assert_int_equal(json_array_size(json_object_get(series, web_series_fields[f])),
                         WEB_PLOT_MINUTES);
    assert_int_equal(point(s, "processed", 0), 7);
    assert_int_equal(point(s, "processed", 1), 0);
    assert_int_equal(point(s, "processed", 30), 100);
    assert_int_equal(point(s, "failed", 30), 3);
    assert_int_equal(point(s, "retried", 58), 2);
    assert_int_equal(point(s, "processed", 59), 12);
    /* 15 s into the minute: 12 + 40 * 45/60 */
    assert_true(rate(s, "processed") == 42.0);
    assert_true(rate(s, "failed") == 1.0);
    assert_true(rate(s, "retried") == 1.5);
    json_decref(s);
    json_decref(m);
}

static void test_one_minute_and_missing_fields(void **state)
{
    (void)state;
    const long long counts[1][3] = {{9, 0, 0}};
    json_t *m = minutes_reply(M0, 30000, 1, counts);
    /* a row without a field (or with a nonsense value) counts zero */
    json_t *row = json_array_get(json_object_get(m, "minutes"), 0);
    json_object_del(row, "failed");
    json_object_set_new(row, "retried", json_string("x"));
    json_t *s = web_series_json(m);
    assert_non_null(s);
    assert_int_equal(point(s, "processed", 0), 9);
    assert_int_equal(point(s, "failed", 0), 0);
    assert_int_equal(point(s, "retried", 0), 0);
    assert_true(rate(s, "processed") == 9.0); /* no previous minute */
    json_decref(s);
    json_decref(m);
}

static void test_a_reply_of_the_wrong_shape_is_refused(void **state)
{
    (void)state;
    assert_null(web_series_json(NULL));
    json_t *empty =
        json_pack("{s:I, s:I, s:[]}", "now", (json_int_t)0, "minute", (json_int_t)0, "minutes");
    assert_null(web_series_json(empty));
    json_decref(empty);
    const long long counts[1][3] = {{1, 0, 0}};
    json_t *m = minutes_reply(M0, 0, 1, counts);
    json_object_set_new(m, "now", json_string("soon"));
    assert_null(web_series_json(m));
    json_decref(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rate_slides_from_the_previous_minute_to_this_one),
        cmocka_unit_test(test_points_follow_the_minutes_oldest_first),
        cmocka_unit_test(test_one_minute_and_missing_fields),
        cmocka_unit_test(test_a_reply_of_the_wrong_shape_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
