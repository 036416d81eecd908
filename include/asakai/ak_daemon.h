/* ak_daemon.h — `asakai serve`: config, store, intake writer, HTTP server, signals (src/daemon/). */
#ifndef AK_DAEMON_H
#define AK_DAEMON_H

/* Runs the daemon until SIGTERM/SIGINT, then drains and exits.
 * config_path may be NULL (embedded defaults); listen/data_dir override the config when not NULL.
 * Returns a process exit code: 0 clean stop, 1 runtime failure, 2 configuration error. */
int ak_daemon_serve(const char *config_path, const char *listen, const char *data_dir);

#endif
