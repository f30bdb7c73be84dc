//! Record types and error objects.
//!
//! A record type descriptor is a static record whose descriptor slot holds
//! the symbol `%record-type`, and whose fields are the type's name (a
//! symbol), its field names (a list of symbols) and its *site* (a fixnum).
//! Error objects are records of the built-in type `error-object` with the
//! fields message and irritants.
//!
//! A type's identity is its definition: (name, field names, site), where
//! the site tells apart definitions of the same name and fields in one
//! program — the expander numbers them in the order it meets them (0, 1,
//! ...), and the runtime's and standard library's own types have site -1.
//! Types are interned by that identity, so the same definition yields the
//! same type every time it runs, on every node that runs the program: a
//! record sent to another node arrives as a record of the receiver's type
//! (`crate::wire`), whether or not the receiver has run the definition
//! yet. (Hence record types are not generative: a `define-record-type`
//! inside a procedure makes one type, whatever the number of calls.)

use crate::ctx::Ctx;
use crate::heap::statics;
use crate::symbols;
use crate::value::*;
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

static ERROR_RTD: OnceLock<u64> = OnceLock::new();
type Identity = (u32, Vec<u32>, i64);
static TYPES: Mutex<Option<HashMap<Identity, u64>>> = Mutex::new(None);

fn rtd_marker() -> Value {
    Value::symbol(symbols::intern("%record-type"))
}

fn static_object(ty: u64, words: &[u64]) -> Value {
    let p = statics::alloc(1 + words.len());
    let v = Value::from_addr(p);
    v.set_word(0, header(ty, words.len() as u64, F_STATIC));
    v.set_words(1, words);
    v
}

/// The record type of name `name`, field names `fields` (symbol ids) and
/// definition site `site`: made (static) the first time, the same object
/// afterwards.
pub fn record_type(name: u32, fields: &[u32], site: i64) -> Value {
    let mut g = TYPES.lock().unwrap_or_else(|e| e.into_inner());
    let types = g.get_or_insert_with(HashMap::new);
    let id = (name, fields.to_vec(), site);
    if let Some(r) = types.get(&id) {
        return Value(*r);
    }
    let mut list = NULL;
    for f in fields.iter().rev() {
        list = static_object(T_PAIR, &[Value::symbol(*f).0, list.0]);
    }
    let rtd = static_object(
        T_RECORD,
        &[
            rtd_marker().0,
            Value::symbol(name).0,
            list.0,
            Value::fixnum(site).0,
        ],
    );
    types.insert(id, rtd.0);
    rtd
}

/// The identity of a record type: (name, field names, site).
pub fn rtd_identity(rtd: Value) -> Option<(u32, Vec<u32>, i64)> {
    if !(is_rtd(rtd) && rtd.len() == 4 && rtd.field(2).is_symbol() && rtd.field(4).is_fixnum()) {
        return None;
    }
    let fields = rtd
        .field(3)
        .list_iter()
        .map(|f| f.imm_payload() as u32)
        .collect();
    Some((
        rtd.field(2).imm_payload() as u32,
        fields,
        rtd.field(4).as_fixnum(),
    ))
}

pub fn is_rtd(v: Value) -> bool {
    v.has_type(T_RECORD) && v.field(1) == rtd_marker()
}

pub fn rtd_name(rtd: Value) -> String {
    if !(rtd.has_type(T_RECORD) && rtd.len() >= 2 && rtd.field(2).is_symbol()) {
        return "unknown".into();
    }
    symbols::name(rtd.field(2).imm_payload() as u32).to_string()
}

pub fn error_rtd() -> Value {
    let raw = *ERROR_RTD.get_or_init(|| {
        let name = symbols::intern("error-object");
        let fields = [symbols::intern("message"), symbols::intern("irritants")];
        record_type(name, &fields, -1).0
    });
    Value(raw)
}

pub fn make_error(ctx: &mut Ctx, message: Value, irritants: Value) -> Value {
    let rtd = error_rtd();
    ctx.record(rtd, &[message, irritants])
}

pub fn is_error_object(v: Value) -> bool {
    v.has_type(T_RECORD) && v.field(1) == error_rtd()
}

/// The text an uncaught exception is reported with.
pub fn describe_exception(v: Value) -> String {
    if is_error_object(v) {
        let mut s = crate::print::display_string(v.field(2));
        for irritant in v.field(3).list_iter() {
            s.push(' ');
            s.push_str(&crate::print::write_string(irritant));
        }
        s
    } else {
        format!("non-error object raised: {}", crate::print::write_string(v))
    }
}
