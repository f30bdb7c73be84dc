//! Record types and error objects.
//!
//! A record type descriptor is a static record whose descriptor slot holds
//! the symbol `%record-type`, and whose fields are the type's name (a
//! symbol), its field names (a list of symbols) and a unique id (a fixnum).
//! Error objects are records of the built-in type `error-object` with the
//! fields message and irritants.

use crate::ctx::Ctx;
use crate::heap::statics;
use crate::symbols;
use crate::value::*;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicI64, Ordering};

static NEXT_UID: AtomicI64 = AtomicI64::new(1);
static ERROR_RTD: OnceLock<u64> = OnceLock::new();

fn rtd_marker() -> Value {
    Value::symbol(symbols::intern("%record-type"))
}

/// A new static record type descriptor.
pub fn make_rtd(ctx: &mut Ctx, name: Value, fields: Value) -> Value {
    let uid = Value::fixnum(NEXT_UID.fetch_add(1, Ordering::Relaxed));
    let marker = rtd_marker();
    let rtd = ctx.record(marker, &[name, fields, uid]);
    statics::promote(rtd)
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

pub fn error_rtd(ctx: &mut Ctx) -> Value {
    let raw = *ERROR_RTD.get_or_init(|| {
        let name = Value::symbol(symbols::intern("error-object"));
        let fields = {
            let m = Value::symbol(symbols::intern("message"));
            let i = Value::symbol(symbols::intern("irritants"));
            ctx.list(&[m, i])
        };
        make_rtd(ctx, name, fields).0
    });
    Value(raw)
}

pub fn make_error(ctx: &mut Ctx, message: Value, irritants: Value) -> Value {
    let rtd = error_rtd(ctx);
    ctx.record(rtd, &[message, irritants])
}

pub fn is_error_object(v: Value) -> bool {
    v.has_type(T_RECORD) && ERROR_RTD.get().is_some_and(|r| v.field(1).0 == *r)
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
