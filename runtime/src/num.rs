//! The numeric tower: fixnums, bignums (dashu) and flonums. Compiled code
//! handles fixnum fast paths inline; everything else comes here.

use crate::alloc::bignum_value;
use crate::ctx::Ctx;
use crate::value::*;
use dashu::base::{Abs, DivRem, Gcd};
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
            Num::Flo(x) => IBig::from(*x as i64),
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

pub fn compare(a: &Num, b: &Num) -> Option<Ordering> {
    match (a, b) {
        (Num::Fix(x), Num::Fix(y)) => Some(x.cmp(y)),
        (Num::Flo(_), _) | (_, Num::Flo(_)) => a.to_f64().partial_cmp(&b.to_f64()),
        _ => Some(a.to_big().cmp(&b.to_big())),
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
            // dashu panics on gcd(0, 0); Scheme defines it as 0 (and
            // gcd(x, 0) = |x|).
            if y == IBig::ZERO {
                return Num::Big(x);
            }
            if x == IBig::ZERO {
                return Num::Big(y);
            }
            Num::Big(IBig::from(x.gcd(y)))
        }
    }
}

pub fn expt(base: &Num, e: &Num) -> Num {
    match (base, e) {
        (b, Num::Fix(n)) if b.is_exact() && *n >= 0 => Num::Big(b.to_big().pow(*n as usize)),
        _ => Num::Flo(base.to_f64().powf(e.to_f64())),
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

/// Parses a number in Scheme syntax; `None` if `s` is not one.
pub fn parse_number(s: &str, radix: u32) -> Option<Num> {
    let mut radix = radix;
    let mut exact: Option<bool> = None;
    let mut t = s;
    while t.len() >= 2 && t.starts_with('#') {
        match t.as_bytes()[1].to_ascii_lowercase() {
            b'x' => radix = 16,
            b'b' => radix = 2,
            b'o' => radix = 8,
            b'd' => radix = 10,
            b'e' => exact = Some(true),
            b'i' => exact = Some(false),
            _ => return None,
        }
        t = &t[2..];
    }
    let n = parse_real(t, radix)?;
    Some(match (exact, n) {
        (Some(false), n) => Num::Flo(n.to_f64()),
        (Some(true), Num::Flo(x)) if x.fract() == 0.0 => Num::Big(IBig::from(x as i128)),
        (_, n) => n,
    })
}

fn parse_real(s: &str, radix: u32) -> Option<Num> {
    match s {
        "+inf.0" => return Some(Num::Flo(f64::INFINITY)),
        "-inf.0" => return Some(Num::Flo(f64::NEG_INFINITY)),
        "+nan.0" | "-nan.0" => return Some(Num::Flo(f64::NAN)),
        _ => {}
    }
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() {
        return None;
    }
    if digits.chars().all(|c| c.is_digit(radix)) {
        let neg = s.starts_with('-');
        let mag = IBig::from_str_radix(digits, radix).ok()?;
        return Some(Num::Big(if neg { -mag } else { mag }));
    }
    if let Some((n, d)) = s.split_once('/') {
        let n = parse_real(n, radix)?;
        let d = parse_real(d, radix)?;
        return divide(&n, &d);
    }
    if radix != 10 {
        return None;
    }
    let ok = digits
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_digit() || c == '.')
        && digits
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '+' | '-'))
        && digits.chars().any(|c| c.is_ascii_digit());
    if !ok {
        return None;
    }
    s.parse::<f64>().ok().map(Num::Flo)
}
