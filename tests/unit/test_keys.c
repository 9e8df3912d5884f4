/* test_keys.c - unit tests for src/lib/keys.c: every Redis key name of the
 * wire protocol (docs/protocol.md), with and without a namespace, and the
 * refusal of names that do not fit.
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

static drudge_keys keys_ok(const char *ns, const char *class_name)
{
    drudge_keys k;

    memset(&k, 0, sizeof k);
    assert_int_equal(drudge__keys_init(&k, ns, class_name), 0);
    return k;
}

static char *repeat(char ch, size_t n)
{
    char *s = malloc(n + 1);

    assert_non_null(s);
    memset(s, ch, n);
    s[n] = '\0';
    return s;
}

/* ---- per-class keys ---- */

static void test_class_keys_without_namespace(void **state)
{
    drudge_keys k = keys_ok(NULL, "ImageJob");

    (void)state;
    assert_string_equal(k.queue, "ImageJob");
    assert_string_equal(k.delayed, "ImageJob:delayed");
    assert_string_equal(k.failed, "ImageJob:failed");
    assert_string_equal(k.paused, "ImageJob:paused");
    assert_string_equal(k.stats, "ImageJob:stats");
    assert_string_equal(k.status_prefix, "ImageJob:status:");
    assert_string_equal(k.processing_prefix, "ImageJob:processing:");
    assert_string_equal(k.breaker, "ImageJob:breaker");
    assert_string_equal(k.rate, "ImageJob:rate");
    assert_string_equal(k.minute_prefix, "ImageJob:minute:");
}

static void test_empty_namespace_means_no_prefix(void **state)
{
    drudge_keys a = keys_ok("", "ImageJob");
    drudge_keys b = keys_ok(NULL, "ImageJob");

    (void)state;
    assert_string_equal(a.queue, "ImageJob");
    assert_string_equal(a.failed, "ImageJob:failed");
    assert_memory_equal(&a, &b, sizeof a);
}

static void test_class_keys_with_namespace(void **state)
{
    drudge_keys k = keys_ok("ns", "ImageJob");

    (void)state;
    assert_string_equal(k.queue, "ns:ImageJob");
    assert_string_equal(k.delayed, "ns:ImageJob:delayed");
    assert_string_equal(k.failed, "ns:ImageJob:failed");
    assert_string_equal(k.paused, "ns:ImageJob:paused");
    assert_string_equal(k.stats, "ns:ImageJob:stats");
    assert_string_equal(k.status_prefix, "ns:ImageJob:status:");
    assert_string_equal(k.processing_prefix, "ns:ImageJob:processing:");
    assert_string_equal(k.breaker, "ns:ImageJob:breaker");
    assert_string_equal(k.rate, "ns:ImageJob:rate");
    assert_string_equal(k.minute_prefix, "ns:ImageJob:minute:");
}

static void test_class_name_used_exactly_as_written(void **state)
{
    drudge_keys k = keys_ok(NULL, "App::Mail.v2_hi-pri");

    (void)state;
    assert_string_equal(k.queue, "App::Mail.v2_hi-pri");
    assert_string_equal(k.delayed, "App::Mail.v2_hi-pri:delayed");
}

static void test_status_key_of_job(void **state)
{
    drudge_keys plain = keys_ok(NULL, "ImageJob");
    drudge_keys spaced = keys_ok("ns", "ImageJob");
    char out[DRUDGE_KEY_MAX];
    const char *hash = "2bfd14f43d17fc7cea24e0917a8879b4b2f880b8baeec1b9d90fbaad655e71bd";

    (void)state;
    assert_int_equal(drudge__key_status(&plain, "order-42", out, sizeof out), 0);
    assert_string_equal(out, "ImageJob:status:order-42");
    assert_int_equal(drudge__key_status(&plain, hash, out, sizeof out), 0);
    assert_string_equal(out, "ImageJob:status:"
                             "2bfd14f43d17fc7cea24e0917a8879b4b2f880b8baeec1b9d90fbaad655e71bd");
    assert_int_equal(drudge__key_status(&spaced, "order-42", out, sizeof out), 0);
    assert_string_equal(out, "ns:ImageJob:status:order-42");
}

static void test_processing_key_of_worker(void **state)
{
    drudge_keys plain = keys_ok(NULL, "ImageJob");
    drudge_keys spaced = keys_ok("ns", "ImageJob");
    char out[DRUDGE_KEY_MAX];

    (void)state;
    assert_int_equal(drudge__key_processing(&plain, "web1:4242:ab12", out, sizeof out), 0);
    assert_string_equal(out, "ImageJob:processing:web1:4242:ab12");
    assert_int_equal(drudge__key_processing(&spaced, "web1:4242:ab12", out, sizeof out), 0);
    assert_string_equal(out, "ns:ImageJob:processing:web1:4242:ab12");
}

/* ---- global keys ---- */

static void test_global_keys_without_namespace(void **state)
{
    char out[DRUDGE_KEY_MAX];

    (void)state;
    assert_int_equal(drudge__key_workers(NULL, out, sizeof out), 0);
    assert_string_equal(out, "drudge:workers");
    assert_int_equal(drudge__key_worker(NULL, "web1:4242:ab12", out, sizeof out), 0);
    assert_string_equal(out, "drudge:worker:web1:4242:ab12");
    assert_int_equal(drudge__key_classes(NULL, out, sizeof out), 0);
    assert_string_equal(out, "drudge:classes");
    assert_int_equal(drudge__key_lock(NULL, "housekeep", out, sizeof out), 0);
    assert_string_equal(out, "drudge:lock:housekeep");
    assert_int_equal(drudge__key_cron(NULL, "nightly-report", out, sizeof out), 0);
    assert_string_equal(out, "drudge:cron:nightly-report");

    assert_int_equal(drudge__key_workers("", out, sizeof out), 0);
    assert_string_equal(out, "drudge:workers");
}

static void test_global_keys_with_namespace(void **state)
{
    char out[DRUDGE_KEY_MAX];

    (void)state;
    assert_int_equal(drudge__key_workers("ns", out, sizeof out), 0);
    assert_string_equal(out, "ns:drudge:workers");
    assert_int_equal(drudge__key_worker("ns", "w1", out, sizeof out), 0);
    assert_string_equal(out, "ns:drudge:worker:w1");
    assert_int_equal(drudge__key_classes("ns", out, sizeof out), 0);
    assert_string_equal(out, "ns:drudge:classes");
    assert_int_equal(drudge__key_lock("ns", "housekeep", out, sizeof out), 0);
    assert_string_equal(out, "ns:drudge:lock:housekeep");
    assert_int_equal(drudge__key_cron("ns", "nightly-report", out, sizeof out), 0);
    assert_string_equal(out, "ns:drudge:cron:nightly-report");
}

/* ---- names that do not fit ---- */

static void test_too_long_class_name_fails(void **state)
{
    drudge_keys k;
    /* The queue key alone would need DRUDGE_KEY_MAX bytes plus the NUL. */
    char *name = repeat('C', DRUDGE_KEY_MAX);

    (void)state;
    assert_int_equal(drudge__keys_init(&k, NULL, name), -1);
    free(name);
}

static void test_class_name_fits_only_if_every_key_fits(void **state)
{
    drudge_keys k;
    /* "<name>:processing:" is the longest suffix (12 chars): the queue key
     * fits, the processing prefix does not. */
    size_t longest_suffix = strlen(":processing:");
    char *name = repeat('C', DRUDGE_KEY_MAX - longest_suffix);
    char *fits = repeat('C', DRUDGE_KEY_MAX - 1 - longest_suffix);

    (void)state;
    assert_int_equal(drudge__keys_init(&k, NULL, name), -1);
    assert_int_equal(drudge__keys_init(&k, NULL, fits), 0);
    assert_int_equal(strlen(k.processing_prefix), DRUDGE_KEY_MAX - 1);
    free(name);
    free(fits);
}

static void test_too_long_namespace_fails(void **state)
{
    drudge_keys k;
    char *ns = repeat('n', DRUDGE_KEY_MAX - 5);
    char out[DRUDGE_KEY_MAX];

    (void)state;
    assert_int_equal(drudge__keys_init(&k, ns, "ImageJob"), -1);
    assert_int_equal(drudge__key_workers(ns, out, sizeof out), -1);
    free(ns);
}

static void test_too_long_status_and_processing_keys_fail(void **state)
{
    drudge_keys k = keys_ok(NULL, "ImageJob");
    char out[DRUDGE_KEY_MAX];
    char small[20];
    char *id = repeat('i', DRUDGE_KEY_MAX);

    (void)state;
    assert_int_equal(drudge__key_status(&k, id, out, sizeof out), -1);
    assert_int_equal(drudge__key_processing(&k, id, out, sizeof out), -1);
    /* The caller's buffer is the limit, too: "ImageJob:status:abc" needs 20 bytes. */
    assert_int_equal(drudge__key_status(&k, "abc", small, sizeof small), 0);
    assert_string_equal(small, "ImageJob:status:abc");
    assert_int_equal(drudge__key_status(&k, "abcd", small, sizeof small), -1);
    free(id);
}

static void test_too_long_global_keys_fail(void **state)
{
    char out[DRUDGE_KEY_MAX];
    char tiny[14]; /* "drudge:workers" needs 15 */
    char *name = repeat('x', DRUDGE_KEY_MAX);

    (void)state;
    assert_int_equal(drudge__key_worker(NULL, name, out, sizeof out), -1);
    assert_int_equal(drudge__key_lock(NULL, name, out, sizeof out), -1);
    assert_int_equal(drudge__key_cron(NULL, name, out, sizeof out), -1);
    assert_int_equal(drudge__key_workers(NULL, tiny, sizeof tiny), -1);
    assert_int_equal(drudge__key_classes(NULL, tiny, sizeof tiny), -1);
    free(name);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_class_keys_without_namespace),
        cmocka_unit_test(test_empty_namespace_means_no_prefix),
        cmocka_unit_test(test_class_keys_with_namespace),
        cmocka_unit_test(test_class_name_used_exactly_as_written),
        cmocka_unit_test(test_status_key_of_job),
        cmocka_unit_test(test_processing_key_of_worker),
        cmocka_unit_test(test_global_keys_without_namespace),
        cmocka_unit_test(test_global_keys_with_namespace),
        cmocka_unit_test(test_too_long_class_name_fails),
        cmocka_unit_test(test_class_name_fits_only_if_every_key_fits),
        cmocka_unit_test(test_too_long_namespace_fails),
        cmocka_unit_test(test_too_long_status_and_processing_keys_fail),
        cmocka_unit_test(test_too_long_global_keys_fail),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
