/* series.h - the overview's "per minute" figures and last-hour plot, from
 * the per-minute counters the workers keep in Redis (<Class>:minute:<m>,
 * written with every ack batch and kept 24 h; read by
 * drudge_class_minutes()). The numbers are therefore right as soon as
 * `drudge web` starts, and the same across restarts and across several
 * dashboards. Pure: JSON in, JSON out (tests/unit/test_web_series.c). */
#ifndef DRUDGE_WEB_SERIES_H
#define DRUDGE_WEB_SERIES_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define WEB_PLOT_MINUTES 60 /* the overview's plot: the last hour */
#define WEB_MINUTE_MS 60000

/* The counters plotted and rated, as named in drudge_class_minutes()'s
 * rows (NULL-terminated). */
extern const char *const web_series_fields[];

/* From what drudge_class_minutes() returned (borrowed), for one class:
 *   {"per_minute": {"processed": x, "failed": y, "retried": z},
 *    "series": {"start_minute": m (unix minute of the first point),
 *               "processed": [...], "failed": [...], "retried": [...]}}
 * one point per minute, oldest first, the current (unfinished) minute
 * last. NULL when `minutes` is not that shape or memory ran out. */
json_t *web_series_json(const json_t *minutes);

/* Jobs in the last 60 s, estimated from whole-minute counters: all of the
 * current minute (`into_ms` old, clamped to 0-60000) and the part of the
 * previous minute that is still inside the last 60 s, pro rata. */
double web_series_rate(long long previous, long long current, int64_t into_ms);

#endif
