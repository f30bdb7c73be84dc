//! Tokens of Termite Scheme source. Atoms (numbers and symbols) are lexed as
//! one token class and told apart by the grammar's actions, as R7RS's lexical
//! syntax overlaps them (`+`, `-`, `...`, `1+`).

use logos::{FilterResult, Logos};

#[derive(Debug, Clone, PartialEq, Default)]
pub enum LexError {
    #[default]
    Invalid,
    UnterminatedString,
    UnterminatedComment,
    BadChar(String),
    BadEscape(String),
    BadNumber(String),
    TooDeep,
}

impl std::fmt::Display for LexError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LexError::Invalid => write!(f, "unexpected character"),
            LexError::UnterminatedString => write!(f, "unterminated string"),
            LexError::UnterminatedComment => write!(f, "unterminated block comment `#|`"),
            LexError::BadChar(s) => write!(f, "unknown character name `#\\{s}`"),
            LexError::BadEscape(s) => write!(f, "unknown escape `{s}` in string"),
            LexError::BadNumber(s) => write!(f, "bad number `{s}`"),
            LexError::TooDeep => write!(
                f,
                "data nested too deeply (more than {} levels)",
                crate::read::MAX_DEPTH
            ),
        }
    }
}

#[derive(Logos, Debug, Clone, PartialEq)]
#[logos(error = LexError)]
#[logos(skip r"[ \t\r\n\f]+")]
#[logos(skip(r";[^\n]*", allow_greedy = true))]
pub enum Tok {
    #[token("(")]
    #[token("[")]
    LParen,
    #[token(")")]
    #[token("]")]
    RParen,
    #[token("#(")]
    VecOpen,
    #[token("#u8(")]
    BvOpen,
    #[token("'")]
    Quote,
    #[token("`")]
    Quasi,
    #[token(",")]
    Unquote,
    #[token(",@")]
    UnquoteSplicing,
    #[token(".", priority = 3)]
    Dot,
    #[token("#;")]
    DatumComment,
    #[token("#|", block_comment)]
    BlockComment,
    #[regex(r"#!(fold-case|no-fold-case)", logos::skip)]
    Directive,
    #[regex(r"#[tf]|#true|#false", |lex| { let s = lex.slice(); s == "#t" || s == "#true" })]
    Bool(bool),
    #[regex(r#""([^"\\]|\\(.|\n))*""#, string_literal)]
    #[regex(r#""([^"\\]|\\(.|\n))*"#, |_| Err(LexError::UnterminatedString), priority = 1)]
    Str(String),
    #[regex(r"#\\(.|[a-zA-Z][a-zA-Z0-9]*)", char_literal)]
    Char(char),
    #[regex(r"[^\s()\[\]\x22;'`,#|][^\s()\[\]\x22;'`,|]*", |lex| lex.slice().to_string())]
    #[regex(r"#[xXbBoOdDeEiI][^\s()\[\]\x22;'`,|]*", prefixed_number)]
    Atom(String),
    #[regex(r"\|[^|]*\|", |lex| { let s = lex.slice(); s[1..s.len() - 1].to_string() })]
    BarSymbol(String),
}

/// A token with a radix or exactness prefix is a number or an error, never
/// a symbol (`#e1.5`, `#xZZ`, an exact exponent past the parser's bound).
fn prefixed_number(lex: &mut logos::Lexer<Tok>) -> Result<String, LexError> {
    let s = lex.slice();
    if termite_runtime::num::parse_number(s, 10).is_some() {
        Ok(s.to_string())
    } else {
        Err(LexError::BadNumber(s.to_string()))
    }
}

fn block_comment(lex: &mut logos::Lexer<Tok>) -> FilterResult<(), LexError> {
    let rest = lex.remainder().as_bytes();
    let mut depth = 1;
    let mut i = 0;
    while i < rest.len() {
        if rest[i..].starts_with(b"|#") {
            depth -= 1;
            i += 2;
            if depth == 0 {
                lex.bump(i);
                return FilterResult::Skip;
            }
        } else if rest[i..].starts_with(b"#|") {
            depth += 1;
            i += 2;
        } else {
            i += 1;
        }
    }
    lex.bump(rest.len());
    FilterResult::Error(LexError::UnterminatedComment)
}

fn string_literal(lex: &mut logos::Lexer<Tok>) -> Result<String, LexError> {
    let s = lex.slice();
    let body = &s[1..s.len() - 1];
    let mut out = String::new();
    let mut chars = body.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('a') => out.push('\u{7}'),
            Some('b') => out.push('\u{8}'),
            Some('0') => out.push('\0'),
            Some('\\') => out.push('\\'),
            Some('"') => out.push('"'),
            Some('x') | Some('X') => {
                let mut hex = String::new();
                for h in chars.by_ref() {
                    if h == ';' {
                        break;
                    }
                    hex.push(h);
                }
                match u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                    Some(c) => out.push(c),
                    None => return Err(LexError::BadEscape(format!("\\x{hex};"))),
                }
            }
            Some(c) if c == '\n' || c == ' ' || c == '\t' => {
                // Line continuation: skip the rest of the line's blanks.
                while matches!(chars.peek(), Some(' ') | Some('\t') | Some('\n')) {
                    chars.next();
                }
            }
            Some(c) => return Err(LexError::BadEscape(format!("\\{c}"))),
            None => return Err(LexError::UnterminatedString),
        }
    }
    Ok(out)
}

fn char_literal(lex: &mut logos::Lexer<Tok>) -> Result<char, LexError> {
    let name = &lex.slice()[2..];
    if name.chars().count() == 1 {
        return Ok(name.chars().next().unwrap_or(' '));
    }
    let c = match name {
        "space" => ' ',
        "newline" | "linefeed" | "nl" => '\n',
        "tab" => '\t',
        "return" => '\r',
        "null" | "nul" => '\0',
        "alarm" => '\u{7}',
        "backspace" => '\u{8}',
        "delete" | "rubout" => '\u{7f}',
        "escape" | "altmode" => '\u{1b}',
        _ if (name.starts_with('x') || name.starts_with('U') || name.starts_with('u'))
            && name.len() > 1 =>
        {
            u32::from_str_radix(&name[1..], 16)
                .ok()
                .and_then(char::from_u32)
                .ok_or_else(|| LexError::BadChar(name.to_string()))?
        }
        _ => {
            // `#\a)` style: only the first char belongs to the literal when
            // the rest is not a name; give the rest back to the lexer.
            let first = name.chars().next().unwrap_or(' ');
            if first.is_alphabetic() {
                return Err(LexError::BadChar(name.to_string()));
            }
            first
        }
    };
    Ok(c)
}

/// The token stream in the shape lalrpop's external lexer interface wants.
pub fn tokens(
    src: &str,
) -> impl Iterator<Item = Result<(usize, Tok, usize), (usize, LexError, usize)>> + '_ {
    Tok::lexer(src).spanned().map(|(res, span)| match res {
        Ok(tok) => Ok((span.start, tok, span.end)),
        Err(e) => Err((span.start, e, span.end)),
    })
}
