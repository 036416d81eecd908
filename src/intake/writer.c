/* writer.c — the single writer thread: group commit of archived messages, then normalisation.
 *
 * Why one writer: SQLite allows one writer at a time anyway, and batching every message that
 * arrived while the previous fsync ran into one transaction turns N fsyncs into one (group
 * commit), which is what lets durable intake keep up with signature verification. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "asakai/ak_buf.h"
#include "asakai/ak_err.h"
#include "asakai/ak_log.h"
#include "asakai/ak_metrics.h"
#include "asakai/ak_time.h"
#include "asakai/ak_util.h"
#include "intake_int.h"
#include "../core/ak_banned.h"

#define PENDING_BATCH 32
#define NORMALISE_MAX_ATTEMPTS 5
#define BURST_NORMALISE 8

/* Appends j to the queue; called with in->mu held. AK_EBUSY when stopping. */
static int enqueue_locked(struct ak_intake *in, struct job *j)
{
    if (in->stopping)
        return AK_EBUSY;
    j->next = NULL;
    j->done = false;
    if (in->tail)
        in->tail->next = j;
    else
        in->head = j;
    in->tail = j;
    pthread_cond_signal(&in->cv_work);
    return AK_OK;
}

int ak__intake_submit(struct ak_intake *in, struct job *j)
{
    pthread_mutex_lock(&in->mu);
    int r = enqueue_locked(in, j);
    while (r == AK_OK && !j->done)
        pthread_cond_wait(&in->cv_done, &in->mu);
    pthread_mutex_unlock(&in->mu);
    return r == AK_OK ? j->rc : r;
}

int ak__intake_submit_async(struct ak_intake *in, struct job *j)
{
    pthread_mutex_lock(&in->mu);
    int r = enqueue_locked(in, j);
    pthread_mutex_unlock(&in->mu);
    return r;
}

static void observe_store(struct ak_intake *in, const char *op)
{
    char labels[64];
    snprintf(labels, sizeof(labels), "op=\"%s\"", op);
    ak_metrics_observe("asakai_store_op_seconds", labels, ak_store_last_op_us(in->st) / 1e6);
}

/* Archives every raw message of every archive job in one transaction. */
static void run_archive_batch(struct ak_intake *in, struct job **jobs, size_t n)
{
    int64_t t0 = ak_now_mono_ms();
    size_t msgs = 0;
    int r = ak_store_begin(in->st);

    for (size_t i = 0; r == AK_OK && i < n; i++) {
        struct job *j = jobs[i];
        for (size_t k = 0; k < j->n; k++) {
            j->rcs[k] = ak_store_raw_put(in->st, &j->raws[k], &j->ids[k], &j->dups[k]);
            msgs++;
        }
    }
    if (r == AK_OK)
        r = ak_store_commit(in->st);
    if (r != AK_OK) {
        ak_store_rollback(in->st);
        ak_log(AK_LOG_ERR, "intake", "archive commit failed", "error", ak_strerror(r), NULL);
    } else
        observe_store(in, "commit");
    for (size_t i = 0; i < n; i++)
        jobs[i]->rc = r;
    ak_metrics_observe("asakai_intake_commit_batch_messages", "", (double)msgs);
    ak_metrics_observe("asakai_intake_commit_seconds", "", (ak_now_mono_ms() - t0) / 1e3);
}

/* Notes a failed normalisation of raw message id: backs off exponentially (1 s .. 30 s) so a
 * message that keeps failing (disk full, a store error) cannot spin the writer, and after
 * NORMALISE_MAX_ATTEMPTS keeps it as "unparsed" with the reason (never dropped) so that the
 * messages after it are normalised. */
static void note_failure(struct ak_intake *in, int64_t id, const char *why, const char *idbuf)
{
    if (in->failed_id == id)
        in->failed_count++;
    else {
        in->failed_id = id;
        in->failed_count = 1;
    }
    int64_t backoff = 1000LL << (in->failed_count < 6 ? in->failed_count - 1 : 5);
    in->retry_after_ms = ak_now_mono_ms() + (backoff < 30000 ? backoff : 30000);
    if (in->failed_count == 1)
        ak_log(AK_LOG_ERR, "intake", "normalise failed; will retry", "raw_id", idbuf, "error",
               why, NULL);
    if (in->failed_count >= NORMALISE_MAX_ATTEMPTS) {
        char note[512];
        snprintf(note, sizeof(note), "normalisation failed %u times: %s", in->failed_count, why);
        if (ak_store_raw_set_state(in->st, id, "unparsed", note) == AK_OK) {
            ak_log(AK_LOG_ERR, "intake", "gave up normalising; kept as unparsed", "raw_id", idbuf,
                   "error", why, NULL);
            in->failed_id = 0;
            in->retry_after_ms = 0;
        }
    }
}

/* Normalises raw message id; true on success (whatever state it reached). */
static bool process_one(struct ak_intake *in, int64_t id, char **ret_state, char **ret_note)
{
    struct ak_buf err = AK_BUF_INIT(1024);
    struct ak_raw raw = {0};
    char idbuf[24];
    int r = ak_maint_process_raw(in->st, &in->mcfg, id, ak_now_wall_ms(), NULL, &err);

    snprintf(idbuf, sizeof(idbuf), "%lld", (long long)id);
    if (r != AK_OK)
        note_failure(in, id, err.buf, idbuf);
    else if (in->failed_id == id)
        in->failed_id = 0;
    if (ak_store_raw_get(in->st, id, &raw) == AK_OK) {
        char labels[64];
        snprintf(labels, sizeof(labels), "state=\"%s\"", raw.state);
        if (r == AK_OK)
            ak_metrics_inc("asakai_intake_normalised_total", labels);
        if (r == AK_OK && ak_streq(raw.state, "unparsed"))
            ak_log(AK_LOG_WARN, "intake", "kept unparsed message", "raw_id", idbuf, "channel",
                   raw.channel, "why", raw.note, NULL);
        if (ret_state) {
            *ret_state = ak_xstrdup(raw.state);
            *ret_note = ak_xstrdup(r == AK_OK ? raw.note : err.buf);
        }
    } else if (ret_state) {
        *ret_state = ak_xstrdup("error");
        *ret_note = ak_xstrdup(err.buf);
    }
    ak_raw_release(&raw);
    ak_buf_release(&err);
    return r == AK_OK;
}

static void notify_listener(struct ak_intake *in)
{
    pthread_mutex_lock(&in->mu);
    void (*fn)(void *) = in->listener;
    void *arg = in->listener_arg;
    pthread_mutex_unlock(&in->mu);
    if (fn)
        fn(arg);
}

static bool jobs_waiting(struct ak_intake *in)
{
    pthread_mutex_lock(&in->mu);
    bool w = in->head != NULL;
    pthread_mutex_unlock(&in->mu);
    return w;
}

static bool stopping(struct ak_intake *in)
{
    pthread_mutex_lock(&in->mu);
    bool s = in->stopping;
    pthread_mutex_unlock(&in->mu);
    return s;
}

/* Normalises up to max archived messages, stopping early when deliveries wait to be archived
 * (acknowledging senders comes first) or at the first failure (then backing off); returns how
 * many it normalised. Normalisation commits are not fsynced: the raw message is durable and
 * stays "pending" until its normalisation commits, so a crash only means it is normalised again
 * at the next start. */
static size_t process_pending(struct ak_intake *in, size_t max)
{
    int64_t *ids = NULL;
    size_t n = 0, done = 0;
    if (in->retry_after_ms && ak_now_mono_ms() < in->retry_after_ms)
        return 0;
    if (ak_store_raw_pending(in->st, max, &ids, &n) != AK_OK)
        return 0;
    ak_store_set_durable(in->st, false);
    for (size_t i = 0; i < n; i++) {
        if (!process_one(in, ids[i], NULL, NULL))
            break;
        done++;
        if (jobs_waiting(in))
            break;
    }
    ak_store_set_durable(in->st, true);
    free(ids);
    if (done)
        notify_listener(in);
    return done;
}

static void run_process_job(struct ak_intake *in, struct job *j)
{
    /* import: the caller waits for these, so they are durable like everything it is told */
    j->states = ak_xcalloc(j->n, sizeof(char *));
    j->notes = ak_xcalloc(j->n, sizeof(char *));
    for (size_t i = 0; i < j->n; i++)
        process_one(in, j->ids[i], &j->states[i], &j->notes[i]);
    j->rc = AK_OK;
    if (j->n)
        notify_listener(in);
}

void *ak__intake_writer_main(void *arg)
{
    struct ak_intake *in = arg;
    struct job *batch[1024];

    /* messages acknowledged before a crash but not yet normalised */
    while (!stopping(in) && process_pending(in, PENDING_BATCH) > 0) {
    }
    /* (the loop below drains the queue before it honours stopping) */
    pthread_mutex_lock(&in->mu);
    in->ready = true;
    for (;;) {
        if (!in->head) {
            if (in->stopping)
                break;
            pthread_mutex_unlock(&in->mu);
            size_t did = process_pending(in, PENDING_BATCH);
            pthread_mutex_lock(&in->mu);
            if (!did && !in->head && !in->stopping) {
                struct timespec ts;
                clock_gettime(CLOCK_REALTIME, &ts);
                ts.tv_sec += 1;
                pthread_cond_timedwait(&in->cv_work, &in->mu, &ts);
            }
            continue;
        }
        size_t n = 0;
        struct job *proc = NULL;
        while (in->head && n < AK_ARRAY_SIZE(batch)) {
            struct job *j = in->head;
            if (j->kind == JOB_PROCESS) {
                if (n == 0) { /* run process jobs alone, in arrival order */
                    in->head = j->next;
                    proc = j;
                }
                break;
            }
            in->head = j->next;
            batch[n++] = j;
        }
        if (!in->head)
            in->tail = NULL;
        pthread_mutex_unlock(&in->mu);
        if (n)
            run_archive_batch(in, batch, n);
        if (proc)
            run_process_job(in, proc);
        /* asynchronous jobs complete outside the lock; their callback frees the job, so the
         * waiters' jobs are marked first and the async ones are never touched after */
        size_t n_sync = 0;
        for (size_t i = 0; i < n; i++)
            if (!batch[i]->complete)
                batch[n_sync++] = batch[i];
            else
                batch[i]->complete(batch[i]);
        pthread_mutex_lock(&in->mu);
        for (size_t i = 0; i < n_sync; i++)
            batch[i]->done = true;
        if (proc)
            proc->done = true;
        pthread_cond_broadcast(&in->cv_done);
        /* under a sustained burst the queue never empties: after answering, normalise a few
         * messages per commit so records (and their notifications) keep up while acknowledging
         * senders keeps priority; process_pending stops early when new deliveries wait */
        if (n) {
            pthread_mutex_unlock(&in->mu);
            process_pending(in, BURST_NORMALISE);
            pthread_mutex_lock(&in->mu);
        }
    }
    in->ready = false;
    pthread_mutex_unlock(&in->mu);
    return NULL;
}
