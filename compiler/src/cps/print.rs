//! Prints CPS terms as S-expressions (`--dump=cps`, `--dump=closure`,
//! golden tests, and the text code ids are hashed from).

use super::{Atom, Lambda, LambdaKind, Term, Value};
use crate::expand::core::VarNames;
use std::fmt::Write;

pub struct Printer<'a> {
    pub vars: &'a VarNames,
    /// How a global slot is printed (by name, so that printed text does
    /// not depend on slot numbering).
    pub globals: &'a [String],
    /// How a constant is printed.
    pub constants: &'a [termite_runtime::program::Constant],
    pub out: String,
    indent: usize,
    /// When set, variables print as `v0`, `v1`, … in order of appearance,
    /// and closures by their code id: the text then depends only on the
    /// function's structure (used for code ids).
    pub normalized: Option<(
        std::collections::HashMap<crate::expand::core::VarId, usize>,
        &'a [u64],
    )>,
}

impl<'a> Printer<'a> {
    pub fn new(
        vars: &'a VarNames,
        globals: &'a [String],
        constants: &'a [termite_runtime::program::Constant],
    ) -> Self {
        Printer {
            vars,
            globals,
            constants,
            out: String::new(),
            indent: 0,
            normalized: None,
        }
    }

    fn var(&mut self, v: crate::expand::core::VarId) -> String {
        match &mut self.normalized {
            Some((map, _)) => {
                let n = map.len();
                format!("v{}", map.entry(v).or_insert(n))
            }
            None => self.vars.name(v),
        }
    }

    fn func(&self, f: super::FuncId) -> String {
        match &self.normalized {
            Some((_, ids)) => format!("{:016x}", ids.get(f as usize).copied().unwrap_or(0)),
            None => format!("F{f}"),
        }
    }

    fn nl(&mut self) {
        self.out.push('\n');
        if self.normalized.is_some() {
            // Text to hash, not to read: indentation would make the text of
            // deeply nested code quadratic in its size.
            return;
        }
        for _ in 0..self.indent {
            self.out.push(' ');
        }
    }

    pub fn atom(&mut self, a: &Atom) {
        match a {
            Atom::Var(v) => {
                let n = self.var(*v);
                self.out.push_str(&n)
            }
            Atom::Imm(w) => self.out.push_str(
                &termite_runtime::print::write_string(termite_runtime::value::Value(*w))
                    .replace('\n', "\\n"),
            ),
            Atom::Const(i) => {
                let mut s = String::new();
                if let Some(c) = self.constants.get(*i as usize) {
                    let _ = crate::expand::core::write_constant(c, &mut s);
                }
                let _ = write!(self.out, "'{s}");
            }
        }
    }

    fn atoms(&mut self, xs: &[Atom]) {
        for a in xs {
            self.out.push(' ');
            self.atom(a);
        }
    }

    pub fn lambda(&mut self, l: &Lambda) {
        self.run(Item::Lambda(l));
    }

    pub fn term(&mut self, t: &Term) {
        self.run(Item::Term(t));
    }

    /// Prints from an explicit stack: a term nested a million deep must
    /// not overflow the native stack.
    fn run(&mut self, first: Item<'_>) {
        let mut todo = vec![first];
        while let Some(item) = todo.pop() {
            match item {
                Item::Term(t) => self.term_head(t, &mut todo),
                Item::Lambda(l) => self.lambda_head(l, &mut todo),
                Item::Str(s) => self.out.push_str(s),
                Item::Bind(v, l) => {
                    let vn = self.var(v);
                    let _ = write!(self.out, "({vn} ");
                    then(&mut todo, [Item::Lambda(l), Item::Str(")")]);
                }
                Item::Nl => self.nl(),
                Item::Indent(d) => self.indent = self.indent.saturating_add_signed(d),
            }
        }
    }

    fn lambda_head<'t>(&mut self, l: &'t Lambda, todo: &mut Vec<Item<'t>>) {
        let kw = match l.kind {
            LambdaKind::Proc => "lambda",
            LambdaKind::Cont => "cont",
        };
        let _ = write!(self.out, "({kw} {} (", l.name);
        let names: Vec<String> = l.params.iter().map(|v| self.var(*v)).collect();
        self.out.push_str(&names.join(" "));
        if let Some(r) = l.rest {
            let vn = self.var(r);
            let _ = write!(self.out, " . {}", vn);
        }
        self.out.push(')');
        self.indent += 2;
        self.nl();
        then(
            todo,
            [Item::Term(&l.body), Item::Indent(-2), Item::Str(")")],
        );
    }

    fn value(&mut self, v: &Value) {
        match v {
            Value::Atom(a) => self.atom(a),
            Value::Prim(p, args) => {
                let _ = write!(self.out, "({}", p.name());
                self.atoms(args);
                self.out.push(')');
            }
            Value::Global(g) => {
                let name = self
                    .globals
                    .get(*g as usize)
                    .cloned()
                    .unwrap_or_else(|| format!("#{g}"));
                let _ = write!(self.out, "(global {name})");
            }
            Value::Lambda(l) => self.lambda(l),
            Value::Closure(f, free) => {
                let fname = self.func(*f);
                let _ = write!(self.out, "(closure {fname}");
                self.atoms(free);
                self.out.push(')');
            }
        }
    }

    /// Prints the beginning of `t` and schedules the rest.
    fn term_head<'t>(&mut self, t: &'t Term, todo: &mut Vec<Item<'t>>) {
        match t {
            Term::Let(v, val, body) => {
                let vn = self.var(*v);
                let _ = write!(self.out, "(let {} ", vn);
                match val {
                    Value::Lambda(l) => then(
                        todo,
                        [Item::Lambda(l), Item::Nl, Item::Term(body), Item::Str(")")],
                    ),
                    _ => {
                        self.value(val);
                        self.nl();
                        then(todo, [Item::Term(body), Item::Str(")")]);
                    }
                }
            }
            Term::LetRec(binds, body) => {
                self.out.push_str("(letrec (");
                self.indent += 2;
                let mut items = Vec::new();
                for (v, l) in binds {
                    items.push(Item::Nl);
                    items.push(Item::Bind(*v, l));
                }
                items.extend([
                    Item::Indent(-2),
                    Item::Str(")"),
                    Item::Nl,
                    Item::Term(body),
                    Item::Str(")"),
                ]);
                then(todo, items);
            }
            Term::LetCont(k, l, body) => {
                let vn = self.var(*k);
                let _ = write!(self.out, "(letcont {} ", vn);
                self.indent += 2;
                then(
                    todo,
                    [
                        Item::Lambda(l),
                        Item::Indent(-2),
                        Item::Nl,
                        Item::Term(body),
                        Item::Str(")"),
                    ],
                );
            }
            Term::App { f, k, args } => {
                self.out.push_str("(app ");
                self.atom(f);
                self.out.push(' ');
                self.atom(k);
                self.atoms(args);
                self.out.push(')');
            }
            Term::Apply { f, k, args, list } => {
                self.out.push_str("(apply ");
                self.atom(f);
                self.out.push(' ');
                self.atom(k);
                self.atoms(args);
                self.out.push(' ');
                self.atom(list);
                self.out.push(')');
            }
            Term::Cont { k, args } => {
                self.out.push_str("(cont ");
                self.atom(k);
                self.atoms(args);
                self.out.push(')');
            }
            Term::ContApply { k, list } => {
                self.out.push_str("(cont-apply ");
                self.atom(k);
                self.out.push(' ');
                self.atom(list);
                self.out.push(')');
            }
            Term::If(c, a, b) => {
                self.out.push_str("(if ");
                self.atom(c);
                self.indent += 4;
                self.nl();
                then(
                    todo,
                    [
                        Item::Term(a),
                        Item::Nl,
                        Item::Term(b),
                        Item::Indent(-4),
                        Item::Str(")"),
                    ],
                );
            }
            Term::LetRecClosures(binds, body) => {
                self.out.push_str("(letrec-closures (");
                for (i, (v, f, free)) in binds.iter().enumerate() {
                    if i > 0 {
                        self.out.push(' ');
                    }
                    let (vn, fname) = (self.var(*v), self.func(*f));
                    let _ = write!(self.out, "({vn} {fname}");
                    self.atoms(free);
                    self.out.push(')');
                }
                self.out.push(')');
                self.nl();
                then(todo, [Item::Term(body), Item::Str(")")]);
            }
            Term::LetJoin {
                j,
                params,
                body,
                then,
            } => {
                let names: Vec<String> = params.iter().map(|v| self.var(*v)).collect();
                let vn = self.var(*j);
                let _ = write!(self.out, "(letjoin {} ({})", vn, names.join(" "));
                self.indent += 2;
                self.nl();
                self::then(
                    todo,
                    [
                        Item::Term(body),
                        Item::Indent(-2),
                        Item::Nl,
                        Item::Term(then),
                        Item::Str(")"),
                    ],
                );
            }
            Term::Suspend { k, deadline } => {
                self.out.push_str("(suspend ");
                self.atom(k);
                self.out.push(' ');
                self.atom(deadline);
                self.out.push(')');
            }
            Term::Jump(j, args) => {
                let vn = self.var(*j);
                let _ = write!(self.out, "(jump {}", vn);
                self.atoms(args);
                self.out.push(')');
            }
        }
    }
}

/// What is left to print.
enum Item<'t> {
    Term(&'t Term),
    Lambda(&'t Lambda),
    Str(&'static str),
    /// `(v LAMBDA)` of a `letrec`.
    Bind(crate::expand::core::VarId, &'t Lambda),
    Nl,
    Indent(isize),
}

/// Schedules `items` to print in order, before what was scheduled.
fn then<'t>(
    todo: &mut Vec<Item<'t>>,
    items: impl IntoIterator<Item = Item<'t>, IntoIter: DoubleEndedIterator>,
) {
    todo.extend(items.into_iter().rev());
}
