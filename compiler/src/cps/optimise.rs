//! Optimisations within the CPS language.
//!
//! `propagate_copies`: `(let v a body)` where `a` is an atom is removed and
//! `v` replaced by `a` in `body`. The expander binds many such copies (`or`,
//! `cond` with `=>`, `let` of a variable), and removing them lets a test
//! stand next to the `if` that branches on it (which codegen fuses).
//!
//! `eliminate_common`: a pure primitive applied again to the same operands
//! (`(car l)` three times in a row) reuses the first result.

use super::{Atom, Lambda, Term, Value};
use crate::expand::core::VarId;
use std::collections::HashMap;

pub fn optimise(main: &mut Lambda) {
    let mut subst = HashMap::new();
    propagate_copies(&mut main.body, &mut subst);
    let mut subst = HashMap::new();
    eliminate_common(&mut main.body, &mut Available::default(), &mut subst);
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

    /// Processes a branch that sees what is available here, and forgets
    /// what the branch added.
    fn branch(&mut self, f: impl FnOnce(&mut Available)) {
        let mark = self.log.len();
        f(self);
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
fn eliminate_common(t: &mut Term, avail: &mut Available, subst: &mut HashMap<VarId, Atom>) {
    let mut t = t;
    loop {
        if let Term::Let(v, Value::Prim(p, args), _) = t {
            resolve_all(args, subst);
            if shareable(*p) {
                let k = (*p, args.iter().map(key).collect::<Vec<_>>());
                if let Some(prev) = avail.get(&k) {
                    subst.insert(*v, Atom::Var(*prev));
                    let Term::Let(_, _, body) = std::mem::replace(
                        t,
                        Term::Cont {
                            k: Atom::Imm(0),
                            args: vec![],
                        },
                    ) else {
                        return;
                    };
                    *t = *body;
                    continue;
                }
                avail.insert(k, *v);
            }
        }
        match t {
            Term::Let(_, val, body) => {
                match val {
                    Value::Atom(a) => resolve(a, subst),
                    Value::Prim(_, args) | Value::Closure(_, args) => resolve_all(args, subst),
                    Value::Global(_) => {}
                    // A lambda is another function: nothing is available in it.
                    Value::Lambda(l) => {
                        eliminate_common(&mut l.body, &mut Available::default(), subst)
                    }
                }
                t = body;
            }
            Term::LetRec(binds, body) => {
                for (_, l) in binds {
                    eliminate_common(&mut l.body, &mut Available::default(), subst);
                }
                t = body;
            }
            Term::LetCont(_, l, body) => {
                eliminate_common(&mut l.body, &mut Available::default(), subst);
                t = body;
            }
            Term::LetRecClosures(binds, body) => {
                for (_, _, free) in binds {
                    resolve_all(free, subst);
                }
                t = body;
            }
            Term::LetJoin { body, then, .. } => {
                avail.branch(|avail| eliminate_common(body, avail, subst));
                t = then;
            }
            Term::If(c, a, b) => {
                resolve(c, subst);
                avail.branch(|avail| eliminate_common(a, avail, subst));
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

fn propagate_copies(t: &mut Term, subst: &mut HashMap<VarId, Atom>) {
    // Iterate down chains of lets; recurse into branches and lambdas.
    let mut t = t;
    loop {
        // Splice out a copy: (let v a body) => body[v := a].
        if let Term::Let(v, Value::Atom(a), _) = t {
            let mut a = *a;
            resolve(&mut a, subst);
            subst.insert(*v, a);
            let Term::Let(_, _, body) = std::mem::replace(t, Term::Cont { k: a, args: vec![] })
            else {
                return;
            };
            *t = *body;
            continue;
        }
        match t {
            Term::Let(_, val, body) => {
                match val {
                    Value::Atom(a) => resolve(a, subst),
                    Value::Prim(_, args) | Value::Closure(_, args) => resolve_all(args, subst),
                    Value::Global(_) => {}
                    Value::Lambda(l) => propagate_copies(&mut l.body, subst),
                }
                t = body;
            }
            Term::LetRec(binds, body) => {
                for (_, l) in binds {
                    propagate_copies(&mut l.body, subst);
                }
                t = body;
            }
            Term::LetCont(_, l, body) => {
                propagate_copies(&mut l.body, subst);
                t = body;
            }
            Term::LetRecClosures(binds, body) => {
                for (_, _, free) in binds {
                    resolve_all(free, subst);
                }
                t = body;
            }
            Term::LetJoin { body, then, .. } => {
                propagate_copies(body, subst);
                t = then;
            }
            Term::If(c, a, b) => {
                resolve(c, subst);
                propagate_copies(a, subst);
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
