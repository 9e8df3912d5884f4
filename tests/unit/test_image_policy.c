/* test_image_policy.c - the ImageMagick policy compiled into drudge-image
 * (src/workers/image/policy.c) is conf/policy.xml, byte for byte, and says
 * what the issue asks of it: a coder allow-list, no delegates, no indirect
 * reads, no system paths. Run from the repository root (make unit does).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

extern const char image_policy_xml[];

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    size_t cap = 1 << 16, n;
    char *buf = malloc(cap + 1);
    assert_non_null(buf);
    n = fread(buf, 1, cap, f);
    fclose(f);
    buf[n] = '\0';
    return buf;
}

static void test_compiled_policy_is_conf_policy_xml(void **state)
{
    (void)state;
    char *file = slurp("conf/policy.xml");
    if (file == NULL)
        fail_msg("conf/policy.xml not found: run from the repository root");
    if (strcmp(file, image_policy_xml) != 0)
        fail_msg("src/workers/image/policy.c differs from conf/policy.xml: edit both together");
    free(file);
}

static void test_policy_says_what_it_must(void **state)
{
    (void)state;
    const char *must[] = {
        "<policy domain=\"coder\" rights=\"none\" pattern=\"*\"/>",
        "<policy domain=\"coder\" rights=\"read|write\" pattern=\"{GIF,JPEG,PNG,WEBP,AVIF,HEIC}\"/>",
        "<policy domain=\"delegate\" rights=\"none\" pattern=\"*\"/>",
        "<policy domain=\"path\" rights=\"none\" pattern=\"@*\"/>",
        "<policy domain=\"path\" rights=\"none\" pattern=\"/etc/*\"/>",
        "<policy domain=\"path\" rights=\"none\" pattern=\"/proc/*\"/>",
        "<policy domain=\"path\" rights=\"none\" pattern=\"/sys/*\"/>",
        "<policy domain=\"resource\" name=\"area\"",
    };
    for (size_t i = 0; i < sizeof must / sizeof must[0]; i++)
        if (strstr(image_policy_xml, must[i]) == NULL)
            fail_msg("policy lacks %s", must[i]);
    /* the allow-list comes after the deny-all: ImageMagick 6.9.11 lets the
     * last matching entry win */
    assert_true(strstr(image_policy_xml, "rights=\"none\" pattern=\"*\"/>\n  <policy domain=\"coder\" "
                                          "rights=\"read|write\"") != NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_compiled_policy_is_conf_policy_xml),
        cmocka_unit_test(test_policy_says_what_it_must),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
