/* ak_test.h — asakai's tiny TAP test runner (cf. libuv's test runner, systemd's tests.h).
 *
 * Usage, in tests/unit/test_<module>.c:
 *
 *     #include "ak_test.h"
 *     AK_TEST(parses_rfc1123) { ... AK_ASSERT_EQ_INT(r, AK_OK); ... }
 *     AK_TEST_MAIN(AK_T(parses_rfc1123), AK_T(...))
 *
 * Each test runs with a fresh fixture: AK_TMPDIR() gives a new empty directory per test.
 * A failed assertion prints the expression, both values and file:line as TAP diagnostics and ends
 * that test. AK_SKIP("why") skips it. Output is TAP 13; meson runs it with protocol 'tap'.
 */
#ifndef AK_TEST_H
#define AK_TEST_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct ak_test_case {
    const char *name;
    void (*fn)(void);
};

static int ak_test_failed_;
static int ak_test_skipped_;
static char ak_test_skip_why_[256];
static char ak_test_tmpdir_[256];

#define AK_TEST(name) static void test_##name(void)
#define AK_T(name) {#name, test_##name}

#define AK_FAIL_(fmt, ...)                                                                         \
    do {                                                                                           \
        printf("# %s:%d: " fmt "\n", __FILE__, __LINE__, __VA_ARGS__);                             \
        ak_test_failed_ = 1;                                                                       \
        return;                                                                                    \
    } while (0)

#define AK_ASSERT(cond)                                                                            \
    do {                                                                                           \
        if (!(cond))                                                                               \
            AK_FAIL_("assertion failed: %s", #cond);                                               \
    } while (0)

#define AK_ASSERT_EQ_INT(a, b)                                                                     \
    do {                                                                                           \
        long long a_ = (long long)(a), b_ = (long long)(b);                                        \
        if (a_ != b_)                                                                              \
            AK_FAIL_("%s == %s: %lld != %lld", #a, #b, a_, b_);                                    \
    } while (0)

#define AK_ASSERT_OK(r)                                                                            \
    do {                                                                                           \
        long long r_ = (long long)(r);                                                             \
        if (r_ != 0)                                                                               \
            AK_FAIL_("%s: expected AK_OK, got %lld", #r, r_);                                      \
    } while (0)

#define AK_ASSERT_STR(a, b)                                                                        \
    do {                                                                                           \
        const char *a_ = (a), *b_ = (b);                                                           \
        if (!a_ || !b_ || strcmp(a_, b_) != 0)                                                     \
            AK_FAIL_("%s == %s: \"%s\" != \"%s\"", #a, #b, a_ ? a_ : "(null)",                     \
                     b_ ? b_ : "(null)");                                                          \
    } while (0)

#define AK_ASSERT_NULL(p)                                                                          \
    do {                                                                                           \
        if ((p) != NULL)                                                                           \
            AK_FAIL_("%s is not NULL", #p);                                                        \
    } while (0)

#define AK_ASSERT_CONTAINS(hay, needle)                                                            \
    do {                                                                                           \
        const char *h_ = (hay), *n_ = (needle);                                                    \
        if (!h_ || !strstr(h_, n_))                                                                \
            AK_FAIL_("\"%s\" does not contain \"%s\"", h_ ? h_ : "(null)", n_);                    \
    } while (0)

#define AK_ASSERT_MEM(a, b, n)                                                                     \
    do {                                                                                           \
        if (memcmp((a), (b), (n)) != 0)                                                            \
            AK_FAIL_("%s and %s differ in their first %zu bytes", #a, #b, (size_t)(n));            \
    } while (0)

#define AK_SKIP(why)                                                                               \
    do {                                                                                           \
        snprintf(ak_test_skip_why_, sizeof(ak_test_skip_why_), "%s", (why));                       \
        ak_test_skipped_ = 1;                                                                      \
        return;                                                                                    \
    } while (0)

/* A fresh, empty temporary directory for the current test (removed at the end of the run). */
static inline const char *ak_test_tmpdir(void)
{
    if (!ak_test_tmpdir_[0]) {
        const char *base = getenv("TMPDIR");
        snprintf(ak_test_tmpdir_, sizeof(ak_test_tmpdir_), "%s/ak-test-XXXXXX",
                 base && *base ? base : "/tmp");
        if (!mkdtemp(ak_test_tmpdir_)) {
            perror("mkdtemp");
            abort();
        }
    }
    return ak_test_tmpdir_;
}
#define AK_TMPDIR() ak_test_tmpdir()

/* Source directory of the repository, for fixtures under tests/data (set by meson as
 * AK_SRCDIR environment; falls back to the current directory). */
static inline const char *ak_test_srcdir(void)
{
    const char *s = getenv("AK_SRCDIR");
    return s && *s ? s : ".";
}

/* Reads a file under the source tree into a malloc'ed NUL-terminated buffer. */
static inline char *ak_test_read_file(const char *relpath, size_t *ret_len)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", ak_test_srcdir(), relpath);
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *p = malloc((size_t)n + 1);
    if (p && fread(p, 1, (size_t)n, f) != (size_t)n) {
        free(p);
        p = NULL;
    }
    fclose(f);
    if (p) {
        p[n] = 0;
        if (ret_len)
            *ret_len = (size_t)n;
    }
    return p;
}

static inline int ak_test_run(const struct ak_test_case *cases, size_t n)
{
    int failures = 0;
    printf("TAP version 13\n1..%zu\n", n);
    for (size_t i = 0; i < n; i++) {
        ak_test_failed_ = 0;
        ak_test_skipped_ = 0;
        ak_test_tmpdir_[0] = 0;
        cases[i].fn();
        if (ak_test_tmpdir_[0]) {
            char cmd[400];
            snprintf(cmd, sizeof(cmd), "rm -rf '%s'", ak_test_tmpdir_);
            if (system(cmd) != 0) { /* best effort */
            }
        }
        if (ak_test_skipped_)
            printf("ok %zu - %s # SKIP %s\n", i + 1, cases[i].name, ak_test_skip_why_);
        else if (ak_test_failed_) {
            printf("not ok %zu - %s\n", i + 1, cases[i].name);
            failures++;
        } else
            printf("ok %zu - %s\n", i + 1, cases[i].name);
        fflush(stdout);
    }
    return failures ? 1 : 0;
}

#define AK_TEST_MAIN(...)                                                                          \
    int main(void)                                                                                 \
    {                                                                                              \
        static const struct ak_test_case cases_[] = {__VA_ARGS__};                                 \
        return ak_test_run(cases_, sizeof(cases_) / sizeof(cases_[0]));                            \
    }

#endif
