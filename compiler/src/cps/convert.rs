//! CPS conversion: Core to CPS, one pass, so no administrative redexes
//! are built: a continuation is reified as a `letcont` only where a call or
//! an `if` needs one.
//!
//! The converter never recurses, so that neither deep nesting nor a long
//! sequence (a body of a million expressions, a call of a million
//! arguments, a chain of a million nested primitives) can overflow the
//! native stack. The continuation of the expression being converted is a
//! stack of `Frame`s (what the rest of the expression does with its value)
//! above a continuation variable, the *base*; together with the term built
//! so far, this is a *segment*. A segment's term is a chain of `Wrap`s (a
//! `let`, a `letcont` whose body is the rest of the segment, ...) ending in
//! a `Tail`. The parts converted with a continuation of their own (the
//! branches of an `if`, the bodies of lambdas) are segments of their own,
//! converted after, by an explicit work list, and assembled bottom-up.

use super::{Atom, Lambda, LambdaKind, Program, Term, Value};
use crate::expand::core::{self as core, Core, VarId, VarNames};
use crate::prims::Prim;
use std::collections::{HashMap, VecDeque};
use termite_runtime::program::Constant;
use termite_runtime::value as rv;

/// What the rest of the expression does with the value of the part being
/// converted.
enum Frame {
    /// `(define-global i VALUE)`, then unspecified.
    Define(u32),
    /// The value is the test of an `if` with these branches.
    If(Core, Core),
    /// The value is the next of a list of operands.
    List(Operands),
    /// The value is dropped; these come next.
    Seq(VecDeque<Core>),
    /// The value is bound to `v`; then the other bindings and the body.
    Let {
        v: VarId,
        binds: VecDeque<(VarId, Core)>,
        body: Core,
    },
    /// The value is the procedure of `%call/cc`.
    CallCC,
    /// The value is the deadline of `%suspend`.
    Suspend,
    /// The value is the producer; the lambda consumes its values.
    CallWithValues(Box<core::Lambda>),
}

/// Operands being converted left to right, and what they are for.
struct Operands {
    rest: VecDeque<Core>,
    acc: Vec<Atom>,
    /// Global references, read last, just before the use: a global read
    /// early would be captured by the continuations of the calls after it.
    globals: Vec<(VarId, u32)>,
    /// The values of the operands before those of `acc` (after the
    /// procedure of a call), as a list, the last first; see `SPILL`.
    spilled: Option<Atom>,
    then: Use,
}

/// The most values of a call's operands held in variables while its other
/// operands are evaluated. Each continuation of an operand's evaluation
/// captures the values before it, so with no bound a call of n operands
/// that are calls (`(f (g 1) ... (g n))`) made n continuations capturing n/2
/// values each: quadratic code and compile time. Beyond the bound the
/// values go to a list, and the call becomes an `apply`.
const SPILL: usize = 32;

enum Use {
    Call,
    Prim(Prim),
    Apply,
    Values,
    CallWithValues,
}

/// A lambda whose body is the term of sub-segment `sub`.
struct Shell {
    kind: LambdaKind,
    params: Vec<VarId>,
    rest: Option<VarId>,
    name: String,
    sub: usize,
}

/// The end of a segment's term (or the `then` of a reified continuation),
/// some of whose parts are sub-segments.
enum Tail {
    Term(Term),
    If(Atom, usize, usize),
    /// `(letcont kv CONT (app f kv))`.
    Consume {
        kv: VarId,
        cont: Shell,
        f: Atom,
    },
}

/// An outer part of a segment's term; what follows in the segment fills
/// its hole.
enum Wrap {
    Let(VarId, Value),
    LetLambda(VarId, Shell),
    LetRec(Vec<(VarId, Shell)>),
    /// `(letcont j (cont (x) HOLE) THEN)`.
    LetCont(VarId, VarId, Tail),
}

/// A converted segment, waiting for the terms of its `subs` sub-segments.
struct Segment {
    wraps: Vec<Wrap>,
    tail: Tail,
    subs: usize,
}

enum Mode {
    Eval(Core),
    Deliver(Atom),
}

/// The segment being converted.
struct Open {
    base: VarId,
    frames: Vec<Frame>,
    wraps: Vec<Wrap>,
    subs: Vec<(Core, VarId)>,
    tail: Option<Tail>,
}

impl Open {
    fn sub(&mut self, e: Core, k: VarId) -> usize {
        self.subs.push((e, k));
        self.subs.len() - 1
    }
}

pub struct Conv {
    pub vars: VarNames,
    constants: Vec<Constant>,
    const_index: HashMap<String, u32>,
    globals: Vec<String>,
    global_index: HashMap<String, u32>,
    define_global: Prim,
    cons: Prim,
    reverse: Prim,
}

/// The runtime word of a constant that is an immediate, if it is one.
pub fn immediate(c: &Constant) -> Option<u64> {
    Some(match c {
        Constant::Bool(b) => rv::Value::bool(*b).0,
        Constant::Int(i) if (rv::FIXNUM_MIN..=rv::FIXNUM_MAX).contains(i) => {
            rv::Value::fixnum(*i).0
        }
        Constant::Char(ch) => rv::Value::char(*ch).0,
        Constant::Null => rv::NULL.0,
        Constant::Unspecified => rv::UNSPECIFIED.0,
        Constant::Eof => rv::EOF.0,
        Constant::DefaultObject => rv::DEFAULT_OBJECT.0,
        _ => return None,
    })
}

pub const UNSPEC: Atom = Atom::Imm(rv::UNSPECIFIED.0);

/// Converts an expanded program. `globals` fixes the slots of globals the
/// runtime needs to find (they come first, in order).
pub fn cps_convert(p: core::Program, well_known: &[&str]) -> Program {
    let mut c = Conv {
        vars: p.vars,
        constants: Vec::new(),
        const_index: HashMap::new(),
        globals: Vec::new(),
        global_index: HashMap::new(),
        define_global: Prim::by_name("%define-global").unwrap_or(Prim(0)),
        cons: Prim::by_name("%cons").unwrap_or(Prim(0)),
        reverse: Prim::by_name("%reverse").unwrap_or(Prim(0)),
    };
    for g in well_known {
        c.global(g);
    }
    let k = c.vars.fresh("halt");
    let body = c.convert(Core::seq(p.body), k);
    let main = Lambda {
        kind: LambdaKind::Proc,
        params: vec![k],
        rest: None,
        body,
        name: "main".into(),
    };
    Program {
        main,
        constants: c.constants,
        globals: c.globals,
        vars: c.vars,
    }
}

impl Conv {
    fn fresh(&mut self, name: &str) -> VarId {
        self.vars.fresh(name)
    }

    pub fn global(&mut self, name: &str) -> u32 {
        if let Some(i) = self.global_index.get(name) {
            return *i;
        }
        let i = self.globals.len() as u32;
        self.globals.push(name.to_string());
        self.global_index.insert(name.to_string(), i);
        i
    }

    fn constant(&mut self, c: Constant) -> Atom {
        if let Some(w) = immediate(&c) {
            return Atom::Imm(w);
        }
        let key = format!("{c:?}");
        if let Some(i) = self.const_index.get(&key) {
            return Atom::Const(*i);
        }
        let i = self.constants.len() as u32;
        self.constants.push(c);
        self.const_index.insert(key, i);
        Atom::Const(i)
    }

    fn shell(&mut self, l: core::Lambda, s: &mut Open) -> Shell {
        let k = self.fresh("k");
        let mut params = vec![k];
        params.extend(l.params);
        let sub = s.sub(l.body, k);
        Shell {
            kind: LambdaKind::Proc,
            params,
            rest: l.rest,
            name: l.name,
            sub,
        }
    }

    /// Converts `e` with continuation `k` into a term.
    fn convert(&mut self, e: Core, k: VarId) -> Term {
        enum Task {
            Convert(Core, VarId),
            Assemble(Segment),
        }
        let mut tasks = vec![Task::Convert(e, k)];
        let mut done: Vec<Term> = Vec::new();
        while let Some(task) = tasks.pop() {
            match task {
                Task::Convert(e, k) => {
                    let (seg, mut subs) = self.segment(e, k);
                    tasks.push(Task::Assemble(seg));
                    // Sub-segments run in order, each leaving its term.
                    while let Some((e, k)) = subs.pop() {
                        tasks.push(Task::Convert(e, k));
                    }
                }
                Task::Assemble(seg) => {
                    let parts = done.split_off(done.len().saturating_sub(seg.subs));
                    done.push(assemble(seg, parts));
                }
            }
        }
        done.pop().unwrap_or(Term::Cont {
            k: Atom::Var(k),
            args: vec![UNSPEC],
        })
    }

    /// Converts `e` with continuation `base` as far as it goes without a
    /// continuation of its own.
    fn segment(&mut self, e: Core, base: VarId) -> (Segment, Vec<(Core, VarId)>) {
        let mut s = Open {
            base,
            frames: Vec::new(),
            wraps: Vec::new(),
            subs: Vec::new(),
            tail: None,
        };
        let mut mode = Mode::Eval(e);
        loop {
            let next = match mode {
                Mode::Eval(e) => self.eval(e, &mut s),
                Mode::Deliver(a) => self.deliver(a, &mut s),
            };
            match next {
                Some(m) => mode = m,
                None => break,
            }
        }
        let tail = s.tail.take().unwrap_or(Tail::Term(Term::Cont {
            k: Atom::Var(base),
            args: vec![UNSPEC],
        }));
        let seg = Segment {
            wraps: s.wraps,
            tail,
            subs: s.subs.len(),
        };
        (seg, s.subs)
    }

    /// The continuation of the value being converted, for a term that needs
    /// a variable: the base when nothing of the segment remains (the term
    /// ends the segment), else a fresh `letcont` whose body the rest of the
    /// segment becomes.
    fn reify(
        &mut self,
        s: &mut Open,
        tail: impl FnOnce(&mut Conv, &mut Open, VarId) -> Tail,
    ) -> Option<Mode> {
        if s.frames.is_empty() {
            let t = tail(self, s, s.base);
            s.tail = Some(t);
            None
        } else {
            let x = self.fresh("v");
            let j = self.fresh("k");
            let t = tail(self, s, j);
            s.wraps.push(Wrap::LetCont(j, x, t));
            Some(Mode::Deliver(Atom::Var(x)))
        }
    }

    fn bind(&mut self, name: &str, value: Value, s: &mut Open) -> Mode {
        let t = self.fresh(name);
        s.wraps.push(Wrap::Let(t, value));
        Mode::Deliver(Atom::Var(t))
    }

    fn eval(&mut self, e: Core, s: &mut Open) -> Option<Mode> {
        Some(match e {
            Core::Const(c) => Mode::Deliver(self.constant(c)),
            Core::Local(v) => Mode::Deliver(Atom::Var(v)),
            Core::Global(g, _) => {
                let i = self.global(&g);
                self.bind("g", Value::Global(i), s)
            }
            Core::Define(g, e) => {
                let i = self.global(&g);
                s.frames.push(Frame::Define(i));
                Mode::Eval(*e)
            }
            Core::Lambda(l) => {
                let name = l.name.clone();
                let shell = self.shell(*l, s);
                let t = self.fresh(&name);
                s.wraps.push(Wrap::LetLambda(t, shell));
                Mode::Deliver(Atom::Var(t))
            }
            // (if (not c) t e) is (if c e t).
            Core::If(c, t, e) if matches!(&*c, Core::Prim(p, args, _) if p.name() == "%not" && args.len() == 1) =>
            {
                let Core::Prim(_, mut args, _) = *c else {
                    return Some(Mode::Deliver(UNSPEC));
                };
                let inner = args.pop().unwrap_or_else(Core::unspecified);
                Mode::Eval(Core::If(Box::new(inner), e, t))
            }
            Core::If(c, t, e) => {
                s.frames.push(Frame::If(*t, *e));
                Mode::Eval(*c)
            }
            Core::Call(f, args, _) => {
                let mut es = VecDeque::from(args);
                es.push_front(*f);
                return self.operands(es, Vec::new(), Vec::new(), None, Use::Call, s);
            }
            Core::Prim(p, args, _) => {
                return self.operands(args.into(), Vec::new(), Vec::new(), None, Use::Prim(p), s);
            }
            Core::Seq(es) => {
                let mut es = VecDeque::from(es);
                match es.pop_front() {
                    None => Mode::Deliver(UNSPEC),
                    Some(first) => {
                        if !es.is_empty() {
                            s.frames.push(Frame::Seq(es));
                        }
                        Mode::Eval(first)
                    }
                }
            }
            Core::Let(binds, body) => self.bindings(binds.into(), *body, s),
            Core::Letrec(binds, body) => {
                let shells = binds
                    .into_iter()
                    .map(|(v, l)| (v, self.shell(l, s)))
                    .collect();
                s.wraps.push(Wrap::LetRec(shells));
                Mode::Eval(*body)
            }
            Core::CallCC(f) => {
                s.frames.push(Frame::CallCC);
                Mode::Eval(*f)
            }
            Core::Suspend(d) => {
                s.frames.push(Frame::Suspend);
                Mode::Eval(*d)
            }
            Core::Apply(f, l) => {
                return self.operands(
                    vec![*f, *l].into(),
                    Vec::new(),
                    Vec::new(),
                    None,
                    Use::Apply,
                    s,
                );
            }
            Core::Values(es) => {
                return self.operands(es.into(), Vec::new(), Vec::new(), None, Use::Values, s);
            }
            Core::CallWithValues(p, consumer) => match *consumer {
                // The consumer becomes the producer's continuation.
                Core::Lambda(l) => {
                    s.frames.push(Frame::CallWithValues(l));
                    Mode::Eval(*p)
                }
                consumer => {
                    return self.operands(
                        vec![*p, consumer].into(),
                        Vec::new(),
                        Vec::new(),
                        None,
                        Use::CallWithValues,
                        s,
                    );
                }
            },
        })
    }

    /// Goes on with the bindings of a `let` after those already bound.
    fn bindings(&mut self, mut binds: VecDeque<(VarId, Core)>, body: Core, s: &mut Open) -> Mode {
        loop {
            match binds.pop_front() {
                None => return Mode::Eval(body),
                Some((v, Core::Lambda(l))) => {
                    let shell = self.shell(*l, s);
                    s.wraps.push(Wrap::LetLambda(v, shell));
                }
                Some((v, init)) => {
                    s.frames.push(Frame::Let { v, binds, body });
                    return Mode::Eval(init);
                }
            }
        }
    }

    /// Goes on with operands `rest` after `acc`: atoms need no
    /// continuation and are taken at once.
    fn operands(
        &mut self,
        mut rest: VecDeque<Core>,
        mut acc: Vec<Atom>,
        mut globals: Vec<(VarId, u32)>,
        mut spilled: Option<Atom>,
        then: Use,
        s: &mut Open,
    ) -> Option<Mode> {
        while let Some(e) = rest.front() {
            match e {
                Core::Global(g, _) => {
                    let i = self.global(g);
                    let v = self.fresh("g");
                    globals.push((v, i));
                    acc.push(Atom::Var(v));
                }
                Core::Const(c) => {
                    let a = self.constant(c.clone());
                    acc.push(a);
                }
                Core::Local(v) => acc.push(Atom::Var(*v)),
                _ => break,
            }
            rest.pop_front();
        }
        let keep = match then {
            Use::Call => 1,
            Use::Values => 0,
            // A primitive's operands are few; `apply` and
            // `call-with-values` have two.
            _ => usize::MAX,
        };
        if rest.front().is_some() && acc.len() >= keep.saturating_add(SPILL) {
            for (v, i) in globals.drain(..) {
                s.wraps.push(Wrap::Let(v, Value::Global(i)));
            }
            let list = self.spill(acc.drain(keep..), spilled, s);
            spilled = Some(list);
        }
        match rest.pop_front() {
            Some(e) => {
                s.frames.push(Frame::List(Operands {
                    rest,
                    acc,
                    globals,
                    spilled,
                    then,
                }));
                Some(Mode::Eval(e))
            }
            None => {
                for (v, i) in globals {
                    s.wraps.push(Wrap::Let(v, Value::Global(i)));
                }
                match spilled {
                    None => self.use_operands(acc, then, s),
                    Some(list) => {
                        let rev = self.spill(acc.drain(keep.min(acc.len())..), Some(list), s);
                        let t = self.fresh("args");
                        s.wraps
                            .push(Wrap::Let(t, Value::Prim(self.reverse, vec![rev])));
                        self.use_spilled(acc, Atom::Var(t), then, s)
                    }
                }
            }
        }
    }

    /// Conses `atoms` in order onto the list `onto` (`'()` if none), which
    /// is thus the last first.
    fn spill(
        &mut self,
        atoms: impl Iterator<Item = Atom>,
        onto: Option<Atom>,
        s: &mut Open,
    ) -> Atom {
        let mut list = onto.unwrap_or(Atom::Imm(rv::NULL.0));
        for a in atoms {
            let t = self.fresh("spill");
            s.wraps
                .push(Wrap::Let(t, Value::Prim(self.cons, vec![a, list])));
            list = Atom::Var(t);
        }
        list
    }

    /// Uses operands whose values are `head` (the procedure of a call)
    /// followed by the elements of `list`.
    fn use_spilled(
        &mut self,
        head: Vec<Atom>,
        list: Atom,
        then: Use,
        s: &mut Open,
    ) -> Option<Mode> {
        match then {
            Use::Values => self.reify(s, |_, _, j| {
                Tail::Term(Term::ContApply {
                    k: Atom::Var(j),
                    list,
                })
            }),
            _ => self.reify(s, |_, _, j| {
                Tail::Term(Term::Apply {
                    f: head.first().copied().unwrap_or(UNSPEC),
                    k: Atom::Var(j),
                    args: vec![],
                    list,
                })
            }),
        }
    }

    fn use_operands(&mut self, mut atoms: Vec<Atom>, then: Use, s: &mut Open) -> Option<Mode> {
        match then {
            Use::Call => {
                let f = if atoms.is_empty() {
                    UNSPEC
                } else {
                    atoms.remove(0)
                };
                self.reify(s, |_, _, j| {
                    Tail::Term(Term::App {
                        f,
                        k: Atom::Var(j),
                        args: atoms,
                    })
                })
            }
            Use::Prim(p) => Some(self.bind("t", Value::Prim(p, atoms), s)),
            Use::Apply => self.reify(s, |_, _, j| {
                Tail::Term(Term::Apply {
                    f: atoms.first().copied().unwrap_or(UNSPEC),
                    k: Atom::Var(j),
                    args: vec![],
                    list: atoms.get(1).copied().unwrap_or(UNSPEC),
                })
            }),
            Use::Values if atoms.len() == 1 => Some(Mode::Deliver(atoms[0])),
            Use::Values => self.reify(s, |_, _, j| {
                Tail::Term(Term::Cont {
                    k: Atom::Var(j),
                    args: atoms,
                })
            }),
            Use::CallWithValues => self.reify(s, |c, _, j| {
                let vals = c.fresh("vals");
                let cont = Lambda {
                    kind: LambdaKind::Cont,
                    params: vec![],
                    rest: Some(vals),
                    body: Term::Apply {
                        f: atoms.get(1).copied().unwrap_or(UNSPEC),
                        k: Atom::Var(j),
                        args: vec![],
                        list: Atom::Var(vals),
                    },
                    name: "values".into(),
                };
                let kv = c.fresh("k");
                let call = Term::App {
                    f: atoms.first().copied().unwrap_or(UNSPEC),
                    k: Atom::Var(kv),
                    args: vec![],
                };
                Tail::Term(Term::LetCont(kv, Box::new(cont), Box::new(call)))
            }),
        }
    }

    /// Passes `a` to the innermost frame; `None` when the segment ended.
    fn deliver(&mut self, a: Atom, s: &mut Open) -> Option<Mode> {
        let Some(frame) = s.frames.pop() else {
            s.tail = Some(Tail::Term(Term::Cont {
                k: Atom::Var(s.base),
                args: vec![a],
            }));
            return None;
        };
        match frame {
            Frame::Define(i) => {
                let t = self.fresh("_");
                let index = Atom::Imm(rv::Value::fixnum(i as i64).0);
                s.wraps.push(Wrap::Let(
                    t,
                    Value::Prim(self.define_global, vec![index, a]),
                ));
                Some(Mode::Deliver(UNSPEC))
            }
            Frame::If(t, e) => self.reify(s, |_, s, j| {
                let then = s.sub(t, j);
                let els = s.sub(e, j);
                Tail::If(a, then, els)
            }),
            Frame::List(mut ops) => {
                ops.acc.push(a);
                self.operands(ops.rest, ops.acc, ops.globals, ops.spilled, ops.then, s)
            }
            Frame::Seq(mut es) => {
                let next = es.pop_front().unwrap_or_else(Core::unspecified);
                if !es.is_empty() {
                    s.frames.push(Frame::Seq(es));
                }
                Some(Mode::Eval(next))
            }
            Frame::Let { v, binds, body } => {
                s.wraps.push(Wrap::Let(v, Value::Atom(a)));
                Some(self.bindings(binds, body, s))
            }
            Frame::CallCC => self.reify(s, |c, _, j| {
                // The continuation as a procedure: (lambda (k2 . vals) (k . vals)).
                let k2 = c.fresh("k");
                let vals = c.fresh("vals");
                let proc_ = Lambda {
                    kind: LambdaKind::Proc,
                    params: vec![k2],
                    rest: Some(vals),
                    body: Term::ContApply {
                        k: Atom::Var(j),
                        list: Atom::Var(vals),
                    },
                    name: "continuation".into(),
                };
                let r = c.fresh("kproc");
                let call = Term::App {
                    f: a,
                    k: Atom::Var(j),
                    args: vec![Atom::Var(r)],
                };
                Tail::Term(Term::Let(r, Value::Lambda(Box::new(proc_)), Box::new(call)))
            }),
            Frame::Suspend => self.reify(s, |_, _, j| {
                Tail::Term(Term::Suspend {
                    k: Atom::Var(j),
                    deadline: a,
                })
            }),
            Frame::CallWithValues(l) => self.reify(s, |c, s, j| {
                let l = *l;
                let sub = s.sub(l.body, j);
                let cont = Shell {
                    kind: LambdaKind::Cont,
                    params: l.params,
                    rest: l.rest,
                    name: "values".into(),
                    sub,
                };
                let kv = c.fresh("k");
                Tail::Consume { kv, cont, f: a }
            }),
        }
    }
}

/// Builds a segment's term from the terms of its sub-segments, in order.
fn assemble(seg: Segment, parts: Vec<Term>) -> Term {
    let mut parts: Vec<Option<Term>> = parts.into_iter().map(Some).collect();
    let mut take = |i: usize| {
        parts
            .get_mut(i)
            .and_then(Option::take)
            .unwrap_or(Term::Cont {
                k: UNSPEC,
                args: vec![],
            })
    };
    fn lambda(sh: Shell, body: Term) -> Lambda {
        Lambda {
            kind: sh.kind,
            params: sh.params,
            rest: sh.rest,
            body,
            name: sh.name,
        }
    }
    let fill = |tail: Tail, take: &mut dyn FnMut(usize) -> Term| match tail {
        Tail::Term(t) => t,
        Tail::If(a, t, e) => {
            let t = take(t);
            let e = take(e);
            Term::If(a, Box::new(t), Box::new(e))
        }
        Tail::Consume { kv, cont, f } => {
            let body = take(cont.sub);
            let call = Term::App {
                f,
                k: Atom::Var(kv),
                args: vec![],
            };
            Term::LetCont(kv, Box::new(lambda(cont, body)), Box::new(call))
        }
    };
    let mut t = fill(seg.tail, &mut take);
    for w in seg.wraps.into_iter().rev() {
        t = match w {
            Wrap::Let(v, val) => Term::Let(v, val, Box::new(t)),
            Wrap::LetLambda(v, sh) => {
                let body = take(sh.sub);
                Term::Let(v, Value::Lambda(Box::new(lambda(sh, body))), Box::new(t))
            }
            Wrap::LetRec(binds) => {
                let lams = binds
                    .into_iter()
                    .map(|(v, sh)| {
                        let body = take(sh.sub);
                        (v, lambda(sh, body))
                    })
                    .collect();
                Term::LetRec(lams, Box::new(t))
            }
            Wrap::LetCont(j, x, then) => {
                let cont = Lambda {
                    kind: LambdaKind::Cont,
                    params: vec![x],
                    rest: None,
                    body: t,
                    name: "cont".into(),
                };
                let then = fill(then, &mut take);
                Term::LetCont(j, Box::new(cont), Box::new(then))
            }
        };
    }
    t
}
