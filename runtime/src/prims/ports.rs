//! Output ports. A port is a pid, as in the paper (3.1: devices are
//! processes): `(current-output-port)` is pid 1, the node's standard
//! output, and `(current-error-port)` is pid 2, its standard error. Neither
//! runs code: writing to one (with `display`, `write`, ... or `!`) is
//! served in the writer's thread, in the order of the writes.

use super::process::OUTPUT_PID;
use super::system::{flush_out, write_out};
use crate::ctx::Ctx;
use crate::print::{display_string, write_string};
use crate::process::{is_pid, pid_value};
use crate::value::*;
use std::io::Write;

/// The pid of the node's standard error.
pub const ERROR_PID: u64 = 2;

/// Writes `s` on standard error, after what was written on standard output
/// so far (so that the two interleave as they were written).
pub fn write_err(s: &str) {
    flush_out();
    let _ = std::io::stderr().lock().write_all(s.as_bytes());
}

/// Whether `v` is the pid of an output device.
pub fn is_port(v: Value) -> bool {
    is_pid(v) && matches!(v.imm_payload(), OUTPUT_PID | ERROR_PID)
}

/// Writes `s` to the device `port` stands for; `false` if it is not a port.
pub fn write_port(port: Value, s: &str) -> bool {
    if !is_port(port) {
        return false;
    }
    match port.imm_payload() {
        OUTPUT_PID => write_out(s),
        ERROR_PID => write_err(s),
        _ => return false,
    }
    true
}

prim!(fn tm_error_port(_ctx) { pid_value(ERROR_PID) });
prim!(fn tm_display_to(ctx, v, port) {
    if !is_port(port) { return ctx.type_error("display", "an output port", port); }
    write_port(port, &display_string(v));
    UNSPECIFIED
});
prim!(fn tm_write_to(ctx, v, port) {
    if !is_port(port) { return ctx.type_error("write", "an output port", port); }
    write_port(port, &write_string(v));
    UNSPECIFIED
});
