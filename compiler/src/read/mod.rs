//! The reader: source text to `Datum`s with spans.
//!
//! ```text
//! datum ::= bool | number | char | string | symbol
//!         | ( datum* ) | ( datum+ . datum ) | #( datum* ) | #u8( byte* )
//!         | 'datum | `datum | ,datum | ,@datum
//! ```
//! `#;` comments out the next datum, `#| |#` nests, `;` runs to end of line.
//! Every datum carries the byte span it was read from; the expander keeps
//! those spans on the identifiers it produces so that diagnostics can point
//! at the source.

pub mod lexer;

use crate::diag::Diagnostic;
use lalrpop_util::ParseError;
use std::fmt;

lalrpop_util::lalrpop_mod!(
    #[allow(clippy::all, clippy::pedantic, clippy::unwrap_used, unused)]
    grammar,
    "/read/grammar.rs"
);

/// A byte range in one source file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Span {
    pub file: u32,
    pub lo: u32,
    pub hi: u32,
}

impl Span {
    pub fn new(file: u32, lo: usize, hi: usize) -> Span {
        Span {
            file,
            lo: lo as u32,
            hi: hi as u32,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Datum {
    pub kind: DatumKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum DatumKind {
    Bool(bool),
    Int(i64),
    /// An exact integer too large for i64, in decimal.
    BigInt(String),
    Real(f64),
    Char(char),
    Str(String),
    Sym(String),
    /// A proper list, or an improper one with its final cdr.
    List(Vec<Datum>, Option<Box<Datum>>),
    Vector(Vec<Datum>),
    Bytevector(Vec<Datum>),
}

impl DatumKind {
    pub fn dotted(mut items: Vec<Datum>, tail: Datum) -> DatumKind {
        match tail.kind {
            // `(a . (b c))` is `(a b c)`.
            DatumKind::List(more, rest) => {
                items.extend(more);
                DatumKind::List(items, rest)
            }
            _ if items.is_empty() => tail.kind,
            _ => DatumKind::List(items, Some(Box::new(tail))),
        }
    }

    pub fn abbrev(name: &str, span: Span, d: Datum) -> DatumKind {
        DatumKind::List(
            vec![
                Datum {
                    kind: DatumKind::Sym(name.to_string()),
                    span,
                },
                d,
            ],
            None,
        )
    }
}

impl Datum {
    pub fn sym(&self) -> Option<&str> {
        match &self.kind {
            DatumKind::Sym(s) => Some(s),
            _ => None,
        }
    }

    pub fn is_sym(&self, name: &str) -> bool {
        self.sym() == Some(name)
    }

    /// The elements of a proper list.
    pub fn list(&self) -> Option<&[Datum]> {
        match &self.kind {
            DatumKind::List(items, None) => Some(items),
            _ => None,
        }
    }
}

/// Classifies an atom as a number or a symbol.
pub fn atom(text: &str) -> DatumKind {
    parse_number(text, 10).unwrap_or_else(|| DatumKind::Sym(text.to_string()))
}

/// Parses R7RS number syntax (integers, decimals, `#x` radix prefixes,
/// `#e`/`#i` exactness, infinities and NaN) with the runtime's parser, the
/// one `string->number` uses. Returns `None` for non-numbers.
pub fn parse_number(text: &str, default_radix: u32) -> Option<DatumKind> {
    use termite_runtime::num::Num;
    Some(
        match termite_runtime::num::parse_number(text, default_radix)? {
            Num::Fix(i) => DatumKind::Int(i),
            Num::Big(b) => match i64::try_from(&b) {
                Ok(i) => DatumKind::Int(i),
                Err(_) => DatumKind::BigInt(b.to_string()),
            },
            Num::Flo(x) => DatumKind::Real(x),
        },
    )
}

/// The deepest nesting of data the reader accepts (lists, vectors and
/// quote-like prefixes). The reader itself keeps its stack on the heap (an
/// LR parser); the passes after it walk data recursively, with small frames,
/// on the front end's stack (`driver::FRONT_END_STACK`).
pub const MAX_DEPTH: usize = 1_000_000;

/// Reads every datum of a source file.
pub fn parse_program(file: u32, src: &str) -> Result<Vec<Datum>, Diagnostic> {
    grammar::ProgramParser::new()
        .parse(file, depth_limited(lexer::tokens(src)))
        .map_err(|e| parse_error(file, src, e))
}

type Spanned = Result<(usize, lexer::Tok, usize), (usize, lexer::LexError, usize)>;

/// Passes tokens through until the data they build nest deeper than
/// `MAX_DEPTH`, then ends with an error. A prefix (`'`, `` ` ``, `,`, `,@`,
/// `#;`) wraps the next datum: it counts until that datum ends.
fn depth_limited(tokens: impl Iterator<Item = Spanned>) -> impl Iterator<Item = Spanned> {
    use lexer::Tok;
    let mut depth = 0usize;
    // Prefixes waiting for their datum, per open list (the last is current).
    let mut pending: Vec<usize> = vec![0];
    let mut failed = false;
    tokens.map_while(move |t| {
        if failed {
            return None;
        }
        if let Ok((l, tok, _)) = &t {
            match tok {
                Tok::Quote
                | Tok::Quasi
                | Tok::Unquote
                | Tok::UnquoteSplicing
                | Tok::DatumComment => {
                    depth += 1;
                    if let Some(p) = pending.last_mut() {
                        *p += 1;
                    }
                }
                Tok::LParen | Tok::VecOpen | Tok::BvOpen => {
                    depth += 1;
                    pending.push(0);
                }
                Tok::RParen => {
                    // The list's own prefixes were never completed (a syntax
                    // error the parser reports); then the list ends, and
                    // with it the prefixes that wrapped it.
                    let inner = pending.pop().unwrap_or(0);
                    depth = depth.saturating_sub(inner + 1);
                    if pending.is_empty() {
                        pending.push(0);
                    }
                    if let Some(p) = pending.last_mut() {
                        depth = depth.saturating_sub(*p);
                        *p = 0;
                    }
                }
                Tok::Dot => {}
                _ => {
                    if let Some(p) = pending.last_mut() {
                        depth = depth.saturating_sub(*p);
                        *p = 0;
                    }
                }
            }
            if depth > MAX_DEPTH {
                failed = true;
                return Some(Err((*l, lexer::LexError::TooDeep, *l + 1)));
            }
        }
        Some(t)
    })
}

/// Whether `src` is an incomplete program (for the REPL: keep reading).
pub fn is_incomplete(src: &str) -> bool {
    matches!(
        grammar::ProgramParser::new().parse(0, lexer::tokens(src)),
        Err(ParseError::UnrecognizedEof { .. })
            | Err(ParseError::User {
                error: (
                    _,
                    lexer::LexError::UnterminatedString | lexer::LexError::UnterminatedComment,
                    _
                )
            })
    )
}

fn parse_error(
    file: u32,
    src: &str,
    e: ParseError<usize, lexer::Tok, (usize, lexer::LexError, usize)>,
) -> Diagnostic {
    match e {
        ParseError::UnrecognizedEof { location, .. } => {
            // Point at the innermost parenthesis left open.
            let open = unclosed_paren(src).unwrap_or(location);
            Diagnostic::error(
                Span::new(file, open, open + 1),
                "unbalanced parenthesis: this `(` is never closed",
            )
        }
        ParseError::UnrecognizedToken {
            token: (l, tok, r), ..
        } => {
            let msg = match tok {
                lexer::Tok::RParen => "unbalanced parenthesis: unexpected `)`".to_string(),
                lexer::Tok::Dot => {
                    "unexpected `.`: a dot must stand between the last two items of a list"
                        .to_string()
                }
                t => format!("unexpected token {t:?}"),
            };
            Diagnostic::error(Span::new(file, l, r), msg)
        }
        ParseError::ExtraToken { token: (l, _, r) } => {
            Diagnostic::error(Span::new(file, l, r), "unexpected token")
        }
        ParseError::InvalidToken { location } => {
            Diagnostic::error(Span::new(file, location, location + 1), "invalid token")
        }
        ParseError::User { error: (l, e, r) } => {
            Diagnostic::error(Span::new(file, l, r.max(l + 1)), e.to_string())
        }
    }
}

fn unclosed_paren(src: &str) -> Option<usize> {
    let mut stack = Vec::new();
    for (pos, tok, _) in lexer::tokens(src).flatten() {
        match tok {
            lexer::Tok::LParen | lexer::Tok::VecOpen | lexer::Tok::BvOpen => stack.push(pos),
            lexer::Tok::RParen => {
                stack.pop();
            }
            _ => {}
        }
    }
    stack.pop()
}

impl fmt::Display for Datum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            DatumKind::Bool(b) => write!(f, "{}", if *b { "#t" } else { "#f" }),
            DatumKind::Int(i) => write!(f, "{i}"),
            DatumKind::BigInt(s) => write!(f, "{s}"),
            DatumKind::Real(x) => write!(f, "{x:?}"),
            DatumKind::Char(c) => write!(f, "#\\{c}"),
            DatumKind::Str(s) => write!(f, "{s:?}"),
            DatumKind::Sym(s) => write!(f, "{s}"),
            DatumKind::List(items, tail) => {
                write!(f, "(")?;
                for (i, d) in items.iter().enumerate() {
                    if i > 0 {
                        write!(f, " ")?;
                    }
                    write!(f, "{d}")?;
                }
                if let Some(t) = tail {
                    write!(f, " . {t}")?;
                }
                write!(f, ")")
            }
            DatumKind::Vector(items) | DatumKind::Bytevector(items) => {
                let open = if matches!(self.kind, DatumKind::Vector(_)) {
                    "#("
                } else {
                    "#u8("
                };
                write!(f, "{open}")?;
                for (i, d) in items.iter().enumerate() {
                    if i > 0 {
                        write!(f, " ")?;
                    }
                    write!(f, "{d}")?;
                }
                write!(f, ")")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(src: &str) -> Vec<String> {
        parse_program(0, src)
            .expect("parses")
            .iter()
            .map(|d| d.to_string())
            .collect()
    }

    #[test]
    fn reads_atoms_and_lists() {
        assert_eq!(
            read("(a . (b c)) #(1 2) 'x `(a ,b ,@c)"),
            vec![
                "(a b c)",
                "#(1 2)",
                "(quote x)",
                "(quasiquote (a (unquote b) (unquote-splicing c)))"
            ]
        );
        assert_eq!(
            read("#\\a #\\space #\\x41 \"a\\nb\" #t #false"),
            vec!["#\\a", "#\\ ", "#\\A", "\"a\\nb\"", "#t", "#f"]
        );
    }

    #[test]
    fn reads_numbers() {
        assert_eq!(
            read("1 -2 +3 1.5 #xff #b101 99999999999999999999 1e3 ... - +"),
            vec![
                "1",
                "-2",
                "3",
                "1.5",
                "255",
                "5",
                "99999999999999999999",
                "1000.0",
                "...",
                "-",
                "+"
            ]
        );
    }

    #[test]
    fn skips_comments() {
        assert_eq!(
            read("; line\n#| a #| nested |# b |# x #;(ignored) (a . b #;c)"),
            vec!["x", "(a . b)"]
        );
    }

    #[test]
    fn refuses_data_nested_too_deeply() {
        // Dropping data nested a million deep recurses: on a stack like the
        // front end's.
        std::thread::Builder::new()
            .stack_size(crate::driver::FRONT_END_STACK)
            .spawn(refuses_data_nested_too_deeply_here)
            .expect("thread")
            .join()
            .expect("no panic");
    }

    fn refuses_data_nested_too_deeply_here() {
        for (open, close) in [("(", ")"), ("#(", ")"), ("'(", ")"), ("'", "")] {
            let deep = format!(
                "{}x{}",
                open.repeat(MAX_DEPTH + 1),
                close.repeat(MAX_DEPTH + 1)
            );
            let e = parse_program(0, &deep).unwrap_err();
            assert!(e.message.contains("nested too deeply"), "{}", e.message);
        }
        let ok = format!(
            "{}x{}",
            "(".repeat(MAX_DEPTH - 1),
            ")".repeat(MAX_DEPTH - 1)
        );
        assert!(parse_program(0, &ok).is_ok());
        // Prefixes end with their datum: a long list of quoted items is flat.
        let flat = format!("({})", "'x ".repeat(MAX_DEPTH * 2));
        assert!(parse_program(0, &flat).is_ok());
    }

    #[test]
    fn reports_unbalanced_parens() {
        let e = parse_program(0, "(define (f x)\n  (+ x 1)").unwrap_err();
        assert!(e.message.contains("unbalanced"), "{}", e.message);
        assert_eq!(e.span.lo, 0);
        let e = parse_program(0, "(f))").unwrap_err();
        assert!(e.message.contains("unexpected `)`"), "{}", e.message);
    }
}
