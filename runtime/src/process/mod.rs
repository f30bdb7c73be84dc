//! Processes: identity, state, mailbox, links, and the process table.
//! See ARCHITECTURE.md, "Processes", for the states and who may change them.

use crate::heap::{Heap, MessageMem, copy_message};
use crate::value::{IMM_PID, Value, imm};
use std::cell::UnsafeCell;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU8, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

pub const RUNNABLE: u8 = 0;
pub const RUNNING: u8 = 1;
pub const WAITING: u8 = 2;
pub const DONE: u8 = 3;

/// A message in a mailbox: a copy of a value in blocks of its own, which
/// the receiver adopts (none when the value is an immediate or a static
/// object). An `exit` message carries the uncaught exception of a linked
/// process.
pub struct Message {
    pub mem: MessageMem,
    pub value: Value,
    pub exit: bool,
}

impl Message {
    /// A message holding a copy of `v`.
    pub fn copy_of(v: Value, exit: bool) -> Message {
        let (mem, value) = copy_message(v);
        Message { mem, value, exit }
    }
}

// SAFETY: a message's blocks are reachable only through the message, which is
// owned by one thread at a time (sender, queue, receiver).
unsafe impl Send for Message {}

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
    pub scan: u32,
    /// Whether the last wait ended by its deadline.
    pub timed_out: bool,
}

pub struct Process {
    pub pid: u64,
    pub state: AtomicU8,
    /// Incremented at every wait, so that a stale timer is ignored.
    pub wait_seq: AtomicU64,
    /// Whether the process's inbox (in its table slot) holds messages: it
    /// changes only under the slot's lock, so the receiver looks at an
    /// empty inbox without taking the lock.
    pub has_mail: AtomicBool,
    /// Outbound links: where this process's uncaught exception goes. Any
    /// thread may add to them (`inbound-link` links another process to us).
    pub links: Mutex<Vec<u64>>,
    /// Set by `%kill`: the scheduler ends the process instead of running it.
    pub killed: AtomicBool,
    /// Set when the process is published as a service.
    pub published: AtomicBool,
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
            has_mail: AtomicBool::new(false),
            links: Mutex::new(Vec::new()),
            killed: AtomicBool::new(false),
            published: AtomicBool::new(false),
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

    pub fn has_mail(&self) -> bool {
        self.has_mail.load(Ordering::SeqCst)
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

/// A pid's payload: the index of the process's slot in the table, and in
/// the bits above `INDEX_BITS` how many processes used that slot before
/// (so a stale pid never reaches the slot's next process).
pub const INDEX_BITS: u32 = 32;
/// Generations wrap around within the 56 bits of an immediate's payload.
const GENERATION_MASK: u64 = (1 << 24) - 1;
const CHUNK_BITS: u32 = 14;
const CHUNK: usize = 1 << CHUNK_BITS;
/// At most `CHUNKS * CHUNK` (2^28) live processes.
const CHUNKS: usize = 1 << 14;

/// How many free pids a thread takes from, or gives to, the shared list
/// at a time.
const PID_BATCH: usize = 256;

fn slot_index(pid: u64) -> usize {
    (pid & ((1 << INDEX_BITS) - 1)) as usize
}

/// A slot of the table: the process whose pid has the slot's index, if it
/// is alive, and its inbox, where senders put messages. The lock keeps the
/// process in the table while a sender delivers. A slot has a cache line
/// of its own, so processes on different threads do not contend for one.
#[repr(align(64))]
#[derive(Default)]
struct Slot(Mutex<SlotData>);

#[derive(Default)]
struct SlotData {
    process: Option<Arc<Process>>,
    inbox: Inbox,
}

/// Messages that arrived and that the receiver has not drained yet. Most
/// of the time there is at most one: it is kept without a buffer, so an
/// idle process that was sent messages holds no queue.
#[derive(Default)]
enum Inbox {
    #[default]
    Empty,
    One(Message),
    /// A burst: the buffer is kept for the next one.
    Many(VecDeque<Message>),
}

impl Inbox {
    fn push(&mut self, m: Message) {
        match self {
            Inbox::Empty => *self = Inbox::One(m),
            Inbox::Many(q) => q.push_back(m),
            Inbox::One(_) => {
                if let Inbox::One(first) = std::mem::take(self) {
                    *self = Inbox::Many(VecDeque::from([first, m]));
                }
            }
        }
    }

    fn drain(&mut self, mut f: impl FnMut(Message)) {
        match self {
            Inbox::Empty => {}
            Inbox::Many(q) => q.drain(..).for_each(f),
            Inbox::One(_) => {
                if let Inbox::One(m) = std::mem::take(self) {
                    f(m)
                }
            }
        }
    }
}

impl Slot {
    fn lock(&self) -> std::sync::MutexGuard<'_, SlotData> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// All live processes of the node, by pid: slots found directly from the
/// pid (no hashing, one cache line), allocated a chunk at a time and never
/// freed; the slots of ended processes are reused.
pub struct Table {
    chunks: Box<[AtomicPtr<Slot>]>,
    /// Serialises the allocation of chunks.
    grow: Mutex<()>,
    /// Pids for new processes: slots that ended, with the next generation.
    /// Each scheduler thread keeps a batch of its own (`Ctx::free_pids`)
    /// and shares the surplus here.
    free: Mutex<Vec<u64>>,
    /// The first slot never used.
    next_index: AtomicU64,
    live: AtomicUsize,
}

impl Default for Table {
    fn default() -> Self {
        Table {
            chunks: (0..CHUNKS).map(|_| AtomicPtr::default()).collect(),
            grow: Mutex::new(()),
            free: Mutex::new(Vec::new()),
            // Pid 1 is the standard output (`prims::process::OUTPUT_PID`),
            // pid 2 the standard error (`prims::ports::ERROR_PID`).
            next_index: AtomicU64::new(3),
            live: AtomicUsize::new(0),
        }
    }
}

impl Drop for Table {
    fn drop(&mut self) {
        for c in self.chunks.iter() {
            let p = c.load(Ordering::Acquire);
            if !p.is_null() {
                // SAFETY: allocated by `chunk_for` as a boxed slice of CHUNK slots.
                drop(unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(p, CHUNK)) });
            }
        }
    }
}

impl Table {
    /// A pid for a new process, or None when the table is full. `cache`
    /// is the calling thread's batch of free pids.
    pub fn fresh_pid(&self, cache: &mut Vec<u64>) -> Option<u64> {
        if cache.is_empty() {
            let mut free = self.free.lock().unwrap_or_else(|e| e.into_inner());
            let keep = free.len().saturating_sub(PID_BATCH);
            cache.extend(free.drain(keep..));
        }
        if let Some(pid) = cache.pop() {
            return Some(pid);
        }
        let index = self.next_index.fetch_add(1, Ordering::Relaxed);
        let chunk = index as usize >> CHUNK_BITS;
        if chunk >= CHUNKS {
            return None;
        }
        if self.chunks[chunk].load(Ordering::Acquire).is_null() {
            let _g = self.grow.lock().unwrap_or_else(|e| e.into_inner());
            if self.chunks[chunk].load(Ordering::Acquire).is_null() {
                let slots: Box<[Slot]> = (0..CHUNK).map(|_| Slot::default()).collect();
                let p = Box::into_raw(slots) as *mut Slot;
                self.chunks[chunk].store(p, Ordering::Release);
            }
        }
        Some(index)
    }

    fn slot(&self, pid: u64) -> Option<&Slot> {
        let index = slot_index(pid);
        let chunk = self
            .chunks
            .get(index >> CHUNK_BITS)?
            .load(Ordering::Acquire);
        if chunk.is_null() {
            return None;
        }
        // SAFETY: a chunk holds CHUNK slots and is never freed while the
        // table lives.
        Some(unsafe { &*chunk.add(index & (CHUNK - 1)) })
    }

    /// Calls `f` on the live process `pid` while it cannot leave the table
    /// (no reference count to take when `f` only looks).
    pub fn with<R>(&self, pid: u64, f: impl FnOnce(&Arc<Process>) -> R) -> Option<R> {
        let slot = self.slot(pid)?.lock();
        slot.process.as_ref().filter(|p| p.pid == pid).map(f)
    }

    /// Puts a message in the inbox of process `pid` (dropped if it has
    /// ended) and wakes it if it waits: answers the process to schedule.
    pub fn deliver(&self, pid: u64, m: Message) -> Option<Arc<Process>> {
        let mut slot = self.slot(pid)?.lock();
        let SlotData { process, inbox } = &mut *slot;
        let p = process.as_ref().filter(|p| p.pid == pid)?;
        inbox.push(m);
        // SeqCst: pairs with the receiver's store of WAITING then load of
        // `has_mail` (see `sched::run_process`): one of the two sees the other.
        p.has_mail.store(true, Ordering::SeqCst);
        p.wake().then(|| p.clone())
    }

    /// Hands every message that arrived for `p` (which this thread runs),
    /// in order, to `f`. The inbox keeps its buffer.
    pub fn drain(&self, p: &Process, f: impl FnMut(Message)) {
        if !p.has_mail() {
            return;
        }
        let Some(slot) = self.slot(p.pid) else { return };
        let mut slot = slot.lock();
        p.has_mail.store(false, Ordering::Relaxed);
        slot.inbox.drain(f);
    }

    pub fn get(&self, pid: u64) -> Option<Arc<Process>> {
        self.with(pid, Arc::clone)
    }

    /// Adds a process whose pid came from `fresh_pid`.
    pub fn insert(&self, p: Arc<Process>) {
        if let Some(slot) = self.slot(p.pid) {
            slot.lock().process = Some(p);
            self.live.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Removes a process; its slot goes to `cache`, the calling thread's
    /// batch of free pids.
    pub fn remove(&self, pid: u64, cache: &mut Vec<u64>) {
        let Some(slot) = self.slot(pid) else { return };
        let mut slot = slot.lock();
        if slot.process.as_ref().is_some_and(|p| p.pid == pid) {
            slot.process = None;
            // Messages that arrived after the last receive are dropped.
            let unread = std::mem::take(&mut slot.inbox);
            drop(slot);
            drop(unread);
            self.live.fetch_sub(1, Ordering::Relaxed);
            let generation = ((pid >> INDEX_BITS) + 1) & GENERATION_MASK;
            let reuse = generation << INDEX_BITS | slot_index(pid) as u64;
            cache.push(reuse);
            if cache.len() >= 2 * PID_BATCH {
                let keep = cache.len() - PID_BATCH;
                self.free
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .extend(cache.drain(keep..));
            }
        }
    }

    pub fn len(&self) -> usize {
        self.live.load(Ordering::Relaxed)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn process(pid: u64) -> Arc<Process> {
        Arc::new(Process::new(
            pid,
            Heap::new(64),
            crate::value::NULL,
            Args::new(),
        ))
    }

    #[test]
    fn a_stale_pid_never_reaches_the_next_process_in_its_slot() {
        let table = Table::default();
        let mut cache = Vec::new();
        let first = table.fresh_pid(&mut cache).unwrap();
        table.insert(process(first));
        assert_eq!(table.len(), 1);
        table.remove(first, &mut cache);
        assert!(table.get(first).is_none());
        let second = table.fresh_pid(&mut cache).unwrap();
        assert_eq!(slot_index(second), slot_index(first), "the slot is reused");
        assert_ne!(second, first, "with a new generation");
        table.insert(process(second));
        assert!(table.get(first).is_none());
        assert_eq!(table.get(second).map(|p| p.pid), Some(second));
        // Removing by the stale pid leaves the new process alone.
        table.remove(first, &mut cache);
        assert_eq!(table.len(), 1);
        assert!(table.with(second, |_| ()).is_some());
    }

    #[test]
    fn free_pids_move_between_threads_in_batches() {
        let table = Table::default();
        let (mut a, mut b) = (Vec::new(), Vec::new());
        let pids: Vec<u64> = (0..3 * PID_BATCH)
            .map(|_| {
                let pid = table.fresh_pid(&mut a).unwrap();
                table.insert(process(pid));
                pid
            })
            .collect();
        for pid in &pids {
            table.remove(*pid, &mut a);
        }
        assert!(a.len() < 2 * PID_BATCH, "the surplus is shared");
        // Another thread's spawns reuse the shared slots.
        let reused = table.fresh_pid(&mut b).unwrap();
        assert!(pids.iter().any(|p| slot_index(*p) == slot_index(reused)));
        assert!(table.is_empty());
    }

    #[test]
    fn an_idle_process_is_small() {
        let size = std::mem::size_of::<Process>();
        // The process itself; its first heap block and table slot come on
        // top. With the `Arc` counts it must fit the allocator's 256-byte
        // size class (the next one is 320).
        assert!(size + 16 <= 256, "Process is {size} bytes");
        // A table slot (the process and its inbox) is one cache line.
        assert_eq!(std::mem::size_of::<Slot>(), 64);
    }
}
