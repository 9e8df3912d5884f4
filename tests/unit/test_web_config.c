/* test_web_config.c - the config's web: section (src/lib/config.c) as
 * `drudge web` reads it: listen, token_file and require_token_for_reads,
 * their defaults, and the messages for wrong values. The shipped
 * conf/drudge.yaml must load with them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "drudge.h"

static drudge_config *load(const char *yaml, char *err, size_t cap)
{
    err[0] = '\0';
    return drudge_config_load_string(yaml, "conf/x.yaml", err, cap);
}

static void test_defaults(void **state)
{
    (void)state;
    char err[512];
    drudge_config *cfg = load("{}\n", err, sizeof err);
    assert_non_null(cfg);
    assert_string_equal(cfg->web_listen, "127.0.0.1:8080");
    assert_string_equal(cfg->web_token_file, "");
    assert_int_equal(cfg->web_require_token_for_reads, 0);
    drudge_config_free(cfg);
}

static void test_keys_are_read(void **state)
{
    (void)state;
    char err[512];
    drudge_config *cfg = load("web:\n"
                              "  listen: 127.0.0.1:9191\n"
                              "  token_file: /etc/drudge/web.token\n"
                              "  require_token_for_reads: true\n",
                              err, sizeof err);
    assert_non_null(cfg);
    assert_string_equal(cfg->web_listen, "127.0.0.1:9191");
    assert_string_equal(cfg->web_token_file, "/etc/drudge/web.token");
    assert_int_equal(cfg->web_require_token_for_reads, 1);
    drudge_config_free(cfg);
    cfg = load("web: {token_file: \"\", require_token_for_reads: no}\n", err, sizeof err);
    assert_non_null(cfg);
    assert_string_equal(cfg->web_token_file, "");
    assert_int_equal(cfg->web_require_token_for_reads, 0);
    drudge_config_free(cfg);
}

static void test_wrong_values_name_file_line_and_key(void **state)
{
    (void)state;
    static const struct {
        const char *yaml;
        const char *want;
    } cases[] = {
        {"web:\n  require_token_for_reads: sometimes\n",
         "conf/x.yaml:2: web.require_token_for_reads: must be true or false"},
        {"web:\n  token_file: [a, b]\n", "conf/x.yaml:2: web.token_file: must be a string"},
        {"web:\n  token: abc\n", "web.token"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char err[512];
        drudge_config *cfg = load(cases[i].yaml, err, sizeof err);
        if (cfg != NULL)
            fail_msg("loaded: %s", cases[i].yaml);
        if (strstr(err, cases[i].want) == NULL)
            fail_msg("error \"%s\" lacks \"%s\"", err, cases[i].want);
    }
}

static void test_the_shipped_config_loads(void **state)
{
    (void)state;
    char err[512] = "";
    unsetenv("DRUDGE_REDIS_URL");
    drudge_config *cfg = drudge_config_load("conf/drudge.yaml", err, sizeof err);
    if (cfg == NULL)
        fail_msg("conf/drudge.yaml: %s", err);
    assert_string_equal(cfg->web_token_file, "");
    assert_int_equal(cfg->web_require_token_for_reads, 0);
    drudge_config_free(cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_keys_are_read),
        cmocka_unit_test(test_wrong_values_name_file_line_and_key),
        cmocka_unit_test(test_the_shipped_config_loads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
