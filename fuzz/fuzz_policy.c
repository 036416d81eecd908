/* fuzz_policy.c — trust policies: ak_iam_policy_parse, ak_iam_evaluate with a fixed web-identity
 * request, and ak_iam_audit (duplicate-key scanner, tolerant pass, rules, counter-examples). */
#include <stddef.h>
#include <stdint.h>

#include "asakai/ak_buf.h"
#include "asakai/ak_iam.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define P "token.actions.githubusercontent.com"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const sub[] = {"repo:acme/app:ref:refs/heads/main"};
    static const char *const aud[] = {"sts.amazonaws.com", "x"};
    static const struct ak_iam_key keys[] = {{P ":sub", sub, 1}, {P ":aud", aud, 2}};
    struct ak_iam_ctx ctx = {"Federated", "arn:aws:iam::123456789012:oidc-provider/" P,
                             "sts:AssumeRoleWithWebIdentity", keys, 2};
    struct ak_buf err = AK_BUF_INIT(1024);
    struct ak_iam_findings f = {0};
    struct ak_iam_policy *p = NULL;
    struct ak_iam_result res;

    if (size > AK_IAM_POLICY_MAX)
        return 0;
    if (ak_iam_policy_parse((const char *)data, size, &p, &err) == 0) {
        ak_iam_evaluate(p, &ctx, &res);
        ak_iam_policy_free(p);
    }
    ak_buf_reset(&err);
    ak_iam_audit((const char *)data, size, "fuzz.json", &f, &err);
    ak_iam_findings_release(&f);
    ak_buf_release(&err);
    return 0;
}
