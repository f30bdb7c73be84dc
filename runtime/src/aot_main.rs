//! The C `main` of executables built by `termitec build`: runs the program
//! the compiler emitted as `termite_program`.

use crate::run::{ProgramDesc, run_program};

unsafe extern "C" {
    static termite_program: ProgramDesc;
}

#[unsafe(no_mangle)]
pub extern "C" fn main(argc: i32, argv: *const *const std::ffi::c_char) -> i32 {
    let mut args = Vec::new();
    for i in 0..argc.max(0) as usize {
        // SAFETY: the C runtime passes `argc` valid C strings.
        let s = unsafe { std::ffi::CStr::from_ptr(*argv.add(i)) };
        args.push(s.to_string_lossy().into_owned());
    }
    // The runtime's flags lead the arguments, in any order.
    if let Err(e) = crate::node::options::take_flags(&mut args, crate::heap::limit::take_flag) {
        eprintln!("termite: {e}");
        return 2;
    }
    // The runtime's printer and reader recurse on the nesting of data: give
    // the program the same large stack `termitec run` has (reserved, not
    // committed, memory).
    let worker = std::thread::Builder::new()
        .stack_size(1 << 30)
        .spawn(move || {
            // SAFETY: the compiler always emits `termite_program`.
            let desc = unsafe { &termite_program };
            run_program(desc, args)
        });
    match worker.map(|h| h.join()) {
        Ok(Ok(code)) => code,
        _ => {
            eprintln!("termite: internal error in the runtime");
            crate::run::EXIT_UNCAUGHT
        }
    }
}
