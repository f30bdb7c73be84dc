//! Programs too big to commit as files: each is generated into a temporary
//! directory and run with `termitec run`, with a time bound. They check
//! that the compiler's passes neither overflow the native stack nor take
//! time out of proportion to the program (a million bindings overflowed
//! CPS conversion; a body of a million expressions was quadratic in it).

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Generous for the debug build on a loaded 2-core machine; a quadratic
/// pass takes far longer at these sizes.
const BOUND: Duration = Duration::from_secs(240);

fn run(name: &str, src: &str, expected: &str) {
    let dir = std::env::temp_dir().join(format!("termitec-deep-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file: PathBuf = dir.join(format!("{name}.scm"));
    std::fs::write(&file, src).expect("write program");
    let mut child = Command::new(env!("CARGO_BIN_EXE_termitec"))
        .arg("run")
        .arg(&file)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run termitec");
    let start = Instant::now();
    loop {
        if child.try_wait().expect("wait").is_some() {
            break;
        }
        if start.elapsed() > BOUND {
            let _ = child.kill();
            let _ = child.wait();
            let _ = std::fs::remove_dir_all(&dir);
            panic!("{name}: no result after {BOUND:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().expect("output");
    let _ = std::fs::remove_dir_all(&dir);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{name}: exit {:?}\nstderr: {stderr}",
        out.status.code()
    );
    assert!(
        !stderr.contains("panicked") && !stderr.contains("internal"),
        "{name}: {stderr}"
    );
    assert_eq!(stdout, expected, "{name}");
}

#[test]
fn let_of_a_million_bindings() {
    let n = 1_000_000;
    let binds: Vec<String> = (0..n).map(|i| format!("(x{i} {i})")).collect();
    let src = format!("(display (let ({}) x{}))\n", binds.join(" "), n - 1);
    run("let_million", &src, &format!("{}", n - 1));
}

#[test]
fn call_of_a_million_arguments() {
    let n = 1_000_000;
    let src = format!(
        "(define (count . xs) (length xs))\n(display (count{}))\n",
        " 1".repeat(n)
    );
    run("call_million", &src, &format!("{n}"));
}

#[test]
fn sum_of_a_million_arguments() {
    // (+ 1 1 ... 1) was open-coded as a chain of a million additions
    // nested as deep as the call is wide; a wide call now calls `+`.
    let n = 1_000_000;
    let src = format!("(display (+{}))\n", " 1".repeat(n));
    run("sum_wide", &src, &format!("{n}"));
}

#[test]
fn wide_calls_of_variadic_procedures() {
    let n = 100_000;
    let ones = " 1".repeat(n);
    let src = format!(
        "(display (max{ones} 2))\n\
         (display (string-length (string{})))\n\
         (display (length (list{ones})))\n\
         (display (vector-length (vector{ones})))\n\
         (display (length (append{})))\n\
         (display (string-length (string-append{})))\n\
         (display (call-with-values (lambda () (values{ones})) (lambda xs (length xs))))\n\
         (display (apply +{ones} '(1)))\n\
         (display (<{ones} 2))\n",
        r" #\a".repeat(n),
        " '(1)".repeat(n),
        r#" "ab""#.repeat(n),
    );
    let expected = format!("2{n}{n}{n}{n}{}{n}{}#f", 2 * n, n + 1);
    run("variadic_wide", &src, &expected);
}

#[test]
fn call_of_ten_thousand_calls() {
    // Each operand's continuation captured the values of the operands
    // before it: n²/2 captured values, quadratic code.
    let n = 10_000;
    let args: Vec<String> = (0..n).map(|i| format!("(g {i})")).collect();
    let src = format!(
        "(define (g x) x)\n(define (f . xs) (apply + xs))\n(display (f {}))\n",
        args.join(" ")
    );
    run("call_of_calls", &src, &format!("{}", n * (n - 1) / 2));
}

#[test]
fn two_thousand_nested_lambdas() {
    // The expander's name lookup still walks the chain of scopes (issue 7,
    // left open): 10,000 levels take minutes in a debug build.
    let n = 2_000;
    let src = format!(
        "(display {}1{})\n",
        "((lambda () ".repeat(n),
        "))".repeat(n)
    );
    run("nested_lambdas", &src, "1");
}

#[test]
fn five_thousand_nested_ifs() {
    // Under the reader's nesting limit (10,000 levels).
    let n = 5_000;
    let mut src = format!("(define k (string-length (number->string {n})))\n(display\n");
    for i in 0..n {
        src.push_str(&format!("(if (= k {i}) {i}\n"));
    }
    src.push_str("-1");
    src.push_str(&")".repeat(n));
    src.push_str(")\n");
    run("nested_ifs", &src, &n.to_string().len().to_string());
}
