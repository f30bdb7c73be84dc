//! The numeric tower: fixnums, bignums (dashu) and flonums. Compiled code
//! handles fixnum fast paths inline; everything else comes here.

use crate::alloc::bignum_value;
use crate::ctx::Ctx;
use crate::value::*;
use dashu::base::{Abs, BitTest, DivRem, Gcd};
use dashu::integer::IBig;
use std::cmp::Ordering;

#[derive(Clone, Debug)]
pub enum Num {
    Fix(i64),
    Big(IBig),
    Flo(f64),
}

pub fn num_of(v: Value) -> Option<Num> {
    if v.is_fixnum() {
        Some(Num::Fix(v.as_fixnum()))
    } else if v.has_type(T_FLONUM) {
        Some(Num::Flo(v.flonum()))
    } else if v.has_type(T_BIGNUM) {
        Some(Num::Big(bignum_value(v)))
    } else {
        None
    }
}

pub fn is_number(v: Value) -> bool {
    v.is_fixnum() || v.has_type(T_FLONUM) || v.has_type(T_BIGNUM)
}

pub fn is_exact_integer(v: Value) -> bool {
    v.is_fixnum() || v.has_type(T_BIGNUM)
}

impl Num {
    pub fn to_f64(&self) -> f64 {
        match self {
            Num::Fix(i) => *i as f64,
            Num::Big(b) => b.to_f64().value(),
            Num::Flo(x) => *x,
        }
    }

    fn to_big(&self) -> IBig {
        match self {
            Num::Fix(i) => IBig::from(*i),
            Num::Big(b) => b.clone(),
            Num::Flo(x) => flonum_to_integer(x.trunc()).unwrap_or(IBig::ZERO),
        }
    }

    pub fn is_exact(&self) -> bool {
        !matches!(self, Num::Flo(_))
    }
}

pub fn to_value(ctx: &mut Ctx, n: Num) -> Value {
    match n {
        Num::Fix(i) => ctx.int(i),
        Num::Big(b) => ctx.integer(b),
        Num::Flo(x) => ctx.flonum(x),
    }
}

#[derive(Clone, Copy)]
pub enum Op {
    Add,
    Sub,
    Mul,
}

pub fn arith(op: Op, a: &Num, b: &Num) -> Num {
    match (a, b) {
        (Num::Fix(x), Num::Fix(y)) => {
            let r = match op {
                Op::Add => x.checked_add(*y),
                Op::Sub => x.checked_sub(*y),
                Op::Mul => x.checked_mul(*y),
            };
            match r {
                Some(r) => Num::Fix(r),
                None => arith(op, &Num::Big(IBig::from(*x)), &Num::Big(IBig::from(*y))),
            }
        }
        (Num::Flo(_), _) | (_, Num::Flo(_)) => {
            let (x, y) = (a.to_f64(), b.to_f64());
            Num::Flo(match op {
                Op::Add => x + y,
                Op::Sub => x - y,
                Op::Mul => x * y,
            })
        }
        _ => {
            let (x, y) = (a.to_big(), b.to_big());
            Num::Big(match op {
                Op::Add => x + y,
                Op::Sub => x - y,
                Op::Mul => x * y,
            })
        }
    }
}

/// Compares two numbers exactly (R7RS 6.2.6: comparisons are transitive, so
/// an exact integer is never rounded to a flonum to be compared); `None`
/// when either is a NaN.
pub fn compare(a: &Num, b: &Num) -> Option<Ordering> {
    match (a, b) {
        (Num::Fix(x), Num::Fix(y)) => Some(x.cmp(y)),
        (Num::Flo(x), Num::Flo(y)) => x.partial_cmp(y),
        (Num::Flo(x), n) => compare_exact_flonum(n, *x).map(Ordering::reverse),
        (n, Num::Flo(y)) => compare_exact_flonum(n, *y),
        _ => Some(a.to_big().cmp(&b.to_big())),
    }
}

/// Largest magnitude below which every integer is exactly a flonum.
const EXACT_FLONUM_INTS: i64 = 1 << 53;

/// Compares an exact integer with a flonum without rounding the integer.
fn compare_exact_flonum(n: &Num, x: f64) -> Option<Ordering> {
    if x.is_nan() {
        return None;
    }
    if let Num::Fix(i) = n
        && i.unsigned_abs() <= EXACT_FLONUM_INTS as u64
    {
        return (*i as f64).partial_cmp(&x);
    }
    if x.is_infinite() {
        return Some(if x > 0.0 {
            Ordering::Less
        } else {
            Ordering::Greater
        });
    }
    // `t` is an integer within 1 of `x`, on the same side of 0: an integer
    // that differs from `t` compares with `x` as it does with `t`.
    let t = x.trunc();
    let exact_t = flonum_to_integer(t)?;
    Some(match n.to_big().cmp(&exact_t) {
        Ordering::Equal => 0.0.partial_cmp(&(x - t))?,
        o => o,
    })
}

/// The exact integer a finite, integral flonum is equal to; `None` for a
/// fraction, an infinity or a NaN. Exact for every magnitude (`1e300` gives
/// all of its 997 bits).
pub fn flonum_to_integer(x: f64) -> Option<IBig> {
    if !x.is_finite() || x.fract() != 0.0 {
        return None;
    }
    if x.abs() < 9.2e18 {
        return Some(IBig::from(x as i64));
    }
    // x = mantissa * 2^exp with exp > 0 here (|x| >= 2^63).
    let bits = x.to_bits();
    let exp = ((bits >> 52) & 0x7ff) as usize;
    let mantissa = (bits & ((1 << 52) - 1)) | (1 << 52);
    let mag = IBig::from(mantissa) << (exp - 1075);
    Some(if x < 0.0 { -mag } else { mag })
}

/// `eqv?` on two numbers: same exactness and equal; flonums are eqv when
/// they are the same flonum (so `0.0` is not `-0.0`, and a NaN is eqv to a
/// NaN, as in Chez and Gambit).
pub fn eqv_numbers(a: &Num, b: &Num) -> bool {
    match (a, b) {
        (Num::Flo(x), Num::Flo(y)) => x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan()),
        (Num::Flo(_), _) | (_, Num::Flo(_)) => false,
        _ => compare(a, b) == Some(Ordering::Equal),
    }
}

/// `/`: exact when the division is exact, else a flonum (termitec has no
/// rationals).
pub fn divide(a: &Num, b: &Num) -> Option<Num> {
    match (a, b) {
        (Num::Flo(_), _) | (_, Num::Flo(_)) => Some(Num::Flo(a.to_f64() / b.to_f64())),
        _ => {
            let (x, y) = (a.to_big(), b.to_big());
            if y == IBig::ZERO {
                return None;
            }
            let (q, r) = (&x).div_rem(&y);
            if r == IBig::ZERO {
                Some(Num::Big(q))
            } else {
                Some(Num::Flo(a.to_f64() / b.to_f64()))
            }
        }
    }
}

#[derive(Clone, Copy, PartialEq)]
pub enum IntDiv {
    Quotient,
    Remainder,
    Modulo,
}

/// Integer division; `None` when dividing by zero.
pub fn int_div(op: IntDiv, a: &Num, b: &Num) -> Option<Num> {
    match (a, b) {
        (Num::Fix(x), Num::Fix(y)) => {
            if *y == 0 {
                return None;
            }
            if *x == i64::MIN && *y == -1 {
                return int_div(op, &Num::Big(IBig::from(*x)), &Num::Big(IBig::from(*y)));
            }
            Some(Num::Fix(match op {
                IntDiv::Quotient => x / y,
                IntDiv::Remainder => x % y,
                IntDiv::Modulo => ((x % y) + y) % y,
            }))
        }
        (Num::Flo(_), _) | (_, Num::Flo(_)) => {
            let (x, y) = (a.to_f64(), b.to_f64());
            if y == 0.0 {
                return None;
            }
            Some(Num::Flo(match op {
                IntDiv::Quotient => (x / y).trunc(),
                IntDiv::Remainder => x % y,
                IntDiv::Modulo => ((x % y) + y) % y,
            }))
        }
        _ => {
            let (x, y) = (a.to_big(), b.to_big());
            if y == IBig::ZERO {
                return None;
            }
            let (q, r) = (&x).div_rem(&y);
            Some(Num::Big(match op {
                IntDiv::Quotient => q,
                IntDiv::Remainder => r,
                IntDiv::Modulo => {
                    if r != IBig::ZERO && ((r < IBig::ZERO) != (y < IBig::ZERO)) {
                        r + y
                    } else {
                        r
                    }
                }
            }))
        }
    }
}

pub fn gcd(a: &Num, b: &Num) -> Num {
    match (a, b) {
        (Num::Flo(_), _) | (_, Num::Flo(_)) => {
            let (mut x, mut y) = (a.to_f64().abs(), b.to_f64().abs());
            while y != 0.0 {
                (x, y) = (y, x % y);
            }
            Num::Flo(x)
        }
        _ => {
            let (x, y) = (a.to_big().abs(), b.to_big().abs());
            // dashu's gcd panics on (0, 0); gcd(0, n) is |n|.
            if x == IBig::ZERO {
                return Num::Big(y);
            }
            if y == IBig::ZERO {
                return Num::Big(x);
            }
            Num::Big(IBig::from(x.gcd(y)))
        }
    }
}

/// The largest exact integer, in bits, that number routines will compute.
/// An operation whose result would be larger (`(expt 2 100000000000)`, a
/// product of two huge bignums) raises the catchable error
/// `heap limit exceeded` before the bignum library is asked to allocate it.
/// 2^30 bits is a 128 MiB bignum: far beyond any real program, and below
/// what a process's heap limit lets it hold, so the result would not fit in
/// the heap anyway; the check only keeps the bignum library from trying.
pub const MAX_BIGNUM_BITS: u64 = 1 << 30;

/// The message of the error raised when a result would exceed
/// `MAX_BIGNUM_BITS` (the same as the heap allocator's).
pub const HEAP_LIMIT_MESSAGE: &str = "heap limit exceeded";

/// Why a numeric operation has no result.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum NumError {
    DivisionByZero,
    /// The result would have more than `MAX_BIGNUM_BITS` bits.
    TooLarge,
}

/// The number of bits of the magnitude of an exact integer.
pub fn bit_length(n: &Num) -> u64 {
    match n {
        Num::Fix(i) => 64 - i.unsigned_abs().leading_zeros() as u64,
        Num::Big(b) => b.bit_len() as u64,
        Num::Flo(_) => 0,
    }
}

/// `*`, refusing an exact product that would exceed `MAX_BIGNUM_BITS`.
pub fn multiply(a: &Num, b: &Num) -> Result<Num, NumError> {
    if a.is_exact() && b.is_exact() && bit_length(a) + bit_length(b) > MAX_BIGNUM_BITS + 1 {
        return Err(NumError::TooLarge);
    }
    Ok(arith(Op::Mul, a, b))
}

pub fn expt(base: &Num, e: &Num) -> Result<Num, NumError> {
    if !(base.is_exact() && e.is_exact()) {
        return Ok(Num::Flo(base.to_f64().powf(e.to_f64())));
    }
    let b = base.to_big();
    let negative = e.to_big() < IBig::ZERO;
    let odd = (e.to_big() % IBig::from(2)) != IBig::ZERO;
    // 0, 1 and -1 have every power, however large the exponent.
    if b == IBig::ZERO {
        return match (negative, e.to_big() == IBig::ZERO) {
            (true, _) => Err(NumError::DivisionByZero),
            (false, true) => Ok(Num::Fix(1)),
            (false, false) => Ok(Num::Fix(0)),
        };
    }
    if b == IBig::ONE || b == -IBig::ONE {
        return Ok(Num::Fix(if b < IBig::ZERO && odd { -1 } else { 1 }));
    }
    if negative {
        // No exact rationals: 1/b^n as a flonum (tiny or 0.0 when huge).
        return Ok(Num::Flo(base.to_f64().powf(e.to_f64())));
    }
    let n = match e {
        Num::Fix(n) => *n as u64,
        _ => return Err(NumError::TooLarge),
    };
    // |b|^n has at least n * log2|b| bits (|b| >= 2 here).
    let log2 = match base {
        Num::Fix(i) => (i.unsigned_abs() as f64).log2(),
        _ => (bit_length(base) - 1) as f64,
    };
    if (n as f64) * log2 > MAX_BIGNUM_BITS as f64 {
        return Err(NumError::TooLarge);
    }
    Ok(Num::Big(b.pow(n as usize)))
}

/// `(arithmetic-shift n k)` on exact integers: `n * 2^k`, rounded toward
/// negative infinity when `k < 0` (Gambit, SRFI 151). A left shift whose
/// result would exceed `MAX_BIGNUM_BITS` is refused before anything is
/// allocated.
pub fn arithmetic_shift(n: &Num, k: &Num) -> Result<Num, NumError> {
    let n = n.to_big();
    if n == IBig::ZERO {
        return Ok(Num::Fix(0));
    }
    let bits = n.bit_len() as u64;
    match k {
        Num::Fix(k) if *k >= 0 => {
            if bits.saturating_add(*k as u64) > MAX_BIGNUM_BITS {
                return Err(NumError::TooLarge);
            }
            Ok(Num::Big(n << *k as usize))
        }
        Num::Fix(k) if k.unsigned_abs() < bits => Ok(Num::Big(n >> k.unsigned_abs() as usize)),
        Num::Big(k) if *k > IBig::ZERO => Err(NumError::TooLarge),
        // Every bit shifted out: 0, or -1 for a negative n.
        _ => Ok(Num::Fix(if n < IBig::ZERO { -1 } else { 0 })),
    }
}

/// Formats a flonum as Scheme writes it (`1.0`, `0.5`, `+inf.0`).
pub fn format_flonum(x: f64) -> String {
    if x.is_nan() {
        return "+nan.0".into();
    }
    if x.is_infinite() {
        return if x > 0.0 {
            "+inf.0".into()
        } else {
            "-inf.0".into()
        };
    }
    let s = format!("{x:?}");
    if s.contains('e') && !s.contains('.') {
        // 1e21 => 1e21 is valid Scheme; keep Rust's shortest form.
        return s;
    }
    s
}

pub fn number_to_string(n: &Num, radix: u32) -> String {
    match n {
        Num::Fix(i) if radix == 10 => i.to_string(),
        Num::Fix(i) => {
            let b = IBig::from(*i);
            format_big_radix(&b, radix)
        }
        Num::Big(b) if radix == 10 => b.to_string(),
        Num::Big(b) => format_big_radix(b, radix),
        Num::Flo(x) => format_flonum(*x),
    }
}

fn format_big_radix(b: &IBig, radix: u32) -> String {
    let s = b.in_radix(radix as u8).to_string();
    s.to_lowercase()
}

/// Parses a number in Scheme syntax (R7RS 7.1.1, real numbers only);
/// `None` if `s` is not one. This is what `string->number` and the reader
/// use; it is a pure function of its arguments, never panics and never
/// builds an integer over `MAX_BIGNUM_BITS` (a fuzz target can call it
/// directly, with `number_to_string` as its inverse).
///
/// Accepted: at most one radix prefix (`#x #o #b #d`) and one exactness
/// prefix (`#e #i`) in either order, then `+inf.0`, `-inf.0`, `+nan.0`,
/// `-nan.0`, or an optional sign and an integer `digits`, a ratio
/// `digits/digits` (exact when it divides, else a flonum: termitec has no
/// exact rationals; a zero denominator is not a number), or in radix 10 a
/// decimal `digits[.digits][e[sign]digits]` or `.digits[...]`. An exact
/// (`#e`) decimal must denote an integer (`#e1.5` is not a number here).
pub fn parse_number(s: &str, radix: u32) -> Option<Num> {
    let mut radix = radix;
    let mut exact: Option<bool> = None;
    let mut radix_given = false;
    let mut t = s;
    while let Some(rest) = t.strip_prefix('#') {
        let c = rest.bytes().next()?.to_ascii_lowercase();
        match c {
            b'x' | b'b' | b'o' | b'd' if !radix_given => {
                radix_given = true;
                radix = match c {
                    b'x' => 16,
                    b'b' => 2,
                    b'o' => 8,
                    _ => 10,
                };
            }
            b'e' | b'i' if exact.is_none() => exact = Some(c == b'e'),
            _ => return None,
        }
        t = &rest[1..];
    }
    if !matches!(radix, 2 | 8 | 10 | 16) {
        return None;
    }
    match exact {
        Some(true) => parse_exact(t, radix),
        Some(false) => parse_real(t, radix).map(|n| Num::Flo(n.to_f64())),
        None => parse_real(t, radix),
    }
}

/// Splits an optional sign off: (negative, rest).
fn split_sign(s: &str) -> (bool, &str) {
    match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    }
}

fn all_digits(s: &str, radix: u32) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_digit(radix))
}

/// An unsigned integer in `radix`, refusing one over `MAX_BIGNUM_BITS`.
fn parse_uint(s: &str, radix: u32) -> Option<IBig> {
    if !all_digits(s, radix) {
        return None;
    }
    let bits_per_digit = match radix {
        2 => 1,
        8 => 3,
        _ => 4,
    };
    let significant = s.trim_start_matches('0');
    if significant.is_empty() {
        return Some(IBig::ZERO);
    }
    if (significant.len() as u64 - 1).saturating_mul(bits_per_digit) > MAX_BIGNUM_BITS {
        return None;
    }
    IBig::from_str_radix(significant, radix).ok()
}

/// The parts of a radix-10 decimal: sign, integer digits, fraction digits,
/// exponent; `None` unless `s` is exactly `[sign](digits[.digits*]|.digits)[e[sign]digits]`.
fn split_decimal(s: &str) -> Option<(bool, &str, &str, i64)> {
    let (neg, body) = split_sign(s);
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body, None),
    };
    let (int, frac) = match mantissa.split_once('.') {
        Some((i, f)) => (i, f),
        None => (mantissa, ""),
    };
    let digits_ok = |d: &str| d.bytes().all(|c| c.is_ascii_digit());
    if !(digits_ok(int) && digits_ok(frac)) || (int.is_empty() && frac.is_empty()) {
        return None;
    }
    let exp = match exponent {
        None => 0,
        Some(e) => {
            let (eneg, edigits) = split_sign(e);
            if !all_digits(edigits, 10) {
                return None;
            }
            // Beyond 10^±10^15 everything is 0 or infinite anyway.
            let magnitude: i64 = edigits
                .trim_start_matches('0')
                .parse::<i64>()
                .unwrap_or(if edigits.trim_start_matches('0').is_empty() {
                    0
                } else {
                    i64::MAX
                })
                .min(1_000_000_000_000_000);
            if eneg { -magnitude } else { magnitude }
        }
    };
    Some((neg, int, frac, exp))
}

fn parse_real(s: &str, radix: u32) -> Option<Num> {
    match s {
        "+inf.0" => return Some(Num::Flo(f64::INFINITY)),
        "-inf.0" => return Some(Num::Flo(f64::NEG_INFINITY)),
        "+nan.0" | "-nan.0" => return Some(Num::Flo(f64::NAN)),
        _ => {}
    }
    if let Some(n) = parse_integer_or_ratio(s, radix) {
        return n;
    }
    if radix != 10 {
        return None;
    }
    split_decimal(s)?;
    // The syntax is checked: Rust's parser rounds it correctly.
    s.parse::<f64>().ok().map(Num::Flo)
}

/// `Some(result)` when `s` has the syntax of an integer or a ratio (the
/// result is `None` for a zero denominator), `None` when it has not.
fn parse_integer_or_ratio(s: &str, radix: u32) -> Option<Option<Num>> {
    let (neg, body) = split_sign(s);
    let signed = |m: IBig| if neg { -m } else { m };
    match body.split_once('/') {
        None => {
            if !all_digits(body, radix) {
                return None;
            }
            Some(parse_uint(body, radix).map(|m| Num::Big(signed(m))))
        }
        Some((n, d)) => {
            if !(all_digits(n, radix) && all_digits(d, radix)) {
                return None;
            }
            let (n, d) = (parse_uint(n, radix), parse_uint(d, radix));
            Some(match (n, d) {
                (Some(n), Some(d)) => divide(&Num::Big(signed(n)), &Num::Big(d)),
                _ => None,
            })
        }
    }
}

/// The largest exponent of an exact decimal (`#e1e100000` is accepted,
/// `#e1e100001` is not a number): 10^100000 has
/// 332,193 bits and takes a millisecond to build, where an exponent near
/// what `MAX_BIGNUM_BITS` allows would take minutes to build and to print.
/// `(expt 10 n)` builds larger powers on request.
pub const MAX_EXACT_EXPONENT: i64 = 100_000;

/// A number with the `#e` prefix: an exact integer, or `None`.
fn parse_exact(s: &str, radix: u32) -> Option<Num> {
    if let Some(n) = parse_integer_or_ratio(s, radix) {
        return n.filter(Num::is_exact);
    }
    if radix != 10 {
        return None;
    }
    let (neg, int, frac, exp) = split_decimal(s)?;
    // The value is digits * 10^(exp - len(frac)), exactly.
    let digits = format!("{int}{frac}");
    let digits = digits.trim_start_matches('0');
    if digits.is_empty() {
        return Some(Num::Fix(0));
    }
    let scale = exp.checked_sub(frac.len() as i64)?;
    let significant = digits.trim_end_matches('0');
    let zeros = (digits.len() - significant.len()) as i64;
    let scale = scale.checked_add(zeros)?;
    if scale < 0 {
        return None; // a fraction: termitec has no exact rationals
    }
    // A dozen characters must not cost seconds of work (the text may come
    // from outside: `string->number` of a message, the reader): the
    // exponent is bounded far below what `MAX_BIGNUM_BITS` would allow, and
    // the rest of the scale is at most the length of the text.
    if exp > MAX_EXACT_EXPONENT
        || (significant.len() as f64 + scale as f64) * std::f64::consts::LOG2_10
            > MAX_BIGNUM_BITS as f64
    {
        return None;
    }
    let m = IBig::from_str_radix(significant, 10).ok()? * IBig::from(10u8).pow(scale as usize);
    Some(Num::Big(if neg { -m } else { m }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Option<String> {
        parse_number(s, 10).map(|n| number_to_string(&n, 10))
    }

    #[test]
    fn printed_numbers_read_back() {
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let f = f64::from_bits(x);
            let s = number_to_string(&Num::Flo(f), 10);
            match parse_number(&s, 10) {
                Some(Num::Flo(g)) => assert!(
                    g.to_bits() == f.to_bits() || (f.is_nan() && g.is_nan()),
                    "{s}"
                ),
                other => panic!("{s} read back as {other:?}"),
            }
            let i = x as i64;
            for radix in [2, 8, 10, 16] {
                let s = number_to_string(&Num::Fix(i), radix);
                let back = parse_number(&s, radix).map(|n| n.to_big());
                assert_eq!(back, Some(IBig::from(i)), "{s} in radix {radix}");
            }
        }
    }

    #[test]
    fn over_accepting_syntax_is_refused() {
        for s in [
            "1/2/3", "1/0", "--1", "1e", "#x", "1.2.3", "#x#x1", "#e#i1", "1/-2", "+", ".", "e1",
            "inf.0", "1_0", " 1", "#e1.5", "#e+inf.0", "١",
        ] {
            assert_eq!(parse(s), None, "{s:?}");
        }
        assert_eq!(
            parse("#e1e39").as_deref(),
            Some("1000000000000000000000000000000000000000")
        );
        assert_eq!(parse("-6/3").as_deref(), Some("-2"));
    }

    #[test]
    fn arbitrary_strings_never_panic_or_explode() {
        // Mutations of number-like strings, including ones whose exact
        // value would be astronomically large.
        let pieces = [
            "#e",
            "#i",
            "#x",
            "#b",
            "1",
            "0",
            "9",
            ".",
            "e",
            "E",
            "+",
            "-",
            "/",
            "inf.0",
            "nan.0",
            "99999999999999999999",
            "e999999999999999",
            "f",
            "#",
        ];
        let mut x: u64 = 12345;
        for _ in 0..50_000 {
            let mut s = String::new();
            for _ in 0..(x % 7) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                s.push_str(pieces[(x % pieces.len() as u64) as usize]);
            }
            for radix in [2, 10, 16] {
                if let Some(n) = parse_number(&s, radix) {
                    assert!(bit_length(&n) <= MAX_BIGNUM_BITS, "{s}");
                    let _ = number_to_string(&n, radix);
                }
            }
        }
        assert!(parse_number("#e1e999999999999", 10).is_none());
    }

    #[test]
    fn exact_exponents_are_bounded() {
        assert_eq!(parse("#e1e100000").map(|s| s.len()), Some(100_001));
        assert_eq!(parse("#e12.5e99999").map(|s| s.len()), Some(100_001));
        for s in [
            "#e1e100001",
            "#e1e300000000",
            "#e1.5e1000000",
            "#e100e99999999",
        ] {
            let t = std::time::Instant::now();
            assert!(parse(s).is_none(), "{s}");
            assert!(t.elapsed().as_millis() < 100, "{s}");
        }
        // Digits written out are not bounded by the exponent's limit.
        let zeros = format!("#e1{}.0e100000", "0".repeat(200_000));
        assert_eq!(parse(&zeros).map(|s| s.len()), Some(300_001));
    }

    #[test]
    fn shifts_round_down_and_refuse_huge_results() {
        let sh = |n: i64, k: i64| {
            arithmetic_shift(&Num::Fix(n), &Num::Fix(k)).map(|r| number_to_string(&r, 10))
        };
        assert_eq!(sh(1, 10).as_deref(), Ok("1024"));
        assert_eq!(sh(-5, -1).as_deref(), Ok("-3"));
        assert_eq!(sh(5, -1).as_deref(), Ok("2"));
        assert_eq!(sh(-5, -100).as_deref(), Ok("-1"));
        assert_eq!(sh(5, -100).as_deref(), Ok("0"));
        assert_eq!(sh(1, 1_000_000_000_000), Err(NumError::TooLarge));
    }

    #[test]
    fn mixed_comparison_is_exact() {
        let big = Num::Big(IBig::from(1u64 << 53) + IBig::ONE);
        let f = Num::Flo(9007199254740992.0);
        assert_eq!(compare(&big, &f), Some(Ordering::Greater));
        assert_eq!(compare(&f, &big), Some(Ordering::Less));
        assert_eq!(compare(&Num::Fix(3), &Num::Flo(f64::NAN)), None);
        assert_eq!(
            flonum_to_integer(1e39).map(|b| b.to_string()).as_deref(),
            Some("999999999999999939709166371603178586112")
        );
    }
}
