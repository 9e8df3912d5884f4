/* gearman_bench - the Gearman peer, with libgearman.
 *
 *   gearman_bench fill HOST PORT N   submit N background "noop" jobs, 1000
 *                                    tasks per run_tasks() batch; prints
 *                                    {"jobs","secs","rate"}
 *   gearman_bench work HOST PORT     a no-op worker for "noop", until killed
 *
 * gearmand gives a job of a worker that disconnects to another worker, so
 * the fetch is crash-safe while gearmand lives; without a persistent queue
 * (none here, as Redis runs without AOF) nothing survives a gearmand restart,
 * and a background job keeps no status once done. */
#include <libgearman/gearman.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CHUNK 1000

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *noop(gearman_job_st *job, void *context, size_t *result_size, gearman_return_t *ret)
{
    (void)job;
    (void)context;
    *result_size = 0;
    *ret = GEARMAN_SUCCESS;
    return NULL;
}

static int work(const char *host, in_port_t port)
{
    gearman_worker_st *w = gearman_worker_create(NULL);
    if (w == NULL)
        return -1;
    if (gearman_worker_add_server(w, host, port) != GEARMAN_SUCCESS ||
        gearman_worker_add_function(w, "noop", 0, noop, NULL) != GEARMAN_SUCCESS) {
        fprintf(stderr, "gearman_bench: %s\n", gearman_worker_error(w));
        gearman_worker_free(w);
        return -1;
    }
    for (;;) {
        gearman_return_t r = gearman_worker_work(w);
        if (r != GEARMAN_SUCCESS) {
            fprintf(stderr, "gearman_bench: work: %s\n", gearman_worker_error(w));
            break;
        }
    }
    gearman_worker_free(w);
    return -1;
}

static int fill(const char *host, in_port_t port, long n)
{
    gearman_client_st *c = gearman_client_create(NULL);
    if (c == NULL || gearman_client_add_server(c, host, port) != GEARMAN_SUCCESS)
        return -1;
    static char bodies[CHUNK][48];
    int rc = 0;
    double t0 = mono_s();
    for (long start = 0; start < n && rc == 0; start += CHUNK) {
        long end = start + CHUNK < n ? start + CHUNK : n;
        for (long i = start; i < end; i++) {
            char *body = bodies[i - start];
            int len = snprintf(body, sizeof bodies[0], "{\"i\":%ld}", i);
            gearman_return_t ret;
            if (gearman_client_add_task_background(c, NULL, NULL, "noop", NULL, body, (size_t)len,
                                                   &ret) == NULL) {
                rc = -1;
                break;
            }
        }
        if (rc == 0 && gearman_client_run_tasks(c) != GEARMAN_SUCCESS)
            rc = -1;
        gearman_client_task_free_all(c);
    }
    double secs = mono_s() - t0;
    if (rc == 0)
        printf("{\"jobs\":%ld,\"secs\":%.6f,\"rate\":%.1f}\n", n, secs, n / secs);
    else
        fprintf(stderr, "gearman_bench: fill: %s\n", gearman_client_error(c));
    gearman_client_free(c);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 4 || (strcmp(argv[1], "fill") == 0 && argc != 5) ||
        (strcmp(argv[1], "work") == 0 && argc != 4)) {
        fprintf(stderr, "usage: gearman_bench fill HOST PORT N | work HOST PORT\n");
        return 2;
    }
    char *end;
    long port = strtol(argv[3], &end, 10);
    if (*end || port <= 0 || port > 65535) {
        fprintf(stderr, "gearman_bench: bad port \"%s\"\n", argv[3]);
        return 2;
    }
    if (strcmp(argv[1], "fill") == 0) {
        long n = strtol(argv[4], &end, 10);
        if (*end || n <= 0) {
            fprintf(stderr, "gearman_bench: bad count \"%s\"\n", argv[4]);
            return 2;
        }
        return fill(argv[2], (in_port_t)port, n) == 0 ? 0 : 1;
    }
    if (strcmp(argv[1], "work") == 0)
        return work(argv[2], (in_port_t)port) == 0 ? 0 : 1;
    fprintf(stderr, "gearman_bench: unknown mode \"%s\"\n", argv[1]);
    return 2;
}
