/* collect_int.h — private helpers shared by the files of src/collect. */
#ifndef AK_COLLECT_INT_H
#define AK_COLLECT_INT_H

#include <stddef.h>
#include <stdint.h>

#include "asakai/ak_buf.h"
#include "asakai/ak_collect.h"

struct cl_ctx {
    const char *root;
    const char *mounts_path; /* NULL -> <root>/self/mounts */
    const struct ak_collect_opts *o;
    const struct ak_collect_sink *sink;
    struct ak_collect_stats st;
    long clk_tck;
    uint64_t page_size;
    int rc; /* first non-zero emit result; collectors stop once it is set */
};

/* Reads <root>/<rel> (or the absolute path when rel starts with '/') into out, capped at
 * AK_COLLECT_MAX_FILE; an incomplete last line past the cap is dropped. AK_ENOTFOUND when the
 * file cannot be opened (counted as missing). */
int cl_read(struct cl_ctx *c, const char *rel, struct ak_buf *out);
/* Next NUL-terminated line of *cur (modified in place), NULL at the end. */
char *cl_line(char **cur);
/* Splits line in place on blanks (space, tab, CR, LF) into at most max fields; returns the
 * number found. */
size_t cl_split(char *line, char **f, size_t max);
int cl_u64(const char *s, uint64_t *ret);
int cl_double(const char *s, double *ret);
/* Emits one sample unless an earlier emit failed. */
void cl_emit(struct cl_ctx *c, const char *name, enum ak_collect_type type,
             const struct ak_collect_label *labels, size_t n, double v);
void cl_emit1(struct cl_ctx *c, const char *name, enum ak_collect_type type, const char *lname,
              const char *lval, double v);

void cl_meminfo(struct cl_ctx *c);
void cl_stat(struct cl_ctx *c);
void cl_loadavg(struct cl_ctx *c);
void cl_filefd(struct cl_ctx *c);
void cl_pressure(struct cl_ctx *c);
void cl_netdev(struct cl_ctx *c);
void cl_diskstats(struct cl_ctx *c);
void cl_filesystem(struct cl_ctx *c);
void cl_procs(struct cl_ctx *c);

#endif
