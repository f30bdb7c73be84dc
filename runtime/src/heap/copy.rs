//! Copying a value graph out of a heap (for messages, spawned closures and
//! promotion to the static area): sharing is preserved and the walk uses an
//! explicit work list, so a million-element list does not use the native
//! stack. Static objects are shared, never copied.
//!
//! Sharing is found the way the collector finds it: an object copied is
//! forwarded in place (header `T_FORWARD`, word 1 the copy's address), and
//! a log of what it overwrote puts every original back before the copy
//! returns. A side table keyed by address cost more than the copy itself
//! on large graphs (hashing, probing and its pages: a global bound to 14
//! million pairs). The source heap is the calling process's own, which no
//! other thread reads meanwhile, and nothing runs between the forwarding
//! and the restoring.

use crate::value::{T_FORWARD, T_PAIR, Value, header_type, object_words, traced_from};
use smallvec::SmallVec;

/// Originals forwarded so far: each one's address and its word 1 as it
/// was (its header is the copy's, without the added flags).
type Forwarded = SmallVec<[(*mut u64, u64); 16]>;

/// Objects still to visit (on the stack for small graphs).
type WorkList = SmallVec<[Value; 16]>;

/// Copies everything reachable from `v` (except static objects) into memory
/// from `alloc`, setting `flags` in every copied header. `v`'s graph must
/// have no object with `flags` already set (the restore clears them).
pub fn copy_graph(v: Value, alloc: &mut dyn FnMut(usize) -> *mut u64, flags: u64) -> Value {
    if v.is_static() {
        return v;
    }
    if let Some(c) = copy_flat_list(v, alloc, flags) {
        return c;
    }
    let mut forwarded = Forwarded::new();
    let mut work = WorkList::new();
    let root = copy_one(v, &mut forwarded, &mut work, alloc, flags);
    while let Some(obj) = work.pop() {
        let h = obj.header();
        if let Some(from) = traced_from(h) {
            for i in from..object_words(h) {
                let nv = copy_one(obj.field(i), &mut forwarded, &mut work, alloc, flags);
                obj.set_word(i, nv.0);
            }
        }
    }
    for (src, word1) in forwarded {
        // SAFETY: `src` is an original this walk forwarded: word 1 holds its
        // copy's address, whose header is the original's plus `flags`.
        unsafe {
            let copy = Value(*src.add(1));
            *src = copy.header() & !(flags << 8);
            *src.add(1) = word1;
        }
    }
    root
}

/// Pairs that `copy_flat_list` copies at most.
const FLAT_LIST_PAIRS: usize = 32;

/// A list of at most `FLAT_LIST_PAIRS` pairs whose elements and final cdr
/// are immediates or static (`(list 'pong i)`, most small messages), copied
/// as one run of pairs from one allocation. Such a chain shares nothing (a
/// pair met twice would make a cycle, and a cycle longer than the bound is
/// left to the general walk), so it needs no forwarding and no restoring:
/// in a ping-pong of such lists, the general walk was a tenth of the time.
fn copy_flat_list(v: Value, alloc: &mut dyn FnMut(usize) -> *mut u64, flags: u64) -> Option<Value> {
    let mut n = 0;
    let mut x = v;
    while !x.is_static() {
        if n == FLAT_LIST_PAIRS || !x.has_type(T_PAIR) || !x.field(1).is_static() {
            return None;
        }
        n += 1;
        x = x.field(2);
    }
    let dst = alloc(3 * n);
    let mut src = v;
    for i in 0..n {
        // SAFETY: `dst` has `3 * n` words; pair `i` takes words `3i..3i+3`.
        unsafe {
            let p = dst.add(3 * i);
            *p = src.header() | (flags << 8);
            *p.add(1) = src.field(1).0;
            src = src.field(2);
            *p.add(2) = if i + 1 < n {
                Value::from_addr(p.add(3)).0
            } else {
                src.0
            };
        }
    }
    Some(Value::from_addr(dst))
}

fn copy_one(
    v: Value,
    forwarded: &mut Forwarded,
    work: &mut WorkList,
    alloc: &mut dyn FnMut(usize) -> *mut u64,
    flags: u64,
) -> Value {
    if v.is_static() {
        return v;
    }
    let src = v.addr();
    // SAFETY: a pointer value points at an object's header; once forwarded
    // by this walk, word 1 is its copy's address.
    let h = unsafe { *src };
    if header_type(h) == T_FORWARD {
        return Value(unsafe { *src.add(1) });
    }
    debug_assert_eq!(h & (flags << 8), 0, "an original with the copy's flags");
    let words = object_words(h);
    let dst = alloc(words);
    // SAFETY: `dst` has `words` words; the source object is `words` long,
    // at least two (a header and a padding word if empty), so words 0 and
    // 1 can hold the forwarding, after the copy took them.
    unsafe {
        std::ptr::copy_nonoverlapping(src as *const u64, dst, words);
        forwarded.push((src, *src.add(1)));
        *src = T_FORWARD;
        *src.add(1) = Value::from_addr(dst).0;
    }
    let c = Value::from_addr(dst);
    c.set_word(0, h | (flags << 8));
    work.push(c);
    c
}
