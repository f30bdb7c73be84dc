//! The wire format: a value graph as bytes, and back (docs/wire-format.md
//! is the reference; ARCHITECTURE.md, "Wire format", the summary).
//!
//! A message is an envelope (postcard: version, atom count, object count,
//! root), a table of *atoms* — symbols, nodes, pids, tags and record types,
//! which the receiver interns — and a table of *objects* — pairs, vectors,
//! strings, bytevectors, numbers, records, closures — each written once,
//! whose fields are *refs*: a fixnum, a constant, a char, an atom index or
//! an object index relative to the object holding the ref. Sharing and
//! cycles are kept; both walks are loops over explicit tables, never a
//! native recursion.
//!
//! **Encoding** numbers the heap objects breadth-first. A heap object met
//! for the first time gets its header replaced by a mark holding its index
//! (the original is kept in the queue and put back before `encode`
//! returns, success or not), so finding a shared object costs one load and
//! no hashing; static objects, which other threads may read, go through a
//! hash map instead. Strings and bytevectors are copied in bulk.
//!
//! **Decoding** validates the whole input first (every tag, length, ref,
//! code point, code id and record type; declared lengths against what is
//! left of the input, so memory is bounded by a constant times the input's
//! length), then interns the atoms, then builds every object into one
//! block of message memory (`heap::message_memory`, what a local send
//! makes), so delivery is the local path. Every pointer in the result is
//! made by the decoder; no input word becomes a value unchecked.

use crate::hash::WordMap;
use crate::heap::{LARGE_OBJECT_WORDS, MessageMem, limit, message_memory_with};
use crate::ident;
use crate::program_state;
use crate::records;
use crate::symbols;
use crate::value::*;

#[cfg(test)]
mod tests;

/// The version of the format this runtime writes and reads.
pub const VERSION: u32 = 1;

// Object tags.
const O_PAIR: u8 = 1;
const O_VECTOR: u8 = 2;
const O_STRING: u8 = 3;
const O_BYTEVECTOR: u8 = 4;
const O_FLONUM: u8 = 5;
const O_BIGNUM: u8 = 6;
const O_RECORD: u8 = 7;
const O_CLOSURE: u8 = 8;

// Atom tags.
const A_SYMBOL: u8 = 1;
const A_NODE: u8 = 2;
const A_PID: u8 = 3;
const A_TAG: u8 = 4;
const A_RECORD_TYPE: u8 = 5;

/// The constants a ref of kind "constant" names, by number.
const CONSTANTS: [Value; 6] = [FALSE, TRUE, NULL, UNSPECIFIED, EOF, DEFAULT_OBJECT];

/// The header type the encoder marks a visited heap object with (the
/// object's index in its length field); never seen outside `encode`.
const T_WIRE_MARK: u64 = 0xfd;

/// Why a value could not be encoded, or bytes could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WireError {
    /// The value holds something that cannot travel (an internal marker,
    /// an object of no known kind).
    Unencodable(&'static str),
    /// A procedure or continuation whose code has no code id (a resume
    /// continuation of the compiler's, which has none yet).
    NoCodeId(String),
    /// The input ends before what it declares.
    Truncated,
    /// The envelope's version is not `VERSION`.
    Version(u32),
    /// The envelope cannot be read, or declares more entries than the
    /// input could hold.
    Envelope,
    /// An unknown tag at this input offset.
    Tag(usize),
    /// A ref that names nothing (an index out of range, an unknown
    /// constant, an atom of the wrong kind) at this offset.
    Ref(usize),
    /// A length, width or varint that is malformed or larger than the
    /// rest of the input, at this offset.
    Length(usize),
    /// A code point that is not a Unicode scalar value, or a name that is
    /// not UTF-8, at this offset.
    Text(usize),
    /// A bignum that is not in canonical form, at this offset.
    Number(usize),
    /// A closure's code id that this program does not have.
    UnknownCode(u64),
    /// A record whose field count is not its type's, at this offset.
    Record(usize),
    /// A pid, tag or node that cannot be (a port over 65535, a word too
    /// wide for a pid), at this offset.
    Identity(usize),
    /// Bytes after the last object.
    Trailing,
    /// The message would not fit under the heap limit.
    TooLarge,
}

impl std::fmt::Display for WireError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use WireError::*;
        match self {
            Unencodable(what) => write!(f, "cannot send {what}"),
            NoCodeId(name) => write!(
                f,
                "cannot send the continuation {name}: its code has no code id"
            ),
            Truncated => write!(f, "truncated message"),
            Version(v) => write!(f, "wire format version {v}, expected {VERSION}"),
            Envelope => write!(f, "malformed message envelope"),
            Tag(at) => write!(f, "unknown tag at byte {at}"),
            Ref(at) => write!(f, "invalid reference at byte {at}"),
            Length(at) => write!(f, "invalid length at byte {at}"),
            Text(at) => write!(f, "invalid character or name at byte {at}"),
            Number(at) => write!(f, "non-canonical bignum at byte {at}"),
            UnknownCode(id) => write!(f, "unknown code id {id:016x}"),
            Record(at) => write!(f, "record fields do not match its type at byte {at}"),
            Identity(at) => write!(f, "invalid node, pid or tag at byte {at}"),
            Trailing => write!(f, "bytes after the end of the message"),
            TooLarge => write!(f, "message larger than the heap limit"),
        }
    }
}

impl std::error::Error for WireError {}

type R<T> = Result<T, WireError>;

#[inline]
fn zigzag(n: i64) -> u64 {
    ((n << 1) ^ (n >> 63)) as u64
}

#[inline]
fn unzigzag(z: u64) -> i64 {
    (z >> 1) as i64 ^ -((z & 1) as i64)
}

#[inline]
fn put_varint(out: &mut Vec<u8>, mut x: u64) {
    while x >= 0x80 {
        out.push(x as u8 | 0x80);
        x >>= 7;
    }
    out.push(x as u8);
}

fn put_text(out: &mut Vec<u8>, s: &str) {
    put_varint(out, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}

// Refs (docs/wire-format.md, "Refs").
#[inline]
fn fixnum_ref(n: i64) -> u64 {
    zigzag(n) << 1
}
#[inline]
fn object_ref(delta: i64) -> u64 {
    (zigzag(delta) << 2) | 0b01
}
#[inline]
fn constant_ref(k: u64) -> u64 {
    (k << 4) | 0b011
}
#[inline]
fn char_ref(c: u64) -> u64 {
    (c << 4) | 0b1011
}
#[inline]
fn atom_ref(i: u32) -> u64 {
    ((i as u64) << 3) | 0b111
}

/// A reusable encoder: its buffers and tables keep their memory from one
/// message to the next.
#[derive(Default)]
pub struct Encoder {
    atoms: Vec<u8>,
    objects: Vec<u8>,
    /// Object `i`: its address and original header.
    queue: Vec<(*mut u64, u64)>,
    /// Static objects met so far (they are not marked: other threads may
    /// read them), by address.
    statics: WordMap<u64, u32>,
    /// Atoms written so far, by value word (immediates, or the address of
    /// a static node, pid, tag or record type).
    atom_ids: WordMap<u64, u32>,
    natoms: u32,
}

/// Encodes `v` (see `Encoder::encode_into`).
pub fn encode(v: Value) -> R<Vec<u8>> {
    let mut out = Vec::new();
    Encoder::default().encode_into(v, &mut out)?;
    Ok(out)
}

impl Encoder {
    pub fn new() -> Encoder {
        Encoder::default()
    }

    /// Appends the encoding of `v` to `out` (nothing on error).
    ///
    /// `v`'s heap objects must be in a heap that no other thread touches
    /// meanwhile — the heap of the process the calling thread runs, as for
    /// any runtime function — since their headers are marked during the
    /// walk (and restored before this returns).
    pub fn encode_into(&mut self, v: Value, out: &mut Vec<u8>) -> R<()> {
        self.atoms.clear();
        self.objects.clear();
        self.queue.clear();
        self.statics.clear();
        self.atom_ids.clear();
        self.natoms = 0;
        let result = self.walk(v);
        // Put back every header the walk marked, whatever happened.
        for &(p, h) in &self.queue {
            if header_flags(h) & F_STATIC == 0 {
                // SAFETY: `p` is a heap object this walk marked; see above.
                unsafe { *p = h };
            }
        }
        let root = result?;
        let envelope = (VERSION, self.natoms as u64, self.queue.len() as u64, root);
        let head = postcard::to_stdvec(&envelope).map_err(|_| WireError::Envelope)?;
        out.reserve(head.len() + self.atoms.len() + self.objects.len());
        out.extend_from_slice(&head);
        out.extend_from_slice(&self.atoms);
        out.extend_from_slice(&self.objects);
        Ok(())
    }

    fn walk(&mut self, v: Value) -> R<u64> {
        let root = self.ref_of(v, 0)?;
        let mut i = 0;
        while i < self.queue.len() {
            let (p, h) = self.queue[i];
            self.object(i, p, h)?;
            i += 1;
        }
        Ok(root)
    }

    /// The ref of `v` in a field of object `cur`.
    #[inline]
    fn ref_of(&mut self, v: Value, cur: usize) -> R<u64> {
        if v.is_fixnum() {
            return Ok(fixnum_ref(v.as_fixnum()));
        }
        if v.is_imm() {
            return self.immediate(v);
        }
        if !v.is_ptr() {
            return Err(WireError::Unencodable("a malformed word"));
        }
        let p = v.addr();
        // SAFETY: a pointer value points at a live object's header (or at
        // a header this walk marked).
        let h = unsafe { *p };
        let index = if header_type(h) == T_WIRE_MARK {
            header_len(h) as usize
        } else if header_flags(h) & F_STATIC != 0 {
            match header_type(h) {
                T_NODE | T_RPID | T_RTAG => return Ok(atom_ref(self.atom(v)?)),
                T_RECORD if records::is_rtd(v) => return Ok(atom_ref(self.atom(v)?)),
                _ => match self.statics.get(&v.0) {
                    Some(&i) => i as usize,
                    None => {
                        let i = self.queue.len();
                        self.statics.insert(v.0, i as u32);
                        self.queue.push((p, h));
                        i
                    }
                },
            }
        } else {
            let i = self.queue.len();
            self.queue.push((p, h));
            // SAFETY: a heap object of the calling thread's process (see
            // `encode_into`); its header is restored before `encode_into`
            // returns.
            unsafe { *p = header(T_WIRE_MARK, i as u64, 0) };
            i
        };
        Ok(object_ref(index as i64 - cur as i64))
    }

    fn immediate(&mut self, v: Value) -> R<u64> {
        let payload = v.imm_payload();
        let k = match (v.imm_kind(), payload) {
            (IMM_BOOL, 0) => 0,
            (IMM_BOOL, 1) => 1,
            (IMM_NULL, 0) => 2,
            (IMM_UNSPEC, 0) => 3,
            (IMM_EOF, 0) => 4,
            (IMM_DEFAULT, 0) => 5,
            (IMM_CHAR, c) => return Ok(char_ref(c)),
            (IMM_SYMBOL | IMM_PID | IMM_TAG, _) => return Ok(atom_ref(self.atom(v)?)),
            _ => return Err(WireError::Unencodable("an internal marker")),
        };
        Ok(constant_ref(k))
    }

    /// The index of `v`'s atom, written (after the atoms it names) if new.
    fn atom(&mut self, v: Value) -> R<u32> {
        if let Some(&i) = self.atom_ids.get(&v.0) {
            return Ok(i);
        }
        if v.is_symbol() {
            self.atoms.push(A_SYMBOL);
            put_text(&mut self.atoms, &symbols::name(v.imm_payload() as u32));
        } else if let Some(entry) = ident::node_index(v) {
            self.atoms.push(A_NODE);
            let (host, port, incarnation) = match ident::entry(entry) {
                Some(e) if entry == 0 => (e.host.clone(), e.port, ident::self_incarnation()),
                Some(e) => (
                    e.host.clone(),
                    e.port,
                    e.incarnation.load(std::sync::atomic::Ordering::Acquire),
                ),
                None => return Err(WireError::Unencodable("a node of no entry")),
            };
            put_text(&mut self.atoms, &host);
            put_varint(&mut self.atoms, port as u64);
            put_varint(&mut self.atoms, incarnation);
        } else if records::is_rtd(v) {
            let Some((name, fields, site)) = records::rtd_identity(v) else {
                return Err(WireError::Unencodable("a malformed record type"));
            };
            let name = self.atom(Value::symbol(name))?;
            let mut ids = Vec::with_capacity(fields.len());
            for f in fields {
                ids.push(self.atom(Value::symbol(f))?);
            }
            self.atoms.push(A_RECORD_TYPE);
            put_varint(&mut self.atoms, name as u64);
            put_varint(&mut self.atoms, ids.len() as u64);
            for i in ids {
                put_varint(&mut self.atoms, i as u64);
            }
            put_varint(&mut self.atoms, zigzag(site));
        } else if let Some((entry, incarnation, word)) = ident::parts(v) {
            let node = self.atom(ident::node_value(entry))?;
            self.atoms
                .push(if ident::is_pid(v) { A_PID } else { A_TAG });
            put_varint(&mut self.atoms, node as u64);
            put_varint(&mut self.atoms, incarnation);
            put_varint(&mut self.atoms, word);
        } else {
            return Err(WireError::Unencodable("an object of unknown kind"));
        }
        let i = self.natoms;
        self.natoms += 1;
        self.atom_ids.insert(v.0, i);
        Ok(i)
    }

    /// Writes object `i` (at `p`, of original header `h`).
    fn object(&mut self, i: usize, p: *mut u64, h: u64) -> R<()> {
        let len = header_len(h) as usize;
        // SAFETY (all reads below): `p` is a live object of header `h`, so
        // its payload is `object_words(h) - 1` words, which every read
        // stays within.
        let word = |k: usize| unsafe { *p.add(k) };
        match header_type(h) {
            T_PAIR => {
                self.objects.push(O_PAIR);
                let a = self.ref_of(Value(word(1)), i)?;
                put_varint(&mut self.objects, a);
                let d = self.ref_of(Value(word(2)), i)?;
                put_varint(&mut self.objects, d);
            }
            T_VECTOR => {
                self.objects.push(O_VECTOR);
                put_varint(&mut self.objects, len as u64);
                for k in 1..=len {
                    let r = self.ref_of(Value(word(k)), i)?;
                    put_varint(&mut self.objects, r);
                }
            }
            T_STRING => {
                // SAFETY: a string's payload is `len` u32 code points.
                let chars = unsafe { std::slice::from_raw_parts(p.add(1) as *const u32, len) };
                self.objects.push(O_STRING);
                put_varint(&mut self.objects, len as u64);
                if chars.iter().fold(0, |m, &c| m | c) < 256 {
                    self.objects.push(1);
                    // Narrowed in place (a loop the compiler vectorizes).
                    let start = self.objects.len();
                    self.objects.resize(start + len, 0);
                    for (d, &c) in self.objects[start..].iter_mut().zip(chars) {
                        *d = c as u8;
                    }
                } else {
                    self.objects.push(4);
                    if cfg!(target_endian = "little") {
                        // SAFETY: the same memory as `chars`, as bytes.
                        let bytes = unsafe {
                            std::slice::from_raw_parts(chars.as_ptr() as *const u8, 4 * len)
                        };
                        self.objects.extend_from_slice(bytes);
                    } else {
                        for c in chars {
                            self.objects.extend_from_slice(&c.to_le_bytes());
                        }
                    }
                }
            }
            T_BYTEVECTOR => {
                // SAFETY: a bytevector's payload is `len` bytes.
                let bytes = unsafe { std::slice::from_raw_parts(p.add(1) as *const u8, len) };
                self.objects.push(O_BYTEVECTOR);
                put_varint(&mut self.objects, len as u64);
                self.objects.extend_from_slice(bytes);
            }
            T_FLONUM => {
                self.objects.push(O_FLONUM);
                self.objects.extend_from_slice(&word(1).to_le_bytes());
            }
            T_BIGNUM => {
                let n = len.saturating_sub(1);
                self.objects.push(O_BIGNUM);
                self.objects.push(u8::from(word(1) == 1));
                put_varint(&mut self.objects, n as u64);
                for k in 0..n {
                    self.objects.extend_from_slice(&word(2 + k).to_le_bytes());
                }
            }
            T_RECORD => {
                let rtd = Value(word(1));
                if !records::is_rtd(rtd) {
                    return Err(WireError::Unencodable("a record of no type"));
                }
                let t = self.atom(rtd)?;
                self.objects.push(O_RECORD);
                put_varint(&mut self.objects, atom_ref(t));
                put_varint(&mut self.objects, len.saturating_sub(1) as u64);
                for k in 2..=len {
                    let r = self.ref_of(Value(word(k)), i)?;
                    put_varint(&mut self.objects, r);
                }
            }
            T_CLOSURE => {
                let code = word(1) as *const u8;
                let Some(id) = program_state::code_id(code) else {
                    return Err(WireError::NoCodeId(program_state::code_name(code)));
                };
                self.objects.push(O_CLOSURE);
                self.objects.extend_from_slice(&id.to_le_bytes());
                put_varint(&mut self.objects, len.saturating_sub(1) as u64);
                for k in 2..=len {
                    let r = self.ref_of(Value(word(k)), i)?;
                    put_varint(&mut self.objects, r);
                }
            }
            _ => return Err(WireError::Unencodable("an object of unknown kind")),
        }
        Ok(())
    }
}

/// A cursor over the input.
struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    #[inline]
    fn byte(&mut self) -> R<u8> {
        let b = *self.buf.get(self.pos).ok_or(WireError::Truncated)?;
        self.pos += 1;
        Ok(b)
    }

    /// A LEB128 varint of at most 64 bits.
    #[inline]
    fn varint(&mut self) -> R<u64> {
        let b = self.byte()?;
        if b < 0x80 {
            return Ok(b as u64);
        }
        let start = self.pos - 1;
        let mut x = (b & 0x7f) as u64;
        let mut shift = 7;
        loop {
            let b = self.byte()?;
            if shift == 63 && b > 1 {
                return Err(WireError::Length(start));
            }
            x |= ((b & 0x7f) as u64) << shift;
            if b < 0x80 {
                return Ok(x);
            }
            shift += 7;
        }
    }

    fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// A count of items of at least `unit` bytes each that must follow.
    #[inline]
    fn count(&mut self, unit: usize) -> R<usize> {
        let at = self.pos;
        let n = self.varint()?;
        match usize::try_from(n) {
            Ok(n) if n.checked_mul(unit).is_some_and(|b| b <= self.remaining()) => Ok(n),
            _ => Err(WireError::Length(at)),
        }
    }

    #[inline]
    fn bytes(&mut self, n: usize) -> R<&'a [u8]> {
        if n > self.remaining() {
            return Err(WireError::Truncated);
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    fn u64le(&mut self) -> R<u64> {
        let b = self.bytes(8)?;
        Ok(u64::from_le_bytes([
            b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7],
        ]))
    }

    fn text(&mut self) -> R<&'a str> {
        let at = self.pos;
        let n = self.count(1)?;
        std::str::from_utf8(self.bytes(n)?).map_err(|_| WireError::Text(at))
    }
}

enum Atom<'a> {
    Symbol(&'a str),
    Node(&'a str, u16, u64),
    /// Pid or tag: its node's atom, incarnation, word.
    Pid(u32, u64, u64),
    Tag(u32, u64, u64),
    /// Name atom, fields (a range of `Decoder::type_fields`), site.
    RecordType(u32, std::ops::Range<usize>, i64),
}

fn valid_char(c: u64) -> bool {
    c < 0xD800 || (0xE000..0x11_0000).contains(&c)
}

/// Heap words of an object of `payload` payload words.
#[inline]
fn words_of(payload: usize) -> usize {
    1 + payload.max(1)
}

struct Decoder<'a> {
    atoms: Vec<Atom<'a>>,
    type_fields: Vec<u32>,
    nobjects: usize,
    /// Heap word offset of each object in the message memory, or (with
    /// `LARGE`) the index of its own block among `large_at`.
    offsets: Vec<usize>,
    atom_values: Vec<Value>,
    base: *mut u64,
    /// The words of each large object, and where its block is.
    large_words: Vec<usize>,
    large_at: Vec<*mut u64>,
}

/// In `Decoder::offsets`: the object is a large one, in a block of its own.
const LARGE: usize = 1 << (usize::BITS - 1);

/// Decodes a message: its memory (to hand to the receiver as a local
/// send's) and its value, valid while the memory lives.
pub fn decode(input: &[u8]) -> R<(MessageMem, Value)> {
    let (version, rest): (u32, &[u8]) =
        postcard::take_from_bytes(input).map_err(|_| WireError::Envelope)?;
    if version != VERSION {
        return Err(WireError::Version(version));
    }
    let ((natoms, nobjects, root), rest): ((u64, u64, u64), &[u8]) =
        postcard::take_from_bytes(rest).map_err(|_| WireError::Envelope)?;
    let start = input.len() - rest.len();
    // Every atom and object takes at least two bytes.
    let fits = |n: u64| usize::try_from(n).ok().filter(|&n| n <= rest.len() / 2);
    let (Some(natoms), Some(nobjects)) = (fits(natoms), fits(nobjects)) else {
        return Err(WireError::Envelope);
    };
    let mut d = Decoder {
        atoms: Vec::with_capacity(natoms),
        type_fields: Vec::new(),
        nobjects,
        offsets: Vec::with_capacity(nobjects),
        atom_values: Vec::with_capacity(natoms),
        base: std::ptr::null_mut(),
        large_words: Vec::new(),
        large_at: Vec::new(),
    };
    let mut r = Reader {
        buf: input,
        pos: start,
    };
    for _ in 0..natoms {
        d.read_atom(&mut r)?;
    }
    d.check_ref(root, 0, start)?;
    let objects_start = r.pos;
    let words = d.check_objects(&mut r)?;
    if r.pos != input.len() {
        return Err(WireError::Trailing);
    }
    if words.saturating_add(d.large_words.iter().sum()) > limit::words() {
        return Err(WireError::TooLarge);
    }
    // Everything is valid: make the atoms, then the objects.
    d.make_atoms();
    let (mem, base, large_at) = message_memory_with(words, &d.large_words);
    d.base = base;
    d.large_at = large_at;
    let mut r = Reader {
        buf: input,
        pos: objects_start,
    };
    d.build_objects(&mut r, words)?;
    Ok((mem, d.value(root, 0)))
}

impl<'a> Decoder<'a> {
    fn read_atom(&mut self, r: &mut Reader<'a>) -> R<()> {
        let at = r.pos;
        let earlier = |d: &Self, i: u64, want: fn(&Atom) -> bool| {
            usize::try_from(i)
                .ok()
                .and_then(|i| d.atoms.get(i))
                .is_some_and(want)
        };
        let atom = match r.byte()? {
            A_SYMBOL => Atom::Symbol(r.text()?),
            A_NODE => {
                let host = r.text()?;
                let port = u16::try_from(r.varint()?).map_err(|_| WireError::Identity(at))?;
                Atom::Node(host, port, r.varint()?)
            }
            tag @ (A_PID | A_TAG) => {
                let node = r.varint()?;
                if !earlier(self, node, |a| matches!(a, Atom::Node(..))) {
                    return Err(WireError::Ref(at));
                }
                let (incarnation, word) = (r.varint()?, r.varint()?);
                if word >= 1 << 56 {
                    return Err(WireError::Identity(at));
                }
                if tag == A_PID {
                    Atom::Pid(node as u32, incarnation, word)
                } else {
                    Atom::Tag(node as u32, incarnation, word)
                }
            }
            A_RECORD_TYPE => {
                let is_symbol = |a: &Atom| matches!(a, Atom::Symbol(_));
                let name = r.varint()?;
                if !earlier(self, name, is_symbol) {
                    return Err(WireError::Ref(at));
                }
                let n = r.count(1)?;
                let from = self.type_fields.len();
                for _ in 0..n {
                    let f = r.varint()?;
                    if !earlier(self, f, is_symbol) {
                        return Err(WireError::Ref(at));
                    }
                    self.type_fields.push(f as u32);
                }
                let site = unzigzag(r.varint()?);
                if !(FIXNUM_MIN..=FIXNUM_MAX).contains(&site) {
                    return Err(WireError::Ref(at));
                }
                Atom::RecordType(name as u32, from..self.type_fields.len(), site)
            }
            _ => return Err(WireError::Tag(at)),
        };
        self.atoms.push(atom);
        Ok(())
    }

    /// Checks a ref found in object `cur`, at input offset `at`.
    #[inline]
    fn check_ref(&self, x: u64, cur: usize, at: usize) -> R<()> {
        let ok = if x & 1 == 0 {
            true
        } else if x & 0b11 == 0b01 {
            let j = cur as i64 + unzigzag(x >> 2);
            (0..self.nobjects as i64).contains(&j)
        } else if x & 0b111 == 0b111 {
            ((x >> 3) as usize) < self.atoms.len()
        } else if x & 0b1111 == 0b0011 {
            ((x >> 4) as usize) < CONSTANTS.len()
        } else {
            valid_char(x >> 4)
        };
        if ok { Ok(()) } else { Err(WireError::Ref(at)) }
    }

    #[inline]
    fn checked_ref(&self, r: &mut Reader, cur: usize) -> R<()> {
        let at = r.pos;
        let x = r.varint()?;
        self.check_ref(x, cur, at)
    }

    /// Validates every object; answers the heap words they take (apart
    /// from the large ones, in `large_words`).
    fn check_objects(&mut self, r: &mut Reader<'a>) -> R<usize> {
        let mut words = 0usize;
        for i in 0..self.nobjects {
            let at = r.pos;
            let size = match r.byte()? {
                O_PAIR => {
                    self.checked_ref(r, i)?;
                    self.checked_ref(r, i)?;
                    3
                }
                O_VECTOR => {
                    let n = r.count(1)?;
                    for _ in 0..n {
                        self.checked_ref(r, i)?;
                    }
                    words_of(n)
                }
                O_STRING => {
                    let n = r.count(1)?;
                    match r.byte()? {
                        1 => {
                            r.bytes(n)?;
                        }
                        4 => {
                            let b = r.bytes(n.checked_mul(4).ok_or(WireError::Length(at))?)?;
                            let bad = b.chunks_exact(4).fold(false, |bad, c| {
                                let c = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
                                bad | !valid_char(c as u64)
                            });
                            if bad {
                                return Err(WireError::Text(at));
                            }
                        }
                        _ => return Err(WireError::Length(at)),
                    }
                    words_of(n.div_ceil(2))
                }
                O_BYTEVECTOR => {
                    let n = r.count(1)?;
                    r.bytes(n)?;
                    words_of(n.div_ceil(8))
                }
                O_FLONUM => {
                    r.u64le()?;
                    2
                }
                O_BIGNUM => {
                    let sign = r.byte()?;
                    let n = r.count(8)?;
                    let limbs = r.bytes(8 * n)?;
                    let top = limbs
                        .get(8 * n.max(1) - 8..)
                        .map(|t| t.iter().any(|&b| b != 0));
                    let magnitude = |k: usize| {
                        let mut w = [0u8; 8];
                        w.copy_from_slice(&limbs[8 * k..8 * k + 8]);
                        u64::from_le_bytes(w)
                    };
                    let small = n == 1
                        && (magnitude(0) <= FIXNUM_MAX as u64
                            || (sign == 1 && magnitude(0) == 1 << 62));
                    if sign > 1
                        || top != Some(true)
                        || small
                        || n as u64 * 64 > crate::num::MAX_BIGNUM_BITS
                    {
                        return Err(WireError::Number(at));
                    }
                    2 + n
                }
                O_RECORD => {
                    let t = r.varint()?;
                    let fields = match self.atoms.get((t >> 3) as usize) {
                        Some(Atom::RecordType(_, f, _)) if t & 0b111 == 0b111 => f.len(),
                        _ => return Err(WireError::Ref(at)),
                    };
                    let n = r.count(1)?;
                    if n != fields {
                        return Err(WireError::Record(at));
                    }
                    for _ in 0..n {
                        self.checked_ref(r, i)?;
                    }
                    2 + n
                }
                O_CLOSURE => {
                    let id = r.u64le()?;
                    if program_state::code_addr(id).is_none() {
                        return Err(WireError::UnknownCode(id));
                    }
                    let n = r.count(1)?;
                    for _ in 0..n {
                        self.checked_ref(r, i)?;
                    }
                    2 + n
                }
                _ => return Err(WireError::Tag(at)),
            };
            if size >= LARGE_OBJECT_WORDS {
                self.offsets.push(LARGE | self.large_words.len());
                self.large_words.push(size);
            } else {
                self.offsets.push(words);
                words += size;
            }
        }
        Ok(words)
    }

    /// Where object `j` (a checked index) is built.
    #[inline]
    fn addr(&self, j: usize) -> *mut u64 {
        let off = self.offsets[j];
        if off & LARGE != 0 {
            self.large_at[off & !LARGE]
        } else {
            // Within the message memory (`check_objects` laid it out).
            self.base.wrapping_add(off)
        }
    }

    fn make_atoms(&mut self) {
        let mut entries: Vec<u32> = Vec::with_capacity(self.atoms.len());
        for a in &self.atoms {
            let (v, entry) = match a {
                Atom::Symbol(s) => (Value::symbol(symbols::intern(s)), 0),
                Atom::Node(host, port, incarnation) => {
                    let e = ident::node_entry(host, *port, *incarnation);
                    (ident::node_value(e), e)
                }
                Atom::Pid(node, inc, word) => {
                    (ident::pid_of(entries[*node as usize], *inc, *word), 0)
                }
                Atom::Tag(node, inc, word) => {
                    (ident::tag_of(entries[*node as usize], *inc, *word), 0)
                }
                Atom::RecordType(name, fields, site) => {
                    let id = |i: u32| self.atom_values[i as usize].imm_payload() as u32;
                    let fields: Vec<u32> = self.type_fields[fields.clone()]
                        .iter()
                        .map(|&f| id(f))
                        .collect();
                    (records::record_type(id(*name), &fields, *site), 0)
                }
            };
            self.atom_values.push(v);
            entries.push(entry);
        }
    }

    /// The value of a (checked) ref in object `cur`.
    #[inline]
    fn value(&self, x: u64, cur: usize) -> Value {
        if x & 1 == 0 {
            Value::fixnum(unzigzag(x >> 1))
        } else if x & 0b11 == 0b01 {
            let j = (cur as i64 + unzigzag(x >> 2)) as usize;
            Value::from_addr(self.addr(j))
        } else if x & 0b111 == 0b111 {
            self.atom_values[(x >> 3) as usize]
        } else if x & 0b1111 == 0b0011 {
            CONSTANTS[(x >> 4) as usize]
        } else {
            imm(IMM_CHAR, x >> 4)
        }
    }

    /// Builds the objects (all checked by `check_objects`) into the
    /// message memory of `words` words at `self.base`.
    fn build_objects(&self, r: &mut Reader<'a>, words: usize) -> R<()> {
        let mut at = 0usize;
        for i in 0..self.nobjects {
            let p = self.addr(i);
            // SAFETY (every write below): the object's words, from `p`,
            // are within the memory (the message memory or the object's
            // own block), whose layout `check_objects` computed from the
            // same input (`offsets`); `debug_assert` checks it.
            debug_assert!(self.offsets[i] & LARGE != 0 || self.offsets[i] == at);
            let put = |k: usize, w: u64| unsafe { *p.add(k) = w };
            let size = match r.byte()? {
                O_PAIR => {
                    put(0, header(T_PAIR, 2, 0));
                    put(1, self.value(r.varint()?, i).0);
                    put(2, self.value(r.varint()?, i).0);
                    3
                }
                O_VECTOR => {
                    let n = r.count(1)?;
                    put(0, header(T_VECTOR, n as u64, 0));
                    put(1, 0);
                    for k in 1..=n {
                        put(k, self.value(r.varint()?, i).0);
                    }
                    words_of(n)
                }
                O_STRING => {
                    let n = r.count(1)?;
                    let payload = n.div_ceil(2).max(1);
                    put(0, header(T_STRING, n as u64, 0));
                    put(payload, 0);
                    // SAFETY: the payload has room for `n` u32s.
                    let dst = unsafe { std::slice::from_raw_parts_mut(p.add(1) as *mut u32, n) };
                    if r.byte()? == 1 {
                        for (d, &b) in dst.iter_mut().zip(r.bytes(n)?) {
                            *d = b as u32;
                        }
                    } else {
                        let b = r.bytes(4 * n)?;
                        if cfg!(target_endian = "little") {
                            // SAFETY: `dst` has room for `4 * n` bytes.
                            unsafe {
                                std::ptr::copy_nonoverlapping(
                                    b.as_ptr(),
                                    dst.as_mut_ptr() as *mut u8,
                                    4 * n,
                                )
                            };
                        } else {
                            for (d, c) in dst.iter_mut().zip(b.chunks_exact(4)) {
                                *d = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
                            }
                        }
                    }
                    1 + payload
                }
                O_BYTEVECTOR => {
                    let n = r.count(1)?;
                    let payload = n.div_ceil(8).max(1);
                    put(0, header(T_BYTEVECTOR, n as u64, 0));
                    put(payload, 0);
                    let b = r.bytes(n)?;
                    // SAFETY: the payload has room for `n` bytes.
                    unsafe { std::ptr::copy_nonoverlapping(b.as_ptr(), p.add(1) as *mut u8, n) };
                    1 + payload
                }
                O_FLONUM => {
                    put(0, header(T_FLONUM, 1, 0));
                    put(1, r.u64le()?);
                    2
                }
                O_BIGNUM => {
                    let sign = r.byte()?;
                    let n = r.count(8)?;
                    put(0, header(T_BIGNUM, 1 + n as u64, 0));
                    put(1, sign as u64);
                    for k in 0..n {
                        put(2 + k, r.u64le()?);
                    }
                    2 + n
                }
                O_RECORD => {
                    let t = r.varint()?;
                    let n = r.count(1)?;
                    put(0, header(T_RECORD, 1 + n as u64, 0));
                    put(1, self.value(t, i).0);
                    for k in 0..n {
                        put(2 + k, self.value(r.varint()?, i).0);
                    }
                    2 + n
                }
                O_CLOSURE => {
                    let id = r.u64le()?;
                    let code = program_state::code_addr(id).ok_or(WireError::UnknownCode(id))?;
                    let n = r.count(1)?;
                    put(0, header(T_CLOSURE, 1 + n as u64, 0));
                    put(1, code as u64);
                    for k in 0..n {
                        put(2 + k, self.value(r.varint()?, i).0);
                    }
                    2 + n
                }
                _ => unreachable!("checked by check_objects"),
            };
            if self.offsets[i] & LARGE == 0 {
                at += size;
            }
        }
        debug_assert_eq!(at, words);
        Ok(())
    }
}
