/* test_url.c - unit tests for src/lib/url.c: the redis:// and unix:// URL
 * forms drudge accepts, the errors for the ones it refuses, and that an
 * error message (which ends up in logs) never carries the password.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "internal.h"

static drudge_redis_url parse_ok(const char *url)
{
    drudge_redis_url u;
    char err[512] = "";
    int rc = drudge_redis_url_parse(url, &u, err, sizeof err);

    if (rc != 0)
        print_error("parse \"%s\" failed: %s\n", url, err);
    assert_int_equal(rc, 0);
    return u;
}

/* Expect -1 and a message that says "invalid redis url" and `why`. */
static void assert_url_error(const char *url, const char *why)
{
    drudge_redis_url u;
    char err[512] = "";
    int rc = drudge_redis_url_parse(url, &u, err, sizeof err);

    if (rc != -1)
        print_error("parse \"%s\" unexpectedly succeeded\n", url ? url : "(null)");
    assert_int_equal(rc, -1);
    if (strstr(err, "invalid redis url") == NULL || strstr(err, why) == NULL)
        print_error("message for \"%s\" is \"%s\", wanted \"%s\"\n", url ? url : "(null)", err,
                    why);
    assert_non_null(strstr(err, "invalid redis url"));
    assert_non_null(strstr(err, why));
}

static char *repeat(char ch, size_t n)
{
    char *s = malloc(n + 1);

    assert_non_null(s);
    memset(s, ch, n);
    s[n] = '\0';
    return s;
}

/* ---- accepted forms ---- */

static void test_url_host_only_gets_default_port_and_db(void **state)
{
    drudge_redis_url u = parse_ok("redis://cache.example.com");

    (void)state;
    assert_int_equal(u.is_unix, 0);
    assert_string_equal(u.host, "cache.example.com");
    assert_int_equal(u.port, 6379);
    assert_int_equal(u.db, 0);
    assert_string_equal(u.user, "");
    assert_string_equal(u.password, "");
    assert_string_equal(u.path, "");
}

static void test_url_host_and_port(void **state)
{
    drudge_redis_url u = parse_ok("redis://127.0.0.1:6380");

    (void)state;
    assert_string_equal(u.host, "127.0.0.1");
    assert_int_equal(u.port, 6380);
    assert_int_equal(u.db, 0);
    u = parse_ok("redis://h:1");
    assert_int_equal(u.port, 1);
    u = parse_ok("redis://h:65535");
    assert_int_equal(u.port, 65535);
}

static void test_url_database_number(void **state)
{
    drudge_redis_url u = parse_ok("redis://127.0.0.1:6379/3");

    (void)state;
    assert_string_equal(u.host, "127.0.0.1");
    assert_int_equal(u.port, 6379);
    assert_int_equal(u.db, 3);
    u = parse_ok("redis://localhost/15");
    assert_string_equal(u.host, "localhost");
    assert_int_equal(u.port, 6379);
    assert_int_equal(u.db, 15);
    u = parse_ok("redis://localhost/");
    assert_int_equal(u.db, 0);
}

static void test_url_user_and_password(void **state)
{
    drudge_redis_url u = parse_ok("redis://alice:s3cret@cache.example.com:6380/2");

    (void)state;
    assert_string_equal(u.user, "alice");
    assert_string_equal(u.password, "s3cret");
    assert_string_equal(u.host, "cache.example.com");
    assert_int_equal(u.port, 6380);
    assert_int_equal(u.db, 2);
}

static void test_url_password_only(void **state)
{
    drudge_redis_url u = parse_ok("redis://:s3cret@127.0.0.1:6379/0");

    (void)state;
    assert_string_equal(u.user, "");
    assert_string_equal(u.password, "s3cret");
    assert_string_equal(u.host, "127.0.0.1");
}

static void test_url_password_may_contain_colon_and_at(void **state)
{
    /* The first ':' ends the user; the last '@' before the path ends the
     * password. */
    drudge_redis_url u = parse_ok("redis://bob:a:b@c@host");

    (void)state;
    assert_string_equal(u.user, "bob");
    assert_string_equal(u.password, "a:b@c");
    assert_string_equal(u.host, "host");
}

static void test_url_percent_escapes_decoded_in_user_and_password(void **state)
{
    drudge_redis_url u = parse_ok("redis://al%69ce:p%40ss%3Aw%2fd%25%2F@host:7000");

    (void)state;
    assert_string_equal(u.user, "alice");
    assert_string_equal(u.password, "p@ss:w/d%/");
    assert_string_equal(u.host, "host");
    assert_int_equal(u.port, 7000);
}

static void test_url_ipv6_host_with_port(void **state)
{
    drudge_redis_url u = parse_ok("redis://[::1]:6380");

    (void)state;
    assert_string_equal(u.host, "::1");
    assert_int_equal(u.port, 6380);
    assert_int_equal(u.db, 0);
}

static void test_url_ipv6_host_without_port(void **state)
{
    drudge_redis_url u = parse_ok("redis://[::1]");

    (void)state;
    assert_string_equal(u.host, "::1");
    assert_int_equal(u.port, 6379);
    u = parse_ok("redis://u:p@[fe80::1]:7000/4");
    assert_string_equal(u.host, "fe80::1");
    assert_int_equal(u.port, 7000);
    assert_int_equal(u.db, 4);
    assert_string_equal(u.user, "u");
    assert_string_equal(u.password, "p");
}

static void test_url_unix_socket(void **state)
{
    drudge_redis_url u = parse_ok("unix:///var/run/redis/redis.sock");

    (void)state;
    assert_int_equal(u.is_unix, 1);
    assert_string_equal(u.path, "/var/run/redis/redis.sock");
    assert_int_equal(u.db, 0);
}

static void test_url_unix_socket_with_db(void **state)
{
    drudge_redis_url u = parse_ok("unix:///tmp/redis.sock?db=3");

    (void)state;
    assert_int_equal(u.is_unix, 1);
    assert_string_equal(u.path, "/tmp/redis.sock");
    assert_int_equal(u.db, 3);
}

static void test_url_unix_path_of_107_chars_fits(void **state)
{
    /* sun_path holds 108 bytes with the NUL. */
    char *path = repeat('p', 107);
    char url[256];
    drudge_redis_url u;

    (void)state;
    path[0] = '/';
    assert_int_equal(drudge__fmt(url, sizeof url, "unix://%s", path), 0);
    u = parse_ok(url);
    assert_string_equal(u.path, path);
    free(path);
}

static void test_url_host_of_255_chars_fits(void **state)
{
    char *host = repeat('h', 255);
    char url[512];
    drudge_redis_url u;

    (void)state;
    assert_int_equal(drudge__fmt(url, sizeof url, "redis://%s:6379", host), 0);
    u = parse_ok(url);
    assert_string_equal(u.host, host);
    free(host);
}

/* ---- refused forms ---- */

static void test_url_empty_rejected(void **state)
{
    (void)state;
    assert_url_error("", "empty");
    assert_url_error(NULL, "empty");
}

static void test_url_wrong_scheme_rejected(void **state)
{
    (void)state;
    assert_url_error("rediss://host:6380", "scheme must be redis:// or unix://");
    assert_url_error("http://host:6379", "scheme must be redis:// or unix://");
    assert_url_error("host:6379", "scheme must be redis:// or unix://");
    assert_url_error("redis:/host", "scheme must be redis:// or unix://");
}

static void test_url_missing_host_rejected(void **state)
{
    (void)state;
    assert_url_error("redis://", "missing host");
    assert_url_error("redis://:6379", "missing host");
    assert_url_error("redis:///0", "missing host");
    assert_url_error("redis://user:pw@", "missing host");
    assert_url_error("redis://user:pw@:6379/0", "missing host");
}

static void test_url_bad_port_rejected(void **state)
{
    (void)state;
    assert_url_error("redis://host:0", "port must be a number from 1 to 65535");
    assert_url_error("redis://host:65536", "port must be a number from 1 to 65535");
    assert_url_error("redis://host:abc", "port must be a number from 1 to 65535");
    assert_url_error("redis://host:-1", "port must be a number from 1 to 65535");
    assert_url_error("redis://host:63a9", "port must be a number from 1 to 65535");
    assert_url_error("redis://host:/0", "bad port");
    assert_url_error("redis://host:99999999999999999999", "bad port");
    assert_url_error("redis://[::1]:0", "port must be a number from 1 to 65535");
}

static void test_url_bad_db_rejected(void **state)
{
    (void)state;
    assert_url_error("redis://host/abc", "database must be a number");
    assert_url_error("redis://host/-1", "database must be a number");
    assert_url_error("redis://host/1.5", "database must be a number");
    assert_url_error("redis://host:6379/3x", "database must be a number");
    assert_url_error("redis://host/3/4", "database must be a number");
}

static void test_url_bad_ipv6_rejected(void **state)
{
    (void)state;
    assert_url_error("redis://[::1", "unclosed '['");
    assert_url_error("redis://[]:6379", "bad host");
    assert_url_error("redis://[::1]x", "junk after ']'");
}

static void test_url_too_long_host_rejected(void **state)
{
    char *host = repeat('h', 256);
    char url[512];

    (void)state;
    assert_int_equal(drudge__fmt(url, sizeof url, "redis://%s:6379", host), 0);
    assert_url_error(url, "host too long");
    free(host);
}

static void test_url_bad_percent_escape_rejected(void **state)
{
    (void)state;
    assert_url_error("redis://u:p%zz@host", "bad user or password");
    assert_url_error("redis://u:p%4@host", "bad user or password");
    assert_url_error("redis://%zz@host", "bad password");
}

static void test_url_too_long_password_rejected(void **state)
{
    char *pw = repeat('p', 256);
    char url[512];

    (void)state;
    assert_int_equal(drudge__fmt(url, sizeof url, "redis://u:%s@host", pw), 0);
    assert_url_error(url, "bad user or password");
    free(pw);
}

static void test_url_relative_unix_path_rejected(void **state)
{
    (void)state;
    assert_url_error("unix://relative/redis.sock", "must be absolute");
    assert_url_error("unix://", "must be absolute");
    assert_url_error("unix://?db=1", "must be absolute");
}

static void test_url_too_long_unix_path_rejected(void **state)
{
    char *path = repeat('p', 108);
    char url[256];

    (void)state;
    path[0] = '/';
    assert_int_equal(drudge__fmt(url, sizeof url, "unix://%s", path), 0);
    assert_url_error(url, "unix socket path too long");
    free(path);
}

static void test_url_bad_unix_query_rejected(void **state)
{
    (void)state;
    assert_url_error("unix:///tmp/r.sock?db=abc", "expected ?db=N");
    assert_url_error("unix:///tmp/r.sock?db=", "expected ?db=N");
    assert_url_error("unix:///tmp/r.sock?foo=1", "expected ?db=N");
    assert_url_error("unix:///tmp/r.sock?db=-2", "expected ?db=N");
}

/* ---- secrets stay out of messages ---- */

/* Parse a URL that must fail; its message must not contain any of the
 * NULL-terminated secrets. */
static void assert_error_hides(const char *url, const char *const *secrets)
{
    drudge_redis_url u;
    char err[512] = "";

    assert_int_equal(drudge_redis_url_parse(url, &u, err, sizeof err), -1);
    assert_non_null(strstr(err, "invalid redis url"));
    for (size_t i = 0; secrets[i]; i++) {
        if (strstr(err, secrets[i]) != NULL)
            print_error("message for \"%s\" leaks \"%s\": %s\n", url, secrets[i], err);
        assert_null(strstr(err, secrets[i]));
    }
}

static void test_url_error_message_hides_password(void **state)
{
    static const char *const pw[] = {"Sup3rSecret", NULL};
    static const char *const urls[] = {
        "redis://alice:Sup3rSecret@host:0",        /* bad port */
        "redis://alice:Sup3rSecret@host:6379/abc", /* bad db */
        "redis://:Sup3rSecret@",                   /* missing host */
        "redis://:Sup3rSecret@:6379",              /* missing host */
        "rediss://alice:Sup3rSecret@host:6380",    /* wrong scheme */
        "http://alice:Sup3rSecret@host",           /* wrong scheme */
        "alice:Sup3rSecret@host:6379",             /* no scheme */
        "redis://alice:Sup3rSecret@[::1",          /* unclosed [ */
        "redis://alice:Sup3rSecret%zz@host",       /* bad escape */
        "redis://alice:Sup3r@Secret@host:0",       /* unencoded @ */
    };

    (void)state;
    for (size_t i = 0; i < sizeof urls / sizeof urls[0]; i++)
        assert_error_hides(urls[i], pw);
}

static void test_url_error_message_hides_password_with_unencoded_slash(void **state)
{
    /* Generated passwords often hold '/' (base64). Left unencoded it makes
     * the URL invalid, and the message must still not carry the secret. */
    static const char *const parts[] = {"Sup3r", "Secret", NULL};

    (void)state;
    assert_error_hides("redis://alice:Sup3r/Secret@host:6379", parts);
    assert_error_hides("redis://:Sup3r/Secret@host", parts);
}

static void test_url_error_message_keeps_host_for_diagnosis(void **state)
{
    drudge_redis_url u;
    char err[512] = "";

    (void)state;
    assert_int_equal(
        drudge_redis_url_parse("redis://alice:pw@cache.example.com:0", &u, err, sizeof err), -1);
    assert_non_null(strstr(err, "cache.example.com:0"));
    assert_null(strstr(err, ":pw@"));
    /* Without a password the URL is quoted whole. */
    assert_int_equal(drudge_redis_url_parse("redis://cache.example.com:0", &u, err, sizeof err),
                     -1);
    assert_non_null(strstr(err, "\"redis://cache.example.com:0\""));
}

static void test_url_error_fits_small_buffer(void **state)
{
    drudge_redis_url u;
    char err[16];

    (void)state;
    memset(err, 'x', sizeof err);
    assert_int_equal(drudge_redis_url_parse("http://x", &u, err, sizeof err), -1);
    assert_int_equal(strlen(err), sizeof err - 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_url_host_only_gets_default_port_and_db),
        cmocka_unit_test(test_url_host_and_port),
        cmocka_unit_test(test_url_database_number),
        cmocka_unit_test(test_url_user_and_password),
        cmocka_unit_test(test_url_password_only),
        cmocka_unit_test(test_url_password_may_contain_colon_and_at),
        cmocka_unit_test(test_url_percent_escapes_decoded_in_user_and_password),
        cmocka_unit_test(test_url_ipv6_host_with_port),
        cmocka_unit_test(test_url_ipv6_host_without_port),
        cmocka_unit_test(test_url_unix_socket),
        cmocka_unit_test(test_url_unix_socket_with_db),
        cmocka_unit_test(test_url_unix_path_of_107_chars_fits),
        cmocka_unit_test(test_url_host_of_255_chars_fits),
        cmocka_unit_test(test_url_empty_rejected),
        cmocka_unit_test(test_url_wrong_scheme_rejected),
        cmocka_unit_test(test_url_missing_host_rejected),
        cmocka_unit_test(test_url_bad_port_rejected),
        cmocka_unit_test(test_url_bad_db_rejected),
        cmocka_unit_test(test_url_bad_ipv6_rejected),
        cmocka_unit_test(test_url_too_long_host_rejected),
        cmocka_unit_test(test_url_bad_percent_escape_rejected),
        cmocka_unit_test(test_url_too_long_password_rejected),
        cmocka_unit_test(test_url_relative_unix_path_rejected),
        cmocka_unit_test(test_url_too_long_unix_path_rejected),
        cmocka_unit_test(test_url_bad_unix_query_rejected),
        cmocka_unit_test(test_url_error_message_hides_password),
        cmocka_unit_test(test_url_error_message_hides_password_with_unencoded_slash),
        cmocka_unit_test(test_url_error_message_keeps_host_for_diagnosis),
        cmocka_unit_test(test_url_error_fits_small_buffer),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
