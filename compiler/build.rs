//! Generates the reader's parser (lalrpop) and builds the runtime's static
//! library, which the compiler embeds so that `termitec build` works from
//! any installed copy (see ARCHITECTURE.md, "Back ends").

use std::path::PathBuf;
use std::process::Command;

fn main() {
    lalrpop::Configuration::new()
        .use_cargo_dir_conventions()
        .process()
        .expect("lalrpop grammar");

    println!("cargo::rerun-if-env-changed=TERMITE_RUNTIME_LIB");
    let manifest_dir =
        PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let runtime = manifest_dir.join("../runtime");
    println!("cargo::rerun-if-changed={}", runtime.join("src").display());
    println!(
        "cargo::rerun-if-changed={}",
        runtime.join("Cargo.toml").display()
    );
    let lib = match std::env::var("TERMITE_RUNTIME_LIB") {
        Ok(path) => PathBuf::from(path),
        Err(_) => build_runtime(&runtime),
    };
    println!("cargo::rustc-env=TERMITE_RT_LIB={}", lib.display());
    generate_program_tests(&manifest_dir.join("../tests"));
}

/// One `#[test]` per test program under `tests/`, so that a failure names
/// its file. Programs under `tests/aot/`, `tests/errors/` and `tests/termite/`,
/// and those marked `; AOT`, also run as built executables.
fn generate_program_tests(root: &std::path::Path) {
    println!("cargo::rerun-if-changed={}", root.display());
    let mut files = Vec::new();
    collect_scm(root, root, &mut files);
    files.sort();
    let mut out = String::new();
    for rel in &files {
        let ident: String = rel
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '_'
                }
            })
            .collect();
        let ident = ident.trim_end_matches("_scm").to_string();
        out.push_str(&format!(
            "#[test]\nfn jit_{ident}() {{ check_program({rel:?}, Mode::Jit); }}\n"
        ));
        let aot = std::fs::read_to_string(root.join(rel))
            .map(|s| s.lines().any(|l| l.trim() == "; AOT"))
            .unwrap_or(false);
        // Termite programs (issue 3: every paper example in JIT and AOT)
        // and refused programs always run both ways.
        if aot
            || ["aot/", "errors/", "termite/"]
                .iter()
                .any(|d| rel.starts_with(d))
        {
            out.push_str(&format!(
                "#[test]\nfn aot_{ident}() {{ check_program({rel:?}, Mode::Aot); }}\n"
            ));
        }
    }
    let dest = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR")).join("program_tests.rs");
    std::fs::write(dest, out).expect("write generated tests");
}

fn collect_scm(root: &std::path::Path, dir: &std::path::Path, out: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            println!("cargo::rerun-if-changed={}", p.display());
            collect_scm(root, &p, out);
        } else if p.extension().is_some_and(|x| x == "scm")
            && let Ok(rel) = p.strip_prefix(root)
        {
            out.push(rel.to_string_lossy().replace('\\', "/"));
        }
    }
}

fn build_runtime(runtime: &std::path::Path) -> PathBuf {
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR"));
    let target_dir = out.join("rt-target");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    // A separate target directory: the outer build holds the lock on its own.
    let status = Command::new(cargo)
        .args([
            "rustc",
            "--release",
            "--lib",
            "--features",
            "aot-main",
            "--crate-type",
            "staticlib",
            "--manifest-path",
        ])
        .arg(runtime.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(&target_dir)
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("CARGO_TARGET_DIR")
        .status()
        .expect("run cargo to build the runtime static library");
    assert!(
        status.success(),
        "building the runtime static library failed"
    );
    target_dir.join("release").join("libtermite_runtime.a")
}
