/* test_pdf_pdfread.c - unit tests for src/workers/pdf/pdfread.c: page
 * counts of small hand-made PDFs, "/Pages" not counted as a page, the
 * /Count fallback, and non-PDF input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "pdf.h"

static long count(const char *s)
{
    return pdf_count_pages((const unsigned char *)s, strlen(s));
}

static void test_counts_page_objects(void **state)
{
    (void)state;
    assert_int_equal(count("%PDF-1.4\n1 0 obj <</Type /Catalog /Pages 2 0 R>> endobj\n"
                           "2 0 obj <</Type /Pages /Kids [3 0 R 4 0 R] /Count 2>> endobj\n"
                           "3 0 obj <</Type /Page /Parent 2 0 R>> endobj\n"
                           "4 0 obj <</Type/Page/Parent 2 0 R>> endobj\n%%EOF\n"),
                     2);
    assert_int_equal(count("%PDF-1.7\n<</Type\n/Page\n>>"), 1);
}

static void test_falls_back_to_count(void **state)
{
    (void)state;
    /* pages hidden in a compressed object stream: only the tree's count */
    assert_int_equal(count("%PDF-1.5\n2 0 obj <</Type /Pages /Count 7 /Kids [...]>> "
                           "5 0 obj <</Type /ObjStm /N 7>> stream\nxx\nendstream\n"),
                     7);
}

static void test_not_a_pdf(void **state)
{
    (void)state;
    assert_int_equal(count("<html>not a pdf</html>"), -1);
    assert_int_equal(count(""), -1);
    assert_int_equal(pdf_count_pages(NULL, 0), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counts_page_objects),
        cmocka_unit_test(test_falls_back_to_count),
        cmocka_unit_test(test_not_a_pdf),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
