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
    /// Terms on the path from the current function's entry.
    path: usize,
    /// The code id of each function of `functions`, in the same order.
    code_ids: Vec<u64>,
    vars: &'a mut VarNames,
    globals: &'a [String],
    constants: &'a [Constant],
}

pub fn closure_convert(mut p: crate::cps::Program) -> Program {
    let mut c = Conv {
        functions: Vec::new(),
        path: 0,
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

impl Conv<'_> {
    fn lambda(&mut self, l: Lambda) -> (FuncId, Vec<VarId>) {
        let outer = std::mem::replace(&mut self.path, 0);
        let (body, mut fv) = self.term(l.body);
        self.path = outer;
        for p in l.params.iter().chain(l.rest.iter()) {
            fv.bind(*p);
        }
        let free: Vec<VarId> = fv.all.into_iter().collect();
        let id = self.functions.len() as FuncId;
        let mut f = Function {
            id,
            name: l.name,
            kind: l.kind,
            params: l.params,
            rest: l.rest,
            free: free.clone(),
            body,
            code_id: 0,
        };
        f.code_id = self.code_id(&f);
        self.code_ids.push(f.code_id);
        self.functions.push(f);
        (id, free)
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

    fn term(&mut self, t: Term) -> (Term, Free) {
        let here = self.path;
        let nested = matches!(
            t,
            Term::Let(..) | Term::If(..) | Term::LetCont(..) | Term::LetRec(..)
        );
        if nested && here >= SPLIT_DEPTH {
            return self.split(t);
        }
        self.path = here + 1;
        let r = self.term_here(t);
        self.path = here;
        r
    }

    /// `t` as a continuation of no values of its own, called at once.
    fn split(&mut self, t: Term) -> (Term, Free) {
        let kv = self.vars.fresh("split");
        let l = Lambda {
            kind: LambdaKind::Cont,
            params: vec![],
            rest: None,
            body: t,
            name: "split".into(),
        };
        let (f, free) = self.lambda(l);
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
        (t, fv)
    }

    fn term_here(&mut self, t: Term) -> (Term, Free) {
        match t {
            Term::Let(v, Value::Lambda(l), body) => {
                let (f, free) = self.lambda(*l);
                let (body, mut fv) = self.term(*body);
                fv.bind(v);
                fv.vars(&free);
                let t = Term::Let(
                    v,
                    Value::Closure(f, free.into_iter().map(Atom::Var).collect()),
                    Box::new(body),
                );
                (t, fv)
            }
            Term::Let(v, val, body) => {
                let (body, mut fv) = self.term(*body);
                fv.bind(v);
                match &val {
                    Value::Atom(a) => fv.atom(a),
                    Value::Prim(_, args) | Value::Closure(_, args) => fv.atoms(args),
                    Value::Global(_) | Value::Lambda(_) => {}
                }
                (Term::Let(v, val, Box::new(body)), fv)
            }
            Term::LetRec(binds, body) => {
                let mut out = Vec::new();
                let mut frees = Vec::new();
                for (v, l) in binds {
                    let (f, free) = self.lambda(l);
                    frees.push(free.clone());
                    out.push((v, f, free.into_iter().map(Atom::Var).collect()));
                }
                let (body, mut fv) = self.term(*body);
                for free in &frees {
                    fv.vars(free);
                }
                for (v, _, _) in &out {
                    fv.bind(*v);
                }
                (Term::LetRecClosures(out, Box::new(body)), fv)
            }
            Term::LetCont(k, l, body) => {
                let (body, mut fv) = self.term(*body);
                if l.rest.is_none() && !fv.esc.contains(&k) {
                    let (jbody, mut fj) = self.term(l.body);
                    for p in &l.params {
                        fj.bind(*p);
                    }
                    fv.bind(k);
                    fv.union(fj);
                    let then = to_jumps(body, k, l.params.len());
                    let t = Term::LetJoin {
                        j: k,
                        params: l.params,
                        body: Box::new(jbody),
                        then: Box::new(then),
                    };
                    return (t, fv);
                }
                let (f, free) = self.lambda(*l);
                fv.bind(k);
                fv.vars(&free);
                let t = Term::Let(
                    k,
                    Value::Closure(f, free.into_iter().map(Atom::Var).collect()),
                    Box::new(body),
                );
                (t, fv)
            }
            Term::If(c, a, b) => {
                let (a, mut fa) = self.term(*a);
                let (b, fb) = self.term(*b);
                fa.union(fb);
                fa.atom(&c);
                (Term::If(c, Box::new(a), Box::new(b)), fa)
            }
            Term::LetJoin {
                j,
                params,
                body,
                then,
            } => {
                let (body, mut fb) = self.term(*body);
                for p in &params {
                    fb.bind(*p);
                }
                let (then, mut ft) = self.term(*then);
                ft.bind(j);
                ft.union(fb);
                let t = Term::LetJoin {
                    j,
                    params,
                    body: Box::new(body),
                    then: Box::new(then),
                };
                (t, ft)
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
                (other, fv)
            }
        }
    }
}

/// Rewrites `(cont k args)` into `(jump k args)`, padding or truncating the
/// values to the join point's arity (a continuation takes any number).
fn to_jumps(t: Term, k: VarId, arity: usize) -> Term {
    match t {
        Term::Cont {
            k: Atom::Var(kk),
            mut args,
        } if kk == k => {
            args.resize(arity, crate::cps::convert::UNSPEC);
            Term::Jump(k, args)
        }
        Term::Let(v, val, body) => Term::Let(v, val, Box::new(to_jumps(*body, k, arity))),
        Term::LetRecClosures(b, body) => {
            Term::LetRecClosures(b, Box::new(to_jumps(*body, k, arity)))
        }
        Term::LetJoin {
            j,
            params,
            body,
            then,
        } => Term::LetJoin {
            j,
            params,
            body: Box::new(to_jumps(*body, k, arity)),
            then: Box::new(to_jumps(*then, k, arity)),
        },
        Term::If(c, a, b) => Term::If(
            c,
            Box::new(to_jumps(*a, k, arity)),
            Box::new(to_jumps(*b, k, arity)),
        ),
        other => other,
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
