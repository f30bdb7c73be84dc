//! Every program in `examples/` compiles and runs to completion, so the
//! README's first command keeps working.

use std::process::Command;

#[test]
fn examples_run() {
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).expect("examples/").flatten() {
        let path = entry.path();
        if path.extension().is_none_or(|e| e != "scm") {
            continue;
        }
        let out = Command::new(env!("CARGO_BIN_EXE_termitec"))
            .arg("run")
            .arg(&path)
            .output()
            .expect("run");
        assert!(
            out.status.success(),
            "{}: {}",
            path.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!out.stdout.is_empty(), "{} printed nothing", path.display());
        n += 1;
    }
    assert!(n >= 3, "examples found: {n}");
}
