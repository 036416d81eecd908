/* report_int.h — private to src/report: the quadrants and sections, shared by build and render. */
#ifndef AK_REPORT_INT_H
#define AK_REPORT_INT_H

#include <stddef.h>

enum { AK__REPORT_NQ = 4, AK__REPORT_NSEC = 6 };

/* "do-now", "plan", "delegate", "note" (the JSON keys, in matrix order). */
extern const char *const ak__report_q_keys[AK__REPORT_NQ];
/* "Do now", "Plan", "Delegate / batch", "Note" */
extern const char *const ak__report_q_titles[AK__REPORT_NQ];
/* "urgent and important", ... (the axis words under each title) */
extern const char *const ak__report_q_axes[AK__REPORT_NQ];
/* "maintenance", "runbook_steps", "overnight", "coverage", "ci_auth", "monitoring" */
extern const char *const ak__report_sec_keys[AK__REPORT_NSEC];
/* "Maintenance", "Runbook steps due", "Arrived overnight", "Coverage gaps", "CI-auth audit",
 * "Monitoring review" */
extern const char *const ak__report_sec_titles[AK__REPORT_NSEC];

#endif
