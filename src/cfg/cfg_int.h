/* cfg_int.h — private to src/cfg: the YAML node tree and the option table. */
#ifndef AK_CFG_INT_H
#define AK_CFG_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "asakai/ak_cfg.h"

#define AK_CFG_MAX_ERRORS 20
#define AK_CFG_MAX_DEPTH 16            /* nesting levels of mappings/lists we accept */
#define AK_CFG_MAX_FILE (1024 * 1024)  /* config files are small; refuse anything larger */
#define AK_CFG_MAX_VALUE (64 * 1024)   /* one value after ${ENV} expansion */
#define AK_CFG_MAX_LIST 1024           /* items in one list option */

enum ak_cfg_node_kind { AK_CFG_NODE_SCALAR, AK_CFG_NODE_MAP, AK_CFG_NODE_SEQ };

/* One YAML node with its start mark (1-based). A MAP holds key, value, key, value... in kids. */
struct ak_cfg_node {
    enum ak_cfg_node_kind kind;
    size_t line, col;
    char *value; /* SCALAR: the bytes, NUL-terminated; may hold NULs before len */
    size_t len;
    bool plain;  /* SCALAR: written without quotes */
    struct ak_cfg_node **kids;
    size_t n, alloc;
};

/* A YAML problem that stops parsing (syntax error, alias, second document, too deep). */
struct ak_cfg_yaml_error {
    size_t line, col;
    char msg[320];
};

/* Parses yaml[0..len) into a tree. *ret_root is NULL for an empty stream (or comments only).
 * AK_ECONFIG with e filled on a YAML problem. */
int ak_cfg_yaml_parse(const char *yaml, size_t len, struct ak_cfg_node **ret_root,
                      struct ak_cfg_yaml_error *e);
/* Same for a text that starts at line first_line of its file (a front matter): every line in
 * the tree and in e counts from there. */
int ak_cfg_yaml_parse_at(const char *yaml, size_t len, size_t first_line,
                         struct ak_cfg_node **ret_root, struct ak_cfg_yaml_error *e);
void ak_cfg_node_free(struct ak_cfg_node *n);
/* true for an absent value: a plain "", "~", "null", "Null" or "NULL". */
bool ak_cfg_node_is_null(const struct ak_cfg_node *n);

enum ak_cfg_type {
    AK_CFG_STR,      /* char *, validated by check */
    AK_CFG_ENUM,     /* char *, one of choices */
    AK_CFG_BOOL,     /* bool */
    AK_CFG_U64,      /* uint64_t in [min,max] */
    AK_CFG_SIZE,     /* uint64_t bytes via ak_parse_size, in [min,max] */
    AK_CFG_DURATION, /* int64_t ms via ak_parse_duration_ms, in [min,max] */
    AK_CFG_STRLIST,  /* struct ak_cfg_strlist, each item validated by check */
    AK_CFG_DURLIST,  /* notify.reminders: int64_t ms array + count, each in [min,max], sorted
                        descending, no duplicates; def is "14d,7d,..." */
    AK_CFG_DOUBLE,   /* double, finite, in [min,max] millionths (AK_CFG_PPM) */
};

/* A DOUBLE option's bound as stored in min/max: x in millionths (0.0001 -> 100). */
#define AK_CFG_PPM(x) ((uint64_t)((x) * 1e6 + 0.5))

struct ak_cfg_option {
    const char *key;      /* dotted: "intake.sns.topics" */
    enum ak_cfg_type type;
    size_t offset;        /* into struct ak_cfg */
    const char *def;      /* default as text; NULL = unset; STRLIST: items separated by ',' */
    uint64_t min, max;    /* U64/SIZE: bounds; DURATION: bounds in ms; DOUBLE: in millionths */
    bool nullable;        /* may be left unset (NULL) */
    /* Extra validation of a STR value or STRLIST item: on failure writes a reason (never the
     * value itself: values may be secrets) to why and returns false. */
    bool (*check)(const char *v, char *why, size_t n);
    const char *choices;  /* ENUM: "debug|info|warn|error" */
    const char *help;
};

extern const struct ak_cfg_option ak_cfg_options[];
extern const size_t ak_cfg_noptions;

const struct ak_cfg_option *ak_cfg_option_find(const char *key);
/* true if key is a proper prefix section of some option ("intake", "intake.sns"). */
bool ak_cfg_is_section(const char *key);
/* Writes the known key or section nearest to key into buf; false when nothing is close. */
bool ak_cfg_suggest(const char *key, char *buf, size_t n);
/* Parses v for o and stores it into c (freeing what was there). false with why on error. */
bool ak_cfg_option_set(const struct ak_cfg_option *o, struct ak_cfg *c, const char *v, char *why,
                       size_t n);
/* Replaces o's list in c by list (taking ownership of its items). */
void ak_cfg_option_set_list(const struct ak_cfg_option *o, struct ak_cfg *c,
                            struct ak_cfg_strlist *list);
void ak_cfg_strlist_release(struct ak_cfg_strlist *l);

#define AK_CFG_MAX_DURLIST 32          /* items in a duration list (reminders) */

/* Parses one duration for option o (its [min,max] applies). false with why on error. */
bool ak__cfg_duration(const struct ak_cfg_option *o, const char *v, int64_t *ret, char *why,
                      size_t n);
/* Replaces o's duration list in c by v[0..n) (taking ownership of v); sorts it descending.
 * false with why (and v freed) when two items are equal. */
bool ak__cfg_option_set_durlist(const struct ak_cfg_option *o, struct ak_cfg *c, int64_t *v,
                                size_t n, char *why, size_t whylen);
bool ak__cfg_parse_bool(const char *v, bool *ret);
/* A plain decimal number: -?DIGITS[.DIGITS][e[+-]DIGITS] (no hex, inf or nan), finite. */
bool ak__cfg_parse_number(const char *v, double *ret);
/* Value checks of the option table, also used for receivers (same contract as check). */
bool ak__cfg_check_path(const char *v, char *why, size_t n);
bool ak__cfg_check_secret(const char *v, char *why, size_t n);
bool ak__cfg_check_hhmm(const char *v, char *why, size_t n);
bool ak__cfg_check_tz(const char *v, char *why, size_t n);
size_t ak__cfg_edit_distance(const char *a, size_t la, const char *b, size_t lb);
/* false when nested {n,m} bounds multiply beyond what regcomp should be asked to build. */
bool ak__cfg_regex_repeats_ok(const char *re);
/* true when a repetition follows another (a++, a*{2}): glibc's regcomp builds huge automata for
 * long runs of them, and POSIX leaves them undefined. */
bool ak__cfg_regex_stacked(const char *re);

/* ---- the loader, shared by cfg.c and cfg_notify.c ---- */

struct ak__cfg_loader {
    const char *name;
    struct ak_cfg *c;
    struct ak_buf *err;
    unsigned nerr;
    /* top-level nodes handled after the option walk (they refer to each other) */
    const struct ak_cfg_node *receivers, *route, *notify;
    /* lists of records, loaded by cfg_aws.c after the walk */
    const struct ak_cfg_node *aws_accounts, *inventory;
    /* lists of records, loaded by cfg_sts.c after the walk */
    const struct ak_cfg_node *sts_providers, *sts_roles;
    /* teams: loaded by cfg_teams.c after the receivers */
    const struct ak_cfg_node *teams;
    const struct ak_cfg_node *report; /* the "report" key, for cross-key messages */
    /* daily monitoring: loaded by cfg_mon.c after the walk (issue 6) */
    const struct ak_cfg_node *mon_signals, *mon_sources, *services;
    const struct ak_cfg_node *monitoring; /* the "monitoring" key, for cross-key messages */
    const struct ak_cfg_node *mon_timeout; /* monitoring.scrape_timeout when written in the file */
};

bool ak__cfg_too_many(const struct ak__cfg_loader *ld);
/* Appends "NAME:LINE:COL: KEY: message" (key printed without control bytes) and counts it. */
void ak__cfg_report(struct ak__cfg_loader *ld, size_t line, size_t col, const char *key,
                    const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* "a mapping", "a list", "a single value". */
const char *ak__cfg_kind_name(const struct ak_cfg_node *n);
/* Appends s to b with control bytes as '?', at most max bytes (then "..."). */
void ak__cfg_add_printable(struct ak_buf *b, const char *s, size_t max);

/* ---- helpers for mappings of records (cfg_notify.c) ---- */

/* Checks that map is a mapping whose keys are all among known and unique, reporting each unknown
 * key (with the nearest known one) and duplicate. false when it is not a mapping at all. */
bool ak__cfg_check_map(struct ak__cfg_loader *ld, const struct ak_cfg_node *map, const char *key,
                       const char *const *known, size_t nknown);
/* The value of name in map (the first one), or NULL; a null value counts as absent. */
const struct ak_cfg_node *ak__cfg_map_get(const struct ak_cfg_node *map, const char *name);
/* The key node of name in map (for positions), or NULL. */
const struct ak_cfg_node *ak__cfg_map_key(const struct ak_cfg_node *map, const char *name);
/* v as a string: a scalar without NUL, ${ENV} expanded when expand, passing check (may be NULL).
 * NULL after reporting at v under key. */
char *ak__cfg_node_str(struct ak__cfg_loader *ld, const struct ak_cfg_node *v, const char *key,
                       bool (*check)(const char *, char *, size_t), bool expand);
/* map[name] (expanded, through check) into *dst, left alone when absent; a missing required value
 * is reported at map as "KEY: needs NAME". */
void ak__cfg_get_str(struct ak__cfg_loader *ld, const struct ak_cfg_node *map, const char *key,
                     const char *name, bool (*check)(const char *, char *, size_t), bool required,
                     char **dst);
/* map[name] as a bool: 1, 0, or -1 when absent (or after reporting). */
int ak__cfg_get_bool(struct ak__cfg_loader *ld, const struct ak_cfg_node *map, const char *key,
                     const char *name);
/* The list of strings at v (not NULL, at most max items) into *dst (replaced), each item through
 * check; items that fail are reported as KEY[i] and left out. */
void ak__cfg_get_list(struct ak__cfg_loader *ld, const struct ak_cfg_node *v, const char *key,
                      bool (*check)(const char *, char *, size_t), bool expand, size_t max,
                      struct ak_cfg_strlist *dst);
/* An http:// or https:// URL with a host, optional port, no user@ (same contract as check). */
bool ak__cfg_check_http_url(const char *v, char *why, size_t n);

/* cfg_notify.c: loads receivers and route (after the walk), checks cross-key rules; frees them. */
void ak__cfg_load_notify(struct ak__cfg_loader *ld);
/* The list of receiver names at v (not NULL, at most 100) into dst (replaced); a name that is
 * not a defined receiver is reported as KEY[i] (listing the defined ones). */
void ak__cfg_receiver_list(struct ak__cfg_loader *ld, const struct ak_cfg_node *v,
                           const char *key, struct ak_cfg_strlist *dst);
void ak__cfg_notify_release(struct ak_cfg *c);

/* cfg_aws.c: loads aws.accounts and inventory (after the walk); frees them. The scalar aws.* and
 * pollers.* keys are rows of the option table. */
void ak__cfg_load_aws(struct ak__cfg_loader *ld);
void ak__cfg_aws_release(struct ak_cfg *c);
/* The commented examples of `config defaults`: aws.accounts (lines indented for depth 1) and
 * inventory (top level). */
extern const char ak__cfg_dump_accounts_example[];
extern const char ak__cfg_dump_inventory_example[];
/* Exactly twelve digits, as written (same contract as check); aws.accounts and sts.roles. */
bool ak__cfg_check_account_id(const char *v, char *why, size_t n);

/* cfg_sts.c: loads sts.oidc_providers and sts.roles (after the walk); frees them. The scalar
 * sts.* keys are rows of the option table. */
void ak__cfg_load_sts(struct ak__cfg_loader *ld);
void ak__cfg_sts_release(struct ak_cfg *c);
/* The commented example of `config defaults` for the two lists (lines indented for depth 1). */
extern const char ak__cfg_dump_sts_example[];

/* cfg_teams.c: loads teams (after the receivers; issue 7) and frees them; fills the default of
 * runbooks.shipped_dir. The scalar runbooks.* and report.* keys are rows of the option table. */
void ak__cfg_load_teams(struct ak__cfg_loader *ld);
void ak__cfg_teams_release(struct ak_cfg *c);
void ak__cfg_runbook_defaults(struct ak_cfg *c);
/* The commented example of `config defaults` for teams (top level). */
extern const char ak__cfg_dump_teams_example[];

/* cfg_mon.c: the daily monitoring part (issue 6). ak__cfg_mon_defaults fills the built-in service
 * types and the implicit host service (after the option rows are set); ak__cfg_load_mon loads
 * monitoring.signals, monitoring.sources and services (after the walk) and checks the cross-key
 * rules; ak__cfg_mon_release frees them. The scalar monitoring.* and review.* keys are rows of
 * the option table. */
void ak__cfg_mon_defaults(struct ak_cfg *c);
void ak__cfg_load_mon(struct ak__cfg_loader *ld);
void ak__cfg_mon_release(struct ak_cfg *c);
/* A service name [a-z0-9][a-z0-9_.-]{0,62} (monitoring.host_service, services[].name). */
bool ak__cfg_check_service_name(const char *v, char *why, size_t n);
/* A process name as /proc/PID/comm holds it: 1 to 15 bytes, no control characters. */
bool ak__cfg_check_process(const char *v, char *why, size_t n);
/* `config defaults`: the monitoring section's lists (monitoring.signals with the built-in types,
 * a commented monitoring.sources example; lines indented for depth 1), appended to out. */
void ak__cfg_dump_mon(struct ak_buf *out);
/* The commented example of `config defaults` for services (top level). */
extern const char ak__cfg_dump_services_example[];

/* cfg_yaml_json.c: a node tree as JSON text (the rules of ak_cfg_yaml_to_json), shared by the
 * trust policies of cfg_sts.c and ak_cfg_yaml_to_json. */
struct ak__cfg_json_fail {
    bool failed;
    size_t line, col;  /* of the offending node */
    char *key;         /* its key path ("sts.roles[0].assume_role_policy.Version"), malloc'ed */
    char msg[200];     /* what is wrong (never quotes a value) */
};
/* Appends v as JSON to out (out->max caps it); what names the document in messages ("policy":
 * "policy keys must be non-empty strings") and key is v's key path ("" at a document's root).
 * false with f filled at the first problem: a NUL
 * byte, a key that is not a non-empty string, a duplicate key, a mapping with more than 1000
 * keys, out over its cap. f is always initialised: release it with ak__cfg_json_fail_release. */
bool ak__cfg_node_to_json(const struct ak_cfg_node *v, const char *what, const char *key,
                          struct ak_buf *out, struct ak__cfg_json_fail *f);
void ak__cfg_json_fail_release(struct ak__cfg_json_fail *f);

/* cfg_match.c: builds one matcher from its parts, validating field, value and regex. false with
 * why (a sentence fragment, naming the field but never quoting the value) on error. */
bool ak__cfg_matcher_make(const char *field, enum ak_match_op op, const char *value,
                          struct ak_matcher *ret, char *why, size_t n);

/* Expands ${NAME} from the environment and $${ to a literal ${. *ret is malloc'ed.
 * false with why (naming the variable, never its value) on error. */
bool ak_cfg_expand_env(const char *in, size_t len, char **ret, char *why, size_t n);

#endif
