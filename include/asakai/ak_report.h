/* ak_report.h — the morning report (朝会) (src/report/): one digest of everything, ordered by
 * urgency × importance.
 *
 * Items come from: maintenance records with a deadline or window in the next 14 days (and
 * recurrences), runbook steps due (overdue or within 3 days, not done), what arrived overnight
 * (records created or changed in the 24 h before the report time), coverage gaps
 * (ak_poll_coverage: blind and partial rows), and CI-auth audit findings of the STS twin's roles
 * (ak_iam_audit of each configured trust policy) when sts is configured, and the findings of
 * the newest daily monitoring review (DATA_DIR/metrics.db, when not older than two days). Each
 * item lands in one quadrant:
 *   do-now   urgent and important: a deadline within report.urgent_within (default 3 days), a
 *            forced apply, an overdue runbook step, a critical audit finding;
 *   plan     important, not urgent: a later deadline of an important record, a recurrence, a
 *            blind spot, a high audit finding;
 *   delegate urgent, less important: a deadline within urgent_within of a record that is not
 *            important, a runbook step due soon owned by another team;
 *   note     the rest: arrivals that changed nothing urgent, partial coverage, lower findings.
 * The rule of each quadrant is documented in docs/report.md and configurable (report.* keys).
 */
#ifndef AK_REPORT_H
#define AK_REPORT_H

#include <stdint.h>

struct ak_buf;
struct ak_cfg;
struct ak_json;
struct ak_store;

/* Builds the report for the local date of at_ms in zone tz_name (NULL: notify.digest_tz) from a
 * reader connection. JSON object:
 *   {"date": "2026-12-01", "generated_at", "tz", "counts": {"do-now": n, ...},
 *    "quadrants": {"do-now": [item...], "plan": [...], "delegate": [...], "note": [...]},
 *    "sections": {"maintenance": [...], "runbook_steps": [...], "overnight": [...],
 *                 "coverage": [...], "ci_auth": [...], "monitoring": [...]}}
 * item: {"kind": "maintenance"|"runbook-step"|"arrival"|"coverage"|"audit"|"monitoring",
 *        "id", "title",
 *        "due" (RFC 3339 or null), "why" (the rule that put it there), "link"}. */
int ak_report_build(const struct ak_cfg *cfg, struct ak_store *st, int64_t at_ms,
                    const char *tz_name, struct ak_json **ret, struct ak_buf *err);

/* Renders a built report as Markdown or as one self-contained HTML page (no JavaScript, no
 * external resources; the quadrant matrix as a 2x2 grid). */
int ak_report_render_md(const struct ak_json *report, struct ak_buf *out);
int ak_report_render_html(const struct ak_json *report, struct ak_buf *out);
/* The matrix alone as an HTML fragment (its own <style> and the 2x2 grid, each item with its
 * why), for a page that embeds it (the dashboard). */
int ak_report_render_matrix(const struct ak_json *report, struct ak_buf *out);

/* The report as the daily digest delivers it: opens its own reader connection under
 * cfg->data_dir (so concurrent callers never share one), builds the report of at_ms in tz_name
 * and appends the Markdown to md, the HTML page to html and the JSON text to json. For the
 * notification worker's hook (ak_notify_set_report). */
int ak_report_digest(const struct ak_cfg *cfg, int64_t at_ms, const char *tz_name,
                     struct ak_buf *md, struct ak_buf *html, struct ak_buf *json,
                     struct ak_buf *err);

/* The report time of local date "YYYY-MM-DD" in zone tz_name (NULL: notify.digest_tz): the
 * notify.digest_time (default 09:00) of that day, DST-safe. AK_EINVAL (bad date, unknown zone)
 * with the reason in err. */
int ak_report_at(const struct ak_cfg *cfg, const char *date, const char *tz_name, int64_t *ret_ms,
                 struct ak_buf *err);

#endif
