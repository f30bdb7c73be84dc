//! termite-runtime: the native runtime of Termite Scheme.
//!
//! Compiled code calls into it through the functions in `prims` (declared to
//! the compiler by `prims::PRIMS`) and is driven by `run`'s trampoline.
#![deny(unsafe_op_in_unsafe_fn)]

pub mod alloc;
pub mod ctx;
pub mod dist;
pub mod hash;
pub mod heap;
pub mod ident;
pub mod node;
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
pub mod wire;

/// Processes are created and freed on different scheduler threads by the
/// million: mimalloc's thread-local free lists avoid the allocator lock
/// contention glibc's malloc shows there.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[cfg(feature = "aot-main")]
mod aot_main;
