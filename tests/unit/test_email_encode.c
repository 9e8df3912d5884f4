/* test_email_encode.c - unit tests for src/workers/email/encode.c: which
 * header text is refused, RFC 2047 encoded words (they decode back to the
 * text, never split a character, keep lines short), unstructured headers,
 * the Message-ID a job id maps to, the Date format, and how bodies get CRLF
 * line ends and the transfer encoding that keeps lines under 998 octets.
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

/* ---- helpers: decode what email_words() wrote ---- */

static int b64_value(char c)
{
    const char *alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const char *p = strchr(alphabet, c);
    return c && p ? (int)(p - alphabet) : -1;
}

static size_t b64_decode(const char *in, size_t n, unsigned char *out)
{
    size_t o = 0;
    assert_int_equal(n % 4, 0);
    for (size_t i = 0; i < n; i += 4) {
        int v[4];
        for (int k = 0; k < 4; k++)
            v[k] = in[i + k] == '=' ? 0 : b64_value(in[i + k]);
        for (int k = 0; k < 4; k++)
            assert_true(v[k] >= 0);
        unsigned bits = (unsigned)(v[0] << 18 | v[1] << 12 | v[2] << 6 | v[3]);
        out[o++] = (unsigned char)(bits >> 16);
        if (in[i + 2] != '=')
            out[o++] = (unsigned char)(bits >> 8);
        if (in[i + 3] != '=')
            out[o++] = (unsigned char)bits;
    }
    return o;
}

/* Decode every "=?UTF-8?B?...?=" of s into out; each word on its own must
 * be whole UTF-8 characters. Returns the decoded length. */
static size_t decode_words(const char *s, char *out)
{
    size_t o = 0;
    const char *p = s;
    while ((p = strstr(p, "=?UTF-8?B?")) != NULL) {
        p += 10;
        const char *end = strstr(p, "?=");
        assert_non_null(end);
        unsigned char word[128];
        size_t n = b64_decode(p, (size_t)(end - p), word);
        assert_null(email_text_refusal((const char *)word, n)); /* whole characters */
        memcpy(out + o, word, n);
        o += n;
        p = end + 2;
    }
    out[o] = '\0';
    return o;
}

static void assert_lines_at_most(const char *s, size_t max)
{
    for (const char *line = s; *line;) {
        const char *end = strstr(line, "\r\n");
        size_t len = end ? (size_t)(end - line) : strlen(line);
        if (len > max)
            print_error("line of %zu characters: %.*s\n", len, (int)len, line);
        assert_true(len <= max);
        if (end == NULL)
            break;
        line = end + 2;
    }
}

/* ---- header text ---- */

static void test_text_refusal(void **state)
{
    (void)state;
    assert_null(email_text_refusal("Hello\tworld äöü ☃ 😀", strlen("Hello\tworld äöü ☃ 😀")));
    assert_string_equal(email_text_refusal("a\rb", 3), "contains CR or LF");
    assert_string_equal(email_text_refusal("a\nb", 3), "contains CR or LF");
    assert_string_equal(email_text_refusal("a\x1b", 2), "contains a control character");
    assert_string_equal(email_text_refusal("a\x7f", 2), "contains a control character");
    assert_string_equal(email_text_refusal("\xc0\x80", 2), "is not valid UTF-8"); /* overlong */
    assert_string_equal(email_text_refusal("\xed\xa0\x80", 3),
                        "is not valid UTF-8"); /* surrogate */
    assert_string_equal(email_text_refusal("\xf5\x80\x80\x80", 4), "is not valid UTF-8");
    assert_string_equal(email_text_refusal("\xe2\x98", 2), "is not valid UTF-8"); /* cut short */
}

static void test_needs_words(void **state)
{
    (void)state;
    assert_false(email_needs_words("Plain ASCII subject", 19));
    assert_true(email_needs_words("Grüße", strlen("Grüße")));
    assert_true(email_needs_words("looks =?like?= a word", 21));
    assert_false(email_needs_words("a = b ? c", 9));
}

static void test_words_decode_back_and_keep_lines_short(void **state)
{
    (void)state;
    const char *texts[] = {
        "Grüße aus Köln",
        "日本語の件名はとても長くなることがありますので、折り返しが必要です。日本語の件名",
        "😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀",
        "a",
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        strbuf b;
        size_t col = 9; /* after "Subject: " */
        char decoded[1024];
        strbuf_init(&b, 0);
        strbuf_adds(&b, "Subject: ");
        email_words(&b, &col, texts[i], strlen(texts[i]));
        char *s = strbuf_detach(&b, NULL);
        assert_non_null(s);
        assert_lines_at_most(s, 76);
        decode_words(s, decoded);
        assert_string_equal(decoded, texts[i]);
        /* col is where the last line ends */
        const char *last = strrchr(s, '\n');
        assert_int_equal(col, strlen(last ? last + 1 : s));
        free(s);
    }
}

static void test_header_text_raw_or_encoded(void **state)
{
    (void)state;
    strbuf b;
    strbuf_init(&b, 0);
    email_header_text(&b, "Subject", "Your invoice");
    char *s = strbuf_detach(&b, NULL);
    assert_string_equal(s, "Subject: Your invoice\r\n");
    free(s);

    email_header_text(&b, "Subject", "");
    s = strbuf_detach(&b, NULL);
    assert_string_equal(s, "Subject: \r\n");
    free(s);

    email_header_text(&b, "X-Note", "café =?x?=");
    s = strbuf_detach(&b, NULL);
    char decoded[64];
    assert_true(strncmp(s, "X-Note: =?UTF-8?B?", 18) == 0);
    decode_words(s, decoded);
    assert_string_equal(decoded, "café =?x?=");
    free(s);

    /* ASCII too long for one line is encoded, and so folded */
    char long_subject[1200];
    memset(long_subject, 'w', sizeof long_subject - 1);
    long_subject[sizeof long_subject - 1] = '\0';
    email_header_text(&b, "Subject", long_subject);
    s = strbuf_detach(&b, NULL);
    assert_lines_at_most(s, 76);
    char *back = malloc(2000);
    decode_words(s, back);
    assert_string_equal(back, long_subject);
    free(back);
    free(s);
}

/* ---- Message-ID and Date ---- */

static void test_message_id_from_job_id(void **state)
{
    (void)state;
    char id[EMAIL_MESSAGE_ID_MAX + 1];
    assert_int_equal(email_message_id(id, sizeof id, "invoice-123_a", "example.com"), 0);
    assert_string_equal(id, "<invoice-123_a@example.com>");
    assert_int_equal(email_message_id(id, sizeof id, "order:2024.11..x", "example.com"), 0);
    assert_string_equal(id, "<order=3A2024.11.=2Ex@example.com>");
    assert_int_equal(email_message_id(id, sizeof id, ".a.", "example.com"), 0);
    assert_string_equal(id, "<=2Ea=2E@example.com>");
    /* a sha256 id as it is */
    const char *sha = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
    assert_int_equal(email_message_id(id, sizeof id, sha, "mail.example.com"), 0);
    assert_true(strncmp(id + 1, sha, 64) == 0);
    /* the longest id fits */
    char longest[129];
    memset(longest, ':', 128);
    longest[128] = '\0';
    assert_int_equal(email_message_id(id, sizeof id, longest, "example.com"), 0);
    assert_int_equal(email_message_id(id, 10, "abcdefghijkl", "example.com"), -1);
}

static void test_date_is_rfc5322_in_utc(void **state)
{
    (void)state;
    char d[64];
    assert_int_equal(email_date(d, sizeof d, 0), 0);
    assert_string_equal(d, "Thu, 01 Jan 1970 00:00:00 +0000");
    assert_int_equal(email_date(d, sizeof d, 1700000000), 0);
    assert_string_equal(d, "Tue, 14 Nov 2023 22:13:20 +0000");
    assert_int_equal(email_date(d, 8, 0), -1);
}

/* ---- bodies ---- */

static void test_body_line_ends_become_crlf(void **state)
{
    (void)state;
    email_body b;
    const char *text = "a\nb\r\nc\rd\n\n";
    assert_int_equal(email_body_prepare(&b, text, strlen(text)), 0);
    assert_string_equal(b.data, "a\r\nb\r\nc\r\nd\r\n\r\n");
    assert_int_equal(b.len, strlen(b.data));
    assert_string_equal(b.encoding, "7bit");
    email_body_release(&b);
}

static void test_body_encoding_follows_line_length_and_charset(void **state)
{
    (void)state;
    email_body b;
    char *text = malloc(2100);
    assert_non_null(text);
    memset(text, 'x', 998);
    memcpy(text + 998, "\n", 2);
    assert_int_equal(email_body_prepare(&b, text, strlen(text)), 0);
    assert_string_equal(b.encoding, "7bit"); /* 998 octets is still legal */
    email_body_release(&b);

    memset(text, 'x', 999);
    text[999] = '\0';
    assert_int_equal(email_body_prepare(&b, text, strlen(text)), 0);
    assert_string_equal(b.encoding, "quoted-printable");
    email_body_release(&b);

    /* CRLF pairs do not count towards a line */
    for (int i = 0; i < 700; i++)
        memcpy(text + i * 3, "ab\n", 3);
    text[2100 - 1] = '\0';
    assert_int_equal(email_body_prepare(&b, text, strlen(text)), 0);
    assert_string_equal(b.encoding, "7bit");
    email_body_release(&b);

    const char *utf8 = "Grüße";
    assert_int_equal(email_body_prepare(&b, utf8, strlen(utf8)), 0);
    assert_string_equal(b.encoding, "quoted-printable");
    assert_string_equal(b.data, utf8);
    email_body_release(&b);
    free(text);
}

static void test_buf_grows_and_detaches(void **state)
{
    (void)state;
    strbuf b;
    strbuf_init(&b, 0);
    char *s = strbuf_detach(&b, NULL);
    assert_string_equal(s, "");
    free(s);
    for (int i = 0; i < 1000; i++)
        strbuf_addf(&b, "%04d,", i);
    assert_int_equal(b.len, 5000);
    s = strbuf_detach(&b, NULL);
    assert_true(strncmp(s, "0000,0001,", 10) == 0);
    assert_string_equal(s + 4995, "0999,");
    assert_null(b.data);
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text_refusal),
        cmocka_unit_test(test_needs_words),
        cmocka_unit_test(test_words_decode_back_and_keep_lines_short),
        cmocka_unit_test(test_header_text_raw_or_encoded),
        cmocka_unit_test(test_message_id_from_job_id),
        cmocka_unit_test(test_date_is_rfc5322_in_utc),
        cmocka_unit_test(test_body_line_ends_become_crlf),
        cmocka_unit_test(test_body_encoding_follows_line_length_and_charset),
        cmocka_unit_test(test_buf_grows_and_detaches),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
