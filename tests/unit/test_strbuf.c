/* Unit tests for src/common/strbuf.c: growth, the size limit, failure
 * that sticks, and handing the bytes over. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "strbuf.h"

static void test_appends_grow_past_the_first_allocation(void **state)
{
    (void)state;
    strbuf b;
    strbuf_init(&b, 0);
    for (int i = 0; i < 1000; i++)
        assert_int_equal(strbuf_addf(&b, "%03d,", i), 0);
    assert_int_equal(b.len, 4000);
    assert_int_equal(strlen(b.data), 4000);
    assert_memory_equal(b.data, "000,001,", 8);
    assert_memory_equal(b.data + 3996, "999,", 4);
    assert_int_equal(strbuf_add(&b, "a\0b", 3), 0); /* bytes, NUL included */
    assert_int_equal(b.len, 4003);
    assert_int_equal(b.data[4001], '\0');
    assert_int_equal(b.data[4003], '\0');
    strbuf_release(&b);
    assert_null(b.data);
}

static void test_limit_fails_for_good_and_detach_gives_null(void **state)
{
    (void)state;
    strbuf b;
    strbuf_init(&b, 8);
    assert_int_equal(strbuf_adds(&b, "12345"), 0);
    assert_int_equal(strbuf_addf(&b, "%d", 678), 0);
    assert_int_equal(b.len, 8);
    assert_int_equal(strbuf_adds(&b, "9"), -1);
    assert_true(b.failed);
    assert_int_equal(strbuf_adds(&b, ""), -1); /* stays failed */
    assert_string_equal(b.data, "12345678");  /* what fitted is intact */
    size_t len = 99;
    assert_null(strbuf_detach(&b, &len));
    assert_int_equal(len, 0);
    /* detached: empty and usable again, the limit kept */
    assert_false(b.failed);
    assert_int_equal(strbuf_adds(&b, "ok"), 0);
    assert_int_equal(strbuf_adds(&b, "1234567"), -1);
    strbuf_release(&b);
}

static void test_detach_hands_over_the_text(void **state)
{
    (void)state;
    strbuf b;
    strbuf_init(&b, 0);
    size_t len = 99;
    char *empty = strbuf_detach(&b, &len); /* untouched: "" */
    assert_non_null(empty);
    assert_string_equal(empty, "");
    assert_int_equal(len, 0);
    free(empty);
    strbuf_adds(&b, "hello");
    char *s = strbuf_detach(&b, NULL);
    assert_string_equal(s, "hello");
    free(s);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    strbuf_release(&b);
}

static void test_reset_keeps_memory_and_clears_failure(void **state)
{
    (void)state;
    strbuf b;
    strbuf_init(&b, 4);
    assert_int_equal(strbuf_adds(&b, "abcde"), -1);
    assert_true(b.failed);
    strbuf_reset(&b);
    assert_false(b.failed);
    assert_int_equal(strbuf_adds(&b, "abcd"), 0);
    char *kept = b.data;
    strbuf_reset(&b);
    assert_ptr_equal(b.data, kept);
    assert_string_equal(b.data, "");
    strbuf_release(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_appends_grow_past_the_first_allocation),
        cmocka_unit_test(test_limit_fails_for_good_and_detach_gives_null),
        cmocka_unit_test(test_detach_hands_over_the_text),
        cmocka_unit_test(test_reset_keeps_memory_and_clears_failure),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
