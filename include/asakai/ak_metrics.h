/* ak_metrics.h — process-wide counters and latency summaries, rendered in the Prometheus text
 * format 0.0.4 (src/metrics/). Thread-safe; cheap enough for the request hot path. */
#ifndef AK_METRICS_H
#define AK_METRICS_H

#include <stdint.h>

struct ak_buf;

/* Declares a metric family once (type "counter" or "summary") with its help text. */
void ak_metrics_describe(const char *name, const char *type, const char *help);
/* Adds v to the counter name{labels}; labels is the inside of the braces, already escaped
 * ("source=\"sns\",result=\"accepted\"") or "" for none. At most 512 series; more are dropped. */
void ak_metrics_add(const char *name, const char *labels, double v);
void ak_metrics_inc(const char *name, const char *labels);
/* Sets the gauge name{labels} to v. */
void ak_metrics_set(const char *name, const char *labels, double v);
/* Records one observation (e.g. seconds) into summary name{labels}: _sum and _count, plus _max. */
void ak_metrics_observe(const char *name, const char *labels, double v);
/* Current value of a counter (tests). */
double ak_metrics_get(const char *name, const char *labels);
/* Appends every family in the exposition format. */
int ak_metrics_render(struct ak_buf *out);
void ak_metrics_reset(void);

#endif
