//! Frames on a node-to-node connection, and the pure, incremental receive
//! side: [`parse`] cuts one frame off the front of a byte buffer, and
//! [`Incoming`] buffers a connection's bytes, checks every frame against
//! the connection's phase and reassembles fragmented messages. Nothing here
//! does I/O, so the decoder is tested (and fuzzed:
//! `fuzz/fuzz_targets/frame_decode.rs`) on bytes alone.
//!
//! A frame is `u32 length (big-endian) | u8 kind | payload`, where length
//! is the payload's length (the kind byte is not counted). Limits:
//! [`MAX_HANDSHAKE_PAYLOAD`] before the handshake completes,
//! [`MAX_PAYLOAD`] after; a length over the limit closes the connection as
//! soon as its four bytes have arrived, before any payload is buffered.
//!
//! A message whose payload is at most [`FRAGMENT`] bytes travels as one
//! `MSG` frame (`user kind | data`). A larger one is cut into fragments:
//! `FRAG_FIRST` (`stream u32 | total u64 | user kind | first FRAGMENT
//! bytes`) then `FRAG_NEXT` frames (`stream u32 | next bytes`) until
//! `total` bytes have come; the receiver delivers the message then. The
//! sender interleaves the fragments of messages of different lanes (see
//! `io.rs`), so streams are open side by side; their declared totals may
//! add up to at most [`REASSEMBLY_BUDGET`] per connection.

use std::collections::HashMap;

/// Bytes of a frame's header: length and kind.
pub const HEADER: usize = 5;
/// The data carried by one frame of a large message.
pub const FRAGMENT: usize = 64 * 1024;
/// Bytes of a `FRAG_FIRST` header inside its payload.
const FIRST_HEADER: usize = 4 + 8 + 1;
/// The largest payload of a frame once the handshake is done: a fragment
/// and its header, rounded up.
pub const MAX_PAYLOAD: usize = FRAGMENT + 64;
/// The largest payload of a frame during the handshake (a HELLO is about
/// 100 bytes, a REFUSE carries a short text).
pub const MAX_HANDSHAKE_PAYLOAD: usize = 512;
/// The largest message (`send` refuses a bigger one).
pub const MAX_MESSAGE: usize = 1 << 30;
/// The most bytes that the messages being reassembled on one connection
/// may declare together; a sender never starts a fragmented message that
/// would go over it while another is open.
pub const REASSEMBLY_BUDGET: usize = 1 << 30;

/// Frame kinds (the byte after the length).
pub mod kind {
    pub const HELLO: u8 = 1;
    pub const AUTH: u8 = 2;
    pub const REFUSE: u8 = 3;
    pub const HEARTBEAT: u8 = 4;
    pub const MSG: u8 = 5;
    pub const FRAG_FIRST: u8 = 6;
    pub const FRAG_NEXT: u8 = 7;

    pub fn name(k: u8) -> &'static str {
        match k {
            HELLO => "HELLO",
            AUTH => "AUTH",
            REFUSE => "REFUSE",
            HEARTBEAT => "HEARTBEAT",
            MSG => "MSG",
            FRAG_FIRST => "FRAG_FIRST",
            FRAG_NEXT => "FRAG_NEXT",
            _ => "unknown",
        }
    }
}

/// Why the bytes from a peer broke the protocol; the connection closes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FrameError {
    Oversized {
        len: usize,
        max: usize,
    },
    UnknownKind(u8),
    /// A known kind that the connection's phase does not allow (e.g. a
    /// message before the handshake, a HELLO after it).
    OutOfPhase {
        kind: u8,
        phase: Phase,
    },
    /// A payload whose own structure is wrong.
    Malformed(&'static str),
    UnknownStream(u32),
    TooMuchReassembly {
        total: usize,
    },
}

impl std::fmt::Display for FrameError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FrameError::Oversized { len, max } => {
                write!(f, "frame length {len} over the limit of {max} bytes")
            }
            FrameError::UnknownKind(k) => write!(f, "unknown frame kind {k}"),
            FrameError::OutOfPhase { kind: k, phase } => write!(
                f,
                "frame {} not allowed {}",
                kind::name(*k),
                match phase {
                    Phase::Handshake => "before the handshake is complete",
                    Phase::Up => "after the handshake",
                }
            ),
            FrameError::Malformed(what) => write!(f, "malformed frame: {what}"),
            FrameError::UnknownStream(s) => write!(f, "fragment of unknown stream {s}"),
            FrameError::TooMuchReassembly { total } => write!(
                f,
                "fragmented message of {total} bytes over the reassembly budget"
            ),
        }
    }
}

/// What a connection may receive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// HELLO, AUTH and REFUSE only, payloads of at most
    /// [`MAX_HANDSHAKE_PAYLOAD`] bytes.
    Handshake,
    /// HEARTBEAT, MSG, FRAG_FIRST, FRAG_NEXT and REFUSE.
    Up,
}

impl Phase {
    fn max_payload(self) -> usize {
        match self {
            Phase::Handshake => MAX_HANDSHAKE_PAYLOAD,
            Phase::Up => MAX_PAYLOAD,
        }
    }

    fn allows(self, k: u8) -> bool {
        match self {
            Phase::Handshake => matches!(k, kind::HELLO | kind::AUTH | kind::REFUSE),
            Phase::Up => matches!(
                k,
                kind::HEARTBEAT | kind::MSG | kind::FRAG_FIRST | kind::FRAG_NEXT | kind::REFUSE
            ),
        }
    }
}

/// A frame cut off a buffer: kind, payload, bytes taken.
pub type Parsed<'a> = (u8, &'a [u8], usize);

/// Parses the frame at the front of `buf`: `Ok(None)` while it is
/// incomplete, else its kind, its payload and the bytes it took. An
/// over-long length is an error as soon as the header is there.
pub fn parse(buf: &[u8], max_payload: usize) -> Result<Option<Parsed<'_>>, FrameError> {
    if buf.len() < 4 {
        return Ok(None);
    }
    let len = u32::from_be_bytes([buf[0], buf[1], buf[2], buf[3]]) as usize;
    if len > max_payload {
        return Err(FrameError::Oversized {
            len,
            max: max_payload,
        });
    }
    if buf.len() < HEADER + len {
        return Ok(None);
    }
    Ok(Some((buf[4], &buf[HEADER..HEADER + len], HEADER + len)))
}

/// Appends a frame header for a payload of `len` bytes.
#[inline]
pub fn push_header(out: &mut Vec<u8>, k: u8, len: usize) {
    debug_assert!(len <= MAX_PAYLOAD);
    out.extend_from_slice(&(len as u32).to_be_bytes());
    out.push(k);
}

/// Appends a whole frame.
pub fn push_frame(out: &mut Vec<u8>, k: u8, payload: &[u8]) {
    push_header(out, k, payload.len());
    out.extend_from_slice(payload);
}

/// Appends a one-frame message (`data.len() <= FRAGMENT`).
#[inline]
pub fn push_msg(out: &mut Vec<u8>, user_kind: u8, data: &[u8]) {
    push_header(out, kind::MSG, 1 + data.len());
    out.push(user_kind);
    out.extend_from_slice(data);
}

/// Appends the first fragment of a message of `total` bytes.
pub fn push_frag_first(out: &mut Vec<u8>, stream: u32, total: usize, user_kind: u8, chunk: &[u8]) {
    push_header(out, kind::FRAG_FIRST, FIRST_HEADER + chunk.len());
    out.extend_from_slice(&stream.to_be_bytes());
    out.extend_from_slice(&(total as u64).to_be_bytes());
    out.push(user_kind);
    out.extend_from_slice(chunk);
}

/// Appends a later fragment.
pub fn push_frag_next(out: &mut Vec<u8>, stream: u32, chunk: &[u8]) {
    push_header(out, kind::FRAG_NEXT, 4 + chunk.len());
    out.extend_from_slice(&stream.to_be_bytes());
    out.extend_from_slice(chunk);
}

/// A delivered message's bytes: borrowed from the receive buffer when it
/// came in one frame, owned when it was reassembled.
#[derive(Debug)]
pub enum Payload<'a> {
    Borrowed(&'a [u8]),
    Owned(Vec<u8>),
}

impl std::ops::Deref for Payload<'_> {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Payload::Borrowed(b) => b,
            Payload::Owned(v) => v,
        }
    }
}

/// One protocol event read off a connection.
#[derive(Debug)]
pub enum Event<'a> {
    Hello(&'a [u8]),
    Auth(&'a [u8]),
    /// The peer refuses the connection: a code (`handshake::Refusal`) and
    /// its reason in words.
    Refuse(u8, String),
    Heartbeat,
    Message {
        kind: u8,
        payload: Payload<'a>,
    },
}

struct Partial {
    kind: u8,
    total: usize,
    data: Vec<u8>,
}

/// The receive side of one connection: a buffer the socket reads into,
/// the connection's phase, and the messages being reassembled.
pub struct Incoming {
    buf: Vec<u8>,
    start: usize,
    end: usize,
    pub phase: Phase,
    partial: HashMap<u32, Partial>,
    declared: usize,
}

/// The receive buffer's size: a few maximal frames.
const BUF: usize = 4 * (HEADER + MAX_PAYLOAD);

impl Default for Incoming {
    fn default() -> Self {
        Incoming::new()
    }
}

impl Incoming {
    pub fn new() -> Incoming {
        Incoming {
            buf: Vec::new(),
            start: 0,
            end: 0,
            phase: Phase::Handshake,
            partial: HashMap::new(),
            declared: 0,
        }
    }

    /// Room to read into (at least a maximal frame's worth: a partial
    /// frame is moved to the front first).
    pub fn spare(&mut self) -> &mut [u8] {
        if self.buf.is_empty() {
            self.buf = vec![0; BUF];
        }
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        } else if self.buf.len() - self.end < HEADER + MAX_PAYLOAD {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        &mut self.buf[self.end..]
    }

    /// `n` bytes were read into [`Incoming::spare`].
    pub fn filled(&mut self, n: usize) {
        self.end += n;
        debug_assert!(self.end <= self.buf.len());
    }

    /// Copies `bytes` in (for tests and the fuzz target; the I/O thread
    /// reads into [`Incoming::spare`]).
    pub fn extend(&mut self, mut bytes: &[u8]) -> Result<(), FrameError> {
        // Bytes that do not fit wait until frames are taken off: process
        // as we go, the way a socket read loop would.
        while !bytes.is_empty() {
            let room = self.spare();
            let n = room.len().min(bytes.len());
            room[..n].copy_from_slice(&bytes[..n]);
            self.filled(n);
            bytes = &bytes[n..];
            if !bytes.is_empty() {
                return Err(FrameError::Malformed("test input larger than the buffer"));
            }
        }
        Ok(())
    }

    /// Bytes received and not yet taken as frames.
    pub fn buffered(&self) -> usize {
        self.end - self.start
    }

    /// The next event, `Ok(None)` when the buffer holds no whole frame.
    pub fn next_event(&mut self) -> Result<Option<Event<'_>>, FrameError> {
        loop {
            let max = self.phase.max_payload();
            let Some((k, _, used)) = parse(&self.buf[self.start..self.end], max)? else {
                return Ok(None);
            };
            let from = self.start + HEADER;
            let to = self.start + used;
            self.start = to;
            if !self.phase.allows(k) {
                return Err(if kind::name(k) == "unknown" {
                    FrameError::UnknownKind(k)
                } else {
                    FrameError::OutOfPhase {
                        kind: k,
                        phase: self.phase,
                    }
                });
            }
            let p = &self.buf[from..to];
            match k {
                kind::HELLO => return Ok(Some(Event::Hello(p))),
                kind::AUTH => return Ok(Some(Event::Auth(p))),
                kind::REFUSE => {
                    let (&code, text) = p
                        .split_first()
                        .ok_or(FrameError::Malformed("empty REFUSE"))?;
                    let text = String::from_utf8_lossy(text).into_owned();
                    return Ok(Some(Event::Refuse(code, text)));
                }
                kind::HEARTBEAT => {
                    if !p.is_empty() {
                        return Err(FrameError::Malformed("HEARTBEAT with a payload"));
                    }
                    return Ok(Some(Event::Heartbeat));
                }
                kind::MSG => {
                    let (&user, data) =
                        p.split_first().ok_or(FrameError::Malformed("empty MSG"))?;
                    if data.len() > FRAGMENT {
                        return Err(FrameError::Malformed("MSG longer than a fragment"));
                    }
                    let data = &self.buf[from + 1..to];
                    return Ok(Some(Event::Message {
                        kind: user,
                        payload: Payload::Borrowed(data),
                    }));
                }
                kind::FRAG_FIRST => {
                    if p.len() < FIRST_HEADER {
                        return Err(FrameError::Malformed("short FRAG_FIRST"));
                    }
                    let stream = u32::from_be_bytes(p[0..4].try_into().unwrap());
                    let total = u64::from_be_bytes(p[4..12].try_into().unwrap());
                    let user = p[12];
                    let chunk = &p[FIRST_HEADER..];
                    if total > MAX_MESSAGE as u64 {
                        return Err(FrameError::TooMuchReassembly {
                            total: total as usize,
                        });
                    }
                    let total = total as usize;
                    if total <= FRAGMENT || chunk.len() != FRAGMENT {
                        return Err(FrameError::Malformed(
                            "FRAG_FIRST of a message that fits in one frame, or a short first fragment",
                        ));
                    }
                    if self.partial.contains_key(&stream) {
                        return Err(FrameError::Malformed("FRAG_FIRST of an open stream"));
                    }
                    if self.declared + total > REASSEMBLY_BUDGET {
                        return Err(FrameError::TooMuchReassembly { total });
                    }
                    self.declared += total;
                    let mut data = Vec::with_capacity(total);
                    data.extend_from_slice(chunk);
                    self.partial.insert(
                        stream,
                        Partial {
                            kind: user,
                            total,
                            data,
                        },
                    );
                }
                kind::FRAG_NEXT => {
                    if p.len() < 4 {
                        return Err(FrameError::Malformed("short FRAG_NEXT"));
                    }
                    let stream = u32::from_be_bytes(p[0..4].try_into().unwrap());
                    let chunk = &p[4..];
                    let part = self
                        .partial
                        .get_mut(&stream)
                        .ok_or(FrameError::UnknownStream(stream))?;
                    let left = part.total - part.data.len();
                    if chunk.is_empty()
                        || chunk.len() > FRAGMENT
                        || chunk.len() > left
                        || (chunk.len() < FRAGMENT && chunk.len() != left)
                    {
                        return Err(FrameError::Malformed("fragment of the wrong size"));
                    }
                    part.data.extend_from_slice(chunk);
                    if part.data.len() == part.total {
                        let part = self.partial.remove(&stream).expect("present");
                        self.declared -= part.total;
                        return Ok(Some(Event::Message {
                            kind: part.kind,
                            payload: Payload::Owned(part.data),
                        }));
                    }
                }
                _ => unreachable!("phase allowed an unknown kind"),
            }
        }
    }

    /// Whether a frame was cut off: bytes left over, or a message whose
    /// fragments stopped (a peer closing now truncated it).
    pub fn truncated(&self) -> bool {
        self.start != self.end || !self.partial.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn up() -> Incoming {
        let mut i = Incoming::new();
        i.phase = Phase::Up;
        i
    }

    fn drain(i: &mut Incoming) -> Result<Vec<(u8, Vec<u8>)>, FrameError> {
        let mut out = Vec::new();
        while let Some(e) = i.next_event()? {
            match e {
                Event::Message { kind, payload } => out.push((kind, payload.to_vec())),
                Event::Heartbeat => out.push((255, b"hb".to_vec())),
                other => panic!("unexpected {other:?}"),
            }
        }
        Ok(out)
    }

    #[test]
    fn parse_waits_for_whole_frames() {
        let mut f = Vec::new();
        push_frame(&mut f, kind::AUTH, b"abc");
        for cut in 0..f.len() {
            assert_eq!(parse(&f[..cut], 100), Ok(None), "cut at {cut}");
        }
        assert_eq!(parse(&f, 100), Ok(Some((kind::AUTH, &b"abc"[..], 8))));
    }

    #[test]
    fn oversized_length_fails_on_the_header_alone() {
        let hdr = [0xff, 0xff, 0xff, 0xff];
        assert!(matches!(
            parse(&hdr, MAX_PAYLOAD),
            Err(FrameError::Oversized {
                len: 0xffff_ffff,
                ..
            })
        ));
        let mut i = up();
        i.extend(&hdr).unwrap();
        assert!(matches!(i.next_event(), Err(FrameError::Oversized { .. })));
    }

    #[test]
    fn byte_at_a_time_is_the_same_as_all_at_once() {
        let mut wire = Vec::new();
        push_msg(&mut wire, 9, b"hello");
        push_frame(&mut wire, kind::HEARTBEAT, &[]);
        let big: Vec<u8> = (0..(3 * FRAGMENT + 17)).map(|i| i as u8).collect();
        push_frag_first(&mut wire, 7, big.len(), 3, &big[..FRAGMENT]);
        push_msg(&mut wire, 4, b"between");
        for c in big[FRAGMENT..].chunks(FRAGMENT) {
            push_frag_next(&mut wire, 7, c);
        }
        let mut whole = up();
        whole.extend(&wire).unwrap();
        let a = drain(&mut whole).unwrap();
        assert_eq!(a.len(), 4);
        assert_eq!(a[0], (9, b"hello".to_vec()));
        assert_eq!(a[1].0, 255);
        assert_eq!(a[2], (4, b"between".to_vec()));
        assert_eq!(a[3], (3, big.clone()));
        assert!(!whole.truncated());

        let mut bytewise = up();
        let mut b = Vec::new();
        for byte in &wire {
            bytewise.extend(std::slice::from_ref(byte)).unwrap();
            b.extend(drain(&mut bytewise).unwrap());
        }
        assert_eq!(a, b);
    }

    #[test]
    fn phase_rules() {
        let mut i = Incoming::new();
        let mut wire = Vec::new();
        push_msg(&mut wire, 1, b"too early");
        i.extend(&wire).unwrap();
        assert_eq!(
            i.next_event().unwrap_err(),
            FrameError::OutOfPhase {
                kind: kind::MSG,
                phase: Phase::Handshake
            }
        );
        let mut i = up();
        let mut wire = Vec::new();
        push_frame(&mut wire, kind::HELLO, b"x");
        i.extend(&wire).unwrap();
        assert!(matches!(
            i.next_event(),
            Err(FrameError::OutOfPhase {
                kind: kind::HELLO,
                ..
            })
        ));
        let mut i = up();
        i.extend(&[0, 0, 0, 0, 200]).unwrap();
        assert_eq!(i.next_event().unwrap_err(), FrameError::UnknownKind(200));
        // A handshake frame longer than the handshake limit.
        let mut i = Incoming::new();
        i.extend(&((MAX_HANDSHAKE_PAYLOAD + 1) as u32).to_be_bytes())
            .unwrap();
        assert!(matches!(i.next_event(), Err(FrameError::Oversized { .. })));
    }

    #[test]
    fn bad_fragments() {
        let big = vec![0u8; FRAGMENT];
        // A next fragment of a stream never opened.
        let mut i = up();
        let mut w = Vec::new();
        push_frag_next(&mut w, 1, b"x");
        i.extend(&w).unwrap();
        assert_eq!(i.next_event().unwrap_err(), FrameError::UnknownStream(1));
        // A fragmented message that would fit in one frame.
        let mut i = up();
        let mut w = Vec::new();
        push_frag_first(&mut w, 1, 10, 0, &big[..10]);
        i.extend(&w).unwrap();
        assert!(matches!(i.next_event(), Err(FrameError::Malformed(_))));
        // More data than declared.
        let mut i = up();
        let mut w = Vec::new();
        push_frag_first(&mut w, 1, FRAGMENT + 1, 0, &big);
        push_frag_next(&mut w, 1, b"xy");
        i.extend(&w).unwrap();
        assert!(matches!(i.next_event(), Err(FrameError::Malformed(_))));
        // Over the budget.
        let mut i = up();
        let mut w = Vec::new();
        push_frag_first(&mut w, 1, MAX_MESSAGE + 1, 0, &big);
        i.extend(&w).unwrap();
        assert!(matches!(
            i.next_event(),
            Err(FrameError::TooMuchReassembly { .. })
        ));
        // Truncated: a stream left open.
        let mut i = up();
        let mut w = Vec::new();
        push_frag_first(&mut w, 1, FRAGMENT + 1, 0, &big);
        i.extend(&w).unwrap();
        assert!(i.next_event().unwrap().is_none());
        assert!(i.truncated());
    }
}
