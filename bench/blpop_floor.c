/* blpop_floor - the floor under any Redis list queue: N processes popping
 * a pre-filled list with a plain BLPOP loop (hiredis, one round trip per
 * job, no status, no crash safety: a popped job lives only in memory).
 *
 *   blpop_floor HOST PORT KEY NPROCS
 *
 * The children connect first and start together; each pops until BLPOP
 * times out on the empty list. Prints one JSON line: {"jobs", "secs",
 * "rate"}, where secs runs from the start to the last successful pop. */
#include <errno.h>
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NPROCS_MAX 64

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

typedef struct report {
    long jobs;
    double last_pop;
    int ok;
} report;

static void child(const char *host, int port, const char *key, int ready_fd, int go_fd, int out_fd)
{
    report rep = {0, 0, 0};
    redisContext *c = redisConnect(host, port);
    char b = c && !c->err ? 'r' : 'e';
    if (write(ready_fd, &b, 1) != 1 || b == 'e')
        _exit(1);
    if (read(go_fd, &b, 1) != 1)
        _exit(1);
    for (;;) {
        redisReply *r = redisCommand(c, "BLPOP %s 0.2", key);
        if (r == NULL)
            break;
        int got = r->type == REDIS_REPLY_ARRAY && r->elements == 2;
        freeReplyObject(r);
        if (!got) {
            rep.ok = 1;
            break;
        }
        rep.jobs++;
        rep.last_pop = mono_s();
    }
    if (write(out_fd, &rep, sizeof rep) != (ssize_t)sizeof rep)
        _exit(1);
    redisFree(c);
    _exit(0);
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: blpop_floor HOST PORT KEY NPROCS\n");
        return 2;
    }
    char *end;
    long port = strtol(argv[2], &end, 10);
    long n = strtol(argv[4], &end, 10);
    if (port <= 0 || port > 65535 || n < 1 || n > NPROCS_MAX || *end) {
        fprintf(stderr, "blpop_floor: bad port or process count\n");
        return 2;
    }
    int ready[2], go[2], out[2];
    if (pipe(ready) < 0 || pipe(go) < 0 || pipe(out) < 0) {
        fprintf(stderr, "blpop_floor: pipe: %s\n", strerror(errno));
        return 1;
    }
    pid_t pids[NPROCS_MAX];
    for (long i = 0; i < n; i++) {
        pids[i] = fork();
        if (pids[i] == 0)
            child(argv[1], (int)port, argv[3], ready[1], go[0], out[1]);
    }
    int rc = 0;
    for (long i = 0; i < n; i++) {
        char b;
        if (read(ready[0], &b, 1) != 1 || b != 'r')
            rc = 1;
    }
    double t0 = mono_s();
    for (long i = 0; i < n; i++)
        if (write(go[1], "g", 1) != 1)
            rc = 1;
    long jobs = 0;
    double last = t0;
    for (long i = 0; i < n && rc == 0; i++) {
        report rep;
        if (read(out[0], &rep, sizeof rep) != (ssize_t)sizeof rep || !rep.ok) {
            rc = 1;
            break;
        }
        jobs += rep.jobs;
        if (rep.last_pop > last)
            last = rep.last_pop;
    }
    for (long i = 0; i < n; i++)
        waitpid(pids[i], NULL, 0);
    if (rc != 0) {
        fprintf(stderr, "blpop_floor: a child failed (redis at %s:%ld?)\n", argv[1], port);
        return 1;
    }
    double secs = last - t0;
    printf("{\"jobs\":%ld,\"secs\":%.6f,\"rate\":%.1f}\n", jobs, secs, secs > 0 ? jobs / secs : 0.0);
    return 0;
}
