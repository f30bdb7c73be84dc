//! The reader on arbitrary text: it returns data or a diagnostic whose span
//! lies inside the text; it never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(src) = std::str::from_utf8(data) else {
        return;
    };
    match termitec::read::parse_program(0, src) {
        Ok(forms) => {
            for f in &forms {
                assert!(f.span.lo <= f.span.hi && f.span.hi as usize <= src.len());
            }
        }
        Err(d) => assert!(d.span.lo as usize <= src.len(), "span outside the text"),
    }
});
