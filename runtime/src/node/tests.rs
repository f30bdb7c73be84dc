//! Tests of the network layer between in-process nodes and raw sockets.
//! Every node listens on 127.0.0.1:0 (a free port read back), so parallel
//! tests never clash; every node is shut down (its thread joined) at the
//! end of its test, also on failure (the handle's drop joins).

use super::frame::{self, Incoming, kind};
use super::handshake::{self, Handshake, Identity, Role, nonce};
use super::*;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::{Condvar, Mutex};
use std::time::Instant;

#[derive(Debug, Clone, PartialEq)]
enum Ev {
    Up(SocketAddr, u64, Option<SocketAddr>),
    Frame(SocketAddr, u8, Vec<u8>),
    Down(SocketAddr, Option<u64>, DownReason),
    Drained(SocketAddr),
}

/// A sink that records everything, with arrival times, and the log.
#[derive(Default)]
struct Rec {
    evs: Mutex<Vec<(Instant, Ev)>>,
    logs: Mutex<Vec<String>>,
    cv: Condvar,
    /// Keep only the length of frames longer than this (big payloads).
    keep_upto: usize,
    /// And do not check their pattern (benchmarks).
    no_check: bool,
}

impl Rec {
    fn push(&self, e: Ev) {
        self.evs.lock().unwrap().push((Instant::now(), e));
        self.cv.notify_all();
    }

    /// Waits until `f` holds of the events (or `secs` pass); returns it.
    fn wait(&self, secs: f64, f: impl Fn(&[Ev]) -> bool) -> bool {
        let deadline = Instant::now() + Duration::from_secs_f64(secs);
        let mut g = self.evs.lock().unwrap();
        loop {
            let evs: Vec<Ev> = g.iter().map(|(_, e)| e.clone()).collect();
            if f(&evs) {
                return true;
            }
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            g = self.cv.wait_timeout(g, deadline - now).unwrap().0;
        }
    }

    fn events(&self) -> Vec<Ev> {
        self.evs
            .lock()
            .unwrap()
            .iter()
            .map(|(_, e)| e.clone())
            .collect()
    }

    fn frames(&self) -> Vec<(u8, Vec<u8>)> {
        self.events()
            .into_iter()
            .filter_map(|e| match e {
                Ev::Frame(_, k, p) => Some((k, p)),
                _ => None,
            })
            .collect()
    }

    fn logged(&self, s: &str) -> bool {
        self.logs.lock().unwrap().iter().any(|l| l.contains(s))
    }

    fn wait_log(&self, secs: f64, s: &str) -> bool {
        let deadline = Instant::now() + Duration::from_secs_f64(secs);
        while Instant::now() < deadline {
            if self.logged(s) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        false
    }
}

impl Sink for Rec {
    fn peer_up(&self, peer: SocketAddr, inc: u64, listen: Option<SocketAddr>, _: Option<[u8; 32]>) {
        self.push(Ev::Up(peer, inc, listen));
    }
    fn frame(&self, peer: SocketAddr, k: u8, payload: frame::Payload<'_>) {
        let payload = &*payload;
        let p = if self.keep_upto > 0 && payload.len() > self.keep_upto {
            // Big payloads: check the pattern here, keep the length.
            let ok = self.no_check
                || payload
                    .iter()
                    .enumerate()
                    .all(|(i, b)| *b == (i % 251) as u8);
            format!("big {} {ok}", payload.len()).into_bytes()
        } else {
            payload.to_vec()
        };
        self.push(Ev::Frame(peer, k, p));
    }
    fn peer_down(&self, peer: SocketAddr, inc: Option<u64>, reason: &DownReason) {
        self.push(Ev::Down(peer, inc, reason.clone()));
    }
    fn drained(&self, peer: SocketAddr) {
        self.push(Ev::Drained(peer));
    }
    fn log(&self, line: &str) {
        self.logs.lock().unwrap().push(line.to_string());
    }
}

fn random_u64() -> u64 {
    new_incarnation()
}

fn config(cookie: &str, program: u8) -> NodeConfig {
    let mut c = NodeConfig::new(
        Cookie::new(cookie.as_bytes().to_vec()),
        random_u64(),
        [program; 32],
    );
    c.listen = Some("127.0.0.1:0".parse().unwrap());
    c.heartbeat_timeout = Duration::from_secs(30);
    c.handshake_timeout = Duration::from_secs(5);
    c
}

fn start(c: NodeConfig) -> (NodeHandle, Arc<Rec>) {
    start_rec(c, Rec::default())
}

fn start_rec(c: NodeConfig, rec: Rec) -> (NodeHandle, Arc<Rec>) {
    let rec = Arc::new(rec);
    let h = Node::start(c, rec.clone()).expect("node starts");
    (h, rec)
}

fn has_frame(evs: &[Ev], payload: &[u8]) -> bool {
    evs.iter()
        .any(|e| matches!(e, Ev::Frame(_, _, p) if p == payload))
}

fn count_up(evs: &[Ev]) -> usize {
    evs.iter().filter(|e| matches!(e, Ev::Up(..))).count()
}

fn has_down(evs: &[Ev]) -> bool {
    evs.iter().any(|e| matches!(e, Ev::Down(..)))
}

#[test]
fn handshake_and_replies_over_one_connection() {
    let (a, ra) = start(config("secret", 1));
    let (b, rb) = start(config("secret", 1));
    let (aa, ba) = (a.listen_addr().unwrap(), b.listen_addr().unwrap());
    assert_eq!(a.send(ba, 1, 7, b"ping".to_vec()), Ok(Flow::Ok));
    assert!(rb.wait(5.0, |e| has_frame(e, b"ping")));
    // B knows A by A's listen address, and answers over the same
    // connection (A sees one peer-up, B's address).
    match &rb.events()[0] {
        Ev::Up(k, _, l) => {
            assert_eq!(*k, aa);
            assert_eq!(*l, Some(aa));
        }
        e => panic!("{e:?}"),
    }
    assert_eq!(rb.frames(), [(7, b"ping".to_vec())]);
    b.send(aa, 1, 8, b"pong".to_vec()).unwrap();
    assert!(ra.wait(5.0, |e| has_frame(e, b"pong")));
    let ea = ra.events();
    assert_eq!(count_up(&ea), 1, "{ea:?}");
    assert!(matches!(ea[0], Ev::Up(k, _, Some(l)) if k == ba && l == ba));
    assert_eq!(count_up(&rb.events()), 1);
    // An empty payload is a message too.
    a.send(ba, 1, 9, Vec::new()).unwrap();
    assert!(rb.wait(5.0, |e| {
        e.iter()
            .any(|x| matches!(x, Ev::Frame(_, 9, p) if p.is_empty()))
    }));
    a.shutdown();
    assert!(rb.wait(5.0, has_down));
    b.shutdown();
    // Every peer-up was followed by its peer-down.
    assert!(matches!(ra.events().last(), Some(Ev::Down(k, Some(_), _)) if *k == ba));
}

#[test]
fn a_node_without_an_address_connects_out_and_gets_answers() {
    let mut ca = config("secret", 1);
    ca.listen = None;
    let (a, ra) = start(ca);
    assert_eq!(a.listen_addr(), None);
    let (b, rb) = start(config("secret", 1));
    let ba = b.listen_addr().unwrap();
    a.send(ba, 0, 1, b"hi".to_vec()).unwrap();
    assert!(rb.wait(5.0, |e| has_frame(e, b"hi")));
    let Ev::Up(key, _, None) = rb.events()[0].clone() else {
        panic!("{:?}", rb.events())
    };
    b.send(key, 0, 1, b"hello hidden".to_vec()).unwrap();
    assert!(ra.wait(5.0, |e| has_frame(e, b"hello hidden")));
    a.shutdown();
    b.shutdown();
}

#[test]
fn wrong_cookie_is_refused_on_both_sides() {
    let (a, ra) = start(config("one", 1));
    let (b, rb) = start(config("two", 1));
    let ba = b.listen_addr().unwrap();
    a.send(ba, 0, 1, b"let me in".to_vec()).unwrap();
    assert!(ra.wait(5.0, |e| e.iter().any(
        |x| matches!(x, Ev::Down(k, None, DownReason::ConnectFailed(_)) if *k == ba)
    )));
    assert!(ra.wait_log(5.0, "authentication failed"));
    assert!(rb.wait_log(5.0, "authentication failed"));
    std::thread::sleep(Duration::from_millis(100));
    assert!(rb.events().is_empty(), "{:?}", rb.events());
    assert_eq!(count_up(&ra.events()), 0);
    assert_eq!(a.queued(ba), 0);
    a.shutdown();
    b.shutdown();
}

/// A HELLO proves nothing until its AUTH: a stranger without the cookie
/// who claims the address of a peer that is up (as a new incarnation of
/// it, or as the same one reconnecting) is refused, and the peer's
/// connection stays up.
#[test]
fn a_claimed_address_does_not_displace_a_live_peer_before_auth() {
    let ca = config("secret", 1);
    let a_incarnation = ca.incarnation;
    let (a, ra) = start(ca);
    let (b, rb) = start(config("secret", 1));
    let (aa, ba) = (a.listen_addr().unwrap(), b.listen_addr().unwrap());
    a.send(ba, 1, 7, b"first".to_vec()).unwrap();
    assert!(rb.wait(5.0, |e| has_frame(e, b"first")));
    for claimed in [random_u64(), a_incarnation] {
        let mut s = TcpStream::connect(ba).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let (mut hs, hello) = Handshake::new(
            Role::Initiator,
            ident(Some(aa), claimed, 1),
            Cookie::new(b"not the cookie".to_vec()),
            nonce(),
        );
        let mut out = Vec::new();
        frame::push_frame(&mut out, kind::HELLO, &hello);
        s.write_all(&out).unwrap();
        let mut inc = Incoming::new();
        'talk: loop {
            let n = match s.read(inc.spare()) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            inc.filled(n);
            while let Ok(Some(ev)) = inc.next_event() {
                if let frame::Event::Hello(p) = ev {
                    let p = p.to_vec();
                    let Ok((_, auth)) = hs.on_hello(&p) else {
                        break 'talk;
                    };
                    let mut out = Vec::new();
                    frame::push_frame(&mut out, kind::AUTH, &auth);
                    let _ = s.write_all(&out);
                }
            }
        }
        assert!(closes(&mut s));
    }
    assert!(rb.wait_log(5.0, "authentication failed"));
    a.send(ba, 1, 7, b"second".to_vec()).unwrap();
    assert!(rb.wait(5.0, |e| has_frame(e, b"second")));
    let eb = rb.events();
    assert!(!has_down(&eb), "the live peer was taken down: {eb:?}");
    assert_eq!(count_up(&eb), 1, "{eb:?}");
    assert!(!has_down(&ra.events()));
    a.shutdown();
    b.shutdown();
}

#[test]
fn program_mismatch_is_refused_and_any_program_accepts() {
    let (a, ra) = start(config("c", 1));
    let (b, rb) = start(config("c", 2));
    let ba = b.listen_addr().unwrap();
    a.send(ba, 0, 1, b"x".to_vec()).unwrap();
    assert!(ra.wait(5.0, has_down));
    assert!(ra.wait_log(5.0, "program mismatch"));
    assert!(rb.wait_log(5.0, "program mismatch"));
    assert!(rb.events().is_empty());

    let mut cc = config("c", 3);
    cc.accept_any_program = true;
    let (c, rc) = start(cc);
    let ca = c.listen_addr().unwrap();
    a.send(ca, 0, 1, b"from program 1".to_vec()).unwrap();
    b.send(ca, 0, 1, b"from program 2".to_vec()).unwrap();
    assert!(rc.wait(5.0, |e| has_frame(e, b"from program 1")
        && has_frame(e, b"from program 2")));
    for n in [a, b, c] {
        n.shutdown();
    }
}

#[test]
fn ten_thousand_frames_arrive_in_order() {
    let (a, _ra) = start(config("c", 1));
    let (b, rb) = start(config("c", 1));
    let ba = b.listen_addr().unwrap();
    const N: u32 = 10_000;
    for i in 0..N {
        // Mostly small, a few fragmented ones among them, all one lane.
        let len = if i % 2000 == 1999 {
            3 * frame::FRAGMENT + 5
        } else {
            (i % 97) as usize
        };
        let mut p = i.to_be_bytes().to_vec();
        p.resize(4 + len, (i % 251) as u8);
        a.send(ba, 42, (i % 256) as u8, p).unwrap();
    }
    assert!(rb.wait(30.0, |e| e.len() > N as usize));
    let frames = rb.frames();
    assert_eq!(frames.len(), N as usize);
    for (i, (k, p)) in frames.iter().enumerate() {
        assert_eq!(*k, (i % 256) as u8);
        assert_eq!(u32::from_be_bytes(p[..4].try_into().unwrap()), i as u32);
        assert!(p[4..].iter().all(|&x| x == (i % 251) as u8));
    }
    a.shutdown();
    b.shutdown();
}

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

/// A big payload on one lane; small frames sent after it on another lane
/// arrive long before it completes.
fn big_payload(mb: usize) {
    let (a, _ra) = start(config("c", 1));
    let (b, rb) = start_rec(
        config("c", 1),
        Rec {
            keep_upto: 1024,
            ..Rec::default()
        },
    );
    let ba = b.listen_addr().unwrap();
    a.send(ba, 0, 1, b"warm up".to_vec()).unwrap();
    assert!(rb.wait(5.0, |e| has_frame(e, b"warm up")));
    let big = pattern(mb << 20);
    let t0 = Instant::now();
    a.send(ba, 1, 2, big).unwrap();
    let t_small = Instant::now();
    a.send(ba, 2, 3, b"small".to_vec()).unwrap();
    let big_done = format!("big {} true", mb << 20).into_bytes();
    assert!(rb.wait(120.0, |e| has_frame(e, &big_done)));
    let evs = rb.evs.lock().unwrap().clone();
    let at = |p: &[u8]| {
        evs.iter()
            .find(|(_, e)| matches!(e, Ev::Frame(_, _, q) if q == p))
            .map(|(t, _)| *t)
            .unwrap()
    };
    let (small, done) = (at(b"small"), at(&big_done));
    let total = done - t0;
    eprintln!(
        "{mb} MB in {total:?} ({:.0} MB/s); a small frame sent after it arrived after {:?}",
        mb as f64 / total.as_secs_f64(),
        small - t_small
    );
    assert!(small < done, "the small frame waited for the big one");
    assert!(
        (small - t_small) * 4 < total,
        "small frame after {:?}, big one in {total:?}",
        small - t_small
    );
    a.shutdown();
    b.shutdown();
}

#[test]
fn a_32_mb_payload_does_not_hold_up_small_frames() {
    big_payload(32);
}

#[test]
#[ignore = "release: cargo test --release -p termite-runtime node::tests::big_payload_500mb -- --ignored"]
fn big_payload_500mb() {
    big_payload(500);
}

/// Connects a raw socket and does the handshake by hand; returns the
/// socket and its receive state, ready for frames.
fn raw_handshake(to: SocketAddr, cookie: &str, ident: Identity) -> (TcpStream, Incoming) {
    let cookie = Cookie::new(cookie.as_bytes().to_vec());
    handshake::connect_blocking(to, cookie, ident, Duration::from_secs(5)).unwrap()
}

fn ident(listen: Option<SocketAddr>, incarnation: u64, program: u8) -> Identity {
    Identity {
        listen,
        incarnation,
        program: [program; 32],
        any_program: false,
    }
}

/// Reads until the peer closes (or 5 s pass): whether it closed.
fn closes(s: &mut TcpStream) -> bool {
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return true,
            Err(_) => return false,
        }
    }
}

#[test]
fn bad_bytes_close_only_their_connection() {
    let (a, ra) = start(config("c", 1));
    let (b, rb) = start(config("c", 1));
    let ba = b.listen_addr().unwrap();
    a.send(ba, 0, 1, b"before".to_vec()).unwrap();
    assert!(rb.wait(5.0, |e| has_frame(e, b"before")));

    let mut msg_first = Vec::new();
    frame::push_msg(&mut msg_first, 1, b"no handshake");
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "garbage",
            b"GET / HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(),
            "frame length",
        ),
        (
            "unknown kind",
            vec![0, 0, 0, 1, 99, 0],
            "unknown frame kind 99",
        ),
        ("oversized", vec![0x7f, 0xff, 0xff, 0xff], "over the limit"),
        (
            "before handshake",
            msg_first,
            "frame MSG not allowed before the handshake",
        ),
        (
            "bad hello",
            vec![0, 0, 0, 3, kind::HELLO, 1, 2, 3],
            "malformed HELLO",
        ),
    ];
    for (name, bytes, log) in cases {
        let mut s = TcpStream::connect(ba).unwrap();
        s.write_all(&bytes).unwrap();
        assert!(closes(&mut s), "{name}: connection not closed");
        assert!(
            rb.wait_log(5.0, log),
            "{name}: no log {log:?}: {:?}",
            rb.logs
        );
    }
    // A truncated frame, then the socket closes.
    let mut s = TcpStream::connect(ba).unwrap();
    s.write_all(&[0, 0, 0, 100, kind::HELLO, 1, 2, 3]).unwrap();
    drop(s);
    assert!(rb.wait_log(5.0, "closed in the middle of a frame"));
    // Every log line names the peer's address.
    for l in rb.logs.lock().unwrap().iter() {
        assert!(l.contains("127.0.0.1:"), "{l}");
    }

    // On an authenticated connection: a bad frame closes it (the peer is
    // down) and nothing of it is delivered.
    let me: SocketAddr = "127.0.0.1:1".parse().unwrap();
    let (mut s, _) = raw_handshake(ba, "c", ident(Some(me), 5, 1));
    assert!(rb.wait(5.0, |e| e.contains(&Ev::Up(me, 5, Some(me)))));
    let mut bad = Vec::new();
    frame::push_msg(&mut bad, 3, b"ok frame");
    bad.extend_from_slice(&[0xff; 8]);
    s.write_all(&bad).unwrap();
    assert!(closes(&mut s));
    assert!(rb.wait(5.0, |e| e.iter().any(
        |x| matches!(x, Ev::Down(k, Some(5), DownReason::Protocol(_)) if *k == me)
    )));
    assert!(has_frame(&rb.events(), b"ok frame"));

    // The first peer never noticed.
    a.send(ba, 0, 1, b"after".to_vec()).unwrap();
    assert!(rb.wait(5.0, |e| has_frame(e, b"after")));
    assert!(!has_down(&ra.events()));
    a.shutdown();
    b.shutdown();
}

#[test]
fn failed_handshakes_are_rate_limited_per_address() {
    let mut cb = config("c", 1);
    cb.max_failures = 2;
    let (b, rb) = start(cb);
    let ba = b.listen_addr().unwrap();
    for _ in 0..2 {
        let mut s = TcpStream::connect(ba).unwrap();
        s.write_all(b"garbage!").unwrap();
        assert!(closes(&mut s));
    }
    // Now even a correct peer from that address is cut off at once.
    let mut s = TcpStream::connect(ba).unwrap();
    assert!(closes(&mut s));
    assert!(rb.wait_log(5.0, "too many failed handshakes"));
    let (a, ra) = start(config("c", 1));
    a.send(ba, 0, 1, b"x".to_vec()).unwrap();
    assert!(ra.wait(5.0, has_down));
    assert!(rb.events().is_empty());
    a.shutdown();
    b.shutdown();
}

#[test]
fn a_killed_peer_is_noticed_at_once() {
    let (a, ra) = start(config("c", 1));
    let (b, rb) = start(config("c", 1));
    let (aa, ba) = (a.listen_addr().unwrap(), b.listen_addr().unwrap());
    a.send(ba, 0, 1, b"x".to_vec()).unwrap();
    assert!(rb.wait(5.0, |e| has_frame(e, b"x")));
    // A raw peer that drops its socket, too.
    let me: SocketAddr = "127.0.0.1:2".parse().unwrap();
    let (s, _) = raw_handshake(aa, "c", ident(Some(me), 9, 1));
    assert!(ra.wait(5.0, |e| e.contains(&Ev::Up(me, 9, Some(me)))));
    let t = Instant::now();
    drop(s);
    assert!(ra.wait(5.0, |e| e.contains(&Ev::Down(
        me,
        Some(9),
        DownReason::Closed
    ))));
    b.shutdown();
    assert!(ra.wait(5.0, |e| e.iter().any(
        |x| matches!(x, Ev::Down(k, Some(_), DownReason::Closed) if *k == ba)
    )));
    // The heartbeat timeout is 30 s: this was the closed socket.
    assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
    a.shutdown();
}

#[test]
fn a_silent_peer_is_declared_down_after_the_heartbeat_timeout() {
    let timeout = Duration::from_millis(400);
    let mut ca = config("c", 1);
    ca.heartbeat_timeout = timeout;
    let (a, ra) = start(ca);
    let aa = a.listen_addr().unwrap();
    let me: SocketAddr = "127.0.0.1:3".parse().unwrap();
    // A raw peer that handshakes and then says nothing (its socket stays
    // open: only the heartbeat can tell).
    let (mut s, mut inc) = raw_handshake(aa, "c", ident(Some(me), 4, 1));
    assert!(ra.wait(5.0, |e| e.contains(&Ev::Up(me, 4, Some(me)))));
    let t = Instant::now();
    // Meanwhile A sends heartbeats to it.
    let mut beats = 0;
    s.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
    while t.elapsed() < timeout / 2 + timeout / 4 {
        if let Ok(n) = s.read(inc.spare()) {
            inc.filled(n);
            while let Some(e) = inc.next_event().unwrap() {
                assert!(matches!(e, frame::Event::Heartbeat), "{e:?}");
                beats += 1;
            }
        }
    }
    assert!(beats >= 1, "no heartbeat in {:?}", t.elapsed());
    assert!(ra.wait(3.0, |e| e.contains(&Ev::Down(
        me,
        Some(4),
        DownReason::HeartbeatTimeout
    ))));
    let took = t.elapsed();
    assert!(took >= timeout - Duration::from_millis(20), "{took:?}");
    assert!(took < timeout * 3, "{took:?}");
    assert!(ra.logged("heartbeat timeout"));
    drop(s);
    a.shutdown();
}

#[test]
fn idle_nodes_stay_up_and_a_paused_node_goes_down() {
    let timeout = Duration::from_millis(300);
    let mut ca = config("c", 1);
    ca.heartbeat_timeout = timeout;
    let mut cb = config("c", 1);
    cb.heartbeat_timeout = timeout;
    let (a, ra) = start(ca);
    let (b, rb) = start(cb);
    let ba = b.listen_addr().unwrap();
    a.send(ba, 0, 1, b"x".to_vec()).unwrap();
    assert!(rb.wait(5.0, |e| has_frame(e, b"x")));
    // Idle for four timeouts: the heartbeats keep both up.
    std::thread::sleep(timeout * 4);
    assert!(!has_down(&ra.events()), "{:?}", ra.events());
    assert!(!has_down(&rb.events()), "{:?}", rb.events());
    // B's I/O thread stops (as under SIGSTOP): A declares it down.
    b.pause(timeout * 4);
    assert!(ra.wait(3.0, |e| e.iter().any(
        |x| matches!(x, Ev::Down(k, _, DownReason::HeartbeatTimeout) if *k == ba)
    )));
    a.shutdown();
    b.shutdown();
}

#[test]
fn a_restarted_peer_is_a_new_incarnation() {
    let (a, ra) = start(config("c", 1));
    let aa = a.listen_addr().unwrap();
    // A peer that restarts on the same address before A noticed the old
    // one's death: the old one is reported down, then the new one up.
    let me: SocketAddr = "127.0.0.1:4".parse().unwrap();
    let (s1, _) = raw_handshake(aa, "c", ident(Some(me), 100, 1));
    assert!(ra.wait(5.0, |e| e.contains(&Ev::Up(me, 100, Some(me)))));
    let (s2, _) = raw_handshake(aa, "c", ident(Some(me), 101, 1));
    assert!(ra.wait(5.0, |e| e.contains(&Ev::Up(me, 101, Some(me)))));
    let evs = ra.events();
    let down = evs
        .iter()
        .position(|e| *e == Ev::Down(me, Some(100), DownReason::NewIncarnation(101)))
        .expect("old incarnation down");
    let up = evs
        .iter()
        .position(|e| *e == Ev::Up(me, 101, Some(me)))
        .unwrap();
    assert!(down < up);
    drop((s1, s2));

    // A real node restarted on its port.
    let (b, _rb) = start(config("c", 1));
    let ba = b.listen_addr().unwrap();
    a.send(ba, 0, 1, b"x".to_vec()).unwrap();
    assert!(ra.wait(5.0, |e| {
        e.iter().any(|x| matches!(x, Ev::Up(k, ..) if *k == ba))
    }));
    b.shutdown();
    assert!(ra.wait(5.0, |e| {
        e.iter()
            .any(|x| matches!(x, Ev::Down(k, Some(_), _) if *k == ba))
    }));
    let mut cb2 = config("c", 1);
    cb2.listen = Some(ba);
    let inc2 = cb2.incarnation;
    let (b2, rb2) = start(cb2);
    a.send(ba, 0, 1, b"to the new one".to_vec()).unwrap();
    assert!(rb2.wait(5.0, |e| has_frame(e, b"to the new one")));
    assert!(ra.events().contains(&Ev::Up(ba, inc2, Some(ba))));
    a.shutdown();
    b2.shutdown();
}

#[test]
fn nodes_dialing_each_other_at_once_end_with_one_connection() {
    for _ in 0..10 {
        let (a, ra) = start(config("c", 1));
        let (b, rb) = start(config("c", 1));
        let (aa, ba) = (a.listen_addr().unwrap(), b.listen_addr().unwrap());
        let (a2, b2) = (a.clone(), b.clone());
        let t1 = std::thread::spawn(move || a2.send(ba, 0, 1, b"from a".to_vec()).unwrap());
        let t2 = std::thread::spawn(move || b2.send(aa, 0, 1, b"from b".to_vec()).unwrap());
        t1.join().unwrap();
        t2.join().unwrap();
        assert!(rb.wait(5.0, |e| has_frame(e, b"from a")));
        assert!(ra.wait(5.0, |e| has_frame(e, b"from b")));
        for _ in 0..5 {
            a.send(ba, 0, 1, b"more".to_vec()).unwrap();
            b.send(aa, 0, 1, b"more".to_vec()).unwrap();
        }
        assert!(rb.wait(
            5.0,
            |e| e.iter().filter(|x| matches!(x, Ev::Frame(..))).count() == 6
        ));
        assert!(ra.wait(
            5.0,
            |e| e.iter().filter(|x| matches!(x, Ev::Frame(..))).count() == 6
        ));
        let (ea, eb) = (ra.events(), rb.events());
        assert_eq!(count_up(&ea), 1, "{ea:?}");
        assert_eq!(count_up(&eb), 1, "{eb:?}");
        assert!(!has_down(&ea) && !has_down(&eb), "{ea:?} {eb:?}");
        // Nothing of it looks like a failure.
        assert!(ra.logs.lock().unwrap().is_empty(), "{:?}", ra.logs);
        assert!(rb.logs.lock().unwrap().is_empty(), "{:?}", rb.logs);
        a.shutdown();
        b.shutdown();
    }
}

#[test]
fn a_peer_that_does_not_read_slows_senders_then_drains() {
    let mut ca = config("c", 1);
    ca.queue_soft_limit = 8 << 20;
    ca.queue_hard_limit = 32 << 20;
    let (a, ra) = start(ca);
    let (b, rb) = start(config("c", 1));
    let ba = b.listen_addr().unwrap();
    a.send(ba, 0, 1, b"x".to_vec()).unwrap();
    assert!(rb.wait(5.0, |e| has_frame(e, b"x")));
    b.pause(Duration::from_millis(1500));
    std::thread::sleep(Duration::from_millis(50));
    let mut congested = false;
    let mut full = false;
    for _ in 0..64 {
        match a.send(ba, 1, 2, vec![7; 2 << 20]) {
            Ok(Flow::Congested) => congested = true,
            Ok(Flow::Ok) => {}
            Err(SendError::QueueFull) => {
                full = true;
                break;
            }
            Err(e) => panic!("{e}"),
        }
    }
    assert!(congested && full);
    assert!(a.queued(ba) <= (32 << 20) + (2 << 20));
    // B wakes up and reads: the queue drains and A is told.
    assert!(ra.wait(20.0, |e| e.contains(&Ev::Drained(ba))));
    assert!(rb.wait(
        20.0,
        |e| e.iter().filter(|x| matches!(x, Ev::Frame(..))).count() > 16
    ));
    assert_eq!(
        a.send(ba, 1, 2, vec![1; 10]),
        Ok(Flow::Ok),
        "queued {}",
        a.queued(ba)
    );
    a.shutdown();
    b.shutdown();
}

#[test]
fn errors_are_reported_not_panics() {
    let (a, ra) = start(config("c", 1));
    let aa = a.listen_addr().unwrap();
    // Listening where another node listens.
    let mut c = config("c", 1);
    c.listen = Some(aa);
    match Node::start(c, Arc::new(Rec::default())) {
        Err(NodeError::Bind(x, _)) => assert_eq!(x, aa),
        Err(e) => panic!("{e}"),
        Ok(_) => panic!("bound twice"),
    }
    // Sending where nobody listens: the peer is down, never up.
    let nobody = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    a.send(nobody, 0, 1, b"x".to_vec()).unwrap();
    assert!(ra.wait(5.0, |e| e.iter().any(
        |x| matches!(x, Ev::Down(k, None, DownReason::ConnectFailed(_)) if *k == nobody)
    )));
    assert_eq!(a.queued(nobody), 0);
    assert_eq!(
        a.send(nobody, 0, 1, vec![0; frame::MAX_MESSAGE + 1]),
        Err(SendError::TooLarge(frame::MAX_MESSAGE + 1))
    );
    // A node that sends to itself is refused, not confused.
    a.send(aa, 0, 1, b"me".to_vec()).unwrap();
    assert!(ra.wait(5.0, |e| {
        e.iter()
            .any(|x| matches!(x, Ev::Down(k, None, _) if *k == aa))
    }));
    assert!(!ra.events().iter().any(|e| matches!(e, Ev::Up(..))));
    a.shutdown();
    assert_eq!(a.send(nobody, 0, 1, vec![]), Err(SendError::Shutdown));
}

/// A sink that answers every frame with the same frame (a ping-pong
/// partner), or counts round trips and serves the next ping.
struct Echo {
    me: std::sync::OnceLock<NodeHandle>,
    /// Round trips left to do (the pinging side); `None` echoes.
    left: Option<std::sync::atomic::AtomicU64>,
    done: Mutex<bool>,
    cv: Condvar,
}

impl Sink for Echo {
    fn peer_up(&self, _: SocketAddr, _: u64, _: Option<SocketAddr>, _: Option<[u8; 32]>) {}
    fn peer_down(&self, _: SocketAddr, _: Option<u64>, _: &DownReason) {}
    fn frame(&self, peer: SocketAddr, k: u8, payload: frame::Payload<'_>) {
        let payload = &*payload;
        let h = self.me.get().expect("handle set");
        match &self.left {
            None => {
                let _ = h.send(peer, 0, k, payload.to_vec());
            }
            Some(left) => {
                if left.fetch_sub(1, std::sync::atomic::Ordering::Relaxed) > 1 {
                    let _ = h.send(peer, 0, k, payload.to_vec());
                } else {
                    *self.done.lock().unwrap() = true;
                    self.cv.notify_all();
                }
            }
        }
    }
}

fn echo_node(left: Option<u64>) -> (NodeHandle, Arc<Echo>) {
    let e = Arc::new(Echo {
        me: std::sync::OnceLock::new(),
        left: left.map(std::sync::atomic::AtomicU64::new),
        done: Mutex::new(false),
        cv: Condvar::new(),
    });
    let h = Node::start(config("c", 1), e.clone()).unwrap();
    let _ = e.me.set(h.clone());
    (h, e)
}

/// Prints two-node ping-pong round trips per second and the throughput
/// of a 100 MB message with the latency of pings meanwhile.
#[test]
#[ignore = "benchmark: cargo test --release -p termite-runtime --lib node::tests::throughput -- --ignored --nocapture"]
fn throughput() {
    const N: u64 = 200_000;
    let (b, eb) = echo_node(None);
    let (a, ea) = echo_node(Some(N));
    let ba = b.listen_addr().unwrap();
    let t = Instant::now();
    a.send(ba, 0, 1, vec![0; 8]).unwrap();
    let mut g = ea.done.lock().unwrap();
    while !*g {
        g = ea.cv.wait(g).unwrap();
    }
    drop(g);
    let el = t.elapsed();
    eprintln!(
        "ping-pong: {N} round trips in {el:?}: {:.0} round trips/s",
        N as f64 / el.as_secs_f64()
    );
    a.shutdown();
    b.shutdown();
    drop((ea, eb));

    // 100 MB while pings go on another lane.
    let (a, ra) = start(config("c", 1));
    let (b, _rb) = start_rec(
        config("c", 1),
        Rec {
            keep_upto: 1 << 20,
            no_check: true,
            ..Rec::default()
        },
    );
    let (_p, pb) = echo_node(None);
    let pa = _p.listen_addr().unwrap();
    let _ = pb;
    let ba = b.listen_addr().unwrap();
    a.send(ba, 0, 1, b"warm".to_vec()).unwrap();
    a.send(pa, 0, 1, b"warm".to_vec()).unwrap();
    assert!(ra.wait(5.0, |e| has_frame(e, b"warm")));
    let _ = _rb;
    let size = 100 << 20;
    let big = pattern(size);
    let t = Instant::now();
    a.send(ba, 1, 2, big).unwrap();
    // Pings to the echo node over A's other connection are not the
    // point: ping B itself on another lane, B's sink records arrival.
    let mut worst = Duration::ZERO;
    let mut pings = 0;
    let done = format!("big {size} true").into_bytes();
    while !_rb
        .evs
        .lock()
        .unwrap()
        .iter()
        .any(|(_, e)| matches!(e, Ev::Frame(_, _, p) if *p == done))
    {
        let tag = format!("ping {pings}").into_bytes();
        let s = Instant::now();
        a.send(ba, 2, 3, tag.clone()).unwrap();
        assert!(_rb.wait(5.0, |e| has_frame(e, &tag)));
        worst = worst.max(s.elapsed());
        pings += 1;
        std::thread::sleep(Duration::from_millis(2));
    }
    let el = t.elapsed();
    eprintln!(
        "100 MB in {el:?}: {:.0} MB/s; {pings} one-way pings meanwhile, the slowest {worst:?}",
        100.0 / el.as_secs_f64()
    );
    for n in [a, b, _p] {
        n.shutdown();
    }
}
