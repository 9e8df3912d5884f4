/* test_pdf_env.c - unit tests for src/workers/pdf/env.c: the worker refuses
 * environments that carry credentials, names the variable (never the
 * value), DRUDGE_REDIS_PASSWORD too (as drudge-image: the Redis password
 * belongs in redis.url). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "pdf.h"

static void test_secrets_found_by_name(void **state)
{
    (void)state;
    char name[64];
    char *cases[][3] = {
        {"PATH=/bin", "AWS_SECRET_ACCESS_KEY=abc", NULL},
        {"HOME=/root", "db_password=hunter2", NULL},
        {"GITHUB_TOKEN=x", NULL, NULL},
        {"LANG=C", "STRIPE_API_KEY=sk_live", NULL},
        {"SMTP_PASSWORD", NULL, NULL}, /* no '=': the whole entry is the name */
        {"DRUDGE_REDIS_URL=redis://h/0", "DRUDGE_REDIS_PASSWORD=x", NULL},
    };
    const char *want[] = {"AWS_SECRET_ACCESS_KEY", "db_password",   "GITHUB_TOKEN",
                          "STRIPE_API_KEY",        "SMTP_PASSWORD", "DRUDGE_REDIS_PASSWORD"};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        assert_int_equal(pdf_env_find_secret(cases[i], name, sizeof name), 1);
        assert_string_equal(name, want[i]);
    }
}

static void test_clean_environment_passes(void **state)
{
    (void)state;
    char name[64] = "";
    char *env[] = {"PATH=/usr/bin",
                   "HOME=/var/lib/drudge",
                   "LANG=C.UTF-8",
                   "DRUDGE_REDIS_URL=redis://127.0.0.1:6379/0",
                   "VALUE=PASSWORD_IS_IN_THE_VALUE_ONLY",
                   NULL};
    assert_int_equal(pdf_env_find_secret(env, name, sizeof name), 0);
    assert_int_equal(pdf_env_find_secret(NULL, name, sizeof name), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_secrets_found_by_name),
        cmocka_unit_test(test_clean_environment_passes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
