/* encode.c - the encodings a message's text needs on the way to SMTP:
 * RFC 2047 encoded words for non-ASCII header text (folded so lines stay
 * short), the Date and Message-ID headers, and bodies with CRLF line ends
 * and a transfer encoding that keeps every line under 998 octets (libcurl's
 * quoted-printable encoder does the encoding itself; see mime.c). Pure. */
#include "email.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

#define WORD_OPEN "=?UTF-8?B?"
#define WORD_CLOSE "?="
#define WORD_OVERHEAD (sizeof WORD_OPEN - 1 + sizeof WORD_CLOSE - 1)

/* Length of the UTF-8 sequence at s (n bytes left), or 0 if invalid:
 * no overlong forms, surrogates or code points past U+10FFFF. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t len;
    unsigned cp;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
        cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if ((len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
        (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
        return 0;
    return len;
}

const char *email_text_refusal(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        unsigned char c = p[i];
        if (c == '\r' || c == '\n')
            return "contains CR or LF";
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return "contains a control character";
        size_t len = utf8_len(p + i, n - i);
        if (len == 0)
            return "is not valid UTF-8";
        i += len;
    }
    return NULL;
}

int email_needs_words(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if ((unsigned char)s[i] >= 0x80)
            return 1;
        if (s[i] == '=' && i + 1 < n && s[i + 1] == '?')
            return 1;
    }
    return 0;
}

static void base64(strbuf *out, const unsigned char *s, size_t n)
{
    char quad[4];
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)s[i] << 16;
        if (i + 1 < n)
            v |= (unsigned)s[i + 1] << 8;
        if (i + 2 < n)
            v |= s[i + 2];
        quad[0] = b64[(v >> 18) & 63];
        quad[1] = b64[(v >> 12) & 63];
        quad[2] = i + 1 < n ? b64[(v >> 6) & 63] : '=';
        quad[3] = i + 2 < n ? b64[v & 63] : '=';
        strbuf_add(out, quad, 4);
    }
}

void email_words(strbuf *out, size_t *col, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    int first = 1;
    do {
        if (!first) {
            strbuf_add(out, "\r\n ", 3);
            *col = 1;
        }
        /* as many whole characters as keep this line within EMAIL_FOLD_AT */
        size_t room =
            *col + WORD_OVERHEAD < EMAIL_FOLD_AT ? EMAIL_FOLD_AT - *col - WORD_OVERHEAD : 0;
        size_t max = room / 4 * 3;
        if (max < 6)
            max = 6;
        size_t take = 0;
        while (i + take < n) {
            size_t len = utf8_len(p + i + take, n - i - take);
            if (len == 0)
                len = 1; /* callers check first; never loop on bad bytes */
            if (take + len > max && take > 0)
                break;
            take += len;
        }
        strbuf_adds(out, WORD_OPEN);
        base64(out, p + i, take);
        strbuf_adds(out, WORD_CLOSE);
        *col += WORD_OVERHEAD + (take + 2) / 3 * 4;
        i += take;
        first = 0;
    } while (i < n);
}

void email_header_text(strbuf *out, const char *name, const char *value)
{
    size_t n = strlen(value), col = strlen(name) + 2;
    strbuf_addf(out, "%s: ", name);
    if (n == 0 || (!email_needs_words(value, n) && col + n <= EMAIL_LINE_MAX))
        strbuf_add(out, value, n);
    else
        email_words(out, &col, value, n);
    strbuf_add(out, "\r\n", 2);
}

/* atext (RFC 5322 3.2.3) that a job id can contain: letters, digits, - _ */
static int id_char_plain(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
}

int email_message_id(char *out, size_t cap, const char *job_id, const char *domain)
{
    strbuf b;
    strbuf_init(&b, 0);
    strbuf_add(&b, "<", 1);
    size_t n = strlen(job_id);
    for (size_t i = 0; i < n; i++) {
        char c = job_id[i];
        /* a dot is kept where a dot-atom allows it: not first, not last,
         * not after another dot */
        int dot_ok = c == '.' && i > 0 && i + 1 < n && job_id[i - 1] != '.';
        if (id_char_plain(c) || dot_ok)
            strbuf_add(&b, &c, 1);
        else
            strbuf_addf(&b, "=%02X", (unsigned char)c);
    }
    strbuf_addf(&b, "@%s>", domain);
    int rc = -1;
    if (!b.failed && b.len < cap) {
        memcpy(out, b.data, b.len + 1);
        rc = 0;
    }
    strbuf_release(&b);
    return rc;
}

int email_date(char *out, size_t cap, time_t t)
{
    static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    struct tm tm;
    if (gmtime_r(&t, &tm) == NULL || tm.tm_wday < 0 || tm.tm_wday > 6 || tm.tm_mon < 0 ||
        tm.tm_mon > 11)
        return -1;
    int n =
        snprintf(out, cap, "%s, %02d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday], tm.tm_mday,
                 months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
    return n < 0 || (size_t)n >= cap ? -1 : 0;
}

int email_body_prepare(email_body *out, const char *text, size_t n)
{
    size_t len = 0, line = 0, longest = 0;
    int ascii = 1;
    /* first pass: the size with CRLF line ends, the longest line */
    for (size_t i = 0; i < n; i++) {
        char c = text[i];
        if (c == '\r' || c == '\n') {
            if (c == '\r' && i + 1 < n && text[i + 1] == '\n')
                i++;
            len += 2;
            line = 0;
            continue;
        }
        if ((unsigned char)c >= 0x80)
            ascii = 0;
        len++;
        if (++line > longest)
            longest = line;
    }
    out->data = malloc(len + 1);
    if (out->data == NULL)
        return -1;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char c = text[i];
        if (c == '\r' || c == '\n') {
            if (c == '\r' && i + 1 < n && text[i + 1] == '\n')
                i++;
            out->data[o++] = '\r';
            out->data[o++] = '\n';
        } else {
            out->data[o++] = c;
        }
    }
    out->data[o] = '\0';
    out->len = o;
    out->encoding = ascii && longest <= EMAIL_LINE_MAX ? "7bit" : "quoted-printable";
    return 0;
}

void email_body_release(email_body *b)
{
    free(b->data);
    b->data = NULL;
    b->len = 0;
}
