/* ak_log.h — structured logs in logfmt on stderr.
 *
 * One line per call: `ts=2026-11-26T03:20:00.123Z level=info mod=intake msg="..." k=v ...`.
 * Values are quoted when needed and control bytes escaped, so client-supplied strings cannot
 * forge lines. Thread-safe (one write(2) per line). Library-like modules (core, cfg, store,
 * crypto, events, maint) never log: they return codes and err text; the edges log.
 * Never pass a secret or token as a value.
 */
#ifndef AK_LOG_H
#define AK_LOG_H

enum ak_log_level { AK_LOG_ERR = 3, AK_LOG_WARN = 4, AK_LOG_INFO = 6, AK_LOG_DEBUG = 7 };

void ak_log_set_level(enum ak_log_level lvl);
/* "debug" "info" "warn" "error" -> level; AK_EINVAL otherwise. */
int ak_log_parse_level(const char *s, enum ak_log_level *ret);

/* Logs msg followed by key/value pairs given as const char * strings, terminated by NULL:
 *   ak_log(AK_LOG_WARN, "intake", "rejected", "reason", why, "remote", ip, NULL);
 * A NULL value prints as an empty string. */
void ak_log(enum ak_log_level lvl, const char *mod, const char *msg, ...)
    __attribute__((sentinel));

#endif
