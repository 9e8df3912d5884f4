/* num.h - the few rounding helpers drudge-image needs, so that it does not
 * link libm: values are image sizes, scales and seconds, far inside the
 * range of long long. */
#ifndef DRUDGE_IMAGE_NUM_H
#define DRUDGE_IMAGE_NUM_H

static inline double image_floor(double x)
{
    long long t = (long long)x;
    return (double)(t - (x < (double)t));
}

static inline double image_ceil(double x)
{
    long long t = (long long)x;
    return (double)(t + (x > (double)t));
}

static inline double image_min(double a, double b)
{
    return a < b ? a : b;
}

static inline double image_max(double a, double b)
{
    return a > b ? a : b;
}

#endif
