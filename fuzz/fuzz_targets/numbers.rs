//! The runtime's number parser and printer (`string->number`,
//! `number->string`): parsing never panics, and what it prints reads back
//! as the same number.
#![no_main]

use libfuzzer_sys::fuzz_target;
use termite_runtime::num::{Num, number_to_string, parse_number};

fn same(a: &Num, b: &Num) -> bool {
    match (a, b) {
        (Num::Flo(x), Num::Flo(y)) => x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan()),
        (Num::Flo(_), _) | (_, Num::Flo(_)) => false,
        _ => number_to_string(a, 10) == number_to_string(b, 10),
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&r, rest)) = data.split_first() else {
        return;
    };
    // Keep inputs that make huge exact numbers (`#e1e99999999`) small.
    if rest.len() > 64 {
        return;
    }
    let Ok(src) = std::str::from_utf8(rest) else {
        return;
    };
    let radix = [2, 8, 10, 16][(r % 4) as usize];
    if let Some(n) = parse_number(src, radix) {
        for out_radix in [radix, 10] {
            // number->string gives the flonums in decimal whatever the radix.
            let radix_back = if matches!(n, Num::Flo(_)) { 10 } else { out_radix };
            let printed = number_to_string(&n, out_radix);
            let back = parse_number(&printed, radix_back)
                .unwrap_or_else(|| panic!("{printed:?} (printed from {src:?}) does not read back"));
            assert!(same(&n, &back), "{src:?} printed as {printed:?} reads back differently");
        }
    }
});
