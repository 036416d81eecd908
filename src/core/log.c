/* log.c — logfmt lines on stderr, one write(2) per line so threads never interleave. */
#include "asakai/ak_log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include "asakai/ak_buf.h"
#include "asakai/ak_err.h"
#include "asakai/ak_time.h"
#include "ak_banned.h"

#define LOG_LINE_MAX 4096
#define LOG_VALUE_MAX 512

static _Atomic int log_level = AK_LOG_INFO;

void ak_log_set_level(enum ak_log_level lvl)
{
    atomic_store(&log_level, (int)lvl);
}

int ak_log_parse_level(const char *s, enum ak_log_level *ret)
{
    static const struct {
        const char *name;
        enum ak_log_level lvl;
    } names[] = {{"debug", AK_LOG_DEBUG}, {"info", AK_LOG_INFO}, {"warn", AK_LOG_WARN},
                 {"warning", AK_LOG_WARN}, {"error", AK_LOG_ERR}};
    for (size_t i = 0; s && i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcmp(s, names[i].name) == 0) {
            *ret = names[i].lvl;
            return AK_OK;
        }
    }
    return AK_EINVAL;
}

static const char *level_name(enum ak_log_level lvl)
{
    switch (lvl) {
    case AK_LOG_ERR: return "error";
    case AK_LOG_WARN: return "warn";
    case AK_LOG_INFO: return "info";
    case AK_LOG_DEBUG: return "debug";
    }
    return "info";
}

/* Appends v, quoted when it holds a space, quote, '=' or control byte; control bytes escaped so a
 * client-supplied value can never start a new line. Long values are cut with "...". */
static void add_value(struct ak_buf *b, const char *v)
{
    bool quote = !*v;
    size_t n = strlen(v);
    bool cut = n > LOG_VALUE_MAX;

    if (cut)
        n = LOG_VALUE_MAX;
    for (size_t i = 0; i < n && !quote; i++) {
        unsigned char c = (unsigned char)v[i];
        if (c <= ' ' || c == '"' || c == '=' || c == '\\' || c == 0x7f)
            quote = true;
    }
    if (!quote && !cut) {
        ak_buf_addn(b, v, n);
        return;
    }
    ak_buf_addc(b, '"');
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)v[i];
        if (c == '"' || c == '\\') {
            ak_buf_addc(b, '\\');
            ak_buf_addc(b, (char)c);
        } else if (c == '\n')
            ak_buf_add(b, "\\n");
        else if (c < ' ' || c == 0x7f)
            ak_buf_addf(b, "\\x%02x", c);
        else
            ak_buf_addc(b, (char)c);
    }
    if (cut)
        ak_buf_add(b, "...");
    ak_buf_addc(b, '"');
}

void ak_log(enum ak_log_level lvl, const char *mod, const char *msg, ...)
{
    struct ak_buf b = AK_BUF_INIT(LOG_LINE_MAX);
    char ts[AK_TIME_RFC3339_LEN];
    va_list ap;

    if ((int)lvl > atomic_load(&log_level))
        return;
    ak_time_fmt_rfc3339_ms(ak_now_wall_ms(), ts, sizeof(ts));
    ak_buf_addf(&b, "ts=%s level=%s mod=%s msg=", ts, level_name(lvl), mod);
    add_value(&b, msg ? msg : "");
    va_start(ap, msg);
    for (;;) {
        const char *k = va_arg(ap, const char *);
        if (!k)
            break;
        const char *v = va_arg(ap, const char *);
        ak_buf_addc(&b, ' ');
        ak_buf_add(&b, k);
        ak_buf_addc(&b, '=');
        add_value(&b, v ? v : "");
    }
    va_end(ap);
    if (ak_buf_addc(&b, '\n') < 0) { /* line at the cap: force the newline in */
        b.buf[b.len - 1] = '\n';
    }
    if (write(2, b.buf, b.len) < 0) { /* stderr gone: nothing to do */
    }
    ak_buf_release(&b);
}
