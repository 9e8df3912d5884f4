/* beanstalk_bench - the beanstalkd peer: a tiny client for its text
 * protocol, since Debian ships no C or Python one.
 *
 *   beanstalk_bench fill HOST PORT N   put N small jobs, pipelined 1000 at a
 *                                      time; prints {"jobs","secs","rate"}
 *   beanstalk_bench work HOST PORT     a no-op worker: reserve, delete, again,
 *                                      until killed (two round trips a job, as
 *                                      every beanstalkd worker does)
 *
 * A reserved job returns to the ready queue if its worker dies (TTR), so
 * the fetch is crash-safe; beanstalkd keeps no status after delete. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CHUNK 1000
#define BUF_MAX 65536

typedef struct conn {
    int fd;
    char buf[BUF_MAX];
    size_t len, off;
} conn;

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int conn_open(conn *c, const char *host, int port)
{
    memset(c, 0, sizeof *c);
    c->fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (c->fd < 0 || inet_pton(AF_INET, host, &sa.sin_addr) != 1 ||
        connect(c->fd, (struct sockaddr *)&sa, sizeof sa) < 0)
        return -1;
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return 0;
}

static int write_all(conn *c, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(c->fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Next CRLF-terminated line (without CRLF) into out; -1 on EOF / error. */
static int read_line(conn *c, char *out, size_t cap)
{
    for (;;) {
        char *nl = memchr(c->buf + c->off, '\n', c->len - c->off);
        if (nl) {
            size_t n = (size_t)(nl - (c->buf + c->off));
            if (n > 0 && c->buf[c->off + n - 1] == '\r')
                n--;
            if (n >= cap)
                n = cap - 1;
            memcpy(out, c->buf + c->off, n);
            out[n] = '\0';
            c->off = (size_t)(nl - c->buf) + 1;
            return 0;
        }
        if (c->off > 0) {
            memmove(c->buf, c->buf + c->off, c->len - c->off);
            c->len -= c->off;
            c->off = 0;
        }
        if (c->len == sizeof c->buf)
            return -1;
        ssize_t r = read(c->fd, c->buf + c->len, sizeof c->buf - c->len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        c->len += (size_t)r;
    }
}

/* Skip n body bytes plus the CRLF after them. */
static int skip_body(conn *c, size_t n)
{
    n += 2;
    while (n > 0) {
        size_t have = c->len - c->off;
        size_t take = have < n ? have : n;
        c->off += take;
        n -= take;
        if (n == 0)
            break;
        c->off = c->len = 0;
        ssize_t r = read(c->fd, c->buf, sizeof c->buf);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        c->len = (size_t)r;
    }
    return 0;
}

static int fill(conn *c, long n)
{
    char *out = malloc((size_t)CHUNK * 96);
    char line[256];
    if (out == NULL)
        return -1;
    double t0 = mono_s();
    for (long start = 0; start < n; start += CHUNK) {
        long end = start + CHUNK < n ? start + CHUNK : n;
        size_t len = 0;
        for (long i = start; i < end; i++) {
            char body[48];
            int bl = snprintf(body, sizeof body, "{\"i\":%ld}", i);
            len += (size_t)snprintf(out + len, 96, "put 1024 0 60 %d\r\n%s\r\n", bl, body);
        }
        if (write_all(c, out, len) < 0)
            goto fail;
        for (long i = start; i < end; i++)
            if (read_line(c, line, sizeof line) < 0 || strncmp(line, "INSERTED ", 9) != 0)
                goto fail;
    }
    double secs = mono_s() - t0;
    printf("{\"jobs\":%ld,\"secs\":%.6f,\"rate\":%.1f}\n", n, secs, n / secs);
    free(out);
    return 0;
fail:
    fprintf(stderr, "beanstalk_bench: put failed: %s\n", line);
    free(out);
    return -1;
}

static int work(conn *c)
{
    char line[256], cmd[64];
    for (;;) {
        if (write_all(c, "reserve\r\n", 9) < 0 || read_line(c, line, sizeof line) < 0)
            return -1;
        unsigned long long id;
        size_t bytes;
        if (sscanf(line, "RESERVED %llu %zu", &id, &bytes) != 2) {
            fprintf(stderr, "beanstalk_bench: reserve: %s\n", line);
            return -1;
        }
        if (skip_body(c, bytes) < 0)
            return -1;
        /* the no-op job */
        int n = snprintf(cmd, sizeof cmd, "delete %llu\r\n", id);
        if (write_all(c, cmd, (size_t)n) < 0 || read_line(c, line, sizeof line) < 0)
            return -1;
        if (strcmp(line, "DELETED") != 0) {
            fprintf(stderr, "beanstalk_bench: delete: %s\n", line);
            return -1;
        }
    }
}

int main(int argc, char **argv)
{
    if (argc < 4 || (strcmp(argv[1], "fill") == 0 && argc != 5) ||
        (strcmp(argv[1], "work") == 0 && argc != 4)) {
        fprintf(stderr, "usage: beanstalk_bench fill HOST PORT N | work HOST PORT\n");
        return 2;
    }
    char *end;
    long port = strtol(argv[3], &end, 10);
    if (*end || port <= 0 || port > 65535) {
        fprintf(stderr, "beanstalk_bench: bad port \"%s\"\n", argv[3]);
        return 2;
    }
    static conn c;
    if (conn_open(&c, argv[2], (int)port) < 0) {
        fprintf(stderr, "beanstalk_bench: connect %s:%ld: %s\n", argv[2], port, strerror(errno));
        return 1;
    }
    int rc;
    if (strcmp(argv[1], "fill") == 0) {
        long n = strtol(argv[4], &end, 10);
        if (*end || n <= 0) {
            fprintf(stderr, "beanstalk_bench: bad count \"%s\"\n", argv[4]);
            return 2;
        }
        rc = fill(&c, n);
    } else if (strcmp(argv[1], "work") == 0) {
        rc = work(&c);
    } else {
        fprintf(stderr, "beanstalk_bench: unknown mode \"%s\"\n", argv[1]);
        return 2;
    }
    close(c.fd);
    return rc == 0 ? 0 : 1;
}
