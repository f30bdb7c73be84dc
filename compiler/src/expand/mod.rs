//! The expander: `Datum`s to the Core language (see `core.rs` for its
//! grammar).
//!
//! It resolves every identifier in a chain of scopes (`Scope`), expands
//! `syntax-rules` macros hygienically (see `syntax_rules.rs`), turns the
//! derived forms of R7RS into Core, compiles `match`/`recv` patterns
//! (`pattern.rs`) and refuses mutation. Calls to standard procedures that the
//! program does not redefine become primitive applications.

pub mod core;
pub mod inline;
mod pattern;
pub mod syntax_rules;

use self::core::{Core, Lambda, Program, VarId, VarNames};
use self::syntax_rules::{MARK, Macro, split_mark, strip};
use crate::diag::Diagnostic;
use crate::prims::Prim;
use crate::read::{Datum, DatumKind, Span};
use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet};
use std::rc::{Rc, Weak};
use termite_runtime::prims::VARIADIC;
use termite_runtime::program::Constant;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Special {
    Quote,
    Quasiquote,
    Lambda,
    NamedLambda,
    Define,
    If,
    Let,
    LetStar,
    Letrec,
    Begin,
    Cond,
    Case,
    And,
    Or,
    Do,
    DefineSyntax,
    LetSyntax,
    LetrecSyntax,
    SyntaxRules,
    DefineRecordType,
    CaseLambda,
    LetValues,
    LetStarValues,
    DefineValues,
    Receive,
    Match,
    Recv,
    Mutation,
}

const SPECIALS: &[(&str, Special)] = &[
    ("quote", Special::Quote),
    ("quasiquote", Special::Quasiquote),
    ("lambda", Special::Lambda),
    ("named-lambda", Special::NamedLambda),
    ("define", Special::Define),
    ("if", Special::If),
    ("let", Special::Let),
    ("let*", Special::LetStar),
    ("letrec", Special::Letrec),
    ("letrec*", Special::Letrec),
    ("begin", Special::Begin),
    ("cond", Special::Cond),
    ("case", Special::Case),
    ("and", Special::And),
    ("or", Special::Or),
    ("do", Special::Do),
    ("define-syntax", Special::DefineSyntax),
    ("let-syntax", Special::LetSyntax),
    ("letrec-syntax", Special::LetrecSyntax),
    ("syntax-rules", Special::SyntaxRules),
    ("define-record-type", Special::DefineRecordType),
    ("case-lambda", Special::CaseLambda),
    ("let-values", Special::LetValues),
    ("let*-values", Special::LetStarValues),
    ("define-values", Special::DefineValues),
    ("receive", Special::Receive),
    ("match", Special::Match),
    ("recv", Special::Recv),
    ("set!", Special::Mutation),
];

/// Standard procedures that mutate: Termite refuses them at compile time.
const MUTATORS: &[&str] = &[
    "set-car!",
    "set-cdr!",
    "vector-set!",
    "vector-fill!",
    "vector-copy!",
    "string-set!",
    "string-fill!",
    "string-copy!",
    "bytevector-u8-set!",
    "bytevector-copy!",
    "list-set!",
];

#[derive(Clone)]
pub enum Binding {
    Local(VarId),
    Macro(Rc<Macro>),
    Special(Special),
    Global(String),
}

pub struct Scope {
    vars: RefCell<HashMap<String, Binding>>,
    parent: Option<Env>,
    /// Distance to the root.
    depth: usize,
    /// A level-ancestor pointer (Myers' skew-binary jumps): the ancestor
    /// at a given depth is found in O(log depth) steps.
    jump: Option<Env>,
    /// Set when the scope gets its first child.
    sealed: Cell<bool>,
}

pub type Env = Rc<Scope>;

fn child(parent: &Env) -> Env {
    parent.sealed.set(true);
    let jump = match parent
        .jump
        .as_ref()
        .and_then(|j| j.jump.as_ref().map(|jj| (j, jj)))
    {
        Some((j, jj)) if parent.depth - j.depth == j.depth - jj.depth => jj.clone(),
        _ => parent.clone(),
    };
    Rc::new(Scope {
        vars: RefCell::new(HashMap::new()),
        parent: Some(parent.clone()),
        depth: parent.depth + 1,
        jump: Some(jump),
        sealed: Cell::new(false),
    })
}

/// The ancestor (or self) of `s` at `depth` (at most `s.depth`).
fn ancestor_at(mut s: &Scope, depth: usize) -> &Scope {
    while s.depth > depth {
        s = match (&s.jump, &s.parent) {
            (Some(j), _) if j.depth >= depth => j,
            (_, Some(p)) => p,
            _ => break,
        };
    }
    s
}

/// Where each name is bound, for `Expander::resolve`: the scopes (other
/// than the root) that bind it, in the order the bindings were made.
/// Walking the chain of scopes instead made a lookup cost the depth of the
/// program (a `let*` of n bindings was quadratic).
///
/// A scope gets its bindings before its first child scope exists, so along
/// any chain of scopes the bindings of a name were made in order of depth:
/// the last entry whose scope is an ancestor of the lookup's scope is the
/// nearest binding. A binding made in a scope that already has children
/// would break that order; it switches `resolve` to walking the chain.
#[derive(Default)]
struct BindingIndex {
    by_name: HashMap<String, Vec<Weak<Scope>>>,
    /// Whether the order above was broken.
    unordered: bool,
}

type R<T> = Result<T, Diagnostic>;

fn err<T>(span: Span, msg: impl Into<String>) -> R<T> {
    Err(Diagnostic::error(span, msg))
}

fn mutation_error(span: Span, what: &str) -> Diagnostic {
    Diagnostic::error(
        span,
        format!("`{what}` is mutation, and Termite has no mutation"),
    )
    .with_note("keep changing state in a process and talk to it with messages (paper section 4.6)")
}

/// What the expander knows about a global procedure defined by `define`.
#[derive(Clone, Copy, Debug)]
struct Arity {
    required: usize,
    rest: bool,
}

/// The most arguments of a call to a variadic standard procedure (`+`,
/// `list`, `append`, ...) that is open-coded (see `variadic_call`).
pub const OPEN_CODE_MAX: usize = 16;

/// Nesting of expressions the expander follows (its recursion depth). The
/// stack can end it first (`STACK_RESERVE`).
pub const MAX_NESTING: usize = 1_000_000;
/// Stack the expander leaves free below its deepest call: it refuses to
/// nest further (with the diagnostic of `MAX_NESTING`) when less is left,
/// so a nesting that its frames cannot hold ends in a diagnostic, never a
/// stack overflow, whatever the frames' sizes (a debug build's are several
/// times a release build's).
pub const STACK_RESERVE: usize = 16 << 20;

thread_local! {
    /// The lowest address the current thread's stack reaches (0: unknown).
    static STACK_FLOOR: Cell<usize> = const { Cell::new(0) };
}

/// Declares that the current thread has `size` bytes of stack below the
/// caller's frame (the driver calls it at the start of its thread).
pub fn set_stack_size(size: usize) {
    STACK_FLOOR.with(|f| f.set(stack_address().saturating_sub(size)));
}

/// An address in the current frame.
fn stack_address() -> usize {
    let here = 0u8;
    std::hint::black_box(&here) as *const u8 as usize
}

/// Whether less than `STACK_RESERVE` is left on a thread whose stack is known.
fn stack_short() -> bool {
    let floor = STACK_FLOOR.with(Cell::get);
    floor != 0 && stack_address() < floor.saturating_add(STACK_RESERVE)
}
/// Nested macro expansions: a use whose keyword an expansion introduced is
/// one level deeper than that expansion.
pub const MAX_EXPANSION_DEPTH: usize = 10_000;
/// Data made by all the macro expansions of a program, in datum nodes.
pub const MAX_EXPANSION_WORK: usize = 16_000_000;
/// Data made by one macro expansion, in datum nodes.
pub const MAX_EXPANSION_SIZE: usize = 1_000_000;

/// What an expansion mark stands for.
struct MarkInfo {
    /// Where the symbols it marks are resolved when nothing binds them.
    env: Env,
    /// Whether the symbols it marks were written by the implementation (a
    /// library macro's template or the expander itself): only those may
    /// name internals (`%` names).
    privileged: bool,
    /// Nested expansions that led to this one.
    depth: usize,
}

/// The mark of the symbols the expander writes itself.
const INTERNAL_MARK: usize = 0;

pub struct Expander {
    pub vars: VarNames,
    root: Env,
    /// Where each name is bound (the scopes other than the root).
    index: RefCell<BindingIndex>,
    /// The definition environment of each expansion mark.
    marks: Vec<MarkInfo>,
    /// Current recursion depth of `expand`.
    nesting: usize,
    /// Datum nodes made by macro expansions so far.
    expansion_work: usize,
    /// Globals the user program defines (they shadow standard procedures).
    user_defined: HashSet<String>,
    /// Arity of globals defined by the standard library as procedures.
    stdlib_arity: HashMap<String, Arity>,
    /// Whether the forms being expanded are the standard library's.
    in_stdlib: bool,
    /// Whether the program may name internals too (`--no-stdlib`: the
    /// passes' golden tests are written with primitives).
    program_privileged: bool,
    /// Every global the program defines, and where it is first referenced.
    pub defined: HashSet<String>,
    pub referenced: Vec<(String, Span)>,
    /// How many `define-record-type` forms of each name and field names
    /// were expanded so far: the ordinal is part of the type's identity
    /// (the same on every node running the program, see runtime/src/records.rs).
    record_sites: HashMap<String, i64>,
}

impl Default for Expander {
    fn default() -> Self {
        Self::new()
    }
}

impl Expander {
    pub fn new() -> Expander {
        let root = Rc::new(Scope {
            vars: RefCell::new(HashMap::new()),
            parent: None,
            depth: 0,
            jump: None,
            sealed: Cell::new(false),
        });
        for (name, s) in SPECIALS {
            root.vars
                .borrow_mut()
                .insert(name.to_string(), Binding::Special(*s));
        }
        Expander {
            vars: VarNames::default(),
            marks: vec![MarkInfo {
                env: root.clone(),
                privileged: true,
                depth: 0,
            }],
            root,
            index: RefCell::default(),
            nesting: 0,
            expansion_work: 0,
            user_defined: HashSet::new(),
            record_sites: HashMap::new(),
            stdlib_arity: HashMap::new(),
            in_stdlib: false,
            program_privileged: false,
            defined: HashSet::new(),
            referenced: Vec::new(),
        }
    }

    /// Lets the program name internals (`%car`), as the library does: for
    /// compiling without the standard library only.
    pub fn allow_internals(&mut self) {
        self.program_privileged = true;
    }

    /// Names the globals of the user program before expanding anything, so
    /// that a standard procedure the program redefines is never inlined.
    pub fn declare_user_globals(&mut self, forms: &[Datum]) {
        for f in forms {
            if let Some(items) = f.list()
                && items.len() >= 2
                && matches!(
                    items[0].sym(),
                    Some("define") | Some("define-values") | Some("define-record-type")
                )
            {
                let mut names = Vec::new();
                collect_defined_names(&items[1..], items[0].sym().unwrap_or(""), &mut names);
                self.user_defined.extend(names);
            }
        }
    }

    /// Expands top-level forms (of the standard library when `stdlib`).
    pub fn expand_toplevel(&mut self, forms: &[Datum], stdlib: bool) -> R<Vec<Core>> {
        self.in_stdlib = stdlib;
        let mut out = Vec::new();
        let mut queue: Vec<Cow<Datum>> = forms.iter().rev().map(Cow::Borrowed).collect();
        while let Some(form) = queue.pop() {
            let env = self.root.clone();
            match self.classify(form, &env)? {
                Form::Begin(items) => queue.extend(items.into_iter().rev().map(Cow::Owned)),
                Form::Define(name, init, _) => {
                    let name = self.lib_name(strip(&name).to_string());
                    if !stdlib {
                        // A program's own definition replaces a library macro of that name.
                        let shadows =
                            matches!(self.root.vars.borrow().get(&name), Some(Binding::Macro(_)));
                        if shadows {
                            self.root.vars.borrow_mut().remove(&name);
                        }
                    }
                    let value = self.expand_named(&init, &env, &name)?;
                    if let Core::Lambda(l) = &value
                        && stdlib
                    {
                        self.stdlib_arity.insert(
                            name.clone(),
                            Arity {
                                required: l.params.len(),
                                rest: l.rest.is_some(),
                            },
                        );
                    }
                    self.defined.insert(name.clone());
                    out.push(Core::Define(name, Box::new(value)));
                }
                Form::DefineSyntax(name, mac) => {
                    self.root
                        .vars
                        .borrow_mut()
                        .insert(strip(&name).to_string(), Binding::Macro(mac));
                }
                Form::Expr(d) => out.push(self.expand(&d, &env)?),
            }
        }
        Ok(out)
    }

    pub fn finish(self, body: Vec<Core>) -> Program {
        Program {
            body,
            vars: self.vars,
        }
    }

    /// The first reference to a global that nothing defines.
    pub fn first_unbound(&self) -> Option<(String, Span)> {
        self.referenced
            .iter()
            .find(|(g, _)| !self.defined.contains(g))
            .cloned()
    }

    fn resolve(&self, name: &str, env: &Env) -> Binding {
        if let Some(b) = self.resolve_local(name, env) {
            return b;
        }
        if let Some(b) = self.root.vars.borrow().get(name) {
            return b.clone();
        }
        if let Some((base, mark)) = split_mark(name)
            && let Some(info) = self.marks.get(mark)
        {
            return self.resolve(base, &info.env);
        }
        Binding::Global(strip(name).to_string())
    }

    /// The binding of `name` in the nearest scope around `env` other than
    /// the root.
    fn resolve_local(&self, name: &str, env: &Env) -> Option<Binding> {
        let mut index = self.index.borrow_mut();
        if index.unordered {
            let mut scope = Some(env);
            while let Some(s) = scope.filter(|s| s.parent.is_some()) {
                if let Some(b) = s.vars.borrow().get(name) {
                    return Some(b.clone());
                }
                scope = s.parent.as_ref();
            }
            return None;
        }
        let scopes = index.by_name.get_mut(name)?;
        // The scopes of finished forms are gone: forget them.
        while scopes.last().is_some_and(|w| w.strong_count() == 0) {
            scopes.pop();
        }
        for w in scopes.iter().rev() {
            let Some(s) = w.upgrade() else { continue };
            if s.depth <= env.depth && std::ptr::eq(ancestor_at(env, s.depth), &*s) {
                return s.vars.borrow().get(name).cloned();
            }
        }
        None
    }

    /// Binds `name` in `scope` (not the root).
    fn bind(&self, scope: &Env, name: String, b: Binding) {
        let mut index = self.index.borrow_mut();
        if scope.sealed.get() {
            index.unordered = true;
        }
        if scope.vars.borrow_mut().insert(name.clone(), b).is_none() && !index.unordered {
            index
                .by_name
                .entry(name)
                .or_default()
                .push(Rc::downgrade(scope));
        }
    }

    fn special_of(&self, d: &Datum, env: &Env) -> Option<Special> {
        match self.resolve(d.sym()?, env) {
            Binding::Special(s) => Some(s),
            _ => None,
        }
    }

    /// Whether `d` is the auxiliary keyword `kw` (`else`, `=>`, …).
    fn is_keyword(&self, d: &Datum, kw: &str) -> bool {
        d.sym().is_some_and(|s| strip(s) == kw)
    }

    /// Whether `d` is the auxiliary keyword `kw` as the standard forms
    /// mean it: same name and same binding (a program that binds `else`
    /// locally has no `else` clause in its scope).
    fn is_aux_keyword(&self, d: &Datum, kw: &str, env: &Env) -> bool {
        d.sym().is_some_and(|s| {
            strip(s) == kw && same_binding(&self.resolve(s, env), &self.resolve(kw, &self.root))
        })
    }

    /// Whether a symbol was written by the implementation rather than by the
    /// program: the standard library's source, a library macro's template, or
    /// the expander itself. The first mark of a symbol is the expansion whose
    /// template wrote it; an unmarked symbol comes from the file being
    /// expanded.
    fn privileged(&self, name: &str) -> bool {
        match name.split(MARK).nth(1) {
            None => self.in_stdlib || self.program_privileged,
            Some(m) => m
                .parse::<usize>()
                .ok()
                .and_then(|m| self.marks.get(m))
                .is_some_and(|info| info.privileged),
        }
    }

    /// Refuses a program's reference to an internal global (`%car`,
    /// `%lib:map`, …): to the program it does not exist.
    fn check_internal(&self, name: &str, span: Span) -> R<()> {
        if strip(name).starts_with('%') && !self.privileged(name) {
            return Err(unbound_error(span, strip(name)));
        }
        Ok(())
    }

    /// Refuses a program's definition of a `%` name: those are the
    /// implementation's, and a program's definition would replace them.
    fn check_reserved(&self, name: &str, span: Span) -> R<()> {
        if strip(name).starts_with('%') && !self.privileged(name) {
            return Err(Diagnostic::error(
                span,
                format!(
                    "names starting with `%` are reserved for the implementation: `{}`",
                    strip(name)
                ),
            ));
        }
        Ok(())
    }

    /// A new expansion mark for symbols the expander writes itself.
    fn internal_mark(&mut self) -> usize {
        self.marks.push(MarkInfo {
            env: self.root.clone(),
            privileged: true,
            depth: 0,
        });
        self.marks.len() - 1
    }

    fn bind_var(&mut self, env: &Env, d: &Datum) -> R<VarId> {
        let Some(name) = d.sym() else {
            return err(d.span, format!("expected a variable name, found `{d}`"));
        };
        let v = self.vars.fresh(strip(name));
        self.bind(env, name.to_string(), Binding::Local(v));
        Ok(v)
    }

    /// Expands macro uses at the head of `form` until it is a definition,
    /// a `begin`, or an expression.
    /// A form that is an expression comes back as it was given (borrowed
    /// forms are not copied: copying every body at every level of nesting
    /// made deep programs quadratic).
    fn classify<'a>(&mut self, form: Cow<'a, Datum>, env: &Env) -> R<Form<'a>> {
        let mut form = form;
        loop {
            let Some(items) = form.list() else {
                return Ok(Form::Expr(form));
            };
            let Some(head) = items.first() else {
                return Ok(Form::Expr(form));
            };
            let Some(hname) = head.sym() else {
                return Ok(Form::Expr(form));
            };
            match self.resolve(hname, env) {
                Binding::Macro(m) => {
                    form = Cow::Owned(self.expand_macro(&m, &form, env)?);
                }
                Binding::Special(Special::Begin) => return Ok(Form::Begin(items[1..].to_vec())),
                Binding::Special(Special::Define) => {
                    let (name, init) = self.parse_define(&form, items)?;
                    return Ok(Form::Define(name, init, form.span));
                }
                Binding::Special(Special::DefineSyntax) => {
                    if items.len() != 3 {
                        return err(
                            form.span,
                            "bad syntax: expected (define-syntax name (syntax-rules ...))",
                        );
                    }
                    let Some(name) = items[1].sym() else {
                        return err(items[1].span, "bad syntax: define-syntax needs a name");
                    };
                    let mac = self.parse_transformer(&items[2], env, name)?;
                    return Ok(Form::DefineSyntax(name.to_string(), mac));
                }
                Binding::Special(Special::DefineValues) => {
                    let form = self.define_values(&form, items)?;
                    return Ok(Form::Begin(
                        form.list().map(|x| x[1..].to_vec()).unwrap_or_default(),
                    ));
                }
                Binding::Special(Special::DefineRecordType) => {
                    return Ok(Form::Begin(self.define_record_type(&form, items)?));
                }
                _ => return Ok(Form::Expr(form)),
            }
        }
    }

    fn expand_macro(&mut self, m: &Rc<Macro>, form: &Datum, env: &Env) -> R<Datum> {
        // A use whose keyword an expansion wrote is one level deeper.
        let depth = form
            .list()
            .and_then(|items| items.first())
            .and_then(|head| head.sym())
            .and_then(split_mark)
            .and_then(|(_, m)| self.marks.get(m))
            .map_or(0, |info| info.depth)
            + 1;
        if depth > MAX_EXPANSION_DEPTH {
            return Err(Diagnostic::error(
                form.span,
                format!(
                    "macro expansion too deep: more than {MAX_EXPANSION_DEPTH} nested uses of `{}`",
                    strip(&m.name)
                ),
            )
            .with_note("does the macro expand into a use of itself that never ends?"));
        }
        let mark = self.marks.len();
        self.marks.push(MarkInfo {
            env: m.env.clone(),
            privileged: m.privileged,
            depth,
        });
        let lit_eq =
            |f: &str, lit: &str| same_binding(&self.resolve(f, env), &self.resolve(lit, &m.env));
        let out = m
            .expand(form, mark, &lit_eq)
            .map_err(|e| Diagnostic::error(form.span, e))?;
        let size = datum_size(&out, MAX_EXPANSION_SIZE);
        self.expansion_work += size;
        if size > MAX_EXPANSION_SIZE || self.expansion_work > MAX_EXPANSION_WORK {
            return Err(Diagnostic::error(
                form.span,
                format!(
                    "macro expansion too large: the uses of `{}` make more than {} nodes of code",
                    strip(&m.name),
                    if size > MAX_EXPANSION_SIZE {
                        MAX_EXPANSION_SIZE
                    } else {
                        MAX_EXPANSION_WORK
                    }
                ),
            )
            .with_note("does the macro expand into a use of itself that never ends?"));
        }
        Ok(out)
    }

    fn parse_define(&mut self, form: &Datum, items: &[Datum]) -> R<(String, Datum)> {
        if items.len() < 2 {
            return err(
                form.span,
                "bad syntax: expected (define name value) or (define (name arg ...) body ...)",
            );
        }
        match &items[1].kind {
            DatumKind::Sym(name) => {
                self.check_reserved(name, items[1].span)?;
                let init = match items.len() {
                    2 => Datum {
                        kind: DatumKind::List(
                            vec![sym("quote", form.span), sym("#!unspecified", form.span)],
                            None,
                        ),
                        span: form.span,
                    },
                    3 => items[2].clone(),
                    _ => return err(form.span, "bad syntax: (define name value) takes one value"),
                };
                Ok((name.clone(), init))
            }
            DatumKind::List(sig, rest) if !sig.is_empty() => {
                if items.len() < 3 {
                    return err(form.span, "bad syntax: a procedure definition needs a body");
                }
                // (define ((curried a) b) ...) is (define (curried a) (lambda (b) ...)).
                let name_part = &sig[0];
                let params = Datum {
                    kind: DatumKind::dotted_or_list(sig[1..].to_vec(), rest.as_deref().cloned()),
                    span: items[1].span,
                };
                let mut lam = vec![sym("named-lambda", form.span)];
                let target_name = match name_part.sym() {
                    Some(n) => {
                        self.check_reserved(n, name_part.span)?;
                        n.to_string()
                    }
                    None => "lambda".to_string(),
                };
                lam.push(Datum {
                    kind: DatumKind::dotted_or_list(
                        vec![sym(&target_name, name_part.span)],
                        Some(params),
                    ),
                    span: items[1].span,
                });
                lam.extend(items[2..].iter().cloned());
                let lam = Datum {
                    kind: DatumKind::List(lam, None),
                    span: form.span,
                };
                if name_part.sym().is_some() {
                    Ok((target_name, lam))
                } else {
                    let inner = Datum {
                        kind: DatumKind::List(
                            vec![sym("define", form.span), name_part.clone(), lam],
                            None,
                        ),
                        span: form.span,
                    };
                    let inner_items = inner.list().map(<[Datum]>::to_vec).unwrap_or_default();
                    self.parse_define(&inner, &inner_items)
                }
            }
            _ => err(
                items[1].span,
                "bad syntax: define needs a name or (name arg ...)",
            ),
        }
    }

    fn parse_transformer(&mut self, spec: &Datum, env: &Env, name: &str) -> R<Rc<Macro>> {
        let Some(items) = spec.list() else {
            return err(
                spec.span,
                "bad syntax: expected (syntax-rules (literal ...) (pattern template) ...)",
            );
        };
        if items.is_empty() || self.special_of(&items[0], env) != Some(Special::SyntaxRules) {
            return err(spec.span, "only syntax-rules transformers are supported");
        }
        let (ellipsis, lits_at) = match items.get(1).and_then(|d| d.sym()) {
            Some(e) => (e.to_string(), 2),
            None => ("...".to_string(), 1),
        };
        let Some(lits) = items.get(lits_at).and_then(|d| d.list()) else {
            return err(
                spec.span,
                "bad syntax: syntax-rules needs a list of literals",
            );
        };
        let literals = lits
            .iter()
            .filter_map(|d| d.sym().map(str::to_string))
            .collect();
        let mut rules = Vec::new();
        for r in &items[lits_at + 1..] {
            match r.list() {
                Some([p, t]) => rules.push((p.clone(), t.clone())),
                _ => return err(r.span, "bad syntax: a syntax rule is (pattern template)"),
            }
        }
        Ok(Rc::new(Macro {
            name: name.to_string(),
            literals,
            ellipsis,
            rules,
            env: env.clone(),
            privileged: self.in_stdlib || self.program_privileged,
        }))
    }

    fn expand_named(&mut self, d: &Datum, env: &Env, name: &str) -> R<Core> {
        let mut c = self.expand(d, env)?;
        if let Core::Lambda(l) = &mut c
            && l.name == "lambda"
        {
            l.name = name.to_string();
        }
        Ok(c)
    }

    pub fn expand(&mut self, d: &Datum, env: &Env) -> R<Core> {
        if self.nesting >= MAX_NESTING {
            return err(
                d.span,
                format!("expression nested too deeply (more than {MAX_NESTING} levels)"),
            );
        }
        if stack_short() {
            return err(
                d.span,
                format!(
                    "expression nested too deeply ({} levels fill the compiler's stack)",
                    self.nesting
                ),
            );
        }
        self.nesting += 1;
        let out = self.expand_inner(d, env);
        self.nesting -= 1;
        out
    }

    fn expand_inner(&mut self, d: &Datum, env: &Env) -> R<Core> {
        match &d.kind {
            DatumKind::Sym(name) => self.expand_ref(name, d.span, env),
            DatumKind::List(items, None) if !items.is_empty() => self.expand_form(d, items, env),
            DatumKind::List(items, None) if items.is_empty() => err(
                d.span,
                "bad syntax: `()` is not an expression (quote it: '())",
            ),
            DatumKind::List(..) => err(d.span, "bad syntax: a dotted list is not an expression"),
            DatumKind::Vector(_) | DatumKind::Bytevector(_) => Ok(Core::Const(self.constant(d))),
            _ => Ok(Core::Const(self.constant(d))),
        }
    }

    /// The global a library name refers to: the library's own definitions
    /// live apart from a program's definitions of the same names.
    fn lib_name(&self, g: String) -> String {
        if self.in_stdlib && self.user_defined.contains(&g) {
            format!("%lib:{g}")
        } else {
            g
        }
    }

    fn expand_ref(&mut self, name: &str, span: Span, env: &Env) -> R<Core> {
        match self.resolve(name, env) {
            Binding::Local(v) => Ok(Core::Local(v)),
            Binding::Global(g) => {
                self.check_internal(name, span)?;
                let g = self.lib_name(g);
                if MUTATORS.contains(&g.as_str()) && !self.user_defined.contains(&g) {
                    return Err(mutation_error(span, &g));
                }
                self.referenced.push((g.clone(), span));
                Ok(Core::Global(g, span))
            }
            Binding::Special(Special::Mutation) => Err(mutation_error(span, "set!")),
            Binding::Special(_) | Binding::Macro(_) => err(
                span,
                format!("bad syntax: `{}` is a keyword, not a variable", strip(name)),
            ),
        }
    }

    fn expand_body(&mut self, forms: &[Datum], env: &Env, span: Span) -> R<Core> {
        if forms.is_empty() {
            return err(span, "bad syntax: empty body");
        }
        let scope = child(env);
        let items = self.body_items(forms, &scope)?;
        // Expand every definition and expression, then order them: a
        // definition comes after the definitions its value needs (procedures
        // may refer to anything), expressions and other values keep their
        // order, and procedures that refer to each other share one `letrec`.
        let mut nodes: Vec<(Option<VarId>, Core)> = Vec::new();
        for item in &items {
            match item {
                BodyItem::Def(v, init, name) => {
                    let c = self.expand_named(init, &scope, name)?;
                    nodes.push((Some(*v), c));
                }
                BodyItem::Expr(d) => nodes.push((None, self.expand(d, &scope)?)),
            }
        }
        order_body(nodes, &self.vars, span)
    }

    /// The definitions (bound in `scope`) and expressions of a body, its
    /// macro uses expanded until they are one or the other. Apart from
    /// `expand_body` so that its frame is not on the stack of every level
    /// of nesting.
    #[inline(never)]
    fn body_items<'a>(&mut self, forms: &'a [Datum], scope: &Env) -> R<Vec<BodyItem<'a>>> {
        let mut items = Vec::new();
        let mut queue: Vec<Cow<Datum>> = forms.iter().rev().map(Cow::Borrowed).collect();
        while let Some(form) = queue.pop() {
            match self.classify(form, scope)? {
                Form::Begin(xs) => queue.extend(xs.into_iter().rev().map(Cow::Owned)),
                Form::Define(name, init, span) => {
                    let v = self.bind_var(
                        scope,
                        &Datum {
                            kind: DatumKind::Sym(name.clone()),
                            span,
                        },
                    )?;
                    items.push(BodyItem::Def(v, init, strip(&name).to_string()));
                }
                Form::DefineSyntax(name, mac) => {
                    self.bind(scope, name, Binding::Macro(mac));
                }
                Form::Expr(d) => items.push(BodyItem::Expr(d)),
            }
        }
        Ok(items)
    }

    fn expand_form(&mut self, d: &Datum, items: &[Datum], env: &Env) -> R<Core> {
        let head = &items[0];
        if let Some(hname) = head.sym() {
            match self.resolve(hname, env) {
                Binding::Special(s) => return self.expand_special(s, d, items, env),
                Binding::Macro(m) => {
                    let out = self.expand_macro(&m, d, env)?;
                    return self.expand(&out, env);
                }
                Binding::Global(g) => {
                    self.check_internal(hname, head.span)?;
                    let g = self.lib_name(g);
                    return self.expand_global_call(&g, d, items, env);
                }
                Binding::Local(_) => {}
            }
        }
        let f = self.expand(head, env)?;
        let args = self.expand_all(&items[1..], env)?;
        Ok(Core::Call(Box::new(f), args, d.span))
    }

    fn expand_all(&mut self, ds: &[Datum], env: &Env) -> R<Vec<Core>> {
        ds.iter().map(|x| self.expand(x, env)).collect()
    }

    fn expand_global_call(&mut self, g: &str, d: &Datum, items: &[Datum], env: &Env) -> R<Core> {
        let span = d.span;
        let nargs = items.len() - 1;
        if MUTATORS.contains(&g) && !self.user_defined.contains(g) {
            return Err(mutation_error(items[0].span, g));
        }
        // In the library, a name the program redefines was renamed
        // `%lib:name`; it still means the standard procedure.
        let base = g.strip_prefix("%lib:").unwrap_or(g);
        let lib = self.in_stdlib || !self.user_defined.contains(g);
        if !base.starts_with('%')
            && lib
            && let Some(c) = self.variadic_call(base, &items[1..], env, span)?
        {
            return Ok(c);
        }
        // Internal primitives (`%name`) and standard procedures the program
        // does not redefine compile to primitive applications.
        let prim = if base.starts_with('%') {
            Prim::by_name(base)
        } else if !lib {
            None
        } else {
            Prim::by_alias(base).filter(|p| p.arity() == nargs)
        };
        if let Some(p) = prim {
            // A variadic primitive takes one argument at least.
            let variadic = p.def().arity == VARIADIC && nargs >= 1;
            if p.arity() != nargs && !variadic {
                return err(
                    span,
                    format!(
                        "`{g}` takes {} argument{}, given {nargs}",
                        p.arity(),
                        plural(p.arity())
                    ),
                );
            }
            let args = self.expand_all(&items[1..], env)?;
            return Ok(Core::Prim(p, args, span));
        }
        if lib
            && let Some(a) = self.stdlib_arity.get(g)
            && (nargs < a.required || (!a.rest && nargs > a.required))
        {
            let expected = if a.rest {
                format!("at least {}", a.required)
            } else {
                a.required.to_string()
            };
            return err(
                span,
                format!(
                    "`{g}` takes {expected} argument{}, given {nargs}",
                    plural(a.required)
                ),
            );
        }
        match g {
            "%call/cc" if nargs == 1 => {
                let f = self.expand(&items[1], env)?;
                return Ok(Core::CallCC(Box::new(f)));
            }
            "%apply" if nargs == 2 => {
                let f = self.expand(&items[1], env)?;
                let l = self.expand(&items[2], env)?;
                return Ok(Core::Apply(Box::new(f), Box::new(l)));
            }
            "%values" => return Ok(Core::Values(self.expand_all(&items[1..], env)?)),
            "%suspend" if nargs == 1 => {
                let d = self.expand(&items[1], env)?;
                return Ok(Core::Suspend(Box::new(d)));
            }
            "%call-with-values" if nargs == 2 => {
                let p = self.expand(&items[1], env)?;
                let c = self.expand(&items[2], env)?;
                return Ok(Core::CallWithValues(Box::new(p), Box::new(c)));
            }
            _ => {}
        }
        self.referenced.push((g.to_string(), items[0].span));
        let args = self.expand_all(&items[1..], env)?;
        Ok(Core::Call(
            Box::new(Core::Global(g.to_string(), items[0].span)),
            args,
            span,
        ))
    }

    fn lambda(
        &mut self,
        params: &Datum,
        body: &[Datum],
        env: &Env,
        name: &str,
        span: Span,
    ) -> R<Lambda> {
        let scope = child(env);
        let (ps, rest) = match &params.kind {
            DatumKind::List(ps, rest) => (ps.clone(), rest.as_deref().cloned()),
            DatumKind::Sym(_) => (vec![], Some(params.clone())),
            _ => return err(params.span, "bad syntax: expected a parameter list"),
        };
        let mut seen = HashSet::new();
        let mut pvars = Vec::new();
        for p in &ps {
            if let Some(n) = p.sym()
                && !seen.insert(n.to_string())
            {
                return err(
                    p.span,
                    format!("bad syntax: parameter `{}` appears twice", strip(n)),
                );
            }
            pvars.push(self.bind_var(&scope, p)?);
        }
        let rest = match rest {
            Some(r) => {
                if let Some(n) = r.sym()
                    && seen.contains(n)
                {
                    return err(
                        r.span,
                        format!("bad syntax: parameter `{}` appears twice", strip(n)),
                    );
                }
                Some(self.bind_var(&scope, &r)?)
            }
            None => None,
        };
        let body = self.expand_body(body, &scope, span)?;
        Ok(Lambda {
            params: pvars,
            rest,
            body,
            name: name.to_string(),
            span,
        })
    }

    fn expand_special(&mut self, s: Special, d: &Datum, items: &[Datum], env: &Env) -> R<Core> {
        let span = d.span;
        let n = items.len();
        match s {
            Special::Quote => {
                if n != 2 {
                    return err(span, "bad syntax: (quote datum)");
                }
                Ok(Core::Const(self.constant(&items[1])))
            }
            Special::Lambda => {
                if n < 3 {
                    return err(span, "bad syntax: expected (lambda (param ...) body ...)");
                }
                Ok(Core::Lambda(Box::new(self.lambda(
                    &items[1],
                    &items[2..],
                    env,
                    "lambda",
                    span,
                )?)))
            }
            Special::If => match n {
                3 | 4 => {
                    let c = self.expand(&items[1], env)?;
                    let t = self.expand(&items[2], env)?;
                    let e = if n == 4 {
                        self.expand(&items[3], env)?
                    } else {
                        Core::unspecified()
                    };
                    Ok(Core::if_(c, t, e))
                }
                _ => err(span, "bad syntax: expected (if test then [else])"),
            },
            Special::Let => self.expand_let(d, items, env),
            Special::LetStar => self.expand_let_star(d, items, env),
            Special::Begin => {
                if n == 1 {
                    return err(span, "bad syntax: `(begin)` is not an expression");
                }
                Ok(Core::seq(self.expand_all(&items[1..], env)?))
            }
            other => self.expand_special_other(other, d, items, env),
        }
    }

    /// The special forms other than the most common ones, apart so that
    /// the frame of `expand_special`, on the path of every level of nesting,
    /// stays small.
    #[inline(never)]
    fn expand_special_other(
        &mut self,
        s: Special,
        d: &Datum,
        items: &[Datum],
        env: &Env,
    ) -> R<Core> {
        let span = d.span;
        let n = items.len();
        match s {
            Special::Quasiquote => {
                if n != 2 {
                    return err(span, "bad syntax: (quasiquote template)");
                }
                let out = self.quasi(&items[1], 1, env)?;
                Ok(out)
            }
            Special::NamedLambda => {
                // (named-lambda (name . params) body ...)
                let Some(DatumKind::List(sig, rest)) = items.get(1).map(|x| &x.kind) else {
                    return err(span, "bad syntax: (named-lambda (name param ...) body ...)");
                };
                if sig.is_empty() || n < 3 {
                    return err(span, "bad syntax: (named-lambda (name param ...) body ...)");
                }
                let name = sig[0].sym().map(strip).unwrap_or("lambda").to_string();
                let params = Datum {
                    kind: DatumKind::dotted_or_list(sig[1..].to_vec(), rest.as_deref().cloned()),
                    span: items[1].span,
                };
                Ok(Core::Lambda(Box::new(self.lambda(
                    &params,
                    &items[2..],
                    env,
                    &name,
                    span,
                )?)))
            }
            Special::Define
            | Special::DefineSyntax
            | Special::DefineValues
            | Special::DefineRecordType => err(
                span,
                "bad syntax: a definition is only allowed at the top level or at the start of a body",
            ),
            Special::Letrec => {
                if n < 3 {
                    return err(
                        span,
                        "bad syntax: expected (letrec ((var init) ...) body ...)",
                    );
                }
                let Some(binds) = items[1].list() else {
                    return err(items[1].span, "bad syntax: letrec bindings must be a list");
                };
                // A letrec is a body with internal definitions.
                let mut body = Vec::new();
                for b in binds {
                    match b.list() {
                        Some([name, init]) => body.push(list(
                            vec![sym("define", b.span), name.clone(), init.clone()],
                            b.span,
                        )),
                        _ => return err(b.span, "bad syntax: a binding is (variable init)"),
                    }
                }
                body.extend(items[2..].iter().cloned());
                let scope = child(env);
                self.expand_body(&body, &scope, span)
            }
            Special::Cond => self.expand_cond(&items[1..], env),
            Special::Case => self.expand_case(d, items, env),
            Special::And => {
                if n == 1 {
                    return Ok(Core::bool(true));
                }
                let mut acc = self.expand(&items[n - 1], env)?;
                for x in items[1..n - 1].iter().rev() {
                    acc = Core::if_(self.expand(x, env)?, acc, Core::bool(false));
                }
                Ok(acc)
            }
            Special::Or => {
                if n == 1 {
                    return Ok(Core::bool(false));
                }
                let mut acc = self.expand(&items[n - 1], env)?;
                for x in items[1..n - 1].iter().rev() {
                    let t = self.vars.fresh("or");
                    acc = Core::Let(
                        vec![(t, self.expand(x, env)?)],
                        Box::new(Core::if_(Core::Local(t), Core::Local(t), acc)),
                    );
                }
                Ok(acc)
            }
            Special::Do => self.expand_do(d, items, env),
            Special::LetSyntax | Special::LetrecSyntax => {
                if n < 3 {
                    return err(
                        span,
                        "bad syntax: expected (let-syntax ((name transformer) ...) body ...)",
                    );
                }
                let scope = child(env);
                let Some(binds) = items[1].list() else {
                    return err(
                        items[1].span,
                        "bad syntax: let-syntax bindings must be a list",
                    );
                };
                for b in binds {
                    let Some([name, spec]) = b.list() else {
                        return err(b.span, "bad syntax: a binding is (name (syntax-rules ...))");
                    };
                    let Some(nm) = name.sym() else {
                        return err(name.span, "expected a macro name");
                    };
                    let menv = if s == Special::LetrecSyntax {
                        scope.clone()
                    } else {
                        env.clone()
                    };
                    let m = self.parse_transformer(spec, &menv, nm)?;
                    self.bind(&scope, nm.to_string(), Binding::Macro(m));
                }
                self.expand_body(&items[2..], &scope, span)
            }
            Special::SyntaxRules => err(span, "bad syntax: syntax-rules outside define-syntax"),
            Special::CaseLambda => self.expand_case_lambda(items, env, span),
            Special::LetValues | Special::LetStarValues => self.expand_let_values(items, env, span),
            Special::Receive => {
                // (receive formals expr body ...)
                if n < 4 {
                    return err(span, "bad syntax: (receive formals expr body ...)");
                }
                let producer = self.thunk(&items[2..3], env, span)?;
                let consumer = self.lambda(&items[1], &items[3..], env, "receive", span)?;
                Ok(Core::CallWithValues(
                    Box::new(producer),
                    Box::new(Core::Lambda(Box::new(consumer))),
                ))
            }
            Special::Match => self.expand_match(items, env, span),
            Special::Recv => self.expand_recv(items, env, span),
            Special::Mutation => Err(mutation_error(items[0].span, "set!")),
            _ => err(span, "internal: special form dispatched twice"),
        }
    }

    fn thunk(&mut self, body: &[Datum], env: &Env, span: Span) -> R<Core> {
        let empty = Datum {
            kind: DatumKind::List(vec![], None),
            span,
        };
        Ok(Core::Lambda(Box::new(
            self.lambda(&empty, body, env, "thunk", span)?,
        )))
    }

    fn expand_let(&mut self, d: &Datum, items: &[Datum], env: &Env) -> R<Core> {
        let span = d.span;
        if items.len() < 3 {
            return err(span, "bad syntax: expected (let ((var init) ...) body ...)");
        }
        if let Some(name) = items[1].sym() {
            return self.expand_named_let(name, items, env, span);
        }
        let Some(binds) = items[1].list() else {
            return err(items[1].span, "bad syntax: let bindings must be a list");
        };
        let (names, inits) = self.split_bindings(binds)?;
        let scope = child(env);
        let mut bs = Vec::new();
        let mut seen = HashSet::new();
        for (name, init) in names.iter().zip(&inits) {
            if !seen.insert(name.sym().unwrap_or("").to_string()) {
                return err(name.span, format!("bad syntax: `{name}` is bound twice"));
            }
            let c = self.expand_named(init, env, name.sym().map(strip).unwrap_or("lambda"))?;
            let v = self.bind_var(&scope, name)?;
            bs.push((v, c));
        }
        let body = self.expand_body(&items[2..], &scope, span)?;
        if bs.is_empty() {
            return Ok(body);
        }
        Ok(Core::Let(bs, Box::new(body)))
    }

    /// `(let name ((var init) ...) body ...)`.
    #[inline(never)]
    fn expand_named_let(&mut self, name: &str, items: &[Datum], env: &Env, span: Span) -> R<Core> {
        // Named let.
        if items.len() < 4 {
            return err(
                span,
                "bad syntax: expected (let name ((var init) ...) body ...)",
            );
        }
        let Some(binds) = items[2].list() else {
            return err(
                items[2].span,
                "bad syntax: named let bindings must be a list",
            );
        };
        let (names, inits) = self.split_bindings(binds)?;
        let args = inits
            .iter()
            .map(|x| self.expand(x, env))
            .collect::<R<Vec<_>>>()?;
        let scope = child(env);
        let lv = self.bind_var(&scope, &items[1])?;
        let params = list(names, items[2].span);
        let lam = self.lambda(&params, &items[3..], &scope, strip(name), span)?;
        Ok(Core::Letrec(
            vec![(lv, lam)],
            Box::new(Core::Call(Box::new(Core::Local(lv)), args, span)),
        ))
    }

    /// `(let* (b ...) body ...)` is nested `let`s; they are made here in one
    /// loop (rewriting it one binding at a time copied the remaining
    /// bindings at every step, and nested as deep as the bindings are many).
    fn expand_let_star(&mut self, d: &Datum, items: &[Datum], env: &Env) -> R<Core> {
        let span = d.span;
        if items.len() < 3 {
            return err(
                span,
                "bad syntax: expected (let* ((var init) ...) body ...)",
            );
        }
        let Some(binds) = items[1].list() else {
            return err(items[1].span, "bad syntax: let* bindings must be a list");
        };
        if binds.len() <= 1 {
            // `items[1]` is a list: the rest of `expand_let` reads it as a `let`.
            return self.expand_let(d, items, env);
        }
        let mut scope = env.clone();
        let mut lets = Vec::with_capacity(binds.len());
        for b in binds {
            let (name, init) = match b.list() {
                Some([name, init]) if name.sym().is_some() => (name, init),
                _ => return err(b.span, "bad syntax: a binding is (variable init)"),
            };
            let c = self.expand_named(init, &scope, name.sym().map(strip).unwrap_or("lambda"))?;
            let inner = child(&scope);
            let v = self.bind_var(&inner, name)?;
            lets.push((v, c));
            scope = inner;
        }
        let mut body = self.expand_body(&items[2..], &scope, span)?;
        for (v, c) in lets.into_iter().rev() {
            body = Core::Let(vec![(v, c)], Box::new(body));
        }
        Ok(body)
    }

    /// The names (copied: they are symbols) and inits (borrowed: copying
    /// them made inits nested in inits quadratic) of `((var init) ...)`.
    fn split_bindings<'a>(&self, binds: &'a [Datum]) -> R<(Vec<Datum>, Vec<&'a Datum>)> {
        let mut names = Vec::new();
        let mut inits = Vec::new();
        for b in binds {
            match b.list() {
                Some([name, init]) if name.sym().is_some() => {
                    names.push(name.clone());
                    inits.push(init);
                }
                _ => return err(b.span, "bad syntax: a binding is (variable init)"),
            }
        }
        Ok((names, inits))
    }

    fn expand_cond(&mut self, clauses: &[Datum], env: &Env) -> R<Core> {
        let Some(first) = clauses.first() else {
            return Ok(Core::unspecified());
        };
        let Some(c) = first.list().filter(|c| !c.is_empty()) else {
            return err(first.span, "bad syntax: a cond clause is (test expr ...)");
        };
        if self.is_aux_keyword(&c[0], "else", env) {
            if c.len() == 1 {
                return err(
                    first.span,
                    "bad syntax: an `else` clause needs at least one expression",
                );
            }
            if clauses.len() > 1 {
                return err(
                    first.span,
                    "bad syntax: `else` must be the last cond clause",
                );
            }
            return Ok(Core::seq(self.expand_all(&c[1..], env)?));
        }
        let rest = self.expand_cond(&clauses[1..], env)?;
        let test = self.expand(&c[0], env)?;
        if c.len() == 1 {
            let t = self.vars.fresh("cond");
            return Ok(Core::Let(
                vec![(t, test)],
                Box::new(Core::if_(Core::Local(t), Core::Local(t), rest)),
            ));
        }
        if self.is_aux_keyword(&c[1], "=>", env) {
            if c.len() != 3 {
                return err(first.span, "bad syntax: expected (test => receiver)");
            }
            let t = self.vars.fresh("cond");
            let f = self.expand(&c[2], env)?;
            let call = Core::Call(Box::new(f), vec![Core::Local(t)], first.span);
            return Ok(Core::Let(
                vec![(t, test)],
                Box::new(Core::if_(Core::Local(t), call, rest)),
            ));
        }
        let body = Core::seq(self.expand_all(&c[1..], env)?);
        Ok(Core::if_(test, body, rest))
    }

    fn expand_case(&mut self, d: &Datum, items: &[Datum], env: &Env) -> R<Core> {
        if items.len() < 2 {
            return err(d.span, "bad syntax: expected (case key clause ...)");
        }
        let key = self.expand(&items[1], env)?;
        let k = self.vars.fresh("key");
        let mut acc = Core::unspecified();
        for clause in items[2..].iter().rev() {
            let Some(c) = clause.list().filter(|c| !c.is_empty()) else {
                return err(
                    clause.span,
                    "bad syntax: a case clause is ((datum ...) expr ...)",
                );
            };
            if c.len() == 1 {
                return err(
                    clause.span,
                    "bad syntax: a case clause needs at least one expression",
                );
            }
            let body = if c.len() >= 3 && self.is_aux_keyword(&c[1], "=>", env) {
                let f = self.expand(&c[2], env)?;
                Core::Call(Box::new(f), vec![Core::Local(k)], clause.span)
            } else {
                Core::seq(self.expand_all(&c[1..], env)?)
            };
            if self.is_aux_keyword(&c[0], "else", env) {
                acc = body;
                continue;
            }
            let Some(data) = c[0].list() else {
                return err(
                    c[0].span,
                    "bad syntax: a case clause starts with a list of data",
                );
            };
            let eqv = Prim::by_name("%eqv?")
                .ok_or_else(|| Diagnostic::error(d.span, "internal: %eqv? missing"))?;
            let mut test = Core::bool(false);
            for datum in data.iter().rev() {
                let cmp = Core::Prim(
                    eqv,
                    vec![Core::Local(k), Core::Const(self.constant(datum))],
                    clause.span,
                );
                test = Core::if_(cmp, Core::bool(true), test);
            }
            acc = Core::if_(test, body, acc);
        }
        Ok(Core::Let(vec![(k, key)], Box::new(acc)))
    }

    fn expand_do(&mut self, d: &Datum, items: &[Datum], env: &Env) -> R<Core> {
        // (do ((var init step) ...) (test expr ...) body ...) is a named let.
        let span = d.span;
        if items.len() < 3 {
            return err(
                span,
                "bad syntax: expected (do ((var init step) ...) (test expr ...) body ...)",
            );
        }
        let (Some(specs), Some(exit)) = (items[1].list(), items[2].list()) else {
            return err(
                span,
                "bad syntax: expected (do ((var init step) ...) (test expr ...) body ...)",
            );
        };
        if exit.is_empty() {
            return err(items[2].span, "bad syntax: a do loop needs a test");
        }
        let lp = sym(&format!("do-loop{MARK}{}", self.internal_mark()), span);
        let mut binds = Vec::new();
        let mut steps = Vec::new();
        for s in specs {
            match s.list() {
                Some([v, init]) => {
                    binds.push(list(vec![v.clone(), init.clone()], s.span));
                    steps.push(v.clone());
                }
                Some([v, init, step]) => {
                    binds.push(list(vec![v.clone(), init.clone()], s.span));
                    steps.push(step.clone());
                }
                _ => return err(s.span, "bad syntax: a do variable is (var init [step])"),
            }
        }
        let result = if exit.len() > 1 {
            [vec![sym("begin", span)], exit[1..].to_vec()].concat()
        } else {
            vec![sym("quote", span), sym("#!unspecified", span)]
        };
        let again = [vec![lp.clone()], steps].concat();
        let body = [
            vec![sym("begin", span)],
            items[3..].to_vec(),
            vec![list(again, span)],
        ]
        .concat();
        let ifx = list(
            vec![
                sym("if", span),
                exit[0].clone(),
                list(result, span),
                list(body, span),
            ],
            span,
        );
        let named = vec![sym("let", span), lp, list(binds, items[1].span), ifx];
        self.expand_let(d, &named, env)
    }

    fn expand_case_lambda(&mut self, items: &[Datum], env: &Env, span: Span) -> R<Core> {
        // (case-lambda (formals body ...) ...): dispatch on the argument count.
        let scope = child(env);
        let args = self.vars.fresh("args");
        let n = self.vars.fresh("n");
        let length = Prim::by_name("%length")
            .ok_or_else(|| Diagnostic::error(span, "internal: %length missing"))?;
        let ge =
            Prim::by_name("%ge").ok_or_else(|| Diagnostic::error(span, "internal: %ge missing"))?;
        let eq = Prim::by_name("%num-eq")
            .ok_or_else(|| Diagnostic::error(span, "internal: %num-eq missing"))?;
        let mut acc = Core::Call(
            Box::new(Core::Global("%arity-error".into(), span)),
            vec![
                Core::Const(Constant::Str("case-lambda".into())),
                Core::Local(args),
            ],
            span,
        );
        self.referenced.push(("%arity-error".into(), span));
        for clause in items[1..].iter().rev() {
            let Some(c) = clause.list().filter(|c| c.len() >= 2) else {
                return err(
                    clause.span,
                    "bad syntax: a case-lambda clause is (formals body ...)",
                );
            };
            let lam = self.lambda(&c[0], &c[1..], &scope, "case-lambda", clause.span)?;
            let count = Core::Const(Constant::Int(lam.params.len() as i64));
            let test = if lam.rest.is_some() {
                Core::Prim(ge, vec![Core::Local(n), count], span)
            } else {
                Core::Prim(eq, vec![Core::Local(n), count], span)
            };
            let call = Core::Apply(
                Box::new(Core::Lambda(Box::new(lam))),
                Box::new(Core::Local(args)),
            );
            acc = Core::if_(test, call, acc);
        }
        let body = Core::Let(
            vec![(n, Core::Prim(length, vec![Core::Local(args)], span))],
            Box::new(acc),
        );
        Ok(Core::Lambda(Box::new(Lambda {
            params: vec![],
            rest: Some(args),
            body,
            name: "case-lambda".into(),
            span,
        })))
    }

    fn expand_let_values(&mut self, items: &[Datum], env: &Env, span: Span) -> R<Core> {
        // (let-values (((formals) expr) ...) body ...)
        if items.len() < 3 {
            return err(
                span,
                "bad syntax: expected (let-values ((formals expr) ...) body ...)",
            );
        }
        let Some(binds) = items[1].list() else {
            return err(
                items[1].span,
                "bad syntax: let-values bindings must be a list",
            );
        };
        let sequential = self.is_keyword(&items[0], "let*-values");
        if binds.is_empty() {
            return self.expand_body(&items[2..], &child(env), span);
        }
        // Nest one call-with-values per binding. For let-values every init is
        // evaluated in the outer environment: bind them to temporaries first.
        let Some([formals, init]) = binds[0].list() else {
            return err(binds[0].span, "bad syntax: a binding is (formals expr)");
        };
        let producer = self.thunk(std::slice::from_ref(init), env, binds[0].span)?;
        let rest = [
            vec![
                sym(
                    if sequential {
                        "let*-values"
                    } else {
                        "let-values"
                    },
                    items[0].span,
                ),
                list(binds[1..].to_vec(), items[1].span),
            ],
            items[2..].to_vec(),
        ]
        .concat();
        let consumer = if sequential || binds.len() == 1 {
            self.lambda(formals, &[list(rest, span)], env, "let-values", span)?
        } else {
            // Later inits must not see earlier formals: expand them first.
            let mut temps = Vec::new();
            for b in &binds[1..] {
                let Some([f, i]) = b.list() else {
                    return err(b.span, "bad syntax: a binding is (formals expr)");
                };
                let t = self.vars.fresh("lv");
                temps.push((
                    t,
                    f.clone(),
                    self.thunk(std::slice::from_ref(i), env, b.span)?,
                ));
            }
            return self.let_values_parallel(formals, temps, &items[2..], env, producer, span);
        };
        Ok(Core::CallWithValues(
            Box::new(producer),
            Box::new(Core::Lambda(Box::new(consumer))),
        ))
    }

    fn let_values_parallel(
        &mut self,
        formals: &Datum,
        temps: Vec<(VarId, Datum, Core)>,
        body: &[Datum],
        env: &Env,
        producer: Core,
        span: Span,
    ) -> R<Core> {
        // ((t1 thunk1) ...) then nested call-with-values over all formals.
        let scope = child(env);
        let mut all_formals = vec![formals.clone()];
        all_formals.extend(temps.iter().map(|(_, f, _)| f.clone()));
        let mut producers = vec![producer];
        let mut binds = Vec::new();
        for (t, _, thunk) in temps {
            binds.push((t, thunk));
            producers.push(Core::Local(t));
        }
        // Build innermost first.
        let mut lambdas_scope = scope.clone();
        let mut params = Vec::new();
        for f in &all_formals {
            let s2 = child(&lambdas_scope);
            let (ps, rest) = match &f.kind {
                DatumKind::List(ps, rest) => (ps.clone(), rest.as_deref().cloned()),
                DatumKind::Sym(_) => (vec![], Some(f.clone())),
                _ => return err(f.span, "bad syntax: expected formals"),
            };
            let pv = ps
                .iter()
                .map(|p| self.bind_var(&s2, p))
                .collect::<R<Vec<_>>>()?;
            let rv = match rest {
                Some(r) => Some(self.bind_var(&s2, &r)?),
                None => None,
            };
            params.push((pv, rv));
            lambdas_scope = s2;
        }
        let mut acc = self.expand_body(body, &lambdas_scope, span)?;
        for ((pv, rv), prod) in params.into_iter().zip(producers).rev() {
            let lam = Lambda {
                params: pv,
                rest: rv,
                body: acc,
                name: "let-values".into(),
                span,
            };
            acc = Core::CallWithValues(Box::new(prod), Box::new(Core::Lambda(Box::new(lam))));
        }
        Ok(Core::Let(binds, Box::new(acc)))
    }

    fn define_values(&mut self, form: &Datum, items: &[Datum]) -> R<Datum> {
        // (define-values (a b . c) expr) =>
        // (begin (define tmp (call-with-values (lambda () expr) list)) (define a (car tmp)) ...)
        if items.len() != 3 {
            return err(
                form.span,
                "bad syntax: expected (define-values formals expr)",
            );
        }
        let span = form.span;
        let tmp = sym(&format!("dv{MARK}{}", self.internal_mark()), span);
        let mut out = vec![sym("begin", span)];
        let producer = list(
            vec![sym("lambda", span), list(vec![], span), items[2].clone()],
            span,
        );
        out.push(list(
            vec![
                sym("define", span),
                tmp.clone(),
                list(
                    vec![
                        isym("%call-with-values", span),
                        producer,
                        isym("%list", span),
                    ],
                    span,
                ),
            ],
            span,
        ));
        let (names, rest) = match &items[1].kind {
            DatumKind::List(n, r) => (n.clone(), r.as_deref().cloned()),
            DatumKind::Sym(_) => (vec![], Some(items[1].clone())),
            _ => return err(items[1].span, "bad syntax: expected formals"),
        };
        let mut cursor = tmp.clone();
        for n in names {
            out.push(list(
                vec![
                    sym("define", span),
                    n,
                    list(vec![isym("%car", span), cursor.clone()], span),
                ],
                span,
            ));
            cursor = list(vec![isym("%cdr", span), cursor], span);
        }
        if let Some(r) = rest {
            out.push(list(vec![sym("define", span), r, cursor], span));
        }
        Ok(list(out, span))
    }

    /// The widest record a constructor allocates inline.
    const INLINE_RECORD_FIELDS: usize = 32;

    fn define_record_type(&mut self, form: &Datum, items: &[Datum]) -> R<Vec<Datum>> {
        // (define-record-type name (ctor field ...) pred (field accessor) ...)
        let span = form.span;
        if items.len() < 4 {
            return err(
                span,
                "bad syntax: expected (define-record-type name (constructor field ...) predicate field-spec ...)",
            );
        }
        let tname = match &items[1].kind {
            DatumKind::Sym(_) => items[1].clone(),
            DatumKind::List(xs, None) if !xs.is_empty() => xs[0].clone(),
            _ => return err(items[1].span, "bad syntax: record type name"),
        };
        let mut fields = Vec::new();
        let mut accessors = Vec::new();
        for spec in &items[4..] {
            match &spec.kind {
                DatumKind::Sym(_) => fields.push(spec.clone()),
                DatumKind::List(xs, None) if !xs.is_empty() => {
                    fields.push(xs[0].clone());
                    if let Some(acc) = xs.get(1) {
                        accessors.push((acc.clone(), fields.len() - 1));
                    }
                    if let Some(m) = xs.get(2) {
                        return Err(mutation_error(m.span, &format!("record modifier {m}"))
                            .with_note(
                                "records are immutable in Termite: build a new record instead",
                            ));
                    }
                }
                _ => return err(spec.span, "bad syntax: a field spec is (field accessor)"),
            }
            let field = &fields[fields.len() - 1];
            let Some(fname) = field.sym() else {
                return err(field.span, "bad syntax: a field name is a name");
            };
            if fields[..fields.len() - 1]
                .iter()
                .any(|f| f.sym() == Some(fname))
            {
                return err(
                    spec.span,
                    format!("bad syntax: field `{}` appears twice", strip(fname)),
                );
            }
        }
        if items[3].sym().is_none() && items[3].kind != DatumKind::Bool(false) {
            return err(
                items[3].span,
                "bad syntax: a record predicate is a name (or #f)",
            );
        }
        let quote = |d: Datum| list(vec![sym("quote", span), d], span);
        let plain_name = sym(strip(tname.sym().unwrap_or("record")), tname.span);
        let field_names: Vec<Datum> = fields
            .iter()
            .map(|f| sym(strip(f.sym().unwrap_or("?")), f.span))
            .collect();
        let define = |a: Datum, b: Datum| list(vec![sym("define", span), a, b], span);
        let site = {
            let names: Vec<String> = field_names.iter().map(|f| f.to_string()).collect();
            let n = self
                .record_sites
                .entry(format!("{plain_name} {}", names.join(" ")))
                .or_insert(0);
            *n += 1;
            Datum {
                kind: DatumKind::Int(*n - 1),
                span,
            }
        };
        let mut out = vec![define(
            tname.clone(),
            list(
                vec![
                    isym("%make-record-type", span),
                    quote(plain_name),
                    quote(list(field_names, span)),
                    site,
                ],
                span,
            ),
        )];
        let (ctor_name, cargs) = match &items[2].kind {
            DatumKind::List(ctor, None) if !ctor.is_empty() => {
                (Some(ctor[0].clone()), ctor[1..].to_vec())
            }
            DatumKind::Sym(_) => (Some(items[2].clone()), fields.clone()),
            _ => (None, vec![]),
        };
        if let Some(ctor_name) = ctor_name {
            for a in &cargs {
                if !fields.iter().any(|f| f.sym() == a.sym()) {
                    return err(
                        a.span,
                        format!("bad syntax: `{a}` is not a field of this record type"),
                    );
                }
            }
            // The fields in declaration order; those the constructor does not take are #f.
            let vals: Vec<Datum> = fields
                .iter()
                .map(|f| {
                    if cargs.iter().any(|a| a.sym() == f.sym()) {
                        f.clone()
                    } else {
                        Datum {
                            kind: DatumKind::Bool(false),
                            span,
                        }
                    }
                })
                .collect();
            // Up to `INLINE_RECORD_FIELDS` fields, the record is allocated
            // inline (`%record`); a wider one from a list of its fields.
            let body = if vals.len() <= Self::INLINE_RECORD_FIELDS {
                list(
                    [vec![isym("%record", span), tname.clone()], vals].concat(),
                    span,
                )
            } else {
                let mut l = quote(list(vec![], span));
                for v in vals.into_iter().rev() {
                    l = list(vec![isym("%cons", span), v, l], span);
                }
                list(vec![isym("%make-record", span), tname.clone(), l], span)
            };
            let sig = list([vec![ctor_name], cargs].concat(), items[2].span);
            out.push(define(sig, body));
        }
        let x = sym(&format!("obj{MARK}{}", self.internal_mark()), span);
        if items[3].sym().is_some() {
            out.push(define(
                list(vec![items[3].clone(), x.clone()], span),
                list(
                    vec![isym("%record-of?", span), x.clone(), tname.clone()],
                    span,
                ),
            ));
        }
        for (acc, idx) in accessors {
            let index = Datum {
                kind: DatumKind::Int(idx as i64),
                span,
            };
            out.push(define(
                list(vec![acc, x.clone()], span),
                list(
                    vec![isym("%record-ref", span), x.clone(), tname.clone(), index],
                    span,
                ),
            ));
        }
        Ok(out)
    }

    fn expand_match(&mut self, items: &[Datum], env: &Env, span: Span) -> R<Core> {
        if items.len() < 2 {
            return err(
                span,
                "bad syntax: expected (match expr (pattern body ...) ...)",
            );
        }
        let value = self.expand(&items[1], env)?;
        let v = self.vars.fresh("match");
        let fail = Core::Call(
            Box::new(Core::Global("%match-failure".into(), span)),
            vec![Core::Local(v)],
            span,
        );
        self.referenced.push(("%match-failure".into(), span));
        let mut acc = fail;
        for clause in items[2..].iter().rev() {
            acc = self.match_clause(clause, v, env, acc)?;
        }
        Ok(Core::Let(vec![(v, value)], Box::new(acc)))
    }

    fn expand_recv(&mut self, items: &[Datum], env: &Env, span: Span) -> R<Core> {
        // (recv clause ... [(after timeout body ...)]) =>
        // (%recv (lambda (msg) <thunk of the matching clause, or #f>) timeout after-thunk)
        let mut clauses = &items[1..];
        let mut timeout = Core::bool(false);
        let mut after = Core::bool(false);
        if let Some(last) = clauses.last()
            && let Some(l) = last.list()
            && l.len() >= 2
            && self.is_keyword(&l[0], "after")
        {
            timeout = self.expand(&l[1], env)?;
            let body: Vec<Datum> = if l.len() > 2 {
                l[2..].to_vec()
            } else {
                vec![list(
                    vec![sym("quote", span), sym("#!unspecified", span)],
                    span,
                )]
            };
            after = self.thunk(&body, env, last.span)?;
            clauses = &clauses[..clauses.len() - 1];
        }
        let msg = self.vars.fresh("msg");
        let mut acc = Core::bool(false);
        for clause in clauses.iter().rev() {
            acc = self.recv_clause(clause, msg, env, acc)?;
        }
        let matcher = Core::Lambda(Box::new(Lambda {
            params: vec![msg],
            rest: None,
            body: acc,
            name: "recv-matcher".into(),
            span,
        }));
        self.referenced.push(("%recv".into(), span));
        Ok(Core::Call(
            Box::new(Core::Global("%recv".into(), span)),
            vec![matcher, timeout, after],
            span,
        ))
    }
}

impl Expander {
    fn prim_call(&self, name: &str, args: Vec<Core>, span: Span) -> R<Core> {
        match Prim::by_name(name) {
            Some(p) => Ok(Core::Prim(p, args, span)),
            None => err(span, format!("internal: primitive {name} missing")),
        }
    }

    /// Calls to standard procedures that take any number of arguments,
    /// open-coded as chains of primitives. A call of more than
    /// `OPEN_CODE_MAX` arguments stays a call of the library's procedure:
    /// a chain as long as the call is wide (a million additions for
    /// `(+ 1 ... 1)`) is code the later passes take long to compile, and
    /// gains nothing.
    fn variadic_call(&mut self, g: &str, args: &[Datum], env: &Env, span: Span) -> R<Option<Core>> {
        let n = args.len();
        if n > OPEN_CODE_MAX {
            return Ok(None);
        }
        let fold = |this: &mut Expander, prim: &str, unit: Option<Constant>| -> R<Option<Core>> {
            let mut xs = this.expand_all(args, env)?;
            if xs.is_empty() {
                return Ok(unit.map(Core::Const));
            }
            if xs.len() == 1 {
                // Keep the type check of a one-argument call.
                return match unit {
                    Some(u) => Ok(Some(this.prim_call(
                        prim,
                        vec![Core::Const(u), xs.remove(0)],
                        span,
                    )?)),
                    None => Ok(None),
                };
            }
            let mut acc = xs.remove(0);
            for x in xs {
                acc = this.prim_call(prim, vec![acc, x], span)?;
            }
            Ok(Some(acc))
        };
        Ok(match g {
            "+" => fold(self, "%add", Some(Constant::Int(0)))?,
            "*" => fold(self, "%mul", Some(Constant::Int(1)))?,
            "-" if n == 1 => {
                let x = self.expand(&args[0], env)?;
                Some(self.prim_call("%sub", vec![Core::Const(Constant::Int(0)), x], span)?)
            }
            "-" if n >= 2 => fold(self, "%sub", None)?,
            "/" if n == 1 => {
                let x = self.expand(&args[0], env)?;
                Some(self.prim_call("%div", vec![Core::Const(Constant::Int(1)), x], span)?)
            }
            "/" if n >= 2 => fold(self, "%div", None)?,
            "<" | ">" | "<=" | ">=" | "=" if n >= 2 => {
                let prim = match g {
                    "<" => "%lt",
                    ">" => "%gt",
                    "<=" => "%le",
                    ">=" => "%ge",
                    _ => "%num-eq",
                };
                let xs = self.expand_all(args, env)?;
                if n == 2 {
                    let mut xs = xs;
                    let b = xs.pop().unwrap_or_else(Core::unspecified);
                    let a = xs.pop().unwrap_or_else(Core::unspecified);
                    return Ok(Some(self.prim_call(prim, vec![a, b], span)?));
                }
                let temps: Vec<VarId> = (0..n).map(|_| self.vars.fresh("cmp")).collect();
                let mut acc = Core::bool(true);
                for i in (0..n - 1).rev() {
                    let test = self.prim_call(
                        prim,
                        vec![Core::Local(temps[i]), Core::Local(temps[i + 1])],
                        span,
                    )?;
                    acc = if i == n - 2 {
                        test
                    } else {
                        Core::if_(test, acc, Core::bool(false))
                    };
                }
                Some(Core::Let(
                    temps.into_iter().zip(xs).collect(),
                    Box::new(acc),
                ))
            }
            "char=?" | "char<?" | "char>?" | "char<=?" | "char>=?" if n == 2 => {
                // The library's comparison, open-coded for two characters:
                // their code points compared as fixnums.
                let prim = match g {
                    "char<?" => "%lt",
                    "char>?" => "%gt",
                    "char<=?" => "%le",
                    "char>=?" => "%ge",
                    _ => "%num-eq",
                };
                let mut codes = Vec::with_capacity(2);
                for x in self.expand_all(args, env)? {
                    codes.push(self.prim_call("%char->integer", vec![x], span)?);
                }
                Some(self.prim_call(prim, codes, span)?)
            }
            "list" => {
                let xs = self.expand_all(args, env)?;
                let mut acc = Core::Const(Constant::Null);
                for x in xs.into_iter().rev() {
                    acc = self.prim_call("%cons", vec![x, acc], span)?;
                }
                Some(acc)
            }
            "vector" if n >= 1 => {
                // Allocated inline, like a record (`%vector`).
                let xs = self.expand_all(args, env)?;
                Some(self.prim_call("%vector", xs, span)?)
            }
            "vector" => {
                let xs = self.expand_all(args, env)?;
                let mut acc = Core::Const(Constant::Null);
                for x in xs.into_iter().rev() {
                    acc = self.prim_call("%cons", vec![x, acc], span)?;
                }
                Some(self.prim_call("%list->vector", vec![acc], span)?)
            }
            "append" if n >= 2 => {
                let mut xs = self.expand_all(args, env)?;
                let mut acc = xs.pop().unwrap_or_else(Core::unspecified);
                for x in xs.into_iter().rev() {
                    acc = self.prim_call("%append", vec![x, acc], span)?;
                }
                Some(acc)
            }
            "string-append" if n >= 2 => fold(self, "%string-append2", None)?,
            "values" => Some(Core::Values(self.expand_all(args, env)?)),
            "call-with-values" if n == 2 => {
                let p = self.expand(&args[0], env)?;
                let c = self.expand(&args[1], env)?;
                Some(Core::CallWithValues(Box::new(p), Box::new(c)))
            }
            "apply" if n >= 2 => {
                let mut xs = self.expand_all(args, env)?;
                let f = xs.remove(0);
                let mut list = xs.pop().unwrap_or_else(Core::unspecified);
                for x in xs.into_iter().rev() {
                    list = self.prim_call("%cons", vec![x, list], span)?;
                }
                Some(Core::Apply(Box::new(f), Box::new(list)))
            }
            _ => None,
        })
    }
}

/// Orders the items of a body (see `expand_body`) and nests them into Core.
fn order_body(nodes: Vec<(Option<VarId>, Core)>, vars: &VarNames, span: Span) -> R<Core> {
    let n = nodes.len();
    let index: HashMap<VarId, usize> = nodes
        .iter()
        .enumerate()
        .filter_map(|(i, (v, _))| v.map(|v| (v, i)))
        .collect();
    let is_lambda: Vec<bool> = nodes
        .iter()
        .map(|(v, c)| v.is_some() && matches!(c, Core::Lambda(_)))
        .collect();
    let mut deps: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut prev_effect: Option<usize> = None;
    for (i, (_, c)) in nodes.iter().enumerate() {
        // Without definitions there is nothing to look up (and walking
        // every nested body again at each level made nesting quadratic).
        let mut used = HashSet::new();
        if !index.is_empty() {
            locals_of(c, &mut used);
        }
        let mut d: Vec<usize> = used.iter().filter_map(|v| index.get(v).copied()).collect();
        d.sort_unstable();
        if !is_lambda[i] {
            if let Some(p) = prev_effect {
                d.push(p);
            }
            prev_effect = Some(i);
        }
        deps[i] = d;
    }
    // Tarjan's algorithm: components come out dependencies first, and in
    // source order where nothing forces otherwise.
    struct Tarjan<'a> {
        deps: &'a [Vec<usize>],
        index: Vec<Option<usize>>,
        low: Vec<usize>,
        on_stack: Vec<bool>,
        stack: Vec<usize>,
        next: usize,
        out: Vec<Vec<usize>>,
    }
    impl Tarjan<'_> {
        fn visit(&mut self, v: usize) {
            self.index[v] = Some(self.next);
            self.low[v] = self.next;
            self.next += 1;
            self.stack.push(v);
            self.on_stack[v] = true;
            for &w in &self.deps[v] {
                match self.index[w] {
                    None => {
                        self.visit(w);
                        self.low[v] = self.low[v].min(self.low[w]);
                    }
                    Some(iw) if self.on_stack[w] => self.low[v] = self.low[v].min(iw),
                    _ => {}
                }
            }
            if Some(self.low[v]) == self.index[v] {
                let mut comp = Vec::new();
                while let Some(w) = self.stack.pop() {
                    self.on_stack[w] = false;
                    comp.push(w);
                    if w == v {
                        break;
                    }
                }
                comp.sort_unstable();
                self.out.push(comp);
            }
        }
    }
    let mut t = Tarjan {
        deps: &deps,
        index: vec![None; n],
        low: vec![0; n],
        on_stack: vec![false; n],
        stack: vec![],
        next: 0,
        out: vec![],
    };
    for v in 0..n {
        if t.index[v].is_none() {
            t.visit(v);
        }
    }
    let comps = t.out;
    let mut slots: Vec<Option<(Option<VarId>, Core)>> = nodes.into_iter().map(Some).collect();
    let mut result: Option<Core> = None;
    for comp in comps.into_iter().rev() {
        let recursive = comp.len() > 1 || deps[comp[0]].contains(&comp[0]);
        let body = result.take();
        if recursive && comp.iter().any(|&i| !is_lambda[i]) {
            let culprit = comp
                .iter()
                .find(|&&i| !is_lambda[i])
                .and_then(|&i| slots[i].as_ref().and_then(|x| x.0));
            let name = culprit
                .map(|v| vars.0.get(v as usize).cloned().unwrap_or_default())
                .unwrap_or_default();
            return err(
                span,
                format!(
                    "`{name}` is used before its definition is evaluated (in a cycle of definitions)"
                ),
            );
        }
        if is_lambda[comp[0]] {
            let mut binds = Vec::new();
            for i in comp {
                if let Some((Some(v), Core::Lambda(l))) = slots[i].take() {
                    binds.push((v, *l));
                }
            }
            result = Some(Core::Letrec(
                binds,
                Box::new(body.unwrap_or_else(Core::unspecified)),
            ));
            continue;
        }
        let Some((var, c)) = slots[comp[0]].take() else {
            continue;
        };
        result = Some(match (var, body) {
            (Some(v), body) => Core::Let(
                vec![(v, c)],
                Box::new(body.unwrap_or_else(Core::unspecified)),
            ),
            (None, Some(body)) => Core::Seq(vec![c, body]),
            (None, None) => c,
        });
    }
    Ok(result.map(flatten_seq).unwrap_or_else(Core::unspecified))
}

fn flatten_seq(c: Core) -> Core {
    match c {
        Core::Seq(items) => {
            let mut out = Vec::new();
            for x in items {
                match flatten_seq(x) {
                    Core::Seq(inner) => out.extend(inner),
                    other => out.push(other),
                }
            }
            Core::seq(out)
        }
        other => other,
    }
}

/// The local variables `c` refers to.
fn locals_of(c: &Core, out: &mut HashSet<VarId>) {
    let mut stack = vec![c];
    while let Some(c) = stack.pop() {
        if let Core::Local(v) = c {
            out.insert(*v);
        }
        stack.extend(c.children());
    }
}

/// A definition or an expression of a body.
enum BodyItem<'a> {
    Def(VarId, Datum, String),
    Expr(Cow<'a, Datum>),
}

enum Form<'a> {
    Begin(Vec<Datum>),
    Define(String, Datum, Span),
    DefineSyntax(String, Rc<Macro>),
    Expr(Cow<'a, Datum>),
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// A symbol the expander writes itself: it may name an internal.
fn isym(name: &str, span: Span) -> Datum {
    sym(&format!("{name}{MARK}{INTERNAL_MARK}"), span)
}

fn same_binding(a: &Binding, b: &Binding) -> bool {
    match (a, b) {
        (Binding::Local(x), Binding::Local(y)) => x == y,
        (Binding::Global(x), Binding::Global(y)) => x == y,
        (Binding::Special(x), Binding::Special(y)) => x == y,
        (Binding::Macro(x), Binding::Macro(y)) => Rc::ptr_eq(x, y),
        _ => false,
    }
}

/// The number of nodes of `d`, counted up to a little past `limit`.
fn datum_size(d: &Datum, limit: usize) -> usize {
    let mut n = 0;
    let mut stack = vec![d];
    while let Some(d) = stack.pop() {
        n += 1;
        if n > limit {
            break;
        }
        match &d.kind {
            DatumKind::List(items, tail) => {
                stack.extend(items);
                stack.extend(tail.as_deref());
            }
            DatumKind::Vector(items) | DatumKind::Bytevector(items) => stack.extend(items),
            _ => {}
        }
    }
    n
}

pub fn unbound_error(span: Span, name: &str) -> Diagnostic {
    Diagnostic::error(span, format!("unbound variable `{name}`"))
        .with_note("it is not defined by the program nor by the standard library")
}

pub fn sym(name: &str, span: Span) -> Datum {
    Datum {
        kind: DatumKind::Sym(name.to_string()),
        span,
    }
}

pub fn list(items: Vec<Datum>, span: Span) -> Datum {
    Datum {
        kind: DatumKind::List(items, None),
        span,
    }
}

impl DatumKind {
    fn dotted_or_list(items: Vec<Datum>, tail: Option<Datum>) -> DatumKind {
        match tail {
            Some(t) => DatumKind::dotted(items, t),
            None => DatumKind::List(items, None),
        }
    }
}

fn collect_defined_names(rest: &[Datum], head: &str, out: &mut Vec<String>) {
    let target = &rest[0];
    match head {
        "define" => match &target.kind {
            DatumKind::Sym(s) => out.push(s.clone()),
            DatumKind::List(items, _) => {
                // (define (f ...) ...) and curried (define ((f a) b) ...).
                let mut cur = items.first();
                while let Some(d) = cur {
                    match &d.kind {
                        DatumKind::Sym(s) => {
                            out.push(s.clone());
                            break;
                        }
                        DatumKind::List(xs, _) => cur = xs.first(),
                        _ => break,
                    }
                }
            }
            _ => {}
        },
        "define-values" => {
            if let DatumKind::List(items, tail) = &target.kind {
                out.extend(items.iter().filter_map(|d| d.sym().map(str::to_string)));
                if let Some(t) = tail.as_deref().and_then(|t| t.sym()) {
                    out.push(t.to_string());
                }
            }
        }
        "define-record-type" => {
            for d in rest.iter().skip(1) {
                match &d.kind {
                    DatumKind::Sym(s) => out.push(s.clone()),
                    DatumKind::List(xs, _) => {
                        out.extend(xs.iter().filter_map(|x| x.sym().map(str::to_string)))
                    }
                    _ => {}
                }
            }
        }
        _ => {}
    }
}

impl Expander {
    /// A quoted datum as a constant (expansion marks removed from symbols).
    pub fn constant(&self, d: &Datum) -> Constant {
        match &d.kind {
            DatumKind::Bool(b) => Constant::Bool(*b),
            DatumKind::Int(i) => Constant::Int(*i),
            DatumKind::BigInt(s) => Constant::BigInt(s.clone()),
            DatumKind::Real(x) => Constant::Real(*x),
            DatumKind::Char(c) => Constant::Char(*c),
            DatumKind::Str(s) => Constant::Str(s.clone()),
            DatumKind::Sym(s) => match s.as_str() {
                "#!unspecified" => Constant::Unspecified,
                "#!eof" => Constant::Eof,
                "#!default" => Constant::DefaultObject,
                _ => Constant::Sym(strip(s).to_string()),
            },
            DatumKind::List(items, tail) if items.is_empty() && tail.is_none() => Constant::Null,
            DatumKind::List(items, tail) => Constant::List(
                items.iter().map(|x| self.constant(x)).collect(),
                tail.as_ref().map(|t| Box::new(self.constant(t))),
            ),
            DatumKind::Vector(items) => {
                Constant::Vector(items.iter().map(|x| self.constant(x)).collect())
            }
            DatumKind::Bytevector(items) => Constant::Bytevector(
                items
                    .iter()
                    .map(|x| match x.kind {
                        DatumKind::Int(i) => i.clamp(0, 255) as u8,
                        _ => 0,
                    })
                    .collect(),
            ),
        }
    }

    fn has_unquote(&self, d: &Datum) -> bool {
        match &d.kind {
            DatumKind::List(items, tail) => {
                items.iter().any(|x| {
                    x.sym()
                        .is_some_and(|s| matches!(strip(s), "unquote" | "unquote-splicing"))
                        || self.has_unquote(x)
                }) || tail.as_ref().is_some_and(|t| self.has_unquote(t))
            }
            DatumKind::Vector(items) => items.iter().any(|x| self.has_unquote(x)),
            _ => false,
        }
    }

    fn qq_prim(&self, name: &str, args: Vec<Core>, span: Span) -> R<Core> {
        match Prim::by_name(name) {
            Some(p) => Ok(Core::Prim(p, args, span)),
            None => err(span, format!("internal: primitive {name} missing")),
        }
    }

    /// Expands a quasiquote template at nesting `depth`.
    fn quasi(&mut self, d: &Datum, depth: usize, env: &Env) -> R<Core> {
        if !self.has_unquote(d) {
            return Ok(Core::Const(self.constant(d)));
        }
        let span = d.span;
        match &d.kind {
            DatumKind::List(items, None)
                if items.len() == 2 && self.is_keyword(&items[0], "unquote") =>
            {
                if depth == 1 {
                    self.expand(&items[1], env)
                } else {
                    let inner = self.quasi(&items[1], depth - 1, env)?;
                    self.qq_list(
                        vec![Core::Const(Constant::Sym("unquote".into())), inner],
                        span,
                    )
                }
            }
            DatumKind::List(items, None)
                if items.len() == 2 && self.is_keyword(&items[0], "quasiquote") =>
            {
                let inner = self.quasi(&items[1], depth + 1, env)?;
                self.qq_list(
                    vec![Core::Const(Constant::Sym("quasiquote".into())), inner],
                    span,
                )
            }
            DatumKind::List(items, tail) => {
                // `(a . ,b)` reads as `(a unquote b)`.
                let (items, tail): (&[Datum], Option<Datum>) = match items.len() {
                    n if n >= 2 && tail.is_none() && self.is_keyword(&items[n - 2], "unquote") => (
                        &items[..n - 2],
                        Some(list(vec![items[n - 2].clone(), items[n - 1].clone()], span)),
                    ),
                    _ => (items, tail.as_deref().cloned()),
                };
                let mut acc = match &tail {
                    Some(t) => self.quasi(t, depth, env)?,
                    None => Core::Const(Constant::Null),
                };
                for item in items.iter().rev() {
                    if let Some(l) = item.list()
                        && l.len() == 2
                        && self.is_keyword(&l[0], "unquote-splicing")
                    {
                        if depth == 1 {
                            let spliced = self.expand(&l[1], env)?;
                            acc = self.qq_prim("%append", vec![spliced, acc], span)?;
                            continue;
                        }
                        let inner = self.quasi(&l[1], depth - 1, env)?;
                        let form = self.qq_list(
                            vec![Core::Const(Constant::Sym("unquote-splicing".into())), inner],
                            span,
                        )?;
                        acc = self.qq_prim("%cons", vec![form, acc], span)?;
                        continue;
                    }
                    let x = self.quasi(item, depth, env)?;
                    acc = self.qq_prim("%cons", vec![x, acc], span)?;
                }
                Ok(acc)
            }
            DatumKind::Vector(items) => {
                let as_list = list(items.clone(), span);
                let l = self.quasi(&as_list, depth, env)?;
                self.qq_prim("%list->vector", vec![l], span)
            }
            _ => Ok(Core::Const(self.constant(d))),
        }
    }

    fn qq_list(&self, items: Vec<Core>, span: Span) -> R<Core> {
        let mut acc = Core::Const(Constant::Null);
        for x in items.into_iter().rev() {
            acc = self.qq_prim("%cons", vec![x, acc], span)?;
        }
        Ok(acc)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read::parse_program;

    pub(crate) fn expand_src(src: &str) -> Result<Program, Diagnostic> {
        let forms = parse_program(0, src).expect("parses");
        let mut ex = Expander::new();
        ex.declare_user_globals(&forms);
        let body = ex.expand_toplevel(&forms, false)?;
        Ok(ex.finish(body))
    }

    #[test]
    fn name_lookup_keeps_its_index_in_order() {
        // The library and every form that binds keep the order that lets
        // `resolve` use its index (a binding made in a scope that already
        // has children would switch it to walking the chain of scopes).
        let mut ex = Expander::new();
        for (id, (_, text)) in crate::driver::STDLIB.iter().enumerate() {
            let forms = parse_program(id as u32, text).expect("parses");
            ex.expand_toplevel(&forms, true).expect("library expands");
        }
        let src = "(define (f a . r)
                     (define-syntax twice (syntax-rules () ((_ e) (begin e e))))
                     (define b (let loop ((i 0)) (if (< i 3) (loop (+ i 1)) i)))
                     (let* ((c 1) (d (+ c b))) (twice d))
                     (let-values (((x y) (values 1 2)) ((z) (values 3))) (+ x y z))
                     (match r ((p q) (+ p q)) (_ (do ((i 0 (+ i 1))) ((= i 2) i)))))
                   (define g (case-lambda ((x) x) ((x y) (letrec ((h (lambda () y))) (h)))))
                   (display (f 1 2 3))";
        let forms = parse_program(9, src).expect("parses");
        ex.expand_toplevel(&forms, false).expect("expands");
        assert!(!ex.index.borrow().unordered);
    }

    fn printed(src: &str) -> String {
        core::print_program(&expand_src(src).expect("expands"))
    }

    #[test]
    fn let_binds_fresh_variables() {
        let out = printed("(let ((x 1)) (let ((x 2)) x))");
        assert_eq!(out.trim(), "(let ((x.0 1))\n  (let ((x.1 2))\n    x.1))");
    }

    #[test]
    fn macro_temporaries_do_not_capture() {
        let out = printed(
            "(define-syntax my-or (syntax-rules () ((_ a b) (let ((t a)) (if t t b))))) (let ((t 5)) (my-or #f t))",
        );
        // The macro's `t` and the user's `t` are different variables.
        assert!(out.contains("(let ((t.0 5))"), "{out}");
        assert!(out.contains("(let ((t.1 #f))"), "{out}");
        assert!(out.contains("t.0)"), "{out}");
    }

    #[test]
    fn refuses_mutation_with_its_span() {
        let e = expand_src("(define x 1)\n(set! x 2)").unwrap_err();
        assert!(e.message.contains("`set!` is mutation"), "{}", e.message);
        assert_eq!((e.span.lo, e.span.hi), (14, 18));
    }

    #[test]
    fn primitive_calls_are_inlined_unless_redefined() {
        assert!(printed("(car '(1))").contains("(%car '(1))"));
        assert!(printed("(define (car x) x) (car 1)").contains("(#car 1)"));
    }

    #[test]
    fn body_definitions_are_ordered_by_dependency() {
        let out = printed("(define (f) (define (g) y) (define y 2) (g))");
        let y = out.find("(let ((y").expect("y bound");
        let g = out.find("(letrec").expect("g bound");
        assert!(y < g, "{out}");
    }

    #[test]
    fn quasiquote_builds_lists() {
        let out = printed("(define x 1) `(a ,x ,@(list 2))");
        assert!(out.contains("(%cons 'a (%cons #x (%append"), "{out}");
    }
}
