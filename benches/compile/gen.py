#!/usr/bin/env python3
"""Generates the programs of the compile-time benchmark: each kind is a
shape that a quadratic step in the compiler would make slow (deep nesting,
long bodies, wide calls, many definitions, a macro that recurses over its
arguments). Every program prints one line, so a run also checks the result.

Usage: gen.py KIND N > FILE.scm     (gen.py --list prints the kinds)
"""
import sys


def let_star(n):
    # (let* ((x0 0) (x1 (+ x0 1)) ...) xN-1)
    binds = ["(x0 0)"] + ["(x%d (+ x%d 1))" % (i, i - 1) for i in range(1, n)]
    return "(display (let* (%s) x%d))\n(newline)\n" % ("\n  ".join(binds), n - 1)


def nested_let(n):
    out = []
    for i in range(n):
        out.append("(let ((x%d %s))" % (i, "0" if i == 0 else "(+ x%d 1)" % (i - 1)))
    return "(display %s x%d%s)\n(newline)\n" % ("\n".join(out), n - 1, ")" * n)


def nested_if(n):
    # (if (< k 0) 0 (if (< k 1) 1 ...)) with k a variable the compiler cannot fold.
    s = "(define k (string-length (number->string %d)))\n(display\n" % n
    s += "".join("(if (= k %d) %d\n" % (i, i) for i in range(n))
    return s + "-1" + ")" * n + ")\n(newline)\n"


def nested_lambda(n):
    # ((lambda () ((lambda () ... 1))))
    return "(display %s1%s)\n(newline)\n" % ("((lambda () " * n, "))" * n)


def long_body(n):
    # A procedure body of n internal definitions and expressions.
    lines = ["(define (f a)"]
    for i in range(n):
        lines.append("  (define y%d (+ a %d))" % (i, i))
    lines.append("  (+ y0 y%d))" % (n - 1))
    return "\n".join(lines) + "\n(display (f 1))\n(newline)\n"


def toplevel(n):
    lines = ["(define (f%d x) (+ x %d))" % (i, i) for i in range(n)]
    lines.append("(display (+ %s))" % " ".join("(f%d 1)" % i for i in range(0, n, max(1, n // 100))))
    return "\n".join(lines) + "\n(newline)\n"


def wide_call(n):
    # (+ 1 1 ... 1): a flat call whose expansion nests n deep.
    return "(display (+ %s))\n(newline)\n" % " ".join(["1"] * n)


def wide_let(n):
    # (let ((x0 0) (x1 1) ...) xN-1): one let whose CPS is n lets deep.
    binds = " ".join("(x%d %d)" % (i, i) for i in range(n))
    return "(display (let (%s) x%d))\n(newline)\n" % (binds, n - 1)


def macro(n):
    # A macro that recurses over its arguments, one at a time.
    return ("(define-syntax count\n"
            "  (syntax-rules ()\n"
            "    ((_) 0)\n"
            "    ((_ x rest ...) (+ 1 (count rest ...)))))\n"
            "(display (count %s))\n(newline)\n" % " ".join(["a"] * n))


KINDS = {
    "let*": let_star,
    "nested-let": nested_let,
    "nested-if": nested_if,
    "nested-lambda": nested_lambda,
    "long-body": long_body,
    "toplevel": toplevel,
    "wide-call": wide_call,
    "wide-let": wide_let,
    "macro": macro,
}

if __name__ == "__main__":
    if len(sys.argv) == 2 and sys.argv[1] == "--list":
        print(" ".join(KINDS))
    elif len(sys.argv) == 3 and sys.argv[1] in KINDS:
        sys.stdout.write(KINDS[sys.argv[1]](int(sys.argv[2])))
    else:
        sys.exit(__doc__)
