/* http.c - pure HTTP helpers of the dashboard (see http.h). */
#include "http.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int web_html_escape(strbuf *out, const char *s)
{
    const char *run = s;
    for (const char *p = s;; p++) {
        const char *entity = NULL;
        switch (*p) {
        case '&': entity = "&amp;"; break;
        case '<': entity = "&lt;"; break;
        case '>': entity = "&gt;"; break;
        case '"': entity = "&quot;"; break;
        case '\'': entity = "&#39;"; break;
        case '\0': return strbuf_add(out, run, (size_t)(p - run));
        default: continue;
        }
        if (strbuf_add(out, run, (size_t)(p - run)) < 0 || strbuf_adds(out, entity) < 0)
            return -1;
        run = p + 1;
    }
}

static int parse_port(const char *s, int *port)
{
    long v;
    if (web_parse_long(s, 1, 65535, &v) < 0)
        return -1;
    *port = (int)v;
    return 0;
}

int web_listen_parse(const char *s, char *host, size_t hostcap, int *port, char *err, size_t errcap)
{
    const char *colon, *host_start = s;
    size_t host_len;
    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (close == NULL || close[1] != ':') {
            snprintf(err, errcap, "use [IPv6]:PORT");
            return -1;
        }
        host_start = s + 1;
        host_len = (size_t)(close - host_start);
        colon = close + 1;
    } else {
        colon = strrchr(s, ':');
        if (colon == NULL) {
            snprintf(err, errcap, "use HOST:PORT, e.g. 127.0.0.1:8080");
            return -1;
        }
        if (memchr(s, ':', (size_t)(colon - s)) != NULL) {
            snprintf(err, errcap, "put an IPv6 address in brackets: [::1]:8080");
            return -1;
        }
        host_len = (size_t)(colon - s);
    }
    if (host_len == 0 || host_len >= hostcap) {
        snprintf(err, errcap, "%s", host_len == 0 ? "missing host" : "host name too long");
        return -1;
    }
    for (size_t i = 0; i < host_len; i++) {
        unsigned char ch = (unsigned char)host_start[i];
        if (!isalnum(ch) && ch != '.' && ch != '-' && ch != ':' && ch != '%' && ch != '_') {
            snprintf(err, errcap, "invalid character in host");
            return -1;
        }
    }
    if (parse_port(colon + 1, port) < 0) {
        snprintf(err, errcap, "port must be a number from 1 to 65535");
        return -1;
    }
    memcpy(host, host_start, host_len);
    host[host_len] = '\0';
    return 0;
}

int web_host_is_loopback(const char *host)
{
    if (strcasecmp(host, "localhost") == 0 || strcmp(host, "::1") == 0)
        return 1;
    /* 127.a.b.c, numeric only */
    if (strncmp(host, "127.", 4) != 0)
        return 0;
    int dots = 0;
    for (const char *p = host + 4; *p; p++) {
        if (*p == '.')
            dots++;
        else if (!isdigit((unsigned char)*p))
            return 0;
    }
    return dots == 2;
}

int web_host_header_ok(const char *host_header, int loopback_only)
{
    if (!loopback_only || host_header == NULL)
        return 1;
    char host[WEB_HOST_MAX];
    const char *start = host_header, *end;
    if (*start == '[') {
        start++;
        end = strchr(start, ']');
        if (end == NULL)
            return 0;
    } else {
        end = strchr(start, ':');
        if (end == NULL)
            end = start + strlen(start);
    }
    size_t len = (size_t)(end - start);
    if (len == 0 || len >= sizeof host)
        return 0;
    memcpy(host, start, len);
    host[len] = '\0';
    return web_host_is_loopback(host);
}

int web_token_valid(const char *token)
{
    size_t len = strlen(token);
    if (len < WEB_TOKEN_MIN || len > WEB_TOKEN_MAX)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (token[i] <= ' ' || token[i] > '~')
            return 0;
    return 1;
}

web_token_source web_token_source_pick(const char *flag_file, const char *env,
                                       const char *config_file)
{
    if (flag_file != NULL)
        return WEB_TOKEN_FROM_FLAG;
    if (env != NULL && *env != '\0')
        return WEB_TOKEN_FROM_ENV;
    if (config_file != NULL && *config_file != '\0')
        return WEB_TOKEN_FROM_CONFIG;
    return WEB_TOKEN_RANDOM;
}

int web_bool_parse(const char *s, int *out)
{
    static const struct {
        const char *word;
        int value;
    } words[] = {{"true", 1},  {"yes", 1}, {"on", 1},  {"1", 1},
                 {"false", 0}, {"no", 0},  {"off", 0}, {"0", 0}};
    for (size_t i = 0; s != NULL && i < sizeof words / sizeof words[0]; i++)
        if (strcasecmp(s, words[i].word) == 0) {
            *out = words[i].value;
            return 0;
        }
    return -1;
}

int web_bearer_ok(const char *authorization, const char *token)
{
    if (authorization == NULL || token == NULL || token[0] == '\0')
        return 0;
    if (strncasecmp(authorization, "Bearer ", 7) != 0)
        return 0;
    const char *given = authorization + 7;
    while (*given == ' ')
        given++;
    size_t glen = strlen(given), tlen = strlen(token);
    while (glen > 0 && given[glen - 1] == ' ')
        glen--;
    /* constant time in the token's length: look at every byte of it */
    unsigned diff = glen != tlen;
    for (size_t i = 0; i < tlen; i++)
        diff |= (unsigned char)token[i] ^ (unsigned char)(i < glen ? given[i] : 0);
    return diff == 0;
}

int web_origin_ok(const char *origin, const char *host_header, const char *sec_fetch_site)
{
    if (sec_fetch_site != NULL && strcmp(sec_fetch_site, "same-origin") != 0 &&
        strcmp(sec_fetch_site, "none") != 0)
        return 0;
    if (origin == NULL)
        return 1;
    if (host_header == NULL)
        return 0;
    const char *rest;
    if (strncmp(origin, "http://", 7) == 0)
        rest = origin + 7;
    else if (strncmp(origin, "https://", 8) == 0)
        rest = origin + 8;
    else
        return 0; /* "null" (sandboxed frames, file:) and anything else */
    return strcasecmp(rest, host_header) == 0;
}

int web_parse_long(const char *s, long min, long max, long *out)
{
    if (s == NULL || *s == '\0' || isspace((unsigned char)*s))
        return -1;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

int web_size_parse(const char *s, uint64_t *out)
{
    static const struct {
        const char *unit;
        double factor;
    } units[] = {
        {"K", 1024.0},          {"KB", 1024.0},          {"KiB", 1024.0},
        {"M", 1048576.0},       {"MB", 1048576.0},       {"MiB", 1048576.0},
        {"G", 1073741824.0},    {"GB", 1073741824.0},    {"GiB", 1073741824.0},
        {"T", 1099511627776.0}, {"TB", 1099511627776.0}, {"TiB", 1099511627776.0},
    };
    if (s == NULL || !isdigit((unsigned char)*s))
        return -1;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno != 0 || !isfinite(v) || v <= 0)
        return -1;
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (strcasecmp(end, units[i].unit) != 0)
            continue;
        double bytes = v * units[i].factor;
        if (bytes >= 1.8e19)
            return -1;
        *out = (uint64_t)bytes;
        return 0;
    }
    return -1;
}

int web_rel_path_valid(const char *path)
{
    size_t len = strlen(path);
    if (len == 0 || len > WEB_PATH_MAX)
        return 0;
    int depth = 0;
    const char *seg = path;
    for (const char *p = path;; p++) {
        if (*p == '/' || *p == '\0') {
            if (p == seg || *seg == '.' || ++depth > WEB_PATH_DEPTH || p - seg > 255)
                return 0;
            if (*p == '\0')
                return 1;
            seg = p + 1;
        } else if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-' && *p != '.') {
            return 0;
        }
    }
}

static const struct {
    const char *ext;
    const char *type;
    int image;
} content_types[] = {
    {"html", "text/html; charset=utf-8", 0},
    {"css", "text/css; charset=utf-8", 0},
    {"js", "text/javascript; charset=utf-8", 0},
    {"mjs", "text/javascript; charset=utf-8", 0},
    {"svg", "image/svg+xml", 0}, /* only our own: SVG can carry script */
    {"json", "application/json", 0},
    {"txt", "text/plain; charset=utf-8", 0},
    {"gif", "image/gif", 1},
    {"png", "image/png", 1},
    {"jpg", "image/jpeg", 1},
    {"jpeg", "image/jpeg", 1},
    {"webp", "image/webp", 1},
};

const char *web_content_type(const char *name, int images_only)
{
    const char *dot = strrchr(name, '.');
    if (dot == NULL || strchr(dot, '/') != NULL)
        return NULL;
    for (size_t i = 0; i < sizeof content_types / sizeof content_types[0]; i++)
        if (strcasecmp(dot + 1, content_types[i].ext) == 0)
            return images_only && !content_types[i].image ? NULL : content_types[i].type;
    return NULL;
}

const char *web_image_sniff(const unsigned char *p, size_t len)
{
    if (len >= 3 && p[0] == 0xFF && p[1] == 0xD8 && p[2] == 0xFF)
        return "jpg";
    if (len >= 8 && memcmp(p, "\x89PNG\r\n\x1a\n", 8) == 0)
        return "png";
    if (len >= 6 && (memcmp(p, "GIF87a", 6) == 0 || memcmp(p, "GIF89a", 6) == 0))
        return "gif";
    if (len >= 12 && memcmp(p, "RIFF", 4) == 0 && memcmp(p + 8, "WEBP", 4) == 0)
        return "webp";
    return NULL;
}

int web_sse_event(strbuf *out, const char *event, const char *data)
{
    if (event && strbuf_addf(out, "event: %s\n", event) < 0)
        return -1;
    const char *line = data;
    for (;;) {
        size_t n = strcspn(line, "\r\n");
        if (strbuf_adds(out, "data: ") < 0 || strbuf_add(out, line, n) < 0 ||
            strbuf_adds(out, "\n") < 0)
            return -1;
        line += n;
        if (*line == '\0')
            break;
        line += (line[0] == '\r' && line[1] == '\n') ? 2 : 1;
    }
    return strbuf_adds(out, "\n");
}
