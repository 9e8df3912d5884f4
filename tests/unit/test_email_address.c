/* test_email_address.c - unit tests for src/workers/email/address.c: the
 * mailbox forms a job may write, the addresses refused and why, how a
 * mailbox is written back into a header (atom, quoted string, RFC 2047
 * words, folding), and allowed_from patterns.
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

static email_address parse_ok(const char *text)
{
    email_address a;
    char why[256] = "";
    int rc = email_address_parse(&a, text, why, sizeof why);
    if (rc != 0)
        print_error("parse \"%s\" failed: %s\n", text, why);
    assert_int_equal(rc, 0);
    return a;
}

static void assert_refused(const char *text, const char *reason)
{
    email_address a;
    char why[256] = "";
    int rc = email_address_parse(&a, text, why, sizeof why);
    if (rc != -1)
        print_error("parse \"%s\" unexpectedly succeeded\n", text);
    assert_int_equal(rc, -1);
    if (strstr(why, reason) == NULL)
        print_error("reason for \"%s\" is \"%s\", wanted \"%s\"\n", text, why, reason);
    assert_non_null(strstr(why, reason));
}

static char *formatted(const email_address *a)
{
    strbuf b;
    size_t col = 0;
    strbuf_init(&b, 0);
    email_address_format(&b, &col, a);
    char *s = strbuf_detach(&b, NULL);
    assert_non_null(s);
    return s;
}

/* ---- accepted forms ---- */

static void test_bare_address(void **state)
{
    (void)state;
    email_address a = parse_ok("  ann.lee+tag@mail.example.com ");
    assert_string_equal(a.addr, "ann.lee+tag@mail.example.com");
    assert_string_equal(a.name, "");
    assert_string_equal(email_address_domain(&a), "mail.example.com");
    a = parse_ok("root@localhost");
    assert_string_equal(a.addr, "root@localhost");
}

static void test_name_and_angle_address(void **state)
{
    (void)state;
    email_address a = parse_ok("Ann Müller <ann@example.com>");
    assert_string_equal(a.name, "Ann Müller");
    assert_string_equal(a.addr, "ann@example.com");
    a = parse_ok("\"Doe, Jane \\\"JD\\\"\" <jane@example.com>");
    assert_string_equal(a.name, "Doe, Jane \"JD\"");
    a = parse_ok("<only@example.com>");
    assert_string_equal(a.name, "");
    assert_string_equal(a.addr, "only@example.com");
}

/* ---- refused ---- */

static void test_malformed_addresses_are_refused_with_a_reason(void **state)
{
    (void)state;
    assert_refused("", "empty");
    assert_refused("ann.example.com", "no @");
    assert_refused("a@b@example.com", "more than one @");
    assert_refused("@example.com", "before @ is empty");
    assert_refused(".ann@example.com", "dot before @");
    assert_refused("ann.@example.com", "dot before @");
    assert_refused("an..n@example.com", "dot before @");
    assert_refused("an(n)@example.com", "not allowed before @");
    assert_refused("\"ann\"@example.com", "quoted local parts");
    assert_refused("ann@", "domain is empty");
    assert_refused("ann@example..com", "empty label");
    assert_refused("ann@-example.com", "start with '-'");
    assert_refused("ann@example-.com", "end with '-'");
    assert_refused("ann@exa_mple.com", "not allowed in a domain");
    assert_refused("ann@[127.0.0.1]", "address literals");
    assert_refused("ann@bücher.example", "punycode");
    assert_refused("änn@example.com", "non-ASCII");
    assert_refused("a@b.com, c@d.com", "one address per string");
    assert_refused("Ann <a@b.com> x", "one address per string");
    assert_refused("Ann a@b.com>", "'>' without '<'");
}

static void test_line_breaks_and_controls_are_refused(void **state)
{
    (void)state;
    assert_refused("ann@example.com\r\nBcc: x@example.com", "CR or LF");
    assert_refused("Ann\n <ann@example.com>", "CR or LF");
    assert_refused("Ann\x01 <ann@example.com>", "control character");
    assert_refused("Ann \xff <ann@example.com>", "UTF-8");
}

static void test_length_limits(void **state)
{
    (void)state;
    char local[80], addr[400], name[400];
    memset(local, 'a', 65);
    local[65] = '\0';
    snprintf(addr, sizeof addr, "%s@example.com", local);
    assert_refused(addr, "longer than 64");
    /* a 64-character label */
    snprintf(addr, sizeof addr, "a@%.*s.com", 64,
             "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb");
    assert_refused(addr, "label is longer than 63");
    memset(name, 'n', 300);
    name[300] = '\0';
    char full[500];
    snprintf(full, sizeof full, "%s <a@example.com>", name);
    assert_refused(full, "display name is longer");
    /* 26 labels of 9 + "com": a 263-character domain */
    size_t o = (size_t)snprintf(addr, sizeof addr, "a@");
    for (int i = 0; i < 26; i++)
        o += (size_t)snprintf(addr + o, sizeof addr - o, "abcdefghi.");
    snprintf(addr + o, sizeof addr - o, "com");
    assert_refused(addr, "longer than");
}

/* ---- written back into headers ---- */

static void test_format_picks_atom_quoted_or_encoded_words(void **state)
{
    (void)state;
    email_address a = parse_ok("Ann Lee <ann@example.com>");
    char *s = formatted(&a);
    assert_string_equal(s, "Ann Lee <ann@example.com>");
    free(s);

    a = parse_ok("\"Lee, Ann\" <ann@example.com>");
    s = formatted(&a);
    assert_string_equal(s, "\"Lee, Ann\" <ann@example.com>");
    free(s);

    a = parse_ok("\"Ann \\\"the boss\\\" Lee\" <ann@example.com>");
    s = formatted(&a);
    assert_string_equal(s, "\"Ann \\\"the boss\\\" Lee\" <ann@example.com>");
    free(s);

    a = parse_ok("Ann Müller <ann@example.com>");
    s = formatted(&a);
    assert_string_equal(s, "=?UTF-8?B?QW5uIE3DvGxsZXI=?= <ann@example.com>");
    free(s);

    a = parse_ok("ann@example.com");
    s = formatted(&a);
    assert_string_equal(s, "ann@example.com");
    free(s);
}

static void test_address_header_folds_between_mailboxes(void **state)
{
    (void)state;
    email_address list[12];
    char text[64];
    for (int i = 0; i < 12; i++) {
        snprintf(text, sizeof text, "Person Number %d <person.number.%d@example.com>", i, i);
        list[i] = parse_ok(text);
    }
    strbuf b;
    strbuf_init(&b, 0);
    email_address_header(&b, "To", list, 12);
    char *s = strbuf_detach(&b, NULL);
    assert_non_null(s);
    assert_true(strncmp(s, "To: Person Number 0 <person.number.0@example.com>,", 50) == 0);
    size_t len = strlen(s);
    assert_true(len > 2 && strcmp(s + len - 2, "\r\n") == 0);
    /* every line at most 78 characters, continuation lines start with a space */
    int lines = 0;
    for (char *line = s; *line;) {
        char *end = strstr(line, "\r\n");
        assert_non_null(end);
        assert_true(end - line <= 78);
        if (line != s)
            assert_int_equal(line[0], ' ');
        lines++;
        line = end + 2;
    }
    assert_true(lines >= 12);
    for (int i = 0; i < 12; i++) {
        snprintf(text, sizeof text, "<person.number.%d@example.com>", i);
        assert_non_null(strstr(s, text));
    }
    free(s);
}

static void test_encoded_names_keep_header_lines_short(void **state)
{
    (void)state;
    email_address list[3] = {
        parse_ok("Jürgen Müller-Lüdenscheidt von und zu Großbrüchtersdorf <j@example.com>"),
        parse_ok("Ærøskøbing Ålesund Þórshöfn <ae@example.com>"),
        parse_ok("plain@example.com"),
    };
    strbuf b;
    strbuf_init(&b, 0);
    email_address_header(&b, "Reply-To", list, 3);
    char *s = strbuf_detach(&b, NULL);
    assert_non_null(s);
    for (char *line = s; *line;) {
        char *end = strstr(line, "\r\n");
        assert_non_null(end);
        if (end - line > 78)
            print_error("line of %d: %.*s\n", (int)(end - line), (int)(end - line), line);
        assert_true(end - line <= 78);
        line = end + 2;
    }
    assert_non_null(strstr(s, "<j@example.com>,"));
    assert_non_null(strstr(s, "plain@example.com\r\n"));
    free(s);
}

static void test_allowed_from_patterns(void **state)
{
    (void)state;
    char *patterns[] = {"*@billing.example.com", "CEO@example.com"};
    assert_true(email_address_allowed("inv@billing.example.com", patterns, 2));
    assert_true(email_address_allowed("INV@Billing.Example.com", patterns, 2));
    assert_true(email_address_allowed("ceo@example.com", patterns, 2));
    assert_false(email_address_allowed("ceo@example.org", patterns, 2));
    assert_false(email_address_allowed("x@evil.billing.example.com.evil", patterns, 2));
    assert_false(email_address_allowed("ceo@example.com", patterns, 0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bare_address),
        cmocka_unit_test(test_name_and_angle_address),
        cmocka_unit_test(test_malformed_addresses_are_refused_with_a_reason),
        cmocka_unit_test(test_line_breaks_and_controls_are_refused),
        cmocka_unit_test(test_length_limits),
        cmocka_unit_test(test_format_picks_atom_quoted_or_encoded_words),
        cmocka_unit_test(test_address_header_folds_between_mailboxes),
        cmocka_unit_test(test_encoded_names_keep_header_lines_short),
        cmocka_unit_test(test_allowed_from_patterns),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
