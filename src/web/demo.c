/* demo.c - the talk's demo, end to end: POST /api/demo/text-gif queues the
 * animated-text GIF as a `text_gif` ImageJob; POST /api/demo/upload stores
 * an uploaded image in image.input_dir and queues its thumbnail. Both
 * answer with the job id and where the output will appear (/outputs/...),
 * and the page follows the job over SSE. The job id is chosen here (random)
 * so that the output's name can carry it. An upload's format is decided by
 * its magic bytes (never its name) and it is written with O_EXCL |
 * O_NOFOLLOW under a fresh name: the worker checks it again. */
#include "web_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#define DEMO_TEXT_MAX 60 /* characters of GIF text */
#define THUMB_SIZE 256

/* "demo-<32 hex>" from the kernel's random source. 0 or -1. */
static int random_id(const char *prefix, char *out, size_t cap)
{
    unsigned char raw[16];
    if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw)
        return -1;
    int n = snprintf(out, cap, "%s-", prefix);
    for (size_t i = 0; n > 0 && (size_t)n + 2 < cap && i < sizeof raw; i++)
        n += snprintf(out + n, cap - (size_t)n, "%02x", raw[i]);
    return 0;
}

/* Count UTF-8 characters; -1 for control characters. */
static long text_chars(const char *s)
{
    long n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p < 0x20 || *p == 0x7f)
            return -1;
        if ((*p & 0xC0) != 0x80)
            n++;
    }
    return n;
}

/* Push payload (stolen) to the demo class and answer with id and output. */
static int push_demo(web_request *req, json_t *payload, const char *id, const char *output)
{
    char *text = payload ? json_dumps(payload, JSON_COMPACT) : NULL;
    json_decref(payload);
    if (text == NULL)
        return web_reply_error(req, 500, "out of memory");
    char err[DRUDGE_ERRSTR_MAX], pushed_id[DRUDGE_ID_MAX + 1];
    drudge_client *c = web_client_take(req->srv, err, sizeof err);
    int rc;
    if (c == NULL) {
        rc = web_reply_error(req, 503, "%s", err);
    } else if (drudge_push(c, WEB_DEMO_CLASS, text, strlen(text), NULL, pushed_id) < 0) {
        rc = web_reply_error(req, 503, "%s", drudge_client_errstr(c));
    } else {
        char url[DRUDGE_ID_MAX + 64];
        snprintf(url, sizeof url, "/outputs/%s", output);
        rc = web_reply_json(req, 201,
                            json_pack("{s:s, s:s, s:s, s:s}", "class", WEB_DEMO_CLASS, "id", id,
                                      "output", output, "url", url));
    }
    web_client_give(req->srv, c);
    free(text);
    return rc;
}

/* Body: {"text": "Hello"} */
int web_demo_text_gif(web_request *req)
{
    json_error_t jerr;
    json_t *body = json_loadb(req->body.data ? req->body.data : "", req->body.len, 0, &jerr);
    const char *text = json_string_value(json_object_get(body, "text"));
    long chars = text ? text_chars(text) : -1;
    if (chars < 1 || chars > DEMO_TEXT_MAX) {
        json_decref(body);
        return web_reply_error(req, 400,
                               "send {\"text\": \"...\"} with 1 to %d characters, no control "
                               "characters",
                               DEMO_TEXT_MAX);
    }
    char id[64], output[128];
    if (random_id("demo", id, sizeof id) < 0) {
        json_decref(body);
        return web_reply_error(req, 500, "no random bytes: %s", strerror(errno));
    }
    snprintf(output, sizeof output, "gifs/%s.gif", id);
    json_t *payload = json_pack("{s:s, s:s, s:s, s:s}", "id", id, "op_set", "text_gif", "text",
                                text, "output", output);
    json_decref(body);
    return push_demo(req, payload, id, output);
}

/* Write data to dir/name, a new file. 0, or -1 with errno. */
static int write_new(const char *dir, const char *name, const char *data, size_t len)
{
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return -1;
    int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0640);
    int saved = errno;
    close(dfd);
    if (fd < 0) {
        errno = saved;
        return -1;
    }
    size_t done = 0;
    while (done < len) {
        ssize_t n = write(fd, data + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            saved = errno;
            close(fd);
            errno = saved;
            return -1;
        }
        done += (size_t)n;
    }
    return close(fd);
}

/* Body: the image's bytes (jpeg, png, gif or webp). */
int web_demo_upload(web_request *req)
{
    const char *dir = req->srv->cfg->image_input_dir;
    const char *ext = web_image_sniff((const unsigned char *)req->body.data, req->body.len);
    if (ext == NULL)
        return web_reply_error(req, 400, "send a JPEG, PNG, GIF or WebP image as the body");
    if (dir == NULL || *dir == '\0')
        return web_reply_error(req, 503, "no image.input_dir is configured");
    char id[64], input[96], output[128];
    if (random_id("upload", id, sizeof id) < 0)
        return web_reply_error(req, 500, "no random bytes: %s", strerror(errno));
    snprintf(input, sizeof input, "%s.%s", id, ext);
    snprintf(output, sizeof output, "thumbs/%s.png", id);
    if (write_new(dir, input, req->body.data, req->body.len) < 0)
        return web_reply_error(req, 503, "cannot store the upload in \"%s\": %s", dir,
                               strerror(errno));
    json_t *payload =
        json_pack("{s:s, s:s, s:s, s:[{s:s}, {s:s, s:i, s:i}, {s:s}]}", "id", id, "input", input,
                  "output", output, "ops", "op", "auto_orient", "op", "thumbnail", "width",
                  THUMB_SIZE, "height", THUMB_SIZE, "op", "strip");
    return push_demo(req, payload, id, output);
}
