/* review_bench.c — `make bench`: the daily review over a fleet's worth of series.
 *
 *   review_bench [N_SERIES [N_POINTS]] [--openmetrics FILE]
 *
 * Generates N_SERIES (default 10,000) hourly series of N_POINTS (default 720: 30 days) with a
 * fixed seed, ending at the last full hour: 80 % flat with a daily cycle and noise, 10 % leaking
 * (1–5 % of the level per day; a third of them with a limit, for days-to-limit), 10 % with a level
 * shift of 15–40 % somewhere in the last 20 days; 2 % of all series have gaps (NaN hours). Then
 * runs ak_review_run once over all of them and prints one line:
 *   review_bench series=N points=P wall_s=W cpu_s=C rss_data_mb=D rss_peak_mb=R findings=F
 *                growth=G dtl=L shift=S gap=A tested=T
 * With --openmetrics, first writes the same values (rounded to 3 decimals, which both sides then
 * read) as OpenMetrics text with second timestamps for `promtool tsdb create-blocks-from
 * openmetrics`: families bench_flat, bench_leak, bench_shift, label id, gaps left out.
 * (bench/ is not a module: a driver of the library, like a test.) */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "asakai/ak_buf.h"
#include "asakai/ak_err.h"
#include "asakai/ak_review.h"
#include "asakai/ak_util.h"

#define HOUR_MS 3600000LL

enum kind { K_FLAT = 0, K_LEAK, K_SHIFT };
static const char *const kind_name[] = {"bench_flat", "bench_leak", "bench_shift"};

struct gen {
    uint64_t s;
};

static uint64_t next_u64(struct gen *g)
{
    /* splitmix64: fixed seed, same series on every machine */
    uint64_t z = (g->s += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static double uniform(struct gen *g)
{
    return ((double)(next_u64(g) >> 11) + 0.5) / 9007199254740992.0;
}

static double normal(struct gen *g)
{
    return sqrt(-2.0 * log(uniform(g))) * cos(6.283185307179586 * uniform(g));
}

struct fleet {
    size_t n, pts;
    int64_t start_ms;
    double *v;               /* n × pts */
    enum kind *kind;
    double *limit;
    char **key, **metric, **inst;
};

static void gen_series(struct fleet *f, size_t i, struct gen *g)
{
    double *v = f->v + i * f->pts;
    double level = 100.0 + 900.0 * uniform(g);
    double amp = level * (0.02 + 0.08 * uniform(g));
    double noise = level * (0.005 + 0.02 * uniform(g));
    double phase = 24.0 * uniform(g);
    double u = uniform(g);
    enum kind k = u < 0.8 ? K_FLAT : u < 0.9 ? K_LEAK : K_SHIFT;
    double growth = level * (0.01 + 0.04 * uniform(g)) / 24.0; /* per hour */
    size_t at = f->pts / 3 + (size_t)(uniform(g) * (double)(f->pts / 2));
    double shift = level * (0.15 + 0.25 * uniform(g)) * (uniform(g) < 0.5 ? -1 : 1);
    bool gaps = uniform(g) < 0.02;
    char b[64];

    f->kind[i] = k;
    f->limit[i] = (k == K_LEAK && i % 3 == 0) ? level * 2.0 : NAN;
    for (size_t j = 0; j < f->pts; j++) {
        double x = level + amp * sin(6.283185307179586 * ((double)j + phase) / 24.0) +
                   noise * normal(g);

        if (k == K_LEAK)
            x += growth * (double)j;
        else if (k == K_SHIFT && j >= at)
            x += shift;
        /* three decimals: the OpenMetrics text carries exactly these values */
        v[j] = round(x * 1000.0) / 1000.0;
        if (gaps && (j % 97 < 5 || (j > f->pts / 2 && j < f->pts / 2 + 12)))
            v[j] = NAN;
    }
    snprintf(b, sizeof(b), "%s{id=\"%zu\"}", kind_name[k], i);
    f->key[i] = ak_xstrdup(b);
    f->metric[i] = ak_xstrdup(kind_name[k]);
    snprintf(b, sizeof(b), "i-%zu", i);
    f->inst[i] = ak_xstrdup(b);
}

static int write_openmetrics(const struct fleet *f, const char *path)
{
    FILE *fp = fopen(path, "w");
    char buf[1 << 16];

    if (!fp) {
        perror(path);
        return -1;
    }
    setvbuf(fp, buf, _IOFBF, sizeof(buf));
    for (int k = K_FLAT; k <= K_SHIFT; k++) {
        fprintf(fp, "# TYPE %s gauge\n", kind_name[k]);
        for (size_t i = 0; i < f->n; i++) {
            if ((int)f->kind[i] != k)
                continue;
            for (size_t j = 0; j < f->pts; j++) {
                double x = f->v[i * f->pts + j];

                if (isnan(x))
                    continue;
                fprintf(fp, "%s %.10g %lld\n", f->key[i], x,
                        (long long)((f->start_ms + (int64_t)j * HOUR_MS) / 1000));
            }
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

static double rss_mb(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_maxrss / 1024.0; /* KiB on Linux */
}

static size_t arg_size(const char *s, size_t dflt)
{
    char *end = NULL;
    double d = s ? strtod(s, &end) : 0;

    return (s && end && *end == '\0' && d >= 1 && d < 1e8) ? (size_t)d : dflt;
}

int main(int argc, char **argv)
{
    struct fleet f = {0};
    struct gen g = {0x5eed2026u};
    struct ak_review_series *ser = NULL;
    struct ak_review_opts o = {0};
    struct ak_review_result res = {0};
    struct ak_buf err = AK_BUF_INIT(4096);
    const char *om = NULL;
    const char *pos[2] = {NULL, NULL};
    size_t npos = 0, cnt[4] = {0};
    double t0, c0, wall, cpu, rss_data;
    int r, rc = 1;

    for (int a = 1; a < argc; a++) {
        if (strcmp(argv[a], "--openmetrics") == 0 && a + 1 < argc)
            om = argv[++a];
        else if (npos < 2)
            pos[npos++] = argv[a];
    }
    f.n = arg_size(pos[0], 10000);
    f.pts = arg_size(pos[1], 720);
    if (f.pts > AK_REVIEW_MAX_POINTS)
        f.pts = AK_REVIEW_MAX_POINTS;
    /* the last point is the last full hour, so Prometheus sees the series end "now" */
    f.start_ms = ((int64_t)time(NULL) * 1000 / HOUR_MS - 1) * HOUR_MS -
                 (int64_t)(f.pts - 1) * HOUR_MS;
    f.v = ak_xmalloc(f.n * f.pts * sizeof(*f.v));
    f.kind = ak_xcalloc(f.n, sizeof(*f.kind));
    f.limit = ak_xcalloc(f.n, sizeof(*f.limit));
    f.key = ak_xcalloc(f.n, sizeof(char *));
    f.metric = ak_xcalloc(f.n, sizeof(char *));
    f.inst = ak_xcalloc(f.n, sizeof(char *));
    for (size_t i = 0; i < f.n; i++)
        gen_series(&f, i, &g);
    if (om && write_openmetrics(&f, om) != 0)
        goto out;

    ser = ak_xcalloc(f.n, sizeof(*ser));
    for (size_t i = 0; i < f.n; i++) {
        struct ak_review_series *s = &ser[i];

        s->service = "bench";
        s->key = f.key[i];
        s->metric = f.metric[i];
        s->instance = f.inst[i];
        s->unit = "";
        s->v = f.v + i * f.pts;
        s->n = f.pts;
        s->start_ms = f.start_ms;
        s->step_ms = HOUR_MS;
        s->first_ms = f.start_ms;
        s->last_ms = f.start_ms + (int64_t)(f.pts - 1) * HOUR_MS;
        s->last_value = s->v[f.pts - 1];
        s->limit = f.limit[i];
        s->scale = NAN;
        s->limit_name = isnan(f.limit[i]) ? NULL : "bench limit";
    }
    o.now_ms = f.start_ms + (int64_t)f.pts * HOUR_MS;
    o.fdr_q = 0.05;
    o.min_growth_pct = 2;
    o.min_shift_pct = 10;
    o.warmup_ms = 2 * HOUR_MS;
    o.days_horizon = 30;
    /* all cores, as the daemon's daily review (REVIEW_THREADS=1 for the single-core figure) */
    const char *th = getenv("REVIEW_THREADS");
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    o.threads = th && *th ? (int)arg_size(th, 1) : (int)(ncpu > 0 && ncpu < 64 ? ncpu : 1);
    rss_data = rss_mb();

    t0 = now_s(CLOCK_MONOTONIC);
    c0 = now_s(CLOCK_PROCESS_CPUTIME_ID);
    r = ak_review_run(ser, f.n, &o, &res, &err);
    cpu = now_s(CLOCK_PROCESS_CPUTIME_ID) - c0;
    wall = now_s(CLOCK_MONOTONIC) - t0;
    if (r != AK_OK) {
        fprintf(stderr, "review_bench: ak_review_run: %d %s\n", r, err.buf);
        goto out;
    }
    for (size_t i = 0; i < res.n_findings; i++)
        if ((unsigned)res.findings[i].kind < 4)
            cnt[res.findings[i].kind]++;
    printf("review_bench threads=%d series=%zu points=%zu wall_s=%.3f cpu_s=%.3f rss_data_mb=%.1f "
           "rss_peak_mb=%.1f findings=%zu growth=%zu dtl=%zu shift=%zu gap=%zu tested=%zu\n",
           o.threads, f.n, f.pts, wall, cpu, rss_data, rss_mb(), res.n_findings, cnt[AK_REVIEW_GROWTH],
           cnt[AK_REVIEW_DAYS_TO_LIMIT], cnt[AK_REVIEW_LEVEL_SHIFT], cnt[AK_REVIEW_GAP],
           res.n_tested);
    rc = 0;
out:
    ak_review_result_release(&res);
    ak_buf_release(&err);
    for (size_t i = 0; i < f.n && f.key; i++) {
        free(f.key[i]);
        free(f.metric[i]);
        free(f.inst[i]);
    }
    free(f.key);
    free(f.metric);
    free(f.inst);
    free(f.kind);
    free(f.limit);
    free(f.v);
    free(ser);
    return rc;
}
