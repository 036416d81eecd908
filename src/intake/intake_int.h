/* intake_int.h — private to src/intake: the writer queue shared by intake.c and writer.c. */
#ifndef AK_INTAKE_INT_H
#define AK_INTAKE_INT_H

#include <pthread.h>
#include <regex.h>
#include <stdbool.h>

#include "asakai/ak_cfg.h"
#include "asakai/ak_maint.h"
#include "asakai/ak_store.h"

enum job_kind { JOB_ARCHIVE = 1, JOB_PROCESS };

struct job {
    enum job_kind kind;
    /* JOB_ARCHIVE: in: raws[n] (borrowed); out: ids[n], dups[n], rcs[n] */
    /* JOB_PROCESS: in: ids[n]; out: states/notes via ak_store_raw_get after processing */
    struct ak_raw *raws;
    int64_t *ids;
    bool *dups;
    int *rcs;
    char **states; /* JOB_PROCESS out, malloc'ed */
    char **notes;
    size_t n;
    int rc;        /* whole-job failure (commit failed) */
    bool done;
    /* asynchronous jobs: called by the writer (without its lock) instead of waking a waiter */
    void (*complete)(struct job *j);
    struct job *next;
};

#define CERT_CACHE_MAX 32
#define REGION_RE_MAX 32

/* A cached certificate (or a cached failure to get one). Shared between threads: refs counts
 * the users outside the lock; an entry evicted while in use is freed by its last user. */
struct cert_entry {
    char *url;
    struct ak_cert *cert; /* NULL: a cached failure (err, reason) */
    int err;
    char reason[200];
    int64_t added_ms;
    int64_t expires_ms;
    unsigned refs;
    bool in_cache;
    bool verified; /* a message verified with it: evicted last */
};

#define CERT_FETCHES_PER_SEC 10   /* at most this many fetches a second, whatever comes in */
#define CERT_FAIL_TTL_MS 60000    /* a refused certificate URL is not fetched again for 1 min */
#define CERT_TRANSIENT_TTL_MS 5000
#define CERT_MAX_TTL_MS 86400000  /* re-fetch daily even when notAfter is far */

struct region_re {
    char region[32];
    bool ok;
    regex_t cert_re;
    regex_t sub_re;
};

struct ak_intake {
    const struct ak_cfg *cfg;
    struct ak_maint_cfg mcfg;
    struct ak_store *st;
    pthread_t thread;
    bool thread_started;

    pthread_mutex_t mu;
    pthread_cond_t cv_work;
    pthread_cond_t cv_done;
    struct job *head, *tail;
    bool stopping;
    bool ready;

    pthread_mutex_t cache_mu;
    struct cert_entry *certs[CERT_CACHE_MAX];
    size_t n_certs;
    int64_t fetch_window_ms; /* rate limit of certificate fetches */
    unsigned fetches_in_window;
    /* normalisation failures: back off, and give up on an id after MAX attempts */
    int64_t failed_id;
    unsigned failed_count;
    int64_t retry_after_ms;
    struct region_re res[REGION_RE_MAX];
    void (*listener)(void *arg);
    void *listener_arg;
    size_t n_res;
};

/* certs.c: the certificate for url (cached, or fetched and checked), with a reference the caller
 * returns with ak__intake_cert_put(). On failure *ret is NULL and why says why; AK_EIO /
 * AK_ETIMEDOUT / AK_EBUSY are transient (answer 503), anything else is a refusal (403). */
int ak__intake_cert_get(struct ak_intake *in, const char *url, const char *region,
                        struct cert_entry **ret, struct ak_buf *why);
void ak__intake_cert_put(struct ak_intake *in, struct cert_entry *e);
/* A signature verified with e's certificate: it is kept in preference to unproven ones. */
void ak__intake_cert_verified(struct ak_intake *in, struct cert_entry *e);
void ak__intake_certs_free(struct ak_intake *in);
char *ak__intake_expand_region(const char *pattern, const char *region, bool regex_escape);

/* writer.c */
void *ak__intake_writer_main(void *arg);
/* Queues j and waits until the writer has run it. AK_EBUSY when stopping. */
int ak__intake_submit(struct ak_intake *in, struct job *j);
/* Queues j (which has j->complete) and returns at once. AK_EBUSY when stopping (not queued). */
int ak__intake_submit_async(struct ak_intake *in, struct job *j);

#endif
