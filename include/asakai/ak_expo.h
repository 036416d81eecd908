/* ak_expo.h — streaming parser for the Prometheus text format 0.0.4 and OpenMetrics 1.0 text
 * (../shared/docs/reference/monitoring.md §3.1-3.3; docs/internals/expo.md).
 *
 * Pure: no I/O, no logging, no globals. The whole exposition is in memory; samples are handed to a
 * callback one at a time, so memory does not grow with the number of samples (one reused scratch
 * per parse, plus the family names seen and a per-family duplicate set).
 *
 * Validation (both formats): UTF-8 validity of the whole text, line cap, metric/label name syntax,
 * label-value and HELP escapes, duplicate label names, duplicate series (same sample name, labels
 * and timestamp) within a family, at most one TYPE/HELP per family, TYPE before the family's
 * samples, known TYPE values, numbers and timestamps.
 * OpenMetrics adds: mandatory "# EOF" as the last line (an optional final "\n" only), no blank
 * lines, no other "#" lines, no "\r", exactly one space between tokens, at most one UNIT, a unit
 * that is a suffix of the family name, metadata before samples, families not interleaved or
 * repeated, the sample-name suffixes each type allows (counter _total/_created, histogram
 * _bucket/_count/_sum/_created, gaugehistogram _bucket/_gcount/_gsum, summary bare/_count/_sum/
 * _created, info _info, stateset and gauge and unknown bare), exemplars only on _total and _bucket
 * (at most 128 code points of label text), histogram buckets with an "le" label in increasing
 * order, cumulative and ending with le="+Inf", _count equal to the +Inf bucket, non-negative
 * non-NaN counter/bucket/count values, quantiles in [0,1], stateset values 0 or 1, info value 1;
 * per point of a histogram or summary (labels but le/quantile, and timestamp): le="+Inf" spelled
 * so, _count and _sum together and after the buckets, _sum not NaN nor negative (unless buckets
 * are), non-negative quantile values; the samples of one metric adjacent; a series with
 * timestamps on all its points or none, strictly increasing (a point rounding to the previous
 * millisecond is dropped, the first kept); no UNIT on info/stateset; the label __name__ refused.
 * 0.0.4: "# HELP name" / "# TYPE name" with nothing after the name are plain comments.
 * Not checked: quoted UTF-8 metric names ({"my.metric"} — rejected as a syntax error), Go's hex
 * floats, canonical le/quantile rendering; 0.0.4 text without a final newline is accepted.
 * Conformance: docs/internals/expo.md ("Conformance run").
 */
#ifndef AK_EXPO_H
#define AK_EXPO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "asakai/ak_buf.h"

#define AK_EXPO_MAX_TEXT (256u * 1024 * 1024) /* whole exposition, bytes */
#define AK_EXPO_MAX_LINE (64u * 1024)         /* one line without its "\n", bytes */
#define AK_EXPO_MAX_LABELS 128                /* labels on one sample (exemplar: same) */

enum ak_expo_format {
    AK_EXPO_AUTO = 0,    /* OPENMETRICS when the last line is "# EOF", else PROM_TEXT */
    AK_EXPO_PROM_TEXT,   /* text/plain; version=0.0.4 */
    AK_EXPO_OPENMETRICS, /* application/openmetrics-text; version=1.0.0 */
};

enum ak_expo_type {
    AK_EXPO_UNTYPED = 0, /* 0.0.4 "untyped" and OpenMetrics "unknown"; also no TYPE line */
    AK_EXPO_COUNTER,
    AK_EXPO_GAUGE,
    AK_EXPO_HISTOGRAM,
    AK_EXPO_GAUGEHISTOGRAM, /* OpenMetrics only */
    AK_EXPO_STATESET,       /* OpenMetrics only */
    AK_EXPO_INFO,           /* OpenMetrics only */
    AK_EXPO_SUMMARY,
};

struct ak_expo_label {
    const char *name;  /* NUL-terminated */
    const char *value; /* NUL-terminated, unescaped; may contain "\n" (and NUL in OpenMetrics:
                        * use value_len) */
    size_t value_len;
};

/* One sample. Every pointer is borrowed and valid only during the callback. */
struct ak_expo_sample {
    const char *family;           /* family name (from TYPE, or derived from the sample name) */
    enum ak_expo_type type;
    const char *unit;             /* OpenMetrics UNIT, "" when absent */
    const char *name;             /* sample name, e.g. "http_requests_total", "x_bucket" */
    const struct ak_expo_label *labels; /* sorted by name (bytewise), names unique */
    size_t nlabels;
    double value;                 /* NaN and +-Inf possible */
    bool has_ts;
    int64_t ts_ms;                /* ms since the epoch when has_ts (OpenMetrics seconds * 1000,
                                   * rounded to the nearest ms) */
    bool has_exemplar;            /* OpenMetrics: an exemplar followed the sample */
    const struct ak_expo_label *ex_labels; /* exemplar labels, in input order */
    size_t ex_nlabels;
    double ex_value;
    bool ex_has_ts;
    int64_t ex_ts_ms;
    unsigned line;                /* 1-based line number in the text */
};

/* Returns 0 to go on; any other value stops the parse, which then returns it unchanged. */
typedef int (*ak_expo_sample_cb)(const struct ak_expo_sample *s, void *arg);

/* Parses text[0..len) (need not be NUL-terminated) and calls cb for every sample in order.
 * Returns AK_OK; AK_EINVAL with "line L: <reason>." in err on the first error (samples before the
 * error have already been delivered: a caller that wants all-or-nothing buffers them); AK_ETOOBIG
 * when len > AK_EXPO_MAX_TEXT or a line is longer than AK_EXPO_MAX_LINE; or the callback's
 * non-zero value. cb may be NULL (validate only). */
int ak_expo_parse(const char *text, size_t len, enum ak_expo_format fmt, ak_expo_sample_cb cb,
                  void *arg, struct ak_buf *err);

/* The format a Content-Type header names: "application/openmetrics-text..." -> OPENMETRICS,
 * "text/plain..." -> PROM_TEXT, anything else or NULL -> AUTO. Case-insensitive. */
enum ak_expo_format ak_expo_format_from_content_type(const char *content_type);

/* "counter", "gauge", ..., "untyped" for AK_EXPO_UNTYPED. Never NULL. */
const char *ak_expo_type_name(enum ak_expo_type t);

/* Appends the canonical series key of (name, labels) to out: name{a="x",b="y"} with labels in
 * the given order (ak_expo_parse gives them sorted), values escaped as \\ \" \n (a NUL byte as
 * \x00 is not escaped: it is copied); just "name" when nlabels is 0. Returns AK_OK or AK_ETOOBIG
 * from out's cap (out then unchanged). */
int ak_expo_series_key(const char *name, const struct ak_expo_label *labels, size_t nlabels,
                       struct ak_buf *out);

#endif
