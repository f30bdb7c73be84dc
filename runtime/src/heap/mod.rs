//! A process's heap: blocks of words that compiled code and the runtime
//! bump-allocate into, and a Cheney copying collector.
//!
//! Ownership: a `Heap` belongs to exactly one process and is touched only by
//! the thread running that process. Compiled code allocates in the nursery
//! region `[ctx.hp, ctx.limit)`; runtime functions allocate in a separate
//! fragment region (`alloc`), so that a compiled body's entry reservation
//! stays valid across the runtime calls it makes. Objects move only in
//! `collect`, which runs from the trampoline, when no compiled frame holds a
//! pointer.

pub mod copy;
pub mod limit;
pub mod statics;
pub mod stress;

use smallvec::SmallVec;
use std::cell::RefCell;
use std::mem::MaybeUninit;

use crate::value::{
    F_KEPT, F_STATIC, T_FORWARD, Value, header_flags, header_type, object_words, traced_from,
};

/// Objects of at least this many words (128 KiB) live alone in a block of
/// their own, the heap's large-object space: the collector keeps a live
/// one where it is instead of copying it (a 400 MB string is not copied at
/// every collection, nor given fresh to-space pages). Such a block is one
/// of the heap's blocks; the collector knows it by its contents (one
/// object that fills it: `Block::is_one_large_object`), so the heap keeps
/// no list of them.
pub const LARGE_OBJECT_WORDS: usize = 1 << 14;

/// A chunk of heap memory and how much of it is in use. Its memory is not
/// initialised: only words below `used` are ever read.
pub struct Block {
    mem: Box<[MaybeUninit<u64>]>,
    used: usize,
}

/// Blocks freed by collections and by ended processes, kept per size class
/// (`class_index`) for the next ones: a collection then reuses memory that
/// is already mapped (and often still in cache) instead of asking the
/// system for fresh zeroed pages.
struct Pool {
    by_class: Vec<Vec<Box<[MaybeUninit<u64>]>>>,
    words: usize,
}

/// The smallest block the pool keeps (a message's first block).
const MIN_POOLED_WORDS: usize = 128;
/// Words of free blocks a thread keeps at most.
const POOL_LIMIT_WORDS: usize = 32 << 20; // 256 MiB
/// Size classes the pool keeps (blocks up to 2^47 words).
const POOL_CLASSES: usize = 96;

thread_local! {
    static POOL: RefCell<Pool> = RefCell::new(Pool {
        by_class: (0..POOL_CLASSES).map(|_| Vec::new()).collect(),
        words: 0,
    });
}

impl Block {
    fn new(words: usize) -> Block {
        let words = size_class(words);
        let recycled = POOL.with(|p| {
            let mut p = p.borrow_mut();
            let m = p.by_class.get_mut(class_index(words)).and_then(Vec::pop);
            if m.is_some() {
                p.words -= words;
            }
            m
        });
        let mem = recycled.unwrap_or_else(|| Box::new_uninit_slice(words));
        Block { mem, used: 0 }
    }

    /// A fresh block of at least `size` words with `words` (at most `size`)
    /// taken at its start: the block and where they are.
    fn holding(size: usize, words: usize) -> (Block, *mut u64) {
        let mut b = Block::new(size);
        match b.try_bump(words) {
            Some(p) => (b, p),
            None => unreachable!("a fresh block is large enough"),
        }
    }

    /// Gives the block's memory back to the pool. Blocks smaller than
    /// `MIN_POOLED_WORDS` (the first blocks of processes) go back to the
    /// allocator instead: processes are often created on one thread and end
    /// on another, where a pool would only hoard them, while the allocator
    /// returns them to the thread that allocates.
    fn recycle(self) {
        let words = self.mem.len();
        if words < MIN_POOLED_WORDS {
            return;
        }
        POOL.with(|p| {
            let mut p = p.borrow_mut();
            if p.words + words <= POOL_LIMIT_WORDS
                && let Some(class) = p.by_class.get_mut(class_index(words))
            {
                class.push(self.mem);
                p.words += words;
            }
        });
    }

    #[inline]
    fn start(&mut self) -> *mut u64 {
        self.mem.as_mut_ptr() as *mut u64
    }

    fn end(&mut self) -> *mut u64 {
        // SAFETY: one past the end of the block's memory.
        unsafe { self.start().add(self.mem.len()) }
    }

    /// Whether the block is one of the large-object space: exactly one
    /// object, of at least `LARGE_OBJECT_WORDS`, at its start, in a block of
    /// its size class (a nursery block with room to spare is not one: its
    /// object is copied into one).
    fn is_one_large_object(&self) -> bool {
        // SAFETY: a used block starts with an object's header.
        self.used >= LARGE_OBJECT_WORDS
            && self.mem.len() == size_class(self.used)
            && object_words(unsafe { *(self.mem.as_ptr() as *const u64) }) == self.used
    }

    #[inline]
    fn try_bump(&mut self, words: usize) -> Option<*mut u64> {
        if self.used + words <= self.mem.len() {
            // SAFETY: within the block, checked above.
            let p = unsafe { self.start().add(self.used) };
            self.used += words;
            Some(p)
        } else {
            None
        }
    }
}

/// The size of block that holds `words`: a power of two or three quarters
/// of one, so that freed blocks fit later requests and a new process's
/// first block (48 words) is not rounded up to 64.
fn size_class(words: usize) -> usize {
    let p = words.next_power_of_two();
    if p >= 4 && words <= p / 4 * 3 {
        p / 4 * 3
    } else {
        p
    }
}

/// Where the pool keeps blocks of a size class: 2k for 2^k words, 2k - 1
/// for three quarters of that.
fn class_index(class: usize) -> usize {
    let k = class.next_power_of_two().trailing_zeros() as usize;
    if class.is_power_of_two() {
        2 * k
    } else {
        2 * k - 1
    }
}

const MIN_BLOCK_WORDS: usize = 48;
/// A process that begins to wait with a heap over this size, mostly
/// garbage, is collected first (`wants_idle_collection`).
const IDLE_HEAP_WORDS: usize = 1024;
const MIN_BUDGET_WORDS: usize = 512;
const MAX_BUDGET_WORDS: usize = 1 << 16;
const MAX_BLOCK_WORDS: usize = 1 << 17; // 1 MiB

/// Past three times the live data, a heap may grow by at most this much
/// more before it collects (`headroom`).
const MAX_EXTRA_HEADROOM_WORDS: usize = 4 << 20; // 32 MiB

/// What a heap with `live` words of live data may allocate before its next
/// collection (beyond its budget): six times its live data while that is
/// small, at most 32 MiB more than three times it. Each collection copies
/// the live data, so the headroom is what pays for it: at three times,
/// collection took 37 % of a quicksort of 200,000 numbers (its
/// continuation frames are live data); this made that program 15 % and
/// tree 13 % faster (user time) for 10–25 % more memory. More (six times
/// at any size) added hundreds of megabytes to gcheap, whose first touch
/// on this virtual machine cost more than the collections it saved.
fn headroom(live: usize) -> usize {
    (live * 6).min(live * 3 + MAX_EXTRA_HEADROOM_WORDS)
}

/// `Heap::fragment` when runtime functions have no block yet.
const NO_FRAGMENT: u32 = u32::MAX;

pub struct Heap {
    /// Blocks that hold the process's objects (from-space); an idle
    /// process has one, kept inline.
    blocks: SmallVec<[Block; 1]>,
    /// Index of the block compiled code bumps through, and of the one
    /// runtime functions bump through.
    nursery: u32,
    /// The block runtime functions bump through, or `NO_FRAGMENT` (a
    /// plain u32 keeps `Process` in its allocation size class).
    fragment: u32,
    /// Words in all blocks.
    words: usize,
    /// Collect when `words` exceeds this.
    threshold: usize,
    /// Allocation allowed between collections beyond three times the live
    /// data: small for a new process (a million idle processes must stay
    /// small), doubling at each collection up to 512 KiB (so a process that
    /// allocates a lot collects rarely).
    budget: u32,
    /// Words live after the last collection.
    pub live_words: usize,
    pub collections: u32,
}

impl Heap {
    pub fn new(initial_bytes: usize) -> Heap {
        let words = (initial_bytes / 8).max(MIN_BLOCK_WORDS);
        let first = Block::new(words);
        let words = first.mem.len();
        Heap {
            blocks: smallvec::smallvec![first],
            nursery: 0,
            fragment: NO_FRAGMENT,
            words,
            threshold: (words * 4).max(MIN_BUDGET_WORDS),
            budget: (words * 4).max(MIN_BUDGET_WORDS) as u32,
            live_words: 0,
            collections: 0,
        }
    }

    /// The current nursery region, for `ctx.hp` and `ctx.limit`.
    pub fn nursery(&mut self) -> (*mut u64, *mut u64) {
        let b = &mut self.blocks[self.nursery as usize];
        // SAFETY: `used` is within the block.
        (unsafe { b.start().add(b.used) }, b.end())
    }

    /// The end of the nursery: the limit compiled code may bump to.
    pub fn nursery_end(&mut self) -> *mut u64 {
        self.blocks[self.nursery as usize].end()
    }

    /// Records how far compiled code has bumped the nursery.
    pub fn sync_nursery(&mut self, hp: *mut u64) {
        let b = &mut self.blocks[self.nursery as usize];
        b.used = (hp as usize - b.start() as usize) / 8;
    }

    pub fn over_threshold(&self) -> bool {
        self.words > self.threshold
    }

    /// Whether a process that begins to wait should be collected first: its
    /// heap is not small and mostly garbage. (An idle process then holds
    /// about its live data, not the allowance it had while it ran.)
    pub fn wants_idle_collection(&self) -> bool {
        self.words > IDLE_HEAP_WORDS && self.words > 4 * self.live_words
    }

    fn add_block(&mut self, words: usize) -> u32 {
        let b = Block::new(words);
        self.words += b.mem.len();
        self.blocks.push(b);
        (self.blocks.len() - 1) as u32
    }

    fn block_size_for(&self, words: usize) -> usize {
        words.max((self.words / 2).clamp(MIN_BLOCK_WORDS, MAX_BLOCK_WORDS))
    }

    /// Gives compiled code a fresh nursery block with at least `words` free.
    pub fn grow_nursery(&mut self, hp: *mut u64, words: usize) -> (*mut u64, *mut u64) {
        self.sync_nursery(hp);
        let size = self.block_size_for(words);
        self.nursery = self.add_block(size);
        self.nursery()
    }

    /// Allocates `words` words for a runtime function. Never moves anything.
    #[inline]
    pub fn alloc(&mut self, words: usize) -> *mut u64 {
        if words >= LARGE_OBJECT_WORDS {
            return self.alloc_large(words);
        }
        if let Some(b) = self.blocks.get_mut(self.fragment as usize)
            && let Some(p) = b.try_bump(words)
        {
            return p;
        }
        self.alloc_in_new_fragment(words)
    }

    #[inline(never)]
    fn alloc_in_new_fragment(&mut self, words: usize) -> *mut u64 {
        let size = self.block_size_for(words);
        let f = self.add_block(size);
        self.fragment = f;
        match self.blocks[f as usize].try_bump(words) {
            Some(p) => p,
            None => unreachable!("a fresh block is large enough"),
        }
    }

    /// A block of its own in the large-object space for one object of
    /// `words` words (the caller writes it whole). It is never bumped into
    /// again: it is neither the nursery nor the fragment.
    #[inline(never)]
    fn alloc_large(&mut self, words: usize) -> *mut u64 {
        let (b, p) = Block::holding(words, words);
        self.words += b.mem.len();
        self.blocks.push(b);
        p
    }

    /// Copies everything reachable from `roots` into fresh blocks, updating
    /// the roots, and frees the old blocks. Afterwards the nursery has at
    /// least `need_words` free. Live large objects stay where they are.
    pub fn collect(
        &mut self,
        hp: *mut u64,
        roots: &mut [&mut Value],
        need_words: usize,
    ) -> (*mut u64, *mut u64) {
        self.sync_nursery(hp);
        let mut old = Vec::with_capacity(self.blocks.len());
        let mut old_large = Vec::new();
        for b in self.blocks.drain(..) {
            if b.is_one_large_object() {
                old_large.push(b);
            } else {
                old.push(b);
            }
        }
        let mut large_at: Vec<usize> = old_large.iter_mut().map(|b| b.start() as usize).collect();
        large_at.sort_unstable();
        let large_words: usize = old_large.iter().map(|b| b.used).sum();
        let mut to = ToSpace {
            blocks: Vec::new(),
            // Sized by the last live data, growing geometrically: a small
            // process stays small after a collection.
            // (Large objects are not copied: they do not count.)
            block_words: (self.live_words.saturating_sub(large_words) * 2)
                .clamp(MIN_BLOCK_WORDS, MAX_BLOCK_WORDS),
            large_at,
            large: Vec::new(),
            large_scan: Vec::new(),
        };
        for r in roots.iter_mut() {
            **r = to.forward(**r);
        }
        to.scan();
        let poison = stress::enabled();
        let free = |mut b: Block| {
            if poison {
                b.mem.fill(MaybeUninit::new(stress::POISON));
            }
            b.recycle();
        };
        old.into_iter().for_each(free);
        // A large object the collection reached was marked: it stays (the
        // mark goes); the others go.
        for mut b in old_large {
            let start = b.start();
            // SAFETY: a large block holds one object at its start.
            let h = unsafe { *start };
            if header_flags(h) & F_KEPT != 0 {
                unsafe { *start = h & !(F_KEPT << 8) };
                to.large.push(b);
            } else {
                free(b);
            }
        }
        let copied: usize = to.blocks.iter().map(|b| b.used).sum();
        let live: usize = copied + to.large.iter().map(|b| b.used).sum::<usize>();
        // The large blocks first: the nursery is the last ordinary one.
        let ordinary = to.blocks.len();
        self.blocks = to.large.into_iter().chain(to.blocks).collect();
        self.words = self.blocks.iter().map(|b| b.mem.len()).sum();
        self.live_words = live;
        self.collections += 1;
        self.budget = (self.budget * 2).min(MAX_BUDGET_WORDS as u32);
        self.threshold = (headroom(live).max(self.budget as usize) + self.words)
            .min(limit::words().max(self.words + self.budget as usize));
        self.fragment = NO_FRAGMENT;
        // A nursery: the last to-space block if it has room, or a new one.
        let last = self.blocks.len().checked_sub(1).filter(|_| ordinary > 0);
        match last {
            Some(i)
                if self.blocks[i].mem.len() - self.blocks[i].used
                    >= need_words.max(MIN_BLOCK_WORDS) =>
            {
                self.nursery = i as u32;
            }
            _ => {
                let size = self.block_size_for(need_words.max(copied / 2));
                self.nursery = self.add_block(size);
            }
        }
        self.nursery()
    }
    /// Takes a message into this heap; answers its value here. A small
    /// message is copied into the fragment region (its block goes back to
    /// the pool, warm for the next send); a larger one's blocks are adopted
    /// as they are, without copying.
    pub fn take_message(&mut self, mem: MessageMem, v: Value) -> Value {
        match mem {
            MessageMem::None => v,
            // Decoded before it is taken (`crate::dist::decoded`).
            MessageMem::Wire(_) => crate::value::UNSPECIFIED,
            MessageMem::Small(small) => {
                let mut b = small.into_block();
                let v = self.copy_out(&mut b, v);
                b.recycle();
                v
            }
            MessageMem::Large(blocks) => {
                // Allocation goes on in this heap's own nursery and fragment
                // (a block that is one large object is kept in place by the
                // collector, as any such block).
                for b in *blocks {
                    self.words += b.mem.len();
                    self.blocks.push(b);
                }
                v
            }
        }
    }

    /// Copies the objects of block `b` into the fragment region, moving
    /// their pointers into `b` by the distance between the two places;
    /// answers `v` moved likewise.
    fn copy_out(&mut self, b: &mut Block, v: Value) -> Value {
        let words = b.used;
        let src = b.start();
        let dst = self.alloc(words);
        // SAFETY: `dst` has room for `words`; the block's first `words`
        // words are the message's objects.
        unsafe { std::ptr::copy_nonoverlapping(src, dst, words) };
        let (lo, hi) = (src as u64, src as u64 + 8 * words as u64);
        let delta = (dst as u64).wrapping_sub(lo);
        let moved = |x: Value| {
            if x.is_ptr() && (lo..hi).contains(&(x.addr() as u64)) {
                Value(x.0.wrapping_add(delta))
            } else {
                x
            }
        };
        let mut off = 0;
        while off < words {
            // SAFETY: `off` is the start of an object within the copy.
            let obj = unsafe { dst.add(off) };
            let h = unsafe { *obj };
            let n = object_words(h);
            if let Some(from) = traced_from(h) {
                for i in from..n {
                    // SAFETY: within the object.
                    unsafe { *obj.add(i) = moved(Value(*obj.add(i))).0 };
                }
            }
            off += n;
        }
        moved(v)
    }

    /// Gives every block back to the pool (the process has ended; the heap
    /// is never used again).
    pub fn release(&mut self) {
        for b in self.blocks.drain(..) {
            b.recycle();
        }
        self.words = 0;
    }

    /// A copy of `v`'s graph at the start of a new process's nursery (it
    /// has not run yet, so no compiled code holds a reservation there).
    pub fn copy_into_new(&mut self, v: Value) -> Value {
        copy::copy_graph(
            v,
            &mut |words| match self
                .blocks
                .get_mut(self.nursery as usize)
                .and_then(|b| b.try_bump(words))
            {
                Some(p) => p,
                None => self.alloc(words),
            },
            0,
        )
    }
}

impl Drop for Heap {
    fn drop(&mut self) {
        self.release();
    }
}

/// The memory of a message's copy, until its receiver takes it. Two words,
/// so that a message is small in a mailbox.
pub enum MessageMem {
    /// An immediate or a static object: nothing was copied.
    None,
    /// A copy that fits in one block of `COPIED_MESSAGE_WORDS` words.
    Small(SmallCopy),
    /// A larger copy, in blocks the receiver adopts.
    Large(Box<Vec<Block>>),
    /// A message from another node, still in the wire format: the
    /// receiving process decodes (and validates) it when it drains its
    /// inbox (`crate::dist::decoded`), so that the I/O thread never spends
    /// the time a large message takes to build.
    Wire(Box<WireBytes>),
}

/// The bytes of a message from another node: the frame's payload as the
/// network layer handed it over (a reassembled one without a copy), and
/// where the wire value starts in it (after the frame's header).
pub struct WireBytes {
    pub bytes: Vec<u8>,
    pub start: usize,
}

impl WireBytes {
    pub fn value(&self) -> &[u8] {
        &self.bytes[self.start..]
    }
}

/// A block of exactly `COPIED_MESSAGE_WORDS` words, owned through a thin
/// pointer, and how much of it the copy uses.
pub struct SmallCopy {
    mem: std::ptr::NonNull<MaybeUninit<u64>>,
    used: u32,
}

// SAFETY: the block is reachable only through its owner.
unsafe impl Send for SmallCopy {}

impl SmallCopy {
    fn new(b: Block) -> SmallCopy {
        debug_assert_eq!(b.mem.len(), COPIED_MESSAGE_WORDS);
        let used = b.used as u32;
        let mem = std::ptr::NonNull::from(Box::leak(b.mem)).cast();
        SmallCopy { mem, used }
    }

    fn into_block(self) -> Block {
        let this = std::mem::ManuallyDrop::new(self);
        // SAFETY: `this` is never dropped, so the block is taken once.
        unsafe { this.take_block() }
    }

    /// The block, owned again as a `Block`.
    ///
    /// # Safety
    /// Once per `SmallCopy`: the caller must not use it afterwards.
    unsafe fn take_block(&self) -> Block {
        let slice = std::ptr::slice_from_raw_parts_mut(self.mem.as_ptr(), COPIED_MESSAGE_WORDS);
        Block {
            // SAFETY: made by `new` from a boxed slice of that length.
            mem: unsafe { Box::from_raw(slice) },
            used: self.used as usize,
        }
    }
}

impl Drop for SmallCopy {
    fn drop(&mut self) {
        // SAFETY: the copy is never used again.
        drop(unsafe { self.take_block() });
    }
}

/// A message is copied into a block of this size from the sender's pool;
/// one that fits is copied again into the receiver's heap, and its block
/// goes back to the pool (warm for the next send).
const COPIED_MESSAGE_WORDS: usize = 128;
/// A larger message goes on in blocks of this size, which its receiver
/// adopts without copying.
const LARGE_MESSAGE_BLOCK_WORDS: usize = 4096;

/// A copy of `v`'s graph (except static objects) for a message.
pub fn copy_message(v: Value) -> (MessageMem, Value) {
    if v.is_static() {
        return (MessageMem::None, v);
    }
    let mut first = Block::new(COPIED_MESSAGE_WORDS);
    let mut more: Vec<Block> = Vec::new();
    let mut large: Vec<Block> = Vec::new();
    let copy = copy::copy_graph(
        v,
        &mut |words| {
            if words >= LARGE_OBJECT_WORDS {
                // Alone in its block: the receiver keeps it there.
                let (b, p) = Block::holding(words, words);
                large.push(b);
                return p;
            }
            let last = more.last_mut().unwrap_or(&mut first);
            if let Some(p) = last.try_bump(words) {
                return p;
            }
            let (b, p) = Block::holding(words.max(LARGE_MESSAGE_BLOCK_WORDS), words);
            more.push(b);
            p
        },
        0,
    );
    let mem = if more.is_empty() && large.is_empty() {
        MessageMem::Small(SmallCopy::new(first))
    } else {
        if first.used > 0 {
            more.insert(0, first);
        } else {
            first.recycle();
        }
        more.append(&mut large);
        MessageMem::Large(Box::new(more))
    };
    (mem, copy)
}

/// Memory for a message of exactly `words` words that the caller builds
/// itself (the wire decoder), at the returned address: the same kinds of
/// memory a local send makes, so the receiver takes it the same way. The
/// memory is not initialised: the caller writes all `words` words before
/// the message is delivered.
pub fn message_memory(words: usize) -> (MessageMem, *mut u64) {
    let (mem, p, _) = message_memory_with(words, &[]);
    (mem, p)
}

/// `message_memory` of `words` words, and one block of its own for each
/// large object of `large` words (`LARGE_OBJECT_WORDS` or more each), at
/// the returned addresses: the receiver keeps those where they are.
pub fn message_memory_with(words: usize, large: &[usize]) -> (MessageMem, *mut u64, Vec<*mut u64>) {
    let mut blocks = Vec::with_capacity(large.len() + 1);
    let mut at = Vec::with_capacity(large.len());
    for &n in large {
        let (b, p) = Block::holding(n, n);
        at.push(p);
        blocks.push(b);
    }
    if words == 0 && blocks.is_empty() {
        return (MessageMem::None, std::ptr::NonNull::dangling().as_ptr(), at);
    }
    if words <= COPIED_MESSAGE_WORDS && blocks.is_empty() {
        let (b, p) = Block::holding(COPIED_MESSAGE_WORDS, words);
        return (MessageMem::Small(SmallCopy::new(b)), p, at);
    }
    let p = if words == 0 {
        std::ptr::NonNull::dangling().as_ptr()
    } else {
        let (b, p) = Block::holding(words, words);
        blocks.push(b);
        p
    };
    (MessageMem::Large(Box::new(blocks)), p, at)
}

struct ToSpace {
    blocks: Vec<Block>,
    block_words: usize,
    /// The addresses of the large objects before the collection, sorted.
    large_at: Vec<usize>,
    /// Large objects copied out of ordinary blocks, each in a block of its
    /// own (then the old large blocks whose object is kept).
    large: Vec<Block>,
    /// Large objects reached, whose fields are still to trace.
    large_scan: Vec<*mut u64>,
}

impl ToSpace {
    #[inline(always)]
    fn alloc(&mut self, words: usize) -> *mut u64 {
        if let Some(b) = self.blocks.last_mut()
            && let Some(p) = b.try_bump(words)
        {
            return p;
        }
        self.alloc_in_new_block(words)
    }

    #[inline(never)]
    fn alloc_in_new_block(&mut self, words: usize) -> *mut u64 {
        let (b, p) = Block::holding(words.max(self.block_words), words);
        self.blocks.push(b);
        self.block_words = (self.block_words * 2).min(MAX_BLOCK_WORDS);
        p
    }

    // Inlined into `scan`: a call per field cost a third of the
    // collection in saved and restored registers (callgrind, mergesort).
    #[inline(always)]
    fn forward(&mut self, v: Value) -> Value {
        if !v.is_ptr() {
            return v;
        }
        // The collector's inner loop: raw accesses, not the checked
        // `word`/`set_word` (each check reads the header again; they made
        // collection 50 % slower).
        let src = v.addr();
        // SAFETY: a pointer value points at a live object's header.
        let h = unsafe { *src };
        if header_type(h) == T_FORWARD {
            // SAFETY: a forwarded object keeps its new address in word 1.
            return Value(unsafe { *src.add(1) });
        }
        if header_flags(h) & (F_STATIC | F_KEPT) != 0 {
            return v;
        }
        let words = object_words(h);
        if words >= LARGE_OBJECT_WORDS {
            return self.forward_large(v, h, words);
        }
        let dst = self.alloc(words);
        // SAFETY: `dst` has room for `words`, the source object is `words`
        // long (at least two: the header and a padding word if empty), so
        // words 0 and 1 can hold the forwarding header and address.
        unsafe {
            std::ptr::copy_nonoverlapping(src as *const u64, dst, words);
            *src = T_FORWARD;
            *src.add(1) = Value::from_addr(dst).0;
        }
        Value::from_addr(dst)
    }

    /// A large object reached: marked and kept where it is if it is in the
    /// large-object space, else copied into a block of its own there.
    #[inline(never)]
    fn forward_large(&mut self, v: Value, h: u64, words: usize) -> Value {
        let src = v.addr();
        if self.large_at.binary_search(&(src as usize)).is_ok() {
            // SAFETY: the header of a live object.
            unsafe { *src = h | (F_KEPT << 8) };
            if traced_from(h).is_some() {
                self.large_scan.push(src);
            }
            return v;
        }
        let (b, dst) = Block::holding(words, words);
        // SAFETY: as in `forward`.
        unsafe {
            std::ptr::copy_nonoverlapping(src as *const u64, dst, words);
            *src = T_FORWARD;
            *src.add(1) = Value::from_addr(dst).0;
        }
        self.large.push(b);
        if traced_from(h).is_some() {
            self.large_scan.push(dst);
        }
        Value::from_addr(dst)
    }

    /// Traces the fields of object `obj`.
    #[inline(always)]
    fn trace(&mut self, obj: *mut u64) -> usize {
        // SAFETY: `obj` is the header of an object the collection keeps.
        let h = unsafe { *obj };
        let words = object_words(h);
        if let Some(from) = traced_from(h) {
            for i in from..words {
                // SAFETY: within the object.
                let slot = unsafe { obj.add(i) };
                let nv = self.forward(Value(unsafe { *slot }));
                unsafe { *slot = nv.0 };
            }
        }
        words
    }

    /// Cheney's scan: trace every object copied so far, block by block, and
    /// every large object reached, until nothing is left.
    fn scan(&mut self) {
        let mut bi = 0;
        let mut off = 0;
        loop {
            self.scan_blocks(&mut bi, &mut off);
            let Some(obj) = self.large_scan.pop() else {
                return;
            };
            self.trace(obj);
        }
    }

    /// Cheney's scan of the to-space blocks from block `bi`, word `off`, to
    /// the end of what is copied; `bi` and `off` are left there (tracing a
    /// large object may copy more into the last block).
    fn scan_blocks(&mut self, bi: &mut usize, off: &mut usize) {
        while *bi < self.blocks.len() {
            while *off < self.blocks[*bi].used {
                // SAFETY: `off` is the start of an object within the block.
                let obj = unsafe { self.blocks[*bi].start().add(*off) };
                *off += self.trace(obj);
            }
            if *bi + 1 == self.blocks.len() {
                return;
            }
            *bi += 1;
            *off = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::{NULL, T_PAIR, header};

    fn cons(h: &mut Heap, a: Value, d: Value) -> Value {
        let p = h.alloc(3);
        let v = Value::from_addr(p);
        v.set_word(0, header(T_PAIR, 2, 0));
        v.set_word(1, a.0);
        v.set_word(2, d.0);
        v
    }

    #[test]
    fn collect_keeps_reachable_and_drops_garbage() {
        let mut h = Heap::new(1024);
        let mut list = NULL;
        for i in 0..10_000 {
            list = cons(&mut h, Value::fixnum(i), list);
            let _garbage = cons(&mut h, Value::fixnum(-1), NULL);
        }
        let (hp, _) = h.nursery();
        let mut roots = [&mut list];
        h.collect(hp, &mut roots, 16);
        assert_eq!(h.live_words, 30_000);
        let sum: i64 = list.list_iter().map(|v| v.as_fixnum()).sum();
        assert_eq!(sum, (0..10_000).sum::<i64>());
    }

    fn vector(h: &mut Heap, items: &[Value]) -> Value {
        let p = h.alloc(1 + items.len());
        let v = Value::from_addr(p);
        v.set_word(0, header(crate::value::T_VECTOR, items.len() as u64, 0));
        for (i, x) in items.iter().enumerate() {
            v.set_word(1 + i, x.0);
        }
        v
    }

    #[test]
    fn large_objects_stay_in_place_and_their_fields_are_traced() {
        let mut h = Heap::new(1024);
        let n = LARGE_OBJECT_WORDS;
        // A large vector of small objects, one of them shared with a root.
        let small: Vec<Value> = (0..n as i64)
            .map(|i| cons(&mut h, Value::fixnum(i), NULL))
            .collect();
        let big = vector(&mut h, &small);
        let _garbage = vector(&mut h, &small);
        let mut root = cons(&mut h, big, small[7]);
        let at = big.addr();
        for round in 0..3 {
            let (hp, _) = h.nursery();
            let mut roots = [&mut root];
            h.collect(hp, &mut roots, 16);
            let big = root.car();
            assert_eq!(big.addr(), at, "round {round}: the large vector moved");
            assert_eq!(big.header() & (F_KEPT << 8), 0, "its mark is cleared");
            let large = h.blocks.iter().filter(|b| b.is_one_large_object()).count();
            assert_eq!(large, 1, "the garbage vector is freed");
            assert_eq!(big.field(8), root.cdr(), "sharing kept");
            let sum: i64 = (0..n).map(|i| big.field(1 + i).car().as_fixnum()).sum();
            assert_eq!(sum, (0..n as i64).sum::<i64>());
        }
        assert_eq!(h.live_words, 3 + (1 + n) + 3 * n);
    }

    #[test]
    fn a_large_object_in_an_ordinary_block_moves_to_a_block_of_its_own() {
        let mut h = Heap::new(1024);
        let n = LARGE_OBJECT_WORDS;
        // Built in the nursery as compiled code would, behind a pair that
        // its fields point to.
        let (hp, _) = h.nursery();
        let (hp, _) = h.grow_nursery(hp, n + 4);
        let pair = Value::from_addr(hp);
        pair.set_word(0, header(T_PAIR, 2, 0));
        pair.set_word(1, Value::fixnum(5).0);
        pair.set_word(2, NULL.0);
        // SAFETY: within the nursery block just made.
        let v = Value::from_addr(unsafe { hp.add(3) });
        v.set_word(0, header(crate::value::T_VECTOR, n as u64, 0));
        for i in 0..n {
            v.set_word(1 + i, pair.0);
        }
        h.sync_nursery(unsafe { hp.add(3 + n + 1) });
        let mut root = v;
        let before = root.addr();
        let (hp, _) = h.nursery();
        h.collect(hp, &mut [&mut root], 16);
        assert_ne!(root.addr(), before, "copied out of the nursery block");
        assert_eq!(
            h.blocks.iter().filter(|b| b.is_one_large_object()).count(),
            1
        );
        assert_eq!(root.field(1), root.field(n), "sharing kept");
        assert_eq!(root.field(n).car(), Value::fixnum(5), "its fields traced");
        let at = root.addr();
        let (hp, _) = h.nursery();
        h.collect(hp, &mut [&mut root], 16);
        assert_eq!(root.addr(), at, "kept in place from then on");
        assert_eq!(root.field(n).car(), Value::fixnum(5));
        assert_eq!(h.live_words, 3 + n + 1);
    }

    #[test]
    fn collect_preserves_sharing() {
        let mut h = Heap::new(1024);
        let shared = cons(&mut h, Value::fixnum(1), NULL);
        let mut both = cons(&mut h, shared, shared);
        let (hp, _) = h.nursery();
        let mut roots = [&mut both];
        h.collect(hp, &mut roots, 16);
        assert_eq!(both.car(), both.cdr());
        assert_eq!(h.live_words, 6);
    }
}
