//! Programs too big to commit as files: each is generated into a temporary
//! directory and run with `termitec run`, with a time bound. They check
//! that the compiler's passes neither overflow the native stack nor take
//! time out of proportion to the program (a million bindings overflowed
//! CPS conversion; a body of a million expressions was quadratic in it).

use std::fs::File;
use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// Generous for the debug build on a loaded 2-core machine; a quadratic
/// pass takes far longer at these sizes.
const BOUND: Duration = Duration::from_secs(240);

fn run(name: &str, src: &str, expected: &str) {
    run_within(name, src, expected, BOUND);
}

/// `run` with a bound of its own: a program that the compiler was
/// quadratic on takes longer than `bound`, and it now takes far less.
fn run_within(name: &str, src: &str, expected: &str, bound: Duration) {
    let out = termitec_run(name, src, bound);
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

/// Runs a program that the compiler must refuse with a diagnostic that
/// contains `message`.
fn refuse(name: &str, src: &str, message: &str) {
    let out = termitec_run(name, src, BOUND);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{name}: stderr: {stderr}");
    assert!(stderr.contains(message), "{name}: {stderr}");
    assert!(
        !stderr.contains("panicked") && !stderr.contains("overflow"),
        "{name}: {stderr}"
    );
}

/// The exit status, standard output and standard error of `termitec run`
/// on `src`. The outputs go to files: a pipe that nobody reads while the
/// child runs would block a child that writes much.
fn termitec_run(name: &str, src: &str, bound: Duration) -> Output {
    let dir = std::env::temp_dir().join(format!("termitec-deep-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file: PathBuf = dir.join(format!("{name}.scm"));
    std::fs::write(&file, src).expect("write program");
    let (out_path, err_path) = (dir.join("stdout"), dir.join("stderr"));
    let mut child = Command::new(env!("CARGO_BIN_EXE_termitec"))
        .arg("run")
        .arg(&file)
        .stdout(File::create(&out_path).expect("stdout file"))
        .stderr(File::create(&err_path).expect("stderr file"))
        .spawn()
        .expect("run termitec");
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if start.elapsed() > bound {
            let _ = child.kill();
            let _ = child.wait();
            let _ = std::fs::remove_dir_all(&dir);
            panic!("{name}: no result after {bound:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let out = Output {
        status,
        stdout: std::fs::read(&out_path).expect("read stdout"),
        stderr: std::fs::read(&err_path).expect("read stderr"),
    };
    let _ = std::fs::remove_dir_all(&dir);
    out
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
fn ten_thousand_nested_lambdas() {
    // The expander's name lookup walked the chain of scopes: 10,000 levels
    // took minutes.
    let n = 10_000;
    let src = format!(
        "(display {}1{})\n",
        "((lambda () ".repeat(n),
        "))".repeat(n)
    );
    // A few seconds in a debug build now; minutes before.
    run_within("nested_lambdas", &src, "1", Duration::from_secs(90));
}

#[test]
fn twenty_thousand_nested_ifs() {
    // Past the reader's old limit (10,000 levels); 100,000 work too, but
    // the later passes take half a minute on them in a debug build.
    let n = 20_000;
    let mut src = format!("(define k (string-length (number->string {n})))\n(display\n");
    for i in 0..n {
        src.push_str(&format!("(if (= k {i}) {i}\n"));
    }
    src.push_str("-1");
    src.push_str(&")".repeat(n));
    src.push_str(")\n");
    run("nested_ifs", &src, &n.to_string().len().to_string());
}

#[test]
fn ten_thousand_nested_lets() {
    let n = 10_000;
    let mut src = String::from("(display ");
    for i in 0..n {
        if i == 0 {
            src.push_str("(let ((x0 0))\n");
        } else {
            src.push_str(&format!("(let ((x{i} (+ x{} 1)))\n", i - 1));
        }
    }
    src.push_str(&format!("x{}{})\n", n - 1, ")".repeat(n)));
    run("nested_lets", &src, &(n - 1).to_string());
}

#[test]
fn let_star_of_four_thousand_bindings() {
    // Each binding's scope made every lookup walk all the scopes above it,
    // and the rewriting into nested lets copied the remaining bindings at
    // each step: 4,000 bindings took 10 s and 2.9 GB in a release build.
    let n = 4_000;
    let binds: Vec<String> = std::iter::once("(x0 0)".to_string())
        .chain((1..n).map(|i| format!("(x{i} (+ x{} 1))", i - 1)))
        .collect();
    let src = format!("(display (let* ({}) x{}))\n", binds.join("\n"), n - 1);
    // About a second in a debug build now; minutes before.
    run_within(
        "let_star",
        &src,
        &(n - 1).to_string(),
        Duration::from_secs(60),
    );
}

#[test]
fn macro_recursing_over_two_thousand_arguments() {
    // Each expansion copies the remaining arguments (as syntax-rules
    // does), and the work limit must let this through.
    let n = 2_000;
    let src = format!(
        "(define-syntax count (syntax-rules () ((_) 0) ((_ x rest ...) (+ 1 (count rest ...)))))\n\
         (display (count{}))\n",
        " a".repeat(n)
    );
    run("macro_count", &src, &n.to_string());
}

#[test]
fn nesting_past_the_stack_is_a_diagnostic() {
    // 900,000 levels are within the reader's limit and the expander's
    // count, but no build's frames fit them in the front end's stack: the
    // expander stops with a diagnostic before the stack is full.
    let n = 900_000;
    let src = format!("(display {}1{})\n", "(- ".repeat(n), ")".repeat(n));
    refuse("nested_past_stack", &src, "expression nested too deeply");
}

#[test]
fn data_nested_past_the_reader_limit_is_a_diagnostic() {
    // The reader's limit is kept for absurd inputs.
    let n = 1_000_001;
    let src = format!("(display '{}x{})\n", "(".repeat(n), ")".repeat(n));
    refuse("data_past_limit", &src, "data nested too deeply");
}
