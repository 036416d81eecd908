/* poll_int.h — private to src/poll/: one pass (pass.c), applying it (apply.c), the service
 * (poll.c), status and coverage (coverage.c). */
#ifndef AK_POLL_INT_H
#define AK_POLL_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "asakai/ak_aws.h"
#include "asakai/ak_cfg.h"
#include "asakai/ak_events.h"
#include "asakai/ak_maint.h"

struct ak_httpc_multi;
struct ak_store;

enum pl_creds_state { PL_CREDS_NONE = 0, PL_CREDS_FETCHING, PL_CREDS_READY, PL_CREDS_FAILED };

/* One configured account: its credentials live across passes (kept until 5 min before they
 * expire), the rest is per pass. */
struct pl_account {
    const struct ak_cfg_aws_account *cfg;
    struct ak_aws_creds base;   /* from the chain (profile of the account) */
    struct ak_aws_creds creds;  /* what API calls are signed with: assumed role or base */
    enum pl_creds_state state;
    unsigned gen;               /* bumped whenever creds change */
    char *error;                /* why the credentials could not be had (per pass) */
    int attempts;               /* AssumeRole attempts of this fetch */
    struct pl_scope **waiters;  /* scopes waiting for credentials */
    size_t n_waiters;
};

/* One poller in one account and region, as one pass sees it. */
struct pl_scope {
    struct pl_pass *pass;
    struct pl_account *acct;
    int poller;                 /* enum ak_poller_id */
    char *region;               /* signing region ("us-east-1" for Health) */
    char *scope_region;         /* region in the scope name ("global" for Health) */
    char *scope;                /* "<poller>:<account>:<scope_region>" */
    int64_t since_ms;           /* last complete pass of the scope (0 = never) */
    int64_t events_from_ms;     /* elasticache_events: StartTime of this pass's query */
    /* progress */
    int stage;                  /* index into the poller's list of APIs */
    char *token;                /* next page token of the current API, NULL = first page */
    int chain_pages;            /* pages of the current API call that asked for more */
    size_t batch;               /* Health entities: index of the next batch of 10 arns */
    int attempts;               /* of the request in flight */
    unsigned creds_gen;         /* generation the request in flight was signed with */
    bool refreshed;             /* one credential refresh per scope and pass */
    /* outcome */
    bool done, ok;
    char *error;                /* one line: "Throttling: Rate exceeded (5 attempts)" */
    char *code;                 /* AWS error code of the failure, NULL when none */
    int pages;
    size_t seen;
    struct ak_pull_page *pv;    /* every page, kept until applied */
    size_t n_pv;
    struct ak_json *service_updates; /* merged over DescribeServiceUpdates pages */
    struct ak_json *health_arns, *health_events;
};

struct pl_pass {
    const struct ak_cfg *cfg;
    struct ak_httpc_multi *m;
    struct pl_account *accts;   /* borrowed from struct ak_poll */
    size_t n_accts;
    struct pl_scope *scopes;
    size_t n_scopes;
    uint64_t requests, retries;
    int peak;
    int64_t started_ms;
    uint64_t rng;               /* backoff jitter */
    const atomic_bool *abort;   /* set when the daemon stops: no new request is made */
};

/* An on-demand pass waiting for the poller thread. */
struct pl_request {
    unsigned mask;
    bool dry_run;
    void (*done)(void *arg, int r, struct ak_json *report, const char *err);
    void *arg;
    struct pl_request *next;
};

struct ak_poll {
    const struct ak_cfg *cfg;
    struct ak_maint_cfg mcfg;
    struct ak_store *st;
    struct pl_account *accts;   /* parallel to cfg->aws_accounts */
    pthread_mutex_t pass_mu;    /* one pass at a time */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t thread;
    bool thread_started, stopping;
    atomic_bool abort;
    int64_t next_due[AK_POLLER_N];
    struct pl_request *queue, *queue_tail; /* under mu */
    void (*listener)(void *);
    void *listener_arg;
};

/* pass.c: builds the scopes of the pollers selected by mask (bit i = poller i) for every
 * account and region, and runs every request to the end. The store is read for the scopes'
 * last successful pass (elasticache_events asks from there). */
int ak__poll_pass_run(struct ak_poll *p, unsigned mask, struct pl_pass *pass, struct ak_buf *err);
void ak__poll_pass_release(struct pl_pass *pass);
void ak__poll_account_reset(struct pl_account *a);

/* apply.c: applies a finished pass in one transaction (rolled back when dry_run) and fills
 * report's "scopes", "found" and "changes"; *ret_changed tells whether records changed. */
int ak__poll_apply(struct ak_poll *p, struct pl_pass *pass, bool dry_run, struct ak_json *report,
                   bool *ret_changed, struct ak_buf *err);

/* The poller's API calls, in order. */
int ak__poll_stages(int poller, const enum ak_pull_api **ret);

#endif
