/* series.c - per-minute plot data and rates from the runtime's per-minute
 * counters (see series.h). */
#include "series.h"

const char *const web_series_fields[] = {"processed", "failed", "retried", NULL};

double web_series_rate(long long previous, long long current, int64_t into_ms)
{
    if (into_ms < 0)
        into_ms = 0;
    if (into_ms > WEB_MINUTE_MS)
        into_ms = WEB_MINUTE_MS;
    double left = (double)(WEB_MINUTE_MS - into_ms) / WEB_MINUTE_MS;
    return (double)current + (double)previous * left;
}

static long long count_of(const json_t *row, const char *field)
{
    const json_t *v = json_object_get(row, field);
    return json_is_integer(v) && json_integer_value(v) > 0 ? (long long)json_integer_value(v) : 0;
}

json_t *web_series_json(const json_t *minutes)
{
    const json_t *rows = json_object_get(minutes, "minutes");
    const json_t *now = json_object_get(minutes, "now"),
                 *minute = json_object_get(minutes, "minute");
    size_t n = json_array_size(rows);
    if (n == 0 || !json_is_integer(now) || !json_is_integer(minute))
        return NULL;
    json_int_t last = json_integer_value(minute);
    int64_t into = (int64_t)json_integer_value(now) - (int64_t)last * WEB_MINUTE_MS;
    json_t *series = json_pack("{s:I}", "start_minute", last - (json_int_t)n + 1);
    json_t *rate = json_object();
    json_t *out = json_pack("{s:o, s:o}", "per_minute", rate, "series", series);
    if (out == NULL)
        return NULL;
    for (size_t f = 0; web_series_fields[f] != NULL; f++) {
        const char *name = web_series_fields[f];
        json_t *points = json_array();
        for (size_t i = 0; points && i < n; i++)
            if (json_array_append_new(points,
                                      json_integer(count_of(json_array_get(rows, i), name))) < 0) {
                json_decref(points);
                points = NULL;
            }
        long long current = count_of(json_array_get(rows, n - 1), name);
        long long previous = n > 1 ? count_of(json_array_get(rows, n - 2), name) : 0;
        if (json_object_set_new(series, name, points) < 0 ||
            json_object_set_new(rate, name, json_real(web_series_rate(previous, current, into))) <
                0) {
            json_decref(out);
            return NULL;
        }
    }
    return out;
}
