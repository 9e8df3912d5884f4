/* ops.h - the operations an image job can ask for, one table row each.
 *
 * A row names the op, the arguments it takes, a parse function (JSON to an
 * image_op, with messages naming the op and the argument), an apply
 * function (MagickWand, every frame) and, for ops that only shrink, how far
 * the JPEG decoder may shrink while reading (the jpeg:size fast path).
 * Adding an op is a row and a function, as libvips adds an operation.
 */
#ifndef DRUDGE_IMAGE_OPS_H
#define DRUDGE_IMAGE_OPS_H

#include "args.h"
#include "confine.h"
#include "image.h"

#define IMAGE_OPS_MAX 32 /* most ops in one job */

typedef struct image_op_spec image_op_spec;

/* One parsed op. Which fields mean something is the op's business. */
typedef struct image_op {
    const image_op_spec *spec;
    int index;            /* position in the job's ops list */
    long width, height;   /* 0 = not given */
    long x, y;
    double amount;        /* degrees, sigma, opacity, quality */
    double radius;
    int mode;             /* resize: fit | fill | exact */
    int gravity;          /* image_gravity */
    image_format format;
    char color[64];
    char path[CONFINE_PATH_MAX + 1];
} image_op;

struct image_op_spec {
    const char *name;
    const char *const *args;  /* accepted argument names (NULL-terminated) */
    int (*parse)(image_op *op, const image_args *a, const image_worker *w);
    /* 0, or -1 with why; runs on every frame of r->wand */
    int (*apply)(image_run *r, const image_op *op, char *why, size_t whycap);
    /* The scale (<= 1) the image may be decoded at for this op, given its
     * stored size in either orientation; NULL: the op changes geometry in a
     * way that forbids shrinking on load. */
    double (*decode_scale)(const image_op *op, double w, double h);
    unsigned flags;           /* IMAGE_OP_* */
};

enum {
    /* does not change the size or depends on it: may come before the op
     * that sets the decode scale */
    IMAGE_OP_SIZE_NEUTRAL = 1u << 0,
};

/* The row for `name`, or NULL. */
const image_op_spec *image_op_find(const char *name);
/* "resize, thumbnail, ..." for messages. */
const char *image_op_names(void);

/* Parse a job's "ops" array (NULL = none) into ops[] (at most
 * IMAGE_OPS_MAX). Returns the count, or -1 with why naming the op. */
int image_ops_parse(const json_t *list, const image_worker *w, image_op *ops, char *why,
                    size_t whycap);

/* The scale the decoder may shrink to for these ops on an image stored at
 * w x h (1 = none). */
double image_ops_decode_scale(const image_op *ops, int n, double w, double h);

#endif
