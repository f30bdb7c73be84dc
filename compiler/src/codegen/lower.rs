//! The lowering proper.

use crate::closure::{Function, Program};
use crate::cps::{Atom, LambdaKind, Term, Value};
use crate::expand::core::VarId;
use crate::prims::Prim;
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{self, AbiParam, BlockArg, InstBuilder, MemFlagsData, types::I64};
use cranelift_codegen::isa::CallConv;
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext, Variable};
use cranelift_module::{DataDescription, DataId, FuncId, Linkage, Module};
use std::collections::HashMap;
use termite_runtime::ctx::*;
use termite_runtime::prims::FAILS;
use termite_runtime::prims::process::NO_MESSAGE;
use termite_runtime::value as rv;

/// What the lowering produced: one Cranelift function per closure-IR
/// function (same order), plus the runtime's entry points.
pub struct Lowered {
    pub functions: Vec<FuncId>,
    pub entry: FuncId,
    pub halt: FuncId,
    pub raise_return: FuncId,
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
    };
    let mut rt = RuntimeImports::default();
    let mut fctx = FunctionBuilderContext::new();
    let mut cctx = module.make_context();
    let frontend = module.target_config();
    for (f, id) in p.functions.iter().zip(&functions) {
        cctx.func.signature = tsig.clone();
        cctx.func.name = ir::UserFuncName::user(0, f.id);
        {
            let b = FunctionBuilder::new(&mut cctx.func, &mut fctx);
            let mut l = FnLower::new(b, module, &shared, &mut rt, f);
            l.function(f)?;
            l.b.finalize(frontend);
        }
        if let Some(out) = clif.as_deref_mut() {
            out.push_str(&format!(
                ";; {} (code id {:016x})\n{}\n",
                f.name,
                f.code_id,
                cctx.func.display()
            ));
        }
        module
            .define_function(*id, &mut cctx)
            .map_err(|e| format!("{} in {}: {e:?}", f.name, f.name))?;
        module.clear_context(&mut cctx);
    }
    let halt = status_function(module, &tsig, "tm_halt", STATUS_DONE, &mut fctx)?;
    let raise_return = status_function(module, &tsig, "tm_raise_return", STATUS_DIED, &mut fctx)?;
    let entry = entry_wrapper(module, &tsig, &mut fctx)?;
    Ok(Lowered {
        functions,
        entry,
        halt,
        raise_return,
    })
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
        let id = m
            .declare_data(&name, Linkage::Local, false, false)
            .map_err(|e| e.to_string())?;
        let mut d = DataDescription::new();
        let mut bytes = vec![0u8; 16];
        bytes[..8].copy_from_slice(&rv::header(rv::T_CLOSURE, 1, rv::F_STATIC).to_le_bytes());
        d.define(bytes.into_boxed_slice());
        d.set_align(8);
        let fref = m.declare_func_in_data(functions[f.id as usize], &mut d);
        d.write_function_addr(8, fref);
        m.define_data(id, &d).map_err(|e| e.to_string())?;
        out.insert(f.id, id);
    }
    Ok(out)
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
fn fixnum_comparison(name: &str) -> IntCC {
    match name {
        "%lt" => IntCC::SignedLessThan,
        "%gt" => IntCC::SignedGreaterThan,
        "%le" => IntCC::SignedLessThanOrEqual,
        "%ge" => IntCC::SignedGreaterThanOrEqual,
        _ => IntCC::Equal,
    }
}

/// Primitives that answer a boolean, which an `if` can branch on directly.
fn is_predicate(p: Prim) -> bool {
    matches!(
        p.name(),
        "%null?"
            | "%not"
            | "%no-message?"
            | "%eq?"
            | "%pair?"
            | "%lt"
            | "%gt"
            | "%le"
            | "%ge"
            | "%num-eq"
    )
}

/// Bytes a term allocates inline, over all of its paths.
fn alloc_bytes(t: &Term) -> i64 {
    match t {
        Term::Let(_, v, body) => {
            let here = match v {
                Value::Closure(_, free) if free.is_empty() => 0,
                Value::Closure(_, free) => 8 * (2 + free.len() as i64),
                Value::Prim(p, _) if p.name() == "%cons" => 24,
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
            Term::Let(_, Value::Prim(..), _) => return true,
            Term::Let(_, _, body) | Term::LetRecClosures(_, body) => todo.push(body),
            Term::LetJoin { body, then, .. } => {
                todo.push(body);
                todo.push(then);
            }
            Term::If(_, a, b) => {
                todo.push(a);
                todo.push(b);
            }
            Term::Apply { .. } | Term::ContApply { .. } => return true,
            _ => {}
        }
    }
    false
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
    tail_sig: ir::SigRef,
    raise_exit: Option<ir::Block>,
    /// The block that returns `STATUS_RAISE_TO` (a failed call).
    raise_to_exit: Option<ir::Block>,
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
        _f: &Function,
    ) -> Self {
        let tail_sig = b.import_signature(tail_sig(module));
        let hp = b.declare_var(I64);
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
            tail_sig,
            raise_exit: None,
            raise_to_exit: None,
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
        self.b.ins().call(r, &all);
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

    fn sync_hp(&mut self) {
        let hp = self.b.use_var(self.hp);
        self.store(hp, self.ctx, OFFSET_HP);
    }

    /// Branches to the raise exit when `v` is the EXCEPTION marker.
    fn check_exception(&mut self, v: ir::Value) {
        let exit = self.raise_exit();
        let is_exc = self
            .b
            .ins()
            .icmp_imm_s(IntCC::Equal, v, rv::EXCEPTION.0 as i64);
        let cont = self.b.create_block();
        self.b.ins().brif(is_exc, exit, &[], cont, &[]);
        self.b.switch_to_block(cont);
        self.b.seal_block(cont);
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
                self.load(base, 8 * *i as i32)
            }
        })
    }

    fn function(&mut self, f: &Function) -> Result<(), String> {
        let entry = self.b.create_block();
        self.b.append_block_params_for_function_params(entry);
        self.b.switch_to_block(entry);
        self.b.seal_block(entry);
        let ps = self.b.block_params(entry).to_vec();
        let (ctx, selfv, argc, a0, a1, a2) = (ps[0], ps[1], ps[2], ps[3], ps[4], ps[5]);
        self.ctx = ctx;

        // Reductions and heap: one check for the whole body.
        let need = alloc_bytes(&f.body); // Reductions are counted on procedure entry only: every loop goes
        // through a procedure call, and a return always follows a call.
        let mut fail = None;
        if f.kind == LambdaKind::Proc {
            let red = self.load(ctx, OFFSET_REDUCTIONS);
            let red = self.b.ins().iadd_imm_s(red, -1);
            self.store(red, ctx, OFFSET_REDUCTIONS);
            fail = Some(self.b.ins().icmp_imm_s(IntCC::SignedLessThan, red, 0));
        }
        let hp0 = self.load(ctx, OFFSET_HP);
        // A body that calls the runtime checks the limit even when it
        // allocates nothing inline: runtime allocation lowers `ctx.limit`
        // when the heap is due for a collection, and this check is where
        // the collection happens (ARCHITECTURE.md, "Heap and collection").
        if need > 0 || calls_runtime(&f.body) {
            let limit = self.load(ctx, OFFSET_LIMIT);
            let end = self.b.ins().iadd_imm_s(hp0, need);
            let short = self.b.ins().icmp(IntCC::UnsignedGreaterThan, end, limit);
            fail = Some(match fail {
                Some(f) => self.b.ins().bor(f, short),
                None => short,
            });
        }
        let fail = match fail {
            Some(f) => f,
            None => self.b.ins().iconst(ir::types::I8, 0),
        };
        let slow = self.b.create_block();
        let body = self.b.create_block();
        self.b.set_cold_block(slow);
        self.b.ins().brif(fail, slow, &[], body, &[]);
        self.b.switch_to_block(slow);
        self.b.seal_block(slow);
        let args = self.load(ctx, OFFSET_ARGS);
        self.store(a0, args, 0);
        self.store(a1, args, 8);
        self.store(a2, args, 16);
        self.store(selfv, ctx, OFFSET_SAVED_SELF);
        self.store(argc, ctx, OFFSET_SAVED_ARGC);
        let needv = self.iconst(need);
        self.store(needv, ctx, OFFSET_NEED);
        let y = self.iconst(STATUS_YIELD as i64);
        self.b.ins().return_(&[y]);

        self.b.switch_to_block(body);
        self.b.seal_block(body);
        self.b.def_var(self.hp, hp0);

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
            self.b.ins().brif(bad, err, &[], ok, &[]);
            self.b.switch_to_block(err);
            self.b.seal_block(err);
            let req = self.iconst(nparams - 1);
            let rest = self.iconst(i64::from(f.rest.is_some()));
            self.call_rt("tm_arity_error", &[selfv, argc, req, rest])?;
            // The caller's continuation gets a `handle` handler's value.
            self.store(a0, ctx, OFFSET_SAVED_SELF);
            let exit = self.raise_to_exit();
            self.b.ins().jump(exit, &[]);
            self.b.switch_to_block(ok);
            self.b.seal_block(ok);
        }
        let regs = [a0, a1, a2];
        let unspec = self.iconst(UNSPEC);
        for (i, p) in f.params.iter().enumerate() {
            let mut v = if i < 3 {
                regs[i]
            } else {
                let args = self.load(ctx, OFFSET_ARGS);
                self.load(args, 8 * i as i32)
            };
            if f.kind == LambdaKind::Cont {
                // A continuation accepts any number of values.
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
        self.finish_raise_exit();
        self.finish_raise_to_exit();
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
        let data = self.shared.statics[&f];
        let gv = self.module.declare_data_in_func(data, self.b.func);
        let addr = self.b.ins().symbol_value(I64, gv);
        self.b.ins().iadd_imm_s(addr, 1)
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
            Term::Let(v, Value::Prim(p, args), body)
                if is_predicate(*p) && matches!(&**body, Term::If(Atom::Var(c), ..) if c == v) =>
            {
                let Term::If(_, a, b) = &**body else {
                    return Err("internal: predicate pattern".into());
                };
                let vals = args
                    .iter()
                    .map(|x| self.atom(x))
                    .collect::<Result<Vec<_>, _>>()?;
                let (tb, eb) = (self.b.create_block(), self.b.create_block());
                self.branch_on_predicate(*p, &vals, tb, eb)?;
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
                let x = self.value(val)?;
                self.vars.insert(*v, x);
                self.term(body)
            }
            Term::LetRecClosures(binds, body) => {
                let mut made = Vec::new();
                for (v, f, free) in binds {
                    let (p, val) = self.closure(*f, free.len())?;
                    self.vars.insert(*v, val);
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
                self.tail_call(kv, &vals)
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
        let ok = self.has_type(f, rv::T_CLOSURE);
        let good = self.b.create_block();
        let bad = self.b.create_block();
        self.b.ins().brif(ok, good, &[], bad, &[]);
        self.b.switch_to_block(bad);
        self.b.seal_block(bad);
        self.call_rt("tm_not_procedure", &[f])?;
        self.store(k, self.ctx, OFFSET_SAVED_SELF);
        let exit = self.raise_to_exit();
        self.b.ins().jump(exit, &[]);
        self.b.switch_to_block(good);
        self.b.seal_block(good);
        Ok(())
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
            "%pair?" => {
                let c = self.has_type(v[0], rv::T_PAIR);
                self.b.ins().brif(c, then, &[], els, &[]);
            }
            "%lt" | "%gt" | "%le" | "%ge" | "%num-eq" => {
                let cc = fixnum_comparison(name);
                let g = self.both_fixnums(v[0], v[1]);
                let fast = self.b.create_block();
                let slow = self.b.create_block();
                self.b.set_cold_block(slow);
                self.b.ins().brif(g, fast, &[], slow, &[]);
                self.b.switch_to_block(fast);
                self.b.seal_block(fast);
                let c = self.b.ins().icmp(cc, v[0], v[1]);
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
            Some(k) => {
                let bad = self.b.create_block();
                self.b.set_cold_block(bad);
                self.b.ins().brif(failed, bad, &[], go, &[]);
                self.b.switch_to_block(bad);
                self.b.seal_block(bad);
                self.store(*k, self.ctx, OFFSET_SAVED_SELF);
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
        // The buffer may have moved while growing.
        let args = self.load(self.ctx, OFFSET_ARGS);
        let r0 = self.load(args, 0);
        let r1 = self.load(args, 8);
        let r2 = self.load(args, 16);
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
                let exit = self.raise_exit();
                self.b.ins().jump(exit, &[]);
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
            self.check_exception(r);
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
        let fast_b = self.b.create_block();
        let slow_b = self.b.create_block();
        self.b.set_cold_block(slow_b);
        let join = self.b.create_block();
        self.b.append_block_param(join, I64);
        self.b.ins().brif(guard, fast_b, &[], slow_b, &[]);
        self.b.switch_to_block(fast_b);
        self.b.seal_block(fast_b);
        let (r, overflow) = fast(self);
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
        self.b.switch_to_block(slow_b);
        self.b.seal_block(slow_b);
        let s = self.slow_call(p, vals)?;
        self.b.ins().jump(join, &[BlockArg::Value(s)]);
        self.b.switch_to_block(join);
        self.b.seal_block(join);
        Ok(self.b.block_params(join)[0])
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
            let ok = self.has_type(cur, rv::T_PAIR);
            let next = self.b.create_block();
            self.b.ins().brif(ok, next, &[], slow, &[]);
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

    fn both_fixnums(&mut self, a: ir::Value, b: ir::Value) -> ir::Value {
        let o = self.b.ins().bor(a, b);
        let bit = self.b.ins().band_imm_s(o, 1);
        self.b.ins().icmp_imm_s(IntCC::Equal, bit, 0)
    }

    fn prim(&mut self, p: Prim, v: &[ir::Value]) -> Result<ir::Value, String> {
        let name = p.name();
        match name {
            "%cons" => {
                let ptr = self.alloc(3);
                let h = self.iconst(rv::header(rv::T_PAIR, 2, 0) as i64);
                self.store(h, ptr, 0);
                self.store(v[0], ptr, 8);
                self.store(v[1], ptr, 16);
                Ok(self.b.ins().iadd_imm_s(ptr, 1))
            }
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
            "%add" | "%sub" => {
                let g = self.both_fixnums(v[0], v[1]);
                self.guarded(p, v, g, |s| {
                    let (r, of) = if name == "%add" {
                        s.b.ins().sadd_overflow(v[0], v[1])
                    } else {
                        s.b.ins().ssub_overflow(v[0], v[1])
                    };
                    (r, Some(of))
                })
            }
            "%mul" => {
                let g = self.both_fixnums(v[0], v[1]);
                self.guarded(p, v, g, |s| {
                    let x = s.b.ins().sshr_imm_s(v[0], 1);
                    let (r, of) = s.b.ins().smul_overflow(x, v[1]);
                    (r, Some(of))
                })
            }
            "%lt" | "%gt" | "%le" | "%ge" | "%num-eq" => {
                let cc = fixnum_comparison(name);
                let g = self.both_fixnums(v[0], v[1]);
                self.guarded(p, v, g, |s| {
                    let c = s.b.ins().icmp(cc, v[0], v[1]);
                    (s.bool_value(c), None)
                })
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
                let isv = self.has_type(v[0], rv::T_VECTOR);
                let bit = self.b.ins().band_imm_s(v[1], 1);
                let isfix = self.b.ins().icmp_imm_s(IntCC::Equal, bit, 0);
                let g1 = self.b.ins().band(isv, isfix);
                // Read the length only when it is a vector.
                let addr = self.b.ins().iadd_imm_s(v[0], -1);
                let safe = self.b.ins().select(g1, addr, self.ctx);
                let h = self.load(safe, 0);
                let len = self.b.ins().ushr_imm_s(h, 16);
                let idx = self.b.ins().sshr_imm_s(v[1], 1);
                let inb = self.b.ins().icmp(IntCC::UnsignedLessThan, idx, len);
                let g = self.b.ins().band(g1, inb);
                self.guarded(p, v, g, |s| {
                    let off = s.b.ins().ishl_imm_s(idx, 3);
                    let a = s.b.ins().iadd(v[0], off);
                    (s.load(a, 7), None)
                })
            }
            _ => self.slow_call(p, v),
        }
    }
}
