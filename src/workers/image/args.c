/* args.c - typed, range-checked reads of a job's JSON arguments with
 * messages naming the op and the argument. Pure (jansson only). */
#include "args.h"

#include "num.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const image_gravity_names[] = {"center",    "north",     "south",
                                           "east",      "west",      "northeast",
                                           "northwest", "southeast", "southwest",
                                           NULL};

void image_args_init(image_args *a, const json_t *obj, const char *where, char *why, size_t whycap)
{
    a->obj = obj;
    snprintf(a->where, sizeof a->where, "%s", where ? where : "");
    a->why = why;
    a->whycap = whycap;
}

static int fail(const image_args *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(const image_args *a, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (a->where[0])
        snprintf(a->why, a->whycap, "%s: %s", a->where, msg);
    else
        snprintf(a->why, a->whycap, "%s", msg);
    return -1;
}

/* The value as compact JSON for "got ..." (cut to ~40 bytes). */
static void got(const json_t *v, char *out, size_t cap)
{
    char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    if (text == NULL) {
        snprintf(out, cap, "?");
        return;
    }
    if (strlen(text) > 40)
        snprintf(out, cap, "%.37s...", text);
    else
        snprintf(out, cap, "%s", text);
    free(text);
}

int image_args_known(const image_args *a, const char *const *allowed)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)a->obj, key, v) {
        int ok = strcmp(key, "op") == 0;
        for (size_t i = 0; !ok && allowed[i] != NULL; i++)
            ok = strcmp(key, allowed[i]) == 0;
        if (ok)
            continue;
        char list[200] = "";
        size_t o = 0;
        for (size_t i = 0; allowed[i] != NULL && o < sizeof list; i++) {
            int n = snprintf(list + o, sizeof list - o, "%s%s", i ? ", " : "", allowed[i]);
            if (n < 0)
                break;
            o += (size_t)n;
        }
        char name[48];
        snprintf(name, sizeof name, "%.40s", key);
        if (allowed[0] == NULL)
            return fail(a, "unknown argument \"%s\" (takes none)", name);
        return fail(a, "unknown argument \"%s\" (takes %s)", name, list);
    }
    return 0;
}

/* The value of key, or NULL; a missing required key is an error (-1). */
static int lookup(const image_args *a, const char *key, int required, const json_t **v, int *given)
{
    *v = json_object_get(a->obj, key);
    if (given)
        *given = *v != NULL;
    if (*v == NULL && required)
        return fail(a, "%s is required", key);
    return 0;
}

int image_args_long(const image_args *a, const char *key, long min, long max, int required,
                    long def, long *out, int *given)
{
    const json_t *v;
    char g[48];
    if (lookup(a, key, required, &v, given) < 0)
        return -1;
    if (v == NULL) {
        *out = def;
        return 0;
    }
    /* 256.0 is an integer too: JSON encoders in some languages write it so */
    double d = json_is_integer(v) ? (double)json_integer_value(v)
               : json_is_real(v)  ? json_real_value(v)
                                  : NAN;
    if (isnan(d) || d != image_floor(d) || d < (double)min || d > (double)max) {
        got(v, g, sizeof g);
        return fail(a, "%s must be an integer from %ld to %ld, got %s", key, min, max, g);
    }
    *out = (long)d;
    return 0;
}

int image_args_double(const image_args *a, const char *key, double min, double max, int required,
                      double def, double *out, int *given)
{
    const json_t *v;
    char g[48];
    if (lookup(a, key, required, &v, given) < 0)
        return -1;
    if (v == NULL) {
        *out = def;
        return 0;
    }
    if (!json_is_number(v) || !isfinite(json_number_value(v)) || json_number_value(v) < min ||
        json_number_value(v) > max) {
        got(v, g, sizeof g);
        return fail(a, "%s must be a number from %g to %g, got %s", key, min, max, g);
    }
    *out = json_number_value(v);
    return 0;
}

int image_args_choice(const image_args *a, const char *key, const char *const *names, int required,
                      int def, int *out)
{
    const json_t *v;
    char g[48], list[200] = "";
    if (lookup(a, key, required, &v, NULL) < 0)
        return -1;
    if (v == NULL) {
        *out = def;
        return 0;
    }
    for (int i = 0; json_is_string(v) && names[i] != NULL; i++) {
        if (strcmp(json_string_value(v), names[i]) == 0) {
            *out = i;
            return 0;
        }
    }
    size_t o = 0;
    for (size_t i = 0; names[i] != NULL && o < sizeof list; i++) {
        int n = snprintf(list + o, sizeof list - o, "%s%s", i ? ", " : "", names[i]);
        if (n < 0)
            break;
        o += (size_t)n;
    }
    got(v, g, sizeof g);
    return fail(a, "%s must be one of %s, got %s", key, list, g);
}

int image_args_string(const image_args *a, const char *key, int required, const char *def,
                      char *out, size_t cap)
{
    const json_t *v;
    char g[48];
    if (lookup(a, key, required, &v, NULL) < 0)
        return -1;
    if (v == NULL) {
        snprintf(out, cap, "%s", def ? def : "");
        return 0;
    }
    if (!json_is_string(v)) {
        got(v, g, sizeof g);
        return fail(a, "%s must be a string, got %s", key, g);
    }
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    if (n == 0 || n >= cap)
        return fail(a, "%s must be 1 to %zu bytes long, got %zu", key, cap - 1, n);
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch < 0x20 || ch == 0x7f)
            return fail(a, "%s must not contain control characters or NUL", key);
    }
    memcpy(out, s, n + 1);
    return 0;
}

int image_args_bool(const image_args *a, const char *key, int def, int *out)
{
    const json_t *v = json_object_get(a->obj, key);
    char g[48];
    if (v == NULL) {
        *out = def;
        return 0;
    }
    if (!json_is_boolean(v)) {
        got(v, g, sizeof g);
        return fail(a, "%s must be true or false, got %s", key, g);
    }
    *out = json_is_true(v);
    return 0;
}

int image_args_color(const image_args *a, const char *key, const char *def, char out[64])
{
    if (image_args_string(a, key, 0, def, out, 64) < 0)
        return -1;
    for (const char *p = out; *p; p++) {
        char ch = *p;
        int ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                 ch == '#' || ch == '(' || ch == ')' || ch == ',' || ch == '.' || ch == '%' ||
                 ch == ' ';
        if (!ok)
            return fail(a, "%s must be a colour name, #rrggbb or rgb(...), got \"%.40s\"", key,
                        out);
    }
    return 0;
}

void image_gravity_place(image_gravity g, long W, long H, long w, long h, long m, long *x, long *y)
{
    long cx = (W - w) / 2, cy = (H - h) / 2;
    long left = m, right = W - w - m, top = m, bottom = H - h - m;
    switch (g) {
    case IMAGE_GRAVITY_NORTH: *x = cx, *y = top; break;
    case IMAGE_GRAVITY_SOUTH: *x = cx, *y = bottom; break;
    case IMAGE_GRAVITY_EAST: *x = right, *y = cy; break;
    case IMAGE_GRAVITY_WEST: *x = left, *y = cy; break;
    case IMAGE_GRAVITY_NORTHEAST: *x = right, *y = top; break;
    case IMAGE_GRAVITY_NORTHWEST: *x = left, *y = top; break;
    case IMAGE_GRAVITY_SOUTHEAST: *x = right, *y = bottom; break;
    case IMAGE_GRAVITY_SOUTHWEST: *x = left, *y = bottom; break;
    case IMAGE_GRAVITY_CENTER:
    default: *x = cx, *y = cy; break;
    }
}
