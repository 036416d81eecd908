/* rb_int.h — private to src/runbook: what the parser, the planner and the redactor share. */
#ifndef AK_RB_INT_H
#define AK_RB_INT_H

#include <stdbool.h>
#include <stddef.h>

#define AK_RB_MAX_TEXT (256 * 1024)  /* a template file */
#define AK_RB_MAX_STEPS 200
#define AK_RB_MAX_VARS 100
#define AK_RB_MAX_ERRORS 20
#define AK_RB_VAR_NAME_MAX 64

/* The next variable reference "{{name}}" (name: [A-Za-z_][A-Za-z0-9_]{0,63}) in s[0..n): returns
 * the offset of its "{{", its name in ret_name and ret_len and the offset after "}}" in *ret_end;
 * n when there is none. Anything else between braces ("{{.State}}", "{{ x }}") is text. */
size_t ak__rb_next_var(const char *s, size_t n, const char **ret_name, size_t *ret_len,
                       size_t *ret_end);
/* true for [a-z0-9][a-z0-9-]{0,62} (step ids, team names, template names). */
bool ak__rb_id_ok(const char *s, size_t n);

#endif
