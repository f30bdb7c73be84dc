//! Processes: identity, state, mailbox, links, and the process table.
//! See ARCHITECTURE.md, "Processes", for the states and who may change them.

use crate::hash::WordMap;
use crate::heap::Heap;
use crate::value::{IMM_PID, Value, imm};
use std::cell::UnsafeCell;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

pub const RUNNABLE: u8 = 0;
pub const RUNNING: u8 = 1;
pub const WAITING: u8 = 2;
pub const DONE: u8 = 3;

/// A message in a mailbox: a value in a heap of its own, which the receiver
/// adopts. `Exit` carries the uncaught exception of a linked process.
pub enum Message {
    /// The value and the heap its objects live in (none when the value is
    /// an immediate or a static object).
    Value(Option<Heap>, Value),
    Exit(Option<Heap>, Value),
}

/// A message holding a copy of `v`.
pub fn copy_message(v: Value) -> (Option<Heap>, Value) {
    if v.is_static() {
        return (None, v);
    }
    let mut heap = Heap::new(64);
    let copy = heap.copy_in(v);
    (Some(heap), copy)
}

// SAFETY: a message's heap is reachable only through the message, which is
// owned by one thread at a time (sender, queue, receiver).
unsafe impl Send for Message {}

/// Where senders put messages: a short critical section per message. (A
/// lock-free segment queue costs hundreds of bytes per process, and a
/// million idle processes must fit in a gigabyte.)
#[derive(Default)]
pub struct Inbox(Mutex<VecDeque<Message>>);

impl Inbox {
    pub fn push(&self, m: Message) {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push_back(m);
    }

    /// Takes every message that arrived, in order.
    pub fn take_all(&self) -> VecDeque<Message> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(|e| e.into_inner()))
    }

    pub fn is_empty(&self) -> bool {
        self.0.lock().map(|q| q.is_empty()).unwrap_or(true)
    }
}

/// The state only the thread running the process touches.
pub struct Inner {
    pub heap: Heap,
    /// The call to resume: callee and arguments.
    pub callee: Value,
    pub args: Vec<Value>,
    pub registers: [Value; 4],
    /// Messages taken out of the inbox, in arrival order, already adopted
    /// into `heap`; `bool` marks link exits.
    pub private: VecDeque<(Value, bool)>,
    /// Selective receive: index in `private` of the next message to offer.
    pub scan: usize,
    /// Whether the last wait ended by its deadline.
    pub timed_out: bool,
}

pub struct Process {
    pub pid: u64,
    pub state: AtomicU8,
    /// Incremented at every wait, so that a stale timer is ignored.
    pub wait_seq: AtomicU64,
    pub inbox: Inbox,
    /// Outbound links: where this process's uncaught exception goes. Any
    /// thread may add to them (`inbound-link` links another process to us).
    pub links: Mutex<Vec<u64>>,
    /// Set by `%kill`: the scheduler ends the process instead of running it.
    pub killed: std::sync::atomic::AtomicBool,
    inner: UnsafeCell<Inner>,
}

// SAFETY: `inner` is touched only by the thread that moved `state` to
// RUNNING (or by the creator before the process is published); everything
// else is atomic or a concurrent queue.
unsafe impl Sync for Process {}
unsafe impl Send for Process {}

impl Process {
    pub fn new(pid: u64, heap: Heap, callee: Value, args: Vec<Value>) -> Process {
        Process {
            pid,
            state: AtomicU8::new(RUNNABLE),
            wait_seq: AtomicU64::new(0),
            inbox: Inbox::default(),
            links: Mutex::new(Vec::new()),
            killed: std::sync::atomic::AtomicBool::new(false),
            inner: UnsafeCell::new(Inner {
                heap,
                callee,
                args,
                registers: [crate::value::NULL; 4],
                private: VecDeque::new(),
                scan: 0,
                timed_out: false,
            }),
        }
    }

    /// The state of the process.
    ///
    /// # Safety
    /// Only the thread that set the state to RUNNING (or the creator, before
    /// publishing the process) may call this.
    #[allow(clippy::mut_from_ref)]
    pub unsafe fn inner(&self) -> &mut Inner {
        // SAFETY: exclusive access is the caller's obligation (see above).
        unsafe { &mut *self.inner.get() }
    }

    /// Moves a WAITING process to RUNNABLE; true if this call did it.
    pub fn wake(&self) -> bool {
        self.state
            .compare_exchange(WAITING, RUNNABLE, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }
}

pub fn pid_value(pid: u64) -> Value {
    imm(IMM_PID, pid)
}

pub fn is_pid(v: Value) -> bool {
    v.is_imm() && v.imm_kind() == IMM_PID
}

const SHARDS: usize = 64;

/// All live processes of the node, by pid.
pub struct Table {
    shards: Vec<Mutex<WordMap<u64, Arc<Process>>>>,
    next: AtomicU64,
}

impl Default for Table {
    fn default() -> Self {
        Table {
            shards: (0..SHARDS)
                .map(|_| Mutex::new(WordMap::default()))
                .collect(),
            // Pid 1 is the standard output (`prims::process::OUTPUT_PID`).
            next: AtomicU64::new(2),
        }
    }
}

impl Table {
    pub fn fresh_pid(&self) -> u64 {
        self.next.fetch_add(1, Ordering::Relaxed)
    }

    fn shard(&self, pid: u64) -> std::sync::MutexGuard<'_, WordMap<u64, Arc<Process>>> {
        self.shards[(pid as usize) % SHARDS]
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    pub fn insert(&self, p: Arc<Process>) {
        self.shard(p.pid).insert(p.pid, p);
    }

    pub fn get(&self, pid: u64) -> Option<Arc<Process>> {
        self.shard(pid).get(&pid).cloned()
    }

    pub fn remove(&self, pid: u64) {
        self.shard(pid).remove(&pid);
    }

    pub fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().map(|m| m.len()).unwrap_or(0))
            .sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_idle_process_is_small() {
        let size = std::mem::size_of::<Process>();
        // The process itself; its first heap block and table entry come on top.
        assert!(size <= 512, "Process is {size} bytes");
    }
}
