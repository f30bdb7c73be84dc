//! Inlining of small global procedures, on Core.
//!
//! A global defined exactly once, at top level, by a `lambda` of fixed
//! arity whose body is small, simple (no `lambda`, no control operator)
//! and does not name the global itself, has its body substituted at every
//! call of it with that many arguments: `(g a b)` becomes `(let ((x' a)
//! (y' b)) body')`, the parameters and the body's own `let` variables
//! renamed so that every variable keeps exactly one binder. A record
//! accessor or a predicate such as `(define (zero? x) (%num-eq x 0))` then
//! costs no call, and no continuation frame for a non-tail call.
//!
//! A call with another number of arguments stays a call (it raises the
//! arity error at run time). A round substitutes the definitions as they
//! stand and does not look into what it substituted; the next round does,
//! and there are `ROUNDS` of them, so inlining cascades a bounded number of
//! levels and ends (a candidate's body has at most `MAX_BODY` nodes). Like the codegen's
//! known procedures, this takes a global's one definition for its value
//! everywhere in the program: a global is never assigned, and every node
//! running the program has the same definitions.

use super::core::{Core, Lambda, Program, VarId};
use std::collections::HashMap;

/// The largest body inlined, in Core nodes.
const MAX_BODY: usize = 16;

/// Rounds of substitution: a body copied in one round is looked at in the
/// next, so an accessor called by an inlined procedure is inlined too.
const ROUNDS: usize = 3;

pub fn inline_small_globals(p: &mut Program) {
    let mut defs: HashMap<String, usize> = HashMap::new();
    let mut stack: Vec<&Core> = p.body.iter().collect();
    while let Some(c) = stack.pop() {
        if let Core::Define(name, _) = c {
            *defs.entry(name.clone()).or_default() += 1;
        }
        stack.extend(c.children());
    }
    for _ in 0..ROUNDS {
        if inline_round(p, &defs) == 0 {
            break;
        }
    }
}

/// One round: the candidates as the program now defines them, substituted
/// at their calls. Returns how many calls were replaced.
fn inline_round(p: &mut Program, defs: &HashMap<String, usize>) -> usize {
    let mut candidates: HashMap<String, Lambda> = HashMap::new();
    let mut top: Vec<&Core> = p.body.iter().collect();
    while let Some(c) = top.pop() {
        match c {
            Core::Seq(items) => top.extend(items),
            Core::Define(name, v) => {
                if let Core::Lambda(l) = &**v
                    && defs.get(name) == Some(&1)
                    && inlinable(name, l)
                {
                    candidates.insert(name.clone(), (**l).clone());
                }
            }
            _ => {}
        }
    }
    if candidates.is_empty() {
        return 0;
    }
    let mut inliner = Inliner {
        candidates: &candidates,
        vars: &mut p.vars,
        replaced: 0,
    };
    for form in &mut p.body {
        inliner.walk(form);
    }
    inliner.replaced
}

/// Whether `l`, the definition of `name`, is small and simple enough.
fn inlinable(name: &str, l: &Lambda) -> bool {
    if l.rest.is_some() {
        return false;
    }
    let mut size = 0;
    let mut stack = vec![&l.body];
    while let Some(c) = stack.pop() {
        size += 1;
        if size > MAX_BODY {
            return false;
        }
        match c {
            Core::Global(g, _) if g == name => return false,
            Core::Const(_)
            | Core::Local(_)
            | Core::Global(..)
            | Core::If(..)
            | Core::Call(..)
            | Core::Prim(..)
            | Core::Seq(_)
            | Core::Let(..) => stack.extend(c.children()),
            _ => return false,
        }
    }
    true
}

struct Inliner<'a> {
    // The candidates' bodies are small: copying one recurses at most
    // `MAX_BODY` deep.
    candidates: &'a HashMap<String, Lambda>,
    vars: &'a mut super::core::VarNames,
    replaced: usize,
}

impl Inliner<'_> {
    /// Replaces the calls of candidates in `c` and below, from a work
    /// stack: Core built by loops (a quasiquoted list, the clauses of a
    /// `case`) nests deeper than its source.
    fn walk(&mut self, c: &mut Core) {
        let candidates = self.candidates;
        let mut todo = vec![c];
        while let Some(c) = todo.pop() {
            if let Core::Call(f, args, _) = c
                && let Core::Global(g, _) = &**f
                && let Some(l) = candidates.get(g)
                && l.params.len() == args.len()
            {
                let args = std::mem::take(args);
                let mut renames = HashMap::new();
                let binds = l
                    .params
                    .iter()
                    .zip(args)
                    .map(|(p, a)| (self.rename(&mut renames, *p), a))
                    .collect();
                let body = self.copy(&l.body, &mut renames);
                *c = Core::Let(binds, Box::new(body));
                self.replaced += 1;
                // The arguments may call candidates; the body copied waits
                // for the next round.
                if let Core::Let(binds, _) = c {
                    todo.extend(binds.iter_mut().map(|(_, a)| a));
                }
                continue;
            }
            match c {
                Core::Const(_) | Core::Local(_) | Core::Global(..) => {}
                Core::Define(_, v) | Core::CallCC(v) | Core::Suspend(v) => todo.push(v),
                Core::Lambda(l) => todo.push(&mut l.body),
                Core::If(a, b, d) => todo.extend([&mut **a, &mut **b, &mut **d]),
                Core::Call(f, args, _) => {
                    todo.push(f);
                    todo.extend(args.iter_mut());
                }
                Core::Prim(_, args, _) | Core::Seq(args) | Core::Values(args) => {
                    todo.extend(args.iter_mut());
                }
                Core::Let(binds, body) => {
                    todo.extend(binds.iter_mut().map(|(_, v)| v));
                    todo.push(body);
                }
                Core::Letrec(binds, body) => {
                    todo.extend(binds.iter_mut().map(|(_, l)| &mut l.body));
                    todo.push(body);
                }
                Core::Apply(a, b) | Core::CallWithValues(a, b) => {
                    todo.extend([&mut **a, &mut **b]);
                }
            }
        }
    }

    fn rename(&mut self, renames: &mut HashMap<VarId, VarId>, v: VarId) -> VarId {
        let name = self.vars.0.get(v as usize).cloned().unwrap_or_default();
        let fresh = self.vars.fresh(&name);
        renames.insert(v, fresh);
        fresh
    }

    /// A copy of an inlinable body with its variables renamed.
    fn copy(&mut self, c: &Core, renames: &mut HashMap<VarId, VarId>) -> Core {
        match c {
            Core::Local(v) => Core::Local(*renames.get(v).unwrap_or(v)),
            Core::If(a, b, d) => Core::if_(
                self.copy(a, renames),
                self.copy(b, renames),
                self.copy(d, renames),
            ),
            Core::Call(f, args, span) => Core::Call(
                Box::new(self.copy(f, renames)),
                args.iter().map(|a| self.copy(a, renames)).collect(),
                *span,
            ),
            Core::Prim(p, args, span) => Core::Prim(
                *p,
                args.iter().map(|a| self.copy(a, renames)).collect(),
                *span,
            ),
            Core::Seq(items) => Core::Seq(items.iter().map(|a| self.copy(a, renames)).collect()),
            Core::Let(binds, body) => {
                // The inits first: they are outside the new variables' scope.
                let inits: Vec<Core> = binds.iter().map(|(_, v)| self.copy(v, renames)).collect();
                let binds = binds
                    .iter()
                    .zip(inits)
                    .map(|((v, _), init)| (self.rename(renames, *v), init))
                    .collect();
                Core::Let(binds, Box::new(self.copy(body, renames)))
            }
            // `inlinable` admits nothing else.
            other => other.clone(),
        }
    }
}
