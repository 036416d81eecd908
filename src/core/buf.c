/* buf.c — the capped buffer (see ak_buf.h for the invariants). */
#include "asakai/ak_buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asakai/ak_err.h"
#include "asakai/ak_util.h"
#include "ak_banned.h"

char ak_buf_empty[1];

void ak_buf_init(struct ak_buf *b, size_t max)
{
    b->buf = ak_buf_empty;
    b->len = 0;
    b->alloc = 0;
    b->max = max;
}

void ak_buf_release(struct ak_buf *b)
{
    if (!b)
        return;
    if (b->alloc)
        free(b->buf);
    ak_buf_init(b, b->max);
}

void ak_buf_reset(struct ak_buf *b)
{
    b->len = 0;
    if (b->alloc) /* never write to the shared empty string: other threads read it */
        b->buf[0] = 0;
}

/* Makes room for n more bytes plus the NUL. Fails (AK_ETOOBIG) past the cap or on overflow. */
static int buf_grow(struct ak_buf *b, size_t n)
{
    size_t need;

    if (n > b->max || b->len > b->max - n)
        return AK_ETOOBIG;
    need = b->len + n + 1;
    if (need <= b->alloc)
        return AK_OK;
    size_t a = b->alloc ? b->alloc : 64;
    while (a < need) {
        if (a > SIZE_MAX / 2) {
            a = need;
            break;
        }
        a *= 2;
    }
    if (b->alloc)
        b->buf = ak_xrealloc(b->buf, a);
    else {
        b->buf = ak_xmalloc(a);
        b->buf[0] = 0;
    }
    b->alloc = a;
    return AK_OK;
}

int ak_buf_addn(struct ak_buf *b, const void *data, size_t n)
{
    int r = buf_grow(b, n);
    if (r < 0)
        return r;
    if (n)
        memcpy(b->buf + b->len, data, n);
    b->len += n;
    b->buf[b->len] = 0;
    return AK_OK;
}

int ak_buf_add(struct ak_buf *b, const char *s)
{
    return ak_buf_addn(b, s, strlen(s));
}

int ak_buf_addc(struct ak_buf *b, char c)
{
    return ak_buf_addn(b, &c, 1);
}

int ak_buf_add_html(struct ak_buf *b, const char *s)
{
    int r = AK_OK;

    for (; s && *s && r == AK_OK; s++) {
        switch (*s) {
        case '&': r = ak_buf_add(b, "&amp;"); break;
        case '<': r = ak_buf_add(b, "&lt;"); break;
        case '>': r = ak_buf_add(b, "&gt;"); break;
        case '"': r = ak_buf_add(b, "&quot;"); break;
        case '\'': r = ak_buf_add(b, "&#39;"); break;
        default: r = ak_buf_addc(b, *s); break;
        }
    }
    return r;
}

int ak_buf_vaddf(struct ak_buf *b, const char *fmt, va_list ap)
{
    va_list cp;
    char small[256];
    int n;

    va_copy(cp, ap);
    n = vsnprintf(small, sizeof(small), fmt, cp);
    va_end(cp);
    if (n < 0)
        return AK_EINVAL;
    if ((size_t)n < sizeof(small))
        return ak_buf_addn(b, small, (size_t)n);
    int r = buf_grow(b, (size_t)n);
    if (r < 0)
        return r;
    vsnprintf(b->buf + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return AK_OK;
}

int ak_buf_addf(struct ak_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = ak_buf_vaddf(b, fmt, ap);
    va_end(ap);
    return r;
}

char *ak_buf_detach(struct ak_buf *b, size_t *ret_len)
{
    char *p = b->alloc ? b->buf : ak_xstrdup("");
    if (ret_len)
        *ret_len = b->len;
    ak_buf_init(b, b->max);
    return p;
}

int ak_err(struct ak_buf *err, int r, const char *fmt, ...)
{
    if (err && err->len == 0) {
        va_list ap;
        va_start(ap, fmt);
        (void)ak_buf_vaddf(err, fmt, ap);
        va_end(ap);
    }
    return r;
}
