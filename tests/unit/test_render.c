/* test_render.c — notifications on the wire: subject, RFC 5322/MIME email, Slack Block Kit within
 * Slack's limits, webhook body and signature, the daily digest.
 *
 * Golden files: tests/data/render/email.eml and slack.json. Regenerate them only deliberately:
 *   AK_REGEN_GOLDEN=1 meson test -C BUILD render   (then review the diff)
 */
#include <stdbool.h>
#include <stdint.h>

#include "asakai/ak_buf.h"
#include "asakai/ak_err.h"
#include "asakai/ak_json.h"
#include "asakai/ak_store.h"
#include "asakai/ak_tz.h"
#include "asakai/ak_util.h"
#include "ak_test.h"
#include "src/notify/render.h"
#include "src/notify/render_int.h"

#define HOUR_MS (3600LL * 1000)
#define DAY_MS (24 * HOUR_MS)
#define DEADLINE 1796835600000LL /* 2026-12-09T17:00:00Z = Dec 10 02:00 JST */
#define NOW 1795737600000LL      /* 2026-11-27T00:00:00Z (Fri) */
#define MID "<asakai.r42.o7.abc@example.com>"
#define ROOT "<asakai.r42.abc@example.com>"

static char *res1[] = {(char *)"arn:aws:rds:ap-northeast-1:123456789012:db:prod-db-1"};

static struct ak_maint_rec fixture(void)
{
    struct ak_maint_rec r = {0};

    r.id = 42;
    r.key = (char *)"rds:123456789012:ap-northeast-1:prod-db-1:hardware";
    r.source = (char *)"rds-sns";
    r.sources = (char *)"rds-sns,aws.health";
    r.service = (char *)"rds";
    r.kind = (char *)"hardware-maintenance";
    r.status = (char *)"scheduled";
    r.event_code = (char *)"RDS-EVENT-0026";
    r.account = (char *)"123456789012";
    r.region = (char *)"ap-northeast-1";
    r.resources = res1;
    r.n_resources = 1;
    r.deadline = DEADLINE;
    r.window_start = DEADLINE;
    r.window_end = DEADLINE + 2 * HOUR_MS;
    r.title = (char *)"RDS hardware maintenance for prod-db-1";
    r.description = (char *)"Hardware maintenance is scheduled for your DB instance prod-db-1.\n"
                            "During the window the instance is unavailable for a few minutes; "
                            "Multi-AZ instances fail over. Apply it earlier at a time of your "
                            "choosing to avoid the forced window.";
    r.first_seen = NOW - 2 * DAY_MS;
    r.last_seen = NOW - HOUR_MS;
    r.required = true;
    r.important = true;
    r.important_why = (char *)"required";
    return r;
}

static struct ak_change change_of(const char *kind, const char *key, const char *summary)
{
    struct ak_change c = {0};

    c.id = 7;
    c.rec_id = 42;
    c.kind = (char *)kind;
    c.key = (char *)key;
    c.summary = (char *)summary;
    c.at = NOW - HOUR_MS;
    return c;
}

static struct ak_render_ctx ctx_of(const struct ak_maint_rec *r, const struct ak_change *c,
                                   const struct ak_tz *tz)
{
    struct ak_render_ctx x = {0};

    x.rec = r;
    x.change = c;
    x.important = true;
    x.important_why = "required, deadline in 12 days";
    x.tz = tz;
    x.base_url = "http://127.0.0.1:9780";
    x.now_ms = NOW;
    return x;
}

static struct ak_tz *tokyo(void)
{
    struct ak_tz *tz = NULL;
    struct ak_buf err = AK_BUF_INIT(256);

    if (ak_tz_load("Asia/Tokyo", NULL, &tz, &err) != AK_OK)
        printf("# Asia/Tokyo: %s\n", err.buf);
    ak_buf_release(&err);
    return tz;
}

/* ---- small independent decoders -------------------------------------------------------- */

static int b64val(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    return c == '+' ? 62 : c == '/' ? 63 : -1;
}

static void b64_decode(const char *s, size_t n, struct ak_buf *out)
{
    uint32_t acc = 0;
    int bits = 0;

    for (size_t i = 0; i < n && s[i] != '='; i++) {
        int v = b64val(s[i]);
        if (v < 0)
            continue;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            ak_buf_addc(out, (char)((acc >> bits) & 0xff));
        }
    }
}

/* Unfolded header value (first occurrence), malloc'ed, or NULL. */
static char *header(const char *msg, const char *name)
{
    size_t nl = strlen(name);
    struct ak_buf v = AK_BUF_INIT(AK_BUF_NOMAX);
    const char *end = strstr(msg, "\r\n\r\n");

    for (const char *p = msg; p && p < end; p = strstr(p, "\r\n"), p = p ? p + 2 : NULL) {
        if (strncmp(p, name, nl) != 0 || p[nl] != ':')
            continue;
        p += nl + 1;
        while (*p == ' ')
            p++;
        for (;;) {
            const char *e = strstr(p, "\r\n");
            ak_buf_addn(&v, p, (size_t)(e - p));
            if (e[2] != ' ' && e[2] != '\t')
                break;
            p = e + 2; /* unfolding: drop the CRLF, keep the WSP */
        }
        return ak_buf_detach(&v, NULL);
    }
    ak_buf_release(&v);
    return NULL;
}

/* RFC 2047 B words of a Subject, concatenated (whitespace between words dropped). */
static char *ew_decode(const char *v)
{
    struct ak_buf out = AK_BUF_INIT(AK_BUF_NOMAX);
    const char *p = v;

    if (!strstr(v, "=?UTF-8?B?")) {
        ak_buf_add(&out, v);
        return ak_buf_detach(&out, NULL);
    }
    while ((p = strstr(p, "=?UTF-8?B?")) != NULL) {
        const char *q = strstr(p + 10, "?=");
        if (!q)
            break;
        b64_decode(p + 10, (size_t)(q - p - 10), &out);
        p = q + 2;
    }
    return ak_buf_detach(&out, NULL);
}

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Quoted-printable decoding of a CRLF body; false on a malformed escape. */
static bool qp_decode(const char *s, size_t n, struct ak_buf *out)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '=' && i + 2 < n && s[i + 1] == '\r' && s[i + 2] == '\n') {
            i += 2;
        } else if (s[i] == '=') {
            if (i + 2 >= n || hexval(s[i + 1]) < 0 || hexval(s[i + 2]) < 0)
                return false;
            ak_buf_addc(out, (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2])));
            i += 2;
        } else if (s[i] == '\r' && i + 1 < n && s[i + 1] == '\n') {
            ak_buf_addc(out, '\n');
            i++;
        } else {
            ak_buf_addc(out, s[i]);
        }
    }
    return true;
}

/* The boundary parameter of the top Content-Type. */
static char *boundary(const char *msg)
{
    char *ct = header(msg, "Content-Type"), *b, *e, *r = NULL;

    if (ct && (b = strstr(ct, "boundary=\"")) && (e = strchr(b + 10, '"')))
        r = ak_xstrndup(b + 10, (size_t)(e - b - 10));
    free(ct);
    return r;
}

/* Part i (0-based) of a multipart message: its raw body (after its headers) in *ret, with its
 * own headers in *ret_hdr. */
static bool part(const char *msg, int i, struct ak_buf *ret_hdr, struct ak_buf *ret)
{
    char *b = boundary(msg), delim[128];
    const char *p, *h, *e;
    bool ok = false;

    if (!b)
        return false;
    snprintf(delim, sizeof(delim), "\r\n--%s", b);
    p = strstr(msg, delim);
    for (int k = 0; p && k < i; k++)
        p = strstr(p + 1, delim);
    if (p && (h = p + strlen(delim) + 2) && (e = strstr(h, "\r\n\r\n"))) {
        const char *end = strstr(e + 4, delim);
        if (end) {
            ak_buf_addn(ret_hdr, h, (size_t)(e - h));
            ak_buf_addn(ret, e + 4, (size_t)(end - e - 4));
            ok = true;
        }
    }
    free(b);
    return ok;
}

/* Decoded text (i = 0) or HTML (i = 1) part. */
static char *part_text(const char *msg, int i)
{
    struct ak_buf h = AK_BUF_INIT(AK_BUF_NOMAX), raw = AK_BUF_INIT(AK_BUF_NOMAX);
    struct ak_buf out = AK_BUF_INIT(AK_BUF_NOMAX);
    char *r = NULL;

    if (part(msg, i, &h, &raw) && strstr(h.buf, "quoted-printable") &&
        qp_decode(raw.buf, raw.len, &out))
        r = ak_buf_detach(&out, NULL);
    ak_buf_release(&h);
    ak_buf_release(&raw);
    ak_buf_release(&out);
    return r;
}

/* CRLF only, lines at most max (998 for the message; 76 inside QP parts). Returns the longest
 * line, or -1 for a bare CR or LF. */
static long longest_line(const char *s, size_t n)
{
    long best = 0, cur = 0;

    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\r') {
            if (i + 1 >= n || s[i + 1] != '\n')
                return -1;
            best = cur > best ? cur : best;
            cur = 0;
            i++;
        } else if (s[i] == '\n') {
            return -1;
        } else {
            cur++;
        }
    }
    return cur > best ? cur : best;
}

static size_t units(const char *s)
{
    size_t u = 0;

    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if ((*p & 0xC0) != 0x80)
            u += *p >= 0xF0 ? 2 : 1;
    return u;
}

static bool utf8_valid(const char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        size_t l = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 :
                   (c & 0xF8) == 0xF0 ? 4 : 0;
        if (!l || i + l > n)
            return false;
        for (size_t k = 1; k < l; k++)
            if (((unsigned char)s[i + k] & 0xC0) != 0x80)
                return false;
        i += l;
    }
    return true;
}

/* Compares out with a golden file (or rewrites it when AK_REGEN_GOLDEN is set). */
static bool golden(const char *rel, const char *out, size_t n)
{
    size_t gl = 0;
    char *g;
    bool same;

    if (getenv("AK_REGEN_GOLDEN")) {
        char path[1024];
        snprintf(path, sizeof(path), "%s/%s", ak_test_srcdir(), rel);
        FILE *f = fopen(path, "wb");
        if (f) {
            fwrite(out, 1, n, f);
            fclose(f);
        }
    }
    g = ak_test_read_file(rel, &gl);
    same = g && gl == n && memcmp(g, out, n) == 0;
    if (!same)
        printf("# %s differs from the output (%zu vs %zu bytes)\n", rel, gl, n);
    free(g);
    return same;
}

/* ---- subject ------------------------------------------------------------------------------ */

AK_TEST(subject_utc_when_no_tz)
{
    struct ak_maint_rec r = fixture();
    struct ak_change ch = change_of("created", "created", "created");
    struct ak_render_ctx c = ctx_of(&r, &ch, NULL);
    struct ak_buf s = AK_BUF_INIT(1024);

    AK_ASSERT_OK(ak__notify_subject(&c, &s));
    AK_ASSERT_STR(s.buf, "[asakai] RDS hardware maintenance prod-db-1 — deadline Dec 9 17:00 UTC");
    ak_buf_release(&s);
}

AK_TEST(subject_in_readers_tz)
{
    struct ak_maint_rec r = fixture();
    struct ak_change ch = change_of("created", "created", "created");
    struct ak_tz *tz = tokyo();
    struct ak_render_ctx c = ctx_of(&r, &ch, tz);
    struct ak_buf s = AK_BUF_INIT(1024);

    AK_ASSERT(tz != NULL);
    AK_ASSERT_OK(ak__notify_subject(&c, &s));
    AK_ASSERT_STR(s.buf, "[asakai] RDS hardware maintenance prod-db-1 — deadline Dec 10 02:00 JST");
    ak_buf_release(&s);
    ak_tz_free(tz);
}

AK_TEST(subject_prefixes)
{
    struct ak_maint_rec r = fixture();
    struct ak_change rem = change_of("reminder", "reminder:7d:1", "deadline in 7 days");
    struct ak_change done = change_of("status", "status:completed", "scheduled -> completed");
    struct ak_change canc = change_of("status", "status:canceled", "scheduled -> canceled");
    struct ak_change cre = change_of("created", "created", "created");
    struct ak_change res = change_of("rescheduled", "window:1:2", "rescheduled");
    struct ak_buf s = AK_BUF_INIT(1024);
    struct ak_render_ctx c = ctx_of(&r, &rem, NULL);

    AK_ASSERT_OK(ak__notify_subject(&c, &s));
    AK_ASSERT(ak_startswith(s.buf, "[asakai] Reminder: RDS hardware"));
    ak_buf_reset(&s);
    c.change = &done;
    AK_ASSERT_OK(ak__notify_subject(&c, &s));
    AK_ASSERT(ak_startswith(s.buf, "[asakai] Completed: RDS"));
    ak_buf_reset(&s);
    c.change = &canc;
    AK_ASSERT_OK(ak__notify_subject(&c, &s));
    AK_ASSERT(ak_startswith(s.buf, "[asakai] Canceled: RDS"));
    ak_buf_reset(&s);
    c.change = &res; /* a reschedule keeps the subject (mail clients thread on it) */
    AK_ASSERT_OK(ak__notify_subject(&c, &s));
    AK_ASSERT(ak_startswith(s.buf, "[asakai] RDS"));
    ak_buf_reset(&s);
    r.recurrence_of = 41;
    c.change = &cre;
    AK_ASSERT_OK(ak__notify_subject(&c, &s));
    AK_ASSERT(ak_startswith(s.buf, "[asakai] RECURRENCE: RDS"));
    ak_buf_release(&s);
}

AK_TEST(subject_capped_on_utf8_boundary)
{
    struct ak_maint_rec r = fixture();
    struct ak_buf title = AK_BUF_INIT(AK_BUF_NOMAX), s = AK_BUF_INIT(1024);
    struct ak_render_ctx c = ctx_of(&r, NULL, NULL);

    for (int i = 0; i < 100; i++)
        ak_buf_add(&title, "メンテ");
    r.service = NULL; /* headline falls back to the title */
    r.title = title.buf;
    AK_ASSERT_OK(ak__notify_subject(&c, &s));
    AK_ASSERT(s.len <= 200);
    AK_ASSERT(s.len > 150);
    AK_ASSERT(ak_endswith(s.buf, "…"));
    AK_ASSERT(utf8_valid(s.buf, s.len));
    ak_buf_release(&title);
    ak_buf_release(&s);
}

AK_TEST(subject_has_no_control_characters)
{
    struct ak_maint_rec r = fixture();
    struct ak_render_ctx c = ctx_of(&r, NULL, NULL);
    struct ak_buf s = AK_BUF_INIT(1024);
    char *evil[] = {(char *)"db-1\r\nBcc: victim@example.com"};

    r.resources = evil;
    AK_ASSERT_OK(ak__notify_subject(&c, &s));
    AK_ASSERT(!strchr(s.buf, '\r') && !strchr(s.buf, '\n'));
    AK_ASSERT_CONTAINS(s.buf, "db-1 Bcc: victim@example.com");
    ak_buf_release(&s);
}

/* ---- email --------------------------------------------------------------------------------- */

static const char *const to2[] = {"sre@example.com", "oncall@example.com"};

static char *email_of(const struct ak_render_ctx *c, const char *mid, const char *root)
{
    struct ak_buf out = AK_BUF_INIT(8 * 1024 * 1024);

    if (ak__notify_email(c, "asakai@example.com", to2, 2, mid, root, &out) != AK_OK) {
        ak_buf_release(&out);
        return NULL;
    }
    return ak_buf_detach(&out, NULL);
}

AK_TEST(email_headers)
{
    struct ak_maint_rec r = fixture();
    struct ak_change ch = change_of("rescheduled", "window:1:2", "rescheduled to Dec 10 02:00");
    struct ak_render_ctx c = ctx_of(&r, &ch, NULL);
    char *m = email_of(&c, MID, ROOT), *v;

    AK_ASSERT(m != NULL);
    AK_ASSERT_STR(v = header(m, "From"), "asakai@example.com");
    free(v);
    AK_ASSERT_STR(v = header(m, "To"), "sre@example.com, oncall@example.com");
    free(v);
    AK_ASSERT_STR(v = header(m, "Date"), "Fri, 27 Nov 2026 00:00:00 +0000");
    free(v);
    AK_ASSERT_STR(v = header(m, "Message-ID"), MID);
    free(v);
    AK_ASSERT_STR(v = header(m, "In-Reply-To"), ROOT);
    free(v);
    AK_ASSERT_STR(v = header(m, "References"), ROOT);
    free(v);
    AK_ASSERT_STR(v = header(m, "MIME-Version"), "1.0");
    free(v);
    AK_ASSERT_STR(v = header(m, "Auto-Submitted"), "auto-generated");
    free(v);
    AK_ASSERT_STR(v = header(m, "X-Asakai-Record"), "42");
    free(v);
    v = header(m, "Subject"); /* the dash is not ASCII: an encoded-word */
    AK_ASSERT(v && strncmp(v, "=?UTF-8?B?", 10) == 0);
    char *d = ew_decode(v);
    AK_ASSERT_STR(d, "[asakai] RDS hardware maintenance prod-db-1 — deadline Dec 9 17:00 UTC");
    free(d);
    free(v);
    AK_ASSERT_CONTAINS(m, "Content-Type: multipart/alternative;");
    free(m);
}

AK_TEST(email_root_message_has_no_reply_headers)
{
    struct ak_maint_rec r = fixture();
    struct ak_change ch = change_of("created", "created", "created");
    struct ak_render_ctx c = ctx_of(&r, &ch, NULL);
    char *m = email_of(&c, ROOT, ROOT), *v;

    AK_ASSERT(m != NULL);
    AK_ASSERT_NULL(header(m, "In-Reply-To"));
    AK_ASSERT_NULL(header(m, "References"));
    AK_ASSERT_STR(v = header(m, "Message-ID"), ROOT);
    free(v);
    free(m);
    /* ids without angle brackets get them */
    m = email_of(&c, "x1@example.com", "root@example.com");
    AK_ASSERT(m != NULL);
    AK_ASSERT_STR(v = header(m, "Message-ID"), "<x1@example.com>");
    free(v);
    AK_ASSERT_STR(v = header(m, "References"), "<root@example.com>");
    free(v);
    free(m);
}

AK_TEST(email_crlf_and_line_lengths)
{
    struct ak_maint_rec r = fixture();
    struct ak_render_ctx c = ctx_of(&r, NULL, NULL);
    struct ak_buf desc = AK_BUF_INIT(AK_BUF_NOMAX), h = AK_BUF_INIT(AK_BUF_NOMAX);
    struct ak_buf raw = AK_BUF_INIT(AK_BUF_NOMAX);
    char *m, *end;

    /* one 5000-byte line with every awkward byte: '=', trailing space, tab, UTF-8, '.' */
    for (int i = 0; i < 250; i++)
        ak_buf_add(&desc, ".a=b \tü日 ");
    ak_buf_add(&desc, "\n.\nline ending in space \n\r\nCR\rmid\nFrom here on\n");
    r.description = desc.buf;
    m = email_of(&c, MID, ROOT);
    AK_ASSERT(m != NULL);
    long ll = longest_line(m, strlen(m));
    AK_ASSERT(ll > 0 && ll <= 998);
    end = strstr(m, "\r\n\r\n");
    AK_ASSERT(end != NULL);
    AK_ASSERT(longest_line(m, (size_t)(end - m)) <= 78); /* folded headers */
    for (int i = 0; i < 2; i++) {
        ak_buf_reset(&h);
        ak_buf_reset(&raw);
        AK_ASSERT(part(m, i, &h, &raw));
        AK_ASSERT_CONTAINS(h.buf, "Content-Transfer-Encoding: quoted-printable");
        AK_ASSERT_CONTAINS(h.buf, "charset=UTF-8");
        ll = longest_line(raw.buf, raw.len);
        AK_ASSERT(ll > 60 && ll <= 76);
        for (size_t k = 0; k < raw.len; k++) /* 7-bit, no trailing blank before CRLF */
            AK_ASSERT((unsigned char)raw.buf[k] < 0x80 &&
                      !((raw.buf[k] == ' ' || raw.buf[k] == '\t') && raw.buf[k + 1] == '\r'));
    }
    char *text = part_text(m, 0);
    AK_ASSERT(text != NULL);
    AK_ASSERT_CONTAINS(text, ".a=b \tü日 .a=b");
    AK_ASSERT_CONTAINS(text, "line ending in space \n");
    AK_ASSERT_CONTAINS(text, "\nFrom here on\n");
    AK_ASSERT(strstr(m, "\r\nFrom here") == NULL);
    AK_ASSERT(!strchr(text, '\r'));
    free(text);
    free(m);
    ak_buf_release(&desc);
    ak_buf_release(&h);
    ak_buf_release(&raw);
}

AK_TEST(email_boundary_is_deterministic_and_unique)
{
    struct ak_maint_rec r = fixture();
    struct ak_render_ctx c = ctx_of(&r, NULL, NULL);
    char *a = email_of(&c, MID, ROOT), *b = email_of(&c, MID, ROOT);
    char *o = email_of(&c, "<other@example.com>", ROOT);
    char *ba = boundary(a), *bo = boundary(o), delim[128];
    int n = 0;

    AK_ASSERT(a && b && o && ba && bo);
    AK_ASSERT_STR(a, b); /* a resend is byte-identical */
    AK_ASSERT(strcmp(ba, bo) != 0);
    AK_ASSERT(ak_startswith(ba, "=_")); /* cannot occur in quoted-printable text */
    snprintf(delim, sizeof(delim), "\r\n--%s", ba);
    for (const char *p = strstr(a, delim); p; p = strstr(p + 1, delim))
        n++;
    AK_ASSERT_EQ_INT(n, 3); /* two parts and the close */
    snprintf(delim, sizeof(delim), "\r\n--%s--\r\n", ba);
    AK_ASSERT(ak_endswith(a, delim));
    free(a);
    free(b);
    free(o);
    free(ba);
    free(bo);
}

AK_TEST(email_encoded_word_subject)
{
    struct ak_maint_rec r = fixture();
    struct ak_render_ctx c = ctx_of(&r, NULL, NULL);
    struct ak_buf want = AK_BUF_INIT(1024);
    char *res[] = {(char *)"本番データベース-東京リージョン-プライマリ"};
    char *m, *v, *d;

    r.resources = res;
    AK_ASSERT_OK(ak__notify_subject(&c, &want));
    m = email_of(&c, MID, ROOT);
    AK_ASSERT(m != NULL);
    v = header(m, "Subject");
    AK_ASSERT(v != NULL);
    /* each encoded-word at most 75 chars, and several of them (folded) */
    for (const char *p = strstr(v, "=?"); p; p = strstr(p + 2, "=?")) {
        const char *q = strstr(p + 10, "?=");
        AK_ASSERT(q && q + 2 - p <= 75);
        p = q;
    }
    AK_ASSERT(strstr(m, "Subject: =?UTF-8?B?") != NULL);
    AK_ASSERT(strstr(m, "?=\r\n =?UTF-8?B?") != NULL);
    d = ew_decode(v);
    AK_ASSERT_STR(d, want.buf);
    AK_ASSERT(utf8_valid(d, strlen(d)));
    free(d);
    free(v);
    free(m);
    /* ASCII subjects stay readable */
    r.resources = res1;
    c.change = NULL;
    r.deadline = 0;
    r.window_start = 0;
    m = email_of(&c, MID, ROOT);
    AK_ASSERT_STR(v = header(m, "Subject"), "[asakai] RDS hardware maintenance prod-db-1");
    free(v);
    free(m);
    ak_buf_release(&want);
}

AK_TEST(email_html_escapes_record_strings)
{
    struct ak_maint_rec r = fixture();
    struct ak_change ch = change_of("created", "created", "created <b>bold</b>");
    struct ak_render_ctx c = ctx_of(&r, &ch, NULL);
    char *m, *html, *text;

    r.title = (char *)"<script>alert('x')</script> & \"quotes\"";
    r.description = (char *)"<img src=x onerror=alert(1)>";
    r.account = (char *)"<acct>";
    m = email_of(&c, MID, ROOT);
    AK_ASSERT(m != NULL);
    html = part_text(m, 1);
    text = part_text(m, 0);
    AK_ASSERT(html && text);
    AK_ASSERT(!strstr(html, "<script>"));
    AK_ASSERT(!strstr(html, "<img"));
    AK_ASSERT(!strstr(html, "<acct>"));
    AK_ASSERT(!strstr(html, "<b>bold"));
    AK_ASSERT_CONTAINS(html, "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;quotes&quot;");
    AK_ASSERT_CONTAINS(html, "&lt;img src=x onerror=alert(1)&gt;");
    AK_ASSERT_CONTAINS(html, "http://127.0.0.1:9780/api/v1/maintenance/42");
    AK_ASSERT_CONTAINS(text, "<script>alert('x')</script>"); /* plain text stays verbatim */
    free(html);
    free(text);
    free(m);
}

AK_TEST(email_body_fields_and_times)
{
    struct ak_maint_rec r = fixture();
    struct ak_change ch = change_of("rescheduled", "window:1:2", "rescheduled to Dec 10 02:00");
    struct ak_tz *tz = tokyo();
    struct ak_render_ctx c = ctx_of(&r, &ch, tz);
    char *m = email_of(&c, MID, ROOT), *text = m ? part_text(m, 0) : NULL;

    AK_ASSERT(tz && text);
    AK_ASSERT(ak_startswith(text, "Rescheduled: rescheduled to Dec 10 02:00\n"));
    AK_ASSERT_CONTAINS(text, "Deadline:      Dec 10 02:00 JST (in 12 days; 2026-12-09T17:00:00Z)");
    AK_ASSERT_CONTAINS(text, "until Dec 10 04:00 JST");
    AK_ASSERT_CONTAINS(text, "Resources:     arn:aws:rds:ap-northeast-1:123456789012:db:prod-db-1");
    AK_ASSERT_CONTAINS(text, "Important:     yes: required, deadline in 12 days");
    AK_ASSERT_CONTAINS(text, "Record:        #42 http://127.0.0.1:9780/api/v1/maintenance/42");
    AK_ASSERT_CONTAINS(text, "Description:\nHardware maintenance is scheduled");
    free(text);
    free(m);
    ak_tz_free(tz);
}

AK_TEST(email_refuses_header_injection_and_missing_parts)
{
    struct ak_maint_rec r = fixture();
    struct ak_render_ctx c = ctx_of(&r, NULL, NULL);
    struct ak_buf out = AK_BUF_INIT(1024 * 1024);
    const char *bad_to[] = {"a@example.com\r\nBcc: x@example.com"};

    AK_ASSERT_EQ_INT(ak__notify_email(&c, "a@x\r\nBcc: y", to2, 2, MID, ROOT, &out), AK_EINVAL);
    AK_ASSERT_EQ_INT(ak__notify_email(&c, "a@x", bad_to, 1, MID, ROOT, &out), AK_EINVAL);
    AK_ASSERT_EQ_INT(ak__notify_email(&c, "a@x", to2, 0, MID, ROOT, &out), AK_EINVAL);
    AK_ASSERT_EQ_INT(ak__notify_email(&c, "a@x", to2, 2, NULL, ROOT, &out), AK_EINVAL);
    AK_ASSERT_EQ_INT(ak__notify_email(&c, "a@x", to2, 2, "<a b>", ROOT, &out), AK_EINVAL);
    AK_ASSERT_EQ_INT(ak__notify_email(NULL, "a@x", to2, 2, MID, ROOT, &out), AK_EINVAL);
    AK_ASSERT_EQ_INT(out.len, 0);
    ak_buf_release(&out);
}

AK_TEST(email_too_big_leaves_output_unchanged)
{
    struct ak_maint_rec r = fixture();
    struct ak_render_ctx c = ctx_of(&r, NULL, NULL);
    struct ak_buf out = AK_BUF_INIT(512);

    ak_buf_add(&out, "keep");
    AK_ASSERT_EQ_INT(ak__notify_email(&c, "a@x", to2, 2, MID, ROOT, &out), AK_ETOOBIG);
    AK_ASSERT_STR(out.buf, "keep");
    ak_buf_release(&out);
}

AK_TEST(email_huge_description_is_cut)
{
    struct ak_maint_rec r = fixture();
    struct ak_render_ctx c = ctx_of(&r, NULL, NULL);
    struct ak_buf desc = AK_BUF_INIT(AK_BUF_NOMAX);
    char *m, *text;

    for (int i = 0; i < 20000; i++)
        ak_buf_add(&desc, "word ");
    r.description = desc.buf;
    m = email_of(&c, MID, ROOT);
    AK_ASSERT(m != NULL);
    AK_ASSERT(strlen(m) < 3 * 48 * 1024);
    text = part_text(m, 0);
    AK_ASSERT_CONTAINS(text, "… (cut; the full description: http://127.0.0.1:9780/api/v1/maintenance/42)");
    free(text);
    free(m);
    ak_buf_release(&desc);
}

AK_TEST(email_golden)
{
    struct ak_maint_rec r = fixture();
    struct ak_change ch = change_of("rescheduled", "window:1796230800000:1796835600000",
                                    "rescheduled from Dec 3 02:00 JST to Dec 10 02:00 JST");
    struct ak_tz *tz = tokyo();
    struct ak_render_ctx c = ctx_of(&r, &ch, tz);
    char *m = email_of(&c, MID, ROOT);

    AK_ASSERT(tz && m);
    AK_ASSERT(golden("tests/data/render/email.eml", m, strlen(m)));
    free(m);
    ak_tz_free(tz);
}

/* ---- Slack --------------------------------------------------------------------------------- */

static char *slack_of(const struct ak_render_ctx *c, const char *channel, const char *ts)
{
    struct ak_buf out = AK_BUF_INIT(1024 * 1024);

    if (ak__notify_slack(c, channel, ts, &out) != AK_OK) {
        ak_buf_release(&out);
        return NULL;
    }
    return ak_buf_detach(&out, NULL);
}

static const char *text_of(const struct ak_json *o)
{
    return ak_json_get_str(ak_json_get(o, "text"), "text");
}

/* Every Slack limit of maintenance-events.md §9.2; the total text of blocks too. */
static bool slack_within_limits(const char *payload, size_t *ret_total)
{
    struct ak_json *j = ak_json_parse(payload, strlen(payload), NULL), *blocks;
    size_t total = 0;
    bool ok = j != NULL;

    blocks = ak_json_get(j, "blocks");
    ok = ok && ak_json_is_arr(blocks) && ak_json_len(blocks) >= 1 && ak_json_len(blocks) <= 50;
    ok = ok && ak_json_get_str(j, "text") && units(ak_json_get_str(j, "text")) <= 4000;
    for (size_t i = 0; ok && i < ak_json_len(blocks); i++) {
        struct ak_json *b = ak_json_at(blocks, i), *f = ak_json_get(b, "fields");
        const char *type = ak_json_get_str(b, "type"), *t = text_of(b);
        if (ak_streq(type, "header"))
            ok = t && units(t) <= 150 && ak_streq(ak_json_get_str(ak_json_get(b, "text"), "type"),
                                                    "plain_text");
        else if (ak_streq(type, "section"))
            ok = (t && units(t) <= 3000) || (!t && f);
        else if (ak_streq(type, "context"))
            ok = ak_json_len(ak_json_get(b, "elements")) <= 10;
        else
            ok = false;
        total += t ? units(t) : 0;
        ok = ok && ak_json_len(f) <= 10;
        for (size_t k = 0; ok && k < ak_json_len(f); k++) {
            const char *ft = ak_json_get_str(ak_json_at(f, k), "text");
            ok = ft && units(ft) <= 2000;
            total += ft ? units(ft) : 0;
        }
        for (size_t k = 0; ok && k < ak_json_len(ak_json_get(b, "elements")); k++) {
            const char *et = ak_json_get_str(ak_json_at(ak_json_get(b, "elements"), k), "text");
            ok = et && units(et) <= 3000;
            total += et ? units(et) : 0;
        }
    }
    ok = ok && total <= 12000;
    if (ret_total)
        *ret_total = total;
    ak_json_free(j);
    return ok;
}

AK_TEST(slack_payload_shape)
{
    struct ak_maint_rec r = fixture();
    struct ak_change ch = change_of("rescheduled", "window:1:2", "rescheduled to Dec 10 02:00");
    struct ak_render_ctx c = ctx_of(&r, &ch, NULL);
    char *p = slack_of(&c, "C0123", "1700000000.000100");
    struct ak_json *j = p ? ak_json_parse(p, strlen(p), NULL) : NULL, *blocks;

    AK_ASSERT(j != NULL);
    AK_ASSERT_STR(ak_json_get_str(j, "channel"), "C0123");
    AK_ASSERT_STR(ak_json_get_str(j, "thread_ts"), "1700000000.000100");
    AK_ASSERT_CONTAINS(ak_json_get_str(j, "text"), "RDS hardware maintenance prod-db-1");
    blocks = ak_json_get(j, "blocks");
    AK_ASSERT_STR(ak_json_get_str(ak_json_at(blocks, 0), "type"), "header");
    AK_ASSERT_STR(text_of(ak_json_at(blocks, 0)),
                  ":warning: RDS hardware maintenance prod-db-1");
    AK_ASSERT_CONTAINS(text_of(ak_json_at(blocks, 1)), "*Rescheduled*: rescheduled to Dec 10");
    AK_ASSERT(slack_within_limits(p, NULL));
    ak_json_free(j);
    free(p);
    /* not important: no warning; a webhook payload: no channel, no thread */
    c.important = false;
    p = slack_of(&c, NULL, NULL);
    j = ak_json_parse(p, strlen(p), NULL);
    AK_ASSERT(j != NULL);
    AK_ASSERT_NULL(ak_json_get(j, "channel"));
    AK_ASSERT_NULL(ak_json_get(j, "thread_ts"));
    AK_ASSERT_STR(text_of(ak_json_at(ak_json_get(j, "blocks"), 0)),
                  "RDS hardware maintenance prod-db-1");
    ak_json_free(j);
    free(p);
}

AK_TEST(slack_huge_record_stays_within_limits)
{
    struct ak_maint_rec r = fixture();
    struct ak_change ch = change_of("created", "created", "created");
    struct ak_render_ctx c = ctx_of(&r, &ch, NULL);
    struct ak_buf desc = AK_BUF_INIT(AK_BUF_NOMAX), title = AK_BUF_INIT(AK_BUF_NOMAX);
    char **res = ak_xcalloc(200, sizeof(*res));
    size_t total = 0;
    char *p;

    for (int i = 0; i < 2000; i++) /* 20 KB with characters Slack must see escaped */
        ak_buf_add(&desc, "<a&b> 日本😀");
    for (int i = 0; i < 200; i++)
        res[i] = ak_xasprintf("arn:aws:rds:ap-northeast-1:123456789012:db:prod-db-%03d", i);
    for (int i = 0; i < 100; i++)
        ak_buf_add(&title, "Very long title ");
    r.description = desc.buf;
    r.title = title.buf;
    r.resources = res;
    r.n_resources = 200;
    r.account = title.buf;
    p = slack_of(&c, NULL, NULL);
    AK_ASSERT(p != NULL);
    AK_ASSERT(slack_within_limits(p, &total));
    AK_ASSERT(total > 5000); /* it used the room */
    AK_ASSERT_CONTAINS(p, "… <http://127.0.0.1:9780/api/v1/maintenance/42|full record>");
    AK_ASSERT_CONTAINS(p, "*Resources* (200)");
    AK_ASSERT_CONTAINS(p, "&lt;a&amp;b&gt;");
    AK_ASSERT(utf8_valid(p, strlen(p)));
    free(p);
    for (int i = 0; i < 200; i++)
        free(res[i]);
    free(res);
    ak_buf_release(&desc);
    ak_buf_release(&title);
}

AK_TEST(slack_mrkdwn_escaping)
{
    struct ak_maint_rec r = fixture();
    struct ak_change ch = change_of("created", "created", "a & b <!channel> <@U123>");
    struct ak_render_ctx c = ctx_of(&r, &ch, NULL);
    char *p = slack_of(&c, NULL, NULL);
    struct ak_json *j = p ? ak_json_parse(p, strlen(p), NULL) : NULL;
    const char *t;

    AK_ASSERT(j != NULL);
    t = text_of(ak_json_at(ak_json_get(j, "blocks"), 1));
    AK_ASSERT_CONTAINS(t, "a &amp; b &lt;!channel&gt; &lt;@U123&gt;");
    AK_ASSERT(!strstr(p, "<!channel>"));
    ak_json_free(j);
    free(p);
}

AK_TEST(slack_text_counts_and_cuts)
{
    char *t;

    AK_ASSERT_EQ_INT(ak__notify_slack_units("é", strlen("é")), 1);
    AK_ASSERT_EQ_INT(ak__notify_slack_units("日本", strlen("日本")), 2);
    AK_ASSERT_EQ_INT(ak__notify_slack_units("😀", strlen("😀")), 2);
    t = ak__notify_slack_text("abc", true, 3, "http://x");
    AK_ASSERT_STR(t, "abc");
    free(t);
    t = ak__notify_slack_text("a&b", true, 5, NULL); /* "a&amp;b" is 7: cut */
    AK_ASSERT_STR(t, "a…");
    free(t);
    t = ak__notify_slack_text("😀😀😀", false, 5, NULL); /* never half a surrogate pair */
    AK_ASSERT_STR(t, "😀😀…");
    free(t);
    t = ak__notify_slack_text("0123456789abcdef", true, 12, "http://verylonglink.example/x");
    AK_ASSERT_STR(t, "0123456789a…"); /* no room for the link: ellipsis alone */
    free(t);
    t = ak__notify_slack_text("bad \xff\xfe bytes\x01", false, 100, NULL);
    AK_ASSERT_STR(t, "bad \xEF\xBF\xBD\xEF\xBF\xBD bytes ");
    free(t);
}

AK_TEST(slack_golden)
{
    struct ak_maint_rec r = fixture();
    struct ak_change ch = change_of("rescheduled", "window:1796230800000:1796835600000",
                                    "rescheduled from Dec 3 02:00 JST to Dec 10 02:00 JST");
    struct ak_tz *tz = tokyo();
    struct ak_render_ctx c = ctx_of(&r, &ch, tz);
    char *p = slack_of(&c, NULL, NULL);

    AK_ASSERT(tz && p);
    AK_ASSERT(golden("tests/data/render/slack.json", p, strlen(p)));
    free(p);
    ak_tz_free(tz);
}

/* ---- webhook ------------------------------------------------------------------------------- */

AK_TEST(webhook_body)
{
    struct ak_maint_rec r = fixture();
    struct ak_change ch = change_of("reminder", "reminder:7d:1796835600000", "deadline in 7 days");
    struct ak_render_ctx c = ctx_of(&r, &ch, NULL);
    struct ak_buf out = AK_BUF_INIT(1024 * 1024);
    struct ak_json *j, *rec, *chg;

    AK_ASSERT_OK(ak__notify_webhook(&c, &out));
    j = ak_json_parse(out.buf, out.len, NULL);
    AK_ASSERT(j != NULL);
    AK_ASSERT_STR(ak_json_get_str(j, "version"), "1");
    AK_ASSERT_STR(ak_json_get_str(j, "type"), "reminder");
    rec = ak_json_get(j, "record");
    AK_ASSERT_EQ_INT(ak_json_int(ak_json_get(rec, "id")), 42);
    AK_ASSERT_STR(ak_json_get_str(rec, "deadline"), "2026-12-09T17:00:00Z");
    AK_ASSERT_STR(ak_json_get_str(rec, "important_why"), "required, deadline in 12 days");
    chg = ak_json_get(j, "change");
    AK_ASSERT_EQ_INT(ak_json_int(ak_json_get(chg, "id")), 7);
    AK_ASSERT_STR(ak_json_get_str(chg, "kind"), "reminder");
    AK_ASSERT_STR(ak_json_get_str(chg, "key"), "reminder:7d:1796835600000");
    AK_ASSERT_STR(ak_json_get_str(chg, "summary"), "deadline in 7 days");
    AK_ASSERT_STR(ak_json_get_str(chg, "at"), "2026-11-26T23:00:00Z");
    ak_json_free(j);
    ch.kind = (char *)"rescheduled";
    ak_buf_reset(&out);
    AK_ASSERT_OK(ak__notify_webhook(&c, &out));
    AK_ASSERT(strstr(out.buf, "\"type\":\"change\"") != NULL);
    ak_buf_release(&out);
}

AK_TEST(webhook_signature)
{
    char sig[160];
    const char *body = "{\"a\":1}";

    /* expected: printf '%s' '1795737600.{"a":1}' | openssl dgst -sha256 -hmac whsec_test */
    ak__notify_webhook_signature("whsec_test", NOW + 999, body, strlen(body), sig, sizeof(sig));
    AK_ASSERT_STR(sig, "t=1795737600,v1="
                       "5fe687ee26be7e932c2608ddd03c43199176892bd3b1fba08f55ec82a765c56e");
    ak__notify_webhook_signature("whsec_tesT", NOW, body, strlen(body), sig, sizeof(sig));
    AK_ASSERT(!strstr(sig, "5fe687ee26be"));
    ak__notify_webhook_signature("whsec_test", NOW, body, strlen(body), sig, 20); /* too small */
    AK_ASSERT_STR(sig, "");
}

/* ---- digest -------------------------------------------------------------------------------- */

struct dfix {
    struct ak_maint_rec recs[3];
    struct ak_change changes[3];
    struct ak_digest d;
};

static void dfix_init(struct dfix *f, const struct ak_tz *tz)
{
    static char *res2[] = {(char *)"prod-sessions-0001-001"};
    static char *res3[] = {(char *)"i-0abc123"};

    f->recs[0] = fixture();
    f->recs[1] = fixture();
    f->recs[1].id = 43;
    f->recs[1].service = (char *)"elasticache";
    f->recs[1].kind = (char *)"node-replacement";
    f->recs[1].resources = res2;
    f->recs[1].deadline = DEADLINE + 5 * DAY_MS;
    f->recs[1].important = false;
    f->recs[2] = fixture();
    f->recs[2].id = 44;
    f->recs[2].service = (char *)"ec2";
    f->recs[2].kind = (char *)"instance-retirement";
    f->recs[2].resources = res3;
    f->recs[2].deadline = 0;
    f->recs[2].window_start = 0;
    f->changes[0] = change_of("rescheduled", "window:1:2", "rescheduled to Dec 10 02:00");
    f->changes[1] = change_of("created", "created", "created");
    f->changes[1].rec_id = 43;
    f->changes[2] = change_of("deadline", "deadline:1", "deadline set");
    f->d = (struct ak_digest){.recs = f->recs, .n_recs = 3, .changes = f->changes,
                              .n_changes = 3, .since_ms = NOW - DAY_MS,
                              .date_label = "2026-11-27 (Fri)", .tz = tz,
                              .base_url = "http://127.0.0.1:9780", .now_ms = NOW};
}

AK_TEST(digest_email)
{
    struct dfix f;
    struct ak_tz *tz = tokyo();
    struct ak_buf out = AK_BUF_INIT(4 * 1024 * 1024);
    char *v, *s, *text, *html;
    const char *a, *b, *c3;

    AK_ASSERT(tz != NULL);
    dfix_init(&f, tz);
    AK_ASSERT_OK(ak__notify_digest_email(&f.d, "asakai@example.com", to2, 2,
                                         "<asakai.digest.2026-11-27@example.com>", &out));
    AK_ASSERT(longest_line(out.buf, out.len) <= 998 && longest_line(out.buf, out.len) > 0);
    v = header(out.buf, "Subject");
    s = ew_decode(v);
    AK_ASSERT_STR(s, "[asakai] Daily maintenance digest — 2026-11-27 (Fri): 3 open, 2 changed");
    AK_ASSERT_NULL(header(out.buf, "In-Reply-To"));
    text = part_text(out.buf, 0);
    html = part_text(out.buf, 1);
    AK_ASSERT(text && html);
    a = strstr(text, "#42");
    b = strstr(text, "#43");
    c3 = strstr(text, "#44");
    AK_ASSERT(a && b && c3 && a < b && b < c3); /* the caller's (deadline) order */
    AK_ASSERT_CONTAINS(text, "Dec 10 02:00 JST (in 12 days)");
    AK_ASSERT_CONTAINS(text, "Dec 15 02:00 JST (in 17 days)");
    AK_ASSERT_CONTAINS(text, "EC2 instance retirement i-0abc123");
    AK_ASSERT_CONTAINS(text, "no date yet");
    AK_ASSERT_CONTAINS(text, "Changed since Nov 26 09:00 JST:");
    AK_ASSERT_CONTAINS(text, "Nov 27 08:00 JST  Rescheduled: rescheduled to Dec 10 02:00 — RDS");
    AK_ASSERT_CONTAINS(html, "<a href=\"http://127.0.0.1:9780/api/v1/maintenance/43\">");
    free(v);
    free(s);
    free(text);
    free(html);
    ak_buf_release(&out);
    ak_tz_free(tz);
}

AK_TEST(digest_slack_many_records_within_limits)
{
    struct dfix f;
    struct ak_maint_rec *many = ak_xcalloc(500, sizeof(*many));
    struct ak_buf out = AK_BUF_INIT(1024 * 1024);
    struct ak_json *j;

    dfix_init(&f, NULL);
    for (int i = 0; i < 500; i++) {
        many[i] = fixture();
        many[i].id = 100 + i;
        many[i].deadline = DEADLINE + i * HOUR_MS;
    }
    f.d.recs = many;
    f.d.n_recs = 500;
    AK_ASSERT_OK(ak__notify_digest_slack(&f.d, "C0123", &out));
    AK_ASSERT(slack_within_limits(out.buf, NULL));
    AK_ASSERT(strstr(out.buf, "… and ") != NULL);
    AK_ASSERT_CONTAINS(out.buf, "|all in asakai>");
    j = ak_json_parse(out.buf, out.len, NULL);
    AK_ASSERT_STR(ak_json_get_str(j, "channel"), "C0123");
    AK_ASSERT_STR(text_of(ak_json_at(ak_json_get(j, "blocks"), 0)),
                  "Daily maintenance digest — 2026-11-27 (Fri)");
    AK_ASSERT_CONTAINS(text_of(ak_json_at(ak_json_get(j, "blocks"), 1)), "*500 open*");
    AK_ASSERT_CONTAINS(out.buf, "<http://127.0.0.1:9780/api/v1/maintenance/100|#100>");
    ak_json_free(j);
    free(many);
    ak_buf_release(&out);
}

AK_TEST(digest_empty)
{
    struct dfix f;
    struct ak_buf out = AK_BUF_INIT(1024 * 1024);
    char *text;

    dfix_init(&f, NULL);
    f.d.n_recs = 0;
    f.d.n_changes = 0;
    AK_ASSERT_OK(ak__notify_digest_slack(&f.d, NULL, &out));
    AK_ASSERT(slack_within_limits(out.buf, NULL));
    AK_ASSERT_CONTAINS(out.buf, "No open maintenance.");
    AK_ASSERT_CONTAINS(out.buf, "Nothing changed.");
    ak_buf_reset(&out);
    AK_ASSERT_OK(ak__notify_digest_email(&f.d, "a@example.com", to2, 1, "<d@x>", &out));
    text = part_text(out.buf, 0);
    AK_ASSERT_CONTAINS(text, "Open maintenance (0), by deadline:\n\nNone.");
    free(text);
    f.d.recs = NULL;
    f.d.n_recs = 2; /* inconsistent input is refused, not read */
    AK_ASSERT_EQ_INT(ak__notify_digest_webhook(&f.d, &out), AK_EINVAL);
    ak_buf_release(&out);
}

AK_TEST(digest_webhook)
{
    struct dfix f;
    struct ak_buf out = AK_BUF_INIT(1024 * 1024);
    struct ak_json *j;

    dfix_init(&f, NULL);
    AK_ASSERT_OK(ak__notify_digest_webhook(&f.d, &out));
    j = ak_json_parse(out.buf, out.len, NULL);
    AK_ASSERT(j != NULL);
    AK_ASSERT_STR(ak_json_get_str(j, "type"), "digest");
    AK_ASSERT_STR(ak_json_get_str(j, "date"), "2026-11-27 (Fri)");
    AK_ASSERT_STR(ak_json_get_str(j, "since"), "2026-11-26T00:00:00Z");
    AK_ASSERT_EQ_INT(ak_json_len(ak_json_get(j, "records")), 3);
    AK_ASSERT_EQ_INT(ak_json_int(ak_json_get(ak_json_at(ak_json_get(j, "records"), 2), "id")), 44);
    AK_ASSERT_EQ_INT(ak_json_len(ak_json_get(j, "changes")), 3);
    AK_ASSERT_EQ_INT(ak_json_int(ak_json_get(ak_json_at(ak_json_get(j, "changes"), 1), "rec_id")),
                     43);
    ak_json_free(j);
    ak_buf_release(&out);
}

/* ---- runbook step reminders and the morning report as the digest (issue 7) -------------- */

AK_TEST(step_reminder_words)
{
    struct ak_tz *tz = tokyo();
    struct ak_rb_instance rb = {.id = 3, .title = (char *)"ElastiCache node replacement",
                                .template_name = (char *)"elasticache-node-replacement",
                                .owner = (char *)"sre", .at_ms = NOW + 86400000LL * 7};
    struct ak_rb_step_row st = {.runbook_id = 3, .step_id = (char *)"notify-cs",
                                .title = (char *)"Publish the maintenance notice",
                                .owner = (char *)"cs", .type = (char *)"task",
                                .state = (char *)"pending", .due_at = NOW + 3600000LL * 5,
                                .body = (char *)"Why: <b>two weeks</b> notice."};
    struct ak_step_msg m = {.rb = &rb, .step = &st, .tz = tz, .now_ms = NOW};
    struct ak_buf out = AK_BUF_INIT(AK_BUF_NOMAX);
    char when[64], want[256];

    AK_ASSERT(tz);
    ak__notify_fmt_when(tz, st.due_at, when, sizeof(when));
    snprintf(want, sizeof(want), "[cs] Publish the maintenance notice — due %s, runbook #3 "
                                 "ElastiCache node replacement", when);
    AK_ASSERT_OK(ak__notify_step_subject(&m, &out));
    AK_ASSERT_STR(out.buf, want);
    ak_buf_reset(&out);
    m.now_ms = st.due_at + 1;
    AK_ASSERT_OK(ak__notify_step_subject(&m, &out));
    AK_ASSERT(ak_startswith(out.buf, "[cs] OVERDUE: Publish"));
    ak_buf_reset(&out);
    AK_ASSERT_OK(ak__notify_step_email(&m, "a@example.com", (const char *const[]){"b@example.com"},
                                       1, "<x@example.com>", &out));
    AK_ASSERT_CONTAINS(out.buf, "X-Asakai-Runbook: 3");
    AK_ASSERT_CONTAINS(out.buf, "&lt;b&gt;two"); /* the HTML part escapes the step's words */
    ak_buf_reset(&out);
    AK_ASSERT_OK(ak__notify_step_slack(&m, NULL, &out));
    AK_ASSERT(slack_within_limits(out.buf, NULL));
    ak_buf_reset(&out);
    AK_ASSERT_OK(ak__notify_step_webhook(&m, &out));
    struct ak_json *j = ak_json_parse(out.buf, out.len, NULL);
    AK_ASSERT_STR(ak_json_get_str(j, "type"), "runbook-step");
    AK_ASSERT_STR(ak_json_get_str(ak_json_get(j, "step"), "owner"), "cs");
    AK_ASSERT_EQ_INT(ak_json_int(ak_json_get(ak_json_get(j, "runbook"), "id")), 3);
    ak_json_free(j);
    m.step = NULL;
    AK_ASSERT_EQ_INT(ak__notify_step_subject(&m, &out), AK_EINVAL);
    ak_buf_release(&out);
    ak_tz_free(tz);
}

AK_TEST(report_digest_slack_summary_within_limits)
{
    struct ak_json *rep = ak_json_new_obj(), *q = ak_json_new_obj(), *dn = ak_json_new_arr();
    struct ak_json *counts = ak_json_new_obj();
    struct ak_buf out = AK_BUF_INIT(AK_BUF_NOMAX), big = AK_BUF_INIT(AK_BUF_NOMAX);

    for (int i = 0; i < 300; i++)
        ak_buf_add(&big, "<&>ü");
    for (int i = 0; i < 500; i++) {
        struct ak_json *it = ak_json_new_obj();
        ak_json_set_str(it, "title", big.buf);
        ak_json_set_str(it, "why", big.buf);
        ak_json_set_str(it, "when", "Dec 1 09:00 JST (in 2 days)");
        ak_json_append(dn, it);
    }
    ak_json_set(q, "do-now", dn);
    ak_json_set(rep, "quadrants", q);
    ak_json_set_int(counts, "do-now", 500);
    ak_json_set_int(counts, "note", 2);
    ak_json_set(rep, "counts", counts);
    ak_json_set_str(rep, "date_label", "2026-12-01 (Tue)");
    ak_json_set_str(rep, "date", "2026-12-01");
    struct ak_report_msg m = {.date = "2026-12-01", .md = "# md\n", .html = "<p>h</p>",
                              .report = rep, .now_ms = NOW};
    AK_ASSERT_OK(ak__notify_report_slack(&m, "#ops", &out));
    AK_ASSERT(slack_within_limits(out.buf, NULL));
    AK_ASSERT_CONTAINS(out.buf, "*do now* 500");
    AK_ASSERT_CONTAINS(out.buf, "more in the full report");
    AK_ASSERT_CONTAINS(out.buf, "&lt;&amp;&gt;");
    ak_buf_reset(&out);
    AK_ASSERT_OK(ak__notify_report_email(&m, "a@example.com", (const char *const[]){"b@example.com"},
                                         1, "<x@example.com>", &out));
    AK_ASSERT_CONTAINS(out.buf, "X-Asakai-Digest: 2026-12-01");
    ak_buf_reset(&out);
    AK_ASSERT_OK(ak__notify_report_webhook(&m, &out));
    AK_ASSERT_CONTAINS(out.buf, "\"type\":\"report\"");
    m.report = NULL;
    AK_ASSERT_EQ_INT(ak__notify_report_slack(&m, NULL, &out), AK_EINVAL);
    ak_buf_release(&out);
    ak_buf_release(&big);
    ak_json_free(rep);
}

AK_TEST_MAIN(AK_T(subject_utc_when_no_tz), AK_T(subject_in_readers_tz), AK_T(subject_prefixes),
             AK_T(subject_capped_on_utf8_boundary), AK_T(subject_has_no_control_characters),
             AK_T(email_headers), AK_T(email_root_message_has_no_reply_headers),
             AK_T(email_crlf_and_line_lengths), AK_T(email_boundary_is_deterministic_and_unique),
             AK_T(email_encoded_word_subject), AK_T(email_html_escapes_record_strings),
             AK_T(email_body_fields_and_times),
             AK_T(email_refuses_header_injection_and_missing_parts),
             AK_T(email_too_big_leaves_output_unchanged), AK_T(email_huge_description_is_cut),
             AK_T(email_golden), AK_T(slack_payload_shape),
             AK_T(slack_huge_record_stays_within_limits), AK_T(slack_mrkdwn_escaping),
             AK_T(slack_text_counts_and_cuts), AK_T(slack_golden), AK_T(webhook_body),
             AK_T(webhook_signature), AK_T(digest_email),
             AK_T(digest_slack_many_records_within_limits), AK_T(digest_empty),
             AK_T(digest_webhook), AK_T(step_reminder_words),
             AK_T(report_digest_slack_summary_within_limits))
