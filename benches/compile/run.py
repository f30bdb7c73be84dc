#!/usr/bin/env python3
"""The compile-time benchmark: generates programs of growing size with
gen.py (deep let*, nested let, if and lambda, long bodies, many top-level
definitions, wide calls, a recursive macro), compiles and runs each with
the release termitec, with `termitec run` (JIT: compile and run) and with
`termitec build` (AOT: compile and link; the executable is then run to
check its output, untimed), and prints the wall time and peak RSS of each
per size. Time and memory should grow about linearly with the size: the
last column is the `run` time per 1,000 units of size, which stays flat
when they do. TERMITEC=path times another termitec binary.

Usage: python3 benches/compile/run.py [--no-build] [--timeout S] [--mode run|build|both] [KIND[=N,N,...] ...]
"""
import os, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import gen  # noqa: E402

TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
TERMITEC = os.environ.get("TERMITEC", os.path.join(TARGET, "release", "termitec"))

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


def run(cmd, timeout):
    """Wall time, peak RSS (bytes) and exit status of `cmd`."""
    t = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
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
    modes = ["run", "build"]
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "--no-build":
            build = False
        elif a == "--mode":
            i += 1
            modes = ["run", "build"] if argv[i] == "both" else [argv[i]]
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
    head = "%-14s %9s" % ("program", "size")
    for m in modes:
        head += " %10s %9s" % (m + " (s)", "RSS (MB)")
    print(head + " %12s" % "ms per 1000")
    with tempfile.TemporaryDirectory() as tmp:
        for kind, sizes in kinds.items():
            for n in sizes:
                path = os.path.join(tmp, "%s-%d.scm" % (kind.replace("*", "star"), n))
                with open(path, "w") as f:
                    f.write(gen.KINDS[kind](n))
                exe = path[:-4]
                line = "%-14s %9d" % (kind, n)
                first = None
                notes = []
                for m in modes:
                    cmd = [TERMITEC, "run", path] if m == "run" else [TERMITEC, "build", path, "-o", exe]
                    wall, rss, code = run(cmd, timeout)
                    if wall is None:
                        line += " %10s %9s" % ("> %gs" % timeout, "")
                        continue
                    if code != 0:
                        notes.append("%s exit %s" % (m, code))
                    elif m == "build":
                        # The executable must print what `run` prints.
                        r = subprocess.run([exe], capture_output=True, timeout=timeout)
                        if r.returncode != 0:
                            notes.append("executable exit %s" % r.returncode)
                    line += " %10.2f %9.0f" % (wall, rss / 1e6)
                    first = wall if first is None else first
                line += " %12s" % ("%.1f" % (first * 1e6 / n) if first is not None else "")
                if notes:
                    line += "  (%s)" % ", ".join(notes)
                print(line, flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
