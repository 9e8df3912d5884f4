/* cron.c - 5-field cron expressions: parse them into bit sets, match a
 * broken-down time, and find the next matching minute in a time zone.
 *
 * Pure logic: text in, bits and timestamps out, no Redis. Firing entries
 * (locks, the cron_fire script) lives with the scheduler; key names in keys.c.
 */
#include "internal.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#define CRON_FIELD_MAX 256 /* longest field text accepted */
#define CRON_NUM_DIGITS 9  /* longer numbers are out of range in every field */
#define ZONEINFO_DIR "/usr/share/zoneinfo"
#define ZONE_NAME_MAX 128

/* How far a zone's UTC offset may fall back at once (DST, or a zone moving
 * to a smaller offset). next() looks this far around the wall clock so that
 * a repeated hour is not missed. Real shifts are at most two hours. */
#define ZONE_SHIFT_MAX (3 * 3600)
#define SEARCH_SPAN ((int64_t)5 * 366 * 86400)

/* Earliest `after` we accept (1900-01-01) and latest (a search must still
 * end before year 10000 so that struct tm arithmetic stays sane). */
#define AFTER_MIN INT64_C(-2208988800)
#define AFTER_MAX (INT64_C(253402300799) - SEARCH_SPAN - 86400)

static const char *const month_names[] = {"jan", "feb", "mar", "apr", "may", "jun", "jul",
                                          "aug", "sep", "oct", "nov", "dec", NULL};
static const char *const wday_names[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat", NULL};

typedef struct cron_field {
    const char *label;         /* for messages: "day-of-week" */
    int min, max;              /* values accepted */
    int open_max;              /* where "*" and "a/n" stop: 7 is only an alias of Sunday */
    const char *const *names;  /* 3-letter names or NULL */
    int name_base;             /* value of names[0] */
} cron_field;

enum { F_MINUTE, F_HOUR, F_MDAY, F_MONTH, F_WDAY, F_COUNT };

static const cron_field fields[F_COUNT] = {
    {"minute", 0, 59, 59, NULL, 0},
    {"hour", 0, 23, 23, NULL, 0},
    {"day-of-month", 1, 31, 31, NULL, 0},
    {"month", 1, 12, 12, month_names, 1},
    {"day-of-week", 0, 7, 6, wday_names, 0},
};

static const struct {
    const char *name;
    const char *expansion; /* NULL: recognised but not supported */
} macros[] = {
    {"@yearly", "0 0 1 1 *"},  {"@annually", "0 0 1 1 *"}, {"@monthly", "0 0 1 * *"},
    {"@weekly", "0 0 * * 0"},  {"@daily", "0 0 * * *"},    {"@midnight", "0 0 * * *"},
    {"@hourly", "0 * * * *"},  {"@reboot", NULL},
};

__attribute__((format(printf, 3, 4))) static void set_err(char *err, size_t cap,
                                                          const char *fmt, ...)
{
    va_list ap;

    if (!err || cap == 0)
        return;
    va_start(ap, fmt);
    /* A truncated message is still the best we can give. */
    (void)vsnprintf(err, cap, fmt, ap);
    va_end(ap);
}

/* ---- parsing ---- */

/* One number or name at text[*pos], within `elem` (for messages). */
static int parse_value(const cron_field *f, const char *elem, size_t elen, size_t *pos, int *value,
                       int *was_name, char *err, size_t errcap)
{
    size_t start = *pos, end = *pos, i;
    const char *tok = elem + start;
    size_t toklen;

    while (end < elen && isalnum((unsigned char)elem[end]))
        end++;
    toklen = end - start;
    *pos = end;
    *was_name = 0;
    if (toklen == 0) {
        set_err(err, errcap, "%s field: expected a %s in \"%.*s\"", f->label,
                f->names ? "number or name" : "number", (int)elen, elem);
        return -1;
    }
    if (isdigit((unsigned char)tok[0])) {
        char digits[CRON_NUM_DIGITS + 1];
        char *stop = NULL;
        long v;

        for (i = 0; i < toklen; i++) {
            if (!isdigit((unsigned char)tok[i])) {
                set_err(err, errcap, "%s field: invalid value \"%.*s\"", f->label, (int)toklen,
                        tok);
                return -1;
            }
        }
        if (toklen > CRON_NUM_DIGITS)
            goto out_of_range;
        memcpy(digits, tok, toklen);
        digits[toklen] = '\0';
        errno = 0;
        v = strtol(digits, &stop, 10);
        if (errno != 0 || stop != digits + toklen)
            goto out_of_range;
        if (v < f->min || v > f->max)
            goto out_of_range;
        *value = (int)v;
        return 0;
    out_of_range:
        set_err(err, errcap, "%s field: value %.*s out of range %d-%d", f->label, (int)toklen, tok,
                f->min, f->max);
        return -1;
    }
    if (!f->names) {
        set_err(err, errcap, "%s field: invalid value \"%.*s\"", f->label, (int)toklen, tok);
        return -1;
    }
    for (i = 0; f->names[i]; i++) {
        if (toklen == strlen(f->names[i]) && strncasecmp(tok, f->names[i], toklen) == 0) {
            *value = f->name_base + (int)i;
            *was_name = 1;
            return 0;
        }
    }
    set_err(err, errcap, "%s field: unknown name \"%.*s\"", f->label, (int)toklen, tok);
    return -1;
}

/* The step after '/', starting at elem[*pos]. */
static int parse_step(const cron_field *f, const char *elem, size_t elen, size_t *pos, int *step,
                      char *err, size_t errcap)
{
    size_t start = *pos, end = *pos, i;
    const char *tok = elem + start;
    size_t toklen;
    int span = f->open_max - f->min + 1;
    char digits[CRON_NUM_DIGITS + 1];
    char *stop = NULL;
    long v;

    while (end < elen && isalnum((unsigned char)elem[end]))
        end++;
    toklen = end - start;
    *pos = end;
    if (toklen == 0) {
        set_err(err, errcap, "%s field: missing step after \"/\" in \"%.*s\"", f->label, (int)elen,
                elem);
        return -1;
    }
    for (i = 0; i < toklen; i++) {
        if (!isdigit((unsigned char)tok[i])) {
            set_err(err, errcap, "%s field: invalid step \"%.*s\"", f->label, (int)toklen, tok);
            return -1;
        }
    }
    if (toklen > CRON_NUM_DIGITS)
        goto out_of_range;
    memcpy(digits, tok, toklen);
    digits[toklen] = '\0';
    errno = 0;
    v = strtol(digits, &stop, 10);
    if (errno != 0 || stop != digits + toklen)
        goto out_of_range;
    if (v == 0) {
        set_err(err, errcap, "%s field: step 0 is invalid", f->label);
        return -1;
    }
    if (v > span)
        goto out_of_range;
    *step = (int)v;
    return 0;
out_of_range:
    set_err(err, errcap, "%s field: step %.*s out of range 1-%d", f->label, (int)toklen, tok, span);
    return -1;
}

/* One list element: "*", "a", "a-b", each optionally followed by "/n". */
static int parse_element(const cron_field *f, const char *elem, size_t elen, uint64_t *bits,
                         char *err, size_t errcap)
{
    size_t pos = 0;
    int lo, hi, step = 1, lo_name = 0, hi_name = 0, v;
    int star = 0, ranged = 0;

    if (elen == 0) {
        set_err(err, errcap, "%s field: empty list element", f->label);
        return -1;
    }
    if (elem[0] == '*') {
        star = 1;
        pos = 1;
        lo = f->min;
        hi = f->open_max;
    } else {
        if (parse_value(f, elem, elen, &pos, &lo, &lo_name, err, errcap) < 0)
            return -1;
        hi = lo;
        if (pos < elen && elem[pos] == '-') {
            ranged = 1;
            pos++;
            if (parse_value(f, elem, elen, &pos, &hi, &hi_name, err, errcap) < 0)
                return -1;
            /* "fri-sun": a weekday range may end on Sunday written as a name. */
            if (f->names == wday_names && hi_name && hi == 0 && lo > 0)
                hi = 7;
            if (lo > hi) {
                set_err(err, errcap, "%s field: range %.*s is reversed", f->label, (int)pos,
                        elem);
                return -1;
            }
        }
    }
    if (pos < elen && elem[pos] == '/') {
        pos++;
        if (parse_step(f, elem, elen, &pos, &step, err, errcap) < 0)
            return -1;
        if (!star && !ranged)
            hi = lo > f->open_max ? lo : f->open_max; /* "a/n": a to the end */
    }
    if (pos != elen) {
        set_err(err, errcap, "%s field: unexpected \"%.*s\" in \"%.*s\"", f->label,
                (int)(elen - pos), elem + pos, (int)elen, elem);
        return -1;
    }
    for (v = lo; v <= hi; v += step)
        *bits |= UINT64_C(1) << v;
    return 0;
}

/* A comma list of elements. */
static int parse_field(const cron_field *f, const char *text, size_t len, uint64_t *bits, char *err,
                       size_t errcap)
{
    size_t start = 0, i;

    if (len > CRON_FIELD_MAX) {
        set_err(err, errcap, "%s field: longer than %d characters", f->label, CRON_FIELD_MAX);
        return -1;
    }
    *bits = 0;
    for (i = 0; i <= len; i++) {
        if (i == len || text[i] == ',') {
            if (parse_element(f, text + start, i - start, bits, err, errcap) < 0)
                return -1;
            start = i + 1;
        }
    }
    return 0;
}

static int parse_macro(const char *expr, drudge_cron *out, char *err, size_t errcap)
{
    size_t n = 0, i;
    const char *rest;

    while (expr[n] && !isspace((unsigned char)expr[n]))
        n++;
    for (rest = expr + n; *rest; rest++) {
        if (!isspace((unsigned char)*rest)) {
            set_err(err, errcap, "macro \"%.*s\" takes no other fields", (int)n, expr);
            return -1;
        }
    }
    for (i = 0; i < sizeof macros / sizeof macros[0]; i++) {
        if (n == strlen(macros[i].name) && strncasecmp(expr, macros[i].name, n) == 0) {
            if (!macros[i].expansion) {
                set_err(err, errcap, "macro \"%.*s\" is not supported", (int)n, expr);
                return -1;
            }
            return drudge__cron_parse(macros[i].expansion, out, err, errcap);
        }
    }
    set_err(err, errcap, "unknown macro \"%.*s\"", (int)(n > 32 ? 32 : n), expr);
    return -1;
}

int drudge__cron_parse(const char *expr, drudge_cron *out, char *err, size_t errcap)
{
    const char *start[F_COUNT];
    size_t len[F_COUNT];
    uint64_t bits[F_COUNT];
    int count = 0, i;
    const char *p;
    drudge_cron c;

    if (err && errcap > 0)
        err[0] = '\0';
    if (!expr || !out) {
        set_err(err, errcap, "no expression");
        return -1;
    }
    p = expr;
    while (isspace((unsigned char)*p))
        p++;
    if (*p == '@')
        return parse_macro(p, out, err, errcap);

    while (*p) {
        const char *tok = p;

        while (*p && !isspace((unsigned char)*p))
            p++;
        if (count < F_COUNT) {
            start[count] = tok;
            len[count] = (size_t)(p - tok);
        }
        count++;
        while (isspace((unsigned char)*p))
            p++;
    }
    if (count != F_COUNT) {
        set_err(err, errcap, "expected %d fields, got %d", F_COUNT, count);
        return -1;
    }
    for (i = 0; i < F_COUNT; i++) {
        if (parse_field(&fields[i], start[i], len[i], &bits[i], err, errcap) < 0)
            return -1;
    }

    memset(&c, 0, sizeof c);
    c.minutes = bits[F_MINUTE];
    c.hours = (uint32_t)bits[F_HOUR];
    c.mdays = (uint32_t)bits[F_MDAY];
    c.months = (uint16_t)bits[F_MONTH];
    /* 7 is Sunday: fold bit 7 onto bit 0. */
    c.wdays = (uint8_t)((bits[F_WDAY] | (bits[F_WDAY] >> 7)) & 0x7f);
    /* Only a bare star leaves a day field unrestricted; a stepped star
     * (every other day) restricts it. */
    c.mday_star = len[F_MDAY] == 1 && start[F_MDAY][0] == '*';
    c.wday_star = len[F_WDAY] == 1 && start[F_WDAY][0] == '*';
    *out = c;
    return 0;
}

/* ---- matching ---- */

/* Vixie's rule: with both day fields restricted either may match; with one
 * of them "*", only the other counts. */
static int day_matches(const drudge_cron *c, int mday, int wday)
{
    int dom = mday >= 1 && mday <= 31 && ((c->mdays >> mday) & 1u);
    int dow = wday >= 0 && wday <= 6 && ((c->wdays >> wday) & 1u);

    if (c->mday_star && c->wday_star)
        return 1;
    if (c->mday_star)
        return dow;
    if (c->wday_star)
        return dom;
    return dom || dow;
}

int drudge__cron_matches(const drudge_cron *c, const struct tm *tm)
{
    if (!c || !tm)
        return 0;
    if (tm->tm_min < 0 || tm->tm_min > 59 || !((c->minutes >> tm->tm_min) & 1u))
        return 0;
    if (tm->tm_hour < 0 || tm->tm_hour > 23 || !((c->hours >> tm->tm_hour) & 1u))
        return 0;
    if (tm->tm_mon < 0 || tm->tm_mon > 11 || !((c->months >> (tm->tm_mon + 1)) & 1u))
        return 0;
    return day_matches(c, tm->tm_mday, tm->tm_wday);
}

/* ---- next run ---- */

/* Lowest set bit >= from and <= last, or -1. */
static int next_bit(uint64_t bits, int from, int last)
{
    int i;

    for (i = from; i <= last; i++)
        if ((bits >> i) & 1u)
            return i;
    return -1;
}

/* "Wall seconds" are a zone's broken-down local time read as if it were UTC:
 * calendar arithmetic on them never meets a DST jump. The wall time of
 * instant s; `local` selects the current TZ over UTC. */
static int64_t wall_of(int64_t s, int local)
{
    time_t t = (time_t)s;
    struct tm tm;

    if (local ? !localtime_r(&t, &tm) : !gmtime_r(&t, &tm))
        return INT64_MIN;
    return (int64_t)timegm(&tm);
}

/* First matching wall minute >= w and <= limit, into *out. 0 or -1. Skips
 * whole months, days and hours that cannot match. */
static int next_wall_match(const drudge_cron *c, int64_t w, int64_t limit, int64_t *out)
{
    int64_t rem = ((w % 60) + 60) % 60;

    if (rem)
        w += 60 - rem;
    while (w <= limit) {
        time_t t = (time_t)w;
        struct tm tm;
        int hour, minute;

        if (!gmtime_r(&t, &tm))
            return -1;
        tm.tm_sec = 0;
        tm.tm_isdst = 0;
        if (!((c->months >> (tm.tm_mon + 1)) & 1u)) {
            tm.tm_mon++;
            tm.tm_mday = 1;
            tm.tm_hour = 0;
            tm.tm_min = 0;
        } else if (!day_matches(c, tm.tm_mday, tm.tm_wday) ||
                   (hour = next_bit(c->hours, tm.tm_hour, 23)) < 0) {
            tm.tm_mday++;
            tm.tm_hour = 0;
            tm.tm_min = 0;
        } else if (hour != tm.tm_hour) {
            tm.tm_hour = hour;
            tm.tm_min = 0;
        } else if ((minute = next_bit(c->minutes, tm.tm_min, 59)) < 0) {
            tm.tm_hour++;
            tm.tm_min = 0;
        } else {
            tm.tm_min = minute;
            *out = (int64_t)timegm(&tm);
            return 0;
        }
        w = (int64_t)timegm(&tm);
    }
    return -1;
}

/* The instants (0, 1, or 2 in a repeated hour) whose local wall time is
 * `wall`. Offsets are probed well before and after, so a transition near
 * `wall` yields both candidate offsets. */
static int instants_at(int64_t wall, int local, int64_t inst[2])
{
    int64_t off_before, off_after;
    int n = 0;

    if (!local) {
        inst[0] = wall;
        return 1;
    }
    off_before = wall_of(wall - 18 * 3600, 1);
    off_after = wall_of(wall + 15 * 3600, 1);
    if (off_before == INT64_MIN || off_after == INT64_MIN)
        return 0;
    off_before -= wall - 18 * 3600;
    off_after -= wall + 15 * 3600;
    if (wall_of(wall - off_before, 1) == wall)
        inst[n++] = wall - off_before;
    if (off_after != off_before && wall_of(wall - off_after, 1) == wall)
        inst[n++] = wall - off_after;
    return n;
}

/* Earliest instant > after whose wall time matches. Wall times are visited
 * in order; around a fall-back a later wall time can be an earlier instant,
 * so the search starts ZONE_SHIFT_MAX early and runs that far past the best
 * found. In a skipped hour nothing matches; in a repeated hour both
 * instants do. */
static int64_t search(const drudge_cron *c, int64_t after, int local)
{
    int64_t margin = local ? ZONE_SHIFT_MAX : 0;
    int64_t wall_after = wall_of(after, local);
    int64_t w, limit, best = -1, best_wall = 0, cand;
    int found = 0;

    if (wall_after == INT64_MIN)
        return -1;
    w = wall_after - margin;
    limit = wall_after + SEARCH_SPAN + margin;
    while (next_wall_match(c, w, found ? best_wall + margin : limit, &cand) == 0) {
        int64_t inst[2];
        int n = instants_at(cand, local, inst), i;

        for (i = 0; i < n; i++) {
            if (inst[i] > after && (!found || inst[i] < best)) {
                best = inst[i];
                best_wall = cand;
                found = 1;
            }
        }
        w = cand + 60;
    }
    return found ? best : -1;
}

/* A zone name we are willing to hand to TZ: a plain relative name of an
 * existing TZif file under ZONEINFO_DIR. Writes the full path to `path`. */
static int zone_path(const char *tz, char *path, size_t cap)
{
    size_t n = strlen(tz), i;
    struct stat st;
    char magic[4];
    FILE *fp;
    int ok;

    if (n == 0 || n > ZONE_NAME_MAX || tz[0] == '/' || strstr(tz, ".."))
        return -1;
    for (i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)tz[i];

        if (!isalnum(ch) && ch != '/' && ch != '_' && ch != '-' && ch != '+')
            return -1;
    }
    ok = snprintf(path, cap, "%s/%s", ZONEINFO_DIR, tz);
    if (ok < 0 || (size_t)ok >= cap)
        return -1;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
        return -1;
    fp = fopen(path, "rb");
    if (!fp)
        return -1;
    ok = fread(magic, 1, sizeof magic, fp) == sizeof magic && memcmp(magic, "TZif", 4) == 0;
    fclose(fp);
    return ok ? 0 : -1;
}

/* TZ is process-wide: calls here take turns. Other threads formatting local
 * time meanwhile would see the borrowed zone; drudge does not. */
static pthread_mutex_t tz_lock = PTHREAD_MUTEX_INITIALIZER;

int64_t drudge__cron_next(const drudge_cron *c, int64_t after, const char *tz)
{
    char path[sizeof ZONEINFO_DIR + ZONE_NAME_MAX + 2];
    char tzval[sizeof path + 1];
    char *saved = NULL;
    const char *old;
    int64_t rc = -1;
    int had_old;

    if (!c || after < AFTER_MIN || after > AFTER_MAX)
        return -1;
    if ((c->minutes & ((UINT64_C(1) << 60) - 1)) == 0 || (c->hours & 0xffffffu) == 0 ||
        (c->months & 0x1ffeu) == 0)
        return -1;
    if (!tz || tz[0] == '\0' || strcmp(tz, "UTC") == 0)
        return search(c, after, 0);

    if (zone_path(tz, path, sizeof path) < 0)
        return -1;
    /* A leading ':' names a file: the one just checked, whatever TZDIR says. */
    if (snprintf(tzval, sizeof tzval, ":%s", path) >= (int)sizeof tzval)
        return -1;

    pthread_mutex_lock(&tz_lock);
    old = getenv("TZ");
    had_old = old != NULL;
    if (had_old && !(saved = strdup(old)))
        goto out;
    if (setenv("TZ", tzval, 1) != 0)
        goto out;
    tzset();
    rc = search(c, after, 1);
    if (had_old)
        setenv("TZ", saved, 1);
    else
        unsetenv("TZ");
    tzset();
out:
    pthread_mutex_unlock(&tz_lock);
    free(saved);
    return rc;
}
