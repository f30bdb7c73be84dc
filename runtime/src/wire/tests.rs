use super::*;
use crate::ctx::Ctx;
use crate::prims::data::equal;

fn ctx() -> Box<Ctx> {
    Ctx::new(std::ptr::null_mut(), 0, std::ptr::null())
}

fn round(v: Value) -> (MessageMem, Value) {
    let bytes = encode(v).expect("encodes");
    decode(&bytes).expect("decodes")
}

/// Encodes, decodes, checks `equal?` and that the encoding left `v` as it was.
fn same(v: Value) -> Value {
    let before = crate::print::write_string(v);
    let (_mem, w) = round(v);
    assert!(
        equal(v, w),
        "{before} came back as {}",
        crate::print::write_string(w)
    );
    assert_eq!(crate::print::write_string(v), before);
    // The memory of the copy is leaked on purpose: `w` is used after.
    std::mem::forget(_mem);
    w
}

fn sym(s: &str) -> Value {
    Value::symbol(symbols::intern(s))
}

fn dummy_code() {}

#[test]
fn every_kind_of_value_travels() {
    let mut c = ctx();
    for n in [0, 1, -1, 42, FIXNUM_MAX, FIXNUM_MIN, 1 << 40, -(1 << 40)] {
        assert_eq!(same(Value::fixnum(n)), Value::fixnum(n));
    }
    for s in [
        "4611686018427387904",
        "-4611686018427387905",
        "123456789012345678901234567890123456789",
        "-98765432109876543210987654321098765432109876543210",
    ] {
        let b = c.integer(s.parse().unwrap());
        let w = same(b);
        assert_eq!(crate::alloc::bignum_value(w).to_string(), s);
    }
    for x in [
        0.0,
        -0.0,
        1.5,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::from_bits(0x7ff8_dead_beef_0001),
        f64::MIN_POSITIVE / 4.0,
    ] {
        let v = c.flonum(x);
        let (_m, w) = round(v);
        assert_eq!(w.flonum().to_bits(), x.to_bits());
    }
    for s in ["", "hello", "é à ÿ", "λx. 𝄞 \u{10ffff}", "a\0b"] {
        let v = c.string(s);
        assert_eq!(same(v).string(), s);
    }
    for s in ["foo", "", "with space", "λ", "|bars|"] {
        assert_eq!(same(sym(s)), sym(s));
    }
    for ch in ['a', '\0', 'é', '\u{10ffff}', '𝄞'] {
        assert_eq!(same(Value::char(ch)), Value::char(ch));
    }
    for v in [TRUE, FALSE, NULL, EOF, UNSPECIFIED, DEFAULT_OBJECT] {
        assert_eq!(same(v), v);
    }
    let l = {
        let s = c.string("x");
        let inner = c.list(&[Value::fixnum(1), s]);
        let tail = c.flonum(2.5);
        c.list_with_tail(&[inner, sym("a"), Value::char('z')], tail)
    };
    same(l);
    let e = c.vector(&[]);
    let bv = c.bytevector(&[0, 1, 255, 7, 8, 9, 10, 11, 12]);
    let ebv = c.bytevector(&[]);
    let v = c.vector(&[e, bv, ebv, l, Value::fixnum(3)]);
    same(v);
    // Records keep their (interned) type; error objects are records.
    let rtd = records::record_type(
        symbols::intern("point"),
        &[symbols::intern("x"), symbols::intern("y")],
        0,
    );
    let p = c.record(rtd, &[Value::fixnum(1), l]);
    let w = same(p);
    assert_eq!(w.field(1), rtd);
    let m = c.string("it failed");
    let irritants = c.list(&[sym("x"), Value::fixnum(2)]);
    let err = records::make_error(&mut c, m, irritants);
    let w = same(err);
    assert!(records::is_error_object(w));
    // A record type itself is sent by its identity.
    assert_eq!(same(rtd), rtd);
    // Pids, tags and nodes: the local immediates come back as they were,
    // remote ones as the same interned objects.
    let local = imm(IMM_PID, 5 | 3 << 32);
    assert_eq!(same(local), local);
    let tag = imm(IMM_TAG, 99);
    assert_eq!(same(tag), tag);
    let n = ident::node_entry("192.0.2.1", 4000, 17);
    let rp = ident::pid_of(n, 17, 8);
    let rt = ident::tag_of(n, 17, 9);
    let nv = ident::node_value(n);
    let mixed = c.list(&[local, rp, rt, nv, ident::current_node(), rp]);
    let w = same(mixed);
    let items: Vec<Value> = w.list_iter().collect();
    assert_eq!(items, vec![local, rp, rt, nv, ident::current_node(), rp]);
    // An earlier incarnation of this node is not this node's process.
    let old = ident::pid_of(0, ident::self_incarnation() ^ 4, 8);
    assert_eq!(same(old), old);
    // Closures: code id and free values; static objects by value.
    crate::program_state::register_code(&[(0x5eed_0001, "dummy".into(), dummy_code as *const u8)]);
    let k = c.closure(dummy_code as *const u8, &[l, Value::fixnum(4)]);
    // (`equal?` on procedures is `eq?`: compare by hand.)
    let (_m, w) = round(k);
    assert_eq!(w.word(1), dummy_code as *const u8 as u64);
    assert!(equal(w.field(2), l) && w.field(3) == Value::fixnum(4) && w.len() == 3);
    let st = crate::heap::statics::promote(v);
    let w = same(st);
    assert!(!w.is_static());
}

#[test]
fn sharing_and_cycles_are_kept() {
    let mut c = ctx();
    let s = c.string("shared");
    let shared = c.list(&[s, s]);
    let both = c.cons(shared, shared);
    let (_m, w) = round(both);
    assert_eq!(w.car(), w.cdr());
    assert_eq!(w.car().car(), w.car().cdr().car());
    // A cycle through a cdr, and a vector that holds itself.
    let cyc = c.list(&[Value::fixnum(1), Value::fixnum(2)]);
    cyc.cdr().set_word(2, cyc.0);
    let (_m, w) = round(cyc);
    assert_eq!(w.car(), Value::fixnum(1));
    assert_eq!(w.cdr().cdr(), w);
    let vec = c.vector(&[NULL, Value::fixnum(7)]);
    vec.set_word(1, vec.0);
    let (_m, w) = round(vec);
    assert_eq!(w.field(1), w);
    // The encoder put every header back.
    assert_eq!(cyc.cdr().cdr(), cyc);
    assert_eq!(vec.field(1), vec);
}

#[test]
fn long_list_and_large_string_without_recursion() {
    let mut c = ctx();
    let n = 10_000_000;
    let mut l = NULL;
    for i in (0..n).rev() {
        l = c.cons(Value::fixnum(i), l);
    }
    let bytes = encode(l).unwrap();
    let (_m, w) = decode(&bytes).unwrap();
    let mut count = 0;
    let mut sum = 0i64;
    for x in w.list_iter() {
        sum += x.as_fixnum();
        count += 1;
    }
    assert_eq!(count, n);
    assert_eq!(sum, (0..n).sum::<i64>());
    drop(_m);
    let text: String = (0..8_000_000)
        .map(|i| if i % 1000 == 0 { 'λ' } else { 'a' })
        .collect();
    let s = c.string(&text);
    let (_m, w) = round(s);
    // SAFETY: no collection meanwhile.
    assert!(unsafe { w.string_chars() == s.string_chars() });
}

/// A value whose encoding exercises every kind of entry.
fn sample(c: &mut Ctx) -> Value {
    crate::program_state::register_code(&[(0x5eed_0002, "dummy2".into(), sample as *const u8)]);
    let rtd = records::record_type(symbols::intern("box"), &[symbols::intern("v")], 3);
    let s = c.string("é𝄞");
    let big = c.integer("-123456789012345678901234567890".parse().unwrap());
    let f = c.flonum(-0.0);
    let bv = c.bytevector(&[1, 2, 3]);
    let rec = c.record(rtd, &[s]);
    let k = c.closure(sample as *const u8, &[rec]);
    let n = ident::node_entry("192.0.2.9", 1, 5);
    c.list(&[
        Value::fixnum(-5),
        s,
        s,
        big,
        f,
        bv,
        rec,
        k,
        sym("q"),
        Value::char('x'),
        TRUE,
        ident::pid_of(n, 5, 1),
        ident::tag_of(n, 5, 2),
        imm(IMM_PID, 3),
        NULL,
    ])
}

#[test]
fn every_truncation_is_an_error() {
    let mut c = ctx();
    let v = sample(&mut c);
    let bytes = encode(v).unwrap();
    assert!(decode(&bytes).is_ok());
    for cut in 0..bytes.len() {
        assert!(
            decode(&bytes[..cut]).is_err(),
            "a prefix of {cut} bytes decoded"
        );
    }
    let mut long = bytes.clone();
    long.push(0);
    assert_eq!(decode(&long).err(), Some(WireError::Trailing));
}

#[test]
fn random_and_mutated_bytes_never_panic() {
    let mut c = ctx();
    let bytes = encode(sample(&mut c)).unwrap();
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for _ in 0..20_000 {
        let len = (next() % 64) as usize;
        let junk: Vec<u8> = (0..len).map(|_| next() as u8).collect();
        let _ = decode(&junk);
        let mut m = bytes.clone();
        for _ in 0..1 + next() % 4 {
            let i = (next() as usize) % m.len();
            m[i] = next() as u8;
        }
        // Whatever decodes is a value the decoder built (it may be
        // cyclic: not printed).
        let _ = decode(&m);
    }
}

fn message(atoms: &[u8], objects: &[u8], natoms: u64, nobjects: u64, root: u64) -> Vec<u8> {
    let mut b = postcard::to_stdvec(&(VERSION, natoms, nobjects, root)).unwrap();
    b.extend_from_slice(atoms);
    b.extend_from_slice(objects);
    b
}

fn varint(x: u64) -> Vec<u8> {
    let mut v = Vec::new();
    put_varint(&mut v, x);
    v
}

#[test]
fn malformed_inputs_are_refused() {
    use WireError::*;
    let obj0 = object_ref(0);
    // A pair of two fixnums is fine.
    let pair = [
        &[O_PAIR][..],
        &varint(fixnum_ref(1)),
        &varint(fixnum_ref(2)),
    ]
    .concat();
    assert!(decode(&message(&[], &pair, 0, 1, obj0)).is_ok());
    // Another version.
    let mut b = postcard::to_stdvec(&(VERSION + 1, 0u64, 0u64, 0u64)).unwrap();
    assert_eq!(decode(&b).err(), Some(Version(VERSION + 1)));
    b.clear();
    assert_eq!(decode(&b).err(), Some(Envelope));
    // Huge declared counts.
    assert_eq!(
        decode(&message(&[], &pair, 0, 1 << 60, obj0)).err(),
        Some(Envelope)
    );
    assert_eq!(
        decode(&message(&[], &pair, u64::MAX, 1, obj0)).err(),
        Some(Envelope)
    );
    // Huge lengths inside.
    for tag in [O_VECTOR, O_STRING, O_BYTEVECTOR, O_CLOSURE] {
        let o = [
            &[tag][..],
            &[0; 8][..(if tag == O_CLOSURE { 8 } else { 0 })],
            &varint(1 << 40),
            &[1, 1, 1, 1],
        ]
        .concat();
        assert!(decode(&message(&[], &o, 0, 1, obj0)).is_err());
    }
    // Refs out of range: an object, an atom, a constant, a char.
    for bad in [
        object_ref(1),
        object_ref(-1),
        atom_ref(0),
        constant_ref(6),
        char_ref(0xD800),
        char_ref(0x11_0000),
    ] {
        let o = [&[O_PAIR][..], &varint(bad), &varint(fixnum_ref(0))].concat();
        assert_eq!(
            decode(&message(&[], &o, 0, 1, obj0)).err(),
            Some(Ref(5)),
            "{bad:x}"
        );
    }
    assert!(decode(&message(&[], &pair, 0, 1, object_ref(1))).is_err());
    // An unknown tag; an unknown code id.
    assert_eq!(
        decode(&message(&[], &[99, 0, 0], 0, 1, obj0)).err(),
        Some(Tag(4))
    );
    let k = [
        &[O_CLOSURE][..],
        &0xdead_0000_0000_0001u64.to_le_bytes(),
        &[0],
    ]
    .concat();
    assert_eq!(
        decode(&message(&[], &k, 0, 1, obj0)).err(),
        Some(UnknownCode(0xdead_0000_0000_0001))
    );
    // Bad code points, bad UTF-8, non-canonical bignums.
    let s = [&[O_STRING, 1, 4][..], &0xD800u32.to_le_bytes()].concat();
    assert_eq!(decode(&message(&[], &s, 0, 1, obj0)).err(), Some(Text(4)));
    let s = [O_STRING, 1, 2, 0];
    assert!(decode(&message(&[], &s, 0, 1, obj0)).is_err());
    let a = [A_SYMBOL, 2, 0xff, 0xfe];
    assert_eq!(
        decode(&message(&a, &[], 1, 0, atom_ref(0))).err(),
        Some(Text(5))
    );
    for (sign, limbs) in [
        (0u8, vec![5u64]),
        (1, vec![1 << 62]),
        (0, vec![1, 0]),
        (2, vec![1, 1]),
        (0, vec![]),
    ] {
        let mut o = vec![O_BIGNUM, sign];
        o.extend(varint(limbs.len() as u64));
        for l in &limbs {
            o.extend(l.to_le_bytes());
        }
        assert_eq!(
            decode(&message(&[], &o, 0, 1, obj0)).err(),
            Some(Number(4)),
            "{limbs:?}"
        );
    }
    // A record whose type is not a record type, or of the wrong length.
    let a = [
        &[A_SYMBOL, 1, b't', A_SYMBOL, 1, b'f', A_RECORD_TYPE, 0, 1, 1][..],
        &varint(zigzag(0)),
    ]
    .concat();
    let rec = |t: u64, n: u64| {
        [
            &[O_RECORD][..],
            &varint(t),
            &varint(n),
            &vec![0u8; n as usize],
        ]
        .concat()
    };
    assert!(decode(&message(&a, &rec(atom_ref(2), 1), 3, 1, obj0)).is_ok());
    assert_eq!(
        decode(&message(&a, &rec(atom_ref(2), 2), 3, 1, obj0)).err(),
        Some(Record(15))
    );
    assert!(decode(&message(&a, &rec(atom_ref(0), 1), 3, 1, obj0)).is_err());
    assert!(decode(&message(&a, &rec(fixnum_ref(0), 1), 3, 1, obj0)).is_err());
    // A pid naming an atom that is no node; a pid word too wide; a port over 65535.
    let a = [A_SYMBOL, 1, b'n', A_PID, 0, 1, 1];
    assert_eq!(
        decode(&message(&a, &[], 2, 0, atom_ref(1))).err(),
        Some(Ref(4 + 3))
    );
    let a = [&[A_NODE, 0, 1, 1, A_PID, 0, 1][..], &varint(1 << 56)].concat();
    assert_eq!(
        decode(&message(&a, &[], 2, 0, atom_ref(1))).err(),
        Some(Identity(8))
    );
    let a = [&[A_NODE, 0][..], &varint(65536), &[1]].concat();
    assert_eq!(
        decode(&message(&a, &[], 1, 0, atom_ref(0))).err(),
        Some(Identity(4))
    );
    // An overlong varint.
    let o = [&[O_PAIR][..], &[0xff; 10], &[0]].concat();
    assert!(decode(&message(&[], &o, 0, 1, obj0)).is_err());
}

#[test]
fn what_cannot_travel_is_refused_and_leaves_the_value_intact() {
    let mut c = ctx();
    let l = c.list(&[Value::fixnum(1), UNBOUND]);
    let outer = c.cons(l, l);
    assert_eq!(
        encode(outer).err(),
        Some(WireError::Unencodable("an internal marker"))
    );
    assert_eq!(outer.car(), l);
    assert!(l.is_pair() && l.car() == Value::fixnum(1));
    assert_eq!(
        encode(EXCEPTION).err(),
        Some(WireError::Unencodable("an internal marker"))
    );
    let k = c.closure(0x10 as *const u8, &[]);
    assert!(matches!(encode(k), Err(WireError::NoCodeId(_))));
}

/// `cargo test --release -p termite-runtime wire::tests::speed -- --ignored --nocapture`
#[test]
#[ignore]
fn speed() {
    let mut c = ctx();
    // The first run touches fresh memory (the kernel zeroes every page: on
    // this machine that dominates); later runs reuse the thread's pooled
    // blocks, as a receiver does in a steady state. Both are printed.
    let time = |what: &str, bytes: usize, f: &mut dyn FnMut()| {
        let mut runs = Vec::new();
        for _ in 0..3 {
            let t = std::time::Instant::now();
            f();
            runs.push(t.elapsed().as_secs_f64());
        }
        let mb = |s: f64| bytes as f64 / s / 1e6;
        let best = runs.iter().cloned().fold(f64::INFINITY, f64::min);
        println!(
            "{what}: {:.0} MB/s warm, {:.0} MB/s first run ({:.1} MB)",
            mb(best),
            mb(runs[0]),
            bytes as f64 / 1e6
        );
    };
    let n = 10_000_000;
    let mut l = NULL;
    for i in (0..n).rev() {
        l = c.cons(Value::fixnum(i & 0xffff), l);
    }
    let heap = 24 * n as usize;
    let mut enc = Encoder::new();
    let mut out = Vec::new();
    enc.encode_into(l, &mut out).unwrap();
    out.clear();
    time("encode 10M-element list (heap bytes)", heap, &mut || {
        out.clear();
        enc.encode_into(l, &mut out).unwrap()
    });
    println!("  wire size {:.1} MB", out.len() as f64 / 1e6);
    time("decode 10M-element list (heap bytes)", heap, &mut || {
        drop(decode(&out).unwrap())
    });
    let text = "a".repeat(100_000_000);
    let s = c.string(&text);
    let mut out = Vec::new();
    time(
        "encode 100M-char string (wire bytes)",
        100_000_000,
        &mut || {
            out.clear();
            enc.encode_into(s, &mut out).unwrap()
        },
    );
    time(
        "decode 100M-char string (wire bytes)",
        100_000_000,
        &mut || drop(decode(&out).unwrap()),
    );
    let text: String = "λ".repeat(25_000_000);
    let s = c.string(&text);
    let mut out = Vec::new();
    time(
        "encode 25M-char non-Latin-1 string (100 MB wire)",
        100_000_000,
        &mut || {
            out.clear();
            enc.encode_into(s, &mut out).unwrap()
        },
    );
    time(
        "decode 25M-char non-Latin-1 string (100 MB wire)",
        100_000_000,
        &mut || drop(decode(&out).unwrap()),
    );
}
