/* test_pdf_options.c - unit tests for src/workers/pdf/options.c: a PdfJob's
 * JSON into print settings - defaults, paper sizes and landscape, margins in
 * millimetres, waits, and the messages for bad or unknown keys. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "pdf.h"

#define NEAR(a, b) assert_true(((a) - (b)) < 1e-6 && ((b) - (a)) < 1e-6)

static json_t *job_of(const char *text)
{
    json_error_t e;
    json_t *j = json_loads(text, 0, &e);
    if (j == NULL)
        print_error("bad test JSON %s: %s\n", text, e.text);
    assert_non_null(j);
    return j;
}

static void parse_ok(const char *text, pdf_job_opts *o, json_t **keep)
{
    char why[PDF_WHY_MAX] = "";
    *keep = job_of(text);
    int rc = pdf_job_parse(*keep, o, why, sizeof why);
    if (rc != 0)
        print_error("%s: %s\n", text, why);
    assert_int_equal(rc, 0);
}

static void parse_fails(const char *text, const char *want)
{
    pdf_job_opts o;
    char why[PDF_WHY_MAX] = "";
    json_t *j = job_of(text);
    assert_int_equal(pdf_job_parse(j, &o, why, sizeof why), -1);
    if (strstr(why, want) == NULL)
        print_error("%s: message \"%s\" lacks \"%s\"\n", text, why, want);
    assert_non_null(strstr(why, want));
    json_decref(j);
}

static void test_defaults(void **state)
{
    (void)state;
    pdf_job_opts o;
    json_t *j;
    parse_ok("{\"url\": \"http://a/\", \"output\": \"a.pdf\"}", &o, &j);
    assert_int_equal(o.source, PDF_SOURCE_URL);
    assert_string_equal(o.url, "http://a/");
    assert_string_equal(o.paper, "A4");
    NEAR(o.paper_w, 210 / 25.4);
    NEAR(o.paper_h, 297 / 25.4);
    NEAR(o.margin_top, 10 / 25.4);
    NEAR(o.scale, 1.0);
    assert_false(o.landscape);
    assert_false(o.print_background);
    assert_int_equal(o.wait, PDF_WAIT_LOAD);
    assert_true(o.timeout_s == 0);
    json_decref(j);
}

static void test_paper_landscape_and_margins(void **state)
{
    (void)state;
    pdf_job_opts o;
    json_t *j;
    double w, h;
    parse_ok("{\"html\": \"<p>x</p>\", \"output\": \"a.pdf\", \"paper\": \"letter\", "
             "\"landscape\": true, \"margin_mm\": {\"top\": 25.4, \"left\": 0}}",
             &o, &j);
    assert_int_equal(o.source, PDF_SOURCE_HTML);
    assert_string_equal(o.paper, "Letter");
    pdf_job_page_size(&o, &w, &h);
    NEAR(w, 11.0);
    NEAR(h, 8.5);
    NEAR(o.margin_top, 1.0);
    NEAR(o.margin_left, 0.0);
    NEAR(o.margin_bottom, 10 / 25.4); /* sides not given keep the default */
    json_decref(j);
    parse_ok("{\"url\": \"http://a/\", \"output\": \"a.pdf\", \"margin_mm\": 0, "
             "\"paper\": {\"width_mm\": 100, \"height_mm\": 50}}",
             &o, &j);
    assert_string_equal(o.paper, "custom");
    NEAR(o.paper_w, 100 / 25.4);
    NEAR(o.margin_right, 0);
    json_decref(j);
}

static void test_print_options(void **state)
{
    (void)state;
    pdf_job_opts o;
    json_t *j;
    parse_ok("{\"url\": \"http://a/\", \"output\": \"x/a.pdf\", \"print_background\": true, "
             "\"scale\": 0.5, \"page_ranges\": \"1-3, 5\", \"header_html\": \"<b>H</b>\", "
             "\"footer_html\": \"<span class='pageNumber'></span>\", \"media\": \"screen\", "
             "\"prefer_css_page_size\": true, \"timeout_s\": 12.5, \"id\": \"inv-1\"}",
             &o, &j);
    assert_true(o.print_background);
    NEAR(o.scale, 0.5);
    assert_string_equal(o.page_ranges, "1-3, 5");
    assert_string_equal(o.header_html, "<b>H</b>");
    assert_string_equal(o.media, "screen");
    assert_true(o.prefer_css_page_size);
    NEAR(o.timeout_s, 12.5);
    json_decref(j);
}

static void test_waits(void **state)
{
    (void)state;
    pdf_job_opts o;
    json_t *j;
    parse_ok("{\"url\": \"http://a/\", \"output\": \"a.pdf\", \"wait_for\": \"networkidle\"}", &o,
             &j);
    assert_int_equal(o.wait, PDF_WAIT_NETWORKIDLE);
    json_decref(j);
    parse_ok("{\"url\": \"http://a/\", \"output\": \"a.pdf\", \"wait_for\": \"#chart.done\"}", &o,
             &j);
    assert_int_equal(o.wait, PDF_WAIT_SELECTOR);
    assert_string_equal(o.wait_value, "#chart.done");
    json_decref(j);
    parse_ok("{\"url\": \"http://a/\", \"output\": \"a.pdf\", \"wait_for\": \"window.status\"}", &o,
             &j);
    assert_int_equal(o.wait, PDF_WAIT_STATUS);
    assert_string_equal(o.wait_value, "ready");
    json_decref(j);
    parse_ok("{\"url\": \"http://a/\", \"output\": \"a.pdf\", \"window_status\": \"printed\"}", &o,
             &j);
    assert_int_equal(o.wait, PDF_WAIT_STATUS);
    assert_string_equal(o.wait_value, "printed");
    json_decref(j);
    parse_fails("{\"url\": \"http://a/\", \"output\": \"a.pdf\", \"wait_for\": \"load\", "
                "\"window_status\": \"x\"}",
                "not both");
}

static void test_images_job(void **state)
{
    (void)state;
    pdf_job_opts o;
    json_t *j;
    parse_ok("{\"images\": [\"scans/p1.jpg\", \"p2.png\"], \"output\": \"doc.pdf\", "
             "\"paper\": \"A5\"}",
             &o, &j);
    assert_int_equal(o.source, PDF_SOURCE_IMAGES);
    assert_int_equal(json_array_size(o.images), 2);
    json_decref(j);
    parse_fails("{\"images\": [], \"output\": \"d.pdf\"}", "\"images\" must be a list");
    parse_fails("{\"images\": [\"../etc/passwd\"], \"output\": \"d.pdf\"}", "\"images\"[0]");
    parse_fails("{\"images\": [3], \"output\": \"d.pdf\"}", "must be a string");
    parse_fails("{\"images\": [\"a.png\"], \"output\": \"d.pdf\", \"scale\": 1}",
                "\"scale\" does not apply to an images job");
}

static void test_bad_jobs(void **state)
{
    (void)state;
    parse_fails("{\"output\": \"a.pdf\"}", "exactly one of");
    parse_fails("{\"url\": \"http://a/\", \"html\": \"x\", \"output\": \"a.pdf\"}",
                "exactly one of");
    parse_fails("{\"url\": \"http://a/\"}", "\"output\" is required");
    parse_fails("{\"url\": \"http://a/\", \"output\": \"/etc/x.pdf\"}", "absolute path");
    parse_fails("{\"url\": \"http://a/\", \"output\": \"a/../../x.pdf\"}", "\"..\"");
    parse_fails("{\"url\": \"http://a/\", \"output\": \"a.pdf\", \"landscpae\": true}",
                "unknown key \"landscpae\"");
    parse_fails("{\"url\": \"http://a/\", \"output\": \"a.pdf\", \"paper\": \"B7\"}", "\"paper\"");
    parse_fails("{\"url\": \"http://a/\", \"output\": \"a.pdf\", \"landscape\": \"yes\"}",
                "true or false");
    parse_fails("{\"url\": \"http://a/\", \"output\": \"a.pdf\", \"scale\": 3}", "0.1 to 2");
    parse_fails("{\"url\": \"http://a/\", \"output\": \"a.pdf\", \"margin_mm\": {\"middle\": 1}}",
                "unknown side");
    parse_fails("{\"url\": \"http://a/\", \"output\": \"a.pdf\", \"margin_mm\": 150}",
                "margins leave less");
    parse_fails("{\"url\": \"http://a/\", \"output\": \"a.pdf\", \"page_ranges\": \"1-2; x\"}",
                "\"page_ranges\"");
    parse_fails("{\"url\": \"http://a/\", \"output\": \"a.pdf\", \"timeout_s\": 0}", "timeout_s");
    parse_fails("{\"url\": \"\", \"output\": \"a.pdf\"}", "must not be empty");
    parse_fails("{\"url\": \"http://a/\", \"output\": \"a.pdf\", \"media\": \"tv\"}", "\"media\"");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),      cmocka_unit_test(test_paper_landscape_and_margins),
        cmocka_unit_test(test_print_options), cmocka_unit_test(test_waits),
        cmocka_unit_test(test_images_job),    cmocka_unit_test(test_bad_jobs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
