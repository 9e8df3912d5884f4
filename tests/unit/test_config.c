/* test_config.c - the YAML configuration loader (src/lib/config.c): defaults,
 * a full file, rates, per-class overlay, environment overrides and the error
 * messages (file, line and key) for every kind of mistake. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "drudge.h"

static int clear_env(void **state)
{
    (void)state;
    unsetenv("DRUDGE_CONFIG");
    unsetenv("DRUDGE_REDIS_URL");
    return 0;
}

static drudge_config *load_ok(const char *yaml)
{
    char err[512] = "";
    drudge_config *cfg = drudge_config_load_string(yaml, "x.yaml", err, sizeof err);
    if (cfg == NULL)
        fail_msg("unexpected error: %s", err);
    return cfg;
}

/* Loading yaml must fail with a message containing every one of want[]. */
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

static void assert_defaults(const drudge_config *cfg)
{
    assert_string_equal(cfg->redis_url, "redis://127.0.0.1:6379/0");
    assert_true(cfg->connect_timeout == 2);
    assert_true(cfg->command_timeout == 5);
    assert_string_equal(cfg->namespace_, "");
    assert_true(cfg->heartbeat == 5);
    assert_true(cfg->dead_after == 30);
    assert_true(cfg->drain_timeout == 25);
    assert_int_equal(cfg->max_jobs, 0);
    assert_true(cfg->max_runtime == 0);
    assert_int_equal(cfg->max_rss_mb, 0);
    assert_int_equal(cfg->max_payload_bytes, 1048576);
    assert_true(cfg->progress_interval == 0.25);
    assert_string_equal(cfg->log_level, "info");
    assert_int_equal(cfg->nclasses, 0);
    assert_int_equal(cfg->nschedule, 0);
    assert_string_equal(cfg->image_input_dir, "var/uploads");
    assert_string_equal(cfg->image_output_dir, "var/out");
    assert_int_equal(cfg->image_nallowed_formats, 4);
    assert_string_equal(cfg->image_allowed_formats[0], "jpeg");
    assert_string_equal(cfg->image_allowed_formats[1], "png");
    assert_string_equal(cfg->image_allowed_formats[2], "gif");
    assert_string_equal(cfg->image_allowed_formats[3], "webp");
    assert_string_equal(cfg->email_smtp_url, "smtp://127.0.0.1:25");
    assert_string_equal(cfg->email_from, "drudge <noreply@localhost>");
    assert_string_equal(cfg->email_attachments_dir, "var/out");
    assert_string_equal(cfg->pdf_chromium, "auto");
    assert_string_equal(cfg->pdf_output_dir, "var/out");
    assert_true(cfg->http_host_rate == 5);
    assert_string_equal(cfg->web_listen, "127.0.0.1:8080");
}

static void test_no_file_gives_defaults(void **state)
{
    (void)state;
    char err[256] = "";
    drudge_config *cfg = drudge_config_load(NULL, err, sizeof err);
    assert_non_null(cfg);
    assert_null(cfg->path);
    assert_defaults(cfg);
    drudge_config_free(cfg);
}

static void test_empty_and_comment_only_files_give_defaults(void **state)
{
    (void)state;
    const char *texts[] = {"", "# nothing set\n", "---\n", "~\n", "worker:\nimage:\n"};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        drudge_config *cfg = load_ok(texts[i]);
        assert_defaults(cfg);
        drudge_config_free(cfg);
    }
}

static const char full_yaml[] =
    "redis:\n"
    "  url: redis://:secret@10.0.0.5:6380/2\n"
    "  connect_timeout: 1.5\n"
    "  command_timeout: 10\n"
    "namespace: prod\n"
    "worker:\n"
    "  heartbeat: 3\n"
    "  dead_after: 20\n"
    "  drain_timeout: 40\n"
    "  max_jobs: 1000\n"
    "  max_runtime: 3600\n"
    "  max_rss_mb: 512\n"
    "  max_payload_bytes: 65536\n"
    "  progress_interval: 0.5\n"
    "  log_level: debug\n"
    "classes:\n"
    "  ImageJob:\n"
    "    max_attempts: 7\n"
    "    backoff: {base: 1.5, cap: 600}\n"
    "    timeout: 90\n"
    "    isolation: fork\n"
    "    rate: 20/s\n"
    "    status_ttl: 3600\n"
    "    failed_max: 500\n"
    "  PdfJob:\n"
    "    isolation: inprocess\n"
    "  Bare.Job:\n"
    "image: {input_dir: /srv/in, output_dir: /srv/out, allowed_formats: [png, webp]}\n"
    "email: {smtp_url: 'smtp://mail:2525', from: \"App <noreply@example.com>\", "
    "attachments_dir: /srv/att}\n"
    "pdf:   {chromium: /opt/chrome, output_dir: /srv/pdf}\n"
    "http:  {host_rate: 120/min}\n"
    "schedule:\n"
    "  - {name: nightly-report, cron: \"0 2 * * *\", class: PdfJob,\n"
    "     payload: {url: \"http://app/report\", pages: 3, scale: 1.5, landscape: true,\n"
    "               note: ~, tags: [a, \"7\", 8], zip: '02134'}}\n"
    "  - name: hourly\n"
    "    cron: \"@hourly\"\n"
    "    class: ImageJob\n"
    "    timezone: Europe/Berlin\n"
    "    catch_up: no\n"
    "web:   {listen: 0.0.0.0:9090}\n";

static void test_full_file_sets_every_section(void **state)
{
    (void)state;
    drudge_config *cfg = load_ok(full_yaml);

    assert_string_equal(cfg->redis_url, "redis://:secret@10.0.0.5:6380/2");
    assert_true(cfg->connect_timeout == 1.5);
    assert_true(cfg->command_timeout == 10);
    assert_string_equal(cfg->namespace_, "prod");
    assert_true(cfg->heartbeat == 3);
    assert_true(cfg->dead_after == 20);
    assert_true(cfg->drain_timeout == 40);
    assert_int_equal(cfg->max_jobs, 1000);
    assert_true(cfg->max_runtime == 3600);
    assert_int_equal(cfg->max_rss_mb, 512);
    assert_int_equal(cfg->max_payload_bytes, 65536);
    assert_true(cfg->progress_interval == 0.5);
    assert_string_equal(cfg->log_level, "debug");

    assert_int_equal(cfg->nclasses, 3);
    const drudge_class_config *img = &cfg->classes[0];
    assert_string_equal(img->name, "ImageJob");
    assert_int_equal(img->max_attempts, 7);
    assert_true(img->backoff_base == 1.5);
    assert_true(img->backoff_cap == 600);
    assert_true(img->timeout == 90);
    assert_int_equal(img->isolation, DRUDGE_ISOLATION_FORK);
    assert_true(img->rate == 20);
    assert_int_equal(img->status_ttl, 3600);
    assert_int_equal(img->failed_max, 500);
    assert_int_equal(img->set_mask, DRUDGE_CLASS_SET_MAX_ATTEMPTS | DRUDGE_CLASS_SET_BACKOFF |
                                        DRUDGE_CLASS_SET_TIMEOUT | DRUDGE_CLASS_SET_ISOLATION |
                                        DRUDGE_CLASS_SET_RATE | DRUDGE_CLASS_SET_STATUS_TTL |
                                        DRUDGE_CLASS_SET_FAILED_MAX);
    assert_string_equal(cfg->classes[1].name, "PdfJob");
    assert_int_equal(cfg->classes[1].isolation, DRUDGE_ISOLATION_INPROCESS);
    assert_int_equal(cfg->classes[1].set_mask, DRUDGE_CLASS_SET_ISOLATION);
    assert_string_equal(cfg->classes[2].name, "Bare.Job");
    assert_int_equal(cfg->classes[2].set_mask, 0);

    assert_string_equal(cfg->image_input_dir, "/srv/in");
    assert_string_equal(cfg->image_output_dir, "/srv/out");
    assert_int_equal(cfg->image_nallowed_formats, 2);
    assert_string_equal(cfg->image_allowed_formats[0], "png");
    assert_string_equal(cfg->image_allowed_formats[1], "webp");
    assert_string_equal(cfg->email_smtp_url, "smtp://mail:2525");
    assert_string_equal(cfg->email_from, "App <noreply@example.com>");
    assert_string_equal(cfg->email_attachments_dir, "/srv/att");
    assert_string_equal(cfg->pdf_chromium, "/opt/chrome");
    assert_string_equal(cfg->pdf_output_dir, "/srv/pdf");
    assert_true(cfg->http_host_rate == 2);
    assert_string_equal(cfg->web_listen, "0.0.0.0:9090");

    assert_int_equal(cfg->nschedule, 2);
    const drudge_schedule_entry *e = &cfg->schedule[0];
    assert_string_equal(e->name, "nightly-report");
    assert_string_equal(e->cron, "0 2 * * *");
    assert_string_equal(e->class_name, "PdfJob");
    assert_string_equal(e->payload, "{\"url\":\"http://app/report\",\"pages\":3,\"scale\":1.5,"
                                    "\"landscape\":true,\"note\":null,\"tags\":[\"a\",\"7\",8],"
                                    "\"zip\":\"02134\"}");
    assert_string_equal(e->timezone, "UTC");
    assert_int_equal(e->catch_up, 1);
    e = &cfg->schedule[1];
    assert_string_equal(e->name, "hourly");
    assert_string_equal(e->cron, "@hourly");
    assert_string_equal(e->class_name, "ImageJob");
    assert_string_equal(e->payload, "{}");
    assert_string_equal(e->timezone, "Europe/Berlin");
    assert_int_equal(e->catch_up, 0);
    assert_null(cfg->path);
    drudge_config_free(cfg);
}

static double class_rate(const char *rate)
{
    char yaml[128];
    snprintf(yaml, sizeof yaml, "classes:\n  A:\n    rate: %s\n", rate);
    drudge_config *cfg = load_ok(yaml);
    double r = cfg->classes[0].rate;
    drudge_config_free(cfg);
    return r;
}

static void test_rate_accepts_per_second_minute_hour_and_plain_numbers(void **state)
{
    (void)state;
    assert_true(class_rate("20/s") == 20);
    assert_true(class_rate("600/min") == 10);
    assert_true(class_rate("3600/h") == 1);
    assert_true(class_rate("5") == 5);
    assert_true(class_rate("0.5") == 0.5);
    assert_true(class_rate("30/min") == 0.5);
    assert_true(class_rate("0") == 0);
    assert_true(class_rate("\"20/s\"") == 20);
}

static void test_rate_rejects_unknown_units_and_negatives(void **state)
{
    (void)state;
    const char *bad[] = {"5/d", "-1/s", "fast", "/s", "5/", "20 /s", "1e7/s"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char yaml[128], got[64];
        snprintf(yaml, sizeof yaml, "classes:\n  A:\n    rate: %s\n", bad[i]);
        snprintf(got, sizeof got, "got \"%s\"", bad[i]);
        EXPECT_ERROR(yaml, "conf/x.yaml:3: classes.A.rate: must be a rate such as 20/s", got);
    }
    EXPECT_ERROR("http:\n  host_rate: lots\n", "conf/x.yaml:2: http.host_rate: must be a rate");
}

static void test_unknown_top_level_key_is_an_error(void **state)
{
    (void)state;
    EXPECT_ERROR("redis:\n  url: redis://h:1/0\nwokrer:\n  heartbeat: 5\n",
                 "conf/x.yaml:3: wokrer: unknown key");
}

static void test_unknown_nested_key_is_an_error(void **state)
{
    (void)state;
    EXPECT_ERROR("worker:\n  heartbeat: 5\n  heartbat: 5\n",
                 "conf/x.yaml:3: worker.heartbat: unknown key");
    EXPECT_ERROR("classes:\n  ImageJob:\n    max_attempts: 3\n    retries: 4\n",
                 "conf/x.yaml:4: classes.ImageJob.retries: unknown key");
    EXPECT_ERROR("classes:\n  A:\n    backoff:\n      base: 1\n      ceiling: 9\n",
                 "conf/x.yaml:5: classes.A.backoff.ceiling: unknown key");
    EXPECT_ERROR("schedule:\n  - name: a\n    cron: '* * * * *'\n    class: A\n    every: 5\n",
                 "conf/x.yaml:5: schedule[0].every: unknown key");
}

static void test_wrong_type_is_an_error(void **state)
{
    (void)state;
    /* A mapping where a number belongs: the key's line. */
    EXPECT_ERROR("worker:\n  heartbeat:\n    seconds: 5\n",
                 "conf/x.yaml:2: worker.heartbeat: must be a number of seconds", "got a mapping");
    /* A scalar where a section belongs. */
    EXPECT_ERROR("namespace: a\nredis: localhost\n",
                 "conf/x.yaml:2: redis: must be a mapping, got \"localhost\"");
    EXPECT_ERROR("image:\n  allowed_formats: png\n",
                 "conf/x.yaml:2: image.allowed_formats: must be a list of strings");
    EXPECT_ERROR("image:\n  allowed_formats: [png, {a: 1}]\n",
                 "conf/x.yaml:2: image.allowed_formats[1]: must be a non-empty string");
    EXPECT_ERROR("web:\n  listen: [a, b]\n",
                 "conf/x.yaml:2: web.listen: must be a non-empty string", "got a list");
    EXPECT_ERROR("classes: [A, B]\n", "conf/x.yaml:1: classes: must be a mapping");
    EXPECT_ERROR("schedule: {name: a}\n", "conf/x.yaml:1: schedule: must be a list of mappings");
    EXPECT_ERROR("schedule:\n  - daily\n", "conf/x.yaml:2: schedule[0]: must be a mapping");
    EXPECT_ERROR("schedule:\n  - {name: a, cron: '* * * * *', class: A, catch_up: maybe}\n",
                 "conf/x.yaml:2: schedule[0].catch_up: must be true or false, got \"maybe\"");
    EXPECT_ERROR("schedule:\n  - {name: a, cron: '* * * * *', class: A, payload: [1]}\n",
                 "conf/x.yaml:2: schedule[0].payload: must be a mapping, got a list");
    EXPECT_ERROR("worker:\n  heartbeat:\n", "conf/x.yaml:2: worker.heartbeat:", "got null");
    EXPECT_ERROR("[1, 2]\n", "conf/x.yaml:1: the top level must be a mapping");
    EXPECT_ERROR("worker:\n  max_jobs: 1.5\n",
                 "conf/x.yaml:2: worker.max_jobs: must be an integer from 0 to");
}

static void test_out_of_range_is_an_error(void **state)
{
    (void)state;
    const char *head = "# classes\nclasses:\n  ImageJob:\n";
    char yaml[256];
    snprintf(yaml, sizeof yaml, "%s    max_attempts: zero\n", head);
    EXPECT_ERROR(yaml, "conf/x.yaml:4: classes.ImageJob.max_attempts: must be an integer from 1 "
                       "to 1000, got \"zero\"");
    snprintf(yaml, sizeof yaml, "%s    max_attempts: 1001\n", head);
    EXPECT_ERROR(yaml, "conf/x.yaml:4: classes.ImageJob.max_attempts:", "got \"1001\"");
    snprintf(yaml, sizeof yaml, "%s    timeout: 0\n", head);
    EXPECT_ERROR(yaml, "conf/x.yaml:4: classes.ImageJob.timeout: must be a number of seconds "
                       "greater than 0");
    snprintf(yaml, sizeof yaml, "%s    timeout: 86401\n", head);
    EXPECT_ERROR(yaml, "conf/x.yaml:4: classes.ImageJob.timeout:");
    snprintf(yaml, sizeof yaml, "%s    status_ttl: 0\n", head);
    EXPECT_ERROR(yaml, "conf/x.yaml:4: classes.ImageJob.status_ttl:");
    snprintf(yaml, sizeof yaml, "%s    failed_max: 10000001\n", head);
    EXPECT_ERROR(yaml, "conf/x.yaml:4: classes.ImageJob.failed_max:");
    snprintf(yaml, sizeof yaml, "%s    backoff: {base: 0}\n", head);
    EXPECT_ERROR(yaml, "conf/x.yaml:4: classes.ImageJob.backoff.base:");
    snprintf(yaml, sizeof yaml, "%s    backoff:\n      base: 60\n      cap: 10\n", head);
    EXPECT_ERROR(yaml, "conf/x.yaml:6: classes.ImageJob.backoff.cap: must be at least base (60)");
    /* base alone above the default cap (300) */
    snprintf(yaml, sizeof yaml, "%s    backoff: {base: 600}\n", head);
    EXPECT_ERROR(yaml, "conf/x.yaml:4: classes.ImageJob.backoff.base: must be at most cap (300");
    EXPECT_ERROR("worker:\n  heartbeat: -1\n", "conf/x.yaml:2: worker.heartbeat:", "got \"-1\"");
    EXPECT_ERROR("worker:\n  max_payload_bytes: -5\n", "conf/x.yaml:2: worker.max_payload_bytes:");
    EXPECT_ERROR("worker:\n  drain_timeout: nan\n", "conf/x.yaml:2: worker.drain_timeout:");
    EXPECT_ERROR("worker:\n  heartbeat: 10\n  dead_after: 10\n",
                 "conf/x.yaml:3: worker.dead_after: must be greater than worker.heartbeat");
    EXPECT_ERROR("web:\n  listen: localhost\n", "conf/x.yaml:2: web.listen: must be host:port");
    EXPECT_ERROR("web:\n  listen: 'h:70000'\n", "conf/x.yaml:2: web.listen:");
}

static void test_bad_isolation_is_an_error(void **state)
{
    (void)state;
    EXPECT_ERROR("classes:\n  ImageJob:\n    timeout: 5\n    isolation: thread\n",
                 "conf/x.yaml:4: classes.ImageJob.isolation: must be fork or inprocess, got "
                 "\"thread\"");
}

static void test_bad_class_name_is_an_error(void **state)
{
    (void)state;
    EXPECT_ERROR("classes:\n  Good: {}\n  Image Job:\n    timeout: 5\n",
                 "conf/x.yaml:3: classes: invalid class name \"Image Job\"");
    EXPECT_ERROR("schedule:\n  - {name: a, cron: '* * * * *', class: 'a/b'}\n",
                 "conf/x.yaml:2: schedule[0].class: invalid class name \"a/b\"");
    EXPECT_ERROR("classes:\n  A: {}\n  B: {}\n  A: {}\n",
                 "conf/x.yaml:4: classes.A: duplicate class (first at line 2)");
}

static void test_malformed_yaml_is_an_error(void **state)
{
    (void)state;
    EXPECT_ERROR("worker:\n  heartbeat: 5\n  dead_after: [1, 2\n",
                 "conf/x.yaml:4:", "invalid YAML");
    EXPECT_ERROR("worker:\n  heartbeat: 5\n    dead_after: 3\n", "conf/x.yaml:3: invalid YAML");
    EXPECT_ERROR("namespace: a\n---\nnamespace: b\n", "conf/x.yaml:2: only one YAML document");
    EXPECT_ERROR("redis: {url: redis://h/0}\nworker: *nope\n", "conf/x.yaml:2:", "invalid YAML");
    EXPECT_ERROR("namespace: a\nnamespace: b\n",
                 "conf/x.yaml:2: namespace: duplicate key (first at line 1)");
    EXPECT_ERROR("? [a]\n: 1\n", "conf/x.yaml:1:", "keys must be plain strings");
    EXPECT_ERROR("namespace: \"a\\0b\"\n", "conf/x.yaml:1: namespace: must not contain NUL");
    EXPECT_ERROR("namespace: \"\xff\"\n", "conf/x.yaml:1:", "invalid input");
}

static void test_duplicate_schedule_name_is_an_error(void **state)
{
    (void)state;
    EXPECT_ERROR("schedule:\n"
                 "  - {name: nightly, cron: '0 2 * * *', class: PdfJob}\n"
                 "  - name: hourly\n"
                 "    cron: '@hourly'\n"
                 "    class: PdfJob\n"
                 "  - cron: '0 3 * * *'\n"
                 "    class: PdfJob\n"
                 "    name: nightly\n",
                 "conf/x.yaml:8: schedule[2].name: duplicate schedule entry name \"nightly\" "
                 "(first at line 2)");
}

static void test_missing_schedule_field_is_an_error(void **state)
{
    (void)state;
    EXPECT_ERROR("schedule:\n  - name: nightly\n    class: PdfJob\n",
                 "conf/x.yaml:2: schedule[0].cron: required key is missing");
    EXPECT_ERROR("schedule:\n  - {cron: '* * * * *', class: A}\n",
                 "conf/x.yaml:2: schedule[0].name: required key is missing");
    EXPECT_ERROR("schedule:\n  - {name: n, cron: '* * * * *'}\n",
                 "conf/x.yaml:2: schedule[0].class: required key is missing");
    EXPECT_ERROR("schedule:\n  - {name: 'bad name', cron: '* * * * *', class: A}\n",
                 "conf/x.yaml:2: schedule[0].name: must be 1-128 characters");
    EXPECT_ERROR("schedule:\n  - {name: n, cron: '', class: A}\n",
                 "conf/x.yaml:2: schedule[0].cron: must be a non-empty string");
    EXPECT_ERROR("schedule:\n  - {name: n, cron: '* * * * *', class: A, timezone: ../etc/x}\n",
                 "conf/x.yaml:2: schedule[0].timezone:");
}

static void test_schedule_payload_is_checked(void **state)
{
    (void)state;
    EXPECT_ERROR("schedule:\n  - name: n\n    cron: '* * * * *'\n    class: A\n"
                 "    payload:\n      id: 'not valid!'\n",
                 "conf/x.yaml:5: schedule[0].payload: payload \"id\" must be");
    /* The size limit applies wherever worker.max_payload_bytes is written. */
    EXPECT_ERROR("schedule:\n  - name: n\n    cron: '* * * * *'\n    class: A\n"
                 "    payload: {text: 'a rather long string'}\n"
                 "worker: {max_payload_bytes: 10}\n",
                 "conf/x.yaml:5: schedule[0].payload:", "more than the limit of 10");
    EXPECT_ERROR("schedule:\n  - {name: n, cron: '* * * * *', class: A, payload: {a: 1, a: 2}}\n",
                 "conf/x.yaml:2: schedule[0].payload.a: duplicate key");
    EXPECT_ERROR("schedule:\n  - {name: n, cron: '* * * * *', class: A, payload: {x: .inf}}\n",
                 "schedule[0].payload.x: JSON has no infinity");
    /* An alias loop must not recurse forever. */
    EXPECT_ERROR("schedule:\n  - {name: n, cron: '* * * * *', class: A, payload: &p {x: *p}}\n",
                 "conf/x.yaml:");
}

static void test_bad_redis_url_and_log_level_name_the_key(void **state)
{
    (void)state;
    EXPECT_ERROR("# redis\nredis:\n  url: http://h/0\n",
                 "conf/x.yaml:3: redis.url: invalid redis url");
    EXPECT_ERROR(
        "worker:\n  log_level: loud\n",
        "conf/x.yaml:2: worker.log_level: must be debug, info, warn or error, got \"loud\"");
    EXPECT_ERROR("namespace: 'a b'\n", "conf/x.yaml:1: namespace: must be empty or 1-128");
    EXPECT_ERROR("pdf:\n  chromium: ''\n", "conf/x.yaml:2: pdf.chromium: must be a non-empty");
    char yaml[1200];
    snprintf(yaml, sizeof yaml, "pdf: {chromium: /%01100d}\n", 0);
    EXPECT_ERROR(yaml, "conf/x.yaml:1: pdf.chromium: is 1101 bytes long, at most 1000");
}

static void test_redis_url_env_overrides_the_file(void **state)
{
    (void)state;
    setenv("DRUDGE_REDIS_URL", "redis://override:6390/3", 1);
    drudge_config *cfg = load_ok("redis:\n  url: redis://file:6379/0\n");
    assert_string_equal(cfg->redis_url, "redis://override:6390/3");
    drudge_config_free(cfg);

    char err[256];
    cfg = drudge_config_load(NULL, err, sizeof err);
    assert_non_null(cfg);
    assert_string_equal(cfg->redis_url, "redis://override:6390/3");
    drudge_config_free(cfg);

    setenv("DRUDGE_REDIS_URL", "", 1); /* empty: ignored */
    cfg = load_ok("redis:\n  url: redis://file:6379/0\n");
    assert_string_equal(cfg->redis_url, "redis://file:6379/0");
    drudge_config_free(cfg);

    setenv("DRUDGE_REDIS_URL", "nonsense", 1);
    assert_null(drudge_config_load_string("", "x.yaml", err, sizeof err));
    assert_non_null(strstr(err, "DRUDGE_REDIS_URL"));
    unsetenv("DRUDGE_REDIS_URL");
}

static void test_class_overlays_only_the_keys_the_file_set(void **state)
{
    (void)state;
    drudge_config *cfg = load_ok("classes:\n"
                                 "  ImageJob:\n"
                                 "    max_attempts: 9\n"
                                 "    backoff: {cap: 50}\n"
                                 "    rate: 600/min\n");
    drudge_class_config worker_defaults, out;
    drudge_class_defaults(&worker_defaults);
    worker_defaults.max_attempts = 3;
    worker_defaults.backoff_base = 4;
    worker_defaults.backoff_cap = 40;
    worker_defaults.timeout = 30;
    worker_defaults.isolation = DRUDGE_ISOLATION_FORK;
    worker_defaults.status_ttl = 600;
    worker_defaults.failed_max = 7;

    drudge_config_class(cfg, "ImageJob", &worker_defaults, &out);
    assert_string_equal(out.name, "ImageJob");
    assert_int_equal(out.max_attempts, 9); /* file */
    assert_true(out.backoff_base == 2);    /* backoff given: library base */
    assert_true(out.backoff_cap == 50);    /* file */
    assert_true(out.rate == 10);           /* file */
    assert_true(out.timeout == 30);        /* worker */
    assert_int_equal(out.isolation, DRUDGE_ISOLATION_FORK);
    assert_int_equal(out.status_ttl, 600);
    assert_int_equal(out.failed_max, 7);
    assert_int_equal(out.set_mask, DRUDGE_CLASS_SET_MAX_ATTEMPTS | DRUDGE_CLASS_SET_BACKOFF |
                                       DRUDGE_CLASS_SET_RATE);

    /* A class the file does not name: the worker's defaults as they are. */
    const char *other = "OtherJob";
    drudge_config_class(cfg, other, &worker_defaults, &out);
    assert_ptr_equal(out.name, other);
    assert_int_equal(out.max_attempts, 3);
    assert_true(out.backoff_base == 4);
    assert_true(out.backoff_cap == 40);
    assert_int_equal(out.set_mask, 0);

    /* No worker defaults: the library's. */
    drudge_config_class(cfg, "OtherJob", NULL, &out);
    assert_int_equal(out.max_attempts, 5);
    assert_true(out.backoff_base == 2);
    assert_true(out.backoff_cap == 300);
    assert_true(out.timeout == 120);
    assert_int_equal(out.isolation, DRUDGE_ISOLATION_INPROCESS);
    assert_true(out.rate == 0);
    assert_int_equal(out.status_ttl, 86400);
    assert_int_equal(out.failed_max, 10000);

    drudge_config_class(cfg, "ImageJob", NULL, &out);
    assert_int_equal(out.max_attempts, 9);
    assert_true(out.timeout == 120);
    drudge_config_free(cfg);
}

static void test_class_defaults_are_documented_values(void **state)
{
    (void)state;
    drudge_class_config c;
    memset(&c, 0xff, sizeof c);
    drudge_class_defaults(&c);
    assert_null(c.name);
    assert_int_equal(c.max_attempts, 5);
    assert_true(c.backoff_base == 2);
    assert_true(c.backoff_cap == 300);
    assert_true(c.timeout == 120);
    assert_int_equal(c.isolation, DRUDGE_ISOLATION_INPROCESS);
    assert_true(c.rate == 0);
    assert_int_equal(c.status_ttl, 86400);
    assert_int_equal(c.failed_max, 10000);
    assert_int_equal(c.set_mask, 0);
}

static char *write_temp(const char *text)
{
    char *path = strdup("/tmp/drudge-config-XXXXXX");
    assert_non_null(path);
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    size_t len = strlen(text);
    assert_int_equal(write(fd, text, len), (ssize_t)len);
    close(fd);
    return path;
}

static void test_file_is_loaded_and_named_in_errors(void **state)
{
    (void)state;
    char err[512] = "";
    char *path = write_temp(full_yaml);
    drudge_config *cfg = drudge_config_load(path, err, sizeof err);
    assert_non_null(cfg);
    assert_string_equal(cfg->path, path);
    assert_int_equal(cfg->nclasses, 3);
    drudge_config_free(cfg);

    /* DRUDGE_CONFIG is used when no path is given. */
    setenv("DRUDGE_CONFIG", path, 1);
    cfg = drudge_config_load(NULL, err, sizeof err);
    assert_non_null(cfg);
    assert_string_equal(cfg->path, path);
    drudge_config_free(cfg);
    unsetenv("DRUDGE_CONFIG");
    unlink(path);
    free(path);

    path = write_temp("redis:\n  url: redis://h/0\nworker:\n  heartbat: 5\n");
    assert_null(drudge_config_load(path, err, sizeof err));
    char want[256];
    snprintf(want, sizeof want, "%s:4: worker.heartbat: unknown key", path);
    assert_string_equal(err, want);
    unlink(path);
    free(path);
}

static void test_missing_file_is_an_error(void **state)
{
    (void)state;
    char err[512] = "";
    assert_null(drudge_config_load("/nonexistent/drudge.yaml", err, sizeof err));
    assert_non_null(strstr(err, "/nonexistent/drudge.yaml"));
    assert_non_null(strstr(err, strerror(ENOENT)));

    assert_null(drudge_config_load("/tmp", err, sizeof err));
    assert_non_null(strstr(err, "/tmp"));
    assert_non_null(strstr(err, strerror(EISDIR)));
}

static void test_error_is_truncated_and_terminated(void **state)
{
    (void)state;
    char err[16];
    memset(err, 'x', sizeof err);
    assert_null(drudge_config_load_string("worker:\n  heartbat: 5\n", "conf/x.yaml", err, 12));
    assert_int_equal(strlen(err), 11);
    assert_int_equal(err[12], 'x');
    assert_null(drudge_config_load_string("wokrer: 1\n", "x.yaml", NULL, 0));
}

static void test_set_string_replaces_and_free_accepts_null(void **state)
{
    (void)state;
    char *field = NULL;
    assert_int_equal(drudge_config_set_string(&field, "a"), 0);
    assert_string_equal(field, "a");
    assert_int_equal(drudge_config_set_string(&field, "bc"), 0);
    assert_string_equal(field, "bc");
    assert_int_equal(drudge_config_set_string(&field, NULL), 0);
    assert_null(field);
    drudge_config_free(NULL);
}

static void test_namespace_may_be_empty_and_booleans_accept_yes_no(void **state)
{
    (void)state;
    drudge_config *cfg = load_ok("namespace:\n"
                                 "schedule:\n"
                                 "  - {name: a, cron: '* * * * *', class: A, catch_up: No}\n"
                                 "  - {name: b, cron: '* * * * *', class: A, catch_up: yes}\n"
                                 "  - {name: c, cron: '* * * * *', class: A, catch_up: FALSE}\n"
                                 "image: {allowed_formats: []}\n");
    assert_string_equal(cfg->namespace_, "");
    assert_int_equal(cfg->schedule[0].catch_up, 0);
    assert_int_equal(cfg->schedule[1].catch_up, 1);
    assert_int_equal(cfg->schedule[2].catch_up, 0);
    assert_int_equal(cfg->image_nallowed_formats, 0);
    drudge_config_free(cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_no_file_gives_defaults, clear_env),
        cmocka_unit_test_setup(test_empty_and_comment_only_files_give_defaults, clear_env),
        cmocka_unit_test_setup(test_full_file_sets_every_section, clear_env),
        cmocka_unit_test_setup(test_rate_accepts_per_second_minute_hour_and_plain_numbers,
                               clear_env),
        cmocka_unit_test_setup(test_rate_rejects_unknown_units_and_negatives, clear_env),
        cmocka_unit_test_setup(test_unknown_top_level_key_is_an_error, clear_env),
        cmocka_unit_test_setup(test_unknown_nested_key_is_an_error, clear_env),
        cmocka_unit_test_setup(test_wrong_type_is_an_error, clear_env),
        cmocka_unit_test_setup(test_out_of_range_is_an_error, clear_env),
        cmocka_unit_test_setup(test_bad_isolation_is_an_error, clear_env),
        cmocka_unit_test_setup(test_bad_class_name_is_an_error, clear_env),
        cmocka_unit_test_setup(test_malformed_yaml_is_an_error, clear_env),
        cmocka_unit_test_setup(test_duplicate_schedule_name_is_an_error, clear_env),
        cmocka_unit_test_setup(test_missing_schedule_field_is_an_error, clear_env),
        cmocka_unit_test_setup(test_schedule_payload_is_checked, clear_env),
        cmocka_unit_test_setup(test_bad_redis_url_and_log_level_name_the_key, clear_env),
        cmocka_unit_test_setup(test_redis_url_env_overrides_the_file, clear_env),
        cmocka_unit_test_setup(test_class_overlays_only_the_keys_the_file_set, clear_env),
        cmocka_unit_test_setup(test_class_defaults_are_documented_values, clear_env),
        cmocka_unit_test_setup(test_file_is_loaded_and_named_in_errors, clear_env),
        cmocka_unit_test_setup(test_missing_file_is_an_error, clear_env),
        cmocka_unit_test_setup(test_error_is_truncated_and_terminated, clear_env),
        cmocka_unit_test_setup(test_set_string_replaces_and_free_accepts_null, clear_env),
        cmocka_unit_test_setup(test_namespace_may_be_empty_and_booleans_accept_yes_no, clear_env),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
