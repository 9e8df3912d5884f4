/* test_job.c - unit tests for src/lib/job.c: job ids (explicit "id" or the
 * SHA-256 of the payload bytes, as docs/protocol.md promises producers), id
 * and class name checks, and the payload checks a push and a worker apply.
 * The expected hashes were computed with `printf %s '<payload>' | sha256sum`.
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

#define MAX_BYTES ((size_t)1 << 20)

/* The id of a payload given as a C string; asserts success. */
static void assert_id(const char *payload, const json_t *parsed, const char *want)
{
    char id[DRUDGE_ID_MAX + 1];
    char err[256] = "";
    int rc;

    memset(id, 'x', sizeof id);
    rc = drudge_job_id(payload, strlen(payload), parsed, id, err, sizeof err);
    if (rc != 0)
        print_error("id of %s failed: %s\n", payload, err);
    assert_int_equal(rc, 0);
    assert_string_equal(id, want);
}

/* Asserts that deriving the id fails and the message names the rule. */
static void assert_id_rejected(const char *payload, size_t len, const json_t *parsed)
{
    char id[DRUDGE_ID_MAX + 1] = "";
    char err[256] = "";

    assert_int_equal(drudge_job_id(payload, len, parsed, id, err, sizeof err), -1);
    assert_non_null(strstr(err, "\"id\""));
    assert_non_null(strstr(err, "1-128"));
    assert_non_null(strstr(err, "[A-Za-z0-9_.:-]"));
}

/* A string of n copies of ch (caller frees). */
static char *repeat(char ch, size_t n)
{
    char *s = malloc(n + 1);

    assert_non_null(s);
    memset(s, ch, n);
    s[n] = '\0';
    return s;
}

/* `{"id":"<id>"}` (caller frees). */
static char *payload_with_id(const char *id)
{
    size_t cap = strlen(id) + 16;
    char *s = malloc(cap);

    assert_non_null(s);
    assert_int_equal(drudge__fmt(s, cap, "{\"id\":\"%s\"}", id), 0);
    return s;
}

/* depth nested containers, the outermost an object: {"a":{"a":...{}...}}
 * or, with arrays, {"a":[[...[]...]]}. Caller frees. */
static char *nested(size_t depth, int arrays)
{
    size_t cap = depth * 6 + 16, o = 0;
    char *s = malloc(cap);

    assert_non_null(s);
    if (arrays) {
        o += (size_t)snprintf(s + o, cap - o, "{\"a\":");
        for (size_t i = 1; i < depth; i++)
            s[o++] = '[';
        for (size_t i = 1; i < depth; i++)
            s[o++] = ']';
        s[o++] = '}';
    } else {
        for (size_t i = 1; i < depth; i++)
            o += (size_t)snprintf(s + o, cap - o, "{\"a\":");
        s[o++] = '{';
        for (size_t i = 0; i < depth; i++)
            s[o++] = '}';
    }
    s[o] = '\0';
    return s;
}

/* Parse with drudge_payload_parse(); expect NULL and `want` in the message. */
static void assert_payload_rejected(const char *payload, size_t len, size_t max_bytes,
                                    const char *want)
{
    char err[256] = "";
    json_t *obj = drudge_payload_parse(payload, len, max_bytes, err, sizeof err);

    if (obj != NULL)
        print_error("payload unexpectedly accepted: %.80s\n", payload);
    assert_null(obj);
    if (strstr(err, want) == NULL)
        print_error("message \"%s\" lacks \"%s\"\n", err, want);
    assert_non_null(strstr(err, want));
}

static json_t *payload_ok(const char *payload, size_t len, size_t max_bytes)
{
    char err[256] = "";
    json_t *obj = drudge_payload_parse(payload, len, max_bytes, err, sizeof err);

    if (obj == NULL)
        print_error("payload rejected: %s\n", err);
    assert_non_null(obj);
    assert_true(json_is_object(obj));
    return obj;
}

/* ---- drudge_job_id: hashes ---- */

static void test_job_id_is_sha256_of_payload_bytes(void **state)
{
    (void)state;
    assert_id("{\"n\":1}", NULL,
              "2bfd14f43d17fc7cea24e0917a8879b4b2f880b8baeec1b9d90fbaad655e71bd");
}

static void test_job_id_of_empty_object(void **state)
{
    (void)state;
    assert_id("{}", NULL, "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a");
}

static void test_job_id_hashes_utf8_bytes_as_written(void **state)
{
    (void)state;
    /* {"name":"Zoë ☃ 日本"} in UTF-8 */
    assert_id("{\"name\":\"Zo\xc3\xab \xe2\x98\x83 \xe6\x97\xa5\xe6\x9c\xac\"}", NULL,
              "7b953fe549e1a24868657f15d293721ff1178c49794bb0680773e02a685ba25a");
}

static void test_job_id_hashes_bytes_not_canonical_json(void **state)
{
    (void)state;
    /* Same object as {"n":1}, different bytes, different job. */
    assert_id("{ \"n\": 1 }", NULL,
              "107a74c7a418c31039cf605a03ce82170909e890d5036702927d69223ee771bb");
}

static void test_job_id_hash_is_lowercase_hex_of_64_chars(void **state)
{
    char id[DRUDGE_ID_MAX + 1];
    char err[64];

    (void)state;
    assert_int_equal(drudge_job_id("{\"k\":\"v\"}", 9, NULL, id, err, sizeof err), 0);
    assert_int_equal(strlen(id), 64);
    for (size_t i = 0; i < 64; i++)
        assert_non_null(strchr("0123456789abcdef", id[i]));
    assert_true(drudge_id_valid(id));
}

static void test_job_id_hashes_only_len_bytes(void **state)
{
    char id[DRUDGE_ID_MAX + 1];
    char err[64];
    const char *buf = "{\"n\":1}TRAILING GARBAGE";

    (void)state;
    assert_int_equal(drudge_job_id(buf, 7, NULL, id, err, sizeof err), 0);
    assert_string_equal(id, "2bfd14f43d17fc7cea24e0917a8879b4b2f880b8baeec1b9d90fbaad655e71bd");
}

static void test_job_id_same_with_and_without_parsed_object(void **state)
{
    const char *payload = "{\"n\":1}";
    json_t *obj = json_loads(payload, 0, NULL);

    (void)state;
    assert_non_null(obj);
    assert_id(payload, obj, "2bfd14f43d17fc7cea24e0917a8879b4b2f880b8baeec1b9d90fbaad655e71bd");
    json_decref(obj);

    obj = json_loads("{\"id\":\"job-1\"}", 0, NULL);
    assert_non_null(obj);
    assert_id("{\"id\":\"job-1\"}", obj, "job-1");
    assert_id("{\"id\":\"job-1\"}", NULL, "job-1");
    json_decref(obj);
}

/* ---- drudge_job_id: explicit ids ---- */

static void test_job_id_uses_string_id_verbatim(void **state)
{
    (void)state;
    assert_id("{\"id\":\"order-42\",\"n\":1}", NULL, "order-42");
    assert_id("{\"n\":1,\"id\":\"A.b_c:d-9\"}", NULL, "A.b_c:d-9");
    assert_id("{\"id\":\"7\"}", NULL, "7");
}

static void test_job_id_accepts_id_of_128_chars(void **state)
{
    char *id = repeat('z', 128);
    char *payload = payload_with_id(id);

    (void)state;
    assert_id(payload, NULL, id);
    free(payload);
    free(id);
}

static void test_job_id_ignores_nested_id(void **state)
{
    (void)state;
    /* Only the top-level "id" counts. */
    assert_id("{\"a\":{\"id\":\"inner\"}}", NULL,
              "31728fdbf79f6194f41b4a38aa2f4cf52325a01c74d2589d8833ba8cb58928a0");
}

static void test_job_id_rejects_empty_id(void **state)
{
    const char *p = "{\"id\":\"\"}";

    (void)state;
    assert_id_rejected(p, strlen(p), NULL);
}

static void test_job_id_rejects_id_of_129_chars(void **state)
{
    char *id = repeat('a', 129);
    char *payload = payload_with_id(id);

    (void)state;
    assert_id_rejected(payload, strlen(payload), NULL);
    free(payload);
    free(id);
}

static void test_job_id_rejects_id_with_space(void **state)
{
    const char *p = "{\"id\":\"a b\"}";

    (void)state;
    assert_id_rejected(p, strlen(p), NULL);
}

static void test_job_id_rejects_id_with_slash(void **state)
{
    const char *p = "{\"id\":\"a/b\"}";

    (void)state;
    assert_id_rejected(p, strlen(p), NULL);
}

static void test_job_id_rejects_id_with_non_ascii(void **state)
{
    const char *p = "{\"id\":\"caf\xc3\xa9\"}";

    (void)state;
    assert_id_rejected(p, strlen(p), NULL);
}

static void test_job_id_rejects_id_with_embedded_nul(void **state)
{
    /* A caller that parsed with JSON_ALLOW_NUL hands over "a\0b": the NUL
     * must not cut the id down to "a". */
    const char *p = "{\"id\":\"a\\u0000b\"}";
    json_t *obj = json_loads(p, JSON_ALLOW_NUL, NULL);

    (void)state;
    assert_non_null(obj);
    assert_int_equal(json_string_length(json_object_get(obj, "id")), 3);
    assert_id_rejected(p, strlen(p), obj);
    json_decref(obj);
}

static void test_job_id_of_unparsable_nul_id_is_hash_not_truncated_id(void **state)
{
    /* Parsed by the library itself, \u0000 makes the payload invalid JSON:
     * it has no usable "id", so the id is the hash, never "a". */
    (void)state;
    assert_id("{\"id\":\"a\\u0000b\"}", NULL,
              "368228fc188c36856d013246f4f67626cfe4ed76afb33048d22260ccc01b9849");
}

static void test_job_id_number_id_falls_back_to_hash(void **state)
{
    (void)state;
    assert_id("{\"id\":5,\"n\":1}", NULL,
              "243d66b56ba128e20a6fbf45a417974909084a2d8a8e9493852ec4e957b9f8e9");
}

static void test_job_id_bool_id_falls_back_to_hash(void **state)
{
    (void)state;
    assert_id("{\"id\":true}", NULL,
              "9f391e5c3a1fb729a36c8b9de42b8511edbdfeacfad65741295815a8c3746b83");
}

static void test_job_id_tolerates_null_err_buffer(void **state)
{
    char id[DRUDGE_ID_MAX + 1];

    (void)state;
    /* admin.c and worker.c call it this way. */
    assert_int_equal(drudge_job_id("{\"id\":\"\"}", 9, NULL, id, NULL, 0), -1);
    assert_int_equal(drudge_job_id("{}", 2, NULL, id, NULL, 0), 0);
    assert_string_equal(id, "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a");
}

/* ---- drudge_id_valid / drudge_class_valid ---- */

static void test_id_valid_accepts_allowed_punctuation(void **state)
{
    (void)state;
    assert_true(drudge_id_valid("a"));
    assert_true(drudge_id_valid("_.:-"));
    assert_true(drudge_id_valid("Order_1.2:3-x"));
    assert_true(drudge_id_valid("0123456789"));
    assert_true(drudge_id_valid("ABCXYZabcxyz"));
}

static void test_id_valid_rejects_other_characters(void **state)
{
    static const char *const bad[] = {
        "",     " ",    "a b", "a/b", "a\\b", "a@b", "a#b", "a*b",         "a?b",   "a\tb",
        "a\nb", "a\"b", "a'b", "a{b", "a,b",  "a+b", "a=b", "caf\xc3\xa9", "x\x7f",
    };

    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (drudge_id_valid(bad[i]))
            print_error("id \"%s\" accepted\n", bad[i]);
        assert_false(drudge_id_valid(bad[i]));
        assert_false(drudge_class_valid(bad[i]));
    }
    assert_false(drudge_id_valid(NULL));
    assert_false(drudge_class_valid(NULL));
}

static void test_id_valid_128_chars_ok_129_rejected(void **state)
{
    char *s128 = repeat('a', 128);
    char *s129 = repeat('a', 129);
    char *s1000 = repeat('a', 1000);

    (void)state;
    assert_true(drudge_id_valid(s128));
    assert_false(drudge_id_valid(s129));
    assert_false(drudge_id_valid(s1000));
    free(s128);
    free(s129);
    free(s1000);
}

static void test_class_valid_128_chars_ok_129_rejected(void **state)
{
    char *s128 = repeat('J', 128);
    char *s129 = repeat('J', 129);

    (void)state;
    assert_true(drudge_class_valid("ImageJob"));
    assert_true(drudge_class_valid("App::Mail.v2_hi-pri"));
    assert_true(drudge_class_valid(s128));
    assert_false(drudge_class_valid(s129));
    assert_false(drudge_class_valid(""));
    assert_false(drudge_class_valid("Image Job"));
    assert_false(drudge_class_valid("Image/Job"));
    free(s128);
    free(s129);
}

/* ---- drudge_payload_parse ---- */

static void test_payload_object_accepted(void **state)
{
    const char *p = "{\"input\":\"a.jpg\",\"output\":\"a.webp\",\"n\":[1,2,{\"x\":null}]}";
    json_t *obj = payload_ok(p, strlen(p), MAX_BYTES);

    (void)state;
    assert_string_equal(json_string_value(json_object_get(obj, "input")), "a.jpg");
    assert_int_equal(json_array_size(json_object_get(obj, "n")), 3);
    json_decref(obj);
}

static void test_payload_empty_object_accepted(void **state)
{
    json_t *obj = payload_ok("{}", 2, MAX_BYTES);

    (void)state;
    assert_int_equal(json_object_size(obj), 0);
    json_decref(obj);
}

static void test_payload_utf8_strings_accepted(void **state)
{
    const char *p =
        "{\"name\":\"Zo\xc3\xab \xe2\x98\x83 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80\"}";
    json_t *obj = payload_ok(p, strlen(p), MAX_BYTES);

    (void)state;
    assert_string_equal(json_string_value(json_object_get(obj, "name")),
                        "Zo\xc3\xab \xe2\x98\x83 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80");
    json_decref(obj);
}

static void test_payload_array_rejected(void **state)
{
    (void)state;
    assert_payload_rejected("[1,2]", 5, MAX_BYTES, "must be a JSON object, got an array");
}

static void test_payload_string_rejected(void **state)
{
    (void)state;
    assert_payload_rejected("\"hello\"", 7, MAX_BYTES, "must be a JSON object, got a string");
}

static void test_payload_number_rejected(void **state)
{
    (void)state;
    assert_payload_rejected("42", 2, MAX_BYTES, "must be a JSON object");
    assert_payload_rejected("null", 4, MAX_BYTES, "must be a JSON object");
}

static void test_payload_invalid_json_rejected(void **state)
{
    (void)state;
    assert_payload_rejected("{\"a\":", 5, MAX_BYTES, "not valid JSON");
    assert_payload_rejected("{a:1}", 5, MAX_BYTES, "not valid JSON");
    assert_payload_rejected("", 0, MAX_BYTES, "not valid JSON");
    assert_payload_rejected("{} {}", 5, MAX_BYTES, "not valid JSON");
    assert_payload_rejected("{\"a\":1,}", 8, MAX_BYTES, "not valid JSON");
}

static void test_payload_invalid_utf8_in_string_rejected(void **state)
{
    (void)state;
    /* a lone continuation byte, a truncated sequence, an overlong '/',
     * and a UTF-16 surrogate encoded in UTF-8 */
    assert_payload_rejected("{\"a\":\"x\x80y\"}", 11, MAX_BYTES, "not valid JSON");
    assert_payload_rejected("{\"a\":\"x\xe2\x98\"}", 11, MAX_BYTES, "not valid JSON");
    assert_payload_rejected("{\"a\":\"\xc0\xaf\"}", 10, MAX_BYTES, "not valid JSON");
    assert_payload_rejected("{\"a\":\"\xed\xa0\x80\"}", 11, MAX_BYTES, "not valid JSON");
}

static void test_payload_invalid_utf8_in_key_rejected(void **state)
{
    (void)state;
    assert_payload_rejected("{\"\xff\":1}", 7, MAX_BYTES, "not valid JSON");
}

static void test_payload_over_max_bytes_rejected(void **state)
{
    const char *p = "{\"n\":12345}"; /* 11 bytes */
    json_t *obj;

    (void)state;
    obj = payload_ok(p, 11, 11); /* exactly at the limit */
    json_decref(obj);
    assert_payload_rejected(p, 11, 10, "payload is 11 bytes, more than the limit of 10");
}

static void test_payload_parses_only_len_bytes(void **state)
{
    json_t *obj = payload_ok("{\"n\":1}garbage", 7, MAX_BYTES);

    (void)state;
    assert_int_equal(json_integer_value(json_object_get(obj, "n")), 1);
    json_decref(obj);
}

static void test_payload_nesting_64_accepted(void **state)
{
    char *objs = nested(64, 0);
    char *arrs = nested(64, 1);
    json_t *obj;

    (void)state;
    obj = payload_ok(objs, strlen(objs), MAX_BYTES);
    json_decref(obj);
    obj = payload_ok(arrs, strlen(arrs), MAX_BYTES);
    json_decref(obj);
    free(objs);
    free(arrs);
}

static void test_payload_nesting_65_rejected(void **state)
{
    char *objs = nested(65, 0);
    char *arrs = nested(65, 1);

    (void)state;
    assert_payload_rejected(objs, strlen(objs), MAX_BYTES, "nests deeper than 64 levels");
    assert_payload_rejected(arrs, strlen(arrs), MAX_BYTES, "nests deeper than 64 levels");
    free(objs);
    free(arrs);
}

static void test_payload_nesting_10000_rejected_without_crash(void **state)
{
    char *objs = nested(10000, 0);
    char *arrs = nested(10000, 1);
    char err[256] = "";

    (void)state;
    /* Whether the JSON parser or the depth check refuses it, it is refused
     * with a message and the process survives. */
    assert_null(drudge_payload_parse(objs, strlen(objs), MAX_BYTES, err, sizeof err));
    assert_true(err[0] != '\0');
    err[0] = '\0';
    assert_null(drudge_payload_parse(arrs, strlen(arrs), MAX_BYTES, err, sizeof err));
    assert_true(err[0] != '\0');
    free(objs);
    free(arrs);
}

static void test_payload_rejection_tolerates_small_err_buffer(void **state)
{
    char err[8];

    (void)state;
    memset(err, 'x', sizeof err);
    assert_null(drudge_payload_parse("[1]", 3, MAX_BYTES, err, sizeof err));
    assert_int_equal(strlen(err), sizeof err - 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_job_id_is_sha256_of_payload_bytes),
        cmocka_unit_test(test_job_id_of_empty_object),
        cmocka_unit_test(test_job_id_hashes_utf8_bytes_as_written),
        cmocka_unit_test(test_job_id_hashes_bytes_not_canonical_json),
        cmocka_unit_test(test_job_id_hash_is_lowercase_hex_of_64_chars),
        cmocka_unit_test(test_job_id_hashes_only_len_bytes),
        cmocka_unit_test(test_job_id_same_with_and_without_parsed_object),
        cmocka_unit_test(test_job_id_uses_string_id_verbatim),
        cmocka_unit_test(test_job_id_accepts_id_of_128_chars),
        cmocka_unit_test(test_job_id_ignores_nested_id),
        cmocka_unit_test(test_job_id_rejects_empty_id),
        cmocka_unit_test(test_job_id_rejects_id_of_129_chars),
        cmocka_unit_test(test_job_id_rejects_id_with_space),
        cmocka_unit_test(test_job_id_rejects_id_with_slash),
        cmocka_unit_test(test_job_id_rejects_id_with_non_ascii),
        cmocka_unit_test(test_job_id_rejects_id_with_embedded_nul),
        cmocka_unit_test(test_job_id_of_unparsable_nul_id_is_hash_not_truncated_id),
        cmocka_unit_test(test_job_id_number_id_falls_back_to_hash),
        cmocka_unit_test(test_job_id_bool_id_falls_back_to_hash),
        cmocka_unit_test(test_job_id_tolerates_null_err_buffer),
        cmocka_unit_test(test_id_valid_accepts_allowed_punctuation),
        cmocka_unit_test(test_id_valid_rejects_other_characters),
        cmocka_unit_test(test_id_valid_128_chars_ok_129_rejected),
        cmocka_unit_test(test_class_valid_128_chars_ok_129_rejected),
        cmocka_unit_test(test_payload_object_accepted),
        cmocka_unit_test(test_payload_empty_object_accepted),
        cmocka_unit_test(test_payload_utf8_strings_accepted),
        cmocka_unit_test(test_payload_array_rejected),
        cmocka_unit_test(test_payload_string_rejected),
        cmocka_unit_test(test_payload_number_rejected),
        cmocka_unit_test(test_payload_invalid_json_rejected),
        cmocka_unit_test(test_payload_invalid_utf8_in_string_rejected),
        cmocka_unit_test(test_payload_invalid_utf8_in_key_rejected),
        cmocka_unit_test(test_payload_over_max_bytes_rejected),
        cmocka_unit_test(test_payload_parses_only_len_bytes),
        cmocka_unit_test(test_payload_nesting_64_accepted),
        cmocka_unit_test(test_payload_nesting_65_rejected),
        cmocka_unit_test(test_payload_nesting_10000_rejected_without_crash),
        cmocka_unit_test(test_payload_rejection_tolerates_small_err_buffer),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
