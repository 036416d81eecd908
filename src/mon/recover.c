/* recover.c — rebuilding the in-memory state after a start: the series table, each series' open
 * chunk (re-opened for appending while it has room) and its open tier points.
 *
 * Why replay: tier points are written when they are finished; the point of the minute and of the
 * hour that were open at the stop live only in memory. They are rebuilt from the raw samples
 * newer than the last stored point of each tier, so the next finished point holds every sample
 * of its bucket, before and after the restart, exactly once. */
#include <stdlib.h>
#include <string.h>

#include "asakai/ak_err.h"
#include "asakai/ak_util.h"
#include "mon_int.h"
#include "../core/ak_banned.h"

/* Samples of a series from the chunks read, in time order. */
struct replay {
    int64_t *t;
    double *v;
    size_t n, cap;
};

static int collect_cb(void *arg, int64_t start_ms, int64_t end_ms, unsigned n,
                      const uint8_t *data, size_t len)
{
    struct replay *rp = arg;
    (void)start_ms;
    (void)end_ms;
    (void)n;
    /* room for a whole chunk whatever its row claims: the decoder checks its own count */
    if (rp->n + AK_TSDB_CHUNK_MAX_SAMPLES > rp->cap) {
        rp->cap = (rp->n + AK_TSDB_CHUNK_MAX_SAMPLES) * 2;
        rp->t = ak_xrealloc(rp->t, rp->cap * sizeof(*rp->t));
        rp->v = ak_xrealloc(rp->v, rp->cap * sizeof(*rp->v));
    }
    size_t got;
    /* a damaged chunk is a gap (as for readers), not a reason to refuse to start: one bad row
     * must not stop all monitoring */
    if (ak_tsdb_chunk_decode(data, len, rp->t + rp->n, rp->v + rp->n, rp->cap - rp->n, &got) < 0)
        return 0;
    rp->n += got;
    return 0;
}

static void reopen_chunk(struct mon_series *s, int64_t start, unsigned n, const uint8_t *data,
                         size_t len)
{
    int64_t ts[AK_TSDB_CHUNK_MAX_SAMPLES];
    double vs[AK_TSDB_CHUNK_MAX_SAMPLES];
    size_t got;

    if (n >= AK_TSDB_CHUNK_MAX_SAMPLES ||
        ak_tsdb_chunk_decode(data, len, ts, vs, AK_TSDB_CHUNK_MAX_SAMPLES, &got) < 0)
        return; /* full or unreadable: the next sample starts a new chunk */
    ak_tsdb_chunk_init(&s->chunk);
    for (size_t i = 0; i < got; i++)
        if (ak_tsdb_chunk_append(&s->chunk, ts[i], vs[i]) < 0) {
            ak_tsdb_chunk_init(&s->chunk);
            return;
        }
    s->chunk_start = start;
}

/* Replays the samples from the oldest point not yet stored (of either tier) into the tiers;
 * points of buckets already stored are not queued again. */
static int rebuild_tiers(struct ak_mon *m, struct ak_store *st, struct mon_series *s)
{
    int64_t last[AK_TSDB_NTIERS];
    int64_t from = INT64_MAX;
    struct replay rp = {0};
    int r = AK_OK;

    if (!s->have_t)
        return AK_OK;
    for (int k = 0; k < AK_TSDB_NTIERS; k++) {
        if (ak_store_mpoint_last(st, s->id, k, &last[k]) != AK_OK)
            last[k] = -1;
        int64_t f = last[k] < 0 ? 0 : last[k] + ak_tsdb_tier_ms[k];
        if (f < from)
            from = f;
    }
    if (from > s->last_t)
        return AK_OK;
    /* one chunk before from gives the previous value (for decreases) */
    r = ak_store_mchunk_each(st, s->id, from > 0 ? from - 1 : 0, INT64_MAX, collect_cb, &rp);
    if (r < 0)
        goto out;
    size_t i0 = 0;
    while (i0 < rp.n && rp.t[i0] < from)
        i0++;
    if (i0 > 0)
        i0--;
    for (size_t i = i0; i < rp.n; i++) {
        int64_t t = rp.t[i];
        /* a bucket is queued again only when its point is missing from the store */
        m->replaying = true;
        for (int k = 0; k < AK_TSDB_NTIERS; k++)
            if (s->tiers.open[k] && last[k] >= 0 && s->tiers.cur[k].start_ms > last[k] &&
                t - t % ak_tsdb_tier_ms[k] != s->tiers.cur[k].start_ms)
                m->replaying = false;
        (void)ak_tsdb_tiers_add(&s->tiers, t, rp.v[i]);
        m->replaying = false;
    }
out:
    m->replaying = false;
    free(rp.t);
    free(rp.v);
    return r;
}

static int recover_series(struct ak_mon *m, struct ak_store *st, const struct ak_mseries *ms)
{
    struct mon_series *s = mon_series_add_stored(m, ms);
    int64_t start, end;
    unsigned n;
    uint8_t *data = NULL;
    size_t len;

    if (ak_store_mchunk_last(st, s->id, &start, &end, &n, &data, &len) == AK_OK)
        reopen_chunk(s, start, n, data, len);
    free(data);
    return rebuild_tiers(m, st, s);
}

int mon_recover(struct ak_mon *m, struct ak_buf *err)
{
    struct ak_mseries *all = NULL;
    size_t n = 0;
    int r = ak_store_mseries_list(m->wst, NULL, NULL, &all, &n);
    if (r < 0)
        return ak_err(err, r, "cannot list the stored series.");
    for (size_t i = 0; i < n; i++) {
        int q = recover_series(m, m->wst, &all[i]);
        if (q < 0 && r == AK_OK) {
            r = ak_err(err, q, "cannot recover series %s.", all[i].key);
        }
    }
    /* replay may have queued points missing from the store: write them now */
    if (r == AK_OK)
        r = mon_flush(m, err);
    for (size_t i = 0; i < n; i++)
        ak_mseries_release(&all[i]);
    free(all);
    return r;
}
