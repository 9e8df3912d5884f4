/* latency_bench - enqueue->start and enqueue->done of a steady stream of
 * no-op jobs, measured from outside the workers.
 *
 *   latency_bench HOST PORT CLASS RATE SECS TAG
 *
 * Pushes RATE jobs a second for SECS seconds with plain RPUSH (open loop:
 * each job is sent at its scheduled time, whatever the replies do; jobs due
 * at the same moment share one RPUSH), payload
 * {"id":"TAG-<n>","t":<unix us>}. Done is seen as the keyspace event
 * "expire" on the job's status hash - the worker's ack sets the TTL of a
 * finished status, nothing else touches that key - so the caller must have
 * set notify-keyspace-events to include K and g. Afterwards the status
 * hashes are read for started_at / finished_at (unix ms, Redis' clock).
 *
 * Prints one JSON object with one entry per job:
 *   done_us       push sent -> expire event received (this process's
 *                 monotonic clock; includes the event's delivery)
 *   start_ms      started_at - push time (whole ms from Redis' clock, minus
 *                 this host's realtime clock at the push)
 *   done_hash_ms  finished_at - push time (same clocks)
 *   rtt_us        push sent -> its RPUSH reply read: the round trip to Redis
 *                 under the same load, the floor under any queue's latency
 * and "missing" (jobs with no done event within 10 s of the last push),
 * "lag_max_us" (how far sending fell behind the schedule). */
#include <errno.h>
#include <hiredis/hiredis.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BATCH_MAX 256

static int64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t real_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int flush_out(redisContext *c)
{
    int done = 0;
    while (!done)
        if (redisBufferWrite(c, &done) != REDIS_OK)
            return -1;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 7) {
        fprintf(stderr, "usage: latency_bench HOST PORT CLASS RATE SECS TAG\n");
        return 2;
    }
    const char *host = argv[1], *cls = argv[3], *tag = argv[6];
    int port = (int)strtol(argv[2], NULL, 10);
    double rate = strtod(argv[4], NULL), secs = strtod(argv[5], NULL);
    long total = (long)(rate * secs);
    if (port <= 0 || rate <= 0 || secs <= 0 || total < 1 || total > 10000000) {
        fprintf(stderr, "latency_bench: bad port, rate or duration\n");
        return 2;
    }
    int64_t *push_mono = calloc((size_t)total, sizeof *push_mono);
    int64_t *push_real = calloc((size_t)total, sizeof *push_real);
    int64_t *done_mono = calloc((size_t)total, sizeof *done_mono);
    int64_t *reply_mono = calloc((size_t)total, sizeof *reply_mono);
    if (!push_mono || !push_real || !done_mono || !reply_mono)
        return 1;

    redisContext *prod = redisConnect(host, port);
    redisContext *sub = redisConnect(host, port);
    if (!prod || prod->err || !sub || sub->err) {
        fprintf(stderr, "latency_bench: cannot connect to %s:%d\n", host, port);
        return 1;
    }
    char pattern[512];
    snprintf(pattern, sizeof pattern, "__keyspace@0__:%s:status:%s-*", cls, tag);
    redisReply *r = redisCommand(sub, "PSUBSCRIBE %s", pattern);
    if (r == NULL)
        return 1;
    freeReplyObject(r);
    size_t prefix_len = strlen(pattern) - 1;

    long next = 0, done = 0, replies = 0, ncmds = 0;
    static char bodies[BATCH_MAX][160];
    const char *push_argv[2 + BATCH_MAX] = {"RPUSH", cls};
    size_t lens[2 + BATCH_MAX] = {5, strlen(cls)};
    for (int i = 0; i < BATCH_MAX; i++)
        push_argv[2 + i] = bodies[i];
    long *cmd_end = calloc((size_t)total, sizeof *cmd_end); /* first job after command k */
    if (cmd_end == NULL)
        return 1;
    int64_t lag_max = 0;
    int64_t t0 = mono_us() + 20000;
    double interval_us = 1e6 / rate;
    int64_t give_up = 0;
    while (done < total) {
        int64_t now = mono_us();
        if (next >= total) {
            if (!give_up)
                give_up = now + 10000000;
            if (now > give_up)
                break;
        }
        /* the jobs due now go in one RPUSH (at 1,000/s that is one job a
         * command; at high rates it keeps the sender's own Redis cost small) */
        int batch = 0;
        while (next < total && batch < BATCH_MAX && t0 + (int64_t)(next * interval_us) <= now) {
            int64_t lag = now - (t0 + (int64_t)(next * interval_us));
            if (lag > lag_max)
                lag_max = lag;
            push_real[next] = real_us();
            lens[2 + batch] = (size_t)snprintf(bodies[batch], sizeof bodies[0],
                                               "{\"id\":\"%s-%ld\",\"t\":%lld}", tag, next,
                                               (long long)push_real[next]);
            batch++;
            next++;
        }
        if (batch) {
            int64_t sent_at = mono_us();
            for (long i = next - batch; i < next; i++)
                push_mono[i] = sent_at;
            cmd_end[ncmds++] = next;
            redisAppendCommandArgv(prod, 2 + batch, push_argv, lens);
        }
        if (batch && flush_out(prod) < 0) {
            fprintf(stderr, "latency_bench: write: %s\n", prod->errstr);
            return 1;
        }
        int64_t wait_us = next < total ? t0 + (int64_t)(next * interval_us) - mono_us() : 100000;
        if (wait_us < 0)
            wait_us = 0;
        struct pollfd p[2] = {{.fd = prod->fd, .events = POLLIN}, {.fd = sub->fd, .events = POLLIN}};
        struct timespec ts = {wait_us / 1000000, (wait_us % 1000000) * 1000};
        int pr = ppoll(p, 2, &ts, NULL);
        if (pr < 0 && errno != EINTR)
            return 1;
        if (pr <= 0)
            continue;
        if (p[1].revents & POLLIN) {
            int64_t seen = mono_us();
            if (redisBufferRead(sub) != REDIS_OK) {
                fprintf(stderr, "latency_bench: subscriber: %s\n", sub->errstr);
                return 1;
            }
            void *rv;
            while (redisGetReplyFromReader(sub, &rv) == REDIS_OK && rv != NULL) {
                redisReply *m = rv;
                if (m->type == REDIS_REPLY_ARRAY && m->elements == 4 &&
                    strcmp(m->element[3]->str, "expire") == 0 &&
                    m->element[2]->len > prefix_len) {
                    long i = strtol(m->element[2]->str + prefix_len, NULL, 10);
                    if (i >= 0 && i < total && done_mono[i] == 0) {
                        done_mono[i] = seen;
                        done++;
                    }
                }
                freeReplyObject(m);
            }
        }
        if (p[0].revents & POLLIN) {
            if (redisBufferRead(prod) != REDIS_OK) {
                fprintf(stderr, "latency_bench: producer: %s\n", prod->errstr);
                return 1;
            }
            void *rv;
            int64_t seen = mono_us();
            while (redisGetReplyFromReader(prod, &rv) == REDIS_OK && rv != NULL) {
                for (long i = replies ? cmd_end[replies - 1] : 0; i < cmd_end[replies]; i++)
                    reply_mono[i] = seen;
                replies++;
                freeReplyObject(rv);
            }
        }
    }
    /* drain the remaining RPUSH replies before reading the status hashes */
    while (replies < ncmds) {
        void *rv;
        if (redisGetReply(prod, &rv) != REDIS_OK)
            return 1;
        for (long i = replies ? cmd_end[replies - 1] : 0; i < cmd_end[replies]; i++)
            reply_mono[i] = mono_us();
        replies++;
        freeReplyObject(rv);
    }

    printf("{\"jobs\":%ld,\"missing\":%ld,\"lag_max_us\":%lld,\"done_us\":[", total, total - done,
           (long long)lag_max);
    for (long i = 0, first = 1; i < total; i++)
        if (done_mono[i]) {
            printf("%s%lld", first ? "" : ",", (long long)(done_mono[i] - push_mono[i]));
            first = 0;
        }
    printf("],\"rtt_us\":[");
    for (long i = 0; i < total; i++)
        printf("%s%lld", i ? "," : "", (long long)(reply_mono[i] - push_mono[i]));
    /* status hashes, pipelined 1000 at a time */
    char *start_txt = calloc((size_t)total, 16), *fin_txt = calloc((size_t)total, 16);
    if (!start_txt || !fin_txt)
        return 1;
    for (long s = 0; s < total; s += 1000) {
        long e = s + 1000 < total ? s + 1000 : total;
        for (long i = s; i < e; i++)
            redisAppendCommand(prod, "HMGET %s:status:%s-%ld started_at finished_at", cls, tag, i);
        for (long i = s; i < e; i++) {
            void *rv;
            if (redisGetReply(prod, &rv) != REDIS_OK)
                return 1;
            redisReply *h = rv;
            if (h->type == REDIS_REPLY_ARRAY && h->elements == 2) {
                if (h->element[0]->type == REDIS_REPLY_STRING)
                    snprintf(start_txt + i * 16, 16, "%s", h->element[0]->str);
                if (h->element[1]->type == REDIS_REPLY_STRING)
                    snprintf(fin_txt + i * 16, 16, "%s", h->element[1]->str);
            }
            freeReplyObject(h);
        }
    }
    const char *names[2] = {"start_ms", "done_hash_ms"};
    char *texts[2] = {start_txt, fin_txt};
    for (int k = 0; k < 2; k++) {
        printf("],\"%s\":[", names[k]);
        for (long i = 0, first = 1; i < total; i++) {
            const char *t = texts[k] + i * 16;
            if (!*t)
                continue;
            double ms = strtod(t, NULL) - (double)push_real[i] / 1000.0;
            printf("%s%.3f", first ? "" : ",", ms);
            first = 0;
        }
    }
    printf("]}\n");
    redisFree(prod);
    redisFree(sub);
    return 0;
}
