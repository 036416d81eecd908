/* maint_int.h — private to src/maint: small helpers shared by its files. */
#ifndef AK_MAINT_INT_H
#define AK_MAINT_INT_H

#include <stdbool.h>
#include <stdint.h>

struct ak_maint_cfg;

#define AK_MAINT_DAY_MS (24LL * 3600 * 1000)
#define AK_MAINT_DEFAULT_RECURRENCE_MS (30 * AK_MAINT_DAY_MS)
#define AK_MAINT_DEFAULT_IMPORTANT_MS (14 * AK_MAINT_DAY_MS)

/* cfg with zero fields replaced by the defaults (cfg may be NULL). */
struct ak_maint_cfg ak_maint_cfg_or_default(const struct ak_maint_cfg *cfg);

/* completed or canceled */
bool ak_maint_status_closed(const char *status);

/* Adds item to the comma-separated list *list (malloc'ed, may be NULL) unless present.
 * Returns true when it was added. */
bool ak_maint_list_add(char **list, const char *item);

#endif
