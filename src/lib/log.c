/* log.c - logfmt lines on stderr, one per event:
 *   ts=2026-11-28T09:30:05.123Z level=info event=done class=ImageJob id=… ms=42
 * Values given as %s are quoted when they hold spaces, quotes or '='; the
 * line is written with one write(2) so lines from several processes sharing
 * supervisord's pipe do not interleave. */
#include "internal.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

static drudge_log_level min_level = DRUDGE_LOG_INFO;
static const char *const level_names[] = {"debug", "info", "warn", "error"};

void drudge_log_set_level(drudge_log_level lvl) { min_level = lvl; }

int drudge_log_level_parse(const char *name, drudge_log_level *out)
{
    for (size_t i = 0; i < sizeof level_names / sizeof level_names[0]; i++) {
        if (strcasecmp(name, level_names[i]) == 0) {
            *out = (drudge_log_level)i;
            return 0;
        }
    }
    if (strcasecmp(name, "warning") == 0) {
        *out = DRUDGE_LOG_WARN;
        return 0;
    }
    return -1;
}

typedef struct line {
    char buf[2048];
    size_t len;
} line;

static void put(line *l, const char *s, size_t n)
{
    size_t room = sizeof l->buf - 1 - l->len; /* keep one byte for '\n' */
    if (n > room)
        n = room;
    memcpy(l->buf + l->len, s, n);
    l->len += n;
}

static void put_value(line *l, const char *v)
{
    if (v == NULL)
        v = "";
    int quote = *v == '\0' || strpbrk(v, " \t\"=\\\n\r") != NULL;
    if (!quote) {
        put(l, v, strlen(v));
        return;
    }
    put(l, "\"", 1);
    for (const char *p = v; *p; p++) {
        switch (*p) {
        case '"': put(l, "\\\"", 2); break;
        case '\\': put(l, "\\\\", 2); break;
        case '\n': put(l, "\\n", 2); break;
        case '\r': put(l, "\\r", 2); break;
        case '\t': put(l, "\\t", 2); break;
        default: put(l, p, 1);
        }
    }
    put(l, "\"", 1);
}

/* Walk fmt; copy literal text, quote %s values, hand every other conversion
 * (with its flags and precision) to snprintf. */
static void format_fields(line *l, const char *fmt, va_list ap)
{
    for (const char *p = fmt; *p;) {
        if (*p != '%') {
            const char *next = strchr(p, '%');
            size_t n = next ? (size_t)(next - p) : strlen(p);
            put(l, p, n);
            p += n;
            continue;
        }
        const char *start = p++;
        while (*p && strchr("-+ #0123456789.", *p))
            p++;
        int lcount = 0, zflag = 0;
        while (*p == 'l') {
            lcount++;
            p++;
        }
        if (*p == 'z') {
            zflag = 1;
            p++;
        }
        char spec = *p ? *p++ : '\0';
        char sub[32];
        size_t sublen = (size_t)(p - start);
        if (sublen >= sizeof sub)
            return;
        memcpy(sub, start, sublen);
        sub[sublen] = '\0';
        char tmp[64];
        int n = 0;
        switch (spec) {
        case 's': put_value(l, va_arg(ap, const char *)); continue;
        case '%': put(l, "%", 1); continue;
        case 'd': case 'i': case 'u': case 'x':
            if (zflag)
                n = snprintf(tmp, sizeof tmp, sub, va_arg(ap, size_t));
            else if (lcount >= 2)
                n = snprintf(tmp, sizeof tmp, sub, va_arg(ap, long long));
            else if (lcount == 1)
                n = snprintf(tmp, sizeof tmp, sub, va_arg(ap, long));
            else
                n = snprintf(tmp, sizeof tmp, sub, va_arg(ap, int));
            break;
        case 'f': case 'g': n = snprintf(tmp, sizeof tmp, sub, va_arg(ap, double)); break;
        default: return; /* unsupported conversion: stop rather than misread ap */
        }
        if (n > 0)
            put(l, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
    }
}

void drudge_log(drudge_log_level lvl, const char *event, const char *fmt, ...)
{
    if (lvl < min_level)
        return;
    line l = {.len = 0};
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char stamp[64];
    int n = snprintf(stamp, sizeof stamp, "ts=%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ level=%s event=",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                     tm.tm_sec, ts.tv_nsec / 1000000, level_names[lvl]);
    if (n > 0)
        put(&l, stamp, (size_t)n < sizeof stamp ? (size_t)n : sizeof stamp - 1);
    put_value(&l, event);
    if (fmt && *fmt) {
        put(&l, " ", 1);
        va_list ap;
        va_start(ap, fmt);
        format_fields(&l, fmt, ap);
        va_end(ap);
    }
    l.buf[l.len++] = '\n';
    ssize_t w = write(STDERR_FILENO, l.buf, l.len);
    (void)w;
}
