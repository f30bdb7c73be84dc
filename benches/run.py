#!/usr/bin/env python3
"""The benchmark runner: builds termitec in release mode, compiles every
program of benches/scheme/ with termitec (AOT), Gambit (gsc -exe) and Chez
Scheme, runs each several times and prints the median wall time of each and
the ratio termitec/Gambit. Usage: python3 benches/run.py [--runs N] [NAME ...]
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

def main():
    args = sys.argv[1:]
    runs = 5
    if "--runs" in args:
        i = args.index("--runs")
        runs = int(args[i + 1])
        del args[i:i + 2]
    names = args or sorted(f[:-4] for f in os.listdir(SRC) if f.endswith(".scm"))
    os.makedirs(OUT, exist_ok=True)
    print("building termitec (release)...", file=sys.stderr)
    r = sh(["cargo", "build", "--release", "-p", "termitec"], cwd=ROOT)
    if r.returncode != 0:
        sys.exit(r.stderr)
    gsc = shutil.which("gsc") or shutil.which("gambitc")
    chez = shutil.which("scheme") or shutil.which("chezscheme")
    if not gsc:
        print("note: Gambit is missing: apt-get install gambc", file=sys.stderr)
    if not chez:
        print("note: Chez Scheme is missing: apt-get install chezscheme", file=sys.stderr)
    rows = []
    for name in names:
        src = os.path.join(SRC, name + ".scm")
        exe = os.path.join(OUT, name + "-termitec")
        r = sh([TERMITEC, "build", src, "-o", exe])
        if r.returncode != 0:
            print("%s: termitec build failed: %s" % (name, r.stderr), file=sys.stderr)
            continue
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
        rows.append((name, aot, jit, gam, chz))

    fmt = lambda t: "%8.3f" % t if isinstance(t, float) else "%8s" % "-"
    print("%-10s %8s %8s %8s %8s %10s" % ("program", "AOT s", "JIT s", "Gambit s", "Chez s", "AOT/Gambit"))
    ratios = []
    for name, aot, jit, gam, chz in rows:
        ratio = aot / gam if isinstance(aot, float) and isinstance(gam, float) and gam > 0 else None
        if ratio:
            ratios.append(ratio)
        print("%-10s %s %s %s %s %10s" % (name, fmt(aot), fmt(jit), fmt(gam), fmt(chz), "%.2f" % ratio if ratio else "-"))
    if ratios:
        geo = math.exp(sum(math.log(r) for r in ratios) / len(ratios))
        print("geometric mean of AOT/Gambit: %.2f (worst %.2f)" % (geo, max(ratios)))

if __name__ == "__main__":
    main()
