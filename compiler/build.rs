//! Generates the reader's parser (lalrpop) and builds the runtime's static
//! library, which the compiler embeds so that `termitec build` works from
//! any installed copy (see ARCHITECTURE.md, "Back ends").

use std::path::PathBuf;
use std::process::Command;

fn main() {
    lalrpop::Configuration::new().use_cargo_dir_conventions().process().expect("lalrpop grammar");

    println!("cargo::rerun-if-env-changed=TERMITE_RUNTIME_LIB");
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let runtime = manifest_dir.join("../runtime");
    println!("cargo::rerun-if-changed={}", runtime.join("src").display());
    println!("cargo::rerun-if-changed={}", runtime.join("Cargo.toml").display());
    let lib = match std::env::var("TERMITE_RUNTIME_LIB") {
        Ok(path) => PathBuf::from(path),
        Err(_) => build_runtime(&runtime),
    };
    println!("cargo::rustc-env=TERMITE_RT_LIB={}", lib.display());
}

fn build_runtime(runtime: &std::path::Path) -> PathBuf {
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR"));
    let target_dir = out.join("rt-target");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    // A separate target directory: the outer build holds the lock on its own.
    let status = Command::new(cargo)
        .args(["rustc", "--release", "--lib", "--features", "aot-main", "--crate-type", "staticlib", "--manifest-path"])
        .arg(runtime.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(&target_dir)
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("CARGO_TARGET_DIR")
        .status()
        .expect("run cargo to build the runtime static library");
    assert!(status.success(), "building the runtime static library failed");
    target_dir.join("release").join("libtermite_runtime.a")
}
