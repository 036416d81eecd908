/* mon_bench.c — `make bench`: scrape ingest and bytes per sample of the metrics store.
 *
 *   mon_bench DATA_DIR [N_SERIES [N_SCRAPES]] [--openmetrics FILE]
 *
 * Builds N_SCRAPES (default 100) scrapes of N_SERIES (default 10,000) series as Prometheus text
 * 0.0.4 with millisecond timestamps, 15 s apart and ending now: 100 series per family, half the
 * families counters (integer increments), half gauges (a random walk with 3 decimals), labels
 * instance and id. The text is built first (not timed); then each scrape is handed to
 * ak_mon_import on a fresh DATA_DIR/metrics.db (engine threads off: monitoring.enabled false), one
 * transaction each, as the collector stores a scrape. Prints:
 *   mon_bench samples=S series=N cpu_s=C wall_s=W samples_per_cpu_s=R stats=<ak_mon_stats JSON>
 * cpu_s is CLOCK_PROCESS_CPUTIME_ID over the imports (parse + store + commit).
 * With --openmetrics, also writes the same samples as OpenMetrics (second timestamps with three
 * decimals, families contiguous) for `promtool tsdb create-blocks-from openmetrics`. */
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "asakai/ak_buf.h"
#include "asakai/ak_cfg.h"
#include "asakai/ak_err.h"
#include "asakai/ak_expo.h"
#include "asakai/ak_json.h"
#include "asakai/ak_mon.h"
#include "asakai/ak_util.h"

#define PER_FAMILY 100
#define STEP_MS 15000

struct data {
    size_t n, scrapes;
    int64_t t0_ms;
    double *v; /* n × scrapes */
};

static uint64_t rnd(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static bool is_counter(size_t i)
{
    return (i / PER_FAMILY) % 2 == 0;
}

static void family(size_t i, bool om, char *out, size_t cap)
{
    if (is_counter(i))
        snprintf(out, cap, "bench_ops%zu%s", i / PER_FAMILY, om ? "" : "_total");
    else
        snprintf(out, cap, "bench_level%zu", i / PER_FAMILY);
}

static void gen(struct data *d)
{
    uint64_t s = 0x1ae57u;

    for (size_t i = 0; i < d->n; i++) {
        double x = is_counter(i) ? (double)(rnd(&s) % 100000) : (double)(rnd(&s) % 1000000) / 1000;

        for (size_t k = 0; k < d->scrapes; k++) {
            if (is_counter(i))
                x += (double)(rnd(&s) % 50);
            else
                x += ((double)(rnd(&s) % 2001) - 1000.0) / 1000.0;
            d->v[i * d->scrapes + k] = x;
        }
    }
}

/* One scrape k as 0.0.4 text with ms timestamps. */
static void scrape_text(const struct data *d, size_t k, struct ak_buf *b)
{
    char fam[64];
    int64_t t = d->t0_ms + (int64_t)k * STEP_MS;

    ak_buf_reset(b);
    for (size_t i = 0; i < d->n; i++) {
        if (i % PER_FAMILY == 0) {
            family(i, false, fam, sizeof(fam));
            ak_buf_addf(b, "# TYPE %s %s\n", fam, is_counter(i) ? "counter" : "gauge");
        }
        ak_buf_addf(b, "%s{instance=\"bench-%zu\",id=\"%zu\"} %.10g %" PRId64 "\n", fam,
                    i % 7, i, d->v[i * d->scrapes + k], t);
    }
}

static int write_openmetrics(const struct data *d, const char *path)
{
    FILE *fp = fopen(path, "w");
    char fam[64], buf[1 << 16];

    if (!fp) {
        perror(path);
        return -1;
    }
    setvbuf(fp, buf, _IOFBF, sizeof(buf));
    for (size_t i = 0; i < d->n; i++) {
        if (i % PER_FAMILY == 0) {
            family(i, true, fam, sizeof(fam));
            fprintf(fp, "# TYPE %s %s\n", fam, is_counter(i) ? "counter" : "gauge");
        }
        for (size_t k = 0; k < d->scrapes; k++) {
            int64_t t = d->t0_ms + (int64_t)k * STEP_MS;

            fprintf(fp, "%s%s{instance=\"bench-%zu\",id=\"%zu\"} %.10g %" PRId64 ".%03d\n", fam,
                    is_counter(i) ? "_total" : "", i % 7, i, d->v[i * d->scrapes + k],
                    t / 1000, (int)(t % 1000));
        }
    }
    fputs("# EOF\n", fp);
    return fclose(fp) == 0 ? 0 : -1;
}

static double now_s(clockid_t c)
{
    struct timespec ts;

    clock_gettime(c, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t arg_size(const char *s, size_t dflt)
{
    char *end = NULL;
    double v = s ? strtod(s, &end) : 0;

    return (s && end && *end == '\0' && v >= 1 && v < 1e8) ? (size_t)v : dflt;
}

int main(int argc, char **argv)
{
    struct data d = {0};
    struct ak_cfg cfg;
    struct ak_mon *m = NULL;
    struct ak_json *st = NULL;
    struct ak_buf err = AK_BUF_INIT(4096), *texts = NULL;
    struct ak_mon_ingest_stats is;
    const char *om = NULL, *pos[3] = {NULL, NULL, NULL};
    size_t npos = 0, samples = 0;
    double c0, w0, cpu, wall;
    char *js = NULL;
    int r, rc = 1;

    for (int a = 1; a < argc; a++) {
        if (strcmp(argv[a], "--openmetrics") == 0 && a + 1 < argc)
            om = argv[++a];
        else if (npos < 3)
            pos[npos++] = argv[a];
    }
    if (!pos[0]) {
        fprintf(stderr, "usage: mon_bench DATA_DIR [N_SERIES [N_SCRAPES]] [--openmetrics F]\n");
        return 2;
    }
    ak_cfg_defaults(&cfg);
    d.n = arg_size(pos[1], 10000);
    d.scrapes = arg_size(pos[2], 100);
    d.t0_ms = ((int64_t)time(NULL) - (int64_t)d.scrapes * STEP_MS / 1000) * 1000;
    d.v = ak_xmalloc(d.n * d.scrapes * sizeof(*d.v));
    gen(&d);
    if (om && write_openmetrics(&d, om) != 0)
        goto out;
    texts = ak_xcalloc(d.scrapes, sizeof(*texts));
    for (size_t k = 0; k < d.scrapes; k++) {
        ak_buf_init(&texts[k], AK_BUF_NOMAX);
        scrape_text(&d, k, &texts[k]);
    }

    free(cfg.data_dir);
    cfg.data_dir = ak_xstrdup(pos[0]);
    cfg.mon_enabled = false;
    if (cfg.mon_max_series < d.n + 100)
        cfg.mon_max_series = d.n + 100;
    r = ak_mon_start(&cfg, &m, &err);
    if (r != AK_OK) {
        fprintf(stderr, "mon_bench: ak_mon_start: %d %s\n", r, err.buf);
        goto out;
    }
    c0 = now_s(CLOCK_PROCESS_CPUTIME_ID);
    w0 = now_s(CLOCK_MONOTONIC);
    for (size_t k = 0; k < d.scrapes; k++) {
        r = ak_mon_import(m, texts[k].buf, texts[k].len, AK_EXPO_PROM_TEXT, &is, &err);
        if (r != AK_OK) {
            fprintf(stderr, "mon_bench: ak_mon_import scrape %zu: %d %s\n", k, r, err.buf);
            goto out;
        }
        samples += is.samples;
    }
    cpu = now_s(CLOCK_PROCESS_CPUTIME_ID) - c0;
    wall = now_s(CLOCK_MONOTONIC) - w0;
    r = ak_mon_stats(m, &st, &err);
    if (r != AK_OK) {
        fprintf(stderr, "mon_bench: ak_mon_stats: %d %s\n", r, err.buf);
        goto out;
    }
    js = ak_json_dump(st, 0);
    printf("mon_bench samples=%zu series=%zu cpu_s=%.3f wall_s=%.3f samples_per_cpu_s=%.0f "
           "stats=%s\n", samples, d.n, cpu, wall, cpu > 0 ? (double)samples / cpu : 0.0,
           js ? js : "{}");
    rc = 0;
out:
    free(js);
    ak_json_free(st);
    ak_mon_stop(m);
    for (size_t k = 0; texts && k < d.scrapes; k++)
        ak_buf_release(&texts[k]);
    free(texts);
    free(d.v);
    ak_buf_release(&err);
    ak_cfg_release(&cfg);
    return rc;
}
