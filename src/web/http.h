/* http.h - the pure parts of the dashboard's HTTP handling: escaping,
 * request checks (bearer token, Origin, Host), parsing of --listen and of
 * sizes and numbers, file names the static routes accept, content types,
 * image magic bytes and Server-Sent-Event framing. Bytes in, bytes out, no
 * sockets, so each is unit-tested (tests/unit/test_web_http.c); server.c
 * does the I/O. */
#ifndef DRUDGE_WEB_HTTP_H
#define DRUDGE_WEB_HTTP_H

#include "strbuf.h"

#include <stddef.h>
#include <stdint.h>

#define WEB_HOST_MAX 256
#define WEB_TOKEN_MIN 16
#define WEB_TOKEN_MAX 256
#define WEB_PATH_MAX 1024 /* a relative path under a served directory */
#define WEB_PATH_DEPTH 8  /* most directories in it */

/* Append s with & < > " ' as entities. 0 or -1 (buffer failed). */
int web_html_escape(strbuf *out, const char *s);

/* "127.0.0.1:8080", "[::1]:8080", "localhost:8080": host (without
 * brackets) and port 1-65535. 0, or -1 with the reason in err. */
int web_listen_parse(const char *s, char *host, size_t hostcap, int *port, char *err,
                     size_t errcap);
/* 1 if host (no port, no brackets) names this machine's loopback:
 * localhost, 127.0.0.0/8 or ::1. */
int web_host_is_loopback(const char *host);
/* A request's Host header against a loopback-only listener: a page served
 * on 127.0.0.1 must not answer to another name (DNS rebinding). 1 when
 * acceptable: not loopback_only, no Host header, or a loopback name. */
int web_host_header_ok(const char *host_header, int loopback_only);

/* 1 if the Authorization header is "Bearer <token>" with the right token
 * (compared in constant time). 0 for a missing or wrong one. */
int web_bearer_ok(const char *authorization, const char *token);
/* 1 if a token read from a file or the environment is usable:
 * WEB_TOKEN_MIN-WEB_TOKEN_MAX printable ASCII characters, no spaces. */
int web_token_valid(const char *token);
/* Where `drudge web` takes its token from: the first that is given of
 * --token-file, $DRUDGE_WEB_TOKEN (non-empty) and the config's
 * web.token_file (non-empty), else a random one made at start. */
typedef enum {
    WEB_TOKEN_FROM_FLAG,
    WEB_TOKEN_FROM_ENV,
    WEB_TOKEN_FROM_CONFIG,
    WEB_TOKEN_RANDOM,
} web_token_source;
web_token_source web_token_source_pick(const char *flag_file, const char *env,
                                       const char *config_file);
/* true / false, yes / no, on / off, 1 / 0 in any case (an option's
 * value). 0 with *out set, or -1. */
int web_bool_parse(const char *s, int *out);
/* Whether a state-changing request may come from where it says it comes
 * from. Browsers send Origin on cross-origin POSTs and Sec-Fetch-Site on
 * every request; a request without both (curl, a script) is judged by its
 * token alone. 1 allowed, 0 refused (a foreign or "null" Origin, or
 * Sec-Fetch-Site cross-site / same-site). */
int web_origin_ok(const char *origin, const char *host_header, const char *sec_fetch_site);

/* "512M", "4G", "1.5GiB", "800KB": bytes (units are powers of 1024; a
 * unit is required). 0, or -1. */
int web_size_parse(const char *s, uint64_t *out);
/* Whole-string integer in [min, max]. 0, or -1. */
int web_parse_long(const char *s, long min, long max, long *out);

/* A relative path under a served directory: 1-WEB_PATH_DEPTH segments of
 * [A-Za-z0-9_.-], none empty or starting with '.', at most WEB_PATH_MAX
 * bytes. 1 valid, 0 not (so no "..", no absolute path, no hidden file). */
int web_rel_path_valid(const char *path);
/* Content type for a file name by its extension, or NULL for one that is
 * not served. `images_only` limits it to the image types. */
const char *web_content_type(const char *name, int images_only);
/* The image format of bytes by their magic: "jpg", "png", "gif", "webp",
 * or NULL. The extension of an upload comes from here, never its name. */
const char *web_image_sniff(const unsigned char *p, size_t len);

/* Append one Server-Sent Event: "event: <event>\n", a "data: " line per
 * line of data, and the blank line. 0 or -1. */
int web_sse_event(strbuf *out, const char *event, const char *data);

#endif
