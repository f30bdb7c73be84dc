//! Primitives: operations the compiler emits directly (inline Cranelift IR or
//! a call into the runtime). The table itself is the runtime's
//! (`termite_runtime::prims::PRIMS`), so compiler and runtime cannot disagree
//! on a primitive's name, arity or symbol.

use termite_runtime::prims::{PRIMS, PrimDef};

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Prim(pub u16);

impl Prim {
    pub fn def(self) -> &'static PrimDef {
        &PRIMS[self.0 as usize]
    }

    pub fn name(self) -> &'static str {
        self.def().name
    }

    pub fn arity(self) -> usize {
        self.def().arity as usize
    }

    /// A test that codegen compiles as a branch when an `if` tests its
    /// result at once (`Term::Let` of it, then `Term::If` of the variable).
    pub fn is_test(self) -> bool {
        matches!(
            self.name(),
            "%null?"
                | "%not"
                | "%no-message?"
                | "%eq?"
                | "%pair?"
                | "%lt"
                | "%gt"
                | "%le"
                | "%ge"
                | "%num-eq"
        )
    }

    /// The primitive named `%name`.
    pub fn by_name(name: &str) -> Option<Prim> {
        PRIMS
            .iter()
            .position(|p| p.name == name)
            .map(|i| Prim(i as u16))
    }

    /// The primitive that a call to the standard procedure `alias` may be
    /// compiled to (when the program does not redefine `alias`).
    pub fn by_alias(alias: &str) -> Option<Prim> {
        PRIMS
            .iter()
            .position(|p| !p.alias.is_empty() && p.alias == alias)
            .map(|i| Prim(i as u16))
    }
}
