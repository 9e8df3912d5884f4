/* series.c - per-class rings of counter samples (see series.h). */
#include "series.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MINUTE_MS 60000

void web_series_init(web_series *s, int64_t interval_ms, int64_t window_ms)
{
    memset(s, 0, sizeof *s);
    if (interval_ms <= 0)
        interval_ms = 1000;
    /* one more than the window needs, so a full window has a start sample */
    s->slots = (size_t)(window_ms / interval_ms) + 2;
}

void web_series_release(web_series *s)
{
    for (size_t i = 0; i < s->nclasses; i++)
        free(s->classes[i].ring);
    free(s->classes);
    size_t slots = s->slots;
    memset(s, 0, sizeof *s);
    s->slots = slots;
}

static const web_series_class *find_class(const web_series *s, const char *name)
{
    for (size_t i = 0; i < s->nclasses; i++)
        if (strcmp(s->classes[i].name, name) == 0)
            return &s->classes[i];
    return NULL;
}

/* The i-th oldest sample of c. */
static const web_series_sample *nth(const web_series *s, const web_series_class *c, size_t i)
{
    return &c->ring[(c->start + i) % s->slots];
}

int web_series_add(web_series *s, const char *class_name, int64_t t_ms, long long processed,
                   long long failed)
{
    web_series_class *c = (web_series_class *)find_class(s, class_name);
    if (c == NULL) {
        if (s->nclasses == WEB_SERIES_CLASSES_MAX || strlen(class_name) > DRUDGE_CLASS_MAX)
            return -1;
        if (s->nclasses == s->cap) {
            size_t cap = s->cap ? s->cap * 2 : 8;
            web_series_class *grown = realloc(s->classes, cap * sizeof *grown);
            if (grown == NULL)
                return -1;
            s->classes = grown;
            s->cap = cap;
        }
        c = &s->classes[s->nclasses];
        memset(c, 0, sizeof *c);
        if ((c->ring = calloc(s->slots, sizeof *c->ring)) == NULL)
            return -1;
        snprintf(c->name, sizeof c->name, "%s", class_name);
        s->nclasses++;
    }
    web_series_sample sample = {t_ms, processed, failed};
    if (c->count < s->slots) {
        c->ring[(c->start + c->count) % s->slots] = sample;
        c->count++;
    } else {
        c->ring[c->start] = sample;
        c->start = (c->start + 1) % s->slots;
    }
    return 0;
}

/* The latest sample taken at or before t, or NULL. */
static const web_series_sample *at_or_before(const web_series *s, const web_series_class *c,
                                             int64_t t)
{
    const web_series_sample *found = NULL;
    for (size_t i = 0; i < c->count; i++) {
        const web_series_sample *x = nth(s, c, i);
        if (x->t_ms > t)
            break;
        found = x;
    }
    return found;
}

static long long delta(long long from, long long to)
{
    return to >= from ? to - from : to; /* went down: counters were reset */
}

void web_series_minutes(const web_series *s, const char *class_name, int64_t now_ms, int minutes,
                        long long *processed, long long *failed)
{
    const web_series_class *c = find_class(s, class_name);
    for (int m = 0; m < minutes; m++) {
        int64_t end = now_ms - (int64_t)(minutes - 1 - m) * MINUTE_MS, begin = end - MINUTE_MS;
        processed[m] = failed[m] = -1;
        if (c == NULL || c->count == 0)
            continue;
        const web_series_sample *b = at_or_before(s, c, end), *a = at_or_before(s, c, begin);
        if (b == NULL)
            continue;
        if (a == NULL) {
            /* the first sample falls inside this minute: count from it */
            a = nth(s, c, 0);
            if (a->t_ms <= begin || a->t_ms >= end)
                continue;
        }
        processed[m] = delta(a->processed, b->processed);
        failed[m] = delta(a->failed, b->failed);
    }
}

int web_series_rate(const web_series *s, const char *class_name, double *processed_pm,
                    double *failed_pm)
{
    const web_series_class *c = find_class(s, class_name);
    if (c == NULL || c->count < 2)
        return -1;
    const web_series_sample *last = nth(s, c, c->count - 1);
    const web_series_sample *first = at_or_before(s, c, last->t_ms - MINUTE_MS);
    if (first == NULL)
        first = nth(s, c, 0);
    int64_t span = last->t_ms - first->t_ms;
    if (span <= 0)
        return -1;
    *processed_pm = (double)delta(first->processed, last->processed) * MINUTE_MS / (double)span;
    *failed_pm = (double)delta(first->failed, last->failed) * MINUTE_MS / (double)span;
    return 0;
}
