/* test_http_resolve.c - unit tests for src/workers/http/resolve.c with
 * names that resolve without a network (IP literals, localhost): every
 * address is checked, a refused one refuses the host, and the checked
 * addresses are pinned in libcurl's CURLOPT_RESOLVE form.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "http.h"

static http_resolve_result resolve(const char *url, int allow_private, char *pin, size_t pincap,
                                   char *err, size_t errcap)
{
    http_url u;
    char why[HTTP_ERR_MAX];
    if (http_url_parse(url, NULL, &u, why, sizeof why) < 0)
        fail_msg("%s: %s", url, why);
    http_resolve_result r = http_resolve(&u, allow_private, pin, pincap, err, errcap);
    http_url_release(&u);
    return r;
}

static void test_resolve_literal_needs_no_pin(void **state)
{
    (void)state;
    char pin[HTTP_PIN_MAX] = "x", err[HTTP_ERR_MAX] = "";
    assert_int_equal(resolve("http://127.0.0.1:8080/", 1, pin, sizeof pin, err, sizeof err),
                     HTTP_RESOLVED);
    assert_string_equal(pin, ""); /* libcurl does not resolve a literal */
    assert_int_equal(resolve("http://[::1]:8080/", 1, pin, sizeof pin, err, sizeof err),
                     HTTP_RESOLVED);
    assert_string_equal(pin, "");
}

static void test_resolve_private_literal_refused(void **state)
{
    (void)state;
    char pin[HTTP_PIN_MAX], err[HTTP_ERR_MAX] = "";
    assert_int_equal(resolve("http://127.0.0.1/", 0, pin, sizeof pin, err, sizeof err),
                     HTTP_RESOLVE_REFUSED);
    assert_non_null(strstr(err, "127.0.0.1 is a loopback address"));
    assert_non_null(strstr(err, "allow_private_networks"));
    assert_int_equal(resolve("http://[::ffff:10.1.1.1]/", 0, pin, sizeof pin, err, sizeof err),
                     HTTP_RESOLVE_REFUSED);
    assert_non_null(strstr(err, "private"));
    assert_int_equal(resolve("http://93.184.216.34/", 0, pin, sizeof pin, err, sizeof err),
                     HTTP_RESOLVED);
}

static void test_resolve_name_pinned_to_checked_addresses(void **state)
{
    (void)state;
    char pin[HTTP_PIN_MAX], err[HTTP_ERR_MAX] = "";
    assert_int_equal(resolve("http://LocalHost:8080/x", 1, pin, sizeof pin, err, sizeof err),
                     HTTP_RESOLVED);
    /* "+localhost:8080:127.0.0.1" or with ",[::1]" - host as libcurl sees it */
    assert_int_equal(strncmp(pin, "+localhost:8080:", 16), 0);
    assert_true(strstr(pin, "127.0.0.1") != NULL || strstr(pin, "[::1]") != NULL);
    assert_null(strchr(pin, ' '));
}

static void test_resolve_name_with_private_address_refused(void **state)
{
    (void)state;
    char pin[HTTP_PIN_MAX], err[HTTP_ERR_MAX] = "";
    assert_int_equal(resolve("https://localhost/", 0, pin, sizeof pin, err, sizeof err),
                     HTTP_RESOLVE_REFUSED);
    assert_non_null(strstr(err, "localhost resolves to"));
    assert_non_null(strstr(err, "loopback"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_resolve_literal_needs_no_pin),
        cmocka_unit_test(test_resolve_private_literal_refused),
        cmocka_unit_test(test_resolve_name_pinned_to_checked_addresses),
        cmocka_unit_test(test_resolve_name_with_private_address_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
