//! The `termitec` command.

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use termitec::diag::SourceMap;
use termitec::driver::{self, Options, Stage, Timings};

#[derive(Parser)]
#[command(
    name = "termitec",
    version,
    about = "Compiler and runtime for Termite Scheme"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args, Clone)]
struct CompileFlags {
    /// Print the IR of a stage (expand, cps, closure, clif) instead of running.
    #[arg(long, value_name = "STAGE")]
    dump: Option<Stage>,
    /// Print the time each compiler phase takes on stderr.
    #[arg(long)]
    time_passes: bool,
    /// Compile without the standard library (for tests of the passes).
    #[arg(long, hide = true)]
    no_stdlib: bool,
}

/// The node flags (runtime/src/node/options.rs); a built executable takes
/// the same ones first on its command line.
#[derive(clap::Args, Clone)]
struct NodeFlags {
    /// Run on a node listening on HOST:PORT (and nowhere else).
    #[arg(long, value_name = "HOST:PORT")]
    node: Option<String>,
    /// The cookie that nodes prove to each other (default: TERMITE_COOKIE,
    /// else ~/.termite-cookie, created on first use with mode 0600).
    #[arg(long, value_name = "STRING")]
    cookie: Option<String>,
    /// Declare a silent peer down after SECS seconds (default 5).
    #[arg(long, value_name = "SECS", allow_hyphen_values = true)]
    heartbeat_timeout: Option<String>,
}

impl NodeFlags {
    /// Checks the flags and records them for the runtime; exit status 2
    /// with a message when one is wrong.
    fn apply(&self) -> Result<termite_runtime::node::options::NodeOptions, ExitCode> {
        let o = termite_runtime::node::options::from_flags(
            self.node.as_deref(),
            self.cookie.as_deref(),
            self.heartbeat_timeout.as_deref(),
        )
        .map_err(|e| {
            eprintln!("termitec: {e}");
            ExitCode::from(2)
        })?;
        termite_runtime::node::options::set(o.clone());
        Ok(o)
    }
}

#[derive(Subcommand)]
enum Command {
    /// Compile FILE in memory and run it.
    Run {
        file: PathBuf,
        #[command(flatten)]
        flags: CompileFlags,
        #[command(flatten)]
        node: NodeFlags,
        /// Each process's heap may hold at most SIZE bytes (K, M, G, T
        /// suffixes; default 4G; also TERMITE_HEAP_LIMIT; a built
        /// executable takes the same flag first).
        #[arg(long, value_name = "SIZE")]
        heap_limit: Option<String>,
        /// Arguments for the program, after `--`.
        #[arg(last = true)]
        args: Vec<String>,
    },
    /// Compile FILE ahead of time to the native executable OUT.
    Build {
        file: PathBuf,
        #[arg(short, long, value_name = "OUT")]
        output: PathBuf,
        #[command(flatten)]
        flags: CompileFlags,
    },
    /// A bare node that only serves (it runs no program of its own).
    Node {
        #[command(flatten)]
        node: NodeFlags,
    },
}

/// Compiler phases recurse on the nesting of the program: give them room.
const STACK: usize = 1 << 30;

fn main() -> ExitCode {
    // A bug in termitec is reported as such, without a Rust backtrace.
    std::panic::set_hook(Box::new(|info| {
        let msg = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_default();
        let at = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        eprintln!("termitec: internal compiler error{at}: {msg}");
        eprintln!("please report it with the program that caused it");
    }));
    let cli = Cli::parse();
    let worker = std::thread::Builder::new()
        .stack_size(STACK)
        .spawn(move || execute(cli));
    match worker.map(|h| h.join()) {
        Ok(Ok(code)) => code,
        _ => {
            eprintln!("termitec: internal error");
            ExitCode::from(101)
        }
    }
}

fn read_source(file: &PathBuf) -> Result<String, ExitCode> {
    std::fs::read_to_string(file).map_err(|e| {
        eprintln!("termitec: cannot read {}: {e}", file.display());
        ExitCode::from(2)
    })
}

fn front(
    file: &PathBuf,
    flags: &CompileFlags,
    timings: &mut Timings,
) -> Result<driver::Compiled, ExitCode> {
    let src = read_source(file)?;
    let opts = Options {
        dump: flags.dump,
        time_passes: flags.time_passes,
        no_stdlib: flags.no_stdlib,
    };
    let mut files = SourceMap::default();
    driver::compile(
        &mut files,
        &file.display().to_string(),
        &src,
        &opts,
        timings,
    )
    .map_err(|e| {
        eprint!("{e}");
        if !e.ends_with('\n') {
            eprintln!();
        }
        ExitCode::from(2)
    })
}

/// Compiles `file` through the front end and a back end (`lower`), handling
/// `--dump`: `Ok(None)` when a dump was printed instead.
fn compile<T>(
    file: &PathBuf,
    flags: &CompileFlags,
    timings: &mut Timings,
    lower: impl FnOnce(&termitec::closure::Program, Option<&mut String>) -> Result<T, String>,
) -> Result<Option<T>, ExitCode> {
    let compiled = front(file, flags, timings)?;
    if let Some(d) = &compiled.dump {
        print!("{d}");
        return Ok(None);
    }
    let mut clif = (flags.dump == Some(Stage::Clif)).then(String::new);
    let out = timings
        .time("codegen", || lower(&compiled.program, clif.as_mut()))
        .map_err(|e| {
            eprintln!("termitec: {e}");
            ExitCode::from(2)
        })?;
    if let Some(c) = clif {
        print!("{c}");
        return Ok(None);
    }
    Ok(Some(out))
}

fn execute(cli: Cli) -> ExitCode {
    let mut timings = Timings::default();
    match cli.command {
        Command::Run {
            file,
            flags,
            node,
            heap_limit,
            args,
        } => {
            if let Err(code) = node.apply() {
                return code;
            }
            if let Some(size) = heap_limit
                && let Err(e) = termite_runtime::heap::limit::set_from_flag(&size)
            {
                eprintln!("termitec: {e}");
                return ExitCode::from(2);
            }
            let program = match compile(&file, &flags, &mut timings, termitec::jit::compile) {
                Ok(Some(p)) => p,
                Ok(None) => return ExitCode::SUCCESS,
                Err(code) => return code,
            };
            if flags.time_passes {
                eprint!("{}", timings.report());
            }
            let mut argv = vec![file.display().to_string()];
            argv.extend(args);
            let status = program.run(argv);
            ExitCode::from(status.clamp(0, 255) as u8)
        }
        Command::Build {
            file,
            output,
            flags,
        } => {
            let object = match compile(&file, &flags, &mut timings, termitec::aot::compile_object) {
                Ok(Some(o)) => o,
                Ok(None) => return ExitCode::SUCCESS,
                Err(code) => return code,
            };
            if let Err(e) = timings.time("link", || termitec::aot::link(&object, &output)) {
                eprintln!("termitec: {e}");
                return ExitCode::from(2);
            }
            if flags.time_passes {
                eprint!("{}", timings.report());
            }
            ExitCode::SUCCESS
        }
        Command::Node { node } => {
            let opts = match node.apply() {
                Ok(o) => o,
                Err(code) => return code,
            };
            let Some(addr) = opts.node else {
                eprintln!("termitec: node: --node HOST:PORT is required (where the node listens)");
                return ExitCode::from(2);
            };
            match termite_runtime::dist::serve_bare(
                addr.addr,
                opts.cookie.as_deref(),
                opts.heartbeat_timeout,
                &termitec::jit::compile_source,
            ) {
                Ok(code) => ExitCode::from(code.clamp(0, 255) as u8),
                Err(e) => {
                    eprintln!("termitec: {e}");
                    ExitCode::from(1)
                }
            }
        }
    }
}
