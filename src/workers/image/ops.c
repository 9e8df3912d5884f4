/* ops.c - the op table: for each op its arguments, a parse function and a
 * MagickWand function that runs on every frame. Decoding, encoding and
 * files are job.c's and magick.c's; an op only transforms r->wand.
 *
 *   resize      width and/or height; mode fit (default: inside the box) |
 *               fill (cover the box, centre-cropped to it) | exact
 *   thumbnail   width and/or height: fit inside, never enlarge; drops EXIF
 *               and comments, keeps the ICC profile
 *   crop        width, height; x, y (offsets, default 0); gravity (default
 *               northwest); clipped to the image, nothing left is an error
 *   extent      width, height; gravity (center); background (white)
 *   rotate      degrees (-360..360, clockwise); background (white)
 *   flip, flop, auto_orient (EXIF orientation), strip, grayscale
 *   quality     value 1-100 (the encoder's)
 *   format      value: jpeg png gif webp (avif heic where ImageMagick has
 *               them); must agree with the output name's extension
 *   blur        sigma 0.1-100; radius (0 = from sigma)
 *   sharpen     sigma 0.1-20; radius (0 = from sigma)
 *   watermark   image (a path in input_dir, same checks as the input);
 *               gravity (southeast); opacity 0-1 (0.5); margin px (10)
 *
 * Sizes are capped by image.limits.width/height; gravity is one of center,
 * north, south, east, west, northeast, northwest, southeast, southwest.
 * An unknown op or argument, or a value out of range, fails the job with a
 * message naming ops[i], the op and the argument. */
#include "ops.h"

#include "num.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const fit_modes[] = {"fit", "fill", "exact", NULL};
enum { FIT = 0, FILL = 1, EXACT = 2 };

/* ---- helpers ---- */

typedef int (*frame_fn)(image_run *r, const image_op *op, char *why, size_t whycap);

/* Run fn on every frame of r->wand (each in turn the wand's current image). */
static int each_frame(image_run *r, const image_op *op, frame_fn fn, char *why, size_t whycap)
{
    MagickResetIterator(r->wand);
    while (MagickNextImage(r->wand) != MagickFalse)
        if (fn(r, op, why, whycap) < 0)
            return -1;
    return 0;
}

static int op_failed(image_run *r, const image_op *op, char *why, size_t whycap)
{
    char doing[64];
    snprintf(doing, sizeof doing, "ops[%d] (%s)", op->index, op->spec->name);
    return image_magick_error(r, r->wand, doing, "ImageMagick could not do it", why, whycap);
}

/* Width and height within the configured limits. `required`: 0 none,
 * 1 at least one, 2 both. */
static int parse_size(image_op *op, const image_args *a, const image_worker *w, int required)
{
    int gw = 0, gh = 0;
    if (image_args_long(a, "width", 1, w->cfg->image_limit_width, required == 2, 0, &op->width,
                        &gw) < 0 ||
        image_args_long(a, "height", 1, w->cfg->image_limit_height, required == 2, 0, &op->height,
                        &gh) < 0)
        return -1;
    if (required == 1 && !gw && !gh) {
        snprintf(a->why, a->whycap, "%s: width or height is required", a->where);
        return -1;
    }
    return 0;
}

static int parse_color(image_op *op, const image_args *a, const char *key, const char *def)
{
    if (image_args_color(a, key, def, op->color) < 0)
        return -1;
    PixelWand *p = NewPixelWand();
    MagickBooleanType ok = p ? PixelSetColor(p, op->color) : MagickFalse;
    DestroyPixelWand(p);
    if (!ok) {
        snprintf(a->why, a->whycap, "%s: %s \"%s\" is not a colour ImageMagick knows", a->where,
                 key, op->color);
        return -1;
    }
    return 0;
}

/* The scale that fits w x h into the box (a missing side is free). */
static double fit_scale(double bw, double bh, double w, double h)
{
    if (bw > 0 && bh > 0)
        return image_min(bw / w, bh / h);
    return bw > 0 ? bw / w : bh / h;
}

/* A size scaled by s, at least 1 pixel. */
static size_t scaled(double v, double s)
{
    double r = image_floor(v * s + 0.5);
    return r < 1 ? 1 : (size_t)r;
}

/* ---- resize, thumbnail ---- */

static const char *const resize_args[] = {"width", "height", "mode", NULL};

static int resize_parse(image_op *op, const image_args *a, const image_worker *w)
{
    if (image_args_choice(a, "mode", fit_modes, 0, FIT, &op->mode) < 0)
        return -1;
    return parse_size(op, a, w, op->mode == FIT ? 1 : 2);
}

/* Resize the current frame to bw x bh by mode; thumbnails never enlarge and
 * first sample big images down cheaply, as ImageMagick's -thumbnail does. */
static int resize_frame_to(image_run *r, const image_op *op, int mode, int thumbnail, char *why,
                           size_t whycap)
{
    double w = (double)MagickGetImageWidth(r->wand), h = (double)MagickGetImageHeight(r->wand);
    double bw = (double)op->width, bh = (double)op->height;
    size_t nw, nh;
    if (mode == FIT) {
        double s = fit_scale(bw, bh, w, h);
        if (thumbnail && s > 1)
            s = 1;
        nw = scaled(w, s);
        nh = scaled(h, s);
    } else if (mode == FILL) {
        double s = image_max(bw / w, bh / h);
        nw = (size_t)image_max(bw, image_ceil(w * s));
        nh = (size_t)image_max(bh, image_ceil(h * s));
    } else {
        nw = (size_t)bw;
        nh = (size_t)bh;
    }
    if (thumbnail && nw * 5 < w && nh * 5 < h &&
        MagickSampleImage(r->wand, nw * 5, nh * 5) == MagickFalse)
        return op_failed(r, op, why, whycap);
    if ((nw != (size_t)w || nh != (size_t)h) &&
        MagickResizeImage(r->wand, nw, nh, UndefinedFilter, 1.0) == MagickFalse)
        return op_failed(r, op, why, whycap);
    if (mode == FILL && (nw > (size_t)bw || nh > (size_t)bh)) {
        if (MagickCropImage(r->wand, (size_t)bw, (size_t)bh, (ssize_t)(nw - (size_t)bw) / 2,
                            (ssize_t)(nh - (size_t)bh) / 2) == MagickFalse)
            return op_failed(r, op, why, whycap);
        MagickSetImagePage(r->wand, 0, 0, 0, 0);
    }
    return 0;
}

static int resize_frame(image_run *r, const image_op *op, char *why, size_t whycap)
{
    return resize_frame_to(r, op, op->mode, 0, why, whycap);
}

static int resize_apply(image_run *r, const image_op *op, char *why, size_t whycap)
{
    return each_frame(r, op, resize_frame, why, whycap);
}

/* Either orientation (auto_orient may swap the sides). fill and exact need
 * both sides covered: the larger box side over the smaller image side. */
static double needed_scale(const image_op *op, int mode, double w, double h)
{
    double bw = (double)op->width, bh = (double)op->height;
    if (mode == FIT)
        return image_max(fit_scale(bw, bh, w, h), fit_scale(bw, bh, h, w));
    return image_max(bw, bh) / image_min(w, h);
}

/* A resize keeps a factor of 2 for its own filter to work with. */
static double resize_decode_scale(const image_op *op, double w, double h)
{
    return image_min(1.0, 2.0 * needed_scale(op, op->mode, w, h));
}

static const char *const thumbnail_args[] = {"width", "height", NULL};

static int thumbnail_parse(image_op *op, const image_args *a, const image_worker *w)
{
    op->mode = FIT;
    return parse_size(op, a, w, 1);
}

static int thumbnail_frame(image_run *r, const image_op *op, char *why, size_t whycap)
{
    if (resize_frame_to(r, op, FIT, 1, why, whycap) < 0)
        return -1;
    /* a thumbnail carries no EXIF, comments or other profiles, but keeps
     * its colour profile: a wide-gamut photo would look dull without it */
    size_t icc_len = 0;
    unsigned char *icc = MagickRemoveImageProfile(r->wand, "icc", &icc_len);
    int rc = MagickStripImage(r->wand) ? 0 : op_failed(r, op, why, whycap);
    if (rc == 0 && icc != NULL && icc_len > 0 &&
        !MagickSetImageProfile(r->wand, "icc", icc, icc_len))
        rc = op_failed(r, op, why, whycap);
    if (icc != NULL)
        MagickRelinquishMemory(icc);
    return rc;
}

static int thumbnail_apply(image_run *r, const image_op *op, char *why, size_t whycap)
{
    return each_frame(r, op, thumbnail_frame, why, whycap);
}

static double thumbnail_decode_scale(const image_op *op, double w, double h)
{
    return image_min(1.0, needed_scale(op, FIT, w, h));
}

/* ---- crop, extent ---- */

static const char *const crop_args[] = {"width", "height", "x", "y", "gravity", NULL};

static int crop_parse(image_op *op, const image_args *a, const image_worker *w)
{
    if (parse_size(op, a, w, 2) < 0 ||
        image_args_long(a, "x", -1000000, 1000000, 0, 0, &op->x, NULL) < 0 ||
        image_args_long(a, "y", -1000000, 1000000, 0, 0, &op->y, NULL) < 0)
        return -1;
    return image_args_choice(a, "gravity", image_gravity_names, 0, IMAGE_GRAVITY_NORTHWEST,
                             &op->gravity);
}

static int crop_frame(image_run *r, const image_op *op, char *why, size_t whycap)
{
    long W = (long)MagickGetImageWidth(r->wand), H = (long)MagickGetImageHeight(r->wand);
    long x, y;
    image_gravity_place((image_gravity)op->gravity, W, H, op->width, op->height, 0, &x, &y);
    x += op->x;
    y += op->y;
    /* clip to the image, as ImageMagick does; nothing left is an error */
    long x0 = x < 0 ? 0 : x, y0 = y < 0 ? 0 : y;
    long x1 = x + op->width > W ? W : x + op->width, y1 = y + op->height > H ? H : y + op->height;
    if (x1 <= x0 || y1 <= y0) {
        snprintf(why, whycap, "ops[%d] (crop): the region %ldx%ld%+ld%+ld lies outside the %ldx%ld image",
                 op->index, op->width, op->height, x, y, W, H);
        return -1;
    }
    if (MagickCropImage(r->wand, (size_t)(x1 - x0), (size_t)(y1 - y0), x0, y0) == MagickFalse)
        return op_failed(r, op, why, whycap);
    MagickSetImagePage(r->wand, 0, 0, 0, 0);
    return 0;
}

static int crop_apply(image_run *r, const image_op *op, char *why, size_t whycap)
{
    return each_frame(r, op, crop_frame, why, whycap);
}

static const char *const extent_args[] = {"width", "height", "gravity", "background", NULL};

static int extent_parse(image_op *op, const image_args *a, const image_worker *w)
{
    if (parse_size(op, a, w, 2) < 0 ||
        image_args_choice(a, "gravity", image_gravity_names, 0, IMAGE_GRAVITY_CENTER,
                          &op->gravity) < 0)
        return -1;
    return parse_color(op, a, "background", "white");
}

static int extent_frame(image_run *r, const image_op *op, char *why, size_t whycap)
{
    long W = (long)MagickGetImageWidth(r->wand), H = (long)MagickGetImageHeight(r->wand);
    long x, y;
    image_gravity_place((image_gravity)op->gravity, op->width, op->height, W, H, 0, &x, &y);
    PixelWand *bg = NewPixelWand();
    int rc = 0;
    if (bg == NULL || !PixelSetColor(bg, op->color) ||
        !MagickSetImageBackgroundColor(r->wand, bg) ||
        !MagickExtentImage(r->wand, (size_t)op->width, (size_t)op->height, -x, -y))
        rc = op_failed(r, op, why, whycap);
    DestroyPixelWand(bg);
    MagickSetImagePage(r->wand, 0, 0, 0, 0);
    return rc;
}

static int extent_apply(image_run *r, const image_op *op, char *why, size_t whycap)
{
    return each_frame(r, op, extent_frame, why, whycap);
}

/* ---- rotate, flip, flop, auto_orient ---- */

static const char *const rotate_args[] = {"degrees", "background", NULL};

static int rotate_parse(image_op *op, const image_args *a, const image_worker *w)
{
    (void)w;
    if (image_args_double(a, "degrees", -360, 360, 1, 0, &op->amount, NULL) < 0)
        return -1;
    return parse_color(op, a, "background", "white");
}

static int rotate_frame(image_run *r, const image_op *op, char *why, size_t whycap)
{
    PixelWand *bg = NewPixelWand();
    int rc = 0;
    if (bg == NULL || !PixelSetColor(bg, op->color) ||
        !MagickRotateImage(r->wand, bg, op->amount))
        rc = op_failed(r, op, why, whycap);
    DestroyPixelWand(bg);
    MagickSetImagePage(r->wand, 0, 0, 0, 0);
    return rc;
}

static int rotate_apply(image_run *r, const image_op *op, char *why, size_t whycap)
{
    return each_frame(r, op, rotate_frame, why, whycap);
}

static const char *const no_args[] = {NULL};

static int no_parse(image_op *op, const image_args *a, const image_worker *w)
{
    (void)op, (void)a, (void)w;
    return 0;
}

static int flip_frame(image_run *r, const image_op *op, char *why, size_t whycap)
{
    return MagickFlipImage(r->wand) ? 0 : op_failed(r, op, why, whycap);
}

static int flip_apply(image_run *r, const image_op *op, char *why, size_t whycap)
{
    return each_frame(r, op, flip_frame, why, whycap);
}

static int flop_frame(image_run *r, const image_op *op, char *why, size_t whycap)
{
    return MagickFlopImage(r->wand) ? 0 : op_failed(r, op, why, whycap);
}

static int flop_apply(image_run *r, const image_op *op, char *why, size_t whycap)
{
    return each_frame(r, op, flop_frame, why, whycap);
}

static int auto_orient_frame(image_run *r, const image_op *op, char *why, size_t whycap)
{
    return MagickAutoOrientImage(r->wand) ? 0 : op_failed(r, op, why, whycap);
}

static int auto_orient_apply(image_run *r, const image_op *op, char *why, size_t whycap)
{
    return each_frame(r, op, auto_orient_frame, why, whycap);
}

/* ---- strip, quality, format ---- */

static int strip_frame(image_run *r, const image_op *op, char *why, size_t whycap)
{
    return MagickStripImage(r->wand) ? 0 : op_failed(r, op, why, whycap);
}

static int strip_apply(image_run *r, const image_op *op, char *why, size_t whycap)
{
    return each_frame(r, op, strip_frame, why, whycap);
}

static const char *const value_args[] = {"value", NULL};

static int quality_parse(image_op *op, const image_args *a, const image_worker *w)
{
    (void)w;
    long q;
    if (image_args_long(a, "value", 1, 100, 1, 0, &q, NULL) < 0)
        return -1;
    op->amount = (double)q;
    return 0;
}

static int quality_apply(image_run *r, const image_op *op, char *why, size_t whycap)
{
    (void)why, (void)whycap;
    r->quality = (long)op->amount;
    return 0;
}

/* The output format; image_output_plan() checks it against the name. */
static int format_parse(image_op *op, const image_args *a, const image_worker *w)
{
    char name[32];
    if (image_args_string(a, "value", 1, NULL, name, sizeof name) < 0)
        return -1;
    op->format = image_format_by_name(name);
    if (op->format == IMAGE_FMT_UNKNOWN || !(w->writable & (1u << op->format))) {
        char list[128] = "";
        size_t o = 0;
        for (int f = 1; f < IMAGE_FMT_COUNT && o < sizeof list; f++)
            if (w->writable & (1u << f)) {
                int n = snprintf(list + o, sizeof list - o, "%s%s", o ? ", " : "",
                                 image_format_get((image_format)f)->name);
                if (n < 0)
                    break;
                o += (size_t)n;
            }
        snprintf(a->why, a->whycap, "%s: value \"%s\" is not an output format this worker writes (%s)",
                 a->where, name, list);
        return -1;
    }
    return 0;
}

static int nothing_apply(image_run *r, const image_op *op, char *why, size_t whycap)
{
    (void)r, (void)op, (void)why, (void)whycap;
    return 0;
}

/* ---- blur, sharpen, grayscale ---- */

static const char *const sigma_args[] = {"sigma", "radius", NULL};

static int blur_parse(image_op *op, const image_args *a, const image_worker *w)
{
    (void)w;
    if (image_args_double(a, "sigma", 0.1, 100, 1, 0, &op->amount, NULL) < 0)
        return -1;
    return image_args_double(a, "radius", 0, 300, 0, 0, &op->radius, NULL);
}

static int blur_frame(image_run *r, const image_op *op, char *why, size_t whycap)
{
    return MagickBlurImage(r->wand, op->radius, op->amount) ? 0 : op_failed(r, op, why, whycap);
}

static int blur_apply(image_run *r, const image_op *op, char *why, size_t whycap)
{
    return each_frame(r, op, blur_frame, why, whycap);
}

static int sharpen_parse(image_op *op, const image_args *a, const image_worker *w)
{
    (void)w;
    if (image_args_double(a, "sigma", 0.1, 20, 1, 0, &op->amount, NULL) < 0)
        return -1;
    return image_args_double(a, "radius", 0, 60, 0, 0, &op->radius, NULL);
}

static int sharpen_frame(image_run *r, const image_op *op, char *why, size_t whycap)
{
    return MagickSharpenImage(r->wand, op->radius, op->amount) ? 0
                                                               : op_failed(r, op, why, whycap);
}

static int sharpen_apply(image_run *r, const image_op *op, char *why, size_t whycap)
{
    return each_frame(r, op, sharpen_frame, why, whycap);
}

static int grayscale_frame(image_run *r, const image_op *op, char *why, size_t whycap)
{
    return MagickTransformImageColorspace(r->wand, GRAYColorspace) ? 0
                                                                   : op_failed(r, op, why, whycap);
}

static int grayscale_apply(image_run *r, const image_op *op, char *why, size_t whycap)
{
    return each_frame(r, op, grayscale_frame, why, whycap);
}

/* ---- watermark ---- */

static const char *const watermark_args[] = {"image", "gravity", "opacity", "margin", NULL};

static int watermark_parse(image_op *op, const image_args *a, const image_worker *w)
{
    (void)w;
    char why[256];
    if (image_args_string(a, "image", 1, NULL, op->path, sizeof op->path) < 0)
        return -1;
    if (confine_path_check(op->path, strlen(op->path), why, sizeof why) < 0) {
        snprintf(a->why, a->whycap, "%s: image \"%.100s\": %s", a->where, op->path, why);
        return -1;
    }
    long margin;
    if (image_args_choice(a, "gravity", image_gravity_names, 0, IMAGE_GRAVITY_SOUTHEAST,
                          &op->gravity) < 0 ||
        image_args_double(a, "opacity", 0, 1, 0, 0.5, &op->amount, NULL) < 0 ||
        image_args_long(a, "margin", 0, 10000, 0, 10, &margin, NULL) < 0)
        return -1;
    op->x = margin;
    return 0;
}

/* The watermark is read from input_dir like the input (same checks), made
 * translucent once, then laid over every frame. */
static int watermark_apply(image_run *r, const image_op *op, char *why, size_t whycap)
{
    image_blob blob = {0};
    image_sniff sniff;
    char role[64];
    int rc = -1;
    MagickWand *mark = NULL;
    snprintf(role, sizeof role, "ops[%d] (watermark): image", op->index);
    if (image_read_input(r, op->path, role, &blob, &sniff, why, whycap) < 0)
        goto out;
    if ((mark = image_run_new_wand(r)) == NULL) {
        snprintf(why, whycap, "out of memory");
        goto out;
    }
    if (image_magick_decode(r, mark, blob.data, blob.len, &sniff, 0, 0, role, why, whycap) < 0)
        goto out;
    MagickSetFirstIterator(mark);
    if (!MagickSetImageAlphaChannel(mark, SetAlphaChannel) ||
        !MagickEvaluateImageChannel(mark, AlphaChannel, MultiplyEvaluateOperator, op->amount)) {
        image_magick_error(r, mark, role, "cannot make it translucent", why, whycap);
        goto out;
    }
    long mw = (long)MagickGetImageWidth(mark), mh = (long)MagickGetImageHeight(mark);
    MagickResetIterator(r->wand);
    while (MagickNextImage(r->wand) != MagickFalse) {
        long x, y;
        image_gravity_place((image_gravity)op->gravity, (long)MagickGetImageWidth(r->wand),
                            (long)MagickGetImageHeight(r->wand), mw, mh, op->x, &x, &y);
        if (!MagickCompositeImage(r->wand, mark, OverCompositeOp, x, y)) {
            op_failed(r, op, why, whycap);
            goto out;
        }
    }
    rc = 0;
out:
    if (mark)
        DestroyMagickWand(mark);
    image_blob_release(&blob);
    return rc;
}

/* ---- the table ---- */

static const image_op_spec op_table[] = {
    {"resize", resize_args, resize_parse, resize_apply, resize_decode_scale, 0},
    {"thumbnail", thumbnail_args, thumbnail_parse, thumbnail_apply, thumbnail_decode_scale, 0},
    {"crop", crop_args, crop_parse, crop_apply, NULL, 0},
    {"extent", extent_args, extent_parse, extent_apply, NULL, 0},
    {"rotate", rotate_args, rotate_parse, rotate_apply, NULL, 0},
    {"flip", no_args, no_parse, flip_apply, NULL, IMAGE_OP_SIZE_NEUTRAL},
    {"flop", no_args, no_parse, flop_apply, NULL, IMAGE_OP_SIZE_NEUTRAL},
    {"auto_orient", no_args, no_parse, auto_orient_apply, NULL, IMAGE_OP_SIZE_NEUTRAL},
    {"strip", no_args, no_parse, strip_apply, NULL, IMAGE_OP_SIZE_NEUTRAL},
    {"quality", value_args, quality_parse, quality_apply, NULL, IMAGE_OP_SIZE_NEUTRAL},
    {"format", value_args, format_parse, nothing_apply, NULL, IMAGE_OP_SIZE_NEUTRAL},
    {"blur", sigma_args, blur_parse, blur_apply, NULL, 0},
    {"sharpen", sigma_args, sharpen_parse, sharpen_apply, NULL, 0},
    {"grayscale", no_args, no_parse, grayscale_apply, NULL, IMAGE_OP_SIZE_NEUTRAL},
    {"watermark", watermark_args, watermark_parse, watermark_apply, NULL, 0},
};

#define NOPS (sizeof op_table / sizeof op_table[0])

const image_op_spec *image_op_find(const char *name)
{
    for (size_t i = 0; i < NOPS; i++)
        if (strcmp(op_table[i].name, name) == 0)
            return &op_table[i];
    return NULL;
}

const char *image_op_names(void)
{
    static char names[256];
    if (names[0] == '\0') {
        size_t o = 0;
        for (size_t i = 0; i < NOPS && o < sizeof names; i++) {
            int n = snprintf(names + o, sizeof names - o, "%s%s", i ? ", " : "", op_table[i].name);
            if (n < 0)
                break;
            o += (size_t)n;
        }
    }
    return names;
}

int image_ops_parse(const json_t *list, const image_worker *w, image_op *ops, char *why,
                    size_t whycap)
{
    if (list == NULL)
        return 0;
    if (!json_is_array(list)) {
        snprintf(why, whycap, "ops must be a list of {\"op\": name, ...} objects");
        return -1;
    }
    if (json_array_size(list) > IMAGE_OPS_MAX) {
        snprintf(why, whycap, "ops has %zu entries, more than %d", json_array_size(list),
                 IMAGE_OPS_MAX);
        return -1;
    }
    for (size_t i = 0; i < json_array_size(list); i++) {
        const json_t *obj = json_array_get(list, i);
        const json_t *name = json_object_get(obj, "op");
        if (!json_is_object(obj) || !json_is_string(name)) {
            snprintf(why, whycap, "ops[%zu] must be an object with a string \"op\"", i);
            return -1;
        }
        const image_op_spec *spec = image_op_find(json_string_value(name));
        if (spec == NULL) {
            snprintf(why, whycap, "ops[%zu]: unknown op \"%.40s\" (known: %s)", i,
                     json_string_value(name), image_op_names());
            return -1;
        }
        image_op *op = &ops[i];
        memset(op, 0, sizeof *op);
        op->spec = spec;
        op->index = (int)i;
        char where[64];
        image_args a;
        snprintf(where, sizeof where, "ops[%zu] (%s)", i, spec->name);
        image_args_init(&a, obj, where, why, whycap);
        if (image_args_known(&a, spec->args) < 0 || spec->parse(op, &a, w) < 0)
            return -1;
    }
    return (int)json_array_size(list);
}

double image_ops_decode_scale(const image_op *ops, int n, double w, double h)
{
    if (w < 1 || h < 1)
        return 1;
    for (int i = 0; i < n; i++) {
        if (ops[i].spec->decode_scale != NULL)
            return ops[i].spec->decode_scale(&ops[i], w, h);
        if (!(ops[i].spec->flags & IMAGE_OP_SIZE_NEUTRAL))
            return 1;
    }
    return 1;
}
