/* labels.c — target labels (job, instance from the URL, service, extras) and the Prometheus
 * honor_labels=false merge of a series' labels with imposed ones. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "asakai/ak_err.h"
#include "asakai/ak_util.h"
#include "scrape_int.h"
#include "src/core/ak_banned.h"

#define EXPORTED "exported_"
#define EXPORTED_LEN 9

int ak__scrape_url_instance(const char *url, char *out, size_t n, struct ak_buf *err)
{
    const char *p, *end, *at, *host, *hend, *port = NULL;
    const char *defport;
    char pbuf[8];
    size_t plen = 0, hlen;
    uint64_t pn;

    if (!url)
        return ak_err(err, AK_EINVAL, "The target has no URL.");
    if (strncasecmp(url, "http://", 7) == 0)
        p = url + 7, defport = "80";
    else if (strncasecmp(url, "https://", 8) == 0)
        p = url + 8, defport = "443";
    else
        return ak_err(err, AK_EINVAL, "The target URL does not start with http:// or https://.");
    end = p + strcspn(p, "/?#");
    /* userinfo ends at the last '@' of the authority */
    for (at = end; at > p && at[-1] != '@'; at--) {
    }
    host = at;
    if (*host == '[') {
        hend = memchr(host, ']', (size_t)(end - host));
        if (!hend)
            return ak_err(err, AK_EINVAL, "The target URL has an unclosed IPv6 address.");
        hend++;
    } else {
        hend = memchr(host, ':', (size_t)(end - host));
        if (!hend)
            hend = end;
    }
    if (hend < end) {
        if (*hend != ':')
            return ak_err(err, AK_EINVAL, "The target URL has bytes after its IPv6 address.");
        port = hend + 1;
        plen = (size_t)(end - port);
    }
    hlen = (size_t)(hend - host);
    if (hlen == 0 || hlen + 8 > n)
        return ak_err(err, AK_EINVAL, "The target URL has an empty or too long host.");
    if (plen == 0) {
        port = defport;
        plen = strlen(defport);
    } else {
        if (plen >= sizeof(pbuf))
            return ak_err(err, AK_EINVAL, "The target URL has a bad port.");
        memcpy(pbuf, port, plen);
        pbuf[plen] = 0;
        if (ak_parse_u64(pbuf, 1, 65535, &pn) != AK_OK)
            return ak_err(err, AK_EINVAL, "The target URL has a bad port.");
    }
    snprintf(out, n, "%.*s:%.*s", (int)hlen, host, (int)plen, port);
    return AK_OK;
}

static int label_cmp(const void *a, const void *b)
{
    const struct ak_expo_label *x = a, *y = b;

    return strcmp(x->name, y->name);
}

void ak__scrape_sort_labels(struct ak_expo_label *l, size_t n)
{
    if (n > 1)
        qsort(l, n, sizeof(*l), label_cmp);
}

/* Sets name=value in l[0..*n), replacing an entry of that name. */
static void tl_set(struct ak_expo_label *l, size_t *n, const char *name, const char *value)
{
    size_t i;

    for (i = 0; i < *n && strcmp(l[i].name, name) != 0; i++) {
    }
    l[i].name = name;
    l[i].value = value;
    l[i].value_len = strlen(value);
    if (i == *n)
        (*n)++;
}

int ak__scrape_tlabels_init(struct ak__scrape_tlabels *tl, const struct ak_scrape_target *t,
                            struct ak_buf *err)
{
    size_t n = 0, k = 0;
    int r;

    memset(tl, 0, sizeof(*tl));
    if (!t || !t->job || !t->job[0])
        return ak_err(err, AK_EINVAL, "The target has no job name.");
    if (t->nlabels > AK__SCRAPE_MAX_TARGET_LABELS || (t->nlabels && !t->labels))
        return ak_err(err, AK_EINVAL, "The target has more than %d extra labels.",
                      AK__SCRAPE_MAX_TARGET_LABELS);
    for (size_t i = 0; i < t->nlabels; i++)
        if (!t->labels[i].name || !t->labels[i].name[0] || !t->labels[i].value)
            return ak_err(err, AK_EINVAL, "Extra label #%zu of the target has no name or value.",
                          i + 1);
    r = ak__scrape_url_instance(t->url, tl->instance, sizeof(tl->instance), err);
    if (r < 0)
        return r;
    tl->l = ak_xcalloc(t->nlabels + 3, sizeof(*tl->l));
    tl_set(tl->l, &n, "job", t->job);
    tl_set(tl->l, &n, "instance", tl->instance);
    if (t->service)
        tl_set(tl->l, &n, "service", t->service);
    for (size_t i = 0; i < t->nlabels; i++)
        tl_set(tl->l, &n, t->labels[i].name, t->labels[i].value);
    /* an empty value means "no such label" (Prometheus) */
    for (size_t i = 0; i < n; i++)
        if (tl->l[i].value[0])
            tl->l[k++] = tl->l[i];
    tl->n = k;
    ak__scrape_sort_labels(tl->l, tl->n);
    return AK_OK;
}

void ak__scrape_tlabels_release(struct ak__scrape_tlabels *tl)
{
    if (!tl)
        return;
    free(tl->l);
    tl->l = NULL;
    tl->n = 0;
}

void ak__scrape_lset_init(struct ak__scrape_lset *ls, size_t nseries, size_t nimposed)
{
    memset(ls, 0, sizeof(*ls));
    /* every imposed label may add itself and one renamed series label */
    ls->cap = nseries + 2 * nimposed;
    ls->nimposed = nimposed;
    ls->out = ak_xcalloc(ls->cap ? ls->cap : 1, sizeof(*ls->out));
    ls->roff = ak_xcalloc(ls->cap ? ls->cap : 1, sizeof(*ls->roff));
    ls->conflicts = ak_xcalloc(nimposed ? nimposed : 1, sizeof(*ls->conflicts));
    ak_buf_init(&ls->names, AK_BUF_NOMAX);
}

void ak__scrape_lset_release(struct ak__scrape_lset *ls)
{
    if (!ls)
        return;
    free(ls->out);
    free(ls->roff);
    free(ls->conflicts);
    ak_buf_release(&ls->names);
    memset(ls, 0, sizeof(*ls));
}

/* Whether out[i]'s name is k times "exported_" followed by base. */
static bool is_prefixed(const struct ak__scrape_lset *ls, size_t i, size_t k, const char *base)
{
    const char *s = ls->roff[i] != SIZE_MAX ? ls->names.buf + ls->roff[i] : ls->out[i].name;

    for (size_t j = 0; j < k; j++, s += EXPORTED_LEN)
        if (strncmp(s, EXPORTED, EXPORTED_LEN) != 0)
            return false;
    return strcmp(s, base) == 0;
}

static bool taken(const struct ak__scrape_lset *ls, size_t k, const char *base)
{
    for (size_t i = 0; i < ls->n; i++)
        if (is_prefixed(ls, i, k, base))
            return true;
    return false;
}

/* Prometheus' resolveConflictingExposedLabels: shorter names first (stable), each renamed to the
 * first exported_...<name> not yet in the set. */
static void resolve_conflicts(struct ak__scrape_lset *ls, size_t nc)
{
    const struct ak_expo_label **c = ls->conflicts;

    for (size_t i = 1; i < nc; i++) {
        const struct ak_expo_label *x = c[i];
        size_t j = i, xl = strlen(x->name);

        for (; j > 0 && strlen(c[j - 1]->name) > xl; j--)
            c[j] = c[j - 1];
        c[j] = x;
    }
    ak_buf_reset(&ls->names);
    for (size_t i = 0; i < nc; i++) {
        size_t k = 1;

        /* each failed try is a distinct label of the set, so k <= n + 1 */
        while (taken(ls, k, c[i]->name))
            k++;
        ls->out[ls->n] = *c[i];
        ls->roff[ls->n++] = ls->names.len;
        for (size_t j = 0; j < k; j++)
            (void)ak_buf_add(&ls->names, EXPORTED);
        (void)ak_buf_addn(&ls->names, c[i]->name, strlen(c[i]->name) + 1);
    }
    /* the names buffer no longer moves: point at it, then restore the order */
    for (size_t i = 0; i < ls->n; i++)
        if (ls->roff[i] != SIZE_MAX)
            ls->out[i].name = ls->names.buf + ls->roff[i];
    ak__scrape_sort_labels(ls->out, ls->n);
}

void ak__scrape_merge(struct ak__scrape_lset *ls, const struct ak_expo_label *s, size_t ns,
                      const struct ak_expo_label *imp, size_t nimp)
{
    size_t i = 0, j = 0, nc = 0;
    int c;

    AK_BUG_ON(nimp > ls->nimposed || ns + 2 * nimp > ls->cap);
    ls->n = 0;
    /* both inputs are sorted: one merge pass; a name in both is a conflict */
    while (i < ns || j < nimp) {
        if (i < ns && s[i].value_len == 0) {
            i++;
            continue;
        }
        c = i == ns ? 1 : j == nimp ? -1 : strcmp(s[i].name, imp[j].name);
        ls->roff[ls->n] = SIZE_MAX;
        if (c < 0) {
            ls->out[ls->n++] = s[i++];
        } else if (c > 0) {
            ls->out[ls->n++] = imp[j++];
        } else {
            ls->conflicts[nc++] = &s[i++];
            ls->out[ls->n++] = imp[j++];
        }
    }
    if (nc > 0)
        resolve_conflicts(ls, nc);
}
