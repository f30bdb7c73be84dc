//! What a compiled program hands to the runtime: its constants, the names of
//! its global variables, its code table and its entry point. The compiler
//! serializes the data half with postcard; the code half is addresses.

use serde::{Deserialize, Serialize};

/// A literal of the source program (a quoted datum or a self-evaluating
/// one). The runtime materializes each once, as a static object.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub enum Constant {
    Bool(bool),
    Int(i64),
    /// An exact integer outside the fixnum range, in decimal.
    BigInt(String),
    Real(f64),
    Char(char),
    Str(String),
    Sym(String),
    Null,
    Unspecified,
    Eof,
    DefaultObject,
    /// A list: its elements, and the final cdr when the list is improper.
    List(Vec<Constant>, Option<Box<Constant>>),
    Vector(Vec<Constant>),
    Bytevector(Vec<u8>),
}

/// The serialized part of a program.
#[derive(Serialize, Deserialize, Clone, Debug, Default)]
pub struct ProgramData {
    /// The program's identity: a hash over its code ids.
    pub identity: u64,
    pub constants: Vec<Constant>,
    /// Global variable names, indexed by global slot.
    pub globals: Vec<String>,
    /// Slots of the globals the runtime itself calls.
    pub well_known: WellKnown,
    /// Code id of each entry of the code table, in order.
    pub code_ids: Vec<u64>,
    /// A name for each code table entry (for error messages and dumps).
    pub code_names: Vec<String>,
    /// The program's source, for a bare node that asks for its code
    /// (ARCHITECTURE.md, "Code to a bare node"): compiled there with the
    /// same standard library it makes the same code ids.
    pub source: Option<Source>,
}

/// A program's source file: its name as the compiler was given it (which
/// appears in its diagnostics and so in its code) and its text.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
pub struct Source {
    pub name: String,
    pub text: String,
}

/// Global slots of the Scheme procedures the runtime invokes.
#[derive(Serialize, Deserialize, Clone, Debug, Default)]
pub struct WellKnown {
    /// `raise`, called with an error object when a primitive fails.
    pub raise: Option<u32>,
}
