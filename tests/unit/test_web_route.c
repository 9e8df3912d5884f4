/* test_web_route.c - unit tests for src/web/route.c: matching request paths
 * against a route table, parameter checks by kind (400 rather than 404 for
 * a bad class or id), method mismatches (405), and the real table's shape.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "route.h"

static int h_page(web_request *req)
{
    (void)req;
    return 0;
}
static int h_job(web_request *req)
{
    (void)req;
    return 0;
}
static int h_events(web_request *req)
{
    (void)req;
    return 0;
}
static int h_push(web_request *req)
{
    (void)req;
    return 0;
}
static int h_static(web_request *req)
{
    (void)req;
    return 0;
}
static int h_output(web_request *req)
{
    (void)req;
    return 0;
}

static const web_route table[] = {
    {WEB_GET, "/", h_page, 0, 0},
    {WEB_GET, "/classes/{class}", h_page, 0, 0},
    {WEB_GET, "/api/jobs/{class}/{id}", h_job, WEB_API, 0},
    {WEB_GET, "/api/jobs/{class}/{id}/events", h_events, WEB_API, 0},
    {WEB_POST, "/api/jobs/{class}", h_push, WEB_API | WEB_MUTATES, 100},
    {WEB_GET, "/static/{file}", h_static, 0, 0},
    {WEB_GET, "/outputs/{path*}", h_output, 0, 0},
    {0, NULL, NULL, 0, 0},
};

static web_match m;

static web_route_result match(unsigned method, const char *path)
{
    memset(&m, 0, sizeof m);
    return web_route_match(table, method, path, &m);
}

static void test_literal_routes_match_exactly(void **state)
{
    (void)state;
    assert_int_equal(match(WEB_GET, "/"), WEB_ROUTE_OK);
    assert_ptr_equal(m.route->handler, h_page);
    assert_int_equal(match(WEB_GET, ""), WEB_ROUTE_NOT_FOUND);
    assert_int_equal(match(WEB_GET, "//"), WEB_ROUTE_NOT_FOUND);
    assert_int_equal(match(WEB_GET, "/classes"), WEB_ROUTE_NOT_FOUND);
    assert_int_equal(match(WEB_GET, "/classes/"), WEB_ROUTE_NOT_FOUND);
    assert_int_equal(match(WEB_GET, "/classes/ImageJob/"), WEB_ROUTE_NOT_FOUND);
    assert_int_equal(match(WEB_GET, "/nope"), WEB_ROUTE_NOT_FOUND);
    assert_int_equal(match(WEB_GET, "/api/jobs/A/b/events/more"), WEB_ROUTE_NOT_FOUND);
}

static void test_parameters_are_captured_by_name(void **state)
{
    (void)state;
    assert_int_equal(match(WEB_GET, "/api/jobs/ImageJob/order-1.a:b_c"), WEB_ROUTE_OK);
    assert_ptr_equal(m.route->handler, h_job);
    assert_string_equal(web_match_param(&m, "class"), "ImageJob");
    assert_string_equal(web_match_param(&m, "id"), "order-1.a:b_c");
    assert_null(web_match_param(&m, "file"));
    assert_int_equal(match(WEB_GET, "/api/jobs/ImageJob/abc/events"), WEB_ROUTE_OK);
    assert_ptr_equal(m.route->handler, h_events);
    assert_string_equal(web_match_param(&m, "id"), "abc");
}

static void test_bad_class_or_id_is_a_bad_parameter_not_a_404(void **state)
{
    (void)state;
    assert_int_equal(match(WEB_GET, "/api/jobs/Bad$Class/abc"), WEB_ROUTE_BAD_PARAM);
    assert_non_null(strstr(m.error, "invalid class name \"Bad$Class\""));
    assert_int_equal(match(WEB_GET, "/api/jobs/ImageJob/bad id"), WEB_ROUTE_BAD_PARAM);
    assert_non_null(strstr(m.error, "invalid job id"));
    assert_int_equal(match(WEB_GET, "/classes/<script>"), WEB_ROUTE_BAD_PARAM);
    char long_class[300];
    memset(long_class, 'C', sizeof long_class);
    memcpy(long_class, "/classes/", 9);
    long_class[9 + 129] = '\0';
    assert_int_equal(match(WEB_GET, long_class), WEB_ROUTE_BAD_PARAM);
    long_class[9 + 128] = '\0';
    assert_int_equal(match(WEB_GET, long_class), WEB_ROUTE_OK);
    /* the first bad parameter is the one reported */
    assert_int_equal(match(WEB_GET, "/api/jobs/a$b/c d/events"), WEB_ROUTE_BAD_PARAM);
    assert_non_null(strstr(m.error, "class"));
}

static void test_wrong_method_is_told_apart(void **state)
{
    (void)state;
    assert_int_equal(match(WEB_POST, "/classes/ImageJob"), WEB_ROUTE_BAD_METHOD);
    assert_int_equal(m.allowed, WEB_GET);
    assert_int_equal(match(WEB_GET, "/api/jobs/ImageJob"), WEB_ROUTE_BAD_METHOD);
    assert_int_equal(m.allowed, WEB_POST);
    assert_int_equal(match(WEB_POST, "/api/jobs/ImageJob"), WEB_ROUTE_OK);
    assert_ptr_equal(m.route->handler, h_push);
    assert_int_equal(m.route->max_body, 100);
}

static void test_file_parameter_is_one_plain_name(void **state)
{
    (void)state;
    assert_int_equal(match(WEB_GET, "/static/app.js"), WEB_ROUTE_OK);
    assert_string_equal(web_match_param(&m, "file"), "app.js");
    assert_int_equal(match(WEB_GET, "/static/.hidden"), WEB_ROUTE_BAD_PARAM);
    assert_int_equal(match(WEB_GET, "/static/.."), WEB_ROUTE_BAD_PARAM);
    assert_int_equal(match(WEB_GET, "/static/a%2fb"), WEB_ROUTE_BAD_PARAM);
    assert_int_equal(match(WEB_GET, "/static/../etc/passwd"), WEB_ROUTE_NOT_FOUND);
}

static void test_rest_parameter_takes_a_confined_relative_path(void **state)
{
    (void)state;
    assert_int_equal(match(WEB_GET, "/outputs/gifs/demo-1.gif"), WEB_ROUTE_OK);
    assert_string_equal(web_match_param(&m, "path*"), "gifs/demo-1.gif");
    const char *bad[] = {"/outputs/../x.gif", "/outputs/gifs/../../x.gif", "/outputs//etc/passwd",
                         "/outputs/a//b.gif", "/outputs/.git/config",      "/outputs/a/",
                         "/outputs/a b.gif",  "/outputs/a\\b.gif"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(match(WEB_GET, bad[i]), WEB_ROUTE_BAD_PARAM);
    assert_int_equal(match(WEB_GET, "/outputs/"), WEB_ROUTE_NOT_FOUND);
}

/* The real table (routes.c) is not linked here; its patterns are checked
 * by the system tests. This keeps the matcher's limits honest. */
static void test_too_many_parameters_never_match(void **state)
{
    (void)state;
    static const web_route wide[] = {
        {WEB_GET, "/{id}/{id}/{id}/{id}", h_page, 0, 0},
        {0, NULL, NULL, 0, 0},
    };
    memset(&m, 0, sizeof m);
    assert_int_equal(web_route_match(wide, WEB_GET, "/a/b/c/d", &m), WEB_ROUTE_NOT_FOUND);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_literal_routes_match_exactly),
        cmocka_unit_test(test_parameters_are_captured_by_name),
        cmocka_unit_test(test_bad_class_or_id_is_a_bad_parameter_not_a_404),
        cmocka_unit_test(test_wrong_method_is_told_apart),
        cmocka_unit_test(test_file_parameter_is_one_plain_name),
        cmocka_unit_test(test_rest_parameter_takes_a_confined_relative_path),
        cmocka_unit_test(test_too_many_parameters_never_match),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
