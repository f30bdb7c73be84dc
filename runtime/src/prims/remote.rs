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
        Ok(()) => UNSPECIFIED,
        Err(e) => raise(ctx, "remote-spawn", &e),
    }
});

// (%set-agent! pid): this node's agent.
prim!(fn tm_set_agent(ctx, pid) {
    if !ident::is_local_pid(pid) { return ctx.type_error("agent", "a pid", pid); }
    with_state(|s| s.agent = Some(pid.imm_payload()));
    UNSPECIFIED
});

// (%node-listening?): whether this node was started with --node (its
// agent then starts with the program).
prim!(fn tm_node_listening(_ctx) { Value::bool(crate::node::options::get().node.is_some()) });

// (%watch-node node tag): if `node` goes down before `%unwatch-node`, the
// calling process gets `tag` as a message.
prim!(fn tm_watch_node(ctx, n, tag) {
    let entry = match node_arg(ctx, "watch", n) { Ok(e) => e, Err(e) => return e };
    if !ident::is_tag(tag) || !tag.is_imm() { return ctx.type_error("watch", "a tag of this node", tag); }
    let me = ctx.self_pid.imm_payload();
    if entry != 0 {
        with_state(|s| s.pending.entry(entry).or_default().push((me, tag)));
    }
    UNSPECIFIED
});

prim!(fn tm_unwatch_node(ctx, n, tag) {
    let entry = match node_arg(ctx, "watch", n) { Ok(e) => e, Err(e) => return e };
    let me = ctx.self_pid.imm_payload();
    with_state(|s| {
        if let Some(v) = s.pending.get_mut(&entry) {
            v.retain(|&(p, t)| !(p == me && t == tag));
        }
    });
    UNSPECIFIED
});

// (%pid-local? x): a pid of this node (the immediate), as opposed to one of
// another node.
prim!(fn tm_pid_local_p(_ctx, x) { Value::bool(ident::is_local_pid(x)) });
