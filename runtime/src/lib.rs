//! termite-runtime: the native runtime of Termite Scheme.
//!
//! Compiled code calls into it through the functions in `prims` (declared to
//! the compiler by `prims::PRIMS`) and is driven by `run`'s trampoline.

pub mod alloc;
pub mod ctx;
pub mod heap;
pub mod num;
pub mod prims;
pub mod print;
pub mod process;
pub mod program;
pub mod program_state;
pub mod records;
pub mod run;
pub mod sched;
pub mod symbols;
pub mod value;

#[cfg(feature = "aot-main")]
mod aot_main;
