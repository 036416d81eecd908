/* fuzz_cfg.c — libFuzzer target for ak_cfg_load_string (YAML config from operators' files),
 * including receivers, the route tree, AWS accounts and the inventory. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "asakai/ak_buf.h"
#include "asakai/ak_cfg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool known(const struct ak_cfg *c, const char *name)
{
    for (size_t i = 0; i < c->n_receivers; i++)
        if (strcmp(c->receivers[i].name, name) == 0)
            return true;
    return false;
}

/* Every name a loaded route uses is a defined receiver (the loader caps the depth). */
static void check_route(const struct ak_cfg *c, const struct ak_cfg_route *r)
{
    for (size_t i = 0; i < r->receivers.n; i++)
        if (!known(c, r->receivers.v[i]))
            abort();
    for (size_t i = 0; i < r->n_routes; i++)
        check_route(c, &r->routes[i]);
}

static void check_loaded(const struct ak_cfg *c)
{
    if (!c->listen || !c->data_dir || !c->log_level || !c->sns_cert_url_pattern ||
        !c->sns_subscribe_url_pattern || !c->eb_api_key_header || !c->digest_time || !c->digest_tz)
        abort();
    for (size_t i = 1; i < c->n_reminders; i++)
        if (c->reminders_ms[i] >= c->reminders_ms[i - 1])
            abort(); /* strictly descending */
    for (size_t i = 0; i < c->n_receivers; i++)
        if (!c->receivers[i].name || !c->receivers[i].kind || !c->receivers[i].digest_tz)
            abort();
    if (c->route)
        check_route(c, c->route);
    for (size_t i = 0; i < c->n_aws_accounts; i++)
        if (!c->aws_accounts[i].id || strlen(c->aws_accounts[i].id) != 12 ||
            c->aws_accounts[i].regions.n == 0)
            abort();
    for (size_t i = 0; i < c->n_inventory; i++)
        if (!c->inventory[i].service || !c->inventory[i].account || !c->inventory[i].region)
            abort();
    for (int i = 0; i < AK_POLLER_N; i++)
        if (c->pollers[i].interval_ms < 10000 || c->pollers[i].interval_ms > 86400000)
            abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ak_buf err = AK_BUF_INIT(AK_BUF_NOMAX);
    struct ak_cfg c;

    /* Config files are small; 64 KiB keeps libyaml and regcomp runs short. */
    if (size > 64 * 1024)
        return 0;
    if (ak_cfg_load_string("fuzz.yaml", (const char *)data, size, &c, &err) == 0) {
        if (err.len != 0)
            abort();
        check_loaded(&c); /* a loaded config has every non-optional value set */
        ak_cfg_release(&c);
    } else if (err.len == 0 || c.listen || c.receivers || c.route || c.aws_accounts ||
               c.inventory) {
        abort(); /* a failure always says why and leaves c released */
    }
    ak_buf_release(&err);
    return 0;
}
