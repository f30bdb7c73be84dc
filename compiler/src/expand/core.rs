//! The Core language: what the expander produces and CPS conversion consumes.
//!
//! ```text
//! core ::= (quote constant)              Const
//!        | var                           Local   (bound once, never assigned)
//!        | global                        Global  (resolved on the node that runs it)
//!        | (define-global name core)     Define
//!        | (lambda (var* [. var]) core)  Lambda
//!        | (if core core core)           If
//!        | (core core*)                  Call
//!        | (%prim core*)                 Prim    (a primitive, inlined or a runtime call)
//!        | (begin core+)                 Seq
//!        | (let ((var core)*) core)      Let
//!        | (letrec ((var lambda)*) core) Letrec  (every init is a lambda)
//!        | (%call/cc core)               CallCC  (passes the current continuation as a procedure)
//!        | (%apply core core)            Apply   (calls with the elements of a list)
//!        | (%values core*)               Values  (returns several values to the continuation)
//!        | (%call-with-values core core) CallWithValues
//!        | (%suspend core)               Suspend (wait for a message until a deadline)
//! ```
//! Invariants: every `Local` is in the scope of exactly one binder; every
//! `Letrec` init is a `Lambda`; no mutation anywhere.

use crate::prims::Prim;
use crate::read::Span;
use std::fmt;
use termite_runtime::program::Constant;

pub type VarId = u32;

#[derive(Debug, Clone)]
pub struct Lambda {
    pub params: Vec<VarId>,
    pub rest: Option<VarId>,
    pub body: Core,
    pub name: String,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub enum Core {
    Const(Constant),
    Local(VarId),
    Global(String, Span),
    Define(String, Box<Core>),
    Lambda(Box<Lambda>),
    If(Box<Core>, Box<Core>, Box<Core>),
    Call(Box<Core>, Vec<Core>, Span),
    Prim(Prim, Vec<Core>, Span),
    Seq(Vec<Core>),
    Let(Vec<(VarId, Core)>, Box<Core>),
    Letrec(Vec<(VarId, Lambda)>, Box<Core>),
    CallCC(Box<Core>),
    Apply(Box<Core>, Box<Core>),
    Values(Vec<Core>),
    CallWithValues(Box<Core>, Box<Core>),
    /// Suspends the process until a message arrives or the deadline passes;
    /// returns #t, or #f on timeout.
    Suspend(Box<Core>),
}

impl Core {
    pub fn unspecified() -> Core {
        Core::Const(Constant::Unspecified)
    }

    pub fn bool(b: bool) -> Core {
        Core::Const(Constant::Bool(b))
    }

    pub fn seq(mut items: Vec<Core>) -> Core {
        match items.len() {
            0 => Core::unspecified(),
            1 => items.pop().unwrap_or_else(Core::unspecified),
            _ => Core::Seq(items),
        }
    }

    pub fn if_(c: Core, t: Core, e: Core) -> Core {
        Core::If(Box::new(c), Box::new(t), Box::new(e))
    }

    /// The immediate subexpressions (lambda bodies included).
    pub fn children(&self) -> Vec<&Core> {
        match self {
            Core::Const(_) | Core::Local(_) | Core::Global(..) => vec![],
            Core::Define(_, v) | Core::CallCC(v) | Core::Suspend(v) => vec![v],
            Core::Lambda(l) => vec![&l.body],
            Core::If(a, b, c) => vec![a, b, c],
            Core::Call(f, args, _) => std::iter::once(&**f).chain(args).collect(),
            Core::Prim(_, args, _) | Core::Seq(args) | Core::Values(args) => args.iter().collect(),
            Core::Let(binds, body) => binds
                .iter()
                .map(|(_, c)| c)
                .chain(std::iter::once(&**body))
                .collect(),
            Core::Letrec(binds, body) => binds
                .iter()
                .map(|(_, l)| &l.body)
                .chain(std::iter::once(&**body))
                .collect(),
            Core::Apply(a, b) | Core::CallWithValues(a, b) => vec![a, b],
        }
    }
}

/// Names of variables, for printing: `VarId` indexes it.
#[derive(Default, Debug, Clone)]
pub struct VarNames(pub Vec<String>);

impl VarNames {
    pub fn fresh(&mut self, name: &str) -> VarId {
        self.0.push(name.to_string());
        (self.0.len() - 1) as VarId
    }

    pub fn name(&self, v: VarId) -> String {
        format!(
            "{}.{}",
            self.0.get(v as usize).map(String::as_str).unwrap_or("?"),
            v
        )
    }
}

/// The expanded program: its top-level forms in order.
#[derive(Debug, Clone, Default)]
pub struct Program {
    pub body: Vec<Core>,
    pub vars: VarNames,
}

pub fn write_constant(c: &Constant, f: &mut impl fmt::Write) -> fmt::Result {
    match c {
        Constant::Bool(b) => write!(f, "{}", if *b { "#t" } else { "#f" }),
        Constant::Int(i) => write!(f, "{i}"),
        Constant::BigInt(s) => write!(f, "{s}"),
        Constant::Real(x) => write!(f, "{x:?}"),
        Constant::Char(c) => write!(f, "#\\{c}"),
        Constant::Str(s) => write!(f, "{s:?}"),
        Constant::Sym(s) => write!(f, "{s}"),
        Constant::Null => write!(f, "()"),
        Constant::Unspecified => write!(f, "#!unspecified"),
        Constant::Eof => write!(f, "#!eof"),
        Constant::DefaultObject => write!(f, "#!default"),
        Constant::List(items, tail) => {
            write!(f, "(")?;
            for (i, x) in items.iter().enumerate() {
                if i > 0 {
                    write!(f, " ")?;
                }
                write_constant(x, f)?;
            }
            if let Some(t) = tail {
                write!(f, " . ")?;
                write_constant(t, f)?;
            }
            write!(f, ")")
        }
        Constant::Vector(items) => {
            write!(f, "#(")?;
            for (i, x) in items.iter().enumerate() {
                if i > 0 {
                    write!(f, " ")?;
                }
                write_constant(x, f)?;
            }
            write!(f, ")")
        }
        Constant::Bytevector(b) => write!(f, "#u8{b:?}"),
    }
}

/// Prints Core as an S-expression, one top-level form per line.
pub fn print_program(p: &Program) -> String {
    let mut out = String::new();
    for form in &p.body {
        let mut pr = Printer {
            vars: &p.vars,
            out: &mut out,
            indent: 0,
        };
        pr.core(form);
        out.push('\n');
    }
    out
}

struct Printer<'a> {
    vars: &'a VarNames,
    out: &'a mut String,
    indent: usize,
}

impl Printer<'_> {
    fn nl(&mut self) {
        self.out.push('\n');
        for _ in 0..self.indent {
            self.out.push(' ');
        }
    }

    fn lambda(&mut self, l: &Lambda) {
        self.out.push_str("(lambda (");
        let names: Vec<String> = l.params.iter().map(|v| self.vars.name(*v)).collect();
        self.out.push_str(&names.join(" "));
        if let Some(r) = l.rest {
            self.out.push_str(&format!(" . {}", self.vars.name(r)));
        }
        self.out.push(')');
        self.indent += 2;
        self.nl();
        self.core(&l.body);
        self.indent -= 2;
        self.out.push(')');
    }

    fn list(&mut self, head: &str, items: &[Core]) {
        self.out.push('(');
        self.out.push_str(head);
        for x in items {
            self.out.push(' ');
            self.core(x);
        }
        self.out.push(')');
    }

    fn core(&mut self, c: &Core) {
        match c {
            Core::Const(k) => {
                let mut s = String::new();
                let _ = write_constant(k, &mut s);
                if matches!(
                    k,
                    Constant::Sym(_) | Constant::List(..) | Constant::Vector(_)
                ) {
                    self.out.push('\'');
                }
                self.out.push_str(&s);
            }
            Core::Local(v) => self.out.push_str(&self.vars.name(*v)),
            Core::Global(g, _) => self.out.push_str(&format!("#{g}")),
            Core::Define(g, v) => {
                self.out.push_str(&format!("(define #{g} "));
                self.core(v);
                self.out.push(')');
            }
            Core::Lambda(l) => self.lambda(l),
            Core::If(a, b, c) => {
                self.out.push_str("(if ");
                self.core(a);
                self.indent += 4;
                self.nl();
                self.core(b);
                self.nl();
                self.core(c);
                self.indent -= 4;
                self.out.push(')');
            }
            Core::Call(f, args, _) => {
                self.out.push('(');
                self.core(f);
                for a in args {
                    self.out.push(' ');
                    self.core(a);
                }
                self.out.push(')');
            }
            Core::Prim(p, args, _) => self.list(p.name(), args),
            Core::Seq(items) => {
                self.out.push_str("(begin");
                self.indent += 2;
                for x in items {
                    self.nl();
                    self.core(x);
                }
                self.indent -= 2;
                self.out.push(')');
            }
            Core::Let(binds, body) => {
                self.out.push_str("(let (");
                for (i, (v, init)) in binds.iter().enumerate() {
                    if i > 0 {
                        self.out.push(' ');
                    }
                    self.out.push_str(&format!("({} ", self.vars.name(*v)));
                    self.core(init);
                    self.out.push(')');
                }
                self.out.push(')');
                self.indent += 2;
                self.nl();
                self.core(body);
                self.indent -= 2;
                self.out.push(')');
            }
            Core::Letrec(binds, body) => {
                self.out.push_str("(letrec (");
                self.indent += 2;
                for (v, l) in binds {
                    self.nl();
                    self.out.push_str(&format!("({} ", self.vars.name(*v)));
                    self.lambda(l);
                    self.out.push(')');
                }
                self.out.push(')');
                self.nl();
                self.core(body);
                self.indent -= 2;
                self.out.push(')');
            }
            Core::CallCC(f) => self.list("%call/cc", std::slice::from_ref(f)),
            Core::Suspend(d) => self.list("%suspend", std::slice::from_ref(d)),
            Core::Apply(f, l) => {
                self.out.push_str("(%apply ");
                self.core(f);
                self.out.push(' ');
                self.core(l);
                self.out.push(')');
            }
            Core::Values(xs) => self.list("%values", xs),
            Core::CallWithValues(p, c) => {
                self.out.push_str("(%call-with-values ");
                self.core(p);
                self.out.push(' ');
                self.core(c);
                self.out.push(')');
            }
        }
    }
}
