#!/usr/bin/env python3
"""The compile-time benchmark: generates programs of growing size with
gen.py (deep let*, nested let, if and lambda, long bodies, many top-level
definitions, wide calls, a recursive macro), compiles and runs each with
the release termitec (`termitec run`), and prints the wall time and peak
RSS per size. Time and memory should grow about linearly with the size:
the last column is the time per 1,000 units of size, which stays flat
when they do.

Usage: python3 benches/compile/run.py [--no-build] [--timeout S] [KIND[=N,N,...] ...]
"""
import os, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import gen  # noqa: E402

TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
TERMITEC = os.path.join(TARGET, "release", "termitec")

SIZES = {
    "let*": [1000, 4000, 16000],
    "nested-let": [1000, 10000, 100000],
    "nested-if": [1000, 10000, 100000],
    "nested-lambda": [1000, 10000, 100000],
    "long-body": [1000, 4000, 16000],
    "toplevel": [1000, 10000, 40000],
    "wide-call": [1000, 100000, 1000000],
    "wide-let": [1000, 100000, 1000000],
    "macro": [500, 2000, 4000],
}


def run(path, timeout):
    """Wall time, peak RSS (bytes) and exit status of `termitec run path`."""
    t = time.perf_counter()
    p = subprocess.Popen([TERMITEC, "run", path], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        _, status, usage = os.wait4(p.pid, 0) if timeout is None else wait_with_timeout(p, timeout)
    except TimeoutError:
        p.kill()
        p.wait()
        return None, None, "timeout"
    wall = time.perf_counter() - t
    code = os.waitstatus_to_exitcode(status)
    return wall, usage.ru_maxrss * 1024, code


def wait_with_timeout(p, timeout):
    end = time.monotonic() + timeout
    while True:
        pid, status, usage = os.wait4(p.pid, os.WNOHANG)
        if pid:
            return pid, status, usage
        if time.monotonic() > end:
            raise TimeoutError
        time.sleep(0.01)


def main(argv):
    timeout = 120.0
    kinds = {}
    build = True
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "--no-build":
            build = False
        elif a == "--timeout":
            i += 1
            timeout = float(argv[i])
        elif a.split("=")[0] in gen.KINDS:
            k, _, ns = a.partition("=")
            kinds[k] = [int(n) for n in ns.split(",")] if ns else SIZES[k]
        else:
            sys.exit(__doc__)
        i += 1
    if not kinds:
        kinds = dict(SIZES)
    if build:
        subprocess.run(["cargo", "build", "--release", "-p", "termitec"], cwd=ROOT, check=True)
    print("%-14s %9s %10s %10s %12s" % ("program", "size", "time (s)", "RSS (MB)", "ms per 1000"))
    with tempfile.TemporaryDirectory() as tmp:
        for kind, sizes in kinds.items():
            for n in sizes:
                path = os.path.join(tmp, "%s-%d.scm" % (kind.replace("*", "star"), n))
                with open(path, "w") as f:
                    f.write(gen.KINDS[kind](n))
                wall, rss, code = run(path, timeout)
                if wall is None:
                    print("%-14s %9d %10s" % (kind, n, "> %gs" % timeout), flush=True)
                    continue
                note = "" if code == 0 else "  (exit %s)" % code
                print("%-14s %9d %10.2f %10.0f %12.1f%s"
                      % (kind, n, wall, rss / 1e6, wall * 1e6 / n, note), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
