//! Tagged 64-bit values and heap object layouts (see ARCHITECTURE.md).
//!
//! `Value` is a plain word: it does not own anything. Pointers in it are
//! valid only until the owning process's next collection, which happens only
//! at a compiled function's entry, never inside a runtime call.

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[repr(transparent)]
pub struct Value(pub u64);

pub const TAG_MASK: u64 = 0b111;
pub const TAG_PTR: u64 = 0b001;
pub const TAG_IMM: u64 = 0b011;

// Immediate kinds, in bits 3..8.
pub const IMM_BOOL: u64 = 0;
pub const IMM_NULL: u64 = 1;
pub const IMM_UNSPEC: u64 = 2;
pub const IMM_EOF: u64 = 3;
pub const IMM_CHAR: u64 = 4;
pub const IMM_SYMBOL: u64 = 5;
pub const IMM_DEFAULT: u64 = 6;
pub const IMM_UNBOUND: u64 = 7;
pub const IMM_EXCEPTION: u64 = 8;
/// A process identifier: the payload is the index of the process's slot in
/// its node's table and, above bit 32, the slot's generation.
pub const IMM_PID: u64 = 9;
/// A tag from `make-tag`: the payload is unique on its node.
pub const IMM_TAG: u64 = 10;

pub const fn imm(kind: u64, payload: u64) -> Value {
    Value((payload << 8) | (kind << 3) | TAG_IMM)
}

pub const FALSE: Value = imm(IMM_BOOL, 0);
pub const TRUE: Value = imm(IMM_BOOL, 1);
pub const NULL: Value = imm(IMM_NULL, 0);
pub const UNSPECIFIED: Value = imm(IMM_UNSPEC, 0);
pub const EOF: Value = imm(IMM_EOF, 0);
pub const DEFAULT_OBJECT: Value = imm(IMM_DEFAULT, 0);
/// The content of a global slot before its `define` ran.
pub const UNBOUND: Value = imm(IMM_UNBOUND, 0);
/// Returned by a runtime function that did not produce a value: the
/// compiled caller returns `ctx.status` to the trampoline.
pub const EXCEPTION: Value = imm(IMM_EXCEPTION, 0);

pub const FIXNUM_MIN: i64 = -(1 << 62);
pub const FIXNUM_MAX: i64 = (1 << 62) - 1;

// Heap object types (header bits 0..8).
pub const T_PAIR: u64 = 1;
pub const T_VECTOR: u64 = 2;
pub const T_CLOSURE: u64 = 3;
pub const T_RECORD: u64 = 4;
pub const T_STRING: u64 = 5;
pub const T_FLONUM: u64 = 6;
pub const T_BIGNUM: u64 = 7;
pub const T_BYTEVECTOR: u64 = 8;
/// A node (static, interned by address: `ident`): its node-table entry,
/// host (a static string) and port (a fixnum).
pub const T_NODE: u64 = 9;
/// A pid of another node (static, interned: `ident`): raw words node-table
/// entry, incarnation, the pid's word on its node, location (issue 9).
pub const T_RPID: u64 = 10;
/// A tag made on another node (static, interned): raw words node-table
/// entry, incarnation, the tag's word on its node.
pub const T_RTAG: u64 = 11;
/// Left by the collector in place of a moved object; word 1 is the new address.
/// The type in the `header` of a word that is not a pointer: no object.
pub const T_NONE: u64 = 0xfe;
pub const T_FORWARD: u64 = 0xff;

/// Header flag: the object is static (outside every process heap).
pub const F_STATIC: u64 = 1;
/// Header flag, during a collection only: a large object the collection
/// reached, kept where it is (`heap::LARGE_OBJECT_WORDS`).
pub const F_KEPT: u64 = 2;

pub const fn header(ty: u64, len: u64, flags: u64) -> u64 {
    (len << 16) | (flags << 8) | ty
}

pub fn header_type(h: u64) -> u64 {
    h & 0xff
}

pub fn header_len(h: u64) -> u64 {
    h >> 16
}

pub fn header_flags(h: u64) -> u64 {
    (h >> 8) & 0xff
}

/// Size in words (header included) of an object with header `h`.
pub fn object_words(h: u64) -> usize {
    let len = header_len(h) as usize;
    1 + match header_type(h) {
        T_PAIR => 2,
        T_STRING => len.div_ceil(2).max(1),
        T_FLONUM => 1,
        T_BYTEVECTOR => len.div_ceil(8).max(1),
        _ => len.max(1),
    }
}

/// Whether the object's payload words are values the collector must trace,
/// from which word (1-based: word 0 is the header).
pub fn traced_from(h: u64) -> Option<usize> {
    match header_type(h) {
        T_PAIR | T_VECTOR | T_RECORD => Some(1),
        // Word 1 of a closure is its code pointer.
        T_CLOSURE => Some(2),
        _ => None,
    }
}

impl Value {
    #[inline]
    pub fn fixnum(n: i64) -> Value {
        Value((n << 1) as u64)
    }

    #[inline]
    pub fn is_fixnum(self) -> bool {
        self.0 & 1 == 0
    }

    #[inline]
    pub fn as_fixnum(self) -> i64 {
        (self.0 as i64) >> 1
    }

    #[inline]
    pub fn is_ptr(self) -> bool {
        self.0 & TAG_MASK == TAG_PTR
    }

    #[inline]
    pub fn is_imm(self) -> bool {
        self.0 & TAG_MASK == TAG_IMM
    }

    #[inline]
    pub fn imm_kind(self) -> u64 {
        (self.0 >> 3) & 0x1f
    }

    #[inline]
    pub fn imm_payload(self) -> u64 {
        self.0 >> 8
    }

    pub fn bool(b: bool) -> Value {
        if b { TRUE } else { FALSE }
    }

    pub fn char(c: char) -> Value {
        imm(IMM_CHAR, c as u64)
    }

    pub fn is_char(self) -> bool {
        self.is_imm() && self.imm_kind() == IMM_CHAR
    }

    pub fn as_char(self) -> char {
        char::from_u32(self.imm_payload() as u32).unwrap_or('\u{fffd}')
    }

    pub fn symbol(id: u32) -> Value {
        imm(IMM_SYMBOL, id as u64)
    }

    pub fn is_symbol(self) -> bool {
        self.is_imm() && self.imm_kind() == IMM_SYMBOL
    }

    pub fn is_true(self) -> bool {
        self != FALSE
    }

    /// The object's address. Only for pointers.
    #[inline]
    pub fn addr(self) -> *mut u64 {
        (self.0 - TAG_PTR) as *mut u64
    }

    pub fn from_addr(p: *mut u64) -> Value {
        Value(p as u64 + TAG_PTR)
    }

    /// The header of a pointer's object; for any other word, a header of
    /// no type (so that `has_type` and friends answer false).
    ///
    /// A pointer-tagged word is trusted to point at a live object: the
    /// runtime makes pointers only to objects it allocated, the collector
    /// updates every root, and nothing from outside (source, network)
    /// becomes a pointer without being built by the runtime. That one
    /// invariant is what this safe function relies on; the collector's
    /// stress mode (`heap::stress`) checks it.
    #[inline]
    pub fn header(self) -> u64 {
        if !self.is_ptr() {
            return header(T_NONE, 0, 0);
        }
        // SAFETY: pointers are created only to live, header-prefixed objects.
        unsafe { *self.addr() }
    }

    pub fn has_type(self, ty: u64) -> bool {
        self.is_ptr() && header_type(self.header()) == ty
    }

    pub fn is_static(self) -> bool {
        !self.is_ptr() || header_flags(self.header()) & F_STATIC != 0
    }

    /// Word `i` of the object (0 = the header, 1 = first payload word).
    /// Panics (a runtime bug, never a program's) outside the object.
    #[inline]
    pub fn word(self, i: usize) -> u64 {
        self.check_word(i);
        // SAFETY: within the object, checked above.
        unsafe { *self.addr().add(i) }
    }

    #[inline]
    fn check_word(self, i: usize) {
        let h = self.header();
        assert!(
            self.is_ptr() && i < object_words(h),
            "word {i} of an object of {} words",
            object_words(h)
        );
    }

    #[inline]
    pub fn field(self, i: usize) -> Value {
        Value(self.word(i))
    }

    /// Writes `words` from word `start` on of an object the caller just
    /// allocated (one check for all of them). Panics outside the object.
    pub fn set_words(self, start: usize, words: &[u64]) {
        if words.is_empty() {
            return;
        }
        self.check_word(start + words.len() - 1);
        // SAFETY: `start..start + len` is within the object (checked above),
        // which nobody else sees yet.
        unsafe {
            std::ptr::copy_nonoverlapping(words.as_ptr(), self.addr().add(start), words.len())
        }
    }

    /// Writes `values` from word `start` on (see `set_words`).
    pub fn set_values(self, start: usize, values: &[Value]) {
        // SAFETY: `Value` is a transparent u64.
        let words =
            unsafe { std::slice::from_raw_parts(values.as_ptr() as *const u64, values.len()) };
        self.set_words(start, words);
    }

    /// Writes word `i` of an object the caller just allocated (or forwards
    /// during a collection): writing the header first sets its size. Panics
    /// outside the object.
    #[inline]
    pub fn set_word(self, i: usize, w: u64) {
        if i > 0 {
            self.check_word(i);
        }
        // SAFETY: the header word of a pointer, or a word within the object
        // (checked above); only objects nobody else sees yet are written.
        unsafe { *self.addr().add(i) = w }
    }

    pub fn len(self) -> usize {
        header_len(self.header()) as usize
    }

    pub fn is_empty(self) -> bool {
        self.len() == 0
    }

    pub fn car(self) -> Value {
        self.field(1)
    }

    /// The car and cdr of a pair, or `None` if this is not one: one type
    /// check for both fields (list walks in the runtime's loops).
    #[inline]
    pub fn as_pair(self) -> Option<(Value, Value)> {
        if !self.is_pair() {
            return None;
        }
        // SAFETY: a pair has a car and a cdr after its header.
        unsafe {
            let p = self.addr();
            Some((Value(*p.add(1)), Value(*p.add(2))))
        }
    }

    pub fn cdr(self) -> Value {
        self.field(2)
    }

    pub fn is_pair(self) -> bool {
        self.has_type(T_PAIR)
    }

    pub fn flonum(self) -> f64 {
        f64::from_bits(self.word(1))
    }

    /// The characters of a string object (none for any other value).
    ///
    /// # Safety
    /// The slice borrows the object's memory, which a collection moves: the
    /// caller must not use it after the next collection (runtime functions
    /// never collect, so within one runtime function is fine).
    pub unsafe fn string_chars(self) -> &'static [u32] {
        if !self.has_type(T_STRING) {
            return &[];
        }
        // SAFETY: a string's payload is `len` u32 code points; the caller
        // keeps the slice no longer than the object stays in place.
        unsafe { std::slice::from_raw_parts(self.addr().add(1) as *const u32, self.len()) }
    }

    pub fn string(self) -> String {
        // SAFETY: the characters are copied at once.
        unsafe { self.string_chars() }
            .iter()
            .map(|&c| char::from_u32(c).unwrap_or('\u{fffd}'))
            .collect()
    }

    /// The bytes of a bytevector (none for any other value).
    ///
    /// # Safety
    /// As for `string_chars`.
    pub unsafe fn bytes(self) -> &'static [u8] {
        if !self.has_type(T_BYTEVECTOR) {
            return &[];
        }
        // SAFETY: a bytevector's payload is `len` bytes; see above.
        unsafe { std::slice::from_raw_parts(self.addr().add(1) as *const u8, self.len()) }
    }

    /// An iterator over the elements of a (possibly improper) list; stops at
    /// the first non-pair.
    pub fn list_iter(self) -> ListIter {
        ListIter(self)
    }
}

pub struct ListIter(Value);

impl Iterator for ListIter {
    type Item = Value;
    fn next(&mut self) -> Option<Value> {
        let (x, rest) = self.0.as_pair()?;
        self.0 = rest;
        Some(x)
    }
}
