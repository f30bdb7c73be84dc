//! Characters, strings and symbols.

use super::data::list_to_vec;
use crate::ctx::Ctx;
use crate::symbols;
use crate::value::*;

fn chr(ctx: &mut Ctx, who: &str, v: Value) -> Result<char, Value> {
    if v.is_char() {
        Ok(v.as_char())
    } else {
        Err(ctx.type_error(who, "a character", v))
    }
}
fn string_arg(ctx: &mut Ctx, who: &str, v: Value) -> Result<Value, Value> {
    if v.has_type(T_STRING) {
        Ok(v)
    } else {
        Err(ctx.type_error(who, "a string", v))
    }
}

prim!(fn tm_char_to_integer(ctx, c) {
    match chr(ctx, "char->integer", c) { Ok(c) => Value::fixnum(c as i64), Err(e) => e }
});
prim!(fn tm_integer_to_char(ctx, n) {
    if n.is_fixnum() && let Some(c) = u32::try_from(n.as_fixnum()).ok().and_then(char::from_u32) {
        return Value::char(c);
    }
    ctx.type_error("integer->char", "a Unicode scalar value", n)
});
macro_rules! char_prim {
    ($name:ident, $who:literal, |$c:ident| $e:expr) => {
        prim!(fn $name(ctx, v) {
            match chr(ctx, $who, v) { Ok($c) => $e, Err(e) => e }
        });
    };
}
char_prim!(tm_char_upcase, "char-upcase", |c| Value::char(simple_case(
    c,
    c.to_uppercase()
)));
char_prim!(tm_char_downcase, "char-downcase", |c| Value::char(
    simple_case(c, c.to_lowercase())
));

/// A character's single-character case mapping: a mapping to several
/// characters (`ß` upcases to `SS`) has none, so `c` maps to itself, as
/// R7RS's char-upcase does (string-upcase uses the full mapping).
fn simple_case(c: char, mut mapped: impl Iterator<Item = char>) -> char {
    match (mapped.next(), mapped.next()) {
        (Some(m), None) => m,
        _ => c,
    }
}
char_prim!(tm_char_alphabetic_p, "char-alphabetic?", |c| Value::bool(
    c.is_alphabetic()
));
char_prim!(tm_char_numeric_p, "char-numeric?", |c| Value::bool(
    decimal_digit_value(c).is_some()
));
char_prim!(tm_char_whitespace_p, "char-whitespace?", |c| Value::bool(
    c.is_whitespace()
));
char_prim!(tm_char_upper_case_p, "char-upper-case?", |c| Value::bool(
    c.is_uppercase()
));
char_prim!(tm_char_lower_case_p, "char-lower-case?", |c| Value::bool(
    c.is_lowercase()
));
char_prim!(tm_digit_value, "digit-value", |c| decimal_digit_value(c)
    .map(|d| Value::fixnum(d as i64))
    .unwrap_or(FALSE));

/// The first code point (digit zero) of every run of ten decimal digits
/// (general category Nd) of Unicode 15, in order: each run holds the
/// digits 0 to 9 in order (checked against Python's `unicodedata` when the
/// table was made).
const DIGIT_ZEROS: [u32; 68] = [
    0x30, 0x660, 0x6F0, 0x7C0, 0x966, 0x9E6, 0xA66, 0xAE6, 0xB66, 0xBE6, 0xC66, 0xCE6, 0xD66,
    0xDE6, 0xE50, 0xED0, 0xF20, 0x1040, 0x1090, 0x17E0, 0x1810, 0x1946, 0x19D0, 0x1A80, 0x1A90,
    0x1B50, 0x1BB0, 0x1C40, 0x1C50, 0xA620, 0xA8D0, 0xA900, 0xA9D0, 0xA9F0, 0xAA50, 0xABF0, 0xFF10,
    0x104A0, 0x10D30, 0x11066, 0x110F0, 0x11136, 0x111D0, 0x112F0, 0x11450, 0x114D0, 0x11650,
    0x116C0, 0x11730, 0x118E0, 0x11950, 0x11C50, 0x11D50, 0x11DA0, 0x11F50, 0x16A60, 0x16AC0,
    0x16B50, 0x1D7CE, 0x1D7D8, 0x1D7E2, 0x1D7EC, 0x1D7F6, 0x1E140, 0x1E2F0, 0x1E4F0, 0x1E950,
    0x1FBF0,
];

/// The value of a decimal digit of any script (R7RS `digit-value`), or
/// `None` if `c` is not one (`char-numeric?`).
pub fn decimal_digit_value(c: char) -> Option<u32> {
    let c = c as u32;
    let i = DIGIT_ZEROS.partition_point(|&z| z <= c);
    let zero = *DIGIT_ZEROS.get(i.checked_sub(1)?)?;
    (c - zero < 10).then_some(c - zero)
}

prim!(fn tm_string_length(ctx, s) {
    match string_arg(ctx, "string-length", s) { Ok(s) => Value::fixnum(s.len() as i64), Err(e) => e }
});
prim!(fn tm_string_ref(ctx, s, k) {
    let s = match string_arg(ctx, "string-ref", s) { Ok(s) => s, Err(e) => return e };
    if !crate::num::is_exact_integer(k) { return ctx.type_error("string-ref", "an exact integer index", k); }
    let i = if k.is_fixnum() { k.as_fixnum() } else { -1 };
    if i < 0 || i as usize >= s.len() { return ctx.raise_error("string-ref: index out of range", &[k]); }
    // SAFETY: used within this runtime function, before any collection.
    Value::char(char::from_u32(unsafe { s.string_chars() }[i as usize]).unwrap_or('\u{fffd}'))
});
prim!(fn tm_substring(ctx, s, start, end) {
    let s = match string_arg(ctx, "substring", s) { Ok(s) => s, Err(e) => return e };
    let len = s.len() as i64;
    let a = if start == DEFAULT_OBJECT { 0 } else if start.is_fixnum() { start.as_fixnum() } else { -1 };
    let b = if end == DEFAULT_OBJECT { len } else if end.is_fixnum() { end.as_fixnum() } else { -1 };
    if a < 0 || b < a || b > len { return ctx.raise_error("substring: range out of bounds", &[start, end]); }
    // SAFETY: used within this runtime function, before any collection.
    let chars = &unsafe { s.string_chars() }[a as usize..b as usize];
    ctx.string_from_chars(chars)
});
prim!(fn tm_string_append2(ctx, a, b) {
    let a = match string_arg(ctx, "string-append", a) { Ok(s) => s, Err(e) => return e };
    let b = match string_arg(ctx, "string-append", b) { Ok(s) => s, Err(e) => return e };
    // SAFETY: used within this runtime function, before any collection.
    ctx.string_concat(&[unsafe { a.string_chars() }, unsafe { b.string_chars() }])
});
prim!(fn tm_string_to_symbol(ctx, s) {
    match string_arg(ctx, "string->symbol", s) { Ok(s) => Value::symbol(symbols::intern(&s.string())), Err(e) => e }
});
prim!(fn tm_symbol_to_string(ctx, s) {
    if !s.is_symbol() { return ctx.type_error("symbol->string", "a symbol", s); }
    let name = symbols::name(s.imm_payload() as u32);
    ctx.string(&name)
});
prim!(fn tm_symbol_append2(ctx, a, b) {
    if !a.is_symbol() { return ctx.type_error("symbol-append", "a symbol", a); }
    if !b.is_symbol() { return ctx.type_error("symbol-append", "a symbol", b); }
    let name = format!("{}{}", symbols::name(a.imm_payload() as u32), symbols::name(b.imm_payload() as u32));
    Value::symbol(symbols::intern(&name))
});
prim!(fn tm_gensym(_ctx, prefix) {
    let p = if prefix.is_symbol() { symbols::name(prefix.imm_payload() as u32).to_string() } else { "g".into() };
    Value::symbol(symbols::gensym(&p))
});
prim!(fn tm_string_to_list(ctx, s) {
    let s = match string_arg(ctx, "string->list", s) { Ok(s) => s, Err(e) => return e };
    // SAFETY: used within this runtime function, before any collection.
    let items: Vec<Value> = unsafe { s.string_chars() }.iter().map(|&c| Value::char(char::from_u32(c).unwrap_or('?'))).collect();
    ctx.list(&items)
});
prim!(fn tm_list_to_string(ctx, l) {
    let items = match list_to_vec(ctx, "list->string", l) { Ok(i) => i, Err(e) => return e };
    let mut chars = Vec::with_capacity(items.len());
    for c in items {
        match chr(ctx, "list->string", c) { Ok(c) => chars.push(c as u32), Err(e) => return e }
    }
    ctx.string_from_chars(&chars)
});
prim!(fn tm_string_compare(ctx, a, b) {
    let a = match string_arg(ctx, "string comparison", a) { Ok(s) => s, Err(e) => return e };
    let b = match string_arg(ctx, "string comparison", b) { Ok(s) => s, Err(e) => return e };
    // SAFETY: used within this runtime function, before any collection.
    Value::fixnum(unsafe { a.string_chars() }.cmp(unsafe { b.string_chars() }) as i64)
});
prim!(fn tm_string_ci_compare(ctx, a, b) {
    let a = match string_arg(ctx, "string comparison", a) { Ok(s) => s, Err(e) => return e };
    let b = match string_arg(ctx, "string comparison", b) { Ok(s) => s, Err(e) => return e };
    Value::fixnum(a.string().to_lowercase().cmp(&b.string().to_lowercase()) as i64)
});
prim!(fn tm_string_upcase(ctx, s) {
    match string_arg(ctx, "string-upcase", s) { Ok(s) => { let u = s.string().to_uppercase(); ctx.string(&u) } Err(e) => e }
});
prim!(fn tm_string_downcase(ctx, s) {
    match string_arg(ctx, "string-downcase", s) { Ok(s) => { let u = s.string().to_lowercase(); ctx.string(&u) } Err(e) => e }
});
prim!(fn tm_make_string(ctx, k, fill) {
    let n = match super::data::length_arg(ctx, "make-string", k, 4) { Ok(n) => n, Err(e) => return e };
    let c = if fill == DEFAULT_OBJECT { ' ' } else { match chr(ctx, "make-string", fill) { Ok(c) => c, Err(e) => return e } };
    let chars = vec![c as u32; n];
    ctx.string_from_chars(&chars)
});
prim!(fn tm_string_search(ctx, needle, hay) {
    let n = match string_arg(ctx, "string-search-forward", needle) { Ok(s) => s, Err(e) => return e };
    let h = match string_arg(ctx, "string-search-forward", hay) { Ok(s) => s, Err(e) => return e };
    // SAFETY: used within this runtime function, before any collection.
    let (n, h) = (unsafe { n.string_chars() }, unsafe { h.string_chars() });
    if n.is_empty() { return Value::fixnum(0); }
    match h.windows(n.len()).position(|w| w == n) { Some(i) => Value::fixnum(i as i64), None => FALSE }
});
prim!(fn tm_string_to_utf8(ctx, s) {
    match string_arg(ctx, "string->utf8", s) { Ok(s) => { let b = s.string().into_bytes(); ctx.bytevector(&b) } Err(e) => e }
});
prim!(fn tm_utf8_to_string(ctx, b) {
    if !b.has_type(T_BYTEVECTOR) { return ctx.type_error("utf8->string", "a bytevector", b); }
    // SAFETY: used within this runtime function, before any collection.
    let s = String::from_utf8_lossy(unsafe { b.bytes() }).to_string();
    ctx.string(&s)
});
