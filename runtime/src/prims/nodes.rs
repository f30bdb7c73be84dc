//! Nodes: `current-node`, `make-node`, `node?`, `node-host`, `node-port`,
//! `pid-node` (see `crate::ident`).

use crate::ctx::Ctx;
use crate::ident;
use crate::value::*;

prim!(fn tm_current_node(_ctx) { ident::current_node() });

prim!(fn tm_make_node(ctx, host, port) {
    if !host.has_type(T_STRING) { return ctx.type_error("make-node", "a string", host); }
    if !(port.is_fixnum() && (0..=65535).contains(&port.as_fixnum())) {
        return ctx.type_error("make-node", "a port number (0 to 65535)", port);
    }
    ident::node_value(ident::node_entry(&host.string(), port.as_fixnum() as u16, 0))
});

prim!(fn tm_node_p(_ctx, x) { Value::bool(ident::is_node(x)) });

prim!(fn tm_node_host(ctx, n) {
    if !ident::is_node(n) { return ctx.type_error("node-host", "a node", n); }
    ident::node_host(n)
});

prim!(fn tm_node_port(ctx, n) {
    if !ident::is_node(n) { return ctx.type_error("node-port", "a node", n); }
    ident::node_port(n)
});

prim!(fn tm_pid_node(ctx, p) {
    match ident::pid_node(p) {
        Some(n) => n,
        None => ctx.type_error("pid-node", "a pid", p),
    }
});
