/* parse.c — the exposition parser: a line-at-a-time state machine in the spirit of Prometheus's
 * promlex.l/openmetricslex.l. Every line is decoded into one reused scratch buffer, so a sample
 * costs no allocation; family names live in an arena for the whole parse. */
#include "asakai/ak_expo.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "asakai/ak_err.h"
#include "asakai/ak_util.h"
#include "expo_int.h"
#include "../core/ak_banned.h"

struct fam {
    size_t name_off, name_len, unit_off;
    enum ak_expo_type type;
    bool has_type, has_help, has_unit, has_samples;
};

/* One OpenMetrics (gauge)histogram point: the samples of one label set (le aside) and timestamp. */
struct hist {
    bool open, has_inf, has_count, has_sum, neg;
    uint64_t group;
    double last_le, last_val, inf_val, count, sum;
};

/* Open-addressing set of 64-bit hashes (0 = empty slot) with one value per key. */
struct tab {
    uint64_t *key;
    struct tval {
        double ts; /* OpenMetrics: the last timestamp of a series, in seconds */
        int64_t ms;
        bool has_ts;
    } *val;
    size_t cap, n;
};

struct parser {
    const char *text;
    size_t len;
    bool om;
    unsigned line;
    ak_expo_sample_cb cb;
    void *arg;
    struct ak_buf *err;

    struct ak_buf names; /* arena: family names and units, NUL-terminated */
    struct fam *fams;
    size_t nfams, afams;
    uint32_t *ftab; /* open addressing: family index + 1, 0 = empty */
    size_t ftab_cap;
    long cur; /* current family, -1 before the first */
    bool eof; /* saw "# EOF" */

    struct tab seen;   /* per family: series (OpenMetrics: without timestamp, with its last) */
    struct tab groups; /* OpenMetrics, per family: label sets (le/quantile/state aside) seen */
    uint64_t group;    /* the current one */
    bool group_open;
    struct hist h;
    double ts_sec;     /* OpenMetrics: the sample's timestamp as written */

    char *scratch; /* decoded copy of one line's names and values */
    size_t scratch_len, scratch_cap;
    struct ak_expo_label labels[AK_EXPO_MAX_LABELS];
    struct ak_expo_label ex_labels[AK_EXPO_MAX_LABELS];
    struct ak_expo_sample s;
};

/* A cursor over one line. */
struct cur {
    const char *p, *end;
};

#define FAIL(P, ...) ak_err((P)->err, AK_EINVAL, __VA_ARGS__)

static const char *fam_name(const struct parser *p, const struct fam *f)
{
    return p->names.buf + f->name_off;
}

static struct fam *cur_fam(struct parser *p)
{
    return p->cur >= 0 ? &p->fams[p->cur] : NULL;
}

/* ---- family table ---------------------------------------------------------------------- */

static uint64_t name_hash(const char *s, size_t n)
{
    return ak_expo_hash(AK_EXPO_HASH_INIT, s, n);
}

static struct fam *fam_lookup(struct parser *p, const char *name, size_t n)
{
    if (!p->ftab_cap)
        return NULL;
    for (size_t i = name_hash(name, n) & (p->ftab_cap - 1);; i = (i + 1) & (p->ftab_cap - 1)) {
        uint32_t v = p->ftab[i];
        if (!v)
            return NULL;
        struct fam *f = &p->fams[v - 1];
        if (f->name_len == n && memcmp(fam_name(p, f), name, n) == 0)
            return f;
    }
}

static void ftab_insert(struct parser *p, uint32_t idx)
{
    const struct fam *f = &p->fams[idx];
    size_t i = name_hash(fam_name(p, f), f->name_len) & (p->ftab_cap - 1);
    while (p->ftab[i])
        i = (i + 1) & (p->ftab_cap - 1);
    p->ftab[i] = idx + 1;
}

static struct fam *fam_add(struct parser *p, const char *name, size_t n)
{
    if (p->nfams == p->afams) {
        p->afams = p->afams ? p->afams * 2 : 64;
        p->fams = ak_xrealloc(p->fams, p->afams * sizeof(*p->fams));
    }
    if ((p->nfams + 1) * 2 > p->ftab_cap) {
        free(p->ftab);
        p->ftab_cap = p->ftab_cap ? p->ftab_cap * 2 : 128;
        p->ftab = ak_xcalloc(p->ftab_cap, sizeof(*p->ftab));
        for (size_t i = 0; i < p->nfams; i++)
            ftab_insert(p, (uint32_t)i);
    }
    struct fam *f = &p->fams[p->nfams];
    memset(f, 0, sizeof(*f));
    f->name_off = p->names.len;
    f->name_len = n;
    /* names has no cap; both adds only fail on OOM, which aborts */
    (void)ak_buf_addn(&p->names, name, n);
    (void)ak_buf_addc(&p->names, 0);
    f->unit_off = p->names.len - 1; /* the name's NUL doubles as the empty unit */
    ftab_insert(p, (uint32_t)p->nfams);
    p->nfams++;
    return f;
}

/* ---- per-family duplicate set ---------------------------------------------------------- */

static void tab_clear(struct tab *t)
{
    if (t->n)
        memset(t->key, 0, t->cap * sizeof(*t->key));
    t->n = 0;
}

static void tab_free(struct tab *t)
{
    free(t->key);
    free(t->val);
}

static size_t tab_slot(const struct tab *t, uint64_t h)
{
    size_t j = h & (t->cap - 1);
    while (t->key[j] && t->key[j] != h)
        j = (j + 1) & (t->cap - 1);
    return j;
}

/* Finds h, inserting it with a zeroed value when absent; *ret_new says which. */
static struct tval *tab_get(struct tab *t, uint64_t h, bool *ret_new)
{
    h = h ? h : 1;
    if ((t->n + 1) * 2 > t->cap) {
        struct tab old = *t;
        t->cap = old.cap ? old.cap * 2 : 256;
        t->key = ak_xcalloc(t->cap, sizeof(*t->key));
        t->val = ak_xcalloc(t->cap, sizeof(*t->val));
        for (size_t i = 0; i < old.cap; i++) {
            if (!old.key[i])
                continue;
            size_t j = tab_slot(t, old.key[i]);
            t->key[j] = old.key[i];
            t->val[j] = old.val[i];
        }
        tab_free(&old);
    }
    size_t j = tab_slot(t, h);
    *ret_new = !t->key[j];
    if (*ret_new) {
        t->key[j] = h;
        memset(&t->val[j], 0, sizeof(t->val[j]));
        t->n++;
    }
    return &t->val[j];
}

/* ---- histogram bookkeeping (OpenMetrics) ----------------------------------------------- */

/* Ends the open histogram point: it needs a +Inf bucket, _count and _sum together, _count equal
 * to the +Inf bucket, no _sum beside negative buckets (histogram: the sum would not be a counter)
 * and a negative _gsum only beside negative buckets (gaugehistogram). */
static int hist_close(struct parser *p)
{
    const struct hist *h = &p->h;
    const struct fam *f = cur_fam(p);
    const char *name = f ? fam_name(p, f) : "?";

    if (!h->open)
        return AK_OK;
    p->h.open = false;
    if (!h->has_inf)
        return FAIL(p, "line %u: histogram %s has a point without a le=\"+Inf\" bucket", p->line,
                    name);
    if (h->has_count != h->has_sum)
        return FAIL(p, "line %u: histogram %s has a point with only one of its count and sum",
                    p->line, name);
    if (h->has_count && h->count != h->inf_val)
        return FAIL(p, "line %u: histogram %s has a count that differs from its le=\"+Inf\" bucket",
                    p->line, name);
    if (f && f->type == AK_EXPO_HISTOGRAM && h->has_sum && h->neg)
        return FAIL(p, "line %u: histogram %s has negative buckets and a _sum", p->line, name);
    if (h->has_sum && h->sum < 0 && !h->neg)
        return FAIL(p, "line %u: histogram %s has a negative sum without negative buckets",
                    p->line, name);
    return AK_OK;
}

/* Ends the current family before another starts (or at the end of the text). */
static int fam_finish(struct parser *p)
{
    int r = p->om ? hist_close(p) : AK_OK;
    memset(&p->h, 0, sizeof(p->h));
    tab_clear(&p->seen);
    tab_clear(&p->groups);
    p->group_open = false;
    return r;
}

/* ---- lexing helpers -------------------------------------------------------------------- */

static bool is_name_start(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
}

static bool is_name_char(char c)
{
    return is_name_start(c) || (c >= '0' && c <= '9');
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

static void skip_blanks(struct cur *c)
{
    while (c->p < c->end && is_blank(*c->p))
        c->p++;
}

/* A metric name (colons allowed) or a label name (no colons). Returns its length, 0 if none. */
static size_t lex_name(struct cur *c, bool metric)
{
    const char *s = c->p;
    if (s == c->end || !is_name_start(*s) || (!metric && *s == ':'))
        return 0;
    while (c->p < c->end && is_name_char(*c->p) && (metric || *c->p != ':'))
        c->p++;
    return (size_t)(c->p - s);
}

/* A token up to the next blank (space only in OpenMetrics) or the end of the line. */
static size_t lex_token(const struct parser *p, struct cur *c)
{
    const char *s = c->p;
    while (c->p < c->end && !(p->om ? *c->p == ' ' : is_blank(*c->p)))
        c->p++;
    return (size_t)(c->p - s);
}

/* Copies s[0..n) plus a NUL into the scratch buffer; returns the copy. */
static char *scratch_put(struct parser *p, const char *s, size_t n)
{
    char *d = p->scratch + p->scratch_len;
    AK_BUG_ON(p->scratch_len + n + 1 > p->scratch_cap);
    memcpy(d, s, n);
    d[n] = 0;
    p->scratch_len += n + 1;
    return d;
}

/* Decodes an escaped string into the scratch up to an unescaped '"' (quoted: label values) or to
 * the end of the line (HELP). 0.0.4 label values allow only \\ \" \n; OpenMetrics and HELP keep
 * any other "\x" as the two bytes. */
static int unescape(struct parser *p, struct cur *c, bool quoted, bool strict, const char **ret,
                    size_t *ret_len)
{
    char *d = p->scratch + p->scratch_len, *start = d;

    for (;;) {
        if (c->p == c->end) {
            if (quoted)
                return FAIL(p, "line %u: unterminated label value", p->line);
            break;
        }
        char ch = *c->p++;
        if (quoted && ch == '"')
            break;
        if (ch != '\\') {
            *d++ = ch;
            continue;
        }
        if (c->p == c->end) {
            if (quoted)
                return FAIL(p, "line %u: backslash at the end of the line", p->line);
            *d++ = '\\'; /* HELP text may end in a lone backslash: it stands for itself */
            break;
        }
        ch = *c->p++;
        if (ch == 'n') {
            *d++ = '\n';
        } else if (ch == '\\' || (ch == '"' && quoted)) {
            *d++ = ch;
        } else if (strict) {
            return FAIL(p, "line %u: invalid escape sequence \"\\%c\" in a label value", p->line,
                        ch);
        } else {
            *d++ = '\\';
            *d++ = ch;
        }
    }
    *d = 0;
    *ret = start;
    *ret_len = (size_t)(d - start);
    p->scratch_len += (size_t)(d - start) + 1;
    return AK_OK;
}

/* ---- labels ---------------------------------------------------------------------------- */

static void sort_labels(struct ak_expo_label *l, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        struct ak_expo_label x = l[i];
        size_t j = i;
        while (j > 0 && strcmp(l[j - 1].name, x.name) > 0) {
            l[j] = l[j - 1];
            j--;
        }
        l[j] = x;
    }
}

/* Parses "{...}" at c (c->p at '{'). */
static int parse_labels(struct parser *p, struct cur *c, struct ak_expo_label *out, size_t *ret_n)
{
    size_t n = 0;
    bool need_sep = false, after_comma = false;
    int r;

    c->p++;
    for (;;) {
        if (!p->om)
            skip_blanks(c);
        if (c->p == c->end)
            return FAIL(p, "line %u: unterminated label set", p->line);
        if (*c->p == '}') {
            if (p->om && after_comma)
                return FAIL(p, "line %u: trailing comma in a label set", p->line);
            c->p++;
            break;
        }
        if (need_sep) {
            if (*c->p != ',')
                return FAIL(p, "line %u: expected ',' or '}' in a label set", p->line);
            c->p++;
            need_sep = false, after_comma = true;
            continue;
        }
        const char *ns = c->p;
        size_t nl = lex_name(c, false);
        if (!nl)
            return FAIL(p, "line %u: invalid label name", p->line);
        if (nl == 8 && memcmp(ns, "__name__", 8) == 0)
            return FAIL(p, "line %u: label name __name__ is reserved", p->line);
        if (!p->om)
            skip_blanks(c);
        if (c->p == c->end || *c->p != '=')
            return FAIL(p, "line %u: expected '=' after label name %.*s", p->line, (int)nl, ns);
        c->p++;
        if (!p->om)
            skip_blanks(c);
        if (c->p == c->end || *c->p != '"')
            return FAIL(p, "line %u: expected '\"' to open the value of label %.*s", p->line,
                        (int)nl, ns);
        c->p++;
        if (n == AK_EXPO_MAX_LABELS)
            return ak_err(p->err, AK_ETOOBIG, "line %u: more than %d labels", p->line,
                          AK_EXPO_MAX_LABELS);
        out[n].name = scratch_put(p, ns, nl);
        r = unescape(p, c, true, !p->om, &out[n].value, &out[n].value_len);
        if (r < 0)
            return r;
        n++;
        need_sep = true, after_comma = false;
    }
    *ret_n = n;
    return AK_OK;
}

static int check_label_dups(struct parser *p, const struct ak_expo_label *l, size_t n)
{
    for (size_t i = 1; i < n; i++)
        if (strcmp(l[i - 1].name, l[i].name) == 0)
            return FAIL(p, "line %u: duplicate label name %s", p->line, l[i].name);
    return AK_OK;
}

static const struct ak_expo_label *find_label(const struct ak_expo_sample *s, const char *name)
{
    for (size_t i = 0; i < s->nlabels; i++)
        if (strcmp(s->labels[i].name, name) == 0)
            return &s->labels[i];
    return NULL;
}

/* ---- families and sample names --------------------------------------------------------- */

static const char *const suf_none[] = {"", NULL};
static const char *const suf_prom_hist[] = {"_bucket", "_count", "_sum", NULL};
static const char *const suf_prom_sum[] = {"", "_count", "_sum", NULL};
static const char *const suf_om_counter[] = {"_total", "_created", NULL};
static const char *const suf_om_hist[] = {"_bucket", "_count", "_sum", "_created", NULL};
static const char *const suf_om_ghist[] = {"_bucket", "_gcount", "_gsum", NULL};
static const char *const suf_om_sum[] = {"", "_count", "_sum", "_created", NULL};
static const char *const suf_om_info[] = {"_info", NULL};

static const char *const *suffixes(bool om, enum ak_expo_type t)
{
    switch (t) {
    case AK_EXPO_COUNTER: return om ? suf_om_counter : suf_none;
    case AK_EXPO_HISTOGRAM: return om ? suf_om_hist : suf_prom_hist;
    case AK_EXPO_GAUGEHISTOGRAM: return suf_om_ghist;
    case AK_EXPO_SUMMARY: return om ? suf_om_sum : suf_prom_sum;
    case AK_EXPO_INFO: return suf_om_info;
    default: return suf_none;
    }
}

/* The suffix of sample name[0..n) in family f, or NULL when the name does not belong to it. */
static const char *fam_match(const struct parser *p, const struct fam *f, const char *name,
                             size_t n)
{
    if (n < f->name_len || memcmp(name, fam_name(p, f), f->name_len) != 0)
        return NULL;
    for (const char *const *s = suffixes(p->om, f->type); *s; s++)
        if (strlen(*s) == n - f->name_len && memcmp(name + f->name_len, *s, n - f->name_len) == 0)
            return *s;
    return NULL;
}

static const char *const clash_suffixes[] = {"_total", "_created", "_bucket", "_count", "_sum",
                                             "_gcount", "_gsum", "_info", NULL};

/* OpenMetrics: a new family must not collide with the sample names of an existing one (gauge
 * foo_created beside counter foo), nor the other way round. */
static int om_check_clash(struct parser *p, const char *name, size_t n, enum ak_expo_type type)
{
    for (const char *const *s = clash_suffixes; *s; s++) {
        size_t sl = strlen(*s);
        if (n > sl && memcmp(name + n - sl, *s, sl) == 0) {
            struct fam *b = fam_lookup(p, name, n - sl);
            if (b && fam_match(p, b, name, n))
                return FAIL(p, "line %u: family %.*s clashes with the samples of family %s",
                            p->line, (int)n, name, fam_name(p, b));
        }
    }
    for (const char *const *s = suffixes(true, type); *s; s++) {
        char tmp[512];
        size_t sl = strlen(*s);
        if (!sl || n + sl >= sizeof(tmp))
            continue;
        memcpy(tmp, name, n);
        memcpy(tmp + n, *s, sl);
        if (fam_lookup(p, tmp, n + sl))
            return FAIL(p, "line %u: family %.*s clashes with family %.*s", p->line, (int)n,
                        name, (int)(n + sl), tmp);
    }
    return AK_OK;
}

/* Makes name the current family, creating it; OpenMetrics forbids coming back to one. */
static int fam_switch(struct parser *p, const char *name, size_t n, enum ak_expo_type type,
                      struct fam **ret)
{
    struct fam *f = fam_lookup(p, name, n);
    int r;

    if (f && f == cur_fam(p)) {
        *ret = f;
        return AK_OK;
    }
    if (f && p->om)
        return FAIL(p, "line %u: family %.*s appears again after another family", p->line,
                    (int)n, name);
    r = fam_finish(p);
    if (r < 0)
        return r;
    if (!f) {
        if (p->om) {
            r = om_check_clash(p, name, n, type);
            if (r < 0)
                return r;
        }
        f = fam_add(p, name, n);
        f->type = type;
    }
    p->cur = f - p->fams;
    *ret = f;
    return AK_OK;
}

/* Finds the family a sample name belongs to. */
static int resolve(struct parser *p, const char *name, size_t n, struct fam **ret_f,
                   const char **ret_suffix)
{
    struct fam *f = cur_fam(p);
    const char *suf = f ? fam_match(p, f, name, n) : NULL;
    int r;

    if (!suf && !p->om) {
        /* 0.0.4: a family may be split; find it by name, then by the base of a suffix */
        f = fam_lookup(p, name, n);
        suf = f ? fam_match(p, f, name, n) : NULL;
        for (const char *const *s = suf_prom_hist; !suf && *s; s++) {
            size_t sl = strlen(*s);
            if (n > sl && memcmp(name + n - sl, *s, sl) == 0) {
                f = fam_lookup(p, name, n - sl);
                suf = f ? fam_match(p, f, name, n) : NULL;
            }
        }
        if (suf && f != cur_fam(p)) {
            r = fam_finish(p);
            if (r < 0)
                return r;
            p->cur = f - p->fams;
        }
    }
    if (!suf) {
        f = fam_lookup(p, name, n);
        if (f && f == cur_fam(p))
            return FAIL(p, "line %u: sample name %.*s is not valid in a %s family", p->line,
                        (int)n, name, ak_expo_type_name(f->type));
        if (f && !p->om)
            return FAIL(p, "line %u: sample name %.*s does not fit family %s of type %s", p->line,
                        (int)n, name, fam_name(p, f), ak_expo_type_name(f->type));
        r = fam_switch(p, name, n, AK_EXPO_UNTYPED, &f);
        if (r < 0)
            return r;
        suf = "";
    }
    *ret_f = f;
    *ret_suffix = suf;
    return AK_OK;
}

/* ---- metadata lines -------------------------------------------------------------------- */

static const char *const om_types[] = {"unknown", "counter", "gauge", "histogram",
                                       "gaugehistogram", "stateset", "info", "summary", NULL};
static const char *const prom_types[] = {"untyped", "counter", "gauge", "histogram", "", "", "",
                                         "summary", NULL};

static int parse_type_word(struct parser *p, const char *w, size_t n, enum ak_expo_type *ret)
{
    const char *const *tab = p->om ? om_types : prom_types;
    for (int i = 0; tab[i]; i++) {
        if (tab[i][0] && strlen(tab[i]) == n && memcmp(tab[i], w, n) == 0) {
            *ret = (enum ak_expo_type)i;
            return AK_OK;
        }
    }
    return FAIL(p, "line %u: unknown metric type \"%.*s\"", p->line, (int)(n > 64 ? 64 : n), w);
}

enum meta { META_TYPE, META_HELP, META_UNIT };

static int meta_family(struct parser *p, const char *name, size_t n, enum meta kind,
                       struct fam **ret)
{
    static const char *const what[] = {"TYPE", "HELP", "UNIT"};
    struct fam *f = NULL;
    int r;

    if (p->om) {
        r = fam_switch(p, name, n, AK_EXPO_UNTYPED, &f);
        if (r < 0)
            return r;
        if (f->has_samples)
            return FAIL(p, "line %u: %s for %.*s after its samples", p->line, what[kind], (int)n,
                        name);
    } else {
        f = fam_lookup(p, name, n);
        if (!f)
            f = fam_add(p, name, n);
        if (kind == META_TYPE && f->has_samples)
            return FAIL(p, "line %u: TYPE for %.*s after its samples", p->line, (int)n, name);
    }
    bool *has = kind == META_TYPE ? &f->has_type : kind == META_HELP ? &f->has_help : &f->has_unit;
    if (*has)
        return FAIL(p, "line %u: second %s line for %.*s", p->line, what[kind], (int)n, name);
    *has = true;
    *ret = f;
    return AK_OK;
}

static int parse_unit(struct parser *p, struct fam *f, struct cur *c)
{
    const char *u = c->p;
    size_t un = (size_t)(c->end - c->p);
    const char *name = fam_name(p, f);

    for (size_t i = 0; i < un; i++)
        if (!is_name_char(u[i]))
            return FAIL(p, "line %u: invalid character in the unit of %s", p->line, name);
    if (!un)
        return AK_OK;
    if (f->type == AK_EXPO_INFO || f->type == AK_EXPO_STATESET)
        return FAIL(p, "line %u: a %s family has no unit", p->line, ak_expo_type_name(f->type));
    if (f->name_len <= un + 1 || name[f->name_len - un - 1] != '_' ||
        memcmp(name + f->name_len - un, u, un) != 0)
        return FAIL(p, "line %u: unit %.*s is not a suffix of the family name %s", p->line,
                    (int)un, u, name);
    f->unit_off = p->names.len;
    (void)ak_buf_addn(&p->names, u, un);
    (void)ak_buf_addc(&p->names, 0);
    return AK_OK;
}

/* c->p just after "TYPE"/"HELP"/"UNIT". */
static int parse_meta(struct parser *p, struct cur *c, enum meta kind)
{
    struct fam *f = NULL;
    const char *help;
    size_t n, help_len;
    int r;

    if (p->om) {
        if (c->p == c->end || *c->p != ' ')
            return FAIL(p, "line %u: expected a space after the keyword", p->line);
        c->p++;
    } else {
        skip_blanks(c);
    }
    const char *name = c->p;
    n = lex_name(c, true);
    if (!n)
        return FAIL(p, "line %u: invalid metric name in a metadata line", p->line);
    if (p->om) {
        if (c->p == c->end && kind != META_TYPE)
            return FAIL(p, "line %u: expected a space after %.*s", p->line, (int)n, name);
        if (c->p < c->end && *c->p++ != ' ')
            return FAIL(p, "line %u: invalid metric name in a metadata line", p->line);
    } else {
        if (c->p < c->end && !is_blank(*c->p))
            return FAIL(p, "line %u: invalid metric name in a metadata line", p->line);
        skip_blanks(c);
        if (c->p == c->end)
            return AK_OK; /* "# HELP name" with nothing after it is a plain comment in 0.0.4 */
    }
    r = meta_family(p, name, n, kind, &f);
    if (r < 0)
        return r;
    if (kind == META_HELP) {
        p->scratch_len = 0;
        return unescape(p, c, false, false, &help, &help_len);
    }
    if (kind == META_UNIT)
        return parse_unit(p, f, c);
    const char *w = c->p;
    size_t wn = (size_t)(c->end - c->p);
    if (!p->om)
        while (wn && is_blank(w[wn - 1]))
            wn--;
    r = parse_type_word(p, w, wn, &f->type);
    if (r == AK_OK && p->om && p->names.buf[f->unit_off] &&
        (f->type == AK_EXPO_INFO || f->type == AK_EXPO_STATESET))
        return FAIL(p, "line %u: a %s family has no unit", p->line, ak_expo_type_name(f->type));
    if (r == AK_OK && p->om)
        r = om_check_clash(p, fam_name(p, f), f->name_len, f->type);
    return r;
}

static bool rest_is(const struct cur *c, const char *word)
{
    size_t n = strlen(word);
    return (size_t)(c->end - c->p) >= n && memcmp(c->p, word, n) == 0;
}

/* A line starting with '#'. */
static int parse_comment(struct parser *p, struct cur *c)
{
    c->p++;
    if (p->om) {
        if ((size_t)(c->end - c->p) == 4 && memcmp(c->p, " EOF", 4) == 0) {
            p->eof = true;
            return AK_OK;
        }
        if (rest_is(c, " TYPE") || rest_is(c, " HELP") || rest_is(c, " UNIT")) {
            enum meta k = c->p[1] == 'T' ? META_TYPE : c->p[1] == 'H' ? META_HELP : META_UNIT;
            c->p += 5;
            return parse_meta(p, c, k);
        }
        return FAIL(p, "line %u: invalid line starting with '#'", p->line);
    }
    skip_blanks(c);
    bool type = rest_is(c, "TYPE"), help = rest_is(c, "HELP");
    if (!type && !help)
        return AK_OK; /* a plain comment */
    c->p += 4;
    if (c->p < c->end && !is_blank(*c->p))
        return AK_OK; /* "# TYPEWRITER ..." is a comment too */
    skip_blanks(c);
    if (c->p == c->end)
        return AK_OK;
    return parse_meta(p, c, type ? META_TYPE : META_HELP);
}

/* ---- samples --------------------------------------------------------------------------- */

static int parse_ts(struct parser *p, const char *t, size_t n, int64_t *ret, double *ret_sec)
{
    double sec;

    if (!p->om) {
        if (!ak_expo_parse_i64(t, n, ret))
            return FAIL(p, "line %u: invalid timestamp \"%.*s\"", p->line, (int)(n > 64 ? 64 : n),
                        t);
        return AK_OK;
    }
    if (!ak_expo_parse_double(t, n, false, &sec) || !(fabs(sec) < 9.2e15))
        return FAIL(p, "line %u: invalid timestamp \"%.*s\"", p->line, (int)(n > 64 ? 64 : n), t);
    *ret = (int64_t)llround(sec * 1000.0);
    if (ret_sec)
        *ret_sec = sec;
    return AK_OK;
}

static int parse_value(struct parser *p, const char *t, size_t n, double *ret)
{
    if (!n)
        return FAIL(p, "line %u: missing value", p->line);
    if (!ak_expo_parse_double(t, n, true, ret))
        return FAIL(p, "line %u: invalid value \"%.*s\"", p->line, (int)(n > 64 ? 64 : n), t);
    return AK_OK;
}

/* OpenMetrics " # {labels} value [ts]" after a sample; c->p at the '#'. */
static int parse_exemplar(struct parser *p, struct cur *c, const char *suffix)
{
    struct ak_expo_sample *s = &p->s;
    size_t cps = 0;
    int r;

    if (strcmp(suffix, "_total") != 0 && strcmp(suffix, "_bucket") != 0)
        return FAIL(p, "line %u: exemplar on a sample that is not a counter total or a bucket",
                    p->line);
    if ((size_t)(c->end - c->p) < 3 || memcmp(c->p, "# {", 3) != 0)
        return FAIL(p, "line %u: invalid exemplar", p->line);
    c->p += 2;
    r = parse_labels(p, c, p->ex_labels, &s->ex_nlabels);
    if (r < 0)
        return r;
    for (size_t i = 0; i < s->ex_nlabels; i++)
        cps += strlen(p->ex_labels[i].name) +
               ak_expo_utf8_count(p->ex_labels[i].value, p->ex_labels[i].value_len);
    if (cps > 128)
        return FAIL(p, "line %u: exemplar labels longer than 128 characters", p->line);
    if (c->p == c->end || *c->p++ != ' ')
        return FAIL(p, "line %u: expected a space after the exemplar labels", p->line);
    const char *t = c->p;
    r = parse_value(p, t, lex_token(p, c), &s->ex_value);
    if (r < 0)
        return r;
    if (c->p < c->end) {
        c->p++;
        t = c->p;
        size_t tn = lex_token(p, c);
        if (!tn || c->p != c->end)
            return FAIL(p, "line %u: invalid exemplar timestamp", p->line);
        r = parse_ts(p, t, tn, &s->ex_ts_ms, NULL);
        if (r < 0)
            return r;
        s->ex_has_ts = true;
    }
    s->has_exemplar = true;
    s->ex_labels = p->ex_labels;
    return AK_OK;
}

/* Value and optional timestamp (and exemplar) after the name and labels. */
static int parse_tail(struct parser *p, struct cur *c, const char *suffix)
{
    struct ak_expo_sample *s = &p->s;
    int r;

    if (p->om) {
        if (c->p == c->end || *c->p++ != ' ')
            return FAIL(p, "line %u: expected a single space before the value", p->line);
    } else {
        skip_blanks(c);
    }
    const char *t = c->p;
    r = parse_value(p, t, lex_token(p, c), &s->value);
    if (r < 0)
        return r;
    if (!p->om)
        skip_blanks(c);
    else if (c->p < c->end && ++c->p == c->end)
        return FAIL(p, "line %u: trailing space", p->line);
    if (c->p == c->end)
        return AK_OK;
    if (p->om && *c->p == '#')
        return parse_exemplar(p, c, suffix);
    t = c->p;
    size_t tn = lex_token(p, c);
    r = parse_ts(p, t, tn, &s->ts_ms, &p->ts_sec);
    if (r < 0)
        return r;
    s->has_ts = true;
    if (!p->om) {
        skip_blanks(c);
        if (c->p != c->end)
            return FAIL(p, "line %u: unexpected text after the timestamp", p->line);
        return AK_OK;
    }
    if (c->p == c->end)
        return AK_OK;
    if (++c->p == c->end || *c->p != '#')
        return FAIL(p, "line %u: unexpected text after the timestamp", p->line);
    return parse_exemplar(p, c, suffix);
}

static uint64_t series_hash(const struct ak_expo_sample *s, const char *skip_label, bool with_name)
{
    uint64_t h = AK_EXPO_HASH_INIT;
    if (with_name)
        h = ak_expo_hash(h, s->name, strlen(s->name) + 1);
    for (size_t i = 0; i < s->nlabels; i++) {
        if (skip_label && strcmp(s->labels[i].name, skip_label) == 0)
            continue;
        h = ak_expo_hash(h, s->labels[i].name, strlen(s->labels[i].name) + 1);
        h = ak_expo_hash(h, &s->labels[i].value_len, sizeof(size_t));
        h = ak_expo_hash(h, s->labels[i].value, s->labels[i].value_len);
    }
    if (s->has_ts)
        h = ak_expo_hash(h, &s->ts_ms, sizeof(s->ts_ms));
    return h;
}

static bool is_count(double v)
{
    return !isnan(v) && v >= 0 && (isinf(v) || floor(v) == v);
}

/* The le/quantile label as a number. */
static int num_label(struct parser *p, const char *name, double *ret)
{
    const struct ak_expo_label *l = find_label(&p->s, name);
    if (!l)
        return FAIL(p, "line %u: %s sample without a %s label", p->line, p->s.name, name);
    if (!ak_expo_parse_double(l->value, l->value_len, true, ret) || isnan(*ret))
        return FAIL(p, "line %u: invalid %s label value \"%s\"", p->line, name, l->value);
    return AK_OK;
}

/* Makes the histogram point of the current sample (labels but le, timestamp) the open one. */
static int hist_point(struct parser *p)
{
    uint64_t g = series_hash(&p->s, "le", false);
    int r;

    if (p->h.open && p->h.group == g)
        return AK_OK;
    r = hist_close(p);
    if (r < 0)
        return r;
    memset(&p->h, 0, sizeof(p->h));
    p->h.open = true, p->h.group = g, p->h.last_le = -INFINITY;
    return AK_OK;
}

static int check_bucket(struct parser *p)
{
    struct hist *h = &p->h;
    double le, v = p->s.value;
    int r = num_label(p, "le", &le);

    if (r < 0 || !p->om)
        return r;
    if (isinf(le) && strcmp(find_label(&p->s, "le")->value, "+Inf") != 0)
        return FAIL(p, "line %u: an infinite le must be written \"+Inf\"", p->line);
    if (!is_count(v))
        return FAIL(p, "line %u: bucket value must be a non-negative integer", p->line);
    r = hist_point(p);
    if (r < 0)
        return r;
    if (h->has_count || h->has_sum)
        return FAIL(p, "line %u: bucket after the count or sum of its histogram point", p->line);
    if (le <= h->last_le)
        return FAIL(p, "line %u: buckets are not in increasing le order", p->line);
    if (v < h->last_val)
        return FAIL(p, "line %u: bucket values are not cumulative", p->line);
    h->last_le = le, h->last_val = v;
    h->neg |= le < 0;
    if (isinf(le))
        h->has_inf = true, h->inf_val = v;
    return AK_OK;
}

/* OpenMetrics (gauge)histogram _count/_sum/_gcount/_gsum. */
static int check_hist_total(struct parser *p, const char *suffix)
{
    const struct ak_expo_sample *s = &p->s;
    bool count = !strcmp(suffix, "_count") || !strcmp(suffix, "_gcount");
    int r;

    if (count && !is_count(s->value))
        return FAIL(p, "line %u: %s must be a non-negative integer", p->line, s->name);
    if (!count && (isnan(s->value) || (!strcmp(suffix, "_sum") && s->value < 0)))
        return FAIL(p, "line %u: %s must be a number that is not negative", p->line, s->name);
    r = hist_point(p);
    if (r < 0)
        return r;
    if (count)
        p->h.has_count = true, p->h.count = s->value;
    else
        p->h.has_sum = true, p->h.sum = s->value;
    return AK_OK;
}

static int check_summary(struct parser *p, const char *suffix)
{
    const struct ak_expo_sample *s = &p->s;
    double q;
    int r;

    if (*suffix) {
        if (!p->om)
            return AK_OK;
        if (!strcmp(suffix, "_count") && !is_count(s->value))
            return FAIL(p, "line %u: %s must be a non-negative integer", p->line, s->name);
        if (!strcmp(suffix, "_sum") && (isnan(s->value) || s->value < 0))
            return FAIL(p, "line %u: %s must be a number that is not negative", p->line,
                        s->name);
        return AK_OK;
    }
    r = num_label(p, "quantile", &q);
    if (r < 0 || !p->om)
        return r;
    if (q < 0 || q > 1)
        return FAIL(p, "line %u: quantile %g is outside [0, 1]", p->line, q);
    if (s->value < 0)
        return FAIL(p, "line %u: quantile value must not be negative", p->line);
    return AK_OK;
}

/* Type-specific rules; suffix is the part of the sample name after the family name. */
static int check_semantics(struct parser *p, const struct fam *f, const char *suffix)
{
    const struct ak_expo_sample *s = &p->s;
    bool hist = f->type == AK_EXPO_HISTOGRAM || f->type == AK_EXPO_GAUGEHISTOGRAM;

    if (hist && strcmp(suffix, "_bucket") == 0)
        return check_bucket(p);
    if (f->type == AK_EXPO_SUMMARY)
        return check_summary(p, suffix);
    if (!p->om)
        return AK_OK;
    if (hist && strcmp(suffix, "_created") != 0)
        return check_hist_total(p, suffix);
    if (!strcmp(suffix, "_total") && (isnan(s->value) || s->value < 0))
        return FAIL(p, "line %u: counter %s must be a non-negative number", p->line, s->name);
    if (f->type == AK_EXPO_STATESET) {
        if (!find_label(s, fam_name(p, f)))
            return FAIL(p, "line %u: stateset sample without a %s label", p->line, fam_name(p, f));
        if (s->value != 0 && s->value != 1)
            return FAIL(p, "line %u: stateset value must be 0 or 1", p->line);
    }
    if (f->type == AK_EXPO_INFO && s->value != 1)
        return FAIL(p, "line %u: info value must be 1", p->line);
    return AK_OK;
}

/* OpenMetrics: the samples of one metric (its labels, le/quantile/state aside) are contiguous. */
static int check_group(struct parser *p, const struct fam *f)
{
    const char *skip = f->type == AK_EXPO_HISTOGRAM || f->type == AK_EXPO_GAUGEHISTOGRAM ? "le"
                       : f->type == AK_EXPO_SUMMARY                                    ? "quantile"
                       : f->type == AK_EXPO_STATESET ? fam_name(p, f)
                                                     : NULL;
    const struct ak_expo_sample *s = &p->s;
    uint64_t g = AK_EXPO_HASH_INIT;
    bool fresh;

    for (size_t i = 0; i < s->nlabels; i++) {
        if (skip && strcmp(s->labels[i].name, skip) == 0)
            continue;
        g = ak_expo_hash(g, s->labels[i].name, strlen(s->labels[i].name) + 1);
        g = ak_expo_hash(g, &s->labels[i].value_len, sizeof(size_t));
        g = ak_expo_hash(g, s->labels[i].value, s->labels[i].value_len);
    }
    if (p->group_open && g == p->group)
        return AK_OK;
    (void)tab_get(&p->groups, g, &fresh);
    if (!fresh)
        return FAIL(p, "line %u: the samples of one %s metric are not together", p->line,
                    fam_name(p, f));
    p->group = g, p->group_open = true;
    return AK_OK;
}

/* Duplicate series; in OpenMetrics also timestamps: all or none per series, never going back.
 * Sets *ret_skip for a point less than 1 ms after the previous one of its series (both would get
 * the same ms timestamp; the first one is kept). */
static int check_series(struct parser *p, bool *ret_skip)
{
    const struct ak_expo_sample *s = &p->s;
    bool fresh;

    *ret_skip = false;
    if (!p->om) {
        (void)tab_get(&p->seen, series_hash(s, NULL, true), &fresh);
        if (!fresh)
            return FAIL(p, "line %u: duplicate sample for series %s (same labels and timestamp)",
                        p->line, s->name);
        return AK_OK;
    }
    bool has_ts = s->has_ts;
    struct ak_expo_sample tmp = *s;
    tmp.has_ts = false;
    struct tval *v = tab_get(&p->seen, series_hash(&tmp, NULL, true), &fresh);
    if (!fresh) {
        if (v->has_ts != has_ts)
            return FAIL(p, "line %u: series %s has points both with and without a timestamp",
                        p->line, s->name);
        if (!has_ts || p->ts_sec == v->ts)
            return FAIL(p, "line %u: duplicate sample for series %s (same labels and timestamp)",
                        p->line, s->name);
        if (p->ts_sec < v->ts)
            return FAIL(p, "line %u: timestamps of series %s go backwards", p->line, s->name);
        *ret_skip = s->ts_ms == v->ms;
    }
    v->has_ts = has_ts, v->ts = p->ts_sec, v->ms = s->ts_ms;
    return AK_OK;
}

static int parse_sample(struct parser *p, struct cur *c)
{
    struct ak_expo_sample *s = &p->s;
    struct fam *f = NULL;
    const char *suffix = "";
    bool skip;
    int r;

    memset(s, 0, sizeof(*s));
    p->ts_sec = 0;
    s->labels = p->labels;
    s->line = p->line;
    p->scratch_len = 0;
    const char *ns = c->p;
    size_t n = lex_name(c, true);
    if (!n)
        return FAIL(p, "line %u: invalid metric name", p->line);
    s->name = scratch_put(p, ns, n);
    if (!p->om)
        skip_blanks(c);
    if (c->p < c->end && *c->p == '{') {
        r = parse_labels(p, c, p->labels, &s->nlabels);
        if (r < 0)
            return r;
        sort_labels(p->labels, s->nlabels);
        r = check_label_dups(p, p->labels, s->nlabels);
        if (r < 0)
            return r;
    }
    r = resolve(p, ns, n, &f, &suffix);
    if (r < 0)
        return r;
    r = parse_tail(p, c, suffix);
    if (r < 0)
        return r;
    r = p->om ? check_group(p, f) : AK_OK;
    if (r < 0)
        return r;
    r = check_semantics(p, f, suffix);
    if (r < 0)
        return r;
    r = check_series(p, &skip);
    if (r < 0)
        return r;
    f->has_samples = true;
    if (skip)
        return AK_OK;
    s->family = fam_name(p, f);
    s->type = f->type;
    s->unit = p->names.buf + f->unit_off;
    return p->cb ? p->cb(s, p->arg) : AK_OK;
}

/* ---- driver ---------------------------------------------------------------------------- */

static int parse_line(struct parser *p, struct cur *c)
{
    if (c->p == c->end) {
        if (p->om)
            return FAIL(p, "line %u: blank line", p->line);
        return AK_OK;
    }
    if (!p->om) {
        skip_blanks(c);
        if (c->p == c->end)
            return AK_OK;
    }
    if (*c->p == '#')
        return parse_comment(p, c);
    return parse_sample(p, c);
}

static bool ends_with_eof(const char *text, size_t len)
{
    if (len && text[len - 1] == '\n')
        len--;
    return len >= 5 && memcmp(text + len - 5, "# EOF", 5) == 0 &&
           (len == 5 || text[len - 6] == '\n');
}

static unsigned line_of(const char *text, size_t off)
{
    unsigned line = 1;
    for (size_t i = 0; i < off; i++)
        line += text[i] == '\n';
    return line;
}

static int run(struct parser *p)
{
    size_t pos = 0;
    int r;

    while (pos < p->len) {
        const char *s = p->text + pos, *nl = memchr(s, '\n', p->len - pos);
        size_t n = nl ? (size_t)(nl - s) : p->len - pos;
        struct cur c = {s, s + n};

        p->line++;
        if (p->eof)
            return FAIL(p, "line %u: text after # EOF", p->line);
        if (n > AK_EXPO_MAX_LINE)
            return ak_err(p->err, AK_ETOOBIG, "line %u: longer than %u bytes", p->line,
                          AK_EXPO_MAX_LINE);
        r = parse_line(p, &c);
        if (r != AK_OK)
            return r;
        pos += n + 1;
    }
    if (p->om && !p->eof)
        return FAIL(p, "line %u: missing # EOF at the end of the exposition", p->line);
    return fam_finish(p);
}

int ak_expo_parse(const char *text, size_t len, enum ak_expo_format fmt, ak_expo_sample_cb cb,
                  void *arg, struct ak_buf *err)
{
    struct parser *p = NULL;
    size_t bad;
    int r;

    if (len > AK_EXPO_MAX_TEXT)
        return ak_err(err, AK_ETOOBIG, "exposition of %zu bytes is over the %u-byte limit", len,
                      AK_EXPO_MAX_TEXT);
    bad = ak_expo_utf8_invalid_at(text, len);
    if (bad < len)
        return ak_err(err, AK_EINVAL, "line %u: invalid UTF-8", line_of(text, bad));
    if (fmt == AK_EXPO_AUTO)
        fmt = ends_with_eof(text, len) ? AK_EXPO_OPENMETRICS : AK_EXPO_PROM_TEXT;

    p = ak_xcalloc(1, sizeof(*p));
    p->text = text;
    p->len = len;
    p->om = fmt == AK_EXPO_OPENMETRICS;
    p->cb = cb;
    p->arg = arg;
    p->err = err;
    p->cur = -1;
    ak_buf_init(&p->names, AK_BUF_NOMAX);
    /* decoding only shrinks text; each name and value adds one NUL, and a label costs at least
     * the 4 bytes n="" for its 2 NULs */
    p->scratch_cap = (len < AK_EXPO_MAX_LINE ? len : AK_EXPO_MAX_LINE) * 2 + 16;
    p->scratch = ak_xmalloc(p->scratch_cap);

    r = run(p);

    ak_buf_release(&p->names);
    free(p->fams);
    free(p->ftab);
    tab_free(&p->seen);
    tab_free(&p->groups);
    free(p->scratch);
    free(p);
    return r;
}
