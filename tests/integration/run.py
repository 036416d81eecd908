#!/usr/bin/python3
"""run.py — asakai's integration test runner (TAP output).

usage: ASAKAI_BIN=<builddir>/asakai tests/integration/run.py [-k SUBSTRING] [-v] [-j N]

Discovers tests/integration/test_*.py, runs every function named test_* in source order (each
starts its own daemon when it needs one), prints "ok N - name" / "not ok N - name" with
"# " diagnostics, and exits 1 when any test failed. A failed test's work dir (configs, data,
daemon stderr) is kept and named in the diagnostics.

-j N runs the tests in N processes (tests are independent: each has its own work dir, daemon and
free ports; the longest ones mostly wait for schedules), test i in process i mod N, and prints
the results in the usual order and numbering once all have finished.
"""
import argparse
import glob
import re
import subprocess
import importlib.util
import inspect
import os
import signal
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import aklib  # noqa: E402

TEST_TIMEOUT = 120


class TestTimeout(Exception):
    pass


def _alarm(signum, frame):
    raise TestTimeout("test took longer than %ds" % TEST_TIMEOUT)


def discover(pattern):
    tests = []
    for path in sorted(glob.glob(os.path.join(HERE, "test_*.py"))):
        mod_name = os.path.splitext(os.path.basename(path))[0]
        spec = importlib.util.spec_from_file_location(mod_name, path)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        fns = [(inspect.getsourcelines(f)[1], n, f) for n, f in vars(mod).items()
               if n.startswith("test_") and inspect.isfunction(f) and f.__module__ == mod_name]
        for _, n, f in sorted(fns):
            full = "%s.%s" % (mod_name, n)
            if not pattern or any(p in full for p in pattern):
                tests.append((full, f))
    return tests


def diag(text):
    for line in str(text).rstrip("\n").splitlines():
        print("# " + line)


TAP_RESULT = re.compile(r"^(not ok|ok) \d+ - (\S+)(.*)$")
SHARD_MARK = "# >> "  # a child's line before each test: what follows is that test's


def run_parallel(args, tests):
    """Runs the tests in args.j child processes and prints their TAP in the usual order."""
    t_all = time.monotonic()
    base = [sys.executable, os.path.abspath(__file__)] + (["-v"] if args.v else [])
    kids = [subprocess.Popen(base + ["--shard", "%d/%d" % (i, args.j)] +
                             sum((["-k", k] for k in (args.k or [])), []),
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            for i in range(args.j)]
    outs = [k.communicate()[0] for k in kids]
    blocks, bail = {}, []
    for out in outs:
        cur = None  # [status, rest, lines before the result, lines after it]
        for line in out.splitlines():
            m = TAP_RESULT.match(line)
            if line.startswith(SHARD_MARK):
                cur = ["not ok", "", [], ["# no result: its process ended during the test"]]
                blocks[line[len(SHARD_MARK):]] = cur
            elif m and cur is not None:
                cur[0], cur[1], cur[3] = m.group(1), m.group(3), []
            elif re.match(r"^# \d+/\d+ passed in", line) or line.startswith("# failed: ") or \
                    re.match(r"^\d+\.\.\d+$", line):
                continue
            elif cur is None:
                bail.append(line)
            elif cur[0] == "not ok" and cur[3] is not None and not cur[3][:1] == [
                    "# no result: its process ended during the test"]:
                cur[3].append(line)
            else:
                cur[2].append(line)
    print("1..%d" % len(tests))
    failed = []
    for i, (name, _) in enumerate(tests, 1):
        status, rest, before, after = blocks.get(
            name, ["not ok", "", [], ["# no result: its process ended before it ran"]])
        for d in before:
            print(d)
        print("%s %d - %s%s" % (status, i, name, rest))
        for d in after:
            print(d)
        if status != "ok":
            failed.append(name)
    for line in bail:
        print(line if line.startswith(("#", "Bail")) else "# " + line)
    diag("%d/%d passed in %.1fs (%d processes)" % (len(tests) - len(failed), len(tests),
                                                   time.monotonic() - t_all, args.j))
    if failed:
        diag("failed: " + ", ".join(failed))
    return 1 if failed or any(k.returncode not in (0, 1) for k in kids) else 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-k", action="append", help="run only tests whose name contains this")
    ap.add_argument("-v", action="store_true", help="print timing per test")
    ap.add_argument("-j", type=int, default=1, help="run the tests in this many processes")
    ap.add_argument("--shard", help=argparse.SUPPRESS)  # "i/N": this child's share
    args = ap.parse_args()

    try:
        aklib.asakai_bin()
    except aklib.TestFailure as e:
        print("Bail out! %s" % e)
        return 2
    tests = discover(args.k)
    if args.j > 1 and not args.shard:
        return run_parallel(args, tests)
    if args.shard:
        i, n = (int(x) for x in args.shard.split("/"))
        tests = [t for k, t in enumerate(tests) if k % n == i]
    print("1..%d" % len(tests))
    sys.stdout.flush()
    signal.signal(signal.SIGALRM, _alarm)
    failed = []
    t_all = time.monotonic()
    for i, (name, fn) in enumerate(tests, 1):
        if args.shard:
            print(SHARD_MARK + name)
        t0 = time.monotonic()
        aklib.workdir()
        err = None
        signal.alarm(TEST_TIMEOUT)
        try:
            fn()
        except BaseException as e:  # noqa: B902 - a test may fail any way it likes
            if isinstance(e, KeyboardInterrupt):
                raise
            err = e
            tb = traceback.format_exc()
        finally:
            signal.alarm(0)
        # a test that failed may leave daemons running: stop them hard
        for d in list(aklib.LIVE):
            if d.proc is not None:
                try:
                    d.proc.kill()
                    d.proc.wait()
                except OSError:
                    pass
                d.proc = None
        dt = time.monotonic() - t0
        if err is None:
            print("ok %d - %s%s" % (i, name, " # %.1fs" % dt if args.v else ""))
            aklib.cleanup_workdir()
        else:
            failed.append(name)
            print("not ok %d - %s" % (i, name))
            if isinstance(err, (aklib.TestFailure, TestTimeout)):
                diag("%s: %s" % (type(err).__name__, err))
                frames = [ln for ln in tb.splitlines() if "test_" in ln and "File" in ln]
                if frames:
                    diag("at" + frames[-1].split(",", 1)[1])
            else:
                diag(tb)
            for d in aklib.LIVE:
                for n, log in enumerate(d.logs, 1):
                    diag("daemon %s run %d stderr (last lines of %s):" % (d.url, n, log))
                    diag("\n".join(d.log_text(log).splitlines()[-10:]))
            kept = aklib.cleanup_workdir(keep=True)
            diag("work dir kept: %s" % kept)
        sys.stdout.flush()
    diag("%d/%d passed in %.1fs" % (len(tests) - len(failed), len(tests),
                                    time.monotonic() - t_all))
    if failed:
        diag("failed: " + ", ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
