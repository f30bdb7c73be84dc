//! Loading a compiled program and running it: the trampoline that enters
//! compiled code, collects garbage between calls and dispatches on the
//! status compiled code returns.

use crate::ctx::*;
use crate::heap::{limit, statics, stress};
use crate::prims::system::{flush_out, set_command_line};
use crate::program::{Constant, ProgramData};
use crate::program_state::{self, Globals};
use crate::symbols;
use crate::value::*;

/// The SystemV entry wrapper the compiler generates: calls the `Tail`
/// function `code` with the other arguments and returns its status.
pub type EntryFn =
    unsafe extern "C" fn(*mut Ctx, *const u8, Value, u64, Value, Value, Value) -> u64;

/// What a compiled program (JIT or AOT) hands to the runtime. The AOT back
/// end emits it as the data symbol `termite_program`.
#[repr(C)]
pub struct ProgramDesc {
    pub data: *const u8,
    pub data_len: usize,
    /// Code addresses, in the order of `ProgramData::code_ids`.
    pub code: *const *const u8,
    pub code_len: usize,
    pub entry: EntryFn,
    /// The top-level body: a procedure of no arguments.
    pub main_code: *const u8,
    /// A continuation that ends the process normally.
    pub halt_code: *const u8,
    /// The continuation given to `raise` for errors signalled by primitives:
    /// it reports that a handler returned from a non-continuable exception.
    pub raise_return_code: *const u8,
}

/// Exit status of a program that died of an uncaught exception.
pub const EXIT_UNCAUGHT: i32 = 70;

/// The value of a constant. Nested lists and vectors are built from an
/// explicit work stack (a literal nested a million deep uses no native
/// stack): `Visit` pushes a leaf's value, or schedules the build of a
/// compound after its parts, whose values it then pops.
fn materialize(ctx: &mut Ctx, c: &Constant) -> Value {
    enum Step<'a> {
        Visit(&'a Constant),
        List(usize, bool),
        Vector(usize),
    }
    let mut steps = vec![Step::Visit(c)];
    let mut values: Vec<Value> = Vec::new();
    while let Some(step) = steps.pop() {
        match step {
            Step::Visit(c) => match c {
                Constant::List(items, tail) => {
                    steps.push(Step::List(items.len(), tail.is_some()));
                    if let Some(t) = tail {
                        steps.push(Step::Visit(t));
                    }
                    steps.extend(items.iter().rev().map(Step::Visit));
                }
                Constant::Vector(items) => {
                    steps.push(Step::Vector(items.len()));
                    steps.extend(items.iter().rev().map(Step::Visit));
                }
                leaf => {
                    let v = materialize_leaf(ctx, leaf);
                    values.push(v);
                }
            },
            Step::List(n, has_tail) => {
                let tail = if has_tail {
                    values.pop().unwrap_or(NULL)
                } else {
                    NULL
                };
                let items = values.split_off(values.len() - n);
                let v = ctx.list_with_tail(&items, tail);
                values.push(v);
            }
            Step::Vector(n) => {
                let items = values.split_off(values.len() - n);
                let v = ctx.vector(&items);
                values.push(v);
            }
        }
    }
    values.pop().unwrap_or(UNSPECIFIED)
}

fn materialize_leaf(ctx: &mut Ctx, c: &Constant) -> Value {
    match c {
        Constant::Bool(b) => Value::bool(*b),
        Constant::Int(i) => ctx.int(*i),
        Constant::BigInt(s) => match s.parse::<dashu::integer::IBig>() {
            Ok(b) => ctx.integer(b),
            Err(_) => FALSE,
        },
        Constant::Real(x) => ctx.flonum(*x),
        Constant::Char(ch) => Value::char(*ch),
        Constant::Str(s) => ctx.string(s),
        Constant::Sym(s) => Value::symbol(symbols::intern(s)),
        Constant::Null => NULL,
        Constant::Unspecified => UNSPECIFIED,
        Constant::Eof => EOF,
        Constant::DefaultObject => DEFAULT_OBJECT,
        Constant::Bytevector(b) => ctx.bytevector(b),
        // Compound constants are built by `materialize`.
        Constant::List(..) | Constant::Vector(..) => UNSPECIFIED,
    }
}

/// A loaded program: its data, globals and constants. Kept alive while
/// anything runs.
pub struct Loaded {
    pub data: ProgramData,
    pub globals: Globals,
    pub consts: Vec<Value>,
}

/// Loads a program: registers its code, creates its globals and makes its
/// constants static.
pub fn load(desc: &ProgramDesc) -> Result<Loaded, String> {
    // SAFETY: the compiler emits `data_len` bytes at `data` and `code_len` addresses at `code`.
    let blob = unsafe { std::slice::from_raw_parts(desc.data, desc.data_len) };
    let data = program_state::decode(blob)?;
    let addrs = unsafe { std::slice::from_raw_parts(desc.code, desc.code_len) };
    let entries: Vec<(u64, String, *const u8)> = data
        .code_ids
        .iter()
        .zip(&data.code_names)
        .zip(addrs)
        .map(|((id, name), addr)| (*id, name.clone(), *addr))
        .chain([
            // The runtime's own continuations, under reserved code ids, so
            // that a continuation ending in them travels (crate::wire).
            (program_state::HALT_CODE_ID, "halt".into(), desc.halt_code),
            (
                program_state::RAISE_RETURN_CODE_ID,
                "raise-return".into(),
                desc.raise_return_code,
            ),
        ])
        .collect();
    program_state::register_code(&entries);
    program_state::set_global_names(&data.globals);
    program_state::set_source(data.source.clone());
    let globals = Globals::new(data.globals.len());
    // A scratch context only for building the constants.
    let mut scratch = Ctx::new(std::ptr::null_mut(), 0, std::ptr::null());
    let consts: Vec<Value> = data
        .constants
        .iter()
        .map(|c| statics::promote(materialize(&mut scratch, c)))
        .collect();
    Ok(Loaded {
        data,
        globals,
        consts,
    })
}

pub fn static_closure(code: *const u8) -> Value {
    let p = statics::alloc(2);
    let v = Value::from_addr(p);
    v.set_word(0, header(T_CLOSURE, 1, F_STATIC));
    v.set_word(1, code as u64);
    v
}

/// How a slice of a process's run ended.
pub enum Slice {
    /// It spent its reductions: resume this call later (callee and
    /// argument count; the arguments are in the context's buffer).
    Yielded(Value, usize),
    /// It waits for a message (until the deadline, in microseconds of the
    /// node's clock): resume this continuation with #t, or #f on timeout.
    Suspended(Value, Option<i64>),
    /// On a bare node: it waits for the value of a global from the
    /// program's node; resume this continuation with it.
    Fetching(Value),
    Returned,
    Exit(i32),
    Died(Value),
}

/// Runs `main` as the primordial process of a new node; returns the exit
/// status for the operating system.
pub fn run_program(desc: &ProgramDesc, args: Vec<String>) -> i32 {
    set_command_line(args);
    stress::configure_from_env();
    if let Err(e) = limit::configure_from_env() {
        eprintln!("termite: {e}");
        return EXIT_UNCAUGHT;
    }
    let loaded = match load(desc) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("termite: {e}");
            return EXIT_UNCAUGHT;
        }
    };
    // After `load`: the handshake names the program by its code ids.
    if let Err(e) = crate::dist::init() {
        eprintln!("termite: {e}");
        return EXIT_UNCAUGHT;
    }
    let main = static_closure(desc.main_code);
    let halt = static_closure(desc.halt_code);
    let raise_return = static_closure(desc.raise_return_code);
    let code = crate::sched::run_node(loaded, desc.entry, main, halt, raise_return);
    flush_out();
    code
}

/// The trampoline: calls `f` with `args` and keeps resuming until the
/// process returns, ends, waits or spends its reductions.
/// The `argc` arguments are in the context's buffer (`Ctx::set_args`).
pub fn run_slice(ctx: &mut Ctx, node: &crate::sched::Node, f: Value, argc: usize) -> Slice {
    let mut callee = f;
    let mut argc = argc as u64;
    loop {
        // Argument registers past `argc` get no stale buffer value.
        let arg = |i: u64| {
            if i < argc {
                ctx.arg(i as usize)
            } else {
                UNSPECIFIED
            }
        };
        let (a0, a1, a2) = (arg(0), arg(1), arg(2));
        let code = callee.word(1) as *const u8;
        // SAFETY: `callee` is a closure whose code was compiled with the
        // tail signature the entry wrapper calls.
        let status = unsafe { (node.entry)(ctx, code, callee, argc, a0, a1, a2) };
        match status {
            STATUS_DONE => return Slice::Returned,
            STATUS_YIELD => {
                callee = ctx.saved_self;
                argc = ctx.saved_argc;
                // Runtime allocation and the stress mode lower `ctx.limit`
                // and put the reductions aside so that entry checks fail
                // (`Ctx::request_collection`); the real limit is the heap's.
                ctx.limit = ctx.heap().nursery_end();
                if ctx.collection_due {
                    ctx.collection_due = false;
                    ctx.reductions += ctx.reductions_kept;
                }
                let free = (ctx.limit as usize).saturating_sub(ctx.hp as usize);
                if ctx.heap().over_threshold() || stress::collect_now(ctx.heap().live_words as u64)
                {
                    collect(ctx, &mut callee, argc as usize);
                    if ctx.heap().live_words > limit::words() {
                        // The call cannot go on: its data is garbage if a
                        // handler escapes.
                        let words = ctx.heap().live_words;
                        let e = ctx.heap_limit_error("collect", words);
                        match raise_call(ctx, node, e) {
                            Some(c) => (callee, argc) = c,
                            None => return Slice::Died(ctx.pending),
                        }
                        continue;
                    }
                } else if free < ctx.need.max(ctx.want) as usize {
                    let need = ctx.need.max(ctx.want);
                    let (hp, need) = (ctx.hp, (need as usize).div_ceil(8));
                    let (hp, limit) = ctx.heap().grow_nursery(hp, need);
                    ctx.hp = hp;
                    ctx.limit = limit;
                }
                ctx.want = 0;
                if stress::enabled() {
                    // Room for exactly the call that resumes: the next
                    // function that allocates comes back here.
                    let tight = (ctx.hp as usize + ctx.need as usize) as *mut u64;
                    ctx.limit = ctx.limit.min(tight);
                }
                if ctx.reductions <= 0 {
                    return Slice::Yielded(callee, argc as usize);
                }
            }
            STATUS_SUSPEND => {
                let deadline = ctx.pending;
                let d = if deadline.is_fixnum() {
                    Some(deadline.as_fixnum())
                } else {
                    None
                };
                return Slice::Suspended(ctx.saved_self, d);
            }
            STATUS_RAISE => {
                // Not at a resumable site: the read fails here.
                ctx.fetch_global = None;
                let obj = ctx.pending;
                match raise_call(ctx, node, obj) {
                    Some(c) => (callee, argc) = c,
                    None => return Slice::Died(obj),
                }
            }
            STATUS_RAISE_TO | STATUS_RAISE_AT => {
                let obj = ctx.pending;
                let k = if status == STATUS_RAISE_TO {
                    // A call without a continuation (not one compiled code
                    // makes) cannot be returned to.
                    let k = ctx.saved_self;
                    k.has_type(T_CLOSURE).then_some(k)
                } else {
                    let n = ctx.saved_argc as usize;
                    let free: Vec<Value> = (0..n).map(|i| ctx.arg(i)).collect();
                    // Made before anything can collect: the live values
                    // are roots from here on, inside the continuation.
                    Some(ctx.closure(ctx.saved_self.word(1) as *const u8, &free))
                };
                // On a bare node, a global read that failed may be fetched.
                if let (Some(slot), Some(k)) = (ctx.fetch_global.take(), k) {
                    match fetched_or_wait(ctx, slot, k) {
                        Some(Ok(c)) => {
                            (callee, argc) = c;
                            continue;
                        }
                        Some(Err(wait)) => return wait,
                        None => {}
                    }
                }
                match raise_call_to(ctx, node, obj, k) {
                    Some(c) => (callee, argc) = c,
                    None => return Slice::Died(obj),
                }
            }
            STATUS_DIED => return Slice::Died(ctx.pending),
            STATUS_EXIT => {
                let code = ctx.pending;
                return Slice::Exit(if code.is_fixnum() {
                    code.as_fixnum() as i32
                } else if code == FALSE {
                    1
                } else {
                    0
                });
            }
            other => {
                eprintln!("termite: internal error: unknown status {other}");
                return Slice::Exit(EXIT_UNCAUGHT);
            }
        }
    }
}

/// A read of global `slot` failed on a bare node, and `k` takes its value:
/// the call of `k` with the value if it is bound now, or the wait for it
/// (`Err`), or None when it is not to be fetched (the read fails).
fn fetched_or_wait(ctx: &mut Ctx, slot: u32, k: Value) -> Option<Result<(Value, u64), Slice>> {
    match crate::dist::fetch_global(ctx, slot) {
        crate::dist::Fetch::Ready(v) => {
            ctx.set_args(&[v]);
            Some(Ok((k, 1)))
        }
        crate::dist::Fetch::Wait => Some(Err(Slice::Fetching(k))),
        crate::dist::Fetch::No => None,
    }
}

/// Sets up the call of the program's `raise` with `obj` (an error a
/// primitive or the runtime signalled): answers the callee and argument
/// count, or None when the program has no `raise`.
fn raise_call(ctx: &mut Ctx, node: &crate::sched::Node, obj: Value) -> Option<(Value, u64)> {
    raise_call_to(ctx, node, obj, None)
}

/// Sets up the call of `raise` with `obj` and the continuation `k` (the
/// failed operation's, to which a `handle` handler's value returns); with
/// None, a continuation that ends the process if a handler returns.
pub(crate) fn raise_call_to(
    ctx: &mut Ctx,
    node: &crate::sched::Node,
    obj: Value,
    k: Option<Value>,
) -> Option<(Value, u64)> {
    let i = node.loaded.data.well_known.raise?;
    let raise = node.loaded.globals_value(i as usize);
    if raise == UNBOUND {
        return None;
    }
    // The continuation holds the error: it is a root while the handlers
    // run (they may collect).
    let k = match k {
        Some(k) => k,
        None => ctx.closure(node.raise_return.word(1) as *const u8, &[obj]),
    };
    ctx.set_args(&[k, obj]);
    Some((raise, 2))
}

impl Loaded {
    pub fn globals_value(&self, i: usize) -> Value {
        self.globals.get(i)
    }
}

/// Collects the running process's heap. The roots are the saved call
/// (callee and arguments), the process's registers and the messages in its
/// private mailbox.
pub(crate) fn collect(ctx: &mut Ctx, callee: &mut Value, argc: usize) {
    // Exactly the saved call's arguments: the buffer's other slots hold
    // stale values, maybe pointers into another process's heap.
    let nargs = argc;
    let mut roots: Vec<Value> = Vec::with_capacity(nargs + 8);
    roots.push(*callee);
    roots.extend((0..nargs).map(|i| ctx.arg(i)));
    roots.extend(ctx.registers);
    // SAFETY: this thread runs the current process, which `ctx.current`
    // keeps alive while it runs.
    let current = ctx
        .current
        .as_deref()
        .map(|p| p as *const crate::process::Process);
    let inner = current.map(|p| unsafe { (*p).inner() });
    if let Some(inner) = &inner {
        roots.extend(inner.private.iter().map(|e| e.value));
    }
    let mut refs: Vec<&mut Value> = roots.iter_mut().collect();
    let need_words = (ctx.need as usize).div_ceil(8);
    let hp = ctx.hp;
    let (hp, limit) = ctx.heap().collect(hp, &mut refs, need_words);
    ctx.hp = hp;
    ctx.limit = limit;
    *callee = roots[0];
    for i in 0..nargs {
        ctx.set_arg(i, roots[1 + i]);
    }
    let nregs = ctx.registers.len();
    let base = 1 + nargs;
    ctx.registers.copy_from_slice(&roots[base..base + nregs]);
    if let Some(inner) = inner {
        for (slot, v) in inner.private.iter_mut().zip(&roots[base + nregs..]) {
            slot.value = *v;
        }
    }
}
