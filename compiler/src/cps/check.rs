//! The CPS checker: run after every pass in debug builds. It verifies that
//! every variable is bound once and every use is in the scope of its
//! binding, and (after closure conversion) that no lambda remains and that
//! jumps target enclosing join points.
//!
//! It works from an explicit stack, and the scope is one set with an undo
//! log (a term nested a million deep neither overflows the native stack
//! nor copies the scope at every level).

use super::{Atom, Lambda, Term, Value};
use crate::expand::core::VarId;
use std::collections::HashSet;

struct Checker {
    bound: HashSet<VarId>,
    closed: bool,
    scope: HashSet<VarId>,
    /// The variables of `scope` in the order they were added.
    log: Vec<VarId>,
    /// The join points that may be jumped to here.
    joins: Vec<VarId>,
}

enum Task<'t> {
    Term(&'t Term),
    Lambda(&'t Lambda),
    /// Binds the variables, then checks the term.
    Bind(&'t [VarId], &'t Term),
    /// Takes the variables added since the mark back out of the scope.
    Undo(usize),
    PushJoin(VarId),
    PopJoin,
    /// Restores the join points of the enclosing function.
    Joins(Vec<VarId>),
}

pub fn check_lambda(l: &Lambda, closed: bool, free: &[VarId]) -> Result<(), String> {
    let mut c = Checker {
        bound: HashSet::new(),
        closed,
        scope: HashSet::new(),
        log: Vec::new(),
        joins: Vec::new(),
    };
    for v in free {
        c.bound.insert(*v);
        c.scope.insert(*v);
    }
    c.run(Task::Lambda(l))
}

impl Checker {
    fn bind(&mut self, v: VarId) -> Result<(), String> {
        if !self.bound.insert(v) {
            return Err(format!("variable {v} is bound twice"));
        }
        self.scope.insert(v);
        self.log.push(v);
        Ok(())
    }

    fn atom(&self, a: &Atom) -> Result<(), String> {
        match a {
            Atom::Var(v) if !self.scope.contains(v) => {
                Err(format!("variable {v} is used outside its scope"))
            }
            _ => Ok(()),
        }
    }

    fn atoms(&self, xs: &[Atom]) -> Result<(), String> {
        xs.iter().try_for_each(|a| self.atom(a))
    }

    fn run<'t>(&mut self, first: Task<'t>) -> Result<(), String> {
        let mut todo = vec![first];
        while let Some(task) = todo.pop() {
            match task {
                Task::Term(t) => self.term(t, &mut todo)?,
                Task::Lambda(l) => {
                    for p in l.params.iter().chain(l.rest.iter()) {
                        self.bind(*p)?;
                    }
                    // A jump never leaves its function.
                    todo.push(Task::Joins(std::mem::take(&mut self.joins)));
                    todo.push(Task::Term(&l.body));
                }
                Task::Bind(vs, t) => {
                    for v in vs {
                        self.bind(*v)?;
                    }
                    todo.push(Task::Term(t));
                }
                Task::Undo(mark) => {
                    for v in self.log.drain(mark..) {
                        self.scope.remove(&v);
                    }
                }
                Task::PushJoin(j) => self.joins.push(j),
                Task::PopJoin => {
                    self.joins.pop();
                }
                Task::Joins(js) => self.joins = js,
            }
        }
        Ok(())
    }

    /// Checks a chain of terms; what has a scope of its own is scheduled,
    /// each part followed by the undoing of its bindings.
    fn term<'t>(&mut self, t: &'t Term, todo: &mut Vec<Task<'t>>) -> Result<(), String> {
        let mut t = t;
        loop {
            match t {
                Term::Let(v, val, body) => {
                    match val {
                        Value::Atom(a) => self.atom(a)?,
                        Value::Prim(_, args) | Value::Closure(_, args) => self.atoms(args)?,
                        Value::Global(_) => {}
                        Value::Lambda(l) => {
                            if self.closed {
                                return Err("a lambda remains after closure conversion".into());
                            }
                            todo.push(Task::Bind(std::slice::from_ref(v), body));
                            todo.push(Task::Undo(self.log.len()));
                            todo.push(Task::Lambda(l));
                            return Ok(());
                        }
                    }
                    self.bind(*v)?;
                    t = body;
                }
                Term::LetRec(binds, body) => {
                    for (v, _) in binds {
                        self.bind(*v)?;
                    }
                    todo.push(Task::Term(body));
                    for (_, l) in binds.iter().rev() {
                        todo.push(Task::Undo(self.log.len()));
                        todo.push(Task::Lambda(l));
                    }
                    return Ok(());
                }
                Term::LetCont(k, l, body) => {
                    todo.push(Task::Bind(std::slice::from_ref(k), body));
                    todo.push(Task::Undo(self.log.len()));
                    todo.push(Task::Lambda(l));
                    return Ok(());
                }
                Term::LetRecClosures(binds, body) => {
                    for (v, _, _) in binds {
                        self.bind(*v)?;
                    }
                    for (_, _, free) in binds {
                        self.atoms(free)?;
                    }
                    t = body;
                }
                Term::LetJoin {
                    j,
                    params,
                    body,
                    then,
                } => {
                    todo.push(Task::PopJoin);
                    todo.push(Task::Term(then));
                    todo.push(Task::PushJoin(*j));
                    todo.push(Task::Undo(self.log.len()));
                    todo.push(Task::Bind(params, body));
                    return Ok(());
                }
                Term::Jump(j, args) => {
                    if !self.joins.contains(j) {
                        return Err(format!("jump to {j}, which is not an enclosing join point"));
                    }
                    return self.atoms(args);
                }
                Term::App { f, k, args } => {
                    self.atom(f)?;
                    self.atom(k)?;
                    return self.atoms(args);
                }
                Term::Apply { f, k, args, list } => {
                    self.atom(f)?;
                    self.atom(k)?;
                    self.atom(list)?;
                    return self.atoms(args);
                }
                Term::Cont { k, args } => {
                    self.atom(k)?;
                    return self.atoms(args);
                }
                Term::ContApply { k, list } => {
                    self.atom(k)?;
                    return self.atom(list);
                }
                Term::Suspend { k, deadline } => {
                    self.atom(k)?;
                    return self.atom(deadline);
                }
                Term::If(c, a, b) => {
                    self.atom(c)?;
                    todo.push(Task::Term(b));
                    todo.push(Task::Undo(self.log.len()));
                    todo.push(Task::Term(a));
                    return Ok(());
                }
            }
        }
    }
}
