/* maint_raw.c — normalising one archived raw message into records (parse + apply + state). */
#include "asakai/ak_maint.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asakai/ak_buf.h"
#include "asakai/ak_err.h"
#include "asakai/ak_events.h"
#include "asakai/ak_store.h"
#include "asakai/ak_util.h"
#include "maint_int.h"
#include "src/core/ak_banned.h"

/* Notes are for people reading the archive; a long one helps nobody. */
#define NOTE_MAX 1000

/* The source's own message id from the archive's dedupe id ("sns:<MessageId>", "eb:<id>");
 * content hashes are kept whole. */
static const char *message_id_of(const char *dedupe_id)
{
    if (ak_startswith(dedupe_id, "import:")) /* imports dedupe in their own namespace */
        dedupe_id += 7;
    if (ak_startswith(dedupe_id, "sns:") || ak_startswith(dedupe_id, "eb:"))
        return strchr(dedupe_id, ':') + 1;
    return dedupe_id;
}

/* An SNS subscription/unsubscribe confirmation: kept as "control", never parsed as events. */
static bool is_sns_control(const struct ak_raw *raw, struct ak_buf *note)
{
    struct ak_sns_msg m = {0};
    bool control = false;

    if (!ak_sns_looks_like(raw->body, raw->body_len))
        return false;
    if (ak_sns_parse(raw->body, raw->body_len, &m, NULL) == AK_OK &&
        m.type != AK_SNS_NOTIFICATION) {
        control = true;
        ak_buf_addf(note, "%s for %s", m.type_str ? m.type_str : "confirmation",
                    m.topic_arn ? m.topic_arn : "an unknown topic");
    }
    ak_sns_msg_release(&m);
    return control;
}

/* A Health event about exactly one resource (not one page of a larger event, whose other pages
 * must land on the same record) may describe what a poller already recorded under its own key,
 * e.g. an EC2 scheduled event: it joins that record instead of making a second one. */
static bool joins_poll_record(const struct ak_obs *o)
{
    return ak_streq(o->source, "aws.health") && o->n_resources == 1 && o->total_pages <= 1;
}

static int apply_all(struct ak_store *st, const struct ak_maint_cfg *cfg,
                     const struct ak_raw *raw, const struct ak_obs_list *l, int64_t now_ms,
                     struct ak_buf *note, struct ak_buf *summary, struct ak_buf *err)
{
    for (size_t i = 0; i < l->n; i++) {
        struct ak_maint_apply_opts opts = {0};
        struct ak_maint_result res;
        struct ak_buf e = AK_BUF_INIT(512);
        opts.merge_by_resource = joins_poll_record(&l->v[i]);
        int r = ak_maint_apply_ex(st, cfg, &l->v[i], &opts, raw->id, raw->channel,
                                  message_id_of(raw->dedupe_id), now_ms, &res, &e);
        if (r == AK_EINVAL) /* one bad observation must not lose the others: note it */
            ak_buf_addf(note, "%sobservation %zu refused: %s", note->len ? "; " : "", i + 1,
                        e.buf);
        else if (r < 0)
            ak_err(err, r, "%s", e.buf);
        ak_buf_release(&e);
        if (r == AK_EINVAL)
            continue;
        if (r < 0)
            return r;
        ak_buf_addf(note, "%s#%lld %s", note->len ? "; " : "", (long long)res.rec_id, res.what);
        if (summary)
            ak_buf_addf(summary, "raw #%lld -> record #%lld: %s\n", (long long)raw->id,
                        (long long)res.rec_id, res.what);
    }
    return AK_OK;
}

/* Parses raw and applies it; sets *ret_state to the raw state and note to its note. */
static int normalise(struct ak_store *st, const struct ak_maint_cfg *cfg,
                     const struct ak_raw *raw, int64_t now_ms, const char **ret_state,
                     struct ak_buf *note, struct ak_buf *summary, struct ak_buf *err)
{
    struct ak_obs_list l = {0};
    struct ak_buf why = AK_BUF_INIT(NOTE_MAX);
    int r;

    if (is_sns_control(raw, note)) {
        *ret_state = "control";
        return AK_OK;
    }
    r = ak_events_parse_raw(raw->body, raw->body_len, raw->received_at, &l, &why);
    if (r == AK_OK && l.n > 0) {
        *ret_state = "parsed";
        r = apply_all(st, cfg, raw, &l, now_ms, note, summary, err);
    } else {
        /* every other outcome is kept, never dropped: ignored or unparsed, with the reason */
        *ret_state = r == AK_OK ? "ignored" : "unparsed";
        ak_buf_add(note, why.len ? why.buf : r == AK_OK ? "not a maintenance" : ak_strerror(r));
        r = AK_OK;
    }
    ak_obs_list_release(&l);
    ak_buf_release(&why);
    return r;
}

int ak_maint_process_raw(struct ak_store *st, const struct ak_maint_cfg *cfg, int64_t raw_id,
                         int64_t now_ms, struct ak_buf *summary, struct ak_buf *err)
{
    struct ak_raw raw = {0};
    struct ak_buf note = AK_BUF_INIT(NOTE_MAX);
    const char *state = NULL;
    int r = ak_store_begin(st);

    if (r < 0)
        return ak_err(err, r, "Cannot start a store transaction: %s.", ak_strerror(r));
    r = ak_store_raw_get(st, raw_id, &raw);
    if (r < 0) {
        ak_err(err, r, "Cannot read raw message #%lld: %s.", (long long)raw_id, ak_strerror(r));
        goto out;
    }
    if (!ak_streq(raw.state, "pending"))
        goto out; /* already normalised: processing is idempotent */
    r = normalise(st, cfg, &raw, now_ms, &state, &note, summary, err);
    if (r == AK_OK)
        r = ak_store_raw_set_state(st, raw_id, state, note.len ? note.buf : NULL);
    if (r == AK_OK)
        r = ak_store_commit(st);
    if (r < 0)
        ak_err(err, r, "Cannot store the result of raw message #%lld: %s.", (long long)raw_id,
               ak_strerror(r));
out:
    if (r < 0 || !state)
        ak_store_rollback(st);
    ak_raw_release(&raw);
    ak_buf_release(&note);
    return r;
}
