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
//!
//! Then a small procedure that calls itself other than in tail position
//! (fib, tak, a non-tail `sum`) is **unrolled once**: each call of it in
//! its own body gets a copy of that body, whose own calls stay calls. Half
//! the calls and continuation frames of a recursion then disappear
//! (benches `fib`: 2.42 → 2.10 s by hand), as Gambit does by inlining a
//! procedure into itself. A procedure whose self calls are all tail calls
//! is left alone: those are jumps already (codegen, "Self calls are
//! jumps"). So is one that calls other procedures (takl's `mas` calls
//! `shorterp`): the copies' calls of them need continuation frames that
//! hold the variables of both copies, and `takl` ran 8 % slower.

use super::core::{Core, Lambda, Program, VarId};
use std::collections::HashMap;

/// The largest body inlined, in Core nodes.
const MAX_BODY: usize = 16;

/// The largest body unrolled into itself, in Core nodes (tak's is 27).
const MAX_UNROLLED_BODY: usize = 40;

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
    unroll_self_calls(p, &defs);
}

/// Unrolls each small procedure that makes a non-tail call of itself once
/// into its own body.
fn unroll_self_calls(p: &mut Program, defs: &HashMap<String, usize>) {
    let Program { body, vars } = p;
    let mut top: Vec<&mut Core> = body.iter_mut().collect();
    while let Some(c) = top.pop() {
        match c {
            Core::Seq(items) => top.extend(items.iter_mut()),
            Core::Define(name, v) => {
                if let Core::Lambda(l) = &mut **v
                    && defs.get(name.as_str()) == Some(&1)
                    && simple(None, l, MAX_UNROLLED_BODY)
                    && unrollable_recursion(name, &l.body)
                {
                    let candidates = HashMap::from([(name.clone(), (**l).clone())]);
                    let mut inliner = Inliner {
                        candidates: &candidates,
                        vars,
                        replaced: 0,
                    };
                    inliner.walk(&mut l.body);
                }
            }
            _ => {}
        }
    }
}

/// Whether `body` (simple: `simple` admitted it) calls `name` other than in
/// tail position, and calls nothing else.
fn unrollable_recursion(name: &str, body: &Core) -> bool {
    let mut non_tail = false;
    let mut stack = vec![(body, true)];
    while let Some((c, tail)) = stack.pop() {
        match c {
            Core::Call(f, args, _) => {
                if !matches!(&**f, Core::Global(g, _) if g == name) {
                    return false;
                }
                non_tail |= !tail;
                stack.extend(args.iter().map(|a| (a, false)));
            }
            Core::If(a, b, d) => stack.extend([(&**a, false), (&**b, tail), (&**d, tail)]),
            Core::Seq(items) => {
                if let Some((last, init)) = items.split_last() {
                    stack.push((last, tail));
                    stack.extend(init.iter().map(|a| (a, false)));
                }
            }
            Core::Let(binds, b) => {
                stack.push((b, tail));
                stack.extend(binds.iter().map(|(_, a)| (a, false)));
            }
            other => stack.extend(other.children().into_iter().map(|a| (a, false))),
        }
    }
    non_tail
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
                    && simple(Some(name), l, MAX_BODY)
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

/// Whether `l` is of fixed arity, has a body of at most `max` nodes and
/// nothing in it but what `Inliner::copy` copies, and does not name
/// `not_named` (a procedure inlined elsewhere must not name itself).
fn simple(not_named: Option<&str>, l: &Lambda, max: usize) -> bool {
    if l.rest.is_some() {
        return false;
    }
    let mut size = 0;
    let mut stack = vec![&l.body];
    while let Some(c) = stack.pop() {
        size += 1;
        if size > max {
            return false;
        }
        match c {
            Core::Global(g, _) if Some(g.as_str()) == not_named => return false,
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
    // `MAX_UNROLLED_BODY` deep.
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
