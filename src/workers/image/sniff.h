/* sniff.h - which image format a file really is, from its first bytes.
 *
 * The file name is never trusted: drudge-image reads an input only after
 * these functions named its format and that format is on the allow-list,
 * and then forces that coder. The header parsers also read the declared
 * size (and, for GIF and WebP, count the frames), so a pixel flood or a
 * frame bomb is refused before any decoder sees it. Pure: bytes in,
 * answers out. The format table also maps output extensions to formats.
 */
#ifndef DRUDGE_IMAGE_SNIFF_H
#define DRUDGE_IMAGE_SNIFF_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
    IMAGE_FMT_UNKNOWN = 0,
    /* formats drudge-image can read (when allowed) and write */
    IMAGE_FMT_JPEG,
    IMAGE_FMT_PNG,
    IMAGE_FMT_GIF,
    IMAGE_FMT_WEBP,
    IMAGE_FMT_AVIF,
    IMAGE_FMT_HEIC,
    /* recognised only so that the refusal can name them */
    IMAGE_FMT_SVG,
    IMAGE_FMT_XML, /* other XML: MSL, XMP, ... */
    IMAGE_FMT_MVG,
    IMAGE_FMT_PS,
    IMAGE_FMT_PDF,
    IMAGE_FMT_TIFF,
    IMAGE_FMT_BMP,
    IMAGE_FMT_COUNT
} image_format;

enum {
    IMAGE_FMT_F_IMAGE = 1u << 0,    /* a raster format drudge-image handles */
    IMAGE_FMT_F_ANIMATED = 1u << 1, /* can hold several frames */
};

typedef struct image_format_info {
    const char *name;               /* "jpeg": config, results, messages */
    const char *magick;             /* ImageMagick coder, forced when reading and writing */
    const char *const *extensions;  /* output name endings, lowercase, without the dot */
    unsigned flags;                 /* IMAGE_FMT_F_* */
} image_format_info;

/* The row of `f` (IMAGE_FMT_UNKNOWN has one too: name "unknown"). */
const image_format_info *image_format_get(image_format f);
/* A format by its name or an alias ("jpg", "JPEG"), or IMAGE_FMT_UNKNOWN. */
image_format image_format_by_name(const char *name);
/* The format a path's extension names ("a/b.JPG" -> jpeg), or UNKNOWN. */
image_format image_format_by_extension(const char *path);

typedef struct image_sniff {
    image_format format;
    uint32_t width;   /* declared size; 0 = not found (or not parsed for the format) */
    uint32_t height;  /* for GIF the largest extent of the screen and every frame */
    uint32_t frames;  /* GIF and WebP: frames counted; others 1; 0 = none found */
} image_sniff;

/* Identify buf[0..len) (the whole file, or as much as is at hand: frame
 * counts need the whole file). Always fills *out; format UNKNOWN when
 * nothing matched. */
void image_sniff_bytes(const unsigned char *buf, size_t len, image_sniff *out);

#endif
