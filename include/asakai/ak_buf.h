/* ak_buf.h — a growable, capped byte buffer (git's strbuf + curl's dynbuf "toobig").
 *
 * Invariants: b->buf is never NULL and is always NUL-terminated (b->buf[b->len] == 0), also after
 * a failed append. b->max caps b->len: an append that would pass it fails with AK_ETOOBIG and
 * leaves the contents unchanged. Memory exhaustion aborts (ak_xmalloc). The buffer owns b->buf;
 * ak_buf_detach() is the only way to take ownership.
 */
#ifndef AK_BUF_H
#define AK_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

struct ak_buf {
    char *buf;
    size_t len;
    size_t alloc; /* 0 while buf points at the shared empty string */
    size_t max;
};

#define AK_BUF_NOMAX SIZE_MAX
extern char ak_buf_empty[1];
#define AK_BUF_INIT(m) {ak_buf_empty, 0, 0, (m)}

void ak_buf_init(struct ak_buf *b, size_t max);
/* Frees the contents and re-initialises to empty (keeps max). NULL-safe. */
void ak_buf_release(struct ak_buf *b);
/* Sets len to 0 without freeing. */
void ak_buf_reset(struct ak_buf *b);
int ak_buf_add(struct ak_buf *b, const char *s);
int ak_buf_addn(struct ak_buf *b, const void *data, size_t n);
int ak_buf_addc(struct ak_buf *b, char c);
int ak_buf_addf(struct ak_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int ak_buf_vaddf(struct ak_buf *b, const char *fmt, va_list ap);
/* Appends s (NULL = nothing) escaped for HTML text and quoted attributes (& < > " '). */
int ak_buf_add_html(struct ak_buf *b, const char *s);
/* Returns the malloc'ed string (caller frees) and leaves b empty. Never NULL. */
char *ak_buf_detach(struct ak_buf *b, size_t *ret_len);

/* Error-message helper: if err is not NULL and still empty, appends the formatted sentence.
 * Returns r, so that `return ak_err(err, AK_EINVAL, "bad %s", x);` works. */
int ak_err(struct ak_buf *err, int r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
