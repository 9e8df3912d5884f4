/* buf.c - the dashboard's byte buffer (see buf.h). */
#include "buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void web_buf_init(web_buf *b, size_t limit)
{
    memset(b, 0, sizeof *b);
    b->limit = limit;
}

void web_buf_release(web_buf *b)
{
    free(b->data);
    size_t limit = b->limit;
    web_buf_init(b, limit);
}

void web_buf_reset(web_buf *b)
{
    b->len = 0;
    b->failed = 0;
    if (b->data)
        b->data[0] = '\0';
}

/* Room for `more` bytes and the NUL. */
static int grow(web_buf *b, size_t more)
{
    if (b->failed)
        return -1;
    if (more > (size_t)-1 / 2 - b->len || (b->limit && b->len + more > b->limit)) {
        b->failed = 1;
        return -1;
    }
    size_t need = b->len + more + 1;
    if (need <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap *= 2;
    char *grown = realloc(b->data, cap);
    if (grown == NULL) {
        b->failed = 1;
        return -1;
    }
    b->data = grown;
    b->cap = cap;
    return 0;
}

int web_buf_add(web_buf *b, const void *data, size_t len)
{
    if (grow(b, len) < 0)
        return -1;
    if (len > 0)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
    return 0;
}

int web_buf_adds(web_buf *b, const char *s)
{
    return web_buf_add(b, s, strlen(s));
}

int web_buf_vaddf(web_buf *b, const char *fmt, va_list ap)
{
    va_list copy;
    va_copy(copy, ap);
    int n = vsnprintf(NULL, 0, fmt, copy);
    va_end(copy);
    if (n < 0 || grow(b, (size_t)n) < 0) {
        b->failed = 1;
        return -1;
    }
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return 0;
}

int web_buf_addf(web_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = web_buf_vaddf(b, fmt, ap);
    va_end(ap);
    return rc;
}

char *web_buf_detach(web_buf *b, size_t *len_out)
{
    char *data = b->data;
    size_t len = b->len;
    if (data == NULL)
        data = calloc(1, 1);
    if (len_out)
        *len_out = len;
    b->data = NULL;
    b->len = b->cap = 0;
    b->failed = 0;
    return data;
}
