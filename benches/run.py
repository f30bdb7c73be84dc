#!/usr/bin/env python3
"""The benchmark runner: builds termitec in release mode, then runs three suites.

Sequential (benches/scheme/): each program is compiled by termitec (AOT,
`termitec build`), run by `termitec run` (JIT, compile time included),
compiled by Gambit (`gsc -exe`, with GAMBIT_PRELUDE's declarations) and run by
Chez Scheme (`scheme --script`, at Chez's default optimize level, which is
safe: the way users run it). The runs alternate between the implementations
(so that they see the same noise) and each one's median wall time is shown,
with the ratios AOT/Gambit, AOT/Chez, JIT/Gambit and their geometric means.
Every output is checked against the others: a program whose outputs differ
is reported loudly and left out of the means. A run that takes longer than
--timeout seconds is killed and reported as a timeout (not run again).
With --baseline PATH (another termitec binary, e.g. a release build of an
earlier commit), its AOT programs are measured in the same alternation, and a
before/after table shows this build's time relative to the baseline's (below
1.0: faster now).

Concurrency (benches/concurrency/, paper section 7: ring, ping-pong;
spawning; memory per idle process) against Erlang/OTP, run with `erl` both
by default and with +S1.

Distribution (benches/dist/, two nodes over loopback): ping-pong round
trips/s (unpinned and both nodes on one core), one-way small messages/s, a
100 MB message's MB/s and the worst ping while it is in flight, connection
time; against Erlang/OTP distribution (erl -name) and a raw-socket floor
(benches/dist/rawsock.c); a process migrating back and forth (median and
99th percentile per migration, holding nothing and about 1 MB of live
data: the paper's 7.3); and the wire format's encode and decode speed
(the runtime's release-mode speed test).

Usage: python3 benches/run.py [--runs N] [--timeout S] [--sequential | --concurrency | --dist]
                              [--baseline PATH] [NAME ...]   (see --help)
"""
import argparse, math, os, re, shutil, statistics, subprocess, sys, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SRC = os.path.join(ROOT, "benches", "scheme")
OUT = os.path.join(ROOT, "benches", "out")
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
TERMITEC = os.path.join(TARGET, "release", "termitec")
GAMBIT_PRELUDE = "(declare (standard-bindings) (extended-bindings) (block))\n"
# Chez Scheme 9.5 has only R6RS's define-record-type. Programs that use the
# R7RS form (all fields in the constructor, in order, no modifiers: what
# termitec allows) get this shim, which maps it onto Chez's native records.
CHEZ_RECORD_SHIM = """\
(import (rename (only (rnrs records syntactic) define-record-type)
                (define-record-type r6rs:define-record-type)))
(define-syntax define-record-type
  (syntax-rules ()
    ((_ type (ctor field ...) pred (fname accessor) ...)
     (r6rs:define-record-type (type ctor pred) (fields (immutable fname accessor) ...)))))
"""

def sh(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, **kw)

BASELINE = None

CONC = os.path.join(ROOT, "benches", "concurrency")

def sexp_numbers(text):
    """The numbers of a printed list like (first-zero 1.2 all-done 1.3)."""
    out = []
    for tok in text.replace("(", " ").replace(")", " ").split():
        try:
            out.append(float(tok))
        except ValueError:
            pass
    return out

def peak_rss(cmd):
    pid = os.fork()
    if pid == 0:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        try:
            os.execvp(cmd[0], cmd)
        finally:
            os._exit(127)
    _, status, usage = os.wait4(pid, 0)
    return usage.ru_maxrss * 1024 if os.waitstatus_to_exitcode(status) == 0 else None

def concurrency(runs):
    erl = shutil.which("erl")
    erlc = shutil.which("erlc")
    if not erl or not erlc:
        print("note: Erlang is missing: apt-get install erlang-base erlang-dev (or benches/install-peers.sh)", file=sys.stderr)
    erl_out = os.path.join(OUT, "erl")
    os.makedirs(erl_out, exist_ok=True)
    # A crashed erl (e.g. out of processes) leaves its dump here, not in the repository.
    os.environ["ERL_CRASH_DUMP"] = os.path.join(OUT, "erl_crash.dump")
    if erlc:
        for f in os.listdir(CONC):
            if f.endswith(".erl"):
                sh([erlc, "-o", erl_out, os.path.join(CONC, f)])
    gsc = shutil.which("gsc") or shutil.which("gambitc")
    gambit = {}
    if gsc:
        for name in ("ring", "pingpong", "pingpong_list", "spawn", "idle", "idle_worked"):
            exe = os.path.join(OUT, "conc-gambit-" + name)
            if sh([gsc, "-exe", "-o", exe, os.path.join(CONC, "gambit", name + ".scm")]).returncode == 0:
                gambit[name] = exe
    exes, base_exes = {}, {}
    for name in ("ring", "pingpong", "pingpong_list", "spawn", "idle", "idle_worked"):
        for compiler, table, suffix in ((TERMITEC, exes, ""), (BASELINE, base_exes, "-baseline")):
            if not compiler:
                continue
            exe = os.path.join(OUT, "conc-" + name + suffix)
            r = sh([compiler, "build", os.path.join(CONC, name + ".scm"), "-o", exe])
            if r.returncode != 0:
                sys.exit(r.stderr)
            table[name] = exe
    before = []

    def median(cmd, pick):
        vals = []
        for _ in range(runs):
            r = sh(cmd)
            nums = sexp_numbers(r.stdout)
            if r.returncode != 0 or not nums:
                return None
            vals.append(pick(nums))
        return statistics.median(vals)

    def erl_cmd(flags, mod, *args):
        base = [erl, "+P", "4000000"] + flags + ["-noshell", "-pa", erl_out]
        return base + (["-run", mod, "main"] + list(args) if args else ["-s", mod, "main"])

    def measure(name, args=(), i=0):
        """Median of result number `i` of program `name` in termitec,
        Erlang (default and +S1) and Gambit threads (None where missing)."""
        pick = lambda n: n[i]
        t = median([exes[name]] + list(args), pick)
        if name in base_exes:
            before.append((name, list(args), i, t, median([base_exes[name]] + list(args), pick)))
        e = median(erl_cmd([], name, *args), pick) if erl else None
        e1 = median(erl_cmd(["+S", "1"], name, *args), pick) if erl else None
        g = median([gambit[name]] + list(args), pick) if name in gambit else None
        return t, e, e1, g

    rows = []
    # (label, paper Erlang 2006, paper Termite 2006, termitec, erl default, erl +S1, Gambit threads, higher is better)
    for seed in ("0", "1000000"):
        for i, what in ((0, "first 0"), (1, "all done")):
            paper = {"0": (0.92, 4.88), "1000000": (1.63, 8.21)}[seed]
            rows.append(("ring seed %s (%s), s" % (seed, what), *paper, *measure("ring", [seed], i), False))
    rows.append(("ping-pong, round trips/s", 2001366, 206079, *measure("pingpong"), True))
    rows.append(("ping-pong, list messages", None, None, *measure("pingpong_list"), True))
    rows.append(("spawn 1,000,000, s", None, None, *measure("spawn"), False))
    def per_process(name, n):
        """Peak memory per process of program `name` with n processes,
        against the same program with none: termitec, Erlang, Gambit."""
        def one(cmd):
            a, b = peak_rss(cmd("0")), peak_rss(cmd(str(n)))
            return (b - a) / n if a and b else None
        t = one(lambda k: [exes[name], k])
        if name in base_exes:
            before.append((name, [str(n)], "bytes", t, one(lambda k: [base_exes[name], k])))
        e = one(lambda k: erl_cmd([], name, k)) if erl else None
        g = one(lambda k: [gambit[name], k]) if name in gambit else None
        return t, e, None, g
    rows.append(("memory per idle process, bytes", None, None, *per_process("idle", 1000000), False))
    rows.append(("memory per worked idle process", None, None, *per_process("idle_worked", 100000), False))

    fmt = lambda x: "-" if x is None else ("%.3f" % x if x < 100 else "%d" % round(x))
    def cost(t, peer, higher):
        """termitec's cost relative to `peer`: below 1.0 means termitec leads."""
        if not t or not peer:
            return None
        return (peer / t) if higher else (t / peer)
    rfmt = lambda r: "-" if r is None else "%.2f" % r
    print()
    names = ("2006 Erl", "2006 Term", "Erlang", "Erlang+S1", "Gambit thr")
    print("%-32s %9s %9s %9s %9s %9s %9s" % (("concurrency",) + names[:2] + ("termitec",) + names[2:]))
    for label, p_e, p_t, t, e, e1, g, higher in rows:
        print("%-32s %9s %9s %9s %9s %9s %9s" % (label, fmt(p_e), fmt(p_t), fmt(t), fmt(e), fmt(e1), fmt(g)))
    print()
    print("%-32s %9s %9s %9s %9s %9s %9s" % (("termitec cost relative to",) + names + ("best now",)))
    for label, p_e, p_t, t, e, e1, g, higher in rows:
        peers = [x for x in (e, e1, g) if x]
        best = (max(peers) if higher else min(peers)) if peers else None
        ratios = [cost(t, x, higher) for x in (p_e, p_t, e, e1, g, best)]
        print("%-32s %9s %9s %9s %9s %9s %9s" % ((label,) + tuple(rfmt(r) for r in ratios)))
    print("(below 1.0 means termitec leads; 'best now' is the best peer measured in this run)")
    if before:
        print()
        print("%-32s %10s %10s %8s" % ("concurrency before/after", "baseline", "now", "now/base"))
        for (label, *_), (name, args, i, t, b) in zip(rows, before):
            higher = label.startswith("ping-pong")
            r = (b / t if higher else t / b) if t and b else None
            print("%-32s %10s %10s %8s" % (label, fmt(b), fmt(t), rfmt(r)))
        print("(now/base is the cost relative to the baseline: below 1.0 means faster or smaller now)")

DIST = os.path.join(ROOT, "benches", "dist")

def free_port():
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port

def dist(runs):
    """Two-node benchmarks: termitec (AOT), Erlang distribution, raw sockets."""
    exe = os.path.join(OUT, "dist-bench")
    r = sh([TERMITEC, "build", os.path.join(DIST, "dist_bench.scm"), "-o", exe])
    if r.returncode != 0:
        sys.exit(r.stderr)
    cc = shutil.which("cc")
    raw = os.path.join(OUT, "rawsock")
    if cc:
        sh([cc, "-O2", "-o", raw, os.path.join(DIST, "rawsock.c")])
    erl, erlc = shutil.which("erl"), shutil.which("erlc")
    erl_out = os.path.join(OUT, "erl")
    os.makedirs(erl_out, exist_ok=True)
    if erlc:
        sh([erlc, "-o", erl_out, os.path.join(DIST, "dist_bench.erl")])
    cookie = ["--cookie", "bench-%d" % os.getpid()]

    def pair(server_cmd, ready, client_cmd):
        """One run: a serving node, started and `ready(server)` (False: it
        failed to start), then the measuring one's numbers; both ended."""
        server = subprocess.Popen(server_cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        try:
            if not ready(server):
                return None
            r = sh(client_cmd, timeout=300)
            return sexp_numbers(r.stdout) if r.returncode == 0 else None
        except subprocess.TimeoutExpired:
            return None
        finally:
            server.kill()
            server.wait()

    def termitec(what, n, pin):
        pre = ["taskset", "-c", "0"] if pin else []
        port = free_port()
        node = lambda p: [exe, "--node", "127.0.0.1:%d" % p] + cookie
        return pair(pre + node(port) + ["serve"],
                    lambda server: server.stdout.readline().strip() == "ready",
                    pre + node(free_port()) + [what, str(port), str(n)])

    def bare(n):
        """The first migrations to a bare `termitec node` (it fetches and
        compiles the program's code) and the next ones."""
        port = free_port()
        def listening(server):
            import socket
            for _ in range(500):
                try:
                    socket.create_connection(("127.0.0.1", port)).close()
                    return True
                except OSError:
                    time.sleep(0.01)
            return False
        return pair([TERMITEC, "node", "--node", "127.0.0.1:%d" % port] + cookie, listening,
                    [exe, "--node", "127.0.0.1:%d" % free_port()] + cookie + ["bare", str(port), str(n)])

    def erlang(what, n, pin):
        if not erl:
            return None
        pre = ["taskset", "-c", "0"] if pin else []
        tag = "b%d" % free_port()
        base = [erl, "-setcookie", tag, "-noshell", "-pa", erl_out]
        # erl prints nothing when it is up: give it time to start.
        return pair(pre + base + ["-name", "pong%s@127.0.0.1" % tag],
                    lambda server: time.sleep(1.5) or True,
                    pre + base + ["-name", "ping%s@127.0.0.1" % tag, "-run", "dist_bench", "main",
                                  "pong%s@127.0.0.1" % tag, what, str(n)])

    def rawsock(n, pin):
        if not cc:
            return None
        pre = ["taskset", "-c", "0"] if pin else []
        r = sh(pre + [raw, str(free_port()), str(n)])
        return sexp_numbers(r.stdout) if r.returncode == 0 else None

    def median(f, *a):
        vals = [v for v in (f(*a) for _ in range(runs)) if v]
        if not vals:
            return None
        return [statistics.median(v[i] for v in vals) for i in range(len(vals[0]))]

    rows = []
    for pin in (False, True):
        t = median(termitec, "pingpong", 100000, pin)
        e = median(erlang, "pingpong", 100000, pin)
        f = median(rawsock, 200000, pin)
        label = "ping-pong round trips/s" + (" (one core)" if pin else "")
        rows.append((label, t and t[0], e and e[0], f and f[0], True))
        if not pin:
            rows.append(("connect + handshake ms", t and t[1] * 1000, e and e[1] * 1000, None, False))
    t = median(termitec, "oneway", 1000000, False)
    e = median(erlang, "oneway", 1000000, False)
    rows.append(("one-way messages/s", t and t[0], e and e[0], None, True))
    t = median(termitec, "big", 100, False)
    e = median(erlang, "big", 100, False)
    rows.append(("100 MB message, MB/s", t and t[0], e and e[0], None, True))
    rows.append(("worst ping during it, ms", t and t[1], e and e[1], None, False))
    # Paper 7.3: 109 ms per migration; Erlang cannot migrate a process.
    t = median(termitec, "migrate", 1000, False)
    rows.append(("migration, small, median ms", t and t[0], None, None, False))
    rows.append(("migration, small, p99 ms", t and t[1], None, None, False))
    rows.append(("migration, 1 MB live, median ms", t and t[2], None, None, False))
    rows.append(("migration, 1 MB live, p99 ms", t and t[3], None, None, False))
    t = median(bare, 101)
    rows.append(("first migration to a bare node ms", t and t[0], None, None, False))
    rows.append(("next migrations there, median ms", t and t[1], None, None, False))
    for label, mbs in wire_speed():
        rows.append((label, mbs, None, None, True))
    fmt = lambda x: ("%12.3f" if x < 10 else "%12.1f") % x if isinstance(x, (int, float)) else "%12s" % "-"
    print()
    print("%-30s %12s %12s %12s %10s" % ("distribution (2 nodes)", "termitec", "Erlang", "raw socket", "vs Erlang"))
    for label, t, e, f, higher in rows:
        r = (t / e if higher else e / t) if t and e else None
        print("%-30s %s %s %s %10s" % (label, fmt(t), fmt(e), fmt(f), "%.2f" % r if r else "-"))
    print("(vs Erlang: above 1.0 means termitec is better; migration: the paper's figure is")
    print(" 109 ms, Erlang has none; the first migration to a bare node includes fetching and")
    print(" compiling the program there)")

def wire_speed():
    """Encode and decode speed of the wire format (MB/s, warm memory), from
    the runtime's release-mode speed test (runtime/src/wire/tests.rs):
    [(label, MB/s)]; empty if it cannot run."""
    r = sh(["cargo", "test", "--release", "-q", "-p", "termite-runtime", "--lib",
            "wire::tests::speed", "--", "--ignored", "--nocapture"], cwd=ROOT, timeout=1800)
    rows = []
    names = {"encode 10M-element list": "wire encode, 10M list, MB/s",
             "decode 10M-element list": "wire decode, 10M list, MB/s",
             "encode 100M-char string": "wire encode, 100 MB str, MB/s",
             "decode 100M-char string": "wire decode, 100 MB str, MB/s"}
    for line in r.stdout.splitlines():
        for prefix, label in names.items():
            if line.startswith(prefix) and "MB/s warm" in line:
                rows.append((label, float(line.split(":")[1].split()[0])))
    if r.returncode != 0 or not rows:
        print("note: the wire speed test did not run: %s" % r.stderr.strip()[-300:], file=sys.stderr)
    return rows

class Impl:
    """One way of running a program: its command, the wall times of its runs
    so far, its output, and why it stopped (None while it runs fine)."""
    def __init__(self, label, cmd, failed=None):
        self.label, self.cmd, self.times, self.out, self.failed = label, cmd, [], None, failed

    def run(self, timeout):
        if self.failed:
            return
        t = time.perf_counter()
        try:
            r = sh(self.cmd, timeout=timeout)
        except subprocess.TimeoutExpired:
            self.failed = "timeout (>%gs)" % timeout
            return
        elapsed = time.perf_counter() - t
        if r.returncode != 0:
            self.failed = "exit %d: %s" % (r.returncode, (r.stderr.strip() or r.stdout.strip())[:200])
        elif self.out is not None and r.stdout != self.out:
            self.failed = "output changed between runs: %r then %r" % (self.out[:60], r.stdout[:60])
        else:
            self.out = r.stdout
            self.times.append(elapsed)

    def median(self):
        return None if self.failed or not self.times else statistics.median(self.times)

    def cell(self):
        if self.failed:
            return "timeout" if self.failed.startswith("timeout") else "FAIL"
        return "%.3f" % self.median() if self.times else "-"

def build(label, cmd):
    """Runs a compile command; None if it worked, else why not."""
    r = sh(cmd)
    if r.returncode == 0:
        return None
    return "%s build failed: %s" % (label, (r.stderr.strip() or r.stdout.strip())[:300])

def geomean(xs):
    return math.exp(sum(math.log(x) for x in xs) / len(xs))

def sequential(names, runs, timeout):
    gsc = shutil.which("gsc") or shutil.which("gambitc")
    chez = shutil.which("scheme") or shutil.which("chezscheme")
    if not gsc:
        print("note: Gambit is missing: apt-get install gambc (or benches/install-peers.sh)", file=sys.stderr)
    if not chez:
        print("note: Chez Scheme is missing: apt-get install chezscheme (or benches/install-peers.sh)", file=sys.stderr)
    rows, problems = [], []
    for name in names:
        src = os.path.join(SRC, name + ".scm")
        if not os.path.exists(src):
            sys.exit("no program %s in %s" % (name, SRC))
        text = open(src).read()
        print("%s..." % name, file=sys.stderr, flush=True)
        exe = os.path.join(OUT, name + "-termitec")
        impls = {"AOT": Impl("termitec AOT", [exe], build("termitec", [TERMITEC, "build", src, "-o", exe]))}
        if BASELINE:
            bexe = os.path.join(OUT, name + "-baseline")
            impls["base"] = Impl("baseline AOT", [bexe], build("baseline", [BASELINE, "build", src, "-o", bexe]))
        impls["JIT"] = Impl("termitec JIT", [TERMITEC, "run", src])
        if gsc:
            gsrc = os.path.join(OUT, name + "-gambit.scm")
            with open(gsrc, "w") as f:
                f.write(GAMBIT_PRELUDE + text)
            gexe = os.path.join(OUT, name + "-gambit")
            impls["Gambit"] = Impl("Gambit", [gexe], build("gsc", [gsc, "-exe", "-o", gexe, gsrc]))
        if chez:
            csrc = src
            if re.search(r"\(define-record-type\b", text):
                csrc = os.path.join(OUT, name + "-chez.scm")
                with open(csrc, "w") as f:
                    f.write(CHEZ_RECORD_SHIM + text)
            impls["Chez"] = Impl("Chez", [chez, "--script", csrc])
        for _ in range(runs):
            for impl in impls.values():
                impl.run(timeout)
        # The reference output: the peers' (Gambit's, else Chez's), else termitec's.
        ref = next((impls[k].out for k in ("Gambit", "Chez", "AOT", "JIT")
                    if k in impls and impls[k].out is not None), None)
        mismatch = [k for k, i in impls.items() if i.out is not None and i.out != ref]
        found = ["%s: %s: %s" % (name, impl.label, impl.failed) for impl in impls.values() if impl.failed]
        found += ["%s: OUTPUT MISMATCH: %s printed %r, expected %r"
                  % (name, impls[k].label, impls[k].out[:100], ref[:100]) for k in mismatch]
        for p in found:
            print("  " + p, file=sys.stderr)
        problems += found
        rows.append((name, impls, bool(mismatch)))

    def ratio(impls, a, b):
        x = impls[a].median() if a in impls else None
        y = impls[b].median() if b in impls else None
        return x / y if x and y else None

    pairs = (("AOT", "Gambit"), ("AOT", "Chez"), ("JIT", "Gambit"))
    cols = ("AOT s", "JIT s", "Gambit s", "Chez s") + tuple("%s/%s" % p for p in pairs)
    print()
    print("%-10s" % "program" + "".join("%11s" % c for c in cols))
    means = {p: [] for p in pairs}
    for name, impls, mismatch in rows:
        cells = [impls[k].cell() if k in impls else "-" for k in ("AOT", "JIT", "Gambit", "Chez")]
        rs = [ratio(impls, *p) for p in pairs]
        if not mismatch:
            for p, r in zip(pairs, rs):
                if r:
                    means[p].append(r)
        line = "%-10s" % name + "".join("%11s" % c for c in cells)
        line += "".join("%11s" % ("%.2f" % r if r else "-") for r in rs)
        print(line + ("   OUTPUT MISMATCH (not in the means)" if mismatch else ""))
    print("%-10s" % "geo mean" + " " * 44 + "".join(
        "%11s" % ("%.2f" % geomean(means[p]) if means[p] else "-") for p in pairs))
    print("%-10s" % "worst" + " " * 44 + "".join(
        "%11s" % ("%.2f" % max(means[p]) if means[p] else "-") for p in pairs))
    print("%-10s" % "programs" + " " * 44 + "".join("%11d" % len(means[p]) for p in pairs))
    print("(median wall time of %d alternating runs; ratios below 1.0 mean termitec is faster;"
          " Chez at its default optimize level)" % runs)
    if problems:
        print()
        print("PROBLEMS (%d):" % len(problems))
        for p in problems:
            print("  " + p)
    if BASELINE and rows:
        print()
        print("%-10s %10s %8s %9s" % ("program", "baseline s", "AOT s", "AOT/base"))
        rs = []
        for name, impls, _ in rows:
            r = ratio(impls, "AOT", "base")
            if r:
                rs.append(r)
            print("%-10s %10s %8s %9s" % (name, impls["base"].cell(), impls["AOT"].cell(), "%.3f" % r if r else "-"))
        if rs:
            print("geometric mean of AOT/baseline: %.3f (worst %.3f)" % (geomean(rs), max(rs)))

def main():
    ap = argparse.ArgumentParser(
        description="termitec's benchmarks against Gambit, Chez Scheme and Erlang/OTP.",
        epilog="Without a suite flag, all three suites run.")
    suite = ap.add_mutually_exclusive_group()
    suite.add_argument("--sequential", dest="only", action="store_const", const="sequential",
                       help="only the sequential programs of benches/scheme/")
    suite.add_argument("--concurrency", dest="only", action="store_const", const="concurrency",
                       help="only the concurrency suite against Erlang")
    suite.add_argument("--dist", dest="only", action="store_const", const="dist",
                       help="only the two-node distribution suite")
    ap.add_argument("--runs", type=int, default=5, metavar="N",
                    help="runs per program and implementation; the median is shown (default 5;"
                    " the concurrency and distribution suites use at most 3)")
    ap.add_argument("--timeout", type=float, default=60, metavar="S",
                    help="seconds after which a sequential run is killed and reported as a timeout (default 60)")
    ap.add_argument("--baseline", metavar="PATH",
                    help="another termitec binary to measure in the same run, with a before/after table")
    ap.add_argument("names", nargs="*", metavar="NAME",
                    help="sequential programs to run (names of benches/scheme/*.scm; default all)")
    args = ap.parse_args()
    if args.runs < 1:
        ap.error("--runs must be at least 1")
    global BASELINE
    if args.baseline:
        BASELINE = os.path.abspath(args.baseline)
    names = args.names or sorted(f[:-4] for f in os.listdir(SRC) if f.endswith(".scm"))
    os.makedirs(OUT, exist_ok=True)
    print("building termitec (release)...", file=sys.stderr)
    r = sh(["cargo", "build", "--release", "-p", "termitec"], cwd=ROOT)
    if r.returncode != 0:
        sys.exit(r.stderr)
    if args.only in (None, "sequential"):
        sequential(names, args.runs, args.timeout)
    if args.only in (None, "concurrency"):
        concurrency(max(1, min(args.runs, 3)))
    if args.only in (None, "dist"):
        dist(max(1, min(args.runs, 3)))

if __name__ == "__main__":
    main()
