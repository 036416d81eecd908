/* cfg_yaml_json.c — YAML node trees as JSON: the STS twin's trust policies written in YAML
 * (cfg_sts.c) and ak_cfg_yaml_to_json (a runbook's front matter) share one converter, so that
 * both type scalars the same way and both refuse duplicate keys.
 *
 * Only plain scalars are typed ("true" and '3' stay strings, as written): a YAML 1.1 reader
 * would turn `on`, `yes` and 0777 into other things, which is what surprises people. A
 * duplicate key is an error rather than "the last one wins": in a policy a condition would be
 * silently dropped, in a front matter a variable. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asakai/ak_buf.h"
#include "asakai/ak_err.h"
#include "asakai/ak_json.h"
#include "asakai/ak_util.h"
#include "cfg_int.h"
#include "../core/ak_banned.h"

#define MAP_KEYS_MAX 1000          /* keys of one mapping */
#define DOC_JSON_MAX (2 * AK_CFG_MAX_FILE)
#define KEY_PRINT_MAX 80

struct conv {
    const char *what;
    struct ak_buf *out;
    struct ak__cfg_json_fail *f;
};

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static bool is_json_number(const char *s)
{
    size_t d;

    if (*s == '-')
        s++;
    if (*s == '0')
        s++;
    else if ((d = strspn(s, "0123456789")) > 0)
        s += d;
    else
        return false;
    if (*s == '.') {
        if ((d = strspn(s + 1, "0123456789")) == 0)
            return false;
        s += 1 + d;
    }
    if (*s == 'e' || *s == 'E') {
        s++;
        if (*s == '+' || *s == '-')
            s++;
        if ((d = strspn(s, "0123456789")) == 0)
            return false;
        s += d;
    }
    return *s == 0;
}

static void conv_fail(struct conv *cv, const struct ak_cfg_node *at, const char *key,
                      const char *fmt, const char *arg)
{
    if (cv->f->failed)
        return;
    cv->f->failed = true;
    cv->f->line = at->line;
    cv->f->col = at->col;
    cv->f->key = ak_xstrdup(key);
    snprintf(cv->f->msg, sizeof(cv->f->msg), fmt, arg);
}

static void too_long(struct conv *cv, const struct ak_cfg_node *at, const char *key)
{
    char msg[96];

    snprintf(msg, sizeof(msg), "%%s is longer than %zu KiB as JSON", cv->out->max / 1024);
    conv_fail(cv, at, key, msg, cv->what);
}

static char *subkey(const char *key, const char *name)
{
    return *key ? ak_xasprintf("%s.%s", key, name) : ak_xstrdup(name);
}

static void conv_node(struct conv *cv, const struct ak_cfg_node *v, const char *key);

static void conv_scalar(struct conv *cv, const struct ak_cfg_node *v, const char *key)
{
    if (memchr(v->value, 0, v->len)) {
        conv_fail(cv, v, key, "%s", "value contains a NUL byte");
        return;
    }
    if (v->plain && (strcmp(v->value, "true") == 0 || strcmp(v->value, "false") == 0 ||
                     is_json_number(v->value))) {
        if (ak_buf_add(cv->out, v->value) < 0)
            too_long(cv, v, key);
        return;
    }
    if (ak_json_quote(cv->out, v->value) < 0) {
        char msg[128];

        snprintf(msg, sizeof(msg), "%%s is longer than %zu KiB as JSON, or not UTF-8",
                 cv->out->max / 1024);
        conv_fail(cv, v, key, msg, cv->what);
    }
}

static void conv_seq(struct conv *cv, const struct ak_cfg_node *v, const char *key)
{
    ak_buf_addc(cv->out, '[');
    for (size_t i = 0; i < v->n && !cv->f->failed; i++) {
        char *ikey = ak_xasprintf("%s[%zu]", key, i);

        if (i)
            ak_buf_addc(cv->out, ',');
        conv_node(cv, v->kids[i], ikey);
        free(ikey);
    }
    if (ak_buf_addc(cv->out, ']') < 0)
        too_long(cv, v, key);
}

/* A key must be a non-empty scalar without NUL, given only once in its mapping. */
static bool conv_key_ok(struct conv *cv, const struct ak_cfg_node *map, size_t i,
                        const char *key)
{
    const struct ak_cfg_node *k = map->kids[i];

    if (k->kind != AK_CFG_NODE_SCALAR || !k->len || memchr(k->value, 0, k->len)) {
        conv_fail(cv, k, key, "%s keys must be non-empty strings", cv->what);
        return false;
    }
    for (size_t j = 0; j < i; j += 2) {
        const struct ak_cfg_node *o = map->kids[j];

        if (o->kind == AK_CFG_NODE_SCALAR && o->len == k->len &&
            memcmp(o->value, k->value, k->len) == 0) {
            char *full = subkey(key, k->value);
            char msg[160];

            snprintf(msg, sizeof(msg), "duplicate key (first set at line %zu column %zu)",
                     o->line, o->col);
            conv_fail(cv, k, full, "%s", msg);
            free(full);
            return false;
        }
    }
    return true;
}

static void conv_map(struct conv *cv, const struct ak_cfg_node *v, const char *key)
{
    if (v->n / 2 > MAP_KEYS_MAX) {
        conv_fail(cv, v, key, "a %s mapping has more than 1000 keys", cv->what);
        return;
    }
    ak_buf_addc(cv->out, '{');
    for (size_t i = 0; i + 1 < v->n && !cv->f->failed; i += 2) {
        char *full;

        if (!conv_key_ok(cv, v, i, key))
            return;
        full = subkey(key, v->kids[i]->value);
        if (i)
            ak_buf_addc(cv->out, ',');
        if (ak_json_quote(cv->out, v->kids[i]->value) < 0 || ak_buf_addc(cv->out, ':') < 0)
            too_long(cv, v->kids[i], full);
        else
            conv_node(cv, v->kids[i + 1], full);
        free(full);
    }
    if (ak_buf_addc(cv->out, '}') < 0)
        too_long(cv, v, key);
}

static void conv_node(struct conv *cv, const struct ak_cfg_node *v, const char *key)
{
    if (cv->f->failed)
        return;
    if (v->kind == AK_CFG_NODE_MAP)
        conv_map(cv, v, key);
    else if (v->kind == AK_CFG_NODE_SEQ)
        conv_seq(cv, v, key);
    else
        conv_scalar(cv, v, key);
}

bool ak__cfg_node_to_json(const struct ak_cfg_node *v, const char *what, const char *key,
                          struct ak_buf *out, struct ak__cfg_json_fail *f)
{
    struct conv cv = {what, out, f};

    memset(f, 0, sizeof(*f));
    conv_node(&cv, v, key);
    return !f->failed;
}

void ak__cfg_json_fail_release(struct ak__cfg_json_fail *f)
{
    ak_freep(&f->key);
}

/* ---- ak_cfg_yaml_to_json ---- */

static int doc_error(struct ak_buf *err, const char *name, size_t line, size_t col,
                     const char *key, const char *msg)
{
    struct ak_buf b = AK_BUF_INIT(AK_BUF_NOMAX);

    ak_buf_addf(&b, "%s:%zu:%zu: ", name, line, col);
    if (key && *key) {
        ak__cfg_add_printable(&b, key, KEY_PRINT_MAX);
        ak_buf_add(&b, ": ");
    }
    ak_buf_add(&b, msg);
    if (err)
        ak_buf_addf(err, "%s\n", b.buf);
    ak_buf_release(&b);
    return AK_EINVAL;
}

int ak_cfg_yaml_to_json(const char *name, const char *text, size_t len, int first_line,
                        struct ak_json **ret, struct ak_buf *err)
{
    struct ak_cfg_node *root = NULL;
    struct ak_cfg_yaml_error ye;
    struct ak__cfg_json_fail f;
    struct ak_buf out = AK_BUF_INIT(DOC_JSON_MAX), jerr = AK_BUF_INIT(512);
    struct ak_json *j = NULL;
    size_t base = first_line > 1 ? (size_t)first_line - 1 : 0;
    int r;

    memset(&f, 0, sizeof(f));
    name = name ? name : "(string)";
    if (!text)
        len = 0;
    if (len > AK_CFG_MAX_FILE) {
        r = doc_error(err, name, base + 1, 1, NULL, "the YAML text is larger than 1 MiB");
        goto out;
    }
    r = ak_cfg_yaml_parse_at(text ? text : "", len, base + 1, &root, &ye);
    if (r < 0) {
        r = doc_error(err, name, ye.line, ye.col, NULL, ye.msg);
        goto out;
    }
    if (!root) { /* empty, or comments only */
        *ret = ak_json_new_null();
        goto out;
    }
    if (!ak__cfg_node_to_json(root, "YAML", "", &out, &f)) {
        r = doc_error(err, name, f.line, f.col, f.key, f.msg);
        goto out;
    }
    j = ak_json_parse(out.buf, out.len, &jerr);
    if (!j) { /* a number jansson cannot hold (1e999, 2^64) */
        char *msg = ak_xasprintf("cannot be represented as JSON (%s)", jerr.buf);

        r = doc_error(err, name, root->line, root->col, NULL, msg);
        free(msg);
        goto out;
    }
    *ret = j;
    r = AK_OK;
out:
    ak__cfg_json_fail_release(&f);
    ak_cfg_node_free(root);
    ak_buf_release(&out);
    ak_buf_release(&jerr);
    return r;
}
