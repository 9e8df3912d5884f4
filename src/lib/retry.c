/* retry.c - how long a job waits before its next attempt. Pure.
 *
 * "Full jitter" (AWS architecture blog, 2015): the envelope doubles per
 * attempt, base * 2^(attempt-1), capped at `cap`; the delay is uniform in
 * [base, envelope]. Many jobs failing together therefore spread out instead
 * of retrying in lock-step, and no delay is shorter than base or longer
 * than cap. */
#include "internal.h"


int64_t drudge__backoff_ms(double base_s, double cap_s, int attempt, double r)
{
    /* written so that NaN fails every comparison into the safe value */
    if (!(base_s > 0) || base_s > 1e9)
        base_s = 1;
    if (!(cap_s >= base_s) || cap_s > 1e9)
        cap_s = base_s;
    if (attempt < 1)
        attempt = 1;
    if (!(r >= 0))
        r = 0;
    if (!(r < 1))
        r = 0.999999;
    double envelope = base_s;
    for (int i = 1; i < attempt && envelope < cap_s; i++)
        envelope *= 2;
    if (envelope > cap_s)
        envelope = cap_s;
    double delay = base_s + (envelope - base_s) * r;
    return (int64_t)(delay * 1000.0 + 0.5);
}
