//! The I/O thread: one mio event loop owning the listener, every
//! connection and a waker through which other threads hand it work.
//! See ARCHITECTURE.md, *Nodes — Connections*, for the design; the
//! comments here say how each part is done.

use super::frame::{self, Event, FRAGMENT, Incoming, Phase, REASSEMBLY_BUDGET, kind};
use super::handshake::{self, Handshake, Identity, Refusal, Role};
use super::heartbeat::{self, Check, Liveness};
use super::limiter::{Admit, Limiter};
use super::{DownReason, Flow, NodeConfig, NodeError, SendError, Sink};
use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token, Waker};
use std::collections::{HashMap, VecDeque};
use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::mpsc::{Receiver, Sender, TryRecvError, channel};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::thread::{JoinHandle, ThreadId};
use std::time::{Duration, Instant};

const LISTENER: Token = Token(0);
const WAKER: Token = Token(1);
const FIRST_CONN: usize = 2;

/// The write buffer is refilled from the queues when less than this is
/// left in it, up to `FILL`: a small frame queued behind a large message
/// waits for at most about `FILL` bytes of it (plus the kernel's buffer).
const LOW: usize = 64 * 1024;
const FILL: usize = 256 * 1024;
/// Reads of one connection per event-loop turn before the others get
/// theirs (the connection is read again on the next turn).
const READS_PER_TURN: usize = 16;
/// Bytes written to one connection per event-loop turn: then the loop
/// takes new commands (a small message queued meanwhile gets its turn in
/// the next fill) and serves the other connections.
const WRITE_PER_TURN: usize = 4 * FILL;
/// A refused connection is kept (write side shut) this long so that our
/// REFUSE reaches the peer before the socket goes.
const LINGER: Duration = Duration::from_millis(500);
/// After the peer kept its own connection in a simultaneous connect, we
/// dial again if no connection to it is there after this long.
const REDIAL: Duration = Duration::from_millis(200);
/// How long the loop keeps polling without sleeping after it last had
/// work (see `Io::run`; the scheduler's `SPIN` says why).
const SPIN: Duration = Duration::from_micros(100);

enum Cmd {
    Send {
        peer: SocketAddr,
        lane: u64,
        kind: u8,
        data: Vec<u8>,
    },
    Shutdown,
    /// A bare node adopted a program: later handshakes announce it.
    SetProgram([u8; 32]),
    /// Tests: the I/O thread sleeps (a node that stops answering).
    #[cfg(test)]
    Pause(Duration),
}

/// A peer's queue accounting, shared by senders and the I/O thread.
#[derive(Default)]
struct PeerShared {
    queued: AtomicUsize,
    congested: AtomicBool,
}

/// What the senders and the I/O thread share.
struct Common {
    /// The I/O thread is awake or a wake-up is on its way: senders need
    /// not wake it (cleared by the thread before it looks at its queue).
    awake: AtomicBool,
    io_thread: OnceLock<ThreadId>,
    peers: RwLock<HashMap<SocketAddr, Arc<PeerShared>>>,
}

impl Common {
    fn peer(&self, addr: SocketAddr) -> Arc<PeerShared> {
        if let Some(p) = self
            .peers
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&addr)
        {
            return p.clone();
        }
        self.peers
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .entry(addr)
            .or_default()
            .clone()
    }
}

struct Shared {
    common: Arc<Common>,
    tx: Sender<Cmd>,
    waker: Waker,
    listen: Option<SocketAddr>,
    soft: usize,
    hard: usize,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Shared {
    fn wake(&self) {
        if self.common.io_thread.get() == Some(&std::thread::current().id()) {
            // The loop looks at its queue before it sleeps again.
            return;
        }
        if !self.common.awake.swap(true, SeqCst) {
            // A failed wake means the loop is gone; sends then fail too.
            let _ = self.waker.wake();
        }
    }

    fn set_program(&self, id: [u8; 32]) {
        let _ = self.tx.send(Cmd::SetProgram(id));
        self.wake();
    }

    fn shutdown(&self) {
        let _ = self.tx.send(Cmd::Shutdown);
        let _ = self.waker.wake();
        let handle = self.thread.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(h) = handle
            && self.common.io_thread.get() != Some(&std::thread::current().id())
        {
            let _ = h.join();
        }
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Starts a node's network layer.
pub struct Node;

/// A node's network layer, shared by every thread that sends. Dropping the
/// last handle shuts it down.
#[derive(Clone)]
pub struct NodeHandle(Arc<Shared>);

impl Node {
    /// Binds the listener (if any) and starts the I/O thread.
    pub fn start(config: NodeConfig, sink: Arc<dyn Sink>) -> Result<NodeHandle, NodeError> {
        let poll = Poll::new().map_err(NodeError::Io)?;
        let waker = Waker::new(poll.registry(), WAKER).map_err(NodeError::Io)?;
        let mut listener = match config.listen {
            Some(a) => Some(TcpListener::bind(a).map_err(|e| NodeError::Bind(a, e))?),
            None => None,
        };
        let listen = match &listener {
            Some(l) => Some(l.local_addr().map_err(NodeError::Io)?),
            None => None,
        };
        if let Some(l) = &mut listener {
            poll.registry()
                .register(l, LISTENER, Interest::READABLE)
                .map_err(NodeError::Io)?;
        }
        let common = Arc::new(Common {
            awake: AtomicBool::new(false),
            io_thread: OnceLock::new(),
            peers: RwLock::new(HashMap::new()),
        });
        let (tx, rx) = channel();
        let ident = Identity {
            listen,
            incarnation: config.incarnation,
            program: config.program_id,
            any_program: config.accept_any_program,
        };
        let name = match listen {
            Some(a) => format!("termite: node {a}"),
            None => format!("termite: node (no address, {:016x})", config.incarnation),
        };
        let now = Instant::now();
        let io = Io {
            limiter: Limiter::new(config.max_failures, config.failure_window),
            interval: heartbeat::check_interval(
                config.heartbeat_timeout.min(config.handshake_timeout),
            ),
            cfg: config.clone(),
            ident,
            name,
            sink,
            common: common.clone(),
            poll,
            listener,
            rx,
            conns: Vec::new(),
            free: Vec::new(),
            to_free: Vec::new(),
            peers: HashMap::new(),
            again: Vec::new(),
            dirty: Vec::new(),
            taken: 0,
            now,
            next_check: now,
        };
        let c2 = common.clone();
        let thread = std::thread::Builder::new()
            .name("termite-net".into())
            .spawn(move || {
                let _ = c2.io_thread.set(std::thread::current().id());
                io.run()
            })
            .map_err(NodeError::Io)?;
        Ok(NodeHandle(Arc::new(Shared {
            common,
            tx,
            waker,
            listen,
            soft: config.queue_soft_limit,
            hard: config.queue_hard_limit,
            thread: Mutex::new(Some(thread)),
        })))
    }
}

impl NodeHandle {
    /// The address the listener is bound to (with the real port when the
    /// configuration asked for port 0).
    pub fn listen_addr(&self) -> Option<SocketAddr> {
        self.0.listen
    }

    /// Queues a message of `kind` for `peer`, connecting on first use.
    /// Messages of one `lane` to one peer arrive in the order sent, whole;
    /// messages of different lanes share the connection fragment by
    /// fragment, so a small one never waits behind a large one of another
    /// lane (the runtime uses the sending process as the lane). A message
    /// to a peer that cannot be reached is dropped, and the sink hears
    /// `peer_down`.
    pub fn send(
        &self,
        peer: SocketAddr,
        lane: u64,
        kind: u8,
        data: Vec<u8>,
    ) -> Result<Flow, SendError> {
        self.enqueue(peer, lane, kind, data, true)
    }

    /// `send`, but queued even when the queue is over its hard limit: for
    /// small control messages that must not be lost (a link's exit
    /// signal), whose number the runtime bounds.
    pub fn send_unbounded(
        &self,
        peer: SocketAddr,
        lane: u64,
        kind: u8,
        data: Vec<u8>,
    ) -> Result<Flow, SendError> {
        self.enqueue(peer, lane, kind, data, false)
    }

    /// Whether the queue to `peer` went over the soft limit and has not
    /// yet drained to half of it (when [`Sink::drained`] is called).
    pub fn congested(&self, peer: SocketAddr) -> bool {
        self.0.common.peer(peer).congested.load(SeqCst)
    }

    fn enqueue(
        &self,
        peer: SocketAddr,
        lane: u64,
        kind: u8,
        data: Vec<u8>,
        bounded: bool,
    ) -> Result<Flow, SendError> {
        let len = data.len();
        if len > frame::MAX_MESSAGE {
            return Err(SendError::TooLarge(len));
        }
        let s = &self.0;
        let ps = s.common.peer(peer);
        if bounded && ps.queued.load(SeqCst) >= s.hard {
            return Err(SendError::QueueFull);
        }
        let after = ps.queued.fetch_add(len, SeqCst) + len;
        if s.tx
            .send(Cmd::Send {
                peer,
                lane,
                kind,
                data,
            })
            .is_err()
        {
            ps.queued.fetch_sub(len, SeqCst);
            return Err(SendError::Shutdown);
        }
        s.wake();
        if after > s.soft {
            ps.congested.store(true, SeqCst);
            // The I/O thread may have drained the queue before it could
            // see the flag: then there is no congestion to wait out.
            if ps.queued.load(SeqCst) > s.soft / 2 {
                return Ok(Flow::Congested);
            }
        }
        Ok(Flow::Ok)
    }

    /// Bytes queued for `peer` and not yet handed to its socket.
    pub fn queued(&self, peer: SocketAddr) -> usize {
        self.0.common.peer(peer).queued.load(SeqCst)
    }

    /// A bare node that adopted the program `id` (ARCHITECTURE.md, "Code
    /// to a bare node"): from now on its handshakes announce that program
    /// and refuse peers of another, as a program node's do.
    pub fn set_program(&self, id: [u8; 32]) {
        self.0.set_program(id);
    }

    /// Closes every connection (the sink hears `peer_down` for each peer
    /// that was up) and joins the I/O thread.
    pub fn shutdown(&self) {
        self.0.shutdown();
    }

    #[cfg(test)]
    pub(crate) fn pause(&self, d: Duration) {
        let _ = self.0.tx.send(Cmd::Pause(d));
        self.0.wake();
    }
}

struct Out {
    kind: u8,
    data: Vec<u8>,
    off: usize,
    stream: Option<u32>,
}

struct Peer {
    shared: Arc<PeerShared>,
    /// The connection that carries (or is being made for) this peer.
    conn: Option<usize>,
    /// Its incarnation while it is up.
    up: Option<u64>,
    lanes: HashMap<u64, VecDeque<Out>>,
    /// Lanes with messages, in turn.
    ring: VecDeque<u64>,
    next_stream: u32,
    /// Declared bytes of fragmented messages started and not finished.
    inflight: usize,
    redial_at: Option<Instant>,
}

impl Peer {
    fn has_queue(&self) -> bool {
        !self.ring.is_empty()
    }
}

enum State {
    Connecting,
    Handshaking(Box<Handshake>),
    Up,
    /// Refused: our REFUSE is on its way; whatever comes is discarded.
    Closing(Instant),
}

struct Conn {
    stream: TcpStream,
    remote: SocketAddr,
    outbound: bool,
    key: Option<SocketAddr>,
    peer_ident: Option<Identity>,
    /// An inbound connection whose HELLO says it replaces the peer's
    /// connection that is up: that one, and why it goes down, once this
    /// one is authenticated (until then this is not the peer's).
    displaces: Option<(usize, DownReason)>,
    state: State,
    inc: Incoming,
    wbuf: Vec<u8>,
    wpos: usize,
    writable: bool,
    dirty: bool,
    /// Bytes have come from the peer.
    heard: bool,
    /// The poller saw the peer's end close (or an error): read to the end.
    hangup: bool,
    live: Liveness,
    opened: Instant,
    /// The last time the peer took bytes, or data was queued after none.
    progress: Instant,
}

impl Conn {
    fn pending(&self) -> bool {
        self.wpos < self.wbuf.len()
    }
}

/// How a connection leaves its peer.
enum Detach {
    /// The peer is down (or never came up) for this reason.
    Down(DownReason),
    /// Quietly: another connection takes over; the queue stays.
    Quiet,
}

struct Io {
    cfg: NodeConfig,
    ident: Identity,
    name: String,
    sink: Arc<dyn Sink>,
    common: Arc<Common>,
    poll: Poll,
    listener: Option<TcpListener>,
    rx: Receiver<Cmd>,
    conns: Vec<Option<Conn>>,
    free: Vec<usize>,
    /// Slots closed during this turn, reusable from the next (an event of
    /// this turn may still name them).
    to_free: Vec<usize>,
    peers: HashMap<SocketAddr, Peer>,
    limiter: Limiter,
    again: Vec<usize>,
    dirty: Vec<usize>,
    /// Commands taken so far (the loop spins a little after work).
    taken: u64,
    now: Instant,
    next_check: Instant,
    interval: Duration,
}

impl Io {
    fn run(mut self) {
        let mut events = Events::with_capacity(256);
        // When the loop last had something to do: for `SPIN` after it,
        // it polls without sleeping and keeps `awake` set, so that a
        // sender's message is taken without a wake-up through the waker.
        let mut last_work = Instant::now();
        loop {
            let spinning = self.now < last_work + SPIN;
            if !spinning {
                self.common.awake.store(false, SeqCst);
            }
            let before = self.taken;
            if !self.commands() {
                break;
            }
            self.flush_dirty();
            self.now = Instant::now();
            let timeout = if !self.again.is_empty() || !self.dirty.is_empty() {
                Duration::ZERO
            } else if spinning {
                std::thread::yield_now();
                Duration::ZERO
            } else {
                self.next_check.saturating_duration_since(self.now)
            };
            if let Err(e) = self.poll.poll(&mut events, Some(timeout))
                && e.kind() != ErrorKind::Interrupted
            {
                self.sink
                    .log(&format!("{}: the event loop failed: {e}", self.name));
                break;
            }
            self.now = Instant::now();
            if self.taken != before || !events.is_empty() {
                last_work = self.now;
            }
            for ev in events.iter() {
                match ev.token() {
                    LISTENER => self.accept(),
                    WAKER => {}
                    Token(t) => {
                        let slot = t - FIRST_CONN;
                        if ev.is_writable() || ev.is_error() {
                            self.writable(slot);
                        }
                        if (ev.is_read_closed() || ev.is_error())
                            && let Some(c) = self.conns[slot].as_mut()
                        {
                            c.hangup = true;
                        }
                        if ev.is_readable() || ev.is_read_closed() || ev.is_error() {
                            self.read(slot);
                        }
                    }
                }
            }
            for slot in std::mem::take(&mut self.again) {
                self.read(slot);
            }
            if self.now >= self.next_check {
                self.timers();
                self.next_check = self.now + self.interval;
            }
            self.free.append(&mut self.to_free);
        }
        self.shutdown_all();
    }

    fn log(&self, remote: SocketAddr, what: impl std::fmt::Display) {
        self.sink.log(&format!("{}: {remote}: {what}", self.name));
    }

    /// Takes the queued commands; `false` on shutdown.
    fn commands(&mut self) -> bool {
        loop {
            match self.rx.try_recv() {
                Ok(Cmd::Send {
                    peer,
                    lane,
                    kind,
                    data,
                }) => {
                    self.taken += 1;
                    self.queue(peer, lane, kind, data)
                }
                Ok(Cmd::Shutdown) | Err(TryRecvError::Disconnected) => return false,
                Ok(Cmd::SetProgram(id)) => {
                    self.ident.program = id;
                    self.ident.any_program = false;
                }
                #[cfg(test)]
                Ok(Cmd::Pause(d)) => std::thread::sleep(d),
                Err(TryRecvError::Empty) => return true,
            }
        }
    }

    fn peer_entry(&mut self, key: SocketAddr) -> &mut Peer {
        let common = &self.common;
        self.peers.entry(key).or_insert_with(|| Peer {
            shared: common.peer(key),
            conn: None,
            up: None,
            lanes: HashMap::new(),
            ring: VecDeque::new(),
            next_stream: 0,
            inflight: 0,
            redial_at: None,
        })
    }

    fn queue(&mut self, key: SocketAddr, lane: u64, kind: u8, data: Vec<u8>) {
        let p = self.peer_entry(key);
        let q = p.lanes.entry(lane).or_default();
        if q.is_empty() {
            p.ring.push_back(lane);
        }
        q.push_back(Out {
            kind,
            data,
            off: 0,
            stream: None,
        });
        match p.conn {
            Some(c) if p.up.is_some() => self.mark_dirty(c),
            Some(_) => {}
            None if p.redial_at.is_some() => {}
            None => self.dial(key),
        }
    }

    fn mark_dirty(&mut self, slot: usize) {
        if let Some(c) = self.conns[slot].as_mut()
            && !c.dirty
        {
            c.dirty = true;
            self.dirty.push(slot);
        }
    }

    fn flush_dirty(&mut self) {
        for slot in std::mem::take(&mut self.dirty) {
            if let Some(c) = self.conns[slot].as_mut() {
                c.dirty = false;
                self.flush(slot);
            }
        }
    }

    fn new_slot(&mut self, conn: Conn) -> Result<usize, std::io::Error> {
        let slot = self.free.pop().unwrap_or_else(|| {
            self.conns.push(None);
            self.conns.len() - 1
        });
        self.conns[slot] = Some(conn);
        let c = self.conns[slot].as_mut().expect("just put");
        if let Err(e) = self.poll.registry().register(
            &mut c.stream,
            Token(slot + FIRST_CONN),
            Interest::READABLE | Interest::WRITABLE,
        ) {
            self.conns[slot] = None;
            self.free.push(slot);
            return Err(e);
        }
        Ok(slot)
    }

    fn conn(&self, stream: TcpStream, remote: SocketAddr, outbound: bool, state: State) -> Conn {
        Conn {
            stream,
            remote,
            outbound,
            key: outbound.then_some(remote),
            peer_ident: None,
            displaces: None,
            state,
            inc: Incoming::new(),
            wbuf: Vec::new(),
            wpos: 0,
            writable: !outbound,
            dirty: false,
            hangup: false,
            heard: false,
            live: Liveness::new(self.now),
            opened: self.now,
            progress: self.now,
        }
    }

    fn dial(&mut self, key: SocketAddr) {
        let r = TcpStream::connect(key).and_then(|s| {
            let c = self.conn(s, key, true, State::Connecting);
            self.new_slot(c)
        });
        match r {
            Ok(slot) => self.peer_entry(key).conn = Some(slot),
            Err(e) => self.fail_peer(key, DownReason::ConnectFailed(e.to_string())),
        }
    }

    /// A peer that is not up loses its queue and the sink hears why.
    fn fail_peer(&mut self, key: SocketAddr, reason: DownReason) {
        let Some(p) = self.peers.get_mut(&key) else {
            return;
        };
        let inc = p.up.take();
        Self::drop_queue(p, &*self.sink, key);
        self.sink.peer_down(key, inc, &reason);
        if p.conn.is_none() {
            self.peers.remove(&key);
        }
    }

    fn drop_queue(p: &mut Peer, sink: &dyn Sink, key: SocketAddr) {
        let mut bytes = 0;
        for q in p.lanes.values() {
            for o in q {
                bytes += o.data.len() - o.off;
            }
        }
        p.lanes.clear();
        p.ring.clear();
        p.inflight = 0;
        p.redial_at = None;
        p.shared.queued.fetch_sub(bytes, SeqCst);
        if p.shared.congested.swap(false, SeqCst) {
            sink.drained(key);
        }
    }

    fn hello(&self, role: Role) -> (Box<Handshake>, Vec<u8>) {
        let (hs, hello) = Handshake::new(
            role,
            self.ident,
            self.cfg.cookie.clone(),
            handshake::nonce(),
        );
        (Box::new(hs), hello)
    }

    fn accept(&mut self) {
        loop {
            let Some(l) = &self.listener else { return };
            let (stream, remote) = match l.accept() {
                Ok(x) => x,
                Err(e) if e.kind() == ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => {
                    self.sink
                        .log(&format!("{}: cannot accept a connection: {e}", self.name));
                    return;
                }
            };
            if let Admit::No(first) = self.limiter.admit(remote.ip(), self.now) {
                if first {
                    self.log(
                        remote,
                        format_args!(
                            "refused: too many failed handshakes from {} (more than {} in {:?}); its connections are closed until the window ends",
                            remote.ip(),
                            self.cfg.max_failures,
                            self.cfg.failure_window
                        ),
                    );
                }
                continue;
            }
            let _ = stream.set_nodelay(true);
            let (hs, hello) = self.hello(Role::Acceptor);
            let mut c = self.conn(stream, remote, false, State::Handshaking(hs));
            frame::push_frame(&mut c.wbuf, kind::HELLO, &hello);
            match self.new_slot(c) {
                Ok(slot) => self.flush(slot),
                Err(e) => self.log(remote, format_args!("cannot register the connection: {e}")),
            }
        }
    }

    fn writable(&mut self, slot: usize) {
        let Some(c) = self.conns[slot].as_mut() else {
            return;
        };
        c.writable = true;
        if matches!(c.state, State::Connecting) {
            match c.stream.take_error() {
                Ok(None) => {}
                Ok(Some(e)) | Err(e) => {
                    return self
                        .close(slot, Detach::Down(DownReason::ConnectFailed(e.to_string())));
                }
            }
            match c.stream.peer_addr() {
                Ok(_) => {}
                Err(e) if e.kind() == ErrorKind::NotConnected => {
                    c.writable = false;
                    return;
                }
                Err(e) => {
                    return self
                        .close(slot, Detach::Down(DownReason::ConnectFailed(e.to_string())));
                }
            }
            let _ = c.stream.set_nodelay(true);
            let (hs, hello) = self.hello(Role::Initiator);
            let c = self.conns[slot].as_mut().expect("present");
            c.state = State::Handshaking(hs);
            c.opened = self.now;
            c.live = Liveness::new(self.now);
            frame::push_frame(&mut c.wbuf, kind::HELLO, &hello);
        }
        self.flush(slot);
    }

    /// Writes what the connection has, refilling from its peer's queues.
    fn flush(&mut self, slot: usize) {
        let mut written = 0;
        loop {
            if written >= WRITE_PER_TURN {
                return self.mark_dirty(slot);
            }
            let Some(c) = self.conns[slot].as_mut() else {
                return;
            };
            if !c.writable {
                return;
            }
            if matches!(c.state, State::Up)
                && c.wbuf.len() - c.wpos < LOW
                && let Some(p) = c.key.and_then(|k| self.peers.get_mut(&k))
                && p.has_queue()
            {
                if !c.pending() {
                    c.progress = self.now;
                }
                fill(p, &mut c.wbuf, &mut c.wpos);
                if p.shared.queued.load(SeqCst) <= self.cfg.queue_soft_limit / 2
                    && p.shared.congested.swap(false, SeqCst)
                {
                    self.sink.drained(c.key.expect("up"));
                }
            }
            if !c.pending() {
                c.wbuf.clear();
                c.wpos = 0;
                return;
            }
            match c.stream.write(&c.wbuf[c.wpos..]) {
                Ok(0) => return self.close(slot, Detach::Down(DownReason::Closed)),
                Ok(n) => {
                    written += n;
                    c.wpos += n;
                    c.live.last_sent = self.now;
                    c.progress = self.now;
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    c.writable = false;
                    return;
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return self.close_io(slot, e),
            }
        }
    }

    fn close_io(&mut self, slot: usize, e: std::io::Error) {
        let reason = match e.kind() {
            ErrorKind::ConnectionReset | ErrorKind::BrokenPipe | ErrorKind::ConnectionAborted => {
                DownReason::Closed
            }
            _ => DownReason::Io(e.to_string()),
        };
        self.close(slot, Detach::Down(reason));
    }

    fn read(&mut self, slot: usize) {
        for _ in 0..READS_PER_TURN {
            let Some(c) = self.conns[slot].as_mut() else {
                return;
            };
            if matches!(c.state, State::Connecting) {
                return;
            }
            let closing = matches!(c.state, State::Closing(_));
            let r = c.stream.read(c.inc.spare());
            match r {
                Ok(0) => return self.eof(slot),
                Ok(n) => {
                    c.live.last_received = self.now;
                    c.heard = true;
                    if closing {
                        continue;
                    }
                    let short = n < c.inc.spare().len() && !c.hangup;
                    c.inc.filled(n);
                    self.process(slot);
                    if short {
                        // The socket had no more: bytes that come later
                        // raise a new edge (as tokio does), which spares
                        // a read that would only say WouldBlock.
                        return;
                    }
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => {
                    if closing {
                        return self.free_slot(slot);
                    }
                    if matches!(
                        e.kind(),
                        ErrorKind::ConnectionReset | ErrorKind::ConnectionAborted
                    ) {
                        // A peer that closes with our bytes unread resets.
                        return self.eof(slot);
                    }
                    return self.close_io(slot, e);
                }
            }
        }
        self.again.push(slot);
    }

    fn eof(&mut self, slot: usize) {
        let c = self.conns[slot].as_ref().expect("present");
        match c.state {
            State::Closing(_) => self.free_slot(slot),
            State::Up if !c.inc.truncated() => self.close(slot, Detach::Down(DownReason::Closed)),
            // A connection that closes before saying anything (a port
            // probe, the losing side of a simultaneous connect) is no
            // failed handshake.
            _ if !c.heard && !c.outbound => self.close(slot, Detach::Quiet),
            _ => {
                let what = if c.inc.truncated() {
                    "connection closed in the middle of a frame"
                } else {
                    "connection closed during the handshake"
                };
                let remote = c.remote;
                let up = matches!(c.state, State::Up);
                self.log(remote, what);
                if !up && !c.outbound {
                    self.limiter.failed(remote.ip(), self.now);
                }
                let reason = if up {
                    DownReason::Protocol(what.into())
                } else {
                    DownReason::ConnectFailed(what.into())
                };
                self.close(slot, Detach::Down(reason));
            }
        }
    }

    /// Handles the frames the connection's buffer holds.
    fn process(&mut self, slot: usize) {
        enum Ctl {
            Hello(Vec<u8>),
            Auth(Vec<u8>),
            Refuse(u8, String),
        }
        loop {
            let Some(c) = self.conns[slot].as_mut() else {
                return;
            };
            if matches!(c.state, State::Closing(_)) {
                // Refused: the rest of what it sent is not read.
                return;
            }
            let ctl = match c.inc.next_event() {
                Ok(None) => return,
                Ok(Some(Event::Message { kind, payload })) => {
                    if let Some(k) = c.key {
                        self.sink.frame(k, kind, payload);
                    }
                    continue;
                }
                Ok(Some(Event::Heartbeat)) => continue,
                Ok(Some(Event::Hello(p))) => Ctl::Hello(p.to_vec()),
                Ok(Some(Event::Auth(p))) => Ctl::Auth(p.to_vec()),
                Ok(Some(Event::Refuse(code, text))) => Ctl::Refuse(code, text),
                Err(e) => {
                    let up = matches!(c.state, State::Up);
                    return if up {
                        let remote = c.remote;
                        self.log(remote, format_args!("closed: {e}"));
                        self.close(slot, Detach::Down(DownReason::Protocol(e.to_string())))
                    } else {
                        self.refuse(slot, Refusal::Protocol(e.to_string()))
                    };
                }
            };
            match ctl {
                Ctl::Hello(p) => self.on_hello(slot, &p),
                Ctl::Auth(p) => self.on_auth(slot, &p),
                Ctl::Refuse(code, text) => return self.on_refuse(slot, code, text),
            }
        }
    }

    fn on_hello(&mut self, slot: usize, p: &[u8]) {
        let c = self.conns[slot].as_mut().expect("present");
        let State::Handshaking(hs) = &mut c.state else {
            return self.refuse(slot, Refusal::Protocol("HELLO out of turn".into()));
        };
        let (their, auth) = match hs.on_hello(p) {
            Ok(x) => x,
            Err(r) => return self.refuse(slot, r),
        };
        if their.incarnation == self.ident.incarnation && their.listen == self.ident.listen {
            return self.refuse(
                slot,
                Refusal::Protocol("the peer is this node itself".into()),
            );
        }
        c.peer_ident = Some(their);
        if !c.outbound {
            let key = their.listen.unwrap_or(c.remote);
            if let Some(other) = self.peers.get(&key).and_then(|p| p.conn)
                && other != slot
            {
                let oc = self.conns[other].as_ref().expect("peer's connection");
                let old = self.peers[&key].up;
                let oc_up = matches!(oc.state, State::Up);
                if oc_up && old != Some(their.incarnation) {
                    // A new incarnation: the old one is dead — once this
                    // one proves the cookie (a HELLO alone proves nothing:
                    // anyone can claim an address).
                    let c = self.conns[slot].as_mut().expect("present");
                    c.displaces = Some((other, DownReason::NewIncarnation(their.incarnation)));
                } else if oc.outbound && self.ident.order_key() > their.order_key() {
                    // Both dialed at once: the connection that the greater
                    // node made is kept, on both sides (the peer, seeing
                    // ours, drops its own). Also when ours is already up.
                    return self.refuse(slot, Refusal::Duplicate);
                } else if oc_up {
                    // The peer dials again although the connection is up
                    // here: it lost it (it dials only when it has none).
                    // Again, once it is authenticated.
                    let c = self.conns[slot].as_mut().expect("present");
                    c.displaces = Some((other, DownReason::Reconnected));
                } else if matches!(oc.state, State::Handshaking(_)) {
                    // Ours loses: tell the peer, so that it does not take
                    // the close for a failed handshake.
                    self.refuse(other, Refusal::Duplicate);
                } else {
                    self.close(other, Detach::Quiet);
                }
            }
            let c = self.conns[slot].as_mut().expect("present");
            c.key = Some(key);
            if c.displaces.is_none() {
                self.peer_entry(key).conn = Some(slot);
            }
        }
        let c = self.conns[slot].as_mut().expect("present");
        frame::push_frame(&mut c.wbuf, kind::AUTH, &auth);
        self.flush(slot);
    }

    fn on_auth(&mut self, slot: usize, p: &[u8]) {
        let c = self.conns[slot].as_mut().expect("present");
        let State::Handshaking(hs) = &mut c.state else {
            return self.refuse(slot, Refusal::Protocol("AUTH out of turn".into()));
        };
        if let Err(r) = hs.on_auth(p) {
            return self.refuse(slot, r);
        }
        let their = c.peer_ident.expect("HELLO before AUTH");
        let key = c.key.expect("keyed at HELLO");
        if let Some((other, reason)) = c.displaces.take() {
            // Authenticated: now this connection replaces the one that
            // was up (if it still is the peer's).
            if self.peers.get(&key).and_then(|p| p.conn) == Some(other) {
                self.close(other, Detach::Down(reason));
            }
            self.peer_entry(key).conn = Some(slot);
        }
        let c = self.conns[slot].as_mut().expect("present");
        c.state = State::Up;
        c.inc.phase = Phase::Up;
        c.live = Liveness::new(self.now);
        let p = self.peer_entry(key);
        p.up = Some(their.incarnation);
        p.redial_at = None;
        p.next_stream = 0;
        p.inflight = 0;
        self.sink.peer_up(
            key,
            their.incarnation,
            their.listen,
            (!their.any_program).then_some(their.program),
        );
        self.flush(slot);
    }

    fn on_refuse(&mut self, slot: usize, code: u8, text: String) {
        let c = self.conns[slot].as_ref().expect("present");
        let remote = c.remote;
        if code == Refusal::Duplicate.code() {
            // The peer keeps the connection it made to us.
            return self.close(slot, Detach::Quiet);
        }
        self.log(
            remote,
            format_args!("the peer refused the connection: {text}"),
        );
        let up = matches!(c.state, State::Up);
        let reason = if up {
            DownReason::Protocol(format!("refused by the peer: {text}"))
        } else {
            DownReason::ConnectFailed(format!("refused by the peer: {text}"))
        };
        self.close(slot, Detach::Down(reason));
    }

    /// Refuses a connection in its handshake: logs why, tells the peer,
    /// closes it (after a short linger, so that the peer reads why).
    fn refuse(&mut self, slot: usize, r: Refusal) {
        let c = self.conns[slot].as_mut().expect("present");
        let remote = c.remote;
        let outbound = c.outbound;
        if r != Refusal::Duplicate {
            self.log(remote, format_args!("refused: {r}"));
        }
        if r.counts_as_failure() && !outbound {
            self.limiter.failed(remote.ip(), self.now);
        }
        let mut p = vec![r.code()];
        p.extend_from_slice(r.to_string().as_bytes());
        p.truncate(frame::MAX_HANDSHAKE_PAYLOAD);
        let reason = match &r {
            Refusal::Duplicate => Detach::Quiet,
            r => Detach::Down(DownReason::ConnectFailed(r.to_string())),
        };
        self.detach(slot, reason);
        let c = self.conns[slot].as_mut().expect("present");
        frame::push_frame(&mut c.wbuf, kind::REFUSE, &p);
        c.state = State::Closing(self.now + LINGER);
        // Best effort: the socket has room for a short frame.
        if c.writable {
            let _ = c.stream.write(&c.wbuf[c.wpos..]);
        }
        let _ = c.stream.shutdown(Shutdown::Write);
        c.wbuf = Vec::new();
        c.wpos = 0;
    }

    /// Unlinks a connection from its peer; the sink hears of it.
    fn detach(&mut self, slot: usize, how: Detach) {
        let c = self.conns[slot].as_mut().expect("present");
        let Some(key) = c.key.take() else { return };
        let outbound = c.outbound;
        let Some(p) = self.peers.get_mut(&key) else {
            return;
        };
        if p.conn != Some(slot) {
            return;
        }
        p.conn = None;
        match how {
            Detach::Down(reason) => {
                if p.up.is_some() || p.has_queue() || outbound {
                    self.fail_peer(key, reason);
                } else {
                    self.peers.remove(&key);
                }
            }
            Detach::Quiet => {
                if p.has_queue() {
                    p.redial_at = Some(self.now + REDIAL);
                }
            }
        }
    }

    fn close(&mut self, slot: usize, how: Detach) {
        if self.conns[slot].is_none() {
            return;
        }
        self.detach(slot, how);
        self.free_slot(slot);
    }

    fn free_slot(&mut self, slot: usize) {
        if let Some(mut c) = self.conns[slot].take() {
            let _ = self.poll.registry().deregister(&mut c.stream);
            self.to_free.push(slot);
        }
    }

    fn timers(&mut self) {
        let now = self.now;
        let hb = self.cfg.heartbeat_timeout;
        for slot in 0..self.conns.len() {
            let Some(c) = self.conns[slot].as_mut() else {
                continue;
            };
            match c.state {
                State::Closing(until) => {
                    if now >= until {
                        self.free_slot(slot);
                    }
                }
                State::Connecting | State::Handshaking(_) => {
                    if now.saturating_duration_since(c.opened) >= self.cfg.handshake_timeout {
                        if matches!(c.state, State::Connecting) {
                            self.close(
                                slot,
                                Detach::Down(DownReason::ConnectFailed("connect timed out".into())),
                            );
                        } else {
                            self.refuse(slot, Refusal::Protocol("handshake timed out".into()));
                        }
                    }
                }
                State::Up => match c.live.check(now, hb) {
                    Check::Dead => {
                        let remote = c.remote;
                        self.log(
                            remote,
                            format_args!("down: nothing received for {hb:?} (heartbeat timeout)"),
                        );
                        self.close(slot, Detach::Down(DownReason::HeartbeatTimeout));
                    }
                    check => {
                        if c.pending()
                            && now.saturating_duration_since(c.progress) >= self.cfg.stall_timeout
                        {
                            let remote = c.remote;
                            self.log(
                                remote,
                                format_args!(
                                    "down: took none of our bytes for {:?}",
                                    self.cfg.stall_timeout
                                ),
                            );
                            self.close(slot, Detach::Down(DownReason::Stalled));
                        } else if check == Check::SendHeartbeat && !c.pending() {
                            frame::push_frame(&mut c.wbuf, kind::HEARTBEAT, &[]);
                            self.flush(slot);
                        }
                    }
                },
            }
        }
        let redial: Vec<SocketAddr> = self
            .peers
            .iter()
            .filter(|(_, p)| p.conn.is_none() && p.redial_at.is_some_and(|t| now >= t))
            .map(|(k, _)| *k)
            .collect();
        for key in redial {
            let p = self.peers.get_mut(&key).expect("listed");
            p.redial_at = None;
            if p.has_queue() {
                self.dial(key);
            } else {
                self.peers.remove(&key);
            }
        }
    }

    fn shutdown_all(&mut self) {
        for slot in 0..self.conns.len() {
            if self.conns[slot].is_some() {
                self.close(slot, Detach::Down(DownReason::Shutdown));
            }
        }
        let keys: Vec<SocketAddr> = self.peers.keys().copied().collect();
        for k in keys {
            self.fail_peer(k, DownReason::Shutdown);
        }
    }
}

/// Moves frames from the peer's queues into the write buffer: one
/// fragment of the head message of each lane in turn, until the buffer
/// holds `FILL` bytes or the queues are empty. A fragmented message starts
/// only if the declared bytes in flight stay within the receiver's
/// reassembly budget (or nothing else is in flight).
fn fill(p: &mut Peer, wbuf: &mut Vec<u8>, wpos: &mut usize) {
    if *wpos > 0 {
        wbuf.drain(..*wpos);
        *wpos = 0;
    }
    let mut skips = 0;
    let mut taken = 0;
    while wbuf.len() < FILL && skips < p.ring.len() {
        let lane = p.ring.pop_front().expect("non-empty ring");
        let q = p.lanes.get_mut(&lane).expect("lane of the ring");
        let o = q.front_mut().expect("lanes of the ring have messages");
        let len = o.data.len();
        let done;
        if len <= FRAGMENT {
            frame::push_msg(wbuf, o.kind, &o.data);
            taken += len;
            done = true;
        } else if let Some(s) = o.stream {
            let end = (o.off + FRAGMENT).min(len);
            frame::push_frag_next(wbuf, s, &o.data[o.off..end]);
            taken += end - o.off;
            o.off = end;
            done = end == len;
            if done {
                p.inflight -= len;
            }
        } else {
            if p.inflight > 0 && p.inflight + len > REASSEMBLY_BUDGET {
                p.ring.push_back(lane);
                skips += 1;
                continue;
            }
            let s = p.next_stream;
            p.next_stream = s.wrapping_add(1);
            p.inflight += len;
            o.stream = Some(s);
            frame::push_frag_first(wbuf, s, len, o.kind, &o.data[..FRAGMENT]);
            o.off = FRAGMENT;
            taken += FRAGMENT;
            done = false;
        }
        skips = 0;
        if done {
            q.pop_front();
        }
        if q.is_empty() {
            p.lanes.remove(&lane);
        } else {
            p.ring.push_back(lane);
        }
    }
    p.shared.queued.fetch_sub(taken, SeqCst);
}
