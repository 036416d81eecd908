/* fuzz_cfg.c — libFuzzer target for ak_cfg_load_string (YAML config from operators' files). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "asakai/ak_buf.h"
#include "asakai/ak_cfg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ak_buf err = AK_BUF_INIT(AK_BUF_NOMAX);
    struct ak_cfg c;

    /* Config files are small; 64 KiB keeps libyaml and regcomp runs short. */
    if (size > 64 * 1024)
        return 0;
    if (ak_cfg_load_string("fuzz.yaml", (const char *)data, size, &c, &err) == 0) {
        /* A loaded config has every non-optional value set. */
        if (!c.listen || !c.data_dir || !c.log_level || !c.sns_cert_url_pattern ||
            !c.sns_subscribe_url_pattern || !c.eb_api_key_header || err.len != 0)
            abort();
        ak_cfg_release(&c);
    } else if (err.len == 0 || c.listen) {
        abort(); /* a failure always says why and leaves c released */
    }
    ak_buf_release(&err);
    return 0;
}
