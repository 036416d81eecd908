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

struct cert_entry {
    char *url;
    struct ak_cert *cert;
    int64_t expires_ms;
};

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
    struct cert_entry certs[CERT_CACHE_MAX];
    size_t n_certs;
    struct region_re res[REGION_RE_MAX];
    size_t n_res;
};

/* writer.c */
void *ak__intake_writer_main(void *arg);
/* Queues j and waits until the writer has run it. AK_EBUSY when stopping. */
int ak__intake_submit(struct ak_intake *in, struct job *j);
/* Queues j (which has j->complete) and returns at once. AK_EBUSY when stopping (not queued). */
int ak__intake_submit_async(struct ak_intake *in, struct job *j);

#endif
