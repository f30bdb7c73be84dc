//! The scheduler: one thread per core running processes from work-stealing
//! run queues, timers for receive timeouts, and the end of the program.

use crate::ctx::*;
use crate::heap::Heap;
use crate::process::{DONE, Delivery, Kind, Message, Process, RUNNABLE, RUNNING, Table, WAITING};
use crate::run::{EXIT_UNCAUGHT, EntryFn, Loaded, Slice, run_slice};
use crate::value::*;
use crossbeam_deque::{Injector, Steal, Stealer, Worker};
use std::cell::Cell;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// Heap a new process starts with.
pub const PROCESS_HEAP_BYTES: usize = 384;

/// The node's processes and schedulers. One per program run.
pub struct Node {
    pub table: Table,
    injector: Injector<Arc<Process>>,
    stealers: OnceLock<Vec<Stealer<Arc<Process>>>>,
    /// Scheduler threads asleep on `wakeup` (changed under `sleep`).
    idle: AtomicUsize,
    sleep: Mutex<()>,
    wakeup: Condvar,
    finished: Mutex<Option<i32>>,
    is_finished: AtomicBool,
    done: Condvar,
    pub loaded: Loaded,
    pub entry: EntryFn,
    pub halt: Value,
    pub raise_return: Value,
    pub primordial: u64,
    pub epoch: Instant,
    /// Per scheduler thread: how many timers in its heap belong to waits
    /// that ended otherwise (see `purge_timers`).
    stale: Vec<StaleCount>,
}

/// A count on a cache line of its own.
#[repr(align(64))]
#[derive(Default)]
struct StaleCount(AtomicUsize);

// SAFETY: the node's values are static objects or raw code addresses, shared
// read-only by all scheduler threads; everything mutable is behind locks or
// concurrent queues.
unsafe impl Sync for Node {}
unsafe impl Send for Node {}

static NODE: OnceLock<&'static Node> = OnceLock::new();

/// Whether the node runs (its schedulers may take processes).
pub fn is_running() -> bool {
    NODE.get().is_some()
}

/// The running node (set once the program starts).
pub fn node() -> &'static Node {
    match NODE.get() {
        Some(n) => n,
        None => panic_free_abort("no node is running"),
    }
}

fn panic_free_abort(msg: &str) -> ! {
    eprintln!("termite: internal error: {msg}");
    std::process::exit(EXIT_UNCAUGHT)
}

thread_local! {
    /// The run queue of the scheduler thread this is (null elsewhere).
    static LOCAL: Cell<*const Worker<Arc<Process>>> = const { Cell::new(std::ptr::null()) };
    /// The process this scheduler thread runs next: the first one it woke
    /// since it last looked (Go's `runnext`, Tokio's LIFO slot). A message
    /// and its receiver stay on one core, and the run queue's atomic
    /// operations are skipped. Not stealable; `find_work` bounds how many
    /// times in a row it is used, so the run queue is not starved.
    static NEXT: Cell<Option<Arc<Process>>> = const { Cell::new(None) };
}

/// How many processes in a row a scheduler takes from its `NEXT` slot
/// before it takes one from its run queue.
const MAX_NEXT_RUNS: u32 = 32;

impl Node {
    /// Makes a process runnable from any thread. On a scheduler thread it
    /// goes to that thread's `NEXT` slot if the slot is free, else to its
    /// own queue (the waker's cache is warm); elsewhere to the injector.
    pub fn schedule(&self, p: Arc<Process>) {
        let local = LOCAL.with(|l| l.get());
        if !local.is_null() {
            let (next, spare) = match NEXT.with(|n| n.take()) {
                None => (p, None),
                Some(next) => (next, Some(p)),
            };
            NEXT.with(|n| n.set(Some(next)));
            let Some(p) = spare else { return };
            // SAFETY: set by `scheduler_loop` to its worker, which outlives
            // every call made on that thread.
            unsafe { &*local }.push(p);
        } else {
            self.injector.push(p);
        }
        // More work than this thread runs next: an idle peer may take it.
        self.wake_idle();
    }

    /// Wakes a sleeping scheduler thread, if there is one.
    fn wake_idle(&self) {
        if self.idle.load(Ordering::SeqCst) > 0 {
            let _g = self.sleep.lock().unwrap_or_else(|e| e.into_inner());
            self.wakeup.notify_one();
        }
    }

    /// Delivers a signal; the receiver wakes if it waits. False when there
    /// is no process `pid` (the signal is dropped).
    pub fn deliver(&self, pid: u64, m: Message) -> bool {
        match self.table.deliver(pid, m) {
            Delivery::Woken(p) => {
                self.schedule(p);
                true
            }
            Delivery::Queued | Delivery::Forwarded(_) => true,
            Delivery::NoProcess(_) => false,
        }
    }

    /// Ends the program with status `code` (its first process ended).
    pub fn end_program(&self, code: i32) {
        self.finish(code);
    }

    /// The process's last wait is over: if it had a timer that did not
    /// fire, that timer is stale.
    fn wait_over(&self, inner: &mut crate::process::Inner, timed_out: bool) {
        let owner = std::mem::replace(&mut inner.timer, crate::process::NO_TIMER);
        if owner != crate::process::NO_TIMER
            && !timed_out
            && let Some(c) = self.stale.get(owner as usize)
        {
            c.0.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn finish(&self, code: i32) {
        let mut f = self.finished.lock().unwrap_or_else(|e| e.into_inner());
        if f.is_none() {
            *f = Some(code);
        }
        self.is_finished.store(true, Ordering::SeqCst);
        self.done.notify_all();
        let _g = self.sleep.lock().unwrap_or_else(|e| e.into_inner());
        self.wakeup.notify_all();
    }

    fn is_finished(&self) -> bool {
        self.is_finished.load(Ordering::Acquire)
    }

    /// Microseconds since the node started (the clock of deadlines).
    pub fn now_micros(&self) -> i64 {
        self.epoch.elapsed().as_micros() as i64
    }
}

/// The timers of one scheduler thread: when each wait that has a deadline
/// ends (deadline, pid, the wait's sequence number). A process's timer
/// lives on the thread where it began to wait, so setting one takes no lock.
type Timers = BinaryHeap<Reverse<(Instant, u64, u64)>>;

/// Wakes the processes whose deadline has passed; answers when the next
/// timer is due.
fn fire_timers(node: &Node, timers: &mut Timers) -> Option<Instant> {
    if timers.is_empty() {
        // Reading the clock costs more than a switch between processes.
        return None;
    }
    let now = Instant::now();
    while let Some(Reverse((at, pid, seq))) = timers.peek().copied() {
        if at > now {
            return Some(at);
        }
        timers.pop();
        let Some(p) = node.table.get(pid) else {
            continue;
        };
        // A timer of an earlier wait is stale: the process was woken since.
        if p.wait_seq.load(Ordering::Acquire) == seq && p.wake() {
            // Now ours: if a message woke it and it began another wait
            // before our `wake`, it just looks at its mailbox again.
            if p.wait_seq.load(Ordering::Acquire) == seq {
                // SAFETY: the winner of `wake` owns the RUNNABLE process
                // until it schedules it.
                unsafe { p.inner().timed_out = true };
            }
            node.schedule(p);
        }
    }
    None
}

/// Smallest timer heap that is ever purged of stale timers.
const PURGE_MIN: usize = 64;

/// Drops the stale timers of scheduler `me` once they are more than half
/// of its heap: the heap holds about twice the live timed waits at most,
/// and the purges cost O(1) per wait (amortized).
fn purge_timers(node: &Node, me: usize, timers: &mut Timers) {
    let Some(stale) = node.stale.get(me) else {
        return;
    };
    if timers.len() < PURGE_MIN || stale.0.load(Ordering::Relaxed) * 2 <= timers.len() {
        return;
    }
    // Counted from now on: a wait that ends during the purge is counted
    // again, which only brings the next purge forward.
    stale.0.store(0, Ordering::Relaxed);
    timers.retain(|Reverse((_, pid, seq))| {
        node.table
            .with(*pid, |p| {
                p.wait_seq.load(Ordering::Acquire) == *seq
                    && p.state.load(Ordering::Acquire) == WAITING
            })
            .unwrap_or(false)
    });
}

/// Creates a process running `thunk` (a closure in `from`'s heap, copied);
/// None when the node has as many processes as it can hold.
pub fn spawn(ctx: &mut Ctx, node: &Node, thunk: Value, link_with: Option<Value>) -> Option<u64> {
    let pid = node.table.fresh_pid(&mut ctx.free_pids)?;
    let mut heap = Heap::new(PROCESS_HEAP_BYTES);
    let callee = heap.copy_into_new(thunk);
    let p = Arc::new(Process::new(
        pid,
        heap,
        callee,
        smallvec::smallvec![node.halt],
    ));
    if let Some(parent) = link_with {
        // SAFETY: the process is not published yet: its creator owns it.
        unsafe { p.inner() }.links.push(parent);
    }
    node.table.insert(p.clone());
    node.schedule(p);
    Some(pid)
}

/// Runs the program: the primordial process runs `main`; returns the exit
/// status when it ends.
pub fn run_node(
    loaded: Loaded,
    entry: EntryFn,
    main: Value,
    halt: Value,
    raise_return: Value,
) -> i32 {
    crate::prims::system::install_signal_handlers();
    let n = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .max(1);
    let table = Table::default();
    let primordial = table.fresh_pid(&mut Vec::new()).unwrap_or(2);
    let node: &'static Node = Box::leak(Box::new(Node {
        table,
        injector: Injector::new(),
        stealers: OnceLock::new(),
        idle: AtomicUsize::new(0),
        sleep: Mutex::new(()),
        wakeup: Condvar::new(),
        finished: Mutex::new(None),
        is_finished: AtomicBool::new(false),
        done: Condvar::new(),
        loaded,
        entry,
        halt,
        raise_return,
        primordial,
        epoch: Instant::now(),
        stale: (0..n).map(|_| StaleCount::default()).collect(),
    }));
    if NODE.set(node).is_err() {
        panic_free_abort("a node is already running");
    }
    let first = Arc::new(Process::new(
        primordial,
        Heap::new(64 * 1024),
        main,
        smallvec::smallvec![halt],
    ));
    node.table.insert(first.clone());
    node.injector.push(first);

    let workers: Vec<Worker<Arc<Process>>> = (0..n).map(|_| Worker::new_fifo()).collect();
    let _ = node
        .stealers
        .set(workers.iter().map(|w| w.stealer()).collect());
    for (i, w) in workers.into_iter().enumerate() {
        let spawned = std::thread::Builder::new()
            .name(format!("scheduler-{i}"))
            .stack_size(256 << 20)
            .spawn(move || scheduler_loop(node, w, i));
        if spawned.is_err() {
            panic_free_abort("cannot start a scheduler thread");
        }
    }
    let mut f = node.finished.lock().unwrap_or_else(|e| e.into_inner());
    loop {
        if let Some(code) = *f {
            return code;
        }
        f = node.done.wait(f).unwrap_or_else(|e| e.into_inner());
    }
}

/// What one scheduler thread owns.
struct Scheduler {
    /// Its index among the node's schedulers.
    me: usize,
    local: Worker<Arc<Process>>,
    /// How many processes in a row came from the `NEXT` slot.
    next_runs: u32,
    timers: Timers,
}

/// The next process for scheduler `me` to run: its `NEXT` slot (at most
/// `MAX_NEXT_RUNS` times in a row), its run queue, the injector, or a
/// peer's run queue.
fn find_work(node: &Node, sched: &mut Scheduler) -> Option<Arc<Process>> {
    let (local, me) = (&sched.local, sched.me);
    if let Some(p) = NEXT.with(|n| n.take()) {
        if sched.next_runs < MAX_NEXT_RUNS || local.is_empty() {
            sched.next_runs = sched.next_runs.saturating_add(1);
            return Some(p);
        }
        local.push(p);
    }
    sched.next_runs = 0;
    if let Some(p) = local.pop() {
        return Some(p);
    }
    loop {
        match node.injector.steal_batch_and_pop(local) {
            Steal::Success(p) => return Some(p),
            Steal::Retry => continue,
            Steal::Empty => break,
        }
    }
    let stealers = node.stealers.get()?;
    for (i, s) in stealers.iter().enumerate() {
        if i == me || s.len() < 2 {
            continue;
        }
        loop {
            match s.steal() {
                Steal::Success(p) => return Some(p),
                Steal::Retry => continue,
                Steal::Empty => break,
            }
        }
    }
    None
}

/// Whether a sleeping scheduler would find something to take.
/// How long a scheduler thread that ran out of work keeps looking before
/// it sleeps. A process woken from outside (a message from another node,
/// delivered by the I/O thread) is then taken at once, without the futex
/// wake and the wake-up of a sleeping thread (on a virtual machine, an
/// interrupt to a halted vCPU), which cost more than the round trip
/// itself. It yields while it looks, so that on one core the thread that
/// brings the work runs.
const SPIN: Duration = Duration::from_micros(100);

/// Looks for stealable work for up to `SPIN`; whether some came.
fn spin_for_work(node: &Node) -> bool {
    let until = Instant::now() + SPIN;
    loop {
        if stealable_work(node) || node.is_finished() {
            return true;
        }
        if Instant::now() >= until {
            return false;
        }
        std::thread::yield_now();
    }
}

fn stealable_work(node: &Node) -> bool {
    !node.injector.is_empty()
        || node
            .stealers
            .get()
            .is_some_and(|s| s.iter().any(|s| !s.is_empty()))
}

fn scheduler_loop(node: &'static Node, local: Worker<Arc<Process>>, me: usize) {
    let mut sched = Scheduler {
        me,
        local,
        next_runs: 0,
        timers: Timers::new(),
    };
    LOCAL.with(|l| l.set(&sched.local as *const _));
    let mut ctx = Ctx::new(
        node.loaded.globals.base(),
        node.loaded.globals.len(),
        node.loaded.consts.as_ptr(),
    );
    loop {
        if node.is_finished() {
            return;
        }
        let next_timer = fire_timers(node, &mut sched.timers);
        let Some(p) = find_work(node, &mut sched) else {
            // Nothing to run here: what was printed shows now.
            crate::prims::system::flush_if_pending();
            if next_timer.is_none_or(|t| t > Instant::now() + SPIN) && spin_for_work(node) {
                continue;
            }
            // Sleep until woken, or until the next timer is due. `idle` is
            // raised before the last look for work, under the lock a waker
            // takes to notify: a process scheduled after the look wakes us.
            let g = node.sleep.lock().unwrap_or_else(|e| e.into_inner());
            node.idle.fetch_add(1, Ordering::SeqCst);
            if !stealable_work(node) && !node.is_finished() {
                let wait = next_timer
                    .map(|t| t.saturating_duration_since(Instant::now()))
                    .unwrap_or(Duration::from_millis(50));
                let _ = node
                    .wakeup
                    .wait_timeout(g, wait)
                    .unwrap_or_else(|e| e.into_inner());
            }
            node.idle.fetch_sub(1, Ordering::SeqCst);
            continue;
        };
        // A process is in at most one run queue: only the winner of `wake`
        // (or its creator, or the thread that preempted it) schedules it,
        // and the queue hands it over with acquire/release ordering.
        debug_assert_eq!(p.state.load(Ordering::Relaxed), RUNNABLE);
        p.state.store(RUNNING, Ordering::Relaxed);
        run_process(node, &mut ctx, &mut sched, p);
    }
}

fn run_process(node: &'static Node, ctx: &mut Ctx, sched: &mut Scheduler, p: Arc<Process>) {
    let proc: *const Process = Arc::as_ptr(&p);
    // SAFETY: this thread set the state to RUNNING.
    let inner = unsafe { (*proc).inner() };
    let timed_out = std::mem::take(&mut inner.timed_out);
    node.wait_over(inner, timed_out);
    if inner.migration.is_some() && !crate::dist::arrive(&p, inner) {
        // Its state was refused: the node it came from keeps it.
        end(node, &mut ctx.free_pids, &p, None);
        return;
    }
    // A process waiting for another node to take it handles no signal:
    // they go with it, or stay if it stays.
    let leaving = p.migrating.load(Ordering::Relaxed) != crate::process::MIGRATION_NONE;
    if !leaving && crate::prims::process::drain_urgent(&p, inner) {
        end(
            node,
            &mut ctx.free_pids,
            &p,
            Some(crate::prims::process::killed()),
        );
        return;
    }
    // A wait for a global's value ends with its answer, not with mail.
    let mut fetched = None;
    if inner.fetching {
        fetched = Some(match crate::dist::take_fetched(p.pid) {
            crate::dist::Fetched::Wait => {
                wait_for_fetch(p, sched);
                return;
            }
            crate::dist::Fetched::Value(v) => Ok(v),
            crate::dist::Fetched::Failed(why) => Err(why),
        });
        inner.fetching = false;
    }
    ctx.self_pid = inner.identity(p.pid);
    // The context owns the process while it runs (no reference count to
    // take); `proc` stays valid until it is taken back below.
    ctx.current = Some(p);
    ctx.use_heap(&mut inner.heap);
    ctx.registers = inner.registers;
    ctx.reductions = REDUCTIONS;
    ctx.collection_due = false;
    if ctx.heap().over_threshold() {
        ctx.request_collection();
    }
    if timed_out {
        // A wait that ended by its deadline resumes with #f.
        inner.args.clear();
        inner.args.push(FALSE);
    }
    let mut outcome = if let Some(answer) = fetched {
        // Its read of an unbound global resumes with the value fetched,
        // or fails as the read would have.
        match answer {
            Ok(v) => {
                ctx.set_args(&[v]);
                run_slice(ctx, node, inner.callee, 1)
            }
            Err(why) => {
                let m = ctx.string(&why);
                let e = crate::records::make_error(ctx, m, NULL);
                match crate::run::raise_call_to(ctx, node, e, Some(inner.callee)) {
                    Some((f, argc)) => run_slice(ctx, node, f, argc as usize),
                    None => Slice::Died(e),
                }
            }
        }
    } else {
        ctx.set_args(&inner.args);
        run_slice(ctx, node, inner.callee, inner.args.len())
    };
    if let Slice::Suspended(callee, _) = &mut outcome
        && ctx.heap().wants_idle_collection()
    {
        // Its only roots are its continuation, registers and messages.
        ctx.need = 0;
        crate::run::collect(ctx, callee, 0);
    }
    // SAFETY: as above (the collector may have used the state meanwhile).
    let inner = unsafe { (*proc).inner() };
    ctx.use_own_heap();
    inner.registers = ctx.registers;
    let Some(p) = ctx.current.take() else {
        return;
    };
    inner.args.clear();
    match outcome {
        Slice::Yielded(callee, argc) => {
            inner.args.extend((0..argc).map(|i| ctx.arg(i)));
            inner.callee = callee;
            p.state.store(RUNNABLE, Ordering::Release);
            sched.local.push(p);
        }
        Slice::Suspended(callee, deadline) => {
            // What it printed before it blocks shows now.
            crate::prims::system::flush_if_pending();
            inner.args.push(TRUE);
            inner.callee = callee;
            inner.timed_out = false;
            // Only this thread writes `wait_seq` (timers read it).
            let seq = p.wait_seq.load(Ordering::Relaxed) + 1;
            p.wait_seq.store(seq, Ordering::Release);
            let at = deadline.map(|us| node.epoch + Duration::from_micros(us.max(0) as u64));
            let already_due = at.is_some_and(|a| a <= Instant::now());
            if let Some(at) = at.filter(|_| !already_due) {
                // Before the push: this wait is not WAITING yet.
                purge_timers(node, sched.me, &mut sched.timers);
                sched.timers.push(Reverse((at, p.pid, seq)));
                inner.timer = sched.me as u32;
            }
            // SeqCst, then `has_mail`: pairs with `Table::deliver` (a message
            // that arrives now is seen here, or its sender sees WAITING).
            // After this store another thread may own the process.
            p.state.store(WAITING, Ordering::SeqCst);
            if already_due {
                if p.wake() {
                    // SAFETY: the winner of `wake` owns the process.
                    unsafe { p.inner() }.timed_out = true;
                    sched.local.push(p);
                }
            } else if ready_to_resume(&p) && p.wake() {
                sched.local.push(p);
            }
        }
        Slice::Fetching(k) => {
            crate::prims::system::flush_if_pending();
            inner.callee = k;
            inner.fetching = true;
            inner.timed_out = false;
            wait_for_fetch(p, sched);
        }
        Slice::Returned => end(node, &mut ctx.free_pids, &p, None),
        Slice::Died(v) => end(node, &mut ctx.free_pids, &p, Some(v)),
        Slice::Exit(code) => {
            crate::prims::system::flush_out();
            node.finish(code);
        }
    }
}

/// The process waits for the value of a global (`Slice::Fetching`):
/// the answer wakes it (`dist::code`), or it wakes itself if the answer
/// came before it was WAITING. Mail does not end this wait.
fn wait_for_fetch(p: Arc<Process>, sched: &mut Scheduler) {
    // A timer of an earlier wait is stale from here on.
    let seq = p.wait_seq.load(Ordering::Relaxed) + 1;
    p.wait_seq.store(seq, Ordering::Release);
    p.state.store(WAITING, Ordering::SeqCst);
    if crate::dist::fetch_done(p.pid) && p.wake() {
        sched.local.push(p);
    }
}

/// Whether a process that just began to wait has something to resume for:
/// mail, or (one waiting for another node to take it) the answer.
fn ready_to_resume(p: &Process) -> bool {
    match p.migrating.load(Ordering::SeqCst) {
        crate::process::MIGRATION_NONE => p.has_mail(),
        crate::process::MIGRATION_PENDING => false,
        _ => true,
    }
}

/// A process ended (with an uncaught exception `died`): tell its links,
/// and the link requests that arrived since it last drained its inbox,
/// and forget it. The program ends with its primordial process.
fn end(node: &Node, free_pids: &mut Vec<u64>, p: &Arc<Process>, died: Option<Value>) {
    p.state.store(DONE, Ordering::Release);
    // SAFETY: as below.
    if unsafe { p.inner() }.fetching {
        // Killed while it waited for a global's value.
        crate::dist::forget_fetch(p.pid);
    }
    // SAFETY: the process is DONE; this thread still owns its state.
    if let Some(m) = unsafe { p.inner() }.migration.as_deref()
        && m.committed
    {
        // It runs on another node now (or was refused here): its slot is
        // a forwarding entry (or free), its links went with it.
        let inner = unsafe { p.inner() };
        node.wait_over(inner, false);
        if p.published.load(Ordering::Acquire) {
            crate::prims::process::unpublish(p.pid);
        }
        inner.private.clear();
        inner.heap.release();
        return;
    }
    // From here on a signal to `p` finds no process (and a link request
    // is answered `noproc`): every earlier one is in `unread`.
    let unread = node.table.remove(p.pid, free_pids);
    // SAFETY: the process is DONE and out of the table; this thread still
    // owns its state.
    let inner = unsafe { p.inner() };
    node.wait_over(inner, false);
    let mut links = std::mem::take(&mut inner.links);
    let mut unread = unread;
    unread.drain(|m| {
        if m.kind == Kind::Link && !links.contains(&m.value) {
            links.push(m.value);
        }
    });
    let identity = inner.identity(p.pid);
    if let Some(m) = inner.migration.as_deref() {
        crate::dist::ended(identity, m);
    }
    if died.is_none() {
        // Processes of other nodes linked to this one forget the link.
        for &to in &links {
            if !crate::ident::is_local_pid(to) {
                crate::dist::send_unwatch(Some(p.pid), identity, to);
            }
        }
    }
    if p.watching.load(Ordering::Acquire) {
        crate::dist::forget_watcher(p.pid);
    }
    if let Some(v) = died {
        for &to in &links {
            if crate::ident::is_local_pid(to) {
                node.deliver(to.imm_payload(), Message::copy_of(v, Kind::Exit));
            } else {
                crate::dist::send_exit(Some(p.pid), identity, to, v);
            }
        }
        if links.is_empty() && p.pid != node.primordial && !inner.killed {
            crate::prims::system::report_death(p.pid, v);
        }
    }
    if inner.routed {
        // After its last signals: they took its routes.
        crate::dist::routes::forget_sender(p.pid);
    }
    if p.published.load(Ordering::Acquire) {
        crate::prims::process::unpublish(p.pid);
    }
    if p.pid == node.primordial {
        crate::prims::system::flush_out();
        match died {
            None => node.finish(0),
            Some(v) => {
                eprintln!("error: {}", crate::records::describe_exception(v));
                node.finish(EXIT_UNCAUGHT);
            }
        }
    }
    // Its heap's blocks go back to the pool.
    inner.private.clear();
    inner.heap.release();
}
