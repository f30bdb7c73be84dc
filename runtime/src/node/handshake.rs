//! The handshake of a node-to-node connection, as a pure state machine
//! (no I/O): both sides send HELLO at once; on the other's HELLO each
//! checks the protocol version and the program identity and answers AUTH,
//! a MAC that proves it holds the cookie; on the other's AUTH each checks
//! it in constant time. Only then does the connection carry frames.
//!
//! HELLO payload (big-endian):
//!
//! ```text
//! "TRMT" | version u16 | flags u8 | incarnation u64 | program [32] | nonce [32] | address
//! flags: bit 0 = runs no program (accepts any), bit 1 = has a listen address
//! address (when bit 1): family u8 (4 or 6) | IP (4 or 16 bytes) | port u16
//! ```
//!
//! AUTH payload: `HMAC-SHA256(cookie, DOMAIN | role | u16 len | initiator's
//! HELLO | u16 len | acceptor's HELLO)`, where role is 1 for the MAC the
//! initiator (the side that connected) sends and 2 for the acceptor's.
//! Both HELLOs carry a fresh 256-bit nonce (getrandom), so a MAC is never
//! valid twice, and the role byte makes the two MACs of one connection
//! differ, so a peer without the cookie cannot pass by echoing ours.

use super::Cookie;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// The version of this protocol (frames, handshake, fragments).
pub const VERSION: u16 = 1;
const MAGIC: &[u8; 4] = b"TRMT";
const DOMAIN: &[u8] = b"termite node authentication v1";

/// What a node says of itself in its HELLO.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Identity {
    pub listen: Option<SocketAddr>,
    pub incarnation: u64,
    pub program: [u8; 32],
    /// Runs no program of its own (a bare `termitec node`): it talks to
    /// nodes of any program.
    pub any_program: bool,
}

impl Identity {
    /// A total order on identities that both sides of a connection agree
    /// on (the rule for two connections made at once, see `io.rs`).
    pub fn order_key(&self) -> (Option<(IpAddr, u16)>, u64) {
        (self.listen.map(|a| (a.ip(), a.port())), self.incarnation)
    }
}

/// A peer's HELLO, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hello {
    pub version: u16,
    pub identity: Identity,
    pub nonce: [u8; 32],
}

impl Hello {
    pub fn encode(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(100);
        v.extend_from_slice(MAGIC);
        v.extend_from_slice(&self.version.to_be_bytes());
        let id = &self.identity;
        v.push(id.any_program as u8 | (id.listen.is_some() as u8) << 1);
        v.extend_from_slice(&id.incarnation.to_be_bytes());
        v.extend_from_slice(&id.program);
        v.extend_from_slice(&self.nonce);
        match id.listen {
            Some(SocketAddr::V4(a)) => {
                v.push(4);
                v.extend_from_slice(&a.ip().octets());
                v.extend_from_slice(&a.port().to_be_bytes());
            }
            Some(SocketAddr::V6(a)) => {
                v.push(6);
                v.extend_from_slice(&a.ip().octets());
                v.extend_from_slice(&a.port().to_be_bytes());
            }
            None => {}
        }
        v
    }

    pub fn decode(p: &[u8]) -> Result<Hello, Refusal> {
        let bad = |what: &str| Refusal::Protocol(format!("malformed HELLO: {what}"));
        if p.len() < 6 || &p[..4] != MAGIC {
            return Err(bad("not a termite node"));
        }
        let version = u16::from_be_bytes([p[4], p[5]]);
        if version != VERSION {
            // Checked before the rest, whose layout may differ.
            return Err(Refusal::Version { theirs: version });
        }
        let mut r = &p[6..];
        let mut take = |n: usize| -> Result<&[u8], Refusal> {
            if r.len() < n {
                return Err(bad("too short"));
            }
            let (a, b) = r.split_at(n);
            r = b;
            Ok(a)
        };
        let flags = take(1)?[0];
        if flags & !3 != 0 {
            return Err(bad("unknown flags"));
        }
        let incarnation = u64::from_be_bytes(take(8)?.try_into().unwrap());
        let program: [u8; 32] = take(32)?.try_into().unwrap();
        let nonce: [u8; 32] = take(32)?.try_into().unwrap();
        let listen = if flags & 2 != 0 {
            let ip: IpAddr = match take(1)?[0] {
                4 => Ipv4Addr::from(<[u8; 4]>::try_from(take(4)?).unwrap()).into(),
                6 => Ipv6Addr::from(<[u8; 16]>::try_from(take(16)?).unwrap()).into(),
                _ => return Err(bad("unknown address family")),
            };
            let port = u16::from_be_bytes(take(2)?.try_into().unwrap());
            Some(SocketAddr::new(ip, port))
        } else {
            None
        };
        if !r.is_empty() {
            return Err(bad("trailing bytes"));
        }
        Ok(Hello {
            version,
            identity: Identity {
                listen,
                incarnation,
                program,
                any_program: flags & 1 != 0,
            },
            nonce,
        })
    }
}

/// Why a handshake failed. The code travels in a REFUSE frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    Version {
        theirs: u16,
    },
    Program {
        ours: [u8; 32],
        theirs: [u8; 32],
    },
    /// The peer's MAC is wrong: it does not hold our cookie.
    Auth,
    /// Another connection between the same two nodes wins (see `io.rs`).
    Duplicate,
    /// Too many failed handshakes from this IP address lately.
    RateLimited,
    Protocol(String),
}

impl Refusal {
    pub fn code(&self) -> u8 {
        match self {
            Refusal::Version { .. } => 1,
            Refusal::Program { .. } => 2,
            Refusal::Auth => 3,
            Refusal::Duplicate => 4,
            Refusal::RateLimited => 5,
            Refusal::Protocol(_) => 6,
        }
    }

    /// Counts against the address in the rate limit of failed attempts.
    pub fn counts_as_failure(&self) -> bool {
        matches!(self, Refusal::Auth | Refusal::Protocol(_))
    }
}

fn hex8(b: &[u8; 32]) -> String {
    b[..8].iter().map(|x| format!("{x:02x}")).collect()
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::Version { theirs } => write!(
                f,
                "protocol version mismatch: this node speaks version {VERSION}, the peer {theirs}"
            ),
            Refusal::Program { ours, theirs } => write!(
                f,
                "program mismatch: this node runs program {}…, the peer {}… (nodes must run the same program)",
                hex8(ours),
                hex8(theirs)
            ),
            Refusal::Auth => write!(
                f,
                "authentication failed: the peer does not have our cookie"
            ),
            Refusal::Duplicate => write!(f, "duplicate connection (the other one is kept)"),
            Refusal::RateLimited => write!(f, "too many failed handshakes from this address"),
            Refusal::Protocol(s) => write!(f, "{s}"),
        }
    }
}

/// Which end of the connection this node is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Initiator,
    Acceptor,
}

/// One side's handshake.
pub struct Handshake {
    role: Role,
    ours: Identity,
    ours_bytes: Vec<u8>,
    theirs: Option<(Hello, Vec<u8>)>,
    cookie: Cookie,
}

/// Draws a 256-bit nonce from the operating system.
pub fn nonce() -> [u8; 32] {
    let mut n = [0u8; 32];
    // getrandom fails only where the OS has no random source at all; a
    // node without one cannot authenticate safely, so this is fatal.
    getrandom::fill(&mut n).expect("the operating system's random source failed");
    n
}

impl Handshake {
    /// Starts a handshake; the bytes are our HELLO payload, to send now.
    pub fn new(
        role: Role,
        ours: Identity,
        cookie: Cookie,
        nonce: [u8; 32],
    ) -> (Handshake, Vec<u8>) {
        let hello = Hello {
            version: VERSION,
            identity: ours,
            nonce,
        };
        let bytes = hello.encode();
        let hs = Handshake {
            role,
            ours,
            ours_bytes: bytes.clone(),
            theirs: None,
            cookie,
        };
        (hs, bytes)
    }

    pub fn role(&self) -> Role {
        self.role
    }

    /// The peer's HELLO: checks it and returns our AUTH payload to send.
    pub fn on_hello(&mut self, payload: &[u8]) -> Result<(Identity, [u8; 32]), Refusal> {
        if self.theirs.is_some() {
            return Err(Refusal::Protocol("a second HELLO".into()));
        }
        let h = Hello::decode(payload)?;
        let (a, b) = (&self.ours, &h.identity);
        if !a.any_program && !b.any_program && a.program != b.program {
            return Err(Refusal::Program {
                ours: a.program,
                theirs: b.program,
            });
        }
        if h.nonce == *self.ours_bytes_nonce() {
            // Our own HELLO sent back: a reflection, not a peer.
            return Err(Refusal::Protocol("HELLO carries our own nonce".into()));
        }
        let id = h.identity;
        self.theirs = Some((h, payload.to_vec()));
        Ok((id, self.mac(self.role)))
    }

    fn ours_bytes_nonce(&self) -> &[u8; 32] {
        let off = 4 + 2 + 1 + 8 + 32;
        self.ours_bytes[off..off + 32].try_into().unwrap()
    }

    fn mac_state(&self, sender: Role) -> Hmac<Sha256> {
        let (_, theirs) = self.theirs.as_ref().expect("HELLO received");
        let (init, acc) = match self.role {
            Role::Initiator => (&self.ours_bytes, theirs),
            Role::Acceptor => (theirs, &self.ours_bytes),
        };
        let mut m = <Hmac<Sha256> as KeyInit>::new_from_slice(self.cookie.bytes())
            .expect("HMAC takes keys of any length");
        m.update(DOMAIN);
        m.update(&[match sender {
            Role::Initiator => 1,
            Role::Acceptor => 2,
        }]);
        for h in [init, acc] {
            m.update(&(h.len() as u16).to_be_bytes());
            m.update(h);
        }
        m
    }

    fn mac(&self, sender: Role) -> [u8; 32] {
        self.mac_state(sender).finalize().into_bytes().into()
    }

    /// The peer's AUTH: verifies its MAC in constant time.
    pub fn on_auth(&mut self, payload: &[u8]) -> Result<(), Refusal> {
        if self.theirs.is_none() {
            return Err(Refusal::Protocol("AUTH before HELLO".into()));
        }
        let peer_role = match self.role {
            Role::Initiator => Role::Acceptor,
            Role::Acceptor => Role::Initiator,
        };
        self.mac_state(peer_role)
            .verify_slice(payload)
            .map_err(|_| Refusal::Auth)
    }

    /// Our identity as sent.
    pub fn ours(&self) -> &Identity {
        &self.ours
    }
}

/// Connects to `to` and does the initiator's side of the handshake on a
/// blocking socket (reads time out after `timeout`): for tools and tests
/// that speak the protocol from outside a node (the node itself uses the
/// non-blocking state machine in `io.rs`). Answers the socket and its
/// decoder, up; or why it failed (a refusal comes as `Err`).
pub fn connect_blocking(
    to: SocketAddr,
    cookie: Cookie,
    ident: Identity,
    timeout: std::time::Duration,
) -> Result<(std::net::TcpStream, super::frame::Incoming), String> {
    use super::frame::{self, Event, Incoming, Phase, kind};
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect_timeout(&to, timeout).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(timeout))
        .map_err(|e| e.to_string())?;
    let (mut hs, hello) = Handshake::new(Role::Initiator, ident, cookie, nonce());
    let mut out = Vec::new();
    frame::push_frame(&mut out, kind::HELLO, &hello);
    s.write_all(&out).map_err(|e| e.to_string())?;
    let mut inc = Incoming::new();
    loop {
        let n = s.read(inc.spare()).map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("closed during the handshake".into());
        }
        inc.filled(n);
        while let Some(ev) = inc.next_event().map_err(|e| e.to_string())? {
            match ev {
                Event::Hello(p) => {
                    let p = p.to_vec();
                    let (_, auth) = hs.on_hello(&p).map_err(|r| r.to_string())?;
                    let mut out = Vec::new();
                    frame::push_frame(&mut out, kind::AUTH, &auth);
                    s.write_all(&out).map_err(|e| e.to_string())?;
                }
                Event::Auth(p) => {
                    let p = p.to_vec();
                    hs.on_auth(&p).map_err(|r| r.to_string())?;
                    inc.phase = Phase::Up;
                    return Ok((s, inc));
                }
                Event::Refuse(_, text) => return Err(format!("refused: {text}")),
                e => return Err(format!("unexpected in the handshake: {e:?}")),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(port: u16, program: u8, any: bool) -> Identity {
        Identity {
            listen: Some(SocketAddr::from(([127, 0, 0, 1], port))),
            incarnation: port as u64 * 7,
            program: [program; 32],
            any_program: any,
        }
    }

    fn cookie(s: &str) -> Cookie {
        Cookie::new(s.as_bytes().to_vec())
    }

    /// Runs both sides; the results of each side's checks.
    fn run(
        a: Identity,
        ca: &str,
        b: Identity,
        cb: &str,
    ) -> (Result<(), Refusal>, Result<(), Refusal>) {
        let (mut i, hi) = Handshake::new(Role::Initiator, a, cookie(ca), nonce());
        let (mut r, hr) = Handshake::new(Role::Acceptor, b, cookie(cb), nonce());
        let ai = i.on_hello(&hr);
        let ar = r.on_hello(&hi);
        let (ai, ar) = match (ai, ar) {
            (Ok(x), Ok(y)) => (x, y),
            (x, y) => return (x.map(|_| ()), y.map(|_| ())),
        };
        assert_eq!(ai.0, b);
        assert_eq!(ar.0, a);
        (i.on_auth(&ar.1), r.on_auth(&ai.1))
    }

    #[test]
    fn hello_round_trips() {
        for listen in [
            None,
            Some("127.0.0.1:9".parse().unwrap()),
            Some("[::1]:65535".parse().unwrap()),
        ] {
            let h = Hello {
                version: VERSION,
                identity: Identity {
                    listen,
                    incarnation: u64::MAX - 3,
                    program: [0xab; 32],
                    any_program: listen.is_none(),
                },
                nonce: nonce(),
            };
            let bytes = h.encode();
            assert!(bytes.len() <= crate::node::frame::MAX_HANDSHAKE_PAYLOAD);
            assert_eq!(Hello::decode(&bytes).unwrap(), h);
            for cut in 0..bytes.len() {
                assert!(Hello::decode(&bytes[..cut]).is_err());
            }
        }
    }

    #[test]
    fn same_cookie_both_directions() {
        assert_eq!(
            run(id(1, 1, false), "c", id(2, 1, false), "c"),
            (Ok(()), Ok(()))
        );
        assert_eq!(
            run(id(2, 1, false), "c", id(1, 1, false), "c"),
            (Ok(()), Ok(()))
        );
    }

    #[test]
    fn wrong_cookie_fails_on_both_sides() {
        assert_eq!(
            run(id(1, 1, false), "c", id(2, 1, false), "d"),
            (Err(Refusal::Auth), Err(Refusal::Auth))
        );
    }

    #[test]
    fn program_mismatch_and_accept_any() {
        let (a, b) = run(id(1, 1, false), "c", id(2, 2, false), "c");
        assert!(matches!(a, Err(Refusal::Program { .. })));
        assert!(matches!(b, Err(Refusal::Program { .. })));
        assert_eq!(
            run(id(1, 1, false), "c", id(2, 2, true), "c"),
            (Ok(()), Ok(()))
        );
        assert_eq!(
            run(id(1, 1, true), "c", id(2, 2, false), "c"),
            (Ok(()), Ok(()))
        );
    }

    #[test]
    fn version_mismatch() {
        let (mut r, _) = Handshake::new(Role::Acceptor, id(2, 1, false), cookie("c"), nonce());
        let mut h = Hello {
            version: VERSION,
            identity: id(1, 1, false),
            nonce: nonce(),
        }
        .encode();
        h[5] = h[5].wrapping_add(1);
        assert_eq!(
            r.on_hello(&h).unwrap_err(),
            Refusal::Version {
                theirs: VERSION + 1
            }
        );
    }

    #[test]
    fn echoing_our_mac_or_hello_does_not_pass() {
        // A peer without the cookie sends its HELLO, gets our AUTH and
        // sends it back.
        let (mut r, _) = Handshake::new(Role::Acceptor, id(2, 1, false), cookie("c"), nonce());
        let h = Hello {
            version: VERSION,
            identity: id(1, 1, false),
            nonce: nonce(),
        }
        .encode();
        let (_, ours) = r.on_hello(&h).unwrap();
        assert_eq!(r.on_auth(&ours), Err(Refusal::Auth));
        // Our HELLO reflected.
        let (mut r, hr) = Handshake::new(Role::Acceptor, id(2, 1, false), cookie("c"), nonce());
        assert!(matches!(r.on_hello(&hr), Err(Refusal::Protocol(_))));
        // AUTH before HELLO, a short or empty MAC.
        let (mut r, _) = Handshake::new(Role::Acceptor, id(2, 1, false), cookie("c"), nonce());
        assert!(matches!(r.on_auth(&[0; 32]), Err(Refusal::Protocol(_))));
        r.on_hello(&h).unwrap();
        assert_eq!(r.on_auth(&[]), Err(Refusal::Auth));
        assert_eq!(r.on_auth(&[0; 31]), Err(Refusal::Auth));
    }
}
