//! The JIT back end (`termitec run`): compiles the program in memory with
//! cranelift-jit and runs it on the runtime linked into this binary.

use crate::closure;
use crate::codegen::{self, lower_program};
use cranelift_jit::{JITBuilder, JITModule};
use termite_runtime::prims::runtime_symbols;
use termite_runtime::run::{EntryFn, ProgramDesc, run_program};

/// A program compiled into executable memory.
pub struct JitProgram {
    // Owns the code; dropped only after the program has run.
    _module: JITModule,
    data: Vec<u8>,
    code: Vec<*const u8>,
    entry: EntryFn,
    main: *const u8,
    halt: *const u8,
    raise_return: *const u8,
}

pub fn compile(p: &closure::Program, clif: Option<&mut String>) -> Result<JitProgram, String> {
    let isa = codegen::host_isa(false)?;
    let mut jb = JITBuilder::with_isa(isa, cranelift_module::default_libcall_names());
    jb.symbols(runtime_symbols());
    let mut module = JITModule::new(jb);
    let lowered = lower_program(&mut module, p, clif, true)?;
    module
        .finalize_definitions()
        .map_err(|e| format!("cranelift: {e}"))?;
    let code: Vec<*const u8> = lowered
        .code_order()
        .map(|id| module.get_finalized_function(id))
        .collect();
    let entry_ptr = module.get_finalized_function(lowered.entry);
    // SAFETY: `tm_entry` was generated with exactly `EntryFn`'s signature.
    #[allow(unsafe_code)]
    let entry: EntryFn = unsafe { std::mem::transmute::<*const u8, EntryFn>(entry_ptr) };
    let data =
        postcard::to_stdvec(&codegen::program_data(p, &lowered)).map_err(|e| e.to_string())?;
    Ok(JitProgram {
        main: code[p.main as usize],
        halt: module.get_finalized_function(lowered.halt),
        raise_return: module.get_finalized_function(lowered.raise_return),
        _module: module,
        data,
        code,
        entry,
    })
}

impl JitProgram {
    pub fn run(&self, args: Vec<String>) -> i32 {
        run_program(&self.desc(), args)
    }

    /// What the runtime loads.
    pub fn desc(&self) -> ProgramDesc {
        ProgramDesc {
            data: self.data.as_ptr(),
            data_len: self.data.len(),
            code: self.code.as_ptr(),
            code_len: self.code.len(),
            entry: self.entry,
            main_code: self.main,
            halt_code: self.halt,
            raise_return_code: self.raise_return,
        }
    }
}

/// A bare node runs the programs it fetches with this back end.
impl termite_runtime::dist::Compiled for JitProgram {
    fn desc(&self) -> ProgramDesc {
        JitProgram::desc(self)
    }
}

/// Compiles a program's source (as a bare node receives it) in memory.
pub fn compile_source(src: &termite_runtime::program::Source) -> Result<JitProgram, String> {
    let mut files = crate::diag::SourceMap::default();
    let mut timings = crate::driver::Timings::default();
    let opts = crate::driver::Options::default();
    let c = crate::driver::compile(&mut files, &src.name, &src.text, &opts, &mut timings)?;
    compile(&c.program, None)
}
