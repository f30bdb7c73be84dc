//! The wire decoder (`wire::decode`) on arbitrary bytes: it never panics
//! and refuses what is malformed with a `WireError`; what it accepts is a
//! value that encodes again, and encoding is a fixed point after one round
//! (the same graph gives the same bytes).
#![no_main]

use libfuzzer_sys::fuzz_target;
use termite_runtime::wire::{decode, encode};

fn code() {}

fuzz_target!(|data: &[u8]| {
    static ONCE: std::sync::Once = std::sync::Once::new();
    // One known code id (1), so that closures can decode.
    ONCE.call_once(|| {
        termite_runtime::program_state::register_code(&[(1, "f".into(), code as *const u8)])
    });
    let Ok((_mem, v)) = decode(data) else {
        return;
    };
    let once = encode(v).expect("a decoded value encodes");
    let (_mem2, w) = decode(&once).expect("an encoding decodes");
    let twice = encode(w).expect("a decoded value encodes");
    assert_eq!(once, twice);
});
