/* fuzz_stsxml.c — libFuzzer target for the STS XML extractor (the response body comes from the
 * network, or from whatever answers at an overridden endpoint). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "asakai/ak_aws.h"
#include "asakai/ak_buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ak_buf err = AK_BUF_INIT(AK_BUF_NOMAX);
    struct ak_aws_creds c = {0};
    char *v = NULL;

    if (size > 64 * 1024)
        return 0;
    /* "&lt;" decodes to '<', so the text may hold one: only memory safety is checked here */
    if (ak_aws_xml_text((const char *)data, size, "Code", &v, &err) == 0)
        free(v);
    ak_buf_reset(&err);
    if (ak_aws_sts_parse_creds((const char *)data, size, &c, &err) == 0) {
        if (!*c.access_key_id || !*c.secret_access_key || !*c.session_token || err.len)
            abort();
        ak_aws_creds_release(&c);
    } else if (err.len == 0 || c.access_key_id) {
        abort();
    }
    ak_buf_release(&err);
    return 0;
}
