/* test_http_request.c - unit tests for src/workers/http/request.c: the
 * jobs drudge-http accepts and the ones it refuses (bad URLs, header
 * injection, inline secrets), expect ranges, bodies, and Authorization
 * headers built from http.credentials and the environment - with the
 * secret never in an error message.
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

static json_t *job(const char *text)
{
    json_error_t je;
    json_t *j = json_loads(text, JSON_ALLOW_NUL, &je);
    if (j == NULL)
        fail_msg("bad test JSON %s: %s", text, je.text);
    return j;
}

static void parse_ok(const char *text, http_request *r)
{
    char err[HTTP_ERR_MAX] = "";
    json_t *j = job(text);
    int rc = http_request_parse(j, r, err, sizeof err);
    json_decref(j);
    if (rc != 0)
        fail_msg("%s: refused: %s", text, err);
}

static void assert_refused(const char *text, const char *why)
{
    char err[HTTP_ERR_MAX] = "";
    http_request r;
    json_t *j = job(text);
    int rc = http_request_parse(j, &r, err, sizeof err);
    json_decref(j);
    if (rc == 0) {
        http_request_release(&r);
        fail_msg("%s: accepted, wanted an error with \"%s\"", text, why);
    }
    if (strstr(err, why) == NULL)
        fail_msg("%s: error \"%s\" lacks \"%s\"", text, err, why);
}

/* ---- accepted jobs ---- */

static void test_request_minimal_get_has_defaults(void **state)
{
    (void)state;
    http_request r;
    parse_ok("{\"url\": \"https://API.Example.com/v1/x?q=1#frag\"}", &r);
    assert_int_equal(r.method, HTTP_GET);
    assert_string_equal(r.url.host, "api.example.com");
    assert_int_equal(r.url.port, 443);
    assert_true(r.url.https);
    assert_null(strstr(r.url.url, "frag")); /* fragments are never sent */
    assert_non_null(strstr(r.url.url, "q=1"));
    assert_string_equal(r.url.display, "https://API.Example.com/v1/x"); /* no query */
    assert_int_equal(r.nexpect, 1);
    assert_true(http_request_expects(&r, 200));
    assert_true(http_request_expects(&r, 299));
    assert_false(http_request_expects(&r, 300));
    assert_true(r.save_response);
    assert_true(r.follow_redirects);
    assert_null(r.body);
    assert_int_equal(r.nheaders, 0);
    http_request_release(&r);
}

static void test_request_full_post_as_in_the_issue(void **state)
{
    (void)state;
    http_request r;
    parse_ok("{\"method\": \"POST\", \"url\": \"https://api.example.com/v1/hooks\","
             " \"headers\": {\"Content-Type\": \"application/json\"},"
             " \"body\": \"{\\\"event\\\":\\\"paid\\\"}\", \"timeout_s\": 10,"
             " \"expect\": [200, 299], \"save_response\": true, \"id\": \"job-1\"}",
             &r);
    assert_int_equal(r.method, HTTP_POST);
    assert_string_equal(r.body, "{\"event\":\"paid\"}");
    assert_false(r.body_is_json);
    assert_int_equal(r.nheaders, 1);
    assert_string_equal(r.headers[0], "Content-Type: application/json");
    assert_true(r.timeout_s == 10);
    http_request_release(&r);
}

static void test_request_json_body_gets_content_type(void **state)
{
    (void)state;
    http_request r;
    parse_ok("{\"method\": \"put\", \"url\": \"http://h/\", \"body\": {\"a\": [1, true]}}", &r);
    assert_int_equal(r.method, HTTP_PUT);
    assert_string_equal(r.body, "{\"a\":[1,true]}");
    assert_true(r.body_is_json);
    assert_int_equal(r.nheaders, 1);
    assert_string_equal(r.headers[0], "Content-Type: application/json");
    http_request_release(&r);

    parse_ok("{\"method\": \"PATCH\", \"url\": \"http://h/\", \"body\": 42,"
             " \"headers\": {\"content-type\": \"application/merge-patch+json\"}}",
             &r);
    assert_string_equal(r.body, "42");
    assert_int_equal(r.nheaders, 1); /* the job's own type is kept */
    http_request_release(&r);
}

static void test_request_every_method(void **state)
{
    (void)state;
    static const char *const names[] = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"};
    for (int i = 0; i < 6; i++) {
        char text[128];
        http_request r;
        snprintf(text, sizeof text, "{\"method\": \"%s\", \"url\": \"http://h/\"}", names[i]);
        parse_ok(text, &r);
        assert_string_equal(http_method_name(r.method), names[i]);
        http_request_release(&r);
    }
}

static void test_request_expect_forms(void **state)
{
    (void)state;
    http_request r;
    parse_ok("{\"url\": \"http://h/\", \"expect\": 204}", &r);
    assert_true(http_request_expects(&r, 204));
    assert_false(http_request_expects(&r, 200));
    http_request_release(&r);

    parse_ok("{\"url\": \"http://h/\", \"expect\": [200, 204, [300, 302]]}", &r);
    assert_true(http_request_expects(&r, 200));
    assert_false(http_request_expects(&r, 201));
    assert_true(http_request_expects(&r, 204));
    assert_true(http_request_expects(&r, 301));
    assert_false(http_request_expects(&r, 303));
    http_request_release(&r);

    parse_ok("{\"url\": \"http://h/\", \"expect\": [400, 404]}", &r); /* two numbers: a range */
    assert_true(http_request_expects(&r, 401));
    http_request_release(&r);
}

static void test_request_ipv6_and_idn_hosts(void **state)
{
    (void)state;
    http_request r;
    parse_ok("{\"url\": \"http://[::1]:8080/x\"}", &r);
    assert_string_equal(r.url.host, "::1");
    assert_int_equal(r.url.port, 8080);
    http_request_release(&r);

    parse_ok("{\"url\": \"https://XN--bcher-kva.example/\"}", &r);
    assert_string_equal(r.url.host, "xn--bcher-kva.example");
    http_request_release(&r);
    assert_refused("{\"url\": \"https://b\\u00fccher.example/\"}", "punycode");
}

static void test_request_empty_header_value_is_sent_empty(void **state)
{
    (void)state;
    http_request r;
    parse_ok("{\"url\": \"http://h/\", \"headers\": {\"X-Empty\": \"\", \"User-Agent\": \"me\"}}",
             &r);
    assert_string_equal(r.headers[0], "X-Empty;");
    assert_true(r.has_user_agent);
    http_request_release(&r);
}

/* ---- refused jobs ---- */

static void test_request_header_injection_refused(void **state)
{
    (void)state;
    assert_refused("{\"url\": \"http://h/\", \"headers\": {\"X-A\": \"b\\r\\nHost: evil\"}}",
                   "must not contain CR, LF");
    assert_refused("{\"url\": \"http://h/\", \"headers\": {\"X-A\": \"b\\nX-B: c\"}}",
                   "must not contain CR, LF");
    assert_refused("{\"url\": \"http://h/\", \"headers\": {\"X-A\": \"b\\u0000c\"}}",
                   "must not contain CR, LF");
    assert_refused("{\"url\": \"http://h/\", \"headers\": {\"X-A\\r\\nB\": \"c\"}}",
                   "invalid header name");
    assert_refused("{\"url\": \"http://h/\", \"headers\": {\"X A\": \"c\"}}",
                   "invalid header name");
    assert_refused("{\"url\": \"http://h/\", \"headers\": {\"X-A\": 1}}", "must be a string");
}

static void test_request_overriding_headers_refused(void **state)
{
    (void)state;
    assert_refused("{\"url\": \"http://h/\", \"headers\": {\"Host\": \"other\"}}",
                   "Host may not be set");
    assert_refused("{\"url\": \"http://h/\", \"headers\": {\"content-length\": \"5\"}}",
                   "content-length may not be set");
    assert_refused("{\"url\": \"http://h/\", \"headers\": {\"Transfer-Encoding\": \"chunked\"}}",
                   "may not be set");
    assert_refused("{\"url\": \"http://h/\", \"headers\": {\"Authorization\": \"Bearer x\"}}",
                   "name a credential with \"auth\"");
    assert_refused("{\"url\": \"http://h/\", \"headers\": {\"X-A\": \"1\", \"x-a\": \"2\"}}",
                   "given twice");
}

static void test_request_bad_urls_refused(void **state)
{
    (void)state;
    assert_refused("{\"method\": \"GET\"}", "url is required");
    assert_refused("{\"url\": \"ftp://h/x\"}", "must be http or https");
    assert_refused("{\"url\": \"file:///etc/passwd\"}", "http or https");
    assert_refused("{\"url\": \"gopher://h/\"}", "must be http or https");
    assert_refused("{\"url\": \"/relative/path\"}", "not a valid absolute");
    assert_refused("{\"url\": \"h/no-scheme\"}", "not a valid absolute");
    assert_refused("{\"url\": \"http://user:pw@h/\"}", "must not carry a user or password");
    assert_refused("{\"url\": \"http://user@h/\"}", "must not carry a user or password");
    assert_refused("{\"url\": \"http://h/a b\"}", "spaces or control");
    assert_refused("{\"url\": \"http://h/a\\r\\nX: y\"}", "spaces or control");
    assert_refused("{\"url\": \"http://[fe80::1%25eth0]/\"}", "zone id");
    assert_refused("{\"url\": \"http://h:99999/\"}", "not a valid absolute");
    assert_refused("{\"url\": 5}", "url must be a string");
}

static void test_request_bad_fields_refused(void **state)
{
    (void)state;
    assert_refused("{\"url\": \"http://h/\", \"method\": \"TRACE\"}", "method must be");
    assert_refused("{\"url\": \"http://h/\", \"body\": \"x\"}", "a GET request has no body");
    assert_refused("{\"url\": \"http://h/\", \"method\": \"HEAD\", \"body\": {}}",
                   "a HEAD request has no body");
    assert_refused("{\"url\": \"http://h/\", \"timeout_s\": 0}", "timeout_s");
    assert_refused("{\"url\": \"http://h/\", \"timeout_s\": \"5\"}", "timeout_s");
    assert_refused("{\"url\": \"http://h/\", \"expect\": [299, 200]}", "expect");
    assert_refused("{\"url\": \"http://h/\", \"expect\": [200, 600]}", "expect");
    assert_refused("{\"url\": \"http://h/\", \"expect\": \"2xx\"}", "expect");
    assert_refused("{\"url\": \"http://h/\", \"expect\": []}", "expect");
    assert_refused("{\"url\": \"http://h/\", \"save_response\": 1}", "true or false");
    assert_refused("{\"url\": \"http://h/\", \"auth\": \"a b\"}", "auth must be");
    assert_refused("{\"url\": \"http://h/\", \"response_headers\": [\"a:b\"]}",
                   "response_headers[0]");
    assert_refused("{\"url\": \"http://h/\", \"hedaers\": {}}", "unknown key \"hedaers\"");
}

/* ---- URLs for redirects ---- */

static void test_url_relative_resolved_against_base(void **state)
{
    (void)state;
    http_url base, next;
    char err[HTTP_ERR_MAX];
    assert_int_equal(http_url_parse("https://a.example/x/y?q", NULL, &base, err, sizeof err), 0);
    assert_int_equal(http_url_parse("../z", &base, &next, err, sizeof err), 0);
    assert_string_equal(next.url, "https://a.example/z");
    assert_true(http_url_same_origin(&base, &next));
    http_url_release(&next);
    assert_int_equal(http_url_parse("//b.example/p", &base, &next, err, sizeof err), 0);
    assert_string_equal(next.host, "b.example");
    assert_false(http_url_same_origin(&base, &next));
    http_url_release(&next);
    assert_int_equal(http_url_parse("http://a.example/", &base, &next, err, sizeof err), 0);
    assert_false(http_url_same_origin(&base, &next)); /* scheme and port differ */
    http_url_release(&next);
    assert_int_equal(http_url_parse("ftp://a.example/", &base, &next, err, sizeof err), -1);
    assert_non_null(strstr(err, "http or https"));
    http_url_release(&base);
}

static void test_url_limit_name(void **state)
{
    (void)state;
    http_url u;
    char err[HTTP_ERR_MAX], name[HTTP_HOST_NAME_MAX + 1];
    assert_int_equal(http_url_parse("https://API.example.com:8443/", NULL, &u, err, sizeof err), 0);
    http_url_limit_name(&u, name);
    assert_string_equal(name, "api.example.com"); /* per host, whatever the port */
    http_url_release(&u);

    char long_url[300];
    memset(long_url, 0, sizeof long_url);
    memcpy(long_url, "http://", 7);
    for (int i = 0; i < 3; i++)
        memcpy(long_url + 7 + i * 61, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.", 61);
    memcpy(long_url + 7 + 183, "com/", 4);
    assert_int_equal(http_url_parse(long_url, NULL, &u, err, sizeof err), 0);
    http_url_limit_name(&u, name);
    assert_int_equal(strncmp(name, "host-", 5), 0);
    assert_true(drudge_id_valid(name));
    http_url_release(&u);
}

/* ---- credentials ---- */

static const char *fake_env(const char *var)
{
    if (strcmp(var, "STRIPE_TOKEN") == 0)
        return "sk_live_SECRET";
    if (strcmp(var, "HOOK_PASSWORD") == 0)
        return "pa:ss";
    if (strcmp(var, "EVIL") == 0)
        return "x\r\nX-Injected: 1";
    return NULL;
}

static const char creds_text[] =
    "{\"stripe\": {\"type\": \"bearer\", \"token_env\": \"STRIPE_TOKEN\"},"
    " \"hook\": {\"type\": \"basic\", \"user\": \"Aladdin\", \"password_env\": \"HOOK_PASSWORD\"},"
    " \"missing\": {\"type\": \"bearer\", \"token_env\": \"NOT_SET\"},"
    " \"evil\": {\"type\": \"bearer\", \"token_env\": \"EVIL\"}}";

static void test_auth_bearer_and_basic(void **state)
{
    (void)state;
    json_t *creds = job(creds_text);
    char err[HTTP_ERR_MAX], *header = NULL;
    assert_int_equal(http_auth_header(creds, "stripe", fake_env, &header, err, sizeof err), 0);
    assert_string_equal(header, "Authorization: Bearer sk_live_SECRET");
    http_secret_free(header);
    assert_int_equal(http_auth_header(creds, "hook", fake_env, &header, err, sizeof err), 0);
    /* base64("Aladdin:pa:ss") */
    assert_string_equal(header, "Authorization: Basic QWxhZGRpbjpwYTpzcw==");
    http_secret_free(header);
    json_decref(creds);
}

static void test_auth_errors_name_the_problem_not_the_secret(void **state)
{
    (void)state;
    json_t *creds = job(creds_text);
    char err[HTTP_ERR_MAX], *header = NULL;
    assert_int_equal(http_auth_header(creds, "nope", fake_env, &header, err, sizeof err), -1);
    assert_non_null(strstr(err, "unknown credential \"nope\""));
    assert_int_equal(http_auth_header(creds, "missing", fake_env, &header, err, sizeof err), -1);
    assert_non_null(strstr(err, "NOT_SET is not set"));
    assert_int_equal(http_auth_header(creds, "evil", fake_env, &header, err, sizeof err), -1);
    assert_non_null(strstr(err, "line break"));
    assert_null(strstr(err, "Injected"));
    assert_null(header);
    json_decref(creds);
}

static void test_base64(void **state)
{
    (void)state;
    static const struct {
        const char *in, *out;
    } cases[] = {{"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"}, {"foob", "Zm9vYg=="}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *b = http_base64((const unsigned char *)cases[i].in, strlen(cases[i].in));
        assert_string_equal(b, cases[i].out);
        free(b);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_request_minimal_get_has_defaults),
        cmocka_unit_test(test_request_full_post_as_in_the_issue),
        cmocka_unit_test(test_request_json_body_gets_content_type),
        cmocka_unit_test(test_request_every_method),
        cmocka_unit_test(test_request_expect_forms),
        cmocka_unit_test(test_request_ipv6_and_idn_hosts),
        cmocka_unit_test(test_request_empty_header_value_is_sent_empty),
        cmocka_unit_test(test_request_header_injection_refused),
        cmocka_unit_test(test_request_overriding_headers_refused),
        cmocka_unit_test(test_request_bad_urls_refused),
        cmocka_unit_test(test_request_bad_fields_refused),
        cmocka_unit_test(test_url_relative_resolved_against_base),
        cmocka_unit_test(test_url_limit_name),
        cmocka_unit_test(test_auth_bearer_and_basic),
        cmocka_unit_test(test_auth_errors_name_the_problem_not_the_secret),
        cmocka_unit_test(test_base64),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
