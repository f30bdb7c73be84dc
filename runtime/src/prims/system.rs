//! Output, the process's dynamic registers, global definition, exit, and the
//! runtime functions behind calling conventions (rest lists, `apply`,
//! arity and type failures of calls).

use crate::ctx::{Ctx, MAX_ARGS, STATUS_DIED, STATUS_EXIT};
use crate::heap::statics;
use crate::print::{display_string, write_string};
use crate::program_state;
use crate::value::*;
use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::{Mutex, OnceLock};

static OUT: Mutex<Option<std::io::BufWriter<std::io::Stdout>>> = Mutex::new(None);
/// Whether `OUT` may hold output not yet written (changed under its lock),
/// so that a scheduler that idles or a process that blocks takes the lock
/// only when there is something to flush.
static PENDING: AtomicBool = AtomicBool::new(false);
static TERMINAL: OnceLock<bool> = OnceLock::new();
static ARGS: OnceLock<Vec<String>> = OnceLock::new();

/// Writes to standard output, through the node's buffer: flushed at every
/// newline when standard output is a terminal, otherwise when the node
/// idles, a process blocks, and at exit (see ARCHITECTURE.md, "Standard
/// output").
pub fn write_out(s: &str) {
    let mut g = OUT.lock().unwrap_or_else(|e| e.into_inner());
    let w = g.get_or_insert_with(|| std::io::BufWriter::with_capacity(1 << 16, std::io::stdout()));
    let _ = w.write_all(s.as_bytes());
    let terminal = *TERMINAL.get_or_init(|| std::io::stdout().is_terminal());
    if terminal && s.contains('\n') {
        let _ = w.flush();
    } else if !w.buffer().is_empty() {
        PENDING.store(true, Ordering::Relaxed);
    }
}

pub fn flush_out() {
    let mut g = OUT.lock().unwrap_or_else(|e| e.into_inner());
    PENDING.store(false, Ordering::Relaxed);
    if let Some(w) = g.as_mut() {
        let _ = w.flush();
    }
}

/// Flushes standard output if anything waits in its buffer.
pub fn flush_if_pending() {
    if PENDING.load(Ordering::Relaxed) {
        flush_out();
    }
}

/// The write end of the pipe the signal handler writes to.
static SIGNAL_PIPE: AtomicI32 = AtomicI32::new(-1);
/// Set by the first SIGINT or SIGTERM.
static SIGNALLED: AtomicBool = AtomicBool::new(false);

/// The handler of SIGINT and SIGTERM: only async-signal-safe calls. It
/// hands the signal to the thread started by `install_signal_handlers`;
/// a second signal (that thread's flush blocks) exits at once.
extern "C" fn on_signal(sig: libc::c_int) {
    let byte = sig as u8;
    let fd = SIGNAL_PIPE.load(Ordering::SeqCst);
    if SIGNALLED.swap(true, Ordering::SeqCst)
        // SAFETY: `write` is async-signal-safe; `byte` outlives the call.
        || unsafe { libc::write(fd, (&raw const byte).cast(), 1) } != 1
    {
        // SAFETY: `_exit` is async-signal-safe.
        unsafe { libc::_exit(128 + sig) }
    }
}

/// Makes SIGINT and SIGTERM flush standard output and exit with 128 + the
/// signal (130, 143), and restores SIGPIPE's default action (Rust's
/// standard library ignores it in `termitec`; a built executable has the
/// default), so that writing to a closed pipe ends the program quietly.
pub fn install_signal_handlers() {
    // SAFETY: setting a signal's disposition to its default.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
    let mut fds = [-1 as libc::c_int; 2];
    // SAFETY: `fds` has room for the two descriptors `pipe2` writes.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return;
    }
    let [read_end, write_end] = fds;
    let watcher = std::thread::Builder::new()
        .name("signals".into())
        .stack_size(64 << 10)
        .spawn(move || {
            loop {
                let mut byte = 0u8;
                // SAFETY: reads one byte into `byte` from our own pipe.
                let n = unsafe { libc::read(read_end, (&raw mut byte).cast(), 1) };
                if n == 1 {
                    flush_out();
                    // SAFETY: ends the process at once, as the signal's
                    // default action would (no destructors to run).
                    unsafe { libc::_exit(128 + byte as libc::c_int) }
                }
                if n < 0
                    && std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted
                {
                    continue;
                }
                return;
            }
        });
    if watcher.is_err() {
        return;
    }
    SIGNAL_PIPE.store(write_end, Ordering::SeqCst);
    for sig in [libc::SIGINT, libc::SIGTERM] {
        // SAFETY: a zeroed `sigaction` is a valid value to fill in; the
        // handler only makes async-signal-safe calls.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_signal as *const () as libc::sighandler_t;
            action.sa_flags = libc::SA_RESTART;
            libc::sigemptyset(&mut action.sa_mask);
            let mut old: libc::sigaction = std::mem::zeroed();
            libc::sigaction(sig, &action, &mut old);
            // A program started with SIGINT ignored (a background job of
            // a shell without job control) keeps it ignored.
            if sig == libc::SIGINT && old.sa_sigaction == libc::SIG_IGN {
                libc::sigaction(sig, &old, std::ptr::null_mut());
            }
        }
    }
}

/// Whether reports of processes that die unlinked are silenced
/// (`TERMITE_QUIET_DEATHS` set to anything but empty or `0`).
fn quiet_deaths() -> bool {
    static QUIET: OnceLock<bool> = OnceLock::new();
    *QUIET.get_or_init(|| {
        std::env::var_os("TERMITE_QUIET_DEATHS").is_some_and(|v| !v.is_empty() && v != "0")
    })
}

/// Reports on standard error a process that died of `exception` with no
/// link to tell (Erlang's error logger does the same).
pub fn report_death(pid: u64, exception: Value) {
    if quiet_deaths() {
        return;
    }
    flush_out();
    eprintln!(
        "error in process {}: {}",
        write_string(crate::process::pid_value(pid)),
        crate::records::describe_exception(exception)
    );
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

/// The exit status `(exit code)` reports: an exact integer modulo 256, 0
/// for #t, 1 for #f and for any other object (a failure, never success).
fn exit_status(code: Value) -> i64 {
    if code == TRUE {
        return 0;
    }
    if !crate::num::is_exact_integer(code) {
        return 1;
    }
    let Some(n) = crate::num::num_of(code) else {
        return 1;
    };
    match crate::num::int_div(crate::num::IntDiv::Modulo, &n, &crate::num::Num::Fix(256)) {
        Some(crate::num::Num::Fix(r)) => r,
        Some(crate::num::Num::Big(r)) => i64::try_from(r).unwrap_or(1),
        _ => 1,
    }
}

prim!(fn tm_exit(ctx, code) {
    ctx.pending = Value::fixnum(exit_status(code));
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
    if !index.is_fixnum() || !(0..ctx.globals_len as i64).contains(&index.as_fixnum()) {
        return ctx.raise_error("define: no such global variable", &[index]);
    }
    let v = statics::promote(value);
    // SAFETY: the index is within the slots (checked above), and each slot
    // is an atomic word (`program_state::Globals`).
    let slot = unsafe { std::sync::atomic::AtomicU64::from_ptr(ctx.globals.add(index.as_fixnum() as usize) as *mut u64) };
    slot.store(v.0, std::sync::atomic::Ordering::Release);
    UNSPECIFIED
});
prim!(fn tm_register(ctx, index) { ctx.registers[index.as_fixnum() as usize & 3] });
prim!(fn tm_set_register(ctx, index, value) { ctx.registers[index.as_fixnum() as usize & 3] = value; UNSPECIFIED });
prim!(fn tm_uncaught(ctx, v) {
    ctx.pending = v;
    ctx.status = STATUS_DIED;
    EXCEPTION
});

/// Ends the running process as if it returned (its links are told
/// nothing); the primitive that calls this answers its value.
pub(crate) fn end_process(ctx: &mut Ctx) -> Value {
    ctx.status = crate::ctx::STATUS_DONE;
    EXCEPTION
}

/// Compiled code found no room in the nursery for an inline box of
/// `bytes` bytes (and computes its value on the runtime's path): the next
/// entry check fails and the trampoline makes room, so that the inline
/// path serves again (without this, a loop whose nursery filled up took
/// the runtime path at every flonum operation until its next collection).
#[unsafe(no_mangle)]
pub extern "C" fn tm_nursery_full(ctx: &mut Ctx, bytes: u64) {
    ctx.want = ctx.want.max(bytes);
    ctx.request_collection();
}

/// Builds the rest-argument list of a call from `ctx.args[start..argc]`.
#[unsafe(no_mangle)]
pub extern "C" fn tm_rest_list(ctx: &mut Ctx, start: u64, argc: u64) -> Value {
    // Rest lists are short (one to three arguments, most of the time):
    // a pair at a time beats `fresh_list`'s setup (callcc: 9 % of all
    // instructions).
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
    while let Some((x, rest)) = cur.as_pair() {
        if n >= MAX_ARGS {
            ctx.raise_error("apply: too many arguments", &[]);
            return u64::MAX;
        }
        ctx.ensure_args(n + 1);
        ctx.set_arg(n, x);
        n += 1;
        cur = rest;
    }
    if cur != NULL {
        ctx.type_error("apply", "a proper list", list);
        return u64::MAX;
    }
    ctx.ensure_args(n.max(3));
    n as u64
}

/// A procedure was called with the wrong number of arguments. `argc`
/// counts the continuation `k`, which becomes `ctx.saved_self`: a `handle`
/// handler's value returns to it (`STATUS_RAISE_TO`).
#[unsafe(no_mangle)]
pub extern "C" fn tm_arity_error(
    ctx: &mut Ctx,
    callee: Value,
    argc: u64,
    k: Value,
    required: u64,
    rest: u64,
) -> Value {
    ctx.saved_self = k;
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
    if crate::dist::is_bare() {
        // The program's node may have it (`run_slice` asks, at a site
        // that can resume).
        ctx.fetch_global = Some(index as u32);
    }
    let msg = format!(
        "unbound variable: {}",
        program_state::global_name(index as usize)
    );
    ctx.raise_error(&msg, &[])
}
