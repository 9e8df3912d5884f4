/* drudge-http - calls to external APIs and webhooks, politely: per-host
 * rate limits and breakers shared by every worker, Retry-After honoured,
 * private networks refused unless the config allows them. A job:
 *   {"method": "POST", "url": "https://api.example.com/v1/hooks",
 *    "headers": {"Content-Type": "application/json"}, "body": "{...}",
 *    "timeout_s": 10, "expect": [200, 299], "auth": "stripe"}
 * The job flow is call.c's; http.h says where everything else lives. */
#include "http.h"

#include <stdio.h>

static http_worker worker;

static int start(const drudge_config *cfg, void *userdata)
{
    char err[HTTP_ERR_MAX];
    if (http_worker_init(userdata, cfg, err, sizeof err) < 0) {
        fprintf(stderr, "drudge-http: %s\n", err);
        return 1;
    }
    return 0;
}

static drudge_outcome handle(drudge_ctx *ctx, const drudge_job *job, void *userdata)
{
    return http_call(ctx, job, userdata);
}

static void stop(void *userdata)
{
    http_worker_release(userdata);
}

int main(int argc, char **argv)
{
    drudge_worker_def def = {
        .program = "drudge-http",
        .default_class = "HttpJob",
        .handler = handle,
        .userdata = &worker,
        .init = start,
        .fini = stop,
    };
    drudge_class_defaults(&def.defaults);
    def.defaults.timeout = 60; /* above http.timeout (30 s) and a slow DNS answer */
    return drudge_worker_main(argc, argv, &def);
}
