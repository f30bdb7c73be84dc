//! The driver: the only module that touches files and processes. It runs
//! the whole pipeline (`compile`) and hands the result to a back end.

use crate::closure;
use crate::cps;
use crate::diag::{Diagnostic, SourceMap};
use crate::expand::Expander;
use crate::expand::core::{self, Core};
use crate::read;
use std::collections::{HashMap, HashSet};
use std::time::Instant;

/// The standard library, compiled with every program.
pub const STDLIB: &[(&str, &str)] = &[
    ("stdlib/syntax.scm", include_str!("../../stdlib/syntax.scm")),
    ("stdlib/base.scm", include_str!("../../stdlib/base.scm")),
    (
        "stdlib/termite.scm",
        include_str!("../../stdlib/termite.scm"),
    ),
];

/// Globals the runtime calls; they are kept even when the program does not
/// reference them, in this order.
pub const WELL_KNOWN: &[&str] = &["raise"];

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Stage {
    Expand,
    Cps,
    Closure,
    Clif,
}

impl std::str::FromStr for Stage {
    type Err = String;
    fn from_str(s: &str) -> Result<Stage, String> {
        Ok(match s {
            "expand" => Stage::Expand,
            "cps" => Stage::Cps,
            "closure" => Stage::Closure,
            "clif" => Stage::Clif,
            _ => {
                return Err(format!(
                    "unknown stage `{s}` (expected expand, cps, closure or clif)"
                ));
            }
        })
    }
}

#[derive(Default, Clone)]
pub struct Options {
    pub dump: Option<Stage>,
    pub time_passes: bool,
    /// Compile without the standard library (for the passes' golden tests,
    /// whose programs use only primitives).
    pub no_stdlib: bool,
}

/// Where compile time went, per phase.
#[derive(Default)]
pub struct Timings(pub Vec<(&'static str, std::time::Duration)>);

impl Timings {
    pub fn time<T>(&mut self, name: &'static str, f: impl FnOnce() -> T) -> T {
        let t = Instant::now();
        let r = f();
        self.0.push((name, t.elapsed()));
        r
    }

    pub fn report(&self) -> String {
        let total: f64 = self.0.iter().map(|(_, d)| d.as_secs_f64()).sum();
        let mut s = String::from("phase        time (ms)\n");
        for (n, d) in &self.0 {
            s.push_str(&format!("{n:<12} {:>9.3}\n", d.as_secs_f64() * 1000.0));
        }
        s.push_str(&format!("{:<12} {:>9.3}\n", "total", total * 1000.0));
        s
    }
}

pub struct Compiled {
    pub program: closure::Program,
    /// The dump asked for by `Options::dump` (for stages before codegen).
    pub dump: Option<String>,
}

/// The stack of the thread the front end runs on. Its passes recurse over
/// the nesting of the program, which the reader (`read::MAX_DEPTH`) and the
/// expander (`expand::MAX_NESTING`, `expand::MAX_EXPANSION_DEPTH`, and the
/// stack left, `expand::STACK_RESERVE`) bound; this stack holds that
/// recursion. Only the pages touched are mapped.
pub const FRONT_END_STACK: usize = 1 << 30;

/// Reads, expands, converts to CPS and closure-converts `src` with the
/// standard library. Errors come back rendered, with the source line.
/// Runs on a thread of its own with a `FRONT_END_STACK` stack, so that
/// deeply nested programs end in a diagnostic, not a stack overflow.
pub fn compile(
    files: &mut SourceMap,
    name: &str,
    src: &str,
    opts: &Options,
    timings: &mut Timings,
) -> Result<Compiled, String> {
    std::thread::scope(|s| {
        let worker = std::thread::Builder::new()
            .name("termitec-front-end".into())
            .stack_size(FRONT_END_STACK)
            .spawn_scoped(s, || {
                // The thread's first frames use a little of it.
                crate::expand::set_stack_size(FRONT_END_STACK - (64 << 10));
                compile_here(files, name, src, opts, timings)
            })
            .map_err(|e| format!("cannot start the compiler's thread: {e}"))?;
        match worker.join() {
            Ok(r) => r,
            // An internal error: hand it on to the caller's panic handling.
            Err(p) => std::panic::resume_unwind(p),
        }
    })
}

/// `compile` on the current thread (whose stack must be large enough).
pub fn compile_here(
    files: &mut SourceMap,
    name: &str,
    src: &str,
    opts: &Options,
    timings: &mut Timings,
) -> Result<Compiled, String> {
    let user_file = files.add(name, src);
    let mut lib_files = Vec::new();
    let stdlib = if opts.no_stdlib { &[][..] } else { STDLIB };
    for (n, text) in stdlib {
        lib_files.push((files.add(*n, *text), *text));
    }
    let render = |files: &SourceMap, d: Diagnostic| files.render(&d);
    let (lib_forms, user_forms) = timings
        .time("read", || -> Result<_, Diagnostic> {
            let mut lib = Vec::new();
            for (id, text) in &lib_files {
                lib.extend(read::parse_program(*id, text)?);
            }
            Ok((lib, read::parse_program(user_file, src)?))
        })
        .map_err(|d| render(files, d))?;
    let program = timings
        .time("expand", || -> Result<core::Program, Diagnostic> {
            let mut ex = Expander::new();
            if opts.no_stdlib {
                // Without the library a program has only the primitives.
                ex.allow_internals();
            }
            ex.declare_user_globals(&user_forms);
            let lib = ex.expand_toplevel(&lib_forms, true)?;
            let user = ex.expand_toplevel(&user_forms, false)?;
            if let Some((g, span)) = ex.first_unbound() {
                return Err(crate::expand::unbound_error(span, &g));
            }
            let body = tree_shake(lib, user);
            Ok(ex.finish(body))
        })
        .map_err(|d| render(files, d))?;
    let mut dump = None;
    if opts.dump == Some(Stage::Expand) {
        dump = Some(core::print_program(&program));
    }
    let mut program = program;
    timings.time("inline", || {
        crate::expand::inline::inline_small_globals(&mut program)
    });
    let mut cps_program = timings.time("cps", || cps::cps_convert(program, WELL_KNOWN));
    timings.time("optimise", || {
        cps::optimise::optimise(&mut cps_program.main, &mut cps_program.vars)
    });
    if cfg!(debug_assertions) {
        cps::check::check_lambda(&cps_program.main, false, &[])
            .map_err(|e| format!("internal error after CPS conversion: {e}"))?;
    }
    if opts.dump == Some(Stage::Cps) {
        let mut pr = cps::print::Printer::new(
            &cps_program.vars,
            &cps_program.globals,
            &cps_program.constants,
        );
        pr.lambda(&cps_program.main);
        dump = Some(pr.out + "\n");
    }
    let mut closed = timings.time("closure", || closure::closure_convert(cps_program));
    if !opts.no_stdlib {
        // A bare node compiles exactly this with the same library.
        closed.source = Some(termite_runtime::program::Source {
            name: name.to_string(),
            text: src.to_string(),
        });
    }
    if cfg!(debug_assertions) {
        closure::check(&closed)
            .map_err(|e| format!("internal error after closure conversion: {e}"))?;
    }
    if opts.dump == Some(Stage::Closure) {
        dump = Some(closure::print_program(&closed));
    }
    Ok(Compiled {
        program: closed,
        dump,
    })
}

/// Keeps the program's forms and the library definitions they reach.
fn tree_shake(lib: Vec<Core>, user: Vec<Core>) -> Vec<Core> {
    let mut defs: HashMap<String, usize> = HashMap::new();
    for (i, c) in lib.iter().enumerate() {
        if let Core::Define(name, _) = c {
            defs.insert(name.clone(), i);
        }
    }
    let mut keep: HashSet<usize> = HashSet::new();
    let mut work: Vec<String> = WELL_KNOWN.iter().map(|s| s.to_string()).collect();
    for c in &user {
        globals_of(c, &mut work);
    }
    for (i, c) in lib.iter().enumerate() {
        if !matches!(c, Core::Define(..)) {
            keep.insert(i);
            globals_of(c, &mut work);
        }
    }
    let mut seen: HashSet<String> = HashSet::new();
    while let Some(g) = work.pop() {
        if !seen.insert(g.clone()) {
            continue;
        }
        if let Some(&i) = defs.get(&g)
            && keep.insert(i)
        {
            globals_of(&lib[i], &mut work);
        }
    }
    let mut out: Vec<Core> = lib
        .into_iter()
        .enumerate()
        .filter(|(i, _)| keep.contains(i))
        .map(|(_, c)| c)
        .collect();
    out.extend(user);
    out
}

fn globals_of(c: &Core, out: &mut Vec<String>) {
    let mut stack = vec![c];
    while let Some(c) = stack.pop() {
        if let Core::Global(g, _) = c {
            out.push(g.clone());
        }
        stack.extend(c.children());
    }
}
