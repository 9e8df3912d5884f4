/* capacity.h - the talk's capacity arithmetic with measured numbers: a
 * worker of a class takes so much memory (the live workers' RSS) and a job
 * so long (the class's run_ms over its attempts), so this much memory
 * holds that many workers, which do that many jobs a month. Used by
 * `drudge capacity` and the overview's panel. Pure: JSON in, JSON out
 * (tests/unit/test_web_capacity.c). */
#ifndef DRUDGE_WEB_CAPACITY_H
#define DRUDGE_WEB_CAPACITY_H

#include <jansson.h>
#include <stdint.h>

#define WEB_MONTH_DAYS 30

/* From drudge_stats_get() and drudge_workers_list() output (borrowed):
 * {"memory_bytes", "month_days",
 *  "classes": [{"class", "workers" (live), "rss_bytes" (mean per live
 *     worker, or null), "job_ms" (mean per attempt, or null), "fit"
 *     (workers that fit in the memory), "jobs_per_second", "jobs_per_month"
 *     (those workers, busy all the time; null when unmeasured)}],
 *  "mix": {"workers", "rss_bytes" (all live workers), "jobs_per_month"
 *     (now, busy all the time), "scale", "fit", "fit_jobs_per_month" (the
 *     same mix grown to fill the memory)}}.
 * New reference, or NULL when out of memory. */
json_t *web_capacity_compute(const json_t *stats, const json_t *workers, uint64_t memory_bytes);

#endif
