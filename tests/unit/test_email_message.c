/* test_email_message.c - unit tests for src/workers/email/message.c: a job's
 * JSON as a checked message - every field, the typo check, the limits, the
 * from policy, extra headers - and the envelope recipients.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../src/workers/email/email.h"

static email_address default_from;
static char *allowed[] = {"*@billing.example.com"};

static email_policy policy(void)
{
    email_policy p = {
        .default_from = &default_from,
        .allowed_from = allowed,
        .nallowed_from = 1,
        .max_recipients = 5,
        .max_message_bytes = 1000,
    };
    return p;
}

static int setup(void **state)
{
    (void)state;
    char why[128];
    return email_address_parse(&default_from, "App <noreply@example.com>", why, sizeof why);
}

/* Parse JSON text as a job; returns the rc, the reason in why. */
static int parse(const char *json, email_message *m, json_t **job, char *why, size_t whycap)
{
    json_error_t e;
    *job = json_loads(json, JSON_ALLOW_NUL, &e);
    if (*job == NULL)
        print_error("bad test JSON: %s\n", e.text);
    assert_non_null(*job);
    email_policy p = policy();
    return email_message_parse(m, *job, &p, why, whycap);
}

static void assert_refused(const char *json, const char *reason)
{
    email_message m;
    json_t *job;
    char why[512] = "";
    int rc = parse(json, &m, &job, why, sizeof why);
    if (rc != -1)
        print_error("%s unexpectedly accepted\n", json);
    assert_int_equal(rc, -1);
    if (strstr(why, reason) == NULL)
        print_error("reason for %s is \"%s\", wanted \"%s\"\n", json, why, reason);
    assert_non_null(strstr(why, reason));
    assert_null(m.to);
    json_decref(job);
}

#define BASE "\"to\": \"ann@example.com\", \"subject\": \"s\", \"text\": \"t\""

static void test_full_job(void **state)
{
    (void)state;
    email_message m;
    json_t *job;
    char why[512] = "";
    int rc = parse("{\"id\": \"j1\", \"to\": [\"Ann <ann@example.com>\", \"bob@example.com\"],"
                   " \"cc\": \"carl@example.com\", \"bcc\": [], \"reply_to\": \"help@example.com\","
                   " \"from\": \"Billing <inv@billing.example.com>\", \"subject\": \"Grüße\","
                   " \"text\": \"plain\", \"html\": \"<p>x</p>\","
                   " \"attachments\": [{\"path\": \"inv/1.pdf\", \"filename\": \"Rechnung.pdf\","
                   "   \"content_type\": \"application/pdf\"}, {\"path\": \"a/b/notes.txt\"}],"
                   " \"headers\": {\"X-Campaign\": \"nov\"}}",
                   &m, &job, why, sizeof why);
    if (rc != 0)
        print_error("%s\n", why);
    assert_int_equal(rc, 0);
    assert_int_equal(m.nto, 2);
    assert_string_equal(m.to[0].name, "Ann");
    assert_string_equal(m.to[1].addr, "bob@example.com");
    assert_int_equal(m.ncc, 1);
    assert_int_equal(m.nbcc, 0);
    assert_int_equal(m.nreply_to, 1);
    assert_string_equal(m.from.addr, "inv@billing.example.com");
    assert_string_equal(m.subject, "Grüße");
    assert_string_equal(m.text, "plain");
    assert_int_equal(m.html_len, 8);
    assert_int_equal(m.nattachments, 2);
    assert_string_equal(m.attachments[0].filename, "Rechnung.pdf");
    assert_string_equal(m.attachments[1].filename, "notes.txt");
    assert_string_equal(m.attachments[1].content_type, "application/octet-stream");
    assert_int_equal(m.nheaders, 1);
    assert_string_equal(m.headers[0].name, "X-Campaign");
    email_message_release(&m);
    json_decref(job);
}

static void test_defaults_and_nulls(void **state)
{
    (void)state;
    email_message m;
    json_t *job;
    char why[512] = "";
    assert_int_equal(parse("{" BASE ", \"cc\": null, \"html\": null, \"attachments\": null,"
                           " \"headers\": null, \"text\": \"only text\"}",
                           &m, &job, why, sizeof why),
                     0);
    assert_string_equal(m.from.addr, "noreply@example.com");
    assert_string_equal(m.from.name, "App");
    assert_null(m.html);
    assert_int_equal(m.ncc, 0);
    email_message_release(&m);
    json_decref(job);
}

static void test_typos_and_missing_fields(void **state)
{
    (void)state;
    assert_refused("{" BASE ", \"bbc\": \"x@example.com\"}", "unknown field \"bbc\"");
    assert_refused("{" BASE ", \"attachments\": [{\"path\": \"a\", \"mime\": \"x\"}]}",
                   "unknown field \"mime\"");
    assert_refused("{\"to\": \"a@example.com\", \"text\": \"t\"}", "subject is missing");
    assert_refused("{\"subject\": \"s\", \"text\": \"t\"}", "no recipients");
    assert_refused("{\"to\": [], \"cc\": null, \"subject\": \"s\", \"text\": \"t\"}",
                   "no recipients");
    assert_refused("{\"to\": \"a@example.com\", \"subject\": \"s\"}", "empty body");
    assert_refused(
        "{\"to\": \"a@example.com\", \"subject\": \"s\", \"text\": \"\", \"html\": \"\"}",
        "empty body");
    assert_refused("{" BASE ", \"attachments\": [{\"filename\": \"a.pdf\"}]}", "has no path");
    assert_refused("[1]", "JSON object");
}

static void test_types(void **state)
{
    (void)state;
    assert_refused("{\"to\": 5, \"subject\": \"s\", \"text\": \"t\"}", "address or a list");
    assert_refused("{\"to\": [5], \"subject\": \"s\", \"text\": \"t\"}", "to[0] must be a string");
    assert_refused("{\"to\": \"a@example.com\", \"subject\": [], \"text\": \"t\"}",
                   "subject must be a string");
    assert_refused("{" BASE ", \"headers\": [\"X-A: b\"]}", "headers must be an object");
    assert_refused("{" BASE ", \"attachments\": {\"path\": \"a\"}}", "attachments must be a list");
    assert_refused("{" BASE ", \"html\": 3}", "html must be a string");
}

static void test_header_injection_is_refused_everywhere(void **state)
{
    (void)state;
    assert_refused(
        "{\"to\": \"a@example.com\", \"subject\": \"s\\r\\nBcc: x@y.z\", \"text\": \"t\"}",
        "subject \"s\\r\\nBcc: x@y.z\" contains CR or LF");
    assert_refused("{\"to\": \"a@example.com\\nBcc: x@y.z\", \"subject\": \"s\", \"text\": \"t\"}",
                   "CR or LF");
    assert_refused("{" BASE ", \"reply_to\": [\"a@example.com\\r\"]}", "reply_to[0]");
    assert_refused("{" BASE ", \"from\": \"x\\n <inv@billing.example.com>\"}", "CR or LF");
    assert_refused("{" BASE ", \"headers\": {\"X-A\": \"v\\nBcc: x@y.z\"}}", "CR or LF");
    assert_refused("{" BASE ", \"headers\": {\"X-A\\nB\": \"v\"}}", "header name");
    assert_refused("{" BASE
                   ", \"attachments\": [{\"path\": \"a\", \"filename\": \"a\\r\\n.pdf\"}]}",
                   "CR or LF");
    assert_refused("{" BASE ", \"attachments\": [{\"path\": \"a\", \"content_type\": "
                   "\"text/plain\\r\\nX: y\"}]}",
                   "type/subtype");
    assert_refused("{\"to\": \"a@example.com\", \"text\": \"t\", \"subject\": \"a\\u0000b\"}",
                   "subject contains a NUL");
}

static void test_limits(void **state)
{
    (void)state;
    /* max_recipients is 5 here: to + cc + bcc */
    assert_refused("{\"to\": [\"a@example.com\", \"b@example.com\"], \"cc\": [\"c@example.com\","
                   " \"d@example.com\"], \"bcc\": [\"e@example.com\", \"f@example.com\"],"
                   " \"subject\": \"s\", \"text\": \"t\"}",
                   "6 recipients, more than email.max_recipients (5)");
    assert_refused("{\"to\": [\"a@e.com\", \"b@e.com\", \"c@e.com\", \"d@e.com\", \"e@e.com\","
                   " \"f@e.com\"], \"subject\": \"s\", \"text\": \"t\"}",
                   "more than email.max_recipients");
    /* max_message_bytes is 1000 */
    char json[1400];
    char body[1100];
    memset(body, 'x', 1001);
    body[1001] = '\0';
    snprintf(json, sizeof json, "{\"to\": \"a@example.com\", \"subject\": \"s\", \"text\": \"%s\"}",
             body);
    assert_refused(json, "max_message_bytes");
}

static void test_from_policy(void **state)
{
    (void)state;
    email_message m;
    json_t *job;
    char why[512] = "";
    assert_refused("{" BASE ", \"from\": \"ceo@example.com\"}",
                   "from \"ceo@example.com\" is not allowed");
    assert_refused("{" BASE ", \"from\": \"x@billing.example.com.evil\"}", "not allowed");
    /* the configured address itself, under another name, is fine */
    assert_int_equal(
        parse("{" BASE ", \"from\": \"Someone <NOREPLY@example.com>\"}", &m, &job, why, sizeof why),
        0);
    assert_string_equal(m.from.name, "Someone");
    email_message_release(&m);
    json_decref(job);
}

static void test_extra_headers(void **state)
{
    (void)state;
    const char *managed[] = {
        "From",     "to",         "CC",           "Bcc",          "Subject",
        "Date",     "Message-ID", "MIME-Version", "Content-Type", "content-transfer-encoding",
        "Reply-To", "Sender",     "Return-Path"};
    for (size_t i = 0; i < sizeof managed / sizeof managed[0]; i++) {
        char json[256];
        snprintf(json, sizeof json, "{" BASE ", \"headers\": {\"%s\": \"x\"}}", managed[i]);
        assert_refused(json, "is set by drudge-email");
    }
    assert_refused("{" BASE ", \"headers\": {\"X-A\": \"1\", \"x-a\": \"2\"}}", "given twice");
    assert_refused("{" BASE ", \"headers\": {\"X A\": \"1\"}}", "header name");
    assert_refused("{" BASE ", \"headers\": {\"\": \"1\"}}", "header name");
    assert_refused("{" BASE ", \"headers\": {\"X-A\": 1}}", "must be a string");
}

static void test_attachment_paths_are_checked(void **state)
{
    (void)state;
    assert_refused("{" BASE ", \"attachments\": [{\"path\": \"/etc/passwd\"}]}", "relative");
    assert_refused("{" BASE ", \"attachments\": [{\"path\": \"a/../../b\"}]}", "..");
    assert_refused("{" BASE ", \"attachments\": [{\"path\": \"\"}]}", "empty");
    assert_refused("{" BASE ", \"attachments\": [{\"path\": \"a//b\"}]}", "empty component");
    assert_refused("{" BASE ", \"attachments\": [{\"path\": \"a\", \"content_type\": \"pdf\"}]}",
                   "type/subtype");
    assert_refused("{" BASE ", \"attachments\": [{\"path\": \"a\", \"content_type\": "
                   "\"multipart/mixed\"}]}",
                   "type/subtype");
}

static void test_envelope_recipients_are_unique_in_job_order(void **state)
{
    (void)state;
    email_message m;
    json_t *job;
    char why[512] = "";
    assert_int_equal(parse("{\"to\": [\"b@example.com\", \"a@example.com\"],"
                           " \"cc\": [\"B@EXAMPLE.com\", \"c@example.com\"],"
                           " \"bcc\": \"a@example.com\", \"subject\": \"s\", \"text\": \"t\"}",
                           &m, &job, why, sizeof why),
                     0);
    size_t n = 0;
    const char **rcpt = email_message_recipients(&m, &n);
    assert_non_null(rcpt);
    assert_int_equal(n, 3);
    assert_string_equal(rcpt[0], "b@example.com");
    assert_string_equal(rcpt[1], "a@example.com");
    assert_string_equal(rcpt[2], "c@example.com");
    free(rcpt);
    email_message_release(&m);
    json_decref(job);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_job),
        cmocka_unit_test(test_defaults_and_nulls),
        cmocka_unit_test(test_typos_and_missing_fields),
        cmocka_unit_test(test_types),
        cmocka_unit_test(test_header_injection_is_refused_everywhere),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_from_policy),
        cmocka_unit_test(test_extra_headers),
        cmocka_unit_test(test_attachment_paths_are_checked),
        cmocka_unit_test(test_envelope_recipients_are_unique_in_job_order),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
