//! The network layer's receive path (`node::frame`): arbitrary bytes, cut
//! into arbitrary reads, in the handshake phase or after it. It must never
//! panic, never deliver a message larger than the limit, and give the
//! same events (or the same error) whatever the cut.
#![no_main]

use libfuzzer_sys::fuzz_target;
use termite_runtime::node::frame::{Event, Incoming, MAX_MESSAGE, Phase};

/// Feeds `data` in reads of the given sizes; the events in words, and
/// how it ended.
fn drive(data: &[u8], phase: Phase, cuts: &[u8]) -> (Vec<String>, Option<String>) {
    let mut inc = Incoming::new();
    inc.phase = phase;
    let mut out = Vec::new();
    let mut rest = data;
    let mut i = 0;
    while !rest.is_empty() {
        let step = (cuts.get(i).copied().unwrap_or(255) as usize + 1).min(rest.len());
        i += 1;
        let room = inc.spare();
        let n = step.min(room.len());
        room[..n].copy_from_slice(&rest[..n]);
        inc.filled(n);
        rest = &rest[n..];
        loop {
            match inc.next_event() {
                Ok(None) => break,
                Ok(Some(e)) => out.push(match e {
                    Event::Message { kind, payload } => {
                        assert!(payload.len() <= MAX_MESSAGE);
                        format!("msg {kind} {:?}", &payload[..])
                    }
                    other => format!("{other:?}"),
                }),
                Err(e) => return (out, Some(e.to_string())),
            }
        }
    }
    (out, inc.truncated().then(|| "truncated".to_string()))
}

fuzz_target!(|data: &[u8]| {
    let Some((&ctl, rest)) = data.split_first() else {
        return;
    };
    let phase = if ctl & 1 == 0 { Phase::Handshake } else { Phase::Up };
    let ncuts = ((ctl >> 1) as usize).min(rest.len());
    let (cuts, bytes) = rest.split_at(ncuts);
    let whole = drive(bytes, phase, &[254; 0]);
    let cut = drive(bytes, phase, cuts);
    assert_eq!(whole, cut);
});
