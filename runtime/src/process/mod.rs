//! Processes: identity, state, mailbox, links, and the process table.
//! See ARCHITECTURE.md, "Processes", for the states and who may change them.

use crate::hash::WordMap;
use crate::heap::Heap;
use crate::value::{IMM_PID, Value, imm};
use std::cell::UnsafeCell;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

pub const RUNNABLE: u8 = 0;
pub const RUNNING: u8 = 1;
pub const WAITING: u8 = 2;
pub const DONE: u8 = 3;

/// A message in a mailbox: a value in a heap of its own, which the receiver
/// adopts (none when the value is an immediate or a static object). An
/// `exit` message carries the uncaught exception of a linked process.
/// Boxing the heap keeps a message at three words, so a mailbox's buffer
/// stays small.
pub struct Message {
    pub heap: Option<Box<Heap>>,
    pub value: Value,
    pub exit: bool,
}

impl Message {
    /// A message holding a copy of `v`.
    pub fn copy_of(v: Value, exit: bool) -> Message {
        if v.is_static() {
            return Message {
                heap: None,
                value: v,
                exit,
            };
        }
        let mut heap = Box::new(Heap::for_message());
        let value = heap.copy_in(v);
        Message {
            heap: Some(heap),
            value,
            exit,
        }
    }
}

// SAFETY: a message's heap is reachable only through the message, which is
// owned by one thread at a time (sender, queue, receiver).
unsafe impl Send for Message {}

/// Where senders put messages: a short critical section per message. (A
/// lock-free segment queue costs hundreds of bytes per process, and a
/// million idle processes must fit in a gigabyte.) `has_mail` mirrors
/// "the queue is not empty" (it changes only under the lock), so the
/// receiver looks at an empty inbox without taking the lock.
#[derive(Default)]
pub struct Inbox {
    queue: Mutex<VecDeque<Message>>,
    has_mail: AtomicBool,
}

impl Inbox {
    pub fn push(&self, m: Message) {
        let mut q = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        q.push_back(m);
        // SeqCst: pairs with the receiver's store of WAITING then load of
        // `has_mail` (see `sched::run_process`): one of the two sees the other.
        self.has_mail.store(true, Ordering::SeqCst);
    }

    /// Hands every message that arrived, in order, to `f`. The queue keeps
    /// its buffer.
    pub fn drain(&self, mut f: impl FnMut(Message)) {
        if !self.has_mail() {
            return;
        }
        let mut q = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        self.has_mail.store(false, Ordering::Relaxed);
        for m in q.drain(..) {
            f(m)
        }
    }

    pub fn has_mail(&self) -> bool {
        self.has_mail.load(Ordering::SeqCst)
    }
}

/// The arguments of a call to resume: one for a process that waits, none
/// or a few for one that was preempted, inline.
pub type Args = smallvec::SmallVec<[Value; 2]>;

/// The state only the thread running the process touches.
pub struct Inner {
    pub heap: Heap,
    /// The call to resume: callee and arguments.
    pub callee: Value,
    pub args: Args,
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
    pub killed: AtomicBool,
    inner: UnsafeCell<Inner>,
}

// SAFETY: `inner` is touched only by the thread that moved `state` to
// RUNNING (or by the creator before the process is published); everything
// else is atomic or a concurrent queue.
unsafe impl Sync for Process {}
unsafe impl Send for Process {}

impl Process {
    pub fn new(pid: u64, heap: Heap, callee: Value, args: Args) -> Process {
        Process {
            pid,
            state: AtomicU8::new(RUNNABLE),
            wait_seq: AtomicU64::new(0),
            inbox: Inbox::default(),
            links: Mutex::new(Vec::new()),
            killed: AtomicBool::new(false),
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
            .compare_exchange(WAITING, RUNNABLE, Ordering::SeqCst, Ordering::Acquire)
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

    /// Calls `f` on the process `pid` while it cannot leave the table (no
    /// reference count to take when `f` only looks).
    pub fn with<R>(&self, pid: u64, f: impl FnOnce(&Arc<Process>) -> R) -> Option<R> {
        self.shard(pid).get(&pid).map(f)
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
