/* test_pdf_b64.c - unit tests for src/workers/pdf/b64.c: RFC 4648 vectors
 * both ways, binary round trips, and refusal of malformed input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pdf.h"

static void test_rfc4648_vectors(void **state)
{
    (void)state;
    const char *plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    const char *coded[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    for (size_t i = 0; i < 7; i++) {
        char *e = pdf_b64_encode(plain[i], strlen(plain[i]));
        assert_string_equal(e, coded[i]);
        free(e);
        unsigned char out[16];
        long n = pdf_b64_decode(coded[i], strlen(coded[i]), out, sizeof out);
        assert_int_equal(n, (long)strlen(plain[i]));
        assert_memory_equal(out, plain[i], (size_t)n);
    }
}

static void test_binary_round_trip(void **state)
{
    (void)state;
    unsigned char data[1000], back[1000];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (unsigned char)(i * 131 + 7);
    for (size_t len = 0; len < 40; len++) {
        char *e = pdf_b64_encode(data, len);
        assert_int_equal(pdf_b64_decode(e, strlen(e), back, sizeof back), (long)len);
        assert_memory_equal(back, data, len);
        free(e);
    }
}

static void test_malformed_refused(void **state)
{
    (void)state;
    unsigned char out[16];
    const char *bad[] = {"Zg=", "Z===", "Zg=a", "Zm9v!A==", "=Zm9", "Zg==Zg==", NULL};
    for (size_t i = 0; bad[i]; i++)
        assert_int_equal(pdf_b64_decode(bad[i], strlen(bad[i]), out, sizeof out), -1);
    assert_int_equal(pdf_b64_decode("Zm9vYmFy", 8, out, 5), -1); /* no room */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc4648_vectors),
        cmocka_unit_test(test_binary_round_trip),
        cmocka_unit_test(test_malformed_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
