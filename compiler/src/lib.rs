//! termitec: the Termite Scheme compiler.
//!
//! The pipeline (see ARCHITECTURE.md): `read` → `expand` → `cps` →
//! `closure` → `codegen`, then `jit` or `aot`. `driver` runs it.
#![deny(clippy::unwrap_used)]
// `unsafe` lives in the runtime; the one exception is the JIT's entry
// (`jit.rs`), which turns the address of generated code into a function.
#![deny(unsafe_code)]

pub mod aot;
pub mod closure;
pub mod codegen;
pub mod cps;
pub mod diag;
pub mod driver;
pub mod expand;
pub mod jit;
pub mod prims;
pub mod read;
