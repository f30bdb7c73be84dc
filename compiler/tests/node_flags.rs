//! The node flags of the command line (`--node`, `--cookie`,
//! `--heartbeat-timeout`) on `termitec run`, `termitec node` and built
//! executables: a bad value is a clear error with exit status 2, good ones
//! are accepted, and a bare `termitec node` listens where it is told.
//! Every child is killed by pid when its test ends.

mod common;
use common::Scratch;
use std::io::{Read, Write};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const TERMITEC: &str = env!("CARGO_BIN_EXE_termitec");

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs a command to its end (killed after 60 s), with HOME in `home`:
/// no test may touch the real ~/.termite-cookie.
fn run_in(home: &std::path::Path, cmd: &mut Command) -> Output {
    let child = cmd
        .env("HOME", home)
        .env_remove("TERMITE_COOKIE")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("runs");
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(Duration::from_secs(60)) {
        Ok(o) => o.expect("waits"),
        Err(_) => {
            // Kill the child we started, by its pid.
            let _ = Command::new("kill").arg("-9").arg(pid.to_string()).status();
            panic!("{cmd:?} did not end");
        }
    }
}

fn run(cmd: &mut Command) -> Output {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let home = Scratch::new(&format!("home{n}"));
    run_in(&home.0, cmd)
}

fn check_flags(base: &[&str], after: &[&str]) {
    let with = |flags: &[&str]| {
        let mut c = Command::new(base[0]);
        c.args(&base[1..]).args(flags).args(after);
        run(&mut c)
    };
    for (flags, msg) in [
        (&["--node", "nohost"][..], "--node: no port"),
        (&["--node", "127.0.0.1:0"], "--node: the port"),
        (&["--node", "no.such.host.invalid:3001"], "cannot resolve"),
        (&["--heartbeat-timeout", "soon"], "--heartbeat-timeout"),
        (&["--heartbeat-timeout", "-1"], "out of range"),
        (&["--cookie", " "], "--cookie: the cookie is empty"),
    ] {
        let o = with(flags);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{base:?} {flags:?}: {err}");
        assert!(err.contains(msg), "{base:?} {flags:?}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
    let o = with(&[
        "--node",
        "127.0.0.1:3001",
        "--cookie",
        "s",
        "--heartbeat-timeout",
        "0.5",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(String::from_utf8_lossy(&o.stdout), "hi");
}

#[test]
fn run_and_built_executables_check_the_node_flags() {
    let s = Scratch::new("run");
    let src = s.0.join("hi.scm");
    std::fs::write(&src, "(display \"hi\")\n").unwrap();
    let src = src.to_str().unwrap();
    check_flags(&[TERMITEC, "run"], &[src]);
    let exe = s.0.join("hi");
    let o = run(Command::new(TERMITEC).args(["build", src, "-o"]).arg(&exe));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    check_flags(&[exe.to_str().unwrap()], &[]);
}

#[test]
fn a_bare_node_listens_where_it_is_told() {
    let o = run(Command::new(TERMITEC).arg("node"));
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--node HOST:PORT is required"));
    // No cookie anywhere (HOME has no such directory): a clear error.
    let s = Scratch::new("nohome");
    let o = run_in(
        &s.0.join("missing"),
        Command::new(TERMITEC).args(["node", "--node", "127.0.0.1:1"]),
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("cookie"));

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    let mut node = Killed(
        Command::new(TERMITEC)
            .args(["node", "--node", &addr, "--cookie", "c"])
            .env("HOME", s.0.join("missing"))
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    // It listens; bytes that are no handshake are refused and logged.
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut s = loop {
        match std::net::TcpStream::connect(&addr) {
            Ok(s) => break s,
            Err(e) if Instant::now() > deadline => panic!("node not listening: {e}"),
            Err(_) => std::thread::sleep(Duration::from_millis(20)),
        }
    };
    s.write_all(b"GET / HTTP/1.0\r\n\r\n").unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf);
    let _ = node.0.kill();
    let _ = node.0.wait();
    let mut err = String::new();
    node.0
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(
        err.contains(&format!("termite: node {addr}: 127.0.0.1:")) && err.contains("refused"),
        "{err}"
    );
}
