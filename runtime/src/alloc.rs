//! Constructors of heap objects, allocating in the running process's heap
//! from runtime functions (never moving anything).

use crate::ctx::Ctx;
use crate::value::*;
use dashu::integer::IBig;

impl Ctx {
    /// Checks, before a primitive builds an object of `words` words whose
    /// size the program chose (`make-vector`, `make-string`, ...), that it
    /// fits under the heap limit; otherwise raises `heap limit exceeded`
    /// (and answers the value for the primitive to return).
    pub fn room_for(&mut self, who: &str, words: usize) -> Result<(), Value> {
        let limit = crate::heap::limit::words();
        if words.saturating_add(self.heap().live_words) <= limit {
            return Ok(());
        }
        Err(self.heap_limit_error(who, words))
    }

    /// Raises `heap limit exceeded`: `who` needed `words` more words.
    pub fn heap_limit_error(&mut self, who: &str, words: usize) -> Value {
        let name = Value::symbol(crate::symbols::intern(who));
        let need = self.int(i64::try_from(words.saturating_mul(8)).unwrap_or(i64::MAX));
        let limit = self.int((crate::heap::limit::words() * 8) as i64);
        self.raise_error(crate::num::HEAP_LIMIT_MESSAGE, &[name, need, limit])
    }

    /// Allocation by the runtime counts like inline allocation: the next
    /// entry check of compiled code fails, and the trampoline collects
    /// there. An allocating entry fails on the lowered `limit` (compiled
    /// code keeps bumping only within the reservation it already checked,
    /// below the real limit); a procedure entry fails on its reductions,
    /// which are put aside until the trampoline gives them back — so a
    /// procedure that allocates nothing inline needs no heap check.
    #[cold]
    pub fn request_collection(&mut self) {
        self.limit = std::ptr::null_mut();
        if !self.collection_due {
            self.collection_due = true;
            self.reductions_kept = self.reductions;
            self.reductions = 0;
        }
    }

    /// Allocates an object of `ty` with `len` in its header and room for
    /// `payload_words` words after the header.
    #[inline]
    pub fn alloc_object(&mut self, ty: u64, len: usize, payload_words: usize) -> Value {
        let p = self.heap().alloc(1 + payload_words.max(1));
        if self.heap().over_threshold() || crate::heap::stress::enabled() {
            self.request_collection();
        }
        let v = Value::from_addr(p);
        v.set_word(0, header(ty, len as u64, 0));
        if payload_words == 0 {
            // The padding word of an empty object (`#()`, "") is copied and
            // traced like a field: it must hold a value, not old memory.
            v.set_word(1, 0);
        }
        v
    }

    pub fn cons(&mut self, a: Value, d: Value) -> Value {
        let v = self.alloc_object(T_PAIR, 2, 2);
        // SAFETY: `alloc_object` just made the pair's three words, which
        // nobody else sees yet (the runtime's hottest constructor: the
        // checked `set_word` read the header back at each field).
        unsafe {
            let p = v.addr();
            *p.add(1) = a.0;
            *p.add(2) = d.0;
        }
        v
    }

    pub fn list(&mut self, items: &[Value]) -> Value {
        self.list_with_tail(items, NULL)
    }

    pub fn list_with_tail(&mut self, items: &[Value], tail: Value) -> Value {
        let mut list = self.fresh_list(items.len(), tail);
        for (i, &x) in items.iter().enumerate() {
            list.set_car(i, x);
        }
        list.value()
    }

    /// A fresh list of `n` pairs made in a few allocations (the runtime's
    /// list builders — `reverse`, `append` — paid a threshold check and a
    /// call per pair): pair `i`'s cdr is pair `i + 1`, the last one's is
    /// `tail`, every car `#f` until the caller sets it. The pairs come in
    /// chunks of `FRESH_CHUNK_PAIRS`, each one allocation: a single object
    /// of 3n words made a fresh (unpooled, page-faulting) block for every
    /// long list.
    pub fn fresh_list(&mut self, n: usize, tail: Value) -> FreshList {
        let nchunks = n.div_ceil(FRESH_CHUNK_PAIRS);
        let mut chunks = smallvec::SmallVec::from_elem(std::ptr::null_mut(), nchunks);
        let pair_header = header(T_PAIR, 2, 0);
        let mut next = tail;
        for c in (0..nchunks).rev() {
            let len = (n - c * FRESH_CHUNK_PAIRS).min(FRESH_CHUNK_PAIRS);
            let base = self.alloc_object(T_PAIR, 2, 3 * len - 1).addr();
            for i in (0..len).rev() {
                // SAFETY: pair `i`'s three words are within the 3 * len
                // words just allocated, which nobody else sees yet.
                unsafe {
                    let p = base.add(3 * i);
                    *p = pair_header;
                    *p.add(1) = FALSE.0;
                    *p.add(2) = next.0;
                    next = Value::from_addr(p);
                }
            }
            chunks[c] = base;
        }
        FreshList {
            first: next,
            n,
            chunks,
        }
    }

    pub fn vector(&mut self, items: &[Value]) -> Value {
        let v = self.alloc_object(T_VECTOR, items.len(), items.len());
        v.set_values(1, items);
        v
    }

    pub fn string_from_chars(&mut self, chars: &[u32]) -> Value {
        self.string_concat(&[chars])
    }

    /// A new string of the code points of `parts` one after the other. The
    /// parts may be other strings' characters: allocating moves nothing.
    pub fn string_concat(&mut self, parts: &[&[u32]]) -> Value {
        let len = parts.iter().map(|p| p.len()).sum::<usize>();
        let v = self.alloc_object(T_STRING, len, len.div_ceil(2));
        let mut dst = v.addr().wrapping_add(1) as *mut u32;
        for p in parts {
            // SAFETY: the payload has room for `len` u32s, the sum of the
            // parts' lengths; a part is never the new string itself.
            unsafe {
                std::ptr::copy_nonoverlapping(p.as_ptr(), dst, p.len());
                dst = dst.add(p.len());
            }
        }
        v
    }

    pub fn string(&mut self, s: &str) -> Value {
        if s.is_ascii() {
            let v = self.alloc_object(T_STRING, s.len(), s.len().div_ceil(2));
            let dst = v.addr().wrapping_add(1) as *mut u32;
            for (i, b) in s.bytes().enumerate() {
                // SAFETY: the payload has room for `s.len()` u32s.
                unsafe { *dst.add(i) = b as u32 };
            }
            return v;
        }
        let chars: Vec<u32> = s.chars().map(|c| c as u32).collect();
        self.string_from_chars(&chars)
    }

    pub fn bytevector(&mut self, bytes: &[u8]) -> Value {
        let v = self.alloc_object(T_BYTEVECTOR, bytes.len(), bytes.len().div_ceil(8));
        // SAFETY: the payload has room for `len` bytes.
        unsafe {
            std::ptr::copy_nonoverlapping(bytes.as_ptr(), v.addr().add(1) as *mut u8, bytes.len())
        };
        v
    }

    pub fn flonum(&mut self, x: f64) -> Value {
        let v = self.alloc_object(T_FLONUM, 1, 1);
        v.set_word(1, x.to_bits());
        v
    }

    /// An exact integer: a fixnum when it fits, else a bignum.
    pub fn integer(&mut self, n: IBig) -> Value {
        if let Ok(i) = i64::try_from(&n)
            && (FIXNUM_MIN..=FIXNUM_MAX).contains(&i)
        {
            return Value::fixnum(i);
        }
        let (sign, words) = n.as_sign_words();
        let v = self.alloc_object(T_BIGNUM, 1 + words.len(), 1 + words.len());
        v.set_word(1, u64::from(sign == dashu::base::Sign::Negative));
        v.set_words(2, words);
        v
    }

    pub fn int(&mut self, n: i64) -> Value {
        if (FIXNUM_MIN..=FIXNUM_MAX).contains(&n) {
            Value::fixnum(n)
        } else {
            self.integer(IBig::from(n))
        }
    }

    pub fn record(&mut self, rtd: Value, fields: &[Value]) -> Value {
        let v = self.alloc_object(T_RECORD, 1 + fields.len(), 1 + fields.len());
        v.set_word(1, rtd.0);
        v.set_values(2, fields);
        v
    }

    pub fn closure(&mut self, code: *const u8, free: &[Value]) -> Value {
        let v = self.alloc_object(T_CLOSURE, 1 + free.len(), 1 + free.len());
        v.set_word(1, code as u64);
        v.set_values(2, free);
        v
    }
}

/// The value of a bignum object.
pub fn bignum_value(v: Value) -> IBig {
    if !v.has_type(T_BIGNUM) || v.is_empty() {
        return IBig::ZERO;
    }
    let n = v.len() - 1;
    // SAFETY: a bignum object holds its sign word, then `len - 1` limbs
    // (checked above); the limbs are copied at once.
    let limbs: &[u64] = unsafe { std::slice::from_raw_parts(v.addr().add(2), n) };
    let sign = if v.word(1) == 1 {
        dashu::base::Sign::Negative
    } else {
        dashu::base::Sign::Positive
    };
    IBig::from_sign_words(sign, limbs)
}

/// A list just made by `Ctx::fresh_list`, whose cars the caller sets
/// before anything else sees the list.
pub struct FreshList {
    first: Value,
    n: usize,
    /// The first pair of each chunk.
    chunks: smallvec::SmallVec<[*mut u64; 2]>,
}

/// Pairs per allocation of `Ctx::fresh_list` (96 KiB).
const FRESH_CHUNK_PAIRS: usize = 1 << 12;

impl FreshList {
    pub fn set_car(&mut self, i: usize, v: Value) {
        assert!(i < self.n, "car {i} of a fresh list of {}", self.n);
        let base = self.chunks[i / FRESH_CHUNK_PAIRS];
        // SAFETY: pair `i % FRESH_CHUNK_PAIRS` of its chunk, made by
        // `fresh_list`.
        unsafe { *base.add(3 * (i % FRESH_CHUNK_PAIRS) + 1) = v.0 }
    }

    pub fn value(&self) -> Value {
        self.first
    }
}
