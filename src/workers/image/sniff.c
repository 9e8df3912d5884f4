/* sniff.c - image formats by magic bytes, declared sizes and frame counts,
 * and the format table (names, ImageMagick coders, output extensions).
 * Pure: no I/O, no ImageMagick. What is decoded, and how, is magick.c's. */
#include "sniff.h"

#include <string.h>
#include <strings.h>

static const char *const jpeg_ext[] = {"jpg", "jpeg", "jpe", NULL};
static const char *const png_ext[] = {"png", NULL};
static const char *const gif_ext[] = {"gif", NULL};
static const char *const webp_ext[] = {"webp", NULL};
static const char *const avif_ext[] = {"avif", NULL};
static const char *const heic_ext[] = {"heic", "heif", NULL};
static const char *const no_ext[] = {NULL};

static const image_format_info formats[IMAGE_FMT_COUNT] = {
    [IMAGE_FMT_UNKNOWN] = {"unknown", NULL, no_ext, 0},
    [IMAGE_FMT_JPEG] = {"jpeg", "JPEG", jpeg_ext, IMAGE_FMT_F_IMAGE},
    [IMAGE_FMT_PNG] = {"png", "PNG", png_ext, IMAGE_FMT_F_IMAGE},
    [IMAGE_FMT_GIF] = {"gif", "GIF", gif_ext, IMAGE_FMT_F_IMAGE | IMAGE_FMT_F_ANIMATED},
    [IMAGE_FMT_WEBP] = {"webp", "WEBP", webp_ext, IMAGE_FMT_F_IMAGE | IMAGE_FMT_F_ANIMATED},
    [IMAGE_FMT_AVIF] = {"avif", "AVIF", avif_ext, IMAGE_FMT_F_IMAGE},
    [IMAGE_FMT_HEIC] = {"heic", "HEIC", heic_ext, IMAGE_FMT_F_IMAGE},
    [IMAGE_FMT_SVG] = {"svg", NULL, no_ext, 0},
    [IMAGE_FMT_XML] = {"xml", NULL, no_ext, 0},
    [IMAGE_FMT_MVG] = {"mvg", NULL, no_ext, 0},
    [IMAGE_FMT_PS] = {"postscript", NULL, no_ext, 0},
    [IMAGE_FMT_PDF] = {"pdf", NULL, no_ext, 0},
    [IMAGE_FMT_TIFF] = {"tiff", NULL, no_ext, 0},
    [IMAGE_FMT_BMP] = {"bmp", NULL, no_ext, 0},
};

const image_format_info *image_format_get(image_format f)
{
    return (unsigned)f < IMAGE_FMT_COUNT ? &formats[f] : &formats[IMAGE_FMT_UNKNOWN];
}

image_format image_format_by_name(const char *name)
{
    if (name == NULL)
        return IMAGE_FMT_UNKNOWN;
    for (int f = IMAGE_FMT_UNKNOWN + 1; f < IMAGE_FMT_COUNT; f++) {
        if (!(formats[f].flags & IMAGE_FMT_F_IMAGE))
            continue;
        if (strcasecmp(name, formats[f].name) == 0)
            return (image_format)f;
        for (const char *const *e = formats[f].extensions; *e != NULL; e++)
            if (strcasecmp(name, *e) == 0)
                return (image_format)f;
    }
    return IMAGE_FMT_UNKNOWN;
}

image_format image_format_by_extension(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    const char *dot = strrchr(base, '.');
    if (dot == NULL || dot == base || dot[1] == '\0')
        return IMAGE_FMT_UNKNOWN;
    for (int f = IMAGE_FMT_UNKNOWN + 1; f < IMAGE_FMT_COUNT; f++)
        for (const char *const *e = formats[f].extensions; *e != NULL; e++)
            if (strcasecmp(dot + 1, *e) == 0)
                return (image_format)f;
    return IMAGE_FMT_UNKNOWN;
}

/* ---- byte helpers ---- */

static uint32_t be16(const unsigned char *p)
{
    return (uint32_t)p[0] << 8 | p[1];
}

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint32_t le16(const unsigned char *p)
{
    return (uint32_t)p[1] << 8 | p[0];
}

static uint32_t le24(const unsigned char *p)
{
    return (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

static uint32_t le32(const unsigned char *p)
{
    return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

static int starts(const unsigned char *b, size_t n, const char *magic, size_t mlen)
{
    return n >= mlen && memcmp(b, magic, mlen) == 0;
}

static void grow(image_sniff *out, uint32_t w, uint32_t h)
{
    if (w > out->width)
        out->width = w;
    if (h > out->height)
        out->height = h;
}

/* ---- per-format header walkers ---- */

/* Markers up to the first frame header (SOFn); stops at scan data. */
static void sniff_jpeg(const unsigned char *b, size_t n, image_sniff *out)
{
    size_t i = 2;
    out->frames = 1;
    while (i + 2 <= n) {
        if (b[i] != 0xFF)
            return;
        while (i < n && b[i] == 0xFF)
            i++;
        if (i >= n)
            return;
        unsigned m = b[i++];
        if (m == 0xD8 || m == 0x01 || (m >= 0xD0 && m <= 0xD7))
            continue; /* markers without a length */
        if (m == 0xD9 || m == 0xDA || i + 2 > n)
            return;
        size_t seglen = be16(b + i);
        if (seglen < 2)
            return;
        if (m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC) {
            if (i + 7 <= n)
                grow(out, be16(b + i + 5), be16(b + i + 3));
            return;
        }
        i += seglen;
    }
}

static void sniff_png(const unsigned char *b, size_t n, image_sniff *out)
{
    out->frames = 1;
    if (n >= 24 && memcmp(b + 12, "IHDR", 4) == 0)
        grow(out, be32(b + 16), be32(b + 20));
}

/* Skip GIF data sub-blocks from *i; 0 when the terminator was found. */
static int gif_skip_blocks(const unsigned char *b, size_t n, size_t *i)
{
    while (*i < n) {
        size_t len = b[(*i)++];
        if (len == 0)
            return 0;
        *i += len;
    }
    return -1;
}

/* Every block: the frame count and the largest extent any frame declares
 * (a 10x10 screen may hold a 65535x65535 frame). */
static void sniff_gif(const unsigned char *b, size_t n, image_sniff *out)
{
    if (n < 13)
        return;
    grow(out, le16(b + 6), le16(b + 8));
    size_t i = 13;
    if (b[10] & 0x80)
        i += (size_t)3 << ((b[10] & 7) + 1);
    while (i < n) {
        unsigned c = b[i++];
        if (c == 0x3B)
            return;
        if (c == 0x21) {
            i++; /* label */
            if (gif_skip_blocks(b, n, &i) < 0)
                return;
        } else if (c == 0x2C) {
            if (i + 9 > n)
                return;
            out->frames++;
            grow(out, le16(b + i) + le16(b + i + 4), le16(b + i + 2) + le16(b + i + 6));
            unsigned flags = b[i + 8];
            i += 9;
            if (flags & 0x80)
                i += (size_t)3 << ((flags & 7) + 1);
            i++; /* LZW minimum code size */
            if (gif_skip_blocks(b, n, &i) < 0)
                return;
        } else {
            return; /* not a GIF block: the rest is garbage */
        }
    }
}

/* RIFF chunks: the bitstream or canvas size, and ANMF frames. */
static void sniff_webp(const unsigned char *b, size_t n, image_sniff *out)
{
    size_t i = 12;
    uint32_t frames = 0;
    int still = 0;
    while (i + 8 <= n) {
        const unsigned char *tag = b + i;
        size_t size = le32(b + i + 4), d = i + 8;
        if (memcmp(tag, "VP8 ", 4) == 0 && d + 10 <= n && b[d + 3] == 0x9d && b[d + 4] == 0x01 &&
            b[d + 5] == 0x2a) {
            grow(out, le16(b + d + 6) & 0x3fff, le16(b + d + 8) & 0x3fff);
            still = 1;
        } else if (memcmp(tag, "VP8L", 4) == 0 && d + 5 <= n && b[d] == 0x2f) {
            uint32_t bits = le32(b + d + 1);
            grow(out, (bits & 0x3fff) + 1, ((bits >> 14) & 0x3fff) + 1);
            still = 1;
        } else if (memcmp(tag, "VP8X", 4) == 0 && d + 10 <= n) {
            grow(out, le24(b + d + 4) + 1, le24(b + d + 7) + 1);
        } else if (memcmp(tag, "ANMF", 4) == 0 && d + 12 <= n) {
            frames++;
            grow(out, 2 * le24(b + d) + le24(b + d + 6) + 1, 2 * le24(b + d + 3) + le24(b + d + 9) + 1);
        }
        if (size > n) /* also keeps the sum below from overflowing */
            break;
        i = d + size + (size & 1);
    }
    out->frames = frames ? frames : (uint32_t)still;
}

/* ISO-BMFF "ftyp": AVIF if any brand says so, else HEIC for the HEIF brands. */
static image_format sniff_ftyp(const unsigned char *b, size_t n)
{
    static const char *const heif_brands[] = {"heic", "heix", "hevc", "hevx", "heim",
                                              "heis", "hevm", "hevs", "mif1", "msf1"};
    if (n < 16 || memcmp(b + 4, "ftyp", 4) != 0)
        return IMAGE_FMT_UNKNOWN;
    size_t end = be32(b);
    if (end > n)
        end = n;
    image_format found = IMAGE_FMT_UNKNOWN;
    for (size_t i = 8; i + 4 <= end; i += 4) {
        if (i == 12)
            continue; /* minor version */
        if (memcmp(b + i, "avif", 4) == 0 || memcmp(b + i, "avis", 4) == 0)
            return IMAGE_FMT_AVIF;
        for (size_t k = 0; k < sizeof heif_brands / sizeof heif_brands[0]; k++)
            if (memcmp(b + i, heif_brands[k], 4) == 0)
                found = IMAGE_FMT_HEIC;
    }
    return found;
}

/* Text formats ImageMagick would happily interpret: SVG, other XML (MSL),
 * MVG. Named so the refusal can say what the file is. */
static image_format sniff_text(const unsigned char *b, size_t n)
{
    size_t i = 0;
    if (starts(b, n, "\xEF\xBB\xBF", 3))
        i = 3;
    while (i < n && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n'))
        i++;
    const unsigned char *t = b + i;
    size_t tn = n - i;
    if (tn > 0 && t[0] == '<') {
        size_t scan = tn < 4096 ? tn : 4096;
        for (size_t k = 0; k + 4 <= scan; k++)
            if (t[k] == '<' && strncasecmp((const char *)t + k + 1, "svg", 3) == 0)
                return IMAGE_FMT_SVG;
        return IMAGE_FMT_XML;
    }
    if ((tn >= 20 && strncasecmp((const char *)t, "push graphic-context", 20) == 0) ||
        (tn >= 8 && strncasecmp((const char *)t, "viewbox ", 8) == 0))
        return IMAGE_FMT_MVG;
    return IMAGE_FMT_UNKNOWN;
}

void image_sniff_bytes(const unsigned char *b, size_t n, image_sniff *out)
{
    memset(out, 0, sizeof *out);
    if (b == NULL)
        return;
    if (starts(b, n, "\xFF\xD8\xFF", 3)) {
        out->format = IMAGE_FMT_JPEG;
        sniff_jpeg(b, n, out);
    } else if (starts(b, n, "\x89PNG\r\n\x1a\n", 8)) {
        out->format = IMAGE_FMT_PNG;
        sniff_png(b, n, out);
    } else if (starts(b, n, "GIF87a", 6) || starts(b, n, "GIF89a", 6)) {
        out->format = IMAGE_FMT_GIF;
        sniff_gif(b, n, out);
    } else if (n >= 12 && memcmp(b, "RIFF", 4) == 0 && memcmp(b + 8, "WEBP", 4) == 0) {
        out->format = IMAGE_FMT_WEBP;
        sniff_webp(b, n, out);
    } else if ((out->format = sniff_ftyp(b, n)) != IMAGE_FMT_UNKNOWN) {
        out->frames = 1;
    } else if (starts(b, n, "%PDF-", 5)) {
        out->format = IMAGE_FMT_PDF;
    } else if (starts(b, n, "%!", 2) || starts(b, n, "\xC5\xD0\xD3\xC6", 4)) {
        out->format = IMAGE_FMT_PS;
    } else if (starts(b, n, "II*\0", 4) || starts(b, n, "MM\0*", 4)) {
        out->format = IMAGE_FMT_TIFF;
    } else if (starts(b, n, "BM", 2) && n >= 26) {
        out->format = IMAGE_FMT_BMP;
    } else {
        out->format = sniff_text(b, n);
    }
}
