/* test_http_config.c - the http: section of the config (src/lib/config.c)
 * that drudge-http reads: defaults, per-host rates normalised to numbers
 * per second, credentials that name environment variables (never hold
 * secrets), and the errors for each mistake, with file, line and key. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drudge.h"

static drudge_config *load_ok(const char *yaml)
{
    char err[512] = "";
    drudge_config *cfg = drudge_config_load_string(yaml, "x.yaml", err, sizeof err);
    if (cfg == NULL)
        fail_msg("unexpected error: %s", err);
    return cfg;
}

static void expect_error(const char *yaml, const char *const *want)
{
    char err[512] = "";
    drudge_config *cfg = drudge_config_load_string(yaml, "conf/x.yaml", err, sizeof err);
    if (cfg != NULL) {
        drudge_config_free(cfg);
        fail_msg("loaded without error:\n%s", yaml);
    }
    for (; *want != NULL; want++)
        if (strstr(err, *want) == NULL)
            fail_msg("error \"%s\" does not contain \"%s\"", err, *want);
}

#define EXPECT_ERROR(yaml, ...) expect_error((yaml), (const char *const[]){__VA_ARGS__, NULL})

static void test_http_config_defaults(void **state)
{
    (void)state;
    drudge_config *cfg = load_ok("");
    assert_true(cfg->http_host_rate == 5);
    assert_string_equal(cfg->http_hosts, "{}");
    assert_int_equal(cfg->http_allow_private_networks, 0);
    assert_int_equal(cfg->http_max_response_bytes, 65536);
    assert_int_equal(cfg->http_max_redirects, 5);
    assert_true(cfg->http_timeout == 30);
    assert_string_equal(cfg->http_credentials, "{}");
    drudge_config_free(cfg);
    cfg = load_ok("http:\n  host_rate: 2/s\n"); /* the section without the JSON keys */
    assert_string_equal(cfg->http_hosts, "{}");
    drudge_config_free(cfg);
}

static void test_http_config_full_section(void **state)
{
    (void)state;
    drudge_config *cfg = load_ok("http:\n"
                                 "  host_rate: 10/s\n"
                                 "  allow_private_networks: true\n"
                                 "  max_response_bytes: 1024\n"
                                 "  max_redirects: 0\n"
                                 "  timeout: 2.5\n"
                                 "  hosts:\n"
                                 "    API.Example.com: 120/min\n"
                                 "    \"[::1]\": 3\n"
                                 "    slow.example.com: 0.5\n"
                                 "    free.example.com: 0\n"
                                 "  credentials:\n"
                                 "    stripe: {type: bearer, token_env: STRIPE_TOKEN}\n"
                                 "    hook: {type: basic, user: drudge, password_env: HOOK_PW}\n");
    assert_true(cfg->http_host_rate == 10);
    assert_int_equal(cfg->http_allow_private_networks, 1);
    assert_int_equal(cfg->http_max_response_bytes, 1024);
    assert_int_equal(cfg->http_max_redirects, 0);
    assert_true(cfg->http_timeout == 2.5);

    json_t *hosts = json_loads(cfg->http_hosts, 0, NULL);
    assert_non_null(hosts);
    assert_int_equal(json_object_size(hosts), 4);
    assert_true(json_number_value(json_object_get(hosts, "api.example.com")) == 2.0);
    assert_true(json_number_value(json_object_get(hosts, "::1")) == 3.0);
    assert_true(json_number_value(json_object_get(hosts, "slow.example.com")) == 0.5);
    assert_true(json_is_number(json_object_get(hosts, "free.example.com")));
    json_decref(hosts);

    json_t *creds = json_loads(cfg->http_credentials, 0, NULL);
    assert_non_null(creds);
    assert_string_equal(json_string_value(json_object_get(json_object_get(creds, "stripe"),
                                                          "token_env")),
                        "STRIPE_TOKEN");
    assert_string_equal(json_string_value(json_object_get(json_object_get(creds, "hook"), "user")),
                        "drudge");
    json_decref(creds);
    drudge_config_free(cfg);
}

static void test_http_config_bad_values(void **state)
{
    (void)state;
    EXPECT_ERROR("http:\n  allow_private_networks: maybe\n", "conf/x.yaml:2:",
                 "http.allow_private_networks", "true or false");
    EXPECT_ERROR("http:\n  max_redirects: 50\n", "http.max_redirects", "from 0 to 20");
    EXPECT_ERROR("http:\n  timeout: 0\n", "http.timeout");
    EXPECT_ERROR("http:\n  max_response_bytes: -1\n", "http.max_response_bytes");
    EXPECT_ERROR("http:\n  hosts: [a, b]\n", "http.hosts", "mapping");
    EXPECT_ERROR("http:\n  hosts:\n    api.example.com: fast\n", "conf/x.yaml:3:",
                 "http.hosts.api.example.com", "must be a rate");
    EXPECT_ERROR("http:\n  hosts:\n    \"bad host/\": 1\n", "http.hosts.bad host/",
                 "host name");
    EXPECT_ERROR("http:\n  hosts:\n    a.example: 1\n    A.example: 2\n", "conf/x.yaml:4:",
                 "duplicate host \"a.example\"");
    EXPECT_ERROR("http:\n  nope: 1\n", "http.nope", "unknown key");
}

static void test_http_config_credentials_hold_no_secrets(void **state)
{
    (void)state;
    EXPECT_ERROR("http:\n  credentials:\n    s: {type: bearer, token: sk_live_x}\n",
                 "http.credentials.s.token", "secrets do not go in the config file",
                 "token_env");
    EXPECT_ERROR("http:\n  credentials:\n    s:\n      type: basic\n      user: u\n"
                 "      password: hunter2\n",
                 "conf/x.yaml:6:", "http.credentials.s.password", "password_env");
}

static void test_http_config_credential_shapes(void **state)
{
    (void)state;
    EXPECT_ERROR("http:\n  credentials:\n    s: {type: oauth, token_env: T}\n",
                 "http.credentials.s.type", "bearer or basic");
    EXPECT_ERROR("http:\n  credentials:\n    s: {token_env: T}\n", "http.credentials.s.type");
    EXPECT_ERROR("http:\n  credentials:\n    s: {type: bearer}\n", "http.credentials.s.token_env",
                 "required");
    EXPECT_ERROR("http:\n  credentials:\n    s: {type: basic, user: u}\n",
                 "http.credentials.s.password_env", "required");
    EXPECT_ERROR("http:\n  credentials:\n    s: {type: basic, user: \"a:b\", password_env: P}\n",
                 "http.credentials.s.user", "without ':'");
    EXPECT_ERROR("http:\n  credentials:\n    s: {type: bearer, token_env: \"1BAD\"}\n",
                 "http.credentials.s.token_env", "environment variable name");
    EXPECT_ERROR("http:\n  credentials:\n    s: {type: bearer, token_env: T, user: u}\n",
                 "http.credentials.s.user", "unknown key for a bearer credential");
    EXPECT_ERROR("http:\n  credentials:\n    \"a b\": {type: bearer, token_env: T}\n",
                 "http.credentials.a b", "credential names");
    EXPECT_ERROR("http:\n  credentials:\n    s: T\n", "http.credentials", "must be a mapping");
}

int main(void)
{
    unsetenv("DRUDGE_CONFIG");
    unsetenv("DRUDGE_REDIS_URL");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_http_config_defaults),
        cmocka_unit_test(test_http_config_full_section),
        cmocka_unit_test(test_http_config_bad_values),
        cmocka_unit_test(test_http_config_credentials_hold_no_secrets),
        cmocka_unit_test(test_http_config_credential_shapes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
