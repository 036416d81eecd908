/* ak_http.h — the daemon's HTTP server (src/http/; the only door to libmicrohttpd).
 * Routes: /healthz /readyz /metrics /intake/sns /intake/eventbridge /api/v1/... (see routes in
 * src/http/routes.c and docs/API.md). */
#ifndef AK_HTTP_H
#define AK_HTTP_H

struct ak_buf;
struct ak_cfg;
struct ak_intake;
struct ak_poll;
struct ak_sts;
struct ak_mon;
struct ak_http;

/* Binds cfg->listen and starts the worker threads. poll (may be NULL: the poll API answers 503)
 * serves /api/v1/poll. sts (may be NULL: /sts answers 404) serves /sts and /api/v1/oidc/log,
 * and authenticates API requests signed with SigV4 by credentials it issued. mon (may be NULL:
 * the monitoring API answers 503 and the dashboard shows no monitoring part) serves the
 * monitoring routes (docs/API.md "Monitoring") and the dashboard's sparklines and charts. */
int ak_http_start(const struct ak_cfg *cfg, struct ak_intake *in, struct ak_poll *poll,
                  struct ak_sts *sts, struct ak_mon *mon, struct ak_http **ret,
                  struct ak_buf *err);
/* Stops accepting new connections, lets requests in flight finish, stops. NULL-safe. */
void ak_http_stop(struct ak_http *h);
/* The port actually bound (useful with port 0). */
unsigned ak_http_port(const struct ak_http *h);

#endif
