//! Code that travels to a bare node (ARCHITECTURE.md, "Code to a bare
//! node"; the frames are in docs/distribution.md).
//!
//! A bare `termitec node` asks the first peer that runs a program for its
//! source (CODE_REQ, CODE), compiles it with the JIT it was given, checks
//! that what it compiled has the identity it asked for, and then runs that
//! program's library on the network layer it already had, replaying what
//! its peers sent meanwhile. A global of the user's program is unbound
//! there: a process that reads one waits while the node asks the program's
//! node for its value (GLOBAL_REQ, GLOBAL), then goes on with it.
//!
//! - `CODE_REQ`: `program identity: [u8; 32]`.
//! - `CODE`: `program identity | postcard(Source)`.
//! - `CODE_REFUSED`: a reason, UTF-8 (either way).
//! - `GLOBAL_REQ`: `slot: u32 LE | name, UTF-8`.
//! - `GLOBAL`: `slot: u32 LE | 0 | wire value`, or `slot | 1 | reason`.

use super::Glue;
use crate::ctx::Ctx;
use crate::node::frame::Payload;
use crate::node::{self, DownReason, NodeConfig, Sink};
use crate::process::Process;
use crate::program::Source;
use crate::run::ProgramDesc;
use crate::value::*;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub const CODE_REQ: u8 = 13;
pub const CODE: u8 = 14;
pub const CODE_REFUSED: u8 = 15;
pub const GLOBAL_REQ: u8 = 16;
pub const GLOBAL: u8 = 17;

/// Bytes of frames a bare node keeps while it loads its program; past
/// them a frame is dropped (and logged).
const HELD_LIMIT: usize = 256 << 20;

/// Set once, before the runtime starts, on a bare node.
static BARE: AtomicBool = AtomicBool::new(false);

/// Whether this node is a bare `termitec node` (its program came from a
/// peer, whose user globals it fetches).
pub fn is_bare() -> bool {
    BARE.load(Ordering::Relaxed)
}

// ---- The program node's side -------------------------------------------

/// A bare node asks for this program's code.
pub(super) fn code_request(peer: SocketAddr, payload: &[u8]) {
    let ours = crate::program_state::program_identity();
    let (kind, out) = if payload != ours.as_slice() {
        (
            CODE_REFUSED,
            b"the program asked for is not the one this node runs".to_vec(),
        )
    } else {
        match crate::program_state::source().and_then(|s| postcard::to_stdvec(&s).ok()) {
            Some(blob) => (CODE, [ours.as_slice(), &blob].concat()),
            None => (CODE_REFUSED, b"this program carries no source".to_vec()),
        }
    };
    send(peer, kind, out);
}

/// A bare node will not run this program's code: no request to it can be
/// answered.
pub(super) fn code_refused(peer: SocketAddr, payload: &[u8]) {
    let why = String::from_utf8_lossy(payload);
    eprintln!("termite: node {peer} does not take this program's code: {why}");
    if let Some(entry) = Glue::entry_of(peer) {
        super::cannot_serve(entry);
    }
}

/// Requests for globals wait here for the thread that answers them, one at
/// a time (`answer`): a global may be large, and the I/O thread never
/// encodes a value.
const ANSWER_QUEUE: usize = 1024;

static ANSWERER: std::sync::OnceLock<
    Option<std::sync::mpsc::SyncSender<(SocketAddr, u32, String)>>,
> = std::sync::OnceLock::new();

/// GLOBAL_REQ: a bare node that runs this program asks for the value of a
/// global. A bare node asked for a global it has not fetched itself asks
/// its own program node first, and passes the answer on.
pub(super) fn global_request(peer: SocketAddr, payload: &[u8]) {
    let (Some(slot), Ok(name)) = (
        payload.get(..4),
        std::str::from_utf8(payload.get(4..).unwrap_or(&[])),
    ) else {
        return eprintln!("termite: node {peer}: a malformed global request, dropped");
    };
    let slot = u32::from_le_bytes(slot.try_into().expect("4 bytes"));
    if is_bare() && relay_fetch(peer, name) {
        return;
    }
    let tx = ANSWERER.get_or_init(|| {
        let (tx, rx) = std::sync::mpsc::sync_channel::<(SocketAddr, u32, String)>(ANSWER_QUEUE);
        std::thread::Builder::new()
            .name("termite-globals".into())
            .spawn(move || {
                while let Ok((peer, slot, name)) = rx.recv() {
                    answer(peer, slot, &name);
                }
            })
            .ok()
            .map(|_| tx)
    });
    let refused = match tx {
        Some(tx) => tx.try_send((peer, slot, name.to_string())).is_err(),
        None => true,
    };
    if refused {
        answer_error(
            peer,
            slot,
            &format!("{name}: too many requests for globals at once"),
        );
    }
}

/// Answers GLOBAL_REQ for `name` (slot `slot` of the asker): its value in
/// the wire format, or why not. The answer is a message like any other:
/// bounded by the queue to the peer, and by the frame limit.
fn answer(peer: SocketAddr, slot: u32, name: &str) {
    let node = crate::sched::node();
    let value = node
        .loaded
        .data
        .globals
        .iter()
        .position(|g| g == name)
        .map(|i| node.loaded.globals.get(i))
        .filter(|v| *v != UNBOUND);
    let Some(v) = value else {
        return answer_error(
            peer,
            slot,
            &format!("unbound variable: {name} (on the node of the program)"),
        );
    };
    let mut out = slot.to_le_bytes().to_vec();
    out.push(0);
    if let Err(e) = super::encode_after(v, &mut out) {
        return answer_error(peer, slot, &format!("{name}: {e}"));
    }
    let Ok(h) = super::handle() else { return };
    match h.send(peer, 0, GLOBAL, out) {
        Ok(_) | Err(node::SendError::Shutdown) => {}
        Err(e) => answer_error(peer, slot, &format!("{name}: {e}")),
    }
}

/// GLOBAL with status 1: the global cannot be had, and why.
fn answer_error(peer: SocketAddr, slot: u32, why: &str) {
    let mut out = slot.to_le_bytes().to_vec();
    out.push(1);
    out.extend_from_slice(why.as_bytes());
    send(peer, GLOBAL, out);
}

/// Sends on the network layer. (A bare node sends nothing before it set
/// `HANDLE` to the layer it started: `BareSink::ask`.)
fn send(peer: SocketAddr, kind: u8, payload: Vec<u8>) {
    if let Ok(h) = super::handle() {
        let _ = h.send_unbounded(peer, 0, kind, payload);
    }
}

// ---- The bare node: fetching globals ------------------------------------

/// The bare node's sink, once it serves a program.
static SINK: std::sync::OnceLock<Arc<BareSink>> = std::sync::OnceLock::new();

/// Where to ask for a global: the node the program came from while it is
/// up, else any peer up that runs the program.
fn program_node() -> Option<SocketAddr> {
    let sink = SINK.get()?;
    let s = lock(&sink.state);
    let adopted = s.adopted?;
    let runs = |p: &SocketAddr| s.program_of(*p) == Some(adopted);
    s.origin
        .filter(runs)
        .or_else(|| s.programs.keys().copied().find(runs))
}

#[derive(Default)]
struct Fetches {
    /// Per global slot: the request in flight.
    pending: HashMap<u32, Pending>,
    /// Readers whose request failed, until they look: (pid, slot) -> why.
    failed: HashMap<(u64, u32), String>,
    /// The slot each waiting reader waits for, by pid.
    waits: HashMap<u64, u32>,
}

struct Pending {
    /// The node asked.
    asked: SocketAddr,
    /// The answer's wire value, once it arrived, until the first reader to
    /// run takes it to decode and define it (the entry stays meanwhile).
    arrived: Option<Vec<u8>>,
    waiters: Vec<Arc<Process>>,
    /// Bare nodes that asked this node for the global: the answer is
    /// passed on to them.
    relays: Vec<SocketAddr>,
}

static FETCHES: Mutex<Option<Fetches>> = Mutex::new(None);

fn with_fetches<R>(f: impl FnOnce(&mut Fetches) -> R) -> R {
    let mut g = FETCHES.lock().unwrap_or_else(|e| e.into_inner());
    f(g.get_or_insert_with(Fetches::default))
}

/// The request for `slot` (made now if there is none, from `origin`):
/// true when it was made now.
fn request(f: &mut Fetches, slot: u32, origin: SocketAddr) -> (&mut Pending, bool) {
    let fresh = !f.pending.contains_key(&slot);
    let p = f.pending.entry(slot).or_insert_with(|| Pending {
        asked: origin,
        arrived: None,
        waiters: Vec::new(),
        relays: Vec::new(),
    });
    (p, fresh)
}

/// What a read of an unbound global on a bare node comes to.
pub(crate) enum Fetch {
    /// Bound meanwhile.
    Ready(Value),
    /// Asked for: the process waits (`Slice::Fetching`).
    Wait,
    /// Not to be fetched (not a bare node, or no node to ask): the read
    /// fails as on any node.
    No,
}

/// The running process read global `slot`, unbound here: it waits for the
/// value from the program's node (one request per slot in flight).
pub(crate) fn fetch_global(ctx: &Ctx, slot: u32) -> Fetch {
    let node = crate::sched::node();
    let v = node.loaded.globals.get(slot as usize);
    if v != UNBOUND {
        return Fetch::Ready(v);
    }
    let (Some(p), Some(origin)) = (ctx.current.as_ref(), program_node()) else {
        return Fetch::No;
    };
    if slot as usize >= node.loaded.data.globals.len() {
        return Fetch::No;
    }
    let fresh = with_fetches(|f| {
        let (e, fresh) = request(f, slot, origin);
        e.waiters.push(p.clone());
        // (A failure left by an earlier process of this pid is stale.)
        f.failed.remove(&(p.pid, slot));
        f.waits.insert(p.pid, slot);
        fresh
    });
    if fresh {
        ask_global(origin, slot);
    }
    Fetch::Wait
}

/// A bare node asked this bare node for global `name`: if it is unbound
/// here, this node fetches it and passes the answer on (true), rather than
/// answering from globals it never had.
fn relay_fetch(asker: SocketAddr, name: &str) -> bool {
    let node = crate::sched::node();
    let Some(slot) = node.loaded.data.globals.iter().position(|g| g == name) else {
        return false;
    };
    if node.loaded.globals.get(slot) != UNBOUND {
        return false;
    }
    let Some(origin) = program_node().filter(|o| *o != asker) else {
        return false;
    };
    let slot = slot as u32;
    let fresh = with_fetches(|f| {
        let (e, fresh) = request(f, slot, origin);
        e.relays.push(asker);
        fresh
    });
    if fresh {
        ask_global(origin, slot);
    }
    true
}

/// GLOBAL_REQ: asks node `to` for the value of the global of slot `slot`.
fn ask_global(to: SocketAddr, slot: u32) {
    let mut out = slot.to_le_bytes().to_vec();
    out.extend_from_slice(crate::program_state::global_name(slot as usize).as_bytes());
    send(to, GLOBAL_REQ, out);
}

/// Whether the wait of process `pid` for a global is over (its answer, or
/// its failure, is there).
pub(crate) fn fetch_done(pid: u64) -> bool {
    let node = crate::sched::node();
    with_fetches(|f| {
        let Some(&slot) = f.waits.get(&pid) else {
            return true;
        };
        node.loaded.globals.get(slot as usize) != UNBOUND
            || f.failed.contains_key(&(pid, slot))
            || f.pending.get(&slot).is_none_or(|p| p.arrived.is_some())
    })
}

/// What a process whose wait for a global may be over finds.
pub(crate) enum Fetched {
    Value(Value),
    Failed(String),
    /// Another reader decodes the answer: it wakes this one when done.
    Wait,
}

/// The value of the global process `pid` waits for: defined from the
/// answer by the first reader to run (decoded without the table's lock,
/// which the I/O thread takes), or why it could not be.
pub(crate) fn take_fetched(pid: u64) -> Fetched {
    let node = crate::sched::node();
    let global_name = |slot: u32| crate::program_state::global_name(slot as usize);
    let taken = with_fetches(|f| {
        let Some(&slot) = f.waits.get(&pid) else {
            return Err(Fetched::Failed(
                "internal: a process waits for no global".into(),
            ));
        };
        if let Some(why) = f.failed.remove(&(pid, slot)) {
            f.waits.remove(&pid);
            return Err(Fetched::Failed(why));
        }
        let v = node.loaded.globals.get(slot as usize);
        if v != UNBOUND {
            f.waits.remove(&pid);
            return Err(Fetched::Value(v));
        }
        match f.pending.get_mut(&slot) {
            Some(p) => match p.arrived.take() {
                Some(bytes) => {
                    f.waits.remove(&pid);
                    Ok((slot, bytes))
                }
                None => Err(Fetched::Wait),
            },
            None => {
                f.waits.remove(&pid);
                Err(Fetched::Failed(format!(
                    "unbound variable: {}",
                    global_name(slot)
                )))
            }
        }
    });
    let (slot, bytes) = match taken {
        Ok(x) => x,
        Err(answer) => return answer,
    };
    let result = match crate::wire::decode(&bytes) {
        Ok((mem, value)) => {
            // Static, as `define` makes it; `mem` goes after the copy.
            let v = crate::heap::statics::promote(value);
            drop(mem);
            Ok(node.loaded.globals.define_if_unbound(slot as usize, v))
        }
        Err(e) => Err(format!(
            "{}: the value from the program's node is malformed ({e})",
            global_name(slot)
        )),
    };
    let waiters = with_fetches(|f| {
        let waiters = f
            .pending
            .remove(&slot)
            .map(|p| p.waiters)
            .unwrap_or_default();
        if let Err(why) = &result {
            for w in waiters.iter().filter(|w| w.pid != pid) {
                f.failed.insert((w.pid, slot), why.clone());
            }
        }
        waiters
    });
    wake_all(waiters.into_iter().filter(|w| w.pid != pid).collect());
    match result {
        Ok(v) => Fetched::Value(v),
        Err(why) => Fetched::Failed(why),
    }
}

/// A process that waited for a global ended (killed): its wait goes.
pub(crate) fn forget_fetch(pid: u64) {
    with_fetches(|f| {
        if let Some(slot) = f.waits.remove(&pid) {
            f.failed.remove(&(pid, slot));
            if let Some(p) = f.pending.get_mut(&slot) {
                p.waiters.retain(|w| w.pid != pid);
            }
        }
    });
}

/// GLOBAL: the answer to a request of ours (only from the node asked).
pub(super) fn global_answer(peer: SocketAddr, payload: &[u8]) {
    let (Some(slot), Some(&status)) = (payload.get(..4), payload.get(4)) else {
        return eprintln!("termite: node {peer}: a malformed global answer, dropped");
    };
    let slot = u32::from_le_bytes(slot.try_into().expect("4 bytes"));
    let body = &payload[5..];
    let (waiters, relays) = with_fetches(|f| {
        let Some(p) = f
            .pending
            .get_mut(&slot)
            .filter(|p| p.asked == peer && p.arrived.is_none())
        else {
            return (Vec::new(), Vec::new());
        };
        let relays = std::mem::take(&mut p.relays);
        if status == 0 && !p.waiters.is_empty() {
            p.arrived = Some(body.to_vec());
            (p.waiters.clone(), relays)
        } else {
            // A failure, or an answer only relayed: the request is over.
            let p = f.pending.remove(&slot).expect("looked up above");
            if status != 0 {
                let why = String::from_utf8_lossy(body).into_owned();
                for w in &p.waiters {
                    f.failed.insert((w.pid, slot), why.clone());
                }
            }
            (p.waiters, relays)
        }
    });
    for r in relays {
        send(r, GLOBAL, payload.to_vec());
    }
    wake_all(waiters);
}

/// Node `peer` is down: the global requests it was asked are asked of
/// another node of the program, or fail.
pub(super) fn origin_down(peer: SocketAddr) {
    if !is_bare() {
        return;
    }
    let other = program_node().filter(|p| *p != peer);
    let (waiters, relays) = with_fetches(|f| {
        let mut all = Vec::new();
        let mut relays = Vec::new();
        let lost: Vec<u32> = f
            .pending
            .iter()
            .filter(|(_, p)| p.asked == peer && p.arrived.is_none())
            .map(|(s, _)| *s)
            .collect();
        for slot in lost {
            if let Some(other) = other {
                ask_global(other, slot);
                if let Some(p) = f.pending.get_mut(&slot) {
                    p.asked = other;
                }
                continue;
            }
            let Some(p) = f.pending.remove(&slot) else {
                continue;
            };
            let why = format!(
                "unbound variable: {} (the program's node {peer} is down)",
                crate::program_state::global_name(slot as usize)
            );
            for w in p.waiters {
                f.failed.insert((w.pid, slot), why.clone());
                all.push(w);
            }
            relays.extend(p.relays.into_iter().map(|r| (r, slot, why.clone())));
        }
        (all, relays)
    });
    for (r, slot, why) in relays {
        answer_error(r, slot, &why);
    }
    wake_all(waiters);
}

fn wake_all(waiters: Vec<Arc<Process>>) {
    let node = crate::sched::node();
    for w in waiters {
        if w.wake() {
            node.schedule(w);
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

// ---- The bare node: loading the program ---------------------------------

/// What the front end makes of a source: a program the runtime can load
/// (`termitec node` gives its JIT).
pub trait Compiled {
    fn desc(&self) -> ProgramDesc;
}

/// An event of the network layer, kept until the runtime can take it.
enum Held {
    Up(SocketAddr, u64, Option<SocketAddr>, Option<[u8; 32]>),
    Frame(SocketAddr, u8, Vec<u8>),
    Down(SocketAddr, Option<u64>, DownReason),
    Drained(SocketAddr),
}

#[derive(Default)]
struct BareState {
    /// The peer the program came from.
    origin: Option<SocketAddr>,
    /// The peer asked for its code (at most one at a time).
    asking: Option<SocketAddr>,
    /// Its answer went to the loader: later CODE frames are ignored.
    loading: bool,
    /// The program adopted (set when its code was accepted).
    adopted: Option<[u8; 32]>,
    /// The program of each peer that is up (`None`: a bare one).
    programs: HashMap<SocketAddr, Option<[u8; 32]>>,
    /// Peers told that this node runs another program.
    told: std::collections::HashSet<SocketAddr>,
    held: Vec<Held>,
    held_bytes: usize,
}

impl BareState {
    /// The program of peer `peer` (None: a bare one, or not up).
    fn program_of(&self, peer: SocketAddr) -> Option<[u8; 32]> {
        self.programs.get(&peer).copied().flatten()
    }
}

struct BareSink {
    /// Set (under `state`'s lock, after the replay) once the runtime
    /// takes every event.
    live: AtomicBool,
    state: Mutex<BareState>,
    to_loader: Mutex<Sender<(SocketAddr, [u8; 32], Source)>>,
}

impl BareSink {
    /// Asks `peer` (which runs `program`) for its code, unless a request
    /// is out or a program was adopted.
    fn ask(s: &mut BareState, peer: SocketAddr, program: [u8; 32]) {
        // Before the layer's handle is known nothing is sent: `serve_bare`
        // asks once it is.
        if s.asking.is_none() && !s.loading && s.adopted.is_none() && super::HANDLE.get().is_some()
        {
            s.asking = Some(peer);
            send(peer, CODE_REQ, program.to_vec());
        }
    }

    /// Asks the next peer that runs a program (not one that was refused
    /// or would not send).
    fn ask_another(s: &mut BareState, refused: Option<SocketAddr>) {
        let next = s
            .programs
            .iter()
            .filter(|(p, _)| Some(**p) != refused && !s.told.contains(*p))
            .find_map(|(p, id)| id.map(|id| (*p, id)));
        if let Some((p, id)) = next {
            Self::ask(s, p, id);
        }
    }

    /// Whether the frames of `peer` are of the adopted program (others
    /// are dropped, and the peer told once).
    fn ours(&self, peer: SocketAddr) -> bool {
        let mut s = lock(&self.state);
        let theirs = s.program_of(peer);
        if theirs.is_none() || theirs == s.adopted {
            return true;
        }
        if s.told.insert(peer) {
            eprintln!(
                "termite: node {peer} runs another program than this bare node: its frames are dropped"
            );
            send(
                peer,
                CODE_REFUSED,
                b"this bare node runs another program".to_vec(),
            );
        }
        false
    }

    /// The runtime is up: hands it every held event, in order. The events
    /// go to the runtime without the state's lock (it takes it itself, e.g.
    /// `program_node`); what the I/O thread holds meanwhile follows, and
    /// the sink is live once nothing is left, under the lock.
    fn go_live(&self) {
        loop {
            let held = {
                let mut s = lock(&self.state);
                if s.held.is_empty() {
                    s.held_bytes = 0;
                    self.live.store(true, Ordering::Release);
                    return;
                }
                std::mem::take(&mut s.held)
            };
            for ev in held {
                match ev {
                    Held::Up(p, inc, l, prog) => Glue.peer_up(p, inc, l, prog),
                    Held::Frame(p, k, bytes) => {
                        if self.ours(p) {
                            Glue.frame(p, k, Payload::Owned(bytes));
                        }
                    }
                    Held::Down(p, inc, why) => Glue.peer_down(p, inc, &why),
                    Held::Drained(p) => Glue.drained(p),
                }
            }
        }
    }

    /// Keeps `ev` for the runtime (a frame past `HELD_LIMIT` is dropped;
    /// the other events count a little each, and are bounded by the
    /// handshakes the limiter lets through).
    fn hold(&self, s: &mut BareState, ev: Held) {
        const EVENT_BYTES: usize = 64;
        if let Held::Frame(peer, kind, bytes) = &ev {
            if s.held_bytes + bytes.len() > HELD_LIMIT {
                return eprintln!(
                    "termite: node {peer}: a frame of kind {kind} arrived while this bare node \
                     loads its program, over {HELD_LIMIT} bytes held: dropped"
                );
            }
            s.held_bytes += bytes.len();
        }
        s.held_bytes += EVENT_BYTES;
        s.held.push(ev);
    }
}

impl Sink for BareSink {
    fn peer_up(
        &self,
        peer: SocketAddr,
        incarnation: u64,
        listen: Option<SocketAddr>,
        program: Option<[u8; 32]>,
    ) {
        let live = {
            let mut s = lock(&self.state);
            s.programs.insert(peer, program);
            let live = self.live.load(Ordering::Acquire);
            if !live {
                self.hold(&mut s, Held::Up(peer, incarnation, listen, program));
                if let Some(id) = program {
                    Self::ask(&mut s, peer, id);
                }
            }
            live
        };
        if live {
            Glue.peer_up(peer, incarnation, listen, program);
        }
    }

    fn frame(&self, peer: SocketAddr, kind: u8, payload: Payload<'_>) {
        if self.live.load(Ordering::Acquire) {
            if self.ours(peer) {
                Glue.frame(peer, kind, payload);
            }
            return;
        }
        let mut s = lock(&self.state);
        if self.live.load(Ordering::Acquire) {
            drop(s);
            if self.ours(peer) {
                Glue.frame(peer, kind, payload);
            }
            return;
        }
        match kind {
            CODE if s.asking == Some(peer) && !s.loading => {
                let source = payload
                    .get(32..)
                    .and_then(|b| postcard::from_bytes::<Source>(b).ok());
                // The program asked for: the one its handshake announced.
                let asked = s.program_of(peer);
                let id: Option<[u8; 32]> = payload
                    .get(..32)
                    .and_then(|b| b.try_into().ok())
                    .filter(|id| Some(*id) == asked);
                match (id, source) {
                    (Some(id), Some(src)) => {
                        s.loading = true;
                        let _ = lock(&self.to_loader).send((peer, id, src));
                    }
                    _ => {
                        eprintln!("termite: node {peer}: a malformed CODE frame, dropped");
                        s.asking = None;
                        Self::ask_another(&mut s, Some(peer));
                    }
                }
            }
            CODE_REFUSED if s.asking == Some(peer) && !s.loading => {
                eprintln!(
                    "termite: node {peer} sends no code: {}",
                    String::from_utf8_lossy(&payload)
                );
                // Its requests cannot be served: it is told so, and its
                // waits on this node end.
                send(
                    peer,
                    CODE_REFUSED,
                    b"this bare node has no code of that program".to_vec(),
                );
                s.told.insert(peer);
                s.asking = None;
                Self::ask_another(&mut s, Some(peer));
            }
            _ => self.hold(&mut s, Held::Frame(peer, kind, payload.to_vec())),
        }
    }

    fn peer_down(&self, peer: SocketAddr, incarnation: Option<u64>, reason: &DownReason) {
        let live = {
            let mut s = lock(&self.state);
            s.programs.remove(&peer);
            let live = self.live.load(Ordering::Acquire);
            if !live {
                self.hold(&mut s, Held::Down(peer, incarnation, reason.clone()));
                if s.asking == Some(peer) && !s.loading {
                    s.asking = None;
                    Self::ask_another(&mut s, Some(peer));
                }
            }
            live
        };
        if live {
            Glue.peer_down(peer, incarnation, reason);
        }
    }

    fn drained(&self, peer: SocketAddr) {
        if self.live.load(Ordering::Acquire) {
            return Glue.drained(peer);
        }
        let mut s = lock(&self.state);
        if self.live.load(Ordering::Acquire) {
            drop(s);
            return Glue.drained(peer);
        }
        self.hold(&mut s, Held::Drained(peer));
    }
}

/// `termitec node`: listens on `addr`, authenticates any peer, and takes
/// the code of the first that runs a program (`compile` is the JIT);
/// then serves that program until it is killed. Answers an exit status.
pub fn serve_bare<C: Compiled>(
    addr: SocketAddr,
    cookie: Option<&str>,
    heartbeat_timeout: Duration,
    compile: &dyn Fn(&Source) -> Result<C, String>,
) -> Result<i32, String> {
    BARE.store(true, Ordering::Relaxed);
    let (tx, rx): (Sender<_>, Receiver<_>) = channel();
    let sink = Arc::new(BareSink {
        live: AtomicBool::new(false),
        state: Mutex::new(BareState::default()),
        to_loader: Mutex::new(tx),
    });
    let mut c = NodeConfig::new(
        node::cookie::resolve(cookie)?,
        crate::ident::self_incarnation(),
        [0; 32],
    );
    c.listen = Some(addr);
    c.accept_any_program = true;
    c.heartbeat_timeout = heartbeat_timeout;
    c.handshake_timeout = heartbeat_timeout;
    let handle = node::Node::start(c, sink.clone()).map_err(|e| e.to_string())?;
    // The runtime's network layer is this one (`dist::handle`).
    let _ = super::HANDLE.set(Ok(handle.clone()));
    // Peers that came up before the handle was known are asked now.
    BareSink::ask_another(&mut lock(&sink.state), None);
    let program = loop {
        let Ok((peer, id, source)) = rx.recv() else {
            return Err("the network layer stopped".into());
        };
        // A bug of the compiler on that source refuses it, not the node.
        let compiled = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| compile(&source)))
            .unwrap_or_else(|_| Err("the compiler failed on it (an internal error)".into()));
        match compiled.and_then(|p| check_identity(&p.desc(), id).map(|()| p)) {
            Ok(p) => {
                let mut s = lock(&sink.state);
                s.adopted = Some(id);
                s.origin = Some(peer);
                s.asking = None;
                // Peers of another program that are up: their requests
                // cannot be served here (their waits end at once).
                let others: Vec<SocketAddr> = s
                    .programs
                    .iter()
                    .filter(|(_, p)| p.is_some_and(|p| p != id))
                    .map(|(a, _)| *a)
                    .collect();
                for o in others {
                    if s.told.insert(o) {
                        send(
                            o,
                            CODE_REFUSED,
                            b"this bare node runs another program".to_vec(),
                        );
                    }
                }
                break p;
            }
            Err(e) => {
                eprintln!("termite: the code of node {peer} is refused: {e}");
                let first_line = e.lines().next().unwrap_or("").to_string();
                send(peer, CODE_REFUSED, first_line.into_bytes());
                let mut s = lock(&sink.state);
                s.asking = None;
                s.loading = false;
                s.told.insert(peer);
                BareSink::ask_another(&mut s, Some(peer));
            }
        }
    };
    handle.set_program(lock(&sink.state).adopted.unwrap_or([0; 32]));
    let _ = SINK.set(sink.clone());
    // The held events go to the runtime once its node exists; its agent
    // takes the requests that come before it starts (`dist::agent_frame`).
    let replay = sink.clone();
    std::thread::Builder::new()
        .name("termite-bare-replay".into())
        .spawn(move || {
            while !crate::sched::is_running() {
                std::thread::sleep(Duration::from_millis(1));
            }
            replay.go_live();
        })
        .map_err(|e| format!("cannot start a thread: {e}"))?;
    Ok(crate::run::run_program(
        &program.desc(),
        vec!["termitec node".into()],
    ))
}

/// Whether the program `desc` is the one asked for: the same identity
/// (SHA-256 over its code ids), so the same code ids as the sender's.
fn check_identity(desc: &ProgramDesc, asked: [u8; 32]) -> Result<(), String> {
    // SAFETY: the JIT made `data_len` bytes at `data` (`ProgramDesc`).
    let blob = unsafe { std::slice::from_raw_parts(desc.data, desc.data_len) };
    let data = crate::program_state::decode(blob)?;
    let ids = data.code_ids.iter().copied().chain([
        crate::program_state::HALT_CODE_ID,
        crate::program_state::RAISE_RETURN_CODE_ID,
    ]);
    if crate::program_state::identity_of(ids) != asked {
        return Err(
            "what it compiles to is not the program asked for (another termitec version?)".into(),
        );
    }
    Ok(())
}
