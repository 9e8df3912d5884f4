/* pages.c - what a browser loads: the HTML shell of every page (app.js
 * renders the page its path names, from the JSON API), the embedded
 * static files, and finished image outputs, read-only from
 * image.output_dir. An output path is checked segment by segment in the
 * route matcher (no "..", no hidden names, no absolute paths) and opened
 * one directory at a time with O_NOFOLLOW, so no symlink leads outside the
 * directory; only image types are served, with a sandboxing CSP. */
#include "web_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int reply_asset(web_request *req, const web_asset *a, const char *type, int cacheable)
{
    const char *etag = web_asset_etag(a);
    const char *match = web_header(req, "If-None-Match");
    struct MHD_Response *resp;
    unsigned status = 200;
    if (cacheable && match && strcmp(match, etag) == 0) {
        resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
        status = 304;
    } else {
        resp = MHD_create_response_from_buffer(a->len, (void *)a->data, MHD_RESPMEM_PERSISTENT);
    }
    if (resp == NULL)
        return -1;
    MHD_add_response_header(resp, "Content-Type", type);
    if (cacheable) {
        MHD_add_response_header(resp, "ETag", etag);
        MHD_add_response_header(resp, "Cache-Control", "no-cache");
    }
    return web_reply_response(req, status, resp);
}

int web_page(web_request *req)
{
    const web_asset *a = web_asset_find("index.html");
    if (a == NULL)
        return web_reply_error(req, 500, "the page shell is missing from this build");
    return reply_asset(req, a, "text/html; charset=utf-8", 0);
}

int web_static(web_request *req)
{
    const char *name = web_match_param(&req->match, "file");
    const web_asset *a = web_asset_find(name);
    if (a == NULL)
        return web_reply_error(req, 404, "no file \"%s\"", name);
    const char *type = web_content_type(name, 0);
    return reply_asset(req, a, type ? type : "application/octet-stream", 1);
}

/* Open rel under base without following a symlink anywhere on the way.
 * Returns the fd, or -1 with errno. */
static int open_beneath(const char *base, const char *rel)
{
    int dir = open(base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir < 0)
        return -1;
    const char *p = rel;
    for (;;) {
        char part[256];
        size_t n = strcspn(p, "/");
        if (n == 0 || n >= sizeof part) {
            close(dir);
            errno = ENOENT;
            return -1;
        }
        memcpy(part, p, n);
        part[n] = '\0';
        int last = p[n] == '\0';
        int fd = openat(dir, part, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | (last ? 0 : O_DIRECTORY));
        int saved = errno;
        close(dir);
        if (fd < 0) {
            errno = saved;
            return -1;
        }
        if (last)
            return fd;
        dir = fd;
        p += n + 1;
    }
}

int web_output(web_request *req)
{
    const char *rel = web_match_param(&req->match, "path*");
    const char *base = req->srv->cfg->image_output_dir;
    const char *type = web_content_type(rel, 1);
    if (type == NULL)
        return web_reply_error(req, 404, "only images are served from the output directory");
    if (base == NULL || *base == '\0')
        return web_reply_error(req, 404, "no image.output_dir is configured");
    int fd = open_beneath(base, rel);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        if (fd >= 0)
            close(fd);
        return web_reply_error(req, 404, "no output \"%s\"", rel);
    }
    struct MHD_Response *resp = MHD_create_response_from_fd64((uint64_t)st.st_size, fd);
    if (resp == NULL) {
        close(fd);
        return -1;
    }
    MHD_add_response_header(resp, "Content-Type", type);
    MHD_add_response_header(resp, "Cache-Control", "no-cache");
    MHD_add_response_header(resp, "Content-Security-Policy", "default-src 'none'; sandbox");
    return web_reply_response(req, 200, resp);
}
