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

struct Conv<'a> {
    functions: Vec<Function>,
    vars: &'a VarNames,
    globals: &'a [String],
    constants: &'a [Constant],
}

pub fn closure_convert(p: crate::cps::Program) -> Program {
    let mut c = Conv {
        functions: Vec::new(),
        vars: &p.vars,
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

impl Conv<'_> {
    fn lambda(&mut self, l: Lambda) -> (FuncId, Vec<VarId>) {
        let body = self.term(l.body);
        let mut fv = BTreeSet::new();
        free_vars(&body, &mut fv);
        for p in l.params.iter().chain(l.rest.iter()) {
            fv.remove(p);
        }
        let free: Vec<VarId> = fv.into_iter().collect();
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
        self.functions.push(f);
        (id, free)
    }

    fn code_id(&self, f: &Function) -> u64 {
        let ids: Vec<u64> = self.functions.iter().map(|f| f.code_id).collect();
        let mut pr = Printer::new(self.vars, self.globals, self.constants);
        pr.normalized = Some((HashMap::new(), ids));
        let text = print_function_with(&mut pr, f);
        let digest = Sha256::digest(text.as_bytes());
        let mut id = [0u8; 8];
        id.copy_from_slice(&digest[..8]);
        u64::from_le_bytes(id)
    }

    fn term(&mut self, t: Term) -> Term {
        match t {
            Term::Let(v, Value::Lambda(l), body) => {
                let (f, free) = self.lambda(*l);
                let body = self.term(*body);
                Term::Let(
                    v,
                    Value::Closure(f, free.into_iter().map(Atom::Var).collect()),
                    Box::new(body),
                )
            }
            Term::Let(v, val, body) => Term::Let(v, val, Box::new(self.term(*body))),
            Term::LetRec(binds, body) => {
                let mut out = Vec::new();
                for (v, l) in binds {
                    let (f, free) = self.lambda(l);
                    out.push((v, f, free.into_iter().map(Atom::Var).collect()));
                }
                Term::LetRecClosures(out, Box::new(self.term(*body)))
            }
            Term::LetCont(k, l, body) => {
                let body = self.term(*body);
                if l.rest.is_none() && !escapes(&body, k) {
                    let jbody = self.term(l.body);
                    let then = to_jumps(body, k, l.params.len());
                    return Term::LetJoin {
                        j: k,
                        params: l.params,
                        body: Box::new(jbody),
                        then: Box::new(then),
                    };
                }
                let (f, free) = self.lambda(*l);
                Term::Let(
                    k,
                    Value::Closure(f, free.into_iter().map(Atom::Var).collect()),
                    Box::new(body),
                )
            }
            Term::If(c, a, b) => Term::If(c, Box::new(self.term(*a)), Box::new(self.term(*b))),
            Term::LetJoin {
                j,
                params,
                body,
                then,
            } => Term::LetJoin {
                j,
                params,
                body: Box::new(self.term(*body)),
                then: Box::new(self.term(*then)),
            },
            other => other,
        }
    }
}

/// Whether continuation `k` is used in `t` other than as the target of a
/// direct `cont` (t is closure-converted: nested functions appear only as
/// their free-variable lists).
fn escapes(t: &Term, k: VarId) -> bool {
    let is_k = |a: &Atom| *a == Atom::Var(k);
    let any = |xs: &[Atom]| xs.iter().any(is_k);
    match t {
        Term::Let(_, val, body) => {
            let here = match val {
                Value::Atom(a) => is_k(a),
                Value::Prim(_, args) | Value::Closure(_, args) => any(args),
                Value::Global(_) => false,
                Value::Lambda(_) => true,
            };
            here || escapes(body, k)
        }
        Term::LetRecClosures(binds, body) => {
            binds.iter().any(|(_, _, free)| any(free)) || escapes(body, k)
        }
        Term::LetJoin { body, then, .. } => escapes(body, k) || escapes(then, k),
        Term::Jump(_, args) => any(args),
        Term::App { f, k: kk, args } => is_k(f) || is_k(kk) || any(args),
        Term::Apply {
            f,
            k: kk,
            args,
            list,
        } => is_k(f) || is_k(kk) || any(args) || is_k(list),
        Term::Cont { k: _, args } => any(args),
        Term::ContApply { k: kk, list } => is_k(kk) || is_k(list),
        Term::Suspend { k: kk, deadline } => is_k(kk) || is_k(deadline),
        Term::If(c, a, b) => is_k(c) || escapes(a, k) || escapes(b, k),
        Term::LetRec(..) | Term::LetCont(..) => true,
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

/// Adds to `out` the variables used in closure-converted `t` but not bound in it.
pub fn free_vars(t: &Term, out: &mut BTreeSet<VarId>) {
    let mut bound = BTreeSet::new();
    let mut used = BTreeSet::new();
    collect(t, &mut bound, &mut used);
    out.extend(used.difference(&bound));
}

fn collect(t: &Term, bound: &mut BTreeSet<VarId>, used: &mut BTreeSet<VarId>) {
    let atom = |a: &Atom, used: &mut BTreeSet<VarId>| {
        if let Atom::Var(v) = a {
            used.insert(*v);
        }
    };
    match t {
        Term::Let(v, val, body) => {
            match val {
                Value::Atom(a) => atom(a, used),
                Value::Prim(_, args) | Value::Closure(_, args) => {
                    args.iter().for_each(|a| atom(a, used))
                }
                Value::Global(_) | Value::Lambda(_) => {}
            }
            bound.insert(*v);
            collect(body, bound, used);
        }
        Term::LetRecClosures(binds, body) => {
            for (v, _, free) in binds {
                bound.insert(*v);
                free.iter().for_each(|a| atom(a, used));
            }
            collect(body, bound, used);
        }
        Term::LetJoin {
            j,
            params,
            body,
            then,
        } => {
            bound.insert(*j);
            bound.extend(params.iter().copied());
            collect(body, bound, used);
            collect(then, bound, used);
        }
        Term::Jump(_, args) => args.iter().for_each(|a| atom(a, used)),
        Term::App { f, k, args } => {
            atom(f, used);
            atom(k, used);
            args.iter().for_each(|a| atom(a, used));
        }
        Term::Apply { f, k, args, list } => {
            atom(f, used);
            atom(k, used);
            atom(list, used);
            args.iter().for_each(|a| atom(a, used));
        }
        Term::Cont { k, args } => {
            atom(k, used);
            args.iter().for_each(|a| atom(a, used));
        }
        Term::ContApply { k, list } | Term::Suspend { k, deadline: list } => {
            atom(k, used);
            atom(list, used);
        }
        Term::If(c, a, b) => {
            atom(c, used);
            collect(a, bound, used);
            collect(b, bound, used);
        }
        Term::LetRec(..) | Term::LetCont(..) => {}
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
