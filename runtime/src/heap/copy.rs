//! Copying a value graph out of a heap (for messages, spawned closures and
//! promotion to the static area): sharing is preserved and the walk uses an
//! explicit work list, so a million-element list does not use the native
//! stack. Static objects are shared, never copied.

use crate::hash::WordMap;
use crate::value::{Value, object_words, traced_from};
use smallvec::SmallVec;

/// The objects a walk has met (and their copies): a short list searched
/// linearly, as most messages are a few objects, then a hash map.
#[derive(Default)]
struct Seen {
    few: SmallVec<[(u64, Value); 16]>,
    many: WordMap<u64, Value>,
}

impl Seen {
    fn get(&self, k: u64) -> Option<Value> {
        if self.many.is_empty() {
            self.few.iter().find(|(a, _)| *a == k).map(|(_, v)| *v)
        } else {
            self.many.get(&k).copied()
        }
    }

    fn insert(&mut self, k: u64, v: Value) {
        if self.many.is_empty() && self.few.len() < self.few.inline_size() {
            self.few.push((k, v));
        } else {
            self.many.extend(self.few.drain(..));
            self.many.insert(k, v);
        }
    }
}

/// Objects still to visit (on the stack for small graphs).
type WorkList = SmallVec<[Value; 16]>;

/// Copies everything reachable from `v` (except static objects) into memory
/// from `alloc`, setting `flags` in every copied header.
pub fn copy_graph(v: Value, alloc: &mut dyn FnMut(usize) -> *mut u64, flags: u64) -> Value {
    if v.is_static() {
        return v;
    }
    let mut copies = Seen::default();
    let mut work = WorkList::new();
    let root = copy_one(v, &mut copies, &mut work, alloc, flags);
    while let Some(obj) = work.pop() {
        let h = obj.header();
        if let Some(from) = traced_from(h) {
            for i in from..object_words(h) {
                let nv = copy_one(obj.field(i), &mut copies, &mut work, alloc, flags);
                obj.set_word(i, nv.0);
            }
        }
    }
    root
}

fn copy_one(
    v: Value,
    copies: &mut Seen,
    work: &mut WorkList,
    alloc: &mut dyn FnMut(usize) -> *mut u64,
    flags: u64,
) -> Value {
    if v.is_static() {
        return v;
    }
    if let Some(c) = copies.get(v.0) {
        return c;
    }
    let h = v.header();
    let words = object_words(h);
    let dst = alloc(words);
    // SAFETY: `dst` has `words` words; the source object is `words` long.
    unsafe { std::ptr::copy_nonoverlapping(v.addr() as *const u64, dst, words) };
    let c = Value::from_addr(dst);
    c.set_word(0, h | (flags << 8));
    copies.insert(v.0, c);
    work.push(c);
    c
}
