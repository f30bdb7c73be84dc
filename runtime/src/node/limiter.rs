//! The rate limit of failed handshakes per IP address. A failure is a
//! wrong MAC (no cookie) or bytes that break the handshake protocol
//! (garbage, a frame before the handshake, a handshake that does not
//! finish in time); a version or program mismatch is not an attack and is
//! not counted. Policy: an address with `max` failures in the current
//! window of `window` (defaults 10 in 10 s) has its next connections
//! closed at once, without a handshake, until the window ends; the first
//! such refusal in a window is logged. The table is pruned of expired
//! windows whenever it grows past 4096 addresses, so it stays small.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

pub const DEFAULT_MAX: u32 = 10;
pub const DEFAULT_WINDOW: Duration = Duration::from_secs(10);

struct Entry {
    since: Instant,
    failures: u32,
    logged: bool,
}

pub struct Limiter {
    max: u32,
    window: Duration,
    map: HashMap<IpAddr, Entry>,
}

/// What to do with a new connection from an address.
#[derive(Debug, PartialEq, Eq)]
pub enum Admit {
    Yes,
    /// Refuse it; `true` the first time in this window (log it).
    No(bool),
}

impl Limiter {
    pub fn new(max: u32, window: Duration) -> Limiter {
        Limiter {
            max: max.max(1),
            window,
            map: HashMap::new(),
        }
    }

    pub fn admit(&mut self, ip: IpAddr, now: Instant) -> Admit {
        let Some(e) = self.map.get_mut(&ip) else {
            return Admit::Yes;
        };
        if now.saturating_duration_since(e.since) >= self.window {
            self.map.remove(&ip);
            return Admit::Yes;
        }
        if e.failures < self.max {
            return Admit::Yes;
        }
        let first = !e.logged;
        e.logged = true;
        Admit::No(first)
    }

    pub fn failed(&mut self, ip: IpAddr, now: Instant) {
        if self.map.len() >= 4096 {
            let w = self.window;
            self.map
                .retain(|_, e| now.saturating_duration_since(e.since) < w);
        }
        let e = self.map.entry(ip).or_insert(Entry {
            since: now,
            failures: 0,
            logged: false,
        });
        if now.saturating_duration_since(e.since) >= self.window {
            *e = Entry {
                since: now,
                failures: 0,
                logged: false,
            };
        }
        e.failures += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_one_address_for_one_window() {
        let t0 = Instant::now();
        let ms = |n| t0 + Duration::from_millis(n);
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        let mut l = Limiter::new(3, Duration::from_millis(1000));
        for i in 0..3 {
            assert_eq!(l.admit(a, ms(i)), Admit::Yes);
            l.failed(a, ms(i));
        }
        assert_eq!(l.admit(a, ms(10)), Admit::No(true));
        assert_eq!(l.admit(a, ms(20)), Admit::No(false));
        assert_eq!(l.admit(b, ms(20)), Admit::Yes);
        assert_eq!(l.admit(a, ms(1000)), Admit::Yes);
        l.failed(a, ms(1001));
        assert_eq!(l.admit(a, ms(1002)), Admit::Yes);
    }

    #[test]
    fn table_stays_bounded() {
        let t0 = Instant::now();
        let mut l = Limiter::new(3, Duration::from_millis(10));
        for i in 0..20_000u32 {
            let ip = IpAddr::from(i.to_be_bytes());
            // Each batch of 4096 lands in a later window than the last.
            l.failed(ip, t0 + Duration::from_millis((i / 4000) as u64 * 20));
        }
        assert!(l.map.len() <= 4096 + 1, "{}", l.map.len());
    }
}
