/* push_bench - how fast a producer enqueues through the C API.
 *
 *   push_bench --redis URL [--class NAME] [--tag T] --one N | --many N
 *
 * --one pushes N jobs with drudge_push() (one round trip each); --many pushes
 * them with one drudge_push_many() call (pipelined). Every push writes the
 * status hash `queued` and the list element. Payloads are distinct small
 * objects. Prints one JSON line: {"mode", "jobs", "secs", "rate"}. */
#include "drudge.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PAYLOAD_MAX 96

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long parse_count(const char *s)
{
    char *end;
    long n = strtol(s, &end, 10);
    if (*s == '\0' || *end != '\0' || n <= 0 || n > 100000000L) {
        fprintf(stderr, "push_bench: bad count \"%s\"\n", s);
        exit(2);
    }
    return n;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"redis", required_argument, NULL, 'r'}, {"class", required_argument, NULL, 'C'},
        {"tag", required_argument, NULL, 't'},   {"one", required_argument, NULL, '1'},
        {"many", required_argument, NULL, 'm'},  {NULL, 0, NULL, 0}};
    const char *url = NULL, *class_name = "NoopJob", *tag = "b";
    long n = 0;
    int many = -1, c;
    while ((c = getopt_long(argc, argv, "r:C:t:1:m:", opts, NULL)) != -1) {
        switch (c) {
        case 'r': url = optarg; break;
        case 'C': class_name = optarg; break;
        case 't': tag = optarg; break;
        case '1': n = parse_count(optarg); many = 0; break;
        case 'm': n = parse_count(optarg); many = 1; break;
        default:
            fprintf(stderr, "usage: push_bench --redis URL [--class NAME] [--tag T] --one N | --many N\n");
            return 2;
        }
    }
    if (many < 0 || url == NULL) {
        fprintf(stderr, "push_bench: --redis and one of --one / --many are required\n");
        return 2;
    }

    char err[DRUDGE_ERRSTR_MAX];
    drudge_config *cfg = drudge_config_load(NULL, err, sizeof err);
    if (cfg == NULL || drudge_config_set_string(&cfg->redis_url, url) < 0) {
        fprintf(stderr, "push_bench: %s\n", cfg ? "out of memory" : err);
        return 2;
    }
    drudge_client *cl = drudge_client_new(cfg, err, sizeof err);
    if (cl == NULL) {
        fprintf(stderr, "push_bench: %s\n", err);
        drudge_config_free(cfg);
        return 1;
    }

    /* all payloads built before the clock starts */
    char *buf = malloc((size_t)n * PAYLOAD_MAX);
    const char **payloads = malloc((size_t)n * sizeof *payloads);
    size_t *lens = malloc((size_t)n * sizeof *lens);
    char(*ids)[DRUDGE_ID_MAX + 1] = malloc((size_t)n * sizeof *ids);
    if (!buf || !payloads || !lens || !ids) {
        fprintf(stderr, "push_bench: out of memory\n");
        return 1;
    }
    for (long i = 0; i < n; i++) {
        char *p = buf + (size_t)i * PAYLOAD_MAX;
        int len = snprintf(p, PAYLOAD_MAX, "{\"i\":%ld,\"run\":\"%.40s\"}", i, tag);
        payloads[i] = p;
        lens[i] = (size_t)len;
    }

    int rc = 0;
    double t0 = mono_s();
    if (many) {
        long pushed = drudge_push_many(cl, class_name, payloads, lens, (size_t)n, ids);
        if (pushed != n) {
            fprintf(stderr, "push_bench: push_many: %ld of %ld: %s\n", pushed, n,
                    drudge_client_errstr(cl));
            rc = 1;
        }
    } else {
        for (long i = 0; i < n; i++) {
            if (drudge_push(cl, class_name, payloads[i], lens[i], NULL, ids[i]) != DRUDGE_PUSHED) {
                fprintf(stderr, "push_bench: push %ld: %s\n", i, drudge_client_errstr(cl));
                rc = 1;
                break;
            }
        }
    }
    double secs = mono_s() - t0;
    if (rc == 0)
        printf("{\"mode\":\"%s\",\"jobs\":%ld,\"secs\":%.6f,\"rate\":%.1f}\n",
               many ? "many" : "one", n, secs, (double)n / secs);
    free(buf);
    free(payloads);
    free(lens);
    free(ids);
    drudge_client_free(cl);
    drudge_config_free(cfg);
    return rc;
}
