//! Closure IR to Cranelift IR: one lowering shared by the JIT and the AOT
//! back ends (generic over `cranelift_module::Module`).
//!
//! Every function has the signature `tail fn(ctx, self, argc, a0, a1, a2) -> i64`
//! (see ARCHITECTURE.md, "Calling convention"). A procedure checks its
//! arity at entry; then every function checks, once, its reduction budget
//! and the heap space its body allocates inline (for a procedure of fixed
//! arity, at the head of the loop its calls to itself jump to), binds its
//! parameters and free variables, and runs its body, which ends in a tail
//! call (`return_call_indirect`, `return_call`, a jump to the head) or in a
//! `return` of a status to the runtime's trampoline.

mod lower;

pub use lower::{Lowered, lower_program};

use crate::closure;
use cranelift_codegen::isa::OwnedTargetIsa;
use cranelift_codegen::settings::{self, Configurable};
use termite_runtime::program::{ProgramData, WellKnown};

/// The host's instruction set with the flags every back end needs (tail
/// calls need frame pointers on x86-64).
pub fn host_isa(pic: bool) -> Result<OwnedTargetIsa, String> {
    isa_with(pic, false)
}

/// The instruction set the cold resume functions are compiled with: the
/// same target and ABI flags as `host_isa`, but no optimisation and the
/// single-pass register allocator (ARCHITECTURE.md, "Continuations,
/// exceptions, dynamic state"): they run only after a handled failure, and
/// compiling them like hot code doubled the compile time of a program.
pub fn cold_isa(pic: bool) -> Result<OwnedTargetIsa, String> {
    isa_with(pic, true)
}

fn isa_with(pic: bool, cold: bool) -> Result<OwnedTargetIsa, String> {
    let mut flags = settings::builder();
    let set = |f: &mut settings::Builder, k: &str, v: &str| {
        f.set(k, v).map_err(|e| format!("cranelift flag {k}: {e}"))
    };
    if cold {
        set(&mut flags, "opt_level", "none")?;
        set(&mut flags, "regalloc_algorithm", "single_pass")?;
    } else {
        set(&mut flags, "opt_level", "speed")?;
        // Hot functions start on a 32-byte boundary (Cranelift's preferred
        // x86-64 alignment, which neither module applies by itself):
        // placed wherever the previous function ended, the same code of
        // fib ran 29 % slower in one executable than in another.
        set(&mut flags, "log2_min_function_alignment", "5")?;
    }
    set(&mut flags, "preserve_frame_pointers", "true")?;
    set(&mut flags, "is_pic", if pic { "true" } else { "false" })?;
    set(
        &mut flags,
        "enable_verifier",
        if cfg!(debug_assertions) {
            "true"
        } else {
            "false"
        },
    )?;
    let isa = cranelift_native::builder().map_err(|e| format!("unsupported host: {e}"))?;
    isa.finish(settings::Flags::new(flags))
        .map_err(|e| format!("cranelift: {e}"))
}

/// The serialized half of the program the runtime loads; its code table
/// lists `lowered.code_order()`.
pub fn program_data(p: &closure::Program, lowered: &lower::Lowered) -> ProgramData {
    let mut ids: Vec<u64> = p.functions.iter().map(|f| f.code_id).collect();
    ids.sort_unstable();
    let mut h: u64 = 0xcbf29ce484222325;
    for id in ids {
        h = (h ^ id).wrapping_mul(0x100000001b3);
    }
    ProgramData {
        identity: h,
        constants: p.constants.clone(),
        globals: p.globals.clone(),
        well_known: WellKnown {
            raise: p
                .globals
                .iter()
                .position(|g| g == "raise")
                .map(|i| i as u32),
        },
        code_ids: p
            .functions
            .iter()
            .map(|f| f.code_id)
            .chain(
                lowered
                    .resumes
                    .iter()
                    .map(|&(i, _)| lower::resume_code_id(p.functions[i].code_id)),
            )
            .collect(),
        code_names: p
            .functions
            .iter()
            .map(|f| f.name.clone())
            .chain(
                lowered
                    .resumes
                    .iter()
                    .map(|&(i, _)| format!("{} (resume)", p.functions[i].name)),
            )
            .collect(),
        source: p.source.clone(),
    }
}
