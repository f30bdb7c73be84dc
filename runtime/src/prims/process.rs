//! Processes and messages: spawn, send, the mailbox operations selective
//! receive is built from, tags and links.

use crate::ctx::Ctx;
use crate::process::{Kind, Message, is_pid, pid_value};
use crate::sched::{self, node};
use crate::value::*;
use std::sync::atomic::{AtomicU64, Ordering};

/// What `%mailbox-next` answers when no message is left to offer.
pub const NO_MESSAGE: Value = imm(IMM_UNBOUND, 1);

static NEXT_TAG: AtomicU64 = AtomicU64::new(1);

// Compiled code reads `ctx.self_pid` inline; this serves `apply` and the like.
prim!(fn tm_self(ctx) { ctx.self_pid });
prim!(fn tm_pid_p(_ctx, x) { Value::bool(crate::ident::is_pid(x)) });

prim!(fn tm_spawn(ctx, thunk) {
    if !thunk.has_type(T_CLOSURE) { return ctx.type_error("spawn", "a procedure", thunk); }
    match sched::spawn(ctx, node(), thunk, None) {
        Some(pid) => pid_value(pid),
        None => ctx.raise_error("spawn: the node holds as many processes as it can", &[]),
    }
});

// spawn-link: the child's exceptions come to us, and ours go to the child.
prim!(fn tm_spawn_link(ctx, thunk) {
    if !thunk.has_type(T_CLOSURE) { return ctx.type_error("spawn-link", "a procedure", thunk); }
    let me = ctx.self_pid;
    let Some(child) = sched::spawn(ctx, node(), thunk, Some(me)) else {
        return ctx.raise_error("spawn-link: the node holds as many processes as it can", &[]);
    };
    if let Some(p) = ctx.current.as_deref() {
        // SAFETY: this thread runs the current process.
        unsafe { p.inner() }.add_link(child);
    }
    pid_value(child)
});

/// The pid of the node's standard output: a message sent to it is
/// displayed (paper 3.1: devices are processes). It never runs code, so it
/// is served in the sender's thread, in the order of the sends.
pub const OUTPUT_PID: u64 = 1;

prim!(fn tm_output_port(_ctx) { pid_value(OUTPUT_PID) });

prim!(fn tm_send(ctx, to, msg) {
    if !is_pid(to) {
        if crate::ident::is_remote_pid(to) {
            return crate::ident::remote_send(ctx, to, msg);
        }
        return ctx.type_error("!", "a pid", to);
    }
    if crate::prims::ports::is_port(to) {
        crate::prims::ports::write_port(to, &crate::print::display_string(msg));
        return UNSPECIFIED;
    }
    node().deliver(to.imm_payload(), Message::copy_of(msg, Kind::Message));
    UNSPECIFIED
});

/// The exit signal a link request gets from a process that is gone.
fn noproc() -> Value {
    Value::symbol(crate::symbols::intern("noproc"))
}

// (%link from to): exceptions that kill `from` are raised in `to`. A
// process changes its own links itself; another process's with a link
// signal, which a process that is gone answers with `noproc` (see
// ARCHITECTURE.md, "Signals").
prim!(fn tm_link(ctx, from, to) {
    if !crate::ident::is_pid(from) { return ctx.type_error("link", "a pid", from); }
    if !crate::ident::is_pid(to) { return ctx.type_error("link", "a pid", to); }
    if !is_pid(from) || !is_pid(to) {
        return crate::dist::link(ctx, from, to);
    }
    if from == ctx.self_pid {
        let to = to.imm_payload();
        if let Some(p) = ctx.current.as_deref() {
            // SAFETY: this thread runs the current process.
            unsafe { p.inner() }.add_link(to);
        }
        return UNSPECIFIED;
    }
    let (from, to) = (from.imm_payload(), to.imm_payload());
    if from == OUTPUT_PID {
        // The output device never dies.
        return UNSPECIFIED;
    }
    if !node().deliver(from, Message::immediate(pid_value(to), Kind::Link)) {
        node().deliver(to, Message::immediate(noproc(), Kind::Exit));
    }
    UNSPECIFIED
});

/// What draining the inbox found besides messages.
enum Drained {
    Mail,
    /// A kill signal: the process must end now.
    Killed,
}

/// Handles the signals that arrived for the running process, in order:
/// messages and exits go to the private queue (taken into the process's
/// heap), link requests to its links, a kill ends the drain. With
/// `take_first`, when the private queue is empty the first message is
/// answered instead of queued (a receive of any message then never
/// touches the queue).
/// Takes what arrived for the running process into its mailbox (as a
/// receive does before it looks); `true` if a kill signal came, when the
/// caller must answer `die_killed`.
pub(crate) fn take_inbox(ctx: &mut Ctx) -> bool {
    matches!(drain_inbox(ctx, false), (_, Drained::Killed))
}

fn drain_inbox(ctx: &mut Ctx, take_first: bool) -> (Option<Value>, Drained) {
    let Some(p) = ctx.current.as_deref() else {
        return (None, Drained::Mail);
    };
    // SAFETY: this thread runs the current process. `ctx.heap` points at
    // `inner.heap`, which the drain uses directly (runtime allocations
    // never touch the nursery compiled code bumps through).
    let inner = unsafe { p.inner() };
    drain_into(p, inner, take_first)
}

fn drain_into(
    p: &crate::process::Process,
    inner: &mut crate::process::Inner,
    take_first: bool,
) -> (Option<Value>, Drained) {
    let mut first = None;
    let mut want_first = take_first && inner.private.is_empty();
    let mut outcome = Drained::Mail;
    // Applied once the slot's lock is let go (the watch table's lock is
    // taken before slots' elsewhere).
    let mut unwatched = Vec::new();
    let mut markers = Vec::new();
    node().table.drain(p, |m| {
        // A message from another node is decoded here, by its receiver.
        let Some(m) = crate::dist::decoded(m) else {
            return;
        };
        match m.kind {
            // Even after a kill: the requester learns `killed` at the end.
            Kind::Link => inner.add_link_value(m.value),
            // A migration's marker, for the slot, not the process.
            Kind::Fence => {}
            Kind::Unwatch => unwatched.push(m.value),
            // Held by a fence until now: answered once the lock is let go.
            Kind::Marker => markers.extend(crate::dist::routes::marker_parts(m.value)),
            Kind::Kill => outcome = Drained::Killed,
            // Messages after a kill are dropped with the process.
            _ if matches!(outcome, Drained::Killed) => {}
            Kind::Message if want_first => {
                first = Some(inner.heap.take_message(m.mem, m.value));
                want_first = false;
            }
            Kind::Message | Kind::Exit => {
                let v = inner.heap.take_message(m.mem, m.value);
                want_first = false;
                inner.push_private(v, m.kind == Kind::Exit);
            }
        }
    });
    for w in unwatched {
        crate::dist::forget_watch(p.pid, w);
    }
    for m in markers {
        crate::dist::routes::answer(p.pid, m);
    }
    (first, outcome)
}

/// Handles a kill signal before the process runs again: drains its inbox
/// (the caller is its scheduler thread, which set RUNNING) and answers
/// whether the process was killed.
pub fn drain_urgent(p: &crate::process::Process, inner: &mut crate::process::Inner) -> bool {
    // A load first: no read-modify-write on the common path.
    if !p.urgent.load(Ordering::Relaxed) || !p.urgent.swap(false, Ordering::Acquire) {
        return false;
    }
    // Messages before the kill go to the private queue, as a receive
    // would take them.
    let killed = matches!(drain_into(p, inner, false).1, Drained::Killed);
    inner.killed |= killed;
    killed
}

/// The reason a killed process dies with.
pub fn killed() -> Value {
    Value::symbol(crate::symbols::intern("killed"))
}

/// Ends the running process, which a kill signal reached in a receive.
pub(crate) fn die_killed(ctx: &mut Ctx) -> Value {
    if let Some(p) = ctx.current.as_deref() {
        // SAFETY: this thread runs the current process.
        unsafe { p.inner() }.killed = true;
    }
    ctx.pending = killed();
    ctx.status = crate::ctx::STATUS_DIED;
    EXCEPTION
}

// (%mailbox-next mark): the sequence number of the first entry of the
// mailbox after `mark` (0: from the start), or NO_MESSAGE. A link exit
// reached this way is removed and raised. The receive loop keeps `mark`:
// the process keeps no scan position, so a receive left by any way leaves
// the mailbox as it was.
prim!(fn tm_mailbox_next(ctx, mark) {
    if !mark.is_fixnum() { return ctx.type_error("%mailbox-next", "a mark", mark); }
    if let (_, Drained::Killed) = drain_inbox(ctx, false) {
        return die_killed(ctx);
    }
    let Some(p) = ctx.current.as_deref() else { return NO_MESSAGE };
    // SAFETY: this thread runs the current process.
    let inner = unsafe { p.inner() };
    let i = inner.after(mark.as_fixnum().max(0) as u64);
    match inner.private.get(i).copied() {
        None => NO_MESSAGE,
        Some(e) if e.is_exit() => {
            inner.private.remove(i);
            ctx.raise_value(e.value)
        }
        Some(e) => Value::fixnum(e.seq() as i64),
    }
});

// (%mailbox-ref seq): the message numbered `seq` (from `%mailbox-next`).
prim!(fn tm_mailbox_ref(ctx, seq) {
    if !seq.is_fixnum() { return ctx.type_error("%mailbox-ref", "a mark", seq); }
    let Some(p) = ctx.current.as_deref() else { return NO_MESSAGE };
    // SAFETY: this thread runs the current process.
    let inner = unsafe { p.inner() };
    match inner.find(seq.as_fixnum().max(0) as u64) {
        Some(i) => inner.private[i].value,
        None => NO_MESSAGE,
    }
});

// (%mailbox-take seq): removes the message numbered `seq` (a receive's
// clause accepted it). Nothing if it is gone (a receive nested in the
// clause's guard took it).
prim!(fn tm_mailbox_take(ctx, seq) {
    if !seq.is_fixnum() { return ctx.type_error("%mailbox-take", "a mark", seq); }
    if let Some(p) = ctx.current.as_deref() {
        // SAFETY: this thread runs the current process.
        let inner = unsafe { p.inner() };
        if let Some(i) = inner.find(seq.as_fixnum().max(0) as u64) {
            inner.private.remove(i);
        }
    }
    UNSPECIFIED
});

// The first message (removed), or NO_MESSAGE, for a receive that accepts
// any message. A link exit first in the mailbox is removed and raised.
prim!(fn tm_mailbox_pop(ctx) {
    let (first, drained) = drain_inbox(ctx, true);
    if let Drained::Killed = drained {
        return die_killed(ctx);
    }
    if let Some(v) = first {
        return v;
    }
    let Some(p) = ctx.current.as_deref() else { return NO_MESSAGE };
    // SAFETY: this thread runs the current process.
    let inner = unsafe { p.inner() };
    match inner.private.pop_front() {
        None => NO_MESSAGE,
        Some(e) if e.is_exit() => ctx.raise_value(e.value),
        Some(e) => e.value,
    }
});

prim!(fn tm_no_message_p(_ctx, x) { Value::bool(x == NO_MESSAGE) });

// The deadline of a timeout in seconds: microseconds on the node's clock,
// or #f for none.
prim!(fn tm_deadline(ctx, timeout) {
    if timeout == FALSE || timeout == DEFAULT_OBJECT {
        return FALSE;
    }
    let secs = match crate::num::num_of(timeout) {
        Some(n) => n.to_f64(),
        None => return ctx.type_error("receive", "a timeout in seconds", timeout),
    };
    if secs.is_infinite() && secs > 0.0 {
        return FALSE;
    }
    let us = (secs.max(0.0) * 1e6).min(1e15) as i64;
    Value::fixnum(node().now_micros() + us)
});

prim!(fn tm_make_tag(_ctx) { imm(IMM_TAG, NEXT_TAG.fetch_add(1, Ordering::Relaxed)) });
prim!(fn tm_tag_p(_ctx, x) { Value::bool(crate::ident::is_tag(x)) });

// Ends a process: a kill signal, handled after the signals sent to it
// before; it runs nothing more (its links learn `killed`).
prim!(fn tm_kill(ctx, pid) {
    if !is_pid(pid) { return ctx.type_error("kill", "a pid", pid); }
    node().deliver(pid.imm_payload(), Message::immediate(killed(), Kind::Kill));
    UNSPECIFIED
});

/// The node's service registry: names (symbols) to pids.
static SERVICES: std::sync::Mutex<Vec<(u64, u64)>> = std::sync::Mutex::new(Vec::new());

/// Forgets the services a dead process published.
pub fn unpublish(pid: u64) {
    SERVICES
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .retain(|(_, p)| *p != pid);
}

// (%publish name pid) registers a service; (%publish name #f) forgets it.
prim!(fn tm_publish(ctx, name, pid) {
    if !name.is_symbol() { return ctx.type_error("publish-service", "a symbol", name); }
    if pid != FALSE && !is_pid(pid) { return ctx.type_error("publish-service", "a pid", pid); }
    let mut s = SERVICES.lock().unwrap_or_else(|e| e.into_inner());
    s.retain(|(n, _)| *n != name.0);
    if pid != FALSE {
        s.push((name.0, pid.imm_payload()));
        // Its end must unpublish it (see `sched::end`).
        node().table.with(pid.imm_payload(), |p| p.published.store(true, Ordering::Release));
    }
    UNSPECIFIED
});

prim!(fn tm_resolve(ctx, name) {
    if !name.is_symbol() { return ctx.type_error("resolve-service", "a symbol", name); }
    let s = SERVICES.lock().unwrap_or_else(|e| e.into_inner());
    match s.iter().find(|(n, _)| *n == name.0) {
        Some((_, pid)) => pid_value(*pid),
        None => FALSE,
    }
});

// The one-minute load average of the machine.
prim!(fn tm_loadavg(ctx) {
    let avg = std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|x| x.parse::<f64>().ok()))
        .unwrap_or(0.0);
    ctx.flonum(avg)
});

// The number of live processes on this node.
prim!(fn tm_process_count(_ctx) { Value::fixnum(node().table.len() as i64) });

// The number of forwarding entries on this node: processes that migrated
// away and are still alive elsewhere (the paper's migration table).
prim!(fn tm_forwarding_count(_ctx) { Value::fixnum(node().table.forwarding() as i64) });
