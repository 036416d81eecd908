/* test_collect.c — the host collector against the fixture proc root under
 * tests/data/collect/proc (exact names, labels and values), robustness, and a live smoke on the
 * real /proc. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "ak_test.h"
#include "asakai/ak_buf.h"
#include "asakai/ak_collect.h"
#include "asakai/ak_err.h"

#define MAX_LINES 4096

struct sink_rec {
    char *lines[MAX_LINES];
    size_t n;
    size_t total; /* all samples, also those past MAX_LINES */
    int fail_after; /* >0: return AK_EBUSY on that sample */
};

static int rec_emit(void *ud, const struct ak_collect_sample *s)
{
    struct sink_rec *r = ud;
    char line[512] = "";
    size_t off = 0;

    if (r->fail_after && (int)r->n + 1 == r->fail_after)
        return AK_EBUSY;
    r->total++;
    off += (size_t)snprintf(line + off, sizeof(line) - off, "%s", s->name);
    for (size_t i = 0; i < s->nlabels; i++)
        off += (size_t)snprintf(line + off, sizeof(line) - off, "%s%s=\"%s\"", i ? "," : "{",
                                s->labels[i].name, s->labels[i].value);
    snprintf(line + off, sizeof(line) - off, "%s %.15g%s", s->nlabels ? "}" : "", s->value,
             s->type == AK_COLLECT_COUNTER ? " c" : "");
    if (r->n < MAX_LINES)
        r->lines[r->n++] = strdup(line);
    return 0;
}

static void rec_free(struct sink_rec *r)
{
    for (size_t i = 0; i < r->n; i++)
        free(r->lines[i]);
    r->n = 0;
}

static bool rec_has(const struct sink_rec *r, const char *line)
{
    for (size_t i = 0; i < r->n; i++)
        if (!strcmp(r->lines[i], line))
            return true;
    return false;
}

static size_t rec_count_prefix(const struct sink_rec *r, const char *prefix)
{
    size_t k = 0;
    for (size_t i = 0; i < r->n; i++)
        if (!strncmp(r->lines[i], prefix, strlen(prefix)))
            k++;
    return k;
}

static int fake_statfs(void *ud, const char *mp, struct ak_collect_fsstat *ret)
{
    int *calls = ud;
    (*calls)++;
    if (!strcmp(mp, "/")) {
        *ret = (struct ak_collect_fsstat){.size_bytes = 100000, .free_bytes = 40000,
                                          .avail_bytes = 30000, .files = 500, .files_free = 200};
        return AK_OK;
    }
    if (!strcmp(mp, "/mnt/my data")) {
        *ret = (struct ak_collect_fsstat){.size_bytes = 7, .free_bytes = 6, .avail_bytes = 5,
                                          .files = 4, .files_free = 3};
        return AK_OK;
    }
    return AK_EIO; /* /run: the mount is skipped */
}

static char root_[1024], mounts_[1100];

static struct ak_collect_opts fixture_opts(int *calls, const char *const *procs, size_t n)
{
    snprintf(root_, sizeof(root_), "%s/tests/data/collect/proc", ak_test_srcdir());
    snprintf(mounts_, sizeof(mounts_), "%s/mounts", root_);
    return (struct ak_collect_opts){.proc_root = root_, .mounts_path = mounts_,
                                    .statfs_fn = fake_statfs, .statfs_ud = calls,
                                    .procs = procs, .nprocs = n, .clk_tck = 100,
                                    .page_size = 4096};
}

#define HAS(line)                                                                                  \
    do {                                                                                           \
        if (!rec_has(&rec, line)) {                                                                \
            rec_free(&rec);                                                                        \
            AK_FAIL_("missing sample: %s", line);                                                  \
        }                                                                                          \
    } while (0)
#define HASNT(line)                                                                                \
    do {                                                                                           \
        if (rec_has(&rec, line)) {                                                                 \
            rec_free(&rec);                                                                        \
            AK_FAIL_("unexpected sample: %s", line);                                               \
        }                                                                                          \
    } while (0)

AK_TEST(fixture_memory_cpu_load)
{
    struct sink_rec rec = {.n = 0};
    struct ak_collect_sink sink = {rec_emit, &rec};
    struct ak_collect_stats st = {0};
    int calls = 0;
    struct ak_collect_opts o = fixture_opts(&calls, NULL, 0);

    AK_ASSERT_OK(ak_collect_host(&o, &sink, &st, NULL));
    HAS("node_memory_MemTotal_bytes 16777216000");
    HAS("node_memory_MemFree_bytes 2097152000");
    HAS("node_memory_MemAvailable_bytes 8388608000");
    HAS("node_memory_Buffers_bytes 104857600");
    HAS("node_memory_Cached_bytes 4194304000");
    HAS("node_memory_SwapTotal_bytes 1048576000");
    HAS("node_memory_SwapFree_bytes 1024000000");
    HAS("node_memory_Active_anon_bytes 524288000");
    HAS("node_memory_HugePages_Total 4");
    HAS("node_memory_Hugepagesize_bytes 2097152");
    HAS("node_cpu_seconds_total{cpu=\"0\",mode=\"user\"} 15 c");
    HAS("node_cpu_seconds_total{cpu=\"0\",mode=\"idle\"} 250 c");
    HAS("node_cpu_seconds_total{cpu=\"1\",mode=\"steal\"} 0.15 c");
    HAS("node_cpu_seconds_total{cpu=\"1\",mode=\"softirq\"} 0.1 c");
    HAS("node_cpu_guest_seconds_total{cpu=\"0\",mode=\"user\"} 0.07 c");
    HAS("node_cpu_guest_seconds_total{cpu=\"0\",mode=\"nice\"} 0.03 c");
    AK_ASSERT_EQ_INT(rec_count_prefix(&rec, "node_cpu_seconds_total{"), 16);
    HAS("node_boot_time_seconds 1700000000");
    HAS("node_context_switches_total 987654 c");
    HAS("node_forks_total 4321 c");
    HAS("node_procs_running 3");
    HAS("node_procs_blocked 1");
    HAS("node_load1 0.52");
    HAS("node_load5 1.25");
    HAS("node_load15 2");
    HAS("node_filefd_allocated 2304");
    HAS("node_filefd_maximum 9.22337203685478e+18");
    HAS("node_pressure_cpu_waiting_seconds_total 1.5 c");
    HAS("node_pressure_cpu_stalled_seconds_total 0 c");
    HAS("node_pressure_memory_waiting_seconds_total 0.0025 c");
    HAS("node_pressure_memory_stalled_seconds_total 0.001 c");
    AK_ASSERT_EQ_INT(rec_count_prefix(&rec, "node_pressure_io_"), 0);
    /* garbage + Bad$Key, cpuX, bad0, sdb, "short line" */
    AK_ASSERT_EQ_INT(st.malformed_lines, 6);
    AK_ASSERT_EQ_INT(st.files_missing, 1); /* pressure/io */
    AK_ASSERT_EQ_INT(st.samples, rec.n);
    rec_free(&rec);
}

AK_TEST(fixture_net_disk_fs)
{
    struct sink_rec rec = {.n = 0};
    struct ak_collect_sink sink = {rec_emit, &rec};
    int calls = 0;
    struct ak_collect_opts o = fixture_opts(&calls, NULL, 0);

    AK_ASSERT_OK(ak_collect_host(&o, &sink, NULL, NULL));
    HAS("node_network_receive_bytes_total{device=\"eth0\"} 123456789 c");
    HAS("node_network_receive_packets_total{device=\"eth0\"} 1000 c");
    HAS("node_network_receive_errs_total{device=\"eth0\"} 2 c");
    HAS("node_network_receive_drop_total{device=\"eth0\"} 3 c");
    HAS("node_network_transmit_bytes_total{device=\"eth0\"} 98765432 c");
    HAS("node_network_transmit_packets_total{device=\"eth0\"} 900 c");
    HAS("node_network_transmit_errs_total{device=\"eth0\"} 4 c");
    HAS("node_network_transmit_drop_total{device=\"eth0\"} 6 c");
    HAS("node_network_receive_bytes_total{device=\"lo\"} 1000 c");
    AK_ASSERT_EQ_INT(rec_count_prefix(&rec, "node_network_"), 16);
    HAS("node_disk_reads_completed_total{device=\"sda\"} 100 c");
    HAS("node_disk_read_bytes_total{device=\"sda\"} 1024000 c");
    HAS("node_disk_writes_completed_total{device=\"sda\"} 50 c");
    HAS("node_disk_written_bytes_total{device=\"sda\"} 2048000 c");
    HAS("node_disk_io_time_seconds_total{device=\"sda\"} 1.5 c");
    HAS("node_disk_io_time_seconds_total{device=\"nvme0n1\"} 2.5 c");
    AK_ASSERT_EQ_INT(rec_count_prefix(&rec, "node_disk_"), 10); /* sda1 loop0 nvme0n1p1 out */
    HAS("node_filesystem_size_bytes{device=\"/dev/root\",fstype=\"ext4\",mountpoint=\"/\"} 100000");
    HAS("node_filesystem_free_bytes{device=\"/dev/root\",fstype=\"ext4\",mountpoint=\"/\"} 40000");
    HAS("node_filesystem_avail_bytes{device=\"/dev/root\",fstype=\"ext4\",mountpoint=\"/\"} 30000");
    HAS("node_filesystem_files{device=\"/dev/root\",fstype=\"ext4\",mountpoint=\"/\"} 500");
    HAS("node_filesystem_files_free{device=\"/dev/root\",fstype=\"ext4\",mountpoint=\"/\"} 200");
    HAS("node_filesystem_readonly{device=\"/dev/root\",fstype=\"ext4\",mountpoint=\"/\"} 0");
#define SDB1 "{device=\"/dev/sdb1\",fstype=\"xfs\",mountpoint=\"/mnt/my data\"}"
    HAS("node_filesystem_size_bytes" SDB1 " 7");
    HAS("node_filesystem_avail_bytes" SDB1 " 5");
    HAS("node_filesystem_files_free" SDB1 " 3");
    HAS("node_filesystem_readonly" SDB1 " 1");
    AK_ASSERT_EQ_INT(rec_count_prefix(&rec, "node_filesystem_"), 12);
    AK_ASSERT_EQ_INT(calls, 3); /* /, /mnt/my data, /run; proc, sysfs, docker excluded */
    rec_free(&rec);
}

AK_TEST(fixture_processes)
{
    static const char *const names[] = {"asakaid", "weird ) name", "absent"};
    struct sink_rec rec = {.n = 0};
    struct ak_collect_sink sink = {rec_emit, &rec};
    int calls = 0;
    struct ak_collect_opts o = fixture_opts(&calls, names, 3);

    AK_ASSERT_OK(ak_collect_host(&o, &sink, NULL, NULL));
    HAS("asakai_process_count{name=\"asakaid\"} 2");
    HAS("asakai_process_resident_memory_bytes{name=\"asakaid\"} 24576000");
    HAS("asakai_process_cpu_seconds_total{name=\"asakaid\"} 5 c");
    HAS("asakai_process_count{name=\"weird ) name\"} 1");
    HAS("asakai_process_resident_memory_bytes{name=\"weird ) name\"} 102400");
    HAS("asakai_process_cpu_seconds_total{name=\"weird ) name\"} 1 c");
    HAS("asakai_process_count{name=\"absent\"} 0");
    HASNT("asakai_process_count{name=\"absent\"} 1");
    rec_free(&rec);
}

AK_TEST(emit_error_stops)
{
    struct sink_rec rec = {.n = 0, .fail_after = 3};
    struct ak_collect_sink sink = {rec_emit, &rec};
    struct ak_buf err = AK_BUF_INIT(1024);
    struct ak_collect_stats st = {.samples = 777};
    int calls = 0;
    struct ak_collect_opts o = fixture_opts(&calls, NULL, 0);

    AK_ASSERT_EQ_INT(ak_collect_host(&o, &sink, &st, &err), AK_EBUSY);
    AK_ASSERT_EQ_INT(rec.n, 2);
    AK_ASSERT_EQ_INT(st.samples, 777); /* untouched on failure */
    AK_ASSERT_CONTAINS(err.buf, "emit callback returned -5");
    AK_ASSERT_EQ_INT(ak_collect_host(&o, NULL, NULL, NULL), AK_EINVAL);
    rec_free(&rec);
    ak_buf_release(&err);
}

static int write_file(const char *path, const char *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    size_t w = fwrite(data, 1, n, f);
    return fclose(f) == 0 && w == n ? 0 : -1;
}

AK_TEST(oversized_and_empty_files)
{
    char path[512] = "";
    const char *dir = AK_TMPDIR();
    size_t n = 3 * 1024 * 1024;
    char *big = malloc(n);
    struct sink_rec rec = {.n = 0};
    struct ak_collect_sink sink = {rec_emit, &rec};
    struct ak_collect_stats st = {0};
    struct ak_collect_opts o = {.proc_root = dir, .clk_tck = 100, .page_size = 4096};
    static const char line[] = "Cached:     1 kB\n"; /* 17 bytes: the cap cuts mid-line */

    AK_ASSERT(big != NULL);
    for (size_t i = 0; i < n; i++)
        big[i] = line[i % (sizeof(line) - 1)];
    snprintf(path, sizeof(path), "%s/meminfo", dir);
    AK_ASSERT_OK(write_file(path, big, n));
    free(big);
    snprintf(path, sizeof(path), "%s/loadavg", dir);
    AK_ASSERT_OK(write_file(path, "", 0));
    snprintf(path, sizeof(path), "%s/stat", dir);
    static const char stat_txt[] = "cpu0 99999999999999999999999 1 2 3\ncpu1 1 2 3 4\n";
    AK_ASSERT_OK(write_file(path, stat_txt, strlen(stat_txt)));
    AK_ASSERT_OK(ak_collect_host(&o, &sink, &st, NULL));
    AK_ASSERT_EQ_INT(st.files_truncated, 1);
    size_t cached = rec_count_prefix(&rec, "node_memory_Cached_bytes 1024");
    size_t total = rec.total;
    rec_free(&rec);
    AK_ASSERT_EQ_INT(cached, MAX_LINES); /* the first MAX_LINES samples are all Cached */
    /* whole lines under the cap, plus cpu1's 4 modes (user nice system idle) */
    AK_ASSERT_EQ_INT(total, AK_COLLECT_MAX_FILE / 17 + 4);
    AK_ASSERT_EQ_INT(st.malformed_lines, 2); /* empty loadavg, overflowing cpu0 */
}

AK_TEST(default_excludes)
{
    AK_ASSERT_EQ_INT(ak_collect_disk_excluded("sda1"), 1);
    AK_ASSERT_EQ_INT(ak_collect_disk_excluded("sda"), 0);
    AK_ASSERT_EQ_INT(ak_collect_disk_excluded("xvda1"), 1);
    AK_ASSERT_EQ_INT(ak_collect_disk_excluded("xvda"), 0);
    AK_ASSERT_EQ_INT(ak_collect_disk_excluded("nvme0n1"), 0);
    AK_ASSERT_EQ_INT(ak_collect_disk_excluded("nvme0n1p2"), 1);
    AK_ASSERT_EQ_INT(ak_collect_disk_excluded("nvme10n12p3"), 1);
    AK_ASSERT_EQ_INT(ak_collect_disk_excluded("nvmen1p2"), 0);
    AK_ASSERT_EQ_INT(ak_collect_disk_excluded("loop7"), 1);
    AK_ASSERT_EQ_INT(ak_collect_disk_excluded("zram0"), 1);
    AK_ASSERT_EQ_INT(ak_collect_disk_excluded("dm-0"), 0);
    AK_ASSERT_EQ_INT(ak_collect_disk_excluded("md127"), 0);
    AK_ASSERT_EQ_INT(ak_collect_mountpoint_excluded("/dev"), 1);
    AK_ASSERT_EQ_INT(ak_collect_mountpoint_excluded("/dev/shm"), 1);
    AK_ASSERT_EQ_INT(ak_collect_mountpoint_excluded("/devices"), 0);
    AK_ASSERT_EQ_INT(ak_collect_mountpoint_excluded("/run/credentials/x.service"), 1);
    AK_ASSERT_EQ_INT(ak_collect_mountpoint_excluded("/run/credentials/"), 0);
    AK_ASSERT_EQ_INT(ak_collect_mountpoint_excluded("/var/lib/docker"), 0);
    AK_ASSERT_EQ_INT(ak_collect_mountpoint_excluded("/"), 0);
    AK_ASSERT_EQ_INT(ak_collect_fstype_excluded("cgroup2"), 1);
    AK_ASSERT_EQ_INT(ak_collect_fstype_excluded("tmpfs"), 0);
    AK_ASSERT_EQ_INT(ak_collect_fstype_excluded("ext4"), 0);
}

AK_TEST(live_proc_smoke)
{
    static const char *const names[] = {"test_collect"};
    struct sink_rec rec = {.n = 0};
    struct ak_collect_sink sink = {rec_emit, &rec};
    struct ak_collect_opts o = {.procs = names, .nprocs = 1};
    struct stat sb;
    bool mem = false;

    if (stat("/proc/meminfo", &sb) != 0)
        AK_SKIP("no /proc");
    AK_ASSERT_OK(ak_collect_host(&o, &sink, NULL, NULL));
    for (size_t i = 0; i < rec.n; i++)
        if (!strncmp(rec.lines[i], "node_memory_MemTotal_bytes ", 27) &&
            strtod(rec.lines[i] + 27, NULL) > 0)
            mem = true;
    AK_ASSERT(mem);
    AK_ASSERT(rec_count_prefix(&rec, "node_cpu_seconds_total{cpu=\"0\",mode=\"idle\"}") == 1);
    AK_ASSERT(rec_count_prefix(&rec, "node_load1 ") == 1);
    AK_ASSERT(!rec_has(&rec, "asakai_process_count{name=\"test_collect\"} 0"));
    rec_free(&rec);
}

AK_TEST_MAIN(AK_T(fixture_memory_cpu_load), AK_T(fixture_net_disk_fs), AK_T(fixture_processes),
             AK_T(emit_error_stops), AK_T(oversized_and_empty_files), AK_T(default_excludes),
             AK_T(live_proc_smoke))
