/* schedule.c - fires the `schedule:` entries of the config (cron moved into
 * the workers). Every worker's supervisor thread checks the entries each
 * tick; the cron_fire script makes each due minute fire exactly once however
 * many workers see it. Each fire is its own job: the entry's payload with
 * an "id" of "<name>-<YYYYmmddHHMM>" added (unless the payload has one), so
 * its status can be looked up and two fires never share a status hash.
 *
 * After all workers were down, an entry with catch_up (the default) fires
 * once for the missed time(s), at start-up; without catch_up missed times
 * are skipped. Parsing and next-time arithmetic live in cron.c. */
#include "runtime.h"

#include <stdio.h>
#include <string.h>

typedef struct entry_state {
    drudge_cron cron;
    int valid;
    int64_t next_due;       /* unix s; 0 = not loaded from Redis yet */
} entry_state;

struct drudge_schedule {
    entry_state *entries;
    size_t n;
};

drudge_schedule *drudge__schedule_new(const drudge_config *cfg)
{
    drudge_schedule *s = calloc(1, sizeof *s);
    if (s == NULL)
        return NULL;
    s->n = cfg->nschedule;
    s->entries = calloc(s->n ? s->n : 1, sizeof *s->entries);
    if (s->entries == NULL) {
        free(s);
        return NULL;
    }
    for (size_t i = 0; i < s->n; i++) {
        char err[256];
        const drudge_schedule_entry *e = &cfg->schedule[i];
        if (drudge__cron_parse(e->cron, &s->entries[i].cron, err, sizeof err) < 0) {
            drudge_log(DRUDGE_LOG_ERROR, "cron_invalid", "entry=%s cron=%s error=%s", e->name,
                       e->cron, err);
            continue;
        }
        s->entries[i].valid = 1;
    }
    return s;
}

void drudge__schedule_free(drudge_schedule *s)
{
    if (s == NULL)
        return;
    free(s->entries);
    free(s);
}

/* The entry's payload with a per-fire id; caller frees. */
static char *fire_payload(const drudge_schedule_entry *e, int64_t due, char id[DRUDGE_ID_MAX + 1])
{
    json_t *obj = json_loads(e->payload, 0, NULL);
    if (!json_is_object(obj)) {
        json_decref(obj);
        return NULL;
    }
    const json_t *given = json_object_get(obj, "id");
    if (json_is_string(given)) {
        snprintf(id, DRUDGE_ID_MAX + 1, "%s", json_string_value(given));
    } else {
        time_t t = (time_t)due;
        struct tm tm;
        gmtime_r(&t, &tm);
        snprintf(id, DRUDGE_ID_MAX + 1, "%.100s-%04d%02d%02d%02d%02d", e->name, tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min);
        json_object_set_new(obj, "id", json_string(id));
    }
    char *text = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(obj);
    return text;
}

static void fire(drudge_worker *w, const drudge_schedule_entry *e, int64_t due)
{
    char id[DRUDGE_ID_MAX + 1];
    char *payload = fire_payload(e, due, id);
    drudge_keys k;
    char cron_key[DRUDGE_KEY_MAX], status_key[DRUDGE_KEY_MAX + DRUDGE_ID_MAX],
        classes_key[DRUDGE_KEY_MAX], due_s[24];
    if (payload == NULL || drudge__keys_init(&k, w->cfg->namespace_, e->class_name) < 0 ||
        drudge__key_cron(w->cfg->namespace_, e->name, cron_key, sizeof cron_key) < 0 ||
        drudge__key_status(&k, id, status_key, sizeof status_key) < 0 ||
        drudge__key_classes(w->cfg->namespace_, classes_key, sizeof classes_key) < 0) {
        free(payload);
        return;
    }
    snprintf(due_s, sizeof due_s, "%lld", (long long)due);
    const char *argv[7] = {cron_key, k.queue, status_key, classes_key, due_s, payload,
                           e->class_name};
    redisReply *r = drudge__conn_eval(&w->hk_conn, &drudge__script_cron_fire, 4, 7, argv, NULL);
    if (r && r->type == REDIS_REPLY_INTEGER && r->integer == 1)
        drudge_log(DRUDGE_LOG_INFO, "cron_fired", "entry=%s class=%s id=%s due=%lld", e->name,
                   e->class_name, id, (long long)due);
    if (r)
        freeReplyObject(r);
    free(payload);
}

/* Last fire time recorded in Redis, 0 if none, -1 on error. */
static int64_t last_fire(drudge_worker *w, const drudge_schedule_entry *e)
{
    char key[DRUDGE_KEY_MAX];
    if (drudge__key_cron(w->cfg->namespace_, e->name, key, sizeof key) < 0)
        return -1;
    const char *argv[3] = {"HGET", key, "last_fire"};
    redisReply *r = drudge__conn_cmd(&w->hk_conn, 3, argv, NULL);
    if (r == NULL)
        return -1;
    long v = 0;
    if (r->type == REDIS_REPLY_STRING)
        drudge__parse_long(r->str, 0, 1L << 40, &v);
    freeReplyObject(r);
    return v;
}

int64_t drudge__schedule_tick(drudge_worker *w, drudge_schedule *s)
{
    int64_t now = drudge__now_ms() / 1000;
    int64_t soonest = -1;
    for (size_t i = 0; i < s->n; i++) {
        entry_state *st = &s->entries[i];
        const drudge_schedule_entry *e = &w->cfg->schedule[i];
        if (!st->valid)
            continue;
        if (st->next_due == 0) {
            int64_t last = last_fire(w, e);
            if (last < 0)
                continue;
            if (last == 0) {
                /* a new entry starts from now: no fire for times before it existed */
                st->next_due = drudge__cron_next(&st->cron, now, e->timezone);
            } else {
                st->next_due = drudge__cron_next(&st->cron, last, e->timezone);
                if (st->next_due > 0 && st->next_due < now - 60) {
                    /* every worker was down when it was due: fire once for
                     * the missed time(s) if the entry wants it, else skip */
                    if (e->catch_up) {
                        drudge_log(DRUDGE_LOG_INFO, "cron_catch_up", "entry=%s missed=%lld",
                                   e->name, (long long)st->next_due);
                        fire(w, e, now - now % 60);
                    } else {
                        drudge_log(DRUDGE_LOG_INFO, "cron_skip_missed", "entry=%s missed=%lld",
                                   e->name, (long long)st->next_due);
                    }
                    st->next_due = drudge__cron_next(&st->cron, now, e->timezone);
                }
            }
            if (st->next_due < 0) {
                st->valid = 0;
                continue;
            }
        }
        if (now >= st->next_due) {
            fire(w, e, st->next_due);
            st->next_due = drudge__cron_next(&st->cron, now, e->timezone);
            if (st->next_due < 0) {
                st->valid = 0;
                continue;
            }
        }
        int64_t ms = (st->next_due - now) * 1000;
        if (soonest < 0 || ms < soonest)
            soonest = ms;
    }
    return soonest;
}
