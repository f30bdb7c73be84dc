//! Processes and messages: spawn, send, the mailbox operations selective
//! receive is built from, tags and links.

use crate::ctx::Ctx;
use crate::process::{Message, is_pid, pid_value};
use crate::sched::{self, node};
use crate::value::*;
use std::sync::atomic::{AtomicU64, Ordering};

/// What `%mailbox-next` answers when no message is left to offer.
pub const NO_MESSAGE: Value = imm(IMM_UNBOUND, 1);

static NEXT_TAG: AtomicU64 = AtomicU64::new(1);

// Compiled code reads `ctx.self_pid` inline; this serves `apply` and the like.
prim!(fn tm_self(ctx) { ctx.self_pid });
prim!(fn tm_pid_p(_ctx, x) { Value::bool(is_pid(x)) });

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
    let me = ctx.self_pid.imm_payload();
    let Some(child) = sched::spawn(ctx, node(), thunk, Some(me)) else {
        return ctx.raise_error("spawn-link: the node holds as many processes as it can", &[]);
    };
    if let Some(p) = &ctx.current {
        p.links.lock().unwrap_or_else(|e| e.into_inner()).push(child);
    }
    pid_value(child)
});

/// The pid of the node's standard output: a message sent to it is
/// displayed (paper 3.1: devices are processes). It never runs code, so it
/// is served in the sender's thread, in the order of the sends.
pub const OUTPUT_PID: u64 = 1;

prim!(fn tm_output_port(_ctx) { pid_value(OUTPUT_PID) });

prim!(fn tm_send(ctx, to, msg) {
    if !is_pid(to) { return ctx.type_error("!", "a pid", to); }
    if crate::prims::ports::is_port(to) {
        crate::prims::ports::write_port(to, &crate::print::display_string(msg));
        return UNSPECIFIED;
    }
    node().deliver(to.imm_payload(), Message::copy_of(msg, false));
    UNSPECIFIED
});

// (%link from to): exceptions that kill `from` are raised in `to`.
prim!(fn tm_link(ctx, from, to) {
    if !is_pid(from) { return ctx.type_error("link", "a pid", from); }
    if !is_pid(to) { return ctx.type_error("link", "a pid", to); }
    if let Some(p) = node().table.get(from.imm_payload()) {
        let mut links = p.links.lock().unwrap_or_else(|e| e.into_inner());
        if !links.contains(&to.imm_payload()) {
            links.push(to.imm_payload());
        }
    }
    UNSPECIFIED
});

/// Moves arrived messages into the private queue, taking them into the
/// process's heap. With `take_first`, when the private queue is empty the
/// first arrival is answered instead of queued (a receive of any message
/// then never touches the queue).
fn drain_inbox(ctx: &mut Ctx, take_first: bool) -> Option<(Value, bool)> {
    let p = ctx.current.as_deref()?;
    // SAFETY: this thread runs the current process.
    let inner = unsafe { p.inner() };
    // SAFETY: the running process's heap (see `Ctx::use_heap`).
    let heap = unsafe { &mut *ctx.heap };
    let mut first = None;
    let mut want_first = take_first && inner.private.is_empty();
    node().table.drain(p, |m| {
        let v = heap.take_message(m.mem, m.value);
        if want_first {
            first = Some((v, m.exit));
            want_first = false;
        } else {
            inner.private.push_back((v, m.exit));
        }
    });
    first
}

// The next message selective receive has not offered yet, or NO_MESSAGE. A
// link exit is raised as soon as it is reached.
prim!(fn tm_mailbox_next(ctx) {
    drain_inbox(ctx, false);
    let Some(p) = ctx.current.as_deref() else { return NO_MESSAGE };
    // SAFETY: this thread runs the current process.
    let inner = unsafe { p.inner() };
    match inner.private.get(inner.scan as usize).copied() {
        None => NO_MESSAGE,
        Some((v, true)) => {
            inner.private.remove(inner.scan as usize);
            inner.scan = 0;
            ctx.raise_value(v)
        }
        Some((v, false)) => {
            inner.scan += 1;
            v
        }
    }
});

// `%mailbox-next` then `%mailbox-take` in one call, for a receive that
// accepts any message: the next message (removed), or NO_MESSAGE.
prim!(fn tm_mailbox_pop(ctx) {
    let first = drain_inbox(ctx, true);
    let Some(p) = ctx.current.as_deref() else { return NO_MESSAGE };
    // SAFETY: this thread runs the current process.
    let inner = unsafe { p.inner() };
    let next = first.or_else(|| inner.private.remove(inner.scan as usize));
    let Some((v, exit)) = next else { return NO_MESSAGE };
    inner.scan = 0;
    if exit { ctx.raise_value(v) } else { v }
});

// Removes the message last offered (it matched) and restarts the scan.
prim!(fn tm_mailbox_take(ctx) {
    if let Some(p) = ctx.current.as_deref() {
        // SAFETY: this thread runs the current process.
        let inner = unsafe { p.inner() };
        if inner.scan > 0 {
            inner.private.remove(inner.scan as usize - 1);
        }
        inner.scan = 0;
    }
    UNSPECIFIED
});

prim!(fn tm_mailbox_rewind(ctx) {
    if let Some(p) = ctx.current.as_deref() {
        // SAFETY: this thread runs the current process.
        unsafe { p.inner() }.scan = 0;
    }
    UNSPECIFIED
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
prim!(fn tm_tag_p(_ctx, x) { Value::bool(x.is_imm() && x.imm_kind() == IMM_TAG) });

// Ends a process: it will not run again (its links learn `killed`).
prim!(fn tm_kill(ctx, pid) {
    if !is_pid(pid) { return ctx.type_error("kill", "a pid", pid); }
    if let Some(p) = node().table.get(pid.imm_payload()) {
        p.killed.store(true, Ordering::Release);
        if p.wake() {
            node().schedule(p);
        }
    }
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
