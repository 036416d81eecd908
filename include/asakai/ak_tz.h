/* ak_tz.h — IANA time zones from the system's TZif files (/usr/share/zoneinfo), for schedules
 * that a person reads in local time (the 09:00 Asia/Tokyo digest, "02:00 JST" in subjects).
 * Thread-safe; never touches the process's TZ. */
#ifndef AK_TZ_H
#define AK_TZ_H

#include <stddef.h>
#include <stdint.h>

struct ak_buf;
struct ak_tz;

/* Loads zone name ("Asia/Tokyo", "UTC", "Europe/Berlin") from dir (NULL = /usr/share/zoneinfo).
 * Names with ".." or a leading '/' are refused. AK_ENOTFOUND / AK_EINVAL with a reason. */
int ak_tz_load(const char *name, const char *dir, struct ak_tz **ret, struct ak_buf *err);
/* Parses TZif (v1, v2, v3) data (for tests and the fuzz target). */
int ak_tz_parse(const char *name, const void *data, size_t len, struct ak_tz **ret,
                struct ak_buf *err);
void ak_tz_free(struct ak_tz *tz);
const char *ak_tz_name(const struct ak_tz *tz);

/* UTC offset in seconds at UTC instant ms, and the abbreviation ("JST", "CET"); abbr may be NULL. */
int ak_tz_offset(const struct ak_tz *tz, int64_t ms, const char **abbr);
/* The next UTC instant after after_ms at which local wall-clock time is hh:mm (DST-safe: a time
 * skipped by a DST jump fires at the first instant after it; a repeated one fires once). */
int64_t ak_tz_next_local(const struct ak_tz *tz, int64_t after_ms, int hh, int mm);
/* The UTC instant at which local wall time y-mon-d hh:mm is shown in tz (NULL tz = UTC): in a DST
 * gap the time moves forward by the gap (02:30 on a spring-forward night is 03:30 daylight time);
 * in an overlap the first occurrence (daylight time). AK_EINVAL for a field out of range (years
 * 1..9999, a day that the month lacks). */
int ak_tz_from_local(const struct ak_tz *tz, int y, int mon, int d, int hh, int mm,
                     int64_t *ret_ms);
/* The local date and time of UTC instant ms in tz (NULL tz = UTC); seconds are dropped. Any
 * output pointer may be NULL. */
void ak_tz_to_local(const struct ak_tz *tz, int64_t ms, int *ret_y, int *ret_mon, int *ret_d,
                    int *ret_hh, int *ret_mm);
/* "Dec 10 02:00 JST" for ms in tz. */
void ak_tz_fmt_short(const struct ak_tz *tz, int64_t ms, char *buf, size_t n);

#endif
