//! Record types and error objects.
//!
//! A record type descriptor is a static record whose descriptor slot holds
//! the symbol `%record-type`, and whose fields are the type's name (a
//! symbol), its field names (a list of symbols) and a unique id (a fixnum).
//! Error objects are records of the built-in type `error-object` with the
//! fields message and irritants.

use crate::ctx::Ctx;
use crate::heap::statics;
use crate::print::print;
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

pub fn print_record(v: Value, write: bool, out: &mut String) {
    let rtd = v.field(1);
    if is_rtd(v) {
        out.push_str(&format!("#<record-type {}>", rtd_name(v)));
        return;
    }
    if is_error_object(v) {
        out.push_str("#<error-object ");
        print(v.field(2), true, out);
        for irritant in v.field(3).list_iter() {
            out.push(' ');
            print(irritant, true, out);
        }
        out.push('>');
        return;
    }
    out.push_str("#<");
    if is_rtd(rtd) {
        out.push_str(&rtd_name(rtd));
        let names: Vec<Value> = rtd.field(3).list_iter().collect();
        for i in 0..v.len() - 1 {
            out.push(' ');
            if let Some(n) = names.get(i) {
                out.push_str(&symbols::name(n.imm_payload() as u32));
                out.push_str(": ");
            }
            print(v.field(2 + i), write, out);
        }
    } else {
        out.push_str("record");
    }
    out.push('>');
}
