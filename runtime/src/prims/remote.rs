//! Remote operations' primitives: requests to another node's agent and
//! waits on a node (see `crate::dist`).

use crate::ctx::Ctx;
use crate::dist::{AGENT, encode_after, raise, send_frame, with_state};
use crate::ident;
use crate::process::{Kind, Message};
use crate::value::*;

fn node_arg(ctx: &mut Ctx, who: &str, n: Value) -> Result<u32, Value> {
    ident::node_index(n).ok_or_else(|| ctx.type_error(who, "a node", n))
}

// (%agent-send node request): a request `(from tag request)` for the
// agent of `node` (this node's own agent gets it as a local message).
prim!(fn tm_agent_send(ctx, n, req) {
    let entry = match node_arg(ctx, "agent", n) { Ok(e) => e, Err(e) => return e };
    if entry == 0 {
        return match with_state(|s| s.agent) {
            Some(a) => {
                crate::sched::node().deliver(a, Message::copy_of(req, Kind::Message));
                UNSPECIFIED
            }
            None => raise(ctx, "agent", "this node has no agent"),
        };
    }
    let mut payload = Vec::with_capacity(64);
    match encode_after(req, &mut payload).and_then(|()| send_frame(ctx, entry, AGENT, payload)) {
        Ok(sent) => sent.value(),
        Err(e) => raise(ctx, "remote-spawn", &e),
    }
});

// (%set-agent! pid): this node's agent.
prim!(fn tm_set_agent(ctx, pid) {
    if !ident::is_local_pid(pid) { return ctx.type_error("agent", "a pid", pid); }
    crate::dist::set_agent(pid.imm_payload());
    UNSPECIFIED
});

// (%node-listening?): whether this node was started with --node (its
// agent then starts with the program).
prim!(fn tm_node_listening(_ctx) { Value::bool(crate::node::options::get().node.is_some()) });

// (%bare-node?): whether this is a bare `termitec node`, which runs its
// program's library and serves, without the program's own forms.
prim!(fn tm_bare_node(_ctx) { Value::bool(crate::dist::is_bare()) });

// (%watch-node target tag): if no answer can come from `target` (a node,
// or a pid of another node) before `%unwatch-node`, the calling process
// gets `tag` as a message (`dist::watch`).
prim!(fn tm_watch_node(ctx, target, tag) {
    if !ident::is_pid(target) && !ident::is_node(target) {
        return ctx.type_error("watch", "a node or a pid", target);
    }
    if !ident::is_tag(tag) || !tag.is_imm() { return ctx.type_error("watch", "a tag of this node", tag); }
    crate::dist::watch(self_word(ctx), target, tag);
    UNSPECIFIED
});

prim!(fn tm_unwatch_node(ctx, target, tag) {
    if !ident::is_pid(target) && !ident::is_node(target) {
        return ctx.type_error("watch", "a node or a pid", target);
    }
    crate::dist::unwatch(self_word(ctx), target, tag);
    UNSPECIFIED
});

// (%congested? node-or-pid): whether the queue to `node` is over its
// limit, or (for a pid of another node) whether the caller's signals for
// it wait for the answer to a marker or go to such a queue (a sender that
// was told so waits until it is not: `%slowed`). Takes the messages that
// arrived meanwhile into the mailbox, so that the caller's `%suspend`
// waits for new ones.
prim!(fn tm_congested_p(ctx, n) {
    let sender = ctx.current.as_ref().map(|p| p.pid);
    let to = match (ident::is_remote_pid(n), sender) {
        (true, Some(sender)) => Err(sender),
        _ => match node_arg(ctx, "congested", n) { Ok(e) => Ok(e), Err(e) => return e },
    };
    if crate::prims::process::take_inbox(ctx) {
        return crate::prims::process::die_killed(ctx);
    }
    Value::bool(match to {
        Ok(entry) => crate::dist::congested(entry),
        Err(sender) => crate::dist::routes::congested(sender, n),
    })
});

// (%pid-local? x): a pid of this node (the immediate), as opposed to one of
// another node.
prim!(fn tm_pid_local_p(_ctx, x) { Value::bool(ident::is_local_pid(x)) });

/// The slot of the running process on this node (its pid, unless it
/// migrated here).
fn self_word(ctx: &Ctx) -> u64 {
    ctx.current.as_ref().map_or(0, |p| p.pid)
}

// (%migrate-out node k): sends the running process, to resume with `k`, to
// `node` (ARCHITECTURE.md, "Migration"): #t when sent (`%migrate-result`
// says what became of it), #f when the process must first wait (it came
// back here and signals forwarded earlier are still on their way).
prim!(fn tm_migrate_out(ctx, n, k) {
    let entry = match node_arg(ctx, "migrate", n) { Ok(e) => e, Err(e) => return e };
    if !k.has_type(T_CLOSURE) { return ctx.type_error("migrate", "a continuation", k); }
    if entry == 0 { return raise(ctx, "migrate", "the process is on that node"); }
    if crate::prims::process::take_inbox(ctx) {
        return crate::prims::process::die_killed(ctx);
    }
    match crate::dist::migrate_out(ctx, entry, k) {
        Ok(sent) => Value::bool(sent),
        Err(e) => {
            let who = ident::node_value(entry);
            ctx.raise_error(&format!("migrate: {e}"), &[who])
        }
    }
});

// (%migrate-result): #t while the other node has not answered; when it
// took the process, the process ends here (it runs there); when it
// refused, or went down, the reason is raised here and the process goes on.
prim!(fn tm_migrate_result(ctx) {
    match crate::dist::migrate_result(ctx) {
        crate::dist::Outcome::Pending => TRUE,
        crate::dist::Outcome::Moved => crate::prims::system::end_process(ctx),
        crate::dist::Outcome::Failed(why) => ctx.raise_error(&format!("migrate: {why}"), &[]),
    }
});

// (%end-process): the running process ends, as if it returned.
prim!(fn tm_end_process(ctx) { crate::prims::system::end_process(ctx) });
