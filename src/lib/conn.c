/* conn.c - one Redis connection: connect and command timeouts, AUTH/SELECT,
 * Lua scripts loaded once per connection, and reconnection with capped
 * exponential backoff and jitter. After an I/O error the hiredis context is
 * unusable, so it is dropped; callers reconnect on purpose (the worker loop
 * does it in drudge__conn_connect_retry). */
#include "internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <stdlib.h>
#include <sys/time.h>


static struct timeval to_tv(double s)
{
    struct timeval tv;
    tv.tv_sec = (time_t)s;
    tv.tv_usec = (suseconds_t)((s - (double)tv.tv_sec) * 1e6);
    return tv;
}

/* A script's SHA1 is what SCRIPT LOAD answers; it is the same on every
 * server, so it is kept in the script's (process-wide) struct. */
static void script_sha_set(drudge_script *s, const redisReply *r)
{
    if (r->type == REDIS_REPLY_STRING && r->len == 40)
        memcpy(s->sha, r->str, 41);
}

int drudge__conn_init(drudge_conn *c, const drudge_config *cfg)
{
    memset(c, 0, sizeof *c);
    c->connect_timeout = cfg->connect_timeout > 0 ? cfg->connect_timeout : 2;
    c->command_timeout = cfg->command_timeout > 0 ? cfg->command_timeout : 5;
    if (drudge_redis_url_parse(cfg->redis_url, &c->url, c->errstr, sizeof c->errstr) < 0)
        return -1;
    /* secrets kept out of config files and process lists (config.c took
     * them from the environment); an ACL user also for unix:// URLs */
    if (cfg->redis_password && *cfg->redis_password)
        snprintf(c->url.password, sizeof c->url.password, "%s", cfg->redis_password);
    if (cfg->redis_user && *cfg->redis_user)
        snprintf(c->url.user, sizeof c->url.user, "%s", cfg->redis_user);
    return 0;
}

void drudge__conn_drop(drudge_conn *c)
{
    if (c->ctx) {
        redisFree(c->ctx);
        c->ctx = NULL;
    }
}

void drudge__conn_release(drudge_conn *c)
{
    drudge__conn_drop(c);
}

static void set_err_from_ctx(drudge_conn *c, const char *what)
{
    snprintf(c->errstr, sizeof c->errstr, "%s: %s", what,
             c->ctx && c->ctx->errstr[0] ? c->ctx->errstr : "connection lost");
}

/* Run a command during connection set-up; -1 on error or error reply. */
static int setup_cmd(drudge_conn *c, int argc, const char **argv, const char *what)
{
    redisReply *r = redisCommandArgv(c->ctx, argc, argv, NULL);
    if (r == NULL) {
        set_err_from_ctx(c, what);
        return -1;
    }
    int rc = 0;
    if (r->type == REDIS_REPLY_ERROR) {
        snprintf(c->errstr, sizeof c->errstr, "%s: %s", what, r->str);
        rc = -1;
    }
    freeReplyObject(r);
    return rc;
}

int drudge__conn_connect(drudge_conn *c)
{
    drudge__conn_drop(c);
    struct timeval ctv = to_tv(c->connect_timeout);
    if (c->url.is_unix)
        c->ctx = redisConnectUnixWithTimeout(c->url.path, ctv);
    else
        c->ctx = redisConnectWithTimeout(c->url.host, c->url.port, ctv);
    char where[300];
    if (c->url.is_unix)
        snprintf(where, sizeof where, "connect to unix:%s", c->url.path);
    else
        snprintf(where, sizeof where, "connect to %s:%d", c->url.host, c->url.port);
    if (c->ctx == NULL || c->ctx->err) {
        set_err_from_ctx(c, where);
        goto fail;
    }
    /* Blocking pops use at most a second or two; the socket timeout bounds
     * every read so a hung server is noticed. */
    if (redisSetTimeout(c->ctx, to_tv(c->command_timeout + 2)) != REDIS_OK) {
        set_err_from_ctx(c, "set socket timeout");
        goto fail;
    }
    if (!c->url.is_unix)
        redisEnableKeepAlive(c->ctx);
    if (c->url.password[0]) {
        const char *argv[3] = {"AUTH", c->url.user[0] ? c->url.user : c->url.password,
                               c->url.password};
        if (setup_cmd(c, c->url.user[0] ? 3 : 2, argv, "redis AUTH") < 0)
            goto fail;
    }
    if (c->url.db != 0) {
        char db[16];
        snprintf(db, sizeof db, "%d", c->url.db);
        const char *argv[2] = {"SELECT", db};
        if (setup_cmd(c, 2, argv, "redis SELECT") < 0)
            goto fail;
    }
    /* Load every script in one pipelined round trip, so later EVALSHAs
     * (some of them pipelined) never meet NOSCRIPT. */
    for (size_t i = 0; i < drudge__nscripts; i++) {
        const char *argv[3] = {"SCRIPT", "LOAD", drudge__scripts[i]->body};
        redisAppendCommandArgv(c->ctx, 3, argv, NULL);
    }
    for (size_t i = 0; i < drudge__nscripts; i++) {
        redisReply *r = NULL;
        if (redisGetReply(c->ctx, (void **)&r) != REDIS_OK) {
            set_err_from_ctx(c, "redis SCRIPT LOAD");
            goto fail;
        }
        int bad = r->type == REDIS_REPLY_ERROR;
        script_sha_set(drudge__scripts[i], r);
        if (bad)
            snprintf(c->errstr, sizeof c->errstr, "redis SCRIPT LOAD %s: %s",
                     drudge__scripts[i]->name, r->str);
        freeReplyObject(r);
        if (bad)
            goto fail;
    }
    c->reconnect_attempt = 0;
    return 0;
fail:
    drudge__conn_drop(c);
    return -1;
}

int drudge__conn_connect_retry(drudge_conn *c, volatile int *stop)
{
    for (;;) {
        int failed_before = c->reconnect_attempt;
        if (drudge__conn_connect(c) == 0) {
            if (failed_before > 0)
                drudge_log(DRUDGE_LOG_INFO, "redis_connected", "after_attempts=%d", failed_before);
            return 0;
        }
        c->reconnect_attempt++;
        /* 100 ms doubling to 5 s, with full jitter in the upper half. */
        double envelope = 0.1 * (double)(1u << (c->reconnect_attempt > 10 ? 9 : c->reconnect_attempt - 1));
        if (envelope > 5)
            envelope = 5;
        double wait = envelope / 2 + envelope / 2 * drudge__random();
        drudge_log(DRUDGE_LOG_WARN, "redis_reconnect", "attempt=%d wait_ms=%ld error=%s",
                   c->reconnect_attempt, (long)(wait * 1000), c->errstr);
        int64_t until = drudge__mono_ms() + (int64_t)(wait * 1000);
        while (drudge__mono_ms() < until) {
            if (stop && *stop)
                return -1;
            struct timespec ts = {0, 50 * 1000000};
            nanosleep(&ts, NULL);
        }
        if (stop && *stop)
            return -1;
    }
}

static redisReply *check_reply(drudge_conn *c, redisReply *r, const char *what)
{
    if (r == NULL) {
        set_err_from_ctx(c, what);
        drudge__conn_drop(c);
        return NULL;
    }
    if (r->type == REDIS_REPLY_ERROR)
        snprintf(c->errstr, sizeof c->errstr, "%s", r->str);
    return r;
}

redisReply *drudge__conn_cmd(drudge_conn *c, int argc, const char **argv, const size_t *lens)
{
    if (c->ctx == NULL) {
        snprintf(c->errstr, sizeof c->errstr, "not connected to redis");
        return NULL;
    }
    redisReply *r = redisCommandArgv(c->ctx, argc, argv, lens);
    return check_reply(c, r, argv[0]);
}

#define EVAL_MAX_ARGS 1100

static int build_eval(drudge_script *s, int nkeys, int argc, const char **argv,
                      const size_t *lens, const char **av, size_t *al, char *nk, size_t nkcap)
{
    if (argc + 3 > EVAL_MAX_ARGS || s->sha[0] == '\0')
        return -1; /* scripts are loaded by every connect */
    snprintf(nk, nkcap, "%d", nkeys);
    av[0] = "EVALSHA";
    al[0] = 7;
    av[1] = s->sha;
    al[1] = 40;
    av[2] = nk;
    al[2] = strlen(nk);
    for (int i = 0; i < argc; i++) {
        av[3 + i] = argv[i];
        al[3 + i] = lens ? lens[i] : strlen(argv[i]);
    }
    return argc + 3;
}

redisReply *drudge__conn_eval(drudge_conn *c, drudge_script *s, int nkeys, int argc,
                              const char **argv, const size_t *lens)
{
    const char *av[EVAL_MAX_ARGS];
    size_t al[EVAL_MAX_ARGS];
    char nk[16];
    int n = build_eval(s, nkeys, argc, argv, lens, av, al, nk, sizeof nk);
    if (n < 0) {
        snprintf(c->errstr, sizeof c->errstr, "too many script arguments");
        return NULL;
    }
    redisReply *r = drudge__conn_cmd(c, n, av, al);
    if (r && r->type == REDIS_REPLY_ERROR && strncmp(r->str, "NOSCRIPT", 8) == 0) {
        /* Someone ran SCRIPT FLUSH: load it again and retry once. */
        freeReplyObject(r);
        const char *load[3] = {"SCRIPT", "LOAD", s->body};
        r = drudge__conn_cmd(c, 3, load, NULL);
        if (r == NULL)
            return NULL;
        script_sha_set(s, r);
        freeReplyObject(r);
        r = drudge__conn_cmd(c, n, av, al);
    }
    return r;
}

int drudge__conn_append_eval(drudge_conn *c, drudge_script *s, int nkeys, int argc,
                             const char **argv, const size_t *lens)
{
    const char *av[EVAL_MAX_ARGS];
    size_t al[EVAL_MAX_ARGS];
    char nk[16];
    int n = build_eval(s, nkeys, argc, argv, lens, av, al, nk, sizeof nk);
    if (c->ctx == NULL || n < 0) {
        snprintf(c->errstr, sizeof c->errstr, "not connected to redis");
        return -1;
    }
    if (redisAppendCommandArgv(c->ctx, n, av, al) != REDIS_OK) {
        set_err_from_ctx(c, "EVALSHA");
        drudge__conn_drop(c);
        return -1;
    }
    return 0;
}

redisReply *drudge__conn_read(drudge_conn *c)
{
    if (c->ctx == NULL) {
        snprintf(c->errstr, sizeof c->errstr, "not connected to redis");
        return NULL;
    }
    redisReply *r = NULL;
    if (redisGetReply(c->ctx, (void **)&r) != REDIS_OK)
        r = NULL;
    return check_reply(c, r, "read reply");
}
