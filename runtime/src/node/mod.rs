//! The network layer of a node (issue 8): one I/O thread that owns the
//! listener and every connection to other nodes, carries opaque byte
//! payloads tagged with a kind byte, authenticates peers, detects their
//! failure and keeps memory bounded. It knows nothing of processes or
//! values: the runtime hands it encoded messages ([`NodeHandle::send`])
//! and gets frames, peer-up and peer-down events through a [`Sink`].
//! ARCHITECTURE.md, *Nodes — Connections*, describes the design; the
//! modules are:
//!
//! - `frame`: the frame format and the pure, incremental decoder;
//! - `handshake`: HELLO and the mutual HMAC challenge–response;
//! - `heartbeat`: failure detection by silence;
//! - `limiter`: the rate limit of failed handshakes per IP address;
//! - `cookie`: finding or creating the cookie;
//! - `options`: the command-line flags (`--node`, `--cookie`,
//!   `--heartbeat-timeout`);
//! - `io`: the mio event loop.

pub mod cookie;
pub mod frame;
pub mod handshake;
pub mod heartbeat;
mod io;
pub mod limiter;
pub mod options;
#[cfg(test)]
mod tests;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

pub use io::{Node, NodeHandle};

/// A shared secret. Its bytes never appear in a message or a log.
#[derive(Clone)]
pub struct Cookie(Arc<[u8]>);

impl Cookie {
    pub fn new(bytes: Vec<u8>) -> Cookie {
        Cookie(bytes.into())
    }

    pub fn bytes(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for Cookie {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Cookie(..)")
    }
}

/// How a node's network layer is set up.
#[derive(Debug, Clone)]
pub struct NodeConfig {
    /// Where to listen (exactly this address, nowhere else); `None`: the
    /// node only connects out, and peers answer over its connections. A
    /// port of 0 takes a free port ([`NodeHandle::listen_addr`]).
    pub listen: Option<SocketAddr>,
    pub cookie: Cookie,
    /// Drawn at random by the runtime when the node starts: a node that
    /// restarts on the same address is another incarnation.
    pub incarnation: u64,
    /// SHA-256 over the program's code ids: nodes of different programs
    /// refuse each other, unless one of them accepts any program.
    pub program_id: [u8; 32],
    /// Runs no program of its own (a bare `termitec node`).
    pub accept_any_program: bool,
    /// A peer silent this long is down (a HEARTBEAT goes out after a third
    /// of it without traffic). Default 5 s.
    pub heartbeat_timeout: Duration,
    /// A connection whose handshake has not finished after this long is
    /// closed. Default: the heartbeat timeout.
    pub handshake_timeout: Duration,
    /// A connection with bytes to send that the peer has not taken for
    /// this long is closed (the peer is down). Default 30 s.
    pub stall_timeout: Duration,
    /// Bytes queued for one peer past which `send` answers
    /// [`Flow::Congested`]: the caller should wait for [`Sink::drained`].
    /// Default 64 MiB.
    pub queue_soft_limit: usize,
    /// Bytes queued for one peer past which `send` refuses
    /// ([`SendError::QueueFull`]). Default 1 GiB.
    pub queue_hard_limit: usize,
    /// Failed handshakes from one IP address per window before its
    /// connections are refused for the rest of the window (`limiter`).
    pub max_failures: u32,
    pub failure_window: Duration,
}

impl NodeConfig {
    pub fn new(cookie: Cookie, incarnation: u64, program_id: [u8; 32]) -> NodeConfig {
        NodeConfig {
            listen: None,
            cookie,
            incarnation,
            program_id,
            accept_any_program: false,
            heartbeat_timeout: heartbeat::DEFAULT_TIMEOUT,
            handshake_timeout: heartbeat::DEFAULT_TIMEOUT,
            stall_timeout: Duration::from_secs(30),
            queue_soft_limit: 64 << 20,
            queue_hard_limit: 1 << 30,
            max_failures: limiter::DEFAULT_MAX,
            failure_window: limiter::DEFAULT_WINDOW,
        }
    }
}

/// Why a peer is down.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DownReason {
    /// The peer closed the connection (or it was reset): a killed node.
    Closed,
    /// Nothing received for the heartbeat timeout.
    HeartbeatTimeout,
    /// The peer took none of our bytes for the stall timeout.
    Stalled,
    /// The connection could not be made, or its handshake failed.
    ConnectFailed(String),
    /// The peer broke the protocol (the log line says how).
    Protocol(String),
    /// A new incarnation of the peer connected from the same address.
    NewIncarnation(u64),
    /// The same incarnation connected again: the old connection is stale.
    Reconnected,
    /// A socket error.
    Io(String),
    /// This node shut its network layer down.
    Shutdown,
}

impl std::fmt::Display for DownReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DownReason::Closed => write!(f, "connection closed by the peer"),
            DownReason::HeartbeatTimeout => write!(f, "no answer within the heartbeat timeout"),
            DownReason::Stalled => write!(f, "the peer stopped reading"),
            DownReason::ConnectFailed(e) => write!(f, "cannot connect: {e}"),
            DownReason::Protocol(e) => write!(f, "protocol error: {e}"),
            DownReason::NewIncarnation(i) => {
                write!(f, "a new incarnation ({i:016x}) took its place")
            }
            DownReason::Reconnected => write!(f, "it connected again"),
            DownReason::Io(e) => write!(f, "{e}"),
            DownReason::Shutdown => write!(f, "this node shut down"),
        }
    }
}

/// Receives what the network layer has to say. Every callback runs on the
/// I/O thread: it must not block (hand the work on); it may call
/// [`NodeHandle::send`].
///
/// Peers are named by a key: the address this node dialed, or, for a peer
/// that connected to us, the listen address it announced (or, for a peer
/// that listens nowhere, the address its connection comes from). `send`
/// to that key reaches the peer. Every `peer_up` is followed by exactly one
/// `peer_down` of the same key and incarnation (at the latest at
/// shutdown), and `frame`s of a peer come only between the two.
pub trait Sink: Send + Sync {
    /// `program` is the identity of the peer's program, `None` for a bare
    /// node (`termitec node`), which runs no program of its own.
    fn peer_up(
        &self,
        peer: SocketAddr,
        incarnation: u64,
        listen: Option<SocketAddr>,
        program: Option<[u8; 32]>,
    );
    /// A message from `peer`, whole: borrowed from the receive buffer, or
    /// owned when it was reassembled from fragments (the sink may keep it
    /// without a copy).
    fn frame(&self, peer: SocketAddr, kind: u8, payload: frame::Payload<'_>);
    /// `incarnation` is `None` when the peer never came up (a failed
    /// connection attempt: the messages queued for it are dropped).
    fn peer_down(&self, peer: SocketAddr, incarnation: Option<u64>, reason: &DownReason);
    /// The queue to `peer` went back under half the soft limit after a
    /// `send` answered [`Flow::Congested`].
    fn drained(&self, _peer: SocketAddr) {}
    /// One line of the node's log (refused peers, protocol errors); by
    /// default on stderr.
    fn log(&self, line: &str) {
        eprintln!("{line}");
    }
}

/// What `send` says of the queue to the peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    Ok,
    /// Queued, but the queue is over the soft limit: stop sending to this
    /// peer until [`Sink::drained`].
    Congested,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendError {
    /// Over [`frame::MAX_MESSAGE`] bytes.
    TooLarge(usize),
    /// The queue to this peer is over the hard limit: the message was not
    /// queued.
    QueueFull,
    /// The network layer is shut down.
    Shutdown,
}

impl std::fmt::Display for SendError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SendError::TooLarge(n) => write!(
                f,
                "a message of {n} bytes is over the limit of {} bytes",
                frame::MAX_MESSAGE
            ),
            SendError::QueueFull => write!(f, "the queue to the peer is full"),
            SendError::Shutdown => write!(f, "the node's network layer is shut down"),
        }
    }
}

#[derive(Debug)]
pub enum NodeError {
    Bind(SocketAddr, std::io::Error),
    Io(std::io::Error),
}

impl std::fmt::Display for NodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NodeError::Bind(a, e) => write!(f, "cannot listen on {a}: {e}"),
            NodeError::Io(e) => write!(f, "cannot start the network layer: {e}"),
        }
    }
}

impl std::error::Error for NodeError {}

/// Draws a node's incarnation: 64 random bits.
pub fn new_incarnation() -> u64 {
    u64::from_ne_bytes(handshake::nonce()[..8].try_into().expect("8 bytes"))
}
