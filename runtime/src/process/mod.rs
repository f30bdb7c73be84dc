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

/// What a signal in an inbox asks of its receiver (see ARCHITECTURE.md,
/// "Signals"). Every kind travels through the same inbox, so the signals
/// from one process to another are handled in the order they were sent.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    /// A message for the receiver's mailbox.
    Message,
    /// The uncaught exception of a linked process, raised when a receive
    /// reaches it.
    Exit,
    /// A link request: the value is the pid to tell when the receiver dies.
    Link,
    /// End at once.
    Kill,
    /// A migration's fence (ARCHITECTURE.md, "Migration"): the value is
    /// the fence's number. It means nothing to a process; a node that took
    /// a process back releases the messages it held when its fence returns.
    Fence,
    /// A process the receiver watched (the value, a pid) ended normally,
    /// or its exit is on its way: the receiver (which migrated since it
    /// made the link) forgets the watch it keeps where it runs.
    Unwatch,
    /// A sender's marker (ARCHITECTURE.md, "Senders that learn the new
    /// location"): the value is `#(sender seq identity)`. The node where
    /// it reaches the process answers where the process runs; it is
    /// nothing to the process.
    Marker,
}

/// A signal in an inbox: a copy of a value in blocks of its own, which
/// the receiver adopts (none when the value is an immediate or a static
/// object), and its kind.
pub struct Message {
    pub mem: MessageMem,
    pub value: Value,
    pub kind: Kind,
}

impl Message {
    /// A signal holding a copy of `v`.
    pub fn copy_of(v: Value, kind: Kind) -> Message {
        let (mem, value) = copy_message(v);
        Message { mem, value, kind }
    }

    /// A signal whose value is an immediate (a pid, a symbol): no copy.
    pub fn immediate(v: Value, kind: Kind) -> Message {
        debug_assert!(v.is_imm() || v.is_fixnum());
        Message {
            mem: MessageMem::None,
            value: v,
            kind,
        }
    }
}

/// `Inner::timer` of a process whose wait has no timer.
pub const NO_TIMER: u32 = u32::MAX;

/// An entry of the private queue: a message (or a link exit) already in
/// the process's heap, and its sequence number (rising in arrival order,
/// shifted left by one) with the exit flag in bit 0.
#[derive(Clone, Copy)]
pub struct Entry {
    pub value: Value,
    tagged: u64,
}

impl Entry {
    pub fn seq(&self) -> u64 {
        self.tagged >> 1
    }

    pub fn is_exit(&self) -> bool {
        self.tagged & 1 != 0
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
    /// Messages and link exits taken out of the inbox, in arrival order
    /// (so sorted by sequence number), already adopted into `heap`.
    pub private: VecDeque<Entry>,
    /// The sequence number of the next entry of `private`.
    next_seq: u64,
    /// Outbound links: where this process's uncaught exception goes. Only
    /// the process's thread changes them (another process asks with a
    /// `Kind::Link` signal).
    /// Pid values: local immediates, or remote pids (static) whose node
    /// gets an EXIT frame (crate::dist).
    pub links: Vec<Value>,
    /// The scheduler thread whose timer heap holds the timer of the
    /// current wait, or `NO_TIMER` (a plain u32 keeps `Process` in its
    /// allocation size class).
    pub timer: u32,
    /// Whether it waits for the value of a global (on a bare node,
    /// `dist::fetch_global`, which knows which).
    pub fetching: bool,
    /// It has routes to migrated processes in its node's table
    /// (`dist::routes`), which go when it ends.
    pub routed: bool,
    /// Whether the last wait ended by its deadline.
    pub timed_out: bool,
    /// Whether the process was ended by a kill signal.
    pub killed: bool,
    /// What a process that migrated (or is migrating) carries besides
    /// its state; `None` for one that never did.
    pub migration: Option<Box<Migration>>,
}

/// A process that migrated or is migrating (ARCHITECTURE.md, "Migration").
pub struct Migration {
    /// The pid it answers to: the one it was spawned with, on its home
    /// node (a local pid there, a remote pid elsewhere).
    pub identity: Value,
    /// The nodes that keep a forwarding entry for it (node-table entries),
    /// told to forget it when it ends.
    pub visited: Vec<u32>,
    /// Arriving: its state in the wire format, the node it comes from and
    /// its pid word there (to acknowledge), until its first slice decodes it.
    pub arriving: Option<Arriving>,
    /// The move is done: the process ends here without telling anyone.
    pub committed: bool,
}

pub struct Arriving {
    pub state: Message,
    pub from: u32,
    pub from_word: u64,
    /// The forwarding entry this arrival replaced (the process came back
    /// to a node it had left), to restore if the state is refused.
    pub replaced: Option<Forward>,
}

impl Migration {
    pub fn new(identity: Value) -> Migration {
        Migration {
            identity,
            visited: Vec::new(),
            arriving: None,
            committed: false,
        }
    }
}

/// `Process::migrating`: no migration, or one waiting for its answer, or
/// answered.
pub const MIGRATION_NONE: u8 = 0;
pub const MIGRATION_PENDING: u8 = 1;
pub const MIGRATION_DONE: u8 = 2;
pub const MIGRATION_FAILED: u8 = 3;

impl Inner {
    /// Appends a message (or a link exit) to the private queue.
    pub fn push_private(&mut self, value: Value, exit: bool) {
        self.next_seq += 1;
        self.private.push_back(Entry {
            value,
            tagged: self.next_seq << 1 | exit as u64,
        });
    }

    /// The index in `private` of the first entry whose sequence number is
    /// above `mark`.
    pub fn after(&self, mark: u64) -> usize {
        match self.private.front() {
            Some(e) if e.seq() > mark => 0,
            _ => self.private.partition_point(|e| e.seq() <= mark),
        }
    }

    /// The index in `private` of the entry numbered `seq`.
    pub fn find(&self, seq: u64) -> Option<usize> {
        let i = self.after(seq.saturating_sub(1));
        (self.private.get(i)?.seq() == seq).then_some(i)
    }

    /// Adds an outbound link to the pid `to`, of this node or another.
    pub fn add_link_value(&mut self, to: Value) {
        if !self.links.contains(&to) {
            self.links.push(to);
        }
    }

    /// Adds an outbound link to the local process `to` (once).
    pub fn add_link(&mut self, to: u64) {
        self.add_link_value(pid_value(to));
    }

    /// The pid this process answers to (`pid` is its slot here).
    pub fn identity(&self, pid: u64) -> Value {
        match &self.migration {
            Some(m) => m.identity,
            None => pid_value(pid),
        }
    }
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
    /// Set after a kill signal is put in the inbox: the scheduler drains
    /// the inbox before it runs the process again, so a process that never
    /// receives can be killed.
    pub urgent: AtomicBool,
    /// Set when the process is published as a service.
    pub published: AtomicBool,
    /// Set when the process is in the watch table of `dist` (in the links
    /// of a process of another node): its end clears its entries.
    pub watching: AtomicBool,
    /// `MIGRATION_*`: set by the process when it asks another node to take
    /// it, and by the I/O thread when that node answers.
    pub migrating: AtomicU8,
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
            urgent: AtomicBool::new(false),
            published: AtomicBool::new(false),
            watching: AtomicBool::new(false),
            migrating: AtomicU8::new(MIGRATION_NONE),
            inner: UnsafeCell::new(Inner {
                heap,
                callee,
                args,
                registers: [crate::value::NULL; 4],
                private: VecDeque::new(),
                next_seq: 0,
                links: Vec::new(),
                timer: NO_TIMER,
                fetching: false,
                routed: false,
                timed_out: false,
                killed: false,
                migration: None,
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

/// The pid of the next process of `pid`'s slot.
fn next_generation(pid: u64) -> u64 {
    let generation = ((pid >> INDEX_BITS) + 1) & GENERATION_MASK;
    generation << INDEX_BITS | slot_index(pid) as u64
}

fn slot_index(pid: u64) -> usize {
    (pid & ((1 << INDEX_BITS) - 1)) as usize
}

/// A slot of the table: the process whose pid has the slot's index, if it
/// is alive, and its inbox, where senders put messages. The lock keeps the
/// process in the table while a sender delivers. A slot has a cache line
/// of its own, so processes on different threads do not contend for one.
#[repr(align(64))]
#[derive(Default)]
struct Slot(SpinLock<SlotData>);

/// The lock of a slot: held for a few instructions (a push onto an inbox,
/// a swap of the process), so a waiter spins, then yields its thread (the
/// holder may have been preempted). Its release is a plain store where a
/// futex mutex's is a locked exchange, and a message takes two of these
/// locks (the sender's delivery, the receiver's drain).
#[derive(Default)]
struct SpinLock<T> {
    held: AtomicBool,
    data: UnsafeCell<T>,
}

// SAFETY: the data is reached only through a guard, and `lock` lets one
// guard exist at a time: the lock is a mutex, as safe to share between
// threads as the data is to send.
unsafe impl<T: Send> Sync for SpinLock<T> {}

struct SpinGuard<'a, T> {
    lock: &'a SpinLock<T>,
}

impl<T> SpinLock<T> {
    fn lock(&self) -> SpinGuard<'_, T> {
        let mut spins = 0u32;
        while self
            .held
            .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            while self.held.load(Ordering::Relaxed) {
                spins = spins.saturating_add(1);
                if spins < 100 {
                    std::hint::spin_loop();
                } else {
                    std::thread::yield_now();
                }
            }
        }
        SpinGuard { lock: self }
    }
}

impl<T> std::ops::Deref for SpinGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: this guard holds the lock: no other reference to the data.
        unsafe { &*self.lock.data.get() }
    }
}

impl<T> std::ops::DerefMut for SpinGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as for `deref`; the guard is borrowed mutably.
        unsafe { &mut *self.lock.data.get() }
    }
}

impl<T> Drop for SpinGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.held.store(false, Ordering::Release);
    }
}

#[derive(Default)]
struct SlotData {
    process: Option<Arc<Process>>,
    inbox: Inbox,
}

/// Messages that arrived and that the receiver has not drained yet. Most
/// of the time there is at most one: it is kept without a buffer, so an
/// idle process that was sent messages holds no queue.
#[derive(Default)]
pub enum Inbox {
    #[default]
    Empty,
    One(Message),
    /// A burst: the buffer is kept for the next one.
    Many(VecDeque<Message>),
    /// The slot's process migrated (the slot holds no process): signals
    /// for it go on to the node it went to.
    Moved(Box<Forward>),
    /// The process came back to this node, which had forwarded signals
    /// for it: those still on their way come back through the node it
    /// came from; the signals that came by another way wait until the
    /// fence it sent after them returns (ARCHITECTURE.md, "Migration").
    Fenced(Box<Fenced>),
}

/// A forwarding entry: the process `pid` of this slot migrated to node
/// `to`; it answers to `identity`.
#[derive(Clone, Copy)]
pub struct Forward {
    pub pid: u64,
    pub to: u32,
    pub identity: Value,
}

pub struct Fenced {
    /// The node the process came from, and the number of the fence sent.
    pub from: u32,
    pub seq: u64,
    /// Signals that came from `from`, for the process now.
    pub mail: VecDeque<Message>,
    /// Signals that came another way, until the fence returns.
    pub held: VecDeque<Message>,
}

impl Fenced {
    /// Everything it holds, in order: what came from `from`, then what
    /// waited.
    fn release(&mut self) -> VecDeque<Message> {
        let mut all = std::mem::take(&mut self.mail);
        all.append(&mut self.held);
        all
    }
}

impl Inbox {
    /// Adds a signal; false when it is held (not for the process yet).
    fn push(&mut self, m: Message) -> bool {
        match self {
            Inbox::Empty => *self = Inbox::One(m),
            Inbox::Many(q) => q.push_back(m),
            Inbox::One(_) => {
                if let Inbox::One(first) = std::mem::take(self) {
                    *self = Inbox::Many(VecDeque::from([first, m]));
                }
            }
            Inbox::Fenced(f) => {
                f.held.push_back(m);
                return false;
            }
            // A slot that holds a process is never `Moved`.
            Inbox::Moved(_) => return false,
        }
        true
    }

    pub fn drain(&mut self, mut f: impl FnMut(Message)) {
        match self {
            Inbox::Empty | Inbox::Moved(_) => {}
            Inbox::Many(q) => q.drain(..).for_each(f),
            Inbox::One(_) => {
                if let Inbox::One(m) = std::mem::take(self) {
                    f(m)
                }
            }
            Inbox::Fenced(fenced) => fenced.mail.drain(..).for_each(f),
        }
    }

    /// Every signal, held ones included, in order; the inbox is left empty.
    fn drain_all(&mut self, f: impl FnMut(Message)) {
        if let Inbox::Fenced(fenced) = self {
            fenced.release().into_iter().for_each(f);
            *self = Inbox::Empty;
        } else {
            self.drain(f);
        }
    }
}

impl Slot {
    fn lock(&self) -> SpinGuard<'_, SlotData> {
        self.0.lock()
    }
}

/// What became of a signal sent by `Table::deliver`.
pub enum Delivery {
    /// In the inbox; the receiver was not waiting (or need not wake).
    Queued,
    /// In the inbox, and the receiver was waiting: schedule it.
    Woken(Arc<Process>),
    /// No such process (it ended, or never was): the signal is handed back.
    NoProcess(Message),
    /// The process migrated: the signal went on to where it went. The
    /// process answers to this identity.
    Forwarded(Value),
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
    /// Forwarding entries (`Inbox::Moved`).
    moved: AtomicUsize,
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
            moved: AtomicUsize::new(0),
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

    /// Puts a signal in the inbox of process `pid` and wakes the process if
    /// it waits (unless the signal is a link request, which can wait for
    /// the next drain or the process's end).
    pub fn deliver(&self, pid: u64, m: Message) -> Delivery {
        self.deliver_from(pid, m, None)
    }

    /// `deliver` of a signal forwarded by node-table entry `from` (after
    /// the process migrated): one from the node a returning process came
    /// from is for the process at once, and its own fence releases the
    /// signals held until then. A sender's marker is answered here, not
    /// queued (`dist::routes`): where the process is live and not fenced,
    /// and where there is no process (what its sender sends there is
    /// dropped, as anywhere).
    pub fn deliver_from(&self, pid: u64, m: Message, from: Option<u32>) -> Delivery {
        match self.deliver_or_hand_back(pid, m, from) {
            Delivery::NoProcess(m) if m.kind == Kind::Marker => {
                crate::dist::routes::reached(pid, m);
                Delivery::Queued
            }
            d => d,
        }
    }

    fn deliver_or_hand_back(&self, pid: u64, m: Message, from: Option<u32>) -> Delivery {
        let Some(slot) = self.slot(pid) else {
            return Delivery::NoProcess(m);
        };
        let mut slot = slot.lock();
        let SlotData { process, inbox } = &mut *slot;
        let Some(p) = process.as_ref().filter(|p| p.pid == pid) else {
            if let Inbox::Moved(f) = inbox
                && f.pid == pid
            {
                // The process migrated: the signal goes on, before the
                // lock goes (see `move_back`).
                crate::dist::forward(m, **f);
                return Delivery::Forwarded(f.identity);
            }
            drop(slot);
            return Delivery::NoProcess(m);
        };
        let kind = m.kind;
        if kind == Kind::Marker && !matches!(inbox, Inbox::Fenced(_)) {
            // Everything its sender sent before it is in the inbox: the
            // sender is told where the process runs (a fenced slot holds
            // the marker with the rest, and the process answers it when
            // it takes its inbox).
            drop(slot);
            crate::dist::routes::reached(pid, m);
            return Delivery::Queued;
        }
        let for_now = match inbox {
            Inbox::Fenced(f) if from == Some(f.from) => {
                if kind == Kind::Fence {
                    if m.value != Value::fixnum(f.seq as i64) {
                        return Delivery::Queued;
                    }
                    // Everything forwarded before the fence has come: the
                    // held signals are next. The process wakes even if
                    // there are none: it may wait to migrate again.
                    let all = f.release();
                    if all.iter().any(|m| m.kind == Kind::Kill) {
                        p.urgent.store(true, Ordering::Release);
                    }
                    *inbox = Inbox::Many(all);
                } else {
                    f.mail.push_back(m);
                }
                true
            }
            _ => inbox.push(m),
        };
        if !for_now {
            return Delivery::Queued;
        }
        if kind == Kind::Kill {
            p.urgent.store(true, Ordering::Release);
        }
        // SeqCst: pairs with the receiver's store of WAITING then load of
        // `has_mail` (see `sched::run_process`): one of the two sees the other.
        p.has_mail.store(true, Ordering::SeqCst);
        if kind != Kind::Link && p.wake() {
            Delivery::Woken(p.clone())
        } else {
            Delivery::Queued
        }
    }

    /// The process of `f.pid` migrated to node `f.to`: its slot becomes
    /// the forwarding entry `f`, and every signal that arrived since it last
    /// drained its inbox goes to `forward`, in order, before the lock is
    /// let go (so that those signals are on their way before any that
    /// finds the entry). False if `pid` is not in the table.
    pub fn move_out(&self, f: Forward, mut forward: impl FnMut(Message, Forward)) -> bool {
        let pid = f.pid;
        let Some(slot) = self.slot(pid) else {
            return false;
        };
        let mut slot = slot.lock();
        if slot.process.as_ref().is_none_or(|p| p.pid != pid) {
            return false;
        }
        if let Some(p) = slot.process.take() {
            p.has_mail.store(false, Ordering::Relaxed);
        }
        slot.inbox.drain_all(|m| forward(m, f));
        slot.inbox = Inbox::Moved(Box::new(f));
        self.live.fetch_sub(1, Ordering::Relaxed);
        self.moved.fetch_add(1, Ordering::Relaxed);
        true
    }

    /// A process that had left this node (slot `p.pid`, a forwarding
    /// entry) comes back from node `from`: it takes its slot again, with
    /// fence `seq` (see `Inbox::Fenced`). Answers the forwarding entry it
    /// replaced, or None (and nothing changes) if there is none. Every
    /// signal forwarded through the entry was sent on under this lock, so
    /// a fence sent after this goes after all of them.
    pub fn move_back(&self, p: Arc<Process>, from: u32, seq: u64) -> Option<Forward> {
        let slot = self.slot(p.pid)?;
        let mut slot = slot.lock();
        let f = match &slot.inbox {
            Inbox::Moved(f) if f.pid == p.pid && slot.process.is_none() => **f,
            _ => return None,
        };
        slot.inbox = Inbox::Fenced(Box::new(Fenced {
            from,
            seq,
            mail: VecDeque::new(),
            held: VecDeque::new(),
        }));
        slot.process = Some(p);
        self.live.fetch_add(1, Ordering::Relaxed);
        self.moved.fetch_sub(1, Ordering::Relaxed);
        Some(f)
    }

    /// The fence of `pid` will not return (a node on its way went down):
    /// the held signals are for the process now.
    pub fn unfence(&self, pid: u64) -> Option<Arc<Process>> {
        let slot = self.slot(pid)?;
        let mut slot = slot.lock();
        let SlotData { process, inbox } = &mut *slot;
        let p = process.as_ref().filter(|p| p.pid == pid)?;
        let Inbox::Fenced(f) = inbox else { return None };
        let all = f.release();
        if all.iter().any(|m| m.kind == Kind::Kill) {
            p.urgent.store(true, Ordering::Release);
        }
        let any = !all.is_empty();
        *inbox = Inbox::Many(all);
        if !any {
            return None;
        }
        p.has_mail.store(true, Ordering::SeqCst);
        p.wake().then(|| p.clone())
    }

    /// Whether slot `pid` is a forwarding entry (its process migrated).
    pub fn is_moved(&self, pid: u64) -> bool {
        self.slot(pid)
            .is_some_and(|s| matches!(&s.lock().inbox, Inbox::Moved(f) if f.pid == pid))
    }

    /// A pid for a process made off a scheduler thread (which has no
    /// batch of its own).
    pub fn fresh_pid_shared(&self) -> Option<u64> {
        let mut cache = Vec::new();
        let pid = self.fresh_pid(&mut cache);
        self.give_back(cache);
        pid
    }

    /// Returns a batch of free pids to the shared list.
    pub fn give_back(&self, cache: Vec<u64>) {
        if !cache.is_empty() {
            self.free
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .extend(cache);
        }
    }

    /// Whether the process `pid` waits for its fence.
    pub fn is_fenced(&self, pid: u64) -> bool {
        self.slot(pid)
            .is_some_and(|s| matches!(s.lock().inbox, Inbox::Fenced(_)))
    }

    /// The process that migrated from slot `pid` ended: the forwarding
    /// entry goes and the slot serves again. False if there is none.
    pub fn forget(&self, pid: u64) -> bool {
        let Some(slot) = self.slot(pid) else {
            return false;
        };
        let mut slot = slot.lock();
        if !matches!(&slot.inbox, Inbox::Moved(f) if f.pid == pid) || slot.process.is_some() {
            return false;
        }
        slot.inbox = Inbox::Empty;
        drop(slot);
        self.moved.fetch_sub(1, Ordering::Relaxed);
        self.free
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(next_generation(pid));
        true
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
    /// batch of free pids. Answers the signals that arrived after the
    /// process last drained its inbox: from now on a signal sent to `pid`
    /// finds no process, so every signal is either in this inbox or
    /// answered `NoProcess` by `deliver`.
    pub fn remove(&self, pid: u64, cache: &mut Vec<u64>) -> Inbox {
        let Some(slot) = self.slot(pid) else {
            return Inbox::Empty;
        };
        let mut slot = slot.lock();
        if slot.process.as_ref().is_some_and(|p| p.pid == pid) {
            slot.process = None;
            let unread = match std::mem::take(&mut slot.inbox) {
                Inbox::Fenced(mut f) => Inbox::Many(f.release()),
                unread => unread,
            };
            drop(slot);
            self.live.fetch_sub(1, Ordering::Relaxed);
            cache.push(next_generation(pid));
            if cache.len() >= 2 * PID_BATCH {
                let keep = cache.len() - PID_BATCH;
                self.free
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .extend(cache.drain(keep..));
            }
            unread
        } else {
            Inbox::Empty
        }
    }

    pub fn len(&self) -> usize {
        self.live.load(Ordering::Relaxed)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many forwarding entries the table holds (processes that left).
    pub fn forwarding(&self) -> usize {
        self.moved.load(Ordering::Relaxed)
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
    fn signals_arrive_in_order_and_none_is_lost_to_an_ending_process() {
        let table = Table::default();
        let mut cache = Vec::new();
        let pid = table.fresh_pid(&mut cache).unwrap();
        table.insert(process(pid));
        let signals = [
            (Kind::Message, crate::value::Value::fixnum(1)),
            (Kind::Link, pid_value(77)),
            (Kind::Exit, crate::value::Value::fixnum(2)),
            (Kind::Kill, crate::value::TRUE),
        ];
        for (kind, v) in signals {
            assert!(matches!(
                table.deliver(pid, Message::immediate(v, kind)),
                Delivery::Queued
            ));
        }
        // Ending takes the undrained inbox, in the order of the sends.
        let mut unread = table.remove(pid, &mut cache);
        let mut got = Vec::new();
        unread.drain(|m| got.push((m.kind, m.value)));
        assert_eq!(got, signals);
        // After that, a link request finds no process and comes back.
        match table.deliver(pid, Message::immediate(pid_value(78), Kind::Link)) {
            Delivery::NoProcess(m) => assert_eq!(m.value, pid_value(78)),
            _ => panic!("a signal to an ended process must come back"),
        }
    }

    #[test]
    fn receive_marks_survive_removals() {
        let p = process(5);
        // SAFETY: the test owns the process.
        let inner = unsafe { p.inner() };
        for i in 1..=4 {
            inner.push_private(crate::value::Value::fixnum(i), i == 3);
        }
        let seq = |inner: &Inner, i: usize| inner.private[i].seq();
        assert_eq!(inner.after(0), 0);
        let second = seq(inner, 1);
        assert!(inner.private[2].is_exit() && !inner.private[1].is_exit());
        // Taking the first message does not move the mark of the second.
        inner.private.pop_front();
        assert_eq!(inner.find(second), Some(0));
        assert_eq!(inner.after(second), 1);
        assert_eq!(inner.find(1), None, "taken");
        inner.private.remove(1);
        assert_eq!(inner.after(second), 1);
        assert_eq!(inner.private[1].value, crate::value::Value::fixnum(4));
        assert_eq!(inner.after(u64::MAX >> 2), 2, "past the end");
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
