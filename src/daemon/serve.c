/* serve.c — the daemon's lifecycle.
 *
 * Signals are blocked in every thread before any starts, and the main thread waits for them with
 * sigwait(): no code runs in a signal handler. Shutdown order is the reverse of start: stop
 * accepting and drain HTTP requests in flight (their messages are committed by the writer), then
 * stop the engines the handlers use (STS twin, monitoring), the writer (it commits what is
 * queued) and close the store. */
#include "asakai/ak_daemon.h"

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ak_config.h"
#include "asakai/ak_buf.h"
#include "asakai/ak_cfg.h"
#include "asakai/ak_crypto.h"
#include "asakai/ak_err.h"
#include "asakai/ak_http.h"
#include "asakai/ak_httpc.h"
#include "asakai/ak_intake.h"
#include "asakai/ak_log.h"
#include "asakai/ak_mon.h"
#include "asakai/ak_notify.h"
#include "asakai/ak_poll.h"
#include "asakai/ak_report.h"
#include "asakai/ak_sts.h"
#include "asakai/ak_util.h"
#include "../core/ak_banned.h"

/* True when the listen address is loopback only (127.0.0.0/8, ::1, or an empty host). */
static bool loopback_listen(const char *listen)
{
    return ak_startswith(listen, "127.") || ak_startswith(listen, "[::1]:") ||
           ak_startswith(listen, "localhost:") || listen[0] == ':';
}

static void kick_notify(void *arg)
{
    ak_notify_kick(arg);
}

/* The morning report for the notification worker's digest (ak_notify_set_report). */
static int build_report(void *arg, int64_t at_ms, const char *tz, struct ak_buf *md,
                        struct ak_buf *html, struct ak_buf *json)
{
    struct ak_buf err = AK_BUF_INIT(1024);
    int r = ak_report_digest(arg, at_ms, tz, md, html, json, &err);

    if (r < 0)
        ak_log(AK_LOG_WARN, "daemon", "cannot build the morning report", "error",
               err.len ? err.buf : ak_strerror(r), NULL);
    ak_buf_release(&err);
    return r;
}

static void replace(char **dst, const char *v)
{
    free(*dst);
    *dst = ak_xstrdup(v);
}

int ak_daemon_serve(const char *config_path, const char *listen, const char *data_dir)
{
    struct ak_cfg cfg;
    struct ak_buf err = AK_BUF_INIT(8192);
    struct ak_intake *in = NULL;
    struct ak_http *http = NULL;
    struct ak_notify *notify = NULL;
    struct ak_poll *poll = NULL;
    struct ak_sts *sts = NULL;
    struct ak_mon *mon = NULL;
    enum ak_log_level lvl;
    sigset_t set;
    int sig = 0, rc = 1, r;
    char port[16];

    if (config_path)
        r = ak_cfg_load(config_path, &cfg, &err);
    else {
        ak_cfg_defaults(&cfg);
        r = AK_OK;
    }
    if (r < 0) {
        fprintf(stderr, "asakai: invalid configuration:\n%s%s", err.buf,
                ak_endswith(err.buf, "\n") ? "" : "\n");
        ak_buf_release(&err);
        return 2;
    }
    if (listen)
        replace(&cfg.listen, listen);
    if (data_dir)
        replace(&cfg.data_dir, data_dir);
    if (!loopback_listen(cfg.listen) && (!cfg.api_token || !*cfg.api_token)) {
        /* beyond loopback the import API would let anyone add unsigned messages */
        fprintf(stderr, "asakai: server.listen %s is not a loopback address: set server.api_token "
                        "so that /api/v1 is not open to everyone who can reach the intake "
                        "endpoints\n", cfg.listen);
        ak_cfg_release(&cfg);
        ak_buf_release(&err);
        return 2;
    }
    if (ak_log_parse_level(cfg.log_level, &lvl) == AK_OK)
        ak_log_set_level(lvl);

    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    ak_crypto_global_init();
    ak_httpc_global_init();

    r = ak_intake_start(&cfg, &in, &err);
    if (r < 0) {
        ak_log(AK_LOG_ERR, "daemon", "cannot open the store", "data", cfg.data_dir, "error",
               err.buf, NULL);
        goto out;
    }
    if (cfg.n_receivers) {
        r = ak_notify_start(&cfg, &notify, &err);
        if (r < 0) {
            ak_log(AK_LOG_ERR, "daemon", "cannot start notifications", "error", err.buf, NULL);
            rc = r == AK_ECONFIG ? 2 : 1;
            goto out;
        }
        ak_intake_set_listener(in, kick_notify, notify);
        ak_notify_set_report(notify, build_report, &cfg);
    }
    r = ak_poll_start(&cfg, &poll, &err);
    if (r < 0) {
        ak_log(AK_LOG_ERR, "daemon", "cannot start the pollers", "error", err.buf, NULL);
        rc = r == AK_ECONFIG ? 2 : 1;
        goto out;
    }
    if (notify)
        ak_poll_set_listener(poll, kick_notify, notify);
    if (cfg.sts_enabled) {
        r = ak_sts_start(&cfg, &sts, &err);
        if (r < 0) {
            ak_log(AK_LOG_ERR, "daemon", "cannot start the STS twin", "error", err.buf, NULL);
            rc = r == AK_ECONFIG ? 2 : 1;
            goto out;
        }
    }
    r = ak_mon_start(&cfg, &mon, &err);
    if (r < 0) {
        ak_log(AK_LOG_ERR, "daemon", "cannot start monitoring", "error", err.buf, NULL);
        rc = r == AK_ECONFIG ? 2 : 1;
        goto out;
    }
    r = ak_http_start(&cfg, in, poll, sts, mon, &http, &err);
    if (r < 0) {
        ak_log(AK_LOG_ERR, "daemon", "cannot start the HTTP server", "error", err.buf, NULL);
        rc = r == AK_ECONFIG ? 2 : 1;
        goto out;
    }
    snprintf(port, sizeof(port), "%u", ak_http_port(http));
    ak_log(AK_LOG_INFO, "daemon", "asakai started", "version", AK_VERSION, "listen", cfg.listen,
           "port", port, "data", cfg.data_dir, "config", cfg.source, NULL);
    for (;;) {
        if (sigwait(&set, &sig) != 0)
            continue;
        if (sig == SIGHUP) {
            ak_log(AK_LOG_INFO, "daemon", "SIGHUP: configuration reload is not supported yet; "
                                          "restart to apply changes", NULL);
            continue;
        }
        break;
    }
    ak_log(AK_LOG_INFO, "daemon", "shutting down", "signal", sig == SIGINT ? "INT" : "TERM", NULL);
    rc = 0;
out:
    ak_poll_abort(poll); /* an API call may be running a pass: end it before the server stops */
    ak_http_stop(http);
    ak_sts_stop(sts); /* after the server: no request can be using it any more */
    ak_mon_stop(mon); /* likewise; commits what the collector ingested */
    ak_poll_stop(poll);
    if (in)
        ak_intake_set_listener(in, NULL, NULL);
    ak_notify_stop(notify); /* finishes the send in progress */
    ak_intake_stop(in);
    if (rc == 0)
        ak_log(AK_LOG_INFO, "daemon", "stopped cleanly", NULL);
    ak_httpc_global_cleanup();
    ak_cfg_release(&cfg);
    ak_buf_release(&err);
    return rc;
}
