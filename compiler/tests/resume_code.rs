//! The code made for resumable sites (ARCHITECTURE.md, "Continuations,
//! exceptions, dynamic state"): a resume function only where a site has a
//! rest to resume. Ten thousand `(define (f x) (+ x 1))` made ten thousand
//! resume functions, and doubled the compile time of such a program.

use std::process::Command;

/// The names of the functions in the Cranelift IR dump of `src`.
fn clif_functions(name: &str, src: &str) -> Vec<String> {
    let dir = std::env::temp_dir().join(format!("termitec-resume-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join(format!("{name}.scm"));
    std::fs::write(&file, src).expect("write program");
    let out = Command::new(env!("CARGO_BIN_EXE_termitec"))
        .args(["run", "--dump", "clif"])
        .arg(&file)
        .output()
        .expect("run termitec");
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        out.status.success(),
        "{name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.strip_prefix(";; "))
        .map(|l| l.split(" (code id").next().unwrap_or(l).to_string())
        .collect()
}

#[test]
fn a_site_in_tail_position_needs_no_resume_function() {
    let fs = clif_functions(
        "tail",
        "(define (inc x) (+ x 1))\n(define (first l) (car l))\n\
         (display (list (inc 1) (first '(2))))\n",
    );
    assert!(fs.iter().any(|f| f == "inc"), "{fs:?}");
    assert!(fs.iter().any(|f| f == "first"), "{fs:?}");
    assert!(
        !fs.iter()
            .any(|f| f == "inc (resume)" || f == "first (resume)"),
        "{fs:?}"
    );
}

#[test]
fn a_site_with_a_rest_gets_a_resume_function() {
    let fs = clif_functions(
        "rest",
        "(define (inc-twice x) (list (+ x 1) x))\n(display (inc-twice 1))\n",
    );
    assert!(fs.iter().any(|f| f == "inc-twice (resume)"), "{fs:?}");
}
