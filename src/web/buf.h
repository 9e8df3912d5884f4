/* buf.h - a growable byte buffer with a hard size limit (git's strbuf, with
 * a cap): what the dashboard builds responses, events and metrics in.
 * Always NUL-terminated; once an append fails (limit or memory) the buffer
 * stays failed and every later append is refused, so a caller may append a
 * whole page and check once. Pure: no I/O. */
#ifndef DRUDGE_WEB_BUF_H
#define DRUDGE_WEB_BUF_H

#include <stdarg.h>
#include <stddef.h>

typedef struct web_buf {
    char *data; /* owned; NULL until the first append */
    size_t len;
    size_t cap;
    size_t limit; /* most bytes it may hold (0 = no limit) */
    int failed;   /* an append was refused */
} web_buf;

/* Caller-owned struct; release with web_buf_release(). */
void web_buf_init(web_buf *b, size_t limit);
void web_buf_release(web_buf *b);
/* Append bytes / a string / formatted text. 0, or -1 (over the limit or
 * out of memory; the buffer is then failed). */
int web_buf_add(web_buf *b, const void *data, size_t len);
int web_buf_adds(web_buf *b, const char *s);
int web_buf_addf(web_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int web_buf_vaddf(web_buf *b, const char *fmt, va_list ap);
/* Empty it (keeps the memory, clears `failed`). */
void web_buf_reset(web_buf *b);
/* Hand the bytes over: the caller free()s the result (never NULL unless out
 * of memory); the buffer is empty afterwards. */
char *web_buf_detach(web_buf *b, size_t *len_out);

#endif
