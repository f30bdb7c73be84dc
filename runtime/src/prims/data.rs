//! Pairs, lists, equivalence, type predicates, vectors, bytevectors, records.

use crate::ctx::Ctx;
use crate::num::{Num, eqv_numbers, num_of};
use crate::records;
use crate::value::*;
use dashu::integer::IBig;
use smallvec::SmallVec;

fn pair_or_error(ctx: &mut Ctx, who: &str, v: Value) -> Result<Value, Value> {
    if v.is_pair() {
        Ok(v)
    } else {
        Err(ctx.type_error(who, "a pair", v))
    }
}

macro_rules! cxr {
    ($name:ident, $who:literal, [$($step:ident),*]) => {
        prim!(fn $name(ctx, x) {
            let mut v = x;
            $(
                v = match pair_or_error(ctx, $who, v) { Ok(p) => p.$step(), Err(e) => return e };
            )*
            v
        });
    };
}

// Steps apply innermost first: cadr is (car (cdr x)).
cxr!(tm_car, "car", [car]);
cxr!(tm_cdr, "cdr", [cdr]);
cxr!(tm_caar, "caar", [car, car]);
cxr!(tm_cadr, "cadr", [cdr, car]);
cxr!(tm_cdar, "cdar", [car, cdr]);
cxr!(tm_cddr, "cddr", [cdr, cdr]);
cxr!(tm_caddr, "caddr", [cdr, cdr, car]);
cxr!(tm_cdddr, "cdddr", [cdr, cdr, cdr]);
cxr!(tm_cadddr, "cadddr", [cdr, cdr, cdr, car]);

prim!(fn tm_cons(ctx, a, d) { ctx.cons(a, d) });
prim!(fn tm_pair_p(_ctx, x) { Value::bool(x.is_pair()) });
prim!(fn tm_null_p(_ctx, x) { Value::bool(x == NULL) });
prim!(fn tm_list_p(_ctx, x) {
    let mut slow = x;
    let mut fast = x;
    loop {
        if fast == NULL { return TRUE; }
        if !fast.is_pair() { return FALSE; }
        fast = fast.cdr();
        if fast == NULL { return TRUE; }
        if !fast.is_pair() { return FALSE; }
        fast = fast.cdr();
        slow = slow.cdr();
        if fast == slow { return FALSE; }
    }
});

/// The length of a proper list, or an error naming `who`.
pub fn list_length(ctx: &mut Ctx, who: &str, l: Value) -> Result<usize, Value> {
    let mut n = 0;
    let mut cur = l;
    while let Some((_, rest)) = cur.as_pair() {
        n += 1;
        cur = rest;
    }
    if cur != NULL {
        return Err(ctx.type_error(who, "a proper list", l));
    }
    Ok(n)
}

pub fn list_to_vec(ctx: &mut Ctx, who: &str, l: Value) -> Result<Vec<Value>, Value> {
    list_length(ctx, who, l)?;
    Ok(l.list_iter().collect())
}

prim!(fn tm_length(ctx, l) {
    match list_length(ctx, "length", l) { Ok(n) => Value::fixnum(n as i64), Err(e) => e }
});
prim!(fn tm_append(ctx, a, b) {
    let n = match list_length(ctx, "append", a) { Ok(n) => n, Err(e) => return e };
    let mut copy = ctx.fresh_list(n, b);
    for (i, x) in a.list_iter().enumerate() { copy.set_car(i, x); }
    copy.value()
});
prim!(fn tm_reverse(ctx, l) {
    let n = match list_length(ctx, "reverse", l) { Ok(n) => n, Err(e) => return e };
    let mut rev = ctx.fresh_list(n, NULL);
    for (i, x) in l.list_iter().enumerate() { rev.set_car(n - 1 - i, x); }
    rev.value()
});
fn index_arg(ctx: &mut Ctx, who: &str, k: Value) -> Result<usize, Value> {
    position_arg(ctx, who, k)
}
prim!(fn tm_list_tail(ctx, l, kv) {
    let k = match index_arg(ctx, "list-tail", kv) { Ok(k) => k, Err(e) => return e };
    let mut cur = l;
    for _ in 0..k {
        if !cur.is_pair() { return ctx.raise_error("list-tail: index out of range", &[kv]); }
        cur = cur.cdr();
    }
    cur
});
prim!(fn tm_list_ref(ctx, l, kv) {
    let k = match index_arg(ctx, "list-ref", kv) { Ok(k) => k, Err(e) => return e };
    let mut cur = l;
    for _ in 0..k {
        if !cur.is_pair() { break; }
        cur = cur.cdr();
    }
    if !cur.is_pair() { return ctx.raise_error("list-ref: index out of range", &[kv]); }
    cur.car()
});

fn mem(x: Value, l: Value, eq: fn(Value, Value) -> bool) -> Value {
    let mut cur = l;
    while cur.is_pair() {
        if eq(x, cur.car()) {
            return cur;
        }
        cur = cur.cdr();
    }
    FALSE
}
fn ass(x: Value, l: Value, eq: fn(Value, Value) -> bool) -> Value {
    for entry in l.list_iter() {
        if entry.is_pair() && eq(x, entry.car()) {
            return entry;
        }
    }
    FALSE
}
fn eq(a: Value, b: Value) -> bool {
    a == b
}
prim!(fn tm_memq(_ctx, x, l) { mem(x, l, eq) });
prim!(fn tm_memv(_ctx, x, l) { mem(x, l, eqv) });
prim!(fn tm_member(_ctx, x, l) { mem(x, l, equal) });
prim!(fn tm_assq(_ctx, x, l) { ass(x, l, eq) });
prim!(fn tm_assv(_ctx, x, l) { ass(x, l, eqv) });
prim!(fn tm_assoc(_ctx, x, l) { ass(x, l, equal) });
prim!(fn tm_last_pair(ctx, l) {
    if !l.is_pair() { return ctx.type_error("last-pair", "a pair", l); }
    let mut cur = l;
    while cur.cdr().is_pair() { cur = cur.cdr(); }
    cur
});

#[inline]
pub fn eqv(a: Value, b: Value) -> bool {
    a == b || (a.is_ptr() && b.is_ptr() && eqv_objects(a, b))
}

/// `eqv?` of two distinct objects: numbers by value, empty sequences.
#[inline(never)]
fn eqv_objects(a: Value, b: Value) -> bool {
    let (ta, tb) = (header_type(a.header()), header_type(b.header()));
    if ta == tb && (ta == T_FLONUM || ta == T_BIGNUM) {
        return match (num_of(a), num_of(b)) {
            (Some(x), Some(y)) => eqv_numbers(&x, &y),
            _ => false,
        };
    }
    // Empty strings and vectors are indistinguishable.
    ta == tb && matches!(ta, T_STRING | T_VECTOR | T_BYTEVECTOR) && a.is_empty() && b.is_empty()
}

/// Compound objects `equal?` compares before it first remembers which
/// ones it took for equal (small data never pays for the table), and how
/// many it then compares remembering them (`Phase`).
const EQUAL_FAST: usize = 256;
const EQUAL_SLOW: usize = 64;

/// `equal?` alternates between comparing without the table and with it.
/// A phase with the table that found shared structure is followed by a
/// longer one; one that found none, by a fast phase twice as long as the
/// last: on data without sharing (two long lists) the table's cost
/// becomes a small fraction; on a DAG the table is kept in use.
enum Phase {
    Fast(usize),
    Slow { left: usize, hit: bool },
}

/// Which compound objects `equal?` has taken for equal, as the classes of
/// a union–find over their addresses (Adams and Dybvig, "Efficient
/// nondestructive equality checking for trees and graphs", 2008). Taking
/// `x` and `y` for equal before their parts are compared is sound because
/// `equal?` answers false at the first difference it finds anywhere: if it
/// answers true, every assumption held. So two DAGs with much sharing are
/// compared in time proportional to their size, not to the size of their
/// unfolded trees.
#[derive(Default)]
struct Classes {
    parent: crate::hash::WordMap<u64, u64>,
}

impl Classes {
    fn new() -> Classes {
        // Room for a slow phase's unions without growing.
        let mut parent = crate::hash::WordMap::default();
        parent.reserve(2 * EQUAL_SLOW);
        Classes { parent }
    }

    fn find(&mut self, x: u64) -> u64 {
        let mut root = x;
        while let Some(&p) = self.parent.get(&root) {
            root = p;
        }
        // Path compression: every object on the way points at the root.
        let mut cur = x;
        while let Some(&p) = self.parent.get(&cur) {
            if p == root {
                break;
            }
            self.parent.insert(cur, root);
            cur = p;
        }
        root
    }

    /// Whether `x` and `y` were already taken for equal; if not, they are
    /// from now on.
    fn same_or_union(&mut self, x: Value, y: Value) -> bool {
        let (rx, ry) = (self.find(x.0), self.find(y.0));
        if rx == ry {
            return true;
        }
        self.parent.insert(rx, ry);
        false
    }
}

/// `equal?`, on a work stack of its own: no native recursion however deep
/// the data, and a wide vector or record takes one stack entry (the next
/// field to compare), not one per element. In its slow phases (`Phase`)
/// it remembers which compound objects it took for equal (`Classes`), so
/// shared structure is not compared again and again.
pub fn equal(a: Value, b: Value) -> bool {
    enum Item {
        Both(Value, Value),
        /// Fields `i..=len` of two vectors or records of the same length.
        Fields(Value, Value, usize),
    }
    let mut phase = Phase::Fast(EQUAL_FAST);
    let (mut fast_len, mut slow_len) = (EQUAL_FAST, EQUAL_SLOW);
    let mut classes: Option<Classes> = None;
    // On the stack for small data: `assoc` and `member` call this once
    // per element, and a `Vec` here (its allocation and its growth) cost
    // as much as the comparisons in benches `alist`.
    let mut work: SmallVec<[Item; 32]> = SmallVec::new();
    work.push(Item::Both(a, b));
    while let Some(item) = work.pop() {
        let (x, y) = match item {
            Item::Both(x, y) => (x, y),
            Item::Fields(x, y, i) => {
                if i < x.len() {
                    work.push(Item::Fields(x, y, i + 1));
                }
                (x.field(i), y.field(i))
            }
        };
        if x == y {
            continue;
        }
        if !(x.is_ptr() && y.is_ptr()) {
            return false;
        }
        // (`eqv?` of two objects that are not `eq?` is settled below, by
        // type: numbers by value, and empty sequences are equal anyway.)
        let (hx, hy) = (x.header(), y.header());
        if header_type(hx) != header_type(hy) {
            return false;
        }
        if matches!(header_type(hx), T_PAIR | T_VECTOR | T_RECORD) {
            match &mut phase {
                Phase::Fast(left) => {
                    *left -= 1;
                    if *left == 0 {
                        phase = Phase::Slow {
                            left: slow_len,
                            hit: false,
                        };
                    }
                }
                Phase::Slow { left, hit } => {
                    if classes.get_or_insert_with(Classes::new).same_or_union(x, y) {
                        *hit = true;
                        continue;
                    }
                    *left -= 1;
                    if *left == 0 {
                        phase = if *hit {
                            slow_len *= 2;
                            Phase::Slow {
                                left: slow_len,
                                hit: false,
                            }
                        } else {
                            fast_len *= 2;
                            Phase::Fast(fast_len)
                        };
                    }
                }
            }
        }
        match header_type(hx) {
            T_PAIR => {
                work.push(Item::Both(x.cdr(), y.cdr()));
                work.push(Item::Both(x.car(), y.car()));
            }
            T_VECTOR | T_RECORD => {
                if x.len() != y.len() {
                    return false;
                }
                if !x.is_empty() {
                    work.push(Item::Fields(x, y, 1));
                }
            }
            T_STRING => {
                // SAFETY: used within this runtime function, before any collection.
                if unsafe { x.string_chars() } != unsafe { y.string_chars() } {
                    return false;
                }
            }
            T_BYTEVECTOR => {
                // SAFETY: used within this runtime function, before any collection.
                if unsafe { x.bytes() } != unsafe { y.bytes() } {
                    return false;
                }
            }
            T_FLONUM | T_BIGNUM => {
                if !eqv_objects(x, y) {
                    return false;
                }
            }
            _ => return false,
        }
    }
    true
}

prim!(fn tm_eq_p(_ctx, a, b) { Value::bool(a == b) });
prim!(fn tm_eqv_p(_ctx, a, b) { Value::bool(eqv(a, b)) });
prim!(fn tm_equal_p(_ctx, a, b) { Value::bool(equal(a, b)) });
prim!(fn tm_not(_ctx, x) { Value::bool(x == FALSE) });
prim!(fn tm_symbol_p(_ctx, x) { Value::bool(x.is_symbol()) });
prim!(fn tm_string_p(_ctx, x) { Value::bool(x.has_type(T_STRING)) });
prim!(fn tm_vector_p(_ctx, x) { Value::bool(x.has_type(T_VECTOR)) });
prim!(fn tm_procedure_p(_ctx, x) { Value::bool(x.has_type(T_CLOSURE)) });
prim!(fn tm_boolean_p(_ctx, x) { Value::bool(x == TRUE || x == FALSE) });
prim!(fn tm_char_p(_ctx, x) { Value::bool(x.is_char()) });
prim!(fn tm_bytevector_p(_ctx, x) { Value::bool(x.has_type(T_BYTEVECTOR)) });
prim!(fn tm_eof_object_p(_ctx, x) { Value::bool(x == EOF) });
prim!(fn tm_eof_object(_ctx) { EOF });
prim!(fn tm_default_object_p(_ctx, x) { Value::bool(x == DEFAULT_OBJECT) });

fn vector_index(
    ctx: &mut Ctx,
    who: &str,
    v: Value,
    k: Value,
    ty: u64,
    what: &str,
) -> Result<usize, Value> {
    if !v.has_type(ty) {
        return Err(ctx.type_error(who, what, v));
    }
    if !crate::num::is_exact_integer(k) {
        return Err(ctx.type_error(who, "an exact integer index", k));
    }
    // A bignum is out of the range of every object.
    let i = if k.is_fixnum() { k.as_fixnum() } else { -1 };
    if i < 0 || i as usize >= v.len() {
        let msg = format!("{who}: index out of range");
        return Err(ctx.raise_error(&msg, &[k]));
    }
    Ok(i as usize)
}
prim!(fn tm_vector_ref(ctx, v, k) {
    match vector_index(ctx, "vector-ref", v, k, T_VECTOR, "a vector") { Ok(i) => v.field(1 + i), Err(e) => e }
});
prim!(fn tm_vector_length(ctx, v) {
    if !v.has_type(T_VECTOR) { return ctx.type_error("vector-length", "a vector", v); }
    Value::fixnum(v.len() as i64)
});
/// The length argument of a constructor of objects of `item_bytes` bytes
/// per element: an exact non-negative integer; an object that would not fit
/// under the heap limit raises the catchable `heap limit exceeded` before
/// any memory is asked for (`(make-vector 4294967295)` would be 32 GiB).
pub fn length_arg(ctx: &mut Ctx, who: &str, k: Value, item_bytes: u64) -> Result<usize, Value> {
    match num_of(k) {
        Some(Num::Fix(n)) if n >= 0 => {
            let words = (n as u64).saturating_mul(item_bytes).div_ceil(8) as usize;
            ctx.room_for(who, words).map(|()| n as usize)
        }
        Some(Num::Big(b)) if b > IBig::ZERO => Err(ctx.heap_limit_error(who, usize::MAX)),
        _ => Err(ctx.type_error(who, "a non-negative exact integer", k)),
    }
}

/// A start or end argument: an exact non-negative integer; one too large
/// for any object is `usize::MAX` (out of range of every object).
fn position_arg(ctx: &mut Ctx, who: &str, k: Value) -> Result<usize, Value> {
    match num_of(k) {
        Some(Num::Fix(n)) if n >= 0 => Ok(n as usize),
        Some(Num::Big(b)) if b > IBig::ZERO => Ok(usize::MAX),
        _ => Err(ctx.type_error(who, "a non-negative exact integer", k)),
    }
}
prim!(fn tm_make_vector(ctx, k, fill) {
    let n = match length_arg(ctx, "make-vector", k, 8) { Ok(n) => n, Err(e) => return e };
    let fill = if fill == DEFAULT_OBJECT { FALSE } else { fill };
    // Filled in place: no second copy of a large vector.
    let v = ctx.alloc_object(T_VECTOR, n, n);
    for i in 0..n {
        v.set_word(1 + i, fill.0);
    }
    v
});
prim!(fn tm_list_to_vector(ctx, l) {
    match list_to_vec(ctx, "list->vector", l) { Ok(items) => ctx.vector(&items), Err(e) => e }
});
fn range_args(
    ctx: &mut Ctx,
    who: &str,
    len: usize,
    start: Value,
    end: Value,
) -> Result<(usize, usize), Value> {
    let s = if start == DEFAULT_OBJECT {
        0
    } else {
        position_arg(ctx, who, start)?
    };
    let e = if end == DEFAULT_OBJECT {
        len
    } else {
        position_arg(ctx, who, end)?
    };
    if s > e || e > len {
        let msg = format!("{who}: range out of bounds");
        return Err(ctx.raise_error(&msg, &[start, end]));
    }
    Ok((s, e))
}
prim!(fn tm_vector_to_list(ctx, v, start, end) {
    if !v.has_type(T_VECTOR) { return ctx.type_error("vector->list", "a vector", v); }
    let (s, e) = match range_args(ctx, "vector->list", v.len(), start, end) { Ok(r) => r, Err(x) => return x };
    let items: Vec<Value> = (s..e).map(|i| v.field(1 + i)).collect();
    ctx.list(&items)
});
prim!(fn tm_subvector(ctx, v, start, end) {
    if !v.has_type(T_VECTOR) { return ctx.type_error("vector-copy", "a vector", v); }
    let (s, e) = match range_args(ctx, "vector-copy", v.len(), start, end) { Ok(r) => r, Err(x) => return x };
    let items: Vec<Value> = (s..e).map(|i| v.field(1 + i)).collect();
    ctx.vector(&items)
});
prim!(fn tm_vector_append(ctx, a, b) {
    if !a.has_type(T_VECTOR) { return ctx.type_error("vector-append", "a vector", a); }
    if !b.has_type(T_VECTOR) { return ctx.type_error("vector-append", "a vector", b); }
    let items: Vec<Value> = (0..a.len()).map(|i| a.field(1 + i)).chain((0..b.len()).map(|i| b.field(1 + i))).collect();
    ctx.vector(&items)
});
prim!(fn tm_bytevector_u8_ref(ctx, v, k) {
    match vector_index(ctx, "bytevector-u8-ref", v, k, T_BYTEVECTOR, "a bytevector") {
        // SAFETY: used within this runtime function, before any collection.
        Ok(i) => Value::fixnum(unsafe { v.bytes() }[i] as i64),
        Err(e) => e,
    }
});
prim!(fn tm_bytevector_length(ctx, v) {
    if !v.has_type(T_BYTEVECTOR) { return ctx.type_error("bytevector-length", "a bytevector", v); }
    Value::fixnum(v.len() as i64)
});
fn byte_arg(ctx: &mut Ctx, who: &str, b: Value) -> Result<u8, Value> {
    if b.is_fixnum() && (0..256).contains(&b.as_fixnum()) {
        Ok(b.as_fixnum() as u8)
    } else {
        Err(ctx.type_error(who, "a byte", b))
    }
}
prim!(fn tm_make_bytevector(ctx, k, fill) {
    let n = match length_arg(ctx, "make-bytevector", k, 1) { Ok(n) => n, Err(e) => return e };
    let fill = if fill == DEFAULT_OBJECT { 0 } else { match byte_arg(ctx, "make-bytevector", fill) { Ok(b) => b, Err(e) => return e } };
    ctx.bytevector(&vec![fill; n])
});
prim!(fn tm_list_to_bytevector(ctx, l) {
    let items = match list_to_vec(ctx, "bytevector", l) { Ok(i) => i, Err(e) => return e };
    let mut bytes = Vec::with_capacity(items.len());
    for b in items {
        match byte_arg(ctx, "bytevector", b) { Ok(b) => bytes.push(b), Err(e) => return e }
    }
    ctx.bytevector(&bytes)
});
prim!(fn tm_bytevector_to_list(ctx, v) {
    if !v.has_type(T_BYTEVECTOR) { return ctx.type_error("bytevector->list", "a bytevector", v); }
    // SAFETY: used within this runtime function, before any collection.
    let items: Vec<Value> = unsafe { v.bytes() }.iter().map(|b| Value::fixnum(*b as i64)).collect();
    ctx.list(&items)
});
prim!(fn tm_subbytevector(ctx, v, start, end) {
    if !v.has_type(T_BYTEVECTOR) { return ctx.type_error("bytevector-copy", "a bytevector", v); }
    let (s, e) = match range_args(ctx, "bytevector-copy", v.len(), start, end) { Ok(r) => r, Err(x) => return x };
    // SAFETY: used within this runtime function, before any collection.
    let bytes = unsafe { v.bytes() }[s..e].to_vec();
    ctx.bytevector(&bytes)
});
prim!(fn tm_bytevector_append(ctx, a, b) {
    if !a.has_type(T_BYTEVECTOR) { return ctx.type_error("bytevector-append", "a bytevector", a); }
    if !b.has_type(T_BYTEVECTOR) { return ctx.type_error("bytevector-append", "a bytevector", b); }
    // SAFETY: used within this runtime function, before any collection.
    let bytes = [unsafe { a.bytes() }, unsafe { b.bytes() }].concat();
    ctx.bytevector(&bytes)
});

prim!(fn tm_make_record_type(ctx, name, fields, site) {
    if !name.is_symbol() { return ctx.type_error("make-record-type", "a symbol", name); }
    let fields = match list_to_vec(ctx, "make-record-type", fields) { Ok(f) => f, Err(e) => return e };
    if let Some(f) = fields.iter().find(|f| !f.is_symbol()) {
        return ctx.type_error("make-record-type", "a field name (a symbol)", *f);
    }
    if !site.is_fixnum() { return ctx.type_error("make-record-type", "a fixnum", site); }
    let names: Vec<u32> = fields.iter().map(|f| f.imm_payload() as u32).collect();
    records::record_type(name.imm_payload() as u32, &names, site.as_fixnum())
});
prim!(fn tm_make_record(ctx, rtd, fields) {
    let items = match list_to_vec(ctx, "make-record", fields) { Ok(i) => i, Err(e) => return e };
    ctx.record(rtd, &items)
});
prim!(fn tm_record_inline(ctx) {
    ctx.raise_error("internal: %record is compiled inline, never called", &[])
});
prim!(fn tm_vector_inline(ctx) {
    ctx.raise_error("internal: %vector is compiled inline, never called", &[])
});
prim!(fn tm_record_of_p(_ctx, x, rtd) { Value::bool(x.has_type(T_RECORD) && x.field(1) == rtd) });
prim!(fn tm_record_ref(ctx, x, rtd, k) {
    if !(x.has_type(T_RECORD) && x.field(1) == rtd) {
        let what = format!("a record of type {}", records::rtd_name(rtd));
        return ctx.type_error("record accessor", &what, x);
    }
    // A record of `len` words holds its type, then `len - 1` fields.
    if !(k.is_fixnum() && (0..x.len() as i64 - 1).contains(&k.as_fixnum())) {
        return ctx.raise_error("record accessor: no such field", &[k]);
    }
    x.field(2 + k.as_fixnum() as usize)
});
// Promises: a record whose one field, its state `(done . value)`, is the
// only mutable word a Termite program has. A promise bound to a global is
// static and several processes may force it at once: the state is read
// with an acquire load and replaced by compare-and-swap, so the first
// process to finish publishes its result and the others' are discarded
// (ARCHITECTURE.md, "Who writes shared memory").
fn promise_state_slot(p: Value) -> Option<&'static std::sync::atomic::AtomicU64> {
    if !(p.has_type(T_RECORD) && p.len() == 2) {
        return None;
    }
    // SAFETY: word 2 of a record of one field is that field, 8-aligned, and
    // objects are never freed while a process can reach them.
    Some(unsafe { std::sync::atomic::AtomicU64::from_ptr(p.addr().add(2)) })
}
prim!(fn tm_promise_state(ctx, p) {
    match promise_state_slot(p) {
        Some(s) => Value(s.load(std::sync::atomic::Ordering::Acquire)),
        None => ctx.type_error("force", "a promise", p),
    }
});
prim!(fn tm_promise_update(ctx, p, old, new) {
    let Some(slot) = promise_state_slot(p) else { return ctx.type_error("force", "a promise", p) };
    // A static promise points only to static objects.
    let new = if p.is_static() { crate::heap::statics::promote(new) } else { new };
    let swapped = slot.compare_exchange(old.0, new.0, std::sync::atomic::Ordering::AcqRel, std::sync::atomic::Ordering::Acquire);
    Value::bool(swapped.is_ok())
});
prim!(fn tm_make_error(ctx, msg, irritants) { records::make_error(ctx, msg, irritants) });
prim!(fn tm_error_object_p(_ctx, x) { Value::bool(records::is_error_object(x)) });
prim!(fn tm_error_object_message(ctx, x) {
    if !records::is_error_object(x) { return ctx.type_error("error-object-message", "an error object", x); }
    x.field(2)
});
prim!(fn tm_error_object_irritants(ctx, x) {
    if !records::is_error_object(x) { return ctx.type_error("error-object-irritants", "an error object", x); }
    x.field(3)
});
