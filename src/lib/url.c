/* url.c - parses the Redis URL forms drudge accepts:
 *   redis://[[user]:password@]host[:port][/db]   and   unix:///path/to/sock[?db=N]
 * Pure string work; the connection module (conn.c) uses the result.
 * Percent-escapes in user and password are decoded. */
#include "internal.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

/* Errors quote the URL with any user:password@ part hidden: messages end
 * up in logs. */
static int fail(char *err, size_t errcap, const char *url, const char *why)
{
    const char *scheme_end = strstr(url, "://");
    const char *host = scheme_end ? scheme_end + 3 : url;
    const char *at = strrchr(host, '@'); /* passwords may hold '/' unencoded */
    if (at)
        snprintf(err, errcap, "invalid redis url \"%.*s***@%s\": %s", (int)(host - url), url,
                 at + 1, why);
    else
        snprintf(err, errcap, "invalid redis url \"%s\": %s", url, why);
    return -1;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    c = tolower(c);
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

/* Copy [s, s+n) into out, decoding %XX. -1 if too long or a bad escape. */
static int copy_decoded(char *out, size_t cap, const char *s, size_t n)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        int ch = (unsigned char)s[i];
        if (ch == '%') {
            if (i + 2 >= n)
                return -1;
            int hi = hexval(s[i + 1]), lo = hexval(s[i + 2]);
            if (hi < 0 || lo < 0)
                return -1;
            ch = hi * 16 + lo;
            i += 2;
        }
        if (o + 1 >= cap)
            return -1;
        out[o++] = (char)ch;
    }
    out[o] = '\0';
    return 0;
}

static int parse_db(const char *s, int *db)
{
    long v;
    if (drudge__parse_long(s, 0, 100000, &v) < 0)
        return -1;
    *db = (int)v;
    return 0;
}

int drudge_redis_url_parse(const char *url, drudge_redis_url *out, char *err, size_t errcap)
{
    memset(out, 0, sizeof *out);
    out->port = 6379;
    if (url == NULL || *url == '\0')
        return fail(err, errcap, "", "empty");

    if (strncmp(url, "unix://", 7) == 0) {
        const char *path = url + 7;
        const char *q = strchr(path, '?');
        size_t plen = q ? (size_t)(q - path) : strlen(path);
        if (plen == 0 || path[0] != '/')
            return fail(err, errcap, url, "unix socket path must be absolute (unix:///path)");
        if (plen >= sizeof out->path)
            return fail(err, errcap, url, "unix socket path too long");
        memcpy(out->path, path, plen);
        out->path[plen] = '\0';
        out->is_unix = 1;
        if (q) {
            if (strncmp(q, "?db=", 4) != 0 || parse_db(q + 4, &out->db) < 0)
                return fail(err, errcap, url, "expected ?db=N after the socket path");
        }
        return 0;
    }
    if (strncmp(url, "redis://", 8) != 0)
        return fail(err, errcap, url, "scheme must be redis:// or unix:// (rediss:// needs TLS, which this build lacks)");

    const char *p = url + 8;
    const char *slash = strchr(p, '/');
    const char *hostend = slash ? slash : p + strlen(p);
    /* userinfo: the last '@' before the path */
    const char *at = NULL;
    for (const char *s = p; s < hostend; s++)
        if (*s == '@')
            at = s;
    if (at) {
        const char *colon = memchr(p, ':', (size_t)(at - p));
        if (colon) {
            if (copy_decoded(out->user, sizeof out->user, p, (size_t)(colon - p)) < 0 ||
                copy_decoded(out->password, sizeof out->password, colon + 1,
                             (size_t)(at - colon - 1)) < 0)
                return fail(err, errcap, url, "bad user or password");
        } else if (copy_decoded(out->password, sizeof out->password, p, (size_t)(at - p)) < 0) {
            return fail(err, errcap, url, "bad password");
        }
        p = at + 1;
    }
    const char *portsep = NULL;
    if (*p == '[') { /* [ipv6]:port */
        const char *close = memchr(p, ']', (size_t)(hostend - p));
        if (!close)
            return fail(err, errcap, url, "unclosed '[' in host");
        if ((size_t)(close - p - 1) >= sizeof out->host || close == p + 1)
            return fail(err, errcap, url, "bad host");
        memcpy(out->host, p + 1, (size_t)(close - p - 1));
        out->host[close - p - 1] = '\0';
        if (close + 1 < hostend) {
            if (close[1] != ':')
                return fail(err, errcap, url, "junk after ']'");
            portsep = close + 1;
        }
    } else {
        portsep = memchr(p, ':', (size_t)(hostend - p));
        const char *he = portsep ? portsep : hostend;
        if (he == p)
            return fail(err, errcap, url, "missing host");
        if ((size_t)(he - p) >= sizeof out->host)
            return fail(err, errcap, url, "host too long");
        memcpy(out->host, p, (size_t)(he - p));
        out->host[he - p] = '\0';
    }
    if (portsep) {
        char port[16];
        size_t n = (size_t)(hostend - portsep - 1);
        long v;
        if (n == 0 || n >= sizeof port)
            return fail(err, errcap, url, "bad port");
        memcpy(port, portsep + 1, n);
        port[n] = '\0';
        if (drudge__parse_long(port, 1, 65535, &v) < 0)
            return fail(err, errcap, url, "port must be a number from 1 to 65535");
        out->port = (int)v;
    }
    if (slash && slash[1] != '\0' && parse_db(slash + 1, &out->db) < 0)
        return fail(err, errcap, url, "database must be a number");
    return 0;
}
