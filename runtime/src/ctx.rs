//! The context compiled code runs in: one per scheduler thread, handed to
//! every compiled function as its first argument. Its leading fields are
//! read and written by compiled code at fixed offsets (`OFFSET_*`), so the
//! layout is `#[repr(C)]` and checked by a test.

use crate::heap::Heap;
use crate::value::{UNSPECIFIED, Value};

/// Status a compiled function returns to the trampoline.
pub const STATUS_DONE: u64 = 0;
/// The call to resume is saved in the context (`saved_self`, `args`).
pub const STATUS_YIELD: u64 = 1;
/// A primitive failed: `pending` holds the error object to raise.
pub const STATUS_RAISE: u64 = 2;
/// The process terminated with an uncaught exception (`pending`).
pub const STATUS_DIED: u64 = 3;
/// `(exit code)`: `pending` is the code.
pub const STATUS_EXIT: u64 = 4;
/// A receive found no message: the continuation to resume is saved
/// (`saved_self`), `pending` is the deadline (microseconds) or #f.
pub const STATUS_SUSPEND: u64 = 5;
/// A failed call (a non-procedure applied, a wrong argument count, `apply`
/// with a bad list): `pending` holds the error object, `saved_self` the
/// call's continuation, to which `raise` returns a `handle` handler's value.
pub const STATUS_RAISE_TO: u64 = 6;
/// A primitive failed at a resumable site of a compiled function:
/// `pending` holds the error object, `saved_self` the static closure of the
/// function's resume function, and the buffer's first `saved_argc` slots
/// the site's number and the values live after it. The trampoline makes
/// from them the continuation given to `raise` (ARCHITECTURE.md,
/// "Continuations, exceptions, dynamic state").
pub const STATUS_RAISE_AT: u64 = 7;

/// Arguments a call can pass; `apply` with more is an error.
pub const MAX_ARGS: usize = 1 << 24;

/// Slots of a context's argument buffer when it is made. Compiled code
/// stores the arguments of a call with at most this many straight into the
/// buffer; a call with more first grows it (`tm_ensure_args`).
pub const ARGS_INITIAL: usize = 256;

/// Page-aligned: placed where the allocator put it, the entry checks' loads
/// of `hp` and `limit` ran up to 2.7x slower in some executables, for the
/// same instructions and cache behaviour (ARCHITECTURE.md, Optimisations).
#[repr(C, align(4096))]
pub struct Ctx {
    pub hp: *mut u64,
    pub limit: *mut u64,
    pub reductions: i64,
    pub globals: *mut Value,
    pub consts: *const Value,
    /// The argument buffer: argument `i` of a call with `i >= 3` is in
    /// `args[i]`; a saved call keeps all of its arguments here.
    pub args: *mut Value,
    pub saved_self: Value,
    pub saved_argc: u64,
    /// Bytes the failed entry check of the saved call needs.
    pub need: u64,
    pub status: u64,
    pub pending: Value,
    /// Where the `preserve_all` wrappers of runtime functions leave their
    /// result (Cranelift's `preserve_all` restores the return register).
    pub ret: u64,
    /// Dynamic state of the running process: exception handlers, winders
    /// (dynamic-wind), parameterizations.
    pub registers: [Value; 4],
    /// The pid of the running process (`(self)` is a load of it).
    pub self_pid: Value,
    // ---- fields below are the runtime's own ----
    /// The heap runtime functions allocate in: the running process's (the
    /// scheduler points it there for a slice, so a switch moves nothing),
    /// or `own_heap` when no process runs.
    pub heap: *mut Heap,
    own_heap: Box<Heap>,
    pub args_buf: Vec<Value>,
    /// How many slots `globals` has.
    pub globals_len: usize,
    /// The process running on this context.
    pub current: Option<std::sync::Arc<crate::process::Process>>,
    /// Pids this scheduler thread freed, for its next spawns
    /// (`process::Table::fresh_pid`).
    pub free_pids: Vec<u64>,
    /// A runtime allocation passed the heap's threshold: `reductions` was
    /// set to 0 (the next procedure entry fails its check) and its value
    /// kept in `reductions_kept` for the trampoline to give back.
    pub collection_due: bool,
    pub reductions_kept: i64,
    /// Bytes of nursery compiled code found missing for an inline box
    /// (`tm_nursery_full`): the trampoline grows the nursery by at least
    /// this much at the next yield.
    pub want: u64,
    /// On a bare node: the unbound global slot the last failure read
    /// (`tm_unbound_global`), which the trampoline asks the program's node
    /// for (`dist::fetch_global`).
    pub fetch_global: Option<u32>,
}

pub const OFFSET_HP: i32 = 0;
pub const OFFSET_LIMIT: i32 = 8;
pub const OFFSET_REDUCTIONS: i32 = 16;
pub const OFFSET_GLOBALS: i32 = 24;
pub const OFFSET_CONSTS: i32 = 32;
pub const OFFSET_ARGS: i32 = 40;
pub const OFFSET_SAVED_SELF: i32 = 48;
pub const OFFSET_SAVED_ARGC: i32 = 56;
pub const OFFSET_NEED: i32 = 64;
pub const OFFSET_STATUS: i32 = 72;
pub const OFFSET_PENDING: i32 = 80;
pub const OFFSET_RET: i32 = 88;
pub const OFFSET_REGISTERS: i32 = 96;
pub const OFFSET_SELF_PID: i32 = 128;

/// Reductions a process runs before it yields to the scheduler.
pub const REDUCTIONS: i64 = 4000;

impl Ctx {
    pub fn new(globals: *mut Value, globals_len: usize, consts: *const Value) -> Box<Ctx> {
        let mut args_buf = vec![UNSPECIFIED; ARGS_INITIAL];
        let mut ctx = Box::new(Ctx {
            hp: std::ptr::null_mut(),
            limit: std::ptr::null_mut(),
            reductions: REDUCTIONS,
            globals,
            consts,
            args: args_buf.as_mut_ptr(),
            saved_self: UNSPECIFIED,
            saved_argc: 0,
            need: 0,
            status: STATUS_DONE,
            pending: UNSPECIFIED,
            ret: 0,
            registers: [crate::value::NULL; 4],
            self_pid: crate::process::pid_value(0),
            heap: std::ptr::null_mut(),
            own_heap: Box::new(Heap::new(64 * 1024)),
            collection_due: false,
            reductions_kept: 0,
            want: 0,
            fetch_global: None,
            args_buf,
            globals_len,
            current: None,
            free_pids: Vec::new(),
        });
        ctx.use_own_heap();
        ctx
    }

    /// The heap runtime functions allocate in.
    pub fn heap(&mut self) -> &mut Heap {
        // SAFETY: `heap` points at `own_heap` or at the heap of the process
        // this thread runs, which outlives the slice (see `use_heap`).
        unsafe { &mut *self.heap }
    }

    /// Allocates in `heap` from now on (compiled code bumps through its
    /// nursery). The caller keeps it alive and untouched by anyone else
    /// until the next `use_heap` or `use_own_heap`.
    pub fn use_heap(&mut self, heap: *mut Heap) {
        self.heap = heap;
        let (hp, limit) = self.heap().nursery();
        self.hp = hp;
        self.limit = limit;
    }

    /// Records how far compiled code bumped, and goes back to the
    /// context's own heap.
    pub fn use_own_heap(&mut self) {
        if !self.heap.is_null() {
            let hp = self.hp;
            self.heap().sync_nursery(hp);
        }
        let own: *mut Heap = &mut *self.own_heap;
        self.use_heap(own);
    }

    /// Makes room for `n` arguments in the argument buffer.
    pub fn ensure_args(&mut self, n: usize) {
        if n > self.args_buf.len() {
            self.args_buf.resize(n.next_power_of_two(), UNSPECIFIED);
            self.args = self.args_buf.as_mut_ptr();
        }
    }

    /// Puts the arguments of the next call in the buffer.
    pub fn set_args(&mut self, args: &[Value]) {
        self.ensure_args(args.len().max(3));
        self.args_buf[..args.len()].copy_from_slice(args);
    }

    pub fn arg(&self, i: usize) -> Value {
        self.args_buf[i]
    }

    pub fn set_arg(&mut self, i: usize, v: Value) {
        self.args_buf[i] = v;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::mem::offset_of;

    #[test]
    fn layout_matches_compiled_code() {
        assert_eq!(offset_of!(Ctx, hp) as i32, OFFSET_HP);
        assert_eq!(offset_of!(Ctx, limit) as i32, OFFSET_LIMIT);
        assert_eq!(offset_of!(Ctx, reductions) as i32, OFFSET_REDUCTIONS);
        assert_eq!(offset_of!(Ctx, globals) as i32, OFFSET_GLOBALS);
        assert_eq!(offset_of!(Ctx, consts) as i32, OFFSET_CONSTS);
        assert_eq!(offset_of!(Ctx, args) as i32, OFFSET_ARGS);
        assert_eq!(offset_of!(Ctx, saved_self) as i32, OFFSET_SAVED_SELF);
        assert_eq!(offset_of!(Ctx, saved_argc) as i32, OFFSET_SAVED_ARGC);
        assert_eq!(offset_of!(Ctx, need) as i32, OFFSET_NEED);
        assert_eq!(offset_of!(Ctx, status) as i32, OFFSET_STATUS);
        assert_eq!(offset_of!(Ctx, pending) as i32, OFFSET_PENDING);
        assert_eq!(offset_of!(Ctx, ret) as i32, OFFSET_RET);
        assert_eq!(offset_of!(Ctx, registers) as i32, OFFSET_REGISTERS);
        assert_eq!(offset_of!(Ctx, self_pid) as i32, OFFSET_SELF_PID);
    }
}
