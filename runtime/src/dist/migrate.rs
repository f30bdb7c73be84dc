//! Migration of running processes between nodes (ARCHITECTURE.md,
//! "Migration"; the protocol in docs/distribution.md).
//!
//! A process P that migrates keeps its *identity*, the pid it was spawned
//! with: every signal for it enters at its home node's slot and follows
//! the forwarding entries (`Inbox::Moved`) the nodes it left keep, one lane
//! per identity on each hop, so the signals from one sender arrive in the
//! order they were sent. Frames:
//!
//! - `MIGRATE`: `word: u64 LE | pid | wire state`, the state of the
//!   process whose slot on the sender is `word` and who answers to `pid`
//!   (a length-prefixed wire pid, see `put_pid`). The state is one wire
//!   value, so sharing between the continuation and the mailbox is kept:
//!   `#(k r0 r1 r2 r3 links visited watched m0 x0 m1 x1 ...)` — the
//!   continuation to resume, the registers, the outbound links, the nodes
//!   that keep a forwarding entry for it (the sender included), what it
//!   watches (`(node . pid)` pairs: processes of other nodes it is linked
//!   from), and the private queue's messages with their exit flags.
//! - `MIGRATED`: `incarnation | word | status u8 | reason text`: the
//!   answer, 0 when the process runs on the answering node.
//! - `FWD`: `kind u8 | pid | wire value`: a signal for the process `pid`,
//!   forwarded by a node it left.
//! - `FORGET`: `pid`: the process ended; the forwarding entry goes.
//! - `WATCH_AT`: `header | pid | wire node`: the process named by the
//!   header (of the receiver) watches `pid`, which runs on `node` now.
//! - `PROBE`: nothing; it makes the network layer connect (so that the
//!   death of a node is noticed by one that had no connection to it).

use super::*;
use crate::process::{
    Arriving, Delivery, Forward, MIGRATION_DONE, MIGRATION_FAILED, MIGRATION_NONE,
    MIGRATION_PENDING, Migration, Process,
};
use std::sync::atomic::{AtomicU64, Ordering};

pub const MIGRATE: u8 = 7;
pub const MIGRATED: u8 = 8;
pub const FWD: u8 = 9;
pub const FORGET: u8 = 10;
pub const WATCH_AT: u8 = 11;
pub const PROBE: u8 = 12;

/// A process waiting for another node to take it.
#[derive(Clone)]
pub(crate) struct Leaving {
    pid: u64,
    identity: Value,
    /// Its links: once it is gone, those of this node watch the node it
    /// went to, and the nodes of the others are told where it went
    /// (before the new node tells them).
    links: Vec<Value>,
}

/// Fixed words of a state vector before its messages.
const STATE_WORDS: usize = 8;

/// A fence sent out by a process that came back here.
pub(crate) struct FenceOut {
    pid: u64,
    /// The node it went to first.
    via: u32,
    since: std::time::Instant,
}

/// Appends `pid` as a length-prefixed (u32 LE) wire value.
pub(crate) fn put_pid(out: &mut Vec<u8>, pid: Value) -> Result<(), String> {
    let at = out.len();
    out.extend_from_slice(&[0; 4]);
    encode_after(pid, out)?;
    let n = (out.len() - at - 4) as u32;
    out[at..at + 4].copy_from_slice(&n.to_le_bytes());
    Ok(())
}

/// A pid written by `put_pid` at the start of `bytes`, and the bytes after
/// it; `None` if they hold no pid.
pub(crate) fn take_pid(bytes: &[u8]) -> Option<(Value, usize)> {
    let (n, rest) = bytes.split_first_chunk::<4>()?;
    let n = u32::from_le_bytes(*n) as usize;
    let (mem, pid) = crate::wire::decode(rest.get(..n)?).ok()?;
    // A pid is an immediate or a static object: it has no message memory
    // (anything else is not looked at once its memory is gone).
    let is_pid = matches!(mem, crate::heap::MessageMem::None) && ident::is_pid(pid);
    drop(mem);
    is_pid.then_some((pid, 4 + n))
}

/// The lane of the frames that carry process `identity` and its signals
/// from one node to the next: one per identity, so they stay in order.
/// It is also the lane of the process's own frames (`ctx.self_pid`), so
/// that what it sent before it left goes before it.
fn lane_of(identity: Value) -> u64 {
    identity.0
}

/// The slot here of the process that answers to `identity`: its own slot
/// on its home node, else the one its remote pid's location names.
pub(crate) fn slot_of(identity: Value) -> Option<u64> {
    if ident::is_local_pid(identity) {
        return Some(identity.imm_payload());
    }
    let at = ident::location(identity)?.load(Ordering::Acquire);
    (at != 0).then_some(at)
}

fn kind_byte(k: Kind) -> u8 {
    match k {
        Kind::Message => 0,
        Kind::Exit => 1,
        Kind::Link => 2,
        Kind::Kill => 3,
        Kind::Fence => 4,
        Kind::Unwatch => 5,
        Kind::Marker => 6,
    }
}

fn byte_kind(b: u8) -> Option<Kind> {
    Some(match b {
        0 => Kind::Message,
        1 => Kind::Exit,
        2 => Kind::Link,
        3 => Kind::Kill,
        4 => Kind::Fence,
        5 => Kind::Unwatch,
        6 => Kind::Marker,
        _ => return None,
    })
}

/// Sends signal `m` on to where the process of forwarding entry `f` went.
/// Any thread: a local message is encoded from its own blocks. Called with
/// the slot of the entry locked (so that a later fence of the slot goes
/// after it): it takes no other lock but leaf ones.
pub(crate) fn forward(m: Message, f: Forward) {
    let mut payload = Vec::with_capacity(64);
    payload.push(kind_byte(m.kind));
    let encoded = put_pid(&mut payload, f.identity).and_then(|()| match &m.mem {
        crate::heap::MessageMem::Wire(w) => {
            payload.extend_from_slice(w.value());
            Ok(())
        }
        _ => encode_after(m.value, &mut payload),
    });
    match encoded {
        Ok(()) => send_known(lane_of(f.identity), f.to, FWD, payload),
        Err(e) => eprintln!("termite: a message for a process that migrated {e}: dropped"),
    }
}

/// A FWD frame from node `from`: the signal goes to the process, or on.
pub(super) fn forwarded(peer: SocketAddr, from: u32, payload: Payload<'_>) {
    let Some((&kind, rest)) = payload.split_first() else {
        return log_bad(peer, "an empty forwarded signal");
    };
    let (Some(kind), Some((identity, n))) = (byte_kind(kind), take_pid(rest)) else {
        return log_bad(peer, "a malformed forwarded signal");
    };
    let Some(word) = slot_of(identity) else {
        // The process is not here (it ended, and this node forgot it).
        return;
    };
    let m = if kind == Kind::Fence {
        // Its number is looked at under the slot's lock: decoded here.
        match crate::wire::decode(&payload[1 + n..]) {
            Ok((_, v)) if v.is_fixnum() => Message::immediate(v, kind),
            _ => return log_bad(peer, "a malformed fence"),
        }
    } else {
        raw(payload, 1 + n, kind)
    };
    deliver_here(word, m, Some(from));
    if kind == Kind::Fence {
        let node = crate::sched::node();
        if !node.table.is_fenced(word) {
            with_state(|s| s.fenced.retain(|f| f.pid != word));
        }
        release_stale_fences();
    }
}

/// Delivers `m` to slot `word` (from node `from` if forwarded), sending it
/// on if the process left.
fn deliver_here(word: u64, m: Message, from: Option<u32>) {
    let node = crate::sched::node();
    if let Delivery::Woken(p) = node.table.deliver_from(word, m, from) {
        node.schedule(p);
    }
}

fn log_bad(peer: SocketAddr, what: &str) {
    eprintln!("termite: node {peer}: {what}, dropped");
}

/// `(%migrate-out node k)` on the thread of process `p`: sends its state,
/// with `k` the call to resume, to node `entry`, and marks it as waiting
/// for the answer. `Ok(false)` when it must first wait for its fence.
pub(crate) fn migrate_out(ctx: &mut Ctx, entry: u32, k: Value) -> Result<bool, String> {
    let Some(p) = ctx.current.clone() else {
        return Err("no process".into());
    };
    let node = crate::sched::node();
    if node.table.is_fenced(p.pid) {
        release_stale_fences();
        return Ok(false);
    }
    if with_state(|s| s.cannot_answer(entry, 0)) {
        return Err("that node runs no program".into());
    }
    // SAFETY: this thread runs the process.
    let inner = unsafe { p.inner() };
    let identity = inner.identity(p.pid);
    let mut visited: Vec<Value> = inner
        .migration
        .as_ref()
        .map(|m| m.visited.iter().map(|&e| ident::node_value(e)).collect())
        .unwrap_or_default();
    visited.push(ident::current_node());
    let links = inner.links.clone();
    let links = ctx.list(&links);
    let visited = ctx.list(&visited);
    // What it watches moves with it (the watch table is kept where the
    // watcher runs); this node forgets it when the move is done.
    let watched = with_state(|s| s.watches.of_watcher(p.pid));
    let watched: Vec<Value> = watched
        .into_iter()
        .map(|(e, w)| ctx.cons(ident::node_value(e), w))
        .collect();
    let watched = ctx.list(&watched);
    let registers = ctx.registers;
    let mut items = Vec::with_capacity(STATE_WORDS + 2 * inner.private.len());
    items.push(k);
    items.extend_from_slice(&registers);
    items.push(links);
    items.push(visited);
    items.push(watched);
    for e in &inner.private {
        items.push(e.value);
        items.push(Value::bool(e.is_exit()));
    }
    let state = ctx.vector(&items);
    let mut payload = Vec::with_capacity(256);
    payload.extend_from_slice(&p.pid.to_le_bytes());
    put_pid(&mut payload, identity)?;
    encode_after(state, &mut payload)?;
    // It answers to its identity from now on, wherever it runs.
    inner
        .migration
        .get_or_insert_with(|| Box::new(Migration::new(identity)));
    p.migrating.store(MIGRATION_PENDING, Ordering::SeqCst);
    // Registered before the send: a node that cannot be reached fails it.
    let leaving = Leaving {
        pid: p.pid,
        identity,
        links: inner.links.clone(),
    };
    with_state(|s| s.migrations.entry(entry).or_default().push(leaving));
    match send_frame_on(lane_of(identity), entry, MIGRATE, payload) {
        Ok(Sent::Full) => {
            answered(entry, p.pid, Err("the queue to that node is full".into()));
            Ok(true)
        }
        Ok(_) => Ok(true),
        Err(e) => {
            answered(entry, p.pid, Err(e));
            Ok(true)
        }
    }
}

/// The answer to the migration of process `pid` to node `entry`. When the
/// node took it, its slot becomes a forwarding entry at once (the signals
/// that came meanwhile go on, before any later one): the node may send it
/// back before it has run here again.
fn answered(entry: u32, pid: u64, result: Result<(), String>) {
    let leaving = with_state(|s| {
        let v = s.migrations.get_mut(&entry)?;
        let i = v.iter().position(|l| l.pid == pid)?;
        let leaving = v.swap_remove(i);
        if v.is_empty() {
            s.migrations.remove(&entry);
        }
        match &result {
            Err(why) => {
                s.failures.insert(pid, why.clone());
            }
            Ok(()) => {
                // Its watchers here now watch the node it went to: if
                // that node dies, so did it. (Under the state's lock, as
                // the node's death is handled.) What it watched, it
                // watches there.
                for &w in leaving.links.iter().filter(|&&l| ident::is_local_pid(l)) {
                    s.watches.moved(entry, w.imm_payload(), leaving.identity);
                }
                s.watches.forget_watcher(pid);
            }
        }
        Some(leaving)
    });
    let Some(Leaving {
        identity, links, ..
    }) = leaving
    else {
        return;
    };
    if result.is_ok() {
        // The watchers of other nodes learn where it went from here too: if
        // the new node died before its own WATCH reached them, they would
        // never be told.
        for w in links.into_iter().filter(|&l| !ident::is_local_pid(l)) {
            let frame = addressed(w, UNSPECIFIED).and_then(|(e, mut payload)| {
                payload.truncate(HEADER);
                put_pid(&mut payload, identity)?;
                encode_after(ident::node_value(entry), &mut payload)?;
                Ok((e, payload))
            });
            if let Ok((e, payload)) = frame
                && e != entry
            {
                let _ = send_frame_on(lane_of(identity), e, WATCH_AT, payload);
            }
        }
    }
    let node = crate::sched::node();
    let Some(p) = node.table.get(pid) else {
        return;
    };
    let state = if result.is_ok() {
        // Its routes were this node's (it may come back to this slot
        // before its old self ends here: they go now).
        routes::forget_sender(pid);
        let f = Forward {
            pid,
            to: entry,
            identity,
        };
        node.table.move_out(f, forward);
        MIGRATION_DONE
    } else {
        MIGRATION_FAILED
    };
    // SeqCst, then `wake`: pairs with the process's store of WAITING
    // then load of `migrating` (`sched::run_process`).
    p.migrating.store(state, Ordering::SeqCst);
    if p.wake() {
        node.schedule(p);
    }
}

/// Node `entry` is down: the migrations to it fail.
pub(super) fn fail_migrations(entry: u32) {
    let leaving = with_state(|s| s.migrations.get(&entry).cloned().unwrap_or_default());
    for l in leaving {
        answered(entry, l.pid, Err("the node is down".into()));
    }
    // A fence on its way through that node will not come back.
    release_fences(|f| f.via == entry);
}

/// Releases the fences `lost` says will not come back, and those out for
/// longer than twice the heartbeat timeout (lost with a node further on
/// the way, whose death this node may not see).
fn release_fences(lost: impl Fn(&FenceOut) -> bool) {
    let stale = 2 * crate::node::options::get().heartbeat_timeout;
    let released = with_state(|s| {
        let (gone, kept) = std::mem::take(&mut s.fenced)
            .into_iter()
            .partition(|f| lost(f) || f.since.elapsed() > stale);
        s.fenced = kept;
        gone
    });
    let node = crate::sched::node();
    for f in released {
        if let Some(p) = node.table.unfence(f.pid) {
            node.schedule(p);
        }
    }
}

/// Releases the fences that are out for too long (see `release_fences`).
pub(crate) fn release_stale_fences() {
    release_fences(|_| false);
}

/// What `%migrate-result` finds for the running process.
pub(crate) enum Outcome {
    Pending,
    /// The other node took it: it has ended here.
    Moved,
    Failed(String),
}

/// `(%migrate-result)`: whether the other node answered, and what. When
/// it took the process, the slot is a forwarding entry already
/// (`answered`): the process ends here.
pub(crate) fn migrate_result(ctx: &mut Ctx) -> Outcome {
    let Some(p) = ctx.current.clone() else {
        return Outcome::Failed("no process".into());
    };
    let state = p.migrating.load(Ordering::SeqCst);
    if state == MIGRATION_PENDING {
        return Outcome::Pending;
    }
    p.migrating.store(MIGRATION_NONE, Ordering::Relaxed);
    // SAFETY: this thread runs the process.
    let inner = unsafe { p.inner() };
    if let Some(m) = inner.migration.as_mut() {
        m.committed = state == MIGRATION_DONE;
    }
    if state == MIGRATION_DONE {
        return Outcome::Moved;
    }
    Outcome::Failed(with_state(|s| s.failures.remove(&p.pid)).unwrap_or_default())
}

/// A MIGRATE frame from node `from`: the process runs here from now on,
/// in a slot of this node (its own again if it comes back), and decodes
/// its state in its first slice (`arrive`).
pub(super) fn migrate_in(peer: SocketAddr, from: u32, payload: Payload<'_>) {
    let Some((word, rest)) = payload.split_first_chunk::<8>() else {
        return log_bad(peer, "a truncated migration");
    };
    let from_word = u64::from_le_bytes(*word);
    let Some((identity, n)) = take_pid(rest) else {
        return log_bad(peer, "a migration without a pid");
    };
    let refuse = |why: &str| send_answer(from, from_word, identity, Err(why));
    let node = crate::sched::node();
    // Its watchers here have no node to watch for it now (before any
    // death of the node it comes from is handled).
    with_state(|s| s.watches.forget_watched(identity));
    let state = raw(payload, 8 + n, Kind::Message);
    let make = |pid: u64, state: Message| {
        let p = Arc::new(Process::new(
            pid,
            crate::heap::Heap::new(crate::sched::PROCESS_HEAP_BYTES),
            UNSPECIFIED,
            crate::process::Args::new(),
        ));
        // A timer of a wait of its earlier stay in this slot may still be
        // due: its waits are numbered past every such one.
        static EPOCH: AtomicU64 = AtomicU64::new(1);
        p.wait_seq.store(
            EPOCH.fetch_add(1, Ordering::Relaxed) << 32,
            Ordering::Relaxed,
        );
        let mut m = Migration::new(identity);
        m.arriving = Some(Arriving {
            state,
            from,
            from_word,
            replaced: None,
        });
        // SAFETY: the process is not published yet: its creator owns it.
        unsafe { p.inner() }.migration = Some(Box::new(m));
        p
    };
    let back = slot_of(identity);
    let p = if let Some(pid) = back {
        // It comes back to a node it left: it takes its slot again, and
        // the signals this node forwarded meanwhile come back through
        // `from`, followed by a fence.
        // Numbered apart from other nodes' fences (a stale one of another
        // node must not release this one).
        static FENCES: AtomicU64 = AtomicU64::new(1);
        let seq = (ident::self_incarnation() & 0xf_ffff) << 40
            | FENCES.fetch_add(1, Ordering::Relaxed) & ((1 << 40) - 1);
        let p = make(pid, state);
        let Some(f) = node.table.move_back(p.clone(), from, seq) else {
            return refuse("its slot here is taken");
        };
        // SAFETY: published, but not scheduled yet: nothing else runs it.
        if let Some(a) = unsafe { p.inner() }
            .migration
            .as_mut()
            .and_then(|m| m.arriving.as_mut())
        {
            a.replaced = Some(f);
        }
        with_state(|s| {
            s.fenced.push(FenceOut {
                pid,
                via: f.to,
                since: std::time::Instant::now(),
            })
        });
        forward(
            Message::immediate(Value::fixnum(seq as i64), Kind::Fence),
            f,
        );
        p
    } else {
        let Some(pid) = node.table.fresh_pid_shared() else {
            return refuse("this node holds as many processes as it can");
        };
        let p = make(pid, state);
        if let Some(l) = ident::location(identity) {
            l.store(pid, Ordering::Release);
        }
        node.table.insert(p.clone());
        p
    };
    node.schedule(p);
}

/// The answer to a migration from process `word` of node `to`.
fn send_answer(to: u32, word: u64, identity: Value, result: Result<(), &str>) {
    let incarnation = ident::entry(to).map_or(0, |e| e.incarnation.load(Ordering::Acquire));
    let mut payload = Vec::with_capacity(32);
    payload.extend_from_slice(&incarnation.to_le_bytes());
    payload.extend_from_slice(&word.to_le_bytes());
    match result {
        Ok(()) => payload.push(0),
        Err(why) => {
            payload.push(1);
            payload.extend_from_slice(why.as_bytes());
        }
    }
    // On the lane of the process: before anything it sends after this.
    let _ = send_frame_on(lane_of(identity), to, MIGRATED, payload);
}

/// A MIGRATED frame: the answer of node `from` for our process `word`.
pub(super) fn migrated(from: u32, word: u64, rest: &[u8]) {
    let result = match rest.split_first() {
        Some((0, _)) => Ok(()),
        Some((_, why)) => Err(format!(
            "refused by {}: {}",
            ident::address_text(from),
            String::from_utf8_lossy(why)
        )),
        None => Err("a malformed answer".into()),
    };
    answered(from, word, result);
}

/// The first slice of a process that arrived: decodes its state into its
/// heap and takes it up, then tells the node it came from. False if the
/// state is refused (the sender keeps the process; this one ends here).
pub(crate) fn arrive(p: &Arc<Process>, inner: &mut crate::process::Inner) -> bool {
    let Some(a) = inner.migration.as_mut().and_then(|m| m.arriving.take()) else {
        return true;
    };
    let result = take_up(inner, a.state);
    let identity = inner.identity(p.pid);
    match result {
        Ok(watched) => {
            // What it watches, it watches from here (a process of this
            // node it watched is in this node's links of it: nothing to do).
            for (entry, w) in watched {
                if entry != 0 {
                    watch_node(entry, p.pid, w);
                }
            }
            send_answer(a.from, a.from_word, identity, Ok(()));
            // Its watchers on other nodes watch this node for it now.
            for &w in &inner.links {
                if !ident::is_local_pid(w)
                    && let Ok((entry, payload)) = addressed(w, identity)
                {
                    let _ = send_frame_on(lane_of(identity), entry, WATCH, payload);
                }
            }
            true
        }
        Err(why) => {
            eprintln!("termite: a process from another node is refused: {why}");
            send_answer(a.from, a.from_word, identity, Err(&why));
            let node = crate::sched::node();
            match a.replaced {
                Some(f) => {
                    node.table.move_out(f, forward);
                }
                None => {
                    let mut freed = Vec::new();
                    node.table.remove(p.pid, &mut freed);
                    node.table.give_back(freed);
                    if let Some(l) = ident::location(identity) {
                        l.store(0, Ordering::Release);
                    }
                }
            }
            if let Some(m) = inner.migration.as_mut() {
                m.committed = true;
            }
            false
        }
    }
}

/// Decodes a state vector (see the module's comment) into `inner`.
fn take_up(inner: &mut crate::process::Inner, state: Message) -> Result<Vec<(u32, Value)>, String> {
    let limit = match &state.mem {
        crate::heap::MessageMem::Wire(w) => w.value().len(),
        _ => 0,
    };
    let m = decoded(state).ok_or("its state is malformed")?;
    let v = inner.heap.take_message(m.mem, m.value);
    if !v.has_type(T_VECTOR) {
        return Err("its state is not a vector".into());
    }
    let n = v.len();
    if n < STATE_WORDS || !(n - STATE_WORDS).is_multiple_of(2) {
        return Err("its state has the wrong length".into());
    }
    let field = |i: usize| v.field(1 + i);
    let k = field(0);
    if !k.has_type(T_CLOSURE) {
        return Err("its continuation is not a procedure".into());
    }
    let links = list_items(field(5), limit).ok_or("its links are malformed")?;
    let visited = list_items(field(6), limit).ok_or("its visited nodes are malformed")?;
    let watched = list_items(field(7), limit).ok_or("what it watches is malformed")?;
    let watched: Vec<(u32, Value)> = watched
        .iter()
        .map(|w| {
            let (n, pid) = w.as_pair().ok_or("a watch is not a pair")?;
            match ident::node_index(n) {
                Some(e) if ident::is_pid(pid) => Ok((e, pid)),
                _ => Err("a watch is not a node and a pid"),
            }
        })
        .collect::<Result<_, _>>()?;
    if !links.iter().all(|&l| ident::is_pid(l)) {
        return Err("its links are not pids".into());
    }
    let visited: Vec<u32> = visited
        .iter()
        .map(|&n| ident::node_index(n).ok_or("a visited node is not a node"))
        .collect::<Result<_, _>>()?;
    inner.callee = k;
    inner.args.clear();
    inner.args.push(UNSPECIFIED);
    for (i, r) in inner.registers.iter_mut().enumerate() {
        *r = field(1 + i);
    }
    inner.links = links;
    if let Some(mig) = inner.migration.as_mut() {
        // This node keeps no forwarding entry while the process is here.
        mig.visited = visited.into_iter().filter(|&e| e != 0).collect();
        mig.visited.dedup();
    }
    let mut i = STATE_WORDS;
    while i < n {
        inner.push_private(field(i), field(i + 1) == TRUE);
        i += 2;
    }
    Ok(watched)
}

/// The elements of a proper list; `None` for an improper or circular one
/// (the wire format keeps cycles: a list of more elements than its
/// message has words is circular).
fn list_items(mut l: Value, limit: usize) -> Option<Vec<Value>> {
    let mut out = Vec::new();
    while let Some((car, cdr)) = l.as_pair() {
        if out.len() >= limit {
            return None;
        }
        out.push(car);
        l = cdr;
    }
    (l == NULL).then_some(out)
}

/// Process `p` (answering to `identity`) ended here: the nodes that keep a
/// forwarding entry for it forget it, and so does this node.
pub(crate) fn ended(identity: Value, m: &Migration) {
    if let Some(l) = ident::location(identity) {
        l.store(0, Ordering::Release);
    }
    if m.visited.is_empty() {
        return;
    }
    let mut payload = Vec::with_capacity(32);
    if put_pid(&mut payload, identity).is_err() {
        return;
    }
    for &e in &m.visited {
        let _ = send_frame_on(lane_of(identity), e, FORGET, payload.clone());
    }
}

/// A FORGET frame: the process that left this node ended elsewhere.
pub(super) fn forget(peer: SocketAddr, payload: &[u8]) {
    let Some((identity, _)) = take_pid(payload) else {
        return log_bad(peer, "a malformed FORGET");
    };
    let Some(word) = slot_of(identity) else {
        return;
    };
    let node = crate::sched::node();
    if node.table.forget(word) {
        if let Some(l) = ident::location(identity) {
            l.store(0, Ordering::Release);
        }
        forget_watcher(word);
        if word == node.primordial {
            // The program's first process ended elsewhere: the program is over.
            node.end_program(0);
        }
    }
}

/// A WATCH_AT frame for our process `word`: it watches the process `pid`,
/// which runs on another node now; if this node has no connection to that
/// node, it makes one, so that its death is noticed.
pub(super) fn watch_at(peer: SocketAddr, word: u64, rest: &[u8]) {
    let Some((pid, n)) = take_pid(rest) else {
        return log_bad(peer, "a malformed WATCH_AT");
    };
    let node = match crate::wire::decode(&rest[n..]) {
        Ok((_, v)) => ident::node_index(v),
        Err(_) => None,
    };
    let Some(entry) = node else {
        return log_bad(peer, "a WATCH_AT without a node");
    };
    if entry == 0 {
        // It came here: `migrate_in` took care of its watchers.
        return;
    }
    watch_node(entry, word, pid);
}

/// `add_watch`, and a connection to node `entry` if there is none, so
/// that its death is noticed here.
fn watch_node(entry: u32, watcher: u64, watched: Value) {
    add_watch(entry, watcher, watched);
    if !with_state(|s| s.up.contains_key(&entry)) {
        let _ = send_frame_on(lane_of(watched), entry, PROBE, Vec::new());
    }
}
