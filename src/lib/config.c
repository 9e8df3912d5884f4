/* config.c - drudge's one YAML file: built-in defaults, then the file (libyaml
 * document API), then environment overrides. Every known key is a row in a const
 * table (type, range, field offset, default), so an unknown key or a bad value is
 * an error naming file, line and dotted key. Owns per-class settings and the
 * schedule list; URL syntax is url.c's, log levels log.c's, cron syntax cron.c's. */
#include "internal.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#define CONFIG_FILE_MAX (1024 * 1024) /* a config file is small; refuse more */
#define KEY_PATH_MAX 256              /* dotted key paths in messages */
#define ENTRIES_MAX 4096              /* classes, schedule entries */
#define STRLIST_MAX 64                /* items of a string list */
#define PAYLOAD_DEPTH_MAX 64          /* as drudge_payload_parse() allows */
#define PAYLOAD_NODES_MAX 100000      /* aliases can make a small file huge */
#define QUOTE_MAX 48                  /* bytes of a bad value echoed back */

typedef struct load_state load_state;

typedef enum {
    T_STR,       /* char *; F_EMPTY_OK allows "" (and null) */
    T_SECONDS,   /* double; a number of seconds */
    T_INT,       /* int */
    T_LONG,      /* long */
    T_SIZE,      /* size_t */
    T_RATE,      /* double per second, from "N/s", "N/min", "N/h" or N */
    T_BOOL,      /* int 0/1 from true/false/yes/no */
    T_ISOLATION, /* drudge_isolation */
    T_STRLIST,   /* char ** with a size_t count at count_offset */
    T_JSON,      /* char *: a YAML mapping stored as compact JSON text */
    T_SECTION,   /* a mapping whose keys are the rows of `sub` */
    T_CLASSES,   /* classes: (load_classes) */
    T_SCHEDULE,  /* schedule: (load_schedule) */
} value_type;

enum {
    F_EMPTY_OK = 1u << 0,
    F_POSITIVE = 1u << 1, /* T_SECONDS: strictly greater than min */
    F_REQUIRED = 1u << 2,
    F_LATE = 1u << 3, /* top level: applied after every other key */
};

typedef struct key_spec {
    const char *key;
    value_type type;
    unsigned flags;
    double min, max;     /* numbers: the accepted range */
    size_t offset;       /* of the field in the struct being filled */
    size_t count_offset; /* T_STRLIST: of its size_t count */
    int (*check)(const char *value, char *why, size_t whycap);
    const char *def_str; /* defaults (top-level tables only) */
    double def_num;
    const char *const *def_list;
    const struct key_spec *sub; /* T_SECTION */
    size_t nsub;
    /* T_SECTION: cross-key checks once the whole mapping is applied. */
    int (*post)(load_state *st, void *base, yaml_node_t *map, const char *path);
    unsigned mask; /* classes: the DRUDGE_CLASS_SET_* bit */
} key_spec;

struct load_state {
    const char *name; /* file name for messages */
    const char *text; /* the YAML text, for reader-error line numbers */
    yaml_document_t *doc;
    drudge_config *cfg;
    char *err;
    size_t errcap;
    size_t payload_nodes;
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
#define CFG(f) offsetof(drudge_config, f)
#define CLS(f) offsetof(drudge_class_config, f)
#define SCHED(f) offsetof(drudge_schedule_entry, f)
#define SUB(t) .sub = (t), .nsub = COUNT(t)

/* ------------------------------------------------------------------------
 * Value checks beyond type and range. Each writes a reason into why.
 * ---------------------------------------------------------------------- */

static const char name_chars[] = "1-128 characters of [A-Za-z0-9_.:-]";

static void quote(char *out, size_t cap, const char *s, size_t len);

static int check_redis_url(const char *value, char *why, size_t whycap)
{
    drudge_redis_url url;
    return drudge_redis_url_parse(value, &url, why, whycap);
}

static int check_log_level(const char *value, char *why, size_t whycap)
{
    drudge_log_level lvl;
    if (drudge_log_level_parse(value, &lvl) == 0)
        return 0;
    char q[QUOTE_MAX + 8];
    quote(q, sizeof q, value, strlen(value));
    snprintf(why, whycap, "must be debug, info, warn or error, got %s", q);
    return -1;
}

/* pdf.chromium: "auto" or the browser's path (it goes on a command line). */
static int check_browser(const char *value, char *why, size_t whycap)
{
    size_t n = strlen(value); /* "" is refused for every string key */
    if (n > 1000) {
        snprintf(why, whycap, "is %zu bytes long, at most 1000", n);
        return -1;
    }
    return 0;
}

/* The namespace prefixes every key, so it follows the class-name rule. */
static int check_namespace(const char *value, char *why, size_t whycap)
{
    if (*value == '\0' || drudge_class_valid(value))
        return 0;
    char q[QUOTE_MAX + 8];
    quote(q, sizeof q, value, strlen(value));
    snprintf(why, whycap, "must be empty or %s, got %s", name_chars, q);
    return -1;
}

static int check_class_name(const char *value, char *why, size_t whycap)
{
    if (drudge_class_valid(value))
        return 0;
    char q[QUOTE_MAX + 8];
    quote(q, sizeof q, value, strlen(value));
    snprintf(why, whycap, "invalid class name %s: must be %s", q, name_chars);
    return -1;
}

/* Schedule entry names become part of a Redis key (drudge:cron:<name>). */
static int check_entry_name(const char *value, char *why, size_t whycap)
{
    if (drudge_class_valid(value))
        return 0;
    char q[QUOTE_MAX + 8];
    quote(q, sizeof q, value, strlen(value));
    snprintf(why, whycap, "must be %s, got %s", name_chars, q);
    return -1;
}

/* "host:port", ":port" or "[v6addr]:port"; the dashboard resolves the host. */
static int check_listen(const char *value, char *why, size_t whycap)
{
    const char *colon = strrchr(value, ':');
    long port;
    if (colon != NULL && (value[0] != '[' || (colon > value && colon[-1] == ']')) &&
        drudge__parse_long(colon + 1, 1, 65535, &port) == 0 && colon[1] >= '0' && colon[1] <= '9')
        return 0;
    char q[QUOTE_MAX + 8];
    quote(q, sizeof q, value, strlen(value));
    snprintf(why, whycap, "must be host:port with a port from 1 to 65535, got %s", q);
    return -1;
}

/* An IANA zone name; it ends up in TZ or a path under the zoneinfo tree, so
 * no absolute paths and no "..". Whether the zone exists is cron.c's call. */
static int check_timezone(const char *value, char *why, size_t whycap)
{
    size_t n = strlen(value);
    int ok = n >= 1 && n <= 64 && value[0] != '/' && strstr(value, "..") == NULL;
    for (size_t i = 0; ok && i < n; i++) {
        char ch = value[i];
        ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
             ch == '_' || ch == '-' || ch == '+' || ch == '/';
    }
    if (ok)
        return 0;
    char q[QUOTE_MAX + 8];
    quote(q, sizeof q, value, n);
    snprintf(why, whycap, "must be UTC or a zone name such as Europe/Berlin, got %s", q);
    return -1;
}

/* A schedule entry's cron expression must parse (cron.c). */
static int check_cron(const char *value, char *why, size_t whycap)
{
    drudge_cron c;
    char err[256];
    if (drudge__cron_parse(value, &c, err, sizeof err) == 0)
        return 0;
    snprintf(why, whycap, "%s", err);
    return -1;
}

static int check_worker(load_state *st, void *base, yaml_node_t *map, const char *path);
static int check_backoff(load_state *st, void *base, yaml_node_t *map, const char *path);

/* ------------------------------------------------------------------------
 * The tables of known keys.
 * ---------------------------------------------------------------------- */

static const char *const default_image_formats[] = {"jpeg", "png", "gif", "webp", NULL};

static const key_spec redis_keys[] = {
    {.key = "url",
     .type = T_STR,
     .offset = CFG(redis_url),
     .check = check_redis_url,
     .def_str = "redis://127.0.0.1:6379/0"},
    {.key = "connect_timeout",
     .type = T_SECONDS,
     .flags = F_POSITIVE,
     .max = 3600,
     .offset = CFG(connect_timeout),
     .def_num = 2},
    {.key = "command_timeout",
     .type = T_SECONDS,
     .flags = F_POSITIVE,
     .max = 3600,
     .offset = CFG(command_timeout),
     .def_num = 5},
};

static const key_spec worker_keys[] = {
    {.key = "heartbeat",
     .type = T_SECONDS,
     .flags = F_POSITIVE,
     .max = 3600,
     .offset = CFG(heartbeat),
     .def_num = 5},
    {.key = "dead_after",
     .type = T_SECONDS,
     .flags = F_POSITIVE,
     .max = 86400,
     .offset = CFG(dead_after),
     .def_num = 30},
    {.key = "drain_timeout",
     .type = T_SECONDS,
     .max = 86400,
     .offset = CFG(drain_timeout),
     .def_num = 25},
    {.key = "max_jobs", .type = T_LONG, .max = 1e9, .offset = CFG(max_jobs)},
    {.key = "max_runtime", .type = T_SECONDS, .max = 31536000, .offset = CFG(max_runtime)},
    {.key = "max_rss_mb", .type = T_LONG, .max = 1048576, .offset = CFG(max_rss_mb)},
    {.key = "max_payload_bytes",
     .type = T_SIZE,
     .min = 1,
     .max = 512.0 * 1024 * 1024,
     .offset = CFG(max_payload_bytes),
     .def_num = 1048576},
    {.key = "prefetch",
     .type = T_LONG,
     .min = 1,
     .max = 32,
     .offset = CFG(prefetch),
     .def_num = 32},
    {.key = "progress_interval",
     .type = T_SECONDS,
     .max = 3600,
     .offset = CFG(progress_interval),
     .def_num = 0.25},
    {.key = "log_level",
     .type = T_STR,
     .offset = CFG(log_level),
     .check = check_log_level,
     .def_str = "info"},
};

static const char *const default_image_forbidden_env[] = {"*PASSWORD*", "*SECRET*", "*TOKEN*",
                                                          "*KEY*", NULL};

/* ImageMagick's own limits; the system policy.xml may cap them lower. */
static const key_spec image_limit_keys[] = {
    {.key = "width",
     .type = T_LONG,
     .min = 1,
     .max = 1000000,
     .offset = CFG(image_limit_width),
     .def_num = 16000},
    {.key = "height",
     .type = T_LONG,
     .min = 1,
     .max = 1000000,
     .offset = CFG(image_limit_height),
     .def_num = 16000},
    {.key = "area",
     .type = T_LONG,
     .min = 1,
     .max = 1e12,
     .offset = CFG(image_limit_area),
     .def_num = 128000000},
    {.key = "memory",
     .type = T_LONG,
     .min = 1,
     .max = 1048576,
     .offset = CFG(image_limit_memory),
     .def_num = 256},
    {.key = "map",
     .type = T_LONG,
     .min = 1,
     .max = 1048576,
     .offset = CFG(image_limit_map),
     .def_num = 512},
    {.key = "disk",
     .type = T_LONG,
     .min = 1,
     .max = 1048576,
     .offset = CFG(image_limit_disk),
     .def_num = 1024},
    {.key = "input",
     .type = T_LONG,
     .min = 1,
     .max = 65536,
     .offset = CFG(image_limit_input),
     .def_num = 50},
    {.key = "time",
     .type = T_SECONDS,
     .flags = F_POSITIVE,
     .max = 86400,
     .offset = CFG(image_limit_time),
     .def_num = 30},
    {.key = "list_length",
     .type = T_LONG,
     .min = 1,
     .max = 100000,
     .offset = CFG(image_limit_list_length),
     .def_num = 300},
};

static const key_spec image_keys[] = {
    {.key = "input_dir", .type = T_STR, .offset = CFG(image_input_dir), .def_str = "var/uploads"},
    {.key = "output_dir", .type = T_STR, .offset = CFG(image_output_dir), .def_str = "var/out"},
    {.key = "allowed_formats",
     .type = T_STRLIST,
     .offset = CFG(image_allowed_formats),
     .count_offset = CFG(image_nallowed_formats),
     .def_list = default_image_formats},
    {.key = "temp_dir",
     .type = T_STR,
     .flags = F_EMPTY_OK,
     .offset = CFG(image_temp_dir),
     .def_str = ""},
    {.key = "font",
     .type = T_STR,
     .offset = CFG(image_font),
     .def_str = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"},
    {.key = "threads",
     .type = T_LONG,
     .min = 1,
     .max = 256,
     .offset = CFG(image_threads),
     .def_num = 1},
    {.key = "forbidden_env",
     .type = T_STRLIST,
     .offset = CFG(image_forbidden_env),
     .count_offset = CFG(image_nforbidden_env),
     .def_list = default_image_forbidden_env},
    {.key = "limits", .type = T_SECTION, SUB(image_limit_keys)},
};

/* smtp:// or smtps://, a host, no credentials (the user is email.user, the
 * password only $DRUDGE_SMTP_PASSWORD), no spaces or control bytes. */
static int check_smtp_url(const char *value, char *why, size_t whycap)
{
    const char *rest = NULL, *why_not = NULL;
    if (strncasecmp(value, "smtp://", 7) == 0)
        rest = value + 7;
    else if (strncasecmp(value, "smtps://", 8) == 0)
        rest = value + 8;
    size_t host_len = rest ? strcspn(rest, "/?#") : 0;
    if (rest == NULL)
        why_not = "must start with smtp:// or smtps://";
    else if (host_len == 0 || rest[0] == ':')
        why_not = "has no host";
    else if (memchr(rest, '@', host_len) != NULL)
        why_not = "must not hold credentials: set email.user and $DRUDGE_SMTP_PASSWORD";
    else if (strpbrk(value, "?#") != NULL)
        why_not = "must not have a query or fragment";
    for (const char *p = value; why_not == NULL && *p; p++)
        if ((unsigned char)*p <= 0x20 || *p == 0x7f)
            why_not = "must not contain spaces or control characters";
    if (why_not == NULL)
        return 0;
    char q[QUOTE_MAX + 8];
    quote(q, sizeof q, value, strlen(value));
    snprintf(why, whycap, "%s, got %s", why_not, q);
    return -1;
}

static int check_starttls(const char *value, char *why, size_t whycap)
{
    if (strcmp(value, "required") == 0 || strcmp(value, "optional") == 0 ||
        strcmp(value, "never") == 0)
        return 0;
    char q[QUOTE_MAX + 8];
    quote(q, sizeof q, value, strlen(value));
    snprintf(why, whycap, "must be required, optional or never, got %s", q);
    return -1;
}

static const key_spec email_keys[] = {
    {.key = "smtp_url",
     .type = T_STR,
     .offset = CFG(email_smtp_url),
     .check = check_smtp_url,
     .def_str = "smtp://127.0.0.1:25"},
    {.key = "from",
     .type = T_STR,
     .offset = CFG(email_from),
     .def_str = "drudge <noreply@localhost>"},
    {.key = "attachments_dir",
     .type = T_STR,
     .offset = CFG(email_attachments_dir),
     .def_str = "var/out"},
    {.key = "allowed_from",
     .type = T_STRLIST,
     .offset = CFG(email_allowed_from),
     .count_offset = CFG(email_nallowed_from)},
    {.key = "starttls",
     .type = T_STR,
     .offset = CFG(email_starttls),
     .check = check_starttls,
     .def_str = "optional"},
    {.key = "user", .type = T_STR, .flags = F_EMPTY_OK, .offset = CFG(email_user), .def_str = ""},
    {.key = "max_recipients",
     .type = T_LONG,
     .min = 1,
     .max = 10000,
     .offset = CFG(email_max_recipients),
     .def_num = 100},
    {.key = "max_attachment_bytes",
     .type = T_SIZE,
     .min = 1,
     .max = 1024.0 * 1024 * 1024,
     .offset = CFG(email_max_attachment_bytes),
     .def_num = 10 * 1024 * 1024},
    {.key = "max_message_bytes",
     .type = T_SIZE,
     .min = 1,
     .max = 1024.0 * 1024 * 1024,
     .offset = CFG(email_max_message_bytes),
     .def_num = 25 * 1024 * 1024},
    {.key = "connect_timeout",
     .type = T_SECONDS,
     .flags = F_POSITIVE,
     .max = 3600,
     .offset = CFG(email_connect_timeout),
     .def_num = 10},
    {.key = "timeout",
     .type = T_SECONDS,
     .flags = F_POSITIVE,
     .max = 86400,
     .offset = CFG(email_timeout),
     .def_num = 60},
};

static const key_spec pdf_keys[] = {
    {.key = "chromium",
     .type = T_STR,
     .offset = CFG(pdf_chromium),
     .check = check_browser,
     .def_str = "auto"},
    {.key = "output_dir", .type = T_STR, .offset = CFG(pdf_output_dir), .def_str = "var/out"},
    {.key = "input_dir", .type = T_STR, .offset = CFG(pdf_input_dir), .def_str = "var/uploads"},
    {.key = "allowed_hosts",
     .type = T_STRLIST,
     .offset = CFG(pdf_allowed_hosts),
     .count_offset = CFG(pdf_nallowed_hosts)},
    {.key = "allow_private_networks", .type = T_BOOL, .offset = CFG(pdf_allow_private_networks)},
    {.key = "browser_max_jobs",
     .type = T_LONG,
     .max = 1e9,
     .offset = CFG(pdf_browser_max_jobs),
     .def_num = 500},
    {.key = "timeout",
     .type = T_SECONDS,
     .flags = F_POSITIVE,
     .max = 3600,
     .offset = CFG(pdf_timeout),
     .def_num = 30},
    {.key = "navigation_timeout",
     .type = T_SECONDS,
     .flags = F_POSITIVE,
     .max = 3600,
     .offset = CFG(pdf_navigation_timeout),
     .def_num = 20},
    {.key = "no_sandbox", .type = T_BOOL, .offset = CFG(pdf_no_sandbox)},
    {.key = "max_output_bytes",
     .type = T_SIZE,
     .min = 1024,
     .max = 1024.0 * 1024 * 1024,
     .offset = CFG(pdf_max_output_bytes),
     .def_num = 64.0 * 1024 * 1024},
};

/* hosts and credentials are mappings of the user's names, kept as JSON
 * text; check_http() checks their shape and normalises hosts. */
static int check_http(load_state *st, void *base, yaml_node_t *map, const char *path);

static const key_spec http_keys[] = {
    {.key = "host_rate", .type = T_RATE, .max = 1e6, .offset = CFG(http_host_rate), .def_num = 5},
    {.key = "hosts", .type = T_JSON, .offset = CFG(http_hosts), .def_str = "{}"},
    {.key = "allow_private_networks", .type = T_BOOL, .offset = CFG(http_allow_private_networks)},
    {.key = "max_response_bytes",
     .type = T_SIZE,
     .max = 64.0 * 1024 * 1024,
     .offset = CFG(http_max_response_bytes),
     .def_num = 65536},
    {.key = "max_redirects",
     .type = T_INT,
     .max = 20,
     .offset = CFG(http_max_redirects),
     .def_num = 5},
    {.key = "timeout",
     .type = T_SECONDS,
     .flags = F_POSITIVE,
     .max = 86400,
     .offset = CFG(http_timeout),
     .def_num = 30},
    {.key = "credentials", .type = T_JSON, .offset = CFG(http_credentials), .def_str = "{}"},
};

static const key_spec web_keys[] = {
    {.key = "listen",
     .type = T_STR,
     .offset = CFG(web_listen),
     .check = check_listen,
     .def_str = "127.0.0.1:8080"},
    /* read by `drudge web` when it starts (the workers never need it) */
    {.key = "token_file",
     .type = T_STR,
     .flags = F_EMPTY_OK,
     .offset = CFG(web_token_file),
     .def_str = ""},
    {.key = "require_token_for_reads", .type = T_BOOL, .offset = CFG(web_require_token_for_reads)},
};

/* schedule comes last so its payloads are checked against the final
 * worker.max_payload_bytes wherever that key sits in the file. */
static const key_spec top_keys[] = {
    {.key = "redis", .type = T_SECTION, SUB(redis_keys)},
    {.key = "namespace",
     .type = T_STR,
     .flags = F_EMPTY_OK,
     .offset = CFG(namespace_),
     .check = check_namespace,
     .def_str = ""},
    {.key = "worker", .type = T_SECTION, SUB(worker_keys), .post = check_worker},
    {.key = "classes", .type = T_CLASSES},
    {.key = "schedule", .type = T_SCHEDULE, .flags = F_LATE},
    {.key = "image", .type = T_SECTION, SUB(image_keys)},
    {.key = "email", .type = T_SECTION, SUB(email_keys)},
    {.key = "pdf", .type = T_SECTION, SUB(pdf_keys)},
    {.key = "http", .type = T_SECTION, SUB(http_keys), .post = check_http},
    {.key = "web", .type = T_SECTION, SUB(web_keys)},
};

/* Offsets below are into drudge_class_config; defaults come from
 * drudge_class_defaults(). One set_mask bit covers both backoff fields. */
static const key_spec backoff_keys[] = {
    {.key = "base",
     .type = T_SECONDS,
     .flags = F_POSITIVE,
     .max = 604800,
     .offset = CLS(backoff_base)},
    {.key = "cap",
     .type = T_SECONDS,
     .flags = F_POSITIVE,
     .max = 604800,
     .offset = CLS(backoff_cap)},
};

static const key_spec class_keys[] = {
    {.key = "max_attempts",
     .type = T_INT,
     .min = 1,
     .max = 1000,
     .offset = CLS(max_attempts),
     .mask = DRUDGE_CLASS_SET_MAX_ATTEMPTS},
    {.key = "backoff",
     .type = T_SECTION,
     SUB(backoff_keys),
     .post = check_backoff,
     .mask = DRUDGE_CLASS_SET_BACKOFF},
    {.key = "timeout",
     .type = T_SECONDS,
     .flags = F_POSITIVE,
     .max = 86400,
     .offset = CLS(timeout),
     .mask = DRUDGE_CLASS_SET_TIMEOUT},
    {.key = "isolation",
     .type = T_ISOLATION,
     .offset = CLS(isolation),
     .mask = DRUDGE_CLASS_SET_ISOLATION},
    {.key = "rate", .type = T_RATE, .max = 1e6, .offset = CLS(rate), .mask = DRUDGE_CLASS_SET_RATE},
    {.key = "status_ttl",
     .type = T_LONG,
     .min = 1,
     .max = 31536000,
     .offset = CLS(status_ttl),
     .mask = DRUDGE_CLASS_SET_STATUS_TTL},
    {.key = "failed_max",
     .type = T_LONG,
     .max = 10000000,
     .offset = CLS(failed_max),
     .mask = DRUDGE_CLASS_SET_FAILED_MAX},
};

/* Offsets into drudge_schedule_entry; load_schedule() sets the defaults. */
static const key_spec schedule_keys[] = {
    {.key = "name",
     .type = T_STR,
     .flags = F_REQUIRED,
     .offset = SCHED(name),
     .check = check_entry_name},
    {.key = "cron", .type = T_STR, .flags = F_REQUIRED, .offset = SCHED(cron), .check = check_cron},
    {.key = "class",
     .type = T_STR,
     .flags = F_REQUIRED,
     .offset = SCHED(class_name),
     .check = check_class_name},
    {.key = "payload", .type = T_JSON, .offset = SCHED(payload)},
    {.key = "timezone", .type = T_STR, .offset = SCHED(timezone), .check = check_timezone},
    {.key = "catch_up", .type = T_BOOL, .offset = SCHED(catch_up)},
};

/* ------------------------------------------------------------------------
 * Messages.
 * ---------------------------------------------------------------------- */

/* Write "name:line: path: message" into the caller's err. Returns -1. */
static int fail(load_state *st, size_t line, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(load_state *st, size_t line, const char *path, const char *fmt, ...)
{
    char msg[DRUDGE_ERRSTR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (st->err == NULL || st->errcap == 0)
        return -1;
    if (path != NULL && *path != '\0')
        snprintf(st->err, st->errcap, "%s:%zu: %s: %s", st->name, line, path, msg);
    else
        snprintf(st->err, st->errcap, "%s:%zu: %s", st->name, line, msg);
    return -1;
}

/* s[0..len) as a double-quoted string for a message: escapes quotes and
 * control bytes and cuts long values (never inside a UTF-8 sequence). */
static void quote(char *out, size_t cap, const char *s, size_t len)
{
    size_t o = 0, i;
    if (cap < 8) {
        if (cap > 0)
            out[0] = '\0';
        return;
    }
    out[o++] = '"';
    for (i = 0; i < len && i < QUOTE_MAX; i++) {
        unsigned char ch = (unsigned char)s[i];
        char esc[8];
        size_t n = 1;
        if (ch == '"' || ch == '\\') {
            esc[0] = '\\';
            esc[1] = (char)ch;
            n = 2;
        } else if (ch < 0x20 || ch == 0x7f) {
            snprintf(esc, sizeof esc, "\\x%02x", ch);
            n = 4;
        } else {
            esc[0] = (char)ch;
        }
        if (o + n + 5 > cap) /* keep room for ...", and the NUL */
            break;
        memcpy(out + o, esc, n);
        o += n;
    }
    if (i < len) {
        size_t j = o;
        while (j > 1 && ((unsigned char)out[j - 1] & 0xC0) == 0x80)
            j--;
        if (j > 1 && (unsigned char)out[j - 1] >= 0xC0) {
            unsigned char lead = (unsigned char)out[j - 1];
            size_t need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;
            if (o - (j - 1) < need)
                o = j - 1;
        }
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o++] = '"';
    out[o] = '\0';
}

/* Plain empty, ~ and null are YAML's null. */
static int is_null(const yaml_node_t *n)
{
    if (n == NULL)
        return 1;
    if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return 0;
    const char *v = (const char *)n->data.scalar.value;
    return v[0] == '\0' || strcmp(v, "~") == 0 || strcmp(v, "null") == 0 ||
           strcmp(v, "Null") == 0 || strcmp(v, "NULL") == 0;
}

/* What a node is, for "got ..." in messages. */
static void describe_node(const yaml_node_t *n, char *out, size_t cap)
{
    if (n == NULL || is_null(n))
        snprintf(out, cap, "null");
    else if (n->type == YAML_MAPPING_NODE)
        snprintf(out, cap, "a mapping");
    else if (n->type == YAML_SEQUENCE_NODE)
        snprintf(out, cap, "a list");
    else
        quote(out, cap, (const char *)n->data.scalar.value, n->data.scalar.length);
}

/* What a key accepts, for messages. */
static void describe_spec(const key_spec *s, char *out, size_t cap)
{
    switch (s->type) {
    case T_STR:
        snprintf(out, cap,
                 (s->flags & F_EMPTY_OK) ? "must be a string" : "must be a non-empty string");
        break;
    case T_SECONDS:
        if (s->flags & F_POSITIVE)
            snprintf(out, cap, "must be a number of seconds greater than %g and at most %g", s->min,
                     s->max);
        else
            snprintf(out, cap, "must be a number of seconds from %g to %g", s->min, s->max);
        break;
    case T_INT:
    case T_LONG:
    case T_SIZE: snprintf(out, cap, "must be an integer from %.0f to %.0f", s->min, s->max); break;
    case T_RATE:
        snprintf(out, cap,
                 "must be a rate such as 20/s, 600/min, 3600/h or a number per second "
                 "(0 = unlimited, at most %g/s)",
                 s->max);
        break;
    case T_BOOL: snprintf(out, cap, "must be true or false"); break;
    case T_ISOLATION: snprintf(out, cap, "must be fork or inprocess"); break;
    case T_STRLIST: snprintf(out, cap, "must be a list of strings"); break;
    case T_SCHEDULE: snprintf(out, cap, "must be a list of mappings"); break;
    case T_JSON:
    case T_SECTION:
    case T_CLASSES: snprintf(out, cap, "must be a mapping"); break;
    }
}

static int bad_value(load_state *st, const key_spec *s, const yaml_node_t *v, size_t line,
                     const char *path)
{
    char want[200], got[QUOTE_MAX + 16];
    describe_spec(s, want, sizeof want);
    describe_node(v, got, sizeof got);
    return fail(st, line, path, "%s, got %s", want, got);
}

static int out_of_memory(load_state *st, size_t line, const char *path)
{
    return fail(st, line, path, "out of memory");
}

/* The field at offset in the struct at base (offsets come from the tables). */
static void *field_at(void *base, size_t offset)
{
    return (char *)base + offset;
}

/* ------------------------------------------------------------------------
 * Walking the document.
 * ---------------------------------------------------------------------- */

static size_t line_of(const yaml_node_t *n)
{
    return n ? n->start_mark.line + 1 : 1;
}

/* The scalar's text, or NULL if n is not a scalar or the text holds a NUL. */
static const char *scalar_text(const yaml_node_t *n)
{
    if (n == NULL || n->type != YAML_SCALAR_NODE)
        return NULL;
    const char *v = (const char *)n->data.scalar.value;
    return strlen(v) == n->data.scalar.length ? v : NULL;
}

/* "parent.key" (or "key"), control bytes shown as '?'. Cut to fit: paths
 * only appear in messages. */
static void join_path(char *out, size_t cap, const char *parent, const char *key)
{
    size_t o = 0;
    for (const char *p = parent; *p != '\0' && o + 1 < cap; p++)
        out[o++] = *p;
    if (*parent != '\0' && o + 1 < cap)
        out[o++] = '.';
    for (const char *p = key; *p != '\0' && o + 1 < cap; p++)
        out[o++] = ((unsigned char)*p < 0x20 || *p == 0x7f) ? '?' : *p;
    out[o] = '\0';
}

/* "parent[i]"; a path too long for cap is cut (messages only). */
static void index_path(char *out, size_t cap, const char *parent, size_t i)
{
    int n = snprintf(out, cap, "%s[%zu]", parent, i);
    if (n < 0 && cap > 0)
        out[0] = '\0';
}

/* The first pair of map whose key is `key`, or NULL. */
static yaml_node_pair_t *find_pair(load_state *st, yaml_node_t *map, const char *key)
{
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        const char *k = scalar_text(yaml_document_get_node(st->doc, p->key));
        if (k != NULL && strcmp(k, key) == 0)
            return p;
    }
    return NULL;
}

static size_t find_spec(const key_spec *table, size_t n, const char *key)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (strcmp(table[i].key, key) == 0)
            break;
    return i;
}

enum { PASS_EARLY = 0, PASS_LATE = 1, PASS_ALL = 2 };

static int set_value(load_state *st, const key_spec *s, void *base, yaml_node_t *k, yaml_node_t *v,
                     const char *path);

/* Apply every pair of `map` to the struct at base by the rows of table.
 * seen_out (may be NULL) gets bit i for each row i the mapping gave. */
static int apply_mapping(load_state *st, yaml_node_t *map, const char *path, const key_spec *table,
                         size_t n, void *base, int pass, unsigned *seen_out)
{
    unsigned seen = 0;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = yaml_document_get_node(st->doc, p->key);
        yaml_node_t *v = yaml_document_get_node(st->doc, p->value);
        const char *key = scalar_text(k);
        char kpath[KEY_PATH_MAX];
        if (key == NULL)
            return fail(st, line_of(k), path, "keys must be plain strings");
        join_path(kpath, sizeof kpath, path, key);
        size_t i = find_spec(table, n, key);
        if (i == n)
            return fail(st, line_of(k), kpath, "unknown key");
        if (seen & (1u << i)) {
            yaml_node_pair_t *first = find_pair(st, map, key);
            return fail(st, line_of(k), kpath, "duplicate key (first at line %zu)",
                        line_of(yaml_document_get_node(st->doc, first->key)));
        }
        seen |= 1u << i;
        if (pass != PASS_ALL && ((table[i].flags & F_LATE) ? PASS_LATE : PASS_EARLY) != pass)
            continue;
        if (set_value(st, &table[i], base, k, v, kpath) < 0)
            return -1;
    }
    if (seen_out != NULL)
        *seen_out = seen;
    return 0;
}

static int parse_bool(const char *text, int *out)
{
    if (strcasecmp(text, "true") == 0 || strcasecmp(text, "yes") == 0)
        *out = 1;
    else if (strcasecmp(text, "false") == 0 || strcasecmp(text, "no") == 0)
        *out = 0;
    else
        return -1;
    return 0;
}

/* "20/s", "600/min", "3600/h" or a plain number (per second) -> per second. */
static int parse_rate(const char *text, double *out)
{
    const char *slash = strchr(text, '/');
    size_t n = slash ? (size_t)(slash - text) : strlen(text);
    double per = 1, count;
    char num[64];
    if (n == 0 || n >= sizeof num)
        return -1;
    memcpy(num, text, n);
    num[n] = '\0';
    if (slash != NULL) {
        if (strcmp(slash + 1, "s") == 0)
            per = 1;
        else if (strcmp(slash + 1, "min") == 0)
            per = 60;
        else if (strcmp(slash + 1, "h") == 0)
            per = 3600;
        else
            return -1;
    }
    if (drudge__parse_double(num, 0, 1e12, &count) < 0)
        return -1;
    *out = count / per;
    return 0;
}

static int set_strlist(load_state *st, const key_spec *s, void *base, yaml_node_t *k,
                       yaml_node_t *v, const char *path)
{
    char ***field = field_at(base, s->offset);
    size_t *count = field_at(base, s->count_offset);
    char **list = NULL;
    size_t n = 0;
    int rc = -1;

    if (!is_null(v) && v->type != YAML_SEQUENCE_NODE)
        return bad_value(st, s, v, line_of(k), path);
    if (!is_null(v)) {
        size_t items = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
        if (items > STRLIST_MAX)
            return fail(st, line_of(k), path, "must have at most %d items", STRLIST_MAX);
        list = calloc(items + 1, sizeof *list);
        if (list == NULL)
            return out_of_memory(st, line_of(k), path);
        for (size_t i = 0; i < items; i++) {
            yaml_node_t *item = yaml_document_get_node(st->doc, v->data.sequence.items.start[i]);
            const char *text = scalar_text(item);
            if (text == NULL || is_null(item) || *text == '\0') {
                char ipath[KEY_PATH_MAX + 16], got[QUOTE_MAX + 16];
                index_path(ipath, sizeof ipath, path, i);
                describe_node(item, got, sizeof got);
                fail(st, line_of(item), ipath, "must be a non-empty string, got %s", got);
                goto out;
            }
            list[n] = strdup(text);
            if (list[n] == NULL) {
                out_of_memory(st, line_of(item), path);
                goto out;
            }
            n++;
        }
    }
    for (size_t i = 0; i < *count; i++)
        free((*field)[i]);
    free(*field);
    *field = list;
    *count = n;
    list = NULL;
    n = 0;
    rc = 0;
out:
    for (size_t i = 0; i < n; i++)
        free(list[i]);
    free(list);
    return rc;
}

/* ---- schedule payloads: a YAML mapping as JSON (core-schema scalars) ---- */

/* An integer is [-+]?[0-9]+; a float also has a '.' or an exponent. */
static int number_kind(const char *s)
{
    size_t i = 0, digits = 0;
    int is_float = 0;
    if (s[i] == '-' || s[i] == '+')
        i++;
    for (; s[i] >= '0' && s[i] <= '9'; i++)
        digits++;
    if (s[i] == '.') {
        is_float = 1;
        for (i++; s[i] >= '0' && s[i] <= '9'; i++)
            digits++;
    }
    if (digits == 0)
        return 0;
    if (s[i] == 'e' || s[i] == 'E') {
        size_t exp_digits = 0;
        is_float = 1;
        i++;
        if (s[i] == '-' || s[i] == '+')
            i++;
        for (; s[i] >= '0' && s[i] <= '9'; i++)
            exp_digits++;
        if (exp_digits == 0)
            return 0;
    }
    if (s[i] != '\0')
        return 0;
    return is_float ? 2 : 1;
}

static json_t *scalar_to_json(load_state *st, const yaml_node_t *n, const char *path)
{
    const char *text = (const char *)n->data.scalar.value;
    size_t len = n->data.scalar.length;
    json_t *j;

    if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE) {
        j = json_stringn(text, len);
    } else if (is_null(n)) {
        j = json_null();
    } else if (strcmp(text, "true") == 0 || strcmp(text, "True") == 0 ||
               strcmp(text, "TRUE") == 0) {
        j = json_true();
    } else if (strcmp(text, "false") == 0 || strcmp(text, "False") == 0 ||
               strcmp(text, "FALSE") == 0) {
        j = json_false();
    } else if (strcasecmp(text, ".inf") == 0 || strcasecmp(text, "-.inf") == 0 ||
               strcasecmp(text, "+.inf") == 0 || strcasecmp(text, ".nan") == 0) {
        fail(st, line_of(n), path, "JSON has no infinity or NaN, got %s", text);
        return NULL;
    } else if (number_kind(text) == 1) {
        errno = 0;
        char *end;
        long long v = strtoll(text, &end, 10);
        if (errno != 0 || *end != '\0') {
            fail(st, line_of(n), path, "integer out of range: %s", text);
            return NULL;
        }
        j = json_integer((json_int_t)v);
    } else if (number_kind(text) == 2) {
        errno = 0;
        char *end;
        double v = strtod(text, &end);
        if (errno != 0 || *end != '\0' || !isfinite(v)) {
            fail(st, line_of(n), path, "number out of range: %s", text);
            return NULL;
        }
        j = json_real(v);
    } else {
        j = json_stringn(text, len);
    }
    if (j == NULL)
        fail(st, line_of(n), path, "cannot be represented in JSON (out of memory?)");
    return j;
}

static json_t *node_to_json(load_state *st, yaml_node_t *n, int depth, const char *path)
{
    char cpath[KEY_PATH_MAX];
    json_t *j = NULL;

    if (++st->payload_nodes > PAYLOAD_NODES_MAX || depth > PAYLOAD_DEPTH_MAX) {
        fail(st, line_of(n), path, "nests deeper than %d levels or holds more than %d values",
             PAYLOAD_DEPTH_MAX, PAYLOAD_NODES_MAX);
        return NULL;
    }
    switch (n->type) {
    case YAML_SCALAR_NODE: return scalar_to_json(st, n, path);
    case YAML_SEQUENCE_NODE:
        if ((j = json_array()) == NULL)
            goto oom;
        for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top;
             it++) {
            index_path(cpath, sizeof cpath, path, (size_t)(it - n->data.sequence.items.start));
            json_t *child =
                node_to_json(st, yaml_document_get_node(st->doc, *it), depth + 1, cpath);
            if (child == NULL)
                goto bad;
            if (json_array_append_new(j, child) < 0)
                goto oom;
        }
        return j;
    case YAML_MAPPING_NODE:
        if ((j = json_object()) == NULL)
            goto oom;
        for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
             p++) {
            yaml_node_t *k = yaml_document_get_node(st->doc, p->key);
            const char *key = scalar_text(k);
            if (key == NULL) {
                fail(st, line_of(k), path, "keys must be strings without NUL bytes");
                goto bad;
            }
            join_path(cpath, sizeof cpath, path, key);
            if (json_object_get(j, key) != NULL) {
                fail(st, line_of(k), cpath, "duplicate key");
                goto bad;
            }
            json_t *child =
                node_to_json(st, yaml_document_get_node(st->doc, p->value), depth + 1, cpath);
            if (child == NULL)
                goto bad;
            if (json_object_set_new(j, key, child) < 0) {
                fail(st, line_of(k), cpath, "key is not valid UTF-8 or out of memory");
                goto bad;
            }
        }
        return j;
    default: fail(st, line_of(n), path, "unexpected YAML node"); return NULL;
    }
oom:
    out_of_memory(st, line_of(n), path);
bad:
    json_decref(j);
    return NULL;
}

static int set_json(load_state *st, const key_spec *s, void *base, yaml_node_t *k, yaml_node_t *v,
                    const char *path)
{
    char **field = field_at(base, s->offset);
    json_t *obj;
    char *text;

    if (is_null(v))
        return drudge_config_set_string(field, "{}") < 0 ? out_of_memory(st, line_of(k), path) : 0;
    if (v->type != YAML_MAPPING_NODE)
        return bad_value(st, s, v, line_of(k), path);
    st->payload_nodes = 0;
    if ((obj = node_to_json(st, v, 1, path)) == NULL)
        return -1;
    /* 15 significant digits (DBL_DIG) print every decimal a person writes
     * with up to 15 digits as written: 0.1 stays 0.1, not 0.10000000000000001. */
    text = json_dumps(obj, JSON_COMPACT | JSON_REAL_PRECISION(15));
    json_decref(obj);
    if (text == NULL)
        return out_of_memory(st, line_of(k), path);
    free(*field);
    *field = text;
    return 0;
}

static int load_classes(load_state *st, yaml_node_t *k, yaml_node_t *v, const char *path);
static int load_schedule(load_state *st, yaml_node_t *k, yaml_node_t *v, const char *path);

/* Store node v as the value of key row s in the struct at base. Errors about
 * a scalar point at the value's line, others at the key's. */
static int set_value(load_state *st, const key_spec *s, void *base, yaml_node_t *k, yaml_node_t *v,
                     const char *path)
{
    void *field = field_at(base, s->offset);
    size_t line = (v->type == YAML_SCALAR_NODE && !is_null(v)) ? line_of(v) : line_of(k);

    switch (s->type) {
    case T_SECTION:
        if (is_null(v))
            return 0; /* "worker:" with every key commented out */
        if (v->type != YAML_MAPPING_NODE)
            return bad_value(st, s, v, line, path);
        if (apply_mapping(st, v, path, s->sub, s->nsub, base, PASS_ALL, NULL) < 0)
            return -1;
        return s->post ? s->post(st, base, v, path) : 0;
    case T_CLASSES: return load_classes(st, k, v, path);
    case T_SCHEDULE: return load_schedule(st, k, v, path);
    case T_STRLIST: return set_strlist(st, s, base, k, v, path);
    case T_JSON: return set_json(st, s, base, k, v, path);
    default: break;
    }

    if (v->type != YAML_SCALAR_NODE ||
        (is_null(v) && !(s->type == T_STR && (s->flags & F_EMPTY_OK))))
        return bad_value(st, s, v, line, path);
    const char *text = is_null(v) ? "" : scalar_text(v);
    if (text == NULL)
        return fail(st, line, path, "must not contain NUL bytes");

    double d;
    long l;
    int b;
    switch (s->type) {
    case T_STR:
        if (*text == '\0' && !(s->flags & F_EMPTY_OK))
            return bad_value(st, s, v, line, path);
        if (s->check != NULL) {
            char why[DRUDGE_ERRSTR_MAX];
            if (s->check(text, why, sizeof why) < 0)
                return fail(st, line, path, "%s", why);
        }
        if (drudge_config_set_string((char **)field, text) < 0)
            return out_of_memory(st, line, path);
        return 0;
    case T_SECONDS:
        if (drudge__parse_double(text, s->min, s->max, &d) < 0 ||
            ((s->flags & F_POSITIVE) && d <= s->min))
            return bad_value(st, s, v, line, path);
        *(double *)field = d;
        return 0;
    case T_RATE:
        if (parse_rate(text, &d) < 0 || d < s->min || d > s->max)
            return bad_value(st, s, v, line, path);
        *(double *)field = d;
        return 0;
    case T_INT:
    case T_LONG:
    case T_SIZE:
        if (drudge__parse_long(text, (long)s->min, (long)s->max, &l) < 0)
            return bad_value(st, s, v, line, path);
        if (s->type == T_INT)
            *(int *)field = (int)l;
        else if (s->type == T_LONG)
            *(long *)field = l;
        else
            *(size_t *)field = (size_t)l;
        return 0;
    case T_BOOL:
        if (parse_bool(text, &b) < 0)
            return bad_value(st, s, v, line, path);
        *(int *)field = b;
        return 0;
    case T_ISOLATION:
        if (strcmp(text, "fork") == 0)
            *(drudge_isolation *)field = DRUDGE_ISOLATION_FORK;
        else if (strcmp(text, "inprocess") == 0)
            *(drudge_isolation *)field = DRUDGE_ISOLATION_INPROCESS;
        else
            return bad_value(st, s, v, line, path);
        return 0;
    default: return fail(st, line, path, "internal error: unhandled key type");
    }
}

/* ---- cross-key checks ---- */

static size_t key_line(load_state *st, yaml_node_t *map, const char *key)
{
    yaml_node_pair_t *p = find_pair(st, map, key);
    return p ? line_of(yaml_document_get_node(st->doc, p->key)) : line_of(map);
}

/* A worker declared dead before it missed a heartbeat would be reaped alive. */
static int check_worker(load_state *st, void *base, yaml_node_t *map, const char *path)
{
    const drudge_config *cfg = base;
    char kpath[KEY_PATH_MAX];
    if (cfg->dead_after > cfg->heartbeat)
        return 0;
    if (find_pair(st, map, "dead_after") != NULL) {
        join_path(kpath, sizeof kpath, path, "dead_after");
        return fail(st, key_line(st, map, "dead_after"), kpath,
                    "must be greater than worker.heartbeat (%g), got %g", cfg->heartbeat,
                    cfg->dead_after);
    }
    join_path(kpath, sizeof kpath, path, "heartbeat");
    return fail(st, key_line(st, map, "heartbeat"), kpath,
                "must be less than worker.dead_after (%g), got %g", cfg->dead_after,
                cfg->heartbeat);
}

/* A key left out keeps the library default (base 2, cap 300). */
static int check_backoff(load_state *st, void *base, yaml_node_t *map, const char *path)
{
    const drudge_class_config *cls = base;
    char kpath[KEY_PATH_MAX];
    if (cls->backoff_cap >= cls->backoff_base)
        return 0;
    if (find_pair(st, map, "cap") != NULL) {
        join_path(kpath, sizeof kpath, path, "cap");
        return fail(st, key_line(st, map, "cap"), kpath, "must be at least base (%g), got %g",
                    cls->backoff_base, cls->backoff_cap);
    }
    join_path(kpath, sizeof kpath, path, "base");
    return fail(st, key_line(st, map, "base"), kpath,
                "must be at most cap (%g, the default; set cap too), got %g", cls->backoff_cap,
                cls->backoff_base);
}

/* ---- http.hosts and http.credentials ---- */

/* The value node of `key` in map, or NULL. */
static yaml_node_t *value_of(load_state *st, yaml_node_t *map, const char *key)
{
    yaml_node_pair_t *p = map && map->type == YAML_MAPPING_NODE ? find_pair(st, map, key) : NULL;
    return p ? yaml_document_get_node(st->doc, p->value) : NULL;
}

/* A host name or IP literal as URLs give it, lowercased into out. */
static int http_host_name(const char *host, char *out, size_t cap)
{
    size_t n = strlen(host);
    if (n >= 2 && host[0] == '[' && host[n - 1] == ']') {
        host++;
        n -= 2;
    }
    if (n == 0 || n > 253 || n >= cap)
        return -1;
    for (size_t i = 0; i < n; i++) {
        char ch = host[i];
        if (ch >= 'A' && ch <= 'Z')
            ch = (char)(ch - 'A' + 'a');
        if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '.' || ch == '-' ||
              ch == ':' || ch == '_'))
            return -1;
        out[i] = ch;
    }
    out[n] = '\0';
    return 0;
}

/* http.hosts: host -> rate. Stored back as {"host": per second, ...}. */
static int check_http_hosts(load_state *st, drudge_config *cfg, yaml_node_t *map,
                            const char *path)
{
    yaml_node_t *node = value_of(st, map, "hosts");
    char kpath[KEY_PATH_MAX], hpath[KEY_PATH_MAX], host[256];
    const char *key;
    json_t *value, *in = json_loads(cfg->http_hosts, 0, NULL), *out = json_object();
    int rc = -1;

    join_path(kpath, sizeof kpath, path, "hosts");
    if (in == NULL || out == NULL) {
        out_of_memory(st, line_of(node), kpath);
        goto out;
    }
    json_object_foreach(in, key, value) {
        double rate;
        size_t line = key_line(st, node, key);
        join_path(hpath, sizeof hpath, kpath, key);
        if (http_host_name(key, host, sizeof host) < 0) {
            fail(st, line, hpath, "must be a host name or IP address as URLs write it");
            goto out;
        }
        if (json_is_number(value))
            rate = json_number_value(value);
        else if (!json_is_string(value) || parse_rate(json_string_value(value), &rate) < 0)
            rate = -1;
        if (!(rate >= 0 && rate <= 1e6)) {
            fail(st, line, hpath,
                 "must be a rate such as 2/s, 120/min or a number per second "
                 "(0 = unlimited, at most 1e+06/s)");
            goto out;
        }
        if (json_object_get(out, host) != NULL) {
            fail(st, line, hpath, "duplicate host \"%s\"", host);
            goto out;
        }
        if (json_object_set_new(out, host, json_real(rate)) < 0) {
            out_of_memory(st, line, hpath);
            goto out;
        }
    }
    char *text = json_dumps(out, JSON_COMPACT);
    if (text == NULL) {
        out_of_memory(st, line_of(node), kpath);
        goto out;
    }
    free(cfg->http_hosts);
    cfg->http_hosts = text;
    rc = 0;
out:
    json_decref(in);
    json_decref(out);
    return rc;
}

/* An environment variable name: [A-Za-z_][A-Za-z0-9_]*, at most 128. */
static int env_name_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > 128 || (s[0] >= '0' && s[0] <= '9'))
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
              (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return 0;
    return 1;
}

/* What each credential type takes; every key is required. */
static const struct {
    const char *type;
    const char *keys[3];
} http_credential_types[] = {
    {"bearer", {"type", "token_env", NULL}},
    {"basic", {"type", "user", "password_env"}},
};

static int check_http_credential(load_state *st, const char *name, json_t *cred,
                                 yaml_node_t *node, const char *cpath)
{
    char kpath[KEY_PATH_MAX];
    const char *key;
    json_t *value;
    size_t t, n = sizeof http_credential_types / sizeof http_credential_types[0];
    const char *type = json_string_value(json_object_get(cred, "type"));

    (void)name;
    for (t = 0; type != NULL && t < n; t++)
        if (strcmp(type, http_credential_types[t].type) == 0)
            break;
    if (type == NULL || t == n) {
        join_path(kpath, sizeof kpath, cpath, "type");
        return fail(st, key_line(st, node, "type"), kpath, "must be bearer or basic");
    }
    const char *const *keys = http_credential_types[t].keys;
    json_object_foreach(cred, key, value) {
        size_t k;
        join_path(kpath, sizeof kpath, cpath, key);
        for (k = 0; k < 3 && keys[k] != NULL; k++)
            if (strcmp(keys[k], key) == 0)
                break;
        if (k == 3 || keys[k] == NULL) {
            if (strcmp(key, "token") == 0 || strcmp(key, "password") == 0)
                return fail(st, key_line(st, node, key), kpath,
                            "secrets do not go in the config file: name an environment "
                            "variable with %s_env",
                            key);
            return fail(st, key_line(st, node, key), kpath, "unknown key for a %s credential",
                        type);
        }
        const char *text = json_string_value(value);
        int ok = strcmp(key, "type") == 0 ||
                 (strcmp(key, "user") == 0 ? text != NULL && *text != '\0' &&
                                                 strpbrk(text, ":\r\n") == NULL
                                           : env_name_ok(text));
        if (!ok)
            return fail(st, key_line(st, node, key), kpath,
                        strcmp(key, "user") == 0
                            ? "must be a non-empty string without ':' or line breaks"
                            : "must be an environment variable name ([A-Za-z_][A-Za-z0-9_]*)");
    }
    for (size_t k = 0; k < 3 && keys[k] != NULL; k++)
        if (json_object_get(cred, keys[k]) == NULL) {
            join_path(kpath, sizeof kpath, cpath, keys[k]);
            return fail(st, line_of(node), kpath, "required for a %s credential", type);
        }
    return 0;
}

/* http.credentials: name -> {type, token_env} | {type, user, password_env}. */
static int check_http_credentials(load_state *st, drudge_config *cfg, yaml_node_t *map,
                                  const char *path)
{
    yaml_node_t *node = value_of(st, map, "credentials");
    char kpath[KEY_PATH_MAX], cpath[KEY_PATH_MAX];
    const char *name;
    json_t *cred, *in = json_loads(cfg->http_credentials, 0, NULL);
    int rc = 0;

    join_path(kpath, sizeof kpath, path, "credentials");
    if (in == NULL)
        return out_of_memory(st, line_of(node), kpath);
    json_object_foreach(in, name, cred) {
        size_t line = key_line(st, node, name);
        join_path(cpath, sizeof cpath, kpath, name);
        if (!drudge_class_valid(name))
            rc = fail(st, line, cpath, "credential names must be %s", name_chars);
        else if (!json_is_object(cred))
            rc = fail(st, line, cpath,
                      "must be a mapping: {type: bearer, token_env: VAR} or "
                      "{type: basic, user: name, password_env: VAR}");
        else
            rc = check_http_credential(st, name, cred, value_of(st, node, name), cpath);
        if (rc < 0)
            break;
    }
    json_decref(in);
    return rc;
}

static int check_http(load_state *st, void *base, yaml_node_t *map, const char *path)
{
    if (check_http_hosts(st, base, map, path) < 0 ||
        check_http_credentials(st, base, map, path) < 0)
        return -1;
    return 0;
}

/* ---- classes: and schedule: ---- */

static unsigned class_mask(unsigned seen)
{
    unsigned mask = 0;
    for (size_t i = 0; i < COUNT(class_keys); i++)
        if (seen & (1u << i))
            mask |= class_keys[i].mask;
    return mask;
}

static int load_classes(load_state *st, yaml_node_t *k, yaml_node_t *v, const char *path)
{
    drudge_config *cfg = st->cfg;
    if (is_null(v))
        return 0;
    if (v->type != YAML_MAPPING_NODE) {
        char got[QUOTE_MAX + 16];
        describe_node(v, got, sizeof got);
        return fail(st, line_of(k), path, "must be a mapping of class names, got %s", got);
    }
    for (yaml_node_pair_t *p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top; p++) {
        yaml_node_t *name_node = yaml_document_get_node(st->doc, p->key);
        yaml_node_t *body = yaml_document_get_node(st->doc, p->value);
        const char *name = scalar_text(name_node);
        char cpath[KEY_PATH_MAX], why[DRUDGE_ERRSTR_MAX];
        unsigned seen = 0;

        if (name == NULL)
            return fail(st, line_of(name_node), path, "class names must be plain strings");
        if (check_class_name(name, why, sizeof why) < 0)
            return fail(st, line_of(name_node), path, "%s", why);
        join_path(cpath, sizeof cpath, path, name);
        yaml_node_pair_t *first = find_pair(st, v, name);
        if (first != p)
            return fail(st, line_of(name_node), cpath, "duplicate class (first at line %zu)",
                        line_of(yaml_document_get_node(st->doc, first->key)));
        if (cfg->nclasses >= ENTRIES_MAX)
            return fail(st, line_of(name_node), cpath, "more than %d classes", ENTRIES_MAX);
        if (!is_null(body) && body->type != YAML_MAPPING_NODE) {
            char got[QUOTE_MAX + 16];
            describe_node(body, got, sizeof got);
            return fail(st, line_of(name_node), cpath,
                        "must be a mapping of class settings, got %s", got);
        }

        drudge_class_config *grown = realloc(cfg->classes, (cfg->nclasses + 1) * sizeof *grown);
        if (grown == NULL)
            return out_of_memory(st, line_of(name_node), cpath);
        cfg->classes = grown;
        drudge_class_config *cls = &cfg->classes[cfg->nclasses];
        drudge_class_defaults(cls);
        if ((cls->name = strdup(name)) == NULL)
            return out_of_memory(st, line_of(name_node), cpath);
        cfg->nclasses++;
        if (!is_null(body) &&
            apply_mapping(st, body, cpath, class_keys, COUNT(class_keys), cls, PASS_ALL, &seen) < 0)
            return -1;
        cls->set_mask = class_mask(seen);
    }
    return 0;
}

/* The line of the `name:` value of schedule item `item`. */
static size_t entry_name_line(load_state *st, yaml_node_t *item)
{
    yaml_node_pair_t *p = find_pair(st, item, "name");
    return p ? line_of(yaml_document_get_node(st->doc, p->value)) : line_of(item);
}

static int check_entry(load_state *st, yaml_node_t *seq, size_t idx, yaml_node_t *item,
                       unsigned seen, const char *ipath)
{
    const drudge_config *cfg = st->cfg;
    const drudge_schedule_entry *e = &cfg->schedule[cfg->nschedule - 1];
    char kpath[KEY_PATH_MAX + 16], why[DRUDGE_ERRSTR_MAX], id[DRUDGE_ID_MAX + 1];

    for (size_t i = 0; i < COUNT(schedule_keys); i++) {
        if ((schedule_keys[i].flags & F_REQUIRED) && !(seen & (1u << i))) {
            join_path(kpath, sizeof kpath, ipath, schedule_keys[i].key);
            return fail(st, line_of(item), kpath, "required key is missing");
        }
    }
    for (size_t j = 0; j < idx; j++) {
        if (strcmp(cfg->schedule[j].name, e->name) == 0) {
            yaml_node_t *other = yaml_document_get_node(st->doc, seq->data.sequence.items.start[j]);
            join_path(kpath, sizeof kpath, ipath, "name");
            return fail(st, entry_name_line(st, item), kpath,
                        "duplicate schedule entry name \"%s\" (first at line %zu)", e->name,
                        entry_name_line(st, other));
        }
    }
    /* The payload must be one the scheduler will be able to push. */
    json_t *parsed = drudge_payload_parse(e->payload, strlen(e->payload), cfg->max_payload_bytes,
                                          why, sizeof why);
    int rc = 0;
    if (parsed == NULL ||
        drudge_job_id(e->payload, strlen(e->payload), parsed, id, why, sizeof why) < 0) {
        join_path(kpath, sizeof kpath, ipath, "payload");
        rc = fail(st, key_line(st, item, "payload"), kpath, "%s", why);
    }
    json_decref(parsed);
    return rc;
}

static int load_schedule(load_state *st, yaml_node_t *k, yaml_node_t *v, const char *path)
{
    drudge_config *cfg = st->cfg;
    if (is_null(v))
        return 0;
    if (v->type != YAML_SEQUENCE_NODE) {
        char got[QUOTE_MAX + 16];
        describe_node(v, got, sizeof got);
        return fail(st, line_of(k), path, "must be a list of mappings, got %s", got);
    }
    size_t items = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
    if (items > ENTRIES_MAX)
        return fail(st, line_of(k), path, "more than %d entries", ENTRIES_MAX);
    for (size_t idx = 0; idx < items; idx++) {
        yaml_node_t *item = yaml_document_get_node(st->doc, v->data.sequence.items.start[idx]);
        char ipath[KEY_PATH_MAX];
        unsigned seen = 0;

        index_path(ipath, sizeof ipath, path, idx);
        if (item->type != YAML_MAPPING_NODE) {
            char got[QUOTE_MAX + 16];
            describe_node(item, got, sizeof got);
            return fail(st, line_of(item), ipath,
                        "must be a mapping with name, cron and class, got %s", got);
        }
        drudge_schedule_entry *grown = realloc(cfg->schedule, (cfg->nschedule + 1) * sizeof *grown);
        if (grown == NULL)
            return out_of_memory(st, line_of(item), ipath);
        cfg->schedule = grown;
        drudge_schedule_entry *e = &cfg->schedule[cfg->nschedule++];
        memset(e, 0, sizeof *e);
        e->catch_up = 1;
        if (drudge_config_set_string(&e->timezone, "UTC") < 0 ||
            drudge_config_set_string(&e->payload, "{}") < 0)
            return out_of_memory(st, line_of(item), ipath);
        if (apply_mapping(st, item, ipath, schedule_keys, COUNT(schedule_keys), e, PASS_ALL,
                          &seen) < 0 ||
            check_entry(st, v, idx, item, seen, ipath) < 0)
            return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------------
 * Defaults, release and loading.
 * ---------------------------------------------------------------------- */

static int set_defaults(const key_spec *table, size_t n, void *base)
{
    for (size_t i = 0; i < n; i++) {
        const key_spec *s = &table[i];
        void *field = field_at(base, s->offset);
        switch (s->type) {
        case T_STR:
        case T_JSON:
            if (s->def_str != NULL && drudge_config_set_string((char **)field, s->def_str) < 0)
                return -1;
            break;
        case T_SECONDS:
        case T_RATE: *(double *)field = s->def_num; break;
        case T_INT:
        case T_BOOL: *(int *)field = (int)s->def_num; break;
        case T_LONG: *(long *)field = (long)s->def_num; break;
        case T_SIZE: *(size_t *)field = (size_t)s->def_num; break;
        case T_STRLIST: {
            size_t *count = field_at(base, s->count_offset);
            size_t want = 0;
            while (s->def_list != NULL && s->def_list[want] != NULL)
                want++;
            char **list = calloc(want + 1, sizeof *list);
            if (list == NULL)
                return -1;
            *(char ***)field = list;
            for (*count = 0; *count < want; (*count)++)
                if ((list[*count] = strdup(s->def_list[*count])) == NULL)
                    return -1;
            break;
        }
        case T_SECTION:
            if (set_defaults(s->sub, s->nsub, base) < 0)
                return -1;
            break;
        case T_ISOLATION:
        case T_CLASSES:
        case T_SCHEDULE: break;
        }
    }
    return 0;
}

static void release_fields(const key_spec *table, size_t n, void *base)
{
    for (size_t i = 0; i < n; i++) {
        const key_spec *s = &table[i];
        void *field = field_at(base, s->offset);
        if (s->type == T_STR || s->type == T_JSON) {
            free(*(char **)field);
            *(char **)field = NULL;
        } else if (s->type == T_STRLIST) {
            char **list = *(char ***)field;
            size_t *count = field_at(base, s->count_offset);
            for (size_t j = 0; list != NULL && j < *count; j++)
                free(list[j]);
            free(list);
            *(char ***)field = NULL;
            *count = 0;
        } else if (s->type == T_SECTION) {
            release_fields(s->sub, s->nsub, base);
        }
    }
}

void drudge_config_free(drudge_config *cfg)
{
    if (cfg == NULL)
        return;
    release_fields(top_keys, COUNT(top_keys), cfg);
    for (size_t i = 0; i < cfg->nclasses; i++)
        free(cfg->classes[i].name);
    free(cfg->classes);
    for (size_t i = 0; i < cfg->nschedule; i++)
        release_fields(schedule_keys, COUNT(schedule_keys), &cfg->schedule[i]);
    free(cfg->schedule);
    free(cfg->path);
    free(cfg->redis_user);
    if (cfg->redis_password) {
        memset(cfg->redis_password, 0, strlen(cfg->redis_password));
        free(cfg->redis_password);
    }
    free(cfg);
}

int drudge_config_set_string(char **field, const char *value)
{
    char *copy = NULL;
    if (value != NULL && (copy = strdup(value)) == NULL)
        return -1;
    free(*field);
    *field = copy;
    return 0;
}

void drudge_class_defaults(drudge_class_config *out)
{
    memset(out, 0, sizeof *out);
    out->max_attempts = 5;
    out->backoff_base = 2;
    out->backoff_cap = 300;
    out->timeout = 120;
    out->isolation = DRUDGE_ISOLATION_INPROCESS;
    out->rate = 0;
    out->status_ttl = 86400;
    out->failed_max = 10000;
    out->set_mask = 0;
}

static size_t field_size(value_type t)
{
    switch (t) {
    case T_SECONDS:
    case T_RATE: return sizeof(double);
    case T_INT:
    case T_BOOL: return sizeof(int);
    case T_LONG: return sizeof(long);
    case T_SIZE: return sizeof(size_t);
    case T_ISOLATION: return sizeof(drudge_isolation);
    default: return 0; /* not a plain value (never in class_keys) */
    }
}

static void copy_fields(const key_spec *table, size_t n, void *dst, const void *src)
{
    for (size_t i = 0; i < n; i++) {
        if (table[i].type == T_SECTION)
            copy_fields(table[i].sub, table[i].nsub, dst, src);
        else
            memcpy((char *)dst + table[i].offset, (const char *)src + table[i].offset,
                   field_size(table[i].type));
    }
}

void drudge_config_class(const drudge_config *cfg, const char *class_name,
                         const drudge_class_config *worker_defaults, drudge_class_config *out)
{
    const drudge_class_config *file = NULL;
    if (worker_defaults != NULL)
        *out = *worker_defaults;
    else
        drudge_class_defaults(out);
    out->set_mask = 0;
    for (size_t i = 0; cfg != NULL && class_name != NULL && i < cfg->nclasses; i++)
        if (strcmp(cfg->classes[i].name, class_name) == 0)
            file = &cfg->classes[i];
    if (file != NULL) {
        for (size_t i = 0; i < COUNT(class_keys); i++)
            if (file->set_mask & class_keys[i].mask)
                copy_fields(&class_keys[i], 1, out, file);
        out->set_mask = file->set_mask;
    }
    out->name = (char *)class_name;
}

/* libyaml's reader reports a byte offset, not a mark: count the lines. */
static size_t line_at_offset(const char *text, size_t len, size_t offset)
{
    size_t line = 1;
    for (size_t i = 0; i < offset && i < len; i++)
        if (text[i] == '\n')
            line++;
    return line;
}

static int syntax_error(load_state *st, const yaml_parser_t *parser, size_t len)
{
    const char *problem = parser->problem ? parser->problem : "unknown error";
    switch (parser->error) {
    case YAML_MEMORY_ERROR: return fail(st, 1, NULL, "out of memory while parsing YAML");
    case YAML_READER_ERROR:
        return fail(st, line_at_offset(st->text, len, parser->problem_offset), NULL,
                    "invalid input: %s at byte %zu", problem, parser->problem_offset);
    default:
        if (parser->context != NULL && parser->context_mark.line != parser->problem_mark.line)
            return fail(st, parser->problem_mark.line + 1, NULL,
                        "invalid YAML: %s (%s started at line %zu)", problem, parser->context,
                        parser->context_mark.line + 1);
        if (parser->context != NULL)
            return fail(st, parser->problem_mark.line + 1, NULL, "invalid YAML: %s (%s)", problem,
                        parser->context);
        return fail(st, parser->problem_mark.line + 1, NULL, "invalid YAML: %s", problem);
    }
}

static int load_document(load_state *st, size_t len)
{
    yaml_parser_t parser;
    yaml_document_t doc, extra;
    int rc = -1, have_doc = 0;

    if (!yaml_parser_initialize(&parser))
        return fail(st, 1, NULL, "out of memory");
    yaml_parser_set_input_string(&parser, (const unsigned char *)st->text, len);
    if (!yaml_parser_load(&parser, &doc)) {
        syntax_error(st, &parser, len);
        goto out;
    }
    have_doc = 1;
    st->doc = &doc;

    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (root != NULL && !is_null(root)) {
        if (root->type != YAML_MAPPING_NODE) {
            char got[QUOTE_MAX + 16];
            describe_node(root, got, sizeof got);
            fail(st, line_of(root), NULL, "the top level must be a mapping of keys, got %s", got);
            goto out;
        }
        if (apply_mapping(st, root, "", top_keys, COUNT(top_keys), st->cfg, PASS_EARLY, NULL) < 0 ||
            apply_mapping(st, root, "", top_keys, COUNT(top_keys), st->cfg, PASS_LATE, NULL) < 0)
            goto out;
    }

    /* A second document would be silently ignored: refuse it (a trailing
     * empty one, "---" alone, is harmless). */
    if (!yaml_parser_load(&parser, &extra)) {
        syntax_error(st, &parser, len);
        goto out;
    }
    yaml_node_t *extra_root = yaml_document_get_root_node(&extra);
    size_t extra_line = extra_root && !is_null(extra_root) ? extra.start_mark.line + 1 : 0;
    yaml_document_delete(&extra);
    if (extra_line != 0) {
        fail(st, extra_line, NULL, "only one YAML document is allowed");
        goto out;
    }
    rc = 0;
out:
    if (have_doc)
        yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    st->doc = NULL;
    return rc;
}

/* The Redis credentials from the environment. The password is taken out of
 * the environment once read, so handlers, the programs they start and the
 * "no secrets in my environment" checks of the image and PDF workers never
 * see it; it is remembered for later loads in the same process. */
static int apply_env_credentials(load_state *st)
{
    static char *password, *user;
    const char *pw = getenv("DRUDGE_REDIS_PASSWORD");
    if (pw && *pw) {
        free(password);
        password = strdup(pw);
        unsetenv("DRUDGE_REDIS_PASSWORD");
    }
    const char *u = getenv("DRUDGE_REDIS_USER");
    if (u && *u) {
        free(user);
        user = strdup(u);
    }
    if ((password && drudge_config_set_string(&st->cfg->redis_password, password) < 0) ||
        (user && drudge_config_set_string(&st->cfg->redis_user, user) < 0)) {
        if (st->err != NULL && st->errcap > 0)
            snprintf(st->err, st->errcap, "DRUDGE_REDIS_PASSWORD: out of memory");
        return -1;
    }
    return 0;
}

/* DRUDGE_REDIS_URL wins over the file (deployments inject it per host). */
static int apply_env(load_state *st)
{
    if (apply_env_credentials(st) < 0)
        return -1;
    const char *url = getenv("DRUDGE_REDIS_URL");
    char why[DRUDGE_ERRSTR_MAX];
    if (url == NULL || *url == '\0')
        return 0;
    if (check_redis_url(url, why, sizeof why) < 0) {
        if (st->err != NULL && st->errcap > 0)
            snprintf(st->err, st->errcap, "DRUDGE_REDIS_URL: %s", why);
        return -1;
    }
    if (drudge_config_set_string(&st->cfg->redis_url, url) < 0) {
        if (st->err != NULL && st->errcap > 0)
            snprintf(st->err, st->errcap, "DRUDGE_REDIS_URL: out of memory");
        return -1;
    }
    return 0;
}

/* Defaults, then text[0..len) (may be empty), then the environment. */
static drudge_config *load_text(const char *text, size_t len, const char *name, const char *path,
                                char *err, size_t errcap)
{
    load_state st = {.name = name, .text = text, .err = err, .errcap = errcap};
    drudge_config *cfg = calloc(1, sizeof *cfg);

    if (err != NULL && errcap > 0)
        err[0] = '\0';
    if (cfg == NULL || set_defaults(top_keys, COUNT(top_keys), cfg) < 0 ||
        (path != NULL && drudge_config_set_string(&cfg->path, path) < 0)) {
        fail(&st, 1, NULL, "out of memory");
        goto fail;
    }
    st.cfg = cfg;
    if (load_document(&st, len) < 0 || apply_env(&st) < 0)
        goto fail;
    return cfg;
fail:
    drudge_config_free(cfg);
    return NULL;
}

drudge_config *drudge_config_load_string(const char *yaml, const char *name, char *err,
                                         size_t errcap)
{
    if (name == NULL)
        name = "<string>";
    return load_text(yaml ? yaml : "", yaml ? strlen(yaml) : 0, name, NULL, err, errcap);
}

/* The whole file in memory, NUL-terminated; NULL with errno set (EFBIG:
 * more than CONFIG_FILE_MAX bytes). */
static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t cap = 0, n = 0;
    if (f == NULL)
        return NULL;
    for (;;) {
        if (n + 1 >= cap) {
            if (n > CONFIG_FILE_MAX) {
                errno = EFBIG;
                goto error;
            }
            cap = cap ? cap * 2 : 4096;
            if (cap > CONFIG_FILE_MAX + 2)
                cap = CONFIG_FILE_MAX + 2;
            char *grown = realloc(buf, cap);
            if (grown == NULL)
                goto error;
            buf = grown;
        }
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0) {
            if (ferror(f))
                goto error;
            break;
        }
    }
    if (n > CONFIG_FILE_MAX) {
        errno = EFBIG;
        goto error;
    }
    fclose(f);
    buf[n] = '\0';
    *len = n;
    return buf;
error:;
    int saved = errno ? errno : EIO;
    fclose(f);
    free(buf);
    errno = saved;
    return NULL;
}

drudge_config *drudge_config_load(const char *path, char *err, size_t errcap)
{
    if (path == NULL || *path == '\0')
        path = getenv("DRUDGE_CONFIG");
    if (path == NULL || *path == '\0')
        return load_text("", 0, "(defaults)", NULL, err, errcap);

    size_t len = 0;
    char *text = read_file(path, &len);
    if (text == NULL) {
        if (err != NULL && errcap > 0)
            snprintf(err, errcap, "%s: cannot read config: %s", path,
                     errno == EFBIG ? "larger than 1 MiB" : strerror(errno));
        return NULL;
    }
    drudge_config *cfg = load_text(text, len, path, path, err, errcap);
    free(text);
    return cfg;
}
