//! Patterns of `match` and `recv`, compiled to Core tests and bindings.
//!
//! ```text
//! pattern ::= _ | symbol | 'datum | ,variable | literal
//!           | (pattern ... [. pattern]) | #(pattern ...)
//! clause  ::= (pattern [(where guard)] body ...)
//! ```
//! A symbol binds (a symbol seen twice must match `equal?` values); `,x`
//! matches the value of `x` in scope.

use super::core::{Core, Lambda, VarId};
use super::{Binding, Env, Expander, R, child, err};
use crate::prims::Prim;
use crate::read::{Datum, DatumKind, Span};

enum Step {
    Check(Core),
    Let(VarId, Core),
}

fn prim(name: &str, args: Vec<Core>, span: Span) -> R<Core> {
    match Prim::by_name(name) {
        Some(p) => Ok(Core::Prim(p, args, span)),
        None => err(span, format!("internal: primitive {name} missing")),
    }
}

impl Expander {
    fn compile_pattern(
        &mut self,
        pat: &Datum,
        v: VarId,
        env: &Env,
        scope: &Env,
        steps: &mut Vec<Step>,
    ) -> R<()> {
        let span = pat.span;
        match &pat.kind {
            DatumKind::Sym(s) if s == "_" => Ok(()),
            DatumKind::Sym(s) => {
                let existing = scope.vars.borrow().get(s).cloned();
                match existing {
                    Some(Binding::Local(prev)) => {
                        steps.push(Step::Check(prim(
                            "%equal?",
                            vec![Core::Local(v), Core::Local(prev)],
                            span,
                        )?));
                    }
                    _ => {
                        self.bind(scope, s.clone(), Binding::Local(v));
                    }
                }
                Ok(())
            }
            DatumKind::List(items, None)
                if items.len() == 2 && self.is_keyword(&items[0], "quote") =>
            {
                let c = Core::Const(self.constant(&items[1]));
                steps.push(Step::Check(prim("%equal?", vec![Core::Local(v), c], span)?));
                Ok(())
            }
            DatumKind::List(items, None)
                if items.len() == 2 && self.is_keyword(&items[0], "unquote") =>
            {
                let x = self.expand(&items[1], env)?;
                steps.push(Step::Check(prim("%equal?", vec![Core::Local(v), x], span)?));
                Ok(())
            }
            DatumKind::List(items, tail) => {
                let mut cur = v;
                for item in items {
                    steps.push(Step::Check(prim("%pair?", vec![Core::Local(cur)], span)?));
                    let a = self.vars.fresh("car");
                    steps.push(Step::Let(a, prim("%car", vec![Core::Local(cur)], span)?));
                    let d = self.vars.fresh("cdr");
                    steps.push(Step::Let(d, prim("%cdr", vec![Core::Local(cur)], span)?));
                    self.compile_pattern(item, a, env, scope, steps)?;
                    cur = d;
                }
                match tail {
                    Some(t) => self.compile_pattern(t, cur, env, scope, steps),
                    None => {
                        steps.push(Step::Check(prim("%null?", vec![Core::Local(cur)], span)?));
                        Ok(())
                    }
                }
            }
            DatumKind::Vector(items) => {
                steps.push(Step::Check(prim("%vector?", vec![Core::Local(v)], span)?));
                let n = Core::Const(termite_runtime::program::Constant::Int(items.len() as i64));
                let len = prim("%vector-length", vec![Core::Local(v)], span)?;
                steps.push(Step::Check(prim("%num-eq", vec![len, n], span)?));
                for (i, item) in items.iter().enumerate() {
                    let e = self.vars.fresh("elt");
                    let idx = Core::Const(termite_runtime::program::Constant::Int(i as i64));
                    steps.push(Step::Let(
                        e,
                        prim("%vector-ref", vec![Core::Local(v), idx], span)?,
                    ));
                    self.compile_pattern(item, e, env, scope, steps)?;
                }
                Ok(())
            }
            _ => {
                let c = Core::Const(self.constant(pat));
                steps.push(Step::Check(prim("%equal?", vec![Core::Local(v), c], span)?));
                Ok(())
            }
        }
    }

    /// Compiles one clause against the value in `v`: its body on success (a
    /// thunk of it when `thunk_body`), the call `fail` otherwise.
    fn clause(
        &mut self,
        clause: &Datum,
        v: VarId,
        env: &Env,
        fail: Core,
        thunk_body: bool,
    ) -> R<Core> {
        let Some(parts) = clause.list().filter(|c| !c.is_empty()) else {
            return err(
                clause.span,
                "bad syntax: a clause is (pattern [(where guard)] body ...)",
            );
        };
        let scope = child(env);
        let mut steps = Vec::new();
        self.compile_pattern(&parts[0], v, env, &scope, &mut steps)?;
        let mut body_at = 1;
        let mut guard = None;
        if let Some(g) = parts.get(1).and_then(|g| g.list())
            && g.len() == 2
            && self.is_keyword(&g[0], "where")
        {
            guard = Some(self.expand(&g[1], &scope)?);
            body_at = 2;
        }
        if parts.len() <= body_at {
            return err(
                clause.span,
                "bad syntax: a clause needs a body after its pattern",
            );
        }
        let body = if thunk_body {
            let empty = Datum {
                kind: DatumKind::List(vec![], None),
                span: clause.span,
            };
            Core::Lambda(Box::new(self.lambda(
                &empty,
                &parts[body_at..],
                &scope,
                "recv-clause",
                clause.span,
            )?))
        } else {
            self.expand_body(&parts[body_at..], &scope, clause.span)?
        };
        // The failure path is shared through a thunk so it is not copied.
        let fk = self.vars.fresh("fail");
        let fail_call = Core::Call(Box::new(Core::Local(fk)), vec![], clause.span);
        let mut acc = match guard {
            Some(g) => Core::if_(g, body, fail_call.clone()),
            None => body,
        };
        for step in steps.into_iter().rev() {
            acc = match step {
                Step::Check(test) => Core::if_(test, acc, fail_call.clone()),
                Step::Let(x, init) => Core::Let(vec![(x, init)], Box::new(acc)),
            };
        }
        let fail_thunk = Lambda {
            params: vec![],
            rest: None,
            body: fail,
            name: "match-fail".into(),
            span: clause.span,
        };
        Ok(Core::Letrec(vec![(fk, fail_thunk)], Box::new(acc)))
    }

    pub(super) fn match_clause(
        &mut self,
        clause: &Datum,
        v: VarId,
        env: &Env,
        fail: Core,
    ) -> R<Core> {
        self.clause(clause, v, env, fail, false)
    }

    pub(super) fn recv_clause(
        &mut self,
        clause: &Datum,
        v: VarId,
        env: &Env,
        fail: Core,
    ) -> R<Core> {
        self.clause(clause, v, env, fail, true)
    }
}
