/* strbuf.h - a growable byte buffer with an optional hard size limit (git's
 * strbuf, with a cap): what the dashboard builds responses, events and
 * metrics in and drudge-email its header lines. Shared by the programs
 * (src/common is linked into them, not into libdrudge).
 * Always NUL-terminated once anything was added; once an append fails
 * (limit or memory) the buffer stays failed and every later append is
 * refused, so a caller may append a whole page and check once. Pure: no I/O. */
#ifndef DRUDGE_STRBUF_H
#define DRUDGE_STRBUF_H

#include <stdarg.h>
#include <stddef.h>

typedef struct strbuf {
    char *data; /* owned; NULL until the first append */
    size_t len;
    size_t cap;
    size_t limit; /* most bytes it may hold (0 = no limit) */
    int failed;   /* an append was refused */
} strbuf;

/* Caller-owned struct; release with strbuf_release(). */
void strbuf_init(strbuf *b, size_t limit);
void strbuf_release(strbuf *b);
/* Append bytes / a string / formatted text. 0, or -1 (over the limit or
 * out of memory; the buffer is then failed). */
int strbuf_add(strbuf *b, const void *data, size_t len);
int strbuf_adds(strbuf *b, const char *s);
int strbuf_addf(strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int strbuf_vaddf(strbuf *b, const char *fmt, va_list ap);
/* Empty it (keeps the memory, clears `failed`). */
void strbuf_reset(strbuf *b);
/* Hand the bytes over: the caller free()s the result ("" for an untouched
 * buffer); NULL if an append failed. The buffer is empty afterwards. */
char *strbuf_detach(strbuf *b, size_t *len_out);

#endif
