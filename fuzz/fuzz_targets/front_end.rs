//! The whole front end (read, expand, CPS, closure conversion) on arbitrary
//! text. The first byte chooses whether the standard library is compiled
//! with it (odd) or not (even: faster, primitives only). A program either
//! compiles or is refused with a located diagnostic; it never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use termitec::diag::SourceMap;
use termitec::driver::{Options, Timings, compile};

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let Ok(src) = std::str::from_utf8(rest) else {
        return;
    };
    let opts = Options {
        no_stdlib: mode % 2 == 0,
        ..Options::default()
    };
    let mut files = SourceMap::default();
    let mut timings = Timings::default();
    if let Err(msg) = compile(&mut files, "fuzz.scm", src, &opts, &mut timings) {
        let first = msg.lines().next().unwrap_or("");
        assert!(
            first.starts_with("fuzz.scm:") && !first.contains("internal"),
            "diagnostic without a location: {msg}"
        );
    }
});
