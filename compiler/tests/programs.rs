//! Runs the test programs of `tests/` (at the repository's top) through
//! `termitec run`, and some through `termitec build` and the executable.
//!
//! A program `NAME.scm` is checked against `NAME.out` (its expected standard
//! output, when the file exists) and against directives in its comments:
//! - `; EXIT: N`     the expected exit status (default 0, or 2 with ERROR);
//! - `; ERROR: text` a compile error whose diagnostic contains `text`;
//! - `; STDERR: text` standard error contains `text`;
//! - `; ARGS: a b`   arguments passed to the program;
//! - `; MAX-RSS-MB: N` its peak resident memory stays under N MiB;
//! - `; ENV: NAME=VALUE` an environment variable for the program;
//! - `; FLAGS: --x`   flags passed to `termitec run` and `termitec build`;
//! - `; AOT`         also build it ahead of time and run the executable
//!   (everything under `tests/errors/`, `tests/aot/` and `tests/termite/` is).

use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[derive(Clone, Copy, PartialEq, Debug)]
enum Mode {
    Jit,
    Aot,
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

struct Output {
    status: Option<i32>,
    stdout: String,
    stderr: String,
}

/// The peak resident memory of a running process, in MiB (Linux).
fn peak_rss_mib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024)
}

/// Runs `cmd`, killing it after `limit`, or as soon as its peak resident
/// memory exceeds `max_rss_mib`.
fn run_with_timeout(cmd: Command, limit: Duration) -> Output {
    run_bounded(cmd, limit, None)
}

fn run_bounded(mut cmd: Command, limit: Duration, max_rss_mib: Option<u64>) -> Output {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut out = child.stdout.take().expect("stdout");
    let mut err = child.stderr.take().expect("stderr");
    let t_out = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = out.read_to_end(&mut s);
        s
    });
    let t_err = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = err.read_to_end(&mut s);
        s
    });
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s.code();
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("timed out after {limit:?}");
        }
        if let Some(max) = max_rss_mib
            && let Some(rss) = peak_rss_mib(child.id())
            && rss > max
        {
            let _ = child.kill();
            let _ = child.wait();
            panic!("peak resident memory {rss} MiB exceeds {max} MiB");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    Output {
        status,
        stdout: String::from_utf8_lossy(&t_out.join().expect("join")).into_owned(),
        stderr: String::from_utf8_lossy(&t_err.join().expect("join")).into_owned(),
    }
}

fn directives<'a>(src: &'a str, key: &str) -> Vec<&'a str> {
    let tag = format!("; {key}:");
    src.lines()
        .filter_map(|l| l.trim_start().strip_prefix(tag.as_str()).map(str::trim))
        .collect()
}

fn check_program(rel: &str, mode: Mode) {
    let path = repo().join("tests").join(rel);
    let src = std::fs::read_to_string(&path).expect("read test program");
    let errors = directives(&src, "ERROR");
    let expected_exit: i32 = directives(&src, "EXIT")
        .first()
        .map(|s| s.parse().expect("EXIT: number"))
        .unwrap_or(if errors.is_empty() { 0 } else { 2 });
    let args: Vec<String> = directives(&src, "ARGS")
        .iter()
        .flat_map(|a| a.split_whitespace().map(String::from))
        .collect();
    let max_rss: Option<u64> = directives(&src, "MAX-RSS-MB")
        .first()
        .map(|s| s.parse().expect("MAX-RSS-MB: number"));
    let env: Vec<(&str, &str)> = directives(&src, "ENV")
        .iter()
        .filter_map(|d| d.split_once('='))
        .collect();
    let flags: Vec<String> = directives(&src, "FLAGS")
        .iter()
        .flat_map(|a| a.split_whitespace().map(String::from))
        .collect();
    let termitec = env!("CARGO_BIN_EXE_termitec");
    let limit = Duration::from_secs(120);
    let out = match mode {
        Mode::Jit => {
            let mut cmd = Command::new(termitec);
            cmd.arg("run")
                .args(&flags)
                .arg(&path)
                .arg("--")
                .args(&args)
                .envs(env);
            run_bounded(cmd, limit, max_rss)
        }
        Mode::Aot => {
            let dir = std::env::temp_dir().join(format!("termitec-test-{}", std::process::id()));
            std::fs::create_dir_all(&dir).expect("temp dir");
            let exe = dir.join(rel.replace('/', "_").trim_end_matches(".scm"));
            let mut build = Command::new(termitec);
            build
                .arg("build")
                .args(&flags)
                .arg(&path)
                .arg("-o")
                .arg(&exe);
            let b = run_with_timeout(build, limit);
            if b.status != Some(0) {
                // A compile error: the build reports it as `run` would.
                b
            } else {
                let mut cmd = Command::new(&exe);
                cmd.args(&args).envs(env);
                let o = run_bounded(cmd, limit, max_rss);
                let _ = std::fs::remove_file(&exe);
                o
            }
        }
    };
    for e in &errors {
        assert!(
            out.stderr.contains(e),
            "{rel} ({mode:?}): expected the diagnostic to contain {e:?}, got:\n{}",
            out.stderr
        );
    }
    for e in directives(&src, "STDERR") {
        assert!(
            out.stderr.contains(e),
            "{rel} ({mode:?}): expected stderr to contain {e:?}, got:\n{}",
            out.stderr
        );
    }
    // The JIT's panic hook says "internal compiler error"; Rust's default
    // hook says "panicked" and may print a backtrace; a panic exits 101.
    for sign in ["panicked", "internal compiler error", "stack backtrace"] {
        assert!(
            !out.stderr.contains(sign),
            "{rel} ({mode:?}): a panic reached the user:\n{}",
            out.stderr
        );
    }
    assert!(
        out.status.is_some_and(|s| s < 100) || out.status == Some(expected_exit),
        "{rel} ({mode:?}): exit status {:?} (a panic, a signal or an abort); stderr:\n{}",
        out.status,
        out.stderr
    );
    assert_eq!(
        out.status,
        Some(expected_exit),
        "{rel} ({mode:?}): exit status; stderr:\n{}\nstdout:\n{}",
        out.stderr,
        out.stdout
    );
    let out_path = path.with_extension("out");
    if let Ok(expected) = std::fs::read_to_string(&out_path) {
        assert_eq!(
            out.stdout, expected,
            "{rel} ({mode:?}): standard output differs"
        );
    }
}

include!(concat!(env!("OUT_DIR"), "/program_tests.rs"));
