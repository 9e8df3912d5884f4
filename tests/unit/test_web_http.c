/* test_web_http.c - unit tests for src/web/http.c and buf.c: HTML escaping,
 * the request checks (bearer token, Origin, Host), --listen, sizes, paths
 * the static routes accept, content types, image magic bytes, SSE framing,
 * and the byte buffer's limit.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "http.h"

static char *escaped(const char *s)
{
    static char out[1024];
    strbuf b;
    strbuf_init(&b, 0);
    assert_int_equal(web_html_escape(&b, s), 0);
    snprintf(out, sizeof out, "%s", b.data ? b.data : "");
    strbuf_release(&b);
    return out;
}

static void test_html_escape_makes_markup_text(void **state)
{
    (void)state;
    assert_string_equal(escaped("<script>alert(1)</script>"),
                        "&lt;script&gt;alert(1)&lt;/script&gt;");
    assert_string_equal(escaped("a & \"b\" 'c'"), "a &amp; &quot;b&quot; &#39;c&#39;");
    assert_string_equal(escaped("plain"), "plain");
    assert_string_equal(escaped(""), "");
    assert_string_equal(escaped("&amp;"), "&amp;amp;");
}

static void test_listen_addresses(void **state)
{
    (void)state;
    char host[WEB_HOST_MAX], err[128];
    int port = 0;
    assert_int_equal(web_listen_parse("127.0.0.1:8080", host, sizeof host, &port, err, sizeof err),
                     0);
    assert_string_equal(host, "127.0.0.1");
    assert_int_equal(port, 8080);
    assert_int_equal(web_listen_parse("[::1]:9000", host, sizeof host, &port, err, sizeof err), 0);
    assert_string_equal(host, "::1");
    assert_int_equal(port, 9000);
    assert_int_equal(web_listen_parse("localhost:1", host, sizeof host, &port, err, sizeof err), 0);
    const char *bad[] = {"8080",     ":8080",  "host:",   "host:0",   "host:65536",
                         "host:80x", "::1:80", "[::1]80", "ho st:80", "host:-1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(web_listen_parse(bad[i], host, sizeof host, &port, err, sizeof err), -1);
}

static void test_loopback_names(void **state)
{
    (void)state;
    assert_true(web_host_is_loopback("127.0.0.1"));
    assert_true(web_host_is_loopback("127.1.2.3"));
    assert_true(web_host_is_loopback("localhost"));
    assert_true(web_host_is_loopback("::1"));
    assert_false(web_host_is_loopback("0.0.0.0"));
    assert_false(web_host_is_loopback("127.0.0.1.evil.example"));
    assert_false(web_host_is_loopback("127.0.0"));
    assert_false(web_host_is_loopback("evil.example"));
}

static void test_host_header_on_a_loopback_listener(void **state)
{
    (void)state;
    assert_true(web_host_header_ok("127.0.0.1:8080", 1));
    assert_true(web_host_header_ok("localhost:8080", 1));
    assert_true(web_host_header_ok("[::1]:8080", 1));
    assert_true(web_host_header_ok("localhost", 1));
    assert_true(web_host_header_ok(NULL, 1));
    assert_false(web_host_header_ok("evil.example:8080", 1));
    assert_false(web_host_header_ok("127.0.0.1.nip.io", 1));
    assert_false(web_host_header_ok("[::1", 1));
    assert_true(web_host_header_ok("evil.example", 0)); /* a public listener answers any name */
}

static void test_bearer_token(void **state)
{
    (void)state;
    const char *token = "0123456789abcdef-token";
    assert_true(web_bearer_ok("Bearer 0123456789abcdef-token", token));
    assert_true(web_bearer_ok("bearer 0123456789abcdef-token", token));
    assert_false(web_bearer_ok("Bearer 0123456789abcdef-toke", token));
    assert_false(web_bearer_ok("Bearer 0123456789abcdef-tokenX", token));
    assert_false(web_bearer_ok("Basic 0123456789abcdef-token", token));
    assert_false(web_bearer_ok("0123456789abcdef-token", token));
    assert_false(web_bearer_ok("Bearer ", token));
    assert_false(web_bearer_ok(NULL, token));
    assert_false(web_bearer_ok("Bearer x", ""));
}

static void test_token_rules(void **state)
{
    (void)state;
    assert_true(web_token_valid("0123456789abcdef"));
    assert_false(web_token_valid("short"));
    assert_false(web_token_valid("0123456789 abcdef"));
    assert_false(web_token_valid("0123456789abcdef\x01"));
    char longer[WEB_TOKEN_MAX + 2];
    memset(longer, 'a', sizeof longer - 1);
    longer[sizeof longer - 1] = '\0';
    assert_false(web_token_valid(longer));
}

static void test_token_source_order(void **state)
{
    (void)state;
    /* --token-file, then $DRUDGE_WEB_TOKEN, then web.token_file, then random */
    assert_int_equal(web_token_source_pick("/f", "env-token", "/c"), WEB_TOKEN_FROM_FLAG);
    assert_int_equal(web_token_source_pick(NULL, "env-token", "/c"), WEB_TOKEN_FROM_ENV);
    assert_int_equal(web_token_source_pick(NULL, "", "/c"), WEB_TOKEN_FROM_CONFIG);
    assert_int_equal(web_token_source_pick(NULL, NULL, "/c"), WEB_TOKEN_FROM_CONFIG);
    assert_int_equal(web_token_source_pick(NULL, NULL, ""), WEB_TOKEN_RANDOM);
    assert_int_equal(web_token_source_pick(NULL, NULL, NULL), WEB_TOKEN_RANDOM);
}

static void test_bool_words(void **state)
{
    (void)state;
    static const char *const yes[] = {"true", "TRUE", "yes", "on", "1"};
    static const char *const no[] = {"false", "False", "no", "off", "0"};
    static const char *const bad[] = {"", "2", "maybe", "truee", " true"};
    int v;
    for (size_t i = 0; i < 5; i++) {
        v = -1;
        assert_int_equal(web_bool_parse(yes[i], &v), 0);
        assert_int_equal(v, 1);
        assert_int_equal(web_bool_parse(no[i], &v), 0);
        assert_int_equal(v, 0);
        v = 7;
        assert_int_equal(web_bool_parse(bad[i], &v), -1);
        assert_int_equal(v, 7);
    }
    assert_int_equal(web_bool_parse(NULL, &v), -1);
}

static void test_origin_rules_for_changes(void **state)
{
    (void)state;
    const char *host = "127.0.0.1:8080";
    assert_true(web_origin_ok(NULL, host, NULL)); /* curl */
    assert_true(web_origin_ok("http://127.0.0.1:8080", host, "same-origin"));
    assert_true(web_origin_ok("https://127.0.0.1:8080", host, NULL));
    assert_false(web_origin_ok("http://evil.example", host, NULL));
    assert_false(web_origin_ok("http://127.0.0.1:8081", host, NULL));
    assert_false(web_origin_ok("null", host, NULL));
    assert_false(web_origin_ok("http://127.0.0.1:8080", NULL, NULL));
    assert_false(web_origin_ok(NULL, host, "cross-site"));
    assert_false(web_origin_ok(NULL, host, "same-site"));
    assert_true(web_origin_ok(NULL, host, "none")); /* typed into the address bar */
}

static void test_sizes_and_numbers(void **state)
{
    (void)state;
    uint64_t v;
    assert_int_equal(web_size_parse("4G", &v), 0);
    assert_true(v == 4ull << 30);
    assert_int_equal(web_size_parse("512M", &v), 0);
    assert_true(v == 512ull << 20);
    assert_int_equal(web_size_parse("1.5GiB", &v), 0);
    assert_true(v == 3ull << 29);
    assert_int_equal(web_size_parse("800kb", &v), 0);
    assert_true(v == 800ull * 1024);
    const char *bad[] = {"4", "G", "-1G", "4X", "", "1e30T", " 4G", "4 G", "0G"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(web_size_parse(bad[i], &v), -1);
    long n;
    assert_int_equal(web_parse_long("42", 0, 100, &n), 0);
    assert_int_equal(n, 42);
    assert_int_equal(web_parse_long("101", 0, 100, &n), -1);
    assert_int_equal(web_parse_long("4x", 0, 100, &n), -1);
    assert_int_equal(web_parse_long(" 4", 0, 100, &n), -1);
    assert_int_equal(web_parse_long("", 0, 100, &n), -1);
    assert_int_equal(web_parse_long(NULL, 0, 100, &n), -1);
}

static void test_relative_paths(void **state)
{
    (void)state;
    assert_true(web_rel_path_valid("a.gif"));
    assert_true(web_rel_path_valid("gifs/demo-1.gif"));
    assert_true(web_rel_path_valid("a/b/c/d/e/f/g/h.png"));
    assert_false(web_rel_path_valid("a/b/c/d/e/f/g/h/i.png")); /* too deep */
    const char *bad[] = {"",   "/etc/passwd", "../x", "a/../x", "a/./x", ".x",       "a//b",
                         "a/", "a b",         "a\\b", "a%2fb",  "..",    "a/.hidden"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_false(web_rel_path_valid(bad[i]));
}

static void test_content_types(void **state)
{
    (void)state;
    assert_string_equal(web_content_type("app.js", 0), "text/javascript; charset=utf-8");
    assert_string_equal(web_content_type("a.GIF", 1), "image/gif");
    assert_string_equal(web_content_type("x/y.jpeg", 1), "image/jpeg");
    assert_null(web_content_type("index.html", 1)); /* outputs are images only */
    assert_null(web_content_type("logo.svg", 1));   /* SVG can carry script */
    assert_null(web_content_type("noext", 0));
    assert_null(web_content_type("a.exe", 0));
}

static void test_image_magic(void **state)
{
    (void)state;
    assert_string_equal(web_image_sniff((const unsigned char *)"\xff\xd8\xff\xe0", 4), "jpg");
    assert_string_equal(web_image_sniff((const unsigned char *)"\x89PNG\r\n\x1a\n....", 12), "png");
    assert_string_equal(web_image_sniff((const unsigned char *)"GIF89a..", 8), "gif");
    assert_string_equal(web_image_sniff((const unsigned char *)"RIFF\0\0\0\0WEBPVP8 ", 16), "webp");
    assert_null(web_image_sniff((const unsigned char *)"<svg onload=x>", 14));
    assert_null(web_image_sniff((const unsigned char *)"%!PS-Adobe", 10));
    assert_null(web_image_sniff((const unsigned char *)"\x89PN", 3));
    assert_null(web_image_sniff(NULL, 0));
}

static void test_sse_event_framing(void **state)
{
    (void)state;
    strbuf b;
    strbuf_init(&b, 0);
    assert_int_equal(web_sse_event(&b, "status", "{\"state\":\"queued\"}"), 0);
    assert_string_equal(b.data, "event: status\ndata: {\"state\":\"queued\"}\n\n");
    strbuf_reset(&b);
    /* a newline in the data cannot end the event or forge another */
    assert_int_equal(web_sse_event(&b, "status", "a\n\nevent: end\r\nb"), 0);
    assert_string_equal(b.data, "event: status\ndata: a\ndata: \ndata: event: end\ndata: b\n\n");
    strbuf_release(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_html_escape_makes_markup_text),
        cmocka_unit_test(test_listen_addresses),
        cmocka_unit_test(test_loopback_names),
        cmocka_unit_test(test_host_header_on_a_loopback_listener),
        cmocka_unit_test(test_bearer_token),
        cmocka_unit_test(test_token_rules),
        cmocka_unit_test(test_token_source_order),
        cmocka_unit_test(test_bool_words),
        cmocka_unit_test(test_origin_rules_for_changes),
        cmocka_unit_test(test_sizes_and_numbers),
        cmocka_unit_test(test_relative_paths),
        cmocka_unit_test(test_content_types),
        cmocka_unit_test(test_image_magic),
        cmocka_unit_test(test_sse_event_framing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
