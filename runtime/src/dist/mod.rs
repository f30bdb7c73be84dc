//! Remote operations: the glue between processes and the network layer
//! (ARCHITECTURE.md, "Remote operations"). The network layer
//! (`crate::node`) carries bytes between peers; the wire format
//! (`crate::wire`) turns values into bytes and back; this module says what
//! the frames mean to processes.
//!
//! Frames (the kind byte of a network-layer message):
//!
//! - `MSG`: `incarnation: u64 LE | pid word: u64 LE | wire value`, a
//!   message for a process of this node. It goes through the process's
//!   inbox like a local send; a frame naming another incarnation of this
//!   node, or a process that is gone, is dropped.
//! - `AGENT`: `wire value`, a request `(from tag request)` for this node's
//!   agent, the Scheme process that spawns and looks names up for other
//!   nodes (stdlib/termite.scm, `%node-agent`).
//!
//! - `LINK`: `incarnation | pid word | wire pid`: the pid (of the sender's
//!   node, or of a third) asks to be told of the death of the process
//!   named by the header; `noproc` back (an EXIT) if it is gone.
//! - `WATCH`: `incarnation | pid word | wire pid`: the process named by the
//!   header is now in the links of the wire pid, a process of the sender's
//!   node; if that node goes down, the watcher gets `(node-down NODE)`.
//! - `EXIT`: `incarnation | pid word | from: u64 LE | wire reason`: the
//!   sender's process `from`, linked to the one named by the header, died
//!   of `reason`.
//!
//! A process waiting for the answer of another node registers the tag of
//! its request under that node (`%watch-node`); if the node goes down,
//! the bare tag is delivered to it, so that the wait ends (`!?` as by its
//! timeout, `remote-spawn` and `on` with `(node-down NODE)`).

use crate::ctx::Ctx;
use crate::ident;
use crate::node::{self, DownReason, NodeConfig, NodeHandle, Sink};
use crate::process::{Kind, Message};
use crate::value::*;
use std::collections::HashMap;
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::{Arc, Mutex, OnceLock};

pub const MSG: u8 = 1;
pub const AGENT: u8 = 2;
pub const LINK: u8 = 3;
pub const WATCH: u8 = 4;
pub const EXIT: u8 = 5;

/// The peers this node knows, and who waits on which.
#[derive(Default)]
pub(crate) struct State {
    /// Node-table entry -> the network layer's key of that peer.
    addr_of: HashMap<u32, SocketAddr>,
    /// And back.
    entry_of: HashMap<SocketAddr, u32>,
    /// Requests waiting on a node: (process, tag of the request).
    pub(crate) pending: HashMap<u32, Vec<(u64, Value)>>,
    /// The agent process of this node.
    pub(crate) agent: Option<u64>,
    /// Per node: (local process, process of that node it is linked to).
    watches: HashMap<u32, Vec<(u64, Value)>>,
    /// Per node: the exit value `(node-down NODE)` (static).
    down_values: HashMap<u32, Value>,
}

static STATE: Mutex<Option<State>> = Mutex::new(None);
static HANDLE: OnceLock<Result<NodeHandle, String>> = OnceLock::new();

pub(crate) fn with_state<R>(f: impl FnOnce(&mut State) -> R) -> R {
    let mut g = STATE.lock().unwrap_or_else(|e| e.into_inner());
    f(g.get_or_insert_with(State::default))
}

/// At the start of a program: this node's address and the remote send.
/// A node given `--node` starts listening now; one without starts its
/// network layer when it first talks to another node.
pub fn init() -> Result<(), String> {
    let opts = node::options::get();
    if let Some(a) = &opts.node {
        ident::set_self_address(&a.host, a.port);
    }
    ident::set_remote_send(remote_send);
    if opts.node.is_some() {
        handle()?;
    }
    Ok(())
}

/// The network layer, started on first use.
fn handle() -> Result<&'static NodeHandle, String> {
    HANDLE
        .get_or_init(|| {
            let opts = node::options::get();
            let cookie = node::cookie::resolve(opts.cookie.as_deref())?;
            let mut c = NodeConfig::new(
                cookie,
                ident::self_incarnation(),
                crate::program_state::program_identity(),
            );
            c.listen = opts.node.as_ref().map(|a| a.addr);
            c.heartbeat_timeout = opts.heartbeat_timeout;
            c.handshake_timeout = opts.heartbeat_timeout;
            node::Node::start(c, Arc::new(Glue)).map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| e.clone())
}

/// The network layer's key of node-table entry `entry`.
fn peer_addr(entry: u32) -> Option<SocketAddr> {
    if let Some(a) = with_state(|s| s.addr_of.get(&entry).copied()) {
        return Some(a);
    }
    let e = ident::entry(entry)?;
    if e.port == 0 {
        // A node that listens nowhere is reached only over the
        // connection it made (known once it is up).
        return None;
    }
    let a = (&*e.host, e.port).to_socket_addrs().ok()?.next()?;
    with_state(|s| {
        s.addr_of.insert(entry, a);
        s.entry_of.insert(a, entry);
    });
    Some(a)
}

/// Sends a frame to node-table entry `entry`; `Err` with a message the
/// caller raises. A node that cannot be reached is no error: the frame is
/// dropped (and waiting requests end when the layer reports it down).
pub(crate) fn send_frame(
    ctx: &mut Ctx,
    entry: u32,
    kind: u8,
    payload: Vec<u8>,
) -> Result<(), String> {
    send_frame_on(ctx.self_pid.0, entry, kind, payload)
}

/// `send_frame` on lane `lane` (one lane per sending process keeps its
/// frames in order).
fn send_frame_on(lane: u64, entry: u32, kind: u8, payload: Vec<u8>) -> Result<(), String> {
    let h = handle()?;
    let Some(addr) = peer_addr(entry) else {
        node_down(entry);
        return Ok(());
    };
    match h.send(addr, lane, kind, payload) {
        Ok(_) => Ok(()),
        Err(node::SendError::TooLarge(n)) => Err(format!("a message of {n} bytes is too large")),
        // A peer that does not read: the message is lost, as it would be
        // to a node that is down.
        Err(_) => Ok(()),
    }
}

pub(crate) fn raise(ctx: &mut Ctx, who: &str, why: &str) -> Value {
    ctx.raise_error(&format!("{who}: {why}"), &[])
}

/// The payload of a frame for the process `to` (a pid of another node):
/// the header `incarnation | pid word`, then the words of `extra`, then `v`
/// in the wire format. Answers the node-table entry to send it to.
fn addressed(to: Value, extra: &[u64], v: Value) -> Result<(u32, Vec<u8>), String> {
    let (entry, incarnation, word) = ident::parts(to).ok_or("not a pid")?;
    let mut payload = Vec::with_capacity(64);
    for w in [incarnation, word].iter().chain(extra) {
        payload.extend_from_slice(&w.to_le_bytes());
    }
    encode_after(v, &mut payload)?;
    Ok((entry, payload))
}

/// Appends `v` in the wire format to `out`. (A fresh encoder each time:
/// one kept per thread would keep the tables of its largest message.)
pub(crate) fn encode_after(v: Value, out: &mut Vec<u8>) -> Result<(), String> {
    crate::wire::Encoder::new()
        .encode_into(v, out)
        .map_err(|e| format!("cannot travel: {e}"))
}

/// Sends `v` to the process `to` of another node in a frame of `kind`;
/// what cannot be sent is raised as an error of `who`.
fn send_to(ctx: &mut Ctx, who: &str, kind: u8, to: Value, v: Value) -> Value {
    match addressed(to, &[], v).and_then(|(entry, payload)| send_frame(ctx, entry, kind, payload)) {
        Ok(()) => UNSPECIFIED,
        Err(e) => raise(ctx, who, &e),
    }
}

/// The header of a frame for a process of this node: its incarnation,
/// the pid word and the rest, or `None` if the frame is too short.
fn split_header(payload: &[u8]) -> Option<(u64, u64, &[u8])> {
    let (incarnation, rest) = payload.split_first_chunk::<8>()?;
    let (word, rest) = rest.split_first_chunk::<8>()?;
    Some((
        u64::from_le_bytes(*incarnation),
        u64::from_le_bytes(*word),
        rest,
    ))
}

/// `(%link from to)` where either pid is of another node: `from`'s death
/// is to be raised in `to` (ARCHITECTURE.md, "Who watches whom").
pub fn link(ctx: &mut Ctx, from: Value, to: Value) -> Value {
    let me = ctx.self_pid;
    if !ident::is_local_pid(from) {
        // `from`'s node keeps the link; if `to` is ours, we also watch
        // `from`'s node.
        if ident::is_local_pid(to)
            && let Some((entry, _, _)) = ident::parts(from)
        {
            with_state(|s| {
                s.watches
                    .entry(entry)
                    .or_default()
                    .push((to.imm_payload(), from))
            });
        }
        return send_to(ctx, "link", LINK, from, to);
    }
    // `from` is ours, `to` another node's: `to`'s node must watch us.
    if from == me {
        if let Some(p) = ctx.current.as_deref() {
            // SAFETY: this thread runs the current process.
            unsafe { p.inner() }.add_link_value(to);
        }
    } else {
        let m = Message {
            mem: crate::heap::MessageMem::None,
            value: to,
            kind: Kind::Link,
        };
        if !crate::sched::node().deliver(from.imm_payload(), m) {
            send_exit(
                from.imm_payload(),
                to,
                Value::symbol(crate::symbols::intern("noproc")),
            );
            return UNSPECIFIED;
        }
    }
    send_to(ctx, "link", WATCH, to, from)
}

/// The process `from` (of this node) died of `reason`: tell `to`, a
/// process of another node linked to it. Runs on `from`'s thread (the
/// encoder reads `reason` in its heap).
pub fn send_exit(from: u64, to: Value, reason: Value) {
    match addressed(to, &[from], reason) {
        Ok((entry, payload)) => {
            let _ = send_frame_on(crate::process::pid_value(from).0, entry, EXIT, payload);
        }
        Err(e) => eprintln!("termite: the exception of process {from} {e}: its link is not told"),
    }
}

/// `(! pid msg)` for a pid of another node.
fn remote_send(ctx: &mut Ctx, to: Value, msg: Value) -> Value {
    send_to(ctx, "!", MSG, to, msg)
}

/// The network layer's events.
struct Glue;

impl Glue {
    fn entry_of(peer: SocketAddr) -> Option<u32> {
        with_state(|s| s.entry_of.get(&peer).copied())
    }

    /// LINK, WATCH and EXIT: signals between processes of two nodes.
    fn link_frame(&self, peer: SocketAddr, kind: u8, word: u64, rest: &[u8]) {
        let Some(peer_entry) = Glue::entry_of(peer) else {
            return;
        };
        let node = crate::sched::node();
        if kind == EXIT {
            let Some((from_word, rest)) = rest.split_first_chunk::<8>() else {
                return self.log(&format!("termite: node {peer}: a truncated EXIT, dropped"));
            };
            let from_word = u64::from_le_bytes(*from_word);
            let inc = ident::entry(peer_entry).map_or(0, |e| {
                e.incarnation.load(std::sync::atomic::Ordering::Acquire)
            });
            let from = ident::pid_of(peer_entry, inc, from_word);
            with_state(|s| {
                if let Some(w) = s.watches.get_mut(&peer_entry) {
                    w.retain(|&(p, t)| !(p == word && t == from));
                }
            });
            // The exception may be large: its receiver decodes it.
            node.deliver(word, raw(rest, Kind::Exit));
            return;
        }
        // A pid: small, decoded here.
        let (mem, value) = match crate::wire::decode(rest) {
            Ok(x) => x,
            Err(e) => {
                return self.log(&format!(
                    "termite: node {peer}: a bad link signal ({e}), dropped"
                ));
            }
        };
        match kind {
            LINK if ident::is_pid(value) => {
                let m = Message {
                    mem,
                    value,
                    kind: Kind::Link,
                };
                if !node.deliver(word, m) && !ident::is_local_pid(value) {
                    send_exit(word, value, Value::symbol(crate::symbols::intern("noproc")));
                }
            }
            WATCH if ident::is_remote_pid(value) => {
                if let Some((entry, _, _)) = ident::parts(value) {
                    with_state(|s| s.watches.entry(entry).or_default().push((word, value)));
                }
            }
            _ => self.log(&format!(
                "termite: node {peer}: a link signal without a pid, dropped"
            )),
        }
    }
}

impl Sink for Glue {
    fn peer_up(&self, peer: SocketAddr, incarnation: u64, listen: Option<SocketAddr>) {
        let entry = match listen {
            Some(l) => ident::node_entry(&l.ip().to_string(), l.port(), incarnation),
            None => ident::node_entry("", 0, incarnation),
        };
        ident::set_incarnation(entry, incarnation);
        with_state(|s| {
            s.addr_of.insert(entry, peer);
            s.entry_of.insert(peer, entry);
        });
    }

    fn frame(&self, peer: SocketAddr, kind: u8, payload: &[u8]) {
        match kind {
            MSG | LINK | WATCH | EXIT => {
                let Some((incarnation, word, rest)) = split_header(payload) else {
                    return self.log(&format!("termite: node {peer}: a truncated frame, dropped"));
                };
                // A frame for another incarnation of this node: its
                // process is gone.
                if incarnation != ident::self_incarnation() {
                    return;
                }
                if kind == MSG {
                    crate::sched::node().deliver(word, raw(rest, Kind::Message));
                } else {
                    self.link_frame(peer, kind, word, rest);
                }
            }
            AGENT => {
                let Some(agent) = with_state(|s| s.agent) else {
                    return;
                };
                crate::sched::node().deliver(agent, raw(payload, Kind::Message));
            }
            _ => self.log(&format!(
                "termite: node {peer}: a frame of unknown kind {kind}, dropped"
            )),
        }
    }

    fn peer_down(&self, peer: SocketAddr, _incarnation: Option<u64>, _reason: &DownReason) {
        if let Some(entry) = Glue::entry_of(peer) {
            node_down(entry);
        }
    }
}

/// A signal whose value is still in the wire format (`MessageMem::Wire`).
fn raw(bytes: &[u8], kind: Kind) -> Message {
    Message {
        mem: crate::heap::MessageMem::Wire(Box::new(bytes.to_vec())),
        value: UNSPECIFIED,
        kind,
    }
}

/// A signal as its receiver takes it: one from another node decoded (and
/// validated) into message memory, or `None` if it is malformed (logged
/// and dropped: a bad message loses nothing but itself). Runs on the
/// receiver's thread.
pub fn decoded(m: Message) -> Option<Message> {
    let crate::heap::MessageMem::Wire(bytes) = m.mem else {
        return Some(m);
    };
    match crate::wire::decode(&bytes) {
        Ok((mem, value)) => Some(Message {
            mem,
            value,
            kind: m.kind,
        }),
        Err(e) => {
            eprintln!("termite: a message from another node is malformed ({e}): dropped");
            None
        }
    }
}

/// Node-table entry `entry` is down: every request waiting on it gets its
/// bare tag.
fn node_down(entry: u32) {
    let (waiting, watching) = with_state(|s| (s.pending.remove(&entry), s.watches.remove(&entry)));
    for (pid, tag) in waiting.unwrap_or_default() {
        crate::sched::node().deliver(pid, Message::immediate(tag, Kind::Message));
    }
    let watching = watching.unwrap_or_default();
    if watching.is_empty() {
        return;
    }
    let down = down_value(entry);
    let mut told = Vec::new();
    for (pid, _) in watching {
        if !told.contains(&pid) {
            told.push(pid);
            let m = Message {
                mem: crate::heap::MessageMem::None,
                value: down,
                kind: Kind::Exit,
            };
            crate::sched::node().deliver(pid, m);
        }
    }
}

/// `(node-down NODE)` for node-table entry `entry`: a static list, made
/// once per node.
fn down_value(entry: u32) -> Value {
    if let Some(v) = with_state(|s| s.down_values.get(&entry).copied()) {
        return v;
    }
    let static_pair = |car: Value, cdr: Value| ident::static_object(T_PAIR, &[car.0, cdr.0]);
    let tail = static_pair(ident::node_value(entry), NULL);
    let v = static_pair(Value::symbol(crate::symbols::intern("node-down")), tail);
    with_state(|s| *s.down_values.entry(entry).or_insert(v))
}
