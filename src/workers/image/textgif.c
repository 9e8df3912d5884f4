/* textgif.c - the talk's demo job: animated "psychedelic" text.
 *
 *   {"op_set": "text_gif", "text": "Hello", "output": "gifs/<id>.gif"}
 *   optional: "pointsize" (12-200, default 72)
 *
 * The text is drawn 25 times, from a wide stroke down to a thin one, each
 * layer in its own hue; from one of the 20 frames to the next the hues turn
 * by 1/20 of the colour wheel, so the loop is seamless. The GIF loops
 * forever and is layer-optimised when written (magick.c).
 *
 * Drawing 25 stroked texts costs ~20 ms each, and quantizing 20 rich frames
 * for GIF ~130 MiB and seconds. The layers never move, only their colours
 * do, so they are drawn once, in grey levels, into an index image (level i
 * = layer i; anti-aliased edges fall between two neighbouring levels); that
 * image is reduced to a palette, and each frame is a copy whose palette
 * maps the levels to that frame's hues. The picture is the one drawing the
 * text 25 times per frame would give; every frame is already a palette
 * image, so the GIF encoder has nothing to quantize.
 *
 * Progress reports "layer N/25" while drawing, then "frame N/20". The font
 * is image.font (DejaVu Sans Bold by default).
 */
#include "image.h"

#include "args.h"
#include "num.h"

#include <stdio.h>
#include <string.h>

#define FRAMES 20
#define LAYERS 25
#define FRAME_DELAY_CS 6  /* 1/100 s per frame: the loop lasts 1.2 s */
#define TEXT_MAX 40       /* characters */
#define AREA_MAX 4000000L /* pixels per frame */

static DrawingWand *new_pen(const image_worker *w, double pointsize)
{
    DrawingWand *dw = NewDrawingWand();
    if (dw == NULL)
        return NULL;
    DrawSetFont(dw, w->cfg->image_font);
    DrawSetFontSize(dw, pointsize);
    DrawSetGravity(dw, CenterGravity);
    DrawSetTextAntialias(dw, MagickTrue);
    DrawSetStrokeAntialias(dw, MagickTrue);
    return dw;
}

/* HSL (hue in degrees, s and l in 0-1) to RGB in 0-1. */
static void hsl_to_rgb(double h, double s, double l, double rgb[3])
{
    h -= 360 * image_floor(h / 360);
    double c = (1 - (2 * l - 1 < 0 ? 1 - 2 * l : 2 * l - 1)) * s;
    double hp = h / 60, mod2 = hp - 2 * image_floor(hp / 2);
    double x = c * (1 - (mod2 - 1 < 0 ? 1 - mod2 : mod2 - 1)), m = l - c / 2;
    double r = 0, g = 0, b = 0;
    if (hp < 1)
        r = c, g = x;
    else if (hp < 2)
        r = x, g = c;
    else if (hp < 3)
        g = c, b = x;
    else if (hp < 4)
        g = x, b = c;
    else if (hp < 5)
        r = x, b = c;
    else
        r = c, b = x;
    rgb[0] = r + m;
    rgb[1] = g + m;
    rgb[2] = b + m;
}

/* The colour of level `level` (0 = background, 1..LAYERS = layers) in frame f. */
static void level_color(int level, int f, double rgb[3])
{
    if (level <= 0) {
        rgb[0] = rgb[1] = rgb[2] = 0;
        return;
    }
    if (level > LAYERS)
        level = LAYERS;
    hsl_to_rgb((level - 1) * 36.0 + f * (360.0 / FRAMES), 1.0, level == LAYERS ? 0.9 : 0.5, rgb);
}

/* The layers into an index image, each in its grey level. */
static int draw_layers(image_run *r, MagickWand *index, DrawingWand *dw, PixelWand *pen,
                       const char *text, double stroke_max)
{
    for (int i = 0; i < LAYERS; i++) {
        char msg[32];
        snprintf(msg, sizeof msg, "layer %d/%d", i + 1, LAYERS);
        image_run_stage(r, i * 70 / LAYERS, (i + 1) * 70 / LAYERS, msg);
        double g = (double)(i + 1) / (LAYERS + 1);
        PixelSetRed(pen, g);
        PixelSetGreen(pen, g);
        PixelSetBlue(pen, g);
        DrawSetStrokeColor(dw, pen);
        DrawSetFillColor(dw, pen);
        DrawSetStrokeWidth(dw, stroke_max * (LAYERS - i) / LAYERS);
        if (!MagickAnnotateImage(index, dw, 0, 0, 0, text))
            return -1;
    }
    return 0;
}

/* Frame f: a copy of the index image with the palette of frame f. The
 * palette is written into the image's colormap directly and synced once
 * (MagickSetImageColormapColor would sync the whole image per entry). */
static MagickWand *make_frame(MagickWand *index, const double *levels, size_t ncolors, int f)
{
    MagickWand *frame = CloneMagickWand(index);
    if (frame == NULL)
        return NULL;
    MagickSetImageColorspace(frame, sRGBColorspace);
    Image *img = GetImageFromMagickWand(frame);
    if (img == NULL || img->colormap == NULL || img->colors < ncolors) {
        DestroyMagickWand(frame);
        return NULL;
    }
    for (size_t k = 0; k < ncolors; k++) {
        double v = levels[k] * (LAYERS + 1), lo_rgb[3], hi_rgb[3];
        int lo = (int)image_floor(v);
        double t = v - lo;
        level_color(lo, f, lo_rgb);
        level_color(lo + 1, f, hi_rgb);
        img->colormap[k].red = (Quantum)((lo_rgb[0] * (1 - t) + hi_rgb[0] * t) * QuantumRange + 0.5);
        img->colormap[k].green = (Quantum)((lo_rgb[1] * (1 - t) + hi_rgb[1] * t) * QuantumRange + 0.5);
        img->colormap[k].blue = (Quantum)((lo_rgb[2] * (1 - t) + hi_rgb[2] * t) * QuantumRange + 0.5);
    }
    SyncImage(img);
    MagickSetImageDelay(frame, FRAME_DELAY_CS);
    MagickSetImageDispose(frame, NoneDispose);
    return frame;
}

int image_text_gif_warm(const image_worker *w)
{
    MagickWand *wand = NewMagickWand();
    PixelWand *bg = NewPixelWand();
    DrawingWand *dw = new_pen(w, 12);
    int rc = -1;
    if (wand && bg && dw && PixelSetColor(bg, "black") && MagickNewImage(wand, 32, 16, bg) &&
        MagickAnnotateImage(wand, dw, 0, 0, 0, "Ag"))
        rc = 0;
    if (dw)
        DestroyDrawingWand(dw);
    if (bg)
        DestroyPixelWand(bg);
    if (wand)
        DestroyMagickWand(wand);
    return rc;
}

drudge_outcome image_text_gif_run(image_worker *w, drudge_ctx *ctx, const drudge_job *job)
{
    char why[IMAGE_WHY_MAX] = "", text[4 * TEXT_MAX + 1], output[1100];
    image_args a;
    double pointsize;
    image_format format;
    image_run r;
    DrawingWand *dw = NULL;
    PixelWand *bg = NULL, *pen = NULL;
    MagickWand *frame = NULL, *index = NULL;
    drudge_outcome o = DRUDGE_FAIL;

    image_args_init(&a, job->json, "text_gif", why, sizeof why);
    if (image_args_string(&a, "text", 1, NULL, text, sizeof text) < 0 ||
        image_args_string(&a, "output", 1, NULL, output, sizeof output) < 0 ||
        image_args_double(&a, "pointsize", 12, 200, 0, 72, &pointsize, NULL) < 0)
        return drudge_ctx_error(ctx, DRUDGE_FAIL, "%s", why);
    size_t chars = 0;
    for (const char *p = text; *p; p++)
        chars += ((unsigned char)*p & 0xC0) != 0x80;
    if (chars > TEXT_MAX)
        return drudge_ctx_error(ctx, DRUDGE_FAIL, "text_gif: text has %zu characters, at most %d",
                                chars, TEXT_MAX);
    /* ImageMagick reads "@file" as the contents of a file; the policy
     * forbids it too, but say so plainly */
    if (text[0] == '@')
        return drudge_ctx_error(ctx, DRUDGE_FAIL, "text_gif: text must not start with \"@\"");
    if (image_output_plan(w, output, IMAGE_FMT_UNKNOWN, &format, why, sizeof why) < 0)
        return drudge_ctx_error(ctx, DRUDGE_FAIL, "%s", why);
    if (!(image_format_get(format)->flags & IMAGE_FMT_F_ANIMATED))
        return drudge_ctx_error(ctx, DRUDGE_FAIL,
                                "text_gif: output \"%.200s\" must be an animation (.gif or .webp)",
                                output);

    if (image_run_begin(&r, w, ctx, why, sizeof why) < 0) {
        o = DRUDGE_RETRY;
        goto out;
    }
    dw = new_pen(w, pointsize);
    bg = NewPixelWand();
    pen = NewPixelWand();
    frame = image_run_new_wand(&r);
    if (dw == NULL || bg == NULL || pen == NULL || frame == NULL || !PixelSetColor(bg, "black") ||
        !MagickNewImage(frame, 1, 1, bg)) {
        snprintf(why, sizeof why, "text_gif: out of memory");
        goto out;
    }
    double *m = MagickQueryFontMetrics(frame, dw, text);
    if (m == NULL) {
        image_magick_error(&r, frame, "text_gif", "cannot measure the text with image.font", why,
                           sizeof why);
        goto out;
    }
    double stroke_max = pointsize * 0.6, text_w = m[4], text_h = m[5];
    MagickRelinquishMemory(m);
    long pad = (long)image_ceil(stroke_max / 2 + pointsize * 0.15);
    long width = (long)image_ceil(text_w) + 2 * pad, height = (long)image_ceil(text_h) + 2 * pad;
    if (width * height > AREA_MAX) {
        snprintf(why, sizeof why,
                 "text_gif: %ldx%ld pixels per frame, more than %ld: use less text or a smaller "
                 "pointsize",
                 width, height, AREA_MAX);
        goto out;
    }
    DestroyMagickWand(frame); /* the 1x1 image used for measuring */
    frame = NULL;
    if ((index = image_run_new_wand(&r)) == NULL ||
        !MagickNewImage(index, (size_t)width, (size_t)height, bg)) {
        image_magick_error(&r, index, "text_gif", "out of memory", why, sizeof why);
        goto out;
    }
    if (draw_layers(&r, index, dw, pen, text, stroke_max) < 0) {
        image_magick_error(&r, index, "text_gif", "drawing the text failed", why, sizeof why);
        goto out;
    }
    /* a palette of the grey levels drawn (anti-aliasing adds in-betweens) */
    if (!MagickQuantizeImage(index, 256, GRAYColorspace, 0, MagickFalse, MagickFalse)) {
        image_magick_error(&r, index, "text_gif", "cannot reduce the layers to a palette", why,
                           sizeof why);
        goto out;
    }
    size_t ncolors = MagickGetImageColors(index);
    double levels[256];
    if (ncolors == 0 || ncolors > 256) {
        snprintf(why, sizeof why, "text_gif: unexpected palette of %zu colours", ncolors);
        goto out;
    }
    for (size_t k = 0; k < ncolors; k++) {
        MagickGetImageColormapColor(index, k, pen);
        levels[k] = PixelGetRed(pen);
    }
    for (int f = 0; f < FRAMES; f++) {
        char msg[32];
        snprintf(msg, sizeof msg, "frame %d/%d", f + 1, FRAMES);
        image_run_stage(&r, 70 + f * 20 / FRAMES, 70 + (f + 1) * 20 / FRAMES, msg);
        if ((frame = make_frame(index, levels, ncolors, f)) == NULL ||
            !MagickAddImage(r.wand, frame)) {
            image_magick_error(&r, frame ? r.wand : index, "text_gif", "out of memory", why,
                               sizeof why);
            goto out;
        }
        DestroyMagickWand(frame);
        frame = NULL;
        if (r.aborted) {
            image_magick_error(&r, r.wand, "text_gif", "stopped", why, sizeof why);
            goto out;
        }
    }
    MagickSetFirstIterator(r.wand);
    MagickSetImageIterations(r.wand, 0); /* loop forever */
    if (image_write_output(&r, output, format, NULL, why, sizeof why) < 0)
        goto out;
    o = DRUDGE_DONE;
out:
    if (frame)
        DestroyMagickWand(frame);
    if (index)
        DestroyMagickWand(index);
    if (dw)
        DestroyDrawingWand(dw);
    if (bg)
        DestroyPixelWand(bg);
    if (pen)
        DestroyPixelWand(pen);
    image_run_end(&r);
    if (o == DRUDGE_DONE)
        return o;
    return drudge_ctx_error(ctx, o, "%s", why[0] ? why : "text_gif failed");
}
