/* ak_route.h — the notification routing tree (src/route/). Pure and thread-safe once built.
 *
 * Semantics (Alertmanager's tree, with one difference): the root route matches every record; a
 * record walks down the tree; at each level the children are tried in order, the first one whose
 * matchers all match is entered and its siblings are skipped unless it has `continue: true`.
 * Unlike Alertmanager, the receivers of EVERY matched route on the path are used (the root's
 * "everything goes to email" stays true when a child adds Slack). Receivers are deduplicated in
 * the order first reached.
 */
#ifndef AK_ROUTE_H
#define AK_ROUTE_H

#include <stdbool.h>
#include <stddef.h>

#include "ak_cfg.h"

struct ak_buf;
struct ak_route_tree;

/* What a record looks like to matchers. Strings may be NULL (never match = / =~, match != / !~).
 * tags_json: the record's resource tags as a JSON object text ({"env":"prod"}), may be NULL. */
struct ak_route_input {
    const char *service, *kind, *status, *account, *region, *source, *event_code;
    bool important;                 /* importance=high when true, normal otherwise */
    const char *const *resources;
    size_t n_resources;
    const char *tags_json;
};

/* Builds the tree from cfg (the default tree when cfg->route is NULL), compiling regexes and
 * checking receiver names. AK_ECONFIG with the reason (and route line) in err. */
int ak_route_build(const struct ak_cfg *cfg, struct ak_route_tree **ret, struct ak_buf *err);
void ak_route_free(struct ak_route_tree *t);

/* The receivers in reaches (names borrowed from cfg, in order). explain (may be NULL) gets one
 * line per route visited: "route /routes/0 {importance=high}: matched -> team-slack" or
 * "... : not matched (importance is normal)". */
int ak_route_match(const struct ak_route_tree *t, const struct ak_route_input *in,
                   const char ***ret_receivers, size_t *ret_n, struct ak_buf *explain);

/* True when every matcher matches (an empty list matches everything). Regexes are compiled on
 * each call here; use for silences. */
bool ak_route_matchers_match(const struct ak_matchers *m, const struct ak_route_input *in);

#endif
