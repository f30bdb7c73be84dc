//! The static area: objects that belong to no process (constants, values of
//! global variables, record types). They are never moved or freed; a
//! collector that meets one leaves it in place, and a message that holds one
//! shares it. Invariant: a static object points only to static objects or
//! immediates, which `promote` ensures by copying.

use crate::value::{F_STATIC, Value};
use std::sync::Mutex;

struct Area {
    blocks: Vec<Box<[u64]>>,
    used: usize,
}

static AREA: Mutex<Area> = Mutex::new(Area {
    blocks: Vec::new(),
    used: 0,
});

const BLOCK_WORDS: usize = 1 << 16;

/// Allocates `words` static words. The caller writes a header with
/// `F_STATIC` set before the object is visible to anyone else.
pub fn alloc(words: usize) -> *mut u64 {
    alloc_in(&mut AREA.lock().unwrap_or_else(|e| e.into_inner()), words)
}

fn alloc_in(a: &mut Area, words: usize) -> *mut u64 {
    let fits = a.blocks.last().is_some_and(|b| a.used + words <= b.len());
    if !fits {
        a.blocks
            .push(vec![0u64; words.max(BLOCK_WORDS)].into_boxed_slice());
        a.used = 0;
    }
    let used = a.used;
    a.used += words;
    let b = a.blocks.last_mut().map(|b| b.as_mut_ptr());
    match b {
        // SAFETY: `used + words` is within the block, checked above.
        Some(p) => unsafe { p.add(used) },
        None => unreachable!("a block was just pushed"),
    }
}

/// A static copy of the graph reachable from `v` (sharing preserved); `v`
/// itself when it is already static.
pub fn promote(v: Value) -> Value {
    // One lock for the whole copy (a global bound to a large structure
    // copies millions of objects; the copy allocates nothing else).
    let mut a = AREA.lock().unwrap_or_else(|e| e.into_inner());
    super::copy::copy_graph(v, &mut |words| alloc_in(&mut a, words), F_STATIC)
}
