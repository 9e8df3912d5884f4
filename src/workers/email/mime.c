/* mime.c - a checked message as libcurl's MIME tree, kept apart from the
 * SMTP session as curl keeps mime.c apart from smtp.c. The shapes:
 *
 *   text only, html only   multipart/mixed { the body }
 *   text and html          multipart/alternative { text, html }
 *   with attachments       multipart/mixed { body or alternative, files... }
 *
 * (CURLOPT_MIMEPOST always has a multipart root.) Bodies are UTF-8 with CRLF
 * line ends, 7bit when that is legal and quoted-printable otherwise, so no
 * line reaches 998 octets; attachments are base64, streamed from their fds
 * by libcurl as it sends. Header text arrives checked (message.c) and is
 * encoded here (encode.c, address.c). */
#include "mime.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- attachments: read by libcurl from the fd while it sends ---- */

typedef struct file_reader {
    int fd;
    uint64_t size, pos;
} file_reader;

static size_t file_read(char *buf, size_t size, size_t nitems, void *arg)
{
    file_reader *r = arg;
    size_t want = size * nitems;
    if (r->pos >= r->size)
        return 0;
    if (want > r->size - r->pos)
        want = (size_t)(r->size - r->pos);
    ssize_t n;
    do
        n = pread(r->fd, buf, want, (off_t)r->pos);
    while (n < 0 && errno == EINTR);
    if (n <= 0) /* an error, or the file shrank since it was opened */
        return CURL_READFUNC_ABORT;
    r->pos += (uint64_t)n;
    return (size_t)n;
}

static int file_seek(void *arg, curl_off_t offset, int origin)
{
    file_reader *r = arg;
    if (origin != SEEK_SET || offset < 0 || (uint64_t)offset > r->size)
        return CURL_SEEKFUNC_FAIL;
    r->pos = (uint64_t)offset;
    return CURL_SEEKFUNC_OK;
}

static void file_free(void *arg)
{
    file_reader *r = arg;
    close(r->fd);
    free(r);
}

/* RFC 2231 attr-char: what may stand unencoded in filename*= */
static int attr_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != '\0' && strchr("!#$&+-.^_`|~", c) != NULL);
}

/* A non-ASCII file name goes in an RFC 2231 filename*=utf-8''... parameter
 * (curl_mime_filename() would put raw UTF-8 in a quoted string). */
static struct curl_slist *utf8_disposition(const char *filename)
{
    strbuf b;
    strbuf_init(&b, 0);
    strbuf_adds(&b, "Content-Disposition: attachment; filename*=utf-8''");
    for (const unsigned char *p = (const unsigned char *)filename; *p; p++) {
        if (attr_char(*p))
            strbuf_add(&b, (const char *)p, 1);
        else
            strbuf_addf(&b, "%%%02X", *p);
    }
    char *line = strbuf_detach(&b, NULL);
    struct curl_slist *list = line ? curl_slist_append(NULL, line) : NULL;
    free(line);
    return list;
}

static int add_attachment(curl_mime *mime, const email_attachment *a, email_file *f)
{
    curl_mimepart *part = curl_mime_addpart(mime);
    file_reader *r = malloc(sizeof *r);
    if (part == NULL || r == NULL) {
        free(r);
        return -1;
    }
    r->fd = f->fd;
    r->size = f->size;
    r->pos = 0;
    if (curl_mime_data_cb(part, (curl_off_t)f->size, file_read, file_seek, file_free, r) !=
        CURLE_OK) {
        free(r);
        return -1;
    }
    f->fd = -1; /* the part owns it now */
    if (curl_mime_type(part, a->content_type) != CURLE_OK ||
        curl_mime_encoder(part, "base64") != CURLE_OK)
        return -1;
    if (!email_needs_words(a->filename, strlen(a->filename)))
        return curl_mime_filename(part, a->filename) == CURLE_OK ? 0 : -1;
    struct curl_slist *disposition = utf8_disposition(a->filename);
    if (disposition == NULL)
        return -1;
    if (curl_mime_headers(part, disposition, 1) != CURLE_OK) {
        curl_slist_free_all(disposition);
        return -1;
    }
    return 0;
}

/* ---- bodies ---- */

static int add_body(curl_mime *mime, const char *type, const char *text, size_t len)
{
    email_body body;
    curl_mimepart *part = curl_mime_addpart(mime);
    if (part == NULL || email_body_prepare(&body, text, len) < 0)
        return -1;
    int rc = curl_mime_data(part, body.data, body.len) == CURLE_OK &&
                     curl_mime_type(part, type) == CURLE_OK &&
                     curl_mime_encoder(part, body.encoding) == CURLE_OK
                 ? 0
                 : -1;
    email_body_release(&body);
    return rc;
}

static int add_bodies(curl_mime *mime, const email_message *m)
{
    if (m->text && add_body(mime, "text/plain; charset=utf-8", m->text, m->text_len) < 0)
        return -1;
    if (m->html && add_body(mime, "text/html; charset=utf-8", m->html, m->html_len) < 0)
        return -1;
    return 0;
}

/* ---- headers ---- */

static int append_header(struct curl_slist **list, strbuf *b)
{
    /* the builders end each header with CRLF; libcurl adds its own */
    if (!b->failed && b->len >= 2)
        b->len -= 2;
    if (!b->failed)
        b->data[b->len] = '\0';
    char *line = strbuf_detach(b, NULL);
    if (line == NULL)
        return -1;
    struct curl_slist *grown = curl_slist_append(*list, line);
    free(line);
    if (grown == NULL)
        return -1;
    *list = grown;
    return 0;
}

static int build_headers(const email_message *m, const char *message_id, time_t now,
                         int alternative_root, struct curl_slist **out)
{
    strbuf b;
    char date[64];
    struct curl_slist *list = NULL;
    strbuf_init(&b, 0);
    if (email_date(date, sizeof date, now) < 0)
        goto fail;
    strbuf_addf(&b, "Date: %s\r\n", date);
    if (append_header(&list, &b) < 0)
        goto fail;
    email_address_header(&b, "From", &m->from, 1);
    if (append_header(&list, &b) < 0)
        goto fail;
    if (m->nto) {
        email_address_header(&b, "To", m->to, m->nto);
        if (append_header(&list, &b) < 0)
            goto fail;
    }
    if (m->ncc) {
        email_address_header(&b, "Cc", m->cc, m->ncc);
        if (append_header(&list, &b) < 0)
            goto fail;
    }
    if (m->nreply_to) {
        email_address_header(&b, "Reply-To", m->reply_to, m->nreply_to);
        if (append_header(&list, &b) < 0)
            goto fail;
    }
    email_header_text(&b, "Subject", m->subject);
    if (append_header(&list, &b) < 0)
        goto fail;
    strbuf_addf(&b, "Message-ID: %s\r\n", message_id);
    if (append_header(&list, &b) < 0)
        goto fail;
    for (size_t i = 0; i < m->nheaders; i++) {
        email_header_text(&b, m->headers[i].name, m->headers[i].value);
        if (append_header(&list, &b) < 0)
            goto fail;
    }
    /* libcurl adds the boundary to a Content-Type it finds here */
    if (alternative_root) {
        strbuf_adds(&b, "Content-Type: multipart/alternative\r\n");
        if (append_header(&list, &b) < 0)
            goto fail;
    }
    *out = list;
    return 0;
fail:
    strbuf_release(&b);
    curl_slist_free_all(list);
    return -1;
}

int email_mime_build(CURL *h, const email_message *m, const char *message_id, time_t now,
                     email_file *files, curl_mime **mime_out, struct curl_slist **headers_out,
                     char *why, size_t whycap)
{
    int both = m->text != NULL && m->html != NULL;
    curl_mime *mime = curl_mime_init(h);
    *mime_out = NULL;
    *headers_out = NULL;
    if (mime == NULL)
        goto fail;
    if (m->nattachments == 0) {
        if (add_bodies(mime, m) < 0)
            goto fail;
    } else if (both) {
        curl_mimepart *part = curl_mime_addpart(mime);
        curl_mime *alternative = curl_mime_init(h);
        if (part == NULL || alternative == NULL) {
            curl_mime_free(alternative);
            goto fail;
        }
        if (curl_mime_subparts(part, alternative) != CURLE_OK) {
            curl_mime_free(alternative);
            goto fail;
        }
        if (curl_mime_type(part, "multipart/alternative") != CURLE_OK ||
            add_bodies(alternative, m) < 0)
            goto fail;
    } else if (add_bodies(mime, m) < 0) {
        goto fail;
    }
    for (size_t i = 0; i < m->nattachments; i++)
        if (add_attachment(mime, &m->attachments[i], &files[i]) < 0)
            goto fail;
    if (build_headers(m, message_id, now, both && m->nattachments == 0, headers_out) < 0)
        goto fail;
    *mime_out = mime;
    return 0;
fail:
    for (size_t i = 0; i < m->nattachments; i++)
        if (files[i].fd >= 0) {
            close(files[i].fd);
            files[i].fd = -1;
        }
    curl_mime_free(mime);
    snprintf(why, whycap, "out of memory building the message");
    return -1;
}
