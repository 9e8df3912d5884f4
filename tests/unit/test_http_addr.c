/* test_http_addr.c - unit tests for src/workers/http/addr.c: which
 * destination addresses drudge-http refuses while private networks are not
 * allowed, IPv4 and IPv6, including IPv4 carried inside IPv6.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include "http.h"

/* The refusal for a textual address (NULL = allowed). */
static const char *refusal(const char *text)
{
    unsigned char buf[16];
    if (inet_pton(AF_INET, text, buf) == 1)
        return http_addr_refusal(AF_INET, buf);
    if (inet_pton(AF_INET6, text, buf) == 1)
        return http_addr_refusal(AF_INET6, buf);
    fail_msg("not an address: %s", text);
    return NULL;
}

static void assert_refused(const char *text, const char *why)
{
    const char *got = refusal(text);
    if (got == NULL || strstr(got, why) == NULL)
        fail_msg("%s: wanted \"%s\", got \"%s\"", text, why, got ? got : "(allowed)");
}

static void assert_allowed(const char *text)
{
    const char *got = refusal(text);
    if (got != NULL)
        fail_msg("%s: wanted allowed, got \"%s\"", text, got);
}

static void test_addr_ipv4_private_ranges_refused(void **state)
{
    (void)state;
    assert_refused("127.0.0.1", "loopback");
    assert_refused("127.255.255.254", "loopback");
    assert_refused("10.1.2.3", "private");
    assert_refused("172.16.0.1", "private");
    assert_refused("172.31.255.255", "private");
    assert_refused("192.168.1.1", "private");
    assert_refused("169.254.169.254", "link-local"); /* cloud metadata */
    assert_refused("100.64.0.1", "carrier-grade");
    assert_refused("0.0.0.0", "unspecified");
    assert_refused("224.0.0.1", "multicast");
    assert_refused("255.255.255.255", "reserved");
    assert_refused("192.0.2.10", "documentation");
}

static void test_addr_ipv4_public_allowed(void **state)
{
    (void)state;
    assert_allowed("8.8.8.8");
    assert_allowed("1.1.1.1");
    assert_allowed("172.15.255.255"); /* just below 172.16/12 */
    assert_allowed("172.32.0.0");     /* just above */
    assert_allowed("100.63.255.255");
    assert_allowed("100.128.0.0");
    assert_allowed("11.0.0.0");
    assert_allowed("169.253.0.1");
    assert_allowed("223.255.255.255");
}

static void test_addr_ipv6_special_ranges_refused(void **state)
{
    (void)state;
    assert_refused("::1", "loopback");
    assert_refused("::", "unspecified");
    assert_refused("fe80::1", "link-local");
    assert_refused("febf::1", "link-local");
    assert_refused("fc00::1", "unique local");
    assert_refused("fd12:3456::1", "unique local");
    assert_refused("fec0::1", "site-local");
    assert_refused("ff02::1", "multicast");
    assert_refused("2001:db8::1", "documentation");
    assert_refused("64:ff9b:1::1", "private");
}

static void test_addr_ipv6_embedding_ipv4_judged_by_ipv4(void **state)
{
    (void)state;
    assert_refused("::ffff:127.0.0.1", "loopback");  /* mapped */
    assert_refused("::ffff:10.0.0.1", "private");
    assert_refused("::ffff:169.254.169.254", "link-local");
    assert_refused("::127.0.0.1", "loopback");       /* compatible */
    assert_refused("64:ff9b::a00:1", "private");     /* NAT64 of 10.0.0.1 */
    assert_refused("2002:7f00:1::1", "loopback");    /* 6to4 of 127.0.0.1 */
    assert_refused("2002:c0a8:101::", "private");    /* 6to4 of 192.168.1.1 */
    /* Teredo stores the client address inverted: 127.0.0.1 ^ ff = 80.ff.ff.fe */
    assert_refused("2001:0:4136:e378:8000:63bf:80ff:fffe", "loopback");
    assert_allowed("::ffff:8.8.8.8");
    assert_allowed("64:ff9b::808:808");
    assert_allowed("2002:808:808::1");
}

static void test_addr_ipv6_public_allowed(void **state)
{
    (void)state;
    assert_allowed("2606:4700:4700::1111");
    assert_allowed("2a00:1450:4001:80b::200e");
    assert_allowed("fe00::1"); /* just below fe80::/10 */
}

static void test_addr_sockaddr_forms(void **state)
{
    (void)state;
    struct sockaddr_in in;
    struct sockaddr_in6 in6;
    memset(&in, 0, sizeof in);
    memset(&in6, 0, sizeof in6);
    in.sin_family = AF_INET;
    inet_pton(AF_INET, "127.0.0.1", &in.sin_addr);
    assert_string_equal(http_sockaddr_refusal((struct sockaddr *)&in, sizeof in), "loopback");
    inet_pton(AF_INET, "93.184.216.34", &in.sin_addr);
    assert_null(http_sockaddr_refusal((struct sockaddr *)&in, sizeof in));
    in6.sin6_family = AF_INET6;
    inet_pton(AF_INET6, "::ffff:192.168.0.1", &in6.sin6_addr);
    assert_string_equal(http_sockaddr_refusal((struct sockaddr *)&in6, sizeof in6), "private");
    /* too short for its family, or not IP at all */
    assert_non_null(http_sockaddr_refusal((struct sockaddr *)&in6, sizeof in));
    struct sockaddr other = {.sa_family = AF_UNIX};
    assert_non_null(http_sockaddr_refusal(&other, sizeof other));
    assert_non_null(http_sockaddr_refusal(NULL, 0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_addr_ipv4_private_ranges_refused),
        cmocka_unit_test(test_addr_ipv4_public_allowed),
        cmocka_unit_test(test_addr_ipv6_special_ranges_refused),
        cmocka_unit_test(test_addr_ipv6_embedding_ipv4_judged_by_ipv4),
        cmocka_unit_test(test_addr_ipv6_public_allowed),
        cmocka_unit_test(test_addr_sockaddr_forms),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
