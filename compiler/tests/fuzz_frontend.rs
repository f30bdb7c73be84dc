//! A deterministic, grammar-aware generator of random and mutated programs,
//! run through the front end in-process (read, expand, CPS, closure
//! conversion: `driver::compile`). Every program must either compile or be
//! refused with a diagnostic that points into a file (`FILE:LINE:COLUMN`);
//! none may panic.
//!
//! The programs are random special forms, macros (also recursive and
//! macro-writing ones), quasiquote, deep nesting and odd characters, and
//! truncations and mutations of the test programs of `tests/`. The seed is
//! fixed, so a failure reproduces; `TERMITEC_FUZZ_CASES` changes the count.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use termitec::diag::SourceMap;
use termitec::driver::{Options, Timings, compile};

/// xorshift64*: small, deterministic, good enough to pick productions.
/// `lib` says whether the program is compiled with the standard library
/// (slow in a debug build: most cases use primitives alone).
struct Rng(u64, bool);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len())]
    }
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
}

const VARS: &[&str] = &["x", "y", "z", "f", "g", "lst", "else", "=>", "..."];
const PROCS: &[&str] = &[
    "+",
    "-",
    "*",
    "/",
    "car",
    "cdr",
    "cons",
    "list",
    "vector",
    "append",
    "length",
    "gcd",
    "lcm",
    "quotient",
    "remainder",
    "expt",
    "max",
    "min",
    "apply",
    "map",
    "for-each",
    "display",
    "string-append",
    "number->string",
    "string->number",
    "vector-ref",
    "list-ref",
    "not",
    "eq?",
    "equal?",
    "values",
    "call/cc",
    "%car",
    "%record-ref",
    "%define-global",
    "%lib:map",
    "abs",
    "exact",
    "inexact",
    "sqrt",
    "string-length",
];
/// What a program compiled without the library can call.
const PRIM_PROCS: &[&str] = &[
    "+",
    "-",
    "*",
    "/",
    "<",
    "=",
    "car",
    "cdr",
    "cons",
    "list",
    "vector",
    "append",
    "not",
    "eq?",
    "values",
    "apply",
    "call-with-values",
    "%display",
    "%car",
    "%add",
    "%gcd2",
    "%quotient",
    "%remainder",
    "%vector-ref",
    "%string-append2",
    "%length",
];
const ATOMS: &[&str] = &[
    "0",
    "1",
    "-1",
    "42",
    "1.5",
    "-0.0",
    "+inf.0",
    "+nan.0",
    "1/2",
    "#e1.5",
    "#x-ff",
    "99999999999999999999999",
    "#t",
    "#f",
    "#\\a",
    "#\\space",
    "#\\x41",
    "\"str\"",
    "\"a\\nb\"",
    "'sym",
    "'()",
    "#()",
    "#(1 2)",
    "#u8(1 2 255)",
    "|odd sym|",
    "λ",
    "1e400",
    "#b101",
    "#o17",
    ".5",
    "+",
    "-",
    "...",
];

fn atom(r: &mut Rng) -> String {
    if r.chance(50) {
        r.pick(VARS).to_string()
    } else {
        r.pick(ATOMS).to_string()
    }
}

/// Up to `max - 1` expressions.
fn exprs(r: &mut Rng, depth: usize, max: usize) -> String {
    let n = r.below(max);
    (0..n).map(|_| expr(r, depth)).collect::<Vec<_>>().join(" ")
}

fn bindings(r: &mut Rng, depth: usize) -> String {
    let n = r.below(3);
    let mut s = String::from("(");
    for _ in 0..n {
        match r.below(6) {
            0 => s.push_str(&format!("({})", r.pick(VARS))),
            1 => s.push_str(&format!(
                "({} {} {})",
                r.pick(VARS),
                expr(r, depth),
                expr(r, depth)
            )),
            _ => s.push_str(&format!("({} {})", r.pick(VARS), expr(r, depth))),
        }
    }
    s.push(')');
    s
}

fn formals(r: &mut Rng) -> String {
    match r.below(5) {
        0 => r.pick(VARS).to_string(),
        1 => format!("({} . {})", r.pick(VARS), r.pick(VARS)),
        2 => "()".into(),
        _ => format!(
            "({})",
            (0..r.below(4))
                .map(|_| r.pick(VARS))
                .collect::<Vec<_>>()
                .join(" ")
        ),
    }
}

fn template(r: &mut Rng, depth: usize) -> String {
    match r.below(6) {
        0 => "(m x ...)".into(),
        // Doubling: it ends at the expansion limits, in seconds.
        1 if r.chance(10) => "(+ 1 (m x ... x ...))".into(),
        2 => "(list 'x x ...)".into(),
        3 => "(define-syntax inner (syntax-rules () ((_ y (... ...)) (list y (... ...)))))".into(),
        4 => format!("(begin {} (m))", expr(r, depth)),
        _ => expr(r, depth),
    }
}

fn expr(r: &mut Rng, depth: usize) -> String {
    if depth == 0 || r.chance(25) {
        return atom(r);
    }
    let d = depth - 1;
    match r.below(30) {
        0 => format!("(if {} {} {})", expr(r, d), expr(r, d), expr(r, d)),
        1 => format!("(if {})", exprs(r, d, 3)),
        2 => format!("(let {} {})", bindings(r, d), exprs(r, d, 3)),
        3 => format!("(let* {} {})", bindings(r, d), exprs(r, d, 3)),
        4 => format!("(letrec {} {})", bindings(r, d), exprs(r, d, 3)),
        5 => format!("(let loop {} {})", bindings(r, d), exprs(r, d, 3)),
        6 => format!("(lambda {} {})", formals(r), exprs(r, d, 3)),
        7 => format!(
            "(cond ({} {}) (else {}))",
            expr(r, d),
            expr(r, d),
            exprs(r, d, 2)
        ),
        8 => format!("(cond ({} => {}) ({}))", expr(r, d), expr(r, d), expr(r, d)),
        9 => format!(
            "(case {} (({}) {}) (else {}))",
            expr(r, d),
            atom(r),
            expr(r, d),
            exprs(r, d, 2)
        ),
        10 => format!("(and {})", exprs(r, d, 4)),
        11 => format!("(or {})", exprs(r, d, 4)),
        12 => format!("(begin {})", exprs(r, d, 3)),
        13 => format!(
            "(do {} ({} {}) {})",
            bindings(r, d),
            expr(r, d),
            expr(r, d),
            expr(r, d)
        ),
        14 => format!(
            "`({} ,{} ,@{} . ,{})",
            atom(r),
            expr(r, d),
            expr(r, d),
            expr(r, d)
        ),
        15 => format!("`#({} ,{} `(,,{}))", atom(r), expr(r, d), expr(r, d)),
        16 => format!("(quote {})", expr(r, d)),
        17 => format!(
            "(let-values ((({}) {})) {})",
            r.pick(VARS),
            expr(r, d),
            expr(r, d)
        ),
        18 => format!(
            "(case-lambda ({} {}) ({} {}))",
            formals(r),
            expr(r, d),
            formals(r),
            expr(r, d)
        ),
        19 => format!(
            "(let-syntax ((m (syntax-rules () ((_ x ...) {})))) (m {}))",
            template(r, d),
            exprs(r, d, 3)
        ),
        20 => format!(
            "(match {} (({} . {}) {}) (_ {}))",
            expr(r, d),
            atom(r),
            r.pick(VARS),
            expr(r, d),
            expr(r, d)
        ),
        21 => format!("(guard (e (#t {})) {})", expr(r, d), expr(r, d)),
        22 => format!("(set! {} {})", r.pick(VARS), expr(r, d)),
        23 => format!("(receive {} {} {})", formals(r), expr(r, d), expr(r, d)),
        24 => format!("(delay {})", expr(r, d)),
        25 => format!("(parameterize () {})", expr(r, d)),
        _ => {
            let p = if r.1 {
                r.pick(PROCS)
            } else {
                r.pick(PRIM_PROCS)
            };
            format!("({} {})", p, exprs(r, d, 4))
        }
    }
}

fn toplevel(r: &mut Rng) -> String {
    match r.below(8) {
        0 => format!("(define {} {})", r.pick(VARS), expr(r, 4)),
        1 => format!("(define ({} {}) {})", r.pick(VARS), formals(r), expr(r, 4)),
        2 => format!(
            "(define-syntax m (syntax-rules ({}) ((_) {}) ((_ x ...) {})))",
            r.pick(VARS),
            template(r, 3),
            template(r, 3)
        ),
        3 => format!(
            "(define-record-type {} ({} {}) {} ({} {}))",
            r.pick(VARS),
            r.pick(VARS),
            r.pick(VARS),
            atom(r),
            r.pick(VARS),
            r.pick(VARS)
        ),
        4 => format!("(define-values {} {})", formals(r), expr(r, 3)),
        _ => {
            let display = if r.1 { "display" } else { "%display" };
            format!("({display} {})", expr(r, 5))
        }
    }
}

/// Deep nesting of one form, as a user could write it.
fn deep(r: &mut Rng) -> String {
    // Deeper nesting is the business of the compile-time benchmarks: some
    // passes are still quadratic in it.
    let n = 1 + r.below(400);
    let (open, close) = match r.below(6) {
        0 => ("(+ 1 ", ")"),
        1 => ("(list ", ")"),
        2 => ("'(", ")"),
        3 => ("(let ((x 1)) ", ")"),
        4 => ("(if #t ", " 0)"),
        _ => ("#(", ")"),
    };
    format!("(display {}0{})", open.repeat(n), close.repeat(n))
}

const ODD: &[&str] = &[
    "(",
    ")",
    "[",
    "]",
    "#(",
    "#u8(",
    "'",
    "`",
    ",",
    ",@",
    ".",
    "#;",
    "#|",
    "|#",
    "\"",
    "\\",
    "#\\",
    "#\\x110000",
    "|",
    "\u{0}",
    "\u{1}",
    "\u{7f}",
    "é",
    "\u{feff}",
    "1/0",
    "#e1e500",
    "#x",
    "#!eof",
    "#!default",
    "#!unspecified",
    " ",
    "\n",
    "...",
    "(... ...)",
    "%car",
];

/// Truncates, splices, duplicates or corrupts a program.
fn mutate(r: &mut Rng, src: &str) -> String {
    let mut chars: Vec<char> = src.chars().collect();
    for _ in 0..1 + r.below(4) {
        let at = r.below(chars.len() + 1);
        match r.below(5) {
            0 => chars.truncate(at),
            1 => {
                let odd: Vec<char> = r.pick(ODD).chars().collect();
                chars.splice(at..at, odd);
            }
            2 if at < chars.len() => {
                let end = (at + 1 + r.below(20)).min(chars.len());
                chars.drain(at..end);
            }
            3 if at < chars.len() => {
                let end = (at + 1 + r.below(40)).min(chars.len());
                let piece: Vec<char> = chars[at..end].to_vec();
                chars.splice(at..at, piece);
            }
            _ => {
                if at < chars.len() {
                    chars[at] = r.pick(ODD).chars().next().unwrap_or(' ');
                }
            }
        }
    }
    chars.into_iter().collect()
}

fn test_programs() -> Vec<String> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests");
    let mut out = Vec::new();
    let mut dirs = vec![root];
    while let Some(d) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        let mut entries: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|e| e == "scm")
                && let Ok(s) = std::fs::read_to_string(&p)
                // The tests of the expansion limits take seconds each.
                && !s.contains("error: macro expansion too")
            {
                out.push(s);
            }
        }
    }
    out
}

/// Compiles one program in-process; a panic or a diagnostic without a
/// location is a failure.
fn check(src: &str, case: usize, lib: bool) {
    let opts = Options {
        no_stdlib: !lib,
        ..Options::default()
    };
    let result = catch_unwind(AssertUnwindSafe(|| {
        let mut files = SourceMap::default();
        let mut timings = Timings::default();
        compile(&mut files, "fuzz.scm", src, &opts, &mut timings).map(|_| ())
    }));
    match result {
        Err(_) => panic!("case {case}: the front end panicked on:\n{src}"),
        Ok(Err(msg)) => {
            let first = msg.lines().next().unwrap_or("");
            let located = first.starts_with("fuzz.scm:") && first.contains(": error: ");
            assert!(
                located && !first.contains("internal"),
                "case {case}: a diagnostic without FILE:LINE:COLUMN (or internal) for:\n{src}\n---\n{msg}"
            );
        }
        Ok(Ok(())) => {}
    }
}

#[test]
fn front_end_survives_generated_programs() {
    let cases: usize = std::env::var("TERMITEC_FUZZ_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3000);
    // Keep panics of the cases from printing: `check` reports them.
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let corpus = test_programs();
    let mut r = Rng(0x7e4a_17ec_5eed_0001, false);
    let start = std::time::Instant::now();
    for case in 0..cases {
        // One case in 40 with the standard library (macros such as `guard`,
        // the `%` checks, tree shaking); the others with primitives only.
        r.1 = case % 40 == 1;
        let src = match case % 4 {
            0 | 1 => (0..1 + r.below(4))
                .map(|_| toplevel(&mut r))
                .collect::<Vec<_>>()
                .join("\n"),
            2 if !corpus.is_empty() => {
                let base = &corpus[r.below(corpus.len())];
                mutate(&mut r, base)
            }
            _ if case % 40 == 3 => deep(&mut r),
            _ => {
                let t = toplevel(&mut r);
                mutate(&mut r, &t)
            }
        };
        let lib = r.1;
        let t = std::time::Instant::now();
        let outcome = catch_unwind(AssertUnwindSafe(|| check(&src, case, lib)));
        if std::env::var("TERMITEC_FUZZ_SLOW").is_ok() && t.elapsed().as_millis() > 300 {
            eprintln!(
                "slow case {case} ({:?}):\n{}\n",
                t.elapsed(),
                &src[..src.len().min(300)]
            );
        }
        if let Err(e) = outcome {
            std::panic::set_hook(hook);
            std::panic::resume_unwind(e);
        }
    }
    std::panic::set_hook(hook);
    eprintln!("{cases} generated programs in {:?}", start.elapsed());
}
