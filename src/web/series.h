/* series.h - the last hour of each class's counters, sampled in the web
 * process: the overview's "per minute" numbers and its throughput plot.
 * The runtime keeps only running totals (<Class>:stats processed, failed),
 * so the dashboard samples them every few seconds into a ring per class
 * and derives per-minute deltas from the ring; the plot therefore starts
 * when `drudge web` started. Pure; the caller locks
 * (tests/unit/test_web_series.c). */
#ifndef DRUDGE_WEB_SERIES_H
#define DRUDGE_WEB_SERIES_H

#include "drudge.h"

#include <stddef.h>
#include <stdint.h>

#define WEB_SERIES_CLASSES_MAX 256 /* classes tracked; more are ignored */

typedef struct web_series_sample {
    int64_t t_ms;
    long long processed, failed;
} web_series_sample;

typedef struct web_series_class {
    char name[DRUDGE_CLASS_MAX + 1];
    web_series_sample *ring; /* owned, `slots` entries */
    size_t start, count;     /* oldest sample, number of samples */
} web_series_class;

typedef struct web_series {
    web_series_class *classes; /* owned */
    size_t nclasses, cap;
    size_t slots; /* samples kept per class */
} web_series;

/* Keep window_ms of samples taken every interval_ms. Caller-owned struct;
 * release with web_series_release(). */
void web_series_init(web_series *s, int64_t interval_ms, int64_t window_ms);
void web_series_release(web_series *s);
/* Record a class's counters at t_ms (samples come in time order).
 * 0, or -1 (out of memory or too many classes). */
int web_series_add(web_series *s, const char *class_name, int64_t t_ms, long long processed,
                   long long failed);
/* Jobs done and failed in each of the `minutes` minutes that end at now_ms,
 * oldest first; -1 where the samples do not cover a minute. A counter that
 * went down (stats reset) counts from zero. */
void web_series_minutes(const web_series *s, const char *class_name, int64_t now_ms, int minutes,
                        long long *processed, long long *failed);
/* Jobs per minute over the last minute of samples (scaled when less than a
 * minute is covered). 0, or -1 when fewer than two samples exist. */
int web_series_rate(const web_series *s, const char *class_name, double *processed_pm,
                    double *failed_pm);

#endif
