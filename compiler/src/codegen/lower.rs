//! The lowering proper.

use crate::closure::{Function, Program};
use crate::cps::{Atom, LambdaKind, Term, Value};
use crate::expand::core::VarId;
use crate::prims::Prim;
use cranelift_codegen::Context;
use cranelift_codegen::control::ControlPlane;
use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{
    self, AbiParam, BlockArg, InstBuilder, MemFlagsData,
    types::{F64, I64},
};
use cranelift_codegen::isa::CallConv;
use cranelift_codegen::isa::TargetIsa;
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext, Variable};
use cranelift_module::{DataDescription, DataId, FuncId, Linkage, Module, ModuleReloc};
use std::collections::{BTreeSet, HashMap};
use termite_runtime::ctx::*;
use termite_runtime::prims::FAILS;
use termite_runtime::prims::process::NO_MESSAGE;
use termite_runtime::value as rv;

/// What the lowering produced: one Cranelift function per closure-IR
/// function (same order), plus the runtime's entry points.
pub struct Lowered {
    pub functions: Vec<FuncId>,
    /// The resume functions: the index in `functions` of the function each
    /// resumes, and its id.
    pub resumes: Vec<(usize, FuncId)>,
    pub entry: FuncId,
    pub halt: FuncId,
    pub raise_return: FuncId,
}

impl Lowered {
    /// Every function that has a code id, in the order of the program's
    /// code table (`codegen::program_data`): the functions, then the
    /// resume functions.
    pub fn code_order(&self) -> impl Iterator<Item = FuncId> + '_ {
        self.functions
            .iter()
            .copied()
            .chain(self.resumes.iter().map(|&(_, id)| id))
    }
}

/// The code id of the resume function of the function whose code id is
/// `id`: derived from it, so that it is as stable as `id` (the same for
/// `run` and `build`), and so that a continuation in it travels.
pub fn resume_code_id(id: u64) -> u64 {
    // SplitMix64's finalizer of `id` and a tag: distinct from `id`, and
    // as unlikely as any other code id to collide.
    let mut z = id ^ 0x7265_7375_6d65_2121;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn tail_sig<M: Module>(m: &M) -> ir::Signature {
    let mut s = m.make_signature();
    s.call_conv = CallConv::Tail;
    for _ in 0..6 {
        s.params.push(AbiParam::new(I64));
    }
    s.returns.push(AbiParam::new(I64));
    s
}

/// Lowers every function of `p` into `module`. When `clif` is given, the
/// Cranelift IR of each function is appended to it.
pub fn lower_program<M: Module>(
    module: &mut M,
    p: &Program,
    mut clif: Option<&mut String>,
    parallel: bool,
) -> Result<Lowered, String> {
    let tsig = tail_sig(module);
    let mut functions = Vec::new();
    for f in &p.functions {
        let name = format!("tm_code_{:016x}_{}", f.code_id, f.id);
        let id = module
            .declare_function(&name, Linkage::Local, &tsig)
            .map_err(|e| e.to_string())?;
        functions.push(id);
    }
    let statics = static_closures(module, p, &functions)?;
    let known = known_globals(p);
    let shared = Shared {
        functions: &functions,
        statics: &statics,
        known: &known,
        constants: &p.constants,
    };
    let mut rt = RuntimeImports::default();
    let mut fctx = FunctionBuilderContext::new();
    let mut cctx = module.make_context();
    let frontend = module.target_config();
    let cold_isa = super::cold_isa(module.isa().flags().is_pic())?;
    let mut resumes = Vec::new();
    // With `parallel`, each function built is compiled on a worker thread
    // (one per core besides this one) while this thread builds the next;
    // then this thread compiles too, until none is left (`Workers`).
    let workers = Workers::default();
    let hot_isa = super::host_isa(module.isa().flags().is_pic())?;
    let threads = if parallel {
        std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .clamp(1, 8)
    } else {
        1
    };
    std::thread::scope(|scope| -> Result<(), String> {
        let helpers: Vec<_> = (1..threads)
            .map(|_| scope.spawn(|| workers.work(&*hot_isa, &*cold_isa)))
            .collect();
        // Every helper ends when the queue is closed, even after an error.
        let built = (|| -> Result<(), String> {
            for (index, (f, id)) in p.functions.iter().zip(&functions).enumerate() {
                let res = Resumable::of(&f.body, &known);
                // A function with resumable sites gets a resume function, whose
                // static closure its sites name as their continuation's code.
                let resume = if res.sites.is_empty() {
                    None
                } else {
                    let name = format!("tm_resume_{:016x}_{}", f.code_id, f.id);
                    let rid = module
                        .declare_function(&name, Linkage::Local, &tsig)
                        .map_err(|e| e.to_string())?;
                    let data = static_closure_data(module, &format!("{name}_closure"), rid)?;
                    resumes.push((index, rid));
                    Some((rid, data))
                };
                for (resuming, fid) in [(false, *id)]
                    .into_iter()
                    .chain(resume.map(|(rid, _)| (true, rid)))
                {
                    cctx.func.signature = tsig.clone();
                    cctx.func.name = ir::UserFuncName::user(u32::from(resuming), f.id);
                    {
                        let b = FunctionBuilder::new(&mut cctx.func, &mut fctx);
                        let mut l =
                            FnLower::new(b, module, &shared, &mut rt, &res, resume.map(|r| r.1));
                        if resuming {
                            l.resume_function(f)?;
                        } else {
                            l.function(f)?;
                        }
                        l.b.finalize(frontend);
                    }
                    if let Some(out) = clif.as_deref_mut() {
                        out.push_str(&format!(
                            ";; {}{} (code id {:016x})\n{}\n",
                            f.name,
                            if resuming { " (resume)" } else { "" },
                            f.code_id,
                            cctx.func.display()
                        ));
                    }
                    if parallel {
                        workers.push(Built {
                            fid,
                            func: std::mem::replace(&mut cctx.func, ir::Function::new()),
                            cold: resuming,
                            name: &f.name,
                        });
                    } else if resuming {
                        define_cold(module, &*cold_isa, fid, &mut cctx)
                            .map_err(|e| format!("{}: {e}", f.name))?;
                    } else {
                        module
                            .define_function(fid, &mut cctx)
                            .map_err(|e| format!("{}: {e}", f.name))?;
                    }
                    module.clear_context(&mut cctx);
                }
            }
            Ok(())
        })();
        workers.close();
        workers.work(&*hot_isa, &*cold_isa);
        for h in helpers {
            // A panic in Cranelift is the compiler's bug: hand it on.
            h.join().unwrap_or_else(|p| std::panic::resume_unwind(p));
        }
        built
    })?;
    for (fid, name, code) in workers.finished() {
        let (bytes, align, relocs) = code.map_err(|e| format!("{name}: {e}"))?;
        module
            .define_function_bytes(fid, align, &bytes, &relocs)
            .map_err(|e| format!("{name}: {e}"))?;
    }
    let halt = status_function(module, &tsig, "tm_halt", STATUS_DONE, &mut fctx)?;
    let raise_return = status_function(module, &tsig, "tm_raise_return", STATUS_DIED, &mut fctx)?;
    let entry = entry_wrapper(module, &tsig, &mut fctx)?;
    Ok(Lowered {
        functions,
        resumes,
        entry,
        halt,
        raise_return,
    })
}

/// A function built, to be compiled (`Workers`).
struct Built<'p> {
    fid: FuncId,
    func: ir::Function,
    /// A resume function: compiled with the cold ISA.
    cold: bool,
    name: &'p str,
}

/// Machine code, its alignment and its relocations.
type Code = (Vec<u8>, u64, Vec<ModuleReloc>);

/// The functions waiting to be compiled and those compiled, shared by the
/// thread that builds them and the threads that compile them (Cranelift
/// compiles each function on its own, with any ISA: the hot ones with
/// the module's, the cold ones with the cold ISA).
#[derive(Default)]
struct Workers<'p> {
    state: std::sync::Mutex<WorkState<'p>>,
    more: std::sync::Condvar,
}

#[derive(Default)]
struct WorkState<'p> {
    todo: std::collections::VecDeque<Built<'p>>,
    /// No more will come.
    closed: bool,
    done: Vec<(FuncId, &'p str, Result<Code, String>)>,
}

impl<'p> Workers<'p> {
    fn lock(&self) -> std::sync::MutexGuard<'_, WorkState<'p>> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn push(&self, b: Built<'p>) {
        self.lock().todo.push_back(b);
        self.more.notify_one();
    }

    fn close(&self) {
        self.lock().closed = true;
        self.more.notify_all();
    }

    /// Compiles what comes until the queue is closed and empty.
    fn work(&self, hot: &dyn TargetIsa, cold: &dyn TargetIsa) {
        loop {
            let next = {
                let mut s = self.lock();
                loop {
                    if let Some(b) = s.todo.pop_front() {
                        break Some(b);
                    }
                    if s.closed {
                        break None;
                    }
                    s = self.more.wait(s).unwrap_or_else(|e| e.into_inner());
                }
            };
            let Some(b) = next else { return };
            let isa = if b.cold { cold } else { hot };
            let code = compile_code(isa, b.fid, &mut Context::for_function(b.func));
            self.lock().done.push((b.fid, b.name, code));
        }
    }

    fn finished(self) -> Vec<(FuncId, &'p str, Result<Code, String>)> {
        self.state
            .into_inner()
            .unwrap_or_else(|e| e.into_inner())
            .done
    }
}

/// Compiles the function in `ctx` with `isa` (the cold one) and defines it
/// as `fid` in `module`, whose own ISA compiles everything else: what
/// `Module::define_function` does, with another ISA. Out of line, so that
/// a profile of the compiler shows the cold functions' share.
#[inline(never)]
fn define_cold<M: Module>(
    module: &mut M,
    isa: &dyn TargetIsa,
    fid: FuncId,
    ctx: &mut Context,
) -> Result<(), String> {
    let (bytes, align, relocs) = compile_code(isa, fid, ctx)?;
    module
        .define_function_bytes(fid, align, &bytes, &relocs)
        .map_err(|e| e.to_string())
}

/// Compiles the function in `ctx` (to be function `fid`) with `isa`: what
/// `Module::define_function` does before it defines the bytes.
fn compile_code(isa: &dyn TargetIsa, fid: FuncId, ctx: &mut Context) -> Result<Code, String> {
    ctx.compile(isa, &mut ControlPlane::default())
        .map_err(|e| format!("{:?}", e.inner))?;
    let code = ctx
        .compiled_code()
        .ok_or("internal: no code after compiling")?;
    let align = u64::from(code.buffer.alignment)
        .max(u64::from(isa.function_alignment().minimum))
        .max(isa.symbol_alignment());
    let relocs = code
        .buffer
        .relocs()
        .iter()
        .map(|r| ModuleReloc::from_mach_reloc(r, &ctx.func, fid))
        .collect();
    Ok((code.code_buffer().to_vec(), align, relocs))
}

/// A tail function that only returns `status` to the trampoline; for
/// `STATUS_DIED`, with the reason its closure holds.
fn status_function<M: Module>(
    m: &mut M,
    sig: &ir::Signature,
    name: &str,
    status: u64,
    fctx: &mut FunctionBuilderContext,
) -> Result<FuncId, String> {
    let frontend = m.target_config();
    let id = m
        .declare_function(name, Linkage::Local, sig)
        .map_err(|e| e.to_string())?;
    let mut c = m.make_context();
    c.func.signature = sig.clone();
    {
        let mut b = FunctionBuilder::new(&mut c.func, fctx);
        let blk = b.create_block();
        b.append_block_params_for_function_params(blk);
        b.switch_to_block(blk);
        b.seal_block(blk);
        if status == STATUS_DIED {
            // The reason is the closure's one free variable (the runtime
            // makes the closure, so the reason is a root meanwhile).
            let ps = b.block_params(blk).to_vec();
            let reason = b.ins().load(I64, flags(), ps[1], 8 * 2 - 1);
            b.ins().store(flags(), reason, ps[0], OFFSET_PENDING);
        }
        let s = b.ins().iconst(I64, status as i64);
        b.ins().return_(&[s]);
        b.finalize(frontend);
    }
    m.define_function(id, &mut c).map_err(|e| e.to_string())?;
    Ok(id)
}

/// The function the runtime enters compiled code through: the platform's
/// C calling convention outside, a `Tail` call inside.
fn entry_wrapper<M: Module>(
    m: &mut M,
    tsig: &ir::Signature,
    fctx: &mut FunctionBuilderContext,
) -> Result<FuncId, String> {
    let frontend = m.target_config();
    let mut sig = m.make_signature();
    for _ in 0..7 {
        sig.params.push(AbiParam::new(I64));
    }
    sig.returns.push(AbiParam::new(I64));
    let id = m
        .declare_function("tm_entry", Linkage::Local, &sig)
        .map_err(|e| e.to_string())?;
    let mut c = m.make_context();
    c.func.signature = sig;
    {
        let mut b = FunctionBuilder::new(&mut c.func, fctx);
        let blk = b.create_block();
        b.append_block_params_for_function_params(blk);
        b.switch_to_block(blk);
        b.seal_block(blk);
        let ps = b.block_params(blk).to_vec();
        let sref = b.import_signature(tsig.clone());
        let call = b
            .ins()
            .call_indirect(sref, ps[1], &[ps[0], ps[2], ps[3], ps[4], ps[5], ps[6]]);
        let r = b.inst_results(call)[0];
        b.ins().return_(&[r]);
        b.finalize(frontend);
    }
    m.define_function(id, &mut c).map_err(|e| e.to_string())?;
    Ok(id)
}

/// What every function's lowering needs to know about the whole program.
struct Shared<'a> {
    functions: &'a [FuncId],
    /// The static closure of each function without free variables.
    statics: &'a HashMap<u32, DataId>,
    /// Globals defined once, by a procedure without free variables: the
    /// procedure's function.
    known: &'a HashMap<u32, u32>,
    /// The program's constants (`Atom::Const` indexes them).
    constants: &'a [termite_runtime::program::Constant],
}

/// A static closure (header and code pointer, in read-only data) for every
/// function without free variables: creating such a closure allocates
/// nothing, and the collector never moves it.
fn static_closures<M: Module>(
    m: &mut M,
    p: &Program,
    functions: &[FuncId],
) -> Result<HashMap<u32, DataId>, String> {
    let mut out = HashMap::new();
    for f in p.functions.iter().filter(|f| f.free.is_empty()) {
        let name = format!("tm_closure_{:016x}_{}", f.code_id, f.id);
        let id = static_closure_data(m, &name, functions[f.id as usize])?;
        out.insert(f.id, id);
    }
    Ok(out)
}

/// A static closure (header and code pointer) of the function `func`.
fn static_closure_data<M: Module>(m: &mut M, name: &str, func: FuncId) -> Result<DataId, String> {
    let id = m
        .declare_data(name, Linkage::Local, false, false)
        .map_err(|e| e.to_string())?;
    let mut d = DataDescription::new();
    let mut bytes = vec![0u8; 16];
    bytes[..8].copy_from_slice(&rv::header(rv::T_CLOSURE, 1, rv::F_STATIC).to_le_bytes());
    d.define(bytes.into_boxed_slice());
    d.set_align(8);
    let fref = m.declare_func_in_data(func, &mut d);
    d.write_function_addr(8, fref);
    m.define_data(id, &d).map_err(|e| e.to_string())?;
    Ok(id)
}

/// Globals whose only definition stores a closure without free variables.
fn known_globals(p: &Program) -> HashMap<u32, u32> {
    let mut defs: HashMap<u32, usize> = HashMap::new();
    let mut candidates: HashMap<u32, u32> = HashMap::new();
    for f in &p.functions {
        let mut closures: HashMap<VarId, u32> = HashMap::new();
        let mut stack = vec![&f.body];
        while let Some(t) = stack.pop() {
            match t {
                Term::Let(v, val, body) => {
                    match val {
                        Value::Closure(fid, free) if free.is_empty() => {
                            closures.insert(*v, *fid);
                        }
                        Value::Prim(pr, args) if pr.name() == "%define-global" => {
                            if let Some(Atom::Imm(w)) = args.first() {
                                let idx = rv::Value(*w).as_fixnum() as u32;
                                *defs.entry(idx).or_default() += 1;
                                if let Some(Atom::Var(x)) = args.get(1)
                                    && let Some(fid) = closures.get(x)
                                {
                                    candidates.insert(idx, *fid);
                                }
                            }
                        }
                        _ => {}
                    }
                    stack.push(body);
                }
                Term::LetRecClosures(_, body) => stack.push(body),
                Term::LetJoin { body, then, .. } => stack.extend([&**body, &**then]),
                Term::If(_, a, b) => stack.extend([&**a, &**b]),
                _ => {}
            }
        }
    }
    candidates.retain(|idx, _| defs.get(idx) == Some(&1));
    candidates
}

/// Runtime functions imported so far, by symbol.

#[derive(Default)]
struct RuntimeImports {
    ids: HashMap<&'static str, FuncId>,
}

/// Compiled code calls a runtime function through a wrapper with the
/// `preserve_all` convention: the wrapper saves whatever the (System V)
/// runtime function may clobber. Slow paths then cost their saves only when
/// taken, and values live across them in any register, so hot paths need
/// no callee-saved registers (which every `tail` function would otherwise
/// save and restore on entry and exit).
fn preserve_all_wrapper<M: Module>(
    m: &mut M,
    symbol: &str,
    import: FuncId,
    sysv: &ir::Signature,
) -> Result<FuncId, String> {
    let mut sig = sysv.clone();
    sig.call_conv = CallConv::PreserveAll;
    sig.returns.clear();
    let id = m
        .declare_function(&format!("{symbol}_preserve_all"), Linkage::Local, &sig)
        .map_err(|e| e.to_string())?;
    let frontend = m.target_config();
    let mut c = m.make_context();
    c.func.signature = sig;
    let mut fctx = FunctionBuilderContext::new();
    {
        let mut b = FunctionBuilder::new(&mut c.func, &mut fctx);
        let blk = b.create_block();
        b.append_block_params_for_function_params(blk);
        b.switch_to_block(blk);
        b.seal_block(blk);
        let params = b.block_params(blk).to_vec();
        let callee = m.declare_func_in_func(import, b.func);
        let call = b.ins().call(callee, &params);
        let r = b.inst_results(call)[0];
        b.ins().store(flags(), r, params[0], OFFSET_RET);
        b.ins().return_(&[]);
        b.finalize(frontend);
    }
    m.define_function(id, &mut c)
        .map_err(|e| format!("{symbol} wrapper: {e:?}"))?;
    Ok(id)
}

/// The machine comparison of two fixnums (tagged alike, so the words compare
/// as the numbers do) for a numeric comparison primitive.
/// The comparison of two flonums that a comparison primitive makes
/// (ordered: false when either is a NaN, as the runtime's).
fn flonum_comparison(name: &str) -> FloatCC {
    match name {
        "%lt" => FloatCC::LessThan,
        "%gt" => FloatCC::GreaterThan,
        "%le" => FloatCC::LessThanOrEqual,
        "%ge" => FloatCC::GreaterThanOrEqual,
        _ => FloatCC::Equal,
    }
}

/// Bytes of a flonum box (header and the bits).
const FLONUM_BYTES: i64 = 16;

fn fixnum_comparison(name: &str) -> IntCC {
    match name {
        "%lt" => IntCC::SignedLessThan,
        "%gt" => IntCC::SignedGreaterThan,
        "%le" => IntCC::SignedLessThanOrEqual,
        "%ge" => IntCC::SignedGreaterThanOrEqual,
        _ => IntCC::Equal,
    }
}

/// Bytes a term allocates inline, over all of its paths.
fn alloc_bytes(t: &Term) -> i64 {
    match t {
        Term::Let(_, v, body) => {
            let here = match v {
                Value::Closure(_, free) if free.is_empty() => 0,
                Value::Closure(_, free) => 8 * (2 + free.len() as i64),
                Value::Prim(p, _) if p.name() == "%cons" => 24,
                // Header, type, fields.
                Value::Prim(p, args) if matches!(p.name(), "%record" | "%vector") => {
                    8 * (1 + args.len() as i64)
                }
                _ => 0,
            };
            here + alloc_bytes(body)
        }
        Term::LetRecClosures(binds, body) => {
            binds
                .iter()
                .map(|(_, _, free)| 8 * (2 + free.len() as i64))
                .sum::<i64>()
                + alloc_bytes(body)
        }
        Term::LetJoin { body, then, .. } => alloc_bytes(body) + alloc_bytes(then),
        Term::If(_, a, b) => alloc_bytes(a) + alloc_bytes(b),
        _ => 0,
    }
}

/// Whether a body applies a primitive (which may call the runtime and
/// allocate there). Walks the body without recursion.
fn calls_runtime(t: &Term) -> bool {
    let mut todo = vec![t];
    while let Some(t) = todo.pop() {
        match t {
            Term::Let(_, Value::Prim(..), _) | Term::Apply { .. } | Term::ContApply { .. } => {
                return true;
            }
            t => todo.extend(t.inner_terms().into_iter().flatten()),
        }
    }
    false
}

/// Whether evaluating `v` may raise at a resumable site: a primitive that
/// can fail, or a global that may be unbound.
fn may_raise(v: &Value, known: &HashMap<u32, u32>) -> bool {
    match v {
        Value::Prim(p, _) => p.def().flags & FAILS != 0,
        Value::Global(g) => !known.contains_key(g),
        _ => false,
    }
}

/// A join point, for the resume function: its parameters, its body and
/// the variables its body uses besides them (with those of the join
/// points it jumps to).
struct JoinDef<'t> {
    params: &'t [VarId],
    body: &'t Term,
    live: Vec<VarId>,
}

/// The resumable sites of a function (ARCHITECTURE.md, "Continuations,
/// exceptions, dynamic state"): every `let` whose value may raise, with
/// the variables live after it (those the rest of the body uses, with
/// those of the join points it may jump to).
struct Resumable<'t> {
    /// The site of each resumable `let`, by its address.
    site_of: HashMap<*const Term, Site>,
    /// Per site: the `let` and its live variables (sorted).
    sites: Vec<(&'t Term, Vec<VarId>)>,
    joins: HashMap<VarId, JoinDef<'t>>,
    /// Variables bound to the static closure of a known global's function:
    /// made again where needed, never saved.
    known: HashMap<VarId, u32>,
}

/// Live values a function may save over all of its sites and pass between
/// its resume regions, per term of its body (plus a constant): above it
/// (thousands of variables live across failable primitives), the
/// function's sites are not resumable, so that code size stays linear in
/// the program.
const RESUME_BUDGET_PER_TERM: usize = 16;
const RESUME_BUDGET_BASE: usize = 4096;

impl<'t> Resumable<'t> {
    fn none() -> Self {
        Resumable {
            site_of: HashMap::new(),
            sites: Vec::new(),
            joins: HashMap::new(),
            known: HashMap::new(),
        }
    }

    /// One bottom-up pass, without recursion; sets merge smaller into
    /// larger. Answers `none()` when the function has no site or is over
    /// the budget.
    fn of(body: &'t Term, known_globals: &HashMap<u32, u32>) -> Self {
        enum Step<'t> {
            Enter(&'t Term),
            /// A join's body is done: record it before its `then`.
            Join(&'t Term),
            Exit(&'t Term),
        }
        fn atoms(s: &mut BTreeSet<VarId>, xs: &[Atom]) {
            s.extend(xs.iter().filter_map(|a| match a {
                Atom::Var(v) => Some(*v),
                _ => None,
            }));
        }
        let mut r = Resumable::none();
        let mut terms = 0usize;
        let mut cost = 0usize;
        let mut steps = vec![Step::Enter(body)];
        let mut sets: Vec<BTreeSet<VarId>> = Vec::new();
        // Terms are counted as they are entered: the budget grows with the
        // part of the body seen so far, which is enough to stop early on a
        // quadratic body.
        let over =
            |terms: usize, cost: usize| cost > RESUME_BUDGET_BASE + RESUME_BUDGET_PER_TERM * terms;
        while let Some(step) = steps.pop() {
            match step {
                Step::Enter(t) => {
                    terms += 1;
                    steps.push(Step::Exit(t));
                    match t {
                        Term::Let(_, _, body) | Term::LetRecClosures(_, body) => {
                            steps.push(Step::Enter(body))
                        }
                        Term::LetJoin { body, then, .. } => {
                            steps.push(Step::Enter(then));
                            steps.push(Step::Join(t));
                            steps.push(Step::Enter(body));
                        }
                        Term::If(_, a, b) => {
                            steps.push(Step::Enter(b));
                            steps.push(Step::Enter(a));
                        }
                        _ => {}
                    }
                }
                Step::Join(t) => {
                    let Term::LetJoin {
                        j, params, body, ..
                    } = t
                    else {
                        continue;
                    };
                    let mut s = sets.pop().unwrap_or_default();
                    for p in params {
                        s.remove(p);
                    }
                    r.joins.insert(
                        *j,
                        JoinDef {
                            params,
                            body,
                            live: s.into_iter().collect(),
                        },
                    );
                }
                Step::Exit(t) => {
                    let s = match t {
                        Term::Let(v, val, body) => {
                            let mut s = sets.pop().unwrap_or_default();
                            s.remove(v);
                            if let Value::Global(g) = val
                                && let Some(f) = known_globals.get(g)
                            {
                                r.known.insert(*v, *f);
                            }
                            if may_raise(val, known_globals)
                                && let Term::Cont {
                                    k: Atom::Var(k),
                                    args,
                                } = &**body
                                && args[..] == [Atom::Var(*v)]
                            {
                                // `(let v (prim ...) (k v))`: the site's
                                // continuation is `k` itself.
                                r.site_of.insert(t as *const Term, Site::To(*k));
                            } else if may_raise(val, known_globals) {
                                cost += s.len();
                                if over(terms, cost) {
                                    return Resumable::none();
                                }
                                r.site_of
                                    .insert(t as *const Term, Site::At(r.sites.len() as u32));
                                r.sites.push((t, s.iter().copied().collect()));
                            }
                            match val {
                                Value::Atom(a) => atoms(&mut s, std::slice::from_ref(a)),
                                Value::Closure(_, free) => atoms(&mut s, free),
                                Value::Prim(_, args) => atoms(&mut s, args),
                                Value::Global(_) | Value::Lambda(_) => {}
                            }
                            s
                        }
                        Term::LetRecClosures(binds, _) => {
                            let mut s = sets.pop().unwrap_or_default();
                            for (_, _, free) in binds {
                                atoms(&mut s, free);
                            }
                            for (v, _, _) in binds {
                                s.remove(v);
                            }
                            s
                        }
                        // The join's set was taken at `Join`; `then`'s is
                        // the whole term's.
                        Term::LetJoin { .. } => sets.pop().unwrap_or_default(),
                        Term::Jump(j, args) => {
                            let mut s: BTreeSet<VarId> = r
                                .joins
                                .get(j)
                                .map(|d| d.live.iter().copied().collect())
                                .unwrap_or_default();
                            cost += s.len();
                            if over(terms, cost) {
                                return Resumable::none();
                            }
                            atoms(&mut s, args);
                            s
                        }
                        Term::If(c, _, _) => {
                            let mut b = sets.pop().unwrap_or_default();
                            let mut a = sets.pop().unwrap_or_default();
                            if a.len() < b.len() {
                                std::mem::swap(&mut a, &mut b);
                            }
                            a.extend(b);
                            atoms(&mut a, std::slice::from_ref(c));
                            a
                        }
                        Term::App { f, k, args } => {
                            let mut s = BTreeSet::new();
                            atoms(&mut s, args);
                            atoms(&mut s, &[*f, *k]);
                            s
                        }
                        Term::Apply { f, k, args, list } => {
                            let mut s = BTreeSet::new();
                            atoms(&mut s, args);
                            atoms(&mut s, &[*f, *k, *list]);
                            s
                        }
                        Term::Cont { k, args } => {
                            let mut s = BTreeSet::new();
                            atoms(&mut s, args);
                            atoms(&mut s, std::slice::from_ref(k));
                            s
                        }
                        Term::ContApply { k, list } | Term::Suspend { k, deadline: list } => {
                            let mut s = BTreeSet::new();
                            atoms(&mut s, &[*k, *list]);
                            s
                        }
                        Term::LetRec(..) | Term::LetCont(..) => BTreeSet::new(),
                    };
                    sets.push(s);
                }
            }
        }
        r
    }

    /// The variables of `live` that a region gets as values (the others
    /// are known closures, made again).
    fn saved(&self, live: &[VarId]) -> Vec<VarId> {
        live.iter()
            .copied()
            .filter(|v| !self.known.contains_key(v))
            .collect()
    }
}

/// How a failure at a resumable site raises.
#[derive(Clone, Copy)]
enum Site {
    /// With the continuation made from the site's number and the values
    /// live after it (`STATUS_RAISE_AT`; the rest of the body is a region
    /// of the resume function).
    At(u32),
    /// A site whose value goes straight to continuation `k`
    /// (`(let v (prim ...) (k v))`): with `k` (`STATUS_RAISE_TO`), no
    /// region needed.
    To(VarId),
}

/// Lowering the resume function: the entry block of each site's region
/// (the rest of the body after the site) and of each join point's that a
/// region jumps to, and the regions still to lower.
struct Cold {
    sites: Vec<ir::Block>,
    joins: HashMap<VarId, ir::Block>,
    todo: Vec<Region>,
}

#[derive(Clone, Copy)]
enum Region {
    Site(u32),
    Join(VarId),
}

const TRUE: i64 = rv::TRUE.0 as i64;
const FALSE: i64 = rv::FALSE.0 as i64;
const UNSPEC: i64 = rv::UNSPECIFIED.0 as i64;

struct FnLower<'a, 'b, M: Module> {
    b: FunctionBuilder<'b>,
    module: &'a mut M,
    shared: &'a Shared<'a>,
    /// Variables known to hold the closure of a function (by function index).
    known_vars: HashMap<VarId, u32>,
    rt: &'a mut RuntimeImports,
    rt_refs: HashMap<&'static str, ir::FuncRef>,
    fn_refs: HashMap<u32, ir::FuncRef>,
    vars: HashMap<VarId, ir::Value>,
    joins: HashMap<VarId, ir::Block>,
    ctx: ir::Value,
    hp: Variable,
    /// Bytes of inline allocation the entry check reserved (`alloc_bytes`).
    need: i64,
    tail_sig: ir::SigRef,
    raise_exit: Option<ir::Block>,
    /// The block that returns `STATUS_RAISE_TO` (a failed call).
    raise_to_exit: Option<ir::Block>,
    /// The function's resumable sites (none when it has no resume function).
    res: &'a Resumable<'a>,
    /// The static closure of the function's resume function.
    resume_closure: Option<DataId>,
    /// The resumable site whose value is being lowered.
    cur_site: Option<Site>,
    /// The block that returns `STATUS_RAISE_AT` (`raise_at`).
    raise_at_exit: Option<ir::Block>,
    /// Lowering the resume function.
    cold: Option<Cold>,
    /// The function being lowered (its index), when it is a procedure of
    /// fixed arity: the loop head its calls to itself in tail position
    /// jump to, and its number of parameters.
    loop_head: Option<(u32, ir::Block, usize)>,
    /// Whether the loop head takes the callee (`SelfValue`).
    loop_carries_self: bool,
    /// Bytes the entry check reserves for an inline rest list.
    rest_need: i64,
    /// Values that are flonum constants of the program, and their f64s.
    flonum_consts: HashMap<ir::Value, f64>,
    /// The heap pointer as the entry check read it from the context: an
    /// exit where it is still this value stores nothing back.
    hp_in_ctx: Option<ir::Value>,
    /// The reductions a procedure has left, kept in a register from its
    /// entry check (around its loop, too) to where control leaves it or
    /// calls the runtime: through the context, the count of a tight loop
    /// was a store and a load per iteration on its critical path.
    red: Variable,
    /// Whether `red` is in use: a procedure's body after its entry check
    /// (continuations count no reductions).
    counts_red: bool,
    /// The reductions as last read from the context (`hp_in_ctx`'s twin).
    red_in_ctx: Option<ir::Value>,
}

/// Bytes of a pair (header, car, cdr).
const REST_PAIR_BYTES: i64 = 24;

/// The condition of an inline fast path: it is taken when the value is
/// nonzero (`Holds`) or when it is zero (`Fails`: the tag bits of
/// `both_fixnums`).
#[derive(Clone, Copy)]
enum Guard {
    Holds(ir::Value),
    Fails(ir::Value),
}

/// The callee of the call an entry check saves: a value, or the static
/// closure of a function without free variables (its loop head then
/// carries no callee: any closure of its code is as good as another).
#[derive(Clone, Copy)]
enum SelfValue {
    Value(ir::Value),
    Static(u32),
}

/// The argument count of the call an entry check saves.
#[derive(Clone, Copy)]
enum Argc {
    Value(ir::Value),
    Known(i64),
}

fn flags() -> MemFlagsData {
    MemFlagsData::trusted()
}

impl<'a, 'b, M: Module> FnLower<'a, 'b, M> {
    fn new(
        mut b: FunctionBuilder<'b>,
        module: &'a mut M,
        shared: &'a Shared<'a>,
        rt: &'a mut RuntimeImports,
        res: &'a Resumable<'a>,
        resume_closure: Option<DataId>,
    ) -> Self {
        let tail_sig = b.import_signature(tail_sig(module));
        let hp = b.declare_var(I64);
        let red = b.declare_var(I64);
        let placeholder = ir::Value::from_u32(0);
        FnLower {
            b,
            module,
            shared,
            known_vars: HashMap::new(),
            rt,
            rt_refs: HashMap::new(),
            fn_refs: HashMap::new(),
            vars: HashMap::new(),
            joins: HashMap::new(),
            ctx: placeholder,
            hp,
            need: 0,
            tail_sig,
            raise_exit: None,
            raise_to_exit: None,
            res,
            resume_closure,
            cur_site: None,
            raise_at_exit: None,
            cold: None,
            loop_head: None,
            loop_carries_self: true,
            rest_need: 0,
            flonum_consts: HashMap::new(),
            hp_in_ctx: None,
            red,
            counts_red: false,
            red_in_ctx: None,
        }
    }

    fn iconst(&mut self, v: i64) -> ir::Value {
        self.b.ins().iconst(I64, v)
    }

    fn load(&mut self, base: ir::Value, off: i32) -> ir::Value {
        self.b.ins().load(I64, flags(), base, off)
    }

    fn store(&mut self, v: ir::Value, base: ir::Value, off: i32) {
        self.b.ins().store(flags(), v, base, off);
    }

    /// A reference to the runtime function `symbol` taking `nargs` words
    /// after the context.
    fn runtime(&mut self, symbol: &'static str, nargs: usize) -> Result<ir::FuncRef, String> {
        if let Some(r) = self.rt_refs.get(symbol) {
            return Ok(*r);
        }
        let id = match self.rt.ids.get(symbol) {
            Some(id) => *id,
            None => {
                let mut sig = self.module.make_signature();
                for _ in 0..=nargs {
                    sig.params.push(AbiParam::new(I64));
                }
                sig.returns.push(AbiParam::new(I64));
                let import = self
                    .module
                    .declare_function(symbol, Linkage::Import, &sig)
                    .map_err(|e| e.to_string())?;
                let id = preserve_all_wrapper(self.module, symbol, import, &sig)?;
                self.rt.ids.insert(symbol, id);
                id
            }
        };
        let r = self.module.declare_func_in_func(id, self.b.func);
        self.rt_refs.insert(symbol, r);
        Ok(r)
    }

    fn call_rt(&mut self, symbol: &'static str, args: &[ir::Value]) -> Result<ir::Value, String> {
        let r = self.runtime(symbol, args.len())?;
        let mut all = vec![self.ctx];
        all.extend_from_slice(args);
        // The runtime may zero the reductions to make the next entry check
        // fail (`Ctx::request_collection`), and reads them to put them
        // aside: they go through the context around the call.
        self.sync_red();
        self.b.ins().call(r, &all);
        if self.counts_red {
            let red = self.load(self.ctx, OFFSET_REDUCTIONS);
            self.b.def_var(self.red, red);
            self.red_in_ctx = Some(red);
        }
        Ok(self.load(self.ctx, OFFSET_RET))
    }

    /// The block that returns the pending status (`ctx.status`) to the
    /// trampoline after a runtime function failed.
    fn raise_exit(&mut self) -> ir::Block {
        if let Some(b) = self.raise_exit {
            return b;
        }
        let blk = self.b.create_block();
        self.raise_exit = Some(blk);
        blk
    }

    fn finish_raise_exit(&mut self) {
        if let Some(blk) = self.raise_exit {
            self.b.switch_to_block(blk);
            self.b.seal_block(blk);
            self.sync_hp();
            let s = self.load(self.ctx, OFFSET_STATUS);
            self.b.ins().return_(&[s]);
        }
    }

    /// The block that returns `STATUS_RAISE_TO` (or the status a runtime
    /// function set other than a raise) after a failed call whose
    /// continuation is in `ctx.saved_self`.
    fn raise_to_exit(&mut self) -> ir::Block {
        if let Some(b) = self.raise_to_exit {
            return b;
        }
        let blk = self.b.create_block();
        self.b.set_cold_block(blk);
        self.raise_to_exit = Some(blk);
        blk
    }

    fn finish_raise_to_exit(&mut self) {
        if let Some(blk) = self.raise_to_exit {
            self.b.switch_to_block(blk);
            self.b.seal_block(blk);
            self.sync_hp();
            let s = self.load(self.ctx, OFFSET_STATUS);
            let raised = self
                .b
                .ins()
                .icmp_imm_s(IntCC::Equal, s, STATUS_RAISE as i64);
            let to = self.iconst(STATUS_RAISE_TO as i64);
            let r = self.b.ins().select(raised, to, s);
            self.b.ins().return_(&[r]);
        }
    }

    /// Stores the heap pointer back into the context, unless it is the
    /// value read from there: compiled code keeps it in a register, and
    /// the context needs it only where control leaves the function (a
    /// call or a return to the trampoline; runtime functions do not read
    /// it).
    fn sync_hp(&mut self) {
        let hp = self.b.use_var(self.hp);
        if Some(hp) != self.hp_in_ctx {
            self.store(hp, self.ctx, OFFSET_HP);
        }
        self.sync_red();
    }

    /// Stores a procedure's reductions back into the context, unless they
    /// are the value read from there (`red`).
    fn sync_red(&mut self) {
        if self.counts_red {
            let red = self.b.use_var(self.red);
            if Some(red) != self.red_in_ctx {
                self.store(red, self.ctx, OFFSET_REDUCTIONS);
            }
        }
    }

    /// Raises when `v` is the EXCEPTION marker: at a resumable site, with
    /// the site's continuation.
    fn check_exception(&mut self, v: ir::Value) -> Result<(), String> {
        let is_exc = self
            .b
            .ins()
            .icmp_imm_s(IntCC::Equal, v, rv::EXCEPTION.0 as i64);
        let cont = self.b.create_block();
        match self.cur_site {
            None => {
                let exit = self.raise_exit();
                self.b.ins().brif(is_exc, exit, &[], cont, &[]);
            }
            Some(site) => {
                let raise = self.b.create_block();
                self.b.set_cold_block(raise);
                self.b.ins().brif(is_exc, raise, &[], cont, &[]);
                self.b.switch_to_block(raise);
                self.b.seal_block(raise);
                self.raise_at(site)?;
            }
        }
        self.b.switch_to_block(cont);
        self.b.seal_block(cont);
        Ok(())
    }

    /// Ends the current block after a runtime function raised at resumable
    /// site `site`: saves the site number and the values live after it in
    /// the argument buffer, the resume function's static closure in
    /// `ctx.saved_self`, and returns `STATUS_RAISE_AT` (or the status the
    /// runtime function set, when it is not a raise); at a `Site::To`,
    /// saves its continuation and returns `STATUS_RAISE_TO`.
    fn raise_at(&mut self, site: Site) -> Result<(), String> {
        let site = match site {
            Site::At(s) => s,
            Site::To(k) => {
                let kv = self.atom(&Atom::Var(k))?;
                self.store(kv, self.ctx, OFFSET_SAVED_SELF);
                let exit = self.raise_to_exit();
                self.b.ins().jump(exit, &[]);
                return Ok(());
            }
        };
        let res = self.res;
        let live = res.saved(&res.sites[site as usize].1);
        let vals = live
            .iter()
            .map(|v| self.atom(&Atom::Var(*v)))
            .collect::<Result<Vec<_>, _>>()?;
        self.ensure_args(vals.len() + 1)?;
        let args = self.load(self.ctx, OFFSET_ARGS);
        let n = self.iconst(rv::Value::fixnum(i64::from(site)).0 as i64);
        self.store(n, args, 0);
        for (i, x) in vals.iter().enumerate() {
            self.store(*x, args, 8 * (1 + i as i32));
        }
        // Stored here, not passed to the exit block: a block parameter
        // with one edge per site costs the register allocator a move on
        // each.
        let argc = self.iconst(vals.len() as i64 + 1);
        self.store(argc, self.ctx, OFFSET_SAVED_ARGC);
        let exit = match self.raise_at_exit {
            Some(b) => b,
            None => {
                let b = self.b.create_block();
                self.b.set_cold_block(b);
                self.raise_at_exit = Some(b);
                b
            }
        };
        self.b.ins().jump(exit, &[]);
        Ok(())
    }

    /// The block every site's failure path ends in (the site stored the
    /// count of saved words): returns `STATUS_RAISE_AT`.
    fn finish_raise_at_exit(&mut self) -> Result<(), String> {
        let Some(blk) = self.raise_at_exit else {
            return Ok(());
        };
        self.b.switch_to_block(blk);
        self.b.seal_block(blk);
        let data = self
            .resume_closure
            .ok_or("internal: a resumable site without a resume function")?;
        let k = self.static_data_closure(data);
        self.store(k, self.ctx, OFFSET_SAVED_SELF);
        self.sync_hp();
        let s = self.load(self.ctx, OFFSET_STATUS);
        let raised = self
            .b
            .ins()
            .icmp_imm_s(IntCC::Equal, s, STATUS_RAISE as i64);
        let at = self.iconst(STATUS_RAISE_AT as i64);
        let r = self.b.ins().select(raised, at, s);
        self.b.ins().return_(&[r]);
        Ok(())
    }

    /// The resumable site of the `let` `t`, if it is one.
    fn site(&self, t: &Term) -> Option<Site> {
        self.res.site_of.get(&(t as *const Term)).copied()
    }

    /// In the resume function, after a site's value `x`: on to the site's
    /// region, with the values live there.
    fn jump_to_site(&mut self, site: u32, x: ir::Value) -> Result<(), String> {
        let res = self.res;
        let blk = self
            .cold
            .as_ref()
            .ok_or("internal: a region outside the resume function")?
            .sites[site as usize];
        let mut vals = res
            .saved(&res.sites[site as usize].1)
            .iter()
            .map(|v| self.atom(&Atom::Var(*v)).map(BlockArg::Value))
            .collect::<Result<Vec<_>, _>>()?;
        vals.push(BlockArg::Value(x));
        self.b.ins().jump(blk, &vals);
        Ok(())
    }

    /// In the resume function, a jump to join point `j`: to the region of
    /// its body (made on the first jump), with the values live there.
    fn jump_to_join(&mut self, j: VarId, args: &[Atom]) -> Result<(), String> {
        let res = self.res;
        let d = res
            .joins
            .get(&j)
            .ok_or("internal: jump to an unknown join point")?;
        let live = res.saved(&d.live);
        let existing = self.cold.as_ref().and_then(|c| c.joins.get(&j).copied());
        let blk = match existing {
            Some(b) => b,
            None => {
                let b = self.b.create_block();
                for _ in 0..args.len() + live.len() {
                    self.b.append_block_param(b, I64);
                }
                let c = self
                    .cold
                    .as_mut()
                    .ok_or("internal: a region outside the resume function")?;
                c.joins.insert(j, b);
                c.todo.push(Region::Join(j));
                b
            }
        };
        let vals = args
            .iter()
            .copied()
            .chain(live.iter().map(|v| Atom::Var(*v)))
            .map(|a| self.atom(&a).map(BlockArg::Value))
            .collect::<Result<Vec<_>, _>>()?;
        self.b.ins().jump(blk, &vals);
        Ok(())
    }

    /// Lowers a region of the resume function from its entry block, whose
    /// parameters are the values live there.
    fn region(&mut self, r: Region) -> Result<(), String> {
        let res = self.res;
        let cold = self
            .cold
            .as_ref()
            .ok_or("internal: a region outside the resume function")?;
        let (blk, names, live, body) = match r {
            Region::Site(s) => {
                let (t, live) = &res.sites[s as usize];
                let Term::Let(v, _, body) = t else {
                    return Err("internal: a site that is not a let".into());
                };
                let mut names = res.saved(live);
                names.push(*v);
                (cold.sites[s as usize], names, live, &**body)
            }
            Region::Join(j) => {
                let d = &res.joins[&j];
                let mut names = d.params.to_vec();
                names.extend(res.saved(&d.live));
                (cold.joins[&j], names, &d.live, d.body)
            }
        };
        self.b.switch_to_block(blk);
        self.vars.clear();
        self.known_vars.clear();
        let ps = self.b.block_params(blk).to_vec();
        for (v, x) in names.iter().zip(ps) {
            self.vars.insert(*v, x);
        }
        for v in live {
            if let Some(f) = res.known.get(v) {
                let x = self.static_closure(*f);
                self.vars.insert(*v, x);
                self.known_vars.insert(*v, *f);
            }
        }
        self.term(body)
    }

    fn atom(&mut self, a: &Atom) -> Result<ir::Value, String> {
        Ok(match a {
            Atom::Var(v) => *self
                .vars
                .get(v)
                .ok_or_else(|| format!("internal: variable {v} has no value"))?,
            Atom::Imm(w) => self.iconst(*w as i64),
            Atom::Const(i) => {
                let base = self.load(self.ctx, OFFSET_CONSTS);
                let v = self.load(base, 8 * *i as i32);
                if let Some(termite_runtime::program::Constant::Real(x)) =
                    self.shared.constants.get(*i as usize)
                {
                    self.flonum_consts.insert(v, *x);
                }
                v
            }
        })
    }

    /// The entry block; answers its parameters (ctx, self, argc, a0, a1, a2).
    fn entry(&mut self) -> Vec<ir::Value> {
        let entry = self.b.create_block();
        self.b.append_block_params_for_function_params(entry);
        self.b.switch_to_block(entry);
        self.b.seal_block(entry);
        let ps = self.b.block_params(entry).to_vec();
        self.ctx = ps[0];
        ps
    }

    /// Reductions and heap: one check for the whole of `body` (the
    /// function's), which yields when it fails. `call` is the call to save
    /// then: the callee, its argument count and the register arguments
    /// (only those within the count are stored). At a loop head the heap
    /// pointer comes around the loop in its variable (self calls do not
    /// store it), so the check's yield stores it.
    fn entry_check(
        &mut self,
        kind: LambdaKind,
        body: &Term,
        selfv: SelfValue,
        argc: Argc,
        regs: &[ir::Value],
        at_loop_head: bool,
    ) {
        let ctx = self.ctx;
        let need = alloc_bytes(body) + self.rest_need;
        self.need = need;
        let slow = self.b.create_block();
        self.b.set_cold_block(slow);
        // Reductions are counted on procedure entry only: every loop goes
        // through a procedure call, and a return always follows a call.
        // Two branches to one cold block: cheaper than or-ing the two
        // conditions into one (the flags of each compare go to its branch).
        if kind == LambdaKind::Proc {
            // In its variable from here on (`red`); at a loop head it comes
            // around the loop.
            let red = if at_loop_head {
                self.b.use_var(self.red)
            } else {
                self.load(ctx, OFFSET_REDUCTIONS)
            };
            let red = self.b.ins().iadd_imm_s(red, -1);
            self.b.def_var(self.red, red);
            self.counts_red = true;
            let spent = self.b.ins().icmp_imm_s(IntCC::SignedLessThan, red, 0);
            let next = self.b.create_block();
            self.b.ins().brif(spent, slow, &[], next, &[]);
            self.b.switch_to_block(next);
            self.b.seal_block(next);
        }
        let hp0 = if at_loop_head {
            self.b.use_var(self.hp)
        } else {
            let hp = self.load(ctx, OFFSET_HP);
            self.hp_in_ctx = Some(hp);
            hp
        };
        let body_b = self.b.create_block();
        // A continuation that calls the runtime checks the limit even when
        // it allocates nothing inline: runtime allocation lowers
        // `ctx.limit` when the heap is due for a collection, and this check
        // is where the collection happens (ARCHITECTURE.md, "Heap and
        // collection"). A procedure needs no such check: runtime
        // allocation also zeroes the reductions it counts.
        if need > 0 || (kind != LambdaKind::Proc && calls_runtime(body)) {
            let limit = self.load(ctx, OFFSET_LIMIT);
            let end = self.b.ins().iadd_imm_s(hp0, need);
            let short = self.b.ins().icmp(IntCC::UnsignedGreaterThan, end, limit);
            self.b.ins().brif(short, slow, &[], body_b, &[]);
        } else {
            self.b.ins().jump(body_b, &[]);
        }
        self.b.switch_to_block(slow);
        self.b.seal_block(slow);
        let args = self.load(ctx, OFFSET_ARGS);
        for (i, r) in regs.iter().enumerate() {
            self.store(*r, args, 8 * i as i32);
        }
        let selfv = match selfv {
            SelfValue::Value(v) => v,
            SelfValue::Static(f) => self.static_closure(f),
        };
        self.store(selfv, ctx, OFFSET_SAVED_SELF);
        let argc = match argc {
            Argc::Value(v) => v,
            Argc::Known(n) => self.iconst(n),
        };
        self.store(argc, ctx, OFFSET_SAVED_ARGC);
        let needv = self.iconst(need);
        self.store(needv, ctx, OFFSET_NEED);
        if at_loop_head {
            self.store(hp0, ctx, OFFSET_HP);
        }
        self.sync_red();
        let y = self.iconst(STATUS_YIELD as i64);
        self.b.ins().return_(&[y]);

        self.b.switch_to_block(body_b);
        self.b.seal_block(body_b);
        self.b.def_var(self.hp, hp0);
    }

    fn function(&mut self, f: &Function) -> Result<(), String> {
        let ps = self.entry();
        let (ctx, mut selfv, argc, mut a0, mut a1, mut a2) =
            (ps[0], ps[1], ps[2], ps[3], ps[4], ps[5]);
        let nparams = f.params.len() as i64;
        if f.kind == LambdaKind::Proc {
            let bad = if f.rest.is_some() {
                self.b
                    .ins()
                    .icmp_imm_s(IntCC::UnsignedLessThan, argc, nparams)
            } else {
                self.b.ins().icmp_imm_s(IntCC::NotEqual, argc, nparams)
            };
            let err = self.b.create_block();
            let ok = self.b.create_block();
            self.b.set_cold_block(err);
            self.b.ins().brif(bad, err, &[], ok, &[]);
            self.b.switch_to_block(err);
            self.b.seal_block(err);
            // The caller's continuation `a0` gets a `handle` handler's
            // value; the runtime function stores it (passed where it
            // arrived: any other use of it here costs the hot path a
            // callee-saved register).
            let req = self.iconst(nparams - 1);
            let rest = self.iconst(i64::from(f.rest.is_some()));
            self.call_rt("tm_arity_error", &[selfv, argc, a0, req, rest])?;
            // Before the entry check: the exit stores the heap pointer
            // back, so it must be defined here too (unchanged).
            let hp = self.load(ctx, OFFSET_HP);
            self.b.def_var(self.hp, hp);
            let red = self.load(ctx, OFFSET_REDUCTIONS);
            self.b.def_var(self.red, red);
            let exit = self.raise_to_exit();
            self.b.ins().jump(exit, &[]);
            self.b.switch_to_block(ok);
            self.b.seal_block(ok);
        }
        // The parameters' values at a loop head.
        let mut looped = Vec::new();
        if f.kind == LambdaKind::Proc && f.rest.is_none() {
            // The arity is checked first, so the entry check saves a call
            // of known count; its block is the head of the loop that the
            // function's calls to itself in tail position jump to (they
            // pass the same count: `self_call`). Its parameters are the
            // callee and all the arguments: those past the registers come
            // around the loop as values too, not through the buffer (the
            // check's yield stores them there).
            let n = f.params.len();
            let head = self.b.create_block();
            // A function without free variables reads nothing from its
            // closure: the callee does not come around the loop (its yield
            // saves the static closure).
            let static_self =
                (f.free.is_empty() && self.shared.statics.contains_key(&f.id)).then_some(f.id);
            let carried = usize::from(static_self.is_none());
            for _ in 0..n + carried {
                self.b.append_block_param(head, I64);
            }
            let mut init = Vec::new();
            if static_self.is_none() {
                init.push(BlockArg::Value(selfv));
            }
            init.extend([a0, a1, a2].iter().take(n).map(|v| BlockArg::Value(*v)));
            if n > 3 {
                let args = self.load(ctx, OFFSET_ARGS);
                for i in 3..n {
                    init.push(BlockArg::Value(self.load(args, 8 * i as i32)));
                }
            }
            // The heap pointer goes around the loop in its variable.
            let hp = self.load(ctx, OFFSET_HP);
            self.b.def_var(self.hp, hp);
            self.hp_in_ctx = Some(hp);
            // So do the reductions.
            let red = self.load(ctx, OFFSET_REDUCTIONS);
            self.b.def_var(self.red, red);
            self.b.ins().jump(head, &init);
            self.b.switch_to_block(head);
            let hs = self.b.block_params(head).to_vec();
            let saved = match static_self {
                Some(f) => SelfValue::Static(f),
                None => {
                    selfv = hs[0];
                    SelfValue::Value(selfv)
                }
            };
            let regs = &hs[carried..];
            self.entry_check(f.kind, &f.body, saved, Argc::Known(nparams), regs, true);
            let unspec = self.iconst(UNSPEC);
            [a0, a1, a2] = [0, 1, 2].map(|i| regs.get(i).copied().unwrap_or(unspec));
            looped = regs.to_vec();
            self.loop_head = Some((f.id, head, f.params.len()));
            self.loop_carries_self = static_self.is_none();
        } else {
            if f.rest.is_some() {
                // Room for a rest list of the register arguments, built inline.
                self.rest_need = REST_PAIR_BYTES * (3 - nparams).max(0);
            }
            let regs = [a0, a1, a2];
            let saved = SelfValue::Value(selfv);
            self.entry_check(f.kind, &f.body, saved, Argc::Value(argc), &regs, false);
        }
        let regs = [a0, a1, a2];
        let unspec = self.iconst(UNSPEC);
        for (i, p) in f.params.iter().enumerate() {
            let mut v = if let Some(v) = looped.get(i) {
                *v
            } else if i < 3 {
                regs[i]
            } else {
                let args = self.load(ctx, OFFSET_ARGS);
                self.load(args, 8 * i as i32)
            };
            if f.kind == LambdaKind::Cont && i >= 3 {
                // A continuation accepts any number of values. A register
                // argument past the count already holds the unspecified
                // value (every caller, the trampoline and `spread_call`
                // fill it so); only the buffer needs the test.
                let present = self
                    .b
                    .ins()
                    .icmp_imm_s(IntCC::UnsignedGreaterThan, argc, i as i64);
                v = self.b.ins().select(present, v, unspec);
            }
            self.vars.insert(*p, v);
        }
        if let Some(r) = f.rest {
            // No extra arguments: the rest list is '(), without a runtime call.
            let build = self.b.create_block();
            let join = self.b.create_block();
            self.b.append_block_param(join, I64);
            let none = self.b.ins().icmp_imm_s(IntCC::Equal, argc, nparams);
            let null = self.iconst(rv::NULL.0 as i64);
            self.b
                .ins()
                .brif(none, join, &[BlockArg::Value(null)], build, &[]);
            self.b.switch_to_block(build);
            self.b.seal_block(build);
            // Extra arguments all in registers: the list is made inline, in
            // the room the entry check reserved (`rest_need`); a call to
            // the runtime through its wrapper cost more than the rest of a
            // small variadic procedure like `<` passed as a value.
            let regs = [a0, a1, a2];
            for extra in 1..=(3 - nparams).max(0) {
                let this = self.b.create_block();
                let next = self.b.create_block();
                let is = self.b.ins().icmp_imm_s(IntCC::Equal, argc, nparams + extra);
                self.b.ins().brif(is, this, &[], next, &[]);
                self.b.switch_to_block(this);
                self.b.seal_block(this);
                let mut l = self.iconst(rv::NULL.0 as i64);
                for i in (nparams..nparams + extra).rev() {
                    l = self.cons(regs[i as usize], l);
                }
                self.b.ins().jump(join, &[BlockArg::Value(l)]);
                self.b.switch_to_block(next);
                self.b.seal_block(next);
            }
            let args = self.load(ctx, OFFSET_ARGS);
            self.store(a0, args, 0);
            self.store(a1, args, 8);
            self.store(a2, args, 16);
            let start = self.iconst(nparams);
            let l = self.call_rt("tm_rest_list", &[start, argc])?;
            self.b.ins().jump(join, &[BlockArg::Value(l)]);
            self.b.switch_to_block(join);
            self.b.seal_block(join);
            let l = self.b.block_params(join)[0];
            self.vars.insert(r, l);
        }
        for (i, v) in f.free.iter().enumerate() {
            let x = self.load(selfv, 8 * (2 + i as i32) - 1);
            self.vars.insert(*v, x);
        }
        self.term(&f.body)?;
        if let Some((_, head, _)) = self.loop_head {
            self.b.seal_block(head);
        }
        self.finish_raise_exit();
        self.finish_raise_to_exit();
        self.finish_raise_at_exit()?;
        Ok(())
    }

    /// The resume function of `f`: the code of the continuations
    /// `[code, site, live values...]` the runtime makes when a primitive
    /// fails at a resumable site of `f` (`STATUS_RAISE_AT`). Called with a
    /// value, it goes on with the rest of `f` after the site, that value
    /// being the site's: a copy of the rest of the body, in regions that
    /// start after each site and at each join point and take the values
    /// live there as block parameters (so `f` itself is lowered as if it
    /// had no resume path).
    fn resume_function(&mut self, f: &Function) -> Result<(), String> {
        let res = self.res;
        let ps = self.entry();
        let (selfv, a0) = (ps[1], ps[3]);
        // The whole body's reservation covers any rest of it.
        self.entry_check(
            LambdaKind::Cont,
            &f.body,
            SelfValue::Value(selfv),
            Argc::Value(ps[2]),
            &ps[3..6],
            false,
        );
        // With no value, `a0` is the unspecified value (see `function`).
        let v = a0;
        let site = self.load(selfv, 8 * 2 - 1);
        let site = self.b.ins().sshr_imm_s(site, 1);
        let n = res.sites.len();
        let mut entries = Vec::with_capacity(n);
        for (_, live) in &res.sites {
            let b = self.b.create_block();
            for _ in 0..res.saved(live).len() + 1 {
                self.b.append_block_param(b, I64);
            }
            entries.push(b);
        }
        let loads: Vec<ir::Block> = (0..n).map(|_| self.b.create_block()).collect();
        // No other site number comes from this function's sites.
        let mut sw = cranelift_frontend::Switch::new();
        for (i, blk) in loads.iter().enumerate().skip(1) {
            sw.set_entry(i as u128, *blk);
        }
        sw.emit(&mut self.b, site, loads[0]);
        for ((blk, entry), (_, live)) in loads.iter().zip(&entries).zip(&res.sites) {
            self.b.switch_to_block(*blk);
            self.b.seal_block(*blk);
            let mut vals = (0..res.saved(live).len())
                .map(|i| BlockArg::Value(self.load(selfv, 8 * (3 + i as i32) - 1)))
                .collect::<Vec<_>>();
            vals.push(BlockArg::Value(v));
            self.b.ins().jump(*entry, &vals);
        }
        self.cold = Some(Cold {
            sites: entries,
            joins: HashMap::new(),
            todo: (0..n as u32).rev().map(Region::Site).collect(),
        });
        while let Some(r) = self.cold.as_mut().and_then(|c| c.todo.pop()) {
            self.region(r)?;
        }
        self.finish_raise_exit();
        self.finish_raise_to_exit();
        self.finish_raise_at_exit()?;
        self.b.seal_all_blocks();
        Ok(())
    }

    fn alloc(&mut self, words: i64) -> ir::Value {
        let p = self.b.use_var(self.hp);
        let next = self.b.ins().iadd_imm_s(p, 8 * words);
        self.b.def_var(self.hp, next);
        p
    }

    fn closure(&mut self, f: u32, nfree: usize) -> Result<(ir::Value, ir::Value), String> {
        let p = self.alloc(2 + nfree as i64);
        let h = self.iconst(rv::header(rv::T_CLOSURE, 1 + nfree as u64, 0) as i64);
        self.store(h, p, 0);
        let fref = self.func_ref(f);
        let code = self.b.ins().func_addr(I64, fref);
        self.store(code, p, 8);
        let v = self.b.ins().iadd_imm_s(p, 1);
        Ok((p, v))
    }
    /// The static closure of function `f` (which has no free variables).
    fn static_closure(&mut self, f: u32) -> ir::Value {
        self.static_data_closure(self.shared.statics[&f])
    }

    /// The value of the static closure `data`.
    fn static_data_closure(&mut self, data: DataId) -> ir::Value {
        let gv = self.module.declare_data_in_func(data, self.b.func);
        // The tagged pointer is the symbol's address plus one: one `lea`.
        let gv = match self.b.func.global_values[gv].clone() {
            ir::GlobalValueData::Symbol {
                name,
                offset,
                colocated,
                tls,
            } => self
                .b
                .func
                .create_global_value(ir::GlobalValueData::Symbol {
                    name,
                    offset: ir::immediates::Imm64::new(offset.bits() + 1),
                    colocated,
                    tls,
                }),
            _ => {
                let addr = self.b.ins().symbol_value(I64, gv);
                return self.b.ins().iadd_imm_s(addr, 1);
            }
        };
        self.b.ins().symbol_value(I64, gv)
    }

    fn func_ref(&mut self, f: u32) -> ir::FuncRef {
        match self.fn_refs.get(&f) {
            Some(r) => *r,
            None => {
                let id = self.shared.functions[f as usize];
                let r = self.module.declare_func_in_func(id, self.b.func);
                self.fn_refs.insert(f, r);
                r
            }
        }
    }

    fn term(&mut self, t: &Term) -> Result<(), String> {
        match t {
            Term::Let(v, Value::Global(g), body) if self.shared.known.contains_key(g) => {
                let f = self.shared.known[g];
                let x = self.static_closure(f);
                self.vars.insert(*v, x);
                self.known_vars.insert(*v, f);
                self.term(body)
            }
            // In the resume function, a site's value goes to its region.
            Term::Let(v, Value::Prim(p, args), body)
                if p.is_test()
                    && matches!(&**body, Term::If(Atom::Var(c), ..) if c == v)
                    && (self.cold.is_none() || !matches!(self.site(t), Some(Site::At(_)))) =>
            {
                let Term::If(_, a, b) = &**body else {
                    return Err("internal: predicate pattern".into());
                };
                let vals = args
                    .iter()
                    .map(|x| self.atom(x))
                    .collect::<Result<Vec<_>, _>>()?;
                let (tb, eb) = (self.b.create_block(), self.b.create_block());
                self.cur_site = self.site(t);
                let r = self.branch_on_predicate(*p, &vals, tb, eb);
                self.cur_site = None;
                r?;
                self.b.switch_to_block(tb);
                self.b.seal_block(tb);
                let t = self.iconst(TRUE);
                self.vars.insert(*v, t);
                self.term(a)?;
                self.b.switch_to_block(eb);
                self.b.seal_block(eb);
                let f = self.iconst(FALSE);
                self.vars.insert(*v, f);
                self.term(b)
            }
            Term::Let(v, val, body) => {
                let site = self.site(t);
                self.cur_site = site;
                let x = self.value(val);
                self.cur_site = None;
                let x = x?;
                if let Some(Site::At(s)) = site
                    && self.cold.is_some()
                {
                    return self.jump_to_site(s, x);
                }
                self.vars.insert(*v, x);
                // A closure made here has known code: calls to it are direct.
                if let Value::Closure(f, _) = val {
                    self.known_vars.insert(*v, *f);
                }
                self.term(body)
            }
            Term::LetRecClosures(binds, body) => {
                let mut made = Vec::new();
                for (v, f, free) in binds {
                    let (p, val) = self.closure(*f, free.len())?;
                    self.vars.insert(*v, val);
                    self.known_vars.insert(*v, *f);
                    made.push((p, free));
                }
                for (p, free) in made {
                    for (i, a) in free.iter().enumerate() {
                        let x = self.atom(a)?;
                        self.store(x, p, 16 + 8 * i as i32);
                    }
                }
                self.term(body)
            }
            Term::If(c, a, b) => {
                let cv = self.atom(c)?;
                let t = self.b.ins().icmp_imm_s(IntCC::NotEqual, cv, FALSE);
                let tb = self.b.create_block();
                let eb = self.b.create_block();
                self.b.ins().brif(t, tb, &[], eb, &[]);
                self.b.switch_to_block(tb);
                self.b.seal_block(tb);
                self.term(a)?;
                self.b.switch_to_block(eb);
                self.b.seal_block(eb);
                self.term(b)
            }
            // In the resume function, the body is a region of its own,
            // lowered if a jump reaches it.
            Term::LetJoin { then, .. } if self.cold.is_some() => self.term(then),
            Term::LetJoin {
                j,
                params,
                body,
                then,
            } => {
                let jb = self.b.create_block();
                for _ in params {
                    self.b.append_block_param(jb, I64);
                }
                self.joins.insert(*j, jb);
                self.term(then)?;
                self.b.switch_to_block(jb);
                self.b.seal_block(jb);
                let ps = self.b.block_params(jb).to_vec();
                for (p, v) in params.iter().zip(ps) {
                    self.vars.insert(*p, v);
                }
                self.term(body)
            }
            Term::Jump(j, args) if self.cold.is_some() => self.jump_to_join(*j, args),
            Term::Jump(j, args) => {
                let jb = *self
                    .joins
                    .get(j)
                    .ok_or("internal: jump to an unknown join point")?;
                let vals = args
                    .iter()
                    .map(|a| self.atom(a).map(BlockArg::Value))
                    .collect::<Result<Vec<_>, _>>()?;
                self.b.ins().jump(jb, &vals);
                Ok(())
            }
            Term::App { f, k, args } => {
                let fv = self.atom(f)?;
                let mut vals = vec![self.atom(k)?];
                for a in args {
                    vals.push(self.atom(a)?);
                }
                let known = match f {
                    Atom::Var(v) => self.known_vars.get(v).copied(),
                    _ => None,
                };
                match known {
                    Some(func)
                        if self.cold.is_none()
                            && self
                                .loop_head
                                .is_some_and(|(me, _, n)| me == func && n == vals.len()) =>
                    {
                        self.self_call(fv, &vals)
                    }
                    Some(func) => self.direct_call(func, fv, &vals),
                    None => {
                        self.check_procedure(fv, vals[0])?;
                        self.tail_call(fv, &vals)
                    }
                }
            }
            Term::Cont { k, args } => {
                let kv = self.atom(k)?;
                let vals = args
                    .iter()
                    .map(|a| self.atom(a))
                    .collect::<Result<Vec<_>, _>>()?;
                // A continuation made in this function has known code.
                match k {
                    Atom::Var(v) if let Some(&func) = self.known_vars.get(v) => {
                        self.direct_call(func, kv, &vals)
                    }
                    _ => self.tail_call(kv, &vals),
                }
            }
            Term::Apply { f, k, args, list } => {
                let fv = self.atom(f)?;
                let mut vals = vec![self.atom(k)?];
                for a in args {
                    vals.push(self.atom(a)?);
                }
                let lv = self.atom(list)?;
                self.check_procedure(fv, vals[0])?;
                self.spread_call(fv, &vals, lv)
            }
            Term::ContApply { k, list } => {
                let kv = self.atom(k)?;
                let lv = self.atom(list)?;
                self.spread_call(kv, &[], lv)
            }
            Term::Suspend { k, deadline } => {
                // The continuation is the call to resume; the scheduler
                // passes it #t (a message came) or #f (the deadline passed).
                let kv = self.atom(k)?;
                let d = self.atom(deadline)?;
                self.store(kv, self.ctx, OFFSET_SAVED_SELF);
                let one = self.iconst(1);
                self.store(one, self.ctx, OFFSET_SAVED_ARGC);
                self.store(d, self.ctx, OFFSET_PENDING);
                self.sync_hp();
                let s = self.iconst(STATUS_SUSPEND as i64);
                self.b.ins().return_(&[s]);
                Ok(())
            }
            Term::LetRec(..) | Term::LetCont(..) => {
                Err("internal: lambda left after closure conversion".into())
            }
        }
    }

    /// Raises unless `f` is a procedure; the call's continuation `k` gets
    /// the value of a `handle` handler.
    fn check_procedure(&mut self, f: ir::Value, k: ir::Value) -> Result<(), String> {
        let good = self.b.create_block();
        let bad = self.b.create_block();
        self.b.set_cold_block(bad);
        self.branch_on_type(f, rv::T_CLOSURE, good, bad);
        self.b.switch_to_block(bad);
        self.b.seal_block(bad);
        // Stored before the call, so that `k` is not live across it.
        self.store(k, self.ctx, OFFSET_SAVED_SELF);
        self.call_rt("tm_not_procedure", &[f])?;
        let exit = self.raise_to_exit();
        self.b.ins().jump(exit, &[]);
        self.b.switch_to_block(good);
        self.b.seal_block(good);
        Ok(())
    }

    /// Branches to `yes` when `v` points to a heap object of type `ty`,
    /// else to `no`: the tag, then the header's type byte (6 instructions
    /// where `has_type`'s branch-free test takes 13; for tests that branch).
    fn branch_on_type(&mut self, v: ir::Value, ty: u64, yes: ir::Block, no: ir::Block) {
        let addr = self.b.ins().iadd_imm_s(v, -(rv::TAG_PTR as i64));
        let tag = self.b.ins().band_imm_s(addr, rv::TAG_MASK as i64);
        let header = self.b.create_block();
        // Out of line with what it leads to (the flonum paths of fixnum code).
        if self.b.func.layout.is_cold(yes) {
            self.b.set_cold_block(header);
        }
        self.b.ins().brif(tag, no, &[], header, &[]);
        self.b.switch_to_block(header);
        self.b.seal_block(header);
        // The type is the header's low byte (little-endian).
        let t = self.b.ins().uload8(I64, flags(), addr, 0);
        let is_ty = self.b.ins().icmp_imm_s(IntCC::Equal, t, ty as i64);
        self.b.ins().brif(is_ty, yes, &[], no, &[]);
    }

    /// Whether `v` points to a heap object of type `ty` (a boolean `i8`).
    fn has_type(&mut self, v: ir::Value, ty: u64) -> ir::Value {
        // Branch-free: the header is read only when the tag says pointer;
        // otherwise from a harmless address (the context).
        let tag = self.b.ins().band_imm_s(v, rv::TAG_MASK as i64);
        let is_ptr = self
            .b
            .ins()
            .icmp_imm_s(IntCC::Equal, tag, rv::TAG_PTR as i64);
        let addr = self.b.ins().iadd_imm_s(v, -1);
        let safe = self.b.ins().select(is_ptr, addr, self.ctx);
        let h = self.load(safe, 0);
        let t = self.b.ins().band_imm_s(h, 0xff);
        let is_ty = self.b.ins().icmp_imm_s(IntCC::Equal, t, ty as i64);
        self.b.ins().band(is_ptr, is_ty)
    }
    fn tail_call(&mut self, callee: ir::Value, vals: &[ir::Value]) -> Result<(), String> {
        let (argc, regs) = self.pass_args(vals)?;
        let code = self.load(callee, 7);
        self.sync_hp();
        self.b.ins().return_call_indirect(
            self.tail_sig,
            code,
            &[self.ctx, callee, argc, regs[0], regs[1], regs[2]],
        );
        Ok(())
    }

    /// A tail call to a known function: no procedure check, no indirection.
    fn direct_call(
        &mut self,
        func: u32,
        callee: ir::Value,
        vals: &[ir::Value],
    ) -> Result<(), String> {
        let (argc, regs) = self.pass_args(vals)?;
        let fref = self.func_ref(func);
        self.sync_hp();
        self.b
            .ins()
            .return_call(fref, &[self.ctx, callee, argc, regs[0], regs[1], regs[2]]);
        Ok(())
    }

    /// A call of the function being lowered to itself, in tail position
    /// and with its own arity: a jump to its loop head, which counts the
    /// reduction and checks the heap as an entry does (no prologue, no
    /// epilogue, no arity check). `callee` may be another closure of the
    /// same code: the head loads the free variables from it.
    fn self_call(&mut self, callee: ir::Value, vals: &[ir::Value]) -> Result<(), String> {
        let Some((_, head, _)) = self.loop_head else {
            return Err("internal: a self call without a loop head".into());
        };
        // The heap pointer and the arguments stay in their variables
        // (`entry_check`).
        let mut hargs = Vec::new();
        if self.loop_carries_self {
            hargs.push(BlockArg::Value(callee));
        }
        hargs.extend(vals.iter().map(|v| BlockArg::Value(*v)));
        self.b.ins().jump(head, &hargs);
        Ok(())
    }

    /// Stores arguments beyond the third in the buffer; returns the
    /// argument count and the three register arguments.
    fn pass_args(&mut self, vals: &[ir::Value]) -> Result<(ir::Value, [ir::Value; 3]), String> {
        if vals.len() > 3 {
            self.ensure_args(vals.len())?;
            let args = self.load(self.ctx, OFFSET_ARGS);
            for (i, v) in vals.iter().enumerate().skip(3) {
                self.store(*v, args, 8 * i as i32);
            }
        }
        let unspec = self.iconst(UNSPEC);
        let reg = |i: usize| vals.get(i).copied().unwrap_or(unspec);
        let regs = [reg(0), reg(1), reg(2)];
        Ok((self.iconst(vals.len() as i64), regs))
    }

    /// Before `n` arguments are stored in the buffer: grows it when the
    /// call has more than it starts with (it may move, so the caller loads
    /// `ctx.args` after this). Calls of up to `ARGS_INITIAL` arguments,
    /// all but pathological ones, get no extra code.
    fn ensure_args(&mut self, n: usize) -> Result<(), String> {
        if n > ARGS_INITIAL {
            let nv = self.iconst(n as i64);
            self.call_rt("tm_ensure_args", &[nv])?;
        }
        Ok(())
    }

    /// Branches to `then` when the predicate `p` holds for `v`, else to `els`.
    fn branch_on_predicate(
        &mut self,
        p: Prim,
        v: &[ir::Value],
        then: ir::Block,
        els: ir::Block,
    ) -> Result<(), String> {
        let name = p.name();
        match name {
            "%null?" | "%not" | "%no-message?" => {
                let what = match name {
                    "%null?" => rv::NULL.0,
                    "%not" => rv::FALSE.0,
                    _ => NO_MESSAGE.0,
                };
                let c = self.b.ins().icmp_imm_s(IntCC::Equal, v[0], what as i64);
                self.b.ins().brif(c, then, &[], els, &[]);
            }
            "%eq?" => {
                let c = self.b.ins().icmp(IntCC::Equal, v[0], v[1]);
                self.b.ins().brif(c, then, &[], els, &[]);
            }
            "%pair?" => self.branch_on_type(v[0], rv::T_PAIR, then, els),
            "%lt" | "%gt" | "%le" | "%ge" | "%num-eq" if self.known_flonums(v).is_some() => {
                // A flonum constant: the other operand compares inline when
                // it is a flonum (a fixnum compares exactly, in the runtime).
                let known = self.known_flonums(v).unwrap_or_default();
                let slow = self.b.create_block();
                self.b.set_cold_block(slow);
                let (x, y) = self.flonum_operands(v, known, false, slow, false);
                let c = self.b.ins().fcmp(flonum_comparison(name), x, y);
                self.b.ins().brif(c, then, &[], els, &[]);
                self.b.switch_to_block(slow);
                self.b.seal_block(slow);
                let r = self.slow_call(p, v)?;
                let c = self.b.ins().icmp_imm_s(IntCC::NotEqual, r, FALSE);
                self.b.ins().brif(c, then, &[], els, &[]);
            }
            "%lt" | "%gt" | "%le" | "%ge" | "%num-eq" => {
                let cc = fixnum_comparison(name);
                let g = self.both_fixnums(v[0], v[1]);
                let fast = self.b.create_block();
                let test_flo = self.b.create_block();
                self.b.set_cold_block(test_flo);
                let slow = self.b.create_block();
                self.b.set_cold_block(slow);
                self.b.ins().brif(g, test_flo, &[], fast, &[]);
                self.b.switch_to_block(fast);
                self.b.seal_block(fast);
                let c = self.b.ins().icmp(cc, v[0], v[1]);
                self.b.ins().brif(c, then, &[], els, &[]);
                // Two flonums compare inline too; anything else (mixed
                // exactness compares exactly) in the runtime.
                self.b.switch_to_block(test_flo);
                self.b.seal_block(test_flo);
                let (x, y) = self.flonum_operands(v, [None, None], false, slow, true);
                let c = self.b.ins().fcmp(flonum_comparison(name), x, y);
                self.b.ins().brif(c, then, &[], els, &[]);
                self.b.switch_to_block(slow);
                self.b.seal_block(slow);
                let r = self.slow_call(p, v)?;
                let c = self.b.ins().icmp_imm_s(IntCC::NotEqual, r, FALSE);
                self.b.ins().brif(c, then, &[], els, &[]);
            }
            _ => {
                let r = self.prim(p, v)?;
                let c = self.b.ins().icmp_imm_s(IntCC::NotEqual, r, FALSE);
                self.b.ins().brif(c, then, &[], els, &[]);
            }
        }
        Ok(())
    }

    /// Calls `callee` with `vals` followed by the elements of `list`.
    fn spread_call(
        &mut self,
        callee: ir::Value,
        vals: &[ir::Value],
        list: ir::Value,
    ) -> Result<(), String> {
        self.ensure_args(vals.len())?;
        let args = self.load(self.ctx, OFFSET_ARGS);
        for (i, v) in vals.iter().enumerate() {
            self.store(*v, args, 8 * i as i32);
        }
        let offset = self.iconst(vals.len() as i64);
        let argc = self.call_rt("tm_apply_list", &[list, offset])?;
        let failed = self.b.ins().icmp_imm_s(IntCC::Equal, argc, -1);
        let go = self.b.create_block();
        // `apply`'s continuation gets a handler's value; a continuation
        // applied to a bad list has none to give it to.
        match vals.first() {
            Some(_) => {
                let bad = self.b.create_block();
                self.b.set_cold_block(bad);
                self.b.ins().brif(failed, bad, &[], go, &[]);
                self.b.switch_to_block(bad);
                self.b.seal_block(bad);
                // The continuation is still the buffer's first argument
                // (read there, it is not live across the call).
                let args = self.load(self.ctx, OFFSET_ARGS);
                let k = self.load(args, 0);
                self.store(k, self.ctx, OFFSET_SAVED_SELF);
                let exit = self.raise_to_exit();
                self.b.ins().jump(exit, &[]);
            }
            None => {
                let exit = self.raise_exit();
                self.b.ins().brif(failed, exit, &[], go, &[]);
            }
        }
        self.b.switch_to_block(go);
        self.b.seal_block(go);
        // The buffer may have moved while growing. Register arguments past
        // the count are the unspecified value, as every call passes them
        // (a continuation reads its first three values without a test).
        let args = self.load(self.ctx, OFFSET_ARGS);
        let unspec = self.iconst(UNSPEC);
        let mut regs = [unspec; 3];
        for (i, r) in regs.iter_mut().enumerate() {
            let x = self.load(args, 8 * i as i32);
            let present = self
                .b
                .ins()
                .icmp_imm_s(IntCC::UnsignedGreaterThan, argc, i as i64);
            *r = self.b.ins().select(present, x, unspec);
        }
        let [r0, r1, r2] = regs;
        let code = self.load(callee, 7);
        self.sync_hp();
        self.b.ins().return_call_indirect(
            self.tail_sig,
            code,
            &[self.ctx, callee, argc, r0, r1, r2],
        );
        Ok(())
    }

    fn bool_value(&mut self, cond: ir::Value) -> ir::Value {
        let t = self.iconst(TRUE);
        let f = self.iconst(FALSE);
        self.b.ins().select(cond, t, f)
    }

    fn value(&mut self, v: &Value) -> Result<ir::Value, String> {
        match v {
            Value::Atom(a) => self.atom(a),
            Value::Global(i) => {
                let base = self.load(self.ctx, OFFSET_GLOBALS);
                let x = self.load(base, 8 * *i as i32);
                let unbound = self
                    .b
                    .ins()
                    .icmp_imm_s(IntCC::Equal, x, rv::UNBOUND.0 as i64);
                let bad = self.b.create_block();
                let ok = self.b.create_block();
                self.b.ins().brif(unbound, bad, &[], ok, &[]);
                self.b.switch_to_block(bad);
                self.b.seal_block(bad);
                let idx = self.iconst(*i as i64);
                self.call_rt("tm_unbound_global", &[idx])?;
                match self.cur_site {
                    Some(site) => self.raise_at(site)?,
                    None => {
                        let exit = self.raise_exit();
                        self.b.ins().jump(exit, &[]);
                    }
                }
                self.b.switch_to_block(ok);
                self.b.seal_block(ok);
                Ok(x)
            }
            Value::Closure(f, free) if free.is_empty() && self.shared.statics.contains_key(f) => {
                Ok(self.static_closure(*f))
            }
            Value::Closure(f, free) => {
                let vals = free
                    .iter()
                    .map(|a| self.atom(a))
                    .collect::<Result<Vec<_>, _>>()?;
                let (p, v) = self.closure(*f, vals.len())?;
                for (i, x) in vals.iter().enumerate() {
                    self.store(*x, p, 16 + 8 * i as i32);
                }
                Ok(v)
            }
            Value::Lambda(_) => Err("internal: lambda left after closure conversion".into()), // The process's registers live in the context.
            Value::Prim(p, args)
                if matches!(p.name(), "%register" | "%set-register!")
                    && matches!(args[0], Atom::Imm(_)) =>
            {
                let Atom::Imm(w) = args[0] else {
                    return Err("internal: register index".into());
                };
                let off = OFFSET_REGISTERS + 8 * (rv::Value(w).as_fixnum() as i32 & 3);
                if p.name() == "%register" {
                    Ok(self.load(self.ctx, off))
                } else {
                    let x = self.atom(&args[1])?;
                    self.store(x, self.ctx, off);
                    Ok(self.iconst(UNSPEC))
                }
            }
            Value::Prim(p, args) => {
                let vals = args
                    .iter()
                    .map(|a| self.atom(a))
                    .collect::<Result<Vec<_>, _>>()?;
                self.prim(*p, &vals)
            }
        }
    }

    fn slow_call(&mut self, p: Prim, vals: &[ir::Value]) -> Result<ir::Value, String> {
        let r = self.call_rt(p.def().symbol, vals)?;
        if p.def().flags & FAILS != 0 {
            self.check_exception(r)?;
        }
        Ok(r)
    }

    /// `fast` computes the result when `guard` holds; otherwise the
    /// runtime function of `p` does. Returns the merged result.
    fn guarded(
        &mut self,
        p: Prim,
        vals: &[ir::Value],
        guard: ir::Value,
        fast: impl FnOnce(&mut Self) -> (ir::Value, Option<ir::Value>),
    ) -> Result<ir::Value, String> {
        self.arith(p, vals, Guard::Holds(guard), fast, None)
    }
    /// `car`/`cdr` chains: each step checks for a pair; any failure goes to
    /// the runtime function, which raises the error.
    fn cxr(&mut self, p: Prim, x: ir::Value, path: &[char]) -> Result<ir::Value, String> {
        let slow = self.b.create_block();
        let join = self.b.create_block();
        self.b.append_block_param(join, I64);
        self.b.set_cold_block(slow);
        let mut cur = x;
        for step in path {
            let next = self.b.create_block();
            self.branch_on_type(cur, rv::T_PAIR, next, slow);
            self.b.switch_to_block(next);
            self.b.seal_block(next);
            cur = self.load(cur, if *step == 'a' { 7 } else { 15 });
        }
        self.b.ins().jump(join, &[BlockArg::Value(cur)]);
        self.b.switch_to_block(slow);
        self.b.seal_block(slow);
        let r = self.slow_call(p, &[x])?;
        self.b.ins().jump(join, &[BlockArg::Value(r)]);
        self.b.switch_to_block(join);
        self.b.seal_block(join);
        Ok(self.b.block_params(join)[0])
    }

    /// Zero exactly when `a` and `b` are both fixnums (their tag bits),
    /// for a branch to the path where they are not (`Guard::Fails`). An
    /// operand that is a fixnum constant is not tested: `test $1, x; jne`
    /// instead of or-ing the two first.
    fn both_fixnums(&mut self, a: ir::Value, b: ir::Value) -> ir::Value {
        let fixnum_const = |s: &Self, v: ir::Value| match s.b.func.dfg.value_def(v) {
            ir::ValueDef::Result(i, _) => matches!(
                s.b.func.dfg.insts[i],
                ir::InstructionData::UnaryImm { opcode: ir::Opcode::Iconst, imm }
                    if imm.bits() & 1 == 0
            ),
            _ => false,
        };
        let x = if fixnum_const(self, b) {
            a
        } else if fixnum_const(self, a) {
            b
        } else {
            self.b.ins().bor(a, b)
        };
        self.b.ins().band_imm_s(x, 1)
    }

    /// The f64 in a value known to be a flonum.
    fn flonum_bits(&mut self, v: ir::Value) -> ir::Value {
        self.b.ins().load(F64, flags(), v, 7)
    }

    /// Whether a flonum box fits in the nursery now without taking room
    /// from the inline allocations the entry check reserved: `hp + 16 +
    /// need <= limit` (`need` bounds what the rest of the body allocates).
    /// Code without flonums thus keeps an entry without a heap check.
    fn flonum_room(&mut self) -> ir::Value {
        let hp = self.b.use_var(self.hp);
        // Read again through another address value: merged with the entry
        // check's load (same address, no store between), the limit stayed
        // live through the hot path for this cold block and cost callee-saved
        // registers in the prologue of every function with arithmetic.
        let at = self.b.ins().iadd_imm_s(self.ctx, i64::from(OFFSET_LIMIT));
        let limit = self.load(at, 0);
        let end = self.b.ins().iadd_imm_s(hp, FLONUM_BYTES + self.need);
        self.b
            .ins()
            .icmp(IntCC::UnsignedLessThanOrEqual, end, limit)
    }

    /// A new flonum holding `x`, where `flonum_room` said it fits.
    fn box_flonum(&mut self, x: ir::Value) -> ir::Value {
        let ptr = self.alloc(FLONUM_BYTES / 8);
        let h = self.iconst(rv::header(rv::T_FLONUM, 1, 0) as i64);
        self.store(h, ptr, 0);
        self.b.ins().store(flags(), x, ptr, 8);
        self.b.ins().iadd_imm_s(ptr, 1)
    }

    /// A primitive with an inline fast path: `fixnums` when `fix_guard`
    /// holds (its overflow, if any, goes to the runtime). Then, with
    /// `flonums` (`Some(arithmetic)`), inline on f64s when both are
    /// flonums — or, for arithmetic, when either is a flonum and the other
    /// a fixnum, which the runtime also converts — boxing an arithmetic
    /// result. Else the runtime function. Returns the merged result.
    fn arith(
        &mut self,
        p: Prim,
        v: &[ir::Value],
        fix_guard: Guard,
        fixnums: impl FnOnce(&mut Self) -> (ir::Value, Option<ir::Value>),
        flonums: Option<bool>,
    ) -> Result<ir::Value, String> {
        if let Some(arithmetic) = flonums
            && let Some(known) = self.known_flonums(v)
        {
            return self.arith_with_flonum_constant(p, v, arithmetic, known);
        }
        let name = p.name();
        let fix_b = self.b.create_block();
        let slow_b = self.b.create_block();
        self.b.set_cold_block(slow_b);
        let join = self.b.create_block();
        self.b.append_block_param(join, I64);
        // The flonum path is out of line (cold), so that fixnum code is laid
        // out as if it had none.
        let test_flo = flonums.map(|_| {
            let b = self.b.create_block();
            self.b.set_cold_block(b);
            b
        });
        let other = test_flo.unwrap_or(slow_b);
        match fix_guard {
            Guard::Holds(g) => self.b.ins().brif(g, fix_b, &[], other, &[]),
            Guard::Fails(g) => self.b.ins().brif(g, other, &[], fix_b, &[]),
        };
        self.b.switch_to_block(fix_b);
        self.b.seal_block(fix_b);
        let (r, overflow) = fixnums(self);
        match overflow {
            Some(of) => {
                self.b
                    .ins()
                    .brif(of, slow_b, &[], join, &[BlockArg::Value(r)]);
            }
            None => {
                self.b.ins().jump(join, &[BlockArg::Value(r)]);
            }
        }
        if let (Some(test_flo), Some(arithmetic)) = (test_flo, flonums) {
            self.b.switch_to_block(test_flo);
            self.b.seal_block(test_flo);
            self.flonum_path(name, v, arithmetic, slow_b, join);
        }
        self.b.switch_to_block(slow_b);
        self.b.seal_block(slow_b);
        let s = self.slow_call(p, v)?;
        self.b.ins().jump(join, &[BlockArg::Value(s)]);
        self.b.switch_to_block(join);
        self.b.seal_block(join);
        Ok(self.b.block_params(join)[0])
    }

    /// The f64s of the two operands `v` when at least one of them is a
    /// flonum constant of the program.
    fn known_flonums(&self, v: &[ir::Value]) -> Option<[Option<f64>; 2]> {
        let k = [0, 1].map(|i| v.get(i).and_then(|x| self.flonum_consts.get(x)).copied());
        (v.len() == 2 && k.iter().any(Option::is_some)).then_some(k)
    }

    /// The two operands as f64s, in a new current block. An operand in
    /// `known` is that constant; another branches on its type and goes to
    /// `slow_b` unless it is a flonum or, with `fixnums`, a fixnum
    /// (converted as the runtime converts it) — but not two fixnums: those
    /// are exact. `cold` puts the blocks out of line (the flonum path of
    /// fixnum code).
    fn flonum_operands(
        &mut self,
        v: &[ir::Value],
        known: [Option<f64>; 2],
        fixnums: bool,
        slow_b: ir::Block,
        cold: bool,
    ) -> (ir::Value, ir::Value) {
        let [k0, k1] = known;
        if k0.is_some() || k1.is_some() || !fixnums {
            let x = self.operand_f64(v[0], k0, fixnums, slow_b, cold);
            let y = self.operand_f64(v[1], k1, fixnums, slow_b, cold);
            return (x, y);
        }
        // A fixnum first operand needs a flonum second one.
        let both = self.new_block(cold);
        self.b.append_block_param(both, F64);
        self.b.append_block_param(both, F64);
        let flo_b = self.new_block(cold);
        let other_b = self.new_block(true);
        let fix_b = self.new_block(true);
        self.branch_on_type(v[0], rv::T_FLONUM, flo_b, other_b);
        self.b.switch_to_block(other_b);
        self.b.seal_block(other_b);
        let bit = self.b.ins().band_imm_s(v[0], 1);
        self.b.ins().brif(bit, slow_b, &[], fix_b, &[]);
        self.b.switch_to_block(fix_b);
        self.b.seal_block(fix_b);
        let x = self.fixnum_f64(v[0]);
        let y = self.operand_f64(v[1], None, false, slow_b, true);
        self.b
            .ins()
            .jump(both, &[BlockArg::Value(x), BlockArg::Value(y)]);
        self.b.switch_to_block(flo_b);
        self.b.seal_block(flo_b);
        let x = self.flonum_bits(v[0]);
        let y = self.operand_f64(v[1], None, true, slow_b, cold);
        self.b
            .ins()
            .jump(both, &[BlockArg::Value(x), BlockArg::Value(y)]);
        self.b.switch_to_block(both);
        self.b.seal_block(both);
        let ps = self.b.block_params(both);
        (ps[0], ps[1])
    }

    /// One operand of `flonum_operands`, in a new current block.
    fn operand_f64(
        &mut self,
        v: ir::Value,
        known: Option<f64>,
        fixnums: bool,
        slow_b: ir::Block,
        cold: bool,
    ) -> ir::Value {
        if let Some(c) = known {
            return self.b.ins().f64const(c);
        }
        let flo_b = self.new_block(cold);
        let other_b = self.new_block(true);
        let got = self.new_block(cold);
        self.b.append_block_param(got, F64);
        self.branch_on_type(v, rv::T_FLONUM, flo_b, other_b);
        self.b.switch_to_block(other_b);
        self.b.seal_block(other_b);
        if fixnums {
            let fix_b = self.new_block(true);
            let bit = self.b.ins().band_imm_s(v, 1);
            self.b.ins().brif(bit, slow_b, &[], fix_b, &[]);
            self.b.switch_to_block(fix_b);
            self.b.seal_block(fix_b);
            let x = self.fixnum_f64(v);
            self.b.ins().jump(got, &[BlockArg::Value(x)]);
        } else {
            self.b.ins().jump(slow_b, &[]);
        }
        self.b.switch_to_block(flo_b);
        self.b.seal_block(flo_b);
        let x = self.flonum_bits(v);
        self.b.ins().jump(got, &[BlockArg::Value(x)]);
        self.b.switch_to_block(got);
        self.b.seal_block(got);
        self.b.block_params(got)[0]
    }

    /// A fixnum's value as an f64, as the runtime converts it.
    fn fixnum_f64(&mut self, v: ir::Value) -> ir::Value {
        let n = self.b.ins().sshr_imm_s(v, 1);
        self.b.ins().fcvt_from_sint(F64, n)
    }

    fn new_block(&mut self, cold: bool) -> ir::Block {
        let b = self.b.create_block();
        if cold {
            self.b.set_cold_block(b);
        }
        b
    }

    /// `arith` when an operand is a flonum constant (`(- n 1.)`, `(< x
    /// 2.)`): the result is no fixnum, so there is no fixnum path, and the
    /// flonum path is the hot one, with the constant's f64 as an immediate.
    fn arith_with_flonum_constant(
        &mut self,
        p: Prim,
        v: &[ir::Value],
        arithmetic: bool,
        known: [Option<f64>; 2],
    ) -> Result<ir::Value, String> {
        let name = p.name();
        let slow_b = self.b.create_block();
        self.b.set_cold_block(slow_b);
        let join = self.b.create_block();
        self.b.append_block_param(join, I64);
        let (x, y) = self.flonum_operands(v, known, arithmetic, slow_b, false);
        let r = if arithmetic {
            let room_b = self.b.create_block();
            let full_b = self.b.create_block();
            self.b.set_cold_block(full_b);
            let room = self.flonum_room();
            self.b.ins().brif(room, room_b, &[], full_b, &[]);
            self.b.switch_to_block(full_b);
            self.b.seal_block(full_b);
            let bytes = self.iconst(FLONUM_BYTES + self.need);
            // A runtime call here cannot fail: there is nothing to check.
            let _ = self.call_rt("tm_nursery_full", &[bytes]);
            self.b.ins().jump(slow_b, &[]);
            self.b.switch_to_block(room_b);
            self.b.seal_block(room_b);
            let f = match name {
                "%add" => self.b.ins().fadd(x, y),
                "%sub" => self.b.ins().fsub(x, y),
                "%mul" => self.b.ins().fmul(x, y),
                _ => self.b.ins().fdiv(x, y),
            };
            self.box_flonum(f)
        } else {
            let c = self.b.ins().fcmp(flonum_comparison(name), x, y);
            self.bool_value(c)
        };
        self.b.ins().jump(join, &[BlockArg::Value(r)]);
        self.b.switch_to_block(slow_b);
        self.b.seal_block(slow_b);
        let s = self.slow_call(p, v)?;
        self.b.ins().jump(join, &[BlockArg::Value(s)]);
        self.b.switch_to_block(join);
        self.b.seal_block(join);
        Ok(self.b.block_params(join)[0])
    }

    /// The flonum part of `arith`, from the block that tests the operands:
    /// on to `join` with the result, or to `slow_b`. Out of line: each
    /// operand branches on its type.
    fn flonum_path(
        &mut self,
        name: &str,
        v: &[ir::Value],
        arithmetic: bool,
        slow_b: ir::Block,
        join: ir::Block,
    ) {
        let (x, y) = self.flonum_operands(v, [None, None], arithmetic, slow_b, true);
        let r = if arithmetic {
            // The box needs room: without it the runtime computes the same
            // result on its own path, and asks the trampoline for room
            // (`tm_nursery_full`), so that the next operations are inline
            // again.
            let flo_b = self.new_block(true);
            let full_b = self.new_block(true);
            let room = self.flonum_room();
            self.b.ins().brif(room, flo_b, &[], full_b, &[]);
            self.b.switch_to_block(full_b);
            self.b.seal_block(full_b);
            let bytes = self.iconst(FLONUM_BYTES + self.need);
            // A runtime call here cannot fail: there is nothing to check.
            let _ = self.call_rt("tm_nursery_full", &[bytes]);
            self.b.ins().jump(slow_b, &[]);
            self.b.switch_to_block(flo_b);
            self.b.seal_block(flo_b);
            let f = match name {
                "%add" => self.b.ins().fadd(x, y),
                "%sub" => self.b.ins().fsub(x, y),
                "%mul" => self.b.ins().fmul(x, y),
                _ => self.b.ins().fdiv(x, y),
            };
            self.box_flonum(f)
        } else {
            let c = self.b.ins().fcmp(flonum_comparison(name), x, y);
            self.bool_value(c)
        };
        self.b.ins().jump(join, &[BlockArg::Value(r)]);
    }

    /// A new pair, in room an entry check reserved.
    fn cons(&mut self, car: ir::Value, cdr: ir::Value) -> ir::Value {
        let ptr = self.alloc(REST_PAIR_BYTES / 8);
        let h = self.iconst(rv::header(rv::T_PAIR, 2, 0) as i64);
        self.store(h, ptr, 0);
        self.store(car, ptr, 8);
        self.store(cdr, ptr, 16);
        self.b.ins().iadd_imm_s(ptr, 1)
    }

    fn prim(&mut self, p: Prim, v: &[ir::Value]) -> Result<ir::Value, String> {
        let name = p.name();
        match name {
            "%cons" => Ok(self.cons(v[0], v[1])),
            "%car" | "%cdr" | "%caar" | "%cadr" | "%cdar" | "%cddr" | "%caddr" | "%cdddr"
            | "%cadddr" => {
                // The letters between c and r, applied right to left.
                let path: Vec<char> = name[2..name.len() - 1].chars().rev().collect();
                self.cxr(p, v[0], &path)
            }
            "%pair?" => {
                let c = self.has_type(v[0], rv::T_PAIR);
                Ok(self.bool_value(c))
            }
            "%self" => Ok(self.load(self.ctx, OFFSET_SELF_PID)),
            "%procedure?" | "%vector?" | "%string?" => {
                let ty = match name {
                    "%procedure?" => rv::T_CLOSURE,
                    "%vector?" => rv::T_VECTOR,
                    _ => rv::T_STRING,
                };
                let c = self.has_type(v[0], ty);
                Ok(self.bool_value(c))
            }
            "%null?" | "%not" => {
                let what = if name == "%null?" {
                    rv::NULL.0
                } else {
                    rv::FALSE.0
                };
                let c = self.b.ins().icmp_imm_s(IntCC::Equal, v[0], what as i64);
                Ok(self.bool_value(c))
            }
            "%eq?" => {
                let c = self.b.ins().icmp(IntCC::Equal, v[0], v[1]);
                Ok(self.bool_value(c))
            }
            "%fixnum?" => {
                let bit = self.b.ins().band_imm_s(v[0], 1);
                let c = self.b.ins().icmp_imm_s(IntCC::Equal, bit, 0);
                Ok(self.bool_value(c))
            }
            "%char?" | "%symbol?" => {
                let kind = if name == "%char?" {
                    rv::IMM_CHAR
                } else {
                    rv::IMM_SYMBOL
                };
                let low = self.b.ins().band_imm_s(v[0], 0xff);
                let c =
                    self.b
                        .ins()
                        .icmp_imm_s(IntCC::Equal, low, ((kind << 3) | rv::TAG_IMM) as i64);
                Ok(self.bool_value(c))
            }
            "%add" | "%sub" | "%mul" => {
                let g = self.both_fixnums(v[0], v[1]);
                let fixnums = |s: &mut Self| {
                    let (r, of) = match name {
                        "%add" => s.b.ins().sadd_overflow(v[0], v[1]),
                        "%sub" => s.b.ins().ssub_overflow(v[0], v[1]),
                        _ => {
                            let x = s.b.ins().sshr_imm_s(v[0], 1);
                            s.b.ins().smul_overflow(x, v[1])
                        }
                    };
                    (r, Some(of))
                };
                self.arith(p, v, Guard::Fails(g), fixnums, Some(true))
            }
            "%quotient" | "%remainder" | "%modulo" => {
                // Two fixnums and a divisor that is not 0 (nor -1 for a
                // quotient, whose result may then need a bignum): the
                // machine division on the tagged words (2x rem 2y is
                // 2 (x rem y); 2x / 2y is x / y, tagged again).
                let bits = self.both_fixnums(v[0], v[1]);
                let fix = self.b.ins().icmp_imm_s(IntCC::Equal, bits, 0);
                let nonzero = self.b.ins().icmp_imm_s(IntCC::NotEqual, v[1], 0);
                let mut g = self.b.ins().band(fix, nonzero);
                if name == "%quotient" {
                    let minus_one = rv::Value::fixnum(-1).0 as i64;
                    let not_m1 = self.b.ins().icmp_imm_s(IntCC::NotEqual, v[1], minus_one);
                    g = self.b.ins().band(g, not_m1);
                }
                self.guarded(p, v, g, |s| {
                    let r = match name {
                        "%quotient" => {
                            let q = s.b.ins().sdiv(v[0], v[1]);
                            s.b.ins().ishl_imm_s(q, 1)
                        }
                        "%remainder" => s.b.ins().srem(v[0], v[1]),
                        _ => {
                            // The remainder takes the divisor's sign.
                            let r = s.b.ins().srem(v[0], v[1]);
                            let nz = s.b.ins().icmp_imm_s(IntCC::NotEqual, r, 0);
                            let x = s.b.ins().bxor(r, v[1]);
                            let differ = s.b.ins().icmp_imm_s(IntCC::SignedLessThan, x, 0);
                            let adj = s.b.ins().band(nz, differ);
                            let sum = s.b.ins().iadd(r, v[1]);
                            s.b.ins().select(adj, sum, r)
                        }
                    };
                    (r, None)
                })
            }
            "%div" => {
                // Fixnums divide in the runtime (exact when the division is).
                let never = self.b.ins().iconst(ir::types::I8, 0);
                let none = |s: &mut Self| (s.iconst(UNSPEC), None);
                self.arith(p, v, Guard::Holds(never), none, Some(true))
            }
            "%lt" | "%gt" | "%le" | "%ge" | "%num-eq" => {
                let cc = fixnum_comparison(name);
                let g = self.both_fixnums(v[0], v[1]);
                let fixnums = |s: &mut Self| {
                    let c = s.b.ins().icmp(cc, v[0], v[1]);
                    (s.bool_value(c), None)
                };
                self.arith(p, v, Guard::Fails(g), fixnums, Some(false))
            }
            "%void" => Ok(self.iconst(UNSPEC)),
            "%no-message?" => {
                let c = self
                    .b
                    .ins()
                    .icmp_imm_s(IntCC::Equal, v[0], NO_MESSAGE.0 as i64);
                Ok(self.bool_value(c))
            }
            "%vector-ref" => {
                let (g, idx) = self.index_guard(v[0], v[1], rv::T_VECTOR);
                self.guarded(p, v, g, |s| {
                    let off = s.b.ins().ishl_imm_s(idx, 3);
                    let a = s.b.ins().iadd(v[0], off);
                    (s.load(a, 7), None)
                })
            }
            "%record" | "%vector" => {
                // A record: the type, then the fields (`%make-record`'s
                // layout); a vector: the elements.
                let ty = if name == "%record" {
                    rv::T_RECORD
                } else {
                    rv::T_VECTOR
                };
                let ptr = self.alloc(1 + v.len() as i64);
                let h = self.iconst(rv::header(ty, v.len() as u64, 0) as i64);
                self.store(h, ptr, 0);
                for (i, x) in v.iter().enumerate() {
                    self.store(*x, ptr, 8 * (1 + i as i32));
                }
                Ok(self.b.ins().iadd_imm_s(ptr, 1))
            }
            "%record-of?" | "%record-ref" => {
                // A record whose type word is the operand type; for a field,
                // a fixnum index below its field count. Its header and type
                // are read only when it is a record.
                let isr = self.has_type(v[0], rv::T_RECORD);
                let addr = self.b.ins().iadd_imm_s(v[0], -1);
                let safe = self.b.ins().select(isr, addr, self.ctx);
                let ty = self.load(safe, 8);
                let same = self.b.ins().icmp(IntCC::Equal, ty, v[1]);
                let g1 = self.b.ins().band(isr, same);
                if name == "%record-of?" {
                    return Ok(self.bool_value(g1));
                }
                let h = self.load(safe, 0);
                let fields = self.b.ins().ushr_imm_s(h, 16);
                let bit = self.b.ins().band_imm_s(v[2], 1);
                let isfix = self.b.ins().icmp_imm_s(IntCC::Equal, bit, 0);
                let idx = self.b.ins().sshr_imm_s(v[2], 1);
                // The header counts the type word: fields - 1 of them.
                let count = self.b.ins().iadd_imm_s(fields, -1);
                let inb = self.b.ins().icmp(IntCC::UnsignedLessThan, idx, count);
                let g = self.b.ins().band(g1, isfix);
                let g = self.b.ins().band(g, inb);
                self.guarded(p, v, g, |s| {
                    let off = s.b.ins().ishl_imm_s(idx, 3);
                    let a = s.b.ins().iadd(v[0], off);
                    (s.load(a, 15), None)
                })
            }
            "%string-ref" => {
                // Like `%vector-ref`, on 4-byte code points after the header.
                let (g, idx) = self.index_guard(v[0], v[1], rv::T_STRING);
                self.guarded(p, v, g, |s| {
                    let off = s.b.ins().ishl_imm_s(idx, 2);
                    let a = s.b.ins().iadd(v[0], off);
                    let cp = s.b.ins().uload32(flags(), a, 7);
                    (s.char_value(cp), None)
                })
            }
            "%string-length" | "%vector-length" => {
                let ty = if name == "%string-length" {
                    rv::T_STRING
                } else {
                    rv::T_VECTOR
                };
                let is = self.has_type(v[0], ty);
                self.guarded(p, v, is, |s| {
                    let h = s.load(v[0], -1);
                    let len = s.b.ins().ushr_imm_s(h, 16);
                    (s.b.ins().ishl_imm_s(len, 1), None)
                })
            }
            "%char->integer" => {
                let low = self.b.ins().band_imm_s(v[0], 0xff);
                let is = self.b.ins().icmp_imm_s(IntCC::Equal, low, CHAR_LOW as i64);
                self.guarded(p, v, is, |s| {
                    let cp = s.b.ins().ushr_imm_s(v[0], 8);
                    (s.b.ins().ishl_imm_s(cp, 1), None)
                })
            }
            "%integer->char" => {
                // A fixnum that is a Unicode scalar value: below 0x110000
                // and outside the surrogates 0xD800-0xDFFF.
                let bit = self.b.ins().band_imm_s(v[0], 1);
                let isfix = self.b.ins().icmp_imm_s(IntCC::Equal, bit, 0);
                let n = self.b.ins().sshr_imm_s(v[0], 1);
                let below = self
                    .b
                    .ins()
                    .icmp_imm_s(IntCC::UnsignedLessThan, n, 0x11_0000);
                let off = self.b.ins().iadd_imm_s(n, -0xD800);
                let not_sur =
                    self.b
                        .ins()
                        .icmp_imm_s(IntCC::UnsignedGreaterThanOrEqual, off, 0x800);
                let g = self.b.ins().band(isfix, below);
                let g = self.b.ins().band(g, not_sur);
                self.guarded(p, v, g, |s| (s.char_value(n), None))
            }
            _ => self.slow_call(p, v),
        }
    }

    /// For `%vector-ref` and `%string-ref`: whether `x` is an object of
    /// type `ty` and `k` a fixnum below its length, and the raw index. The
    /// length is read only when `x` is of that type.
    fn index_guard(&mut self, x: ir::Value, k: ir::Value, ty: u64) -> (ir::Value, ir::Value) {
        let is = self.has_type(x, ty);
        let bit = self.b.ins().band_imm_s(k, 1);
        let isfix = self.b.ins().icmp_imm_s(IntCC::Equal, bit, 0);
        let g1 = self.b.ins().band(is, isfix);
        let addr = self.b.ins().iadd_imm_s(x, -1);
        let safe = self.b.ins().select(g1, addr, self.ctx);
        let h = self.load(safe, 0);
        let len = self.b.ins().ushr_imm_s(h, 16);
        let idx = self.b.ins().sshr_imm_s(k, 1);
        let inb = self.b.ins().icmp(IntCC::UnsignedLessThan, idx, len);
        (self.b.ins().band(g1, inb), idx)
    }

    /// The character whose code point is the raw integer `cp`.
    fn char_value(&mut self, cp: ir::Value) -> ir::Value {
        let shifted = self.b.ins().ishl_imm_s(cp, 8);
        self.b.ins().bor_imm_s(shifted, CHAR_LOW as i64)
    }
}

/// The low byte of every character (its immediate kind and tag).
const CHAR_LOW: u64 = (rv::IMM_CHAR << 3) | rv::TAG_IMM;
