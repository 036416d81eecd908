/* ak_intake.h — the intake pipeline (src/intake/): verify, archive durably, normalise after.
 *
 * HTTP handlers call ak_intake_sns/_eventbridge/_import from their worker threads. A message
 * that passes every check is handed to the single writer thread, which commits queued messages
 * together (group commit, synchronous=FULL) and wakes the handlers: a handler answers 2xx only
 * after its message is durable. Between commits the writer normalises archived messages into
 * maintenance records (ak_maint_process_raw), so answering never waits on parsing. Messages still
 * pending after a crash are normalised at the next start.
 */
#ifndef AK_INTAKE_H
#define AK_INTAKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ak_buf;
struct ak_cfg;
struct ak_json;
struct ak_intake;

/* Opens the writer store under cfg->data_dir and starts the writer thread. cfg must outlive it. */
int ak_intake_start(const struct ak_cfg *cfg, struct ak_intake **ret, struct ak_buf *err);
/* Stops accepting, commits what is queued, waits for the writer, closes the store. NULL-safe. */
void ak_intake_stop(struct ak_intake *in);
bool ak_intake_ready(struct ak_intake *in);
/* fn(arg) is called from the writer thread after normalisation committed record changes (the
 * notification worker's kick). Set it before messages arrive; fn must be cheap. */
void ak_intake_set_listener(struct ak_intake *in, void (*fn)(void *arg), void *arg);

struct ak_intake_result {
    int status;          /* HTTP status to answer */
    int64_t raw_id;      /* archive id when stored (or the existing one for a duplicate) */
    bool duplicate;
    char result[24];     /* "accepted", "duplicate", "rejected" */
    char reason[240];    /* one line, for rejections */
};

/* POST /intake/sns: parse, allow-list, certificate URL policy, certificate fetch/check, signature,
 * then archive (and confirm a SubscriptionConfirmation when allowed). */
void ak_intake_sns(struct ak_intake *in, const char *body, size_t len, const char *remote,
                   struct ak_intake_result *ret);
/* The same, without blocking the calling thread on the commit (for servers that suspend the
 * request instead): runs every check now. Returns false when *ret is already final (a rejection,
 * or a message handled synchronously such as a SubscriptionConfirmation). Returns true when the
 * message was queued: then done(arg) is called exactly once, from the writer thread, after *ret
 * became final (after the commit). body and ret must stay valid until then. */
bool ak_intake_sns_async(struct ak_intake *in, const char *body, size_t len, const char *remote,
                         struct ak_intake_result *ret, void (*done)(void *arg), void *arg);

/* POST /intake/eventbridge: api_key_value is the request's header value (may be NULL). */
void ak_intake_eventbridge(struct ak_intake *in, const char *body, size_t len, const char *remote,
                           const char *api_key_value, struct ak_intake_result *ret);
/* POST /api/v1/events/import: every document of body is archived (channel "import", or the
 * given channel) and normalised before returning. *ret_report: JSON object {accepted, duplicate,
 * skipped, documents: [{index, result, raw_id, state, note}]}. */
int ak_intake_import(struct ak_intake *in, const char *channel, const char *name,
                     const char *body, size_t len, struct ak_json **ret_report, struct ak_buf *err);

#endif
