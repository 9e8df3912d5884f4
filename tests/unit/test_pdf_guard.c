/* test_pdf_guard.c - unit tests for src/workers/pdf/guard.c: URL splitting,
 * which addresses count as private (IPv4, IPv6 and the IPv6 forms that
 * embed IPv4), host allow-list patterns, and the whole check with a fake
 * resolver: schemes, allowed_hosts, private answers, unresolvable names,
 * the per-job cache. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <arpa/inet.h>
#include <cmocka.h>
#include <netinet/in.h>

#include "pdf.h"

static void test_url_parse_splits_scheme_host_port(void **state)
{
    (void)state;
    pdf_url u;
    assert_int_equal(pdf_url_parse("HTTP://User:Pw@Example.COM.:8080/a?b#c", &u), 0);
    assert_string_equal(u.scheme, "http");
    assert_string_equal(u.host, "example.com");
    assert_int_equal(u.port, 8080);
    assert_int_equal(pdf_url_parse("https://[::1]/x", &u), 0);
    assert_string_equal(u.host, "::1");
    assert_int_equal(u.port, 443);
    assert_int_equal(pdf_url_parse("http://a.example\\@169.254.169.254/", &u), 0);
    assert_string_equal(u.host, "a.example"); /* '\' ends the authority, as in browsers */
    assert_int_equal(pdf_url_parse("data:text/html,hi", &u), 0);
    assert_string_equal(u.scheme, "data");
    assert_string_equal(u.host, "");
    assert_int_equal(pdf_url_parse("file:///etc/passwd", &u), 0);
    assert_string_equal(u.scheme, "file");
}

static void test_url_parse_refuses_what_it_cannot_check(void **state)
{
    (void)state;
    pdf_url u;
    const char *bad[] = {"",
                         "/relative",
                         "http:/one-slash",
                         "http://",
                         "http://:80/",
                         "http://h:99999/",
                         "http://h:8x/",
                         "http://[::1/",
                         "http://a%2e.b/",
                         "http://a b/",
                         NULL};
    for (size_t i = 0; bad[i]; i++) {
        if (pdf_url_parse(bad[i], &u) != -1)
            print_error("\"%s\" parsed\n", bad[i]);
        assert_int_equal(pdf_url_parse(bad[i], &u), -1);
    }
}

static int public4(const char *a)
{
    struct sockaddr_in in;
    memset(&in, 0, sizeof in);
    in.sin_family = AF_INET;
    assert_int_equal(inet_pton(AF_INET, a, &in.sin_addr), 1);
    return pdf_addr_is_public((struct sockaddr *)&in);
}

static int public6(const char *a)
{
    struct sockaddr_in6 in6;
    memset(&in6, 0, sizeof in6);
    in6.sin6_family = AF_INET6;
    assert_int_equal(inet_pton(AF_INET6, a, &in6.sin6_addr), 1);
    return pdf_addr_is_public((struct sockaddr *)&in6);
}

static void test_private_and_special_ipv4(void **state)
{
    (void)state;
    const char *private_[] = {
        "127.0.0.1",       "127.255.255.254", "10.1.2.3",   "172.16.0.1",  "172.31.255.255",
        "192.168.1.1",     "169.254.169.254", "100.64.0.1", "0.0.0.0",     "224.0.0.1",
        "255.255.255.255", "192.0.2.7",       "198.18.0.1", "203.0.113.9", NULL};
    const char *public_[] = {"8.8.8.8",     "1.1.1.1",       "172.32.0.1", "100.128.0.1",
                             "192.169.0.1", "93.184.216.34", NULL};
    for (size_t i = 0; private_[i]; i++) {
        if (public4(private_[i]))
            print_error("%s counted as public\n", private_[i]);
        assert_false(public4(private_[i]));
    }
    for (size_t i = 0; public_[i]; i++)
        assert_true(public4(public_[i]));
}

static void test_private_and_special_ipv6(void **state)
{
    (void)state;
    const char *private_[] = {"::1",
                              "::",
                              "fe80::1",
                              "fc00::1",
                              "fd12:3456::1",
                              "ff02::1",
                              "::ffff:127.0.0.1",
                              "::ffff:169.254.169.254",
                              "::127.0.0.1",
                              "64:ff9b::a00:1",
                              "2002:a9fe:a9fe::1",
                              "2001:db8::1",
                              "fec0::1",
                              NULL};
    const char *public_[] = {"2606:4700:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808",
                             "2002:808:808::1", NULL};
    for (size_t i = 0; private_[i]; i++) {
        if (public6(private_[i]))
            print_error("%s counted as public\n", private_[i]);
        assert_false(public6(private_[i]));
    }
    for (size_t i = 0; public_[i]; i++)
        assert_true(public6(public_[i]));
}

static void test_host_patterns(void **state)
{
    (void)state;
    assert_true(pdf_host_matches("example.com", "example.com"));
    assert_true(pdf_host_matches("example.com", "EXAMPLE.com."));
    assert_false(pdf_host_matches("www.example.com", "example.com"));
    assert_true(pdf_host_matches("www.example.com", "*.example.com"));
    assert_true(pdf_host_matches("a.b.example.com", "*.example.com"));
    assert_false(pdf_host_matches("example.com", "*.example.com"));
    assert_false(pdf_host_matches("badexample.com", "*.example.com"));
    assert_false(pdf_host_matches("example.com.evil", "example.com"));
}

/* A resolver with fixed answers; counts calls to see the cache work. */
static int resolve_calls;

static int fake_resolve(void *ud, const char *host, struct sockaddr_storage *out, int max,
                        char *why, size_t whycap)
{
    (void)ud, (void)max;
    resolve_calls++;
    const char *answer = strcmp(host, "public.example") == 0     ? "93.184.216.34"
                         : strcmp(host, "internal.example") == 0 ? "10.0.0.5"
                         : strcmp(host, "metadata.example") == 0 ? "169.254.169.254"
                                                                 : NULL;
    if (answer == NULL) {
        snprintf(why, whycap, "Name or service not known");
        return -1;
    }
    struct sockaddr_in *in = (struct sockaddr_in *)out;
    memset(out, 0, sizeof *out);
    in->sin_family = AF_INET;
    inet_pton(AF_INET, answer, &in->sin_addr);
    return 1;
}

static int check(pdf_guard *g, const char *url, char *why)
{
    return pdf_guard_check(g, url, why, PDF_WHY_MAX);
}

static void test_guard_schemes(void **state)
{
    (void)state;
    pdf_guard g;
    char why[PDF_WHY_MAX];
    pdf_guard_init(&g, NULL, 0, 0, fake_resolve, NULL);
    assert_int_equal(check(&g, "https://public.example/invoice", why), PDF_GUARD_OK);
    assert_int_equal(check(&g, "data:image/png;base64,AAAA", why), PDF_GUARD_OK);
    const char *refused[] = {"file:///etc/passwd",
                             "javascript:alert(1)",
                             "chrome://settings",
                             "ftp://public.example/",
                             "about:blank",
                             "blob:http://x/1",
                             NULL};
    for (size_t i = 0; refused[i]; i++) {
        assert_int_equal(check(&g, refused[i], why), PDF_GUARD_REFUSED);
        assert_non_null(strstr(why, "not allowed"));
    }
}

static void test_guard_private_addresses(void **state)
{
    (void)state;
    pdf_guard g;
    char why[PDF_WHY_MAX];
    pdf_guard_init(&g, NULL, 0, 0, fake_resolve, NULL);
    assert_int_equal(check(&g, "http://169.254.169.254/latest/meta-data/", why), PDF_GUARD_REFUSED);
    assert_non_null(strstr(why, "169.254.169.254"));
    assert_non_null(strstr(why, "allow_private_networks"));
    assert_int_equal(check(&g, "http://127.0.0.1:8000/", why), PDF_GUARD_REFUSED);
    assert_int_equal(check(&g, "http://[::ffff:10.0.0.1]/", why), PDF_GUARD_REFUSED);
    assert_int_equal(check(&g, "http://internal.example/", why), PDF_GUARD_REFUSED);
    assert_non_null(strstr(why, "resolves to 10.0.0.5"));
    assert_int_equal(check(&g, "http://metadata.example/", why), PDF_GUARD_REFUSED);
    assert_int_equal(check(&g, "http://nowhere.example/", why), PDF_GUARD_UNRESOLVED);
    assert_non_null(strstr(why, "cannot resolve"));
    /* special names, answered without asking a resolver */
    resolve_calls = 0;
    assert_int_equal(check(&g, "http://localhost:8080/", why), PDF_GUARD_REFUSED);
    assert_int_equal(check(&g, "http://app.localhost/", why), PDF_GUARD_REFUSED);
    assert_int_equal(check(&g, "http://drudge.invalid/x.css", why), PDF_GUARD_UNRESOLVED);
    assert_int_equal(resolve_calls, 0);

    /* allowed when the config says so, without resolving anything */
    pdf_guard_init(&g, NULL, 0, 1, fake_resolve, NULL);
    resolve_calls = 0;
    assert_int_equal(check(&g, "http://127.0.0.1:8000/", why), PDF_GUARD_OK);
    assert_int_equal(check(&g, "http://internal.example/", why), PDF_GUARD_OK);
    assert_int_equal(resolve_calls, 0);
}

static void test_guard_allowed_hosts(void **state)
{
    (void)state;
    char *hosts[] = {"public.example", "*.cdn.example"};
    pdf_guard g;
    char why[PDF_WHY_MAX];
    pdf_guard_init(&g, hosts, 2, 1, fake_resolve, NULL);
    assert_int_equal(check(&g, "https://public.example/a", why), PDF_GUARD_OK);
    assert_int_equal(check(&g, "https://img.cdn.example/a.png", why), PDF_GUARD_OK);
    assert_int_equal(check(&g, "https://other.example/", why), PDF_GUARD_REFUSED);
    assert_non_null(strstr(why, "pdf.allowed_hosts"));
    assert_int_equal(check(&g, "https://cdn.example/", why), PDF_GUARD_REFUSED);
    /* the list does not lift the private-address rule */
    char *internal[] = {"internal.example"};
    pdf_guard_init(&g, internal, 1, 0, fake_resolve, NULL);
    assert_int_equal(check(&g, "http://internal.example/", why), PDF_GUARD_REFUSED);
}

static void test_guard_caches_per_job(void **state)
{
    (void)state;
    pdf_guard g;
    char why[PDF_WHY_MAX];
    pdf_guard_init(&g, NULL, 0, 0, fake_resolve, NULL);
    resolve_calls = 0;
    for (int i = 0; i < 5; i++) {
        assert_int_equal(check(&g, "https://public.example/a.css", why), PDF_GUARD_OK);
        assert_int_equal(check(&g, "https://internal.example/b.png", why), PDF_GUARD_REFUSED);
    }
    assert_int_equal(resolve_calls, 2);
    pdf_guard_reset(&g);
    assert_int_equal(check(&g, "https://public.example/a.css", why), PDF_GUARD_OK);
    assert_int_equal(resolve_calls, 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_url_parse_splits_scheme_host_port),
        cmocka_unit_test(test_url_parse_refuses_what_it_cannot_check),
        cmocka_unit_test(test_private_and_special_ipv4),
        cmocka_unit_test(test_private_and_special_ipv6),
        cmocka_unit_test(test_host_patterns),
        cmocka_unit_test(test_guard_schemes),
        cmocka_unit_test(test_guard_private_addresses),
        cmocka_unit_test(test_guard_allowed_hosts),
        cmocka_unit_test(test_guard_caches_per_job),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
