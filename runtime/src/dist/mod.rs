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
//! - `EXIT`: `incarnation | pid word | from | wire reason`: the process
//!   `from` (a length-prefixed wire pid: `migrate::put_pid`), running on
//!   the sender's node and linked to the one named by the header, died of
//!   `reason`.
//! - `UNWATCH`: `incarnation | pid word | from`: the process `from`,
//!   linked to the one named by the header, ended normally: the watch of
//!   that link goes.
//! - `MIGRATE`, `MIGRATED`, `FWD`, `FORGET`: migration (`migrate`;
//!   docs/distribution.md).
//! - `MOVED`, `MARKER`, `ROUTED`: senders that learn where a migrated
//!   process runs (`routes`).
//!
//! A process waiting for the answer of another node registers the tag of
//! its request under that node (`%watch-node`), for any incarnation of it
//! (a request to its agent) or for one (a request to one of its
//! processes). The bare tag is delivered to it, so that the wait ends
//! (`!?` as by its timeout, `remote-spawn` and `on` with
//! `(node-down NODE)`), when the node goes down, when another incarnation
//! comes up in its place, or at once if that is already so. Every
//! registration is thus answered: a send to a node that is not up makes
//! the network layer connect, and the attempt ends in `peer_up` or
//! `peer_down`; a send that cannot be queued is retried by the sender
//! (`Sent::Full`), never dropped while the peer is up.

use crate::ctx::Ctx;
use crate::ident;
use crate::node::frame::Payload;
use crate::node::{self, DownReason, NodeConfig, NodeHandle, Sink};
use crate::process::{Delivery, Kind, Message};
use crate::value::*;
use std::collections::HashMap;
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::{Arc, Mutex, OnceLock};

pub const MSG: u8 = 1;
pub const AGENT: u8 = 2;
pub const LINK: u8 = 3;
pub const WATCH: u8 = 4;
pub const EXIT: u8 = 5;
pub const UNWATCH: u8 = 6;

mod code;
mod migrate;
pub(crate) mod routes;
mod watches;

pub use code::{CODE, CODE_REFUSED, CODE_REQ, Compiled, GLOBAL, GLOBAL_REQ, is_bare, serve_bare};
pub(crate) use code::{Fetch, Fetched, fetch_done, fetch_global, forget_fetch, take_fetched};

pub use migrate::{FORGET, FWD, MIGRATE, MIGRATED, PROBE, WATCH_AT};
pub(crate) use migrate::{Outcome, arrive, ended, forward, migrate_out, migrate_result};

/// The peers this node knows, and who waits on which.
#[derive(Default)]
pub(crate) struct State {
    /// The incarnation of each peer that is up (between its `peer_up` and
    /// its `peer_down`).
    up: HashMap<u32, u64>,
    /// Requests waiting on a node.
    pending: HashMap<u32, Vec<Wait>>,
    /// Peers that are up and refused this program's code (bare nodes
    /// that run another program): no request to them is answered.
    bare: std::collections::HashSet<u32>,
    /// Requests for the agent that came before it started (a node's
    /// agent starts with its program's library).
    early_agent: Vec<Message>,
    /// Their bytes.
    early_bytes: usize,
    /// The agent process of this node.
    pub(crate) agent: Option<u64>,
    /// Local processes in the links of processes of other nodes.
    watches: watches::Watches,
    /// Per node: the exit value `(node-down NODE)` (static).
    down_values: HashMap<u32, Value>,
    /// Per node: the local processes waiting for it to take them.
    migrations: HashMap<u32, Vec<migrate::Leaving>>,
    /// Why the migration of a process was refused, until it looks.
    failures: HashMap<u64, String>,
    /// Processes that came back and wait for their fence.
    fenced: Vec<migrate::FenceOut>,
}

impl State {
    /// Whether no process of incarnation `incarnation` of node `entry`
    /// (0: any incarnation) can answer: another incarnation is up in its
    /// place, or the node is a bare one that will not run this program.
    fn cannot_answer(&self, entry: u32, incarnation: u64) -> bool {
        self.bare.contains(&entry)
            || matches!(self.up.get(&entry), Some(&j) if incarnation != 0 && incarnation != j)
    }
}

/// A request waiting for the answer of another node.
#[derive(Clone, Copy, PartialEq)]
struct Wait {
    /// The waiting process.
    pid: u64,
    /// The tag of its request, delivered bare if no answer can come.
    tag: Value,
    /// The incarnation that is to answer (0: any, as an agent request).
    incarnation: u64,
}

static STATE: Mutex<Option<State>> = Mutex::new(None);

/// The network layer's keys of the peers: a lock of its own, never held
/// while another is taken, so that a signal can be forwarded while its
/// slot is locked (`process::Table::deliver_from`).
#[derive(Default)]
struct Peers {
    /// Node-table entry -> the network layer's key of that peer.
    addr_of: HashMap<u32, SocketAddr>,
    /// And back.
    entry_of: HashMap<SocketAddr, u32>,
}

static PEERS: Mutex<Option<Peers>> = Mutex::new(None);

fn with_peers<R>(f: impl FnOnce(&mut Peers) -> R) -> R {
    let mut g = PEERS.lock().unwrap_or_else(|e| e.into_inner());
    f(g.get_or_insert_with(Peers::default))
}
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
    if let Some(a) = with_peers(|s| s.addr_of.get(&entry).copied()) {
        return Some(a);
    }
    let e = ident::entry(entry)?;
    if e.port == 0 {
        // A node that listens nowhere is reached only over the
        // connection it made (known once it is up).
        return None;
    }
    let a = (&*e.host, e.port).to_socket_addrs().ok()?.next()?;
    with_peers(|s| {
        s.addr_of.insert(entry, a);
        s.entry_of.insert(a, entry);
    });
    Some(a)
}

/// What became of a frame handed to the network layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sent {
    /// Queued, or dropped because the node cannot be reached (which ends
    /// every wait on it).
    Ok,
    /// Queued, but the queue to the peer is over its soft limit: the
    /// sender waits for it to drain before it sends again.
    Congested,
    /// Not queued: the queue to the peer is full. The sender waits for it
    /// to drain, then sends again.
    Full,
}

impl Sent {
    /// What a send primitive answers: unspecified, or (for the standard
    /// library's `%slowed`) 1 when the sender is to wait, 2 when it is to
    /// wait and send again.
    pub(crate) fn value(self) -> Value {
        match self {
            Sent::Ok => UNSPECIFIED,
            Sent::Congested => Value::fixnum(1),
            Sent::Full => Value::fixnum(2),
        }
    }
}

/// Sends a frame to node-table entry `entry`; `Err` with a message the
/// caller raises. A node that cannot be reached is no error: the frame is
/// dropped (and waiting requests end when the layer reports it down).
pub(crate) fn send_frame(
    ctx: &mut Ctx,
    entry: u32,
    kind: u8,
    payload: Vec<u8>,
) -> Result<Sent, String> {
    send_frame_on(ctx.self_pid.0, entry, kind, payload)
}

/// `send_frame` on lane `lane` (one lane per sending process keeps its
/// frames in order). Messages (MSG, AGENT) are bounded by the peer's
/// queue limits; link signals are small and are never refused, so that a
/// link fires even to a peer whose queue is full.
fn send_frame_on(lane: u64, entry: u32, kind: u8, payload: Vec<u8>) -> Result<Sent, String> {
    if entry == 0 {
        // An earlier incarnation of this node: its processes are gone.
        return Ok(Sent::Ok);
    }
    let h = handle()?;
    let Some(addr) = peer_addr(entry) else {
        node_down(entry);
        return Ok(Sent::Ok);
    };
    send_to_addr(h, addr, lane, entry, kind, payload)
}

/// `send_frame_on` to a node that is known (it sent us frames), taking no
/// lock but the network layer's and the peers' (it runs with a process's
/// slot locked): a frame to a node that is not is dropped.
fn send_known(lane: u64, entry: u32, kind: u8, payload: Vec<u8>) {
    let Some(Ok(h)) = HANDLE.get() else { return };
    if let Some(addr) = with_peers(|s| s.addr_of.get(&entry).copied()) {
        let _ = h.send_unbounded(addr, lane, kind, payload);
    }
}

fn send_to_addr(
    h: &NodeHandle,
    addr: SocketAddr,
    lane: u64,
    entry: u32,
    kind: u8,
    payload: Vec<u8>,
) -> Result<Sent, String> {
    let sent = if matches!(kind, MSG | AGENT) {
        h.send(addr, lane, kind, payload)
    } else {
        h.send_unbounded(addr, lane, kind, payload)
    };
    match sent {
        Ok(node::Flow::Ok) => Ok(Sent::Ok),
        Ok(node::Flow::Congested) => Ok(Sent::Congested),
        Err(node::SendError::QueueFull) => Ok(Sent::Full),
        Err(node::SendError::TooLarge(n)) => Err(format!("a message of {n} bytes is too large")),
        Err(node::SendError::Shutdown) => {
            node_down(entry);
            Ok(Sent::Ok)
        }
    }
}

/// Whether the queue to node-table entry `entry` is over its soft limit
/// (a sender told `Sent::Congested` or `Sent::Full` waits until it is not).
pub(crate) fn congested(entry: u32) -> bool {
    let Some(Ok(h)) = HANDLE.get() else {
        return false;
    };
    let Some(addr) = with_peers(|s| s.addr_of.get(&entry).copied()) else {
        return false;
    };
    h.congested(addr)
}

pub(crate) fn raise(ctx: &mut Ctx, who: &str, why: &str) -> Value {
    ctx.raise_error(&format!("{who}: {why}"), &[])
}

/// The start of a frame's payload: `words`, little-endian (a header
/// `incarnation | pid word`, and any words after it).
pub(crate) fn words_payload(words: &[u64]) -> Vec<u8> {
    let mut payload = Vec::with_capacity(64);
    for w in words {
        payload.extend_from_slice(&w.to_le_bytes());
    }
    payload
}

/// The payload of a frame for the process `to` (a pid of another node):
/// the header `incarnation | pid word`, then `v` in the wire format.
/// Answers the node-table entry to send it to.
fn addressed(to: Value, v: Value) -> Result<(u32, Vec<u8>), String> {
    let (entry, incarnation, word) = ident::parts(to).ok_or("not a pid")?;
    let mut payload = words_payload(&[incarnation, word]);
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
    let sent = addressed(to, v).and_then(|(entry, payload)| send_frame(ctx, entry, kind, payload));
    sent_or_raise(ctx, who, sent)
}

/// What a send primitive answers: how the frame went, or the error raised.
fn sent_or_raise(ctx: &mut Ctx, who: &str, sent: Result<Sent, String>) -> Value {
    match sent {
        Ok(sent) => sent.value(),
        Err(e) => raise(ctx, who, &e),
    }
}

/// Bytes of the header of a frame for a process of this node.
const HEADER: usize = 16;

/// The header of a frame for a process of this node: its incarnation and
/// the pid word, or `None` if the frame is too short.
fn split_header(payload: &[u8]) -> Option<(u64, u64)> {
    let (incarnation, rest) = payload.split_first_chunk::<8>()?;
    let (word, _) = rest.split_first_chunk::<8>()?;
    Some((u64::from_le_bytes(*incarnation), u64::from_le_bytes(*word)))
}

/// `(%link from to)` where either pid is of another node: `from`'s death
/// is to be raised in `to` (ARCHITECTURE.md, "Who watches whom").
pub fn link(ctx: &mut Ctx, from: Value, to: Value) -> Value {
    let me = ctx.self_pid;
    // A pid of another node may name a process that migrated here.
    let (from_here, to_here) = (migrate::slot_of(from), migrate::slot_of(to));
    let noproc = Value::symbol(crate::symbols::intern("noproc"));
    if from_here.is_none() && gone(from) {
        // As locally, a link from a process that is gone fires at once.
        if let Some(t) = to_here {
            crate::sched::node().deliver(t, Message::immediate(noproc, Kind::Exit));
        }
        return UNSPECIFIED;
    }
    if to_here.is_none() && gone(to) {
        // Nobody to tell.
        return UNSPECIFIED;
    }
    let Some(f) = from_here else {
        // `from`'s node keeps the link; if `to` is here, we also watch
        // `from`'s node.
        if let (Some(t), Some((entry, _, _))) = (to_here, ident::parts(from)) {
            add_watch(entry, t, from);
        }
        return signal(send_to(ctx, "link", LINK, from, to));
    };
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
        if !crate::sched::node().deliver(f, m) {
            match to_here {
                Some(t) => crate::sched::node().deliver(t, Message::immediate(noproc, Kind::Exit)),
                None => {
                    send_exit(None, from, to, noproc);
                    true
                }
            };
            return UNSPECIFIED;
        }
    }
    if to_here.is_some() {
        // Both run here: nobody else is to watch.
        return UNSPECIFIED;
    }
    // `to`'s node must watch `from`, which runs here.
    signal(send_to(ctx, "link", WATCH, to, from))
}

/// What `%link` answers after sending a link signal: unspecified (a link
/// signal is never refused, and the sender does not wait for a queue to
/// drain), or the exception it raises.
fn signal(v: Value) -> Value {
    if v.is_fixnum() { UNSPECIFIED } else { v }
}

/// The process `from` (running here, in slot `sender` if it is a process)
/// died of `reason`: tell `to`, a process of another node linked to it.
/// Runs on `from`'s thread (the encoder reads `reason` in its heap).
pub fn send_exit(sender: Option<u64>, from: Value, to: Value, reason: Value) {
    let payload = end_signal(sender, from, to).and_then(|to| match to {
        EndTo::Frame(entry, mut payload) => {
            encode_after(reason, &mut payload)?;
            Ok(Some((entry, payload)))
        }
        EndTo::Here(word) => {
            // Behind the messages it delivered there, which that slot
            // forwards if the process left: the watch goes, the exit
            // follows.
            let node = crate::sched::node();
            node.deliver(word, Message::immediate(from, Kind::Unwatch));
            node.deliver(word, Message::copy_of(reason, Kind::Exit));
            Ok(None)
        }
    });
    match payload {
        Ok(Some((entry, payload))) => {
            let _ = send_frame_on(from.0, entry, EXIT, payload);
        }
        Ok(None) => {}
        Err(e) => eprintln!(
            "termite: the exception of process {} {e}: its link is not told",
            crate::print::write_string(from)
        ),
    }
}

/// `(! pid msg)` for a pid of another node: to its home, or where the
/// sender's route says once the process moved (`routes`).
fn remote_send(ctx: &mut Ctx, to: Value, msg: Value) -> Value {
    let counter = ident::moved(to).map_or(0, |c| c.load(std::sync::atomic::Ordering::Acquire));
    let sender = ctx.current.as_ref().map(|p| p.pid);
    let (Some(sender), Some(home), true) = (sender, routes::Target::home(to), counter != 0) else {
        return send_to(ctx, "!", MSG, to, msg);
    };
    match routes::for_message(ctx, sender, to, home, counter) {
        routes::Way::Wait => Sent::Full.value(),
        routes::Way::At(t) if t.entry == 0 => {
            let node = crate::sched::node();
            match node
                .table
                .deliver(t.word, Message::copy_of(msg, Kind::Message))
            {
                Delivery::Woken(p) => node.schedule(p),
                Delivery::Forwarded(identity) => routes::moved_here(identity),
                Delivery::Queued | Delivery::NoProcess(_) => {}
            }
            UNSPECIFIED
        }
        routes::Way::At(t) => {
            let mut payload = words_payload(&[t.incarnation, t.word]);
            let sent = encode_after(msg, &mut payload)
                .and_then(|()| send_frame(ctx, t.entry, MSG, payload));
            sent_or_raise(ctx, "!", sent)
        }
    }
}

/// The network layer's events.
struct Glue;

impl Glue {
    fn entry_of(peer: SocketAddr) -> Option<u32> {
        with_peers(|s| s.entry_of.get(&peer).copied())
    }

    /// LINK, WATCH and EXIT: signals between processes of two nodes.
    fn link_frame(&self, peer: SocketAddr, kind: u8, word: u64, payload: Payload<'_>) {
        let Some(peer_entry) = Glue::entry_of(peer) else {
            return;
        };
        let node = crate::sched::node();
        let rest = &payload[HEADER..];
        if kind == EXIT || kind == UNWATCH {
            let Some((from, n)) = migrate::take_pid(rest) else {
                return self.log(&format!(
                    "termite: node {peer}: a link signal without its sender, dropped"
                ));
            };
            with_state(|s| s.watches.remove(peer_entry, word, from));
            if node.table.is_moved(word) {
                // The process migrated: the watch is where it runs now.
                let m = Message {
                    mem: crate::heap::MessageMem::None,
                    value: from,
                    kind: Kind::Unwatch,
                };
                node.deliver(word, m);
            }
            if kind == EXIT {
                // The exception may be large: its receiver decodes it.
                node.deliver(word, raw(payload, HEADER + n, Kind::Exit));
            }
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
                    send_exit(
                        None,
                        crate::process::pid_value(word),
                        value,
                        Value::symbol(crate::symbols::intern("noproc")),
                    );
                }
            }
            // The watched process runs on the sender's node (it may have
            // migrated there from the node its pid names, even from this one).
            WATCH if ident::is_pid(value) => add_watch(peer_entry, word, value),
            _ => self.log(&format!(
                "termite: node {peer}: a link signal without a pid, dropped"
            )),
        }
    }
}

impl Sink for Glue {
    fn peer_up(
        &self,
        peer: SocketAddr,
        incarnation: u64,
        listen: Option<SocketAddr>,
        // A bare node (no program) asks for this program's code and answers
        // once it runs it, or refuses it (`code::code_refused`).
        _program: Option<[u8; 32]>,
    ) {
        let entry = match listen {
            Some(l) => ident::node_entry(&l.ip().to_string(), l.port(), incarnation),
            None => ident::node_entry("", 0, incarnation),
        };
        ident::set_incarnation(entry, incarnation);
        // Requests to processes of another incarnation of this node, and
        // links to them, were made while it was not up: those processes
        // are gone (no frame naming them will be taken).
        with_peers(|s| {
            s.addr_of.insert(entry, peer);
            s.entry_of.insert(peer, entry);
        });
        let (stale, watching) = with_state(|s| {
            s.up.insert(entry, incarnation);
            let waits = s.pending.remove(&entry).unwrap_or_default();
            let (stale, live): (Vec<Wait>, Vec<Wait>) = waits
                .into_iter()
                .partition(|w| s.cannot_answer(entry, w.incarnation));
            if !live.is_empty() {
                s.pending.insert(entry, live);
            }
            let watching = s.watches.take_other_incarnations(entry, incarnation);
            (stale, watching)
        });
        end_waits(entry, stale, watching);
    }

    fn frame(&self, peer: SocketAddr, kind: u8, payload: Payload<'_>) {
        match kind {
            MSG | routes::MARKER | LINK | WATCH | EXIT | UNWATCH => {
                let Some((incarnation, word)) = split_header(&payload) else {
                    return self.log(&format!("termite: node {peer}: a truncated frame, dropped"));
                };
                // A frame for another incarnation of this node: its
                // process is gone.
                if incarnation != ident::self_incarnation() {
                    return;
                }
                if kind == MSG || kind == routes::MARKER {
                    let node = crate::sched::node();
                    let kind = if kind == MSG {
                        Kind::Message
                    } else {
                        Kind::Marker
                    };
                    match node.table.deliver(word, raw(payload, HEADER, kind)) {
                        Delivery::Woken(p) => node.schedule(p),
                        // The sender's node learns that the process moved.
                        Delivery::Forwarded(identity) if kind == Kind::Message => {
                            if let Some(from) = Glue::entry_of(peer) {
                                routes::forwarded_from(from, word, identity);
                            }
                        }
                        _ => {}
                    }
                } else {
                    self.link_frame(peer, kind, word, payload);
                }
            }
            MIGRATED => {
                let (Some((incarnation, word)), Some(from)) =
                    (split_header(&payload), Glue::entry_of(peer))
                else {
                    return self.log(&format!("termite: node {peer}: a truncated frame, dropped"));
                };
                if incarnation == ident::self_incarnation() {
                    migrate::migrated(from, word, &payload[HEADER..]);
                }
            }
            migrate::WATCH_AT => {
                let Some((incarnation, word)) = split_header(&payload) else {
                    return self.log(&format!("termite: node {peer}: a truncated frame, dropped"));
                };
                if incarnation == ident::self_incarnation() {
                    migrate::watch_at(peer, word, &payload[HEADER..]);
                }
            }
            migrate::PROBE => {}
            routes::MOVED => routes::moved(peer, &payload),
            routes::ROUTED => {
                let (Some((incarnation, word)), Some(from)) =
                    (split_header(&payload), Glue::entry_of(peer))
                else {
                    return self.log(&format!("termite: node {peer}: a truncated frame, dropped"));
                };
                if incarnation == ident::self_incarnation() {
                    routes::routed(peer, from, word, &payload[HEADER..]);
                }
            }
            migrate::MIGRATE | migrate::FWD | migrate::FORGET => {
                let Some(from) = Glue::entry_of(peer) else {
                    return self.log(&format!(
                        "termite: node {peer}: a migration frame before the node is known, dropped"
                    ));
                };
                match kind {
                    migrate::MIGRATE => migrate::migrate_in(peer, from, payload),
                    migrate::FWD => migrate::forwarded(peer, from, payload),
                    _ => migrate::forget(peer, &payload),
                }
            }
            AGENT => {
                agent_frame(raw(payload, 0, Kind::Message));
            }
            code::CODE_REQ => code::code_request(peer, &payload),
            code::CODE_REFUSED => code::code_refused(peer, &payload),
            code::GLOBAL_REQ => code::global_request(peer, &payload),
            code::GLOBAL => code::global_answer(peer, &payload),
            code::CODE => self.log(&format!(
                "termite: node {peer}: code for a node that runs a program already, dropped"
            )),
            _ => self.log(&format!(
                "termite: node {peer}: a frame of unknown kind {kind}, dropped"
            )),
        }
    }

    fn peer_down(&self, peer: SocketAddr, incarnation: Option<u64>, _reason: &DownReason) {
        let Some(entry) = Glue::entry_of(peer) else {
            return;
        };
        // The network layer alternates the two events of a peer; a down
        // naming another incarnation than the one up would be stale.
        let current = with_state(|s| match (incarnation, s.up.get(&entry)) {
            (Some(i), Some(&j)) => i == j,
            // A failed attempt to connect while a connection is up.
            (None, Some(_)) => false,
            (_, None) => true,
        });
        if current {
            node_down(entry);
            code::origin_down(peer);
        }
    }
}

/// A signal whose value is still in the wire format (`MessageMem::Wire`),
/// at `start` in `payload` (a reassembled payload is kept as it is: a
/// 100 MB message is not copied again on the I/O thread).
fn raw(payload: Payload<'_>, start: usize, kind: Kind) -> Message {
    let bytes = match payload {
        Payload::Owned(v) => v,
        Payload::Borrowed(b) => b.to_vec(),
    };
    Message {
        mem: crate::heap::MessageMem::Wire(Box::new(crate::heap::WireBytes { bytes, start })),
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
    match crate::wire::decode(bytes.value()) {
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

/// A request for this node's agent: delivered, or kept until the agent
/// starts (`set_agent`). Both under the state's lock, so that the kept
/// ones go first.
fn agent_frame(m: Message) {
    /// Requests (and their bytes) kept for an agent that has not started.
    const EARLY_LIMIT: usize = 10_000;
    const EARLY_BYTES: usize = 64 << 20;
    let bytes = match &m.mem {
        crate::heap::MessageMem::Wire(w) => w.bytes.len(),
        _ => 0,
    };
    with_state(|s| match s.agent {
        Some(agent) => {
            crate::sched::node().deliver(agent, m);
        }
        None if s.early_agent.len() < EARLY_LIMIT && s.early_bytes + bytes <= EARLY_BYTES => {
            s.early_bytes += bytes;
            s.early_agent.push(m);
        }
        None => eprintln!("termite: a request for this node's agent before it started: dropped"),
    });
}

/// This node's agent is `pid`: it takes the requests that came before it.
pub(crate) fn set_agent(pid: u64) {
    with_state(|s| {
        s.agent = Some(pid);
        s.early_bytes = 0;
        for m in std::mem::take(&mut s.early_agent) {
            crate::sched::node().deliver(pid, m);
        }
    });
}

/// Node-table entry `entry` refused this program's code: every request
/// waiting on it ends as if it were down, and later ones at once.
fn cannot_serve(entry: u32) {
    let waiting = with_state(|s| {
        s.bare.insert(entry);
        s.pending.remove(&entry).unwrap_or_default()
    });
    end_waits(entry, waiting, Vec::new());
    migrate::fail_migrations(entry);
}

/// Node-table entry `entry` is down: every request waiting on it gets its
/// bare tag, every link to a process of it fires.
fn node_down(entry: u32) {
    let (waiting, watching) = with_state(|s| {
        s.up.remove(&entry);
        s.bare.remove(&entry);
        (
            s.pending.remove(&entry).unwrap_or_default(),
            s.watches.take_node(entry),
        )
    });
    end_waits(entry, waiting, watching);
    migrate::fail_migrations(entry);
    routes::node_down(entry);
}

/// Ends `waiting` (their tags delivered) and fires `watching` (each local
/// process once, with `(node-down NODE)`): no answer can come from the
/// processes of `entry` they wait on.
fn end_waits(entry: u32, waiting: Vec<Wait>, watching: Vec<u64>) {
    for w in waiting {
        crate::sched::node().deliver(w.pid, Message::immediate(w.tag, Kind::Message));
    }
    if watching.is_empty() {
        return;
    }
    let down = down_value(entry);
    for pid in watching {
        let m = Message {
            mem: crate::heap::MessageMem::None,
            value: down,
            kind: Kind::Exit,
        };
        crate::sched::node().deliver(pid, m);
    }
}

/// The local process `watcher` is in the links of `watched`, a process
/// running on node `entry` (unless it is already gone: then nobody is to
/// be told); a watch of it under another node (it migrated) goes.
/// Under the state's lock, so that the watcher's end (`forget_watcher`,
/// after the process left the table) comes after the entry or finds it
/// absent.
fn add_watch(entry: u32, watcher: u64, watched: Value) {
    with_state(|s| {
        let live = crate::sched::node().table.with(watcher, |p| {
            p.watching.store(true, std::sync::atomic::Ordering::Release)
        });
        if live.is_some() {
            s.watches.moved(entry, watcher, watched);
        }
    });
}

/// The local process `watcher` no longer watches `watched` (which ended
/// normally, or died: its exit is on its way), wherever it runs.
pub(crate) fn forget_watch(watcher: u64, watched: Value) {
    with_state(|s| s.watches.forget_pair(watcher, watched));
}

/// The local process `watcher`, which was in the watch table, ended.
pub fn forget_watcher(watcher: u64) {
    with_state(|s| s.watches.forget_watcher(watcher));
}

/// The process `from` (of this node) ended normally: `to`, a process of
/// another node in its links, will not be told of its death, and its
/// node forgets the watch it keeps for that link.
pub fn send_unwatch(sender: Option<u64>, from: Value, to: Value) {
    match end_signal(sender, from, to) {
        Ok(EndTo::Frame(entry, payload)) => {
            let _ = send_frame_on(from.0, entry, UNWATCH, payload);
        }
        Ok(EndTo::Here(word)) => {
            crate::sched::node().deliver(word, Message::immediate(from, Kind::Unwatch));
        }
        Err(_) => {}
    }
}

/// Where the EXIT or UNWATCH of process `from` (in slot `sender` here, if
/// it is a process) for `to`, a process of another node, goes.
enum EndTo {
    /// A frame to this node-table entry, its payload so far: the header,
    /// then `from`.
    Frame(u32, Vec<u8>),
    /// This slot of this node, where `from`'s messages for `to` go (its
    /// route: `to` ran here).
    Here(u64),
}

/// The way of an EXIT or UNWATCH: that of `from`'s messages for `to`
/// (`routes::path`), so that none overtakes them; else `to`'s home.
fn end_signal(sender: Option<u64>, from: Value, to: Value) -> Result<EndTo, String> {
    let (entry, incarnation, word) = match routes::path(sender, to) {
        Some(t) if t.entry == 0 => return Ok(EndTo::Here(t.word)),
        Some(t) => (t.entry, t.incarnation, t.word),
        None => ident::parts(to).ok_or("not a pid")?,
    };
    let mut payload = words_payload(&[incarnation, word]);
    migrate::put_pid(&mut payload, from)?;
    Ok(EndTo::Frame(entry, payload))
}

/// `(%watch-node target tag)`: the calling process `pid` waits for the
/// answer to a request to `target`, a node (its agent: any incarnation
/// answers) or a pid of another node (that process's incarnation only).
/// If no answer can come (the node is down, or another incarnation is up
/// in its place, or the pid is of an earlier incarnation of this node),
/// the tag comes at once.
pub(crate) fn watch(pid: u64, target: Value, tag: Value) {
    let Some((entry, incarnation)) = target_entry(target) else {
        return;
    };
    if entry == 0 && incarnation == 0 {
        // This node's own agent answers locally.
        return;
    }
    let w = Wait {
        pid,
        tag,
        incarnation,
    };
    let answered = entry == 0
        || with_state(|s| {
            if s.cannot_answer(entry, incarnation) {
                return true;
            }
            s.pending.entry(entry).or_default().push(w);
            false
        });
    if answered {
        crate::sched::node().deliver(pid, Message::immediate(tag, Kind::Message));
    }
}

/// The node-table entry of a `%watch-node` target, and the incarnation
/// that is to answer: a pid's, or 0 (any) for a node.
fn target_entry(target: Value) -> Option<(u32, u64)> {
    match ident::parts(target) {
        Some((entry, incarnation, _)) => Some((entry, incarnation)),
        None => ident::node_index(target).map(|entry| (entry, 0)),
    }
}

/// Whether `pid`, of another node, is known to be gone: it is of an
/// earlier incarnation of this node, or no process of its incarnation can
/// answer (`State::cannot_answer`).
fn gone(pid: Value) -> bool {
    match ident::parts(pid) {
        _ if ident::is_local_pid(pid) => false,
        Some((0, _, _)) => true,
        Some((entry, incarnation, _)) => with_state(|s| s.cannot_answer(entry, incarnation)),
        None => false,
    }
}

/// `(%unwatch-node target tag)`: the answer came (or the wait ended).
pub(crate) fn unwatch(pid: u64, target: Value, tag: Value) {
    let Some((entry, _)) = target_entry(target) else {
        return;
    };
    with_state(|s| {
        if let Some(v) = s.pending.get_mut(&entry) {
            v.retain(|w| !(w.pid == pid && w.tag == tag));
            if v.is_empty() {
                s.pending.remove(&entry);
            }
        }
    });
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
