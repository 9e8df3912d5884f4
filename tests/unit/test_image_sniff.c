/* test_image_sniff.c - unit tests for src/workers/image/sniff.c: formats
 * are named by their bytes, never by the name; declared sizes and frame
 * counts come out of the headers (so pixel floods and frame bombs can be
 * refused before decoding); the formats drudge-image never reads are
 * recognised by name; output extensions map to formats.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../src/workers/image/sniff.h"

static image_sniff sniff(const void *bytes, size_t len)
{
    image_sniff s;
    image_sniff_bytes(bytes, len, &s);
    return s;
}

static image_sniff sniff_str(const char *text)
{
    return sniff(text, strlen(text));
}

/* ---- JPEG ---- */

/* SOI, an APP0 segment, a DQT stub, then SOFn with the size, then SOS. */
static size_t make_jpeg(unsigned char *b, unsigned sof, unsigned w, unsigned h)
{
    size_t n = 0;
    const unsigned char head[] = {0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, 'J', 'F', 'I', 'F', 0,
                                  1,    1,    0,    0,    1,    0,    1,    0,   0,   0xFF, 0xDB,
                                  0x00, 0x04, 0x00, 0x01};
    memcpy(b, head, sizeof head);
    n = sizeof head;
    const unsigned char sofseg[] = {0xFF, (unsigned char)sof, 0x00, 0x11, 8,
                                    (unsigned char)(h >> 8), (unsigned char)h,
                                    (unsigned char)(w >> 8), (unsigned char)w, 3,
                                    1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1};
    memcpy(b + n, sofseg, sizeof sofseg);
    n += sizeof sofseg;
    const unsigned char sos[] = {0xFF, 0xDA, 0x00, 0x08, 1, 1, 0, 0, 0x3f, 0};
    memcpy(b + n, sos, sizeof sos);
    return n + sizeof sos;
}

static void test_jpeg_baseline_size(void **state)
{
    (void)state;
    unsigned char b[128];
    image_sniff s = sniff(b, make_jpeg(b, 0xC0, 4000, 3000));
    assert_int_equal(s.format, IMAGE_FMT_JPEG);
    assert_int_equal(s.width, 4000);
    assert_int_equal(s.height, 3000);
    assert_int_equal(s.frames, 1);
}

static void test_jpeg_progressive_and_flood_size(void **state)
{
    (void)state;
    unsigned char b[128];
    image_sniff s = sniff(b, make_jpeg(b, 0xC2, 64000, 64000));
    assert_int_equal(s.format, IMAGE_FMT_JPEG);
    assert_int_equal(s.width, 64000);
    assert_int_equal(s.height, 64000);
}

static void test_jpeg_huffman_table_is_not_a_frame_header(void **state)
{
    (void)state;
    /* C4 (DHT) sits in the SOF range but is not one */
    unsigned char b[160];
    const unsigned char dht[] = {0xFF, 0xD8, 0xFF, 0xC4, 0x00, 0x06, 0x10, 0x20, 0x30, 0x40};
    memcpy(b, dht, sizeof dht);
    size_t n = make_jpeg(b + sizeof dht - 2, 0xC0, 640, 480) + sizeof dht - 2;
    image_sniff s = sniff(b, n);
    assert_int_equal(s.format, IMAGE_FMT_JPEG);
    assert_int_equal(s.width, 640);
    assert_int_equal(s.height, 480);
}

static void test_jpeg_truncated_before_frame_header_has_no_size(void **state)
{
    (void)state;
    unsigned char b[128];
    make_jpeg(b, 0xC0, 100, 100);
    image_sniff s = sniff(b, 30); /* cut inside the DQT/SOF area */
    assert_int_equal(s.format, IMAGE_FMT_JPEG);
    assert_int_equal(s.width, 0);
    assert_int_equal(s.height, 0);
}

/* ---- PNG ---- */

static size_t make_png(unsigned char *b, uint32_t w, uint32_t h)
{
    const unsigned char sig[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n',
                                 0,    0,   0,   13,  'I',  'H',  'D',  'R'};
    memcpy(b, sig, sizeof sig);
    unsigned char *p = b + sizeof sig;
    p[0] = (unsigned char)(w >> 24), p[1] = (unsigned char)(w >> 16), p[2] = (unsigned char)(w >> 8),
    p[3] = (unsigned char)w;
    p[4] = (unsigned char)(h >> 24), p[5] = (unsigned char)(h >> 16), p[6] = (unsigned char)(h >> 8),
    p[7] = (unsigned char)h;
    memset(p + 8, 0, 9);
    return sizeof sig + 17;
}

static void test_png_size_from_ihdr(void **state)
{
    (void)state;
    unsigned char b[64];
    image_sniff s = sniff(b, make_png(b, 300, 200));
    assert_int_equal(s.format, IMAGE_FMT_PNG);
    assert_int_equal(s.width, 300);
    assert_int_equal(s.height, 200);
    assert_int_equal(s.frames, 1);
    s = sniff(b, make_png(b, 64000, 64000));
    assert_int_equal(s.width, 64000);
}

static void test_png_named_gif_is_png(void **state)
{
    (void)state;
    unsigned char b[64];
    /* bytes decide; there is no name to look at */
    assert_int_equal(sniff(b, make_png(b, 1, 1)).format, IMAGE_FMT_PNG);
}

/* ---- GIF ---- */

/* A GIF of `frames` 1x1 frames on a w x h screen; the last frame may
 * declare big_w x big_h. */
static size_t make_gif(unsigned char *b, unsigned w, unsigned h, unsigned frames, unsigned big_w,
                       unsigned big_h)
{
    size_t n = 0;
    memcpy(b, "GIF89a", 6);
    n = 6;
    b[n++] = (unsigned char)w, b[n++] = (unsigned char)(w >> 8);
    b[n++] = (unsigned char)h, b[n++] = (unsigned char)(h >> 8);
    b[n++] = 0x80; /* global colour table of 2 entries */
    b[n++] = 0, b[n++] = 0;
    memset(b + n, 0, 6);
    n += 6;
    for (unsigned f = 0; f < frames; f++) {
        /* graphic control extension */
        const unsigned char gce[] = {0x21, 0xF9, 4, 0, 10, 0, 0, 0};
        memcpy(b + n, gce, sizeof gce);
        n += sizeof gce;
        unsigned fw = f + 1 == frames && big_w ? big_w : 1, fh = f + 1 == frames && big_h ? big_h : 1;
        b[n++] = 0x2C;
        memset(b + n, 0, 4);
        n += 4;
        b[n++] = (unsigned char)fw, b[n++] = (unsigned char)(fw >> 8);
        b[n++] = (unsigned char)fh, b[n++] = (unsigned char)(fh >> 8);
        b[n++] = 0;                       /* no local table */
        b[n++] = 2;                       /* LZW minimum code size */
        b[n++] = 2, b[n++] = 0x4C, b[n++] = 0x01; /* one data block */
        b[n++] = 0;
    }
    b[n++] = 0x3B;
    return n;
}

static void test_gif_frames_are_counted(void **state)
{
    (void)state;
    size_t cap = 16 + 5000 * 24;
    unsigned char *b = malloc(cap);
    assert_non_null(b);
    image_sniff s = sniff(b, make_gif(b, 10, 10, 3, 0, 0));
    assert_int_equal(s.format, IMAGE_FMT_GIF);
    assert_int_equal(s.frames, 3);
    assert_int_equal(s.width, 10);
    s = sniff(b, make_gif(b, 10, 10, 5000, 0, 0));
    assert_int_equal(s.frames, 5000);
    free(b);
}

static void test_gif_frame_larger_than_screen_counts(void **state)
{
    (void)state;
    unsigned char b[256];
    image_sniff s = sniff(b, make_gif(b, 10, 10, 2, 65535, 65535));
    assert_int_equal(s.width, 65535);
    assert_int_equal(s.height, 65535);
}

static void test_gif_truncated_counts_what_is_there(void **state)
{
    (void)state;
    unsigned char b[256];
    size_t n = make_gif(b, 10, 10, 3, 0, 0);
    image_sniff s = sniff(b, n - 20);
    assert_int_equal(s.format, IMAGE_FMT_GIF);
    assert_in_range(s.frames, 1, 2);
    s = sniff(b, 8);
    assert_int_equal(s.format, IMAGE_FMT_GIF);
    assert_int_equal(s.width, 0);
}

/* ---- WebP ---- */

static size_t riff(unsigned char *b, const unsigned char *chunks, size_t len)
{
    memcpy(b, "RIFF", 4);
    uint32_t size = (uint32_t)(len + 4);
    b[4] = (unsigned char)size, b[5] = (unsigned char)(size >> 8), b[6] = (unsigned char)(size >> 16),
    b[7] = (unsigned char)(size >> 24);
    memcpy(b + 8, "WEBP", 4);
    memcpy(b + 12, chunks, len);
    return 12 + len;
}

static void test_webp_lossy_size(void **state)
{
    (void)state;
    const unsigned char vp8[] = {'V', 'P', '8', ' ', 10, 0, 0, 0, 0, 0, 0, 0x9d, 0x01, 0x2a,
                                 0x2c, 0x01, 0xc8, 0x00}; /* 300 x 200 */
    unsigned char b[64];
    image_sniff s = sniff(b, riff(b, vp8, sizeof vp8));
    assert_int_equal(s.format, IMAGE_FMT_WEBP);
    assert_int_equal(s.width, 300);
    assert_int_equal(s.height, 200);
    assert_int_equal(s.frames, 1);
}

static void test_webp_lossless_size(void **state)
{
    (void)state;
    /* width-1 = 299 in 14 bits, height-1 = 199 in the next 14 */
    uint32_t bits = 299u | (199u << 14);
    const unsigned char vp8l[] = {'V', 'P', '8', 'L', 5, 0, 0, 0, 0x2f, (unsigned char)bits,
                                  (unsigned char)(bits >> 8), (unsigned char)(bits >> 16),
                                  (unsigned char)(bits >> 24), 0};
    unsigned char b[64];
    image_sniff s = sniff(b, riff(b, vp8l, sizeof vp8l));
    assert_int_equal(s.format, IMAGE_FMT_WEBP);
    assert_int_equal(s.width, 300);
    assert_int_equal(s.height, 200);
}

static void test_webp_animation_frames_and_canvas(void **state)
{
    (void)state;
    unsigned char chunks[256];
    size_t n = 0;
    /* VP8X: canvas 100 x 50 (stored minus one, 24 bits) */
    const unsigned char vp8x[] = {'V', 'P', '8', 'X', 10, 0, 0, 0, 0x02, 0, 0, 0, 99, 0, 0, 49, 0, 0};
    memcpy(chunks, vp8x, sizeof vp8x);
    n = sizeof vp8x;
    for (int f = 0; f < 4; f++) {
        const unsigned char anmf[] = {'A', 'N', 'M', 'F', 16, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                      9,   0,   0,   9,   0, 0, 100, 0, 0, 0};
        memcpy(chunks + n, anmf, sizeof anmf);
        n += sizeof anmf;
    }
    unsigned char b[300];
    image_sniff s = sniff(b, riff(b, chunks, n));
    assert_int_equal(s.format, IMAGE_FMT_WEBP);
    assert_int_equal(s.frames, 4);
    assert_int_equal(s.width, 100);
    assert_int_equal(s.height, 50);
}

/* ---- HEIF family ---- */

static void test_ftyp_brands(void **state)
{
    (void)state;
    const unsigned char avif[] = {0, 0, 0, 0x1c, 'f', 't', 'y', 'p', 'a', 'v', 'i', 'f', 0, 0,
                                  0, 0, 'm', 'i', 'f', '1', 'm', 'i', 'a', 'f', 0, 0, 0, 0};
    const unsigned char heic[] = {0, 0, 0, 0x18, 'f', 't', 'y', 'p', 'h', 'e', 'i', 'c',
                                  0, 0, 0, 0,    'm', 'i', 'f', '1', 'h', 'e', 'i', 'c'};
    const unsigned char mif1_avif[] = {0, 0, 0, 0x18, 'f', 't', 'y', 'p', 'm', 'i', 'f', '1',
                                       0, 0, 0, 0,    'm', 'i', 'f', '1', 'a', 'v', 'i', 'f'};
    const unsigned char mp4[] = {0, 0, 0, 0x18, 'f', 't', 'y', 'p', 'i', 's', 'o', 'm',
                                 0, 0, 0, 0,    'i', 's', 'o', 'm', 'm', 'p', '4', '1'};
    assert_int_equal(sniff(avif, sizeof avif).format, IMAGE_FMT_AVIF);
    assert_int_equal(sniff(heic, sizeof heic).format, IMAGE_FMT_HEIC);
    assert_int_equal(sniff(mif1_avif, sizeof mif1_avif).format, IMAGE_FMT_AVIF);
    assert_int_equal(sniff(mp4, sizeof mp4).format, IMAGE_FMT_UNKNOWN);
}

/* ---- what is never read ---- */

static void test_dangerous_formats_are_named(void **state)
{
    (void)state;
    assert_int_equal(sniff_str("<svg xmlns='http://www.w3.org/2000/svg'/>").format, IMAGE_FMT_SVG);
    assert_int_equal(sniff_str("\xEF\xBB\xBF  \n<?xml version=\"1.0\"?>\n<!DOCTYPE x>\n<svg>").format,
                     IMAGE_FMT_SVG);
    assert_int_equal(sniff_str("<?xml version=\"1.0\"?><image><read filename=\"/etc/passwd\"/></image>")
                         .format,
                     IMAGE_FMT_XML);
    assert_int_equal(sniff_str("push graphic-context\nviewbox 0 0 640 480\nfill 'url(x|touch y)'")
                         .format,
                     IMAGE_FMT_MVG);
    assert_int_equal(sniff_str("viewbox 0 0 1 1\nimage over 0,0 0,0 'text:/etc/passwd'").format,
                     IMAGE_FMT_MVG);
    assert_int_equal(sniff_str("%!PS-Adobe-3.0\n").format, IMAGE_FMT_PS);
    assert_int_equal(sniff_str("%PDF-1.7\n").format, IMAGE_FMT_PDF);
    assert_int_equal(sniff("II*\0\x08\0\0\0", 8).format, IMAGE_FMT_TIFF);
    assert_int_equal(sniff_str("text:/etc/passwd").format, IMAGE_FMT_UNKNOWN);
    assert_int_equal(sniff_str("https://example.com/a.jpg").format, IMAGE_FMT_UNKNOWN);
    assert_int_equal(sniff("", 0).format, IMAGE_FMT_UNKNOWN);
    assert_int_equal(sniff("\xFF\xD8", 2).format, IMAGE_FMT_UNKNOWN);
    assert_null(image_format_get(IMAGE_FMT_SVG)->magick);
    assert_false(image_format_get(IMAGE_FMT_MVG)->flags & IMAGE_FMT_F_IMAGE);
}

/* ---- the format table ---- */

static void test_format_names_and_extensions(void **state)
{
    (void)state;
    assert_int_equal(image_format_by_name("jpeg"), IMAGE_FMT_JPEG);
    assert_int_equal(image_format_by_name("JPG"), IMAGE_FMT_JPEG);
    assert_int_equal(image_format_by_name("webp"), IMAGE_FMT_WEBP);
    assert_int_equal(image_format_by_name("heif"), IMAGE_FMT_HEIC);
    assert_int_equal(image_format_by_name("svg"), IMAGE_FMT_UNKNOWN);
    assert_int_equal(image_format_by_name("mvg"), IMAGE_FMT_UNKNOWN);
    assert_int_equal(image_format_by_name(NULL), IMAGE_FMT_UNKNOWN);
    assert_int_equal(image_format_by_extension("thumbs/cat.WEBP"), IMAGE_FMT_WEBP);
    assert_int_equal(image_format_by_extension("a.b/c.jpeg"), IMAGE_FMT_JPEG);
    assert_int_equal(image_format_by_extension("a.jpg/c"), IMAGE_FMT_UNKNOWN);
    assert_int_equal(image_format_by_extension(".png"), IMAGE_FMT_UNKNOWN);
    assert_int_equal(image_format_by_extension("x."), IMAGE_FMT_UNKNOWN);
    assert_int_equal(image_format_by_extension("x.svg"), IMAGE_FMT_UNKNOWN);
    assert_string_equal(image_format_get(IMAGE_FMT_GIF)->magick, "GIF");
    assert_true(image_format_get(IMAGE_FMT_GIF)->flags & IMAGE_FMT_F_ANIMATED);
    assert_false(image_format_get(IMAGE_FMT_JPEG)->flags & IMAGE_FMT_F_ANIMATED);
    assert_string_equal(image_format_get((image_format)999)->name, "unknown");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_jpeg_baseline_size),
        cmocka_unit_test(test_jpeg_progressive_and_flood_size),
        cmocka_unit_test(test_jpeg_huffman_table_is_not_a_frame_header),
        cmocka_unit_test(test_jpeg_truncated_before_frame_header_has_no_size),
        cmocka_unit_test(test_png_size_from_ihdr),
        cmocka_unit_test(test_png_named_gif_is_png),
        cmocka_unit_test(test_gif_frames_are_counted),
        cmocka_unit_test(test_gif_frame_larger_than_screen_counts),
        cmocka_unit_test(test_gif_truncated_counts_what_is_there),
        cmocka_unit_test(test_webp_lossy_size),
        cmocka_unit_test(test_webp_lossless_size),
        cmocka_unit_test(test_webp_animation_frames_and_canvas),
        cmocka_unit_test(test_ftyp_brands),
        cmocka_unit_test(test_dangerous_formats_are_named),
        cmocka_unit_test(test_format_names_and_extensions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
