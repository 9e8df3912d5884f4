/* magick.c - drudge-image's MagickWand glue: ImageMagick started with our
 * policy applied in-process and the resource limits from the config, the
 * formats it can read and write, a warm-up before any sandbox, decoding
 * from memory with the coder forced (never a user string as a file name),
 * encoding, the progress monitor, per-job temp directories and error
 * messages that say something even when ImageMagick does not.
 *
 * Measured on ImageMagick 6.9.11 (Debian 12), and why this file is shaped so:
 * a `text:/etc/passwd` style name makes MagickPing abort the process, so
 * files are read by job.c and handed over as blobs with the format set;
 * Debian's /etc policy is read last and its last matching entry wins, so the
 * policy goes in with SetMagickSecurityPolicy and the limits with
 * MagickSetResourceLimit; failures leave magick-* temp files behind, so each
 * job gets its own MAGICK_TEMPORARY_PATH, removed afterwards; only
 * MagickSetOption(wand, "jpeg:size") makes the JPEG decoder shrink, and a
 * hint larger than the image makes it decode bigger, so the hint is never
 * larger than the image; a pixel flood fails with an empty message. */
#include "image.h"

#include "tmpdir.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MIB (1024ULL * 1024ULL)

static int started;

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ImageMagick calls this instead of exit() on a fatal error (say memory
 * it could not get). In a forked job the runtime then reports the
 * child's exit; say why in the log first. */
static void fatal_handler(const ExceptionType type, const char *reason, const char *description)
{
    drudge_log(DRUDGE_LOG_ERROR, "magick_fatal", "severity=%d reason=%s description=%s", (int)type,
               reason ? reason : "", description ? description : "");
    _exit(70);
}

/* The text of ImageMagick's message without its source location
 * (" @ error/png.c/ReadPNGImage/4110") and the empty file name quotes
 * (" `'") blobs produce. */
static void clean_message(const char *in, char *out, size_t cap)
{
    snprintf(out, cap, "%s", in ? in : "");
    char *at = strstr(out, " @ ");
    if (at)
        *at = '\0';
    char *q;
    while ((q = strstr(out, " `'")) != NULL)
        memmove(q, q + 3, strlen(q + 3) + 1);
    size_t n = strlen(out);
    while (n > 0 && (out[n - 1] == ' ' || out[n - 1] == '.' || out[n - 1] == '\''))
        out[--n] = '\0';
    for (char *p = out; *p; p++)
        if (*p == '\n' || *p == '\r' || *p == '\t')
            *p = ' ';
}

int image_magick_error(image_run *r, MagickWand *wand, const char *doing, const char *fallback,
                       char *why, size_t whycap)
{
    if (r != NULL && r->aborted) {
        snprintf(why, whycap, "%s: %s", doing, r->abort_why);
        return -1;
    }
    ExceptionType severity = UndefinedException;
    char *desc = wand ? MagickGetException(wand, &severity) : NULL;
    char msg[300];
    clean_message(desc, msg, sizeof msg);
    if (desc)
        MagickRelinquishMemory(desc);
    if (wand)
        MagickClearException(wand);
    snprintf(why, whycap, "%s: %s", doing, msg[0] ? msg : fallback);
    return -1;
}

/* ---- start-up ---- */

static int set_limit(ResourceType type, const char *name, MagickSizeType want, char *why,
                     size_t whycap)
{
    if (MagickSetResourceLimit(type, want) == MagickFalse) {
        snprintf(why, whycap, "cannot set the ImageMagick %s limit", name);
        return -1;
    }
    MagickSizeType got = MagickGetResourceLimit(type);
    if (got < want)
        drudge_log(DRUDGE_LOG_WARN, "image_limit_capped",
                   "resource=%s wanted=%llu applied=%llu reason=%s", name,
                   (unsigned long long)want, (unsigned long long)got,
                   "the system ImageMagick policy allows less");
    return 0;
}

/* No ImageMagick time limit: it counts from the first pixel cache of the
 * process (the warm-up in the parent, inherited by every child) and ends it
 * with exit(). image.limits.time is enforced per job by the progress
 * monitor instead, with RLIMIT_CPU and the class timeout behind it. */
static int apply_limits(const drudge_config *cfg, char *why, size_t whycap)
{
    if (set_limit(WidthResource, "width", (MagickSizeType)cfg->image_limit_width, why, whycap) < 0 ||
        set_limit(HeightResource, "height", (MagickSizeType)cfg->image_limit_height, why, whycap) <
            0 ||
        set_limit(AreaResource, "area", (MagickSizeType)cfg->image_limit_area, why, whycap) < 0 ||
        set_limit(MemoryResource, "memory", (MagickSizeType)cfg->image_limit_memory * MIB, why,
                  whycap) < 0 ||
        set_limit(MapResource, "map", (MagickSizeType)cfg->image_limit_map * MIB, why, whycap) < 0 ||
        set_limit(DiskResource, "disk", (MagickSizeType)cfg->image_limit_disk * MIB, why, whycap) <
            0 ||
        set_limit(ListLengthResource, "list-length", (MagickSizeType)cfg->image_limit_list_length,
                  why, whycap) < 0)
        return -1;
    /* one thread until a job starts: OpenMP threads made here would not
     * survive the fork of a job child */
    MagickSetResourceLimit(ThreadResource, 1);
    return 0;
}

/* Which formats ImageMagick can decode and encode (its build decides AVIF
 * and HEIC), and which of the decodable ones the config allows. */
static int probe_formats(image_worker *w, char *why, size_t whycap)
{
    ExceptionInfo *e = AcquireExceptionInfo();
    unsigned decodable = 0;
    for (int f = 1; f < IMAGE_FMT_COUNT; f++) {
        const image_format_info *fi = image_format_get((image_format)f);
        if (!(fi->flags & IMAGE_FMT_F_IMAGE))
            continue;
        const MagickInfo *mi = GetMagickInfo(fi->magick, e);
        if (mi == NULL || !IsRightsAuthorized(CoderPolicyDomain, ReadPolicyRights, fi->magick))
            continue;
        if (GetImageDecoder(mi) != NULL)
            decodable |= 1u << f;
        if (GetImageEncoder(mi) != NULL &&
            IsRightsAuthorized(CoderPolicyDomain, WritePolicyRights, fi->magick))
            w->writable |= 1u << f;
    }
    DestroyExceptionInfo(e);
    w->readable = 0;
    for (size_t i = 0; i < w->cfg->image_nallowed_formats; i++) {
        const char *name = w->cfg->image_allowed_formats[i];
        image_format f = image_format_by_name(name);
        if (f == IMAGE_FMT_UNKNOWN) {
            snprintf(why, whycap,
                     "image.allowed_formats: unknown format \"%.40s\" (drudge-image reads jpeg, "
                     "png, gif, webp, avif and heic)",
                     name);
            return -1;
        }
        if (!(decodable & (1u << f))) {
            snprintf(why, whycap,
                     "image.allowed_formats: this ImageMagick cannot read \"%.40s\" (no coder)",
                     name);
            return -1;
        }
        w->readable |= 1u << f;
    }
    return 0;
}

/* Round-trip a tiny image through every format that can be both written
 * and read, so coders and their libraries are loaded now, before the job
 * children are sandboxed. */
static int warm_up(image_worker *w, char *why, size_t whycap)
{
    MagickWand *wand = NewMagickWand();
    PixelWand *px = NewPixelWand();
    int rc = -1;
    if (wand == NULL || px == NULL || !PixelSetColor(px, "rgb(200,30,60)") ||
        !MagickNewImage(wand, 16, 16, px)) {
        snprintf(why, whycap, "ImageMagick warm-up: cannot create an image");
        goto out;
    }
    MagickResizeImage(wand, 8, 8, UndefinedFilter, 1.0);
    for (int f = 1; f < IMAGE_FMT_COUNT; f++) {
        if (!(w->writable & (1u << f)))
            continue;
        const image_format_info *fi = image_format_get((image_format)f);
        size_t len = 0;
        MagickSetImageFormat(wand, fi->magick);
        unsigned char *blob = MagickGetImageBlob(wand, &len);
        if (blob == NULL) {
            drudge_log(DRUDGE_LOG_WARN, "image_format_unusable", "format=%s reason=%s", fi->name,
                       "encoding a test image failed");
            w->writable &= ~(1u << f);
            MagickClearException(wand);
            continue;
        }
        MagickWand *back = NewMagickWand();
        if (back == NULL || !MagickSetFormat(back, fi->magick) ||
            !MagickReadImageBlob(back, blob, len))
            drudge_log(DRUDGE_LOG_WARN, "image_format_unusable", "format=%s reason=%s", fi->name,
                       "decoding a test image failed");
        if (back)
            DestroyMagickWand(back);
        MagickRelinquishMemory(blob);
    }
    /* one failure too: ImageMagick loads its message texts (locale XML) on
     * the first error, which a sandboxed child could no longer read */
    MagickWand *bad = NewMagickWand();
    if (bad != NULL) {
        static const unsigned char junk[] = "GIF89a\x01\x00\x01\x00\x80junk";
        MagickSetFormat(bad, "GIF");
        MagickReadImageBlob(bad, junk, sizeof junk - 1);
        ExceptionType severity;
        char *msg = MagickGetException(bad, &severity);
        if (msg)
            MagickRelinquishMemory(msg);
        DestroyMagickWand(bad);
    }
    rc = 0;
out:
    if (px)
        DestroyPixelWand(px);
    if (wand)
        DestroyMagickWand(wand);
    return rc;
}

/* Fail closed: the coders behind ImageTragick and friends must be refused
 * now, whatever policy files this system has. */
static int check_policy(char *why, size_t whycap)
{
    static const char *const refused[] = {"SVG",  "MVG",       "MSL",  "TEXT", "TXT",  "EPHEMERAL",
                                          "URL",  "HTTPS",     "HTTP", "PS",   "EPS",  "PDF",
                                          "XPS",  "LABEL",     "CAPTION", "INFO", "MIFF", "MPC",
                                          "SHOW", "WIN",       "X",    "FD",   NULL};
    for (size_t i = 0; refused[i] != NULL; i++) {
        if (IsRightsAuthorized(CoderPolicyDomain, ReadPolicyRights, refused[i]) ||
            IsRightsAuthorized(CoderPolicyDomain, WritePolicyRights, refused[i])) {
            snprintf(why, whycap,
                     "the ImageMagick policy did not take effect: coder %s is still allowed",
                     refused[i]);
            return -1;
        }
    }
    if (IsRightsAuthorized(PathPolicyDomain, ReadPolicyRights, "@/etc/passwd") ||
        IsRightsAuthorized(DelegatePolicyDomain, ExecutePolicyRights, "mpeg:decode")) {
        snprintf(why, whycap,
                 "the ImageMagick policy did not take effect: indirect reads or delegates allowed");
        return -1;
    }
    return 0;
}

int image_magick_start(image_worker *w, char *why, size_t whycap)
{
    MagickWandGenesis();
    started = 1;
    SetFatalErrorHandler(fatal_handler);
    ExceptionInfo *e = AcquireExceptionInfo();
    MagickBooleanType ok = SetMagickSecurityPolicy(image_policy_xml, e);
    if (!ok) {
        char msg[200];
        clean_message(e->reason, msg, sizeof msg);
        snprintf(why, whycap, "cannot apply the built-in ImageMagick policy%s%s",
                 msg[0] ? ": " : "", msg);
        DestroyExceptionInfo(e);
        return -1;
    }
    DestroyExceptionInfo(e);
    if (check_policy(why, whycap) < 0 || apply_limits(w->cfg, why, whycap) < 0 ||
        probe_formats(w, why, whycap) < 0 ||
        warm_up(w, why, whycap) < 0)
        return -1;
    if (image_text_gif_warm(w) < 0)
        drudge_log(DRUDGE_LOG_WARN, "image_font_unusable", "font=%s reason=%s", w->cfg->image_font,
                   "drawing test text failed: text_gif jobs will fail");
    return 0;
}

void image_magick_stop(void)
{
    if (started)
        MagickWandTerminus();
    started = 0;
}

void image_magick_print_version(void)
{
    size_t n;
    if (!started)
        MagickWandGenesis();
    printf("%s\n", GetMagickVersion(&n));
    ExceptionInfo *e = AcquireExceptionInfo();
    char rd[128] = "", wr[128] = "";
    size_t ro = 0, wo = 0;
    for (int f = 1; f < IMAGE_FMT_COUNT; f++) {
        const image_format_info *fi = image_format_get((image_format)f);
        if (!(fi->flags & IMAGE_FMT_F_IMAGE))
            continue;
        const MagickInfo *mi = GetMagickInfo(fi->magick, e);
        if (mi != NULL && GetImageDecoder(mi) != NULL && ro < sizeof rd) {
            int k = snprintf(rd + ro, sizeof rd - ro, "%s%s", ro ? " " : "", fi->name);
            ro += k > 0 ? (size_t)k : 0;
        }
        if (mi != NULL && GetImageEncoder(mi) != NULL && wo < sizeof wr) {
            int k = snprintf(wr + wo, sizeof wr - wo, "%s%s", wo ? " " : "", fi->name);
            wo += k > 0 ? (size_t)k : 0;
        }
    }
    DestroyExceptionInfo(e);
    printf("formats: read %s (those in image.allowed_formats); write %s\n", rd, wr);
    if (!started)
        MagickWandTerminus();
}

void image_magick_job_limits(const image_worker *w)
{
    MagickSetResourceLimit(ThreadResource, (MagickSizeType)w->cfg->image_threads);
}

/* ---- one job ---- */

/* Called by ImageMagick as it works (rows decoded, resized, ...): turns its
 * offset/span into the job's progress, and stops the work past the time
 * limit or once the job was cancelled. */
static MagickBooleanType monitor(const char *text, const MagickOffsetType offset,
                                 const MagickSizeType span, void *client)
{
    (void)text;
    image_run *r = client;
    if (r->aborted)
        return MagickFalse;
    int64_t now = mono_ms();
    if (now > r->deadline_ms) {
        r->aborted = 1;
        snprintf(r->abort_why, sizeof r->abort_why,
                 "stopped: over the time limit of %g s (image.limits.time)",
                 r->w->cfg->image_limit_time);
        return MagickFalse;
    }
    if (drudge_ctx_cancelled(r->ctx)) {
        r->aborted = 1;
        snprintf(r->abort_why, sizeof r->abort_why, "stopped: the job was cancelled");
        return MagickFalse;
    }
    double frac = span > 0 ? (double)(offset + 1) / (double)span : 1.0;
    if (frac > 1)
        frac = 1;
    int pct = r->progress_lo + (int)((r->progress_hi - r->progress_lo) * frac);
    if (pct > r->last_percent) {
        r->last_percent = pct;
        drudge_ctx_progress(r->ctx, pct, r->stage);
    }
    return MagickTrue;
}

MagickWand *image_run_new_wand(image_run *r)
{
    MagickWand *wand = NewMagickWand();
    if (wand != NULL)
        MagickSetProgressMonitor(wand, monitor, r);
    return wand;
}

void image_run_stage(image_run *r, int lo, int hi, const char *message)
{
    r->progress_lo = lo;
    r->progress_hi = hi;
    snprintf(r->stage, sizeof r->stage, "%s", message ? message : "");
    if (lo > r->last_percent)
        r->last_percent = lo;
    drudge_ctx_progress(r->ctx, r->last_percent, r->stage);
}

int image_run_begin(image_run *r, image_worker *w, drudge_ctx *ctx, char *why, size_t whycap)
{
    memset(r, 0, sizeof *r);
    r->w = w;
    r->ctx = ctx;
    r->started_ms = mono_ms();
    r->deadline_ms = r->started_ms + (int64_t)(w->cfg->image_limit_time * 1000);
    r->last_percent = -1;
    image_magick_job_limits(w);
    w->jobs++;
    if (snprintf(r->tmpdir, sizeof r->tmpdir, "%s/job-%d-%lu", w->temp_root, (int)getpid(),
                 w->jobs) >= (int)sizeof r->tmpdir ||
        mkdir(r->tmpdir, 0700) < 0) {
        snprintf(why, whycap, "cannot create the job's temp directory \"%s\": %s", r->tmpdir,
                 strerror(errno));
        r->tmpdir[0] = '\0';
        return -1;
    }
    /* where ImageMagick puts pixel caches and spill files of this job */
    setenv("MAGICK_TEMPORARY_PATH", r->tmpdir, 1);
    ExceptionInfo *e = AcquireExceptionInfo();
    SetImageRegistry(StringRegistryType, "temporary-path", r->tmpdir, e);
    DestroyExceptionInfo(e);
    if ((r->wand = image_run_new_wand(r)) == NULL) {
        snprintf(why, whycap, "out of memory");
        return -1;
    }
    return 0;
}

void image_run_end(image_run *r)
{
    if (r->wand)
        DestroyMagickWand(r->wand);
    r->wand = NULL;
    if (r->tmpdir[0] && image_remove_tree(r->tmpdir) < 0)
        drudge_log(DRUDGE_LOG_WARN, "image_temp_left", "dir=%s error=%s", r->tmpdir,
                   strerror(errno));
    r->tmpdir[0] = '\0';
}

/* The declared size against the limits, before a decoder sees the file:
 * ImageMagick's own refusal of a pixel flood comes with an empty message. */
static int check_declared(const image_run *r, const image_sniff *s, const char *what, char *why,
                          size_t whycap)
{
    const drudge_config *cfg = r->w->cfg;
    const char *fmt = image_format_get(s->format)->name;
    if ((s->width == 0 || s->height == 0) && s->format != IMAGE_FMT_AVIF &&
        s->format != IMAGE_FMT_HEIC) {
        snprintf(why, whycap, "%s: the %s header is missing or cut short (truncated or corrupt file)",
                 what, fmt);
        return -1;
    }
    if ((long)s->width > cfg->image_limit_width || (long)s->height > cfg->image_limit_height) {
        snprintf(why, whycap,
                 "%s: the %s declares %ux%u pixels, over the limit of %ldx%ld "
                 "(image.limits.width/height)",
                 what, fmt, s->width, s->height, cfg->image_limit_width, cfg->image_limit_height);
        return -1;
    }
    if ((double)s->width * (double)s->height > (double)cfg->image_limit_area) {
        snprintf(why, whycap,
                 "%s: the %s declares %ux%u = %.1f megapixels, over the limit of %.1f "
                 "(image.limits.area)",
                 what, fmt, s->width, s->height, (double)s->width * s->height / 1e6,
                 (double)cfg->image_limit_area / 1e6);
        return -1;
    }
    if ((long)s->frames > cfg->image_limit_list_length) {
        snprintf(why, whycap, "%s: the %s has %u frames, over the limit of %ld (image.limits.list_length)",
                 what, fmt, s->frames, cfg->image_limit_list_length);
        return -1;
    }
    return 0;
}

/* Problems ImageMagick only records as warnings on the decoded image (a
 * truncated JPEG decodes "successfully", grey at the bottom). Corrupt data
 * fails the job; libjpeg's "extraneous bytes" is common in camera files
 * and harmless. */
static int check_decoded(MagickWand *wand, const char *what, char *why, size_t whycap)
{
    Image *img = GetImageFromMagickWand(wand);
    if (img == NULL)
        return 0;
    img = GetFirstImageInList(img);
    ExceptionInfo *e = AcquireExceptionInfo();
    GetImageException(img, e);
    int rc = 0;
    if (e->severity == CorruptImageWarning || e->severity >= ErrorException) {
        char msg[300];
        clean_message(e->reason, msg, sizeof msg);
        if (strstr(msg, "extraneous bytes") == NULL) {
            snprintf(why, whycap, "%s: corrupt or truncated: %s", what, msg[0] ? msg : "bad data");
            rc = -1;
        }
    }
    DestroyExceptionInfo(e);
    return rc;
}

int image_magick_decode(image_run *r, MagickWand *wand, const unsigned char *buf, size_t len,
                        const image_sniff *sniff, unsigned long hint_w, unsigned long hint_h,
                        const char *what, char *why, size_t whycap)
{
    const image_format_info *fi = image_format_get(sniff->format);
    if (check_declared(r, sniff, what, why, whycap) < 0)
        return -1;
    char hint[64];
    if (sniff->format == IMAGE_FMT_JPEG && hint_w > 0 && hint_h > 0) {
        /* never larger than the image in either side: libjpeg would scale up */
        if (hint_w > sniff->width)
            hint_w = sniff->width;
        if (hint_h > sniff->height)
            hint_h = sniff->height;
        snprintf(hint, sizeof hint, "%lux%lu", hint_w, hint_h);
        MagickSetOption(wand, "jpeg:size", hint);
    }
    /* the coder is forced: the bytes were sniffed, the name never counts */
    MagickSetFormat(wand, fi->magick);
    char fallback[160];
    snprintf(fallback, sizeof fallback,
             "cannot decode it as %s (corrupt, truncated, or over the resource limits)", fi->name);
    if (MagickReadImageBlob(wand, buf, len) == MagickFalse)
        return image_magick_error(r, wand, what, fallback, why, whycap);
    if (r->aborted)
        return image_magick_error(r, wand, what, fallback, why, whycap);
    if (check_decoded(wand, what, why, whycap) < 0)
        return -1;
    MagickSetFirstIterator(wand);
    if (MagickGetNumberImages(wand) == 0 || MagickGetImageWidth(wand) == 0 ||
        MagickGetImageHeight(wand) == 0) {
        snprintf(why, whycap, "%s: decoded to an empty image (not really %s?)", what, fi->name);
        return -1;
    }
    if ((long)MagickGetNumberImages(wand) > r->w->cfg->image_limit_list_length) {
        snprintf(why, whycap, "%s: %zu frames, over the limit of %ld (image.limits.list_length)",
                 what, MagickGetNumberImages(wand), r->w->cfg->image_limit_list_length);
        return -1;
    }
    return 0;
}

int image_magick_encode(image_run *r, image_format format, unsigned char **blob, size_t *len,
                        char *why, size_t whycap)
{
    const image_format_info *fi = image_format_get(format);
    char doing[64];
    snprintf(doing, sizeof doing, "encoding %s", fi->name);
    size_t frames = MagickGetNumberImages(r->wand);
    if (frames > 1 && !(fi->flags & IMAGE_FMT_F_ANIMATED)) {
        /* a still format keeps the first frame */
        MagickSetFirstIterator(r->wand);
        MagickWand *first = MagickGetImage(r->wand);
        if (first == NULL)
            return image_magick_error(r, r->wand, doing, "cannot take the first frame", why,
                                      whycap);
        DestroyMagickWand(r->wand);
        r->wand = first;
        frames = 1;
    }
    if (frames > 1 && format == IMAGE_FMT_GIF) {
        /* frame differences only: smaller files, less quantizing */
        MagickWand *optimized = MagickOptimizeImageLayers(r->wand);
        if (optimized != NULL) {
            DestroyMagickWand(r->wand);
            r->wand = optimized;
        }
    }
    MagickSetFormat(r->wand, fi->magick);
    if (r->quality > 0)
        MagickSetCompressionQuality(r->wand, (size_t)r->quality);
    MagickResetIterator(r->wand);
    while (MagickNextImage(r->wand) != MagickFalse) {
        MagickSetImageFormat(r->wand, fi->magick);
        if (r->quality > 0)
            MagickSetImageCompressionQuality(r->wand, (size_t)r->quality);
    }
    MagickSetFirstIterator(r->wand);
    *blob = frames > 1 ? MagickGetImagesBlob(r->wand, len) : MagickGetImageBlob(r->wand, len);
    if (*blob == NULL || *len == 0 || r->aborted) {
        if (*blob)
            MagickRelinquishMemory(*blob);
        *blob = NULL;
        return image_magick_error(r, r->wand, doing,
                                  "ImageMagick produced nothing (over the resource limits?)", why,
                                  whycap);
    }
    return 0;
}
