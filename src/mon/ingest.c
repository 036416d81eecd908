/* ingest.c — the series table and the write path: one sample at a time into the series' open
 * chunk and tiers, and one transaction per batch that writes what changed.
 *
 * Why a log: rewriting every changed open chunk (up to ~1 KiB) at every batch wrote ~500 bytes
 * per 16-byte sample. A batch now appends ONE ingest log record (ak_store_mlog_put) holding its
 * accepted samples (~11 bytes each), plus the chunks that filled up and the finished tier points;
 * the open chunks are written by a checkpoint (every MON_CKPT_MS, at the stop) that trims the
 * log in the same transaction. What was accepted is on disk after the flush either way: in a
 * chunk row or in the log, which recovery replays (recover.c). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "asakai/ak_cfg.h"
#include "asakai/ak_err.h"
#include "asakai/ak_json.h"
#include "asakai/ak_time.h"
#include "asakai/ak_util.h"
#include "mon_int.h"
#include "../core/ak_banned.h"

static uint64_t hash_key(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static void tab_insert(struct mon_series **tab, size_t cap, struct mon_series *s)
{
    size_t i = (size_t)hash_key(s->key) & (cap - 1);
    while (tab[i])
        i = (i + 1) & (cap - 1);
    tab[i] = s;
}

static void tab_add(struct ak_mon *m, struct mon_series *s)
{
    if ((m->n_series + 1) * 2 > m->tab_cap) {
        size_t cap = m->tab_cap ? m->tab_cap * 2 : 256;
        struct mon_series **t = ak_xcalloc(cap, sizeof(*t));
        for (size_t i = 0; i < m->tab_cap; i++)
            if (m->tab[i])
                tab_insert(t, cap, m->tab[i]);
        free(m->tab);
        m->tab = t;
        m->tab_cap = cap;
    }
    tab_insert(m->tab, m->tab_cap, s);
    m->n_series++;
}

struct mon_series *mon_series_find(struct ak_mon *m, const char *key)
{
    if (!m->tab_cap)
        return NULL;
    size_t i = (size_t)hash_key(key) & (m->tab_cap - 1);
    for (; m->tab[i]; i = (i + 1) & (m->tab_cap - 1))
        if (strcmp(m->tab[i]->key, key) == 0)
            return m->tab[i];
    return NULL;
}

static struct mon_series *series_new(struct ak_mon *m, const char *key, int type)
{
    struct mon_series *s = ak_xcalloc(1, sizeof(*s));
    s->key = ak_xstrdup(key);
    s->type = type;
    s->m = m;
    ak_tsdb_chunk_init(&s->chunk);
    ak_tsdb_tiers_init(&s->tiers, mon_tiers_cb, s);
    tab_add(m, s);
    return s;
}

struct mon_series *mon_series_add_stored(struct ak_mon *m, const struct ak_mseries *ms)
{
    struct mon_series *s = series_new(m, ms->key, ms->type);
    s->id = ms->id;
    s->first_t = ms->first_ms;
    s->last_t = ms->last_ms;
    s->last_v = ms->last_value;
    s->have_t = ms->last_ms > 0;
    mon_index_id(m, s);
    return s;
}

static char *labels_json(const struct ak_expo_label *labels, size_t n)
{
    struct ak_json *o = ak_json_new_obj();
    for (size_t i = 0; i < n; i++)
        ak_json_set(o, labels[i].name, ak_json_new_strn(labels[i].value, labels[i].value_len));
    char *s = ak_json_dump(o, AK_JSON_COMPACT | AK_JSON_SORT);
    ak_json_free(o);
    return s;
}

static const char *label_value(const struct ak_expo_label *labels, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(labels[i].name, name) == 0)
            return labels[i].value;
    return NULL;
}

void mon_count_series(struct mon_series *s, struct mon_batch *b)
{
    if (s->seen_gen != b->gen) {
        s->seen_gen = b->gen;
        b->st.series++;
    }
}

struct mon_series *mon_series_get(struct ak_mon *m, const char *key, const char *name,
                                  const struct ak_expo_label *labels, size_t nlabels, int type,
                                  struct mon_batch *b)
{
    struct mon_series *s = mon_series_find(m, key);
    if (s)
        return s;
    if (m->n_series >= m->cfg->mon_max_series)
        return NULL;
    s = series_new(m, key, type);
    const char *svc = label_value(labels, nlabels, "service");
    if (!svc)
        svc = label_value(labels, nlabels, "job");
    s->metric = ak_xstrdup(name);
    s->service = ak_xstrdup(svc ? svc : "");
    s->labels_json = labels_json(labels, nlabels);
    b->st.new_series++;
    mon_mark_dirty(m, s);
    return s;
}

void mon_mark_dirty(struct ak_mon *m, struct mon_series *s)
{
    if (s->in_dirty)
        return;
    if (m->n_dirty == m->dirty_cap) {
        m->dirty_cap = m->dirty_cap ? m->dirty_cap * 2 : 64;
        m->dirty = ak_xrealloc(m->dirty, m->dirty_cap * sizeof(*m->dirty));
    }
    m->dirty[m->n_dirty++] = s;
    s->in_dirty = true;
    s->b_from = s->b_to = 0;
}

/* ids are INTEGER PRIMARY KEYs given in order: an array is the index; an id past the cap (a
 * database edited by hand) is found by a walk of the table */
#define MON_BY_ID_MAX (1u << 24)

void mon_index_id(struct ak_mon *m, struct mon_series *s)
{
    if (s->id <= 0 || (uint64_t)s->id >= MON_BY_ID_MAX)
        return;
    if ((size_t)s->id >= m->by_id_cap) {
        size_t cap = m->by_id_cap ? m->by_id_cap : 256;
        while (cap <= (size_t)s->id)
            cap *= 2;
        m->by_id = ak_xrealloc(m->by_id, cap * sizeof(*m->by_id));
        memset(m->by_id + m->by_id_cap, 0, (cap - m->by_id_cap) * sizeof(*m->by_id));
        m->by_id_cap = cap;
    }
    m->by_id[s->id] = s;
}

struct mon_series *mon_series_by_id(struct ak_mon *m, int64_t id)
{
    /* an id given in a rolled-back transaction may still be listed */
    if (id > 0 && (uint64_t)id < m->by_id_cap)
        return m->by_id[id] && m->by_id[id]->id == id ? m->by_id[id] : NULL;
    if (id <= 0 || (uint64_t)id < MON_BY_ID_MAX)
        return NULL;
    for (size_t i = 0; i < m->tab_cap; i++)
        if (m->tab[i] && m->tab[i]->id == id)
            return m->tab[i];
    return NULL;
}

static void blob_add(struct mon_blob **v, size_t *n, const uint8_t *p, size_t len)
{
    *v = ak_xrealloc(*v, (*n + 1) * sizeof(**v));
    (*v)[*n].data = ak_xmalloc(len ? len : 1);
    memcpy((*v)[*n].data, p, len);
    (*v)[*n].len = len;
    (*n)++;
}

size_t mon_mem_chunks(struct ak_mon *m, int64_t id, struct mon_blob **ret)
{
    struct mon_blob *v = NULL;
    size_t n = 0;

    pthread_mutex_lock(&m->mu);
    struct mon_series *s = mon_series_by_id(m, id);
    if (s) {
        for (size_t i = 0; i < m->n_pchunks; i++)
            if (m->pchunks[i].s == s)
                blob_add(&v, &n, m->pchunks[i].data, m->pchunks[i].len);
        if (s->chunk_dirty && ak_tsdb_chunk_count(&s->chunk)) {
            size_t len;
            const uint8_t *p = ak_tsdb_chunk_finish(&s->chunk, &len);
            blob_add(&v, &n, p, len);
        }
    }
    pthread_mutex_unlock(&m->mu);
    *ret = v;
    return n;
}

void mon_series_overlay(struct ak_mon *m, struct ak_mseries *v, size_t n)
{
    pthread_mutex_lock(&m->mu);
    for (size_t i = 0; i < n; i++) {
        const struct mon_series *s = mon_series_by_id(m, v[i].id);
        if (!s || !s->have_t)
            continue;
        if (s->last_t > v[i].last_ms) {
            v[i].last_ms = s->last_t;
            v[i].last_value = s->last_v;
        }
        if (s->first_t && (!v[i].first_ms || s->first_t < v[i].first_ms))
            v[i].first_ms = s->first_t;
    }
    pthread_mutex_unlock(&m->mu);
}

static void log_sample(struct ak_mon *m, struct mon_series *s, int64_t t, double v)
{
    if (m->n_lsamp == m->lsamp_cap) {
        m->lsamp_cap = m->lsamp_cap ? m->lsamp_cap * 2 : 1024;
        m->lsamp = ak_xrealloc(m->lsamp, m->lsamp_cap * sizeof(*m->lsamp));
    }
    m->lsamp[m->n_lsamp++] = (struct mon_lsample){s, t, v};
}

void mon_push_chunk(struct ak_mon *m, struct mon_series *s, int64_t start, int64_t end,
                    unsigned n, const uint8_t *data, size_t len)
{
    if (m->n_pchunks == m->pchunks_cap) {
        m->pchunks_cap = m->pchunks_cap ? m->pchunks_cap * 2 : 16;
        m->pchunks = ak_xrealloc(m->pchunks, m->pchunks_cap * sizeof(*m->pchunks));
    }
    struct mon_pchunk *c = &m->pchunks[m->n_pchunks++];
    c->s = s;
    c->start = start;
    c->end = end;
    c->n = n;
    c->len = len;
    c->data = ak_xmalloc(len ? len : 1);
    memcpy(c->data, data, len);
    mon_mark_dirty(m, s);
}

void mon_push_point(struct ak_mon *m, struct mon_series *s, int tier, const struct ak_tsdb_point *p)
{
    if (m->n_ppoints == m->ppoints_cap) {
        m->ppoints_cap = m->ppoints_cap ? m->ppoints_cap * 2 : 64;
        m->ppoints = ak_xrealloc(m->ppoints, m->ppoints_cap * sizeof(*m->ppoints));
    }
    struct mon_ppoint *q = &m->ppoints[m->n_ppoints++];
    q->s = s;
    q->tier = tier;
    q->p = (struct ak_mpoint){.start_ms = p->start_ms, .min = p->min, .max = p->max,
                              .sum = p->sum, .first = p->first, .last = p->last,
                              .count = p->count, .decreases = p->decreases};
    mon_mark_dirty(m, s);
}

int mon_tiers_cb(void *ctx, unsigned tier, const struct ak_tsdb_point *p)
{
    struct mon_series *s = ctx;
    if (s->m->replaying)
        return 0;
    /* replaying the log: the points its batches finished were stored with them */
    if (s->m->recovering && p->start_ms <= s->rec_last[tier])
        return 0;
    mon_push_point(s->m, s, (int)tier, p);
    return 0;
}

void mon_batch_init(struct ak_mon *m, struct mon_batch *b)
{
    memset(b, 0, sizeof(*b));
    b->gen = ++m->gen;
}

int mon_mtype(enum ak_expo_type t, const char *name)
{
    switch (t) {
    case AK_EXPO_COUNTER:
        return ak_endswith(name, "_created") ? AK_MTYPE_GAUGE : AK_MTYPE_COUNTER;
    case AK_EXPO_HISTOGRAM:
    case AK_EXPO_SUMMARY:
        /* buckets, _count and _sum only grow; quantiles and _created are levels */
        if (ak_endswith(name, "_bucket") || ak_endswith(name, "_count") ||
            ak_endswith(name, "_sum"))
            return AK_MTYPE_COUNTER;
        return AK_MTYPE_GAUGE;
    case AK_EXPO_UNTYPED:
        return AK_MTYPE_UNTYPED;
    default:
        return AK_MTYPE_GAUGE;
    }
}

int mon_ingest_series(struct ak_mon *m, struct mon_series *s, int64_t t, double v,
                      struct mon_batch *b)
{
    if (t < 0 || t > MON_MAX_T_MS || (s->have_t && t <= s->last_t)) {
        b->st.dropped++;
        return AK_OK;
    }
    if (ak_tsdb_chunk_count(&s->chunk) >= AK_TSDB_CHUNK_MAX_SAMPLES) {
        /* the full chunk is written once more if it changed since the last flush, then the
         * series starts a new one */
        if (s->chunk_dirty) {
            size_t len;
            const uint8_t *p = ak_tsdb_chunk_finish(&s->chunk, &len);
            mon_push_chunk(m, s, s->chunk_start, s->last_t, ak_tsdb_chunk_count(&s->chunk), p,
                           len);
        }
        ak_tsdb_chunk_init(&s->chunk);
        s->chunk_dirty = false;
    }
    if (ak_tsdb_chunk_count(&s->chunk) == 0)
        s->chunk_start = t;
    int r = ak_tsdb_chunk_append(&s->chunk, t, v);
    if (r < 0) {
        b->st.dropped++;
        return AK_OK;
    }
    /* the tiers saw every sample the chunk took, so their order check cannot fail here */
    (void)ak_tsdb_tiers_add(&s->tiers, t, v);
    mon_mark_dirty(m, s);
    if (!m->recovering)
        log_sample(m, s, t, v);
    if (t > m->max_t)
        m->max_t = t;
    s->chunk_dirty = true;
    s->have_t = true;
    s->last_t = t;
    /* a NaN (gap, stale marker) is not a value: SQLite would store it as NULL, read back as 0,
     * and "up" would look down, a limit 0; the series keeps its last known value */
    if (!isnan(v))
        s->last_v = v;
    if (!s->first_t || t < s->first_t)
        s->first_t = t;
    if (!s->b_from || t < s->b_from)
        s->b_from = t;
    if (t > s->b_to)
        s->b_to = t;
    mon_count_series(s, b);
    b->st.samples++;
    if (!b->st.from_ms || t < b->st.from_ms)
        b->st.from_ms = t;
    if (t > b->st.to_ms)
        b->st.to_ms = t;
    return AK_OK;
}

int mon_ingest(struct ak_mon *m, const char *name, const struct ak_expo_label *labels,
               size_t nlabels, int type, int64_t t, double v, struct mon_batch *b)
{
    ak_buf_reset(&m->key);
    if (ak_expo_series_key(name, labels, nlabels, &m->key) < 0) {
        b->st.dropped++;
        return AK_OK;
    }
    struct mon_series *s = mon_series_get(m, m->key.buf, name, labels, nlabels, type, b);
    if (!s) {
        b->st.dropped++;
        return AK_OK;
    }
    return mon_ingest_series(m, s, t, v, b);
}

static int flush_series_rows(struct ak_mon *m, struct ak_buf *err)
{
    for (size_t i = 0; i < m->n_dirty; i++) {
        struct mon_series *s = m->dirty[i];
        if (s->id)
            continue;
        int r = ak_store_mseries_put(m->wst, s->key, s->metric, s->service, s->labels_json,
                                     s->type, &s->id);
        if (r < 0)
            return ak_err(err, r, "cannot store series %s.", s->key);
        mon_index_id(m, s);
    }
    return AK_OK;
}

/* ---- the ingest log ----------------------------------------------------------------------
 * A record: the byte 1 (format), then per sample: varint series id, zigzag varint of the time
 * minus the previous sample's (0 before the first), the value's 8 bytes (IEEE 754, little
 * endian). A scrape (one time for all series) costs ~11 bytes a sample. */
#define LOG_FORMAT 1

static void put_varint(struct ak_buf *b, uint64_t x)
{
    uint8_t tmp[10];
    size_t n = 0;
    do {
        tmp[n] = (uint8_t)(x & 0x7f);
        x >>= 7;
        if (x)
            tmp[n] |= 0x80;
        n++;
    } while (x);
    ak_buf_addn(b, tmp, n);
}

static int get_varint(const uint8_t *p, size_t len, size_t *pos, uint64_t *ret)
{
    uint64_t x = 0;
    for (unsigned sh = 0; sh < 64 && *pos < len; sh += 7) {
        uint8_t c = p[(*pos)++];
        x |= (uint64_t)(c & 0x7f) << sh;
        if (!(c & 0x80)) {
            *ret = x;
            return AK_OK;
        }
    }
    return AK_ECORRUPT;
}

static void put_f64(struct ak_buf *b, double v)
{
    uint64_t u;
    uint8_t tmp[8];
    memcpy(&u, &v, 8);
    for (int i = 0; i < 8; i++)
        tmp[i] = (uint8_t)(u >> (8 * i));
    ak_buf_addn(b, tmp, 8);
}

static int log_put(struct ak_mon *m, struct ak_buf *err)
{
    int r = ak_store_mlog_put(m->wst, (const uint8_t *)m->logrec.buf, m->logrec.len,
                              &m->log_last_id);
    if (r < 0)
        return ak_err(err, r, "cannot append to the ingest log.");
    m->log_bytes += m->logrec.len;
    return AK_OK;
}

static int flush_log(struct ak_mon *m, struct ak_buf *err)
{
    int64_t prev = 0;
    int r = AK_OK;

    ak_buf_reset(&m->logrec);
    for (size_t i = 0; i < m->n_lsamp && r == AK_OK; i++) {
        const struct mon_lsample *x = &m->lsamp[i];
        if (!m->logrec.len) {
            ak_buf_addc(&m->logrec, LOG_FORMAT);
            prev = 0;
        }
        uint64_t d = (uint64_t)x->t - (uint64_t)prev;
        put_varint(&m->logrec, (uint64_t)x->s->id);
        put_varint(&m->logrec, (d << 1) ^ (uint64_t)-(int64_t)(d >> 63));
        put_f64(&m->logrec, x->v);
        prev = x->t;
        if (m->logrec.len >= MON_LOG_RECORD_BYTES) {
            r = log_put(m, err);
            ak_buf_reset(&m->logrec);
        }
    }
    if (r == AK_OK && m->logrec.len)
        r = log_put(m, err);
    return r;
}

int mon_log_replay(struct ak_mon *m, const uint8_t *p, size_t len, struct mon_batch *b)
{
    size_t pos = 1;
    int64_t t = 0;

    if (len < 1 || p[0] != LOG_FORMAT)
        return AK_ECORRUPT;
    while (pos < len) {
        uint64_t id, z, u = 0;
        if (get_varint(p, len, &pos, &id) < 0 || get_varint(p, len, &pos, &z) < 0 ||
            len - pos < 8)
            return AK_ECORRUPT;
        t = (int64_t)((uint64_t)t + ((z >> 1) ^ (uint64_t)-(int64_t)(z & 1)));
        for (int i = 0; i < 8; i++)
            u |= (uint64_t)p[pos + (size_t)i] << (8 * i);
        pos += 8;
        double v;
        memcpy(&v, &u, 8);
        struct mon_series *s = mon_series_by_id(m, id > INT64_MAX ? 0 : (int64_t)id);
        if (s)
            mon_ingest_series(m, s, t, v, b);
    }
    return AK_OK;
}

static int write_heads(struct ak_mon *m, struct ak_buf *err)
{
    for (size_t i = 0; i < m->tab_cap; i++) {
        struct mon_series *s = m->tab[i];
        if (s && s->ck_to) {
            int r = ak_store_mseries_touch(m->wst, s->id, s->ck_from, s->ck_to, s->last_v);
            if (r < 0)
                return ak_err(err, r, "cannot update series %s.", s->key);
        }
        if (!s || !s->chunk_dirty || !ak_tsdb_chunk_count(&s->chunk))
            continue;
        size_t len;
        const uint8_t *p = ak_tsdb_chunk_finish(&s->chunk, &len);
        int r = ak_store_mchunk_put(m->wst, s->id, s->chunk_start, s->last_t,
                                    ak_tsdb_chunk_count(&s->chunk), p, len);
        if (r < 0)
            return ak_err(err, r, "cannot store the open chunk of %s.", s->key);
    }
    int r = ak_store_mlog_trim(m->wst, m->log_last_id);
    return r < 0 ? ak_err(err, r, "cannot trim the ingest log.") : AK_OK;
}

static int flush_data(struct ak_mon *m, struct ak_buf *err)
{
    int r;
    for (size_t i = 0; i < m->n_pchunks; i++) {
        struct mon_pchunk *c = &m->pchunks[i];
        r = ak_store_mchunk_put(m->wst, c->s->id, c->start, c->end, c->n, c->data, c->len);
        if (r < 0)
            return ak_err(err, r, "cannot store a chunk of %s.", c->s->key);
    }
    for (size_t i = 0; i < m->n_dirty; i++) {
        struct mon_series *s = m->dirty[i];
        /* a touch per series per batch cost as much as the log: rows are widened by the
         * checkpoint (merging again after a rollback changes nothing) */
        if (s->b_to) {
            if (!s->ck_from || s->b_from < s->ck_from)
                s->ck_from = s->b_from;
            if (s->b_to > s->ck_to)
                s->ck_to = s->b_to;
        }
    }
    for (size_t i = 0; i < m->n_ppoints; i++) {
        struct mon_ppoint *q = &m->ppoints[i];
        r = ak_store_mpoint_put(m->wst, q->s->id, q->tier, &q->p);
        if (r < 0)
            return ak_err(err, r, "cannot store a tier point of %s.", q->s->key);
    }
    return AK_OK;
}

static void flush_done(struct ak_mon *m, bool ckpt)
{
    if (ckpt) {
        for (size_t i = 0; i < m->tab_cap; i++)
            if (m->tab[i]) {
                m->tab[i]->chunk_dirty = false;
                m->tab[i]->ck_from = m->tab[i]->ck_to = 0;
            }
        m->log_bytes = 0;
        m->ckpt_mono_ms = ak_now_mono_ms();
        m->ckpt_data_ms = m->max_t;
    }
    m->n_lsamp = 0;
    for (size_t i = 0; i < m->n_dirty; i++) {
        struct mon_series *s = m->dirty[i];
        s->in_dirty = false;
        s->b_from = s->b_to = 0;
        ak_freep(&s->metric);
        ak_freep(&s->service);
        ak_freep(&s->labels_json);
    }
    for (size_t i = 0; i < m->n_pchunks; i++)
        free(m->pchunks[i].data);
    m->n_dirty = m->n_pchunks = m->n_ppoints = 0;
}

static int flush_tx(struct ak_mon *m, bool ckpt, struct ak_buf *err)
{
    int r = ak_store_begin(m->wst);
    if (r < 0)
        return ak_err(err, r, "cannot begin a metrics transaction.");
    r = flush_series_rows(m, err);
    if (r == AK_OK && !ckpt)
        r = flush_log(m, err); /* a checkpoint writes those samples in the open chunks */
    if (r == AK_OK)
        r = flush_data(m, err);
    if (r == AK_OK && ckpt)
        r = write_heads(m, err);
    if (r == AK_OK) {
        r = ak_store_commit(m->wst);
        if (r < 0)
            ak_err(err, r, "cannot commit the metrics transaction.");
    }
    if (r < 0) {
        /* everything stays queued for the next flush; ids given inside the rolled-back
         * transaction do not exist */
        ak_store_rollback(m->wst);
        for (size_t i = 0; i < m->n_dirty; i++)
            if (m->dirty[i]->metric)
                m->dirty[i]->id = 0;
        return r;
    }
    flush_done(m, ckpt);
    return AK_OK;
}

int mon_checkpoint(struct ak_mon *m, struct ak_buf *err)
{
    return flush_tx(m, true, err);
}

int mon_flush(struct ak_mon *m, struct ak_buf *err)
{
    if (!m->ckpt_data_ms)
        m->ckpt_data_ms = m->max_t;
    if (m->log_bytes >= MON_CKPT_LOG_BYTES || ak_now_mono_ms() - m->ckpt_mono_ms >= MON_CKPT_MS ||
        (m->ckpt_data_ms && m->max_t - m->ckpt_data_ms >= MON_CKPT_MS))
        return flush_tx(m, true, err);
    if (!m->n_dirty && !m->n_pchunks && !m->n_ppoints)
        return AK_OK;
    return flush_tx(m, false, err);
}

void mon_table_free(struct ak_mon *m)
{
    for (size_t i = 0; i < m->tab_cap; i++) {
        struct mon_series *s = m->tab[i];
        if (!s)
            continue;
        free(s->key);
        free(s->metric);
        free(s->service);
        free(s->labels_json);
        free(s);
    }
    free(m->tab);
    for (size_t i = 0; i < m->n_pchunks; i++)
        free(m->pchunks[i].data);
    free(m->pchunks);
    free(m->ppoints);
    free(m->dirty);
    free(m->lsamp);
    free(m->by_id);
    m->lsamp = NULL;
    m->by_id = NULL;
    m->tab = NULL;
    m->tab_cap = m->n_series = 0;
}
