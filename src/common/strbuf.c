/* strbuf.c - a growable byte buffer (see strbuf.h). */
#include "strbuf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void strbuf_init(strbuf *b, size_t limit)
{
    memset(b, 0, sizeof *b);
    b->limit = limit;
}

void strbuf_release(strbuf *b)
{
    free(b->data);
    size_t limit = b->limit;
    strbuf_init(b, limit);
}

void strbuf_reset(strbuf *b)
{
    b->len = 0;
    b->failed = 0;
    if (b->data)
        b->data[0] = '\0';
}

/* Room for `more` bytes and the NUL. */
static int grow(strbuf *b, size_t more)
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

int strbuf_add(strbuf *b, const void *data, size_t len)
{
    if (grow(b, len) < 0)
        return -1;
    if (len > 0)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
    return 0;
}

int strbuf_adds(strbuf *b, const char *s)
{
    return strbuf_add(b, s, strlen(s));
}

int strbuf_vaddf(strbuf *b, const char *fmt, va_list ap)
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

int strbuf_addf(strbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = strbuf_vaddf(b, fmt, ap);
    va_end(ap);
    return rc;
}

char *strbuf_detach(strbuf *b, size_t *len_out)
{
    char *data = b->data;
    size_t len = b->len;
    if (b->failed) {
        free(data);
        data = NULL;
        len = 0;
    } else if (data == NULL) {
        data = calloc(1, 1);
    }
    if (len_out)
        *len_out = len;
    b->data = NULL;
    b->len = b->cap = 0;
    b->failed = 0;
    return data;
}
