/* fuzz_collect.c — the host collector's /proc parsers: the input, split at NUL bytes, becomes
 * the files of a fake proc root (meminfo, stat, loadavg, net/dev, diskstats, sys/fs/file-nr,
 * pressure/memory, self/mounts, and comm/stat/statm of one process); every sample emitted must
 * have a name and at most AK_COLLECT_MAX_LABELS well-formed labels. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "asakai/ak_buf.h"
#include "asakai/ak_collect.h"
#include "asakai/ak_err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const files[] = {
    "meminfo", "stat", "loadavg", "net/dev", "diskstats", "sys/fs/file-nr", "pressure/memory",
    "self/mounts", "4242/comm", "4242/stat", "4242/statm",
};

static char root[64];

static int fake_statfs(void *ud, const char *mp, struct ak_collect_fsstat *ret)
{
    (void)ud;
    if (mp[0] != '/')
        abort(); /* the mount parser must only hand out absolute paths */
    *ret = (struct ak_collect_fsstat){4096, 2048, 1024, 100, 50};
    return AK_OK;
}

static int emit(void *ud, const struct ak_collect_sample *s)
{
    (void)ud;
    if (!s->name || !*s->name || s->nlabels > AK_COLLECT_MAX_LABELS)
        abort();
    for (size_t i = 0; i < s->nlabels; i++)
        if (!s->labels[i].name || !s->labels[i].value)
            abort();
    return 0;
}

static void setup(void)
{
    static const char *const dirs[] = {"net", "sys", "sys/fs", "pressure", "self", "4242"};
    char path[128];

    snprintf(root, sizeof(root), "/tmp/fuzz-collect-%d", (int)getpid());
    mkdir(root, 0700);
    for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s", root, dirs[i]);
        mkdir(path, 0700);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const procs[] = {"fz"};
    struct ak_collect_opts o = {.statfs_fn = fake_statfs, .procs = procs, .nprocs = 1,
                                .clk_tck = 100, .page_size = 4096};
    struct ak_collect_sink sink = {emit, NULL};
    struct ak_buf err = AK_BUF_INIT(512);
    size_t off = 0;
    char path[160];

    if (size > 64 * 1024)
        return 0;
    if (!root[0])
        setup();
    o.proc_root = root;
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        const uint8_t *end = off < size ? memchr(data + off, 0, size - off) : NULL;
        size_t len = off < size ? (end ? (size_t)(end - (data + off)) : size - off) : 0;
        snprintf(path, sizeof(path), "%s/%s", root, files[i]);
        FILE *f = fopen(path, "wb");
        if (!f)
            abort();
        if (len)
            fwrite(data + off, 1, len, f);
        fclose(f);
        off += len + 1;
    }
    (void)ak_collect_host(&o, &sink, NULL, &err);
    ak_buf_release(&err);
    return 0;
}
