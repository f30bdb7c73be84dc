//! Output, the process's dynamic registers, global definition, exit, and the
//! runtime functions behind calling conventions (rest lists, `apply`,
//! arity and type failures of calls).

use crate::ctx::{Ctx, MAX_ARGS, STATUS_DIED, STATUS_EXIT};
use crate::heap::statics;
use crate::print::{display_string, write_string};
use crate::program_state;
use crate::value::*;
use std::io::Write;
use std::sync::{Mutex, OnceLock};

static OUT: Mutex<Option<std::io::BufWriter<std::io::Stdout>>> = Mutex::new(None);
static ARGS: OnceLock<Vec<String>> = OnceLock::new();

pub fn write_out(s: &str) {
    let mut g = OUT.lock().unwrap_or_else(|e| e.into_inner());
    let w = g.get_or_insert_with(|| std::io::BufWriter::with_capacity(1 << 16, std::io::stdout()));
    let _ = w.write_all(s.as_bytes());
}

pub fn flush_out() {
    let mut g = OUT.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(w) = g.as_mut() {
        let _ = w.flush();
    }
}

/// Sets what `(command-line)` returns: the program name, then its arguments.
pub fn set_command_line(args: Vec<String>) {
    let _ = ARGS.set(args);
}

prim!(fn tm_display(_ctx, v) { write_out(&display_string(v)); UNSPECIFIED });
prim!(fn tm_write(_ctx, v) { write_out(&write_string(v)); UNSPECIFIED });
prim!(fn tm_flush_output(_ctx) { flush_out(); UNSPECIFIED });
// A trace line on standard error (after what the program printed so far).
prim!(fn tm_write_error(_ctx, v) {
    flush_out();
    eprintln!("{}", write_string(v));
    UNSPECIFIED
});
prim!(fn tm_void(_ctx) { UNSPECIFIED });
// The code id of a procedure, as 16 hex digits.
prim!(fn tm_procedure_code_id(ctx, f) {
    if !f.has_type(T_CLOSURE) { return ctx.type_error("procedure-code-id", "a procedure", f); }
    match program_state::code_id(f.word(1) as *const u8) {
        Some(id) => ctx.string(&format!("{id:016x}")),
        None => FALSE,
    }
});

prim!(fn tm_exit(ctx, code) {
    ctx.pending = code;
    ctx.status = STATUS_EXIT;
    EXCEPTION
});
prim!(fn tm_command_line(ctx) {
    let args = ARGS.get().cloned().unwrap_or_default();
    let items: Vec<Value> = args.iter().map(|a| ctx.string(a)).collect();
    ctx.list(&items)
});
prim!(fn tm_getenv(ctx, name) {
    if !name.has_type(T_STRING) { return ctx.type_error("getenv", "a string", name); }
    match std::env::var(name.string()) { Ok(v) => ctx.string(&v), Err(_) => FALSE }
});
prim!(fn tm_current_time(ctx) {
    let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0);
    ctx.flonum(t)
});
static START: OnceLock<std::time::Instant> = OnceLock::new();
prim!(fn tm_current_jiffy(ctx) {
    let start = *START.get_or_init(std::time::Instant::now);
    ctx.int(start.elapsed().as_micros() as i64)
});

prim!(fn tm_define_global(ctx, index, value) {
    let v = statics::promote(value);
    // SAFETY: the compiler emits only indices below the program's global count.
    unsafe { *ctx.globals.add(index.as_fixnum() as usize) = v };
    UNSPECIFIED
});
prim!(fn tm_register(ctx, index) { ctx.registers[index.as_fixnum() as usize & 3] });
prim!(fn tm_set_register(ctx, index, value) { ctx.registers[index.as_fixnum() as usize & 3] = value; UNSPECIFIED });
prim!(fn tm_uncaught(ctx, v) {
    ctx.pending = v;
    ctx.status = STATUS_DIED;
    EXCEPTION
});

/// Builds the rest-argument list of a call from `ctx.args[start..argc]`.
#[unsafe(no_mangle)]
pub extern "C" fn tm_rest_list(ctx: &mut Ctx, start: u64, argc: u64) -> Value {
    let mut acc = NULL;
    for i in (start..argc).rev() {
        let x = ctx.arg(i as usize);
        acc = ctx.cons(x, acc);
    }
    acc
}

/// Grows the argument buffer to hold `n` arguments: compiled code calls it
/// before it stores the arguments of a call with more than
/// `ARGS_INITIAL` (the buffer may move: the caller reloads `ctx.args`).
#[unsafe(no_mangle)]
pub extern "C" fn tm_ensure_args(ctx: &mut Ctx, n: u64) -> Value {
    ctx.ensure_args(n as usize);
    UNSPECIFIED
}

/// Spreads a list into `ctx.args[offset..]`; returns the new argument count,
/// or `u64::MAX` after raising an error.
#[unsafe(no_mangle)]
pub extern "C" fn tm_apply_list(ctx: &mut Ctx, list: Value, offset: u64) -> u64 {
    let mut n = offset as usize;
    let mut cur = list;
    while cur.is_pair() {
        if n >= MAX_ARGS {
            ctx.raise_error("apply: too many arguments", &[]);
            return u64::MAX;
        }
        ctx.ensure_args(n + 1);
        ctx.set_arg(n, cur.car());
        n += 1;
        cur = cur.cdr();
    }
    if cur != NULL {
        ctx.type_error("apply", "a proper list", list);
        return u64::MAX;
    }
    ctx.ensure_args(n.max(3));
    n as u64
}

/// A procedure was called with the wrong number of arguments. `argc`
/// counts the continuation.
#[unsafe(no_mangle)]
pub extern "C" fn tm_arity_error(
    ctx: &mut Ctx,
    callee: Value,
    argc: u64,
    required: u64,
    rest: u64,
) -> Value {
    let name = program_state::code_name(callee.word(1) as *const u8);
    let expected = if rest != 0 {
        format!("at least {required}")
    } else {
        required.to_string()
    };
    let given = argc.saturating_sub(1);
    let msg = format!("{name}: wrong number of arguments: expected {expected}, given {given}");
    ctx.raise_error(&msg, &[])
}

#[unsafe(no_mangle)]
pub extern "C" fn tm_not_procedure(ctx: &mut Ctx, v: Value) -> Value {
    ctx.raise_error("attempt to apply a non-procedure", &[v])
}

#[unsafe(no_mangle)]
pub extern "C" fn tm_unbound_global(ctx: &mut Ctx, index: u64) -> Value {
    let msg = format!(
        "unbound variable: {}",
        program_state::global_name(index as usize)
    );
    ctx.raise_error(&msg, &[])
}
