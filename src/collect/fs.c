/* fs.c — node_filesystem_* from a mounts file and statvfs(), with node_exporter's default
 * fs-type and mount-point excludes (filesystem_linux.go, monitoring.md §4). */
#include <string.h>
#include <sys/statvfs.h>

#include "asakai/ak_err.h"
#include "asakai/ak_util.h"
#include "collect_int.h"
#include "src/core/ak_banned.h"

static const char *const fstype_excludes[] = {
    "autofs", "binfmt_misc", "bpf", "cgroup", "cgroup2", "configfs", "debugfs", "devpts",
    "devtmpfs", "fusectl", "hugetlbfs", "iso9660", "mqueue", "nsfs", "overlay", "proc", "procfs",
    "pstore", "rpc_pipefs", "securityfs", "selinuxfs", "squashfs", "erofs", "sysfs", "tracefs",
};

int ak_collect_fstype_excluded(const char *fstype)
{
    for (size_t i = 0; i < AK_ARRAY_SIZE(fstype_excludes); i++)
        if (ak_streq(fstype, fstype_excludes[i]))
            return 1;
    return 0;
}

/* ^/(dev|proc|sys)($|/) and ^/(run/credentials|var/lib/docker|var/lib/containers/storage)/.+ */
int ak_collect_mountpoint_excluded(const char *mp)
{
    static const char *const exact[] = {"/dev", "/proc", "/sys"};
    static const char *const below[] = {"/run/credentials/", "/var/lib/docker/",
                                        "/var/lib/containers/storage/"};

    for (size_t i = 0; i < AK_ARRAY_SIZE(exact); i++) {
        size_t n = strlen(exact[i]);
        if (!strncmp(mp, exact[i], n) && (mp[n] == 0 || mp[n] == '/'))
            return 1;
    }
    for (size_t i = 0; i < AK_ARRAY_SIZE(below); i++) {
        size_t n = strlen(below[i]);
        if (!strncmp(mp, below[i], n) && mp[n])
            return 1;
    }
    return 0;
}

/* ^(z?ram|loop|fd|(h|s|v|xv)d[a-z]|nvme\d+n\d+p)\d+$ — every alternative ends in a non-digit,
 * so stripping all trailing digits and matching the rest exactly is equivalent. */
int ak_collect_disk_excluded(const char *d)
{
    size_t n = strlen(d), k = n;

    while (k && d[k - 1] >= '0' && d[k - 1] <= '9')
        k--;
    if (k == n || k == 0)
        return 0;
    if ((k == 3 && !strncmp(d, "ram", 3)) || (k == 4 && !strncmp(d, "zram", 4)) ||
        (k == 4 && !strncmp(d, "loop", 4)) || (k == 2 && !strncmp(d, "fd", 2)))
        return 1;
    if (k == 3 && strchr("hsv", d[0]) && d[1] == 'd' && d[2] >= 'a' && d[2] <= 'z')
        return 1;
    if (k == 4 && !strncmp(d, "xvd", 3) && d[3] >= 'a' && d[3] <= 'z')
        return 1;
    if (k >= 7 && !strncmp(d, "nvme", 4) && d[k - 1] == 'p') {
        size_t i = 4, s = 0;
        for (s = i; i < k && d[i] >= '0' && d[i] <= '9'; i++)
            ;
        if (i == s || i >= k || d[i] != 'n')
            return 0;
        for (s = ++i; i < k && d[i] >= '0' && d[i] <= '9'; i++)
            ;
        return i > s && i == k - 1;
    }
    return 0;
}

/* The kernel escapes blanks and backslashes in mounts as \ooo; decode in place. */
static void unescape(char *s)
{
    char *w = s;

    for (char *r = s; *r; r++) {
        if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' &&
            r[3] >= '0' && r[3] <= '7') {
            *w++ = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
            r += 3;
        } else
            *w++ = *r;
    }
    *w = 0;
}

static int statfs_default(void *ud, const char *mp, struct ak_collect_fsstat *ret)
{
    struct statvfs sv;

    (void)ud;
    memset(&sv, 0, sizeof(sv));
    if (statvfs(mp, &sv) != 0)
        return AK_EIO;
    ret->size_bytes = (uint64_t)sv.f_blocks * sv.f_frsize;
    ret->free_bytes = (uint64_t)sv.f_bfree * sv.f_frsize;
    ret->avail_bytes = (uint64_t)sv.f_bavail * sv.f_frsize;
    ret->files = sv.f_files;
    ret->files_free = sv.f_ffree;
    return AK_OK;
}

static int has_ro(const char *opts)
{
    size_t n = strlen(opts);

    return ak_streq(opts, "ro") || ak_startswith(opts, "ro,") || strstr(opts, ",ro,") ||
           (n > 3 && !strcmp(opts + n - 3, ",ro"));
}

static void fs_line(struct cl_ctx *c, char *line)
{
    char *f[4] = {NULL};
    struct ak_collect_fsstat st = {0, 0, 0, 0, 0};
    int (*fn)(void *, const char *, struct ak_collect_fsstat *) =
        c->o && c->o->statfs_fn ? c->o->statfs_fn : statfs_default;

    if (cl_split(line, f, 4) != 4) {
        c->st.malformed_lines++;
        return;
    }
    unescape(f[0]);
    unescape(f[1]);
    if (f[1][0] != '/') { /* a mount point is absolute: anything else would be cwd-relative */
        c->st.malformed_lines++;
        return;
    }
    if (ak_collect_fstype_excluded(f[2]) || ak_collect_mountpoint_excluded(f[1]))
        return;
    if (fn(c->o ? c->o->statfs_ud : NULL, f[1], &st) != AK_OK)
        return;
    struct ak_collect_label l[3] = {{"device", f[0]}, {"fstype", f[2]}, {"mountpoint", f[1]}};
    cl_emit(c, "node_filesystem_size_bytes", AK_COLLECT_GAUGE, l, 3, (double)st.size_bytes);
    cl_emit(c, "node_filesystem_free_bytes", AK_COLLECT_GAUGE, l, 3, (double)st.free_bytes);
    cl_emit(c, "node_filesystem_avail_bytes", AK_COLLECT_GAUGE, l, 3, (double)st.avail_bytes);
    cl_emit(c, "node_filesystem_files", AK_COLLECT_GAUGE, l, 3, (double)st.files);
    cl_emit(c, "node_filesystem_files_free", AK_COLLECT_GAUGE, l, 3, (double)st.files_free);
    cl_emit(c, "node_filesystem_readonly", AK_COLLECT_GAUGE, l, 3, has_ro(f[3]) ? 1.0 : 0.0);
}

void cl_filesystem(struct cl_ctx *c)
{
    struct ak_buf b = AK_BUF_INIT(AK_COLLECT_MAX_FILE);
    char *cur = NULL, *line = NULL;

    if (cl_read(c, c->mounts_path ? c->mounts_path : "self/mounts", &b) != AK_OK)
        goto out;
    cur = b.buf;
    while ((line = cl_line(&cur)) && !c->rc)
        if (line[strspn(line, " \t")])
            fs_line(c, line);
out:
    ak_buf_release(&b);
}
