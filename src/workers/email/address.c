/* address.c - mailboxes: "user@example.com" or "Name <user@example.com>" as
 * a job writes them, checked strictly (a dot-atom local part and a host
 * name, ASCII only), and written back into headers with the display name
 * as an atom phrase, a quoted string or RFC 2047 words. What an address
 * may not contain is decided here and nowhere else. Pure. */
#include "email.h"

#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int set_why(char *why, size_t whycap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int set_why(char *why, size_t whycap, const char *fmt, ...)
{
    if (why != NULL && whycap > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(why, whycap, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static int is_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* RFC 5322 atext */
static int is_atext(char c)
{
    return is_alnum(c) || (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

static int check_local(const char *s, size_t n, char *why, size_t whycap)
{
    if (n == 0)
        return set_why(why, whycap, "the part before @ is empty");
    if (n > EMAIL_LOCAL_MAX)
        return set_why(why, whycap, "the part before @ is longer than %d characters",
                       EMAIL_LOCAL_MAX);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x80)
            return set_why(why, whycap, "non-ASCII characters before @ are not supported");
        if (c == '"')
            return set_why(why, whycap, "quoted local parts are not supported");
        if (c == '.') {
            if (i == 0 || i + 1 == n || s[i + 1] == '.')
                return set_why(why, whycap, "a dot before @ must be between two characters");
            continue;
        }
        if (!is_atext((char)c))
            return set_why(why, whycap, "'%c' is not allowed before @",
                           c >= 0x20 && c < 0x7f ? (char)c : '?');
    }
    return 0;
}

static int check_domain(const char *s, size_t n, char *why, size_t whycap)
{
    if (n == 0)
        return set_why(why, whycap, "the domain is empty");
    if (s[0] == '[')
        return set_why(why, whycap, "address literals ([...]) are not supported");
    if (n > 253)
        return set_why(why, whycap, "the domain is longer than 253 characters");
    size_t label = 0;
    for (size_t i = 0; i <= n; i++) {
        char c = i < n ? s[i] : '.';
        if ((unsigned char)c >= 0x80)
            return set_why(why, whycap, "non-ASCII domain: use its punycode (xn--) form");
        if (c == '.') {
            if (label == 0)
                return set_why(why, whycap, "the domain has an empty label");
            if (s[i - 1] == '-')
                return set_why(why, whycap, "a domain label must not end with '-'");
            label = 0;
            continue;
        }
        if (!is_alnum(c) && c != '-')
            return set_why(why, whycap, "'%c' is not allowed in a domain",
                           c >= 0x20 && c < 0x7f ? c : '?');
        if (label == 0 && c == '-')
            return set_why(why, whycap, "a domain label must not start with '-'");
        if (++label > 63)
            return set_why(why, whycap, "a domain label is longer than 63 characters");
    }
    return 0;
}

int email_addr_spec_check(const char *addr, char *why, size_t whycap)
{
    size_t n = strlen(addr);
    const char *at = strchr(addr, '@');
    if (n == 0)
        return set_why(why, whycap, "the address is empty");
    if (n > EMAIL_ADDR_MAX)
        return set_why(why, whycap, "the address is longer than %d characters", EMAIL_ADDR_MAX);
    if (at == NULL)
        return set_why(why, whycap, "there is no @");
    if (strchr(at + 1, '@') != NULL)
        return set_why(why, whycap, "there is more than one @");
    if (check_local(addr, (size_t)(at - addr), why, whycap) < 0)
        return -1;
    return check_domain(at + 1, n - (size_t)(at - addr) - 1, why, whycap);
}

static int is_space(char c)
{
    return c == ' ' || c == '\t';
}

int email_address_parse(email_address *out, const char *text, char *why, size_t whycap)
{
    memset(out, 0, sizeof *out);
    size_t n = strlen(text);
    const char *refusal = email_text_refusal(text, n);
    if (refusal != NULL)
        return set_why(why, whycap, "%s", refusal);
    const char *start = text, *end = text + n;
    while (start < end && is_space(*start))
        start++;
    while (end > start && is_space(end[-1]))
        end--;
    const char *addr = start, *addr_end = end;

    if (end > start && end[-1] == '>') {
        const char *lt = end - 1;
        while (lt > start && *lt != '<')
            lt--;
        if (*lt != '<')
            return set_why(why, whycap, "'>' without '<'");
        addr = lt + 1;
        addr_end = end - 1;
        const char *name = start, *name_end = lt;
        while (name_end > name && is_space(name_end[-1]))
            name_end--;
        size_t o = 0;
        if (name_end - name >= 2 && name[0] == '"' && name_end[-1] == '"') {
            /* a quoted string: drop the quotes and the backslashes */
            for (const char *p = name + 1; p < name_end - 1; p++) {
                if (*p == '\\' && p + 1 < name_end - 1)
                    p++;
                if (o >= EMAIL_NAME_MAX)
                    break;
                out->name[o++] = *p;
            }
        } else {
            for (const char *p = name; p < name_end && o < EMAIL_NAME_MAX; p++)
                out->name[o++] = *p;
        }
        if (o >= EMAIL_NAME_MAX)
            return set_why(why, whycap, "the display name is longer than %d bytes", EMAIL_NAME_MAX);
        out->name[o] = '\0';
    }
    size_t alen = (size_t)(addr_end - addr);
    if (alen > EMAIL_ADDR_MAX)
        return set_why(why, whycap, "the address is longer than %d characters", EMAIL_ADDR_MAX);
    memcpy(out->addr, addr, alen);
    out->addr[alen] = '\0';
    if (strpbrk(out->addr, "<> \t,;") != NULL)
        return set_why(why, whycap,
                       "one address per string, as user@example.com or Name <user@example.com>");
    return email_addr_spec_check(out->addr, why, whycap);
}

const char *email_address_domain(const email_address *a)
{
    const char *at = strrchr(a->addr, '@');
    return at ? at + 1 : a->addr;
}

/* 1 if the name can stand as it is: atoms separated by single spaces */
static int name_is_phrase(const char *s)
{
    if (*s == '\0' || *s == ' ')
        return 0;
    for (const char *p = s; *p; p++) {
        if (*p == ' ') {
            if (p[1] == ' ' || p[1] == '\0')
                return 0;
        } else if (!is_atext(*p)) {
            return 0;
        }
    }
    return 1;
}

/* Where the last line of s[0..n) ends up, for a line starting at col. */
static size_t col_after(const char *s, size_t n, size_t col)
{
    for (size_t i = 0; i < n; i++)
        col = s[i] == '\n' ? 0 : col + 1;
    return col;
}

void email_address_format(strbuf *out, size_t *col, const email_address *a)
{
    size_t n = strlen(a->name), alen = strlen(a->addr);
    if (n == 0) {
        strbuf_add(out, a->addr, alen);
        *col += alen;
        return;
    }
    if (email_needs_words(a->name, n)) {
        email_words(out, col, a->name, n);
    } else {
        size_t start = out->len;
        if (name_is_phrase(a->name)) {
            strbuf_add(out, a->name, n);
        } else {
            strbuf_add(out, "\"", 1);
            for (size_t i = 0; i < n; i++) {
                if (a->name[i] == '"' || a->name[i] == '\\')
                    strbuf_add(out, "\\", 1);
                strbuf_add(out, &a->name[i], 1);
            }
            strbuf_add(out, "\"", 1);
        }
        *col += out->len - start;
    }
    /* " <addr>" and a comma after it: on the next line if they would
     * make this one long (folding white space between the two is fine) */
    if (*col + 1 + alen + 2 + 1 > EMAIL_FOLD_AT) {
        strbuf_add(out, "\r\n", 2);
        *col = 0;
    }
    strbuf_addf(out, " <%s>", a->addr);
    *col += 1 + alen + 2;
}

void email_address_header(strbuf *out, const char *name, const email_address *list, size_t n)
{
    size_t col = strlen(name) + 2;
    strbuf_addf(out, "%s: ", name);
    if (n > 0)
        email_address_format(out, &col, &list[0]);
    for (size_t i = 1; i < n; i++) {
        strbuf item;
        size_t icol = 1; /* as if on a continuation line */
        strbuf_init(&item, 0);
        email_address_format(&item, &icol, &list[i]);
        if (item.failed) {
            out->failed = 1;
            strbuf_release(&item);
            return;
        }
        strbuf_add(out, ",", 1);
        col++;
        if (strchr(item.data, '\n') != NULL || col + 1 + item.len > EMAIL_FOLD_AT) {
            strbuf_add(out, "\r\n ", 3);
            col = 1;
        } else {
            strbuf_add(out, " ", 1);
            col++;
        }
        strbuf_add(out, item.data, item.len);
        col = col_after(item.data, item.len, col);
        strbuf_release(&item);
    }
    strbuf_add(out, "\r\n", 2);
}

int email_address_allowed(const char *addr, char *const *patterns, size_t npatterns)
{
    for (size_t i = 0; i < npatterns; i++)
        if (fnmatch(patterns[i], addr, FNM_CASEFOLD) == 0)
            return 1;
    return 0;
}
