/* metrics.c — a fixed-size registry of series behind one mutex; rendering sorts by family. */
#include "asakai/ak_metrics.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "asakai/ak_buf.h"
#include "asakai/ak_err.h"
#include "../core/ak_banned.h"

#define MAX_FAMILIES 64
#define MAX_SERIES 512
#define NAME_MAX_LEN 96
#define LABELS_MAX_LEN 160

struct family {
    char name[NAME_MAX_LEN];
    char type[16];
    char help[200];
};

struct series {
    char name[NAME_MAX_LEN];
    char labels[LABELS_MAX_LEN];
    double value; /* counter value, or summary sum */
    double count; /* summary count */
    double max;   /* summary max */
    int summary;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct family families[MAX_FAMILIES];
static size_t n_families;
static struct series series[MAX_SERIES];
static size_t n_series;

void ak_metrics_describe(const char *name, const char *type, const char *help)
{
    pthread_mutex_lock(&lock);
    for (size_t i = 0; i < n_families; i++)
        if (strcmp(families[i].name, name) == 0)
            goto out;
    if (n_families < MAX_FAMILIES) {
        struct family *f = &families[n_families++];
        snprintf(f->name, sizeof(f->name), "%s", name);
        snprintf(f->type, sizeof(f->type), "%s", type);
        snprintf(f->help, sizeof(f->help), "%s", help);
    }
out:
    pthread_mutex_unlock(&lock);
}

/* Finds or creates a series; called with the lock held. NULL when the registry is full. */
static struct series *find(const char *name, const char *labels)
{
    for (size_t i = 0; i < n_series; i++)
        if (strcmp(series[i].name, name) == 0 && strcmp(series[i].labels, labels) == 0)
            return &series[i];
    if (n_series >= MAX_SERIES || strlen(name) >= NAME_MAX_LEN || strlen(labels) >= LABELS_MAX_LEN)
        return NULL;
    struct series *s = &series[n_series++];
    memset(s, 0, sizeof(*s));
    snprintf(s->name, sizeof(s->name), "%s", name);
    snprintf(s->labels, sizeof(s->labels), "%s", labels);
    return s;
}

void ak_metrics_add(const char *name, const char *labels, double v)
{
    pthread_mutex_lock(&lock);
    struct series *s = find(name, labels ? labels : "");
    if (s)
        s->value += v;
    pthread_mutex_unlock(&lock);
}

void ak_metrics_set(const char *name, const char *labels, double v)
{
    pthread_mutex_lock(&lock);
    struct series *s = find(name, labels ? labels : "");
    if (s)
        s->value = v;
    pthread_mutex_unlock(&lock);
}

void ak_metrics_inc(const char *name, const char *labels)
{
    ak_metrics_add(name, labels, 1);
}

void ak_metrics_observe(const char *name, const char *labels, double v)
{
    pthread_mutex_lock(&lock);
    struct series *s = find(name, labels ? labels : "");
    if (s) {
        s->summary = 1;
        s->value += v;
        s->count += 1;
        if (v > s->max)
            s->max = v;
    }
    pthread_mutex_unlock(&lock);
}

double ak_metrics_get(const char *name, const char *labels)
{
    double v = 0;
    pthread_mutex_lock(&lock);
    for (size_t i = 0; i < n_series; i++)
        if (strcmp(series[i].name, name) == 0 && strcmp(series[i].labels, labels ? labels : "") == 0)
            v = series[i].value;
    pthread_mutex_unlock(&lock);
    return v;
}

static void render_series(struct ak_buf *out, const struct series *s)
{
    const char *open = s->labels[0] ? "{" : "", *close = s->labels[0] ? "}" : "";
    if (!s->summary) {
        ak_buf_addf(out, "%s%s%s%s %.17g\n", s->name, open, s->labels, close, s->value);
        return;
    }
    ak_buf_addf(out, "%s_sum%s%s%s %.9g\n", s->name, open, s->labels, close, s->value);
    ak_buf_addf(out, "%s_count%s%s%s %.17g\n", s->name, open, s->labels, close, s->count);
}

int ak_metrics_render(struct ak_buf *out)
{
    pthread_mutex_lock(&lock);
    for (size_t f = 0; f < n_families; f++) {
        ak_buf_addf(out, "# HELP %s %s\n# TYPE %s %s\n", families[f].name, families[f].help,
                    families[f].name, families[f].type);
        for (size_t i = 0; i < n_series; i++)
            if (strcmp(series[i].name, families[f].name) == 0)
                render_series(out, &series[i]);
    }
    /* the max of each summary as its own gauge family */
    for (size_t f = 0; f < n_families; f++) {
        if (strcmp(families[f].type, "summary") != 0)
            continue;
        ak_buf_addf(out, "# HELP %s_max Largest observation since start.\n# TYPE %s_max gauge\n",
                    families[f].name, families[f].name);
        for (size_t i = 0; i < n_series; i++) {
            const struct series *s = &series[i];
            if (strcmp(s->name, families[f].name) != 0)
                continue;
            ak_buf_addf(out, "%s_max%s%s%s %.9g\n", s->name, s->labels[0] ? "{" : "", s->labels,
                        s->labels[0] ? "}" : "", s->max);
        }
    }
    pthread_mutex_unlock(&lock);
    return AK_OK;
}

void ak_metrics_reset(void)
{
    pthread_mutex_lock(&lock);
    n_series = 0;
    pthread_mutex_unlock(&lock);
}
