//! The loaded program: global variables, constants and the code table.
//! Written once when a program (or a REPL input) is loaded, read by every
//! scheduler thread.

use crate::program::ProgramData;
use crate::value::{UNBOUND, Value};
use std::collections::HashMap;
use std::sync::RwLock;
use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Default)]
pub struct CodeTable {
    /// code address -> (code id, name)
    by_addr: HashMap<usize, (u64, String)>,
    /// code id -> code address
    by_id: HashMap<u64, usize>,
}

/// Reserved code ids of the runtime's own continuations (docs/wire-format.md):
/// the one that ends a process normally, and the one `raise` gets for an
/// error with no continuation to return to.
pub const HALT_CODE_ID: u64 = 0xffff_ffff_ffff_ff01;
pub const RAISE_RETURN_CODE_ID: u64 = 0xffff_ffff_ffff_ff02;

static CODE: RwLock<Option<CodeTable>> = RwLock::new(None);
static GLOBAL_NAMES: RwLock<Vec<String>> = RwLock::new(Vec::new());
static SOURCE: RwLock<Option<crate::program::Source>> = RwLock::new(None);

/// The loaded program's source, if it carries one (for bare nodes).
pub fn set_source(s: Option<crate::program::Source>) {
    *SOURCE.write().unwrap_or_else(|e| e.into_inner()) = s;
}

pub fn source() -> Option<crate::program::Source> {
    SOURCE.read().unwrap_or_else(|e| e.into_inner()).clone()
}

pub fn register_code(entries: &[(u64, String, *const u8)]) {
    let mut g = CODE.write().unwrap_or_else(|e| e.into_inner());
    let t = g.get_or_insert_with(CodeTable::default);
    for (id, name, addr) in entries {
        t.by_addr.insert(*addr as usize, (*id, name.clone()));
        t.by_id.insert(*id, *addr as usize);
    }
}

pub fn code_name(addr: *const u8) -> String {
    CODE.read()
        .unwrap_or_else(|e| e.into_inner())
        .as_ref()
        .and_then(|t| t.by_addr.get(&(addr as usize)).map(|x| x.1.clone()))
        .unwrap_or_else(|| "anonymous".into())
}

pub fn code_id(addr: *const u8) -> Option<u64> {
    CODE.read()
        .unwrap_or_else(|e| e.into_inner())
        .as_ref()
        .and_then(|t| t.by_addr.get(&(addr as usize)).map(|x| x.0))
}

pub fn code_addr(id: u64) -> Option<*const u8> {
    CODE.read()
        .unwrap_or_else(|e| e.into_inner())
        .as_ref()
        .and_then(|t| t.by_id.get(&id).map(|a| *a as *const u8))
}

pub fn set_global_names(names: &[String]) {
    *GLOBAL_NAMES.write().unwrap_or_else(|e| e.into_inner()) = names.to_vec();
}

pub fn global_name(i: usize) -> String {
    GLOBAL_NAMES
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .get(i)
        .cloned()
        .unwrap_or_else(|| format!("global#{i}"))
}

/// Global slots: a fixed-capacity array so that its address never changes
/// (compiled code reaches it through `ctx.globals`). Any process may read a
/// slot while another defines it: each slot is an atomic word, written once
/// by `define` with a release store after its value was promoted (so the
/// static object it names is complete before it is visible), read with
/// acquire loads (compiled code's plain loads are acquire loads on x86-64).
pub struct Globals {
    slots: Box<[AtomicU64]>,
}

impl Globals {
    pub fn new(n: usize) -> Globals {
        Globals {
            slots: (0..n.max(1)).map(|_| AtomicU64::new(UNBOUND.0)).collect(),
        }
    }

    /// The value of slot `i`, or UNBOUND when there is no such slot.
    pub fn get(&self, i: usize) -> Value {
        self.slots
            .get(i)
            .map_or(UNBOUND, |s| Value(s.load(Ordering::Acquire)))
    }

    /// Defines slot `i` as `v` (a static value) unless it is bound
    /// already; answers the slot's value.
    pub fn define_if_unbound(&self, i: usize, v: Value) -> Value {
        let Some(s) = self.slots.get(i) else {
            return UNBOUND;
        };
        match s.compare_exchange(UNBOUND.0, v.0, Ordering::Release, Ordering::Acquire) {
            Ok(_) => v,
            Err(old) => Value(old),
        }
    }

    /// Where compiled code reads the slots.
    pub fn base(&self) -> *mut Value {
        self.slots.as_ptr() as *mut Value
    }

    pub fn len(&self) -> usize {
        self.slots.len()
    }

    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }
}

/// Decodes the serialized program data.
pub fn decode(blob: &[u8]) -> Result<ProgramData, String> {
    postcard::from_bytes(blob).map_err(|e| format!("corrupt program data: {e}"))
}

/// The program's identity, which nodes compare in their handshake:
/// SHA-256 over its sorted code ids (ARCHITECTURE.md, "Code ids").
pub fn program_identity() -> [u8; 32] {
    let ids: Vec<u64> = CODE
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .as_ref()
        .map(|t| t.by_id.keys().copied().collect())
        .unwrap_or_default();
    identity_of(ids.into_iter())
}

/// SHA-256 over the distinct code ids `ids`, sorted.
pub fn identity_of(ids: impl Iterator<Item = u64>) -> [u8; 32] {
    use sha2::Digest;
    let mut ids: Vec<u64> = ids.collect();
    ids.sort_unstable();
    ids.dedup();
    let mut h = sha2::Sha256::new();
    for id in ids {
        h.update(id.to_le_bytes());
    }
    h.finalize().into()
}
