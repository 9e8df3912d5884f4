/* args.h - reading a job's arguments from JSON, with messages that name
 * where the argument sits and what was wrong ("ops[1] (resize): width must
 * be an integer from 1 to 16000, got -5"). Pure: jansson only. Used by the
 * op table (ops.c) and the text_gif job (textgif.c).
 */
#ifndef DRUDGE_IMAGE_ARGS_H
#define DRUDGE_IMAGE_ARGS_H

#include <jansson.h>
#include <stddef.h>

typedef struct image_args {
    const json_t *obj;   /* the object holding the arguments (borrowed) */
    char where[64];      /* message prefix, e.g. "ops[1] (resize)" */
    char *why;           /* the caller's message buffer */
    size_t whycap;
} image_args;

/* Point a at obj; `where` may be "" (then messages have no prefix). */
void image_args_init(image_args *a, const json_t *obj, const char *where, char *why, size_t whycap);

/* -1 with a message if obj has a key not in allowed (NULL-terminated). */
int image_args_known(const image_args *a, const char *const *allowed);

/* Each reader: an absent key gives *out = def and 0 unless required; a
 * present key of the wrong type or out of range, or an absent required
 * one, is -1 with a message. *given (when not NULL) says whether the key
 * was there. */
int image_args_long(const image_args *a, const char *key, long min, long max, int required,
                    long def, long *out, int *given);
int image_args_double(const image_args *a, const char *key, double min, double max, int required,
                      double def, double *out, int *given);
/* One of names (NULL-terminated); *out is its index. */
int image_args_choice(const image_args *a, const char *key, const char *const *names, int required,
                      int def, int *out);
/* A string of 1..cap-1 bytes of printable ASCII or UTF-8 (no control
 * characters, no NUL). */
int image_args_string(const image_args *a, const char *key, int required, const char *def,
                      char *out, size_t cap);
int image_args_bool(const image_args *a, const char *key, int def, int *out);

/* A colour for ImageMagick: a name, #hex, rgb(...)/rgba(...)/hsl(...), at
 * most 63 characters of [A-Za-z0-9#(),.% ]. ImageMagick parses it later. */
int image_args_color(const image_args *a, const char *key, const char *def, char out[64]);

/* Gravity names, in the order of image_gravity. */
typedef enum {
    IMAGE_GRAVITY_CENTER = 0,
    IMAGE_GRAVITY_NORTH,
    IMAGE_GRAVITY_SOUTH,
    IMAGE_GRAVITY_EAST,
    IMAGE_GRAVITY_WEST,
    IMAGE_GRAVITY_NORTHEAST,
    IMAGE_GRAVITY_NORTHWEST,
    IMAGE_GRAVITY_SOUTHEAST,
    IMAGE_GRAVITY_SOUTHWEST,
} image_gravity;
extern const char *const image_gravity_names[];

/* Where a w x h box sits in a W x H area under gravity g, margin m pixels
 * from the edges it is pulled to. Pure arithmetic (may be negative). */
void image_gravity_place(image_gravity g, long W, long H, long w, long h, long m, long *x,
                         long *y);

#endif
