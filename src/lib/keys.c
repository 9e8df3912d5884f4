/* keys.c - every Redis key name drudge uses is built here, and nowhere else.
 * Per-class keys are named after the class exactly as a producer writes it
 * (`ImageJob`, `ImageJob:status:<id>`); an optional namespace prefixes all of
 * them (`ns:ImageJob`). The list is in docs/protocol.md. */
#include "internal.h"

#include <string.h>

static int build(char *out, size_t cap, const char *ns, const char *a, const char *b,
                 const char *c)
{
    int has_ns = ns != NULL && *ns != '\0';
    return drudge__fmt(out, cap, "%s%s%s%s%s", has_ns ? ns : "", has_ns ? ":" : "", a,
                       b ? b : "", c ? c : "");
}

int drudge__keys_init(drudge_keys *k, const char *ns, const char *class_name)
{
    if (build(k->queue, sizeof k->queue, ns, class_name, NULL, NULL) < 0 ||
        build(k->delayed, sizeof k->delayed, ns, class_name, ":delayed", NULL) < 0 ||
        build(k->failed, sizeof k->failed, ns, class_name, ":failed", NULL) < 0 ||
        build(k->paused, sizeof k->paused, ns, class_name, ":paused", NULL) < 0 ||
        build(k->stats, sizeof k->stats, ns, class_name, ":stats", NULL) < 0 ||
        build(k->status_prefix, sizeof k->status_prefix, ns, class_name, ":status:", NULL) < 0 ||
        build(k->processing_prefix, sizeof k->processing_prefix, ns, class_name, ":processing:",
              NULL) < 0 ||
        build(k->breaker, sizeof k->breaker, ns, class_name, ":breaker", NULL) < 0 ||
        build(k->rate, sizeof k->rate, ns, class_name, ":rate", NULL) < 0 ||
        build(k->minute_prefix, sizeof k->minute_prefix, ns, class_name, ":minute:", NULL) < 0)
        return -1;
    return 0;
}

int drudge__key_status(const drudge_keys *k, const char *id, char *out, size_t cap)
{
    return drudge__fmt(out, cap, "%s%s", k->status_prefix, id);
}

int drudge__key_processing(const drudge_keys *k, const char *worker_id, char *out, size_t cap)
{
    return drudge__fmt(out, cap, "%s%s", k->processing_prefix, worker_id);
}

int drudge__key_workers(const char *ns, char *out, size_t cap)
{
    return build(out, cap, ns, "drudge:workers", NULL, NULL);
}

int drudge__key_worker(const char *ns, const char *worker_id, char *out, size_t cap)
{
    return build(out, cap, ns, "drudge:worker:", worker_id, NULL);
}

int drudge__key_classes(const char *ns, char *out, size_t cap)
{
    return build(out, cap, ns, "drudge:classes", NULL, NULL);
}

int drudge__key_lock(const char *ns, const char *what, char *out, size_t cap)
{
    return build(out, cap, ns, "drudge:lock:", what, NULL);
}

int drudge__key_push(const char *ns, const char *token, char *out, size_t cap)
{
    return build(out, cap, ns, "drudge:push:", token, NULL);
}

int drudge__key_cron(const char *ns, const char *entry, char *out, size_t cap)
{
    return build(out, cap, ns, "drudge:cron:", entry, NULL);
}
