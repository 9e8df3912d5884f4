/* pdfread.c - the page count of a PDF drudge-pdf just wrote, for the job's
 * result. Chromium (Skia) and ImageMagick write page objects uncompressed,
 * so counting "/Type /Page" dictionaries is exact for them; a PDF that hides
 * its objects in compressed streams falls back to the largest "/Count" of
 * its page tree. Pure: bytes in, a number out. */
#include "pdf.h"

#include <string.h>

static int is_space(unsigned char c)
{
    return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\f' || c == '\0';
}

/* A name character continues a PDF name ("/Pages" is not "/Page"). */
static int is_name_char(unsigned char c)
{
    return !is_space(c) && c != '/' && c != '<' && c != '>' && c != '[' && c != ']' && c != '(' &&
           c != ')' && c != '{' && c != '}' && c != '%';
}

static const unsigned char *find(const unsigned char *p, const unsigned char *end, const char *s)
{
    size_t n = strlen(s);
    while ((size_t)(end - p) >= n) {
        const unsigned char *hit = memchr(p, s[0], (size_t)(end - p) - n + 1);
        if (hit == NULL)
            return NULL;
        if (memcmp(hit, s, n) == 0)
            return hit;
        p = hit + 1;
    }
    return NULL;
}

long pdf_count_pages(const unsigned char *buf, size_t len)
{
    if (buf == NULL || len < 8 || memcmp(buf, "%PDF-", 5) != 0)
        return -1;
    const unsigned char *end = buf + len, *p = buf;
    long pages = 0, max_count = 0;
    while ((p = find(p, end, "/Type")) != NULL) {
        p += 5;
        const unsigned char *q = p;
        while (q < end && is_space(*q))
            q++;
        if (end - q >= 5 && memcmp(q, "/Page", 5) == 0 && (q + 5 == end || !is_name_char(q[5])))
            pages++;
    }
    for (p = buf; (p = find(p, end, "/Count")) != NULL;) {
        p += 6;
        while (p < end && is_space(*p))
            p++;
        long v = 0;
        while (p < end && *p >= '0' && *p <= '9' && v < 100000000)
            v = v * 10 + (*p++ - '0');
        if (v > max_count)
            max_count = v;
    }
    return pages > 0 ? pages : max_count;
}
