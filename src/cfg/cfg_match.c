/* cfg_match.c — matchers "field OP value" for routes and silences: parsing, checking, formatting.
 *
 * The grammar is Alertmanager's matcher syntax without braces: field, one of = != =~ !~, and a
 * value that is either bare (up to the next ',' in a list; surrounding blanks trimmed) or
 * double-quoted with \" and \\ as its only escapes. Regexes are POSIX EREs matched against the
 * whole value: we compile "^(" value ")$", which is only equivalent when the value's own
 * parentheses balance, so that is checked first. */
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asakai/ak_buf.h"
#include "asakai/ak_err.h"
#include "asakai/ak_util.h"
#include "cfg_int.h"
#include "../core/ak_banned.h"

#define MATCHERS_MAX 64
#define VALUE_MAX 1024
#define TAG_KEY_MAX 128
#define SHOW_MAX 60         /* bytes of a bad matcher quoted back in a message */
#define LIST_TEXT_MAX (MATCHERS_MAX * (VALUE_MAX * 2 + TAG_KEY_MAX + 16))

static const char *const fields[] = {"service", "kind",       "status",     "account", "region",
                                     "source",  "event_code", "importance", "resource"};

static const char *op_text(enum ak_match_op op)
{
    switch (op) {
    case AK_MATCH_EQ:
        return "=";
    case AK_MATCH_NE:
        return "!=";
    case AK_MATCH_RE:
        return "=~";
    case AK_MATCH_NRE:
        return "!~";
    }
    return "?";
}

/* AWS tag keys: letters, digits, spaces and _.:/=+-@; we leave out space and '=' so that a key
 * never needs quoting. */
static bool tag_key_char(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           (ch && strchr("_.:/+@-", ch));
}

static bool field_ok(const char *f)
{
    if (ak_startswith(f, "tag.")) {
        size_t len = strlen(f + 4);

        if (len == 0 || len > TAG_KEY_MAX)
            return false;
        for (const char *p = f + 4; *p; p++)
            if (!tag_key_char(*p))
                return false;
        return true;
    }
    for (size_t i = 0; i < AK_ARRAY_SIZE(fields); i++)
        if (strcmp(f, fields[i]) == 0)
            return true;
    return false;
}

/* Skips a bracket expression starting at re[i] == '['; returns the index of its ']'. */
static size_t skip_bracket(const char *re, size_t i)
{
    size_t j = i + 1;

    if (re[j] == '^')
        j++;
    if (re[j] == ']') /* a leading ']' is a literal */
        j++;
    for (; re[j]; j++) {
        if (re[j] == '[' && re[j + 1] && strchr(":.=", re[j + 1])) {
            /* [:alpha:] [.x.] [=x=]: may hold a ']' of their own */
            char kind = re[j + 1];

            for (j += 2; re[j] && !(re[j] == kind && re[j + 1] == ']'); j++)
                ;
            if (!re[j])
                return j;
            j++;
            continue;
        }
        if (re[j] == ']')
            return j;
    }
    return j;
}

/* Every '(' closed by a ')' of its own, outside brackets and escapes: then "^(" re ")$" anchors
 * the whole of re and not only its first alternative. */
static bool parens_balance(const char *re)
{
    size_t depth = 0;

    for (size_t i = 0; re[i]; i++) {
        if (re[i] == '\\') {
            if (!re[i + 1])
                return false;
            i++;
        } else if (re[i] == '[') {
            i = skip_bracket(re, i);
            if (!re[i])
                return false;
        } else if (re[i] == '(') {
            depth++;
        } else if (re[i] == ')') {
            if (depth == 0)
                return false;
            depth--;
        }
    }
    return depth == 0;
}

bool ak__cfg_regex_stacked(const char *re)
{
    bool after_repeat = false;

    for (size_t i = 0; re[i]; i++) {
        bool repeat = false;

        if (re[i] == '\\' && re[i + 1]) {
            i++;
        } else if (re[i] == '[') {
            i = skip_bracket(re, i);
            if (!re[i])
                break;
        } else if (re[i] == '*' || re[i] == '+' || re[i] == '?') {
            repeat = true;
        } else if (re[i] == '{' && re[i + 1] >= '0' && re[i + 1] <= '9') {
            while (re[i] && re[i] != '}')
                i++;
            if (!re[i])
                break;
            repeat = true;
        }
        if (repeat && after_repeat)
            return true;
        after_repeat = repeat;
    }
    return false;
}

static bool regex_ok(const char *v, char *why, size_t n)
{
    char *anchored = NULL;
    regex_t rx;
    int rc;

    if (!parens_balance(v)) {
        snprintf(why, n, "bad regular expression: unbalanced parentheses or brackets");
        return false;
    }
    if (ak__cfg_regex_stacked(v)) {
        snprintf(why, n, "bad regular expression: stacked repetitions (like a+* or a{2}+) are "
                         "not allowed");
        return false;
    }
    if (!ak__cfg_regex_repeats_ok(v)) {
        snprintf(why, n, "bad regular expression: it repeats too much ({n,m} bounds)");
        return false;
    }
    anchored = ak_xasprintf("^(%s)$", v);
    rc = regcomp(&rx, anchored, REG_EXTENDED | REG_NOSUB);
    free(anchored);
    if (rc != 0) {
        char msg[128];

        regerror(rc, &rx, msg, sizeof(msg));
        snprintf(why, n, "bad regular expression: %s", msg);
        return false;
    }
    regfree(&rx);
    return true;
}

bool ak__cfg_matcher_make(const char *field, enum ak_match_op op, const char *value,
                          struct ak_matcher *ret, char *why, size_t n)
{
    size_t len = strlen(value);

    if (!field_ok(field)) {
        snprintf(why, n, "unknown field (fields: service, kind, status, account, region, source, "
                         "event_code, importance, resource, tag.<key>)");
        return false;
    }
    if (op < AK_MATCH_EQ || op > AK_MATCH_NRE) {
        snprintf(why, n, "unknown operator");
        return false;
    }
    if (len == 0) {
        snprintf(why, n, "%s: empty value", field);
        return false;
    }
    if (len > VALUE_MAX) {
        snprintf(why, n, "%s: value is longer than %d bytes", field, VALUE_MAX);
        return false;
    }
    for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
        if (*p < ' ' || *p == 0x7f) {
            snprintf(why, n, "%s: value contains a control character", field);
            return false;
        }
    }
    if (strcmp(field, "importance") == 0 && (op == AK_MATCH_EQ || op == AK_MATCH_NE) &&
        strcmp(value, "high") != 0 && strcmp(value, "normal") != 0) {
        snprintf(why, n, "importance is high or normal");
        return false;
    }
    if ((op == AK_MATCH_RE || op == AK_MATCH_NRE) && !regex_ok(value, why, n))
        return false;
    ret->field = ak_xstrdup(field);
    ret->op = op;
    ret->value = ak_xstrdup(value);
    return true;
}

/* ---- parsing text ---- */

static bool is_blank(char ch)
{
    return ch == ' ' || ch == '\t';
}

static void skip_blanks(const char **p)
{
    while (is_blank(**p))
        (*p)++;
}

/* Reads a quoted value at *p (on the opening '"') into b. false with why. */
static bool read_quoted(const char **p, struct ak_buf *b, char *why, size_t n)
{
    const char *s = *p + 1;

    for (; *s && *s != '"'; s++) {
        if (*s == '\\') {
            if (s[1] != '"' && s[1] != '\\') {
                snprintf(why, n, "only \\\" and \\\\ may be escaped in a quoted value");
                return false;
            }
            s++;
        }
        if (ak_buf_addc(b, *s) < 0) {
            snprintf(why, n, "value is longer than %d bytes", VALUE_MAX);
            return false;
        }
    }
    if (*s != '"') {
        snprintf(why, n, "quoted value has no closing '\"'");
        return false;
    }
    *p = s + 1;
    return true;
}

/* Reads a bare value at *p up to the end or (in a list) a ',' into b, without trailing blanks. */
static bool read_bare(const char **p, bool list, struct ak_buf *b, char *why, size_t n)
{
    const char *s = *p, *end;

    while (*s && !(list && *s == ','))
        s++;
    end = s;
    while (end > *p && is_blank(end[-1]))
        end--;
    if (memchr(*p, '"', (size_t)(end - *p))) {
        snprintf(why, n, "a value containing '\"' must be quoted as a whole (\"...\")");
        return false;
    }
    if (ak_buf_addn(b, *p, (size_t)(end - *p)) < 0) {
        snprintf(why, n, "value is longer than %d bytes", VALUE_MAX);
        return false;
    }
    *p = s;
    return true;
}

static bool read_op(const char **p, enum ak_match_op *op)
{
    static const struct {
        const char *text;
        enum ak_match_op op;
    } ops[] = {{"=~", AK_MATCH_RE}, {"!~", AK_MATCH_NRE}, {"!=", AK_MATCH_NE}, {"=", AK_MATCH_EQ}};

    for (size_t i = 0; i < AK_ARRAY_SIZE(ops); i++) {
        if (ak_startswith(*p, ops[i].text)) {
            *op = ops[i].op;
            *p += strlen(ops[i].text);
            return true;
        }
    }
    return false;
}

/* Parses one matcher at *p; in a list it stops before the ',' that ends it. */
static bool parse_one(const char **p, bool list, struct ak_matcher *ret, char *why, size_t n)
{
    struct ak_buf value = AK_BUF_INIT(VALUE_MAX);
    const char *s = *p, *fstart;
    enum ak_match_op op;
    char *field = NULL;
    bool ok = false;

    skip_blanks(&s);
    fstart = s;
    while (*s && !strchr("=!~,\" \t", *s))
        s++;
    field = ak_xstrndup(fstart, (size_t)(s - fstart));
    if (!*field) {
        snprintf(why, n, "expected a field name");
        goto out;
    }
    skip_blanks(&s);
    if (!read_op(&s, &op)) {
        snprintf(why, n, "expected an operator (=, !=, =~ or !~) after the field name");
        goto out;
    }
    skip_blanks(&s);
    if (*s == '"') {
        if (!read_quoted(&s, &value, why, n))
            goto out;
        skip_blanks(&s);
        if (*s && !(list && *s == ',')) {
            snprintf(why, n, "unexpected text after the quoted value");
            goto out;
        }
    } else if (!read_bare(&s, list, &value, why, n)) {
        goto out;
    }
    if (!ak__cfg_matcher_make(field, op, value.buf, ret, why, n))
        goto out;
    *p = s;
    ok = true;
out:
    free(field);
    ak_buf_release(&value);
    return ok;
}

/* "matcher "service=x": reason." — the offending text, printable and short. */
static int parse_error(struct ak_buf *err, const char *start, const char *why)
{
    struct ak_buf b = AK_BUF_INIT(AK_BUF_NOMAX);
    const char *end = start;
    char *shown;
    int r;

    while (*end && *end != ',' && (size_t)(end - start) < SHOW_MAX + 1)
        end++;
    shown = ak_xstrndup(start, (size_t)(end - start));
    ak__cfg_add_printable(&b, shown, SHOW_MAX);
    r = ak_err(err, AK_EINVAL, "matcher \"%s\": %s.", b.buf, why);
    free(shown);
    ak_buf_release(&b);
    return r;
}

int ak_matcher_parse(const char *s, struct ak_matcher *ret, struct ak_buf *err)
{
    struct ak_matcher m = {NULL, 0, NULL};
    const char *p = s;
    char why[256];

    if (!s || !ret)
        return ak_err(err, AK_EINVAL, "no matcher given.");
    if (strlen(s) > LIST_TEXT_MAX)
        return ak_err(err, AK_EINVAL, "matcher is longer than %d bytes.", LIST_TEXT_MAX);
    if (!parse_one(&p, false, &m, why, sizeof(why)))
        return parse_error(err, s, why);
    *ret = m;
    return AK_OK;
}

int ak_matchers_parse(const char *s, struct ak_matchers *ret, struct ak_buf *err)
{
    struct ak_matchers l = {NULL, 0};
    const char *p = s;
    char why[256];
    int r;

    if (!s || !ret)
        return ak_err(err, AK_EINVAL, "no matchers given.");
    if (strlen(s) > LIST_TEXT_MAX)
        return ak_err(err, AK_EINVAL, "matcher list is longer than %d bytes.", LIST_TEXT_MAX);
    skip_blanks(&p);
    if (!*p)
        return ak_err(err, AK_EINVAL, "no matchers given (write field=value, ...).");
    l.v = ak_xcalloc(MATCHERS_MAX, sizeof(*l.v));
    for (;;) {
        const char *start = p;

        if (l.n == MATCHERS_MAX) {
            r = ak_err(err, AK_EINVAL, "more than %d matchers.", MATCHERS_MAX);
            goto out;
        }
        if (!parse_one(&p, true, &l.v[l.n], why, sizeof(why))) {
            r = parse_error(err, start, why);
            goto out;
        }
        l.n++;
        if (!*p)
            break;
        p++; /* the ',' */
        skip_blanks(&p);
        if (!*p) {
            r = ak_err(err, AK_EINVAL, "matcher list ends with ','.");
            goto out;
        }
    }
    *ret = l;
    l.v = NULL;
    l.n = 0;
    r = AK_OK;
out:
    ak_matchers_release(&l);
    return r;
}

void ak_matcher_release(struct ak_matcher *m)
{
    if (!m)
        return;
    ak_freep(&m->field);
    ak_freep(&m->value);
    m->op = 0;
}

void ak_matchers_release(struct ak_matchers *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n; i++)
        ak_matcher_release(&m->v[i]);
    ak_freep(&m->v);
    m->n = 0;
}

/* Bare when it reads back the same inside a list; quoted otherwise. */
static bool needs_quotes(const char *v)
{
    size_t len = strlen(v);

    return len == 0 || strpbrk(v, ",\"") || v[0] == '~' || v[0] == '=' || is_blank(v[0]) ||
           is_blank(v[len - 1]);
}

char *ak_matchers_format(const struct ak_matchers *m)
{
    struct ak_buf b = AK_BUF_INIT(AK_BUF_NOMAX);

    for (size_t i = 0; m && i < m->n; i++) {
        const struct ak_matcher *x = &m->v[i];

        if (i)
            ak_buf_addc(&b, ',');
        ak_buf_add(&b, x->field ? x->field : "");
        ak_buf_add(&b, op_text(x->op));
        if (!x->value || !needs_quotes(x->value)) {
            ak_buf_add(&b, x->value ? x->value : "");
            continue;
        }
        ak_buf_addc(&b, '"');
        for (const char *p = x->value; *p; p++) {
            if (*p == '"' || *p == '\\')
                ak_buf_addc(&b, '\\');
            ak_buf_addc(&b, *p);
        }
        ak_buf_addc(&b, '"');
    }
    return ak_buf_detach(&b, NULL);
}
