/* ak_time.h — time in asakai: int64 milliseconds since the Unix epoch, UTC.
 * 0 means "unknown / not set" in every record field. Monotonic time for durations only. */
#ifndef AK_TIME_H
#define AK_TIME_H

#include <stddef.h>
#include <stdint.h>

int64_t ak_now_wall_ms(void);
int64_t ak_now_mono_ms(void);

/* Parses the timestamp forms AWS uses, returning UTC milliseconds:
 *   RFC 3339 / ISO 8601: "2019-03-14T20:00:00.000Z", "2026-12-10T02:00:00+09:00", "2019-06-26T15:00:00Z"
 *   RFC 1123:            "Wed, 26 Jun 2019 15:00:00 GMT"
 *   RDS event time:      "2019-01-02 12:45:06.000" (no zone: UTC)
 *   IMDS:                "21 Jan 2019 09:00:43 GMT"
 *   date only:           "2026-12-10" (00:00 UTC)
 * AK_EINVAL for anything else, out-of-range fields included. */
int ak_time_parse(const char *s, int64_t *ret_ms);

/* Formats ms as RFC 3339 UTC with seconds precision: "2026-12-10T02:00:00Z" (needs 21 bytes).
 * ms == 0 gives "". */
#define AK_TIME_RFC3339_LEN 32
void ak_time_fmt_rfc3339(int64_t ms, char *buf, size_t n);
/* Same with milliseconds: "2026-12-10T02:00:00.123Z". */
void ak_time_fmt_rfc3339_ms(int64_t ms, char *buf, size_t n);
/* "in 3 days", "in 5 hours", "2 days ago", "now"; relative to now_ms. */
void ak_time_fmt_relative(int64_t ms, int64_t now_ms, char *buf, size_t n);

/* Days since 1970-01-01 for a proleptic Gregorian date (no range checks). */
int64_t ak_days_from_civil(int64_t y, unsigned m, unsigned d);

#endif
