/* bench_intake.c — load generator for `make bench`: signed SNS notifications accepted per second,
 * end to end over HTTP with durable commit.
 *
 *   bench_intake KEY.pem CERT_URL TOPIC_ARN HOST PORT N CONNS
 *
 * Signs N distinct SV2 notifications with KEY (RSA, SHA-256) up front, then sends them over CONNS
 * keep-alive connections as fast as the daemon answers, and prints "accepted=N seconds=S rate=R".
 * Every answer must be 200 {"result":"accepted"...}; anything else is counted and reported.
 * (bench/ is not a module: it uses OpenSSL directly, as a client of the daemon would.) */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct conn {
    int fd;
    size_t next_msg;   /* message being sent */
    char *req;
    size_t req_len, sent;
    char resp[4096];
    size_t resp_len;
    int busy;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* CPU seconds (user + system) used so far by process pid, from /proc; -1 when unknown. */
static double proc_cpu(const char *pid)
{
    char path[64], buf[1024];
    if (!pid || !*pid)
        return -1;
    snprintf(path, sizeof(path), "/proc/%s/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = 0;
    char *p = strrchr(buf, ')'); /* the command name may hold spaces */
    unsigned long ut = 0, st = 0;
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
        return -1;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static char *b64(const unsigned char *in, size_t n)
{
    char *out = malloc(4 * ((n + 2) / 3) + 1);
    EVP_EncodeBlock((unsigned char *)out, in, (int)n);
    return out;
}

static char *make_request(EVP_PKEY *key, const char *cert_url, const char *topic, size_t i,
                          const char *host, int port, size_t *ret_len)
{
    char msg[256], id[64], sts[1024], body[4096];
    unsigned char sig[512];
    size_t siglen = sizeof(sig);
    snprintf(msg, sizeof(msg), "{\\\"bench\\\":%zu}", i);
    snprintf(id, sizeof(id), "00000000-0000-4000-8000-%012zu", i);
    /* string-to-sign uses the unescaped Message: {"bench":i} */
    char plain[128];
    snprintf(plain, sizeof(plain), "{\"bench\":%zu}", i);
    snprintf(sts, sizeof(sts),
             "Message\n%s\nMessageId\n%s\nTimestamp\n2026-11-26T00:00:00.000Z\nTopicArn\n%s\n"
             "Type\nNotification\n",
             plain, id, topic);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, key) != 1 ||
        EVP_DigestSign(ctx, sig, &siglen, (const unsigned char *)sts, strlen(sts)) != 1) {
        fprintf(stderr, "bench: signing failed\n");
        exit(2);
    }
    EVP_MD_CTX_free(ctx);
    char *s64 = b64(sig, siglen);
    int blen = snprintf(body, sizeof(body),
                        "{\"Type\":\"Notification\",\"MessageId\":\"%s\",\"TopicArn\":\"%s\","
                        "\"Message\":\"%s\",\"Timestamp\":\"2026-11-26T00:00:00.000Z\","
                        "\"SignatureVersion\":\"2\",\"Signature\":\"%s\",\"SigningCertURL\":\"%s\"}",
                        id, topic, msg, s64, cert_url);
    free(s64);
    char *req = malloc((size_t)blen + 512);
    int n = snprintf(req, (size_t)blen + 512,
                     "POST /intake/sns HTTP/1.1\r\nHost: %s:%d\r\nContent-Type: text/plain; "
                     "charset=UTF-8\r\nx-amz-sns-message-type: Notification\r\n"
                     "Content-Length: %d\r\n\r\n%s",
                     host, port, blen, body);
    *ret_len = (size_t)n;
    return req;
}

static int connect_to(const char *host, int port)
{
    struct sockaddr_in a = {0};
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    inet_pton(AF_INET, host, &a.sin_addr);
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        perror("bench: connect");
        exit(2);
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return fd;
}

/* A complete response is in c->resp: headers + Content-Length bytes. Returns status or 0. */
static int response_done(struct conn *c)
{
    c->resp[c->resp_len] = 0;
    char *end = strstr(c->resp, "\r\n\r\n");
    if (!end)
        return 0;
    char *cl = strstr(c->resp, "Content-Length: ");
    if (!cl)
        cl = strstr(c->resp, "content-length: ");
    size_t len = cl ? strtoul(cl + 16, NULL, 10) : 0;
    if ((size_t)(end + 4 - c->resp) + len > c->resp_len)
        return 0;
    return atoi(c->resp + 9);
}

int main(int argc, char **argv)
{
    if (argc != 8) {
        fprintf(stderr, "usage: bench_intake KEY.pem CERT_URL TOPIC HOST PORT N CONNS\n");
        return 2;
    }
    FILE *kf = fopen(argv[1], "r");
    EVP_PKEY *key = kf ? PEM_read_PrivateKey(kf, NULL, NULL, NULL) : NULL;
    if (!key) {
        fprintf(stderr, "bench: cannot read key %s\n", argv[1]);
        return 2;
    }
    fclose(kf);
    const char *host = argv[4];
    int port = atoi(argv[5]);
    size_t n = strtoul(argv[6], NULL, 10), nconn = strtoul(argv[7], NULL, 10);
    char **reqs = calloc(n, sizeof(char *));
    size_t *lens = calloc(n, sizeof(size_t));
    for (size_t i = 0; i < n; i++)
        reqs[i] = make_request(key, argv[2], argv[3], i, host, port, &lens[i]);

    /* warm-up: one request fetches and caches the certificate */
    struct conn *cs = calloc(nconn, sizeof(*cs));
    struct pollfd *pfd = calloc(nconn, sizeof(*pfd));
    size_t next = 0, accepted = 0, other = 0, done = 0;
    for (size_t i = 0; i < nconn; i++)
        cs[i].fd = connect_to(host, port);
    double t0 = 0, cpu0 = -1;
    int warm = 1;
    const char *cpu_pid = getenv("BENCH_CPU_PID");
    while (done < n) {
        for (size_t i = 0; i < nconn; i++) {
            struct conn *c = &cs[i];
            if (!c->busy && next < n && (!warm || (i == 0 && next == 0))) {
                c->next_msg = next++;
                c->req = reqs[c->next_msg];
                c->req_len = lens[c->next_msg];
                c->sent = 0;
                c->resp_len = 0;
                c->busy = 1;
            }
            pfd[i].fd = c->fd;
            pfd[i].events = c->busy ? (c->sent < c->req_len ? POLLOUT : POLLIN) : 0;
        }
        if (poll(pfd, nconn, 30000) <= 0) {
            fprintf(stderr, "bench: timed out waiting for the daemon\n");
            return 1;
        }
        for (size_t i = 0; i < nconn; i++) {
            struct conn *c = &cs[i];
            if (!c->busy || !pfd[i].revents)
                continue;
            if (c->sent < c->req_len) {
                ssize_t w = send(c->fd, c->req + c->sent, c->req_len - c->sent, MSG_NOSIGNAL);
                if (w > 0)
                    c->sent += (size_t)w;
                continue;
            }
            ssize_t r = recv(c->fd, c->resp + c->resp_len, sizeof(c->resp) - 1 - c->resp_len, 0);
            if (r <= 0) {
                fprintf(stderr, "bench: connection closed by the daemon\n");
                return 1;
            }
            c->resp_len += (size_t)r;
            int st = response_done(c);
            if (!st)
                continue;
            if (st == 200 && strstr(c->resp, "\"accepted\""))
                accepted++;
            else if (other++ < 3)
                fprintf(stderr, "bench: unexpected answer: %.300s\n", c->resp);
            c->busy = 0;
            done++;
            if (warm) {
                warm = 0;
                t0 = now_s();
                cpu0 = proc_cpu(cpu_pid);
            }
        }
    }
    double secs = now_s() - t0, cpu1 = proc_cpu(cpu_pid);
    printf("accepted=%zu other=%zu seconds=%.3f rate=%.1f daemon_cpu=%.0f%%\n", accepted, other,
           secs, (accepted ? accepted - 1 : 0) / secs,
           cpu0 >= 0 && cpu1 >= 0 ? 100 * (cpu1 - cpu0) / secs : -1.0);
    return other ? 1 : 0;
}
