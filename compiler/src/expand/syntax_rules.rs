//! `syntax-rules`: matching a macro use against the rules' patterns and
//! instantiating the chosen template.
//!
//! Hygiene is by renaming: every symbol a template introduces is renamed
//! `name\u{1}MARK`, with a fresh mark per expansion. The expander binds
//! renamed symbols like any other; one that stays free is resolved by
//! stripping its last mark and looking the base name up in the environment
//! where the macro was defined (`Expander::resolve`). So a template's `if`
//! means the `if` of the macro's definition site, and its temporaries never
//! capture the user's variables.

use super::Env;
use crate::read::{Datum, DatumKind, Span};
use std::collections::HashMap;

pub const MARK: char = '\u{1}';

pub struct Macro {
    pub name: String,
    pub literals: Vec<String>,
    pub ellipsis: String,
    pub rules: Vec<(Datum, Datum)>,
    pub env: Env,
    /// Whether the macro was defined by the standard library: the symbols
    /// its templates introduce may name the implementation's internals.
    pub privileged: bool,
}

/// Whether a symbol of a macro use is the same identifier as a literal of
/// the macro (R7RS `free-identifier=?`: both have the same binding, the use
/// in the use's environment, the literal in the macro's).
pub type LiteralEq<'a> = &'a dyn Fn(&str, &str) -> bool;

#[derive(Clone, Debug)]
enum Bind {
    One(Datum),
    Seq(Vec<Bind>),
}

/// The name of an identifier with every expansion mark removed.
pub fn strip(name: &str) -> &str {
    name.split(MARK).next().unwrap_or(name)
}

/// Splits `base\u{1}mark` at its last mark.
pub fn split_mark(name: &str) -> Option<(&str, usize)> {
    let (base, mark) = name.rsplit_once(MARK)?;
    Some((base, mark.parse().ok()?))
}

/// A list-like datum as its items and final tail.
fn view(d: &Datum) -> (&[Datum], Option<&Datum>) {
    match &d.kind {
        DatumKind::List(items, tail) => (items, tail.as_deref()),
        _ => (&[], Some(d)),
    }
}

impl Macro {
    /// Expands one use of the macro, or says that no rule matched.
    pub fn expand(&self, form: &Datum, mark: usize, lit_eq: LiteralEq) -> Result<Datum, String> {
        for (pattern, template) in &self.rules {
            let mut binds = HashMap::new();
            // The keyword position matches anything.
            let (pitems, ptail) = view(pattern);
            let (fitems, ftail) = view(form);
            if pitems.is_empty() || fitems.is_empty() {
                continue;
            }
            if self.match_seq(&pitems[1..], ptail, &fitems[1..], ftail, &mut binds, lit_eq) {
                return self.instantiate(template, &mut binds, mark, form.span);
            }
        }
        Err(format!(
            "no rule of the macro `{}` matches this use",
            strip(&self.name)
        ))
    }

    fn is_ellipsis(&self, d: &Datum) -> bool {
        // A macro-writing macro's template yields a marked `...`: it is
        // still the ellipsis of the macro it writes.
        d.sym().is_some_and(|s| strip(s) == self.ellipsis)
    }

    fn match_one(
        &self,
        pat: &Datum,
        form: &Datum,
        binds: &mut HashMap<String, Bind>,
        lit_eq: LiteralEq,
    ) -> bool {
        match &pat.kind {
            DatumKind::Sym(s) => {
                if strip(s) == "_" {
                    true
                } else if self.literals.iter().any(|l| l == s) {
                    form.sym()
                        .is_some_and(|f| strip(f) == strip(s) && lit_eq(f, s))
                } else {
                    binds.insert(s.clone(), Bind::One(form.clone()));
                    true
                }
            }
            DatumKind::List(..) => match &form.kind {
                DatumKind::List(..) => {
                    let (pi, pt) = view(pat);
                    let (fi, ft) = view(form);
                    self.match_seq(pi, pt, fi, ft, binds, lit_eq)
                }
                _ => {
                    let (pi, pt) = view(pat);
                    pi.is_empty() && pt.is_some_and(|p| self.match_one(p, form, binds, lit_eq))
                }
            },
            DatumKind::Vector(pi) => match &form.kind {
                DatumKind::Vector(fi) => self.match_seq(pi, None, fi, None, binds, lit_eq),
                _ => false,
            },
            _ => literal_eq(pat, form),
        }
    }

    fn match_seq(
        &self,
        pitems: &[Datum],
        ptail: Option<&Datum>,
        fitems: &[Datum],
        ftail: Option<&Datum>,
        binds: &mut HashMap<String, Bind>,
        lit_eq: LiteralEq,
    ) -> bool {
        if let Some(ell) = pitems.iter().position(|p| self.is_ellipsis(p)) {
            if ell == 0 {
                return false;
            }
            let before = &pitems[..ell - 1];
            let repeated = &pitems[ell - 1];
            let after = &pitems[ell + 1..];
            if fitems.len() < before.len() + after.len() {
                return false;
            }
            for (p, f) in before.iter().zip(fitems) {
                if !self.match_one(p, f, binds, lit_eq) {
                    return false;
                }
            }
            let n = fitems.len() - before.len() - after.len();
            let repeated_items = &fitems[before.len()..before.len() + n];
            // `var ...`, the common case: no map per element.
            if let Some(v) = repeated.sym()
                && strip(v) != "_"
                && !self.literals.iter().any(|l| l == v)
            {
                let seq = repeated_items
                    .iter()
                    .map(|f| Bind::One(f.clone()))
                    .collect();
                binds.insert(v.to_string(), Bind::Seq(seq));
                for (p, f) in after.iter().zip(&fitems[before.len() + n..]) {
                    if !self.match_one(p, f, binds, lit_eq) {
                        return false;
                    }
                }
                return self.match_tail(ptail, &[], ftail, binds, lit_eq);
            }
            let mut matches = Vec::new();
            for f in &fitems[before.len()..before.len() + n] {
                let mut b = HashMap::new();
                if !self.match_one(repeated, f, &mut b, lit_eq) {
                    return false;
                }
                matches.push(b);
            }
            for var in self.pattern_vars(repeated) {
                let seq = matches
                    .iter()
                    .map(|m| m.get(&var).cloned().unwrap_or(Bind::Seq(vec![])))
                    .collect();
                binds.insert(var, Bind::Seq(seq));
            }
            for (p, f) in after.iter().zip(&fitems[before.len() + n..]) {
                if !self.match_one(p, f, binds, lit_eq) {
                    return false;
                }
            }
            return self.match_tail(ptail, &[], ftail, binds, lit_eq);
        }
        if fitems.len() < pitems.len() {
            return false;
        }
        for (p, f) in pitems.iter().zip(fitems) {
            if !self.match_one(p, f, binds, lit_eq) {
                return false;
            }
        }
        self.match_tail(ptail, &fitems[pitems.len()..], ftail, binds, lit_eq)
    }

    fn match_tail(
        &self,
        ptail: Option<&Datum>,
        rest: &[Datum],
        ftail: Option<&Datum>,
        binds: &mut HashMap<String, Bind>,
        lit_eq: LiteralEq,
    ) -> bool {
        match ptail {
            None => rest.is_empty() && ftail.is_none(),
            Some(p) => {
                let span = rest
                    .first()
                    .map(|d| d.span)
                    .or(ftail.map(|d| d.span))
                    .unwrap_or_default();
                let remaining = if rest.is_empty() {
                    match ftail {
                        Some(t) => t.clone(),
                        None => Datum {
                            kind: DatumKind::List(vec![], None),
                            span,
                        },
                    }
                } else {
                    Datum {
                        kind: DatumKind::List(rest.to_vec(), ftail.map(|t| Box::new(t.clone()))),
                        span,
                    }
                };
                self.match_one(p, &remaining, binds, lit_eq)
            }
        }
    }

    fn pattern_vars(&self, pat: &Datum) -> Vec<String> {
        let mut out = Vec::new();
        self.collect_vars(pat, &mut out);
        out
    }

    fn collect_vars(&self, pat: &Datum, out: &mut Vec<String>) {
        match &pat.kind {
            DatumKind::Sym(s)
                if strip(s) != "_" && strip(s) != self.ellipsis && !self.literals.contains(s) =>
            {
                out.push(s.clone());
            }
            DatumKind::List(items, tail) => {
                for i in items {
                    self.collect_vars(i, out);
                }
                if let Some(t) = tail {
                    self.collect_vars(t, out);
                }
            }
            DatumKind::Vector(items) => {
                for i in items {
                    self.collect_vars(i, out);
                }
            }
            _ => {}
        }
    }

    fn instantiate(
        &self,
        t: &Datum,
        binds: &mut HashMap<String, Bind>,
        mark: usize,
        span: Span,
    ) -> Result<Datum, String> {
        Ok(match &t.kind {
            DatumKind::Sym(s) => match binds.get(s) {
                Some(Bind::One(d)) => d.clone(),
                Some(Bind::Seq(_)) => {
                    return Err(format!(
                        "pattern variable `{}` is used without an ellipsis",
                        strip(s)
                    ));
                }
                None => Datum {
                    kind: DatumKind::Sym(format!("{s}{MARK}{mark}")),
                    span,
                },
            },
            DatumKind::List(items, tail) => {
                // `(... ...)` escapes the ellipsis.
                if items.len() == 2 && tail.is_none() && self.is_ellipsis(&items[0]) {
                    let plain = Macro {
                        name: self.name.clone(),
                        literals: self.literals.clone(),
                        ellipsis: String::from("\u{0}no-ellipsis"),
                        rules: vec![],
                        env: self.env.clone(),
                        privileged: self.privileged,
                    };
                    return plain.instantiate(&items[1], binds, mark, span);
                }
                let out = self.instantiate_seq(items, binds, mark, span)?;
                let tail = match tail {
                    Some(t) => Some(Box::new(self.instantiate(t, binds, mark, span)?)),
                    None => None,
                };
                match tail {
                    Some(t) => Datum {
                        kind: DatumKind::dotted(out, *t),
                        span,
                    },
                    None => Datum {
                        kind: DatumKind::List(out, None),
                        span,
                    },
                }
            }
            DatumKind::Vector(items) => Datum {
                kind: DatumKind::Vector(self.instantiate_seq(items, binds, mark, span)?),
                span,
            },
            _ => t.clone(),
        })
    }

    fn instantiate_seq(
        &self,
        items: &[Datum],
        binds: &mut HashMap<String, Bind>,
        mark: usize,
        span: Span,
    ) -> Result<Vec<Datum>, String> {
        let mut out = Vec::new();
        let mut i = 0;
        while i < items.len() {
            let sub = &items[i];
            let mut depth = 0;
            while i + 1 + depth < items.len() && self.is_ellipsis(&items[i + 1 + depth]) {
                depth += 1;
            }
            if depth == 0 {
                out.push(self.instantiate(sub, binds, mark, span)?);
            } else {
                let mut results = Vec::new();
                self.instantiate_repeated(sub, binds, mark, span, depth, &mut results)?;
                out.extend(results);
            }
            i += 1 + depth;
        }
        Ok(out)
    }

    fn instantiate_repeated(
        &self,
        sub: &Datum,
        binds: &mut HashMap<String, Bind>,
        mark: usize,
        span: Span,
        depth: usize,
        out: &mut Vec<Datum>,
    ) -> Result<(), String> {
        let vars: Vec<String> = self
            .pattern_vars(sub)
            .into_iter()
            .filter(|v| matches!(binds.get(v), Some(Bind::Seq(_))))
            .collect();
        if vars.is_empty() {
            return Err("an ellipsis follows a template without pattern variables".into());
        }
        let n = vars
            .iter()
            .filter_map(|v| match binds.get(v) {
                Some(Bind::Seq(s)) => Some(s.len()),
                _ => None,
            })
            .max()
            .unwrap_or(0);
        // Bind each variable to its j-th element in place (cloning the
        // whole binding map per element made expansion quadratic), then
        // put the sequences back.
        let seqs: Vec<(String, Vec<Bind>)> = vars
            .iter()
            .filter_map(|v| match binds.remove(v) {
                Some(Bind::Seq(s)) => Some((v.clone(), s)),
                _ => None,
            })
            .collect();
        let mut result = Ok(());
        'elements: for j in 0..n {
            for (v, s) in &seqs {
                match s.get(j) {
                    Some(x) => binds.insert(v.clone(), x.clone()),
                    None => {
                        result = Err(format!(
                            "pattern variables under one ellipsis have different lengths (`{}`)",
                            strip(v)
                        ));
                        break 'elements;
                    }
                };
            }
            let r = if depth > 1 {
                self.instantiate_repeated(sub, binds, mark, span, depth - 1, out)
            } else {
                self.instantiate(sub, binds, mark, span)
                    .map(|d| out.push(d))
            };
            if r.is_err() {
                result = r;
                break;
            }
        }
        for (v, s) in seqs {
            binds.insert(v, Bind::Seq(s));
        }
        result
    }
}

fn literal_eq(a: &Datum, b: &Datum) -> bool {
    match (&a.kind, &b.kind) {
        (DatumKind::Real(x), DatumKind::Real(y)) => x == y,
        (x, y) => x == y,
    }
}
