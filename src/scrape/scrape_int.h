/* scrape_int.h — private to src/scrape: target labels and the label merge shared by the scraper
 * (scrape.c) and the query-API reader (promapi.c). */
#ifndef AK_SCRAPE_INT_H
#define AK_SCRAPE_INT_H

#include <stddef.h>

#include "asakai/ak_buf.h"
#include "asakai/ak_expo.h"
#include "asakai/ak_scrape.h"

/* Configured extra labels on one target, at most. */
#define AK__SCRAPE_MAX_TARGET_LABELS 64
/* "host:port" of a URL, at most (a DNS name is 253 bytes; brackets and port add 8). */
#define AK__SCRAPE_INSTANCE_MAX 272

/* The labels a target imposes on its series: job, instance, service and the extra labels (the
 * extras override the first three), empty values dropped, sorted by name, unique. */
struct ak__scrape_tlabels {
    struct ak_expo_label *l;
    size_t n;
    char instance[AK__SCRAPE_INSTANCE_MAX];
};

/* "host:port" of an http(s) URL into out (userinfo dropped, port 80/443 when absent, an IPv6
 * host kept in brackets). AK_EINVAL with a sentence in err for anything else. */
int ak__scrape_url_instance(const char *url, char *out, size_t n, struct ak_buf *err);

/* Builds t's labels. AK_EINVAL (no URL or job, bad URL, too many or unnamed extra labels). */
int ak__scrape_tlabels_init(struct ak__scrape_tlabels *tl, const struct ak_scrape_target *t,
                            struct ak_buf *err);
void ak__scrape_tlabels_release(struct ak__scrape_tlabels *tl);

/* Scratch for merging one series' labels with imposed ones; reused across series so that a
 * sample costs no allocation once the buffers have grown. */
struct ak__scrape_lset {
    struct ak_expo_label *out;   /* the merged set, sorted by name */
    size_t n, cap;
    size_t *roff;                /* per out entry: offset of a renamed name in names, or SIZE_MAX */
    const struct ak_expo_label **conflicts;
    size_t nimposed;             /* the imposed set's size the scratch was made for */
    struct ak_buf names;         /* "exported_..." names, NUL-separated */
};

/* Scratch for series of at most nseries labels merged with at most nimposed imposed ones. */
void ak__scrape_lset_init(struct ak__scrape_lset *ls, size_t nseries, size_t nimposed);
void ak__scrape_lset_release(struct ak__scrape_lset *ls);

/* ls->out = s (the series' own labels: sorted by name, unique; empty values dropped) merged with
 * imp (sorted, unique). As Prometheus with honor_labels false: an imposed label wins and a series
 * label of the same name is kept as exported_<name> (prefixed again while that name is taken,
 * shorter names first). ns and nimp must be within what ls was made for. */
void ak__scrape_merge(struct ak__scrape_lset *ls, const struct ak_expo_label *s, size_t ns,
                      const struct ak_expo_label *imp, size_t nimp);

/* Sorts labels by name (bytewise). */
void ak__scrape_sort_labels(struct ak_expo_label *l, size_t n);

#endif
