/* host.c — the node_exporter-compatible collectors over plain /proc text files. */
#include <stdio.h>
#include <string.h>

#include "asakai/ak_err.h"
#include "asakai/ak_util.h"
#include "collect_int.h"
#include "src/core/ak_banned.h"

#define CL_NAME_MAX 128

/* "Active(anon):  123 kB" -> node_memory_Active_anon_bytes, as meminfo_linux.go renames keys. */
static int meminfo_name(const char *key, int kb, char *out, size_t n)
{
    char k[CL_NAME_MAX] = "";
    size_t j = 0;

    for (const char *p = key; *p; p++) {
        char ch = *p;
        if (ch == ')')
            continue;
        if (ch == '(')
            ch = '_';
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '_') || j + 1 >= sizeof(k))
            return AK_EINVAL;
        k[j++] = ch;
    }
    if (!j)
        return AK_EINVAL;
    int w = snprintf(out, n, "node_memory_%s%s", k, kb ? "_bytes" : "");
    return w < 0 || (size_t)w >= n ? AK_EINVAL : AK_OK;
}

void cl_meminfo(struct cl_ctx *c)
{
    struct ak_buf b = AK_BUF_INIT(AK_COLLECT_MAX_FILE);
    char *cur = NULL, *line = NULL;

    if (cl_read(c, "meminfo", &b) != AK_OK)
        goto out;
    cur = b.buf;
    while ((line = cl_line(&cur)) && !c->rc) {
        char *f[4] = {NULL, NULL, NULL, NULL};
        char name[CL_NAME_MAX] = "";
        uint64_t v = 0;
        size_t nf = cl_split(line, f, 4);
        size_t kl = nf ? strlen(f[0]) : 0;
        int kb = nf == 3 && ak_streq(f[2], "kB");

        if (!nf)
            continue;
        if ((nf != 2 && !kb) || kl < 2 || f[0][kl - 1] != ':' || cl_u64(f[1], &v) != AK_OK) {
            c->st.malformed_lines++;
            continue;
        }
        f[0][kl - 1] = 0;
        if (meminfo_name(f[0], kb, name, sizeof(name)) != AK_OK) {
            c->st.malformed_lines++;
            continue;
        }
        cl_emit(c, name, AK_COLLECT_GAUGE, NULL, 0, kb ? (double)v * 1024.0 : (double)v);
    }
out:
    ak_buf_release(&b);
}

static const char *const cpu_modes[] = {"user", "nice", "system", "idle",
                                        "iowait", "irq", "softirq", "steal"};

static void stat_cpu(struct cl_ctx *c, char **f, size_t nf)
{
    uint64_t v[10] = {0};
    const char *cpu = f[0] + 3;
    uint64_t idx = 0;

    if (nf < 5 || cl_u64(cpu, &idx) != AK_OK) {
        c->st.malformed_lines++;
        return;
    }
    for (size_t i = 1; i < nf && i <= 10; i++)
        if (cl_u64(f[i], &v[i - 1]) != AK_OK) {
            c->st.malformed_lines++;
            return;
        }
    for (size_t m = 0; m < AK_ARRAY_SIZE(cpu_modes) && m + 1 < nf; m++) {
        struct ak_collect_label l[2] = {{"cpu", cpu}, {"mode", cpu_modes[m]}};
        cl_emit(c, "node_cpu_seconds_total", AK_COLLECT_COUNTER, l, 2,
                (double)v[m] / (double)c->clk_tck);
    }
    for (size_t g = 0; g < 2 && g + 9 < nf; g++) {
        struct ak_collect_label l[2] = {{"cpu", cpu}, {"mode", g ? "nice" : "user"}};
        cl_emit(c, "node_cpu_guest_seconds_total", AK_COLLECT_COUNTER, l, 2,
                (double)v[8 + g] / (double)c->clk_tck);
    }
}

static const struct {
    const char *key, *name;
    enum ak_collect_type type;
} stat_keys[] = {
    {"btime", "node_boot_time_seconds", AK_COLLECT_GAUGE},
    {"ctxt", "node_context_switches_total", AK_COLLECT_COUNTER},
    {"processes", "node_forks_total", AK_COLLECT_COUNTER},
    {"procs_running", "node_procs_running", AK_COLLECT_GAUGE},
    {"procs_blocked", "node_procs_blocked", AK_COLLECT_GAUGE},
};

void cl_stat(struct cl_ctx *c)
{
    struct ak_buf b = AK_BUF_INIT(AK_COLLECT_MAX_FILE);
    char *cur = NULL, *line = NULL;

    if (cl_read(c, "stat", &b) != AK_OK)
        goto out;
    cur = b.buf;
    while ((line = cl_line(&cur)) && !c->rc) {
        char *f[12] = {NULL};
        size_t nf = cl_split(line, f, AK_ARRAY_SIZE(f));
        uint64_t v = 0;

        if (!nf || ak_streq(f[0], "cpu"))
            continue; /* node_exporter reports per-CPU only */
        if (ak_startswith(f[0], "cpu")) {
            stat_cpu(c, f, nf);
            continue;
        }
        for (size_t i = 0; i < AK_ARRAY_SIZE(stat_keys); i++) {
            if (!ak_streq(f[0], stat_keys[i].key))
                continue;
            if (nf != 2 || cl_u64(f[1], &v) != AK_OK)
                c->st.malformed_lines++;
            else
                cl_emit(c, stat_keys[i].name, stat_keys[i].type, NULL, 0, (double)v);
        }
    }
out:
    ak_buf_release(&b);
}

void cl_loadavg(struct cl_ctx *c)
{
    static const char *const names[] = {"node_load1", "node_load5", "node_load15"};
    struct ak_buf b = AK_BUF_INIT(AK_COLLECT_MAX_FILE);
    char *f[3] = {NULL, NULL, NULL};
    double v[3] = {0, 0, 0};

    if (cl_read(c, "loadavg", &b) != AK_OK)
        goto out;
    if (cl_split(b.buf, f, 3) != 3) {
        c->st.malformed_lines++;
        goto out;
    }
    for (size_t i = 0; i < 3; i++)
        if (cl_double(f[i], &v[i]) != AK_OK) {
            c->st.malformed_lines++;
            goto out;
        }
    for (size_t i = 0; i < 3; i++)
        cl_emit(c, names[i], AK_COLLECT_GAUGE, NULL, 0, v[i]);
out:
    ak_buf_release(&b);
}

void cl_filefd(struct cl_ctx *c)
{
    struct ak_buf b = AK_BUF_INIT(AK_COLLECT_MAX_FILE);
    char *f[3] = {NULL, NULL, NULL};
    uint64_t alloc = 0, max = 0;

    if (cl_read(c, "sys/fs/file-nr", &b) != AK_OK)
        goto out;
    if (cl_split(b.buf, f, 3) != 3 || cl_u64(f[0], &alloc) != AK_OK ||
        cl_u64(f[2], &max) != AK_OK) {
        c->st.malformed_lines++;
        goto out;
    }
    cl_emit(c, "node_filefd_allocated", AK_COLLECT_GAUGE, NULL, 0, (double)alloc);
    cl_emit(c, "node_filefd_maximum", AK_COLLECT_GAUGE, NULL, 0, (double)max);
out:
    ak_buf_release(&b);
}

/* "some avg10=0.00 avg60=0.00 avg300=0.00 total=12345" (µs): some -> waiting, full -> stalled. */
static void pressure_one(struct cl_ctx *c, const char *res)
{
    struct ak_buf b = AK_BUF_INIT(AK_COLLECT_MAX_FILE);
    char rel[64] = "", name[96] = "";
    char *cur = NULL, *line = NULL;

    snprintf(rel, sizeof(rel), "pressure/%s", res);
    if (cl_read(c, rel, &b) != AK_OK)
        goto out;
    cur = b.buf;
    while ((line = cl_line(&cur)) && !c->rc) {
        char *f[6] = {NULL};
        size_t nf = cl_split(line, f, 6);
        uint64_t us = 0;
        const char *kind = NULL;

        if (!nf)
            continue;
        if (ak_streq(f[0], "some"))
            kind = "waiting";
        else if (ak_streq(f[0], "full"))
            kind = "stalled";
        if (!kind || nf != 5 || !ak_startswith(f[4], "total=") ||
            cl_u64(f[4] + 6, &us) != AK_OK) {
            c->st.malformed_lines++;
            continue;
        }
        snprintf(name, sizeof(name), "node_pressure_%s_%s_seconds_total", res, kind);
        cl_emit(c, name, AK_COLLECT_COUNTER, NULL, 0, (double)us / 1e6);
    }
out:
    ak_buf_release(&b);
}

void cl_pressure(struct cl_ctx *c)
{
    pressure_one(c, "cpu");
    pressure_one(c, "memory");
    pressure_one(c, "io");
}

/* Field indexes after "dev:" in /proc/net/dev: rx bytes packets errs drop ... tx at 8. */
static const struct {
    size_t idx;
    const char *name;
} netdev_fields[] = {
    {0, "node_network_receive_bytes_total"},   {1, "node_network_receive_packets_total"},
    {2, "node_network_receive_errs_total"},    {3, "node_network_receive_drop_total"},
    {8, "node_network_transmit_bytes_total"},  {9, "node_network_transmit_packets_total"},
    {10, "node_network_transmit_errs_total"},  {11, "node_network_transmit_drop_total"},
};

static void netdev_line(struct cl_ctx *c, char *line)
{
    char *colon = strchr(line, ':');
    char *f[16] = {NULL};
    uint64_t v[16] = {0};
    char *dev[1] = {NULL};

    if (!colon) {
        c->st.malformed_lines++;
        return;
    }
    *colon = 0;
    if (cl_split(line, dev, 1) != 1 || cl_split(colon + 1, f, 16) != 16) {
        c->st.malformed_lines++;
        return;
    }
    for (size_t i = 0; i < 16; i++)
        if (cl_u64(f[i], &v[i]) != AK_OK) {
            c->st.malformed_lines++;
            return;
        }
    for (size_t i = 0; i < AK_ARRAY_SIZE(netdev_fields); i++)
        cl_emit1(c, netdev_fields[i].name, AK_COLLECT_COUNTER, "device", dev[0],
                 (double)v[netdev_fields[i].idx]);
}

void cl_netdev(struct cl_ctx *c)
{
    struct ak_buf b = AK_BUF_INIT(AK_COLLECT_MAX_FILE);
    char *cur = NULL, *line = NULL;
    int n = 0;

    if (cl_read(c, "net/dev", &b) != AK_OK)
        goto out;
    cur = b.buf;
    while ((line = cl_line(&cur)) && !c->rc) {
        if (n++ < 2 || !line[strspn(line, " \t")])
            continue; /* two header lines, blank lines */
        netdev_line(c, line);
    }
out:
    ak_buf_release(&b);
}

/* After "major minor name": reads, rmerged, rsectors, rms, writes, wmerged, wsectors, wms,
 * inflight, io_ms, weighted_ms, ... */
static void disk_line(struct cl_ctx *c, char *line)
{
    char *f[14] = {NULL};
    uint64_t v[11] = {0};
    size_t nf = cl_split(line, f, 14);

    if (nf < 14) {
        c->st.malformed_lines++;
        return;
    }
    for (size_t i = 0; i < 11; i++)
        if (cl_u64(f[3 + i], &v[i]) != AK_OK) {
            c->st.malformed_lines++;
            return;
        }
    if (ak_collect_disk_excluded(f[2]))
        return;
    cl_emit1(c, "node_disk_reads_completed_total", AK_COLLECT_COUNTER, "device", f[2],
             (double)v[0]);
    cl_emit1(c, "node_disk_read_bytes_total", AK_COLLECT_COUNTER, "device", f[2],
             (double)v[2] * 512.0);
    cl_emit1(c, "node_disk_writes_completed_total", AK_COLLECT_COUNTER, "device", f[2],
             (double)v[4]);
    cl_emit1(c, "node_disk_written_bytes_total", AK_COLLECT_COUNTER, "device", f[2],
             (double)v[6] * 512.0);
    cl_emit1(c, "node_disk_io_time_seconds_total", AK_COLLECT_COUNTER, "device", f[2],
             (double)v[9] / 1000.0);
}

void cl_diskstats(struct cl_ctx *c)
{
    struct ak_buf b = AK_BUF_INIT(AK_COLLECT_MAX_FILE);
    char *cur = NULL, *line = NULL;

    if (cl_read(c, "diskstats", &b) != AK_OK)
        goto out;
    cur = b.buf;
    while ((line = cl_line(&cur)) && !c->rc)
        if (line[strspn(line, " \t")])
            disk_line(c, line);
out:
    ak_buf_release(&b);
}
