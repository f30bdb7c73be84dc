//! Senders that learn where a migrated process runs (ARCHITECTURE.md,
//! "Senders that learn the new location"; the protocol in
//! docs/distribution.md).
//!
//! A node that forwards a message which came straight from node A tells A
//! the process moved (MOVED); A bumps the moved counter of its remote pid.
//! A process of A that sends to it next sends a marker along its current
//! path and waits; the node where the marker reaches the process answers
//! where it runs (ROUTED), and the sender's signals go straight there from
//! then on. Frames:
//!
//! - `MOVED`: `pid`: a message of the receiver's for the process that
//!   answers to `pid` was forwarded by the sender of the frame.
//! - `MARKER`: `header | wire #(sender seq identity)`: a signal of kind
//!   `Marker` for the slot the header names, delivered like a MSG.
//! - `ROUTED`: `header | seq u64 | word u64 | pid`: for the sending
//!   process the header names, its marker `seq` for `pid` reached slot
//!   `word` of the frame's sender, where that process runs.

use super::*;
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

pub const MOVED: u8 = 18;
pub const MARKER: u8 = 19;
pub const ROUTED: u8 = 20;

/// A node tells another that a process moved at most this often (per
/// node and slot): every forwarded message would otherwise send a hint.
const HINT_EVERY: Duration = Duration::from_millis(100);

/// A marker not answered within this settles its route on the old path
/// (lost with a node on its way; one that reaches a slot with no process
/// is answered there). Correctness does not depend on it: the old path
/// keeps order behind the marker, and a late answer is still taken while
/// nothing went the old way since.
const MARKER_TIMEOUT: Duration = Duration::from_millis(500);

/// Where the signals of a sender for a process go: slot `word` of node
/// `entry` (0: this node) in its incarnation `incarnation`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct Target {
    pub entry: u32,
    pub incarnation: u64,
    pub word: u64,
}

impl Target {
    /// The home of `to`, a pid of another node: where its pid says it runs
    /// (`None` for a pid of this node, or of an earlier incarnation of it).
    pub(crate) fn home(to: Value) -> Option<Target> {
        let (entry, incarnation, word) = ident::parts(to)?;
        if entry == 0 {
            return None;
        }
        Some(Target {
            entry,
            incarnation,
            word,
        })
    }
}

#[derive(Clone, Copy)]
enum Route {
    /// The sender's signals go to `at`; settled when the moved counter was
    /// `seen`. `late`: the marker of a route that timed out, whose answer
    /// is still taken while no signal went to `at` since.
    Ready {
        at: Target,
        seen: u64,
        late: Option<u64>,
    },
    /// Marker `seq` went along `old`, where the sender's other signals go
    /// until it is answered; the counter was `seen` when it went.
    Pending {
        old: Target,
        seq: u64,
        seen: u64,
        since: Instant,
    },
}

impl Route {
    fn ready(at: Target, seen: u64) -> Route {
        Route::Ready {
            at,
            seen,
            late: None,
        }
    }

    fn current(&self) -> Target {
        match *self {
            Route::Ready { at, .. } => at,
            Route::Pending { old, .. } => old,
        }
    }

    /// A pending route whose marker is lost goes back to its old path.
    fn settle_if_lost(&mut self) {
        if let Route::Pending {
            old,
            seen,
            since,
            seq,
        } = *self
            && since.elapsed() > MARKER_TIMEOUT
        {
            *self = Route::Ready {
                at: old,
                seen,
                late: Some(seq),
            };
        }
    }
}

#[derive(Default)]
struct Routes {
    /// Sender slot -> identity (its bits) -> route.
    by_sender: HashMap<u64, HashMap<u64, Route>>,
    /// Numbers markers.
    seq: u64,
    /// When this node last told a node that a slot's process moved.
    told: HashMap<(u32, u64), Instant>,
}

static ROUTES: Mutex<Option<Routes>> = Mutex::new(None);

fn with_routes<R>(f: impl FnOnce(&mut Routes) -> R) -> R {
    let mut g = ROUTES.lock().unwrap_or_else(|e| e.into_inner());
    f(g.get_or_insert_with(Routes::default))
}

/// What a message of a sender for a process that moved does.
pub(crate) enum Way {
    /// Goes to this target.
    At(Target),
    /// Is refused: the sender waits for its marker's answer
    /// (`congested`), then sends again.
    Wait,
}

/// The way of a message of the running process (slot `sender`) for `to`
/// (a remote pid, whose home is `home`), whose moved counter is `counter`
/// (not 0). Sends a marker when the counter changed since the sender's
/// route was settled. (The marker is the only allocation: the caller's
/// message is not looked at again when one is sent.)
pub(crate) fn for_message(
    ctx: &mut Ctx,
    sender: u64,
    to: Value,
    home: Target,
    counter: u64,
) -> Way {
    let (way, marker) = with_routes(|r| {
        let routes = r.by_sender.entry(sender).or_default();
        let route = routes.entry(to.0).or_insert(Route::ready(home, 0));
        route.settle_if_lost();
        match *route {
            Route::Pending { .. } => (Way::Wait, None),
            Route::Ready { at, seen, .. } if seen == counter => {
                // A signal goes the old way: a late answer is too late.
                *route = Route::ready(at, seen);
                (Way::At(at), None)
            }
            Route::Ready { at, .. } => {
                r.seq += 1;
                let seq = r.seq;
                *route = Route::Pending {
                    old: at,
                    seq,
                    seen: counter,
                    since: Instant::now(),
                };
                (Way::Wait, Some((at, seq)))
            }
        }
    });
    if let Some(p) = ctx.current.as_deref() {
        // SAFETY: this thread runs the current process.
        unsafe { p.inner() }.routed = true;
    }
    if let Some((at, seq)) = marker {
        let sent = send_marker(ctx, sender, to, at, seq);
        // A node found down while it was sent dropped the route: the
        // signals take that way, where they are dropped too (the sender
        // must not look for a route again and again).
        let dropped = with_routes(|r| {
            let routes = r.by_sender.entry(sender).or_default();
            let gone = !sent || !routes.contains_key(&to.0);
            if gone {
                routes.insert(to.0, Route::ready(at, counter));
            }
            gone
        });
        if dropped {
            return Way::At(at);
        }
    }
    way
}

/// Sends marker `seq` of `sender` for `to` along `at`, on the sender's
/// lane (behind everything it sent that way); false if it cannot go.
fn send_marker(ctx: &mut Ctx, sender: u64, to: Value, at: Target, seq: u64) -> bool {
    let v = ctx.vector(&[
        crate::process::pid_value(sender),
        Value::fixnum(seq as i64),
        to,
    ]);
    if at.entry == 0 {
        crate::sched::node().deliver(at.word, Message::copy_of(v, Kind::Marker));
        return true;
    }
    let mut payload = words_payload(&[at.incarnation, at.word]);
    encode_after(v, &mut payload).is_ok() && send_frame(ctx, at.entry, MARKER, payload).is_ok()
}

/// Where the EXIT and UNWATCH of `sender` (a slot of this node) for `to`
/// go: where its messages go (a slot of this node when its route is to
/// this node); `None` for the home.
pub(crate) fn path(sender: Option<u64>, to: Value) -> Option<Target> {
    let sender = sender?;
    if ident::moved(to)?.load(Ordering::Acquire) == 0 {
        return None;
    }
    with_routes(|r| {
        let route = r.by_sender.get_mut(&sender)?.get_mut(&to.0)?;
        let at = route.current();
        if let Route::Ready { seen, .. } = *route {
            *route = Route::ready(at, seen);
        }
        Some(at)
    })
}

/// `(%congested? pid)` for the running process (slot `sender`): whether
/// its route to `to` waits for its marker's answer, or the queue to the
/// node its signals go to is over its limit.
pub(crate) fn congested(sender: u64, to: Value) -> bool {
    let target = with_routes(|r| {
        let route = r.by_sender.get_mut(&sender)?.get_mut(&to.0)?;
        route.settle_if_lost();
        Some(match route {
            Route::Pending { .. } => None,
            Route::Ready { at, .. } => Some(at.entry),
        })
    });
    match target {
        Some(None) => true,
        Some(Some(entry)) => super::congested(entry),
        None => Target::home(to).is_some_and(|t| super::congested(t.entry)),
    }
}

/// The parts of a marker's value: the sender's pid, its number, the
/// identity it is for. Pids are immediates or static objects: they
/// outlive the marker's memory.
pub(crate) fn marker_parts(v: Value) -> Option<(Value, u64, Value)> {
    if !v.has_type(T_VECTOR) || v.len() != 3 {
        return None;
    }
    let (sender, seq, identity) = (v.field(1), v.field(2), v.field(3));
    if !seq.is_fixnum() {
        return None;
    }
    let seq = u64::try_from(seq.as_fixnum()).ok()?;
    (ident::is_pid(sender) && ident::is_pid(identity)).then_some((sender, seq, identity))
}

/// A marker reached slot `word`: its live process (not fenced), whose
/// inbox holds every signal its sender sent before it; or no process, when
/// what is sent there is dropped as on any path (the sender stops
/// waiting).
pub(crate) fn reached(word: u64, m: Message) {
    // A marker is three small words: anything larger is not one (and is
    // not decoded on the I/O thread).
    if let crate::heap::MessageMem::Wire(w) = &m.mem
        && w.value().len() > 256
    {
        return;
    }
    let Some(m) = decoded(m) else { return };
    if let Some(parts) = marker_parts(m.value) {
        answer(word, parts);
    }
}

/// Tells the sender of a marker that the process it is for runs in slot
/// `word` of this node.
pub(crate) fn answer(word: u64, (sender, seq, identity): (Value, u64, Value)) {
    if ident::is_local_pid(sender) {
        let here = Target {
            entry: 0,
            incarnation: ident::self_incarnation(),
            word,
        };
        return settle(sender.imm_payload(), identity, seq, here);
    }
    let Some((entry, incarnation, sender_word)) = ident::parts(sender) else {
        return;
    };
    let mut payload = words_payload(&[incarnation, sender_word, seq, word]);
    if migrate::put_pid(&mut payload, identity).is_ok() {
        let _ = send_frame_on(identity.0, entry, ROUTED, payload);
    }
}

/// A ROUTED frame from node `from` for our process `sender` (the rest of
/// the frame after its header).
pub(super) fn routed(peer: SocketAddr, from: u32, sender: u64, rest: &[u8]) {
    let parse = || {
        let (seq, rest) = rest.split_first_chunk::<8>()?;
        let (word, rest) = rest.split_first_chunk::<8>()?;
        let (identity, _) = migrate::take_pid(rest)?;
        let word = u64::from_le_bytes(*word);
        (word < 1 << 56).then_some((u64::from_le_bytes(*seq), word, identity))
    };
    let Some((seq, word, identity)) = parse() else {
        return eprintln!("termite: node {peer}: a malformed ROUTED, dropped");
    };
    let Some(e) = ident::entry(from) else { return };
    let at = Target {
        entry: from,
        incarnation: e.incarnation.load(Ordering::Acquire),
        word,
    };
    settle(sender, identity, seq, at);
}

/// Marker `seq` of `sender` for `identity` was answered: its signals go to
/// `at` from now on, and it sends again what was refused.
fn settle(sender: u64, identity: Value, seq: u64, at: Target) {
    let settled = with_routes(|r| {
        let route = r.by_sender.get_mut(&sender)?.get_mut(&identity.0)?;
        match *route {
            Route::Pending { seq: s, seen, .. }
            | Route::Ready {
                late: Some(s),
                seen,
                ..
            } if s == seq => {
                *route = Route::ready(at, seen);
                Some(())
            }
            _ => None,
        }
    });
    let node = crate::sched::node();
    if settled.is_some()
        && let Some(p) = node.table.get(sender)
        && p.wake()
    {
        node.schedule(p);
    }
}

/// A MSG from node `from` for slot `word` was forwarded: the process that
/// answers to `identity` moved. `from` is told (at most every
/// `HINT_EVERY` per slot).
pub(crate) fn forwarded_from(from: u32, word: u64, identity: Value) {
    let now = Instant::now();
    let tell = with_routes(|r| {
        if r.told.len() > 4096 {
            r.told.retain(|_, t| now.duration_since(*t) < HINT_EVERY);
        }
        match r.told.get(&(from, word)) {
            Some(t) if now.duration_since(*t) < HINT_EVERY => false,
            _ => {
                r.told.insert((from, word), now);
                true
            }
        }
    });
    let mut payload = Vec::with_capacity(32);
    if tell && migrate::put_pid(&mut payload, identity).is_ok() {
        let _ = send_frame_on(identity.0, from, MOVED, payload);
    }
}

/// A message of this node's, delivered to slot `word` here, was forwarded:
/// the process that answers to `identity` moved on.
pub(crate) fn moved_here(identity: Value) {
    if let Some(c) = ident::moved(identity) {
        c.fetch_add(1, Ordering::AcqRel);
    }
}

/// A MOVED frame.
pub(super) fn moved(peer: SocketAddr, payload: &[u8]) {
    match migrate::take_pid(payload) {
        // A pid of this node (its slot here forwards for it already), or of
        // an earlier incarnation of it, has no route.
        Some((pid, _)) if Target::home(pid).is_some() => moved_here(pid),
        Some(_) => {}
        None => eprintln!("termite: node {peer}: a malformed MOVED, dropped"),
    }
}

/// The process of slot `sender` ended: its routes go.
pub(crate) fn forget_sender(sender: u64) {
    with_routes(|r| r.by_sender.remove(&sender));
}

/// Node `entry` is down: the routes to it go (their senders start again
/// from the home).
pub(super) fn node_down(entry: u32) {
    with_routes(|r| {
        for routes in r.by_sender.values_mut() {
            routes.retain(|_, route| route.current().entry != entry);
        }
        r.by_sender.retain(|_, routes| !routes.is_empty());
        r.told.retain(|&(e, _), _| e != entry);
    });
}
