/* proc.c — asakai_process_* for named processes, and the ak_collect_host() driver. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "asakai/ak_err.h"
#include "asakai/ak_util.h"
#include "collect_int.h"
#include "src/core/ak_banned.h"

#define CL_MAX_PROCS 64

struct proc_acc {
    uint64_t count, rss_pages, ticks;
};

/* utime and stime are fields 14 and 15; comm (field 2) may hold blanks and ')', so count from
 * the last ')'. */
static int proc_ticks(char *stat, uint64_t *ret)
{
    char *rp = strrchr(stat, ')');
    char *f[13] = {NULL};
    uint64_t ut = 0, st = 0;

    if (!rp || cl_split(rp + 1, f, 13) != 13 || cl_u64(f[11], &ut) != AK_OK ||
        cl_u64(f[12], &st) != AK_OK)
        return AK_EINVAL;
    *ret = ut + st;
    return AK_OK;
}

static void proc_one(struct cl_ctx *c, const char *pid, struct proc_acc *acc, struct ak_buf *b)
{
    char rel[64] = "";
    size_t i = 0, n = c->o->nprocs;
    uint64_t ticks = 0, rss = 0;
    char *f[2] = {NULL, NULL};

    snprintf(rel, sizeof(rel), "%s/comm", pid);
    if (cl_read(c, rel, b) != AK_OK)
        return;
    if (b->len && b->buf[b->len - 1] == '\n')
        b->buf[--b->len] = 0;
    for (i = 0; i < n; i++)
        if (ak_streq(b->buf, c->o->procs[i]))
            break;
    if (i == n)
        return;
    snprintf(rel, sizeof(rel), "%s/stat", pid);
    if (cl_read(c, rel, b) != AK_OK)
        return; /* the process went away */
    if (proc_ticks(b->buf, &ticks) != AK_OK) {
        c->st.malformed_lines++;
        return;
    }
    snprintf(rel, sizeof(rel), "%s/statm", pid);
    if (cl_read(c, rel, b) != AK_OK)
        return;
    if (cl_split(b->buf, f, 2) != 2 || cl_u64(f[1], &rss) != AK_OK) {
        c->st.malformed_lines++;
        return;
    }
    acc[i].count++;
    acc[i].ticks += ticks;
    acc[i].rss_pages += rss;
}

void cl_procs(struct cl_ctx *c)
{
    struct proc_acc acc[CL_MAX_PROCS];
    struct ak_buf b = AK_BUF_INIT(AK_COLLECT_MAX_FILE);
    DIR *d = NULL;
    struct dirent *de = NULL;
    size_t n = c->o ? c->o->nprocs : 0;

    memset(acc, 0, sizeof(acc));
    if (n > CL_MAX_PROCS)
        n = CL_MAX_PROCS;
    if (!n || !c->o->procs)
        goto out;
    d = opendir(c->root);
    if (!d)
        goto out;
    while ((de = readdir(d)))
        if (de->d_name[0] >= '1' && de->d_name[0] <= '9' &&
            strspn(de->d_name, "0123456789") == strlen(de->d_name))
            proc_one(c, de->d_name, acc, &b);
    for (size_t i = 0; i < n; i++) {
        const char *name = c->o->procs[i];
        cl_emit1(c, "asakai_process_count", AK_COLLECT_GAUGE, "name", name, (double)acc[i].count);
        cl_emit1(c, "asakai_process_resident_memory_bytes", AK_COLLECT_GAUGE, "name", name,
                 (double)acc[i].rss_pages * (double)c->page_size);
        cl_emit1(c, "asakai_process_cpu_seconds_total", AK_COLLECT_COUNTER, "name", name,
                 (double)acc[i].ticks / (double)c->clk_tck);
    }
out:
    if (d)
        closedir(d);
    ak_buf_release(&b);
}

int ak_collect_host(const struct ak_collect_opts *o, const struct ak_collect_sink *sink,
                    struct ak_collect_stats *ret_stats, struct ak_buf *err)
{
    struct cl_ctx c;
    long tck = o && o->clk_tck > 0 ? o->clk_tck : sysconf(_SC_CLK_TCK);
    long pg = sysconf(_SC_PAGESIZE);

    if (!sink || !sink->emit)
        return ak_err(err, AK_EINVAL, "The host collector needs an emit callback.");
    memset(&c, 0, sizeof(c));
    c.o = o;
    c.root = o && o->proc_root ? o->proc_root : "/proc";
    c.mounts_path = o ? o->mounts_path : NULL;
    c.sink = sink;
    c.clk_tck = tck > 0 ? tck : 100;
    c.page_size = o && o->page_size ? o->page_size : (pg > 0 ? (uint64_t)pg : 4096);

    void (*const steps[])(struct cl_ctx *) = {cl_meminfo, cl_stat, cl_loadavg, cl_filefd,
                                              cl_pressure, cl_netdev, cl_diskstats,
                                              cl_filesystem, cl_procs};
    for (size_t i = 0; i < AK_ARRAY_SIZE(steps) && !c.rc; i++)
        steps[i](&c);
    if (c.rc)
        return ak_err(err, c.rc, "The host collector stopped: the emit callback returned %d.",
                      c.rc);
    if (ret_stats)
        *ret_stats = c.st;
    return AK_OK;
}
