/* recover.c — rebuilding the in-memory state after a start: the series table, each series' open
 * chunk (re-opened for appending while it has room) and its open tier points, then the batches
 * since the last checkpoint from the ingest log, then a checkpoint.
 *
 * Why replay: tier points are written when they are finished; the point of the minute and of the
 * hour that were open at the stop live only in memory. They are rebuilt from the raw samples
 * newer than the last stored point of each tier, so the next finished point holds every sample
 * of its bucket, before and after the restart, exactly once.
 *
 * Why the chunks first and the log after: the chunk rows hold every sample up to the last
 * checkpoint (and the chunks that filled up later); the log holds every accepted sample since,
 * in order. A series restarts at the end of its newest chunk row and the log is replayed through
 * the normal ingest path, which skips what a chunk already holds and rebuilds open chunk and
 * tiers as they were. The points the logged batches finished were stored with them: replay
 * queues only newer ones (none, unless the store lost some). */
#include <math.h>
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

/* Re-opens the newest chunk row for appending while it has room; *ret_v = its newest value that
 * is a number (false when none). */
static bool reopen_chunk(struct mon_series *s, int64_t start, unsigned n, const uint8_t *data,
                         size_t len, double *ret_v)
{
    int64_t ts[AK_TSDB_CHUNK_MAX_SAMPLES];
    double vs[AK_TSDB_CHUNK_MAX_SAMPLES];
    size_t got;
    bool have_v = false;

    if (ak_tsdb_chunk_decode(data, len, ts, vs, AK_TSDB_CHUNK_MAX_SAMPLES, &got) < 0)
        return false; /* unreadable: the next sample starts a new chunk */
    for (size_t i = got; i-- > 0 && !have_v;)
        if (!isnan(vs[i])) {
            *ret_v = vs[i];
            have_v = true;
        }
    if (n >= AK_TSDB_CHUNK_MAX_SAMPLES)
        return have_v; /* full: the next sample starts a new chunk */
    ak_tsdb_chunk_init(&s->chunk);
    for (size_t i = 0; i < got; i++)
        if (ak_tsdb_chunk_append(&s->chunk, ts[i], vs[i]) < 0) {
            ak_tsdb_chunk_init(&s->chunk);
            return have_v;
        }
    s->chunk_start = start;
    return have_v;
}

/* Replays the samples from the oldest point not yet stored (of either tier) into the tiers;
 * points of buckets already stored are not queued again. */
static int rebuild_tiers(struct ak_mon *m, struct ak_store *st, struct mon_series *s)
{
    int64_t last[AK_TSDB_NTIERS];
    int64_t from = INT64_MAX;
    struct replay rp = {0};
    int r = AK_OK;

    for (int k = 0; k < AK_TSDB_NTIERS; k++) {
        if (ak_store_mpoint_last(st, s->id, k, &last[k]) != AK_OK)
            last[k] = -1;
        s->rec_last[k] = last[k];
        int64_t f = last[k] < 0 ? 0 : last[k] + ak_tsdb_tier_ms[k];
        if (f < from)
            from = f;
    }
    if (!s->have_t || from > s->last_t)
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

static int first_cb(void *arg, int64_t start_ms, int64_t end_ms, unsigned n,
                    const uint8_t *data, size_t len)
{
    (void)end_ms;
    (void)n;
    (void)data;
    (void)len;
    *(int64_t *)arg = start_ms;
    return 1; /* the oldest is enough */
}

static int recover_series(struct ak_mon *m, struct ak_store *st, const struct ak_mseries *ms)
{
    struct mon_series *s = mon_series_add_stored(m, ms);
    int64_t start, end;
    unsigned n;
    uint8_t *data = NULL;
    size_t len;

    /* the series row's last_ms may be newer (batches touch it, only checkpoints write the open
     * chunk): until the log is replayed the series ends where its chunk rows do */
    s->have_t = false;
    s->last_t = 0;
    double v = 0;
    bool have_v = false;
    if (ak_store_mchunk_last(st, s->id, &start, &end, &n, &data, &len) == AK_OK) {
        have_v = reopen_chunk(s, start, n, data, len, &v);
        s->have_t = true;
        s->last_t = end;
    }
    free(data);
    /* the row's first_ms is widened by checkpoints too: chunks written after the last one (full
     * ones, history) may start earlier */
    int64_t first = 0;
    if (ak_store_mchunk_each(st, s->id, 0, INT64_MAX, first_cb, &first) >= 0 && first > 0 &&
        (!s->first_t || first < s->first_t))
        s->first_t = first;
    /* the next checkpoint widens the row to what the chunks hold */
    if (s->have_t && (s->last_t > ms->last_ms || !ms->first_ms || s->first_t < ms->first_ms)) {
        s->ck_from = s->first_t;
        s->ck_to = s->last_t;
        if (have_v && s->last_t > ms->last_ms)
            s->last_v = v;
    }
    return rebuild_tiers(m, st, s);
}

struct log_ctx {
    struct ak_mon *m;
    struct mon_batch b;
    size_t damaged;
};

static int log_cb(void *arg, int64_t id, const uint8_t *data, size_t len)
{
    struct log_ctx *c = arg;
    /* a damaged record loses its own samples (after those it decoded), not the others */
    if (mon_log_replay(c->m, data, len, &c->b) < 0)
        c->damaged++;
    if (id > c->m->log_last_id)
        c->m->log_last_id = id;
    return 0;
}

static int replay_log(struct ak_mon *m, const struct ak_mseries *all, size_t n,
                      struct ak_buf *err)
{
    struct log_ctx c = {.m = m};
    mon_batch_init(m, &c.b);
    m->recovering = true;
    int r = ak_store_mlog_each(m->wst, log_cb, &c);
    m->recovering = false;
    if (r < 0)
        return ak_err(err, r, "cannot read the ingest log.");
    /* what the rows say (a touch per batch) wins where the replay did not reach as far */
    for (size_t i = 0; i < n; i++) {
        struct mon_series *s = mon_series_by_id(m, all[i].id);
        if (s && all[i].last_ms >= s->last_t && all[i].last_ms > 0) {
            s->last_t = all[i].last_ms;
            s->last_v = all[i].last_value;
            s->have_t = true;
        }
    }
    return AK_OK;
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
    if (r == AK_OK)
        r = replay_log(m, all, n, err);
    /* replay may have queued points missing from the store; the open chunks rebuilt from the
     * log are written and the log emptied */
    if (r == AK_OK)
        r = mon_checkpoint(m, err);
    for (size_t i = 0; i < n; i++)
        ak_mseries_release(&all[i]);
    free(all);
    return r;
}
