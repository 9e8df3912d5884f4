/* drudge-noop - a worker that does nothing, on purpose: for tests,
 * benchmarks and trying drudge out. Payload fields (all optional):
 *   sleep_ms        how long to pretend to work
 *   outcome         done | retry | fail | unavailable | crash | hang
 *   progress_steps  report progress this many times while sleeping
 *   result          echoed back as the job's result
 *   poll_cancel     true: sleep in 10 ms slices and stop (retry, "stopped")
 *                   once drudge_ctx_cancelled() says so, as a long handler
 *                   should; false (default): sleep through it
 * With none of them the job is done at once. */
#include "drudge.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

/* Sleep ms; with poll, in slices, returning 1 as soon as the runtime says
 * to stop (cancel, time limit, end of the drain). */
static int work(drudge_ctx *ctx, long ms, int poll)
{
    if (!poll) {
        sleep_ms(ms);
        return 0;
    }
    for (long left = ms; left > 0; left -= 10) {
        if (drudge_ctx_cancelled(ctx))
            return 1;
        sleep_ms(left < 10 ? left : 10);
    }
    return drudge_ctx_cancelled(ctx);
}

static drudge_outcome noop(drudge_ctx *ctx, const drudge_job *job, void *userdata)
{
    (void)userdata;
    const json_t *v;
    long wait = 0, steps = 0;
    if ((v = json_object_get(job->json, "sleep_ms")) != NULL) {
        if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 3600000)
            return drudge_ctx_error(ctx, DRUDGE_FAIL, "sleep_ms must be an integer from 0 to 3600000");
        wait = (long)json_integer_value(v);
    }
    if ((v = json_object_get(job->json, "progress_steps")) != NULL) {
        if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 1000)
            return drudge_ctx_error(ctx, DRUDGE_FAIL, "progress_steps must be an integer from 0 to 1000");
        steps = (long)json_integer_value(v);
    }
    int poll = 0;
    if ((v = json_object_get(job->json, "poll_cancel")) != NULL) {
        if (!json_is_boolean(v))
            return drudge_ctx_error(ctx, DRUDGE_FAIL, "poll_cancel must be true or false");
        poll = json_is_true(v);
    }
    const char *outcome = "done";
    if ((v = json_object_get(job->json, "outcome")) != NULL) {
        if (!json_is_string(v))
            return drudge_ctx_error(ctx, DRUDGE_FAIL, "outcome must be a string");
        outcome = json_string_value(v);
    }
    if (steps > 0) {
        for (long i = 1; i <= steps; i++) {
            if (work(ctx, wait / steps, poll))
                return drudge_ctx_error(ctx, DRUDGE_RETRY, "stopped at step %ld/%ld", i, steps);
            char msg[64];
            snprintf(msg, sizeof msg, "step %ld/%ld", i, steps);
            drudge_ctx_progress(ctx, (int)(i * 100 / steps), msg);
        }
    } else if (wait > 0 && work(ctx, wait, poll)) {
        return drudge_ctx_error(ctx, DRUDGE_RETRY, "stopped");
    }
    if (strcmp(outcome, "done") == 0) {
        if ((v = json_object_get(job->json, "result")) != NULL) {
            char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
            drudge_ctx_set_result(ctx, text);
            free(text);
        }
        return DRUDGE_DONE;
    }
    if (strcmp(outcome, "retry") == 0)
        return drudge_ctx_error(ctx, DRUDGE_RETRY, "noop asked to retry");
    if (strcmp(outcome, "fail") == 0)
        return drudge_ctx_error(ctx, DRUDGE_FAIL, "noop asked to fail");
    if (strcmp(outcome, "unavailable") == 0)
        return drudge_ctx_error(ctx, DRUDGE_UNAVAILABLE, "noop asked to be unavailable");
    if (strcmp(outcome, "crash") == 0) {
        raise(SIGSEGV); /* what a decoder bug looks like */
        abort();
    }
    if (strcmp(outcome, "hang") == 0) {
        for (;;)
            pause();
    }
    return drudge_ctx_error(ctx, DRUDGE_FAIL,
                            "unknown outcome \"%.40s\": use done, retry, fail, unavailable, crash or hang",
                            outcome);
}

int main(int argc, char **argv)
{
    drudge_worker_def def = {
        .program = "drudge-noop",
        .default_class = "NoopJob",
        .handler = noop,
    };
    drudge_class_defaults(&def.defaults);
    def.defaults.timeout = 60;
    return drudge_worker_main(argc, argv, &def);
}
