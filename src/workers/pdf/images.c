/* images.c - images jobs: JPEG, PNG, GIF or WebP files from pdf.input_dir
 * into one PDF, one image per page, each fitted (aspect kept, centred)
 * into the page inside its margins. MagickWand in-process.
 *
 * Debian's ImageMagick policy forbids the PDF coder, and a policy file
 * cannot loosen it; this worker installs its own policy in-process
 * (SetMagickSecurityPolicy) that allows reading the four input formats,
 * writing PDF (and JPEG, which the PDF coder uses to embed photos), and
 * nothing else: no delegates, no filters, no indirect "@file" reads. Inputs
 * are opened by paths.c (no escape from the input directory), checked by
 * magic bytes (the name's extension is never trusted), pinged for their
 * size before decoding, and read from memory with the format given - a user
 * string never becomes an ImageMagick file name. Pixel floods hit the
 * resource limits; ImageMagick's temp files go to a private directory that
 * is emptied after every job.
 */
#include "pdf.h"

#include <wand/MagickWand.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define IMAGE_BYTES_MAX (64u << 20)
#define SIDE_MAX 16000
#define AREA_MAX 128000000.0
#define JPEG_QUALITY 92

static const char policy_xml[] =
    "<policymap>"
    "<policy domain=\"delegate\" rights=\"none\" pattern=\"*\"/>"
    "<policy domain=\"filter\" rights=\"none\" pattern=\"*\"/>"
    "<policy domain=\"path\" rights=\"none\" pattern=\"@*\"/>"
    "<policy domain=\"coder\" rights=\"none\" pattern=\"*\"/>"
    "<policy domain=\"coder\" rights=\"read|write\" pattern=\"JPEG\"/>"
    "<policy domain=\"coder\" rights=\"read\" pattern=\"{PNG,GIF,WEBP}\"/>"
    "<policy domain=\"coder\" rights=\"write\" pattern=\"PDF\"/>"
    "</policymap>";

typedef struct format {
    const char *magick;
    const char *name;
} format;

/* By the first bytes, never by the file name. */
static const format *sniff(const unsigned char *b, size_t n)
{
    static const format jpeg = {"JPEG", "jpeg"}, png = {"PNG", "png"}, gif = {"GIF", "gif"},
                        webp = {"WEBP", "webp"};
    if (n >= 3 && b[0] == 0xff && b[1] == 0xd8 && b[2] == 0xff)
        return &jpeg;
    if (n >= 8 && memcmp(b, "\x89PNG\r\n\x1a\n", 8) == 0)
        return &png;
    if (n >= 6 && (memcmp(b, "GIF87a", 6) == 0 || memcmp(b, "GIF89a", 6) == 0))
        return &gif;
    if (n >= 12 && memcmp(b, "RIFF", 4) == 0 && memcmp(b + 8, "WEBP", 4) == 0)
        return &webp;
    return NULL;
}

static void empty_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            unlinkat(dirfd(d), e->d_name, 0);
    closedir(d);
}

int pdf_images_init(pdf_worker *w, char *why, size_t whycap)
{
    const char *tmp = getenv("TMPDIR");
    if (tmp == NULL || tmp[0] != '/' || strlen(tmp) > 180)
        tmp = "/tmp";
    snprintf(w->magick_tmp, sizeof w->magick_tmp, "%s/drudge-pdf-magick-XXXXXX", tmp);
    if (mkdtemp(w->magick_tmp) == NULL) {
        snprintf(why, whycap, "cannot create ImageMagick's temp directory in %s: %s", tmp,
                 strerror(errno));
        w->magick_tmp[0] = '\0';
        return -1;
    }
    /* read by ImageMagick when it needs a temp file; set before any thread.
     * The directory itself exists only while an images job runs, so a
     * worker killed between jobs leaves nothing behind. */
    setenv("MAGICK_TEMPORARY_PATH", w->magick_tmp, 1);
    rmdir(w->magick_tmp);
    MagickWandGenesis();
    w->magick_ready = 1;
    ExceptionInfo *e = AcquireExceptionInfo();
    MagickBooleanType ok = SetMagickSecurityPolicy(policy_xml, e);
    DestroyExceptionInfo(e);
    if (!ok || !IsRightsAuthorized(CoderPolicyDomain, WritePolicyRights, "PDF") ||
        IsRightsAuthorized(CoderPolicyDomain, ReadPolicyRights, "PDF") ||
        IsRightsAuthorized(CoderPolicyDomain, ReadPolicyRights, "MVG")) {
        snprintf(why, whycap, "cannot install drudge-pdf's ImageMagick policy (PDF writing only)");
        return -1;
    }
    MagickSetResourceLimit(ThreadResource, 1);
    MagickSetResourceLimit(WidthResource, SIDE_MAX);
    MagickSetResourceLimit(HeightResource, SIDE_MAX);
    MagickSetResourceLimit(AreaResource, (MagickSizeType)AREA_MAX);
    MagickSetResourceLimit(MemoryResource, 256u << 20);
    MagickSetResourceLimit(MapResource, 512u << 20);
    MagickSetResourceLimit(DiskResource, 1u << 30);
    MagickSetResourceLimit(ListLengthResource, 1000);
    return 0;
}

void pdf_images_fini(pdf_worker *w)
{
    if (w->magick_ready)
        MagickWandTerminus();
    w->magick_ready = 0;
    if (w->magick_tmp[0]) {
        empty_dir(w->magick_tmp);
        rmdir(w->magick_tmp);
        w->magick_tmp[0] = '\0';
    }
}

/* The job's temp directory: ours (made now, or left by a job of ours that
 * died), never something another user put at that name. 0 or -1. */
static int temp_dir_make(const pdf_worker *w, char *why, size_t whycap)
{
    struct stat st;
    if (mkdir(w->magick_tmp, 0700) == 0)
        return 0;
    if (errno == EEXIST && lstat(w->magick_tmp, &st) == 0 && S_ISDIR(st.st_mode) &&
        st.st_uid == geteuid() && (st.st_mode & 077) == 0)
        return 0;
    snprintf(why, whycap, "cannot make ImageMagick's temp directory \"%s\": %s", w->magick_tmp,
             errno == EEXIST ? "something else is there" : strerror(errno));
    return -1;
}

const char *pdf_images_version(void)
{
    return IsRightsAuthorized(CoderPolicyDomain, WritePolicyRights, "PDF") ? "PDF" : "";
}

/* ImageMagick's message, or ours when it has none (pixel floods). */
static drudge_outcome magick_error(drudge_ctx *ctx, MagickWand *wand, const char *what)
{
    ExceptionType sev;
    char *desc = MagickGetException(wand, &sev);
    drudge_outcome o = drudge_ctx_error(
        ctx, DRUDGE_FAIL, "%s: %s", what,
        desc && *desc ? desc
                      : "ImageMagick gave up without saying why: too large for the limits "
                        "(16000 pixels a side, 128 million in all)?");
    MagickRelinquishMemory(desc);
    return o;
}

static unsigned char *read_input(int fd, size_t *len, char *why, size_t whycap)
{
    struct stat st;
    if (fstat(fd, &st) < 0 || st.st_size <= 0 || (size_t)st.st_size > IMAGE_BYTES_MAX) {
        snprintf(why, whycap, "is empty or larger than %u MiB", IMAGE_BYTES_MAX >> 20);
        return NULL;
    }
    unsigned char *buf = malloc((size_t)st.st_size);
    size_t got = 0;
    while (buf != NULL && got < (size_t)st.st_size) {
        ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    if (buf == NULL || got != (size_t)st.st_size) {
        snprintf(why, whycap, "cannot be read: %s", buf ? strerror(errno) : "out of memory");
        free(buf);
        return NULL;
    }
    *len = got;
    return buf;
}

/* Decode one input into a wand holding just its first frame, oriented,
 * fitted into the page. NULL after drudge_ctx_error(). */
static MagickWand *load_page(drudge_ctx *ctx, pdf_worker *w, const pdf_job_opts *o, size_t i,
                             drudge_outcome *out)
{
    const char *rel = json_string_value(json_array_get(o->images, i));
    char why[PDF_WHY_MAX], what[300];
    size_t len = 0;
    snprintf(what, sizeof what, "images[%zu] \"%.200s\"", i, rel);
    int fd = pdf_input_open(w->cfg->pdf_input_dir, rel, why, sizeof why);
    if (fd < 0) {
        *out = drudge_ctx_error(ctx, DRUDGE_FAIL, "%s", why);
        return NULL;
    }
    unsigned char *data = read_input(fd, &len, why, sizeof why);
    close(fd);
    if (data == NULL) {
        *out = drudge_ctx_error(ctx, DRUDGE_FAIL, "%s %s", what, why);
        return NULL;
    }
    const format *f = sniff(data, len);
    if (f == NULL) {
        free(data);
        *out = drudge_ctx_error(ctx, DRUDGE_FAIL, "%s is not a JPEG, PNG, GIF or WebP image", what);
        return NULL;
    }
    MagickWand *probe = NewMagickWand(), *page = NULL;
    MagickSetFormat(probe, f->magick);
    if (!MagickPingImageBlob(probe, data, len)) {
        *out = magick_error(ctx, probe, what);
        goto done;
    }
    size_t iw = MagickGetImageWidth(probe), ih = MagickGetImageHeight(probe);
    if (iw == 0 || ih == 0 || iw > SIDE_MAX || ih > SIDE_MAX ||
        (double)iw * (double)ih > AREA_MAX) {
        *out = drudge_ctx_error(
            ctx, DRUDGE_FAIL, "%s is %zux%zu pixels: more than %d per side or %.0f million in all",
            what, iw, ih, SIDE_MAX, AREA_MAX / 1e6);
        goto done;
    }
    ClearMagickWand(probe);
    MagickSetFormat(probe, f->magick);
    if (!MagickReadImageBlob(probe, data, len)) {
        *out = magick_error(ctx, probe, what);
        goto done;
    }
    MagickSetFirstIterator(probe); /* an animation gives its first frame */
    page = NewMagickWand();
    MagickWand *first = MagickGetImage(probe);
    if (first == NULL || !MagickAddImage(page, first)) {
        if (first)
            DestroyMagickWand(first);
        *out = magick_error(ctx, probe, what);
        DestroyMagickWand(page);
        page = NULL;
        goto done;
    }
    DestroyMagickWand(first);
    MagickAutoOrientImage(page);
    MagickStripImage(page);
    if (MagickGetImageAlphaChannel(page)) {
        PixelWand *white = NewPixelWand();
        PixelSetColor(white, "white");
        MagickSetImageBackgroundColor(page, white);
        MagickSetImageAlphaChannel(page, RemoveAlphaChannel);
        DestroyPixelWand(white);
    }
    iw = MagickGetImageWidth(page);
    ih = MagickGetImageHeight(page);

    /* fit: s points per pixel; the PDF coder takes the page size in pixels
     * at the image's density but the offset in points */
    double pw, ph;
    pdf_job_page_size(o, &pw, &ph);
    pw *= 72;
    ph *= 72;
    double bw = pw - 72 * (o->margin_left + o->margin_right);
    double bh = ph - 72 * (o->margin_top + o->margin_bottom);
    double s = bw / (double)iw < bh / (double)ih ? bw / (double)iw : bh / (double)ih;
    double dw = (double)iw * s, dh = (double)ih * s;
    double x = 72 * o->margin_left + (bw - dw) / 2, y = 72 * o->margin_bottom + (bh - dh) / 2;
    MagickSetImageUnits(page, PixelsPerInchResolution);
    MagickSetImageResolution(page, 72 / s, 72 / s);
    MagickSetImagePage(page, (size_t)(pw / s + 0.5), (size_t)(ph / s + 0.5), (ssize_t)(x + 0.5),
                       (ssize_t)(y + 0.5));
    if (strcmp(f->magick, "JPEG") == 0) {
        MagickSetImageCompression(page, JPEGCompression);
        MagickSetImageCompressionQuality(page, JPEG_QUALITY);
    } else {
        MagickSetImageCompression(page, ZipCompression);
    }
done:
    DestroyMagickWand(probe);
    free(data);
    return page;
}

drudge_outcome pdf_images(pdf_worker *w, drudge_ctx *ctx, const pdf_job_opts *o)
{
    drudge_outcome out = DRUDGE_DONE;
    size_t n = json_array_size(o->images), len = 0;
    unsigned char *blob = NULL;
    char msg[64], why[PDF_WHY_MAX];
    if (temp_dir_make(w, why, sizeof why) < 0)
        return drudge_ctx_error(ctx, DRUDGE_RETRY, "%s", why);
    MagickWand *doc = NewMagickWand();

    for (size_t i = 0; i < n; i++) {
        snprintf(msg, sizeof msg, "image %zu/%zu", i + 1, n);
        drudge_ctx_progress(ctx, (int)(5 + i * 80 / n), msg);
        MagickWand *page = load_page(ctx, w, o, i, &out);
        if (page == NULL)
            goto done;
        MagickSetLastIterator(doc);
        MagickBooleanType added = MagickAddImage(doc, page);
        DestroyMagickWand(page);
        if (!added) {
            out = magick_error(ctx, doc, "adding a page");
            goto done;
        }
    }
    drudge_ctx_progress(ctx, 90, "writing the PDF");
    MagickResetIterator(doc);
    MagickSetFormat(doc, "PDF");
    blob = MagickGetImagesBlob(doc, &len);
    if (blob == NULL || len == 0) {
        out = magick_error(ctx, doc, "writing the PDF");
        goto done;
    }
    if (len > w->cfg->pdf_max_output_bytes) {
        out =
            drudge_ctx_error(ctx, DRUDGE_FAIL, "the PDF is larger than pdf.max_output_bytes (%zu)",
                             w->cfg->pdf_max_output_bytes);
        goto done;
    }
    long pages = pdf_count_pages(blob, len);
    if (pdf_output_save(w->cfg->pdf_output_dir, o->output, blob, len, why, sizeof why) < 0) {
        out = drudge_ctx_error(ctx, DRUDGE_RETRY, "%s", why);
        goto done;
    }
    json_t *result = json_pack("{ss sI sI}", "output", o->output, "pages", (json_int_t)pages,
                               "bytes", (json_int_t)len);
    char *text = result ? json_dumps(result, JSON_COMPACT) : NULL;
    json_decref(result);
    if (text == NULL) {
        out = drudge_ctx_error(ctx, DRUDGE_RETRY, "out of memory");
        goto done;
    }
    drudge_ctx_set_result(ctx, text);
    free(text);
done:
    if (blob)
        MagickRelinquishMemory(blob);
    DestroyMagickWand(doc);
    empty_dir(w->magick_tmp);
    rmdir(w->magick_tmp);
    return out;
}
