/* cfg_aws.c — the AWS part of the configuration (issue 4): `aws.accounts` (a list of records) and
 * `inventory` (a list of records), plus the poller names. The scalar keys aws.* and pollers.* are
 * rows of the option table (cfg_schema.c); these two lists are loaded after the option walk, the
 * way receivers are.
 *
 * Account IDs and region names are not secrets and may be quoted in messages; role ARNs,
 * external IDs and endpoint URLs are never quoted (an external ID is a shared secret, a URL may
 * hold one). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asakai/ak_buf.h"
#include "asakai/ak_err.h"
#include "asakai/ak_util.h"
#include "cfg_int.h"
#include "../core/ak_banned.h"

#define ACCOUNTS_MAX 1000
#define REGIONS_MAX 64
#define INVENTORY_MAX AK_CFG_MAX_LIST
#define REGION_MAX_LEN 64
#define ROLE_ARN_MAX_LEN 2048
#define EXTERNAL_ID_MIN_LEN 2
#define EXTERNAL_ID_MAX_LEN 1224
#define PROFILE_MAX_LEN 128

/* ---- poller names, in enum ak_poller_id order ---- */

static const char *const poller_names[AK_POLLER_N] = {
    [AK_POLLER_EC2] = "ec2_scheduled_events",
    [AK_POLLER_RDS] = "rds_pending_maintenance",
    [AK_POLLER_EC_UPDATES] = "elasticache_update_actions",
    [AK_POLLER_EC_EVENTS] = "elasticache_events",
    [AK_POLLER_HEALTH] = "health",
};

const char *ak_cfg_poller_name(int id)
{
    if (id < 0 || id >= AK_POLLER_N)
        return NULL;
    return poller_names[id];
}

int ak_cfg_poller_id(const char *name)
{
    for (int i = 0; name && i < AK_POLLER_N; i++)
        if (strcmp(poller_names[i], name) == 0)
            return i;
    return -1;
}

/* ---- value checks (reasons never quote the value) ---- */

static bool fail(char *why, size_t n, const char *msg)
{
    snprintf(why, n, "%s", msg);
    return false;
}

static bool all_in(const char *s, size_t len, const char *set)
{
    return len > 0 && strspn(s, set) >= len;
}

#define LOWER "abcdefghijklmnopqrstuvwxyz"
#define DIGITS "0123456789"

bool ak__cfg_check_account_id(const char *v, char *why, size_t n)
{
    /* An unquoted 012345678901 reaches us as written (libyaml hands over the text), so only the
     * text is checked: exactly twelve digits, leading zeros kept. */
    if (strlen(v) != 12 || !all_in(v, 12, DIGITS))
        return fail(why, n, "must be a 12-digit AWS account ID");
    return true;
}

/* ^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-[0-9]+$ — no class holds '-', so the parts between dashes
 * can be checked one by one: 3 parts, or 4 with "gov"/"iso..." second. */
static bool region_ok(const char *v)
{
    const char *part[5];
    size_t len[5], np = 0, total = strlen(v);

    if (total > REGION_MAX_LEN)
        return false;
    for (const char *p = v;; p++) {
        const char *dash = strchr(p, '-');

        if (np == 5)
            return false;
        part[np] = p;
        len[np] = dash ? (size_t)(dash - p) : strlen(p);
        np++;
        if (!dash)
            break;
        p = dash;
    }
    if (np != 3 && np != 4)
        return false;
    if (len[0] != 2 || !all_in(part[0], 2, LOWER))
        return false;
    if (np == 4 && !(len[1] == 3 && memcmp(part[1], "gov", 3) == 0) &&
        !(len[1] >= 3 && memcmp(part[1], "iso", 3) == 0 &&
          strspn(part[1], LOWER) >= len[1]))
        return false;
    return all_in(part[np - 2], len[np - 2], LOWER) && all_in(part[np - 1], len[np - 1], DIGITS);
}

static bool check_region(const char *v, char *why, size_t n)
{
    if (!region_ok(v))
        return fail(why, n, "must be an AWS region name like ap-northeast-1 or us-gov-west-1");
    return true;
}

/* ^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$, and no spaces or control characters in the name. */
static bool check_role_arn(const char *v, char *why, size_t n)
{
    static const char msg[] = "must be an IAM role ARN like arn:aws:iam::123456789012:role/NAME";
    const char *p = v;

    if (strlen(v) > ROLE_ARN_MAX_LEN || !ak_startswith(p, "arn:aws"))
        return fail(why, n, msg);
    p += strlen("arn:aws");
    p += strspn(p, LOWER "-");
    if (!ak_startswith(p, ":iam::"))
        return fail(why, n, msg);
    p += strlen(":iam::");
    if (strspn(p, DIGITS) != 12 || !ak_startswith(p + 12, ":role/"))
        return fail(why, n, msg);
    p += 12 + strlen(":role/");
    if (!*p)
        return fail(why, n, msg);
    for (; *p; p++)
        if ((unsigned char)*p <= ' ' || *p == 0x7f)
            return fail(why, n, "an IAM role ARN must not contain spaces or control characters");
    return true;
}

/* sts:ExternalId: 2 to 1224 of [\w+=,.@:/-]. */
static bool check_external_id(const char *v, char *why, size_t n)
{
    size_t len = strlen(v);

    if (len < EXTERNAL_ID_MIN_LEN || len > EXTERNAL_ID_MAX_LEN ||
        !all_in(v, len, LOWER "ABCDEFGHIJKLMNOPQRSTUVWXYZ" DIGITS "_+=,.@:/-"))
        return fail(why, n, "must be 2 to 1224 of letters, digits and _+=,.@:/-");
    return true;
}

static bool check_profile(const char *v, char *why, size_t n)
{
    size_t len = strlen(v);

    if (len == 0 || len > PROFILE_MAX_LEN)
        return fail(why, n, "must be a profile name of 1 to 128 characters");
    for (const unsigned char *p = (const unsigned char *)v; *p; p++)
        if (*p <= ' ' || *p == 0x7f || *p == '[' || *p == ']')
            return fail(why, n, "a profile name must not contain spaces, control characters, "
                                "'[' or ']'");
    return true;
}

/* ---- aws.accounts ---- */

static const char *const account_keys[] = {"id",          "regions",      "assume_role_arn",
                                           "external_id", "endpoint_url", "profile"};

static void account_regions(struct ak__cfg_loader *ld, const struct ak_cfg_node *m,
                            const char *key, struct ak_cfg_aws_account *a)
{
    const struct ak_cfg_node *v = ak__cfg_map_get(m, "regions");
    char *rkey;

    if (!v) {
        ak__cfg_report(ld, m->line, m->col, key, "needs regions (a list of region names)");
        return;
    }
    rkey = ak_xasprintf("%s.regions", key);
    if (v->kind == AK_CFG_NODE_SEQ && v->n == 0) {
        ak__cfg_report(ld, v->line, v->col, rkey, "needs at least one region");
        goto out;
    }
    ak__cfg_get_list(ld, v, rkey, check_region, true, REGIONS_MAX, &a->regions);
    /* Items that failed are left out: only a complete list has indexes matching the file. */
    if (v->kind != AK_CFG_NODE_SEQ || a->regions.n != v->n)
        goto out;
    for (size_t i = 1; i < a->regions.n; i++) {
        for (size_t j = 0; j < i; j++) {
            if (strcmp(a->regions.v[i], a->regions.v[j]) == 0) {
                char *ikey = ak_xasprintf("%s[%zu]", rkey, i);

                ak__cfg_report(ld, v->kids[i]->line, v->kids[i]->col, ikey,
                               "region %s is listed twice", a->regions.v[i]);
                free(ikey);
                break;
            }
        }
    }
out:
    free(rkey);
}

static void account_id(struct ak__cfg_loader *ld, const struct ak_cfg_node *m, const char *key,
                       size_t idx, struct ak_cfg_aws_account *a)
{
    const struct ak_cfg *c = ld->c;

    ak__cfg_get_str(ld, m, key, "id", ak__cfg_check_account_id, true, &a->id);
    for (size_t j = 0; a->id && j < idx; j++) {
        if (ak_streq(c->aws_accounts[j].id, a->id)) {
            const struct ak_cfg_node *v = ak__cfg_map_get(m, "id");
            char *ikey = ak_xasprintf("%s.id", key);

            ak__cfg_report(ld, v->line, v->col, ikey,
                           "duplicate account id %s (first defined at line %d)", a->id,
                           c->aws_accounts[j].line);
            free(ikey);
            break;
        }
    }
}

static void load_account(struct ak__cfg_loader *ld, const struct ak_cfg_node *m, size_t idx,
                         struct ak_cfg_aws_account *a)
{
    char *key = ak_xasprintf("aws.accounts[%zu]", idx);

    a->line = (int)m->line;
    if (!ak__cfg_check_map(ld, m, key, account_keys, AK_ARRAY_SIZE(account_keys)))
        goto out;
    account_id(ld, m, key, idx, a);
    account_regions(ld, m, key, a);
    ak__cfg_get_str(ld, m, key, "assume_role_arn", check_role_arn, false, &a->assume_role_arn);
    ak__cfg_get_str(ld, m, key, "external_id", check_external_id, false, &a->external_id);
    ak__cfg_get_str(ld, m, key, "endpoint_url", ak__cfg_check_http_url, false, &a->endpoint_url);
    ak__cfg_get_str(ld, m, key, "profile", check_profile, false, &a->profile);
    if (a->external_id && !ak__cfg_map_get(m, "assume_role_arn")) {
        const struct ak_cfg_node *k = ak__cfg_map_key(m, "external_id");

        ak__cfg_report(ld, k->line, k->col, key,
                       "external_id is sent with AssumeRole: it needs assume_role_arn");
    }
out:
    free(key);
}

static void load_accounts(struct ak__cfg_loader *ld, const struct ak_cfg_node *v)
{
    struct ak_cfg *c = ld->c;

    if (v->kind != AK_CFG_NODE_SEQ) {
        ak__cfg_report(ld, v->line, v->col, "aws.accounts", "expected a list of accounts, got %s",
                       ak__cfg_kind_name(v));
        return;
    }
    if (v->n > ACCOUNTS_MAX) {
        ak__cfg_report(ld, v->line, v->col, "aws.accounts", "more than %d accounts",
                       ACCOUNTS_MAX);
        return;
    }
    c->aws_accounts = ak_xcalloc(v->n ? v->n : 1, sizeof(*c->aws_accounts));
    for (size_t i = 0; i < v->n && !ak__cfg_too_many(ld); i++) {
        load_account(ld, v->kids[i], i, &c->aws_accounts[i]);
        c->n_aws_accounts = i + 1;
    }
}

/* ---- inventory ---- */

static const char *const inventory_keys[] = {"service", "account", "region"};
static const char *const services[] = {"ec2", "rds", "elasticache"};

static void inventory_service(struct ak__cfg_loader *ld, const struct ak_cfg_node *m,
                              const char *key, struct ak_cfg_inventory *e)
{
    const struct ak_cfg_node *v;
    const char *best = NULL;
    size_t best_d = 3; /* only typos: at most two edits away */
    char *skey;

    ak__cfg_get_str(ld, m, key, "service", NULL, true, &e->service);
    if (!e->service)
        return;
    for (size_t i = 0; i < AK_ARRAY_SIZE(services); i++) {
        size_t d;

        if (strcmp(e->service, services[i]) == 0)
            return;
        if (strlen(e->service) > 64)
            continue;
        d = ak__cfg_edit_distance(e->service, strlen(e->service), services[i],
                                  strlen(services[i]));
        if (d < best_d) {
            best_d = d;
            best = services[i];
        }
    }
    v = ak__cfg_map_get(m, "service");
    skey = ak_xasprintf("%s.service", key);
    if (best)
        ak__cfg_report(ld, v->line, v->col, skey,
                       "must be one of ec2, rds, elasticache; did you mean '%s'?", best);
    else
        ak__cfg_report(ld, v->line, v->col, skey, "must be one of ec2, rds, elasticache");
    free(skey);
    ak_freep(&e->service);
}

static bool inventory_same(const struct ak_cfg_inventory *a, const struct ak_cfg_inventory *b)
{
    return a->service && a->account && a->region && ak_streq(a->service, b->service) &&
           ak_streq(a->account, b->account) && ak_streq(a->region, b->region);
}

static void load_inventory_entry(struct ak__cfg_loader *ld, const struct ak_cfg_node *m,
                                 size_t idx, struct ak_cfg_inventory *e)
{
    const struct ak_cfg *c = ld->c;
    char *key = ak_xasprintf("inventory[%zu]", idx);

    e->line = (int)m->line;
    if (!ak__cfg_check_map(ld, m, key, inventory_keys, AK_ARRAY_SIZE(inventory_keys)))
        goto out;
    inventory_service(ld, m, key, e);
    ak__cfg_get_str(ld, m, key, "account", ak__cfg_check_account_id, true, &e->account);
    ak__cfg_get_str(ld, m, key, "region", check_region, true, &e->region);
    for (size_t j = 0; j < idx; j++) {
        if (inventory_same(e, &c->inventory[j])) {
            ak__cfg_report(ld, m->line, m->col, key,
                           "duplicate entry (same service, account and region as line %d)",
                           c->inventory[j].line);
            break;
        }
    }
out:
    free(key);
}

static void load_inventory(struct ak__cfg_loader *ld, const struct ak_cfg_node *v)
{
    struct ak_cfg *c = ld->c;

    if (v->kind != AK_CFG_NODE_SEQ) {
        ak__cfg_report(ld, v->line, v->col, "inventory",
                       "expected a list of {service, account, region}, got %s",
                       ak__cfg_kind_name(v));
        return;
    }
    if (v->n > INVENTORY_MAX) {
        ak__cfg_report(ld, v->line, v->col, "inventory", "more than %d entries", INVENTORY_MAX);
        return;
    }
    c->inventory = ak_xcalloc(v->n ? v->n : 1, sizeof(*c->inventory));
    for (size_t i = 0; i < v->n && !ak__cfg_too_many(ld); i++) {
        load_inventory_entry(ld, v->kids[i], i, &c->inventory[i]);
        c->n_inventory = i + 1;
    }
}

/* ---- `config defaults` examples (every line a comment; see ak_cfg_dump_defaults) ---- */

const char ak__cfg_dump_accounts_example[] =
    "  # Accounts to poll (none by default: pollers run only when this list is not empty).\n"
    "  # id: 12 digits; regions: at least one; assume_role_arn, external_id, endpoint_url and\n"
    "  # profile are optional. See docs/config.md.\n"
    "  # accounts:\n"
    "  #   - id: '123456789012'\n"
    "  #     regions: [ap-northeast-1, us-east-1]\n"
    "  #     assume_role_arn: 'arn:aws:iam::123456789012:role/asakai-reader'\n"
    "\n";

const char ak__cfg_dump_inventory_example[] =
    "\n"
    "# What the team runs (service ec2, rds or elasticache, per account and region); empty by\n"
    "# default. An example:\n"
    "# inventory:\n"
    "#   - {service: elasticache, account: '123456789012', region: ap-northeast-1}\n";

/* ---- entry points ---- */

void ak__cfg_load_aws(struct ak__cfg_loader *ld)
{
    if (ld->aws_accounts && !ak_cfg_node_is_null(ld->aws_accounts))
        load_accounts(ld, ld->aws_accounts);
    if (ld->inventory && !ak_cfg_node_is_null(ld->inventory))
        load_inventory(ld, ld->inventory);
}

void ak__cfg_aws_release(struct ak_cfg *c)
{
    for (size_t i = 0; i < c->n_aws_accounts; i++) {
        struct ak_cfg_aws_account *a = &c->aws_accounts[i];

        free(a->id);
        ak_cfg_strlist_release(&a->regions);
        free(a->assume_role_arn);
        free(a->external_id);
        free(a->endpoint_url);
        free(a->profile);
    }
    free(c->aws_accounts);
    c->aws_accounts = NULL;
    c->n_aws_accounts = 0;
    for (size_t i = 0; i < c->n_inventory; i++) {
        free(c->inventory[i].service);
        free(c->inventory[i].account);
        free(c->inventory[i].region);
    }
    free(c->inventory);
    c->inventory = NULL;
    c->n_inventory = 0;
}
