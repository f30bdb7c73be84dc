//! Golden tests of the passes: for each `tests/golden/NAME.scm`, the output
//! of `termitec run --dump=STAGE --no-stdlib` must equal `NAME.STAGE` for
//! each stage file present. Variable numbers are renumbered by appearance so
//! that unrelated changes do not disturb the files. Set TERMITEC_BLESS=1 to
//! rewrite the expected files after an intended change (then review the diff).

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Command;

const STAGES: &[&str] = &["expand", "cps", "closure"];

/// Renumbers `name.123` variable suffixes and 16-hex-digit code ids.
fn normalize(s: &str) -> String {
    let mut out = String::new();
    let mut vars: HashMap<String, usize> = HashMap::new();
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == '.' && i > 0 && !chars[i - 1].is_whitespace() && chars[i - 1] != '(' {
            let start = i + 1;
            let mut j = start;
            while j < chars.len() && chars[j].is_ascii_digit() {
                j += 1;
            }
            let boundary = j == chars.len() || !(chars[j].is_alphanumeric() || chars[j] == '.');
            if j > start && boundary {
                let num: String = chars[start..j].iter().collect();
                let n = vars.len();
                let k = *vars.entry(num).or_insert(n);
                out.push_str(&format!(".{k}"));
                i = j;
                continue;
            }
        }
        out.push(chars[i]);
        i += 1;
    }
    out
}

#[test]
fn passes_match_golden_files() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/golden");
    let bless = std::env::var_os("TERMITEC_BLESS").is_some();
    let mut checked = 0;
    let mut entries: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/golden")
        .flatten()
        .map(|e| e.path())
        .collect();
    entries.sort();
    for scm in entries
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "scm"))
    {
        for stage in STAGES {
            let expected_path = scm.with_extension(stage);
            let out = Command::new(env!("CARGO_BIN_EXE_termitec"))
                .args(["run", "--no-stdlib"])
                .arg(format!("--dump={stage}"))
                .arg(scm)
                .output()
                .expect("run termitec");
            assert!(
                out.status.success(),
                "{}: {}",
                scm.display(),
                String::from_utf8_lossy(&out.stderr)
            );
            let got = normalize(&String::from_utf8_lossy(&out.stdout));
            if bless {
                std::fs::write(&expected_path, &got).expect("write golden file");
                continue;
            }
            let expected = std::fs::read_to_string(&expected_path).unwrap_or_else(|_| {
                panic!(
                    "missing {} (run with TERMITEC_BLESS=1)",
                    expected_path.display()
                )
            });
            assert_eq!(
                got,
                expected,
                "{} changed: review, then rerun with TERMITEC_BLESS=1",
                expected_path.display()
            );
            checked += 1;
        }
    }
    assert!(bless || checked >= 12, "golden files checked: {checked}");
}
