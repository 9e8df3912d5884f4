/* metrics.h - /metrics in the Prometheus text format (version 0.0.4), from
 * what drudge_stats_get() and drudge_workers_list() return. Pure: JSON in,
 * text out (tests/unit/test_web_metrics.c; the system test runs promtool
 * on it where it is installed). */
#ifndef DRUDGE_WEB_METRICS_H
#define DRUDGE_WEB_METRICS_H

#include "strbuf.h"

#include <jansson.h>

#define WEB_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* Append a label value with \ " and newline escaped. 0 or -1. */
int web_metrics_label(strbuf *out, const char *value);
/* A histogram bound: ms as seconds in the shortest exact decimal
 * ("0.005", "2.5", "300"). 0, or -1 (negative, or cap too small). */
int web_metrics_le(long long ms, char *out, size_t cap);
/* Append every metric family. stats and workers are borrowed arrays.
 * 0 or -1 (buffer failed). */
int web_metrics_format(strbuf *out, const json_t *stats, const json_t *workers);

#endif
