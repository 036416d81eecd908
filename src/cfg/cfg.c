/* cfg.c — loading: read the file, parse it to a tree, walk the tree against the option table.
 *
 * The walk keeps going after an error so that one run reports every problem (up to
 * AK_CFG_MAX_ERRORS). Messages never contain a value: after ${ENV} expansion it may be a secret,
 * and the file:line:col already says where to look. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asakai/ak_buf.h"
#include "asakai/ak_err.h"
#include "asakai/ak_util.h"
#include "cfg_int.h"
#include "../core/ak_banned.h"

#define KEY_PRINT_MAX 80
#define WHY_MAX 256

bool ak__cfg_too_many(const struct ak__cfg_loader *ld)
{
    return ld->nerr >= AK_CFG_MAX_ERRORS;
}

/* Keys come from the file: print them without control bytes and not too long, so that one error
 * stays one line. */
void ak__cfg_add_printable(struct ak_buf *b, const char *s, size_t max)
{
    size_t i;

    for (i = 0; s[i] && i < max; i++) {
        unsigned char ch = (unsigned char)s[i];
        ak_buf_addc(b, ch < ' ' || ch == 0x7f ? '?' : (char)ch);
    }
    if (s[i])
        ak_buf_add(b, "...");
}

void ak__cfg_report(struct ak__cfg_loader *ld, size_t line, size_t col, const char *key,
                    const char *fmt, ...)
{
    struct ak_buf b = AK_BUF_INIT(AK_BUF_NOMAX);
    va_list ap;

    if (ak__cfg_too_many(ld))
        return;
    ld->nerr++;
    if (!ld->err)
        return;
    ak_buf_addf(&b, "%s:%zu:%zu: ", ld->name, line, col);
    ak__cfg_add_printable(&b, key, KEY_PRINT_MAX);
    ak_buf_add(&b, ": ");
    va_start(ap, fmt);
    ak_buf_vaddf(&b, fmt, ap);
    va_end(ap);
    ak_buf_addc(&b, '\n');
    ak_buf_addn(ld->err, b.buf, b.len);
    ak_buf_release(&b);
}

const char *ak__cfg_kind_name(const struct ak_cfg_node *n)
{
    if (n->kind == AK_CFG_NODE_MAP)
        return "a mapping";
    if (n->kind == AK_CFG_NODE_SEQ)
        return "a list";
    return "a single value";
}

/* ---- ${ENV} expansion ---- */

static bool env_name_ok(const char *s, size_t len)
{
    if (len == 0 || len > 128 || (s[0] >= '0' && s[0] <= '9'))
        return false;
    for (size_t i = 0; i < len; i++)
        if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_", s[i]))
            return false;
    return true;
}

bool ak_cfg_expand_env(const char *in, size_t len, char **ret, char *why, size_t n)
{
    struct ak_buf b = AK_BUF_INIT(AK_CFG_MAX_VALUE);
    const char *end = in + len;
    bool ok = false;

    for (const char *p = in; p < end;) {
        const char *close, *val;
        char *name;

        if (end - p >= 3 && memcmp(p, "$${", 3) == 0) {
            if (ak_buf_add(&b, "${") < 0)
                goto toobig;
            p += 3;
            continue;
        }
        if (end - p < 2 || memcmp(p, "${", 2) != 0) {
            if (ak_buf_addc(&b, *p++) < 0)
                goto toobig;
            continue;
        }
        close = memchr(p + 2, '}', (size_t)(end - p - 2));
        if (!close) {
            snprintf(why, n, "unterminated \"${\" (write \"$${\" for a literal \"${\")");
            goto out;
        }
        if (!env_name_ok(p + 2, (size_t)(close - p - 2))) {
            snprintf(why, n, "bad environment variable name in \"${...}\" (letters, digits, _)");
            goto out;
        }
        name = ak_xstrndup(p + 2, (size_t)(close - p - 2));
        val = getenv(name);
        if (!val) {
            snprintf(why, n, "environment variable %s is not set", name);
            free(name);
            goto out;
        }
        free(name);
        if (ak_buf_add(&b, val) < 0)
            goto toobig;
        p = close + 1;
    }
    *ret = ak_buf_detach(&b, NULL);
    ok = true;
    goto out;
toobig:
    snprintf(why, n, "value is longer than %d bytes after expansion", AK_CFG_MAX_VALUE);
out:
    ak_buf_release(&b);
    return ok;
}

/* ---- the walk ---- */

/* The scalar's text for option o: expanded for string types. NULL after reporting. */
static char *scalar_text(struct ak__cfg_loader *ld, const struct ak_cfg_option *o,
                         const struct ak_cfg_node *v, const char *key)
{
    char why[WHY_MAX];
    char *s = NULL;

    if (memchr(v->value, 0, v->len)) {
        ak__cfg_report(ld, v->line, v->col, key, "value contains a NUL byte");
        return NULL;
    }
    if (o->type != AK_CFG_STR && o->type != AK_CFG_ENUM && o->type != AK_CFG_STRLIST)
        return ak_xstrdup(v->value);
    if (!ak_cfg_expand_env(v->value, v->len, &s, why, sizeof(why))) {
        ak__cfg_report(ld, v->line, v->col, key, "%s", why);
        return NULL;
    }
    return s;
}

static void apply_list(struct ak__cfg_loader *ld, const struct ak_cfg_option *o,
                       const struct ak_cfg_node *v, const char *key)
{
    struct ak_cfg_strlist l = {NULL, 0};
    unsigned before = ld->nerr;
    char why[WHY_MAX];

    if (v->kind != AK_CFG_NODE_SEQ) {
        ak__cfg_report(ld, v->line, v->col, key, "expected a list, got %s",
                       ak__cfg_kind_name(v));
        return;
    }
    if (v->n > AK_CFG_MAX_LIST) {
        ak__cfg_report(ld, v->line, v->col, key, "list has more than %d items",
                       AK_CFG_MAX_LIST);
        return;
    }
    l.v = ak_xcalloc(v->n ? v->n : 1, sizeof(*l.v));
    for (size_t i = 0; i < v->n && !ak__cfg_too_many(ld); i++) {
        const struct ak_cfg_node *it = v->kids[i];
        char ikey[KEY_PRINT_MAX + 32];
        char *s;

        snprintf(ikey, sizeof(ikey), "%s[%zu]", key, i);
        if (it->kind != AK_CFG_NODE_SCALAR || ak_cfg_node_is_null(it)) {
            ak__cfg_report(ld, it->line, it->col, ikey, "expected a string, got %s",
                           it->kind == AK_CFG_NODE_SCALAR ? "nothing" : ak__cfg_kind_name(it));
            continue;
        }
        s = scalar_text(ld, o, it, ikey);
        if (!s)
            continue;
        if (o->check && !o->check(s, why, sizeof(why))) {
            ak__cfg_report(ld, it->line, it->col, ikey, "%s", why);
            free(s);
            continue;
        }
        l.v[l.n++] = s;
    }
    if (ld->nerr == before)
        ak_cfg_option_set_list(o, ld->c, &l);
    ak_cfg_strlist_release(&l);
}

/* notify.reminders: durations, not expanded; sorted descending by the setter. */
static void apply_durlist(struct ak__cfg_loader *ld, const struct ak_cfg_option *o,
                          const struct ak_cfg_node *v, const char *key)
{
    unsigned before = ld->nerr;
    char why[WHY_MAX];
    int64_t *ms;
    size_t n = 0;

    if (v->kind != AK_CFG_NODE_SEQ) {
        ak__cfg_report(ld, v->line, v->col, key, "expected a list of durations, got %s",
                       ak__cfg_kind_name(v));
        return;
    }
    if (v->n > AK_CFG_MAX_DURLIST) {
        ak__cfg_report(ld, v->line, v->col, key, "list has more than %d items",
                       AK_CFG_MAX_DURLIST);
        return;
    }
    ms = ak_xcalloc(v->n ? v->n : 1, sizeof(*ms));
    for (size_t i = 0; i < v->n && !ak__cfg_too_many(ld); i++) {
        const struct ak_cfg_node *it = v->kids[i];
        char ikey[KEY_PRINT_MAX + 32];

        snprintf(ikey, sizeof(ikey), "%s[%zu]", key, i);
        if (it->kind != AK_CFG_NODE_SCALAR || ak_cfg_node_is_null(it) ||
            memchr(it->value, 0, it->len)) {
            ak__cfg_report(ld, it->line, it->col, ikey, "expected a duration, got %s",
                           it->kind == AK_CFG_NODE_SCALAR ? "nothing" : ak__cfg_kind_name(it));
            continue;
        }
        if (!ak__cfg_duration(o, it->value, &ms[n], why, sizeof(why))) {
            ak__cfg_report(ld, it->line, it->col, ikey, "%s", why);
            continue;
        }
        n++;
    }
    if (ld->nerr != before) {
        free(ms);
        return;
    }
    if (!ak__cfg_option_set_durlist(o, ld->c, ms, n, why, sizeof(why)))
        ak__cfg_report(ld, v->line, v->col, key, "%s", why);
}

static void apply_value(struct ak__cfg_loader *ld, const struct ak_cfg_option *o,
                        const struct ak_cfg_node *v, const char *key)
{
    char why[WHY_MAX];
    char *s;

    if (o->type == AK_CFG_STRLIST) {
        if (ak_cfg_node_is_null(v)) { /* "topics:" with nothing = empty list */
            struct ak_cfg_strlist empty = {NULL, 0};
            ak_cfg_option_set_list(o, ld->c, &empty);
            return;
        }
        apply_list(ld, o, v, key);
        return;
    }
    if (o->type == AK_CFG_DURLIST) {
        if (ak_cfg_node_is_null(v)) { /* "reminders:" with nothing = no reminders */
            if (!ak__cfg_option_set_durlist(o, ld->c, NULL, 0, why, sizeof(why)))
                ak__cfg_report(ld, v->line, v->col, key, "%s", why);
            return;
        }
        apply_durlist(ld, o, v, key);
        return;
    }
    if (v->kind != AK_CFG_NODE_SCALAR) {
        ak__cfg_report(ld, v->line, v->col, key, "expected a single value, got %s",
                       ak__cfg_kind_name(v));
        return;
    }
    if (ak_cfg_node_is_null(v)) {
        if (o->nullable) {
            char **dst = (char **)((char *)ld->c + o->offset);
            ak_freep(dst);
        } else {
            ak__cfg_report(ld, v->line, v->col, key, "needs a value");
        }
        return;
    }
    s = scalar_text(ld, o, v, key);
    if (!s)
        return;
    if (!ak_cfg_option_set(o, ld->c, s, why, sizeof(why)))
        ak__cfg_report(ld, v->line, v->col, key, "%s", why);
    free(s);
}

static void walk_map(struct ak__cfg_loader *ld, const struct ak_cfg_node *map, const char *prefix);

/* pollers.NAME with an unknown NAME: say so, and list the pollers when no name is close. */
static void unknown_poller(struct ak__cfg_loader *ld, const struct ak_cfg_node *k,
                           const char *full, const char *hint, bool have_hint)
{
    struct ak_buf names = AK_BUF_INIT(AK_BUF_NOMAX);

    /* "pollers" itself is no answer to "pollers.s3" */
    if (have_hint && ak_startswith(hint, "pollers.")) {
        ak__cfg_report(ld, k->line, k->col, full, "unknown poller; did you mean '%s'?", hint);
        return;
    }
    for (int i = 0; i < AK_POLLER_N; i++)
        ak_buf_addf(&names, "%s%s", i ? ", " : "", ak_cfg_poller_name(i));
    ak__cfg_report(ld, k->line, k->col, full, "unknown poller (pollers: %s)", names.buf);
    ak_buf_release(&names);
}

static void unknown_key(struct ak__cfg_loader *ld, const struct ak_cfg_node *k, const char *full)
{
    char hint[128];
    bool have_hint = ak_cfg_suggest(full, hint, sizeof(hint));

    if (ak_startswith(full, "pollers.") && !strchr(full + strlen("pollers."), '.')) {
        unknown_poller(ld, k, full, hint, have_hint);
        return;
    }
    if (have_hint)
        ak__cfg_report(ld, k->line, k->col, full, "unknown key; did you mean '%s'?", hint);
    else
        ak__cfg_report(ld, k->line, k->col, full, "unknown key");
}

/* Returns the index of an earlier key equal to kids[i] in map, or SIZE_MAX. */
static size_t earlier_duplicate(const struct ak_cfg_node *map, size_t i)
{
    const struct ak_cfg_node *k = map->kids[i];

    for (size_t j = 0; j < i; j += 2) {
        const struct ak_cfg_node *o = map->kids[j];

        if (o->kind == AK_CFG_NODE_SCALAR && o->len == k->len &&
            memcmp(o->value, k->value, k->len) == 0)
            return j;
    }
    return SIZE_MAX;
}

static void walk_pair(struct ak__cfg_loader *ld, const struct ak_cfg_node *map, size_t i,
                      const char *prefix)
{
    const struct ak_cfg_node *k = map->kids[i], *v = map->kids[i + 1];
    const struct ak_cfg_option *o;
    size_t dup;
    char *full;

    if (k->kind != AK_CFG_NODE_SCALAR || memchr(k->value, 0, k->len) || !k->len) {
        ak__cfg_report(ld, k->line, k->col, prefix ? prefix : "(document)",
                       "keys must be non-empty names");
        return;
    }
    if (memchr(k->value, '.', k->len)) {
        ak__cfg_report(ld, k->line, k->col, prefix ? prefix : "(document)",
                       "keys must not contain '.': nest them as mappings (server:\n  listen: ...)");
        return;
    }
    full = prefix ? ak_xasprintf("%s.%s", prefix, k->value) : ak_xstrdup(k->value);
    dup = earlier_duplicate(map, i);
    if (dup != SIZE_MAX) {
        ak__cfg_report(ld, k->line, k->col, full,
                       "duplicate key (first set at line %zu column %zu)", map->kids[dup]->line,
                       map->kids[dup]->col);
        goto out;
    }
    /* receivers and route refer to each other and to notify.*: kept for after the walk */
    if (!prefix && strcmp(full, "receivers") == 0) {
        ld->receivers = v;
        goto out;
    }
    if (!prefix && strcmp(full, "route") == 0) {
        ld->route = v;
        goto out;
    }
    /* lists of records: loaded by cfg_aws.c after the walk */
    if (!prefix && strcmp(full, "inventory") == 0) {
        ld->inventory = v;
        goto out;
    }
    if (prefix && strcmp(full, "aws.accounts") == 0) {
        ld->aws_accounts = v;
        goto out;
    }
    if (prefix && strcmp(full, "sts.oidc_providers") == 0) {
        ld->sts_providers = v;
        goto out;
    }
    if (prefix && strcmp(full, "sts.roles") == 0) {
        ld->sts_roles = v;
        goto out;
    }
    if (!prefix && strcmp(full, "teams") == 0) {
        ld->teams = v;
        goto out;
    }
    /* daily monitoring: loaded by cfg_mon.c after the walk */
    if (prefix && strcmp(full, "monitoring.signals") == 0) {
        ld->mon_signals = v;
        goto out;
    }
    if (prefix && strcmp(full, "monitoring.sources") == 0) {
        ld->mon_sources = v;
        goto out;
    }
    if (!prefix && strcmp(full, "services") == 0) {
        ld->services = v;
        goto out;
    }
    if (!prefix && strcmp(full, "monitoring") == 0)
        ld->monitoring = k;
    if (prefix && strcmp(full, "monitoring.scrape_timeout") == 0)
        ld->mon_timeout = k; /* noted, then parsed as an option below */
    if (!prefix && strcmp(full, "notify") == 0)
        ld->notify = k;
    if (!prefix && strcmp(full, "report") == 0)
        ld->report = k;
    o = ak_cfg_option_find(full);
    if (o)
        apply_value(ld, o, v, full);
    else if (ak_cfg_is_section(full))
        walk_map(ld, v, full);
    else
        unknown_key(ld, k, full);
out:
    free(full);
}

static void walk_map(struct ak__cfg_loader *ld, const struct ak_cfg_node *map, const char *prefix)
{
    if (ak_cfg_node_is_null(map)) /* "server:" with nothing under it, or an empty document */
        return;
    if (map->kind != AK_CFG_NODE_MAP) {
        ak__cfg_report(ld, map->line, map->col, prefix ? prefix : "(document)",
                       "expected a mapping of keys, got %s", ak__cfg_kind_name(map));
        return;
    }
    for (size_t i = 0; i + 1 < map->n && !ak__cfg_too_many(ld); i += 2)
        walk_pair(ld, map, i, prefix);
}

/* ---- entry points ---- */

static int load(const char *name, const char *yaml, size_t len, struct ak_cfg *c,
                struct ak_buf *err)
{
    struct ak_cfg tmp;
    struct ak_cfg_node *root = NULL;
    struct ak_cfg_yaml_error ye;
    struct ak__cfg_loader ld = {.name = name, .c = &tmp, .err = err};
    int r;

    ak_cfg_defaults(&tmp);
    if (len > AK_CFG_MAX_FILE) {
        ak__cfg_report(&ld, 1, 1, "(document)", "file is larger than %d bytes",
                       AK_CFG_MAX_FILE);
        r = AK_ECONFIG;
        goto out;
    }
    r = ak_cfg_yaml_parse(yaml, len, &root, &ye);
    if (r < 0) {
        ak__cfg_report(&ld, ye.line, ye.col, "(syntax)", "%s", ye.msg);
        goto out;
    }
    walk_map(&ld, root, NULL);
    ak__cfg_load_notify(&ld);
    ak__cfg_load_aws(&ld);
    ak__cfg_load_sts(&ld);
    ak__cfg_load_teams(&ld);
    ak__cfg_load_mon(&ld);
    if (ld.nerr) {
        r = AK_ECONFIG;
        goto out;
    }
    free(tmp.source);
    tmp.source = ak_xstrdup(name);
    *c = tmp;
    memset(&tmp, 0, sizeof(tmp));
    r = AK_OK;
out:
    ak_cfg_node_free(root);
    ak_cfg_release(&tmp);
    if (r < 0)
        memset(c, 0, sizeof(*c));
    return r;
}

int ak_cfg_load_string(const char *name, const char *yaml, size_t len, struct ak_cfg *c,
                       struct ak_buf *err)
{
    return load(name ? name : "(string)", yaml ? yaml : "", yaml ? len : 0, c, err);
}

/* Reads at most max+1 bytes so that "too big" is detected without reading a huge file. */
static int read_file(const char *path, size_t max, char **ret, size_t *ret_len)
{
    FILE *f = NULL;
    char *buf = NULL;
    size_t len = 0;
    int r;

    f = fopen(path, "rb");
    if (!f) {
        r = -errno;
        goto out;
    }
    buf = ak_xmalloc(max + 2);
    len = fread(buf, 1, max + 1, f);
    if (ferror(f)) {
        r = errno ? -errno : -EIO;
        goto out;
    }
    buf[len] = 0;
    *ret = buf;
    *ret_len = len;
    buf = NULL;
    r = 0;
out:
    free(buf);
    if (f)
        fclose(f);
    return r;
}

int ak_cfg_load(const char *path, struct ak_cfg *c, struct ak_buf *err)
{
    char *text = NULL;
    size_t len = 0;
    int r;

    if (!path) {
        memset(c, 0, sizeof(*c));
        return ak_err(err, AK_EINVAL, "no configuration file name given");
    }
    errno = 0;
    r = read_file(path, AK_CFG_MAX_FILE, &text, &len);
    if (r < 0) {
        memset(c, 0, sizeof(*c));
        if (err)
            ak_buf_addf(err, "cannot read %s: %s\n", path, strerror(-r));
        return AK_EIO;
    }
    r = load(path, text, len, c, err);
    free(text);
    return r;
}

void ak_cfg_release(struct ak_cfg *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < ak_cfg_noptions; i++) {
        const struct ak_cfg_option *o = &ak_cfg_options[i];
        void *f = (char *)c + o->offset;

        if (o->type == AK_CFG_STR || o->type == AK_CFG_ENUM)
            ak_freep(f);
        else if (o->type == AK_CFG_STRLIST)
            ak_cfg_strlist_release(f);
    }
    ak__cfg_notify_release(c);
    ak__cfg_aws_release(c);
    ak__cfg_sts_release(c);
    ak__cfg_teams_release(c);
    ak__cfg_mon_release(c);
    free(c->source);
    memset(c, 0, sizeof(*c));
}
