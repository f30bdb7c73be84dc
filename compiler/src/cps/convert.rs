//! CPS conversion: Core to CPS, one pass, higher-order (the continuation of
//! an expression is either a continuation variable or a meta-level Rust
//! closure), so no administrative redexes are built: a continuation is
//! reified as a `letcont` only where a call or an `if` needs one.

use super::{Atom, Lambda, LambdaKind, Program, Term, Value};
use crate::expand::core::{self as core, Core, VarId, VarNames};
use crate::prims::Prim;
use std::collections::HashMap;
use termite_runtime::program::Constant;
use termite_runtime::value as rv;

type MetaK = Box<dyn FnOnce(&mut Conv, Atom) -> Term>;
type ListK = Box<dyn FnOnce(&mut Conv, Vec<Atom>) -> Term>;

enum K {
    Var(VarId),
    Meta(MetaK),
}

pub struct Conv {
    pub vars: VarNames,
    constants: Vec<Constant>,
    const_index: HashMap<String, u32>,
    globals: Vec<String>,
    global_index: HashMap<String, u32>,
    define_global: Prim,
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
    };
    for g in well_known {
        c.global(g);
    }
    let k = c.vars.fresh("halt");
    let body = c.cps(Core::seq(p.body), K::Var(k));
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

    fn apply_k(&mut self, k: K, a: Atom) -> Term {
        match k {
            K::Var(kv) => Term::Cont {
                k: Atom::Var(kv),
                args: vec![a],
            },
            K::Meta(f) => f(self, a),
        }
    }

    /// Binds `value` to a fresh variable and passes it on.
    fn bind(&mut self, name: &str, value: Value, k: K) -> Term {
        let t = self.fresh(name);
        let rest = self.apply_k(k, Atom::Var(t));
        Term::Let(t, value, Box::new(rest))
    }

    /// A continuation variable for `k`, and the `letcont` that must wrap
    /// the term using it (when `k` was a meta-continuation).
    fn reify(&mut self, k: K) -> (VarId, Option<Box<Lambda>>) {
        match k {
            K::Var(v) => (v, None),
            K::Meta(f) => {
                let x = self.fresh("v");
                let body = f(self, Atom::Var(x));
                let j = self.fresh("k");
                (
                    j,
                    Some(Box::new(Lambda {
                        kind: LambdaKind::Cont,
                        params: vec![x],
                        rest: None,
                        body,
                        name: "cont".into(),
                    })),
                )
            }
        }
    }

    fn wrap(j: VarId, lam: Option<Box<Lambda>>, t: Term) -> Term {
        match lam {
            Some(l) => Term::LetCont(j, l, Box::new(t)),
            None => t,
        }
    }
    /// Converts `es` left to right and passes their atoms to `k`. Global
    /// references are read last, just before `k`'s term: a global read
    /// early would be captured by the continuations of the calls after it.
    fn cps_list(&mut self, es: std::collections::VecDeque<Core>, acc: Vec<Atom>, k: ListK) -> Term {
        self.cps_list_deferred(es, acc, Vec::new(), k)
    }

    fn cps_list_deferred(
        &mut self,
        mut es: std::collections::VecDeque<Core>,
        mut acc: Vec<Atom>,
        mut globals: Vec<(VarId, u32)>,
        k: ListK,
    ) -> Term {
        // Atoms need no continuation: take them without nesting.
        while let Some(e) = es.front() {
            match e {
                Core::Global(g, _) => {
                    let i = self.global(g);
                    let v = self.fresh("g");
                    globals.push((v, i));
                    acc.push(Atom::Var(v));
                    es.pop_front();
                }
                Core::Const(c) => {
                    let a = self.constant(c.clone());
                    acc.push(a);
                    es.pop_front();
                }
                Core::Local(v) => {
                    acc.push(Atom::Var(*v));
                    es.pop_front();
                }
                _ => break,
            }
        }
        match es.pop_front() {
            None => {
                let mut t = k(self, acc);
                for (v, i) in globals.into_iter().rev() {
                    t = Term::Let(v, Value::Global(i), Box::new(t));
                }
                t
            }
            Some(e) => self.cps(
                e,
                K::Meta(Box::new(move |c, a| {
                    acc.push(a);
                    c.cps_list_deferred(es, acc, globals, k)
                })),
            ),
        }
    }

    pub fn cps_lambda(&mut self, l: core::Lambda) -> Lambda {
        let k = self.fresh("k");
        let mut params = vec![k];
        params.extend(l.params);
        let body = self.cps(l.body, K::Var(k));
        Lambda {
            kind: LambdaKind::Proc,
            params,
            rest: l.rest,
            body,
            name: l.name,
        }
    }

    fn cps(&mut self, e: Core, k: K) -> Term {
        match e {
            Core::Const(c) => {
                let a = self.constant(c);
                self.apply_k(k, a)
            }
            Core::Local(v) => self.apply_k(k, Atom::Var(v)),
            Core::Global(g, _) => {
                let i = self.global(&g);
                self.bind("g", Value::Global(i), k)
            }
            Core::Define(g, e) => {
                let i = self.global(&g);
                let dg = self.define_global;
                self.cps(
                    *e,
                    K::Meta(Box::new(move |c, a| {
                        let t = c.fresh("_");
                        let index = Atom::Imm(rv::Value::fixnum(i as i64).0);
                        let rest = c.apply_k(k, UNSPEC);
                        Term::Let(t, Value::Prim(dg, vec![index, a]), Box::new(rest))
                    })),
                )
            }
            Core::Lambda(l) => {
                let lam = self.cps_lambda(*l);
                let name = lam.name.clone();
                self.bind(&name, Value::Lambda(Box::new(lam)), k)
            } // (if (not c) t e) is (if c e t).
            Core::If(c, t, e) if matches!(&*c, Core::Prim(p, args, _) if p.name() == "%not" && args.len() == 1) =>
            {
                let Core::Prim(_, mut args, _) = *c else {
                    return self.apply_k(k, UNSPEC);
                };
                let inner = args.pop().unwrap_or_else(Core::unspecified);
                self.cps(Core::If(Box::new(inner), e, t), k)
            }
            Core::If(c, t, e) => self.cps(
                *c,
                K::Meta(Box::new(move |cv, a| {
                    let (j, lam) = cv.reify(k);
                    let then = cv.cps(*t, K::Var(j));
                    let els = cv.cps(*e, K::Var(j));
                    Conv::wrap(j, lam, Term::If(a, Box::new(then), Box::new(els)))
                })),
            ),
            Core::Call(f, args, _) => {
                let mut es = std::collections::VecDeque::from(args);
                es.push_front(*f);
                self.cps_list(
                    es,
                    Vec::new(),
                    Box::new(move |c, mut atoms| {
                        let f = atoms.remove(0);
                        let (j, lam) = c.reify(k);
                        Conv::wrap(
                            j,
                            lam,
                            Term::App {
                                f,
                                k: Atom::Var(j),
                                args: atoms,
                            },
                        )
                    }),
                )
            }
            Core::Prim(p, args, _) => self.cps_list(
                args.into(),
                Vec::new(),
                Box::new(move |c, atoms| c.bind("t", Value::Prim(p, atoms), k)),
            ),
            Core::Seq(mut es) => {
                let Some(last) = es.pop() else {
                    return self.apply_k(k, UNSPEC);
                };
                if es.is_empty() {
                    return self.cps(last, k);
                }
                let first = es.remove(0);
                es.push(last);
                self.cps(
                    first,
                    K::Meta(Box::new(move |c, _| c.cps(Core::seq(es), k))),
                )
            }
            Core::Let(binds, body) => self.cps_let(binds.into(), *body, k),
            Core::Letrec(binds, body) => {
                let lams = binds
                    .into_iter()
                    .map(|(v, l)| (v, self.cps_lambda(l)))
                    .collect();
                let body = self.cps(*body, k);
                Term::LetRec(lams, Box::new(body))
            }
            Core::CallCC(f) => self.cps(
                *f,
                K::Meta(Box::new(move |c, fa| {
                    let (j, lam) = c.reify(k);
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
                        f: fa,
                        k: Atom::Var(j),
                        args: vec![Atom::Var(r)],
                    };
                    Conv::wrap(
                        j,
                        lam,
                        Term::Let(r, Value::Lambda(Box::new(proc_)), Box::new(call)),
                    )
                })),
            ),
            Core::Suspend(d) => self.cps(
                *d,
                K::Meta(Box::new(move |c, deadline| {
                    let (j, lam) = c.reify(k);
                    Conv::wrap(
                        j,
                        lam,
                        Term::Suspend {
                            k: Atom::Var(j),
                            deadline,
                        },
                    )
                })),
            ),
            Core::Apply(f, l) => self.cps_list(
                vec![*f, *l].into(),
                Vec::new(),
                Box::new(move |c, atoms| {
                    let (j, lam) = c.reify(k);
                    Conv::wrap(
                        j,
                        lam,
                        Term::Apply {
                            f: atoms[0],
                            k: Atom::Var(j),
                            args: vec![],
                            list: atoms[1],
                        },
                    )
                }),
            ),
            Core::Values(es) => self.cps_list(
                es.into(),
                Vec::new(),
                Box::new(move |c, atoms| match (atoms.len(), k) {
                    (1, k) => c.apply_k(k, atoms[0]),
                    (_, k) => {
                        let (j, lam) = c.reify(k);
                        Conv::wrap(
                            j,
                            lam,
                            Term::Cont {
                                k: Atom::Var(j),
                                args: atoms,
                            },
                        )
                    }
                }),
            ),
            Core::CallWithValues(p, consumer) => {
                if let Core::Lambda(l) = *consumer {
                    // The consumer becomes the producer's continuation.
                    return self.cps(
                        *p,
                        K::Meta(Box::new(move |c, pa| {
                            let (j, lam) = c.reify(k);
                            let body = c.cps(l.body, K::Var(j));
                            let cont = Lambda {
                                kind: LambdaKind::Cont,
                                params: l.params,
                                rest: l.rest,
                                body,
                                name: "values".into(),
                            };
                            let kv = c.fresh("k");
                            let call = Term::App {
                                f: pa,
                                k: Atom::Var(kv),
                                args: vec![],
                            };
                            Conv::wrap(j, lam, Term::LetCont(kv, Box::new(cont), Box::new(call)))
                        })),
                    );
                }
                self.cps_list(
                    vec![*p, *consumer].into(),
                    Vec::new(),
                    Box::new(move |c, atoms| {
                        let (j, lam) = c.reify(k);
                        let vals = c.fresh("vals");
                        let cont = Lambda {
                            kind: LambdaKind::Cont,
                            params: vec![],
                            rest: Some(vals),
                            body: Term::Apply {
                                f: atoms[1],
                                k: Atom::Var(j),
                                args: vec![],
                                list: Atom::Var(vals),
                            },
                            name: "values".into(),
                        };
                        let kv = c.fresh("k");
                        let call = Term::App {
                            f: atoms[0],
                            k: Atom::Var(kv),
                            args: vec![],
                        };
                        Conv::wrap(j, lam, Term::LetCont(kv, Box::new(cont), Box::new(call)))
                    }),
                )
            }
        }
    }

    fn cps_let(
        &mut self,
        mut binds: std::collections::VecDeque<(VarId, Core)>,
        body: Core,
        k: K,
    ) -> Term {
        match binds.pop_front() {
            None => self.cps(body, k),
            Some((v, Core::Lambda(l))) => {
                let lam = self.cps_lambda(*l);
                let rest = self.cps_let(binds, body, k);
                Term::Let(v, Value::Lambda(Box::new(lam)), Box::new(rest))
            }
            Some((v, init)) => self.cps(
                init,
                K::Meta(Box::new(move |c, a| {
                    let rest = c.cps_let(binds, body, k);
                    Term::Let(v, Value::Atom(a), Box::new(rest))
                })),
            ),
        }
    }
}
