//! Inlining of small continuations at their direct returns.
//!
//! A continuation bound by `letcont` that is passed to a call (it escapes:
//! closure conversion makes it a heap closure) and also returned to
//! directly in the same function, `(if (< n 2) (cont k n) (app f k ...))`,
//! costs an allocation and an indirect jump on the direct path. Unrolled
//! recursions (expand/inline.rs) and a non-tail `if` with one simple branch
//! make this shape: in fib, `(fib 2)` allocated two frames to add 1 and 0.
//! When the continuation's body is small, each direct return in the same
//! function becomes a copy of that body (its parameters replaced by the
//! returned values, every variable it binds renamed), and the `letcont`
//! then moves into the one branch of the `if` that still uses it, so that
//! the direct path allocates nothing. A `letcont` with no escaping use is
//! left alone: closure conversion compiles it as a join block, which costs
//! less than a copy.

use super::optimise::mentions;
use super::{Atom, Lambda, Term, Value};
use crate::expand::core::{VarId, VarNames};
use std::collections::HashMap;

/// The largest continuation body copied, in terms (nested lambdas
/// included): fib's is 16.
const MAX_SIZE: usize = 24;

/// The most direct returns to one continuation that get a copy each.
const MAX_SITES: usize = 2;

pub fn inline_conts(body: &mut Term, vars: &mut VarNames) {
    let mut todo = vec![body];
    while let Some(t) = todo.pop() {
        if let Term::LetCont(k, l, body) = t {
            inline_at_returns(*k, l, body, vars);
            sink_cont(t);
        }
        push_children(t, &mut todo);
    }
}

/// Schedules every subterm of `t`, lambda bodies included.
fn push_children<'t>(t: &'t mut Term, todo: &mut Vec<&'t mut Term>) {
    match t {
        Term::Let(_, v, body) => {
            if let Value::Lambda(l) = v {
                todo.push(&mut l.body);
            }
            todo.push(body);
        }
        Term::LetRec(binds, body) => {
            todo.extend(binds.iter_mut().map(|(_, l)| &mut l.body));
            todo.push(body);
        }
        Term::LetCont(_, l, body) => {
            todo.push(&mut l.body);
            todo.push(body);
        }
        Term::If(_, a, b) => {
            todo.push(a);
            todo.push(b);
        }
        Term::LetJoin { body, then, .. } => {
            todo.push(body);
            todo.push(then);
        }
        Term::LetRecClosures(_, body) => todo.push(body),
        _ => {}
    }
}

/// The subterms of `t` in the same function (not the bodies of lambdas).
fn same_function_children(t: &Term) -> [Option<&Term>; 2] {
    match t {
        Term::Let(_, _, body) | Term::LetRec(_, body) | Term::LetCont(_, _, body) => {
            [Some(body), None]
        }
        _ => t.inner_terms(),
    }
}

/// Replaces the direct returns to `k` in `body` by copies of `l`'s body,
/// when `l` is small, `k` also escapes, and there are few such returns.
fn inline_at_returns(k: VarId, l: &Lambda, body: &mut Term, vars: &mut VarNames) {
    if l.rest.is_some() || size_within(&l.body, MAX_SIZE).is_none() {
        return;
    }
    let is_site = |t: &Term| {
        matches!(t, Term::Cont { k: Atom::Var(x), args }
            if *x == k && args.len() == l.params.len()
                && !args.iter().any(|a| matches!(a, Atom::Var(y) if *y == k)))
    };
    let mut sites = 0;
    let mut todo = vec![&*body];
    while let Some(t) = todo.pop() {
        if is_site(t) {
            sites += 1;
        }
        todo.extend(same_function_children(t).into_iter().flatten());
    }
    if sites == 0 || sites > MAX_SITES || occurrences(body, k) == sites {
        return;
    }
    let mut todo = vec![body];
    while let Some(t) = todo.pop() {
        if is_site(t) {
            let Term::Cont { args, .. } = t else {
                continue;
            };
            let mut ren: HashMap<VarId, Atom> =
                l.params.iter().copied().zip(args.clone()).collect();
            *t = copy_term(&l.body, &mut ren, vars);
            continue;
        }
        match t {
            Term::Let(_, _, body) | Term::LetRec(_, body) | Term::LetCont(_, _, body) => {
                todo.push(body)
            }
            _ => todo.extend(t.inner_terms_mut().into_iter().flatten()),
        }
    }
}

/// The number of terms in `t` (lambda bodies included), if at most `limit`.
fn size_within(t: &Term, limit: usize) -> Option<usize> {
    let mut n = 0;
    let mut todo = vec![t];
    while let Some(t) = todo.pop() {
        n += 1;
        if n > limit {
            return None;
        }
        match t {
            Term::Let(_, Value::Lambda(l), body) => {
                todo.push(&l.body);
                todo.push(body);
            }
            Term::LetRec(binds, body) => {
                todo.extend(binds.iter().map(|(_, l)| &l.body));
                todo.push(body);
            }
            Term::LetCont(_, l, body) => {
                todo.push(&l.body);
                todo.push(body);
            }
            _ => todo.extend(t.inner_terms().into_iter().flatten()),
        }
    }
    Some(n)
}

/// The number of atoms in `t` (at any depth) that are `v`.
fn occurrences(t: &Term, v: VarId) -> usize {
    let count = |xs: &[Atom]| xs.iter().filter(|a| **a == Atom::Var(v)).count();
    let mut n = 0;
    let mut todo = vec![t];
    while let Some(t) = todo.pop() {
        match t {
            Term::Let(_, val, body) => {
                match val {
                    Value::Atom(a) => n += count(std::slice::from_ref(a)),
                    Value::Prim(_, xs) | Value::Closure(_, xs) => n += count(xs),
                    Value::Global(_) => {}
                    Value::Lambda(l) => todo.push(&l.body),
                }
                todo.push(body);
            }
            Term::LetRec(binds, body) => {
                todo.extend(binds.iter().map(|(_, l)| &l.body));
                todo.push(body);
            }
            Term::LetCont(_, l, body) => {
                todo.push(&l.body);
                todo.push(body);
            }
            Term::App { f, k, args } => n += count(&[*f, *k]) + count(args),
            Term::Apply { f, k, args, list } => n += count(&[*f, *k, *list]) + count(args),
            Term::Cont { k, args } => n += count(&[*k]) + count(args),
            Term::ContApply { k, list } => n += count(&[*k, *list]),
            Term::If(c, a, b) => {
                n += count(&[*c]);
                todo.push(a);
                todo.push(b);
            }
            Term::LetRecClosures(binds, body) => {
                n += binds.iter().map(|(_, _, xs)| count(xs)).sum::<usize>();
                todo.push(body);
            }
            Term::LetJoin { body, then, .. } => {
                todo.push(body);
                todo.push(then);
            }
            Term::Jump(_, xs) => n += count(xs),
            Term::Suspend { k, deadline } => n += count(&[*k, *deadline]),
        }
    }
    n
}

/// A copy of `t` with the variables of `ren` replaced and every variable
/// bound inside renamed (each variable keeps one binder). Recursive: `t`
/// is a body of at most `MAX_SIZE` terms.
fn copy_term(t: &Term, ren: &mut HashMap<VarId, Atom>, vars: &mut VarNames) -> Term {
    let atom = |a: &Atom, ren: &HashMap<VarId, Atom>| match a {
        Atom::Var(v) => ren.get(v).copied().unwrap_or(*a),
        _ => *a,
    };
    let atoms = |xs: &[Atom], ren: &HashMap<VarId, Atom>| xs.iter().map(|a| atom(a, ren)).collect();
    match t {
        Term::Let(v, val, body) => {
            let val = match val {
                Value::Atom(a) => Value::Atom(atom(a, ren)),
                Value::Prim(p, xs) => Value::Prim(*p, atoms(xs, ren)),
                Value::Closure(f, xs) => Value::Closure(*f, atoms(xs, ren)),
                Value::Global(g) => Value::Global(*g),
                Value::Lambda(l) => Value::Lambda(Box::new(copy_lambda(l, ren, vars))),
            };
            let v = rename(*v, ren, vars);
            Term::Let(v, val, Box::new(copy_term(body, ren, vars)))
        }
        Term::LetRec(binds, body) => {
            let names: Vec<VarId> = binds.iter().map(|(v, _)| rename(*v, ren, vars)).collect();
            let binds = names
                .into_iter()
                .zip(binds)
                .map(|(v, (_, l))| (v, copy_lambda(l, ren, vars)))
                .collect();
            Term::LetRec(binds, Box::new(copy_term(body, ren, vars)))
        }
        Term::LetCont(k, l, body) => {
            let l = copy_lambda(l, ren, vars);
            let k = rename(*k, ren, vars);
            Term::LetCont(k, Box::new(l), Box::new(copy_term(body, ren, vars)))
        }
        Term::App { f, k, args } => Term::App {
            f: atom(f, ren),
            k: atom(k, ren),
            args: atoms(args, ren),
        },
        Term::Apply { f, k, args, list } => Term::Apply {
            f: atom(f, ren),
            k: atom(k, ren),
            args: atoms(args, ren),
            list: atom(list, ren),
        },
        Term::Cont { k, args } => Term::Cont {
            k: atom(k, ren),
            args: atoms(args, ren),
        },
        Term::ContApply { k, list } => Term::ContApply {
            k: atom(k, ren),
            list: atom(list, ren),
        },
        Term::If(c, a, b) => Term::If(
            atom(c, ren),
            Box::new(copy_term(a, ren, vars)),
            Box::new(copy_term(b, ren, vars)),
        ),
        Term::LetRecClosures(binds, body) => {
            let names: Vec<VarId> = binds.iter().map(|(v, ..)| rename(*v, ren, vars)).collect();
            let binds = names
                .into_iter()
                .zip(binds)
                .map(|(v, (_, f, xs))| (v, *f, atoms(xs, ren)))
                .collect();
            Term::LetRecClosures(binds, Box::new(copy_term(body, ren, vars)))
        }
        Term::LetJoin {
            j,
            params,
            body,
            then,
        } => {
            let j = rename(*j, ren, vars);
            let params = params.iter().map(|p| rename(*p, ren, vars)).collect();
            Term::LetJoin {
                j,
                params,
                body: Box::new(copy_term(body, ren, vars)),
                then: Box::new(copy_term(then, ren, vars)),
            }
        }
        Term::Jump(j, xs) => {
            let j = match ren.get(j) {
                Some(Atom::Var(x)) => *x,
                _ => *j,
            };
            Term::Jump(j, atoms(xs, ren))
        }
        Term::Suspend { k, deadline } => Term::Suspend {
            k: atom(k, ren),
            deadline: atom(deadline, ren),
        },
    }
}

fn copy_lambda(l: &Lambda, ren: &mut HashMap<VarId, Atom>, vars: &mut VarNames) -> Lambda {
    let params = l.params.iter().map(|p| rename(*p, ren, vars)).collect();
    let rest = l.rest.map(|r| rename(r, ren, vars));
    Lambda {
        kind: l.kind,
        params,
        rest,
        body: copy_term(&l.body, ren, vars),
        name: l.name.clone(),
    }
}

/// A fresh variable for the binder `v` of a copy, recorded in `ren`.
fn rename(v: VarId, ren: &mut HashMap<VarId, Atom>, vars: &mut VarNames) -> VarId {
    let base = vars.0.get(v as usize).cloned().unwrap_or_default();
    let x = vars.fresh(&base);
    ren.insert(v, Atom::Var(x));
    x
}

/// Moves the `letcont` at `t` down its chain of bindings and into the one
/// branch of the `if` that ends the chain and still uses it (or drops it
/// when nothing does), as far as it goes.
fn sink_cont(mut t: &mut Term) {
    loop {
        let Term::LetCont(k, _, body) = &*t else {
            return;
        };
        let k = *k;
        if !mentions(body, k) {
            let placeholder = Term::Cont {
                k: Atom::Imm(0),
                args: vec![],
            };
            if let Term::LetCont(_, _, body) = std::mem::replace(t, placeholder) {
                *t = *body;
            }
            return;
        }
        let mut cur = &**body;
        let mut depth = 0;
        loop {
            match cur {
                Term::Let(_, val, next) if !value_mentions(val, k) => cur = next,
                Term::LetCont(_, l, next) if !mentions(&l.body, k) => cur = next,
                _ => break,
            }
            depth += 1;
        }
        let Term::If(c, a, b) = cur else {
            return;
        };
        if *c == Atom::Var(k) {
            return;
        }
        let into_then = match (mentions(a, k), mentions(b, k)) {
            (true, false) => true,
            (false, true) => false,
            _ => return,
        };
        let placeholder = || Term::Cont {
            k: Atom::Imm(0),
            args: vec![],
        };
        let Term::LetCont(k, l, body) = std::mem::replace(t, placeholder()) else {
            return;
        };
        *t = *body;
        // The chain measured above: `depth` bindings, then the `if`.
        let mut slot = t;
        for _ in 0..depth {
            if let Term::Let(_, _, next) | Term::LetCont(_, _, next) = slot {
                slot = next;
            }
        }
        let branch = match slot {
            Term::If(_, a, b) => {
                if into_then {
                    a
                } else {
                    b
                }
            }
            // Not reached (the chain ends at its `if`); binding `k` here
            // is still sound.
            _ => {
                let inner = std::mem::replace(slot, placeholder());
                *slot = Term::LetCont(k, l, Box::new(inner));
                return;
            }
        };
        let inner = std::mem::replace(&mut **branch, placeholder());
        **branch = Term::LetCont(k, l, Box::new(inner));
        t = &mut **branch;
    }
}

fn value_mentions(val: &Value, k: VarId) -> bool {
    let is = |a: &Atom| *a == Atom::Var(k);
    match val {
        Value::Atom(a) => is(a),
        Value::Prim(_, xs) | Value::Closure(_, xs) => xs.iter().any(is),
        Value::Global(_) => false,
        Value::Lambda(l) => mentions(&l.body, k),
    }
}
