/* fuzz_matchers.c — ak_matchers_parse (silences from the CLI/API, `matchers:` in routes): a list
 * that parses formats to text that parses back to the same list, and matches without crashing. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "asakai/ak_buf.h"
#include "asakai/ak_cfg.h"
#include "asakai/ak_route.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const res[] = {"arn:aws:rds:us-east-1:123456789012:db:prod-db-1", "i-0a"};
    static const struct ak_route_input in = {
        "rds", "maintenance", "upcoming", "123456789012", "us-east-1", "health",
        "AWS_RDS_MAINTENANCE_SCHEDULED", true, res, 2, "{\"env\":\"prod\",\"team\":\"dba\"}"};
    struct ak_buf err = AK_BUF_INIT(AK_BUF_NOMAX);
    struct ak_matchers m = {NULL, 0}, m2 = {NULL, 0};
    char *text, *f1 = NULL, *f2 = NULL;

    if (size > 16 * 1024)
        return 0;
    text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = 0;
    if (ak_matchers_parse(text, &m, &err) == 0) {
        f1 = ak_matchers_format(&m);
        if (ak_matchers_parse(f1, &m2, NULL) != 0 || m2.n != m.n)
            abort(); /* what we print must read back */
        f2 = ak_matchers_format(&m2);
        if (strcmp(f1, f2) != 0)
            abort();
        if (ak_route_matchers_match(&m, &in) != ak_route_matchers_match(&m2, &in))
            abort();
    } else if (err.len == 0 || m.v) {
        abort(); /* a failure says why and leaves ret alone */
    }
    free(f1);
    free(f2);
    ak_matchers_release(&m);
    ak_matchers_release(&m2);
    ak_buf_release(&err);
    free(text);
    return 0;
}
