/* test_retry.c - unit tests for src/lib/retry.c: the backoff before a
 * job's next attempt. Full jitter over an envelope that doubles per attempt,
 * never shorter than base nor longer than cap, whatever the inputs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <math.h>

#include <cmocka.h>

#include "internal.h"

#define JUST_BELOW_ONE 0.9999999999

/* A fixed xorshift sequence: the tests are the same on every run. */
static double next_r(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return (double)((*s * 0x2545F4914F6CDD1Dull) >> 11) / 9007199254740992.0;
}

static void test_backoff_stays_within_base_and_cap(void **state)
{
    static const double bases[] = {0.1, 1, 2, 5, 30};
    static const double caps[] = {0.1, 2, 60, 600, 604800};
    uint64_t seed = 0x9E3779B97F4A7C15ull;

    (void)state;
    for (size_t b = 0; b < sizeof bases / sizeof bases[0]; b++) {
        for (size_t c = 0; c < sizeof caps / sizeof caps[0]; c++) {
            double base = bases[b], cap = caps[c] < base ? base : caps[c];
            int64_t lo = (int64_t)llround(base * 1000), hi = (int64_t)llround(cap * 1000);
            for (int attempt = 1; attempt <= 80; attempt++) {
                for (int i = 0; i < 200; i++) {
                    double r = next_r(&seed);
                    int64_t d = drudge__backoff_ms(base, cap, attempt, r);
                    if (d < lo || d > hi)
                        print_error("base %g cap %g attempt %d r %g: %lld ms\n", base, cap, attempt,
                                    r, (long long)d);
                    assert_in_range(d, lo, hi);
                }
            }
        }
    }
}

static void test_backoff_envelope_grows_with_attempt(void **state)
{
    int64_t prev_max = 0;
    uint64_t seed = 42;

    (void)state;
    for (int attempt = 1; attempt <= 64; attempt++) {
        int64_t max = drudge__backoff_ms(2, 600, attempt, JUST_BELOW_ONE);
        for (int i = 0; i < 500; i++) {
            int64_t d = drudge__backoff_ms(2, 600, attempt, next_r(&seed));
            if (d > max)
                max = d;
        }
        if (max < prev_max)
            print_error("attempt %d: max %lld < %lld\n", attempt, (long long)max,
                        (long long)prev_max);
        assert_true(max >= prev_max);
        prev_max = max;
    }
    /* and it did grow, up to the cap */
    assert_true(prev_max >= 599990);
}

static void test_backoff_envelope_doubles_until_cap(void **state)
{
    (void)state;
    /* r just below 1 reaches the envelope: base * 2^(attempt-1), capped. */
    assert_int_equal(drudge__backoff_ms(2, 600, 2, JUST_BELOW_ONE), 4000);
    assert_int_equal(drudge__backoff_ms(2, 600, 3, JUST_BELOW_ONE), 8000);
    assert_int_equal(drudge__backoff_ms(2, 600, 5, JUST_BELOW_ONE), 32000);
    assert_int_equal(drudge__backoff_ms(2, 600, 8, JUST_BELOW_ONE), 256000);
    assert_int_equal(drudge__backoff_ms(2, 600, 9, JUST_BELOW_ONE), 512000);
    assert_int_equal(drudge__backoff_ms(2, 600, 10, JUST_BELOW_ONE), 600000);
    /* halfway through the jitter range at attempt 4: 2 + (16 - 2) / 2 s */
    assert_int_equal(drudge__backoff_ms(2, 600, 4, 0.5), 9000);
}

static void test_backoff_r_zero_gives_base(void **state)
{
    (void)state;
    for (int attempt = 1; attempt <= 100; attempt++) {
        assert_int_equal(drudge__backoff_ms(2, 600, attempt, 0), 2000);
        assert_int_equal(drudge__backoff_ms(0.25, 10, attempt, 0), 250);
    }
}

static void test_backoff_first_attempt_gives_base_exactly(void **state)
{
    uint64_t seed = 7;

    (void)state;
    for (int i = 0; i < 1000; i++) {
        double r = next_r(&seed);
        assert_int_equal(drudge__backoff_ms(2, 600, 1, r), 2000);
        assert_int_equal(drudge__backoff_ms(1.5, 3, 1, r), 1500);
    }
    assert_int_equal(drudge__backoff_ms(2, 600, 1, JUST_BELOW_ONE), 2000);
}

static void test_backoff_huge_attempt_stays_at_cap(void **state)
{
    static const int attempts[] = {61, 62, 63, 64, 65, 100, 1000, 1024, 100000, INT_MAX};

    (void)state;
    for (size_t i = 0; i < sizeof attempts / sizeof attempts[0]; i++) {
        int64_t top = drudge__backoff_ms(2, 600, attempts[i], JUST_BELOW_ONE);
        int64_t bottom = drudge__backoff_ms(2, 600, attempts[i], 0);
        int64_t mid = drudge__backoff_ms(2, 600, attempts[i], 0.5);
        assert_in_range(top, 599990, 600000);
        assert_int_equal(bottom, 2000);
        assert_int_equal(mid, 301000);
    }
    /* A week-long cap (the config's maximum) with a tiny base. */
    assert_in_range(drudge__backoff_ms(0.001, 604800, 1000, JUST_BELOW_ONE), 604799000, 604800000);
}

static void test_backoff_non_positive_base_is_clamped(void **state)
{
    int64_t zero, negative;

    (void)state;
    /* A delay of 0 would spin; base falls back to one second. */
    zero = drudge__backoff_ms(0, 600, 1, 0.5);
    negative = drudge__backoff_ms(-5, 600, 1, 0.5);
    assert_int_equal(zero, 1000);
    assert_int_equal(negative, 1000);
    assert_in_range(drudge__backoff_ms(0, 600, 50, 0.9), 1000, 600000);
}

static void test_backoff_cap_below_base_means_base(void **state)
{
    (void)state;
    assert_int_equal(drudge__backoff_ms(10, 5, 1, 0.5), 10000);
    assert_int_equal(drudge__backoff_ms(10, 5, 20, JUST_BELOW_ONE), 10000);
    assert_int_equal(drudge__backoff_ms(10, 0, 3, 0.3), 10000);
    assert_int_equal(drudge__backoff_ms(10, -1, 3, 0.3), 10000);
}

static void test_backoff_attempt_below_one_treated_as_first(void **state)
{
    (void)state;
    assert_int_equal(drudge__backoff_ms(2, 600, 0, JUST_BELOW_ONE), 2000);
    assert_int_equal(drudge__backoff_ms(2, 600, -3, JUST_BELOW_ONE), 2000);
    assert_int_equal(drudge__backoff_ms(2, 600, INT_MIN, JUST_BELOW_ONE), 2000);
}

static void test_backoff_r_out_of_range_is_clamped(void **state)
{
    (void)state;
    /* r < 0 acts as 0, r >= 1 as just below 1 */
    assert_int_equal(drudge__backoff_ms(2, 600, 5, -0.5), 2000);
    assert_int_equal(drudge__backoff_ms(2, 600, 5, -1e300), 2000);
    assert_in_range(drudge__backoff_ms(2, 600, 5, 1.0), 31990, 32000);
    assert_in_range(drudge__backoff_ms(2, 600, 5, 7.0), 31990, 32000);
    assert_in_range(drudge__backoff_ms(2, 600, 5, INFINITY), 31990, 32000);
    assert_int_equal(drudge__backoff_ms(2, 600, 5, -INFINITY), 2000);
}

static void test_backoff_nan_r_stays_within_base_and_cap(void **state)
{
    (void)state;
    /* NaN fails every comparison; it must not slip through the clamps. */
    assert_in_range(drudge__backoff_ms(2, 600, 5, NAN), 2000, 32000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_backoff_stays_within_base_and_cap),
        cmocka_unit_test(test_backoff_envelope_grows_with_attempt),
        cmocka_unit_test(test_backoff_envelope_doubles_until_cap),
        cmocka_unit_test(test_backoff_r_zero_gives_base),
        cmocka_unit_test(test_backoff_first_attempt_gives_base_exactly),
        cmocka_unit_test(test_backoff_huge_attempt_stays_at_cap),
        cmocka_unit_test(test_backoff_non_positive_base_is_clamped),
        cmocka_unit_test(test_backoff_cap_below_base_means_base),
        cmocka_unit_test(test_backoff_attempt_below_one_treated_as_first),
        cmocka_unit_test(test_backoff_r_out_of_range_is_clamped),
        cmocka_unit_test(test_backoff_nan_r_stays_within_base_and_cap),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
