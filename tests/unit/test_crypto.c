/* test_crypto.c — digests, base64, certificates and the four real signed SNS messages. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "asakai/ak_buf.h"
#include "asakai/ak_crypto.h"
#include "asakai/ak_err.h"
#include "asakai/ak_time.h"
#include "asakai/ak_util.h"
#include "ak_test.h"

#define D "tests/data/crypto/"

static const char *const sns_names[] = {"sns.amazonaws.com"};
static const char *const evil_names[] = {"evil.example.com"};

/* ---- digests and comparisons ---- */

AK_TEST(sha256_vectors)
{
    char hex[65];
    size_t n;
    char *sts = ak_test_read_file(D "sv2-notification.txt", &n);

    ak_sha256_hex("", 0, hex);
    AK_ASSERT_STR(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    ak_sha256_hex("abc", 3, hex);
    AK_ASSERT_STR(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    AK_ASSERT(sts != NULL);
    AK_ASSERT_EQ_INT(n, 213);
    ak_sha256_hex(sts, n, hex);
    free(sts);
    /* §2.5 of the maintenance-events reference pins this digest of the string-to-sign. */
    AK_ASSERT_STR(hex, "cd81a9ac552ce5a7cd17fe67fc06d3088509064ee268cfd9c62e9160826a1cdb");
}

AK_TEST(ct_equal_cases)
{
    AK_ASSERT(ak_ct_equal("abc", 3, "abc", 3));
    AK_ASSERT(ak_ct_equal("", 0, "", 0));
    AK_ASSERT(ak_ct_equal(NULL, 0, NULL, 0));
    AK_ASSERT(!ak_ct_equal("abc", 3, "abd", 3));
    AK_ASSERT(!ak_ct_equal("abc", 3, "abcd", 4));
    AK_ASSERT(!ak_ct_equal("abcd", 4, "abc", 3));
    AK_ASSERT(!ak_ct_equal("", 0, "a", 1));
    AK_ASSERT(!ak_ct_equal("\0a", 2, "\0b", 2));
    AK_ASSERT(!ak_ct_equal("xbc", 3, "abc", 3));
}

/* ---- base64 ---- */

AK_TEST(base64_rfc4648_vectors)
{
    static const char *const vec[][2] = {
        {"", ""},         {"Zg==", "f"},         {"Zm8=", "fo"},         {"Zm9v", "foo"},
        {"Zm9vYg==", "foob"}, {"Zm9vYmE=", "fooba"}, {"Zm9vYmFy", "foobar"},
    };

    for (size_t i = 0; i < sizeof(vec) / sizeof(vec[0]); i++) {
        unsigned char *out = NULL;
        size_t n = 99;
        int r = ak_base64_decode(vec[i][0], strlen(vec[i][0]), &out, &n);

        AK_ASSERT_OK(r);
        AK_ASSERT_EQ_INT(n, strlen(vec[i][1]));
        AK_ASSERT(memcmp(out, vec[i][1], n) == 0);
        AK_ASSERT_EQ_INT(out[n], 0);
        free(out);
    }
}

AK_TEST(base64_binary_and_signature_length)
{
    unsigned char *out = NULL;
    size_t n = 0;
    char *b64 = ak_test_read_file(D "sv2-notification.sig.b64", NULL);

    AK_ASSERT_OK(ak_base64_decode("AP8A", 4, &out, &n));
    AK_ASSERT_EQ_INT(n, 3);
    AK_ASSERT(out[0] == 0x00 && out[1] == 0xff && out[2] == 0x00);
    free(out);
    AK_ASSERT(b64 != NULL);
    AK_ASSERT_OK(ak_base64_decode(b64, strcspn(b64, "\n"), &out, &n));
    free(b64);
    AK_ASSERT_EQ_INT(n, 256); /* RSA-2048 */
    free(out);
}

AK_TEST(base64_rejects_invalid)
{
    static const char *const bad[] = {
        "Zg=",      "Zg",       "Z",       "Zm9v!A==", "Zg==Zg==", "Z===", "====",
        " Zm9v",    "Zm9v ",    "Zm9v\n",  "Zm9vYg=a", "Zm-_",     "Zm9v\tA==",
        "Zm9vYg=\x80",
    };

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        unsigned char *out = (unsigned char *)"untouched";
        size_t n = 77;
        int r = ak_base64_decode(bad[i], strlen(bad[i]), &out, &n);

        if (r != AK_EINVAL)
            printf("# input %zu \"%s\"\n", i, bad[i]);
        AK_ASSERT_EQ_INT(r, AK_EINVAL);
        AK_ASSERT_STR((const char *)out, "untouched");
        AK_ASSERT_EQ_INT(n, 77);
    }
    {
        unsigned char *out = NULL;
        size_t n = 0;
        /* an embedded NUL is a bad character, not an end of string */
        AK_ASSERT_EQ_INT(ak_base64_decode("Zm\0v", 4, &out, &n), AK_EINVAL);
        AK_ASSERT_EQ_INT(ak_base64_decode(NULL, 4, &out, &n), AK_EINVAL);
    }
}

/* ---- PEM parsing ---- */

static struct ak_cert *load_cert(const char *path)
{
    struct ak_buf err = AK_BUF_INIT(AK_BUF_NOMAX);
    struct ak_cert *c = NULL;
    size_t n = 0;
    char *pem = ak_test_read_file(path, &n);

    ak_crypto_global_init();
    if (pem && ak_cert_parse_pem(pem, n, &c, &err) != AK_OK)
        printf("# %s: %s\n", path, err.buf);
    free(pem);
    ak_buf_release(&err);
    return c;
}

AK_TEST(pem_parses_real_sns_cert)
{
    struct ak_cert *c = load_cert(D "sns-7506a1e3.pem");
    int64_t ms = 0;

    AK_ASSERT(c != NULL);
    AK_ASSERT_EQ_INT(ak_cert_not_before(c), 1762732800000LL); /* 2025-11-10T00:00:00Z */
    AK_ASSERT_EQ_INT(ak_cert_not_after(c), 1792022399000LL);  /* 2026-10-14T23:59:59Z */
    AK_ASSERT_OK(ak_time_parse("2026-10-14T23:59:59Z", &ms));
    AK_ASSERT_EQ_INT(ak_cert_not_after(c), ms);
    ak_cert_free(c);
    ak_cert_free(NULL);
}

static int parse_str(const char *s, size_t n, struct ak_buf *err)
{
    struct ak_cert *c = (struct ak_cert *)&err; /* must stay untouched on failure */
    struct ak_cert *const sentinel = c;
    int r = ak_cert_parse_pem(s, n, &c, err);

    if (r == AK_OK)
        ak_cert_free(c);
    else if (c != sentinel)
        return 1000; /* ret written on failure: a contract violation */
    return r;
}

AK_TEST(pem_rejects_everything_but_one_cert)
{
    struct ak_buf err = AK_BUF_INIT(AK_BUF_NOMAX);
    size_t n = 0, m = 0;
    char *pem = ak_test_read_file(D "sns-7506a1e3.pem", &n);
    char *other = ak_test_read_file(D "test-ca.pem", &m);
    char *buf = NULL;

    AK_ASSERT(pem && other);
    buf = malloc(n + m + 70000);
    AK_ASSERT(buf);

    /* the cert itself, with surrounding blank lines, parses */
    memcpy(buf, "\n\r\n", 3);
    memcpy(buf + 3, pem, n);
    memcpy(buf + 3 + n, "\r\n\n", 3);
    AK_ASSERT_OK(parse_str(buf, n + 6, &err));

    AK_ASSERT_EQ_INT(parse_str("", 0, &err), AK_EINVAL);
    AK_ASSERT_CONTAINS(err.buf, "BEGIN CERTIFICATE");
    ak_buf_reset(&err);
    AK_ASSERT_EQ_INT(parse_str("hello", 5, &err), AK_EINVAL);
    AK_ASSERT(err.len > 0);
    ak_buf_reset(&err);

    /* two certificates */
    memcpy(buf, pem, n);
    memcpy(buf + n, other, m);
    AK_ASSERT_EQ_INT(parse_str(buf, n + m, &err), AK_EINVAL);
    AK_ASSERT_CONTAINS(err.buf, "after the certificate");
    ak_buf_reset(&err);

    /* trailing junk, leading junk */
    memcpy(buf, pem, n);
    memcpy(buf + n, "x", 1);
    AK_ASSERT_EQ_INT(parse_str(buf, n + 1, &err), AK_EINVAL);
    ak_buf_reset(&err);
    memcpy(buf, "x", 1);
    memcpy(buf + 1, pem, n);
    AK_ASSERT_EQ_INT(parse_str(buf, n + 1, &err), AK_EINVAL);
    ak_buf_reset(&err);

    /* truncated, and one base64 character replaced by a non-base64 one */
    AK_ASSERT_EQ_INT(parse_str(pem, n / 2, &err), AK_EINVAL);
    AK_ASSERT_CONTAINS(err.buf, "does not parse");
    ak_buf_reset(&err);
    memcpy(buf, pem, n);
    buf[200] = '!';
    AK_ASSERT_EQ_INT(parse_str(buf, n, &err), AK_EINVAL);
    ak_buf_reset(&err);

    /* over the 64 KiB cap, even though it starts with a valid certificate */
    memcpy(buf, pem, n);
    memset(buf + n, '\n', 65536);
    AK_ASSERT_EQ_INT(parse_str(buf, n + 65536, &err), AK_ETOOBIG);
    ak_buf_reset(&err);

    /* a private key / other PEM type is not a certificate */
    {
        static const char key[] = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
        AK_ASSERT_EQ_INT(parse_str(key, strlen(key), &err), AK_EINVAL);
    }

    free(buf);
    free(pem);
    free(other);
    ak_buf_release(&err);
}

/* ---- signatures: the four real SNS messages (§2.5 of the reference) ---- */

struct vec {
    const char *name;
    enum ak_sig_alg alg;
};

static const struct vec vectors[] = {
    {"sv2-notification", AK_SIG_RSA_SHA256},
    {"sv1-notification-subject", AK_SIG_RSA_SHA1},
    {"sv1-subscription-confirmation", AK_SIG_RSA_SHA1},
    {"sv2-unsubscribe-confirmation", AK_SIG_RSA_SHA256},
};

struct loaded {
    char *msg;
    size_t msglen;
    unsigned char *sig;
    size_t siglen;
};

static int load_vec(const struct vec *v, struct loaded *l)
{
    char path[256];
    char *b64;
    int r;

    snprintf(path, sizeof(path), D "%s.txt", v->name);
    l->msg = ak_test_read_file(path, &l->msglen);
    snprintf(path, sizeof(path), D "%s.sig.b64", v->name);
    b64 = ak_test_read_file(path, NULL);
    if (!l->msg || !b64) {
        free(b64);
        return -1;
    }
    r = ak_base64_decode(b64, strcspn(b64, "\n"), &l->sig, &l->siglen);
    free(b64);
    return r;
}

static void free_vec(struct loaded *l)
{
    free(l->msg);
    free(l->sig);
}

AK_TEST(sns_vectors_verify)
{
    struct ak_cert *c = load_cert(D "sns-7506a1e3.pem");

    AK_ASSERT(c != NULL);
    for (size_t i = 0; i < AK_ARRAY_SIZE(vectors); i++) {
        struct ak_buf err = AK_BUF_INIT(AK_BUF_NOMAX);
        struct loaded l = {0};
        int r = load_vec(&vectors[i], &l);

        if (r == AK_OK)
            r = ak_cert_verify(c, vectors[i].alg, l.msg, l.msglen, l.sig, l.siglen, &err);
        if (r != AK_OK)
            printf("# %s: %s\n", vectors[i].name, err.buf);
        free_vec(&l);
        ak_buf_release(&err);
        AK_ASSERT_OK(r);
    }
    ak_cert_free(c);
}

static int verify_one(const struct ak_cert *c, enum ak_sig_alg alg, const struct loaded *l,
                      size_t siglen, struct ak_buf *err)
{
    ak_buf_reset(err);
    return ak_cert_verify(c, alg, l->msg, l->msglen, l->sig, siglen, err);
}

AK_TEST(sns_vectors_tampered_fail)
{
    struct ak_cert *c = load_cert(D "sns-7506a1e3.pem");
    struct ak_cert *leaf = load_cert(D "test-leaf.pem");
    struct ak_buf err = AK_BUF_INIT(AK_BUF_NOMAX);

    AK_ASSERT(c != NULL && leaf != NULL);
    for (size_t i = 0; i < AK_ARRAY_SIZE(vectors); i++) {
        const struct vec *v = &vectors[i];
        enum ak_sig_alg wrong = v->alg == AK_SIG_RSA_SHA1 ? AK_SIG_RSA_SHA256 : AK_SIG_RSA_SHA1;
        struct loaded l = {0};

        AK_ASSERT_OK(load_vec(v, &l));
        AK_ASSERT_OK(verify_one(c, v->alg, &l, l.siglen, &err));

        l.msg[l.msglen / 2] ^= 0x01; /* one message byte */
        AK_ASSERT_EQ_INT(verify_one(c, v->alg, &l, l.siglen, &err), AK_ESIG);
        AK_ASSERT_CONTAINS(err.buf, "does not verify");
        l.msg[l.msglen / 2] ^= 0x01;
        l.msg[l.msglen - 1] = 'X'; /* the final LF */
        AK_ASSERT_EQ_INT(verify_one(c, v->alg, &l, l.siglen, &err), AK_ESIG);
        l.msg[l.msglen - 1] = '\n';

        l.sig[17] ^= 0x80; /* one signature byte */
        AK_ASSERT_EQ_INT(verify_one(c, v->alg, &l, l.siglen, &err), AK_ESIG);
        l.sig[17] ^= 0x80;

        AK_ASSERT_EQ_INT(verify_one(c, wrong, &l, l.siglen, &err), AK_ESIG);
        AK_ASSERT_EQ_INT(verify_one(c, v->alg, &l, l.siglen - 1, &err), AK_ESIG);
        AK_ASSERT_CONTAINS(err.buf, "255 bytes");
        AK_ASSERT_EQ_INT(verify_one(c, v->alg, &l, 0, &err), AK_ESIG);
        /* right message and signature, wrong certificate */
        AK_ASSERT_EQ_INT(verify_one(leaf, v->alg, &l, l.siglen, &err), AK_ESIG);

        /* and the original still verifies: nothing above left state behind */
        AK_ASSERT_OK(verify_one(c, v->alg, &l, l.siglen, &err));
        free_vec(&l);
    }
    AK_ASSERT_EQ_INT(ak_cert_verify(c, (enum ak_sig_alg)7, "x", 1, (const unsigned char *)"x", 1,
                                    &err),
                     AK_EINVAL);
    ak_cert_free(c);
    ak_cert_free(leaf);
    ak_buf_release(&err);
}

static void *verify_thread(void *arg)
{
    const struct ak_cert *c = arg;
    struct loaded l = {0};
    intptr_t bad = 0;

    if (load_vec(&vectors[0], &l) != AK_OK)
        return (void *)1;
    for (int i = 0; i < 50; i++) {
        if (ak_cert_verify(c, vectors[0].alg, l.msg, l.msglen, l.sig, l.siglen, NULL) != AK_OK)
            bad++;
        l.sig[3] ^= 1;
        if (ak_cert_verify(c, vectors[0].alg, l.msg, l.msglen, l.sig, l.siglen, NULL) != AK_ESIG)
            bad++;
        l.sig[3] ^= 1;
    }
    free_vec(&l);
    return (void *)bad;
}

AK_TEST(verify_from_many_threads)
{
    struct ak_cert *c = load_cert(D "sns-7506a1e3.pem");
    pthread_t t[4];
    void *res;
    intptr_t bad = 0;

    AK_ASSERT(c != NULL);
    for (int i = 0; i < 4; i++)
        AK_ASSERT(pthread_create(&t[i], NULL, verify_thread, c) == 0);
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], &res);
        bad += (intptr_t)res;
    }
    ak_cert_free(c);
    AK_ASSERT_EQ_INT(bad, 0);
}

/* ---- certificate policy checks ---- */

static int64_t day_ms(const char *s)
{
    int64_t ms = 0;

    if (ak_time_parse(s, &ms) != AK_OK)
        abort();
    return ms;
}

AK_TEST(cert_check_names_and_dates)
{
    struct ak_cert *c = load_cert(D "sns-7506a1e3.pem");
    struct ak_buf err = AK_BUF_INIT(AK_BUF_NOMAX);
    struct ak_cert_check chk = {.names = sns_names, .n_names = 1};

    AK_ASSERT(c != NULL);
    AK_ASSERT_OK(ak_cert_check(c, &chk, &err));
    AK_ASSERT_EQ_INT(err.len, 0);

    chk.names = evil_names;
    AK_ASSERT_EQ_INT(ak_cert_check(c, &chk, &err), AK_ESIG);
    AK_ASSERT_CONTAINS(err.buf, "not issued for \"evil.example.com\"");
    ak_buf_reset(&err);

    /* one of several names is enough; an empty list allows nothing; NULL allows any */
    {
        static const char *const two[] = {"evil.example.com", "sns.amazonaws.com"};
        static const char *const near[] = {"sns.amazonaws.com.evil.com", "xsns.amazonaws.com",
                                           "amazonaws.com", "*.amazonaws.com"};
        chk.names = two;
        chk.n_names = 2;
        AK_ASSERT_OK(ak_cert_check(c, &chk, &err));
        chk.names = near;
        chk.n_names = 4;
        AK_ASSERT_EQ_INT(ak_cert_check(c, &chk, &err), AK_ESIG);
        ak_buf_reset(&err);
        chk.n_names = 0;
        AK_ASSERT_EQ_INT(ak_cert_check(c, &chk, &err), AK_ESIG);
        ak_buf_reset(&err);
        chk.names = NULL;
        AK_ASSERT_OK(ak_cert_check(c, &chk, &err));
    }

    chk.names = sns_names;
    chk.n_names = 1;
    chk.now_ms = day_ms("2026-11-26");
    AK_ASSERT_EQ_INT(ak_cert_check(c, &chk, &err), AK_ESIG);
    AK_ASSERT_CONTAINS(err.buf, "expired at 2026-10-14T23:59:59Z");
    ak_buf_reset(&err);
    chk.now_ms = day_ms("2025-11-09");
    AK_ASSERT_EQ_INT(ak_cert_check(c, &chk, &err), AK_ESIG);
    AK_ASSERT_CONTAINS(err.buf, "not valid before 2025-11-10T00:00:00Z");
    ak_buf_reset(&err);
    chk.now_ms = day_ms("2026-03-06");
    AK_ASSERT_OK(ak_cert_check(c, &chk, &err));
    chk.now_ms = 0;
    AK_ASSERT_OK(ak_cert_check(c, &chk, &err));

    AK_ASSERT_EQ_INT(ak_cert_check(c, NULL, &err), AK_EINVAL);
    ak_cert_free(c);
    ak_buf_release(&err);
}

static char *data_path(const char *name)
{
    static char p[3][1024];
    static int k;

    k = (k + 1) % 3;
    snprintf(p[k], sizeof(p[k]), "%s/" D "%s", ak_test_srcdir(), name);
    return p[k];
}

AK_TEST(cert_check_chain)
{
    struct ak_cert *leaf = load_cert(D "test-leaf.pem");
    struct ak_cert *sns = load_cert(D "sns-7506a1e3.pem");
    struct ak_buf err = AK_BUF_INIT(AK_BUF_NOMAX);
    struct ak_cert_check chk = {
        .ca_file = data_path("test-ca.pem"), .verify_chain = true, .names = sns_names,
        .n_names = 1};

    AK_ASSERT(leaf != NULL && sns != NULL);
    AK_ASSERT_OK(ak_cert_check(leaf, &chk, &err));
    chk.now_ms = day_ms("2030-01-01");
    AK_ASSERT_OK(ak_cert_check(leaf, &chk, &err));
    AK_ASSERT_EQ_INT(err.len, 0);

    /* the leaf's chain is fine but its name is not on the list */
    chk.names = evil_names;
    AK_ASSERT_EQ_INT(ak_cert_check(leaf, &chk, &err), AK_ESIG);
    ak_buf_reset(&err);
    chk.names = sns_names;

    /* after the leaf's 20 years: the chain check also fails on time */
    chk.now_ms = day_ms("2047-01-01");
    AK_ASSERT_EQ_INT(ak_cert_check(leaf, &chk, &err), AK_ESIG);
    ak_buf_reset(&err);
    chk.now_ms = 0;

    /* the system store does not know the test CA */
    chk.ca_file = NULL;
    AK_ASSERT_EQ_INT(ak_cert_check(leaf, &chk, &err), AK_ESIG);
    AK_ASSERT_CONTAINS(err.buf, "chain does not verify");
    ak_buf_reset(&err);

    /* another CA */
    chk.ca_file = data_path("other-ca.pem");
    AK_ASSERT_EQ_INT(ak_cert_check(leaf, &chk, &err), AK_ESIG);
    AK_ASSERT_CONTAINS(err.buf, "chain does not verify");
    ak_buf_reset(&err);

    /* an unreadable CA file fails closed */
    chk.ca_file = data_path("no-such-ca.pem");
    AK_ASSERT_EQ_INT(ak_cert_check(leaf, &chk, &err), AK_ESIG);
    AK_ASSERT_CONTAINS(err.buf, "Cannot load");
    ak_buf_reset(&err);

    /* the real SNS leaf does not chain to the test CA (nor, without its intermediate, anywhere) */
    chk.ca_file = data_path("test-ca.pem");
    AK_ASSERT_EQ_INT(ak_cert_check(sns, &chk, &err), AK_ESIG);
    ak_buf_reset(&err);

    /* verify_chain false: the names and dates alone decide */
    chk.ca_file = data_path("other-ca.pem");
    chk.verify_chain = false;
    AK_ASSERT_OK(ak_cert_check(leaf, &chk, &err));

    ak_cert_free(leaf);
    ak_cert_free(sns);
    ak_buf_release(&err);
}

/* ---- HMAC, random, base64 encode ---- */

static void fill(unsigned char *p, unsigned char v, size_t n)
{
    memset(p, v, n);
}

AK_TEST(hmac_sha256_rfc4231)
{
    static const char tc6[] = "Test Using Larger Than Block-Size Key - Hash Key First";
    static const char tc7[] = "This is a test using a larger than block-size key and a larger "
                              "than block-size data. The key needs to be hashed before being "
                              "used by the HMAC algorithm.";
    unsigned char k20[20], kaa[131], d50[50], k25[25];
    char out[65];

    /* test case 1 */
    fill(k20, 0x0b, sizeof(k20));
    ak_hmac_sha256_hex(k20, sizeof(k20), "Hi There", 8, out);
    AK_ASSERT_STR(out, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
    /* 2: a key shorter than the output */
    ak_hmac_sha256_hex("Jefe", 4, "what do ya want for nothing?", 28, out);
    AK_ASSERT_STR(out, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    /* 3 */
    fill(k20, 0xaa, sizeof(k20));
    fill(d50, 0xdd, sizeof(d50));
    ak_hmac_sha256_hex(k20, sizeof(k20), d50, sizeof(d50), out);
    AK_ASSERT_STR(out, "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe");
    /* 4 */
    for (size_t i = 0; i < sizeof(k25); i++)
        k25[i] = (unsigned char)(i + 1);
    fill(d50, 0xcd, sizeof(d50));
    ak_hmac_sha256_hex(k25, sizeof(k25), d50, sizeof(d50), out);
    AK_ASSERT_STR(out, "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b");
    /* 6 and 7: a key longer than the block is hashed first */
    fill(kaa, 0xaa, sizeof(kaa));
    ak_hmac_sha256_hex(kaa, sizeof(kaa), tc6, strlen(tc6), out);
    AK_ASSERT_STR(out, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
    ak_hmac_sha256_hex(kaa, sizeof(kaa), tc7, strlen(tc7), out);
    AK_ASSERT_STR(out, "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2");
    /* empty key and data (Python's hmac gives the same), NULL allowed for empty */
    ak_hmac_sha256_hex(NULL, 0, NULL, 0, out);
    AK_ASSERT_STR(out, "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
    ak_hmac_sha256_hex("", 0, "", 0, out);
    AK_ASSERT_STR(out, "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
    /* one changed key byte changes the result */
    k20[19] ^= 1;
    ak_hmac_sha256_hex(k20, sizeof(k20), d50, sizeof(d50), out);
    AK_ASSERT(strcmp(out, "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe") != 0);
}

AK_TEST(random_hex_length_charset_unique)
{
    char a[2 * 600 + 1], b[2 * 600 + 1], z[1] = {'x'};

    AK_ASSERT_OK(ak_random_hex(600, a)); /* more than one internal chunk */
    AK_ASSERT_OK(ak_random_hex(600, b));
    AK_ASSERT_EQ_INT(strlen(a), 1200);
    AK_ASSERT_EQ_INT(strspn(a, "0123456789abcdef"), 1200);
    AK_ASSERT(strcmp(a, b) != 0);
    /* 16 bytes: a collision among a few hundred draws would mean a broken generator */
    for (int i = 0; i < 200; i++) {
        char x[33], y[33];

        AK_ASSERT_OK(ak_random_hex(16, x));
        AK_ASSERT_OK(ak_random_hex(16, y));
        AK_ASSERT_EQ_INT(strlen(x), 32);
        AK_ASSERT(strcmp(x, y) != 0);
    }
    AK_ASSERT_OK(ak_random_hex(0, z));
    AK_ASSERT_EQ_INT(z[0], 0);
    AK_ASSERT_EQ_INT(ak_random_hex(4, NULL), AK_EINVAL);
}

AK_TEST(base64_encode_vectors_and_round_trip)
{
    static const char *const vec[][2] = {
        {"", ""},         {"Zg==", "f"},         {"Zm8=", "fo"},         {"Zm9v", "foo"},
        {"Zm9vYg==", "foob"}, {"Zm9vYmE=", "fooba"}, {"Zm9vYmFy", "foobar"},
    };
    unsigned char bin[1000];

    for (size_t i = 0; i < sizeof(vec) / sizeof(vec[0]); i++) {
        char *e = ak_base64_encode(vec[i][1], strlen(vec[i][1]));

        AK_ASSERT_STR(e, vec[i][0]);
        free(e);
    }
    for (size_t i = 0; i < sizeof(bin); i++)
        bin[i] = (unsigned char)(i * 7 + 3);
    for (size_t n = 0; n <= sizeof(bin); n += 37) {
        char *e = ak_base64_encode(bin, n);
        unsigned char *d = NULL;
        size_t dlen = 0;

        AK_ASSERT_EQ_INT(strlen(e), (n + 2) / 3 * 4);
        AK_ASSERT_OK(ak_base64_decode(e, strlen(e), &d, &dlen));
        AK_ASSERT_EQ_INT(dlen, n);
        AK_ASSERT(n == 0 || memcmp(d, bin, n) == 0);
        free(e);
        free(d);
    }
    {
        static const unsigned char hi[] = {0xfb, 0xff, 0xbf};
        char *e = ak_base64_encode(hi, 3);

        AK_ASSERT_STR(e, "+/+/"); /* the two non-alphanumeric characters, no URL alphabet */
        free(e);
    }
}

/* ---- keyless CI (issue 5): base64url, JWK keys, JWS verification, sealing ---- */

#define JD "tests/data/jwt/"

/* RFC 7515 Appendix A.2 (RS256) and A.3 (ES256): the published keys, inputs and signatures. */
static const char a2_n[] =
    "ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4"
    "QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdb"
    "BYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-D"
    "WNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ";
static const char a2_e[] = "AQAB";
static const char a2_input[] =
    "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNv"
    "bS9pc19yb290Ijp0cnVlfQ";
static const char a2_sig[] =
    "cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5ju"
    "jGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07"
    "Qe7K0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QOYEUipU"
    "TI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_IoypGlUPQGe77Rw";
static const char a3_x[] = "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU";
static const char a3_y[] = "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0";
static const char a3_input[] =
    "eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNv"
    "bS9pc19yb290Ijp0cnVlfQ";
static const char a3_sig[] =
    "DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q";

/* Decodes base64url that the test knows to be valid (aborts the process otherwise). */
static unsigned char *b64u(const char *s, size_t *ret_len)
{
    unsigned char *out = NULL;

    if (ak_base64url_decode(s, strlen(s), &out, ret_len) != 0)
        abort();
    return out;
}

static struct ak_pkey *rsa_from_b64u(const char *n64, const char *e64, int *ret_r,
                                     struct ak_buf *err)
{
    size_t nl, el;
    unsigned char *n = b64u(n64, &nl), *e = b64u(e64, &el);
    struct ak_pkey *k = NULL;

    *ret_r = ak_pkey_rsa(n, nl, e, el, &k, err);
    free(n);
    free(e);
    return k;
}

static struct ak_pkey *ec_from_b64u(const char *crv, const char *x64, const char *y64,
                                    int *ret_r, struct ak_buf *err)
{
    size_t xl, yl;
    unsigned char *x = b64u(x64, &xl), *y = b64u(y64, &yl);
    struct ak_pkey *k = NULL;

    *ret_r = ak_pkey_ec(crv, x, xl, y, yl, &k, err);
    free(x);
    free(y);
    return k;
}

AK_TEST(base64url_vectors_and_edges)
{
    static const char *const vec[][2] = {
        {"", ""},         {"Zg", "f"},         {"Zm8", "fo"},         {"Zm9v", "foo"},
        {"Zm9vYg", "foob"}, {"Zm9vYmE", "fooba"}, {"Zm9vYmFy", "foobar"},
    };
    static const char *const bad[] = {
        "Zg==", "Zm8=", "Zg=", "+/+/", "Zm9v\n", " Zm9v", "Zm 9v", "Z", "Zm9vY", "Zh", "Zm9", "Zm-",
        "Zm8/", "Zm\tv", "Zm9v.",
    };
    static const unsigned char hi[] = {0xfb, 0xff, 0xbf};
    unsigned char bin[300], *d = NULL;
    size_t dlen = 0;

    for (size_t i = 0; i < AK_ARRAY_SIZE(vec); i++) {
        char *e = ak_base64url_encode(vec[i][1], strlen(vec[i][1]));

        AK_ASSERT_STR(e, vec[i][0]);
        free(e);
        AK_ASSERT_OK(ak_base64url_decode(vec[i][0], strlen(vec[i][0]), &d, &dlen));
        AK_ASSERT_EQ_INT(dlen, strlen(vec[i][1]));
        AK_ASSERT_MEM(d, vec[i][1], dlen);
        AK_ASSERT_EQ_INT(d[dlen], 0);
        free(d);
    }
    {
        char *e = ak_base64url_encode(hi, 3);

        AK_ASSERT_STR(e, "-_-_"); /* the URL alphabet */
        free(e);
        AK_ASSERT_OK(ak_base64url_decode("-_-_", 4, &d, &dlen));
        AK_ASSERT_EQ_INT(dlen, 3);
        AK_ASSERT_MEM(d, hi, 3);
        free(d);
    }
    for (size_t i = 0; i < AK_ARRAY_SIZE(bad); i++) {
        d = NULL;
        AK_ASSERT_EQ_INT(ak_base64url_decode(bad[i], strlen(bad[i]), &d, &dlen), AK_EINVAL);
        AK_ASSERT_NULL(d);
    }
    /* a NUL inside the length, and NULL with a length */
    AK_ASSERT_EQ_INT(ak_base64url_decode("Zm\0v", 4, &d, &dlen), AK_EINVAL);
    AK_ASSERT_EQ_INT(ak_base64url_decode(NULL, 4, &d, &dlen), AK_EINVAL);
    for (size_t i = 0; i < sizeof(bin); i++)
        bin[i] = (unsigned char)(i * 131 + 7);
    for (size_t n = 0; n <= sizeof(bin); n++) {
        char *e = ak_base64url_encode(bin, n);

        AK_ASSERT_EQ_INT(strlen(e), (n * 4 + 2) / 3);
        AK_ASSERT_EQ_INT(strcspn(e, "+/="), strlen(e));
        AK_ASSERT_OK(ak_base64url_decode(e, strlen(e), &d, &dlen));
        AK_ASSERT_EQ_INT(dlen, n);
        AK_ASSERT(n == 0 || memcmp(d, bin, n) == 0);
        free(e);
        free(d);
    }
}

AK_TEST(random_bytes_fill_and_differ)
{
    unsigned char a[64], b[64], zero[64] = {0};

    AK_ASSERT_OK(ak_random_bytes(a, sizeof(a)));
    AK_ASSERT_OK(ak_random_bytes(b, sizeof(b)));
    AK_ASSERT(memcmp(a, b, sizeof(a)) != 0);
    AK_ASSERT(memcmp(a, zero, sizeof(a)) != 0);
    AK_ASSERT_OK(ak_random_bytes(NULL, 0));
    AK_ASSERT_EQ_INT(ak_random_bytes(NULL, 1), AK_EINVAL);
}

AK_TEST(jws_alg_names)
{
    static const char *const good[] = {"RS256", "RS384", "RS512", "ES256", "ES384", "ES512"};
    static const char *const refused[] = {"none", "None", "HS256", "HS512", "PS256", "EdDSA",
                                          "rs256", "RS256 ", "", "ES256K"};

    for (size_t i = 0; i < AK_ARRAY_SIZE(good); i++) {
        enum ak_jws_alg a = ak_jws_alg_parse(good[i]);

        AK_ASSERT(a != 0);
        AK_ASSERT_STR(ak_jws_alg_name(a), good[i]);
    }
    for (size_t i = 0; i < AK_ARRAY_SIZE(refused); i++)
        AK_ASSERT_EQ_INT(ak_jws_alg_parse(refused[i]), 0);
    AK_ASSERT_EQ_INT(ak_jws_alg_parse(NULL), 0);
    AK_ASSERT_NULL(ak_jws_alg_name(0));
}

AK_TEST(rfc7515_a2_rs256_verifies)
{
    struct ak_buf err = AK_BUF_INIT(AK_BUF_NOMAX);
    size_t sl;
    unsigned char *sig = b64u(a2_sig, &sl);
    char msg[sizeof(a2_input)];
    int r;
    struct ak_pkey *k = rsa_from_b64u(a2_n, a2_e, &r, &err);

    AK_ASSERT_OK(r);
    AK_ASSERT_EQ_INT(ak_pkey_kind(k), AK_PKEY_RSA);
    AK_ASSERT_NULL(ak_pkey_curve(k));
    AK_ASSERT_EQ_INT(sl, 256);
    AK_ASSERT_OK(ak_pkey_verify(k, AK_JWS_RS256, a2_input, strlen(a2_input), sig, sl, &err));
    /* tampered message: one character of the payload */
    memcpy(msg, a2_input, sizeof(msg));
    msg[40] ^= 1;
    AK_ASSERT_EQ_INT(ak_pkey_verify(k, AK_JWS_RS256, msg, strlen(msg), sig, sl, &err), AK_ESIG);
    AK_ASSERT_CONTAINS(err.buf, "RS256 signature does not verify");
    /* tampered signature, first and last byte */
    ak_buf_reset(&err);
    sig[0] ^= 0x80;
    AK_ASSERT_EQ_INT(ak_pkey_verify(k, AK_JWS_RS256, a2_input, strlen(a2_input), sig, sl, NULL),
                     AK_ESIG);
    sig[0] ^= 0x80;
    sig[sl - 1] ^= 1;
    AK_ASSERT_EQ_INT(ak_pkey_verify(k, AK_JWS_RS256, a2_input, strlen(a2_input), sig, sl, NULL),
                     AK_ESIG);
    sig[sl - 1] ^= 1;
    /* the same signature under another hash, or read as ECDSA */
    AK_ASSERT_EQ_INT(ak_pkey_verify(k, AK_JWS_RS384, a2_input, strlen(a2_input), sig, sl, NULL),
                     AK_ESIG);
    AK_ASSERT_EQ_INT(ak_pkey_verify(k, AK_JWS_ES256, a2_input, strlen(a2_input), sig, 64, &err),
                     AK_ESIG);
    AK_ASSERT_CONTAINS(err.buf, "ES256 needs an EC key");
    /* bad signature lengths: one short, one long, empty */
    ak_buf_reset(&err);
    AK_ASSERT_EQ_INT(
        ak_pkey_verify(k, AK_JWS_RS256, a2_input, strlen(a2_input), sig, sl - 1, &err), AK_EINVAL);
    AK_ASSERT_CONTAINS(err.buf, "255 bytes, the key needs 256");
    AK_ASSERT_EQ_INT(ak_pkey_verify(k, AK_JWS_RS256, a2_input, strlen(a2_input), sig, 0, NULL),
                     AK_EINVAL);
    AK_ASSERT_EQ_INT(ak_pkey_verify(k, 0, a2_input, strlen(a2_input), sig, sl, NULL), AK_EINVAL);
    /* the message proper still verifies afterwards (no state left behind) */
    AK_ASSERT_OK(ak_pkey_verify(k, AK_JWS_RS256, a2_input, strlen(a2_input), sig, sl, NULL));
    ak_pkey_free(k);
    free(sig);
    ak_buf_release(&err);
}

AK_TEST(rfc7515_a3_es256_verifies)
{
    struct ak_buf err = AK_BUF_INIT(AK_BUF_NOMAX);
    size_t sl;
    unsigned char *sig = b64u(a3_sig, &sl), zero[64] = {0};
    int r;
    struct ak_pkey *k = ec_from_b64u("P-256", a3_x, a3_y, &r, &err);
    struct ak_pkey *rk = rsa_from_b64u(a2_n, a2_e, &r, NULL);

    AK_ASSERT(k != NULL);
    AK_ASSERT_EQ_INT(ak_pkey_kind(k), AK_PKEY_EC);
    AK_ASSERT_STR(ak_pkey_curve(k), "P-256");
    AK_ASSERT_EQ_INT(sl, 64);
    AK_ASSERT_OK(ak_pkey_verify(k, AK_JWS_ES256, a3_input, strlen(a3_input), sig, sl, &err));
    /* the A.2 input (another header) under the A.3 signature */
    AK_ASSERT_EQ_INT(ak_pkey_verify(k, AK_JWS_ES256, a2_input, strlen(a2_input), sig, sl, &err),
                     AK_ESIG);
    /* r and s swapped; s flipped; all zero */
    {
        unsigned char sw[64];

        memcpy(sw, sig + 32, 32);
        memcpy(sw + 32, sig, 32);
        AK_ASSERT_EQ_INT(
            ak_pkey_verify(k, AK_JWS_ES256, a3_input, strlen(a3_input), sw, 64, NULL), AK_ESIG);
        memcpy(sw, sig, 64);
        sw[63] ^= 4;
        AK_ASSERT_EQ_INT(
            ak_pkey_verify(k, AK_JWS_ES256, a3_input, strlen(a3_input), sw, 64, NULL), AK_ESIG);
        AK_ASSERT_EQ_INT(
            ak_pkey_verify(k, AK_JWS_ES256, a3_input, strlen(a3_input), zero, 64, NULL), AK_ESIG);
    }
    /* lengths: DER-sized (70/71/72) and off by one are malformed for JOSE */
    AK_ASSERT_EQ_INT(ak_pkey_verify(k, AK_JWS_ES256, a3_input, strlen(a3_input), sig, 63, NULL),
                     AK_EINVAL);
    AK_ASSERT_EQ_INT(ak_pkey_verify(k, AK_JWS_ES256, a3_input, strlen(a3_input), zero, 0, NULL),
                     AK_EINVAL);
    {
        unsigned char big[72] = {0};

        memcpy(big, sig, 64);
        AK_ASSERT_EQ_INT(
            ak_pkey_verify(k, AK_JWS_ES256, a3_input, strlen(a3_input), big, 72, NULL), AK_EINVAL);
    }
    /* wrong algorithm for the key: ES384/ES512 need other curves, RS* need RSA */
    ak_buf_reset(&err);
    AK_ASSERT_EQ_INT(ak_pkey_verify(k, AK_JWS_ES384, a3_input, strlen(a3_input), sig, sl, &err),
                     AK_ESIG);
    AK_ASSERT_CONTAINS(err.buf, "ES384 needs a P-384 key, this key is on P-256");
    AK_ASSERT_EQ_INT(ak_pkey_verify(k, AK_JWS_ES512, a3_input, strlen(a3_input), sig, sl, NULL),
                     AK_ESIG);
    AK_ASSERT_EQ_INT(ak_pkey_verify(k, AK_JWS_RS256, a3_input, strlen(a3_input), sig, sl, NULL),
                     AK_ESIG);
    /* the wrong key: the A.3 signature under the A.2 RSA key */
    AK_ASSERT(rk != NULL);
    AK_ASSERT_EQ_INT(ak_pkey_verify(rk, AK_JWS_ES256, a3_input, strlen(a3_input), sig, sl, NULL),
                     AK_ESIG);
    ak_pkey_free(rk);
    ak_pkey_free(k);
    free(sig);
    ak_buf_release(&err);
}

/* Splits line into at most max space-separated fields (in place). */
static size_t split_fields(char *line, char **f, size_t max)
{
    size_t n = 0;

    for (char *p = line; *p && n < max;) {
        while (*p == ' ')
            p++;
        if (!*p)
            break;
        f[n++] = p;
        p += strcspn(p, " ");
        if (*p)
            *p++ = 0;
    }
    return n;
}

AK_TEST(fixture_vectors_rs384_rs512_es384_es512)
{
    struct ak_buf err = AK_BUF_INIT(AK_BUF_NOMAX);
    char *text = ak_test_read_file(JD "vectors.txt", NULL), *save = NULL;
    int seen = 0, small = 0;

    AK_ASSERT(text != NULL);
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *f[6] = {0};
        size_t nf = split_fields(line, f, 6), sl;
        struct ak_pkey *k = NULL;
        unsigned char *sig;
        enum ak_jws_alg alg, other;
        int r;

        if (strcmp(f[0], "SMALL") == 0) {
            AK_ASSERT_EQ_INT(nf, 4);
            ak_buf_reset(&err);
            k = rsa_from_b64u(f[2], f[3], &r, &err);
            AK_ASSERT_EQ_INT(r, AK_EINVAL);
            AK_ASSERT_NULL(k);
            AK_ASSERT_CONTAINS(err.buf, "1024 bits");
            small++;
            continue;
        }
        AK_ASSERT_EQ_INT(nf, 6);
        alg = ak_jws_alg_parse(f[0]);
        AK_ASSERT(alg != 0);
        if (strcmp(f[1], "RSA") == 0)
            k = rsa_from_b64u(f[2], f[3], &r, &err);
        else
            k = ec_from_b64u(f[1], f[2], f[3], &r, &err);
        AK_ASSERT_OK(r);
        sig = b64u(f[5], &sl);
        AK_ASSERT_OK(ak_pkey_verify(k, alg, f[4], strlen(f[4]), sig, sl, &err));
        /* the same key and signature under the neighbouring algorithm, tampered input, sig */
        other = alg == AK_JWS_RS384 ? AK_JWS_RS512 : alg == AK_JWS_RS512 ? AK_JWS_RS256
              : alg == AK_JWS_ES384 ? AK_JWS_ES256 : AK_JWS_ES384;
        AK_ASSERT_EQ_INT(ak_pkey_verify(k, other, f[4], strlen(f[4]), sig, sl, NULL), AK_ESIG);
        AK_ASSERT_EQ_INT(ak_pkey_verify(k, alg, f[4], strlen(f[4]) - 1, sig, sl, NULL), AK_ESIG);
        sig[sl / 2] ^= 0x10;
        AK_ASSERT_EQ_INT(ak_pkey_verify(k, alg, f[4], strlen(f[4]), sig, sl, NULL), AK_ESIG);
        AK_ASSERT_EQ_INT(ak_pkey_verify(k, alg, f[4], strlen(f[4]), sig, sl - 1, NULL), AK_EINVAL);
        if (alg == AK_JWS_ES512)
            AK_ASSERT_EQ_INT(sl, 132);
        if (alg == AK_JWS_ES384)
            AK_ASSERT_EQ_INT(sl, 96);
        free(sig);
        ak_pkey_free(k);
        seen++;
    }
    free(text);
    AK_ASSERT_EQ_INT(seen, 4);
    AK_ASSERT_EQ_INT(small, 1);
    ak_buf_release(&err);
}

AK_TEST(pkey_rsa_refuses_bad_keys)
{
    struct ak_buf err = AK_BUF_INIT(AK_BUF_NOMAX);
    size_t nl, sl;
    unsigned char *n = b64u(a2_n, &nl), *sig = b64u(a2_sig, &sl), padded[300];
    static const unsigned char e3[] = {3}, e1[] = {1}, e_even[] = {1, 0, 0}, e_zero[] = {0, 0},
                               e_big[] = {1, 0, 0, 0, 0, 0, 0, 0, 1}, e_lead0[] = {0, 1, 0, 1};
    struct ak_pkey *k = NULL;

    AK_ASSERT_EQ_INT(nl, 256);
    AK_ASSERT_EQ_INT(ak_pkey_rsa(n, nl, e1, 1, &k, &err), AK_EINVAL);
    AK_ASSERT_CONTAINS(err.buf, "odd and greater than 1");
    AK_ASSERT_EQ_INT(ak_pkey_rsa(n, nl, e_even, 3, &k, NULL), AK_EINVAL);
    AK_ASSERT_EQ_INT(ak_pkey_rsa(n, nl, e_zero, 2, &k, NULL), AK_EINVAL);
    AK_ASSERT_EQ_INT(ak_pkey_rsa(n, nl, e_big, sizeof(e_big), &k, NULL), AK_EINVAL);
    AK_ASSERT_NULL(k);
    /* 2047 bits: the A.2 modulus minus its last byte is under the floor */
    ak_buf_reset(&err);
    AK_ASSERT_EQ_INT(ak_pkey_rsa(n, nl - 1, e3, 1, &k, &err), AK_EINVAL);
    AK_ASSERT_CONTAINS(err.buf, "2040 bits");
    /* an even modulus */
    n[nl - 1] ^= 1;
    AK_ASSERT_EQ_INT(ak_pkey_rsa(n, nl, e3, 1, &k, NULL), AK_EINVAL);
    n[nl - 1] ^= 1;
    AK_ASSERT_NULL(k);
    /* leading zero bytes in n and e are tolerated and do not change the key */
    memset(padded, 0, 4);
    memcpy(padded + 4, n, nl);
    AK_ASSERT_OK(ak_pkey_rsa(padded, nl + 4, e_lead0, sizeof(e_lead0), &k, NULL));
    AK_ASSERT_OK(ak_pkey_verify(k, AK_JWS_RS256, a2_input, strlen(a2_input), sig, sl, NULL));
    ak_pkey_free(k);
    free(n);
    free(sig);
    ak_buf_release(&err);
}

AK_TEST(pkey_ec_refuses_bad_points)
{
    struct ak_buf err = AK_BUF_INIT(AK_BUF_NOMAX);
    size_t xl, yl;
    unsigned char *x = b64u(a3_x, &xl), *y = b64u(a3_y, &yl), zero[66] = {0};
    struct ak_pkey *k = NULL;

    AK_ASSERT_EQ_INT(xl, 32);
    /* not on the curve: y + 1 */
    y[31] ^= 1;
    AK_ASSERT_EQ_INT(ak_pkey_ec("P-256", x, xl, y, yl, &k, &err), AK_EINVAL);
    AK_ASSERT_NULL(k);
    AK_ASSERT(err.len > 0);
    y[31] ^= 1;
    /* (0,0) is not a point either; the right point on the wrong curve sizes */
    AK_ASSERT_EQ_INT(ak_pkey_ec("P-256", zero, 32, zero, 32, &k, NULL), AK_EINVAL);
    AK_ASSERT_EQ_INT(ak_pkey_ec("P-384", x, xl, y, yl, &k, NULL), AK_EINVAL);
    ak_buf_reset(&err);
    AK_ASSERT_EQ_INT(ak_pkey_ec("P-256", x, xl - 1, y, yl, &k, &err), AK_EINVAL);
    AK_ASSERT_CONTAINS(err.buf, "must be 32");
    AK_ASSERT_EQ_INT(ak_pkey_ec("secp256k1", x, xl, y, yl, &k, NULL), AK_EINVAL);
    AK_ASSERT_EQ_INT(ak_pkey_ec("P-192", x, xl, y, yl, &k, NULL), AK_EINVAL);
    AK_ASSERT_EQ_INT(ak_pkey_ec("p-256", x, xl, y, yl, &k, NULL), AK_EINVAL);
    AK_ASSERT_EQ_INT(ak_pkey_ec(NULL, x, xl, y, yl, &k, NULL), AK_EINVAL);
    AK_ASSERT_NULL(k);
    /* and the real point is accepted */
    AK_ASSERT_OK(ak_pkey_ec("P-256", x, xl, y, yl, &k, NULL));
    ak_pkey_free(k);
    ak_pkey_free(NULL);
    AK_ASSERT_EQ_INT(ak_pkey_kind(NULL), 0);
    free(x);
    free(y);
    ak_buf_release(&err);
}

AK_TEST(seal_known_answer_round_trip_and_tamper)
{
    /* NIST GCM test case 14: K = 0^256, IV = 0^96, P = 0^128 */
    static const unsigned char kat[] = {
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* nonce */
        0xce, 0xa7, 0x40, 0x3d, 0x4d, 0x60, 0x6b, 0x6e, 0x07, 0x4e, 0xc5, 0xd3, 0xba, 0xf3, 0x9d,
        0x18, 0xd0, 0xd1, 0xc8, 0xa7, 0x99, 0x99, 0x6b, 0xf0, 0x26, 0x5b, 0x98, 0xb5, 0xd4, 0x8a,
        0xb9, 0x19};
    static const char secret[] = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    unsigned char key[AK_SEAL_KEY_LEN] = {0}, key2[AK_SEAL_KEY_LEN], zero[16] = {0};
    unsigned char *s1 = NULL, *s2 = NULL, *p = NULL;
    size_t n1, n2, pl;

    AK_ASSERT_OK(ak_unseal(key, kat, sizeof(kat), NULL, &p, &pl));
    AK_ASSERT_EQ_INT(pl, 16);
    AK_ASSERT_MEM(p, zero, 16);
    free(p);
    AK_ASSERT_OK(ak_unseal(key, kat, sizeof(kat), "", &p, &pl)); /* "" is no aad */
    free(p);
    AK_ASSERT_EQ_INT(ak_unseal(key, kat, sizeof(kat), "x", &p, &pl), AK_ESIG);

    AK_ASSERT_OK(ak_random_bytes(key, sizeof(key)));
    memcpy(key2, key, sizeof(key));
    key2[31] ^= 1;
    AK_ASSERT_OK(ak_seal(key, secret, strlen(secret), "AKIAEXAMPLE", &s1, &n1));
    AK_ASSERT_OK(ak_seal(key, secret, strlen(secret), "AKIAEXAMPLE", &s2, &n2));
    AK_ASSERT_EQ_INT(n1, 12 + strlen(secret) + 16);
    AK_ASSERT(memcmp(s1, s2, n1) != 0); /* fresh nonce each time */
    AK_ASSERT(memcmp(s1 + 12, secret, strlen(secret)) != 0); /* not stored in clear */
    p = NULL;
    AK_ASSERT_OK(ak_unseal(key, s1, n1, "AKIAEXAMPLE", &p, &pl));
    AK_ASSERT_EQ_INT(pl, strlen(secret));
    AK_ASSERT_STR((char *)p, secret);
    free(p);
    p = NULL;
    /* every single-bit flip anywhere (nonce, ciphertext, tag) is caught */
    for (size_t i = 0; i < n1; i++) {
        s1[i] ^= 0x01;
        AK_ASSERT_EQ_INT(ak_unseal(key, s1, n1, "AKIAEXAMPLE", &p, &pl), AK_ESIG);
        s1[i] ^= 0x01;
    }
    AK_ASSERT_EQ_INT(ak_unseal(key, s1, n1, "AKIAEXAMPLF", &p, &pl), AK_ESIG);
    AK_ASSERT_EQ_INT(ak_unseal(key, s1, n1, NULL, &p, &pl), AK_ESIG);
    AK_ASSERT_EQ_INT(ak_unseal(key2, s1, n1, "AKIAEXAMPLE", &p, &pl), AK_ESIG);
    AK_ASSERT_EQ_INT(ak_unseal(key, s1, n1 - 1, "AKIAEXAMPLE", &p, &pl), AK_ESIG);
    AK_ASSERT_EQ_INT(ak_unseal(key, s1, 27, "AKIAEXAMPLE", &p, &pl), AK_EINVAL);
    AK_ASSERT_NULL(p);
    free(s1);
    free(s2);
    /* empty plaintext */
    AK_ASSERT_OK(ak_seal(key, NULL, 0, NULL, &s1, &n1));
    AK_ASSERT_EQ_INT(n1, 28);
    AK_ASSERT_OK(ak_unseal(key, s1, n1, NULL, &p, &pl));
    AK_ASSERT_EQ_INT(pl, 0);
    free(p);
    free(s1);
}

AK_TEST_MAIN(AK_T(sha256_vectors), AK_T(ct_equal_cases), AK_T(base64_rfc4648_vectors),
             AK_T(base64_binary_and_signature_length), AK_T(base64_rejects_invalid),
             AK_T(pem_parses_real_sns_cert), AK_T(pem_rejects_everything_but_one_cert),
             AK_T(sns_vectors_verify), AK_T(sns_vectors_tampered_fail),
             AK_T(verify_from_many_threads), AK_T(cert_check_names_and_dates),
             AK_T(cert_check_chain), AK_T(hmac_sha256_rfc4231),
             AK_T(random_hex_length_charset_unique), AK_T(base64_encode_vectors_and_round_trip),
             AK_T(base64url_vectors_and_edges), AK_T(random_bytes_fill_and_differ),
             AK_T(jws_alg_names), AK_T(rfc7515_a2_rs256_verifies), AK_T(rfc7515_a3_es256_verifies),
             AK_T(fixture_vectors_rs384_rs512_es384_es512), AK_T(pkey_rsa_refuses_bad_keys),
             AK_T(pkey_ec_refuses_bad_points), AK_T(seal_known_answer_round_trip_and_tamper))
