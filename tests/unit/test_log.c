/* test_log.c - unit tests for src/lib/log.c: the logfmt line written to
 * stderr (captured here by putting a temporary file on fd 2), quoting of
 * values, level filtering and level names.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <regex.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "internal.h"

/* Everything written to fd 2 between capture_start() and capture_end(). */
typedef struct capture {
    FILE *file;
    int saved_fd;
    char text[8192];
    size_t len;
} capture;

static void capture_start(capture *c)
{
    memset(c, 0, sizeof *c);
    c->file = tmpfile();
    assert_non_null(c->file);
    fflush(stderr);
    c->saved_fd = dup(STDERR_FILENO);
    assert_true(c->saved_fd >= 0);
    assert_true(dup2(fileno(c->file), STDERR_FILENO) >= 0);
}

/* Restores fd 2 and returns what was written (NUL-terminated). */
static const char *capture_end(capture *c)
{
    fflush(stderr);
    assert_true(dup2(c->saved_fd, STDERR_FILENO) >= 0);
    close(c->saved_fd);
    rewind(c->file);
    c->len = fread(c->text, 1, sizeof c->text - 1, c->file);
    c->text[c->len] = '\0';
    fclose(c->file);
    return c->text;
}

/* The line after "ts=<stamp> " must start with `rest` exactly and be
 * `rest` + "\n" exactly. */
static void assert_line(const char *out, const char *want_after_ts)
{
    const char *sp = strchr(out, ' ');
    char want[4096];

    assert_true(strncmp(out, "ts=", 3) == 0);
    assert_non_null(sp);
    assert_int_equal(drudge__fmt(want, sizeof want, "%s\n", want_after_ts), 0);
    assert_string_equal(sp + 1, want);
}

static int reset_level(void **state)
{
    (void)state;
    drudge_log_set_level(DRUDGE_LOG_INFO);
    return 0;
}

/* ---- the line ---- */

static void test_log_line_is_logfmt_with_timestamp(void **state)
{
    capture c;
    const char *out;
    regex_t re;
    int rc;

    (void)state;
    capture_start(&c);
    drudge_log(DRUDGE_LOG_INFO, "done", "class=%s id=%s ms=%ld", "X", "Y", 42L);
    out = capture_end(&c);

    rc = regcomp(&re,
                 "^ts=[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z "
                 "level=info event=done class=X id=Y ms=42\n$",
                 REG_EXTENDED | REG_NOSUB);
    assert_int_equal(rc, 0);
    if (regexec(&re, out, 0, NULL, 0) != 0)
        print_error("line: \"%s\"\n", out);
    assert_int_equal(regexec(&re, out, 0, NULL, 0), 0);
    regfree(&re);
}

static void test_log_timestamp_is_now_in_utc(void **state)
{
    capture c;
    const char *out;
    struct tm tm;
    time_t before, after, logged;
    int ms;

    (void)state;
    before = time(NULL);
    capture_start(&c);
    drudge_log(DRUDGE_LOG_INFO, "tick", NULL);
    out = capture_end(&c);
    after = time(NULL);

    memset(&tm, 0, sizeof tm);
    assert_int_equal(sscanf(out, "ts=%4d-%2d-%2dT%2d:%2d:%2d.%3dZ", &tm.tm_year, &tm.tm_mon,
                            &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms),
                     7);
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    logged = timegm(&tm);
    assert_true(logged >= before && logged <= after);
    assert_in_range(ms, 0, 999);
}

static void test_log_without_fields_ends_after_event(void **state)
{
    capture c;

    (void)state;
    capture_start(&c);
    drudge_log(DRUDGE_LOG_INFO, "started", NULL);
    assert_line(capture_end(&c), "level=info event=started");
}

static void test_log_level_names_in_line(void **state)
{
    capture c;
    const char *out;

    (void)state;
    drudge_log_set_level(DRUDGE_LOG_DEBUG);
    capture_start(&c);
    drudge_log(DRUDGE_LOG_DEBUG, "a", NULL);
    drudge_log(DRUDGE_LOG_INFO, "b", NULL);
    drudge_log(DRUDGE_LOG_WARN, "c", NULL);
    drudge_log(DRUDGE_LOG_ERROR, "d", NULL);
    out = capture_end(&c);
    assert_non_null(strstr(out, " level=debug event=a\n"));
    assert_non_null(strstr(out, " level=info event=b\n"));
    assert_non_null(strstr(out, " level=warn event=c\n"));
    assert_non_null(strstr(out, " level=error event=d\n"));
    /* one line per call, in order */
    assert_true(strstr(out, "event=a") < strstr(out, "event=b"));
    assert_true(strstr(out, "event=c") < strstr(out, "event=d"));
    assert_int_equal(c.len, strlen(out));
}

static void test_log_numeric_conversions(void **state)
{
    capture c;

    (void)state;
    capture_start(&c);
    drudge_log(DRUDGE_LOG_INFO, "n",
               "d=%d ld=%ld lld=%lld u=%u lu=%lu zu=%zu f=%f f2=%.2f pct=100%%", -7, -123456789L,
               LLONG_MAX, 4000000000u, ULONG_MAX, (size_t)17, 1.5, 3.14159);
    assert_line(capture_end(&c),
                "level=info event=n d=-7 ld=-123456789 lld=9223372036854775807 u=4000000000 "
                "lu=18446744073709551615 zu=17 f=1.500000 f2=3.14 pct=100%");
}

/* ---- quoting ---- */

static void assert_value_logged_as(const char *value, const char *want)
{
    capture c;
    char line[1024];

    capture_start(&c);
    drudge_log(DRUDGE_LOG_INFO, "e", "k=%s n=1", value);
    assert_int_equal(drudge__fmt(line, sizeof line, "level=info event=e k=%s n=1", want), 0);
    assert_line(capture_end(&c), line);
}

static void test_log_plain_value_not_quoted(void **state)
{
    (void)state;
    assert_value_logged_as("ImageJob", "ImageJob");
    assert_value_logged_as("a.jpg", "a.jpg");
    assert_value_logged_as("caf\xc3\xa9", "caf\xc3\xa9");
}

static void test_log_value_with_space_quoted(void **state)
{
    (void)state;
    assert_value_logged_as("frame 7/20", "\"frame 7/20\"");
    assert_value_logged_as("a\tb", "\"a\\tb\"");
}

static void test_log_value_with_quotes_escaped(void **state)
{
    (void)state;
    assert_value_logged_as("say \"hi\"", "\"say \\\"hi\\\"\"");
    assert_value_logged_as("\"", "\"\\\"\"");
}

static void test_log_value_with_equals_quoted(void **state)
{
    (void)state;
    /* an unquoted '=' would forge a field */
    assert_value_logged_as("level=error", "\"level=error\"");
}

static void test_log_value_with_newline_stays_on_one_line(void **state)
{
    (void)state;
    assert_value_logged_as("line1\nline2", "\"line1\\nline2\"");
    assert_value_logged_as("a\r\nb", "\"a\\r\\nb\"");
}

static void test_log_value_with_backslash_escaped(void **state)
{
    (void)state;
    assert_value_logged_as("C:\\dir", "\"C:\\\\dir\"");
}

static void test_log_empty_and_null_values_quoted_empty(void **state)
{
    (void)state;
    assert_value_logged_as("", "\"\"");
    assert_value_logged_as(NULL, "\"\"");
}

static void test_log_event_name_quoted_when_needed(void **state)
{
    capture c;

    (void)state;
    capture_start(&c);
    drudge_log(DRUDGE_LOG_INFO, "bad event", NULL);
    assert_line(capture_end(&c), "level=info event=\"bad event\"");
}

static void test_log_long_value_truncated_to_one_line(void **state)
{
    capture c;
    char *big = malloc(5000);
    const char *out;

    (void)state;
    assert_non_null(big);
    memset(big, 'v', 4999);
    big[4999] = '\0';
    capture_start(&c);
    drudge_log(DRUDGE_LOG_INFO, "big", "k=%s after=1", big);
    drudge_log(DRUDGE_LOG_INFO, "next", NULL);
    out = capture_end(&c);
    free(big);

    const char *nl = strchr(out, '\n');
    assert_non_null(nl);
    assert_true((size_t)(nl - out) + 1 <= 2048);
    assert_non_null(strstr(out, "event=big k=vvvv"));
    /* the next event is a line of its own */
    assert_true(strncmp(nl + 1, "ts=", 3) == 0);
    assert_non_null(strstr(nl + 1, " level=info event=next\n"));
    assert_null(strchr(strchr(nl + 1, '\n') + 1, '\n'));
}

/* ---- level filtering ---- */

static void test_log_default_level_is_info(void **state)
{
    capture c;
    const char *out;

    (void)state;
    /* Runs first, before any drudge_log_set_level(). */
    capture_start(&c);
    drudge_log(DRUDGE_LOG_DEBUG, "hidden", NULL);
    drudge_log(DRUDGE_LOG_INFO, "shown", NULL);
    out = capture_end(&c);
    assert_null(strstr(out, "hidden"));
    assert_non_null(strstr(out, "level=info event=shown\n"));
}

static void test_log_info_level_hides_debug(void **state)
{
    capture c;
    const char *out;

    (void)state;
    capture_start(&c);
    drudge_log(DRUDGE_LOG_DEBUG, "hidden", NULL);
    drudge_log(DRUDGE_LOG_INFO, "shown", NULL);
    out = capture_end(&c);
    assert_null(strstr(out, "hidden"));
    assert_non_null(strstr(out, "event=shown"));
}

static void test_log_set_level_warn_filters_info(void **state)
{
    capture c;
    const char *out;

    (void)state;
    drudge_log_set_level(DRUDGE_LOG_WARN);
    capture_start(&c);
    drudge_log(DRUDGE_LOG_DEBUG, "d", NULL);
    drudge_log(DRUDGE_LOG_INFO, "i", NULL);
    drudge_log(DRUDGE_LOG_WARN, "w", NULL);
    drudge_log(DRUDGE_LOG_ERROR, "e", NULL);
    out = capture_end(&c);
    assert_null(strstr(out, "event=d\n"));
    assert_null(strstr(out, "event=i\n"));
    assert_non_null(strstr(out, "level=warn event=w\n"));
    assert_non_null(strstr(out, "level=error event=e\n"));
}

static void test_log_set_level_error_shows_only_errors(void **state)
{
    capture c;
    const char *out;

    (void)state;
    drudge_log_set_level(DRUDGE_LOG_ERROR);
    capture_start(&c);
    drudge_log(DRUDGE_LOG_WARN, "w", NULL);
    drudge_log(DRUDGE_LOG_ERROR, "e", NULL);
    out = capture_end(&c);
    assert_null(strstr(out, "event=w"));
    assert_non_null(strstr(out, "level=error event=e\n"));
}

static void test_log_filtered_event_writes_nothing(void **state)
{
    capture c;

    (void)state;
    drudge_log_set_level(DRUDGE_LOG_ERROR);
    capture_start(&c);
    drudge_log(DRUDGE_LOG_INFO, "quiet", "k=%s", "v");
    capture_end(&c);
    assert_int_equal(c.len, 0);
}

/* ---- level names ---- */

static void test_log_level_parse_names(void **state)
{
    drudge_log_level lvl;

    (void)state;
    assert_int_equal(drudge_log_level_parse("debug", &lvl), 0);
    assert_int_equal(lvl, DRUDGE_LOG_DEBUG);
    assert_int_equal(drudge_log_level_parse("info", &lvl), 0);
    assert_int_equal(lvl, DRUDGE_LOG_INFO);
    assert_int_equal(drudge_log_level_parse("warn", &lvl), 0);
    assert_int_equal(lvl, DRUDGE_LOG_WARN);
    assert_int_equal(drudge_log_level_parse("warning", &lvl), 0);
    assert_int_equal(lvl, DRUDGE_LOG_WARN);
    assert_int_equal(drudge_log_level_parse("error", &lvl), 0);
    assert_int_equal(lvl, DRUDGE_LOG_ERROR);
}

static void test_log_level_parse_ignores_case(void **state)
{
    drudge_log_level lvl;

    (void)state;
    assert_int_equal(drudge_log_level_parse("DEBUG", &lvl), 0);
    assert_int_equal(lvl, DRUDGE_LOG_DEBUG);
    assert_int_equal(drudge_log_level_parse("Warn", &lvl), 0);
    assert_int_equal(lvl, DRUDGE_LOG_WARN);
    assert_int_equal(drudge_log_level_parse("WARNING", &lvl), 0);
    assert_int_equal(lvl, DRUDGE_LOG_WARN);
    assert_int_equal(drudge_log_level_parse("Error", &lvl), 0);
    assert_int_equal(lvl, DRUDGE_LOG_ERROR);
}

static void test_log_level_parse_rejects_unknown(void **state)
{
    static const char *const bad[] = {"", "verbose", "trace", "fatal", "inf", "info ", "3"};
    drudge_log_level lvl;

    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        lvl = DRUDGE_LOG_ERROR;
        assert_int_equal(drudge_log_level_parse(bad[i], &lvl), -1);
        assert_int_equal(lvl, DRUDGE_LOG_ERROR); /* left alone */
    }
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, reset_level, reset_level)
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_log_default_level_is_info), /* first: no set_level yet */
        T(test_log_line_is_logfmt_with_timestamp),
        T(test_log_timestamp_is_now_in_utc),
        T(test_log_without_fields_ends_after_event),
        T(test_log_level_names_in_line),
        T(test_log_numeric_conversions),
        T(test_log_plain_value_not_quoted),
        T(test_log_value_with_space_quoted),
        T(test_log_value_with_quotes_escaped),
        T(test_log_value_with_equals_quoted),
        T(test_log_value_with_newline_stays_on_one_line),
        T(test_log_value_with_backslash_escaped),
        T(test_log_empty_and_null_values_quoted_empty),
        T(test_log_event_name_quoted_when_needed),
        T(test_log_long_value_truncated_to_one_line),
        T(test_log_info_level_hides_debug),
        T(test_log_set_level_warn_filters_info),
        T(test_log_set_level_error_shows_only_errors),
        T(test_log_filtered_event_writes_nothing),
        T(test_log_level_parse_names),
        T(test_log_level_parse_ignores_case),
        T(test_log_level_parse_rejects_unknown),
    };
#undef T

    return cmocka_run_group_tests(tests, NULL, NULL);
}
