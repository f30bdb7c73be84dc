//! Optimisations within the CPS language.
//!
//! `propagate_copies`: `(let v a body)` where `a` is an atom is removed and
//! `v` replaced by `a` in `body`. The expander binds many such copies (`or`,
//! `cond` with `=>`, `let` of a variable), and removing them lets a test
//! stand next to the `if` that branches on it (which codegen fuses).
//!
//! `eliminate_common`: a pure primitive applied again to the same operands
//! (`(car l)` three times in a row) reuses the first result. It also folds
//! fixnum arithmetic and comparisons of constants, and takes the branch of
//! an `if` whose test is a constant (inlining makes both).
//!
//! `sink_tests`: a test moves past the continuations bound between it and
//! the `if` on its result, which codegen can then fuse.
//!
//! `inline_cont` (its own module): a small escaping continuation returned
//! to directly gets a copy of its body there.

use super::{Atom, Lambda, Term, Value};
use crate::expand::core::{VarId, VarNames};
use std::collections::HashMap;
use termite_runtime::value as rv;

/// The value of fixnum arithmetic or a comparison of two fixnum constants,
/// when it is a fixnum (an overflow is left to the run time's bignums).
fn fold_prim(p: crate::prims::Prim, args: &[Atom]) -> Option<u64> {
    let [Atom::Imm(a), Atom::Imm(b)] = args else {
        return None;
    };
    let (a, b) = (rv::Value(*a), rv::Value(*b));
    if !(a.is_fixnum() && b.is_fixnum()) {
        return None;
    }
    let (x, y) = (a.as_fixnum() as i128, b.as_fixnum() as i128);
    let n = match p.name() {
        "%add" => x + y,
        "%sub" => x - y,
        "%mul" => x * y,
        "%lt" => return Some(rv::Value::bool(x < y).0),
        "%gt" => return Some(rv::Value::bool(x > y).0),
        "%le" => return Some(rv::Value::bool(x <= y).0),
        "%ge" => return Some(rv::Value::bool(x >= y).0),
        "%num-eq" => return Some(rv::Value::bool(x == y).0),
        _ => return None,
    };
    (rv::FIXNUM_MIN as i128..=rv::FIXNUM_MAX as i128)
        .contains(&n)
        .then(|| rv::Value::fixnum(n as i64).0)
}

pub fn optimise(main: &mut Lambda, vars: &mut VarNames) {
    sink_tests(&mut main.body);
    let mut subst = HashMap::new();
    let mut todo = vec![&mut main.body];
    while let Some(t) = todo.pop() {
        propagate_copies(t, &mut subst, &mut todo);
    }
    eliminate_all_common(main);
    super::inline_cont::inline_conts(&mut main.body, vars);
    // The copies see what dominates them, and may fold.
    eliminate_all_common(main);
}

/// `eliminate_common` over the whole program.
fn eliminate_all_common(main: &mut Lambda) {
    let mut subst = HashMap::new();
    let mut avail = vec![Available::default()];
    let mut todo = vec![Task::Chain(&mut main.body)];
    while let Some(task) = todo.pop() {
        match task {
            Task::Chain(t) => {
                if let Some(top) = avail.last_mut() {
                    eliminate_common(t, top, &mut subst, &mut todo);
                }
            }
            Task::Undo(mark) => {
                if let Some(top) = avail.last_mut() {
                    top.undo(mark);
                }
            }
            Task::Enter => avail.push(Available::default()),
            Task::Leave => {
                avail.pop();
            }
        }
    }
}

/// Work of `eliminate_common`, from an explicit stack (a term nested a
/// million deep must not overflow the native stack).
enum Task<'t> {
    Chain(&'t mut Term),
    /// Forgets what a branch added.
    Undo(usize),
    /// A lambda's body starts with nothing available, and ends.
    Enter,
    Leave,
}

/// Schedules the body of a lambda, which sees nothing of what is available
/// around it.
fn lambda_body<'t>(body: &'t mut Term, todo: &mut Vec<Task<'t>>) {
    todo.push(Task::Leave);
    todo.push(Task::Chain(body));
    todo.push(Task::Enter);
}

/// Primitives whose repeated application to the same operands may share one
/// result: no effects, and no fresh object whose identity could be observed.
fn shareable(p: crate::prims::Prim) -> bool {
    matches!(
        p.name(),
        "%car"
            | "%cdr"
            | "%caar"
            | "%cadr"
            | "%cdar"
            | "%cddr"
            | "%caddr"
            | "%cdddr"
            | "%cadddr"
            | "%add"
            | "%sub"
            | "%mul"
            | "%lt"
            | "%gt"
            | "%le"
            | "%ge"
            | "%num-eq"
            | "%null?"
            | "%pair?"
            | "%eq?"
            | "%not"
            | "%vector-ref"
            | "%vector-length"
            | "%string-length"
            | "%char->integer"
            | "%symbol?"
            | "%string?"
            | "%vector?"
    )
}

type Key = (crate::prims::Prim, Vec<AtomKey>);

/// The shareable applications that dominate the current point, and the
/// order they were added in: a branch adds its own and takes them back
/// out after (copying the table at every `if` made nested ifs quadratic).
#[derive(Default)]
struct Available {
    map: HashMap<Key, VarId>,
    log: Vec<Key>,
}

impl Available {
    fn get(&self, k: &Key) -> Option<&VarId> {
        self.map.get(k)
    }

    fn insert(&mut self, k: Key, v: VarId) {
        if self.map.insert(k.clone(), v).is_none() {
            self.log.push(k);
        }
    }

    /// Forgets what was added since `mark` (a branch that sees what is
    /// available before it).
    fn undo(&mut self, mark: usize) {
        for k in self.log.drain(mark..) {
            self.map.remove(&k);
        }
    }
}

#[derive(Clone, PartialEq, Eq, Hash)]
enum AtomKey {
    Var(VarId),
    Imm(u64),
    Const(u32),
}

fn key(a: &Atom) -> AtomKey {
    match a {
        Atom::Var(v) => AtomKey::Var(*v),
        Atom::Imm(w) => AtomKey::Imm(*w),
        Atom::Const(c) => AtomKey::Const(*c),
    }
}

/// Common subexpressions: a shareable primitive applied again to the same
/// operands, where the first application dominates, reuses its result.
/// Processes a chain of terms; branches and lambda bodies are scheduled.
/// Replaces `(let v value body)` by `body` (the caller substitutes `v`).
fn splice_let(t: &mut Term) {
    if !matches!(t, Term::Let(..)) {
        return;
    }
    let placeholder = Term::Cont {
        k: Atom::Imm(0),
        args: vec![],
    };
    if let Term::Let(_, _, body) = std::mem::replace(t, placeholder) {
        *t = *body;
    }
}

fn eliminate_common<'t>(
    t: &'t mut Term,
    avail: &mut Available,
    subst: &mut HashMap<VarId, Atom>,
    todo: &mut Vec<Task<'t>>,
) {
    let mut t = t;
    loop {
        if let Term::Let(v, Value::Prim(p, args), _) = t {
            resolve_all(args, subst);
            // Fold a primitive of constant operands: (let v (%add 1 2)
            // body) => body[v := 3].
            if let Some(w) = fold_prim(*p, args) {
                subst.insert(*v, Atom::Imm(w));
                splice_let(t);
                continue;
            }
            if shareable(*p) {
                let k = (*p, args.iter().map(key).collect::<Vec<_>>());
                if let Some(prev) = avail.get(&k) {
                    subst.insert(*v, Atom::Var(*prev));
                    splice_let(t);
                    continue;
                }
                avail.insert(k, *v);
            }
        }
        // Take the branch of a test whose value is known.
        if let Term::If(c, _, _) = t {
            resolve(c, subst);
            let known = match c {
                Atom::Imm(w) => Some(*w != rv::FALSE.0),
                Atom::Const(_) => Some(true),
                Atom::Var(_) => None,
            };
            if let Some(truth) = known {
                let placeholder = Term::Cont {
                    k: *c,
                    args: vec![],
                };
                let Term::If(_, a, b) = std::mem::replace(t, placeholder) else {
                    return;
                };
                *t = if truth { *a } else { *b };
                continue;
            }
        }
        match t {
            Term::Let(_, val, body) => {
                match val {
                    Value::Atom(a) => resolve(a, subst),
                    Value::Prim(_, args) | Value::Closure(_, args) => resolve_all(args, subst),
                    Value::Global(_) => {}
                    // A lambda is another function: nothing is available in it.
                    Value::Lambda(l) => lambda_body(&mut l.body, todo),
                }
                t = body;
            }
            Term::LetRec(binds, body) => {
                for (_, l) in binds {
                    lambda_body(&mut l.body, todo);
                }
                t = body;
            }
            Term::LetCont(_, l, body) => {
                lambda_body(&mut l.body, todo);
                t = body;
            }
            Term::LetRecClosures(binds, body) => {
                for (_, _, free) in binds {
                    resolve_all(free, subst);
                }
                t = body;
            }
            Term::LetJoin { body, then, .. } => {
                todo.push(Task::Chain(then));
                todo.push(Task::Undo(avail.log.len()));
                todo.push(Task::Chain(body));
                return;
            }
            Term::If(c, a, b) => {
                resolve(c, subst);
                todo.push(Task::Chain(b));
                todo.push(Task::Undo(avail.log.len()));
                todo.push(Task::Chain(a));
                return;
            }
            Term::App { .. }
            | Term::Apply { .. }
            | Term::Cont { .. }
            | Term::ContApply { .. }
            | Term::Suspend { .. }
            | Term::Jump(..) => {
                resolve_terminal(t, subst);
                return;
            }
        }
    }
}

fn resolve(a: &mut Atom, subst: &HashMap<VarId, Atom>) {
    if let Atom::Var(v) = a
        && let Some(r) = subst.get(v)
    {
        *a = *r;
    }
}

fn resolve_all(xs: &mut [Atom], subst: &HashMap<VarId, Atom>) {
    for a in xs {
        resolve(a, subst);
    }
}

/// Resolves the atoms of a term that ends a path (a call, a return, a jump
/// or a suspension).
fn resolve_terminal(t: &mut Term, subst: &HashMap<VarId, Atom>) {
    match t {
        Term::App { f, k, args } => {
            resolve(f, subst);
            resolve(k, subst);
            resolve_all(args, subst);
        }
        Term::Apply { f, k, args, list } => {
            resolve(f, subst);
            resolve(k, subst);
            resolve(list, subst);
            resolve_all(args, subst);
        }
        Term::Cont { k, args } => {
            resolve(k, subst);
            resolve_all(args, subst);
        }
        Term::ContApply { k, list } | Term::Suspend { k, deadline: list } => {
            resolve(k, subst);
            resolve(list, subst);
        }
        Term::Jump(_, args) => resolve_all(args, subst),
        _ => {}
    }
}

/// Processes a chain of terms; branches and lambda bodies are scheduled
/// (each is in the scope of what precedes it here, already substituted).
fn propagate_copies<'t>(
    t: &'t mut Term,
    subst: &mut HashMap<VarId, Atom>,
    todo: &mut Vec<&'t mut Term>,
) {
    let mut t = t;
    loop {
        // Splice out a copy: (let v a body) => body[v := a].
        if let Term::Let(v, Value::Atom(a), _) = t {
            let mut a = *a;
            resolve(&mut a, subst);
            subst.insert(*v, a);
            splice_let(t);
            continue;
        }
        match t {
            Term::Let(_, val, body) => {
                match val {
                    Value::Atom(a) => resolve(a, subst),
                    Value::Prim(_, args) | Value::Closure(_, args) => resolve_all(args, subst),
                    Value::Global(_) => {}
                    Value::Lambda(l) => todo.push(&mut l.body),
                }
                t = body;
            }
            Term::LetRec(binds, body) => {
                for (_, l) in binds {
                    todo.push(&mut l.body);
                }
                t = body;
            }
            Term::LetCont(_, l, body) => {
                todo.push(&mut l.body);
                t = body;
            }
            Term::LetRecClosures(binds, body) => {
                for (_, _, free) in binds {
                    resolve_all(free, subst);
                }
                t = body;
            }
            Term::LetJoin { body, then, .. } => {
                todo.push(body);
                t = then;
            }
            Term::If(c, a, b) => {
                resolve(c, subst);
                todo.push(a);
                t = b;
            }
            Term::App { .. }
            | Term::Apply { .. }
            | Term::Cont { .. }
            | Term::ContApply { .. }
            | Term::Suspend { .. }
            | Term::Jump(..) => {
                resolve_terminal(t, subst);
                return;
            }
        }
    }
}

/// Moves a test (`(let t (%lt x 2) ...)`) past the continuations bound
/// between it and the `if` on its result, so that codegen branches on the
/// comparison itself instead of making a boolean: CPS conversion binds an
/// `if`'s join continuation after its test, and unrolled procedures
/// (expand/inline.rs) have such `if`s in non-tail position. Making a
/// closure has no effect that a test could observe, and every variable has
/// one binder, so nothing else changes.
fn sink_tests(body: &mut Term) {
    let mut todo = vec![body];
    while let Some(t) = todo.pop() {
        sink_test(t);
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
}

/// `sink_tests` at one term.
fn sink_test(t: &mut Term) {
    let Term::Let(v, Value::Prim(p, _), body) = t else {
        return;
    };
    if !p.is_test() {
        return;
    }
    let v = *v;
    let mut n = 0;
    let mut cur = &**body;
    while let Term::LetCont(_, l, next) = cur {
        if mentions(&l.body, v) {
            return;
        }
        n += 1;
        cur = next;
    }
    if n == 0 || !matches!(cur, Term::If(Atom::Var(c), ..) if *c == v) {
        return;
    }
    let placeholder = || Term::Cont {
        k: Atom::Imm(0),
        args: vec![],
    };
    let Term::Let(v, test, body) = std::mem::replace(t, placeholder()) else {
        return;
    };
    *t = *body;
    let mut slot = t;
    while let Term::LetCont(_, _, next) = slot {
        slot = next;
    }
    let test_if = std::mem::replace(slot, placeholder());
    *slot = Term::Let(v, test, Box::new(test_if));
}

/// Whether `v` occurs in `t` (at any depth).
pub(super) fn mentions(t: &Term, v: VarId) -> bool {
    let is = |a: &Atom| matches!(a, Atom::Var(x) if *x == v);
    let mut todo = vec![t];
    while let Some(t) = todo.pop() {
        match t {
            Term::Let(_, val, body) => {
                match val {
                    Value::Atom(a) => {
                        if is(a) {
                            return true;
                        }
                    }
                    Value::Prim(_, xs) | Value::Closure(_, xs) => {
                        if xs.iter().any(is) {
                            return true;
                        }
                    }
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
            Term::App { f, k, args } => {
                if is(f) || is(k) || args.iter().any(is) {
                    return true;
                }
            }
            Term::Apply { f, k, args, list } => {
                if is(f) || is(k) || is(list) || args.iter().any(is) {
                    return true;
                }
            }
            Term::Cont { k, args } => {
                if is(k) || args.iter().any(is) {
                    return true;
                }
            }
            Term::ContApply { k, list } => {
                if is(k) || is(list) {
                    return true;
                }
            }
            Term::If(c, a, b) => {
                if is(c) {
                    return true;
                }
                todo.push(a);
                todo.push(b);
            }
            Term::LetRecClosures(binds, body) => {
                if binds.iter().any(|(_, _, xs)| xs.iter().any(is)) {
                    return true;
                }
                todo.push(body);
            }
            Term::LetJoin { body, then, .. } => {
                todo.push(body);
                todo.push(then);
            }
            Term::Jump(_, xs) => {
                if xs.iter().any(is) {
                    return true;
                }
            }
            Term::Suspend { k, deadline } => {
                if is(k) || is(deadline) {
                    return true;
                }
            }
        }
    }
    false
}
