/* cfg_notify.c — the notification part of the configuration: `receivers:` (a list of maps, one
 * kind each) and `route:` (a tree). They are not rows of the option table: their shape is a list
 * of records and a recursive tree, and a route refers to receivers by name, so both are loaded
 * after the option walk, receivers first.
 *
 * Like the rest of the loader, messages name the key and never quote a value (a webhook URL or a
 * token may be a secret); receiver names and matchers are not secrets and may be quoted. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "asakai/ak_buf.h"
#include "asakai/ak_err.h"
#include "asakai/ak_util.h"
#include "cfg_int.h"
#include "../core/ak_banned.h"

#define RECEIVERS_MAX 100
#define RECEIVER_NAME_MAX 64
#define TO_MAX 100
#define ROUTE_DEPTH_MAX 16
#define ROUTE_MATCHERS_MAX 64
#define WHY_MAX 320
#define SLACK_API_DEFAULT "https://slack.com/api"

/* ---- small map helpers (also used by cfg_aws.c; contracts in cfg_int.h) ---- */

static char *subkey(const char *key, const char *name)
{
    return ak_xasprintf("%s.%s", key, name);
}

static bool key_known(const struct ak_cfg_node *k, const char *const *known, size_t nknown)
{
    for (size_t i = 0; i < nknown; i++)
        if (strlen(known[i]) == k->len && memcmp(known[i], k->value, k->len) == 0)
            return true;
    return false;
}

static void unknown_key(struct ak__cfg_loader *ld, const struct ak_cfg_node *k, const char *full,
                        const char *const *known, size_t nknown)
{
    const char *best = NULL;
    size_t best_d = 3; /* only typos: at most two edits away */

    for (size_t i = 0; i < nknown && k->len <= 64; i++) {
        size_t d = ak__cfg_edit_distance(k->value, k->len, known[i], strlen(known[i]));

        if (d < best_d) {
            best_d = d;
            best = known[i];
        }
    }
    if (best)
        ak__cfg_report(ld, k->line, k->col, full, "unknown key; did you mean '%s'?", best);
    else
        ak__cfg_report(ld, k->line, k->col, full, "unknown key");
}

/* Checks that map is a mapping whose keys are all known and unique (reporting each problem).
 * false when it is not a mapping at all. */
bool ak__cfg_check_map(struct ak__cfg_loader *ld, const struct ak_cfg_node *map, const char *key,
                       const char *const *known, size_t nknown)
{
    if (map->kind != AK_CFG_NODE_MAP) {
        ak__cfg_report(ld, map->line, map->col, key, "expected a mapping of keys, got %s",
                       ak_cfg_node_is_null(map) ? "nothing" : ak__cfg_kind_name(map));
        return false;
    }
    for (size_t i = 0; i + 1 < map->n; i += 2) {
        const struct ak_cfg_node *k = map->kids[i];
        char *full;

        if (k->kind != AK_CFG_NODE_SCALAR || !k->len || memchr(k->value, 0, k->len)) {
            ak__cfg_report(ld, k->line, k->col, key, "keys must be non-empty names");
            continue;
        }
        full = subkey(key, k->value);
        if (!key_known(k, known, nknown)) {
            unknown_key(ld, k, full, known, nknown);
        } else {
            for (size_t j = 0; j < i; j += 2) {
                const struct ak_cfg_node *o = map->kids[j];

                if (o->kind == AK_CFG_NODE_SCALAR && o->len == k->len &&
                    memcmp(o->value, k->value, k->len) == 0) {
                    ak__cfg_report(ld, k->line, k->col, full,
                                   "duplicate key (first set at line %zu column %zu)", o->line,
                                   o->col);
                    break;
                }
            }
        }
        free(full);
    }
    return true;
}

/* The value of name in map (the first one), or NULL; a null value counts as absent. */
const struct ak_cfg_node *ak__cfg_map_get(const struct ak_cfg_node *map, const char *name)
{
    if (!map || map->kind != AK_CFG_NODE_MAP)
        return NULL;
    for (size_t i = 0; i + 1 < map->n; i += 2) {
        const struct ak_cfg_node *k = map->kids[i];

        if (k->kind == AK_CFG_NODE_SCALAR && strlen(name) == k->len &&
            memcmp(name, k->value, k->len) == 0)
            return ak_cfg_node_is_null(map->kids[i + 1]) ? NULL : map->kids[i + 1];
    }
    return NULL;
}

/* The key node of name in map (for positions), or NULL. */
const struct ak_cfg_node *ak__cfg_map_key(const struct ak_cfg_node *map, const char *name)
{
    for (size_t i = 0; map && map->kind == AK_CFG_NODE_MAP && i + 1 < map->n; i += 2) {
        const struct ak_cfg_node *k = map->kids[i];

        if (k->kind == AK_CFG_NODE_SCALAR && strlen(name) == k->len &&
            memcmp(name, k->value, k->len) == 0)
            return k;
    }
    return NULL;
}

/* v as a string: a scalar without NUL, ${ENV} expanded, passing check. NULL after reporting. */
char *ak__cfg_node_str(struct ak__cfg_loader *ld, const struct ak_cfg_node *v, const char *key,
                       bool (*check)(const char *, char *, size_t), bool expand)
{
    char why[WHY_MAX];
    char *s = NULL;

    if (v->kind != AK_CFG_NODE_SCALAR) {
        ak__cfg_report(ld, v->line, v->col, key, "expected a single value, got %s",
                       ak__cfg_kind_name(v));
        return NULL;
    }
    if (memchr(v->value, 0, v->len)) {
        ak__cfg_report(ld, v->line, v->col, key, "value contains a NUL byte");
        return NULL;
    }
    if (!expand)
        s = ak_xstrdup(v->value);
    else if (!ak_cfg_expand_env(v->value, v->len, &s, why, sizeof(why))) {
        ak__cfg_report(ld, v->line, v->col, key, "%s", why);
        return NULL;
    }
    if (check && !check(s, why, sizeof(why))) {
        ak__cfg_report(ld, v->line, v->col, key, "%s", why);
        free(s);
        return NULL;
    }
    return s;
}

/* map[name] into *dst (left alone when absent); reports a missing required value at map. */
void ak__cfg_get_str(struct ak__cfg_loader *ld, const struct ak_cfg_node *map, const char *key,
                     const char *name, bool (*check)(const char *, char *, size_t), bool required,
                     char **dst)
{
    const struct ak_cfg_node *v = ak__cfg_map_get(map, name);
    char *full = subkey(key, name);

    if (v) {
        char *s = ak__cfg_node_str(ld, v, full, check, true);

        if (s) {
            free(*dst);
            *dst = s;
        }
    } else if (required) {
        ak__cfg_report(ld, map->line, map->col, key, "needs %s", name);
    }
    free(full);
}

/* map[name] as a bool: 1, 0, or -1 when absent (or after reporting). */
int ak__cfg_get_bool(struct ak__cfg_loader *ld, const struct ak_cfg_node *map, const char *key,
                     const char *name)
{
    const struct ak_cfg_node *v = ak__cfg_map_get(map, name);
    char *full;
    bool b;
    int r = -1;

    if (!v)
        return -1;
    full = subkey(key, name);
    if (v->kind != AK_CFG_NODE_SCALAR || memchr(v->value, 0, v->len) ||
        !ak__cfg_parse_bool(v->value, &b))
        ak__cfg_report(ld, v->line, v->col, full, "must be true or false");
    else
        r = b;
    free(full);
    return r;
}

/* A list of strings at v (not NULL) into *dst, each item through check. */
void ak__cfg_get_list(struct ak__cfg_loader *ld, const struct ak_cfg_node *v, const char *key,
                      bool (*check)(const char *, char *, size_t), bool expand, size_t max,
                      struct ak_cfg_strlist *dst)
{
    if (v->kind != AK_CFG_NODE_SEQ) {
        ak__cfg_report(ld, v->line, v->col, key, "expected a list, got %s", ak__cfg_kind_name(v));
        return;
    }
    if (v->n > max) {
        ak__cfg_report(ld, v->line, v->col, key, "list has more than %zu items", max);
        return;
    }
    ak_cfg_strlist_release(dst);
    dst->v = ak_xcalloc(v->n ? v->n : 1, sizeof(*dst->v));
    for (size_t i = 0; i < v->n && !ak__cfg_too_many(ld); i++) {
        const struct ak_cfg_node *it = v->kids[i];
        char *ikey = ak_xasprintf("%s[%zu]", key, i);
        char *s = NULL;

        if (ak_cfg_node_is_null(it))
            ak__cfg_report(ld, it->line, it->col, ikey, "expected a string, got nothing");
        else
            s = ak__cfg_node_str(ld, it, ikey, check, expand);
        if (s)
            dst->v[dst->n++] = s;
        free(ikey);
    }
}

/* ---- value checks (reasons never quote the value) ---- */

static bool fail(char *why, size_t n, const char *msg)
{
    snprintf(why, n, "%s", msg);
    return false;
}

static bool check_name(const char *v, char *why, size_t n)
{
    size_t len = strlen(v);

    if (len == 0 || len > RECEIVER_NAME_MAX ||
        strspn(v, "abcdefghijklmnopqrstuvwxyz0123456789_-") != len)
        return fail(why, n, "a receiver name is 1 to 64 of a-z, 0-9, '_' and '-'");
    return true;
}

struct url_parts {
    char scheme[8];
    const char *host;
    size_t host_len;
};

/* SCHEME://HOST[:PORT][/...] with scheme one of schemes (lower case), host a DNS name, IPv4 or
 * [IPv6], no user@ part, no spaces or control characters. */
static bool url_parse(const char *v, const char *const *schemes, size_t nschemes,
                      struct url_parts *u, char *why, size_t n)
{
    const char *sep = strstr(v, "://"), *auth, *auth_end, *host_end;
    bool scheme_ok = false;

    for (const unsigned char *p = (const unsigned char *)v; *p; p++)
        if (*p <= ' ' || *p == 0x7f)
            return fail(why, n, "a URL must not contain spaces or control characters");
    for (size_t i = 0; sep && i < nschemes; i++)
        if ((size_t)(sep - v) == strlen(schemes[i]) &&
            strncasecmp(v, schemes[i], strlen(schemes[i])) == 0) {
            snprintf(u->scheme, sizeof(u->scheme), "%s", schemes[i]);
            scheme_ok = true;
        }
    if (!scheme_ok) {
        snprintf(why, n, "must be a URL starting with %s://%s%s%s", schemes[0],
                 nschemes > 1 ? " or " : "", nschemes > 1 ? schemes[1] : "",
                 nschemes > 1 ? "://" : "");
        return false;
    }
    auth = sep + 3;
    auth_end = auth + strcspn(auth, "/?#");
    if (memchr(auth, '@', (size_t)(auth_end - auth)))
        return fail(why, n, "a URL must not carry user@ credentials (use the username and "
                            "password keys, with ${ENV})");
    if (*auth == '[') {
        host_end = memchr(auth, ']', (size_t)(auth_end - auth));
        if (!host_end || host_end == auth + 1)
            return fail(why, n, "bad [IPv6] host in the URL");
        u->host = auth + 1;
        u->host_len = (size_t)(host_end - auth - 1);
        host_end++;
        if (strspn(u->host, "0123456789abcdefABCDEF:.") < u->host_len)
            return fail(why, n, "bad [IPv6] host in the URL");
    } else {
        host_end = auth + strcspn(auth, ":/?#");
        u->host = auth;
        u->host_len = (size_t)(host_end - auth);
        if (!u->host_len || strspn(auth, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                         "0123456789.-") < u->host_len)
            return fail(why, n, "the URL needs a host name or address");
    }
    if (host_end < auth_end) {
        char port[8];
        uint64_t x;
        size_t plen = (size_t)(auth_end - host_end - 1);

        if (*host_end != ':' || plen == 0 || plen >= sizeof(port))
            return fail(why, n, "bad port in the URL");
        memcpy(port, host_end + 1, plen);
        port[plen] = 0;
        if (ak_parse_u64(port, 1, 65535, &x) != AK_OK)
            return fail(why, n, "the URL's port must be a number from 1 to 65535");
    }
    return true;
}

bool ak__cfg_check_http_url(const char *v, char *why, size_t n)
{
    static const char *const schemes[] = {"https", "http"};
    struct url_parts u;

    return url_parse(v, schemes, AK_ARRAY_SIZE(schemes), &u, why, n);
}

static bool check_smarthost(const char *v, char *why, size_t n)
{
    static const char *const schemes[] = {"smtp", "smtps"};
    struct url_parts u;

    return url_parse(v, schemes, AK_ARRAY_SIZE(schemes), &u, why, n);
}

static bool host_is_loopback(const struct url_parts *u)
{
    return (u->host_len == 9 && strncasecmp(u->host, "localhost", 9) == 0) ||
           (u->host_len >= 4 && memcmp(u->host, "127.", 4) == 0) ||
           (u->host_len == 3 && memcmp(u->host, "::1", 3) == 0);
}

/* A bare addr-spec: local@domain, printable, no spaces, no header syntax. */
static bool check_addr(const char *v, char *why, size_t n)
{
    const char *at = strrchr(v, '@');

    for (const unsigned char *p = (const unsigned char *)v; *p; p++)
        if (*p <= ' ' || *p >= 0x7f || strchr("<>,;\"()[]\\", *p))
            return fail(why, n, "must be a bare e-mail address like sre@example.com");
    if (!at || at == v || !at[1] || strlen(v) > 254)
        return fail(why, n, "must be a bare e-mail address like sre@example.com");
    return true;
}

static bool check_channel(const char *v, char *why, size_t n)
{
    if (!*v || strlen(v) > 80)
        return fail(why, n, "must be a channel name (#sre) or ID (C0123456789)");
    for (const unsigned char *p = (const unsigned char *)v; *p; p++)
        if (*p <= ' ' || *p == 0x7f)
            return fail(why, n, "must be a channel name (#sre) or ID (C0123456789)");
    return true;
}

/* ---- receivers ---- */

static const char *const receiver_keys[] = {"name",   "email",       "slack",    "webhook",
                                            "digest", "digest_time", "digest_tz"};
static const char *const email_keys[] = {"smarthost", "from",     "to",     "username",
                                         "password",  "starttls", "ca_file"};
static const char *const slack_keys[] = {"webhook_url", "bot_token", "channel", "api_url"};
static const char *const webhook_keys[] = {"url", "secret"};

static void load_email(struct ak__cfg_loader *ld, const struct ak_cfg_node *m, const char *key,
                       struct ak_cfg_receiver *r)
{
    static const char *const schemes[] = {"smtp", "smtps"};
    const struct ak_cfg_node *to;
    struct url_parts u;
    char why[WHY_MAX];
    char *tokey;

    if (!ak__cfg_check_map(ld, m, key, email_keys, AK_ARRAY_SIZE(email_keys)))
        return;
    ak__cfg_get_str(ld, m, key, "smarthost", check_smarthost, true, &r->smarthost);
    ak__cfg_get_str(ld, m, key, "from", check_addr, true, &r->from);
    to = ak__cfg_map_get(m, "to");
    tokey = subkey(key, "to");
    if (!to)
        ak__cfg_report(ld, m->line, m->col, key, "needs to (a list of addresses)");
    else if (to->kind == AK_CFG_NODE_SEQ && to->n == 0)
        ak__cfg_report(ld, to->line, to->col, tokey, "needs at least one address");
    else
        ak__cfg_get_list(ld, to, tokey, check_addr, true, TO_MAX, &r->to);
    free(tokey);
    ak__cfg_get_str(ld, m, key, "username", ak__cfg_check_path, false, &r->username);
    ak__cfg_get_str(ld, m, key, "password", ak__cfg_check_secret, false, &r->password);
    ak__cfg_get_str(ld, m, key, "ca_file", ak__cfg_check_path, false, &r->ca_file);
    r->starttls = ak__cfg_get_bool(ld, m, key, "starttls");
    if (r->password && !r->username)
        ak__cfg_report(ld, m->line, m->col, key, "password needs a username");
    if (!r->smarthost || !url_parse(r->smarthost, schemes, 2, &u, why, sizeof(why)))
        return;
    if (strcmp(u.scheme, "smtps") == 0 && r->starttls != -1) {
        const struct ak_cfg_node *k = ak__cfg_map_key(m, "starttls");
        ak__cfg_report(ld, k->line, k->col, key,
                       "starttls applies to smtp:// only (smtps:// is TLS from the start)");
    }
    /* A password in clear text to another host is refused rather than sent. */
    if (r->password && strcmp(u.scheme, "smtp") == 0 && r->starttls == 0 && !host_is_loopback(&u))
        ak__cfg_report(ld, m->line, m->col, key,
                       "starttls: false would send the password unencrypted to a host that is "
                       "not loopback; use STARTTLS or smtps://");
}

static void load_slack(struct ak__cfg_loader *ld, const struct ak_cfg_node *m, const char *key,
                       struct ak_cfg_receiver *r)
{
    if (!ak__cfg_check_map(ld, m, key, slack_keys, AK_ARRAY_SIZE(slack_keys)))
        return;
    ak__cfg_get_str(ld, m, key, "webhook_url", ak__cfg_check_http_url, false, &r->webhook_url);
    ak__cfg_get_str(ld, m, key, "bot_token", ak__cfg_check_secret, false, &r->bot_token);
    ak__cfg_get_str(ld, m, key, "channel", check_channel, false, &r->channel);
    ak__cfg_get_str(ld, m, key, "api_url", ak__cfg_check_http_url, false, &r->api_url);
    if (!r->api_url)
        r->api_url = ak_xstrdup(SLACK_API_DEFAULT);
    if (ak__cfg_map_get(m, "webhook_url") && ak__cfg_map_get(m, "bot_token"))
        ak__cfg_report(ld, m->line, m->col, key,
                       "has both webhook_url and bot_token; a slack receiver uses one of them");
    else if (!ak__cfg_map_get(m, "webhook_url") && !ak__cfg_map_get(m, "bot_token"))
        ak__cfg_report(ld, m->line, m->col, key, "needs webhook_url, or bot_token and channel");
    else if (ak__cfg_map_get(m, "bot_token") && !ak__cfg_map_get(m, "channel"))
        ak__cfg_report(ld, m->line, m->col, key, "bot_token needs a channel");
    else if (ak__cfg_map_get(m, "webhook_url") && ak__cfg_map_get(m, "channel"))
        ak__cfg_report(ld, m->line, m->col, key,
                       "channel goes with bot_token (an incoming webhook posts to its own "
                       "channel)");
}

static void load_webhook(struct ak__cfg_loader *ld, const struct ak_cfg_node *m, const char *key,
                         struct ak_cfg_receiver *r)
{
    if (!ak__cfg_check_map(ld, m, key, webhook_keys, AK_ARRAY_SIZE(webhook_keys)))
        return;
    ak__cfg_get_str(ld, m, key, "url", ak__cfg_check_http_url, true, &r->url);
    ak__cfg_get_str(ld, m, key, "secret", ak__cfg_check_secret, false, &r->secret);
}

/* Picks the one kind key of receiver map m; reports none or several. */
static void load_kind(struct ak__cfg_loader *ld, const struct ak_cfg_node *m, const char *key,
                      struct ak_cfg_receiver *r)
{
    static const char *const kinds[] = {"email", "slack", "webhook"};
    const char *first = NULL;
    char *kkey;

    for (size_t i = 0; i < AK_ARRAY_SIZE(kinds); i++) {
        const struct ak_cfg_node *v = ak__cfg_map_get(m, kinds[i]);

        if (!v)
            continue;
        if (first) {
            const struct ak_cfg_node *k = ak__cfg_map_key(m, kinds[i]);
            ak__cfg_report(ld, k->line, k->col, key,
                           "has both %s and %s; a receiver has exactly one kind (define two "
                           "receivers and route to both)",
                           first, kinds[i]);
            return;
        }
        first = kinds[i];
        r->kind = (enum ak_receiver_kind)(AK_RECV_EMAIL + (int)i);
    }
    if (!first) {
        ak__cfg_report(ld, m->line, m->col, key, "needs one of email, slack or webhook");
        return;
    }
    kkey = subkey(key, first);
    if (r->kind == AK_RECV_EMAIL)
        load_email(ld, ak__cfg_map_get(m, first), kkey, r);
    else if (r->kind == AK_RECV_SLACK)
        load_slack(ld, ak__cfg_map_get(m, first), kkey, r);
    else
        load_webhook(ld, ak__cfg_map_get(m, first), kkey, r);
    free(kkey);
}

static void load_receiver(struct ak__cfg_loader *ld, const struct ak_cfg_node *m, size_t idx,
                          struct ak_cfg_receiver *r)
{
    const struct ak_cfg *c = ld->c;
    char *key = ak_xasprintf("receivers[%zu]", idx);
    int digest;

    r->line = (int)m->line;
    r->starttls = -1;
    if (!ak__cfg_check_map(ld, m, key, receiver_keys, AK_ARRAY_SIZE(receiver_keys)))
        goto out;
    ak__cfg_get_str(ld, m, key, "name", check_name, true, &r->name);
    for (size_t j = 0; r->name && j < idx; j++) {
        if (ak_streq(c->receivers[j].name, r->name)) {
            const struct ak_cfg_node *v = ak__cfg_map_get(m, "name");
            char *nkey = subkey(key, "name");

            ak__cfg_report(ld, v->line, v->col, nkey,
                           "duplicate receiver name \"%s\" (first defined at line %d)", r->name,
                           c->receivers[j].line);
            free(nkey);
            break;
        }
    }
    load_kind(ld, m, key, r);
    digest = ak__cfg_get_bool(ld, m, key, "digest");
    r->digest = digest == -1 ? r->kind == AK_RECV_EMAIL : digest == 1;
    ak__cfg_get_str(ld, m, key, "digest_time", ak__cfg_check_hhmm, false, &r->digest_time);
    ak__cfg_get_str(ld, m, key, "digest_tz", ak__cfg_check_tz, false, &r->digest_tz);
out:
    if (!r->digest_time)
        r->digest_time = ak_xstrdup(c->digest_time);
    if (!r->digest_tz)
        r->digest_tz = ak_xstrdup(c->digest_tz);
    free(key);
}

static void load_receivers(struct ak__cfg_loader *ld, const struct ak_cfg_node *v)
{
    struct ak_cfg *c = ld->c;

    if (v->kind != AK_CFG_NODE_SEQ) {
        ak__cfg_report(ld, v->line, v->col, "receivers", "expected a list of receivers, got %s",
                       ak__cfg_kind_name(v));
        return;
    }
    if (v->n > RECEIVERS_MAX) {
        ak__cfg_report(ld, v->line, v->col, "receivers", "more than %d receivers",
                       RECEIVERS_MAX);
        return;
    }
    c->receivers = ak_xcalloc(v->n ? v->n : 1, sizeof(*c->receivers));
    for (size_t i = 0; i < v->n && !ak__cfg_too_many(ld); i++) {
        load_receiver(ld, v->kids[i], i, &c->receivers[i]);
        c->n_receivers = i + 1;
    }
}

/* ---- the route tree ---- */

static const char *const route_keys[] = {"receivers", "match",    "match_re",
                                         "matchers",  "continue", "routes"};

static bool receiver_exists(const struct ak_cfg *c, const char *name)
{
    for (size_t i = 0; i < c->n_receivers; i++)
        if (ak_streq(c->receivers[i].name, name))
            return true;
    return false;
}

static void unknown_receiver(struct ak__cfg_loader *ld, const struct ak_cfg_node *it,
                             const char *key, const char *name)
{
    struct ak_buf names = AK_BUF_INIT(AK_BUF_NOMAX), shown = AK_BUF_INIT(AK_BUF_NOMAX);
    const struct ak_cfg *c = ld->c;
    size_t listed = 0;
    bool more = false;

    for (size_t i = 0; i < c->n_receivers && !more; i++) {
        bool dup = false;

        for (size_t j = 0; j < i && !dup; j++)
            dup = ak_streq(c->receivers[j].name, c->receivers[i].name);
        if (!c->receivers[i].name || dup)
            continue;
        if (listed == 10) {
            more = true;
            break;
        }
        ak_buf_addf(&names, "%s%s", listed ? ", " : "", c->receivers[i].name);
        listed++;
    }
    ak__cfg_add_printable(&shown, name, 64);
    if (listed)
        ak__cfg_report(ld, it->line, it->col, key, "no receiver named \"%s\" (defined: %s%s)",
                       shown.buf, names.buf, more ? ", ..." : "");
    else
        ak__cfg_report(ld, it->line, it->col, key,
                       "no receiver named \"%s\" (no receivers are defined)", shown.buf);
    ak_buf_release(&names);
    ak_buf_release(&shown);
}

/* Receiver names at v into dst (also for teams[].receivers: contract in cfg_int.h). */
void ak__cfg_receiver_list(struct ak__cfg_loader *ld, const struct ak_cfg_node *v,
                           const char *key, struct ak_cfg_strlist *dst)
{
    if (v->kind != AK_CFG_NODE_SEQ) {
        ak__cfg_report(ld, v->line, v->col, key, "expected a list of receiver names, got %s",
                       ak__cfg_kind_name(v));
        return;
    }
    if (v->n > RECEIVERS_MAX) {
        ak__cfg_report(ld, v->line, v->col, key, "list has more than %d items", RECEIVERS_MAX);
        return;
    }
    ak_cfg_strlist_release(dst);
    dst->v = ak_xcalloc(v->n ? v->n : 1, sizeof(*dst->v));
    for (size_t i = 0; i < v->n && !ak__cfg_too_many(ld); i++) {
        const struct ak_cfg_node *it = v->kids[i];
        char *ikey = ak_xasprintf("%s[%zu]", key, i);
        char *name = NULL;

        if (ak_cfg_node_is_null(it))
            ak__cfg_report(ld, it->line, it->col, ikey, "expected a receiver name, got nothing");
        else
            name = ak__cfg_node_str(ld, it, ikey, check_name, false);
        if (name && !receiver_exists(ld->c, name))
            unknown_receiver(ld, it, ikey, name);
        if (name)
            dst->v[dst->n++] = name;
        free(ikey);
    }
}

static void add_matcher(struct ak_cfg_route *r, const struct ak_matcher *m)
{
    r->match.v = ak_xrealloc(r->match.v, (r->match.n + 1) * sizeof(*r->match.v));
    r->match.v[r->match.n++] = *m;
}

/* match: {field: value} (op =) or match_re: {field: regex} (op =~). */
static void route_match_map(struct ak__cfg_loader *ld, const struct ak_cfg_node *v,
                            const char *key, enum ak_match_op op, struct ak_cfg_route *r)
{
    if (v->kind != AK_CFG_NODE_MAP) {
        ak__cfg_report(ld, v->line, v->col, key, "expected a mapping of field: %s, got %s",
                       op == AK_MATCH_EQ ? "value" : "regex", ak__cfg_kind_name(v));
        return;
    }
    for (size_t i = 0; i + 1 < v->n && !ak__cfg_too_many(ld); i += 2) {
        const struct ak_cfg_node *k = v->kids[i], *val = v->kids[i + 1];
        struct ak_matcher m;
        char why[WHY_MAX];
        char *fkey, *s;

        if (k->kind != AK_CFG_NODE_SCALAR || !k->len || memchr(k->value, 0, k->len)) {
            ak__cfg_report(ld, k->line, k->col, key, "keys must be field names");
            continue;
        }
        fkey = subkey(key, k->value);
        s = ak_cfg_node_is_null(val) ? ak_xstrdup("")
                                     : ak__cfg_node_str(ld, val, fkey, NULL, false);
        if (s && !ak__cfg_matcher_make(k->value, op, s, &m, why, sizeof(why)))
            ak__cfg_report(ld, val->line, val->col, fkey, "%s", why);
        else if (s)
            add_matcher(r, &m);
        free(s);
        free(fkey);
    }
}

/* matchers: ["field=value", ...], one matcher per item. */
static void route_matcher_list(struct ak__cfg_loader *ld, const struct ak_cfg_node *v,
                               const char *key, struct ak_cfg_route *r)
{
    if (v->kind != AK_CFG_NODE_SEQ) {
        ak__cfg_report(ld, v->line, v->col, key, "expected a list of matchers, got %s",
                       ak__cfg_kind_name(v));
        return;
    }
    for (size_t i = 0; i < v->n && !ak__cfg_too_many(ld); i++) {
        const struct ak_cfg_node *it = v->kids[i];
        struct ak_buf err = AK_BUF_INIT(AK_BUF_NOMAX);
        char *ikey = ak_xasprintf("%s[%zu]", key, i);
        struct ak_matcher m;
        char *s = NULL;

        if (ak_cfg_node_is_null(it))
            ak__cfg_report(ld, it->line, it->col, ikey, "expected a matcher, got nothing");
        else
            s = ak__cfg_node_str(ld, it, ikey, NULL, false);
        if (s && ak_matcher_parse(s, &m, &err) == AK_OK)
            add_matcher(r, &m);
        else if (s)
            ak__cfg_report(ld, it->line, it->col, ikey, "%s", err.buf);
        free(s);
        free(ikey);
        ak_buf_release(&err);
    }
}

static void load_route(struct ak__cfg_loader *ld, const struct ak_cfg_node *m, const char *key,
                       size_t depth, struct ak_cfg_route *r);

static void route_children(struct ak__cfg_loader *ld, const struct ak_cfg_node *v,
                           const char *key, size_t depth, struct ak_cfg_route *r)
{
    if (v->kind != AK_CFG_NODE_SEQ) {
        ak__cfg_report(ld, v->line, v->col, key, "expected a list of routes, got %s",
                       ak__cfg_kind_name(v));
        return;
    }
    if (depth + 1 >= ROUTE_DEPTH_MAX) {
        ak__cfg_report(ld, v->line, v->col, key, "routes nest deeper than %d levels",
                       ROUTE_DEPTH_MAX);
        return;
    }
    if (v->n > AK_CFG_MAX_LIST) {
        ak__cfg_report(ld, v->line, v->col, key, "more than %d routes", AK_CFG_MAX_LIST);
        return;
    }
    r->routes = ak_xcalloc(v->n ? v->n : 1, sizeof(*r->routes));
    for (size_t i = 0; i < v->n && !ak__cfg_too_many(ld); i++) {
        char *ikey = ak_xasprintf("%s[%zu]", key, i);

        load_route(ld, v->kids[i], ikey, depth + 1, &r->routes[i]);
        r->n_routes = i + 1;
        free(ikey);
    }
}

static void load_route(struct ak__cfg_loader *ld, const struct ak_cfg_node *m, const char *key,
                       size_t depth, struct ak_cfg_route *r)
{
    size_t nmatch = 0;
    int cont;

    r->line = (int)m->line;
    if (!ak__cfg_check_map(ld, m, key, route_keys, AK_ARRAY_SIZE(route_keys)))
        return;
    for (size_t i = 0; i + 1 < m->n && !ak__cfg_too_many(ld); i += 2) {
        const struct ak_cfg_node *k = m->kids[i], *v = m->kids[i + 1];
        bool is_match = ak_streq(k->value, "match"), is_re = ak_streq(k->value, "match_re");
        bool is_list = ak_streq(k->value, "matchers");
        char *full;

        if (!(is_match || is_re || is_list) || ak_cfg_node_is_null(v) ||
            ak__cfg_map_key(m, k->value) != k)
            continue;
        full = subkey(key, k->value);
        nmatch += v->kind == AK_CFG_NODE_SEQ ? v->n : v->n / 2;
        if (depth == 0)
            ak__cfg_report(ld, k->line, k->col, full,
                           "the root route matches every record; put matchers on child routes");
        else if (nmatch > ROUTE_MATCHERS_MAX)
            ak__cfg_report(ld, k->line, k->col, full, "more than %d matchers in one route",
                           ROUTE_MATCHERS_MAX);
        else if (is_list)
            route_matcher_list(ld, v, full, r);
        else
            route_match_map(ld, v, full, is_match ? AK_MATCH_EQ : AK_MATCH_RE, r);
        free(full);
    }
    cont = ak__cfg_get_bool(ld, m, key, "continue");
    if (cont != -1 && depth == 0) {
        const struct ak_cfg_node *k = ak__cfg_map_key(m, "continue");
        ak__cfg_report(ld, k->line, k->col, key, "continue applies to child routes only");
    }
    r->cont = cont == 1;
    if (ak__cfg_map_get(m, "receivers")) {
        char *rkey = subkey(key, "receivers");
        ak__cfg_receiver_list(ld, ak__cfg_map_get(m, "receivers"), rkey, &r->receivers);
        free(rkey);
    }
    if (ak__cfg_map_get(m, "routes")) {
        char *ckey = subkey(key, "routes");
        route_children(ld, ak__cfg_map_get(m, "routes"), ckey, depth, r);
        free(ckey);
    }
}

/* ---- entry points ---- */

void ak__cfg_load_notify(struct ak__cfg_loader *ld)
{
    struct ak_cfg *c = ld->c;

    if (ld->receivers && !ak_cfg_node_is_null(ld->receivers))
        load_receivers(ld, ld->receivers);
    if (ld->route && !ak_cfg_node_is_null(ld->route)) {
        c->route = ak_xcalloc(1, sizeof(*c->route));
        load_route(ld, ld->route, "route", 0, c->route);
    }
    if (c->notify_backoff_min_ms > c->notify_backoff_max_ms)
        ak__cfg_report(ld, ld->notify ? ld->notify->line : 1, ld->notify ? ld->notify->col : 1,
                       "notify.backoff_min", "must not be longer than notify.backoff_max");
}

static void receiver_release(struct ak_cfg_receiver *r)
{
    free(r->name);
    free(r->smarthost);
    free(r->from);
    ak_cfg_strlist_release(&r->to);
    free(r->username);
    free(r->password);
    free(r->ca_file);
    free(r->webhook_url);
    free(r->bot_token);
    free(r->channel);
    free(r->api_url);
    free(r->url);
    free(r->secret);
    free(r->digest_time);
    free(r->digest_tz);
}

/* Depth is capped at ROUTE_DEPTH_MAX while loading, so recursion is bounded. */
static void route_release(struct ak_cfg_route *r)
{
    ak_matchers_release(&r->match);
    ak_cfg_strlist_release(&r->receivers);
    for (size_t i = 0; i < r->n_routes; i++)
        route_release(&r->routes[i]);
    free(r->routes);
}

void ak__cfg_notify_release(struct ak_cfg *c)
{
    for (size_t i = 0; i < c->n_receivers; i++)
        receiver_release(&c->receivers[i]);
    free(c->receivers);
    c->receivers = NULL;
    c->n_receivers = 0;
    if (c->route) {
        route_release(c->route);
        free(c->route);
        c->route = NULL;
    }
    free(c->reminders_ms);
    c->reminders_ms = NULL;
    c->n_reminders = 0;
}
