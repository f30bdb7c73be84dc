//! Identity of nodes, and of the pids and tags of other nodes (see
//! ARCHITECTURE.md, "Nodes — Identity").
//!
//! The **node table** is runtime-wide and append-only: one entry per node
//! this node has heard of, entry 0 being this node. A node value is a
//! static object (`T_NODE`) made once per entry, so `(make-node h p)` twice
//! gives `eq?` objects. A node that listens nowhere (port 0: started
//! without `--node`) has no address to be known by, so entries of port 0
//! are told apart by their incarnation.
//!
//! Local pids and tags stay immediates (`IMM_PID`, `IMM_TAG`): nothing here
//! is on the path of a local send. A pid or tag of another node (or of an
//! earlier incarnation of this one) is a static object (`T_RPID`,
//! `T_RTAG`) interned by (entry, incarnation, word), so the same remote pid
//! decoded twice is `eq?`, and `eqv?`/`equal?` need nothing of their own.
//! Interned objects are never freed (a known limit: a node that hears of
//! many short-lived remote processes grows by 48 bytes for each).

use crate::ctx::Ctx;
use crate::heap::statics;
use crate::value::*;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, RwLock};

/// An entry of the node table.
pub struct NodeEntry {
    pub host: Arc<str>,
    pub port: u16,
    /// The incarnation last learnt for the node (0: not known yet; the
    /// handshake sets it with `set_incarnation`).
    pub incarnation: AtomicU64,
    /// The node's value (a static `T_NODE` object).
    pub value: Value,
}

/// How entries are found: by address, and for port 0 by incarnation too.
type Key = (Arc<str>, u16, u64);

fn key(host: &str, port: u16, incarnation: u64) -> Key {
    (
        Arc::from(host),
        port,
        if port == 0 { incarnation } else { 0 },
    )
}

#[derive(Default)]
struct Table {
    entries: Vec<Arc<NodeEntry>>,
    by_key: HashMap<Key, u32>,
    pids: HashMap<(u32, u64, u64), Value>,
    tags: HashMap<(u32, u64, u64), Value>,
}

static TABLE: RwLock<Option<Table>> = RwLock::new(None);
static INCARNATION: OnceLock<u64> = OnceLock::new();

/// This node's incarnation: 64 random bits (never 0) drawn once, when the
/// node first needs it (at its start).
pub fn self_incarnation() -> u64 {
    *INCARNATION.get_or_init(|| {
        let mut b = [0u8; 8];
        let ok = std::fs::File::open("/dev/urandom")
            .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut b))
            .is_ok();
        let mut x = u64::from_le_bytes(b);
        if !ok {
            // No /dev/urandom: the clock and the process id, mixed.
            let t = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos() as u64);
            x = (t ^ (u64::from(std::process::id()) << 32)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
        x.max(1)
    })
}

/// A static string object holding `s`.
fn static_string(s: &str) -> Value {
    let chars: Vec<u32> = s.chars().map(|c| c as u32).collect();
    let payload = chars.len().div_ceil(2).max(1);
    let p = statics::alloc(1 + payload);
    let v = Value::from_addr(p);
    v.set_word(0, header(T_STRING, chars.len() as u64, F_STATIC));
    v.set_word(payload, 0);
    // SAFETY: the payload has room for `len` u32s; nobody sees it yet.
    unsafe { std::ptr::copy_nonoverlapping(chars.as_ptr(), p.add(1) as *mut u32, chars.len()) };
    v
}

/// A static object of type `ty` with `words` after its header.
pub(crate) fn static_object(ty: u64, words: &[u64]) -> Value {
    let p = statics::alloc(1 + words.len());
    let v = Value::from_addr(p);
    v.set_word(0, header(ty, words.len() as u64, F_STATIC));
    v.set_words(1, words);
    v
}

fn new_entry(t: &mut Table, host: &str, port: u16, incarnation: u64) -> u32 {
    let index = t.entries.len() as u32;
    let value = static_object(
        T_NODE,
        &[
            index as u64,
            static_string(host).0,
            Value::fixnum(port as i64).0,
        ],
    );
    t.entries.push(Arc::new(NodeEntry {
        host: Arc::from(host),
        port,
        incarnation: AtomicU64::new(incarnation),
        value,
    }));
    t.by_key.insert(key(host, port, incarnation), index);
    index
}

fn with_table<R>(f: impl FnOnce(&Table) -> R) -> R {
    {
        let g = TABLE.read().unwrap_or_else(|e| e.into_inner());
        if let Some(t) = g.as_ref() {
            return f(t);
        }
    }
    with_table_mut(|t| f(t))
}

fn with_table_mut<R>(f: impl FnOnce(&mut Table) -> R) -> R {
    let mut g = TABLE.write().unwrap_or_else(|e| e.into_inner());
    let t = g.get_or_insert_with(|| {
        let mut t = Table::default();
        new_entry(&mut t, "", 0, self_incarnation());
        t
    });
    f(t)
}

/// Sets this node's address (from `--node HOST:PORT`). Called once, before
/// the program runs: node values made before keep the old address.
pub fn set_self_address(host: &str, port: u16) {
    with_table_mut(|t| {
        let old = t.entries[0].clone();
        t.by_key
            .remove(&key(&old.host, old.port, self_incarnation()));
        let value = static_object(
            T_NODE,
            &[0, static_string(host).0, Value::fixnum(port as i64).0],
        );
        t.entries[0] = Arc::new(NodeEntry {
            host: Arc::from(host),
            port,
            incarnation: AtomicU64::new(self_incarnation()),
            value,
        });
        t.by_key.insert(key(host, port, self_incarnation()), 0);
    });
}

/// The entry of the node at `host:port` (for port 0: of that incarnation),
/// made if it is new. `incarnation` 0 means not known; it is recorded only
/// in a new entry (the handshake updates a known one).
pub fn node_entry(host: &str, port: u16, incarnation: u64) -> u32 {
    let k = key(host, port, incarnation);
    if let Some(i) = with_table(|t| t.by_key.get(&k).copied()) {
        return i;
    }
    with_table_mut(|t| match t.by_key.get(&k) {
        Some(i) => *i,
        None => new_entry(t, host, port, incarnation),
    })
}

/// The entry `i` of the node table, if there is one.
pub fn entry(i: u32) -> Option<Arc<NodeEntry>> {
    with_table(|t| t.entries.get(i as usize).cloned())
}

/// How many entries the node table has.
pub fn entry_count() -> u32 {
    with_table(|t| t.entries.len() as u32)
}

/// Records the incarnation a handshake learnt for entry `i`.
pub fn set_incarnation(i: u32, incarnation: u64) {
    if let Some(e) = entry(i) {
        e.incarnation.store(incarnation, Ordering::Release);
    }
}

/// The value of node-table entry `i` (`#f` if there is none).
pub fn node_value(i: u32) -> Value {
    entry(i).map_or(FALSE, |e| e.value)
}

/// `(current-node)`.
pub fn current_node() -> Value {
    node_value(0)
}

pub fn is_node(v: Value) -> bool {
    v.has_type(T_NODE)
}

/// The node-table entry of a node value.
pub fn node_index(node: Value) -> Option<u32> {
    is_node(node).then(|| node.word(1) as u32)
}

/// The host of a node value (a static string).
pub fn node_host(node: Value) -> Value {
    node.field(2)
}

/// The port of a node value (a fixnum).
pub fn node_port(node: Value) -> Value {
    node.field(3)
}

/// A pid of node-table entry `node`, incarnation `incarnation`, whose word
/// on its node is `word` (an `IMM_PID` payload there): this node's own
/// immediate when it names this incarnation of this node, else the
/// interned remote pid. `word` must fit an immediate's 56 bits.
pub fn pid_of(node: u32, incarnation: u64, word: u64) -> Value {
    debug_assert!(word < 1 << 56);
    if node == 0 && incarnation == self_incarnation() {
        return imm(IMM_PID, word);
    }
    intern_remote(node, incarnation, word, true)
}

/// A tag, like `pid_of`.
pub fn tag_of(node: u32, incarnation: u64, word: u64) -> Value {
    debug_assert!(word < 1 << 56);
    if node == 0 && incarnation == self_incarnation() {
        return imm(IMM_TAG, word);
    }
    intern_remote(node, incarnation, word, false)
}

fn intern_remote(node: u32, incarnation: u64, word: u64, pid: bool) -> Value {
    let k = (node, incarnation, word);
    let found = with_table(|t| if pid { t.pids.get(&k) } else { t.tags.get(&k) }.copied());
    if let Some(v) = found {
        return v;
    }
    with_table_mut(|t| {
        let map = if pid { &mut t.pids } else { &mut t.tags };
        *map.entry(k).or_insert_with(|| {
            if pid {
                // Then the location (issue 9): 0 while the process is
                // not here; and the moved counter (`moved`).
                static_object(T_RPID, &[node as u64, incarnation, word, 0, 0])
            } else {
                static_object(T_RTAG, &[node as u64, incarnation, word])
            }
        })
    })
}

pub fn is_local_pid(v: Value) -> bool {
    v.is_imm() && v.imm_kind() == IMM_PID
}

pub fn is_remote_pid(v: Value) -> bool {
    v.has_type(T_RPID)
}

/// `pid?`: a pid of this node or of another.
pub fn is_pid(v: Value) -> bool {
    is_local_pid(v) || is_remote_pid(v)
}

pub fn is_tag(v: Value) -> bool {
    (v.is_imm() && v.imm_kind() == IMM_TAG) || v.has_type(T_RTAG)
}

/// (node entry, incarnation, word on its node) of any pid or tag.
pub fn parts(v: Value) -> Option<(u32, u64, u64)> {
    if v.is_imm() && matches!(v.imm_kind(), IMM_PID | IMM_TAG) {
        Some((0, self_incarnation(), v.imm_payload()))
    } else if v.has_type(T_RPID) || v.has_type(T_RTAG) {
        Some((v.word(1) as u32, v.word(2), v.word(3)))
    } else {
        None
    }
}

/// The location word of a remote pid (issue 9: where a process that
/// migrated here runs; 0 while it is not here).
pub fn location(v: Value) -> Option<&'static AtomicU64> {
    if !is_remote_pid(v) {
        return None;
    }
    // SAFETY: word 4 of a remote pid is its location, 8-aligned; static
    // objects are never freed or moved.
    Some(unsafe { AtomicU64::from_ptr(v.addr().add(4)) })
}

/// The moved counter of a remote pid: bumped each time a node that
/// forwarded a message of this node for it says it moved
/// (`dist::routes`); 0 while it never did.
pub fn moved(v: Value) -> Option<&'static AtomicU64> {
    if !is_remote_pid(v) {
        return None;
    }
    // SAFETY: word 5 of a remote pid is its moved counter, 8-aligned;
    // static objects are never freed or moved.
    Some(unsafe { AtomicU64::from_ptr(v.addr().add(5)) })
}

/// `(pid-node pid)`: the node value of a pid (local or remote).
pub fn pid_node(v: Value) -> Option<Value> {
    if is_local_pid(v) {
        Some(current_node())
    } else if is_remote_pid(v) {
        Some(node_value(v.word(1) as u32))
    } else {
        None
    }
}

/// What `!` does with a remote pid: set by the network layer. Called on the
/// sender's thread, with the message in the sender's heap (valid for the
/// call only: the hook must copy or encode it before it returns).
pub type RemoteSend = fn(&mut Ctx, Value, Value) -> Value;

static REMOTE_SEND: OnceLock<RemoteSend> = OnceLock::new();
static DROPPED: AtomicU64 = AtomicU64::new(0);

/// Installs the network layer's remote send (once; later calls are ignored).
pub fn set_remote_send(f: RemoteSend) {
    let _ = REMOTE_SEND.set(f);
}

/// `(! remote-pid msg)`: the network layer's send, or, until one is
/// installed, the message is dropped (as for a node that is down: `!`
/// never raises) and counted.
pub fn remote_send(ctx: &mut Ctx, to: Value, msg: Value) -> Value {
    match REMOTE_SEND.get() {
        Some(f) => f(ctx, to, msg),
        None => {
            DROPPED.fetch_add(1, Ordering::Relaxed);
            UNSPECIFIED
        }
    }
}

/// Messages to remote pids dropped for want of a network layer.
pub fn dropped_remote_sends() -> u64 {
    DROPPED.load(Ordering::Relaxed)
}

/// The printed form of a node's address: `host:port`, `[host]:port` for an
/// IPv6 host, `hidden/INCARNATION` (hex) for a node of port 0.
pub fn address_text(i: u32) -> String {
    match entry(i) {
        None => "?".into(),
        Some(e) if e.port == 0 => {
            format!("hidden/{:x}", e.incarnation.load(Ordering::Acquire))
        }
        Some(e) if e.host.contains(':') => format!("[{}]:{}", e.host, e.port),
        Some(e) => format!("{}:{}", e.host, e.port),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nodes_are_interned_by_address() {
        let a = node_value(node_entry("10.0.0.1", 4000, 0));
        let b = node_value(node_entry("10.0.0.1", 4000, 77));
        assert_eq!(a, b);
        assert_ne!(a, node_value(node_entry("10.0.0.1", 4001, 0)));
        assert_eq!(node_host(a).string(), "10.0.0.1");
        assert_eq!(node_port(a).as_fixnum(), 4000);
        // Port 0: told apart by incarnation.
        let h1 = node_entry("", 0, 5);
        let h2 = node_entry("", 0, 6);
        assert_ne!(h1, h2);
        assert_ne!(h1, 0);
    }

    #[test]
    fn remote_pids_are_interned_and_local_ones_immediate() {
        let n = node_entry("10.0.0.2", 4000, 9);
        let p = pid_of(n, 9, 42);
        assert!(is_remote_pid(p) && is_pid(p));
        assert_eq!(p, pid_of(n, 9, 42));
        assert_ne!(p, pid_of(n, 10, 42));
        assert_eq!(parts(p), Some((n, 9, 42)));
        assert_eq!(pid_node(p), Some(node_value(n)));
        assert_eq!(location(p).map(|l| l.load(Ordering::Relaxed)), Some(0));
        let local = pid_of(0, self_incarnation(), 42);
        assert_eq!(local, imm(IMM_PID, 42));
        // An earlier incarnation of this node: not this node's process.
        assert!(is_remote_pid(pid_of(0, self_incarnation() ^ 1, 42)));
        let t = tag_of(n, 9, 3);
        assert!(is_tag(t) && !is_pid(t));
        assert_eq!(t, tag_of(n, 9, 3));
        assert_eq!(tag_of(0, self_incarnation(), 3), imm(IMM_TAG, 3));
    }

    #[test]
    fn remote_values_print_with_their_node() {
        let n = node_entry("10.0.0.3", 4000, 9);
        let w = |v| crate::print::write_string(v);
        assert_eq!(w(node_value(n)), "#<node 10.0.0.3:4000>");
        assert_eq!(w(pid_of(n, 9, 5)), "#<pid 5@10.0.0.3:4000>");
        assert_eq!(w(pid_of(n, 9, 5 | 2 << 32)), "#<pid 5.2@10.0.0.3:4000>");
        assert_eq!(w(tag_of(n, 9, 7)), "#<tag 7@10.0.0.3:4000>");
        let h = node_entry("", 0, 0xab);
        assert_eq!(w(node_value(h)), "#<node hidden/ab>");
    }
}
