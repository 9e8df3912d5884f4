/* message.c - a job's JSON as a checked message. Every field a job may give
 * is a row of `fields`; a name not in the table is an error, so a typo
 * ("bbc") fails the job instead of silently dropping recipients. Every
 * string that ends up in a header is checked here (no CR, LF or control
 * characters), so mime.c can trust what it gets. Pure: no files are opened
 * (attach.c does that) and nothing is sent. */
#include "email.h"

#include "confine.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct parse_state {
    email_message *m;
    const email_policy *policy;
    char *why;
    size_t whycap;
    int have_from;
} parse_state;

typedef struct field field;
struct field {
    const char *name;
    int (*parse)(parse_state *st, const field *f, const json_t *v);
    size_t list, count; /* address lists: offsets into email_message */
};

#define MSG(f) offsetof(email_message, f)
#define QUOTE_MAX 64

static int fail(parse_state *st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(parse_state *st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(st->why, st->whycap, fmt, ap);
    va_end(ap);
    return -1;
}

/* s as a double-quoted string for an error: control bytes escaped, long
 * values cut (never inside a UTF-8 sequence). */
static void quote(char *out, size_t cap, const char *s)
{
    size_t o = 0, i = 0;
    if (cap < 8) {
        if (cap)
            out[0] = '\0';
        return;
    }
    out[o++] = '"';
    for (; i < QUOTE_MAX && s[i]; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[8];
        size_t n = 1;
        if (c == '\r' || c == '\n' || c == '\t')
            n = (size_t)snprintf(esc, sizeof esc, "\\%c", c == '\r' ? 'r' : c == '\n' ? 'n' : 't');
        else if (c < 0x20 || c == 0x7f)
            n = (size_t)snprintf(esc, sizeof esc, "\\x%02x", c);
        else if (c == '"' || c == '\\')
            n = (size_t)snprintf(esc, sizeof esc, "\\%c", c);
        else
            esc[0] = (char)c;
        if (o + n + 5 > cap)
            break;
        memcpy(out + o, esc, n);
        o += n;
    }
    if (s[i]) {
        while (o > 1 && ((unsigned char)out[o - 1] & 0xC0) == 0x80)
            o--;
        if (o > 1 && (unsigned char)out[o - 1] >= 0xC0)
            o--;
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o++] = '"';
    out[o] = '\0';
}

/* The string value of v, or NULL (then why says so). Embedded NULs are
 * refused: they would cut a header short. */
static const char *string_of(parse_state *st, const char *what, const json_t *v)
{
    if (!json_is_string(v)) {
        fail(st, "%s must be a string", what);
        return NULL;
    }
    const char *s = json_string_value(v);
    if (strlen(s) != json_string_length(v)) {
        fail(st, "%s contains a NUL character", what);
        return NULL;
    }
    return s;
}

/* A string that goes into a header: no CR, LF or control characters. */
static const char *header_text_of(parse_state *st, const char *what, const json_t *v, size_t max)
{
    const char *s = string_of(st, what, v);
    if (s == NULL)
        return NULL;
    const char *refusal = email_text_refusal(s, strlen(s));
    char q[QUOTE_MAX * 4 + 16];
    if (refusal != NULL) {
        quote(q, sizeof q, s);
        fail(st, "%s %s %s", what, q, refusal);
        return NULL;
    }
    if (strlen(s) > max) {
        fail(st, "%s is longer than %zu bytes", what, max);
        return NULL;
    }
    return s;
}

static int parse_address(parse_state *st, const char *what, const json_t *v, email_address *out)
{
    char reason[256], q[QUOTE_MAX * 4 + 16];
    const char *s = string_of(st, what, v);
    if (s == NULL)
        return -1;
    if (email_address_parse(out, s, reason, sizeof reason) < 0) {
        quote(q, sizeof q, s);
        return fail(st, "%s %s is not a valid address: %s", what, q, reason);
    }
    return 0;
}

/* ---- the fields ---- */

static int field_id(parse_state *st, const field *f, const json_t *v)
{
    (void)st, (void)f, (void)v; /* the job id: the runtime's */
    return 0;
}

static int field_addresses(parse_state *st, const field *f, const json_t *v)
{
    email_address **list = (email_address **)((char *)st->m + f->list);
    size_t *count = (size_t *)((char *)st->m + f->count);
    size_t n = json_is_array(v) ? json_array_size(v) : 1;
    if (json_is_null(v))
        return 0;
    if (!json_is_array(v) && !json_is_string(v))
        return fail(st, "%s must be an address or a list of addresses", f->name);
    if ((long)n > st->policy->max_recipients || n > 10000)
        return fail(st, "%s has %zu addresses, more than email.max_recipients (%ld)", f->name, n,
                    st->policy->max_recipients);
    if (n == 0)
        return 0;
    *list = calloc(n, sizeof **list);
    if (*list == NULL)
        return fail(st, "out of memory");
    for (size_t i = 0; i < n; i++) {
        char what[64];
        if (json_is_array(v))
            snprintf(what, sizeof what, "%s[%zu]", f->name, i);
        else
            snprintf(what, sizeof what, "%s", f->name);
        if (parse_address(st, what, json_is_array(v) ? json_array_get(v, i) : v, &(*list)[i]) < 0)
            return -1;
        (*count)++;
    }
    return 0;
}

static int field_from(parse_state *st, const field *f, const json_t *v)
{
    email_address *from = &st->m->from;
    const email_policy *p = st->policy;
    if (parse_address(st, f->name, v, from) < 0)
        return -1;
    if (strcasecmp(from->addr, p->default_from->addr) != 0 &&
        !email_address_allowed(from->addr, p->allowed_from, p->nallowed_from))
        return fail(st, "from \"%s\" is not allowed: email.allowed_from has no pattern for it",
                    from->addr);
    st->have_from = 1;
    return 0;
}

static int field_subject(parse_state *st, const field *f, const json_t *v)
{
    st->m->subject = header_text_of(st, f->name, v, EMAIL_SUBJECT_MAX);
    return st->m->subject ? 0 : -1;
}

static int field_body(parse_state *st, const field *f, const json_t *v)
{
    int is_text = strcmp(f->name, "text") == 0;
    if (json_is_null(v))
        return 0;
    const char *s = string_of(st, f->name, v);
    if (s == NULL)
        return -1;
    size_t n = strlen(s);
    if (n == 0)
        return 0;
    if (is_text) {
        st->m->text = s;
        st->m->text_len = n;
    } else {
        st->m->html = s;
        st->m->html_len = n;
    }
    return 0;
}

/* type/subtype of RFC 2045 tokens, no parameters */
static int content_type_valid(const char *s)
{
    size_t n = strlen(s), slashes = 0, run = 0;
    if (n == 0 || n > EMAIL_CONTENT_TYPE_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '/') {
            if (run == 0 || ++slashes > 1)
                return 0;
            run = 0;
            continue;
        }
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              strchr("!#$&^_.+-", c) != NULL))
            return 0;
        run++;
    }
    return slashes == 1 && run > 0 && strncasecmp(s, "multipart/", 10) != 0;
}

static int parse_attachment(parse_state *st, size_t idx, const json_t *v, email_attachment *a)
{
    char what[64], q[QUOTE_MAX * 4 + 16];
    const char *key;
    const json_t *item;
    if (!json_is_object(v))
        return fail(st, "attachments[%zu] must be an object with path, filename and content_type",
                    idx);
    json_object_foreach((json_t *)v, key, item)
    {
        snprintf(what, sizeof what, "attachments[%zu].%.20s", idx, key);
        if (strcmp(key, "path") == 0) {
            if ((a->path = string_of(st, what, item)) == NULL)
                return -1;
            char refusal[128];
            if (confine_path_check(a->path, strlen(a->path), refusal, sizeof refusal) < 0) {
                quote(q, sizeof q, a->path);
                return fail(st, "%s %s: %s", what, q, refusal);
            }
        } else if (strcmp(key, "filename") == 0) {
            if ((a->filename = header_text_of(st, what, item, EMAIL_FILENAME_MAX)) == NULL)
                return -1;
            if (*a->filename == '\0')
                return fail(st, "%s is empty", what);
        } else if (strcmp(key, "content_type") == 0) {
            if ((a->content_type = string_of(st, what, item)) == NULL)
                return -1;
            if (!content_type_valid(a->content_type)) {
                quote(q, sizeof q, a->content_type);
                return fail(st, "%s %s is not a type/subtype such as application/pdf", what, q);
            }
        } else {
            quote(q, sizeof q, key);
            return fail(st,
                        "attachments[%zu]: unknown field %s (known: path, filename, content_type)",
                        idx, q);
        }
    }
    if (a->path == NULL)
        return fail(st, "attachments[%zu] has no path", idx);
    if (a->filename == NULL) {
        const char *slash = strrchr(a->path, '/');
        a->filename = slash ? slash + 1 : a->path;
        if (strlen(a->filename) > EMAIL_FILENAME_MAX)
            return fail(st,
                        "attachments[%zu]: the file name is longer than %d bytes: give filename",
                        idx, EMAIL_FILENAME_MAX);
    }
    if (a->content_type == NULL)
        a->content_type = "application/octet-stream";
    return 0;
}

static int field_attachments(parse_state *st, const field *f, const json_t *v)
{
    email_message *m = st->m;
    if (json_is_null(v))
        return 0;
    if (!json_is_array(v))
        return fail(st, "%s must be a list of {path, filename, content_type}", f->name);
    size_t n = json_array_size(v);
    if (n > EMAIL_ATTACHMENTS_MAX)
        return fail(st, "more than %d attachments", EMAIL_ATTACHMENTS_MAX);
    if (n == 0)
        return 0;
    m->attachments = calloc(n, sizeof *m->attachments);
    if (m->attachments == NULL)
        return fail(st, "out of memory");
    for (size_t i = 0; i < n; i++) {
        if (parse_attachment(st, i, json_array_get(v, i), &m->attachments[i]) < 0)
            return -1;
        m->nattachments++;
    }
    return 0;
}

/* Headers the message builds itself; a job may not set or repeat them. */
static const char *const managed_headers[] = {
    "from",
    "sender",
    "to",
    "cc",
    "bcc",
    "reply-to",
    "subject",
    "date",
    "message-id",
    "mime-version",
    "return-path",
    "received",
    "resent-from",
    "resent-to",
    "resent-cc",
    "resent-bcc",
    "resent-date",
    "resent-sender",
    "resent-message-id",
};

static int header_name_refused(const char *name)
{
    for (size_t i = 0; i < sizeof managed_headers / sizeof managed_headers[0]; i++)
        if (strcasecmp(name, managed_headers[i]) == 0)
            return 1;
    return strncasecmp(name, "content-", 8) == 0;
}

static int header_name_valid(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > EMAIL_HEADER_NAME_MAX || name[0] == '-')
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= 'A' && name[i] <= 'Z') ||
              (name[i] >= '0' && name[i] <= '9') || name[i] == '-'))
            return 0;
    return 1;
}

static int field_headers(parse_state *st, const field *f, const json_t *v)
{
    email_message *m = st->m;
    const char *name;
    const json_t *value;
    char q[QUOTE_MAX * 4 + 16], what[128];
    if (json_is_null(v))
        return 0;
    if (!json_is_object(v))
        return fail(st, "%s must be an object of header names and string values", f->name);
    size_t n = json_object_size(v);
    if (n > EMAIL_HEADERS_MAX)
        return fail(st, "more than %d headers", EMAIL_HEADERS_MAX);
    if (n == 0)
        return 0;
    m->headers = calloc(n, sizeof *m->headers);
    if (m->headers == NULL)
        return fail(st, "out of memory");
    json_object_foreach((json_t *)v, name, value)
    {
        quote(q, sizeof q, name);
        if (!header_name_valid(name))
            return fail(st, "header name %s must be 1-%d characters of [A-Za-z0-9-]", q,
                        EMAIL_HEADER_NAME_MAX);
        if (header_name_refused(name))
            return fail(st, "header %s is set by drudge-email: use the job's own fields", q);
        for (size_t i = 0; i < m->nheaders; i++)
            if (strcasecmp(m->headers[i].name, name) == 0)
                return fail(st, "header %s is given twice", q);
        snprintf(what, sizeof what, "header %s", q);
        const char *s = header_text_of(st, what, value, EMAIL_HEADER_VALUE_MAX);
        if (s == NULL)
            return -1;
        m->headers[m->nheaders].name = name;
        m->headers[m->nheaders].value = s;
        m->nheaders++;
    }
    return 0;
}

static const field fields[] = {
    {"id", field_id, 0, 0},
    {"from", field_from, 0, 0},
    {"to", field_addresses, MSG(to), MSG(nto)},
    {"cc", field_addresses, MSG(cc), MSG(ncc)},
    {"bcc", field_addresses, MSG(bcc), MSG(nbcc)},
    {"reply_to", field_addresses, MSG(reply_to), MSG(nreply_to)},
    {"subject", field_subject, 0, 0},
    {"text", field_body, 0, 0},
    {"html", field_body, 0, 0},
    {"attachments", field_attachments, 0, 0},
    {"headers", field_headers, 0, 0},
};

#define NFIELDS (sizeof fields / sizeof fields[0])

int email_message_parse(email_message *m, const json_t *job, const email_policy *policy, char *why,
                        size_t whycap)
{
    parse_state st = {.m = m, .policy = policy, .why = why, .whycap = whycap};
    const char *key;
    const json_t *v;
    memset(m, 0, sizeof *m);
    if (!json_is_object(job)) {
        fail(&st, "the job must be a JSON object");
        goto bad;
    }
    json_object_foreach((json_t *)job, key, v)
    {
        size_t i = 0;
        while (i < NFIELDS && strcmp(fields[i].name, key) != 0)
            i++;
        if (i == NFIELDS) {
            char q[QUOTE_MAX * 4 + 16];
            quote(q, sizeof q, key);
            fail(&st,
                 "unknown field %s (known: to, cc, bcc, from, reply_to, subject, text, html, "
                 "attachments, headers)",
                 q);
            goto bad;
        }
        if (fields[i].parse(&st, &fields[i], v) < 0)
            goto bad;
    }
    if (m->subject == NULL) {
        fail(&st, "subject is missing (use \"\" for none)");
        goto bad;
    }
    if (m->nto + m->ncc + m->nbcc == 0) {
        fail(&st, "no recipients: give to, cc or bcc");
        goto bad;
    }
    if ((long)(m->nto + m->ncc + m->nbcc) > policy->max_recipients) {
        fail(&st, "%zu recipients, more than email.max_recipients (%ld)", m->nto + m->ncc + m->nbcc,
             policy->max_recipients);
        goto bad;
    }
    if (m->text == NULL && m->html == NULL) {
        fail(&st, "empty body: give text or html");
        goto bad;
    }
    if (m->text_len + m->html_len > policy->max_message_bytes) {
        fail(&st, "text and html are %zu bytes, more than email.max_message_bytes (%zu)",
             m->text_len + m->html_len, policy->max_message_bytes);
        goto bad;
    }
    if (!st.have_from)
        m->from = *policy->default_from;
    return 0;
bad:
    email_message_release(m);
    return -1;
}

void email_message_release(email_message *m)
{
    free(m->to);
    free(m->cc);
    free(m->bcc);
    free(m->reply_to);
    free(m->attachments);
    free(m->headers);
    memset(m, 0, sizeof *m);
}

/* ---- envelope ---- */

typedef struct rcpt_key {
    const char *addr;
    size_t order;
} rcpt_key;

static int rcpt_cmp(const void *a, const void *b)
{
    const rcpt_key *x = a, *y = b;
    int c = strcasecmp(x->addr, y->addr);
    return c ? c : (x->order > y->order) - (x->order < y->order);
}

const char **email_message_recipients(const email_message *m, size_t *n)
{
    size_t total = m->nto + m->ncc + m->nbcc, k = 0, out = 0;
    const email_address *lists[3] = {m->to, m->cc, m->bcc};
    size_t counts[3] = {m->nto, m->ncc, m->nbcc};
    rcpt_key *keys = calloc(total ? total : 1, sizeof *keys);
    const char **rcpt = calloc(total ? total : 1, sizeof *rcpt);
    unsigned char *dup = calloc(total ? total : 1, 1);
    if (keys == NULL || rcpt == NULL || dup == NULL) {
        free(keys);
        free(rcpt);
        free(dup);
        return NULL;
    }
    for (size_t l = 0; l < 3; l++)
        for (size_t i = 0; i < counts[l]; i++, k++) {
            keys[k].addr = lists[l][i].addr;
            keys[k].order = k;
        }
    /* sorted, an address equal to its predecessor is a repeat; the first
     * one in job order stays */
    qsort(keys, total, sizeof *keys, rcpt_cmp);
    for (size_t i = 1; i < total; i++)
        if (strcasecmp(keys[i].addr, keys[i - 1].addr) == 0)
            dup[keys[i].order] = 1;
    k = 0;
    for (size_t l = 0; l < 3; l++)
        for (size_t i = 0; i < counts[l]; i++, k++)
            if (!dup[k])
                rcpt[out++] = lists[l][i].addr;
    free(keys);
    free(dup);
    *n = out;
    return rcpt;
}
