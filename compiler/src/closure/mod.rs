//! Closure conversion: every CPS lambda becomes a top-level `Function` with
//! its free variables listed; a lambda value becomes `(closure F free ...)`.
//! A continuation that is only ever invoked directly in its own function
//! (never passed to a call nor captured) becomes a join point (`letjoin` /
//! `jump`), compiled as a block instead of a heap closure.
//!
//! Each function gets its code id here: the first 64 bits of the SHA-256 of
//! its normalized printed form (variables renumbered by appearance, nested
//! functions named by their code ids, globals by name, constants by value).

use crate::cps::print::Printer;
use crate::cps::{Atom, FuncId, Lambda, LambdaKind, Term, Value};
use crate::expand::core::{VarId, VarNames};
use sha2::{Digest, Sha256};
use std::collections::{BTreeSet, HashMap};
use termite_runtime::program::Constant;

#[derive(Clone, Debug)]
pub struct Function {
    pub id: FuncId,
    pub name: String,
    pub kind: LambdaKind,
    pub params: Vec<VarId>,
    pub rest: Option<VarId>,
    pub free: Vec<VarId>,
    pub body: Term,
    pub code_id: u64,
}

#[derive(Clone, Debug)]
pub struct Program {
    pub functions: Vec<Function>,
    pub main: FuncId,
    pub constants: Vec<Constant>,
    pub globals: Vec<String>,
    pub vars: VarNames,
    /// The source it was compiled from (set by the driver), which the
    /// program carries for bare nodes.
    pub source: Option<termite_runtime::program::Source>,
}

/// Terms (`let`, `if`, `letcont`, `letrec`) on one path from a function's
/// entry after which the rest of the path becomes a function of its own (a
/// continuation without parameters, called at once). Cranelift's register
/// allocation and optimisation grow faster than linearly with the depth of a
/// function's dominator tree, so without a bound a program of 100,000
/// nested `if`s or `let`s took minutes to compile; no hand-written
/// procedure comes near this.
pub const SPLIT_DEPTH: usize = 1000;

struct Conv<'a> {
    functions: Vec<Function>,
    /// Converted terms and their free variables, waiting to be combined.
    results: Vec<(Term, Free)>,
    /// Functions made, with their free variables, waiting to be used.
    made: Vec<(FuncId, Vec<VarId>)>,
    /// The code id of each function of `functions`, in the same order.
    code_ids: Vec<u64>,
    vars: &'a mut VarNames,
    globals: &'a [String],
    constants: &'a [Constant],
}

pub fn closure_convert(mut p: crate::cps::Program) -> Program {
    let mut c = Conv {
        functions: Vec::new(),
        results: Vec::new(),
        made: Vec::new(),
        code_ids: Vec::new(),
        vars: &mut p.vars,
        globals: &p.globals,
        constants: &p.constants,
    };
    let (main, _) = c.lambda(p.main);
    let functions = c.functions;
    Program {
        functions,
        main,
        constants: p.constants,
        globals: p.globals,
        vars: p.vars,
        source: None,
    }
}

/// The variables a closure-converted term uses free: `all` of them, and
/// those of `all` used other than as the target of a `cont` (a
/// continuation among these escapes: it cannot become a join point).
/// Computed bottom-up with the conversion, so that no subterm is walked
/// again for each function or continuation around it.
#[derive(Default)]
struct Free {
    all: BTreeSet<VarId>,
    esc: BTreeSet<VarId>,
}

impl Free {
    fn atom(&mut self, a: &Atom) {
        if let Atom::Var(v) = a {
            self.all.insert(*v);
            self.esc.insert(*v);
        }
    }

    fn atoms(&mut self, xs: &[Atom]) {
        xs.iter().for_each(|a| self.atom(a));
    }

    fn vars(&mut self, xs: &[VarId]) {
        self.all.extend(xs.iter().copied());
        self.esc.extend(xs.iter().copied());
    }

    fn bind(&mut self, v: VarId) {
        self.all.remove(&v);
        self.esc.remove(&v);
    }

    /// Adds `other`, merging the smaller set into the larger.
    fn union(&mut self, other: Free) {
        fn merge(a: &mut BTreeSet<VarId>, mut b: BTreeSet<VarId>) {
            if a.len() < b.len() {
                std::mem::swap(a, &mut b);
            }
            a.extend(b);
        }
        merge(&mut self.all, other.all);
        merge(&mut self.esc, other.esc);
    }
}

/// Work of the conversion, done from an explicit stack (a program nested a
/// million deep must not overflow the native stack): `Visit` converts a
/// term and leaves it with its free variables on the results stack; the
/// others combine what their parts left.
enum Work {
    /// A term, `path` terms from its function's entry.
    Visit(Term, usize),
    /// Ends a lambda whose body was just converted: the function is made
    /// and `(FuncId, free variables)` left on the functions stack.
    Function {
        kind: LambdaKind,
        params: Vec<VarId>,
        rest: Option<VarId>,
        name: String,
    },
    /// `(let v (closure ...) body)` from the function and the body left.
    LetClosure(VarId),
    /// `(let v (closure split) (cont split))` from the function left.
    Split(VarId),
    Let(VarId, Value),
    LetRec(Vec<VarId>),
    /// The body of a `letcont` was converted: make the continuation a join
    /// point or a closure.
    LetCont(VarId, Box<Lambda>, usize),
    Join(VarId, Vec<VarId>),
    If(Atom),
    LetJoin(VarId, Vec<VarId>),
}

impl Conv<'_> {
    fn lambda(&mut self, l: Lambda) -> (FuncId, Vec<VarId>) {
        let mut work = Vec::new();
        push_lambda(&mut work, l);
        self.run(work);
        self.made.pop().unwrap_or((0, Vec::new()))
    }

    fn code_id(&self, f: &Function) -> u64 {
        let mut pr = Printer::new(&*self.vars, self.globals, self.constants);
        pr.normalized = Some((HashMap::new(), &self.code_ids));
        let text = print_function_with(&mut pr, f);
        let digest = Sha256::digest(text.as_bytes());
        let mut id = [0u8; 8];
        id.copy_from_slice(&digest[..8]);
        u64::from_le_bytes(id)
    }

    fn result(&mut self) -> (Term, Free) {
        self.results.pop().unwrap_or((
            Term::Cont {
                k: crate::cps::convert::UNSPEC,
                args: vec![],
            },
            Free::default(),
        ))
    }

    fn function(&mut self) -> (FuncId, Vec<VarId>) {
        self.made.pop().unwrap_or((0, Vec::new()))
    }

    fn run(&mut self, mut work: Vec<Work>) {
        while let Some(w) = work.pop() {
            match w {
                Work::Visit(t, path) => self.visit(t, path, &mut work),
                Work::Function {
                    kind,
                    params,
                    rest,
                    name,
                } => {
                    let (body, mut fv) = self.result();
                    for p in params.iter().chain(rest.iter()) {
                        fv.bind(*p);
                    }
                    let free: Vec<VarId> = fv.all.into_iter().collect();
                    let id = self.functions.len() as FuncId;
                    let mut f = Function {
                        id,
                        name,
                        kind,
                        params,
                        rest,
                        free: free.clone(),
                        body,
                        code_id: 0,
                    };
                    f.code_id = self.code_id(&f);
                    self.code_ids.push(f.code_id);
                    self.functions.push(f);
                    self.made.push((id, free));
                }
                Work::LetClosure(v) => {
                    let (body, mut fv) = self.result();
                    let (f, free) = self.function();
                    fv.bind(v);
                    fv.vars(&free);
                    let t = Term::Let(
                        v,
                        Value::Closure(f, free.into_iter().map(Atom::Var).collect()),
                        Box::new(body),
                    );
                    self.results.push((t, fv));
                }
                Work::Split(kv) => {
                    let (f, free) = self.function();
                    let mut fv = Free::default();
                    fv.vars(&free);
                    let call = Term::Cont {
                        k: Atom::Var(kv),
                        args: vec![],
                    };
                    let t = Term::Let(
                        kv,
                        Value::Closure(f, free.into_iter().map(Atom::Var).collect()),
                        Box::new(call),
                    );
                    self.results.push((t, fv));
                }
                Work::Let(v, val) => {
                    let (body, mut fv) = self.result();
                    fv.bind(v);
                    match &val {
                        Value::Atom(a) => fv.atom(a),
                        Value::Prim(_, args) | Value::Closure(_, args) => fv.atoms(args),
                        Value::Global(_) | Value::Lambda(_) => {}
                    }
                    self.results.push((Term::Let(v, val, Box::new(body)), fv));
                }
                Work::LetRec(vars) => {
                    let (body, mut fv) = self.result();
                    let made = self
                        .made
                        .split_off(self.made.len().saturating_sub(vars.len()));
                    let mut out = Vec::new();
                    for (v, (f, free)) in vars.into_iter().zip(made) {
                        fv.vars(&free);
                        out.push((v, f, free.into_iter().map(Atom::Var).collect::<Vec<_>>()));
                    }
                    for (v, _, _) in &out {
                        fv.bind(*v);
                    }
                    self.results
                        .push((Term::LetRecClosures(out, Box::new(body)), fv));
                }
                Work::LetCont(k, l, path) => {
                    let join = l.rest.is_none()
                        && self
                            .results
                            .last()
                            .is_some_and(|(_, fv)| !fv.esc.contains(&k));
                    if join {
                        let l = *l;
                        work.push(Work::Join(k, l.params));
                        work.push(Work::Visit(l.body, path));
                    } else {
                        work.push(Work::LetClosure(k));
                        push_lambda(&mut work, *l);
                    }
                }
                Work::Join(k, params) => {
                    let (jbody, mut fj) = self.result();
                    let (body, mut fv) = self.result();
                    for p in &params {
                        fj.bind(*p);
                    }
                    fv.bind(k);
                    fv.union(fj);
                    let mut then = body;
                    to_jumps(&mut then, k, params.len());
                    let t = Term::LetJoin {
                        j: k,
                        params,
                        body: Box::new(jbody),
                        then: Box::new(then),
                    };
                    self.results.push((t, fv));
                }
                Work::If(c) => {
                    let (b, fb) = self.result();
                    let (a, mut fa) = self.result();
                    fa.union(fb);
                    fa.atom(&c);
                    self.results
                        .push((Term::If(c, Box::new(a), Box::new(b)), fa));
                }
                Work::LetJoin(j, params) => {
                    let (then, mut ft) = self.result();
                    let (body, mut fb) = self.result();
                    for p in &params {
                        fb.bind(*p);
                    }
                    ft.bind(j);
                    ft.union(fb);
                    let t = Term::LetJoin {
                        j,
                        params,
                        body: Box::new(body),
                        then: Box::new(then),
                    };
                    self.results.push((t, ft));
                }
            }
        }
    }

    /// Converts `t`, `path` terms from its function's entry: a leaf at
    /// once, else its parts are scheduled before the work that combines
    /// them (in the order the functions they contain are numbered).
    fn visit(&mut self, t: Term, path: usize, work: &mut Vec<Work>) {
        let nested = matches!(
            t,
            Term::Let(..) | Term::If(..) | Term::LetCont(..) | Term::LetRec(..)
        );
        if nested && path >= SPLIT_DEPTH {
            // The rest of the path: a continuation of no values of its
            // own, called at once.
            let kv = self.vars.fresh("split");
            work.push(Work::Split(kv));
            push_lambda(
                work,
                Lambda {
                    kind: LambdaKind::Cont,
                    params: vec![],
                    rest: None,
                    body: t,
                    name: "split".into(),
                },
            );
            return;
        }
        let next = path + 1;
        match t {
            Term::Let(v, Value::Lambda(l), body) => {
                work.push(Work::LetClosure(v));
                work.push(Work::Visit(*body, next));
                push_lambda(work, *l);
            }
            Term::Let(v, val, body) => {
                work.push(Work::Let(v, val));
                work.push(Work::Visit(*body, next));
            }
            Term::LetRec(binds, body) => {
                work.push(Work::LetRec(binds.iter().map(|(v, _)| *v).collect()));
                work.push(Work::Visit(*body, next));
                for (_, l) in binds.into_iter().rev() {
                    push_lambda(work, l);
                }
            }
            Term::LetCont(k, l, body) => {
                work.push(Work::LetCont(k, l, next));
                work.push(Work::Visit(*body, next));
            }
            Term::If(c, a, b) => {
                work.push(Work::If(c));
                work.push(Work::Visit(*b, next));
                work.push(Work::Visit(*a, next));
            }
            Term::LetJoin {
                j,
                params,
                body,
                then,
            } => {
                work.push(Work::LetJoin(j, params));
                work.push(Work::Visit(*then, next));
                work.push(Work::Visit(*body, next));
            }
            other => {
                let mut fv = Free::default();
                match &other {
                    Term::App { f, k, args } => {
                        fv.atom(f);
                        fv.atom(k);
                        fv.atoms(args);
                    }
                    Term::Apply { f, k, args, list } => {
                        fv.atom(f);
                        fv.atom(k);
                        fv.atoms(args);
                        fv.atom(list);
                    }
                    Term::Cont { k, args } => {
                        if let Atom::Var(v) = k {
                            fv.all.insert(*v);
                        }
                        fv.atoms(args);
                    }
                    Term::ContApply { k, list } | Term::Suspend { k, deadline: list } => {
                        fv.atom(k);
                        fv.atom(list);
                    }
                    Term::Jump(_, args) => fv.atoms(args),
                    _ => {}
                }
                self.results.push((other, fv));
            }
        }
    }
}

/// Schedules the conversion of `l` into a function of its own.
fn push_lambda(work: &mut Vec<Work>, l: Lambda) {
    work.push(Work::Function {
        kind: l.kind,
        params: l.params,
        rest: l.rest,
        name: l.name,
    });
    work.push(Work::Visit(l.body, 0));
}

/// Rewrites `(cont k args)` into `(jump k args)`, padding or truncating the
/// values to the join point's arity (a continuation takes any number).
fn to_jumps(t: &mut Term, k: VarId, arity: usize) {
    let mut todo = vec![t];
    while let Some(t) = todo.pop() {
        match t {
            Term::Cont {
                k: Atom::Var(kk),
                args,
            } if *kk == k => {
                let mut args = std::mem::take(args);
                args.resize(arity, crate::cps::convert::UNSPEC);
                *t = Term::Jump(k, args);
            }
            t => todo.extend(t.inner_terms_mut().into_iter().flatten()),
        }
    }
}

fn print_function_with(pr: &mut Printer, f: &Function) -> String {
    let lam = Lambda {
        kind: f.kind,
        params: f.params.clone(),
        rest: f.rest,
        body: f.body.clone(),
        name: f.name.clone(),
    };
    let free: Vec<String> = f
        .free
        .iter()
        .map(|v| {
            let mut s = String::new();
            std::mem::swap(&mut pr.out, &mut s);
            pr.atom(&Atom::Var(*v));
            std::mem::swap(&mut pr.out, &mut s);
            s
        })
        .collect();
    pr.out
        .push_str(&format!("(function F{} [{}] ", f.id, free.join(" ")));
    if pr.normalized.is_some() {
        pr.out = format!("(function [{}] ", free.join(" "));
    }
    pr.lambda(&lam);
    pr.out.push(')');
    std::mem::take(&mut pr.out)
}

/// Prints every function of a program (`--dump=closure`).
pub fn print_program(p: &Program) -> String {
    let mut out = String::new();
    for f in &p.functions {
        let mut pr = Printer::new(&p.vars, &p.globals, &p.constants);
        out.push_str(&format!(";; code id {:016x}\n", f.code_id));
        out.push_str(&print_function_with(&mut pr, f));
        out.push_str("\n\n");
    }
    out
}

/// Checks every function (debug builds run this after closure conversion).
pub fn check(p: &Program) -> Result<(), String> {
    for f in &p.functions {
        let lam = Lambda {
            kind: f.kind,
            params: f.params.clone(),
            rest: f.rest,
            body: f.body.clone(),
            name: f.name.clone(),
        };
        crate::cps::check::check_lambda(&lam, true, &f.free)
            .map_err(|e| format!("function {} ({}): {e}", f.id, f.name))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expand::Expander;
    use crate::read::parse_program;

    fn convert(src: &str) -> Program {
        let forms = parse_program(0, src).expect("parses");
        let mut ex = Expander::new();
        ex.allow_internals();
        let body = ex.expand_toplevel(&forms, false).expect("expands");
        let cps = crate::cps::cps_convert(ex.finish(body), &[]);
        crate::cps::check::check_lambda(&cps.main, false, &[]).expect("CPS is well scoped");
        let p = closure_convert(cps);
        check(&p).expect("closure IR is well scoped");
        p
    }

    #[test]
    fn non_tail_if_becomes_a_join_point() {
        let p = convert("(define (g a b) (%display (if a b 0)) a)");
        let text = print_program(&p);
        assert!(text.contains("letjoin"), "{text}");
        // g and main, and no continuation closure.
        assert_eq!(p.functions.len(), 2, "{text}");
    }

    #[test]
    fn escaping_continuation_stays_a_closure() {
        let p = convert("(define (h f) (%add 1 (f 2)))");
        assert!(p.functions.iter().any(|f| f.kind == LambdaKind::Cont));
    }

    #[test]
    fn free_variables_are_captured() {
        let p = convert("(define (adder n) (lambda (x) (%add x n)))");
        let inner = p
            .functions
            .iter()
            .find(|f| f.name == "lambda")
            .expect("inner lambda");
        assert_eq!(inner.free.len(), 1);
    }

    #[test]
    fn code_ids_depend_only_on_structure() {
        let a = convert("(define (f x) (%add x 1))");
        let b = convert("(define unrelated 5) (define (f y) (%add y 1))");
        let id = |p: &Program| {
            p.functions
                .iter()
                .find(|f| f.name == "f")
                .map(|f| f.code_id)
        };
        assert_eq!(id(&a), id(&b));
        let c = convert("(define (f x) (%add x 2))");
        assert_ne!(id(&a), id(&c));
    }
}
