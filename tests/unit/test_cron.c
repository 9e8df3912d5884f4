/* test_cron.c - unit tests for src/lib/cron.c: parsing cron expressions,
 * matching broken-down times, and finding the next run in UTC and in a
 * zone with daylight saving time.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "internal.h"

#define BIT(n) (UINT64_C(1) << (n))

/* Unix seconds of a UTC wall time. */
static int64_t utc(int year, int month, int day, int hour, int minute)
{
    struct tm tm;

    memset(&tm, 0, sizeof tm);
    tm.tm_year = year - 1900;
    tm.tm_mon = month - 1;
    tm.tm_mday = day;
    tm.tm_hour = hour;
    tm.tm_min = minute;
    return (int64_t)timegm(&tm);
}

static drudge_cron parse_ok(const char *expr)
{
    drudge_cron c;
    char err[256];
    int rc = drudge__cron_parse(expr, &c, err, sizeof err);

    if (rc != 0)
        print_error("parse \"%s\" failed: %s\n", expr, err);
    assert_int_equal(rc, 0);
    return c;
}

static void assert_parse_error(const char *expr, const char *want)
{
    drudge_cron c;
    char err[256];
    int rc;

    memset(&c, 0xab, sizeof c);
    rc = drudge__cron_parse(expr, &c, err, sizeof err);
    if (rc != -1)
        print_error("parse \"%s\" unexpectedly succeeded\n", expr ? expr : "(null)");
    assert_int_equal(rc, -1);
    assert_string_equal(err, want);
    /* A failed parse leaves the output alone. */
    assert_int_equal(c.mday_star, (int)0xabababab);
}

static int64_t next_of(const char *expr, int64_t after, const char *tz)
{
    drudge_cron c = parse_ok(expr);

    return drudge__cron_next(&c, after, tz);
}

static void assert_same_cron(const drudge_cron *a, const drudge_cron *b)
{
    assert_true(a->minutes == b->minutes);
    assert_int_equal(a->hours, b->hours);
    assert_int_equal(a->mdays, b->mdays);
    assert_int_equal(a->months, b->months);
    assert_int_equal(a->wdays, b->wdays);
    assert_int_equal(a->mday_star, b->mday_star);
    assert_int_equal(a->wday_star, b->wday_star);
}

static int zone_installed(const char *name)
{
    char path[256];

    snprintf(path, sizeof path, "/usr/share/zoneinfo/%s", name);
    return access(path, R_OK) == 0;
}

/* ---- parsing ---- */

static void test_star_sets_every_value(void **state)
{
    drudge_cron c = parse_ok("* * * * *");

    (void)state;
    assert_true(c.minutes == BIT(60) - 1);
    assert_int_equal(c.hours, 0xffffffu);
    assert_int_equal(c.mdays, 0xfffffffeu);
    assert_int_equal(c.months, 0x1ffeu);
    assert_int_equal(c.wdays, 0x7fu);
    assert_int_equal(c.mday_star, 1);
    assert_int_equal(c.wday_star, 1);
}

static void test_numbers_ranges_and_lists(void **state)
{
    drudge_cron c = parse_ok("0,15,59 9-17 1,15-16,31 2 1-3");

    (void)state;
    assert_true(c.minutes == (BIT(0) | BIT(15) | BIT(59)));
    assert_int_equal(c.hours, 0x3fe00u); /* 9..17 */
    assert_int_equal(c.mdays, (uint32_t)(BIT(1) | BIT(15) | BIT(16) | BIT(31)));
    assert_int_equal(c.months, BIT(2));
    assert_int_equal(c.wdays, 0x0eu);
    assert_int_equal(c.mday_star, 0);
    assert_int_equal(c.wday_star, 0);
}

static void test_extra_whitespace_between_fields_is_accepted(void **state)
{
    drudge_cron a = parse_ok("5 4 * * *");
    drudge_cron b = parse_ok("  5\t4   *  *\t* \n");

    (void)state;
    assert_same_cron(&a, &b);
}

static void test_steps(void **state)
{
    drudge_cron c;

    (void)state;
    c = parse_ok("*/15 */6 */10 */3 */2");
    assert_true(c.minutes == (BIT(0) | BIT(15) | BIT(30) | BIT(45)));
    assert_int_equal(c.hours, (uint32_t)(BIT(0) | BIT(6) | BIT(12) | BIT(18)));
    assert_int_equal(c.mdays, (uint32_t)(BIT(1) | BIT(11) | BIT(21) | BIT(31)));
    assert_int_equal(c.months, BIT(1) | BIT(4) | BIT(7) | BIT(10));
    assert_int_equal(c.wdays, BIT(0) | BIT(2) | BIT(4) | BIT(6));

    c = parse_ok("1-10/3 8-20/4 * * *");
    assert_true(c.minutes == (BIT(1) | BIT(4) | BIT(7) | BIT(10)));
    assert_int_equal(c.hours, (uint32_t)(BIT(8) | BIT(12) | BIT(16) | BIT(20)));

    /* "a/n" runs from a to the end of the field. */
    c = parse_ok("5/20 20/2 * 11/1 *");
    assert_true(c.minutes == (BIT(5) | BIT(25) | BIT(45)));
    assert_int_equal(c.hours, (uint32_t)(BIT(20) | BIT(22)));
    assert_int_equal(c.months, BIT(11) | BIT(12));

    /* A step as wide as the field leaves only the start. */
    c = parse_ok("*/60 * * * *");
    assert_true(c.minutes == BIT(0));
}

static void test_month_and_weekday_names_ignore_case(void **state)
{
    drudge_cron c = parse_ok("0 0 * JAN,Mar,dec mon,WED,Fri");
    drudge_cron r;

    (void)state;
    assert_int_equal(c.months, BIT(1) | BIT(3) | BIT(12));
    assert_int_equal(c.wdays, BIT(1) | BIT(3) | BIT(5));

    c = parse_ok("0 0 * jun-aug tue-thu");
    assert_int_equal(c.months, BIT(6) | BIT(7) | BIT(8));
    assert_int_equal(c.wdays, BIT(2) | BIT(3) | BIT(4));

    c = parse_ok("0 0 * jan-dec/3 sun-sat/3");
    r = parse_ok("0 0 * 1,4,7,10 0,3,6");
    assert_int_equal(c.months, r.months);
    assert_int_equal(c.wdays, r.wdays);
}

static void test_seven_is_sunday(void **state)
{
    drudge_cron c;

    (void)state;
    c = parse_ok("0 0 * * 7");
    assert_int_equal(c.wdays, BIT(0));
    c = parse_ok("0 0 * * 0");
    assert_int_equal(c.wdays, BIT(0));
    c = parse_ok("0 0 * * sun");
    assert_int_equal(c.wdays, BIT(0));
    c = parse_ok("0 0 * * 5-7");
    assert_int_equal(c.wdays, BIT(0) | BIT(5) | BIT(6));
    c = parse_ok("0 0 * * 0-7");
    assert_int_equal(c.wdays, 0x7fu);
    /* A range may end on Sunday by name. */
    c = parse_ok("0 0 * * fri-sun");
    assert_int_equal(c.wdays, BIT(0) | BIT(5) | BIT(6));
    c = parse_ok("0 0 * * mon-sun");
    assert_int_equal(c.wdays, 0x7fu);
}

static void test_macros_expand_to_their_fields(void **state)
{
    static const struct {
        const char *macro, *fields;
    } cases[] = {
        {"@yearly", "0 0 1 1 *"},  {"@annually", "0 0 1 1 *"}, {"@monthly", "0 0 1 * *"},
        {"@weekly", "0 0 * * 0"},  {"@daily", "0 0 * * *"},    {"@midnight", "0 0 * * *"},
        {"@hourly", "0 * * * *"},  {"  @Daily  ", "0 0 * * *"},
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        drudge_cron a = parse_ok(cases[i].macro);
        drudge_cron b = parse_ok(cases[i].fields);

        assert_same_cron(&a, &b);
    }
}

static void test_only_a_bare_star_leaves_a_day_field_unrestricted(void **state)
{
    drudge_cron c;

    (void)state;
    c = parse_ok("0 0 */2 * *");
    assert_int_equal(c.mday_star, 0);
    assert_int_equal(c.wday_star, 1);
    c = parse_ok("0 0 * * */2");
    assert_int_equal(c.mday_star, 1);
    assert_int_equal(c.wday_star, 0);
    c = parse_ok("0 0 1-31 * 0-6");
    assert_int_equal(c.mday_star, 0);
    assert_int_equal(c.wday_star, 0);
}

static void test_invalid_expressions_name_the_problem(void **state)
{
    static const struct {
        const char *expr, *err;
    } cases[] = {
        {"", "expected 5 fields, got 0"},
        {"   ", "expected 5 fields, got 0"},
        {"* * * *", "expected 5 fields, got 4"},
        {"* * * * * *", "expected 5 fields, got 6"},
        {"61 * * * *", "minute field: value 61 out of range 0-59"},
        {"* 24 * * *", "hour field: value 24 out of range 0-23"},
        {"* * 0 * *", "day-of-month field: value 0 out of range 1-31"},
        {"* * 32 * *", "day-of-month field: value 32 out of range 1-31"},
        {"* * * 0 *", "month field: value 0 out of range 1-12"},
        {"* * * 13 *", "month field: value 13 out of range 1-12"},
        {"* * * * 8", "day-of-week field: value 8 out of range 0-7"},
        {"1-60 * * * *", "minute field: value 60 out of range 0-59"},
        {"99999999999 * * * *", "minute field: value 99999999999 out of range 0-59"},
        {"* * * * fu", "day-of-week field: unknown name \"fu\""},
        {"* * * janu *", "month field: unknown name \"janu\""},
        {"* * * * monday", "day-of-week field: unknown name \"monday\""},
        {"jan * * * *", "minute field: invalid value \"jan\""},
        {"* * mon * *", "day-of-month field: invalid value \"mon\""},
        {"1x * * * *", "minute field: invalid value \"1x\""},
        {"*/0 * * * *", "minute field: step 0 is invalid"},
        {"* 1-5/0 * * *", "hour field: step 0 is invalid"},
        {"*/61 * * * *", "minute field: step 61 out of range 1-60"},
        {"* * * * */8", "day-of-week field: step 8 out of range 1-7"},
        {"*/ * * * *", "minute field: missing step after \"/\" in \"*/\""},
        {"*/x * * * *", "minute field: invalid step \"x\""},
        {"* 5-2 * * *", "hour field: range 5-2 is reversed"},
        {"* * * dec-jan *", "month field: range dec-jan is reversed"},
        {"* * * * fri-mon", "day-of-week field: range fri-mon is reversed"},
        {"1,,2 * * * *", "minute field: empty list element"},
        {"1, * * * *", "minute field: empty list element"},
        {",1 * * * *", "minute field: empty list element"},
        {"-5 * * * *", "minute field: expected a number in \"-5\""},
        {"* * * * -1", "day-of-week field: expected a number or name in \"-1\""},
        {"1- * * * *", "minute field: expected a number in \"1-\""},
        {"1-5-7 * * * *", "minute field: unexpected \"-7\" in \"1-5-7\""},
        {"*5 * * * *", "minute field: unexpected \"5\" in \"*5\""},
        {"? * * * *", "minute field: expected a number in \"?\""},
        {"@fortnightly", "unknown macro \"@fortnightly\""},
        {"@daily 5", "macro \"@daily\" takes no other fields"},
        {"@reboot", "macro \"@reboot\" is not supported"},
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_parse_error(cases[i].expr, cases[i].err);
}

static void test_overlong_field_and_null_expression_are_rejected(void **state)
{
    char expr[400];

    (void)state;
    memset(expr, '1', 300);
    memcpy(expr + 300, " * * * *", sizeof " * * * *");
    assert_parse_error(expr, "minute field: longer than 256 characters");
    assert_parse_error(NULL, "no expression");
}

static void test_error_buffer_may_be_small_or_absent(void **state)
{
    drudge_cron c;
    char tiny[8];

    (void)state;
    assert_int_equal(drudge__cron_parse("61 * * * *", &c, tiny, sizeof tiny), -1);
    assert_string_equal(tiny, "minute ");
    assert_int_equal(drudge__cron_parse("61 * * * *", &c, NULL, 0), -1);
    assert_int_equal(drudge__cron_parse("* * * * *", &c, NULL, 0), 0);
}

/* ---- matching ---- */

static int matches_on(const drudge_cron *c, int year, int month, int day)
{
    time_t t = (time_t)utc(year, month, day, 0, 0);
    struct tm tm;

    gmtime_r(&t, &tm);
    return drudge__cron_matches(c, &tm);
}

static void test_both_day_fields_restricted_match_either(void **state)
{
    /* 2024-09-13 is a Friday, 2024-09-06 a Friday, 2024-10-13 a Sunday. */
    drudge_cron c = parse_ok("0 0 13 * 5");

    (void)state;
    assert_true(matches_on(&c, 2024, 9, 13));
    assert_true(matches_on(&c, 2024, 9, 6));
    assert_true(matches_on(&c, 2024, 10, 13));
    assert_false(matches_on(&c, 2024, 9, 7));
}

static void test_one_day_field_star_only_the_other_counts(void **state)
{
    drudge_cron dom = parse_ok("0 0 13 * *");
    drudge_cron dow = parse_ok("0 0 * * fri");

    (void)state;
    assert_true(matches_on(&dom, 2024, 10, 13));
    assert_false(matches_on(&dom, 2024, 9, 6));
    assert_true(matches_on(&dow, 2024, 9, 6));
    assert_false(matches_on(&dow, 2024, 10, 13));
}

static void test_stepped_day_of_month_counts_as_restricted(void **state)
{
    /* Odd days of the month, or Mondays: 2024-09-02 is a Monday. */
    drudge_cron c = parse_ok("0 0 */2 * 1");

    (void)state;
    assert_true(matches_on(&c, 2024, 9, 2));  /* Monday, even day */
    assert_true(matches_on(&c, 2024, 9, 3));  /* Tuesday, odd day */
    assert_false(matches_on(&c, 2024, 9, 4)); /* Wednesday, even day */
}

static void test_matches_checks_minute_hour_and_month(void **state)
{
    drudge_cron c = parse_ok("30 9 * jun *");
    time_t t;
    struct tm tm;

    (void)state;
    t = (time_t)utc(2024, 6, 10, 9, 30);
    gmtime_r(&t, &tm);
    assert_true(drudge__cron_matches(&c, &tm));
    t = (time_t)utc(2024, 6, 10, 9, 31);
    gmtime_r(&t, &tm);
    assert_false(drudge__cron_matches(&c, &tm));
    t = (time_t)utc(2024, 6, 10, 10, 30);
    gmtime_r(&t, &tm);
    assert_false(drudge__cron_matches(&c, &tm));
    t = (time_t)utc(2024, 7, 10, 9, 30);
    gmtime_r(&t, &tm);
    assert_false(drudge__cron_matches(&c, &tm));
    tm.tm_min = 75;
    assert_false(drudge__cron_matches(&c, &tm));
}

/* ---- next run, UTC ---- */

static void test_every_minute_is_the_next_minute_strictly_after(void **state)
{
    int64_t t = utc(2024, 5, 5, 10, 0);

    (void)state;
    assert_int_equal(next_of("* * * * *", t, "UTC"), t + 60);
    assert_int_equal(next_of("* * * * *", t + 1, "UTC"), t + 60);
    assert_int_equal(next_of("* * * * *", t + 59, "UTC"), t + 60);
    assert_int_equal(next_of("* * * * *", t - 1, "UTC"), t);
    assert_int_equal(next_of("* * * * *", utc(2024, 12, 31, 23, 59), "UTC"),
                     utc(2025, 1, 1, 0, 0));
}

static void test_empty_and_null_zone_mean_utc(void **state)
{
    int64_t t = utc(2024, 5, 5, 10, 7);

    (void)state;
    assert_int_equal(next_of("*/15 * * * *", t, "UTC"), utc(2024, 5, 5, 10, 15));
    assert_int_equal(next_of("*/15 * * * *", t, ""), utc(2024, 5, 5, 10, 15));
    assert_int_equal(next_of("*/15 * * * *", t, NULL), utc(2024, 5, 5, 10, 15));
    assert_int_equal(next_of("*/15 * * * *", utc(2024, 5, 5, 10, 45), "UTC"),
                     utc(2024, 5, 5, 11, 0));
}

static void test_next_crosses_day_month_and_year(void **state)
{
    (void)state;
    assert_int_equal(next_of("30 2 * * *", utc(2024, 5, 5, 3, 0), "UTC"), utc(2024, 5, 6, 2, 30));
    assert_int_equal(next_of("0 0 1 * *", utc(2024, 1, 31, 12, 0), "UTC"), utc(2024, 2, 1, 0, 0));
    assert_int_equal(next_of("0 0 31 * *", utc(2024, 1, 31, 0, 0), "UTC"), utc(2024, 3, 31, 0, 0));
    assert_int_equal(next_of("@yearly", utc(2024, 6, 1, 0, 0), "UTC"), utc(2025, 1, 1, 0, 0));
    assert_int_equal(next_of("@yearly", utc(2024, 12, 31, 23, 59), "UTC"), utc(2025, 1, 1, 0, 0));
    assert_int_equal(next_of("59 23 31 12 *", utc(2024, 12, 31, 23, 59), "UTC"),
                     utc(2025, 12, 31, 23, 59));
    assert_int_equal(next_of("0 12 * feb *", utc(2024, 3, 1, 0, 0), "UTC"), utc(2025, 2, 1, 12, 0));
    /* 2024-09-06 is a Friday. */
    assert_int_equal(next_of("0 9 * * mon-fri", utc(2024, 9, 6, 10, 0), "UTC"),
                     utc(2024, 9, 9, 9, 0));
    assert_int_equal(next_of("@weekly", utc(2024, 9, 6, 10, 0), "UTC"), utc(2024, 9, 8, 0, 0));
    assert_int_equal(next_of("@hourly", utc(2024, 9, 6, 23, 0), "UTC"), utc(2024, 9, 7, 0, 0));
}

static void test_next_uses_the_either_rule(void **state)
{
    (void)state;
    /* From Friday 2024-10-11: Sunday the 13th comes before Friday the 18th. */
    assert_int_equal(next_of("0 0 13 * fri", utc(2024, 10, 11, 12, 0), "UTC"),
                     utc(2024, 10, 13, 0, 0));
    assert_int_equal(next_of("0 0 13 * fri", utc(2024, 10, 13, 0, 0), "UTC"),
                     utc(2024, 10, 18, 0, 0));
}

static void test_leap_day_is_found_years_ahead(void **state)
{
    (void)state;
    assert_int_equal(next_of("0 0 29 2 *", utc(2023, 1, 1, 0, 0), "UTC"), utc(2024, 2, 29, 0, 0));
    assert_int_equal(next_of("0 0 29 2 *", utc(2024, 3, 1, 0, 0), "UTC"), utc(2028, 2, 29, 0, 0));
    /* 2100 is not a leap year: the next is 2104, beyond the 5-year horizon. */
    assert_int_equal(next_of("0 0 29 2 *", utc(2097, 3, 1, 0, 0), "UTC"), -1);
}

static void test_impossible_expressions_have_no_next(void **state)
{
    (void)state;
    assert_int_equal(next_of("0 0 31 2 *", utc(2024, 1, 1, 0, 0), "UTC"), -1);
    assert_int_equal(next_of("0 0 30 2 *", utc(2024, 1, 1, 0, 0), "UTC"), -1);
    assert_int_equal(next_of("0 0 31 4,6,9,11 *", utc(2024, 1, 1, 0, 0), "UTC"), -1);
    if (zone_installed("Europe/Berlin"))
        assert_int_equal(next_of("0 0 31 2 *", utc(2024, 1, 1, 0, 0), "Europe/Berlin"), -1);
}

static void test_empty_schedule_has_no_next(void **state)
{
    drudge_cron c;

    (void)state;
    memset(&c, 0, sizeof c);
    assert_int_equal(drudge__cron_next(&c, utc(2024, 1, 1, 0, 0), "UTC"), -1);
    assert_int_equal(drudge__cron_next(NULL, utc(2024, 1, 1, 0, 0), "UTC"), -1);
}

/* ---- next run, time zones ---- */

static void test_unknown_or_unsafe_zone_has_no_next(void **state)
{
    static const char *const zones[] = {
        "Mars/Olympus_Mons", "../../etc/passwd", "Europe/../Europe/Berlin", "/etc/localtime",
        "Europe",            "zone.tab",         "Europe/Berlin ",
        "CET-1CEST,M3.5.0,M10.5.0/3",
    };
    size_t i;
    int64_t t = utc(2024, 1, 1, 0, 0);

    (void)state;
    for (i = 0; i < sizeof zones / sizeof zones[0]; i++)
        assert_int_equal(next_of("* * * * *", t, zones[i]), -1);
    /* A file in the zone directory that is not a zone. */
    if (zone_installed("leapseconds"))
        assert_int_equal(next_of("* * * * *", t, "leapseconds"), -1);
}

static void test_half_hour_zone(void **state)
{
    (void)state;
    if (!zone_installed("Asia/Kolkata"))
        skip();
    /* 09:00 IST is 03:30 UTC. */
    assert_int_equal(next_of("0 9 * * *", utc(2024, 1, 1, 0, 0), "Asia/Kolkata"),
                     utc(2024, 1, 1, 3, 30));
    assert_int_equal(next_of("0 9 * * *", utc(2024, 1, 1, 3, 30), "Asia/Kolkata"),
                     utc(2024, 1, 2, 3, 30));
}

/* Europe/Berlin, 2024: clocks go 02:00 CET -> 03:00 CEST on 31 March
 * (01:00 UTC) and 03:00 CEST -> 02:00 CET on 27 October (01:00 UTC). */
static void test_berlin_daily_job_follows_the_wall_clock_across_dst(void **state)
{
    (void)state;
    if (!zone_installed("Europe/Berlin"))
        skip();
    assert_int_equal(next_of("0 9 * * *", utc(2024, 3, 29, 12, 0), "Europe/Berlin"),
                     utc(2024, 3, 30, 8, 0));
    assert_int_equal(next_of("0 9 * * *", utc(2024, 3, 30, 12, 0), "Europe/Berlin"),
                     utc(2024, 3, 31, 7, 0));
    assert_int_equal(next_of("0 0 1 11 *", utc(2024, 10, 1, 0, 0), "Europe/Berlin"),
                     utc(2024, 10, 31, 23, 0));
}

static void test_berlin_skipped_hour_never_matches(void **state)
{
    (void)state;
    if (!zone_installed("Europe/Berlin"))
        skip();
    /* 02:30 does not exist on 31 March; the next 02:30 is on 1 April, CEST. */
    assert_int_equal(next_of("30 2 * * *", utc(2024, 3, 30, 12, 0), "Europe/Berlin"),
                     utc(2024, 4, 1, 0, 30));
    /* Every minute runs straight through the jump: 01:59 CET, then 03:00 CEST. */
    assert_int_equal(next_of("* * * * *", utc(2024, 3, 31, 0, 59), "Europe/Berlin"),
                     utc(2024, 3, 31, 1, 0));
}

static void test_berlin_repeated_hour_matches_both_times(void **state)
{
    int64_t first, second, t;

    (void)state;
    if (!zone_installed("Europe/Berlin"))
        skip();
    /* 02:30 happens twice on 27 October: at 00:30 UTC (CEST), 01:30 UTC (CET). */
    first = next_of("30 2 * * *", utc(2024, 10, 26, 12, 0), "Europe/Berlin");
    assert_int_equal(first, utc(2024, 10, 27, 0, 30));
    second = next_of("30 2 * * *", first, "Europe/Berlin");
    assert_int_equal(second, utc(2024, 10, 27, 1, 30));
    assert_int_equal(next_of("30 2 * * *", second, "Europe/Berlin"), utc(2024, 10, 28, 1, 30));

    /* Every minute stays one real minute apart through the repeated hour. */
    for (t = utc(2024, 10, 26, 23, 0); t < utc(2024, 10, 27, 3, 0); t += 60)
        assert_int_equal(next_of("* * * * *", t, "Europe/Berlin"), t + 60);
}

static void test_next_restores_the_callers_tz(void **state)
{
    const char *tz;

    (void)state;
    if (!zone_installed("Europe/Berlin"))
        skip();
    assert_int_equal(setenv("TZ", "America/New_York", 1), 0);
    tzset();
    assert_int_not_equal(next_of("0 9 * * *", utc(2024, 1, 1, 0, 0), "Europe/Berlin"), -1);
    tz = getenv("TZ");
    assert_non_null(tz);
    assert_string_equal(tz, "America/New_York");

    assert_int_equal(unsetenv("TZ"), 0);
    tzset();
    assert_int_not_equal(next_of("0 9 * * *", utc(2024, 1, 1, 0, 0), "Europe/Berlin"), -1);
    assert_null(getenv("TZ"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_star_sets_every_value),
        cmocka_unit_test(test_numbers_ranges_and_lists),
        cmocka_unit_test(test_extra_whitespace_between_fields_is_accepted),
        cmocka_unit_test(test_steps),
        cmocka_unit_test(test_month_and_weekday_names_ignore_case),
        cmocka_unit_test(test_seven_is_sunday),
        cmocka_unit_test(test_macros_expand_to_their_fields),
        cmocka_unit_test(test_only_a_bare_star_leaves_a_day_field_unrestricted),
        cmocka_unit_test(test_invalid_expressions_name_the_problem),
        cmocka_unit_test(test_overlong_field_and_null_expression_are_rejected),
        cmocka_unit_test(test_error_buffer_may_be_small_or_absent),
        cmocka_unit_test(test_both_day_fields_restricted_match_either),
        cmocka_unit_test(test_one_day_field_star_only_the_other_counts),
        cmocka_unit_test(test_stepped_day_of_month_counts_as_restricted),
        cmocka_unit_test(test_matches_checks_minute_hour_and_month),
        cmocka_unit_test(test_every_minute_is_the_next_minute_strictly_after),
        cmocka_unit_test(test_empty_and_null_zone_mean_utc),
        cmocka_unit_test(test_next_crosses_day_month_and_year),
        cmocka_unit_test(test_next_uses_the_either_rule),
        cmocka_unit_test(test_leap_day_is_found_years_ahead),
        cmocka_unit_test(test_impossible_expressions_have_no_next),
        cmocka_unit_test(test_empty_schedule_has_no_next),
        cmocka_unit_test(test_unknown_or_unsafe_zone_has_no_next),
        cmocka_unit_test(test_half_hour_zone),
        cmocka_unit_test(test_berlin_daily_job_follows_the_wall_clock_across_dst),
        cmocka_unit_test(test_berlin_skipped_hour_never_matches),
        cmocka_unit_test(test_berlin_repeated_hour_matches_both_times),
        cmocka_unit_test(test_next_restores_the_callers_tz),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
