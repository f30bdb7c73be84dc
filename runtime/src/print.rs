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

pub fn print(v: Value, write: bool, out: &mut String) {
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
                    let _ = write!(out, "|{name}|");
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
        T_PAIR => print_list(v, write, out),
        T_VECTOR => {
            out.push_str("#(");
            for i in 0..v.len() {
                if i > 0 {
                    out.push(' ');
                }
                print(v.field(1 + i), write, out);
            }
            out.push(')');
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
            for (i, b) in v.bytes().iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                let _ = write!(out, "{b}");
            }
            out.push(')');
        }
        T_CLOSURE => {
            let _ = write!(
                out,
                "#<procedure {}>",
                crate::program_state::code_name(v.word(1) as *const u8)
            );
        }
        T_RECORD => records::print_record(v, write, out),
        _ => out.push_str("#<object>"),
    }
}

fn print_list(v: Value, write: bool, out: &mut String) {
    // Quote forms print in their abbreviated form.
    if v.car().is_symbol() && v.cdr().is_pair() && v.cdr().cdr() == NULL {
        let abbrev = match &*symbols::name(v.car().imm_payload() as u32) {
            "quote" => Some("'"),
            "quasiquote" => Some("`"),
            "unquote" => Some(","),
            "unquote-splicing" => Some(",@"),
            _ => None,
        };
        if let Some(a) = abbrev {
            out.push_str(a);
            print(v.cdr().car(), write, out);
            return;
        }
    }
    out.push('(');
    let mut cur = v;
    let mut first = true;
    while cur.is_pair() {
        if !first {
            out.push(' ');
        }
        first = false;
        print(cur.car(), write, out);
        cur = cur.cdr();
    }
    if cur != NULL {
        out.push_str(" . ");
        print(cur, write, out);
    }
    out.push(')');
}

fn needs_bars(name: &str) -> bool {
    name.is_empty()
        || name
            .chars()
            .any(|c| c.is_whitespace() || "()[]\"';`,|".contains(c))
        || num_of_str(name)
}

fn num_of_str(s: &str) -> bool {
    crate::num::parse_number(s, 10).is_some()
}
