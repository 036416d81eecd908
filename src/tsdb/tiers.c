/* tiers.c — per-minute and per-hour aggregates of one series (Netdata tiers 1 and 2, §1.1).
 *
 * Each tier aggregates the raw samples itself rather than the tier below: then every field,
 * including the floating-point sum, is exactly what a naive pass over the raw samples in time
 * order gives, and the hour tier does not depend on minute points having been emitted.
 */
#include <math.h>
#include <string.h>

#include "asakai/ak_err.h"
#include "asakai/ak_tsdb.h"
#include "src/core/ak_banned.h"

const int64_t ak_tsdb_tier_ms[AK_TSDB_NTIERS] = {60000, 3600000};

void ak_tsdb_tiers_init(struct ak_tsdb_tiers *tr, ak_tsdb_point_fn fn, void *ctx)
{
    memset(tr, 0, sizeof(*tr));
    tr->fn = fn;
    tr->ctx = ctx;
}

static int emit(struct ak_tsdb_tiers *tr, unsigned tier)
{
    if (!tr->open[tier])
        return AK_OK;
    tr->open[tier] = false;
    return tr->fn ? tr->fn(tr->ctx, tier, &tr->cur[tier]) : AK_OK;
}

static void fold(struct ak_tsdb_point *p, double v, bool decreased)
{
    if (v < p->min)
        p->min = v;
    if (v > p->max)
        p->max = v;
    p->sum += v;
    p->last = v;
    p->count++;
    p->decreases += decreased;
}

static void open_point(struct ak_tsdb_point *p, int64_t start, double v, bool decreased)
{
    p->start_ms = start;
    p->min = p->max = p->sum = p->first = p->last = v;
    p->count = 1;
    p->decreases = decreased;
}

int ak_tsdb_tiers_add(struct ak_tsdb_tiers *tr, int64_t t_ms, double v)
{
    bool decreased = false;
    int r = AK_OK;

    if (t_ms < 0 || (tr->have_t && t_ms <= tr->last_t))
        return AK_EINVAL;
    /* Close buckets the new time has left, even for a NaN sample: a gap must not hold a point
     * open past its end. */
    for (unsigned k = 0; k < AK_TSDB_NTIERS; k++) {
        int64_t start = t_ms - t_ms % ak_tsdb_tier_ms[k];
        if (tr->open[k] && tr->cur[k].start_ms != start && (r = emit(tr, k)) != AK_OK)
            return r;
    }
    tr->have_t = true;
    tr->last_t = t_ms;
    if (!isfinite(v))
        return AK_OK;
    decreased = tr->have_v && v < tr->last_v;
    tr->have_v = true;
    tr->last_v = v;
    for (unsigned k = 0; k < AK_TSDB_NTIERS; k++) {
        if (tr->open[k]) {
            fold(&tr->cur[k], v, decreased);
        } else {
            open_point(&tr->cur[k], t_ms - t_ms % ak_tsdb_tier_ms[k], v, decreased);
            tr->open[k] = true;
        }
    }
    return AK_OK;
}

int ak_tsdb_tiers_flush(struct ak_tsdb_tiers *tr)
{
    int r = AK_OK;

    for (unsigned k = 0; k < AK_TSDB_NTIERS; k++)
        if ((r = emit(tr, k)) != AK_OK)
            return r;
    return AK_OK;
}
