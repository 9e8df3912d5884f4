/* image.h - what drudge-image's files share: the worker's state (set up
 * once by main.c), one job's state, and the functions that cross files.
 *
 *   main.c     the worker definition: hooks, the handler's dispatch, --version
 *   setup.c    start-up checks, directories, temp root; the job child's sandbox
 *   job.c      an `ops` job: paths, input, decode, ops, encode, atomic write
 *   ops.c      the op table: a row and a function per op
 *   textgif.c  the `op_set: text_gif` job (the animated text demo)
 *   magick.c   MagickWand glue: policy, limits, formats, decode, encode, progress
 *   policy.c   the built-in ImageMagick policy (conf/policy.xml)
 *   tmpdir.c   removing a job's temp directory (paths from jobs: src/common/confine.c)
 *   sniff.c    formats by magic bytes, declared sizes, frame counts
 *   sandbox.c  no_new_privs, rlimits, seccomp, Landlock, forbidden env
 *   args.c     JSON argument reading with messages
 */
#ifndef DRUDGE_IMAGE_H
#define DRUDGE_IMAGE_H

#include "drudge.h"
#include "sandbox.h"
#include "sniff.h"

#include <limits.h>
#include <stdint.h>
#include <wand/MagickWand.h>

#define IMAGE_WHY_MAX 512

typedef struct image_worker {
    const drudge_config *cfg;      /* borrowed for the worker's life */
    char input_dir[PATH_MAX];      /* absolute */
    char output_dir[PATH_MAX];     /* absolute */
    char temp_root[PATH_MAX];      /* this worker's directory of per-job temp dirs */
    unsigned readable;             /* bit (1u << format): allowed and decodable */
    unsigned writable;             /* bit (1u << format): ImageMagick can encode it */
    image_sandbox_caps caps;
    int in_child;                  /* running inside a forked job (sandboxed) */
    unsigned long jobs;            /* jobs begun, for temp dir names */
} image_worker;

/* One job's state, from image_run_begin() to image_run_end(). */
typedef struct image_run {
    image_worker *w;
    drudge_ctx *ctx;
    MagickWand *wand;              /* the images being worked on */
    char tmpdir[PATH_MAX];         /* MAGICK_TEMPORARY_PATH of this job; "" = none */
    int64_t started_ms;            /* monotonic */
    int64_t deadline_ms;           /* monotonic: image.limits.time */
    int progress_lo, progress_hi;  /* the current stage's share of 0-100 */
    int last_percent;
    char stage[64];                /* progress message of the stage */
    int aborted;                   /* the progress monitor stopped ImageMagick */
    char abort_why[160];
    long quality;                  /* 0 = the coder's default */
} image_run;

/* ---- setup.c ---- */

/* Start-up: refuse secrets in the environment, resolve the directories,
 * make this worker's temp root, start ImageMagick, probe the sandbox; log
 * what is applied. cfg is borrowed for the worker's life. 0, or -1 (logged). */
int image_setup_start(image_worker *w, const drudge_config *cfg);
/* In a job's child, before the job: remove temp dirs of earlier children,
 * scrub the environment, apply the sandbox. 0, or -1 (logged). */
int image_setup_child(image_worker *w);
/* At exit (the parent only): stop ImageMagick, remove the temp root. */
void image_setup_stop(image_worker *w);

/* ---- magick.c ---- */

/* Start ImageMagick in this process: the policy in-process, resource limits
 * from the config, which formats can be read and written, and a warm-up so
 * that coders, fonts and configuration files are loaded before any sandbox.
 * 0, or -1 with why. */
int image_magick_start(image_worker *w, char *why, size_t whycap);
void image_magick_stop(void);
/* Print the ImageMagick version and formats (for --version). */
void image_magick_print_version(void);
/* Limits that apply per job (threads): call at the start of each job. */
void image_magick_job_limits(const image_worker *w);

/* Begin a job: its own temp directory (MAGICK_TEMPORARY_PATH), a wand with
 * the progress monitor, the deadline. 0 or -1 with why (then still call
 * image_run_end). */
int image_run_begin(image_run *r, image_worker *w, drudge_ctx *ctx, char *why, size_t whycap);
/* Free the wand and remove the job's temp directory. */
void image_run_end(image_run *r);
/* The share of progress [lo, hi] the next ImageMagick calls report, and the
 * message ("resize", "frame 3/20"). */
void image_run_stage(image_run *r, int lo, int hi, const char *message);
/* A wand set up like r->wand (progress monitor); NULL on allocation failure. */
MagickWand *image_run_new_wand(image_run *r);

/* Decode buf[0..len) as `format` (forced, never guessed) into wand, after
 * checking the declared size against the limits. hint_w/hint_h > 0: the
 * JPEG decoder may shrink to about that size while reading. `what` names
 * the file in messages ("input 'a.jpg'"). 0, or -1 with why. */
int image_magick_decode(image_run *r, MagickWand *wand, const unsigned char *buf, size_t len,
                        const image_sniff *sniff, unsigned long hint_w, unsigned long hint_h,
                        const char *what, char *why, size_t whycap);

/* Encode every frame of r->wand as `format` (quality r->quality). *blob is
 * ImageMagick memory: MagickRelinquishMemory() it. 0, or -1 with why. */
int image_magick_encode(image_run *r, image_format format, unsigned char **blob, size_t *len,
                        char *why, size_t whycap);

/* why = what ImageMagick said about the last failure on wand, or `fallback`
 * when it said nothing (pixel floods fail with an empty message), or the
 * monitor's reason when it aborted the call. Returns -1. */
int image_magick_error(image_run *r, MagickWand *wand, const char *doing, const char *fallback,
                       char *why, size_t whycap);

/* ---- job.c ---- */

/* Run a job with an "ops" list. */
drudge_outcome image_job_run(image_worker *w, drudge_ctx *ctx, const drudge_job *job);

/* An input file's bytes: read into memory, or (in a sandboxed job child)
 * mapped, which saves a copy and a page fault per 4 KiB; a file cut short
 * under a mapping kills only that child (SIGBUS). */
typedef struct image_blob {
    unsigned char *data;
    size_t len;
    int mapped;
} image_blob;

/* Read a file beneath input_dir (for the input and the watermark): checked
 * path, regular file, size limit, allowed format. Release the blob with
 * image_blob_release() (also after an error). 0, or -1 with why. */
int image_read_input(image_run *r, const char *rel, const char *role, image_blob *blob,
                     image_sniff *sniff, char *why, size_t whycap);
void image_blob_release(image_blob *blob);

/* The output path of a job checked, and its format: from the extension, or
 * `explicit_format` (IMAGE_FMT_UNKNOWN = none) which must agree with it.
 * 0, or -1 with why. */
int image_output_plan(const image_worker *w, const char *rel, image_format explicit_format,
                      image_format *out, char *why, size_t whycap);

/* Encode r->wand as format and write it to rel beneath output_dir
 * atomically; then set the job's result JSON. 0, or -1 with why. */
int image_write_output(image_run *r, const char *rel, image_format format, const char *input_format,
                       char *why, size_t whycap);

/* ---- textgif.c ---- */

drudge_outcome image_text_gif_run(image_worker *w, drudge_ctx *ctx, const drudge_job *job);
/* Draw a few letters once so the font and FreeType are loaded (warm-up). */
int image_text_gif_warm(const image_worker *w);

/* ---- policy.c ---- */

extern const char image_policy_xml[];

#endif
