//! The passes after the expander on programs nested deep, built as
//! Core directly (the reader and the expander bound nesting on their own):
//! CPS conversion, the optimiser, the checkers, closure conversion and
//! codegen must neither overflow the front end's stack nor take time out
//! of proportion to the program, in the debug build too.

use termite_runtime::program::Constant;
use termitec::expand::core::{Core, Program, VarNames};
use termitec::prims::Prim;
use termitec::read::Span;

/// 100,000 passes too (in about two minutes in the debug build, mostly in
/// Cranelift); CI runs a depth that takes seconds. The passes' stack use
/// does not depend on the depth.
const DEPTH: usize = 20_000;

fn int(i: i64) -> Core {
    Core::Const(Constant::Int(i))
}

fn prim(name: &str, args: Vec<Core>) -> Core {
    Core::Prim(
        Prim::by_name(name).expect("primitive"),
        args,
        Span::default(),
    )
}

/// Runs every pass after the expander on `body`, on a thread with the
/// front end's stack, then codegen.
fn compile(name: &str, vars: VarNames, body: Core) {
    let mut program = Program {
        body: vec![body],
        vars,
    };
    let closed = std::thread::Builder::new()
        .name(name.into())
        .stack_size(termitec::driver::FRONT_END_STACK)
        .spawn(move || {
            termitec::expand::inline::inline_small_globals(&mut program);
            let mut cps = termitec::cps::cps_convert(program, &[]);
            termitec::cps::optimise::optimise(&mut cps.main, &mut cps.vars);
            termitec::cps::check::check_lambda(&cps.main, false, &[]).expect("CPS well scoped");
            let closed = termitec::closure::closure_convert(cps);
            termitec::closure::check(&closed).expect("closure IR well scoped");
            closed
        })
        .expect("thread")
        .join()
        .expect("the passes end");
    // Codegen recurses over a function's body, which closure conversion
    // bounds (`closure::SPLIT_DEPTH`); it runs on the main thread, whose
    // stack is 8 MiB by default.
    let name = name.to_string();
    std::thread::Builder::new()
        .stack_size(8 << 20)
        .spawn(move || {
            termitec::jit::compile(&closed, None)
                .map(|_| ())
                .unwrap_or_else(|e| panic!("{name}: codegen: {e}"))
        })
        .expect("thread")
        .join()
        .expect("codegen ends");
}

#[test]
fn nested_ifs() {
    // (if (%null? x) 0 (if (%null? x) 1 ...)), x a parameter.
    let mut vars = VarNames::default();
    let x = vars.fresh("x");
    let mut e = int(-1);
    for i in 0..DEPTH {
        let test = prim("%null?", vec![Core::Local(x)]);
        e = Core::if_(test, int(i as i64), e);
    }
    let f = Core::Lambda(Box::new(termitec::expand::core::Lambda {
        params: vec![x],
        rest: None,
        body: e,
        name: "f".into(),
        span: Span::default(),
    }));
    compile("nested_ifs", vars, f);
}

#[test]
fn nested_primitives_and_lets() {
    // (let ((x0 (%add 1 (%add 1 ... (%car '()))))) (let ((x1 (%add x0 1))) ...)),
    // whose innermost operand is not a constant (the optimiser would fold
    // the chain).
    let mut vars = VarNames::default();
    let mut e = prim("%car", vec![Core::Const(Constant::Null)]);
    for _ in 0..DEPTH {
        e = prim("%add", vec![int(1), e]);
    }
    let xs: Vec<_> = (0..DEPTH).map(|_| vars.fresh("x")).collect();
    let mut body = Core::Local(xs[DEPTH - 1]);
    for i in (1..DEPTH).rev() {
        body = Core::Let(
            vec![(xs[i], prim("%add", vec![Core::Local(xs[i - 1]), int(1)]))],
            Box::new(body),
        );
    }
    compile(
        "nested_lets",
        vars,
        Core::Let(vec![(xs[0], e)], Box::new(body)),
    );
}

#[test]
fn nested_calls_and_lambdas() {
    // ((lambda () (g ((lambda () (g ... 1)))))), g a procedure.
    let mut vars = VarNames::default();
    let g = vars.fresh("g");
    let y = vars.fresh("y");
    let mut e = int(1);
    for i in 0..DEPTH {
        e = if i % 2 == 0 {
            Core::Call(Box::new(Core::Local(g)), vec![e], Span::default())
        } else {
            let l = termitec::expand::core::Lambda {
                params: vec![],
                rest: None,
                body: e,
                name: "lambda".into(),
                span: Span::default(),
            };
            Core::Call(Box::new(Core::Lambda(Box::new(l))), vec![], Span::default())
        };
    }
    let id = Core::Lambda(Box::new(termitec::expand::core::Lambda {
        params: vec![y],
        rest: None,
        body: Core::Local(y),
        name: "g".into(),
        span: Span::default(),
    }));
    compile("nested_calls", vars, Core::Let(vec![(g, id)], Box::new(e)));
}

#[test]
fn nested_calls_of_a_small_global() {
    // (define (inc x) (%add x 1)) (inc (inc ... (%car '()))): every call is
    // inlined (expand/inline.rs), its argument the next call.
    let mut vars = VarNames::default();
    let x = vars.fresh("x");
    let inc = Core::Lambda(Box::new(termitec::expand::core::Lambda {
        params: vec![x],
        rest: None,
        body: prim("%add", vec![Core::Local(x), int(1)]),
        name: "inc".into(),
        span: Span::default(),
    }));
    let mut e = prim("%car", vec![Core::Const(Constant::Null)]);
    for _ in 0..DEPTH {
        let g = Core::Global("inc".into(), Span::default());
        e = Core::Call(Box::new(g), vec![e], Span::default());
    }
    let body = Core::Seq(vec![Core::Define("inc".into(), Box::new(inc)), e]);
    compile("nested_inlined_calls", vars, body);
}
