//! The same program compiled by `termitec run` (JIT) and `termitec build`
//! (AOT) agrees on every code id: the ids are what closures and
//! continuations are serialized by, so nodes must agree on them.

use std::process::Command;

const PROGRAM: &str = r#"
(define (add a b) (+ a b))
(define (make-adder n) (lambda (x) (+ x n)))
(define k (call/cc (lambda (k) k)))
(for-each (lambda (p) (display (procedure-code-id p)) (newline))
          (list add (make-adder 1) (make-adder 2) car map k))
"#;

fn lines(s: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(s)
        .lines()
        .map(String::from)
        .collect()
}

#[test]
fn jit_and_aot_agree_on_code_ids() {
    let dir = std::env::temp_dir().join(format!("termitec-codeids-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let src = dir.join("ids.scm");
    std::fs::write(&src, PROGRAM).expect("write program");
    let termitec = env!("CARGO_BIN_EXE_termitec");

    let jit = Command::new(termitec)
        .arg("run")
        .arg(&src)
        .output()
        .expect("run");
    assert!(
        jit.status.success(),
        "{}",
        String::from_utf8_lossy(&jit.stderr)
    );
    let exe = dir.join("ids");
    let build = Command::new(termitec)
        .arg("build")
        .arg(&src)
        .arg("-o")
        .arg(&exe)
        .output()
        .expect("build");
    assert!(
        build.status.success(),
        "{}",
        String::from_utf8_lossy(&build.stderr)
    );
    let aot = Command::new(&exe).output().expect("run executable");
    assert!(
        aot.status.success(),
        "{}",
        String::from_utf8_lossy(&aot.stderr)
    );
    let _ = std::fs::remove_dir_all(&dir);

    let (j, a) = (lines(&jit.stdout), lines(&aot.stdout));
    assert_eq!(j.len(), 6);
    assert_eq!(j, a, "code ids differ between JIT and AOT");
    for id in &j {
        assert_eq!(id.len(), 16, "a code id is 16 hex digits: {id}");
    }
    // Two closures of one lambda share its code; different lambdas do not.
    assert_eq!(j[1], j[2]);
    assert_ne!(j[0], j[1]);
    assert_ne!(j[0], j[3]);
}
