//! The CPS checker: run after every pass in debug builds. It verifies that
//! every variable is bound once and every use is in the scope of its
//! binding, and (after closure conversion) that no lambda remains and that
//! jumps target enclosing join points.

use super::{Atom, Lambda, Term, Value};
use crate::expand::core::VarId;
use std::collections::HashSet;

pub struct Checker {
    bound: HashSet<VarId>,
    closed: bool,
}

pub fn check_lambda(l: &Lambda, closed: bool, free: &[VarId]) -> Result<(), String> {
    let mut c = Checker {
        bound: HashSet::new(),
        closed,
    };
    let scope: Vec<VarId> = free.to_vec();
    for v in &scope {
        c.bound.insert(*v);
    }
    c.lambda(l, &mut scope.into_iter().collect(), &mut Vec::new())
}

impl Checker {
    fn bind(&mut self, v: VarId, scope: &mut HashSet<VarId>) -> Result<(), String> {
        if !self.bound.insert(v) {
            return Err(format!("variable {v} is bound twice"));
        }
        scope.insert(v);
        Ok(())
    }

    fn atom(&self, a: &Atom, scope: &HashSet<VarId>) -> Result<(), String> {
        match a {
            Atom::Var(v) if !scope.contains(v) => {
                Err(format!("variable {v} is used outside its scope"))
            }
            _ => Ok(()),
        }
    }

    fn lambda(
        &mut self,
        l: &Lambda,
        scope: &mut HashSet<VarId>,
        joins: &mut Vec<VarId>,
    ) -> Result<(), String> {
        let mut inner = scope.clone();
        for p in l.params.iter().chain(l.rest.iter()) {
            self.bind(*p, &mut inner)?;
        }
        self.term(&l.body, &mut inner, &mut Vec::new()).map(|_| {
            let _ = joins;
        })
    }

    fn term(
        &mut self,
        t: &Term,
        scope: &mut HashSet<VarId>,
        joins: &mut Vec<VarId>,
    ) -> Result<(), String> {
        let mut t = t;
        let mut scope = scope.clone();
        loop {
            match t {
                Term::Let(v, val, body) => {
                    match val {
                        Value::Atom(a) => self.atom(a, &scope)?,
                        Value::Prim(_, args) | Value::Closure(_, args) => {
                            for a in args {
                                self.atom(a, &scope)?;
                            }
                        }
                        Value::Global(_) => {}
                        Value::Lambda(l) => {
                            if self.closed {
                                return Err("a lambda remains after closure conversion".into());
                            }
                            self.lambda(l, &mut scope, joins)?;
                        }
                    }
                    self.bind(*v, &mut scope)?;
                    t = body;
                }
                Term::LetRec(binds, body) => {
                    for (v, _) in binds {
                        self.bind(*v, &mut scope)?;
                    }
                    for (_, l) in binds {
                        self.lambda(l, &mut scope, joins)?;
                    }
                    t = body;
                }
                Term::LetCont(k, l, body) => {
                    self.lambda(l, &mut scope, joins)?;
                    self.bind(*k, &mut scope)?;
                    t = body;
                }
                Term::LetRecClosures(binds, body) => {
                    for (v, _, _) in binds {
                        self.bind(*v, &mut scope)?;
                    }
                    for (_, _, free) in binds {
                        for a in free {
                            self.atom(a, &scope)?;
                        }
                    }
                    t = body;
                }
                Term::LetJoin {
                    j,
                    params,
                    body,
                    then,
                } => {
                    let mut inner = scope.clone();
                    for p in params {
                        self.bind(*p, &mut inner)?;
                    }
                    self.term(body, &mut inner, joins)?;
                    joins.push(*j);
                    self.term(then, &mut scope, joins)?;
                    joins.pop();
                    return Ok(());
                }
                Term::Jump(j, args) => {
                    if !joins.contains(j) {
                        return Err(format!("jump to {j}, which is not an enclosing join point"));
                    }
                    for a in args {
                        self.atom(a, &scope)?;
                    }
                    return Ok(());
                }
                Term::App { f, k, args } => {
                    self.atom(f, &scope)?;
                    self.atom(k, &scope)?;
                    for a in args {
                        self.atom(a, &scope)?;
                    }
                    return Ok(());
                }
                Term::Apply { f, k, args, list } => {
                    self.atom(f, &scope)?;
                    self.atom(k, &scope)?;
                    self.atom(list, &scope)?;
                    for a in args {
                        self.atom(a, &scope)?;
                    }
                    return Ok(());
                }
                Term::Cont { k, args } => {
                    self.atom(k, &scope)?;
                    for a in args {
                        self.atom(a, &scope)?;
                    }
                    return Ok(());
                }
                Term::ContApply { k, list } => {
                    self.atom(k, &scope)?;
                    return self.atom(list, &scope);
                }
                Term::Suspend { k, deadline } => {
                    self.atom(k, &scope)?;
                    return self.atom(deadline, &scope);
                }
                Term::If(c, a, b) => {
                    self.atom(c, &scope)?;
                    self.term(a, &mut scope.clone(), joins)?;
                    t = b;
                }
            }
        }
    }
}
