//! What the test programs that run `termitec` as a child share.

use std::path::PathBuf;

/// A scratch directory of one test, removed at the end (named by the test
/// binary, its process and `name`, so parallel tests and runs never meet).
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(name: &str) -> Scratch {
        let binary = std::env::current_exe()
            .ok()
            .and_then(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
            .unwrap_or_default();
        let dir =
            std::env::temp_dir().join(format!("termitec-{binary}-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
