//! Failure detection on one connection, as pure arithmetic on instants: a
//! connection that has sent nothing for `timeout / 3` sends a HEARTBEAT
//! frame; one that has received nothing (no frame, no byte) for `timeout`
//! is declared down, exactly like a closed socket. So a live but idle
//! peer is heard from about three times per timeout, and a stopped one
//! (SIGSTOP, a dead machine, a cut cable) is noticed within `timeout` plus
//! one check interval.

use std::time::{Duration, Instant};

/// The default heartbeat timeout (`--heartbeat-timeout`).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    Fine,
    SendHeartbeat,
    Dead,
}

#[derive(Debug, Clone, Copy)]
pub struct Liveness {
    pub last_sent: Instant,
    pub last_received: Instant,
}

impl Liveness {
    pub fn new(now: Instant) -> Liveness {
        Liveness {
            last_sent: now,
            last_received: now,
        }
    }

    pub fn check(&self, now: Instant, timeout: Duration) -> Check {
        if now.saturating_duration_since(self.last_received) >= timeout {
            Check::Dead
        } else if now.saturating_duration_since(self.last_sent) >= timeout / 3 {
            Check::SendHeartbeat
        } else {
            Check::Fine
        }
    }

    /// When `check` may next answer something other than `Fine`.
    pub fn next_deadline(&self, timeout: Duration) -> Instant {
        (self.last_sent + timeout / 3).min(self.last_received + timeout)
    }
}

/// How often the I/O thread checks its connections' liveness.
pub fn check_interval(timeout: Duration) -> Duration {
    (timeout / 10).clamp(Duration::from_millis(5), Duration::from_millis(500))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heartbeat_then_death() {
        let t0 = Instant::now();
        let timeout = Duration::from_millis(300);
        let mut l = Liveness::new(t0);
        let at = |ms| t0 + Duration::from_millis(ms);
        assert_eq!(l.check(at(0), timeout), Check::Fine);
        assert_eq!(l.check(at(99), timeout), Check::Fine);
        assert_eq!(l.check(at(100), timeout), Check::SendHeartbeat);
        assert_eq!(l.next_deadline(timeout), at(100));
        l.last_sent = at(100);
        assert_eq!(l.check(at(150), timeout), Check::Fine);
        // Receiving keeps it alive; silence kills it even while we send.
        l.last_received = at(150);
        l.last_sent = at(400);
        assert_eq!(l.check(at(449), timeout), Check::Fine);
        assert_eq!(l.check(at(450), timeout), Check::Dead);
        // A clock that reads earlier than the last event is not a death.
        assert_eq!(l.check(t0, timeout), Check::Fine);
    }

    #[test]
    fn interval_is_bounded() {
        assert_eq!(
            check_interval(Duration::from_millis(1)),
            Duration::from_millis(5)
        );
        assert_eq!(check_interval(DEFAULT_TIMEOUT), Duration::from_millis(500));
        assert_eq!(
            check_interval(Duration::from_secs(1)),
            Duration::from_millis(100)
        );
    }
}
