//! `display` and `write`: the printed form of any value.

use crate::num::{num_of, number_to_string};
use crate::records;
use crate::symbols;
use crate::value::*;
use std::fmt::Write;

pub fn display_string(v: Value) -> String {
    let mut s = String::new();
    print(v, false, &mut s);
    s
}

pub fn write_string(v: Value) -> String {
    let mut s = String::new();
    print(v, true, &mut s);
    s
}

fn char_name(c: char) -> Option<&'static str> {
    Some(match c {
        ' ' => "space",
        '\n' => "newline",
        '\t' => "tab",
        '\r' => "return",
        '\0' => "null",
        '\u{7}' => "alarm",
        '\u{8}' => "backspace",
        '\u{7f}' => "delete",
        '\u{1b}' => "escape",
        _ => return None,
    })
}

/// What is left to print. The printer keeps its own stack of these, so
/// data nested millions deep (in cars, cdrs, vectors or records) prints
/// without using the native stack.
enum Task {
    Value(Value, bool),
    Text(&'static str),
    /// The rest of a list whose elements so far are printed: `(` and at
    /// least one element are out.
    ListRest(Value, bool),
    /// Elements `from..` of a vector, then `)`.
    VectorFrom(Value, usize, bool),
    /// Fields `from..` of a record (with the field names of its type), then `>`.
    RecordFrom(Value, usize, bool),
    /// The irritants of an error object still to print, then `>`.
    Irritants(Value),
}

pub fn print(v: Value, write: bool, out: &mut String) {
    let mut stack = vec![Task::Value(v, write)];
    while let Some(task) = stack.pop() {
        match task {
            Task::Value(v, write) => print_one(v, write, out, &mut stack),
            Task::Text(t) => out.push_str(t),
            Task::ListRest(cur, write) => {
                if cur.is_pair() {
                    out.push(' ');
                    stack.push(Task::ListRest(cur.cdr(), write));
                    stack.push(Task::Value(cur.car(), write));
                } else if cur == NULL {
                    out.push(')');
                } else {
                    out.push_str(" . ");
                    stack.push(Task::Text(")"));
                    stack.push(Task::Value(cur, write));
                }
            }
            Task::VectorFrom(v, i, write) => {
                if i < v.len() {
                    if i > 0 {
                        out.push(' ');
                    }
                    stack.push(Task::VectorFrom(v, i + 1, write));
                    stack.push(Task::Value(v.field(1 + i), write));
                } else {
                    out.push(')');
                }
            }
            Task::RecordFrom(v, i, write) => {
                // Fields are words 2.. of the record; word 1 is its type.
                if i + 1 < v.len() {
                    out.push(' ');
                    let rtd = v.field(1);
                    if let Some(n) = rtd.field(3).list_iter().nth(i) {
                        out.push_str(&symbols::name(n.imm_payload() as u32));
                        out.push_str(": ");
                    }
                    stack.push(Task::RecordFrom(v, i + 1, write));
                    stack.push(Task::Value(v.field(2 + i), write));
                } else {
                    out.push('>');
                }
            }
            Task::Irritants(l) => {
                if l.is_pair() {
                    out.push(' ');
                    stack.push(Task::Irritants(l.cdr()));
                    stack.push(Task::Value(l.car(), true));
                } else {
                    out.push('>');
                }
            }
        }
    }
}

/// Prints `v` if it is an atom, or its opening and pushes the rest.
fn print_one(v: Value, write: bool, out: &mut String, stack: &mut Vec<Task>) {
    if v.is_fixnum() {
        let _ = write!(out, "{}", v.as_fixnum());
        return;
    }
    if v.is_imm() {
        match v.imm_kind() {
            IMM_BOOL => out.push_str(if v == TRUE { "#t" } else { "#f" }),
            IMM_NULL => out.push_str("()"),
            IMM_UNSPEC => {}
            IMM_EOF => out.push_str("#!eof"),
            IMM_DEFAULT => out.push_str("#!default"),
            IMM_CHAR => {
                let c = v.as_char();
                if write {
                    match char_name(c) {
                        Some(n) => {
                            let _ = write!(out, "#\\{n}");
                        }
                        None if c.is_control() => {
                            let _ = write!(out, "#\\x{:x}", c as u32);
                        }
                        None => {
                            let _ = write!(out, "#\\{c}");
                        }
                    }
                } else {
                    out.push(c);
                }
            }
            IMM_SYMBOL => {
                let name = symbols::name(v.imm_payload() as u32);
                if write && needs_bars(&name) {
                    // R7RS 2.1: within bars, `|` and control characters
                    // are escaped.
                    out.push('|');
                    for c in name.chars() {
                        match c {
                            '|' => out.push_str("\\|"),
                            c if c.is_control() => {
                                let _ = write!(out, "\\x{:x};", c as u32);
                            }
                            c => out.push(c),
                        }
                    }
                    out.push('|');
                } else {
                    out.push_str(&name);
                }
            }
            IMM_PID => {
                let pid = v.imm_payload();
                let (index, generation) = (pid & 0xffff_ffff, pid >> crate::process::INDEX_BITS);
                let _ = match generation {
                    0 => write!(out, "#<pid {index}>"),
                    g => write!(out, "#<pid {index}.{g}>"),
                };
            }
            IMM_TAG => {
                let _ = write!(out, "#<tag {}>", v.imm_payload());
            }
            _ => out.push_str("#<unknown>"),
        }
        return;
    }
    if !v.is_ptr() {
        out.push_str("#<?>");
        return;
    }
    match header_type(v.header()) {
        T_PAIR => {
            if let Some(a) = abbreviation(v) {
                out.push_str(a);
                stack.push(Task::Value(v.cdr().car(), write));
            } else {
                out.push('(');
                stack.push(Task::ListRest(v.cdr(), write));
                stack.push(Task::Value(v.car(), write));
            }
        }
        T_VECTOR => {
            out.push_str("#(");
            stack.push(Task::VectorFrom(v, 0, write));
        }
        T_STRING => {
            if write {
                out.push('"');
                for c in v.string().chars() {
                    match c {
                        '"' => out.push_str("\\\""),
                        '\\' => out.push_str("\\\\"),
                        '\n' => out.push_str("\\n"),
                        '\t' => out.push_str("\\t"),
                        '\r' => out.push_str("\\r"),
                        '\u{7}' => out.push_str("\\a"),
                        '\u{8}' => out.push_str("\\b"),
                        // Other control characters as hex escapes, which
                        // the reader reads back.
                        c if c.is_control() => {
                            let _ = write!(out, "\\x{:x};", c as u32);
                        }
                        c => out.push(c),
                    }
                }
                out.push('"');
            } else {
                out.push_str(&v.string());
            }
        }
        T_FLONUM | T_BIGNUM => {
            if let Some(n) = num_of(v) {
                out.push_str(&number_to_string(&n, 10));
            }
        }
        T_BYTEVECTOR => {
            out.push_str("#u8(");
            // SAFETY: used within this runtime function, before any collection.
            for (i, b) in unsafe { v.bytes() }.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                let _ = write!(out, "{b}");
            }
            out.push(')');
        }
        T_NODE => {
            let _ = write!(
                out,
                "#<node {}>",
                crate::ident::address_text(v.word(1) as u32)
            );
        }
        T_RPID | T_RTAG => {
            let (what, word) = (if v.has_type(T_RPID) { "pid" } else { "tag" }, v.word(3));
            let node = crate::ident::address_text(v.word(1) as u32);
            let _ = if v.has_type(T_RPID) && word >> crate::process::INDEX_BITS != 0 {
                let (index, generation) = (word & 0xffff_ffff, word >> crate::process::INDEX_BITS);
                write!(out, "#<pid {index}.{generation}@{node}>")
            } else {
                write!(
                    out,
                    "#<{what} {}@{node}>",
                    word & if v.has_type(T_RPID) {
                        0xffff_ffff
                    } else {
                        u64::MAX
                    }
                )
            };
        }
        T_CLOSURE => {
            let _ = write!(
                out,
                "#<procedure {}>",
                crate::program_state::code_name(v.word(1) as *const u8)
            );
        }
        T_RECORD => {
            let rtd = v.field(1);
            if records::is_rtd(v) {
                let _ = write!(out, "#<record-type {}>", records::rtd_name(v));
            } else if records::is_error_object(v) {
                // Message and irritants are written, whatever the mode.
                out.push_str("#<error-object ");
                stack.push(Task::Irritants(v.field(3)));
                stack.push(Task::Value(v.field(2), true));
            } else if records::is_rtd(rtd) {
                out.push_str("#<");
                out.push_str(&records::rtd_name(rtd));
                stack.push(Task::RecordFrom(v, 0, write));
            } else {
                out.push_str("#<record>");
            }
        }
        _ => out.push_str("#<object>"),
    }
}

/// The prefix a quote form prints with (`'x` for `(quote x)`), if `v` is one.
fn abbreviation(v: Value) -> Option<&'static str> {
    if !(v.car().is_symbol() && v.cdr().is_pair() && v.cdr().cdr() == NULL) {
        return None;
    }
    match &*symbols::name(v.car().imm_payload() as u32) {
        "quote" => Some("'"),
        "quasiquote" => Some("`"),
        "unquote" => Some(","),
        "unquote-splicing" => Some(",@"),
        _ => None,
    }
}

/// Whether a symbol must be written between bars to read back as itself:
/// empty, `.`, starting with `#`, holding a delimiter or a control
/// character, or spelled like a number.
fn needs_bars(name: &str) -> bool {
    name.is_empty()
        || name == "."
        || name.starts_with('#')
        || name
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "()[]\"';`,|".contains(c))
        || num_of_str(name)
}

fn num_of_str(s: &str) -> bool {
    crate::num::parse_number(s, 10).is_some()
}
