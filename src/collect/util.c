/* util.c — file reading, line splitting and emitting for the host collector. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "asakai/ak_err.h"
#include "asakai/ak_util.h"
#include "collect_int.h"
#include "src/core/ak_banned.h"

int cl_read(struct cl_ctx *c, const char *rel, struct ak_buf *out)
{
    char path[4096] = "";
    char chunk[4096];
    int fd = -1, r = AK_OK;
    int n = rel[0] == '/' ? snprintf(path, sizeof(path), "%s", rel)
                          : snprintf(path, sizeof(path), "%s/%s", c->root, rel);

    ak_buf_reset(out);
    if (n < 0 || (size_t)n >= sizeof(path)) {
        c->st.files_missing++;
        return AK_ENOTFOUND;
    }
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        c->st.files_missing++;
        return AK_ENOTFOUND;
    }
    for (;;) {
        ssize_t got = read(fd, chunk, sizeof(chunk));
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        size_t room = AK_COLLECT_MAX_FILE - out->len;
        if ((size_t)got > room) {
            /* Past the cap: keep only whole lines so no field is read half-way. */
            ak_buf_addn(out, chunk, room);
            char *nl = strrchr(out->buf, '\n');
            out->len = nl ? (size_t)(nl - out->buf) + 1 : 0;
            out->buf[out->len] = 0;
            c->st.files_truncated++;
            break;
        }
        ak_buf_addn(out, chunk, (size_t)got);
    }
    c->st.files_read++;
    close(fd);
    return r;
}

char *cl_line(char **cur)
{
    char *s = *cur, *nl = NULL;

    if (!s || !*s)
        return NULL;
    nl = strchr(s, '\n');
    if (nl) {
        *nl = 0;
        *cur = nl + 1;
    } else
        *cur = s + strlen(s);
    return s;
}

size_t cl_split(char *line, char **f, size_t max)
{
    size_t n = 0;
    char *p = line;

    while (*p && n < max) {
        while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
            p++;
        if (!*p)
            break;
        f[n++] = p;
        while (*p && *p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
            p++;
        if (*p)
            *p++ = 0;
    }
    return n;
}

int cl_u64(const char *s, uint64_t *ret)
{
    return ak_parse_u64(s, 0, UINT64_MAX, ret);
}

int cl_double(const char *s, double *ret)
{
    char *end = NULL;
    double v = 0;

    if (!*s || *s == ' ' || *s == '+' || *s == '-')
        return AK_EINVAL;
    errno = 0;
    v = strtod(s, &end);
    if (errno || *end || !isfinite(v))
        return AK_EINVAL;
    *ret = v;
    return AK_OK;
}

void cl_emit(struct cl_ctx *c, const char *name, enum ak_collect_type type,
             const struct ak_collect_label *labels, size_t n, double v)
{
    struct ak_collect_sample s = {name, type, labels, n, v};

    if (c->rc)
        return;
    c->rc = c->sink->emit(c->sink->ud, &s);
    if (!c->rc)
        c->st.samples++;
}

void cl_emit1(struct cl_ctx *c, const char *name, enum ak_collect_type type, const char *lname,
              const char *lval, double v)
{
    struct ak_collect_label l = {lname, lval};

    cl_emit(c, name, type, &l, 1, v);
}
