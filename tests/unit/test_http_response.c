/* test_http_response.c - unit tests for src/workers/http/response.c: the
 * outcome of each status, Retry-After in both forms, redirect methods,
 * which headers the result keeps, and the result JSON (truncation never
 * splits a character; binary bodies come back as base64).
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

static void request(const char *text, http_request *r)
{
    char err[HTTP_ERR_MAX];
    json_t *j = json_loads(text, 0, NULL);
    assert_non_null(j);
    int rc = http_request_parse(j, r, err, sizeof err);
    json_decref(j);
    if (rc != 0)
        fail_msg("%s: %s", text, err);
}

/* ---- statuses ---- */

static void test_status_outcomes(void **state)
{
    (void)state;
    http_request r;
    request("{\"url\": \"http://h/\"}", &r);
    static const struct {
        int status;
        drudge_outcome outcome;
        int honour;
    } cases[] = {
        {200, DRUDGE_DONE, 0},  {204, DRUDGE_DONE, 0},  {299, DRUDGE_DONE, 0},
        {429, DRUDGE_RETRY, 1}, {503, DRUDGE_RETRY, 1}, {500, DRUDGE_RETRY, 0},
        {502, DRUDGE_RETRY, 0}, {504, DRUDGE_RETRY, 0}, {408, DRUDGE_RETRY, 0},
        {400, DRUDGE_FAIL, 0},  {401, DRUDGE_FAIL, 0},  {404, DRUDGE_FAIL, 0},
        {410, DRUDGE_FAIL, 0},  {302, DRUDGE_FAIL, 0},  {100, DRUDGE_FAIL, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        http_verdict v = http_status_verdict(&r, cases[i].status);
        if (v.outcome != cases[i].outcome || v.honour_retry_after != cases[i].honour)
            fail_msg("status %d: got %s/%d", cases[i].status, drudge_outcome_name(v.outcome),
                     v.honour_retry_after);
    }
    http_request_release(&r);
}

static void test_status_expected_wins(void **state)
{
    (void)state;
    http_request r;
    request("{\"url\": \"http://h/\", \"expect\": [200, 404, 503]}", &r);
    assert_int_equal(http_status_verdict(&r, 404).outcome, DRUDGE_DONE);
    assert_int_equal(http_status_verdict(&r, 503).outcome, DRUDGE_DONE);
    assert_int_equal(http_status_verdict(&r, 201).outcome, DRUDGE_FAIL);
    http_request_release(&r);
}

/* ---- Retry-After ---- */

static void test_retry_after_seconds(void **state)
{
    (void)state;
    time_t now = 1700000000;
    assert_int_equal(http_retry_after_ms("120", now), 120000);
    assert_int_equal(http_retry_after_ms(" 7 ", now), 7000);
    assert_int_equal(http_retry_after_ms("0", now), 0);
    assert_int_equal(http_retry_after_ms("99999999999999999999", now), HTTP_RETRY_AFTER_MAX_MS);
    assert_int_equal(http_retry_after_ms("-5", now), -1);
    assert_int_equal(http_retry_after_ms("1.5", now), -1);
    assert_int_equal(http_retry_after_ms("soon", now), -1);
    assert_int_equal(http_retry_after_ms("", now), -1);
    assert_int_equal(http_retry_after_ms(NULL, now), -1);
}

static void test_retry_after_http_dates(void **state)
{
    (void)state;
    time_t now = 784111777; /* Sun, 06 Nov 1994 08:49:37 GMT */
    assert_int_equal(http_retry_after_ms("Sun, 06 Nov 1994 08:50:07 GMT", now), 30000);
    assert_int_equal(http_retry_after_ms("Sunday, 06-Nov-94 08:49:47 GMT", now), 10000);
    assert_int_equal(http_retry_after_ms("Sun Nov  6 08:49:42 1994", now), 5000);
    assert_int_equal(http_retry_after_ms("Sun, 06 Nov 1994 08:00:00 GMT", now), 0); /* past */
    assert_int_equal(http_retry_after_ms("Sun, 06 Nov 2094 08:49:37 GMT", now),
                     HTTP_RETRY_AFTER_MAX_MS);
    assert_int_equal(http_retry_after_ms("Sun, 06 Nov 1994 08:50:07 PST", now), -1);
    assert_int_equal(http_retry_after_ms("Sun, 06 Nov 1994", now), -1);
}

/* ---- redirects ---- */

static void test_redirect_methods(void **state)
{
    (void)state;
    int drop;
    assert_true(http_status_is_redirect(301));
    assert_true(http_status_is_redirect(308));
    assert_false(http_status_is_redirect(300));
    assert_false(http_status_is_redirect(304));
    assert_int_equal(http_redirect_method(HTTP_POST, 302, &drop), HTTP_GET);
    assert_true(drop);
    assert_int_equal(http_redirect_method(HTTP_POST, 301, &drop), HTTP_GET);
    assert_int_equal(http_redirect_method(HTTP_PUT, 302, &drop), HTTP_PUT);
    assert_false(drop);
    assert_int_equal(http_redirect_method(HTTP_PUT, 303, &drop), HTTP_GET);
    assert_true(drop);
    assert_int_equal(http_redirect_method(HTTP_HEAD, 303, &drop), HTTP_HEAD);
    assert_int_equal(http_redirect_method(HTTP_POST, 307, &drop), HTTP_POST);
    assert_false(drop);
    assert_int_equal(http_redirect_method(HTTP_DELETE, 308, &drop), HTTP_DELETE);
}

/* ---- headers and result ---- */

static void test_kept_headers(void **state)
{
    (void)state;
    http_request r;
    request("{\"url\": \"http://h/\", \"response_headers\": [\"X-Custom\"]}", &r);
    assert_true(http_header_kept(&r, "Content-Type", 12));
    assert_true(http_header_kept(&r, "ETAG", 4));
    assert_true(http_header_kept(&r, "X-RateLimit-Remaining", 21));
    assert_true(http_header_kept(&r, "x-custom", 8));
    assert_false(http_header_kept(&r, "X-Ratelimit-", 12)); /* a prefix needs more */
    assert_false(http_header_kept(&r, "Set-Cookie", 10));
    assert_false(http_header_kept(&r, "Server", 6));
    http_request_release(&r);
}

static json_t *result(const http_request *r, const char *body, size_t len, int truncated)
{
    http_response resp;
    http_url u;
    char err[HTTP_ERR_MAX];
    http_response_init(&resp);
    resp.status = 200;
    resp.body = malloc(len + 1);
    memcpy(resp.body, body, len);
    resp.body[len] = '\0';
    resp.body_len = len;
    resp.truncated = truncated;
    resp.headers = json_pack("{s:s}", "content-type", "text/plain");
    assert_int_equal(http_url_parse("http://h/final", NULL, &u, err, sizeof err), 0);
    char *text = http_result_json(r, &resp, &u, 2, 15);
    assert_non_null(text);
    json_t *j = json_loads(text, 0, NULL);
    assert_non_null(j);
    free(text);
    http_url_release(&u);
    http_response_release(&resp);
    return j;
}

static void test_result_json(void **state)
{
    (void)state;
    http_request r;
    request("{\"url\": \"http://h/\"}", &r);
    json_t *j = result(&r, "hello", 5, 0);
    assert_int_equal(json_integer_value(json_object_get(j, "status")), 200);
    assert_string_equal(json_string_value(json_object_get(j, "body")), "hello");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(j, "headers"), "content-type")),
        "text/plain");
    assert_true(json_is_false(json_object_get(j, "truncated")));
    assert_int_equal(json_integer_value(json_object_get(j, "ms")), 15);
    assert_int_equal(json_integer_value(json_object_get(j, "redirects")), 2);
    assert_string_equal(json_string_value(json_object_get(j, "url")), "http://h/final");
    json_decref(j);
    http_request_release(&r);
}

static void test_result_truncation_keeps_whole_characters(void **state)
{
    (void)state;
    http_request r;
    request("{\"url\": \"http://h/\"}", &r);
    /* "ab" then the first two bytes of the three-byte U+20AC */
    json_t *j = result(&r, "ab\xe2\x82", 4, 1);
    assert_string_equal(json_string_value(json_object_get(j, "body")), "ab");
    assert_true(json_is_true(json_object_get(j, "truncated")));
    json_decref(j);
    j = result(&r, "ab\xe2\x82\xac", 5, 1);
    assert_string_equal(json_string_value(json_object_get(j, "body")), "ab\xe2\x82\xac");
    json_decref(j);
    http_request_release(&r);
}

static void test_result_binary_body_as_base64(void **state)
{
    (void)state;
    http_request r;
    request("{\"url\": \"http://h/\"}", &r);
    json_t *j = result(&r, "\xff\xfe\x00\x01", 4, 0);
    assert_null(json_object_get(j, "body"));
    assert_string_equal(json_string_value(json_object_get(j, "body_base64")), "//4AAQ==");
    json_decref(j);
    http_request_release(&r);
}

static void test_result_without_body_when_not_saved(void **state)
{
    (void)state;
    http_request r;
    request("{\"url\": \"http://h/\", \"save_response\": false}", &r);
    json_t *j = result(&r, "secret page", 11, 0);
    assert_null(json_object_get(j, "body"));
    assert_int_equal(json_integer_value(json_object_get(j, "status")), 200);
    json_decref(j);
    http_request_release(&r);
}

static void test_status_error_is_one_line(void **state)
{
    (void)state;
    http_response resp;
    http_url u;
    char err[HTTP_ERR_MAX], out[HTTP_ERR_MAX];
    http_response_init(&resp);
    resp.status = 404;
    resp.body = strdup("<h1>Not\r\n   Found</h1>\n\xc3\xa9");
    resp.body_len = strlen(resp.body);
    assert_int_equal(http_url_parse("https://h/a/b?token=x", NULL, &u, err, sizeof err), 0);
    http_status_error(out, sizeof out, HTTP_DELETE, &u, &resp);
    assert_string_equal(out, "HTTP 404 from DELETE https://h/a/b: <h1>Not Found</h1> ??");
    assert_null(strstr(out, "token")); /* queries may carry keys */
    http_url_release(&u);
    http_response_release(&resp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_status_outcomes),
        cmocka_unit_test(test_status_expected_wins),
        cmocka_unit_test(test_retry_after_seconds),
        cmocka_unit_test(test_retry_after_http_dates),
        cmocka_unit_test(test_redirect_methods),
        cmocka_unit_test(test_kept_headers),
        cmocka_unit_test(test_result_json),
        cmocka_unit_test(test_result_truncation_keeps_whole_characters),
        cmocka_unit_test(test_result_binary_body_as_base64),
        cmocka_unit_test(test_result_without_body_when_not_saved),
        cmocka_unit_test(test_status_error_is_one_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
