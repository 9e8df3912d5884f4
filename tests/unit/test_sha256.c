/* Unit tests for sha256.c: the FIPS 180-4 / NIST example vectors, each
 * through the portable code and through the CPU's SHA extensions (when this
 * CPU has them), and the two paths against each other on many lengths. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "internal.h"

static void hex(const unsigned char md[32], char out[65])
{
    for (int i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static void check(const void *data, size_t len, const char *expected)
{
    unsigned char md[32];
    char got[65];
    drudge__sha256(data, len, md);
    hex(md, got);
    assert_string_equal(got, expected);
    for (int hw = 0; hw <= 1; hw++) {
        drudge__sha256_with(data, len, md, hw);
        hex(md, got);
        assert_string_equal(got, expected);
    }
}

/* Every length from 0 to 1,100 bytes (all the padding cases, several
 * blocks), pseudo-random bytes: both paths give the same digest. */
static void test_hardware_and_portable_paths_agree(void **state)
{
    (void)state;
    if (!drudge__sha256_hw_available())
        skip();
    unsigned char buf[1100];
    uint32_t x = 2463534242u;
    for (size_t i = 0; i < sizeof buf; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        buf[i] = (unsigned char)x;
    }
    for (size_t len = 0; len <= sizeof buf; len++) {
        unsigned char a[32], b[32];
        drudge__sha256_with(buf, len, a, 0);
        drudge__sha256_with(buf, len, b, 1);
        assert_memory_equal(a, b, 32);
    }
}

static void test_empty_input(void **state)
{
    (void)state;
    check("", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

static void test_abc(void **state)
{
    (void)state;
    check("abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void test_two_block_message(void **state)
{
    (void)state;
    const char *m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    check(m, strlen(m), "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

static void test_padding_boundaries_55_56_64_bytes(void **state)
{
    (void)state;
    char a[65];
    memset(a, 'a', sizeof a);
    /* values from `head -c N /dev/zero | tr '\0' a | sha256sum` */
    check(a, 55, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318");
    check(a, 56, "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a");
    check(a, 64, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb");
}

static void test_one_million_a(void **state)
{
    (void)state;
    size_t n = 1000000;
    char *a = malloc(n);
    assert_non_null(a);
    memset(a, 'a', n);
    check(a, n, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty_input),
        cmocka_unit_test(test_abc),
        cmocka_unit_test(test_two_block_message),
        cmocka_unit_test(test_padding_boundaries_55_56_64_bytes),
        cmocka_unit_test(test_one_million_a),
        cmocka_unit_test(test_hardware_and_portable_paths_agree),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
