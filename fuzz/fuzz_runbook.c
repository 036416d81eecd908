/* fuzz_runbook.c — libFuzzer target for ak_runbook_parse (runbook templates: Markdown with a YAML
 * front matter and flow-mapping step attributes, written by the team) and, for templates that
 * parse, ak_runbook_plan in UTC and ak_runbook_redact on the same bytes. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "asakai/ak_buf.h"
#include "asakai/ak_runbook.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ak_buf err = AK_BUF_INIT(AK_BUF_NOMAX), text = AK_BUF_INIT(64 * 1024);
    struct ak_rb_template t;
    struct ak_rb_plan p;

    if (size > 64 * 1024) /* templates are a few KiB; this keeps libyaml runs short */
        return 0;
    if (ak_runbook_parse("fuzz.md", (const char *)data, size, &t, &err) == 0) {
        if (err.len || !t.title || !t.owner || t.n_steps == 0)
            abort();
        for (size_t i = 0; i < t.n_steps; i++)
            if (!t.steps[i].id || !t.steps[i].owner || (t.steps[i].type != AK_STEP_TASK) !=
                                                       (t.steps[i].command != NULL))
                abort();
        if (ak_runbook_plan(&t, 1796871600000LL, NULL, NULL, 0, &p, &err) == 0) {
            if (p.n_due != t.n_steps)
                abort();
            ak_rb_plan_release(&p);
        }
        ak_rb_template_release(&t);
    } else if (err.len == 0) {
        abort(); /* a failure always says why */
    }
    ak_buf_addn(&text, data, size);
    if (ak_runbook_redact(&text) == 0 && (text.len != size || memcmp(text.buf, data, size)))
        abort(); /* nothing redacted: nothing changed */
    ak_buf_release(&text);
    ak_buf_release(&err);
    return 0;
}
