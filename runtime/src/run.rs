//! Loading a compiled program and running it: the trampoline that enters
//! compiled code, collects garbage between calls and dispatches on the
//! status compiled code returns.

use crate::ctx::*;
use crate::heap::statics;
use crate::prims::system::{flush_out, set_command_line};
use crate::program::{Constant, ProgramData};
use crate::program_state::{self, Globals};
use crate::records::describe_exception;
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

fn materialize(ctx: &mut Ctx, c: &Constant) -> Value {
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
        Constant::List(items, tail) => {
            let t = match tail {
                Some(t) => materialize(ctx, t),
                None => NULL,
            };
            let vals: Vec<Value> = items.iter().map(|x| materialize(ctx, x)).collect();
            ctx.list_with_tail(&vals, t)
        }
        Constant::Vector(items) => {
            let vals: Vec<Value> = items.iter().map(|x| materialize(ctx, x)).collect();
            ctx.vector(&vals)
        }
        Constant::Bytevector(b) => ctx.bytevector(b),
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
        .collect();
    program_state::register_code(&entries);
    program_state::set_global_names(&data.globals);
    let globals = Globals::new(data.globals.len());
    // A scratch context only for building the constants.
    let mut scratch = Ctx::new(std::ptr::null_mut(), std::ptr::null());
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

fn static_closure(code: *const u8) -> Value {
    let p = statics::alloc(2);
    let v = Value::from_addr(p);
    v.set_word(0, header(T_CLOSURE, 1, F_STATIC));
    v.set_word(1, code as u64);
    v
}

/// How a process's run ended.
pub enum Outcome {
    Returned,
    Exit(i32),
    Died(Value),
}

/// Runs `main` in a fresh context until the program ends; returns the exit
/// status for the operating system.
pub fn run_program(desc: &ProgramDesc, args: Vec<String>) -> i32 {
    set_command_line(args);
    let mut loaded = match load(desc) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("termite: {e}");
            return EXIT_UNCAUGHT;
        }
    };
    let mut ctx = Ctx::new(loaded.globals.as_mut_ptr(), loaded.consts.as_ptr());
    let main = static_closure(desc.main_code);
    let halt = static_closure(desc.halt_code);
    let outcome = run(&mut ctx, desc, &loaded, main, &[halt]);
    flush_out();
    match outcome {
        Outcome::Returned => 0,
        Outcome::Exit(code) => code,
        Outcome::Died(v) => {
            eprintln!("error: {}", describe_exception(v));
            EXIT_UNCAUGHT
        }
    }
}

/// The trampoline: calls `f` with `args` and keeps resuming until the
/// process returns, exits or dies.
pub fn run(
    ctx: &mut Ctx,
    desc: &ProgramDesc,
    loaded: &Loaded,
    f: Value,
    args: &[Value],
) -> Outcome {
    let mut callee = f;
    let mut argc = args.len() as u64;
    ctx.ensure_args(args.len().max(3));
    for (i, a) in args.iter().enumerate() {
        ctx.set_arg(i, *a);
    }
    let raise_return = static_closure(desc.raise_return_code);
    loop {
        let (a0, a1, a2) = (ctx.arg(0), ctx.arg(1), ctx.arg(2));
        let code = callee.word(1) as *const u8;
        // SAFETY: `callee` is a closure whose code was compiled with the
        // tail signature the entry wrapper calls.
        let status = unsafe { (desc.entry)(ctx, code, callee, argc, a0, a1, a2) };
        match status {
            STATUS_DONE => return Outcome::Returned,
            STATUS_YIELD => {
                callee = ctx.saved_self;
                argc = ctx.saved_argc;
                let free = (ctx.limit as usize).saturating_sub(ctx.hp as usize);
                if ctx.heap.over_threshold() {
                    collect(ctx, &mut callee, argc as usize);
                } else if free < ctx.need as usize {
                    let (hp, limit) = ctx
                        .heap
                        .grow_nursery(ctx.hp, (ctx.need as usize).div_ceil(8));
                    ctx.hp = hp;
                    ctx.limit = limit;
                }
                ctx.reductions = REDUCTIONS;
            }
            STATUS_RAISE => {
                let obj = ctx.pending;
                let Some(raise) = loaded
                    .data
                    .well_known
                    .raise
                    .map(|i| loaded.globals_value(i as usize))
                else {
                    return Outcome::Died(obj);
                };
                if raise == UNBOUND {
                    return Outcome::Died(obj);
                }
                callee = raise;
                argc = 2;
                ctx.set_arg(0, raise_return);
                ctx.set_arg(1, obj);
            }
            STATUS_DIED => return Outcome::Died(ctx.pending),
            STATUS_EXIT => {
                let code = ctx.pending;
                return Outcome::Exit(if code.is_fixnum() {
                    code.as_fixnum() as i32
                } else if code == FALSE {
                    1
                } else {
                    0
                });
            }
            other => {
                eprintln!("termite: internal error: unknown status {other}");
                return Outcome::Exit(EXIT_UNCAUGHT);
            }
        }
    }
}

impl Loaded {
    pub fn globals_value(&self, i: usize) -> Value {
        // SAFETY: `i` is a global slot index of this program.
        unsafe { *(self.globals_ptr()).add(i) }
    }

    fn globals_ptr(&self) -> *const Value {
        self.globals_slice().as_ptr()
    }

    fn globals_slice(&self) -> &[Value] {
        self.globals.as_slice()
    }
}

/// Collects the running process's heap. The roots are the saved call
/// (callee and arguments) and the process's registers.
fn collect(ctx: &mut Ctx, callee: &mut Value, argc: usize) {
    let mut roots: Vec<Value> = Vec::with_capacity(argc + 8);
    roots.push(*callee);
    roots.extend((0..argc.max(3)).map(|i| ctx.arg(i)));
    roots.extend(ctx.registers);
    let mut refs: Vec<&mut Value> = roots.iter_mut().collect();
    let need_words = (ctx.need as usize).div_ceil(8);
    let (hp, limit) = ctx.heap.collect(ctx.hp, &mut refs, need_words);
    ctx.hp = hp;
    ctx.limit = limit;
    *callee = roots[0];
    for i in 0..argc.max(3) {
        ctx.set_arg(i, roots[1 + i]);
    }
    let nregs = ctx.registers.len();
    let base = 1 + argc.max(3);
    ctx.registers.copy_from_slice(&roots[base..base + nregs]);
}
