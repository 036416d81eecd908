/* ak_collect.h — the built-in host collector: reads /proc and statvfs() and emits samples with
 * node_exporter's exact metric names and labels (monitoring.md §4), plus asakai_process_* for a
 * list of process names.
 *
 * Families emitted (see docs/internals/collect.md for the full table):
 *   node_memory_<Key>[_bytes]            /proc/meminfo ("(anon)" -> "_anon", kB x 1024)
 *   node_cpu_seconds_total{cpu,mode}     /proc/stat cpuN lines / clk_tck
 *   node_cpu_guest_seconds_total{cpu,mode}
 *   node_boot_time_seconds node_context_switches_total node_forks_total
 *   node_procs_running node_procs_blocked
 *   node_load1 node_load5 node_load15    /proc/loadavg
 *   node_filesystem_{size_bytes,free_bytes,avail_bytes,files,files_free,readonly}
 *       {device,fstype,mountpoint}       mounts file + statvfs, node_exporter's default excludes
 *   node_network_{receive,transmit}_{bytes,packets,errs,drop}_total{device}   /proc/net/dev
 *   node_disk_{read_bytes,written_bytes,reads_completed,writes_completed,io_time_seconds}_total
 *       {device}                         /proc/diskstats, node_exporter's default device ignore
 *   node_filefd_allocated node_filefd_maximum                /proc/sys/fs/file-nr
 *   node_pressure_{cpu,memory,io}_{waiting,stalled}_seconds_total   /proc/pressure/ (if present)
 *   asakai_process_{count,resident_memory_bytes,cpu_seconds_total}{name}   /proc/PID/...
 *
 * A missing file is not an error (counted in stats.files_missing); a line that does not parse is
 * skipped and counted (stats.malformed_lines); every file is read up to AK_COLLECT_MAX_FILE bytes
 * and an incomplete last line beyond that is dropped (stats.files_truncated). The module never
 * logs.
 */
#ifndef AK_COLLECT_H
#define AK_COLLECT_H

#include <stddef.h>
#include <stdint.h>

struct ak_buf;

#define AK_COLLECT_MAX_FILE (1024 * 1024)
#define AK_COLLECT_MAX_LABELS 3

enum ak_collect_type {
    AK_COLLECT_GAUGE = 0,
    AK_COLLECT_COUNTER = 1,
};

struct ak_collect_label {
    const char *name;
    const char *value;
};

/* One sample. All pointers are valid only during the emit callback. */
struct ak_collect_sample {
    const char *name;
    enum ak_collect_type type;
    const struct ak_collect_label *labels;
    size_t nlabels;
    double value;
};

/* What statvfs() tells about one mount point, already multiplied out as node_exporter does. */
struct ak_collect_fsstat {
    uint64_t size_bytes;  /* f_blocks * f_frsize */
    uint64_t free_bytes;  /* f_bfree * f_frsize */
    uint64_t avail_bytes; /* f_bavail * f_frsize */
    uint64_t files;       /* f_files */
    uint64_t files_free;  /* f_ffree */
};

struct ak_collect_opts {
    const char *proc_root;   /* NULL -> "/proc" */
    const char *mounts_path; /* NULL -> "<proc_root>/self/mounts" */
    /* Fills *ret for one mount point; returns AK_OK or a negative code (the mount is then
     * skipped). NULL -> statvfs(). */
    int (*statfs_fn)(void *ud, const char *mountpoint, struct ak_collect_fsstat *ret);
    void *statfs_ud;
    const char *const *procs; /* process names matched against /proc/PID/comm */
    size_t nprocs;
    long clk_tck;       /* 0 -> sysconf(_SC_CLK_TCK) */
    uint64_t page_size; /* 0 -> sysconf(_SC_PAGESIZE) */
};

struct ak_collect_stats {
    unsigned samples;
    unsigned files_read;
    unsigned files_missing;
    unsigned files_truncated;
    unsigned malformed_lines;
};

/* Called once per sample; a non-zero return stops the collection and is returned. */
struct ak_collect_sink {
    int (*emit)(void *ud, const struct ak_collect_sample *s);
    void *ud;
};

/* Runs every collector once against o (NULL -> all defaults) and emits through sink.
 * Returns AK_OK, AK_EINVAL (NULL sink), or whatever the emit callback returned (with a sentence
 * in err). ret_stats (may be NULL) is written on AK_OK. */
int ak_collect_host(const struct ak_collect_opts *o, const struct ak_collect_sink *sink,
                    struct ak_collect_stats *ret_stats, struct ak_buf *err);

/* node_exporter's default excludes, exposed for tests and for the docs table. */
int ak_collect_fstype_excluded(const char *fstype);     /* 1 if excluded, else 0 */
int ak_collect_mountpoint_excluded(const char *mp);     /* 1 if excluded, else 0 */
int ak_collect_disk_excluded(const char *device);       /* 1 if excluded, else 0 */

#endif
