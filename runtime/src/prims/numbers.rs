//! Numeric primitives: the slow paths of arithmetic and everything else.

use crate::ctx::Ctx;
use crate::num::*;
use crate::value::*;
use dashu::base::{BitTest, UnsignedAbs};
use dashu::integer::IBig;
use std::cmp::Ordering;

fn num(ctx: &mut Ctx, who: &str, v: Value) -> Result<Num, Value> {
    num_of(v).ok_or_else(|| ctx.type_error(who, "a number", v))
}

macro_rules! arith_prim {
    ($name:ident, $who:literal, $op:expr) => {
        prim!(fn $name(ctx, a, b) {
            let x = match num(ctx, $who, a) { Ok(x) => x, Err(e) => return e };
            let y = match num(ctx, $who, b) { Ok(y) => y, Err(e) => return e };
            let r = arith($op, &x, &y);
            to_value(ctx, r)
        });
    };
}
arith_prim!(tm_add, "+", Op::Add);
arith_prim!(tm_sub, "-", Op::Sub);

prim!(fn tm_mul(ctx, a, b) {
    let x = match num(ctx, "*", a) { Ok(x) => x, Err(e) => return e };
    let y = match num(ctx, "*", b) { Ok(y) => y, Err(e) => return e };
    match multiply(&x, &y) {
        Ok(r) => to_value(ctx, r),
        Err(e) => num_error(ctx, "*", e, &[]),
    }
});

/// Raises the error for a numeric operation that has no result.
fn num_error(ctx: &mut Ctx, who: &str, e: NumError, irritants: &[Value]) -> Value {
    match e {
        NumError::DivisionByZero => ctx.raise_error(&format!("{who}: division by zero"), irritants),
        // The message the heap allocator uses, naming the procedure.
        NumError::TooLarge => {
            let name = Value::symbol(crate::symbols::intern(who));
            ctx.raise_error(HEAP_LIMIT_MESSAGE, &[name])
        }
    }
}

prim!(fn tm_div(ctx, a, b) {
    let x = match num(ctx, "/", a) { Ok(x) => x, Err(e) => return e };
    let y = match num(ctx, "/", b) { Ok(y) => y, Err(e) => return e };
    match divide(&x, &y) {
        Some(r) => to_value(ctx, r),
        None => ctx.raise_error("/: division by zero", &[a]),
    }
});

macro_rules! cmp_prim {
    ($name:ident, $who:literal, $ok:pat) => {
        prim!(fn $name(ctx, a, b) {
            let x = match num(ctx, $who, a) { Ok(x) => x, Err(e) => return e };
            let y = match num(ctx, $who, b) { Ok(y) => y, Err(e) => return e };
            Value::bool(matches!(compare(&x, &y), Some($ok)))
        });
    };
}
cmp_prim!(tm_lt, "<", Ordering::Less);
cmp_prim!(tm_gt, ">", Ordering::Greater);
cmp_prim!(tm_le, "<=", Ordering::Less | Ordering::Equal);
cmp_prim!(tm_ge, ">=", Ordering::Greater | Ordering::Equal);
cmp_prim!(tm_num_eq, "=", Ordering::Equal);

fn integer(ctx: &mut Ctx, who: &str, v: Value) -> Result<Num, Value> {
    match num_of(v) {
        Some(Num::Flo(x)) if x.fract() == 0.0 => Ok(Num::Flo(x)),
        Some(n @ (Num::Fix(_) | Num::Big(_))) => Ok(n),
        _ => Err(ctx.type_error(who, "an integer", v)),
    }
}

macro_rules! intdiv_prim {
    ($name:ident, $who:literal, $op:expr) => {
        prim!(fn $name(ctx, a, b) {
            let x = match integer(ctx, $who, a) { Ok(x) => x, Err(e) => return e };
            let y = match integer(ctx, $who, b) { Ok(y) => y, Err(e) => return e };
            match int_div($op, &x, &y) {
                Some(r) => to_value(ctx, r),
                None => ctx.raise_error(concat!($who, ": division by zero"), &[a]),
            }
        });
    };
}
intdiv_prim!(tm_quotient, "quotient", IntDiv::Quotient);
intdiv_prim!(tm_remainder, "remainder", IntDiv::Remainder);
intdiv_prim!(tm_modulo, "modulo", IntDiv::Modulo);

prim!(fn tm_gcd2(ctx, a, b) {
    let x = match integer(ctx, "gcd", a) { Ok(x) => x, Err(e) => return e };
    let y = match integer(ctx, "gcd", b) { Ok(y) => y, Err(e) => return e };
    let g = gcd(&x, &y);
    to_value(ctx, g)
});

prim!(fn tm_number_p(_ctx, x) { Value::bool(is_number(x)) });
prim!(fn tm_integer_p(_ctx, x) {
    Value::bool(match num_of(x) { Some(Num::Flo(f)) => f.fract() == 0.0, Some(_) => true, None => false })
});
prim!(fn tm_exact_integer_p(_ctx, x) { Value::bool(is_exact_integer(x)) });
prim!(fn tm_fixnum_p(_ctx, x) { Value::bool(x.is_fixnum()) });
prim!(fn tm_flonum_p(_ctx, x) { Value::bool(x.has_type(T_FLONUM)) });
prim!(fn tm_exact_p(ctx, x) {
    match num(ctx, "exact?", x) { Ok(n) => Value::bool(n.is_exact()), Err(e) => e }
});
prim!(fn tm_inexact_p(ctx, x) {
    match num(ctx, "inexact?", x) { Ok(n) => Value::bool(!n.is_exact()), Err(e) => e }
});
prim!(fn tm_nan_p(ctx, x) {
    match num(ctx, "nan?", x) { Ok(n) => Value::bool(n.to_f64().is_nan()), Err(e) => e }
});
prim!(fn tm_abs(ctx, x) {
    match num(ctx, "abs", x) {
        Ok(Num::Fix(i)) => ctx.integer(IBig::from(i).abs_value()),
        Ok(Num::Big(b)) => ctx.integer(b.abs_value()),
        Ok(Num::Flo(f)) => ctx.flonum(f.abs()),
        Err(e) => e,
    }
});

trait AbsValue {
    fn abs_value(self) -> Self;
}
impl AbsValue for IBig {
    fn abs_value(self) -> IBig {
        if self < IBig::ZERO { -self } else { self }
    }
}

macro_rules! rounding_prim {
    ($name:ident, $who:literal, $f:ident) => {
        prim!(fn $name(ctx, x) {
            match num(ctx, $who, x) {
                Ok(Num::Flo(f)) => ctx.flonum(f.$f()),
                Ok(_) => x,
                Err(e) => e,
            }
        });
    };
}
rounding_prim!(tm_floor, "floor", floor);
rounding_prim!(tm_ceiling, "ceiling", ceil);
rounding_prim!(tm_round, "round", round_ties_even);
rounding_prim!(tm_truncate, "truncate", trunc);

macro_rules! float_prim {
    ($name:ident, $who:literal, |$x:ident| $e:expr) => {
        prim!(fn $name(ctx, v) {
            match num(ctx, $who, v) {
                Ok(n) => { let $x = n.to_f64(); ctx.flonum($e) }
                Err(e) => e,
            }
        });
    };
}
float_prim!(tm_exp, "exp", |x| x.exp());
float_prim!(tm_log, "log", |x| x.ln());
float_prim!(tm_sin, "sin", |x| x.sin());
float_prim!(tm_cos, "cos", |x| x.cos());
float_prim!(tm_tan, "tan", |x| x.tan());
float_prim!(tm_asin, "asin", |x| x.asin());
float_prim!(tm_acos, "acos", |x| x.acos());
float_prim!(tm_atan, "atan", |x| x.atan());

prim!(fn tm_atan2(ctx, y, x) {
    let a = match num(ctx, "atan", y) { Ok(a) => a.to_f64(), Err(e) => return e };
    let b = match num(ctx, "atan", x) { Ok(b) => b.to_f64(), Err(e) => return e };
    ctx.flonum(a.atan2(b))
});

fn isqrt(n: &IBig) -> IBig {
    // Newton's method on integers.
    if *n < IBig::from(2) {
        return n.clone();
    }
    let mut x = IBig::from(1) << ((n.unsigned_abs().bit_len() / 2) + 1);
    loop {
        let y = (&x + n / &x) >> 1;
        if y >= x {
            return x;
        }
        x = y;
    }
}

prim!(fn tm_sqrt(ctx, v) {
    match num(ctx, "sqrt", v) {
        Ok(n @ (Num::Fix(_) | Num::Big(_))) => {
            let b = match n { Num::Fix(i) => IBig::from(i), Num::Big(b) => b, Num::Flo(_) => IBig::ZERO };
            if b >= IBig::ZERO {
                let r = isqrt(&b);
                if &r * &r == b { return ctx.integer(r); }
            }
            let f = num_of(v).map(|n| n.to_f64()).unwrap_or(f64::NAN);
            ctx.flonum(f.sqrt())
        }
        Ok(n) => ctx.flonum(n.to_f64().sqrt()),
        Err(e) => e,
    }
});

prim!(fn tm_exact_integer_sqrt(ctx, v) {
    let b = match num_of(v) {
        Some(Num::Fix(i)) if i >= 0 => IBig::from(i),
        Some(Num::Big(b)) if b >= IBig::ZERO => b,
        _ => return ctx.type_error("exact-integer-sqrt", "a non-negative exact integer", v),
    };
    let r = isqrt(&b);
    let rest = &b - &r * &r;
    let rv = ctx.integer(r);
    let restv = ctx.integer(rest);
    ctx.list(&[rv, restv])
});

prim!(fn tm_expt(ctx, a, b) {
    let x = match num(ctx, "expt", a) { Ok(x) => x, Err(e) => return e };
    let y = match num(ctx, "expt", b) { Ok(y) => y, Err(e) => return e };
    match expt(&x, &y) {
        Ok(r) => to_value(ctx, r),
        Err(e) => num_error(ctx, "expt", e, &[a, b]),
    }
});

prim!(fn tm_arithmetic_shift(ctx, n, k) {
    if !is_exact_integer(n) { return ctx.type_error("arithmetic-shift", "an exact integer", n); }
    if !is_exact_integer(k) { return ctx.type_error("arithmetic-shift", "an exact integer", k); }
    let (x, y) = match (num_of(n), num_of(k)) { (Some(x), Some(y)) => (x, y), _ => return UNSPECIFIED };
    match arithmetic_shift(&x, &y) {
        Ok(r) => to_value(ctx, r),
        Err(e) => num_error(ctx, "arithmetic-shift", e, &[n, k]),
    }
});

prim!(fn tm_exact(ctx, v) {
    match num(ctx, "exact", v) {
        Ok(Num::Flo(f)) => match flonum_to_integer(f) {
            Some(i) => ctx.integer(i),
            None => ctx.raise_error("exact: no exact representation", &[v]),
        },
        Ok(_) => v,
        Err(e) => e,
    }
});
prim!(fn tm_inexact(ctx, v) {
    match num(ctx, "inexact", v) { Ok(n) => ctx.flonum(n.to_f64()), Err(e) => e }
});

fn radix_arg(ctx: &mut Ctx, who: &str, r: Value) -> Result<u32, Value> {
    if r == DEFAULT_OBJECT {
        return Ok(10);
    }
    match r.is_fixnum().then(|| r.as_fixnum()) {
        Some(k @ (2 | 8 | 10 | 16)) => Ok(k as u32),
        _ => Err(ctx.type_error(who, "a radix of 2, 8, 10 or 16", r)),
    }
}

prim!(fn tm_number_to_string(ctx, v, radix) {
    let n = match num(ctx, "number->string", v) { Ok(n) => n, Err(e) => return e };
    let r = match radix_arg(ctx, "number->string", radix) { Ok(r) => r, Err(e) => return e };
    if let (Num::Fix(i), 10) = (&n, r) {
        // Decimal fixnums, the common case, without a `String` between.
        let mut digits = [0u32; 20];
        let mut at = digits.len();
        let mut m = i.unsigned_abs();
        loop {
            at -= 1;
            digits[at] = '0' as u32 + (m % 10) as u32;
            m /= 10;
            if m == 0 {
                break;
            }
        }
        if *i < 0 {
            at -= 1;
            digits[at] = '-' as u32;
        }
        return ctx.string_from_chars(&digits[at..]);
    }
    let s = number_to_string(&n, r);
    ctx.string(&s)
});
prim!(fn tm_string_to_number(ctx, s, radix) {
    if !s.has_type(T_STRING) { return ctx.type_error("string->number", "a string", s); }
    let r = match radix_arg(ctx, "string->number", radix) { Ok(r) => r, Err(e) => return e };
    // SAFETY: the characters are read before anything is allocated.
    if let Some(n) = short_decimal(unsafe { s.string_chars() }, r) {
        return Value::fixnum(n);
    }
    match parse_number(&s.string(), r) { Some(n) => to_value(ctx, n), None => FALSE }
});

/// A decimal integer of at most 18 digits with an optional sign, the
/// common case of `string->number`, read without building a `String`.
fn short_decimal(chars: &[u32], radix: u32) -> Option<i64> {
    let (neg, digits) = match chars.first() {
        Some(&c) if c == '-' as u32 => (true, &chars[1..]),
        Some(&c) if c == '+' as u32 => (false, &chars[1..]),
        _ => (false, chars),
    };
    if radix != 10 || digits.is_empty() || digits.len() > 18 {
        return None;
    }
    let mut n: i64 = 0;
    for &c in digits {
        let d = c.wrapping_sub('0' as u32);
        if d > 9 {
            return None;
        }
        n = n * 10 + d as i64;
    }
    Some(if neg { -n } else { n })
}
