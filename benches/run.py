#!/usr/bin/env python3
"""The benchmark runner: builds termitec in release mode, compiles every
program of benches/scheme/ with termitec (AOT), Gambit (gsc -exe) and Chez
Scheme, runs each several times and prints the median wall time of each and
the ratio termitec/Gambit. Then the concurrency suite of benches/concurrency/
(paper section 7: ring, ping-pong; spawning; memory per idle process) against
Erlang/OTP, run with `erl` both by default and with +S1.
With --baseline PATH (another termitec binary, e.g. a release build of an
earlier commit), its programs are measured in the same run, alternating with
this build's, and a before/after table shows this build's time relative to
the baseline's (below 1.0: faster now).
Then the distribution suite of benches/dist/ (two nodes over loopback):
ping-pong round trips/s (unpinned and both nodes on one core), one-way
small messages/s, a 100 MB message's MB/s and the worst ping while it is
in flight, connection time; against Erlang/OTP distribution (erl -name)
and a raw-socket floor (benches/dist/rawsock.c).
Usage: python3 benches/run.py [--runs N] [--sequential | --concurrency | --dist] [--baseline PATH] [NAME ...]
"""
import math, os, shutil, statistics, subprocess, sys, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SRC = os.path.join(ROOT, "benches", "scheme")
OUT = os.path.join(ROOT, "benches", "out")
TERMITEC = os.path.join(ROOT, "target", "release", "termitec")
GAMBIT_PRELUDE = "(declare (standard-bindings) (extended-bindings) (block))\n"

def sh(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, **kw)

def timed(cmd, runs):
    """Median wall time of `runs` runs, and the output of the last."""
    times, out = [], None
    for _ in range(runs):
        t = time.perf_counter()
        r = sh(cmd)
        times.append(time.perf_counter() - t)
        if r.returncode != 0:
            return None, "exit %d: %s" % (r.returncode, r.stderr.strip()[:200])
        out = r.stdout
    return statistics.median(times), out

def timed_pair(cmd, base, runs):
    """Median wall times of `cmd` and `base`, run alternately (so that both
    see the same noise), and the output of `cmd`'s last run."""
    a, b, out = [], [], None
    for _ in range(runs):
        for c, times in ((cmd, a), (base, b)):
            t = time.perf_counter()
            r = sh(c)
            times.append(time.perf_counter() - t)
            if r.returncode != 0:
                return None, None, "exit %d: %s" % (r.returncode, r.stderr.strip()[:200])
            if c is cmd:
                out = r.stdout
    return statistics.median(a), statistics.median(b), out

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
    fmt = lambda x: "%12.1f" % x if isinstance(x, (int, float)) else "%12s" % "-"
    print()
    print("%-30s %12s %12s %12s %10s" % ("distribution (2 nodes)", "termitec", "Erlang", "raw socket", "vs Erlang"))
    for label, t, e, f, higher in rows:
        r = (t / e if higher else e / t) if t and e else None
        print("%-30s %s %s %s %10s" % (label, fmt(t), fmt(e), fmt(f), "%.2f" % r if r else "-"))
    print("(vs Erlang: above 1.0 means termitec is better)")

def main():
    args = sys.argv[1:]
    runs = 5
    only = None
    for flag in ("--sequential", "--concurrency", "--dist"):
        if flag in args:
            only = flag
            args.remove(flag)
    global BASELINE
    if "--baseline" in args:
        i = args.index("--baseline")
        BASELINE = os.path.abspath(args[i + 1])
        del args[i:i + 2]
    if "--runs" in args:
        i = args.index("--runs")
        runs = int(args[i + 1])
        del args[i:i + 2]
    names = [] if only in ("--concurrency", "--dist") else (args or sorted(f[:-4] for f in os.listdir(SRC) if f.endswith(".scm")))
    os.makedirs(OUT, exist_ok=True)
    print("building termitec (release)...", file=sys.stderr)
    r = sh(["cargo", "build", "--release", "-p", "termitec"], cwd=ROOT)
    if r.returncode != 0:
        sys.exit(r.stderr)
    gsc = shutil.which("gsc") or shutil.which("gambitc")
    chez = shutil.which("scheme") or shutil.which("chezscheme")
    if not gsc:
        print("note: Gambit is missing: apt-get install gambc (or benches/install-peers.sh)", file=sys.stderr)
    if not chez:
        print("note: Chez Scheme is missing: apt-get install chezscheme (or benches/install-peers.sh)", file=sys.stderr)
    rows = []
    for name in names:
        src = os.path.join(SRC, name + ".scm")
        exe = os.path.join(OUT, name + "-termitec")
        r = sh([TERMITEC, "build", src, "-o", exe])
        if r.returncode != 0:
            print("%s: termitec build failed: %s" % (name, r.stderr), file=sys.stderr)
            continue
        base = None
        if BASELINE:
            bexe = os.path.join(OUT, name + "-baseline")
            r = sh([BASELINE, "build", src, "-o", bexe])
            if r.returncode != 0:
                print("%s: baseline build failed: %s" % (name, r.stderr), file=sys.stderr)
                aot, out_aot = timed([exe], runs)
            else:
                aot, base, out_aot = timed_pair([exe], [bexe], runs)
        else:
            aot, out_aot = timed([exe], runs)
        jit, out_jit = timed([TERMITEC, "run", src], runs)
        gam = out_gam = None
        if gsc:
            gsrc = os.path.join(OUT, name + "-gambit.scm")
            with open(gsrc, "w") as f:
                f.write(GAMBIT_PRELUDE + open(src).read())
            gexe = os.path.join(OUT, name + "-gambit")
            r = sh([gsc, "-exe", "-o", gexe, gsrc])
            if r.returncode == 0:
                gam, out_gam = timed([gexe], runs)
            else:
                print("%s: gsc failed: %s" % (name, r.stderr.strip()[:300]), file=sys.stderr)
        chz = out_chz = None
        if chez:
            chz, out_chz = timed([chez, "--script", src], runs)
        for label, out in (("JIT", out_jit), ("Gambit", out_gam), ("Chez", out_chz)):
            if out is not None and out_aot is not None and out != out_aot:
                print("%s: %s output differs from termitec AOT: %r vs %r" % (name, label, out[:80], out_aot[:80]), file=sys.stderr)
        rows.append((name, aot, jit, gam, chz, base))

    fmt = lambda t: "%8.3f" % t if isinstance(t, float) else "%8s" % "-"
    if rows:
        print("%-10s %8s %8s %8s %8s %10s" % ("program", "AOT s", "JIT s", "Gambit s", "Chez s", "AOT/Gambit"))
    ratios = []
    for name, aot, jit, gam, chz, _ in rows:
        ratio = aot / gam if isinstance(aot, float) and isinstance(gam, float) and gam > 0 else None
        if ratio:
            ratios.append(ratio)
        print("%-10s %s %s %s %s %10s" % (name, fmt(aot), fmt(jit), fmt(gam), fmt(chz), "%.2f" % ratio if ratio else "-"))
    if ratios:
        geo = math.exp(sum(math.log(r) for r in ratios) / len(ratios))
        print("geometric mean of AOT/Gambit: %.2f (worst %.2f)" % (geo, max(ratios)))
    if BASELINE and rows:
        print()
        print("%-10s %10s %8s %9s" % ("program", "baseline s", "AOT s", "AOT/base"))
        rs = []
        for name, aot, _, _, _, base in rows:
            r = aot / base if isinstance(aot, float) and isinstance(base, float) and base > 0 else None
            if r:
                rs.append(r)
            print("%-10s %s %s %9s" % (name, "  " + fmt(base), fmt(aot), "%.3f" % r if r else "-"))
        if rs:
            print("geometric mean of AOT/baseline: %.3f (worst %.3f)" % (math.exp(sum(math.log(r) for r in rs) / len(rs)), max(rs)))
    if only in (None, "--concurrency"):
        concurrency(max(1, min(runs, 3)))
    if only in (None, "--dist"):
        dist(max(1, min(runs, 3)))

if __name__ == "__main__":
    main()
