/* sts_load.c — load generator for scripts/bench-oidc.sh: STS AssumeRoleWithWebIdentity
 * exchanges per second and latency against the daemon's twin, over keep-alive connections.
 *
 *   sts_load HOST PORT PATH BODY_FILE CONNS SECONDS [WARMUP_SECONDS]
 *
 * CONNS threads each hold one keep-alive connection and POST BODY_FILE (the form, token inside)
 * back to back for SECONDS (after WARMUP_SECONDS, default 1, that are not counted). Every answer must be
 * HTTP 200 with a body holding "AccessKeyId"; others are counted as errors. Prints one line:
 * "ok=N errors=E seconds=S rate=R p50_ms=A p99_ms=B max_ms=C".
 * (Compiled by the script with cc; not a module: a plain client of the daemon.) */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_LAT (4u << 20)

static const char *g_host, *g_path;
static int g_port;
static char *g_req;
static size_t g_req_len;
static volatile int g_phase; /* 0 warm-up, 1 measuring, 2 stop */

struct worker {
    pthread_t th;
    unsigned long ok, errors;
    unsigned *lat_us;
    size_t n_lat, cap;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int dial(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((unsigned short)g_port)};
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

    inet_pton(AF_INET, g_host, &a.sin_addr);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return fd;
}

/* Reads one response; 1 when it was a 200 with credentials, 0 for another answer, -1 when the
 * connection broke. */
static int read_resp(int fd, char *buf, size_t cap)
{
    size_t have = 0, need = 0, hdr = 0;
    ssize_t n;

    for (;;) {
        if (have == cap)
            return -1;
        n = read(fd, buf + have, cap - have);
        if (n <= 0)
            return -1;
        have += (size_t)n;
        if (!hdr) {
            char *e = memmem(buf, have, "\r\n\r\n", 4), *cl;
            if (!e)
                continue;
            hdr = (size_t)(e - buf) + 4;
            *e = 0;
            cl = strcasestr(buf, "\r\ncontent-length:");
            if (!cl)
                return -1;
            need = hdr + strtoul(cl + 17, NULL, 10);
            if (need > cap)
                return -1;
        }
        if (have >= need)
            break;
    }
    buf[need < cap ? need : cap - 1] = 0;
    return strncmp(buf, "HTTP/1.1 200", 12) == 0 && memmem(buf + hdr, need - hdr,
                                                             "AccessKeyId", 11) != NULL;
}

static void *run(void *arg)
{
    struct worker *w = arg;
    static __thread char buf[65536];
    int fd = dial();

    while (g_phase < 2) {
        double t0 = now_s();
        size_t off = 0;
        int r;
        if (fd < 0 && (fd = dial()) < 0) {
            w->errors++;
            usleep(1000);
            continue;
        }
        while (off < g_req_len) {
            ssize_t n = write(fd, g_req + off, g_req_len - off);
            if (n <= 0)
                break;
            off += (size_t)n;
        }
        r = off == g_req_len ? read_resp(fd, buf, sizeof(buf)) : -1;
        if (r < 0) {
            close(fd);
            fd = -1;
        }
        if (g_phase != 1)
            continue;
        if (r == 1) {
            w->ok++;
            if (w->n_lat < w->cap)
                w->lat_us[w->n_lat++] = (unsigned)((now_s() - t0) * 1e6);
        } else {
            w->errors++;
        }
    }
    if (fd >= 0)
        close(fd);
    return NULL;
}

static int cmp_u(const void *a, const void *b)
{
    unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    FILE *f;
    char body[65536];
    size_t blen;
    int conns;
    double secs, t0, t1;
    unsigned long ok = 0, errors = 0;
    size_t n_all = 0;
    unsigned *all;

    if (argc != 7 && argc != 8) {
        fprintf(stderr, "usage: sts_load HOST PORT PATH BODY_FILE CONNS SECONDS [WARMUP]\n");
        return 2;
    }
    g_host = argv[1];
    g_port = (int)strtol(argv[2], NULL, 10);
    g_path = argv[3];
    conns = (int)strtol(argv[5], NULL, 10);
    secs = strtod(argv[6], NULL);
    f = fopen(argv[4], "rb");
    if (!f || (blen = fread(body, 1, sizeof(body), f)) == 0) {
        fprintf(stderr, "sts_load: cannot read %s\n", argv[4]);
        return 2;
    }
    fclose(f);
    g_req = malloc(blen + 512);
    g_req_len = (size_t)snprintf(g_req, 512,
                                 "POST %s HTTP/1.1\r\nHost: %s:%d\r\n"
                                 "Content-Type: application/x-www-form-urlencoded; charset=utf-8\r\n"
                                 "Content-Length: %zu\r\n\r\n", g_path, g_host, g_port, blen);
    memcpy(g_req + g_req_len, body, blen);
    g_req_len += blen;

    struct worker *w = calloc((size_t)conns, sizeof(*w));
    for (int i = 0; i < conns; i++) {
        w[i].cap = MAX_LAT / (unsigned)conns;
        w[i].lat_us = malloc(w[i].cap * sizeof(unsigned) + sizeof(unsigned));
        pthread_create(&w[i].th, NULL, run, &w[i]);
    }
    usleep((useconds_t)((argc == 8 ? strtod(argv[7], NULL) : 1.0) * 1e6));
    t0 = now_s();
    g_phase = 1;
    usleep((useconds_t)(secs * 1e6));
    g_phase = 2;
    t1 = now_s();
    for (int i = 0; i < conns; i++)
        pthread_join(w[i].th, NULL);
    all = malloc(MAX_LAT * sizeof(unsigned) + sizeof(unsigned));
    for (int i = 0; i < conns; i++) {
        size_t n = w[i].n_lat;
        ok += w[i].ok;
        errors += w[i].errors;
        memcpy(all + n_all, w[i].lat_us, n * sizeof(unsigned));
        n_all += n;
    }
    qsort(all, n_all, sizeof(unsigned), cmp_u);
    printf("ok=%lu errors=%lu seconds=%.2f rate=%.1f p50_ms=%.3f p99_ms=%.3f max_ms=%.3f\n", ok,
           errors, t1 - t0, ok / (t1 - t0), n_all ? all[n_all / 2] / 1e3 : 0.0,
           n_all ? all[(size_t)(n_all * 0.99)] / 1e3 : 0.0, n_all ? all[n_all - 1] / 1e3 : 0.0);
    return errors && !ok ? 1 : 0;
}
