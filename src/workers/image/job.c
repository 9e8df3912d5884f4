/* job.c - one `ops` job, start to finish: check the paths, read the input
 * beneath input_dir, name its format by magic bytes against the allow-list,
 * decode it (shrinking on load when the ops allow), run the ops, encode and
 * write the output atomically beneath output_dir, and set the result.
 * The ops themselves are ops.c's; ImageMagick details are magick.c's. */
#include "image.h"

#include "confine.h"
#include "ops.h"

#include <errno.h>
#include <fcntl.h>
#include "num.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define MIB (1024L * 1024L)

/* "jpeg, png, gif, webp" from a bit set of formats. */
static void format_list(unsigned set, char *out, size_t cap)
{
    size_t o = 0;
    out[0] = '\0';
    for (int f = 1; f < IMAGE_FMT_COUNT && o < cap; f++) {
        if (!(set & (1u << f)))
            continue;
        int n = snprintf(out + o, cap - o, "%s%s", o ? ", " : "",
                         image_format_get((image_format)f)->name);
        if (n < 0)
            break;
        o += (size_t)n;
    }
}

/* The whole of fd (a regular file of `size` bytes, size > 0) into blob:
 * mapped in a job child, else read into a malloc'd buffer. */
static int load_file(int fd, size_t size, int map, image_blob *blob, char *why, size_t whycap)
{
    if (map) {
        void *p = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p != MAP_FAILED) {
            blob->data = p;
            blob->len = size;
            blob->mapped = 1;
            return 0;
        }
    }
    unsigned char *b = malloc(size);
    size_t got = 0;
    if (b == NULL) {
        snprintf(why, whycap, "out of memory reading %zu bytes", size);
        return -1;
    }
    while (got < size) {
        ssize_t n = read(fd, b + got, size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            snprintf(why, whycap, "%s", n < 0 ? strerror(errno) : "the file shrank while read");
            free(b);
            return -1;
        }
        got += (size_t)n;
    }
    blob->data = b;
    blob->len = size;
    blob->mapped = 0;
    return 0;
}

void image_blob_release(image_blob *blob)
{
    if (blob->data != NULL) {
        if (blob->mapped)
            munmap(blob->data, blob->len);
        else
            free(blob->data);
    }
    memset(blob, 0, sizeof *blob);
}

int image_read_input(image_run *r, const char *rel, const char *role, image_blob *blob,
                     image_sniff *sniff, char *why, size_t whycap)
{
    const image_worker *w = r->w;
    char reason[256], allowed[128];
    int dirfd = -1, fd = -1, rc = -1;
    uint64_t size;
    memset(blob, 0, sizeof *blob);
    if (confine_path_check(rel, strlen(rel), reason, sizeof reason) < 0) {
        snprintf(why, whycap, "%s \"%.200s\": %s", role, rel, reason);
        return -1;
    }
    if ((dirfd = open(w->input_dir, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0) {
        snprintf(why, whycap, "image.input_dir \"%s\": %s", w->input_dir, strerror(errno));
        return -1;
    }
    /* a symlink that stays inside input_dir is followed */
    fd = confine_open_file(dirfd, rel, 0, &size, reason, sizeof reason);
    if (fd < 0) {
        snprintf(why, whycap, "%s \"%.200s\": %s", role, rel, reason);
        goto out;
    }
    if (size == 0) {
        snprintf(why, whycap, "%s \"%.200s\": the file is empty", role, rel);
        goto out;
    }
    if (size > (uint64_t)w->cfg->image_limit_input * MIB) {
        snprintf(why, whycap, "%s \"%.200s\": %.1f MiB, over the limit of %ld MiB (image.limits.input)",
                 role, rel, (double)size / MIB, w->cfg->image_limit_input);
        goto out;
    }
    if (load_file(fd, (size_t)size, w->in_child, blob, reason, sizeof reason) < 0) {
        snprintf(why, whycap, "%s \"%.200s\": %s", role, rel, reason);
        goto out;
    }
    image_sniff_bytes(blob->data, blob->len, sniff);
    format_list(w->readable, allowed, sizeof allowed);
    if (!(w->readable & (1u << sniff->format))) {
        const image_format_info *fi = image_format_get(sniff->format);
        if (sniff->format == IMAGE_FMT_UNKNOWN)
            snprintf(why, whycap,
                     "%s \"%.200s\": not an image format drudge-image reads, by its content "
                     "(the name does not count; allowed: %s)",
                     role, rel, allowed);
        else if (fi->flags & IMAGE_FMT_F_IMAGE)
            snprintf(why, whycap,
                     "%s \"%.200s\": the file is %s, which image.allowed_formats does not allow "
                     "(allowed: %s)",
                     role, rel, fi->name, allowed);
        else
            snprintf(why, whycap,
                     "%s \"%.200s\": the file is %s, which drudge-image never reads (allowed: %s)",
                     role, rel, fi->name, allowed);
        image_blob_release(blob);
        goto out;
    }
    /* The bytes decide the decoder, but a name that says another image
     * format means the upload was mislabelled or disguised: refuse it
     * rather than guess which one the producer meant. */
    image_format named = image_format_by_extension(rel);
    if (named != IMAGE_FMT_UNKNOWN && named != sniff->format) {
        snprintf(why, whycap,
                 "%s \"%.200s\": the file is %s but its name says %s (the content decides; "
                 "rename it to match)",
                 role, rel, image_format_get(sniff->format)->name, image_format_get(named)->name);
        image_blob_release(blob);
        goto out;
    }
    rc = 0;
out:
    if (fd >= 0)
        close(fd);
    close(dirfd);
    return rc;
}

int image_output_plan(const image_worker *w, const char *rel, image_format explicit_format,
                      image_format *out, char *why, size_t whycap)
{
    char reason[256], writable[128];
    if (confine_path_check(rel, strlen(rel), reason, sizeof reason) < 0) {
        snprintf(why, whycap, "output \"%.200s\": %s", rel, reason);
        return -1;
    }
    format_list(w->writable, writable, sizeof writable);
    image_format by_name = image_format_by_extension(rel);
    if (explicit_format != IMAGE_FMT_UNKNOWN && by_name != IMAGE_FMT_UNKNOWN &&
        explicit_format != by_name) {
        snprintf(why, whycap, "output \"%.200s\": the name says %s but the format op asks for %s",
                 rel, image_format_get(by_name)->name, image_format_get(explicit_format)->name);
        return -1;
    }
    *out = explicit_format != IMAGE_FMT_UNKNOWN ? explicit_format : by_name;
    if (*out == IMAGE_FMT_UNKNOWN) {
        snprintf(why, whycap,
                 "output \"%.200s\": cannot tell the format: end the name in .jpg, .png, .gif, "
                 ".webp (...) or add a format op (writes %s)",
                 rel, writable);
        return -1;
    }
    if (!(w->writable & (1u << *out))) {
        snprintf(why, whycap, "output \"%.200s\": this ImageMagick cannot write %s (writes %s)", rel,
                 image_format_get(*out)->name, writable);
        return -1;
    }
    return 0;
}

int image_write_output(image_run *r, const char *rel, image_format format, const char *input_format,
                       char *why, size_t whycap)
{
    unsigned char *blob = NULL;
    size_t len = 0;
    char reason[256];
    int dirfd = -1, parent = -1, rc = -1;
    const char *leaf;

    image_run_stage(r, 90, 99, "encoding");
    if (image_magick_encode(r, format, &blob, &len, why, whycap) < 0)
        return -1;
    if ((dirfd = open(r->w->output_dir, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0) {
        snprintf(why, whycap, "image.output_dir \"%s\": %s", r->w->output_dir, strerror(errno));
        goto out;
    }
    if ((parent = confine_open_parent(dirfd, rel, CONFINE_CREATE_DIRS, &leaf, reason,
                                      sizeof reason)) < 0 ||
        confine_write_atomic(parent, leaf, blob, len, reason, sizeof reason) < 0) {
        snprintf(why, whycap, "output \"%.200s\": %s", rel, reason);
        goto out;
    }
    MagickSetFirstIterator(r->wand);
    size_t frames = MagickGetNumberImages(r->wand);
    json_t *res = json_pack("{s:s, s:s, s:I, s:I, s:I, s:s}", "output", rel, "format",
                            image_format_get(format)->name, "width",
                            (json_int_t)MagickGetImageWidth(r->wand), "height",
                            (json_int_t)MagickGetImageHeight(r->wand), "bytes", (json_int_t)len,
                            "input_format", input_format ? input_format : "");
    if (res != NULL && frames > 1)
        json_object_set_new(res, "frames", json_integer((json_int_t)frames));
    if (res != NULL && input_format == NULL)
        json_object_del(res, "input_format");
    char *text = res ? json_dumps(res, JSON_COMPACT) : NULL;
    json_decref(res);
    if (text == NULL) {
        snprintf(why, whycap, "out of memory");
        goto out;
    }
    drudge_ctx_set_result(r->ctx, text);
    free(text);
    drudge_ctx_progress(r->ctx, 100, "written");
    rc = 0;
out:
    if (parent >= 0)
        close(parent);
    if (dirfd >= 0)
        close(dirfd);
    MagickRelinquishMemory(blob);
    return rc;
}

/* A string member of the payload, or NULL with why. */
static const char *payload_string(const json_t *obj, const char *key, char *why, size_t whycap)
{
    const json_t *v = json_object_get(obj, key);
    if (!json_is_string(v)) {
        snprintf(why, whycap, "%s is required and must be a string (a path relative to image.%s_dir)",
                 key, strcmp(key, "input") == 0 ? "input" : "output");
        return NULL;
    }
    if (strlen(json_string_value(v)) != json_string_length(v)) {
        snprintf(why, whycap, "%s: the path contains a NUL byte", key);
        return NULL;
    }
    return json_string_value(v);
}

drudge_outcome image_job_run(image_worker *w, drudge_ctx *ctx, const drudge_job *job)
{
    char why[IMAGE_WHY_MAX] = "";
    image_op ops[IMAGE_OPS_MAX];
    image_run r;
    image_blob input_blob = {0};
    image_sniff sniff;
    drudge_outcome o = DRUDGE_FAIL;
    int begun = 0;

    const char *input = payload_string(job->json, "input", why, sizeof why);
    const char *output = input ? payload_string(job->json, "output", why, sizeof why) : NULL;
    if (output == NULL)
        return drudge_ctx_error(ctx, DRUDGE_FAIL, "%s", why);
    int n = image_ops_parse(json_object_get(job->json, "ops"), w, ops, why, sizeof why);
    if (n < 0)
        return drudge_ctx_error(ctx, DRUDGE_FAIL, "%s", why);
    image_format out_format, explicit_format = IMAGE_FMT_UNKNOWN;
    for (int i = 0; i < n; i++)
        if (strcmp(ops[i].spec->name, "format") == 0)
            explicit_format = ops[i].format;
    if (image_output_plan(w, output, explicit_format, &out_format, why, sizeof why) < 0)
        return drudge_ctx_error(ctx, DRUDGE_FAIL, "%s", why);

    begun = 1;
    if (image_run_begin(&r, w, ctx, why, sizeof why) < 0) {
        o = DRUDGE_RETRY; /* the machine's trouble, not the job's */
        goto out;
    }
    image_run_stage(&r, 0, 5, "reading");
    if (image_read_input(&r, input, "input", &input_blob, &sniff, why, sizeof why) < 0)
        goto out;

    /* shrink while decoding when the first op that sizes the image allows */
    double scale = image_ops_decode_scale(ops, n, sniff.width, sniff.height);
    unsigned long hint_w = 0, hint_h = 0;
    if (scale <= 0.5) {
        hint_w = (unsigned long)image_ceil(sniff.width * scale);
        hint_h = (unsigned long)image_ceil(sniff.height * scale);
    }
    char what[256];
    snprintf(what, sizeof what, "input \"%.200s\"", input);
    image_run_stage(&r, 5, 40, "decoding");
    if (image_magick_decode(&r, r.wand, input_blob.data, input_blob.len, &sniff, hint_w, hint_h,
                            what, why, sizeof why) < 0)
        goto out;
    image_blob_release(&input_blob);

    /* animations: whole frames for an animated output, else the first only */
    if (MagickGetNumberImages(r.wand) > 1) {
        MagickWand *next;
        if (image_format_get(out_format)->flags & IMAGE_FMT_F_ANIMATED) {
            next = MagickCoalesceImages(r.wand);
        } else {
            MagickSetFirstIterator(r.wand);
            next = MagickGetImage(r.wand);
        }
        if (next == NULL) {
            image_magick_error(&r, r.wand, what, "cannot prepare the frames", why, sizeof why);
            goto out;
        }
        DestroyMagickWand(r.wand);
        r.wand = next;
    }

    for (int i = 0; i < n; i++) {
        char stage[64];
        snprintf(stage, sizeof stage, "%s", ops[i].spec->name);
        image_run_stage(&r, 40 + 50 * i / n, 40 + 50 * (i + 1) / n, stage);
        if (ops[i].spec->apply(&r, &ops[i], why, sizeof why) < 0)
            goto out;
    }
    if (image_write_output(&r, output, out_format, image_format_get(sniff.format)->name, why,
                           sizeof why) < 0)
        goto out;
    o = DRUDGE_DONE;
out:
    image_blob_release(&input_blob);
    if (begun)
        image_run_end(&r);
    if (o == DRUDGE_DONE)
        return o;
    return drudge_ctx_error(ctx, o, "%s", why[0] ? why : "image job failed");
}
