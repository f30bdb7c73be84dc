//! The CPS language. Every call is a tail call; continuations are explicit.
//!
//! ```text
//! term  ::= (let v value term)
//!         | (letrec ((v lambda) ...) term)        every init a procedure
//!         | (letcont k lambda term)               k names a continuation
//!         | (app f k atom ...)                    call procedure f with continuation k
//!         | (apply f k atom ... list)             call f with the elements of list appended
//!         | (cont k atom ...)                     return values to continuation k
//!         | (cont-apply k list)                   return the elements of list to k
//!         | (if atom term term)
//!         | (suspend k deadline)                  wait for a message
//!         -- after closure conversion only:
//!         | (let v (closure FUNC atom ...) term)
//!         | (letrec-closures ((v FUNC atom ...) ...) term)
//!         | (letjoin j (v ...) term term)         a continuation compiled as a block
//!         | (jump j atom ...)
//! value ::= atom | (prim %p atom ...) | (global g) | lambda
//! atom  ::= v | literal | (const i)
//! ```
//! Invariants: every variable is bound exactly once and every use is in the
//! scope of its binding; the `k` of `app` and `cont` is a variable bound to a
//! continuation; after closure conversion no `lambda` remains and a `jump`
//! targets an enclosing `letjoin` of the same function.

pub mod check;
pub mod convert;
pub mod inline_cont;
pub mod optimise;
pub mod print;

pub use convert::cps_convert;

use crate::expand::core::VarId;
use crate::prims::Prim;
use termite_runtime::program::Constant;

/// An operand: a variable, an immediate value, or an entry of the constant pool.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Atom {
    Var(VarId),
    /// The encoded runtime word of an immediate (fixnum, boolean, char, ...).
    Imm(u64),
    Const(u32),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LambdaKind {
    /// A procedure: its first parameter is its continuation.
    Proc,
    /// A continuation: its parameters are the values returned to it.
    Cont,
}

#[derive(Clone, Debug)]
pub struct Lambda {
    pub kind: LambdaKind,
    pub params: Vec<VarId>,
    pub rest: Option<VarId>,
    pub body: Term,
    pub name: String,
}

pub type FuncId = u32;

#[derive(Clone, Debug)]
pub enum Value {
    Atom(Atom),
    Prim(Prim, Vec<Atom>),
    Global(u32),
    Lambda(Box<Lambda>),
    Closure(FuncId, Vec<Atom>),
}

#[derive(Clone, Debug)]
pub enum Term {
    Let(VarId, Value, Box<Term>),
    LetRec(Vec<(VarId, Lambda)>, Box<Term>),
    LetCont(VarId, Box<Lambda>, Box<Term>),
    App {
        f: Atom,
        k: Atom,
        args: Vec<Atom>,
    },
    Apply {
        f: Atom,
        k: Atom,
        args: Vec<Atom>,
        list: Atom,
    },
    Cont {
        k: Atom,
        args: Vec<Atom>,
    },
    ContApply {
        k: Atom,
        list: Atom,
    },
    If(Atom, Box<Term>, Box<Term>),
    LetRecClosures(Vec<(VarId, FuncId, Vec<Atom>)>, Box<Term>),
    LetJoin {
        j: VarId,
        params: Vec<VarId>,
        body: Box<Term>,
        then: Box<Term>,
    },
    Jump(VarId, Vec<Atom>),
    /// Suspends the process: `k` is resumed with #t when a message arrives,
    /// with #f when `deadline` passes.
    Suspend {
        k: Atom,
        deadline: Atom,
    },
}

impl Term {
    /// The terms a closure-converted body goes on with inside the same
    /// function (never the bodies of lambdas), for walks without recursion.
    pub fn inner_terms(&self) -> [Option<&Term>; 2] {
        match self {
            Term::Let(_, _, body) | Term::LetRecClosures(_, body) => [Some(body), None],
            Term::LetJoin { body, then, .. } => [Some(body), Some(then)],
            Term::If(_, a, b) => [Some(a), Some(b)],
            _ => [None, None],
        }
    }

    /// `inner_terms`, mutable.
    pub fn inner_terms_mut(&mut self) -> [Option<&mut Term>; 2] {
        match self {
            Term::Let(_, _, body) | Term::LetRecClosures(_, body) => [Some(body), None],
            Term::LetJoin { body, then, .. } => [Some(body), Some(then)],
            Term::If(_, a, b) => [Some(a), Some(b)],
            _ => [None, None],
        }
    }
}

/// A whole program in CPS: the top-level body as a procedure of no
/// arguments, its constants and its globals.
#[derive(Clone, Debug)]
pub struct Program {
    pub main: Lambda,
    pub constants: Vec<Constant>,
    pub globals: Vec<String>,
    pub vars: crate::expand::core::VarNames,
}
