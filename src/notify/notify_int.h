/* notify_int.h — private to src/notify: the worker's state. */
#ifndef AK_NOTIFY_INT_H
#define AK_NOTIFY_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "asakai/ak_cfg.h"
#include "asakai/ak_maint.h"
#include "asakai/ak_route.h"
#include "asakai/ak_store.h"
#include "asakai/ak_tz.h"

#define NOTIFY_ROUTE_BATCH 256
#define NOTIFY_SEND_BATCH 64
#define NOTIFY_SENDERS 4 /* rows of one batch are distinct (record, receiver) pairs: sent concurrently */
#define NOTIFY_REMINDER_SCAN_MS 30000
#define NOTIFY_DIGEST_CATCHUP_MS (6 * 3600 * 1000LL) /* a digest missed while down is sent late */

struct ak_notify {
    const struct ak_cfg *cfg;
    struct ak_maint_cfg mcfg;
    struct ak_store *st;
    struct ak_route_tree *routes;
    struct ak_tz **tz;        /* per receiver (digest and human times) */
    struct ak_store *send_st[NOTIFY_SENDERS]; /* one connection per sender thread */
    pthread_mutex_t pause_mu; /* guards paused_until (senders run concurrently) */
    int64_t *paused_until;    /* per receiver: after a 429 / Retry-After, nothing is sent to that
                                 receiver before this time (the limit is the receiver's, not the
                                 message's) */
    char install_id[40];
    int64_t first_started_ms; /* first start of notifications on this store: no digest before it */

    pthread_t thread;
    bool thread_started;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stopping;
    bool kicked;
    int64_t last_reminder_scan_ms;
    /* ak_notify_set_report (guarded by mu) */
    int (*report_build)(void *arg, int64_t at_ms, const char *tz, struct ak_buf *md,
                        struct ak_buf *html, struct ak_buf *json);
    void *report_arg;
};

/* deliver.c: sends one due outbox row and puts the outcome in *o (state, attempts, next_at,
 * sent_at, last_error) for the caller to write (a receiver that is paused gets nothing: the
 * row's next_at moves to the end of the pause, without counting an attempt). */
void ak__notify_deliver(struct ak_notify *n, struct ak_store *st, struct ak_outbox *o,
                        int64_t now_ms);
const struct ak_cfg_receiver *ak__notify_receiver(const struct ak_notify *n, const char *name,
                                                  size_t *ret_index);

#endif
