/* events-int.h — private helpers shared by the files of src/events/ (not a public header).
 *
 * Each payload parser fills a struct ak_obs_list through these helpers; every string they store
 * is owned by the observation. */
#ifndef AK_EVENTS_INT_H
#define AK_EVENTS_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ak_buf;
struct ak_json;
struct ak_obs;
struct ak_obs_list;
struct ak_events_ctx;

/* Largest payload or delivery body the parsers accept (SNS caps messages at 256 KiB; Health
 * pages at 256 KB; the slack covers JSON escaping of a Message inside its envelope). */
#define AK_EVENTS_MAX_BODY (1024 * 1024)
/* Largest import file ak_events_split accepts. */
#define AK_EVENTS_MAX_SPLIT (32 * 1024 * 1024)

/* Appends a zeroed observation to l and returns it. */
struct ak_obs *ak_events_obs_push(struct ak_obs_list *l);
/* Adds s (may be NULL or empty: ignored) to o->resources; duplicates are removed by
 * ak_events_obs_finish(). */
void ak_events_obs_add_resource(struct ak_obs *o, const char *s);
/* Removes duplicate resources (keeping the first occurrence and the order). */
void ak_events_obs_finish(struct ak_obs *o);
/* Sets *dst to a copy of s (NULL stays NULL), freeing the old value. */
void ak_events_set(char **dst, const char *s);

/* Builds "<prefix> <kind words> <first resource>[ (+N more)]" into o->title. kind words are the
 * kind with dashes as spaces, or words when not NULL; subject, when not NULL, replaces the
 * resource part. */
void ak_events_obs_title(struct ak_obs *o, const char *prefix, const char *words,
                         const char *subject);

/* Parses the account and region out of an ARN "arn:PARTITION:SERVICE:REGION:ACCOUNT:...".
 * ret_* are malloc'ed (NULL when that field is empty); AK_EINVAL when arn is not an ARN. */
int ak_events_arn_split(const char *arn, const char *service, char **ret_region,
                        char **ret_account);

/* Epoch milliseconds from an RFC 1123/3339/RDS string or a JSON number of epoch seconds;
 * 0 when absent or unparseable. */
int64_t ak_events_time(const struct ak_json *v);

/* True when hay contains needle ignoring ASCII case (needle given in lowercase). */
bool ak_events_ci_contains(const char *hay, const char *needle);

/* elasticache.c, shared with the pull parsers (pull.c) so push and poll agree:
 * what the event "ElastiCache:<name>" means (AK_ENOTFOUND: not a maintenance event); */
int ak_events_ec_event(const char *name, const char **ret_kind, const char **ret_status,
                       bool *ret_required);
/* the window of an event text ("Start Time: %s, End Time: %s"; a reschedule's "New Start
 * Time: %s, New End Time: %s"); nothing is written when there is none or *start is set; */
void ak_events_ec_window(const char *text, int64_t *start, int64_t *end);
/* the dedupe key "elasticache:<acct>:<region>:<target>:<family>[:<update>]" (the update name
 * only for kind service-update; NULL account/region give "-"). malloc'ed. */
char *ak_events_ec_key(const char *account, const char *region, const char *target,
                       const char *kind, const char *update);
/* rds.c: the dedupe key "rds:<acct>:<region>:<db name>:<family>". malloc'ed. */
char *ak_events_rds_key(const char *account, const char *region, const char *name,
                        const char *kind);
/* health.c: one Health API event (DescribeEvents item; may be NULL, then the ARN tells what it
 * can) with its DescribeAffectedEntities entities -> one observation, source "health-api".
 * ctx->region NULL: the event's region, else the ARN's. */
int ak_events_health_entities(const struct ak_json *event, const char *arn,
                              const struct ak_json *entities, const struct ak_events_ctx *ctx,
                              struct ak_obs_list *l, struct ak_buf *why);

/* Payload parsers: return AK_OK (maybe with no observation and a reason in why),
 * AK_EUNSUPPORTED or AK_EINVAL. */
int ak_events_health(const struct ak_json *ev, const struct ak_json *detail,
                     const struct ak_events_ctx *ctx, struct ak_obs_list *l, struct ak_buf *why);
int ak_events_health_api(const struct ak_json *j, const struct ak_events_ctx *ctx,
                         struct ak_obs_list *l, struct ak_buf *why);
int ak_events_elasticache(const struct ak_json *msg, const struct ak_events_ctx *ctx,
                          struct ak_obs_list *l, struct ak_buf *why);
int ak_events_rds_sns(const struct ak_json *msg, const struct ak_events_ctx *ctx,
                      struct ak_obs_list *l, struct ak_buf *why);
int ak_events_rds_eventbridge(const struct ak_json *ev, const struct ak_events_ctx *ctx,
                              struct ak_obs_list *l, struct ak_buf *why);

#endif
