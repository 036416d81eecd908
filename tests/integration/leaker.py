#!/usr/bin/python3
"""leaker.py — a process that leaks memory on purpose, for tests/integration/test_mon_real.py.

usage: leaker.py PORT [MB_PER_STEP [STEP_SECONDS [MAX_MB]]]

Serves GET /metrics on 127.0.0.1:PORT (Prometheus text 0.0.4) with its own resident memory
(VmRSS of /proc/self/status, bytes) as process_resident_memory_bytes and
leaker_allocated_bytes, and keeps MB_PER_STEP (2) MiB more every STEP_SECONDS (0.1), touched so
that it is resident, up to MAX_MB (1024) MiB; then it holds. Exits when stdin closes or on
SIGTERM, so it never outlives the test.
"""
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HELD = []
LOCK = threading.Lock()


def vm_rss_bytes():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def leak(mb, step, max_mb):
    while True:
        with LOCK:
            if len(HELD) * mb < max_mb:
                # bytearray zero-fills: every page is written, so it counts in VmRSS
                HELD.append(bytearray(mb * 1024 * 1024))
        time.sleep(step)


class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def do_GET(self):
        if self.path.split("?")[0] != "/metrics":
            self.send_error(404)
            return
        with LOCK:
            held = sum(len(b) for b in HELD)
        body = ("# HELP process_resident_memory_bytes Resident memory size in bytes.\n"
                "# TYPE process_resident_memory_bytes gauge\n"
                "process_resident_memory_bytes %d\n"
                "# HELP leaker_allocated_bytes Bytes the leaker holds on purpose.\n"
                "# TYPE leaker_allocated_bytes gauge\n"
                "leaker_allocated_bytes %d\n" % (vm_rss_bytes(), held)).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def main():
    port = int(sys.argv[1])
    mb = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    step = float(sys.argv[3]) if len(sys.argv) > 3 else 0.1
    max_mb = int(sys.argv[4]) if len(sys.argv) > 4 else 1024
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
    srv = ThreadingHTTPServer(("127.0.0.1", port), H)
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    threading.Thread(target=leak, args=(mb, step, max_mb), daemon=True).start()
    # the parent holds our stdin open; EOF means it is gone
    try:
        sys.stdin.read()
    except (OSError, ValueError):
        pass


if __name__ == "__main__":
    main()
